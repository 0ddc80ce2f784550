//! Views of records for an answer sized for an agent: a lean summary of each kind of
//! record, and a projection to the fields asked for.
//!
//! A summary keeps the fields a model needs to pick a record (ids, dates, who, how
//! much, where) under their own names — `shipping.city` stays at that path — and adds a
//! few counts (`item_count`, `tracking_count`). Numbers are read leniently and answered
//! as numbers; absent fields are left out rather than invented.

use serde_json::{Map, Value, json};

use crate::lenient;

/// The fields of an order summary, for descriptions.
pub const ORDER_SUMMARY_FIELDS: &str = "id, source_id, date_added, date_updated, email, \
                                        customer_name, order_total, folder_id, folder_name \
                                        (when OrderDesk sends it), payment_status, item_count \
                                        (line items), shipping {city, country}, \
                                        tracking_count (shipments recorded)";
/// The keys of an order summary.
pub const ORDER_SUMMARY_KEYS: &[&str] = &[
    "id",
    "source_id",
    "date_added",
    "date_updated",
    "email",
    "customer_name",
    "order_total",
    "folder_id",
    "folder_name",
    "payment_status",
    "item_count",
    "shipping",
    "tracking_count",
];
/// The fields of an order item summary.
pub const ITEM_SUMMARY_FIELDS: &str = "id, name, code, price, quantity";
/// The keys of an order item summary.
pub const ITEM_SUMMARY_KEYS: &[&str] = &["id", "name", "code", "price", "quantity"];
/// The fields of a shipment summary.
pub const SHIPMENT_SUMMARY_FIELDS: &str =
    "id, order_id, tracking_number, carrier_code, shipment_method, date_shipped";
/// The keys of a shipment summary.
pub const SHIPMENT_SUMMARY_KEYS: &[&str] = &[
    "id",
    "order_id",
    "tracking_number",
    "carrier_code",
    "shipment_method",
    "date_shipped",
];
/// The fields of an inventory item summary.
pub const INVENTORY_SUMMARY_FIELDS: &str = "id, name, code, price, stock";
/// The keys of an inventory item summary.
pub const INVENTORY_SUMMARY_KEYS: &[&str] = &["id", "name", "code", "price", "stock"];

/// What makes a dotted path (`shipping.first_name`, `order_items.code`): names of
/// letters, digits, `_` and `-`, joined by dots.
pub const PATH_PATTERN: &str = r"^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$";

/// Whether `path` is a dotted path (see [`PATH_PATTERN`]).
pub fn is_path(path: &str) -> bool {
    path.len() <= 200
        && path.split('.').all(|name| {
            !name.is_empty()
                && name
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
        })
}

/// The parts of `record` that `paths` name, plus its `id`, in the record's shape. A path
/// through a list applies to each element (`order_items.code` answers the code of every
/// item); a path that names nothing adds nothing.
///
/// ```
/// use order_model::views::project;
/// use serde_json::json;
///
/// let order = json!({"id": "7", "email": "jo@example.com",
///                    "shipping": {"first_name": "Jo", "city": "Springfield"},
///                    "order_items": [{"id": "1", "code": "MUG"}, {"id": "2", "code": "LID"}]});
/// assert_eq!(
///     project(&order, &["shipping.first_name", "order_items.code", "nope"]),
///     json!({"id": "7", "shipping": {"first_name": "Jo"},
///            "order_items": [{"code": "MUG"}, {"code": "LID"}]})
/// );
/// ```
pub fn project(record: &Value, paths: &[&str]) -> Value {
    let mut out = Value::Object(Map::new());
    if let Some(id) = record.get("id") {
        out["id"] = id.clone();
    }
    for path in paths {
        let names: Vec<&str> = path.split('.').collect();
        copy_path(record, &names, &mut out);
    }
    out
}

/// Copy what `names` reaches in `from` into `to`, creating the objects and lists on the
/// way; lists are walked element by element, in step with `to`'s elements.
fn copy_path(from: &Value, names: &[&str], to: &mut Value) {
    let Some((first, rest)) = names.split_first() else {
        *to = from.clone();
        return;
    };
    match from {
        Value::Array(elements) => {
            if !to.is_array() {
                *to = Value::Array(vec![Value::Object(Map::new()); elements.len()]);
            }
            if let Value::Array(targets) = to {
                for (element, target) in elements.iter().zip(targets.iter_mut()) {
                    copy_path(element, names, target);
                }
            }
        }
        Value::Object(fields) => {
            let Some(value) = fields.get(*first) else {
                return;
            };
            if !to.is_object() {
                *to = Value::Object(Map::new());
            }
            if let Value::Object(targets) = to {
                let target = targets.entry(first.to_string()).or_insert(Value::Null);
                copy_path(value, rest, target);
                // Nothing below matched (e.g. a scalar where an object was expected).
                let empty = |v: &Value| v.as_object().is_some_and(Map::is_empty);
                if (target.is_null() && !value.is_null()) || (empty(target) && !empty(value)) {
                    targets.remove(*first);
                }
            }
        }
        _ => {}
    }
}

/// Copy the fields named in `keys` that `record` has into `out`.
fn copy(record: &Value, keys: &[&str], out: &mut Map<String, Value>) {
    for key in keys {
        if let Some(value) = record.get(*key).filter(|v| !v.is_null()) {
            out.insert(key.to_string(), value.clone());
        }
    }
}

/// Copy the named fields, read as numbers (OrderDesk often sends `"12.50"`); a whole
/// number stays whole (`"2"` answers 2, not 2.0).
fn copy_numbers(record: &Value, keys: &[&str], out: &mut Map<String, Value>) {
    for key in keys {
        let value = record.get(*key);
        if let Some(whole) = value.and_then(lenient::integer) {
            out.insert(key.to_string(), json!(whole));
        } else if let Some(number) = value.and_then(lenient::number) {
            out.insert(key.to_string(), json!(number));
        }
    }
}

/// The record's id as text (OrderDesk sends ids as strings or numbers).
fn id_text(record: &Value, out: &mut Map<String, Value>, key: &str) {
    if let Some(id) = record.get(key).and_then(lenient::text) {
        out.insert(key.to_string(), json!(id));
    }
}

/// How many entries a list holds (PHP writes a keyed one as an object).
fn count(value: Option<&Value>) -> usize {
    match value {
        Some(Value::Array(list)) => list.len(),
        Some(Value::Object(map)) => map.len(),
        _ => 0,
    }
}

/// `first_name last_name`, else `company`, of an address block.
fn name_of(address: Option<&Value>) -> Option<String> {
    let address = address?;
    let part = |key: &str| address.get(key).and_then(lenient::non_empty_text);
    let name: Vec<String> = [part("first_name"), part("last_name")]
        .into_iter()
        .flatten()
        .collect();
    if name.is_empty() {
        part("company")
    } else {
        Some(name.join(" "))
    }
}

/// The summary of an order (see [`ORDER_SUMMARY_FIELDS`]). `customer_name` is the
/// billing customer's name (or company), else the shipping one's.
///
/// ```
/// use order_model::views::order_summary;
/// use serde_json::json;
///
/// let order = json!({"id": "7", "order_total": "40.00", "folder_id": "1004",
///                    "customer": [], "shipping": {"first_name": "Jo", "city": "Springfield",
///                    "country": "US", "address1": "12 Elm St"},
///                    "order_items": [{"id": "1"}], "order_shipments": []});
/// assert_eq!(
///     order_summary(&order),
///     json!({"id": "7", "customer_name": "Jo", "order_total": 40, "folder_id": 1004,
///            "item_count": 1, "shipping": {"city": "Springfield", "country": "US"},
///            "tracking_count": 0})
/// );
/// ```
pub fn order_summary(order: &Value) -> Value {
    let mut out = Map::new();
    id_text(order, &mut out, "id");
    copy(
        order,
        &["source_id", "date_added", "date_updated", "email"],
        &mut out,
    );
    if let Some(name) = name_of(order.get("customer")).or_else(|| name_of(order.get("shipping"))) {
        out.insert("customer_name".into(), json!(name));
    }
    copy_numbers(order, &["order_total"], &mut out);
    if let Some(folder) = order.get("folder_id").and_then(lenient::integer) {
        out.insert("folder_id".into(), json!(folder));
    }
    copy(order, &["folder_name", "payment_status"], &mut out);
    out.insert("item_count".into(), json!(count(order.get("order_items"))));
    if let Some(shipping) = order.get("shipping").and_then(lenient::map) {
        let mut ship_to = Map::new();
        for key in ["city", "country"] {
            if let Some(value) = shipping.get(key).and_then(lenient::non_empty_text) {
                ship_to.insert(key.into(), json!(value));
            }
        }
        if !ship_to.is_empty() {
            out.insert("shipping".into(), Value::Object(ship_to));
        }
    }
    out.insert(
        "tracking_count".into(),
        json!(count(order.get("order_shipments"))),
    );
    Value::Object(out)
}

/// The summary of an order item (see [`ITEM_SUMMARY_FIELDS`]).
pub fn item_summary(item: &Value) -> Value {
    let mut out = Map::new();
    id_text(item, &mut out, "id");
    copy(item, &["name", "code"], &mut out);
    copy_numbers(item, &["price", "quantity"], &mut out);
    Value::Object(out)
}

/// The summary of a shipment (see [`SHIPMENT_SUMMARY_FIELDS`]).
pub fn shipment_summary(shipment: &Value) -> Value {
    let mut out = Map::new();
    id_text(shipment, &mut out, "id");
    id_text(shipment, &mut out, "order_id");
    copy(
        shipment,
        &[
            "tracking_number",
            "carrier_code",
            "shipment_method",
            "date_shipped",
        ],
        &mut out,
    );
    Value::Object(out)
}

/// The summary of an inventory item (see [`INVENTORY_SUMMARY_FIELDS`]).
pub fn inventory_summary(item: &Value) -> Value {
    let mut out = Map::new();
    id_text(item, &mut out, "id");
    copy(item, &["name", "code"], &mut out);
    copy_numbers(item, &["price", "stock"], &mut out);
    Value::Object(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixture(name: &str) -> Value {
        let path = format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
    }

    #[test]
    fn a_projection_walks_lists_and_objects_and_keeps_the_id() {
        let order = json!({
            "id": 7,
            "shipping": {"first_name": "Jo", "city": "X"},
            "order_items": [{"id": "1", "code": "A", "metadata": {"k": 1}},
                            {"id": "2", "metadata": []}],
            "checkout_data": [],
            "email": null
        });
        assert_eq!(
            project(
                &order,
                &[
                    "order_items.code",
                    "order_items.metadata.k",
                    "shipping",
                    "email"
                ]
            ),
            json!({"id": 7,
                   "order_items": [{"code": "A", "metadata": {"k": 1}}, {"metadata": []}],
                   "shipping": {"first_name": "Jo", "city": "X"}, "email": null})
        );
        assert_eq!(
            project(
                &order,
                &["shipping.first_name.deeper", "checkout_data.gift"]
            ),
            json!({"id": 7, "checkout_data": []}),
            "a path through a scalar names nothing; a list is walked even when empty"
        );
        assert_eq!(project(&json!({"a": 1}), &["a"]), json!({"a": 1}));
    }

    #[test]
    fn paths_are_dotted_names() {
        assert!(is_path("shipping.first_name") && is_path("order_items.code"));
        for bad in ["", ".a", "a.", "a..b", "a b", "a[0]"] {
            assert!(!is_path(bad), "{bad}");
        }
    }

    #[test]
    fn summaries_read_php_quirks_and_invent_nothing() {
        let full = fixture("order-full.json");
        let summary = order_summary(&full);
        assert_eq!(summary["customer_name"], "Sam Chen");
        assert_eq!(summary["order_total"], 85.29);
        assert_eq!(summary["folder_id"], 1004);
        assert_eq!(summary["item_count"], 2);
        assert!(summary.get("folder_name").is_none());
        assert!(summary.to_string().len() * 4 < full.to_string().len());
        assert_eq!(
            order_summary(&json!({"id": 9, "customer": {"company": "Acme"}})),
            json!({"id": "9", "customer_name": "Acme", "item_count": 0, "tracking_count": 0})
        );
        assert_eq!(
            item_summary(
                &json!({"id": "1", "name": "Mug", "price": "14.99", "quantity": "2",
                                 "variation_list": {"Color": "White"}})
            ),
            json!({"id": "1", "name": "Mug", "price": 14.99, "quantity": 2})
        );
        assert_eq!(
            shipment_summary(&json!({"id": "5", "order_id": 7, "tracking_number": "n/a",
                                     "tracking_url": "https://…", "cost": "1.00"})),
            json!({"id": "5", "order_id": "7", "tracking_number": "n/a"})
        );
        assert_eq!(
            inventory_summary(&json!({"id": 70, "code": "MUG", "stock": "11", "price": "",
                                      "location": "A1"})),
            json!({"id": "70", "code": "MUG", "stock": 11})
        );
    }
}
