//! `orderdesk-mcp`: the command line. The host itself is assembled in `app.rs`.

use std::io::{BufRead, IsTerminal};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::Context;
use clap::{Parser, Subcommand, ValueEnum};
use rmcp::ServiceExt;
use secrecy::{ExposeSecret, SecretString};

use orderdesk_gateway::{
    ApiRequest, CacheMode, Gateway, GatewayConfig, GatewayError, StoreCredentials,
};
use orderdesk_mcp::app::{self, DEFAULT_API_BASE, VaultSettings};
use orderdesk_mcp::config::HostConfig;
use orderdesk_mcp::grants::Grants;
use orderdesk_mcp::harness;
use orderdesk_mcp::mcp::McpServer;
use orderdesk_mcp::runtime::{LoadedComponent, Runtime};

#[derive(Parser)]
#[command(
    name = "orderdesk-mcp",
    version,
    about = "MCP server for OrderDesk stores"
)]
struct Cli {
    /// Where the database, the server key, the config file and the compile cache live
    /// (default: the platform's data directory).
    #[arg(long, global = true, env = "ORDERDESK_MCP_DATA_DIR")]
    data_dir: Option<PathBuf>,
    /// A directory of extra tool components (`NAME.wasm`, grants in `NAME.toml`).
    #[arg(long, global = true, env = "ORDERDESK_MCP_COMPONENTS")]
    components: Option<PathBuf>,
    /// The config file (default: `config.toml` in the data directory).
    #[arg(long, global = true, env = "ORDERDESK_MCP_CONFIG")]
    config: Option<PathBuf>,
    /// OrderDesk API base URL.
    #[arg(long, global = true, env = "ORDERDESK_API_BASE", default_value = DEFAULT_API_BASE)]
    api_base: String,
    /// Log format on stderr.
    #[arg(long, global = true, env = "ORDERDESK_MCP_LOG_FORMAT", value_enum, default_value_t = LogFormat::Text)]
    log_format: LogFormat,
    #[command(subcommand)]
    command: Command,
}

#[derive(Clone, Copy, ValueEnum)]
enum LogFormat {
    Text,
    Json,
}

#[derive(Subcommand)]
enum Command {
    /// Serve MCP over stdio.
    Serve {
        /// Use the built-in OrderDesk simulator with a demo store (no account needed).
        #[arg(long, env = "ORDERDESK_MCP_SANDBOX")]
        sandbox: bool,
        /// Watch the components directory and reload changed components live.
        #[arg(long, env = "ORDERDESK_MCP_WATCH")]
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
enum ComponentsCommand {
    /// List each component: where it came from, its grants, imports and tools.
    List {
        /// Print JSON instead of text.
        #[arg(long)]
        json: bool,
    },
}

#[derive(Subcommand)]
enum ComponentCommand {
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
enum TenantCommand {
    /// Create a tenant and print its master key (shown this once only).
    Create {
        #[arg(long)]
        json: bool,
    },
}

#[derive(Subcommand)]
enum StoresCommand {
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

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    init_logging(cli.log_format);
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

fn init_logging(format: LogFormat) {
    use tracing_subscriber::layer::SubscriberExt;
    use tracing_subscriber::util::SubscriberInitExt;

    // stdout belongs to JSON-RPC when serving stdio: logs go to stderr.
    let filter = tracing_subscriber::EnvFilter::try_from_env("ORDERDESK_MCP_LOG")
        .unwrap_or_else(|_| "info".into());
    let builder = tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        // Colours for a terminal only: MCP clients write a server's stderr to log files.
        .with_ansi(std::io::stderr().is_terminal())
        .with_env_filter(filter);
    // rmcp logs whole JSON-RPC messages at debug level, tool arguments included (a
    // master key passed to `tenant_use_master_key`): never let those through, whatever
    // the filter asks for.
    let no_message_dumps = tracing_subscriber::filter::filter_fn(|meta| {
        !(meta.target().starts_with("rmcp") && *meta.level() > tracing::Level::INFO)
    });
    match format {
        LogFormat::Text => builder.finish().with(no_message_dumps).init(),
        LogFormat::Json => builder
            .json()
            .flatten_event(true)
            .finish()
            .with(no_message_dumps)
            .init(),
    }
}

fn data_dir(cli: &Cli) -> anyhow::Result<PathBuf> {
    let dir = match cli.data_dir.clone() {
        Some(dir) => dir,
        None => directories::ProjectDirs::from("me", "orderdesk", "orderdesk-mcp")
            .context("cannot find a data directory; pass --data-dir")?
            .data_dir()
            .to_path_buf(),
    };
    std::fs::create_dir_all(&dir)
        .with_context(|| format!("cannot create the data directory {}", dir.display()))?;
    Ok(dir)
}

fn master_key_from_env() -> Option<SecretString> {
    std::env::var("ORDERDESK_MCP_MASTER_KEY")
        .ok()
        .filter(|k| !k.trim().is_empty())
        .map(SecretString::from)
}

async fn run(cli: Cli) -> anyhow::Result<()> {
    let data_dir = data_dir(&cli)?;
    let config_path = cli
        .config
        .clone()
        .unwrap_or_else(|| data_dir.join("config.toml"));
    let config = HostConfig::load(&config_path)?;
    let settings = VaultSettings::from_env()?;
    match &cli.command {
        Command::Serve { sandbox, watch } => {
            let host = if *sandbox {
                app::open_sandbox(&data_dir).await?
            } else {
                app::open_host(&data_dir, &settings, &cli.api_base, master_key_from_env()).await?
            };
            let runtime = Arc::new(Runtime::new(
                config.limits()?,
                Some(data_dir.join("cache")),
            )?);
            let components =
                app::load_components(&runtime, &host, &config, cli.components.as_deref()).await?;
            let catalog = app::build_catalog(&components)?;
            tracing::info!(
                tools = catalog.entries().len(),
                components = components.len(),
                sandbox = host.services.sandbox,
                "serving MCP over stdio"
            );
            let server = McpServer::new(
                runtime.clone(),
                catalog,
                host.services.clone(),
                host.session.clone(),
            );
            let _watcher = match (*watch, cli.components.as_deref()) {
                (true, Some(dir)) => Some(orderdesk_mcp::reload::watch(
                    dir.to_path_buf(),
                    server.clone(),
                    runtime,
                    Arc::new(host_handle(&host)),
                    Arc::new(config),
                    components,
                )?),
                (true, None) => {
                    anyhow::bail!("--watch needs a components directory (--components DIR)")
                }
                _ => None,
            };
            // Once the client has listed the tools, start-up is over: what only it
            // needed goes back to the system (see `memory`).
            let server = server.release_startup_memory_after_first_list();
            let handle = server.clone();
            server
                // Pipes (as MCP clients start servers) are read and written on tokio's
                // reactor; anything else (a terminal, a file) through the blocking pool.
                .serve(rmcp::transport::stdio_pipes())
                .await?
                .waiting()
                .await?;
            // Every call's audit row is in the database before the process exits.
            handle.flush_audit().await;
            drop(host);
        }
        Command::Components {
            command: ComponentsCommand::List { json },
        } => {
            // Listing needs no account: run the components against the sandbox.
            let host = app::open_sandbox(&data_dir).await?;
            let runtime = Runtime::new(config.limits()?, Some(data_dir.join("cache")))?;
            let components =
                app::load_components(&runtime, &host, &config, cli.components.as_deref()).await?;
            // Listing is a check too: compile every input schema, the built-ins' included.
            app::build_catalog(&components)?
                .check_schemas()
                .map_err(anyhow::Error::msg)?;
            print_components(&components, *json);
        }
        Command::Tenant {
            command: TenantCommand::Create { json },
        } => {
            let vault = blocking_vault(&data_dir, &settings).await?;
            let (tenant_id, master_key) =
                tokio::task::spawn_blocking(move || vault.create_tenant()).await??;
            if *json {
                println!(
                    "{}",
                    serde_json::json!({"tenant_id": tenant_id.as_str(), "master_key": master_key.expose()})
                );
            } else {
                println!("tenant:     {tenant_id}");
                println!("master key: {}", master_key.expose());
                eprintln!(
                    "Keep the master key somewhere safe: it is shown only now, and it is the only way \
                     to use this tenant's stores. Set ORDERDESK_MCP_MASTER_KEY to it in your MCP \
                     client's config."
                );
            }
        }
        Command::Component { command } => return component_command(command).await,
        Command::Stores { command } => {
            stores_command(command, &data_dir, &settings, &cli.api_base).await?
        }
    }
    Ok(())
}

async fn component_command(command: &ComponentCommand) -> anyhow::Result<()> {
    // `--grants FILE` must exist (a typo must not quietly test with `log` only);
    // without it, `<name>.toml` beside the component is used when there is one.
    let grants_for = |wasm: &Path, grants: &Option<PathBuf>| -> anyhow::Result<Grants> {
        match grants {
            Some(manifest) => Grants::from_manifest(manifest).map_err(|e| {
                anyhow::anyhow!(
                    "{e}; give --grants an existing manifest, or leave it out to use {} (or `log` only without it)",
                    wasm.with_extension("toml").display()
                )
            }),
            None => Grants::for_file(wasm).map_err(anyhow::Error::msg),
        }
    };
    match command {
        ComponentCommand::Check { wasm, grants } => {
            let report = harness::check_component(wasm, grants_for(wasm, grants)?).await?;
            print!("{report}");
        }
        ComponentCommand::Test {
            wasm,
            cases,
            grants,
        } => {
            let results = harness::run_case_file(wasm, cases, grants_for(wasm, grants)?).await?;
            let failed = results.iter().filter(|r| !r.failures.is_empty()).count();
            for result in &results {
                if result.failures.is_empty() {
                    println!("ok     {}", result.name);
                } else {
                    println!("FAILED {}", result.name);
                    for failure in &result.failures {
                        for line in failure.lines() {
                            println!("         {line}");
                        }
                    }
                }
            }
            println!("{} passed, {failed} failed", results.len() - failed);
            anyhow::ensure!(failed == 0, "{failed} case(s) failed");
        }
    }
    Ok(())
}

/// What the watcher needs of the host to load components later.
fn host_handle(host: &app::Host) -> app::Host {
    app::Host {
        services: host.services.clone(),
        session: host.session.clone(),
        simulator: None,
    }
}

async fn blocking_vault(
    data_dir: &Path,
    settings: &VaultSettings,
) -> anyhow::Result<Arc<orderdesk_vault::Vault>> {
    let data_dir = data_dir.to_path_buf();
    let settings = settings.clone();
    tokio::task::spawn_blocking(move || app::open_vault(&data_dir, &settings)).await?
}

async fn stores_command(
    command: &StoresCommand,
    data_dir: &Path,
    settings: &VaultSettings,
    api_base: &str,
) -> anyhow::Result<()> {
    let master_key = master_key_from_env().context(
        "set ORDERDESK_MCP_MASTER_KEY to the tenant's master key (from `orderdesk-mcp tenant create`)",
    )?;
    let vault = blocking_vault(data_dir, settings).await?;
    let tenant = {
        let vault = vault.clone();
        tokio::task::spawn_blocking(move || vault.authenticate(&master_key))
            .await?
            .context("ORDERDESK_MCP_MASTER_KEY was not accepted")?
    };
    match command {
        StoresCommand::Add {
            store_id,
            name,
            label,
            no_verify,
        } => {
            let api_key = read_api_key()?;
            if !no_verify {
                let gateway = Gateway::new(GatewayConfig::new(api_base))?;
                let credentials = StoreCredentials {
                    store_id: store_id.clone(),
                    api_key: api_key.clone(),
                };
                let request = ApiRequest::get("/test").with_cache(CacheMode::Bypass);
                match gateway.send(tenant.tenant_id().as_str(), &credentials, request).await {
                    Ok(_) => {}
                    Err(GatewayError::Unauthorized(_)) => anyhow::bail!(
                        "OrderDesk refused store id {store_id} with this API key, so nothing was saved; \
                         check both in OrderDesk (Settings → API), or pass --no-verify"
                    ),
                    Err(e) => return Err(e).context("could not check the credentials with OrderDesk; nothing was saved (pass --no-verify to save anyway)"),
                }
            }
            let (store_id, name, label) = (store_id.clone(), name.clone(), label.clone());
            let record = tokio::task::spawn_blocking(move || {
                vault.add_store(
                    &tenant,
                    &store_id,
                    &api_key,
                    name.as_deref(),
                    label.as_deref(),
                )
            })
            .await??;
            println!("registered store {} as `{}`", record.store_id, record.name);
        }
        StoresCommand::List { json } => {
            let id = tenant.tenant_id().clone();
            let stores = tokio::task::spawn_blocking(move || vault.list_stores(&id)).await??;
            if *json {
                println!("{}", serde_json::to_string_pretty(&stores)?);
            } else if stores.is_empty() {
                println!("no stores yet: add one with `orderdesk-mcp stores add --store-id ID`");
            } else {
                for s in stores {
                    println!(
                        "{}\t{}\t{}\t{}",
                        s.store_id,
                        s.name,
                        s.label.unwrap_or_default(),
                        s.created_at
                    );
                }
            }
        }
        StoresCommand::Remove { identifier } => {
            let id = tenant.tenant_id().clone();
            let identifier = identifier.clone();
            let record =
                tokio::task::spawn_blocking(move || vault.delete_store(&id, &identifier)).await??;
            println!("removed store {} (`{}`)", record.store_id, record.name);
        }
    }
    Ok(())
}

/// The API key from a hidden prompt, or the first line of stdin when it is not a terminal.
fn read_api_key() -> anyhow::Result<SecretString> {
    let key = if std::io::stdin().is_terminal() {
        rpassword::prompt_password("OrderDesk API key (input hidden): ")
            .context("cannot read the API key")?
    } else {
        let mut line = String::new();
        std::io::stdin()
            .lock()
            .read_line(&mut line)
            .context("cannot read the API key from stdin")?;
        line
    };
    let key = SecretString::from(key.trim().to_string());
    anyhow::ensure!(!key.expose_secret().is_empty(), "no API key given");
    Ok(key)
}

fn print_components(components: &[Arc<LoadedComponent>], json: bool) {
    if json {
        let list: Vec<serde_json::Value> = components
            .iter()
            .map(|c| {
                serde_json::json!({
                    "name": c.name,
                    "origin": c.origin.to_string(),
                    "sha256": c.content_hash,
                    "compile_cache": c.cache.as_str(),
                    "grants": c.grants,
                    "imports": c.imports,
                    "tools": c.tools.iter().map(|t| t.name.clone()).collect::<Vec<_>>(),
                })
            })
            .collect();
        println!("{}", serde_json::to_string_pretty(&list).expect("JSON"));
        return;
    }
    for c in components {
        println!("{} ({})", c.name, c.origin);
        println!("  compile cache: {}", c.cache.as_str());
        println!("  grants:  {}", c.grants.describe());
        println!("  imports: {}", c.imports.join(", "));
        println!(
            "  tools:   {}",
            c.tools
                .iter()
                .map(|t| t.name.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
}
