//! Shared helpers for the end-to-end tests: finding and running the `contact-ledger` binary.
//!
//! The binary lives in another package, so Cargo does not hand its path to these tests. It is
//! found next to the test executable (`target/<profile>/contact-ledger`); `make test` builds it
//! first, and when it is missing it is built here (that works under nextest, which runs tests
//! after cargo has finished building).

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;

/// The path of a freshly built `contact-ledger` binary.
pub fn binary() -> &'static Path {
    static BINARY: OnceLock<PathBuf> = OnceLock::new();
    BINARY.get_or_init(|| {
        let executable = std::env::current_exe().expect("the test knows its own path");
        // target/<profile>/deps/end_to_end-<hash> -> target/<profile>
        let profile_dir = executable
            .parent()
            .and_then(Path::parent)
            .expect("tests run from target/<profile>/deps");
        let binary = profile_dir.join("contact-ledger");
        if !binary.exists() {
            let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
            let status = Command::new(cargo)
                .args(["build", "--bin", "contact-ledger"])
                .status()
                .expect("cargo can be started to build contact-ledger");
            assert!(status.success(), "building contact-ledger failed");
        }
        assert!(
            binary.exists(),
            "{} is missing: run `cargo build --bin contact-ledger`",
            binary.display()
        );
        binary
    })
}

/// The master key every test ledger uses (`MasterKey::insecure_for_tests`, in hex): public,
/// for tests only.
pub const TEST_MASTER_KEY: &str =
    "0707070707070707070707070707070707070707070707070707070707070707";

/// A `contact-ledger` command with the tests' master key in `LEDGER_MASTER_KEY`.
pub fn command() -> Command {
    let mut command = Command::new(binary());
    command.env("LEDGER_MASTER_KEY", TEST_MASTER_KEY);
    command
}

/// Runs `contact-ledger` with `arguments` and returns what it printed and its exit status.
pub fn run(arguments: &[&str]) -> Output {
    command()
        .args(arguments)
        .output()
        .expect("contact-ledger can be started")
}

/// Like [`run`], feeding `input` on standard input.
pub fn run_with_input(arguments: &[&str], input: &[u8]) -> Output {
    use std::io::Write;
    let mut child = command()
        .args(arguments)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("contact-ledger can be started");
    child
        .stdin
        .take()
        .expect("stdin is piped")
        .write_all(input)
        .expect("contact-ledger reads its input");
    child.wait_with_output().expect("contact-ledger finishes")
}

/// Standard output as text.
pub fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// Standard error as text.
pub fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}
