//! Figure 8: MCP over Streamable HTTP (`serve --http`), against the null server's
//! `--http` mode (rmcp's session manager under axum, nothing else) and, below it, its
//! `--http-raw` mode (HTTP and JSON, no MCP library: the floor).
//!
//! - calls/s and p50/p99 of the trivial tool (`echo`) with 1, 8 and 64 concurrent
//!   clients, each its own MCP session, for both servers; a cached `orders_get` with the
//!   same clients on ours;
//! - the server's CPU time per call (from `/proc`), which says where the time goes
//!   when client and server share this machine's two cores;
//! - the memory of 1,000 idle sessions over the idle server, for both servers.
//!
//! The clients are plain HTTP requests (reqwest, keep-alive, one connection per
//! client), not rmcp's client: a load generator must cost the shared CPU as little as
//! possible, and what is measured is the server.

use std::path::Path;
use std::process::Stdio;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::Child;

use crate::Paths;
use crate::client::{self, ECHO_ARGUMENTS, ECHO_TOOL};
use crate::report::{Report, Target};
use crate::stats::{Mem, Samples, cpu_time, fmt_mib, fresh_dir, us};

/// The concurrent clients of each load run.
const CLIENTS: [usize; 3] = [1, 8, 64];
/// How long each load run lasts (after its warm-up).
const RUN: Duration = Duration::from_secs(3);
/// Calls each client makes before a run is timed.
const WARM_UP_CALLS: usize = 20;
/// The idle sessions whose memory is measured.
const IDLE_SESSIONS: usize = 1_000;
/// Target: trivial calls per second with 8 clients.
const TARGET_CALLS_PER_S_AT_8: f64 = 5_000.0;
/// Target: the memory of [`IDLE_SESSIONS`] idle sessions, MB (10⁶ bytes).
const TARGET_IDLE_SESSIONS_MB: f64 = 50.0;
/// A request that takes longer than this fails the benchmark rather than hang it.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(60);

/// An MCP endpoint reached with plain HTTP requests.
struct Endpoint {
    http: reqwest::Client,
    url: String,
    token: Option<String>,
}

impl Endpoint {
    fn new(url: String, token: Option<String>) -> anyhow::Result<Endpoint> {
        let http = reqwest::Client::builder()
            .no_proxy()
            .tcp_nodelay(true)
            .timeout(REQUEST_TIMEOUT)
            .build()?;
        Ok(Endpoint { http, url, token })
    }

    fn request(&self, method: reqwest::Method, session: Option<&str>) -> reqwest::RequestBuilder {
        let mut request = self
            .http
            .request(method, &self.url)
            .header("accept", "application/json, text/event-stream")
            .header("content-type", "application/json");
        if let Some(token) = &self.token {
            request = request.bearer_auth(token);
        }
        if let Some(session) = session {
            request = request
                .header("mcp-session-id", session)
                .header("mcp-protocol-version", "2025-06-18");
        }
        request
    }

    /// `initialize` and `notifications/initialized`: a session, as a client opens one.
    async fn open_session(&self) -> anyhow::Result<String> {
        let initialize = json!({
            "jsonrpc": "2.0", "id": 0, "method": "initialize",
            "params": {
                "protocolVersion": "2025-06-18",
                "capabilities": {},
                "clientInfo": {"name": "orderdesk-bench", "version": "1"}
            }
        });
        let response = self
            .request(reqwest::Method::POST, None)
            .json(&initialize)
            .send()
            .await?;
        let status = response.status();
        let session = response
            .headers()
            .get("mcp-session-id")
            .and_then(|value| value.to_str().ok())
            .map(str::to_string);
        let body = response.text().await?;
        let session = session
            .with_context(|| format!("initialize answered {status} without a session: {body}"))?;
        answer_of(&body, 0).context("initialize")?;
        let initialized = json!({"jsonrpc": "2.0", "method": "notifications/initialized"});
        let response = self
            .request(reqwest::Method::POST, Some(&session))
            .json(&initialized)
            .send()
            .await?;
        anyhow::ensure!(
            response.status().is_success(),
            "notifications/initialized answered {}",
            response.status()
        );
        Ok(session)
    }

    /// One `tools/call`; its `result`, or an error when the call failed.
    async fn call(
        &self,
        session: &str,
        id: u64,
        tool: &str,
        arguments: &Value,
    ) -> anyhow::Result<Value> {
        let request = json!({
            "jsonrpc": "2.0", "id": id, "method": "tools/call",
            "params": {"name": tool, "arguments": arguments}
        });
        let response = self
            .request(reqwest::Method::POST, Some(session))
            .json(&request)
            .send()
            .await?;
        let status = response.status();
        let body = response.text().await?;
        anyhow::ensure!(status.is_success(), "tools/call {tool}: {status}: {body}");
        let result = answer_of(&body, id).with_context(|| format!("tools/call {tool}"))?;
        anyhow::ensure!(
            result["isError"] != json!(true),
            "tools/call {tool} answered an error: {result}"
        );
        Ok(result)
    }

    /// `DELETE /mcp`: end a session.
    async fn end_session(&self, session: &str) -> anyhow::Result<()> {
        let response = self
            .request(reqwest::Method::DELETE, Some(session))
            .send()
            .await?;
        anyhow::ensure!(
            response.status().is_success(),
            "DELETE /mcp answered {}",
            response.status()
        );
        Ok(())
    }
}

/// The JSON-RPC answer with `id` in a body that is either JSON or a server-sent event
/// stream (`data: {…}` lines); its `result`.
fn answer_of(body: &str, id: u64) -> anyhow::Result<Value> {
    let messages: Vec<Value> = if body.trim_start().starts_with('{') {
        vec![serde_json::from_str(body)?]
    } else {
        body.lines()
            .filter_map(|line| line.strip_prefix("data:"))
            .filter(|data| !data.trim().is_empty())
            .filter_map(|data| serde_json::from_str(data.trim()).ok())
            .collect()
    };
    let answer = messages
        .into_iter()
        .find(|message| message["id"] == json!(id))
        .with_context(|| format!("no answer with id {id} in: {body}"))?;
    if let Some(error) = answer.get("error") {
        anyhow::bail!("JSON-RPC error: {error}");
    }
    Ok(answer["result"].clone())
}

/// A server under test: its process, its endpoint and its name in the figures.
struct Server {
    child: Child,
    endpoint: Arc<Endpoint>,
    name: &'static str,
}

impl Server {
    fn pid(&self) -> anyhow::Result<u32> {
        self.child.id().context("the server exited")
    }

    async fn stop(mut self) -> anyhow::Result<()> {
        self.child.kill().await?;
        Ok(())
    }
}

/// `null-mcp-server MODE 127.0.0.1:0` (`--http`: rmcp's transport; `--http-raw`: no
/// MCP library), once it prints its address.
async fn start_null(paths: &Paths, mode: &str, name: &'static str) -> anyhow::Result<Server> {
    let mut child = client::null(paths)
        .args([mode, "127.0.0.1:0"])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .kill_on_drop(true)
        .spawn()
        .context("cannot start null-mcp-server --http")?;
    let stdout = child.stdout.take().context("no stdout")?;
    let mut lines = BufReader::new(stdout).lines();
    let url = loop {
        let line = tokio::time::timeout(Duration::from_secs(30), lines.next_line())
            .await
            .context("null-mcp-server did not listen within 30 s")??
            .context("null-mcp-server exited before listening")?;
        if let Some(url) = line.strip_prefix("listening on ") {
            break url.trim().to_string();
        }
    };
    Ok(Server {
        child,
        endpoint: Arc::new(Endpoint::new(url, None)?),
        name,
    })
}

/// `orderdesk-mcp serve --sandbox --http 127.0.0.1:0` with the trivial test component,
/// allowing enough sessions for the idle-session figure; once it listens.
async fn start_ours(paths: &Paths, data: &Path) -> anyhow::Result<Server> {
    fresh_dir(data)?;
    let components = client::components_dir(paths)?;
    // The operator's trust of the test components, and room for the idle sessions (a
    // tenant may hold 32 sessions by default).
    let trust = std::fs::read_to_string(client::trust_config(paths))?;
    let config = data.join("config.toml");
    std::fs::write(
        &config,
        format!(
            "{trust}\n[http]\nsessions_per_tenant = {}\n",
            IDLE_SESSIONS + 2 * CLIENTS[2]
        ),
    )?;
    let stderr_path = data.join("stderr.log");
    let stderr = std::fs::File::create(&stderr_path)?;
    let mut cmd = client::ours(
        paths,
        data,
        &[
            "--sandbox",
            "--components",
            &components.to_string_lossy(),
            "--http",
            "127.0.0.1:0",
        ],
    );
    cmd.env("ORDERDESK_MCP_CONFIG", &config);
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::from(stderr))
        .kill_on_drop(true)
        .spawn()
        .context("cannot start orderdesk-mcp serve --http")?;
    let started = Instant::now();
    let url = loop {
        let log = std::fs::read_to_string(&stderr_path).unwrap_or_default();
        if let Some(url) = log
            .lines()
            .find_map(|line| line.split("serving MCP over HTTP at ").nth(1))
        {
            // The URL ends where the log line's next field (or colour code) starts.
            let end = url
                .find(|c: char| c.is_whitespace() || c == '"' || c == '\u{1b}')
                .unwrap_or(url.len());
            break url[..end].to_string();
        }
        if let Some(status) = child.try_wait()? {
            anyhow::bail!("orderdesk-mcp exited ({status}):\n{log}");
        }
        anyhow::ensure!(
            started.elapsed() < Duration::from_secs(60),
            "orderdesk-mcp did not listen within 60 s:\n{log}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    let token = std::fs::read_to_string(data.join("sandbox").join("access-token"))
        .context("the sandbox's access token")?;
    Ok(Server {
        child,
        endpoint: Arc::new(Endpoint::new(url, Some(token.trim().to_string()))?),
        name: "orderdesk-mcp",
    })
}

/// One load run: its calls, how long they took together, and each call's latency.
struct Load {
    calls: usize,
    elapsed: Duration,
    latencies: Samples,
    /// The server's CPU time during the run.
    server_cpu: Duration,
}

impl Load {
    fn per_second(&self) -> f64 {
        self.calls as f64 / self.elapsed.as_secs_f64()
    }

    fn text(&mut self) -> String {
        format!(
            "{:.0}/s; {:.0} / {:.0} µs",
            self.per_second(),
            us(self.latencies.median()),
            us(self.latencies.pct(0.99))
        )
    }

    fn cpu_per_call_us(&self) -> f64 {
        us(self.server_cpu) / self.calls as f64
    }
}

/// `clients` sessions calling `tool` back to back for [`RUN`], after a warm-up.
async fn load(
    server: &Server,
    clients: usize,
    tool: &'static str,
    arguments: &Value,
) -> anyhow::Result<Load> {
    let mut sessions = Vec::with_capacity(clients);
    for _ in 0..clients {
        sessions.push(server.endpoint.open_session().await?);
    }
    let pid = server.pid()?;
    let start = Arc::new(tokio::sync::Barrier::new(clients + 1));
    let mut tasks = Vec::with_capacity(clients);
    for session in sessions.clone() {
        let endpoint = server.endpoint.clone();
        let arguments = arguments.clone();
        let start = start.clone();
        tasks.push(tokio::spawn(async move {
            let mut id = 1;
            for _ in 0..WARM_UP_CALLS {
                endpoint.call(&session, id, tool, &arguments).await?;
                id += 1;
            }
            start.wait().await;
            let deadline = Instant::now() + RUN;
            let mut latencies = Samples::with_capacity(4096);
            while Instant::now() < deadline {
                let started = Instant::now();
                endpoint.call(&session, id, tool, &arguments).await?;
                latencies.push(started.elapsed());
                id += 1;
            }
            anyhow::Ok(latencies)
        }));
    }
    start.wait().await;
    let cpu_before = cpu_time(pid)?;
    let started = Instant::now();
    let mut latencies = Samples::with_capacity(clients * 4096);
    for task in tasks {
        latencies.extend(&task.await??);
    }
    let elapsed = started.elapsed();
    let server_cpu = cpu_time(pid)?.saturating_sub(cpu_before);
    for session in &sessions {
        server.endpoint.end_session(session).await?;
    }
    Ok(Load {
        calls: latencies.len(),
        elapsed,
        latencies,
        server_cpu,
    })
}

/// The server's memory after [`IDLE_SESSIONS`] sessions were opened and left idle,
/// over its memory before (both after a settling pause); the sessions are ended after.
async fn idle_sessions(server: &Server) -> anyhow::Result<(Mem, Mem)> {
    let pid = server.pid()?;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let before = Mem::of(pid)?;
    let mut sessions = Vec::with_capacity(IDLE_SESSIONS);
    for _ in 0..IDLE_SESSIONS {
        sessions.push(server.endpoint.open_session().await?);
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    let after = Mem::of(pid)?;
    for session in &sessions {
        server.endpoint.end_session(session).await?;
    }
    Ok((before, after))
}

/// `after - before` in MB (10⁶ bytes) and per session in KiB.
fn growth(before: Mem, after: Mem) -> (f64, f64) {
    let kib = after.rss.saturating_sub(before.rss) as f64;
    (kib * 1024.0 / 1e6, kib / IDLE_SESSIONS as f64)
}

/// The id of an order of the sandbox's demo store, from `orders_list`.
async fn some_order_id(server: &Server) -> anyhow::Result<String> {
    let session = server.endpoint.open_session().await?;
    let result = server
        .endpoint
        .call(&session, 1, "orders_list", &json!({"limit": 1}))
        .await?;
    server.endpoint.end_session(&session).await?;
    let id = &result["structuredContent"]["orders"][0]["id"];
    id.as_str()
        .map(str::to_string)
        .or_else(|| id.as_u64().map(|n| n.to_string()))
        .with_context(|| format!("no order id in orders_list's answer: {result}"))
}

pub async fn run(paths: &Paths, report: &mut Report) -> anyhow::Result<()> {
    report.group("8. MCP over Streamable HTTP (clients on the same 2 cores)");
    report.note(&format!(
        "each client is one MCP session on its own keep-alive connection, calling back to \
         back for {} s; figures are calls/s; p50 / p99 latency",
        RUN.as_secs()
    ));
    let echo_arguments: Value = serde_json::from_str(ECHO_ARGUMENTS)?;

    // Memory first, on servers that have not yet grown their heaps under load.
    let null = start_null(paths, "--http", "null server").await?;
    let (before, after) = idle_sessions(&null).await?;
    let (null_mb, null_kib) = growth(before, after);
    let ours = start_ours(paths, &paths.work.join("http")).await?;
    // One session and call first, so the idle figure includes a used server.
    let warm = ours.endpoint.open_session().await?;
    ours.endpoint
        .call(&warm, 1, ECHO_TOOL, &echo_arguments)
        .await?;
    ours.endpoint.end_session(&warm).await?;
    let (before, after) = idle_sessions(&ours).await?;
    let (ours_mb, ours_kib) = growth(before, after);
    report.info(
        &format!("{IDLE_SESSIONS} idle sessions, null server: growth"),
        format!("{null_mb:.1} MB ({null_kib:.0} KiB each)"),
    );
    report.check(
        &format!("{IDLE_SESSIONS} idle sessions, ours: growth"),
        format!("{ours_mb:.1} MB ({ours_kib:.0} KiB each)"),
        Target::at_most(
            ours_mb,
            TARGET_IDLE_SESSIONS_MB,
            format!("≤ {TARGET_IDLE_SESSIONS_MB:.0} MB"),
        ),
    );
    report.info(
        "ours: idle server / with the sessions (RSS)",
        format!("{} / {}", fmt_mib(before.rss), fmt_mib(after.rss)),
    );

    // The floor: HTTP and JSON without any MCP library.
    let raw = start_null(paths, "--http-raw", "raw HTTP floor").await?;
    for clients in CLIENTS {
        for server in [&raw, &null, &ours] {
            let mut run = load(server, clients, ECHO_TOOL, &echo_arguments).await?;
            let figure = format!("echo, {clients} clients, {}", server.name);
            let text = run.text();
            if server.name == ours.name && clients == 8 {
                report.check(
                    &figure,
                    text,
                    Target::at_least(
                        run.per_second(),
                        TARGET_CALLS_PER_S_AT_8,
                        format!("≥ {TARGET_CALLS_PER_S_AT_8:.0}/s"),
                    ),
                );
            } else {
                report.info(&figure, text);
            }
            report.info(
                &format!("  server CPU per call ({})", server.name),
                format!("{:.0} µs", run.cpu_per_call_us()),
            );
        }
    }
    null.stop().await?;
    raw.stop().await?;

    let order_id = some_order_id(&ours).await?;
    let orders_get = json!({"order_id": order_id});
    for clients in CLIENTS {
        let mut run = load(&ours, clients, "orders_get", &orders_get).await?;
        report.info(
            &format!("orders_get (cached), {clients} clients, ours"),
            run.text(),
        );
        report.info(
            "  server CPU per call (orderdesk-mcp)",
            format!("{:.0} µs", run.cpu_per_call_us()),
        );
    }
    ours.stop().await?;
    Ok(())
}
