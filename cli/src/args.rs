//! The command line's grammar (clap). Every flag that also has an environment variable
//! or a config-file key is resolved by `orderdesk_host::app::Settings`, which holds the
//! precedence: flag > environment > config file > default.

use std::path::PathBuf;

use clap::{Parser, Subcommand, ValueEnum};
use orderdesk_host::app::Flags;

#[derive(Parser)]
#[command(
    name = "orderdesk-mcp",
    version,
    about = "MCP server for OrderDesk stores",
    after_help = "Environment: ORDERDESK_MCP_DATA_DIR, ORDERDESK_MCP_COMPONENTS, ORDERDESK_MCP_CONFIG, \
                  ORDERDESK_API_BASE, ORDERDESK_MCP_SANDBOX, ORDERDESK_MCP_WATCH, ORDERDESK_MCP_MASTER_KEY, \
                  ORDERDESK_MCP_SERVER_KEY, ORDERDESK_MCP_NEW_SERVER_KEY, ORDERDESK_MCP_AUTO_PROVISION, ORDERDESK_MCP_BCRYPT_COST, \
                  ORDERDESK_MCP_AUDIT_RETENTION_DAYS, ORDERDESK_MCP_LOG, ORDERDESK_MCP_LOG_FORMAT (see the README)."
)]
pub struct Cli {
    /// Where the database, the server key, the config file and the compile cache live
    /// (default: ORDERDESK_MCP_DATA_DIR, else the platform's data directory).
    #[arg(long, global = true)]
    pub data_dir: Option<PathBuf>,
    /// A directory of extra tool components (`NAME.wasm`, grants in `NAME.toml`).
    #[arg(long, global = true)]
    pub components: Option<PathBuf>,
    /// The config file (default: `config.toml` in the data directory).
    #[arg(long, global = true)]
    pub config: Option<PathBuf>,
    /// OrderDesk API base URL (default: https://app.orderdesk.me/api/v2).
    #[arg(long, global = true)]
    pub api_base: Option<String>,
    /// Log format on stderr.
    #[arg(long, global = true, env = "ORDERDESK_MCP_LOG_FORMAT", value_enum, default_value_t = LogFormat::Text)]
    pub log_format: LogFormat,
    #[command(subcommand)]
    pub command: Command,
}

impl Cli {
    /// What the flags say, for the settings to merge.
    pub fn flags(&self) -> Flags {
        let (sandbox, watch) = match self.command {
            Command::Serve { sandbox, watch } => (sandbox, watch),
            _ => (false, false),
        };
        Flags {
            data_dir: self.data_dir.clone(),
            components: self.components.clone(),
            config: self.config.clone(),
            api_base: self.api_base.clone(),
            sandbox,
            watch,
        }
    }
}

#[derive(Clone, Copy, ValueEnum)]
pub enum LogFormat {
    Text,
    Json,
}

#[derive(Subcommand)]
pub enum Command {
    /// Serve MCP over stdio.
    Serve {
        /// Use the built-in OrderDesk simulator with a demo store (no account needed).
        #[arg(long)]
        sandbox: bool,
        /// Watch the components directory and reload changed components live.
        #[arg(long)]
        watch: bool,
    },
    /// Inspect the loaded components.
    Components {
        #[command(subcommand)]
        command: ComponentsCommand,
    },
    /// Check or test a tool component with the mock host (no account, no MCP client).
    Component {
        #[command(subcommand)]
        command: ComponentCommand,
    },
    /// Manage tenants.
    Tenant {
        #[command(subcommand)]
        command: TenantCommand,
    },
    /// Manage the stores of the tenant whose master key is in ORDERDESK_MCP_MASTER_KEY.
    Stores {
        #[command(subcommand)]
        command: StoresCommand,
    },
    /// Manage the server key (encrypts every store key's outer layer).
    ServerKey {
        #[command(subcommand)]
        command: ServerKeyCommand,
    },
}

#[derive(Subcommand)]
pub enum ComponentsCommand {
    /// List each component: where it came from, its grants, imports and tools.
    List {
        /// Print JSON instead of text.
        #[arg(long)]
        json: bool,
    },
}

#[derive(Subcommand)]
pub enum ComponentCommand {
    /// Validate a component without running its tools: WIT version, imports against
    /// grants, tool names, JSON Schemas, sizes.
    Check {
        wasm: PathBuf,
        /// Grants manifest (default: NAME.toml beside the .wasm, else `log` only).
        #[arg(long)]
        grants: Option<PathBuf>,
    },
    /// Run the cases of a JSON file against the component with a scripted OrderDesk
    /// (format: docs/authoring-rust.md, "The case file format").
    Test {
        wasm: PathBuf,
        cases: PathBuf,
        #[arg(long)]
        grants: Option<PathBuf>,
    },
}

#[derive(Subcommand)]
pub enum TenantCommand {
    /// Create a tenant and print its master key (shown this once only).
    Create {
        #[arg(long)]
        json: bool,
    },
    /// List the tenants (ids, stores, revocation, a retired key's end of grace).
    List {
        #[arg(long)]
        json: bool,
    },
    /// Replace the master key in ORDERDESK_MCP_MASTER_KEY with a new one, printed once.
    /// The tenant's store keys are re-encrypted under it; the old key keeps working for
    /// the grace period, then stops.
    RotateKey {
        /// Hours the old key keeps working (0: it stops at once).
        #[arg(long, default_value_t = 24)]
        grace_hours: u64,
        #[arg(long)]
        json: bool,
    },
    /// Revoke a tenant: its master keys stop working and its stores' API keys are
    /// erased; the tenant and the audit log stay. Cannot be undone.
    Revoke {
        tenant_id: String,
        /// Confirm.
        #[arg(long)]
        yes: bool,
    },
    /// Delete a tenant with its stores and keys; the audit log stays. Cannot be undone.
    Delete {
        tenant_id: String,
        /// Confirm.
        #[arg(long)]
        yes: bool,
    },
}

#[derive(Subcommand)]
pub enum StoresCommand {
    /// Register a store. The API key is read from a hidden prompt, or from stdin when
    /// stdin is not a terminal; it is checked with OrderDesk before it is saved.
    Add {
        #[arg(long)]
        store_id: String,
        #[arg(long)]
        name: Option<String>,
        #[arg(long)]
        label: Option<String>,
        /// Save without checking the credentials with OrderDesk.
        #[arg(long)]
        no_verify: bool,
    },
    /// List the tenant's stores.
    List {
        #[arg(long)]
        json: bool,
    },
    /// Remove a store (by name or store id) and its encrypted API key.
    Remove { identifier: String },
    /// Replace a store's API key (by name or store id). The new key is read like `add`'s
    /// and checked with OrderDesk before it replaces the old one; it is saved for the
    /// current API base, so this also moves a store to another API origin.
    UpdateKey { identifier: String },
}

#[derive(Subcommand)]
pub enum ServerKeyCommand {
    /// Re-encrypt every store key under a new server key in one transaction. With
    /// `<data dir>/server.key`, a new key is generated and replaces the file once the
    /// database uses it; with ORDERDESK_MCP_SERVER_KEY, give the new key in
    /// ORDERDESK_MCP_NEW_SERVER_KEY. Restart running servers afterwards.
    Rotate,
}
