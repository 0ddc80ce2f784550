//! The inventory tools: their table and the handlers of `/inventory-items/{id}`
//! (get, update, delete) and `POST /inventory-items`. The list is in `list.rs`.

use order_model::deep_merge;
use order_model::lenient;
use order_model::validate::validate_changes;
use orderdesk_tool_kit::{Args, ToolError};
use serde_json::{Map, Value, json};

use crate::args;
use crate::host::{self, CacheMode, Target};
use crate::item::{self, ITEM_FIELDS};
use crate::list;
use crate::schema::{self, CREATE, DELETE, READ, ToolDef, UPDATE};

/// The key of one item in OrderDesk's envelope.
const KEY: &str = "inventory_item";

pub static TOOLS: &[ToolDef] = &[
    ToolDef {
        name: "inventory_list",
        title: "List inventory items",
        description: list::DESCRIPTION,
        input: list::input,
        annotations: READ,
        run: list::run,
    },
    ToolDef {
        name: "inventory_get",
        title: "Get an inventory item",
        description: "Read one inventory item by its id, with everything OrderDesk holds for \
                      it (name, code/SKU, price, cost, weight, stock, location, metadata, \
                      variations, dates). Changes nothing. To find an item by SKU use \
                      inventory_list with `code`. May answer from the host's short-lived \
                      cache (then `cached` is true).",
        input: || schema::input(json!({"item_id": schema::item_id()}), &["item_id"]),
        annotations: READ,
        run: get,
    },
    ToolDef {
        name: "inventory_create",
        title: "Create an inventory item",
        description: "Add a new item to the store's inventory in OrderDesk. It needs a `name` \
                      or a `code` (the SKU OrderDesk matches against the code of order items); \
                      OrderDesk assigns the id and fills fields left out (price 0, stock 0, …). \
                      Each call adds another item, even with a SKU that already exists: check \
                      with inventory_list (`code`) first. Minimal example: \
                      {\"name\":\"Ceramic mug\",\"code\":\"MUG-WHT\",\"price\":\"12.00\",\
                      \"stock\":25}.",
        input: || {
            schema::input(
                json!({
                    "item": {
                        "type": "object",
                        "description": format!("The item's fields: {ITEM_FIELDS}."),
                        "properties": {
                            "name": {"type": ["string", "number"], "description": "Item name."},
                            "code": {"type": ["string", "number"],
                                     "description": "SKU, matched against order items' code."},
                            "stock": {"type": ["number", "string"],
                                      "description": "Quantity on hand."}
                        }
                    }
                }),
                &["item"],
            )
        },
        annotations: CREATE,
        run: create,
    },
    ToolDef {
        name: "inventory_update",
        title: "Update an inventory item",
        description: "Change fields of one inventory item (e.g. its stock or price). \
                      OrderDesk's update replaces the whole record, so the item is fetched \
                      fresh, `changes` are merged into it (objects key by key, null removes a \
                      field, lists and values replace) and the full item is written back: every \
                      field not named — including ones this tool does not know — stays as it \
                      was. The item keeps its `id`; it must keep a name or a code. Note that \
                      stock is set, not adjusted: read it first if you mean to add or subtract.",
        input: || {
            schema::input(
                json!({
                    "item_id": schema::item_id(),
                    "changes": schema::object(
                        "Only the fields to change, e.g. {\"stock\": 40} or {\"price\": \
                         \"14.00\", \"location\": null}."
                    )
                }),
                &["item_id", "changes"],
            )
        },
        annotations: UPDATE,
        run: update,
    },
    ToolDef {
        name: "inventory_delete",
        title: "Delete an inventory item",
        description: "Permanently delete one inventory item (its stock level, prices and \
                      metadata) from the store in OrderDesk. Cannot be undone: it would have to \
                      be created again with inventory_create, under a new id. Orders that name \
                      its SKU are not changed.",
        input: || schema::input(json!({"item_id": schema::item_id()}), &["item_id"]),
        annotations: DELETE,
        run: delete,
    },
];

fn item_target(args: &Args) -> Result<(Target, String, String), ToolError> {
    let item_id = args::id(args, "item_id")?;
    let target = host::target(args, format!("inventory item {item_id}"))?;
    let path = format!("/inventory-items/{item_id}");
    Ok((target, path, item_id))
}

fn get(args: &Args) -> Result<Value, ToolError> {
    let (target, path, _) = item_target(args)?;
    Ok(target
        .get(&path, Vec::new(), CacheMode::UseCache)?
        .payload())
}

fn create(args: &Args) -> Result<Value, ToolError> {
    let record = args::value(args, "item")?;
    item::validate_new(record, "item").map_err(args::invalid)?;
    let check = match record.get("code").and_then(lenient::non_empty_text) {
        Some(code) => format!("inventory_list with {{\"code\": {}}}", json!(code)),
        None => {
            let name = record
                .get("name")
                .and_then(lenient::non_empty_text)
                .unwrap_or_default();
            format!("inventory_list with {{\"search\": {}}}", json!(name))
        }
    };
    let target = host::target(args, "the new inventory item")?.verify(format!(
        "check with {check} (or inventory_get) before retrying: the item may already exist, and \
         a retry would create a duplicate"
    ));
    Ok(target.post("/inventory-items", record)?.payload())
}

/// Update the only way OrderDesk allows: fetch the item fresh (bypassing the cache),
/// merge `changes` into the whole record and PUT the whole record back, so every field
/// the change does not name — known or not — is sent back unchanged.
fn update(args: &Args) -> Result<Value, ToolError> {
    let (target, path, _) = item_target(args)?;
    let target = target.verify("check the item with inventory_get before retrying");
    let changes = args::value(args, "changes")?;
    // The shape is checked before any request; the locked id needs the record.
    let invalid = |e: String| args::invalid(e);
    validate_changes(changes, "changes", &Map::new(), &[]).map_err(|e| invalid(e.to_string()))?;
    if let Value::Object(fields) = changes {
        item::validate_changes(fields, "changes").map_err(invalid)?;
    }
    let fetched = target.get(&path, Vec::new(), CacheMode::Bypass)?;
    let current = fetched.record(KEY)?;
    let fields = current.as_object().cloned().unwrap_or_default();
    validate_changes(changes, "changes", &fields, &["id"]).map_err(|e| invalid(e.to_string()))?;

    let mut merged = current.clone();
    deep_merge(&mut merged, changes);
    item::validate_merged(&merged, "changes").map_err(invalid)?;
    if merged == current {
        return Ok(json!({
            KEY: current,
            "changed": false,
            "note": "the changes match the current item; nothing was sent to OrderDesk",
            "store_id": fetched.store_id,
        }));
    }
    let reply = target.put(&path, &merged)?;
    let mut result = match reply.record(KEY) {
        Ok(updated) => json!({KEY: updated}),
        Err(_) => json!({
            KEY: merged,
            "note": "OrderDesk's answer did not include the item; this is what was sent",
        }),
    };
    result["changed"] = json!(true);
    result["store_id"] = json!(reply.store_id);
    Ok(result)
}

fn delete(args: &Args) -> Result<Value, ToolError> {
    let (target, path, item_id) = item_target(args)?;
    let target =
        target.verify("check with inventory_get before retrying (not found means it was deleted)");
    let mut result = target.delete(&path)?.payload();
    result["deleted"] = json!(true);
    result["item_id"] = json!(item_id);
    Ok(result)
}
