//! Write endpoints: orders, history, items, shipments, moves, inventory.

use orderdesk_sim::DEMO_STORE_ID;
use reqwest::Method;
use serde_json::{Value, json};

use crate::common::Api;

fn new_order() -> Value {
    json!({
        "email": "new.buyer@example.com",
        "shipping": { "first_name": "New", "last_name": "Buyer", "address1": "1 Test St" },
        "shipping_total": "5.00",
        "order_items": [
            { "name": "Ceramic mug", "code": "MUG-WHT", "price": "14.99", "quantity": 2 },
            { "name": "Sticker set", "code": "STKR-SET", "price": 5, "quantity": "1" }
        ],
        "shipping_carrier_preference": "cheapest"
    })
}

async fn create_order(api: &Api) -> Value {
    let (status, body) = api.send_json(Method::POST, "/orders", &new_order()).await;
    assert_eq!(status, 201, "{body}");
    body["order"].clone()
}

#[tokio::test]
async fn create_order_validates_and_fills_in() {
    let api = Api::roomy().await;
    let (status, body) = api
        .send_json(
            Method::POST,
            "/orders",
            &json!({ "email": "a@example.com" }),
        )
        .await;
    assert_eq!(status, 422);
    assert_eq!(body["status"], "error");
    assert_eq!(body["errors"], json!(["order_items", "shipping"]));
    assert!(body["message"].as_str().unwrap().contains("item"));

    let (status, body) = api
        .send_json(
            Method::POST,
            "/orders",
            &json!({ "customer": { "company": "Acme" }, "order_items": [{ "name": "x" }], "folder_id": 1 }),
        )
        .await;
    assert_eq!(status, 422);
    assert_eq!(body["errors"], json!(["folder_id"]));

    let before = api.simulator().order_count(DEMO_STORE_ID);
    let order = create_order(&api).await;
    assert_eq!(api.simulator().order_count(DEMO_STORE_ID), before + 1);
    let id = order["id"].as_str().expect("string id");
    assert_eq!(order["folder_id"], 1004, "no folder_id: the first folder");
    assert_eq!(order["source_name"], "Order Desk");
    assert_eq!(order["date_added"].as_str().unwrap().len(), 19);
    assert_eq!(order["date_added"], order["date_updated"]);
    assert_eq!(order["product_total"], "34.98");
    assert_eq!(order["quantity_total"], 3);
    assert_eq!(order["order_total"], "39.98");
    assert_eq!(order["shipping_carrier_preference"], "cheapest");
    assert_eq!(order["checkout_data"], json!([]));
    let item_ids: Vec<&str> = order["order_items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["id"].as_str().unwrap())
        .collect();
    assert_eq!(item_ids.len(), 2);
    assert_ne!(item_ids[0], item_ids[1]);
    assert_eq!(
        api.simulator().stored_order(DEMO_STORE_ID, id).unwrap(),
        order
    );

    let (status, fetched) = api.get(&format!("/orders/{id}")).await;
    assert_eq!(status, 200);
    assert_eq!(fetched["order"], order);
}

#[tokio::test]
async fn put_replaces_the_whole_record() {
    let api = Api::roomy().await;
    let id = api.simulator().orders(DEMO_STORE_ID)[7]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let (_, body) = api.get(&format!("/orders/{id}")).await;
    let mut order = body["order"].as_object().unwrap().clone();
    order.remove("tag_name");
    order.remove("id");
    order.insert("email".into(), json!("changed@example.com"));
    order.insert("x_custom".into(), json!({ "kept": true }));

    let (status, body) = api
        .send_json(Method::PUT, &format!("/orders/{id}"), &Value::Object(order))
        .await;
    assert_eq!(status, 200, "{body}");
    let stored = api.simulator().stored_order(DEMO_STORE_ID, &id).unwrap();
    assert_eq!(stored, body["order"]);
    assert_eq!(stored["id"], id.as_str(), "the id is kept");
    assert_eq!(stored["email"], "changed@example.com");
    assert_eq!(stored["x_custom"], json!({ "kept": true }));
    assert!(stored.get("tag_name").is_none(), "omitted fields are gone");

    // A minimal PUT leaves a minimal record.
    let (status, _) = api
        .send_json(
            Method::PUT,
            &format!("/orders/{id}"),
            &json!({ "email": "x@example.com" }),
        )
        .await;
    assert_eq!(status, 200);
    let stored = api.simulator().stored_order(DEMO_STORE_ID, &id).unwrap();
    let keys: Vec<&String> = stored.as_object().unwrap().keys().collect();
    assert_eq!(keys, ["id", "email", "date_updated"]);

    let (status, body) = api
        .send_json(
            Method::PUT,
            "/orders/1",
            &json!({ "email": "x@example.com" }),
        )
        .await;
    assert_eq!(
        (status, body["message"].as_str()),
        (404, Some("Order Not Found"))
    );
}

#[tokio::test]
async fn delete_order_removes_it() {
    let api = Api::roomy().await;
    let id = create_order(&api).await["id"].as_str().unwrap().to_owned();
    let (status, body) = send_empty(&api, Method::DELETE, &format!("/orders/{id}")).await;
    assert_eq!((status, body["status"].as_str()), (200, Some("success")));
    assert!(api.simulator().stored_order(DEMO_STORE_ID, &id).is_none());
    let (status, _) = send_empty(&api, Method::DELETE, &format!("/orders/{id}")).await;
    assert_eq!(status, 404);
}

async fn send_empty(api: &Api, method: Method, path: &str) -> (u16, Value) {
    crate::common::send(api.request(method, path)).await
}

#[tokio::test]
async fn history_notes_append_and_are_capped() {
    let api = Api::roomy().await;
    let id = create_order(&api).await["id"].as_str().unwrap().to_owned();
    let path = format!("/orders/{id}/order-history");
    let (status, body) = api
        .send_json(Method::POST, &path, &json!({ "note": "x".repeat(1801) }))
        .await;
    assert_eq!((status, body["status"].as_str()), (400, Some("error")));

    let (status, _) = api
        .send_json(
            Method::POST,
            &path,
            &json!({ "note": "Called the customer", "source_name": "Agent" }),
        )
        .await;
    assert_eq!(status, 200);
    let (status, _) = api
        .send_json(Method::POST, &path, &json!({ "note": "y".repeat(1800) }))
        .await;
    assert_eq!(status, 200);
    let stored = api.simulator().stored_order(DEMO_STORE_ID, &id).unwrap();
    let notes = stored["order_notes"].as_array().unwrap();
    assert_eq!(notes.len(), 2);
    assert_eq!(notes[0]["username"], "Agent");
    assert_eq!(notes[0]["content"], "Called the customer");
    assert_eq!(notes[0]["date_added"].as_str().unwrap().len(), 19);
}

#[tokio::test]
async fn item_changes_recalculate_totals() {
    let api = Api::roomy().await;
    let id = create_order(&api).await["id"].as_str().unwrap().to_owned();
    let base = format!("/orders/{id}/order-items");

    let (status, body) = api
        .send_json(
            Method::POST,
            &base,
            &json!({ "name": "Kettle", "price": "59.00", "quantity": 1 }),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    let item_id = body["order_item"]["id"].as_str().unwrap().to_owned();
    let order = api.simulator().stored_order(DEMO_STORE_ID, &id).unwrap();
    assert_eq!(order["product_total"], "93.98");
    assert_eq!(order["quantity_total"], 4);
    assert_eq!(order["order_total"], "98.98");

    let (status, body) = api
        .send_json(
            Method::PUT,
            &format!("{base}/{item_id}"),
            &json!({ "name": "Kettle", "price": "59.00", "quantity": 2 }),
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(body["order_item"]["id"], item_id.as_str());
    let order = api.simulator().stored_order(DEMO_STORE_ID, &id).unwrap();
    assert_eq!(order["product_total"], "152.98");

    let (status, body) = api.get(&format!("{base}/{item_id}")).await;
    assert_eq!(
        (status, body["order_item"]["quantity"].as_i64()),
        (200, Some(2))
    );
    let (status, body) = api.get(&base).await;
    assert_eq!(
        (status, body["order_items"].as_array().unwrap().len()),
        (200, 3)
    );

    let (status, _) = send_empty(&api, Method::DELETE, &format!("{base}/{item_id}")).await;
    assert_eq!(status, 200);
    let order = api.simulator().stored_order(DEMO_STORE_ID, &id).unwrap();
    assert_eq!(order["product_total"], "34.98");
    assert_eq!(order["order_total"], "39.98");
    let (status, body) = api.get(&format!("{base}/{item_id}")).await;
    assert_eq!((status, body["status"].as_str()), (404, Some("error")));
}

#[tokio::test]
async fn shipments_need_tracking_and_are_stored_as_strings() {
    let api = Api::roomy().await;
    let id = create_order(&api).await["id"].as_str().unwrap().to_owned();
    let base = format!("/orders/{id}/shipments");
    let (status, body) = api
        .send_json(Method::POST, &base, &json!({ "carrier_code": "UPS" }))
        .await;
    assert_eq!(status, 422);
    assert_eq!(body["errors"], json!(["tracking_number"]));

    let (status, body) = api
        .send_json(
            Method::POST,
            &base,
            &json!({ "tracking_number": 123456, "carrier_code": "UPS", "weight": 2.5, "cost": 8 }),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    let shipment = &body["shipment"];
    assert_eq!(shipment["tracking_number"], "123456");
    assert_eq!(shipment["weight"], "2.5");
    assert_eq!(shipment["cost"], "8");
    assert_eq!(shipment["order_id"], id.as_str());
    assert_eq!(shipment["store_id"], DEMO_STORE_ID);
    assert_eq!(
        shipment["tracking_url"],
        "https://www.ups.com/track?tracknum=123456"
    );
    let shipment_id = shipment["id"].as_str().unwrap().to_owned();

    let (status, body) = api
        .send_json(
            Method::PUT,
            &format!("{base}/{shipment_id}"),
            &json!({ "tracking_number": "n/a" }),
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(body["shipment"]["carrier_code"], "");
    let (_, list) = api.get(&base).await;
    assert_eq!(list["shipments"].as_array().unwrap().len(), 1);
    assert_eq!(list["shipments"][0]["tracking_number"], "n/a");
    let (status, _) = send_empty(&api, Method::DELETE, &format!("{base}/{shipment_id}")).await;
    assert_eq!(status, 200);
    let (status, _) = api.get(&format!("{base}/{shipment_id}")).await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn batch_shipments_accept_both_shapes_all_or_nothing() {
    let api = Api::roomy().await;
    let a = create_order(&api).await["id"].as_str().unwrap().to_owned();
    let b = create_order(&api).await["id"].as_str().unwrap().to_owned();

    let bare = json!([
        { "order_id": a, "tracking_number": "A1", "carrier_code": "USPS" },
        { "order_id": b, "tracking_number": "B1" }
    ]);
    let (status, body) = api.send_json(Method::POST, "/batch-shipments", &bare).await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(body["shipments"].as_array().unwrap().len(), 2);

    let wrapped = json!({ "shipments": [{ "order_id": a, "tracking_number": "A2" }] });
    let (status, _) = api
        .send_json(Method::POST, "/batch-shipments", &wrapped)
        .await;
    assert_eq!(status, 201);

    let bad = json!([
        { "order_id": b, "tracking_number": "B2" },
        { "order_id": "1", "tracking_number": "X" },
        { "tracking_number": "Y" }
    ]);
    let (status, body) = api.send_json(Method::POST, "/batch-shipments", &bad).await;
    assert_eq!(status, 422);
    assert_eq!(body["errors"].as_array().unwrap().len(), 2);

    let shipments = |id: &str| {
        api.simulator().stored_order(DEMO_STORE_ID, id).unwrap()["order_shipments"]
            .as_array()
            .unwrap()
            .len()
    };
    assert_eq!(
        (shipments(&a), shipments(&b)),
        (2, 1),
        "the bad batch added nothing"
    );
}

#[tokio::test]
async fn move_orders_by_folder_id_or_name() {
    let api = Api::roomy().await;
    let a = create_order(&api).await["id"].as_str().unwrap().to_owned();
    let b = create_order(&api).await["id"].as_str().unwrap().to_owned();
    let folder =
        |id: &str| api.simulator().stored_order(DEMO_STORE_ID, id).unwrap()["folder_id"].clone();

    let (status, body) = api
        .send_json(
            Method::POST,
            "/move-orders",
            &json!({ "order_id_list": [a, b], "destination_folder_id": 1005 }),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!((folder(&a), folder(&b)), (json!(1005), json!(1005)));

    let (status, _) = api
        .send_json(
            Method::POST,
            "/move-orders",
            &json!({ "order_id_list": [a], "destination_folder_name": "shipped" }),
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(folder(&a), json!(1007));

    for bad in [
        json!({ "order_id_list": [a], "destination_folder_id": 4242 }),
        json!({ "order_id_list": [a], "destination_folder_name": "Nowhere" }),
    ] {
        let (status, body) = api.send_json(Method::POST, "/move-orders", &bad).await;
        assert_eq!((status, body["status"].as_str()), (400, Some("error")));
    }
    assert_eq!(folder(&a), json!(1007));
}

#[tokio::test]
async fn inventory_items_crud() {
    let api = Api::roomy().await;
    let (status, body) = api
        .send_json(
            Method::POST,
            "/inventory-items",
            &json!({ "price": "1.00" }),
        )
        .await;
    assert_eq!(status, 422);
    assert_eq!(body["status"], "error");

    let (status, body) = api
        .send_json(
            Method::POST,
            "/inventory-items",
            &json!({ "name": "Dripper", "code": "DRIP-1", "stock": 4 }),
        )
        .await;
    assert_eq!(status, 201);
    let id = body["inventory_item"]["id"].as_str().unwrap().to_owned();
    assert_eq!(body["inventory_item"]["metadata"], json!([]));

    let (status, body) = api
        .send_json(
            Method::PUT,
            &format!("/inventory-items/{id}"),
            &json!({ "name": "Dripper", "stock": "9" }),
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(body["inventory_item"]["id"], id.as_str());
    let stored = api
        .simulator()
        .stored_inventory_item(DEMO_STORE_ID, &id)
        .unwrap();
    assert_eq!(stored["stock"], "9");
    assert!(stored.get("code").is_none(), "PUT replaces the record");

    let (status, body) = api
        .send_json(
            Method::PUT,
            "/batch-inventory-items",
            &json!([{ "id": id, "stock": 3 }, { "code": "mug-wht", "stock": 1 }]),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["inventory_items"].as_array().unwrap().len(), 2);
    assert_eq!(
        api.simulator()
            .stored_inventory_item(DEMO_STORE_ID, &id)
            .unwrap()["stock"],
        3
    );

    let (status, _) = send_empty(&api, Method::DELETE, &format!("/inventory-items/{id}")).await;
    assert_eq!(status, 200);
    let (status, body) = api.get(&format!("/inventory-items/{id}")).await;
    assert_eq!((status, body["status"].as_str()), (404, Some("error")));
}
