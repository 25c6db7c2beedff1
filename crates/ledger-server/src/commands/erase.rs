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
use ledger_app::{CommandError, CommandMeta, Ledger};
use ledger_domain::DomainError;
use ledger_domain::commands::{Command, EraseCustomer, EraseEnquiry};
use ledger_domain::events::Event;
use ledger_domain::ids::{CustomerId, EnquiryId, Position, StaffId};
use ledger_domain::kinds::ErasureReason;
use ledger_store::{EventLog, SledEventLog, StoreOptions};

use crate::keys::MasterKeyArgs;

/// Records read per page while looking for an enquiry's sender.
const SENDER_PAGE_RECORDS: usize = 4096;

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
    let actor = args.actor;
    let ledger = Ledger::open(data, StoreOptions::default(), keys.options()?)
        .with_context(|| format!("cannot open the ledger in {}", data.display()))?;
    // The decision asks the directory where the customer stands.
    ledger
        .runner()
        .catch_up()
        .context("bringing the read models up to date")?;
    let outcome = ledger.execute(command, CommandMeta::by(actor)).await;
    let erased = match outcome {
        Ok(executed) => {
            ledger
                .runner()
                .catch_up()
                .context("applying the erasure to the read models")?;
            Some(format!(
                "erased {erased} at position {}; {whose} data key is destroyed",
                executed.position
            ))
        }
        Err(CommandError::Domain(DomainError::NotFound { .. }))
            if let Some(enquiry_id) = args.enquiry
                && let Some(customer_id) = sender_of(ledger.log(), enquiry_id)? =>
        {
            eprintln!(
                "erase: refused: enquiry {enquiry_id} does not exist on a stream of its own: \
                 customer {customer_id} sent it, so it is on the customer's stream, sealed under \
                 their data key, and is erased with them (erase --customer {customer_id})"
            );
            None
        }
        Err(error @ (CommandError::Domain(_) | CommandError::Invalid(_))) => {
            eprintln!("erase: refused: {error}");
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

/// The customer who sent the online enquiry `enquiry`, when the log holds its
/// `OnlineEnquiryReceived` on a customer's stream: the erasure of an enquiry looks only at the
/// enquiry's own stream, where an anonymous one is. Read from the log, page by page, and only
/// once an erasure was refused, so no erasure waits for it.
fn sender_of(log: &SledEventLog, enquiry: EnquiryId) -> anyhow::Result<Option<CustomerId>> {
    let mut next = Position(1);
    loop {
        let page = log
            .read_all(next, SENDER_PAGE_RECORDS)
            .context("reading the ledger for the enquiry's sender")?;
        let Some(last) = page.last() else {
            return Ok(None);
        };
        next = last.position.next();
        for record in &page {
            let event = &record.event;
            if event.event_type != "OnlineEnquiryReceived" {
                continue;
            }
            if let Ok(Event::OnlineEnquiryReceived(received)) = ledger_app::personal::open_redacted(
                &event.event_type,
                event.schema_version,
                &event.payload,
            ) && received.enquiry_id == enquiry
            {
                return Ok(received.customer_id);
            }
        }
    }
}
