//! `orderdesk`: requests to OrderDesk for one of the session tenant's stores, through
//! the services' OrderDesk backend (the gateway). The component names a store (or
//! relies on the active one); the host decrypts that store's API key for this one
//! request and never hands it over.

use std::sync::Arc;
use std::time::{Duration, Instant};

use orderdesk_gateway::{
    ApiRequest, ApiResponse, CacheMode, GatewayError, Method, StoreCredentials,
};
use orderdesk_vault::{AuditEntry, WEBHOOK_EVENTS_MAX, WebhookEventQuery};
use wasmtime::component::{HasData, Linker};

use super::errors::gateway_error;
use super::{CallContext, CallEnv};
use crate::bindings::{HostError, orderdesk_api};
use crate::grants::{Capability, OrderDeskAccess};
use crate::services::Services;

/// How long before the call's deadline the gateway must be done: time for its answer
/// to reach the component and the component's to reach the runtime.
const ANSWER_MARGIN: Duration = Duration::from_millis(500);

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
        let answer = self.request(request).await?;
        Ok(orderdesk_api::ApiResponse {
            status: answer.status,
            body: answer.body,
            store_id: answer.store_id,
            cached: answer.cache_age_s.is_some(),
        })
    }

    async fn changes(
        &mut self,
        query: orderdesk_api::ChangeQuery,
    ) -> Result<Vec<orderdesk_api::OrderChange>, HostError> {
        self.env.require(Capability::OrderDesk)?;
        let snapshot = self.env.context.session.snapshot();
        let tenant = self.env.tenant_of(&snapshot)?;
        let access = snapshot.access;
        let named = query.store.filter(|named| !named.trim().is_empty());
        let events = self
            .env
            .with_vault_as(tenant, move |vault, tenant| {
                let store_id = match named {
                    Some(identifier) => {
                        let (record, _) = vault.resolve_store(tenant.tenant_id(), &identifier)?;
                        if let Err(refused) = super::store_allowed(&access, &record) {
                            return Ok(Err(refused));
                        }
                        Some(record.store_id)
                    }
                    // A token limited to one store sees that store's changes only.
                    None => access.store_id.clone(),
                };
                let query = WebhookEventQuery {
                    store_id,
                    since: query.since,
                    before_event_id: query.before_event_id,
                    limit: query.limit.clamp(1, WEBHOOK_EVENTS_MAX),
                };
                Ok(Ok(vault.webhook_events(tenant.tenant_id(), &query)?))
            })
            .await??;
        Ok(events
            .into_iter()
            .map(|event| orderdesk_api::OrderChange {
                event_id: event.event_id,
                store_id: event.store_id,
                store_name: event.store_name,
                order_id: event.order_id,
                folder_id: event.folder_id,
                date_updated: event.date_updated,
                received_at: event.received_at,
            })
            .collect())
    }

    async fn request(
        &mut self,
        request: orderdesk_api::ApiRequest,
    ) -> Result<orderdesk_api::ApiAnswer, HostError> {
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
        // Who is asking comes first: an anonymous session is told how to sign in. One
        // snapshot gives both the tenant and its active store, so a session switching
        // tenants mid-call cannot pair one tenant with another's store.
        let snapshot = context.session.snapshot();
        let tenant = self.env.tenant_of(&snapshot)?;
        // A store named by the component, else the active one; resolved again either
        // way, so a store deleted by another process is not used with a stale key.
        let named = request.store.filter(|named| !named.trim().is_empty());
        let active = snapshot.active_store.map(|active| active.store_id);
        let Some(identifier) = named.or(active) else {
            return Err(HostError::InvalidInput(
                "no store chosen: pass `store` (a store id or name), or pick one with \
                 stores_use_store; stores_list shows the registered stores"
                    .into(),
            ));
        };
        // The key is handed out only for the origin it was saved for.
        let origin = context.services.orderdesk.api_origin();
        let access = snapshot.access;
        let (tenant_id, credentials) = self
            .env
            .with_vault_as(tenant, move |vault, tenant| {
                let (record, _) = vault.resolve_store(tenant.tenant_id(), &identifier)?;
                if let Err(refused) = super::store_allowed(&access, &record) {
                    return Ok(Err(refused));
                }
                let api_key = vault.store_api_key(&tenant, &record, &origin)?;
                Ok(Ok((
                    tenant.tenant_id().to_string(),
                    StoreCredentials {
                        store_id: record.store_id,
                        api_key,
                    },
                )))
            })
            .await??;
        self.env.context.record.note_store(&credentials.store_id);

        let mut outgoing = ApiRequest::new(method, request.path);
        outgoing.query = request.query;
        outgoing.body = request.body;
        outgoing.cache = match request.cache {
            orderdesk_api::CacheMode::UseCache => CacheMode::UseCache,
            orderdesk_api::CacheMode::Bypass => CacheMode::Bypass,
        };
        if let Some(deadline) = self.env.context.deadline {
            // The gateway must be done (and its answer back in the component) before
            // the runtime stops the call, so that a write cut off by time is reported
            // by the gateway, naming it, rather than lost with the instance.
            let margin = ANSWER_MARGIN.min(deadline.saturating_duration_since(Instant::now()) / 10);
            outgoing.deadline = Some((deadline - margin).into());
        }
        let what = format!(
            "{} {} (store {})",
            method.as_str(),
            outgoing.path,
            credentials.store_id
        );
        // A write is on record before it leaves: an intent row now, its outcome after.
        let intent = if method.is_write() {
            Some(
                WriteIntent::record(&self.env.context, &tenant_id, &credentials.store_id, &what)
                    .await?,
            )
        } else {
            None
        };
        let effect = method
            .is_write()
            .then(|| self.env.context.record.begin_effect(what));
        let orderdesk = self.env.context.services.orderdesk.clone();
        let response = self
            .env
            .host_work(orderdesk.send(&tenant_id, &credentials, outgoing))
            .await;
        if let Some(effect) = effect {
            effect.settle(response.is_ok());
        }
        if let Some(intent) = intent {
            intent.settle(&response);
        }
        let response = response.map_err(gateway_error)?;
        Ok(orderdesk_api::ApiAnswer {
            status: response.status,
            body: response.body,
            store_id: credentials.store_id,
            // A hit less than a second old is still a cached answer: say 0, not none.
            cache_age_s: response
                .cache_age
                .filter(|_| response.cached)
                .map(|age| u32::try_from(age.as_secs()).unwrap_or(u32::MAX)),
        })
    }
}

/// The audit trail of one OrderDesk write: a row with outcome `pending` written before
/// the request leaves, settled with the outcome after. If the call is abandoned
/// mid-request (its time limit), the row is settled as outcome-unknown; if the process
/// dies, the next start marks it (`Vault::settle_interrupted_intents`).
struct WriteIntent {
    services: Arc<Services>,
    id: i64,
    started: Instant,
    settled: bool,
}

impl WriteIntent {
    async fn record(
        context: &CallContext,
        tenant_id: &str,
        store_id: &str,
        what: &str,
    ) -> Result<WriteIntent, HostError> {
        let entry = AuditEntry {
            at: orderdesk_vault::utc_now(),
            tenant_id: Some(tenant_id.to_string()),
            store_id: Some(store_id.to_string()),
            tool: context.tool.to_string(),
            arguments: serde_json::json!({ "request": what }).to_string(),
            outcome: String::new(),
            duration_ms: 0,
            correlation_id: context.correlation_id.to_string(),
        };
        let id = context
            .services
            .with_vault(move |vault| vault.record_audit_intent(&entry))
            .await
            .map_err(|error| {
                tracing::error!(error = %error, "could not record a write's audit row; not sent");
                HostError::Internal(
                    "the host could not record this write in its audit log, so it was not \
                     sent to OrderDesk; try again, and tell the operator if it persists"
                        .into(),
                )
            })?;
        Ok(WriteIntent {
            services: context.services.clone(),
            id,
            started: Instant::now(),
            settled: false,
        })
    }

    fn settle(mut self, response: &Result<ApiResponse, GatewayError>) {
        let outcome = match response {
            Ok(answer) => format!("ok: HTTP {}", answer.status),
            Err(error) => format!("error:{}", error_kind(error)),
        };
        self.write(outcome);
        self.settled = true;
    }

    /// Off the async threads, and not awaited: the call's answer does not wait for it.
    fn write(&self, outcome: String) {
        let work = self.settling(outcome);
        match tokio::runtime::Handle::try_current() {
            Ok(handle) => drop(handle.spawn_blocking(work)),
            Err(_) => work(),
        }
    }

    fn settling(&self, outcome: String) -> impl FnOnce() + Send + 'static {
        let (services, id) = (self.services.clone(), self.id);
        let duration_ms = self.started.elapsed().as_millis() as u64;
        move || {
            if let Err(error) = services
                .vault
                .settle_audit_intent(id, &outcome, duration_ms)
            {
                tracing::error!(error = %error, "could not record a write's outcome in the audit log");
            }
        }
    }
}

impl Drop for WriteIntent {
    fn drop(&mut self) {
        if !self.settled {
            // The call was abandoned mid-request (its time limit, or a shutdown that is
            // tearing the runtime down, when a spawned task might never run): written
            // here and now, a rare path worth one short blocking write.
            self.settling(
                "error:outcome_unknown (the call was stopped before OrderDesk answered)".into(),
            )();
        }
    }
}

/// The kind of a gateway error, as audit rows and results name it.
fn error_kind(error: &GatewayError) -> &'static str {
    match error {
        GatewayError::InvalidInput(_) => "invalid_input",
        GatewayError::Unauthorized(_) => "unauthorized",
        GatewayError::NotFound(_) => "not_found",
        GatewayError::RateLimited { .. } => "rate_limited",
        GatewayError::Upstream { .. } => "upstream",
        GatewayError::OutcomeUnknown(_) => "outcome_unknown",
        GatewayError::Timeout(_) => "timeout",
        GatewayError::Transport(_) => "transport",
        GatewayError::ResponseTooLarge(_) => "too_large",
        GatewayError::Internal(_) => "internal",
    }
}
