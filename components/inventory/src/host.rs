//! The inventory component's OrderDesk requests: a store-api [`Target`] with this
//! component's hints (which tool finds an id, which one checks a write).

pub use orderdesk_store_api::Target;

/// A target in `store` (the tool's `store` argument), else the active store. `subject`
/// names the thing addressed in messages, e.g. `inventory item 700101`.
pub fn target(store: Option<impl Into<String>>, subject: impl Into<String>) -> Target {
    Target::new(store, subject)
        .lookup("check the id with inventory_list (filter by SKU with `code`)")
        .verify("check with inventory_get/inventory_list before retrying")
}
