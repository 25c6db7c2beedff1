//! `contact-ledger serve`: the GraphQL API, subscriptions and GraphiQL over HTTP.
//!
//! Reads `DIR/ledger.toml` (or `--config FILE`); when there is none, writes one with a random
//! token per role and a random checkpoint signing key, and prints the tokens once, after the
//! ledger has opened and the address is taken (a server that does not start writes none). Prints the
//! checkpoint public key on start, and brings the Merkle tree (which the open's walk of the log
//! already built) up to the head on a blocking thread so that the first auditor does not wait
//! for it. Stops on SIGTERM or Ctrl-C: stops accepting, finishes
//! in-flight requests (and so their appends), then drains the store and flushes.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use ledger_app::Ledger;
use ledger_domain::events::Event;
use ledger_domain::ids::Position;
use ledger_domain::values::IdentifierKind;
use ledger_graphql::ApiOptions;
use ledger_store::EventLog;
use ledger_store::StoreOptions;

use crate::config::Config;
use crate::server::auth::Tokens;
use crate::server::{AppState, app};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The address to listen on (default: the config's, 127.0.0.1:8080).
    #[arg(long, value_name = "ADDR")]
    listen: Option<SocketAddr>,
    /// The config file (default: DIR/ledger.toml).
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
    /// Print the bearer tokens and example queries on start (`make run` does, for the demo).
    #[arg(long)]
    show_tokens: bool,
}

/// The config at `path`, read and checked now; `None` when there is none yet (one is written
/// once the ledger is open and the address taken).
fn load_config(path: &Path) -> anyhow::Result<Option<Config>> {
    if path.exists() {
        Ok(Some(Config::load(path)?))
    } else {
        Ok(None)
    }
}

/// Prints the config's bearer tokens: once when it is written, or on every start with
/// `--show-tokens`.
fn print_tokens(path: &Path, config: &Config, created: bool) {
    let note = if created { "written now to" } else { "kept in" };
    println!(
        "Bearer tokens, one per role ({note} {}; paste one into GraphiQL's Headers tab):",
        path.display()
    );
    for token in &config.auth.tokens {
        println!(
            "  {:<10} {}  ({})",
            token.role.as_str(),
            token.token,
            token.subject
        );
    }
}

/// What the example lookup names for a ledger that is not the demo: its customers are real
/// people, whose numbers do not belong in a terminal or a process log.
pub const EXAMPLE_MOBILE_PLACEHOLDER: &str = "<the caller's mobile>";

/// The mobile of the first customer of the demo ledger `seed` wrote in `data`, for a working
/// example lookup; `None` for any other ledger, whose customers are not opened. A demo is known
/// by two marks: `seed`'s file in the data directory ([`super::seed::DEMO_MARKER_FILE_NAME`]),
/// and the registration's origin, the generator's ([`super::seed::SYNTHETIC_ORIGIN`]), so
/// neither a marker left beside a ledger imported later nor an integrator's line claiming that
/// origin is enough; only a registration of that origin is opened. No access record is made
/// for it: a synthetic customer is nobody.
fn demo_mobile(data: &Path, ledger: &Ledger) -> Option<String> {
    if !data.join(super::seed::DEMO_MARKER_FILE_NAME).is_file() {
        return None;
    }
    let first_page = ledger
        .log()
        .read_all(Position(1), ledger_store::limits::READ_PAGE_MAX)
        .ok()?;
    first_page
        .iter()
        .filter(|record| {
            record.event.event_type == "CustomerRegistered"
                && record.event.origin.as_deref() == Some(super::seed::SYNTHETIC_ORIGIN)
        })
        .find_map(|record| {
            let Ok(Event::CustomerRegistered(registered)) =
                ledger_app::runner::decode(ledger.keys(), record)
            else {
                return None;
            };
            registered
                .identifiers
                .iter()
                .find(|identifier| identifier.kind() == IdentifierKind::Mobile)
                .map(|identifier| identifier.value().to_owned())
        })
        // An erased customer's mobile reads as erased: nothing to look up.
        .filter(|mobile| mobile.len() == 11 && mobile.bytes().all(|byte| byte.is_ascii_digit()))
}

/// Three queries to paste into GraphiQL: an agent's caller lookup, an analyst's segment and an
/// auditor's verification. The lookup names a customer's number only on the demo ledger.
fn print_examples(data: &Path, ledger: &Ledger) {
    let (caller, hint) = match demo_mobile(data, ledger) {
        Some(mobile) => (
            format!("+86 {} {} {}", &mobile[..3], &mobile[3..7], &mobile[7..]),
            "any spelling of the number works",
        ),
        None => (
            EXAMPLE_MOBILE_PLACEHOLDER.to_owned(),
            "put a customer's mobile in its place, in any spelling",
        ),
    };
    println!("Example queries for GraphiQL:");
    println!("  # agent: who is calling from {caller}? ({hint})");
    println!(
        "  {{ customerByIdentifier(kind: MOBILE, value: \"{caller}\") {{ name identifiers {{ kind value }} timeline(first: 10) {{ edges {{ node {{ occurredAt channel title summary }} }} }} }} }}"
    );
    println!("  # analyst: the key accounts, their share of the book, their largest members");
    println!(
        "  {{ segment(name: \"key-accounts\") {{ size shareOfCustomers shareOfPremium members(first: 10) {{ edges {{ node {{ name metrics {{ premiumInForce policiesActive lastCsat }} }} }} }} }} }}"
    );
    println!("  # auditor: is the ledger intact?");
    println!(
        "  {{ ledger {{ headPosition headHash eventCount }} verifyLedger {{ ok problems {{ position message }} }} }}"
    );
}

pub async fn run(
    data: &Path,
    keys: &crate::keys::MasterKeyArgs,
    args: Args,
) -> anyhow::Result<ExitCode> {
    let config_path = args
        .config
        .clone()
        .unwrap_or_else(|| data.join("ledger.toml"));
    // A server that does not start leaves no directory it made: a mistyped `--data` would
    // otherwise leave an empty ledger directory behind to be mistaken for a real one.
    let new_directory = !data.exists();
    let started = start(data, keys, &args, &config_path).await;
    if started.is_err() && new_directory {
        // Best effort: nothing was appended in it (the server never served).
        let _ = std::fs::remove_dir_all(data);
    }
    let Started {
        ledger,
        listener,
        config,
        created,
        checkpoint_key,
    } = started?;
    if created {
        config.write_new(&config_path)?;
    }
    if created || args.show_tokens {
        print_tokens(&config_path, &config, created);
    }
    let runner = ledger.start();
    build_tree(&ledger);
    let options = ApiOptions {
        introspection: config.server.introspection,
        checkpoint_key: checkpoint_key.clone(),
        ..ApiOptions::default()
    };
    let schema = ledger_graphql::build_schema(ledger.clone(), options);
    let state = AppState::new(ledger.clone(), schema, Tokens::from_config(&config));
    tokio::spawn(crate::server::metrics::upkeep());
    let address = listener
        .local_addr()
        .context("reading the listening address")?;
    println!(
        "contact-ledger serving {} on http://{address}/ (GraphiQL; POST /graphql; ws /graphql/ws)",
        data.display()
    );
    println!("bearer tokens: {}", config_path.display());
    match &checkpoint_key {
        Some(key) => println!(
            "checkpoint public key (Ed25519, give it to auditors): {}",
            ledger_proof::public_key_text(&key.verifying_key())
        ),
        None => println!(
            "signed checkpoints: off ({} has no [proofs] signing_key)",
            config_path.display()
        ),
    }
    if args.show_tokens {
        print_examples(data, &ledger);
    }
    axum::serve(listener, app(state))
        .with_graceful_shutdown(shutdown_signal())
        .await
        .context("serving HTTP")?;
    eprintln!("shutting down: draining appends and access records, flushing");
    ledger.close().await.context("closing the ledger")?;
    runner.abort();
    Ok(ExitCode::SUCCESS)
}

/// A server ready to serve: the ledger open and the address taken.
struct Started {
    ledger: Ledger,
    listener: tokio::net::TcpListener,
    config: Config,
    /// The config is new (not written yet).
    created: bool,
    checkpoint_key: Option<ledger_proof::SigningKey>,
}

/// Opens the ledger in `data` (made if missing, its owner's only) and takes the address, with the config found
/// at `config_path` or a new one.
async fn start(
    data: &Path,
    keys: &crate::keys::MasterKeyArgs,
    args: &Args,
    config_path: &Path,
) -> anyhow::Result<Started> {
    crate::data_directory::create(data)?;
    // A config that is there is checked before the (long) open; a new one is written, and its
    // tokens printed, only once the ledger has opened and the address is taken, so a server
    // that never starts (a damaged ledger, a wrong key, a busy port) leaves no secrets behind.
    let existing = load_config(config_path)?;
    let created = existing.is_none();
    let config = existing.unwrap_or_else(Config::generate);
    let checkpoint_key = config
        .checkpoint_key()
        .with_context(|| format!("{}: proofs.signing_key", config_path.display()))?;
    let options = StoreOptions {
        faults: test_fault_hook()?,
        ..StoreOptions::default()
    };
    let ledger = Ledger::open(data, options, keys.options()?)
        .with_context(|| format!("cannot open the ledger in {}", data.display()))?;
    super::remove_interrupted_spools(data)?;
    let listen = args.listen.unwrap_or(config.server.listen);
    let listener = tokio::net::TcpListener::bind(listen)
        .await
        .with_context(|| format!("cannot listen on {listen}"))?;
    Ok(Started {
        ledger,
        listener,
        config,
        created,
        checkpoint_key,
    })
}

/// Builds the Merkle tree up to the head on a blocking thread; requests that arrive meanwhile
/// wait for it (they would build it themselves otherwise). A failure is logged: each proof
/// request then tries again, and reports its own failure.
fn build_tree(ledger: &Ledger) {
    let ledger = ledger.clone();
    tokio::task::spawn_blocking(move || {
        let started = std::time::Instant::now();
        match ledger.tree_head() {
            Ok(head) => tracing::info!(
                records = head.size,
                elapsed_ms = started.elapsed().as_millis(),
                "built the Merkle tree"
            ),
            Err(failure) => tracing::warn!(%failure, "could not build the Merkle tree"),
        }
    });
}

/// The environment variable of the test hook below.
pub const TEST_FAULT_VARIABLE: &str = "CONTACT_LEDGER_TEST_FAULT";

/// A TEST HOOK, never set in production: with `CONTACT_LEDGER_TEST_FAULT=<point>` (one of
/// `before_write`, `before_flush`, `before_sync`, `after_sync`), each SIGUSR1 the process gets
/// makes the store's next group commit fail at that step, as a failing disk would. The
/// reliability tests use it to check, through the real server, that a failed write or sync is
/// never acknowledged and that the store then refuses appends until it is restarted. Unset, the
/// failpoints stay unarmed (one relaxed atomic load per step).
fn test_fault_hook() -> anyhow::Result<ledger_store::Faults> {
    let faults = ledger_store::Faults::new();
    let Ok(name) = std::env::var(TEST_FAULT_VARIABLE) else {
        return Ok(faults);
    };
    let point = ledger_store::FaultPoint::ALL
        .into_iter()
        .find(|point| point.name() == name)
        .with_context(|| {
            format!("{TEST_FAULT_VARIABLE}: `{name}` is not a failpoint (before_write, before_flush, before_sync, after_sync)")
        })?;
    eprintln!(
        "TEST HOOK {TEST_FAULT_VARIABLE}: each SIGUSR1 fails the next group commit at {name}"
    );
    #[cfg(unix)]
    {
        let mut signal =
            tokio::signal::unix::signal(tokio::signal::unix::SignalKind::user_defined1())
                .context("listening for SIGUSR1")?;
        let armed = faults.clone();
        tokio::spawn(async move {
            while signal.recv().await.is_some() {
                armed.arm(point, ledger_store::FaultMode::Once);
            }
        });
    }
    Ok(faults)
}

/// Resolves on Ctrl-C or SIGTERM.
async fn shutdown_signal() {
    let interrupt = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = interrupt => {}
        () = terminate => {}
    }
}
