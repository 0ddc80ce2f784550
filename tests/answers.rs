//! Answers sized and typed for a model, end to end against the sandbox: every tool
//! declares an output schema (and `server::call` checks every answer of every test
//! against it), the text copy carries the same data in fewer bytes, the prompts name
//! only tools that exist, and the tenant can ask what time it is and what it did.

#[path = "support/server.rs"]
mod server;

use std::collections::BTreeSet;

use rmcp::model::GetPromptRequestParams;
use serde_json::{Value, json};
use server::{FIRST_PARTY_PREFIXES, Launch, call, err, eventually, fresh_dir, ok, text_of};

#[tokio::test]
async fn every_first_party_tool_declares_valid_input_and_output_schemas() {
    let dir = fresh_dir("answers-schemas");
    let client = Launch::new(&dir).sandbox().start().await;
    let tools = client.list_all_tools().await.unwrap();
    assert!(tools.len() >= 30, "{} tools", tools.len());
    for tool in &tools {
        assert!(
            FIRST_PARTY_PREFIXES
                .iter()
                .any(|p| tool.name.starts_with(p)),
            "the sandbox serves only first-party tools, not `{}`",
            tool.name
        );
        let output = tool
            .output_schema
            .as_ref()
            .unwrap_or_else(|| panic!("`{}` has no outputSchema", tool.name));
        assert_eq!(output.get("type"), Some(&json!("object")), "{}", tool.name);
        for (what, schema) in [
            ("input", Value::Object(tool.input_schema.as_ref().clone())),
            ("output", Value::Object(output.as_ref().clone())),
        ] {
            jsonschema::validator_for(&schema).unwrap_or_else(|e| {
                panic!("the {what} schema of `{}` is not valid: {e}", tool.name)
            });
        }
    }
    client.cancel().await.unwrap();
}

#[tokio::test]
async fn the_text_copy_holds_the_same_data_in_fewer_bytes_than_json() {
    let dir = fresh_dir("answers-text-copy");
    let toon = Launch::new(&dir).sandbox().start().await;
    let page = call(&toon, "orders_list", json!({"limit": 50})).await;
    // `call` already checked that the copy decodes to the structured content.
    let structured = ok(&page);
    let json_text = serde_json::to_string(&structured).unwrap();
    let copy = text_of(&page);
    assert!(
        copy.len() * 10 < json_text.len() * 9,
        "the TOON copy ({} bytes) is not smaller than the JSON ({} bytes)",
        copy.len(),
        json_text.len()
    );
    toon.cancel().await.unwrap();

    // An operator whose clients parse the text as JSON gets JSON.
    let dir = fresh_dir("answers-text-copy-json");
    let json_copy = Launch::new(&dir)
        .sandbox()
        .env("ORDERDESK_MCP_TEXT_COPY", "json")
        .start()
        .await;
    let info = call(&json_copy, "tenant_info", json!({})).await;
    let parsed: Value = serde_json::from_str(&text_of(&info)).unwrap();
    assert_eq!(Some(parsed), info.structured_content);
    json_copy.cancel().await.unwrap();
}

#[tokio::test]
async fn prompts_fill_in_the_date_and_name_only_served_tools() {
    let dir = fresh_dir("answers-prompts");
    let client = Launch::new(&dir).sandbox().start().await;
    let tools: BTreeSet<String> = client
        .list_all_tools()
        .await
        .unwrap()
        .into_iter()
        .map(|t| t.name.to_string())
        .collect();
    let prompts = client.list_all_prompts().await.unwrap();
    let names: Vec<&str> = prompts.iter().map(|p| p.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "review_new_orders",
            "find_customer_orders",
            "check_low_stock"
        ]
    );
    let date = today();
    for (name, arguments) in [
        ("review_new_orders", json!({"folder": "New"})),
        (
            "find_customer_orders",
            json!({"customer": "jo@example.com"}),
        ),
        ("check_low_stock", json!({"threshold": "3"})),
    ] {
        let prompt = client
            .get_prompt(
                GetPromptRequestParams::new(name)
                    .with_arguments(arguments.as_object().unwrap().clone()),
            )
            .await
            .unwrap_or_else(|e| panic!("prompts/get {name}: {e}"));
        let text = prompt.messages[0].content.as_text().unwrap().text.clone();
        let named: Vec<&str> = text
            .split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .filter(|word| {
                FIRST_PARTY_PREFIXES.iter().any(|p| word.starts_with(p)) && word.len() > 6
            })
            .collect();
        assert!(!named.is_empty(), "{name} names no tool:\n{text}");
        for tool in named {
            assert!(
                tools.contains(tool),
                "{name} names `{tool}`, which is not served"
            );
        }
        if name == "review_new_orders" {
            assert!(text.contains(date.as_str()), "{text}");
        }
    }
    let missing = client
        .get_prompt(GetPromptRequestParams::new("find_customer_orders"))
        .await
        .unwrap_err()
        .to_string();
    assert!(missing.contains("needs `customer`"), "{missing}");
    client.cancel().await.unwrap();
}

/// Today's date, UTC, as the server writes it (the vault's clock, which the host uses).
fn today() -> String {
    orderdesk_vault::utc_now()[..10].to_string()
}

#[tokio::test]
async fn the_tenant_sees_the_time_and_its_own_recent_calls() {
    let dir = fresh_dir("answers-audit");
    let client = Launch::new(&dir).sandbox().start().await;
    let info = ok(&call(&client, "tenant_info", json!({})).await);
    let now = info["now_utc"].as_str().unwrap();
    assert_eq!(&now[..10], today(), "{info}");

    ok(&call(
        &client,
        "orders_list",
        json!({"limit": 1, "email": "jo@example.com"}),
    )
    .await);
    let missing = err(&call(&client, "orders_get", json!({"order_id": "999999999"})).await);
    assert!(missing.contains("not found"), "{missing}");
    // Audit rows are written in the background: wait for them.
    eventually("the calls are in the audit log", async || {
        let recent = ok(&call(&client, "audit_recent", json!({"tool": "orders_get"})).await);
        recent["count"] == 1
    })
    .await;
    let errors = ok(&call(&client, "audit_recent", json!({"outcome": "error"})).await);
    let calls = errors["calls"].as_array().unwrap();
    assert_eq!(calls.len(), 1, "{errors}");
    assert_eq!(calls[0]["tool"], "orders_get");
    assert_eq!(calls[0]["outcome"], "error:not_found");
    assert_eq!(calls[0]["arguments"], json!({"order_id": "999999999"}));
    let listed = ok(&call(
        &client,
        "audit_recent",
        json!({"tool": "orders_list", "store": orderdesk_sim::DEMO_STORE_NAME, "since": &now[..10]}),
    )
    .await);
    let arguments = listed["calls"][0]["arguments"].to_string();
    assert!(
        !arguments.contains("jo@example.com"),
        "emails are redacted in the audit: {arguments}"
    );
    client.cancel().await.unwrap();
}

#[tokio::test]
async fn stores_test_takes_store_like_every_store_bound_tool() {
    let dir = fresh_dir("answers-stores-test");
    let client = Launch::new(&dir).sandbox().start().await;
    let stores = ok(&call(&client, "stores_list", json!({})).await);
    let name = stores["stores"][0]["name"].as_str().unwrap().to_string();
    let tested = ok(&call(&client, "stores_test", json!({"store": name})).await);
    assert_eq!(tested["ok"], true, "{tested}");
    let settings = ok(&call(&client, "stores_get_settings", json!({})).await);
    let again = ok(&call(&client, "stores_get_settings", json!({})).await);
    assert!(settings.get("cache_age_s").is_none(), "{settings}");
    assert!(
        again["cache_age_s"].as_u64().is_some(),
        "the second read is cached: {again}"
    );
    let fresh = ok(&call(&client, "stores_get_settings", json!({"fresh": true})).await);
    assert!(fresh.get("cache_age_s").is_none(), "{fresh}");
    client.cancel().await.unwrap();
}
