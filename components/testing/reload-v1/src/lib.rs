//! `reload-v1`: version 1 of a test-only component that the hot-reload tests replace with
//! `reload-v2` (copied under the same file name). Tool: `reload_probe` → `{"version":1}`.
//! Imports nothing from `orderdesk:mcp`.

use orderdesk_tool_kit::{Guest, Tool, ToolError, ToolResult, annotations, ok_json, tool};
use serde_json::json;

struct ReloadV1;

impl Guest for ReloadV1 {
    fn list() -> Vec<Tool> {
        vec![tool(
            "reload_probe",
            "Reload probe",
            "Returns the version of the component that answers.",
            json!({"type": "object", "properties": {}, "additionalProperties": false}),
            annotations(true, false, true, false),
        )]
    }

    fn call(name: String, _arguments: String) -> ToolResult {
        match name.as_str() {
            "reload_probe" => ok_json(json!({"version": 1})),
            other => Err(ToolError::InvalidInput(format!("no tool named `{other}`"))),
        }
    }
}

orderdesk_tool_kit::bindings::export_tools!(ReloadV1);
