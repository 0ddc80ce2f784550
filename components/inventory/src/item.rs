//! What OrderDesk requires of an inventory item, checked before a request is sent, with
//! messages that name the field and show a minimal valid example.
//!
//! An item needs a `name` or a `code` (the SKU that OrderDesk matches against the
//! `code` of order items). The documented fields are checked for their kind; every
//! other field passes through untouched, so nothing OrderDesk adds is refused or lost.

use order_model::lenient;
use orderdesk_store_api::Update;
use serde_json::{Map, Value};

/// A minimal item `POST /inventory-items` accepts.
pub const ITEM_EXAMPLE: &str =
    r#"{"name":"Ceramic mug","code":"MUG-WHT","price":"12.00","stock":25}"#;

/// The item fields described to the model, one line.
pub const ITEM_FIELDS: &str = "name, code (the SKU, matched against the code of order \
                               items), price, cost, weight, stock (quantity on hand), \
                               location, manufacturer_sku, metadata {…} and variation_list \
                               {…}";

/// Fields holding a number (OrderDesk also writes them as numeric strings).
const NUMBERS: &[&str] = &["price", "cost", "weight", "stock"];
/// Fields holding text (a number is taken as its text, e.g. a numeric SKU).
const TEXTS: &[&str] = &["name", "code", "location", "manufacturer_sku"];
/// Fields holding a map (`[]` is PHP's empty map).
const MAPS: &[&str] = &["metadata", "variation_list"];

/// Problems with the documented fields of `fields`. With `removable`, `null` (which
/// removes a field in a change set) is allowed.
fn field_problems(fields: &Map<String, Value>, prefix: &str, removable: bool) -> Vec<String> {
    let mut problems = Vec::new();
    for (key, value) in fields {
        if removable && value.is_null() {
            continue;
        }
        let key = key.as_str();
        let expected = if NUMBERS.contains(&key) && lenient::number(value).is_none() {
            Some("a number (e.g. 12.5 or \"12.50\")")
        } else if TEXTS.contains(&key) && lenient::text(value).is_none() {
            Some("text")
        } else if MAPS.contains(&key) && lenient::map(value).is_none() {
            Some("an object of names to values (e.g. {\"Color\": \"White\"})")
        } else {
            None
        };
        if let Some(expected) = expected {
            problems.push(format!(
                "`{prefix}.{key}` must be {expected}, found {}",
                describe(value)
            ));
        }
    }
    problems
}

fn describe(value: &Value) -> String {
    match value {
        Value::String(s) => format!("{s:?}"),
        other => lenient::kind(other).to_string(),
    }
}

/// Whether the item has a non-empty `name` or `code`.
fn is_named(fields: &Map<String, Value>) -> bool {
    ["name", "code"]
        .iter()
        .any(|key| fields.get(*key).and_then(lenient::non_empty_text).is_some())
}

fn with_example(problems: Vec<String>) -> Result<(), String> {
    if problems.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "{}. A minimal valid inventory item: {ITEM_EXAMPLE}",
            problems.join("; ")
        ))
    }
}

/// Check a new item for `POST /inventory-items`. `field` names it (e.g. `item`).
pub fn validate_new(item: &Value, field: &str) -> Result<(), String> {
    let Value::Object(fields) = item else {
        return with_example(vec![format!(
            "`{field}` must be a JSON object, found {}",
            lenient::kind(item)
        )]);
    };
    let mut problems = Vec::new();
    if !is_named(fields) {
        problems.push(format!(
            "`{field}.name` or `{field}.code` is required: an inventory item needs a name or a \
             SKU code"
        ));
    }
    if fields.contains_key("id") {
        problems.push(format!(
            "`{field}.id` cannot be set (OrderDesk assigns it); to change an existing item use \
             inventory_update"
        ));
    }
    problems.extend(field_problems(fields, field, false));
    with_example(problems)
}

/// Check the kinds of the documented fields in a change set (`null` removes a field).
pub fn validate_changes(changes: &Map<String, Value>, field: &str) -> Result<(), String> {
    let problems = field_problems(changes, field, true);
    if problems.is_empty() {
        Ok(())
    } else {
        Err(problems.join("; "))
    }
}

/// Check an item after a change set was merged into it: it must keep a name or code.
pub fn validate_merged(merged: &Value, field: &str) -> Result<(), String> {
    match merged {
        Value::Object(fields) if !is_named(fields) => Err(format!(
            "`{field}` would leave the item with neither a name nor a code; keep one of them"
        )),
        _ => Ok(()),
    }
}

/// The fetch → merge → PUT of the inventory item at `path`: the whole item is written
/// back (its `id` cannot change) after the merged item is checked.
/// `inventory_update` and `inventory_adjust_stock` share it.
pub fn update(path: &str) -> Update<'_> {
    Update {
        path,
        key: "inventory_item",
        noun: "item",
        locked: &["id"],
        check_merged: |merged| validate_merged(merged, "changes"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_new_item_needs_a_name_or_code() {
        assert!(validate_new(&json!({"name": "Mug"}), "item").is_ok());
        assert!(validate_new(&json!({"code": "MUG-1"}), "item").is_ok());
        let message = validate_new(&json!({"price": "1.00"}), "item").unwrap_err();
        assert!(message.contains("`item.name`"), "{message}");
        assert!(message.contains(ITEM_EXAMPLE), "{message}");
        assert!(validate_new(&json!([]), "item").is_err());
        assert!(validate_new(&json!({"name": " "}), "item").is_err());
    }

    #[test]
    fn kinds_of_documented_fields_are_checked_and_others_pass() {
        let message = validate_new(&json!({"name": "Mug", "stock": "lots"}), "item").unwrap_err();
        assert!(message.contains("`item.stock`"), "{message}");
        assert!(
            validate_new(
                &json!({"name": "Mug", "stock": "10", "price": 4.5, "metadata": [],
                        "supplier": {"any": ["thing"]}}),
                "item"
            )
            .is_ok()
        );
        assert!(validate_new(&json!({"name": "Mug", "id": "1"}), "item").is_err());
    }

    #[test]
    fn changes_may_remove_fields_but_not_leave_the_item_unnamed() {
        let changes = json!({"location": null, "stock": 3});
        assert!(validate_changes(changes.as_object().unwrap(), "changes").is_ok());
        let changes = json!({"price": "free"});
        assert!(validate_changes(changes.as_object().unwrap(), "changes").is_err());
        assert!(validate_merged(&json!({"code": "", "stock": 1}), "changes").is_err());
        assert!(validate_merged(&json!({"code": "X"}), "changes").is_ok());
    }
}
