//! `echo`: a test-only component with one trivial tool, `echo`, which answers
//! `{"echo": arguments}`. The per-call benchmarks call it: it is the smallest thing a
//! component can do, so what they measure is the host's cost of a call (a fresh
//! instance, the arguments in, the result out), not the tool's.
//!
//! Imports nothing from `orderdesk:mcp` and no WASI interface beyond what Rust's std
//! links into every wasm32-wasip2 component. It implements the WIT `Guest` directly,
//! without the kit's tool table, so that the benchmarks' baseline stays the bare
//! minimum.

use orderdesk_tool_kit::{Guest, Tool, ToolError, ToolResult, annotations};
use serde_json::{Value, json};

struct Echo;

impl Guest for Echo {
    fn list() -> Vec<Tool> {
        vec![Tool {
            name: "echo".to_string(),
            title: Some("Echo".to_string()),
            description: "Returns its arguments as {\"echo\": arguments}.".to_string(),
            input_schema: json!({"type": "object", "properties": {}, "additionalProperties": true})
                .to_string(),
            output_schema: None,
            annotations: annotations(true, false, true, false),
        }]
    }

    fn call(name: String, arguments: String) -> ToolResult {
        if name != "echo" {
            return Err(ToolError::InvalidInput(format!(
                "the echo component has no tool named `{name}`"
            )));
        }
        let arguments: Value = serde_json::from_str(&arguments)
            .map_err(|e| ToolError::InvalidInput(format!("arguments are not JSON: {e}")))?;
        Ok(json!({ "echo": arguments }).to_string())
    }
}

orderdesk_tool_kit::bindings::export_tools!(Echo);
