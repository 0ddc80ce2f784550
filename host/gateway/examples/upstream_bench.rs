//! How close the gateway's pacing gets to OrderDesk's limit, and what a cached read
//! costs. Runs against the simulator with OrderDesk's documented bucket (20, 3/s).
//!
//! ```text
//! cargo run --release -p orderdesk-gateway --example upstream_bench
//! ```

use std::time::Duration;

use orderdesk_gateway::{ApiRequest, Gateway, GatewayConfig, StoreCredentials};
use orderdesk_sim::{DEMO_API_KEY, DEMO_STORE_ID, SimConfig, Simulator};
use tokio::time::Instant;

const BURST: usize = 60;
const CACHED_READS: usize = 2_000;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let config = SimConfig::sandbox();
    let capacity = f64::from(config.bucket_capacity);
    let refill = config.refill_per_sec;
    let sim = Simulator::spawn(config).await?;
    let mut gw_config = GatewayConfig::new(sim.api_base());
    gw_config.store_bucket_capacity = capacity;
    gw_config.store_refill_per_sec = refill;
    let gateway = Gateway::new(gw_config)?;

    // 1. A burst of reads, all at once, each a distinct query so none is cached.
    println!("{BURST} concurrent reads against a bucket of {capacity} refilled at {refill}/s");
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
            eprintln!("  read failed: {e}");
        }
    }
    let wall = started.elapsed().as_secs_f64();
    let ideal = (BURST as f64 - capacity).max(0.0) / refill;
    let stats = gateway.stats();
    let sim_429s = sim
        .simulator
        .request_log()
        .iter()
        .filter(|r| r.status == 429)
        .count();
    println!("  wall time        {wall:8.2} s");
    println!("  ideal            {ideal:8.2} s  (({BURST} - {capacity}) / {refill})");
    println!("  ratio            {:8.3}", wall / ideal);
    println!(
        "  429s seen        {:8}  (simulator logged {sim_429s})",
        stats.rate_limited_429s_seen
    );
    println!("  failed reads     {failed:8}");

    // 2. Cached reads: one upstream read, then the same query again and again.
    let creds = StoreCredentials::new(DEMO_STORE_ID, DEMO_API_KEY);
    let request = ApiRequest::get("/orders").with_query("limit", "50");
    let first = gateway.send("bench", &creds, request.clone()).await?;
    let mut latencies: Vec<Duration> = Vec::with_capacity(CACHED_READS);
    for _ in 0..CACHED_READS {
        let t = Instant::now();
        let r = gateway.send("bench", &creds, request.clone()).await?;
        latencies.push(t.elapsed());
        anyhow::ensure!(r.cached, "expected a cache hit");
    }
    latencies.sort_unstable();
    let pct = |p: f64| latencies[((latencies.len() - 1) as f64 * p).round() as usize];
    println!(
        "{CACHED_READS} cached reads of a {}-byte answer",
        first.body.len()
    );
    println!("  p50              {:8.1} µs", micros(pct(0.50)));
    println!("  p99              {:8.1} µs", micros(pct(0.99)));
    println!("  max              {:8.1} µs", micros(pct(1.0)));
    let stats = gateway.stats();
    println!(
        "gateway stats: {} upstream, {} cache hits, {} misses, {} retries, {} 429s",
        stats.upstream_requests,
        stats.cache_hits,
        stats.cache_misses,
        stats.retries,
        stats.rate_limited_429s_seen
    );
    Ok(())
}

fn micros(d: Duration) -> f64 {
    d.as_secs_f64() * 1e6
}
