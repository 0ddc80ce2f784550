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
//! use orderdesk_host::grants::{Grants, OrderDeskAccess};
//! use orderdesk_harness::{Exchange, Harness, HarnessOptions};
//! use serde_json::json;
//!
//! let grants = Grants { orderdesk: OrderDeskAccess::Read, log: true, ..Grants::default() };
//! let harness = Harness::load("my_tools.wasm".as_ref(), HarnessOptions::with_store(grants)).await?;
//! harness.expect(Exchange::get("/orders").query("limit", "5").respond(200, json!({"orders": []})));
//! let outcome = harness.call("my_tool", json!({"limit": 5})).await?;
//! assert!(!outcome.is_error);
//! harness.verify()?; // every expected request was made, in order
//! # Ok(()) }
//! ```
//!
//! From the command line: `orderdesk-mcp component test my_tools.wasm cases.json` (the
//! file format is [`CaseFile`]) and `orderdesk-mcp component check my_tools.wasm`.

use std::path::Path;
use std::sync::{Arc, Mutex};

use anyhow::Context;
use orderdesk_vault::{Vault, VaultOptions};
use secrecy::SecretString;
use serde_json::Value;

use orderdesk_host::bindings::log;
use orderdesk_host::capabilities::CallContext;
use orderdesk_host::catalog::Catalog;
use orderdesk_host::grants::Grants;
use orderdesk_host::mcp::McpServer;
use orderdesk_host::runtime::{ComponentOrigin, ComponentSource, Limits, LoadedComponent, Runtime};
use orderdesk_host::services::{LogObserver, Services};
use orderdesk_host::session::Session;

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

impl LogObserver for LogSink {
    fn component_log(&self, level: log::Level, message: &str, fields: &[(String, String)]) {
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
}

impl LogSink {
    pub fn lines(&self) -> Vec<LogLine> {
        lock(&self.lines).clone()
    }
}

mod cases;
mod check;
mod script;

pub use cases::*;
pub use check::*;
pub use script::*;

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
                        ..VaultOptions::default()
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
                            script::HARNESS_ORIGIN,
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
        let services = Arc::new(Services {
            log_observer: Some(logs.clone()),
            ..Services::new(Arc::new(vault), script.clone())
        });
        let runtime = Arc::new(Runtime::new(options.limits.clone(), None)?);
        let context = CallContext::for_listing(services.clone(), name, options.grants);
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
        let catalog = Catalog::build(std::slice::from_ref(&component))?;
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
        let result = self.server.invoke(tool, arguments).await?;
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
    pub fn verify(&self) -> Result<(), ScriptMismatch> {
        self.script.verify()
    }

    /// Forget expectations and recorded requests.
    pub fn reset(&self) {
        self.script.reset();
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|e| e.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;
    use orderdesk_gateway::{ApiRequest, GatewayError};
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
        let problems = script.verify().unwrap_err().0;
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
        let problems = script.verify().unwrap_err().0;
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
