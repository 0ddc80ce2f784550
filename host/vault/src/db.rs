//! The SQLite side: connection settings, versioned migrations and every query.
//!
//! All statements bind their values as parameters, and every store query is scoped by
//! `tenant_id`: there is no query in this module that can read another tenant's rows
//! given one tenant's id.

use std::path::Path;
use std::time::Duration;

use rusqlite::{Connection, OptionalExtension, Row, params};
use rusqlite_migration::{M, Migrations};

use crate::error::VaultError;
use crate::{AuditEntry, StoreRecord, TenantId};

/// The database file's name inside the data directory.
pub const DB_FILE_NAME: &str = "orderdesk-mcp.sqlite3";

/// Schema versions, applied in order by `rusqlite_migration` (tracked in
/// `PRAGMA user_version`). Never edit a released entry: append a new one.
const MIGRATION_LIST: &[M<'static>] = &[M::up(
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
)];

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
    // NORMAL is durable across application crashes in WAL mode, and much faster.
    conn.pragma_update(None, "synchronous", "NORMAL")?;
    // Overwrite deleted content, so a deleted store's ciphertext does not linger in
    // free pages.
    conn.pragma_update(None, "secure_delete", true)?;
    MIGRATIONS.to_latest(&mut conn)?;
    Ok(conn)
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
            "the server key differs from the one this database was created with, so no \
             tenant could authenticate; restore the original server key \
             (ORDERDESK_MCP_SERVER_KEY or server.key in the data directory)"
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
}

/// Authentication's only query. Its plan is pinned by a test: one search of the unique
/// index `tenants_lookup`, so its cost does not grow with the number of tenants.
const TENANT_BY_LOOKUP: &str = "SELECT id, key_hash, kdf_salt FROM tenants WHERE lookup = ?1";

/// The tenant whose lookup value is `lookup`: one read of the unique index.
pub(crate) fn tenant_by_lookup(
    conn: &Connection,
    lookup: &[u8],
) -> Result<Option<TenantRow>, VaultError> {
    let mut stmt = conn.prepare_cached(TENANT_BY_LOOKUP)?;
    Ok(stmt
        .query_row([lookup], |r| {
            Ok(TenantRow {
                id: r.get(0)?,
                key_hash: r.get(1)?,
                kdf_salt: r.get(2)?,
            })
        })
        .optional()?)
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

const STORE_COLUMNS: &str = "tenant_id, store_id, name, label, created_at";

fn store_from_row(r: &Row<'_>) -> rusqlite::Result<StoreRecord> {
    Ok(StoreRecord {
        tenant_id: TenantId(r.get(0)?),
        store_id: r.get(1)?,
        name: r.get(2)?,
        label: r.get(3)?,
        created_at: r.get(4)?,
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
}

pub(crate) fn insert_store(conn: &Connection, s: &NewStore<'_>) -> Result<StoreRecord, VaultError> {
    let sql = format!(
        "INSERT INTO stores (tenant_id, store_id, name, label, api_key, key_version) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6) RETURNING {STORE_COLUMNS}"
    );
    conn.prepare_cached(&sql)?
        .query_row(
            params![
                s.tenant.0,
                s.store_id,
                s.name,
                s.label,
                s.api_key_blob,
                s.key_version
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

/// The encrypted API key of one of the tenant's stores.
pub(crate) fn store_api_key_blob(
    conn: &Connection,
    tenant: &TenantId,
    store_id: &str,
) -> Result<Option<Vec<u8>>, VaultError> {
    Ok(conn
        .prepare_cached("SELECT api_key FROM stores WHERE tenant_id = ?1 AND store_id = ?2")?
        .query_row(params![tenant.0, store_id], |r| r.get(0))
        .optional()?)
}

pub(crate) fn insert_audit(conn: &Connection, e: &AuditEntry, at: &str) -> Result<(), VaultError> {
    let duration = i64::try_from(e.duration_ms).unwrap_or(i64::MAX);
    conn.prepare_cached(
        "INSERT INTO audit_log \
         (at, tenant_id, store_id, tool, arguments, outcome, duration_ms, correlation_id) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
    )?
    .execute(params![
        at,
        e.tenant_id,
        e.store_id,
        e.tool,
        e.arguments,
        e.outcome,
        duration,
        e.correlation_id
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

/// Newest first.
pub(crate) fn audit_entries(
    conn: &Connection,
    tenant: Option<&TenantId>,
    limit: usize,
) -> Result<Vec<AuditEntry>, VaultError> {
    let limit = i64::try_from(limit).unwrap_or(i64::MAX);
    let map = |r: &Row<'_>| {
        let duration: i64 = r.get(6)?;
        Ok(AuditEntry {
            at: r.get(0)?,
            tenant_id: r.get(1)?,
            store_id: r.get(2)?,
            tool: r.get(3)?,
            arguments: r.get(4)?,
            outcome: r.get(5)?,
            duration_ms: u64::try_from(duration).unwrap_or(0),
            correlation_id: r.get(7)?,
        })
    };
    const COLUMNS: &str =
        "at, tenant_id, store_id, tool, arguments, outcome, duration_ms, correlation_id";
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
