//! The `orders` tools end to end: the real binary over stdio against the OrderDesk
//! simulator on loopback; each check reads the simulator's state, not the tool's answer.

#[path = "support/server.rs"]
mod server;

use orderdesk_sim::{
    DEMO_API_KEY, DEMO_STORE_ID, Fault, FaultKind, SimConfig, SimHandle, Simulator,
};
use rmcp::RoleClient;
use serde_json::{Value, json};
use server::{Launch, call, create_tenant, err, eventually, fixture, fresh_dir, ok};

fn posts(sim: &SimHandle, prefix: &str) -> usize {
    sim.simulator
        .request_log()
        .iter()
        .filter(|r| {
            let path = r.path.strip_prefix("/api/v2").unwrap_or(&r.path);
            r.method == "POST" && path == prefix
        })
        .count()
}

#[tokio::test]
async fn paging_over_a_date_range_yields_exactly_the_simulators_set() {
    let f = fixture("orders-paging").await;
    let (start, end) = ("2026-01-01", "2026-12-31 23:59:59");
    let expected: std::collections::BTreeSet<String> = f
        .sim
        .simulator
        .orders(DEMO_STORE_ID)
        .iter()
        .filter(|o| {
            let added = o["date_added"].as_str().unwrap_or("");
            added >= start && added <= end
        })
        .map(|o| {
            o["id"]
                .as_str()
                .map(str::to_string)
                .unwrap_or_else(|| o["id"].to_string())
        })
        .collect();
    assert!(expected.len() > 50, "the seed data has orders in the range");
    let mut seen = std::collections::BTreeSet::new();
    let mut offset = 0;
    loop {
        let page = ok(&call(
            &f.client,
            "orders_list",
            json!({"search_start_date": start, "search_end_date": end, "limit": 50, "offset": offset}),
        )
        .await);
        for order in page["orders"].as_array().unwrap() {
            let id = order["id"]
                .as_str()
                .map(str::to_string)
                .unwrap_or_else(|| order["id"].to_string());
            assert!(seen.insert(id), "an order came twice while paging");
        }
        match page["pagination"]["next_offset"].as_u64() {
            Some(next) => offset = next,
            None => break,
        }
    }
    assert_eq!(seen, expected);
}

#[tokio::test]
async fn list_arguments_are_validated_naming_the_field() {
    let f = fixture("orders-validation").await;
    let message = err(&call(&f.client, "orders_list", json!({"limit": 501})).await);
    assert!(message.contains("limit"), "{message}");
    let message = err(&call(&f.client, "orders_list", json!({"limit": "abc"})).await);
    assert!(message.contains("limit"), "{message}");
    assert!(
        !f.sim
            .simulator
            .request_log()
            .iter()
            .any(|r| r.path.ends_with("/orders") && r.method == "GET"),
        "invalid arguments never reach OrderDesk"
    );
}

#[tokio::test]
async fn create_get_update_note_delete_change_the_store_as_they_say() {
    let f = fixture("orders-crud").await;
    let created = ok(&call(
        &f.client,
        "orders_create",
        json!({"order": {
            "email": "jo@example.com",
            "shipping": {"first_name": "Jo", "last_name": "Rivera", "address1": "12 Elm St",
                         "city": "Springfield", "state": "IL", "postal_code": "62701", "country": "US"},
            "order_items": [{"name": "Canvas tote", "price": 40, "quantity": 1}]
        }}),
    )
    .await);
    let id = created["order"]["id"]
        .as_str()
        .map(str::to_string)
        .unwrap_or_else(|| created["order"]["id"].to_string());
    let stored = f
        .sim
        .simulator
        .stored_order(DEMO_STORE_ID, &id)
        .expect("the order exists in the store");
    assert_eq!(stored["shipping"]["city"], "Springfield");

    let got = ok(&call(&f.client, "orders_get", json!({"order_id": id})).await);
    assert_eq!(got["order"]["email"], "jo@example.com");

    // Update one nested field of a seeded order (which carries undocumented fields):
    // every other field, the undocumented ones included, stays as it was upstream.
    let seeded = f
        .sim
        .simulator
        .orders(DEMO_STORE_ID)
        .into_iter()
        .next()
        .unwrap();
    let seeded_id = seeded["id"]
        .as_str()
        .map(str::to_string)
        .unwrap_or_else(|| seeded["id"].to_string());
    ok(&call(
        &f.client,
        "orders_update",
        json!({"order_id": seeded_id, "changes": {"shipping": {"address2": "Suite 5"}}}),
    )
    .await);
    let after = f
        .sim
        .simulator
        .stored_order(DEMO_STORE_ID, &seeded_id)
        .unwrap();
    assert_eq!(after["shipping"]["address2"], "Suite 5");
    let (Value::Object(before_map), Value::Object(after_map)) = (&seeded, &after) else {
        panic!()
    };
    for (key, value) in before_map {
        if key == "shipping" || key == "date_updated" {
            continue;
        }
        assert_eq!(after_map.get(key), Some(value), "field `{key}` changed");
    }
    for (key, value) in seeded["shipping"].as_object().unwrap() {
        if key != "address2" {
            assert_eq!(&after["shipping"][key], value, "shipping.{key} changed");
        }
    }

    ok(&call(
        &f.client,
        "orders_add_note",
        json!({"order_id": id, "note": "called the customer"}),
    )
    .await);
    assert_eq!(posts(&f.sim, &format!("/orders/{id}/order-history")), 1);

    ok(&call(&f.client, "orders_delete", json!({"order_id": id})).await);
    assert!(
        f.sim.simulator.stored_order(DEMO_STORE_ID, &id).is_none(),
        "deleted upstream"
    );
}

#[tokio::test]
async fn a_503_on_create_is_sent_once_and_reported_as_outcome_unknown() {
    let f = fixture("orders-503").await;
    f.sim
        .simulator
        .inject_fault(Fault::new("/orders", FaultKind::Status(503), 1).with_method("POST"));
    let before = posts(&f.sim, "/orders");
    let message = err(&call(
        &f.client,
        "orders_create",
        json!({"order": {"shipping": {"first_name": "Jo"}, "order_items": [{"name": "Tote", "price": 1, "quantity": 1}]}}),
    )
    .await);
    assert_eq!(
        posts(&f.sim, "/orders") - before,
        1,
        "a POST is never retried blindly"
    );
    assert!(
        message.to_lowercase().contains("outcome unknown") || message.contains("may or may not"),
        "{message}"
    );
}

fn id_of(value: &Value) -> String {
    value["id"]
        .as_str()
        .map(str::to_string)
        .unwrap_or_else(|| value["id"].to_string())
}

/// A seeded order id of the demo store.
fn some_order(sim: &SimHandle) -> Value {
    sim.simulator
        .orders(DEMO_STORE_ID)
        .into_iter()
        .next()
        .unwrap()
}

#[tokio::test]
async fn move_sends_orders_to_the_named_folder() {
    let f = fixture("orders-move").await;
    let orders: Vec<String> = f
        .sim
        .simulator
        .orders(DEMO_STORE_ID)
        .iter()
        .take(2)
        .map(id_of)
        .collect();
    ok(&call(
        &f.client,
        "orders_move",
        json!({"order_ids": orders, "destination_folder_name": "Backordered"}),
    )
    .await);
    for id in &orders {
        let stored = f.sim.simulator.stored_order(DEMO_STORE_ID, id).unwrap();
        assert_eq!(
            stored["folder_id"].to_string().trim_matches('"'),
            "1006",
            "{id}"
        );
    }
    let message = err(&call(
        &f.client,
        "orders_move",
        json!({"order_ids": orders, "destination_folder_name": "No Such Folder"}),
    )
    .await);
    assert!(message.contains("Folder Not Found"), "{message}");
}

#[tokio::test]
async fn order_items_tools_change_the_stored_order() {
    let f = fixture("orders-items").await;
    let order_id = id_of(&some_order(&f.sim));
    let count = |sim: &SimHandle| {
        sim.simulator
            .stored_order(DEMO_STORE_ID, &order_id)
            .unwrap()["order_items"]
            .as_array()
            .unwrap()
            .len()
    };
    let before = count(&f.sim);
    let listed = ok(&call(&f.client, "order_items_list", json!({"order_id": order_id})).await);
    assert!(
        listed.to_string().matches("\"price\"").count() >= before,
        "{listed}"
    );

    ok(&call(
        &f.client,
        "order_items_create",
        json!({"order_id": order_id, "item": {"name": "Harness test mug", "price": 12.5, "quantity": 2}}),
    )
    .await);
    assert_eq!(count(&f.sim), before + 1);
    let stored = f
        .sim
        .simulator
        .stored_order(DEMO_STORE_ID, &order_id)
        .unwrap();
    let item = stored["order_items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["name"] == "Harness test mug")
        .unwrap()
        .clone();
    let item_id = id_of(&item);

    let got = ok(&call(
        &f.client,
        "order_items_get",
        json!({"order_id": order_id, "item_id": item_id}),
    )
    .await);
    assert!(got.to_string().contains("Harness test mug"), "{got}");

    ok(&call(
        &f.client,
        "order_items_update",
        json!({"order_id": order_id, "item_id": item_id, "changes": {"quantity": 3}}),
    )
    .await);
    let stored = f
        .sim
        .simulator
        .stored_order(DEMO_STORE_ID, &order_id)
        .unwrap();
    let updated = stored["order_items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| id_of(i) == item_id)
        .unwrap()
        .clone();
    assert_eq!(updated["quantity"].to_string().trim_matches('"'), "3");
    assert_eq!(updated["name"], "Harness test mug", "other fields kept");

    ok(&call(
        &f.client,
        "order_items_delete",
        json!({"order_id": order_id, "item_id": item_id}),
    )
    .await);
    assert_eq!(count(&f.sim), before);
}

#[tokio::test]
async fn shipments_tools_change_the_stored_order() {
    let f = fixture("orders-shipments").await;
    let orders: Vec<String> = f
        .sim
        .simulator
        .orders(DEMO_STORE_ID)
        .iter()
        .take(3)
        .map(id_of)
        .collect();
    let order_id = orders[0].clone();
    let shipments_of = |sim: &SimHandle, id: &str| -> Vec<Value> {
        sim.simulator.stored_order(DEMO_STORE_ID, id).unwrap()["order_shipments"]
            .as_array()
            .cloned()
            .unwrap_or_default()
    };
    let before = shipments_of(&f.sim, &order_id).len();
    ok(&call(
        &f.client,
        "shipments_create",
        json!({"order_id": order_id, "shipment": {"tracking_number": "1Z-HARNESS-1", "carrier_code": "UPS"}}),
    )
    .await);
    let after = shipments_of(&f.sim, &order_id);
    assert_eq!(after.len(), before + 1);
    let shipment = after
        .iter()
        .find(|s| s["tracking_number"] == "1Z-HARNESS-1")
        .unwrap()
        .clone();
    let shipment_id = id_of(&shipment);

    let listed = ok(&call(&f.client, "shipments_list", json!({"order_id": order_id})).await);
    assert!(listed.to_string().contains("1Z-HARNESS-1"), "{listed}");
    let got = ok(&call(
        &f.client,
        "shipments_get",
        json!({"order_id": order_id, "shipment_id": shipment_id}),
    )
    .await);
    assert!(got.to_string().contains("1Z-HARNESS-1"), "{got}");

    ok(&call(
        &f.client,
        "shipments_update",
        json!({"order_id": order_id, "shipment_id": shipment_id, "changes": {"tracking_number": "1Z-HARNESS-2"}}),
    )
    .await);
    let updated = shipments_of(&f.sim, &order_id)
        .into_iter()
        .find(|s| id_of(s) == shipment_id)
        .unwrap();
    assert_eq!(updated["tracking_number"], "1Z-HARNESS-2");
    assert_eq!(updated["carrier_code"], "UPS", "other fields kept");

    ok(&call(
        &f.client,
        "shipments_delete",
        json!({"order_id": order_id, "shipment_id": shipment_id}),
    )
    .await);
    assert_eq!(shipments_of(&f.sim, &order_id).len(), before);

    let batch: Vec<Value> = orders[1..]
        .iter()
        .map(|id| json!({"order_id": id, "tracking_number": format!("BATCH-{id}")}))
        .collect();
    ok(&call(
        &f.client,
        "shipments_batch_create",
        json!({"shipments": batch}),
    )
    .await);
    for id in &orders[1..] {
        let tracking = format!("BATCH-{id}");
        assert!(
            shipments_of(&f.sim, id)
                .iter()
                .any(|s| s["tracking_number"] == tracking.as_str()),
            "batch shipment of {id} stored"
        );
    }
    assert_eq!(posts(&f.sim, "/batch-shipments"), 1, "one batch request");
}

/// Counts `notifications/progress`.
#[derive(Clone, Default)]
struct ProgressCounter(std::sync::Arc<std::sync::atomic::AtomicUsize>);

impl rmcp::ClientHandler for ProgressCounter {
    async fn on_progress(
        &self,
        _params: rmcp::model::ProgressNotificationParam,
        _context: rmcp::service::NotificationContext<RoleClient>,
    ) {
        self.0.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    }
}

#[tokio::test]
async fn fetch_all_pages_through_a_range_and_reports_progress() {
    let dir = fresh_dir("orders-fetch-all");
    let sim = Simulator::spawn(SimConfig {
        seed_orders_per_store: 1_200,
        ..SimConfig::sandbox()
    })
    .await
    .unwrap();
    let (_, master_key) = create_tenant(&dir);
    let progress = ProgressCounter::default();
    let client = Launch::new(&dir)
        .env("ORDERDESK_API_BASE", sim.api_base())
        .env("ORDERDESK_MCP_MASTER_KEY", master_key)
        .start_with(progress.clone())
        .await;
    ok(&call(
        &client,
        "stores_register",
        json!({"store_id": DEMO_STORE_ID, "api_key": DEMO_API_KEY}),
    )
    .await);
    // 1,200 whole orders are ~3 MB of JSON: each fetch_all call stops under the host's
    // 1 MiB result limit and says where to continue; the calls together return every
    // order once.
    let (start, end) = ("2000-01-01", "2099-12-31");
    let mut seen = std::collections::BTreeSet::new();
    let mut offset = 0;
    let mut calls = 0;
    loop {
        let mut params = rmcp::model::CallToolRequestParams::new("orders_list").with_arguments(
            json!({"fetch_all": true, "view": "full", "search_start_date": start,
                   "search_end_date": end, "offset": offset})
            .as_object()
            .unwrap()
            .clone(),
        );
        params.meta = Some(rmcp::model::RequestMetaObject::with_progress_token(
            rmcp::model::ProgressToken(rmcp::model::NumberOrString::Number(calls)),
        ));
        let page = ok(&client.call_tool(params).await.unwrap());
        calls += 1;
        for order in page["orders"].as_array().unwrap() {
            assert!(seen.insert(id_of(order)), "an order came twice");
        }
        match page["pagination"]["next_offset"].as_u64() {
            Some(next) => {
                assert!(
                    page.to_string().contains("continue with offset"),
                    "the result says how to go on"
                );
                offset = next;
            }
            None => break,
        }
        assert!(calls < 20, "fetch_all must make progress");
    }
    let expected: std::collections::BTreeSet<String> = sim
        .simulator
        .orders(DEMO_STORE_ID)
        .iter()
        .map(id_of)
        .collect();
    assert_eq!(seen, expected);
    assert!(
        calls >= 3,
        "1,200 orders do not fit one result ({calls} calls)"
    );
    // The notifications are sent before each result but handled by the client on its
    // own task: wait until every page's report has arrived.
    eventually("progress reported for every page", async || {
        progress.0.load(std::sync::atomic::Ordering::SeqCst) >= calls as usize
    })
    .await;
}

#[tokio::test]
async fn reads_answer_each_view_within_the_output_schema_and_pages_fit_the_budget() {
    let f = fixture("orders-views").await;
    let order_id = id_of(&some_order(&f.sim));
    let range = json!({"search_start_date": "2000-01-01", "search_end_date": "2099-12-31"});
    let with = |extra: Value| {
        let mut arguments = range.clone();
        arguments
            .as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        arguments
    };
    // The default page of 50, in each view: what issue 15 measured (263 KB whole).
    let summary = ok(&call(&f.client, "orders_list", with(json!({"limit": 50}))).await);
    let full = ok(&call(
        &f.client,
        "orders_list",
        with(json!({"limit": 50, "view": "full"})),
    )
    .await);
    let fields = ok(&call(
        &f.client,
        "orders_list",
        with(json!({"limit": 50, "fields": ["shipping.first_name", "order_items.code"]})),
    )
    .await);
    assert_eq!(summary["view"], "summary");
    assert_eq!(full["view"], "full");
    assert_eq!(fields["view"], "fields");
    eprintln!(
        "orders_list limit 50: summary {} bytes ({} orders), full {} bytes ({} orders), \
         fields {} bytes",
        summary.to_string().len(),
        summary["orders"].as_array().unwrap().len(),
        full.to_string().len(),
        full["orders"].as_array().unwrap().len(),
        fields.to_string().len()
    );
    // 500 works in every view, each page within the budget, continuing where it stopped.
    for view in [
        json!({}),
        json!({"view": "full"}),
        json!({"fields": ["email"]}),
    ] {
        let mut arguments = with(view);
        arguments["limit"] = json!(500);
        let page = ok(&call(&f.client, "orders_list", arguments).await);
        assert!(
            page.to_string().len() <= 60 * 1024,
            "{}",
            page.to_string().len()
        );
        let kept = page["orders"].as_array().unwrap().len() as u64;
        if page["pagination"]["has_more"] == true {
            assert_eq!(page["pagination"]["next_offset"], kept);
        }
    }

    let got = ok(&call(&f.client, "orders_get", json!({"order_id": order_id})).await);
    assert!(got["order"]["item_count"].is_u64(), "{got}");
    // A cached answer says how old it is; fresh: true goes to OrderDesk (before any
    // write, which empties the store's cache).
    let again = ok(&call(&f.client, "orders_get", json!({"order_id": order_id})).await);
    assert!(again["cache_age_s"].is_u64(), "{again}");
    let fresh = ok(&call(
        &f.client,
        "orders_get",
        json!({"order_id": order_id, "fresh": true}),
    )
    .await);
    assert!(fresh.get("cache_age_s").is_none(), "{fresh}");
    ok(&call(
        &f.client,
        "orders_get",
        json!({"order_id": order_id, "view": "full", "fresh": true}),
    )
    .await);
    ok(&call(
        &f.client,
        "orders_get",
        json!({"order_id": order_id, "fields": ["customer", "order_items.price"]}),
    )
    .await);

    ok(&call(
        &f.client,
        "shipments_create",
        json!({"order_id": order_id, "shipment": {"tracking_number": "1Z999", "carrier_code": "UPS"}}),
    ).await);
    let shipments = ok(&call(&f.client, "shipments_list", json!({"order_id": order_id})).await);
    let shipment_id = id_of(&shipments["shipments"][0]);
    let items = ok(&call(
        &f.client,
        "order_items_list",
        json!({"order_id": order_id, "view": "full"}),
    )
    .await);
    let item_id = id_of(&items["order_items"][0]);
    for view in [
        json!({}),
        json!({"view": "full"}),
        json!({"fields": ["code"]}),
    ] {
        let mut one = view.clone();
        one["order_id"] = json!(order_id);
        ok(&call(&f.client, "order_items_list", one.clone()).await);
        ok(&call(&f.client, "shipments_list", one.clone()).await);
        one["item_id"] = json!(item_id);
        ok(&call(&f.client, "order_items_get", one.clone()).await);
        one.as_object_mut().unwrap().remove("item_id");
        one["shipment_id"] = json!(shipment_id);
        ok(&call(&f.client, "shipments_get", one).await);
    }

    // Writes answer within their schemas too, typed change sets accepted.
    ok(&call(
        &f.client,
        "orders_update",
        json!({"order_id": order_id, "changes": {"payment_status": "Captured",
                                                 "shipping": {"address2": "Suite 5"}}}),
    )
    .await);
    let refused = err(&call(
        &f.client,
        "orders_update",
        json!({"order_id": order_id, "changes": {"payment_status": "Paid"}}),
    )
    .await);
    assert!(refused.contains("payment_status"), "{refused}");
    ok(&call(
        &f.client,
        "shipments_update",
        json!({"order_id": order_id, "shipment_id": shipment_id,
               "changes": {"date_shipped": "2026-11-03"}}),
    )
    .await);
    ok(&call(
        &f.client,
        "order_items_update",
        json!({"order_id": order_id, "item_id": item_id, "changes": {"quantity": "2"}}),
    )
    .await);
    ok(&call(
        &f.client,
        "orders_add_note",
        json!({"order_id": order_id, "note": "checked"}),
    )
    .await);
}
