//! `contact-ledger serve`: the GraphQL API, subscriptions and GraphiQL over HTTP.
//!
//! Reads `DIR/ledger.toml` (or `--config FILE`); when there is none, writes one with a random
//! token per role and prints the tokens once. Stops on SIGTERM or Ctrl-C: stops accepting,
//! finishes in-flight requests (and so their appends), then drains the store and flushes.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use ledger_app::Ledger;
use ledger_graphql::ApiOptions;
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
}

/// The config at `path`, or a new one written there (its tokens printed once).
fn load_or_create_config(path: &Path) -> anyhow::Result<Config> {
    if path.exists() {
        return Ok(Config::load(path)?);
    }
    let config = Config::generate();
    config.write_new(path)?;
    println!(
        "Wrote {} with one bearer token per role (shown once; they stay in that file):",
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
    Ok(config)
}

pub async fn run(data: &Path, args: Args) -> anyhow::Result<ExitCode> {
    let config_path = args.config.unwrap_or_else(|| data.join("ledger.toml"));
    std::fs::create_dir_all(data).with_context(|| format!("cannot create {}", data.display()))?;
    let config = load_or_create_config(&config_path)?;
    let ledger = Ledger::open(data, StoreOptions::default())
        .with_context(|| format!("cannot open the ledger in {}", data.display()))?;
    let runner = ledger.start();
    let options = ApiOptions {
        introspection: config.server.introspection,
        ..ApiOptions::default()
    };
    let schema = ledger_graphql::build_schema(ledger.clone(), options);
    let state = AppState::new(ledger.clone(), schema, Tokens::from_config(&config));
    let listen = args.listen.unwrap_or(config.server.listen);
    let listener = tokio::net::TcpListener::bind(listen)
        .await
        .with_context(|| format!("cannot listen on {listen}"))?;
    let address = listener
        .local_addr()
        .context("reading the listening address")?;
    println!(
        "contact-ledger serving {} on http://{address}/ (GraphiQL; POST /graphql; ws /graphql/ws)",
        data.display()
    );
    println!("bearer tokens: {}", config_path.display());
    axum::serve(listener, app(state))
        .with_graceful_shutdown(shutdown_signal())
        .await
        .context("serving HTTP")?;
    eprintln!("shutting down: draining appends and flushing");
    ledger.close().await.context("closing the ledger")?;
    runner.abort();
    Ok(ExitCode::SUCCESS)
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
