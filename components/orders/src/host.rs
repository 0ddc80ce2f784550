//! The orders group's OrderDesk requests: a store-api [`Target`] with this group's hints
//! (which tool finds an id, which one checks a write).

pub use orderdesk_store_api::{CacheMode, Target};

/// A target in `store` (the tool's `store` argument), else the active store. `subject`
/// names the thing addressed in messages, e.g. `order 3344551`.
pub fn target(store: Option<impl Into<String>>, subject: impl Into<String>) -> Target {
    Target::new(store, subject)
        .lookup("check the id with orders_list")
        .verify("check with orders_get before retrying")
}
