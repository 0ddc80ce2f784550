//! The component authors' test harness: run a tool component against a **mock host**
//! without an OrderDesk account or an MCP client.
//!
//! The mock host is the real host with two things swapped: OrderDesk is a script of
//! expected requests and canned replies ([`ScriptedOrderDesk`]), and the vault is a
//! throw-away one in a temporary directory holding one tenant and (optionally) one store.
//! The component is loaded by the same runtime, with the same grant checks, limits and
//! argument validation as in production, so what passes here loads there.
//!
//! From Rust (`cargo test`):
//!
//! ```no_run
//! # async fn demo() -> anyhow::Result<()> {
//! use orderdesk_mcp::grants::{Grants, OrderDeskAccess};
//! use orderdesk_mcp::harness::{Exchange, Harness, HarnessOptions};
//! use serde_json::json;
//!
//! let grants = Grants { orderdesk: OrderDeskAccess::Read, log: true, ..Grants::default() };
//! let harness = Harness::load("my_tools.wasm".as_ref(), HarnessOptions::with_store(grants)).await?;
//! harness.expect(Exchange::get("/orders").query("limit", "5").respond(200, json!({"orders": []})));
//! let outcome = harness.call("my_tool", json!({"limit": 5})).await?;
//! assert!(!outcome.is_error);
//! harness.verify().map_err(anyhow::Error::msg)?; // every expected request was made, in order
//! # Ok(()) }
//! ```
//!
//! From the command line: `orderdesk-mcp component test my_tools.wasm cases.json` (the
//! file format is [`CaseFile`]) and `orderdesk-mcp component check my_tools.wasm`.

use std::collections::{BTreeMap, VecDeque};
use std::fmt;
use std::path::Path;
use std::sync::{Arc, Mutex};

use anyhow::Context;
use orderdesk_gateway::{ApiRequest, ApiResponse, GatewayError};
use orderdesk_vault::{Vault, VaultOptions};
use secrecy::SecretString;
use serde::Deserialize;
use serde_json::Value;

use crate::catalog::Catalog;
use crate::grants::Grants;
use crate::host::{HostServices, OrderDeskBackend};
use crate::mcp::McpServer;
use crate::runtime::bindings::log;
use crate::runtime::{
    CallContext, CallRecord, ComponentOrigin, ComponentSource, Limits, LoadedComponent, Runtime,
};
use crate::session::Session;

/// The store id the harness registers when a test asks for a store.
pub const HARNESS_STORE_ID: &str = "100001";

/// One log line a component wrote.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LogLine {
    pub level: String,
    pub message: String,
    pub fields: Vec<(String, String)>,
}

/// Collects component log lines (besides the host's normal log).
#[derive(Debug, Default)]
pub struct LogSink {
    lines: Mutex<Vec<LogLine>>,
}

impl LogSink {
    pub fn push(&self, level: log::Level, message: &str, fields: &[(String, String)]) {
        let level = match level {
            log::Level::Trace => "trace",
            log::Level::Debug => "debug",
            log::Level::Info => "info",
            log::Level::Warn => "warn",
            log::Level::Error => "error",
        };
        lock(&self.lines).push(LogLine {
            level: level.into(),
            message: message.into(),
            fields: fields.to_vec(),
        });
    }

    pub fn lines(&self) -> Vec<LogLine> {
        lock(&self.lines).clone()
    }
}

/// A request a component made, as the harness saw it.
#[derive(Clone, Debug, PartialEq)]
pub struct RecordedRequest {
    pub store_id: String,
    pub method: String,
    pub path: String,
    pub query: Vec<(String, String)>,
    /// The JSON body (or the raw text, as a JSON string, when it was not JSON).
    pub body: Option<Value>,
}

impl fmt::Display for RecordedRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.method, self.path)?;
        if !self.query.is_empty() {
            let query: Vec<String> = self.query.iter().map(|(k, v)| format!("{k}={v}")).collect();
            write!(f, "?{}", query.join("&"))?;
        }
        if let Some(body) = &self.body {
            write!(f, " body {body}")?;
        }
        Ok(())
    }
}

/// What a test expects the component to ask for. Fields left out match anything.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExpectedRequest {
    pub method: String,
    pub path: String,
    /// When given, the query must have exactly these parameters.
    #[serde(default)]
    pub query: Option<BTreeMap<String, String>>,
    /// When given, the body must be this JSON (key order aside).
    #[serde(default)]
    pub body: Option<Value>,
}

impl ExpectedRequest {
    fn matches(&self, actual: &RecordedRequest) -> bool {
        if !self.method.eq_ignore_ascii_case(&actual.method) || self.path != actual.path {
            return false;
        }
        if let Some(query) = &self.query {
            let actual_query: BTreeMap<String, String> = actual.query.iter().cloned().collect();
            if *query != actual_query || actual_query.len() != actual.query.len() {
                return false;
            }
        }
        match &self.body {
            Some(body) => actual.body.as_ref() == Some(body),
            None => true,
        }
    }
}

impl fmt::Display for ExpectedRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.method.to_ascii_uppercase(), self.path)?;
        match &self.query {
            Some(query) if !query.is_empty() => {
                let query: Vec<String> = query.iter().map(|(k, v)| format!("{k}={v}")).collect();
                write!(f, "?{}", query.join("&"))?;
            }
            Some(_) => f.write_str(" (no query)")?,
            None => f.write_str(" (any query)")?,
        }
        if let Some(body) = &self.body {
            write!(f, " body {body}")?;
        }
        Ok(())
    }
}

/// How OrderDesk answers a failing request, as the gateway would report it.
#[derive(Clone, Debug, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum ScriptedFailure {
    /// Rate-limited past the gateway's retries.
    RateLimited { retry_after_ms: u32 },
    /// An error status with OrderDesk's message.
    Upstream { status: u16, message: String },
    /// A write that may or may not have been applied (5xx or timeout after sending).
    OutcomeUnknown { message: String },
    /// OrderDesk could not be reached.
    Transport { message: String },
}

/// The reply to one expected request.
#[derive(Clone, Debug)]
pub enum Reply {
    /// An HTTP answer; statuses ≥ 400 become the error the gateway would report.
    Respond {
        status: u16,
        body: Value,
    },
    Fail(ScriptedFailure),
}

/// One expected request and its reply.
#[derive(Clone, Debug, Deserialize)]
#[serde(try_from = "ExchangeSpec")]
pub struct Exchange {
    pub request: ExpectedRequest,
    pub reply: Reply,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ExchangeSpec {
    request: ExpectedRequest,
    #[serde(default)]
    response: Option<ResponseSpec>,
    #[serde(default)]
    failure: Option<ScriptedFailure>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ResponseSpec {
    #[serde(default = "ok_status")]
    status: u16,
    #[serde(default)]
    body: Value,
}

fn ok_status() -> u16 {
    200
}

impl TryFrom<ExchangeSpec> for Exchange {
    type Error = String;

    fn try_from(spec: ExchangeSpec) -> Result<Exchange, String> {
        let reply = match (spec.response, spec.failure) {
            (Some(r), None) => Reply::Respond {
                status: r.status,
                body: r.body,
            },
            (None, Some(f)) => Reply::Fail(f),
            _ => {
                return Err(format!(
                    "the exchange for {} needs exactly one of `response` or `failure`",
                    spec.request
                ));
            }
        };
        Ok(Exchange {
            request: spec.request,
            reply,
        })
    }
}

impl Exchange {
    /// Expect `method path` (any query, any body) until narrowed.
    pub fn new(method: &str, path: &str) -> Exchange {
        Exchange {
            request: ExpectedRequest {
                method: method.to_ascii_uppercase(),
                path: path.into(),
                query: None,
                body: None,
            },
            reply: Reply::Respond {
                status: 200,
                body: serde_json::json!({"status": "success"}),
            },
        }
    }

    pub fn get(path: &str) -> Exchange {
        Exchange::new("GET", path)
    }

    pub fn post(path: &str) -> Exchange {
        Exchange::new("POST", path)
    }

    pub fn put(path: &str) -> Exchange {
        Exchange::new("PUT", path)
    }

    pub fn delete(path: &str) -> Exchange {
        Exchange::new("DELETE", path)
    }

    /// Require this query parameter (the query must then have exactly the parameters
    /// added this way).
    pub fn query(mut self, name: &str, value: &str) -> Exchange {
        self.request
            .query
            .get_or_insert_with(BTreeMap::new)
            .insert(name.into(), value.into());
        self
    }

    /// Require exactly this JSON body.
    pub fn body(mut self, body: Value) -> Exchange {
        self.request.body = Some(body);
        self
    }

    pub fn respond(mut self, status: u16, body: Value) -> Exchange {
        self.reply = Reply::Respond { status, body };
        self
    }

    pub fn fail(mut self, failure: ScriptedFailure) -> Exchange {
        self.reply = Reply::Fail(failure);
        self
    }
}

/// OrderDesk as a script: requests must come in the expected order; each gets its
/// canned reply. Anything else is recorded as a mismatch (and answered with an error,
/// so the component sees a failure too).
#[derive(Debug, Default)]
pub struct ScriptedOrderDesk {
    state: Mutex<ScriptState>,
}

#[derive(Debug, Default)]
struct ScriptState {
    expected: VecDeque<Exchange>,
    requests: Vec<RecordedRequest>,
    mismatches: Vec<String>,
}

impl ScriptedOrderDesk {
    pub fn expect(&self, exchange: Exchange) {
        lock(&self.state).expected.push_back(exchange);
    }

    /// Forget expectations, requests and mismatches (between test cases).
    pub fn reset(&self) {
        *lock(&self.state) = ScriptState::default();
    }

    pub fn requests(&self) -> Vec<RecordedRequest> {
        lock(&self.state).requests.clone()
    }

    /// Every expected request was made, in order, and nothing else.
    pub fn verify(&self) -> Result<(), String> {
        let state = lock(&self.state);
        let mut problems = state.mismatches.clone();
        for missing in &state.expected {
            problems.push(format!("expected request never made: {}", missing.request));
        }
        if problems.is_empty() {
            Ok(())
        } else {
            Err(problems.join("\n"))
        }
    }

    /// The backend side: called by the `orderdesk` capability.
    pub fn answer(
        &self,
        store_id: &str,
        request: &ApiRequest,
    ) -> Result<ApiResponse, GatewayError> {
        let body = request
            .body
            .as_ref()
            .map(|text| serde_json::from_str(text).unwrap_or_else(|_| Value::String(text.clone())));
        let actual = RecordedRequest {
            store_id: store_id.into(),
            method: request.method.as_str().into(),
            path: request.path.clone(),
            query: request.query.clone(),
            body,
        };
        let mut state = lock(&self.state);
        state.requests.push(actual.clone());
        let number = state.requests.len();
        let Some(next) = state.expected.pop_front() else {
            let problem = format!("request #{number} was not expected: {actual}");
            state.mismatches.push(problem.clone());
            return Err(harness_refusal(problem));
        };
        if !next.request.matches(&actual) {
            let problem = format!(
                "request #{number} differs from the script:\n  expected: {}\n  actual:   {actual}",
                next.request
            );
            state.mismatches.push(problem.clone());
            return Err(harness_refusal(problem));
        }
        match next.reply {
            // As the gateway: a 5xx on a write may or may not have been applied.
            Reply::Respond { status, .. } if status >= 500 && request.method.is_write() => {
                Err(GatewayError::OutcomeUnknown(format!(
                    "OrderDesk answered HTTP {status} to {} {}; the change may or may not have been applied",
                    request.method.as_str(),
                    request.path
                )))
            }
            Reply::Respond { status, body } => reply_for(status, body),
            Reply::Fail(failure) => Err(match failure {
                ScriptedFailure::RateLimited { retry_after_ms } => {
                    GatewayError::RateLimited { retry_after_ms }
                }
                ScriptedFailure::Upstream { status, message } => {
                    GatewayError::Upstream { status, message }
                }
                ScriptedFailure::OutcomeUnknown { message } => {
                    GatewayError::OutcomeUnknown(message)
                }
                ScriptedFailure::Transport { message } => GatewayError::Transport(message),
            }),
        }
    }
}

/// What the component sees for a request the script did not expect.
fn harness_refusal(problem: String) -> GatewayError {
    GatewayError::Upstream {
        status: 599,
        message: format!("test harness: {problem}"),
    }
}

/// An HTTP answer as the gateway would hand it on.
fn reply_for(status: u16, body: Value) -> Result<ApiResponse, GatewayError> {
    let message = body
        .get("message")
        .and_then(Value::as_str)
        .unwrap_or("error")
        .to_string();
    match status {
        200..=299 => Ok(ApiResponse {
            status,
            body: body.to_string(),
            cached: false,
        }),
        401 | 403 => Err(GatewayError::Unauthorized(message)),
        404 => Err(GatewayError::NotFound(message)),
        429 => Err(GatewayError::RateLimited {
            retry_after_ms: 1000,
        }),
        _ => Err(GatewayError::Upstream { status, message }),
    }
}

/// How the mock host's session is set up.
#[derive(Clone, Debug)]
pub struct HarnessOptions {
    pub grants: Grants,
    /// An authenticated tenant (else the session is unauthenticated).
    pub authenticated: bool,
    /// A registered, active store: `(store id, name)`.
    pub store: Option<(String, String)>,
    pub limits: Limits,
}

impl HarnessOptions {
    /// An authenticated tenant with store `100001` named `main`, active.
    pub fn with_store(grants: Grants) -> HarnessOptions {
        HarnessOptions {
            grants,
            authenticated: true,
            store: Some((HARNESS_STORE_ID.into(), "main".into())),
            limits: Limits::default(),
        }
    }

    /// An unauthenticated session.
    pub fn anonymous(grants: Grants) -> HarnessOptions {
        HarnessOptions {
            grants,
            authenticated: false,
            store: None,
            limits: Limits::default(),
        }
    }
}

/// What a tool call returned, as an MCP client would see it.
#[derive(Clone, Debug)]
pub struct CallOutcome {
    pub is_error: bool,
    /// `structuredContent`: the result, or `{"error": {"kind", "message"}}`.
    pub value: Value,
    /// The text content.
    pub text: String,
}

impl CallOutcome {
    /// The error kind (`invalid_input`, `upstream`, `limit`…) of an error outcome.
    pub fn error_kind(&self) -> Option<&str> {
        self.value.pointer("/error/kind").and_then(Value::as_str)
    }
}

/// A component loaded into a mock host.
pub struct Harness {
    server: McpServer,
    component: Arc<LoadedComponent>,
    script: Arc<ScriptedOrderDesk>,
    logs: Arc<LogSink>,
    _dir: tempfile::TempDir,
}

impl Harness {
    /// Load the component at `path` with `options`.
    pub async fn load(path: &Path, options: HarnessOptions) -> anyhow::Result<Harness> {
        let bytes =
            std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
        let name = path
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_else(|| "component".into());
        Harness::load_bytes(
            &name,
            ComponentOrigin::File(path.to_path_buf()),
            &bytes,
            options,
        )
        .await
    }

    /// Load a component from bytes.
    pub async fn load_bytes(
        name: &str,
        origin: ComponentOrigin,
        bytes: &[u8],
        options: HarnessOptions,
    ) -> anyhow::Result<Harness> {
        let dir = tempfile::tempdir().context("cannot create a temporary directory")?;
        let session = Arc::new(Session::default());
        let vault = {
            let path = dir.path().to_path_buf();
            let options = options.clone();
            let session = session.clone();
            tokio::task::spawn_blocking(move || -> anyhow::Result<Vault> {
                let vault = Vault::open(
                    &path,
                    VaultOptions {
                        bcrypt_cost: 4,
                        auto_provision: false,
                        server_key: None,
                    },
                )?;
                if options.authenticated {
                    let (_, master_key) = vault.create_tenant()?;
                    let tenant = vault.authenticate(master_key.as_secret())?;
                    let store = match &options.store {
                        Some((store_id, store_name)) => Some(vault.add_store(
                            &tenant,
                            store_id,
                            &SecretString::from("harness-key-not-a-secret"),
                            Some(store_name),
                            None,
                        )?),
                        None => None,
                    };
                    session.authenticate(tenant);
                    session.set_active_store(store);
                }
                Ok(vault)
            })
            .await??
        };
        let script = Arc::new(ScriptedOrderDesk::default());
        let logs = Arc::new(LogSink::default());
        let services = Arc::new(HostServices {
            vault: Arc::new(vault),
            orderdesk: OrderDeskBackend::Scripted(script.clone()),
            sandbox: false,
            log_sink: Some(logs.clone()),
        });
        let runtime = Arc::new(Runtime::new(options.limits.clone(), None)?);
        let context = CallContext {
            services: services.clone(),
            session: session.clone(),
            component: name.into(),
            grants: options.grants,
            correlation_id: "load".into(),
            progress: None,
            record: Arc::new(CallRecord::default()),
        };
        let component = Arc::new(
            runtime
                .load(
                    name,
                    origin,
                    ComponentSource::from_bytes(bytes.to_vec()),
                    options.grants,
                    context,
                )
                .await?,
        );
        let catalog =
            Catalog::build(std::slice::from_ref(&component)).map_err(anyhow::Error::msg)?;
        let server = McpServer::new(runtime, catalog, services, session);
        Ok(Harness {
            server,
            component,
            script,
            logs,
            _dir: dir,
        })
    }

    /// The loaded component (its tools, imports, grants).
    pub fn component(&self) -> &LoadedComponent {
        &self.component
    }

    /// Add an expected request and its reply (requests must come in this order).
    pub fn expect(&self, exchange: Exchange) {
        self.script.expect(exchange);
    }

    /// Call a tool the way the host's MCP server does (arguments validated first).
    pub async fn call(&self, tool: &str, arguments: Value) -> anyhow::Result<CallOutcome> {
        let result = self
            .server
            .invoke(tool, arguments)
            .await
            .map_err(anyhow::Error::msg)?;
        let text = result
            .content
            .iter()
            .filter_map(|c| c.as_text().map(|t| t.text.clone()))
            .collect::<Vec<_>>()
            .join("\n");
        Ok(CallOutcome {
            is_error: result.is_error.unwrap_or(false),
            value: result.structured_content.unwrap_or(Value::Null),
            text,
        })
    }

    /// The requests the component made so far.
    pub fn requests(&self) -> Vec<RecordedRequest> {
        self.script.requests()
    }

    /// The component's log lines so far.
    pub fn logs(&self) -> Vec<LogLine> {
        self.logs.lines()
    }

    /// Every expected request was made, in order, and nothing else; else a message that
    /// shows each expected and actual request.
    pub fn verify(&self) -> Result<(), String> {
        self.script.verify()
    }

    /// Forget expectations and recorded requests.
    pub fn reset(&self) {
        self.script.reset();
    }
}

/// The file of `orderdesk-mcp component test`:
///
/// ```json
/// {
///   "session": {"authenticated": true, "store": {"store_id": "100001", "name": "main"}},
///   "cases": [{
///     "name": "lists five orders",
///     "tool": "order_summary_recent",
///     "arguments": {"limit": 5},
///     "orderdesk": [
///       {"request": {"method": "GET", "path": "/orders", "query": {"limit": "5"}},
///        "response": {"status": 200, "body": {"status": "success", "orders": []}}}
///     ],
///     "expect": {"ok": {"count": 0}}
///   }]
/// }
/// ```
///
/// `expect` is `{"ok": SUBSET}` (the result must contain SUBSET: objects key by key,
/// arrays element by element) or `{"error": {"kind": "invalid_input", "contains": "limit"}}`
/// (both fields optional). A `failure` instead of `response` simulates what the gateway
/// reports: `{"kind": "rate_limited", "retry_after_ms": 2000}`, `{"kind": "upstream",
/// "status": 503, "message": "…"}`, `{"kind": "outcome_unknown", "message": "…"}`,
/// `{"kind": "transport", "message": "…"}`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CaseFile {
    #[serde(default)]
    pub session: Option<SessionSpec>,
    pub cases: Vec<Case>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SessionSpec {
    #[serde(default = "yes")]
    pub authenticated: bool,
    #[serde(default)]
    pub store: Option<StoreSpec>,
}

fn yes() -> bool {
    true
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StoreSpec {
    pub store_id: String,
    pub name: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Case {
    pub name: String,
    pub tool: String,
    #[serde(default = "empty_object")]
    pub arguments: Value,
    #[serde(default)]
    pub orderdesk: Vec<Exchange>,
    pub expect: Expectation,
}

fn empty_object() -> Value {
    Value::Object(Default::default())
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum Expectation {
    Ok(Value),
    Error(ErrorExpectation),
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ErrorExpectation {
    #[serde(default)]
    pub kind: Option<String>,
    #[serde(default)]
    pub contains: Option<String>,
}

/// One case's verdict.
#[derive(Debug)]
pub struct CaseResult {
    pub name: String,
    /// Empty when the case passed.
    pub failures: Vec<String>,
}

/// Run every case of `cases` against the component at `wasm` with `grants`.
pub async fn run_case_file(
    wasm: &Path,
    cases: &Path,
    grants: Grants,
) -> anyhow::Result<Vec<CaseResult>> {
    let text = std::fs::read_to_string(cases)
        .with_context(|| format!("cannot read {}", cases.display()))?;
    let file: CaseFile = serde_json::from_str(&text).with_context(|| {
        format!(
            "{} is not a valid case file (see `orderdesk-mcp component test --help`)",
            cases.display()
        )
    })?;
    let mut options = match &file.session {
        Some(SessionSpec {
            authenticated: false,
            ..
        }) => HarnessOptions::anonymous(grants),
        Some(SessionSpec {
            store: Some(store), ..
        }) => {
            let mut o = HarnessOptions::with_store(grants);
            o.store = Some((store.store_id.clone(), store.name.clone()));
            o
        }
        Some(SessionSpec { store: None, .. }) => {
            let mut o = HarnessOptions::with_store(grants);
            o.store = None;
            o
        }
        None => HarnessOptions::with_store(grants),
    };
    options.grants = grants;
    let harness = Harness::load(wasm, options).await?;
    let mut results = Vec::new();
    for case in file.cases {
        harness.reset();
        for exchange in case.orderdesk {
            harness.expect(exchange);
        }
        let mut failures = Vec::new();
        match harness.call(&case.tool, case.arguments).await {
            Err(e) => failures.push(format!("{e:#}")),
            Ok(outcome) => match &case.expect {
                Expectation::Ok(subset) => {
                    if outcome.is_error {
                        failures.push(format!("expected success, got an error: {}", outcome.text));
                    } else if let Err(path) = contains_subset(&outcome.value, subset, "$") {
                        failures.push(format!(
                            "the result differs at {path}:\n  expected (subset): {subset}\n  actual:            {}",
                            outcome.value
                        ));
                    }
                }
                Expectation::Error(expected) => {
                    if !outcome.is_error {
                        failures.push(format!(
                            "expected an error, got a result: {}",
                            outcome.value
                        ));
                    } else {
                        if let Some(kind) = &expected.kind
                            && outcome.error_kind() != Some(kind.as_str())
                        {
                            failures.push(format!(
                                "expected an error of kind `{kind}`, got `{}`: {}",
                                outcome.error_kind().unwrap_or("?"),
                                outcome.text
                            ));
                        }
                        if let Some(needle) = &expected.contains
                            && !outcome.text.contains(needle.as_str())
                        {
                            failures.push(format!(
                                "the error does not mention `{needle}`: {}",
                                outcome.text
                            ));
                        }
                    }
                }
            },
        }
        if let Err(problems) = harness.verify() {
            failures.push(problems);
        }
        results.push(CaseResult {
            name: case.name,
            failures,
        });
    }
    Ok(results)
}

/// Whether `actual` contains `subset`; on a difference, the JSON path where it is.
pub fn contains_subset(actual: &Value, subset: &Value, path: &str) -> Result<(), String> {
    match (actual, subset) {
        (Value::Object(actual), Value::Object(subset)) => {
            for (key, expected) in subset {
                let here = format!("{path}.{key}");
                match actual.get(key) {
                    Some(value) => contains_subset(value, expected, &here)?,
                    None => return Err(here),
                }
            }
            Ok(())
        }
        (Value::Array(actual), Value::Array(subset)) => {
            if actual.len() != subset.len() {
                return Err(format!(
                    "{path} (length {} vs {})",
                    actual.len(),
                    subset.len()
                ));
            }
            for (i, (a, s)) in actual.iter().zip(subset).enumerate() {
                contains_subset(a, s, &format!("{path}[{i}]"))?;
            }
            Ok(())
        }
        (a, s) if a == s => Ok(()),
        _ => Err(path.to_string()),
    }
}

/// `orderdesk-mcp component check`: load the component without calling any tool and
/// report what a production host would refuse (WIT version, imports against grants,
/// tool names, schemas, sizes). Returns a human-readable report of what was found.
pub async fn check_component(wasm: &Path, grants: Grants) -> anyhow::Result<String> {
    let harness = Harness::load(wasm, HarnessOptions::anonymous(grants))
        .await
        .map_err(|e| {
            let text = format!("{e:#}");
            if text.contains("orderdesk:mcp/") && text.contains("does not provide") {
                anyhow::anyhow!(
                    "{text}\nhint: this host implements orderdesk:mcp@{}; rebuild the component against the WIT in this repository's wit/",
                    crate::grants::WIT_VERSION
                )
            } else {
                e
            }
        })?;
    let component = harness.component();
    let mut report = String::new();
    use std::fmt::Write;
    let _ = writeln!(report, "component `{}`: OK", component.name);
    let _ = writeln!(report, "  grants:  {}", component.grants.describe());
    let _ = writeln!(report, "  imports: {}", component.imports.join(", "));
    for tool in &component.tools {
        let a = &tool.annotations;
        let _ = writeln!(
            report,
            "  tool {}: read_only={} destructive={} idempotent={} open_world={}{}",
            tool.name,
            a.read_only,
            a.destructive,
            a.idempotent,
            a.open_world,
            if tool.description.trim().is_empty() {
                "  WARNING: no description"
            } else {
                ""
            }
        );
    }
    Ok(report)
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|e| e.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn get(path: &str, query: &[(&str, &str)]) -> ApiRequest {
        let mut request = ApiRequest::get(path);
        for (k, v) in query {
            request = request.with_query(*k, *v);
        }
        request
    }

    #[test]
    fn a_matching_request_gets_its_reply() {
        let script = ScriptedOrderDesk::default();
        script.expect(
            Exchange::get("/orders")
                .query("limit", "5")
                .respond(200, json!({"orders": []})),
        );
        let reply = script
            .answer("1", &get("/orders", &[("limit", "5")]))
            .unwrap();
        assert_eq!(reply.body, r#"{"orders":[]}"#);
        script.verify().unwrap();
    }

    #[test]
    fn a_wrong_request_shows_expected_and_actual() {
        let script = ScriptedOrderDesk::default();
        script.expect(Exchange::get("/orders").query("limit", "5"));
        let error = script
            .answer("1", &get("/orders", &[("limit", "50")]))
            .unwrap_err();
        assert!(error.to_string().contains("differs"));
        let problems = script.verify().unwrap_err();
        assert!(
            problems.contains("expected: GET /orders?limit=5"),
            "{problems}"
        );
        assert!(
            problems.contains("actual:   GET /orders?limit=50"),
            "{problems}"
        );
    }

    #[test]
    fn unexpected_and_missing_requests_are_reported() {
        let script = ScriptedOrderDesk::default();
        script.answer("1", &get("/test", &[])).unwrap_err();
        script.expect(Exchange::delete("/orders/1"));
        let problems = script.verify().unwrap_err();
        assert!(
            problems.contains("was not expected: GET /test"),
            "{problems}"
        );
        assert!(
            problems.contains("never made: DELETE /orders/1"),
            "{problems}"
        );
    }

    #[test]
    fn failures_map_to_gateway_errors() {
        let script = ScriptedOrderDesk::default();
        script.expect(
            Exchange::post("/orders").fail(ScriptedFailure::OutcomeUnknown {
                message: "503 after sending".into(),
            }),
        );
        script
            .expect(Exchange::get("/orders/9").respond(404, json!({"message": "Order not found"})));
        let post = ApiRequest::post("/orders", "{}");
        assert!(matches!(
            script.answer("1", &post),
            Err(GatewayError::OutcomeUnknown(_))
        ));
        assert!(
            matches!(script.answer("1", &get("/orders/9", &[])), Err(GatewayError::NotFound(m)) if m == "Order not found")
        );
    }

    #[test]
    fn subsets() {
        let actual = json!({"a": 1, "b": {"c": [1, {"d": 2, "e": 3}]}});
        assert!(contains_subset(&actual, &json!({"b": {"c": [1, {"d": 2}]}}), "$").is_ok());
        assert_eq!(
            contains_subset(&actual, &json!({"b": {"c": [1, {"d": 5}]}}), "$").unwrap_err(),
            "$.b.c[1].d"
        );
        assert!(contains_subset(&actual, &json!({"z": 1}), "$").is_err());
    }

    #[test]
    fn case_files_parse() {
        let file: CaseFile = serde_json::from_value(json!({
            "cases": [{
                "name": "n", "tool": "t",
                "orderdesk": [
                    {"request": {"method": "GET", "path": "/x"}, "response": {"body": {}}},
                    {"request": {"method": "POST", "path": "/y"}, "failure": {"kind": "outcome_unknown", "message": "m"}}
                ],
                "expect": {"error": {"kind": "outcome_unknown"}}
            }]
        }))
        .unwrap();
        assert_eq!(file.cases[0].orderdesk.len(), 2);
        let bad = serde_json::from_value::<CaseFile>(json!({
            "cases": [{"name": "n", "tool": "t", "orderdesk": [{"request": {"method": "GET", "path": "/x"}}], "expect": {"ok": {}}}]
        }));
        assert!(bad.unwrap_err().to_string().contains("exactly one of"));
    }
}
