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
//! A component builds its table in a function and exports it:
//!
//! ```ignore
//! fn tools() -> Tools {
//!     Tools::new("my_tool").tool(ToolSpec::new("my_tool_hello", "Say hello", "…").run(hello))
//! }
//!
//! orderdesk_tool_kit::export!(tools);
//! ```

use serde_json::{Map, Value, json};

pub mod args;
pub mod errors;
mod host;
#[cfg(not(target_arch = "wasm32"))]
pub mod testing;
pub mod tools;

/// The generated bindings of the `tool-group` world. Call the host through the kit's
/// [`session`], [`vault`], [`orderdesk`] and [`log`] rather than the imports here: those
/// also work in native unit tests.
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
pub type Args = Map<String, Value>;

/// What [`Guest::call`] returns: the result as JSON text, or a tool error.
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

/// Parse a JSON body the host passed through from OrderDesk.
pub fn parse_body(body: &str) -> Result<Value, ToolError> {
    serde_json::from_str(body)
        .map_err(|e| ToolError::Upstream(format!("OrderDesk answered with invalid JSON: {e}")))
}

/// A store as JSON (never carries key material: the host never hands any over).
pub fn store_json(store: &StoreRef) -> Value {
    json!({
        "store_id": store.store_id,
        "name": store.name,
        "label": store.label,
    })
}
