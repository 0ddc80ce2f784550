//! Defensive reading of tool arguments. The host validates arguments against each
//! tool's schema first, but the component does not rely on it: every failure here is an
//! `invalid-input` that names the field.

use orderdesk_tool_kit::{Args, ToolError, optional_str, required_str};
use serde_json::Value;

use crate::schema;

pub fn invalid(message: impl Into<String>) -> ToolError {
    ToolError::InvalidInput(message.into())
}

/// Refuse arguments the tool's schema does not declare (a typo would otherwise be
/// silently ignored, e.g. a misspelt filter that widens a search).
pub fn reject_unknown(args: &Args, schema: &Value) -> Result<(), ToolError> {
    let unknown: Vec<&str> = args
        .keys()
        .map(String::as_str)
        .filter(|k| !schema::declared(schema).any(|d| d == *k))
        .collect();
    if unknown.is_empty() {
        return Ok(());
    }
    let known: Vec<&str> = schema::declared(schema).collect();
    Err(invalid(format!(
        "unknown argument(s) {}; this tool takes: {}",
        quoted(&unknown),
        quoted(&known)
    )))
}

fn quoted(names: &[&str]) -> String {
    names
        .iter()
        .map(|n| format!("`{n}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The optional `store` every tool takes.
pub fn store(args: &Args) -> Result<Option<String>, ToolError> {
    optional_str(args, "store")
}

/// A required id that goes into a request path: letters, digits, `_` and `-`
/// (OrderDesk's are digits), nothing that could change the path.
pub fn id(args: &Args, field: &str) -> Result<String, ToolError> {
    let id = required_str(args, field)?;
    let ok = id.len() <= 64
        && id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    if ok {
        Ok(id)
    } else {
        Err(invalid(format!(
            "`{field}` must be an OrderDesk id (letters, digits, `_` or `-`, e.g. \"700101\"), \
             got {id:?}; inventory_list shows the ids"
        )))
    }
}

/// A required argument of any JSON type (the handler validates its shape).
pub fn value<'a>(args: &'a Args, field: &str) -> Result<&'a Value, ToolError> {
    match args.get(field) {
        None | Some(Value::Null) => Err(invalid(format!("`{field}` is required"))),
        Some(v) => Ok(v),
    }
}

/// An optional whole number within `min..=max`; numeric strings are accepted.
pub fn optional_int(
    args: &Args,
    field: &str,
    min: u64,
    max: u64,
) -> Result<Option<u64>, ToolError> {
    let Some(raw) = args.get(field).filter(|v| !v.is_null()) else {
        return Ok(None);
    };
    order_model::lenient::integer(raw)
        .and_then(|n| u64::try_from(n).ok())
        .filter(|n| (min..=max).contains(n))
        .map(Some)
        .ok_or_else(|| {
            invalid(format!(
                "`{field}` must be a whole number from {min} to {max}"
            ))
        })
}

/// An optional non-empty text argument, trimmed.
pub fn optional_text(args: &Args, field: &str) -> Result<Option<String>, ToolError> {
    Ok(optional_str(args, field)?.map(|s| s.trim().to_string()))
}
