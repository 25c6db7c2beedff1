//! The auditor's Merkle proofs: the tree head on `ledger`, inclusion and consistency proofs that
//! verify with `ledger_proof`'s verifiers, signed checkpoints, and clear errors for bad sizes
//! and for a server without a signing key.

use ledger_graphql::{ApiOptions, Role};
use ledger_proof::{
    Checkpoint, Hash, SignedCheckpoint, parse_signing_key, public_key_text, verify_consistency,
    verify_inclusion,
};
use ledger_store::EventLog;
use serde_json::{Value, json};

use crate::support::{Harness, codes, data, extension, text};

const SEED_HEX: &str = "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60";

fn hash(value: &Value) -> Hash {
    Hash::from_hex(&text(value)).expect("64 hex digits")
}

fn hashes(value: &Value) -> Vec<Hash> {
    value
        .as_array()
        .expect("a list of hashes")
        .iter()
        .map(hash)
        .collect()
}

fn number(value: &Value) -> u64 {
    text(value).parse().expect("a decimal string")
}

/// A ledger with five records: two customers, three contacts.
async fn five_records(options: ApiOptions) -> Harness {
    let harness = Harness::start_with(options).await;
    let (first, _) = harness.register("张三", "13800138000").await;
    let (second, _) = harness.register("李四", "13900139000").await;
    for (customer, summary) in [(&first, "one"), (&second, "two"), (&first, "three")] {
        harness
            .record_contact(Role::Agent, customer, "PHONE", "agent-0042", summary)
            .await;
    }
    harness
}

#[tokio::test(flavor = "multi_thread")]
async fn the_auditor_gets_inclusion_and_consistency_proofs_that_verify() {
    let harness = five_records(ApiOptions::default()).await;
    let head = data(
        harness
            .run(
                Role::Auditor,
                "{ ledger { headPosition treeSize rootHash } }",
            )
            .await,
    );
    assert_eq!(text(&head["ledger"]["treeSize"]), "5");
    assert_eq!(head["ledger"]["treeSize"], head["ledger"]["headPosition"]);
    let root = hash(&head["ledger"]["rootHash"]);
    assert_eq!(harness.ledger.tree_head().expect("the tree").root, root);

    let answer = data(
        harness
            .run(Role::Auditor, r#"{ inclusionProof(position: "3") { position leafIndex leafHash treeSize rootHash proof verifierDocument } }"#)
            .await,
    );
    let proof = &answer["inclusionProof"];
    assert_eq!(text(&proof["position"]), "3");
    assert_eq!(text(&proof["leafIndex"]), "2");
    assert_eq!(text(&proof["treeSize"]), "5");
    assert_eq!(hash(&proof["rootHash"]), root);
    let record = &harness
        .ledger
        .log()
        .read_all(ledger_domain::ids::Position(3), 1)
        .expect("the log reads")[0];
    let leaf = ledger_proof::leaf_hash(&record.hash);
    assert_eq!(hash(&proof["leafHash"]), leaf);
    assert_eq!(
        verify_inclusion(&leaf, 2, 5, &hashes(&proof["proof"]), &root),
        Ok(())
    );
    assert_eq!(
        proof["verifierDocument"],
        json!({
            "kind": "inclusion",
            "position": 3,
            "index": 2,
            "leafHash": proof["leafHash"],
            "treeSize": 5,
            "rootHash": proof["rootHash"],
            "proof": proof["proof"],
        })
    );

    // A past tree: position 1 in the tree of 2 records.
    let past = data(
        harness
            .run(
                Role::Auditor,
                r#"{ inclusionProof(position: "1", treeSize: "2") { treeSize rootHash proof } }"#,
            )
            .await,
    );
    let past_root = harness.ledger.root_at(2).expect("a past root");
    assert_eq!(hash(&past["inclusionProof"]["rootHash"]), past_root);
    let first_leaf = ledger_proof::leaf_hash(
        &harness
            .ledger
            .log()
            .read_all(ledger_domain::ids::Position(1), 1)
            .expect("the log reads")[0]
            .hash,
    );
    assert_eq!(
        verify_inclusion(
            &first_leaf,
            0,
            2,
            &hashes(&past["inclusionProof"]["proof"]),
            &past_root
        ),
        Ok(())
    );

    let grown = data(
        harness
            .run(Role::Admin, r#"{ consistencyProof(fromSize: "2") { fromSize toSize fromRoot toRoot proof verifierDocument } }"#)
            .await,
    );
    let consistency = &grown["consistencyProof"];
    assert_eq!(
        (
            number(&consistency["fromSize"]),
            number(&consistency["toSize"])
        ),
        (2, 5)
    );
    assert_eq!(hash(&consistency["fromRoot"]), past_root);
    assert_eq!(hash(&consistency["toRoot"]), root);
    assert_eq!(
        verify_consistency(2, 5, &past_root, &root, &hashes(&consistency["proof"])),
        Ok(())
    );
    assert_eq!(consistency["verifierDocument"]["kind"], "consistency");
    assert_eq!(consistency["verifierDocument"]["fromSize"], 2);
    assert_eq!(
        consistency["verifierDocument"]["toRoot"],
        consistency["toRoot"]
    );
    harness.close().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_signed_checkpoint_verifies_with_the_configured_key() {
    let key = parse_signing_key(SEED_HEX).expect("a seed");
    let harness = five_records(ApiOptions {
        checkpoint_key: Some(key.clone()),
        ..ApiOptions::default()
    })
    .await;
    let before = jiff::Timestamp::now().as_second();
    let answer = data(
        harness
            .run(Role::Auditor, "{ signedCheckpoint { origin treeSize rootHash timestamp signature publicKey keyId note verifierDocument } ledger { rootHash } }")
            .await,
    );
    let signed = &answer["signedCheckpoint"];
    assert_eq!(signed["origin"], "contact-ledger");
    assert_eq!(text(&signed["treeSize"]), "5");
    assert_eq!(signed["rootHash"], answer["ledger"]["rootHash"]);
    assert_eq!(
        text(&signed["publicKey"]),
        public_key_text(&key.verifying_key())
    );
    let timestamp: jiff::Timestamp = text(&signed["timestamp"]).parse().expect("RFC 3339");
    assert!(timestamp.as_second() >= before);

    // The note alone carries everything needed to check the signature.
    let from_note = SignedCheckpoint::from_note(&text(&signed["note"])).expect("a signed note");
    assert_eq!(from_note.verify(&key.verifying_key()), Ok(()));
    let checkpoint = from_note.checkpoint();
    assert_eq!(checkpoint.tree_size(), 5);
    assert_eq!(checkpoint.root_hash(), hash(&signed["rootHash"]));
    assert_eq!(checkpoint.timestamp_unix_seconds(), timestamp.as_second());
    assert_eq!(from_note.signature_text(), text(&signed["signature"]));

    let document = &signed["verifierDocument"];
    assert_eq!(document["kind"], "checkpoint");
    assert_eq!(document["checkpoint"]["treeSize"], 5);
    assert_eq!(document["checkpoint"]["timestamp"], timestamp.as_second());
    assert_eq!(document["signature"], signed["signature"]);
    assert_eq!(document["keyId"], signed["keyId"]);
    let rebuilt = Checkpoint::new(
        "contact-ledger",
        5,
        checkpoint.root_hash(),
        timestamp.as_second(),
    )
    .expect("a checkpoint");
    assert_eq!(document["body"], rebuilt.to_text().as_str());
    harness.close().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn without_a_key_a_signed_checkpoint_is_not_configured() {
    let harness = five_records(ApiOptions::default()).await;
    let response = harness
        .run(Role::Auditor, "{ signedCheckpoint { treeSize } }")
        .await;
    assert_eq!(codes(&response), ["NOT_CONFIGURED"]);
    assert_eq!(
        extension(&response.errors[0], "what").as_deref(),
        Some("a checkpoint signing key")
    );
    harness.close().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn only_auditors_and_admins_get_proofs() {
    let harness = five_records(ApiOptions {
        checkpoint_key: Some(parse_signing_key(SEED_HEX).expect("a seed")),
        ..ApiOptions::default()
    })
    .await;
    let documents = [
        r#"{ inclusionProof(position: "1") { treeSize } }"#,
        r#"{ consistencyProof(fromSize: "1") { toSize } }"#,
        "{ signedCheckpoint { treeSize } }",
        "{ ledger { rootHash } }",
    ];
    for document in documents {
        for role in [Role::Agent, Role::Supervisor, Role::Analyst] {
            let response = harness.run(role, document).await;
            assert_eq!(codes(&response), ["FORBIDDEN"], "{document} as {role:?}");
        }
        for role in [Role::Auditor, Role::Admin] {
            let response = harness.run(role, document).await;
            assert!(
                response.errors.is_empty(),
                "{document} as {role:?}: {:?}",
                response.errors
            );
        }
    }
    harness.close().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn bad_positions_and_sizes_are_named() {
    let harness = five_records(ApiOptions::default()).await;
    // (document, code, the `field` of a VALIDATION error)
    let cases = [
        (
            r#"{ inclusionProof(position: "0") { treeSize } }"#,
            "VALIDATION",
            Some("position"),
        ),
        (
            r#"{ inclusionProof(position: "6") { treeSize } }"#,
            "NOT_FOUND",
            None,
        ),
        (
            r#"{ inclusionProof(position: "1", treeSize: "6") { treeSize } }"#,
            "NOT_FOUND",
            None,
        ),
        (
            r#"{ inclusionProof(position: "4", treeSize: "3") { treeSize } }"#,
            "VALIDATION",
            Some("position"),
        ),
        (
            r#"{ inclusionProof(position: "-1") { treeSize } }"#,
            "VALIDATION",
            None,
        ),
        (
            r#"{ consistencyProof(fromSize: "6") { toSize } }"#,
            "NOT_FOUND",
            None,
        ),
        (
            r#"{ consistencyProof(fromSize: "1", toSize: "9") { toSize } }"#,
            "NOT_FOUND",
            None,
        ),
        (
            r#"{ consistencyProof(fromSize: "4", toSize: "3") { toSize } }"#,
            "VALIDATION",
            Some("fromSize"),
        ),
    ];
    for (document, code, field) in cases {
        let response = harness.run(Role::Auditor, document).await;
        assert_eq!(
            codes(&response),
            [code],
            "{document}: {:?}",
            response.errors
        );
        if let Some(field) = field {
            assert_eq!(
                extension(&response.errors[0], "field").as_deref(),
                Some(field),
                "{document}"
            );
        }
    }
    let beyond = harness
        .run(
            Role::Auditor,
            r#"{ inclusionProof(position: "6") { treeSize } }"#,
        )
        .await;
    assert!(
        beyond.errors[0].message.contains("position 6")
            && beyond.errors[0].message.contains("head is 5"),
        "{}",
        beyond.errors[0].message
    );
    // Consistency with the empty tree and with itself needs no hashes.
    let trivial = data(
        harness
            .run(Role::Auditor, r#"{ empty: consistencyProof(fromSize: "0") { fromRoot proof } same: consistencyProof(fromSize: "5", toSize: "5") { fromRoot toRoot proof } }"#)
            .await,
    );
    assert_eq!(
        hash(&trivial["empty"]["fromRoot"]),
        ledger_proof::empty_root()
    );
    assert_eq!(trivial["empty"]["proof"], json!([]));
    assert_eq!(trivial["same"]["fromRoot"], trivial["same"]["toRoot"]);
    assert_eq!(trivial["same"]["proof"], json!([]));
    harness.close().await;
}
