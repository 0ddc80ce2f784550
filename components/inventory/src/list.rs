//! `inventory_list`: `GET /inventory-items`, one page at a time.

use order_model::lenient;
use order_model::views::INVENTORY_SUMMARY_FIELDS;
use orderdesk_store_api::schema::{self, pagination};
use orderdesk_store_api::views::{
    self, INVENTORY_ITEMS, ReadOptions, answer_budget, pagination_schema, read_properties,
};
use orderdesk_tool_kit::ToolError;
use orderdesk_tool_kit::args::{NonBlank, WholeNumber, in_range};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::host;

pub const DESCRIPTION: &str = "List the store's inventory items (GET /inventory-items). \
                               Changes nothing. Each item is a summary by default (id, name, code (SKU), price, stock); \
                               `view: \"full\"` answers whole items (cost, weight, location, metadata, variations, \
                               dates, …), `fields` only the fields named (dotted paths). `code` finds the item with \
                               exactly that SKU; `search` finds text in the items (such as the name or SKU); both \
                               together must match. One page holds up to `limit` items (1–500, default 50) and stops \
                               early when the answer would grow too large for the client; `pagination.next_offset` \
                               gives the `offset` of the next page (null when there is none). May answer from the \
                               host's short-lived cache (then `cache_age_s` says how old the answer is; `fresh: true` \
                               reads OrderDesk again).";

const DEFAULT_LIMIT: u64 = 50;
const MAX_LIMIT: u64 = 500;

pub fn input() -> Value {
    let mut properties = json!({
            "limit": {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT,
                      "default": DEFAULT_LIMIT,
                      "description": "Items per page, 1–500 (default 50)."},
            "offset": {"type": "integer", "minimum": 0, "default": 0,
                       "description": "How many matching items to skip (use \
                                       pagination.next_offset)."},
            "code": {"type": "string", "minLength": 1,
                     "description": "Only the item with this SKU code (e.g. \"MUG-WHT\")."},
            "search": {"type": "string", "minLength": 1,
                       "description": "Only items whose text (e.g. name or SKU) contains this."}
    });
    if let (Value::Object(properties), Value::Object(read)) =
        (&mut properties, read_properties(INVENTORY_SUMMARY_FIELDS))
    {
        properties.extend(read);
    }
    schema::input(properties, &[])
}

/// The answer: a page of items in the view asked for.
pub fn output() -> Value {
    INVENTORY_ITEMS.list_output(json!({"pagination": pagination_schema()}))
}

#[derive(Deserialize)]
pub struct ListArgs {
    limit: Option<WholeNumber>,
    offset: Option<WholeNumber>,
    code: Option<NonBlank>,
    search: Option<NonBlank>,
    store: Option<NonBlank>,
    #[serde(flatten)]
    read: ReadOptions,
}

pub fn run(args: ListArgs) -> Result<Value, ToolError> {
    let view = args.read.view()?;
    let limit = in_range("limit", args.limit, 1..=MAX_LIMIT)?.unwrap_or(DEFAULT_LIMIT);
    let offset = in_range("offset", args.offset, 0..=u32::MAX.into())?.unwrap_or(0);
    let mut query = vec![
        ("limit".to_string(), limit.to_string()),
        ("offset".to_string(), offset.to_string()),
    ];
    for (filter, value) in [("code", args.code), ("search", args.search)] {
        if let Some(value) = value {
            query.push((filter.to_string(), value.trim().to_string()));
        }
    }
    let target = host::target(args.store, "the inventory search");
    let reply = target.get("/inventory-items", query, args.read.cache())?;
    let body = &reply.body;
    let items = match body.get("inventory_items") {
        Some(Value::Array(items)) => items.clone(),
        // PHP writes an empty list as `[]`, but a keyed one as an object.
        Some(Value::Object(items)) => items.values().cloned().collect(),
        None | Some(Value::Null) => Vec::new(),
        Some(other) => {
            return Err(ToolError::Upstream(format!(
                "OrderDesk's inventory list answered `inventory_items` as {}, not a list",
                lenient::kind(other)
            )));
        }
    };
    let count = |key: &str| {
        body.get(key)
            .and_then(lenient::integer)
            .and_then(|n| u64::try_from(n).ok())
    };
    let total = count("total_records");
    let offset = count("offset").unwrap_or(offset);
    let limit = count("limit").unwrap_or(limit);
    // Cut to the answer budget: the page then ends at the first item left out.
    let budget = answer_budget();
    let fitted = INVENTORY_ITEMS.fit(items, &view, budget);
    let kept = fitted.records.len() as u64;
    let mut pagination = pagination(total, kept, offset, limit);
    let mut result = json!({
        "inventory_items": fitted.records,
        "view": view.name(),
        "more": INVENTORY_ITEMS.more(&view),
        "pagination": pagination.take(),
        "store_id": reply.store_id,
    });
    if fitted.left_out > 0 {
        let next = offset + kept;
        result["pagination"]["has_more"] = json!(true);
        result["pagination"]["next_offset"] = json!(next);
        result["note"] = json!(format!(
            "stopped after {kept} items ({} of this page left out) to keep the answer within \
             {budget} bytes; continue with offset {next}",
            fitted.left_out
        ));
    }
    views::add_cached(&mut result, &reply);
    views::add_now(&mut result);
    Ok(result)
}
