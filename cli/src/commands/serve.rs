//! `orderdesk-mcp serve`: MCP over stdio until the client leaves (or Ctrl-C).

use orderdesk_host::app::{self, Settings};

pub async fn run(settings: &Settings) -> anyhow::Result<()> {
    tracing::info!(sandbox = settings.sandbox, "serving MCP over stdio");
    // Pipes (as MCP clients start servers) are read and written on tokio's reactor;
    // anything else (a terminal, a file) through the blocking pool.
    let shutdown = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    app::serve(settings, rmcp::transport::stdio_pipes(), shutdown).await
}
