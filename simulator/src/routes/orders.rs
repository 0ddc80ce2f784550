//! `/orders`, `/orders/{id}` and `/orders/{id}/order-history`.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Extension, Path, Query, State};
use serde_json::{Map, Value, json};

use super::{
    ApiError, ApiResult, AuthedStore, created, json_object, list_field, ok, order_object,
    query_map, with_store,
};
use crate::clock::now_string;
use crate::filters::OrdersQuery;
use crate::model::{blank_order, normalize_item, number, recalculate_totals};
use crate::state::SimState;
use crate::state::StoreData;

/// OrderDesk caps a history note at this many characters.
const MAX_NOTE_CHARS: usize = 1800;

type RawQuery = Result<Query<Vec<(String, String)>>, QueryRejection>;

fn params(query: RawQuery) -> Result<std::collections::HashMap<String, String>, ApiError> {
    let Query(pairs) =
        query.map_err(|e| ApiError::bad_request(format!("Invalid query string: {e}")))?;
    Ok(query_map(pairs))
}

/// `include_history` adds the notes again as `order_history` (OrderDesk's slow path).
fn presented(order: &Value, include_history: bool) -> Value {
    let mut order = order.clone();
    if include_history && let Some(map) = order.as_object_mut() {
        let history = map.get("order_notes").cloned().unwrap_or_else(|| json!([]));
        map.insert("order_history".into(), history);
    }
    order
}

pub async fn list(
    State(state): State<Arc<SimState>>,
    Extension(store): Extension<AuthedStore>,
    query: RawQuery,
) -> ApiResult {
    let query = OrdersQuery::parse(&params(query)?)?;
    with_store(&state, &store, |data| {
        let found = query.select(data);
        let total = found.len();
        let page: Vec<Value> = found
            .into_iter()
            .skip(query.offset)
            .take(query.limit)
            .map(|order| presented(order, query.include_history))
            .collect();
        ok([
            ("total_records", json!(total)),
            ("records_returned", json!(page.len())),
            ("offset", json!(query.offset)),
            ("limit", json!(query.limit)),
            ("orders", Value::Array(page)),
        ])
    })
}

pub async fn get(
    State(state): State<Arc<SimState>>,
    Extension(store): Extension<AuthedStore>,
    Path(id): Path<String>,
    query: RawQuery,
) -> ApiResult {
    let include_history = params(query)?
        .get("include_history")
        .is_some_and(|v| matches!(v.trim(), "1" | "true"));
    with_store(&state, &store, |data| {
        let order = data.order(&id).ok_or_else(ApiError::order_not_found)?;
        ok([("order", presented(order, include_history))])
    })
}

/// A name or company in `shipping` or `customer`: OrderDesk's minimum for an order.
fn has_name(order: &Map<String, Value>) -> bool {
    ["shipping", "customer"].iter().any(|section| {
        ["first_name", "last_name", "company"].iter().any(|field| {
            order
                .get(*section)
                .and_then(|s| s.get(*field))
                .and_then(Value::as_str)
                .is_some_and(|v| !v.trim().is_empty())
        })
    })
}

/// Fresh ids for every item (a client cannot choose them).
fn items_with_new_ids(data: &mut StoreData, items: &[Value]) -> Vec<Value> {
    items
        .iter()
        .filter_map(Value::as_object)
        .map(|item| Value::Object(normalize_item(data.allocate_item_id(), item)))
        .collect()
}

pub async fn create(
    State(state): State<Arc<SimState>>,
    Extension(store): Extension<AuthedStore>,
    body: Bytes,
) -> ApiResult {
    let sent = json_object(&body)?;
    let mut problems = Vec::new();
    let items = match sent.get("order_items") {
        Some(Value::Array(items)) if !items.is_empty() && items.iter().all(Value::is_object) => {
            items.clone()
        }
        Some(Value::Array(items)) if !items.is_empty() => {
            problems.push(("order_items", "Order items must be objects".to_owned()));
            Vec::new()
        }
        _ => {
            problems.push((
                "order_items",
                "Order must have at least one item".to_owned(),
            ));
            Vec::new()
        }
    };
    if !has_name(&sent) {
        problems.push((
            "shipping",
            "Order must have a first name, last name or company in shipping or customer".to_owned(),
        ));
    }

    with_store(&state, &store, |data| {
        let folder = match sent.get("folder_id") {
            None | Some(Value::Null) => Some(data.first_folder_id()),
            Some(Value::String(s)) if s.trim().is_empty() => Some(data.first_folder_id()),
            Some(value) => number(value)
                .map(|f| f as u64)
                .filter(|f| data.has_folder(*f)),
        };
        if folder.is_none() {
            problems.push(("folder_id", "Folder Not Found".to_owned()));
        }
        if !problems.is_empty() {
            return Err(ApiError::invalid(problems));
        }

        let id = data.allocate_order_id();
        let now = now_string();
        // OrderDesk's field order with its defaults, the client's values over them, then
        // any fields it sent that OrderDesk does not document (kept, as the real API does).
        let mut order = blank_order();
        for (key, value) in order.iter_mut() {
            if let Some(sent_value) = sent.get(key) {
                *value = sent_value.clone();
            }
        }
        for (key, value) in &sent {
            if !order.contains_key(key) {
                order.insert(key.clone(), value.clone());
            }
        }
        order.insert("id".into(), json!(id.to_string()));
        order.insert("folder_id".into(), json!(folder));
        order.insert("date_added".into(), json!(now));
        order.insert("date_updated".into(), json!(now));
        let items = items_with_new_ids(data, &items);
        order.insert("order_items".into(), Value::Array(items));

        // Totals the client gave are the merchant's word; the missing ones are computed.
        let mut computed = order.clone();
        recalculate_totals(&mut computed);
        for key in [
            "product_total",
            "quantity_total",
            "weight_total",
            "order_total",
        ] {
            if !sent.contains_key(key) {
                order.insert(key.into(), computed[key].clone());
            }
        }

        let order = Value::Object(order);
        data.insert_new_order(id, order.clone());
        created([("message", json!("Order Created")), ("order", order)])
    })
}

/// PUT replaces the whole record: what the client sent, plus the id (and a new
/// `date_updated`). Fields it left out are gone, as on OrderDesk.
pub async fn replace(
    State(state): State<Arc<SimState>>,
    Extension(store): Extension<AuthedStore>,
    Path(id): Path<String>,
    body: Bytes,
) -> ApiResult {
    let sent = json_object(&body)?;
    with_store(&state, &store, |data| {
        let stored_id = order_object(data, &id)?
            .get("id")
            .cloned()
            .unwrap_or_else(|| json!(id));
        let mut order = Map::new();
        order.insert("id".into(), stored_id);
        for (key, value) in sent {
            if key != "id" {
                order.insert(key, value);
            }
        }
        order.insert("date_updated".into(), json!(now_string()));
        // Items added by the PUT get ids; existing ones keep theirs.
        if let Some(Value::Array(items)) = order.get_mut("order_items") {
            for item in items.iter_mut().filter_map(Value::as_object_mut) {
                if item.get("id").is_none_or(|v| v.is_null() || v == "") {
                    item.insert("id".into(), json!(data.allocate_item_id()));
                }
            }
        }
        let order = Value::Object(order);
        *order_object(data, &id)? = order.as_object().cloned().unwrap_or_default();
        ok([("order", order)])
    })
}

pub async fn delete(
    State(state): State<Arc<SimState>>,
    Extension(store): Extension<AuthedStore>,
    Path(id): Path<String>,
) -> ApiResult {
    with_store(&state, &store, |data| {
        let key = crate::state::parse_id(&id).ok_or_else(ApiError::order_not_found)?;
        data.orders
            .remove(&key)
            .ok_or_else(ApiError::order_not_found)?;
        ok([("message", json!("Order Deleted"))])
    })
}

/// Append a note to the order's history (`order_notes`).
pub async fn add_history(
    State(state): State<Arc<SimState>>,
    Extension(store): Extension<AuthedStore>,
    Path(id): Path<String>,
    body: Bytes,
) -> ApiResult {
    let sent = json_object(&body)?;
    let note = sent
        .get("note")
        .and_then(Value::as_str)
        .map(str::trim)
        .filter(|note| !note.is_empty())
        .ok_or_else(|| ApiError::bad_request("note is required"))?;
    if note.chars().count() > MAX_NOTE_CHARS {
        return Err(ApiError::bad_request(format!(
            "note must not exceed {MAX_NOTE_CHARS} characters"
        )));
    }
    let username = sent
        .get("source_name")
        .and_then(Value::as_str)
        .filter(|name| !name.trim().is_empty())
        .unwrap_or("API");
    with_store(&state, &store, |data| {
        let order = order_object(data, &id)?;
        let now = now_string();
        list_field(order, "order_notes").push(json!({
            "date_added": now,
            "username": username,
            "content": note,
        }));
        order.insert("date_updated".into(), json!(now));
        let order = Value::Object(order.clone());
        ok([("message", json!("History Added")), ("order", order)])
    })
}
