//! What Linux's `/proc` says about this machine and this process: the CPU,
//! the load, and the process's peak resident memory (which `seal-bench`
//! resets before each step, so each step gets its own peak).

use std::collections::BTreeSet;
use std::fs;

/// Clears the process's peak RSS (`VmHWM`) to its current RSS, by writing
/// `5` to `/proc/self/clear_refs` (Linux 4.0+). False if that failed.
pub fn reset_peak_rss() -> bool {
    fs::write("/proc/self/clear_refs", "5").is_ok()
}

/// Peak resident memory since start or the last [`reset_peak_rss`], KiB.
pub fn peak_rss_kib() -> Option<u64> {
    status_kib("VmHWM:")
}

fn status_kib(key: &str) -> Option<u64> {
    let status = fs::read_to_string("/proc/self/status").ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix(key))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
}

/// The machine, for a benchmark report.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Machine {
    /// `model name` of the first CPU in /proc/cpuinfo.
    pub cpu: String,
    /// Distinct (physical id, core id) pairs: physical cores.
    pub cores: usize,
    /// CPUs this process may run on.
    pub logical_cpus: usize,
    /// MemTotal, KiB.
    pub mem_total_kib: Option<u64>,
    /// Kernel release.
    pub kernel: String,
}

impl Machine {
    /// Reads /proc.
    pub fn read() -> Self {
        let cpuinfo = fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
        let field = |line: &str, key: &str| {
            line.split_once(':')
                .filter(|(k, _)| k.trim() == key)
                .map(|(_, v)| v.trim().to_owned())
        };
        let cpu = cpuinfo
            .lines()
            .find_map(|l| field(l, "model name"))
            .unwrap_or_else(|| "unknown".into());
        let mut cores = BTreeSet::new();
        let mut physical = String::new();
        for l in cpuinfo.lines() {
            if let Some(p) = field(l, "physical id") {
                physical = p;
            } else if let Some(c) = field(l, "core id") {
                cores.insert((physical.clone(), c));
            }
        }
        let logical_cpus = std::thread::available_parallelism().map_or(1, |n| n.get());
        let mem_total_kib = fs::read_to_string("/proc/meminfo").ok().and_then(|m| {
            m.lines()
                .find_map(|l| l.strip_prefix("MemTotal:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        });
        Self {
            cpu,
            cores: if cores.is_empty() {
                logical_cpus
            } else {
                cores.len()
            },
            logical_cpus,
            mem_total_kib,
            kernel: fs::read_to_string("/proc/sys/kernel/osrelease")
                .map(|s| s.trim().to_owned())
                .unwrap_or_default(),
        }
    }
}

/// The 1-minute load average.
pub fn load_1min() -> Option<f64> {
    fs::read_to_string("/proc/loadavg")
        .ok()?
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}
