//! Tools that act on one OrderDesk store, built on `orderdesk-tool-kit`.
//!
//! The kit is the generic SDK; this crate knows OrderDesk's API, through `order-model`:
//!
//! - [`Target`]: requests to a store's API (`orderdesk::send`) with JSON in and out,
//!   OrderDesk's error envelope recognised in 2xx answers, a log line per write, and
//!   host errors mapped by the kit's one mapper with this request as context (what was
//!   not found, which tool finds the id, what to check before retrying a write).
//! - [`Update`]: the fetch → merge → PUT that every OrderDesk update needs.
//! - [`bulk`]: many records in one call within its budget: a result per record,
//!   progress, and the arguments to resume with when the time runs short.
//! - [`schema`]: the `store` argument every store-bound tool takes, ids that are safe
//!   in a request path ([`Id`]), annotation sets, pagination.
//! - [`views`]: answers sized for an agent — summaries by default, whole records or
//!   chosen fields on request, pages cut to a byte budget, fresh reads and cache ages.
//! - [`replies`]: a typed model of each endpoint's answer (`order_model::replies`),
//!   read with [`Reply::parse`].
//!
//! The `orders` and `inventory` components use it; a third-party component that calls
//! OrderDesk can too.
//!
//! ```
//! use orderdesk_store_api::replies::OrderReply;
//! use orderdesk_store_api::{CacheMode, Target};
//! use orderdesk_tool_kit::testing::MockHost;
//!
//! let host = MockHost::with_store();
//! host.reply(200, serde_json::json!({"status": "success", "order": {"id": "7", "order_total": "9.50"}}));
//! let target = Target::new(None::<String>, "order 7").lookup("check the id with orders_list");
//! let reply = target.get("/orders/7", Vec::new(), CacheMode::UseCache)?;
//! let answer: OrderReply = reply.parse()?;
//! assert_eq!(answer.order.order_total(), Some(9.5));
//! # Ok::<(), orderdesk_tool_kit::ToolError>(())
//! ```

#![warn(missing_docs)]

pub mod bulk;
pub mod schema;
mod target;
mod update;
pub mod views;

pub use order_model::replies;
pub use orderdesk_tool_kit::orderdesk::CacheMode;
pub use schema::Id;
pub use target::{Reply, Target};
pub use update::{Expected, Update, any_record};
