//! Guest-side kit for orderdesk-mcp tool components.
//!
//! It generates the bindings of the `orderdesk:mcp` WIT package once, re-exports them
//! under short names, and holds the small helpers every tool component needs: a tool
//! table, argument parsing that names the offending field, and one mapping from the
//! host's errors to tool errors whose messages tell the model what to do next.
//!
//! A component depends on this crate, implements [`Guest`] and calls
//! `orderdesk_tool_kit::bindings::export_tools!(MyComponent);`.

use serde_json::{Map, Value};

pub mod args;
pub mod store_api;

/// The generated bindings of the `tool-group` world.
pub mod bindings {
    wit_bindgen::generate!({
        world: "tool-group",
        path: "wit",
        pub_export_macro: true,
        export_macro_name: "export_tools",
        default_bindings_module: "orderdesk_tool_kit::bindings",
    });
}

pub use bindings::exports::orderdesk::mcp::tools::{Annotations, Guest, Tool, ToolError};
pub use bindings::orderdesk::mcp::types::{HostError, StoreRef, UpstreamError};
pub use bindings::orderdesk::mcp::{log, orderdesk, session, vault};

/// JSON arguments of a tool call, parsed into an object.
pub type Args = Map<String, Value>;

/// The result of a tool: JSON text or a tool error.
pub type ToolResult = Result<String, ToolError>;

/// Annotations in the order MCP lists them.
pub const fn annotations(
    read_only: bool,
    destructive: bool,
    idempotent: bool,
    open_world: bool,
) -> Annotations {
    Annotations {
        read_only,
        destructive,
        idempotent,
        open_world,
    }
}

/// Build a tool description from a JSON Schema value.
pub fn tool(
    name: &str,
    title: &str,
    description: &str,
    input_schema: Value,
    annotations: Annotations,
) -> Tool {
    Tool {
        name: name.to_string(),
        title: Some(title.to_string()),
        description: description.to_string(),
        input_schema: input_schema.to_string(),
        output_schema: None,
        annotations,
    }
}

/// Parse the arguments of a call. The host has already validated them against the
/// tool's schema, but a component must not trust that blindly.
pub fn parse_args(arguments: &str) -> Result<Args, ToolError> {
    match serde_json::from_str::<Value>(arguments) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(Value::Null) => Ok(Map::new()),
        Ok(_) => Err(ToolError::InvalidInput(
            "arguments must be a JSON object".to_string(),
        )),
        Err(e) => Err(ToolError::InvalidInput(format!(
            "arguments are not valid JSON: {e}"
        ))),
    }
}

/// A required string argument.
pub fn required_str(args: &Args, field: &str) -> Result<String, ToolError> {
    match args.get(field) {
        Some(Value::String(s)) if !s.trim().is_empty() => Ok(s.clone()),
        Some(Value::Number(n)) => Ok(n.to_string()),
        Some(Value::String(_)) => Err(ToolError::InvalidInput(format!(
            "`{field}` must not be empty"
        ))),
        Some(_) => Err(ToolError::InvalidInput(format!(
            "`{field}` must be a string"
        ))),
        None => Err(ToolError::InvalidInput(format!("`{field}` is required"))),
    }
}

/// An optional string argument (absent or null → `None`).
pub fn optional_str(args: &Args, field: &str) -> Result<Option<String>, ToolError> {
    match args.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(_) => required_str(args, field).map(Some),
    }
}

/// An optional boolean argument.
pub fn optional_bool(args: &Args, field: &str) -> Result<Option<bool>, ToolError> {
    match args.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Bool(b)) => Ok(Some(*b)),
        Some(_) => Err(ToolError::InvalidInput(format!(
            "`{field}` must be true or false"
        ))),
    }
}

/// Serialise a result value as the tool's JSON answer.
pub fn ok_json(value: Value) -> ToolResult {
    Ok(value.to_string())
}

/// Parse a JSON body the host passed through from OrderDesk.
pub fn parse_body(body: &str) -> Result<Value, ToolError> {
    serde_json::from_str(body)
        .map_err(|e| ToolError::Upstream(format!("OrderDesk answered with invalid JSON: {e}")))
}

/// Map a host error to the tool error the model reads, with a hint of what to do next.
pub fn host_error(error: HostError) -> ToolError {
    match error {
        HostError::AccessDenied(m) => ToolError::Unauthorized(format!(
            "{m} (this component's grants, from its manifest NAME.toml, do not allow it, or the operator's config narrowed them)"
        )),
        HostError::NotAvailable(m) => ToolError::Internal(m),
        HostError::Unauthenticated(m) => ToolError::Unauthorized(m),
        HostError::InvalidInput(m) => ToolError::InvalidInput(m),
        HostError::NotFound(m) => ToolError::NotFound(m),
        HostError::Conflict(m) => ToolError::InvalidInput(m),
        HostError::RateLimited(ms) => ToolError::RateLimited(ms),
        HostError::Upstream(UpstreamError { status, message }) => {
            ToolError::Upstream(format!("OrderDesk answered HTTP {status}: {message}"))
        }
        HostError::OutcomeUnknown(m) => ToolError::OutcomeUnknown(m),
        HostError::Internal(m) => ToolError::Internal(m),
    }
}

/// A store as JSON (never carries key material: the host never hands any over).
pub fn store_json(store: &StoreRef) -> Value {
    serde_json::json!({
        "store_id": store.store_id,
        "name": store.name,
        "label": store.label,
    })
}
