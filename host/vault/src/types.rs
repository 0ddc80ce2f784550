//! The vault's public value types: who a tenant is, what a session holds, what a store
//! and an audit entry look like.
//!
//! Plain data with no behaviour beyond formatting. [`TenantSession`] is the exception
//! that proves the rule: its fields are visible to the vault only, so code outside the
//! crate can hold a session but never forge one or read its key.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::crypto::TenantKey;

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

/// An authenticated tenant: its id and its derived data key (wiped on drop). Only a
/// session can decrypt or encrypt the tenant's store API keys.
#[derive(Clone)]
pub struct TenantSession {
    pub(crate) tenant_id: TenantId,
    pub(crate) key: TenantKey,
}

impl TenantSession {
    pub fn tenant_id(&self) -> &TenantId {
        &self.tenant_id
    }
}

impl fmt::Debug for TenantSession {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TenantSession")
            .field("tenant_id", &self.tenant_id)
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
