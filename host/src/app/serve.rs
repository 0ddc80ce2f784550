//! Running the server: everything opened and loaded from [`Settings`], then MCP served
//! on a transport until the client leaves or `shutdown` fires. The binary passes stdio
//! and Ctrl-C; tests pass an in-memory pipe and their own signal; the HTTP transport
//! will pass its sessions the same way (mini-redis's `run(listener, shutdown)`).

use std::future::Future;
use std::sync::Arc;

use rmcp::RoleServer;
use rmcp::service::ServiceExt;
use rmcp::transport::IntoTransport;

use super::components::{build_catalog, load_components};
use super::open::{Setup, open_host, open_sandbox};
use super::pushes::{self, FeedTask, PushFeed};
use super::settings::Settings;
use super::{memory, reload};
use crate::mcp::McpServer;
use crate::runtime::Runtime;

/// A server ready to serve: components loaded, catalog built, watcher running.
pub struct Server {
    pub mcp: McpServer,
    pub runtime: Arc<Runtime>,
    pub setup: Setup,
    /// How long a shutdown waits for the calls under way.
    pub(super) shutdown_grace: std::time::Duration,
    /// The order changes OrderDesk pushed (to this process or another on the same
    /// database): dropped cached reads, subscribed sessions told.
    pub feed: Arc<PushFeed>,
    _feed_task: FeedTask,
    _watcher: Option<reload::WatchHandle>,
}

impl Server {
    /// Open the vault and OrderDesk (or the sandbox), load the components and build the
    /// catalog as `settings` say.
    pub async fn start(settings: &Settings) -> anyhow::Result<Server> {
        let setup = if settings.sandbox {
            open_sandbox(&settings.data_dir).await?
        } else {
            open_host(
                &settings.data_dir,
                &settings.vault,
                &settings.api_base,
                settings.master_key.clone(),
            )
            .await?
        }
        .with_secret_arguments(settings.secret_arguments);
        if settings.insecure_api_base && !settings.sandbox {
            tracing::warn!(
                api_base = %settings.api_base,
                "--insecure-api-base: store API keys go to this http:// API base unencrypted \
                 (acceptable for a local test server only)"
            );
        }
        let runtime = Arc::new(Runtime::new(
            settings.limits.clone(),
            Some(setup.compile_cache(settings.cache_dir())),
        )?);
        let components = load_components(
            &runtime,
            &setup,
            &settings.file,
            settings.components_dir.as_deref(),
        )
        .await?;
        let catalog = build_catalog(&components)?;
        tracing::info!(
            tools = catalog.entries().len(),
            components = components.len(),
            sandbox = settings.sandbox,
            "components loaded"
        );
        let mut mcp = McpServer::new(
            runtime.clone(),
            catalog,
            setup.services.clone(),
            setup.session.clone(),
        )
        .with_text_copy(settings.text_copy);
        if !settings.keep_startup_memory {
            // Once the client has listed the tools, start-up is over: what only it
            // needed goes back to the system.
            mcp = mcp.after_first_list(memory::release_startup_memory_soon);
        }
        let watcher = match (settings.watch, settings.components_dir.as_deref()) {
            (true, Some(dir)) => Some(reload::watch(
                dir.to_path_buf(),
                mcp.clone(),
                runtime.clone(),
                Arc::new(setup.share()),
                Arc::new(settings.file.clone()),
                components,
            )?),
            (true, None) => {
                anyhow::bail!("--watch needs a components directory (--components DIR)")
            }
            _ => None,
        };
        let (feed, feed_task) = pushes::start(setup.services.clone(), mcp.clone());
        Ok(Server {
            mcp,
            runtime,
            setup,
            shutdown_grace: settings.shutdown_grace,
            feed,
            _feed_task: feed_task,
            _watcher: watcher,
        })
    }

    /// Serve MCP on `transport` until the client disconnects or `shutdown` completes;
    /// every call's audit row is written before this returns. On `shutdown`, new calls
    /// are refused and those under way get the grace period to finish; any still
    /// running then is recorded in the audit log as interrupted, and cut off.
    pub async fn serve<T, E, A>(
        self,
        transport: T,
        shutdown: impl Future<Output = ()>,
    ) -> anyhow::Result<()>
    where
        T: IntoTransport<RoleServer, E, A> + Send + 'static,
        E: std::error::Error + Send + Sync + 'static,
    {
        let _session = crate::telemetry::SessionGuard::open();
        let audit = self.mcp.clone();
        let grace = self.shutdown_grace;
        let running = self.mcp.serve(transport).await?;
        let cancel = running.cancellation_token();
        let finished = running.waiting();
        tokio::pin!(finished);
        tokio::select! {
            result = &mut finished => { result?; }
            () = shutdown => {
                tracing::info!(grace_s = grace.as_secs(), "shutting down: waiting for the calls under way");
                let cut_off = audit.drain(grace).await;
                if cut_off > 0 {
                    tracing::warn!(calls = cut_off, "shutting down: calls cut off (recorded in the audit log)");
                }
                cancel.cancel();
                finished.await?;
            }
        }
        audit.flush_audit().await;
        Ok(())
    }
}

/// [`Server::start`] then [`Server::serve`]: the one entry of every transport.
pub async fn serve<T, E, A>(
    settings: &Settings,
    transport: T,
    shutdown: impl Future<Output = ()>,
) -> anyhow::Result<()>
where
    T: IntoTransport<RoleServer, E, A> + Send + 'static,
    E: std::error::Error + Send + Sync + 'static,
{
    Server::start(settings)
        .await?
        .serve(transport, shutdown)
        .await
}
