//! Requests to a store's OrderDesk API.

use orderdesk_tool_kit::errors::{ErrorContext, map_host_error};
use orderdesk_tool_kit::orderdesk::{self, CacheMode, Method};
use orderdesk_tool_kit::{HostError, ToolError, log};
use serde_json::{Map, Value};

/// What a request is about, for error messages: the store, the thing addressed, how to
/// find the right id, and how to check whether a write happened.
pub struct Target {
    store: Option<String>,
    subject: String,
    lookup: String,
    verify: String,
}

/// A successful answer of OrderDesk.
#[derive(Debug)]
pub struct Reply {
    /// The JSON body.
    pub body: Value,
    /// The store the request was made for.
    pub store_id: String,
    /// Whether the host's cache answered.
    pub cached: bool,
}

impl Target {
    /// A target in `store` (a store name or id, e.g. a tool's `store` argument; `None`:
    /// the session's active store). `subject` names the thing addressed, e.g. `order
    /// 3344551`. Set the hints with [`Target::lookup`] and [`Target::verify`].
    pub fn new(store: Option<impl Into<String>>, subject: impl Into<String>) -> Self {
        Self {
            store: store.map(Into::into),
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
        let context = self.context(method, path);
        let response = orderdesk::send(&request).map_err(|error| {
            if matches!(error, HostError::OutcomeUnknown(_)) {
                log::write(
                    log::Level::Warn,
                    "orderdesk write outcome unknown",
                    &[("request".to_string(), format!("{} {path}", method.as_str()))],
                );
            }
            map_host_error(error, &context)
        })?;
        let body: Value = serde_json::from_str(&response.body).map_err(|e| {
            ToolError::Upstream(format!(
                "OrderDesk answered {} {path} with a body that is not JSON ({e}); {}",
                method.as_str(),
                context.after_failure()
            ))
        })?;
        if let Some(message) = error_envelope(&body) {
            return Err(ToolError::Upstream(format!(
                "OrderDesk answered {} {path} with HTTP {} but reported an error: {message}; {}",
                method.as_str(),
                response.status,
                context.after_failure()
            )));
        }
        if method != Method::Get {
            log::write(
                log::Level::Info,
                "orderdesk write done",
                &[
                    ("method".to_string(), method.as_str().to_string()),
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

    /// This request as the kit's error mapper reads it.
    fn context(&self, method: Method, path: &str) -> ErrorContext {
        ErrorContext {
            request: Some(format!("{} {path}", method.as_str())),
            write: method != Method::Get,
            store: self.store.clone(),
            subject: Some(self.subject.clone()),
            lookup: Some(self.lookup.clone()),
            verify: Some(self.verify.clone()),
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

#[cfg(test)]
mod tests {
    use orderdesk_tool_kit::testing::{MockHost, error_message};
    use orderdesk_tool_kit::{HostError, UpstreamError};
    use serde_json::json;

    use super::*;

    fn order(store: Option<&str>) -> Target {
        Target::new(store, "order 7")
            .lookup("check the id with orders_list")
            .verify("check with orders_get before retrying")
    }

    #[test]
    fn a_reply_loses_orderdesk_bookkeeping_and_gains_the_store() {
        let host = MockHost::with_store();
        host.reply(
            200,
            json!({"status": "success", "execution_time": "0.1", "order": {"id": "7"}}),
        );
        let reply = order(None)
            .get("/orders/7", Vec::new(), CacheMode::UseCache)
            .unwrap();
        assert_eq!(reply.record("order").unwrap(), json!({"id": "7"}));
        assert_eq!(
            reply.payload(),
            json!({"order": {"id": "7"}, "store_id": "100001"})
        );
        assert_eq!(host.requests()[0].cache, CacheMode::UseCache);
    }

    #[test]
    fn an_error_envelope_in_a_2xx_answer_is_an_upstream_error() {
        let host = MockHost::with_store();
        host.reply(
            200,
            json!({"status": "error", "message": "Folder Not Found"}),
        );
        let m = error_message(
            order(None).post("/move-orders", &json!({})),
            ToolError::Upstream,
        );
        assert!(m.contains("Folder Not Found"), "{m}");
        assert!(m.ends_with("check with orders_get before retrying"), "{m}");
        assert!(
            host.logs().is_empty(),
            "a failed write is not logged as done"
        );
    }

    #[test]
    fn writes_are_logged_and_an_unknown_outcome_is_warned_about() {
        let host = MockHost::with_store();
        host.reply(200, json!({"status": "success"}))
            .fail(HostError::OutcomeUnknown("timed out".into()));
        order(Some("main")).delete("/orders/7").unwrap();
        let m = error_message(
            order(Some("main")).delete("/orders/7"),
            ToolError::OutcomeUnknown,
        );
        assert!(m.starts_with("DELETE /orders/7 may or may not"), "{m}");
        let logs = host.logs();
        assert_eq!(logs[0].message, "orderdesk write done");
        assert_eq!(logs[1].message, "orderdesk write outcome unknown");
    }

    #[test]
    fn errors_name_the_subject_and_the_store() {
        let host = MockHost::with_store();
        host.reply(
            404,
            json!({"status": "error", "message": "Order not found"}),
        )
        .fail(HostError::Upstream(UpstreamError {
            status: 401,
            message: "Invalid API key".into(),
        }));
        let m = error_message(
            order(Some("main")).get("/orders/7", Vec::new(), CacheMode::UseCache),
            ToolError::NotFound,
        );
        assert_eq!(
            m,
            "order 7 was not found in store `main` (Order not found); check the id with orders_list"
        );
        let m = error_message(
            order(None).get("/orders/7", Vec::new(), CacheMode::UseCache),
            ToolError::Upstream,
        );
        assert!(
            m.contains("the session's active store") && m.contains("stores_update_key"),
            "{m}"
        );
    }
}
