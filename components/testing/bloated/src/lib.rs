//! `bloated`: a test-only component that declares 1,000 tools, `bloated_0` to
//! `bloated_999`, so the host's limit on tools per component can be tested. Each returns
//! `{"tool": n}`. Imports nothing from `orderdesk:mcp`.

use orderdesk_tool_kit::{Guest, Tool, ToolError, ToolResult, annotations, ok_json, tool};
use serde_json::json;

/// How many tools this component declares.
const TOOLS: usize = 1_000;

struct Bloated;

impl Guest for Bloated {
    fn list() -> Vec<Tool> {
        (0..TOOLS)
            .map(|i| {
                tool(
                    &format!("bloated_{i}"),
                    &format!("Bloated tool {i}"),
                    "One of a thousand tools; returns its number.",
                    json!({"type": "object", "properties": {}, "additionalProperties": false}),
                    annotations(true, false, true, false),
                )
            })
            .collect()
    }

    fn call(name: String, _arguments: String) -> ToolResult {
        match name
            .strip_prefix("bloated_")
            .and_then(|n| n.parse::<usize>().ok())
        {
            Some(n) if n < TOOLS => ok_json(json!({"tool": n})),
            _ => Err(ToolError::InvalidInput(format!(
                "the bloated component has no tool named `{name}`"
            ))),
        }
    }
}

orderdesk_tool_kit::bindings::export_tools!(Bloated);
