//! Events that read redacted: entries of a customer whose data key stayed in the ledger an
//! export came from read as erased, and a rebuild that can no longer open an erased customer's
//! events writes what the live fold wrote.

use ledger_domain::events::{ConsentChanged, ContactRecorded, CustomerErased};
use ledger_domain::kinds::ErasureReason;
use ledger_domain::samples::text;
use ledger_domain::values::{Channel, Direction, Topic};

use super::support::{History, customer};
use super::{
    DUPLICATE, LI, ZHANG, busy_history, contact, contact_id, merged_history, read, registered,
};
use crate::{CustomerTimeline, TimelineFilter};

#[test]
fn a_customer_whose_key_is_elsewhere_has_erased_entries_not_blank_ones() {
    let mut history = History::new();
    history.record_redacted(registered(ZHANG, "张三"));
    history.record(registered(LI, "李四"));
    let original = contact(
        ZHANG,
        1,
        Channel::Phone,
        Direction::Inbound,
        Topic::Enquiry,
        "问保单续保",
    );
    history.record_redacted(original.clone());
    history.record(contact(
        LI,
        2,
        Channel::Phone,
        Direction::Inbound,
        Topic::Enquiry,
        "李四的来电",
    ));
    // A correction of the contact, and one of a contact the timeline never saw.
    history.record_redacted(
        ContactRecorded {
            topic: Topic::Complaint,
            ..original
        }
        .corrected(text("录入错误")),
    );
    history.record_redacted(
        contact(
            ZHANG,
            3,
            Channel::WeChat,
            Direction::Inbound,
            Topic::Feedback,
            "未见过的联系",
        )
        .corrected(text("补录")),
    );
    // Nothing personal in it: it reads whole here too.
    history.record(ConsentChanged {
        customer_id: customer(ZHANG),
        channel: Channel::Phone,
        granted: true,
    });
    let state = history.fold(&CustomerTimeline);

    let zhang = read(&state, ZHANG, &TimelineFilter::default());
    let kinds: Vec<(&str, bool)> = zhang
        .entries
        .iter()
        .map(|(_, entry)| (entry.kind.as_str(), entry.erased))
        .collect();
    assert_eq!(
        kinds,
        [
            ("ConsentChanged", false),
            ("ContactCorrected", true),
            ("ContactRecorded", true),
            ("CustomerRegistered", true),
        ]
    );
    for (_, entry) in &zhang.entries {
        assert_eq!(entry.summary, None, "{entry:?}");
    }
    let corrected = &zhang.entries[2].1;
    assert_eq!(corrected.contact, Some(contact_id(1)));
    assert!(corrected.corrected);
    assert_eq!(corrected.topic, Some(Topic::Complaint));
    // Another customer's entries are untouched.
    let li = read(&state, LI, &TimelineFilter::default());
    assert!(li.entries.iter().all(|(_, entry)| !entry.erased));
    assert_eq!(li.entries[0].1.summary.as_deref(), Some("李四的来电"));
}

/// The live fold read the customers' events whole until their erasure; a rebuild after it
/// reads them redacted. Both write the same state.
#[test]
fn a_rebuild_that_cannot_open_erased_customers_events_writes_what_the_live_fold_wrote() {
    // The duplicate alone erased after the merge: the merge is sealed under the survivor's
    // key, which lives on.
    let mut history = merged_history();
    history.record(CustomerErased {
        customer_id: customer(DUPLICATE),
        reason: ErasureReason::CustomerRequest,
    });
    assert_eq!(
        history
            .with_keys_gone(&[customer(DUPLICATE)])
            .fold(&CustomerTimeline)
            .entries(),
        history.fold(&CustomerTimeline).entries()
    );
    // Then the survivor too, and a contact for him after it (which the live fold could not
    // open either).
    history.record(CustomerErased {
        customer_id: customer(ZHANG),
        reason: ErasureReason::CustomerRequest,
    });
    let mut live = history.clone();
    live.record_redacted(contact(
        ZHANG,
        70,
        Channel::Phone,
        Direction::Outbound,
        Topic::Renewal,
        "again",
    ));
    assert_eq!(
        live.with_keys_gone(&[customer(ZHANG), customer(DUPLICATE)])
            .fold(&CustomerTimeline)
            .entries(),
        live.fold(&CustomerTimeline).entries()
    );

    let busy = busy_history();
    assert_eq!(
        busy.with_keys_gone(&[customer(DUPLICATE)])
            .fold(&CustomerTimeline)
            .entries(),
        busy.fold(&CustomerTimeline).entries()
    );
}
