//! The remote server as its users run it: `orderdesk-mcp serve --http 127.0.0.1:0` (the
//! real binary), tenants, stores and access tokens made with the real CLI, and MCP
//! clients connecting over real HTTP with a bearer token.

#![allow(dead_code)] // each test binary uses a different part of this module

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use orderdesk_sim::{DEMO_API_KEY, DEMO_STORE_ID};
use rmcp::service::RunningService;
use rmcp::transport::StreamableHttpClientTransport;
use rmcp::transport::streamable_http_client::StreamableHttpClientTransportConfig;
use rmcp::{ClientHandler, RoleClient, ServiceExt};
use serde_json::Value;

use super::server::{binary, create_tenant};

/// A running `serve --http` process; killed when dropped.
pub struct HttpServer {
    pub child: tokio::process::Child,
    /// `http://127.0.0.1:PORT`
    pub base: String,
    pub data_dir: PathBuf,
}

impl HttpServer {
    /// Start `orderdesk-mcp serve --http 127.0.0.1:0 EXTRA…` in `data_dir` with
    /// OrderDesk at `api_base` (`None`: `--sandbox`), and wait for it to listen.
    pub async fn start(
        data_dir: &Path,
        api_base: Option<&str>,
        extra: &[&str],
        env: &[(&str, &str)],
    ) -> HttpServer {
        let stderr = std::fs::File::create(data_dir.join("stderr.log")).unwrap();
        let mut cmd = tokio::process::Command::new(binary());
        cmd.arg("--data-dir")
            .arg(data_dir)
            .args(["serve", "--http", "127.0.0.1:0"])
            .args(extra);
        for var in [
            "ORDERDESK_MCP_MASTER_KEY",
            "ORDERDESK_MCP_COMPONENTS",
            "ORDERDESK_API_BASE",
            "ORDERDESK_MCP_SANDBOX",
            "ORDERDESK_MCP_CONFIG",
            "ORDERDESK_MCP_HTTP",
            "ORDERDESK_MCP_PUBLIC_URL",
            "RUST_BACKTRACE",
        ] {
            cmd.env_remove(var);
        }
        cmd.env("ORDERDESK_MCP_BCRYPT_COST", "4")
            .env("ORDERDESK_MCP_LOG", "info")
            .env("ORDERDESK_MCP_LOG_FORMAT", "json")
            .env("ORDERDESK_MCP_INSECURE_API_BASE", "true");
        match api_base {
            Some(base) => {
                cmd.env("ORDERDESK_API_BASE", base);
            }
            None => {
                cmd.arg("--sandbox");
            }
        }
        for (name, value) in env {
            cmd.env(name, value);
        }
        let child = cmd
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::from(stderr))
            .kill_on_drop(true)
            .spawn()
            .expect("spawn orderdesk-mcp serve --http");
        let mut server = HttpServer {
            child,
            base: String::new(),
            data_dir: data_dir.to_path_buf(),
        };
        for _ in 0..600 {
            if let Some(addr) = server.listening_on() {
                server.base = format!("http://{addr}");
                return server;
            }
            if let Ok(Some(status)) = server.child.try_wait() {
                panic!("the server exited ({status}):\n{}", server.stderr());
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!(
            "the server did not listen within 30 s:\n{}",
            server.stderr()
        );
    }

    /// The address from the `serving MCP over HTTP at http://ADDR/mcp` log line.
    fn listening_on(&self) -> Option<String> {
        let stderr = self.stderr();
        let line = stderr
            .lines()
            .find(|line| line.contains("serving MCP over HTTP at"))?;
        let start = line.find("http://")? + "http://".len();
        let rest = &line[start..];
        Some(rest[..rest.find("/mcp")?].to_string())
    }

    pub fn stderr(&self) -> String {
        std::fs::read_to_string(self.data_dir.join("stderr.log")).unwrap_or_default()
    }

    /// `http://127.0.0.1:PORT/mcp`
    pub fn mcp_url(&self) -> String {
        format!("{}/mcp", self.base)
    }

    pub fn pid(&self) -> u32 {
        self.child.id().expect("running")
    }

    /// An MCP client session with `token`.
    pub async fn connect(&self, token: &str) -> RunningService<RoleClient, ()> {
        self.connect_with(token, ()).await
    }

    /// An MCP client session with `token` and `handler` as the client side.
    pub async fn connect_with<H: ClientHandler>(
        &self,
        token: &str,
        handler: H,
    ) -> RunningService<RoleClient, H> {
        let transport = StreamableHttpClientTransport::with_client(
            reqwest::Client::new(),
            StreamableHttpClientTransportConfig::with_uri(self.mcp_url()).auth_header(token),
        );
        handler.serve(transport).await.unwrap_or_else(|e| {
            panic!(
                "the MCP handshake over HTTP failed: {e}\nstderr:\n{}",
                self.stderr()
            )
        })
    }

    /// The sandbox's access token (`serve --sandbox --http` writes it).
    pub fn sandbox_token(&self) -> String {
        std::fs::read_to_string(self.data_dir.join("sandbox").join("access-token"))
            .expect("the sandbox writes its access token")
    }
}

/// Run the CLI in `data_dir` with `master_key` in the environment; returns stdout,
/// panicking with stderr on failure.
pub fn cli(data_dir: &Path, master_key: &str, args: &[&str], stdin: Option<&str>) -> String {
    let (ok, stdout, stderr) = try_cli(data_dir, master_key, args, stdin);
    assert!(ok, "orderdesk-mcp {args:?} failed:\n{stderr}");
    stdout
}

/// Run the CLI; (success, stdout, stderr).
pub fn try_cli(
    data_dir: &Path,
    master_key: &str,
    args: &[&str],
    stdin: Option<&str>,
) -> (bool, String, String) {
    try_cli_env(data_dir, master_key, args, stdin, &[])
}

/// A tenant with the simulator's demo store registered as `demo` (through the CLI,
/// checked with the simulator at `api_base`); returns (tenant id, master key).
pub fn tenant_with_demo_store(data_dir: &Path, api_base: &str) -> (String, String) {
    let (tenant_id, master_key) = create_tenant(data_dir);
    let (ok, _, stderr) = try_cli_env(
        data_dir,
        &master_key,
        &[
            "stores",
            "add",
            "--store-id",
            DEMO_STORE_ID,
            "--name",
            "demo",
        ],
        Some(DEMO_API_KEY),
        &[("ORDERDESK_API_BASE", api_base)],
    );
    assert!(ok, "stores add: {stderr}");
    (tenant_id, master_key)
}

/// Run the CLI with `env` set too; (success, stdout, stderr).
pub fn try_cli_env(
    data_dir: &Path,
    master_key: &str,
    args: &[&str],
    stdin: Option<&str>,
    env: &[(&str, &str)],
) -> (bool, String, String) {
    use std::io::Write;
    let mut cmd = std::process::Command::new(binary());
    cmd.arg("--data-dir")
        .arg(data_dir)
        .args(args)
        .env("ORDERDESK_MCP_MASTER_KEY", master_key)
        .env("ORDERDESK_MCP_BCRYPT_COST", "4")
        .env("ORDERDESK_MCP_INSECURE_API_BASE", "true")
        .env_remove("ORDERDESK_MCP_CONFIG");
    for (name, value) in env {
        cmd.env(name, value);
    }
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run orderdesk-mcp");
    if let Some(input) = stdin {
        child
            .stdin
            .take()
            .unwrap()
            .write_all(input.as_bytes())
            .unwrap();
    }
    drop(child.stdin.take());
    let output = child.wait_with_output().unwrap();
    (
        output.status.success(),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

/// `token create --json` with `args`; returns (token, token id).
pub fn create_token(data_dir: &Path, master_key: &str, args: &[&str]) -> (String, String) {
    let mut all = vec!["token", "create", "--json"];
    all.extend_from_slice(args);
    let created: Value = serde_json::from_str(&cli(data_dir, master_key, &all, None))
        .expect("token create --json prints JSON");
    (
        created["token"].as_str().expect("the token").to_string(),
        created["token_id"].as_str().expect("its id").to_string(),
    )
}

/// The Python of a venv (`<repo>/target/py-mcp-venv`) holding the official MCP Python
/// SDK at the version pinned in `tests/support/python/requirements-mcp.txt`, made and
/// installed on first use (needs `python3` and PyPI the first time).
pub fn mcp_sdk_python() -> PathBuf {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
    let requirements = root.join("tests/support/python/requirements-mcp.txt");
    let pinned = std::fs::read_to_string(&requirements)
        .unwrap()
        .lines()
        .find_map(|line| line.trim().strip_prefix("mcp==").map(str::to_string))
        .expect("requirements-mcp.txt pins mcp==VERSION");
    let venv = root.join("target").join("py-mcp-venv");
    let python = venv.join("bin").join("python");
    let run = |cmd: &mut std::process::Command, what: &str| {
        let output = cmd.output().unwrap_or_else(|e| panic!("{what}: {e}"));
        assert!(
            output.status.success(),
            "{what} failed:\n{}\n{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8_lossy(&output.stdout).trim().to_string()
    };
    if !python.exists() {
        let interpreter = std::env::var_os("PYTHON").unwrap_or_else(|| "python3".into());
        run(
            std::process::Command::new(interpreter)
                .args(["-m", "venv"])
                .arg(&venv),
            "python3 -m venv",
        );
    }
    let installed = std::process::Command::new(&python)
        .args([
            "-c",
            "import importlib.metadata as m; print(m.version('mcp'))",
        ])
        .output()
        .ok()
        .filter(|output| output.status.success())
        .map(|output| String::from_utf8_lossy(&output.stdout).trim().to_string());
    if installed.as_deref() != Some(pinned.as_str()) {
        run(
            std::process::Command::new(&python)
                .args([
                    "-m",
                    "pip",
                    "install",
                    "--disable-pip-version-check",
                    "--no-input",
                    "-r",
                ])
                .arg(&requirements)
                .env_remove("PIP_REQUIRE_VIRTUALENV"),
            "pip install -r tests/support/python/requirements-mcp.txt",
        );
    }
    python
}
