//! Requests to a store's OrderDesk API.

use orderdesk_tool_kit::errors::{ErrorContext, map_host_error};
use orderdesk_tool_kit::orderdesk::{self, CacheMode, Method};
use orderdesk_tool_kit::{ToolError, log};
use serde_json::{Map, Value};

/// What a request is about, for error messages: the store, the thing addressed, how to
/// find the right id, and how to check whether a write happened. Its requests take and
/// give JSON; every failure is a `ToolError` that names the request and the next step.
///
/// ```
/// use orderdesk_store_api::{CacheMode, Target};
/// use orderdesk_tool_kit::{ToolError, testing::{MockHost, error_message}};
///
/// let host = MockHost::with_store();
/// host.reply(404, serde_json::json!({"status": "error", "message": "Order Not Found"}));
/// let target = Target::new(Some("main"), "order 7").lookup("check the id with orders_list");
/// let missing = target.get("/orders/7", Vec::new(), CacheMode::UseCache);
/// assert_eq!(
///     error_message(missing, ToolError::NotFound),
///     "order 7 was not found in store `main` (Order Not Found); check the id with orders_list"
/// );
/// ```
pub struct Target {
    store: Option<String>,
    subject: String,
    lookup: String,
    verify: String,
}

/// A successful answer of OrderDesk: read it with [`Reply::parse`] into one of the
/// [`replies`](crate::replies) models, or take the JSON as it is.
#[derive(Debug)]
pub struct Reply {
    /// The JSON body.
    pub body: Value,
    /// The store the request was made for.
    pub store_id: String,
    /// Whether the host's cache answered.
    pub cached: bool,
    /// How many seconds ago OrderDesk gave the answer the host's cache answered with
    /// (`Some` exactly when `cached`).
    pub cache_age_s: Option<u32>,
}

impl Target {
    /// A target in `store` (a store name or id, e.g. a tool's `store` argument; `None`:
    /// the session's active store). `subject` names the thing addressed, e.g. `order
    /// 3344551`. Set the hints with [`Target::lookup`] and [`Target::verify`]. See
    /// [`Target`] for an example.
    pub fn new(store: Option<impl Into<String>>, subject: impl Into<String>) -> Self {
        Self {
            store: store.map(Into::into),
            subject: subject.into(),
            lookup: "check the id".to_string(),
            verify: "check with a read before retrying".to_string(),
        }
    }

    /// How to find the right id when the subject was not found (see [`Target`]).
    pub fn lookup(mut self, hint: impl Into<String>) -> Self {
        self.lookup = hint.into();
        self
    }

    /// What to do before retrying a write whose outcome is unknown (a whole phrase,
    /// e.g. "check with orders_get before retrying"), said after a failed write.
    ///
    /// ```
    /// use orderdesk_store_api::Target;
    /// use orderdesk_tool_kit::{HostError, ToolError, testing::{MockHost, error_message}};
    ///
    /// let host = MockHost::with_store();
    /// host.fail(HostError::OutcomeUnknown("timed out".into()));
    /// let target = Target::new(None::<String>, "order 7").verify("check with orders_get before retrying");
    /// let message = error_message(target.delete("/orders/7"), ToolError::OutcomeUnknown);
    /// assert!(message.ends_with("check with orders_get before retrying"), "{message}");
    /// ```
    pub fn verify(mut self, hint: impl Into<String>) -> Self {
        self.verify = hint.into();
        self
    }

    /// `GET path?query`: a read, answered from the host's cache when `cache` allows.
    /// Reads write no log line, so a component that only reads imports no `log`.
    ///
    /// ```
    /// use orderdesk_store_api::{CacheMode, Target};
    /// use orderdesk_tool_kit::testing::MockHost;
    ///
    /// let host = MockHost::with_store();
    /// host.reply(200, serde_json::json!({"status": "success", "total_records": 0, "records_returned": 0,
    ///                                    "offset": 0, "limit": 50, "inventory_items": []}));
    /// let target = Target::new(None::<String>, "the inventory search");
    /// let query = vec![("limit".to_string(), "50".to_string())];
    /// let reply = target.get("/inventory-items", query, CacheMode::UseCache).unwrap();
    /// assert_eq!(reply.body["total_records"], 0);
    /// assert!(host.logs().is_empty(), "reads are not logged");
    /// ```
    pub fn get(
        &self,
        path: &str,
        query: Vec<(String, String)>,
        cache: CacheMode,
    ) -> Result<Reply, ToolError> {
        self.send(Method::Get, path, query, None, cache)
    }

    /// `POST path` with a JSON body (creates). Logged, as every write is, so a component
    /// that writes also needs the `log` grant.
    ///
    /// ```
    /// use orderdesk_store_api::Target;
    /// use orderdesk_tool_kit::testing::MockHost;
    /// use serde_json::json;
    ///
    /// let host = MockHost::with_store();
    /// host.reply(201, json!({"status": "success", "inventory_item": {"id": "9", "name": "Lid"}}));
    /// let target = Target::new(None::<String>, "a new inventory item");
    /// let reply = target.post("/inventory-items", &json!({"name": "Lid"})).unwrap();
    /// assert_eq!(reply.record("inventory_item").unwrap()["id"], "9");
    /// assert_eq!(host.logs()[0].message, "orderdesk write done");
    /// ```
    pub fn post(&self, path: &str, body: &Value) -> Result<Reply, ToolError> {
        self.write(Method::Post, path, Some(body))
    }

    /// `PUT path` with a JSON body: OrderDesk replaces the whole record (see
    /// [`Update`](crate::Update) for fetch-merge-PUT). Logged, like [`Target::post`].
    pub fn put(&self, path: &str, body: &Value) -> Result<Reply, ToolError> {
        self.write(Method::Put, path, Some(body))
    }

    /// `DELETE path`. Logged, like [`Target::post`]; see [`Target::verify`] for a
    /// delete whose outcome is unknown.
    pub fn delete(&self, path: &str) -> Result<Reply, ToolError> {
        self.write(Method::Delete, path, None)
    }

    /// A write, with a log line for the operator: done, or of unknown outcome. Kept apart
    /// from [`Target::send`] so that only a component that writes imports `log`.
    fn write(&self, method: Method, path: &str, body: Option<&Value>) -> Result<Reply, ToolError> {
        let request = || ("request".to_string(), format!("{} {path}", method.as_str()));
        match self.send(method, path, Vec::new(), body, CacheMode::Bypass) {
            Ok(reply) => {
                log::write(
                    log::Level::Info,
                    "orderdesk write done",
                    &[
                        ("method".to_string(), method.as_str().to_string()),
                        ("path".to_string(), path.to_string()),
                        ("store_id".to_string(), reply.store_id.clone()),
                    ],
                );
                Ok(reply)
            }
            Err(error @ ToolError::OutcomeUnknown(_)) => {
                log::write(
                    log::Level::Warn,
                    "orderdesk write outcome unknown",
                    &[request()],
                );
                Err(error)
            }
            Err(error) => Err(error),
        }
    }

    /// One request: JSON in and out, OrderDesk's error envelope recognised, host errors
    /// mapped with this request as context. Logs nothing (see [`Target::write`]).
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
        let response =
            orderdesk::request(&request).map_err(|error| map_host_error(error, &context))?;
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
        Ok(Reply {
            body,
            store_id: response.store_id,
            cached: response.cache_age_s.is_some(),
            cache_age_s: response.cache_age_s,
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
    /// store id added (and `cached: true` when the host's cache answered): a tool's
    /// answer when it passes OrderDesk's on.
    ///
    /// ```
    /// use orderdesk_store_api::{CacheMode, Target};
    /// use orderdesk_tool_kit::testing::MockHost;
    ///
    /// let host = MockHost::with_store();
    /// host.reply(200, serde_json::json!({"status": "success", "execution_time": "0.01 seconds", "order": {"id": "7"}}));
    /// let reply = Target::new(None::<String>, "order 7").get("/orders/7", vec![], CacheMode::UseCache).unwrap();
    /// assert_eq!(reply.payload(), serde_json::json!({"order": {"id": "7"}, "store_id": "100001"}));
    /// ```
    pub fn payload(self) -> Value {
        let mut fields = match self.body {
            Value::Object(fields) => fields,
            other => Map::from_iter([("result".to_string(), other)]),
        };
        fields.remove("status");
        fields.remove("execution_time");
        fields.insert("store_id".to_string(), Value::String(self.store_id));
        if let Some(age) = self.cache_age_s {
            fields.insert("cached".to_string(), Value::Bool(true));
            fields.insert("cache_age_s".to_string(), Value::from(age));
        }
        Value::Object(fields)
    }

    /// The answer as one of the typed models of [`replies`](crate::replies), e.g.
    /// `reply.parse::<InventoryPage>()` for `GET /inventory-items`. An answer of another
    /// shape is an `upstream` error.
    ///
    /// ```
    /// use orderdesk_store_api::replies::InventoryPage;
    /// use orderdesk_store_api::{CacheMode, Target};
    /// use orderdesk_tool_kit::testing::MockHost;
    ///
    /// let host = MockHost::with_store();
    /// host.reply(200, serde_json::json!({"status": "success", "total_records": 1, "records_returned": 1,
    ///     "offset": 0, "limit": 500, "inventory_items": [{"id": "701101", "stock": "11"}]}));
    /// let target = Target::new(None::<String>, "the inventory");
    /// let page: InventoryPage = target.get("/inventory-items", vec![], CacheMode::UseCache)?.parse()?;
    /// assert_eq!(page.inventory_items[0].stock(), Some(11));
    /// assert_eq!(page.paging.next_offset(), None);
    /// # Ok::<(), orderdesk_tool_kit::ToolError>(())
    /// ```
    pub fn parse<T: serde::de::DeserializeOwned>(&self) -> Result<T, ToolError> {
        T::deserialize(&self.body).map_err(|e| {
            ToolError::Upstream(format!(
                "OrderDesk's answer does not have the expected shape ({e}); nothing was changed"
            ))
        })
    }

    /// The record under `key` (e.g. `order` of `{status, order}`) as JSON; an answer
    /// without it is an `upstream` error. See [`Target::post`].
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
    fn reads_log_nothing_so_a_reading_component_needs_no_log_grant() {
        let host = MockHost::with_store();
        host.reply(200, json!({"status": "success", "order": {"id": "7"}}))
            .fail(HostError::OutcomeUnknown(
                "a read never ends like this".into(),
            ));
        order(None)
            .get("/orders/7", Vec::new(), CacheMode::UseCache)
            .unwrap();
        let _ = order(None).get("/orders/7", Vec::new(), CacheMode::UseCache);
        assert!(host.logs().is_empty(), "{:?}", host.logs());
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
