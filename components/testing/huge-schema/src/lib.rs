//! `huge-schema`: a test-only component with one tool, `huge_schema_tool`, whose input
//! schema is a valid JSON object of about 1 MB (a 1,000,000-character description), so
//! the host's limit on schema size can be tested. Imports nothing from `orderdesk:mcp`.

use orderdesk_tool_kit::{Guest, Tool, ToolError, ToolResult, annotations, ok_json, tool};
use serde_json::json;

/// Length of the `description` inside the input schema.
const DESCRIPTION_CHARS: usize = 1_000_000;

struct HugeSchema;

impl Guest for HugeSchema {
    fn list() -> Vec<Tool> {
        vec![tool(
            "huge_schema_tool",
            "Tool with a huge schema",
            "Its input schema is about 1 MB.",
            json!({
                "type": "object",
                "description": "d".repeat(DESCRIPTION_CHARS),
                "properties": {},
                "additionalProperties": false
            }),
            annotations(true, false, true, false),
        )]
    }

    fn call(name: String, _arguments: String) -> ToolResult {
        match name.as_str() {
            "huge_schema_tool" => ok_json(json!({})),
            other => Err(ToolError::InvalidInput(format!(
                "the huge-schema component has no tool named `{other}`"
            ))),
        }
    }
}

orderdesk_tool_kit::bindings::export_tools!(HugeSchema);
