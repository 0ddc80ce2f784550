//! `reload-v2`: version 2 of the hot-reload test component (see `reload-v1`). Tools:
//! `reload_probe` → `{"version":2}` and the new `reload_added` → `{"added":true}`.
//! Imports nothing from `orderdesk:mcp`.

use orderdesk_tool_kit::{Guest, Tool, ToolError, ToolResult, annotations, ok_json, tool};
use serde_json::json;

struct ReloadV2;

impl Guest for ReloadV2 {
    fn list() -> Vec<Tool> {
        let schema = json!({"type": "object", "properties": {}, "additionalProperties": false});
        vec![
            tool(
                "reload_probe",
                "Reload probe",
                "Returns the version of the component that answers.",
                schema.clone(),
                annotations(true, false, true, false),
            ),
            tool(
                "reload_added",
                "Added in version 2",
                "Exists only in version 2.",
                schema,
                annotations(true, false, true, false),
            ),
        ]
    }

    fn call(name: String, _arguments: String) -> ToolResult {
        match name.as_str() {
            "reload_probe" => ok_json(json!({"version": 2})),
            "reload_added" => ok_json(json!({"added": true})),
            other => Err(ToolError::InvalidInput(format!("no tool named `{other}`"))),
        }
    }
}

orderdesk_tool_kit::bindings::export_tools!(ReloadV2);
