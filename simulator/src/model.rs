//! The shapes the simulator stores, with OrderDesk's PHP habits: string ids, numbers that
//! may be strings, empty maps serialised as `[]`.

use std::sync::LazyLock;

use serde_json::{Map, Value, json};

/// A JSON number or a numeric string, as PHP hands them out interchangeably.
pub fn number(value: &Value) -> Option<f64> {
    match value {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

/// A scalar as the text a PHP string comparison would see; `None` for structures.
pub fn scalar_text(value: &Value) -> Option<String> {
    match value {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(if *b { "1" } else { "" }.to_owned()),
        Value::Null => Some(String::new()),
        _ => None,
    }
}

/// Money the way OrderDesk prints it: `"74.97"`.
pub fn money(amount: f64) -> Value {
    // `+ 0.0` turns a negative zero into "0.00" rather than "-0.00".
    Value::String(format!("{:.2}", amount + 0.0))
}

/// A count as a plain integer when it is whole (quantities usually are).
pub fn count(amount: f64) -> Value {
    if amount.fract() == 0.0 && amount.abs() < 1e15 {
        json!(amount as i64)
    } else {
        json!(amount)
    }
}

/// PHP's `json_encode` of an empty associative array: `[]`.
pub fn empty_map() -> Value {
    Value::Array(Vec::new())
}

/// Recompute the order's item-derived totals after its items changed. Shipping, handling,
/// tax and discount are the merchant's numbers and stay as stored.
pub fn recalculate_totals(order: &mut Map<String, Value>) {
    let items = order
        .get("order_items")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let (mut products, mut quantity, mut weight) = (0.0, 0.0, 0.0);
    for item in &items {
        let qty = item.get("quantity").and_then(number).unwrap_or(0.0);
        products += qty * item.get("price").and_then(number).unwrap_or(0.0);
        weight += qty * item.get("weight").and_then(number).unwrap_or(0.0);
        quantity += qty;
    }
    let field = |name: &str| order.get(name).and_then(number).unwrap_or(0.0);
    let total = products + field("shipping_total") + field("handling_total") + field("tax_total")
        - field("discount_total");
    order.insert("product_total".into(), money(products));
    order.insert("quantity_total".into(), count(quantity));
    order.insert("weight_total".into(), money(weight));
    order.insert("order_total".into(), money(total));
}

/// An order item with OrderDesk's defaults under what the client sent, and the given id.
pub fn normalize_item(id: String, sent: &Map<String, Value>) -> Map<String, Value> {
    let mut item = Map::new();
    item.insert("id".into(), Value::String(id));
    let defaults = [
        ("name", json!("")),
        ("price", json!("0.00")),
        ("quantity", json!(1)),
        ("weight", json!("0.00")),
        ("code", json!("")),
        ("delivery_type", json!("ship")),
        ("category_code", json!("")),
        ("fulfillment_method", json!("")),
        ("variation_list", empty_map()),
        ("metadata", empty_map()),
    ];
    for (key, default) in defaults {
        item.insert(key.into(), sent.get(key).cloned().unwrap_or(default));
    }
    for (key, value) in sent {
        if key != "id" && !item.contains_key(key) {
            item.insert(key.clone(), value.clone());
        }
    }
    item
}

/// order-full.json: a filled order, including an undocumented field.
pub static FULL_TEMPLATE: LazyLock<Value> = LazyLock::new(|| {
    serde_json::from_str(include_str!("../fixtures/order-full.json"))
        .expect("fixtures/order-full.json is valid JSON")
});

/// order-php-quirks.json: a minimal order with numbers as numbers and empty maps as `[]`.
pub static QUIRKS_TEMPLATE: LazyLock<Value> = LazyLock::new(|| {
    serde_json::from_str(include_str!("../fixtures/order-php-quirks.json"))
        .expect("fixtures/order-php-quirks.json is valid JSON")
});

/// Every field of an order with its empty value, in OrderDesk's key order: what a created
/// order holds where the client sent nothing. Derived from the minimal fixture by blanking
/// every value (keys of the nested addresses kept).
pub fn blank_order() -> Map<String, Value> {
    fn blank(value: &Value) -> Value {
        match value {
            Value::String(_) => json!(""),
            Value::Number(_) => json!(0),
            Value::Bool(_) => json!(false),
            Value::Null => Value::Null,
            Value::Array(_) => json!([]),
            Value::Object(map) => {
                Value::Object(map.iter().map(|(k, v)| (k.clone(), blank(v))).collect())
            }
        }
    }
    let mut order: Map<String, Value> = QUIRKS_TEMPLATE
        .as_object()
        .map(|map| map.iter().map(|(k, v)| (k.clone(), blank(v))).collect())
        .unwrap_or_default();
    order.insert("payment_status".into(), json!("Approved"));
    order.insert("source_name".into(), json!("Order Desk"));
    order
}

/// The tracking page of well-known carriers, for shipments created without a URL.
pub fn tracking_url(carrier_code: &str, tracking_number: &str) -> String {
    let prefix = match carrier_code.to_ascii_lowercase().as_str() {
        "usps" => "https://tools.usps.com/go/TrackConfirmAction?tLabels=",
        "ups" => "https://www.ups.com/track?tracknum=",
        "fedex" => "https://www.fedex.com/fedextrack/?trknbr=",
        "dhl" => "https://www.dhl.com/en/express/tracking.html?AWB=",
        _ => return String::new(),
    };
    if tracking_number.is_empty() || tracking_number.eq_ignore_ascii_case("n/a") {
        return String::new();
    }
    format!("{prefix}{tracking_number}")
}

/// Every field of a shipment, as the strings OrderDesk stores them as.
pub const SHIPMENT_FIELDS: [&str; 14] = [
    "tracking_number",
    "carrier_code",
    "shipment_method",
    "weight",
    "cost",
    "status",
    "tracking_url",
    "label_format",
    "label_image",
    "order_items",
    "print_status",
    "cart_shipment_id",
    "date_shipped",
    "date_added",
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn totals_follow_items_and_accept_stringly_numbers() {
        let mut order = json!({
            "shipping_total": "8.95", "handling_total": 0, "tax_total": "6.37",
            "discount_total": "5.00",
            "order_items": [
                {"price": "14.99", "quantity": 2, "weight": "0.75"},
                {"price": 44.99, "quantity": "1", "weight": 1}
            ]
        });
        recalculate_totals(order.as_object_mut().unwrap());
        assert_eq!(order["product_total"], "74.97");
        assert_eq!(order["quantity_total"], 3);
        assert_eq!(order["weight_total"], "2.50");
        assert_eq!(order["order_total"], "85.29");
    }

    #[test]
    fn tracking_url_is_derived_for_known_carriers_only() {
        assert_eq!(
            tracking_url("USPS", "9400"),
            "https://tools.usps.com/go/TrackConfirmAction?tLabels=9400"
        );
        assert_eq!(tracking_url("Pigeon", "1"), "");
        assert_eq!(tracking_url("UPS", "n/a"), "");
    }
}
