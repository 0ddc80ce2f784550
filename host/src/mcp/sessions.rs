//! HTTP sessions as the MCP layer sees them: who opened one ([`Principal`], put into
//! each request by the transport after it checked the access token) and how many
//! sessions each tenant has open ([`TenantSessions`], with a cap).
//!
//! The transport authenticates every request; this layer binds a session to the tenant
//! of the request that opened it and refuses a later request of another tenant on the
//! same `Mcp-Session-Id` (a stolen session id is worth nothing without a token of the
//! same tenant).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use orderdesk_vault::{StoreRecord, TenantSession};
use thiserror::Error;

use crate::session::SessionAccess;

/// The credential of one HTTP request, checked by the transport: the tenant it acts
/// for and what it allows. The request that opens a session (`initialize`) also
/// carries the tenant's opened key ([`TenantSession`]) and, for a token limited to one
/// store, that store; later requests carry only the check's result.
#[derive(Clone, Debug)]
pub struct Principal {
    pub tenant_id: String,
    pub access: SessionAccess,
    /// Set on the request that opens a session.
    pub tenant: Option<TenantSession>,
    /// The store a token is limited to, on the request that opens a session.
    pub store: Option<StoreRecord>,
    /// The request's id (`X-Request-Id`): the correlation id of a call it makes.
    pub request_id: Option<Arc<str>>,
}

/// Why a session could not be opened or used.
#[derive(Debug, Error)]
pub enum SessionError {
    #[error(
        "this tenant already has {open} open sessions, the most this server allows; end one \
         (HTTP DELETE /mcp with its Mcp-Session-Id, which clients do when they close) or wait \
         until an idle one expires"
    )]
    TooMany { open: usize },
    #[error("this request carries no access token: send `Authorization: Bearer odat_…`")]
    NoCredential,
    #[error(
        "this session was opened by another tenant: start a new session (initialize) with \
         this token"
    )]
    OtherTenant,
}

/// Each tenant's open HTTP sessions, capped per tenant.
#[derive(Debug)]
pub struct TenantSessions {
    cap: usize,
    open: Mutex<HashMap<String, usize>>,
}

/// One open session's place in [`TenantSessions`], given back when dropped.
#[derive(Debug)]
pub struct SessionSlot {
    sessions: Arc<TenantSessions>,
    tenant_id: String,
    /// The session counted in the metrics' active sessions while it lasts.
    _counted: crate::telemetry::SessionGuard,
}

impl TenantSessions {
    /// At most `cap` open sessions per tenant (at least one).
    pub fn new(cap: usize) -> Arc<TenantSessions> {
        Arc::new(TenantSessions {
            cap: cap.max(1),
            open: Mutex::default(),
        })
    }

    /// Sessions open now, all tenants together.
    pub fn total(&self) -> usize {
        self.lock().values().sum()
    }

    /// A place for one more session of `tenant_id`, unless it has `cap` already.
    pub fn admit(self: &Arc<Self>, tenant_id: &str) -> Result<SessionSlot, SessionError> {
        let mut open = self.lock();
        let count = open.entry(tenant_id.to_string()).or_default();
        if *count >= self.cap {
            return Err(SessionError::TooMany { open: *count });
        }
        *count += 1;
        Ok(SessionSlot {
            sessions: self.clone(),
            tenant_id: tenant_id.to_string(),
            _counted: crate::telemetry::SessionGuard::open(),
        })
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, usize>> {
        // Counts only, updated in one step: a panic elsewhere cannot leave them torn.
        self.open.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl Drop for SessionSlot {
    fn drop(&mut self) {
        let mut open = self.sessions.lock();
        if let Some(count) = open.get_mut(&self.tenant_id) {
            *count = count.saturating_sub(1);
            if *count == 0 {
                // No entry per tenant that ever connected: the map stays as small as
                // the set of tenants connected now.
                open.remove(&self.tenant_id);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_tenant_gets_at_most_cap_sessions_and_a_closed_one_frees_its_place() {
        let sessions = TenantSessions::new(2);
        let a1 = sessions.admit("a").unwrap();
        let _a2 = sessions.admit("a").unwrap();
        assert!(matches!(
            sessions.admit("a"),
            Err(SessionError::TooMany { open: 2 })
        ));
        // Another tenant is not affected.
        let b = sessions.admit("b").unwrap();
        assert_eq!(sessions.total(), 3);
        drop(a1);
        let _a3 = sessions.admit("a").unwrap();
        drop(b);
        assert_eq!(sessions.total(), 2);
        assert!(
            !sessions.lock().contains_key("b"),
            "an empty entry is removed"
        );
    }
}
