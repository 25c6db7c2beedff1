//! The events every figure works on: a prefix of `ledger-synth`'s history (in `occurred_at`
//! order, so any prefix is a consistent history) and then `HOT_ENTRIES` contacts for one busy
//! customer, whose timeline figures 5 to 7 read. The same events go to both sides: append
//! requests for the ledger, rows for PostgreSQL.

use std::borrow::Borrow;
use std::collections::{HashMap, HashSet};

use jiff::{SignedDuration, Timestamp};
use ledger_domain::events::{ContactRecorded, Event};
use ledger_domain::ids::{ContactId, CustomerId, EventId, StaffId, StreamId};
use ledger_domain::values::IdentifierKind;
use ledger_store::{AppendRequest, ExpectedVersion, NewEvent};
use ledger_synth::{SynthConfig, SyntheticEvent};

/// Years of synthetic history.
pub const YEARS: u32 = 3;

/// The generator's seed: the same seed gives the same history (and the same busy customer).
pub const SEED: u64 = 8;

/// The busy customer: who figures 5 to 7 look up and record contacts for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HotCustomer {
    pub id: CustomerId,
    /// A mobile number the customer registered with (normalised).
    pub mobile: String,
}

/// One event as PostgreSQL stores it: a row of the `events` table.
#[derive(Debug, Clone)]
pub struct Row {
    pub stream: String,
    pub version: i64,
    pub event_id: Vec<u8>,
    pub event_type: String,
    pub occurred_at_us: i64,
    pub actor: String,
    pub payload: Vec<u8>,
}

/// The events of a run, in append order.
#[derive(Debug)]
pub struct Dataset {
    pub requests: Vec<AppendRequest>,
    pub hot: HotCustomer,
    /// A `ContactRecorded` payload, the single event of figure 3's appends on both sides.
    pub sample_payload: Vec<u8>,
}

/// The append request of one synthetic event, beside the event (sealing reads it).
pub fn planned(synthetic: SyntheticEvent) -> (AppendRequest, Event) {
    let request = AppendRequest {
        stream: synthetic.stream,
        expected: ExpectedVersion::Any,
        events: vec![NewEvent {
            event_id: synthetic.event_id,
            event_type: synthetic.event.event_type().to_owned(),
            schema_version: synthetic.event.schema_version(),
            occurred_at: synthetic.occurred_at,
            actor: synthetic.actor,
            correlation_id: None,
            causation_id: None,
            origin: Some("synthetic".to_owned()),
            payload: synthetic.event.encode_payload(),
        }],
    };
    (request, synthetic.event)
}

/// What a pass over the history learns: the busy customer, and the first contact (with who
/// recorded it) that the busy customer's contacts are shaped like.
#[derive(Debug, Clone)]
pub struct HistoryFacts {
    pub hot: HotCustomer,
    pub template: ContactRecorded,
    pub actor: StaffId,
}

/// Picks the busy customer and the contact template from one pass over `events` (streamed:
/// only the customers registered with a mobile and those that lose their identity are kept).
///
/// The busy customer keeps their identity through the history: never merged away, erased or
/// stripped of an identifier, so their mobile number finds them at the end.
pub fn scan<E: Borrow<SyntheticEvent>>(
    events: impl IntoIterator<Item = E>,
) -> Result<HistoryFacts, String> {
    let mut unstable = HashSet::new();
    let mut candidates = Vec::new();
    let mut template = None;
    for synthetic in events {
        let synthetic = synthetic.borrow();
        match &synthetic.event {
            Event::CustomersMerged(merge) => {
                unstable.insert(merge.customer_id);
            }
            Event::CustomerErased(erased) => {
                unstable.insert(erased.customer_id);
            }
            Event::IdentifierRemoved(removed) => {
                unstable.insert(removed.customer_id);
            }
            Event::CustomerRegistered(registered) => {
                if let Some(mobile) = registered
                    .identifiers
                    .iter()
                    .find(|identifier| identifier.kind() == IdentifierKind::Mobile)
                {
                    candidates.push(HotCustomer {
                        id: registered.customer_id,
                        mobile: mobile.value().to_owned(),
                    });
                }
            }
            Event::ContactRecorded(contact) if template.is_none() => {
                template = Some((contact.clone(), synthetic.actor.clone()));
            }
            _ => {}
        }
    }
    let hot = candidates
        .into_iter()
        .find(|candidate| !unstable.contains(&candidate.id))
        .ok_or_else(|| "the synthetic history has no customer with a stable mobile".to_owned())?;
    let (template, actor) =
        template.ok_or_else(|| "the synthetic history has no contact".to_owned())?;
    Ok(HistoryFacts {
        hot,
        template,
        actor,
    })
}

/// `count` contacts for the busy customer, one a minute after `after`, shaped like the
/// history's first contact but tied to no policy, claim, case or campaign.
pub fn hot_contacts(
    facts: &HistoryFacts,
    after: Timestamp,
    count: usize,
) -> impl Iterator<Item = (AppendRequest, Event)> + use<'_> {
    (0..count).map(move |index| {
        let minutes = i64::try_from(index).unwrap_or(i64::MAX).saturating_add(1);
        let started_at = after + SignedDuration::from_mins(minutes);
        let contact = Event::ContactRecorded(ContactRecorded {
            contact_id: ContactId::new_v7(),
            customer_id: facts.hot.id,
            started_at,
            policy_number: None,
            claim_number: None,
            case_id: None,
            campaign_id: None,
            enquiry_id: None,
            ..facts.template.clone()
        });
        let request = AppendRequest {
            stream: StreamId::customer(facts.hot.id),
            expected: ExpectedVersion::Any,
            events: vec![NewEvent {
                event_id: EventId::new_v7(),
                event_type: contact.event_type().to_owned(),
                schema_version: contact.schema_version(),
                occurred_at: started_at,
                actor: facts.actor.clone(),
                correlation_id: None,
                causation_id: None,
                origin: Some("bench".to_owned()),
                payload: contact.encode_payload(),
            }],
        };
        (request, contact)
    })
}

/// The generator's settings for a history of at least `synthetic_count` events.
pub fn history_config(synthetic_count: u64) -> Result<SynthConfig, String> {
    // The generator writes ~12 events per customer a year; a quarter more customers than that
    // estimate makes sure the history is long enough to cut at `synthetic_count`.
    let per_customer = u64::from(YEARS * ledger_synth::EVENTS_PER_CUSTOMER_PER_YEAR);
    let customers = u32::try_from((synthetic_count / per_customer) * 5 / 4 + 100)
        .unwrap_or(u32::MAX)
        .min(ledger_synth::CUSTOMERS_MAX);
    let config = SynthConfig {
        customers,
        years: YEARS,
        seed: SEED,
        ..SynthConfig::default()
    };
    config.check().map_err(|error| error.to_string())?;
    Ok(config)
}

/// Events of the history in a ledger of `total` with `hot_entries` busy-customer contacts.
pub fn synthetic_count(total: u64, hot_entries: usize) -> Result<u64, String> {
    let hot_count = u64::try_from(hot_entries).map_err(|_| "hot entries overflow".to_owned())?;
    total
        .checked_sub(hot_count)
        .filter(|count| *count > 0)
        .ok_or_else(|| {
            format!("ledger-events: {total} leaves no room for {hot_entries} hot entries")
        })
}

/// `total` events: the history's first `total − hot_entries`, then the busy customer's.
pub fn build(total: u64, hot_entries: usize) -> Result<Dataset, String> {
    let synthetic_count = synthetic_count(total, hot_entries)?;
    let config = history_config(synthetic_count)?;
    let take = usize::try_from(synthetic_count).map_err(|_| "too many events".to_owned())?;
    let events: Vec<SyntheticEvent> = ledger_synth::generate(&config).take(take).collect();
    if events.len() != take {
        return Err(format!(
            "the synthetic history of {} customers has {} events, not {take}",
            config.customers,
            events.len()
        ));
    }
    let facts = scan(&events)?;
    let sample_payload = Event::ContactRecorded(facts.template.clone()).encode_payload();
    let mut requests: Vec<AppendRequest> = events
        .into_iter()
        .map(|synthetic| planned(synthetic).0)
        .collect();
    requests.extend(hot_contacts(&facts, config.end, hot_entries).map(|(request, _)| request));
    Ok(Dataset {
        requests,
        hot: facts.hot,
        sample_payload,
    })
}

/// The same events as PostgreSQL rows, stream versions counted as the ledger counts them.
pub fn rows(requests: &[AppendRequest]) -> Vec<Row> {
    let mut versions: HashMap<&str, i64> = HashMap::new();
    let mut rows = Vec::with_capacity(requests.len());
    for request in requests {
        for event in &request.events {
            let version = versions.entry(request.stream.as_str()).or_insert(0);
            *version += 1;
            rows.push(Row {
                stream: request.stream.as_str().to_owned(),
                version: *version,
                event_id: event.event_id.as_uuid().as_bytes().to_vec(),
                event_type: event.event_type.clone(),
                occurred_at_us: event.occurred_at.as_microsecond(),
                actor: event.actor.as_str().to_owned(),
                payload: event.payload.clone(),
            });
        }
    }
    rows
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_small_dataset_ends_with_the_busy_customers_contacts() {
        let dataset = build(3_000, 500).unwrap();
        assert_eq!(dataset.requests.len(), 3_000);
        let hot_stream = StreamId::customer(dataset.hot.id);
        assert!(
            dataset.requests[2_500..]
                .iter()
                .all(|request| request.stream == hot_stream)
        );
        let rows = rows(&dataset.requests);
        let last = rows.last().unwrap();
        assert_eq!(last.stream, hot_stream.as_str());
        let hot_rows = rows.iter().filter(|row| row.stream == last.stream).count();
        assert_eq!(last.version, i64::try_from(hot_rows).unwrap());
        assert!(build(100, 500).unwrap_err().contains("no room"));
    }
}
