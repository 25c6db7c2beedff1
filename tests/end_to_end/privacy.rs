//! What the binary leaves where other people may look: a data directory and the files in it
//! (its read models hold personal data in the clear) are their owner's only when the binary
//! makes them, a directory others may enter is named with the command that closes it, an
//! export file is its owner's only, and `serve --show-tokens` prints a customer's mobile only
//! from the synthetic demo `seed` writes.

use std::io::{BufRead, BufReader, Read, Write};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use ledger_server::config::{Config, RoleName};
use ledger_tests::{run, stderr};
use serde_json::{Value, json};

use crate::fixture::fixture_path;

/// The longest a test waits for a server to be ready.
const READY_WAIT: Duration = Duration::from_secs(60);

fn mode(path: &Path) -> u32 {
    std::fs::symlink_metadata(path)
        .unwrap()
        .permissions()
        .mode()
        & 0o7777
}

/// Every file and directory under `dir` (itself included), with its mode.
fn modes_under(dir: &Path) -> Vec<(PathBuf, u32)> {
    let mut found = vec![(dir.to_owned(), mode(dir))];
    if std::fs::symlink_metadata(dir).unwrap().is_dir() {
        for entry in std::fs::read_dir(dir).unwrap() {
            found.extend(modes_under(&entry.unwrap().path()));
        }
    }
    found
}

fn assert_owners_only(dir: &Path) {
    assert_eq!(mode(dir), 0o700, "{}", dir.display());
    let open: Vec<String> = modes_under(dir)
        .into_iter()
        .filter(|(_, mode)| mode & 0o077 != 0)
        .map(|(path, mode)| format!("{} {mode:04o}", path.display()))
        .collect();
    assert!(
        open.is_empty(),
        "group or others may read or enter: {open:?}"
    );
}

fn import_fixture(data: &Path) {
    let imported = run(&[
        "import",
        "--data",
        data.to_str().unwrap(),
        fixture_path().to_str().unwrap(),
    ]);
    assert!(imported.status.success(), "{}", stderr(&imported));
}

#[test]
fn a_data_directory_the_binary_makes_and_its_files_are_their_owners_only() {
    let scratch = tempfile::tempdir().unwrap();
    let imported = scratch.path().join("imported");
    import_fixture(&imported);
    assert_owners_only(&imported);
    // The read models' databases `replay` and `compact` swap in are made after the directory,
    // by sled, under the process's own file mode.
    for command in ["replay", "compact"] {
        let output = run(&[command, "--data", imported.to_str().unwrap()]);
        assert!(output.status.success(), "{command}: {}", stderr(&output));
        assert_owners_only(&imported);
    }

    let seeded = scratch.path().join("seeded");
    let output = run(&[
        "seed",
        "--data",
        seeded.to_str().unwrap(),
        "--customers",
        "20",
        "--years",
        "1",
    ]);
    assert!(output.status.success(), "{}", stderr(&output));
    assert_owners_only(&seeded);

    // An export is written to a file only its owner reads, even over a wider leftover.
    let export = scratch.path().join("export.ndjson");
    let partial = scratch.path().join("export.ndjson.partial");
    std::fs::write(&partial, "left by an export that failed").unwrap();
    std::fs::set_permissions(&partial, std::fs::Permissions::from_mode(0o644)).unwrap();
    let output = run(&[
        "export",
        "--data",
        imported.to_str().unwrap(),
        "--output",
        export.to_str().unwrap(),
    ]);
    assert!(output.status.success(), "{}", stderr(&output));
    assert_eq!(mode(&export), 0o600, "{:04o}", mode(&export));
}

#[test]
fn a_data_directory_others_may_enter_is_named_with_its_mode_and_left_as_it_is() {
    let scratch = tempfile::tempdir().unwrap();
    let data = scratch.path().join("data");
    import_fixture(&data);
    std::fs::set_permissions(&data, std::fs::Permissions::from_mode(0o755)).unwrap();
    let shown = data.display().to_string();
    for arguments in [
        vec!["verify", "--data", &shown],
        vec!["stats", "--data", &shown],
    ] {
        let output = run(&arguments);
        assert!(output.status.success(), "{}", stderr(&output));
        let errors = stderr(&output);
        assert!(
            errors.contains(&format!("warning: the data directory {shown} is mode 0755"))
                && errors.contains(&format!("chmod 700 {shown}")),
            "{arguments:?}: {errors}"
        );
    }
    assert_eq!(mode(&data), 0o755, "the operator's mode is kept");

    std::fs::set_permissions(&data, std::fs::Permissions::from_mode(0o700)).unwrap();
    let output = run(&["verify", "--data", &shown]);
    assert!(
        !stderr(&output).contains("warning: the data directory"),
        "{}",
        stderr(&output)
    );
}

/// A `serve --show-tokens` of `data` on a free port, what it printed up to its examples, and
/// its address.
struct Shown {
    server: Child,
    printed: String,
    address: String,
}

impl Shown {
    fn start(data: &Path) -> Self {
        let mut server = ledger_tests::command()
            .args([
                "serve",
                "--data",
                data.to_str().unwrap(),
                "--listen",
                "127.0.0.1:0",
                "--show-tokens",
            ])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut lines = BufReader::new(server.stdout.take().unwrap()).lines();
        let mut printed = String::new();
        let mut address = None;
        for line in lines.by_ref() {
            let line = line.unwrap();
            if let Some((_, rest)) = line.split_once(" on http://") {
                address = rest.split('/').next().map(str::to_owned);
            }
            printed.push_str(&line);
            printed.push('\n');
            if line.contains("verifyLedger") {
                break;
            }
        }
        // Keep reading what it prints: a closed pipe would fail its later lines.
        std::thread::spawn(move || lines.for_each(drop));
        Self {
            server,
            printed,
            address: address.expect("serve prints its address"),
        }
    }

    fn wait_ready(&self) {
        let started = Instant::now();
        while !ready(&self.address) {
            assert!(
                started.elapsed() < READY_WAIT,
                "not ready in {READY_WAIT:?}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Stops the server; what it wrote on standard error.
    fn stop(mut self) -> String {
        let status = Command::new("kill")
            .args(["-TERM", &self.server.id().to_string()])
            .status()
            .unwrap();
        assert!(status.success());
        assert!(self.server.wait().unwrap().success());
        let mut errors = String::new();
        self.server
            .stderr
            .take()
            .unwrap()
            .read_to_string(&mut errors)
            .unwrap();
        errors
    }
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

/// The mobile numbers the fixture registers.
fn fixture_mobiles() -> Vec<String> {
    let text = std::fs::read_to_string(fixture_path()).unwrap();
    let mut mobiles = Vec::new();
    for line in text.lines() {
        let line: Value = serde_json::from_str(line).unwrap();
        for identifier in line["payload"]["identifiers"]
            .as_array()
            .into_iter()
            .flatten()
        {
            if identifier["kind"] == "MOBILE" {
                mobiles.push(identifier["value"].as_str().unwrap().to_owned());
            }
        }
    }
    assert!(!mobiles.is_empty(), "the fixture registers mobiles");
    mobiles
}

#[test]
fn serve_show_tokens_prints_no_customers_mobile_on_a_ledger_that_is_not_the_demo() {
    let scratch = tempfile::tempdir().unwrap();
    let data = scratch.path().join("data");
    import_fixture(&data);
    // The server too names a directory others may enter.
    std::fs::set_permissions(&data, std::fs::Permissions::from_mode(0o755)).unwrap();
    let shown = Shown::start(&data);
    let printed = shown.printed.clone();
    // Ready, its signal handlers are in place: SIGTERM then stops it cleanly.
    shown.wait_ready();
    let errors = shown.stop();
    assert!(
        printed.contains("customerByIdentifier(kind: MOBILE, value: \"<the caller's mobile>\")"),
        "{printed}"
    );
    // In any spelling: the digits alone, or split as the demo's example splits them.
    for mobile in fixture_mobiles() {
        let spaced = format!("{} {} {}", &mobile[..3], &mobile[3..7], &mobile[7..]);
        assert!(
            !printed.contains(&mobile) && !printed.contains(&spaced),
            "{mobile} printed:\n{printed}"
        );
    }
    assert!(
        errors.contains(&format!(
            "warning: the data directory {} is mode 0755",
            data.display()
        )),
        "{errors}"
    );
}

#[test]
fn serve_show_tokens_prints_a_working_lookup_on_the_seeded_demo() {
    let scratch = tempfile::tempdir().unwrap();
    let data = scratch.path().join("data");
    let output = run(&[
        "seed",
        "--data",
        data.to_str().unwrap(),
        "--customers",
        "20",
        "--years",
        "1",
    ]);
    assert!(output.status.success(), "{}", stderr(&output));
    let shown = Shown::start(&data);
    let example = shown
        .printed
        .lines()
        .map(str::trim)
        .find(|line| line.starts_with("{ customerByIdentifier"))
        .unwrap_or_else(|| panic!("no lookup example in:\n{}", shown.printed))
        .to_owned();
    assert!(!example.contains("<the caller's mobile>"), "{example}");
    shown.wait_ready();
    let config = Config::load(&data.join("ledger.toml")).unwrap();
    let agent = config
        .auth
        .tokens
        .iter()
        .find(|token| token.role == RoleName::Agent)
        .unwrap()
        .token
        .clone();
    let answer: Value = serde_json::from_str(&crate::api::post(
        &shown.address,
        &agent,
        &json!({ "query": example }),
    ))
    .unwrap();
    shown.stop();
    assert!(
        answer["data"]["customerByIdentifier"]["name"].is_string(),
        "{example}: {answer}"
    );
}
