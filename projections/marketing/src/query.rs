//! Reading the marketing projection: campaigns by id and in id order, enquiries by id and the
//! customers whose personal data each holds, the campaign a policy's latest sale is credited
//! to, and the call-back queue oldest first with each enquiry's age at the reader's `now`.

use jiff::Timestamp;
use ledger_domain::ids::{CampaignId, CustomerId, EnquiryId};
use ledger_domain::projection::paging::{self, Listing};
use ledger_domain::projection::{StateError, StateRead};
use ledger_domain::values::PolicyNumber;

use crate::fold::{Sale, goes_with};
use crate::keys;
use crate::page::{PAGE_SIZE_MAX, Page, QueryError};
use crate::records::{CampaignRecord, EnquiryRecord, QueuedEnquiry};
use crate::storage::{STATE, describe};

/// The campaign `id`, if the log has launched it or attributed anything to it.
pub fn campaign(
    state: &dyn StateRead,
    id: CampaignId,
) -> Result<Option<CampaignRecord>, StateError> {
    STATE.read(state, &keys::campaign(id))
}

/// Every campaign, in campaign-id order (ids are UUID v7, so roughly in launch order).
pub fn campaigns(
    state: &dyn StateRead,
    after: Option<&str>,
    first: usize,
) -> Result<Page<CampaignRecord>, QueryError> {
    let listing = Listing {
        tag: "campaign",
        prefix: keys::CAMPAIGN.to_vec(),
        end: None,
        is_suffix: &keys::is_campaign_suffix,
    };
    let page = paging::page(state, &listing, after, first, PAGE_SIZE_MAX)?;
    decode_page(page, |key, value| decode(&key, &value))
}

/// The campaign credited with the latest sale of the policy `number` (its issue, or its latest
/// renewal): the one that sale's issue or renewal named, else the one whose purchase response
/// first named the policy since; `None` when no campaign won it. A purchase response of another
/// campaign cannot win that sale (`DecisionContext::sale_credited_to`).
pub fn sale_credited_to(
    state: &dyn StateRead,
    number: &PolicyNumber,
) -> Result<Option<CampaignId>, StateError> {
    let sale: Option<Sale> = STATE.read(state, &keys::sale(number))?;
    Ok(sale
        .and_then(|sale| sale.credit())
        .map(|(campaign, _)| campaign))
}

/// The online enquiry `id`, if the projection has seen it received.
pub fn enquiry(state: &dyn StateRead, id: EnquiryId) -> Result<Option<EnquiryRecord>, StateError> {
    STATE.read(state, &keys::enquiry(id))
}

/// The customers whose personal data the online enquiry `id` holds, in id order: the
/// customer who sent it, when the web shop knew who asked; else every customer with a contact
/// that names it (inbound or outbound) as last recorded or corrected, a lead the README treats
/// as that customer's and erases with them (`ledger_app::erasure::answered_enquiries`). A
/// reader of the enquiry's details reads theirs. Empty for an enquiry nobody's contact names
/// and for one the projection has not seen received. An erasure changes nothing here: the
/// enquiry was still theirs.
pub fn customers_of_enquiry(
    state: &dyn StateRead,
    id: EnquiryId,
) -> Result<Vec<CustomerId>, StateError> {
    let Some(record) = enquiry(state, id)? else {
        return Ok(Vec::new());
    };
    let prefix = keys::askers_of(id);
    let mut customers = Vec::new();
    for (key, _) in STATE.walk_prefix(state, &prefix)? {
        let customer = key
            .get(prefix.len()..)
            .and_then(|suffix| std::str::from_utf8(suffix).ok())
            .and_then(|text| CustomerId::parse("", text).ok())
            .ok_or_else(|| {
                StateError(format!(
                    "marketing: {} names no customer of {id}",
                    describe(&key)
                ))
            })?;
        if goes_with(record.customer, customer) {
            customers.push(customer);
        }
    }
    customers.sort();
    Ok(customers)
}

/// Online enquiries that nobody has called back yet, received at or before `now`, oldest
/// first, each with its age at `now`.
pub fn callback_queue(
    state: &dyn StateRead,
    now: Timestamp,
    after: Option<&str>,
    first: usize,
) -> Result<Page<QueuedEnquiry>, QueryError> {
    let listing = Listing {
        tag: "callback",
        prefix: keys::QUEUE.to_vec(),
        end: Some(keys::queue_after(now)),
        is_suffix: &keys::is_queue_suffix,
    };
    let page = paging::page(state, &listing, after, first, PAGE_SIZE_MAX)?;
    decode_page(page, |key, _| {
        let enquiry_id = &key[keys::QUEUE.len() + keys::INSTANT_BYTES + 1..];
        let mut record_key = keys::ENQUIRY.to_vec();
        record_key.extend_from_slice(enquiry_id);
        let enquiry: EnquiryRecord = STATE.read(state, &record_key)?.ok_or_else(|| {
            StateError(format!(
                "marketing: the queue entry {} points at no enquiry",
                describe(&key)
            ))
        })?;
        let age = now.duration_since(enquiry.received_at);
        Ok(QueuedEnquiry { enquiry, age })
    })
}

fn decode<T: serde::de::DeserializeOwned>(key: &[u8], value: &[u8]) -> Result<T, StateError> {
    ledger_domain::codec::decode(value)
        .map_err(|error| StateError(format!("marketing: {}: {error}", describe(key))))
}

fn decode_page<T>(
    page: Page<(Vec<u8>, Vec<u8>)>,
    mut load: impl FnMut(Vec<u8>, Vec<u8>) -> Result<T, StateError>,
) -> Result<Page<T>, QueryError> {
    let items = page
        .items
        .into_iter()
        .map(|(cursor, (key, value))| Ok((cursor, load(key, value)?)))
        .collect::<Result<_, StateError>>()?;
    Ok(Page {
        items,
        has_next_page: page.has_next_page,
    })
}
