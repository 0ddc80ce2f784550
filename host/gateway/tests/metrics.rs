//! The gateway's metrics, recorded through the `metrics` facade into a recorder local to
//! each test (the runtime is single-threaded, so every request of the test is recorded
//! there): each attempt by method and status, 429s, retries by reason, cache hits and
//! misses, pacer waits and latencies.

mod common;

use std::time::Duration;

use common::{Reply, scripted};
use metrics_exporter_prometheus::PrometheusBuilder;
use orderdesk_gateway::{ApiRequest, Gateway, GatewayConfig, StoreCredentials};

fn creds() -> StoreCredentials {
    StoreCredentials::new("424242", "sk_test_metrics")
}

fn fast_config(api_base: &str) -> GatewayConfig {
    let mut c = GatewayConfig::new(api_base);
    c.backoff_base = Duration::from_millis(10);
    c
}

/// The value of the sample `series` (name and labels as rendered), 0 when absent.
fn value(text: &str, series: &str) -> f64 {
    text.lines()
        .find_map(|line| line.strip_prefix(series)?.strip_prefix(' '))
        .map_or(0.0, |v| v.trim().parse().unwrap())
}

#[tokio::test]
async fn attempts_429s_retries_and_the_cache_are_counted() {
    let recorder = PrometheusBuilder::new().build_recorder();
    let handle = recorder.handle();
    let _local = metrics::set_default_local_recorder(&recorder);

    let server = scripted(|n, _| match n {
        0 => Reply::status(429, "").header("X-Retry-After", "0.1"),
        2 => Reply::status(503, r#"{"status":"error","message":"down"}"#),
        _ => Reply::ok(r#"{"status":"success","orders":[]}"#),
    })
    .await;
    let g = Gateway::new(fast_config(&server.api_base)).unwrap();
    // 429, then 200; then the same read from the cache.
    for _ in 0..2 {
        g.send("t", &creds(), ApiRequest::get("/orders"))
            .await
            .unwrap();
    }
    // 503, then 200.
    g.send("t", &creds(), ApiRequest::get("/orders/5"))
        .await
        .unwrap();
    // Nothing listens on port 9: two attempts without an answer, one retry.
    let mut nowhere = fast_config("http://127.0.0.1:9/api/v2");
    nowhere.get_retries = 1;
    Gateway::new(nowhere)
        .unwrap()
        .send("t", &creds(), ApiRequest::get("/test"))
        .await
        .unwrap_err();

    let text = handle.render();
    let requests = "orderdesk_mcp_upstream_requests_total";
    assert_eq!(
        value(
            &text,
            &format!("{requests}{{method=\"GET\",status=\"429\"}}")
        ),
        1.0,
        "{text}"
    );
    assert_eq!(
        value(
            &text,
            &format!("{requests}{{method=\"GET\",status=\"503\"}}")
        ),
        1.0,
        "{text}"
    );
    assert_eq!(
        value(
            &text,
            &format!("{requests}{{method=\"GET\",status=\"200\"}}")
        ),
        2.0,
        "{text}"
    );
    assert_eq!(
        value(
            &text,
            &format!("{requests}{{method=\"GET\",status=\"error\"}}")
        ),
        2.0,
        "{text}"
    );
    assert_eq!(
        value(&text, "orderdesk_mcp_upstream_rate_limited_total"),
        1.0,
        "{text}"
    );
    let retries = "orderdesk_mcp_upstream_retries_total";
    assert_eq!(
        value(&text, &format!("{retries}{{reason=\"rate_limited\"}}")),
        1.0,
        "{text}"
    );
    assert_eq!(
        value(&text, &format!("{retries}{{reason=\"server_error\"}}")),
        1.0,
        "{text}"
    );
    assert_eq!(
        value(&text, &format!("{retries}{{reason=\"transport\"}}")),
        1.0,
        "{text}"
    );
    assert_eq!(
        value(&text, "orderdesk_mcp_cache_hits_total"),
        1.0,
        "{text}"
    );
    // `/test` is not cacheable: only the two `/orders` reads missed.
    assert_eq!(
        value(&text, "orderdesk_mcp_cache_misses_total"),
        2.0,
        "{text}"
    );
    // Every attempt waited its turn and was timed (6 attempts in all).
    assert_eq!(
        value(&text, "orderdesk_mcp_pacer_wait_seconds_count"),
        6.0,
        "{text}"
    );
    assert_eq!(
        value(
            &text,
            "orderdesk_mcp_upstream_request_duration_seconds_count{method=\"GET\"}"
        ),
        6.0,
        "{text}"
    );
}
