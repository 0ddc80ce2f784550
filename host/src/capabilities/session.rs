//! `session`: who is calling, the active store, progress reports.

use std::time::{Duration, Instant};

use wasmtime::component::{HasData, Linker};

use super::{CallEnv, store_ref};
use crate::bindings::{HostError, StoreRef, session};
use crate::grants::Capability;
use crate::redact::redact_with;

/// `session` for one call. It keeps no per-call state of its own: the session outlives
/// the call.
pub struct SessionView<'a> {
    pub(super) env: &'a mut CallEnv,
}

struct Session;

impl HasData for Session {
    type Data<'a> = SessionView<'a>;
}

/// Add `session` to `linker`.
pub fn add_to_linker<T: Send + 'static>(
    linker: &mut Linker<T>,
    get: fn(&mut T) -> SessionView<'_>,
) -> wasmtime::Result<()> {
    session::add_to_linker::<T, Session>(linker, get)
}

/// Progress notifications a call may send; later ones are dropped.
const MAX_PROGRESS_REPORTS: u32 = 1_000;

/// Longest progress message passed on (cut at a character boundary, marked with `…`).
const MAX_PROGRESS_MESSAGE: usize = 512;

fn cut(mut text: String, max: usize) -> String {
    if text.len() > max {
        let mut end = max;
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        text.truncate(end);
        text.push('…');
    }
    text
}

impl session::Host for SessionView<'_> {
    async fn info(&mut self) -> session::SessionInfo {
        let context = &self.env.context;
        // `info` cannot answer an error; without the grant (or while listing tools) it
        // describes an anonymous session, giving nothing away.
        let snapshot = match self.env.require(Capability::Session) {
            Ok(()) => context.session.snapshot(),
            Err(_) => Default::default(),
        };
        session::SessionInfo {
            authenticated: snapshot.tenant.is_some(),
            tenant_id: snapshot.tenant_id(),
            active_store: snapshot.active_store.as_ref().map(store_ref),
            sandbox: context.services.sandbox,
            correlation_id: context.correlation_id.to_string(),
        }
    }

    async fn set_active_store(&mut self, identifier: String) -> Result<StoreRef, HostError> {
        self.env.require(Capability::Session)?;
        let (record, _) = self
            .env
            .with_tenant_vault(move |vault, tenant| {
                vault.resolve_store(tenant.tenant_id(), &identifier)
            })
            .await?;
        self.env.require_store_allowed(&record)?;
        self.env.context.record.note_store(&record.store_id);
        self.env
            .context
            .session
            .set_active_store(Some(record.clone()));
        Ok(store_ref(&record))
    }

    async fn report_progress(
        &mut self,
        progress: f64,
        total: Option<f64>,
        message: Option<String>,
    ) {
        if self.env.require(Capability::Session).is_err() {
            return;
        }
        let Some(sink) = self.env.context.progress.clone() else {
            return;
        };
        // What a component sends the client is bounded (a model reads it) and
        // redacted like its log lines.
        if self.env.progress_reports >= MAX_PROGRESS_REPORTS {
            return;
        }
        self.env.progress_reports += 1;
        let message = message.map(|text| {
            let text = redact_with(&text, &self.env.context.secrets);
            cut(text, MAX_PROGRESS_MESSAGE)
        });
        self.env
            .host_work(sink.report(progress, total, message))
            .await;
    }

    async fn now(&mut self) -> String {
        // The time of day is no secret: it needs no grant beyond `session`, and a
        // component without one gets an empty text rather than an error it cannot get.
        match self.env.require(Capability::Session) {
            Ok(()) => orderdesk_vault::utc_now(),
            Err(_) => String::new(),
        }
    }

    async fn budget(&mut self) -> session::CallBudget {
        let time_left = self
            .env
            .context
            .deadline
            .map_or(Duration::from_millis(u64::from(u32::MAX)), |deadline| {
                deadline.saturating_duration_since(Instant::now())
            });
        session::CallBudget {
            result_bytes: u32::try_from(self.env.answer_bytes).unwrap_or(u32::MAX),
            time_left_ms: u32::try_from(time_left.as_millis()).unwrap_or(u32::MAX),
        }
    }
}
