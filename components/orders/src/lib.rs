//! The `orders` tool group: orders, order items and shipments of an OrderDesk store.
//!
//! Grants: `orderdesk` (read and write), `session` (only `report-progress`, for
//! `orders_list` with `fetch_all`), `log`. Never `vault`: this component sees no key.
//!
//! Layout: `schema.rs` declares what a tool is; `orders.rs`, `list.rs`, `items.rs` and
//! `shipments.rs` each hold a table of their tools and the handlers; `resource.rs` is
//! the list/get/create/update/delete shape items and shipments share, and the
//! fetch → merge → PUT every update uses; `host.rs` wraps `orderdesk::send` and maps
//! host errors to tool errors; `args.rs` reads arguments defensively. The order JSON
//! itself (lenient reads, merge, validation) is the `order-model` crate.

mod args;
mod host;
mod items;
mod list;
mod orders;
mod resource;
mod schema;
mod shipments;

use orderdesk_tool_kit::bindings::export_tools;
use orderdesk_tool_kit::{Guest, Tool, ToolError, ToolResult, parse_args, tool};

use crate::schema::ToolDef;

/// Every tool of the group, in the order `tools/list` shows them.
fn tools() -> impl Iterator<Item = &'static ToolDef> {
    [orders::TOOLS, items::TOOLS, shipments::TOOLS]
        .into_iter()
        .flatten()
}

struct Orders;

impl Guest for Orders {
    fn list() -> Vec<Tool> {
        tools()
            .map(|def| {
                tool(
                    def.name,
                    def.title,
                    def.description,
                    (def.input)(),
                    def.annotations,
                )
            })
            .collect()
    }

    fn call(name: String, arguments: String) -> ToolResult {
        let def = tools().find(|def| def.name == name).ok_or_else(|| {
            ToolError::InvalidInput(format!("the orders component has no tool named `{name}`"))
        })?;
        let args = parse_args(&arguments)?;
        args::reject_unknown(&args, &(def.input)())?;
        (def.run)(&args).map(|result| result.to_string())
    }
}

export_tools!(Orders);
