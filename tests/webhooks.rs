//! OrderDesk's pushes end to end: the simulator's "post order to URL" rule posts to the
//! running `orderdesk-mcp serve --http` (the real binary), signed as OrderDesk signs;
//! the server verifies, records, drops the cached reads and tells subscribed MCP
//! clients; forged, replayed, oversized and random pushes are refused and leave no
//! event.

#[path = "support/remote.rs"]
mod remote;
#[path = "support/server.rs"]
mod server;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use orderdesk_sim::{
    API_KEY_HEADER, DEMO_API_KEY, DEMO_STORE_ID, STORE_ID_HEADER, SimConfig, SimStore, Simulator,
    Trigger, WebhookRule, sign_push,
};
use remote::{HttpServer, cli, create_token, tenant_with_demo_store, try_cli_env};
use rmcp::model::{CallToolRequestParams, ReadResourceRequestParams, SubscribeRequestParams};
use serde_json::{Value, json};
use server::{eventually, fresh_dir};

/// The URIs of the `notifications/resources/updated` a client received.
#[derive(Clone, Default)]
struct Updates(Arc<Mutex<Vec<String>>>);

impl Updates {
    fn seen(&self) -> Vec<String> {
        self.0.lock().unwrap().clone()
    }
}

impl rmcp::ClientHandler for Updates {
    async fn on_resource_updated(
        &self,
        params: rmcp::model::ResourceUpdatedNotificationParam,
        _context: rmcp::service::NotificationContext<rmcp::RoleClient>,
    ) {
        self.0.lock().unwrap().push(params.uri);
    }
}

/// The events recorded in `data_dir`'s database.
fn event_count(data_dir: &std::path::Path) -> i64 {
    let conn = rusqlite::Connection::open(data_dir.join(orderdesk_vault::DB_FILE_NAME)).unwrap();
    conn.query_row("SELECT COUNT(*) FROM webhook_events", [], |row| row.get(0))
        .unwrap()
}

/// A tool call's structured answer, failing the test on an error.
async fn call<H: rmcp::ClientHandler>(
    client: &rmcp::service::RunningService<rmcp::RoleClient, H>,
    tool: &str,
    arguments: Value,
) -> Value {
    let result = client
        .peer()
        .call_tool(
            CallToolRequestParams::new(tool.to_string())
                .with_arguments(arguments.as_object().unwrap().clone()),
        )
        .await
        .unwrap();
    assert_ne!(result.is_error, Some(true), "{tool}: {result:?}");
    result.structured_content.unwrap()
}

/// The order as OrderDesk's API answers it (the simulator, with the store's key).
async fn order_json(api_base: &str, order_id: &str) -> Value {
    let body: Value = reqwest::Client::new()
        .get(format!("{api_base}/orders/{order_id}"))
        .header(STORE_ID_HEADER, DEMO_STORE_ID)
        .header(API_KEY_HEADER, DEMO_API_KEY)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    body["order"].clone()
}

/// A push as OrderDesk posts it: the form field `order`, the store id and the hash.
fn push(
    http: &reqwest::Client,
    url: &str,
    store_id: &str,
    hash: &str,
    order_json: &str,
) -> reqwest::RequestBuilder {
    http.post(url)
        .header("x-order-desk-store-id", store_id)
        .header("x-order-desk-hash", hash)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(serde_urlencoded::to_string([("order", order_json)]).unwrap())
}

/// A push of `order_json` signed with the demo store's key, as its rule would send it.
async fn push_from_demo_store(
    http: &reqwest::Client,
    url: &str,
    order_json: &str,
) -> reqwest::Response {
    let hash = sign_push(DEMO_API_KEY, order_json);
    push(http, url, DEMO_STORE_ID, &hash, order_json)
        .send()
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pushed_change_is_recorded_once_refreshes_the_cache_and_reaches_subscribers() {
    let dir = fresh_dir("webhooks-e2e");
    let other_store = SimStore::new("200002", "other-store-key", "Other");
    let sim = Simulator::spawn(SimConfig::with_stores(vec![
        SimStore::demo(),
        other_store.clone(),
    ]))
    .await
    .unwrap();
    let api_base = sim.api_base();
    // Tenant A has the demo store; tenant B another store.
    let (_, key_a) = tenant_with_demo_store(&dir, &api_base);
    let (_, key_b) = server::create_tenant(&dir);
    let (ok, _, stderr) = try_cli_env(
        &dir,
        &key_b,
        &["stores", "add", "--store-id", "200002", "--name", "other"],
        Some("other-store-key"),
        &[("ORDERDESK_API_BASE", api_base.as_str())],
    );
    assert!(ok, "{stderr}");
    let (token_a, _) = create_token(&dir, &key_a, &[]);
    let (token_b, _) = create_token(&dir, &key_b, &[]);
    // A small body limit, so that the oversized push below fits in the socket's
    // buffers: the server answers 413 without reading it, and a client still writing
    // a body larger than the buffers would see the connection close instead.
    std::fs::write(dir.join("config.toml"), "[http]\nmax_body_kib = 64\n").unwrap();
    let server = HttpServer::start(&dir, Some(&api_base), &[], &[]).await;
    let hook_url = format!("{}/webhooks/orderdesk", server.base);

    let updates_a = Updates::default();
    let updates_b = Updates::default();
    let client_a = server.connect_with(&token_a, updates_a.clone()).await;
    let client_b = server.connect_with(&token_b, updates_b.clone()).await;

    // A reads an order (now cached) and subscribes to it.
    let listed = call(
        &client_a,
        "orders_list",
        json!({"store": "demo", "limit": 1}),
    )
    .await;
    let order_id = listed["orders"][0]["id"].as_str().unwrap().to_string();
    let before = call(
        &client_a,
        "orders_get",
        json!({"store": "demo", "order_id": order_id}),
    )
    .await;
    let uri = format!("orderdesk://stores/demo/orders/{order_id}");
    let templates = client_a.peer().list_resource_templates(None).await.unwrap();
    assert!(
        templates
            .resource_templates
            .iter()
            .any(|t| t.uri_template == "orderdesk://stores/{store}/orders/{order_id}"),
        "{templates:?}"
    );
    let read = client_a
        .peer()
        .read_resource(ReadResourceRequestParams::new(uri.clone()))
        .await
        .unwrap();
    let text = serde_json::to_value(&read.contents[0]).unwrap();
    let read_order: Value = serde_json::from_str(text["text"].as_str().unwrap()).unwrap();
    assert_eq!(read_order["order"]["id"], json!(order_id), "{read_order}");
    #[allow(deprecated)]
    client_a
        .peer()
        .subscribe(SubscribeRequestParams::new(uri.clone()))
        .await
        .unwrap();
    // B may not subscribe to A's store's orders: the store is not B's.
    #[allow(deprecated)]
    let refused = client_b
        .peer()
        .subscribe(SubscribeRequestParams::new(format!(
            "orderdesk://stores/{DEMO_STORE_ID}/orders/{order_id}"
        )))
        .await;
    assert!(refused.is_err(), "{refused:?}");
    #[allow(deprecated)]
    client_b
        .peer()
        .subscribe(SubscribeRequestParams::new(format!(
            "orderdesk://stores/other/orders/{order_id}"
        )))
        .await
        .unwrap();

    // Someone edits the order in OrderDesk; the store's rule posts it to the server.
    sim.simulator
        .add_webhook_rule(
            DEMO_STORE_ID,
            WebhookRule::new(hook_url.clone(), vec![Trigger::Updated]),
        )
        .expect("the demo store exists");
    let mut edited = order_json(&api_base, &order_id).await;
    edited["email"] = json!("pushed.change@example.org");
    let put = reqwest::Client::new()
        .put(format!("{api_base}/orders/{order_id}"))
        .header(STORE_ID_HEADER, DEMO_STORE_ID)
        .header(API_KEY_HEADER, DEMO_API_KEY)
        .json(&edited)
        .send()
        .await
        .unwrap();
    assert!(put.status().is_success(), "{}", put.text().await.unwrap());

    eventually("A's subscribed client is told", async || {
        updates_a.seen().contains(&uri)
    })
    .await;
    let deliveries = sim.simulator.webhook_deliveries(DEMO_STORE_ID);
    assert!(
        deliveries.iter().any(|d| d.status == Some(200)),
        "{deliveries:?}\n{}",
        server.stderr()
    );
    assert_eq!(event_count(&dir), 1);
    // The cached answer was dropped: the same read (no `fresh`) shows the change.
    let after = call(
        &client_a,
        "orders_get",
        json!({"store": "demo", "order_id": order_id}),
    )
    .await;
    assert_ne!(before["order"]["email"], after["order"]["email"]);
    assert_eq!(after["order"]["email"], "pushed.change@example.org");
    // B, subscribed only to its own store's order of the same id, heard nothing.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert!(updates_b.seen().is_empty(), "{:?}", updates_b.seen());

    // The same push twice is one event.
    let http = reqwest::Client::new();
    let mut pushed = order_json(&api_base, &order_id).await;
    pushed["date_updated"] = json!("2031-01-01 00:00:00");
    let body = pushed.to_string();
    let hash = sign_push(DEMO_API_KEY, &body);
    for expected_new in [1, 0] {
        let answer = push(&http, &hook_url, DEMO_STORE_ID, &hash, &body)
            .send()
            .await
            .unwrap();
        assert_eq!(answer.status(), 200);
        let answer: Value = answer.json().await.unwrap();
        assert_eq!(answer["recorded"], expected_new, "{answer}");
    }
    assert_eq!(event_count(&dir), 2);

    // Refused, and nothing recorded: a forged hash, a wrong store id, a replay with a
    // modified body, a store id in the path that is not the header's, no form field,
    // an oversized body.
    let forged = sign_push("not-the-key", &body);
    let mut modified = pushed.clone();
    modified["email"] = json!("attacker@example.org");
    let modified = modified.to_string();
    for (what, request, status) in [
        (
            "forged hash",
            push(&http, &hook_url, DEMO_STORE_ID, &forged, &body),
            403,
        ),
        (
            "wrong store id",
            push(&http, &hook_url, "999999", &hash, &body),
            403,
        ),
        (
            "replay with a modified body",
            push(&http, &hook_url, DEMO_STORE_ID, &hash, &modified),
            403,
        ),
        (
            "path store differs",
            push(
                &http,
                &format!("{hook_url}/200002"),
                DEMO_STORE_ID,
                &hash,
                &body,
            ),
            403,
        ),
        (
            "no form field",
            http.post(&hook_url)
                .header("x-order-desk-store-id", DEMO_STORE_ID)
                .header("x-order-desk-hash", &hash)
                .header("content-type", "application/x-www-form-urlencoded")
                .body("nothing=here"),
            400,
        ),
        (
            "oversized body",
            push(
                &http,
                &hook_url,
                DEMO_STORE_ID,
                &hash,
                &"x".repeat(96 << 10),
            ),
            413,
        ),
    ] {
        let answer = request.send().await.unwrap();
        assert_eq!(answer.status(), status, "{what}");
    }
    assert_eq!(event_count(&dir), 2, "refused pushes leave no event");
    // Nothing of a refused push is logged but its address and reason.
    let log = server.stderr();
    assert!(!log.contains("attacker@example.org"), "{log}");
    assert!(!log.contains(&forged), "{log}");
    // The per-store path works for the right store.
    let mut again = pushed.clone();
    again["date_updated"] = json!("2031-01-02 00:00:00");
    let again = again.to_string();
    let answer = push_from_demo_store(&http, &format!("{hook_url}/{DEMO_STORE_ID}"), &again).await;
    assert_eq!(answer.status(), 200);

    // What changed, as an agent asks: newest first, B sees none of A's.
    let changes = call(&client_a, "orders_changes", json!({"store": "demo"})).await;
    let events = changes["changes"].as_array().unwrap();
    assert_eq!(events.len(), 3, "{changes}");
    assert_eq!(
        events[0]["date_updated"], "2031-01-02 00:00:00",
        "{changes}"
    );
    assert!(events.iter().all(|e| e["order_id"] == json!(order_id)));
    let page = call(
        &client_a,
        "orders_changes",
        json!({"store": "demo", "limit": 2}),
    )
    .await;
    assert_eq!(page["changes"].as_array().unwrap().len(), 2);
    let cursor = page["next_cursor"]
        .as_str()
        .expect("a cursor to the rest")
        .to_string();
    let rest = call(
        &client_a,
        "orders_changes",
        json!({"store": "demo", "cursor": cursor}),
    )
    .await;
    assert_eq!(rest["changes"].as_array().unwrap().len(), 1, "{rest}");
    let none = call(&client_b, "orders_changes", json!({})).await;
    assert_eq!(none["changes"], json!([]), "{none}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stdio_session_on_the_same_data_directory_hears_the_pushes() {
    // The HTTP server receives the push; a stdio server of the same tenant, started on
    // the same data directory (as on a laptop beside a running remote server), follows
    // the recorded events and tells its subscribed client.
    let dir = fresh_dir("webhooks-stdio");
    let sim = Simulator::spawn(SimConfig::sandbox()).await.unwrap();
    let api_base = sim.api_base();
    let (_, key) = tenant_with_demo_store(&dir, &api_base);
    let server = HttpServer::start(&dir, Some(&api_base), &[], &[]).await;
    let updates = Updates::default();
    let stdio = server::Launch::new(&dir)
        .env("ORDERDESK_MCP_MASTER_KEY", key.as_str())
        .env("ORDERDESK_API_BASE", api_base.as_str())
        .start_with(updates.clone())
        .await;
    let listed = call(&stdio, "orders_list", json!({"store": "demo", "limit": 1})).await;
    let order_id = listed["orders"][0]["id"].as_str().unwrap().to_string();
    let uri = format!("orderdesk://stores/{DEMO_STORE_ID}/orders/{order_id}");
    #[allow(deprecated)]
    stdio
        .peer()
        .subscribe(SubscribeRequestParams::new(uri.clone()))
        .await
        .unwrap();
    let mut order = order_json(&api_base, &order_id).await;
    order["date_updated"] = json!("2031-03-04 05:06:07");
    let body = order.to_string();
    let answer = push_from_demo_store(
        &reqwest::Client::new(),
        &format!("{}/webhooks/orderdesk", server.base),
        &body,
    )
    .await;
    assert_eq!(answer.status(), 200);
    eventually("the stdio client is told", async || {
        updates.seen().contains(&uri)
    })
    .await;
    let changes = call(&stdio, "orders_changes", json!({})).await;
    assert_eq!(
        changes["changes"][0]["order_id"],
        json!(order_id),
        "{changes}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn random_pushes_are_refused_and_the_server_stays_up() {
    let dir = fresh_dir("webhooks-fuzz");
    let sim = Simulator::spawn(SimConfig::sandbox()).await.unwrap();
    let (_, _key) = tenant_with_demo_store(&dir, &sim.api_base());
    let server = HttpServer::start(&dir, Some(&sim.api_base()), &[], &[]).await;
    let url = format!("{}/webhooks/orderdesk", server.base);
    let http = reqwest::Client::new();
    // A small deterministic generator (xorshift): the same bodies every run.
    let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let content_types = [
        "application/x-www-form-urlencoded",
        "application/json",
        "text/plain",
        "multipart/form-data; boundary=x",
        "application/x-www-form-urlencoded; charset=latin1",
    ];
    for round in 0..300 {
        let len = (next() % 4096) as usize;
        let mut body: Vec<u8> = (0..len).map(|_| next() as u8).collect();
        if round % 3 == 0 {
            // Mostly well-formed: a form with a JSON-ish order.
            body = format!(
                "order=%7B%22id%22%3A{}%2C%22x%22%3A%22{}%22%7D",
                next() % 1_000_000,
                next()
            )
            .into_bytes();
        }
        let mut request = http
            .post(&url)
            .header(
                "content-type",
                content_types[(next() % content_types.len() as u64) as usize],
            )
            .body(body);
        if next() % 4 != 0 {
            let store = if next() % 2 == 0 {
                DEMO_STORE_ID.to_string()
            } else {
                (next() % 10_000_000).to_string()
            };
            request = request.header("x-order-desk-store-id", store);
        }
        if next() % 4 != 0 {
            request = request.header("x-order-desk-hash", format!("{:064x}", next()));
        }
        let answer = request.send().await.unwrap();
        assert!(
            [400, 403, 413].contains(&answer.status().as_u16()),
            "round {round}: {}",
            answer.status()
        );
    }
    assert_eq!(event_count(&dir), 0);
    let health = http
        .get(format!("{}/healthz", server.base))
        .send()
        .await
        .unwrap();
    assert_eq!(health.status(), 200);
    // And a real push still gets through.
    let order = json!({"id": "4242", "folder_id": "1", "date_updated": "2031-02-03 04:05:06"});
    let body = order.to_string();
    let answer = push_from_demo_store(&http, &url, &body).await;
    assert_eq!(answer.status(), 200, "{}", server.stderr());
    assert_eq!(event_count(&dir), 1);
}

#[test]
fn webhooks_info_prints_the_url_and_the_rule_for_each_store() {
    let dir = fresh_dir("webhooks-info");
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let sim = runtime
        .block_on(Simulator::spawn(SimConfig::sandbox()))
        .unwrap();
    let (_, key) = tenant_with_demo_store(&dir, &sim.api_base());
    let out = cli(
        &dir,
        &key,
        &[
            "webhooks",
            "info",
            "--public-url",
            "https://mcp.example.com",
        ],
        None,
    );
    assert!(
        out.contains("https://mcp.example.com/webhooks/orderdesk/100001"),
        "{out}"
    );
    assert!(out.contains("demo"), "{out}");
    assert!(out.to_lowercase().contains("post order to url"), "{out}");
    let json_out = cli(
        &dir,
        &key,
        &[
            "webhooks",
            "info",
            "--public-url",
            "https://mcp.example.com",
            "--json",
        ],
        None,
    );
    let info: Value = serde_json::from_str(&json_out).unwrap();
    assert_eq!(info["stores"][0]["store_id"], DEMO_STORE_ID, "{info}");
    assert_eq!(
        info["stores"][0]["url"],
        "https://mcp.example.com/webhooks/orderdesk/100001"
    );
    assert_eq!(info["stores"][0]["ready"], true, "{info}");
    // Without a public URL there is nothing to point OrderDesk at: a clear error.
    let (ok, _, stderr) = try_cli_env(&dir, &key, &["webhooks", "info"], None, &[]);
    assert!(!ok);
    assert!(stderr.contains("--public-url"), "{stderr}");
}
