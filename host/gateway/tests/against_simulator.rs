//! The gateway against the OrderDesk simulator (`orderdesk-sim`) on 127.0.0.1:0: real
//! credentials checks, a real leaky bucket, injected faults, and the simulator's request
//! log as the witness of what actually went over the wire.

mod common;

use std::time::Duration;

use common::LogCapture;
use orderdesk_gateway::{
    ApiRequest, CacheMode, Gateway, GatewayConfig, GatewayError, StoreCredentials,
};
use orderdesk_sim::{
    DEMO_API_KEY, DEMO_STORE_ID, Fault, FaultKind, LoggedRequest, SimConfig, SimHandle, Simulator,
};
use tokio::time::Instant;

const NEW_ORDER: &str = r#"{"email":"ada@example.com","shipping":{"first_name":"Ada","last_name":"Lovelace"},"order_items":[{"name":"Widget","code":"W-1","price":"9.99","quantity":1}]}"#;

fn demo() -> StoreCredentials {
    StoreCredentials::new(DEMO_STORE_ID, DEMO_API_KEY)
}

async fn sim() -> SimHandle {
    sim_with(SimConfig::sandbox()).await
}

async fn sim_with(config: SimConfig) -> SimHandle {
    Simulator::spawn(config).await.unwrap()
}

fn gateway(sim: &SimHandle) -> Gateway {
    let mut c = GatewayConfig::new(sim.api_base());
    c.backoff_base = Duration::from_millis(10);
    Gateway::new(c).unwrap()
}

/// The simulator's log lines for `method` on `path` (relative to the API base).
fn logged(sim: &SimHandle, method: &str, path: &str) -> Vec<LoggedRequest> {
    let full = format!("/api/v2{path}");
    sim.simulator
        .request_log()
        .into_iter()
        .filter(|r| r.method == method && r.path == full)
        .collect()
}

#[tokio::test]
async fn credentials_are_accepted_and_the_key_is_absent_from_logs() {
    let logs = LogCapture::default();
    let _guard = logs.install();
    let sim = sim().await;
    let g = gateway(&sim);

    let ok = g
        .send("tenant-a", &demo(), ApiRequest::get("/test"))
        .await
        .unwrap();
    assert_eq!(ok.status, 200);
    assert!(ok.body.contains("Connection Successful"), "{}", ok.body);

    let wrong = StoreCredentials::new(DEMO_STORE_ID, "wrong-key-also-secret");
    let err = g
        .send("tenant-a", &wrong, ApiRequest::get("/test"))
        .await
        .unwrap_err();
    assert!(matches!(err, GatewayError::Unauthorized(_)), "{err:?}");

    let log = sim.simulator.request_log();
    assert_eq!(log.len(), 2);
    assert!(
        log.iter()
            .all(|r| r.store_id.as_deref() == Some(DEMO_STORE_ID))
    );
    assert_eq!(log[0].status, 200);
    assert_eq!(log[1].status, 401);
    assert!(!log[0].had_body);

    let text = format!("{}\n{err}\n{err:?}\n{:?}\n{:?}", logs.text(), demo(), wrong);
    assert!(text.contains("orderdesk request done"), "capture works");
    for key in [DEMO_API_KEY, "wrong-key-also-secret"] {
        assert!(!text.contains(key), "{key} leaked: {text}");
    }
}

#[tokio::test]
async fn sixty_reads_at_once_are_paced_and_meet_no_429() {
    // OrderDesk's bucket of 20, refilled faster than the real 3/s so the test takes
    // (60 - 20) / 10 = 4 s rather than 13 s; the arithmetic is the same.
    let sim = sim_with(SimConfig {
        refill_per_sec: 10.0,
        ..SimConfig::sandbox()
    })
    .await;
    let mut c = GatewayConfig::new(sim.api_base());
    c.store_refill_per_sec = 10.0;
    let g = Gateway::new(c).unwrap();

    let started = Instant::now();
    let mut tasks = Vec::new();
    for i in 0..60 {
        let g = g.clone();
        tasks.push(tokio::spawn(async move {
            let request = ApiRequest::get("/orders")
                .with_query("limit", "1")
                .with_query("offset", i.to_string());
            g.send("tenant-a", &demo(), request).await
        }));
    }
    for t in tasks {
        let r = t.await.unwrap();
        assert!(r.is_ok(), "{r:?}");
    }
    let elapsed = started.elapsed();

    let log = sim.simulator.request_log();
    assert_eq!(log.len(), 60);
    assert!(
        log.iter().all(|r| r.status == 200),
        "statuses: {:?}",
        log.iter().map(|r| r.status).collect::<Vec<_>>()
    );
    let stats = g.stats();
    assert_eq!(stats.rate_limited_429s_seen, 0);
    assert_eq!(stats.upstream_requests, 60);
    // They were paced (not merely lucky): the last could not leave before 4 s.
    assert!(elapsed >= Duration::from_millis(3900), "{elapsed:?}");
    assert!(elapsed < Duration::from_secs(8), "{elapsed:?}");
}

#[tokio::test]
async fn the_simulators_429_is_waited_out() {
    // A gateway that believes in a much bigger bucket than the store has: the
    // simulator answers 429 with its X-Retry-After, which the gateway waits out.
    let sim = sim_with(SimConfig {
        bucket_capacity: 2,
        refill_per_sec: 2.0,
        ..SimConfig::sandbox()
    })
    .await;
    let mut c = GatewayConfig::new(sim.api_base());
    c.store_bucket_capacity = 50.0;
    c.store_refill_per_sec = 50.0;
    let g = Gateway::new(c).unwrap();
    let mut tasks = Vec::new();
    for _ in 0..4 {
        let g = g.clone();
        tasks.push(tokio::spawn(async move {
            g.send("t", &demo(), ApiRequest::get("/test")).await
        }));
    }
    for t in tasks {
        assert!(t.await.unwrap().is_ok());
    }
    let log = sim.simulator.request_log();
    let throttled = log.iter().filter(|r| r.status == 429).count() as u64;
    assert!(throttled >= 1, "the scenario provokes 429s");
    assert_eq!(g.stats().rate_limited_429s_seen, throttled);
    assert_eq!(log.iter().filter(|r| r.status == 200).count(), 4);
}

#[tokio::test]
async fn a_503_on_get_is_retried() {
    let sim = sim().await;
    sim.simulator
        .inject_fault(Fault::new("/orders", FaultKind::Status(503), 1).with_method("GET"));
    let g = gateway(&sim);
    let r = g
        .send(
            "t",
            &demo(),
            ApiRequest::get("/orders").with_query("limit", "2"),
        )
        .await
        .unwrap();
    assert_eq!(r.status, 200);
    let statuses: Vec<u16> = logged(&sim, "GET", "/orders")
        .iter()
        .map(|r| r.status)
        .collect();
    assert_eq!(statuses, vec![503, 200]);
    assert_eq!(g.stats().retries, 1);
}

#[tokio::test]
async fn a_503_on_get_that_persists_is_reported_after_the_retries() {
    let sim = sim().await;
    sim.simulator
        .inject_fault(Fault::new("/orders", FaultKind::Status(503), 10));
    let g = gateway(&sim);
    let e = g
        .send("t", &demo(), ApiRequest::get("/orders"))
        .await
        .unwrap_err();
    assert!(
        matches!(e, GatewayError::Upstream { status: 503, .. }),
        "{e:?}"
    );
    assert_eq!(logged(&sim, "GET", "/orders").len(), 3);
}

#[tokio::test]
async fn a_503_on_post_is_not_retried_and_the_outcome_is_unknown() {
    let sim = sim().await;
    sim.simulator
        .inject_fault(Fault::new("/orders", FaultKind::Status(503), 1).with_method("POST"));
    let g = gateway(&sim);
    let e = g
        .send("t", &demo(), ApiRequest::post("/orders", NEW_ORDER))
        .await
        .unwrap_err();
    let GatewayError::OutcomeUnknown(message) = e else {
        panic!("{e:?}")
    };
    assert_eq!(
        message,
        "OrderDesk did not confirm the POST /orders (HTTP 503); it may or may not have been \
         applied — check with a read before retrying"
    );
    assert_eq!(logged(&sim, "POST", "/orders").len(), 1);
    assert_eq!(g.stats().retries, 0);
}

#[tokio::test]
async fn a_dropped_connection_retries_a_read_but_not_a_write() {
    let sim = sim().await;
    let g = gateway(&sim);

    sim.simulator
        .inject_fault(Fault::new("/orders", FaultKind::DropConnection, 1).with_method("GET"));
    g.send("t", &demo(), ApiRequest::get("/orders"))
        .await
        .unwrap();
    let statuses: Vec<u16> = logged(&sim, "GET", "/orders")
        .iter()
        .map(|r| r.status)
        .collect();
    assert_eq!(statuses, vec![0, 200]);

    sim.simulator
        .inject_fault(Fault::new("/orders", FaultKind::DropConnection, 1).with_method("POST"));
    let e = g
        .send("t", &demo(), ApiRequest::post("/orders", NEW_ORDER))
        .await
        .unwrap_err();
    assert!(matches!(e, GatewayError::OutcomeUnknown(_)), "{e:?}");
    assert_eq!(logged(&sim, "POST", "/orders").len(), 1);
}

#[tokio::test]
async fn a_write_that_times_out_is_unknown_and_not_retried() {
    let sim = sim().await;
    sim.simulator.inject_fault(
        Fault::new("/orders", FaultKind::Delay(Duration::from_millis(800)), 1).with_method("POST"),
    );
    let mut c = GatewayConfig::new(sim.api_base());
    c.request_timeout = Duration::from_millis(300);
    let g = Gateway::new(c).unwrap();
    let e = g
        .send("t", &demo(), ApiRequest::post("/orders", NEW_ORDER))
        .await
        .unwrap_err();
    assert!(
        matches!(e, GatewayError::OutcomeUnknown(ref m) if m.contains("timed out")),
        "{e:?}"
    );
    // One request went out and no retry: the gateway sends nothing in the background,
    // so once `send` has returned these counts are final.
    let stats = g.stats();
    assert_eq!((stats.upstream_requests, stats.retries), (1, 0));
    // The wire agrees: a retry would have been answered, and so logged, before `send`
    // returned. The first POST itself may or may not be logged (it is still waiting
    // out its delay, and this simulator abandons a request whose client hung up; a
    // real server may well finish the write, which is why the outcome is "unknown").
    assert!(logged(&sim, "POST", "/orders").len() <= 1);
}

#[tokio::test]
async fn identical_queries_hit_the_cache_and_any_difference_misses() {
    let sim = sim().await;
    let g = gateway(&sim);
    let c = demo();
    let get = |pairs: &[(&str, &str)]| {
        let mut r = ApiRequest::get("/orders");
        for (k, v) in pairs {
            r = r.with_query(*k, *v);
        }
        r
    };

    let first = g
        .send("t", &c, get(&[("limit", "5"), ("offset", "0")]))
        .await
        .unwrap();
    assert!(!first.cached);
    let again = g
        .send("t", &c, get(&[("offset", "0"), ("limit", "5")]))
        .await
        .unwrap();
    assert!(again.cached, "parameter order does not matter");
    assert_eq!(again.body, first.body);

    let other_value = g
        .send("t", &c, get(&[("limit", "6"), ("offset", "0")]))
        .await
        .unwrap();
    assert!(!other_value.cached);
    let extra = g
        .send(
            "t",
            &c,
            get(&[("limit", "5"), ("offset", "0"), ("order", "asc")]),
        )
        .await
        .unwrap();
    assert!(!extra.cached);

    assert_eq!(logged(&sim, "GET", "/orders").len(), 3);
    let stats = g.stats();
    assert_eq!((stats.cache_hits, stats.cache_misses), (1, 3));
}

#[tokio::test]
async fn test_is_never_cached() {
    let sim = sim().await;
    let g = gateway(&sim);
    for _ in 0..2 {
        let r = g
            .send("t", &demo(), ApiRequest::get("/test"))
            .await
            .unwrap();
        assert!(!r.cached);
    }
    assert_eq!(logged(&sim, "GET", "/test").len(), 2);
}

#[tokio::test]
async fn a_write_invalidates_the_stores_cached_reads_but_not_its_settings() {
    let sim = sim().await;
    let g = gateway(&sim);
    let c = demo();
    let list = || ApiRequest::get("/orders").with_query("limit", "500");

    let before = g.send("t", &c, list()).await.unwrap();
    g.send("t", &c, ApiRequest::get("/store")).await.unwrap();
    assert!(g.send("t", &c, list()).await.unwrap().cached);

    let created = g
        .send("t", &c, ApiRequest::post("/orders", NEW_ORDER))
        .await
        .unwrap();
    assert!(!created.cached);

    let after = g.send("t", &c, list()).await.unwrap();
    assert!(!after.cached, "the write dropped the cached list");
    assert_ne!(after.body, before.body, "and the new order is visible");
    assert!(
        g.send("t", &c, ApiRequest::get("/store"))
            .await
            .unwrap()
            .cached,
        "store settings survive an order write"
    );
    assert_eq!(logged(&sim, "GET", "/orders").len(), 2);
    assert_eq!(logged(&sim, "GET", "/store").len(), 1);
}

#[tokio::test]
async fn tenant_a_cache_never_answers_tenant_b() {
    let sim = sim().await;
    let g = gateway(&sim);
    let c = demo();
    let a = g
        .send("tenant-a", &c, ApiRequest::get("/store"))
        .await
        .unwrap();
    assert!(!a.cached);
    let b = g
        .send("tenant-b", &c, ApiRequest::get("/store"))
        .await
        .unwrap();
    assert!(!b.cached, "same store id, other tenant: a miss");
    assert!(
        g.send("tenant-a", &c, ApiRequest::get("/store"))
            .await
            .unwrap()
            .cached
    );
    assert!(
        g.send("tenant-b", &c, ApiRequest::get("/store"))
            .await
            .unwrap()
            .cached
    );
    assert_eq!(logged(&sim, "GET", "/store").len(), 2);
}

#[tokio::test]
async fn bypass_skips_the_cache_and_refreshes_it() {
    let sim = sim().await;
    let g = gateway(&sim);
    let c = demo();
    let list = || ApiRequest::get("/orders").with_query("limit", "500");
    let stale = g.send("t", &c, list()).await.unwrap();

    // Another client (not through this gateway) adds an order.
    let other = gateway(&sim);
    other
        .send("someone-else", &c, ApiRequest::post("/orders", NEW_ORDER))
        .await
        .unwrap();

    assert_eq!(g.send("t", &c, list()).await.unwrap().body, stale.body);
    let fresh = g
        .send("t", &c, list().with_cache(CacheMode::Bypass))
        .await
        .unwrap();
    assert!(!fresh.cached);
    assert_ne!(fresh.body, stale.body);
    assert_eq!(fresh.cache_age, None);
    tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    let cached = g.send("t", &c, list()).await.unwrap();
    assert!(cached.cached);
    assert_eq!(cached.body, fresh.body, "the bypass refreshed the entry");
    let age = cached
        .cache_age
        .expect("a cached answer says how old it is");
    assert!(
        age >= std::time::Duration::from_millis(20) && age < std::time::Duration::from_secs(15),
        "{age:?}"
    );
}

#[tokio::test]
async fn a_missing_order_is_not_found() {
    let sim = sim().await;
    let g = gateway(&sim);
    let e = g
        .send("t", &demo(), ApiRequest::get("/orders/987654321"))
        .await
        .unwrap_err();
    assert!(matches!(e, GatewayError::NotFound(_)), "{e:?}");
}

#[tokio::test]
async fn an_invalid_order_maps_the_error_envelope() {
    let sim = sim().await;
    let g = gateway(&sim);
    let e = g
        .send(
            "t",
            &demo(),
            ApiRequest::post("/orders", r#"{"email":"x@y.z"}"#),
        )
        .await
        .unwrap_err();
    match e {
        GatewayError::Upstream { status, message } => {
            assert!((400..500).contains(&status), "{status}");
            assert!(
                message.contains("Order must have at least one item"),
                "{message}"
            );
        }
        other => panic!("{other:?}"),
    }
}
