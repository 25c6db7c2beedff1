//! Loading rules: the shipped file loads; every kind of bad rule is rejected with the
//! segment's name and the line and column of the problem in the file.

use crate::{RULE_CHARS_MAX, RuleError, SegmentRules, VARIABLES};

fn rejected(text: &str) -> RuleError {
    SegmentRules::from_toml("bad.toml", text).unwrap_err()
}

fn segment(name: &str, rule_line: &str) -> String {
    format!("[[segment]]\nname = \"{name}\"\ndescription = \"d\"\n{rule_line}\n")
}

#[test]
fn a_rules_file_without_a_segment_is_refused_not_taken_for_no_segments() {
    for text in ["", "# only a comment\n"] {
        let error = rejected(text);
        assert!(error.message.contains("at least one segment"), "{error}");
    }
}

#[test]
fn the_shipped_rules_load() {
    let rules = SegmentRules::shipped().unwrap();
    let names: Vec<&str> = rules.rules().iter().map(|rule| rule.name()).collect();
    assert_eq!(
        names,
        [
            "key-accounts",
            "group-customers",
            "at-risk",
            "renewal-due-30d",
            "dormant-365d",
            "potential-value"
        ]
    );
    assert_eq!(rules.get("key-accounts").unwrap().rule(), "in_key_accounts");
    assert!(
        rules
            .get("at-risk")
            .unwrap()
            .rule()
            .contains("lapsed_not_renewed")
    );
    // Every variable is documented and named once.
    let mut names: Vec<&str> = VARIABLES.iter().map(|variable| variable.name).collect();
    names.sort_unstable();
    names.dedup();
    assert_eq!(names.len(), VARIABLES.len());
}

#[test]
fn a_syntax_error_is_reported_where_it_is_in_the_file() {
    let error = rejected(&segment("broken", "rule = 'last_csat <= '"));
    assert_eq!(error.file, "bad.toml");
    assert_eq!(error.segment.as_deref(), Some("broken"));
    // `rule = '` is 8 characters; the rule's 14th character (the end) is column 22.
    assert_eq!((error.line, error.column), (4, 22));
    assert!(
        error.message.starts_with("Syntax error"),
        "{}",
        error.message
    );
    assert!(
        error
            .to_string()
            .starts_with("bad.toml:4:22: segment `broken`: Syntax error"),
        "{error}"
    );
}

#[test]
fn an_unknown_variable_is_reported_at_its_position() {
    let text = "[[segment]]\nname = \"typo\"\ndescription = \"d\"\nrule = '''\npolicies_active > 0\n  && last_csta == 2\n'''\n";
    let error = rejected(text);
    assert_eq!(error.segment.as_deref(), Some("typo"));
    assert_eq!((error.line, error.column), (6, 6));
    assert!(
        error
            .message
            .starts_with("`last_csta` is not a variable; the variables are premium_in_force_fen,"),
        "{}",
        error.message
    );
}

#[test]
fn a_null_metric_compared_without_a_test_is_rejected() {
    let error = rejected(&segment("unguarded", "rule = 'last_csat <= 3'"));
    assert_eq!(error.segment.as_deref(), Some("unguarded"));
    // The whole rule is at fault: the position is its start.
    assert_eq!((error.line, error.column), (4, 9));
    assert!(
        error
            .message
            .contains("fails for a customer with no policy"),
        "{}",
        error.message
    );
    assert!(
        error
            .message
            .contains("`last_csat != null && last_csat <= 3`")
    );
    // Guarded, it loads.
    SegmentRules::from_toml(
        "good.toml",
        &segment("guarded", "rule = 'last_csat != null && last_csat <= 3'"),
    )
    .unwrap();
}

#[test]
fn a_rule_that_is_not_true_or_false_is_rejected() {
    let error = rejected(&segment("number", "rule = 'premium_in_force_fen'"));
    assert!(
        error.message.contains("must be true or false"),
        "{}",
        error.message
    );
    let error = rejected(&segment("channel", "rule = 'contacts_90d.TELEGRAM > 0'"));
    assert!(
        error.message.contains("`TELEGRAM` is not a channel"),
        "{}",
        error.message
    );
}

#[test]
fn names_must_be_valid_and_distinct() {
    let twice = format!(
        "{}{}",
        segment("at-risk", "rule = 'group'"),
        segment("at-risk", "rule = 'corporate'")
    );
    let error = rejected(&twice);
    assert_eq!(error.segment.as_deref(), Some("at-risk"));
    assert_eq!((error.line, error.column), (6, 9));
    assert_eq!(error.message, "another segment already has this name");

    let error = rejected(&segment("At Risk", "rule = 'group'"));
    assert_eq!((error.line, error.column), (2, 9));
    assert!(
        error.message.starts_with("a segment name is"),
        "{}",
        error.message
    );
}

#[test]
fn a_toml_error_names_a_position_and_the_segment_when_it_has_a_name() {
    let error = rejected("[[segment]]\nname = \"x\"\ndescription = \"d\"\n");
    assert_eq!(error.segment.as_deref(), Some("x"));
    assert!(error.message.contains("no `rule`"), "{}", error.message);
    assert_eq!((error.line, error.column), (1, 1));
    let error = rejected("[[segment]]\nname = \"x\"\ndescription = \"d\n");
    assert_eq!(error.segment, None);
    assert_eq!(error.line, 3);
    let error =
        rejected("[[segment]]\nname = \"x\"\nrule = 'group'\ndescription = \"d\"\ncolour = 1\n");
    assert_eq!(error.line, 5);
    assert!(error.message.contains("colour"), "{}", error.message);
}

#[test]
fn an_escaped_rule_points_at_its_string_and_names_the_position_inside() {
    let error = rejected(&segment(
        "escaped",
        r#"rule = "contacts_90d[\"PHONE\"] > 0 && bogus""#,
    ));
    // The file's text differs from the rule (escapes), so the position is the string's start.
    assert_eq!((error.line, error.column), (4, 8));
    assert!(
        error
            .message
            .starts_with("at 1:30 of the rule: `bogus` is not a variable"),
        "{}",
        error.message
    );
}

#[test]
fn comprehension_variables_and_type_names_are_not_unknown_variables() {
    SegmentRules::from_toml(
        "good.toml",
        &segment(
            "macros",
            "rule = '[1, 2].exists(x, x == policies_active) || type(loss_ratio) == double'",
        ),
    )
    .unwrap();
}

#[test]
fn empty_and_overlong_rules_and_descriptions_are_rejected() {
    let error = rejected(&segment("empty", "rule = '  '"));
    assert_eq!(error.message, "the rule is empty");
    let long = format!(
        "rule = '{}'",
        vec!["group"; RULE_CHARS_MAX / 8 + 1].join(" || ")
    );
    let error = rejected(&segment("long", &long));
    assert!(
        error
            .message
            .starts_with(&format!("a rule is at most {RULE_CHARS_MAX} characters"))
    );
    let error = rejected("[[segment]]\nname = \"x\"\ndescription = \"\"\nrule = 'group'\n");
    assert_eq!(error.message, "the description is empty");
    assert_eq!((error.line, error.column), (3, 16));
}
