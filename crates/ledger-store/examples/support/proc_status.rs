//! Reading this process's memory figures, for the examples that measure it.

/// A line of `/proc/self/status` in KiB (`VmRSS:`, `VmHWM:`), or 0 when it is missing.
pub fn status_kib(field: &str) -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").expect("/proc/self/status");
    status
        .lines()
        .find_map(|line| line.strip_prefix(field))
        .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}
