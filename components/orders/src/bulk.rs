//! Work on many orders in one call: `orders_update_many` (fetch → merge → PUT per
//! order) and `orders_move` (`POST /move-orders`, in batches). Each answers a result per
//! order, goes on past one order's failure, reports progress, and stops in time to
//! answer what it did and the exact arguments to resume with (store-api's `bulk`).

use order_model::lenient;
use order_model::schemas::{self as record_schemas, ORDER};
use orderdesk_store_api::bulk::{self, Bulk};
use orderdesk_store_api::{Expected, Id};
use orderdesk_tool_kit::args::{NonBlank, WholeNumber, in_range, invalid};
use orderdesk_tool_kit::{ToolError, ToolSpec};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::host::{self, CacheMode, Target};
use crate::orders::order_update;
use crate::schema::{self, MOVE, UPDATE};

/// At most this many orders per `orders_update_many` call: two requests each, so a
/// full call fits the host's pacing (20 at once, then 3 a second) in about a minute.
const MAX_UPDATES: usize = 100;

/// At most this many orders per `orders_move` call.
const MAX_MOVES: usize = 500;

/// Orders per `POST /move-orders`: small enough that checking a refused batch order by
/// order stays cheap.
const MOVE_BATCH: usize = 25;

pub fn tools() -> Vec<ToolSpec> {
    vec![update_many_tool(), move_tool()]
}

fn update_many_tool() -> ToolSpec {
    ToolSpec::new(
        "orders_update_many",
        "Update many orders",
        "Change fields of up to 100 orders in one call, each with its own `changes` (to \
         give several orders the same change, repeat it per order). Each order is \
         updated as orders_update does — fetched fresh, changes merged, the whole order \
         written back, `expected_date_updated` checked when given — one after another. \
         One order failing (not found, a conflict, invalid changes) does not stop the \
         others: the answer has a result per order (`status` updated, unchanged or \
         failed with `error`). If the call's time runs short it stops between orders \
         and answers `resume`: call `resume.tool` with exactly `resume.arguments` to do \
         the rest.",
    )
    .input(|| {
        schema::input(
            json!({
                "updates": {
                    "type": "array",
                    "minItems": 1,
                    "maxItems": MAX_UPDATES,
                    "description": "The orders and their changes, done in this order.",
                    "items": {
                        "type": "object",
                        "properties": {
                            "order_id": schema::order_id(),
                            "changes": record_schemas::changes(
                                ORDER,
                                "Only the fields to change, as for orders_update, e.g. \
                                 {\"tag_name\": \"Rush\"}. null removes a field."
                            ),
                            "expected_date_updated": schema::expected_date_updated("the order")
                        },
                        "required": ["order_id", "changes"],
                        "additionalProperties": false
                    }
                }
            }),
            &["updates"],
        )
    })
    .output(|| {
        bulk::output_schema(json!({
            "order_id": {"type": "string"},
            "date_updated": {"type": "string",
                             "description": "The order's date_updated after the change."}
        }))
    })
    .annotations(UPDATE)
    .run(update_many)
}

fn move_tool() -> ToolSpec {
    ToolSpec::new(
        "orders_move",
        "Move orders to a folder",
        "Move one or more orders (up to 500) to another folder, named by exactly one of \
         `destination_folder_id` or `destination_folder_name` (folders are listed by \
         stores_get_settings). WARNING: moving fires the destination folder's automation \
         rules in OrderDesk — e.g. customer emails, fulfilment or dropship submissions — \
         every time it is called. Confirm with the user before moving orders. Orders go \
         to OrderDesk in batches of 25, which it answers as a whole: `moved` means \
         OrderDesk accepted the batch holding the order. When it refuses a batch \
         because an order in it is unknown, each order of that batch is read to tell \
         which, and the others are sent again. An unknown folder fails the call \
         (nothing is moved). The answer has a result per order; if \
         the call's time runs short it answers `resume` with the arguments for the \
         orders not sent.",
    )
    .input(|| {
        schema::input(
            json!({
                "order_ids": {
                    "type": "array",
                    "minItems": 1,
                    "maxItems": MAX_MOVES,
                    "uniqueItems": true,
                    "items": {"type": "string", "pattern": schema::ID_PATTERN},
                    "description": "The ids of the orders to move."
                },
                "destination_folder_id": {
                    "type": "integer", "minimum": 1,
                    "description": "Id of the folder to move them to."
                },
                "destination_folder_name": {
                    "type": "string", "minLength": 1,
                    "description": "Name of the folder to move them to (instead of its id)."
                }
            }),
            &["order_ids"],
        )
    })
    .output(|| {
        let mut schema = bulk::output_schema(json!({
            "order_id": {"type": "string"}
        }));
        schema["properties"]["results"]["items"]["properties"]["status"]["description"] = json!(
            "`moved` (OrderDesk accepted the batch holding it), `in_destination` (it was \
             found in the destination folder when checked), or `failed` with `error`."
        );
        schema
    })
    .annotations(MOVE)
    .run(move_orders)
}

/// One entry of `orders_update_many`, as given (it goes back unchanged into the resume
/// arguments).
#[derive(Clone, Deserialize, Serialize)]
struct OrderUpdate {
    order_id: Id,
    changes: Value,
    #[serde(skip_serializing_if = "Option::is_none")]
    expected_date_updated: Option<String>,
}

#[derive(Deserialize)]
struct UpdateMany {
    updates: Vec<OrderUpdate>,
    store: Option<NonBlank>,
}

fn update_many(args: UpdateMany) -> Result<Value, ToolError> {
    let count = args.updates.len();
    bulk::check_count("updates", count, MAX_UPDATES, "orders")?;
    let store = args.store.map(NonBlank::into_string);
    let mut bulk = Bulk::new("orders_update_many", "order", count);
    let mut next = 0;
    while next < count && bulk.may_continue() {
        let entry = &args.updates[next];
        let outcome = update_one(store.as_deref(), entry);
        let after = bulk.done(json!({"order_id": entry.order_id}), outcome);
        if after.retry() {
            break;
        }
        next += 1;
        if after.stop() {
            break;
        }
    }
    let mut remaining = json!({"updates": args.updates[next..]});
    if let Some(store) = store {
        remaining["store"] = json!(store);
    }
    Ok(bulk.finish(remaining))
}

/// Update one order as `orders_update` does; the result names only what changed.
fn update_one(store: Option<&str>, entry: &OrderUpdate) -> Result<Value, ToolError> {
    let order_id = &entry.order_id;
    let subject = format!("order {order_id}");
    let target = host::target(store, subject.clone());
    let path = format!("/orders/{order_id}");
    let update = order_update(&path);
    let expected = entry
        .expected_date_updated
        .as_deref()
        .map(|date| Expected::own(date, &subject, "orders_get"));
    let result = update.apply_expecting(&target, &entry.changes, expected.as_ref())?;
    let status = if result["changed"] == true {
        "updated"
    } else {
        "unchanged"
    };
    let mut outcome = json!({"status": status, "store_id": result["store_id"]});
    if let Some(date) = result["order"].get("date_updated").and_then(Value::as_str) {
        outcome["date_updated"] = json!(date);
    }
    Ok(outcome)
}

#[derive(Deserialize)]
struct Move {
    order_ids: Vec<Id>,
    destination_folder_id: Option<WholeNumber>,
    destination_folder_name: Option<NonBlank>,
    store: Option<NonBlank>,
}

/// Where the orders go, as `POST /move-orders` names it.
enum Destination {
    Id(u64),
    Name(String),
}

impl Destination {
    fn body(&self, order_ids: &[Id]) -> Value {
        let mut body = json!({"order_id_list": order_ids});
        match self {
            Destination::Id(id) => body["destination_folder_id"] = json!(id),
            Destination::Name(name) => body["destination_folder_name"] = json!(name),
        }
        body
    }

    fn arguments(&self) -> Value {
        match self {
            Destination::Id(id) => json!({"destination_folder_id": id}),
            Destination::Name(name) => json!({"destination_folder_name": name}),
        }
    }
}

fn move_orders(args: Move) -> Result<Value, ToolError> {
    let count = args.order_ids.len();
    if count == 0 || count > MAX_MOVES {
        return Err(invalid(format!(
            "`order_ids` must hold 1 to {MAX_MOVES} ids, e.g. [\"3344551\"]"
        )));
    }
    let folder_id = in_range(
        "destination_folder_id",
        args.destination_folder_id,
        1..=i64::MAX as u64,
    )?;
    let destination = match (folder_id, args.destination_folder_name) {
        (Some(id), None) => Destination::Id(id),
        (None, Some(name)) => Destination::Name(name.into_string()),
        _ => {
            return Err(invalid(
                "give exactly one of `destination_folder_id` or `destination_folder_name` \
                 (stores_get_settings lists the folders)",
            ));
        }
    };
    let store = args.store.map(NonBlank::into_string);
    let target = host::target(store.clone(), "an order or the destination folder")
        .lookup("check the order ids with orders_list and the folder with stores_get_settings")
        .verify("check the orders' folder_id with orders_get before retrying");
    let mut bulk = Bulk::new("orders_move", "order", count);
    let mut next = 0;
    while next < count && bulk.may_continue() {
        let batch = &args.order_ids[next..(next + MOVE_BATCH).min(count)];
        let first = next == 0;
        if !move_batch(
            &target,
            store.as_deref(),
            &destination,
            batch,
            first,
            &mut bulk,
        )? {
            break;
        }
        next += batch.len();
    }
    let mut remaining = destination.arguments();
    remaining["order_ids"] = json!(args.order_ids[next..]);
    if let Some(store) = store {
        remaining["store"] = json!(store);
    }
    let mut answer = bulk.finish(remaining);
    answer["note"] =
        json!("the destination folder's automation rules may have run for the moved orders");
    Ok(answer)
}

/// Move one batch, recording a result per order; false when the batch was not sent
/// and belongs to the resume arguments. A failure of the `first` batch that is not
/// about an order (e.g. an unknown folder) is the call's error: nothing was done.
fn move_batch(
    target: &Target,
    store: Option<&str>,
    destination: &Destination,
    batch: &[Id],
    first: bool,
    bulk: &mut Bulk,
) -> Result<bool, ToolError> {
    Ok(
        match target.post("/move-orders", &destination.body(batch)) {
            Ok(reply) => {
                bulk.store(&reply.store_id);
                for id in batch {
                    bulk.done(json!({"order_id": id}), Ok(json!("moved")));
                }
                true
            }
            Err(ToolError::NotFound(_)) => {
                recheck_batch(target, store, destination, batch, bulk);
                true
            }
            Err(error @ ToolError::RateLimited(_)) => {
                bulk.done(json!({"order_id": batch[0]}), Err(error));
                false
            }
            Err(error) if first => return Err(error),
            Err(error) => {
                // Every order of the batch shares its fate, even when the error stops the run.
                for id in batch {
                    bulk.failed(json!({"order_id": id}), error.clone());
                }
                true
            }
        },
    )
}

/// OrderDesk refused a batch naming an order it does not know. Read each order to tell
/// which, then send the ones that exist and are not in the destination yet again; the
/// results keep the batch's order.
fn recheck_batch(
    target: &Target,
    store: Option<&str>,
    destination: &Destination,
    batch: &[Id],
    bulk: &mut Bulk,
) {
    let folder_id = match destination {
        Destination::Id(id) => Some(*id),
        Destination::Name(name) => folder_id_by_name(target, name),
    };
    // Per order: `Ok(Some(status))` settled, `Ok(None)` to send again, `Err` failed.
    let checked: Vec<Result<Option<&str>, ToolError>> = batch
        .iter()
        .map(|id| {
            let order = host::target(store, format!("order {id}"))
                .get(&format!("/orders/{id}"), Vec::new(), CacheMode::Bypass)?
                .record("order")?;
            let folder = order.get("folder_id").and_then(lenient::integer);
            let there = folder_id.is_some() && folder.map(|f| f as u64) == folder_id;
            Ok(there.then_some("in_destination"))
        })
        .collect();
    let again: Vec<Id> = batch
        .iter()
        .zip(&checked)
        .filter(|(_, checked)| matches!(checked, Ok(None)))
        .map(|(id, _)| id.clone())
        .collect();
    let resent = if again.is_empty() {
        Ok(())
    } else {
        target
            .post("/move-orders", &destination.body(&again))
            .map(drop)
    };
    for (id, checked) in batch.iter().zip(checked) {
        let record = json!({"order_id": id});
        match checked {
            Ok(Some(status)) => {
                bulk.done(record, Ok(json!(status)));
            }
            Ok(None) => match &resent {
                Ok(()) => {
                    bulk.done(record, Ok(json!("moved")));
                }
                Err(error) => {
                    bulk.failed(record, error.clone());
                }
            },
            Err(error) => {
                bulk.failed(record, error);
            }
        }
    }
}

/// The id of the store's folder named `name` (case-insensitively, as OrderDesk matches
/// it), from `GET /store`; `None` when it cannot be told.
fn folder_id_by_name(target: &Target, name: &str) -> Option<u64> {
    let settings = target.get("/store", Vec::new(), CacheMode::UseCache).ok()?;
    let folders = settings.body.get("store")?.get("folders")?;
    let matches = |folder: &Value| {
        lenient::text(folder).is_some_and(|text| text.trim().eq_ignore_ascii_case(name.trim()))
    };
    match folders {
        // `{"1004": "New", …}` in two sources …
        Value::Object(map) => map
            .iter()
            .find(|(_, folder)| matches(folder))
            .and_then(|(id, _)| id.parse().ok()),
        // … `[{"id": 1004, "name": "New"}, …]` in another.
        Value::Array(list) => list
            .iter()
            .find(|folder| folder.get("name").is_some_and(matches))
            .and_then(|folder| folder.get("id").and_then(lenient::integer))
            .map(|id| id as u64),
        _ => None,
    }
}
