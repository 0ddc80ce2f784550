//! `orderdesk`: requests to OrderDesk for one of the session tenant's stores, through
//! the gateway. The component names a store (or relies on the active one); the host
//! decrypts that store's API key for this one request and never hands it over.

use orderdesk_gateway::{ApiRequest, CacheMode, Method, StoreCredentials};

use super::{gateway_error, vault_error};
use crate::grants::{Capability, OrderDeskAccess};
use crate::runtime::CallState;
use crate::runtime::bindings::{HostError, orderdesk_api};

impl orderdesk_api::Host for CallState {
    async fn send(
        &mut self,
        request: orderdesk_api::ApiRequest,
    ) -> Result<orderdesk_api::ApiResponse, HostError> {
        self.require(Capability::OrderDesk)?;
        let method = match request.method {
            orderdesk_api::Method::Get => Method::Get,
            orderdesk_api::Method::Post => Method::Post,
            orderdesk_api::Method::Put => Method::Put,
            orderdesk_api::Method::Delete => Method::Delete,
        };
        if method.is_write() && self.context.grants.orderdesk != OrderDeskAccess::Write {
            return Err(HostError::AccessDenied(format!(
                "component `{}` has a read-only OrderDesk grant: {} is not allowed, only GET",
                self.context.component,
                method.as_str()
            )));
        }
        let tenant = self.tenant()?;
        let session = self.context.session.snapshot();
        let identifier = match (request.store, &session.active_store) {
            (Some(named), _) if !named.trim().is_empty() => Some(named),
            (_, Some(active)) => {
                // The active store is already resolved; still read it again below so a
                // store deleted by another process is not used with a stale key.
                Some(active.store_id.clone())
            }
            _ => None,
        };
        let Some(identifier) = identifier else {
            return Err(HostError::InvalidInput(
                "no store chosen: pass `store` (a store id or name), or pick one with \
                 stores_use_store; stores_list shows the registered stores"
                    .into(),
            ));
        };
        let services = self.context.services.clone();
        let tenant_id = tenant.tenant_id().to_string();
        let (record, credentials) = self
            .host_work(services.with_vault(move |vault| {
                let (record, _) = vault.resolve_store(tenant.tenant_id(), &identifier)?;
                let api_key = vault.store_api_key(&tenant, &record)?;
                let credentials = StoreCredentials {
                    store_id: record.store_id.clone(),
                    api_key,
                };
                Ok((record, credentials))
            }))
            .await
            .map_err(vault_error)?;
        self.context.record.note_store(&record.store_id);

        let mut outgoing = ApiRequest::new(method, request.path);
        outgoing.query = request.query;
        outgoing.body = request.body;
        outgoing.cache = match request.cache {
            orderdesk_api::CacheMode::UseCache => CacheMode::UseCache,
            orderdesk_api::CacheMode::Bypass => CacheMode::Bypass,
        };
        let response = self
            .host_work(services.orderdesk.send(&tenant_id, &credentials, outgoing))
            .await
            .map_err(gateway_error)?;
        Ok(orderdesk_api::ApiResponse {
            status: response.status,
            body: response.body,
            store_id: record.store_id,
            cached: response.cached,
        })
    }
}
