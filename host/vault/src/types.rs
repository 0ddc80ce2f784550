//! The vault's public value types: who a tenant is, what a session holds, what a store
//! and an audit entry look like.
//!
//! Plain data with no behaviour beyond formatting (the access tokens' types are in
//! `tokens`). [`TenantSession`] is the exception
//! that proves the rule: its fields are visible to the vault only, so code outside the
//! crate can hold a session but never forge one or read its key.

use std::fmt;
use std::sync::{Arc, Mutex, MutexGuard};

use serde::{Deserialize, Serialize};

use crate::crypto::{MasterKeyMaterial, TenantKey};
use crate::tokens::TokenScope;

/// A tenant's id: a UUID v4 in text form.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct TenantId(pub String);

impl TenantId {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for TenantId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// An authenticated tenant: its id and what its data key needs (wiped on drop). Only a
/// session can decrypt or encrypt the tenant's store API keys.
///
/// Clones share one state: when a rotation of the tenant's master key (possibly by
/// another process) makes the data key stale, the vault signs the session in again with
/// the master key it was opened with, and every clone sees the new key. During a grace
/// period that old key still works; after it, the session stops working.
///
/// A session opened with an access token ([`Vault::authenticate_access_token`]) carries
/// the token's grant ([`TenantSession::access_token`]) and stops working as soon as the
/// token is revoked or expires. The vault refuses it what only a master key may do
/// (creating access tokens, rotating the master key); narrowing it to the token's scope
/// and store is for the caller (the host narrows the session's grants).
///
/// [`Vault::authenticate_access_token`]: crate::Vault::authenticate_access_token
#[derive(Clone)]
pub struct TenantSession {
    pub(crate) tenant_id: TenantId,
    pub(crate) state: Arc<Mutex<SessionState>>,
    /// Opened with an access token: which, and what it allows.
    pub(crate) token: Option<Arc<TokenGrant>>,
}

/// What the access token a session was opened with allows.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct TokenGrant {
    /// The token's public id (`tok_…`).
    pub token_id: String,
    pub scope: TokenScope,
    /// The one store (OrderDesk's id) the token is for; `None`: every store of the tenant.
    pub store_id: Option<String>,
}

/// What a session holds: the master key it signed in with (to sign in again after a
/// rotation), the tenant's data key, and which key generation that data key belongs to.
pub(crate) struct SessionState {
    pub(crate) master: Arc<MasterKeyMaterial>,
    pub(crate) key: TenantKey,
    /// The tenant's `key_generation` the data key belongs to.
    pub(crate) generation: i64,
    /// Signed in with a retired master key: when (unix seconds) it stops working.
    pub(crate) expires_at: Option<i64>,
    /// Why the session no longer works, once that is known (so a dead session does not
    /// pay a bcrypt verify on every call).
    pub(crate) dead: Option<String>,
}

impl TenantSession {
    pub(crate) fn new(tenant_id: TenantId, state: SessionState) -> TenantSession {
        TenantSession {
            tenant_id,
            state: Arc::new(Mutex::new(state)),
            token: None,
        }
    }

    pub(crate) fn with_token(
        tenant_id: TenantId,
        state: SessionState,
        grant: TokenGrant,
    ) -> TenantSession {
        TenantSession {
            token: Some(Arc::new(grant)),
            ..TenantSession::new(tenant_id, state)
        }
    }

    pub fn tenant_id(&self) -> &TenantId {
        &self.tenant_id
    }

    /// The access token this session was opened with, and what it allows; `None` for a
    /// session opened with a master key (which may do everything the tenant may).
    pub fn access_token(&self) -> Option<&TokenGrant> {
        self.token.as_deref()
    }

    /// When the master key this session signed in with stops working (`YYYY-MM-DD
    /// HH:MM:SS` UTC): `Some` only for a key retired by `tenant rotate-key` and still in
    /// its grace period.
    pub fn key_expires_at(&self) -> Option<String> {
        self.lock().expires_at.map(crate::clock::format_unix)
    }

    pub(crate) fn lock(&self) -> MutexGuard<'_, SessionState> {
        // Plain data replaced whole: a panic elsewhere cannot leave it half-written.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl fmt::Debug for TenantSession {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TenantSession")
            .field("tenant_id", &self.tenant_id)
            .field("token", &self.token)
            .field("key", &"[REDACTED]")
            .finish()
    }
}

/// A registered store, without any key material.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoreRecord {
    pub tenant_id: TenantId,
    /// OrderDesk's store id.
    pub store_id: String,
    /// The tenant's name for the store (unique per tenant, case-insensitively).
    pub name: String,
    pub label: Option<String>,
    /// When it was registered, `YYYY-MM-DD HH:MM:SS` UTC.
    pub created_at: String,
    /// The OrderDesk API origin (`https://app.orderdesk.me`) the store's key was saved
    /// for; its key is never sent anywhere else. `None`: saved before origins were
    /// recorded, bound to the origin of its first use.
    pub api_origin: Option<String>,
}

/// What [`Vault::resolve_store`](crate::Vault::resolve_store) matched the identifier
/// against.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MatchKind {
    StoreId,
    Name,
}

/// One audited tool call. The host redacts `arguments` before recording.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditEntry {
    /// When the call happened; empty means "now" (`YYYY-MM-DD HH:MM:SS` UTC).
    pub at: String,
    pub tenant_id: Option<String>,
    pub store_id: Option<String>,
    pub tool: String,
    pub arguments: String,
    pub outcome: String,
    pub duration_ms: u64,
    pub correlation_id: String,
}

/// Who made an audited change: a tool call over MCP, the command line, or (later) the
/// operator's console.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AuditSource {
    Mcp,
    Cli,
    Console,
}

impl AuditSource {
    /// The text stored in `audit_log.source`.
    pub fn as_str(self) -> &'static str {
        match self {
            AuditSource::Mcp => "mcp",
            AuditSource::Cli => "cli",
            AuditSource::Console => "console",
        }
    }

    pub(crate) fn parse(text: &str) -> AuditSource {
        match text {
            "cli" => AuditSource::Cli,
            "console" => AuditSource::Console,
            _ => AuditSource::Mcp,
        }
    }
}

impl fmt::Display for AuditSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A tenant as the operator sees it (`orderdesk-mcp tenant list`): no key material.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TenantRecord {
    pub tenant_id: TenantId,
    /// `YYYY-MM-DD HH:MM:SS` UTC.
    pub created_at: String,
    /// When `tenant revoke` revoked it; its master keys no longer work.
    pub revoked_at: Option<String>,
    pub store_count: u64,
    /// Rotations of its master key so far.
    pub key_generation: i64,
    /// A master key retired by `tenant rotate-key` that still works until then.
    pub retired_key_expires_at: Option<String>,
}

/// What `Vault::rotate_master_key` did.
#[derive(Debug)]
pub struct MasterKeyRotation {
    /// The new master key: shown once, stored only as its hash and lookup value.
    pub master_key: crate::MasterKey,
    /// Short non-secret ids of the old and the new key (a prefix of their lookup
    /// values), as the audit log names them.
    pub old_key_id: String,
    pub new_key_id: String,
    /// When the old key stops working (`YYYY-MM-DD HH:MM:SS` UTC); `None`: at once.
    pub old_key_expires_at: Option<String>,
    /// Store keys re-encrypted under the new key.
    pub stores_reencrypted: usize,
    /// Stores whose key could not be decrypted (altered data) and was left as it was:
    /// replace their keys with `stores update-key`.
    pub stores_unreadable: Vec<String>,
}

/// What `Vault::revoke_tenant` or `Vault::delete_tenant` did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TenantRemoval {
    pub tenant_id: TenantId,
    /// Stores whose encrypted keys were erased (revoke) or deleted (delete).
    pub stores: usize,
    /// Revoke only: the tenant had been revoked before (at that time); nothing changed.
    pub already_revoked_at: Option<String>,
}

/// What `Vault::rotate_server_key` did.
#[derive(Debug)]
pub struct ServerKeyRotation {
    /// Store keys re-encrypted under the new server key.
    pub stores_reencrypted: usize,
    /// Stores whose key could not be decrypted (altered data), left as they were.
    pub stores_unreadable: usize,
    /// The key file now holding the new key; `None` when the key comes from the
    /// environment (the operator supplied the new one).
    pub key_file: Option<std::path::PathBuf>,
}
