//! End to end: the real binary over stdio, driven by rmcp's client.

#[path = "support/server.rs"]
mod server;

use serde_json::{Value, json};
use server::{Launch, call, err, fresh_dir, ok, text_of};

/// Alive means: still answers a request.
async fn assert_alive<H: rmcp::ClientHandler>(
    client: &rmcp::service::RunningService<rmcp::RoleClient, H>,
) {
    let tools = client
        .list_all_tools()
        .await
        .expect("the server still answers tools/list");
    assert!(!tools.is_empty());
}

#[tokio::test]
async fn stdio_session_lists_calls_validates_and_survives() {
    let dir = fresh_dir("e2e-basic");
    let launch = Launch::new(&dir);
    let client = launch.start().await;

    // initialize
    let info = client.peer_info().expect("initialized");
    assert_eq!(
        info.server_info.as_ref().map(|s| s.name.as_str()),
        Some("orderdesk-mcp")
    );
    assert!(info.capabilities.tools.is_some());

    // tools/list: names, schemas, annotations of all three first-party components
    let tools = client.list_all_tools().await.unwrap();
    let names: Vec<&str> = tools.iter().map(|t| t.name.as_ref()).collect();
    for expected in [
        "tenant_info",
        "tenant_use_master_key",
        "stores_register",
        "stores_list",
        "orders_list",
        "orders_get",
    ] {
        assert!(names.contains(&expected), "missing {expected} in {names:?}");
    }
    let name_ok = |n: &str| {
        !n.is_empty()
            && n.len() <= 64
            && n.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
    };
    assert!(names.iter().all(|n| name_ok(n)), "{names:?}");
    let register = tools.iter().find(|t| t.name == "stores_register").unwrap();
    assert_eq!(register.input_schema.get("type"), Some(&json!("object")));
    let required = register
        .input_schema
        .get("required")
        .and_then(Value::as_array)
        .unwrap();
    assert!(required.contains(&json!("api_key")));
    let annotations = tools
        .iter()
        .find(|t| t.name == "tenant_info")
        .unwrap()
        .annotations
        .clone()
        .unwrap();
    assert_eq!(annotations.read_only_hint, Some(true));
    let delete = tools
        .iter()
        .find(|t| t.name == "orders_delete")
        .unwrap()
        .annotations
        .clone()
        .unwrap();
    assert_eq!(delete.destructive_hint, Some(true));
    assert_eq!(delete.read_only_hint, Some(false));

    // a tool call: structuredContent plus a text copy of the same data, in TOON
    let result = call(&client, "tenant_info", json!({})).await;
    let info = ok(&result);
    assert_eq!(info["authenticated"], json!(false));
    let text: Value =
        toon_format::decode_default(&text_of(&result)).expect("the text copy is TOON");
    assert_eq!(text, info);
    assert_alive(&client).await;

    // invalid arguments: a tool error naming the field, before the component runs
    let result = call(
        &client,
        "stores_register",
        json!({"store_id": 12345, "api_key": "k"}),
    )
    .await;
    let message = err(&result);
    assert!(message.contains("store_id"), "{message}");
    assert_alive(&client).await;
    let result = call(&client, "tenant_use_master_key", json!({})).await;
    assert!(err(&result).contains("master_key"));
    assert_alive(&client).await;

    // an unknown tool: a protocol error, and the server goes on
    let unknown = client
        .call_tool(rmcp::model::CallToolRequestParams::new("no_such_tool"))
        .await;
    let error = unknown.expect_err("unknown tool is an error").to_string();
    assert!(error.contains("no_such_tool"), "{error}");
    assert_alive(&client).await;

    client.cancel().await.unwrap();
    // Logs went to stderr, and stdout carried only JSON-RPC (else the client would have
    // failed to parse it).
    assert!(launch.stderr().contains("serving MCP over stdio"));
}

#[tokio::test]
async fn sandbox_session_is_authenticated_with_the_demo_store() {
    let dir = fresh_dir("e2e-sandbox");
    let launch = Launch::new(&dir).sandbox();
    let client = launch.start().await;
    let info = ok(&call(&client, "tenant_info", json!({})).await);
    assert_eq!(info["authenticated"], json!(true));
    assert_eq!(info["sandbox"], json!(true));
    assert_eq!(info["active_store"]["store_id"], json!("100001"));
    let test = ok(&call(&client, "stores_test", json!({})).await);
    assert_eq!(test["store_id"], json!("100001"));
    assert_eq!(test["ok"], json!(true), "{test}");
    // The sandbox knows only its demo tenant: a real master key is not available here,
    // and the answer says how to use one.
    let key = format!("odmk_{}", "0".repeat(64));
    let message = err(&call(&client, "tenant_use_master_key", json!({"master_key": key})).await);
    assert!(message.contains("without --sandbox"), "{message}");
    let info = ok(&call(&client, "tenant_info", json!({})).await);
    assert_eq!(
        info["active_store"]["store_id"],
        json!("100001"),
        "unchanged"
    );
    client.cancel().await.unwrap();
}
