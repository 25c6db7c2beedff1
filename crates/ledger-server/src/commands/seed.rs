//! `contact-ledger seed`: writes a realistic, deterministic history into an empty ledger through
//! the normal append path, then builds every read model as `replay` does (into a new database,
//! of which only the compact copy is kept).
//!
//! It leaves [`DEMO_MARKER_FILE_NAME`] beside the ledger: a demo's customers are synthetic, so
//! `serve --show-tokens` may print one's mobile.
//!
//! Deterministic: the same `--customers`, `--years` and `--seed` give the same bytes and the
//! same head hash. Ledger time (`recorded_at`) comes from a stepping clock that starts just
//! after the history ends, so it is deterministic too and never earlier than what it records.

use std::path::Path;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Instant;

use anyhow::Context;
use ledger_app::KeyOptions;
use ledger_app::bulk::BulkError;
use ledger_app::personal::KeySource;
use ledger_domain::events::Event;
use ledger_store::{
    AppendRequest, EventLog, ExpectedVersion, NewEvent, SledEventLog, SteppingClock, StoreOptions,
};
use ledger_synth::{SynthConfig, SyntheticEvent};

use crate::progress;

/// Requests handed to the store per bulk append while seeding.
pub const SEED_CHUNK_REQUESTS: usize = 4096;

/// The file `seed` leaves in the data directory it wrote: the ledger is the synthetic demo, so
/// `serve --show-tokens` may print one of its customers' mobiles in a working example. A file
/// and not the config: `seed` writes no config, and a data directory keeps no other note of
/// how its history came.
pub const DEMO_MARKER_FILE_NAME: &str = "demo-ledger";

/// The `origin` of every event `seed` writes.
pub const SYNTHETIC_ORIGIN: &str = "synthetic";

#[derive(Debug, clap::Args)]
pub struct Args {
    /// How many customers the book starts from (the history adds about 10% more registrations).
    #[arg(long)]
    customers: u32,
    /// Years of history, ending 2026-11-01.
    #[arg(long, default_value_t = 3)]
    years: u32,
    /// The generator's seed: the same seed gives the same ledger.
    #[arg(long, default_value_t = 1)]
    seed: u64,
}

/// The append request for one generated event (its payload sealed by `append_sealed`), with
/// the event itself.
fn planned(synthetic: SyntheticEvent) -> (AppendRequest, Event) {
    let event = NewEvent {
        event_id: synthetic.event_id,
        event_type: synthetic.event.event_type().to_owned(),
        schema_version: synthetic.event.schema_version(),
        occurred_at: synthetic.occurred_at,
        actor: synthetic.actor,
        correlation_id: None,
        causation_id: None,
        origin: Some(SYNTHETIC_ORIGIN.to_owned()),
        payload: Vec::new(),
    };
    let request = AppendRequest {
        stream: synthetic.stream,
        expected: ExpectedVersion::Any,
        events: vec![event],
    };
    (request, synthetic.event)
}

pub async fn run(
    data: &Path,
    keys: &crate::keys::MasterKeyArgs,
    args: Args,
) -> anyhow::Result<ExitCode> {
    let config = SynthConfig {
        customers: args.customers,
        years: args.years,
        seed: args.seed,
        ..SynthConfig::default()
    };
    if let Err(error) = config.check() {
        eprintln!("error: {error}");
        return Ok(ExitCode::from(2));
    }
    let clock = SteppingClock::new(
        config.end + jiff::SignedDuration::from_mins(1),
        jiff::SignedDuration::from_millis(1),
    );
    let options = StoreOptions {
        clock: Arc::new(clock),
        ..StoreOptions::default()
    };
    crate::data_directory::create(data)?;
    let store = SledEventLog::open(data, options)
        .with_context(|| format!("cannot open the ledger in {}", data.display()))?;
    let existing = store.head().event_count;
    if existing > 0 {
        store.close().await.context("closing the ledger")?;
        anyhow::bail!(
            "the ledger in {} already holds {existing} events; seed writes into an empty ledger",
            data.display()
        );
    }
    let started = Instant::now();
    let bar = progress::bar(ledger_synth::events_estimate(&config), "seeding");
    // Data keys derived from the seed, so the same seed gives the same sealed bytes.
    let key_options = KeyOptions {
        source: KeySource::derived_from_seed(config.seed),
        ..keys.options()?
    };
    let ring = ledger_app::open_keys(&store, key_options).context("opening the data keys")?;
    let planned = ledger_synth::generate(&config).map(planned);
    let mut written = 0u64;
    ledger_app::bulk::append_sealed(&store, &ring, planned, SEED_CHUNK_REQUESTS, |outcomes| {
        for outcome in outcomes {
            outcome.context("the store refused a generated event")?;
            written += 1;
        }
        bar.set_position(written);
        anyhow::Ok(())
    })
    .await
    .map_err(|error| match error {
        BulkError::Caller(error) => error,
        other => anyhow::Error::new(other).context("seeding"),
    })?;
    bar.finish_and_clear();
    let head = store.head();
    let seconds = started.elapsed().as_secs_f64();
    store.close().await.context("closing the ledger")?;
    // The database stays open while any handle lives; the read models reopen it next.
    drop(store);
    println!(
        "seeded {written} events for {} customers over {} years (seed {}) in {seconds:.1} s; head position {} hash {}",
        config.customers,
        config.years,
        config.seed,
        head.position,
        head.hash_hex()
    );
    drop(ring);
    write_demo_marker(data, &config)?;
    // Every read model now, so a server started next is ready at once; built as `replay`
    // builds them, into a database kept only in its compact copy.
    super::replay::rebuild_every_projection(data, keys).await?;
    Ok(ExitCode::SUCCESS)
}

/// Leaves [`DEMO_MARKER_FILE_NAME`] in `data`, saying how the demo was generated.
fn write_demo_marker(data: &Path, config: &SynthConfig) -> anyhow::Result<()> {
    let path = data.join(DEMO_MARKER_FILE_NAME);
    let text = format!(
        "Written by `contact-ledger seed --customers {} --years {} --seed {}`: the customers it \
         registered are synthetic.\n`serve --show-tokens` prints a working caller lookup with \
         one of their mobiles only where this file is.\n",
        config.customers, config.years, config.seed
    );
    std::fs::write(&path, text).with_context(|| format!("cannot write {}", path.display()))
}
