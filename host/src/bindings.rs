//! Host-side bindings of the `orderdesk:mcp` WIT package (see `components/kit/wit/`).

wasmtime::component::bindgen!({
    world: "tool-group",
    path: "../components/kit/wit",
    imports: { default: async },
    exports: { default: async },
});

pub use exports::orderdesk::mcp::tools::{Annotations, Tool, ToolError};
pub use orderdesk::mcp::types::{HostError, StoreRef, UpstreamError};
pub use orderdesk::mcp::{log, orderdesk as orderdesk_api, session, vault};
