//! Reading single JSON values the way OrderDesk writes them.

use std::borrow::Cow;

use serde_json::{Map, Value};

/// A text value: a string as is, a number in its JSON spelling (ids arrive both ways).
/// Anything else (null, bool, object, array) is `None`.
pub fn text(value: &Value) -> Option<String> {
    match value {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// A number: a JSON number or a numeric string (`"1.70"`, `" 10 "`). Empty or
/// non-numeric strings are `None`.
pub fn number(value: &Value) -> Option<f64> {
    match value {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.trim().parse::<f64>().ok().filter(|f| f.is_finite()),
        _ => None,
    }
}

/// A whole number: an integer, a float without a fraction, or a string holding either.
pub fn integer(value: &Value) -> Option<i64> {
    match value {
        Value::Number(n) => n.as_i64().or_else(|| n.as_f64().and_then(whole)),
        Value::String(s) => {
            let s = s.trim();
            s.parse::<i64>()
                .ok()
                .or_else(|| s.parse::<f64>().ok().and_then(whole))
        }
        _ => None,
    }
}

fn whole(f: f64) -> Option<i64> {
    // The range check keeps the cast exact; 2^53 bounds what an f64 holds exactly.
    (f.fract() == 0.0 && f.abs() < 9_007_199_254_740_992.0).then_some(f as i64)
}

/// A map: an object, or `[]` — PHP's JSON encoder writes an empty associative array as
/// an empty list. A non-empty list or a scalar is `None`.
pub fn map(value: &Value) -> Option<Cow<'_, Map<String, Value>>> {
    match value {
        Value::Object(m) => Some(Cow::Borrowed(m)),
        Value::Array(a) if a.is_empty() => Some(Cow::Owned(Map::new())),
        _ => None,
    }
}

/// A string with content: trimmed, `None` when empty or not text.
pub fn non_empty_text(value: &Value) -> Option<String> {
    text(value)
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
}

/// The JSON kind of a value, for error messages.
pub fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "an object",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn ids_read_from_strings_and_numbers() {
        assert_eq!(text(&json!("3344551")).as_deref(), Some("3344551"));
        assert_eq!(text(&json!(3344551)).as_deref(), Some("3344551"));
        assert_eq!(text(&json!(null)), None);
    }

    #[test]
    fn numbers_read_from_numeric_strings() {
        assert_eq!(number(&json!("1.70")), Some(1.7));
        assert_eq!(number(&json!(40)), Some(40.0));
        assert_eq!(number(&json!("")), None);
        assert_eq!(number(&json!("n/a")), None);
        assert_eq!(integer(&json!("10")), Some(10));
        assert_eq!(integer(&json!(2.0)), Some(2));
        assert_eq!(integer(&json!("2.5")), None);
    }

    #[test]
    fn empty_list_reads_as_empty_map() {
        assert!(map(&json!([])).unwrap().is_empty());
        assert_eq!(map(&json!({"a": 1})).unwrap().len(), 1);
        assert!(map(&json!([1])).is_none());
        assert!(map(&json!("x")).is_none());
    }
}
