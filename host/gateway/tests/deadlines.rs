//! The gateway inside its caller's time: a request that cannot finish before the
//! caller's deadline is not started, a write cut off by it is reported as
//! outcome-unknown (never as "nothing happened"), and a store asking for a day-long
//! pause holds later requests no longer than the configured maximum.

mod common;

use std::time::Duration;

use common::{Reply, scripted};
use orderdesk_gateway::{ApiRequest, Gateway, GatewayConfig, GatewayError, StoreCredentials};
use tokio::time::Instant;

fn creds() -> StoreCredentials {
    StoreCredentials::new("424242", "sk_test_deadline")
}

fn gateway(api_base: &str) -> Gateway {
    let mut c = GatewayConfig::new(api_base);
    c.backoff_base = Duration::from_millis(10);
    Gateway::new(c).unwrap()
}

/// Fails the test instead of hanging it when the gateway waits too long.
async fn within<T>(limit: Duration, work: impl Future<Output = T>) -> T {
    tokio::time::timeout(limit, work)
        .await
        .expect("the gateway should have answered by now instead of waiting")
}

#[tokio::test]
async fn a_write_held_past_the_deadline_is_outcome_unknown_and_sent_once() {
    let server =
        scripted(|_, _| Reply::ok(r#"{"status":"success"}"#).delayed(Duration::from_secs(4))).await;
    let g = gateway(&server.api_base);
    let started = Instant::now();
    let request =
        ApiRequest::post("/orders", "{}").with_deadline(started + Duration::from_millis(1500));
    let err = within(Duration::from_secs(3), g.send("t", &creds(), request))
        .await
        .unwrap_err();
    let GatewayError::OutcomeUnknown(message) = &err else {
        panic!("expected outcome-unknown, got {err:?}");
    };
    assert!(message.contains("POST /orders"), "{message}");
    assert!(
        started.elapsed() < Duration::from_millis(2500),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(server.count("POST"), 1);
}

#[tokio::test]
async fn a_request_without_time_to_finish_is_not_started() {
    let server = scripted(|_, _| Reply::ok("{}")).await;
    let g = gateway(&server.api_base);
    let request = ApiRequest::post("/orders", "{}")
        .with_deadline(Instant::now() + Duration::from_millis(300));
    let err = within(Duration::from_secs(1), g.send("t", &creds(), request))
        .await
        .unwrap_err();
    assert!(matches!(err, GatewayError::RateLimited { .. }), "{err:?}");
    assert_eq!(server.seen().len(), 0);
}

#[tokio::test]
async fn a_429_wait_past_the_deadline_is_handed_back_at_once() {
    let server = scripted(|_, _| Reply::status(429, "").header("X-Retry-After", "3")).await;
    let g = gateway(&server.api_base);
    let started = Instant::now();
    let request = ApiRequest::get("/orders").with_deadline(started + Duration::from_secs(3));
    let err = within(Duration::from_secs(2), g.send("t", &creds(), request))
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            GatewayError::RateLimited {
                retry_after_ms: 3000
            }
        ),
        "{err:?}"
    );
    assert!(started.elapsed() < Duration::from_secs(1));
    assert_eq!(server.count("GET"), 1);
}

#[tokio::test]
async fn a_day_long_retry_after_holds_the_store_no_longer_than_the_maximum() {
    let server = scripted(|n, _| {
        if n == 0 {
            Reply::status(429, "").header("X-Retry-After", "86400")
        } else {
            Reply::ok(r#"{"status":"success","orders":[]}"#)
        }
    })
    .await;
    let mut c = GatewayConfig::new(&server.api_base);
    c.max_retry_after = Duration::from_secs(1);
    let g = Gateway::new(c).unwrap();

    let first = g.send("t", &creds(), ApiRequest::get("/orders")).await;
    assert!(
        matches!(
            first,
            Err(GatewayError::RateLimited {
                retry_after_ms: 86_400_000
            })
        ),
        "{first:?}"
    );
    // The next request is told how long to wait — at most the maximum — instead of
    // hanging for a day.
    let started = Instant::now();
    let second = within(
        Duration::from_secs(2),
        g.send(
            "t",
            &creds(),
            ApiRequest::get("/orders").with_query("p", "2"),
        ),
    )
    .await;
    match second {
        Err(GatewayError::RateLimited { retry_after_ms }) => {
            assert!(retry_after_ms <= 1_200, "{retry_after_ms}")
        }
        other => panic!("expected rate-limited, got {other:?}"),
    }
    assert!(started.elapsed() < Duration::from_millis(500));
    assert_eq!(server.count("GET"), 1);

    // And once the maximum has passed, the store is served again.
    tokio::time::sleep(Duration::from_millis(1300)).await;
    within(
        Duration::from_secs(2),
        g.send(
            "t",
            &creds(),
            ApiRequest::get("/orders").with_query("p", "3"),
        ),
    )
    .await
    .unwrap();
    assert_eq!(server.count("GET"), 2);
}
