//! `GET /test`, `GET /store` and `POST /move-orders`.

use std::sync::Arc;

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Extension, State};
use serde_json::{Map, Value, json};

use super::{ApiError, ApiResult, AuthedStore, json_object, ok, with_store};
use crate::clock::now_string;
use crate::config::STORE_UTC_OFFSET_SECS;
use crate::model::scalar_text;
use crate::state::SimState;

/// The connection test answers without `execution_time`, exactly like the documented sample.
pub async fn test() -> Json<Value> {
    Json(json!({
        "status": "success",
        "message": "Connection Successful",
        "current_date_time": now_string(),
    }))
}

pub async fn store(
    State(state): State<Arc<SimState>>,
    Extension(store): Extension<AuthedStore>,
) -> ApiResult {
    let settings = with_store(&state, &store, |data| {
        // The folder map is keyed by the id as a string, in folder order.
        let folders: Map<String, Value> = data
            .folders
            .iter()
            .map(|(id, name)| (id.to_string(), Value::String(name.clone())))
            .collect();
        let offset_hours = STORE_UTC_OFFSET_SECS / 3600;
        Ok(json!({
            "id": data.store.store_id,
            "name": data.store.name,
            "folders": folders,
            // A fixed offset (no daylight saving) that the *_local filters use.
            "timezone": "America/New_York",
            "utc_offset": format!("{}{:02}:00", if offset_hours < 0 { '-' } else { '+' }, offset_hours.abs()),
            "currency_code": "USD",
            "weight_unit": "lb",
        }))
    })?;
    ok([("store", settings)])
}

/// Move orders to a folder, by folder id or name. All-or-nothing: an unknown folder is a
/// 400 and unknown orders a 404, and then nothing moves.
pub async fn move_orders(
    State(state): State<Arc<SimState>>,
    Extension(store): Extension<AuthedStore>,
    body: Bytes,
) -> ApiResult {
    let request = json_object(&body)?;
    let ids: Vec<String> = match request.get("order_id_list") {
        Some(Value::Array(ids)) if !ids.is_empty() => ids.iter().filter_map(scalar_text).collect(),
        _ => {
            return Err(ApiError::bad_request(
                "order_id_list must be a non-empty list",
            ));
        }
    };
    with_store(&state, &store, |data| {
        let folder = if let Some(id) = request.get("destination_folder_id") {
            scalar_text(id)
                .and_then(|text| text.trim().parse::<u64>().ok())
                .filter(|id| data.has_folder(*id))
        } else if let Some(name) = request.get("destination_folder_name") {
            name.as_str().and_then(|name| data.folder_id_by_name(name))
        } else {
            return Err(ApiError::bad_request(
                "destination_folder_id or destination_folder_name is required",
            ));
        };
        let folder = folder.ok_or_else(|| ApiError::bad_request("Folder Not Found"))?;

        let missing: Vec<String> = ids
            .iter()
            .filter(|id| data.order(id).is_none())
            .cloned()
            .collect();
        if !missing.is_empty() {
            let mut error = ApiError::order_not_found();
            error.errors = missing;
            return Err(error);
        }
        let now = now_string();
        for id in &ids {
            if let Some(order) = data.order_mut(id).and_then(Value::as_object_mut) {
                order.insert("folder_id".into(), json!(folder));
                order.insert("date_updated".into(), json!(now));
            }
        }
        ok([
            ("message", json!(format!("{} order(s) moved", ids.len()))),
            ("order_id_list", json!(ids)),
            ("destination_folder_id", json!(folder)),
        ])
    })
}
