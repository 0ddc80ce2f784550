//! Orders: `/orders/{id}` (get, update, delete), `POST /orders`, `POST /move-orders`,
//! `POST /orders/{id}/order-history`. The search (`orders_list`) is in `list.rs`.

use order_model::schemas::{self as record_schemas, ORDER};
use order_model::validate::validate_new_order;
use order_model::views::ORDER_SUMMARY_FIELDS;
use orderdesk_store_api::views::{ORDERS, ReadOptions, read_properties, write_result_output};
use orderdesk_store_api::{Expected, Id, Update, any_record};
use orderdesk_tool_kit::args::{NonBlank, invalid};
use orderdesk_tool_kit::{ToolError, ToolSpec};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::host::{self, Target};
use crate::list;
use crate::resource::with;
use crate::schema::{self, CREATE, DELETE, READ, UPDATE};

use record_schemas::NOTE_MAX;

pub fn tools() -> Vec<ToolSpec> {
    vec![
        ToolSpec::new(
            "orders_get",
            "Get an order",
            "Read one order. Changes nothing. Answers a summary by default (id, \
             source_id, date_added, date_updated, email, customer_name, order_total, \
             folder_id, folder_name when OrderDesk sends it, payment_status, item_count, \
             shipping {city, country}, tracking_count); `view: \"full\"` answers \
             everything OrderDesk holds for it (customer and shipping addresses, items, \
             shipments, notes, totals, checkout data, metadata), `fields` only the fields \
             named (dotted paths, e.g. [\"shipping\", \"order_items.code\"]). May answer \
             from the host's short-lived cache (then `cache_age_s` says how old the answer is; \
             `fresh: true` reads OrderDesk again).",
        )
        .input(|| {
            let mut properties = json!({"order_id": schema::order_id()});
            extend(&mut properties, read_properties(ORDER_SUMMARY_FIELDS));
            schema::input(properties, &["order_id"])
        })
        .output(|| ORDERS.one_output(json!({})))
        .annotations(READ)
        .run(get),
        ToolSpec::new("orders_list", "Search orders", list::DESCRIPTION)
            .input(list::input)
            .output(list::output)
            .annotations(READ)
            .run(list::run),
        ToolSpec::new(
            "orders_create",
            "Create an order",
            "Create a new order in the store. It needs at least one item in \
             `order_items` and a first name, last name or company in `shipping` or \
             `customer`. Without `folder_id` OrderDesk puts it in the store's first \
             folder, whose automation rules may then run. Each call creates another \
             order. Minimal example: {\"shipping\":{\"first_name\":\"Jo\",\
             \"last_name\":\"Rivera\",\"address1\":\"12 Elm St\",\"city\":\"Springfield\",\
             \"state\":\"IL\",\"postal_code\":\"62701\",\"country\":\"US\"},\
             \"order_items\":[{\"name\":\"Canvas tote\",\"price\":40,\"quantity\":1}]}.",
        )
        .input(|| schema::input(json!({"order": new_order()}), &["order"]))
        .output(|| ORDERS.write_output(json!({})))
        .annotations(CREATE)
        .run(create),
        ToolSpec::new(
            "orders_update",
            "Update an order",
            "Change fields of an order. OrderDesk's update replaces the whole record, \
             so the order is fetched fresh, `changes` are merged into it (objects key by \
             key, null removes a field, lists and values replace) and the full order is \
             written back: every field not named — including ones this tool does not \
             know — stays as it was. A list in `changes` (e.g. order_items) replaces the \
             whole list; to change single items use the order_items_* tools, to add \
             notes orders_add_note, to change the folder orders_move (which runs the \
             folder's automation). The order `id` cannot change.",
        )
        .input(|| {
            schema::input(
                json!({
                    "order_id": schema::order_id(),
                    "changes": record_schemas::changes(
                        ORDER,
                        "Only the fields to change, e.g. {\"shipping\": {\"address2\": \
                         \"Suite 5\"}} or {\"email\": \"new@example.org\", \"tag_name\": null}. \
                         null removes a field; fields not listed here are passed on too."
                    ),
                    "expected_date_updated": schema::expected_date_updated("the order")
                }),
                &["order_id", "changes"],
            )
        })
        .output(|| ORDERS.write_output(json!({})))
        .annotations(UPDATE)
        .run(update),
        ToolSpec::new(
            "orders_delete",
            "Delete an order",
            "Permanently delete an order (with its items, shipments and history) from \
             the store. Cannot be undone. To set an order aside, prefer moving it to \
             another folder with orders_move.",
        )
        .input(|| schema::input(json!({"order_id": schema::order_id()}), &["order_id"]))
        .output(|| {
            write_result_output(json!({"deleted": {"type": "boolean"},
                                       "order_id": {"type": "string"}}))
        })
        .annotations(DELETE)
        .run(delete),
        ToolSpec::new(
            "orders_add_note",
            "Add a note to an order's history",
            "Append a note to an order's history in OrderDesk (visible to the store's \
             staff; history is append-only, notes cannot be edited or removed). Each \
             call adds another note.",
        )
        .input(|| {
            schema::input(
                json!({
                    "order_id": schema::order_id(),
                    "note": {"type": "string", "minLength": 1, "maxLength": NOTE_MAX,
                             "description": "The note text (at most 1800 characters)."},
                    "source_name": {"type": "string", "minLength": 1,
                                    "description": "Who or what wrote the note (shown with it)."}
                }),
                &["order_id", "note"],
            )
        })
        .output(|| ORDERS.write_output(json!({"order_id": {"type": "string"}})))
        .annotations(CREATE)
        .run(add_note),
    ]
}

/// The `order` of orders_create: the typed order, with at least one item.
fn new_order() -> Value {
    let mut order = record_schemas::new_record(
        ORDER,
        "The order's fields: email, shipping and customer {first_name, last_name, company, \
         address1…address4, city, state, postal_code, country, phone}, order_items [{name, \
         code, price, quantity, weight, delivery_type, variation_list, metadata}], \
         shipping_method, totals, payment_status, source_name, source_id, folder_id, \
         checkout_data, order_metadata.",
        &["folder_id"],
    );
    order["properties"]["order_items"]["type"] = json!("array");
    order["properties"]["order_items"]["minItems"] = json!(1);
    order["required"] = json!(["order_items"]);
    order
}

/// `properties` (an object) with `more`'s properties added.
pub fn extend(properties: &mut Value, more: Value) {
    if let (Value::Object(properties), Value::Object(more)) = (properties, more) {
        properties.extend(more);
    }
}

/// The arguments of orders_get.
#[derive(Deserialize)]
struct Get {
    order_id: Id,
    store: Option<NonBlank>,
    #[serde(flatten)]
    read: ReadOptions,
}

/// The arguments of the tools that address one order.
#[derive(Deserialize)]
struct OrderRef {
    order_id: Id,
    store: Option<NonBlank>,
}

impl OrderRef {
    fn target(self) -> (Target, Id) {
        let target = host::target(self.store, format!("order {}", self.order_id));
        (target, self.order_id)
    }
}

fn get(args: Get) -> Result<Value, ToolError> {
    let view = args.read.view()?;
    let (target, order_id) = OrderRef {
        order_id: args.order_id,
        store: args.store,
    }
    .target();
    let reply = target.get(
        &format!("/orders/{order_id}"),
        Vec::new(),
        args.read.cache(),
    )?;
    Ok(ORDERS.one(&reply.record("order")?, &view, &reply))
}

#[derive(Deserialize)]
struct Create {
    order: Value,
    store: Option<NonBlank>,
}

fn create(args: Create) -> Result<Value, ToolError> {
    validate_new_order(&args.order, "order").map_err(|e| invalid(e.to_string()))?;
    let target = host::target(args.store, "the new order").verify(
        "search for it with orders_list (e.g. by email and today's date range) before \
         retrying, or you may create a duplicate",
    );
    Ok(target.post("/orders", &args.order)?.payload())
}

#[derive(Deserialize)]
struct Change {
    order_id: Id,
    changes: Value,
    expected_date_updated: Option<String>,
    store: Option<NonBlank>,
}

fn update(args: Change) -> Result<Value, ToolError> {
    let (target, order_id) = OrderRef {
        order_id: args.order_id,
        store: args.store,
    }
    .target();
    let path = format!("/orders/{order_id}");
    let update = order_update(&path);
    let subject = format!("order {order_id}");
    let expected = args
        .expected_date_updated
        .as_deref()
        .map(|date| Expected::own(date, &subject, "orders_get"));
    update.apply_expecting(&target, &args.changes, expected.as_ref())
}

fn delete(args: OrderRef) -> Result<Value, ToolError> {
    let (target, order_id) = args.target();
    let target =
        target.verify("check with orders_get before retrying (not found means it was deleted)");
    let reply = target.delete(&format!("/orders/{order_id}"))?;
    Ok(with(
        with(reply.payload(), "deleted", json!(true)),
        "order_id",
        json!(order_id),
    ))
}

#[derive(Deserialize)]
struct Note {
    order_id: Id,
    note: NonBlank,
    source_name: Option<NonBlank>,
    store: Option<NonBlank>,
}

fn add_note(args: Note) -> Result<Value, ToolError> {
    let count = args.note.chars().count();
    if count > NOTE_MAX {
        return Err(invalid(format!(
            "`note` is {count} characters long; OrderDesk takes at most {NOTE_MAX}"
        )));
    }
    let mut body = json!({"note": args.note.into_string()});
    if let Some(source) = args.source_name {
        body["source_name"] = json!(source.into_string());
    }
    let (target, order_id) = OrderRef {
        order_id: args.order_id,
        store: args.store,
    }
    .target();
    let target = target.verify(
        "check the order's order_notes with orders_get before retrying, or the note may be added \
         twice",
    );
    let reply = target.post(&format!("/orders/{order_id}/order-history"), &body)?;
    Ok(with(reply.payload(), "order_id", json!(order_id)))
}

/// The fetch → merge → PUT of the order at `path` (`/orders/{id}`): the whole order is
/// written back, its `id` cannot change. `orders_update` and `orders_update_many` share it.
pub(crate) fn order_update(path: &str) -> Update<'_> {
    Update {
        path,
        key: "order",
        noun: "record",
        locked: &["id"],
        check_merged: any_record,
    }
}
