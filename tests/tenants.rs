//! Tenants, stores and secrets end to end: isolation between tenants, no plaintext key
//! anywhere on disk or in the logs, and a crash in the middle of `stores_register`.

#[path = "support/server.rs"]
mod server;

use std::path::Path;
use std::time::Duration;

use orderdesk_sim::{DEMO_API_KEY, DEMO_STORE_ID, Fault, FaultKind, SimConfig, Simulator};
use serde_json::json;
use server::{Launch, call, create_tenant, err, eventually, fresh_dir, ok};

fn register_args(name: &str) -> serde_json::Value {
    json!({"store_id": DEMO_STORE_ID, "api_key": DEMO_API_KEY, "store_name": name})
}

/// Every file under `dir`, recursively.
fn files_under(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let path = entry.path();
        if path.is_dir() {
            out.extend(files_under(&path));
        } else {
            out.push(path);
        }
    }
    out
}

fn contains(haystack: &[u8], needle: &str) -> bool {
    haystack
        .windows(needle.len())
        .any(|w| w == needle.as_bytes())
}

#[tokio::test]
async fn tenants_are_isolated_and_no_key_is_ever_written_in_plaintext() {
    let dir = fresh_dir("tenants-isolation");
    let sim = Simulator::spawn(SimConfig::sandbox()).await.unwrap();
    let (tenant_a, key_a) = create_tenant(&dir);
    let (tenant_b, key_b) = create_tenant(&dir);
    assert_ne!(tenant_a, tenant_b);

    // The most talkative log level, so that the secret scan below covers every line the
    // host can write (successful calls are logged at debug level).
    let launch = Launch::new(&dir)
        .env("ORDERDESK_API_BASE", sim.api_base())
        .env("ORDERDESK_MCP_MASTER_KEY", key_a.clone())
        .env("ORDERDESK_MCP_LOG", "debug");
    let a = launch.start().await;
    // Both tenants name a store "main"; A also has "second".
    ok(&call(&a, "stores_register", register_args("main")).await);
    let info = ok(&call(&a, "tenant_info", json!({})).await);
    assert_eq!(info["tenant_id"], tenant_a.as_str());

    // Switch the same session to tenant B through the tool: A's stores are gone from view.
    let switched = ok(&call(&a, "tenant_use_master_key", json!({"master_key": key_b})).await);
    assert_eq!(switched["tenant_id"], tenant_b.as_str());
    assert_eq!(switched["store_count"], 0);
    let message = err(&call(&a, "stores_resolve", json!({"identifier": "main"})).await);
    assert!(message.contains("main"), "{message}");
    let message = err(&call(&a, "orders_list", json!({"store": "main", "limit": 1})).await);
    assert!(!message.is_empty());
    ok(&call(&a, "stores_register", register_args("main")).await);
    ok(&call(&a, "stores_delete", json!({"identifier": "main"})).await);

    // Back to A: its "main" is untouched by B's delete.
    ok(&call(&a, "tenant_use_master_key", json!({"master_key": key_a})).await);
    let stores = ok(&call(&a, "stores_list", json!({})).await);
    assert!(stores.to_string().contains("\"main\""), "{stores}");
    let listed = ok(&call(&a, "orders_list", json!({"store": "main", "limit": 1})).await);
    assert_eq!(listed["orders"].as_array().unwrap().len(), 1);

    // A wrong key is refused without creating a tenant.
    let wrong = format!("odmk_{}", "0".repeat(64));
    let message = err(&call(&a, "tenant_use_master_key", json!({"master_key": wrong})).await);
    assert!(
        message.contains("does not belong to any tenant"),
        "{message}"
    );
    a.cancel().await.unwrap();

    // No master key or API key in plaintext anywhere in the data dir or on stderr.
    let stderr = launch.stderr();
    assert!(
        stderr.contains("tool call") && stderr.contains("DEBUG"),
        "the run was logged"
    );
    for (what, secret) in [
        ("master key A", &key_a),
        ("master key B", &key_b),
        ("API key", &DEMO_API_KEY.to_string()),
    ] {
        assert!(
            !stderr.contains(secret.as_str()),
            "{what} appears on stderr"
        );
        for file in files_under(&dir) {
            if file.file_name().is_some_and(|n| n == "stderr.log") {
                continue;
            }
            let bytes = std::fs::read(&file).unwrap();
            assert!(
                !contains(&bytes, secret),
                "{what} appears in {}",
                file.display()
            );
        }
    }
    // The audit log has one row per call, arguments redacted.
    let db = rusqlite::Connection::open(dir.join("orderdesk-mcp.sqlite3")).unwrap();
    let rows: i64 = db
        .query_row("SELECT count(*) FROM audit_log", [], |r| r.get(0))
        .unwrap();
    assert!(rows >= 10, "{rows} audit rows");
    let redacted: i64 = db
        .query_row(
            "SELECT count(*) FROM audit_log WHERE arguments LIKE '%[REDACTED]%'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert!(
        redacted >= 3,
        "api_key and master_key arguments are redacted"
    );
}

#[tokio::test]
async fn a_process_killed_during_stores_register_leaves_the_database_consistent() {
    let dir = fresh_dir("tenants-kill");
    let sim = Simulator::spawn(SimConfig::sandbox()).await.unwrap();
    let (_, key) = create_tenant(&dir);
    for (round, delay_ms) in [(0, 300u64), (1, 0), (2, 5), (3, 20)].into_iter() {
        if delay_ms > 0 {
            sim.simulator.inject_fault(Fault::new(
                "/test",
                FaultKind::Delay(Duration::from_millis(delay_ms)),
                1,
            ));
        }
        let launch = Launch::new(&dir)
            .env("ORDERDESK_API_BASE", sim.api_base())
            .env("ORDERDESK_MCP_MASTER_KEY", key.clone());
        let (client, pid) = launch.start_with_pid(()).await;
        let name = format!("store-{round}");
        let request = client.call_tool(
            rmcp::model::CallToolRequestParams::new("stores_register")
                .with_arguments(register_args(&name).as_object().unwrap().clone()),
        );
        // SIGKILL the server (no clean-up at all) while the call is in flight: during
        // the credential check, or racing the database write.
        let wait = Duration::from_millis(delay_ms / 2 + 1);
        tokio::select! {
            _ = request => {}
            _ = tokio::time::sleep(wait) => {}
        }
        let killed = std::process::Command::new("kill")
            .args(["-KILL", &pid.to_string()])
            .status()
            .unwrap();
        // A server that answered is still running (it waits for the next request), so
        // the kill must land in every round.
        assert!(killed.success(), "the server was running in round {round}");
        eventually("the killed server gone", async || !process_running(pid)).await;
        drop(client);

        let db = rusqlite::Connection::open(dir.join("orderdesk-mcp.sqlite3")).unwrap();
        let check: String = db
            .query_row("PRAGMA integrity_check", [], |r| r.get(0))
            .unwrap();
        assert_eq!(check, "ok");
        let half: i64 = db
            .query_row(
                "SELECT count(*) FROM stores WHERE length(api_key) < 29",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(half, 0, "no half-written store");
    }
}

/// Whether `pid` is a live process (not gone, not a zombie awaiting its parent).
fn process_running(pid: u32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        // The state follows the parenthesised command name.
        Ok(stat) => stat
            .rsplit_once(')')
            .is_some_and(|(_, rest)| !rest.trim_start().starts_with(['Z', 'X'])),
        Err(_) => false,
    }
}
