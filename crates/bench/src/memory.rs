//! The process's peak resident set, as the table's memory column reads it.

/// This process's peak resident set size in KiB (`VmHWM` of
/// `/proc/self/status`: the most physical memory it has held at once), or
/// `None` where that file does not exist (not Linux) or lacks the field.
///
/// A benchmark child reads it at its end, after its one workload, so the
/// figure is that workload's own (Python reads the same field).
///
/// # Examples
///
/// ```
/// if let Some(kib) = descent_bench::peak_rss_kib() {
///     assert!(kib > 0);
/// }
/// ```
pub fn peak_rss_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    parse_vm_hwm(&status)
}

/// The `VmHWM:` line of a `/proc/PID/status` text, in KiB.
fn parse_vm_hwm(status: &str) -> Option<u64> {
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let mut words = line["VmHWM:".len()..].split_whitespace();
    let value: u64 = words.next()?.parse().ok()?;
    match words.next() {
        Some("kB") | None => Some(value),
        Some(_) => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vm_hwm_is_read_in_kib() {
        let status = "Name:\tx\nVmPeak:\t  9000 kB\nVmHWM:\t    4242 kB\nVmRSS:\t 100 kB\n";
        assert_eq!(parse_vm_hwm(status), Some(4242));
        assert_eq!(parse_vm_hwm("Name:\tx\n"), None);
        assert_eq!(parse_vm_hwm("VmHWM:\t12 MB\n"), None);
    }

    #[test]
    fn growing_the_heap_raises_the_peak() {
        let Some(before) = peak_rss_kib() else {
            return; // not Linux
        };
        let big = vec![1u8; 64 << 20];
        std::hint::black_box(&big);
        let after = peak_rss_kib().unwrap();
        assert!(after >= before.max(64 << 10), "{before} -> {after}");
    }
}
