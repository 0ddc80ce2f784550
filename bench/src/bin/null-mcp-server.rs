//! `null-mcp-server`: the smallest useful rmcp stdio server, the baseline of the per-call
//! benchmark. One tool, `echo`, answers `{"echo": arguments}` at once (the same result
//! shape as the `hostile_echo` test component) without any component, validation, audit
//! or logging: what is left is rmcp, JSON-RPC framing, tokio and the pipes.
//!
//! `null-mcp-server --http ADDR` serves the same tool over MCP's Streamable HTTP at
//! `/mcp` (rmcp's session manager under axum, as orderdesk-mcp does, with TCP_NODELAY
//! on its connections) without authentication, limits or logs: the HTTP benchmarks'
//! floor. It prints `listening on http://ADDR/mcp` once it listens.
//!
//! `null-mcp-server --http-raw ADDR` is the floor below that: no MCP library at all,
//! one axum handler that parses each JSON-RPC request and answers it as JSON at once
//! (`initialize` with a session id, `echo` with its arguments), so what is left is
//! HTTP/1.1 keep-alive, JSON and tokio. It tells what rmcp's transport itself costs.

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
    let args: Vec<String> = std::env::args().skip(1).collect();
    let http = match args.as_slice() {
        [] => None,
        [flag, addr] if flag == "--http" => Some(addr.parse::<std::net::SocketAddr>()?),
        [flag, addr] if flag == "--http-raw" => {
            return serve_raw_http(addr.parse()?).await;
        }
        _ => anyhow::bail!("usage: null-mcp-server [--http IP:PORT | --http-raw IP:PORT]"),
    };
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
    match http {
        None => {
            server
                .serve(rmcp::transport::stdio())
                .await?
                .waiting()
                .await?;
        }
        Some(addr) => serve_http(server, addr).await?,
    }
    Ok(())
}

/// Streamable HTTP at `/mcp`, one `NullServer` per session.
async fn serve_http(server: NullServer, addr: std::net::SocketAddr) -> anyhow::Result<()> {
    use rmcp::transport::streamable_http_server::session::local::LocalSessionManager;
    use rmcp::transport::{StreamableHttpServerConfig, StreamableHttpService};

    let service = StreamableHttpService::new(
        move || Ok(server.clone()),
        Arc::new(LocalSessionManager::default()),
        StreamableHttpServerConfig::default().disable_allowed_hosts(),
    );
    serve_app(addr, axum::Router::new().route_service("/mcp", service)).await
}

/// Listen on `addr`, say where, and serve `app` until the process ends.
async fn serve_app(addr: std::net::SocketAddr, app: axum::Router) -> anyhow::Result<()> {
    use axum::serve::ListenerExt;

    let listener = tokio::net::TcpListener::bind(addr).await?;
    println!("listening on http://{}/mcp", listener.local_addr()?);
    // Small answers a client waits for: no Nagle delay (orderdesk-mcp does the same).
    let listener = listener.tap_io(|tcp| {
        let _ = tcp.set_nodelay(true);
    });
    axum::serve(listener, app).await?;
    Ok(())
}

/// The floor of MCP over HTTP: each POST's JSON-RPC request answered as JSON by one
/// handler, no session state beyond the id handed out, no MCP library.
async fn serve_raw_http(addr: std::net::SocketAddr) -> anyhow::Result<()> {
    use axum::http::{HeaderMap, StatusCode, header};
    use axum::response::IntoResponse;

    async fn handle(body: axum::body::Bytes) -> axum::response::Response {
        let Ok(request) = serde_json::from_slice::<Value>(&body) else {
            return StatusCode::BAD_REQUEST.into_response();
        };
        let Some(id) = request.get("id").cloned() else {
            // A notification: accepted, nothing to answer.
            return StatusCode::ACCEPTED.into_response();
        };
        let mut headers = HeaderMap::new();
        headers.insert(header::CONTENT_TYPE, "application/json".parse().unwrap());
        let result = match request["method"].as_str() {
            Some("initialize") => {
                headers.insert("mcp-session-id", "raw".parse().unwrap());
                json!({
                    "protocolVersion": "2025-06-18",
                    "capabilities": {"tools": {}},
                    "serverInfo": {"name": "null-mcp-server-raw", "version": env!("CARGO_PKG_VERSION")}
                })
            }
            Some("tools/call") => {
                let arguments = request["params"]["arguments"].clone();
                json!({
                    "content": [{"type": "text", "text": json!({"echo": arguments}).to_string()}],
                    "structuredContent": {"echo": arguments},
                    "isError": false
                })
            }
            _ => json!({}),
        };
        let answer = json!({"jsonrpc": "2.0", "id": id, "result": result});
        (headers, answer.to_string()).into_response()
    }

    let app = axum::Router::new().route(
        "/mcp",
        axum::routing::post(handle).delete(|| async { StatusCode::OK }),
    );
    serve_app(addr, app).await
}
