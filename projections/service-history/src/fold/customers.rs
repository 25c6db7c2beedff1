//! Customer and policy events as far as service history needs them: merges move a customer's
//! history to the survivor, erasure drops the free text kept on records, and policies' product
//! lines are remembered for claim guarantees.

use ledger_domain::events::{CustomerErased, CustomersMerged};
use ledger_domain::kinds::ProductLine;
use ledger_domain::projection::{StateError, StateWrite};
use ledger_domain::values::PolicyNumber;

use crate::keys;
use crate::records::CaseRecord;
use crate::storage::{STATE, history_owner};

/// Remembers the policy's product lines (as issued, renewed or endorsed), which a claim's
/// guarantee is looked up by when its documents are complete.
pub(super) fn policy_lines(
    state: &mut dyn StateWrite,
    policy: &PolicyNumber,
    lines: &[ProductLine],
) -> Result<(), StateError> {
    STATE.write(state, keys::policy(policy), &lines.to_vec())
}

/// Moves the merged customer's history entries to the survivor's (the survivor's own
/// survivor, if it was merged meanwhile) and remembers where the merged customer went, so
/// later events naming the merged customer are filed under the survivor too.
///
/// A merge that would close a cycle (the survivor was itself merged into the merged
/// customer), and a second merge of a customer already merged away, change nothing: the
/// aggregate refuses both, and the fold could not split a history it has already joined.
pub(super) fn merged(
    state: &mut dyn StateWrite,
    event: &CustomersMerged,
) -> Result<(), StateError> {
    let merged = event.customer_id;
    let survivor = history_owner(state, event.survivor_id)?;
    if survivor == merged || state.get(&keys::merged(merged))?.is_some() {
        return Ok(());
    }
    let from = keys::customer_history(merged);
    let to = keys::customer_history(survivor);
    for (key, value) in STATE.walk_prefix(state, &from)? {
        let mut moved = to.clone();
        moved.extend_from_slice(&key[from.len()..]);
        state.delete(&key);
        state.put(moved, value);
    }
    STATE.write(state, keys::merged(merged), &survivor)
}

/// Drops the free text of the erased customer's records (subjects, resolutions, risk
/// recommendations) and marks
/// the customer, so a survey recorded later keeps no text either. Records of other customers
/// in the same history (a survivor's own cases) keep theirs: their text is sealed under
/// their own key.
pub(super) fn erased(state: &mut dyn StateWrite, event: &CustomerErased) -> Result<(), StateError> {
    let customer = event.customer_id;
    state.put(keys::erased(customer), Vec::new());
    let owner = history_owner(state, customer)?;
    for (_, record_key) in STATE.walk_prefix(state, &keys::customer_history(owner))? {
        if !record_key.starts_with(keys::CASE) {
            continue;
        }
        let Some(mut record) = STATE.read::<CaseRecord, _>(state, &record_key)? else {
            continue;
        };
        if record.customer != customer {
            continue;
        }
        record.subject = None;
        record.resolution = None;
        if let Some(survey) = record.risk_survey.as_mut() {
            for recommendation in &mut survey.recommendations {
                recommendation.text = None;
            }
        }
        STATE.write(state, record_key, &record)?;
    }
    Ok(())
}
