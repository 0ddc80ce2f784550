//! `reload-v1`: version 1 of a test-only component that the hot-reload tests replace with
//! `reload-v2` (copied under the same file name). Tool: `reload_probe` → `{"version":1}`.
//! Imports nothing from `orderdesk:mcp`.

use orderdesk_tool_kit::args::NoArguments;
use orderdesk_tool_kit::{ToolSpec, Tools, annotations};
use serde_json::json;

fn tools() -> Tools {
    Tools::new("reload").tool(
        ToolSpec::new(
            "reload_probe",
            "Reload probe",
            "Returns the version of the component that answers.",
        )
        .annotations(annotations(true, false, true, false))
        .run(|_: NoArguments| Ok(json!({"version": 1}))),
    )
}

orderdesk_tool_kit::export!(tools);
