//! The orderdesk-mcp vault: the only part of the host that touches cryptography and the
//! tenants/stores database.
//!
//! - **Tenants** are identified by a master key (`odmk_…`, 256 random bits) that the
//!   vault never stores: it keeps a bcrypt hash to verify it and an HMAC-SHA256 under
//!   a lookup key (protected by the server key) to find the tenant in one indexed read.
//! - **Store API keys** are stored AES-256-GCM-encrypted twice: under a per-tenant key
//!   derived (HKDF-SHA256) from the master key, and under a key derived from the server
//!   key; so they can be read only during a session authenticated with the tenant's
//!   master key, on a server holding the server key. Each is bound to the OrderDesk API
//!   origin it was saved for and never handed out for another.
//! - **Access tokens** (`odat_…`, 256 random bits) let a remote client act for a tenant
//!   without its master key: stored as an HMAC lookup value and the master key
//!   encrypted under a key derived from the token, revoked at once, expiring, and
//!   stopping with the master key they were made with.
//! - **Key lifecycle**: a tenant's master key can be rotated (the old one keeps working
//!   for a grace period), a tenant revoked or deleted, and the server key rotated; each
//!   re-encrypts what depends on the key in one transaction and is audited.
//! - **Pushes** from OrderDesk are signed with HMAC-SHA256 keyed with the store's API
//!   key, but arrive with no master key to decrypt it. So the vault also keeps, for
//!   each store whose key it has seen in the clear, the HMAC key's two SHA-256
//!   midstates, encrypted under a key derived from the server key: enough to verify a
//!   push, not to recover the API key. The trade-off: whoever holds the database *and*
//!   the server key can forge pushes (and so fill a tenant's event list), but still
//!   cannot call OrderDesk. Verified pushes are kept as events for a retention period.
//! - **Audit** entries (already redacted by the host) are kept in the same database,
//!   with who made the change (`mcp`, `cli`, `console`).
//!
//! Everything is synchronous: bcrypt and SQLite block, so the host calls the vault from
//! `spawn_blocking`. [`Vault`] is `Send + Sync`; the SQLite connection is behind a mutex
//! that is never held during a bcrypt computation.
//!
//! # Modules
//!
//! This file holds the [`Vault`] itself and [`Vault::open`]; the operations are
//! `impl Vault` blocks in the module of their subject.
//!
//! - `types`: the public value types ([`TenantId`], [`TenantSession`], [`StoreRecord`],
//!   [`MatchKind`], [`AuditEntry`], [`AuditSource`], [`TenantRecord`], and what the key
//!   lifecycle operations report).
//! - `tenants`: creating tenants and authenticating master keys (limiter, lookup,
//!   bcrypt, auto-provisioning, moving scheme-1 tenants to scheme 2, retired keys), a
//!   session's data key across rotations; rotating master keys, revoking and deleting
//!   tenants.
//! - `tokens`: access tokens (`odat_…`) for remote clients: making, listing, revoking
//!   them, the per-request check, and a session opened with one ([`TokenScope`],
//!   [`NewAccessToken`], [`AccessTokenRecord`]).
//! - `stores`: registering, listing, resolving and deleting stores, replacing a store's
//!   key; input limits; encrypting and decrypting store API keys for their origin.
//! - `audit`: appending, reading and pruning audit entries.
//! - `webhooks`: OrderDesk's pushes: verifying their signature against the stores'
//!   webhook key states, recording them as events (once per tenant, duplicates once),
//!   reading, polling and pruning events, and which stores can be verified yet
//!   ([`WebhookMatch`], [`PushedOrder`], [`RecordedEvent`], [`WebhookEventQuery`],
//!   [`WebhookEvent`]).
//! - `crypto`: every cryptographic primitive (AES-GCM, HKDF, HMAC, bcrypt, randomness).
//! - `crypto`: every cryptographic primitive (AES-GCM, HKDF, HMAC and its midstates,
//!   SHA-256, bcrypt, randomness, constant-time comparison). No other module of the host, nor any other module here, calls those crates.
//! - `keys`: the keys derived from the server key and the database's lookup key.
//! - `server_key`: loading, generating and checking the server key; rotating it.
//! - `db`: the SQLite schema, migrations and every query; the only module with SQL.
//! - `files`: the data directory private to its owner (created, checked, repaired);
//!   files private from the start.
//! - `limiter`: the in-memory limiter of failed authentications.
//! - `clock`: UTC timestamps in the vault's text form.
//! - `error`: [`VaultError`], whose messages never carry a secret.
//! - `bench` (feature `bench` only): filling a vault with many tenants for benchmarks.

#![forbid(unsafe_code)]

mod audit;
#[cfg(feature = "bench")]
mod bench;
mod clock;
mod code_tag;
mod crypto;
mod db;
mod error;
mod files;
mod keys;
mod limiter;
mod server_key;
mod stores;
mod tenants;
mod tokens;
mod types;
mod webhooks;

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock, RwLock};
use std::time::Duration;

use rusqlite::Connection;
use secrecy::SecretString;

pub use audit::{AUDIT_INTERRUPTED, AUDIT_PENDING, AUDIT_SEARCH_MAX, AuditQuery};
#[cfg(feature = "bench")]
pub use bench::BENCHMARK_AUTHENTICATING_KEYS;
pub use clock::{format_utc, utc_now};
pub use crypto::{MASTER_KEY_PREFIX, MasterKey};
pub use db::DB_FILE_NAME;
pub use error::VaultError;
pub use files::{DataDirCheck, secure_data_dir};
pub use server_key::{NEW_SERVER_KEY_FILE_NAME, SERVER_KEY_FILE_NAME};
pub use tenants::{DEFAULT_GRACE, MAX_FAILED_AUTH_PER_MINUTE};
pub use tokens::{ACCESS_TOKEN_PREFIX, AccessTokenRecord, NewAccessToken, TokenScope};
pub use types::{
    AuditEntry, AuditSource, MasterKeyRotation, MatchKind, ServerKeyRotation, StoreRecord,
    TenantId, TenantRecord, TenantRemoval, TenantSession, TokenGrant,
};
pub use webhooks::{
    PushedOrder, RecordedEvent, WEBHOOK_EVENTS_MAX, WebhookEvent, WebhookEventQuery, WebhookMatch,
    order_digest,
};

use keys::ServerKeys;
use limiter::FailureLimiter;

/// bcrypt's cost range (the crate keeps its own constants private).
const MIN_BCRYPT_COST: u32 = 4;
const MAX_BCRYPT_COST: u32 = 31;
/// How long pushes are kept by default.
const DEFAULT_WEBHOOK_RETENTION: Duration = Duration::from_secs(30 * 24 * 60 * 60);

/// How to open a [`Vault`].
#[derive(Clone, Debug)]
pub struct VaultOptions {
    /// bcrypt cost for new master-key hashes (4..=31; 12 in production, 4 in tests).
    pub bcrypt_cost: u32,
    /// Whether an unknown master key creates a tenant on first use (off by default).
    pub auto_provision: bool,
    /// The server key as hex or base64 (≥ 32 bytes), e.g. from `ORDERDESK_MCP_SERVER_KEY`.
    /// `None`: use `<data_dir>/server.key`, generated on first run with mode 0600.
    pub server_key: Option<SecretString>,
    /// How long recorded pushes are kept ([`Vault::prune_webhook_events`]); 30 days by
    /// default.
    pub webhook_retention: Duration,
}

impl Default for VaultOptions {
    fn default() -> Self {
        VaultOptions {
            bcrypt_cost: 12,
            auto_provision: false,
            server_key: None,
            webhook_retention: DEFAULT_WEBHOOK_RETENTION,
        }
    }
}

/// The vault. Open one per data directory and share it (`Arc<Vault>`).
pub struct Vault {
    conn: Mutex<Connection>,
    db_path: PathBuf,
    data_dir: PathBuf,
    /// Replaced whole by a server-key rotation.
    keys: RwLock<Arc<ServerKeys>>,
    /// Whether the server key came from the operator (the environment) rather than
    /// `<data_dir>/server.key`.
    server_key_provided: bool,
    bcrypt_cost: u32,
    auto_provision: bool,
    webhook_retention: Duration,
    /// Hash that unknown keys are verified against, made on first need so that opening
    /// the vault (e.g. for a CLI command) does not pay for a bcrypt computation.
    dummy_hash: OnceLock<String>,
    limiter: FailureLimiter,
}

impl fmt::Debug for Vault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Vault")
            .field("db_path", &self.db_path)
            .field("bcrypt_cost", &self.bcrypt_cost)
            .field("auto_provision", &self.auto_provision)
            .finish_non_exhaustive()
    }
}

impl Vault {
    /// Open the vault in `data_dir` (created with mode 0700 if missing, checked as
    /// [`secure_data_dir`] says): load or create the server key (finishing or dropping an
    /// interrupted server-key rotation), open `orderdesk-mcp.sqlite3` (created with mode
    /// 0600) in WAL mode with foreign keys on, apply pending migrations, and forget
    /// retired master keys whose grace period is over.
    pub fn open(data_dir: &Path, options: VaultOptions) -> Result<Vault, VaultError> {
        if !(MIN_BCRYPT_COST..=MAX_BCRYPT_COST).contains(&options.bcrypt_cost) {
            return Err(VaultError::Config(format!(
                "bcrypt cost must be between {MIN_BCRYPT_COST} and {MAX_BCRYPT_COST}, not {}",
                options.bcrypt_cost
            )));
        }
        secure_data_dir(data_dir)?;
        let server_key = server_key::load_or_create(data_dir, options.server_key.as_ref())?;
        let db_path = data_dir.join(DB_FILE_NAME);
        files::ensure_private_file(&db_path)?;
        let mut conn = db::open(&db_path)?;
        let server_key = match options.server_key {
            Some(_) => server_key,
            None => server_key::settle_pending(data_dir, server_key, &conn)?,
        };
        db::ensure_server_key_check(&conn, &crypto::server_key_check(server_key.bytes()))?;
        let keys = ServerKeys::load(&mut conn, server_key)?;
        let vault = Vault {
            conn: Mutex::new(conn),
            db_path,
            data_dir: data_dir.to_path_buf(),
            keys: RwLock::new(Arc::new(keys)),
            server_key_provided: options.server_key.is_some(),
            bcrypt_cost: options.bcrypt_cost,
            auto_provision: options.auto_provision,
            webhook_retention: options.webhook_retention,
            dummy_hash: OnceLock::new(),
            limiter: FailureLimiter::new(limiter::MAX_FAILURES, limiter::WINDOW),
        };
        vault.forget_expired_keys()?;
        Ok(vault)
    }

    /// The database file.
    pub fn db_path(&self) -> &Path {
        &self.db_path
    }

    /// The keys of the server key in use.
    fn keys(&self) -> Arc<ServerKeys> {
        self.keys.read().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// Refuse to write under `keys` when the database changed over to another server key
    /// (a rotation by another process since this one opened the vault).
    fn check_server_key(&self, conn: &Connection, keys: &ServerKeys) -> Result<(), VaultError> {
        match db::server_key_check(conn)? {
            Some(check) if check == keys.check => Ok(()),
            _ => Err(server_key_rotated()),
        }
    }

    /// Whether the vault can serve: its database file opens and answers (read through a
    /// fresh connection), and holds data of the server key this process has. `Storage`
    /// when the database fails, `Config` when the server key no longer matches.
    pub fn health_check(&self) -> Result<(), VaultError> {
        let conn = db::open_read_only(&self.db_path)?;
        self.check_server_key(&conn, &self.keys())
    }

    fn conn(&self) -> MutexGuard<'_, Connection> {
        // A panic while holding the lock leaves SQLite consistent (an open transaction
        // is rolled back when its guard drops), so a poisoned lock is still usable.
        self.conn.lock().unwrap_or_else(|e| e.into_inner())
    }
}

fn server_key_rotated() -> VaultError {
    VaultError::Config(
        "the server key was rotated (`orderdesk-mcp server-key rotate`) since this process \
         opened the vault; restart it"
            .into(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vault_is_send_and_sync() {
        fn assert_send_sync<T: Send + Sync>() {}
        assert_send_sync::<Vault>();
        assert_send_sync::<TenantSession>();
        assert_send_sync::<MasterKey>();
    }
}
