//! The remote server: MCP's Streamable HTTP transport at `/mcp` (rmcp's tower service
//! under axum), with access tokens, health checks and the HTTP hygiene a server on a
//! network needs. The same [`Server`] as stdio runs every call: only how a session
//! starts and who it belongs to differ.
//!
//! - `settings`: `--http`, `--public-url`, `[http]` and their checks;
//! - `guard`: what every request goes through (request id, `Host`/`Origin`,
//!   concurrency and time limits, security headers);
//! - `auth`: bearer tokens on `/mcp` → the request's [`Principal`](crate::mcp::Principal);
//! - `health`: `/healthz`, `/readyz`;
//! - `/metrics` (`app::metrics_endpoint`): on this listener, or on an address of its
//!   own with `--metrics`.
//!
//! Shutdown: the listener stops accepting, `/readyz` says so, the calls under way get
//! the grace period ([`McpServer::drain`](crate::mcp::McpServer::drain)), the answers
//! already produced get a moment to be sent, then every session ends and the audit is
//! flushed.

mod auth;
mod guard;
mod health;
mod settings;
mod webhooks;

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use anyhow::Context as _;
use axum::Router;
use axum::routing::get;
use axum::serve::ListenerExt;
use rmcp::transport::streamable_http_server::session::local::{LocalSessionManager, SessionConfig};
use rmcp::transport::{StreamableHttpServerConfig, StreamableHttpService};
use secrecy::{ExposeSecret, SecretString};
use tower_http::limit::RequestBodyLimitLayer;

pub use settings::{DEFAULT_PORT, HttpSettings, PublicUrl};
pub use webhooks::PATH as WEBHOOK_PATH;

use super::metrics_endpoint::metrics_routes;
use super::serve::Server;
use crate::mcp::TenantSessions;
use auth::Authenticator;
use health::Readiness;

/// Where an HTTP server's `/metrics` is served.
#[derive(Debug)]
pub enum MetricsRoute {
    /// On the MCP listener, behind this bearer token if one is set (without one, only
    /// when the listener is on loopback).
    OnListener { bearer: Option<SecretString> },
    /// On an address of its own (`--metrics ADDR`, see `app::with_metrics`), or nowhere.
    Elsewhere,
}

impl super::Settings {
    /// Where this server's `/metrics` goes when it serves HTTP.
    pub fn http_metrics(&self) -> MetricsRoute {
        match self.metrics_addr {
            Some(_) => MetricsRoute::Elsewhere,
            None => MetricsRoute::OnListener {
                bearer: self.metrics_token.clone(),
            },
        }
    }
}

/// The sandbox's access token's file, in the sandbox's directory.
pub const SANDBOX_TOKEN_FILE: &str = "access-token";

/// How long answers already produced get to reach their clients at shutdown, before
/// the sessions (and their open streams) are ended.
const FLUSH_ANSWERS: Duration = Duration::from_millis(500);

impl Server {
    /// Serve MCP over HTTP as `settings` say until `shutdown` completes. Logs the
    /// address it listens on (`serving MCP over HTTP at http://ADDR/mcp`), with the
    /// real port when the settings asked for port 0.
    pub async fn serve_http(
        self,
        settings: HttpSettings,
        metrics: MetricsRoute,
        shutdown: impl Future<Output = ()>,
    ) -> anyhow::Result<()> {
        let listener = tokio::net::TcpListener::bind(settings.bind)
            .await
            .with_context(|| format!("cannot listen on {}", settings.bind))?;
        let bound = listener.local_addr()?;
        let mcp = self.mcp.clone();
        let services = self.setup.services.clone();

        let sessions = TenantSessions::new(settings.sessions_per_tenant);
        let mut session_manager = LocalSessionManager::default();
        session_manager.session_config = {
            let mut config = SessionConfig::default();
            config.keep_alive = Some(settings.session_idle);
            config
        };
        let mut config = StreamableHttpServerConfig::default()
            // The guard checks `Host` and `Origin` for every route, with this server's
            // own rules (loopback or not, the public URL, the operator's list).
            .disable_allowed_hosts()
            .with_max_request_body_bytes(settings.max_request_body());
        config.sse_keep_alive = Some(Duration::from_secs(15));
        let end_sessions = config.cancellation_token.clone();
        let factory = {
            let mcp = mcp.clone();
            let sessions = sessions.clone();
            move || Ok(mcp.for_new_session(sessions.clone()))
        };
        let mcp_service = StreamableHttpService::new(factory, Arc::new(session_manager), config);

        let public_base = match &settings.public_url {
            Some(url) => url.origin.clone(),
            None => format!("http://{bound}"),
        };
        let authenticator = Arc::new(Authenticator {
            services: services.clone(),
            challenge: "Bearer realm=\"orderdesk-mcp\"".to_string(),
        });
        let readiness = Arc::new(Readiness {
            services: services.clone(),
            mcp: mcp.clone(),
            shutting_down: AtomicBool::new(false),
        });
        let guard = Arc::new(guard::Guard::new(&settings, bound));

        let mcp_routes = Router::new()
            .route_service("/mcp", mcp_service)
            .route_layer(axum::middleware::from_fn_with_state(
                authenticator,
                auth::authenticate,
            ));
        // OrderDesk's pushes: no bearer token (OrderDesk signs each with the store's
        // key instead), the guard's limits all the same.
        let receiver = Arc::new(webhooks::Receiver {
            services: services.clone(),
            feed: self.feed.clone(),
        });
        let webhook_routes = Router::new()
            .route(webhooks::PATH, axum::routing::post(webhooks::receive))
            .route(
                &format!("{}/{{store_id}}", webhooks::PATH),
                axum::routing::post(webhooks::receive_for_store),
            )
            .with_state(receiver);
        let mut app = Router::new().merge(mcp_routes).merge(webhook_routes);
        if let MetricsRoute::OnListener { bearer } = metrics {
            // A listener others can reach shows its metrics only to who holds the token.
            if bearer.is_none() && !bound.ip().is_loopback() {
                tracing::warn!(
                    "/metrics is not served: this listener is reachable from the network; set \
                     ORDERDESK_MCP_METRICS_TOKEN, or serve metrics on an address of their own \
                     with --metrics ADDR"
                );
            } else {
                app = app.merge(metrics_routes(crate::telemetry::install(), bearer));
            }
        }
        let app = app
            .route("/healthz", get(health::healthz))
            .route("/readyz", get(health::readyz).with_state(readiness.clone()))
            .layer(RequestBodyLimitLayer::new(settings.max_body_bytes))
            .layer(axum::middleware::from_fn_with_state(guard, guard::guard));

        if let Some(sandbox) = &self.setup.simulator {
            // The sandbox behaves as a store with a "post order to URL" rule pointing
            // here would: its changes come back as signed pushes, the real path.
            let url = format!(
                "http://{bound}{}/{}",
                webhooks::PATH,
                orderdesk_sim::DEMO_STORE_ID
            );
            sandbox.simulator.add_webhook_rule(
                orderdesk_sim::DEMO_STORE_ID,
                orderdesk_sim::WebhookRule::new(
                    url,
                    vec![
                        orderdesk_sim::Trigger::Created,
                        orderdesk_sim::Trigger::Updated,
                    ],
                ),
            );
        }
        if let Some(path) = self.sandbox_token().await? {
            tracing::info!(
                token_file = %path.display(),
                "sandbox: the demo tenant's access token is in this file (send it as \
                 `Authorization: Bearer …`; it ends with this process)"
            );
        }
        tracing::info!(
            public = %public_base,
            "serving MCP over HTTP at http://{bound}/mcp"
        );

        let (stop_accepting, stopped) = tokio::sync::oneshot::channel::<()>();
        // MCP's answers are small writes that the client waits for: without TCP_NODELAY,
        // Nagle's algorithm holds each one back until the client's delayed ACK (~40 ms).
        let listener = listener.tap_io(|tcp| {
            if let Err(error) = tcp.set_nodelay(true) {
                tracing::debug!(%error, "cannot set TCP_NODELAY on a connection");
            }
        });
        let server = axum::serve(
            listener,
            app.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .with_graceful_shutdown(async {
            let _ = stopped.await;
        })
        .into_future();
        tokio::pin!(server);
        tokio::select! {
            result = &mut server => {
                result.context("the HTTP server failed")?;
                mcp.flush_audit().await;
                return Ok(());
            }
            () = shutdown => {}
        }

        tracing::info!(
            grace_s = self.shutdown_grace.as_secs(),
            "shutting down: no new connections; waiting for the calls under way"
        );
        readiness.shutting_down.store(true, Ordering::Relaxed);
        let _ = stop_accepting.send(());
        let cut_off = mcp.drain(self.shutdown_grace).await;
        if cut_off > 0 {
            tracing::warn!(
                calls = cut_off,
                "shutting down: calls cut off (recorded in the audit log)"
            );
        }
        // The last answers are on their way out; open streams (a client's notification
        // stream) end with their sessions.
        if tokio::time::timeout(FLUSH_ANSWERS, &mut server)
            .await
            .is_err()
        {
            end_sessions.cancel();
            if tokio::time::timeout(Duration::from_secs(5), &mut server)
                .await
                .is_err()
            {
                tracing::warn!("shutting down: connections still open were dropped");
            }
        }
        mcp.flush_audit().await;
        tracing::info!("shut down");
        Ok(())
    }

    /// In the sandbox, a write token of the demo tenant for the demo store, written to
    /// `<data dir>/sandbox/access-token` (private to the user, like every file there) so
    /// that an HTTP client can connect at once; it is not logged, like any secret.
    /// Returns the file; `None` outside the sandbox.
    async fn sandbox_token(&self) -> anyhow::Result<Option<std::path::PathBuf>> {
        if !self.setup.services.sandbox {
            return Ok(None);
        }
        let sandbox = self.setup.session.snapshot();
        let Some(tenant) = sandbox.tenant else {
            return Ok(None);
        };
        // Limited to the demo store, which its sessions then start with as their
        // active store, as the stdio sandbox does.
        let store_id = sandbox.active_store.map(|store| store.store_id);
        let token = self
            .setup
            .services
            .with_vault(move |vault| {
                vault.create_access_token(
                    &tenant,
                    &orderdesk_vault::NewAccessToken {
                        scope: orderdesk_vault::TokenScope::Write,
                        store_id,
                        expires_in: None,
                        label: Some("sandbox".into()),
                    },
                    orderdesk_vault::AuditSource::Cli,
                )
            })
            .await
            .context("cannot create the sandbox's access token")?;
        // The sandbox's vault lives in the sandbox's directory.
        let dir = self
            .setup
            .services
            .vault
            .db_path()
            .parent()
            .context("the sandbox's vault has no directory")?;
        let path = dir.join(SANDBOX_TOKEN_FILE);
        write_private(&path, token.0.expose_secret().as_bytes())
            .with_context(|| format!("cannot write {}", path.display()))?;
        Ok(Some(path))
    }
}

/// Write `bytes` to a new file at `path` readable by its owner only (0600 from the
/// start, never briefly wider).
fn write_private(path: &std::path::Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    let _ = std::fs::remove_file(path);
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options.open(path)?.write_all(bytes)
}

impl HttpSettings {
    /// rmcp's own body limit, the same as the router's (it counts while streaming).
    fn max_request_body(&self) -> usize {
        self.max_body_bytes
    }
}
