//! What the binary leaves where other people may look: a data directory and the files in it
//! (its read models hold personal data in the clear) are their owner's only when the binary
//! makes them, a directory others may enter is named with the command that closes it, and an
//! export file is its owner's only.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use ledger_tests::{run, stderr};

use crate::fixture::fixture_path;

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
