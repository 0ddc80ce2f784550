//! The model against OrderDesk's real payload shapes (copies of the shared fixtures).

use order_model::validate::{
    ORDER_EXAMPLE, validate_batch_shipments, validate_changes, validate_new_item,
    validate_new_order, validate_new_shipment,
};
use order_model::{ErrorEnvelope, Order, OrderList, deep_merge};
use serde_json::{Value, json};

const ORDER_FULL: &str = include_str!("fixtures/order-full.json");
const ORDER_QUIRKS: &str = include_str!("fixtures/order-php-quirks.json");
const LIST_ENVELOPE: &str = include_str!("fixtures/list-envelope.json");
const ERRORS: &str = include_str!("fixtures/errors.json");

fn value(text: &str) -> Value {
    serde_json::from_str(text).unwrap()
}

/// Read through the model, write back as text, read again: the same JSON value.
fn round_trip<T: serde::de::DeserializeOwned + serde::Serialize>(text: &str) -> Value {
    let record: T = serde_json::from_str(text).unwrap();
    value(&serde_json::to_string(&record).unwrap())
}

#[test]
fn every_order_fixture_round_trips_exactly() {
    for text in [ORDER_FULL, ORDER_QUIRKS] {
        assert_eq!(round_trip::<Order>(text), value(text));
    }
}

#[test]
fn round_trip_keeps_php_spellings() {
    let back = round_trip::<Order>(ORDER_QUIRKS);
    assert_eq!(back["checkout_data"], json!([]));
    assert_eq!(back["order_items"][0]["variation_list"], json!([]));
    assert_eq!(back["email_count"], json!("10"));
    assert_eq!(back["shipping_total"], json!("0.00"));
    assert_eq!(back["order_total"], json!(40));
    let full = round_trip::<Order>(ORDER_FULL);
    assert_eq!(full["weight_total"], json!("2.50"));
    assert_eq!(full["shipping_carrier_preference"], json!("fastest"));
}

#[test]
fn list_and_error_fixtures_round_trip_exactly() {
    assert_eq!(round_trip::<OrderList>(LIST_ENVELOPE), value(LIST_ENVELOPE));
    let errors = value(ERRORS);
    for (name, sample) in errors.as_object().unwrap() {
        let body = sample.get("body").unwrap_or(sample).clone();
        let envelope = ErrorEnvelope::from_value(body.clone()).unwrap();
        assert!(envelope.is_error(), "{name}");
        assert!(envelope.message().is_some(), "{name}");
        assert_eq!(envelope.into_value(), body, "{name}");
    }
    let validation = ErrorEnvelope::from_value(errors["validation_422"].clone()).unwrap();
    assert_eq!(validation.errors(), vec!["order_items".to_string()]);
}

#[test]
fn lenient_reads_of_the_quirks() {
    let quirks = Order::from_json(ORDER_QUIRKS).unwrap();
    assert_eq!(quirks.id().as_deref(), Some("7022496"));
    assert_eq!(quirks.folder_id(), Some(26401));
    assert_eq!(quirks.integer("email_count"), Some(10));
    assert_eq!(quirks.number("shipping_total"), Some(0.0));
    assert_eq!(quirks.order_total(), Some(40.0));
    assert!(quirks.checkout_data().is_empty());
    assert!(quirks.order_metadata().is_empty());
    assert!(quirks.shipments().is_empty());
    let items = quirks.items();
    assert_eq!(items.len(), 1);
    assert_eq!(items[0].id().as_deref(), Some("10698353"));
    assert!(items[0].variation_list().is_empty());
    assert_eq!(items[0].price(), Some(40.0));

    let full = Order::from_json(ORDER_FULL).unwrap();
    assert_eq!(full.order_total(), Some(85.29));
    assert_eq!(
        full.checkout_data()["Gift Message"],
        json!("Happy birthday!")
    );
    assert_eq!(full.items()[0].variation_list()["Color"], json!("White"));
    assert_eq!(
        full.shipments()[0].tracking_number().as_deref(),
        Some("9400111899223197428490")
    );
    assert!(full.shipping().names_someone());
}

#[test]
fn ids_read_as_numbers_or_strings() {
    let numeric = Order::from_value(json!({"id": 3344551, "folder_id": "1004"})).unwrap();
    assert_eq!(numeric.id().as_deref(), Some("3344551"));
    assert_eq!(numeric.folder_id(), Some(1004));
    let text = Order::from_value(json!({"id": "3344551", "folder_id": 1004})).unwrap();
    assert_eq!(text.id(), numeric.id());
    assert_eq!(text.folder_id(), numeric.folder_id());
    // A `[]` address is an empty address, not an error.
    let empty = Order::from_value(json!({"shipping": [], "order_metadata": []})).unwrap();
    assert!(!empty.shipping().names_someone());
    assert!(empty.order_metadata().is_empty());
    assert!(Order::from_value(json!([])).is_err());
    assert!(Order::from_json("not json").is_err());
}

#[test]
fn list_envelope_counts() {
    let list = OrderList::from_json(LIST_ENVELOPE).unwrap();
    assert_eq!(list.total_records(), Some(2));
    assert_eq!(list.records_returned(), 2);
    assert_eq!(list.offset(), Some(0));
    assert_eq!(list.limit(), Some(50));
    assert!(!list.has_more());
    let first_page = OrderList::from_value(json!({
        "total_records": "120", "records_returned": "50", "offset": "0", "orders": []
    }))
    .unwrap();
    assert!(first_page.has_more());
}

#[test]
fn nested_change_keeps_every_other_field() {
    let original = value(ORDER_FULL);
    let mut order = original.clone();
    deep_merge(&mut order, &json!({"shipping": {"address2": "Suite 5"}}));

    assert_eq!(order["shipping"]["address2"], json!("Suite 5"));
    assert_eq!(order["shipping"]["first_name"], json!("Sam"));
    assert_eq!(
        order["shipping"].as_object().unwrap().len(),
        original["shipping"].as_object().unwrap().len()
    );
    assert_eq!(order["shipping_carrier_preference"], json!("fastest"));
    // Everything else is untouched, byte for byte in value terms.
    let mut expected = original;
    expected["shipping"]["address2"] = json!("Suite 5");
    assert_eq!(order, expected);
}

#[test]
fn merge_removes_with_null_and_replaces_arrays() {
    let mut order = value(ORDER_FULL);
    deep_merge(
        &mut order,
        &json!({"tag_name": null, "discount_list": [], "order_metadata": {"channel": "phone"}}),
    );
    assert!(order.get("tag_name").is_none());
    assert_eq!(order["discount_list"], json!([]));
    assert_eq!(
        order["order_metadata"],
        json!({"fraud_protection_score": 0, "channel": "phone"})
    );
    assert_eq!(order["shipping_carrier_preference"], json!("fastest"));

    let mut quirks = value(ORDER_QUIRKS);
    deep_merge(&mut quirks, &json!({"checkout_data": {"PO": "4471"}}));
    assert_eq!(quirks["checkout_data"], json!({"PO": "4471"}));
    assert_eq!(quirks["order_metadata"], json!([]));
}

#[test]
fn the_example_order_is_valid_and_fixtures_too() {
    validate_new_order(&value(ORDER_EXAMPLE), "order").unwrap();
    validate_new_order(&value(ORDER_FULL), "order").unwrap();
    validate_new_order(&value(ORDER_QUIRKS), "order").unwrap();
}

#[test]
fn order_without_items_or_names_is_refused_with_an_example() {
    let error = validate_new_order(&json!({"email": "a@example.org"}), "order").unwrap_err();
    let message = error.to_string();
    assert!(
        message.contains("`order.order_items` must hold at least one item"),
        "{message}"
    );
    assert!(
        message.contains(
            "`order.shipping` or `order.customer` needs a first_name, last_name or company"
        ),
        "{message}"
    );
    assert!(message.contains("A minimal valid order: {"), "{message}");
    assert!(message.contains(ORDER_EXAMPLE), "{message}");

    let blank_names = json!({
        "order_items": [{"name": "x"}],
        "shipping": {"first_name": " ", "company": ""},
        "customer": []
    });
    let message = validate_new_order(&blank_names, "order")
        .unwrap_err()
        .to_string();
    assert!(message.contains("needs a first_name"), "{message}");

    let company_only = json!({"order_items": [{"name": "x"}], "customer": {"company": "Acme"}});
    validate_new_order(&company_only, "order").unwrap();

    let wrong_types = json!({"order_items": ["mug"], "shipping": "Jo"});
    let message = validate_new_order(&wrong_types, "order")
        .unwrap_err()
        .to_string();
    assert!(
        message.contains("`order.order_items[0]` must be an object, found a string"),
        "{message}"
    );
    assert!(
        message.contains("`order.shipping` must be an object"),
        "{message}"
    );

    let message = validate_new_order(&json!([1]), "order")
        .unwrap_err()
        .to_string();
    assert!(
        message.starts_with("`order` must be a JSON object, found a list"),
        "{message}"
    );
}

#[test]
fn items_and_shipments_are_checked() {
    validate_new_item(&json!({"name": "Mug"}), "item").unwrap();
    let message = validate_new_item(&json!({}), "item")
        .unwrap_err()
        .to_string();
    assert!(message.contains("`item` has no fields"), "{message}");
    assert!(message.contains("A minimal valid order item"), "{message}");

    validate_new_shipment(&json!({"tracking_number": "n/a"}), "shipment").unwrap();
    let message = validate_new_shipment(&json!({"carrier_code": "USPS"}), "shipment")
        .unwrap_err()
        .to_string();
    assert!(
        message.contains("`shipment.tracking_number` is required (use \"n/a\""),
        "{message}"
    );

    validate_batch_shipments(
        &json!([{"order_id": 1, "tracking_number": "x"}]),
        "shipments",
    )
    .unwrap();
    let message = validate_batch_shipments(
        &json!([{"tracking_number": "x"}, {"order_id": "2"}]),
        "shipments",
    )
    .unwrap_err()
    .to_string();
    assert!(
        message.contains("`shipments[0].order_id` is required"),
        "{message}"
    );
    assert!(
        message.contains("`shipments[1].tracking_number` is required"),
        "{message}"
    );
    let message = validate_batch_shipments(&json!([]), "shipments")
        .unwrap_err()
        .to_string();
    assert!(message.contains("at least one shipment"), "{message}");
}

#[test]
fn changes_may_not_touch_the_id() {
    let order = value(ORDER_FULL);
    let current = order.as_object().unwrap();
    validate_changes(
        &json!({"email": "x@example.org"}),
        "changes",
        current,
        &["id"],
    )
    .unwrap();
    // Naming the current id (as a number or string) changes nothing and is allowed.
    validate_changes(
        &json!({"id": 3344551, "tag_name": "x"}),
        "changes",
        current,
        &["id"],
    )
    .unwrap();
    let message = validate_changes(&json!({"id": "1"}), "changes", current, &["id"])
        .unwrap_err()
        .to_string();
    assert!(
        message.contains("`changes.id` cannot be changed"),
        "{message}"
    );
    let message = validate_changes(&json!({}), "changes", current, &["id"])
        .unwrap_err()
        .to_string();
    assert!(message.contains("names no field"), "{message}");
    let message = validate_changes(&json!([]), "changes", current, &["id"])
        .unwrap_err()
        .to_string();
    assert!(message.contains("must be a JSON object"), "{message}");
}
