//! The orderdesk-mcp vault: the only part of the host that touches cryptography and the
//! tenants/stores database.
//!
//! - **Tenants** are identified by a master key (`odmk_…`, 256 random bits) that the
//!   vault never stores: it keeps a bcrypt hash to verify it and an HMAC-SHA256 under
//!   the server key to find the tenant in one indexed read.
//! - **Store API keys** are stored AES-256-GCM-encrypted under a per-tenant key derived
//!   (HKDF-SHA256) from the master key and the server key, so they can be read only
//!   during a session authenticated with the tenant's master key.
//! - **Audit** entries (already redacted by the host) are kept in the same database.
//!
//! Everything is synchronous: bcrypt and SQLite block, so the host calls the vault from
//! `spawn_blocking`. [`Vault`] is `Send + Sync`; the SQLite connection is behind a mutex
//! that is never held during a bcrypt computation.

#![forbid(unsafe_code)]

mod clock;
mod crypto;
mod db;
mod error;
mod limiter;
mod server_key;

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard, OnceLock};
use std::time::{Duration, Instant};

use rusqlite::{Connection, TransactionBehavior};
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};

pub use clock::{format_utc, utc_now};
pub use crypto::{MASTER_KEY_PREFIX, MasterKey};
pub use db::DB_FILE_NAME;
pub use error::VaultError;
pub use server_key::SERVER_KEY_FILE_NAME;

use crypto::{KEY_VERSION, MasterKeyMaterial, TenantKey};
use limiter::FailureLimiter;
use server_key::ServerKey;

/// Failed authentications allowed per minute before attempts are refused unchecked.
pub const MAX_FAILED_AUTH_PER_MINUTE: usize = limiter::MAX_FAILURES;
/// How many of the keys returned by [`Vault::insert_tenants_for_benchmark`] carry their
/// own bcrypt hash (the first ones; the last key does too).
pub const BENCHMARK_AUTHENTICATING_KEYS: usize = 32;

/// Limits on what callers may store (they end up in HTTP headers, tool results, logs).
const MAX_STORE_ID_LEN: usize = 64;
const MAX_NAME_LEN: usize = 100;
const MAX_LABEL_LEN: usize = 200;
const MAX_API_KEY_LEN: usize = 256;
/// bcrypt's cost range (the crate keeps its own constants private).
const MIN_BCRYPT_COST: u32 = 4;
const MAX_BCRYPT_COST: u32 = 31;
/// The limiter source used by [`Vault::authenticate`].
const DEFAULT_SOURCE: &str = "";

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
}

impl Default for VaultOptions {
    fn default() -> Self {
        VaultOptions {
            bcrypt_cost: 12,
            auto_provision: false,
            server_key: None,
        }
    }
}

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
    tenant_id: TenantId,
    key: TenantKey,
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

/// What [`Vault::resolve_store`] matched the identifier against.
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

/// The vault. Open one per data directory and share it (`Arc<Vault>`).
pub struct Vault {
    conn: Mutex<Connection>,
    db_path: PathBuf,
    server_key: ServerKey,
    bcrypt_cost: u32,
    auto_provision: bool,
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
    /// Open the vault in `data_dir` (created with mode 0700 if missing): load or create
    /// the server key, open `orderdesk-mcp.sqlite3` (created with mode 0600) in WAL mode
    /// with foreign keys on, and apply pending migrations.
    pub fn open(data_dir: &Path, options: VaultOptions) -> Result<Vault, VaultError> {
        if !(MIN_BCRYPT_COST..=MAX_BCRYPT_COST).contains(&options.bcrypt_cost) {
            return Err(VaultError::Config(format!(
                "bcrypt cost must be between {MIN_BCRYPT_COST} and {MAX_BCRYPT_COST}, not {}",
                options.bcrypt_cost
            )));
        }
        create_private_dir(data_dir)?;
        let server_key = server_key::load_or_create(data_dir, options.server_key.as_ref())?;
        let db_path = data_dir.join(DB_FILE_NAME);
        // Create the file ourselves with mode 0600: SQLite would use the umask (often
        // 0644), and gives its -wal and -shm files the database file's mode.
        match server_key::private_create_new(&db_path) {
            Ok(_) => {}
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
            Err(e) => {
                return Err(VaultError::Config(format!(
                    "cannot create {}: {e}",
                    db_path.display()
                )));
            }
        }
        let conn = db::open(&db_path)?;
        db::ensure_server_key_check(&conn, &crypto::server_key_check(server_key.bytes()))?;
        Ok(Vault {
            conn: Mutex::new(conn),
            db_path,
            server_key,
            bcrypt_cost: options.bcrypt_cost,
            auto_provision: options.auto_provision,
            dummy_hash: OnceLock::new(),
            limiter: FailureLimiter::new(limiter::MAX_FAILURES, limiter::WINDOW),
        })
    }

    /// The database file.
    pub fn db_path(&self) -> &Path {
        &self.db_path
    }

    fn conn(&self) -> MutexGuard<'_, Connection> {
        // A panic while holding the lock leaves SQLite consistent (an open transaction
        // is rolled back when its guard drops), so a poisoned lock is still usable.
        self.conn.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Create a tenant with a new random master key. The key is returned once and
    /// stored only as a bcrypt hash and an HMAC lookup value.
    pub fn create_tenant(&self) -> Result<(TenantId, MasterKey), VaultError> {
        let material = MasterKeyMaterial::generate()?;
        let session = self.insert_tenant(&material)?;
        Ok((session.tenant_id, material.to_master_key()))
    }

    /// Authenticate with a master key; see [`Vault::authenticate_from`]. All callers of
    /// this method share one failure limiter.
    pub fn authenticate(&self, master_key: &SecretString) -> Result<TenantSession, VaultError> {
        self.authenticate_from(DEFAULT_SOURCE, master_key)
    }

    /// Authenticate with a master key, counting failures against `source` (e.g. a client
    /// address or session id; `authenticate` uses one shared source).
    ///
    /// One indexed read finds the tenant by the key's HMAC, then one bcrypt verify proves
    /// the key. An unknown key spends one bcrypt verify too, so the time does not say
    /// whether the key exists. After [`MAX_FAILED_AUTH_PER_MINUTE`] failures within a
    /// minute from a source, attempts are refused with `TooManyAttempts` unchecked.
    /// With `auto_provision`, an unknown well-formed key creates its tenant.
    pub fn authenticate_from(
        &self,
        source: &str,
        master_key: &SecretString,
    ) -> Result<TenantSession, VaultError> {
        let attempt = self.limiter.begin(source, Instant::now()).map_err(|wait| {
            VaultError::TooManyAttempts {
                retry_after_ms: limiter::wait_ms(wait),
            }
        })?;
        let result = self.check_master_key(master_key);
        match &result {
            Err(VaultError::Unauthenticated(_)) => self.limiter.fail(attempt),
            _ => self.limiter.withdraw(attempt),
        }
        result
    }

    fn check_master_key(&self, master_key: &SecretString) -> Result<TenantSession, VaultError> {
        let material = MasterKeyMaterial::parse(master_key.expose_secret())?;
        let lookup = crypto::lookup_value(self.server_key.bytes(), &material);
        // Two rounds at most: the second only when a concurrent first use of the same
        // key provisioned the tenant between our lookup and our insert.
        for _ in 0..2 {
            let row = db::tenant_by_lookup(&self.conn(), &lookup)?;
            match row {
                Some(row) => {
                    if !crypto::bcrypt_verify(&material, &row.key_hash) {
                        return Err(unknown_key());
                    }
                    let key = crypto::derive_tenant_key(
                        &material,
                        self.server_key.bytes(),
                        &row.kdf_salt,
                    )?;
                    return Ok(TenantSession {
                        tenant_id: TenantId(row.id),
                        key,
                    });
                }
                None if self.auto_provision => match self.insert_tenant(&material) {
                    Err(VaultError::Conflict(_)) => continue,
                    other => return other,
                },
                None => {
                    // Same work as for a known key; the outcome is ignored.
                    let _ = crypto::bcrypt_verify(&material, self.dummy_hash()?);
                    return Err(unknown_key());
                }
            }
        }
        Err(unknown_key())
    }

    fn dummy_hash(&self) -> Result<&str, VaultError> {
        if let Some(h) = self.dummy_hash.get() {
            return Ok(h);
        }
        let h = crypto::dummy_hash(self.bcrypt_cost)?;
        Ok(self.dummy_hash.get_or_init(|| h))
    }

    /// Insert a tenant for `material`; `Conflict` if its lookup value exists already.
    fn insert_tenant(&self, material: &MasterKeyMaterial) -> Result<TenantSession, VaultError> {
        let id = TenantId(uuid::Uuid::new_v4().to_string());
        let salt = crypto::random_salt()?;
        let lookup = crypto::lookup_value(self.server_key.bytes(), material);
        // The slow hash is computed before taking the database lock.
        let hash = crypto::bcrypt_hash(material, self.bcrypt_cost)?;
        let key = crypto::derive_tenant_key(material, self.server_key.bytes(), &salt)?;
        db::insert_tenant(&self.conn(), &id.0, &lookup, &hash, &salt, KEY_VERSION).map_err(
            |e| match e {
                db::InsertTenantError::LookupTaken => {
                    VaultError::Conflict("a tenant with this master key exists already".into())
                }
                db::InsertTenantError::Other(e) => e,
            },
        )?;
        Ok(TenantSession { tenant_id: id, key })
    }

    /// Register a store for the session's tenant, its API key encrypted under the
    /// tenant key. `name` defaults to the store id. A store id or name already used by
    /// this tenant (names compare case-insensitively; a name may not be another store's
    /// id, nor a store id another store's name, so that resolving stays unambiguous)
    /// gives `Conflict` naming which.
    pub fn add_store(
        &self,
        t: &TenantSession,
        store_id: &str,
        api_key: &SecretString,
        name: Option<&str>,
        label: Option<&str>,
    ) -> Result<StoreRecord, VaultError> {
        let store_id = validate_store_id(store_id)?;
        let name = match name.map(str::trim) {
            Some(n) if !n.is_empty() => validate_text("store name", n, MAX_NAME_LEN)?,
            _ => store_id,
        };
        let label = match label.map(str::trim) {
            Some(l) if !l.is_empty() => Some(validate_text("label", l, MAX_LABEL_LEN)?),
            _ => None,
        };
        let api_key = validate_api_key(api_key.expose_secret())?;
        let tenant = &t.tenant_id;
        let blob = crypto::encrypt(
            t.key.expose_secret(),
            &crypto::store_aad(&tenant.0, store_id),
            api_key.as_bytes(),
        )?;

        let mut conn = self.conn();
        // IMMEDIATE: take the write lock up front, so the checks below still hold when
        // the row is inserted, even against another process.
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        if db::store_by_id(&tx, tenant, store_id)?.is_some() {
            return Err(VaultError::Conflict(format!(
                "store id '{store_id}' is already registered for this tenant"
            )));
        }
        if let Some(other) = db::store_by_name(&tx, tenant, store_id)? {
            return Err(VaultError::Conflict(format!(
                "store id '{store_id}' is already the name of store {}",
                other.store_id
            )));
        }
        if let Some(other) = db::store_by_name(&tx, tenant, name)? {
            return Err(VaultError::Conflict(format!(
                "store name '{name}' is already used by store {}",
                other.store_id
            )));
        }
        if name != store_id && db::store_by_id(&tx, tenant, name)?.is_some() {
            return Err(VaultError::Conflict(format!(
                "store name '{name}' is the store id of another store; choose another name"
            )));
        }
        let record = db::insert_store(
            &tx,
            &db::NewStore {
                tenant,
                store_id,
                name,
                label,
                api_key_blob: &blob,
                key_version: KEY_VERSION,
            },
        )?;
        tx.commit()?;
        Ok(record)
    }

    /// The tenant's stores, ordered by name (case-insensitively).
    pub fn list_stores(&self, tenant: &TenantId) -> Result<Vec<StoreRecord>, VaultError> {
        db::list_stores(&self.conn(), tenant)
    }

    /// Find one of the tenant's stores by OrderDesk store id, else by name
    /// (case-insensitively).
    pub fn resolve_store(
        &self,
        tenant: &TenantId,
        identifier: &str,
    ) -> Result<(StoreRecord, MatchKind), VaultError> {
        resolve(&self.conn(), tenant, identifier)
    }

    /// Delete one of the tenant's stores (found as by `resolve_store`) and its encrypted
    /// key; returns what was deleted.
    pub fn delete_store(
        &self,
        tenant: &TenantId,
        identifier: &str,
    ) -> Result<StoreRecord, VaultError> {
        let mut conn = self.conn();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let (record, _) = resolve(&tx, tenant, identifier)?;
        db::delete_store(&tx, tenant, &record.store_id)?;
        tx.commit()?;
        Ok(record)
    }

    /// Decrypt a store's API key with the session's tenant key. The ciphertext is bound
    /// to `store`'s tenant and store id: a session of another tenant, a ciphertext moved
    /// from another row or any altered byte gives `VaultError::Decrypt`.
    pub fn store_api_key(
        &self,
        t: &TenantSession,
        store: &StoreRecord,
    ) -> Result<SecretString, VaultError> {
        let blob = db::store_api_key_blob(&self.conn(), &store.tenant_id, &store.store_id)?
            .ok_or_else(|| store_not_found(&store.store_id))?;
        crypto::decrypt_string(
            t.key.expose_secret(),
            &crypto::store_aad(&store.tenant_id.0, &store.store_id),
            &blob,
        )
    }

    /// Append an audit entry (its `arguments` must already be redacted). An empty `at`
    /// is filled with the current UTC time.
    pub fn record_audit(&self, entry: &AuditEntry) -> Result<(), VaultError> {
        let at = if entry.at.is_empty() {
            utc_now()
        } else {
            entry.at.clone()
        };
        db::insert_audit(&self.conn(), entry, &at)
    }

    /// Append several audit entries in one transaction (the host's audit writer batches
    /// what accumulated while the previous batch was written).
    pub fn record_audits(&self, entries: &[AuditEntry]) -> Result<(), VaultError> {
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        for entry in entries {
            let at = if entry.at.is_empty() {
                utc_now()
            } else {
                entry.at.clone()
            };
            db::insert_audit(&tx, entry, &at)?;
        }
        tx.commit()?;
        Ok(())
    }

    /// Delete audit entries recorded more than `older_than` ago; returns how many.
    pub fn prune_audit(&self, older_than: Duration) -> Result<usize, VaultError> {
        db::prune_audit(&self.conn(), older_than)
    }

    /// The latest `limit` audit entries, newest first; of one tenant, or of all.
    pub fn audit_entries(
        &self,
        tenant: Option<&TenantId>,
        limit: usize,
    ) -> Result<Vec<AuditEntry>, VaultError> {
        db::audit_entries(&self.conn(), tenant, limit)
    }

    /// How many tenants exist.
    pub fn tenant_count(&self) -> Result<u64, VaultError> {
        db::tenant_count(&self.conn())
    }

    /// **Benchmark and test helper only.** Insert `n` tenants in one transaction and
    /// return their master keys (distinct, random, each with its correct HMAC lookup
    /// value, so every one is found by the index exactly as in production).
    ///
    /// To stay fast for large `n`, only the first [`BENCHMARK_AUTHENTICATING_KEYS`] keys
    /// and the last key get their own bcrypt hash (at `bcrypt_cost`) and authenticate;
    /// all the others share one hash of a throwaway key, so authenticating with them
    /// costs the same bcrypt verify but fails like a wrong key (and counts toward the
    /// failure limit).
    pub fn insert_tenants_for_benchmark(
        &self,
        n: usize,
        bcrypt_cost: u32,
    ) -> Result<Vec<MasterKey>, VaultError> {
        let shared_hash = crypto::dummy_hash(bcrypt_cost)?;
        let mut rows = Vec::with_capacity(n);
        for i in 0..n {
            let material = MasterKeyMaterial::generate()?;
            let hash = if i < BENCHMARK_AUTHENTICATING_KEYS || i + 1 == n {
                Some(crypto::bcrypt_hash(&material, bcrypt_cost)?)
            } else {
                None
            };
            let lookup = crypto::lookup_value(self.server_key.bytes(), &material);
            rows.push((material, lookup, hash, crypto::random_salt()?));
        }
        let mut conn = self.conn();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        for (_, lookup, hash, salt) in &rows {
            let id = uuid::Uuid::new_v4().to_string();
            let hash = hash.as_deref().unwrap_or(&shared_hash);
            db::insert_tenant(&tx, &id, lookup, hash, salt, KEY_VERSION).map_err(|e| match e {
                db::InsertTenantError::LookupTaken => {
                    VaultError::Conflict("a generated master key collided".into())
                }
                db::InsertTenantError::Other(e) => e,
            })?;
        }
        tx.commit()?;
        Ok(rows.iter().map(|(m, ..)| m.to_master_key()).collect())
    }
}

fn unknown_key() -> VaultError {
    VaultError::Unauthenticated("the master key does not belong to any tenant".into())
}

fn store_not_found(identifier: &str) -> VaultError {
    VaultError::NotFound(format!(
        "no store with id or name '{identifier}' is registered for this tenant"
    ))
}

fn resolve(
    conn: &Connection,
    tenant: &TenantId,
    identifier: &str,
) -> Result<(StoreRecord, MatchKind), VaultError> {
    let identifier = identifier.trim();
    if identifier.is_empty() {
        return Err(VaultError::InvalidInput(
            "give a store id or store name".into(),
        ));
    }
    if identifier.chars().count() > MAX_NAME_LEN.max(MAX_STORE_ID_LEN) {
        // Too long to be either; and not echoed, in case it is a pasted secret.
        return Err(VaultError::NotFound(
            "no store has that id or name (it is longer than any store id or name)".into(),
        ));
    }
    if let Some(s) = db::store_by_id(conn, tenant, identifier)? {
        return Ok((s, MatchKind::StoreId));
    }
    if let Some(s) = db::store_by_name(conn, tenant, identifier)? {
        return Ok((s, MatchKind::Name));
    }
    Err(store_not_found(identifier))
}

/// OrderDesk store ids are numeric; letters, '-', '_' and '.' are tolerated, but nothing
/// that could break the HTTP header the id is sent in.
fn validate_store_id(store_id: &str) -> Result<&str, VaultError> {
    let s = store_id.trim();
    let ok = !s.is_empty()
        && s.len() <= MAX_STORE_ID_LEN
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'));
    if ok {
        Ok(s)
    } else {
        Err(VaultError::InvalidInput(format!(
            "the store id must be 1 to {MAX_STORE_ID_LEN} letters, digits, '-', '_' or '.' \
             (OrderDesk store ids are numbers)"
        )))
    }
}

fn validate_text<'a>(what: &str, s: &'a str, max: usize) -> Result<&'a str, VaultError> {
    if s.chars().count() > max {
        return Err(VaultError::InvalidInput(format!(
            "the {what} is longer than {max} characters"
        )));
    }
    if s.chars().any(char::is_control) {
        return Err(VaultError::InvalidInput(format!(
            "the {what} contains control characters"
        )));
    }
    Ok(s)
}

/// API keys travel in an HTTP header: printable ASCII without spaces. The message never
/// includes the key.
fn validate_api_key(key: &str) -> Result<&str, VaultError> {
    let k = key.trim();
    if k.is_empty() || k.len() > MAX_API_KEY_LEN || !k.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(VaultError::InvalidInput(format!(
            "the API key must be 1 to {MAX_API_KEY_LEN} printable ASCII characters without \
             spaces"
        )));
    }
    Ok(k)
}

/// Create the data directory private to its owner; an existing one is left as it is.
fn create_private_dir(dir: &Path) -> Result<(), VaultError> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        builder.mode(0o700);
    }
    builder.create(dir).map_err(|e| {
        VaultError::Config(format!(
            "cannot create the data directory {}: {e}",
            dir.display()
        ))
    })
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

    #[test]
    fn validation_messages_hold_no_secret() {
        let key = "sk live with spaces";
        let err = validate_api_key(key).unwrap_err().to_string();
        assert!(!err.contains("live"));
        assert!(validate_api_key("  abcDEF123-_.  ").is_ok());
        assert!(validate_api_key("").is_err());
        assert!(validate_api_key(&"a".repeat(257)).is_err());
        assert!(validate_store_id(" 12345 ").is_ok());
        for bad in ["", "12 34", "12\r\nX-Evil: 1", "ü", &"1".repeat(65)] {
            assert!(validate_store_id(bad).is_err(), "{bad:?}");
        }
        assert!(validate_text("store name", "Main\nstore", 100).is_err());
    }
}
