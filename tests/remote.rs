//! The remote server end to end: `orderdesk-mcp serve --http` (the real binary) on
//! 127.0.0.1, tenants and tokens made with the real CLI, rmcp's Streamable HTTP client
//! and plain HTTP requests for what a client library would not send.

#[path = "support/prometheus.rs"]
mod prometheus;
#[path = "support/remote.rs"]
mod remote;
#[path = "support/server.rs"]
mod server;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use orderdesk_sim::{Fault, FaultKind, SimConfig, Simulator};
use remote::{HttpServer, cli, create_token, tenant_with_demo_store};
use rmcp::model::CallToolRequestParams;
use serde_json::{Value, json};
use server::{call, err, eventually, fresh_dir, ok};

/// A JSON-RPC `initialize` as a client's first POST.
fn initialize_body() -> Value {
    json!({
        "jsonrpc": "2.0", "id": 1, "method": "initialize",
        "params": {
            "protocolVersion": "2025-06-18",
            "capabilities": {},
            "clientInfo": {"name": "raw-http-test", "version": "1"}
        }
    })
}

fn post_mcp(http: &reqwest::Client, server: &HttpServer) -> reqwest::RequestBuilder {
    http.post(server.mcp_url())
        .header("accept", "application/json, text/event-stream")
        .header("content-type", "application/json")
}

/// The audit rows of `data_dir`'s vault: (tool, outcome, correlation id).
fn audit_rows(data_dir: &std::path::Path) -> Vec<(String, String, String)> {
    let conn = rusqlite::Connection::open(data_dir.join(orderdesk_vault::DB_FILE_NAME)).unwrap();
    let mut statement = conn
        .prepare("SELECT tool, outcome, correlation_id FROM audit_log ORDER BY id")
        .unwrap();
    statement
        .query_map([], |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect()
}

/// An `orders_list` that OrderDesk answers after `delay`, under way in the background.
fn slow_read(
    sim: &Simulator,
    client: &rmcp::service::RunningService<rmcp::RoleClient, ()>,
    delay: Duration,
) -> tokio::task::JoinHandle<Result<rmcp::model::CallToolResult, rmcp::ServiceError>> {
    sim.inject_fault(Fault::new("/orders", FaultKind::Delay(delay), 1).with_method("GET"));
    let peer = client.peer().clone();
    tokio::spawn(async move {
        let arguments = json!({"store": "demo", "limit": 1, "fresh": true});
        peer.call_tool(
            CallToolRequestParams::new("orders_list")
                .with_arguments(arguments.as_object().unwrap().clone()),
        )
        .await
    })
}

/// `kill -TERM` the server.
fn terminate(server: &HttpServer) {
    let status = std::process::Command::new("kill")
        .args(["-TERM", &server.pid().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
}

/// Counts `notifications/progress`.
#[derive(Clone, Default)]
struct ProgressCounter(Arc<AtomicUsize>);

impl rmcp::ClientHandler for ProgressCounter {
    async fn on_progress(
        &self,
        _params: rmcp::model::ProgressNotificationParam,
        _context: rmcp::service::NotificationContext<rmcp::RoleClient>,
    ) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_tenants_work_over_http_each_in_its_own_sessions() {
    let dir = fresh_dir("remote-tenants");
    let sim = Simulator::spawn(SimConfig::sandbox()).await.unwrap();
    let (tenant_a, key_a) = tenant_with_demo_store(&dir, &sim.api_base());
    let (tenant_b, key_b) = tenant_with_demo_store(&dir, &sim.api_base());
    let (token_a, _) = create_token(&dir, &key_a, &["--scope", "write"]);
    let (token_b, _) = create_token(&dir, &key_b, &["--scope", "write"]);
    let server = HttpServer::start(&dir, Some(&sim.api_base()), &[], &[]).await;

    // Two sessions at once, one per tenant: each acts for its own tenant only.
    let progress = ProgressCounter::default();
    let a = server.connect_with(&token_a, progress.clone()).await;
    let b = server.connect(&token_b).await;
    let tools = a.list_all_tools().await.unwrap();
    assert!(
        tools.iter().any(|t| t.name == "orders_update"),
        "a write token sees write tools"
    );
    let (info_a, info_b) = tokio::join!(
        call(&a, "tenant_info", json!({})),
        call(&b, "tenant_info", json!({}))
    );
    assert_eq!(ok(&info_a)["tenant_id"], tenant_a);
    assert_eq!(ok(&info_b)["tenant_id"], tenant_b);
    // The token's tenant is the session's: no master key is taken over HTTP.
    let refused = err(&call(&a, "tenant_use_master_key", json!({"master_key": key_b})).await);
    assert!(refused.contains("access token"), "{refused}");

    // A real OrderDesk read through the session's tenant's store key.
    let listed = ok(&call(&b, "orders_list", json!({"store": "demo", "limit": 3})).await);
    assert_eq!(listed["orders"].as_array().unwrap().len(), 3, "{listed}");

    // Progress notifications reach the session whose call asked for them.
    let mut params = CallToolRequestParams::new("orders_list").with_arguments(
        json!({"store": "demo", "fetch_all": true, "limit": 10,
              "search_start_date": "2000-01-01", "search_end_date": "2099-12-31"})
        .as_object()
        .unwrap()
        .clone(),
    );
    params.meta = Some(rmcp::model::RequestMetaObject::with_progress_token(
        rmcp::model::ProgressToken(rmcp::model::NumberOrString::Number(7)),
    ));
    let fetched = a.peer().call_tool(params).await.unwrap();
    assert_ne!(fetched.is_error, Some(true), "{fetched:?}");
    eventually("progress over HTTP", async || {
        progress.0.load(Ordering::SeqCst) > 0
    })
    .await;

    // A session id is worth nothing with another tenant's token.
    let http = reqwest::Client::new();
    let opened = post_mcp(&http, &server)
        .bearer_auth(&token_a)
        .json(&initialize_body())
        .send()
        .await
        .unwrap();
    assert!(opened.status().is_success(), "{}", opened.status());
    let session_id = opened
        .headers()
        .get("mcp-session-id")
        .expect("a session id")
        .to_str()
        .unwrap()
        .to_string();
    drop(opened);
    let hijack = post_mcp(&http, &server)
        .bearer_auth(&token_b)
        .header("mcp-session-id", &session_id)
        .header("mcp-protocol-version", "2025-06-18")
        .json(&json!({"jsonrpc": "2.0", "id": 2, "method": "tools/list"}))
        .send()
        .await
        .unwrap();
    let text = hijack.text().await.unwrap();
    assert!(text.contains("opened by another tenant"), "{text}");
    // DELETE ends a session.
    let ended = http
        .delete(server.mcp_url())
        .bearer_auth(&token_a)
        .header("mcp-session-id", &session_id)
        .header("mcp-protocol-version", "2025-06-18")
        .send()
        .await
        .unwrap();
    assert!(ended.status().is_success(), "{}", ended.status());
    let after = post_mcp(&http, &server)
        .bearer_auth(&token_a)
        .header("mcp-session-id", &session_id)
        .header("mcp-protocol-version", "2025-06-18")
        .json(&json!({"jsonrpc": "2.0", "id": 3, "method": "tools/list"}))
        .send()
        .await
        .unwrap();
    assert_eq!(after.status(), 404, "an ended session is gone");

    // `/metrics` on the listener (loopback, no token set): the calls and the open
    // sessions, read with a Prometheus parser.
    let text = http
        .get(format!("{}/metrics", server.base))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let scrape = prometheus::parse(&text);
    let ok_calls = [("tool", "tenant_info"), ("outcome", "ok")];
    assert_eq!(
        prometheus::value(&scrape, "orderdesk_mcp_tool_calls_total", &ok_calls),
        2.0
    );
    assert_eq!(
        prometheus::value(&scrape, "orderdesk_mcp_sessions_active", &[]),
        2.0,
        "a and b"
    );
    assert!(prometheus::value(&scrape, "orderdesk_mcp_upstream_requests_total", &[]) > 0.0);
    drop((a, b));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_read_token_reads_and_a_revoked_token_is_refused_at_once() {
    let dir = fresh_dir("remote-scopes");
    let sim = Simulator::spawn(SimConfig::sandbox()).await.unwrap();
    let (_, key) = tenant_with_demo_store(&dir, &sim.api_base());
    let (read_token, read_id) = create_token(&dir, &key, &["--scope", "read", "--label", "ci"]);
    let server = HttpServer::start(&dir, Some(&sim.api_base()), &[], &[]).await;

    let client = server.connect(&read_token).await;
    let tools = client.list_all_tools().await.unwrap();
    assert!(tools.iter().any(|t| t.name == "orders_list"));
    assert!(
        tools
            .iter()
            .all(|t| t.annotations.as_ref().and_then(|a| a.read_only_hint) == Some(true)),
        "a read-only session is offered read-only tools only: {:?}",
        tools.iter().map(|t| t.name.to_string()).collect::<Vec<_>>()
    );
    let listed = ok(&call(&client, "orders_list", json!({"store": "demo", "limit": 1})).await);
    let order_id = listed["orders"][0]["id"].clone();
    // A write is refused, and nothing reaches OrderDesk.
    let before = sim.simulator.request_log().len();
    let refused = err(&call(
        &client,
        "orders_update",
        json!({"store": "demo", "order_id": order_id, "changes": {"email": "x@example.com"}}),
    )
    .await);
    assert!(refused.contains("read-only"), "{refused}");
    let refused = err(&call(
        &client,
        "stores_register",
        json!({"store_id": "9", "api_key": "k", "store_name": "other"}),
    )
    .await);
    assert!(refused.contains("read-only"), "{refused}");
    assert_eq!(sim.simulator.request_log().len(), before, "no request left");

    // Revoked with the CLI while the session is open: its next request is refused.
    cli(&dir, &key, &["token", "revoke", &read_id], None);
    let after = client
        .peer()
        .call_tool(CallToolRequestParams::new("tenant_info"))
        .await;
    assert!(
        after.is_err(),
        "a revoked token's request must fail: {after:?}"
    );
    let http = reqwest::Client::new();
    let refused = post_mcp(&http, &server)
        .bearer_auth(&read_token)
        .json(&initialize_body())
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 401);
    let challenge = refused.headers()["www-authenticate"]
        .to_str()
        .unwrap()
        .to_string();
    assert!(challenge.starts_with("Bearer "), "{challenge}");
    assert!(challenge.contains("invalid_token"), "{challenge}");
    assert!(
        !server.stderr().contains(&read_token),
        "the token is never logged"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_http_hygiene_holds() {
    let dir = fresh_dir("remote-hygiene");
    // A small body limit, so that the oversized request below fits in the socket's
    // buffers: the server answers 413 without reading it, and a client still writing
    // a body larger than the buffers could see the connection close instead.
    std::fs::write(dir.join("config.toml"), "[http]\nmax_body_kib = 64\n").unwrap();
    let server = HttpServer::start(&dir, None, &[], &[]).await;
    let token = server.sandbox_token();
    let http = reqwest::Client::new();
    // The sandbox's token starts its sessions on the demo store, as stdio's sandbox.
    let sandbox = server.connect(&token).await;
    let listed = ok(&call(&sandbox, "orders_list", json!({"limit": 2})).await);
    assert_eq!(listed["orders"].as_array().unwrap().len(), 2, "{listed}");
    drop(sandbox);

    // No token: 401 with the challenge, and security headers on every answer.
    let bare = post_mcp(&http, &server)
        .json(&initialize_body())
        .send()
        .await
        .unwrap();
    assert_eq!(bare.status(), 401);
    assert_eq!(
        bare.headers()["www-authenticate"],
        "Bearer realm=\"orderdesk-mcp\""
    );
    for header in [
        "x-content-type-options",
        "content-security-policy",
        "referrer-policy",
        "x-request-id",
    ] {
        assert!(bare.headers().contains_key(header), "{header} missing");
    }

    // A page on another origin is refused (DNS rebinding); a program without Origin is not.
    let foreign = post_mcp(&http, &server)
        .bearer_auth(&token)
        .header("origin", "https://evil.example")
        .json(&initialize_body())
        .send()
        .await
        .unwrap();
    assert_eq!(foreign.status(), 403);
    let rebound = post_mcp(&http, &server)
        .bearer_auth(&token)
        .header("host", "evil.example")
        .json(&initialize_body())
        .send()
        .await
        .unwrap();
    assert_eq!(
        rebound.status(),
        403,
        "a loopback server answers only loopback hosts"
    );
    let own_origin = format!(
        "http://localhost:{}",
        server.base.rsplit(':').next().unwrap()
    );
    let fine = post_mcp(&http, &server)
        .bearer_auth(&token)
        .header("origin", own_origin)
        .header("x-request-id", "req-42")
        .json(&initialize_body())
        .send()
        .await
        .unwrap();
    assert!(fine.status().is_success(), "{}", fine.status());
    assert_eq!(
        fine.headers()["x-request-id"],
        "req-42",
        "the client's request id comes back"
    );

    // A body over the limit: 413, before any of it is parsed.
    let huge = "x".repeat(96 * 1024);
    let oversized = post_mcp(&http, &server)
        .bearer_auth(&token)
        .json(&json!({"jsonrpc": "2.0", "id": 1, "method": "ping", "params": {"pad": huge}}))
        .send()
        .await
        .unwrap();
    assert_eq!(oversized.status(), 413);

    // Health and readiness.
    let health = http
        .get(format!("{}/healthz", server.base))
        .send()
        .await
        .unwrap();
    assert_eq!(health.status(), 200);
    let ready = http
        .get(format!("{}/readyz", server.base))
        .send()
        .await
        .unwrap();
    assert_eq!(ready.status(), 200, "{}", ready.text().await.unwrap());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn readyz_fails_while_the_database_is_unreachable() {
    let dir = fresh_dir("remote-readyz");
    let sim = Simulator::spawn(SimConfig::sandbox()).await.unwrap();
    let _ = tenant_with_demo_store(&dir, &sim.api_base());
    let server = HttpServer::start(&dir, Some(&sim.api_base()), &[], &[]).await;
    let http = reqwest::Client::new();
    let ready = || async {
        let answer = http
            .get(format!("{}/readyz", server.base))
            .send()
            .await
            .unwrap();
        (
            answer.status().as_u16(),
            answer.json::<Value>().await.unwrap(),
        )
    };
    assert_eq!(ready().await.0, 200);
    let db = dir.join(orderdesk_vault::DB_FILE_NAME);
    let moved = dir.join("moved-away.sqlite3");
    std::fs::rename(&db, &moved).unwrap();
    let (status, body) = ready().await;
    assert_eq!(status, 503, "{body}");
    assert_eq!(body["checks"]["database"]["ok"], false, "{body}");
    assert_eq!(body["checks"]["components"]["ok"], true, "{body}");
    std::fs::rename(&moved, &db).unwrap();
    assert_eq!(ready().await.0, 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_lets_an_http_call_finish_and_writes_its_audit_row() {
    let dir = fresh_dir("remote-sigterm");
    let sim = Simulator::spawn(SimConfig::sandbox()).await.unwrap();
    let (_, key) = tenant_with_demo_store(&dir, &sim.api_base());
    let (token, _) = create_token(&dir, &key, &["--scope", "write"]);
    let mut server = HttpServer::start(
        &dir,
        Some(&sim.api_base()),
        &[],
        &[("ORDERDESK_MCP_SHUTDOWN_GRACE_S", "10")],
    )
    .await;
    let client = server.connect(&token).await;
    let pending = slow_read(&sim.simulator, &client, Duration::from_millis(1500));
    tokio::time::sleep(Duration::from_millis(400)).await;
    terminate(&server);
    let answered = pending
        .await
        .unwrap()
        .expect("the call under way is answered");
    assert_ne!(answered.is_error, Some(true), "{answered:?}");
    let exited = tokio::time::timeout(Duration::from_secs(15), server.child.wait())
        .await
        .expect("the server exits after the drain")
        .unwrap();
    assert!(exited.success(), "{exited}\n{}", server.stderr());
    let rows = audit_rows(&dir);
    assert!(
        rows.iter()
            .any(|(tool, outcome, _)| tool == "orders_list" && outcome == "ok"),
        "{rows:?}"
    );
    // New connections were refused once the shutdown began.
    let late = reqwest::Client::new()
        .get(format!("{}/healthz", server.base))
        .send()
        .await;
    assert!(late.is_err(), "the listener is closed");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_request_id_reaches_the_audit_row() {
    let dir = fresh_dir("remote-request-id");
    let sim = Simulator::spawn(SimConfig::sandbox()).await.unwrap();
    let (_, key) = tenant_with_demo_store(&dir, &sim.api_base());
    let (token, _) = create_token(&dir, &key, &["--scope", "read"]);
    let server = HttpServer::start(
        &dir,
        Some(&sim.api_base()),
        &[],
        &[("ORDERDESK_MCP_LOG", "debug")],
    )
    .await;
    let http = reqwest::Client::new();
    let opened = post_mcp(&http, &server)
        .bearer_auth(&token)
        .json(&initialize_body())
        .send()
        .await
        .unwrap();
    let session = opened.headers()["mcp-session-id"]
        .to_str()
        .unwrap()
        .to_string();
    drop(opened.text().await);
    let with = |request: reqwest::RequestBuilder| {
        request
            .bearer_auth(&token)
            .header("mcp-session-id", &session)
            .header("mcp-protocol-version", "2025-06-18")
    };
    let initialized = with(post_mcp(&http, &server))
        .json(&json!({"jsonrpc": "2.0", "method": "notifications/initialized"}))
        .send()
        .await
        .unwrap();
    assert!(initialized.status().is_success());
    let called = with(post_mcp(&http, &server))
        .header("x-request-id", "trace-abc-123")
        .json(&json!({"jsonrpc": "2.0", "id": 2, "method": "tools/call",
                      "params": {"name": "tenant_info", "arguments": {}}}))
        .send()
        .await
        .unwrap();
    assert_eq!(called.headers()["x-request-id"], "trace-abc-123");
    let body = called.text().await.unwrap();
    assert!(body.contains("tenant_id"), "{body}");
    eventually("the call's audit row", async || {
        audit_rows(&dir)
            .iter()
            .any(|(tool, _, id)| tool == "tenant_info" && id == "trace-abc-123")
    })
    .await;
    // The log lines of the request carry it too (JSON logs).
    assert!(server.stderr().contains("trace-abc-123"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_official_python_sdk_client_works_over_http() {
    let python = remote::mcp_sdk_python();
    let dir = fresh_dir("remote-python");
    let sim = Simulator::spawn(SimConfig::sandbox()).await.unwrap();
    let (tenant_id, key) = tenant_with_demo_store(&dir, &sim.api_base());
    let (token, _) = create_token(&dir, &key, &["--scope", "read"]);
    let server = HttpServer::start(&dir, Some(&sim.api_base()), &[], &[]).await;
    let script = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../tests/support/python/mcp_http_client.py");
    let output = tokio::process::Command::new(python)
        .arg(script)
        .args([server.mcp_url().as_str(), token.as_str(), "demo"])
        .output()
        .await
        .unwrap();
    assert!(
        output.status.success(),
        "{}\nserver:\n{}",
        String::from_utf8_lossy(&output.stderr),
        server.stderr()
    );
    let seen: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(seen["server"], "orderdesk-mcp", "{seen}");
    assert_eq!(seen["tenant"]["tenant_id"], tenant_id, "{seen}");
    assert!(
        seen["tools"]
            .as_array()
            .unwrap()
            .iter()
            .any(|t| t == "orders_list"),
        "{seen}"
    );
    assert!(
        !seen["tools"]
            .as_array()
            .unwrap()
            .iter()
            .any(|t| t == "orders_update"),
        "read token: {seen}"
    );
    assert_eq!(seen["listed_error"], false, "{seen}");
    assert!(seen["listed_count"].as_u64().unwrap() > 0, "{seen}");
    assert!(
        seen["progress"].as_u64().unwrap() > 0,
        "progress over HTTP: {seen}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_server_answers_503_with_retry_after() {
    let dir = fresh_dir("remote-busy");
    let sim = Simulator::spawn(SimConfig::sandbox()).await.unwrap();
    let (_, key) = tenant_with_demo_store(&dir, &sim.api_base());
    let (token, _) = create_token(&dir, &key, &["--scope", "read"]);
    std::fs::write(dir.join("config.toml"), "[http]\nmax_concurrent = 1\n").unwrap();
    let server = HttpServer::start(&dir, Some(&sim.api_base()), &[], &[]).await;
    let client = server.connect(&token).await;
    let slow = slow_read(&sim.simulator, &client, Duration::from_millis(1500));
    tokio::time::sleep(Duration::from_millis(400)).await;
    let busy = post_mcp(&reqwest::Client::new(), &server)
        .bearer_auth(&token)
        .json(&initialize_body())
        .send()
        .await
        .unwrap();
    assert_eq!(
        busy.status(),
        503,
        "the one place is taken by the slow call"
    );
    assert_eq!(busy.headers()["retry-after"], "1");
    let answered = slow.await.unwrap().expect("the slow call is answered");
    assert_ne!(answered.is_error, Some(true), "{answered:?}");
    // Its place is free again once its answer is sent.
    let fine = client
        .peer()
        .call_tool(CallToolRequestParams::new("tenant_info"))
        .await;
    assert!(fine.is_ok(), "{fine:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_signal_stops_at_once() {
    let dir = fresh_dir("remote-second-signal");
    let sim = Simulator::spawn(SimConfig::sandbox()).await.unwrap();
    let (_, key) = tenant_with_demo_store(&dir, &sim.api_base());
    let (token, _) = create_token(&dir, &key, &["--scope", "read"]);
    let mut server = HttpServer::start(
        &dir,
        Some(&sim.api_base()),
        &[],
        &[("ORDERDESK_MCP_SHUTDOWN_GRACE_S", "30")],
    )
    .await;
    let client = server.connect(&token).await;
    let _pending = slow_read(&sim.simulator, &client, Duration::from_secs(20));
    tokio::time::sleep(Duration::from_millis(400)).await;
    terminate(&server);
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(
        server.child.try_wait().unwrap().is_none(),
        "the first signal waits for the call"
    );
    let signalled = std::time::Instant::now();
    terminate(&server);
    let exited = tokio::time::timeout(Duration::from_secs(5), server.child.wait())
        .await
        .expect("the second signal stops the server at once")
        .unwrap();
    assert_eq!(exited.code(), Some(130), "{}", server.stderr());
    assert!(signalled.elapsed() < Duration::from_secs(3));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_burst_of_calls_with_a_valid_token_is_never_rate_limited() {
    // The failed-authentication limit allows 5 failures a minute per address; calls
    // under way must not count as failures, or a client sending more than 5 at once
    // would get 429s with a perfectly good token.
    let dir = fresh_dir("remote-burst");
    let sim = Simulator::spawn(SimConfig::sandbox()).await.unwrap();
    let (_, key) = tenant_with_demo_store(&dir, &sim.api_base());
    let (token, _) = create_token(&dir, &key, &["--scope", "read"]);
    let server = HttpServer::start(&dir, Some(&sim.api_base()), &[], &[]).await;
    let client = server.connect(&token).await;
    // Each OrderDesk read takes a while, so the calls overlap in the server.
    sim.simulator.inject_fault(Fault::new(
        "/orders",
        FaultKind::Delay(Duration::from_millis(300)),
        24,
    ));
    let calls: Vec<_> = (0..24)
        .map(|_| {
            let peer = client.peer().clone();
            tokio::spawn(async move {
                let arguments = json!({"store": "demo", "limit": 1, "fresh": true});
                peer.call_tool(
                    CallToolRequestParams::new("orders_list")
                        .with_arguments(arguments.as_object().unwrap().clone()),
                )
                .await
            })
        })
        .collect();
    for call in calls {
        let answered = call
            .await
            .unwrap()
            .expect("every call of the burst is served");
        assert_ne!(answered.is_error, Some(true), "{answered:?}");
    }
    // Failures still count: five bad tokens, then even the good one waits.
    let http = reqwest::Client::new();
    for _ in 0..5 {
        let refused = post_mcp(&http, &server)
            .bearer_auth("odat_not-a-real-token")
            .json(&initialize_body())
            .send()
            .await
            .unwrap();
        assert_eq!(refused.status(), 401);
    }
    let limited = post_mcp(&http, &server)
        .bearer_auth(&token)
        .json(&initialize_body())
        .send()
        .await
        .unwrap();
    assert_eq!(limited.status(), 429);
}
