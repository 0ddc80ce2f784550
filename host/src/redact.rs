//! Redaction of what may reach a log line or the audit log: secrets by field name in
//! JSON arguments, and master keys and email addresses anywhere in free text.

use serde_json::Value;

/// What a redacted value is replaced with.
pub const REDACTED: &str = "[REDACTED]";

/// Argument names whose values are secrets (compared case-insensitively).
const SECRET_FIELDS: &[&str] = &[
    "api_key",
    "master_key",
    "apikey",
    "password",
    "secret",
    "token",
];

/// A copy of tool arguments fit for the audit log: secret fields replaced, emails masked.
pub fn redact_arguments(arguments: &Value) -> Value {
    match arguments {
        Value::Object(map) => Value::Object(
            map.iter()
                .map(|(key, value)| {
                    let lower = key.to_ascii_lowercase();
                    let value = if SECRET_FIELDS.iter().any(|f| lower.contains(f)) {
                        Value::String(REDACTED.into())
                    } else {
                        redact_arguments(value)
                    };
                    (key.clone(), value)
                })
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.iter().map(redact_arguments).collect()),
        Value::String(text) => Value::String(redact_text(text)),
        other => other.clone(),
    }
}

/// Free text with master keys (`odmk_…`) and email addresses masked.
pub fn redact_text(text: &str) -> String {
    if !text.contains('@') && !text.contains(orderdesk_vault::MASTER_KEY_PREFIX) {
        return text.to_string();
    }
    let mut out = String::with_capacity(text.len());
    let mut word = String::new();
    let flush = |word: &mut String, out: &mut String| {
        if word.starts_with(orderdesk_vault::MASTER_KEY_PREFIX) {
            out.push_str(REDACTED);
        } else if let Some(at) = word.find('@')
            && at > 0
            && word[at + 1..].contains('.')
        {
            // Keep the domain: it helps support without identifying the person.
            out.push_str("[email]");
            out.push_str(&word[at..]);
        } else {
            out.push_str(word);
        }
        word.clear();
    };
    for c in text.chars() {
        if c.is_alphanumeric() || matches!(c, '@' | '.' | '_' | '-' | '+') {
            word.push(c);
        } else {
            flush(&mut word, &mut out);
            out.push(c);
        }
    }
    flush(&mut word, &mut out);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn secret_fields_are_replaced_at_any_depth() {
        let args = json!({"store_id": "1", "api_key": "abc", "nested": [{"Master_Key": "odmk_x"}]});
        let out = redact_arguments(&args);
        assert_eq!(out["store_id"], "1");
        assert_eq!(out["api_key"], REDACTED);
        assert_eq!(out["nested"][0]["Master_Key"], REDACTED);
    }

    #[test]
    fn emails_and_master_keys_are_masked_in_text() {
        let text = "order for jane.doe@example.com (key odmk_0123abcd) ok";
        let out = redact_text(text);
        assert_eq!(out, "order for [email]@example.com (key [REDACTED]) ok");
        assert!(!out.contains("jane"));
    }

    #[test]
    fn plain_text_is_untouched() {
        assert_eq!(redact_text("GET /orders?limit=5"), "GET /orders?limit=5");
        assert_eq!(redact_text("a @ b"), "a @ b");
    }
}
