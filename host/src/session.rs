//! The session: who is calling. Over stdio one process is one session; over HTTP each
//! `Mcp-Session-Id` is one, opened with an access token.
//!
//! It holds the authenticated tenant (with its derived data key, which only the vault can
//! use and which is wiped on drop), the active store, and what the credential that
//! opened it allows ([`SessionAccess`]). Components never see the tenant's keys: they
//! get ids and names through the `session` and `vault` interfaces.

use std::sync::Mutex;

use orderdesk_vault::{StoreRecord, TenantSession};

/// One MCP session's state.
#[derive(Default)]
pub struct Session {
    state: Mutex<SessionState>,
    /// Run when the session ends (the HTTP transport's per-tenant session count).
    on_end: Mutex<Option<Box<dyn FnOnce() + Send>>>,
}

impl std::fmt::Debug for Session {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Session")
            .field("state", &*self.lock())
            .finish_non_exhaustive()
    }
}

impl Drop for Session {
    fn drop(&mut self) {
        let on_end = self
            .on_end
            .get_mut()
            .unwrap_or_else(|e| e.into_inner())
            .take();
        if let Some(on_end) = on_end {
            on_end();
        }
    }
}

/// What the credential that opened a session allows. A master key (stdio) allows
/// everything; an access token may narrow it. It only ever narrows: nothing here
/// widens a component's grants.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct SessionAccess {
    /// Opened with an access token (HTTP): signing in with a master key through a tool
    /// is refused, the tenant comes from the token.
    pub token_id: Option<String>,
    /// Read-only: every component's OrderDesk grant is narrowed to GET, tools that
    /// change data are not offered, and vault writes are refused.
    pub read_only: bool,
    /// Limited to this store (its id): no other store is listed, resolved or used.
    pub store_id: Option<String>,
}

/// What a session knows about its caller.
#[derive(Debug, Default, Clone)]
pub struct SessionState {
    pub tenant: Option<TenantSession>,
    pub active_store: Option<StoreRecord>,
    pub access: SessionAccess,
}

impl SessionState {
    pub fn tenant_id(&self) -> Option<String> {
        self.tenant.as_ref().map(|t| t.tenant_id().to_string())
    }
}

impl Session {
    pub fn snapshot(&self) -> SessionState {
        self.lock().clone()
    }

    /// Act for `tenant` from now on; the active store belongs to the previous tenant, so
    /// it is forgotten.
    pub fn authenticate(&self, tenant: TenantSession) {
        let mut state = self.lock();
        state.tenant = Some(tenant);
        state.active_store = None;
    }

    /// Act for `tenant` with what `access` allows, from the first request on (an HTTP
    /// session opened with an access token); a token limited to one store makes it the
    /// active store.
    pub fn open_with_token(
        &self,
        tenant: TenantSession,
        access: SessionAccess,
        store: Option<StoreRecord>,
    ) {
        let mut state = self.lock();
        state.tenant = Some(tenant);
        state.access = access;
        state.active_store = store;
    }

    /// Follow a change of the credential's allowance (the token of a later request of
    /// the same session may differ, e.g. after a refresh): the session takes the new
    /// allowance, whichever way it goes; an active store the new one excludes is
    /// forgotten.
    pub fn set_access(&self, access: SessionAccess) {
        let mut state = self.lock();
        if state.access == access {
            return;
        }
        if let (Some(only), Some(active)) = (&access.store_id, &state.active_store)
            && &active.store_id != only
        {
            state.active_store = None;
        }
        state.access = access;
    }

    /// Run `on_end` when the session ends (this `Session` is dropped).
    pub fn on_end(&self, on_end: impl FnOnce() + Send + 'static) {
        *self.on_end.lock().unwrap_or_else(|e| e.into_inner()) = Some(Box::new(on_end));
    }

    pub fn set_active_store(&self, store: Option<StoreRecord>) {
        self.lock().active_store = store;
    }

    /// Forget the active store if it is `store_id` (after it was deleted).
    pub fn forget_store(&self, store_id: &str) {
        let mut state = self.lock();
        if state
            .active_store
            .as_ref()
            .is_some_and(|s| s.store_id == store_id)
        {
            state.active_store = None;
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, SessionState> {
        // The state is plain data, always left consistent: a panic elsewhere while the
        // lock was held cannot have broken it.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}
