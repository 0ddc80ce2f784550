//! `null-mcp-server`: the smallest useful rmcp stdio server, the baseline of the per-call
//! benchmark. One tool, `echo`, answers `{"echo": arguments}` at once (the same result
//! shape as the `hostile_echo` test component) without any component, validation, audit
//! or logging: what is left is rmcp, JSON-RPC framing, tokio and the pipes.

use std::sync::Arc;

use rmcp::model::{
    CallToolRequestParams, CallToolResponse, CallToolResult, Implementation, ListToolsResult,
    PaginatedRequestParams, ServerCapabilities, ServerConfig, Tool,
};
use rmcp::service::RequestContext;
use rmcp::{ErrorData, RoleServer, ServerHandler, ServiceExt};
use serde_json::{Value, json};

#[derive(Clone)]
struct NullServer {
    tools: Arc<Vec<Tool>>,
}

impl ServerHandler for NullServer {
    fn get_info(&self) -> ServerConfig {
        ServerConfig::new(ServerCapabilities::builder().enable_tools().build()).with_server_info(
            Implementation::new("null-mcp-server", env!("CARGO_PKG_VERSION")),
        )
    }

    async fn list_tools(
        &self,
        _request: Option<PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> Result<ListToolsResult, ErrorData> {
        Ok(ListToolsResult {
            tools: self.tools.as_ref().clone(),
            ..Default::default()
        })
    }

    async fn call_tool(
        &self,
        request: CallToolRequestParams,
        _context: RequestContext<RoleServer>,
    ) -> Result<CallToolResponse, ErrorData> {
        if request.name != "echo" {
            return Err(ErrorData::invalid_params(
                format!("unknown tool `{}`", request.name),
                None,
            ));
        }
        let arguments = Value::Object(request.arguments.unwrap_or_default());
        Ok(CallToolResult::structured(json!({ "echo": arguments })).into())
    }
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let schema = json!({"type": "object", "properties": {}, "additionalProperties": true});
    let Value::Object(schema) = schema else {
        unreachable!("a JSON object literal")
    };
    let echo = Tool::new_with_raw(
        "echo",
        Some("Returns its arguments as {\"echo\": arguments}.".into()),
        Arc::new(schema),
    );
    let server = NullServer {
        tools: Arc::new(vec![echo]),
    };
    server
        .serve(rmcp::transport::stdio())
        .await?
        .waiting()
        .await?;
    Ok(())
}
