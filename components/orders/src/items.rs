//! Order items: `/orders/{order_id}/order-items[/{item_id}]`. OrderDesk recalculates the
//! order's totals after every change.

use order_model::schemas::{self as record_schemas, ORDER_ITEM};
use order_model::validate::validate_new_item;
use order_model::views::ITEM_SUMMARY_FIELDS;
use orderdesk_store_api::views::{ORDER_ITEMS, write_result_output};
use orderdesk_tool_kit::{Args, ToolError, ToolSpec};
use serde_json::{Value, json};

use crate::resource::Resource;
use crate::schema::{self, CREATE, DELETE, READ, UPDATE};

const ITEMS: Resource = Resource {
    noun: "item",
    segment: "order-items",
    key: "order_item",
    id_arg: "item_id",
    body_arg: "item",
    tools: "order_items",
    locked: &["id"],
    validate: validate_new_item,
    records: &ORDER_ITEMS,
};

fn item_id() -> Value {
    schema::id("Order item id (e.g. \"88120001\"), as order_items_list shows it.")
}

pub fn tools() -> Vec<ToolSpec> {
    vec![
        ToolSpec::new(
            "order_items_list",
            "List an order's items",
            "List the line items of one order. Changes nothing. Each item is a summary \
             by default (id, name, code, price, quantity); `view: \"full\"` answers \
             whole items (weight, delivery_type, variations, metadata, …), `fields` only \
             the fields named. May answer from the host's short-lived cache (then \
             `cache_age_s` says how old the answer is; `fresh: true` reads OrderDesk again).",
        )
        .input(|| {
            schema::read_input(
                json!({"order_id": schema::order_id()}),
                &["order_id"],
                ITEM_SUMMARY_FIELDS,
            )
        })
        .output(|| ORDER_ITEMS.list_output(json!({"order_id": {"type": "string"}})))
        .annotations(READ)
        .run(list),
        ToolSpec::new(
            "order_items_get",
            "Get an order item",
            "Read one line item of an order. Changes nothing. A summary by default (id, \
             name, code, price, quantity); `view: \"full\"` answers the whole item, \
             `fields` only the fields named. `fresh: true` bypasses the host's cache.",
        )
        .input(|| {
            schema::read_input(
                json!({"order_id": schema::order_id(), "item_id": item_id()}),
                &["order_id", "item_id"],
                ITEM_SUMMARY_FIELDS,
            )
        })
        .output(|| ORDER_ITEMS.one_output(json!({"order_id": {"type": "string"}})))
        .annotations(READ)
        .run(get),
        ToolSpec::new(
            "order_items_create",
            "Add an item to an order",
            "Add a line item to an existing order in OrderDesk. OrderDesk recalculates \
             the order's totals. Each call adds another item. Example item: \
             {\"name\":\"Canvas tote\",\"code\":\"TOTE-1\",\"price\":40,\"quantity\":1}.",
        )
        .input(|| {
            schema::input(
                json!({
                    "order_id": schema::order_id(),
                    "item": record_schemas::new_record(
                        ORDER_ITEM,
                        "The new item's fields: name, code (SKU), price, quantity, weight, \
                         delivery_type (ship, noship, download, future), category_code, \
                         variation_list {option: value}, metadata {key: value}.",
                        &[],
                    )
                }),
                &["order_id", "item"],
            )
        })
        .output(|| ORDER_ITEMS.write_output(json!({"order_id": {"type": "string"}})))
        .annotations(CREATE)
        .run(create),
        ToolSpec::new(
            "order_items_update",
            "Update an order item",
            "Change fields of one line item: the item is fetched fresh, `changes` are \
             merged into it (objects key by key, null removes a field, lists and \
             values replace) and the whole item is written back, so fields not named \
             stay as they are. OrderDesk recalculates the order's totals. The item \
             `id` cannot change.",
        )
        .input(|| {
            schema::input(
                json!({
                    "order_id": schema::order_id(),
                    "item_id": item_id(),
                    "changes": record_schemas::changes(
                        ORDER_ITEM,
                        "Only the fields to change, e.g. {\"quantity\": 3} or \
                         {\"variation_list\": {\"Size\": \"L\"}}. null removes a field."
                    ),
                    "expected_date_updated": schema::expected_date_updated(
                        "the order it belongs to (items and shipments have no date_updated of their own; OrderDesk bumps the order's whenever one changes)"
                    )
                }),
                &["order_id", "item_id", "changes"],
            )
        })
        .output(|| ORDER_ITEMS.write_output(json!({"order_id": {"type": "string"}})))
        .annotations(UPDATE)
        .run(update),
        ToolSpec::new(
            "order_items_delete",
            "Remove an item from an order",
            "Delete one line item from an order in OrderDesk; OrderDesk recalculates \
             the order's totals. Cannot be undone (add it again with \
             order_items_create).",
        )
        .input(|| {
            schema::input(
                json!({"order_id": schema::order_id(), "item_id": item_id()}),
                &["order_id", "item_id"],
            )
        })
        .output(|| {
            write_result_output(json!({"deleted": {"type": "boolean"},
                                       "order_id": {"type": "string"},
                                       "item_id": {"type": "string"}}))
        })
        .annotations(DELETE)
        .run(delete),
    ]
}

fn list(args: Args) -> Result<Value, ToolError> {
    ITEMS.list(args)
}

fn get(args: Args) -> Result<Value, ToolError> {
    ITEMS.get(args)
}

fn create(args: Args) -> Result<Value, ToolError> {
    ITEMS.create(args)
}

fn update(args: Args) -> Result<Value, ToolError> {
    ITEMS.update(args)
}

fn delete(args: Args) -> Result<Value, ToolError> {
    ITEMS.delete(args)
}
