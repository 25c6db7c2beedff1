//! PostgreSQL beside the ledger: the `events` table with the issue's `(stream, version)` unique
//! index, and the same workloads — 1,000-row INSERT transactions, 64 connections of single-row
//! committed INSERTs, and the indexed read of a stream's newest page.
//!
//! It uses the synchronous `postgres` client on plain threads, so both sides' clients are
//! measured by the same code (a `Latencies` per client, merged). PostgreSQL's durability
//! settings are read back and reported: a run with `fsync` or `synchronous_commit` off is
//! refused, since it would compare durable appends with non-durable ones.

use std::time::{Duration, Instant};

use postgres::{Client, NoTls};

use crate::dataset::Row;
use crate::profile::POSTGRES_ROWS_PER_TRANSACTION;
use crate::stats::Latencies;

/// Columns of one row in an INSERT (its parameters).
const COLUMNS: usize = 7;

const CREATE: &str = "
    DROP TABLE IF EXISTS {table};
    CREATE TABLE {table} (
        position bigserial PRIMARY KEY,
        stream text NOT NULL,
        version bigint NOT NULL,
        event_id bytea NOT NULL,
        event_type text NOT NULL,
        occurred_at_us bigint NOT NULL,
        actor text NOT NULL,
        payload bytea NOT NULL,
        UNIQUE (stream, version)
    );";

/// Runs PostgreSQL work on a plain thread: the sync client runs its own tokio runtime, which
/// cannot start on a thread that is already inside the bench's runtime.
pub fn off_runtime<T: Send>(work: impl FnOnce() -> Result<T, String> + Send) -> Result<T, String> {
    std::thread::scope(|scope| {
        scope
            .spawn(work)
            .join()
            .unwrap_or_else(|_| Err("the PostgreSQL thread panicked".to_owned()))
    })
}

pub fn connect(url: &str) -> Result<Client, String> {
    Client::connect(url, NoTls).map_err(|error| format!("PostgreSQL at {url}: {error}"))
}

/// The server version and its durability settings; an error when either is off.
pub fn durability(url: &str) -> Result<String, String> {
    let mut client = connect(url)?;
    let mut settings = Vec::new();
    for name in [
        "server_version",
        "fsync",
        "synchronous_commit",
        "wal_sync_method",
    ] {
        let row = client
            .query_one(&format!("SHOW {name}"), &[])
            .map_err(|error| format!("SHOW {name}: {error}"))?;
        let value: String = row.get(0);
        if matches!(name, "fsync" | "synchronous_commit") && value == "off" {
            return Err(format!(
                "PostgreSQL has {name} = off: its commits would not be durable"
            ));
        }
        settings.push(format!("{name} = {value}"));
    }
    Ok(settings.join(", "))
}

pub fn create_table(client: &mut Client, table: &str) -> Result<(), String> {
    client
        .batch_execute(&CREATE.replace("{table}", table))
        .map_err(|error| format!("creating {table}: {error}"))
}

fn insert_statement(table: &str, rows: usize) -> String {
    let mut text = format!(
        "INSERT INTO {table} (stream, version, event_id, event_type, occurred_at_us, actor, payload) VALUES "
    );
    for row in 0..rows {
        if row > 0 {
            text.push(',');
        }
        let first = row * COLUMNS;
        let placeholders: Vec<String> = (1..=COLUMNS)
            .map(|column| format!("${}", first + column))
            .collect();
        text.push('(');
        text.push_str(&placeholders.join(","));
        text.push(')');
    }
    text
}

fn parameters(rows: &[Row]) -> Vec<&(dyn postgres::types::ToSql + Sync)> {
    let mut parameters: Vec<&(dyn postgres::types::ToSql + Sync)> =
        Vec::with_capacity(rows.len() * COLUMNS);
    for row in rows {
        parameters.push(&row.stream);
        parameters.push(&row.version);
        parameters.push(&row.event_id);
        parameters.push(&row.event_type);
        parameters.push(&row.occurred_at_us);
        parameters.push(&row.actor);
        parameters.push(&row.payload);
    }
    parameters
}

/// Figure 2's PostgreSQL side: every row in committed transactions of
/// `POSTGRES_ROWS_PER_TRANSACTION` rows (one multi-row INSERT each). Returns the time taken.
pub fn bulk_insert(url: &str, table: &str, rows: &[Row]) -> Result<Duration, String> {
    let mut client = connect(url)?;
    create_table(&mut client, table)?;
    let full = client
        .prepare(&insert_statement(table, POSTGRES_ROWS_PER_TRANSACTION))
        .map_err(|error| format!("preparing the INSERT: {error}"))?;
    let started = Instant::now();
    for chunk in rows.chunks(POSTGRES_ROWS_PER_TRANSACTION) {
        let mut transaction = client
            .transaction()
            .map_err(|error| format!("BEGIN: {error}"))?;
        let parameters = parameters(chunk);
        let inserted = if chunk.len() == POSTGRES_ROWS_PER_TRANSACTION {
            transaction.execute(&full, &parameters)
        } else {
            transaction.execute(&insert_statement(table, chunk.len()), &parameters)
        }
        .map_err(|error| format!("INSERT: {error}"))?;
        if inserted != u64::try_from(chunk.len()).unwrap_or(u64::MAX) {
            return Err(format!("INSERT wrote {inserted} rows of {}", chunk.len()));
        }
        transaction
            .commit()
            .map_err(|error| format!("COMMIT: {error}"))?;
    }
    Ok(started.elapsed())
}

/// Figure 3's PostgreSQL side: `clients` connections, each inserting single rows (each its own
/// committed transaction) into its own stream for `duration`. Returns rows and latencies.
pub fn concurrent_inserts(
    url: &str,
    table: &str,
    clients: usize,
    duration: Duration,
    payload: &[u8],
) -> Result<(u64, Duration, Latencies), String> {
    create_table(&mut connect(url)?, table)?;
    let mut connections = Vec::with_capacity(clients);
    for _ in 0..clients {
        connections.push(connect(url)?);
    }
    let statement = insert_statement(table, 1);
    let started = Instant::now();
    let deadline = started + duration;
    let outcomes: Vec<Result<(u64, Latencies), String>> = std::thread::scope(|scope| {
        let handles: Vec<_> = connections
            .into_iter()
            .enumerate()
            .map(|(index, mut client)| {
                let statement = &statement;
                scope.spawn(move || {
                    let prepared = client
                        .prepare(statement)
                        .map_err(|error| format!("preparing: {error}"))?;
                    let mut latencies = Latencies::new();
                    let mut row = Row {
                        stream: format!("pg-client-{index}"),
                        version: 0,
                        event_id: Vec::new(),
                        event_type: "ContactRecorded".to_owned(),
                        occurred_at_us: 0,
                        actor: "bench-agent".to_owned(),
                        payload: payload.to_vec(),
                    };
                    let mut inserted = 0;
                    while Instant::now() < deadline {
                        row.version += 1;
                        row.event_id = uuid::Uuid::now_v7().as_bytes().to_vec();
                        let begun = Instant::now();
                        client
                            .execute(&prepared, &parameters(std::slice::from_ref(&row)))
                            .map_err(|error| format!("INSERT: {error}"))?;
                        latencies.record(begun.elapsed());
                        inserted += 1;
                    }
                    Ok((inserted, latencies))
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|handle| {
                handle
                    .join()
                    .unwrap_or_else(|_| Err("a client panicked".to_owned()))
            })
            .collect()
    });
    let elapsed = started.elapsed();
    let mut total = 0;
    let mut latencies = Latencies::new();
    for outcome in outcomes {
        let (inserted, client_latencies) = outcome?;
        total += inserted;
        latencies.extend(client_latencies);
    }
    Ok((total, elapsed, latencies))
}

/// Figure 5's PostgreSQL side: the newest `page` events of `stream` through the
/// `(stream, version)` index, `reads` times. Every read must return a full page.
pub fn page_reads(
    url: &str,
    table: &str,
    stream: &str,
    page: usize,
    reads: usize,
) -> Result<Latencies, String> {
    let mut client = connect(url)?;
    let limit = i64::try_from(page).map_err(|_| "page too large".to_owned())?;
    let statement = client
        .prepare(&format!(
            "SELECT position, version, event_type, occurred_at_us, actor, payload FROM {table} \
             WHERE stream = $1 ORDER BY version DESC LIMIT $2"
        ))
        .map_err(|error| format!("preparing the page read: {error}"))?;
    for _ in 0..crate::figures::reads::WARM_UP_READS {
        client
            .query(&statement, &[&stream, &limit])
            .map_err(|error| format!("page read: {error}"))?;
    }
    let mut latencies = Latencies::new();
    for _ in 0..reads {
        let begun = Instant::now();
        let rows = client
            .query(&statement, &[&stream, &limit])
            .map_err(|error| format!("page read: {error}"))?;
        latencies.record(begun.elapsed());
        if rows.len() != page {
            return Err(format!(
                "PostgreSQL returned {} rows of {stream}, not {page}",
                rows.len()
            ));
        }
    }
    Ok(latencies)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_multi_row_insert_numbers_every_parameter() {
        let statement = insert_statement("events", 2);
        assert!(statement.ends_with("($1,$2,$3,$4,$5,$6,$7),($8,$9,$10,$11,$12,$13,$14)"));
    }
}
