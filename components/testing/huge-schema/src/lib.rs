//! `huge-schema`: a test-only component with one tool, `huge_schema_tool`, whose input
//! schema is a valid JSON object of about 1 MB (a 1,000,000-character description), so
//! the host's limit on schema size can be tested. Imports nothing from `orderdesk:mcp`.

use orderdesk_tool_kit::args::NoArguments;
use orderdesk_tool_kit::{ToolSpec, Tools, annotations};
use serde_json::json;

/// Length of the `description` inside the input schema.
const DESCRIPTION_CHARS: usize = 1_000_000;

fn tools() -> Tools {
    Tools::new("huge-schema").tool(
        ToolSpec::new(
            "huge_schema_tool",
            "Tool with a huge schema",
            "Its input schema is about 1 MB.",
        )
        .input(|| {
            json!({
                "type": "object",
                "description": "d".repeat(DESCRIPTION_CHARS),
                "properties": {},
                "additionalProperties": false
            })
        })
        .annotations(annotations(true, false, true, false))
        .run(|_: NoArguments| Ok(json!({}))),
    )
}

orderdesk_tool_kit::export!(tools);
