//! Defensive reading of tool arguments, shared by the components. The host validates
//! arguments against each tool's schema first, but a component does not rely on it:
//! every failure here is an `invalid-input` that names the field.

use serde_json::Value;

use crate::{Args, ToolError, optional_str};

/// An `invalid-input` tool error.
pub fn invalid(message: impl Into<String>) -> ToolError {
    ToolError::InvalidInput(message.into())
}

/// The argument names an input schema declares (`properties`).
pub fn declared(schema: &Value) -> impl Iterator<Item = &str> {
    schema
        .get("properties")
        .and_then(Value::as_object)
        .into_iter()
        .flat_map(|p| p.keys().map(String::as_str))
}

/// Refuse arguments the tool's schema does not declare (a typo would otherwise be
/// silently ignored, e.g. a misspelt filter that widens a search).
pub fn reject_unknown(args: &Args, schema: &Value) -> Result<(), ToolError> {
    let unknown: Vec<&str> = args
        .keys()
        .map(String::as_str)
        .filter(|k| !declared(schema).any(|d| d == *k))
        .collect();
    if unknown.is_empty() {
        return Ok(());
    }
    let known: Vec<&str> = declared(schema).collect();
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

/// The optional `store` (a store name or id) of tools that act on a store.
pub fn store(args: &Args) -> Result<Option<String>, ToolError> {
    optional_str(args, "store")
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
