//! Orders: `/orders/{id}` (get, update, delete), `POST /orders`, `POST /move-orders`,
//! `POST /orders/{id}/order-history`. The search (`orders_list`) is in `list.rs`.

use order_model::validate::validate_new_order;
use orderdesk_store_api::{Expected, Id, Update, any_record};
use orderdesk_tool_kit::args::{NonBlank, invalid};
use orderdesk_tool_kit::{ToolError, ToolSpec};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::host::{self, CacheMode, Target};
use crate::list;
use crate::resource::with;
use crate::schema::{self, CREATE, DELETE, READ, UPDATE};

/// OrderDesk's limit on a history note.
const NOTE_MAX: usize = 1800;

pub fn tools() -> Vec<ToolSpec> {
    vec![
        ToolSpec::new(
            "orders_get",
            "Get an order",
            "Read one order with everything OrderDesk holds for it: customer and \
             shipping addresses, items, shipments, notes, totals, folder, payment \
             status, checkout data and metadata. Changes nothing. May answer from the \
             host's short-lived cache (then `cached` is true).",
        )
        .input(|| schema::input(json!({"order_id": schema::order_id()}), &["order_id"]))
        .annotations(READ)
        .run(get),
        ToolSpec::new("orders_list", "Search orders", list::DESCRIPTION)
            .input(list::input)
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
        .input(|| {
            schema::input(
                json!({
                    "order": {
                        "type": "object",
                        "description": "The order's fields: email, shipping and customer \
                                        {first_name, last_name, company, address1…address4, \
                                        city, state, postal_code, country, phone}, order_items \
                                        [{name, code, price, quantity, weight, delivery_type, \
                                        variation_list, metadata}], shipping_method, totals, \
                                        payment_status, source_name, source_id, folder_id, \
                                        checkout_data, order_metadata.",
                        "properties": {
                            "order_items": {"type": "array", "minItems": 1,
                                            "items": {"type": "object"},
                                            "description": "At least one item."},
                            "shipping": {"type": "object", "description": "Shipping address."},
                            "customer": {"type": "object",
                                         "description": "Customer (billing) address."}
                        },
                        "required": ["order_items"]
                    }
                }),
                &["order"],
            )
        })
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
                    "changes": schema::object(
                        "Only the fields to change, e.g. {\"shipping\": {\"address2\": \
                         \"Suite 5\"}} or {\"email\": \"new@example.org\", \"tag_name\": null}."
                    ),
                    "expected_date_updated": schema::expected_date_updated("the order")
                }),
                &["order_id", "changes"],
            )
        })
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
        .annotations(CREATE)
        .run(add_note),
    ]
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

fn get(args: OrderRef) -> Result<Value, ToolError> {
    let (target, order_id) = args.target();
    let reply = target.get(
        &format!("/orders/{order_id}"),
        Vec::new(),
        CacheMode::UseCache,
    )?;
    Ok(reply.payload())
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
    let update = Update {
        path: &format!("/orders/{order_id}"),
        key: "order",
        noun: "record",
        locked: &["id"],
        check_merged: any_record,
    };
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
