//! The test-only control surface: fault injection, the request log, peeking at stored
//! records, and OrderDesk's "post order to URL" rules (see [`crate::webhooks`]). Reachable in-process (methods on [`crate::Simulator`]) and over HTTP
//! under `/_sim/…`, which is outside `/api/v2`: no credentials, no rate limit, not logged.
//!
//! | method | path | body / answer |
//! |---|---|---|
//! | POST | `/_sim/faults` | `{"method":"GET"?, "path_prefix":"/orders", "kind":"status", "status":503, "times":2}`; `kind` is `status` (+`status`), `delay` (+`delay_ms`) or `drop`; `times` defaults to 1 |
//! | DELETE | `/_sim/faults` | forget every pending fault |
//! | GET | `/_sim/requests` | the request log, oldest first |
//! | DELETE | `/_sim/requests` | clear the request log |
//! | GET | `/_sim/stores/{store_id}/orders/{order_id}` | the stored order, raw |
//! | PUT | `/_sim/stores/{store_id}/orders/{order_id}` | another writer's edit: the body's top-level fields set (never `id`), `date_updated` stamped; answers the order as stored now |
//! | GET | `/_sim/stores/{store_id}/order-count` | `{"count": n}` |
//! | GET | `/_sim/stores/{store_id}/inventory-items/{item_id}` | the stored inventory item, raw |
//! | POST | `/_sim/stores/{store_id}/webhooks` | add a "post order to URL" rule: `{"url":"http://…", "triggers":[{"kind":"created"}, {"kind":"updated"}, {"kind":"moved_to_folder","folder_id":1007}]}` (an http(s) URL, at least one trigger); answers `{"rule_id": n}` |
//! | GET | `/_sim/stores/{store_id}/webhooks` | `{"rules":[{"rule_id", "url", "triggers"}…], "deliveries":[{"rule_id", "url", "order_id", "trigger", "status", "error", "at"}…]}`, deliveries oldest first |
//! | DELETE | `/_sim/stores/{store_id}/webhooks/{rule_id}` | remove a rule (pushes already queued are still sent) |
//!
//! A store id the simulator does not serve is a 404 on every `/_sim/stores/…` route; a
//! body it cannot use is a 400 whose `message` says why.

use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::clock::format_instant;
use crate::state::{SimState, lock};
use crate::webhooks::WebhookRule;

/// The prefix every API path starts with; fault prefixes may be given relative to it.
pub const API_PREFIX: &str = "/api/v2";

/// A fault to apply to the next `times` API requests that match.
#[derive(Debug, Clone, PartialEq)]
pub struct Fault {
    /// HTTP method to match (case-insensitive); `None` matches any.
    pub method: Option<String>,
    /// Matched against the start of the request path, either as given (`/api/v2/orders`)
    /// or relative to `/api/v2` (`/orders`). Only `/api/v2` requests are ever faulted.
    pub path_prefix: String,
    pub kind: FaultKind,
    /// How many matching requests it applies to.
    pub times: u32,
}

#[derive(Debug, Clone, PartialEq)]
pub enum FaultKind {
    /// Answer with this status and an error envelope instead of handling the request
    /// (before authentication; no token is spent). A 429 also carries `X-Retry-After: 1`.
    Status(u16),
    /// Wait this long (on the tokio clock), then handle the request normally.
    Delay(Duration),
    /// Close the connection without writing any response. Under [`crate::Simulator::serve`]
    /// the connection task ends with an error, so the client sees the socket closed
    /// mid-exchange. When the router is served by someone else (e.g. `axum::serve`), the
    /// response body fails instead, which aborts the connection just the same.
    DropConnection,
}

impl Fault {
    /// A fault for any method.
    pub fn new(path_prefix: impl Into<String>, kind: FaultKind, times: u32) -> Self {
        Self {
            method: None,
            path_prefix: path_prefix.into(),
            kind,
            times,
        }
    }

    /// Restrict the fault to one HTTP method.
    pub fn with_method(mut self, method: impl Into<String>) -> Self {
        self.method = Some(method.into());
        self
    }

    fn matches(&self, method: &str, path: &str) -> bool {
        let method_ok = self
            .method
            .as_deref()
            .is_none_or(|m| m.eq_ignore_ascii_case(method));
        let relative = path.strip_prefix(API_PREFIX).unwrap_or(path);
        method_ok
            && (path.starts_with(&self.path_prefix) || relative.starts_with(&self.path_prefix))
    }
}

/// One request the simulator received under `/api/v2`. The API key is never recorded.
#[derive(Debug, Clone, PartialEq)]
pub struct LoggedRequest {
    pub method: String,
    pub path: String,
    /// The raw query string, without `?` (empty when there was none).
    pub query: String,
    /// The `ORDERDESK-STORE-ID` header, if sent.
    pub store_id: Option<String>,
    /// The status answered; `0` when a fault dropped the connection.
    pub status: u16,
    /// The request carried a non-empty body.
    pub had_body: bool,
    /// When the request arrived.
    pub timestamp: SystemTime,
}

impl LoggedRequest {
    fn to_json(&self) -> Value {
        let since_epoch = self
            .timestamp
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default();
        json!({
            "method": self.method,
            "path": self.path,
            "query": self.query,
            "store_id": self.store_id,
            "status": self.status,
            "had_body": self.had_body,
            "timestamp": format_instant(self.timestamp),
            "timestamp_ms": since_epoch.as_millis() as u64,
        })
    }
}

/// What the pending faults say about one request.
#[derive(Debug, Default)]
pub(crate) struct FaultPlan {
    /// Every matching delay applies (they add up).
    pub(crate) delay: Duration,
    /// The first matching status or drop fault, which ends the request.
    pub(crate) terminal: Option<FaultKind>,
}

/// Pending faults, in the order they were injected.
#[derive(Debug, Default)]
pub(crate) struct FaultTable {
    faults: Vec<Fault>,
}

impl FaultTable {
    pub fn add(&mut self, fault: Fault) {
        if fault.times > 0 {
            self.faults.push(fault);
        }
    }

    pub fn clear(&mut self) {
        self.faults.clear();
    }

    /// Consume one use of every fault that applies to this request.
    pub fn take(&mut self, method: &str, path: &str) -> FaultPlan {
        let mut plan = FaultPlan::default();
        for fault in &mut self.faults {
            if !fault.matches(method, path) {
                continue;
            }
            match &fault.kind {
                FaultKind::Delay(delay) => plan.delay += *delay,
                terminal if plan.terminal.is_none() => plan.terminal = Some(terminal.clone()),
                // A second terminal fault waits for a later request.
                _ => continue,
            }
            fault.times -= 1;
        }
        self.faults.retain(|f| f.times > 0);
        plan
    }
}

/// The body of `POST /_sim/faults`.
#[derive(Debug, Deserialize)]
struct FaultSpec {
    method: Option<String>,
    path_prefix: String,
    #[serde(flatten)]
    kind: KindSpec,
    #[serde(default = "one")]
    times: u32,
}

#[derive(Debug, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
enum KindSpec {
    Status { status: u16 },
    Delay { delay_ms: u64 },
    Drop,
}

fn one() -> u32 {
    1
}

pub(crate) fn router() -> Router<Arc<SimState>> {
    Router::new()
        .route(
            "/_sim/faults",
            get(list_faults).post(add_fault).delete(clear_faults),
        )
        .route("/_sim/requests", get(requests).delete(clear_requests))
        .route(
            "/_sim/stores/{store_id}/orders/{order_id}",
            get(stored_order).put(edit_order),
        )
        .route("/_sim/stores/{store_id}/order-count", get(order_count))
        .route(
            "/_sim/stores/{store_id}/inventory-items/{item_id}",
            get(stored_inventory_item),
        )
        .route(
            "/_sim/stores/{store_id}/webhooks",
            get(list_webhooks).post(add_webhook),
        )
        .route(
            "/_sim/stores/{store_id}/webhooks/{rule_id}",
            axum::routing::delete(remove_webhook),
        )
}

fn control_error(status: StatusCode, message: impl Into<String>) -> Response {
    let body = json!({ "status": "error", "message": message.into() });
    (status, Json(body)).into_response()
}

async fn add_fault(State(state): State<Arc<SimState>>, body: axum::body::Bytes) -> Response {
    let spec: FaultSpec = match serde_json::from_slice(&body) {
        Ok(spec) => spec,
        Err(e) => return control_error(StatusCode::BAD_REQUEST, format!("bad fault: {e}")),
    };
    let kind = match spec.kind {
        KindSpec::Status { status } if StatusCode::from_u16(status).is_ok() => {
            FaultKind::Status(status)
        }
        KindSpec::Status { status } => {
            return control_error(StatusCode::BAD_REQUEST, format!("bad status {status}"));
        }
        KindSpec::Delay { delay_ms } => FaultKind::Delay(Duration::from_millis(delay_ms)),
        KindSpec::Drop => FaultKind::DropConnection,
    };
    lock(&state.faults).add(Fault {
        method: spec.method,
        path_prefix: spec.path_prefix,
        kind,
        times: spec.times,
    });
    Json(json!({ "status": "success" })).into_response()
}

async fn list_faults(State(state): State<Arc<SimState>>) -> Json<Value> {
    let faults: Vec<Value> = lock(&state.faults)
        .faults
        .iter()
        .map(|f| {
            let kind = match &f.kind {
                FaultKind::Status(s) => json!({ "kind": "status", "status": s }),
                FaultKind::Delay(d) => json!({ "kind": "delay", "delay_ms": d.as_millis() as u64 }),
                FaultKind::DropConnection => json!({ "kind": "drop" }),
            };
            json!({ "method": f.method, "path_prefix": f.path_prefix, "times": f.times, "fault": kind })
        })
        .collect();
    Json(json!({ "faults": faults }))
}

async fn clear_faults(State(state): State<Arc<SimState>>) -> Json<Value> {
    lock(&state.faults).clear();
    Json(json!({ "status": "success" }))
}

async fn requests(State(state): State<Arc<SimState>>) -> Json<Value> {
    let log: Vec<Value> = lock(&state.log)
        .iter()
        .map(LoggedRequest::to_json)
        .collect();
    Json(json!({ "requests": log }))
}

async fn clear_requests(State(state): State<Arc<SimState>>) -> Json<Value> {
    lock(&state.log).clear();
    Json(json!({ "status": "success" }))
}

async fn stored_order(
    State(state): State<Arc<SimState>>,
    Path((store_id, order_id)): Path<(String, String)>,
) -> Response {
    match state.with_store(&store_id, |s| s.order(&order_id).cloned()) {
        Some(Some(order)) => Json(order).into_response(),
        Some(None) => control_error(StatusCode::NOT_FOUND, "Order Not Found"),
        None => control_error(StatusCode::NOT_FOUND, "Store Not Found"),
    }
}

async fn edit_order(
    State(state): State<Arc<SimState>>,
    Path((store_id, order_id)): Path<(String, String)>,
    body: axum::body::Bytes,
) -> Response {
    let changes = match serde_json::from_slice::<Value>(&body) {
        Ok(Value::Object(changes)) => changes,
        _ => return control_error(StatusCode::BAD_REQUEST, "the body must be a JSON object"),
    };
    match state.with_store(&store_id, |s| s.edit_order(&order_id, &changes)) {
        Some(Some(order)) => Json(order).into_response(),
        Some(None) => control_error(StatusCode::NOT_FOUND, "Order Not Found"),
        None => control_error(StatusCode::NOT_FOUND, "Store Not Found"),
    }
}

async fn order_count(State(state): State<Arc<SimState>>, Path(store_id): Path<String>) -> Response {
    match state.with_store(&store_id, |s| s.orders.len()) {
        Some(count) => Json(json!({ "count": count })).into_response(),
        None => control_error(StatusCode::NOT_FOUND, "Store Not Found"),
    }
}

async fn stored_inventory_item(
    State(state): State<Arc<SimState>>,
    Path((store_id, item_id)): Path<(String, String)>,
) -> Response {
    let found = state.with_store(&store_id, |s| {
        crate::state::parse_id(&item_id).and_then(|id| s.inventory.get(&id).cloned())
    });
    match found {
        Some(Some(item)) => Json(item).into_response(),
        Some(None) => control_error(StatusCode::NOT_FOUND, "Inventory Item Not Found"),
        None => control_error(StatusCode::NOT_FOUND, "Store Not Found"),
    }
}

fn store_not_found() -> Response {
    control_error(StatusCode::NOT_FOUND, "Store Not Found")
}

async fn add_webhook(
    State(state): State<Arc<SimState>>,
    Path(store_id): Path<String>,
    headers: axum::http::HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    // A rule makes the simulator post to any URL: only a JSON request (which a web
    // page cannot send cross-site without CORS) may add one, not a form post from a
    // page that guessed the sandbox's port.
    let is_json = headers
        .get(axum::http::header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|value| value.trim_start().starts_with("application/json"));
    if !is_json {
        return control_error(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "bad webhook rule: send it as JSON (Content-Type: application/json)",
        );
    }
    if state.store_config(&store_id).is_none() {
        return store_not_found();
    }
    let rule: WebhookRule = match serde_json::from_slice(&body) {
        Ok(rule) => rule,
        Err(e) => return control_error(StatusCode::BAD_REQUEST, format!("bad webhook rule: {e}")),
    };
    if let Some(problem) = rule.problem() {
        return control_error(
            StatusCode::BAD_REQUEST,
            format!("bad webhook rule: {problem}"),
        );
    }
    let rule_id = state.webhooks.add_rule(&store_id, rule);
    Json(json!({ "rule_id": rule_id })).into_response()
}

async fn list_webhooks(
    State(state): State<Arc<SimState>>,
    Path(store_id): Path<String>,
) -> Response {
    if state.store_config(&store_id).is_none() {
        return store_not_found();
    }
    let rules: Vec<Value> = state
        .webhooks
        .rules(&store_id)
        .into_iter()
        .map(|(rule_id, rule)| json!({ "rule_id": rule_id, "url": rule.url, "triggers": rule.triggers }))
        .collect();
    let deliveries = state.webhooks.deliveries(&store_id);
    Json(json!({ "rules": rules, "deliveries": deliveries })).into_response()
}

async fn remove_webhook(
    State(state): State<Arc<SimState>>,
    Path((store_id, rule_id)): Path<(String, String)>,
) -> Response {
    if state.store_config(&store_id).is_none() {
        return store_not_found();
    }
    let removed = crate::state::parse_id(&rule_id)
        .is_some_and(|rule_id| state.webhooks.remove_rule(&store_id, rule_id));
    if removed {
        Json(json!({ "status": "success" })).into_response()
    } else {
        control_error(StatusCode::NOT_FOUND, "Webhook Rule Not Found")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn faults_match_absolute_and_relative_prefixes_and_run_out() {
        let mut table = FaultTable::default();
        table.add(Fault::new("/orders", FaultKind::Status(503), 2).with_method("get"));
        table.add(Fault::new(
            "/api/v2/orders/1",
            FaultKind::Delay(Duration::from_millis(5)),
            1,
        ));
        assert!(table.take("POST", "/api/v2/orders").terminal.is_none());
        let plan = table.take("GET", "/api/v2/orders/1");
        assert_eq!(plan.terminal, Some(FaultKind::Status(503)));
        assert_eq!(plan.delay, Duration::from_millis(5));
        let plan = table.take("GET", "/api/v2/orders");
        assert_eq!(plan.terminal, Some(FaultKind::Status(503)));
        assert_eq!(plan.delay, Duration::ZERO);
        assert!(table.take("GET", "/api/v2/orders").terminal.is_none());
        assert!(table.faults.is_empty());
    }
}
