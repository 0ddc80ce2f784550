//! `reload-v2`: version 2 of the hot-reload test component (see `reload-v1`). Tools:
//! `reload_probe` → `{"version":2}` and the new `reload_added` → `{"added":true}`.
//! Imports nothing from `orderdesk:mcp`.

use orderdesk_tool_kit::args::NoArguments;
use orderdesk_tool_kit::{ToolSpec, Tools, annotations};
use serde_json::json;

fn tools() -> Tools {
    Tools::new("reload")
        .tool(
            ToolSpec::new(
                "reload_probe",
                "Reload probe",
                "Returns the version of the component that answers.",
            )
            .annotations(annotations(true, false, true, false))
            .run(|_: NoArguments| Ok(json!({"version": 2}))),
        )
        .tool(
            ToolSpec::new(
                "reload_added",
                "Added in version 2",
                "Exists only in version 2.",
            )
            .annotations(annotations(true, false, true, false))
            .run(|_: NoArguments| Ok(json!({"added": true}))),
        )
}

orderdesk_tool_kit::export!(tools);
