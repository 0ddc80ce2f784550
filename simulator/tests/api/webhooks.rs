//! "Post order to URL" rules: pushes to a real receiver on 127.0.0.1, their form body,
//! headers and signature, what fires them, and how deliveries are recorded.

use std::collections::HashMap;
use std::net::{Ipv4Addr, SocketAddr};
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::{Form, Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use orderdesk_sim::{
    DEMO_API_KEY, DEMO_STORE_ID, SimConfig, Simulator, Trigger, WebhookDelivery, WebhookRule,
    sign_push,
};
use reqwest::Method;
use serde_json::{Value, json};
use tokio::net::TcpListener;
use tokio::sync::mpsc;

use crate::common::{Api, OTHER_API_KEY, OTHER_STORE_ID, roomy_config, send};

/// A push as the receiver saw it.
#[derive(Debug)]
struct Received {
    /// The last path segment of the URL it came to (`/hooks/{name}`).
    name: String,
    store_id: Option<String>,
    hash: Option<String>,
    content_type: Option<String>,
    /// The `order` form field, decoded by axum's `Form` (not by our encoder's inverse).
    order_json: String,
}

impl Received {
    fn order(&self) -> Value {
        serde_json::from_str(&self.order_json).expect("the order field is JSON")
    }
}

/// A receiver on 127.0.0.1: `POST /hooks/{name}` answers `status` after `delay` and
/// hands every push to the test. A request that is no form, or has no `order` field,
/// is refused by axum (and shows in the delivery's status).
struct Receiver {
    addr: SocketAddr,
    pushes: mpsc::UnboundedReceiver<Received>,
}

#[derive(Clone)]
struct ReceiverState {
    pushes: mpsc::UnboundedSender<Received>,
    status: StatusCode,
    delay: Duration,
}

async fn receive(
    State(state): State<ReceiverState>,
    Path(name): Path<String>,
    headers: HeaderMap,
    Form(mut form): Form<HashMap<String, String>>,
) -> StatusCode {
    let header = |name: &str| {
        headers
            .get(name)
            .map(|v| v.to_str().expect("ASCII header").to_owned())
    };
    let received = Received {
        name,
        store_id: header("X-Order-Desk-Store-Id"),
        hash: header("X-Order-Desk-Hash"),
        content_type: header("content-type"),
        order_json: form.remove("order").expect("an order field"),
    };
    assert!(form.is_empty(), "one field only: {form:?}");
    let _ = state.pushes.send(received);
    tokio::time::sleep(state.delay).await;
    state.status
}

impl Receiver {
    async fn start() -> Receiver {
        Receiver::answering(StatusCode::OK, Duration::ZERO).await
    }

    async fn answering(status: StatusCode, delay: Duration) -> Receiver {
        let (tx, pushes) = mpsc::unbounded_channel();
        let state = ReceiverState {
            pushes: tx,
            status,
            delay,
        };
        let app = Router::new()
            .route("/hooks/{name}", post(receive))
            .with_state(state);
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await });
        Receiver { addr, pushes }
    }

    fn url(&self, name: &str) -> String {
        format!("http://{}/hooks/{name}", self.addr)
    }

    async fn next(&mut self) -> Received {
        tokio::time::timeout(Duration::from_secs(10), self.pushes.recv())
            .await
            .expect("a push arrives")
            .expect("the receiver runs")
    }

    /// Nothing more arrived (after the deliveries the test waited for).
    fn assert_idle(&mut self) {
        if let Ok(extra) = self.pushes.try_recv() {
            panic!("an unexpected push: {} {}", extra.name, extra.order_json);
        }
    }
}

/// A small store (5 seeded orders) and its twin, a bucket big enough for any test.
async fn small_api() -> Api {
    Api::start(SimConfig {
        seed_orders_per_store: 5,
        ..roomy_config()
    })
    .await
}

/// Wait until the store has recorded `n` deliveries (pushes are sent in the background).
async fn deliveries(sim: &Simulator, store_id: &str, n: usize) -> Vec<WebhookDelivery> {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let deliveries = sim.webhook_deliveries(store_id);
        if deliveries.len() >= n {
            assert_eq!(deliveries.len(), n, "more deliveries than expected");
            return deliveries;
        }
        assert!(
            Instant::now() < deadline,
            "waited for {n} deliveries, have {deliveries:?}"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

fn new_order() -> Value {
    json!({
        "email": "hook@example.com",
        "shipping": { "first_name": "Hook", "last_name": "Receiver" },
        "order_items": [{ "name": "Mug", "code": "MUG", "price": "9.50", "quantity": 2 }],
    })
}

async fn create_order(api: &Api) -> Value {
    let (status, body) = api.send_json(Method::POST, "/orders", &new_order()).await;
    assert_eq!(status, 201, "{body}");
    body["order"].clone()
}

fn id_of(order: &Value) -> u64 {
    order["id"].as_str().expect("string id").parse().unwrap()
}

async fn move_to(api: &Api, order_id: u64, folder: u64) {
    let body = json!({ "order_id_list": [order_id.to_string()], "destination_folder_id": folder });
    let (status, answer) = api.send_json(Method::POST, "/move-orders", &body).await;
    assert_eq!(status, 200, "{answer}");
}

/// The push is OrderDesk's: a form, the store's id, the order JSON signed with its key.
fn assert_signed(push: &Received, store_id: &str, api_key: &str) {
    assert_eq!(
        push.content_type.as_deref(),
        Some("application/x-www-form-urlencoded")
    );
    assert_eq!(push.store_id.as_deref(), Some(store_id));
    let hash = push.hash.as_deref().expect("a hash header");
    assert_eq!(hash, sign_push(api_key, &push.order_json));
    assert_eq!(hash.len(), 64);
    assert!(
        hash.bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)),
        "lowercase hex: {hash}"
    );
}

#[test]
fn sign_push_matches_an_independent_hmac_sha256_vector() {
    // RFC 4231, test case 2: key "Jefe".
    assert_eq!(
        sign_push("Jefe", "what do ya want for nothing?"),
        "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
    );
}

#[tokio::test]
async fn created_updated_and_moved_orders_are_pushed_signed() {
    let api = small_api().await;
    let sim = api.simulator();
    let mut receiver = Receiver::start().await;
    let created = sim
        .add_webhook_rule(
            DEMO_STORE_ID,
            WebhookRule::new(receiver.url("created"), [Trigger::Created]),
        )
        .unwrap();
    let updated = sim
        .add_webhook_rule(
            DEMO_STORE_ID,
            WebhookRule::new(receiver.url("updated"), [Trigger::Updated]),
        )
        .unwrap();
    let shipped = sim
        .add_webhook_rule(
            DEMO_STORE_ID,
            WebhookRule::new(receiver.url("shipped"), [Trigger::MovedToFolder(1007)]),
        )
        .unwrap();
    assert_eq!(
        sim.webhook_rules(DEMO_STORE_ID)
            .iter()
            .map(|(id, _)| *id)
            .collect::<Vec<_>>(),
        [created, updated, shipped]
    );

    // Created: the order as the API answers it, and only the Created rule.
    let order = create_order(&api).await;
    let order_id = id_of(&order);
    let push = receiver.next().await;
    assert_eq!(push.name, "created");
    assert_signed(&push, DEMO_STORE_ID, DEMO_API_KEY);
    assert_eq!(push.order(), order);
    let (_, fetched) = api.get(&format!("/orders/{order_id}")).await;
    assert_eq!(push.order(), fetched["order"]);

    // Updated, with the order after the change.
    let mut changed = order.clone();
    changed["email"] = json!("changed@example.com");
    let (status, _) = api
        .send_json(Method::PUT, &format!("/orders/{order_id}"), &changed)
        .await;
    assert_eq!(status, 200);
    let push = receiver.next().await;
    assert_eq!(push.name, "updated");
    assert_signed(&push, DEMO_STORE_ID, DEMO_API_KEY);
    assert_eq!(push.order()["id"], json!(order_id.to_string()));
    assert_eq!(push.order()["email"], "changed@example.com");

    // A move into another folder is an update, not a move into 1007.
    move_to(&api, order_id, 1006).await;
    let push = receiver.next().await;
    assert_eq!(push.name, "updated");
    assert_eq!(push.order()["folder_id"], 1006);

    // A move into 1007: both rules, one push each, the order already in the folder.
    move_to(&api, order_id, 1007).await;
    let first = receiver.next().await;
    let second = receiver.next().await;
    assert_eq!(
        (first.name.as_str(), second.name.as_str()),
        ("updated", "shipped")
    );
    assert_signed(&second, DEMO_STORE_ID, DEMO_API_KEY);
    assert_eq!(second.order()["folder_id"], 1007);
    assert_eq!(second.order_json, first.order_json);

    let recorded = deliveries(sim, DEMO_STORE_ID, 5).await;
    let summary: Vec<(u64, Trigger, u64, Option<u16>)> = recorded
        .iter()
        .map(|d| (d.rule_id, d.trigger, d.order_id, d.status))
        .collect();
    assert_eq!(
        summary,
        [
            (created, Trigger::Created, order_id, Some(200)),
            (updated, Trigger::Updated, order_id, Some(200)),
            (updated, Trigger::Updated, order_id, Some(200)),
            (updated, Trigger::Updated, order_id, Some(200)),
            (shipped, Trigger::MovedToFolder(1007), order_id, Some(200)),
        ]
    );
    assert!(recorded.iter().all(|d| d.succeeded() && d.error.is_none()));
    assert_eq!(recorded[0].url, receiver.url("created"));
    receiver.assert_idle();
}

#[tokio::test]
async fn every_change_pushes_once_and_reads_and_failures_push_nothing() {
    let api = small_api().await;
    let sim = api.simulator();
    let mut receiver = Receiver::start().await;
    let order = create_order(&api).await; // before the rule: no push
    let order_id = id_of(&order);
    let rule = sim
        .add_webhook_rule(
            DEMO_STORE_ID,
            WebhookRule::new(
                receiver.url("any"),
                [Trigger::Updated, Trigger::MovedToFolder(1007)],
            ),
        )
        .unwrap();
    let path = format!("/orders/{order_id}");

    // Reads, and requests that fail, change nothing and push nothing.
    for read in [
        path.clone(),
        format!("{path}/order-items"),
        format!("{path}/shipments"),
        "/orders".to_owned(),
    ] {
        assert_eq!(api.get(&read).await.0, 200, "{read}");
    }
    let (status, _) = api
        .send_json(
            Method::PUT,
            &format!("{path}/order-items/999"),
            &json!({ "name": "x" }),
        )
        .await;
    assert_eq!(status, 404);
    let (status, _) = api
        .send_json(Method::POST, &format!("{path}/shipments"), &json!({}))
        .await;
    assert_eq!(status, 422);

    // A move into 1007 for a rule with Updated and MovedToFolder(1007): one push.
    move_to(&api, order_id, 1007).await;
    assert_eq!(receiver.next().await.order()["folder_id"], 1007);

    // History, items and shipments all change the order.
    let (status, _) = api
        .send_json(
            Method::POST,
            &format!("{path}/order-history"),
            &json!({ "note": "hello" }),
        )
        .await;
    assert_eq!(status, 200);
    let push = receiver.next().await;
    assert_eq!(push.order()["order_notes"][0]["content"], "hello");

    let (status, _) = api
        .send_json(
            Method::POST,
            &format!("{path}/order-items"),
            &json!({ "name": "Extra", "price": 1, "quantity": 1 }),
        )
        .await;
    assert_eq!(status, 201);
    let push = receiver.next().await;
    assert_eq!(push.order()["order_items"].as_array().unwrap().len(), 2);

    // A batch with two shipments for the same order: one push, with both.
    let (status, _) = api
        .send_json(
            Method::POST,
            "/batch-shipments",
            &json!([
                { "order_id": order_id.to_string(), "tracking_number": "1Z1" },
                { "order_id": order_id.to_string(), "tracking_number": "1Z2" },
            ]),
        )
        .await;
    assert_eq!(status, 201);
    let push = receiver.next().await;
    assert_eq!(push.order()["order_shipments"].as_array().unwrap().len(), 2);

    // Another writer's edit is a change too, and so is its move into 1007.
    sim.edit_order(
        DEMO_STORE_ID,
        &order_id.to_string(),
        &json!({ "folder_id": 1004 }),
    )
    .unwrap();
    sim.edit_order(
        DEMO_STORE_ID,
        &order_id.to_string(),
        &json!({ "folder_id": "1007" }),
    )
    .unwrap();
    // A change to an order already in 1007 is an update, not a move.
    sim.edit_order(
        DEMO_STORE_ID,
        &order_id.to_string(),
        &json!({ "folder_id": 1007, "email": "again@example.com" }),
    )
    .unwrap();

    // Deleting pushes nothing.
    let (status, _) = send(api.request(Method::DELETE, &path)).await;
    assert_eq!(status, 200);

    let recorded = deliveries(sim, DEMO_STORE_ID, 7).await;
    for delivery in &recorded {
        assert_eq!(delivery.rule_id, rule);
        assert_eq!(delivery.order_id, order_id);
        assert_eq!(delivery.status, Some(200));
    }
    let triggers: Vec<Trigger> = recorded.iter().map(|d| d.trigger).collect();
    let (moved, updated) = (Trigger::MovedToFolder(1007), Trigger::Updated);
    assert_eq!(
        triggers,
        [moved, updated, updated, updated, updated, moved, updated]
    );
    // The three edits' pushes, in order: into 1004, into 1007, then the email.
    let last: Vec<Value> = (0..3)
        .map(|_| receiver.pushes.try_recv().expect("pushed").order())
        .collect();
    assert_eq!(last[0]["folder_id"], 1004);
    assert_eq!(last[1]["folder_id"], "1007");
    assert_eq!(last[2]["email"], "again@example.com");
    receiver.assert_idle();
}

#[tokio::test]
async fn each_store_pushes_its_own_orders_signed_with_its_own_key() {
    let api = small_api().await;
    let sim = api.simulator();
    let mut receiver = Receiver::start().await;
    sim.add_webhook_rule(
        OTHER_STORE_ID,
        WebhookRule::new(receiver.url("other"), [Trigger::Created]),
    )
    .unwrap();
    create_order(&api).await; // the demo store: no rule there
    let (status, body) = send(
        api.http
            .post(format!("{}/orders", api.sim.api_base()))
            .header("ORDERDESK-STORE-ID", OTHER_STORE_ID)
            .header("ORDERDESK-API-KEY", OTHER_API_KEY)
            .json(&new_order()),
    )
    .await;
    assert_eq!(status, 201);
    let push = receiver.next().await;
    assert_signed(&push, OTHER_STORE_ID, OTHER_API_KEY);
    assert_ne!(
        push.hash.as_deref(),
        Some(sign_push(DEMO_API_KEY, &push.order_json).as_str())
    );
    assert_eq!(push.order(), body["order"]);
    assert_eq!(deliveries(sim, OTHER_STORE_ID, 1).await.len(), 1);
    assert!(sim.webhook_deliveries(DEMO_STORE_ID).is_empty());
    receiver.assert_idle();
}

#[tokio::test]
async fn unknown_stores_take_no_rules() {
    let api = small_api().await;
    let sim = api.simulator();
    let rule = WebhookRule::new("http://127.0.0.1:9/hook", [Trigger::Created]);
    assert_eq!(sim.add_webhook_rule("999", rule.clone()), None);
    assert!(sim.webhook_rules("999").is_empty());
    assert!(sim.webhook_deliveries("999").is_empty());
    assert!(!sim.remove_webhook_rule("999", 1));

    let id = sim.add_webhook_rule(DEMO_STORE_ID, rule.clone()).unwrap();
    assert_eq!(sim.webhook_rules(DEMO_STORE_ID), [(id, rule)]);
    assert!(!sim.remove_webhook_rule(OTHER_STORE_ID, id));
    assert!(sim.remove_webhook_rule(DEMO_STORE_ID, id));
    assert!(!sim.remove_webhook_rule(DEMO_STORE_ID, id));
    assert!(sim.webhook_rules(DEMO_STORE_ID).is_empty());
}

#[tokio::test]
async fn a_receiver_that_is_down_or_slow_never_holds_up_the_api() {
    let api = small_api().await;
    let sim = api.simulator();
    // A port nobody listens on any more.
    let closed = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).await.unwrap();
    let down = format!("http://{}/hooks/down", closed.local_addr().unwrap());
    drop(closed);
    let mut slow =
        Receiver::answering(StatusCode::INTERNAL_SERVER_ERROR, Duration::from_secs(1)).await;
    let down_rule = sim
        .add_webhook_rule(DEMO_STORE_ID, WebhookRule::new(down, [Trigger::Created]))
        .unwrap();
    let slow_rule = sim
        .add_webhook_rule(
            DEMO_STORE_ID,
            WebhookRule::new(slow.url("slow"), [Trigger::Created]),
        )
        .unwrap();

    let started = Instant::now();
    let first = create_order(&api).await;
    let second = create_order(&api).await;
    assert!(
        started.elapsed() < Duration::from_secs(1),
        "the API waited for the receivers: {:?}",
        started.elapsed()
    );
    assert_eq!(slow.next().await.order()["id"], first["id"]);

    // Delivered in order, one at a time: the slow receiver's answers come 1 s apart.
    let recorded = deliveries(sim, DEMO_STORE_ID, 4).await;
    let summary: Vec<(u64, u64, Option<u16>, bool)> = recorded
        .iter()
        .map(|d| (d.rule_id, d.order_id, d.status, d.error.is_some()))
        .collect();
    let (first, second) = (id_of(&first), id_of(&second));
    assert_eq!(
        summary,
        [
            (down_rule, first, None, true),
            (slow_rule, first, Some(500), false),
            (down_rule, second, None, true),
            (slow_rule, second, Some(500), false),
        ]
    );
    assert!(recorded.iter().all(|d| !d.succeeded()));
    let error = recorded[0].error.as_deref().unwrap();
    assert!(
        error.to_lowercase().contains("connect"),
        "says why: {error}"
    );
    let waited = recorded[2].at.duration_since(recorded[1].at).unwrap();
    assert!(
        waited >= Duration::from_millis(900),
        "one at a time: {waited:?}"
    );
}

#[test]
fn without_a_runtime_a_push_is_recorded_as_failed() {
    let sim = Simulator::new(SimConfig {
        seed_orders_per_store: 3,
        ..SimConfig::sandbox()
    });
    sim.add_webhook_rule(
        DEMO_STORE_ID,
        WebhookRule::new("http://127.0.0.1:9/hook", [Trigger::Updated]),
    )
    .unwrap();
    let order_id = sim.orders(DEMO_STORE_ID)[0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    sim.edit_order(
        DEMO_STORE_ID,
        &order_id,
        &json!({ "email": "x@example.com" }),
    )
    .unwrap();
    let recorded = sim.webhook_deliveries(DEMO_STORE_ID);
    assert_eq!(recorded.len(), 1);
    assert_eq!(recorded[0].status, None);
    assert!(recorded[0].error.as_deref().unwrap().contains("runtime"));
}

#[tokio::test]
async fn control_routes_add_list_and_remove_rules() {
    let api = small_api().await;
    let mut receiver = Receiver::start().await;
    let hooks = format!(
        "{}/_sim/stores/{DEMO_STORE_ID}/webhooks",
        api.sim.base_url()
    );
    let post = |body: Value| send(api.http.post(&hooks).json(&body));

    let (status, body) = post(json!({
        "url": receiver.url("http"),
        "triggers": [{ "kind": "created" }, { "kind": "moved_to_folder", "folder_id": 1007 }],
    }))
    .await;
    assert_eq!(status, 200, "{body}");
    let rule_id = body["rule_id"].as_u64().expect("a rule id");

    for (bad, says) in [
        (json!({ "url": receiver.url("x") }), "triggers"),
        (
            json!({ "url": "ftp://x/", "triggers": [{ "kind": "created" }] }),
            "http or https",
        ),
        (
            json!({ "url": "nope", "triggers": [{ "kind": "created" }] }),
            "not a URL",
        ),
        (
            json!({ "url": receiver.url("x"), "triggers": [] }),
            "at least one",
        ),
        (
            json!({ "url": receiver.url("x"), "triggers": [{ "kind": "deleted" }] }),
            "deleted",
        ),
        (
            json!({ "url": receiver.url("x"), "triggers": ["created"] }),
            "bad webhook rule",
        ),
        (
            json!({ "url": receiver.url("x"), "triggers": [{ "kind": "created" }], "secret": 1 }),
            "secret",
        ),
    ] {
        let (status, body) = post(bad.clone()).await;
        assert_eq!(status, 400, "{bad}: {body}");
        assert_eq!(body["status"], "error");
        let message = body["message"].as_str().unwrap();
        assert!(message.starts_with("bad webhook rule"), "{message}");
        assert!(message.contains(says), "{bad}: {message}");
    }
    let (status, body) = send(
        api.http
            .post(&hooks)
            .header("content-type", "application/json")
            .body("{"),
    )
    .await;
    assert_eq!((status, body["status"].as_str()), (400, Some("error")));
    // A form post (what a web page can send cross-site) adds no rule.
    let form = format!(
        "{{\"url\":\"{}\",\"triggers\":[{{\"kind\":\"created\"}}]}}",
        receiver.url("x")
    );
    let (status, body) = send(
        api.http
            .post(&hooks)
            .header("content-type", "application/x-www-form-urlencoded")
            .body(form),
    )
    .await;
    assert_eq!(status, 415, "{body}");

    let unknown = format!("{}/_sim/stores/999/webhooks", api.sim.base_url());
    let valid = json!({ "url": receiver.url("x"), "triggers": [{ "kind": "created" }] });
    let (status, body) = send(api.http.post(&unknown).json(&valid)).await;
    assert_eq!(
        (status, body["message"].as_str()),
        (404, Some("Store Not Found"))
    );
    assert_eq!(send(api.http.get(&unknown)).await.0, 404);
    assert_eq!(send(api.http.delete(format!("{unknown}/1"))).await.0, 404);

    // The rule added over HTTP fires, and the listing shows it and its delivery.
    let order = create_order(&api).await;
    assert_eq!(receiver.next().await.order(), order);
    deliveries(api.simulator(), DEMO_STORE_ID, 1).await;
    let (status, listing) = send(api.http.get(&hooks)).await;
    assert_eq!(status, 200);
    assert_eq!(
        listing["rules"],
        json!([{
            "rule_id": rule_id,
            "url": receiver.url("http"),
            "triggers": [{ "kind": "created" }, { "kind": "moved_to_folder", "folder_id": 1007 }],
        }])
    );
    let delivery = &listing["deliveries"][0];
    assert_eq!(delivery["rule_id"], rule_id);
    assert_eq!(delivery["order_id"], id_of(&order));
    assert_eq!(delivery["trigger"], json!({ "kind": "created" }));
    assert_eq!(delivery["status"], 200);
    assert_eq!(delivery["error"], Value::Null);
    assert_eq!(delivery["at"].as_str().unwrap().len(), 23, "{delivery}");

    let rule_url = format!("{hooks}/{rule_id}");
    let (status, body) = send(api.http.delete(&rule_url)).await;
    assert_eq!((status, body["status"].as_str()), (200, Some("success")));
    let (status, body) = send(api.http.delete(&rule_url)).await;
    assert_eq!(
        (status, body["message"].as_str()),
        (404, Some("Webhook Rule Not Found"))
    );
    assert_eq!(send(api.http.delete(format!("{hooks}/abc"))).await.0, 404);
    assert!(api.simulator().webhook_rules(DEMO_STORE_ID).is_empty());

    // Gone: a new order pushes nothing more.
    create_order(&api).await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    receiver.assert_idle();
    assert_eq!(api.simulator().webhook_deliveries(DEMO_STORE_ID).len(), 1);
}
