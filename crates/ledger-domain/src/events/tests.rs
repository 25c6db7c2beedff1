//! Tests of the event catalogue: every type round-trips through JSON and bincode, field names
//! are camelCase, bad payloads name the JSON path of the bad field, and the committed JSON
//! Schemas match the code.

use std::collections::BTreeSet;
use std::path::Path;

use proptest::prelude::*;
use serde_json::json;

use super::*;
use crate::samples::{self, sample_events};
use crate::values::Direction;

fn entry(event: &Event) -> EventType {
    event.catalogue_entry()
}

#[test]
fn samples_cover_every_catalogue_entry_and_are_valid() {
    let sampled: BTreeSet<EventType> = sample_events().iter().map(entry).collect();
    let catalogue: BTreeSet<EventType> = CATALOGUE.iter().copied().collect();
    assert_eq!(sampled, catalogue);
    assert_eq!(
        CATALOGUE.len(),
        catalogue.len(),
        "no catalogue entry appears twice"
    );
    for event in sample_events() {
        assert_eq!(event.validate(), Ok(()), "{}", event.event_type());
    }
}

#[test]
fn every_sample_round_trips_through_json() {
    for event in sample_events() {
        let json = event.to_json();
        assert!(
            json.is_object(),
            "{}: a payload is a JSON object",
            event.event_type()
        );
        let back = Event::from_json(event.event_type(), event.schema_version(), &json)
            .unwrap_or_else(|error| panic!("{}: {error}", event.event_type()));
        assert_eq!(back, event);
    }
}

#[test]
fn every_sample_round_trips_through_the_codec() {
    for event in sample_events() {
        let bytes = event.encode_payload();
        let back = Event::decode_payload(event.event_type(), event.schema_version(), &bytes)
            .unwrap_or_else(|error| panic!("{}: {error}", event.event_type()));
        assert_eq!(back, event);
    }
}

/// Walks every object key in `json`, calling `check(path, key)`.
fn walk_keys(json: &serde_json::Value, path: &str, check: &mut impl FnMut(&str, &str)) {
    match json {
        serde_json::Value::Object(map) => {
            for (key, value) in map {
                check(path, key);
                walk_keys(value, &format!("{path}.{key}"), check);
            }
        }
        serde_json::Value::Array(items) => {
            for (index, item) in items.iter().enumerate() {
                walk_keys(item, &format!("{path}[{index}]"), check);
            }
        }
        _ => {}
    }
}

fn is_camel_case(key: &str) -> bool {
    key.starts_with(|c: char| c.is_ascii_lowercase())
        && key.chars().all(|c| c.is_ascii_alphanumeric())
}

#[test]
fn payload_field_names_are_camel_case() {
    for event in sample_events() {
        walk_keys(&event.to_json(), event.event_type(), &mut |path, key| {
            assert!(is_camel_case(key), "{path}.{key} is not camelCase");
        });
    }
}

#[test]
fn enum_values_are_screaming_snake_case() {
    let contact = Event::from(samples::sample_contact()).to_json();
    assert_eq!(contact["channel"], "PHONE");
    assert_eq!(contact["topic"], "CLAIM_REPORT");
    assert_eq!(contact["outcome"], "FOLLOW_UP_NEEDED");
    assert_eq!(contact["startedAt"], "2024-03-15T01:30:00Z");
}

#[test]
fn events_know_their_stream_and_customers() {
    let customer = samples::individual_customer_id();
    for event in sample_events() {
        let stream = event.stream();
        let expected_category = match event.event_type() {
            name if name.starts_with("Policy") => "policy",
            name if name.starts_with("Claim") => "claim",
            name if name.starts_with("ServiceCase") || name.starts_with("Risk") => "case",
            name if name.starts_with("Campaign") => "campaign",
            name if name.starts_with("Process") => "process",
            "OnlineEnquiryReceived" | "EnquiryErased" => "enquiry",
            _ => "customer",
        };
        assert_eq!(
            stream.category(),
            expected_category,
            "{}",
            event.event_type()
        );
        assert_eq!(
            StreamId::parse("stream", stream.as_str()),
            Ok(stream.clone())
        );
        let is_campaign_or_process = ["CampaignLaunched", "CampaignCostIncurred", "CampaignClosed"]
            .contains(&event.event_type())
            || expected_category == "process"
            || expected_category == "enquiry";
        assert_eq!(
            event.customer_ids().is_empty(),
            is_campaign_or_process,
            "{}",
            event.event_type()
        );
    }
    let contact = Event::from(samples::sample_contact());
    assert_eq!(contact.stream(), StreamId::customer(customer));
    assert_eq!(contact.customer_ids(), vec![customer]);
    let merged = sample_events()
        .into_iter()
        .find(|event| event.event_type() == "CustomersMerged");
    let merged = merged.expect("a merge sample");
    assert_eq!(
        merged.stream(),
        StreamId::customer(samples::duplicate_customer_id())
    );
    assert_eq!(
        merged.customer_ids(),
        vec![samples::duplicate_customer_id(), customer]
    );
}

#[test]
fn online_enquiries_of_known_customers_go_to_the_customer_stream() {
    let mut enquiry = match sample_events()
        .into_iter()
        .find(|event| event.event_type() == "OnlineEnquiryReceived")
    {
        Some(Event::OnlineEnquiryReceived(enquiry)) => enquiry,
        _ => unreachable!("the samples hold an enquiry"),
    };
    assert_eq!(
        Event::from(enquiry.clone()).stream().as_str(),
        format!("enquiry-{}", samples::enquiry_id())
    );
    enquiry.customer_id = Some(samples::individual_customer_id());
    let event = Event::from(enquiry);
    assert_eq!(
        event.stream(),
        StreamId::customer(samples::individual_customer_id())
    );
    assert_eq!(
        event.customer_ids(),
        vec![samples::individual_customer_id()]
    );
}

#[test]
fn number_streams_are_valid_for_the_longest_numbers() {
    let longest = "A-".repeat(20);
    let policy = crate::values::PolicyNumber::parse("policyNumber", &longest)
        .expect("40 characters is allowed");
    assert_eq!(
        number_stream("policy", &policy).as_str(),
        format!("policy-{longest}")
    );
    let claim = crate::values::ClaimNumber::parse("claimNumber", &longest)
        .expect("40 characters is allowed");
    assert_eq!(number_stream("claim", &claim).category(), "claim");
}

#[test]
fn unknown_types_and_versions_are_refused() {
    let json = Event::from(samples::sample_contact()).to_json();
    let refused = Event::from_json("ContactRecorded", 2, &json).unwrap_err();
    let is_unknown = |name: &str| name == "ContactRecorded";
    assert!(
        matches!(refused, PayloadError::UnknownType { ref name, version: 2 } if is_unknown(name))
    );
    let refused = Event::from_json("ContactLogged", 1, &json).unwrap_err();
    assert!(matches!(
        refused,
        PayloadError::UnknownType { version: 1, .. }
    ));
    let bytes = Event::from(samples::sample_contact()).encode_payload();
    assert!(matches!(
        Event::decode_payload("Nope", 1, &bytes),
        Err(PayloadError::UnknownType { .. })
    ));
}

#[test]
fn corrupt_bytes_are_a_codec_error() {
    let bytes = Event::from(samples::sample_contact()).encode_payload();
    let refused = Event::decode_payload("ContactRecorded", 1, &bytes[..bytes.len() / 2]);
    assert!(matches!(refused, Err(PayloadError::Codec(_))));
    // Bytes of one type read as another: trailing or malformed, never a silent success.
    let refused = Event::decode_payload("IdentifierAdded", 1, &bytes);
    assert!(matches!(refused, Err(PayloadError::Codec(_))));
}

/// The error `from_json` gives for `payload` as a `name` v1.
fn invalid(name: &str, payload: &serde_json::Value) -> ValidationError {
    match Event::from_json(name, 1, payload) {
        Err(PayloadError::Invalid(error)) => error,
        other => panic!("expected a validation error, got {other:?}"),
    }
}

fn registered_json() -> serde_json::Value {
    let registered = sample_events()
        .into_iter()
        .next()
        .expect("the first sample");
    assert_eq!(registered.event_type(), "CustomerRegistered");
    registered.to_json()
}

#[test]
fn a_bad_identifier_names_its_json_path() {
    let mut json = registered_json();
    json["identifiers"][1] = json!({ "kind": "MOBILE", "value": "" });
    let error = invalid("CustomerRegistered", &json);
    assert_eq!(error.field, "identifiers[1].value");
    assert!(!error.rule.is_empty());
}

#[test]
fn a_bad_plain_value_names_its_field() {
    let mut json = Event::from(samples::sample_contact()).to_json();
    json["summary"] = json!("x".repeat(100_000));
    assert_eq!(invalid("ContactRecorded", &json).field, "summary");

    let mut json = Event::from(samples::sample_contact()).to_json();
    json["agent"] = json!("an agent with spaces");
    let error = invalid("ContactRecorded", &json);
    assert_eq!(error.field, "agent");
    assert!(error.rule.contains("staff"), "{error}");
}

#[test]
fn a_bad_enum_or_type_names_its_field() {
    let mut json = Event::from(samples::sample_contact()).to_json();
    json["channel"] = json!("PIGEON");
    let error = invalid("ContactRecorded", &json);
    assert_eq!(error.field, "channel");
    assert!(
        error.rule.contains("PHONE"),
        "the rule lists what is allowed: {error}"
    );

    let mut json = Event::from(samples::sample_contact()).to_json();
    json["durationSeconds"] = json!(-5);
    assert_eq!(invalid("ContactRecorded", &json).field, "durationSeconds");

    let mut json = Event::from(samples::sample_contact()).to_json();
    json["startedAt"] = json!("yesterday");
    assert_eq!(invalid("ContactRecorded", &json).field, "startedAt");

    let mut json = Event::from(samples::sample_contact()).to_json();
    json["customerId"] = json!("42");
    assert_eq!(invalid("ContactRecorded", &json).field, "customerId");
}

#[test]
fn scores_out_of_range_name_their_field() {
    let json = json!({ "customerId": samples::individual_customer_id(), "csat": 6 });
    let error = invalid("SatisfactionRecorded", &json);
    assert_eq!(error.field, "csat");
    assert!(error.rule.contains("1 to 5"), "{error}");
    let json = json!({ "customerId": samples::individual_customer_id(), "nps": 11 });
    assert_eq!(invalid("SatisfactionRecorded", &json).field, "nps");
}

#[test]
fn missing_and_unknown_fields_are_named() {
    let mut json = Event::from(samples::sample_contact()).to_json();
    json.as_object_mut().expect("an object").remove("summary");
    let error = invalid("ContactRecorded", &json);
    assert_eq!(error.field, "summary");
    assert_eq!(error.rule, "is required");

    let mut json = Event::from(samples::sample_contact()).to_json();
    json["sumary"] = json!("typo");
    let error = invalid("ContactRecorded", &json);
    assert_eq!(error.field, "sumary");
    assert!(error.rule.starts_with("is not a field"), "{error}");

    let mut json = registered_json();
    json["identifiers"][0]["kind"] = json!("FAX");
    assert_eq!(
        invalid("CustomerRegistered", &json).field,
        "identifiers[0].kind"
    );
}

#[test]
fn optional_fields_may_be_omitted_or_null() {
    let minimal = json!({
        "customerId": samples::individual_customer_id(),
        "kind": "INDIVIDUAL",
        "name": "王五",
        "identifiers": [],
    });
    let event =
        Event::from_json("CustomerRegistered", 1, &minimal).expect("omitted options are none");
    let Event::CustomerRegistered(registered) = &event else {
        unreachable!("parsed as its type")
    };
    assert_eq!(registered.group, None);
    let mut with_nulls = minimal.clone();
    with_nulls["group"] = serde_json::Value::Null;
    with_nulls["address"] = serde_json::Value::Null;
    assert_eq!(
        Event::from_json("CustomerRegistered", 1, &with_nulls).expect("nulls are none"),
        event
    );
}

#[test]
fn cross_field_rules_are_checked_on_the_way_in() {
    let json = json!({ "customerId": samples::individual_customer_id(), "comment": "还行" });
    let error = invalid("SatisfactionRecorded", &json);
    assert_eq!(error.field, "csat");

    let mut json = registered_json();
    json["identifiers"][3] = json["identifiers"][0].clone();
    let error = invalid("CustomerRegistered", &json);
    assert_eq!(
        (error.field.as_str(), error.rule.as_str()),
        ("identifiers[3]", "repeats identifiers[0]")
    );

    let policy = sample_events()
        .into_iter()
        .find(|event| event.event_type() == "PolicyIssued");
    let mut json = policy.expect("an issued policy").to_json();
    json["periodEnd"] = json!("2023-01-01");
    assert_eq!(invalid("PolicyIssued", &json).field, "periodEnd");
    json["periodEnd"] = json!("2025-03-15");
    json["premium"] = json!(-1);
    assert_eq!(invalid("PolicyIssued", &json).field, "premium");
}

#[test]
fn the_payload_root_is_the_empty_field() {
    let error = invalid("ContactRecorded", &json!([1, 2, 3]));
    assert_eq!(error.field, "");
}

#[test]
fn serde_messages_fold_into_the_path() {
    assert_eq!(
        validation_error_at(".", ": must not be empty"),
        ValidationError::new("", "must not be empty")
    );
    assert_eq!(
        validation_error_at("a[1]", "value: bad"),
        ValidationError::new("a[1].value", "bad")
    );
    assert_eq!(
        validation_error_at("csat", "csat: 1 to 5"),
        ValidationError::new("csat", "1 to 5")
    );
    assert_eq!(
        validation_error_at("x", "invalid type: string \"a\", expected u32"),
        ValidationError::new("x", "invalid type: string \"a\", expected u32")
    );
    assert_eq!(
        validation_error_at(".", "missing field `kind`"),
        ValidationError::new("kind", "is required")
    );
}

fn schemas_dir() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../../schemas/events"))
}

fn pretty(schema: &serde_json::Value) -> String {
    let mut text = serde_json::to_string_pretty(schema).expect("a schema is JSON");
    text.push('\n');
    text
}

/// The committed schemas are what the code generates. `UPDATE_SCHEMAS=1` (via `make schema`)
/// rewrites them instead; otherwise any missing, extra or different file fails the test.
#[test]
fn event_json_schemas_are_committed() {
    let generated: Vec<(String, String)> = json_schemas()
        .iter()
        .map(|(file, schema)| (file.clone(), pretty(schema)))
        .collect();
    let dir = schemas_dir();
    if std::env::var_os("UPDATE_SCHEMAS").is_some_and(|value| value == "1") {
        std::fs::create_dir_all(dir).expect("create schemas/events");
        for entry in std::fs::read_dir(dir).expect("list schemas/events") {
            let path = entry.expect("a directory entry").path();
            if path
                .extension()
                .is_some_and(|extension| extension == "json")
            {
                std::fs::remove_file(&path).expect("remove an old schema");
            }
        }
        for (file, text) in &generated {
            std::fs::write(dir.join(file), text).expect("write a schema");
        }
        return;
    }
    let mut problems = Vec::new();
    for (file, text) in &generated {
        match std::fs::read_to_string(dir.join(file)) {
            Ok(committed) if committed == *text => {}
            Ok(_) => problems.push(format!("{file} differs from the code")),
            Err(_) => problems.push(format!("{file} is missing")),
        }
    }
    let expected: BTreeSet<&str> = generated.iter().map(|(file, _)| file.as_str()).collect();
    if let Ok(entries) = std::fs::read_dir(dir) {
        for entry in entries.flatten() {
            let file = entry.file_name().to_string_lossy().into_owned();
            if file.ends_with(".json") && !expected.contains(file.as_str()) {
                problems.push(format!("{file} is not in the catalogue"));
            }
        }
    }
    assert!(
        problems.is_empty(),
        "schemas/events/ is out of date; run `make schema` and commit the result:\n  {}",
        problems.join("\n  ")
    );
}

#[test]
fn schemas_describe_camel_case_properties_and_refuse_unknown_ones() {
    let schemas = json_schemas();
    assert_eq!(schemas.len(), CATALOGUE.len());
    for ((file, schema), entry) in schemas.iter().zip(CATALOGUE) {
        assert_eq!(*file, entry.schema_file_name());
        assert_eq!(schema["title"], entry.name, "{file}");
        assert_eq!(schema["additionalProperties"], false, "{file}");
        let properties = schema["properties"]
            .as_object()
            .expect("a payload schema has properties");
        for key in properties.keys() {
            assert!(is_camel_case(key), "{file}: {key}");
        }
    }
}

proptest! {
    /// Contacts with any valid duration, direction and links survive both encodings.
    #[test]
    fn contacts_round_trip(
        duration_seconds in 0..=CONTACT_DURATION_SECONDS_MAX,
        inbound in any::<bool>(),
        channel in proptest::sample::select(crate::values::Channel::ALL.to_vec()),
        with_links in any::<bool>(),
        started_second in 1_500_000_000_i64..2_000_000_000,
    ) {
        let mut contact = samples::sample_contact();
        contact.duration_seconds = duration_seconds;
        contact.channel = channel;
        contact.direction = if inbound { Direction::Inbound } else { Direction::Outbound };
        contact.started_at = jiff::Timestamp::from_second(started_second).expect("in range");
        if !with_links {
            contact.policy_number = None;
            contact.claim_number = None;
            contact.case_id = None;
        }
        let event = Event::from(contact);
        let json = event.to_json();
        prop_assert_eq!(&Event::from_json("ContactRecorded", 1, &json).expect("valid"), &event);
        let bytes = event.encode_payload();
        let decoded = Event::decode_payload("ContactRecorded", 1, &bytes).expect("valid");
        prop_assert_eq!(&decoded, &event);
    }
}

/// Every string anywhere in `json`.
fn strings(json: &serde_json::Value, out: &mut Vec<String>) {
    match json {
        serde_json::Value::String(text) => out.push(text.clone()),
        serde_json::Value::Array(items) => items.iter().for_each(|item| strings(item, out)),
        serde_json::Value::Object(map) => map.values().for_each(|value| strings(value, out)),
        _ => {}
    }
}

#[test]
fn personal_fields_come_out_erased_and_go_back_whole() {
    for event in sample_events() {
        let name = event.event_type();
        let mut redacted = event.clone();
        let Some(sealed) = redacted.take_personal() else {
            assert!(event.personal_fields().is_empty());
            assert_eq!(event.data_subject(), None, "{name}: nothing to seal");
            continue;
        };
        assert!(
            event.data_subject().is_some(),
            "{name}: a personal event has a key"
        );
        assert_ne!(
            redacted, event,
            "{name}: taking the personal fields changes the event"
        );
        // The personal text is gone from the redacted event, whatever field held it.
        let json = event.to_json();
        let redacted_json = redacted.to_json();
        let mut personal = Vec::new();
        for field in event.personal_fields() {
            let key = field.replace('_', "");
            let value = json
                .as_object()
                .and_then(|map| map.iter().find(|(k, _)| k.to_lowercase() == key))
                .map(|(_, value)| value.clone())
                .unwrap_or_else(|| panic!("{name}: no field {field} in {json}"));
            strings(&value, &mut personal);
        }
        let mut left = Vec::new();
        strings(&redacted_json, &mut left);
        for text in personal.iter().filter(|text| !text.is_empty()) {
            // Kinds (`MOBILE`) and enum names stay; the personal values must not.
            // So do the dates of a recommendation inside a personal list.
            let is_kind = text.chars().all(|c| c.is_ascii_uppercase() || c == '_');
            if is_kind || text.parse::<jiff::civil::Date>().is_ok() {
                continue;
            }
            assert!(!left.contains(text), "{name}: {text:?} survived redaction");
        }
        // The redacted body reads back (stored bytes may hold erased values); as JSON input
        // it is refused when it erased a required text.
        let body = redacted.encode_body();
        let mut back = Event::decode_body(name, event.schema_version(), &body)
            .unwrap_or_else(|error| panic!("{name}: redacted body: {error}"));
        assert_eq!(back, redacted, "{name}");
        back.restore_personal(&sealed)
            .unwrap_or_else(|error| panic!("{name}: restore: {error}"));
        assert_eq!(back, event, "{name}: restored whole");
        // Trailing or missing personal bytes are refused, never half-applied silently.
        let mut extra = sealed.clone();
        extra.push(0);
        let mut again = redacted.clone();
        assert!(
            again.restore_personal(&extra).is_err(),
            "{name}: trailing byte"
        );
    }
}

#[test]
fn a_sealed_payload_is_not_read_as_a_plain_one() {
    let event = Event::from(samples::sample_contact());
    let mut bytes = event.encode_payload();
    bytes[0] = super::PAYLOAD_SEALED;
    let refused = Event::decode_payload(event.event_type(), 1, &bytes);
    assert!(
        matches!(
            refused,
            Err(PayloadError::Codec(CodecError::UnknownFormat {
                found: 2,
                ..
            }))
        ),
        "{refused:?}"
    );
}
