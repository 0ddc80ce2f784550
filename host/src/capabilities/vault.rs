//! `vault`: authenticate the session's tenant, register and resolve its stores. Key
//! material never leaves the host: components get store ids, names and labels.

use orderdesk_gateway::{ApiRequest, CacheMode, GatewayError, StoreCredentials};
use orderdesk_vault::StoreRecord;
use secrecy::SecretString;

use super::{gateway_error, store_ref, vault_error};
use crate::grants::Capability;
use crate::runtime::CallState;
use crate::runtime::bindings::{HostError, vault};

/// The failure limiter's source for this transport: over stdio one process is one
/// session, so all attempts share a bucket.
const AUTH_SOURCE: &str = "stdio-session";

impl CallState {
    fn summary(&self, record: &StoreRecord) -> vault::StoreSummary {
        let active = self
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

impl vault::Host for CallState {
    async fn authenticate(
        &mut self,
        master_key: String,
    ) -> Result<vault::TenantSummary, HostError> {
        self.require(Capability::Vault)?;
        let master_key = SecretString::from(master_key);
        let services = self.context.services.clone();
        let (tenant, store_count) = self
            .host_work(services.with_vault(move |vault| {
                let tenant = vault.authenticate_from(AUTH_SOURCE, &master_key)?;
                let stores = vault.list_stores(tenant.tenant_id())?;
                Ok((tenant, stores.len()))
            }))
            .await
            .map_err(vault_error)?;
        let tenant_id = tenant.tenant_id().to_string();
        self.context.session.authenticate(tenant);
        self.context.record.note_tenant(&tenant_id);
        tracing::info!(tenant_id = %tenant_id, "session authenticated");
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
        self.require(Capability::Vault)?;
        let tenant = self.tenant()?;
        let api_key = SecretString::from(api_key);
        let services = self.context.services.clone();
        self.context.record.note_store(&store_id);
        if verify {
            // Prove the credentials before saving them: OrderDesk's `GET /test` answers
            // 200 only for a matching store id and API key.
            let credentials = StoreCredentials {
                store_id: store_id.clone(),
                api_key: api_key.clone(),
            };
            let request = ApiRequest::get("/test").with_cache(CacheMode::Bypass);
            let tenant_id = tenant.tenant_id().to_string();
            let checked = self
                .host_work(services.orderdesk.send(&tenant_id, &credentials, request))
                .await;
            match checked {
                Ok(_) => {}
                Err(GatewayError::Unauthorized(_)) => {
                    return Err(HostError::InvalidInput(format!(
                        "OrderDesk refused store id {store_id} with this API key, so nothing \
                         was saved; check both values in OrderDesk (Settings → API) or pass \
                         verify: false to save without checking"
                    )));
                }
                Err(error) => return Err(gateway_error(error)),
            }
        }
        let record = self
            .host_work(services.with_vault(move |vault| {
                vault.add_store(
                    &tenant,
                    &store_id,
                    &api_key,
                    name.as_deref(),
                    label.as_deref(),
                )
            }))
            .await
            .map_err(vault_error)?;
        tracing::info!(store_id = %record.store_id, name = %record.name, "store registered");
        // The first store of a session becomes its active store: that is what the user
        // means to work with next.
        if self.context.session.snapshot().active_store.is_none() {
            self.context.session.set_active_store(Some(record.clone()));
        }
        Ok(self.summary(&record))
    }

    async fn list_stores(&mut self) -> Result<Vec<vault::StoreSummary>, HostError> {
        self.require(Capability::Vault)?;
        let tenant = self.tenant()?;
        let services = self.context.services.clone();
        let stores = self
            .host_work(services.with_vault(move |vault| vault.list_stores(tenant.tenant_id())))
            .await
            .map_err(vault_error)?;
        Ok(stores.iter().map(|s| self.summary(s)).collect())
    }

    async fn resolve_store(
        &mut self,
        identifier: String,
    ) -> Result<vault::ResolvedStore, HostError> {
        self.require(Capability::Vault)?;
        let tenant = self.tenant()?;
        let services = self.context.services.clone();
        let (record, kind) = self
            .host_work(
                services
                    .with_vault(move |vault| vault.resolve_store(tenant.tenant_id(), &identifier)),
            )
            .await
            .map_err(vault_error)?;
        self.context.record.note_store(&record.store_id);
        Ok(vault::ResolvedStore {
            store: self.summary(&record),
            matched_by: match kind {
                orderdesk_vault::MatchKind::StoreId => vault::MatchKind::StoreId,
                orderdesk_vault::MatchKind::Name => vault::MatchKind::Name,
            },
        })
    }

    async fn delete_store(&mut self, identifier: String) -> Result<vault::StoreSummary, HostError> {
        self.require(Capability::Vault)?;
        let tenant = self.tenant()?;
        let services = self.context.services.clone();
        let record = self
            .host_work(
                services
                    .with_vault(move |vault| vault.delete_store(tenant.tenant_id(), &identifier)),
            )
            .await
            .map_err(vault_error)?;
        self.context.record.note_store(&record.store_id);
        let summary = self.summary(&record);
        self.context.session.forget_store(&record.store_id);
        tracing::info!(store_id = %record.store_id, "store deleted");
        Ok(summary)
    }
}
