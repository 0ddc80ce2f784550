//! orderdesk-mcp: an MCP server for OrderDesk, built as a WebAssembly component host.
//!
//! - [`runtime`]: wasmtime engine, compile cache, per-call stores and limits;
//! - [`grants`]: what each component may import;
//! - [`capabilities`]: the host side of each WIT interface;
//! - [`catalog`]: the aggregated tool list and argument validation;
//! - [`mcp`]: the MCP server (rmcp) in front of it all.

pub mod app;
pub mod audit;
pub mod capabilities;
pub mod catalog;
pub mod config;
pub mod embedded;
pub mod grants;
pub mod harness;
pub mod host;
pub mod mcp;
pub mod memory;
pub mod redact;
pub mod reload;
pub mod runtime;
pub mod session;
