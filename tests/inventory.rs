//! The `inventory` tools end to end: the real binary over stdio against the OrderDesk
//! simulator on loopback; each check reads the simulator's state, not the tool's answer.

#[path = "support/server.rs"]
mod server;

use std::collections::BTreeSet;

use orderdesk_sim::{DEMO_STORE_ID, Fault, FaultKind, LoggedRequest, SimHandle};
use serde_json::{Value, json};
use server::{call, err, fixture, ok};

fn id_of(value: &Value) -> String {
    value["id"]
        .as_str()
        .map(str::to_string)
        .unwrap_or_else(|| value["id"].to_string())
}

/// The simulator's logged requests to `path` (relative to `/api/v2`) with `method`.
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

/// Every logged request whose path is below `/inventory-items`.
fn inventory_requests(sim: &SimHandle) -> usize {
    sim.simulator
        .request_log()
        .iter()
        .filter(|r| r.path.contains("/inventory-items"))
        .count()
}

#[tokio::test]
async fn list_paging_yields_exactly_the_simulators_set() {
    let f = fixture("inventory-paging").await;
    let expected: BTreeSet<String> = f
        .sim
        .simulator
        .inventory_items(DEMO_STORE_ID)
        .iter()
        .map(id_of)
        .collect();
    assert!(expected.len() > 5, "the seed data has an inventory");
    let mut seen = BTreeSet::new();
    let mut offset = 0;
    let mut pages = 0;
    loop {
        let page = ok(&call(
            &f.client,
            "inventory_list",
            json!({"limit": 5, "offset": offset}),
        )
        .await);
        pages += 1;
        let pagination = &page["pagination"];
        assert_eq!(pagination["total_records"], json!(expected.len()), "{page}");
        assert_eq!(pagination["offset"], json!(offset), "{page}");
        assert_eq!(pagination["limit"], 5, "{page}");
        assert_eq!(page["store_id"], DEMO_STORE_ID, "{page}");
        let items = page["inventory_items"].as_array().unwrap();
        assert_eq!(pagination["records_returned"], json!(items.len()));
        for item in items {
            assert!(seen.insert(id_of(item)), "an item came twice while paging");
        }
        match pagination["next_offset"].as_u64() {
            Some(next) => {
                assert_eq!(pagination["has_more"], true);
                offset = next;
            }
            None => {
                assert_eq!(pagination["has_more"], false);
                break;
            }
        }
    }
    assert_eq!(seen, expected);
    assert_eq!(pages, expected.len().div_ceil(5));
    let listed = requests(&f.sim, "GET", "/inventory-items");
    assert_eq!(listed.len(), pages, "one request per page");
    assert!(
        listed[0].query.contains("limit=5") && listed[0].query.contains("offset=0"),
        "{:?}",
        listed[0].query
    );

    // `code` is passed through as OrderDesk's filter: exactly the item with that SKU.
    let stored = f.sim.simulator.inventory_items(DEMO_STORE_ID);
    let sku = stored[3]["code"].as_str().unwrap().to_string();
    let by_code = ok(&call(
        &f.client,
        "inventory_list",
        json!({"code": sku, "view": "full"}),
    )
    .await);
    let found = by_code["inventory_items"].as_array().unwrap();
    assert_eq!(found.len(), 1, "{by_code}");
    assert_eq!(
        found[0], stored[3],
        "the listed item is the stored one, as stored"
    );
    assert_eq!(by_code["pagination"]["limit"], 50, "the default page size");
    assert_eq!(by_code["pagination"]["next_offset"], Value::Null);
    let last = requests(&f.sim, "GET", "/inventory-items").pop().unwrap();
    assert!(
        last.query.contains(&format!("code={sku}")),
        "{:?}",
        last.query
    );
}

#[tokio::test]
async fn invalid_arguments_name_the_field_and_never_reach_orderdesk() {
    let f = fixture("inventory-validation").await;
    let seeded = id_of(&f.sim.simulator.inventory_items(DEMO_STORE_ID)[0]);

    let message = err(&call(&f.client, "inventory_list", json!({"limit": 501})).await);
    assert!(message.contains("limit"), "{message}");
    let message = err(&call(&f.client, "inventory_list", json!({"limit": "abc"})).await);
    assert!(message.contains("limit"), "{message}");
    let message = err(&call(&f.client, "inventory_get", json!({"item_id": "../orders"})).await);
    assert!(message.contains("item_id"), "{message}");
    let message = err(&call(&f.client, "inventory_list", json!({"sku": "MUG-WHT"})).await);
    assert!(message.contains("sku"), "{message}");

    // A new item needs a name or a code: the message names them and shows an example.
    let message = err(&call(
        &f.client,
        "inventory_create",
        json!({"item": {"price": "1.00", "stock": 3}}),
    )
    .await);
    assert!(
        message.contains("item.name") && message.contains("item.code"),
        "{message}"
    );
    assert!(
        message.contains("A minimal valid inventory item"),
        "{message}"
    );
    let message = err(&call(
        &f.client,
        "inventory_create",
        json!({"item": {"name": "Mug", "stock": "plenty"}}),
    )
    .await);
    assert!(message.contains("item.stock"), "{message}");

    // Change sets are checked before the item is fetched.
    let message = err(&call(
        &f.client,
        "inventory_update",
        json!({"item_id": seeded, "changes": {"price": "free"}}),
    )
    .await);
    assert!(message.contains("changes.price"), "{message}");
    let message = err(&call(
        &f.client,
        "inventory_update",
        json!({"item_id": seeded, "changes": {}}),
    )
    .await);
    assert!(message.contains("changes"), "{message}");

    assert_eq!(
        inventory_requests(&f.sim),
        0,
        "invalid arguments never reach OrderDesk: {:?}",
        f.sim.simulator.request_log()
    );
}

#[tokio::test]
async fn get_reads_the_stored_item_and_reports_a_missing_one() {
    let f = fixture("inventory-get").await;
    let stored = f.sim.simulator.inventory_items(DEMO_STORE_ID)[2].clone();
    let id = id_of(&stored);
    let got = ok(&call(
        &f.client,
        "inventory_get",
        json!({"item_id": id, "view": "full"}),
    )
    .await);
    assert_eq!(got["inventory_item"], stored, "{got}");
    assert_eq!(got["store_id"], DEMO_STORE_ID);
    assert!(
        got.get("status").is_none(),
        "bookkeeping is stripped: {got}"
    );

    // The optional `store` argument names the store by name.
    let got = ok(&call(
        &f.client,
        "inventory_get",
        json!({"item_id": id, "store": "demo"}),
    )
    .await);
    assert_eq!(got["inventory_item"]["code"], stored["code"]);

    let message = err(&call(&f.client, "inventory_get", json!({"item_id": "999"})).await);
    assert!(
        message.contains("inventory item 999") && message.contains("inventory_list"),
        "{message}"
    );
    let message = err(&call(
        &f.client,
        "inventory_get",
        json!({"item_id": id, "store": "nope"}),
    )
    .await);
    assert!(message.contains("stores_list"), "{message}");
}

#[tokio::test]
async fn create_stores_the_item_with_every_field_sent() {
    let f = fixture("inventory-create").await;
    let before = f.sim.simulator.inventory_items(DEMO_STORE_ID).len();
    let created = ok(&call(
        &f.client,
        "inventory_create",
        json!({"item": {
            "name": "Pour-over dripper",
            "code": "DRIP-1",
            "price": "24.00",
            "stock": 7,
            "metadata": {"bin": "B-2"},
            "supplier_ref": "ACME-778"
        }}),
    )
    .await);
    let id = id_of(&created["inventory_item"]);
    let stored = f
        .sim
        .simulator
        .stored_inventory_item(DEMO_STORE_ID, &id)
        .expect("the item exists in the store");
    assert_eq!(stored["name"], "Pour-over dripper");
    assert_eq!(stored["code"], "DRIP-1");
    assert_eq!(stored["price"], "24.00");
    assert_eq!(stored["stock"], 7);
    assert_eq!(stored["metadata"], json!({"bin": "B-2"}));
    assert_eq!(
        stored["supplier_ref"], "ACME-778",
        "undocumented fields are sent"
    );
    assert_eq!(created["inventory_item"], stored);
    assert_eq!(
        f.sim.simulator.inventory_items(DEMO_STORE_ID).len(),
        before + 1
    );
    assert_eq!(requests(&f.sim, "POST", "/inventory-items").len(), 1);

    // A code alone is enough.
    let created = ok(&call(
        &f.client,
        "inventory_create",
        json!({"item": {"code": "FILTER-100"}}),
    )
    .await);
    let id = id_of(&created["inventory_item"]);
    let stored = f
        .sim
        .simulator
        .stored_inventory_item(DEMO_STORE_ID, &id)
        .unwrap();
    assert_eq!(stored["code"], "FILTER-100");
}

/// Assert that `after` holds every field of `before` unchanged except `changed` (and
/// OrderDesk's `date_updated`), and no field `before` lacked except those in `changed`.
fn assert_only_changed(before: &Value, after: &Value, changed: &[&str]) {
    let (Value::Object(before), Value::Object(after)) = (before, after) else {
        panic!("items are objects")
    };
    for (key, value) in before {
        if changed.contains(&key.as_str()) || key == "date_updated" {
            continue;
        }
        assert_eq!(after.get(key), Some(value), "field `{key}` changed");
    }
    for key in after.keys() {
        assert!(
            before.contains_key(key) || changed.contains(&key.as_str()),
            "field `{key}` appeared"
        );
    }
}

#[tokio::test]
async fn update_of_one_field_keeps_every_other_field() {
    let f = fixture("inventory-update").await;
    // An item carrying undocumented fields (OrderDesk adds fields no document lists).
    let created = ok(&call(
        &f.client,
        "inventory_create",
        json!({"item": {
            "name": "Pour-over dripper",
            "code": "DRIP-1",
            "price": "24.00",
            "stock": 7,
            "variation_list": {"Color": "White"},
            "metadata": {"bin": "B-2"},
            "supplier_ref": "ACME-778",
            "reorder": {"point": "3", "lead_days": 12, "vendors": ["acme", "brewco"]}
        }}),
    )
    .await);
    let id = id_of(&created["inventory_item"]);
    let before = f
        .sim
        .simulator
        .stored_inventory_item(DEMO_STORE_ID, &id)
        .unwrap();
    f.sim.simulator.clear_request_log();

    let updated = ok(&call(
        &f.client,
        "inventory_update",
        json!({"item_id": id, "changes": {"stock": 40}}),
    )
    .await);
    assert_eq!(updated["changed"], true, "{updated}");
    let after = f
        .sim
        .simulator
        .stored_inventory_item(DEMO_STORE_ID, &id)
        .unwrap();
    assert_eq!(after["stock"], 40);
    assert_only_changed(&before, &after, &["stock"]);
    assert_eq!(after["supplier_ref"], "ACME-778");
    assert_eq!(after["reorder"], before["reorder"]);
    assert_eq!(updated["inventory_item"], after);
    let path = format!("/inventory-items/{id}");
    assert_eq!(
        requests(&f.sim, "GET", &path).len(),
        1,
        "fetched fresh once"
    );
    assert_eq!(requests(&f.sim, "PUT", &path).len(), 1, "written back once");

    // Nested objects merge key by key; null removes a field.
    ok(&call(
        &f.client,
        "inventory_update",
        json!({"item_id": id, "changes": {"metadata": {"shelf": "3"}, "supplier_ref": null}}),
    )
    .await);
    let after_nested = f
        .sim
        .simulator
        .stored_inventory_item(DEMO_STORE_ID, &id)
        .unwrap();
    assert_eq!(
        after_nested["metadata"],
        json!({"bin": "B-2", "shelf": "3"})
    );
    assert!(after_nested.get("supplier_ref").is_none(), "{after_nested}");
    assert_only_changed(&after, &after_nested, &["metadata", "supplier_ref"]);

    // A seeded item with PHP's quirks (a string stock in some, `[]` for empty maps):
    // they go back exactly as they came.
    let seeded = f.sim.simulator.inventory_items(DEMO_STORE_ID)[0].clone();
    assert!(
        seeded["stock"].is_string(),
        "the first seeded item has a string stock"
    );
    let seeded_id = id_of(&seeded);
    ok(&call(
        &f.client,
        "inventory_update",
        json!({"item_id": seeded_id, "changes": {"price": "99.00"}}),
    )
    .await);
    let seeded_after = f
        .sim
        .simulator
        .stored_inventory_item(DEMO_STORE_ID, &seeded_id)
        .unwrap();
    assert_eq!(seeded_after["price"], "99.00");
    assert_only_changed(&seeded, &seeded_after, &["price"]);

    // The same change again sends nothing; the id cannot change; an item keeps a name
    // or a code.
    f.sim.simulator.clear_request_log();
    let same = ok(&call(
        &f.client,
        "inventory_update",
        json!({"item_id": seeded_id, "changes": {"price": "99.00"}}),
    )
    .await);
    assert_eq!(same["changed"], false, "{same}");
    let message = err(&call(
        &f.client,
        "inventory_update",
        json!({"item_id": seeded_id, "changes": {"id": "1"}}),
    )
    .await);
    assert!(message.contains("changes.id"), "{message}");
    let message = err(&call(
        &f.client,
        "inventory_update",
        json!({"item_id": seeded_id, "changes": {"name": null, "code": null}}),
    )
    .await);
    assert!(
        message.contains("name") && message.contains("code"),
        "{message}"
    );
    assert!(
        requests(&f.sim, "PUT", &format!("/inventory-items/{seeded_id}")).is_empty(),
        "refused or empty changes are never written"
    );

    let message = err(&call(
        &f.client,
        "inventory_update",
        json!({"item_id": "999", "changes": {"stock": 1}}),
    )
    .await);
    assert!(message.contains("inventory item 999"), "{message}");
}

#[tokio::test]
async fn delete_removes_the_item() {
    let f = fixture("inventory-delete").await;
    let items = f.sim.simulator.inventory_items(DEMO_STORE_ID);
    let id = id_of(&items[5]);
    let deleted = ok(&call(&f.client, "inventory_delete", json!({"item_id": id})).await);
    assert_eq!(deleted["deleted"], true, "{deleted}");
    assert_eq!(deleted["item_id"], id.as_str());
    assert!(
        f.sim
            .simulator
            .stored_inventory_item(DEMO_STORE_ID, &id)
            .is_none(),
        "deleted upstream"
    );
    assert_eq!(
        f.sim.simulator.inventory_items(DEMO_STORE_ID).len(),
        items.len() - 1,
        "only that item"
    );
    let message = err(&call(&f.client, "inventory_get", json!({"item_id": id})).await);
    assert!(message.contains("not found"), "{message}");
    let message = err(&call(&f.client, "inventory_delete", json!({"item_id": id})).await);
    assert!(message.contains("not found"), "{message}");
}

#[tokio::test]
async fn a_503_on_create_is_sent_once_and_reported_as_outcome_unknown() {
    let f = fixture("inventory-503").await;
    f.sim.simulator.inject_fault(
        Fault::new("/inventory-items", FaultKind::Status(503), 1).with_method("POST"),
    );
    let before = f.sim.simulator.inventory_items(DEMO_STORE_ID).len();
    let message = err(&call(
        &f.client,
        "inventory_create",
        json!({"item": {"name": "Dripper", "code": "DRIP-9"}}),
    )
    .await);
    assert_eq!(
        requests(&f.sim, "POST", "/inventory-items").len(),
        1,
        "a POST is never retried blindly"
    );
    assert!(
        message.to_lowercase().contains("outcome unknown") || message.contains("may or may not"),
        "{message}"
    );
    assert!(
        message.contains("inventory_list") && message.contains("before retrying"),
        "{message}"
    );
    assert!(
        message.contains("DRIP-9"),
        "the check names the SKU: {message}"
    );
    assert_eq!(
        f.sim.simulator.inventory_items(DEMO_STORE_ID).len(),
        before,
        "the faulted request was not applied"
    );
}

#[tokio::test]
async fn reads_answer_each_view_within_the_output_schema() {
    let f = fixture("inventory-views").await;
    let mut ids = Vec::new();
    for view in [
        json!({}),
        json!({"view": "full"}),
        json!({"fields": ["stock", "metadata"]}),
    ] {
        let mut arguments = view.clone();
        arguments["limit"] = json!(500);
        let page = ok(&call(&f.client, "inventory_list", arguments).await);
        assert!(page.to_string().len() <= 60 * 1024);
        ids.push(page["inventory_items"][0]["id"].clone());
        let mut one = view;
        one["item_id"] = json!(
            ids[0]
                .as_str()
                .map_or_else(|| ids[0].to_string(), str::to_string)
        );
        let got = ok(&call(&f.client, "inventory_get", one).await);
        assert!(got["inventory_item"]["id"].is_string() || got["inventory_item"]["id"].is_number());
    }
    let item_id = ids[0]
        .as_str()
        .map_or_else(|| ids[0].to_string(), str::to_string);
    let cached = ok(&call(&f.client, "inventory_get", json!({"item_id": item_id})).await);
    assert!(cached["cache_age_s"].is_u64(), "{cached}");
    ok(&call(
        &f.client,
        "inventory_update",
        json!({"item_id": item_id, "changes": {"stock": "12", "location": null}}),
    )
    .await);
    ok(&call(
        &f.client,
        "inventory_create",
        json!({"item": {"name": "Views mug", "code": "VIEWS-1", "price": 3}}),
    )
    .await);
}
