//! Spawning MCP servers (ours and the null server) and calling them with rmcp's client
//! over stdio, as an MCP client application would.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use anyhow::Context;
use rmcp::model::{CallToolRequestParams, CallToolResponse, JsonObject};
use rmcp::service::{Peer, RunningService};
use rmcp::transport::TokioChildProcess;
use rmcp::{RoleClient, ServiceExt};
use serde_json::Value;
use tokio::process::Command;

use crate::Paths;
use crate::stats::Mem;

/// The grants of the test component with many imports (`hostile.wasm`).
pub const HOSTILE_GRANTS: &str = "[grants]\norderdesk = \"read\"\nlog = true\n";
/// The echo component imports no host interface.
pub const ECHO_GRANTS: &str = "[grants]\n";

/// The trivial tool every per-call benchmark calls (of `echo.wasm`; the null server's
/// tool has the same name and answer).
pub const ECHO_TOOL: &str = "echo";

/// The arguments of every per-call benchmark call.
pub const ECHO_ARGUMENTS: &str = r#"{"ping": 1}"#;

/// A call that takes longer than this fails the benchmark (rather than hang it).
const CALL_TIMEOUT: Duration = Duration::from_secs(60);

/// A running server and the client connected to it.
pub struct Connection {
    pub client: RunningService<RoleClient, ()>,
    pub pid: u32,
}

impl Connection {
    pub fn peer(&self) -> Peer<RoleClient> {
        self.client.peer().clone()
    }

    /// Close stdin and wait for the server to exit.
    pub async fn stop(self) -> anyhow::Result<()> {
        self.client.cancel().await?;
        Ok(())
    }
}

/// Our server: `orderdesk-mcp --data-dir DATA serve EXTRA...`, isolated from the
/// caller's environment settings, logging at `info` (the default) to `DATA/stderr.log`.
pub fn ours(paths: &Paths, data_dir: &Path, extra: &[&str]) -> Command {
    let mut cmd = Command::new(&paths.server);
    cmd.arg("--data-dir").arg(data_dir).arg("serve").args(extra);
    for var in [
        "ORDERDESK_MCP_MASTER_KEY",
        "ORDERDESK_MCP_COMPONENTS",
        "ORDERDESK_MCP_CONFIG",
        "ORDERDESK_MCP_DATA_DIR",
        "ORDERDESK_MCP_SANDBOX",
        "ORDERDESK_MCP_WATCH",
        "ORDERDESK_MCP_LOG_FORMAT",
        "ORDERDESK_MCP_SERVER_KEY",
        "ORDERDESK_MCP_AUTO_PROVISION",
        "ORDERDESK_MCP_KEEP_STARTUP_MEMORY",
        "ORDERDESK_API_BASE",
    ] {
        cmd.env_remove(var);
    }
    cmd.env("ORDERDESK_MCP_LOG", "info");
    // The operator's trust of the test components (see `components_dir`).
    cmd.env("ORDERDESK_MCP_CONFIG", trust_config(paths));
    without_backtraces(cmd)
}

/// The config file that trusts the benchmark's test components (written by
/// `components_dir`): third-party components run only when the operator trusted them.
pub fn trust_config(paths: &Paths) -> PathBuf {
    paths.work.join("components").join("config.toml")
}

/// MCP clients start servers without `RUST_BACKTRACE`; with it set, every error value
/// captures a backtrace (wasmtime makes one each time a `Store` is dropped).
fn without_backtraces(mut cmd: Command) -> Command {
    cmd.env_remove("RUST_BACKTRACE")
        .env_remove("RUST_LIB_BACKTRACE");
    cmd
}

/// `orderdesk-mcp serve --sandbox --components DIR` with the trivial test component.
pub fn ours_sandbox(paths: &Paths, data_dir: &Path) -> anyhow::Result<Command> {
    let components = components_dir(paths)?;
    let components = components.to_string_lossy().into_owned();
    Ok(ours(
        paths,
        data_dir,
        &["--sandbox", "--components", components.as_str()],
    ))
}

/// The null server (one `echo` tool, no host).
pub fn null(paths: &Paths) -> Command {
    without_backtraces(Command::new(&paths.null_server))
}

/// `<work>/components/` holding the test components `echo.wasm` (the trivial tool) and
/// `hostile.wasm` (many imports), with their grants manifests.
pub fn components_dir(paths: &Paths) -> anyhow::Result<PathBuf> {
    let dir = paths.work.join("components");
    if !dir.join("hostile.wasm").is_file() {
        std::fs::create_dir_all(&dir)?;
        for (name, wasm, grants) in [
            ("echo", &paths.echo, ECHO_GRANTS),
            ("hostile", &paths.hostile, HOSTILE_GRANTS),
        ] {
            std::fs::write(dir.join(format!("{name}.toml")), grants)?;
            std::fs::copy(wasm, dir.join(format!("{name}.wasm"))).with_context(|| {
                format!(
                    "cannot copy the test component {} (build it with `cargo build --release \
                     --target wasm32-wasip2 --manifest-path components/Cargo.toml -p {name} \
                     --target-dir target/wasm`, or run `cargo xtask bench`)",
                    wasm.display()
                )
            })?;
        }
    }
    // Trusted as an operator would (`components trust --write`), each time: a rebuilt
    // component has a new hash.
    for name in ["echo", "hostile"] {
        let entry = orderdesk_host::app::trust::entry_for_file(&dir.join(format!("{name}.wasm")))?;
        orderdesk_host::app::trust::write_entry(&trust_config(paths), name, &entry)?;
    }
    Ok(dir)
}

/// Spawn `cmd` and complete the MCP handshake; its stderr goes to `stderr`.
pub async fn connect(cmd: Command, stderr: &Path) -> anyhow::Result<Connection> {
    let log = std::fs::File::create(stderr)
        .with_context(|| format!("cannot create {}", stderr.display()))?;
    let program = cmd.as_std().get_program().to_string_lossy().into_owned();
    let (transport, _) = TokioChildProcess::builder(cmd)
        .stderr(Stdio::from(log))
        .spawn()
        .with_context(|| format!("cannot start {program}"))?;
    let pid = transport.id().context("the child has no pid")?;
    let client = ().serve(transport).await.with_context(|| {
        format!(
            "{program} did not initialize; its stderr:\n{}",
            std::fs::read_to_string(stderr).unwrap_or_default()
        )
    })?;
    Ok(Connection { client, pid })
}

/// Parameters of a `tools/call` of `tool` with JSON `arguments` (an object).
pub fn params(tool: &str, arguments: &str) -> CallToolRequestParams {
    let arguments: JsonObject = match serde_json::from_str(arguments) {
        Ok(Value::Object(map)) => map,
        _ => panic!("arguments must be a JSON object: {arguments}"),
    };
    CallToolRequestParams::new(tool.to_string()).with_arguments(arguments)
}

/// One `tools/call`, timed from the request being sent to its answer being parsed;
/// an error result or a protocol error fails the benchmark.
pub async fn timed_call(
    peer: &Peer<RoleClient>,
    params: CallToolRequestParams,
) -> anyhow::Result<Duration> {
    let name = params.name.clone();
    let started = Instant::now();
    let response = tokio::time::timeout(CALL_TIMEOUT, peer.call_tool_once(params)).await;
    let elapsed = started.elapsed();
    let response = response
        .map_err(|_| anyhow::anyhow!("tools/call {name}: no answer in {CALL_TIMEOUT:?}"))?;
    match response.with_context(|| format!("tools/call {name}"))? {
        CallToolResponse::Complete(result) if result.is_error != Some(true) => Ok(elapsed),
        CallToolResponse::Complete(result) => {
            anyhow::bail!("tools/call {name} answered an error: {:?}", result.content)
        }
        _ => anyhow::bail!("tools/call {name} did not complete"),
    }
}

/// `n` sequential calls, each timed.
pub async fn sequential(
    peer: &Peer<RoleClient>,
    params: &CallToolRequestParams,
    n: usize,
    into: &mut crate::stats::Samples,
) -> anyhow::Result<()> {
    for _ in 0..n {
        into.push(timed_call(peer, params.clone()).await?);
    }
    Ok(())
}

/// One start of a server: process start → `initialize` done → `tools/list` answered.
#[derive(Debug)]
pub struct Start {
    pub time: Duration,
    pub tools: usize,
    /// The server's memory right after `tools/list`.
    pub memory: Mem,
}

/// Start a server, time it to `tools/list` answered, read its memory, stop it.
pub async fn start_to_tools_list(cmd: Command, stderr: &Path) -> anyhow::Result<Start> {
    let started = Instant::now();
    let connection = connect(cmd, stderr).await?;
    let tools = connection.client.list_all_tools().await?;
    let time = started.elapsed();
    let memory = Mem::of(connection.pid)?;
    connection.stop().await?;
    Ok(Start {
        time,
        tools: tools.len(),
        memory,
    })
}

/// A server in a fresh data directory `data`, started the way a server normally starts:
/// with the compile cache of an earlier start (a first start fills it and stops).
pub async fn start_warm(
    data: &Path,
    command: impl Fn() -> anyhow::Result<Command>,
) -> anyhow::Result<Connection> {
    crate::stats::fresh_dir(data)?;
    start_to_tools_list(command()?, &data.join("first-start-stderr.log")).await?;
    connect(command()?, &data.join("stderr.log")).await
}
