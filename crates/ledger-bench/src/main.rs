//! `ledger-bench`: `run` measures every figure of issue 8 and writes `BENCHMARKS.md`;
//! `durable-probe` is the short run of durable appends the harness traces with strace.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::{Parser, Subcommand};
use ledger_bench::figures::appends;
use ledger_bench::profile::{CLIENTS, HOT_ENTRIES, Profile};
use ledger_bench::run::{Settings, run};
use ledger_bench::scale;

/// jemalloc, as in `contact-ledger`: the import and rebuild figures run in this process, and
/// they should measure the allocator the ledger ships with.
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

#[derive(Debug, Parser)]
#[command(
    name = "ledger-bench",
    about = "The ledger's figures beside PostgreSQL (issue 8)"
)]
struct Cli {
    #[command(subcommand)]
    command: Commands,
}

#[derive(Debug, Subcommand)]
enum Commands {
    /// Every figure, the table, and BENCHMARKS.md.
    Run {
        /// `full` (make bench) or `quick` (make bench-quick).
        #[arg(long, default_value = "full")]
        profile: String,
        /// Events of the ledger of figures 2 and 4 (default: the profile's).
        #[arg(long)]
        ledger_events: Option<u64>,
        /// Events of the scale ledger of figures 5 to 8, 0 for figure 2's (default: the
        /// profile's: 10 M for `full`).
        #[arg(long)]
        scale_events: Option<u64>,
        /// Scratch space and the reused ledger.
        #[arg(long)]
        work: PathBuf,
        /// PostgreSQL connection string.
        #[arg(long, env = "BENCH_POSTGRES_URL")]
        postgres: String,
        /// The `contact-ledger` binary to serve with.
        #[arg(long)]
        server: PathBuf,
        /// Where to write the report.
        #[arg(long, default_value = "BENCHMARKS.md")]
        output: PathBuf,
        /// A markdown file with the analysis of misses, appended to the report.
        #[arg(long)]
        misses: Option<PathBuf>,
    },
    /// Builds the scale ledger of figures 5 to 8 ahead of a run (which reuses it), if no
    /// finished one is there.
    ScaleLedger {
        /// The bench work dir (`target/bench` for `make bench`).
        #[arg(long)]
        work: PathBuf,
        /// Events of the ledger (the issue's 10 M by default).
        #[arg(long, default_value_t = ledger_bench::profile::ISSUE_LEDGER_EVENTS)]
        events: u64,
    },
    /// 64 clients of durable single-event appends into a new store; prints the count.
    DurableProbe {
        #[arg(long)]
        dir: PathBuf,
        #[arg(long)]
        milliseconds: u64,
    },
}

async fn scale_ledger(work: &std::path::Path, events: u64) -> Result<(), String> {
    let events = Profile::FULL.with_scale_events(events)?.scale_events;
    let Some(events) = events else {
        return Err("events: must not be 0".to_owned());
    };
    let progress = |step: &str| eprintln!("ledger-bench: {step}");
    let scale = match scale::existing(work, events, &progress).await? {
        Some(scale) => scale,
        None => {
            scale::room_for(work, events).map_err(|why| format!("events: {why}"))?;
            scale::build(work, events, HOT_ENTRIES, &progress).await?
        }
    };
    println!(
        "{}: {} events, busy customer {} (built in {:.1} s + {:.1} s of catch-up)",
        scale.dir.display(),
        scale.events,
        scale.hot.id,
        scale.append.as_secs_f64(),
        scale.catch_up.as_secs_f64()
    );
    Ok(())
}

#[tokio::main(flavor = "multi_thread")]
async fn main() -> ExitCode {
    let outcome = match Cli::parse().command {
        Commands::Run {
            profile,
            ledger_events,
            scale_events,
            work,
            postgres,
            server,
            output,
            misses,
        } => {
            let profile = Profile::named(&profile)
                .and_then(|profile| match ledger_events {
                    Some(events) => profile.with_ledger_events(events),
                    None => Ok(profile),
                })
                .and_then(|profile| match scale_events {
                    Some(events) => profile.with_scale_events(events),
                    None => Ok(profile),
                });
            match profile {
                Ok(profile) => run(Settings {
                    profile,
                    work,
                    postgres_url: postgres,
                    server_binary: server,
                    output,
                    misses,
                })
                .await
                .map(|_| ()),
                Err(error) => {
                    eprintln!("error: {error}");
                    return ExitCode::from(2);
                }
            }
        }
        Commands::ScaleLedger { work, events } => scale_ledger(&work, events).await,
        Commands::DurableProbe { dir, milliseconds } => appends::run(
            &dir,
            CLIENTS,
            Duration::from_millis(milliseconds),
            &[0x42; 512],
        )
        .await
        .map(|probe| println!("acknowledged {}", probe.acknowledged)),
    };
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error}");
            ExitCode::FAILURE
        }
    }
}
