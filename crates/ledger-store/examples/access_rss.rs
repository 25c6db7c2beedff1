//! What access records cost a server's memory, by how they are spread over customers: writes
//! RECORDS access records into a new store at DATA_DIR through `AccessLog::record` (one agent,
//! the customers taken in turn from CUSTOMERS), closes it, and prints the database's size.
//! Then `open_rss DATA_DIR` says what opening it holds, for CUSTOMERS = 1 (the bench's busy
//! customer: one index key per batch) against many (a call centre: about one key per read).
//!
//! `cargo run --release -p ledger-store --example access_rss -- DATA_DIR RECORDS CUSTOMERS`

use ledger_domain::ids::CustomerId;
use ledger_store::{AccessRead, SledEventLog, StoreOptions};

fn main() {
    let mut args = std::env::args().skip(1);
    let usage = "usage: access_rss DATA_DIR RECORDS CUSTOMERS (DATA_DIR must not exist)";
    let dir = std::path::PathBuf::from(args.next().expect(usage));
    let records: usize = args.next().expect(usage).parse().expect("RECORDS");
    let customers: usize = args.next().expect(usage).parse().expect("CUSTOMERS");
    assert!(!dir.exists(), "{usage}");
    let ids: Vec<CustomerId> = (0..customers.max(1))
        .map(|_| CustomerId::new_v7())
        .collect();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime");
    let log = SledEventLog::open(&dir, StoreOptions::default()).expect("the store opens");
    let started = std::time::Instant::now();
    runtime.block_on(async {
        for index in 0..records {
            let read = AccessRead {
                subject: "agent-0001".to_owned(),
                role: "agent".to_owned(),
                customer: ids[index % ids.len()],
                operation: "customer".to_owned(),
            };
            log.access().record(read).await.expect("recorded");
        }
        log.access().close().await.expect("closed");
    });
    println!(
        "{records} records over {} customers in {:.1} s",
        ids.len(),
        started.elapsed().as_secs_f64()
    );
    drop(log);
    let db = dir.join("log").join("db");
    let size = std::fs::metadata(&db).map(|meta| meta.len()).unwrap_or(0);
    println!("{}: {} MiB", db.display(), size >> 20);
}
