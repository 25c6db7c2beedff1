//! `ledger-bench`: `run` measures every figure of issue 8 and writes `BENCHMARKS.md`;
//! `durable-probe` is the short run of durable appends the harness traces with strace.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::{Parser, Subcommand};
use ledger_bench::figures::appends;
use ledger_bench::profile::{CLIENTS, Profile};
use ledger_bench::run::{Settings, run};

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
        /// Events of the ledger (default: the profile's).
        #[arg(long)]
        ledger_events: Option<u64>,
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
    /// 64 clients of durable single-event appends into a new store; prints the count.
    DurableProbe {
        #[arg(long)]
        dir: PathBuf,
        #[arg(long)]
        milliseconds: u64,
    },
}

#[tokio::main(flavor = "multi_thread")]
async fn main() -> ExitCode {
    let outcome = match Cli::parse().command {
        Commands::Run {
            profile,
            ledger_events,
            work,
            postgres,
            server,
            output,
            misses,
        } => {
            let profile = Profile::named(&profile).and_then(|profile| match ledger_events {
                Some(events) => profile.with_ledger_events(events),
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
