//! Authentication, the GET-body rule, the rate limit, fault injection and the request log.

use std::time::{Duration, Instant};

use orderdesk_sim::{DEMO_API_KEY, DEMO_STORE_ID, Fault, FaultKind, SimConfig};
use reqwest::Method;
use serde_json::json;

use crate::common::{Api, OTHER_API_KEY, OTHER_STORE_ID, decode, roomy_config, send};

fn tokens(response: &reqwest::Response) -> Option<u32> {
    response
        .headers()
        .get("X-Tokens-Remaining")?
        .to_str()
        .ok()?
        .parse()
        .ok()
}

#[tokio::test]
async fn bad_credentials_are_401_and_still_counted() {
    let api = Api::start(SimConfig {
        seed_orders_per_store: 5,
        ..SimConfig::sandbox()
    })
    .await;
    let url = format!("{}/test", api.sim.api_base());
    let expected = json!({ "status": "error", "message": "Invalid Store ID or API Key" });

    let wrong_key = api
        .http
        .get(&url)
        .header("ORDERDESK-STORE-ID", DEMO_STORE_ID)
        .header("ORDERDESK-API-KEY", "wrong")
        .send()
        .await
        .unwrap();
    assert_eq!(
        tokens(&wrong_key),
        Some(19),
        "a known store pays for a bad key"
    );
    assert_eq!(decode(wrong_key).await, (401, expected.clone()));

    let anonymous = api.http.get(&url).send().await.unwrap();
    assert_eq!(tokens(&anonymous), Some(20));
    assert_eq!(decode(anonymous).await, (401, expected.clone()));

    let unknown_store = api
        .http
        .get(&url)
        .header("ORDERDESK-STORE-ID", "999")
        .header("ORDERDESK-API-KEY", DEMO_API_KEY)
        .send()
        .await
        .unwrap();
    assert_eq!(decode(unknown_store).await, (401, expected));

    let ok = api.request(Method::GET, "/test").send().await.unwrap();
    assert_eq!(tokens(&ok), Some(18));
    assert_eq!(ok.status(), 200);
}

#[tokio::test]
async fn get_with_a_body_is_refused() {
    let api = Api::roomy().await;
    let (status, body) = send(api.request(Method::GET, "/orders").body("{\"limit\":5}")).await;
    assert_eq!(status, 400);
    assert_eq!(body["status"], "error");
    let (status, _) = send(api.request(Method::GET, "/orders")).await;
    assert_eq!(status, 200);
}

#[tokio::test]
async fn empty_bucket_answers_429_with_retry_after() {
    // roomy_config's bucket is huge; this test wants OrderDesk's real one.
    let api = Api::start(SimConfig {
        bucket_capacity: 20,
        refill_per_sec: 3.0,
        seed_orders_per_store: 5,
        ..roomy_config()
    })
    .await;

    let mut limited = 0;
    let mut remaining = Vec::new();
    for n in 0..25 {
        let response = api.request(Method::GET, "/test").send().await.unwrap();
        remaining.push(tokens(&response).expect("every response has X-Tokens-Remaining"));
        // Refill only ever adds, so the first 20 pass whatever the machine's speed.
        if n < 20 {
            assert_eq!(response.status(), 200, "request {n}");
        }
        if response.status() == 429 {
            limited += 1;
            let retry: u64 = response.headers()["X-Retry-After"]
                .to_str()
                .unwrap()
                .parse()
                .unwrap();
            assert!(retry >= 1);
            let (_, body) = decode(response).await;
            assert_eq!(
                body,
                json!({ "status": "error", "message": "Rate limit exceeded" })
            );
        }
    }
    // At 3 tokens a second the last five requests would need 1.7 s to all get through.
    assert!(limited >= 1, "none of 25 limited; tokens {remaining:?}");
    assert_eq!(remaining[0], 19);

    // Buckets are per store.
    let other = api
        .http
        .get(format!("{}/test", api.sim.api_base()))
        .header("ORDERDESK-STORE-ID", OTHER_STORE_ID)
        .header("ORDERDESK-API-KEY", OTHER_API_KEY)
        .send()
        .await
        .unwrap();
    assert_eq!(other.status(), 200);

    // At 3 tokens a second, one is back within 400 ms.
    tokio::time::sleep(Duration::from_millis(400)).await;
    let (status, _) = send(api.request(Method::GET, "/test")).await;
    assert_eq!(status, 200);
}

#[tokio::test]
async fn status_faults_apply_exactly_n_times() {
    let api = Api::roomy().await;
    api.simulator()
        .inject_fault(Fault::new("/orders", FaultKind::Status(503), 2).with_method("GET"));
    for _ in 0..2 {
        let response = api
            .request(Method::GET, "/orders?limit=1")
            .send()
            .await
            .unwrap();
        assert!(tokens(&response).is_some());
        let (status, body) = decode(response).await;
        assert_eq!((status, body["status"].as_str()), (503, Some("error")));
        // Other methods and paths are untouched meanwhile.
        let (status, _) = api.get("/store").await;
        assert_eq!(status, 200);
    }
    let (status, _) = api.get("/orders?limit=1").await;
    assert_eq!(status, 200);

    api.simulator()
        .inject_fault(Fault::new("/api/v2/test", FaultKind::Status(429), 1));
    let response = api.request(Method::GET, "/test").send().await.unwrap();
    assert_eq!(response.status(), 429);
    assert_eq!(response.headers()["X-Retry-After"], "1");
}

#[tokio::test]
async fn delay_and_drop_faults() {
    let api = Api::roomy().await;
    api.simulator().inject_fault(Fault::new(
        "/test",
        FaultKind::Delay(Duration::from_millis(300)),
        1,
    ));
    let started = Instant::now();
    let (status, _) = api.get("/test").await;
    assert_eq!(status, 200);
    assert!(started.elapsed() >= Duration::from_millis(300));
    let started = Instant::now();
    api.get("/test").await;
    assert!(started.elapsed() < Duration::from_millis(300), "used up");

    api.simulator()
        .inject_fault(Fault::new("/orders", FaultKind::DropConnection, 1));
    let dropped = api.request(Method::GET, "/orders?limit=1").send().await;
    let error = dropped.expect_err("the connection is dropped without a response");
    assert!(!error.is_status());
    let (status, _) = api.get("/orders?limit=1").await;
    assert_eq!(status, 200, "only once");

    let log = api.simulator().request_log();
    let drop_entry = log
        .iter()
        .find(|r| r.path == "/api/v2/orders" && r.status == 0)
        .expect("the dropped request is logged with status 0");
    assert_eq!(drop_entry.query, "limit=1");
}

#[tokio::test]
async fn request_log_records_requests_but_never_the_key() {
    let api = Api::roomy().await;
    api.get("/orders?limit=2&folder_id=1004").await;
    api.send_json(Method::POST, "/orders", &json!({})).await;
    send(api.http.get(format!("{}/test", api.sim.api_base()))).await;

    let log = api.simulator().request_log();
    assert_eq!(log.len(), 3);
    assert_eq!(log[0].method, "GET");
    assert_eq!(log[0].path, "/api/v2/orders");
    assert_eq!(log[0].query, "limit=2&folder_id=1004");
    assert_eq!(log[0].store_id.as_deref(), Some(DEMO_STORE_ID));
    assert_eq!((log[0].status, log[0].had_body), (200, false));
    assert_eq!(
        (log[1].method.as_str(), log[1].status, log[1].had_body),
        ("POST", 422, true)
    );
    assert_eq!((log[2].store_id.as_deref(), log[2].status), (None, 401));
    assert!(!format!("{log:?}").contains(DEMO_API_KEY));

    api.simulator().clear_request_log();
    assert!(api.simulator().request_log().is_empty());
}

#[tokio::test]
async fn http_control_surface() {
    let api = Api::roomy().await;
    let control = |method: Method, path: &str| {
        api.http
            .request(method, format!("{}/_sim{path}", api.sim.base_url()))
    };

    let (status, _) = send(control(Method::POST, "/faults").json(&json!({
        "method": "GET", "path_prefix": "/store", "kind": "status", "status": 502, "times": 1
    })))
    .await;
    assert_eq!(status, 200);
    let (status, _) = send(control(Method::POST, "/faults").json(&json!({
        "path_prefix": "/store", "kind": "explode"
    })))
    .await;
    assert_eq!(status, 400);
    let (status, _) = api.get("/store").await;
    assert_eq!(status, 502);
    let (status, _) = api.get("/store").await;
    assert_eq!(status, 200);

    let (_, log) = send(control(Method::GET, "/requests")).await;
    let requests = log["requests"].as_array().unwrap();
    assert_eq!(requests.len(), 2, "control calls are not logged");
    assert_eq!(requests[0]["status"], 502);
    assert_eq!(requests[1]["store_id"], DEMO_STORE_ID);
    assert!(!log.to_string().contains(DEMO_API_KEY));
    send(control(Method::DELETE, "/requests")).await;
    assert!(api.simulator().request_log().is_empty());

    let order = &api.simulator().orders(DEMO_STORE_ID)[0];
    let id = order["id"].as_str().unwrap();
    let (status, raw) = send(control(
        Method::GET,
        &format!("/stores/{DEMO_STORE_ID}/orders/{id}"),
    ))
    .await;
    assert_eq!((status, &raw), (200, order));
    let (_, count) = send(control(
        Method::GET,
        &format!("/stores/{DEMO_STORE_ID}/order-count"),
    ))
    .await;
    assert_eq!(count["count"], 300);
    let (status, _) = send(control(Method::GET, "/stores/nope/order-count")).await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn shutdown_stops_the_server() {
    let api = Api::roomy().await;
    let url = format!("{}/test", api.sim.api_base());
    let Api { sim, http } = api;
    sim.shutdown();
    // The listener closes promptly; a fresh connection is refused.
    let fresh = reqwest::Client::new();
    let mut refused = false;
    for _ in 0..50 {
        if fresh.get(&url).send().await.is_err() {
            refused = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert!(refused);
    drop(http);
}

/// The product may mount `router()` in its own axum server; a drop fault must still
/// fail the exchange there (the response body errors, so hyper aborts the connection).
#[tokio::test]
async fn drop_fault_also_fails_under_plain_axum_serve() {
    let simulator = orderdesk_sim::Simulator::new(SimConfig {
        seed_orders_per_store: 5,
        ..roomy_config()
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let server = tokio::spawn(axum::serve(listener, simulator.router()).into_future());

    simulator.inject_fault(Fault::new("/test", FaultKind::DropConnection, 1));
    let client = reqwest::Client::new();
    let request = || {
        client
            .get(format!("http://{addr}/api/v2/test"))
            .header("ORDERDESK-STORE-ID", DEMO_STORE_ID)
            .header("ORDERDESK-API-KEY", DEMO_API_KEY)
    };
    let outcome = match request().send().await {
        Ok(response) => response.bytes().await.map(|_| ()),
        Err(error) => Err(error),
    };
    assert!(outcome.is_err(), "no complete response may arrive");
    assert_eq!(request().send().await.unwrap().status(), 200);
    server.abort();
}

/// The bucket runs on the tokio clock, so a client test can pause time instead of sleeping.
#[tokio::test(start_paused = true)]
async fn bucket_follows_a_paused_tokio_clock() {
    let api = Api::start(SimConfig {
        bucket_capacity: 3,
        refill_per_sec: 0.5,
        seed_orders_per_store: 5,
        ..roomy_config()
    })
    .await;
    for expected in [2, 1, 0] {
        let response = api.request(Method::GET, "/test").send().await.unwrap();
        assert_eq!(tokens(&response), Some(expected));
    }
    let refused = api.request(Method::GET, "/test").send().await.unwrap();
    assert_eq!(refused.status(), 429);
    assert_eq!(refused.headers()["X-Retry-After"], "2");

    tokio::time::advance(Duration::from_secs(2)).await;
    let response = api.request(Method::GET, "/test").send().await.unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(tokens(&response), Some(0));
}

/// What a test of a guarded update relies on: a change by any route moves the record's
/// `date_updated` (an item's or shipment's, its order's), and the control surface can
/// play another writer.
#[tokio::test]
async fn every_write_stamps_date_updated_and_so_does_another_writers_edit() {
    let api = Api::roomy().await;
    let orders = api.simulator().orders(DEMO_STORE_ID);
    let id = |order: &serde_json::Value| order["id"].as_str().unwrap().to_string();
    let has = |order: &serde_json::Value, list: &str| {
        order[list].as_array().is_some_and(|l| !l.is_empty())
    };
    // A different order for each write: two writes within a second stamp the same date.
    let with_shipment = orders
        .iter()
        .find(|o| has(o, "order_shipments"))
        .expect("the seed has shipped orders");
    let with_items: Vec<_> = orders
        .iter()
        .filter(|o| has(o, "order_items") && o["id"] != with_shipment["id"])
        .collect();
    let date = |order_id: &str| {
        api.simulator()
            .stored_order(DEMO_STORE_ID, order_id)
            .unwrap()["date_updated"]
            .clone()
    };

    let order = with_items[0];
    let before = date(&id(order));
    let (status, _) = api
        .send_json(Method::PUT, &format!("/orders/{}", id(order)), order)
        .await;
    assert_eq!(status, 200);
    assert_ne!(date(&id(order)), before, "PUT /orders/{{id}}");

    let order = with_items[1];
    let before = date(&id(order));
    let item = &order["order_items"][0];
    let path = format!(
        "/orders/{}/order-items/{}",
        id(order),
        item["id"].as_str().unwrap()
    );
    assert_eq!(api.send_json(Method::PUT, &path, item).await.0, 200);
    assert_ne!(date(&id(order)), before, "PUT of an item stamps its order");

    let before = date(&id(with_shipment));
    let shipment = &with_shipment["order_shipments"][0];
    let path = format!(
        "/orders/{}/shipments/{}",
        id(with_shipment),
        shipment["id"].as_str().unwrap()
    );
    assert_eq!(api.send_json(Method::PUT, &path, shipment).await.0, 200);
    assert_ne!(
        date(&id(with_shipment)),
        before,
        "PUT of a shipment stamps its order"
    );

    let item = api.simulator().inventory_items(DEMO_STORE_ID).remove(0);
    let path = format!("/inventory-items/{}", item["id"].as_str().unwrap());
    let (status, body) = api.send_json(Method::PUT, &path, &item).await;
    assert_eq!(status, 200);
    assert_ne!(body["inventory_item"]["date_updated"], item["date_updated"]);

    let order = with_items[2];
    let before = date(&id(order));
    let url = format!(
        "{}/_sim/stores/{DEMO_STORE_ID}/orders/{}",
        api.sim.base_url(),
        id(order)
    );
    let (status, edited) = send(
        api.http
            .put(&url)
            .json(&json!({"email": "other@example.org", "id": "1"})),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(edited["email"], "other@example.org");
    assert_eq!(edited["id"], order["id"], "an edit never changes the id");
    assert_ne!(edited["date_updated"], before);
    assert_eq!(
        api.simulator()
            .stored_order(DEMO_STORE_ID, &id(order))
            .unwrap(),
        edited
    );
}
