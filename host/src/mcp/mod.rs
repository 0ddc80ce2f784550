//! The MCP server: `initialize`, `tools/list` and `tools/call` over rmcp, in front of
//! the component runtime.

pub mod progress;

use std::sync::{Arc, Mutex, RwLock};
use std::time::Instant;

use rmcp::model::{
    CallToolRequestParams, CallToolResponse, CallToolResult, ContentBlock, Implementation,
    ListToolsResult, PaginatedRequestParams, ServerCapabilities, ServerConfig, Tool,
    ToolAnnotations,
};
use rmcp::service::{NotificationContext, Peer, RequestContext};
use rmcp::{ErrorData, RoleServer, ServerHandler};
use serde_json::{Value, json};
use tracing::Instrument;

use crate::audit::AuditLog;
use crate::catalog::{Catalog, CatalogEntry, validate_arguments};
use crate::host::HostServices;
use crate::redact::redact_arguments;
use crate::runtime::bindings::ToolError;
use crate::runtime::{CallContext, CallError, CallRecord, Runtime};
use crate::session::Session;
use orderdesk_vault::AuditEntry;
use progress::ProgressReporter;

/// The MCP server of one session.
#[derive(Clone)]
pub struct McpServer {
    runtime: Arc<Runtime>,
    /// Swapped whole when components are reloaded; a call in flight keeps the catalog
    /// (and component) it started with.
    catalog: Arc<RwLock<Arc<Catalog>>>,
    services: Arc<HostServices>,
    session: Arc<Session>,
    /// The connected client, once initialized: told when the tool list changes.
    peer: Arc<Mutex<Option<Peer<RoleServer>>>>,
    audit: AuditLog,
    /// Set by the `serve` command: hand back start-up memory after the first
    /// `tools/list` (the end of a client's start-up handshake).
    release_startup_memory: Option<Arc<std::sync::Once>>,
}

impl McpServer {
    pub fn new(
        runtime: Arc<Runtime>,
        catalog: Catalog,
        services: Arc<HostServices>,
        session: Arc<Session>,
    ) -> McpServer {
        McpServer {
            runtime,
            catalog: Arc::new(RwLock::new(Arc::new(catalog))),
            audit: AuditLog::start(services.vault.clone()),
            services,
            session,
            peer: Arc::default(),
            release_startup_memory: None,
        }
    }

    /// Release start-up memory ([`crate::memory`]) on a background thread once the
    /// first `tools/list` has been answered. For the server process only: a library
    /// user (the test harness) keeps its memory as it is.
    pub fn release_startup_memory_after_first_list(mut self) -> McpServer {
        self.release_startup_memory = Some(Arc::new(std::sync::Once::new()));
        self
    }

    /// The current catalog.
    pub fn catalog(&self) -> Arc<Catalog> {
        self.catalog
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// Call a tool as `tools/call` would, without a transport (the test harness and
    /// benchmarks use it). An unknown tool is an `Err` (a protocol error over MCP).
    pub async fn invoke(&self, tool: &str, arguments: Value) -> Result<CallToolResult, String> {
        let catalog = self.catalog();
        let entry = catalog
            .get(tool)
            .ok_or_else(|| format!("unknown tool `{tool}`"))?;
        Ok(self.call(entry, arguments, None).await)
    }

    /// Serve `catalog` from now on and tell the client its tool list changed.
    pub async fn replace_catalog(&self, catalog: Catalog) {
        *self.catalog.write().unwrap_or_else(|e| e.into_inner()) = Arc::new(catalog);
        let peer = self.peer.lock().unwrap_or_else(|e| e.into_inner()).clone();
        if let Some(peer) = peer
            && let Err(error) = peer.notify_tool_list_changed().await
        {
            tracing::warn!(error = %error, "could not send tools/list_changed");
        }
    }

    async fn call(
        &self,
        entry: &CatalogEntry,
        arguments: Value,
        progress: Option<ProgressReporter>,
    ) -> CallToolResult {
        let correlation_id: Arc<str> = uuid::Uuid::new_v4().to_string().into();
        let record = Arc::new(CallRecord::default());
        if let Some(tenant_id) = self.session.snapshot().tenant_id() {
            record.note_tenant(&tenant_id);
        }
        let started = Instant::now();
        let result = match validate_arguments(entry, &arguments) {
            Err(message) => error_result("invalid_input", message),
            Ok(()) => {
                // Every log line of the call (host capabilities, the gateway, the
                // component's own log) carries the call's correlation id and tool.
                let span = tracing::info_span!(
                    "call",
                    correlation_id = %correlation_id,
                    tool = %entry.spec.name
                );
                self.run(
                    entry,
                    &arguments,
                    progress,
                    correlation_id.clone(),
                    record.clone(),
                )
                .instrument(span)
                .await
            }
        };
        let duration_ms = started.elapsed().as_millis() as u64;
        let outcome = outcome_of(&result);
        // A line per call costs a write to stderr on the path of every answer, and the
        // audit log already has every call: successful calls are logged at debug level,
        // failures (what an operator looks for) at info.
        macro_rules! log_call {
            ($level:ident) => {
                tracing::$level!(
                    tool = %entry.spec.name,
                    correlation_id = %correlation_id,
                    tenant_id = record.tenant_id().unwrap_or_default(),
                    duration_ms,
                    outcome,
                    "tool call"
                )
            };
        }
        if outcome == "ok" {
            log_call!(debug);
        } else {
            log_call!(info);
        }
        self.audit(AuditEntry {
            at: orderdesk_vault::utc_now(),
            tenant_id: record.tenant_id(),
            store_id: record.store_id(),
            tool: entry.spec.name.clone(),
            arguments: redact_arguments(&arguments).to_string(),
            outcome,
            duration_ms,
            correlation_id: correlation_id.to_string(),
        })
        .await;
        result
    }

    /// Hand the audit row to the background writer (off the path of the answer).
    async fn audit(&self, entry: AuditEntry) {
        self.audit.record(entry);
    }

    /// Wait until every audit row of the calls so far is written (at shutdown).
    pub async fn flush_audit(&self) {
        self.audit.flush().await;
    }

    /// Run the tool in a fresh instance and turn what happened into a tool result.
    async fn run(
        &self,
        entry: &CatalogEntry,
        arguments: &Value,
        progress: Option<ProgressReporter>,
        correlation_id: Arc<str>,
        record: Arc<CallRecord>,
    ) -> CallToolResult {
        let context = CallContext {
            services: self.services.clone(),
            session: self.session.clone(),
            component: entry.component.name.as_str().into(),
            grants: entry.component.grants,
            correlation_id,
            progress,
            record,
        };
        let outcome = self
            .runtime
            .call(
                &entry.component,
                context,
                &entry.spec.name,
                &arguments.to_string(),
            )
            .await;
        match outcome {
            Ok(text) => match serde_json::from_str::<Value>(&text) {
                // The text copy is the component's own JSON text: serialising the parsed
                // value again would cost as much as the parse (a page of orders is
                // ~100 KB).
                Ok(Value::Object(map)) => structured_result(Value::Object(map), text),
                Ok(other) => CallToolResult::structured(json!({ "result": other })),
                Err(e) => error_result(
                    "internal",
                    format!(
                        "component `{}` returned invalid JSON ({e}); this is a bug in the component",
                        entry.component.name
                    ),
                ),
            },
            Err(CallError::Tool(error)) => tool_error_result(error),
            Err(CallError::Limit(message)) => error_result("limit", message),
            Err(CallError::Trap(message)) => error_result(
                "internal",
                format!(
                    "component `{}` failed: {message}; the host is unaffected, try again or report the bug",
                    entry.component.name
                ),
            ),
            Err(CallError::BadResult(message)) => error_result("internal", message),
        }
    }
}

/// A successful result: `structuredContent` plus a text block with the same JSON.
fn structured_result(value: Value, text: String) -> CallToolResult {
    let mut result = CallToolResult::success(vec![ContentBlock::text(text)]);
    result.structured_content = Some(value);
    result
}

/// `ok`, or `error:<kind>` from the structured error.
fn outcome_of(result: &CallToolResult) -> String {
    if !result.is_error.unwrap_or(false) {
        return "ok".into();
    }
    let kind = result
        .structured_content
        .as_ref()
        .and_then(|v| v.pointer("/error/kind"))
        .and_then(Value::as_str)
        .unwrap_or("unknown");
    format!("error:{kind}")
}

/// A tool failure the model reads: a text message plus a structured copy.
fn error_result(kind: &str, message: String) -> CallToolResult {
    let mut result = CallToolResult::error(vec![ContentBlock::text(message.clone())]);
    result.structured_content = Some(json!({ "error": { "kind": kind, "message": message } }));
    result
}

fn tool_error_result(error: ToolError) -> CallToolResult {
    match error {
        ToolError::InvalidInput(m) => error_result("invalid_input", m),
        ToolError::NotFound(m) => error_result("not_found", m),
        ToolError::Unauthorized(m) => error_result("unauthorized", m),
        ToolError::RateLimited(ms) => error_result(
            "rate_limited",
            format!(
                "rate-limited: wait {:.1} s and try again",
                f64::from(ms) / 1000.0
            ),
        ),
        ToolError::Upstream(m) => error_result("upstream", m),
        ToolError::OutcomeUnknown(m) => error_result("outcome_unknown", m),
        ToolError::Internal(m) => error_result("internal", m),
    }
}

fn mcp_tool(entry: &CatalogEntry) -> Tool {
    let spec = &entry.spec;
    let mut tool = Tool::new_with_raw(
        spec.name.clone(),
        Some(spec.description.clone().into()),
        Arc::new(spec.input_schema.clone()),
    );
    tool.title = spec.title.clone();
    tool.output_schema = spec.output_schema.clone().map(Arc::new);
    let a = &spec.annotations;
    tool.annotations = Some(ToolAnnotations::from_raw(
        spec.title.clone(),
        Some(a.read_only),
        Some(a.destructive),
        Some(a.idempotent),
        Some(a.open_world),
    ));
    tool
}

impl ServerHandler for McpServer {
    fn get_info(&self) -> ServerConfig {
        ServerConfig::new(
            ServerCapabilities::builder()
                .enable_tools()
                .enable_tool_list_changed()
                .build(),
        )
        .with_server_info(Implementation::new(
            "orderdesk-mcp",
            env!("CARGO_PKG_VERSION"),
        ))
        .with_instructions(
            "Tools for OrderDesk stores. Call tenant_info first to see whether the session \
                 is authenticated and which store is active.",
        )
    }

    async fn on_initialized(&self, context: NotificationContext<RoleServer>) {
        *self.peer.lock().unwrap_or_else(|e| e.into_inner()) = Some(context.peer);
    }

    async fn list_tools(
        &self,
        _request: Option<PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> Result<ListToolsResult, ErrorData> {
        if let Some(once) = &self.release_startup_memory {
            once.call_once(|| {
                // Off the path of this answer, and a moment after it: paging out takes
                // the kernel a few ms, during which the code that writes the answer
                // would fault its pages back in.
                let spawned = std::thread::Builder::new()
                    .name("release-startup-memory".into())
                    .spawn(|| {
                        std::thread::sleep(crate::memory::RELEASE_DELAY);
                        let released = crate::memory::release_startup_memory();
                        tracing::debug!(
                            binary_pages_released_kib = released.binary_bytes >> 10,
                            heap_trimmed = released.heap_trimmed,
                            "released start-up memory"
                        );
                    });
                if let Err(error) = spawned {
                    tracing::debug!(error = %error, "start-up memory kept");
                }
            });
        }
        Ok(ListToolsResult {
            tools: self.catalog().entries().iter().map(mcp_tool).collect(),
            ..Default::default()
        })
    }

    async fn call_tool(
        &self,
        request: CallToolRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<CallToolResponse, ErrorData> {
        let catalog = self.catalog();
        let Some(entry) = catalog.get(&request.name) else {
            return Err(ErrorData::invalid_params(
                format!(
                    "unknown tool `{}`; call tools/list to see the tools",
                    request.name
                ),
                None,
            ));
        };
        let arguments = Value::Object(request.arguments.unwrap_or_default());
        let progress = context
            .meta
            .get_progress_token()
            .map(|token| ProgressReporter {
                peer: context.peer.clone(),
                token,
            });
        Ok(self.call(entry, arguments, progress).await.into())
    }
}
