//! Redaction of what may reach a log line or the audit log: secrets by field name in
//! JSON arguments, master keys (`odmk_…`) and access tokens (`odat_…`), in any case, and
//! email addresses anywhere in free text, and the exact secret values a call was given
//! wherever a component repeats them (its log lines, its progress messages).

use secrecy::{ExposeSecret, SecretString};
use serde_json::Value;
use zeroize::Zeroize;

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
                    let value = if is_secret_field(key) {
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

fn is_secret_field(key: &str) -> bool {
    let lower = key.to_ascii_lowercase();
    SECRET_FIELDS.iter().any(|f| lower.contains(f))
}

/// Secret values shorter than this are not searched for in free text (they would mask
/// ordinary words); real keys are far longer.
const MIN_SECRET_LEN: usize = 8;

/// The values of the secret fields in `arguments` (at any depth), to be masked wherever
/// a component repeats them.
pub fn secret_values(arguments: &Value) -> Vec<SecretString> {
    let mut found = Vec::new();
    collect_secrets(arguments, false, &mut found);
    found
}

fn collect_secrets(value: &Value, secret: bool, found: &mut Vec<SecretString>) {
    match value {
        Value::Object(map) => {
            for (key, value) in map {
                collect_secrets(value, secret || is_secret_field(key), found);
            }
        }
        Value::Array(items) => items.iter().for_each(|v| collect_secrets(v, secret, found)),
        Value::String(text) if secret && text.len() >= MIN_SECRET_LEN => {
            found.push(SecretString::from(text.clone()));
        }
        _ => {}
    }
}

/// Overwrite the secret fields' values in `arguments` in place (the host's copy, once
/// the call is over), leaving `[REDACTED]` behind.
pub fn wipe_secrets(arguments: &mut Value) {
    wipe(arguments, false);
}

fn wipe(value: &mut Value, secret: bool) {
    match value {
        Value::Object(map) => {
            for (key, value) in map.iter_mut() {
                let secret = secret || is_secret_field(key);
                wipe(value, secret);
            }
        }
        Value::Array(items) => items.iter_mut().for_each(|v| wipe(v, secret)),
        Value::String(text) if secret => {
            text.zeroize();
            text.push_str(REDACTED);
        }
        _ => {}
    }
}

/// Free text with `secrets` (exact values), master keys and email addresses masked.
pub fn redact_with(text: &str, secrets: &[SecretString]) -> String {
    let mut out = redact_text(text);
    for secret in secrets {
        let secret = secret.expose_secret();
        if secret.len() >= MIN_SECRET_LEN && out.contains(secret) {
            out = out.replace(secret, REDACTED);
        }
    }
    out
}

/// The prefixes of the keys masked wherever they appear in free text: master keys and
/// access tokens.
const KEY_PREFIXES: [&str; 2] = [
    orderdesk_vault::MASTER_KEY_PREFIX,
    orderdesk_vault::ACCESS_TOKEN_PREFIX,
];

/// Whether `word` starts with a key's prefix, in any case.
fn is_key(word: &str) -> bool {
    KEY_PREFIXES.iter().any(|prefix| {
        word.len() >= prefix.len()
            && word.as_bytes()[..prefix.len()].eq_ignore_ascii_case(prefix.as_bytes())
    })
}

/// Free text with master keys (`odmk_…`) and access tokens (`odat_…`), in any case, and
/// email addresses masked.
pub fn redact_text(text: &str) -> String {
    let may_hold_key = KEY_PREFIXES.iter().any(|prefix| {
        text.as_bytes()
            .windows(prefix.len())
            .any(|w| w.eq_ignore_ascii_case(prefix.as_bytes()))
    });
    if !text.contains('@') && !may_hold_key {
        return text.to_string();
    }
    let mut out = String::with_capacity(text.len());
    let mut word = String::new();
    let flush = |word: &mut String, out: &mut String| {
        if is_key(word) {
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
    fn upper_case_master_keys_and_a_calls_own_secrets_are_masked() {
        assert_eq!(redact_text("key ODMK_0123ABCD here"), "key [REDACTED] here");
        assert_eq!(
            redact_text("Authorization: Bearer odat_0123abcd, or ODAT_4567"),
            "Authorization: Bearer [REDACTED], or [REDACTED]"
        );
        let args = json!({"store_id": "1", "api_key": "sk_live_4f9a8b7c6d", "nested": {"password": "short"}});
        let secrets = secret_values(&args);
        assert_eq!(secrets.len(), 1, "short values are not searched for");
        let line = redact_with("registering sk_live_4f9a8b7c6d for store 1", &secrets);
        assert_eq!(line, "registering [REDACTED] for store 1");
    }

    #[test]
    fn wiping_overwrites_secret_values_in_place() {
        let mut args = json!({"store_id": "1", "api_key": "sk_live_4f9a8b7c6d", "list": [{"token": "t0k3n-value"}]});
        wipe_secrets(&mut args);
        assert_eq!(
            args,
            json!({"store_id": "1", "api_key": REDACTED, "list": [{"token": REDACTED}]})
        );
    }

    #[test]
    fn plain_text_is_untouched() {
        assert_eq!(redact_text("GET /orders?limit=5"), "GET /orders?limit=5");
        assert_eq!(redact_text("a @ b"), "a @ b");
    }
}
