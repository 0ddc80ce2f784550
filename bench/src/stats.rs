//! Latency samples, percentiles, `/proc` readings and number formatting.

use std::path::Path;
use std::time::Duration;

/// A set of latencies, sorted on demand.
#[derive(Clone, Debug, Default)]
pub struct Samples {
    values: Vec<Duration>,
    sorted: bool,
}

impl Samples {
    pub fn with_capacity(n: usize) -> Samples {
        Samples {
            values: Vec::with_capacity(n),
            sorted: true,
        }
    }

    pub fn push(&mut self, d: Duration) {
        self.values.push(d);
        self.sorted = false;
    }

    pub fn extend(&mut self, other: &Samples) {
        self.values.extend_from_slice(&other.values);
        self.sorted = false;
    }

    pub fn len(&self) -> usize {
        self.values.len()
    }

    fn sort(&mut self) {
        if !self.sorted {
            self.values.sort_unstable();
            self.sorted = true;
        }
    }

    /// Nearest-rank percentile, `p` in 0..=1.
    pub fn pct(&mut self, p: f64) -> Duration {
        self.sort();
        if self.values.is_empty() {
            return Duration::ZERO;
        }
        let rank = (p * self.values.len() as f64).ceil() as usize;
        self.values[rank.clamp(1, self.values.len()) - 1]
    }

    pub fn median(&mut self) -> Duration {
        self.pct(0.5)
    }

    pub fn max(&mut self) -> Duration {
        self.pct(1.0)
    }

    pub fn total(&self) -> Duration {
        self.values.iter().sum()
    }

    pub fn mean(&self) -> Duration {
        if self.values.is_empty() {
            Duration::ZERO
        } else {
            self.total() / self.values.len() as u32
        }
    }
}

/// Microseconds as a float.
pub fn us(d: Duration) -> f64 {
    d.as_secs_f64() * 1e6
}

/// Milliseconds as a float.
pub fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

pub fn fmt_us(d: Duration) -> String {
    format!("{:.1} µs", us(d))
}

pub fn fmt_ms(d: Duration) -> String {
    format!("{:.1} ms", ms(d))
}

pub fn fmt_mib(kib: u64) -> String {
    format!("{:.1} MiB", kib as f64 / 1024.0)
}

/// A field of `/proc/<pid>/status` in KiB (`VmRSS`, `VmHWM`).
pub fn status_kib(pid: u32, field: &str) -> anyhow::Result<u64> {
    let path = format!("/proc/{pid}/status");
    let text = std::fs::read_to_string(&path)?;
    for line in text.lines() {
        if let Some(rest) = line.strip_prefix(field).and_then(|r| r.strip_prefix(':')) {
            let number = rest.trim().trim_end_matches("kB").trim();
            return Ok(number.parse()?);
        }
    }
    anyhow::bail!("no {field} in {path}")
}

/// A process's memory from `/proc/<pid>/status`, KiB.
#[derive(Clone, Copy, Debug)]
pub struct Mem {
    /// Resident set size now (`VmRSS`).
    pub rss: u64,
    /// Peak resident set size (`VmHWM`).
    pub hwm: u64,
    /// The anonymous part of `rss` (`RssAnon`: heap, stacks, wasm memories); the rest
    /// is mapped files (the binary's code, the compiled components).
    pub anon: u64,
}

impl Mem {
    pub fn of(pid: u32) -> anyhow::Result<Mem> {
        Ok(Mem {
            rss: status_kib(pid, "VmRSS")?,
            hwm: status_kib(pid, "VmHWM")?,
            anon: status_kib(pid, "RssAnon")?,
        })
    }

    /// `52.3 MiB (anon 30.1)`.
    pub fn rss_text(&self) -> String {
        format!(
            "{} (anon {:.1})",
            fmt_mib(self.rss),
            self.anon as f64 / 1024.0
        )
    }
}

/// CPU time (user + system) a process has used so far, from `/proc/<pid>/stat`.
pub fn cpu_time(pid: u32) -> anyhow::Result<Duration> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/stat"))?;
    // The command name (field 2) is in parentheses and may hold spaces: split after it.
    let after = text
        .rsplit_once(')')
        .map(|(_, rest)| rest)
        .ok_or_else(|| anyhow::anyhow!("unexpected /proc/{pid}/stat"))?;
    let fields: Vec<&str> = after.split_whitespace().collect();
    // fields[0] is field 3 (state): utime is field 14, stime field 15.
    let utime: u64 = fields
        .get(11)
        .ok_or_else(|| anyhow::anyhow!("no utime"))?
        .parse()?;
    let stime: u64 = fields
        .get(12)
        .ok_or_else(|| anyhow::anyhow!("no stime"))?
        .parse()?;
    let ticks = utime + stime;
    Ok(Duration::from_secs_f64(
        ticks as f64 / clock_ticks_per_sec(),
    ))
}

/// `sysconf(_SC_CLK_TCK)` without libc: ask `getconf`, else Linux's fixed USER_HZ.
fn clock_ticks_per_sec() -> f64 {
    static TICKS: std::sync::OnceLock<f64> = std::sync::OnceLock::new();
    *TICKS.get_or_init(|| {
        std::process::Command::new("getconf")
            .arg("CLK_TCK")
            .output()
            .ok()
            .and_then(|o| String::from_utf8_lossy(&o.stdout).trim().parse().ok())
            .filter(|t: &f64| *t > 0.0)
            .unwrap_or(100.0)
    })
}

/// Remove `dir` if present and create it empty, private to this user (the server refuses
/// a data directory others can read that holds more than its own files, e.g. a log).
pub fn fresh_dir(dir: &Path) -> anyhow::Result<()> {
    if dir.exists() {
        std::fs::remove_dir_all(dir)?;
    }
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder.create(dir)?;
    Ok(())
}
