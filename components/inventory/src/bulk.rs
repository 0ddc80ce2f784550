//! `inventory_update_many`: many items in few requests, through OrderDesk's
//! `PUT /batch-inventory-items`, which finds each item by `id` or `code` and sets the
//! fields sent (the rest of the item stays). A result per item, one item's failure not
//! stopping the others, progress, and the arguments to resume with when the call's
//! time runs short (store-api's `bulk`).

use order_model::lenient;
use order_model::schemas::{self as record_schemas, INVENTORY_ITEM};
use orderdesk_store_api::bulk::{self, Bulk};
use orderdesk_store_api::schema::{self, ID_PATTERN, UPDATE};
use orderdesk_store_api::{Id, Target};
use orderdesk_tool_kit::args::{NonBlank, invalid};
use orderdesk_tool_kit::{ToolError, ToolSpec};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

use crate::host;
use crate::item::{self, ITEM_FIELDS};

/// At most this many items per call.
const MAX_UPDATES: usize = 500;

/// Items per request. OrderDesk documents no limit; a modest batch keeps one refused
/// batch cheap to redo item by item.
const BATCH: usize = 50;

pub fn tool() -> ToolSpec {
    ToolSpec::new(
        "inventory_update_many",
        "Update many inventory items",
        "Set fields (e.g. stock, price, location) of up to 500 inventory items in a few \
         requests (OrderDesk's PUT /batch-inventory-items, 50 items each). Each entry \
         names its item by `item_id` or by `code` (SKU) and gives `changes`: only the \
         fields sent are set, the rest of the item stays. Values are set, not added \
         (stock 40 means 40; to add or subtract use inventory_adjust_stock); a field \
         cannot be removed here (null is refused: use inventory_update). Setting the \
         same values again changes nothing more. When OrderDesk refuses a batch (it \
         does so whole, e.g. for an unknown item), its items are sent one by one so \
         that the others still get their change. The answer has a result per item; if \
         the call's time runs short it answers `resume` with the arguments for the \
         items not sent.",
    )
    .input(|| {
        schema::input(
            json!({
                "updates": {
                    "type": "array",
                    "minItems": 1,
                    "maxItems": MAX_UPDATES,
                    "description": "The items and their changes.",
                    "items": {
                        "type": "object",
                        "properties": {
                            "item_id": {"type": "string", "pattern": ID_PATTERN,
                                        "description": "OrderDesk inventory item id (e.g. \"700101\")."},
                            "code": {"type": "string", "minLength": 1,
                                     "description": "The item's SKU, instead of item_id \
                                                     (e.g. \"MUG-WHT\")."},
                            "changes": record_schemas::changes(
                                INVENTORY_ITEM,
                                &format!(
                                    "The fields to set, e.g. {{\"stock\": 40}}: {ITEM_FIELDS}. \
                                     null is refused here."
                                )
                            )
                        },
                        "required": ["changes"],
                        "additionalProperties": false
                    }
                }
            }),
            &["updates"],
        )
    })
    .output(|| {
        bulk::output_schema(json!({
            "item_id": {"type": "string"},
            "code": {"type": "string"},
            "stock": {"description": "The item's stock after the change, as OrderDesk answered it."}
        }))
    })
    .annotations(UPDATE)
    .run(update_many)
}

/// One entry, as given (it goes back unchanged into the resume arguments).
#[derive(Clone, Deserialize, Serialize)]
struct ItemUpdate {
    #[serde(skip_serializing_if = "Option::is_none")]
    item_id: Option<Id>,
    #[serde(skip_serializing_if = "Option::is_none")]
    code: Option<String>,
    changes: Value,
}

impl ItemUpdate {
    /// How its result names it.
    fn record(&self) -> Value {
        match (&self.item_id, &self.code) {
            (Some(id), _) => json!({"item_id": id}),
            (None, Some(code)) => json!({"code": code}),
            (None, None) => json!({}),
        }
    }

    /// The entry of the batch body: the item's `id` or `code` and the fields to set;
    /// what is wrong with it otherwise (then it is not sent).
    fn entry(&self) -> Result<Value, ToolError> {
        let Value::Object(changes) = &self.changes else {
            return Err(invalid(
                "`changes` must be an object of fields, e.g. {\"stock\": 40}",
            ));
        };
        if changes.is_empty() {
            return Err(invalid(
                "`changes` names no field; give at least one, e.g. {\"stock\": 40}",
            ));
        }
        item::validate_changes(changes, "changes").map_err(invalid)?;
        if let Some((field, _)) = changes.iter().find(|(_, value)| value.is_null()) {
            return Err(invalid(format!(
                "`changes.{field}` is null: a batch update cannot remove a field; use \
                 inventory_update for that item"
            )));
        }
        if changes.contains_key("id") {
            return Err(invalid("`changes.id` cannot be set: an item keeps its id"));
        }
        let mut entry = Map::new();
        match (&self.item_id, &self.code) {
            (Some(id), None) => {
                entry.insert("id".to_string(), json!(id));
            }
            (None, Some(code)) if !code.trim().is_empty() => {
                if changes.contains_key("code") {
                    return Err(invalid(
                        "`changes.code` cannot be set on an item named by its code: name it by \
                         `item_id` to change its SKU",
                    ));
                }
                entry.insert("code".to_string(), json!(code.trim()));
            }
            _ => {
                return Err(invalid(
                    "give exactly one of `item_id` or `code` to name the item",
                ));
            }
        }
        entry.extend(changes.clone());
        Ok(Value::Object(entry))
    }

    /// Whether `item` (from OrderDesk's answer) is the one this entry names.
    fn names(&self, item: &Value) -> bool {
        let text = |key: &str| item.get(key).and_then(lenient::text);
        match (&self.item_id, &self.code) {
            (Some(id), _) => text("id").as_deref() == Some(id.as_str()),
            (None, Some(code)) => {
                let sent = self
                    .changes
                    .get("code")
                    .and_then(lenient::text)
                    .unwrap_or_else(|| code.trim().to_string());
                text("code").is_some_and(|own| own.eq_ignore_ascii_case(&sent))
            }
            (None, None) => false,
        }
    }
}

#[derive(Deserialize)]
struct UpdateMany {
    updates: Vec<ItemUpdate>,
    store: Option<NonBlank>,
}

fn update_many(args: UpdateMany) -> Result<Value, ToolError> {
    let count = args.updates.len();
    bulk::check_count("updates", count, MAX_UPDATES, "items")?;
    let store = args.store.map(NonBlank::into_string);
    let target = host::target(store.clone(), "one of the inventory items").verify(
        "check the items with inventory_get before retrying (setting the same values again \
         is harmless)",
    );
    let mut bulk = Bulk::new("inventory_update_many", "item", count);
    let mut next = 0;
    while next < count && bulk.may_continue() {
        let batch = &args.updates[next..(next + BATCH).min(count)];
        let settled = update_batch(&target, batch, next == 0, &mut bulk)?;
        next += settled;
        if settled < batch.len() {
            break;
        }
    }
    let mut remaining = json!({"updates": args.updates[next..]});
    if let Some(store) = store {
        remaining["store"] = json!(store);
    }
    Ok(bulk.finish(remaining))
}

/// Send one batch, recording a result per item; answers how many of its items are
/// settled (the others belong to the resume arguments). A failure of the `first` batch
/// that is not about an item (OrderDesk down, a write of unknown outcome) is the call's
/// error: nothing else was done.
fn update_batch(
    target: &Target,
    batch: &[ItemUpdate],
    first: bool,
    bulk: &mut Bulk,
) -> Result<usize, ToolError> {
    let entries: Vec<Result<Value, ToolError>> = batch.iter().map(ItemUpdate::entry).collect();
    let body: Vec<&Value> = entries.iter().filter_map(|e| e.as_ref().ok()).collect();
    let answer = if body.is_empty() {
        Ok(Vec::new())
    } else {
        send(target, &json!(body))
    };
    Ok(match answer {
        Err(error @ ToolError::RateLimited(_)) => {
            bulk.done(batch[0].record(), Err(error));
            0
        }
        // OrderDesk refuses a batch as a whole (e.g. for one unknown item): each item
        // alone tells which, and the others still get their change. Setting values is
        // idempotent, so sending one again that the refused batch did apply is harmless.
        Err(ToolError::NotFound(_) | ToolError::Upstream(_)) if body.len() > 1 => {
            for (settled, (update, entry)) in batch.iter().zip(entries).enumerate() {
                if settled > 0 && !bulk.may_continue() {
                    return Ok(settled);
                }
                let outcome = entry
                    .and_then(|entry| send(target, &json!([entry])))
                    .map(|items| result_of(update, &items));
                let next = bulk.done(update.record(), outcome);
                if next.retry() {
                    return Ok(settled);
                }
                if next.stop() {
                    return Ok(settled + 1);
                }
            }
            batch.len()
        }
        Err(error) if first => return Err(error),
        Err(error) => {
            for (update, entry) in batch.iter().zip(entries) {
                let error = entry.err().unwrap_or_else(|| error.clone());
                bulk.failed(update.record(), error);
            }
            batch.len()
        }
        Ok(items) => {
            for (update, entry) in batch.iter().zip(entries) {
                let outcome = entry.map(|_| result_of(update, &items));
                bulk.done(update.record(), outcome);
            }
            batch.len()
        }
    })
}

/// `PUT /batch-inventory-items` with `body` (a list of entries); the items answered.
fn send(target: &Target, body: &Value) -> Result<Vec<Value>, ToolError> {
    let reply = target.put("/batch-inventory-items", body)?;
    Ok(match reply.body.get("inventory_items") {
        Some(Value::Array(items)) => items.clone(),
        Some(Value::Object(items)) => items.values().cloned().collect(),
        _ => Vec::new(),
    })
}

/// The result of one item whose batch OrderDesk accepted.
fn result_of(update: &ItemUpdate, items: &[Value]) -> Value {
    let mut result = json!({"status": "updated"});
    if let Some(item) = items.iter().find(|item| update.names(item)) {
        if let Some(id) = item.get("id").and_then(lenient::text) {
            result["item_id"] = json!(id);
        }
        if let Some(stock) = item.get("stock") {
            result["stock"] = stock.clone();
        }
    }
    result
}

#[cfg(test)]
mod tests {
    use orderdesk_tool_kit::orderdesk::Method;
    use orderdesk_tool_kit::testing::{self, MockHost};
    use serde_json::json;

    use super::*;
    use crate::tools;

    fn call(arguments: Value) -> Result<Value, ToolError> {
        testing::call(&tools(), "inventory_update_many", arguments)
    }

    #[test]
    fn one_request_sets_every_valid_entry_and_a_bad_one_is_not_sent() {
        let host = MockHost::with_store();
        host.reply(
            200,
            json!({"status": "success", "inventory_items": [
                {"id": "700101", "code": "MUG", "stock": 40},
                {"id": "700102", "code": "LID", "stock": "7"}
            ]}),
        );
        let answer = call(json!({"updates": [
            {"item_id": "700101", "changes": {"stock": 40}},
            {"code": "lid", "changes": {"stock": 7}},
            {"code": "CUP", "changes": {"location": null}}
        ]}))
        .unwrap();
        assert_eq!(
            answer["results"],
            json!([
                {"item_id": "700101", "status": "updated", "stock": 40},
                {"code": "lid", "item_id": "700102", "status": "updated", "stock": "7"},
                {"code": "CUP", "status": "failed", "error": {"kind": "invalid_input",
                 "message": "`changes.location` is null: a batch update cannot remove a \
                             field; use inventory_update for that item"}}
            ])
        );
        let requests = host.requests();
        assert_eq!(requests.len(), 1);
        assert_eq!(
            (requests[0].method, requests[0].path.as_str()),
            (Method::Put, "/batch-inventory-items")
        );
        assert_eq!(
            requests[0].body,
            Some(json!([{"id": "700101", "stock": 40}, {"code": "lid", "stock": 7}]))
        );
    }

    #[test]
    fn a_refused_batch_is_sent_item_by_item_so_the_others_still_change() {
        let host = MockHost::with_store();
        host.reply(
            422,
            json!({"status": "error", "message": "inventory_items[1]: Inventory Item Not Found"}),
        )
        .reply(
            200,
            json!({"status": "success", "inventory_items": [{"id": "1", "stock": 5}]}),
        )
        .reply(
            422,
            json!({"status": "error", "message": "inventory_items[0]: Inventory Item Not Found"}),
        )
        .fail(orderdesk_tool_kit::HostError::RateLimited(2000));
        let answer = call(json!({"store": "main", "updates": [
            {"item_id": "1", "changes": {"stock": 5}},
            {"item_id": "999", "changes": {"stock": 5}},
            {"item_id": "3", "changes": {"stock": 5}}
        ]}))
        .unwrap();
        assert_eq!(answer["results"][0]["status"], "updated");
        assert_eq!(answer["results"][1]["error"]["kind"], "upstream");
        assert_eq!(answer["summary"]["not_attempted"], 1);
        assert_eq!(
            answer["resume"],
            json!({"tool": "inventory_update_many", "arguments": {
                "store": "main", "updates": [{"item_id": "3", "changes": {"stock": 5}}]}})
        );
        let bodies: Vec<Value> = host.requests().into_iter().filter_map(|r| r.body).collect();
        assert_eq!(bodies[1], json!([{"id": "1", "stock": 5}]));
        assert_eq!(bodies[2], json!([{"id": "999", "stock": 5}]));
    }
}
