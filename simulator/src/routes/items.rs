//! `/orders/{id}/order-items[/{item_id}]`. Every change recalculates the order's totals,
//! as OrderDesk does.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Extension, Path, State};
use serde_json::{Map, Value, json};

use super::{
    ApiError, ApiResult, AuthedStore, created, has_id, json_value, list_field, list_of, ok,
    order_object, with_store,
};
use crate::clock::now_string;
use crate::model::{normalize_item, recalculate_totals};
use crate::state::SimState;

fn item_not_found() -> ApiError {
    ApiError::not_found("Order Item")
}

/// After any item change: new totals and a new `date_updated`.
fn touch(order: &mut Map<String, Value>) {
    recalculate_totals(order);
    order.insert("date_updated".into(), json!(now_string()));
}

pub async fn list(
    State(state): State<Arc<SimState>>,
    Extension(store): Extension<AuthedStore>,
    Path(id): Path<String>,
) -> ApiResult {
    with_store(&state, &store, |data| {
        let order = data.order(&id).ok_or_else(ApiError::order_not_found)?;
        ok([("order_items", Value::Array(list_of(order, "order_items")))])
    })
}

/// Add one item (an object) or several (an array of objects).
pub async fn create(
    State(state): State<Arc<SimState>>,
    Extension(store): Extension<AuthedStore>,
    Path(id): Path<String>,
    body: Bytes,
) -> ApiResult {
    let sent = json_value(&body)?;
    let (sent_items, many) = match &sent {
        Value::Object(item) => (vec![item.clone()], false),
        Value::Array(items) if !items.is_empty() => {
            let objects: Option<Vec<_>> = items.iter().map(|i| i.as_object().cloned()).collect();
            let objects = objects.ok_or_else(|| {
                ApiError::invalid(vec![("order_items", "Order items must be objects".into())])
            })?;
            (objects, true)
        }
        _ => {
            return Err(ApiError::bad_request(
                "Request body must be an item object or a list of them",
            ));
        }
    };
    with_store(&state, &store, |data| {
        // Existence first, so a 404 spends no item ids.
        order_object(data, &id)?;
        let items: Vec<Value> = sent_items
            .iter()
            .map(|item| Value::Object(normalize_item(data.allocate_item_id(), item)))
            .collect();
        let order = order_object(data, &id)?;
        list_field(order, "order_items").extend(items.iter().cloned());
        touch(order);
        if many {
            created([("order_items", Value::Array(items))])
        } else {
            let item = items.into_iter().next().unwrap_or_default();
            created([("order_item", item)])
        }
    })
}

pub async fn get(
    State(state): State<Arc<SimState>>,
    Extension(store): Extension<AuthedStore>,
    Path((id, item_id)): Path<(String, String)>,
) -> ApiResult {
    with_store(&state, &store, |data| {
        let order = data.order(&id).ok_or_else(ApiError::order_not_found)?;
        let item = list_of(order, "order_items")
            .into_iter()
            .find(|item| has_id(item, &item_id))
            .ok_or_else(item_not_found)?;
        ok([("order_item", item)])
    })
}

/// Replace the item with what was sent (keeping its id).
pub async fn replace(
    State(state): State<Arc<SimState>>,
    Extension(store): Extension<AuthedStore>,
    Path((id, item_id)): Path<(String, String)>,
    body: Bytes,
) -> ApiResult {
    let sent = match json_value(&body)? {
        Value::Object(item) => item,
        _ => return Err(ApiError::bad_request("Request body must be a JSON object")),
    };
    with_store(&state, &store, |data| {
        let order = order_object(data, &id)?;
        let items = list_field(order, "order_items");
        let slot = items
            .iter_mut()
            .find(|item| has_id(item, &item_id))
            .ok_or_else(item_not_found)?;
        let own_id = slot.get("id").cloned().unwrap_or_else(|| json!(item_id));
        let mut item = Map::new();
        item.insert("id".into(), own_id);
        item.extend(sent.into_iter().filter(|(key, _)| key != "id"));
        let item = Value::Object(item);
        *slot = item.clone();
        touch(order);
        ok([("order_item", item)])
    })
}

pub async fn delete(
    State(state): State<Arc<SimState>>,
    Extension(store): Extension<AuthedStore>,
    Path((id, item_id)): Path<(String, String)>,
) -> ApiResult {
    with_store(&state, &store, |data| {
        let order = order_object(data, &id)?;
        let items = list_field(order, "order_items");
        let before = items.len();
        items.retain(|item| !has_id(item, &item_id));
        if items.len() == before {
            return Err(item_not_found());
        }
        touch(order);
        ok([("message", json!("Order Item Deleted"))])
    })
}
