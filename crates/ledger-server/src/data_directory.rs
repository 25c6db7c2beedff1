//! Who may enter the data directory. Its read models hold personal data in the clear, so the
//! commands that start a ledger (`serve`, `seed`, `import`) make a new data directory its
//! owner's only, and every command that opens one warns when group or other users may enter
//! it, without changing it: the permissions of a directory that was there are the operator's
//! to set.
//!
//! On platforms other than Unix nothing here changes or checks a mode.

use std::path::Path;

use anyhow::Context;

/// The mode of a data directory a command makes: its owner reads, writes and enters it, nobody
/// else does. Every file under it is out of other users' reach whatever its own mode.
pub const DATA_DIRECTORY_MODE: u32 = 0o700;

/// The permission bits of group and other users.
pub const GROUP_AND_OTHERS_BITS: u32 = 0o077;

/// The most directory levels [`restrict_to_owner`] descends: sled's own layout is two deep
/// (`log/blobs`), so this bounds a walk of a tree that is not a ledger's.
pub const RESTRICT_DEPTH_MAX: usize = 8;

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

/// Takes group and other users' permissions off everything under `data`, a data directory the
/// running command made (so no operator chose them): the store and sled create their
/// directories and files with the process's default mode (0755 and 0644 under the usual umask).
/// [`DATA_DIRECTORY_MODE`] already keeps other users out of all of it; this keeps them out of
/// the files as well should the directory later be opened to them. Files sled makes afterwards
/// get the default mode again, inside directories only the owner enters.
pub fn restrict_to_owner(data: &Path) -> anyhow::Result<()> {
    restrict_tree(data, RESTRICT_DEPTH_MAX)
        .with_context(|| format!("cannot restrict {} to its owner", data.display()))
}

#[cfg(unix)]
fn restrict_tree(path: &Path, depth_left: usize) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    let metadata = std::fs::symlink_metadata(path)?;
    // A link's target is not the ledger's to change.
    if metadata.file_type().is_symlink() {
        return Ok(());
    }
    let mode = metadata.permissions().mode();
    if mode & GROUP_AND_OTHERS_BITS != 0 {
        std::fs::set_permissions(
            path,
            std::fs::Permissions::from_mode(mode & !GROUP_AND_OTHERS_BITS),
        )?;
    }
    if metadata.is_dir() && depth_left > 0 {
        for entry in std::fs::read_dir(path)? {
            restrict_tree(&entry?.path(), depth_left - 1)?;
        }
    }
    Ok(())
}

#[cfg(not(unix))]
fn restrict_tree(_path: &Path, _depth_left: usize) -> std::io::Result<()> {
    Ok(())
}

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
    fn restricting_takes_group_and_others_off_every_file_and_directory() {
        let scratch = tempfile::tempdir().unwrap();
        let data = scratch.path().join("data");
        std::fs::create_dir_all(data.join("log").join("blobs")).unwrap();
        std::fs::write(data.join("log").join("db"), b"personal").unwrap();
        for path in [data.join("log"), data.join("log").join("blobs")] {
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
        }
        std::fs::set_permissions(
            data.join("log").join("db"),
            std::fs::Permissions::from_mode(0o644),
        )
        .unwrap();
        restrict_to_owner(&data).unwrap();
        assert_eq!(mode(&data.join("log")), 0o700);
        assert_eq!(mode(&data.join("log").join("blobs")), 0o700);
        assert_eq!(mode(&data.join("log").join("db")), 0o600);
    }
}
