//! The gateway against a scripted HTTP server: exact headers, 429 handling, error
//! mapping, size caps, timeouts and redirects — things easiest to provoke precisely
//! with a server that answers whatever the test says.

mod common;

use std::time::Duration;

use common::{LogCapture, Reply, scripted};
use orderdesk_gateway::{
    ApiRequest, Gateway, GatewayConfig, GatewayError, Method, StoreCredentials,
};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::time::Instant;

const KEY: &str = "sk_test_7f3a9c2e-never-log-me";

fn creds() -> StoreCredentials {
    StoreCredentials::new("424242", KEY)
}

fn gateway(api_base: &str) -> Gateway {
    Gateway::new(fast_config(api_base)).unwrap()
}

fn fast_config(api_base: &str) -> GatewayConfig {
    let mut c = GatewayConfig::new(api_base);
    c.backoff_base = Duration::from_millis(10);
    c
}

#[tokio::test]
async fn auth_headers_are_sent_and_the_key_is_never_logged() {
    let logs = LogCapture::default();
    let _guard = logs.install();
    let server = scripted(|_, seen| match seen.path.as_str() {
        "/api/v2/boom" => Reply::status(
            500,
            &format!(r#"{{"status":"error","message":"bad key {KEY}"}}"#),
        ),
        "/api/v2/denied" => Reply::status(401, r#"{"status":"error","message":"Invalid key"}"#),
        _ => Reply::ok(r#"{"status":"success"}"#).header("X-Tokens-Remaining", "19"),
    })
    .await;
    let g = gateway(&server.api_base);
    let c = creds();

    g.send(
        "t1",
        &c,
        ApiRequest::get("/orders").with_query("limit", "5"),
    )
    .await
    .unwrap();
    g.send(
        "t1",
        &c,
        ApiRequest::post("/orders", r#"{"email":"a@b.c"}"#),
    )
    .await
    .unwrap();
    g.send("t1", &c, ApiRequest::delete("/orders/1"))
        .await
        .unwrap();
    let boom = g
        .send("t1", &c, ApiRequest::get("/boom"))
        .await
        .unwrap_err();
    let denied = g
        .send("t1", &c, ApiRequest::get("/denied"))
        .await
        .unwrap_err();
    let unknown = g
        .send("t1", &c, ApiRequest::post("/boom", "{}"))
        .await
        .unwrap_err();

    let seen = server.seen();
    let ua = format!("orderdesk-mcp/{}", env!("CARGO_PKG_VERSION"));
    for s in &seen {
        assert_eq!(s.headers["orderdesk-store-id"], "424242", "{s:?}");
        assert_eq!(s.headers["orderdesk-api-key"], KEY);
        assert_eq!(s.headers["user-agent"], ua.as_str());
    }
    let get = &seen[0];
    assert_eq!(
        (get.method.as_str(), get.path.as_str()),
        ("GET", "/api/v2/orders")
    );
    assert_eq!(get.query.as_deref(), Some("limit=5"));
    assert!(get.headers.get("content-type").is_none());
    assert!(get.headers.get("content-length").is_none());
    assert!(get.headers.get("transfer-encoding").is_none());
    assert!(get.body.is_empty());
    let post = &seen[1];
    assert_eq!(post.method, "POST");
    assert_eq!(post.headers["content-type"], "application/json");
    assert_eq!(post.body, br#"{"email":"a@b.c"}"#);
    let delete = &seen[2];
    assert_eq!(delete.method, "DELETE");
    assert!(delete.headers.get("content-type").is_none());

    // The key appears nowhere we produce text: errors (Display and Debug), the
    // credentials' Debug, the gateway's Debug, the log.
    assert!(matches!(boom, GatewayError::Upstream { status: 500, .. }));
    assert!(matches!(denied, GatewayError::Unauthorized(ref m) if m == "Invalid key"));
    assert!(matches!(unknown, GatewayError::OutcomeUnknown(_)));
    let mut texts = vec![format!("{c:?}"), format!("{g:?}")];
    for e in [&boom, &denied, &unknown] {
        texts.push(e.to_string());
        texts.push(format!("{e:?}"));
    }
    let log = logs.text();
    assert!(
        log.contains("orderdesk request done"),
        "the capture works: {log}"
    );
    texts.push(log);
    for t in texts {
        assert!(!t.contains(KEY), "key leaked into: {t}");
        assert!(!t.contains("never-log-me"), "key leaked into: {t}");
    }
}

#[tokio::test]
async fn a_429_with_x_retry_after_is_waited_out() {
    let server = scripted(|n, _| {
        if n == 0 {
            Reply::status(429, r#"{"status":"error","message":"Too Many Requests"}"#)
                .header("X-Retry-After", "2")
                .header("X-Tokens-Remaining", "0")
        } else {
            Reply::ok(r#"{"status":"success","orders":[]}"#)
        }
    })
    .await;
    let g = gateway(&server.api_base);
    let started = Instant::now();
    let r = g
        .send("t", &creds(), ApiRequest::get("/orders"))
        .await
        .unwrap();
    let elapsed = started.elapsed();
    assert_eq!(r.status, 200);
    assert!(elapsed >= Duration::from_secs(2), "{elapsed:?}");
    assert!(elapsed < Duration::from_secs(4), "{elapsed:?}");
    let stats = g.stats();
    assert_eq!(stats.rate_limited_429s_seen, 1);
    assert_eq!(stats.retries, 1);
    assert_eq!(stats.upstream_requests, 2);
}

#[tokio::test]
async fn a_429_on_a_write_is_retried_because_it_was_not_processed() {
    let server = scripted(|n, _| {
        if n == 0 {
            Reply::status(429, "").header("X-Retry-After", "0.2")
        } else {
            Reply::ok(r#"{"status":"success","order":{"id":"1"}}"#)
        }
    })
    .await;
    let g = gateway(&server.api_base);
    g.send("t", &creds(), ApiRequest::post("/orders", "{}"))
        .await
        .unwrap();
    assert_eq!(server.count("POST"), 2);
}

#[tokio::test]
async fn a_429_asking_for_too_long_a_wait_is_handed_back() {
    let server = scripted(|_, _| Reply::status(429, "").header("X-Retry-After", "60")).await;
    let g = gateway(&server.api_base);
    let started = Instant::now();
    let err = g
        .send("t", &creds(), ApiRequest::get("/orders"))
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            GatewayError::RateLimited {
                retry_after_ms: 60_000
            }
        ),
        "{err:?}"
    );
    assert!(started.elapsed() < Duration::from_secs(1));
    assert_eq!(server.count("GET"), 1);
}

#[tokio::test]
async fn persistent_429s_give_up_after_the_configured_retries() {
    let server = scripted(|_, _| Reply::status(429, "").header("X-Retry-After", "0.05")).await;
    let mut c = fast_config(&server.api_base);
    c.rate_limit_retries = 2;
    let g = Gateway::new(c).unwrap();
    let err = g
        .send("t", &creds(), ApiRequest::get("/orders"))
        .await
        .unwrap_err();
    assert!(
        matches!(err, GatewayError::RateLimited { retry_after_ms: 50 }),
        "{err:?}"
    );
    assert_eq!(server.count("GET"), 3);
    assert_eq!(g.stats().rate_limited_429s_seen, 3);
}

#[tokio::test]
async fn x_tokens_remaining_slows_the_pacer_down() {
    // OrderDesk says the bucket is empty on every answer (another client is using the
    // store): the pacer must fall back to the refill rate instead of its own full
    // bucket of 20.
    let server = scripted(|_, _| Reply::ok("{}").header("X-Tokens-Remaining", "0")).await;
    let mut c = fast_config(&server.api_base);
    c.store_refill_per_sec = 10.0;
    let g = Gateway::new(c).unwrap();
    let started = Instant::now();
    for _ in 0..5 {
        g.send("t", &creds(), ApiRequest::get("/test"))
            .await
            .unwrap();
    }
    // First immediately, then one per 100 ms.
    let elapsed = started.elapsed();
    assert!(elapsed >= Duration::from_millis(390), "{elapsed:?}");
}

#[tokio::test]
async fn error_envelopes_map_to_errors() {
    let server = scripted(|_, seen| match seen.path.as_str() {
        "/api/v2/orders" => Reply::status(
            400,
            r#"{"status":"error","message":"Order could not be created","errors":["At least one item is required","shipping name or company is required"]}"#,
        ),
        "/api/v2/orders/9" => {
            Reply::status(404, r#"{"status":"error","message":"Order not found"}"#)
        }
        "/api/v2/store" => Reply::status(403, r#"{"status":"error","message":"Forbidden"}"#),
        "/api/v2/ok-but-not" => Reply::ok(r#"{"status":"error","message":"Folder not found"}"#),
        _ => Reply::status(418, "<html>teapot</html>"),
    })
    .await;
    let g = gateway(&server.api_base);
    let c = creds();
    let e = g
        .send("t", &c, ApiRequest::post("/orders", "{}"))
        .await
        .unwrap_err();
    match e {
        GatewayError::Upstream { status, message } => {
            assert_eq!(status, 400);
            assert_eq!(
                message,
                "Order could not be created (errors: At least one item is required; shipping name or company is required)"
            );
        }
        other => panic!("{other:?}"),
    }
    let e = g
        .send("t", &c, ApiRequest::get("/orders/9"))
        .await
        .unwrap_err();
    assert!(
        matches!(e, GatewayError::NotFound(ref m) if m == "Order not found"),
        "{e:?}"
    );
    let e = g
        .send("t", &c, ApiRequest::get("/store"))
        .await
        .unwrap_err();
    assert!(matches!(e, GatewayError::Unauthorized(_)), "{e:?}");
    let e = g
        .send("t", &c, ApiRequest::get("/ok-but-not"))
        .await
        .unwrap_err();
    assert!(
        matches!(e, GatewayError::Upstream { status: 200, ref message } if message == "Folder not found"),
        "{e:?}"
    );
    let e = g
        .send("t", &c, ApiRequest::get("/teapot"))
        .await
        .unwrap_err();
    assert!(
        matches!(e, GatewayError::Upstream { status: 418, ref message } if message == "<html>teapot</html>"),
        "{e:?}"
    );
    // None of these was retried.
    assert_eq!(g.stats().retries, 0);
}

#[tokio::test]
async fn a_response_over_the_cap_is_refused() {
    let big = "x".repeat(10_000);
    let server = scripted(move |_, _| Reply::ok(&big)).await;
    let mut c = fast_config(&server.api_base);
    c.max_response_bytes = 4096;
    let g = Gateway::new(c).unwrap();
    let e = g
        .send("t", &creds(), ApiRequest::get("/orders"))
        .await
        .unwrap_err();
    assert!(matches!(e, GatewayError::ResponseTooLarge(4096)), "{e:?}");
}

/// A body with no Content-Length must be cut off while streaming: the gateway stops
/// reading and hangs up once it passes the cap, rather than downloading the whole body
/// and measuring it afterwards.
#[tokio::test]
async fn a_chunked_response_over_the_cap_is_cut_off() {
    // Far more than the kernel's socket buffers can hold: the server can only write it
    // all if the client keeps reading.
    const OFFERED: usize = 256 << 20;
    const CHUNK: usize = 64 << 10;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let server = tokio::spawn(async move {
        let (mut sock, _) = listener.accept().await.unwrap();
        let mut buf = [0u8; 4096];
        let _ = sock.read(&mut buf).await;
        let head = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n";
        let mut written = 0;
        if sock.write_all(head.as_bytes()).await.is_err() {
            return written;
        }
        let chunk = format!("{CHUNK:x}\r\n{}\r\n", "y".repeat(CHUNK));
        // Until the client hangs up (the write fails) or everything is out.
        while written < OFFERED {
            if sock.write_all(chunk.as_bytes()).await.is_err() {
                return written;
            }
            written += CHUNK;
        }
        let _ = sock.write_all(b"0\r\n\r\n").await;
        written
    });
    let mut c = fast_config(&format!("http://{addr}/api/v2"));
    c.max_response_bytes = 8 * 1024;
    let g = Gateway::new(c).unwrap();
    let e = g
        .send("t", &creds(), ApiRequest::get("/orders"))
        .await
        .unwrap_err();
    assert!(matches!(e, GatewayError::ResponseTooLarge(8192)), "{e:?}");
    // The server's writes fail as soon as the gateway has closed the connection; the
    // timeout only bounds the wait should it never do so.
    let written = tokio::time::timeout(Duration::from_secs(30), server)
        .await
        .expect("the gateway kept the connection open after refusing the body")
        .unwrap();
    assert!(
        written < OFFERED,
        "the gateway read the whole {OFFERED}-byte body before refusing it"
    );
}

#[tokio::test]
async fn timeouts_retry_reads_but_not_writes() {
    let server = scripted(|_, _| Reply::ok("{}").delayed(Duration::from_secs(5))).await;
    let mut c = fast_config(&server.api_base);
    c.request_timeout = Duration::from_millis(200);
    let g = Gateway::new(c).unwrap();
    let e = g
        .send("t", &creds(), ApiRequest::get("/orders"))
        .await
        .unwrap_err();
    assert!(matches!(e, GatewayError::Timeout(_)), "{e:?}");
    assert_eq!(server.count("GET"), 3, "one attempt and two retries");

    let e = g
        .send("t", &creds(), ApiRequest::put("/orders/1", "{}"))
        .await
        .unwrap_err();
    let GatewayError::OutcomeUnknown(message) = e else {
        panic!("{e:?}")
    };
    assert!(message.contains("PUT /orders/1"), "{message}");
    assert!(message.contains("may or may not"), "{message}");
    assert_eq!(server.count("PUT"), 1);
}

#[tokio::test]
async fn a_write_that_cannot_connect_is_retried_and_reported_as_not_sent() {
    // Bind, then drop: nothing listens on the port any more.
    let addr = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap()
    };
    let g = gateway(&format!("http://{addr}/api/v2"));
    let e = g
        .send("t", &creds(), ApiRequest::post("/orders", "{}"))
        .await
        .unwrap_err();
    assert!(
        matches!(e, GatewayError::Transport(ref m) if m.contains("was not sent")),
        "{e:?}"
    );
    assert_eq!(g.stats().upstream_requests, 3);
}

#[tokio::test]
async fn redirects_are_not_followed() {
    let elsewhere = scripted(|_, _| Reply::ok("{}")).await;
    let target = format!("{}/steal", elsewhere.origin);
    let server = scripted(move |_, _| Reply::status(302, "").header("Location", &target)).await;
    let g = gateway(&server.api_base);
    let e = g
        .send("t", &creds(), ApiRequest::get("/orders"))
        .await
        .unwrap_err();
    assert!(
        matches!(e, GatewayError::Upstream { status: 302, .. }),
        "{e:?}"
    );
    assert!(elsewhere.seen().is_empty());
}

#[tokio::test]
async fn invalid_input_is_refused_before_anything_is_sent() {
    let server = scripted(|_, _| Reply::ok("{}")).await;
    let g = gateway(&server.api_base);
    let c = creds();
    for request in [
        ApiRequest::get("/orders/../store"),
        ApiRequest::get("/orders?limit=5"),
        ApiRequest::get("orders"),
        ApiRequest::get("/orders").with_body("{}"),
        ApiRequest::post("/orders", "not json"),
        ApiRequest::new(Method::Delete, "/orders/1").with_body("{}"),
    ] {
        let e = g.send("t", &c, request.clone()).await.unwrap_err();
        assert!(
            matches!(e, GatewayError::InvalidInput(_)),
            "{request:?}: {e:?}"
        );
    }
    assert!(server.seen().is_empty());
}
