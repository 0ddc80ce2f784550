//! Services shared by every call: what the host owns on the components' behalf (the
//! vault with the tenants' secrets, the OrderDesk gateway), and their configuration.

use std::sync::Arc;
use std::time::Duration;

use orderdesk_gateway::{ApiRequest, ApiResponse, Gateway, GatewayError, StoreCredentials};
use orderdesk_vault::{Vault, VaultError};

use crate::harness::{LogSink, ScriptedOrderDesk};

/// Shared host services, one set per process.
pub struct HostServices {
    /// Tenants, stores (API keys encrypted) and the audit log.
    pub vault: Arc<Vault>,
    /// Where OrderDesk requests go.
    pub orderdesk: OrderDeskBackend,
    /// Serving the built-in OrderDesk simulator with a demo store.
    pub sandbox: bool,
    /// Where component log lines are also collected (the test harness reads them).
    pub log_sink: Option<Arc<LogSink>>,
}

/// The OrderDesk behind the `orderdesk` interface.
pub enum OrderDeskBackend {
    /// The real thing (or the simulator) over HTTP: pacing, retries, cache.
    Gateway(Gateway),
    /// Canned answers of the component test harness; records every request.
    Scripted(Arc<ScriptedOrderDesk>),
}

impl std::fmt::Debug for OrderDeskBackend {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            OrderDeskBackend::Gateway(gateway) => gateway.fmt(f),
            OrderDeskBackend::Scripted(_) => f.write_str("ScriptedOrderDesk"),
        }
    }
}

impl OrderDeskBackend {
    /// Perform one request for `tenant_id` with the store's credentials.
    pub async fn send(
        &self,
        tenant_id: &str,
        credentials: &StoreCredentials,
        request: ApiRequest,
    ) -> Result<ApiResponse, GatewayError> {
        match self {
            OrderDeskBackend::Gateway(gateway) => {
                gateway.send(tenant_id, credentials, request).await
            }
            OrderDeskBackend::Scripted(script) => script.answer(&credentials.store_id, &request),
        }
    }
}

impl std::fmt::Debug for HostServices {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HostServices")
            .field("vault", &self.vault)
            .field("orderdesk", &self.orderdesk)
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
