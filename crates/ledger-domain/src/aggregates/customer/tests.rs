//! Given / when / then tests of the customer aggregate.

use jiff::SignedDuration;

use super::*;
use crate::aggregates::testing::given;
use crate::aggregates::{
    CampaignStanding, CaseStanding, ClaimStanding, EnquiryStanding, FixedContext, PolicyFacts,
    PolicyPeriod, PolicyStanding,
};
use crate::commands::{
    AddIdentifier, AssignAccountManager, ChangeConsent, CorrectContact, Edit, EraseCustomer,
    MergeCustomers, RecordContact, RecordOnlineEnquiry, RecordSatisfaction, RegisterCustomer,
    RemoveIdentifier, UpdateProfile,
};
use crate::events::CONTACT_DURATION_SECONDS_MAX;
use crate::kinds::{ContactOutcome, ErasureReason};
use crate::samples::{self, identifier, identifiers, name, staff, text};
use crate::values::{Csat, Direction, IdentifierKind, Nps, Topic};

fn customer() -> CustomerId {
    samples::individual_customer_id()
}

fn other_customer() -> CustomerId {
    samples::corporate_customer_id()
}

fn register() -> RegisterCustomer {
    RegisterCustomer {
        customer_id: customer(),
        kind: CustomerKind::Individual,
        name: name("张三"),
        group: None,
        address: None,
        identifiers: identifiers(),
    }
}

fn registered() -> Event {
    registered_payload().into()
}

fn registered_payload() -> CustomerRegistered {
    CustomerRegistered {
        customer_id: customer(),
        kind: CustomerKind::Individual,
        name: name("张三"),
        group: None,
        address: None,
        identifiers: identifiers(),
    }
}

fn mobile(value: &str) -> Identifier {
    identifier(IdentifierKind::Mobile, value)
}

fn merged_into_other() -> Event {
    let mut held = identifiers();
    held.sort();
    CustomersMerged {
        customer_id: customer(),
        survivor_id: other_customer(),
        identifiers: held,
        reason: None,
    }
    .into()
}

fn erased() -> Event {
    CustomerErased {
        customer_id: customer(),
        reason: ErasureReason::CustomerRequest,
    }
    .into()
}

fn record_contact() -> RecordContact {
    let contact = samples::sample_contact();
    RecordContact {
        contact_id: contact.contact_id,
        customer_id: contact.customer_id,
        channel: contact.channel,
        direction: contact.direction,
        agent: contact.agent,
        started_at: contact.started_at,
        duration_seconds: contact.duration_seconds,
        topic: contact.topic,
        summary: contact.summary,
        outcome: contact.outcome,
        policy_number: contact.policy_number,
        claim_number: contact.claim_number,
        case_id: contact.case_id,
        campaign_id: contact.campaign_id,
        enquiry_id: contact.enquiry_id,
    }
}

fn contact_recorded() -> Event {
    samples::sample_contact().into()
}

fn not_found_customer() -> DomainError {
    DomainError::NotFound {
        kind: "customer",
        id: customer().to_string(),
    }
}

#[test]
fn a_customer_is_registered_once() {
    given::<Customer>(&[])
        .when(register())
        .then(&[registered()]);
    given::<Customer>(&[registered()])
        .when(register())
        .then_error(DomainError::AlreadyExists {
            kind: "customer",
            id: customer().to_string(),
        });
}

#[test]
fn registering_with_another_customers_identifier_names_the_owner() {
    let taken = mobile("13800138000");
    let context =
        FixedContext::at(samples::sample_time()).with_owner(taken.clone(), other_customer());
    given::<Customer>(&[])
        .with_context(context)
        .when(register())
        .then_error(DomainError::IdentifierOwned {
            identifier: taken.to_string(),
            owner: other_customer().to_string(),
        });
}

#[test]
fn another_customers_policy_or_claim_number_is_theirs_though_nobody_registered_it() {
    let policy = identifier(
        IdentifierKind::PolicyNumber,
        samples::policy_number().as_str(),
    );
    let claim = identifier(
        IdentifierKind::ClaimNumber,
        samples::claim_number().as_str(),
    );
    let context = |holder: CustomerId| {
        FixedContext::at(samples::sample_time())
            .with_policy(samples::policy_number(), PolicyStanding::Quoted { holder })
            .with_claim(
                samples::claim_number(),
                ClaimStanding::Reported { customer: holder },
            )
    };
    for number in [policy, claim] {
        let register = RegisterCustomer {
            identifiers: vec![number.clone()],
            ..register()
        };
        given::<Customer>(&[])
            .with_context(context(other_customer()))
            .when(register.clone())
            .then_error(DomainError::IdentifierOwned {
                identifier: number.to_string(),
                owner: other_customer().to_string(),
            });
        let add = AddIdentifier {
            customer_id: customer(),
            identifier: number.clone(),
        };
        given::<Customer>(&[registered()])
            .with_context(context(other_customer()))
            .when(add.clone())
            .then_error(DomainError::IdentifierOwned {
                identifier: number.to_string(),
                owner: other_customer().to_string(),
            });
        // The holder's own number, or one of a customer merged into the holder, is theirs.
        given::<Customer>(&[registered()])
            .with_context(context(customer()))
            .when(add.clone())
            .then(&[IdentifierAdded {
                customer_id: customer(),
                identifier: number.clone(),
            }
            .into()]);
        given::<Customer>(&[registered()])
            .with_context(
                context(other_customer())
                    .with_standing(other_customer(), CustomerStanding::MergedInto(customer())),
            )
            .when(add)
            .then(&[IdentifierAdded {
                customer_id: customer(),
                identifier: number,
            }
            .into()]);
    }
}

#[test]
fn an_identifier_the_directory_gives_to_this_customer_is_no_conflict() {
    let context =
        FixedContext::at(samples::sample_time()).with_owner(mobile("13800138000"), customer());
    given::<Customer>(&[])
        .with_context(context)
        .when(register())
        .then(&[registered()]);
}

#[test]
fn adding_an_identifier() {
    let added = mobile("13900139000");
    let command = AddIdentifier {
        customer_id: customer(),
        identifier: added.clone(),
    };
    given::<Customer>(&[registered()])
        .when(command.clone())
        .then(&[IdentifierAdded {
            customer_id: customer(),
            identifier: added.clone(),
        }
        .into()]);

    let context =
        FixedContext::at(samples::sample_time()).with_owner(added.clone(), other_customer());
    given::<Customer>(&[registered()])
        .with_context(context)
        .when(command)
        .then_error(DomainError::IdentifierOwned {
            identifier: added.to_string(),
            owner: other_customer().to_string(),
        });
}

#[test]
fn adding_an_identifier_the_customer_holds_changes_nothing() {
    let command = AddIdentifier {
        customer_id: customer(),
        identifier: mobile("13800138000"),
    };
    given::<Customer>(&[registered()])
        .when(command)
        .then_nothing();
}

#[test]
fn a_customer_holds_a_bounded_number_of_identifiers() {
    let mut history = vec![registered()];
    let held = identifiers().len();
    for number in 0..(IDENTIFIERS_PER_CUSTOMER_MAX - held) {
        let identifier = mobile(&format!("1390000{number:04}"));
        history.push(
            IdentifierAdded {
                customer_id: customer(),
                identifier,
            }
            .into(),
        );
    }
    let command = AddIdentifier {
        customer_id: customer(),
        identifier: mobile("13999999999"),
    };
    given::<Customer>(&history)
        .when(command)
        .then_invalid("identifier");
}

#[test]
fn removing_an_identifier() {
    let held = mobile("13800138000");
    given::<Customer>(&[registered()])
        .when(RemoveIdentifier {
            customer_id: customer(),
            identifier: held.clone(),
        })
        .then(&[IdentifierRemoved {
            customer_id: customer(),
            identifier: held,
        }
        .into()]);
    let unknown = mobile("13900139000");
    given::<Customer>(&[registered()])
        .when(RemoveIdentifier {
            customer_id: customer(),
            identifier: unknown.clone(),
        })
        .then_error(DomainError::NotFound {
            kind: "identifier",
            id: unknown.to_string(),
        });
}

#[test]
fn commands_for_an_unregistered_customer_are_not_found() {
    given::<Customer>(&[])
        .when(AddIdentifier {
            customer_id: customer(),
            identifier: mobile("13900139000"),
        })
        .then_error(not_found_customer());
    given::<Customer>(&[])
        .when(record_contact())
        .then_error(not_found_customer());
    given::<Customer>(&[])
        .when(EraseCustomer {
            customer_id: customer(),
            reason: ErasureReason::CustomerRequest,
        })
        .then_error(not_found_customer());
}

#[test]
fn a_profile_update_replaces_the_profile_and_a_repeat_changes_nothing() {
    let update = UpdateProfile {
        customer_id: customer(),
        name: Some(name("张三")),
        group: Edit::Set(name("中国第一汽车集团有限公司")),
        address: Edit::Set(text("长春市")),
    };
    let updated = ProfileUpdated {
        customer_id: customer(),
        name: name("张三"),
        group: Some(name("中国第一汽车集团有限公司")),
        address: Some(text("长春市")),
    };
    given::<Customer>(&[registered()])
        .when(update.clone())
        .then(&[updated.clone().into()]);
    given::<Customer>(&[registered(), updated.clone().into()])
        .when(update)
        .then_nothing();
    // A name corrected alone keeps the group and the address; a part cleared is cleared.
    let renamed = UpdateProfile {
        customer_id: customer(),
        name: Some(name("张叁")),
        group: Edit::Keep,
        address: Edit::Clear,
    };
    given::<Customer>(&[registered(), updated.into()])
        .when(renamed)
        .then(&[ProfileUpdated {
            customer_id: customer(),
            name: name("张叁"),
            group: Some(name("中国第一汽车集团有限公司")),
            address: None,
        }
        .into()]);
}

#[test]
fn consent_is_opt_in_and_recorded_when_it_changes() {
    let grant = ChangeConsent {
        customer_id: customer(),
        channel: Channel::WeChat,
        granted: true,
    };
    let granted = ConsentChanged {
        customer_id: customer(),
        channel: Channel::WeChat,
        granted: true,
    };
    let withdraw = ChangeConsent {
        granted: false,
        ..grant.clone()
    };
    given::<Customer>(&[registered()])
        .when(withdraw.clone())
        .then_nothing();
    let after = given::<Customer>(&[registered()])
        .when(grant.clone())
        .then(&[granted.clone().into()]);
    assert!(after.has_consent(Channel::WeChat));
    given::<Customer>(&[registered(), granted.clone().into()])
        .when(grant)
        .then_nothing();
    given::<Customer>(&[registered(), granted.into()])
        .when(withdraw)
        .then(&[ConsentChanged {
            customer_id: customer(),
            channel: Channel::WeChat,
            granted: false,
        }
        .into()]);
}

#[test]
fn an_account_manager_change_names_the_previous_manager() {
    let assign = |manager: &str| AssignAccountManager {
        customer_id: customer(),
        manager: staff(manager),
        team_lead: staff("tl-0002"),
    };
    let first = AccountManagerAssigned {
        customer_id: customer(),
        manager: staff("am-0003"),
        team_lead: staff("tl-0002"),
        previous_manager: None,
    };
    given::<Customer>(&[registered()])
        .when(assign("am-0003"))
        .then(&[first.clone().into()]);
    given::<Customer>(&[registered(), first.clone().into()])
        .when(assign("am-0003"))
        .then_nothing();
    given::<Customer>(&[registered(), first.into()])
        .when(assign("am-0007"))
        .then(&[AccountManagerAssigned {
            customer_id: customer(),
            manager: staff("am-0007"),
            team_lead: staff("tl-0002"),
            previous_manager: Some(staff("am-0003")),
        }
        .into()]);
}

#[test]
fn a_merge_is_recorded_on_the_merged_customer_with_its_identifiers() {
    let merge = MergeCustomers {
        customer_id: customer(),
        survivor_id: other_customer(),
        reason: None,
    };
    let after = given::<Customer>(&[registered()])
        .when(merge)
        .then(&[merged_into_other()]);
    assert_eq!(after.merged_into(), Some(other_customer()));
    assert_eq!(
        after.identifiers().count(),
        0,
        "the identifiers now find the survivor"
    );
}

#[test]
fn a_merge_needs_a_survivor_that_exists_and_still_stands() {
    let merge = || MergeCustomers {
        customer_id: customer(),
        survivor_id: other_customer(),
        reason: None,
    };
    let third = CustomerId::from_uuid(uuid::Uuid::from_u128(
        0x0193_0000_0000_7000_8000_0000_0000_0003,
    ));
    let context = |standing| {
        FixedContext::at(samples::sample_time()).with_standing(other_customer(), standing)
    };

    given::<Customer>(&[registered()])
        .with_context(context(CustomerStanding::Unknown))
        .when(merge())
        .then_error(DomainError::NotFound {
            kind: "customer",
            id: other_customer().to_string(),
        });
    given::<Customer>(&[registered()])
        .with_context(context(CustomerStanding::MergedInto(third)))
        .when(merge())
        .then_error(DomainError::CustomerMerged {
            customer: other_customer().to_string(),
            survivor: third.to_string(),
        });
    given::<Customer>(&[registered()])
        .with_context(context(CustomerStanding::Erased))
        .when(merge())
        .then_error(DomainError::CustomerErased {
            customer: other_customer().to_string(),
        });
    given::<Customer>(&[registered()])
        .with_context(context(CustomerStanding::Live))
        .when(merge())
        .then(&[merged_into_other()]);
}

#[test]
fn a_customer_cannot_be_merged_into_itself() {
    let merge = MergeCustomers {
        customer_id: customer(),
        survivor_id: customer(),
        reason: None,
    };
    given::<Customer>(&[registered()])
        .when(merge)
        .then_invalid("survivorId");
}

#[test]
fn a_merged_customer_accepts_nothing_but_erasure() {
    let merged = DomainError::CustomerMerged {
        customer: customer().to_string(),
        survivor: other_customer().to_string(),
    };
    let history = [registered(), merged_into_other()];
    let third = samples::duplicate_customer_id();
    given::<Customer>(&history)
        .when(MergeCustomers {
            customer_id: customer(),
            survivor_id: third,
            reason: None,
        })
        .then_error(merged.clone());
    given::<Customer>(&history)
        .when(AddIdentifier {
            customer_id: customer(),
            identifier: mobile("13900139000"),
        })
        .then_error(merged.clone());
    given::<Customer>(&history)
        .when(record_contact())
        .then_error(merged.clone());
    given::<Customer>(&history)
        .when(ChangeConsent {
            customer_id: customer(),
            channel: Channel::Phone,
            granted: true,
        })
        .then_error(merged);
    given::<Customer>(&history)
        .when(EraseCustomer {
            customer_id: customer(),
            reason: ErasureReason::CustomerRequest,
        })
        .then(&[erased()]);
}

#[test]
fn an_erased_customer_accepts_nothing() {
    let history = [registered(), erased()];
    let already_erased = DomainError::CustomerErased {
        customer: customer().to_string(),
    };
    assert!(
        already_erased.to_string().contains("already erased"),
        "{already_erased}"
    );
    given::<Customer>(&history)
        .when(EraseCustomer {
            customer_id: customer(),
            reason: ErasureReason::LegalOrder,
        })
        .then_error(already_erased.clone());
    given::<Customer>(&history)
        .at(after_the_contact())
        .when(record_contact())
        .then_error(already_erased.clone());
    given::<Customer>(&history)
        .when(RecordSatisfaction {
            customer_id: customer(),
            contact_id: None,
            csat: None,
            nps: Some(Nps::parse("nps", 9).expect("valid")),
            comment: None,
        })
        .then_error(already_erased.clone());
    given::<Customer>(&history)
        .when(correct_contact())
        .then_error(already_erased.clone());
    given::<Customer>(&history)
        .when(enquiry())
        .then_error(already_erased.clone());
    given::<Customer>(&history)
        .when(UpdateProfile {
            customer_id: customer(),
            name: Some(name("李四")),
            group: Edit::Keep,
            address: Edit::Keep,
        })
        .then_error(already_erased.clone());
    given::<Customer>(&history)
        .when(MergeCustomers {
            customer_id: customer(),
            survivor_id: other_customer(),
            reason: None,
        })
        .then_error(already_erased.clone());
    // Erased after a merge: still erased, not merged.
    given::<Customer>(&[registered(), merged_into_other(), erased()])
        .when(record_contact())
        .then_error(already_erased);
    given::<Customer>(&history)
        .when(register())
        .then_error(DomainError::AlreadyExists {
            kind: "customer",
            id: customer().to_string(),
        });
}

#[test]
fn a_contact_is_recorded_once() {
    given::<Customer>(&[registered()])
        .at(after_the_contact())
        .when(record_contact())
        .then(&[contact_recorded()]);
    given::<Customer>(&[registered(), contact_recorded()])
        .when(record_contact())
        .then_error(DomainError::AlreadyExists {
            kind: "contact",
            id: samples::contact_id().to_string(),
        });
}

#[test]
fn a_contact_cannot_start_before_1990() {
    // A system's zero date or a slipped century: outside every figure, at the timeline's end.
    let mut command = record_contact();
    for slip in ["1970-01-01T00:00:00Z", "1989-12-31T15:59:59Z"] {
        command.started_at = slip.parse().unwrap();
        given::<Customer>(&[registered()])
            .when(command.clone())
            .then_invalid("startedAt");
    }
    // The first second of 1990 in Beijing is history.
    command.started_at = "1989-12-31T16:00:00Z".parse().unwrap();
    let started_at = command.started_at;
    given::<Customer>(&[registered()])
        .when(command)
        .then(&[ContactRecorded {
            started_at,
            ..samples::sample_contact()
        }
        .into()]);
}

#[test]
fn a_contact_cannot_start_in_the_future() {
    let mut command = record_contact();
    command.started_at = samples::sample_time() + SignedDuration::from_hours(1);
    given::<Customer>(&[registered()])
        .when(command.clone())
        .then_invalid("startedAt");
    // Nor end there: a contact is recorded once it has happened.
    command.started_at = samples::sample_time() - SignedDuration::from_secs(60);
    command.duration_seconds = 3_600;
    given::<Customer>(&[registered()])
        .when(command.clone())
        .then_invalid("durationSeconds");
    // Within the allowed clock skew it is fine.
    command.started_at = samples::sample_time() + SignedDuration::from_secs(60);
    command.duration_seconds = 240;
    given::<Customer>(&[registered()])
        .when(command)
        .then(&[ContactRecorded {
            started_at: samples::sample_time() + SignedDuration::from_secs(60),
            duration_seconds: 240,
            ..samples::sample_contact()
        }
        .into()]);
}

#[test]
fn a_contact_record_has_a_bounded_duration() {
    let mut command = record_contact();
    command.duration_seconds = CONTACT_DURATION_SECONDS_MAX + 1;
    given::<Customer>(&[registered()])
        .when(command)
        .then_invalid("durationSeconds");
}

/// A time the samples' contact has ended by.
fn after_the_contact() -> jiff::Timestamp {
    samples::sample_time() + SignedDuration::from_hours(1)
}

fn correct_contact() -> CorrectContact {
    let command = record_contact();
    CorrectContact {
        contact_id: command.contact_id,
        customer_id: command.customer_id,
        channel: command.channel,
        direction: Direction::Outbound,
        agent: command.agent,
        started_at: command.started_at,
        duration_seconds: command.duration_seconds,
        topic: Topic::Complaint,
        summary: command.summary,
        outcome: ContactOutcome::Resolved,
        policy_number: command.policy_number,
        claim_number: command.claim_number,
        case_id: command.case_id,
        campaign_id: command.campaign_id,
        enquiry_id: command.enquiry_id,
        reason: text("方向和主题录错"),
    }
}

#[test]
fn only_a_recorded_contact_is_corrected() {
    let expected = ContactCorrected {
        direction: Direction::Outbound,
        topic: Topic::Complaint,
        outcome: ContactOutcome::Resolved,
        ..samples::sample_contact().corrected(text("方向和主题录错"))
    };
    given::<Customer>(&[registered(), contact_recorded()])
        .at(after_the_contact())
        .when(correct_contact())
        .then(&[expected.into()]);
    given::<Customer>(&[registered()])
        .when(correct_contact())
        .then_error(DomainError::NotFound {
            kind: "contact",
            id: samples::contact_id().to_string(),
        });
}

#[test]
fn satisfaction_needs_a_score_and_a_known_contact() {
    let csat = Some(Csat::parse("csat", 2).expect("valid"));
    let command = RecordSatisfaction {
        customer_id: customer(),
        contact_id: Some(samples::contact_id()),
        csat,
        nps: None,
        comment: None,
    };
    given::<Customer>(&[registered(), contact_recorded()])
        .when(command.clone())
        .then(&[SatisfactionRecorded {
            customer_id: customer(),
            contact_id: Some(samples::contact_id()),
            csat,
            nps: None,
            comment: None,
        }
        .into()]);
    given::<Customer>(&[registered()])
        .when(command.clone())
        .then_error(DomainError::NotFound {
            kind: "contact",
            id: samples::contact_id().to_string(),
        });
    let no_score = RecordSatisfaction {
        csat: None,
        nps: None,
        ..command.clone()
    };
    given::<Customer>(&[registered(), contact_recorded()])
        .when(no_score)
        .then_invalid("csat");
    let nps_only = RecordSatisfaction {
        contact_id: None,
        csat: None,
        nps: Some(Nps::parse("nps", 10).expect("valid")),
        ..command
    };
    given::<Customer>(&[registered()])
        .when(nps_only.clone())
        .then(&[SatisfactionRecorded {
            customer_id: customer(),
            contact_id: None,
            csat: None,
            nps: nps_only.nps,
            comment: None,
        }
        .into()]);
}

#[test]
fn a_contact_takes_one_satisfaction_answer() {
    let answer = SatisfactionRecorded {
        customer_id: customer(),
        contact_id: Some(samples::contact_id()),
        csat: Some(Csat::parse("csat", 2).expect("valid")),
        nps: None,
        comment: None,
    };
    let again = RecordSatisfaction {
        customer_id: customer(),
        contact_id: Some(samples::contact_id()),
        csat: Some(Csat::parse("csat", 5).expect("valid")),
        nps: None,
        comment: None,
    };
    given::<Customer>(&[registered(), contact_recorded(), answer.into()])
        .when(again.clone())
        .then_invalid("contactId");
    // An answer about no contact in particular may come any number of times.
    let general = SatisfactionRecorded {
        contact_id: None,
        ..answer_about_nothing()
    };
    given::<Customer>(&[registered(), contact_recorded(), general.clone().into()])
        .when(RecordSatisfaction {
            contact_id: None,
            ..again
        })
        .then(&[SatisfactionRecorded {
            csat: Some(Csat::parse("csat", 5).expect("valid")),
            ..general
        }
        .into()]);
}

fn answer_about_nothing() -> SatisfactionRecorded {
    SatisfactionRecorded {
        customer_id: customer(),
        contact_id: None,
        csat: Some(Csat::parse("csat", 4).expect("valid")),
        nps: None,
        comment: None,
    }
}

#[test]
fn a_merged_customer_s_own_contacts_are_still_corrected_and_rated_on_its_stream() {
    let history = [registered(), contact_recorded(), merged_into_other()];
    let expected = ContactCorrected {
        direction: Direction::Outbound,
        topic: Topic::Complaint,
        outcome: ContactOutcome::Resolved,
        ..samples::sample_contact().corrected(text("方向和主题录错"))
    };
    given::<Customer>(&history)
        .at(after_the_contact())
        .when(correct_contact())
        .then(&[expected.into()]);
    let rating = RecordSatisfaction {
        customer_id: customer(),
        contact_id: Some(samples::contact_id()),
        csat: Some(Csat::parse("csat", 3).expect("valid")),
        nps: None,
        comment: None,
    };
    given::<Customer>(&history)
        .when(rating.clone())
        .then(&[SatisfactionRecorded {
            contact_id: Some(samples::contact_id()),
            csat: rating.csat,
            ..answer_about_nothing()
        }
        .into()]);
    // Anything else is new business for the survivor.
    given::<Customer>(&history)
        .when(RecordSatisfaction {
            contact_id: None,
            ..rating
        })
        .then_error(DomainError::CustomerMerged {
            customer: customer().to_string(),
            survivor: other_customer().to_string(),
        });
}

/// The rule of the `contactId` refusal `error` is.
#[track_caller]
fn contact_refusal(error: DomainError) -> String {
    match error {
        DomainError::Validation(error) if error.field == "contactId" => error.rule,
        other => panic!("expected a validation error on contactId, got {other:?}"),
    }
}

#[test]
fn another_customers_contact_is_refused_naming_whose_it_is_and_the_id_to_use() {
    let contact = samples::contact_id();
    let merged = customer();
    let survivor = other_customer();
    let survivor_registered: [Event; 1] = [CustomerRegistered {
        customer_id: survivor,
        ..registered_payload()
    }
    .into()];
    // The merged customer's contact, seen on the survivor's timeline and named under its id.
    let context = FixedContext::at(after_the_contact())
        .with_contacts(merged, &[contact])
        .with_standing(merged, CustomerStanding::MergedInto(survivor));
    let under_survivor = CorrectContact {
        customer_id: survivor,
        ..correct_contact()
    };
    let rule = contact_refusal(
        given::<Customer>(&survivor_registered)
            .with_context(context.clone())
            .when(under_survivor)
            .error(),
    );
    assert_eq!(
        rule,
        format!(
            "contact {contact} is customer {merged}'s contact (merged into {survivor}): correct \
             it on customerId {merged}"
        )
    );
    let rating = RecordSatisfaction {
        customer_id: survivor,
        contact_id: Some(contact),
        csat: Some(Csat::parse("csat", 3).expect("valid")),
        nps: None,
        comment: None,
    };
    let rule = contact_refusal(
        given::<Customer>(&survivor_registered)
            .with_context(context)
            .when(rating.clone())
            .error(),
    );
    assert!(
        rule.ends_with(&format!("record its answer on customerId {merged}")),
        "{rule}"
    );
    // The survivor's contact named under the merged customer's id: correct it on the
    // survivor's, not "use the survivor" for the merged customer's own business.
    let context = FixedContext::at(after_the_contact())
        .with_contacts(survivor, &[contact])
        .with_standing(survivor, CustomerStanding::Live);
    let rule = contact_refusal(
        given::<Customer>(&[registered(), merged_into_other()])
            .with_context(context)
            .when(correct_contact())
            .error(),
    );
    assert_eq!(
        rule,
        format!(
            "contact {contact} is customer {survivor}'s contact: correct it on customerId {survivor}"
        )
    );
    // Nobody's contact: not found, as before; on a merged customer, new business refused.
    given::<Customer>(&survivor_registered)
        .at(after_the_contact())
        .when(RecordSatisfaction {
            customer_id: survivor,
            ..rating
        })
        .then_error(DomainError::NotFound {
            kind: "contact",
            id: contact.to_string(),
        });
    given::<Customer>(&[registered(), merged_into_other()])
        .at(after_the_contact())
        .when(correct_contact())
        .then_error(DomainError::CustomerMerged {
            customer: merged.to_string(),
            survivor: survivor.to_string(),
        });
}

#[test]
fn an_erased_customers_contact_named_under_another_id_says_it_was_erased() {
    let contact = samples::contact_id();
    let erased_customer = samples::duplicate_customer_id();
    let context = FixedContext::at(after_the_contact())
        .with_contacts(erased_customer, &[contact])
        .with_standing(erased_customer, CustomerStanding::Erased);
    let rule = contact_refusal(
        given::<Customer>(&[registered()])
            .with_context(context)
            .when(correct_contact())
            .error(),
    );
    assert!(
        rule.contains(&format!("{erased_customer} was erased")),
        "{rule}"
    );
}

#[test]
fn an_enquiry_names_only_a_launched_campaign() {
    let command = RecordOnlineEnquiry {
        campaign_id: Some(samples::campaign_id()),
        ..enquiry()
    };
    let context = |standing| {
        FixedContext::at(samples::sample_time()).with_campaign(samples::campaign_id(), standing)
    };
    given::<Customer>(&[registered()])
        .with_context(context(CampaignStanding::Unknown))
        .when(command.clone())
        .then_error(DomainError::NotFound {
            kind: "campaign",
            id: samples::campaign_id().to_string(),
        });
    given::<Customer>(&[registered()])
        .with_context(context(CampaignStanding::Launched))
        .when(command.clone())
        .then(&[online_enquiry(&command).into()]);
}

fn enquiry() -> RecordOnlineEnquiry {
    RecordOnlineEnquiry {
        enquiry_id: samples::enquiry_id(),
        customer_id: Some(customer()),
        campaign_id: None,
        channel: Channel::App,
        name: None,
        mobile: samples::mobile(),
        plate: Some(samples::plate()),
        product_lines: Vec::new(),
        message: Some(text("续保价格咨询")),
    }
}

#[test]
fn an_enquiry_from_a_known_customer_is_recorded_once_on_their_stream() {
    let received: Event = online_enquiry(&enquiry()).into();
    given::<Customer>(&[registered()])
        .when(enquiry())
        .then(std::slice::from_ref(&received));
    given::<Customer>(&[registered(), received])
        .when(enquiry())
        .then_error(DomainError::AlreadyExists {
            kind: "enquiry",
            id: samples::enquiry_id().to_string(),
        });
    let anonymous = RecordOnlineEnquiry {
        customer_id: None,
        ..enquiry()
    };
    given::<Customer>(&[registered()])
        .when(anonymous)
        .then_invalid("customerId");
}

#[test]
fn apply_ignores_other_customers_events() {
    let mut customer_state = fold_customer(&[registered()]);
    let other = IdentifierAdded {
        customer_id: other_customer(),
        identifier: mobile("13900139000"),
    };
    customer_state.apply(&other.into());
    assert_eq!(customer_state, fold_customer(&[registered()]));
}

fn fold_customer(events: &[Event]) -> Customer {
    crate::aggregates::fold(events)
}

// A contact's links to other streams (module docs, "A contact's links").

fn contact_with_links() -> RecordContact {
    RecordContact {
        policy_number: Some(samples::policy_number()),
        claim_number: None,
        case_id: Some(samples::case_id()),
        campaign_id: Some(samples::campaign_id()),
        enquiry_id: Some(samples::enquiry_id()),
        ..record_contact()
    }
}

fn contact_with_links_recorded() -> Event {
    ContactRecorded {
        policy_number: Some(samples::policy_number()),
        claim_number: None,
        case_id: Some(samples::case_id()),
        campaign_id: Some(samples::campaign_id()),
        enquiry_id: Some(samples::enquiry_id()),
        ..samples::sample_contact()
    }
    .into()
}

fn issued_to(holder: CustomerId) -> PolicyStanding {
    PolicyStanding::Issued(PolicyFacts {
        holder,
        periods: vec![PolicyPeriod {
            start: jiff::civil::date(2024, 3, 16),
            end: jiff::civil::date(2025, 3, 15),
        }],
        premium: None,
        sold_through: None,
    })
}

/// A context that knows every link of [`contact_with_links`], each the customer's.
fn links_context(holder: CustomerId) -> FixedContext {
    FixedContext::at(after_the_contact())
        .with_policy(samples::policy_number(), issued_to(holder))
        .with_case(
            samples::case_id(),
            CaseStanding::Opened { customer: holder },
        )
        .with_campaign(samples::campaign_id(), CampaignStanding::Launched)
        .with_enquiry(samples::enquiry_id(), EnquiryStanding::FromCustomer(holder))
}

#[test]
fn a_contact_links_to_the_customers_own_policy_case_and_enquiry_and_a_launched_campaign() {
    given::<Customer>(&[registered()])
        .with_context(links_context(customer()))
        .when(contact_with_links())
        .then(&[contact_with_links_recorded()]);
    // A context that cannot tell checks nothing.
    given::<Customer>(&[registered()])
        .at(after_the_contact())
        .when(contact_with_links())
        .then(&[contact_with_links_recorded()]);
    // An anonymous enquiry may be answered by any customer's contact.
    given::<Customer>(&[registered()])
        .with_context(
            links_context(customer())
                .with_enquiry(samples::enquiry_id(), EnquiryStanding::Anonymous),
        )
        .when(contact_with_links())
        .then(&[contact_with_links_recorded()]);
}

#[test]
fn a_contact_does_not_link_to_what_does_not_exist() {
    let not_found = |kind: &'static str, id: String| DomainError::NotFound { kind, id };
    given::<Customer>(&[registered()])
        .with_context(
            links_context(customer())
                .with_policy(samples::policy_number(), PolicyStanding::Unknown),
        )
        .when(contact_with_links())
        .then_error(not_found("policy", samples::policy_number().to_string()));
    given::<Customer>(&[registered()])
        .with_context(
            links_context(customer()).with_case(samples::case_id(), CaseStanding::Unknown),
        )
        .when(contact_with_links())
        .then_error(not_found("service case", samples::case_id().to_string()));
    given::<Customer>(&[registered()])
        .with_context(
            links_context(customer())
                .with_campaign(samples::campaign_id(), CampaignStanding::Unknown),
        )
        .when(contact_with_links())
        .then_error(not_found("campaign", samples::campaign_id().to_string()));
    given::<Customer>(&[registered()])
        .with_context(
            links_context(customer()).with_enquiry(samples::enquiry_id(), EnquiryStanding::Unknown),
        )
        .when(contact_with_links())
        .then_error(not_found("enquiry", samples::enquiry_id().to_string()));
}

#[test]
fn a_contact_may_name_the_customers_quote() {
    let quote = |holder| {
        links_context(customer())
            .with_policy(samples::policy_number(), PolicyStanding::Quoted { holder })
    };
    given::<Customer>(&[registered()])
        .with_context(quote(customer()))
        .when(contact_with_links())
        .then(&[contact_with_links_recorded()]);
    given::<Customer>(&[registered()])
        .with_context(quote(other_customer()))
        .when(contact_with_links())
        .then_invalid("policyNumber");
}

#[test]
fn a_contact_does_not_link_to_another_customers_policy_case_or_enquiry() {
    let others = links_context(customer());
    given::<Customer>(&[registered()])
        .with_context(
            others
                .clone()
                .with_policy(samples::policy_number(), issued_to(other_customer())),
        )
        .when(contact_with_links())
        .then_invalid("policyNumber");
    given::<Customer>(&[registered()])
        .with_context(others.clone().with_case(
            samples::case_id(),
            CaseStanding::Opened {
                customer: other_customer(),
            },
        ))
        .when(contact_with_links())
        .then_invalid("caseId");
    // Another known customer's enquiry: the contact would count as their call-back.
    given::<Customer>(&[registered()])
        .with_context(others.with_enquiry(
            samples::enquiry_id(),
            EnquiryStanding::FromCustomer(other_customer()),
        ))
        .when(contact_with_links())
        .then_invalid("enquiryId");
}

#[test]
fn a_contact_links_to_what_a_customer_merged_with_it_holds() {
    let duplicate = samples::duplicate_customer_id();
    // The duplicate was merged into this customer: its policy, case and enquiry are ours.
    given::<Customer>(&[registered()])
        .with_context(
            links_context(duplicate)
                .with_standing(duplicate, CustomerStanding::MergedInto(customer())),
        )
        .when(contact_with_links())
        .then(&[contact_with_links_recorded()]);
    // Without the merge the same links are another customer's.
    given::<Customer>(&[registered()])
        .with_context(links_context(duplicate).with_standing(duplicate, CustomerStanding::Live))
        .when(contact_with_links())
        .then_invalid("policyNumber");
}

#[test]
fn an_enquiry_on_the_customers_own_stream_needs_no_context() {
    let received: Event = online_enquiry(&enquiry()).into();
    // The context knows nothing of the enquiry yet (a read model behind): the stream suffices.
    let context =
        links_context(customer()).with_enquiry(samples::enquiry_id(), EnquiryStanding::Unknown);
    given::<Customer>(&[registered(), received])
        .with_context(context)
        .when(contact_with_links())
        .then(&[contact_with_links_recorded()]);
}

#[test]
fn a_correction_checks_the_links_it_records() {
    let mut correction = correct_contact();
    correction.policy_number = Some(samples::policy_number());
    correction.enquiry_id = Some(samples::enquiry_id());
    given::<Customer>(&[registered(), contact_recorded()])
        .with_context(
            links_context(customer())
                .with_policy(samples::policy_number(), issued_to(other_customer())),
        )
        .when(correction.clone())
        .then_invalid("policyNumber");
    given::<Customer>(&[registered(), contact_recorded()])
        .with_context(links_context(customer()).with_enquiry(
            samples::enquiry_id(),
            EnquiryStanding::FromCustomer(other_customer()),
        ))
        .when(correction)
        .then_invalid("enquiryId");
}
