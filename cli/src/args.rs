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
                  ORDERDESK_MCP_SERVER_KEY, ORDERDESK_MCP_AUTO_PROVISION, ORDERDESK_MCP_BCRYPT_COST, \
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
    /// Accept a loopback `http://` API base (a local test server); logged as a warning.
    #[arg(long, global = true)]
    pub insecure_api_base: bool,
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
            insecure_api_base: self.insecure_api_base,
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
}

#[derive(Subcommand)]
pub enum ComponentsCommand {
    /// List each component: where it came from, its grants, imports and tools.
    List {
        /// Print JSON instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Review a third-party component and allow it to run: shows its sha256, imports,
    /// requested grants and tools, and prints its `[components.NAME]` config entry.
    Trust {
        /// The component file (`NAME.wasm`; its manifest `NAME.toml` beside it, if any).
        wasm: PathBuf,
        /// The name it is loaded under (default: the file name without `.wasm`).
        #[arg(long)]
        name: Option<String>,
        /// Write the entry into the config file instead of only printing it.
        #[arg(long)]
        write: bool,
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
}
