//! `contact-ledger erase --customer ID --reason REASON`: the command-line twin of the
//! `eraseCustomer` mutation. Records `CustomerErased` and destroys the customer's data key (and
//! the keys of the anonymous online enquiries their contacts answered), so their personal fields
//! read as erased everywhere from then on (crypto-shredding), while the hash chain, proofs and
//! non-personal facts stay as they were. Cannot be undone.
//!
//! `contact-ledger erase --enquiry ID --reason REASON` is the twin of `eraseEnquiry`: it erases
//! an online enquiry from someone the web shop could not identify (`EnquiryErased`, and the
//! enquiry's own key).

use std::path::Path;
use std::process::ExitCode;

use anyhow::Context;
use ledger_app::{CommandError, CommandMeta};
use ledger_domain::commands::{Command, EraseCustomer, EraseEnquiry};
use ledger_domain::ids::{CustomerId, EnquiryId, Position, StaffId, StreamId};
use ledger_domain::kinds::ErasureReason;
use ledger_store::limits::READ_PAGE_MAX;
use ledger_store::{EventLog, StoreOptions};

use crate::keys::MasterKeyArgs;

#[derive(Debug, clap::Args)]
#[command(group(clap::ArgGroup::new("subject").required(true).args(["customer", "enquiry"])))]
pub struct Args {
    /// The customer whose personal data is erased.
    #[arg(long, value_name = "ID", value_parser = customer_id)]
    customer: Option<CustomerId>,
    /// The online enquiry from someone nobody knew (its own stream) whose personal data is
    /// erased. An enquiry from a known customer is erased with the customer.
    #[arg(long, value_name = "ID", value_parser = enquiry_id)]
    enquiry: Option<EnquiryId>,
    /// Why: CUSTOMER_REQUEST (PIPL art. 47), RETENTION_PERIOD_ENDED or LEGAL_ORDER.
    #[arg(long, value_name = "REASON", value_parser = erasure_reason)]
    reason: ErasureReason,
    /// The staff member recording the erasure.
    #[arg(long, value_name = "STAFF", default_value = "admin", value_parser = staff_id)]
    actor: StaffId,
}

// The values are checked as the command line is parsed, so a bad one is a wrong command line
// (exit 2) like a missing one; clap's message names the option and the value, these the rule.

fn customer_id(text: &str) -> Result<CustomerId, String> {
    CustomerId::parse("--customer", text).map_err(|error| error.rule)
}

fn enquiry_id(text: &str) -> Result<EnquiryId, String> {
    EnquiryId::parse("--enquiry", text).map_err(|error| error.rule)
}

fn staff_id(text: &str) -> Result<StaffId, String> {
    StaffId::parse("--actor", text).map_err(|error| error.rule)
}

fn erasure_reason(text: &str) -> Result<ErasureReason, String> {
    serde_json::from_value(serde_json::Value::String(text.to_owned())).map_err(|_| {
        let names: Vec<String> = ErasureReason::ALL
            .iter()
            .filter_map(|reason| serde_json::to_value(reason).ok())
            .filter_map(|name| name.as_str().map(str::to_owned))
            .collect();
        format!("a reason is one of {}", names.join(", "))
    })
}

pub async fn run(data: &Path, keys: &MasterKeyArgs, args: Args) -> anyhow::Result<ExitCode> {
    let reason = args.reason;
    let (command, erased, whose): (Command, String, &str) = match (args.customer, args.enquiry) {
        (Some(customer_id), None) => {
            let erase = EraseCustomer {
                customer_id,
                reason,
            };
            (erase.into(), format!("customer {customer_id}"), "their")
        }
        (None, Some(enquiry_id)) => {
            let erase = EraseEnquiry { enquiry_id, reason };
            (erase.into(), format!("enquiry {enquiry_id}"), "its")
        }
        _ => anyhow::bail!("erase: name one of --customer or --enquiry"),
    };
    let stream = command.stream();
    let actor = args.actor;
    let ledger = super::open_ledger(data, StoreOptions::default(), keys.options()?)?;
    // The decision asks the directory where the customer stands.
    ledger
        .runner()
        .catch_up()
        .context("bringing the read models up to date")?;
    // A subject whose records came from another ledger's export has no key here to destroy.
    let foreign = ledger
        .keys()
        .is_foreign(&stream)
        .context("reading the data keys")?;
    let outcome = ledger.execute(command, CommandMeta::by(actor)).await;
    let erased = match outcome {
        Ok(executed) => {
            ledger
                .runner()
                .catch_up()
                .context("applying the erasure to the read models")?;
            Some(if foreign {
                format!(
                    "erased {erased} at position {}; {whose} personal data came sealed from \
                     another ledger's export without its key, so it never opened here and now \
                     reads as erased everywhere; the key is the exporting ledger's: erase \
                     {erased} there too",
                    executed.position
                )
            } else {
                format!(
                    "erased {erased} at position {}; {whose} data key is destroyed\n\
                     (its old wrapped bytes stay in log/db until sled reuses their space: the \
                     erasure is final on disk once this master key is gone; after erasures, run \
                     `master-key rotate` and destroy the old key file and its copies)",
                    executed.position
                )
            })
        }
        Err(error @ (CommandError::Domain(_) | CommandError::Invalid(_))) => {
            // Where it was erased only words the refusal: a failed read leaves the domain's.
            match erased_at(&ledger, &stream).ok().flatten() {
                Some(position) => eprintln!(
                    "erase: refused: {erased} was already erased, at position {position}; {whose} \
                     data key is destroyed and there is nothing left to erase"
                ),
                None => eprintln!("erase: refused: {error}"),
            }
            None
        }
        Err(error) => {
            ledger.close().await.ok();
            return Err(error).context("erase");
        }
    };
    ledger.close().await.context("closing the ledger")?;
    match erased {
        Some(report) => {
            print_out!("{report}")?;
            Ok(ExitCode::SUCCESS)
        }
        None => Ok(ExitCode::FAILURE),
    }
}

/// Where `stream` recorded its erasure (`CustomerErased`, `EnquiryErased`), if it did: a
/// refusal to erase it again says so, rather than the state machine's words.
fn erased_at(ledger: &ledger_app::Ledger, stream: &StreamId) -> anyhow::Result<Option<Position>> {
    let mut from_version = 0;
    loop {
        let page = ledger
            .log()
            .read_stream(stream, from_version, READ_PAGE_MAX)
            .context("reading the stream")?;
        let Some(last) = page.last() else {
            return Ok(None);
        };
        from_version = last.stream_version + 1;
        if let Some(erasure) = page.iter().find(|record| {
            matches!(
                record.event.event_type.as_str(),
                "CustomerErased" | "EnquiryErased"
            )
        }) {
            return Ok(Some(erasure.position));
        }
    }
}
