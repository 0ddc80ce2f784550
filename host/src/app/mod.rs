//! Assembly: the one place that knows every part and puts them together. The binary
//! (`cli/`) parses the command line into [`Flags`] and calls in here; so do the tests,
//! the benchmarks and the harness.
//!
//! - `settings`: flags, environment and config file merged into one [`Settings`];
//! - `admin`: what the command line does to the vault: the data directory checked,
//!   every operation audited with source `cli`;
//! - `tokens`: the access tokens of a tenant (`token create|list|revoke`), audited the
//!   same way;
//! - `config`: the config file's format;
//! - `open`: the vault and OrderDesk, or the sandbox ([`Setup`]);
//! - `components`: the built-in and directory components loaded with their grants;
//! - `serve`: [`serve`] (settings, transport, shutdown), the entry of every transport;
//! - `in_process`: [`InProcess`], one MCP session without a client process (`call`,
//!   `tools`);
//! - `metrics_endpoint`: `GET /metrics` over HTTP ([`metrics_routes`] to mount,
//!   [`serve_metrics`] on a listener of its own, [`with_metrics`] beside a server);
//! - `reload`: `--watch`; `memory`: start-up memory handed back; `embedded`: the
//!   first-party components carried in the binary.
//!
//! Errors here are `anyhow`: they end the process with a message for the operator and
//! are never matched on.

mod admin;
mod components;
pub mod config;
pub mod embedded;
mod in_process;
pub mod memory;
mod metrics_endpoint;
mod open;
pub mod pushes;
mod reload;
pub mod remote;
mod serve;
mod settings;
mod tokens;
pub mod trust;
pub mod webhook_setup;

pub use admin::{CliOp, prepare_data_dir};
pub use components::{build_catalog, component_files, load_components, load_context, load_file};
pub use config::{ConfigError, ConfigFile};
pub use in_process::InProcess;
pub use metrics_endpoint::{
    METRICS_CONTENT_TYPE, MetricsServer, metrics_routes, serve_metrics, with_metrics,
};
pub use open::{Setup, open_host, open_sandbox, open_vault};
pub use serve::{Server, serve};
pub use settings::{DEFAULT_API_BASE, Flags, Settings, SettingsError, VaultSettings};
pub use tokens::{
    CreatedToken, DEFAULT_TOKEN_LIFETIME, TokenLifetime, TokenListing, TokenRequest,
    TokenRevocation, create_token, list_tokens, revoke_token,
};
pub use webhook_setup::{StoreWebhook, WebhookSetup, webhook_setup};
