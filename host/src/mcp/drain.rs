//! Shutting down without losing track of calls: the calls under way are known, a
//! shutdown waits for them for a bounded time (refusing new ones meanwhile), and what
//! it then cuts off is written to the audit log as interrupted — so a SIGTERM during a
//! write leaves a trace (the write's own intent row says whether it had been sent).

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use orderdesk_vault::AuditEntry;
use tokio::sync::Notify;

use crate::audit::AuditLog;

/// The audit outcome of a call the shutdown cut off.
pub const INTERRUPTED: &str = "error:interrupted (the server shut down before the call ended)";

/// The calls under way in one server.
#[derive(Default)]
pub(super) struct InFlight {
    calls: Mutex<HashMap<u64, RunningCall>>,
    next_id: Mutex<u64>,
    draining: AtomicBool,
    /// Signalled when the last call ends.
    idle: Notify,
}

/// What the audit row of a cut-off call needs.
#[derive(Clone)]
pub(super) struct RunningCall {
    pub(super) at: String,
    pub(super) started: Instant,
    pub(super) tool: String,
    pub(super) arguments: String,
    pub(super) correlation_id: String,
    pub(super) record: Arc<crate::capabilities::CallRecord>,
}

/// Holds a call's place among the calls under way; dropped when the call ends (or is
/// dropped itself).
pub(super) struct CallTicket {
    in_flight: Arc<InFlight>,
    id: u64,
}

impl Drop for CallTicket {
    fn drop(&mut self) {
        let mut calls = lock(&self.in_flight.calls);
        calls.remove(&self.id);
        if calls.is_empty() {
            self.in_flight.idle.notify_waiters();
        }
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|e| e.into_inner())
}

impl InFlight {
    /// Note a call starting; `None` once the server is shutting down (the call is
    /// refused).
    pub(super) fn enter(self: &Arc<Self>, call: RunningCall) -> Option<CallTicket> {
        if self.draining.load(Ordering::SeqCst) {
            return None;
        }
        let id = {
            let mut next = lock(&self.next_id);
            *next += 1;
            *next
        };
        lock(&self.calls).insert(id, call);
        Some(CallTicket {
            in_flight: self.clone(),
            id,
        })
    }

    /// Refuse new calls, wait up to `grace` for those under way, then write an audit
    /// row for each call still running (it is about to be cut off). Returns how many.
    pub(super) async fn drain(&self, grace: Duration, audit: &AuditLog) -> usize {
        self.draining.store(true, Ordering::SeqCst);
        let deadline = tokio::time::Instant::now() + grace;
        loop {
            let idle = self.idle.notified();
            if lock(&self.calls).is_empty() {
                return 0;
            }
            if tokio::time::timeout_at(deadline, idle).await.is_err() {
                break;
            }
        }
        let cut_off: Vec<RunningCall> = lock(&self.calls).values().cloned().collect();
        for call in &cut_off {
            tracing::warn!(
                tool = %call.tool,
                correlation_id = %call.correlation_id,
                "shutdown: call cut off after the grace period"
            );
            audit.record(AuditEntry {
                at: call.at.clone(),
                tenant_id: call.record.tenant_id(),
                store_id: call.record.store_id(),
                tool: call.tool.clone(),
                arguments: call.arguments.clone(),
                outcome: INTERRUPTED.into(),
                duration_ms: call.started.elapsed().as_millis() as u64,
                correlation_id: call.correlation_id.clone(),
            });
        }
        cut_off.len()
    }
}
