//! Defensive reading of tool arguments. The host validates arguments against each
//! tool's schema first, but the component does not rely on it: every failure here is an
//! `invalid-input` that names the field.

use orderdesk_tool_kit::{Args, ToolError, required_str};
use serde_json::Value;

pub use orderdesk_tool_kit::args::{invalid, optional_int, reject_unknown, store, value};

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
