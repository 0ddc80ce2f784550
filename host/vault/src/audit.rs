//! The audit log: appending entries, reading the latest, pruning old ones.
//!
//! Entries arrive already redacted (the host strips secrets from tool arguments before
//! recording); the vault stores them as given and must not be relied on to redact.
//! Rows are kept in the same database as tenants and stores, but with no foreign key to
//! them: failed authentications have no tenant, and what happened must stay on record
//! whatever exists now.
//!
//! Each row says who made the change ([`AuditSource`]): `record_audit(s)` write tool
//! calls (`mcp`); the command line writes its own with [`Vault::record_audit_from`];
//! the key-lifecycle operations (rotation, revocation, deletion, server-key rotation)
//! write theirs inside their own transaction, so the change and its record commit
//! together.

use std::time::{Duration, Instant};

/// The outcome of an intent row whose change has not been answered yet.
pub const AUDIT_PENDING: &str = "pending";

/// The outcome of an intent row left pending by a process that stopped: the change
/// may or may not have been applied.
pub const AUDIT_INTERRUPTED: &str = "error:outcome_unknown (the server stopped before the answer)";

use rusqlite::Connection;

/// Which of a tenant's audit rows [`Vault::search_audit`] answers; each field given
/// narrows it.
#[derive(Clone, Debug, Default)]
pub struct AuditQuery {
    /// Exactly this tool.
    pub tool: Option<String>,
    /// `ok`, `error` (every error) or `error:KIND`.
    pub outcome: Option<String>,
    /// Calls that acted on this store.
    pub store_id: Option<String>,
    /// At or after this time (`YYYY-MM-DD` or `YYYY-MM-DD HH:MM:SS`, UTC).
    pub since: Option<String>,
    /// At most this many (1 to [`AUDIT_SEARCH_MAX`]).
    pub limit: usize,
}

/// The most rows one [`Vault::search_audit`] answers.
pub const AUDIT_SEARCH_MAX: usize = 200;

use crate::{AuditEntry, AuditSource, TenantId, Vault, VaultError, db, utc_now};

impl Vault {
    /// Append an audit entry of a tool call (its `arguments` must already be redacted).
    /// An empty `at` is filled with the current UTC time.
    pub fn record_audit(&self, entry: &AuditEntry) -> Result<(), VaultError> {
        self.record_audit_from(AuditSource::Mcp, entry)
    }

    /// Append an audit entry made by `source` (its `arguments` must hold no secret).
    pub fn record_audit_from(
        &self,
        source: AuditSource,
        entry: &AuditEntry,
    ) -> Result<(), VaultError> {
        db::insert_audit(&self.conn(), entry, &at_or_now(entry), source)
    }

    /// Append several audit entries in one transaction (the host's audit writer batches
    /// what accumulated while the previous batch was written).
    pub fn record_audits(&self, entries: &[AuditEntry]) -> Result<(), VaultError> {
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        for entry in entries {
            db::insert_audit(&tx, entry, &at_or_now(entry), AuditSource::Mcp)?;
        }
        tx.commit()?;
        Ok(())
    }

    /// Append the intent row of a change about to be made (an OrderDesk write), with
    /// outcome [`AUDIT_PENDING`], before it is made: if the process dies before the
    /// change is answered, the row says it was under way. Returns the row's id for
    /// [`Vault::settle_audit_intent`].
    pub fn record_audit_intent(&self, entry: &AuditEntry) -> Result<i64, VaultError> {
        let pending = AuditEntry {
            outcome: AUDIT_PENDING.into(),
            ..entry.clone()
        };
        let conn = self.conn();
        db::insert_audit(&conn, &pending, &at_or_now(entry), AuditSource::Mcp)?;
        Ok(conn.last_insert_rowid())
    }

    /// Record how an intent row's change ended.
    pub fn settle_audit_intent(
        &self,
        id: i64,
        outcome: &str,
        duration_ms: u64,
    ) -> Result<(), VaultError> {
        let duration = i64::try_from(duration_ms).unwrap_or(i64::MAX);
        self.conn()
            .prepare_cached(
                "UPDATE audit_log SET outcome = ?2, duration_ms = ?3 \
                 WHERE id = ?1 AND outcome = ?4",
            )?
            .execute(rusqlite::params![id, outcome, duration, AUDIT_PENDING])?;
        Ok(())
    }

    /// At start-up: intent rows left pending for longer than `older_than` (a process
    /// stopped before the change was answered) are marked [`AUDIT_INTERRUPTED`];
    /// returns how many.
    pub fn settle_interrupted_intents(&self, older_than: Duration) -> Result<usize, VaultError> {
        let seconds = i64::try_from(older_than.as_secs()).unwrap_or(i64::MAX);
        Ok(self.conn().execute(
            "UPDATE audit_log SET outcome = ?1 WHERE outcome = ?2 AND recorded_at < unixepoch() - ?3",
            rusqlite::params![AUDIT_INTERRUPTED, AUDIT_PENDING, seconds],
        )?)
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
        Ok(db::audit_entries(&self.conn(), tenant, limit)?
            .into_iter()
            .map(|(_, entry)| entry)
            .collect())
    }

    /// One tenant's audit rows that match `query`, newest first, at most
    /// [`AUDIT_SEARCH_MAX`]: what a tenant may see of its own calls (`audit_recent`).
    pub fn search_audit(
        &self,
        tenant: &TenantId,
        query: &AuditQuery,
    ) -> Result<Vec<(AuditSource, AuditEntry)>, VaultError> {
        // `error` matches every error; `error:KIND` also matches the rows whose
        // outcome adds a reason after the kind (an interrupted intent's).
        let outcome_pattern = query.outcome.as_deref().map(|outcome| {
            let escaped = outcome
                .replace('\\', "\\\\")
                .replace('%', "\\%")
                .replace('_', "\\_");
            if outcome == "error" {
                "error:%".to_string()
            } else {
                format!("{escaped} %")
            }
        });
        let limit = query.limit.clamp(1, AUDIT_SEARCH_MAX) as i64;
        let sql = format!(
            "SELECT {} FROM audit_log WHERE tenant_id = ?1 \
             AND (?2 IS NULL OR tool = ?2) \
             AND (?3 IS NULL OR outcome = ?3 OR outcome LIKE ?4 ESCAPE '\\') \
             AND (?5 IS NULL OR store_id = ?5) \
             AND (?6 IS NULL OR at >= ?6) \
             ORDER BY id DESC LIMIT ?7",
            db::AUDIT_COLUMNS
        );
        let conn = self.conn();
        let rows = conn
            .prepare_cached(&sql)?
            .query_map(
                rusqlite::params![
                    tenant.as_str(),
                    query.tool,
                    query.outcome,
                    outcome_pattern,
                    query.store_id,
                    query.since,
                    limit
                ],
                db::audit_row,
            )?
            .collect::<Result<Vec<_>, _>>()?;
        Ok(rows)
    }

    /// Like [`Vault::audit_entries`], with who made each change.
    pub fn audit_log(
        &self,
        tenant: Option<&TenantId>,
        limit: usize,
    ) -> Result<Vec<(AuditSource, AuditEntry)>, VaultError> {
        db::audit_entries(&self.conn(), tenant, limit)
    }
}

/// Record a key-lifecycle change inside its transaction. `arguments` is JSON made by
/// [`json_object`] from ids and counts only.
pub(crate) fn record_change(
    conn: &Connection,
    source: AuditSource,
    tenant_id: Option<&str>,
    tool: &str,
    arguments: &str,
    started: Instant,
) -> Result<(), VaultError> {
    record_store_change(conn, source, tenant_id, None, tool, arguments, started)
}

/// [`record_change`] of a change that concerns one store.
pub(crate) fn record_store_change(
    conn: &Connection,
    source: AuditSource,
    tenant_id: Option<&str>,
    store_id: Option<&str>,
    tool: &str,
    arguments: &str,
    started: Instant,
) -> Result<(), VaultError> {
    let entry = AuditEntry {
        at: utc_now(),
        tenant_id: tenant_id.map(str::to_string),
        store_id: store_id.map(str::to_string),
        tool: tool.to_string(),
        arguments: arguments.to_string(),
        outcome: "ok".to_string(),
        duration_ms: u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
        correlation_id: uuid::Uuid::new_v4().to_string(),
    };
    db::insert_audit(conn, &entry, &entry.at, source)
}

/// A value of an audit row's `arguments` (the vault has no JSON library).
pub(crate) enum Json<'a> {
    Str(&'a str),
    Int(i64),
    Bool(bool),
    List(&'a [String]),
}

/// A JSON object of `fields`, strings escaped.
pub(crate) fn json_object(fields: &[(&str, Json<'_>)]) -> String {
    fn string(out: &mut String, s: &str) {
        out.push('"');
        for c in s.chars() {
            match c {
                '"' => out.push_str("\\\""),
                '\\' => out.push_str("\\\\"),
                c if c.is_control() => out.push_str(&format!("\\u{:04x}", u32::from(c))),
                c => out.push(c),
            }
        }
        out.push('"');
    }
    let mut out = String::from("{");
    for (i, (name, value)) in fields.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        string(&mut out, name);
        out.push(':');
        match value {
            Json::Str(s) => string(&mut out, s),
            Json::Int(n) => out.push_str(&n.to_string()),
            Json::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
            Json::List(items) => {
                out.push('[');
                for (j, item) in items.iter().enumerate() {
                    if j > 0 {
                        out.push(',');
                    }
                    string(&mut out, item);
                }
                out.push(']');
            }
        }
    }
    out.push('}');
    out
}

/// The entry's `at`, or now when it is empty.
fn at_or_now(entry: &AuditEntry) -> String {
    if entry.at.is_empty() {
        utc_now()
    } else {
        entry.at.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_objects_escape_their_strings() {
        let list = vec!["a\"b".to_string(), "c".to_string()];
        assert_eq!(
            json_object(&[
                ("s", Json::Str("x\\y\n")),
                ("n", Json::Int(-3)),
                ("b", Json::Bool(true)),
                ("l", Json::List(&list)),
            ]),
            r#"{"s":"x\\y\u000a","n":-3,"b":true,"l":["a\"b","c"]}"#
        );
    }
}
