//! `vault`: authenticate the session's tenant, register and resolve its stores. Key
//! material never leaves the host: components get store ids, names and labels.

use orderdesk_gateway::StoreCredentials;
use orderdesk_vault::{AUDIT_SEARCH_MAX, AuditQuery, StoreRecord};
use secrecy::SecretString;
use wasmtime::component::{HasData, Linker};

use super::errors::{credential_error, replacement_key_error, vault_error};
use super::{CallEnv, store_ref};
use crate::bindings::{HostError, vault};
use crate::grants::Capability;
use crate::services::verify_store_credentials;

/// The failure limiter's source for this transport: over stdio one process is one
/// session, so all attempts share a bucket.
const AUTH_SOURCE: &str = "stdio-session";

/// `vault` for one call. It keeps no per-call state of its own.
pub struct VaultView<'a> {
    pub(super) env: &'a mut CallEnv,
}

struct Vault;

impl HasData for Vault {
    type Data<'a> = VaultView<'a>;
}

/// Add `vault` to `linker`.
pub fn add_to_linker<T: Send + 'static>(
    linker: &mut Linker<T>,
    get: fn(&mut T) -> VaultView<'_>,
) -> wasmtime::Result<()> {
    vault::add_to_linker::<T, Vault>(linker, get)
}

impl VaultView<'_> {
    fn summary(&self, record: &StoreRecord) -> vault::StoreSummary {
        let active = self
            .env
            .context
            .session
            .snapshot()
            .active_store
            .is_some_and(|s| s.store_id == record.store_id);
        vault::StoreSummary {
            store: store_ref(record),
            created_at: record.created_at.clone(),
            active,
        }
    }
}

/// The answer of a host function that would take a secret from a tool argument when
/// the operator turned that off.
fn secrets_as_arguments_off(what: &str, instead: &str) -> HostError {
    HostError::NotAvailable(format!(
        "this server does not take {what} as a tool argument (it would pass through the \
         chat transcript); instead, the operator can {instead}"
    ))
}

impl vault::Host for VaultView<'_> {
    async fn authenticate(
        &mut self,
        master_key: String,
    ) -> Result<vault::TenantSummary, HostError> {
        self.env.require(Capability::Vault)?;
        let services = self.env.context.services.clone();
        if services.sandbox {
            return Err(HostError::NotAvailable(
                "this is the sandbox: it has only its demo tenant (already signed in) and \
                 knows no real master key; restart the server without --sandbox to use a \
                 real tenant"
                    .into(),
            ));
        }
        let master_key = SecretString::from(master_key);
        if self
            .env
            .context
            .session
            .snapshot()
            .access
            .token_id
            .is_some()
        {
            return Err(HostError::NotAvailable(
                "this session was opened with an access token, which names its tenant: a \
                 master key is not taken here. To act for another tenant, connect with a \
                 token of that tenant (`orderdesk-mcp token create`, or the console)"
                    .into(),
            ));
        }
        if !services.secret_arguments {
            return Err(secrets_as_arguments_off(
                "a master key",
                "start the server with ORDERDESK_MCP_MASTER_KEY set",
            ));
        }
        let (tenant, store_count) = self
            .env
            .host_work(services.with_vault(move |vault| {
                let tenant = vault
                    .authenticate_from(AUTH_SOURCE, &master_key)
                    .inspect_err(crate::telemetry::master_key_failure)?;
                let stores = vault.list_stores(tenant.tenant_id())?;
                Ok((tenant, stores.len()))
            }))
            .await
            .map_err(vault_error)?;
        let tenant_id = tenant.tenant_id().to_string();
        let tenant_expiry = tenant.key_expires_at();
        self.env.context.session.authenticate(tenant);
        self.env.context.record.note_tenant(&tenant_id);
        tracing::info!(tenant_id = %tenant_id, "session authenticated");
        if let Some(until) = tenant_expiry {
            tracing::warn!(
                tenant_id = %tenant_id,
                "the session signed in with a master key replaced by `tenant rotate-key`: it \
                 stops working at {until} UTC"
            );
        }
        Ok(vault::TenantSummary {
            tenant_id,
            store_count: store_count as u32,
            active_store: None,
        })
    }

    async fn register_store(
        &mut self,
        store_id: String,
        api_key: String,
        name: Option<String>,
        label: Option<String>,
        verify: bool,
    ) -> Result<vault::StoreSummary, HostError> {
        self.env.require(Capability::Vault)?;
        let api_key = SecretString::from(api_key);
        let tenant = self.env.tenant()?;
        self.env.require_writable("registering a store")?;
        if let Some(only) = self.env.context.session.snapshot().access.store_id {
            return Err(HostError::AccessDenied(format!(
                "this session's access token is limited to store {only}: it cannot register \
                 stores"
            )));
        }
        if !self.env.context.services.secret_arguments {
            return Err(secrets_as_arguments_off(
                "a store's API key",
                "add the store with `orderdesk-mcp stores add --store-id ID --name NAME` \
                 (the key is read from a hidden prompt)",
            ));
        }
        self.env.context.record.note_store(&store_id);
        if verify {
            let services = self.env.context.services.clone();
            let credentials = StoreCredentials {
                store_id: store_id.clone(),
                api_key: api_key.clone(),
            };
            let tenant_id = tenant.tenant_id().to_string();
            self.env
                .host_work(verify_store_credentials(
                    services.orderdesk.as_ref(),
                    &tenant_id,
                    &credentials,
                ))
                .await
                .map_err(credential_error)?;
        }
        let origin = self.env.context.services.orderdesk.api_origin();
        let effect = self
            .env
            .context
            .record
            .begin_effect(format!("saving store {store_id} in the vault"));
        let record = self
            .env
            .with_tenant_vault(move |vault, tenant| {
                vault.add_store(
                    &tenant,
                    &store_id,
                    &api_key,
                    name.as_deref(),
                    label.as_deref(),
                    &origin,
                )
            })
            .await;
        effect.settle(record.is_ok());
        let record = record?;
        tracing::info!(store_id = %record.store_id, name = %record.name, "store registered");
        // The first store of a session becomes its active store: that is what the user
        // means to work with next.
        let session = &self.env.context.session;
        if session.snapshot().active_store.is_none() {
            session.set_active_store(Some(record.clone()));
        }
        Ok(self.summary(&record))
    }

    async fn update_store_key(
        &mut self,
        identifier: String,
        api_key: String,
    ) -> Result<vault::StoreSummary, HostError> {
        self.env.require(Capability::Vault)?;
        let api_key = SecretString::from(api_key);
        self.env.require_writable("replacing a store's API key")?;
        if !self.env.context.services.secret_arguments {
            return Err(secrets_as_arguments_off(
                "a store's API key",
                "replace it with `orderdesk-mcp stores update-key STORE` (the key is read \
                 from a hidden prompt)",
            ));
        }
        let (record, _) = self
            .env
            .with_tenant_vault(move |vault, tenant| {
                vault.resolve_store(tenant.tenant_id(), &identifier)
            })
            .await?;
        self.env.require_store_allowed(&record)?;
        self.env.context.record.note_store(&record.store_id);
        // The new key must work before it replaces the old one: OrderDesk's GET /test, at
        // the origin the key will be saved for.
        let services = self.env.context.services.clone();
        let credentials = StoreCredentials {
            store_id: record.store_id.clone(),
            api_key: api_key.clone(),
        };
        let tenant_id = record.tenant_id.to_string();
        self.env
            .host_work(verify_store_credentials(
                services.orderdesk.as_ref(),
                &tenant_id,
                &credentials,
            ))
            .await
            .map_err(replacement_key_error)?;
        let origin = services.orderdesk.api_origin();
        let store_id = record.store_id.clone();
        let effect = self.env.context.record.begin_effect(format!(
            "replacing the API key of store {store_id} in the vault"
        ));
        let record = self
            .env
            .with_tenant_vault(move |vault, tenant| {
                vault.update_store_key(&tenant, &store_id, &api_key, &origin)
            })
            .await;
        effect.settle(record.is_ok());
        let record = record?;
        tracing::info!(store_id = %record.store_id, name = %record.name, "store key replaced");
        // The active store keeps its record up to date (the origin may have changed).
        let session = &self.env.context.session;
        if session
            .snapshot()
            .active_store
            .is_some_and(|s| s.store_id == record.store_id)
        {
            session.set_active_store(Some(record.clone()));
        }
        Ok(self.summary(&record))
    }

    async fn list_stores(&mut self) -> Result<Vec<vault::StoreSummary>, HostError> {
        self.env.require(Capability::Vault)?;
        let stores = self
            .env
            .with_tenant_vault(|vault, tenant| vault.list_stores(tenant.tenant_id()))
            .await?;
        Ok(stores
            .iter()
            .filter(|s| self.env.require_store_allowed(s).is_ok())
            .map(|s| self.summary(s))
            .collect())
    }

    async fn resolve_store(
        &mut self,
        identifier: String,
    ) -> Result<vault::ResolvedStore, HostError> {
        self.env.require(Capability::Vault)?;
        let (record, kind) = self
            .env
            .with_tenant_vault(move |vault, tenant| {
                vault.resolve_store(tenant.tenant_id(), &identifier)
            })
            .await?;
        self.env.require_store_allowed(&record)?;
        self.env.context.record.note_store(&record.store_id);
        Ok(vault::ResolvedStore {
            store: self.summary(&record),
            matched_by: match kind {
                orderdesk_vault::MatchKind::StoreId => vault::MatchKind::StoreId,
                orderdesk_vault::MatchKind::Name => vault::MatchKind::Name,
            },
        })
    }

    async fn delete_store(&mut self, identifier: String) -> Result<vault::StoreSummary, HostError> {
        self.env.require(Capability::Vault)?;
        self.env.require_writable("deleting a store")?;
        if self
            .env
            .context
            .session
            .snapshot()
            .access
            .store_id
            .is_some()
        {
            let wanted = identifier.clone();
            let (record, _) = self
                .env
                .with_tenant_vault(move |vault, tenant| {
                    vault.resolve_store(tenant.tenant_id(), &wanted)
                })
                .await?;
            self.env.require_store_allowed(&record)?;
        }
        // Vault work runs to its end on a blocking thread even if the call is stopped
        // meanwhile: noted, so such a call says the deletion may have happened.
        let effect = self
            .env
            .context
            .record
            .begin_effect(format!("deleting store `{identifier}` from the vault"));
        let record = self
            .env
            .with_tenant_vault(move |vault, tenant| {
                vault.delete_store(tenant.tenant_id(), &identifier)
            })
            .await;
        effect.settle(record.is_ok());
        let record = record?;
        self.env.context.record.note_store(&record.store_id);
        let summary = self.summary(&record);
        self.env.context.session.forget_store(&record.store_id);
        tracing::info!(store_id = %record.store_id, "store deleted");
        Ok(summary)
    }

    async fn recent_calls(
        &mut self,
        filter: vault::CallFilter,
    ) -> Result<Vec<vault::CallEntry>, HostError> {
        self.env.require(Capability::Vault)?;
        let query = AuditQuery {
            tool: filter.tool,
            outcome: filter.outcome,
            store_id: filter.store_id,
            since: filter.since,
            limit: usize::try_from(filter.limit).unwrap_or(AUDIT_SEARCH_MAX),
        };
        let rows = self
            .env
            .with_tenant_vault(move |vault, tenant| vault.search_audit(tenant.tenant_id(), &query))
            .await?;
        // Rows were redacted when written; the entry never carries the tenant id (the
        // caller knows its own) so nothing of another tenant's can be told apart here.
        Ok(rows
            .into_iter()
            .map(|(source, entry)| vault::CallEntry {
                at: entry.at,
                tool: entry.tool,
                outcome: entry.outcome,
                store_id: entry.store_id,
                correlation_id: entry.correlation_id,
                arguments: entry.arguments,
                duration_ms: entry.duration_ms,
                source: source.as_str().to_string(),
            })
            .collect())
    }
}
