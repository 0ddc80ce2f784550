//! Trust boundaries end to end, through the real binary: a write cut off by the call's
//! time limit is reported as outcome-unknown (never as "nothing happened") and is on
//! record before it leaves; components run only when the operator trusted their exact
//! file; a component's `list` reaches no host function.

#[path = "support/server.rs"]
mod server;

use std::path::Path;
use std::time::Duration;

use orderdesk_sim::{DEMO_STORE_ID, Fault, FaultKind, SimConfig, Simulator};
use serde_json::json;
use server::{Launch, call, create_tenant, eventually, fresh_dir, register_demo_store};

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
