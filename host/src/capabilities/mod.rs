//! The host side of each WIT interface, implemented on the per-call [`CallState`]: one
//! module per capability (`session`, `vault`, `orderdesk`, `log`), each the same shape:
//! check the grant, do the work through [`HostServices`](crate::host::HostServices) with
//! blocking work off the async threads, map the service's error one-to-one onto the WIT
//! `host-error`.
//!
//! Every function checks the caller's grant first (the load-time check already refused
//! components that import more than they were granted; this is the second line).

mod log;
mod orderdesk;
mod session;
mod vault;

use std::time::Instant;

use orderdesk_gateway::GatewayError;
use orderdesk_vault::{StoreRecord, TenantSession, VaultError};

use crate::grants::Capability;
use crate::runtime::CallState;
use crate::runtime::bindings::orderdesk::mcp::types;
use crate::runtime::bindings::{HostError, StoreRef, UpstreamError};

impl types::Host for CallState {}

impl CallState {
    fn require(&self, capability: Capability) -> Result<(), HostError> {
        if self.context.grants.allows_import(capability) {
            Ok(())
        } else {
            Err(HostError::AccessDenied(format!(
                "component `{}` was not granted `{capability}`",
                self.context.component
            )))
        }
    }

    /// The session's tenant, or the error that tells the model how to authenticate.
    fn tenant(&self) -> Result<TenantSession, HostError> {
        self.context.session.snapshot().tenant.ok_or_else(|| {
            HostError::Unauthenticated(
                "this session is not authenticated: start the server with \
                 ORDERDESK_MCP_MASTER_KEY set, or call tenant_use_master_key"
                    .into(),
            )
        })
    }

    /// Run a host-side future, not counting its time against the component's CPU limit.
    async fn host_work<T>(&mut self, work: impl Future<Output = T>) -> T {
        let started = Instant::now();
        let out = work.await;
        self.add_host_time(started);
        out
    }
}

pub(crate) fn store_ref(record: &StoreRecord) -> StoreRef {
    StoreRef {
        store_id: record.store_id.clone(),
        name: record.name.clone(),
        label: record.label.clone(),
    }
}

/// The vault's errors, one-to-one onto the WIT variants. Messages never hold secrets.
pub(crate) fn vault_error(error: VaultError) -> HostError {
    match error {
        VaultError::Unauthenticated(m) => HostError::Unauthenticated(format!(
            "{m}; check the master key (it starts with `odmk_`) or create a tenant with \
             `orderdesk-mcp tenant create`"
        )),
        VaultError::TooManyAttempts { retry_after_ms } => HostError::RateLimited(retry_after_ms),
        VaultError::NotFound(m) => HostError::NotFound(m),
        VaultError::Conflict(m) => HostError::Conflict(m),
        VaultError::InvalidInput(m) => HostError::InvalidInput(m),
        error @ VaultError::Decrypt => HostError::Internal(error.to_string()),
        VaultError::Storage(m) | VaultError::Config(m) => {
            tracing::error!(error = %m, "vault failure");
            HostError::Internal(format!("the host's storage failed: {m}"))
        }
    }
}

/// The gateway's errors, one-to-one onto the WIT variants (transport failures become an
/// `upstream` error with the gateway status an HTTP proxy would have answered).
pub(crate) fn gateway_error(error: GatewayError) -> HostError {
    match error {
        GatewayError::InvalidInput(m) => HostError::InvalidInput(m),
        GatewayError::Unauthorized(m) => HostError::Upstream(UpstreamError {
            status: 401,
            message: format!(
                "{m}; the store id or API key registered for this store is wrong or was \
                 revoked: register the store again with the current key"
            ),
        }),
        GatewayError::NotFound(m) => HostError::NotFound(m),
        GatewayError::RateLimited { retry_after_ms } => HostError::RateLimited(retry_after_ms),
        GatewayError::Upstream { status, message } => {
            HostError::Upstream(UpstreamError { status, message })
        }
        GatewayError::OutcomeUnknown(m) => HostError::OutcomeUnknown(m),
        GatewayError::Timeout(m) => HostError::Upstream(UpstreamError {
            status: 504,
            message: format!("OrderDesk did not answer in time ({m}); try again later"),
        }),
        GatewayError::Transport(m) => HostError::Upstream(UpstreamError {
            status: 502,
            message: format!("could not reach OrderDesk ({m}); try again later"),
        }),
        GatewayError::ResponseTooLarge(cap) => HostError::InvalidInput(format!(
            "OrderDesk's answer is larger than the host's {cap}-byte cap; ask for fewer \
             records (e.g. a smaller `limit`)"
        )),
        GatewayError::Internal(m) => HostError::Internal(m),
    }
}
