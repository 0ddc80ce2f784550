//! `/inventory-items[/{id}]` and `PUT /batch-inventory-items`.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Extension, Path, Query, State};
use serde_json::{Map, Value, json};

use super::{
    ApiError, ApiResult, AuthedStore, created, json_object, json_value, ok, paging, query_map,
    with_store,
};
use crate::clock::now_string;
use crate::model::{empty_map, scalar_text};
use crate::state::{SimState, StoreData, parse_id};

fn item_not_found() -> ApiError {
    ApiError::not_found("Inventory Item")
}

fn text_of(item: &Value, key: &str) -> String {
    item.get(key).and_then(scalar_text).unwrap_or_default()
}

/// `code` matches the SKU exactly (ignoring case); `search` finds text in the name, code
/// or manufacturer SKU. Items come in id order.
pub async fn list(
    State(state): State<Arc<SimState>>,
    Extension(store): Extension<AuthedStore>,
    query: Result<Query<Vec<(String, String)>>, QueryRejection>,
) -> ApiResult {
    let Query(pairs) =
        query.map_err(|e| ApiError::bad_request(format!("Invalid query string: {e}")))?;
    let params = query_map(pairs);
    let (limit, offset) = paging(&params)?;
    let code = params.get("code").map(|c| c.trim().to_lowercase());
    let search = params.get("search").map(|s| s.trim().to_lowercase());
    with_store(&state, &store, |data| {
        let found: Vec<&Value> = data
            .inventory
            .values()
            .filter(|item| {
                code.as_ref()
                    .is_none_or(|c| text_of(item, "code").to_lowercase() == *c)
            })
            .filter(|item| {
                search.as_ref().is_none_or(|s| {
                    ["name", "code", "manufacturer_sku"]
                        .iter()
                        .any(|key| text_of(item, key).to_lowercase().contains(s.as_str()))
                })
            })
            .collect();
        let total = found.len();
        let page: Vec<Value> = found
            .into_iter()
            .skip(offset)
            .take(limit)
            .cloned()
            .collect();
        ok([
            ("total_records", json!(total)),
            ("records_returned", json!(page.len())),
            ("offset", json!(offset)),
            ("limit", json!(limit)),
            ("inventory_items", Value::Array(page)),
        ])
    })
}

fn lookup<'a>(data: &'a mut StoreData, id: &str) -> Result<&'a mut Value, ApiError> {
    parse_id(id)
        .and_then(|key| data.inventory.get_mut(&key))
        .ok_or_else(item_not_found)
}

pub async fn get(
    State(state): State<Arc<SimState>>,
    Extension(store): Extension<AuthedStore>,
    Path(id): Path<String>,
) -> ApiResult {
    with_store(&state, &store, |data| {
        let item = lookup(data, &id)?.clone();
        ok([("inventory_item", item)])
    })
}

/// Create an item; it needs a name or a code (the SKU matched against order items).
pub async fn create(
    State(state): State<Arc<SimState>>,
    Extension(store): Extension<AuthedStore>,
    body: Bytes,
) -> ApiResult {
    let sent = json_object(&body)?;
    let named = ["name", "code"].iter().any(|key| {
        sent.get(*key)
            .and_then(scalar_text)
            .is_some_and(|v| !v.trim().is_empty())
    });
    if !named {
        return Err(ApiError::invalid(vec![
            ("name", "Inventory item must have a name or code".into()),
            ("code", "Inventory item must have a name or code".into()),
        ]));
    }
    with_store(&state, &store, |data| {
        let id = data.allocate_inventory_id();
        let now = now_string();
        let mut item = Map::new();
        item.insert("id".into(), json!(id.to_string()));
        let defaults = [
            ("name", json!("")),
            ("code", json!("")),
            ("price", json!("0.00")),
            ("cost", json!("0.00")),
            ("weight", json!("0.00")),
            ("stock", json!(0)),
            ("location", json!("")),
            ("metadata", empty_map()),
            ("variation_list", empty_map()),
            ("manufacturer_sku", json!("")),
            ("update_source", json!("API")),
        ];
        for (key, default) in defaults {
            item.insert(key.into(), sent.get(key).cloned().unwrap_or(default));
        }
        item.extend(
            sent.iter()
                .filter(|(key, _)| !item.contains_key(*key) && !key.starts_with("date_"))
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect::<Vec<_>>(),
        );
        item.insert("date_added".into(), json!(now));
        item.insert("date_updated".into(), json!(now));
        let item = Value::Object(item);
        data.inventory.insert(id, item.clone());
        created([("inventory_item", item)])
    })
}

/// PUT replaces the record with what was sent (keeping the id, stamping `date_updated`).
pub async fn replace(
    State(state): State<Arc<SimState>>,
    Extension(store): Extension<AuthedStore>,
    Path(id): Path<String>,
    body: Bytes,
) -> ApiResult {
    let sent = json_object(&body)?;
    with_store(&state, &store, |data| {
        let slot = lookup(data, &id)?;
        let own_id = slot.get("id").cloned().unwrap_or_else(|| json!(id));
        let mut item = Map::new();
        item.insert("id".into(), own_id);
        item.extend(sent.into_iter().filter(|(key, _)| key != "id"));
        item.insert("date_updated".into(), json!(now_string()));
        *slot = Value::Object(item);
        ok([("inventory_item", slot.clone())])
    })
}

pub async fn delete(
    State(state): State<Arc<SimState>>,
    Extension(store): Extension<AuthedStore>,
    Path(id): Path<String>,
) -> ApiResult {
    with_store(&state, &store, |data| {
        let key = parse_id(&id).ok_or_else(item_not_found)?;
        data.inventory.remove(&key).ok_or_else(item_not_found)?;
        ok([("message", json!("Inventory Item Deleted"))])
    })
}

/// Bulk update (documented only loosely, so this is the tolerant reading): a bare array
/// or `{"inventory_items":[…]}`, each entry naming an existing item by `id` or `code`;
/// the fields sent are merged into it (a stock update need not resend the record).
/// All-or-nothing: an entry naming no item is a 422 and nothing changes.
pub async fn batch_update(
    State(state): State<Arc<SimState>>,
    Extension(store): Extension<AuthedStore>,
    body: Bytes,
) -> ApiResult {
    let entries = match json_value(&body)? {
        Value::Array(entries) => entries,
        Value::Object(mut wrapper) => match wrapper.remove("inventory_items") {
            Some(Value::Array(entries)) => entries,
            _ => return Err(ApiError::bad_request("inventory_items must be a list")),
        },
        _ => {
            return Err(ApiError::bad_request(
                "Request body must be a list of items",
            ));
        }
    };
    with_store(&state, &store, |data| {
        let mut targets = Vec::new();
        let mut problems = Vec::new();
        for (n, entry) in entries.iter().enumerate() {
            let Some(sent) = entry.as_object() else {
                problems.push(format!("inventory_items[{n}]: not an object"));
                continue;
            };
            match find_target(data, sent) {
                Some(key) => targets.push((key, sent)),
                None => problems.push(format!("inventory_items[{n}]: Inventory Item Not Found")),
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
        let now = now_string();
        let mut updated = Vec::new();
        for (key, sent) in targets {
            if let Some(Value::Object(item)) = data.inventory.get_mut(&key) {
                for (field, value) in sent {
                    if field != "id" {
                        item.insert(field.clone(), value.clone());
                    }
                }
                item.insert("date_updated".into(), json!(now));
                updated.push(Value::Object(item.clone()));
            }
        }
        ok([("inventory_items", Value::Array(updated))])
    })
}

fn find_target(data: &StoreData, sent: &Map<String, Value>) -> Option<u64> {
    if let Some(id) = sent
        .get("id")
        .and_then(scalar_text)
        .filter(|id| !id.is_empty())
    {
        return parse_id(&id).filter(|key| data.inventory.contains_key(key));
    }
    let code = sent.get("code").and_then(scalar_text)?.to_lowercase();
    data.inventory
        .iter()
        .find(|(_, item)| text_of(item, "code").to_lowercase() == code)
        .map(|(key, _)| *key)
}
