//! The gateway's error type and the mapping of OrderDesk's error envelope.
//!
//! Each variant maps one-to-one to a variant of the WIT `host-error`, so the host can
//! hand a component exactly what happened without string matching. Messages are written
//! for the model reading them: they say what happened and what to do next, and never
//! carry a credential (see [`redact`]).

use serde_json::Value;

/// What went wrong with a request to OrderDesk.
#[derive(thiserror::Error, Debug)]
pub enum GatewayError {
    /// The request was refused before anything was sent (bad path, body, method/body
    /// combination) or the gateway was configured with nonsense.
    #[error("invalid request: {0}")]
    InvalidInput(String),
    /// OrderDesk rejected the store's credentials (401 or 403).
    #[error("OrderDesk refused the store's credentials: {0}")]
    Unauthorized(String),
    /// OrderDesk answered 404.
    #[error("not found: {0}")]
    NotFound(String),
    /// The tenant's own budget is spent, or OrderDesk kept answering 429 for longer than
    /// we are willing to wait. Nothing was applied; retry after the given delay.
    #[error("rate limited: retry in {retry_after_ms} ms")]
    RateLimited { retry_after_ms: u32 },
    /// OrderDesk answered with an error status (4xx other than 401/403/404/429, or a
    /// 5xx on a read after the retries ran out).
    #[error("OrderDesk answered HTTP {status}: {message}")]
    Upstream { status: u16, message: String },
    /// A write (POST, PUT, DELETE) may or may not have been applied: it was sent, and
    /// then the connection failed, timed out or answered 5xx. Never retried blindly.
    #[error("{0}")]
    OutcomeUnknown(String),
    /// A read timed out (after its retries).
    #[error("timed out: {0}")]
    Timeout(String),
    /// A read failed at the transport level (after its retries), or a write could not
    /// even connect (so it was certainly not applied).
    #[error("transport error: {0}")]
    Transport(String),
    /// The response body passed the configured cap (in bytes).
    #[error("OrderDesk's response is larger than the {0}-byte cap")]
    ResponseTooLarge(usize),
    /// A bug or an impossible state inside the gateway.
    #[error("internal gateway error: {0}")]
    Internal(String),
}

/// Longest piece of a non-JSON error body quoted in a message: enough to recognise an
/// HTML error page or a proxy's complaint, short enough not to flood the model.
const MAX_QUOTED_BODY: usize = 300;

/// Turns an error body into a one-line message. OrderDesk's envelope is
/// `{"status":"error","message":"…","errors":[…]}`; `errors` entries may be strings or
/// objects, so non-strings are quoted as JSON. Anything else (an HTML page from a proxy,
/// an empty body) is quoted, shortened.
pub(crate) fn envelope_message(status: u16, body: &str) -> String {
    if let Ok(Value::Object(map)) = serde_json::from_str::<Value>(body) {
        let message = match map.get("message") {
            Some(Value::String(s)) if !s.trim().is_empty() => Some(s.trim().to_string()),
            Some(Value::Null) | None => None,
            Some(Value::String(_)) => None,
            Some(other) => Some(other.to_string()),
        };
        let errors: Vec<String> = match map.get("errors") {
            Some(Value::Array(items)) => items.iter().map(value_text).collect(),
            // PHP sometimes serialises a keyed list as an object.
            Some(Value::Object(items)) => items
                .iter()
                .map(|(k, v)| format!("{k}: {}", value_text(v)))
                .collect(),
            Some(Value::String(s)) if !s.is_empty() => vec![s.clone()],
            _ => Vec::new(),
        };
        let mut out = message.unwrap_or_else(|| format!("HTTP {status}"));
        if !errors.is_empty() {
            out.push_str(" (errors: ");
            out.push_str(&errors.join("; "));
            out.push(')');
        }
        return out;
    }
    let trimmed = body.trim();
    if trimmed.is_empty() {
        return format!("HTTP {status} with an empty body");
    }
    let mut quoted: String = trimmed.chars().take(MAX_QUOTED_BODY).collect();
    if quoted.len() < trimmed.len() {
        quoted.push('…');
    }
    // One line: newlines in an HTML page make log lines and tool results hard to read.
    quoted.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn value_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// Defence in depth: should anything upstream echo the API key (a misbehaving proxy, a
/// debug page), it must not travel on in an error message or a log line.
pub(crate) fn redact(message: String, secret: &str) -> String {
    if secret.len() >= 4 && message.contains(secret) {
        message.replace(secret, "[redacted]")
    } else {
        message
    }
}

/// Whether an OrderDesk body that came with a 2xx status is in fact an error envelope.
/// PHP APIs sometimes answer 200 with `"status":"error"`; treating that as success would
/// tell the model a write worked when it did not.
pub(crate) fn is_error_envelope(body: &str) -> bool {
    // Cheap pre-check so large successful list bodies are not parsed twice.
    if !body.contains("\"error\"") {
        return false;
    }
    matches!(
        serde_json::from_str::<Value>(body),
        Ok(Value::Object(ref m)) if m.get("status").and_then(Value::as_str) == Some("error")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn envelope_with_errors_list() {
        let body = r#"{"status":"error","message":"Validation failed","errors":["email is invalid",{"field":"items"}]}"#;
        assert_eq!(
            envelope_message(400, body),
            r#"Validation failed (errors: email is invalid; {"field":"items"})"#
        );
    }

    #[test]
    fn envelope_without_errors() {
        assert_eq!(
            envelope_message(404, r#"{"status":"error","message":"Order not found"}"#),
            "Order not found"
        );
    }

    #[test]
    fn envelope_without_message() {
        assert_eq!(envelope_message(500, r#"{"status":"error"}"#), "HTTP 500");
    }

    #[test]
    fn non_json_body_is_quoted_on_one_line_and_shortened() {
        let html = format!(
            "<html>\n<body>Bad gateway {}</body></html>",
            "x".repeat(400)
        );
        let m = envelope_message(502, &html);
        assert!(m.starts_with("<html> <body>Bad gateway"));
        assert!(m.ends_with('…'));
        assert!(!m.contains('\n'));
        assert_eq!(envelope_message(503, "  "), "HTTP 503 with an empty body");
    }

    #[test]
    fn redaction() {
        assert_eq!(
            redact("key abcd1234 is bad".into(), "abcd1234"),
            "key [redacted] is bad"
        );
        assert_eq!(redact("nothing here".into(), "abcd1234"), "nothing here");
    }

    #[test]
    fn error_envelope_detection() {
        assert!(is_error_envelope(r#"{"status":"error","message":"x"}"#));
        assert!(!is_error_envelope(r#"{"status":"success","orders":[]}"#));
        assert!(!is_error_envelope(
            r#"{"status":"success","note":"\"error\""}"#
        ));
        assert!(!is_error_envelope("not json \"error\""));
    }
}
