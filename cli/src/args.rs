//! The command line's grammar (clap). Every flag that also has an environment variable
//! or a config-file key is resolved by `orderdesk_host::app::Settings`, which holds the
//! precedence: flag > environment > config file > default.

use std::path::PathBuf;

use clap::{Parser, Subcommand, ValueEnum};
use orderdesk_host::app::{self, Flags};

#[derive(Parser)]
#[command(
    name = "orderdesk-mcp",
    version,
    about = "MCP server for OrderDesk stores",
    after_help = "Environment: ORDERDESK_MCP_DATA_DIR, ORDERDESK_MCP_COMPONENTS, ORDERDESK_MCP_CONFIG, \
                  ORDERDESK_API_BASE, ORDERDESK_MCP_SANDBOX, ORDERDESK_MCP_WATCH, ORDERDESK_MCP_MASTER_KEY, \
                  ORDERDESK_MCP_SERVER_KEY, ORDERDESK_MCP_NEW_SERVER_KEY, ORDERDESK_MCP_AUTO_PROVISION, ORDERDESK_MCP_BCRYPT_COST, \
                  ORDERDESK_MCP_AUDIT_RETENTION_DAYS, ORDERDESK_MCP_METRICS, ORDERDESK_MCP_METRICS_TOKEN, \
                  ORDERDESK_MCP_LOG, ORDERDESK_MCP_LOG_FORMAT (see the README)."
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
    /// More on stderr: informational log lines too. `serve` logs them anyway; the
    /// other commands print only warnings and errors there, their report goes to stdout.
    #[arg(long, short, global = true)]
    pub verbose: bool,
    #[command(subcommand)]
    pub command: Command,
}

impl Cli {
    /// What the flags say, for the settings to merge.
    pub fn flags(&self) -> Flags {
        let (sandbox, watch) = match self.command {
            Command::Serve { sandbox, watch, .. } => (sandbox, watch),
            Command::Call { sandbox, .. } | Command::Tools { sandbox, .. } => (sandbox, false),
            _ => (false, false),
        };
        let (http, public_url, metrics) = match &self.command {
            Command::Serve {
                http,
                public_url,
                metrics,
                ..
            } => (http.clone(), public_url.clone(), metrics.clone()),
            Command::Webhooks {
                command: WebhooksCommand::Info { public_url, .. },
            } => (None, public_url.clone(), None),
            _ => (None, None, None),
        };
        Flags {
            data_dir: self.data_dir.clone(),
            components: self.components.clone(),
            config: self.config.clone(),
            api_base: self.api_base.clone(),
            insecure_api_base: self.insecure_api_base,
            sandbox,
            watch,
            http,
            public_url,
            metrics,
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
    /// Serve MCP over stdio (the default), or over HTTP with `--http`.
    Serve {
        /// Use the built-in OrderDesk simulator with a demo store (no account needed).
        #[arg(long)]
        sandbox: bool,
        /// Watch the components directory and reload changed components live.
        #[arg(long)]
        watch: bool,
        /// Serve MCP's Streamable HTTP transport at `/mcp` on ADDR (`PORT`, `IP:PORT`;
        /// a port alone binds 127.0.0.1) instead of stdio; clients authenticate with
        /// access tokens (`orderdesk-mcp token create`). Env: ORDERDESK_MCP_HTTP.
        #[arg(long, value_name = "ADDR")]
        http: Option<String>,
        /// The URL clients reach the HTTP server at, when it is behind a
        /// TLS-terminating proxy (e.g. https://mcp.example.com). Env:
        /// ORDERDESK_MCP_PUBLIC_URL.
        #[arg(long, value_name = "URL")]
        public_url: Option<String>,
        /// Serve Prometheus metrics at http://ADDR/metrics while the server runs
        /// (`127.0.0.1:9464`, or a port alone for 127.0.0.1; port 0 picks a free one). A
        /// scrape must carry `Authorization: Bearer` ORDERDESK_MCP_METRICS_TOKEN when
        /// that is set.
        #[arg(long, value_name = "ADDR")]
        metrics: Option<String>,
    },
    /// Call one tool of the server the same flags would start (in-process, through the
    /// MCP layer) and print its structured result; a tool error goes to stderr and
    /// exits with status 1.
    Call {
        /// The tool's name, e.g. `inventory_list` (`orderdesk-mcp tools` lists them).
        tool: String,
        /// The arguments: a JSON object (default `{}`), or `-` to read it from stdin.
        arguments: Option<String>,
        /// Run against the built-in OrderDesk simulator with a demo store (no account needed).
        #[arg(long)]
        sandbox: bool,
        /// Print the whole MCP result as one line of JSON (`isError`,
        /// `structuredContent`, `content`), errors included.
        #[arg(long)]
        json: bool,
    },
    /// List the tools of the server the same flags would start, with their schemas.
    Tools {
        /// Run against the built-in OrderDesk simulator with a demo store.
        #[arg(long)]
        sandbox: bool,
        /// Print the tools as MCP's `tools/list` has them, as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Inspect the loaded components.
    Components {
        #[command(subcommand)]
        command: ComponentsCommand,
    },
    /// Start, check or test a tool component (no account, no MCP client needed).
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
    /// Manage the access tokens of the tenant whose master key is in
    /// ORDERDESK_MCP_MASTER_KEY: what a remote MCP client sends instead of the master key.
    Token {
        #[command(subcommand)]
        command: TokenCommand,
    },
    /// Manage the server key (encrypts every store key's outer layer).
    ServerKey {
        #[command(subcommand)]
        command: ServerKeyCommand,
    },
    /// Set up OrderDesk's pushes ("post order to URL" rules) for the stores of the
    /// tenant whose master key is in ORDERDESK_MCP_MASTER_KEY.
    Webhooks {
        #[command(subcommand)]
        command: WebhooksCommand,
    },
}

#[derive(Subcommand)]
pub enum WebhooksCommand {
    /// Print, for each store, the URL its OrderDesk rule must post orders to, the rule
    /// to create, and whether the server can verify the store's pushes yet.
    Info {
        /// The URL OrderDesk reaches the server at (https://…), as the server is
        /// started with. Env: ORDERDESK_MCP_PUBLIC_URL; config: `[http] public_url`.
        #[arg(long, value_name = "URL")]
        public_url: Option<String>,
        /// Print JSON instead of text.
        #[arg(long)]
        json: bool,
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
        /// The component file (`NAME.wasm`; its manifest `NAME.toml` beside it, if any),
        /// or a bundle directory from `component pack` (its checksum is verified).
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
    /// Create a component project in the directory NAME: a buildable crate (or Python
    /// app) with one tool, its grants manifest, a case file and a README with the next
    /// commands. The SDK is written into it, so it builds without this repository.
    New {
        /// The component's name: lower-case letters, digits and `_`, starting with a
        /// letter. It names the `.wasm`, the manifest and the tools' prefix.
        name: String,
        #[arg(long, value_enum, default_value_t = Lang::Rust)]
        lang: Lang,
        /// What the component may do with OrderDesk: `read` (GET only) or `write`.
        #[arg(long, value_enum, default_value_t = Access::Read)]
        grants: Access,
    },
    /// Validate a component without running its tools: WIT version, imports against
    /// grants, tool names, JSON Schemas, sizes.
    Check {
        wasm: PathBuf,
        /// Grants manifest (default: NAME.toml beside the .wasm, else `log` only).
        #[arg(long)]
        grants: Option<PathBuf>,
        /// Print the report as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Run the cases of a JSON file against the component with a scripted OrderDesk
    /// (format: docs/authoring-rust.md, "The case file format").
    Test {
        wasm: PathBuf,
        cases: PathBuf,
        /// Grants manifest (default: NAME.toml beside the .wasm, else `log` only).
        #[arg(long)]
        grants: Option<PathBuf>,
        /// Print the verdicts as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Validate a component and write a bundle for an operator: the .wasm, its
    /// manifest and a sha256 checksum (`NAME.sha256`), which `components trust`
    /// verifies; prints the imports, the requested grants and the trust entry.
    Pack {
        wasm: PathBuf,
        /// Where the bundle goes (default: `dist/`).
        #[arg(long, default_value = "dist")]
        out: PathBuf,
    },
}

/// The language of a new component.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Lang {
    Rust,
    Python,
}

/// A new component's OrderDesk grant.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Access {
    Read,
    Write,
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
pub enum TokenCommand {
    /// Make an access token and print it (shown this once only). A remote MCP client
    /// sends it as `Authorization: Bearer <token>`; it stops when revoked, when it
    /// expires, and with the master key it was made with (after a rotation's grace).
    Create {
        /// What its sessions may do: `read` (read-only tools; the default, the safer
        /// choice) or `write`.
        #[arg(long, value_enum, default_value_t = Scope::Read)]
        scope: Scope,
        /// The one store (name or store id) it is for (default: every store).
        #[arg(long)]
        store: Option<String>,
        /// How long it works: `30d`, `12h`, `90m` or `never`.
        #[arg(long, default_value = app::DEFAULT_TOKEN_LIFETIME)]
        expires: app::TokenLifetime,
        /// Your name for it, e.g. the client that holds it.
        #[arg(long)]
        label: Option<String>,
        #[arg(long)]
        json: bool,
    },
    /// List the tenant's tokens (id, label, scope, store, created, last used, expiry,
    /// revocation); never a token itself.
    List {
        #[arg(long)]
        json: bool,
    },
    /// Revoke a token by its id (`tok_…`, as `token list` shows): it stops at once.
    Revoke { token_id: String },
}

/// What an access token's sessions may do.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Scope {
    Read,
    Write,
}

#[derive(Subcommand)]
pub enum ServerKeyCommand {
    /// Re-encrypt every store key under a new server key in one transaction. With
    /// `<data dir>/server.key`, a new key is generated and replaces the file once the
    /// database uses it; with ORDERDESK_MCP_SERVER_KEY, give the new key in
    /// ORDERDESK_MCP_NEW_SERVER_KEY. Restart running servers afterwards.
    Rotate,
}
