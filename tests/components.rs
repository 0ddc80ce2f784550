//! Component tests: real `.wasm` files (built from `components/testing/`) loaded by the
//! real binary. Loading rules (duplicates, grants, bounds), the compile cache, hostile
//! components contained at call time, and live reload.

#[path = "support/server.rs"]
mod server;
#[path = "support/test_components.rs"]
mod test_components;

use std::path::Path;
use std::process::Output;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use rmcp::ClientHandler;
use rmcp::service::NotificationContext;
use serde_json::{Value, json};
use server::{Launch, binary, call, err, eventually, fresh_dir, ok, trust_component};
use test_components::{copy_component, test_components_dir};

/// Grants that let `hostile` import everything it uses, OrderDesk read-only.
const HOSTILE_READ_ONLY: &str = "[grants]\norderdesk = \"read\"\nlog = true\n";

/// `orderdesk-mcp components list --json` with `components` as the components dir.
fn components_list(data_dir: &Path, components: &Path) -> Output {
    std::process::Command::new(binary())
        .arg("--data-dir")
        .arg(data_dir)
        .arg("--components")
        .arg(components)
        .args(["components", "list", "--json"])
        .env_remove("ORDERDESK_MCP_CONFIG")
        .output()
        .expect("run orderdesk-mcp components list")
}

/// Copy test component `name` into `extra` as `as_name` (with `manifest`) and trust it
/// in the config file `config`.
fn add_trusted(name: &str, extra: &Path, as_name: &str, manifest: Option<&str>, config: &Path) {
    copy_component(name, extra, as_name, manifest);
    trust_component(config, &extra.join(format!("{as_name}.wasm")), as_name);
}

fn stderr_of(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

#[test]
fn a_duplicate_tool_name_is_refused_naming_both_components() {
    test_components_dir();
    let dir = fresh_dir("components-duplicate");
    let extra = dir.join("components");
    let config = dir.join("data").join("config.toml");
    add_trusted("duplicate", &extra, "duplicate", None, &config);
    let output = components_list(&dir.join("data"), &extra);
    assert!(
        !output.status.success(),
        "a duplicate tool must stop start-up"
    );
    let stderr = stderr_of(&output);
    assert!(stderr.contains("tenant_info"), "{stderr}");
    assert!(
        stderr.contains("`duplicate`") && stderr.contains("`tenant`"),
        "{stderr}"
    );
}

#[test]
fn second_start_uses_the_on_disk_compile_cache() {
    test_components_dir();
    let dir = fresh_dir("components-cache");
    let extra = dir.join("components");
    let config = dir.join("data").join("config.toml");
    add_trusted("reload-v1", &extra, "probe", None, &config);
    let cache_of = |output: &Output| -> Vec<(String, String)> {
        assert!(output.status.success(), "{}", stderr_of(output));
        let list: Vec<Value> = serde_json::from_slice(&output.stdout).expect("JSON list");
        list.iter()
            .map(|c| {
                (
                    c["name"].as_str().unwrap().to_string(),
                    c["compile_cache"].as_str().unwrap().to_string(),
                )
            })
            .collect()
    };
    let first = cache_of(&components_list(&dir.join("data"), &extra));
    assert!(first.iter().any(|(name, _)| name == "probe"), "{first:?}");
    assert!(
        first.iter().all(|(_, cache)| cache == "compiled"),
        "{first:?}"
    );
    let second = cache_of(&components_list(&dir.join("data"), &extra));
    assert!(second.iter().all(|(_, cache)| cache == "hit"), "{second:?}");

    // A changed file is compiled afresh, never served stale from the cache.
    add_trusted("reload-v2", &extra, "probe", None, &config);
    let third = cache_of(&components_list(&dir.join("data"), &extra));
    let probe = third.iter().find(|(name, _)| name == "probe").unwrap();
    assert_eq!(probe.1, "compiled");
    assert!(
        third
            .iter()
            .filter(|(name, _)| name != "probe")
            .all(|(_, c)| c == "hit")
    );
}

#[test]
fn ungranted_imports_are_refused_at_load_listing_each() {
    test_components_dir();
    let dir = fresh_dir("components-ungranted");
    let extra = dir.join("components");
    // No manifest: `log` only, but hostile imports `orderdesk` too.
    add_trusted(
        "hostile",
        &extra,
        "hostile",
        None,
        &dir.join("data").join("config.toml"),
    );
    let output = components_list(&dir.join("data"), &extra);
    assert!(!output.status.success());
    let stderr = stderr_of(&output);
    assert!(stderr.contains("not granted"), "{stderr}");
    assert!(stderr.contains("orderdesk:mcp/orderdesk@0.1.0"), "{stderr}");
    assert!(stderr.contains("hostile.toml"), "{stderr}");

    // The operator's config narrows a grant below what the component needs: refused too.
    copy_component("hostile", &extra, "hostile", Some(HOSTILE_READ_ONLY));
    std::fs::write(
        dir.join("config.toml"),
        "[grants.hostile]\norderdesk = \"none\"\n",
    )
    .unwrap();
    trust_component(
        &dir.join("config.toml"),
        &extra.join("hostile.wasm"),
        "hostile",
    );
    let output = std::process::Command::new(binary())
        .arg("--data-dir")
        .arg(dir.join("data"))
        .arg("--components")
        .arg(&extra)
        .arg("--config")
        .arg(dir.join("config.toml"))
        .args(["components", "list"])
        .output()
        .unwrap();
    assert!(!output.status.success());
    assert!(stderr_of(&output).contains("orderdesk:mcp/orderdesk@0.1.0"));
}

#[test]
fn too_many_tools_or_a_huge_schema_are_refused_with_a_clear_error() {
    test_components_dir();
    let dir = fresh_dir("components-bounds");
    let extra = dir.join("components");
    let config = dir.join("data").join("config.toml");
    add_trusted("bloated", &extra, "bloated", None, &config);
    let stderr = stderr_of(&components_list(&dir.join("data"), &extra));
    assert!(stderr.contains("declares 1000 tools"), "{stderr}");

    std::fs::remove_file(extra.join("bloated.wasm")).unwrap();
    add_trusted("huge-schema", &extra, "huge_schema", None, &config);
    let stderr = stderr_of(&components_list(&dir.join("data"), &extra));
    assert!(
        stderr.contains("input schema of `huge_schema_tool`"),
        "{stderr}"
    );
    assert!(stderr.contains("bytes; at most"), "{stderr}");
}

/// A server with the hostile component, tight limits, and a memory limit large enough
/// that the 100 MB result reaches the result-size check.
async fn hostile_server(
    dir: &Path,
) -> (
    Launch<'_>,
    rmcp::service::RunningService<rmcp::RoleClient, ()>,
) {
    let extra = dir.join("components");
    std::fs::write(
        dir.join("config.toml"),
        "[limits]\ncpu_ms = 3000\nmemory_mib = 256\nresult_kib = 1024\n",
    )
    .unwrap();
    add_trusted(
        "hostile",
        &extra,
        "hostile",
        Some(HOSTILE_READ_ONLY),
        &dir.join("config.toml"),
    );
    let launch = Launch::new(dir)
        .sandbox()
        .arg("--components")
        .arg(extra.to_string_lossy().into_owned())
        .env(
            "ORDERDESK_MCP_CONFIG",
            dir.join("config.toml").to_string_lossy(),
        );
    let client = launch.start().await;
    (launch, client)
}

#[tokio::test]
async fn a_clocks_grant_gives_the_real_time() {
    test_components_dir();
    let dir = fresh_dir("components-clocks");
    let extra = dir.join("components");
    add_trusted(
        "hostile",
        &extra,
        "hostile",
        Some("[grants]\norderdesk = \"read\"\nlog = true\nclocks = true\n"),
        &dir.join("config.toml"),
    );
    let launch = Launch::new(&dir)
        .sandbox()
        .arg("--components")
        .arg(extra.to_string_lossy().into_owned());
    let client = launch.start().await;
    let clock = ok(&call(&client, "hostile_clock", json!({})).await);
    assert!(
        clock["wall_secs"].as_u64().unwrap() > 1_700_000_000,
        "{clock}"
    );
    assert!(
        clock["monotonic_elapsed_ns"].as_u64().unwrap() > 0,
        "{clock}"
    );
    client.cancel().await.unwrap();
}

#[tokio::test]
async fn hostile_components_are_contained_and_the_host_keeps_serving() {
    test_components_dir();
    let dir = fresh_dir("components-hostile");
    let (launch, client) = hostile_server(&dir).await;
    let healthy = async |client: &rmcp::service::RunningService<rmcp::RoleClient, ()>| {
        let echo = ok(&call(client, "hostile_echo", json!({"n": 1})).await);
        assert_eq!(echo["echo"]["n"], 1);
        let info = ok(&call(client, "tenant_info", json!({})).await);
        assert_eq!(info["authenticated"], true);
    };

    let message = err(&call(&client, "hostile_loop", json!({})).await);
    assert!(message.contains("CPU-time limit"), "{message}");
    healthy(&client).await;

    let message = err(&call(&client, "hostile_memory", json!({})).await);
    assert!(message.contains("memory limit"), "{message}");
    healthy(&client).await;

    let message = err(&call(&client, "hostile_big_result", json!({})).await);
    assert!(
        message.contains("result") && message.contains("limit"),
        "{message}"
    );
    healthy(&client).await;

    let message = err(&call(&client, "hostile_big_error", json!({})).await);
    assert!(message.contains("truncated"), "{}", &message[..200]);
    assert!(message.len() < 2 << 20, "{} bytes", message.len());
    healthy(&client).await;

    let message = err(&call(&client, "hostile_panic", json!({})).await);
    assert!(
        message.contains("hostile") && message.contains("failed"),
        "{message}"
    );
    healthy(&client).await;

    let message = err(&call(&client, "hostile_bad_json", json!({})).await);
    assert!(message.contains("invalid JSON"), "{message}");
    healthy(&client).await;

    // A read-only grant: a POST is denied at the call, a GET goes through.
    let post = ok(&call(&client, "hostile_post", json!({})).await);
    assert_eq!(post["outcome"], "error", "{post}");
    assert_eq!(post["kind"], "access-denied", "{post}");
    let get = ok(&call(&client, "hostile_get", json!({})).await);
    assert_eq!(get["outcome"], "ok", "{get}");

    // Nothing to reach: no files, no environment, no sockets.
    let files = ok(&call(&client, "hostile_read_file", json!({"path": "/etc/passwd"})).await);
    assert_eq!(files["read_file"]["ok"], false, "{files}");
    assert_eq!(files["read_dir"]["ok"], false, "{files}");
    let env = ok(&call(&client, "hostile_env", json!({})).await);
    assert_eq!(env["vars"], json!({}), "{env}");
    assert_eq!(env["home"], Value::Null);
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let net = ok(&call(&client, "hostile_socket", json!({"port": port})).await);
    assert_eq!(net["connect"]["ok"], false, "{net}");
    assert_eq!(net["bind"]["ok"], false, "{net}");
    listener.set_nonblocking(true).unwrap();
    assert!(listener.accept().is_err(), "nothing may have connected");

    // No clocks grant: the clocks are frozen at zero.
    let clock = ok(&call(&client, "hostile_clock", json!({})).await);
    assert_eq!(clock["wall_secs"], 0, "{clock}");
    assert_eq!(clock["monotonic_elapsed_ns"], 0, "{clock}");

    // Log output is bounded per call.
    ok(&call(&client, "hostile_log_flood", json!({})).await);
    healthy(&client).await;
    client.cancel().await.unwrap();
    let stderr = launch.stderr();
    assert!(
        stderr.contains("over the per-call limit"),
        "the log bound was reported"
    );
    assert!(
        stderr.len() < 2 << 20,
        "stderr grew to {} bytes",
        stderr.len()
    );
}

/// Counts `notifications/tools/list_changed`.
#[derive(Clone, Default)]
struct ListChangedCounter(Arc<AtomicUsize>);

impl ClientHandler for ListChangedCounter {
    async fn on_tool_list_changed(&self, _context: NotificationContext<rmcp::RoleClient>) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

#[tokio::test]
async fn watch_reloads_changed_components_and_notifies_the_client() {
    test_components_dir();
    let dir = fresh_dir("components-reload");
    let extra = dir.join("components");
    add_trusted("reload-v1", &extra, "probe", None, &dir.join("config.toml"));
    let counter = ListChangedCounter::default();
    let launch = Launch::new(&dir)
        .sandbox()
        .arg("--watch")
        .arg("--components")
        .arg(extra.to_string_lossy().into_owned());
    let client = launch.start_with(counter.clone()).await;
    assert_eq!(
        ok(&call(&client, "reload_probe", json!({})).await)["version"],
        1
    );

    // Replace the file: new behaviour, a new tool, and a notification. The operator
    // trusts the new version first (the watcher reads the config again).
    trust_component(
        &dir.join("config.toml"),
        &test_components_dir().join("reload_v2.wasm"),
        "probe",
    );
    copy_component("reload-v2", &extra, "probe", None);
    eventually("tools/list_changed after the update", async || {
        counter.0.load(Ordering::SeqCst) >= 1
    })
    .await;
    assert_eq!(
        ok(&call(&client, "reload_probe", json!({})).await)["version"],
        2
    );
    let tools = client.list_all_tools().await.unwrap();
    assert!(tools.iter().any(|t| t.name == "reload_added"));

    // An invalid file is reported and skipped; the rest goes on.
    std::fs::write(extra.join("broken.wasm"), b"not a component").unwrap();
    eventually("the broken file reported", async || {
        launch.stderr().contains("broken.wasm")
    })
    .await;
    assert_eq!(
        ok(&call(&client, "reload_probe", json!({})).await)["version"],
        2
    );

    // Removing the file unloads its tools.
    let before = counter.0.load(Ordering::SeqCst);
    std::fs::remove_file(extra.join("probe.wasm")).unwrap();
    eventually("tools/list_changed after the removal", async || {
        counter.0.load(Ordering::SeqCst) > before
    })
    .await;
    let tools = client.list_all_tools().await.unwrap();
    assert!(!tools.iter().any(|t| t.name == "reload_probe"));
    assert!(tools.iter().any(|t| t.name == "tenant_info"));
    // The broken file, unchanged, was neither retried nor reported again by the rescans
    // since it failed.
    let reports = launch
        .stderr()
        .lines()
        .filter(|l| l.contains("broken.wasm"))
        .count();
    assert_eq!(reports, 1, "{}", launch.stderr());
    client.cancel().await.unwrap();
}
