//! `/orders/{id}/shipments[/{shipment_id}]` and `/batch-shipments`. Shipments live in the
//! order's `order_shipments`, every field a string, as OrderDesk stores them.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Extension, Path, State};
use serde_json::{Map, Value, json};

use super::{
    ApiError, ApiResult, AuthedStore, created, has_id, json_object, json_value, list_field,
    list_of, ok, order_object, with_store,
};
use crate::clock::{format_date, now_string, now_unix};
use crate::model::{SHIPMENT_FIELDS, scalar_text, tracking_url};
use crate::state::{SimState, StoreData};

fn shipment_not_found() -> ApiError {
    ApiError::not_found("Shipment")
}

/// The tracking number, required (`"n/a"` is fine).
fn tracking_number(sent: &Map<String, Value>) -> Result<String, ApiError> {
    sent.get("tracking_number")
        .and_then(scalar_text)
        .map(|t| t.trim().to_owned())
        .filter(|t| !t.is_empty())
        .ok_or_else(|| {
            ApiError::invalid(vec![(
                "tracking_number",
                "tracking_number is required".into(),
            )])
        })
}

/// A stored shipment: the fixed ids, every known field as a string (defaults filled in,
/// the tracking URL derived when missing), then whatever else the client sent.
fn build_shipment(
    id: Value,
    order_id: &str,
    store_id: &str,
    sent: &Map<String, Value>,
) -> Result<Value, ApiError> {
    tracking_number(sent)?;
    let mut shipment = Map::new();
    shipment.insert("id".into(), id);
    shipment.insert("order_id".into(), json!(order_id));
    shipment.insert("store_id".into(), json!(store_id));
    for field in SHIPMENT_FIELDS {
        let text = sent.get(field).and_then(scalar_text).unwrap_or_default();
        shipment.insert(field.into(), json!(text.trim()));
    }
    let text = |s: &Map<String, Value>, key: &str| {
        s.get(key)
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned()
    };
    if text(&shipment, "tracking_url").is_empty() {
        let url = tracking_url(
            &text(&shipment, "carrier_code"),
            &text(&shipment, "tracking_number"),
        );
        shipment.insert("tracking_url".into(), json!(url));
    }
    if text(&shipment, "date_shipped").is_empty() {
        shipment.insert("date_shipped".into(), json!(format_date(now_unix())));
    }
    if text(&shipment, "date_added").is_empty() {
        shipment.insert("date_added".into(), json!(now_string()));
    }
    for (key, value) in sent {
        if !shipment.contains_key(key) {
            let value = scalar_text(value).map_or_else(|| value.clone(), Value::String);
            shipment.insert(key.clone(), value);
        }
    }
    Ok(Value::Object(shipment))
}

/// Add a shipment to an existing order; the caller has checked the order exists.
fn add_shipment(
    data: &mut StoreData,
    order_id: &str,
    sent: &Map<String, Value>,
) -> Result<Value, ApiError> {
    tracking_number(sent)?;
    let id = json!(data.allocate_shipment_id());
    let store_id = data.store.store_id.clone();
    let order = order_object(data, order_id)?;
    let own_id = order
        .get("id")
        .and_then(scalar_text)
        .unwrap_or_else(|| order_id.to_owned());
    let shipment = build_shipment(id, &own_id, &store_id, sent)?;
    list_field(order, "order_shipments").push(shipment.clone());
    order.insert("date_updated".into(), json!(now_string()));
    Ok(shipment)
}

pub async fn list(
    State(state): State<Arc<SimState>>,
    Extension(store): Extension<AuthedStore>,
    Path(id): Path<String>,
) -> ApiResult {
    with_store(&state, &store, |data| {
        let order = data.order(&id).ok_or_else(ApiError::order_not_found)?;
        ok([("shipments", Value::Array(list_of(order, "order_shipments")))])
    })
}

pub async fn create(
    State(state): State<Arc<SimState>>,
    Extension(store): Extension<AuthedStore>,
    Path(id): Path<String>,
    body: Bytes,
) -> ApiResult {
    let sent = json_object(&body)?;
    with_store(&state, &store, |data| {
        order_object(data, &id)?;
        let shipment = add_shipment(data, &id, &sent)?;
        created([("shipment", shipment)])
    })
}

pub async fn get(
    State(state): State<Arc<SimState>>,
    Extension(store): Extension<AuthedStore>,
    Path((id, shipment_id)): Path<(String, String)>,
) -> ApiResult {
    with_store(&state, &store, |data| {
        let order = data.order(&id).ok_or_else(ApiError::order_not_found)?;
        let shipment = list_of(order, "order_shipments")
            .into_iter()
            .find(|s| has_id(s, &shipment_id))
            .ok_or_else(shipment_not_found)?;
        ok([("shipment", shipment)])
    })
}

/// Replace the shipment with what was sent, keeping its id, order and store.
pub async fn replace(
    State(state): State<Arc<SimState>>,
    Extension(store): Extension<AuthedStore>,
    Path((id, shipment_id)): Path<(String, String)>,
    body: Bytes,
) -> ApiResult {
    let sent = json_object(&body)?;
    with_store(&state, &store, |data| {
        let store_id = data.store.store_id.clone();
        let order = order_object(data, &id)?;
        let order_id = order
            .get("id")
            .and_then(scalar_text)
            .unwrap_or_else(|| id.clone());
        let slot = list_field(order, "order_shipments")
            .iter_mut()
            .find(|s| has_id(s, &shipment_id))
            .ok_or_else(shipment_not_found)?;
        let own_id = slot
            .get("id")
            .cloned()
            .unwrap_or_else(|| json!(shipment_id));
        let shipment = build_shipment(own_id, &order_id, &store_id, &sent)?;
        *slot = shipment.clone();
        order.insert("date_updated".into(), json!(now_string()));
        ok([("shipment", shipment)])
    })
}

pub async fn delete(
    State(state): State<Arc<SimState>>,
    Extension(store): Extension<AuthedStore>,
    Path((id, shipment_id)): Path<(String, String)>,
) -> ApiResult {
    with_store(&state, &store, |data| {
        let order = order_object(data, &id)?;
        let shipments = list_field(order, "order_shipments");
        let before = shipments.len();
        shipments.retain(|s| !has_id(s, &shipment_id));
        if shipments.len() == before {
            return Err(shipment_not_found());
        }
        order.insert("date_updated".into(), json!(now_string()));
        ok([("message", json!("Shipment Deleted"))])
    })
}

/// Shipments for many orders at once. The body is a bare array (as one client sends it)
/// or `{"shipments":[…]}` (as a generated spec has it); each entry names its `order_id`.
/// All-or-nothing: any bad entry is a 422 listing every problem, and nothing is added.
pub async fn batch(
    State(state): State<Arc<SimState>>,
    Extension(store): Extension<AuthedStore>,
    body: Bytes,
) -> ApiResult {
    let entries = match json_value(&body)? {
        Value::Array(entries) => entries,
        Value::Object(mut wrapper) => match wrapper.remove("shipments") {
            Some(Value::Array(entries)) => entries,
            _ => return Err(ApiError::bad_request("shipments must be a list")),
        },
        _ => {
            return Err(ApiError::bad_request(
                "Request body must be a list of shipments",
            ));
        }
    };
    if entries.is_empty() {
        return Err(ApiError::bad_request("No shipments given"));
    }
    with_store(&state, &store, |data| {
        let mut problems = Vec::new();
        let mut valid = Vec::new();
        for (n, entry) in entries.iter().enumerate() {
            let Some(sent) = entry.as_object() else {
                problems.push(format!("shipments[{n}]: not an object"));
                continue;
            };
            let Some(order_id) = sent
                .get("order_id")
                .and_then(scalar_text)
                .filter(|id| !id.is_empty())
            else {
                problems.push(format!("shipments[{n}]: order_id is required"));
                continue;
            };
            if data.order(&order_id).is_none() {
                problems.push(format!("shipments[{n}]: Order Not Found ({order_id})"));
            } else if tracking_number(sent).is_err() {
                problems.push(format!("shipments[{n}]: tracking_number is required"));
            } else {
                valid.push((order_id, sent));
            }
        }
        if !problems.is_empty() {
            let mut error = ApiError::new(
                axum::http::StatusCode::UNPROCESSABLE_ENTITY,
                problems[0].clone(),
            );
            error.errors = problems;
            return Err(error);
        }
        let shipments = valid
            .into_iter()
            .map(|(order_id, sent)| add_shipment(data, &order_id, sent))
            .collect::<Result<Vec<_>, _>>()?;
        created([("shipments", Value::Array(shipments))])
    })
}
