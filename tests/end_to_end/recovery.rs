//! Read models survive a crash: the server is killed with SIGKILL while its projections catch
//! up, more history arrives, and after a restart every live read model equals a rebuild from
//! position 0 up to its checkpoint (`contact-ledger replay --check`).

use std::io::{BufRead, BufReader, Read, Write};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use ledger_tests::{run, stderr, stdout};

/// Starts `serve` on a free port and returns the child and its address.
fn serve(data: &str) -> (Child, String) {
    let mut child = ledger_tests::command()
        .args(["serve", "--data", data, "--listen", "127.0.0.1:0"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let address = lines
        .by_ref()
        .map(Result::unwrap)
        .find_map(|line| {
            line.split_once(" on http://")
                .map(|(_, rest)| rest.split('/').next().unwrap().to_owned())
        })
        .expect("serve prints its address");
    // Keep reading what it prints: a closed pipe would fail its later lines.
    std::thread::spawn(move || lines.for_each(drop));
    (child, address)
}

fn ready(address: &str) -> bool {
    let Ok(mut stream) = std::net::TcpStream::connect(address) else {
        return false;
    };
    write!(
        stream,
        "GET /readyz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut response = String::new();
    let _ = stream.read_to_string(&mut response);
    response.starts_with("HTTP/1.1 200")
}

#[test]
fn read_models_after_kill_9_and_restart_equal_a_rebuild_from_zero() {
    let scratch = tempfile::tempdir().unwrap();
    let data = scratch.path().join("data");
    let data = data.to_str().unwrap();
    let fixture = std::fs::read_to_string(crate::fixture::fixture_path()).unwrap();
    let lines: Vec<&str> = fixture.lines().collect();
    let halves = [&lines[..lines.len() / 2], &lines[lines.len() / 2..]];

    for (cycle, half) in halves.iter().enumerate() {
        let file = scratch.path().join(format!("part{cycle}.ndjson"));
        std::fs::write(&file, half.join("\n") + "\n").unwrap();
        let imported = run(&["import", "--data", data, file.to_str().unwrap()]);
        assert!(imported.status.success(), "{}", stderr(&imported));
        // Killed at once and a little later: mid catch-up, or right after it.
        for delay_ms in [0, 60, 250] {
            let (mut child, _) = serve(data);
            std::thread::sleep(Duration::from_millis(delay_ms));
            child.kill().unwrap();
            child.wait().unwrap();
        }
    }

    let (mut child, address) = serve(data);
    let became_ready = (0..200).any(|_| {
        let ready = ready(&address);
        if !ready {
            std::thread::sleep(Duration::from_millis(50));
        }
        ready
    });
    assert!(
        became_ready,
        "the server never became ready after the crashes"
    );
    Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(child.wait().unwrap().success());

    let checked = run(&["replay", "--data", data, "--check"]);
    assert!(
        checked.status.success(),
        "{}{}",
        stdout(&checked),
        stderr(&checked)
    );
    let report = stdout(&checked);
    assert_eq!(
        report.matches(": equal").count(),
        report.lines().count(),
        "{report}"
    );
    assert!(
        report.contains(&format!("customer-timeline at position {}", lines.len())),
        "{report}"
    );
    let verified = run(&["verify", "--data", data]);
    assert!(verified.status.success(), "{}", stdout(&verified));
}

/// Copies the directory `from` to `to` (which must not exist), with `cp -a`.
fn copy_dir(from: &std::path::Path, to: &std::path::Path) {
    let copied = Command::new("cp")
        .arg("-a")
        .arg(from)
        .arg(to)
        .status()
        .unwrap();
    assert!(copied.success());
}

#[test]
fn read_models_ahead_of_a_restored_log_are_rebuilt_not_served() {
    // An operator restores the log (and its head mark) from a backup and leaves the newer
    // read models in place: they hold events the log does not, at positions new appends take.
    let scratch = tempfile::tempdir().unwrap();
    let fixture = std::fs::read_to_string(crate::fixture::fixture_path()).unwrap();
    let lines: Vec<&str> = fixture.lines().collect();
    let half = lines.len() / 2;
    let newer = scratch.path().join("newer");
    let restored = scratch.path().join("restored");
    for (part, range) in [(0, &lines[..half]), (1, &lines[half..])] {
        let file = scratch.path().join(format!("part{part}.ndjson"));
        std::fs::write(&file, range.join("\n") + "\n").unwrap();
        let imported = run(&[
            "import",
            "--data",
            newer.to_str().unwrap(),
            file.to_str().unwrap(),
        ]);
        assert!(imported.status.success(), "{}", stderr(&imported));
        if part == 0 {
            copy_dir(&newer, &restored);
        }
    }
    // An import into a ledger that has events leaves its read models to the server.
    let replayed = run(&["replay", "--data", newer.to_str().unwrap()]);
    assert!(replayed.status.success(), "{}", stderr(&replayed));
    std::fs::remove_dir_all(restored.join("read-models")).unwrap();
    copy_dir(&newer.join("read-models"), &restored.join("read-models"));
    let restored = restored.to_str().unwrap();

    let stats = run(&["stats", "--data", restored, "--json"]);
    assert!(stats.status.success(), "{}", stderr(&stats));
    let stats: serde_json::Value = serde_json::from_str(&stdout(&stats)).unwrap();
    assert_eq!(stats["headPosition"], half as u64);
    for (name, checkpoint) in stats["projectionCheckpoints"].as_object().unwrap() {
        assert_eq!(checkpoint, 0, "{name} is served from records the log lacks");
    }

    let (mut child, address) = serve(restored);
    assert!(
        (0..400).any(|_| ready(&address) || {
            std::thread::sleep(Duration::from_millis(50));
            false
        }),
        "the server never became ready"
    );
    Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(child.wait().unwrap().success());
    let checked = run(&["replay", "--data", restored, "--check"]);
    let report = stdout(&checked);
    assert!(checked.status.success(), "{report}{}", stderr(&checked));
    assert_eq!(
        report.matches(": equal").count(),
        report.lines().count(),
        "{report}"
    );
    assert!(
        report.contains(&format!("customer-timeline at position {half}:")),
        "{report}"
    );
}
