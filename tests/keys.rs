//! Trust boundaries of keys, end to end through the real binary: the data directory
//! made private by `main`, store keys that never go to another API origin, replacing a
//! store's key (tool and command line), the master-key and server-key lifecycle, access
//! tokens (made, listed and revoked; never stored), and the audit rows the command line
//! writes.

#[path = "support/server.rs"]
mod server;

use std::io::Write;
use std::path::Path;
use std::process::{Command, Output, Stdio};

use orderdesk_sim::{DEMO_API_KEY, DEMO_STORE_ID, SimConfig, Simulator};
use serde_json::{Value, json};
use server::{Launch, binary, call, create_tenant, err, fresh_dir, ok};

/// Run the command line with `args` in `data_dir`, isolated from the caller's
/// environment settings, with `env` and `stdin`.
fn cli(data_dir: &Path, args: &[&str], env: &[(&str, &str)], stdin: Option<&str>) -> Output {
    let mut cmd = Command::new(binary());
    cmd.arg("--data-dir").arg(data_dir).args(args);
    for var in [
        "ORDERDESK_MCP_MASTER_KEY",
        "ORDERDESK_MCP_SERVER_KEY",
        "ORDERDESK_MCP_NEW_SERVER_KEY",
        "ORDERDESK_API_BASE",
        "ORDERDESK_MCP_CONFIG",
        "ORDERDESK_MCP_LOG_FORMAT",
    ] {
        cmd.env_remove(var);
    }
    cmd.env("ORDERDESK_MCP_BCRYPT_COST", "4");
    // The simulators are loopback http:// servers (refused by default).
    cmd.env("ORDERDESK_MCP_INSECURE_API_BASE", "true");
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().expect("run orderdesk-mcp");
    let mut input = child.stdin.take().unwrap();
    if let Some(text) = stdin {
        input.write_all(text.as_bytes()).unwrap();
    }
    drop(input);
    child.wait_with_output().unwrap()
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Panics with the output unless the command succeeded.
#[track_caller]
fn succeeded(o: Output) -> Output {
    assert!(
        o.status.success(),
        "the command failed\nstdout:\n{}\nstderr:\n{}",
        stdout(&o),
        stderr(&o)
    );
    o
}

/// The error message of a command that failed.
#[track_caller]
fn failed(o: Output) -> String {
    assert!(
        !o.status.success(),
        "the command succeeded\nstdout:\n{}",
        stdout(&o)
    );
    stderr(&o)
}

/// (tool, source, tenant, store, arguments, outcome) of an audit row.
type AuditRow = (
    String,
    String,
    Option<String>,
    Option<String>,
    String,
    String,
);

/// Every audit row, oldest first.
fn audit_rows(dir: &Path) -> Vec<AuditRow> {
    let db = rusqlite::Connection::open(dir.join("orderdesk-mcp.sqlite3")).unwrap();
    db.prepare(
        "SELECT tool, source, tenant_id, store_id, arguments, outcome FROM audit_log ORDER BY id",
    )
    .unwrap()
    .query_map([], |r| {
        Ok((
            r.get(0)?,
            r.get(1)?,
            r.get(2)?,
            r.get(3)?,
            r.get(4)?,
            r.get(5)?,
        ))
    })
    .unwrap()
    .collect::<Result<_, _>>()
    .unwrap()
}

#[cfg(unix)]
fn mode(p: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(p).unwrap().permissions().mode() & 0o7777
}

#[cfg(unix)]
#[test]
fn the_binary_creates_the_data_dir_private_and_checks_an_existing_one() {
    use std::os::unix::fs::PermissionsExt;
    let base = fresh_dir("keys-data-dir");
    let dir = base.join("new").join("data");
    // With the usual umask (022), which would make a plain mkdir 0755.
    let created = Command::new("sh")
        .arg("-c")
        .arg("umask 022; exec \"$0\" --data-dir \"$1\" tenant list")
        .arg(binary())
        .arg(&dir)
        .env_remove("ORDERDESK_MCP_CONFIG")
        .output()
        .unwrap();
    let created = succeeded(created);
    assert_eq!(mode(&dir), 0o700, "{}", stderr(&created));
    assert_eq!(mode(&base.join("new")), 0o700, "the parents it made too");

    // A data directory an earlier version made with the umask: repaired, with a warning.
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755)).unwrap();
    let repaired = succeeded(cli(&dir, &["tenant", "list"], &[], None));
    assert_eq!(mode(&dir), 0o700);
    assert!(
        stderr(&repaired).contains("mode 0755"),
        "{}",
        stderr(&repaired)
    );

    // One shared with other files, or writable by others: refused, saying what to run.
    std::fs::write(dir.join("notes.txt"), "not ours").unwrap();
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755)).unwrap();
    let message = failed(cli(&dir, &["tenant", "create"], &[], None));
    assert!(
        message.contains(&format!("chmod 700 {}", dir.display())),
        "{message}"
    );
    assert_eq!(mode(&dir), 0o755, "left as it was");
    let db = rusqlite::Connection::open(dir.join("orderdesk-mcp.sqlite3")).unwrap();
    let tenants: i64 = db
        .query_row("SELECT count(*) FROM tenants", [], |r| r.get(0))
        .unwrap();
    assert_eq!(tenants, 0, "nothing was done");
    std::fs::remove_file(dir.join("notes.txt")).unwrap();
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o777)).unwrap();
    let message = failed(cli(&dir, &["tenant", "list"], &[], None));
    assert!(message.contains("writable by group or others"), "{message}");

    // One that belongs to another user (possible to set up as root, which CI runs as).
    let foreign = base.join("foreign");
    std::fs::create_dir(&foreign).unwrap();
    std::fs::set_permissions(&foreign, std::fs::Permissions::from_mode(0o700)).unwrap();
    let given = Command::new("chown")
        .args(["65534", foreign.to_str().unwrap()])
        .status()
        .is_ok_and(|s| s.success());
    if given {
        let message = failed(cli(&foreign, &["serve"], &[], None));
        assert!(message.contains("belongs to user id 65534"), "{message}");
    }
}

// Multi-threaded: the simulator keeps answering while a test waits for the command line.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_store_key_is_never_sent_to_another_api_origin() {
    let dir = fresh_dir("keys-origin");
    let home = Simulator::spawn(SimConfig::sandbox()).await.unwrap();
    let elsewhere = Simulator::spawn(SimConfig::sandbox()).await.unwrap();
    let (_, master_key) = create_tenant(&dir);

    // Registered against the first API base.
    let launch = Launch::new(&dir)
        .env("ORDERDESK_API_BASE", home.api_base())
        .env("ORDERDESK_MCP_MASTER_KEY", master_key.clone());
    let client = launch.start().await;
    server::register_demo_store(&client).await;
    ok(&call(&client, "orders_list", json!({"limit": 1})).await);
    client.cancel().await.unwrap();

    // Served against another: refused before anything is sent, naming both origins.
    let home_origin = home.base_url();
    let other_origin = elsewhere.base_url();
    elsewhere.simulator.clear_request_log();
    let launch = Launch::new(&dir)
        .env("ORDERDESK_API_BASE", elsewhere.api_base())
        .env("ORDERDESK_MCP_MASTER_KEY", master_key.clone());
    let client = launch.start().await;
    let message = err(&call(&client, "orders_list", json!({"store": "demo", "limit": 1})).await);
    assert!(message.contains(&home_origin), "{message}");
    assert!(message.contains(&other_origin), "{message}");
    assert!(message.contains("stores update-key"), "{message}");
    let message = err(&call(&client, "stores_test", json!({"identifier": "demo"})).await);
    assert!(message.contains(&home_origin), "{message}");
    assert!(
        elsewhere.simulator.request_log().is_empty(),
        "no request reached the other origin: {:?}",
        elsewhere.simulator.request_log()
    );
    client.cancel().await.unwrap();
    assert!(!launch.stderr().contains(DEMO_API_KEY));

    // The operator moves the store on purpose: the key is checked there and saved for it.
    let base = elsewhere.api_base();
    let moved = succeeded(cli(
        &dir,
        &["stores", "update-key", "demo"],
        &[
            ("ORDERDESK_MCP_MASTER_KEY", master_key.as_str()),
            ("ORDERDESK_API_BASE", base.as_str()),
        ],
        Some(&format!("{DEMO_API_KEY}\n")),
    ));
    assert!(stdout(&moved).contains(&other_origin), "{}", stdout(&moved));
    assert!(stdout(&moved).contains(&format!("moved from {home_origin}")));
    let launch = Launch::new(&dir)
        .env("ORDERDESK_API_BASE", elsewhere.api_base())
        .env("ORDERDESK_MCP_MASTER_KEY", master_key.clone());
    let client = launch.start().await;
    ok(&call(&client, "orders_list", json!({"store": "demo", "limit": 1})).await);
    client.cancel().await.unwrap();
    // And now the first origin is the other one.
    let launch = Launch::new(&dir)
        .env("ORDERDESK_API_BASE", home.api_base())
        .env("ORDERDESK_MCP_MASTER_KEY", master_key);
    let client = launch.start().await;
    let message = err(&call(&client, "orders_list", json!({"store": "demo", "limit": 1})).await);
    assert!(message.contains(&other_origin), "{message}");
    client.cancel().await.unwrap();
}

#[tokio::test]
async fn a_refused_key_points_at_stores_update_key_which_checks_the_new_key_first() {
    let dir = fresh_dir("keys-update-tool");
    let sim = Simulator::spawn(SimConfig::sandbox()).await.unwrap();
    let (_, master_key) = create_tenant(&dir);
    let launch = Launch::new(&dir)
        .env("ORDERDESK_API_BASE", sim.api_base())
        .env("ORDERDESK_MCP_MASTER_KEY", master_key);
    let client = launch.start().await;
    // A key that stopped working (saved unchecked here; revoked in OrderDesk in life).
    ok(&call(
        &client,
        "stores_register",
        json!({"store_id": DEMO_STORE_ID, "api_key": "OldRevokedKey123", "store_name": "demo",
               "verify": false}),
    )
    .await);
    let message = err(&call(&client, "orders_list", json!({"limit": 1})).await);
    assert!(message.contains("401"), "{message}");
    assert!(message.contains("stores_update_key"), "{message}");
    assert!(
        message.contains("orderdesk-mcp stores update-key"),
        "{message}"
    );
    // Registering it again is refused: that is not the way.
    let message = err(&call(
        &client,
        "stores_register",
        json!({"store_id": DEMO_STORE_ID, "api_key": DEMO_API_KEY}),
    )
    .await);
    assert!(message.contains("already registered"), "{message}");

    // A wrong replacement is refused by OrderDesk and the old key is kept.
    let message = err(&call(
        &client,
        "stores_update_key",
        json!({"identifier": "demo", "api_key": "AlsoWrong456"}),
    )
    .await);
    assert!(message.contains("old key was kept"), "{message}");
    assert!(!message.contains("AlsoWrong456"), "{message}");
    // The right one replaces it, and requests work again.
    let updated = ok(&call(
        &client,
        "stores_update_key",
        json!({"identifier": "demo", "api_key": DEMO_API_KEY}),
    )
    .await);
    assert_eq!(updated["updated"]["store_id"], DEMO_STORE_ID);
    assert!(!updated.to_string().contains(DEMO_API_KEY));
    let listed = ok(&call(&client, "orders_list", json!({"limit": 1})).await);
    assert_eq!(listed["orders"].as_array().unwrap().len(), 1);
    client.cancel().await.unwrap();
    // The tool calls were audited with the key redacted.
    let rows = audit_rows(&dir);
    let updates: Vec<_> = rows
        .iter()
        .filter(|row| row.0 == "stores_update_key")
        .collect();
    assert_eq!(updates.len(), 2);
    for row in updates {
        assert_eq!(row.1, "mcp");
        assert!(
            row.4.contains("[REDACTED]") && !row.4.contains(DEMO_API_KEY),
            "{row:?}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_key_lifecycle_through_the_command_line_is_audited_without_secrets() {
    let dir = fresh_dir("keys-lifecycle");
    let sim = Simulator::spawn(SimConfig::sandbox()).await.unwrap();
    let base = sim.api_base();
    let (tenant, first) = create_tenant(&dir);
    let with = |key: &str| {
        vec![
            ("ORDERDESK_MCP_MASTER_KEY", key.to_string()),
            ("ORDERDESK_API_BASE", base.clone()),
        ]
    };
    let run = |args: &[&str], key: &str, stdin: Option<&str>| {
        let env = with(key);
        let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
        cli(&dir, args, &env, stdin)
    };
    let key_line = format!("{DEMO_API_KEY}\n");
    succeeded(run(
        &[
            "stores",
            "add",
            "--store-id",
            DEMO_STORE_ID,
            "--name",
            "demo",
        ],
        &first,
        Some(&key_line),
    ));
    let listed = succeeded(run(&["stores", "list"], &first, None));
    assert!(
        stdout(&listed).contains(&sim.base_url()),
        "{}",
        stdout(&listed)
    );

    // Rotate with a grace period: a new key, printed once; both work for now.
    let rotated = succeeded(run(&["tenant", "rotate-key", "--json"], &first, None));
    let rotated: Value = serde_json::from_slice(&rotated.stdout).unwrap();
    let second = rotated["master_key"].as_str().unwrap().to_string();
    assert!(second.starts_with("odmk_") && second != first);
    assert_eq!(rotated["stores_reencrypted"], 1);
    assert!(rotated["old_key_expires_at"].is_string(), "{rotated}");
    for key in [&first, &second] {
        succeeded(run(&["stores", "list"], key, None));
    }
    // A server still configured with the old key keeps working during the grace period,
    // and says until when.
    let launch = Launch::new(&dir)
        .env("ORDERDESK_API_BASE", sim.api_base())
        .env("ORDERDESK_MCP_MASTER_KEY", first.clone());
    let client = launch.start().await;
    ok(&call(&client, "orders_list", json!({"store": "demo", "limit": 1})).await);
    client.cancel().await.unwrap();
    assert!(
        launch.stderr().contains("stops working at"),
        "{}",
        launch.stderr()
    );
    let tenants = succeeded(run(&["tenant", "list"], &second, None));
    assert!(
        stdout(&tenants).contains("old key works until"),
        "{}",
        stdout(&tenants)
    );

    // Rotate again at once: the first key stops (its grace ended), the second too.
    let rotated = succeeded(run(
        &["tenant", "rotate-key", "--grace-hours", "0"],
        &second,
        None,
    ));
    let third = stdout(&rotated)
        .lines()
        .find_map(|l| l.strip_prefix("new master key: "))
        .unwrap()
        .trim()
        .to_string();
    for old in [&first, &second] {
        let message = failed(run(&["stores", "list"], old, None));
        assert!(message.contains("not accepted"), "{message}");
    }

    // Replace the store's key: a wrong key is refused and the old one kept.
    let message = failed(run(
        &["stores", "update-key", "demo"],
        &third,
        Some("WrongKey789\n"),
    ));
    assert!(message.contains("old key was kept"), "{message}");
    succeeded(run(
        &["stores", "update-key", "demo"],
        &third,
        Some(&key_line),
    ));

    // Revoke needs --yes; then nothing signs in, and the store keys are erased.
    let message = failed(cli(&dir, &["tenant", "revoke", &tenant], &[], None));
    assert!(message.contains("--yes"), "{message}");
    let revoked = succeeded(cli(
        &dir,
        &["tenant", "revoke", &tenant, "--yes"],
        &[],
        None,
    ));
    assert!(
        stdout(&revoked).contains("1 store key(s) erased"),
        "{}",
        stdout(&revoked)
    );
    let message = failed(run(&["stores", "list"], &third, None));
    assert!(message.contains("revoked"), "{message}");
    // Delete: gone, the audit log stays.
    succeeded(cli(
        &dir,
        &["tenant", "delete", &tenant, "--yes"],
        &[],
        None,
    ));
    let listed = succeeded(cli(&dir, &["tenant", "list"], &[], None));
    assert!(
        stdout(&listed).contains("no tenants yet"),
        "{}",
        stdout(&listed)
    );

    // Every command left a row from the command line, naming the tenant and store,
    // holding no key.
    let rows = audit_rows(&dir);
    let cli_rows: Vec<(&str, &str)> = rows
        .iter()
        .filter(|r| r.1 == "cli")
        .map(|r| (r.0.as_str(), r.5.as_str()))
        .collect();
    for expected in [
        ("tenant create", "ok"),
        ("stores add", "ok"),
        ("stores list", "ok"),
        ("tenant rotate-key", "ok"),
        ("stores list", "error:unauthorized"),
        ("stores update-key", "error:failed"),
        ("stores update-key", "ok"),
        ("tenant revoke", "ok"),
        ("tenant delete", "ok"),
        ("tenant list", "ok"),
    ] {
        assert!(cli_rows.contains(&expected), "{expected:?} in {cli_rows:?}");
    }
    assert_eq!(
        cli_rows
            .iter()
            .filter(|r| r.0 == "tenant rotate-key")
            .count(),
        2
    );
    let add = rows.iter().find(|r| r.0 == "stores add").unwrap();
    assert_eq!(add.2.as_deref(), Some(tenant.as_str()));
    assert_eq!(add.3.as_deref(), Some(DEMO_STORE_ID));
    let update = rows
        .iter()
        .find(|r| r.0 == "stores update-key" && r.5 == "ok")
        .unwrap();
    assert_eq!(
        update.3.as_deref(),
        Some(DEMO_STORE_ID),
        "the store's id, not its name"
    );
    let everything = format!("{rows:?}");
    for secret in [&first, &second, &third, &DEMO_API_KEY.to_string()] {
        assert!(
            !everything.contains(secret.as_str()),
            "a key is in the audit log"
        );
    }
    assert!(!everything.contains("WrongKey789"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_server_key_rotates_through_the_command_line() {
    let sim = Simulator::spawn(SimConfig::sandbox()).await.unwrap();
    let base = sim.api_base();
    let key_line = format!("{DEMO_API_KEY}\n");

    // With the generated key file.
    let dir = fresh_dir("keys-server-key-file");
    let (_, master_key) = create_tenant(&dir);
    let env = [
        ("ORDERDESK_MCP_MASTER_KEY", master_key.as_str()),
        ("ORDERDESK_API_BASE", base.as_str()),
    ];
    succeeded(cli(
        &dir,
        &[
            "stores",
            "add",
            "--store-id",
            DEMO_STORE_ID,
            "--name",
            "demo",
        ],
        &env,
        Some(&key_line),
    ));
    let key_file = dir.join("server.key");
    let before = std::fs::read_to_string(&key_file).unwrap();
    let rotated = succeeded(cli(&dir, &["server-key", "rotate"], &[], None));
    assert!(
        stdout(&rotated).contains("re-encrypted 1 store key(s)"),
        "{}",
        stdout(&rotated)
    );
    let after = std::fs::read_to_string(&key_file).unwrap();
    assert_ne!(before, after);
    assert!(!dir.join("server.key.new").exists());
    assert!(
        !stdout(&rotated).contains(after.trim()),
        "the key is not printed"
    );
    let launch = Launch::new(&dir)
        .env("ORDERDESK_API_BASE", sim.api_base())
        .env("ORDERDESK_MCP_MASTER_KEY", master_key.clone());
    let client = launch.start().await;
    ok(&call(&client, "orders_list", json!({"store": "demo", "limit": 1})).await);
    client.cancel().await.unwrap();
    let row = audit_rows(&dir)
        .into_iter()
        .find(|r| r.0 == "server-key rotate")
        .unwrap();
    assert_eq!(row.1, "cli");
    assert!(!row.4.contains(after.trim()) && !row.4.contains(before.trim()));

    // With the key in the environment: the operator gives the new one.
    let dir = fresh_dir("keys-server-key-env");
    let (old, new) = ("ab".repeat(32), "cd".repeat(32));
    let with_server = |server: &str| {
        vec![
            ("ORDERDESK_MCP_MASTER_KEY", master_key.clone()),
            ("ORDERDESK_API_BASE", base.clone()),
            ("ORDERDESK_MCP_SERVER_KEY", server.to_string()),
        ]
    };
    let as_refs = |env: &[(&'static str, String)]| -> Vec<(&'static str, String)> { env.to_vec() };
    let run = |args: &[&str], env: &[(&'static str, String)], stdin: Option<&str>| {
        let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
        cli(&dir, args, &env, stdin)
    };
    let created = succeeded(run(
        &["tenant", "create", "--json"],
        &with_server(&old),
        None,
    ));
    let created: Value = serde_json::from_slice(&created.stdout).unwrap();
    let env_master = created["master_key"].as_str().unwrap().to_string();
    let mut env_old = as_refs(&with_server(&old));
    env_old[0].1 = env_master.clone();
    succeeded(run(
        &["stores", "add", "--store-id", DEMO_STORE_ID],
        &env_old,
        Some(&key_line),
    ));
    let message = failed(run(&["server-key", "rotate"], &env_old, None));
    assert!(
        message.contains("ORDERDESK_MCP_NEW_SERVER_KEY"),
        "{message}"
    );
    let mut rotate_env = env_old.clone();
    rotate_env.push(("ORDERDESK_MCP_NEW_SERVER_KEY", new.clone()));
    let rotated = succeeded(run(&["server-key", "rotate"], &rotate_env, None));
    assert!(
        stdout(&rotated).contains("set ORDERDESK_MCP_SERVER_KEY"),
        "{}",
        stdout(&rotated)
    );
    assert!(!dir.join("server.key").exists());
    let message = failed(run(&["stores", "list"], &env_old, None));
    assert!(message.contains("server key differs"), "{message}");
    let mut env_new = as_refs(&with_server(&new));
    env_new[0].1 = env_master;
    let listed = succeeded(run(&["stores", "list"], &env_new, None));
    assert!(stdout(&listed).contains(DEMO_STORE_ID));
}

#[test]
fn access_tokens_through_the_command_line_are_shown_once_and_never_stored() {
    let dir = fresh_dir("keys-tokens");
    let (tenant, master_key) = create_tenant(&dir);
    let env = [("ORDERDESK_MCP_MASTER_KEY", master_key.as_str())];
    let run = |args: &[&str]| cli(&dir, args, &env, None);
    // A store to name with --store (saved unchecked: no OrderDesk needed).
    succeeded(cli(
        &dir,
        &[
            "stores",
            "add",
            "--store-id",
            "1001",
            "--name",
            "demo",
            "--no-verify",
        ],
        &env,
        Some("SomeApiKey0123456789\n"),
    ));

    // The defaults: read, every store, 90 days; as JSON for scripts.
    let created = succeeded(run(&["token", "create", "--json"]));
    let created: Value = serde_json::from_slice(&created.stdout).unwrap();
    let first = created["token"].as_str().unwrap().to_string();
    assert!(first.starts_with("odat_") && first.len() == 69, "{created}");
    let first_id = created["token_id"].as_str().unwrap().to_string();
    assert!(first_id.starts_with("tok_"), "{created}");
    assert_eq!(created["scope"], "read");
    assert_eq!(created["tenant_id"], tenant.as_str());
    assert!(created["store_id"].is_null() && created["label"].is_null());
    assert!(created["expires_at"].is_string() && created["expired"] == false);
    assert!(created["last_used_at"].is_null() && created["revoked_at"].is_null());

    // As text: the token once, what it is for, and how to use it.
    let created = succeeded(run(&[
        "token",
        "create",
        "--scope",
        "write",
        "--store",
        "demo",
        "--expires",
        "never",
        "--label",
        "laptop",
    ]));
    let text = stdout(&created);
    let second = text
        .lines()
        .find_map(|l| l.strip_prefix("token:"))
        .unwrap()
        .trim()
        .to_string();
    assert!(second.starts_with("odat_") && second != first, "{text}");
    for expected in [
        "scope:   write",
        "store:   demo (1001)",
        "expires: never",
        "label:   laptop",
        "shown only now",
        "Authorization: Bearer <token>",
    ] {
        assert!(text.contains(expected), "{expected:?} in {text}");
    }
    let second_id = text
        .lines()
        .find_map(|l| l.strip_prefix("id:"))
        .unwrap()
        .trim()
        .to_string();
    succeeded(run(&["token", "create", "--expires", "12h"]));

    // What is refused, and why.
    let message = failed(run(&["token", "create", "--expires", "5x"]));
    assert!(
        message.contains("not a lifetime") && message.contains("30d"),
        "{message}"
    );
    let message = failed(run(&["token", "create", "--scope", "admin"]));
    assert!(
        message.contains("read") && message.contains("write"),
        "{message}"
    );
    let message = failed(run(&["token", "create", "--store", "nosuch"]));
    assert!(
        message.contains("--store") && message.contains("nosuch"),
        "{message}"
    );
    let message = failed(cli(&dir, &["token", "list"], &[], None));
    assert!(message.contains("ORDERDESK_MCP_MASTER_KEY"), "{message}");

    // The list: every token by id, never a token itself.
    let listed = stdout(&succeeded(run(&["token", "list"])));
    let header = listed.lines().next().unwrap();
    for column in [
        "ID",
        "LABEL",
        "SCOPE",
        "STORE",
        "CREATED",
        "LAST USED",
        "EXPIRES",
        "REVOKED",
    ] {
        assert!(header.contains(column), "{header}");
    }
    assert_eq!(listed.lines().count(), 4, "{listed}");
    for expected in [&first_id, &second_id, "laptop", "demo (1001)", "all stores"] {
        assert!(listed.contains(expected), "{expected:?} in {listed}");
    }
    let listed_json = stdout(&succeeded(run(&["token", "list", "--json"])));
    let tokens: Value = serde_json::from_str(&listed_json).unwrap();
    assert_eq!(tokens.as_array().unwrap().len(), 3);
    let laptop = tokens
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["token_id"] == second_id.as_str())
        .unwrap();
    assert_eq!(laptop["store_name"], "demo");
    assert_eq!(laptop["scope"], "write");
    assert!(laptop["expires_at"].is_null());
    for output in [&listed, &listed_json] {
        assert!(!output.contains("odat_"), "{output}");
    }

    // Revoke by id: at once; again changes nothing. A token given instead of its id,
    // or an unknown id, is refused without being echoed.
    let revoked = stdout(&succeeded(run(&["token", "revoke", &second_id])));
    assert!(revoked.contains("revoked access token"), "{revoked}");
    let again = stdout(&succeeded(run(&["token", "revoke", &second_id])));
    assert!(again.contains("already revoked"), "{again}");
    let message = failed(run(&["token", "revoke", &first]));
    assert!(message.contains("not a token id"), "{message}");
    assert!(!message.contains(&first[5..]), "{message}");
    let message = failed(run(&["token", "revoke", "tok_000000000000"]));
    assert!(message.contains("token list"), "{message}");
    let tokens: Value =
        serde_json::from_slice(&succeeded(run(&["token", "list", "--json"])).stdout).unwrap();
    let laptop = tokens
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["token_id"] == second_id.as_str())
        .unwrap();
    assert!(laptop["revoked_at"].is_string(), "{laptop}");

    // Audited from the command line, without a token.
    let rows = audit_rows(&dir);
    let cli_rows: Vec<(&str, &str)> = rows
        .iter()
        .filter(|r| r.1 == "cli")
        .map(|r| (r.0.as_str(), r.5.as_str()))
        .collect();
    for expected in [
        ("token create", "ok"),
        ("token create", "error:not_found"),
        ("token list", "ok"),
        ("token revoke", "ok"),
        ("token revoke", "error:invalid_input"),
        ("token revoke", "error:not_found"),
    ] {
        assert!(cli_rows.contains(&expected), "{expected:?} in {cli_rows:?}");
    }
    let made = rows.iter().filter(|r| r.0 == "token create" && r.5 == "ok");
    assert_eq!(made.count(), 3);
    let everything = format!("{rows:?}");
    for token in [&first, &second] {
        assert!(
            !everything.contains(&token[5..]),
            "a token is in the audit log"
        );
    }

    // No file of the data directory holds a token (nor the master key).
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            continue;
        }
        let bytes = std::fs::read(&path).unwrap();
        for secret in [&first, &second, &master_key] {
            let needle = &secret.as_bytes()[5..];
            assert!(
                !bytes.windows(needle.len()).any(|w| w == needle),
                "{} holds a secret",
                path.display()
            );
        }
    }
}
