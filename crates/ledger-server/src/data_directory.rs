//! Who may enter the data directory. Its read models hold personal data in the clear, so the
//! binary creates every file and directory its owner's only ([`mask_group_and_others`], as
//! PostgreSQL's server does), the commands that start a ledger (`serve`, `seed`, `import`)
//! make a new data directory the same, and every command that opens one warns when group or
//! other users may enter it, without changing it: the permissions of a directory that was
//! there are the operator's to set.
//!
//! On platforms other than Unix nothing here changes or checks a mode.

use std::path::Path;

use anyhow::Context;

/// The mode of a data directory a command makes: its owner reads, writes and enters it, nobody
/// else does. Every file under it is out of other users' reach whatever its own mode.
pub const DATA_DIRECTORY_MODE: u32 = 0o700;

/// The permission bits of group and other users.
pub const GROUP_AND_OTHERS_BITS: u32 = 0o077;

/// Makes the data directory `data` if it is not there, its owner's only
/// ([`DATA_DIRECTORY_MODE`]); missing parents are made as any directory is. Returns whether it
/// made it.
pub fn create(data: &Path) -> anyhow::Result<bool> {
    if data.exists() {
        return Ok(false);
    }
    if let Some(parent) = data
        .parent()
        .filter(|parent| !parent.as_os_str().is_empty())
    {
        std::fs::create_dir_all(parent)
            .with_context(|| format!("cannot create {}", parent.display()))?;
    }
    let mut builder = std::fs::DirBuilder::new();
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        builder.mode(DATA_DIRECTORY_MODE);
    }
    builder
        .create(data)
        .with_context(|| format!("cannot create {}", data.display()))?;
    Ok(true)
}

/// Masks group and other users' permissions ([`GROUP_AND_OTHERS_BITS`]) off every file and
/// directory the process creates from now on: the store's and sled's files (sled makes new
/// ones as it runs: snapshots, segments, a read models' database swapped in by `compact` or
/// `replay`), an export, an import's spool. Called first thing, before any file is made; the
/// operator's own umask only ever widens what they open, so it is replaced, not combined.
#[cfg(unix)]
pub fn mask_group_and_others() {
    rustix::process::umask(rustix::fs::Mode::from_raw_mode(GROUP_AND_OTHERS_BITS));
}

#[cfg(not(unix))]
pub fn mask_group_and_others() {}

/// The warning for a data directory group or other users may enter, naming it, its mode and
/// the command that closes it; `None` when only its owner may (or it cannot be read).
pub fn open_to_others(data: &Path) -> Option<String> {
    let mode = mode_of(data)?;
    if mode & GROUP_AND_OTHERS_BITS == 0 {
        return None;
    }
    let shown = data.display();
    Some(format!(
        "the data directory {shown} is mode {mode:04o}: users other than its owner can enter it, \
         and its read models hold personal data in the clear; `chmod 700 {shown}` makes it its \
         owner's only"
    ))
}

/// The permission bits of `path` (Unix), following a link to the directory it names.
#[cfg(unix)]
fn mode_of(path: &Path) -> Option<u32> {
    use std::os::unix::fs::PermissionsExt;
    let metadata = std::fs::metadata(path).ok()?;
    metadata
        .is_dir()
        .then(|| metadata.permissions().mode() & 0o7777)
}

#[cfg(not(unix))]
fn mode_of(_path: &Path) -> Option<u32> {
    None
}

/// Prints [`open_to_others`]'s warning on standard error, if there is one.
pub fn warn_if_open_to_others(data: &Path) {
    if let Some(warning) = open_to_others(data) {
        eprintln!("warning: {warning}");
    }
}

#[cfg(all(test, unix))]
mod tests {
    use std::os::unix::fs::PermissionsExt;

    use super::*;

    fn mode(path: &Path) -> u32 {
        std::fs::symlink_metadata(path)
            .unwrap()
            .permissions()
            .mode()
            & 0o7777
    }

    #[test]
    fn a_new_data_directory_is_its_owners_only_and_an_existing_one_is_left_as_it_is() {
        let scratch = tempfile::tempdir().unwrap();
        let data = scratch.path().join("parent").join("data");
        assert!(create(&data).unwrap());
        assert_eq!(mode(&data), DATA_DIRECTORY_MODE);
        assert_eq!(open_to_others(&data), None);

        std::fs::set_permissions(&data, std::fs::Permissions::from_mode(0o755)).unwrap();
        assert!(!create(&data).unwrap());
        assert_eq!(mode(&data), 0o755, "an existing directory keeps its mode");
        let warning = open_to_others(&data).expect("a warning");
        assert!(warning.contains("mode 0755"), "{warning}");
        assert!(
            warning.contains(&format!("chmod 700 {}", data.display())),
            "{warning}"
        );
    }

    #[test]
    fn once_masked_a_new_file_and_directory_are_their_owners_only() {
        let scratch = tempfile::tempdir().unwrap();
        mask_group_and_others();
        std::fs::create_dir(scratch.path().join("blobs")).unwrap();
        std::fs::write(scratch.path().join("db"), b"personal").unwrap();
        assert_eq!(mode(&scratch.path().join("blobs")), 0o700);
        assert_eq!(mode(&scratch.path().join("db")), 0o600);
    }
}
