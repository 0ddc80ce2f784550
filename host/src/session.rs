//! The session: who is calling. Over stdio one process is one session.
//!
//! It holds the authenticated tenant (with its derived data key, which only the vault can
//! use and which is wiped on drop) and the active store. Components never see either
//! directly: they get ids and names through the `session` and `vault` interfaces.

use std::sync::Mutex;

use orderdesk_vault::{StoreRecord, TenantSession};

/// One MCP session's state.
#[derive(Debug, Default)]
pub struct Session {
    state: Mutex<SessionState>,
}

/// What a session knows about its caller.
#[derive(Debug, Default, Clone)]
pub struct SessionState {
    pub tenant: Option<TenantSession>,
    pub active_store: Option<StoreRecord>,
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
