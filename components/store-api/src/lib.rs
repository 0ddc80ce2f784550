//! Tools that act on one OrderDesk store, built on `orderdesk-tool-kit`.
//!
//! The kit is the generic SDK; this crate knows OrderDesk's API, through `order-model`:
//!
//! - [`Target`]: requests to a store's API (`orderdesk::send`) with JSON in and out,
//!   OrderDesk's error envelope recognised in 2xx answers, a log line per write, and
//!   host errors mapped by the kit's one mapper with this request as context (what was
//!   not found, which tool finds the id, what to check before retrying a write).
//! - [`Update`]: the fetch → merge → PUT that every OrderDesk update needs.
//! - [`schema`]: the `store` argument every store-bound tool takes, ids that are safe
//!   in a request path ([`Id`]), annotation sets, pagination.
//! - [`replies`]: a typed model of each endpoint's answer (`order_model::replies`),
//!   read with [`Reply::parse`].
//!
//! The `orders` and `inventory` components use it; a third-party component that calls
//! OrderDesk can too.
//!
//! ```ignore
//! let target = Target::new(args.store, format!("order {}", args.order_id))
//!     .lookup("check the id with orders_list");
//! let reply = target.get(&format!("/orders/{}", args.order_id), Vec::new(), CacheMode::UseCache)?;
//! let order = reply.record("order")?;
//! ```

pub mod schema;
mod target;
mod update;

pub use order_model::replies;
pub use orderdesk_tool_kit::orderdesk::CacheMode;
pub use schema::Id;
pub use target::{Reply, Target};
pub use update::{Update, any_record};
