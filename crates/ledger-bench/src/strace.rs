//! The durability proof: a short run of durable appends under `strace -f -c`, whose summary
//! must show at least one `fdatasync`/`fsync` per group of acknowledged appends.
//!
//! A group commit answers at most `group_bound` appends per sync (the probe's clients each
//! have one append in flight, so a group holds at most one append per client). So if
//! `acknowledged > syncs × group_bound`, some acknowledgement was not backed by a sync.

/// Calls of each sync syscall in an `strace -c` summary.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct SyncCalls {
    pub fsync: u64,
    pub fdatasync: u64,
    pub sync_file_range: u64,
}

impl SyncCalls {
    /// Calls that make data durable (`sync_file_range` only starts writeback).
    pub fn durable(&self) -> u64 {
        self.fsync + self.fdatasync
    }
}

/// Reads the summary `strace -c -o FILE` writes: rows of
/// `% time, seconds, usecs/call, calls, [errors,] syscall`.
pub fn parse_summary(text: &str) -> Result<SyncCalls, String> {
    let mut calls = SyncCalls::default();
    let mut seen_header = false;
    for line in text.lines() {
        let columns: Vec<&str> = line.split_whitespace().collect();
        if columns.first() == Some(&"%") {
            seen_header = true;
            continue;
        }
        let Some(&name) = columns.last() else {
            continue;
        };
        let slot = match name {
            "fsync" => &mut calls.fsync,
            "fdatasync" => &mut calls.fdatasync,
            "sync_file_range" => &mut calls.sync_file_range,
            _ => continue,
        };
        let count = columns
            .get(3)
            .and_then(|text| text.parse::<u64>().ok())
            .ok_or_else(|| format!("strace summary: no call count in {line:?}"))?;
        *slot += count;
    }
    if seen_header {
        Ok(calls)
    } else {
        Err("strace summary: no header line (`% time ...`) found".to_owned())
    }
}

/// The check itself: every acknowledged append is covered by a sync.
pub fn check(acknowledged: u64, calls: SyncCalls, group_bound: u64) -> Result<(), String> {
    let covered = calls.durable().saturating_mul(group_bound);
    if acknowledged == 0 {
        return Err("the durability probe acknowledged no append".to_owned());
    }
    if acknowledged > covered {
        return Err(format!(
            "{acknowledged} appends acknowledged but only {} fsync/fdatasync calls × group bound {group_bound} = {covered}: some acknowledgement was not fsync-backed",
            calls.durable()
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const SUMMARY: &str = "\
% time     seconds  usecs/call     calls    errors syscall
------ ----------- ----------- --------- --------- ----------------
 91.20    1.734000         433      4004           fdatasync
  6.10    0.116000          58      2000         3 sync_file_range
  2.70    0.051000          12         4           fsync
------ ----------- ----------- --------- --------- ----------------
100.00    1.901000                  6008         3 total
";

    #[test]
    fn the_summary_gives_each_sync_call_count() {
        let calls = parse_summary(SUMMARY).unwrap();
        assert_eq!(
            calls,
            SyncCalls {
                fsync: 4,
                fdatasync: 4004,
                sync_file_range: 2000
            }
        );
        assert_eq!(calls.durable(), 4008);
    }

    #[test]
    fn an_output_that_is_not_a_summary_is_an_error() {
        assert!(parse_summary("strace: exec failed").is_err());
        let broken = "% time seconds usecs/call calls errors syscall\n 1.0 0.1 3 many fdatasync\n";
        assert!(parse_summary(broken).unwrap_err().contains("no call count"));
    }

    #[test]
    fn acknowledgements_beyond_syncs_times_the_group_bound_fail() {
        let calls = SyncCalls {
            fsync: 0,
            fdatasync: 10,
            sync_file_range: 500,
        };
        assert!(check(640, calls, 64).is_ok());
        let error = check(641, calls, 64).unwrap_err();
        assert!(error.contains("641 appends acknowledged"), "{error}");
        assert!(check(0, calls, 64).is_err());
    }
}
