//! Figures 1, 2 and 6: a trivial tool call through the whole stdio path (ours against
//! the null server, interleaved), the bare component call without MCP, 8 concurrent
//! calls on one connection, and the server's memory.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use anyhow::Context;
use orderdesk_host::app;
use orderdesk_host::app::ConfigFile;
use orderdesk_host::runtime::Runtime;

use crate::Paths;
use crate::client::{self, ECHO_ARGUMENTS, ECHO_TOOL};
use crate::report::{Report, Target};
use crate::stats::{self, Mem, Samples, fmt_mib, fmt_us, us};

/// Calls per batch; ours and the null server alternate batch by batch.
const BATCH: usize = 200;
/// Measured batches per server (BATCH × ROUNDS calls each).
const ROUNDS: usize = 10;
const WARMUP: usize = 200;
/// Bare runtime calls.
const BARE_WARMUP: usize = 1_000;
const BARE_CALLS: usize = 10_000;
/// The concurrency run.
const IN_FLIGHT: usize = 8;
const CONCURRENT_CALLS: usize = 2_000;

/// How long a server sits after `tools/list` before its idle memory is read: it hands
/// back start-up memory 200 ms after the first `tools/list` (`orderdesk_host::app::memory`).
const IDLE_SETTLE: std::time::Duration = std::time::Duration::from_millis(500);

/// Targets of the issue.
const HOST_SHARE_P50_US: f64 = 32.0;
const BARE_P50_US: f64 = 15.0;
const RSS_AFTER_CALLS_MB: f64 = 20.0;

/// Figure 1 (stdio, ours vs the null server) and the memory of figure 6 after it.
pub async fn stdio(paths: &Paths, report: &mut Report, memory: &mut Memory) -> anyhow::Result<()> {
    report.group("1. trivial tool call over stdio (rmcp client → server)");
    let data = paths.work.join("stdio");
    let ours = client::start_warm(&data, || client::ours_sandbox(paths, &data)).await?;
    let null = client::connect(client::null(paths), &paths.work.join("null-stderr.log")).await?;
    let tools = ours.client.list_all_tools().await?;
    anyhow::ensure!(
        tools.iter().any(|t| t.name == ECHO_TOOL),
        "the server does not list {ECHO_TOOL}"
    );
    null.client.list_all_tools().await?;
    tokio::time::sleep(IDLE_SETTLE).await;
    let idle = Mem::of(ours.pid)?;
    let null_idle = Mem::of(null.pid)?;

    let (ours_peer, null_peer) = (ours.peer(), null.peer());
    let ours_call = client::params(ECHO_TOOL, ECHO_ARGUMENTS);
    let null_call = client::params("echo", ECHO_ARGUMENTS);
    let mut scratch = Samples::with_capacity(WARMUP);
    client::sequential(&ours_peer, &ours_call, WARMUP, &mut scratch).await?;
    client::sequential(&null_peer, &null_call, WARMUP, &mut scratch).await?;

    let (ours_cpu0, null_cpu0) = (stats::cpu_time(ours.pid)?, stats::cpu_time(null.pid)?);
    let mut ours_lat = Samples::with_capacity(BATCH * ROUNDS);
    let mut null_lat = Samples::with_capacity(BATCH * ROUNDS);
    let started = Instant::now();
    for _ in 0..ROUNDS {
        client::sequential(&ours_peer, &ours_call, BATCH, &mut ours_lat).await?;
        client::sequential(&null_peer, &null_call, BATCH, &mut null_lat).await?;
    }
    let wall = started.elapsed();
    let ours_cpu = stats::cpu_time(ours.pid)?.saturating_sub(ours_cpu0);
    let null_cpu = stats::cpu_time(null.pid)?.saturating_sub(null_cpu0);
    let calls_done = WARMUP + BATCH * ROUNDS;
    let after = Mem::of(ours.pid)?;

    let n = BATCH * ROUNDS;
    report.note(&format!(
        "{n} calls each, alternating batches of {BATCH} (ours, null), after {WARMUP} warm-up calls each; {:.1} s",
        wall.as_secs_f64()
    ));
    for (name, lat, cpu) in [
        ("orderdesk-mcp echo", &mut ours_lat, ours_cpu),
        ("null server echo", &mut null_lat, null_cpu),
    ] {
        report.info(
            &format!("{name}: p50 / p90 / p99"),
            format!(
                "{:.1} / {:.1} / {:.1} µs",
                us(lat.pct(0.5)),
                us(lat.pct(0.9)),
                us(lat.pct(0.99))
            ),
        );
        report.info(
            &format!("{name}: calls/s (sequential)"),
            format!("{:.0}", n as f64 / lat.total().as_secs_f64()),
        );
        report.info(
            &format!("{name}: server CPU time per call"),
            fmt_us(cpu / n as u32),
        );
    }
    let (ours_p50, null_p50) = (ours_lat.median(), null_lat.median());
    let share = us(ours_p50) - us(null_p50);
    report.check(
        "host share: p50(ours) − p50(null)",
        format!("{share:.1} µs"),
        Target::at_most(
            share,
            HOST_SHARE_P50_US,
            format!("≤ {HOST_SHARE_P50_US} µs"),
        ),
    );
    report.info(
        "ratio p50(ours) / p50(null)",
        format!("{:.2}×", us(ours_p50) / us(null_p50)),
    );

    memory.idle = Some((idle, null_idle));
    memory.after_calls = Some((calls_done, after));
    ours.stop().await?;
    null.stop().await?;
    Ok(())
}

/// Figure 6, production shape: `serve --components DIR` without the sandbox (no
/// in-process simulator and its demo orders), idle and after 2,000 calls; then the same
/// with `ORDERDESK_MCP_KEEP_STARTUP_MEMORY=1`, to show what the start-up release gives.
pub async fn memory_plain(paths: &Paths, memory: &mut Memory) -> anyhow::Result<()> {
    memory.plain = Some(plain_run(paths, "memory-plain", false).await?);
    memory.plain_kept = Some(plain_run(paths, "memory-plain-kept", true).await?);
    Ok(())
}

async fn plain_run(
    paths: &Paths,
    name: &str,
    keep_startup_memory: bool,
) -> anyhow::Result<(Mem, usize, Mem)> {
    let data = paths.work.join(name);
    let components = client::components_dir(paths)?;
    let components = components.to_string_lossy().into_owned();
    let server = client::start_warm(&data, || {
        let mut cmd = client::ours(paths, &data, &["--components", components.as_str()]);
        if keep_startup_memory {
            cmd.env(orderdesk_host::app::memory::KEEP_STARTUP_MEMORY_ENV, "1");
        }
        Ok(cmd)
    })
    .await?;
    server.client.list_all_tools().await?;
    tokio::time::sleep(IDLE_SETTLE).await;
    let idle = Mem::of(server.pid)?;
    let call = client::params(ECHO_TOOL, ECHO_ARGUMENTS);
    let mut lat = Samples::with_capacity(BATCH * ROUNDS);
    client::sequential(&server.peer(), &call, BATCH * ROUNDS, &mut lat).await?;
    let after = Mem::of(server.pid)?;
    server.stop().await?;
    Ok((idle, lat.len(), after))
}

/// Figure 1, second part: `Runtime::call` (instantiate + call) without MCP.
pub async fn bare(paths: &Paths, report: &mut Report) -> anyhow::Result<()> {
    report.group("1b. bare component call (library: Runtime::call, no MCP)");
    let data = paths.work.join("bare");
    stats::fresh_dir(&data)?;
    let host = app::open_sandbox(&data).await?;
    let components = client::components_dir(paths)?;
    let config = ConfigFile::load(&client::trust_config(paths))?;
    // As the server runs: components come from a warm compile cache (the first `load`
    // fills it), so their code is a mapped file rather than freshly compiled memory.
    let cache = data.join("cache");
    for file in ["echo.wasm", "hostile.wasm"] {
        let warm_up = Runtime::new(config.limits()?, Some(host.compile_cache(cache.clone())))?;
        app::load_file(&warm_up, &host, &config, &components.join(file)).await?;
    }
    let runtime = Runtime::new(config.limits()?, Some(host.compile_cache(cache)))?;
    report.note(&format!(
        "{BARE_CALLS} calls in a fresh instance each (after {BARE_WARMUP} warm-up)"
    ));
    for (file, tool, checked) in [
        ("echo.wasm", ECHO_TOOL, true),
        ("hostile.wasm", "hostile_echo", false),
    ] {
        let wasm = components.join(file);
        let component = app::load_file(&runtime, &host, &config, &wasm)
            .await
            .with_context(|| format!("cannot load {}", wasm.display()))?;
        let mut lat = Samples::with_capacity(BARE_CALLS);
        for i in 0..BARE_WARMUP + BARE_CALLS {
            let context = app::load_context(&host, &component.name, component.grants);
            let started = Instant::now();
            let result = runtime
                .call(&component, context, tool, ECHO_ARGUMENTS)
                .await;
            let elapsed = started.elapsed();
            result.map_err(|e| anyhow::anyhow!("{tool} failed: {e}"))?;
            if i >= BARE_WARMUP {
                lat.push(elapsed);
            }
        }
        let what = format!(
            "{file} `{tool}` ({} imports)",
            runtime.import_count(&component)
        );
        let p50 = lat.median();
        if checked {
            report.check(
                &format!("{what}: instantiate + call: p50"),
                fmt_us(p50),
                Target::at_most(us(p50), BARE_P50_US, format!("≤ {BARE_P50_US} µs")),
            );
        } else {
            report.info(&format!("{what}: instantiate + call: p50"), fmt_us(p50));
        }
        report.info(
            &format!("{what}: p99 / mean"),
            format!("{:.1} / {:.1} µs", us(lat.pct(0.99)), us(lat.mean())),
        );
    }
    drop(host);
    Ok(())
}

/// Figure 2 (8 calls in flight on one connection) and the peak memory after it.
pub async fn concurrency(
    paths: &Paths,
    report: &mut Report,
    memory: &mut Memory,
) -> anyhow::Result<()> {
    report.group("2. concurrency: 8 calls in flight on one connection");
    let data = paths.work.join("concurrency");
    let server = client::start_warm(&data, || client::ours_sandbox(paths, &data)).await?;
    server.client.list_all_tools().await?;
    let call = client::params(ECHO_TOOL, ECHO_ARGUMENTS);
    let mut scratch = Samples::with_capacity(WARMUP);
    client::sequential(&server.peer(), &call, WARMUP, &mut scratch).await?;

    let cpu0 = stats::cpu_time(server.pid)?;
    let next = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let mut workers = tokio::task::JoinSet::new();
    for _ in 0..IN_FLIGHT {
        let (peer, call, next) = (server.peer(), call.clone(), next.clone());
        workers.spawn(async move {
            let mut lat = Samples::with_capacity(CONCURRENT_CALLS / IN_FLIGHT + 1);
            while next.fetch_add(1, Ordering::Relaxed) < CONCURRENT_CALLS {
                lat.push(client::timed_call(&peer, call.clone()).await?);
            }
            anyhow::Ok(lat)
        });
    }
    let mut lat = Samples::with_capacity(CONCURRENT_CALLS);
    while let Some(done) = workers.join_next().await {
        lat.extend(&done??);
    }
    let wall = started.elapsed();
    let cpu = stats::cpu_time(server.pid)?.saturating_sub(cpu0);
    let n = lat.len();
    report.note(&format!(
        "{n} calls by {IN_FLIGHT} tasks sharing one rmcp client, {:.2} s",
        wall.as_secs_f64()
    ));
    report.info("calls/s", format!("{:.0}", n as f64 / wall.as_secs_f64()));
    report.info(
        "latency p50 / p99",
        format!("{:.1} / {:.1} µs", us(lat.median()), us(lat.pct(0.99))),
    );
    report.info("server CPU time per call", fmt_us(cpu / n as u32));
    memory.after_concurrency = Some((n + WARMUP, Mem::of(server.pid)?));
    server.stop().await?;
    Ok(())
}

/// Memory readings taken during figures 1 and 2, reported as figure 6. The servers
/// start with a warm compile cache, as a server normally does.
#[derive(Debug, Default)]
pub struct Memory {
    /// After tools/list: ours, the null server.
    pub idle: Option<(Mem, Mem)>,
    /// After the sequential calls (calls made).
    pub after_calls: Option<(usize, Mem)>,
    /// After the concurrency run (calls made).
    pub after_concurrency: Option<(usize, Mem)>,
    /// `serve --components DIR` (no sandbox): idle, then after its calls.
    pub plain: Option<(Mem, usize, Mem)>,
    /// The same with the start-up release turned off.
    pub plain_kept: Option<(Mem, usize, Mem)>,
}

/// Figure 6. The target is checked on the server as it runs in production (`serve`
/// without the sandbox); the sandbox figures include the in-process OrderDesk simulator
/// and its demo data, which a production server does not have.
pub fn memory(memory: &Memory, report: &mut Report) {
    report.group("6. memory (server process; anon = RssAnon, the rest is mapped files)");
    if let Some((idle, calls, after)) = memory.plain {
        report.info(
            "`serve --components` (production shape): idle VmRSS, 0.5 s after tools/list",
            idle.rss_text(),
        );
        report.check(
            &format!("`serve --components`: after {calls} calls: VmRSS"),
            after.rss_text(),
            rss_target(after.rss),
        );
        report.info(
            &format!("`serve --components`: after {calls} calls: VmHWM (peak)"),
            fmt_mib(after.hwm),
        );
    }
    if let Some((idle, calls, after)) = memory.plain_kept {
        report.info(
            "same, start-up memory kept (ORDERDESK_MCP_KEEP_STARTUP_MEMORY=1): idle / after calls",
            format!("{} / {} ({calls} calls)", idle.rss_text(), after.rss_text()),
        );
    }
    if let Some((ours, null)) = memory.idle {
        report.info(
            "`serve --sandbox` (+ simulator) idle, 0.5 s after tools/list: VmRSS",
            ours.rss_text(),
        );
        report.info("null server idle, after tools/list: VmRSS", null.rss_text());
    }
    if let Some((calls, after)) = memory.after_calls {
        report.info(
            &format!("`serve --sandbox`, after {calls} sequential calls: VmRSS / VmHWM"),
            format!("{} / {}", after.rss_text(), fmt_mib(after.hwm)),
        );
    }
    if let Some((calls, after)) = memory.after_concurrency {
        report.info(
            &format!(
                "`serve --sandbox`, after the concurrency run ({calls} calls): VmRSS / VmHWM (peak)"
            ),
            format!("{} / {}", after.rss_text(), fmt_mib(after.hwm)),
        );
    }
}

/// VmRSS is in KiB; the target is in MB (10^6 bytes), the stricter reading.
fn rss_target(rss_kib: u64) -> Target {
    Target::at_most(
        (rss_kib * 1024) as f64 / 1e6,
        RSS_AFTER_CALLS_MB,
        format!(
            "≤ {RSS_AFTER_CALLS_MB} MB ({:.1} MiB)",
            RSS_AFTER_CALLS_MB * 1e6 / (1 << 20) as f64
        ),
    )
}
