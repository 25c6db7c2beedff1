//! What the machine is, for the head of `BENCHMARKS.md`: cores, memory, disk, kernel.

use std::path::Path;
use std::process::Command;

fn first_line(path: &str) -> Option<String> {
    std::fs::read_to_string(path)
        .ok()
        .and_then(|text| text.lines().next().map(|line| line.trim().to_owned()))
}

fn command(program: &str, arguments: &[&str]) -> Option<String> {
    let output = Command::new(program).args(arguments).output().ok()?;
    output
        .status
        .success()
        .then(|| String::from_utf8_lossy(&output.stdout).trim().to_owned())
}

/// `MemTotal` of `/proc/meminfo`, as written there (`24567890 kB`).
fn memory() -> Option<String> {
    let text = std::fs::read_to_string("/proc/meminfo").ok()?;
    let line = text.lines().find(|line| line.starts_with("MemTotal:"))?;
    let kilobytes: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(format!(
        "{:.1} GiB",
        crate::stats::float(kilobytes) / (1024.0 * 1024.0)
    ))
}

/// The filesystem holding `dir`: device, type, size, free (from `df`).
fn disk(dir: &Path) -> Option<String> {
    let text = command(
        "df",
        &[
            "--output=source,fstype,size,avail",
            "-h",
            &dir.display().to_string(),
        ],
    )?;
    let columns: Vec<String> = text
        .lines()
        .nth(1)?
        .split_whitespace()
        .map(str::to_owned)
        .collect();
    let [source, fstype, size, available] = columns.as_slice() else {
        return None;
    };
    let device = Path::new(source)
        .file_name()?
        .to_string_lossy()
        .into_owned();
    let rotational = first_line(&format!("/sys/block/{device}/queue/rotational"))
        .map(|flag| {
            if flag == "0" {
                ", non-rotational"
            } else {
                ", rotational"
            }
        })
        .unwrap_or_default();
    Some(format!(
        "{source} ({fstype}{rotational}), {size}, {available} free at the start"
    ))
}

/// `name: value` lines describing the machine the run is on.
pub fn describe(dir: &Path) -> Vec<(String, String)> {
    let unknown = || "unknown".to_owned();
    let cores = std::thread::available_parallelism()
        .map(|count| count.get().to_string())
        .unwrap_or_else(|_| unknown());
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|text| {
            text.lines()
                .find(|line| line.starts_with("model name"))
                .and_then(|line| line.split_once(':'))
                .map(|(_, name)| name.trim().to_owned())
        })
        .unwrap_or_else(unknown);
    vec![
        ("cores (nproc)".to_owned(), cores),
        ("cpu".to_owned(), cpu),
        ("memory".to_owned(), memory().unwrap_or_else(unknown)),
        ("disk".to_owned(), disk(dir).unwrap_or_else(unknown)),
        (
            "kernel".to_owned(),
            first_line("/proc/sys/kernel/osrelease").unwrap_or_else(unknown),
        ),
    ]
}

/// The commit the binary measures (`git describe`), marked `-dirty` with local changes.
pub fn commit() -> String {
    command("git", &["describe", "--always", "--dirty", "--abbrev=12"])
        .unwrap_or_else(|| "unknown".to_owned())
}

/// Bytes free for an unprivileged user on the filesystem holding `dir` (from `df`).
pub fn free_bytes(dir: &Path) -> Result<u64, String> {
    let text = command("df", &["--output=avail", "-B1", &dir.display().to_string()])
        .ok_or_else(|| format!("df could not read the filesystem of {}", dir.display()))?;
    text.lines()
        .nth(1)
        .and_then(|line| line.trim().parse().ok())
        .ok_or_else(|| format!("df printed no free space for {}: {text:?}", dir.display()))
}

/// Bytes of every file under `path` (apparent sizes, as `du -b` counts them).
pub fn bytes_under(path: &Path) -> Result<u64, String> {
    let metadata =
        std::fs::symlink_metadata(path).map_err(|error| format!("{}: {error}", path.display()))?;
    if !metadata.is_dir() {
        return Ok(metadata.len());
    }
    let mut total = 0;
    for entry in std::fs::read_dir(path).map_err(|error| format!("{}: {error}", path.display()))? {
        let entry = entry.map_err(|error| format!("{}: {error}", path.display()))?;
        total += bytes_under(&entry.path())?;
    }
    Ok(total)
}

/// `write_bytes` of `/proc/PROCESS/io` (`self` or a process id): the bytes that process caused
/// to be written to storage so far.
pub fn written_bytes(process: &str) -> Result<u64, String> {
    let path = format!("/proc/{process}/io");
    let text = std::fs::read_to_string(&path).map_err(|error| format!("{path}: {error}"))?;
    text.lines()
        .find_map(|line| line.strip_prefix("write_bytes:"))
        .and_then(|count| count.trim().parse().ok())
        .ok_or_else(|| format!("{path} has no write_bytes line"))
}

/// Clock ticks a second in `/proc`'s CPU times (`USER_HZ`, 100 on Linux whatever the kernel's
/// own tick rate).
pub const PROC_TICKS_PER_SECOND: f64 = 100.0;

/// User + system ticks in a `/proc/…/stat` line: fields 14 and 15, counted after the
/// parenthesised command name (which may hold spaces).
fn stat_ticks(stat: &str) -> Option<u64> {
    let (_, rest) = stat.rsplit_once(')')?;
    let mut fields = rest.split_whitespace().skip(11);
    let user: u64 = fields.next()?.parse().ok()?;
    let system: u64 = fields.next()?.parse().ok()?;
    Some(user + system)
}

/// CPU ticks (user + system) this process has used so far, threads that ended included.
pub fn process_ticks() -> Result<u64, String> {
    let path = "/proc/self/stat";
    let stat = std::fs::read_to_string(path).map_err(|error| format!("{path}: {error}"))?;
    stat_ticks(&stat).ok_or_else(|| format!("{path} has no CPU times"))
}

/// Each live thread of this process by thread id: its name and the CPU ticks it has used.
pub fn thread_ticks() -> std::collections::BTreeMap<u64, (String, u64)> {
    let mut threads = std::collections::BTreeMap::new();
    let Ok(tasks) = std::fs::read_dir("/proc/self/task") else {
        return threads;
    };
    for task in tasks.flatten() {
        let Some(tid) = task.file_name().to_str().and_then(|tid| tid.parse().ok()) else {
            continue;
        };
        let Ok(stat) = std::fs::read_to_string(task.path().join("stat")) else {
            continue;
        };
        let name = stat
            .split_once('(')
            .and_then(|(_, rest)| rest.rsplit_once(')'))
            .map_or("", |(name, _)| name)
            .to_owned();
        if let Some(ticks) = stat_ticks(&stat) {
            threads.insert(tid, (name, ticks));
        }
    }
    threads
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cpu_ticks_are_read_after_a_name_with_spaces_and_parentheses() {
        // pid (comm) state ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt
        // utime stime ...
        let stat = "4242 (log flusher (2)) S 1 1 1 0 -1 4194304 10 0 0 0 37 5 0 0 20 0";
        assert_eq!(stat_ticks(stat), Some(42));
        assert_eq!(stat_ticks("4242 (cut short) S 1"), None);
    }

    #[test]
    fn this_process_and_its_threads_have_cpu_times() {
        let spin_until = std::time::Instant::now() + std::time::Duration::from_millis(30);
        while std::time::Instant::now() < spin_until {
            std::hint::spin_loop();
        }
        assert!(process_ticks().unwrap() > 0, "30 ms of spinning shows");
        let threads = thread_ticks();
        assert!(!threads.is_empty());
        assert!(threads.values().any(|(name, _)| !name.is_empty()));
    }
}
