//! `orderdesk-mcp serve`: MCP over stdio until the client leaves, or until SIGTERM or
//! Ctrl-C (calls under way get the shutdown grace period to finish); with `--metrics
//! ADDR`, Prometheus metrics at `http://ADDR/metrics` for as long.

use orderdesk_host::app::{self, Settings};

pub async fn run(settings: &Settings) -> anyhow::Result<()> {
    tracing::info!(sandbox = settings.sandbox, "serving MCP over stdio");
    // Pipes (as MCP clients start servers) are read and written on tokio's reactor;
    // anything else (a terminal, a file) through the blocking pool.
    let shutdown = async {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{SignalKind, signal};
            match signal(SignalKind::terminate()) {
                Ok(mut terminate) => {
                    tokio::select! {
                        _ = tokio::signal::ctrl_c() => {}
                        _ = terminate.recv() => {}
                    }
                }
                Err(_) => {
                    let _ = tokio::signal::ctrl_c().await;
                }
            }
        }
        #[cfg(not(unix))]
        {
            let _ = tokio::signal::ctrl_c().await;
        }
    };
    let serving = app::serve(settings, rmcp::transport::stdio_pipes(), shutdown);
    app::with_metrics(settings, serving).await
}
