//! Services shared by every call: what the host owns on the components' behalf (the
//! vault with the tenants' secrets, the OrderDesk gateway), and their configuration.

use std::sync::Arc;
use std::time::Duration;

use orderdesk_gateway::Gateway;
use orderdesk_vault::{Vault, VaultError};

/// Shared host services, one set per process.
pub struct HostServices {
    /// Tenants, stores (API keys encrypted) and the audit log.
    pub vault: Arc<Vault>,
    /// The only way to OrderDesk: rate limiting, retries, cache.
    pub gateway: Gateway,
    /// Serving the built-in OrderDesk simulator with a demo store.
    pub sandbox: bool,
}

impl std::fmt::Debug for HostServices {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HostServices")
            .field("vault", &self.vault)
            .field("gateway", &self.gateway)
            .field("sandbox", &self.sandbox)
            .finish()
    }
}

impl HostServices {
    /// Run blocking vault work (bcrypt, SQLite) off the async worker threads.
    pub async fn with_vault<T, F>(&self, work: F) -> Result<T, VaultError>
    where
        T: Send + 'static,
        F: FnOnce(&Vault) -> Result<T, VaultError> + Send + 'static,
    {
        let vault = self.vault.clone();
        tokio::task::spawn_blocking(move || work(&vault))
            .await
            .map_err(|e| VaultError::Storage(format!("vault task failed: {e}")))?
    }
}

/// How long audit rows are kept unless the operator says otherwise.
pub const DEFAULT_AUDIT_RETENTION: Duration = Duration::from_secs(90 * 24 * 3600);
