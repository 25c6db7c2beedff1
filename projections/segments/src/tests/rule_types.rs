//! Loading type-checks every comparison in a rule: a comparison that can never hold (a
//! variable against a value of another type, an ordered boolean or null, a channel that does
//! not exist, a value outside a variable's bounds) is refused naming the segment, the
//! comparison, the variable and its type, and what would be accepted; well-typed comparisons
//! load and select what they did before.

use super::book::{AS_OF, book};
use super::*;
use crate::{MEMBERS_PAGE_MAX, RuleError, SegmentRules, SegmentSnapshot, evaluate};

/// A file of one segment, `name`, whose rule is `rule` (a literal string on line 4, from
/// column 9).
fn file_with(name: &str, rule: &str) -> String {
    format!("[[segment]]\nname = \"{name}\"\ndescription = \"d\"\nrule = '{rule}'\n")
}

fn refused(rule: &str) -> RuleError {
    match SegmentRules::from_toml("bad.toml", &file_with("typed", rule)) {
        Ok(_) => panic!("`{rule}` loaded"),
        Err(error) => {
            assert_eq!(error.segment.as_deref(), Some("typed"), "{error}");
            error
        }
    }
}

fn loads(rule: &str) {
    if let Err(error) = SegmentRules::from_toml("good.toml", &file_with("typed", rule)) {
        panic!("`{rule}` was refused: {error}");
    }
}

fn assert_mentions(error: &RuleError, parts: &[&str]) {
    for part in parts {
        assert!(error.message.contains(part), "no {part:?} in: {error}");
    }
}

#[test]
fn a_boolean_compared_with_a_string_is_refused_naming_what_would_be_accepted() {
    let error = refused(r#"corporate == "yes""#);
    assert_eq!((error.line, error.column), (4, 9));
    assert_eq!(
        error.message,
        "`corporate == \"yes\"` compares `corporate` (a bool) with a string, so it is never \
         true; compare `corporate` with a bool: e.g. `corporate == true`"
    );
    assert_eq!(
        error.to_string(),
        format!("bad.toml:4:9: segment `typed`: {}", error.message)
    );
    // The literal on the left, or a number, or `!=` (then always true): the same refusal.
    assert_mentions(
        &refused("1 == corporate"),
        &[
            "`1 == corporate`",
            "`corporate` (a bool) with an int",
            "never true",
        ],
    );
    assert_mentions(
        &refused(r#"group != "no""#),
        &[
            "(a bool) with a string, so it is always true",
            "`group != false`",
        ],
    );
    // Inside other operators, the position is the comparison's.
    let error = refused(r#"policies_active > 0 && !(corporate == "no")"#);
    assert_eq!((error.line, error.column), (4, 34));
    assert_mentions(
        &error,
        &["`corporate == \"no\"`", "e.g. `corporate == false`"],
    );
}

#[test]
fn a_number_compared_with_a_string_or_a_boolean_is_refused() {
    assert_mentions(
        &refused(r#"premium_in_force_fen == "100000""#),
        &[
            "`premium_in_force_fen` (an int) with a string",
            "compare `premium_in_force_fen` with a number: e.g. `premium_in_force_fen == 100000`",
        ],
    );
    assert_mentions(
        &refused(r#"last_csat != null && last_csat == "3""#),
        &[
            "`last_csat` (an int or null) with a string",
            "`last_csat == 3`",
        ],
    );
    assert_mentions(
        &refused("loss_ratio != null && loss_ratio == true"),
        &["`loss_ratio` (a double or null) with a bool"],
    );
    assert_mentions(
        &refused("contacts_90d.PHONE == \"2\""),
        &["`contacts_90d.PHONE` (an int) with a string"],
    );
    assert_mentions(
        &refused("corporate == policies_active"),
        &["`corporate` (a bool) with `policies_active` (an int)"],
    );
    assert_mentions(
        &refused("contacts_90d == 1"),
        &[
            "`contacts_90d` (a map(string, int))",
            "`contacts_90d.PHONE > 0`",
        ],
    );
    assert_mentions(
        &refused("type(loss_ratio) == \"double\""),
        &["`type(loss_ratio) == \"double\"` compares a type with a string"],
    );
}

#[test]
fn ordering_a_boolean_null_or_a_string_against_a_number_is_refused() {
    assert_mentions(
        &refused("corporate > false"),
        &[
            "`corporate > false` orders `corporate` (a bool)",
            "true and false have no order",
            "`corporate`, or `!corporate` for false",
        ],
    );
    assert_mentions(
        &refused("in_key_accounts >= true"),
        &["orders `in_key_accounts` (a bool)"],
    );
    assert_mentions(
        &refused(r#"premium_in_force_fen > "100000""#),
        &[
            "orders `premium_in_force_fen` (an int) against a string",
            "e.g. `premium_in_force_fen > 100000`",
        ],
    );
    assert_mentions(
        &refused("last_csat <= null"),
        &["orders null", "`last_csat != null && last_csat <= 3`"],
    );
    assert_mentions(&refused("contacts_90d > 1"), &["which has no order"]);
}

#[test]
fn null_compared_with_a_variable_that_is_never_null_is_refused() {
    let error = refused("policies_active == null");
    assert_mentions(
        &error,
        &[
            "`policies_active == null` is never true",
            "`policies_active` (an int) is never null",
            "only days_to_next_renewal, loss_ratio, last_csat, last_nps, days_since_last_contact",
        ],
    );
    assert_mentions(&refused("corporate != null"), &["is always true"]);
    // A variable documented "or null" is compared with null as before.
    loads("days_since_last_contact == null || days_since_last_contact > 365");
}

#[test]
fn a_channel_that_does_not_exist_is_refused_naming_the_channels() {
    let channels = "its keys are the channels PHONE, WEB, WECHAT, SELF_SERVICE_TERMINAL, \
                    WALK_IN, EMAIL, FAX, POST, APP";
    for (rule, written) in [
        ("contacts_90d.TELEGRAM > 0", "`contacts_90d.TELEGRAM`"),
        (
            r#"contacts_90d["TELEGRAM"] > 0"#,
            "`contacts_90d[\"TELEGRAM\"]`",
        ),
        (
            r#""TELEGRAM" in contacts_90d"#,
            "`\"TELEGRAM\" in contacts_90d`",
        ),
        ("has(contacts_90d.TELEGRAM)", "`contacts_90d.TELEGRAM`"),
    ] {
        let error = refused(rule);
        assert_mentions(&error, &[written, "`TELEGRAM` is not a channel", channels]);
        // No hint about nulls: the channel is the mistake.
        assert!(!error.message.contains("null"), "{error}");
    }
    assert_mentions(
        &refused("contacts_90d.Phone >= 1"),
        &["`Phone` is not a channel", "did you mean `PHONE`?"],
    );
    assert_mentions(
        &refused("contacts_90d[2] > 0"),
        &[
            "the keys of `contacts_90d` are channels",
            "this key is an int",
        ],
    );
    assert_mentions(
        &refused("corporate.PHONE"),
        &["`corporate` is a bool, which has no fields"],
    );
}

#[test]
fn a_value_outside_a_variable_s_bounds_is_refused_naming_the_values() {
    let error = refused("last_csat != null && last_csat == 6");
    assert_eq!((error.line, error.column), (4, 30));
    assert_eq!(
        error.message,
        "`last_csat == 6` is never true: `last_csat` is one of 1, 2, 3, 4, 5 (or null)"
    );
    assert_mentions(
        &refused("rfm_recency != 0"),
        &["is always true", "`rfm_recency` is one of 1, 2, 3, 4, 5"],
    );
    assert_mentions(&refused("rfm_monetary == 4.5"), &["is never true"]);
    assert_mentions(
        &refused("last_nps != null && last_nps > 10"),
        &["`last_nps` is one of 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10"],
    );
    assert_mentions(
        &refused("product_lines > 14"),
        &["`product_lines` is 0 to 14"],
    );
    assert_mentions(
        &refused("policies_active < 0"),
        &["`policies_active` is 0 or more"],
    );
    assert_mentions(
        &refused("0 > complaints_180d"),
        &["`0 > complaints_180d` is never true", "0 or more"],
    );
    // The bounds themselves are fine.
    loads("rfm_recency >= 5 && rfm_frequency <= 1 && product_lines >= 14 && policies_active >= 0");
}

#[test]
fn days_and_amounts_outside_what_the_metrics_compute_are_refused() {
    // A renewal is due the day after its period's last day, and the period is in force on
    // the as-of day: at least a day ahead, or null.
    let error = refused("days_to_next_renewal != null && days_to_next_renewal < -5");
    assert_eq!((error.line, error.column), (4, 41));
    assert_eq!(
        error.message,
        "`days_to_next_renewal < -5` is never true: `days_to_next_renewal` is 1 or more (or null)"
    );
    assert_mentions(
        &refused("days_to_next_renewal != null && days_to_next_renewal == 0"),
        &[
            "is never true",
            "`days_to_next_renewal` is 1 or more (or null)",
        ],
    );
    assert_mentions(
        &refused("days_since_last_contact != null && days_since_last_contact < 0"),
        &["`days_since_last_contact` is 0 or more (or null)"],
    );
    assert_mentions(
        &refused("days_since_registered <= -1"),
        &["`days_since_registered` is 0 or more"],
    );
    assert_mentions(
        &refused("premium_in_force_fen < 0"),
        &["`premium_in_force_fen` is 0 or more"],
    );
    assert_mentions(
        &refused("0 > claims_paid_12m_fen"),
        &["`0 > claims_paid_12m_fen` is never true", "0 or more"],
    );
    // A ratio of amounts that are never negative: compared as a double, fractions and all.
    let error = refused("loss_ratio != null && loss_ratio < -0.5");
    assert_eq!(
        error.message,
        "`loss_ratio < -0.5` is never true: `loss_ratio` is 0 or more (or null)"
    );
    assert_mentions(
        &refused("loss_ratio != null && loss_ratio <= -1"),
        &["is never true", "`loss_ratio` is 0 or more (or null)"],
    );
    assert_mentions(
        &refused("loss_ratio != -0.25"),
        &["is always true", "`loss_ratio` is 0 or more (or null)"],
    );
    for rule in [
        "loss_ratio == 0.75",
        "loss_ratio <= 0.0",
        "loss_ratio > 1.5",
    ] {
        loads(&format!("loss_ratio != null && {rule}"));
    }
    // The bounds themselves are fine.
    loads(
        "days_to_next_renewal != null && days_to_next_renewal <= 1 \
         && days_since_last_contact != null && days_since_last_contact == 0 \
         && days_since_registered >= 0 && premium_in_force_fen == 0 && claims_paid_12m_fen <= 0",
    );
}

#[test]
fn each_element_of_a_list_tested_with_in_is_checked() {
    let error = refused("last_csat != null && last_csat in [4, 6]");
    // At the element.
    assert_eq!((error.line, error.column), (4, 47));
    assert_mentions(
        &error,
        &["`last_csat in [4, 6]`, for its element `6`, is never true"],
    );
    assert_mentions(
        &refused(r#"corporate in ["yes"]"#),
        &["`corporate` (a bool) with a string", "`corporate == true`"],
    );
    assert_mentions(
        &refused("1 in policies_active"),
        &[
            "`in` looks in a list or a map",
            "`policies_active` (an int)",
        ],
    );
}

#[test]
fn a_rule_failing_for_the_customer_with_every_metric_gets_no_hint_about_nulls() {
    let error = refused("int(corporate) == 1");
    assert_mentions(
        &error,
        &["the rule fails for a customer with every metric present"],
    );
    assert!(!error.message.contains("null"), "{error}");
}

#[test]
fn well_typed_comparisons_load() {
    for rule in [
        "corporate == true",
        "group != false && !has_account_manager",
        "premium_in_force_fen >= 100000.5 && claims_paid_12m_fen == 0u",
        "loss_ratio != null && loss_ratio > 1",
        "last_csat != null && last_csat in [1, 2, 3]",
        r#"contacts_90d["WECHAT"] > 0 || "APP" in contacts_90d || has(contacts_90d.FAX)"#,
        r#"string(policies_active) == "2" && "a" < "b""#,
        "(policies_active + 1) * 2 > 2 && size(contacts_90d) == 9",
        "type(loss_ratio) == double || type(loss_ratio) == null_type",
        // A comprehension's variable may shadow a metric's name.
        r#"["yes"].exists(corporate, corporate == "yes")"#,
    ] {
        loads(rule);
    }
}

fn members(snapshot: &SegmentSnapshot, name: &str) -> Vec<String> {
    let page = snapshot.members(name, None, MEMBERS_PAGE_MAX).unwrap();
    names(page.items.into_iter().map(|(_, metrics)| metrics.customer))
}

#[test]
fn well_typed_comparisons_select_what_their_plain_forms_select() {
    // Each pair: a comparison the checks look into, and the plain rule it means.
    let pairs = [
        ("corporate == true", "corporate"),
        ("group != false", "group"),
        (
            "policies_active in [1, 2]",
            "policies_active >= 1 && policies_active <= 2",
        ),
        (r#"contacts_90d["PHONE"] >= 1"#, "contacts_90d.PHONE >= 1"),
        (
            "premium_in_force_fen >= 100000.0",
            "premium_in_force_fen >= 100000",
        ),
        (r#"string(policies_active) == "1""#, "policies_active == 1"),
        (
            "last_csat != null && last_csat in [1, 2, 3]",
            "last_csat != null && last_csat <= 3",
        ),
    ];
    let mut text = String::new();
    for (index, (typed, plain)) in pairs.iter().enumerate() {
        text.push_str(&file_with(&format!("typed-{index}"), typed));
        text.push_str(&file_with(&format!("plain-{index}"), plain));
    }
    let rules = SegmentRules::from_toml("good.toml", &text).unwrap();
    let snapshot = evaluate(&fold(&book()), &rules, end_of(AS_OF)).unwrap();
    for (index, (typed, plain)) in pairs.iter().enumerate() {
        let typed_members = members(&snapshot, &format!("typed-{index}"));
        assert_eq!(
            typed_members,
            members(&snapshot, &format!("plain-{index}")),
            "`{typed}` and `{plain}`"
        );
        let summary = snapshot.summary(&format!("typed-{index}")).unwrap();
        assert_eq!(summary.evaluation_errors, 0, "`{typed}`");
    }
    // Not vacuous: the book's group customers, as the shipped segment has them.
    assert_eq!(members(&snapshot, "typed-1"), ["c1", "c2"]);
    assert!(!members(&snapshot, "typed-0").is_empty());
}
