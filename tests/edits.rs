//! Issue 15's safe edits and bulk work, end to end: the real binary over stdio against
//! the OrderDesk simulator on loopback. Each check reads the simulator's state, not
//! only the tool's answer.

#[path = "support/server.rs"]
mod server;

use orderdesk_sim::{DEMO_STORE_ID, LoggedRequest, SimHandle};
use rmcp::model::CallToolResult;
use serde_json::{Value, json};
use server::{call, fixture, ok};

fn id_of(value: &Value) -> String {
    value["id"]
        .as_str()
        .map(str::to_string)
        .unwrap_or_else(|| value["id"].to_string())
}

/// The `error.kind` of an error result, and its message.
fn error_of(result: &CallToolResult) -> (String, String) {
    assert_eq!(result.is_error, Some(true), "{result:?}");
    let error = &result.structured_content.as_ref().unwrap()["error"];
    (
        error["kind"].as_str().unwrap().to_string(),
        error["message"].as_str().unwrap().to_string(),
    )
}

/// The simulator's logged requests with `method` to `path` (relative to `/api/v2`).
fn requests(sim: &SimHandle, method: &str, path: &str) -> Vec<LoggedRequest> {
    sim.simulator
        .request_log()
        .into_iter()
        .filter(|r| {
            let logged = r.path.strip_prefix("/api/v2").unwrap_or(&r.path);
            r.method == method && logged == path
        })
        .collect()
}

/// Ids of `n` seeded orders that have items.
fn seeded_orders(sim: &SimHandle, n: usize) -> Vec<Value> {
    sim.simulator
        .orders(DEMO_STORE_ID)
        .into_iter()
        .filter(|o| o["order_items"].as_array().is_some_and(|i| !i.is_empty()))
        .take(n)
        .collect()
}

/// The "done when": another writer changes the order between the model's read
/// and its update; the update is a conflict, sends no PUT, and the store keeps exactly
/// what the other writer left. Re-applied with the new date, it goes through.
#[tokio::test]
async fn an_edit_between_read_and_update_is_a_conflict_and_the_other_writers_version_stays() {
    let f = fixture("edits-conflict").await;
    let order_id = id_of(&seeded_orders(&f.sim, 1)[0]);
    let read = ok(&call(&f.client, "orders_get", json!({"order_id": order_id})).await);
    let read_date = read["order"]["date_updated"].as_str().unwrap().to_string();

    let theirs = f
        .sim
        .simulator
        .edit_order(
            DEMO_STORE_ID,
            &order_id,
            &json!({"email": "theirs@example.org", "tag_name": "Theirs"}),
        )
        .unwrap();
    let their_date = theirs["date_updated"].as_str().unwrap().to_string();
    assert_ne!(their_date, read_date, "the edit moved date_updated");

    let refused = call(
        &f.client,
        "orders_update",
        json!({"order_id": order_id, "changes": {"email": "mine@example.org"},
               "expected_date_updated": read_date}),
    )
    .await;
    let (kind, message) = error_of(&refused);
    assert_eq!(kind, "conflict", "{message}");
    assert!(
        message.contains(&read_date) && message.contains(&their_date),
        "{message}"
    );
    assert!(message.contains("orders_get"), "{message}");
    assert!(
        requests(&f.sim, "PUT", &format!("/orders/{order_id}")).is_empty(),
        "a conflict sends no PUT"
    );
    assert_eq!(
        f.sim
            .simulator
            .stored_order(DEMO_STORE_ID, &order_id)
            .unwrap(),
        theirs,
        "the store keeps exactly the other writer's version"
    );

    let reapplied = ok(&call(
        &f.client,
        "orders_update",
        json!({"order_id": order_id, "changes": {"email": "mine@example.org"},
               "expected_date_updated": their_date}),
    )
    .await);
    assert_eq!(reapplied["changed"], true);
    let stored = f
        .sim
        .simulator
        .stored_order(DEMO_STORE_ID, &order_id)
        .unwrap();
    assert_eq!(stored["email"], "mine@example.org");
    assert_eq!(stored["tag_name"], "Theirs", "their other change is kept");
}

/// Items carry no date_updated: theirs is checked against their order's.
#[tokio::test]
async fn an_item_update_is_checked_against_its_orders_date() {
    let f = fixture("edits-item-conflict").await;
    let order = seeded_orders(&f.sim, 1).remove(0);
    let order_id = id_of(&order);
    let item_id = id_of(&order["order_items"][0]);
    let read_date = order["date_updated"].as_str().unwrap().to_string();
    f.sim
        .simulator
        .edit_order(DEMO_STORE_ID, &order_id, &json!({"tag_name": "Theirs"}))
        .unwrap();
    let refused = call(
        &f.client,
        "order_items_update",
        json!({"order_id": order_id, "item_id": item_id, "changes": {"quantity": 9},
               "expected_date_updated": read_date}),
    )
    .await;
    assert_eq!(error_of(&refused).0, "conflict");
    let path = format!("/orders/{order_id}/order-items/{item_id}");
    assert!(requests(&f.sim, "PUT", &path).is_empty());
    assert!(
        requests(&f.sim, "GET", &path).is_empty(),
        "the item was not even read"
    );
}

#[tokio::test]
async fn adjust_stock_moves_the_stored_stock_by_the_delta() {
    let f = fixture("edits-adjust-stock").await;
    let item = f.sim.simulator.inventory_items(DEMO_STORE_ID).remove(0);
    let item_id = id_of(&item);
    let before = order_model_integer(&item["stock"]);
    let answer = ok(&call(
        &f.client,
        "inventory_adjust_stock",
        json!({"item_id": item_id, "delta": -3,
               "expected_date_updated": item["date_updated"]}),
    )
    .await);
    assert_eq!(answer["previous_stock"], before);
    assert_eq!(answer["stock"], before - 3);
    let stored = f
        .sim
        .simulator
        .stored_inventory_item(DEMO_STORE_ID, &item_id)
        .unwrap();
    assert_eq!(order_model_integer(&stored["stock"]), before - 3);
    assert_eq!(stored["name"], item["name"], "the rest of the item stays");

    // The item's date moved with the change: the old one is now a conflict.
    let stale = call(
        &f.client,
        "inventory_adjust_stock",
        json!({"item_id": item_id, "delta": 5, "expected_date_updated": "2000-01-01 00:00:00"}),
    )
    .await;
    assert_eq!(error_of(&stale).0, "conflict");
}

fn order_model_integer(value: &Value) -> i64 {
    value
        .as_i64()
        .or_else(|| value.as_str().and_then(|s| s.trim().parse().ok()))
        .unwrap_or_else(|| panic!("not a whole number: {value}"))
}

#[tokio::test]
async fn update_many_changes_each_order_and_reports_the_unknown_one_apart() {
    let f = fixture("edits-update-many").await;
    let orders = seeded_orders(&f.sim, 2);
    let (a, b) = (id_of(&orders[0]), id_of(&orders[1]));
    let answer = ok(&call(
        &f.client,
        "orders_update_many",
        json!({"updates": [
            {"order_id": a, "changes": {"tag_name": "Rush"}},
            {"order_id": "99999999", "changes": {"tag_name": "Rush"}},
            {"order_id": b, "changes": {"tag_name": "Rush"},
             "expected_date_updated": orders[1]["date_updated"]}
        ]}),
    )
    .await);
    assert_eq!(answer["complete"], true, "{answer}");
    assert_eq!(
        answer["summary"],
        json!({"requested": 3, "succeeded": 2, "failed": 1, "not_attempted": 0})
    );
    assert_eq!(answer["results"][1]["error"]["kind"], "not_found");
    for id in [&a, &b] {
        let stored = f.sim.simulator.stored_order(DEMO_STORE_ID, id).unwrap();
        assert_eq!(stored["tag_name"], "Rush");
    }
    assert_eq!(
        answer["results"][0]["date_updated"],
        f.sim.simulator.stored_order(DEMO_STORE_ID, &a).unwrap()["date_updated"]
    );
}

#[tokio::test]
async fn move_moves_the_known_orders_and_names_the_unknown_one() {
    let f = fixture("edits-move").await;
    let orders = seeded_orders(&f.sim, 2);
    let (a, b) = (id_of(&orders[0]), id_of(&orders[1]));
    let folder_of = |order: &Value| order["folder_id"].to_string().trim_matches('"').to_string();
    let (folder_id, folder_name) = f
        .sim
        .simulator
        .folders(DEMO_STORE_ID)
        .into_iter()
        .find(|(id, _)| orders.iter().all(|o| folder_of(o) != id.to_string()))
        .unwrap();
    let answer = ok(&call(
        &f.client,
        "orders_move",
        json!({"order_ids": [a, "99999999", b], "destination_folder_name": folder_name}),
    )
    .await);
    let statuses: Vec<&str> = answer["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["status"].as_str().unwrap())
        .collect();
    assert_eq!(statuses, ["moved", "failed", "moved"], "{answer}");
    assert_eq!(answer["results"][1]["error"]["kind"], "not_found");
    for id in [&a, &b] {
        let stored = f.sim.simulator.stored_order(DEMO_STORE_ID, id).unwrap();
        assert_eq!(folder_of(&stored), folder_id.to_string());
    }
    // The refused batch, then (after the folder's id and a read of each order) the
    // known orders again.
    assert_eq!(requests(&f.sim, "POST", "/move-orders").len(), 2);
}

#[tokio::test]
async fn inventory_update_many_sets_each_item_and_reports_the_unknown_one_apart() {
    let f = fixture("edits-inventory-many").await;
    let items = f.sim.simulator.inventory_items(DEMO_STORE_ID);
    let (a, b) = (&items[0], &items[1]);
    let answer = ok(&call(
        &f.client,
        "inventory_update_many",
        json!({"updates": [
            {"item_id": id_of(a), "changes": {"stock": 41}},
            {"item_id": "99999999", "changes": {"stock": 1}},
            {"code": b["code"], "changes": {"location": "Z-9"}}
        ]}),
    )
    .await);
    assert_eq!(answer["summary"]["succeeded"], 2, "{answer}");
    assert_eq!(answer["results"][1]["status"], "failed");
    let stored_a = f
        .sim
        .simulator
        .stored_inventory_item(DEMO_STORE_ID, &id_of(a))
        .unwrap();
    assert_eq!(order_model_integer(&stored_a["stock"]), 41);
    assert_eq!(stored_a["name"], a["name"], "fields not sent stay");
    let stored_b = f
        .sim
        .simulator
        .stored_inventory_item(DEMO_STORE_ID, &id_of(b))
        .unwrap();
    assert_eq!(stored_b["location"], "Z-9");
    // One refused batch, then each item alone.
    assert_eq!(requests(&f.sim, "PUT", "/batch-inventory-items").len(), 4);
}
