//! Prometheus metrics end to end: the real binary serving the sandbox over stdio with
//! `--metrics 127.0.0.1:0`, driven by rmcp's client, `/metrics` scraped over real HTTP
//! and read with a Prometheus text-format parser. The counters must move by exactly
//! what the calls did.

#[path = "support/prometheus.rs"]
mod prometheus;
#[path = "support/server.rs"]
mod server;
#[path = "support/test_components.rs"]
mod test_components;

use std::net::SocketAddr;

use prometheus::{observations, value};
use prometheus_parse::Scrape;
use serde_json::json;
use server::{Launch, call, err, eventually, fresh_dir, ok, trust_component};
use test_components::{copy_component, test_components_dir};

/// The address `serve --metrics` bound, from its log line `metrics listening on ADDR`.
async fn metrics_addr(launch: &Launch<'_>) -> SocketAddr {
    let mut found = None;
    eventually("the server logs the metrics address", async || {
        found = launch.stderr().lines().find_map(|line| {
            let (_, addr) = line.split_once("metrics listening on ")?;
            addr.trim().parse().ok()
        });
        found.is_some()
    })
    .await;
    found.unwrap()
}

async fn get(addr: SocketAddr, token: Option<&str>) -> reqwest::Response {
    let request = reqwest::Client::new().get(format!("http://{addr}/metrics"));
    let request = match token {
        Some(token) => request.bearer_auth(token),
        None => request,
    };
    request.send().await.expect("the metrics endpoint answers")
}

/// A successful scrape, parsed.
async fn scrape(addr: SocketAddr, token: Option<&str>) -> Scrape {
    let response = get(addr, token).await;
    assert_eq!(response.status(), 200);
    let content_type = response.headers()["content-type"].to_str().unwrap();
    assert!(
        content_type.starts_with("text/plain; version=0.0.4"),
        "{content_type}"
    );
    prometheus::parse(&response.text().await.unwrap())
}

#[tokio::test]
async fn calls_upstream_reads_and_the_cache_move_the_counters() {
    let dir = fresh_dir("metrics-counters");
    let launch = Launch::new(&dir)
        .sandbox()
        .arg("--metrics")
        .arg("127.0.0.1:0");
    let client = launch.start().await;
    let addr = metrics_addr(&launch).await;

    let started = scrape(addr, None).await;
    let version = env!("CARGO_PKG_VERSION");
    assert_eq!(
        value(
            &started,
            "orderdesk_mcp_build_info",
            &[("version", version)]
        ),
        1.0
    );
    assert_eq!(
        value(&started, "orderdesk_mcp_sessions_active", &[]),
        1.0,
        "the stdio server is one session"
    );

    let page = ok(&call(&client, "orders_list", json!({"limit": 1})).await);
    let order_id = page["orders"][0]["id"].as_str().unwrap().to_string();
    let before = scrape(addr, None).await;

    // One read from OrderDesk, then the same read twice from the cache.
    for _ in 0..3 {
        ok(&call(&client, "orders_get", json!({"order_id": order_id})).await);
    }
    // Refused before any component runs.
    err(&call(&client, "orders_list", json!({"limit": "many"})).await);
    let after = scrape(addr, None).await;

    let moved = |name: &str, labels: &[(&str, &str)]| {
        value(&after, name, labels) - value(&before, name, labels)
    };
    let observed = |name: &str, labels: &[(&str, &str)]| {
        observations(&after, name, labels) - observations(&before, name, labels)
    };
    let calls = "orderdesk_mcp_tool_calls_total";
    for (name, help) in [
        (calls, "Tool calls by tool"),
        (
            "orderdesk_mcp_upstream_requests_total",
            "HTTP requests sent to OrderDesk",
        ),
        (
            "orderdesk_mcp_cache_hits_total",
            "OrderDesk reads answered from the cache",
        ),
    ] {
        assert!(after.docs[name].starts_with(help), "the # HELP of {name}");
    }
    assert_eq!(
        moved(calls, &[("tool", "orders_get"), ("outcome", "ok")]),
        3.0
    );
    assert_eq!(
        moved(
            calls,
            &[("tool", "orders_list"), ("outcome", "error:invalid_input")]
        ),
        1.0
    );
    assert_eq!(moved(calls, &[]), 4.0, "nothing else was counted");
    assert_eq!(
        observed(
            "orderdesk_mcp_tool_call_duration_seconds",
            &[("tool", "orders_get")]
        ),
        3.0
    );
    assert_eq!(moved("orderdesk_mcp_cache_misses_total", &[]), 1.0);
    assert_eq!(moved("orderdesk_mcp_cache_hits_total", &[]), 2.0);
    let upstream = "orderdesk_mcp_upstream_requests_total";
    assert_eq!(
        moved(upstream, &[("method", "GET"), ("status", "200")]),
        1.0
    );
    assert_eq!(moved(upstream, &[]), 1.0, "the cache hits stayed home");
    assert_eq!(
        observed(
            "orderdesk_mcp_upstream_request_duration_seconds",
            &[("method", "GET")]
        ),
        1.0
    );
    assert_eq!(observed("orderdesk_mcp_pacer_wait_seconds", &[]), 1.0);
    assert_eq!(value(&after, "orderdesk_mcp_sessions_active", &[]), 1.0);

    // OrderDesk's 404 is an upstream status and the call's outcome.
    err(&call(&client, "orders_get", json!({"order_id": "999999999"})).await);
    let missing = scrape(addr, None).await;
    assert_eq!(
        value(&missing, upstream, &[("method", "GET"), ("status", "404")]),
        1.0
    );
    assert_eq!(
        value(
            &missing,
            calls,
            &[("tool", "orders_get"), ("outcome", "error:not_found")]
        ),
        1.0
    );

    // Every call's audit row reaches the database, and the queue empties.
    let total_calls = value(&missing, calls, &[]);
    eventually("the audit rows are written", async || {
        let now = scrape(addr, None).await;
        value(&now, "orderdesk_mcp_audit_rows_written_total", &[]) == total_calls
            && value(&now, "orderdesk_mcp_audit_queue_depth", &[]) == 0.0
    })
    .await;

    // The endpoint stops with the stdio server.
    client.cancel().await.unwrap();
    eventually("the metrics listener closes", async || {
        tokio::net::TcpStream::connect(addr).await.is_err()
    })
    .await;
}

#[tokio::test]
async fn with_a_token_set_a_scrape_must_carry_it() {
    let dir = fresh_dir("metrics-token");
    let launch = Launch::new(&dir)
        .sandbox()
        .arg("--metrics")
        .arg("127.0.0.1:0")
        .env("ORDERDESK_MCP_METRICS_TOKEN", "metrics-s3cret");
    let client = launch.start().await;
    let addr = metrics_addr(&launch).await;

    let refused = get(addr, None).await;
    assert_eq!(refused.status(), 401);
    let challenge = refused.headers()["www-authenticate"].to_str().unwrap();
    assert!(challenge.starts_with("Bearer"), "{challenge}");
    assert_eq!(get(addr, Some("metrics-s3cre")).await.status(), 401);

    let scraped = scrape(addr, Some("metrics-s3cret")).await;
    assert_eq!(
        value(
            &scraped,
            "orderdesk_mcp_auth_failures_total",
            &[("reason", "metrics_token")]
        ),
        2.0
    );
    assert!(
        !launch.stderr().contains("metrics-s3cret"),
        "the token is never logged"
    );
    client.cancel().await.unwrap();
}

#[tokio::test]
async fn component_limit_hits_are_counted_by_kind() {
    test_components_dir();
    let dir = fresh_dir("metrics-limits");
    let extra = dir.join("components");
    let config = dir.join("config.toml");
    // Memory and CPU time for the 100 MB result to reach the result-size check (on a
    // loaded machine too), no more: the loop runs until the CPU time is spent.
    std::fs::write(
        &config,
        "[limits]\ncpu_ms = 2000\nmemory_mib = 256\nresult_kib = 1024\n",
    )
    .unwrap();
    copy_component(
        "hostile",
        &extra,
        "hostile",
        Some("[grants]\norderdesk = \"read\"\nlog = true\n"),
    );
    trust_component(&config, &extra.join("hostile.wasm"), "hostile");
    let launch = Launch::new(&dir)
        .sandbox()
        .arg("--components")
        .arg(extra.to_string_lossy().into_owned())
        .arg("--metrics")
        .arg("127.0.0.1:0")
        .env("ORDERDESK_MCP_CONFIG", config.to_string_lossy());
    let client = launch.start().await;
    let addr = metrics_addr(&launch).await;

    for tool in [
        "hostile_loop",
        "hostile_memory",
        "hostile_big_result",
        "hostile_panic",
    ] {
        err(&call(&client, tool, json!({})).await);
    }
    // The call goes on; its log is cut at the limit.
    ok(&call(&client, "hostile_log_flood", json!({})).await);

    let scraped = scrape(addr, None).await;
    let hits = "orderdesk_mcp_component_limit_hits_total";
    for kind in ["cpu_time", "memory", "result_size", "log_size"] {
        assert_eq!(value(&scraped, hits, &[("kind", kind)]), 1.0, "{kind}");
    }
    assert_eq!(value(&scraped, hits, &[]), 4.0, "nothing else was counted");
    assert_eq!(
        value(&scraped, "orderdesk_mcp_component_traps_total", &[]),
        1.0
    );
    let calls = "orderdesk_mcp_tool_calls_total";
    assert_eq!(
        value(
            &scraped,
            calls,
            &[("tool", "hostile_loop"), ("outcome", "error:limit")]
        ),
        1.0
    );
    assert_eq!(
        value(
            &scraped,
            calls,
            &[("tool", "hostile_panic"), ("outcome", "error:internal")]
        ),
        1.0
    );
    client.cancel().await.unwrap();
}
