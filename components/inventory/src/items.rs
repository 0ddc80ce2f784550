//! The inventory tools: their table and the handlers of `/inventory-items/{id}`
//! (get, update, delete) and `POST /inventory-items`. The list is in `list.rs`.

use order_model::lenient;
use order_model::schemas::{self as record_schemas, INVENTORY_ITEM};
use order_model::views::INVENTORY_SUMMARY_FIELDS;
use orderdesk_store_api::schema::{self, CREATE, DELETE, ID_PATTERN, READ, UPDATE};
use orderdesk_store_api::views::{
    INVENTORY_ITEMS, ReadOptions, read_properties, write_result_output,
};
use orderdesk_store_api::{Expected, Id};
use orderdesk_tool_kit::args::{NonBlank, invalid};
use orderdesk_tool_kit::{ToolError, ToolSpec};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::host::{self, Target};
use crate::item::{self, ITEM_FIELDS};
use crate::list;

/// The `item_id` property.
fn item_id() -> Value {
    json!({
        "type": "string",
        "pattern": ID_PATTERN,
        "description": "OrderDesk inventory item id (e.g. \"700101\"), as inventory_list or \
                        inventory_get show it. Not the SKU: to find an item by SKU use \
                        inventory_list with `code`."
    })
}

pub fn tools() -> Vec<ToolSpec> {
    vec![
        ToolSpec::new("inventory_list", "List inventory items", list::DESCRIPTION)
            .input(list::input)
            .output(list::output)
            .annotations(READ)
            .run(list::run),
        ToolSpec::new(
            "inventory_get",
            "Get an inventory item",
            "Read one inventory item by its id. Changes nothing. A summary by default \
             (id, name, code, price, stock); `view: \"full\"` answers everything \
             OrderDesk holds for it (cost, weight, location, metadata, variations, \
             dates, …), `fields` only the fields named. To find an item by SKU use \
             inventory_list with `code`. May answer from the host's short-lived cache \
             (then `cache_age_s` says how old the answer is; `fresh: true` reads OrderDesk \
             again).",
        )
        .input(|| {
            let mut properties = json!({"item_id": item_id()});
            if let (Value::Object(properties), Value::Object(read)) =
                (&mut properties, read_properties(INVENTORY_SUMMARY_FIELDS))
            {
                properties.extend(read);
            }
            schema::input(properties, &["item_id"])
        })
        .output(|| INVENTORY_ITEMS.one_output(json!({})))
        .annotations(READ)
        .run(get),
        ToolSpec::new(
            "inventory_create",
            "Create an inventory item",
            "Add a new item to the store's inventory in OrderDesk. It needs a `name` \
             or a `code` (the SKU OrderDesk matches against the code of order items); \
             OrderDesk assigns the id and fills fields left out (price 0, stock 0, …). \
             Each call adds another item, even with a SKU that already exists: check \
             with inventory_list (`code`) first. Minimal example: \
             {\"name\":\"Ceramic mug\",\"code\":\"MUG-WHT\",\"price\":\"12.00\",\
             \"stock\":25}.",
        )
        .input(|| {
            schema::input(
                json!({
                    "item": record_schemas::new_record(
                        INVENTORY_ITEM,
                        &format!("The item's fields: {ITEM_FIELDS}."),
                        &[],
                    )
                }),
                &["item"],
            )
        })
        .output(|| INVENTORY_ITEMS.write_output(json!({})))
        .annotations(CREATE)
        .run(create),
        ToolSpec::new(
            "inventory_update",
            "Update an inventory item",
            "Change fields of one inventory item (e.g. its stock or price). \
             OrderDesk's update replaces the whole record, so the item is fetched \
             fresh, `changes` are merged into it (objects key by key, null removes a \
             field, lists and values replace) and the full item is written back: every \
             field not named — including ones this tool does not know — stays as it \
             was. The item keeps its `id`; it must keep a name or a code. Note that \
             stock is set, not adjusted: read it first if you mean to add or subtract.",
        )
        .input(|| {
            schema::input(
                json!({
                    "item_id": item_id(),
                    "changes": record_schemas::changes(
                        INVENTORY_ITEM,
                        "Only the fields to change, e.g. {\"stock\": 40} or {\"price\": \
                         \"14.00\", \"location\": null}. null removes a field."
                    ),
                    "expected_date_updated": schema::expected_date_updated("the item")
                }),
                &["item_id", "changes"],
            )
        })
        .output(|| INVENTORY_ITEMS.write_output(json!({})))
        .annotations(UPDATE)
        .run(update),
        ToolSpec::new(
            "inventory_delete",
            "Delete an inventory item",
            "Permanently delete one inventory item (its stock level, prices and \
             metadata) from the store in OrderDesk. Cannot be undone: it would have to \
             be created again with inventory_create, under a new id. Orders that name \
             its SKU are not changed.",
        )
        .input(|| schema::input(json!({"item_id": item_id()}), &["item_id"]))
        .output(|| {
            write_result_output(json!({"deleted": {"type": "boolean"},
                                       "item_id": {"type": "string"}}))
        })
        .annotations(DELETE)
        .run(delete),
    ]
}

/// The arguments of the tools that address one item.
#[derive(Deserialize)]
struct ItemRef {
    item_id: Id,
    store: Option<NonBlank>,
}

impl ItemRef {
    fn target(self) -> (Target, String, Id) {
        let target = host::target(self.store, format!("inventory item {}", self.item_id));
        let path = format!("/inventory-items/{}", self.item_id);
        (target, path, self.item_id)
    }
}

/// The arguments of inventory_get.
#[derive(Deserialize)]
struct Get {
    item_id: Id,
    store: Option<NonBlank>,
    #[serde(flatten)]
    read: ReadOptions,
}

fn get(args: Get) -> Result<Value, ToolError> {
    let view = args.read.view()?;
    let item = ItemRef {
        item_id: args.item_id,
        store: args.store,
    };
    let (target, path, _) = item.target();
    let reply = target.get(&path, Vec::new(), args.read.cache())?;
    let record = reply.record("inventory_item")?;
    Ok(INVENTORY_ITEMS.one(&record, &view, &reply))
}

#[derive(Deserialize)]
struct Create {
    item: Value,
    store: Option<NonBlank>,
}

fn create(args: Create) -> Result<Value, ToolError> {
    let record = &args.item;
    item::validate_new(record, "item").map_err(invalid)?;
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
    let target = host::target(args.store, "the new inventory item").verify(format!(
        "check with {check} (or inventory_get) before retrying: the item may already exist, and \
         a retry would create a duplicate"
    ));
    Ok(target.post("/inventory-items", record)?.payload())
}

#[derive(Deserialize)]
struct Change {
    item_id: Id,
    changes: Value,
    expected_date_updated: Option<String>,
    store: Option<NonBlank>,
}

/// Update the only way OrderDesk allows (fetch, merge, PUT the whole record), with the
/// item's own checks: the documented fields' kinds before anything is sent, a name or
/// code after the merge.
fn update(args: Change) -> Result<Value, ToolError> {
    if let Value::Object(fields) = &args.changes {
        item::validate_changes(fields, "changes").map_err(invalid)?;
    }
    let item = ItemRef {
        item_id: args.item_id,
        store: args.store,
    };
    let (target, path, item_id) = item.target();
    let target = target.verify("check the item with inventory_get before retrying");
    let update = item::update(&path);
    let subject = format!("inventory item {item_id}");
    let expected = args
        .expected_date_updated
        .as_deref()
        .map(|date| Expected::own(date, &subject, "inventory_get"));
    update.apply_expecting(&target, &args.changes, expected.as_ref())
}

fn delete(args: ItemRef) -> Result<Value, ToolError> {
    let (target, path, item_id) = args.target();
    let target =
        target.verify("check with inventory_get before retrying (not found means it was deleted)");
    let mut result = target.delete(&path)?.payload();
    result["deleted"] = json!(true);
    result["item_id"] = json!(item_id);
    Ok(result)
}
