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

/// A required id that goes into a request path.
pub fn id(args: &Args, field: &str) -> Result<String, ToolError> {
    let id = required_str(args, field)?;
    check_id(&id, field)?;
    Ok(id)
}

/// Ids are letters, digits, `_` and `-` (OrderDesk's are digits): nothing that could
/// change the request path.
pub fn check_id(id: &str, field: &str) -> Result<(), ToolError> {
    let ok = !id.is_empty()
        && id.len() <= 64
        && id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    if ok {
        Ok(())
    } else {
        Err(invalid(format!(
            "`{field}` must be an OrderDesk id (letters, digits, `_` or `-`, e.g. \"3344551\"), got {id:?}"
        )))
    }
}

/// A required list of ids (at least one).
pub fn id_list(args: &Args, field: &str) -> Result<Vec<String>, ToolError> {
    let Some(Value::Array(items)) = args.get(field) else {
        return Err(invalid(format!(
            "`{field}` is required: a list of order ids, e.g. [\"3344551\"]"
        )));
    };
    if items.is_empty() {
        return Err(invalid(format!("`{field}` must hold at least one id")));
    }
    items
        .iter()
        .enumerate()
        .map(|(i, item)| {
            let name = format!("{field}[{i}]");
            let id = order_model::lenient::text(item)
                .ok_or_else(|| invalid(format!("`{name}` must be a string id")))?;
            check_id(&id, &name)?;
            Ok(id)
        })
        .collect()
}

/// A required argument of any JSON type (the model validates its shape).
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

/// A required string of `1..=max` characters (counted as characters, not bytes).
pub fn text(args: &Args, field: &str, max: usize) -> Result<String, ToolError> {
    let text = required_str(args, field)?;
    let count = text.chars().count();
    if count > max {
        return Err(invalid(format!(
            "`{field}` is {count} characters long; OrderDesk takes at most {max}"
        )));
    }
    Ok(text)
}
