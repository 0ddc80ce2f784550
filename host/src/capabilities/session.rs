//! `session`: who is calling, the active store, progress reports.

use std::time::Instant;

use super::{store_ref, vault_error};
use crate::grants::Capability;
use crate::runtime::CallState;
use crate::runtime::bindings::{HostError, StoreRef, session};

impl session::Host for CallState {
    async fn info(&mut self) -> session::SessionInfo {
        let snapshot = self.context.session.snapshot();
        session::SessionInfo {
            authenticated: snapshot.tenant.is_some(),
            tenant_id: snapshot.tenant_id(),
            active_store: snapshot.active_store.as_ref().map(store_ref),
            sandbox: self.context.services.sandbox,
            correlation_id: self.context.correlation_id.to_string(),
        }
    }

    async fn set_active_store(&mut self, identifier: String) -> Result<StoreRef, HostError> {
        self.require(Capability::Session)?;
        let tenant = self.tenant()?;
        let services = self.context.services.clone();
        let (record, _) = self
            .host_work(
                services
                    .with_vault(move |vault| vault.resolve_store(tenant.tenant_id(), &identifier)),
            )
            .await
            .map_err(vault_error)?;
        self.context.record.note_store(&record.store_id);
        self.context.session.set_active_store(Some(record.clone()));
        Ok(store_ref(&record))
    }

    async fn report_progress(
        &mut self,
        progress: f64,
        total: Option<f64>,
        message: Option<String>,
    ) {
        if self.require(Capability::Session).is_err() {
            return;
        }
        if let Some(reporter) = self.context.progress.clone() {
            let started = Instant::now();
            reporter.report(progress, total, message).await;
            self.add_host_time(started);
        }
    }
}
