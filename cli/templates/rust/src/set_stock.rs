//! `{{name}}_set_stock`: a write. OrderDesk replaces a record whole, so `Update` reads
//! the item fresh, merges the change and PUTs the whole item back (every field it does
//! not name, known or not, goes back unchanged). A write is logged, so this component
//! imports `log` too, and its manifest grants it.

use orderdesk_store_api::schema::{self, Id};
use orderdesk_store_api::{Target, Update, any_record};
use orderdesk_tool_kit::args::{NonBlank, WholeNumber};
use orderdesk_tool_kit::{ToolError, ToolSpec};
use serde::Deserialize;
use serde_json::{Value, json};

pub fn tool() -> ToolSpec {
    ToolSpec::new(
        "{{name}}_set_stock",
        "Set an item's stock",
        "Set the stock level of one inventory item (by its id, from {{name}}_items). Changes \
         that item in OrderDesk; setting the same level again changes nothing more.",
    )
    .input(|| {
        schema::input(
            json!({
                "item_id": schema::id("The inventory item's id, e.g. \"701101\"."),
                "stock": {"type": "integer", "minimum": 0, "description": "The new stock level."}
            }),
            &["item_id", "stock"],
        )
    })
    .annotations(schema::UPDATE)
    .run(set_stock)
}

#[derive(Deserialize)]
struct SetStockArgs {
    item_id: Id,
    stock: WholeNumber,
    store: Option<NonBlank>,
}

fn set_stock(args: SetStockArgs) -> Result<Value, ToolError> {
    let target = Target::new(args.store, format!("inventory item {}", args.item_id))
        .lookup("find the id with {{name}}_items")
        .verify("check the stock with {{name}}_items before retrying");
    let path = format!("/inventory-items/{}", args.item_id);
    let update = Update {
        path: &path,
        key: "inventory_item",
        noun: "item",
        locked: &["id"],
        check_merged: any_record,
    };
    update.apply(&target, &json!({"stock": args.stock.0}))
}
