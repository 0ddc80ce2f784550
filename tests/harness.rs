//! The authors' test harness itself: the mock host runs real components with the real
//! runtime and grant checks, and a component that makes the wrong request fails with a
//! message showing the expected and the actual request.

#[path = "support/server.rs"]
mod server;
#[path = "support/test_components.rs"]
mod test_components;

use orderdesk_harness::{Exchange, Harness, HarnessOptions, ScriptedFailure};
use orderdesk_host::grants::{Grants, OrderDeskAccess};
use serde_json::json;
use server::{binary, fresh_dir};
use test_components::test_components_dir;

fn hostile_grants() -> Grants {
    Grants {
        orderdesk: OrderDeskAccess::Read,
        log: true,
        ..Grants::default()
    }
}

async fn hostile() -> Harness {
    let wasm = test_components_dir().join("hostile.wasm");
    let mut options = HarnessOptions::with_store(hostile_grants());
    // A short CPU budget, so that the loop test ends quickly.
    options.limits.max_cpu_time = std::time::Duration::from_millis(500);
    Harness::load(&wasm, options).await.unwrap()
}

#[tokio::test]
async fn a_scripted_request_gets_its_canned_reply() {
    let harness = hostile().await;
    harness.expect(Exchange::get("/test").respond(200, json!({"status": "success"})));
    let outcome = harness.call("hostile_get", json!({})).await.unwrap();
    assert!(!outcome.is_error, "{}", outcome.text);
    assert_eq!(outcome.value["outcome"], "ok");
    harness.verify().unwrap();
    let requests = harness.requests();
    assert_eq!(requests.len(), 1);
    assert_eq!(requests[0].store_id, "100001");
}

#[tokio::test]
async fn the_wrong_request_fails_showing_expected_and_actual() {
    let harness = hostile().await;
    harness.expect(Exchange::get("/orders").query("limit", "5"));
    let outcome = harness.call("hostile_get", json!({})).await.unwrap();
    // The component saw an error for the unexpected request...
    assert_eq!(outcome.value["outcome"], "error", "{}", outcome.value);
    // ...and the test fails with both requests in the message.
    let problems = harness.verify().unwrap_err().0;
    assert!(
        problems.contains("expected: GET /orders?limit=5"),
        "{problems}"
    );
    assert!(problems.contains("actual:   GET /test"), "{problems}");
}

#[tokio::test]
async fn grants_and_failures_behave_as_in_production() {
    let harness = hostile().await;
    // Read-only grant: the POST never reaches the script.
    let post = harness.call("hostile_post", json!({})).await.unwrap();
    assert_eq!(post.value["kind"], "access-denied", "{}", post.value);
    assert!(harness.requests().is_empty());
    // Scripted failures reach the component as the gateway would report them.
    harness.expect(Exchange::get("/test").fail(ScriptedFailure::RateLimited {
        retry_after_ms: 2000,
    }));
    let limited = harness.call("hostile_get", json!({})).await.unwrap();
    assert_eq!(limited.value["kind"], "rate-limited", "{}", limited.value);
    harness.verify().unwrap();
    // Limits are the host's own: the endless loop is stopped by the CPU-time limit.
    let looped = harness.call("hostile_loop", json!({})).await.unwrap();
    assert!(looped.is_error, "{}", looped.text);
    assert_eq!(looped.error_kind(), Some("limit"), "{}", looped.text);
    assert!(looped.text.contains("CPU-time limit"), "{}", looped.text);
    // Logs are collected.
    harness.call("hostile_log_flood", json!({})).await.unwrap();
    assert!(!harness.logs().is_empty());

    // A component importing more than it was granted is refused at load, as in production.
    let wasm = test_components_dir().join("hostile.wasm");
    let refused = Harness::load(
        &wasm,
        HarnessOptions::with_store(Grants {
            log: true,
            ..Grants::default()
        }),
    )
    .await;
    let message = format!("{:#}", refused.err().expect("refused"));
    assert!(
        message.contains("orderdesk:mcp/orderdesk@0.1.0"),
        "{message}"
    );
}

#[test]
fn the_cli_runs_a_case_file_and_reports_failures() {
    let wasm = test_components_dir().join("hostile.wasm");
    let dir = fresh_dir("harness-cli");
    std::fs::write(
        dir.join("hostile.toml"),
        "[grants]\norderdesk = \"read\"\nlog = true\n",
    )
    .unwrap();
    let cases = json!({
        "cases": [
            {"name": "echo", "tool": "hostile_echo", "arguments": {"x": 1}, "expect": {"ok": {"echo": {"x": 1}}}},
            {"name": "get test", "tool": "hostile_get",
             "orderdesk": [{"request": {"method": "GET", "path": "/test"}, "response": {"body": {"status": "success"}}}],
             "expect": {"ok": {"outcome": "ok", "status": 200}}},
            {"name": "wrong path", "tool": "hostile_get",
             "orderdesk": [{"request": {"method": "GET", "path": "/store"}, "response": {"body": {}}}],
             "expect": {"ok": {"outcome": "ok"}}}
        ]
    });
    std::fs::write(dir.join("cases.json"), cases.to_string()).unwrap();
    let output = std::process::Command::new(binary())
        .args(["component", "test"])
        .arg(&wasm)
        .arg(dir.join("cases.json"))
        .arg("--grants")
        .arg(dir.join("hostile.toml"))
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(!output.status.success(), "one case fails: {stdout}");
    assert!(stdout.contains("ok     echo"), "{stdout}");
    assert!(stdout.contains("ok     get test"), "{stdout}");
    assert!(stdout.contains("FAILED wrong path"), "{stdout}");
    assert!(stdout.contains("expected: GET /store"), "{stdout}");
    assert!(stdout.contains("actual:   GET /test"), "{stdout}");
    assert_eq!(
        stdout.matches("expected: GET /store").count(),
        1,
        "the mismatch is reported once, not echoed by the component's error too: {stdout}"
    );
    assert!(stdout.contains("2 passed, 1 failed"), "{stdout}");
    // Only the verdict on stderr: no log lines.
    assert_eq!(
        String::from_utf8_lossy(&output.stderr),
        "error: 1 case(s) failed\n"
    );

    // `orderdesk-mcp component check WASM --grants FILE`.
    let component_check = |grants: &str| {
        std::process::Command::new(binary())
            .args(["component", "check"])
            .arg(&wasm)
            .arg("--grants")
            .arg(dir.join(grants))
            .output()
            .unwrap()
    };
    let check = component_check("hostile.toml");
    let report = String::from_utf8_lossy(&check.stdout);
    assert!(
        check.status.success(),
        "{}",
        String::from_utf8_lossy(&check.stderr)
    );
    assert!(report.contains("component `hostile`: OK"), "{report}");
    assert!(report.contains("tool hostile_echo"), "{report}");

    // A --grants file that is not there is an error, not a quiet `log`-only run.
    let missing = component_check("no-such-grants.toml");
    let stderr = String::from_utf8_lossy(&missing.stderr);
    assert!(!missing.status.success(), "a missing grants file must fail");
    assert!(
        stderr.contains("no-such-grants.toml") && stderr.contains("--grants"),
        "{stderr}"
    );
}

/// The first-party inventory component under the harness: what it sends, exactly.
async fn inventory() -> Harness {
    let embedded = orderdesk_host::app::embedded::FIRST_PARTY
        .iter()
        .find(|c| c.name == "inventory")
        .expect("inventory is built in");
    Harness::load_bytes(
        "inventory",
        orderdesk_host::runtime::ComponentOrigin::Embedded,
        embedded.wasm,
        HarnessOptions::with_store(embedded.grants),
    )
    .await
    .unwrap()
}

#[tokio::test]
async fn inventory_update_puts_the_whole_merged_item() {
    let harness = inventory().await;
    let stored = json!({
        "id": "55", "name": "Mug", "code": "MUG-1", "price": "12.00", "stock": "7",
        "variation_list": [], "metadata": {"shelf": "B2"}, "vendor_note": "undocumented"
    });
    let mut merged = stored.clone();
    merged["stock"] = json!(9);
    merged["metadata"]["shelf"] = json!("C1");
    harness.expect(
        Exchange::get("/inventory-items/55")
            .respond(200, json!({"status": "success", "inventory_item": stored})),
    );
    harness.expect(
        Exchange::put("/inventory-items/55")
            .body(merged.clone())
            .respond(200, json!({"status": "success", "inventory_item": merged})),
    );
    let outcome = harness
        .call(
            "inventory_update",
            json!({"item_id": "55", "changes": {"stock": 9, "metadata": {"shelf": "C1"}}}),
        )
        .await
        .unwrap();
    assert!(!outcome.is_error, "{}", outcome.text);
    harness.verify().unwrap();
}

#[tokio::test]
async fn inventory_create_after_a_503_says_the_outcome_is_unknown() {
    let harness = inventory().await;
    harness.expect(
        Exchange::post("/inventory-items").fail(ScriptedFailure::OutcomeUnknown {
            message: "OrderDesk answered 503 after the request was sent".into(),
        }),
    );
    let outcome = harness
        .call(
            "inventory_create",
            json!({"item": {"name": "Mug", "code": "MUG-2", "price": 5}}),
        )
        .await
        .unwrap();
    assert!(outcome.is_error);
    assert_eq!(
        outcome.error_kind(),
        Some("outcome_unknown"),
        "{}",
        outcome.text
    );
    assert!(outcome.text.contains("inventory_list"), "{}", outcome.text);
    harness.verify().unwrap();
    // Invalid arguments never reach OrderDesk.
    harness.reset();
    let invalid = harness
        .call("inventory_list", json!({"limit": 0}))
        .await
        .unwrap();
    assert_eq!(invalid.error_kind(), Some("invalid_input"));
    assert!(harness.requests().is_empty());
}

/// The template authors start from passes its own case file (keeps the guide honest).
#[tokio::test]
async fn the_template_passes_its_case_file() {
    let wasm = test_components_dir().join("template.wasm");
    let root = test_components::repo_root().join("components/template");
    let grants = Grants::for_file(&root.join("template.wasm")).unwrap();
    assert_eq!(grants.orderdesk, OrderDeskAccess::Read);
    let results = orderdesk_harness::run_case_file(&wasm, &root.join("cases.json"), grants)
        .await
        .unwrap();
    assert!(results.len() >= 2);
    for result in results {
        assert!(
            result.failures.is_empty(),
            "{}: {:?}",
            result.name,
            result.failures
        );
    }
}
