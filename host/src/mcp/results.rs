//! What a call's outcome becomes for the model: a result with `structuredContent` and a
//! text copy, or a tool error (`isError: true`) whose message says what to do next.
//!
//! ## Why the text copy is TOON, not the JSON again
//!
//! A result carries the data twice: `structuredContent` (the object the tool's
//! `outputSchema` describes) and a text block "for backwards compatibility" (MCP
//! 2025-06-18). Clients give the model one of them, not both: the spec's guidance
//! (SEP-2200) and most clients (VS Code, Claude Desktop, LangChain's adapters) use
//! `content` when present; Claude Code and Cursor use `structuredContent`. So both
//! must hold all of the data, but neither needs to be JSON twice. The text copy is the
//! same data in TOON (Token-Oriented Object Notation, `toon-format`): JSON's data
//! model, with a list of like records written as one header and a row per record — a
//! page of order summaries takes about 40 % fewer bytes (and tokens) than its JSON
//! text, which on the wire would also be escaped inside a string. When TOON is not
//! shorter (whole orders, deeply nested), the copy is the component's JSON. The
//! end-to-end tests decode every text copy and compare it with `structuredContent`. An operator whose
//! clients parse the text as JSON sets `text_copy = "json"` (`ORDERDESK_MCP_TEXT_COPY`).

use rmcp::model::{CallToolResult, ContentBlock};
use serde_json::{Value, json};

use crate::bindings::ToolError;
use crate::runtime::CallError;

/// How a component's `invalid-input` says it is a conflict (the WIT's `tool-error` doc;
/// the kit's `errors::conflict`).
const CONFLICT_PREFIX: &str = "conflict: ";

/// The form of a successful result's text copy.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum TextCopy {
    /// TOON when it is shorter than the JSON, else the JSON (the default).
    #[default]
    Toon,
    /// The component's JSON text, as it answered it.
    Json,
}

impl TextCopy {
    /// `toon` or `json` (any case).
    pub fn parse(text: &str) -> Option<TextCopy> {
        match text.trim().to_ascii_lowercase().as_str() {
            "toon" => Some(TextCopy::Toon),
            "json" => Some(TextCopy::Json),
            _ => None,
        }
    }
}

/// The tool result of a call's outcome; `component` names the component for the
/// messages that blame it.
pub(super) fn call_result(
    component: &str,
    outcome: Result<String, CallError>,
    text_copy: TextCopy,
) -> CallToolResult {
    match outcome {
        Ok(text) => match serde_json::from_str::<Value>(&text) {
            Ok(Value::Object(map)) => {
                let value = Value::Object(map);
                let text = match text_copy {
                    // TOON wins on lists of like records (a header, then rows); on deeply
                    // nested records (whole orders) its indentation can cost more than
                    // JSON's braces, and then the JSON is kept. Should encoding fail, too.
                    TextCopy::Toon => match toon_format::encode_default(&value) {
                        Ok(toon) if toon.len() < text.len() => toon,
                        _ => text,
                    },
                    // The component's own JSON text: serialising the parsed value again
                    // would cost as much as the parse.
                    TextCopy::Json => text,
                };
                structured_result(value, text)
            }
            Ok(other) => CallToolResult::structured(json!({ "result": other })),
            Err(e) => error_result(
                "internal",
                format!(
                    "component `{component}` returned invalid JSON ({e}); this is a bug in the component"
                ),
            ),
        },
        Err(CallError::Tool(error)) => tool_error_result(error),
        Err(CallError::Limit(message)) => error_result("limit", message),
        Err(CallError::OutcomeUnknown(message)) => error_result("outcome_unknown", message),
        Err(CallError::Trap(message)) => error_result(
            "internal",
            format!(
                "component `{component}` failed: {message}; the host is unaffected, try again or report the bug"
            ),
        ),
    }
}

/// A successful result: `structuredContent` plus a text block with the same data.
fn structured_result(value: Value, text: String) -> CallToolResult {
    let mut result = CallToolResult::success(vec![ContentBlock::text(text)]);
    result.structured_content = Some(value);
    result
}

/// `ok`, or `error:<kind>` from the structured error.
pub(super) fn outcome_of(result: &CallToolResult) -> String {
    if !result.is_error.unwrap_or(false) {
        return "ok".into();
    }
    let kind = result
        .structured_content
        .as_ref()
        .and_then(|v| v.pointer("/error/kind"))
        .and_then(Value::as_str)
        .unwrap_or("unknown");
    format!("error:{kind}")
}

/// A tool failure the model reads: a text message plus a structured copy.
pub(super) fn error_result(kind: &str, message: String) -> CallToolResult {
    let mut result = CallToolResult::error(vec![ContentBlock::text(message.clone())]);
    result.structured_content = Some(json!({ "error": { "kind": kind, "message": message } }));
    result
}

fn tool_error_result(error: ToolError) -> CallToolResult {
    match error {
        // A conflict is an invalid-input with a prefix (the WIT's `tool-error` has no case
        // of its own for it: a new case would break the components built against it).
        ToolError::InvalidInput(m) => match m.strip_prefix(CONFLICT_PREFIX) {
            Some(conflict) => error_result("conflict", conflict.to_string()),
            None => error_result("invalid_input", m),
        },
        ToolError::NotFound(m) => error_result("not_found", m),
        ToolError::Unauthorized(m) => error_result("unauthorized", m),
        ToolError::RateLimited(ms) => error_result(
            "rate_limited",
            format!(
                "rate-limited: wait {:.1} s and try again",
                f64::from(ms) / 1000.0
            ),
        ),
        ToolError::Upstream(m) => error_result("upstream", m),
        ToolError::OutcomeUnknown(m) => error_result("outcome_unknown", m),
        ToolError::Internal(m) => error_result("internal", m),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn results_keep_the_components_text_and_errors_carry_their_kind() {
        let json_copy = call_result("c", Ok(r#"{"a": 1}"#.into()), TextCopy::Json);
        assert_eq!(outcome_of(&json_copy), "ok");
        assert_eq!(json_copy.structured_content, Some(json!({"a": 1})));
        assert_eq!(json_copy.content[0].as_text().unwrap().text, r#"{"a": 1}"#);

        let wrapped = call_result("c", Ok("[1]".into()), TextCopy::Toon);
        assert_eq!(wrapped.structured_content, Some(json!({"result": [1]})));

        let invalid = call_result("c", Ok("{".into()), TextCopy::Toon);
        assert_eq!(outcome_of(&invalid), "error:internal");

        let limited = call_result(
            "c",
            Err(CallError::Tool(ToolError::RateLimited(2500))),
            TextCopy::Toon,
        );
        assert_eq!(outcome_of(&limited), "error:rate_limited");
        assert!(
            limited.content[0]
                .as_text()
                .unwrap()
                .text
                .contains("wait 2.5 s")
        );

        let trap = call_result(
            "comp",
            Err(CallError::Trap("unreachable".into())),
            TextCopy::Toon,
        );
        let message = &trap.content[0].as_text().unwrap().text;
        assert!(
            message.contains("component `comp` failed: unreachable"),
            "{message}"
        );
    }

    #[test]
    fn the_text_copy_is_the_same_data_in_fewer_bytes() {
        let orders: Vec<Value> = (0..50)
            .map(|n| {
                json!({"id": format!("33445{n:02}"), "date_added": "2026-12-01 10:02:00",
                       "email": format!("c{n}@example.org"), "order_total": 40.5,
                       "folder_id": 1004, "payment_status": "Captured", "item_count": 2})
            })
            .collect();
        let page = json!({"orders": orders, "pagination": {"has_more": true, "next_offset": 50}});
        let text = page.to_string();
        let result = call_result("orders", Ok(text.clone()), TextCopy::Toon);
        let copy = &result.content[0].as_text().unwrap().text;
        assert_eq!(
            toon_format::decode_default::<Value>(copy).unwrap(),
            page,
            "the copy decodes to the structured content"
        );
        assert!(
            copy.len() * 10 < text.len() * 7,
            "TOON {} bytes vs JSON {} bytes",
            copy.len(),
            text.len()
        );
        // Where TOON is no shorter, the copy is the JSON.
        let nested = json!({"a": {"b": {"c": {"d": {"e": {"f": 1}}}}}});
        let nested_result = call_result("orders", Ok(nested.to_string()), TextCopy::Toon);
        assert_eq!(
            nested_result.content[0].as_text().unwrap().text,
            nested.to_string()
        );
        assert_eq!(TextCopy::parse(" JSON "), Some(TextCopy::Json));
        assert_eq!(TextCopy::parse("yaml"), None);
    }
}
