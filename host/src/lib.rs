//! orderdesk-host: the plugin host of orderdesk-mcp. `ARCHITECTURE.md` at the
//! repository root has the map; in short, from the bottom up:
//!
//! - [`telemetry`]: the metrics every layer records, and their Prometheus exporter;
//! - [`bindings`]: the host side of the WIT package (generated);
//! - [`grants`]: what each component may import;
//! - [`session`], [`redact`]: who is calling; what may reach a log;
//! - [`services`]: the vault and the OrderDesk backend every call shares, and the traits
//!   the host needs of the outside;
//! - [`capabilities`]: the host side of each WIT interface, one shape each;
//! - [`runtime`]: wasmtime engine, compile cache, per-call stores and limits;
//! - [`catalog`]: the aggregated tool list and argument validation;
//! - [`audit`]: the call audit log's background writer;
//! - [`mcp`]: the MCP server (rmcp) in front of it all;
//! - [`app`]: assembly — settings, opening, loading, serving.
//!
//! A module uses only modules above it in this list (`tests/architecture.rs` checks it).

pub mod app;
pub mod audit;
pub mod bindings;
pub mod capabilities;
pub mod catalog;
pub mod grants;
pub mod mcp;
pub mod redact;
pub mod runtime;
pub mod services;
pub mod session;
pub mod telemetry;
