//! Assembling the host: data directory, vault, gateway, sandbox, components, catalog.
//! `main.rs` is only the command line on top of this.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use orderdesk_gateway::{Gateway, GatewayConfig};
use orderdesk_sim::{
    DEMO_API_KEY, DEMO_STORE_ID, DEMO_STORE_NAME, SimConfig, SimHandle, Simulator,
};
use orderdesk_vault::{Vault, VaultOptions};
use secrecy::SecretString;

use crate::catalog::Catalog;
use crate::config::HostConfig;
use crate::embedded::FIRST_PARTY;
use crate::host::{HostServices, OrderDeskBackend};
use crate::runtime::{
    CallContext, CallRecord, ComponentOrigin, ComponentSource, LoadedComponent, Runtime,
};
use crate::session::Session;

/// OrderDesk's production API.
pub const DEFAULT_API_BASE: &str = "https://app.orderdesk.me/api/v2";

/// Operator settings read from the environment (documented in the README).
#[derive(Clone, Debug)]
pub struct VaultSettings {
    pub bcrypt_cost: u32,
    pub auto_provision: bool,
    pub server_key: Option<SecretString>,
    pub audit_retention: Duration,
}

impl VaultSettings {
    pub fn from_env() -> anyhow::Result<VaultSettings> {
        let bcrypt_cost = match std::env::var("ORDERDESK_MCP_BCRYPT_COST") {
            Ok(text) => text.parse().with_context(|| {
                format!("ORDERDESK_MCP_BCRYPT_COST must be a number 4..=31, not `{text}`")
            })?,
            Err(_) => VaultOptions::default().bcrypt_cost,
        };
        let auto_provision = match std::env::var("ORDERDESK_MCP_AUTO_PROVISION") {
            Ok(text) => match text.trim().to_ascii_lowercase().as_str() {
                "true" | "1" | "yes" => true,
                "false" | "0" | "no" | "" => false,
                other => anyhow::bail!(
                    "ORDERDESK_MCP_AUTO_PROVISION must be true or false, not `{other}`"
                ),
            },
            Err(_) => false,
        };
        let server_key = std::env::var("ORDERDESK_MCP_SERVER_KEY")
            .ok()
            .map(SecretString::from);
        let audit_retention = match std::env::var("ORDERDESK_MCP_AUDIT_RETENTION_DAYS") {
            Ok(text) => {
                let days: u64 = text.parse().with_context(|| {
                    format!("ORDERDESK_MCP_AUDIT_RETENTION_DAYS must be a whole number of days, not `{text}`")
                })?;
                Duration::from_secs(days * 24 * 3600)
            }
            Err(_) => crate::host::DEFAULT_AUDIT_RETENTION,
        };
        Ok(VaultSettings {
            bcrypt_cost,
            auto_provision,
            server_key,
            audit_retention,
        })
    }
}

/// Open the operator's vault in `data_dir` and prune old audit rows.
pub fn open_vault(data_dir: &Path, settings: &VaultSettings) -> anyhow::Result<Arc<Vault>> {
    let vault = Vault::open(
        data_dir,
        VaultOptions {
            bcrypt_cost: settings.bcrypt_cost,
            auto_provision: settings.auto_provision,
            server_key: settings.server_key.clone(),
        },
    )
    .with_context(|| format!("cannot open the vault in {}", data_dir.display()))?;
    let pruned = vault
        .prune_audit(settings.audit_retention)
        .context("cannot prune the audit log")?;
    if pruned > 0 {
        tracing::info!(rows = pruned, "pruned old audit rows");
    }
    Ok(Arc::new(vault))
}

/// Everything a server process runs on.
pub struct Host {
    pub services: Arc<HostServices>,
    pub session: Arc<Session>,
    /// The built-in OrderDesk simulator when serving the sandbox (stops on drop).
    pub simulator: Option<SimHandle>,
}

/// Open the real thing: the operator's vault and OrderDesk at `api_base`, the session
/// authenticated up front when `master_key` is given.
pub async fn open_host(
    data_dir: &Path,
    settings: &VaultSettings,
    api_base: &str,
    master_key: Option<SecretString>,
) -> anyhow::Result<Host> {
    let vault = {
        let data_dir = data_dir.to_path_buf();
        let settings = settings.clone();
        tokio::task::spawn_blocking(move || open_vault(&data_dir, &settings)).await??
    };
    let gateway = Gateway::new(GatewayConfig::new(api_base))
        .with_context(|| format!("the OrderDesk API base `{api_base}` is unusable"))?;
    let session = Arc::new(Session::default());
    if let Some(master_key) = master_key {
        let vault = vault.clone();
        let tenant = tokio::task::spawn_blocking(move || vault.authenticate(&master_key))
            .await?
            .context(
                "ORDERDESK_MCP_MASTER_KEY was not accepted; check it, or unset it and \
                 authenticate with the tenant_use_master_key tool",
            )?;
        tracing::info!(tenant_id = %tenant.tenant_id(), "session authenticated from ORDERDESK_MCP_MASTER_KEY");
        session.authenticate(tenant);
    }
    let services = Arc::new(HostServices {
        vault,
        orderdesk: OrderDeskBackend::Gateway(gateway),
        sandbox: false,
        log_sink: None,
    });
    Ok(Host {
        services,
        session,
        simulator: None,
    })
}

/// Open the sandbox: the built-in OrderDesk simulator on a loopback port, a throw-away
/// vault in `<data_dir>/sandbox/` holding one demo tenant with the demo store, and the
/// session authenticated as that tenant with the demo store active. Nothing real is
/// reachable from it, and it starts afresh each run (the simulator keeps its orders in
/// memory too).
pub async fn open_sandbox(data_dir: &Path) -> anyhow::Result<Host> {
    let simulator = Simulator::spawn(SimConfig::sandbox())
        .await
        .context("cannot start the built-in OrderDesk simulator")?;
    let sandbox_dir = data_dir.join("sandbox");
    let (vault, tenant, store) = tokio::task::spawn_blocking(move || -> anyhow::Result<_> {
        if sandbox_dir.exists() {
            std::fs::remove_dir_all(&sandbox_dir)
                .with_context(|| format!("cannot reset {}", sandbox_dir.display()))?;
        }
        // The sandbox's tenant and key protect nothing real: the lowest bcrypt cost keeps
        // start-up fast.
        let vault = Vault::open(
            &sandbox_dir,
            VaultOptions {
                bcrypt_cost: 4,
                auto_provision: false,
                server_key: None,
            },
        )?;
        let (_, master_key) = vault.create_tenant()?;
        let tenant = vault.authenticate(master_key.as_secret())?;
        let store = vault.add_store(
            &tenant,
            DEMO_STORE_ID,
            &SecretString::from(DEMO_API_KEY),
            Some(DEMO_STORE_NAME),
            Some("sandbox"),
        )?;
        Ok((Arc::new(vault), tenant, store))
    })
    .await??;
    let gateway = Gateway::new(GatewayConfig::new(simulator.api_base()))?;
    let session = Arc::new(Session::default());
    session.authenticate(tenant);
    session.set_active_store(Some(store));
    tracing::info!(api_base = %simulator.api_base(), "sandbox: serving the built-in OrderDesk simulator with a demo store");
    Ok(Host {
        services: Arc::new(HostServices {
            vault,
            orderdesk: OrderDeskBackend::Gateway(gateway),
            sandbox: true,
            log_sink: None,
        }),
        session,
        simulator: Some(simulator),
    })
}

/// A call context for a component's `list` at load time.
pub fn load_context(host: &Host, name: &str, grants: crate::grants::Grants) -> CallContext {
    CallContext {
        services: host.services.clone(),
        session: host.session.clone(),
        component: name.into(),
        grants,
        correlation_id: "load".into(),
        progress: None,
        record: Arc::new(CallRecord::default()),
    }
}

/// Load the built-in components (with their grants narrowed by the operator's config),
/// then every `.wasm` of the components directory. A component that fails to load stops
/// start-up with an error that names it.
pub async fn load_components(
    runtime: &Runtime,
    host: &Host,
    config: &HostConfig,
    dir: Option<&Path>,
) -> anyhow::Result<Vec<Arc<LoadedComponent>>> {
    let mut loaded = Vec::new();
    for embedded in FIRST_PARTY {
        let grants = config.narrow(embedded.name, embedded.grants);
        let component = runtime
            .load(
                embedded.name,
                ComponentOrigin::Embedded,
                ComponentSource::embedded(embedded.wasm, embedded.sha256),
                grants,
                load_context(host, embedded.name, grants),
            )
            .await?;
        loaded.push(Arc::new(component));
    }
    if let Some(dir) = dir {
        for path in component_files(dir)? {
            loaded.push(Arc::new(load_file(runtime, host, config, &path).await?));
        }
    }
    Ok(loaded)
}

/// The `.wasm` files of a components directory, sorted by name.
pub fn component_files(dir: &Path) -> anyhow::Result<Vec<PathBuf>> {
    let mut paths: Vec<PathBuf> = std::fs::read_dir(dir)
        .with_context(|| format!("cannot read the components directory {}", dir.display()))?
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .filter(|path| path.extension().is_some_and(|ext| ext == "wasm"))
        .collect();
    paths.sort();
    Ok(paths)
}

/// Load one component file with the grants of its manifest, narrowed by the config.
pub async fn load_file(
    runtime: &Runtime,
    host: &Host,
    config: &HostConfig,
    path: &Path,
) -> anyhow::Result<LoadedComponent> {
    let name = path
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    let grants = crate::grants::Grants::for_file(path).map_err(anyhow::Error::msg)?;
    let grants = config.narrow(&name, grants);
    let bytes = std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
    let component = runtime
        .load(
            &name,
            ComponentOrigin::File(path.to_path_buf()),
            ComponentSource::from_bytes(bytes),
            grants,
            load_context(host, &name, grants),
        )
        .await?;
    Ok(component)
}

/// Build the catalog, refusing duplicate or invalid tool names.
pub fn build_catalog(components: &[Arc<LoadedComponent>]) -> anyhow::Result<Catalog> {
    Catalog::build(components).map_err(anyhow::Error::msg)
}
