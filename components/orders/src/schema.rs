//! The schema pieces only the orders group uses; the shared ones (`input`, ids,
//! annotation sets) are `orderdesk_store_api::schema`.

use orderdesk_store_api::views::read_properties;
use orderdesk_tool_kit::{Annotations, annotations};
use serde_json::Value;

pub use orderdesk_store_api::schema::*;

/// Moving orders overwrites their folder and fires the destination folder's automation
/// rules (emails, fulfilment) on every call.
pub const MOVE: Annotations = annotations(false, true, false, true);

/// A `YYYY-MM-DD` or `YYYY-MM-DD HH:MM:SS` date, as OrderDesk's search takes them.
pub const DATE_PATTERN: &str = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}( [0-9]{2}:[0-9]{2}:[0-9]{2})?$";

/// The `order_id` property.
pub fn order_id() -> Value {
    id("OrderDesk order id (e.g. \"3344551\"), as orders_list or orders_get show it.")
}

/// `property` (an object) with its `description` set.
pub fn with_description(mut property: Value, description: &str) -> Value {
    property["description"] = Value::String(description.to_string());
    property
}

/// The input of a read tool: `properties` plus `view`, `fields` and `fresh` (for
/// records whose summary holds `summary_fields`) and the optional `store`.
pub fn read_input(properties: Value, required: &[&str], summary_fields: &str) -> Value {
    let mut properties = properties;
    if let (Value::Object(properties), Value::Object(read)) =
        (&mut properties, read_properties(summary_fields))
    {
        properties.extend(read);
    }
    input(properties, required)
}
