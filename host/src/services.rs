//! The services every call shares, owned by the host on the components' behalf: the
//! vault (tenants, stores, encrypted API keys, audit rows) and the OrderDesk backend.
//!
//! The host defines here the traits it needs of the outside ([`OrderDeskBackend`],
//! [`LogObserver`]); the gateway and the test harness implement them. Nothing in this
//! module knows of wasm or MCP.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use orderdesk_gateway::{
    ApiRequest, ApiResponse, CacheMode, Gateway, GatewayError, StoreCredentials,
};
use orderdesk_vault::{Vault, VaultError};
use thiserror::Error;

use crate::bindings::log::Level;

/// A future that an object-safe trait method returns.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// Where OrderDesk requests go: the [`Gateway`] (pacing, retries, cache) in production,
/// a scripted OrderDesk in the component test harness.
pub trait OrderDeskBackend: Send + Sync {
    /// Perform one request for `tenant_id` with the store's credentials.
    fn send<'a>(
        &'a self,
        tenant_id: &'a str,
        credentials: &'a StoreCredentials,
        request: ApiRequest,
    ) -> BoxFuture<'a, Result<ApiResponse, GatewayError>>;

    /// The origin every request goes to (`https://app.orderdesk.me`): the vault saves
    /// store keys for it and hands a key out only for requests to the origin it was
    /// saved for.
    fn api_origin(&self) -> String;

    /// Forget what is cached of `tenant_id`'s store `store_id`: OrderDesk pushed a
    /// change to one of its orders. A backend without a cache has nothing to do.
    fn invalidate_store(&self, tenant_id: &str, store_id: &str) {
        let _ = (tenant_id, store_id);
    }
}

impl OrderDeskBackend for Gateway {
    fn send<'a>(
        &'a self,
        tenant_id: &'a str,
        credentials: &'a StoreCredentials,
        request: ApiRequest,
    ) -> BoxFuture<'a, Result<ApiResponse, GatewayError>> {
        Box::pin(Gateway::send(self, tenant_id, credentials, request))
    }

    fn api_origin(&self) -> String {
        Gateway::api_origin(self)
    }

    fn invalidate_store(&self, tenant_id: &str, store_id: &str) {
        Gateway::invalidate_store(self, tenant_id, store_id);
    }
}

/// Sees every log line a component writes, unredacted, besides the host's own log (the
/// test harness collects them for the component author).
pub trait LogObserver: Send + Sync {
    fn component_log(&self, level: Level, message: &str, fields: &[(String, String)]);
}

/// Shared host services, one set per process.
#[derive(Clone)]
pub struct Services {
    /// Tenants, stores (API keys encrypted) and the audit log.
    pub vault: Arc<Vault>,
    /// Where OrderDesk requests go.
    pub orderdesk: Arc<dyn OrderDeskBackend>,
    /// Serving the built-in OrderDesk simulator with a demo store.
    pub sandbox: bool,
    /// Also told of every component log line (the test harness).
    pub log_observer: Option<Arc<dyn LogObserver>>,
    /// Whether host functions accept secrets that came in as tool arguments (a master
    /// key to sign in, a store's API key to register). Off, they answer
    /// `not-available` pointing at the environment and the CLI, which keep keys out of
    /// the chat transcript.
    pub secret_arguments: bool,
}

impl std::fmt::Debug for Services {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Services")
            .field("vault", &self.vault)
            .field("sandbox", &self.sandbox)
            .finish_non_exhaustive()
    }
}

impl Services {
    /// Services with OrderDesk behind `orderdesk` and no log observer.
    pub fn new(vault: Arc<Vault>, orderdesk: Arc<dyn OrderDeskBackend>) -> Services {
        Services {
            vault,
            orderdesk,
            sandbox: false,
            log_observer: None,
            secret_arguments: true,
        }
    }

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

/// Why a store's credentials were not accepted.
#[derive(Debug, Error)]
pub enum CredentialCheckError {
    /// OrderDesk answered that this store id and API key do not belong together.
    #[error(
        "OrderDesk refused store id {store_id} with this API key, so nothing was saved; \
         check both values in OrderDesk (Settings → API)"
    )]
    Refused { store_id: String },
    /// The check itself could not be made (OrderDesk unreachable, rate-limited…).
    #[error("could not check the credentials with OrderDesk: {0}")]
    Gateway(GatewayError),
}

/// Prove a store id and API key before saving them: OrderDesk's `GET /test` answers 200
/// only for a matching pair. One check, shared by `orderdesk-mcp stores add` and the
/// `vault.register-store` capability.
pub async fn verify_store_credentials(
    orderdesk: &dyn OrderDeskBackend,
    tenant_id: &str,
    credentials: &StoreCredentials,
) -> Result<(), CredentialCheckError> {
    let request = ApiRequest::get("/test").with_cache(CacheMode::Bypass);
    match orderdesk.send(tenant_id, credentials, request).await {
        Ok(_) => Ok(()),
        Err(GatewayError::Unauthorized(_)) => Err(CredentialCheckError::Refused {
            store_id: credentials.store_id.clone(),
        }),
        Err(error) => Err(CredentialCheckError::Gateway(error)),
    }
}

/// How long audit rows are kept unless the operator says otherwise.
pub const DEFAULT_AUDIT_RETENTION: Duration = Duration::from_secs(90 * 24 * 3600);
