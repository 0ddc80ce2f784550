//! The declarative side of the tools: one [`ToolDef`] per tool (name, description,
//! input schema, annotations, handler), and the schema pieces they share.

use orderdesk_tool_kit::{Annotations, Args, ToolError, annotations};
use serde_json::{Map, Value, json};

/// A tool's implementation: validated arguments in, a JSON result out.
pub type Handler = fn(&Args) -> Result<Value, ToolError>;

/// One tool as the table declares it.
pub struct ToolDef {
    /// Public tool name (`orders_get`, …): part of the interface, never rename.
    pub name: &'static str,
    /// Human-friendly title.
    pub title: &'static str,
    /// What the tool does, what it changes in the store, and when to use it.
    pub description: &'static str,
    /// Builds the JSON Schema of the arguments (see [`input`]).
    pub input: fn() -> Value,
    /// MCP annotations.
    pub annotations: Annotations,
    /// The implementation.
    pub run: Handler,
}

/// Reads: change nothing, safe to repeat, talk to OrderDesk.
pub const READ: Annotations = annotations(true, false, true, true);
/// Creates something new (an order, item, shipment, note): additive, but each call adds
/// another one.
pub const CREATE: Annotations = annotations(false, false, false, true);
/// Fetch → merge → PUT: overwrites (or, with `null`, removes) fields; repeating it with
/// the same changes changes nothing more.
pub const UPDATE: Annotations = annotations(false, true, true, true);
/// Deletes: destructive; deleting again changes nothing more.
pub const DELETE: Annotations = annotations(false, true, true, true);
/// Moving orders overwrites their folder and fires the destination folder's automation
/// rules (emails, fulfilment) on every call.
pub const MOVE: Annotations = annotations(false, true, false, true);

/// The ids OrderDesk uses are numeric strings; this pattern also keeps ids safe to put
/// in a request path (no `/`, `.`, `?` or `#`).
pub const ID_PATTERN: &str = "^[A-Za-z0-9_-]{1,64}$";

/// A `YYYY-MM-DD` or `YYYY-MM-DD HH:MM:SS` date, as OrderDesk's search takes them.
pub const DATE_PATTERN: &str = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}( [0-9]{2}:[0-9]{2}:[0-9]{2})?$";

/// An id property.
pub fn id(description: &str) -> Value {
    json!({"type": "string", "pattern": ID_PATTERN, "description": description})
}

/// The `order_id` property.
pub fn order_id() -> Value {
    id("OrderDesk order id (e.g. \"3344551\"), as orders_list or orders_get show it.")
}

/// An object property: a JSON object of OrderDesk fields.
pub fn object(description: &str) -> Value {
    json!({"type": "object", "description": description})
}

/// `property` (an object) with its `description` set.
pub fn with_description(mut property: Value, description: &str) -> Value {
    property["description"] = Value::String(description.to_string());
    property
}

/// The object schema of a tool's arguments: `properties` plus the optional `store` that
/// every tool of this group takes, `required`, and no other properties.
pub fn input(properties: Value, required: &[&str]) -> Value {
    let mut properties = match properties {
        Value::Object(map) => map,
        _ => Map::new(),
    };
    properties.insert(
        "store".to_string(),
        json!({
            "type": "string",
            "minLength": 1,
            "description": "Store name or OrderDesk store id to act on (default: the session's \
                            active store, set with stores_use_store)."
        }),
    );
    json!({
        "type": "object",
        "properties": properties,
        "required": required,
        "additionalProperties": false
    })
}
