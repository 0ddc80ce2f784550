//! `inventory_adjust_stock`: change an item's stock by a delta. OrderDesk only sets
//! stock, so this is fetch → add → PUT of the whole item, like every update.

use order_model::lenient;
use orderdesk_store_api::schema::{self, ID_PATTERN};
use orderdesk_store_api::{Expected, Id};
use orderdesk_tool_kit::args::{NonBlank, invalid};
use orderdesk_tool_kit::{Annotations, ToolError, ToolSpec, annotations};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::host;
use crate::item;

/// Not idempotent: each call moves the stock again.
const ADJUST: Annotations = annotations(false, false, false, true);

/// A delta beyond this is surely a typo (OrderDesk keeps stock as a plain integer).
const MAX_DELTA: i64 = 1_000_000_000;

pub fn tool() -> ToolSpec {
    ToolSpec::new(
        "inventory_adjust_stock",
        "Adjust an item's stock",
        "Change the stock of one inventory item by `delta` (e.g. -3 after counting three \
         broken, 12 after a delivery): the item is read fresh, the delta added to its \
         current stock and the whole item written back (OrderDesk has no increment). \
         Answers the stock before and after. Each call adjusts again, so if the outcome \
         is unknown, read the item with inventory_get before retrying. Stock may go below \
         zero (the answer says so). To set an exact level use inventory_update.",
    )
    .input(|| {
        schema::input(
            json!({
                "item_id": {
                    "type": "string",
                    "pattern": ID_PATTERN,
                    "description": "OrderDesk inventory item id (e.g. \"700101\"), as \
                                    inventory_list shows it; to find it by SKU use \
                                    inventory_list with `code`."
                },
                "delta": {
                    "type": "integer",
                    "minimum": -MAX_DELTA,
                    "maximum": MAX_DELTA,
                    "not": {"const": 0},
                    "description": "How much to add to the stock; negative to take away \
                                    (e.g. -3)."
                },
                "expected_date_updated": schema::expected_date_updated("the item")
            }),
            &["item_id", "delta"],
        )
    })
    .output(|| {
        json!({
            "type": "object",
            "required": ["item_id", "previous_stock", "stock", "delta", "inventory_item", "store_id"],
            "properties": {
                "item_id": {"type": "string"},
                "previous_stock": {"type": "integer", "description": "The stock read just before the change."},
                "stock": {"type": "integer", "description": "The stock written."},
                "delta": {"type": "integer"},
                "inventory_item": {"type": "object", "description": "The item as OrderDesk answered it after the change."},
                "note": {"type": "string"},
                "store_id": {"type": "string"}
            }
        })
    })
    .annotations(ADJUST)
    .run(adjust)
}

#[derive(Deserialize)]
struct Adjust {
    item_id: Id,
    delta: i64,
    expected_date_updated: Option<String>,
    store: Option<NonBlank>,
}

fn adjust(args: Adjust) -> Result<Value, ToolError> {
    if args.delta == 0 || args.delta.abs() > MAX_DELTA {
        return Err(invalid(format!(
            "`delta` must be a whole number from -{MAX_DELTA} to {MAX_DELTA} other than 0, \
             e.g. -3"
        )));
    }
    let item_id = args.item_id;
    let subject = format!("inventory item {item_id}");
    let target = host::target(args.store, subject.clone()).verify(format!(
        "read the item with inventory_get before retrying: if its stock already moved by \
         {}, the adjustment was applied",
        args.delta
    ));
    let path = format!("/inventory-items/{item_id}");
    let update = item::update(&path);
    let expected = args
        .expected_date_updated
        .as_deref()
        .map(|date| Expected::own(date, &subject, "inventory_get"));
    let mut previous = 0;
    let result = update.apply_computed(&target, expected.as_ref(), |current| {
        previous = current_stock(current, &subject)?;
        let stock = previous.checked_add(args.delta).ok_or_else(|| {
            invalid(format!(
                "{subject}'s stock {previous} cannot move by {}",
                args.delta
            ))
        })?;
        Ok(json!({"stock": stock}))
    })?;
    let stock = previous + args.delta;
    let mut answer = json!({
        "item_id": item_id,
        "previous_stock": previous,
        "stock": stock,
        "delta": args.delta,
        "inventory_item": result["inventory_item"],
        "store_id": result["store_id"],
    });
    let mut notes: Vec<String> = result["note"]
        .as_str()
        .map(str::to_string)
        .into_iter()
        .collect();
    if stock < 0 {
        notes.push(format!("the stock is now below zero ({stock})"));
    }
    if !notes.is_empty() {
        answer["note"] = json!(notes.join("; "));
    }
    Ok(answer)
}

/// The item's stock as a whole number (OrderDesk may send `"11"`).
fn current_stock(item: &Value, subject: &str) -> Result<i64, ToolError> {
    match item.get("stock") {
        Some(stock) => lenient::integer(stock).ok_or_else(|| {
            ToolError::Upstream(format!(
                "{subject}'s stock is {stock}, not a whole number, so it cannot be adjusted; \
                 nothing was written. Set it with inventory_update instead"
            ))
        }),
        None => Err(ToolError::Upstream(format!(
            "OrderDesk's answer holds no stock for {subject}; nothing was written. Set it \
             with inventory_update instead"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use orderdesk_tool_kit::errors::conflict;
    use orderdesk_tool_kit::orderdesk::Method;
    use orderdesk_tool_kit::testing::{self, MockHost, error_message};
    use serde_json::json;

    use super::*;
    use crate::tools;

    fn call(arguments: Value) -> Result<Value, ToolError> {
        testing::call(&tools(), "inventory_adjust_stock", arguments)
    }

    #[test]
    fn the_delta_is_added_to_the_fresh_stock_and_the_whole_item_written_back() {
        let host = MockHost::with_store();
        let stored = json!({"id": "700101", "name": "Mug", "stock": "11", "supplier": {"id": 3},
                            "date_updated": "2026-03-14 09:12:45"});
        host.reply(200, json!({"status": "success", "inventory_item": stored}))
            .reply(
                200,
                json!({"status": "success", "inventory_item": {"id": "700101", "stock": 8}}),
            );
        let answer = call(json!({"item_id": "700101", "delta": -3,
                                 "expected_date_updated": "2026-03-14 09:12:45"}))
        .unwrap();
        assert_eq!(
            (answer["previous_stock"].clone(), answer["stock"].clone()),
            (json!(11), json!(8))
        );
        let put = &host.requests()[1];
        assert_eq!(put.method, Method::Put);
        assert_eq!(
            put.body,
            Some(
                json!({"id": "700101", "name": "Mug", "stock": 8, "supplier": {"id": 3},
                        "date_updated": "2026-03-14 09:12:45"})
            )
        );
    }

    #[test]
    fn a_changed_item_is_a_conflict_and_a_stock_that_is_no_number_is_not_guessed() {
        let host = MockHost::with_store();
        host.reply(
            200,
            json!({"status": "success",
                   "inventory_item": {"id": "1", "name": "Mug", "stock": 4,
                                      "date_updated": "2026-03-14 10:00:00"}}),
        )
        .reply(
            200,
            json!({"status": "success", "inventory_item": {"id": "1", "name": "Mug", "stock": "n/a"}}),
        );
        let conflict = error_message(
            call(
                json!({"item_id": "1", "delta": 2, "expected_date_updated": "2026-03-14 09:00:00"}),
            ),
            conflict,
        );
        assert!(conflict.contains("inventory_get"), "{conflict}");
        let odd = error_message(
            call(json!({"item_id": "1", "delta": 2})),
            ToolError::Upstream,
        );
        assert!(odd.contains("inventory_update"), "{odd}");
        let zero = error_message(
            call(json!({"item_id": "1", "delta": 0})),
            ToolError::InvalidInput,
        );
        assert!(zero.contains("other than 0"), "{zero}");
        assert_eq!(host.requests().len(), 2, "two reads, no write");
    }
}
