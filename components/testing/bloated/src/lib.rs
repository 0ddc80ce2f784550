//! `bloated`: a test-only component that declares 1,000 tools, `bloated_0` to
//! `bloated_999`, so the host's limit on tools per component can be tested. Each returns
//! `{"tool": n}`. Imports nothing from `orderdesk:mcp`.

use orderdesk_tool_kit::args::NoArguments;
use orderdesk_tool_kit::{ToolSpec, Tools, annotations};
use serde_json::json;

/// How many tools this component declares.
const TOOLS: usize = 1_000;

fn tools() -> Tools {
    Tools::new("bloated").extend((0..TOOLS).map(|n| {
        ToolSpec::new(
            format!("bloated_{n}"),
            format!("Bloated tool {n}"),
            "One of a thousand tools; returns its number.",
        )
        .annotations(annotations(true, false, true, false))
        .run(move |_: NoArguments| Ok(json!({"tool": n})))
    }))
}

orderdesk_tool_kit::export!(tools);
