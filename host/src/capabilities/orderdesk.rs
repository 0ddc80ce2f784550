//! `orderdesk`: requests to OrderDesk for one of the session tenant's stores, through
//! the services' OrderDesk backend (the gateway). The component names a store (or
//! relies on the active one); the host decrypts that store's API key for this one
//! request and never hands it over.

use orderdesk_gateway::{ApiRequest, CacheMode, Method, StoreCredentials};
use wasmtime::component::{HasData, Linker};

use super::CallEnv;
use super::errors::gateway_error;
use crate::bindings::{HostError, orderdesk_api};
use crate::grants::{Capability, OrderDeskAccess};

/// `orderdesk` for one call. It keeps no per-call state of its own.
pub struct OrderDeskView<'a> {
    pub(super) env: &'a mut CallEnv,
}

struct OrderDesk;

impl HasData for OrderDesk {
    type Data<'a> = OrderDeskView<'a>;
}

/// Add `orderdesk` to `linker`.
pub fn add_to_linker<T: Send + 'static>(
    linker: &mut Linker<T>,
    get: fn(&mut T) -> OrderDeskView<'_>,
) -> wasmtime::Result<()> {
    orderdesk_api::add_to_linker::<T, OrderDesk>(linker, get)
}

impl orderdesk_api::Host for OrderDeskView<'_> {
    async fn send(
        &mut self,
        request: orderdesk_api::ApiRequest,
    ) -> Result<orderdesk_api::ApiResponse, HostError> {
        self.env.require(Capability::OrderDesk)?;
        let method = match request.method {
            orderdesk_api::Method::Get => Method::Get,
            orderdesk_api::Method::Post => Method::Post,
            orderdesk_api::Method::Put => Method::Put,
            orderdesk_api::Method::Delete => Method::Delete,
        };
        let context = &self.env.context;
        if method.is_write() && context.grants.orderdesk != OrderDeskAccess::Write {
            return Err(HostError::AccessDenied(format!(
                "component `{}` has a read-only OrderDesk grant: {} is not allowed, only GET",
                context.component,
                method.as_str()
            )));
        }
        // Who is asking comes first: an anonymous session is told how to sign in.
        self.env.tenant()?;
        // A store named by the component, else the active one; resolved again either
        // way, so a store deleted by another process is not used with a stale key.
        let named = request.store.filter(|named| !named.trim().is_empty());
        let active = context
            .session
            .snapshot()
            .active_store
            .map(|active| active.store_id);
        let Some(identifier) = named.or(active) else {
            return Err(HostError::InvalidInput(
                "no store chosen: pass `store` (a store id or name), or pick one with \
                 stores_use_store; stores_list shows the registered stores"
                    .into(),
            ));
        };
        // The key is handed out only for the origin it was saved for.
        let origin = context.services.orderdesk.api_origin();
        let (tenant_id, credentials) = self
            .env
            .with_tenant_vault(move |vault, tenant| {
                let (record, _) = vault.resolve_store(tenant.tenant_id(), &identifier)?;
                let api_key = vault.store_api_key(&tenant, &record, &origin)?;
                Ok((
                    tenant.tenant_id().to_string(),
                    StoreCredentials {
                        store_id: record.store_id,
                        api_key,
                    },
                ))
            })
            .await?;
        self.env.context.record.note_store(&credentials.store_id);

        let mut outgoing = ApiRequest::new(method, request.path);
        outgoing.query = request.query;
        outgoing.body = request.body;
        outgoing.cache = match request.cache {
            orderdesk_api::CacheMode::UseCache => CacheMode::UseCache,
            orderdesk_api::CacheMode::Bypass => CacheMode::Bypass,
        };
        let orderdesk = self.env.context.services.orderdesk.clone();
        let response = self
            .env
            .host_work(orderdesk.send(&tenant_id, &credentials, outgoing))
            .await
            .map_err(gateway_error)?;
        Ok(orderdesk_api::ApiResponse {
            status: response.status,
            body: response.body,
            store_id: credentials.store_id,
            cached: response.cached,
        })
    }
}
