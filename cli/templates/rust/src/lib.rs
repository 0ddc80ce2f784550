//! `{{name}}`: an orderdesk-mcp tool component, written by `orderdesk-mcp component new`.
//!
//! One tool, `{{name}}_items`, reads the store's inventory (`GET /inventory-items`, page
//! by page) and answers the items whose name or SKU contains `search`.{{write_summary}}
//! Make it yours: the quickstart (docs/quickstart.md of orderdesk-mcp) and `cargo doc
//! --open` show the SDK; docs/orderdesk-replies.md what each OrderDesk endpoint answers.
//!
//! The shape every component follows: `tools()` declares the tools, each with the
//! handler that runs it, and `export!(tools)` makes that table the component's WIT
//! `tools` interface. The host makes a fresh instance for every call.
{{write_module}}
use orderdesk_store_api::replies::{InventoryItem, InventoryPage, Paging};
use orderdesk_store_api::{CacheMode, Target, schema};
use orderdesk_tool_kit::args::NonBlank;
use orderdesk_tool_kit::{ToolError, ToolSpec, Tools};
use serde::Deserialize;
use serde_json::{Value, json};

/// The tools, in the order `tools/list` shows them. Tool names start with the
/// component's name, which keeps them unique in the server.
fn tools() -> Tools {
    Tools::new("{{name}}")
        .tool(
            ToolSpec::new(
                "{{name}}_items",
                "Find inventory items",
                // What the model reads to decide when to call the tool.
                "List the store's inventory items whose name or SKU contains `search` (every \
                 item without it): id, SKU (`code`), name and stock of each. Changes nothing.",
            )
            // schema::input adds the optional `store` argument every store-bound tool takes.
            .input(|| {
                schema::input(
                    json!({
                        "search": {"type": "string", "minLength": 1,
                                   "description": "Text to find in the name or SKU, e.g. \"mug\"."}
                    }),
                    &[],
                )
            })
            .annotations(schema::READ)
            .run(items),
        ){{write_tools}}
}

orderdesk_tool_kit::export!(tools);

/// The arguments, as the input schema declares them.
#[derive(Deserialize)]
struct ItemsArgs {
    search: Option<NonBlank>,
    /// `None`: the session's active store.
    store: Option<NonBlank>,
}

fn items(args: ItemsArgs) -> Result<Value, ToolError> {
    // The host adds the store's API key, paces and caches; a failure comes back as a
    // ToolError that names this request and says what to do next.
    let target = Target::new(args.store, "the inventory search");
    let mut found = Vec::new();
    let mut offset = 0;
    loop {
        let mut query = vec![
            ("limit".to_string(), Paging::MAX_LIMIT.to_string()),
            ("offset".to_string(), offset.to_string()),
        ];
        if let Some(search) = &args.search {
            query.push(("search".to_string(), search.to_string()));
        }
        let reply = target.get("/inventory-items", query, CacheMode::UseCache)?;
        let page: InventoryPage = reply.parse()?;
        found.extend(page.inventory_items.iter().map(summary));
        match page.paging.next_offset() {
            Some(next) => offset = next,
            None => break,
        }
    }
    Ok(json!({"count": found.len(), "items": found}))
}

/// What the answer shows of an item (`stock` arrives as `11` or `"11"`: it reads as 11).
fn summary(item: &InventoryItem) -> Value {
    json!({"id": item.id(), "code": item.code(), "name": item.name(), "stock": item.stock()})
}

/// Native unit tests (`cargo test`): the kit answers host calls from its mock host.
#[cfg(test)]
mod tests {
    use orderdesk_tool_kit::testing::{self, MockHost};

    use super::*;

    fn page(total: u64, offset: u64, items: Value) -> Value {
        let returned = items.as_array().map_or(0, Vec::len);
        json!({"status": "success", "total_records": total, "records_returned": returned,
               "offset": offset, "limit": 500, "inventory_items": items})
    }

    #[test]
    fn items_reads_every_page() {
        let host = MockHost::with_store();
        host.reply(200, page(2, 0, json!([{"id": "1", "code": "MUG", "name": "Mug", "stock": "11"}])))
            .reply(200, page(2, 1, json!([{"id": "2", "code": "CUP", "name": "Cup", "stock": 4}])));
        let answer = testing::call(&tools(), "{{name}}_items", json!({"search": "u"})).unwrap();
        assert_eq!(answer["count"], 2);
        assert_eq!(answer["items"][0]["stock"], 11);
        let requests = host.requests();
        assert_eq!(requests[1].path, "/inventory-items");
        assert!(requests[1].query.contains(&("offset".to_string(), "1".to_string())));
    }
}
