//! What OrderDesk requires of new records and of change sets, checked before a request
//! is sent, with messages that name the field and show a minimal valid example.

use std::fmt;

use serde_json::{Map, Value};

use crate::lenient;
use crate::records::names_someone;

/// A minimal order `POST /orders` accepts: one item, and a name in `shipping`.
pub const ORDER_EXAMPLE: &str = r#"{"shipping":{"first_name":"Jo","last_name":"Rivera","address1":"12 Elm St","city":"Springfield","state":"IL","postal_code":"62701","country":"US"},"order_items":[{"name":"Canvas tote","code":"TOTE-1","price":40,"quantity":1}]}"#;

/// A minimal order item.
pub const ITEM_EXAMPLE: &str = r#"{"name":"Canvas tote","code":"TOTE-1","price":40,"quantity":1}"#;

/// A minimal shipment (`"n/a"` is a valid tracking number).
pub const SHIPMENT_EXAMPLE: &str = r#"{"tracking_number":"9400111899223197428490","carrier_code":"USPS","shipment_method":"Priority"}"#;

/// A minimal batch of shipments: each names its order.
pub const BATCH_SHIPMENT_EXAMPLE: &str =
    r#"[{"order_id":"3344551","tracking_number":"9400111899223197428490","carrier_code":"USPS"}]"#;

/// Why a record or change set was refused: every problem found, and an example of what
/// would be accepted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValidationError {
    /// One sentence per problem, each naming its field.
    pub problems: Vec<String>,
    /// What is being validated (`order`, `order item`, …).
    pub what: &'static str,
    /// A minimal valid example, as JSON text, when one helps.
    pub example: Option<&'static str>,
}

impl fmt::Display for ValidationError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.problems.join("; "))?;
        if let Some(example) = self.example {
            write!(f, ". A minimal valid {}: {example}", self.what)?;
        }
        Ok(())
    }
}

impl std::error::Error for ValidationError {}

fn outcome(
    problems: Vec<String>,
    what: &'static str,
    example: Option<&'static str>,
) -> Result<(), ValidationError> {
    if problems.is_empty() {
        Ok(())
    } else {
        Err(ValidationError {
            problems,
            what,
            example,
        })
    }
}

/// Check an order for `POST /orders`: an object with at least one item in `order_items`,
/// and a first name, last name or company in `shipping` or `customer`. `field` names the
/// order in messages (e.g. `order`).
pub fn validate_new_order(order: &Value, field: &str) -> Result<(), ValidationError> {
    let mut problems = Vec::new();
    let Value::Object(fields) = order else {
        problems.push(format!(
            "`{field}` must be a JSON object, found {}",
            lenient::kind(order)
        ));
        return outcome(problems, "order", Some(ORDER_EXAMPLE));
    };
    match fields.get("order_items") {
        Some(Value::Array(items)) if !items.is_empty() => {
            for (i, item) in items.iter().enumerate() {
                if !item.is_object() {
                    problems.push(format!(
                        "`{field}.order_items[{i}]` must be an object, found {}",
                        lenient::kind(item)
                    ));
                }
            }
        }
        Some(Value::Array(_)) | None => {
            problems.push(format!("`{field}.order_items` must hold at least one item"))
        }
        Some(other) => problems.push(format!(
            "`{field}.order_items` must be a list of items, found {}",
            lenient::kind(other)
        )),
    }
    let mut named = false;
    for block in ["shipping", "customer"] {
        match fields.get(block) {
            None | Some(Value::Null) => {}
            Some(value) => match lenient::map(value) {
                Some(address) => named |= names_someone(&address),
                None => problems.push(format!(
                    "`{field}.{block}` must be an object, found {}",
                    lenient::kind(value)
                )),
            },
        }
    }
    if !named {
        problems.push(format!(
            "`{field}.shipping` or `{field}.customer` needs a first_name, last_name or company"
        ));
    }
    outcome(problems, "order", Some(ORDER_EXAMPLE))
}

/// Check an item for `POST /orders/{id}/order-items`: a non-empty object.
pub fn validate_new_item(item: &Value, field: &str) -> Result<(), ValidationError> {
    let problem = match item {
        Value::Object(fields) if fields.is_empty() => format!("`{field}` has no fields"),
        Value::Object(_) => return Ok(()),
        other => format!(
            "`{field}` must be a JSON object, found {}",
            lenient::kind(other)
        ),
    };
    outcome(vec![problem], "order item", Some(ITEM_EXAMPLE))
}

/// Check a shipment for `POST /orders/{id}/shipments`: an object with a
/// `tracking_number` (`"n/a"` when there is none).
pub fn validate_new_shipment(shipment: &Value, field: &str) -> Result<(), ValidationError> {
    outcome(
        shipment_problems(shipment, field, false),
        "shipment",
        Some(SHIPMENT_EXAMPLE),
    )
}

/// Check the shipments of `POST /batch-shipments`: at least one, each with `order_id`
/// and `tracking_number`. `field` names the list (e.g. `shipments`).
pub fn validate_batch_shipments(shipments: &Value, field: &str) -> Result<(), ValidationError> {
    let problems = match shipments {
        Value::Array(list) if list.is_empty() => {
            vec![format!("`{field}` must hold at least one shipment")]
        }
        Value::Array(list) => list
            .iter()
            .enumerate()
            .flat_map(|(i, s)| shipment_problems(s, &format!("{field}[{i}]"), true))
            .collect(),
        other => vec![format!(
            "`{field}` must be a list of shipments, found {}",
            lenient::kind(other)
        )],
    };
    outcome(problems, "list of shipments", Some(BATCH_SHIPMENT_EXAMPLE))
}

fn shipment_problems(shipment: &Value, field: &str, needs_order: bool) -> Vec<String> {
    let Value::Object(fields) = shipment else {
        return vec![format!(
            "`{field}` must be a JSON object, found {}",
            lenient::kind(shipment)
        )];
    };
    let mut problems = Vec::new();
    if needs_order
        && fields
            .get("order_id")
            .and_then(lenient::non_empty_text)
            .is_none()
    {
        problems.push(format!("`{field}.order_id` is required"));
    }
    if fields
        .get("tracking_number")
        .and_then(lenient::non_empty_text)
        .is_none()
    {
        problems.push(format!(
            "`{field}.tracking_number` is required (use \"n/a\" when there is none)"
        ));
    }
    problems
}

/// Check a change set for a fetch → merge → PUT update: a non-empty object that does
/// not change any of the `locked` fields of `current` (naming a locked field with its
/// current value is allowed; it changes nothing). `field` names the change set.
pub fn validate_changes(
    changes: &Value,
    field: &str,
    current: &Map<String, Value>,
    locked: &[&str],
) -> Result<(), ValidationError> {
    let Value::Object(fields) = changes else {
        let problem = format!(
            "`{field}` must be a JSON object of the fields to change, found {}",
            lenient::kind(changes)
        );
        return outcome(vec![problem], "change set", None);
    };
    let mut problems = Vec::new();
    if fields.is_empty() {
        problems.push(format!("`{field}` names no field to change"));
    }
    for key in locked {
        if let Some(new) = fields.get(*key) {
            let old = current.get(*key).and_then(lenient::text);
            if lenient::text(new) != old || old.is_none() {
                problems.push(format!(
                    "`{field}.{key}` cannot be changed (it is assigned by OrderDesk); leave it out"
                ));
            }
        }
    }
    outcome(problems, "change set", None)
}
