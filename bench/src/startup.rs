//! Figure 3: process start → `tools/list` answered, with an empty compile cache (cold)
//! and with the cache of the previous start (warm).

use crate::Paths;
use crate::client;
use crate::report::{Report, Target};
use crate::stats::{self, Mem, Samples, fmt_ms, ms};

/// Starts per mode and cache state.
const RUNS: usize = 5;
/// Target of the issue: a warm start answers tools/list within this.
const WARM_START_MS: f64 = 15.0;

#[derive(Clone, Copy)]
enum Mode {
    /// `orderdesk-mcp serve`: no account, the three built-in components.
    Plain,
    /// `orderdesk-mcp serve --sandbox --components DIR`: the simulator, a fresh sandbox
    /// vault with a demo tenant (bcrypt cost 4), the built-ins plus `echo.wasm` and
    /// `hostile.wasm`.
    Sandbox,
}

impl Mode {
    fn label(self) -> &'static str {
        match self {
            Mode::Plain => "`serve` (built-in components)",
            Mode::Sandbox => "`serve --sandbox --components` (+ echo, hostile)",
        }
    }

    fn dir(self) -> &'static str {
        match self {
            Mode::Plain => "start-plain",
            Mode::Sandbox => "start-sandbox",
        }
    }
}

async fn start(paths: &Paths, mode: Mode) -> anyhow::Result<client::Start> {
    let data = paths.work.join(mode.dir());
    let cmd = match mode {
        Mode::Plain => client::ours(paths, &data, &[]),
        Mode::Sandbox => client::ours_sandbox(paths, &data)?,
    };
    client::start_to_tools_list(cmd, &data.join("stderr.log")).await
}

pub async fn run(paths: &Paths, report: &mut Report) -> anyhow::Result<()> {
    report.group("3. start-up: process start → tools/list answered");
    report.note(&format!(
        "median of {RUNS}, cold (`<data dir>/cache` deleted first) and warm alternating; \
         the data directory (database, server key) exists in both"
    ));
    for mode in [Mode::Plain, Mode::Sandbox] {
        let data = paths.work.join(mode.dir());
        stats::fresh_dir(&data)?;
        // First start: creates the database and the server key, fills the cache.
        let tools = start(paths, mode).await?.tools;
        let mut cold = Samples::with_capacity(RUNS);
        let mut warm = Samples::with_capacity(RUNS);
        let (mut cold_rss, mut warm_rss) = (Vec::new(), Vec::new());
        for _ in 0..RUNS {
            let cache = data.join("cache");
            if cache.exists() {
                std::fs::remove_dir_all(&cache)?;
            }
            let first = start(paths, mode).await?;
            cold.push(first.time);
            cold_rss.push(first.memory);
            let again = start(paths, mode).await?;
            warm.push(again.time);
            warm_rss.push(again.memory);
        }
        report.info(
            &format!("{}: cold, {tools} tools (min … max)", mode.label()),
            format!(
                "{} ({:.0} … {:.0} ms)",
                fmt_ms(cold.median()),
                ms(cold.pct(0.0)),
                ms(cold.max())
            ),
        );
        let warm_median = warm.median();
        let label = format!("{}: warm (min … max)", mode.label());
        let figure = format!(
            "{} ({:.1} … {:.1} ms)",
            fmt_ms(warm_median),
            ms(warm.pct(0.0)),
            ms(warm.max())
        );
        match mode {
            // The target is the server's start; the sandbox also builds a throw-away
            // vault with a demo tenant and store at every start, by design.
            Mode::Plain => report.check(
                &label,
                figure,
                Target::at_most(
                    ms(warm_median),
                    WARM_START_MS,
                    format!("≤ {WARM_START_MS} ms"),
                ),
            ),
            Mode::Sandbox => report.info(&label, figure),
        }
        report.info(
            &format!(
                "{}: VmRSS after tools/list, cold / warm start",
                mode.label()
            ),
            format!(
                "{} / {}",
                median_mem(&mut cold_rss).rss_text(),
                median_mem(&mut warm_rss).rss_text()
            ),
        );
    }
    Ok(())
}

/// The reading with the median VmRSS.
fn median_mem(readings: &mut [Mem]) -> Mem {
    readings.sort_by_key(|m| m.rss);
    readings[readings.len() / 2]
}
