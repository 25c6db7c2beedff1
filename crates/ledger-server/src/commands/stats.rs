//! `contact-ledger stats`: what the ledger holds — event counts by type and by channel, the
//! head, and the bytes on disk.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::ExitCode;

use anyhow::Context;
use ledger_domain::events::Event;
use ledger_domain::ids::Position;
use ledger_store::EventLog;
use serde::Serialize;

use ledger_store::StoreOptions;

/// Records read per page while counting.
pub const STATS_PAGE_RECORDS: usize = 4096;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Print one JSON object instead of text.
    #[arg(long)]
    json: bool,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct Stats {
    events: u64,
    head_position: u64,
    head_hash: String,
    bytes_on_disk: u64,
    by_type: BTreeMap<String, u64>,
    contacts_by_channel: BTreeMap<String, u64>,
    /// The last position each read model has applied.
    projection_checkpoints: BTreeMap<String, u64>,
}

pub async fn run(
    data: &Path,
    keys: &crate::keys::MasterKeyArgs,
    args: Args,
) -> anyhow::Result<ExitCode> {
    let ledger = super::open_ledger(data, StoreOptions::default(), keys.options()?)?;
    let store = ledger.log();
    let head = store.head();
    let mut stats = Stats {
        events: head.event_count,
        head_position: head.position.get(),
        head_hash: hex::encode(head.hash),
        bytes_on_disk: 0,
        by_type: BTreeMap::new(),
        contacts_by_channel: BTreeMap::new(),
        projection_checkpoints: ledger
            .runner()
            .checkpoints()
            .into_iter()
            .map(|(name, position)| (name.to_owned(), position.get()))
            .collect(),
    };
    let mut next = Position(1);
    loop {
        let page = store
            .read_all(next, STATS_PAGE_RECORDS)
            .context("reading the ledger")?;
        let Some(last) = page.last() else { break };
        next = last.position.next();
        for record in &page {
            let event = &record.event;
            *stats.by_type.entry(event.event_type.clone()).or_default() += 1;
            if event.event_type == "ContactRecorded"
                && let Ok(Event::ContactRecorded(contact)) = ledger_app::personal::open_redacted(
                    &event.event_type,
                    event.schema_version,
                    &event.payload,
                )
            {
                let channel = serde_json::to_value(contact.channel)
                    .ok()
                    .and_then(|v| v.as_str().map(str::to_owned));
                *stats
                    .contacts_by_channel
                    .entry(channel.unwrap_or_default())
                    .or_default() += 1;
            }
        }
    }
    ledger.close().await.context("closing the ledger")?;
    stats.bytes_on_disk = super::directory_bytes(data);
    if args.json {
        print_out!(
            "{}",
            serde_json::to_string(&stats).context("writing the stats")?
        )?;
    } else {
        print_out!("events:        {}", stats.events)?;
        print_out!(
            "head:          position {} hash {}",
            stats.head_position,
            stats.head_hash
        )?;
        print_out!("bytes on disk: {}", stats.bytes_on_disk)?;
        print_out!("by type:")?;
        for (name, count) in &stats.by_type {
            print_out!("  {name:<32} {count}")?;
        }
        print_out!("projection checkpoints:")?;
        for (name, position) in &stats.projection_checkpoints {
            print_out!("  {name:<32} {position}")?;
        }
        print_out!("contacts by channel:")?;
        for (channel, count) in &stats.contacts_by_channel {
            print_out!("  {channel:<32} {count}")?;
        }
    }
    Ok(ExitCode::SUCCESS)
}
