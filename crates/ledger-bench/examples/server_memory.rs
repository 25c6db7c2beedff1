//! Figure 8a's server memory, phase by phase: starts the server on the bench's scale ledger
//! (WORK/scale-ledger-EVENTS, built by `make bench`), runs the load of figures 5b to 8 in the
//! same order as the bench (wrk warm-up, the two timeline runs, the caller lookup, timelines of
//! customers drawn at random, the screen pops, an auditor's `verifyLedger`) and prints the
//! server's resident set (`VmRSS`), its peak so far (`VmHWM`) and its anonymous memory after
//! each phase, with the highest resident set a sampler saw during it (every 250 ms, from
//! `/proc`, which costs the server nothing).
//!
//! `cargo run --release -p ledger-bench --example server_memory -- WORK SERVER_BINARY [EVENTS]`
//!
//! The phases add to the ledger as the bench's do (access records, figure 7's contacts).

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use ledger_bench::figures::subscription;
use ledger_bench::profile::Profile;
use ledger_bench::run::{
    HTTP_WARM_UP, LOOKUP_QUERY, SERVER_ADDRESS, TIMELINE_QUERY, spread_timelines,
};
use ledger_bench::scale;
use ledger_bench::server::{self, Server, WRK_CONNECTIONS, WRK_CONNECTIONS_SHALLOW};
use serde_json::json;

const SAMPLE_EVERY: Duration = Duration::from_millis(250);

/// Reports after the load, 2 s apart: what the server does with its memory once idle.
const IDLE_REPORTS: usize = 15;

/// A `/proc/PID/status` field in bytes, 0 once the process is gone.
fn status_bytes(pid: u32, field: &str) -> u64 {
    server::process_status_bytes(pid, field).unwrap_or(0)
}

fn mib(bytes: u64) -> String {
    format!("{} MiB", bytes >> 20)
}

struct Phases {
    pid: u32,
    highest: Arc<AtomicU64>,
    started: Instant,
}

impl Phases {
    fn report(&self, phase: &str, took: Duration) {
        let highest = self.highest.swap(0, Ordering::Relaxed);
        println!(
            "{:>7.1} s  {phase:<28} {:>6.1} s  rss {:>8}  highest sampled {:>8}  anon {:>8}  hwm {:>8}",
            self.started.elapsed().as_secs_f64(),
            took.as_secs_f64(),
            mib(status_bytes(self.pid, "VmRSS:")),
            mib(highest),
            mib(status_bytes(self.pid, "RssAnon:")),
            mib(status_bytes(self.pid, "VmHWM:")),
        );
    }
}

#[tokio::main]
async fn main() -> Result<(), String> {
    let mut args = std::env::args().skip(1);
    let usage = "usage: server_memory WORK SERVER_BINARY [EVENTS]";
    let work = PathBuf::from(args.next().ok_or(usage)?);
    let binary = PathBuf::from(args.next().ok_or(usage)?);
    let events = match args.next() {
        Some(text) => text.parse().map_err(|error| format!("EVENTS: {error}"))?,
        None => 10_000_000,
    };
    let progress = |step: &str| eprintln!("server_memory: {step}");
    let ledger = scale::existing(&work, events, &progress)
        .await?
        .ok_or_else(|| {
            format!(
                "no scale ledger of {events} events under {}",
                work.display()
            )
        })?;
    let profile = Profile::FULL;
    let scratch = std::env::temp_dir().join("server-memory");
    std::fs::create_dir_all(&scratch).map_err(|error| format!("{}: {error}", scratch.display()))?;

    let started = Instant::now();
    let mut server = Server::start(&binary, &ledger.dir, SERVER_ADDRESS).await?;
    let pid = server.pid();
    let highest = Arc::new(AtomicU64::new(0));
    let stop = Arc::new(AtomicBool::new(false));
    let sampler = {
        let highest = Arc::clone(&highest);
        let stop = Arc::clone(&stop);
        std::thread::spawn(move || {
            while !stop.load(Ordering::Relaxed) {
                highest.fetch_max(status_bytes(pid, "VmRSS:"), Ordering::Relaxed);
                std::thread::sleep(SAMPLE_EVERY);
            }
        })
    };
    let phases = Phases {
        pid,
        highest,
        started,
    };
    phases.report("ready", started.elapsed());

    let address = server.address.clone();
    let timeline =
        json!({ "query": TIMELINE_QUERY, "variables": { "id": ledger.hot.id.to_string() } });
    let lookup = json!({ "query": LOOKUP_QUERY, "variables": { "value": ledger.hot.mobile } });
    let runs = [
        ("warm-up (wrk)", &timeline, HTTP_WARM_UP, WRK_CONNECTIONS),
        (
            "timeline, 32 connections",
            &timeline,
            profile.http,
            WRK_CONNECTIONS,
        ),
        (
            "timeline, 16 connections",
            &timeline,
            profile.http,
            WRK_CONNECTIONS_SHALLOW,
        ),
        ("caller lookup", &lookup, profile.http, WRK_CONNECTIONS),
    ];
    for (phase, body, duration, connections) in runs {
        let began = Instant::now();
        let summary = server::wrk(&address, body, duration, connections, &scratch)?;
        phases.report(phase, began.elapsed());
        println!("           {summary:?}");
    }
    let began = Instant::now();
    let (summary, customers) = spread_timelines(&address, profile.http, &scratch).await?;
    phases.report(
        &format!("timelines of {customers} customers"),
        began.elapsed(),
    );
    println!("           {summary:?}");
    let began = Instant::now();
    subscription::screen_pops(&address, &ledger.hot, profile.screen_pops).await?;
    phases.report("screen pops", began.elapsed());
    let began = Instant::now();
    let (_, verified) = server::verify_ledger(&address).await?;
    phases.report(&format!("verifyLedger ({verified})"), began.elapsed());
    for _ in 0..IDLE_REPORTS {
        tokio::time::sleep(Duration::from_secs(2)).await;
        phases.report("idle", Duration::from_secs(2));
    }
    stop.store(true, Ordering::Relaxed);
    let _ = sampler.join();
    server.stop();
    Ok(())
}
