//! Trust boundaries end to end, through the real binary: a write cut off by the call's
//! time limit is reported as outcome-unknown (never as "nothing happened") and is on
//! record before it leaves; components run only when the operator trusted their exact
//! file; a component's `list` reaches no host function.

#[path = "support/server.rs"]
mod server;
#[path = "support/test_components.rs"]
mod test_components;

use std::path::Path;
use std::time::Duration;

use orderdesk_sim::{DEMO_STORE_ID, Fault, FaultKind, SimConfig, Simulator};
use serde_json::json;
use server::{
    Launch, binary, call, create_tenant, eventually, fresh_dir, ok, register_demo_store,
    trust_component,
};
use test_components::{copy_component, test_components_dir};

/// The audit rows of the server's database: (tool, arguments, outcome), oldest first.
fn audit_rows(data_dir: &Path) -> Vec<(String, String, String)> {
    let conn = rusqlite::Connection::open(data_dir.join("orderdesk-mcp.sqlite3")).unwrap();
    let mut statement = conn
        .prepare("SELECT tool, arguments, outcome FROM audit_log ORDER BY id")
        .unwrap();
    statement
        .query_map([], |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect()
}

fn error_kind(result: &rmcp::model::CallToolResult) -> String {
    assert_eq!(result.is_error, Some(true), "{result:?}");
    result.structured_content.as_ref().unwrap()["error"]["kind"]
        .as_str()
        .unwrap()
        .to_string()
}

#[tokio::test]
async fn a_post_held_past_the_call_timeout_is_sent_once_and_reported_outcome_unknown() {
    let dir = fresh_dir("trust-held-post");
    let sim = Simulator::spawn(SimConfig::sandbox()).await.unwrap();
    let (_, master_key) = create_tenant(&dir);
    std::fs::write(dir.join("config.toml"), "[limits]\ncall_timeout_s = 3\n").unwrap();
    let launch = Launch::new(&dir)
        .env("ORDERDESK_API_BASE", sim.api_base())
        .env("ORDERDESK_MCP_MASTER_KEY", master_key);
    let client = launch.start().await;
    register_demo_store(&client).await;

    // OrderDesk takes longer than the whole call may.
    sim.simulator.inject_fault(
        Fault::new("/orders", FaultKind::Delay(Duration::from_secs(8)), 1).with_method("POST"),
    );
    let started = std::time::Instant::now();
    let result = call(
        &client,
        "orders_create",
        json!({"order": {"shipping": {"first_name": "Jo"}, "order_items": [{"name": "Tote", "price": 1, "quantity": 1}]}}),
    )
    .await;
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(error_kind(&result), "outcome_unknown", "{result:?}");
    let message = server::text_of(&result);
    assert!(
        message.contains("POST /orders"),
        "names the request: {message}"
    );
    let posts = sim
        .simulator
        .arrivals()
        .iter()
        .filter(|r| *r == "POST /api/v2/orders")
        .count();
    assert_eq!(posts, 1, "sent once, never repeated");

    // On record: an intent row written before the POST left, settled as
    // outcome-unknown, and the call's own row.
    eventually("the audit rows of the cut-off write", async || {
        let rows = audit_rows(&dir);
        let intent = rows.iter().find(|(tool, arguments, _)| {
            tool == "orders_create" && arguments.contains("POST /orders")
        });
        let call_row = rows.iter().find(|(tool, arguments, _)| {
            tool == "orders_create" && !arguments.contains("\"request\"")
        });
        matches!(intent, Some((_, _, outcome)) if outcome == "error:outcome_unknown")
            && matches!(call_row, Some((_, _, outcome)) if outcome == "error:outcome_unknown")
    })
    .await;
    let intent = audit_rows(&dir)
        .into_iter()
        .find(|(_, arguments, _)| arguments.contains("POST /orders"))
        .unwrap();
    assert!(intent.1.contains(DEMO_STORE_ID), "{intent:?}");
    drop(client);
}

/// `orderdesk-mcp ARGS` with `data` as the data directory; (success, stdout, stderr).
fn run(data: &Path, args: &[&str]) -> (bool, String, String) {
    let output = std::process::Command::new(binary())
        .arg("--data-dir")
        .arg(data)
        .args(args)
        .env_remove("ORDERDESK_MCP_CONFIG")
        .env_remove("ORDERDESK_MCP_COMPONENTS")
        .env("ORDERDESK_MCP_BCRYPT_COST", "4")
        .output()
        .expect("run orderdesk-mcp");
    (
        output.status.success(),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

#[test]
fn a_component_runs_only_once_the_operator_trusted_that_exact_file() {
    test_components_dir();
    let dir = fresh_dir("trust-allow-list");
    let data = dir.join("data");
    let extra = dir.join("components");
    let extra_arg = extra.to_str().unwrap();
    // The manifest asks for OrderDesk writes.
    copy_component(
        "hostile",
        &extra,
        "hostile",
        Some("[grants]\norderdesk = \"write\"\nlog = true\n"),
    );
    let wasm = extra.join("hostile.wasm");
    let wasm_arg = wasm.to_str().unwrap();

    // Dropped into the directory, it grants itself nothing: refused, saying how to trust it.
    let (ok_, _, stderr) = run(&data, &["--components", extra_arg, "components", "list"]);
    assert!(!ok_);
    assert!(stderr.contains("not trusted"), "{stderr}");
    assert!(stderr.contains("components trust"), "{stderr}");

    // The review shows what the operator is about to allow, and writes nothing.
    let (ok_, review, stderr) = run(&data, &["components", "trust", wasm_arg]);
    assert!(ok_, "{stderr}");
    for shown in [
        "sha256:",
        "orderdesk(write)",
        "imports: orderdesk, log",
        "[components.hostile]",
        "hostile_post",
    ] {
        assert!(review.contains(shown), "the review shows {shown}: {review}");
    }
    assert!(!data.join("config.toml").exists());

    // Written, narrowed by the operator to reads: it loads with what both allow.
    let (ok_, _, stderr) = run(&data, &["components", "trust", wasm_arg, "--write"]);
    assert!(ok_, "{stderr}");
    let config = std::fs::read_to_string(data.join("config.toml")).unwrap();
    std::fs::write(
        data.join("config.toml"),
        config.replace("orderdesk = \"write\"", "orderdesk = \"read\""),
    )
    .unwrap();
    let (ok_, listed, stderr) = run(
        &data,
        &["--components", extra_arg, "components", "list", "--json"],
    );
    assert!(ok_, "{stderr}");
    let listed: serde_json::Value = serde_json::from_str(&listed).unwrap();
    let hostile = listed
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "hostile")
        .unwrap();
    assert_eq!(hostile["grants"]["orderdesk"], "read", "{hostile}");

    // The file changes: refused again until the new one is trusted.
    copy_component("reload-v1", &extra, "hostile", None);
    let (ok_, _, stderr) = run(&data, &["--components", extra_arg, "components", "list"]);
    assert!(!ok_);
    assert!(stderr.contains("changed since it was trusted"), "{stderr}");
}

#[tokio::test]
async fn a_components_list_reaches_no_host_function() {
    test_components_dir();
    let dir = fresh_dir("trust-list-probe");
    let extra = dir.join("components");
    copy_component(
        "hostile",
        &extra,
        "hostile",
        Some("[grants]\norderdesk = \"write\"\nlog = true\n"),
    );
    trust_component(
        &dir.join("config.toml"),
        &extra.join("hostile.wasm"),
        "hostile",
    );
    // The sandbox's session is authenticated with a store: a `list` run with it could
    // read that store or write to it.
    let launch = Launch::new(&dir)
        .sandbox()
        .arg("--components")
        .arg(extra.to_string_lossy().into_owned());
    let client = launch.start().await;
    let tools = client.list_all_tools().await.unwrap();
    let probe = tools
        .iter()
        .find(|t| t.name == "hostile_list_probe")
        .unwrap();
    let seen = probe.description.as_deref().unwrap_or_default();
    assert!(
        seen.contains("GET /store -> not-available")
            && seen.contains("POST /orders -> not-available"),
        "{seen}"
    );
    // The same requests from a call (the session is the client's) do reach the host.
    let answered = ok(&call(&client, "hostile_list_probe", json!({})).await);
    let answered = answered["description"].as_str().unwrap();
    assert!(answered.contains("GET /store -> ok 200"), "{answered}");
    client.cancel().await.unwrap();
}

#[tokio::test]
async fn keys_stay_out_of_the_chat_and_off_plain_http_unless_the_operator_allows_it() {
    let dir = fresh_dir("trust-keys-where-they-belong");
    let sim = Simulator::spawn(SimConfig::sandbox()).await.unwrap();
    let (_, master_key) = create_tenant(&dir);

    // A plain-http API base outside the sandbox: refused at start, saying how to allow
    // a local test server.
    let refused = Launch::new(&dir)
        .env("ORDERDESK_API_BASE", sim.api_base())
        .env("ORDERDESK_MCP_INSECURE_API_BASE", "false")
        .env("ORDERDESK_MCP_MASTER_KEY", master_key.clone())
        .command()
        .output()
        .await
        .unwrap();
    assert!(!refused.status.success());
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(stderr.contains("--insecure-api-base"), "{stderr}");

    // With the master key in the environment, tools do not take keys as arguments by
    // default: the API key would pass through the chat.
    let launch = Launch::new(&dir)
        .env("ORDERDESK_API_BASE", sim.api_base())
        .env("ORDERDESK_MCP_SECRET_ARGUMENTS", "")
        .env("ORDERDESK_MCP_MASTER_KEY", master_key);
    let client = launch.start().await;
    let result = call(
        &client,
        "stores_register",
        json!({"store_id": DEMO_STORE_ID, "api_key": orderdesk_sim::DEMO_API_KEY, "store_name": "demo"}),
    )
    .await;
    let message = server::err(&result);
    assert!(message.contains("stores add"), "{message}");
    assert!(!message.contains(orderdesk_sim::DEMO_API_KEY));
    // The warning about the insecure base is in the log, and the key is not.
    let log = launch.stderr();
    assert!(log.contains("insecure-api-base"), "{log}");
    assert!(!log.contains(orderdesk_sim::DEMO_API_KEY), "{log}");
    client.cancel().await.unwrap();
}

#[test]
fn a_compile_cache_entry_that_does_not_verify_is_recompiled_not_run() {
    let dir = fresh_dir("trust-compile-cache");
    let data = dir.join("data");
    let caches = |expect: &str| {
        let (ok_, listed, stderr) = run(&data, &["components", "list", "--json"]);
        assert!(ok_, "{stderr}");
        let listed: serde_json::Value = serde_json::from_str(&listed).unwrap();
        for component in listed.as_array().unwrap() {
            assert_eq!(component["compile_cache"], expect, "{component}");
        }
        stderr
    };
    caches("compiled");
    caches("hit");
    // Someone who can write the cache directory changes the code of every entry.
    let mut entries = 0;
    for entry in std::fs::read_dir(data.join("cache")).unwrap() {
        let path = entry.unwrap().path();
        let mut bytes = std::fs::read(&path).unwrap();
        let last = bytes.len() - 1;
        bytes[last] ^= 0x5a;
        std::fs::write(&path, bytes).unwrap();
        entries += 1;
    }
    assert!(entries >= 4, "one entry per component");
    let stderr = caches("compiled");
    assert!(stderr.contains("tag does not verify"), "{stderr}");
    caches("hit");
}

/// `kill -TERM pid`.
fn terminate(pid: u32) {
    let status = std::process::Command::new("kill")
        .args(["-TERM", &pid.to_string()])
        .status()
        .unwrap();
    assert!(status.success());
}

#[tokio::test]
async fn sigterm_lets_calls_under_way_finish_then_records_what_it_cut_off() {
    let dir = fresh_dir("trust-sigterm");
    let sim = Simulator::spawn(SimConfig::sandbox()).await.unwrap();
    let (_, master_key) = create_tenant(&dir);
    let order = json!({"store": "demo", "order": {"shipping": {"first_name": "Jo"}, "order_items": [{"name": "Tote", "price": 1, "quantity": 1}]}});
    let start = |grace_s: &str| {
        Launch::new(&dir)
            .env("ORDERDESK_API_BASE", sim.api_base())
            .env("ORDERDESK_MCP_MASTER_KEY", master_key.clone())
            .env("ORDERDESK_MCP_SHUTDOWN_GRACE_S", grace_s.to_string())
    };

    // Within the grace period: the call finishes and its client gets the answer.
    let launch = start("10");
    let (client, pid) = launch.start_with_pid(()).await;
    register_demo_store(&client).await;
    sim.simulator.inject_fault(
        Fault::new("/orders", FaultKind::Delay(Duration::from_millis(1500)), 1).with_method("POST"),
    );
    let pending = tokio::spawn({
        let peer = client.peer().clone();
        let arguments = order.as_object().unwrap().clone();
        async move {
            peer.call_tool(
                rmcp::model::CallToolRequestParams::new("orders_create").with_arguments(arguments),
            )
            .await
        }
    });
    tokio::time::sleep(Duration::from_millis(400)).await;
    terminate(pid);
    let answered = pending
        .await
        .unwrap()
        .expect("the call under way is answered");
    assert_ne!(answered.is_error, Some(true), "{answered:?}");
    eventually("the finished call's audit row", async || {
        audit_rows(&dir).iter().any(|(tool, args, outcome)| {
            tool == "orders_create" && !args.contains("\"request\"") && outcome == "ok"
        })
    })
    .await;
    drop(client);

    // Past the grace period: the call is cut off, and the audit says so.
    let launch = start("1");
    let (client, pid) = launch.start_with_pid(()).await;
    sim.simulator.inject_fault(
        Fault::new("/orders", FaultKind::Delay(Duration::from_secs(8)), 1).with_method("POST"),
    );
    let peer = client.peer().clone();
    let arguments = order.as_object().unwrap().clone();
    let _cut = tokio::spawn(async move {
        peer.call_tool(
            rmcp::model::CallToolRequestParams::new("orders_create").with_arguments(arguments),
        )
        .await
    });
    tokio::time::sleep(Duration::from_millis(400)).await;
    let signalled = std::time::Instant::now();
    terminate(pid);
    eventually("the cut-off call's audit rows", async || {
        let rows = audit_rows(&dir);
        let call_cut = rows.iter().any(|(tool, _, outcome)| {
            tool == "orders_create" && outcome.starts_with("error:interrupted")
        });
        let intent_open = rows.iter().any(|(_, args, outcome)| {
            args.contains("POST /orders") && outcome.starts_with("error:outcome_unknown")
        });
        call_cut && intent_open
    })
    .await;
    assert!(
        signalled.elapsed() < Duration::from_secs(6),
        "{:?}",
        signalled.elapsed()
    );
    drop(client);
}

#[test]
fn a_packed_bundle_is_trusted_only_while_it_matches_its_checksum() {
    test_components_dir();
    let dir = fresh_dir("trust-pack");
    let data = dir.join("data");
    let source = dir.join("src");
    copy_component(
        "hostile",
        &source,
        "hostile",
        Some("[grants]\norderdesk = \"read\"\nlog = true\n"),
    );
    let bundle = dir.join("bundle");
    let (ok_, packed, stderr) = run(
        &data,
        &[
            "component",
            "pack",
            source.join("hostile.wasm").to_str().unwrap(),
            "--out",
            bundle.to_str().unwrap(),
        ],
    );
    assert!(ok_, "{stderr}");
    assert!(
        packed.contains("sha256:") && packed.contains("[components.hostile]"),
        "{packed}"
    );
    for file in ["hostile.wasm", "hostile.toml", "hostile.sha256"] {
        assert!(bundle.join(file).is_file(), "the bundle holds {file}");
    }

    // The operator trusts the bundle (its directory): the checksum holds.
    let (ok_, _, stderr) = run(
        &data,
        &["components", "trust", bundle.to_str().unwrap(), "--write"],
    );
    assert!(ok_, "{stderr}");
    let config = std::fs::read_to_string(data.join("config.toml")).unwrap();
    assert!(
        config.contains("[components.hostile]") && config.contains("orderdesk = \"read\""),
        "{config}"
    );

    // A bundle whose .wasm changed after packing is refused.
    copy_component("reload-v1", &bundle, "hostile", None);
    let (ok_, _, stderr) = run(
        &data,
        &[
            "components",
            "trust",
            bundle.join("hostile.wasm").to_str().unwrap(),
        ],
    );
    assert!(!ok_);
    assert!(stderr.contains("does not match its checksum"), "{stderr}");
}
