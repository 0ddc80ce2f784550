//! Figure 7: how big the answers of typical tasks are, in bytes and estimated tokens,
//! against the sandbox. Not timings: sizes are exact, so this figure does not vary
//! between runs except as the sandbox's data does.
//!
//! For each task: the bytes of the `tools/call` result as it travels (the serialised
//! `CallToolResult`: `structuredContent` plus the text copy), the bytes of each part,
//! and the tokens a model reads — one of the two parts, since a client hands the model
//! either the text copy (most clients) or `structuredContent` (Claude Code). Tokens are
//! estimated as bytes / 4, the usual rule of thumb for JSON-like text in English.
//! "Before" is the same server with `ORDERDESK_MCP_TEXT_COPY=json` (the JSON twice, as
//! every answer was) and, for lists, the full view.

use rmcp::model::{CallToolResponse, CallToolResult};
use serde_json::{Value, json};

use crate::Paths;
use crate::client;
use crate::report::{Report, Target};

/// The default view of the last 50 orders must fit this (the target).
const FIFTY_ORDERS_TARGET_BYTES: usize = 20 * 1024;
/// The server's default answer budget (`[limits] answer_kib`).
const ANSWER_BUDGET_BYTES: usize = 60 * 1024;

/// One answer's sizes.
struct Sizes {
    wire: usize,
    structured: usize,
    text: usize,
}

impl Sizes {
    fn of(result: &CallToolResult) -> Sizes {
        let structured = result
            .structured_content
            .as_ref()
            .map_or(0, |v| v.to_string().len());
        let text = result
            .content
            .iter()
            .filter_map(|c| c.as_text())
            .map(|t| t.text.len())
            .sum();
        let wire = serde_json::to_string(result).map_or(0, |s| s.len());
        Sizes {
            wire,
            structured,
            text,
        }
    }

    /// `wire B (structured B + text B); ~N tokens read`.
    fn describe(&self) -> String {
        format!(
            "{} B on the wire ({} B structured + {} B text); model reads ~{} tokens (text) or ~{} (structured)",
            self.wire,
            self.structured,
            self.text,
            self.text / 4,
            self.structured / 4
        )
    }
}

async fn call(
    peer: &rmcp::Peer<rmcp::RoleClient>,
    tool: &str,
    arguments: Value,
) -> anyhow::Result<CallToolResult> {
    let params = client::params(tool, &arguments.to_string());
    match peer.call_tool_once(params).await? {
        CallToolResponse::Complete(result) if result.is_error != Some(true) => Ok(result),
        CallToolResponse::Complete(result) => {
            anyhow::bail!("{tool} {arguments} answered an error: {:?}", result.content)
        }
        _ => anyhow::bail!("{tool} did not complete"),
    }
}

/// The tasks, measured on a sandbox server whose text copy is `text_copy`.
async fn measure(
    paths: &Paths,
    text_copy: &str,
    tasks: &[(&str, &str, Value)],
) -> anyhow::Result<Vec<Sizes>> {
    let data = paths.work.join(format!("answers-{text_copy}"));
    let server = client::start_warm(&data, || {
        let mut cmd = client::ours_sandbox(paths, &data)?;
        cmd.env("ORDERDESK_MCP_TEXT_COPY", text_copy);
        Ok(cmd)
    })
    .await?;
    let peer = server.peer();
    let mut sizes = Vec::new();
    for (_, tool, arguments) in tasks {
        sizes.push(Sizes::of(&call(&peer, tool, arguments.clone()).await?));
    }
    server.stop().await?;
    Ok(sizes)
}

pub async fn run(paths: &Paths, report: &mut Report) -> anyhow::Result<()> {
    report.group("7. answer sizes: typical tasks on the sandbox (bytes; tokens ≈ bytes / 4)");
    // An order id and 50 of them for the single read and the bulk update.
    let ids = {
        let data = paths.work.join("answers-ids");
        let server = client::start_warm(&data, || client::ours_sandbox(paths, &data)).await?;
        let page = call(
            &server.peer(),
            "orders_list",
            json!({"limit": 50, "fields": ["id"]}),
        )
        .await?;
        server.stop().await?;
        let orders = page
            .structured_content
            .as_ref()
            .and_then(|v| v["orders"].as_array().cloned())
            .unwrap_or_default();
        orders
            .iter()
            .filter_map(|o| o["id"].as_str().map(str::to_string))
            .collect::<Vec<_>>()
    };
    anyhow::ensure!(
        ids.len() == 50,
        "the sandbox answered {} order ids",
        ids.len()
    );
    let tasks: Vec<(&str, &str, Value)> = vec![
        (
            "the last 50 orders (default view)",
            "orders_list",
            json!({"limit": 50}),
        ),
        (
            "the last 50 orders, view: full",
            "orders_list",
            json!({"limit": 50, "view": "full"}),
        ),
        (
            "the last 500 orders (default view, one page)",
            "orders_list",
            json!({"limit": 500}),
        ),
        (
            "one order (default view)",
            "orders_get",
            json!({"order_id": ids[0]}),
        ),
        (
            "one order, view: full",
            "orders_get",
            json!({"order_id": ids[0], "view": "full"}),
        ),
        (
            "100 inventory items (default view)",
            "inventory_list",
            json!({"limit": 100}),
        ),
        (
            "a 50-order update (tag every order)",
            "orders_update_many",
            json!({"updates": ids
                .iter()
                .map(|id| json!({"order_id": id, "changes": {"tag_name": "bench"}}))
                .collect::<Vec<_>>()}),
        ),
    ];
    let after = measure(paths, "toon", &tasks).await?;
    let before = measure(paths, "json", &tasks).await?;
    for (((what, _, _), now), json_twice) in tasks.iter().zip(&after).zip(&before) {
        report.info(what, now.describe());
        report.info(
            &format!("{what}: with the JSON text copy (before)"),
            format!(
                "{} B on the wire; text copy −{:.0} %",
                json_twice.wire,
                100.0 * (1.0 - now.text as f64 / json_twice.text.max(1) as f64)
            ),
        );
    }
    let fifty = &after[0];
    report.check(
        "the last 50 orders, default view: structuredContent",
        format!("{} B (~{} tokens)", fifty.structured, fifty.structured / 4),
        Target::at_most(
            fifty.structured as f64,
            FIFTY_ORDERS_TARGET_BYTES as f64,
            "≤ 20 KiB (≤ 5,000 tokens)",
        ),
    );
    let defaults = [0usize, 2, 3, 5, 6];
    let largest = defaults
        .iter()
        .map(|&i| after[i].structured.max(after[i].text))
        .max()
        .unwrap_or(0);
    report.check(
        "largest default answer (either part)",
        format!("{largest} B"),
        Target::at_most(
            largest as f64,
            ANSWER_BUDGET_BYTES as f64,
            "≤ the 60 KiB answer budget",
        ),
    );
    Ok(())
}
