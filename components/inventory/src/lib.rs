//! The `inventory` tool group: the inventory items (SKUs, stock, prices) of an
//! OrderDesk store, at `/inventory-items[/{id}]`.
//!
//! Grants: `orderdesk` (read and write) and `log`. Neither `session` nor `vault`: this
//! component sees no key and needs nothing of the session but the store the host
//! resolves for each request.
//!
//! Layout: `schema.rs` declares what a tool is; `items.rs` holds the table of tools and
//! the get/create/update/delete handlers, `list.rs` the paged list; `item.rs` checks
//! items and change sets before anything is sent; `host.rs` wraps `orderdesk::send` and
//! maps host errors to tool errors; `args.rs` reads arguments defensively. Merging a
//! change set into a fetched item is `order-model`'s `deep_merge`.

mod args;
mod host;
mod item;
mod items;
mod list;
mod schema;

use orderdesk_tool_kit::bindings::export_tools;
use orderdesk_tool_kit::{Guest, Tool, ToolError, ToolResult, parse_args, tool};

use crate::schema::ToolDef;

/// Every tool of the group, in the order `tools/list` shows them.
fn tools() -> impl Iterator<Item = &'static ToolDef> {
    items::TOOLS.iter()
}

struct Inventory;

impl Guest for Inventory {
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
            ToolError::InvalidInput(format!(
                "the inventory component has no tool named `{name}`"
            ))
        })?;
        let args = parse_args(&arguments)?;
        args::reject_unknown(&args, &(def.input)())?;
        (def.run)(&args).map(|result| result.to_string())
    }
}

export_tools!(Inventory);
