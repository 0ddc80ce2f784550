//! The MCP layer: `initialize`, `tools/list` and `tools/call` over rmcp, in front of the
//! component runtime. It validates arguments, runs the call, shapes the answer for the
//! model and writes the audit row. It never touches SQL or HTTP itself: the vault and
//! the gateway are reached only through the capabilities a component calls.
//!
//! - `results`: outcomes → tool results and errors the model reads;
//! - `progress`: `notifications/progress` for the calls that asked for them;
//! - `prompts`: the templates of `prompts/list` and `prompts/get`;
//! - `sessions`: what an HTTP session is opened with ([`Principal`]) and the per-tenant
//!   count of open sessions;
//! - `resources`: orders as MCP resources (read through `orders_get`), and the
//!   sessions' subscriptions to them, told when OrderDesk pushes a change.
//!
//! Over stdio one [`McpServer`] serves the process's one session. Over HTTP the
//! transport asks [`McpServer::for_new_session`] for one per `Mcp-Session-Id`: each has
//! its own [`Session`] (tenant, scope, active store, taken from the access token of the
//! request that opened it) and shares the catalog, the runtime, the audit writer and
//! the calls under way with the others.

mod drain;
mod progress;
mod prompts;
mod resources;
mod results;
mod sessions;

use std::sync::{Arc, Mutex, RwLock};
use std::time::Instant;

use rmcp::model::{
    CallToolRequestParams, CallToolResponse, CallToolResult, Extensions, GetPromptRequestParams,
    GetPromptResponse, Implementation, InitializeRequestParams, InitializeResult,
    ListPromptsResult, ListResourceTemplatesResult, ListResourcesResult, ListToolsResult,
    PaginatedRequestParams, ProtocolVersion, ReadResourceRequestParams, ReadResourceResponse,
    ReadResourceResult, ResourceContents, ServerCapabilities, ServerConfig, SubscribeRequestParams,
    Tool, ToolAnnotations, UnsubscribeRequestParams,
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
use crate::grants::OrderDeskAccess;
use crate::redact::{redact_arguments, secret_values, wipe_secrets};
use crate::runtime::Runtime;
use crate::services::Services;
use crate::session::Session;
use drain::{InFlight, RunningCall};
use orderdesk_vault::AuditEntry;
pub use progress::ProgressReporter;
pub use resources::Subscriptions;
use resources::{Subscription, not_an_order_uri, parse_order_uri};
pub use results::TextCopy;
use results::{call_result, error_result, outcome_of};
pub use sessions::{Principal, SessionError, TenantSessions};

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
    /// The connected clients (one over stdio, one per session over HTTP), once
    /// initialized: told when the tool list changes.
    peers: Arc<Mutex<Vec<Peer<RoleServer>>>>,
    /// Over HTTP: the open sessions per tenant, and how many one tenant may have.
    tenant_sessions: Option<Arc<TenantSessions>>,
    audit: AuditLog,
    after_first_list: FirstListHook,
    /// The calls under way, for a shutdown that drains them.
    in_flight: Arc<InFlight>,
    /// The form of a result's text copy.
    text_copy: TextCopy,
    /// Every session's subscriptions to orders (shared by the sessions).
    subscriptions: Arc<Subscriptions>,
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
            peers: Arc::default(),
            tenant_sessions: None,
            after_first_list: Arc::default(),
            in_flight: Arc::default(),
            text_copy: TextCopy::default(),
            subscriptions: Arc::default(),
        }
    }

    /// OrderDesk pushed a change to an order: tell the sessions of `tenant_id`
    /// subscribed to it. Returns how many were told.
    pub async fn order_changed(&self, tenant_id: &str, store_id: &str, order_id: &str) -> usize {
        self.subscriptions
            .order_changed(tenant_id, store_id, order_id)
            .await
    }

    /// Write results' text copies as `text_copy` (default TOON; see [`TextCopy`]).
    pub fn with_text_copy(mut self, text_copy: TextCopy) -> McpServer {
        self.text_copy = text_copy;
        self
    }

    /// The server of a new HTTP session: its own [`Session`] (opened by the first
    /// request's [`Principal`]), everything else shared with this one. `sessions`
    /// counts each tenant's open sessions and refuses one over its cap.
    pub fn for_new_session(&self, sessions: Arc<TenantSessions>) -> McpServer {
        McpServer {
            session: Arc::new(Session::default()),
            tenant_sessions: Some(sessions),
            ..self.clone()
        }
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
        Ok(self.call(entry, arguments, None, None).await)
    }

    /// Serve `catalog` from now on and tell every connected client its tool list
    /// changed (a client that has gone is forgotten).
    pub async fn replace_catalog(&self, catalog: Catalog) {
        *self.catalog.write().unwrap_or_else(|e| e.into_inner()) = Arc::new(catalog);
        let peers = std::mem::take(&mut *self.peers.lock().unwrap_or_else(|e| e.into_inner()));
        let mut still_there = Vec::with_capacity(peers.len());
        for peer in peers {
            match peer.notify_tool_list_changed().await {
                Ok(()) => still_there.push(peer),
                Err(error) if peer.is_transport_closed() => {
                    tracing::debug!(error = %error, "a client has gone: not told of the new tools");
                }
                Err(error) => {
                    tracing::warn!(error = %error, "could not send tools/list_changed");
                    still_there.push(peer);
                }
            }
        }
        self.peers
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .extend(still_there);
    }

    /// Wait until every audit row of the calls so far is written (at shutdown).
    pub async fn flush_audit(&self) {
        self.audit.flush().await;
    }

    /// One call, start to end: validate, run in a fresh instance, log, audit.
    /// `request_id` (the HTTP request's `X-Request-Id`) becomes the call's correlation
    /// id, so the log lines, the audit row and the HTTP answer share one id.
    async fn call(
        &self,
        entry: &CatalogEntry,
        mut arguments: Value,
        progress: Option<Arc<dyn ProgressSink>>,
        request_id: Option<Arc<str>>,
    ) -> CallToolResult {
        let correlation_id: Arc<str> =
            request_id.unwrap_or_else(|| uuid::Uuid::new_v4().to_string().into());
        let record = Arc::new(CallRecord::default());
        let snapshot = self.session.snapshot();
        if let Some(tenant_id) = snapshot.tenant_id() {
            record.note_tenant(&tenant_id);
        }
        let mut grants = entry.component.grants;
        if snapshot.access.read_only {
            // A read-only token narrows every component's OrderDesk grant to GET (the
            // capability checks it on each request), whatever the tool says of itself.
            grants.orderdesk = grants.orderdesk.min(OrderDeskAccess::Read);
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
            _ if snapshot.access.read_only && !entry.spec.annotations.read_only => error_result(
                "unauthorized",
                format!(
                    "`{}` changes data, and this session's access token is read-only; \
                     connect with a token created with `--scope write` to use it",
                    entry.spec.name
                ),
            ),
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
                    grants,
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

/// The [`Principal`] the HTTP transport put into a request, if it came over HTTP.
fn principal_of(extensions: &Extensions) -> Option<&Principal> {
    extensions
        .get::<http::request::Parts>()
        .and_then(|parts| parts.extensions.get::<Principal>())
}

impl McpServer {
    /// Open this HTTP session for the tenant of the request's token: its place among
    /// the tenant's sessions (given back when the session ends), its tenant, scope and
    /// store.
    fn open_session(
        &self,
        sessions: &Arc<TenantSessions>,
        extensions: &Extensions,
    ) -> Result<(), ErrorData> {
        let refuse = |error: SessionError| ErrorData::invalid_request(error.to_string(), None);
        let principal =
            principal_of(extensions).ok_or_else(|| refuse(SessionError::NoCredential))?;
        let Some(tenant) = principal.tenant.clone() else {
            return Err(refuse(SessionError::NoCredential));
        };
        let slot = sessions.admit(&principal.tenant_id).map_err(refuse)?;
        self.session.on_end(move || drop(slot));
        self.session
            .open_with_token(tenant, principal.access.clone(), principal.store.clone());
        tracing::info!(
            tenant_id = %principal.tenant_id,
            read_only = principal.access.read_only,
            "HTTP session opened"
        );
        Ok(())
    }

    /// An order as `orders_get` with view "full" answers it (a tool call like any
    /// other: granted, cached, audited), as JSON text.
    async fn read_order(
        &self,
        store: &str,
        order_id: &str,
        request_id: Option<Arc<str>>,
    ) -> Result<String, ErrorData> {
        let catalog = self.catalog();
        let entry = catalog.get("orders_get").ok_or_else(|| {
            ErrorData::internal_error(
                "orders cannot be read: this server has no `orders_get` tool (the orders \
                 component is not loaded)",
                None,
            )
        })?;
        let arguments = serde_json::json!({"store": store, "order_id": order_id, "view": "full"});
        let result = self.call(entry, arguments, None, request_id).await;
        let structured = result.structured_content.unwrap_or_default();
        if result.is_error == Some(true) {
            let message = structured["error"]["message"]
                .as_str()
                .unwrap_or("the order could not be read")
                .to_string();
            return Err(match structured["error"]["kind"].as_str() {
                Some("not_found") => ErrorData::resource_not_found(message, None),
                Some("invalid_input" | "unauthorized") => ErrorData::invalid_params(message, None),
                _ => ErrorData::internal_error(message, None),
            });
        }
        Ok(structured.to_string())
    }

    /// The session's tenant and the OrderDesk store id of its store `identifier` (an id
    /// or a name), for a subscription; refused when the store is not the tenant's (or
    /// not the one its token is limited to).
    async fn resolve_store_of_session(
        &self,
        identifier: &str,
    ) -> Result<(String, String), ErrorData> {
        let snapshot = self.session.snapshot();
        let Some(tenant) = snapshot.tenant.clone() else {
            return Err(ErrorData::invalid_request(
                "this session is not signed in: authenticate first (tenant_use_master_key over \
                 stdio, an access token over HTTP)",
                None,
            ));
        };
        let identifier = identifier.to_string();
        let access = snapshot.access.clone();
        let resolved = self
            .services
            .with_vault(move |vault| {
                let (record, _) = vault.resolve_store(tenant.tenant_id(), &identifier)?;
                Ok((tenant.tenant_id().to_string(), record))
            })
            .await;
        let (tenant_id, record) =
            resolved.map_err(|error| ErrorData::resource_not_found(error.to_string(), None))?;
        if let Some(only) = &access.store_id
            && only != &record.store_id
        {
            return Err(ErrorData::invalid_request(
                format!(
                    "this session's access token is limited to store {only}: store {} is not                      available to it",
                    record.store_id
                ),
                None,
            ));
        }
        Ok((tenant_id, record.store_id))
    }

    /// Check a request of an HTTP session against the session: the same tenant as the
    /// request that opened it (the scope follows the request's token). Returns the
    /// request's id. Over stdio there is nothing to check.
    fn admit_request(&self, extensions: &Extensions) -> Result<Option<Arc<str>>, ErrorData> {
        if self.tenant_sessions.is_none() {
            return Ok(None);
        }
        let refuse = |error: SessionError| ErrorData::invalid_request(error.to_string(), None);
        let principal =
            principal_of(extensions).ok_or_else(|| refuse(SessionError::NoCredential))?;
        if self.session.snapshot().tenant_id().as_deref() != Some(principal.tenant_id.as_str()) {
            return Err(refuse(SessionError::OtherTenant));
        }
        self.session.set_access(principal.access.clone());
        Ok(principal.request_id.clone())
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
                .enable_resources()
                .enable_resources_subscribe()
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

    async fn list_resources(
        &self,
        _request: Option<PaginatedRequestParams>,
        context: RequestContext<RoleServer>,
    ) -> Result<ListResourcesResult, ErrorData> {
        // Orders are too many to list: they are reached through the template.
        self.admit_request(&context.extensions)?;
        Ok(ListResourcesResult::default())
    }

    async fn list_resource_templates(
        &self,
        _request: Option<PaginatedRequestParams>,
        context: RequestContext<RoleServer>,
    ) -> Result<ListResourceTemplatesResult, ErrorData> {
        self.admit_request(&context.extensions)?;
        Ok(ListResourceTemplatesResult {
            resource_templates: resources::templates(),
            ..Default::default()
        })
    }

    async fn read_resource(
        &self,
        request: ReadResourceRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<ReadResourceResponse, ErrorData> {
        let request_id = self.admit_request(&context.extensions)?;
        let (store, order_id) = parse_order_uri(&request.uri)
            .ok_or_else(|| ErrorData::resource_not_found(not_an_order_uri(&request.uri), None))?;
        let text = self.read_order(&store, &order_id, request_id).await?;
        Ok(ReadResourceResult::new(vec![
            ResourceContents::text(text, request.uri).with_mime_type("application/json"),
        ])
        .into())
    }

    #[allow(deprecated)] // the subscription of protocol versions up to 2025-11-25
    async fn subscribe(
        &self,
        request: SubscribeRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<(), ErrorData> {
        self.admit_request(&context.extensions)?;
        let (store, order_id) = parse_order_uri(&request.uri)
            .ok_or_else(|| ErrorData::resource_not_found(not_an_order_uri(&request.uri), None))?;
        let (tenant_id, store_id) = self.resolve_store_of_session(&store).await?;
        self.subscriptions
            .subscribe(Subscription {
                session: &self.session,
                tenant_id,
                store_id,
                order_id,
                uri: request.uri,
                peer: context.peer,
            })
            .map_err(|_| {
                ErrorData::invalid_request(
                    format!(
                        "this session already has {} subscriptions, the most allowed:                          unsubscribe from orders it no longer follows",
                        resources::MAX_SUBSCRIPTIONS_PER_SESSION
                    ),
                    None,
                )
            })
    }

    #[allow(deprecated)]
    async fn unsubscribe(
        &self,
        request: UnsubscribeRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<(), ErrorData> {
        self.admit_request(&context.extensions)?;
        self.subscriptions.unsubscribe(&self.session, &request.uri);
        Ok(())
    }

    async fn list_prompts(
        &self,
        _request: Option<PaginatedRequestParams>,
        context: RequestContext<RoleServer>,
    ) -> Result<ListPromptsResult, ErrorData> {
        self.admit_request(&context.extensions)?;
        Ok(ListPromptsResult {
            prompts: prompts::list(),
            ..Default::default()
        })
    }

    async fn get_prompt(
        &self,
        request: GetPromptRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<GetPromptResponse, ErrorData> {
        self.admit_request(&context.extensions)?;
        let arguments = request.arguments.unwrap_or_default();
        prompts::get(&request.name, &arguments, std::time::SystemTime::now())
            .map(Into::into)
            .map_err(|error| ErrorData::invalid_params(error.0, None))
    }

    fn supported_protocol_versions(&self) -> std::borrow::Cow<'static, [ProtocolVersion]> {
        if self.tenant_sessions.is_some() {
            // An HTTP session is opened by `initialize` with the caller's token and
            // keeps its tenant, scope and active store: the versions with sessions.
            // (`2026-07-28` dropped both; its clients fall back to 2025-11-25.)
            ProtocolVersion::known_up_to(&ProtocolVersion::V_2025_11_25).into()
        } else {
            std::borrow::Cow::Borrowed(ProtocolVersion::KNOWN_VERSIONS)
        }
    }

    async fn initialize(
        &self,
        request: InitializeRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<InitializeResult, ErrorData> {
        if let Some(sessions) = &self.tenant_sessions {
            self.open_session(sessions, &context.extensions)?;
        }
        context.peer.set_peer_info(request.clone());
        self.negotiate_initialize(&request)
    }

    async fn on_initialized(&self, context: NotificationContext<RoleServer>) {
        self.peers
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(context.peer);
    }

    async fn list_tools(
        &self,
        _request: Option<PaginatedRequestParams>,
        context: RequestContext<RoleServer>,
    ) -> Result<ListToolsResult, ErrorData> {
        self.admit_request(&context.extensions)?;
        let read_only = self.session.snapshot().access.read_only;
        let hook = self
            .after_first_list
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .take();
        if let Some(hook) = hook {
            hook();
        }
        // A read-only session is offered only the tools it may call.
        Ok(ListToolsResult {
            tools: self
                .catalog()
                .entries()
                .iter()
                .filter(|entry| !read_only || entry.spec.annotations.read_only)
                .map(mcp_tool)
                .collect(),
            ..Default::default()
        })
    }

    async fn call_tool(
        &self,
        request: CallToolRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<CallToolResponse, ErrorData> {
        let request_id = self.admit_request(&context.extensions)?;
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
        Ok(self
            .call(entry, arguments, progress, request_id)
            .await
            .into())
    }
}
