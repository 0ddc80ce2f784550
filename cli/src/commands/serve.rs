//! `orderdesk-mcp serve`: MCP over stdio until the client leaves, or over HTTP
//! (`--http`) until stopped; either way until SIGTERM or Ctrl-C, when calls under way
//! get the shutdown grace period to finish. A second signal stops at once. With
//! `--metrics ADDR`, Prometheus metrics at `http://ADDR/metrics` for as long.

use orderdesk_host::app::{self, Server, Settings};

pub async fn run(settings: &Settings) -> anyhow::Result<()> {
    let shutdown = async {
        first_signal().await;
        // The operator who signals again means it: stop now, whatever is under way.
        tokio::spawn(async {
            first_signal().await;
            eprintln!("second signal: stopping at once");
            std::process::exit(130);
        });
    };
    let serving = async {
        match &settings.http {
            Some(http) => {
                Server::start(settings)
                    .await?
                    .serve_http(http.clone(), settings.http_metrics(), shutdown)
                    .await
            }
            None => {
                tracing::info!(sandbox = settings.sandbox, "serving MCP over stdio");
                // Pipes (as MCP clients start servers) are read and written on tokio's
                // reactor; anything else (a terminal, a file) through the blocking pool.
                app::serve(settings, rmcp::transport::stdio_pipes(), shutdown).await
            }
        }
    };
    app::with_metrics(settings, serving).await
}

/// SIGTERM or Ctrl-C (SIGINT), whichever comes first.
async fn first_signal() {
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
}
