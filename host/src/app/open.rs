//! Opening what a server runs on: the operator's vault and OrderDesk, or the sandbox.

use std::path::Path;
use std::sync::Arc;

use anyhow::Context;
use orderdesk_gateway::{Gateway, GatewayConfig};
use orderdesk_sim::{
    DEMO_API_KEY, DEMO_STORE_ID, DEMO_STORE_NAME, SimConfig, SimHandle, Simulator,
};
use orderdesk_vault::{Vault, VaultOptions};
use secrecy::SecretString;

use super::settings::VaultSettings;
use crate::services::Services;
use crate::session::Session;

/// A write still pending in the audit after this long was cut off by a stopped
/// process: longer than any call may last (the call time limit is at most hours).
const INTERRUPTED_AFTER: std::time::Duration = std::time::Duration::from_secs(24 * 3600);

/// Open the operator's vault in `data_dir` and prune old audit rows.
pub fn open_vault(data_dir: &Path, settings: &VaultSettings) -> anyhow::Result<Arc<Vault>> {
    let vault = Vault::open(
        data_dir,
        VaultOptions {
            bcrypt_cost: settings.bcrypt_cost,
            auto_provision: settings.auto_provision,
            server_key: settings.server_key.clone(),
            webhook_retention: settings.webhook_retention,
        },
    )
    .with_context(|| format!("cannot open the vault in {}", data_dir.display()))?;
    let pruned = vault
        .prune_audit(settings.audit_retention)
        .context("cannot prune the audit log")?;
    if pruned > 0 {
        tracing::info!(rows = pruned, "pruned old audit rows");
    }
    // Writes whose answer a stopped process never recorded. Only old ones: another
    // process on the same database may have a write under way right now, and none is
    // under way longer than a call may last.
    let interrupted = vault
        .settle_interrupted_intents(INTERRUPTED_AFTER)
        .context("cannot settle the audit log's pending writes")?;
    if interrupted > 0 {
        tracing::warn!(
            rows = interrupted,
            "audit: OrderDesk writes left pending by a stopped server are marked outcome-unknown"
        );
    }
    Ok(Arc::new(vault))
}

/// Everything a server process runs on: the shared services, the session, and in the
/// sandbox the simulator.
pub struct Setup {
    pub services: Arc<Services>,
    pub session: Arc<Session>,
    /// The built-in OrderDesk simulator when serving the sandbox (stops on drop).
    pub simulator: Option<SimHandle>,
}

/// The vault vouches for the compile cache's entries (it alone holds the server key).
impl crate::runtime::CodeAuthenticator for Vault {
    fn tag(&self, code: &[u8]) -> [u8; 32] {
        self.code_tag(code)
    }
}

impl Setup {
    /// The compile cache in `dir`, its entries authenticated by this setup's vault.
    pub fn compile_cache(&self, dir: std::path::PathBuf) -> crate::runtime::CacheSetup {
        crate::runtime::CacheSetup {
            dir,
            authenticator: self.services.vault.clone(),
        }
    }

    /// The same setup, its services accepting secrets as tool arguments or not.
    pub fn with_secret_arguments(mut self, allowed: bool) -> Setup {
        if self.services.secret_arguments != allowed {
            self.services = Arc::new(Services {
                secret_arguments: allowed,
                ..(*self.services).clone()
            });
        }
        self
    }
}

/// Open the real thing: the operator's vault and OrderDesk at `api_base`, the session
/// authenticated up front when `master_key` is given.
pub async fn open_host(
    data_dir: &Path,
    settings: &VaultSettings,
    api_base: &str,
    master_key: Option<SecretString>,
) -> anyhow::Result<Setup> {
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
            .inspect_err(crate::telemetry::master_key_failure)
            .context(
                "ORDERDESK_MCP_MASTER_KEY was not accepted; check it, or unset it and \
                 authenticate with the tenant_use_master_key tool",
            )?;
        tracing::info!(tenant_id = %tenant.tenant_id(), "session authenticated from ORDERDESK_MCP_MASTER_KEY");
        if let Some(until) = tenant.key_expires_at() {
            tracing::warn!(
                tenant_id = %tenant.tenant_id(),
                "ORDERDESK_MCP_MASTER_KEY holds a master key replaced by `tenant rotate-key`: \
                 it stops working at {until} UTC; switch to the new key"
            );
        }
        session.authenticate(tenant);
    }
    let services = Arc::new(Services::new(vault, Arc::new(gateway)));
    Ok(Setup {
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
pub async fn open_sandbox(data_dir: &Path) -> anyhow::Result<Setup> {
    let simulator = Simulator::spawn(SimConfig::sandbox())
        .await
        .context("cannot start the built-in OrderDesk simulator")?;
    let sandbox_dir = data_dir.join("sandbox");
    let gateway = Gateway::new(GatewayConfig::new(simulator.api_base()))?;
    let origin = gateway.api_origin();
    let (vault, tenant, store) = tokio::task::spawn_blocking(move || -> anyhow::Result<_> {
        reset_sandbox_dir(&sandbox_dir)?;
        // The sandbox's tenant and key protect nothing real: the lowest bcrypt cost keeps
        // start-up fast.
        let vault = Vault::open(
            &sandbox_dir,
            VaultOptions {
                bcrypt_cost: 4,
                auto_provision: false,
                server_key: None,
                ..VaultOptions::default()
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
            &origin,
        )?;
        Ok((Arc::new(vault), tenant, store))
    })
    .await??;
    let session = Arc::new(Session::default());
    session.authenticate(tenant);
    session.set_active_store(Some(store));
    tracing::info!(api_base = %simulator.api_base(), "sandbox: serving the built-in OrderDesk simulator with a demo store");
    Ok(Setup {
        services: Arc::new(Services {
            sandbox: true,
            ..Services::new(vault, Arc::new(gateway))
        }),
        session,
        simulator: Some(simulator),
    })
}

/// Empty the sandbox's directory but for its server key: the sandbox starts afresh,
/// and the compile cache its key authenticates stays valid from one run to the next.
fn reset_sandbox_dir(sandbox_dir: &Path) -> anyhow::Result<()> {
    let entries = match std::fs::read_dir(sandbox_dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(e).with_context(|| format!("cannot read {}", sandbox_dir.display())),
    };
    for entry in entries {
        let path = entry?.path();
        if path.file_name() == Some(orderdesk_vault::SERVER_KEY_FILE_NAME.as_ref()) {
            continue;
        }
        let removed = if path.is_dir() {
            std::fs::remove_dir_all(&path)
        } else {
            std::fs::remove_file(&path)
        };
        removed.with_context(|| format!("cannot reset the sandbox: {}", path.display()))?;
    }
    Ok(())
}

impl Setup {
    /// The services and session without the simulator's ownership (for the watcher,
    /// which loads components later; the simulator stays with the original).
    pub fn share(&self) -> Setup {
        Setup {
            services: self.services.clone(),
            session: self.session.clone(),
            simulator: None,
        }
    }
}
