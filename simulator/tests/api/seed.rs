//! Seed data: deterministic, per-store, and carrying OrderDesk's PHP quirks.

use orderdesk_sim::{DEMO_STORE_ID, SimConfig, Simulator};
use serde_json::Value;

use crate::common::{OTHER_STORE_ID, roomy_config};

#[test]
fn seed_is_deterministic_and_differs_per_store() {
    let one = Simulator::new(roomy_config());
    let two = Simulator::new(roomy_config());
    let demo = one.orders(DEMO_STORE_ID);
    assert_eq!(demo.len(), 300);
    assert_eq!(demo, two.orders(DEMO_STORE_ID));
    assert_eq!(
        serde_json::to_string(&demo).unwrap(),
        serde_json::to_string(&two.orders(DEMO_STORE_ID)).unwrap(),
        "same key order too"
    );
    let inventory = one.inventory_items(DEMO_STORE_ID);
    assert_eq!(inventory.len(), 12);
    assert_eq!(inventory, two.inventory_items(DEMO_STORE_ID));
    let first_id = inventory[0]["id"].as_str().unwrap();
    assert_eq!(
        one.stored_inventory_item(DEMO_STORE_ID, first_id).as_ref(),
        Some(&inventory[0])
    );
    assert_ne!(demo, one.orders(OTHER_STORE_ID));

    let smaller = Simulator::new(SimConfig {
        seed_orders_per_store: 12,
        ..SimConfig::sandbox()
    });
    assert_eq!(smaller.order_count(DEMO_STORE_ID), 12);
    assert!(one.orders("no-such-store").is_empty());
}

#[test]
fn seed_has_the_php_quirks() {
    let sim = Simulator::new(SimConfig::sandbox());
    let orders = sim.orders(DEMO_STORE_ID);
    let any = |test: &dyn Fn(&Value) -> bool| orders.iter().any(test);

    assert!(orders.iter().all(|o| o["id"].is_string()));
    assert!(any(&|o| o["order_total"].is_string()), "money as strings");
    assert!(any(&|o| o["order_total"].is_number()), "money as numbers");
    assert!(any(&|o| o["email_count"].is_string()));
    assert!(
        any(&|o| o["checkout_data"] == serde_json::json!([])),
        "empty map as []"
    );
    assert!(any(&|o| o["checkout_data"].is_object()));
    assert!(any(
        &|o| o["order_items"][0]["variation_list"] == serde_json::json!([])
    ));
    assert!(
        any(&|o| o.get("shipping_carrier_preference").is_some()),
        "undocumented field"
    );
    assert!(any(&|o| !o["order_shipments"]
        .as_array()
        .unwrap()
        .is_empty()));
    for order in &orders {
        let added = order["date_added"].as_str().unwrap();
        assert!(("2026-01-01".."2026-11-01").contains(&added), "{added}");
        assert!(order["date_updated"].as_str().unwrap() >= added);
        for shipment in order["order_shipments"].as_array().unwrap() {
            let fields = shipment.as_object().unwrap();
            assert!(fields.values().all(Value::is_string), "{shipment}");
        }
    }
}
