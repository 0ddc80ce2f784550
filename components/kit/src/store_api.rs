//! Requests to a store's OrderDesk API (`orderdesk::send`) with JSON in and out,
//! OrderDesk's error envelope recognised, and the one place where host errors become
//! tool errors whose messages say what to do next. The `orders` and `inventory`
//! components use it; a third-party component that calls OrderDesk can too.
//!
//! ```ignore
//! let target = Target::new("mytool", store_argument, format!("order {id}"))
//!     .lookup("check the id with orders_list");
//! let reply = target.get(&format!("/orders/{id}"), Vec::new(), CacheMode::UseCache)?;
//! let order = reply.record("order")?;
//! ```

use serde_json::{Map, Value};

use crate::{HostError, ToolError, UpstreamError, log, orderdesk};

pub use orderdesk::CacheMode;
use orderdesk::Method;

/// What a request is about, for error messages: the store, the thing addressed, how to
/// find the right id, and how to check whether a write happened.
pub struct Target {
    component: String,
    store: Option<String>,
    subject: String,
    lookup: String,
    verify: String,
}

/// A successful answer of OrderDesk.
pub struct Reply {
    /// The JSON body.
    pub body: Value,
    /// The store the request was made for.
    pub store_id: String,
    /// Whether the host's cache answered.
    pub cached: bool,
}

impl Target {
    /// A target in `store` (a store name or id; `None`: the session's active store).
    /// `component` names the calling component in access-denied messages; `subject`
    /// names the thing addressed, e.g. `order 3344551`. Set the hints with
    /// [`Target::lookup`] and [`Target::verify`].
    pub fn new(
        component: impl Into<String>,
        store: Option<String>,
        subject: impl Into<String>,
    ) -> Self {
        Self {
            component: component.into(),
            store,
            subject: subject.into(),
            lookup: "check the id".to_string(),
            verify: "check with a read before retrying".to_string(),
        }
    }

    /// How to find the right id when the subject was not found.
    pub fn lookup(mut self, hint: impl Into<String>) -> Self {
        self.lookup = hint.into();
        self
    }

    /// What to do before retrying a write whose outcome is unknown (a whole phrase,
    /// e.g. "check with orders_get before retrying").
    pub fn verify(mut self, hint: impl Into<String>) -> Self {
        self.verify = hint.into();
        self
    }

    pub fn get(
        &self,
        path: &str,
        query: Vec<(String, String)>,
        cache: CacheMode,
    ) -> Result<Reply, ToolError> {
        self.send(Method::Get, path, query, None, cache)
    }

    pub fn post(&self, path: &str, body: &Value) -> Result<Reply, ToolError> {
        self.send(
            Method::Post,
            path,
            Vec::new(),
            Some(body),
            CacheMode::Bypass,
        )
    }

    pub fn put(&self, path: &str, body: &Value) -> Result<Reply, ToolError> {
        self.send(Method::Put, path, Vec::new(), Some(body), CacheMode::Bypass)
    }

    pub fn delete(&self, path: &str) -> Result<Reply, ToolError> {
        self.send(Method::Delete, path, Vec::new(), None, CacheMode::Bypass)
    }

    fn send(
        &self,
        method: Method,
        path: &str,
        query: Vec<(String, String)>,
        body: Option<&Value>,
        cache: CacheMode,
    ) -> Result<Reply, ToolError> {
        let request = orderdesk::ApiRequest {
            method,
            path: path.to_string(),
            query,
            body: body.map(Value::to_string),
            store: self.store.clone(),
            cache,
        };
        let response = orderdesk::send(&request).map_err(|e| self.map_error(e, method, path))?;
        let body: Value = serde_json::from_str(&response.body).map_err(|e| {
            ToolError::Upstream(format!(
                "OrderDesk answered {} {path} with a body that is not JSON ({e}); {}",
                verb(method),
                self.after_failure(method)
            ))
        })?;
        if let Some(message) = error_envelope(&body) {
            return Err(ToolError::Upstream(format!(
                "OrderDesk answered {} {path} with HTTP {} but reported an error: {message}; {}",
                verb(method),
                response.status,
                self.after_failure(method)
            )));
        }
        if method != Method::Get {
            log::write(
                log::Level::Info,
                "orderdesk write done",
                &[
                    ("method".to_string(), verb(method).to_string()),
                    ("path".to_string(), path.to_string()),
                    ("store_id".to_string(), response.store_id.clone()),
                ],
            );
        }
        Ok(Reply {
            body,
            store_id: response.store_id,
            cached: response.cached,
        })
    }

    fn after_failure(&self, method: Method) -> String {
        if method == Method::Get {
            "try again shortly".to_string()
        } else {
            self.verify.clone()
        }
    }

    fn store_phrase(&self) -> String {
        match &self.store {
            Some(store) => format!("store `{store}`"),
            None => "the session's active store".to_string(),
        }
    }

    /// Map a host error to the tool error the model reads.
    fn map_error(&self, error: HostError, method: Method, path: &str) -> ToolError {
        let request = format!("{} {path}", verb(method));
        match error {
            HostError::NotFound(m) if is_about_store(&m) => ToolError::NotFound(format!(
                "{m}; check the store's name or id with stores_list, or pass another `store`"
            )),
            HostError::NotFound(m) => ToolError::NotFound(format!(
                "{} was not found in {} ({m}); {}",
                self.subject,
                self.store_phrase(),
                self.lookup
            )),
            HostError::Unauthenticated(m) => ToolError::Unauthorized(format!(
                "{m}; authenticate first: call tenant_use_master_key with the tenant's master key, \
                 or start the server with ORDERDESK_MCP_MASTER_KEY set"
            )),
            HostError::InvalidInput(m)
                if self.store.is_none() && m.to_lowercase().contains("store") =>
            {
                ToolError::InvalidInput(format!(
                    "{m}; no store is selected: call stores_use_store first, or pass `store` \
                     (a store name or id from stores_list)"
                ))
            }
            HostError::InvalidInput(m) => ToolError::InvalidInput(format!("{m} (in {request})")),
            HostError::AccessDenied(m) => ToolError::Unauthorized(format!(
                "{m}; the {} component's grants (its manifest) do not allow this, or the \
                 operator's config narrowed them: ask the operator",
                self.component
            )),
            HostError::RateLimited(ms) => ToolError::RateLimited(ms),
            HostError::Upstream(UpstreamError { status, message }) => ToolError::Upstream(format!(
                "OrderDesk answered {request} with HTTP {status}: {message}; {}",
                self.upstream_hint(status, method)
            )),
            HostError::OutcomeUnknown(m) => {
                log::write(
                    log::Level::Warn,
                    "orderdesk write outcome unknown",
                    &[("request".to_string(), request.clone())],
                );
                ToolError::OutcomeUnknown(format!(
                    "{request} may or may not have been applied ({m}); {}",
                    self.verify
                ))
            }
            HostError::Conflict(m) => ToolError::InvalidInput(format!(
                "{m} (this conflicts with the store's current state; {})",
                self.verify
            )),
            HostError::NotAvailable(m) => {
                ToolError::Internal(format!("{m} (this host does not provide it)"))
            }
            HostError::Internal(m) => ToolError::Internal(m),
        }
    }

    fn upstream_hint(&self, status: u16, method: Method) -> String {
        match status {
            400 | 422 => "fix the fields it names and try again".to_string(),
            401 | 403 => format!(
                "the API key registered for {} may be wrong or revoked: register it again with \
                 stores_register",
                self.store_phrase()
            ),
            _ => self.after_failure(method),
        }
    }
}

impl Reply {
    /// The body without OrderDesk's bookkeeping (`status`, `execution_time`), with the
    /// store id added (and `cached: true` when the host's cache answered).
    pub fn payload(self) -> Value {
        let mut fields = match self.body {
            Value::Object(fields) => fields,
            other => Map::from_iter([("result".to_string(), other)]),
        };
        fields.remove("status");
        fields.remove("execution_time");
        fields.insert("store_id".to_string(), Value::String(self.store_id));
        if self.cached {
            fields.insert("cached".to_string(), Value::Bool(true));
        }
        Value::Object(fields)
    }

    /// The record under `key` (e.g. `order` of `{status, order}`).
    pub fn record(&self, key: &str) -> Result<Value, ToolError> {
        match self.body.get(key) {
            Some(record @ Value::Object(_)) => Ok(record.clone()),
            _ => Err(ToolError::Upstream(format!(
                "OrderDesk's answer holds no `{key}` object; nothing was changed"
            ))),
        }
    }
}

/// `{"status":"error","message":…}` in a 2xx answer: OrderDesk's PHP sometimes does that.
fn error_envelope(body: &Value) -> Option<String> {
    let envelope = order_model::ErrorEnvelope::from_value(body.clone()).ok()?;
    envelope.is_error().then(|| {
        envelope
            .message()
            .unwrap_or_else(|| "no message".to_string())
    })
}

/// A not-found that names the store rather than an order, item, shipment or
/// inventory item.
fn is_about_store(message: &str) -> bool {
    let m = message.to_lowercase();
    m.contains("store")
        && !["order", "item", "shipment", "inventory"]
            .iter()
            .any(|w| m.contains(w))
}

fn verb(method: Method) -> &'static str {
    match method {
        Method::Get => "GET",
        Method::Post => "POST",
        Method::Put => "PUT",
        Method::Delete => "DELETE",
    }
}

/// A tool error as one line, for results that report a partial failure.
pub fn describe(error: &ToolError) -> String {
    match error {
        ToolError::InvalidInput(m) => format!("invalid input: {m}"),
        ToolError::NotFound(m) => format!("not found: {m}"),
        ToolError::Unauthorized(m) => format!("unauthorized: {m}"),
        ToolError::RateLimited(ms) => format!("rate-limited: retry after {ms} ms"),
        ToolError::Upstream(m) => format!("OrderDesk failed: {m}"),
        ToolError::OutcomeUnknown(m) => format!("outcome unknown: {m}"),
        ToolError::Internal(m) => format!("internal error: {m}"),
    }
}
