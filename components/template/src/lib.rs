//! `template`: the smallest useful orderdesk-mcp tool component. Copy this crate to
//! start your own; docs/authoring-rust.md walks through it step by step.
//!
//! Tools:
//!
//! - `template_hello {name}` → `{"greeting": "Hello, NAME"}`. Calls nothing of the host.
//! - `template_store_test {store?}` → sends OrderDesk's `GET /test` for a store through
//!   the host and answers `{"connected": true, "store_id": …, "message": …}`.
//!
//! Imports from `orderdesk:mcp`: `orderdesk` (to send the request) and `log` (one log
//! line), plus the shared `types`. A Rust component imports only the host functions its
//! code actually calls, so its manifest `template.toml` grants exactly those two:
//! `orderdesk = "read"` (GET only) and `log = true`. Delete `template_store_test` and
//! the component imports nothing from the host at all.
//!
//! The shape every component follows: a unit struct implements the kit's [`Guest`]
//! (`list` declares the tools, `call` runs one), and `export_tools!` exports it.

use orderdesk_tool_kit::bindings::export_tools;
use orderdesk_tool_kit::orderdesk::{self, ApiRequest, CacheMode, Method};
use orderdesk_tool_kit::{
    Args, Guest, Tool, ToolError, ToolResult, annotations, host_error, log, ok_json, optional_str,
    parse_args, parse_body, required_str, tool,
};
use serde_json::{Value, json};

/// The component. It holds no state: the host makes a fresh instance for every call,
/// so nothing survives from one call to the next (no globals, no caches).
struct Template;

impl Guest for Template {
    /// The tools, as `tools/list` shows them. The host calls this once when it loads
    /// the component and checks every entry: names (`^[a-zA-Z0-9_-]{1,64}$`, prefixed
    /// with the component's name by convention), input schemas (a JSON object that is a
    /// valid JSON Schema), sizes.
    fn list() -> Vec<Tool> {
        vec![
            tool(
                "template_hello",
                "Say hello",
                // The description is what the model reads to decide when to call the
                // tool: say what it does, what it changes, and when to use it.
                "Greet someone by name: answers {\"greeting\": \"Hello, NAME\"}. Changes \
                 nothing and talks to no outside system.",
                json!({
                    "type": "object",
                    "properties": {
                        "name": {
                            "type": "string",
                            "minLength": 1,
                            "description": "Who to greet, e.g. \"Ada\"."
                        }
                    },
                    "required": ["name"],
                    "additionalProperties": false
                }),
                // read_only, destructive, idempotent, open_world
                annotations(true, false, true, false),
            ),
            tool(
                "template_store_test",
                "Test the store connection",
                "Check that OrderDesk accepts the credentials registered for a store (sends \
                 OrderDesk's GET /test, never from the cache). Changes nothing. Use it when \
                 requests to a store fail with HTTP 401.",
                json!({
                    "type": "object",
                    "properties": {
                        "store": {
                            "type": "string",
                            "minLength": 1,
                            "description": "Store name or OrderDesk store id (default: the \
                                            session's active store)."
                        }
                    },
                    "additionalProperties": false
                }),
                // open_world: it talks to OrderDesk.
                annotations(true, false, true, true),
            ),
        ]
    }

    /// Run tool `name`. `arguments` is a JSON object as text, already validated by the
    /// host against the tool's input schema (still parse it defensively: the kit's
    /// helpers answer `invalid-input` naming the field). Return JSON text or a
    /// `ToolError`; the host turns both into the MCP result the model reads.
    fn call(name: String, arguments: String) -> ToolResult {
        let args = parse_args(&arguments)?;
        match name.as_str() {
            "template_hello" => hello(&args),
            "template_store_test" => store_test(&args),
            other => Err(ToolError::InvalidInput(format!(
                "the template component has no tool named `{other}`"
            ))),
        }
    }
}

/// `template_hello`: pure computation, no host call.
fn hello(args: &Args) -> ToolResult {
    let name = required_str(args, "name")?;
    ok_json(json!({ "greeting": format!("Hello, {name}") }))
}

/// `template_store_test`: one OrderDesk request through the host.
fn store_test(args: &Args) -> ToolResult {
    // `None` lets the host use the session's active store.
    let store = optional_str(args, "store")?;
    let request = ApiRequest {
        method: Method::Get, // a read-only grant allows only GET
        path: "/test".to_string(),
        query: Vec::new(),
        body: None, // GET and DELETE carry no body
        store,
        cache: CacheMode::Bypass, // a connection test must really ask OrderDesk
    };
    // The host adds the store's API key (the component never sees it), paces and
    // retries the request, and answers an error status as a `HostError`. `host_error`
    // maps it to the `ToolError` the model reads.
    let response = orderdesk::send(&request).map_err(host_error)?;
    log::write(
        log::Level::Info,
        "store connection tested",
        &[("store_id".to_string(), response.store_id.clone())],
    );
    let body = parse_body(&response.body)?;
    ok_json(json!({
        "connected": true,
        "store_id": response.store_id,
        "message": body.get("message").cloned().unwrap_or(Value::Null),
    }))
}

// Export `Template` as the component's `tools` interface.
export_tools!(Template);
