//! Defensive reading of tool arguments. The host validates arguments against each
//! tool's schema first, but the component does not rely on it: every failure here is an
//! `invalid-input` that names the field.

use orderdesk_tool_kit::{Args, ToolError, optional_str, required_str};

pub use orderdesk_tool_kit::args::{invalid, optional_int, reject_unknown, store, value};

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

/// An optional non-empty text argument, trimmed.
pub fn optional_text(args: &Args, field: &str) -> Result<Option<String>, ToolError> {
    Ok(optional_str(args, field)?.map(|s| s.trim().to_string()))
}
