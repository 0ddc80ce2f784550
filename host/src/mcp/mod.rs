//! The MCP layer: `initialize`, `tools/list` and `tools/call` over rmcp, in front of the
//! component runtime. It validates arguments, runs the call, shapes the answer for the
//! model and writes the audit row. It never touches SQL or HTTP itself: the vault and
//! the gateway are reached only through the capabilities a component calls.
//!
//! - `results`: outcomes → tool results and errors the model reads;
//! - `progress`: `notifications/progress` for the calls that asked for them;
//! - `prompts`: the templates of `prompts/list` and `prompts/get`.

mod drain;
mod progress;
mod prompts;
mod results;

use std::sync::{Arc, Mutex, RwLock};
use std::time::Instant;

use rmcp::model::{
    CallToolRequestParams, CallToolResponse, CallToolResult, GetPromptRequestParams,
    GetPromptResponse, Implementation, ListPromptsResult, ListToolsResult, PaginatedRequestParams,
    ServerCapabilities, ServerConfig, Tool, ToolAnnotations,
};
use rmcp::service::{NotificationContext, Peer, RequestContext};
use rmcp::{ErrorData, RoleServer, ServerHandler};
use secrecy::SecretString;
use serde_json::Value;
use thiserror::Error;
use tracing::Instrument;
use zeroize::Zeroize;

use crate::audit::AuditLog;
use crate::capabilities::{CallContext, CallRecord, ProgressSink};
use crate::catalog::{Catalog, CatalogEntry, validate_arguments};
use crate::redact::{redact_arguments, secret_values, wipe_secrets};
use crate::runtime::Runtime;
use crate::services::Services;
use crate::session::Session;
use drain::{InFlight, RunningCall};
use orderdesk_vault::AuditEntry;
pub use progress::ProgressReporter;
pub use results::TextCopy;
use results::{call_result, error_result, outcome_of};

/// A tool name the catalog does not have (a protocol error over MCP).
#[derive(Debug, Error)]
#[error("unknown tool `{0}`; call tools/list to see the tools")]
pub struct UnknownTool(pub String);

/// Runs once, after the first `tools/list` has been answered.
type FirstListHook = Arc<Mutex<Option<Box<dyn FnOnce() + Send>>>>;

/// The MCP server of one session.
#[derive(Clone)]
pub struct McpServer {
    runtime: Arc<Runtime>,
    /// Swapped whole when components are reloaded; a call in flight keeps the catalog
    /// (and component) it started with.
    catalog: Arc<RwLock<Arc<Catalog>>>,
    services: Arc<Services>,
    session: Arc<Session>,
    /// The connected client, once initialized: told when the tool list changes.
    peer: Arc<Mutex<Option<Peer<RoleServer>>>>,
    audit: AuditLog,
    after_first_list: FirstListHook,
    /// The calls under way, for a shutdown that drains them.
    in_flight: Arc<InFlight>,
    /// The form of a result's text copy.
    text_copy: TextCopy,
}

impl McpServer {
    pub fn new(
        runtime: Arc<Runtime>,
        catalog: Catalog,
        services: Arc<Services>,
        session: Arc<Session>,
    ) -> McpServer {
        McpServer {
            runtime,
            catalog: Arc::new(RwLock::new(Arc::new(catalog))),
            audit: AuditLog::start(services.vault.clone()),
            services,
            session,
            peer: Arc::default(),
            after_first_list: Arc::default(),
            in_flight: Arc::default(),
            text_copy: TextCopy::default(),
        }
    }

    /// Write results' text copies as `text_copy` (default TOON; see [`TextCopy`]).
    pub fn with_text_copy(mut self, text_copy: TextCopy) -> McpServer {
        self.text_copy = text_copy;
        self
    }

    /// Refuse new calls, let those under way finish for up to `grace`, and record in
    /// the audit log each call still running then (the caller is about to cut it off).
    /// Returns how many were cut off.
    pub async fn drain(&self, grace: std::time::Duration) -> usize {
        self.in_flight.drain(grace, &self.audit).await
    }

    /// Run `hook` once the first `tools/list` has been answered: the end of a client's
    /// start-up handshake (the server process then hands back start-up memory).
    pub fn after_first_list(self, hook: impl FnOnce() + Send + 'static) -> McpServer {
        *self
            .after_first_list
            .lock()
            .unwrap_or_else(|e| e.into_inner()) = Some(Box::new(hook));
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
    /// benchmarks use it).
    pub async fn invoke(
        &self,
        tool: &str,
        arguments: Value,
    ) -> Result<CallToolResult, UnknownTool> {
        let catalog = self.catalog();
        let entry = catalog
            .get(tool)
            .ok_or_else(|| UnknownTool(tool.to_string()))?;
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

    /// Wait until every audit row of the calls so far is written (at shutdown).
    pub async fn flush_audit(&self) {
        self.audit.flush().await;
    }

    /// One call, start to end: validate, run in a fresh instance, log, audit.
    async fn call(
        &self,
        entry: &CatalogEntry,
        mut arguments: Value,
        progress: Option<Arc<dyn ProgressSink>>,
    ) -> CallToolResult {
        let correlation_id: Arc<str> = uuid::Uuid::new_v4().to_string().into();
        let record = Arc::new(CallRecord::default());
        if let Some(tenant_id) = self.session.snapshot().tenant_id() {
            record.note_tenant(&tenant_id);
        }
        let started = Instant::now();
        let at = orderdesk_vault::utc_now();
        // Redacted once: the audit row and (if a shutdown cuts the call off) the drain's
        // row use the same text.
        let redacted = redact_arguments(&arguments).to_string();
        let Some(_ticket) = self.in_flight.enter(RunningCall {
            at: at.clone(),
            started,
            tool: entry.spec.name.clone(),
            arguments: redacted.clone(),
            correlation_id: correlation_id.to_string(),
            record: record.clone(),
        }) else {
            return error_result(
                "unavailable",
                "the server is shutting down and takes no new calls; try again once it is back"
                    .into(),
            );
        };
        let result = match validate_arguments(entry, &arguments) {
            Err(invalid) => error_result("invalid_input", invalid.0),
            Ok(()) => {
                // Every log line of the call (host capabilities, the gateway, the
                // component's own log) carries the call's correlation id and tool.
                let span = tracing::info_span!(
                    "call",
                    correlation_id = %correlation_id,
                    tool = %entry.spec.name
                );
                let secrets: Arc<[SecretString]> = secret_values(&arguments).into();
                let mut arguments_text = arguments.to_string();
                let context = CallContext {
                    services: self.services.clone(),
                    session: self.session.clone(),
                    component: entry.component.name.as_str().into(),
                    grants: entry.component.grants,
                    correlation_id: correlation_id.clone(),
                    tool: entry.spec.name.as_str().into(),
                    progress,
                    record: record.clone(),
                    deadline: None,
                    listing: false,
                    secrets,
                };
                let outcome = self
                    .runtime
                    .call(&entry.component, context, &entry.spec.name, &arguments_text)
                    .instrument(span)
                    .await;
                // The host's copy of a secret argument is not kept past its call.
                arguments_text.zeroize();
                call_result(&entry.component.name, outcome, self.text_copy)
            }
        };
        let duration_ms = started.elapsed().as_millis() as u64;
        let outcome = outcome_of(&result);
        crate::telemetry::tool_call(&entry.spec.name, &outcome, started.elapsed());
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
        // Handed to the background writer, off the path of the answer.
        self.audit.record(AuditEntry {
            at,
            tenant_id: record.tenant_id(),
            store_id: record.store_id(),
            tool: entry.spec.name.clone(),
            arguments: redacted,
            outcome,
            duration_ms,
            correlation_id: correlation_id.to_string(),
        });
        wipe_secrets(&mut arguments);
        result
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
                .enable_prompts()
                .build(),
        )
        .with_server_info(Implementation::new(
            "orderdesk-mcp",
            env!("CARGO_PKG_VERSION"),
        ))
        .with_instructions(
            "Tools for OrderDesk stores. Call tenant_info first to see whether the session \
             is authenticated, which store is active and today's date (UTC). List tools \
             answer a compact summary of each record: ask for `fields` or `view: \"full\"` \
             only when you need more, and follow `pagination.next_offset` for more records.",
        )
    }

    async fn list_prompts(
        &self,
        _request: Option<PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> Result<ListPromptsResult, ErrorData> {
        Ok(ListPromptsResult {
            prompts: prompts::list(),
            ..Default::default()
        })
    }

    async fn get_prompt(
        &self,
        request: GetPromptRequestParams,
        _context: RequestContext<RoleServer>,
    ) -> Result<GetPromptResponse, ErrorData> {
        let arguments = request.arguments.unwrap_or_default();
        prompts::get(&request.name, &arguments, std::time::SystemTime::now())
            .map(Into::into)
            .map_err(|error| ErrorData::invalid_params(error.0, None))
    }

    async fn on_initialized(&self, context: NotificationContext<RoleServer>) {
        *self.peer.lock().unwrap_or_else(|e| e.into_inner()) = Some(context.peer);
    }

    async fn list_tools(
        &self,
        _request: Option<PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> Result<ListToolsResult, ErrorData> {
        let hook = self
            .after_first_list
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .take();
        if let Some(hook) = hook {
            hook();
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
                UnknownTool(request.name.to_string()).to_string(),
                None,
            ));
        };
        let arguments = Value::Object(request.arguments.unwrap_or_default());
        let progress = context.meta.get_progress_token().map(|token| {
            Arc::new(ProgressReporter {
                peer: context.peer.clone(),
                token,
            }) as Arc<dyn ProgressSink>
        });
        Ok(self.call(entry, arguments, progress).await.into())
    }
}
