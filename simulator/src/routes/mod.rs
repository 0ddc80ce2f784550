//! The `/api/v2` endpoints, and the envelopes they answer with.

mod inventory;
mod items;
mod orders;
mod shipments;
mod store;

use std::collections::HashMap;
use std::sync::Arc;

use axum::Json;
use axum::Router;
use axum::body::Bytes;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use serde_json::{Map, Value};

use crate::state::{SimState, StoreData};

/// OrderDesk reports how long the query took; a constant keeps responses reproducible.
pub const EXECUTION_TIME: &str = "0.01 seconds";

/// The store a request authenticated as (set by the pipeline before any handler runs).
#[derive(Debug, Clone)]
pub struct AuthedStore(pub String);

/// The routes under `/api/v2`, relative to it.
pub fn api_router() -> Router<Arc<SimState>> {
    Router::new()
        .route("/test", get(store::test))
        .route("/store", get(store::store))
        .route("/move-orders", post(store::move_orders))
        .route("/orders", get(orders::list).post(orders::create))
        .route(
            "/orders/{id}",
            get(orders::get).put(orders::replace).delete(orders::delete),
        )
        .route("/orders/{id}/order-history", post(orders::add_history))
        .route(
            "/orders/{id}/order-items",
            get(items::list).post(items::create),
        )
        .route(
            "/orders/{id}/order-items/{item_id}",
            get(items::get).put(items::replace).delete(items::delete),
        )
        .route(
            "/orders/{id}/shipments",
            get(shipments::list).post(shipments::create),
        )
        .route(
            "/orders/{id}/shipments/{shipment_id}",
            get(shipments::get)
                .put(shipments::replace)
                .delete(shipments::delete),
        )
        .route("/batch-shipments", post(shipments::batch))
        .route(
            "/inventory-items",
            get(inventory::list).post(inventory::create),
        )
        .route(
            "/inventory-items/{id}",
            get(inventory::get)
                .put(inventory::replace)
                .delete(inventory::delete),
        )
        .route("/batch-inventory-items", put(inventory::batch_update))
        .fallback(endpoint_not_found)
        .method_not_allowed_fallback(method_not_allowed)
}

pub async fn endpoint_not_found() -> ApiError {
    ApiError::new(StatusCode::NOT_FOUND, "Endpoint Not Found")
}

pub async fn method_not_allowed() -> ApiError {
    ApiError::new(StatusCode::METHOD_NOT_ALLOWED, "Method Not Allowed")
}

/// An error envelope: `{"status":"error","message":…}`, with `errors` when there are any.
#[derive(Debug, Clone, PartialEq)]
pub struct ApiError {
    pub status: StatusCode,
    pub message: String,
    pub errors: Vec<String>,
}

impl ApiError {
    pub fn new(status: StatusCode, message: impl Into<String>) -> Self {
        Self {
            status,
            message: message.into(),
            errors: Vec::new(),
        }
    }

    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, message)
    }

    pub fn not_found(what: &str) -> Self {
        Self::new(StatusCode::NOT_FOUND, format!("{what} Not Found"))
    }

    pub fn order_not_found() -> Self {
        Self::not_found("Order")
    }

    /// A 422 whose message is the first problem and whose `errors` name every field at fault.
    pub fn invalid(problems: Vec<(&str, String)>) -> Self {
        let message = problems
            .first()
            .map_or_else(|| "Invalid request".to_owned(), |(_, m)| m.clone());
        Self {
            status: StatusCode::UNPROCESSABLE_ENTITY,
            message,
            errors: problems.into_iter().map(|(f, _)| f.to_owned()).collect(),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut body = Map::new();
        body.insert("status".into(), "error".into());
        body.insert("message".into(), self.message.into());
        if !self.errors.is_empty() {
            body.insert("errors".into(), self.errors.into());
        }
        (self.status, Json(Value::Object(body))).into_response()
    }
}

pub type ApiResult = Result<Response, ApiError>;

/// A success envelope: `{"status":"success","execution_time":…, <fields>}`.
pub fn success(
    status: StatusCode,
    fields: impl IntoIterator<Item = (&'static str, Value)>,
) -> Response {
    let mut body = Map::new();
    body.insert("status".into(), "success".into());
    body.insert("execution_time".into(), EXECUTION_TIME.into());
    for (key, value) in fields {
        body.insert(key.into(), value);
    }
    (status, Json(Value::Object(body))).into_response()
}

pub fn ok(fields: impl IntoIterator<Item = (&'static str, Value)>) -> ApiResult {
    Ok(success(StatusCode::OK, fields))
}

pub fn created(fields: impl IntoIterator<Item = (&'static str, Value)>) -> ApiResult {
    Ok(success(StatusCode::CREATED, fields))
}

/// A request body that must be a JSON object.
pub fn json_object(body: &Bytes) -> Result<Map<String, Value>, ApiError> {
    match json_value(body)? {
        Value::Object(map) => Ok(map),
        _ => Err(ApiError::bad_request("Request body must be a JSON object")),
    }
}

/// Any JSON request body; an empty or malformed one is a 400 with an error envelope
/// (axum's own `Json` extractor would answer in plain text).
pub fn json_value(body: &Bytes) -> Result<Value, ApiError> {
    if body.is_empty() {
        return Err(ApiError::bad_request("Request body is empty"));
    }
    serde_json::from_slice(body).map_err(|e| ApiError::bad_request(format!("Invalid JSON: {e}")))
}

/// Run `f` on the authenticated store's data.
pub fn with_store<R>(
    state: &SimState,
    store: &AuthedStore,
    f: impl FnOnce(&mut StoreData) -> Result<R, ApiError>,
) -> Result<R, ApiError> {
    state
        .with_store(&store.0, f)
        // The pipeline only lets configured stores through, and they all have data.
        .unwrap_or_else(|| {
            Err(ApiError::new(
                StatusCode::UNAUTHORIZED,
                "Invalid Store ID or API Key",
            ))
        })
}

/// Query parameters, PHP-style: the last occurrence wins and empty values count as absent.
pub fn query_map(pairs: Vec<(String, String)>) -> HashMap<String, String> {
    pairs
        .into_iter()
        .filter(|(_, v)| !v.trim().is_empty())
        .collect()
}

/// `limit` and `offset` of a paginated list (default limit 50, at most 500).
pub fn paging(params: &HashMap<String, String>) -> Result<(usize, usize), ApiError> {
    const MAX_LIMIT: usize = 500;
    let limit = match params.get("limit") {
        None => 50,
        Some(text) => match text.trim().parse::<usize>() {
            Ok(n) if n <= MAX_LIMIT => n,
            Ok(_) => {
                return Err(ApiError::bad_request(format!(
                    "limit must not exceed {MAX_LIMIT}"
                )));
            }
            Err(_) => return Err(ApiError::bad_request("limit must be a whole number")),
        },
    };
    let offset = match params.get("offset") {
        None => 0,
        Some(text) => text
            .trim()
            .parse::<usize>()
            .map_err(|_| ApiError::bad_request("offset must be a whole number"))?,
    };
    Ok((limit, offset))
}

/// The order as a mutable JSON object, or 404.
pub fn order_object<'a>(
    data: &'a mut StoreData,
    id: &str,
) -> Result<&'a mut Map<String, Value>, ApiError> {
    data.order_mut(id)
        .and_then(Value::as_object_mut)
        .ok_or_else(ApiError::order_not_found)
}

/// A list field of a record, to read: a copy, empty when missing or not a list. Reads go
/// through this rather than [`list_field`] so that a GET never writes to an order (which
/// would make it look changed to the webhook rules).
pub fn list_of(record: &Value, key: &str) -> Vec<Value> {
    record
        .get(key)
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default()
}

/// A list field of a record (`order_items`, `order_shipments`…), created if missing or not a list.
pub fn list_field<'a>(record: &'a mut Map<String, Value>, key: &str) -> &'a mut Vec<Value> {
    let slot = record
        .entry(key.to_owned())
        .or_insert_with(|| Value::Array(Vec::new()));
    if !slot.is_array() {
        *slot = Value::Array(Vec::new());
    }
    match slot {
        Value::Array(list) => list,
        _ => unreachable!("just made it an array"),
    }
}

/// Does this record's `id` equal the path's id? Ids are strings on the wire but some
/// clients send numbers, so compare the text.
pub fn has_id(record: &Value, id: &str) -> bool {
    record
        .get("id")
        .and_then(crate::model::scalar_text)
        .is_some_and(|own| own == id)
}
