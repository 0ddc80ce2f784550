//! `hostile`: a test-only component that misbehaves on purpose, so the host's sandbox,
//! limits and grant checks can be tested against it.
//!
//! Imports from `orderdesk:mcp`: `orderdesk` and `log` (plus `types`), nothing else. The
//! std probes (`hostile_read_file`, `hostile_env`, `hostile_socket`) and the panic pull in
//! WASI imports, which the host answers with an empty, deny-everything WASI context.
//!
//! Never embedded in the host and never shipped: built by the test suite only. It
//! implements the WIT `Guest` directly rather than through the kit's tool table: its
//! tools answer what a well-behaved table never would (text that is not JSON, traps).

use std::hint::black_box;

use orderdesk_tool_kit::orderdesk::{self, ApiRequest, CacheMode, Method};
use orderdesk_tool_kit::{
    Annotations, Args, Guest, HostError, Tool, ToolError, ToolResult, UpstreamError, annotations,
    log,
};
use serde_json::{Value, json};

struct Hostile;

fn tool(
    name: &str,
    title: &str,
    description: &str,
    schema: Value,
    annotations: Annotations,
) -> Tool {
    Tool {
        name: name.to_string(),
        title: Some(title.to_string()),
        description: description.to_string(),
        input_schema: schema.to_string(),
        output_schema: None,
        annotations,
    }
}

fn ok_json(result: Value) -> ToolResult {
    Ok(result.to_string())
}

/// An object schema without arguments.
fn no_args() -> Value {
    json!({"type": "object", "properties": {}, "additionalProperties": false})
}

/// A tool that changes nothing.
fn read_only(name: &str, title: &str, description: &str, schema: Value) -> Tool {
    tool(
        name,
        title,
        description,
        schema,
        annotations(true, false, true, false),
    )
}

/// What the host answered when `list` itself asked for OrderDesk requests: a list
/// must not reach the session's tenant or change anything, so each should be refused.
/// Reported in the description of `hostile_list_probe`.
fn probe_from_list() -> String {
    let outcome = |method: Method, path: &str, body: Option<String>| {
        let request = ApiRequest {
            method,
            path: path.to_string(),
            query: Vec::new(),
            body,
            store: None,
            cache: CacheMode::Bypass,
        };
        match orderdesk::send(&request) {
            Ok(response) => format!("ok {}", response.status),
            Err(error) => error_kind(error).0.to_string(),
        }
    };
    format!(
        "What the host answered list(): GET /store -> {}; POST /orders -> {}.",
        outcome(Method::Get, "/store", None),
        outcome(Method::Post, "/orders", Some("{}".into()))
    )
}

impl Guest for Hostile {
    fn list() -> Vec<Tool> {
        vec![
            read_only(
                "hostile_list_probe",
                "List probe",
                &probe_from_list(),
                no_args(),
            ),
            read_only(
                "hostile_echo",
                "Echo",
                "A healthy tool: returns its arguments as {\"echo\": arguments}.",
                json!({"type": "object", "properties": {}, "additionalProperties": true}),
            ),
            read_only(
                "hostile_loop",
                "Loop forever",
                "Spins in an infinite loop (tests the CPU limit).",
                no_args(),
            ),
            read_only(
                "hostile_memory",
                "Allocate without bound",
                "Allocates 1 MiB blocks and keeps them, up to 8 GiB (tests the memory limit).",
                no_args(),
            ),
            read_only(
                "hostile_big_result",
                "Huge result",
                "Returns a ~100 MB JSON result (tests the result size limit).",
                no_args(),
            ),
            read_only(
                "hostile_big_error",
                "Huge error",
                "Fails with a ~10 MB error message (tests that error messages are bounded too).",
                no_args(),
            ),
            read_only(
                "hostile_panic",
                "Panic",
                "Panics (the component traps).",
                no_args(),
            ),
            read_only(
                "hostile_bad_json",
                "Invalid JSON result",
                "Returns a result that is not JSON.",
                no_args(),
            ),
            read_only(
                "hostile_read_file",
                "Read a file",
                "Tries to read a host file and list the current directory through WASI.",
                json!({
                    "type": "object",
                    "properties": {
                        "path": {"type": "string", "description": "File to read (default /etc/passwd)."}
                    },
                    "additionalProperties": false
                }),
            ),
            read_only(
                "hostile_env",
                "Read the environment",
                "Returns the environment variables, HOME and the arguments WASI shows it.",
                no_args(),
            ),
            read_only(
                "hostile_socket",
                "Open sockets",
                "Tries to connect to 127.0.0.1:port and to listen on 127.0.0.1:0 through WASI.",
                json!({
                    "type": "object",
                    "properties": {
                        "port": {"type": "integer", "minimum": 0, "maximum": 65535,
                                 "description": "Port to connect to (default 80)."}
                    },
                    "additionalProperties": false
                }),
            ),
            tool(
                "hostile_post",
                "POST an order",
                "Asks the host for POST /orders; reports the host's answer (or error kind) \
                 as the result.",
                no_args(),
                annotations(false, false, false, true),
            ),
            tool(
                "hostile_get",
                "GET /test",
                "Asks the host for GET /test; reports the host's answer (or error kind) as \
                 the result.",
                no_args(),
                annotations(true, false, true, true),
            ),
            read_only(
                "hostile_log_flood",
                "Flood the log",
                "Writes 100,000 log lines of 100 bytes (tests the log volume limit).",
                no_args(),
            ),
            read_only(
                "hostile_clock",
                "Read the clocks",
                "Reports the WASI wall clock (seconds since the Unix epoch) and whether the \
                 monotonic clock moves across a short busy loop.",
                no_args(),
            ),
        ]
    }

    fn call(name: String, arguments: String) -> ToolResult {
        let args: Args = serde_json::from_str(&arguments).map_err(|e| {
            ToolError::InvalidInput(format!("arguments are not a JSON object: {e}"))
        })?;
        match name.as_str() {
            "hostile_list_probe" => ok_json(json!({"description": probe_from_list()})),
            "hostile_echo" => ok_json(json!({"echo": Value::Object(args)})),
            "hostile_loop" => spin(),
            "hostile_memory" => hog_memory(),
            "hostile_big_result" => Ok(big_result()),
            "hostile_big_error" => Err(ToolError::Internal("e".repeat(10_000_000))),
            "hostile_panic" => panic!("hostile component panicked on purpose"),
            "hostile_bad_json" => Ok("{this is not json".to_string()),
            "hostile_read_file" => read_file(&args),
            "hostile_env" => env(),
            "hostile_socket" => socket(&args),
            "hostile_post" => send(
                Method::Post,
                "/orders",
                Some(r#"{"email":"x@example.com"}"#.to_string()),
            ),
            "hostile_get" => send(Method::Get, "/test", None),
            "hostile_log_flood" => log_flood(),
            "hostile_clock" => clock(),
            other => Err(ToolError::InvalidInput(format!(
                "the hostile component has no tool named `{other}`"
            ))),
        }
    }
}

/// Never returns: `black_box` keeps the optimizer from proving the loop useless.
fn spin() -> ToolResult {
    let mut counter = 0u64;
    loop {
        counter = black_box(counter.wrapping_add(1));
    }
}

/// Allocate and touch 1 MiB blocks until 8 GiB (beyond wasm32's 4 GiB address space,
/// so in practice until the allocator fails and the component traps).
fn hog_memory() -> ToolResult {
    const MIB: usize = 1 << 20;
    let mut blocks: Vec<Vec<u8>> = Vec::new();
    for i in 0..8 * 1024 {
        let block = vec![(i % 251) as u8 + 1; MIB];
        blocks.push(black_box(block));
    }
    let kept = black_box(&blocks).len();
    ok_json(json!({"allocated_mib": kept}))
}

/// `{"data":"xxx…"}` with 100,000,000 `x`.
fn big_result() -> String {
    const LEN: usize = 100_000_000;
    let mut out = String::with_capacity(LEN + 16);
    out.push_str(r#"{"data":""#);
    out.extend(std::iter::repeat_n('x', LEN));
    out.push_str(r#""}"#);
    out
}

fn probe<T>(result: std::io::Result<T>) -> (bool, Option<String>, Option<T>) {
    match result {
        Ok(v) => (true, None, Some(v)),
        Err(e) => (false, Some(e.to_string()), None),
    }
}

fn read_file(args: &Args) -> ToolResult {
    let path = args
        .get("path")
        .and_then(Value::as_str)
        .unwrap_or("/etc/passwd");
    let (file_ok, file_error, text) = probe(std::fs::read_to_string(path));
    let (dir_ok, dir_error, _) = probe(std::fs::read_dir(".").map(|entries| entries.count()));
    ok_json(json!({
        "read_file": {"ok": file_ok, "error": file_error, "bytes": text.map(|t| t.len())},
        "read_dir": {"ok": dir_ok, "error": dir_error},
    }))
}

fn env() -> ToolResult {
    let vars: serde_json::Map<String, Value> = std::env::vars()
        .map(|(k, v)| (k, Value::String(v)))
        .collect();
    let args: Vec<String> = std::env::args().collect();
    ok_json(json!({
        "vars": vars,
        "home": std::env::var("HOME").ok(),
        "args": args,
    }))
}

fn socket(args: &Args) -> ToolResult {
    let port = args
        .get("port")
        .and_then(Value::as_u64)
        .and_then(|p| u16::try_from(p).ok())
        .unwrap_or(80);
    let (connect_ok, connect_error, _) = probe(std::net::TcpStream::connect(("127.0.0.1", port)));
    let (bind_ok, bind_error, _) = probe(std::net::TcpListener::bind("127.0.0.1:0"));
    ok_json(json!({
        "connect": {"ok": connect_ok, "error": connect_error},
        "bind": {"ok": bind_ok, "error": bind_error},
    }))
}

/// One OrderDesk request through the host. The host's answer, error included, is the
/// tool's (successful) result so a test can read the error kind.
fn send(method: Method, path: &str, body: Option<String>) -> ToolResult {
    let request = ApiRequest {
        method,
        path: path.to_string(),
        query: Vec::new(),
        body,
        store: None,
        cache: CacheMode::Bypass,
    };
    match orderdesk::send(&request) {
        Ok(response) => ok_json(json!({"outcome": "ok", "status": response.status})),
        Err(error) => {
            let (kind, message) = error_kind(error);
            ok_json(json!({"outcome": "error", "kind": kind, "message": message}))
        }
    }
}

/// The WIT case name of a host error and its message.
fn error_kind(error: HostError) -> (&'static str, String) {
    match error {
        HostError::AccessDenied(m) => ("access-denied", m),
        HostError::NotAvailable(m) => ("not-available", m),
        HostError::Unauthenticated(m) => ("unauthenticated", m),
        HostError::InvalidInput(m) => ("invalid-input", m),
        HostError::NotFound(m) => ("not-found", m),
        HostError::Conflict(m) => ("conflict", m),
        HostError::RateLimited(ms) => ("rate-limited", format!("retry after {ms} ms")),
        HostError::Upstream(UpstreamError { status, message }) => {
            ("upstream", format!("HTTP {status}: {message}"))
        }
        HostError::OutcomeUnknown(m) => ("outcome-unknown", m),
        HostError::Internal(m) => ("internal", m),
    }
}

fn log_flood() -> ToolResult {
    const LINES: u32 = 100_000;
    let message = "x".repeat(100);
    for _ in 0..LINES {
        log::write(log::Level::Info, &message, &[]);
    }
    ok_json(json!({"written": LINES}))
}

fn clock() -> ToolResult {
    let wall = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let started = std::time::Instant::now();
    let mut counter = 0u64;
    for _ in 0..5_000_000 {
        counter = std::hint::black_box(counter + 1);
    }
    let elapsed_ns = started.elapsed().as_nanos() as u64;
    ok_json(json!({"wall_secs": wall, "monotonic_elapsed_ns": elapsed_ns, "spun": counter}))
}

orderdesk_tool_kit::bindings::export_tools!(Hostile);
