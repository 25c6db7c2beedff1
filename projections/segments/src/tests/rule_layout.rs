//! A key a rules file's table does not have is refused naming the table it sits in, the key,
//! the keys accepted there and the nearest one when it looks like a slip; a value of the wrong
//! type, or a segment's missing key, names the table too.

use crate::{RuleError, SegmentRules};

const SEGMENT: &str = "[[segment]]\nname = \"first\"\ndescription = \"d\"\nrule = 'group'\n";

fn refused(text: &str) -> RuleError {
    SegmentRules::from_toml("bad.toml", text).unwrap_err()
}

#[test]
fn a_misspelt_key_at_the_top_level_names_the_top_level_and_its_one_key() {
    let error = refused(&format!("segmnt = 1\n{SEGMENT}"));
    assert_eq!(error.segment, None);
    assert_eq!((error.line, error.column), (1, 1));
    assert_eq!(
        error.message,
        "unknown key `segmnt` at the top level of the file; the only key accepted there is \
         `segment` (each segment is a `[[segment]]` table); did you mean `segment`?"
    );
    // A table header spelt wrong is the same key.
    let error = refused(&SEGMENT.replace("[[segment]]", "[[segments]]"));
    assert_eq!((error.line, error.column), (1, 3));
    assert!(
        error
            .message
            .starts_with("unknown key `segments` at the top level of the file;"),
        "{error}"
    );
    assert!(
        error.message.ends_with("did you mean `segment`?"),
        "{error}"
    );
    // Nothing near: no guess.
    let error = refused(&format!("{SEGMENT}[colours]\nred = 1\n"));
    assert_eq!((error.line, error.column), (5, 2));
    assert!(error.message.contains("unknown key `colours`"), "{error}");
    assert!(!error.message.contains("did you mean"), "{error}");
}

#[test]
fn a_misspelt_key_in_a_segment_names_its_table_the_keys_there_and_the_nearest() {
    let text = format!(
        "{SEGMENT}\n[[segment]]\nname = \"second\"\ndescripton = \"d\"\nrule = 'corporate'\n"
    );
    let error = refused(&text);
    assert_eq!(error.segment.as_deref(), Some("second"));
    assert_eq!((error.line, error.column), (8, 1));
    assert_eq!(
        error.message,
        "unknown key `descripton` in `[[segment]]` number 2; the keys accepted there are \
         `name`, `description` and `rule`; did you mean `description`?"
    );
    assert_eq!(
        error.to_string(),
        format!("bad.toml:8:1: segment `second`: {}", error.message)
    );
    // Swapped letters, a different case and a prefix are slips too.
    for (key, nearest) in [("nmae", "name"), ("Rule", "rule"), ("desc", "description")] {
        let error = refused(&format!("{SEGMENT}{key} = 'x'\n"));
        assert!(
            error.message.starts_with(&format!(
                "unknown key `{key}` in `[[segment]]` number 1; the keys accepted there are"
            )),
            "{error}"
        );
        assert!(
            error
                .message
                .ends_with(&format!("did you mean `{nearest}`?")),
            "{error}"
        );
    }
}

#[test]
fn a_nested_table_inside_a_segment_is_an_unknown_key_of_that_segment() {
    for (nested, position) in [
        ("[segment.options]\nowner = 'me'\n", (5, 10)),
        ("options = { owner = 'me' }\n", (5, 1)),
    ] {
        let error = refused(&format!("{SEGMENT}{nested}"));
        assert_eq!(error.segment.as_deref(), Some("first"));
        assert_eq!((error.line, error.column), position, "{error}");
        assert_eq!(
            error.message,
            "unknown key `options` in `[[segment]]` number 1; the keys accepted there are \
             `name`, `description` and `rule`"
        );
    }
}

#[test]
fn a_value_of_the_wrong_type_or_a_missing_key_names_the_table() {
    let error = refused("[[segment]]\nname = 7\ndescription = \"d\"\nrule = 'group'\n");
    assert_eq!(error.segment, None);
    assert_eq!((error.line, error.column), (2, 8));
    assert_eq!(
        error.message,
        "`name` in `[[segment]]` number 1 is an integer; it must be a string"
    );
    let error =
        refused("[[segment]]\nname = \"x\"\ndescription = \"d\"\n[segment.rule]\ntext = 'group'\n");
    assert_eq!(error.segment.as_deref(), Some("x"));
    assert_eq!(
        error.message,
        "`rule` in `[[segment]]` number 1 is a table; it must be a string"
    );
    let error = refused(&format!(
        "{SEGMENT}[[segment]]\nname = \"second\"\nrule = 'group'\n"
    ));
    assert_eq!(error.segment.as_deref(), Some("second"));
    assert_eq!((error.line, error.column), (5, 1));
    assert_eq!(
        error.message,
        "`[[segment]]` number 2 has no `description`; a segment has `name`, `description` \
         and `rule`"
    );
    let error = refused("[segment]\nname = \"x\"\ndescription = \"d\"\nrule = 'group'\n");
    assert!(
        error
            .message
            .starts_with("`[segment]` is a single table; write each segment as a `[[segment]]`"),
        "{error}"
    );
    let error = refused("segment = [1]\n");
    assert!(
        error
            .message
            .starts_with("`[[segment]]` number 1 is an integer;"),
        "{error}"
    );
}

#[test]
fn a_segment_written_as_an_inline_table_still_loads() {
    let rules = SegmentRules::from_toml(
        "good.toml",
        "segment = [{ name = \"inline\", description = \"d\", rule = 'group' }]\n",
    )
    .unwrap();
    assert_eq!(rules.rules()[0].name(), "inline");
}
