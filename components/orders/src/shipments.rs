//! Shipments: `/orders/{order_id}/shipments[/{shipment_id}]` and `/batch-shipments`.

use order_model::schemas::{self as record_schemas, SHIPMENT};
use order_model::validate::{validate_batch_shipments, validate_new_shipment};
use order_model::views::SHIPMENT_SUMMARY_FIELDS;
use orderdesk_store_api::Id;
use orderdesk_store_api::views::{SHIPMENTS as SHIPMENT_RECORDS, write_result_output};
use orderdesk_tool_kit::args::{NonBlank, invalid};
use orderdesk_tool_kit::{Args, ToolError, ToolSpec};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::host;
use crate::resource::Resource;
use crate::schema::{self, CREATE, DELETE, READ, UPDATE};

const SHIPMENTS: Resource = Resource {
    noun: "shipment",
    segment: "shipments",
    key: "shipment",
    id_arg: "shipment_id",
    body_arg: "shipment",
    tools: "shipments",
    // A shipment belongs to the order in its path; moving it would need a new one.
    locked: &["id", "order_id"],
    validate: validate_new_shipment,
    records: &SHIPMENT_RECORDS,
};

const SHIPMENT_FIELDS: &str = "tracking_number (required; \"n/a\" when there is none), \
                               carrier_code (e.g. USPS, UPS, FedEx), shipment_method, weight, \
                               cost, tracking_url (derived by OrderDesk when left out), \
                               date_shipped (YYYY-MM-DD)";

/// The `shipment` of shipments_create: the typed shipment, with a tracking number.
fn new_shipment() -> Value {
    let mut shipment =
        record_schemas::new_record(SHIPMENT, &format!("The shipment: {SHIPMENT_FIELDS}."), &[]);
    shipment["properties"]["tracking_number"]["type"] = json!(["string", "number"]);
    shipment["properties"]["tracking_number"]["minLength"] = json!(1);
    shipment["required"] = json!(["tracking_number"]);
    shipment
}

fn shipment_id() -> Value {
    schema::id("Shipment id (e.g. \"551200\"), as shipments_list shows it.")
}

pub fn tools() -> Vec<ToolSpec> {
    vec![
        ToolSpec::new(
            "shipments_list",
            "List an order's shipments",
            "List the shipments of one order. Changes nothing. Each shipment is a \
             summary by default (id, order_id, tracking_number, carrier_code, \
             shipment_method, date_shipped); `view: \"full\"` answers whole shipments \
             (tracking_url, weight, cost, status, …), `fields` only the fields named. May \
             answer from the host's short-lived cache (then `cache_age_s` says how old the \
             answer is; `fresh: true` reads OrderDesk again).",
        )
        .input(|| {
            schema::read_input(
                json!({"order_id": schema::order_id()}),
                &["order_id"],
                SHIPMENT_SUMMARY_FIELDS,
            )
        })
        .output(|| SHIPMENT_RECORDS.list_output(json!({"order_id": {"type": "string"}})))
        .annotations(READ)
        .run(list),
        ToolSpec::new(
            "shipments_get",
            "Get a shipment",
            "Read one shipment of an order. Changes nothing. A summary by default (id, \
             order_id, tracking_number, carrier_code, shipment_method, date_shipped); \
             `view: \"full\"` answers the whole shipment, `fields` only the fields named. \
             `fresh: true` bypasses the host's cache.",
        )
        .input(|| {
            schema::read_input(
                json!({"order_id": schema::order_id(), "shipment_id": shipment_id()}),
                &["order_id", "shipment_id"],
                SHIPMENT_SUMMARY_FIELDS,
            )
        })
        .output(|| SHIPMENT_RECORDS.one_output(json!({"order_id": {"type": "string"}})))
        .annotations(READ)
        .run(get),
        ToolSpec::new(
            "shipments_create",
            "Add a shipment to an order",
            "Record a shipment (tracking number and carrier) on an order in OrderDesk. \
             Depending on the store's settings this can notify the customer or the \
             sales channel. Each call adds another shipment. For many orders at once \
             use shipments_batch_create.",
        )
        .input(|| {
            schema::input(
                json!({
                    "order_id": schema::order_id(),
                    "shipment": new_shipment()
                }),
                &["order_id", "shipment"],
            )
        })
        .output(|| SHIPMENT_RECORDS.write_output(json!({"order_id": {"type": "string"}})))
        .annotations(CREATE)
        .run(create),
        ToolSpec::new(
            "shipments_update",
            "Update a shipment",
            "Change fields of one shipment: it is fetched fresh, `changes` are merged \
             into it (objects key by key, null removes a field, lists and values \
             replace) and the whole shipment is written back, so fields not named stay \
             as they are. Its `id` and `order_id` cannot change.",
        )
        .input(|| {
            schema::input(
                json!({
                    "order_id": schema::order_id(),
                    "shipment_id": shipment_id(),
                    "changes": record_schemas::changes(
                        SHIPMENT,
                        "Only the fields to change, e.g. {\"tracking_number\": \"1Z999…\", \
                         \"carrier_code\": \"UPS\"}. null removes a field."
                    ),
                    "expected_date_updated": schema::expected_date_updated(
                        "the order it belongs to (items and shipments have no date_updated of their own; OrderDesk bumps the order's whenever one changes)"
                    )
                }),
                &["order_id", "shipment_id", "changes"],
            )
        })
        .output(|| SHIPMENT_RECORDS.write_output(json!({"order_id": {"type": "string"}})))
        .annotations(UPDATE)
        .run(update),
        ToolSpec::new(
            "shipments_delete",
            "Delete a shipment",
            "Delete one shipment from an order in OrderDesk. Cannot be undone (record \
             it again with shipments_create); a notification already sent is not \
             recalled.",
        )
        .input(|| {
            schema::input(
                json!({"order_id": schema::order_id(), "shipment_id": shipment_id()}),
                &["order_id", "shipment_id"],
            )
        })
        .output(|| {
            write_result_output(json!({"deleted": {"type": "boolean"},
                                       "order_id": {"type": "string"},
                                       "shipment_id": {"type": "string"}}))
        })
        .annotations(DELETE)
        .run(delete),
        ToolSpec::new(
            "shipments_batch_create",
            "Add shipments to many orders",
            "Record shipments on many orders in one request (POST /batch-shipments \
             with {\"shipments\": […]}). Each entry names its order_id and \
             tracking_number. Depending on the store's settings this can notify \
             customers. Each call adds more shipments; if the outcome is unknown, \
             check the orders with shipments_list before retrying.",
        )
        .input(|| {
            schema::input(
                json!({
                    "shipments": {
                        "type": "array",
                        "minItems": 1,
                        "description": format!(
                            "The shipments, each with order_id and {SHIPMENT_FIELDS}."
                        ),
                        "items": {
                            "type": "object",
                            "properties": {
                                "order_id": schema::order_id(),
                                "tracking_number": {"type": "string", "minLength": 1,
                                                    "description": "Tracking number, or \"n/a\"."}
                            },
                            "required": ["order_id", "tracking_number"]
                        }
                    }
                }),
                &["shipments"],
            )
        })
        .output(|| {
            write_result_output(json!({
                "submitted": {"type": "integer", "description": "Shipments sent."},
                "shipments": {"type": ["array", "object"],
                              "items": record_schemas::record(SHIPMENT, "A shipment.")}
            }))
        })
        .annotations(CREATE)
        .run(batch_create),
    ]
}

fn list(args: Args) -> Result<Value, ToolError> {
    SHIPMENTS.list(args)
}

fn get(args: Args) -> Result<Value, ToolError> {
    SHIPMENTS.get(args)
}

fn create(args: Args) -> Result<Value, ToolError> {
    SHIPMENTS.create(args)
}

fn update(args: Args) -> Result<Value, ToolError> {
    SHIPMENTS.update(args)
}

fn delete(args: Args) -> Result<Value, ToolError> {
    SHIPMENTS.delete(args)
}

#[derive(Deserialize)]
struct Batch {
    shipments: Value,
    store: Option<NonBlank>,
}

fn batch_create(args: Batch) -> Result<Value, ToolError> {
    let shipments = &args.shipments;
    validate_batch_shipments(shipments, "shipments").map_err(|e| invalid(e.to_string()))?;
    let count = shipments.as_array().map_or(0, Vec::len);
    for (i, shipment) in shipments.as_array().into_iter().flatten().enumerate() {
        let order_id = order_model::lenient::text(&shipment["order_id"]).unwrap_or_default();
        Id::check(&order_id)
            .map_err(|problem| invalid(format!("`shipments[{i}].order_id` {problem}")))?;
    }
    let target = host::target(args.store, "one of the orders").verify(
        "check each order with shipments_list before retrying, and send only the missing shipments",
    );
    let reply = target.post("/batch-shipments", &json!({"shipments": shipments}))?;
    let mut result = reply.payload();
    result["submitted"] = json!(count);
    Ok(result)
}
