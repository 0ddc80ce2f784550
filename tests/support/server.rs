//! Spawning the real `orderdesk-mcp` binary and driving it with rmcp's client over stdio.

#![allow(dead_code)] // each test binary uses a different part of this module

use std::path::{Path, PathBuf};
use std::process::Stdio;

use orderdesk_sim::{DEMO_API_KEY, DEMO_STORE_ID, SimConfig, SimHandle, Simulator};
use rmcp::model::{CallToolRequestParams, CallToolResult, JsonObject};
use rmcp::service::RunningService;
use rmcp::transport::{ConfigureCommandExt, TokioChildProcess};
use rmcp::{ClientHandler, RoleClient, ServiceExt};
use serde_json::{Value, json};
use tokio::process::Command;

/// The binary cargo built for these tests.
pub fn binary() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_orderdesk-mcp"))
}

/// A fresh data directory under the target dir (kept after the test for post-mortems;
/// removed at the start of the next run), private to this user as the server requires
/// of a data directory that holds more than its own files.
pub fn fresh_dir(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(name);
    let _ = std::fs::remove_dir_all(&dir);
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder.create(&dir).unwrap();
    dir
}

/// How to start a server.
pub struct Launch<'a> {
    pub data_dir: &'a Path,
    pub args: Vec<String>,
    pub env: Vec<(String, String)>,
}

impl<'a> Launch<'a> {
    pub fn new(data_dir: &'a Path) -> Launch<'a> {
        Launch {
            data_dir,
            args: vec!["serve".into()],
            env: Vec::new(),
        }
    }

    pub fn sandbox(mut self) -> Self {
        self.args.push("--sandbox".into());
        self
    }

    pub fn arg(mut self, arg: impl Into<String>) -> Self {
        self.args.push(arg.into());
        self
    }

    pub fn env(mut self, name: &str, value: impl Into<String>) -> Self {
        self.env.push((name.into(), value.into()));
        self
    }

    /// The command, isolated from the caller's environment settings.
    pub fn command(&self) -> Command {
        let mut cmd = Command::new(binary());
        cmd.arg("--data-dir").arg(self.data_dir).args(&self.args);
        for var in [
            "ORDERDESK_MCP_MASTER_KEY",
            "ORDERDESK_MCP_COMPONENTS",
            "ORDERDESK_API_BASE",
            "ORDERDESK_MCP_SANDBOX",
            "ORDERDESK_MCP_CONFIG",
            "ORDERDESK_MCP_LOG_FORMAT",
        ] {
            cmd.env_remove(var);
        }
        cmd.env("ORDERDESK_MCP_BCRYPT_COST", "4");
        cmd.env("ORDERDESK_MCP_LOG", "info");
        // The tests' OrderDesk is a simulator on loopback http://, and they register
        // stores through `stores_register` with the master key in the environment; both
        // are refused by default (tests/trust.rs checks that), so allowed here. A test
        // can set either back with `.env(…)`.
        cmd.env("ORDERDESK_MCP_INSECURE_API_BASE", "true");
        cmd.env("ORDERDESK_MCP_SECRET_ARGUMENTS", "true");
        for (k, v) in &self.env {
            cmd.env(k, v);
        }
        cmd
    }

    /// Spawn the server with `handler` as the client side; its stderr goes to
    /// `<data_dir>/stderr.log`.
    pub async fn start_with<H: ClientHandler>(&self, handler: H) -> RunningService<RoleClient, H> {
        self.start_with_pid(handler).await.0
    }

    /// Like [`Launch::start_with`], also returning the server's process id.
    pub async fn start_with_pid<H: ClientHandler>(
        &self,
        handler: H,
    ) -> (RunningService<RoleClient, H>, u32) {
        let stderr = std::fs::File::create(self.stderr_path()).unwrap();
        let cmd = self.command().configure(|_| {});
        let (transport, _) = TokioChildProcess::builder(cmd)
            .stderr(Stdio::from(stderr))
            .spawn()
            .expect("spawn orderdesk-mcp");
        let pid = transport.id().expect("the child has a pid");
        let client = handler.serve(transport).await.unwrap_or_else(|e| {
            panic!(
                "the server did not initialize: {e}\nstderr:\n{}",
                std::fs::read_to_string(self.stderr_path()).unwrap_or_default()
            )
        });
        (client, pid)
    }

    pub async fn start(&self) -> RunningService<RoleClient, ()> {
        self.start_with(()).await
    }

    pub fn stderr_path(&self) -> PathBuf {
        self.data_dir.join("stderr.log")
    }

    pub fn stderr(&self) -> String {
        std::fs::read_to_string(self.stderr_path()).unwrap_or_default()
    }
}

/// Call `tool` with JSON `arguments` (an object). Every successful answer is checked
/// as a client that trusts the server's promises would: its `structuredContent`
/// against the tool's `outputSchema` (a real JSON Schema validator), and its text copy
/// against its `structuredContent` (the same
/// data; see `host/src/mcp/results.rs`).
pub async fn call<H: ClientHandler>(
    client: &RunningService<RoleClient, H>,
    tool: &str,
    arguments: Value,
) -> CallToolResult {
    let Value::Object(arguments) = arguments else {
        panic!("arguments must be a JSON object")
    };
    let result = client
        .call_tool(
            CallToolRequestParams::new(tool.to_string()).with_arguments(arguments as JsonObject),
        )
        .await
        .unwrap_or_else(|e| panic!("tools/call {tool} failed at the protocol level: {e}"));
    if result.is_error != Some(true) {
        check_answer(client, tool, &result).await;
    }
    result
}

/// The first-party tool groups, whose every tool must declare an `outputSchema`.
pub const FIRST_PARTY_PREFIXES: &[&str] = &[
    "tenant_",
    "audit_",
    "stores_",
    "orders_",
    "order_items_",
    "shipments_",
    "inventory_",
];

/// `result` (a success of `tool`) matches the tool's `outputSchema`, and its text copy
/// holds the same data as its `structuredContent`.
pub async fn check_answer<H: ClientHandler>(
    client: &RunningService<RoleClient, H>,
    tool: &str,
    result: &CallToolResult,
) {
    let structured = result
        .structured_content
        .as_ref()
        .unwrap_or_else(|| panic!("`{tool}` answered without structuredContent"));
    // Listed afresh each time: a --watch reload may have changed the schema.
    let tools = client
        .list_all_tools()
        .await
        .unwrap_or_else(|e| panic!("tools/list failed: {e}"));
    let listed = tools.iter().find(|t| t.name == tool);
    let schema = listed.and_then(|t| t.output_schema.as_ref());
    // That every first-party tool has one is tests/answers.rs's to check.
    if let Some(schema) = schema {
        let schema = Value::Object(schema.as_ref().clone());
        let validator = jsonschema::validator_for(&schema).unwrap_or_else(|e| {
            panic!("the outputSchema of `{tool}` is not a valid JSON Schema: {e}")
        });
        let problems: Vec<String> = validator
            .iter_errors(structured)
            .map(|e| format!("{} at {}", e, e.instance_path()))
            .collect();
        assert!(
            problems.is_empty(),
            "the answer of `{tool}` does not match its outputSchema:\n{}\n{structured:#}",
            problems.join("\n")
        );
    }
    let text = text_of(result);
    // JSON first: TOON's decoder would take a JSON text for something else.
    let copy = serde_json::from_str::<Value>(&text)
        .or_else(|_| toon_format::decode_default::<Value>(&text))
        .unwrap_or_else(|e| {
            panic!("the text copy of `{tool}` is neither TOON nor JSON ({e}):\n{text}")
        });
    assert!(
        same_data(&copy, structured),
        "the text copy of `{tool}` differs from its structuredContent:\n{text}\n{structured:#}"
    );
}

/// Equal as data: numbers compare by value (TOON writes `40.0` as `40`).
fn same_data(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => x.as_f64() == y.as_f64(),
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(x, y)| same_data(x, y))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len()
                && x.iter()
                    .all(|(key, x)| y.get(key).is_some_and(|y| same_data(x, y)))
        }
        _ => a == b,
    }
}

/// The structured content of a successful result (panics with the message otherwise).
pub fn ok(result: &CallToolResult) -> Value {
    assert_ne!(
        result.is_error,
        Some(true),
        "expected success, got an error result: {}",
        text_of(result)
    );
    result
        .structured_content
        .clone()
        .expect("results carry structuredContent")
}

/// The error message of an `isError` result (panics on success).
pub fn err(result: &CallToolResult) -> String {
    assert_eq!(
        result.is_error,
        Some(true),
        "expected an error result, got {}",
        text_of(result)
    );
    text_of(result)
}

/// The text content of a result.
pub fn text_of(result: &CallToolResult) -> String {
    result
        .content
        .iter()
        .filter_map(|c| c.as_text().map(|t| t.text.clone()))
        .collect::<Vec<_>>()
        .join("\n")
}

/// Create a tenant with the CLI; returns (tenant id, master key).
pub fn create_tenant(data_dir: &Path) -> (String, String) {
    let output = std::process::Command::new(binary())
        .arg("--data-dir")
        .arg(data_dir)
        .args(["tenant", "create", "--json"])
        .env("ORDERDESK_MCP_BCRYPT_COST", "4")
        .output()
        .expect("run tenant create");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let created: Value = serde_json::from_slice(&output.stdout).expect("tenant create --json");
    (
        created["tenant_id"].as_str().unwrap().to_string(),
        created["master_key"].as_str().unwrap().to_string(),
    )
}

/// A running server with its own simulator, a tenant made with the CLI and the demo store
/// registered through `stores_register` (so requests go vault → gateway → HTTP).
pub struct Fixture {
    pub sim: SimHandle,
    pub client: RunningService<RoleClient, ()>,
}

/// Start a [`Fixture`] in a fresh data directory named `name`.
pub async fn fixture(name: &str) -> Fixture {
    let dir = fresh_dir(name);
    let sim = Simulator::spawn(SimConfig::sandbox()).await.unwrap();
    let (_, master_key) = create_tenant(&dir);
    let launch = Launch::new(&dir)
        .env("ORDERDESK_API_BASE", sim.api_base())
        .env("ORDERDESK_MCP_MASTER_KEY", master_key);
    let client = launch.start().await;
    let saved = register_demo_store(&client).await;
    assert_eq!(
        saved["registered"]["active"], true,
        "the first store becomes active"
    );
    Fixture { sim, client }
}

/// Register the simulator's demo store (named `demo`) with `stores_register`; returns
/// the tool's result, checked to name the demo store.
pub async fn register_demo_store(client: &RunningService<RoleClient, ()>) -> Value {
    let saved = ok(&call(
        client,
        "stores_register",
        json!({"store_id": DEMO_STORE_ID, "api_key": DEMO_API_KEY, "store_name": "demo"}),
    )
    .await);
    assert_eq!(saved["registered"]["store_id"], DEMO_STORE_ID, "{saved}");
    saved
}

/// Poll `check` until it holds; panic naming `what` after 20 s.
pub async fn eventually<F: AsyncFnMut() -> bool>(what: &str, mut check: F) {
    for _ in 0..200 {
        if check().await {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("timed out waiting for: {what}");
}

/// Allow the component file `wasm` to run under `name`, as an operator's
/// `orderdesk-mcp components trust WASM --write` would: its `[components.NAME]` entry
/// (its sha256, the grants its manifest asks for) written into the config file
/// `config`. Written through the host library, not the binary: `components trust`
/// compiles the component first, which a debug build does slowly for a large one.
pub fn trust_component(config: &Path, wasm: &Path, name: &str) {
    use orderdesk_host::app::trust::{entry_for_file, write_entry};
    let entry = entry_for_file(wasm).expect("a readable component and manifest");
    write_entry(config, name, &entry).expect("write the trust entry");
}
