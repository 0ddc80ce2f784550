//! The SDK of orderdesk-mcp tool components.
//!
//! It generates the bindings of the `orderdesk:mcp` WIT package (shipped in this crate's
//! `wit/`) once, and gives a component everything else it needs:
//!
//! - [`Tools`] and [`ToolSpec`]: the tool table. Each tool declares its name, title,
//!   description, input schema, optional output schema and annotations, and a handler
//!   that takes typed arguments (`T: serde::de::DeserializeOwned`); [`export!`] makes
//!   [`Tools::list`] and [`Tools::call`] the component's [`Guest`] implementation.
//! - [`args`]: argument types and helpers ([`args::NonBlank`], [`args::WholeNumber`],
//!   [`args::in_range`], [`args::field`]); arguments that do not fit are an
//!   `invalid-input` that names the field.
//! - [`errors`]: the one mapping of host errors to the tool errors the model reads.
//! - [`session`], [`vault`], [`orderdesk`], [`log`]: the host interfaces. On
//!   `wasm32` they call the host; compiled natively (for `cargo test`) they call the
//!   in-process mock host of [`testing`].
//!
//! A component builds its table in a function and exports it; natively, `cargo test`
//! calls the same table through [`testing::call`]:
//!
//! ```
//! use orderdesk_tool_kit::args::NonBlank;
//! use orderdesk_tool_kit::{ToolError, ToolSpec, Tools, annotations};
//! use serde::Deserialize;
//! use serde_json::{Value, json};
//!
//! fn tools() -> Tools {
//!     Tools::new("my_tool").tool(
//!         ToolSpec::new("my_tool_hello", "Say hello", "Greets NAME. Changes nothing.")
//!             .input(|| json!({"type": "object", "properties": {"name": {"type": "string"}},
//!                              "required": ["name"], "additionalProperties": false}))
//!             .annotations(annotations(true, false, true, false))
//!             .run(hello),
//!     )
//! }
//!
//! orderdesk_tool_kit::export!(tools);
//!
//! #[derive(Deserialize)]
//! struct HelloArgs {
//!     name: NonBlank,
//! }
//!
//! fn hello(args: HelloArgs) -> Result<Value, ToolError> {
//!     Ok(json!({"greeting": format!("Hello, {}", args.name)}))
//! }
//!
//! # fn main() {
//! let answer = orderdesk_tool_kit::testing::call(&tools(), "my_tool_hello", json!({"name": "Ada"}));
//! assert_eq!(answer, Ok(json!({"greeting": "Hello, Ada"})));
//! # }
//! ```
//!
//! Only the host functions a component's code calls end up imported by its `.wasm`
//! (the toolchain drops the others), and the host refuses imports its grants do not
//! allow: `hello` above imports nothing.
//!
//! `docs/quickstart.md` of orderdesk-mcp builds a component from scratch;
//! `docs/orderdesk-replies.md` shows what each OrderDesk endpoint answers.

#![warn(missing_docs)]

use serde_json::{Map, Value, json};

pub mod args;
pub mod errors;
mod host;
#[cfg(not(target_arch = "wasm32"))]
pub mod testing;
pub mod tools;

/// The generated bindings of the `tool-group` world. Call the host through the kit's
/// [`session`], [`vault`], [`orderdesk`] and [`log`] rather than the imports here: those
/// also work in native unit tests. Its items carry the WIT's documentation.
#[allow(missing_docs)] // what wit-bindgen generates beside the WIT's items
pub mod bindings {
    wit_bindgen::generate!({
        world: "tool-group",
        path: "wit",
        pub_export_macro: true,
        export_macro_name: "export_tools",
        default_bindings_module: "orderdesk_tool_kit::bindings",
        // Lets tests compare results and recorded requests with `assert_eq!`.
        additional_derives: [PartialEq],
    });
}

pub use bindings::exports::orderdesk::mcp::tools::{Annotations, Guest, Tool, ToolError};
pub use bindings::orderdesk::mcp::types::{HostError, StoreRef, UpstreamError};
pub use errors::host_error;
pub use host::{log, orderdesk, session, vault};
pub use tools::{ToolSpec, Tools};

/// Export the tool table that `$tools` (a `fn() -> Tools`) builds as the component's
/// `tools` interface: the WIT `list` is [`Tools::list`], `call` is [`Tools::call`].
/// The host makes a fresh instance for every call, so the table is built for each one.
/// Once per component, at the top level of its `lib.rs`:
///
/// ```
/// use orderdesk_tool_kit::{ToolSpec, Tools};
/// use orderdesk_tool_kit::args::NoArguments;
///
/// fn tools() -> Tools {
///     Tools::new("clock").tool(
///         ToolSpec::new("clock_ping", "Ping", "Answers {\"pong\": true}.")
///             .run(|_: NoArguments| Ok(serde_json::json!({"pong": true}))),
///     )
/// }
///
/// orderdesk_tool_kit::export!(tools);
/// # fn main() {}
/// ```
#[macro_export]
macro_rules! export {
    ($tools:path) => {
        struct ExportedToolTable;

        impl $crate::Guest for ExportedToolTable {
            fn list() -> ::std::vec::Vec<$crate::Tool> {
                $tools().list()
            }

            fn call(
                name: ::std::string::String,
                arguments: ::std::string::String,
            ) -> $crate::ToolResult {
                $tools().call(&name, &arguments)
            }
        }

        $crate::bindings::export_tools!(ExportedToolTable);
    };
}

/// JSON arguments as an object: the argument type of a handler that reads its
/// arguments field by field ([`args::field`]) rather than into a struct.
///
/// ```
/// use orderdesk_tool_kit::{Args, ToolSpec, args};
///
/// let spec = ToolSpec::new("echo_field", "Echo a field", "Answers the field named by `key`.")
///     .run(|arguments: Args| {
///         let key: String = args::field(&arguments, "key")?;
///         Ok(serde_json::json!({"value": arguments.get(&key)}))
///     });
/// # let _ = spec;
/// ```
pub type Args = Map<String, Value>;

/// What [`Guest::call`] returns: the result as JSON text, or a tool error.
///
/// ```
/// use orderdesk_tool_kit::{ToolResult, ToolSpec, Tools};
///
/// let tools = Tools::new("demo")
///     .tool(ToolSpec::new("demo_ok", "OK", "Answers {}.").run(|_: orderdesk_tool_kit::Args| Ok(serde_json::json!({}))));
/// let answer: ToolResult = tools.call("demo_ok", "{}");
/// assert_eq!(answer, Ok("{}".to_string()));
/// ```
pub type ToolResult = Result<String, ToolError>;

/// Annotations in the order MCP lists them: whether the tool only reads, may destroy
/// something, may be repeated with the same effect, and talks to an outside system
/// (OrderDesk is one). A `const fn`, so a component can name its sets as constants.
///
/// ```
/// use orderdesk_tool_kit::{Annotations, annotations};
///
/// const READ: Annotations = annotations(true, false, true, true);
/// assert!(READ.read_only && READ.open_world && !READ.destructive);
/// ```
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

/// Parse a JSON body the host passed through from OrderDesk; text that is not JSON is
/// an `upstream` error.
///
/// ```
/// use orderdesk_tool_kit::{ToolError, parse_body};
///
/// let body = parse_body(r#"{"status": "success", "message": "Connection Successful"}"#).unwrap();
/// assert_eq!(body["message"], "Connection Successful");
/// assert!(matches!(parse_body("<html>"), Err(ToolError::Upstream(_))));
/// ```
pub fn parse_body(body: &str) -> Result<Value, ToolError> {
    serde_json::from_str(body)
        .map_err(|e| ToolError::Upstream(format!("OrderDesk answered with invalid JSON: {e}")))
}

/// A store as JSON (never carries key material: the host never hands any over).
///
/// ```
/// use orderdesk_tool_kit::{StoreRef, store_json};
///
/// let store = StoreRef { store_id: "100001".into(), name: "main".into(), label: None };
/// assert_eq!(store_json(&store), serde_json::json!({"store_id": "100001", "name": "main", "label": null}));
/// ```
pub fn store_json(store: &StoreRef) -> Value {
    json!({
        "store_id": store.store_id,
        "name": store.name,
        "label": store.label,
    })
}

/// The JSON Schema of what [`store_json`] answers, for a tool's output schema.
///
/// ```
/// use orderdesk_tool_kit::store_schema;
///
/// assert_eq!(store_schema()["required"], serde_json::json!(["store_id", "name", "label"]));
/// ```
pub fn store_schema() -> Value {
    json!({
        "type": "object",
        "properties": {
            "store_id": {"type": "string", "description": "OrderDesk's store id."},
            "name": {"type": "string"},
            "label": {"type": ["string", "null"]},
        },
        "required": ["store_id", "name", "label"],
    })
}
