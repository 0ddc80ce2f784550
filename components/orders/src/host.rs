//! The orders component's OrderDesk requests: the kit's [`Target`] with this
//! component's hints (which tool finds an id, which one checks a write).

use orderdesk_tool_kit::{Args, ToolError};

use crate::args;

pub use orderdesk_tool_kit::store_api::{CacheMode, Target, describe};

/// A target in the store the arguments name (`store`), else the active store.
/// `subject` names the thing addressed in messages, e.g. `order 3344551`.
pub fn target(args: &Args, subject: impl Into<String>) -> Result<Target, ToolError> {
    Ok(Target::new("orders", args::store(args)?, subject)
        .lookup("check the id with orders_list")
        .verify("check with orders_get before retrying"))
}
