//! Given / when / then tests of the claim aggregate's state machine.

use jiff::SignedDuration;

use super::*;
use crate::aggregates::testing::given;
use crate::aggregates::{
    CustomerStanding, FixedContext, PolicyFacts, PolicyPeriod, PolicyStanding,
};
use crate::kinds::{ClaimDocument, ClaimRejectionReason, Payee, PayeeKind};
use crate::samples::{self, name, staff, text};
use crate::values::{Channel, Money};

fn number() -> ClaimNumber {
    samples::claim_number()
}

fn customer() -> CustomerId {
    samples::individual_customer_id()
}

fn report() -> ReportClaim {
    ReportClaim {
        claim_number: number(),
        policy_number: samples::policy_number(),
        customer_id: customer(),
        loss_occurred_at: samples::timestamp("2024-03-15T00:50:00Z"),
        location: text("长春市人民大街"),
        description: text("追尾"),
        plate: Some(samples::plate()),
        reported_via: Channel::Phone,
        injuries: false,
        estimated_loss: Some(Money::from_fen(300_000)),
        time_guarantee_working_days: Some(5),
    }
}

fn reported() -> Event {
    reported_payload().into()
}

fn reported_payload() -> ClaimReported {
    ClaimReported {
        claim_number: number(),
        policy_number: samples::policy_number(),
        customer_id: customer(),
        loss_occurred_at: samples::timestamp("2024-03-15T00:50:00Z"),
        location: text("长春市人民大街"),
        description: text("追尾"),
        plate: Some(samples::plate()),
        reported_via: Channel::Phone,
        injuries: false,
        estimated_loss: Some(Money::from_fen(300_000)),
        time_guarantee_working_days: Some(5),
    }
}

fn survey() -> SurveyClaim {
    SurveyClaim {
        claim_number: number(),
        surveyor: staff("surveyor-0011"),
        on_site: false,
        assessed_loss: Money::from_fen(265_000),
        findings: text("后保险杠需更换"),
    }
}

fn surveyed() -> Event {
    ClaimSurveyed {
        claim_number: number(),
        customer_id: customer(),
        surveyor: staff("surveyor-0011"),
        on_site: false,
        assessed_loss: Money::from_fen(265_000),
        findings: text("后保险杠需更换"),
    }
    .into()
}

fn documents() -> Vec<ClaimDocument> {
    vec![ClaimDocument::ClaimForm, ClaimDocument::RepairInvoice]
}

fn request_documents() -> RequestClaimDocuments {
    RequestClaimDocuments {
        claim_number: number(),
        documents: documents(),
        requested_via: Channel::WeChat,
    }
}

fn documents_requested() -> Event {
    ClaimDocumentsRequested {
        claim_number: number(),
        customer_id: customer(),
        documents: documents(),
        requested_via: Channel::WeChat,
    }
    .into()
}

fn complete_documents() -> CompleteClaimDocuments {
    CompleteClaimDocuments {
        claim_number: number(),
        documents: documents(),
    }
}

fn documents_completed() -> Event {
    ClaimDocumentsCompleted {
        claim_number: number(),
        customer_id: customer(),
        documents: documents(),
    }
    .into()
}

fn payee() -> Payee {
    Payee {
        kind: PayeeKind::RepairShop,
        name: name("长春一汽大众 4S 店"),
    }
}

fn settle() -> SettleClaim {
    SettleClaim {
        claim_number: number(),
        amount: Money::from_fen(265_000),
        payee: payee(),
        direct_payment: true,
    }
}

fn settled() -> Event {
    ClaimSettled {
        claim_number: number(),
        customer_id: customer(),
        amount: Money::from_fen(265_000),
        payee: payee(),
        direct_payment: true,
    }
    .into()
}

fn reject() -> RejectClaim {
    RejectClaim {
        claim_number: number(),
        reason: ClaimRejectionReason::NotCovered,
        explanation: text("不在保障范围"),
    }
}

fn rejected() -> Event {
    ClaimRejected {
        claim_number: number(),
        customer_id: customer(),
        reason: ClaimRejectionReason::NotCovered,
        explanation: text("不在保障范围"),
    }
    .into()
}

fn reopen() -> ReopenClaim {
    ReopenClaim {
        claim_number: number(),
        reason: text("发现新损失"),
    }
}

fn reopened() -> Event {
    ClaimReopened {
        claim_number: number(),
        customer_id: customer(),
        reason: text("发现新损失"),
    }
    .into()
}

fn transition(action: &'static str, state: &str) -> DomainError {
    DomainError::InvalidTransition {
        kind: "claim",
        id: number().to_string(),
        action,
        state: state.to_owned(),
    }
}

fn through_documents() -> Vec<Event> {
    vec![
        reported(),
        surveyed(),
        documents_requested(),
        documents_completed(),
    ]
}

#[test]
fn a_claim_goes_from_report_to_settlement() {
    given::<Claim>(&[]).when(report()).then(&[reported()]);
    given::<Claim>(&[reported()])
        .when(survey())
        .then(&[surveyed()]);
    given::<Claim>(&[reported(), surveyed()])
        .when(request_documents())
        .then(&[documents_requested()]);
    given::<Claim>(&[reported(), surveyed(), documents_requested()])
        .when(complete_documents())
        .then(&[documents_completed()]);
    let claim = given::<Claim>(&through_documents())
        .when(settle())
        .then(&[settled()]);
    assert_eq!(claim.status(), Some(ClaimStatus::Settled));
}

#[test]
fn a_claim_is_reported_once_and_not_before_the_loss() {
    given::<Claim>(&[reported()])
        .when(report())
        .then_error(DomainError::AlreadyExists {
            kind: "claim",
            id: number().to_string(),
        });
    let mut early = report();
    early.loss_occurred_at = samples::sample_time() + SignedDuration::from_hours(2);
    given::<Claim>(&[])
        .when(early)
        .then_invalid("lossOccurredAt");
}

#[test]
fn an_unreported_claim_cannot_be_handled() {
    let not_found = DomainError::NotFound {
        kind: "claim",
        id: number().to_string(),
    };
    given::<Claim>(&[])
        .when(settle())
        .then_error(not_found.clone());
    given::<Claim>(&[])
        .when(survey())
        .then_error(not_found.clone());
    given::<Claim>(&[]).when(reopen()).then_error(not_found);
}

#[test]
fn documents_are_complete_only_when_every_requested_one_is_received() {
    let requested = [reported(), surveyed(), documents_requested()];
    given::<Claim>(&requested)
        .when(CompleteClaimDocuments {
            claim_number: number(),
            documents: vec![ClaimDocument::ClaimForm],
        })
        .then_error(DomainError::Validation(crate::ValidationError::new(
            "documents",
            "every requested document, received; still missing: REPAIR_INVOICE",
        )));
    // More than was asked for is fine.
    let more = vec![
        ClaimDocument::ClaimForm,
        ClaimDocument::RepairInvoice,
        ClaimDocument::Photos,
    ];
    given::<Claim>(&requested)
        .when(CompleteClaimDocuments {
            claim_number: number(),
            documents: more.clone(),
        })
        .then(&[ClaimDocumentsCompleted {
            claim_number: number(),
            customer_id: customer(),
            documents: more,
        }
        .into()]);
    // A claim with its documents complete says what it is waiting for in words.
    given::<Claim>(&through_documents())
        .when(complete_documents())
        .then_error(transition(
            "complete the documents of",
            "awaiting a decision (documents complete)",
        ));
}

#[test]
fn a_claim_is_settled_only_with_complete_documents() {
    given::<Claim>(&[reported()])
        .when(settle())
        .then_error(transition("settle", "reported"));
    given::<Claim>(&[reported(), surveyed()])
        .when(settle())
        .then_error(transition("settle", "surveyed"));
    given::<Claim>(&[reported(), surveyed(), documents_requested()])
        .when(settle())
        .then_error(transition("settle", "awaiting documents"));
    let nothing = SettleClaim {
        amount: Money::ZERO,
        ..settle()
    };
    given::<Claim>(&through_documents())
        .when(nothing)
        .then_invalid("amount");
}

#[test]
fn a_rejected_claim_is_not_settled() {
    given::<Claim>(&[reported(), rejected()])
        .when(settle())
        .then_error(transition("settle", "rejected"));
    let mut history = through_documents();
    history.push(rejected());
    given::<Claim>(&history)
        .when(settle())
        .then_error(transition("settle", "rejected"));
}

#[test]
fn an_open_claim_can_be_rejected_at_any_step() {
    for length in 1..=4 {
        let history = &through_documents()[..length];
        given::<Claim>(history).when(reject()).then(&[rejected()]);
    }
    let mut settled_history = through_documents();
    settled_history.push(settled());
    given::<Claim>(&settled_history)
        .when(reject())
        .then_error(transition("reject", "settled"));
}

#[test]
fn a_settled_claim_is_not_surveyed_again_without_a_reopen() {
    let mut history = through_documents();
    history.push(settled());
    given::<Claim>(&history)
        .when(survey())
        .then_error(transition("survey", "settled"));
    given::<Claim>(&history).when(reopen()).then(&[reopened()]);
    history.push(reopened());
    given::<Claim>(&history).when(survey()).then(&[surveyed()]);
    given::<Claim>(&history)
        .when(request_documents())
        .then(&[documents_requested()]);
    given::<Claim>(&history)
        .when(settle())
        .then_error(transition("settle", "reopened"));
}

#[test]
fn only_a_settled_or_rejected_claim_is_reopened() {
    given::<Claim>(&[reported(), rejected()])
        .when(reopen())
        .then(&[reopened()]);
    given::<Claim>(&[reported()])
        .when(reopen())
        .then_error(transition("reopen", "reported"));
    given::<Claim>(&[reported(), rejected(), reopened()])
        .when(reopen())
        .then_error(transition("reopen", "reopened"));
}

#[test]
fn documents_are_requested_all_at_once_after_the_survey() {
    given::<Claim>(&[reported()])
        .when(request_documents())
        .then_error(transition("request documents for", "reported"));
    given::<Claim>(&[reported(), surveyed(), documents_requested()])
        .when(request_documents())
        .then_error(transition("request documents for", "awaiting documents"));
    given::<Claim>(&[reported(), surveyed()])
        .when(complete_documents())
        .then_error(transition("complete the documents of", "surveyed"));
    let none = RequestClaimDocuments {
        documents: Vec::new(),
        ..request_documents()
    };
    given::<Claim>(&[reported(), surveyed()])
        .when(none)
        .then_invalid("documents");
}

// The claim's policy, from its own stream (module docs).

fn period(start: (i16, i8, i8), end: (i16, i8, i8)) -> PolicyPeriod {
    PolicyPeriod {
        start: jiff::civil::date(start.0, start.1, start.2),
        end: jiff::civil::date(end.0, end.1, end.2),
    }
}

/// A context in which the claim's policy was issued to `holder` for `periods`.
fn policy_context(holder: CustomerId, periods: Vec<PolicyPeriod>) -> FixedContext {
    FixedContext::at(samples::sample_time()).with_policy(
        samples::policy_number(),
        PolicyStanding::Issued(PolicyFacts {
            holder,
            periods,
            premium: None,
            sold_through: None,
        }),
    )
}

/// The loss of [`report`] (2024-03-15 08:50 Beijing) lies in this period.
fn covering() -> PolicyPeriod {
    period((2023, 3, 16), (2024, 3, 15))
}

#[test]
fn a_claim_is_reported_on_the_customers_policy_in_force_at_the_loss() {
    given::<Claim>(&[])
        .with_context(policy_context(customer(), vec![covering()]))
        .when(report())
        .then(&[reported()]);
    // Reported after a renewal, a loss of the earlier period is still that period's.
    let renewed = vec![covering(), period((2024, 3, 16), (2025, 3, 15))];
    given::<Claim>(&[])
        .with_context(policy_context(customer(), renewed))
        .when(report())
        .then(&[reported()]);
}

#[test]
fn a_claim_on_a_policy_never_issued_is_refused() {
    let context = |standing| {
        FixedContext::at(samples::sample_time()).with_policy(samples::policy_number(), standing)
    };
    given::<Claim>(&[])
        .with_context(context(PolicyStanding::Unknown))
        .when(report())
        .then_error(DomainError::NotFound {
            kind: "policy",
            id: samples::policy_number().to_string(),
        });
    // A quote, even the customer's own, covers nothing.
    given::<Claim>(&[])
        .with_context(context(PolicyStanding::Quoted { holder: customer() }))
        .when(report())
        .then_invalid("policyNumber");
}

#[test]
fn a_claim_on_another_customers_policy_is_refused() {
    let other = samples::corporate_customer_id();
    given::<Claim>(&[])
        .with_context(policy_context(other, vec![covering()]))
        .when(report())
        .then_invalid("policyNumber");
    // The policy's holder was merged into the claim's customer: it is theirs now.
    given::<Claim>(&[])
        .with_context(
            policy_context(other, vec![covering()])
                .with_standing(other, CustomerStanding::MergedInto(customer())),
        )
        .when(report())
        .then(&[reported()]);
    // The other way round, the claim names a duplicate merged into the holder: new business
    // goes to the survivor, as a contact does.
    given::<Claim>(&[])
        .with_context(
            policy_context(other, vec![covering()])
                .with_standing(customer(), CustomerStanding::MergedInto(other)),
        )
        .when(report())
        .then_error(DomainError::CustomerMerged {
            customer: customer().to_string(),
            survivor: other.to_string(),
        });
    // Nor for a customer never registered, or erased.
    for (standing, error) in [
        (
            CustomerStanding::Unknown,
            DomainError::NotFound {
                kind: "customer",
                id: customer().to_string(),
            },
        ),
        (
            CustomerStanding::Erased,
            DomainError::CustomerErased {
                customer: customer().to_string(),
            },
        ),
    ] {
        given::<Claim>(&[])
            .with_context(
                policy_context(customer(), vec![covering()]).with_standing(customer(), standing),
            )
            .when(report())
            .then_error(error);
    }
}

#[test]
fn a_loss_outside_the_policys_periods_is_refused() {
    // Issued later: the loss (2024-03-15 Beijing) is the day before the period starts.
    given::<Claim>(&[])
        .with_context(policy_context(
            customer(),
            vec![period((2024, 3, 16), (2025, 3, 15))],
        ))
        .when(report())
        .then_invalid("lossOccurredAt");
    // Ended the day before the loss.
    given::<Claim>(&[])
        .with_context(policy_context(
            customer(),
            vec![period((2023, 3, 15), (2024, 3, 14))],
        ))
        .when(report())
        .then_invalid("lossOccurredAt");
    // The Beijing day counts, not the UTC one: the period's last second is 15:59:59 UTC...
    let last_second = samples::timestamp("2024-03-15T15:59:59Z");
    given::<Claim>(&[])
        .with_context(policy_context(customer(), vec![covering()]))
        .at(samples::timestamp("2024-03-16T00:00:00Z"))
        .when(ReportClaim {
            loss_occurred_at: last_second,
            ..report()
        })
        .then(&[ClaimReported {
            loss_occurred_at: last_second,
            ..reported_payload()
        }
        .into()]);
    // ...and a second later it is 16 March in Beijing, though still 15 March in UTC.
    let after_midnight = ReportClaim {
        loss_occurred_at: samples::timestamp("2024-03-15T16:00:00Z"),
        ..report()
    };
    given::<Claim>(&[])
        .with_context(policy_context(customer(), vec![covering()]))
        .at(samples::timestamp("2024-03-16T00:00:00Z"))
        .when(after_midnight)
        .then_invalid("lossOccurredAt");
}

#[test]
fn a_claim_number_another_customer_holds_as_an_identifier_is_not_reported_for_this_one() {
    use crate::aggregates::FixedContext;
    use crate::values::{Identifier, IdentifierKind};
    let claim = Identifier::parse("value", IdentifierKind::ClaimNumber, number().as_str()).unwrap();
    let other = samples::corporate_customer_id();
    given::<Claim>(&[])
        .with_context(FixedContext::at(samples::sample_time()).with_owner(claim.clone(), other))
        .when(report())
        .then_error(DomainError::IdentifierOwned {
            identifier: claim.to_string(),
            owner: other.to_string(),
        });
}

#[test]
fn a_policy_cancelled_on_its_first_day_is_said_to_cover_no_day() {
    let error = given::<Claim>(&[])
        .with_context(policy_context(customer(), Vec::new()))
        .when(report())
        .error();
    let DomainError::Validation(error) = error else {
        panic!("expected a validation error, got {error:?}");
    };
    assert_eq!(error.field, "lossOccurredAt");
    assert!(
        error
            .rule
            .ends_with(" was cancelled from its first day and covers no day"),
        "{error}"
    );
    assert!(!error.rule.contains("covers ,"), "{error}");
}

/// A context in which the claim's customer was erased.
fn erased() -> FixedContext {
    FixedContext::at(samples::sample_time()).with_standing(customer(), CustomerStanding::Erased)
}

/// `text`'s erased value: what a command carries when the text was left out.
fn left_out<T: crate::personal::Erase>(mut text: T) -> T {
    text.erase();
    text
}

#[test]
fn an_erased_customers_claim_is_finished_with_its_texts_left_out() {
    let survey_blank = SurveyClaim {
        findings: left_out(text("x")),
        ..survey()
    };
    let surveyed_blank = ClaimSurveyed {
        claim_number: number(),
        customer_id: customer(),
        surveyor: staff("surveyor-0011"),
        on_site: false,
        assessed_loss: Money::from_fen(265_000),
        findings: left_out(text("x")),
    };
    given::<Claim>(&[reported()])
        .with_context(erased())
        .when(survey_blank.clone())
        .then(&[surveyed_blank.clone().into()]);
    // Documents carry nothing personal.
    given::<Claim>(&[reported(), surveyed_blank.into()])
        .with_context(erased())
        .when(request_documents())
        .then(&[documents_requested()]);
    given::<Claim>(&[reported(), surveyed(), documents_requested()])
        .with_context(erased())
        .when(complete_documents())
        .then(&[documents_completed()]);
    let blank_payee = Payee {
        kind: PayeeKind::RepairShop,
        name: left_out(name("x")),
    };
    given::<Claim>(&through_documents())
        .with_context(erased())
        .when(SettleClaim {
            payee: blank_payee.clone(),
            ..settle()
        })
        .then(&[ClaimSettled {
            claim_number: number(),
            customer_id: customer(),
            amount: Money::from_fen(265_000),
            payee: blank_payee,
            direct_payment: true,
        }
        .into()]);
    given::<Claim>(&[reported()])
        .with_context(erased())
        .when(RejectClaim {
            explanation: left_out(text("x")),
            ..reject()
        })
        .then(&[ClaimRejected {
            claim_number: number(),
            customer_id: customer(),
            reason: ClaimRejectionReason::NotCovered,
            explanation: left_out(text("x")),
        }
        .into()]);
}

#[test]
fn an_erased_customers_claim_takes_no_text_and_a_live_ones_needs_it() {
    // Sent for an erased customer, the text is refused by name.
    let error = given::<Claim>(&[reported()])
        .with_context(erased())
        .when(survey())
        .error();
    assert_eq!(
        error.to_string(),
        format!(
            "findings: customer {} was erased: no text can be recorded; send surveyClaim without \
             findings",
            customer()
        )
    );
    given::<Claim>(&through_documents())
        .with_context(erased())
        .when(settle())
        .then_invalid("payee.name");
    given::<Claim>(&[reported()])
        .with_context(erased())
        .when(reject())
        .then_invalid("explanation");
    // Left out for a live customer, it is refused too: an empty text reads as erased.
    given::<Claim>(&[reported()])
        .when(SurveyClaim {
            findings: left_out(text("x")),
            ..survey()
        })
        .then_invalid("findings");
    given::<Claim>(&[reported()])
        .when(RejectClaim {
            explanation: left_out(text("x")),
            ..reject()
        })
        .then_invalid("explanation");
    given::<Claim>(&through_documents())
        .when(SettleClaim {
            payee: Payee {
                kind: PayeeKind::Insured,
                name: left_out(name("x")),
            },
            ..settle()
        })
        .then_invalid("payee.name");
    // Nothing is started again for an erased customer.
    given::<Claim>(&[reported(), rejected()])
        .with_context(erased())
        .when(reopen())
        .then_error(DomainError::CustomerErased {
            customer: customer().to_string(),
        });
}

#[test]
fn an_amount_above_the_named_maximum_is_refused_by_name() {
    let over = Money::from_fen(Money::AMOUNT_FEN_MAX + 1);
    let error = given::<Claim>(&through_documents())
        .when(SettleClaim {
            amount: over,
            ..settle()
        })
        .error();
    assert_eq!(
        error.to_string(),
        "amount: an amount in fen is at most 1000000000000 (¥10,000,000,000: AMOUNT_FEN_MAX)"
    );
    given::<Claim>(&through_documents())
        .when(SettleClaim {
            amount: Money::from_fen(i64::MAX),
            ..settle()
        })
        .then_invalid("amount");
    given::<Claim>(&[reported()])
        .when(SurveyClaim {
            assessed_loss: over,
            ..survey()
        })
        .then_invalid("assessedLoss");
    // The maximum itself is an amount like any other.
    let at_max = Money::from_fen(Money::AMOUNT_FEN_MAX);
    given::<Claim>(&through_documents())
        .when(SettleClaim {
            amount: at_max,
            ..settle()
        })
        .then(&[ClaimSettled {
            amount: at_max,
            payee: settle().payee,
            claim_number: number(),
            customer_id: customer(),
            direct_payment: true,
        }
        .into()]);
}
