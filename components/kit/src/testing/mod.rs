//! A mock host for native unit tests of a component: `cargo test` runs the component's
//! code in-process, with no wasm runtime, database, HTTP client or simulator.
//!
//! Compiled natively, the kit's [`session`](crate::session), [`vault`](crate::vault),
//! [`orderdesk`](crate::orderdesk) and [`log`](crate::log) ask the [`MockHost`]
//! installed on the current thread. It answers OrderDesk requests with replies
//! scripted in order and records each request, keeps a session (tenant, active store)
//! and the tenant's stores, and collects log lines and progress reports. Each test
//! installs its own (tests run on threads of their own).
//!
//! ```
//! # use orderdesk_tool_kit::orderdesk::{self, ApiRequest, CacheMode, Method};
//! # use orderdesk_tool_kit::{ToolSpec, Tools, args::NoArguments, host_error, parse_body};
//! use orderdesk_tool_kit::testing::{self, MockHost};
//! use serde_json::json;
//!
//! # fn tools() -> Tools {
//! #     Tools::new("template").tool(ToolSpec::new("template_store_test", "Test", "Tests.").run(
//! #         |_: NoArguments| {
//! #             let request = ApiRequest { method: Method::Get, path: "/test".into(), query: vec![],
//! #                                        body: None, store: None, cache: CacheMode::Bypass };
//! #             let response = orderdesk::send(&request).map_err(host_error)?;
//! #             let mut body = parse_body(&response.body)?;
//! #             body["store_id"] = json!(response.store_id);
//! #             Ok(body)
//! #         },
//! #     ))
//! # }
//! let host = MockHost::with_store(); // tenant, active store 100001 `main`
//! host.reply(200, json!({"status": "success", "message": "Connection Successful"}));
//! let result = testing::call(&tools(), "template_store_test", json!({})).unwrap();
//! assert_eq!(result["store_id"], "100001");
//! assert_eq!(host.requests()[0].path, "/test");
//! ```
//!
//! The mock is no copy of the host: it does not check grants, argument schemas or
//! limits. It reproduces what a component relies on — who is authenticated, which store
//! a request goes to, and how the gateway reports OrderDesk's error statuses.
//! the host's `orderdesk-harness` crate runs the built `.wasm` in the real runtime for that.

use std::cell::RefCell;
use std::collections::VecDeque;
use std::rc::Rc;

use serde_json::Value;

use crate::log::Level;
use crate::orderdesk::{ApiAnswer, ApiRequest, CacheMode, Method};
use crate::session::SessionInfo;
use crate::vault::{CallEntry, CallFilter, MatchKind, ResolvedStore, StoreSummary, TenantSummary};
use crate::{HostError, StoreRef, ToolError, Tools, UpstreamError};

/// The tenant [`MockHost::with_store`] authenticates.
pub const TENANT_ID: &str = "tenant-1";
/// The store [`MockHost::with_store`] registers and makes active (as the host's
/// harness does).
pub const STORE_ID: &str = "100001";
/// Its name.
pub const STORE_NAME: &str = "main";
/// What `session::now` answers unless [`MockHost::now`] says otherwise.
pub const DEFAULT_NOW: &str = "2026-12-02 12:00:00";
/// `session::budget().result_bytes` unless [`MockHost::budget`] says otherwise (the
/// host's default `[limits] answer_kib`).
pub const DEFAULT_RESULT_BYTES: u32 = 60 << 10;
/// `session::budget().time_left_ms` unless [`MockHost::budget`] says otherwise.
pub const DEFAULT_TIME_LEFT_MS: u32 = 30_000;

/// An OrderDesk request a component sent ([`MockHost::requests`]).
#[derive(Clone, Debug, PartialEq)]
pub struct Request {
    /// The store it went to, resolved as the host does (named, else the active one).
    pub store_id: String,
    /// `GET`, `POST`, `PUT` or `DELETE`.
    pub method: Method,
    /// The path, e.g. `/inventory-items`.
    pub path: String,
    /// The query parameters, in the order sent.
    pub query: Vec<(String, String)>,
    /// The JSON body (a body that is not JSON is kept as a string).
    pub body: Option<Value>,
    /// Whether the host's cache could have answered.
    pub cache: CacheMode,
}

/// A line the component logged ([`MockHost::logs`]).
#[derive(Clone, Debug, PartialEq)]
pub struct LogLine {
    /// Its level.
    pub level: Level,
    /// Its message.
    pub message: String,
    /// Its key/value fields.
    pub fields: Vec<(String, String)>,
}

/// A progress report ([`MockHost::progress`]).
#[derive(Clone, Debug, PartialEq)]
pub struct Progress {
    /// How far the call is.
    pub progress: f64,
    /// Out of how much, when known.
    pub total: Option<f64>,
    /// What it is doing.
    pub message: Option<String>,
}

/// The mock host of the current thread, installed from creation until dropped.
/// Dropping it with scripted replies nobody asked for fails the test.
pub struct MockHost {
    state: Rc<RefCell<MockState>>,
}

thread_local! {
    static INSTALLED: RefCell<Option<Rc<RefCell<MockState>>>> = const { RefCell::new(None) };
}

/// Run `f` on the mock host of this thread (what the kit's host functions do natively).
pub(crate) fn with_host<T>(f: impl FnOnce(&mut MockState) -> T) -> T {
    let state = INSTALLED
        .with(|installed| installed.borrow().clone())
        .expect(
            "no mock host on this thread: natively, host calls are answered by \
         orderdesk_tool_kit::testing::MockHost; create one at the start of the test",
        );
    let mut state = state.borrow_mut();
    f(&mut state)
}

impl MockHost {
    /// An unauthenticated session and a tenant without stores; build on it with
    /// [`tenant`](MockHost::tenant), [`store`](MockHost::store),
    /// [`active_store`](MockHost::active_store).
    ///
    /// ```
    /// use orderdesk_tool_kit::{session, testing::MockHost};
    ///
    /// let _host = MockHost::new().tenant("t-7").store("200002", "eu").active_store("eu");
    /// assert_eq!(session::info().tenant_id.as_deref(), Some("t-7"));
    /// ```
    pub fn new() -> Self {
        let state = Rc::new(RefCell::new(MockState {
            now: DEFAULT_NOW.to_string(),
            budget: (DEFAULT_RESULT_BYTES, DEFAULT_TIME_LEFT_MS),
            ..MockState::default()
        }));
        INSTALLED.with(|installed| {
            let mut installed = installed.borrow_mut();
            assert!(
                installed.is_none(),
                "a MockHost is already installed on this thread"
            );
            *installed = Some(state.clone());
        });
        MockHost { state }
    }

    /// Tenant [`TENANT_ID`] authenticated, with store [`STORE_ID`] named [`STORE_NAME`]
    /// registered and active: what a test of a store-bound tool needs.
    ///
    /// ```
    /// use orderdesk_tool_kit::testing::{MockHost, STORE_ID};
    ///
    /// let _host = MockHost::with_store();
    /// assert_eq!(orderdesk_tool_kit::session::info().active_store.unwrap().store_id, STORE_ID);
    /// ```
    pub fn with_store() -> Self {
        MockHost::new()
            .tenant(TENANT_ID)
            .store(STORE_ID, STORE_NAME)
            .active_store(STORE_ID)
    }

    /// Authenticate the session as `tenant_id` (see [`MockHost::new`]).
    pub fn tenant(self, tenant_id: &str) -> Self {
        self.state.borrow_mut().tenant_id = Some(tenant_id.to_string());
        self
    }

    /// The master key `vault::authenticate` accepts (it authenticates [`TENANT_ID`],
    /// or the tenant set with [`MockHost::tenant`]). See `vault::authenticate`.
    pub fn master_key(self, key: &str) -> Self {
        self.state.borrow_mut().master_key = Some(key.to_string());
        self
    }

    /// Register a store of the tenant (see [`MockHost::new`]).
    pub fn store(self, store_id: &str, name: &str) -> Self {
        self.state.borrow_mut().stores.push(StoreRef {
            store_id: store_id.to_string(),
            name: name.to_string(),
            label: None,
        });
        self
    }

    /// Make a registered store (by id or name) the session's active store (see
    /// [`MockHost::new`]).
    pub fn active_store(self, identifier: &str) -> Self {
        let chosen = self.state.borrow_mut().set_active_store(identifier);
        if let Err(error) = chosen {
            panic!("MockHost::active_store({identifier:?}): {error:?}");
        }
        self
    }

    /// What `session::now` answers (default [`DEFAULT_NOW`]). See `session::now`.
    pub fn now(self, now: &str) -> Self {
        self.state.borrow_mut().now = now.to_string();
        self
    }

    /// What `session::budget` answers (default [`DEFAULT_RESULT_BYTES`] and
    /// [`DEFAULT_TIME_LEFT_MS`]). See `session::budget`.
    pub fn budget(self, result_bytes: u32, time_left_ms: u32) -> Self {
        self.state.borrow_mut().budget = (result_bytes, time_left_ms);
        self
    }

    /// Add a call of `tool` with `outcome` (`ok`, `error:KIND`) to the tenant's audit
    /// log, newer than those added before, in the active store, at the mock's `now`.
    /// See `vault::recent_calls`.
    pub fn audit(self, tool: &str, outcome: &str) -> Self {
        {
            let mut state = self.state.borrow_mut();
            let number = state.audit.len() + 1;
            let entry = CallEntry {
                at: state.now.clone(),
                tool: tool.to_string(),
                outcome: outcome.to_string(),
                store_id: state.active_store.clone(),
                correlation_id: format!("mock-{number}"),
                arguments: "{}".to_string(),
                duration_ms: 5,
                source: "mcp".to_string(),
            };
            state.audit.push(entry);
        }
        self
    }

    /// Add a change OrderDesk pushed for order `order_id` of store `store_id` (newer
    /// than those added before, received at the mock's `now`). See
    /// `orderdesk::changes`.
    pub fn pushed(self, store_id: &str, order_id: &str, folder_id: Option<i64>) -> Self {
        {
            let mut state = self.state.borrow_mut();
            let event_id = state.pushed.len() as i64 + 1;
            let store_name = state
                .stores
                .iter()
                .find(|s| s.store_id == store_id)
                .map(|s| s.name.clone());
            let change = crate::orderdesk::OrderChange {
                event_id,
                store_id: store_id.to_string(),
                store_name,
                order_id: order_id.to_string(),
                folder_id,
                date_updated: Some(state.now.clone()),
                received_at: state.now.clone(),
            };
            state.pushed.push(change);
        }
        self
    }

    /// Serve the session as the sandbox does (`session::info().sandbox`).
    ///
    /// ```
    /// # use orderdesk_tool_kit::testing::MockHost;
    /// let _host = MockHost::with_store().sandbox();
    /// assert!(orderdesk_tool_kit::session::info().sandbox);
    /// ```
    pub fn sandbox(self) -> Self {
        self.state.borrow_mut().sandbox = true;
        self
    }

    /// Script OrderDesk's answer to the next request: 2xx is a response; other
    /// statuses become the errors the host's gateway reports, with the body's `message`:
    /// 401 and 403 `upstream` 401 with a hint to replace the key, 404
    /// `not-found`, 429 `rate-limited`, 5xx on a write `outcome-unknown`, others
    /// `upstream`.
    ///
    /// ```
    /// use orderdesk_tool_kit::orderdesk::{self, ApiRequest, CacheMode, Method};
    /// use orderdesk_tool_kit::{HostError, testing::MockHost};
    ///
    /// let host = MockHost::with_store();
    /// host.reply(200, serde_json::json!({"status": "success", "order": {"id": "7"}}))
    ///     .reply(404, serde_json::json!({"status": "error", "message": "Order Not Found"}));
    /// let get = |path: &str| orderdesk::send(&ApiRequest { method: Method::Get, path: path.into(),
    ///     query: vec![], body: None, store: None, cache: CacheMode::UseCache });
    /// assert!(get("/orders/7").is_ok());
    /// assert_eq!(get("/orders/8"), Err(HostError::NotFound("Order Not Found".into())));
    /// ```
    pub fn reply(&self, status: u16, body: Value) -> &Self {
        self.state.borrow_mut().replies.push_back(Scripted::Reply {
            status,
            body,
            cache_age_s: None,
        });
        self
    }

    /// Script a successful answer as the host's cache gives it, `age_s` seconds old
    /// (what `orderdesk::request` reports as `cache_age_s`). See `orderdesk::request`.
    pub fn reply_cached(&self, status: u16, body: Value, age_s: u32) -> &Self {
        self.state.borrow_mut().replies.push_back(Scripted::Reply {
            status,
            body,
            cache_age_s: Some(age_s),
        });
        self
    }

    /// Script a host error as the answer to the next request, e.g. what the gateway
    /// reports when OrderDesk keeps rate-limiting.
    ///
    /// ```
    /// use orderdesk_tool_kit::orderdesk::{self, ApiRequest, CacheMode, Method};
    /// use orderdesk_tool_kit::{HostError, testing::MockHost};
    ///
    /// let host = MockHost::with_store();
    /// host.fail(HostError::RateLimited(2000));
    /// let answer = orderdesk::send(&ApiRequest { method: Method::Get, path: "/orders".into(),
    ///     query: vec![], body: None, store: None, cache: CacheMode::UseCache });
    /// assert_eq!(answer, Err(HostError::RateLimited(2000)));
    /// ```
    pub fn fail(&self, error: HostError) -> &Self {
        self.state
            .borrow_mut()
            .replies
            .push_back(Scripted::Fail(error));
        self
    }

    /// The OrderDesk requests made so far, in order (see the [module](self) example).
    pub fn requests(&self) -> Vec<Request> {
        self.state.borrow().requests.clone()
    }

    /// The lines logged so far (see `log::write`).
    pub fn logs(&self) -> Vec<LogLine> {
        self.state.borrow().logs.clone()
    }

    /// The API key the vault holds for a store registered through `vault::register_store`
    /// (or replaced through `vault::update_store_key`).
    ///
    /// ```
    /// # use orderdesk_tool_kit::{testing::MockHost, vault};
    /// let host = MockHost::new().tenant("t");
    /// vault::register_store("300003", "secret-key", None, None, false).unwrap();
    /// assert_eq!(host.api_key("300003").as_deref(), Some("secret-key"));
    /// ```
    pub fn api_key(&self, store_id: &str) -> Option<String> {
        let state = self.state.borrow();
        let (_, key) = state.api_keys.iter().find(|(id, _)| id == store_id)?;
        Some(key.clone())
    }

    /// The progress reported so far (see `session::report_progress`).
    pub fn progress(&self) -> Vec<Progress> {
        self.state.borrow().progress.clone()
    }
}

impl Default for MockHost {
    fn default() -> Self {
        MockHost::new()
    }
}

impl Drop for MockHost {
    fn drop(&mut self) {
        INSTALLED.with(|installed| installed.borrow_mut().take());
        let unused = self.state.borrow().replies.len();
        if unused > 0 && !std::thread::panicking() {
            panic!("{unused} scripted OrderDesk replies were never asked for");
        }
    }
}

/// Call tool `name` of `tools` with JSON arguments, as the host would, and parse its
/// result. A result that does not match the tool's output schema fails the test (a
/// shallow check: the top-level type, required properties, their types, and
/// `additionalProperties: false`).
///
/// ```
/// use orderdesk_tool_kit::{Args, ToolSpec, Tools, testing};
/// use serde_json::json;
///
/// let tools = Tools::new("demo").tool(
///     ToolSpec::new("demo_echo", "Echo", "Echoes its arguments.")
///         .input(|| json!({"type": "object"})) // open: any arguments
///         .run(|args: Args| Ok(args)),
/// );
/// assert_eq!(testing::call(&tools, "demo_echo", json!({"a": 1})), Ok(json!({"a": 1})));
/// ```
pub fn call(tools: &Tools, name: &str, arguments: Value) -> Result<Value, ToolError> {
    let text = tools.call(name, &arguments.to_string())?;
    let result: Value = serde_json::from_str(&text)
        .unwrap_or_else(|e| panic!("`{name}` answered text that is not JSON ({e}): {text}"));
    if let Some(schema) = tools.output_schema(name)
        && let Err(problem) = matches_shallowly(&schema, &result)
    {
        panic!("the result of `{name}` does not match its output schema: {problem}\n{result}");
    }
    Ok(result)
}

/// The message of the tool error `result` must be, of the kind `kind` names (e.g.
/// `ToolError::InvalidInput`); any other outcome fails the test.
///
/// ```
/// use orderdesk_tool_kit::testing::{self, error_message};
/// use orderdesk_tool_kit::{ToolError, ToolSpec, Tools, args::NonBlank};
/// use serde::Deserialize;
///
/// #[derive(Deserialize)]
/// struct Args { name: NonBlank }
///
/// let tools = Tools::new("demo").tool(
///     ToolSpec::new("demo_hi", "Hi", "Greets.")
///         .input(|| serde_json::json!({"type": "object", "properties": {"name": {"type": "string"}}}))
///         .run(|args: Args| Ok(args.name.into_string())),
/// );
/// let blank = testing::call(&tools, "demo_hi", serde_json::json!({"name": " "}));
/// assert!(error_message(blank, ToolError::InvalidInput).starts_with("`name`: must not be empty"));
/// ```
pub fn error_message<T: std::fmt::Debug>(
    result: Result<T, ToolError>,
    kind: fn(String) -> ToolError,
) -> String {
    let expected = kind(String::new());
    // A conflict is an invalid-input with a prefix (see `errors::conflict`): asked for
    // one, only a conflict will do, and its message comes without the prefix; asked for
    // an invalid input, a conflict will not do.
    let conflict_expected = crate::errors::conflict_message(&expected).is_some();
    match result {
        Err(error)
            if std::mem::discriminant(&error) == std::mem::discriminant(&expected)
                && crate::errors::conflict_message(&error).is_some() == conflict_expected =>
        {
            if let Some(message) = crate::errors::conflict_message(&error) {
                return message.to_string();
            }
            match error {
                ToolError::InvalidInput(m)
                | ToolError::NotFound(m)
                | ToolError::Unauthorized(m)
                | ToolError::Upstream(m)
                | ToolError::OutcomeUnknown(m)
                | ToolError::Internal(m) => m,
                ToolError::RateLimited(ms) => ms.to_string(),
            }
        }
        other => {
            let kind = format!("{expected:?}");
            let kind = match conflict_expected {
                true => "conflict",
                false => kind.split('(').next().unwrap_or_default(),
            };
            panic!("expected a {kind} error, got {other:?}")
        }
    }
}

/// Whether `value` has the JSON type a schema's `type` names (a name or a list).
fn has_type(value: &Value, expected: &Value) -> bool {
    let is = |name: &str| match name {
        "null" => value.is_null(),
        "boolean" => value.is_boolean(),
        "integer" => value.is_i64() || value.is_u64(),
        "number" => value.is_number(),
        "string" => value.is_string(),
        "array" => value.is_array(),
        "object" => value.is_object(),
        _ => true,
    };
    match expected {
        Value::String(name) => is(name),
        Value::Array(names) => names.iter().filter_map(Value::as_str).any(is),
        _ => true,
    }
}

fn matches_shallowly(schema: &Value, value: &Value) -> Result<(), String> {
    if let Some(expected) = schema.get("type")
        && !has_type(value, expected)
    {
        return Err(format!("the result is not of type {expected}"));
    }
    let (Some(fields), Some(properties)) = (
        value.as_object(),
        schema.get("properties").and_then(Value::as_object),
    ) else {
        return Ok(());
    };
    for required in schema["required"].as_array().into_iter().flatten() {
        let required = required.as_str().unwrap_or_default();
        if !fields.contains_key(required) {
            return Err(format!("required property `{required}` is missing"));
        }
    }
    for (key, field) in fields {
        match properties.get(key).and_then(|p| p.get("type")) {
            Some(expected) if !has_type(field, expected) => {
                return Err(format!("property `{key}` is not of type {expected}"));
            }
            None if !properties.contains_key(key)
                && schema.get("additionalProperties") == Some(&Value::Bool(false)) =>
            {
                return Err(format!("property `{key}` is not declared"));
            }
            _ => {}
        }
    }
    Ok(())
}

enum Scripted {
    Reply {
        status: u16,
        body: Value,
        /// Answered as the host's cache would, this many seconds old.
        cache_age_s: Option<u32>,
    },
    Fail(HostError),
}

mod state;

pub(crate) use state::MockState;

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::{orderdesk, session, vault};

    fn get(path: &str, store: Option<&str>) -> ApiRequest {
        ApiRequest {
            method: Method::Get,
            path: path.to_string(),
            query: vec![("limit".to_string(), "5".to_string())],
            body: None,
            store: store.map(str::to_string),
            cache: CacheMode::UseCache,
        }
    }

    #[test]
    fn replies_come_in_order_and_requests_are_recorded() {
        let host = MockHost::with_store().store("200002", "second");
        host.reply(200, json!({"status": "success", "n": 1})).reply(
            404,
            json!({"status": "error", "message": "Order not found"}),
        );
        let first = orderdesk::send(&get("/orders", None)).unwrap();
        assert_eq!(first.store_id, STORE_ID);
        assert_eq!(first.body, r#"{"status":"success","n":1}"#);
        let second = orderdesk::send(&get("/orders/9", Some("second")));
        assert_eq!(second, Err(HostError::NotFound("Order not found".into())));
        let requests = host.requests();
        assert_eq!(requests.len(), 2);
        assert_eq!(requests[1].store_id, "200002");
        assert_eq!(requests[1].path, "/orders/9");
        assert_eq!(
            requests[0].query,
            vec![("limit".to_string(), "5".to_string())]
        );
    }

    #[test]
    fn a_request_without_a_session_or_store_never_reaches_orderdesk() {
        let host = MockHost::new();
        assert!(matches!(
            orderdesk::send(&get("/test", None)),
            Err(HostError::Unauthenticated(_))
        ));
        drop(host);
        let host = MockHost::new().tenant("t");
        assert!(matches!(
            orderdesk::send(&get("/test", None)),
            Err(HostError::InvalidInput(m)) if m.contains("stores_use_store")
        ));
        assert!(matches!(
            orderdesk::send(&get("/test", Some("nope"))),
            Err(HostError::NotFound(m)) if m.contains("'nope'")
        ));
        assert!(host.requests().is_empty());
    }

    #[test]
    fn an_unscripted_request_is_answered_599_and_a_5xx_write_is_outcome_unknown() {
        let host = MockHost::with_store();
        let Err(HostError::Upstream(unscripted)) = orderdesk::send(&get("/test", None)) else {
            panic!("nothing was scripted");
        };
        assert_eq!(unscripted.status, 599);
        host.reply(503, json!({"message": "busy"}));
        let post = ApiRequest {
            method: Method::Post,
            body: Some(r#"{"a":1}"#.to_string()),
            ..get("/orders", None)
        };
        assert!(matches!(
            orderdesk::send(&post),
            Err(HostError::OutcomeUnknown(_))
        ));
        assert_eq!(host.requests()[1].body, Some(json!({"a": 1})));
    }

    #[test]
    fn the_vault_and_session_keep_the_tenant_and_its_stores() {
        let host = MockHost::new().master_key("odmk_test");
        assert!(!session::info().authenticated);
        assert!(vault::authenticate("wrong").is_err());
        assert_eq!(
            vault::authenticate("odmk_test").unwrap().tenant_id,
            TENANT_ID
        );
        host.reply(200, json!({"status": "success"}));
        let saved = vault::register_store("300003", "key", Some("shop"), None, true).unwrap();
        assert!(saved.active, "the first store becomes the active one");
        assert_eq!(host.api_key("300003").as_deref(), Some("key"));
        assert_eq!(host.requests()[0].store_id, "300003");
        assert!(matches!(
            vault::register_store("300004", "key", Some("shop"), None, false),
            Err(HostError::Conflict(_))
        ));
        let found = vault::resolve_store("shop").unwrap();
        assert_eq!(found.matched_by, MatchKind::Name);
        assert_eq!(session::info().active_store.unwrap().name, "shop");
        vault::delete_store("300003").unwrap();
        assert!(vault::list_stores().unwrap().is_empty());
        assert_eq!(session::info().active_store, None);
    }

    #[test]
    fn log_lines_and_progress_are_collected() {
        let host = MockHost::new();
        crate::log::write(Level::Info, "hello", &[("k".into(), "v".into())]);
        session::report_progress(1.0, Some(2.0), Some("half"));
        assert_eq!(host.logs()[0].message, "hello");
        assert_eq!(
            host.logs()[0].fields,
            vec![("k".to_string(), "v".to_string())]
        );
        assert_eq!(host.progress()[0].total, Some(2.0));
    }

    #[test]
    #[should_panic(expected = "1 scripted OrderDesk replies were never asked for")]
    fn an_unused_reply_fails_the_test() {
        let host = MockHost::with_store();
        host.reply(200, json!({}));
    }

    #[test]
    fn error_message_gives_the_message_of_the_expected_kind() {
        let not_found: Result<(), ToolError> = Err(ToolError::NotFound("no order 7".into()));
        assert_eq!(error_message(not_found, ToolError::NotFound), "no order 7");
    }

    #[test]
    #[should_panic(expected = "expected a ToolError::NotFound error, got Ok(())")]
    fn error_message_fails_the_test_on_any_other_outcome() {
        error_message(Ok(()), ToolError::NotFound);
    }

    #[test]
    fn results_are_checked_against_the_output_schema() {
        let schema = json!({"type": "object", "required": ["greeting"],
                            "properties": {"greeting": {"type": "string"}},
                            "additionalProperties": false});
        assert!(matches_shallowly(&schema, &json!({"greeting": "hi"})).is_ok());
        assert!(matches_shallowly(&schema, &json!({})).is_err());
        assert!(matches_shallowly(&schema, &json!({"greeting": 1})).is_err());
        assert!(matches_shallowly(&schema, &json!({"greeting": "hi", "extra": 1})).is_err());
        assert!(matches_shallowly(&schema, &json!(["greeting"])).is_err());
    }
}
