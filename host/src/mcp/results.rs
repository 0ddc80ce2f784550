//! What a call's outcome becomes for the model: a result with `structuredContent` and a
//! text copy, or a tool error (`isError: true`) whose message says what to do next.

use rmcp::model::{CallToolResult, ContentBlock};
use serde_json::{Value, json};

use crate::bindings::ToolError;
use crate::runtime::CallError;

/// The tool result of a call's outcome; `component` names the component for the
/// messages that blame it.
pub(super) fn call_result(component: &str, outcome: Result<String, CallError>) -> CallToolResult {
    match outcome {
        Ok(text) => match serde_json::from_str::<Value>(&text) {
            // The text copy is the component's own JSON text: serialising the parsed
            // value again would cost as much as the parse (a page of orders is ~100 KB).
            Ok(Value::Object(map)) => structured_result(Value::Object(map), text),
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

/// A successful result: `structuredContent` plus a text block with the same JSON.
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
        ToolError::InvalidInput(m) => error_result("invalid_input", m),
        ToolError::NotFound(m) => error_result("not_found", m),
        ToolError::Conflict(m) => error_result("conflict", m),
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
        let ok = call_result("c", Ok(r#"{"a": 1}"#.into()));
        assert_eq!(outcome_of(&ok), "ok");
        assert_eq!(ok.structured_content, Some(json!({"a": 1})));
        assert_eq!(ok.content[0].as_text().unwrap().text, r#"{"a": 1}"#);

        let wrapped = call_result("c", Ok("[1]".into()));
        assert_eq!(wrapped.structured_content, Some(json!({"result": [1]})));

        let invalid = call_result("c", Ok("{".into()));
        assert_eq!(outcome_of(&invalid), "error:internal");

        let limited = call_result("c", Err(CallError::Tool(ToolError::RateLimited(2500))));
        assert_eq!(outcome_of(&limited), "error:rate_limited");
        assert!(
            limited.content[0]
                .as_text()
                .unwrap()
                .text
                .contains("wait 2.5 s")
        );

        let trap = call_result("comp", Err(CallError::Trap("unreachable".into())));
        let message = &trap.content[0].as_text().unwrap().text;
        assert!(
            message.contains("component `comp` failed: unreachable"),
            "{message}"
        );
    }
}
