//! Results checked against the output schema their tool declares, with a real JSON
//! Schema validator (the kit's unit tests only check the top level): what an MCP client
//! that validates `structuredContent` would do.

use rmcp::RoleClient;
use rmcp::service::RunningService;
use serde_json::Value;

use crate::server::{call, ok};

/// Call `tool` with `arguments`, expect success, and check its `structuredContent`
/// against the tool's `outputSchema` (which it must declare).
pub async fn checked_call(
    client: &RunningService<RoleClient, ()>,
    tool: &str,
    arguments: Value,
) -> Value {
    let result = ok(&call(client, tool, arguments.clone()).await);
    let tools = client.list_all_tools().await.unwrap();
    let spec = tools
        .iter()
        .find(|t| t.name == tool)
        .unwrap_or_else(|| panic!("no tool `{tool}`"));
    let schema = Value::Object(
        spec.output_schema
            .as_ref()
            .unwrap_or_else(|| panic!("`{tool}` declares no output schema"))
            .as_ref()
            .clone(),
    );
    let validator = jsonschema::validator_for(&schema)
        .unwrap_or_else(|e| panic!("the output schema of `{tool}` does not compile: {e}"));
    let problems: Vec<String> = validator
        .iter_errors(&result)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect();
    assert!(
        problems.is_empty(),
        "the result of `{tool}` {arguments} does not match its output schema: {problems:?}\n{result}"
    );
    result
}
