//! Bulk appends of new events (`import`, `seed`, the bench's import figure): each chunk's
//! personal fields are sealed on every core while the store writes the chunk before it.
//!
//! Sealing is CPU work (ChaCha20-Poly1305 and the codec) and writing is mostly waiting for the
//! disk, so the two overlap: chunk N+1 is sealed while the store's writer thread makes chunk N
//! durable. Order is kept: a chunk is handed to the store only after the one before it was
//! answered, and a failure stops the run before the next chunk is written. A chunk's new data
//! keys are written durably (one sync for all of them) before any of its events is appended.
//! Erasure events (`CustomerErased`, `EnquiryErased`) mark their subjects before their chunk
//! is appended and destroy the keys once the whole run is durable, as the `erase` command does
//! for one (see [`crate::erasure`]).

use ledger_domain::events::Event;
use ledger_domain::ids::StreamId;
use ledger_store::{AppendError, AppendRequest, Appended, EventLog, StoreFailure};

use crate::erasure::{self, ErasureError};
use crate::personal::{KeyError, KeyRing};

/// The most threads a bulk step (sealing a chunk, decoding an import's lines) runs on; the
/// machine's parallelism when lower.
pub const BULK_THREADS_MAX: usize = 8;

/// Below this many events a chunk is sealed on the calling thread alone.
const SEAL_PARALLEL_EVENTS_MIN: usize = 256;

/// Splits `items` into one run of neighbours per core (at most [`BULK_THREADS_MAX`]), runs
/// `work` on each run on its own thread, and returns the runs' results in the items' order.
/// Below `parallel_min` items, or on one core, `work` runs once, on the calling thread. A panic
/// in `work` is resumed on the caller.
pub fn split_over_cores<T, R>(
    items: Vec<T>,
    parallel_min: usize,
    work: impl Fn(Vec<T>) -> R + Sync,
) -> Vec<R>
where
    T: Send,
    R: Send,
{
    let threads = std::thread::available_parallelism()
        .map_or(1, std::num::NonZeroUsize::get)
        .clamp(1, BULK_THREADS_MAX);
    if threads == 1 || items.len() < parallel_min.max(2) {
        return vec![work(items)];
    }
    let part_len = items.len().div_ceil(threads);
    let mut parts: Vec<Vec<T>> = Vec::with_capacity(threads);
    let mut rest = items.into_iter().peekable();
    while rest.peek().is_some() {
        parts.push(rest.by_ref().take(part_len).collect());
    }
    let work = &work;
    std::thread::scope(|scope| {
        let workers: Vec<_> = parts
            .into_iter()
            .map(|part| scope.spawn(move || work(part)))
            .collect();
        workers
            .into_iter()
            .map(|worker| {
                worker
                    .join()
                    .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
            })
            .collect()
    })
}

/// Requests to append, each with the decoded event its payload carries.
pub type Planned = Vec<(AppendRequest, Event)>;

/// Why a bulk append stopped.
#[derive(Debug, thiserror::Error)]
pub enum BulkError<E> {
    #[error("sealing: {0}")]
    Keys(#[from] KeyError),
    #[error("the store failed: {0}")]
    Store(StoreFailure),
    /// Destroying the keys of the subjects the run erased, once it was durable.
    #[error("finishing the erasures the events record: {0}")]
    Erasure(#[from] ErasureError),
    /// What the caller's handler of a chunk's outcomes returned.
    #[error("{0}")]
    Caller(E),
}

/// Seals the personal fields of each request's events under their subjects' keys, creating the
/// chunk's new keys first in one durable write. Requests keep their order.
pub fn seal_chunk(ring: &KeyRing, planned: Planned) -> Result<Vec<AppendRequest>, KeyError> {
    let subjects: Vec<_> = planned
        .iter()
        .filter_map(|(_, event)| event.data_subject())
        .collect();
    ring.ensure_keys(&subjects)?;
    let mut sealed = Vec::with_capacity(planned.len());
    for part in split_over_cores(planned, SEAL_PARALLEL_EVENTS_MIN, |part| {
        seal_part(ring, part)
    }) {
        sealed.extend(part?);
    }
    Ok(sealed)
}

fn seal_part(ring: &KeyRing, planned: Planned) -> Result<Vec<AppendRequest>, KeyError> {
    planned
        .into_iter()
        .map(|(mut request, event)| {
            for new_event in &mut request.events {
                new_event.payload = ring.seal(new_event.event_id, &event)?;
            }
            Ok(request)
        })
        .collect()
}

/// Requests the `import` command (and figure 2 of `make bench`) hands the store per bulk
/// append: four of the store's default groups of 2,048 events, so its writer decides and
/// compresses each next group while the one before is written for three groups in four (the
/// pipeline drains at the end of each chunk, when the caller hears the chunk's outcomes), and
/// small enough that the progress bar moves.
pub const IMPORT_CHUNK_REQUESTS: usize = 8192;

/// Seals and appends `planned` in order, in chunks of `chunk_requests` requests (at least one),
/// sealing each next chunk while the store writes the one before; `written` hears each chunk's
/// outcomes (one per request, in order) and may stop the run with an error of its own.
pub async fn append_sealed<L, E>(
    log: &L,
    ring: &KeyRing,
    planned: impl IntoIterator<Item = (AppendRequest, Event)>,
    chunk_requests: usize,
    mut written: impl FnMut(Vec<Result<Appended, AppendError>>) -> Result<(), E>,
) -> Result<(), BulkError<E>>
where
    L: EventLog,
{
    let mut planned = planned.into_iter();
    let mut chunks = std::iter::from_fn(move || {
        let chunk: Planned = planned.by_ref().take(chunk_requests.max(1)).collect();
        (!chunk.is_empty()).then_some(chunk)
    });
    let Some(first) = chunks.next() else {
        return Ok(());
    };
    let mut sealed = seal_erasing(ring, first)?;
    let mut erased = Vec::new();
    loop {
        let (requests, erasing) = sealed;
        ring.begin_erasures(&erasing)?;
        erased.extend(erasing);
        // `biased`: the append is polled first, so the chunk is handed to the store's writer
        // thread before this thread takes the next one from `planned` (which may parse or
        // generate it) and seals it.
        let (outcomes, next_sealed) = tokio::join!(biased; log.append_many(requests), async {
            chunks.next().map(|chunk| seal_erasing(ring, chunk)).transpose()
        });
        written(outcomes.map_err(BulkError::Store)?).map_err(BulkError::Caller)?;
        match next_sealed? {
            Some(next) => sealed = next,
            None => break,
        }
    }
    erased.sort();
    erased.dedup();
    erasure::finish_recorded(log, ring, &erased)?;
    Ok(())
}

/// Seals a chunk, with the subjects its erasure events erase (to be marked before it is
/// appended: see [`crate::erasure`]).
fn seal_erasing(
    ring: &KeyRing,
    chunk: Planned,
) -> Result<(Vec<AppendRequest>, Vec<StreamId>), KeyError> {
    let erasing = chunk
        .iter()
        .filter_map(|(_, event)| erasure::erased_subject(event))
        .collect();
    Ok((seal_chunk(ring, chunk)?, erasing))
}

/// The customer directory as its last build left it, for an import's checks of identifier
/// ownership while no server runs. It may lag the log (an import into a ledger that already
/// held events leaves its events to the server's catch-up): the caller folds the events after
/// [`StoredDirectory::checkpoint`] itself.
#[derive(Debug)]
pub struct StoredDirectory {
    space: ledger_store::ProjectionSpace,
    checkpoint: ledger_domain::ids::Position,
}

impl StoredDirectory {
    /// The directory's active generation, or `None` when it was never built or was built with
    /// another layout (the server rebuilds it then; the caller folds the whole log).
    pub fn open(store: &ledger_store::SledEventLog) -> Result<Option<Self>, StoreFailure> {
        use ledger_domain::projection::Projection as _;
        let layout = customer_directory::CustomerDirectory.version();
        let Some(space) = store
            .projections()
            .active(crate::names::CUSTOMER_DIRECTORY)?
        else {
            return Ok(None);
        };
        Ok(space.current(layout)?.map(|meta| Self {
            checkpoint: meta.checkpoint,
            space,
        }))
    }

    /// The last position the directory applied.
    pub fn checkpoint(&self) -> ledger_domain::ids::Position {
        self.checkpoint
    }

    /// The customer holding `identifier` as of [`StoredDirectory::checkpoint`] (the rule "one
    /// owner per identifier" asks this, as the API's commands do).
    pub fn identifier_owner(
        &self,
        identifier: &ledger_domain::values::Identifier,
    ) -> Result<Option<ledger_domain::ids::CustomerId>, ledger_domain::projection::StateError> {
        customer_directory::identifier_owner(&self.space, identifier)
    }
}

#[cfg(test)]
mod tests {
    use ledger_domain::samples;
    use ledger_store::{ExpectedVersion, NewEvent, SledEventLog, StoreOptions};

    use super::*;
    use crate::personal::{KeySource, MasterKey};

    /// `copies` requests for each sample event but the erasures, in a fixed order, on their
    /// own streams.
    fn planned(copies: usize) -> Planned {
        let events: Vec<Event> = samples::sample_events()
            .into_iter()
            .filter(|event| erasure::erased_subject(event).is_none())
            .collect();
        planned_of(&events, copies)
    }

    fn planned_of(events: &[Event], copies: usize) -> Planned {
        let mut planned = Vec::new();
        for copy in 0..copies {
            for event in events.iter().cloned() {
                let event_id = ledger_domain::ids::EventId::new_v7();
                let request = AppendRequest {
                    stream: event.stream(),
                    expected: ExpectedVersion::Any,
                    events: vec![NewEvent {
                        event_id,
                        event_type: event.event_type().to_owned(),
                        schema_version: event.schema_version(),
                        occurred_at: jiff::Timestamp::from_second(1_700_000_000).unwrap(),
                        actor: ledger_domain::ids::StaffId::parse("actor", "agent-7").unwrap(),
                        correlation_id: None,
                        causation_id: None,
                        origin: Some(format!("copy {copy}")),
                        payload: Vec::new(),
                    }],
                };
                planned.push((request, event));
            }
        }
        planned
    }

    fn ring(log: &SledEventLog) -> KeyRing {
        KeyRing::open(
            log.data_keys().unwrap(),
            MasterKey::insecure_for_tests(),
            KeySource::Random,
        )
        .unwrap()
    }

    #[test]
    fn split_over_cores_keeps_the_order_and_uses_one_thread_below_the_minimum() {
        let items: Vec<u32> = (0..1_000).collect();
        let cores = std::thread::available_parallelism()
            .map_or(1, std::num::NonZeroUsize::get)
            .clamp(1, BULK_THREADS_MAX);
        let caller = std::thread::current().id();
        let parts = split_over_cores(items.clone(), 10, |part| {
            (part, std::thread::current().id() != caller)
        });
        assert_eq!(parts.len(), cores, "one run of neighbours per core");
        assert!(
            parts.iter().all(|(_, elsewhere)| *elsewhere == (cores > 1)),
            "each run on a thread of its own when there are several cores"
        );
        let joined: Vec<u32> = parts.into_iter().flat_map(|(part, _)| part).collect();
        assert_eq!(joined, items, "every item once, in order");

        let parts = split_over_cores(items.clone(), 1_001, |part| {
            (part, std::thread::current().id() == caller)
        });
        assert_eq!(
            parts,
            vec![(items, true)],
            "below the minimum: once, on the caller"
        );
    }

    #[test]
    fn a_chunk_sealed_on_several_threads_equals_one_sealed_in_order() {
        let dir = tempfile::tempdir().unwrap();
        let log = SledEventLog::open(dir.path(), StoreOptions::default()).unwrap();
        let ring = ring(&log);
        let chunk = planned(40);
        assert!(
            chunk.len() >= SEAL_PARALLEL_EVENTS_MIN,
            "large enough to split"
        );
        let by_one = seal_part(&ring, chunk.clone()).unwrap();
        let sealed = seal_chunk(&ring, chunk.clone()).unwrap();
        assert_eq!(sealed, by_one, "same requests, same order, same bytes");
        for ((request, event), sealed) in chunk.iter().zip(&sealed) {
            let stored = &sealed.events[0];
            assert_eq!(stored.event_id, request.events[0].event_id);
            let opened = ring
                .open_payload(
                    stored.event_id,
                    &stored.event_type,
                    stored.schema_version,
                    &stored.payload,
                )
                .unwrap();
            assert_eq!(&opened.event, event);
        }
    }

    #[tokio::test(flavor = "multi_thread")]
    async fn chunks_are_appended_in_order_and_a_refusal_stops_before_the_next_chunk() {
        let dir = tempfile::tempdir().unwrap();
        let log = SledEventLog::open(dir.path(), StoreOptions::default()).unwrap();
        let ring = ring(&log);
        let chunks: Vec<Planned> = (0..4).map(|_| planned(3)).collect();
        let chunk_len = chunks[0].len();
        let ids: Vec<_> = chunks
            .iter()
            .flatten()
            .map(|(request, _)| request.events[0].event_id)
            .collect();
        let mut heard = 0;
        append_sealed(&log, &ring, chunks.concat(), chunk_len, |outcomes| {
            heard += 1;
            outcomes
                .into_iter()
                .try_for_each(|outcome| outcome.map(drop))
        })
        .await
        .unwrap();
        assert_eq!(heard, 4);
        let stored: Vec<_> = log
            .read_all(ledger_domain::ids::Position(1), 1_000)
            .unwrap()
            .into_iter()
            .map(|record| record.event.event_id)
            .collect();
        assert_eq!(stored, ids, "every event once, in the order given");

        // The caller refuses the first chunk's outcomes: the second is sealed beside it but
        // never written.
        let head = log.head().position;
        let chunks: Vec<Planned> = (0..2).map(|_| planned(1)).collect();
        let first_len = chunks[0].len();
        let stopped = append_sealed(&log, &ring, chunks.concat(), first_len, |_| {
            Err("refused by the caller")
        })
        .await
        .unwrap_err();
        assert!(matches!(
            stopped,
            BulkError::Caller("refused by the caller")
        ));
        assert_eq!(
            log.head().position.get(),
            head.get() + u64::try_from(first_len).unwrap()
        );
        log.close().await.unwrap();
    }

    /// Erasure events in a bulk run destroy their subjects' keys once the run is durable (a
    /// customer's with the anonymous enquiry their contact answered), not before: events of the
    /// erased subjects later in the run are still sealed, and open as redacted afterwards.
    #[tokio::test(flavor = "multi_thread")]
    async fn erasures_in_a_bulk_run_destroy_their_keys_once_it_is_durable() {
        use ledger_domain::events::{CustomerErased, EnquiryErased};
        use ledger_domain::kinds::ErasureReason;

        let dir = tempfile::tempdir().unwrap();
        let log = SledEventLog::open(dir.path(), StoreOptions::default()).unwrap();
        let ring = ring(&log);
        let customer = samples::individual_customer_id();
        let enquiry = samples::enquiry_id();
        let mut contact = samples::sample_contact();
        contact.enquiry_id = Some(enquiry);
        let received = samples::sample_events()
            .into_iter()
            .find(|event| event.event_type() == "OnlineEnquiryReceived")
            .unwrap();
        let kept = samples::sample_events()
            .into_iter()
            .find(|event| event.event_type() == "CampaignLaunched")
            .unwrap();
        let events: Vec<Event> = vec![
            received,
            contact.into(),
            CustomerErased {
                customer_id: customer,
                reason: ErasureReason::CustomerRequest,
            }
            .into(),
            // After the erasure, in a later chunk: still sealed, under the key about to go.
            ledger_domain::events::ContactRecorded {
                contact_id: ledger_domain::ids::ContactId::new_v7(),
                ..samples::sample_contact()
            }
            .into(),
            kept,
        ];
        let planned = planned_of(&events, 1);
        append_sealed(&log, &ring, planned.clone(), 2, |outcomes| {
            outcomes
                .into_iter()
                .try_for_each(|outcome| outcome.map(drop))
        })
        .await
        .unwrap();
        let customer_stream = ledger_domain::ids::StreamId::customer(customer);
        let enquiry_stream = ledger_domain::events::enquiry_stream(enquiry, None);
        assert!(ring.is_erased(&customer_stream).unwrap());
        assert!(ring.is_erased(&enquiry_stream).unwrap());
        assert!(ring.pending_erasures().unwrap().is_empty());
        for record in log.read_all(ledger_domain::ids::Position(1), 100).unwrap() {
            let opened = crate::runner::decode(&ring, &record).unwrap();
            let text = format!("{opened:?}");
            assert!(!text.contains("张三") && !text.contains("李四"), "{text}");
        }

        // An anonymous enquiry's own erasure, in another run.
        let other = ledger_domain::ids::EnquiryId::new_v7();
        let mut received = match &events[0] {
            Event::OnlineEnquiryReceived(received) => received.clone(),
            _ => unreachable!(),
        };
        received.enquiry_id = other;
        let erased: Event = EnquiryErased {
            enquiry_id: other,
            reason: ErasureReason::LegalOrder,
        }
        .into();
        append_sealed(
            &log,
            &ring,
            planned_of(&[received.into(), erased], 1),
            8,
            |_| Ok::<_, AppendError>(()),
        )
        .await
        .unwrap();
        let other_stream = ledger_domain::events::enquiry_stream(other, None);
        assert!(ring.is_erased(&other_stream).unwrap());
        // Nothing new is sealed for an erased subject.
        let refused = append_sealed(&log, &ring, planned_of(&events[3..4], 1), 8, |_| {
            Ok::<_, AppendError>(())
        })
        .await
        .unwrap_err();
        assert!(matches!(refused, BulkError::Keys(KeyError::Erased { .. })));
        log.close().await.unwrap();
    }
}
