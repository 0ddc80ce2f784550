//! The SQLite side: connection settings, versioned migrations and every query.
//!
//! All statements bind their values as parameters, and every store query is scoped by
//! `tenant_id`: there is no query in this module that can read another tenant's rows
//! given one tenant's id. The exceptions take no tenant id at all and are named for it:
//! what a server-key rotation re-encrypts (`store_keys(None)`, `all_webhook_states`),
//! the candidates of a push (`webhook_states_of_store`: a push names only its store) and
//! the events a process polls for every tenant (`webhook_events_after`).

use std::path::Path;
use std::time::Duration;

use rusqlite::{Connection, OptionalExtension, Row, params};
use rusqlite_migration::{M, Migrations};

use crate::clock::format_unix;
use crate::error::VaultError;
use crate::{
    AccessTokenRecord, AuditEntry, AuditSource, PushedOrder, StoreRecord, TenantId, TenantRecord,
    WebhookEvent, WebhookEventQuery,
};

/// The database file's name inside the data directory.
pub const DB_FILE_NAME: &str = "orderdesk-mcp.sqlite3";

/// Schema versions, applied in order by `rusqlite_migration` (tracked in
/// `PRAGMA user_version`). Never edit a released entry: append a new one.
pub(crate) const MIGRATION_LIST: &[M<'static>] = &[
    M::up(
        r#"
-- Facts about the vault itself, e.g. a check value of the server key in use.
CREATE TABLE vault_meta (
    name  TEXT PRIMARY KEY NOT NULL,
    value BLOB NOT NULL
) STRICT;

CREATE TABLE tenants (
    id          TEXT PRIMARY KEY NOT NULL,              -- uuid v4
    -- HMAC-SHA256(server key, master key): finds the tenant in one index read.
    lookup      BLOB NOT NULL CHECK (length(lookup) = 32),
    -- bcrypt of the master key: proves it.
    key_hash    TEXT NOT NULL,
    -- HKDF salt of the tenant key.
    kdf_salt    BLOB NOT NULL CHECK (length(kdf_salt) = 32),
    -- Key-derivation scheme the tenant's key uses (for a later rotation).
    key_version INTEGER NOT NULL DEFAULT 1,
    created_at  TEXT NOT NULL DEFAULT (strftime('%Y-%m-%d %H:%M:%S', 'now'))
) STRICT;
CREATE UNIQUE INDEX tenants_lookup ON tenants (lookup);

CREATE TABLE stores (
    tenant_id   TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    store_id    TEXT NOT NULL,                          -- OrderDesk's store id
    -- Case-insensitive, so "Main" and "main" are one name to the tenant.
    name        TEXT NOT NULL COLLATE NOCASE,
    label       TEXT,
    -- nonce ‖ AES-256-GCM ciphertext ‖ tag of the store's API key.
    api_key     BLOB NOT NULL,
    -- Tenant-key scheme the ciphertext was made under.
    key_version INTEGER NOT NULL DEFAULT 1,
    created_at  TEXT NOT NULL DEFAULT (strftime('%Y-%m-%d %H:%M:%S', 'now')),
    PRIMARY KEY (tenant_id, store_id),
    UNIQUE (tenant_id, name)
) STRICT;

-- No foreign key to tenants: failed authentications have no tenant, and the record of
-- what happened must not depend on what exists now.
CREATE TABLE audit_log (
    id             INTEGER PRIMARY KEY,
    at             TEXT NOT NULL,
    -- When the vault stored the entry (unix seconds): what pruning goes by, whatever
    -- text form `at` has.
    recorded_at    INTEGER NOT NULL DEFAULT (unixepoch()),
    tenant_id      TEXT,
    store_id       TEXT,
    tool           TEXT NOT NULL,
    arguments      TEXT NOT NULL,
    outcome        TEXT NOT NULL,
    duration_ms    INTEGER NOT NULL,
    correlation_id TEXT NOT NULL
) STRICT;
CREATE INDEX audit_log_recorded_at ON audit_log (recorded_at);
CREATE INDEX audit_log_tenant ON audit_log (tenant_id, id);
"#,
    ),
    M::up(
        r#"
-- Key lifecycle (master-key rotation with a grace period, revocation), the API origin of
-- each store key, and who made each audited change.

-- Bumped by every rotation and revocation: a session whose data key belongs to an older
-- generation signs in again with its master key (or stops working).
ALTER TABLE tenants ADD COLUMN key_generation INTEGER NOT NULL DEFAULT 0;
-- When `tenant revoke` revoked the tenant: its master keys no longer work.
ALTER TABLE tenants ADD COLUMN revoked_at TEXT;

-- The OrderDesk API origin (`https://app.orderdesk.me`) the key was saved for, also
-- bound into the ciphertext's associated data. NULL: saved before this column existed;
-- bound to the origin of its first use.
ALTER TABLE stores ADD COLUMN api_origin TEXT;

-- Master keys replaced by `tenant rotate-key` that keep working until `expires_at`.
CREATE TABLE retired_master_keys (
    tenant_id      TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    lookup         BLOB NOT NULL CHECK (length(lookup) = 32),
    key_hash       TEXT NOT NULL,
    kdf_salt       BLOB NOT NULL CHECK (length(kdf_salt) = 32),
    -- The tenant's data key of `key_generation`, AES-256-GCM under this key's tenant key.
    data_key       BLOB NOT NULL,
    key_generation INTEGER NOT NULL,
    retired_at     TEXT NOT NULL DEFAULT (strftime('%Y-%m-%d %H:%M:%S', 'now')),
    expires_at     INTEGER NOT NULL                     -- unix seconds
) STRICT;
CREATE UNIQUE INDEX retired_master_keys_lookup ON retired_master_keys (lookup);
CREATE INDEX retired_master_keys_tenant ON retired_master_keys (tenant_id);

-- Who made the change: a tool call (mcp), the command line (cli), the console.
ALTER TABLE audit_log ADD COLUMN source TEXT NOT NULL DEFAULT 'mcp'
    CHECK (source IN ('mcp', 'cli', 'console'));
"#,
    ),
    M::up(
        r#"
-- Access tokens (`orderdesk-mcp token create`): what a remote MCP client presents as
-- `Authorization: Bearer odat_…`. The token itself is never stored.
CREATE TABLE access_tokens (
    token_id       TEXT PRIMARY KEY NOT NULL,           -- 'tok_' + 12 hex digits, public
    tenant_id      TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    -- HMAC-SHA256(lookup key, token): finds the token in one index read.
    lookup         BLOB NOT NULL CHECK (length(lookup) = 32),
    -- The lookup value of the master key the token was made with: the token works while
    -- that key does (the tenant's current key, or a retired one in its grace period).
    master_lookup  BLOB NOT NULL CHECK (length(master_lookup) = 32),
    -- nonce ‖ AES-256-GCM ciphertext ‖ tag of that master key, under a key derived from
    -- the token; erased (x'') when the token or its tenant is revoked.
    wrapped_master BLOB NOT NULL,
    -- The scheme of `wrapped_master`.
    key_version    INTEGER NOT NULL,
    scope          TEXT NOT NULL CHECK (scope IN ('read', 'write')),
    -- The one store of the tenant the token is for (OrderDesk's id); NULL: every store.
    store_id       TEXT,
    label          TEXT,
    created_at     TEXT NOT NULL DEFAULT (strftime('%Y-%m-%d %H:%M:%S', 'now')),
    last_used_at   INTEGER,                             -- unix seconds, to the minute
    expires_at     INTEGER,                             -- unix seconds; NULL: never
    revoked_at     TEXT
) STRICT;
CREATE UNIQUE INDEX access_tokens_lookup ON access_tokens (lookup);
CREATE INDEX access_tokens_tenant ON access_tokens (tenant_id);
"#,
    ),
    M::up(
        r#"
-- OrderDesk's pushes ("post order to URL" rules), signed with HMAC-SHA256 keyed with
-- the store's API key, which a push cannot decrypt (it comes with no master key).

-- A store's HMAC key reduced to SHA-256's two midstates (key⊕ipad, key⊕opad): enough to
-- verify a push, not to recover the API key. Written whenever the vault has the key in
-- the clear; goes with its store.
CREATE TABLE webhook_keys (
    tenant_id  TEXT NOT NULL,
    store_id   TEXT NOT NULL,                           -- OrderDesk's store id
    -- nonce ‖ AES-256-GCM ciphertext ‖ tag of the two states, under the webhook key
    -- (from the server key), bound to the tenant and the store.
    hmac_state BLOB NOT NULL,
    created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%d %H:%M:%S', 'now')),
    PRIMARY KEY (tenant_id, store_id),
    FOREIGN KEY (tenant_id, store_id) REFERENCES stores (tenant_id, store_id)
        ON DELETE CASCADE
) STRICT;
-- A push names only the store: every tenant that registered it is a candidate.
CREATE INDEX webhook_keys_store ON webhook_keys (store_id);

-- Verified pushes, one row per tenant that the push's signature matched.
CREATE TABLE webhook_events (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,     -- never reused: a polling cursor
    tenant_id    TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    store_id     TEXT NOT NULL,                         -- OrderDesk's store id
    order_id     TEXT NOT NULL,
    folder_id    INTEGER,
    date_updated TEXT,                                  -- as OrderDesk sent it
    received_at  TEXT NOT NULL,                         -- YYYY-MM-DD HH:MM:SS UTC
    digest       TEXT NOT NULL                          -- SHA-256 of the body, hex
) STRICT;
-- A push repeated (OrderDesk retries, a rule firing twice) is recorded once. On
-- ifnull(date_updated, ''), as NULLs never conflict in a UNIQUE constraint.
CREATE UNIQUE INDEX webhook_events_once ON webhook_events
    (tenant_id, store_id, order_id, ifnull(date_updated, ''), digest);
CREATE INDEX webhook_events_tenant ON webhook_events (tenant_id, id);
CREATE INDEX webhook_events_tenant_store ON webhook_events (tenant_id, store_id, id);
CREATE INDEX webhook_events_received_at ON webhook_events (received_at);
"#,
    ),
];

/// The migrations, for `open` and for tests.
pub(crate) const MIGRATIONS: Migrations<'static> = Migrations::from_slice(MIGRATION_LIST);

/// The name under which the server key check value is kept in `vault_meta`.
const SERVER_KEY_CHECK: &str = "server_key_check";

/// SQLite's extended result codes for the constraint failures we translate.
const SQLITE_CONSTRAINT_FOREIGNKEY: std::ffi::c_int = 787;
const SQLITE_CONSTRAINT_UNIQUE: std::ffi::c_int = 2067;
const SQLITE_CONSTRAINT_PRIMARYKEY: std::ffi::c_int = 1555;

/// Open (creating if needed) the database and bring its schema up to date.
pub(crate) fn open(path: &Path) -> Result<Connection, VaultError> {
    let mut conn = Connection::open(path)?;
    // Concurrent readers (e.g. an operator's `sqlite3` or a second host process) get a
    // short wait instead of an immediate "database is locked".
    conn.busy_timeout(Duration::from_secs(5))?;
    let mode: String = conn.pragma_update_and_check(None, "journal_mode", "WAL", |r| r.get(0))?;
    if !mode.eq_ignore_ascii_case("wal") {
        return Err(VaultError::Storage(format!(
            "could not switch {} to WAL mode (it is in {mode} mode)",
            path.display()
        )));
    }
    // Foreign keys are off by default in SQLite and must be set per connection (and
    // outside a transaction, so before migrating).
    conn.pragma_update(None, "foreign_keys", true)?;
    // FULL: a transaction is on disk when its commit returns, even across a power loss
    // or an OS crash. NORMAL (WAL mode) could lose the last commits then: a tenant whose
    // master key was already printed, a rotation whose new key was already shown. The
    // price is one fsync of the log per commit. Measured on the 2-core dev VM (ext4,
    // release build, medians; NORMAL → FULL): store add 0.04 → 0.45-0.6 ms, one audit
    // row 0.02 → 0.2-0.25 ms, a batch of 50 audit rows 0.2-0.3 → 0.5-0.6 ms, tenant
    // create at bcrypt cost 4 1.3 → 1.9 ms (at the production cost 12, bcrypt's ~0.25 s
    // dwarfs it); up to ~4 ms per commit while other builds load the disk. Tool calls do
    // not wait for it: the audit writer commits a batch per 100 ms off their path.
    conn.pragma_update(None, "synchronous", "FULL")?;
    // Overwrite deleted content, so a deleted store's ciphertext does not linger in
    // free pages.
    conn.pragma_update(None, "secure_delete", true)?;
    MIGRATIONS.to_latest(&mut conn)?;
    Ok(conn)
}

/// The server key check value recorded in the database, if any.
/// A second, read-only connection to the database at `path` that never creates it: the
/// readiness check's proof that the file is there and readable now (the vault's own
/// connection keeps working on a file deleted under it).
pub(crate) fn open_read_only(path: &Path) -> Result<Connection, VaultError> {
    let conn = Connection::open_with_flags(
        path,
        rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY | rusqlite::OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )?;
    conn.busy_timeout(Duration::from_secs(2))?;
    Ok(conn)
}

pub(crate) fn server_key_check(conn: &Connection) -> Result<Option<Vec<u8>>, VaultError> {
    meta_get(conn, SERVER_KEY_CHECK)
}

/// Replace the server key check value (a server-key rotation, inside its transaction).
pub(crate) fn set_server_key_check(conn: &Connection, check: &[u8]) -> Result<(), VaultError> {
    meta_set(conn, SERVER_KEY_CHECK, check)
}

pub(crate) fn meta_get(conn: &Connection, name: &str) -> Result<Option<Vec<u8>>, VaultError> {
    Ok(conn
        .query_row(
            "SELECT value FROM vault_meta WHERE name = ?1",
            [name],
            |r| r.get(0),
        )
        .optional()?)
}

pub(crate) fn meta_set(conn: &Connection, name: &str, value: &[u8]) -> Result<(), VaultError> {
    conn.execute(
        "INSERT INTO vault_meta (name, value) VALUES (?1, ?2) \
         ON CONFLICT (name) DO UPDATE SET value = excluded.value",
        params![name, value],
    )?;
    Ok(())
}

/// Insert a value unless the name exists; whether it was inserted.
pub(crate) fn meta_insert_new(
    conn: &Connection,
    name: &str,
    value: &[u8],
) -> Result<bool, VaultError> {
    Ok(conn.execute(
        "INSERT INTO vault_meta (name, value) VALUES (?1, ?2) ON CONFLICT (name) DO NOTHING",
        params![name, value],
    )? == 1)
}

/// Record the server key's check value on first use; refuse a different key later.
pub(crate) fn ensure_server_key_check(conn: &Connection, check: &[u8]) -> Result<(), VaultError> {
    let stored: Option<Vec<u8>> = conn
        .query_row(
            "SELECT value FROM vault_meta WHERE name = ?1",
            [SERVER_KEY_CHECK],
            |r| r.get(0),
        )
        .optional()?;
    match stored {
        Some(stored) if stored == check => Ok(()),
        Some(_) => Err(VaultError::Config(
            "the server key differs from the one this database uses, so no tenant could \
             authenticate; restore the database's server key (ORDERDESK_MCP_SERVER_KEY or \
             server.key in the data directory; after `orderdesk-mcp server-key rotate`, the \
             new one)"
                .into(),
        )),
        None => {
            conn.execute(
                "INSERT INTO vault_meta (name, value) VALUES (?1, ?2)",
                params![SERVER_KEY_CHECK, check],
            )?;
            Ok(())
        }
    }
}

/// What authentication needs of a tenant row.
pub(crate) struct TenantRow {
    pub(crate) id: String,
    pub(crate) key_hash: String,
    pub(crate) kdf_salt: Vec<u8>,
    /// The key scheme (1 or 2, see `crypto`).
    pub(crate) key_version: i64,
    pub(crate) key_generation: i64,
    pub(crate) revoked_at: Option<String>,
    pub(crate) lookup: Vec<u8>,
}

const TENANT_COLUMNS: &str =
    "id, key_hash, kdf_salt, key_version, key_generation, revoked_at, lookup";

fn tenant_from_row(r: &Row<'_>) -> rusqlite::Result<TenantRow> {
    Ok(TenantRow {
        id: r.get(0)?,
        key_hash: r.get(1)?,
        kdf_salt: r.get(2)?,
        key_version: r.get(3)?,
        key_generation: r.get(4)?,
        revoked_at: r.get(5)?,
        lookup: r.get(6)?,
    })
}

/// Authentication's only query. Its plan is pinned by a test: one search of the unique
/// index `tenants_lookup`, so its cost does not grow with the number of tenants.
const TENANT_BY_LOOKUP: &str = "SELECT id, key_hash, kdf_salt, key_version, key_generation, \
     revoked_at, lookup FROM tenants WHERE lookup = ?1";

/// The tenant whose lookup value is `lookup`: one read of the unique index.
pub(crate) fn tenant_by_lookup(
    conn: &Connection,
    lookup: &[u8],
) -> Result<Option<TenantRow>, VaultError> {
    let mut stmt = conn.prepare_cached(TENANT_BY_LOOKUP)?;
    Ok(stmt.query_row([lookup], tenant_from_row).optional()?)
}

pub(crate) fn tenant_by_id(conn: &Connection, id: &str) -> Result<Option<TenantRow>, VaultError> {
    let sql = format!("SELECT {TENANT_COLUMNS} FROM tenants WHERE id = ?1");
    Ok(conn
        .prepare_cached(&sql)?
        .query_row([id], tenant_from_row)
        .optional()?)
}

/// A retired master key that may still work.
pub(crate) struct RetiredRow {
    pub(crate) tenant_id: String,
    pub(crate) key_hash: String,
    pub(crate) kdf_salt: Vec<u8>,
    pub(crate) data_key: Vec<u8>,
    pub(crate) key_generation: i64,
    pub(crate) retired_at: String,
    pub(crate) expires_at: i64,
}

/// The retired key whose lookup value is `lookup`: one read of its unique index.
pub(crate) fn retired_by_lookup(
    conn: &Connection,
    lookup: &[u8],
) -> Result<Option<RetiredRow>, VaultError> {
    Ok(conn
        .prepare_cached(
            "SELECT tenant_id, key_hash, kdf_salt, data_key, key_generation, retired_at, \
             expires_at FROM retired_master_keys WHERE lookup = ?1",
        )?
        .query_row([lookup], |r| {
            Ok(RetiredRow {
                tenant_id: r.get(0)?,
                key_hash: r.get(1)?,
                kdf_salt: r.get(2)?,
                data_key: r.get(3)?,
                key_generation: r.get(4)?,
                retired_at: r.get(5)?,
                expires_at: r.get(6)?,
            })
        })
        .optional()?)
}

/// A retired master key of a tenant.
pub(crate) struct NewRetiredKey<'a> {
    pub(crate) tenant_id: &'a str,
    pub(crate) lookup: &'a [u8],
    pub(crate) key_hash: &'a str,
    pub(crate) kdf_salt: &'a [u8],
    pub(crate) data_key: &'a [u8],
    pub(crate) key_generation: i64,
    pub(crate) expires_at: i64,
}

pub(crate) fn insert_retired(conn: &Connection, k: &NewRetiredKey<'_>) -> Result<(), VaultError> {
    conn.execute(
        "INSERT INTO retired_master_keys \
         (tenant_id, lookup, key_hash, kdf_salt, data_key, key_generation, expires_at) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        params![
            k.tenant_id,
            k.lookup,
            k.key_hash,
            k.kdf_salt,
            k.data_key,
            k.key_generation,
            k.expires_at
        ],
    )?;
    Ok(())
}

/// Delete the tenant's retired keys; returns their lookup values.
pub(crate) fn delete_retired_of(
    conn: &Connection,
    tenant: &str,
) -> Result<Vec<Vec<u8>>, VaultError> {
    let lookups = conn
        .prepare_cached("DELETE FROM retired_master_keys WHERE tenant_id = ?1 RETURNING lookup")?
        .query_map([tenant], |r| r.get(0))?
        .collect::<Result<Vec<Vec<u8>>, _>>()?;
    Ok(lookups)
}

/// Delete retired keys whose grace period ended by `now` (unix seconds); returns
/// (tenant id, lookup value) of each.
pub(crate) fn delete_expired_retired(
    conn: &Connection,
    now: i64,
) -> Result<Vec<(String, Vec<u8>)>, VaultError> {
    let gone = conn
        .prepare_cached(
            "DELETE FROM retired_master_keys WHERE expires_at <= ?1 RETURNING tenant_id, lookup",
        )?
        .query_map([now], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<Result<Vec<_>, _>>()?;
    Ok(gone)
}

/// The tenant's new master key (a rotation), inside the caller's transaction.
pub(crate) struct TenantKeyUpdate<'a> {
    pub(crate) id: &'a str,
    pub(crate) lookup: &'a [u8],
    pub(crate) key_hash: &'a str,
    pub(crate) kdf_salt: &'a [u8],
    pub(crate) key_version: i64,
    pub(crate) key_generation: i64,
}

pub(crate) fn update_tenant_key(
    conn: &Connection,
    u: &TenantKeyUpdate<'_>,
) -> Result<(), VaultError> {
    conn.execute(
        "UPDATE tenants SET lookup = ?2, key_hash = ?3, kdf_salt = ?4, key_version = ?5, \
         key_generation = ?6 WHERE id = ?1",
        params![
            u.id,
            u.lookup,
            u.key_hash,
            u.kdf_salt,
            u.key_version,
            u.key_generation
        ],
    )?;
    Ok(())
}

/// Mark the tenant revoked: no key hash (nothing verifies), a new generation (running
/// sessions stop), every store's ciphertext, its stores' webhook key states and its
/// access tokens' copies of the master key erased. Returns how many stores.
pub(crate) fn revoke_tenant(conn: &Connection, tenant: &str) -> Result<usize, VaultError> {
    conn.execute(
        "UPDATE tenants SET key_hash = '', key_generation = key_generation + 1, \
         revoked_at = strftime('%Y-%m-%d %H:%M:%S', 'now') WHERE id = ?1",
        [tenant],
    )?;
    delete_retired_of(conn, tenant)?;
    conn.execute(
        "UPDATE access_tokens SET wrapped_master = x'' WHERE tenant_id = ?1",
        [tenant],
    )?;
    // A revoked tenant's stores no longer verify pushes either.
    conn.execute("DELETE FROM webhook_keys WHERE tenant_id = ?1", [tenant])?;
    Ok(conn.execute(
        "UPDATE stores SET api_key = x'' WHERE tenant_id = ?1",
        [tenant],
    )?)
}

/// Delete the tenant with its stores and retired keys (the foreign keys cascade).
pub(crate) fn delete_tenant(conn: &Connection, tenant: &str) -> Result<usize, VaultError> {
    let stores: i64 = conn.query_row(
        "SELECT count(*) FROM stores WHERE tenant_id = ?1",
        [tenant],
        |r| r.get(0),
    )?;
    conn.execute("DELETE FROM tenants WHERE id = ?1", [tenant])?;
    Ok(usize::try_from(stores).unwrap_or(0))
}

/// Every tenant, oldest first, for the operator.
pub(crate) fn list_tenants(conn: &Connection) -> Result<Vec<TenantRecord>, VaultError> {
    let mut stmt = conn.prepare(
        "SELECT t.id, t.created_at, t.revoked_at, \
           (SELECT count(*) FROM stores s WHERE s.tenant_id = t.id), t.key_generation, \
           (SELECT max(r.expires_at) FROM retired_master_keys r \
              WHERE r.tenant_id = t.id AND r.expires_at > unixepoch()) \
         FROM tenants t ORDER BY t.created_at, t.id",
    )?;
    let rows = stmt.query_map([], |r| {
        let stores: i64 = r.get(3)?;
        let expires: Option<i64> = r.get(5)?;
        Ok(TenantRecord {
            tenant_id: TenantId(r.get(0)?),
            created_at: r.get(1)?,
            revoked_at: r.get(2)?,
            store_count: u64::try_from(stores).unwrap_or(0),
            key_generation: r.get(4)?,
            retired_key_expires_at: expires.map(crate::clock::format_unix),
        })
    })?;
    Ok(rows.collect::<Result<Vec<_>, _>>()?)
}

/// Ids of the tenants (not revoked) still on key scheme 1.
pub(crate) fn legacy_tenants(conn: &Connection) -> Result<Vec<String>, VaultError> {
    let mut stmt = conn.prepare(
        "SELECT id FROM tenants WHERE key_version = 1 AND revoked_at IS NULL ORDER BY id",
    )?;
    let rows = stmt.query_map([], |r| r.get(0))?;
    Ok(rows.collect::<Result<Vec<String>, _>>()?)
}

/// Why inserting a tenant failed.
pub(crate) enum InsertTenantError {
    /// A tenant with this lookup value exists already (a concurrent provisioning).
    LookupTaken,
    Other(VaultError),
}

pub(crate) fn insert_tenant(
    conn: &Connection,
    id: &str,
    lookup: &[u8],
    key_hash: &str,
    kdf_salt: &[u8],
    key_version: i64,
) -> Result<(), InsertTenantError> {
    let mut stmt = conn
        .prepare_cached(
            "INSERT INTO tenants (id, lookup, key_hash, kdf_salt, key_version) \
             VALUES (?1, ?2, ?3, ?4, ?5)",
        )
        .map_err(|e| InsertTenantError::Other(e.into()))?;
    match stmt.execute(params![id, lookup, key_hash, kdf_salt, key_version]) {
        Ok(_) => Ok(()),
        Err(e) if constraint_code(&e) == Some(SQLITE_CONSTRAINT_UNIQUE) => {
            Err(InsertTenantError::LookupTaken)
        }
        Err(e) => Err(InsertTenantError::Other(e.into())),
    }
}

pub(crate) fn tenant_count(conn: &Connection) -> Result<u64, VaultError> {
    let n: i64 = conn.query_row("SELECT count(*) FROM tenants", [], |r| r.get(0))?;
    Ok(u64::try_from(n).unwrap_or(0))
}

fn constraint_code(e: &rusqlite::Error) -> Option<std::ffi::c_int> {
    match e {
        rusqlite::Error::SqliteFailure(f, _) => Some(f.extended_code),
        _ => None,
    }
}

const STORE_COLUMNS: &str = "tenant_id, store_id, name, label, created_at, api_origin";

fn store_from_row(r: &Row<'_>) -> rusqlite::Result<StoreRecord> {
    Ok(StoreRecord {
        tenant_id: TenantId(r.get(0)?),
        store_id: r.get(1)?,
        name: r.get(2)?,
        label: r.get(3)?,
        created_at: r.get(4)?,
        api_origin: r.get(5)?,
    })
}

pub(crate) fn store_by_id(
    conn: &Connection,
    tenant: &TenantId,
    store_id: &str,
) -> Result<Option<StoreRecord>, VaultError> {
    let sql = format!("SELECT {STORE_COLUMNS} FROM stores WHERE tenant_id = ?1 AND store_id = ?2");
    Ok(conn
        .prepare_cached(&sql)?
        .query_row(params![tenant.0, store_id], store_from_row)
        .optional()?)
}

/// By name, compared case-insensitively (the column's collation).
pub(crate) fn store_by_name(
    conn: &Connection,
    tenant: &TenantId,
    name: &str,
) -> Result<Option<StoreRecord>, VaultError> {
    let sql = format!("SELECT {STORE_COLUMNS} FROM stores WHERE tenant_id = ?1 AND name = ?2");
    Ok(conn
        .prepare_cached(&sql)?
        .query_row(params![tenant.0, name], store_from_row)
        .optional()?)
}

pub(crate) fn list_stores(
    conn: &Connection,
    tenant: &TenantId,
) -> Result<Vec<StoreRecord>, VaultError> {
    let sql =
        format!("SELECT {STORE_COLUMNS} FROM stores WHERE tenant_id = ?1 ORDER BY name, store_id");
    let mut stmt = conn.prepare_cached(&sql)?;
    let rows = stmt.query_map([&tenant.0], store_from_row)?;
    Ok(rows.collect::<Result<Vec<_>, _>>()?)
}

/// A new store row; the caller has checked for conflicts inside the same transaction.
pub(crate) struct NewStore<'a> {
    pub(crate) tenant: &'a TenantId,
    pub(crate) store_id: &'a str,
    pub(crate) name: &'a str,
    pub(crate) label: Option<&'a str>,
    pub(crate) api_key_blob: &'a [u8],
    pub(crate) key_version: i64,
    pub(crate) api_origin: &'a str,
}

pub(crate) fn insert_store(conn: &Connection, s: &NewStore<'_>) -> Result<StoreRecord, VaultError> {
    let sql = format!(
        "INSERT INTO stores (tenant_id, store_id, name, label, api_key, key_version, api_origin) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) RETURNING {STORE_COLUMNS}"
    );
    conn.prepare_cached(&sql)?
        .query_row(
            params![
                s.tenant.0,
                s.store_id,
                s.name,
                s.label,
                s.api_key_blob,
                s.key_version,
                s.api_origin
            ],
            store_from_row,
        )
        .map_err(|e| match constraint_code(&e) {
            Some(SQLITE_CONSTRAINT_FOREIGNKEY) => VaultError::NotFound(format!(
                "tenant {} no longer exists; authenticate again",
                s.tenant
            )),
            Some(SQLITE_CONSTRAINT_UNIQUE | SQLITE_CONSTRAINT_PRIMARYKEY) => {
                VaultError::Conflict(format!(
                    "store id '{}' or name '{}' is already registered",
                    s.store_id, s.name
                ))
            }
            _ => e.into(),
        })
}

pub(crate) fn delete_store(
    conn: &Connection,
    tenant: &TenantId,
    store_id: &str,
) -> Result<usize, VaultError> {
    Ok(conn.execute(
        "DELETE FROM stores WHERE tenant_id = ?1 AND store_id = ?2",
        params![tenant.0, store_id],
    )?)
}

/// A store's encrypted API key with what decrypting it needs to know.
pub(crate) struct StoreKeyRow {
    pub(crate) tenant_id: String,
    pub(crate) store_id: String,
    pub(crate) api_key: Vec<u8>,
    pub(crate) api_origin: Option<String>,
    pub(crate) key_version: i64,
}

const STORE_KEY_COLUMNS: &str = "tenant_id, store_id, api_key, api_origin, key_version";

fn store_key_from_row(r: &Row<'_>) -> rusqlite::Result<StoreKeyRow> {
    Ok(StoreKeyRow {
        tenant_id: r.get(0)?,
        store_id: r.get(1)?,
        api_key: r.get(2)?,
        api_origin: r.get(3)?,
        key_version: r.get(4)?,
    })
}

/// The encrypted API key of one of the tenant's stores, with its tenant's state.
pub(crate) fn store_key(
    conn: &Connection,
    tenant: &TenantId,
    store_id: &str,
) -> Result<Option<StoreKeyRow>, VaultError> {
    let sql =
        format!("SELECT {STORE_KEY_COLUMNS} FROM stores WHERE tenant_id = ?1 AND store_id = ?2");
    Ok(conn
        .prepare_cached(&sql)?
        .query_row(params![tenant.0, store_id], store_key_from_row)
        .optional()?)
}

/// The encrypted keys of one tenant's stores (`Some`) or of every store (`None`).
pub(crate) fn store_keys(
    conn: &Connection,
    tenant: Option<&str>,
) -> Result<Vec<StoreKeyRow>, VaultError> {
    let rows = match tenant {
        Some(t) => {
            let sql = format!("SELECT {STORE_KEY_COLUMNS} FROM stores WHERE tenant_id = ?1");
            conn.prepare_cached(&sql)?
                .query_map([t], store_key_from_row)?
                .collect::<Result<Vec<_>, _>>()?
        }
        None => {
            let sql = format!("SELECT {STORE_KEY_COLUMNS} FROM stores");
            conn.prepare_cached(&sql)?
                .query_map([], store_key_from_row)?
                .collect::<Result<Vec<_>, _>>()?
        }
    };
    Ok(rows)
}

/// Replace a store's encrypted key (and the origin and scheme it was made for).
pub(crate) fn set_store_key(
    conn: &Connection,
    tenant: &str,
    store_id: &str,
    blob: &[u8],
    origin: Option<&str>,
    key_version: i64,
) -> Result<usize, VaultError> {
    Ok(conn
        .prepare_cached(
            "UPDATE stores SET api_key = ?3, api_origin = ?4, key_version = ?5 \
             WHERE tenant_id = ?1 AND store_id = ?2",
        )?
        .execute(params![tenant, store_id, blob, origin, key_version])?)
}

/// Bind a store saved before origins were recorded to `origin`, if it is still unbound
/// and its ciphertext is still `old` (another process may have bound or replaced it).
pub(crate) fn bind_store_origin(
    conn: &Connection,
    tenant: &str,
    store_id: &str,
    old: &[u8],
    new: &[u8],
    origin: &str,
) -> Result<bool, VaultError> {
    Ok(conn
        .prepare_cached(
            "UPDATE stores SET api_key = ?4, api_origin = ?5 WHERE tenant_id = ?1 \
             AND store_id = ?2 AND api_origin IS NULL AND api_key = ?3",
        )?
        .execute(params![tenant, store_id, old, new, origin])?
        == 1)
}

/// Save a store's encrypted webhook key state, replacing any (a new key, inside the
/// caller's transaction).
pub(crate) fn set_webhook_state(
    conn: &Connection,
    tenant: &str,
    store_id: &str,
    blob: &[u8],
) -> Result<(), VaultError> {
    conn.prepare_cached(
        "INSERT INTO webhook_keys (tenant_id, store_id, hmac_state) VALUES (?1, ?2, ?3) \
         ON CONFLICT (tenant_id, store_id) DO UPDATE SET hmac_state = excluded.hmac_state",
    )?
    .execute(params![tenant, store_id, blob])?;
    Ok(())
}

/// Save a store's encrypted webhook key state if it has none and its encrypted API key
/// is still `api_key` (the key the state was made from: another process may have
/// replaced or deleted it meanwhile); whether it was saved.
pub(crate) fn add_webhook_state_for_key(
    conn: &Connection,
    tenant: &str,
    store_id: &str,
    blob: &[u8],
    api_key: &[u8],
) -> Result<bool, VaultError> {
    Ok(conn
        .prepare_cached(
            "INSERT INTO webhook_keys (tenant_id, store_id, hmac_state) \
             SELECT ?1, ?2, ?3 WHERE EXISTS (SELECT 1 FROM stores \
               WHERE tenant_id = ?1 AND store_id = ?2 AND api_key = ?4) \
             ON CONFLICT (tenant_id, store_id) DO NOTHING",
        )?
        .execute(params![tenant, store_id, blob, api_key])?
        == 1)
}

/// Whether the store has a webhook key state.
pub(crate) fn has_webhook_state(
    conn: &Connection,
    tenant: &str,
    store_id: &str,
) -> Result<bool, VaultError> {
    Ok(conn
        .prepare_cached(
            "SELECT EXISTS (SELECT 1 FROM webhook_keys WHERE tenant_id = ?1 AND store_id = ?2)",
        )?
        .query_row(params![tenant, store_id], |r| r.get(0))?)
}

/// A store's encrypted webhook key state, with the tenant's name for the store.
pub(crate) struct WebhookStateRow {
    pub(crate) tenant_id: String,
    pub(crate) store_id: String,
    pub(crate) store_name: String,
    pub(crate) hmac_state: Vec<u8>,
}

fn webhook_state_from_row(r: &Row<'_>) -> rusqlite::Result<WebhookStateRow> {
    Ok(WebhookStateRow {
        tenant_id: r.get(0)?,
        store_id: r.get(1)?,
        store_name: r.get(2)?,
        hmac_state: r.get(3)?,
    })
}

/// The query of a push's candidates. Its plan is pinned by a test: a search of the
/// index `webhook_keys_store`, so its cost does not grow with the number of stores.
const WEBHOOK_STATES_OF_STORE: &str = "SELECT w.tenant_id, w.store_id, s.name, w.hmac_state \
     FROM webhook_keys w \
     JOIN stores s ON s.tenant_id = w.tenant_id AND s.store_id = w.store_id \
     JOIN tenants t ON t.id = w.tenant_id \
     WHERE w.store_id = ?1 AND t.revoked_at IS NULL ORDER BY w.tenant_id";

/// The webhook key states of every tenant (not revoked) that registered OrderDesk store
/// `store_id`, by tenant id: the candidates a push from that store is checked against.
pub(crate) fn webhook_states_of_store(
    conn: &Connection,
    store_id: &str,
) -> Result<Vec<WebhookStateRow>, VaultError> {
    Ok(conn
        .prepare_cached(WEBHOOK_STATES_OF_STORE)?
        .query_map([store_id], webhook_state_from_row)?
        .collect::<Result<Vec<_>, _>>()?)
}

/// Every webhook key state (a server-key rotation re-encrypts them).
pub(crate) fn all_webhook_states(conn: &Connection) -> Result<Vec<WebhookStateRow>, VaultError> {
    Ok(conn
        .prepare(
            "SELECT w.tenant_id, w.store_id, s.name, w.hmac_state FROM webhook_keys w \
             JOIN stores s ON s.tenant_id = w.tenant_id AND s.store_id = w.store_id",
        )?
        .query_map([], webhook_state_from_row)?
        .collect::<Result<Vec<_>, _>>()?)
}

/// Delete a store's webhook key state (one that no longer opens: it is made again the
/// next time a session uses the store).
pub(crate) fn delete_webhook_state(
    conn: &Connection,
    tenant: &str,
    store_id: &str,
) -> Result<(), VaultError> {
    conn.execute(
        "DELETE FROM webhook_keys WHERE tenant_id = ?1 AND store_id = ?2",
        params![tenant, store_id],
    )?;
    Ok(())
}

/// The tenant's stores (name, OrderDesk id) and whether each has a webhook key state,
/// ordered by name.
pub(crate) fn webhook_readiness(
    conn: &Connection,
    tenant: &TenantId,
) -> Result<Vec<(String, String, bool)>, VaultError> {
    Ok(conn
        .prepare_cached(
            "SELECT s.name, s.store_id, EXISTS (SELECT 1 FROM webhook_keys w \
               WHERE w.tenant_id = s.tenant_id AND w.store_id = s.store_id) \
             FROM stores s WHERE s.tenant_id = ?1 ORDER BY s.name, s.store_id",
        )?
        .query_map([&tenant.0], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
        .collect::<Result<Vec<_>, _>>()?)
}

/// Record a push for `tenant` unless the same push is recorded already; (event id,
/// whether it is new).
pub(crate) fn insert_webhook_event(
    conn: &Connection,
    tenant: &TenantId,
    order: &PushedOrder,
    received_at: &str,
) -> Result<(i64, bool), VaultError> {
    let inserted: Option<i64> = conn
        .prepare_cached(
            "INSERT INTO webhook_events \
             (tenant_id, store_id, order_id, folder_id, date_updated, received_at, digest) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) ON CONFLICT DO NOTHING RETURNING id",
        )?
        .query_row(
            params![
                tenant.0,
                order.store_id,
                order.order_id,
                order.folder_id,
                order.date_updated,
                received_at,
                order.digest
            ],
            |r| r.get(0),
        )
        .optional()
        .map_err(|e| match constraint_code(&e) {
            Some(SQLITE_CONSTRAINT_FOREIGNKEY) => {
                VaultError::NotFound(format!("tenant {tenant} no longer exists"))
            }
            _ => e.into(),
        })?;
    if let Some(id) = inserted {
        return Ok((id, true));
    }
    let id = conn
        .prepare_cached(
            "SELECT id FROM webhook_events WHERE tenant_id = ?1 AND store_id = ?2 \
             AND order_id = ?3 AND ifnull(date_updated, '') = ifnull(?4, '') AND digest = ?5",
        )?
        .query_row(
            params![
                tenant.0,
                order.store_id,
                order.order_id,
                order.date_updated,
                order.digest
            ],
            |r| r.get(0),
        )?;
    Ok((id, false))
}

/// The columns [`webhook_event_from_row`] reads, of `webhook_events e` joined with the
/// tenant's `stores s`.
const WEBHOOK_EVENT_COLUMNS: &str = "e.id, e.tenant_id, e.store_id, s.name, e.order_id, \
     e.folder_id, e.date_updated, e.received_at \
     FROM webhook_events e \
     LEFT JOIN stores s ON s.tenant_id = e.tenant_id AND s.store_id = e.store_id";

fn webhook_event_from_row(r: &Row<'_>) -> rusqlite::Result<WebhookEvent> {
    Ok(WebhookEvent {
        event_id: r.get(0)?,
        tenant_id: TenantId(r.get(1)?),
        store_id: r.get(2)?,
        store_name: r.get(3)?,
        order_id: r.get(4)?,
        folder_id: r.get(5)?,
        date_updated: r.get(6)?,
        received_at: r.get(7)?,
    })
}

/// One tenant's events that match `query`, newest first, at most `limit`.
pub(crate) fn webhook_events(
    conn: &Connection,
    tenant: &TenantId,
    query: &WebhookEventQuery,
    limit: i64,
) -> Result<Vec<WebhookEvent>, VaultError> {
    let sql = format!(
        "SELECT {WEBHOOK_EVENT_COLUMNS} WHERE e.tenant_id = ?1 \
         AND (?2 IS NULL OR e.store_id = ?2) \
         AND (?3 IS NULL OR e.received_at >= ?3) \
         AND (?4 IS NULL OR e.id < ?4) \
         ORDER BY e.id DESC LIMIT ?5"
    );
    Ok(conn
        .prepare_cached(&sql)?
        .query_map(
            params![
                tenant.0,
                query.store_id,
                query.since,
                query.before_event_id,
                limit
            ],
            webhook_event_from_row,
        )?
        .collect::<Result<Vec<_>, _>>()?)
}

/// Every tenant's events after `after_id`, oldest first, at most `limit`.
pub(crate) fn webhook_events_after(
    conn: &Connection,
    after_id: i64,
    limit: i64,
) -> Result<Vec<WebhookEvent>, VaultError> {
    let sql = format!("SELECT {WEBHOOK_EVENT_COLUMNS} WHERE e.id > ?1 ORDER BY e.id LIMIT ?2");
    Ok(conn
        .prepare_cached(&sql)?
        .query_map(params![after_id, limit], webhook_event_from_row)?
        .collect::<Result<Vec<_>, _>>()?)
}

/// The id of the newest event; 0 when there is none.
pub(crate) fn latest_webhook_event_id(conn: &Connection) -> Result<i64, VaultError> {
    Ok(conn
        .prepare_cached("SELECT ifnull(max(id), 0) FROM webhook_events")?
        .query_row([], |r| r.get(0))?)
}

/// Delete events received before `cutoff` (`YYYY-MM-DD HH:MM:SS` UTC); how many.
pub(crate) fn prune_webhook_events(conn: &Connection, cutoff: &str) -> Result<usize, VaultError> {
    Ok(conn.execute(
        "DELETE FROM webhook_events WHERE received_at < ?1",
        [cutoff],
    )?)
}

const TOKEN_COLUMNS: &str = "token_id, tenant_id, label, scope, store_id, created_at, \
     last_used_at, expires_at, revoked_at";

/// An access token's row as [`TOKEN_COLUMNS`] selects it (prefixed `a.` where joined).
fn token_from_row(r: &Row<'_>) -> rusqlite::Result<AccessTokenRecord> {
    let scope: String = r.get(3)?;
    let last_used: Option<i64> = r.get(6)?;
    let expires: Option<i64> = r.get(7)?;
    Ok(AccessTokenRecord {
        token_id: r.get(0)?,
        tenant_id: TenantId(r.get(1)?),
        label: r.get(2)?,
        scope: scope.parse().map_err(|_| {
            rusqlite::Error::FromSqlConversionFailure(
                3,
                rusqlite::types::Type::Text,
                format!("unknown token scope '{scope}'").into(),
            )
        })?,
        store_id: r.get(4)?,
        created_at: r.get(5)?,
        last_used_at: last_used.map(format_unix),
        expires_at: expires.map(format_unix),
        revoked_at: r.get(8)?,
    })
}

/// A new access token's row.
pub(crate) struct NewToken<'a> {
    pub(crate) token_id: &'a str,
    pub(crate) tenant_id: &'a str,
    pub(crate) lookup: &'a [u8],
    pub(crate) master_lookup: &'a [u8],
    pub(crate) wrapped_master: &'a [u8],
    pub(crate) key_version: i64,
    pub(crate) scope: &'a str,
    pub(crate) store_id: Option<&'a str>,
    pub(crate) label: Option<&'a str>,
    pub(crate) expires_at: Option<i64>,
}

/// Why inserting an access token failed.
pub(crate) enum InsertTokenError {
    /// The token id is taken (a random id drawn twice): draw another.
    IdTaken,
    Other(VaultError),
}

pub(crate) fn insert_token(
    conn: &Connection,
    t: &NewToken<'_>,
) -> Result<AccessTokenRecord, InsertTokenError> {
    let sql = format!(
        "INSERT INTO access_tokens (token_id, tenant_id, lookup, master_lookup, wrapped_master, \
         key_version, scope, store_id, label, expires_at) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10) RETURNING {TOKEN_COLUMNS}"
    );
    let mut stmt = conn
        .prepare_cached(&sql)
        .map_err(|e| InsertTokenError::Other(e.into()))?;
    stmt.query_row(
        params![
            t.token_id,
            t.tenant_id,
            t.lookup,
            t.master_lookup,
            t.wrapped_master,
            t.key_version,
            t.scope,
            t.store_id,
            t.label,
            t.expires_at
        ],
        token_from_row,
    )
    .map_err(|e| match constraint_code(&e) {
        Some(SQLITE_CONSTRAINT_PRIMARYKEY) => InsertTokenError::IdTaken,
        _ => InsertTokenError::Other(e.into()),
    })
}

/// An access token found by its lookup value, with what the per-request check needs.
pub(crate) struct TokenCheckRow {
    pub(crate) record: AccessTokenRecord,
    /// Unix seconds; `record.expires_at` is the same in text.
    pub(crate) expires_at: Option<i64>,
    pub(crate) last_used_at: Option<i64>,
    pub(crate) master_lookup: Vec<u8>,
    pub(crate) wrapped_master: Vec<u8>,
    pub(crate) key_version: i64,
    pub(crate) tenant_revoked_at: Option<String>,
    /// Whether the token's master key is the tenant's current one.
    pub(crate) master_is_current: bool,
    /// When the token's master key stops working if it is a retired one (unix seconds).
    pub(crate) master_retired_until: Option<i64>,
}

/// The per-request query of an access token. Its plan is pinned by a test: one search of
/// the unique index `access_tokens_lookup`, then the tenant by its primary key and the
/// retired key by its unique index, so its cost does not grow with the number of tokens.
pub(crate) const TOKEN_BY_LOOKUP: &str = "SELECT a.token_id, a.tenant_id, a.label, a.scope, \
     a.store_id, a.created_at, a.last_used_at, a.expires_at, a.revoked_at, a.master_lookup, \
     a.wrapped_master, a.key_version, t.revoked_at, t.lookup = a.master_lookup, \
     (SELECT r.expires_at FROM retired_master_keys r \
        WHERE r.lookup = a.master_lookup AND r.tenant_id = a.tenant_id) \
     FROM access_tokens a JOIN tenants t ON t.id = a.tenant_id WHERE a.lookup = ?1";

pub(crate) fn token_by_lookup(
    conn: &Connection,
    lookup: &[u8],
) -> Result<Option<TokenCheckRow>, VaultError> {
    Ok(conn
        .prepare_cached(TOKEN_BY_LOOKUP)?
        .query_row([lookup], |r| {
            Ok(TokenCheckRow {
                record: token_from_row(r)?,
                last_used_at: r.get(6)?,
                expires_at: r.get(7)?,
                master_lookup: r.get(9)?,
                wrapped_master: r.get(10)?,
                key_version: r.get(11)?,
                tenant_revoked_at: r.get(12)?,
                master_is_current: r.get(13)?,
                master_retired_until: r.get(14)?,
            })
        })
        .optional()?)
}

/// Whether an access token still stands, as a session opened with it checks on each use.
pub(crate) struct TokenStanding {
    pub(crate) revoked_at: Option<String>,
    /// Unix seconds.
    pub(crate) expires_at: Option<i64>,
}

/// The token's standing; `None` when it no longer exists.
pub(crate) fn token_standing(
    conn: &Connection,
    token_id: &str,
) -> Result<Option<TokenStanding>, VaultError> {
    Ok(conn
        .prepare_cached("SELECT revoked_at, expires_at FROM access_tokens WHERE token_id = ?1")?
        .query_row([token_id], |r| {
            Ok(TokenStanding {
                revoked_at: r.get(0)?,
                expires_at: r.get(1)?,
            })
        })
        .optional()?)
}

/// Record a use of the token at `now` (unix seconds) unless one was recorded less than
/// `interval` seconds before; whether it wrote.
pub(crate) fn touch_token(
    conn: &Connection,
    token_id: &str,
    now: i64,
    interval: i64,
) -> Result<bool, VaultError> {
    Ok(conn
        .prepare_cached(
            "UPDATE access_tokens SET last_used_at = ?2 WHERE token_id = ?1 \
             AND (last_used_at IS NULL OR last_used_at <= ?2 - ?3)",
        )?
        .execute(params![token_id, now, interval])?
        == 1)
}

/// One of the tenant's access tokens by id.
pub(crate) fn token_by_id(
    conn: &Connection,
    tenant: &TenantId,
    token_id: &str,
) -> Result<Option<AccessTokenRecord>, VaultError> {
    let sql =
        format!("SELECT {TOKEN_COLUMNS} FROM access_tokens WHERE tenant_id = ?1 AND token_id = ?2");
    Ok(conn
        .prepare_cached(&sql)?
        .query_row(params![tenant.0, token_id], token_from_row)
        .optional()?)
}

/// The tenant's access tokens, oldest first (revoked and expired ones too).
pub(crate) fn list_tokens(
    conn: &Connection,
    tenant: &TenantId,
) -> Result<Vec<AccessTokenRecord>, VaultError> {
    let sql = format!(
        "SELECT {TOKEN_COLUMNS} FROM access_tokens WHERE tenant_id = ?1 \
         ORDER BY created_at, token_id"
    );
    let mut stmt = conn.prepare_cached(&sql)?;
    let rows = stmt.query_map([&tenant.0], token_from_row)?;
    Ok(rows.collect::<Result<Vec<_>, _>>()?)
}

/// Revoke one of the tenant's access tokens now, erasing its copy of the master key;
/// the token as it is now, `None` when it was revoked already (or is not the tenant's).
pub(crate) fn revoke_token(
    conn: &Connection,
    tenant: &TenantId,
    token_id: &str,
) -> Result<Option<AccessTokenRecord>, VaultError> {
    let sql = format!(
        "UPDATE access_tokens SET wrapped_master = x'', \
         revoked_at = strftime('%Y-%m-%d %H:%M:%S', 'now') \
         WHERE tenant_id = ?1 AND token_id = ?2 AND revoked_at IS NULL RETURNING {TOKEN_COLUMNS}"
    );
    Ok(conn
        .prepare_cached(&sql)?
        .query_row(params![tenant.0, token_id], token_from_row)
        .optional()?)
}

/// Move everything written so far from the write-ahead log into the database file and
/// empty the log, so that overwritten ciphertexts do not linger in it (best effort: a
/// reader of another process can hold the log; `secure_delete` covers the database).
pub(crate) fn checkpoint(conn: &Connection) {
    let _ = conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()));
}

pub(crate) fn insert_audit(
    conn: &Connection,
    e: &AuditEntry,
    at: &str,
    source: AuditSource,
) -> Result<(), VaultError> {
    let duration = i64::try_from(e.duration_ms).unwrap_or(i64::MAX);
    conn.prepare_cached(
        "INSERT INTO audit_log \
         (at, tenant_id, store_id, tool, arguments, outcome, duration_ms, correlation_id, source) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
    )?
    .execute(params![
        at,
        e.tenant_id,
        e.store_id,
        e.tool,
        e.arguments,
        e.outcome,
        duration,
        e.correlation_id,
        source.as_str()
    ])?;
    Ok(())
}

pub(crate) fn prune_audit(conn: &Connection, older_than: Duration) -> Result<usize, VaultError> {
    let secs = i64::try_from(older_than.as_secs()).unwrap_or(i64::MAX);
    Ok(conn.execute(
        "DELETE FROM audit_log WHERE recorded_at < unixepoch() - ?1",
        [secs],
    )?)
}

/// The columns [`audit_row`] reads, in its order.
pub(crate) const AUDIT_COLUMNS: &str =
    "at, tenant_id, store_id, tool, arguments, outcome, duration_ms, correlation_id, source";

/// One audit row selected as [`AUDIT_COLUMNS`], with who made the change.
pub(crate) fn audit_row(r: &Row<'_>) -> rusqlite::Result<(AuditSource, AuditEntry)> {
    let duration: i64 = r.get(6)?;
    let source: String = r.get(8)?;
    Ok((
        AuditSource::parse(&source),
        AuditEntry {
            at: r.get(0)?,
            tenant_id: r.get(1)?,
            store_id: r.get(2)?,
            tool: r.get(3)?,
            arguments: r.get(4)?,
            outcome: r.get(5)?,
            duration_ms: u64::try_from(duration).unwrap_or(0),
            correlation_id: r.get(7)?,
        },
    ))
}

/// Newest first, with who made each change.
pub(crate) fn audit_entries(
    conn: &Connection,
    tenant: Option<&TenantId>,
    limit: usize,
) -> Result<Vec<(AuditSource, AuditEntry)>, VaultError> {
    let limit = i64::try_from(limit).unwrap_or(i64::MAX);
    let map = audit_row;
    const COLUMNS: &str = AUDIT_COLUMNS;
    let rows = match tenant {
        Some(t) => {
            let sql = format!(
                "SELECT {COLUMNS} FROM audit_log WHERE tenant_id = ?1 ORDER BY id DESC LIMIT ?2"
            );
            conn.prepare_cached(&sql)?
                .query_map(params![t.0, limit], map)?
                .collect::<Result<Vec<_>, _>>()?
        }
        None => {
            let sql = format!("SELECT {COLUMNS} FROM audit_log ORDER BY id DESC LIMIT ?1");
            conn.prepare_cached(&sql)?
                .query_map([limit], map)?
                .collect::<Result<Vec<_>, _>>()?
        }
    };
    Ok(rows)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// FULL, not NORMAL: a commit that returned survives a power loss (a printed master
    /// key whose tenant rolled back would be a key to nothing).
    #[test]
    fn commits_are_synchronous_full() {
        let dir = tempfile::tempdir().unwrap();
        let conn = open(&dir.path().join(DB_FILE_NAME)).unwrap();
        let level: i64 = conn
            .pragma_query_value(None, "synchronous", |r| r.get(0))
            .unwrap();
        assert_eq!(level, 2, "PRAGMA synchronous: 2 is FULL (1 is NORMAL)");
    }

    #[test]
    fn migrations_are_valid() {
        MIGRATIONS.validate().unwrap();
    }

    #[test]
    fn migrations_apply_to_an_empty_database_and_are_idempotent() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(DB_FILE_NAME);
        let version = |c: &Connection| -> i64 {
            c.pragma_query_value(None, "user_version", |r| r.get(0))
                .unwrap()
        };
        {
            let conn = open(&path).unwrap();
            assert_eq!(version(&conn), i64::try_from(MIGRATION_LIST.len()).unwrap());
            conn.execute("INSERT INTO vault_meta VALUES ('x', x'00')", [])
                .unwrap();
        }
        let conn = open(&path).unwrap();
        assert_eq!(version(&conn), i64::try_from(MIGRATION_LIST.len()).unwrap());
        let n: i64 = conn
            .query_row("SELECT count(*) FROM vault_meta", [], |r| r.get(0))
            .unwrap();
        assert_eq!(n, 1, "reopening keeps the data");
        let fk: bool = conn
            .pragma_query_value(None, "foreign_keys", |r| r.get(0))
            .unwrap();
        assert!(fk);
        let mode: String = conn
            .pragma_query_value(None, "journal_mode", |r| r.get(0))
            .unwrap();
        assert_eq!(mode, "wal");
    }

    /// The per-request check of an access token: the token by its unique index, its
    /// tenant by primary key, its master key's retired row by its unique index; no scan.
    #[test]
    fn the_token_check_is_searches_of_unique_indexes() {
        let dir = tempfile::tempdir().unwrap();
        let conn = open(&dir.path().join(DB_FILE_NAME)).unwrap();
        let plan: Vec<String> = conn
            .prepare(&format!("EXPLAIN QUERY PLAN {TOKEN_BY_LOOKUP}"))
            .unwrap()
            .query_map([vec![0u8; 32]], |r| r.get::<_, String>(3))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        assert!(
            plan.iter()
                .any(|p| p.starts_with("SEARCH a USING INDEX access_tokens_lookup (lookup=?)")),
            "{plan:?}"
        );
        assert!(
            plan.iter()
                .any(|p| p.starts_with("SEARCH t USING INDEX sqlite_autoindex_tenants_1 (id=?)")),
            "{plan:?}"
        );
        assert!(
            plan.iter().any(
                |p| p.starts_with("SEARCH r USING INDEX retired_master_keys_lookup (lookup=?)")
            ),
            "{plan:?}"
        );
        assert!(!plan.iter().any(|p| p.starts_with("SCAN")), "{plan:?}");
    }

    /// A push's candidates are found through the store-id index, not a scan of every
    /// store's key state.
    #[test]
    fn a_pushs_candidates_are_a_search_of_the_store_index() {
        let dir = tempfile::tempdir().unwrap();
        let conn = open(&dir.path().join(DB_FILE_NAME)).unwrap();
        let plan: Vec<String> = conn
            .prepare(&format!("EXPLAIN QUERY PLAN {WEBHOOK_STATES_OF_STORE}"))
            .unwrap()
            .query_map(["1001"], |r| r.get::<_, String>(3))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        assert!(!plan.iter().any(|p| p.starts_with("SCAN")), "{plan:?}");
        assert!(
            plan.iter()
                .any(|p| p.starts_with("SEARCH w USING INDEX webhook_keys_store (store_id=?)")),
            "{plan:?}"
        );
    }

    /// What keeps authentication time flat in the number of tenants (the benchmark in
    /// `bench` measures it): the lookup is one search of a unique index, never a scan.
    #[test]
    fn the_tenant_lookup_is_one_search_of_the_unique_index() {
        let dir = tempfile::tempdir().unwrap();
        let conn = open(&dir.path().join(DB_FILE_NAME)).unwrap();
        let plan: Vec<String> = conn
            .prepare(&format!("EXPLAIN QUERY PLAN {TENANT_BY_LOOKUP}"))
            .unwrap()
            .query_map([vec![0u8; 32]], |r| r.get::<_, String>(3))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        assert_eq!(plan.len(), 1, "{plan:?}");
        assert!(
            plan[0].starts_with("SEARCH tenants USING INDEX tenants_lookup (lookup=?)"),
            "{plan:?}"
        );
        let unique: bool = conn
            .query_row(
                "SELECT \"unique\" FROM pragma_index_list('tenants') WHERE name = 'tenants_lookup'",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert!(unique, "at most one tenant per lookup value");
    }
}
