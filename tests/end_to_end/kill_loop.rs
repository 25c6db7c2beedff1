//! Jepsen-style lost-write check on the real server: 64 clients send `recordContact` to
//! `contact-ledger serve` and note every acknowledged position and event id; the server is
//! SIGKILLed at a random moment and restarted, over and over. After each kill: every
//! acknowledged event is in the export exactly once at its position, positions are gapless,
//! `verify` passes and every read model equals a rebuild up to its checkpoint
//! (`replay --check`); each restart must become ready. At the end the restarted server is
//! stopped cleanly and checked the same way.
//!
//! `SERVER_KILL_CYCLES` sets the number of cycles (20 by default; `make soak` runs 1,000) and
//! `SERVER_KILL_SEED` replays a run (the seed is printed).

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use ledger_app::commands::COMMAND_ATTEMPTS_MAX;
use ledger_server::config::RoleName;

use crate::live::{
    Ack, Outcome, Rng, Server, assert_read_models_equal_a_rebuild, assert_verifies, count_from_env,
    exported_positions, record_contact, register_customers,
};

const CYCLES_DEFAULT: usize = 20;
/// Concurrent clients, each with a connection per request.
const CLIENTS: usize = 64;
/// Customers the clients share, so several clients append to one stream at once.
const CUSTOMERS: usize = 16;
/// Soak runs start a fresh data directory every this many cycles, so a restart (which reads
/// the whole log) and the checks after it stay quick.
const CYCLES_PER_DIRECTORY: usize = 50;
/// The kill comes this long after the server is ready, plus up to `KILL_SPREAD_MS`.
const KILL_AFTER_MS_MIN: u64 = 50;
const KILL_SPREAD_MS: u64 = 600;

/// What one client saw during a cycle.
#[derive(Debug, Default)]
struct ClientLog {
    acks: Vec<Ack>,
    /// Event ids refused with `CONFLICT`: the command lost the race for its stream more than
    /// `COMMAND_ATTEMPTS_MAX` times (16 streams, 64 writers). Nothing of them may be written.
    conflicts: Vec<String>,
    /// Answers that were neither an acknowledgement nor a cut connection.
    unexpected: Vec<String>,
}

/// One client: appends until `stop`, noting each acknowledgement. A request cut off by the
/// kill is neither acknowledged nor an error: the client cannot know whether it was written.
fn client(
    address: String,
    token: String,
    customers: Arc<Vec<String>>,
    seed: u64,
    stop: Arc<AtomicBool>,
) -> ClientLog {
    let mut rng = Rng::new(seed);
    let mut log = ClientLog::default();
    let customer_count = u64::try_from(customers.len()).expect("few customers");
    while !stop.load(Ordering::Relaxed) {
        let event_id = rng.uuid();
        let customer = usize::try_from(rng.below(customer_count)).expect("small index");
        match record_contact(&address, &token, &customers[customer], &event_id) {
            Outcome::Acknowledged {
                position,
                duplicate: false,
            } => log.acks.push(Ack { position, event_id }),
            Outcome::Refused { code, .. } if code == "CONFLICT" => log.conflicts.push(event_id),
            Outcome::Cut => std::thread::sleep(Duration::from_millis(5)),
            other => log.unexpected.push(format!("{other:?}")),
        }
    }
    log
}

/// Runs the clients against `server`, kills it after `kill_after`, and returns what they saw.
fn load_and_kill(
    server: Server,
    customers: &Arc<Vec<String>>,
    rng: &mut Rng,
    kill_after: Duration,
) -> ClientLog {
    let stop = Arc::new(AtomicBool::new(false));
    let token = server.token(RoleName::Agent);
    let handles: Vec<_> = (0..CLIENTS)
        .map(|_| {
            let address = server.address.clone();
            let (token, customers, stop) =
                (token.clone(), Arc::clone(customers), Arc::clone(&stop));
            let seed = rng.next_u64();
            std::thread::spawn(move || client(address, token, customers, seed, stop))
        })
        .collect();
    std::thread::sleep(kill_after);
    server.kill_9();
    stop.store(true, Ordering::Relaxed);
    let mut seen = ClientLog::default();
    for handle in handles {
        let log = handle.join().expect("a client thread");
        seen.acks.extend(log.acks);
        seen.conflicts.extend(log.conflicts);
        seen.unexpected.extend(log.unexpected);
    }
    seen
}

/// Checks the closed store against every acknowledgement so far; returns the head position and
/// how many acknowledged events are missing or misplaced (each is printed).
fn check_store(data: &Path, acks: &[Ack], conflicts: &[String], cycle: usize) -> (u64, usize) {
    let (positions_of, head) = exported_positions(data);
    for event_id in conflicts {
        assert!(
            !positions_of.contains_key(event_id),
            "cycle {cycle}: {event_id} was refused with CONFLICT yet written"
        );
    }
    let mut lost = 0;
    for ack in acks {
        match positions_of.get(&ack.event_id).map(Vec::as_slice) {
            Some([position]) if *position == ack.position => {}
            found => {
                lost += 1;
                eprintln!(
                    "cycle {cycle}: event {} acknowledged at {} is found at {found:?}",
                    ack.event_id, ack.position
                );
            }
        }
    }
    let context = format!("cycle {cycle}");
    assert_verifies(data, &context);
    assert_read_models_equal_a_rebuild(data, &context);
    (head, lost)
}

#[test]
fn no_acknowledged_contact_is_lost_when_the_server_is_killed_again_and_again() {
    let cycles = count_from_env("SERVER_KILL_CYCLES", CYCLES_DEFAULT);
    let seed = Rng::seed_from_env("SERVER_KILL_SEED");
    println!("server kill -9 loop: {cycles} cycles, {CLIENTS} clients, seed {seed}");
    let mut rng = Rng::new(seed);
    let scratch = tempfile::tempdir().unwrap();
    let started = Instant::now();
    let (mut acknowledged, mut lost_total, mut head) = (0, 0, 0);
    let mut acks: Vec<Ack> = Vec::new();
    let mut conflicts: Vec<String> = Vec::new();
    let mut conflicts_total = 0;
    let mut customers = Arc::new(Vec::new());
    let mut data = scratch.path().join("data-0");
    for cycle in 0..cycles {
        if cycle % CYCLES_PER_DIRECTORY == 0 {
            if cycle > 0 {
                std::fs::remove_dir_all(&data).unwrap();
            }
            data = scratch
                .path()
                .join(format!("data-{}", cycle / CYCLES_PER_DIRECTORY));
            acks.clear();
            conflicts.clear();
            let server = Server::start(&data, &[]);
            assert!(
                server.wait_ready(),
                "cycle {cycle}: a new server never became ready"
            );
            customers = Arc::new(register_customers(&server, CUSTOMERS, &mut rng, &mut acks));
            acknowledged += acks.len();
            server.terminate();
        }
        let server = Server::start(&data, &[]);
        assert!(
            server.wait_ready(),
            "cycle {cycle}: the restarted server never became ready"
        );
        let kill_after = Duration::from_millis(KILL_AFTER_MS_MIN + rng.below(KILL_SPREAD_MS));
        let seen = load_and_kill(server, &customers, &mut rng, kill_after);
        assert!(
            seen.unexpected.is_empty(),
            "cycle {cycle}: unexpected answers: {:?}",
            seen.unexpected
        );
        acknowledged += seen.acks.len();
        acks.extend(seen.acks);
        conflicts_total += seen.conflicts.len();
        conflicts.extend(seen.conflicts);
        let (held, lost) = check_store(&data, &acks, &conflicts, cycle);
        lost_total += lost;
        assert_eq!(
            lost, 0,
            "cycle {cycle}: acknowledged events were lost (seed {seed})"
        );
        head = held;
    }

    // The last restart, stopped cleanly: its caught-up read models must equal a rebuild too.
    let server = Server::start(&data, &[]);
    assert!(server.wait_ready(), "the final restart never became ready");
    server.terminate();
    let (held, lost) = check_store(&data, &acks, &conflicts, cycles);
    lost_total += lost;
    assert_eq!(lost, 0, "acknowledged events were lost (seed {seed})");
    assert_eq!(held, head, "a clean restart changed the log");
    println!(
        "server kill -9 loop: {cycles} cycles, {acknowledged} acknowledged, {lost_total} lost ({conflicts_total} refused as CONFLICT after {COMMAND_ATTEMPTS_MAX} lost races, none written) in {:?}",
        started.elapsed()
    );
    // At least one contact per cycle on average besides the registrations (a loaded CI
    // machine acknowledges fewer than an idle one; an idle debug build about a hundred).
    assert!(
        acknowledged > cycles + CUSTOMERS,
        "too few appends were acknowledged to prove anything: {acknowledged}"
    );
}
