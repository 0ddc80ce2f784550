//! Figure 5: the gateway against the simulator's bucket, cached reads, and a cached
//! `orders_list` through MCP.

use std::time::Instant;

use orderdesk_gateway::{ApiRequest, Gateway, GatewayConfig, StoreCredentials};
use orderdesk_sim::{DEMO_API_KEY, DEMO_STORE_ID, SimConfig, Simulator};

use crate::Paths;
use crate::client;
use crate::report::{Report, Target};
use crate::stats::{Samples, fmt_us, us};

const BURST: usize = 60;
const CACHED_READS: usize = 2_000;
const MCP_CACHED_CALLS: usize = 1_000;
/// Target of the issue: the burst within 10 % of the ideal, without a single 429.
const IDEAL_RATIO: f64 = 1.1;
/// `orders_list` arguments for the cached calls through MCP.
const ORDERS_LIST_ARGUMENTS: &str = r#"{"limit": 50}"#;

pub async fn gateway(report: &mut Report) -> anyhow::Result<()> {
    report.group("5. upstream: gateway pacing and cache (simulator, OrderDesk's bucket)");
    let config = SimConfig::sandbox();
    let capacity = f64::from(config.bucket_capacity);
    let refill = config.refill_per_sec;
    let sim = Simulator::spawn(config).await?;
    let mut gw_config = GatewayConfig::new(sim.api_base());
    gw_config.store_bucket_capacity = capacity;
    gw_config.store_refill_per_sec = refill;
    let gateway = Gateway::new(gw_config)?;

    // A burst of reads, all at once, each a distinct query so none is cached.
    let started = Instant::now();
    let mut tasks = Vec::with_capacity(BURST);
    for i in 0..BURST {
        let gateway = gateway.clone();
        tasks.push(tokio::spawn(async move {
            let creds = StoreCredentials::new(DEMO_STORE_ID, DEMO_API_KEY);
            let request = ApiRequest::get("/orders")
                .with_query("limit", "1")
                .with_query("offset", i.to_string());
            gateway.send("bench", &creds, request).await
        }));
    }
    let mut failed = 0;
    for task in tasks {
        if let Err(e) = task.await? {
            failed += 1;
            report.note(&format!("read failed: {e}"));
        }
    }
    let wall = started.elapsed().as_secs_f64();
    let ideal = (BURST as f64 - capacity).max(0.0) / refill;
    let stats = gateway.stats();
    let log = sim.simulator.request_log();
    let sim_429s = log.iter().filter(|r| r.status == 429).count();
    // When the requests reached the simulator, from the first one: where the time went.
    let mut arrivals: Vec<f64> = log
        .iter()
        .filter_map(|r| r.timestamp.duration_since(log[0].timestamp).ok())
        .map(|d| d.as_secs_f64())
        .collect();
    arrivals.sort_by(f64::total_cmp);
    report.note(&format!(
        "{BURST} concurrent uncached reads against a bucket of {capacity} refilled at {refill}/s"
    ));
    report.info("wall time", format!("{wall:.2} s"));
    report.info(
        &format!("ideal ({BURST} − {capacity}) / {refill}"),
        format!("{ideal:.2} s"),
    );
    let ratio = wall / ideal;
    let no_429 = stats.rate_limited_429s_seen == 0 && sim_429s == 0 && failed == 0;
    let burst = capacity as usize;
    if arrivals.len() == BURST && BURST > burst + 1 {
        let paced = &arrivals[burst..];
        let gaps: Vec<f64> = paced.windows(2).map(|w| w[1] - w[0]).collect();
        let max_gap = gaps.iter().copied().fold(0.0, f64::max);
        report.info(
            &format!(
                "arrivals at the simulator: #{} / #{} / #{BURST} after the first",
                burst,
                burst + 1
            ),
            format!(
                "{:.2} / {:.2} / {:.2} s",
                arrivals[burst - 1],
                paced[0],
                paced[paced.len() - 1]
            ),
        );
        report.info(
            &format!(
                "paced arrivals: mean / max gap (ideal {:.0} ms)",
                1e3 / refill
            ),
            format!(
                "{:.0} / {:.0} ms",
                1e3 * (paced[paced.len() - 1] - paced[0]) / gaps.len() as f64,
                1e3 * max_gap
            ),
        );
    }
    report.check(
        "wall / ideal; 429s seen (simulator logged); failed",
        format!(
            "{ratio:.3}; {} ({sim_429s}); {failed}",
            stats.rate_limited_429s_seen
        ),
        Target {
            text: format!("≤ {IDEAL_RATIO} × ideal, 0 × 429"),
            met: ratio <= IDEAL_RATIO && no_429,
        },
    );

    // Cached reads: one upstream read, then the same query again and again.
    let creds = StoreCredentials::new(DEMO_STORE_ID, DEMO_API_KEY);
    let request = ApiRequest::get("/orders").with_query("limit", "50");
    let first = gateway.send("bench", &creds, request.clone()).await?;
    let mut lat = Samples::with_capacity(CACHED_READS);
    for _ in 0..CACHED_READS {
        let started = Instant::now();
        let response = gateway.send("bench", &creds, request.clone()).await?;
        lat.push(started.elapsed());
        anyhow::ensure!(response.cached, "expected a cache hit");
    }
    report.info(
        &format!(
            "gateway cached read ({} B answer): p50 / p99",
            first.body.len()
        ),
        format!("{:.1} / {:.1} µs", us(lat.median()), us(lat.pct(0.99))),
    );
    Ok(())
}

/// A cached `orders_list` through the whole stdio path.
pub async fn mcp(paths: &Paths, report: &mut Report) -> anyhow::Result<()> {
    let data = paths.work.join("orders-list");
    let server = client::start_warm(&data, || client::ours_sandbox(paths, &data)).await?;
    let peer = server.peer();
    let call = client::params("orders_list", ORDERS_LIST_ARGUMENTS);
    let first = client::timed_call(&peer, call.clone()).await?;
    let mut lat = Samples::with_capacity(MCP_CACHED_CALLS);
    client::sequential(&peer, &call, MCP_CACHED_CALLS, &mut lat).await?;
    report.info(
        &format!("orders_list {ORDERS_LIST_ARGUMENTS} over MCP: first call (upstream)"),
        fmt_us(first),
    );
    report.info(
        &format!("orders_list over MCP, cached ({MCP_CACHED_CALLS} calls): p50 / p99"),
        format!("{:.1} / {:.1} µs", us(lat.median()), us(lat.pct(0.99))),
    );
    server.stop().await?;
    Ok(())
}
