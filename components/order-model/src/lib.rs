//! A lenient model of the JSON OrderDesk sends and accepts.
//!
//! OrderDesk's server is written in PHP, and its JSON shows it: ids arrive as strings or
//! numbers, numbers as numeric strings (`"1.70"`), empty maps as `[]`, and fields that no
//! documentation lists. A `PUT` replaces the whole record, so whatever a client read must
//! go back unchanged except for what it meant to change.
//!
//! This crate therefore never converts a payload into a lossy typed shape. Each record
//! ([`Order`], [`OrderItem`], [`Shipment`], [`Address`], [`OrderList`],
//! [`ErrorEnvelope`]) wraps the JSON object exactly as received and offers typed,
//! lenient accessors over it ([`lenient`]); writing it back yields the same JSON value.
//! [`deep_merge`] applies a change set to a fetched record, and [`validate`] checks what
//! OrderDesk requires of new orders, items and shipments, with messages that show a
//! valid example. [`replies`] has a typed model of each endpoint's answer (pages with
//! their paging, one record, a message). [`views`] makes the lean summaries and the
//! projections of records that answers sized for an agent hold, and [`schemas`] the
//! JSON Schemas of the records and of their change sets.

#![warn(missing_docs)]

pub mod lenient;
pub mod merge;
mod records;
pub mod replies;
pub mod schemas;
pub mod validate;
pub mod views;

pub use merge::deep_merge;
pub use records::{Address, ErrorEnvelope, ModelError, Order, OrderItem, OrderList, Shipment};
pub use validate::ValidationError;
