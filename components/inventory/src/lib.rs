//! The `inventory` tool group: the inventory items (SKUs, stock, prices) of an
//! OrderDesk store, at `/inventory-items[/{id}]`.
//!
//! Grants: `orderdesk` (read and write) and `log`. Neither `session` nor `vault`: this
//! component sees no key and needs nothing of the session but the store the host
//! resolves for each request.
//!
//! Layout: `items.rs` declares the tools (the kit's `ToolSpec`s) and holds the
//! get/create/update/delete handlers, `list.rs` the paged list; `item.rs` checks items
//! and change sets before anything is sent; `host.rs` gives requests this component's
//! hints. Requests, fetch → merge → PUT, the `store` and id arguments come from
//! `orderdesk-store-api`.

mod host;
mod item;
mod items;
mod list;

use orderdesk_tool_kit::bindings::export_tools;
use orderdesk_tool_kit::{Guest, Tool, ToolResult, Tools};

/// Every tool of the group, in the order `tools/list` shows them.
fn tools() -> Tools {
    Tools::new("inventory").extend(items::tools())
}

struct Inventory;

impl Guest for Inventory {
    fn list() -> Vec<Tool> {
        tools().list()
    }

    fn call(name: String, arguments: String) -> ToolResult {
        tools().call(&name, &arguments)
    }
}

export_tools!(Inventory);
