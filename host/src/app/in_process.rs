//! One MCP session inside this process: the server `settings` describe, started as
//! `serve` starts it, and rmcp's client talking to it over an in-memory pipe. What
//! `orderdesk-mcp call` and `orderdesk-mcp tools` use: a call goes through the real MCP
//! layer (argument validation, results for the model, the audit), with no client
//! process and no stdio.

use anyhow::Context;
use rmcp::model::{CallToolRequestParams, CallToolResult, JsonObject, Tool};
use rmcp::service::RunningService;
use rmcp::{RoleClient, ServiceExt};
use tokio::task::JoinHandle;

use super::serve::Server;
use super::settings::Settings;

/// Room for a large answer in flight; rmcp frames each message, so this only sets how
/// much is buffered between the two ends.
const PIPE_BYTES: usize = 256 << 10;

/// A client connected to a server running in this process.
pub struct InProcess {
    client: RunningService<RoleClient, ()>,
    server: JoinHandle<anyhow::Result<()>>,
}

impl InProcess {
    /// Start the server `settings` describe (components loaded, the sandbox or the
    /// operator's vault opened) and complete the MCP handshake with it.
    pub async fn connect(settings: &Settings) -> anyhow::Result<InProcess> {
        let server = Server::start(settings).await?;
        let (server_end, client_end) = tokio::io::duplex(PIPE_BYTES);
        // The server stops when the client hangs up (`close`), not on a signal.
        let server =
            tokio::spawn(async move { server.serve(server_end, std::future::pending()).await });
        let client = ().serve(client_end).await.context("the in-process MCP handshake failed")?;
        Ok(InProcess { client, server })
    }

    /// `tools/list`: every tool with its schemas and annotations.
    pub async fn tools(&self) -> anyhow::Result<Vec<Tool>> {
        Ok(self.client.list_all_tools().await?)
    }

    /// `tools/call`. A tool's failure is a result with `is_error`; an `Err` is a
    /// protocol fault, such as a tool name the server does not have.
    pub async fn call(&self, tool: &str, arguments: JsonObject) -> anyhow::Result<CallToolResult> {
        let request = CallToolRequestParams::new(tool.to_string()).with_arguments(arguments);
        Ok(self.client.call_tool(request).await?)
    }

    /// Hang up and wait for the server to finish (every call's audit row written).
    pub async fn close(self) -> anyhow::Result<()> {
        self.client.cancel().await?;
        self.server.await?
    }
}
