//! Given / when / then tests of the policy aggregate.

use jiff::civil::date;

use super::*;
use crate::aggregates::fold;
use crate::aggregates::testing::given;
use crate::kinds::{CancellationReason, ProductLine};
use crate::samples::{self, text};
use crate::values::Channel;

fn number() -> PolicyNumber {
    samples::policy_number()
}

fn customer() -> CustomerId {
    samples::individual_customer_id()
}

fn lines() -> Vec<ProductLine> {
    vec![
        ProductLine::CompulsoryTraffic,
        ProductLine::CommercialVehicleDamage,
    ]
}

const PREMIUM: Money = Money::from_fen(486_000);

fn quote() -> QuotePolicy {
    QuotePolicy {
        policy_number: number(),
        customer_id: customer(),
        product_lines: lines(),
        plate: samples::plate(),
        vin: samples::vin(),
        premium: PREMIUM,
        period_start: date(2024, 3, 16),
        period_end: date(2025, 3, 15),
        sales_channel: Channel::Phone,
        campaign_id: None,
        valid_until: date(2024, 3, 31),
    }
}

fn quoted() -> Event {
    quoted_payload().into()
}

fn quoted_payload() -> PolicyQuoted {
    PolicyQuoted {
        policy_number: number(),
        customer_id: customer(),
        product_lines: lines(),
        plate: samples::plate(),
        vin: samples::vin(),
        premium: PREMIUM,
        period_start: date(2024, 3, 16),
        period_end: date(2025, 3, 15),
        sales_channel: Channel::Phone,
        campaign_id: None,
        valid_until: date(2024, 3, 31),
    }
}

fn issue() -> IssuePolicy {
    IssuePolicy {
        policy_number: number(),
        customer_id: customer(),
        product_lines: lines(),
        plate: samples::plate(),
        vin: samples::vin(),
        premium: PREMIUM,
        period_start: date(2024, 3, 16),
        period_end: date(2025, 3, 15),
        sales_channel: Channel::Phone,
        campaign_id: None,
    }
}

fn issued() -> Event {
    issued_payload().into()
}

fn issued_payload() -> PolicyIssued {
    PolicyIssued {
        policy_number: number(),
        customer_id: customer(),
        product_lines: lines(),
        plate: samples::plate(),
        vin: samples::vin(),
        premium: PREMIUM,
        period_start: date(2024, 3, 16),
        period_end: date(2025, 3, 15),
        sales_channel: Channel::Phone,
        campaign_id: None,
    }
}

fn renew() -> RenewPolicy {
    RenewPolicy {
        policy_number: number(),
        product_lines: lines(),
        premium: Money::from_fen(451_200),
        period_start: date(2025, 3, 16),
        period_end: date(2026, 3, 15),
        sales_channel: Channel::WeChat,
        campaign_id: None,
    }
}

fn renewed() -> Event {
    PolicyRenewed {
        policy_number: number(),
        customer_id: customer(),
        product_lines: lines(),
        premium: Money::from_fen(451_200),
        previous_premium: PREMIUM,
        period_start: date(2025, 3, 16),
        period_end: date(2026, 3, 15),
        sales_channel: Channel::WeChat,
        campaign_id: None,
    }
    .into()
}

fn lapse() -> LapsePolicy {
    LapsePolicy {
        policy_number: number(),
        lapsed_on: date(2025, 3, 16),
    }
}

fn lapsed() -> Event {
    PolicyLapsed {
        policy_number: number(),
        customer_id: customer(),
        lapsed_on: date(2025, 3, 16),
    }
    .into()
}

fn cancel(refund: Money) -> CancelPolicy {
    CancelPolicy {
        policy_number: number(),
        cancelled_on: date(2024, 9, 1),
        reason: CancellationReason::VehicleSold,
        refund,
    }
}

fn cancelled() -> Event {
    PolicyCancelled {
        policy_number: number(),
        customer_id: customer(),
        cancelled_on: date(2024, 9, 1),
        reason: CancellationReason::VehicleSold,
        refund: Money::from_fen(200_000),
    }
    .into()
}

fn transition(action: &'static str, state: &str) -> DomainError {
    DomainError::InvalidTransition {
        kind: "policy",
        id: number().to_string(),
        action,
        state: state.to_owned(),
    }
}

fn already_exists() -> DomainError {
    DomainError::AlreadyExists {
        kind: "policy",
        id: number().to_string(),
    }
}

#[test]
fn a_quote_is_the_first_event_of_a_policy() {
    given::<Policy>(&[]).when(quote()).then(&[quoted()]);
    given::<Policy>(&[quoted()])
        .when(quote())
        .then_error(already_exists());
    given::<Policy>(&[issued()])
        .when(quote())
        .then_error(already_exists());
}

#[test]
fn a_policy_is_issued_once_quoted_or_not() {
    given::<Policy>(&[]).when(issue()).then(&[issued()]);
    let policy = given::<Policy>(&[quoted()]).when(issue()).then(&[issued()]);
    assert_eq!(policy.status(), Some(PolicyStatus::InForce));
    given::<Policy>(&[issued()])
        .when(issue())
        .then_error(already_exists());
    given::<Policy>(&[issued(), cancelled()])
        .when(issue())
        .then_error(already_exists());
}

#[test]
fn a_policy_must_have_terms_that_make_sense() {
    let mut command = issue();
    command.product_lines = Vec::new();
    given::<Policy>(&[])
        .when(command)
        .then_invalid("productLines");
    let mut command = issue();
    command.period_end = date(2024, 1, 1);
    given::<Policy>(&[]).when(command).then_invalid("periodEnd");
    let mut command = issue();
    command.premium = Money::from_fen(-1);
    given::<Policy>(&[]).when(command).then_invalid("premium");
}

#[test]
fn only_an_issued_policy_that_was_not_cancelled_is_renewed() {
    let policy = given::<Policy>(&[issued()])
        .when(renew())
        .then(&[renewed()]);
    assert_eq!(policy.premium(), Some(Money::from_fen(451_200)));
    given::<Policy>(&[issued(), lapsed()])
        .when(renew())
        .then(&[renewed()]);
    given::<Policy>(&[issued(), cancelled()])
        .when(renew())
        .then_error(transition("renew", "cancelled"));
    given::<Policy>(&[quoted()])
        .when(renew())
        .then_error(transition("renew", "quoted"));
    given::<Policy>(&[])
        .when(renew())
        .then_error(DomainError::NotFound {
            kind: "policy",
            id: number().to_string(),
        });
}

#[test]
fn a_renewal_starts_after_the_current_period() {
    let mut command = renew();
    command.period_start = date(2025, 3, 15);
    given::<Policy>(&[issued()])
        .when(command)
        .then_invalid("periodStart");
}

#[test]
fn an_endorsement_adjusts_the_premium_of_a_policy_in_force() {
    let endorse = EndorsePolicy {
        policy_number: number(),
        effective_on: date(2024, 6, 1),
        description: text("变更车牌"),
        plate: Some(samples::plate()),
        product_lines: None,
        premium_change: Money::from_fen(-6_000),
    };
    given::<Policy>(&[issued()])
        .when(endorse.clone())
        .then(&[PolicyEndorsed {
            policy_number: number(),
            customer_id: customer(),
            effective_on: date(2024, 6, 1),
            description: text("变更车牌"),
            plate: Some(samples::plate()),
            product_lines: None,
            premium_change: Money::from_fen(-6_000),
            premium: Money::from_fen(480_000),
        }
        .into()]);
    let too_much = EndorsePolicy {
        premium_change: Money::from_fen(-486_001),
        ..endorse.clone()
    };
    given::<Policy>(&[issued()])
        .when(too_much)
        .then_invalid("premiumChange");
    let outside = EndorsePolicy {
        effective_on: date(2025, 6, 1),
        ..endorse.clone()
    };
    given::<Policy>(&[issued()])
        .when(outside)
        .then_invalid("effectiveOn");
    given::<Policy>(&[issued(), lapsed()])
        .when(endorse)
        .then_error(transition("endorse", "lapsed"));
}

#[test]
fn only_a_policy_in_force_lapses() {
    let policy = given::<Policy>(&[issued()]).when(lapse()).then(&[lapsed()]);
    assert_eq!(policy.status(), Some(PolicyStatus::Lapsed));
    given::<Policy>(&[issued(), lapsed()])
        .when(lapse())
        .then_error(transition("lapse", "lapsed"));
    given::<Policy>(&[issued(), cancelled()])
        .when(lapse())
        .then_error(transition("lapse", "cancelled"));
    given::<Policy>(&[quoted()])
        .when(lapse())
        .then_error(transition("lapse", "quoted"));
    let early = LapsePolicy {
        lapsed_on: date(2025, 3, 15),
        ..lapse()
    };
    given::<Policy>(&[issued()])
        .when(early)
        .then_invalid("lapsedOn");
}

#[test]
fn only_a_policy_in_force_is_cancelled_and_the_refund_is_bounded() {
    given::<Policy>(&[issued()])
        .when(cancel(Money::from_fen(200_000)))
        .then(&[cancelled()]);
    given::<Policy>(&[issued(), cancelled()])
        .when(cancel(Money::ZERO))
        .then_error(transition("cancel", "cancelled"));
    given::<Policy>(&[issued(), lapsed()])
        .when(cancel(Money::ZERO))
        .then_error(transition("cancel", "lapsed"));
    given::<Policy>(&[issued()])
        .when(cancel(Money::from_fen(486_001)))
        .then_invalid("refund");
    given::<Policy>(&[issued()])
        .when(cancel(Money::from_fen(-1)))
        .then_invalid("refund");
}

#[test]
fn a_renewed_lapsed_policy_is_in_force_again() {
    let policy: Policy = crate::aggregates::fold(&[issued(), lapsed(), renewed()]);
    assert_eq!(policy.status(), Some(PolicyStatus::InForce));
    assert_eq!(policy.customer_id(), Some(customer()));
}

#[test]
fn a_policy_stands_as_quoted_until_issued_and_then_with_every_period_it_covered() {
    assert_eq!(fold::<Policy>(&[]).standing(), PolicyStanding::Unknown);
    assert_eq!(
        fold::<Policy>(&[quoted()]).standing(),
        PolicyStanding::Quoted { holder: customer() },
        "a quote covers nothing"
    );
    let first = PolicyPeriod {
        start: date(2024, 3, 16),
        end: date(2025, 3, 15),
    };
    assert_eq!(
        fold::<Policy>(&[quoted(), issued()]).standing(),
        PolicyStanding::Issued(PolicyFacts {
            holder: customer(),
            periods: vec![first],
            premium: fold::<Policy>(&[issued()]).premium(),
            sold_through: None,
        })
    );
    let renewed_policy = fold::<Policy>(&[issued(), renewed()]);
    let PolicyStanding::Issued(facts) = renewed_policy.standing() else {
        panic!("a renewed policy is issued");
    };
    let second = PolicyPeriod {
        start: date(2025, 3, 16),
        end: date(2026, 3, 15),
    };
    assert_eq!(facts.periods, vec![first, second]);
}

#[test]
fn a_period_covers_its_first_and_last_beijing_day_whole() {
    let period = PolicyPeriod {
        start: date(2024, 3, 16),
        end: date(2025, 3, 15),
    };
    // 0:00 on the first day in Beijing is 16:00 UTC the day before.
    assert!(!period.covers(samples::timestamp("2024-03-15T15:59:59Z")));
    assert!(period.covers(samples::timestamp("2024-03-15T16:00:00Z")));
    // 24:00 on the last day.
    assert!(period.covers(samples::timestamp("2025-03-15T15:59:59Z")));
    assert!(!period.covers(samples::timestamp("2025-03-15T16:00:00Z")));
}

#[test]
fn a_policy_is_written_for_a_premium_and_at_most_a_year() {
    let mut free = issue();
    free.premium = Money::from_fen(0);
    given::<Policy>(&[]).when(free).then_invalid("premium");
    // A digit too many: one vehicle's cover is not a quadrillion yuan.
    let mut typo = issue();
    typo.premium = Money::from_fen(POLICY_PREMIUM_FEN_MAX + 1);
    given::<Policy>(&[]).when(typo).then_invalid("premium");
    let mut top = issue();
    top.premium = Money::from_fen(POLICY_PREMIUM_FEN_MAX);
    given::<Policy>(&[]).when(top.clone()).then(&[PolicyIssued {
        premium: Money::from_fen(POLICY_PREMIUM_FEN_MAX),
        ..issued_payload()
    }
    .into()]);
    let mut ten_years = issue();
    ten_years.period_end = ten_years
        .period_start
        .checked_add(jiff::Span::new().years(10))
        .unwrap();
    given::<Policy>(&[])
        .when(ten_years)
        .then_invalid("periodEnd");
    // A leap year's 366 days is a year.
    let mut leap = issue();
    leap.period_start = jiff::civil::date(2024, 1, 1);
    leap.period_end = jiff::civil::date(2024, 12, 31);
    let decided = Policy::default().handle(
        &leap.into(),
        &crate::aggregates::FixedContext::at(samples::sample_time()),
    );
    assert!(
        decided.as_ref().is_ok_and(|events| events.len() == 1),
        "{decided:?}"
    );
}

#[test]
fn a_cancellation_takes_effect_within_the_cover_and_ends_it() {
    // Issued 2024-03-16 to 2025-03-15: a cancellation dated before that cancels nothing.
    let mut early = cancel(Money::from_fen(0));
    early.cancelled_on = date(2023, 6, 1);
    given::<Policy>(&[issued()])
        .when(early)
        .then_invalid("cancelledOn");
    // Cancelled from 2024-09-01: covered up to 2024-08-31 and not after.
    let PolicyStanding::Issued(facts) = fold::<Policy>(&[issued(), cancelled()]).standing() else {
        panic!("a cancelled policy was issued");
    };
    assert_eq!(
        facts.periods,
        vec![PolicyPeriod {
            start: date(2024, 3, 16),
            end: date(2024, 8, 31),
        }]
    );
    // Renewed ahead of time, then cancelled within the first period: the renewal never begins.
    let PolicyStanding::Issued(facts) =
        fold::<Policy>(&[issued(), renewed(), cancelled()]).standing()
    else {
        panic!("a cancelled policy was issued");
    };
    assert_eq!(facts.periods.len(), 1);
    assert_eq!(facts.periods[0].end, date(2024, 8, 31));
}

#[test]
fn a_policy_of_an_erased_customer_is_not_renewed() {
    given::<Policy>(&[issued()])
        .with_context(
            crate::aggregates::FixedContext::at(samples::sample_time())
                .with_standing(customer(), crate::aggregates::CustomerStanding::Erased),
        )
        .when(renew())
        .then_error(DomainError::CustomerErased {
            customer: customer().to_string(),
        });
}

#[test]
fn a_policy_number_another_customer_holds_as_an_identifier_is_not_quoted_or_issued_to_this_one() {
    use crate::aggregates::{CustomerStanding, FixedContext};
    use crate::values::{Identifier, IdentifierKind};
    let number = Identifier::parse(
        "value",
        IdentifierKind::PolicyNumber,
        samples::policy_number().as_str(),
    )
    .unwrap();
    let other = samples::corporate_customer_id();
    let held_by =
        |owner| FixedContext::at(samples::sample_time()).with_owner(number.clone(), owner);
    let owned = DomainError::IdentifierOwned {
        identifier: number.to_string(),
        owner: other.to_string(),
    };
    given::<Policy>(&[])
        .with_context(held_by(other))
        .when(quote())
        .then_error(owned.clone());
    given::<Policy>(&[])
        .with_context(held_by(other))
        .when(issue())
        .then_error(owned);
    // The holder's own number, or one a customer merged with the holder registered, is fine.
    given::<Policy>(&[])
        .with_context(held_by(customer()))
        .when(issue())
        .then(&[issued()]);
    given::<Policy>(&[])
        .with_context(held_by(other).with_standing(other, CustomerStanding::MergedInto(customer())))
        .when(issue())
        .then(&[issued()]);
}

#[test]
fn a_quote_is_valid_until_today_or_a_later_beijing_day() {
    // 2024-03-15T01:30Z is 09:30 on the 15th in Beijing.
    let mut command = quote();
    command.valid_until = date(2024, 3, 14);
    let error = given::<Policy>(&[]).when(command.clone()).error();
    let DomainError::Validation(error) = error else {
        panic!("expected a validation error, got {error:?}");
    };
    assert_eq!(error.field, "validUntil");
    assert!(error.rule.contains("2024-03-15"), "{error}");
    // Valid until the end of today is fine; a quote given just after Beijing midnight is already
    // on the next day.
    command.valid_until = date(2024, 3, 15);
    given::<Policy>(&[])
        .when(command.clone())
        .then(&[PolicyQuoted {
            valid_until: date(2024, 3, 15),
            ..quoted_payload()
        }
        .into()]);
    given::<Policy>(&[])
        .at(samples::timestamp("2024-03-15T16:00:00Z"))
        .when(command)
        .then_invalid("validUntil");
}

#[test]
fn a_quote_is_issued_to_the_customer_it_was_quoted_to_or_one_merged_with_it() {
    use crate::aggregates::{CustomerStanding, FixedContext};
    let other = samples::corporate_customer_id();
    let mut command = issue();
    command.customer_id = other;
    let error = given::<Policy>(&[quoted()]).when(command.clone()).error();
    let DomainError::Validation(error) = error else {
        panic!("expected a validation error, got {error:?}");
    };
    assert_eq!(error.field, "customerId");
    assert!(
        error.rule.contains(&customer().to_string()) && error.rule.contains(&other.to_string()),
        "names both customers: {error}"
    );
    // The quoted customer was merged into `other` since: the survivor takes the quote up.
    let merged = FixedContext::at(samples::sample_time())
        .with_standing(customer(), CustomerStanding::MergedInto(other));
    given::<Policy>(&[quoted()])
        .with_context(merged)
        .when(command)
        .then(&[PolicyIssued {
            customer_id: other,
            ..issued_payload()
        }
        .into()]);
}

#[test]
fn a_quote_past_its_valid_until_day_is_not_issued() {
    // The quote is valid until 2024-03-31: the whole of that Beijing day, and not after.
    given::<Policy>(&[quoted()])
        .at(samples::timestamp("2024-03-31T15:59:59Z"))
        .when(issue())
        .then(&[issued()]);
    let error = given::<Policy>(&[quoted()])
        .at(samples::timestamp("2024-03-31T16:00:00Z"))
        .when(issue())
        .error();
    let DomainError::Validation(error) = error else {
        panic!("expected a validation error, got {error:?}");
    };
    assert_eq!(error.field, "policyNumber");
    assert!(
        error.rule.contains("validUntil was 2024-03-31") && error.rule.contains("quote it again"),
        "{error}"
    );
}
