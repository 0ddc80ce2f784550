//! The `orders` tool group: orders, order items and shipments of an OrderDesk store.
//!
//! Grants: `orderdesk` (read and write), `session` (only `report-progress`, for
//! `orders_list` with `fetch_all`), `log`. Never `vault`: this component sees no key.
//!
//! Layout: `orders.rs`, `list.rs`, `items.rs` and `shipments.rs` each declare their
//! tools (the kit's `ToolSpec`s) and hold the handlers; `resource.rs` is the
//! list/get/create/update/delete shape items and shipments share; `schema.rs` holds the
//! schema pieces only this group uses; `host.rs` gives requests this group's hints. The
//! requests themselves, fetch → merge → PUT, the `store` and id arguments come from
//! `orderdesk-store-api`; the order JSON (lenient reads, merge, validation) is the
//! `order-model` crate.

mod host;
mod items;
mod list;
mod orders;
mod resource;
mod schema;
mod shipments;

use orderdesk_tool_kit::bindings::export_tools;
use orderdesk_tool_kit::{Guest, Tool, ToolResult, Tools};

/// Every tool of the group, in the order `tools/list` shows them.
fn tools() -> Tools {
    Tools::new("orders")
        .extend(orders::tools())
        .extend(items::tools())
        .extend(shipments::tools())
}

struct Orders;

impl Guest for Orders {
    fn list() -> Vec<Tool> {
        tools().list()
    }

    fn call(name: String, arguments: String) -> ToolResult {
        tools().call(&name, &arguments)
    }
}

export_tools!(Orders);
