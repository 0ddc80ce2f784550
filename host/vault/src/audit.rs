//! The audit log: appending entries, reading the latest, pruning old ones.
//!
//! Entries arrive already redacted (the host strips secrets from tool arguments before
//! recording); the vault stores them as given and must not be relied on to redact.
//! Rows are kept in the same database as tenants and stores, but with no foreign key to
//! them: failed authentications have no tenant, and what happened must stay on record
//! whatever exists now.

use std::time::Duration;

/// The outcome of an intent row whose change has not been answered yet.
pub const AUDIT_PENDING: &str = "pending";

/// The outcome of an intent row left pending by a process that stopped: the change
/// may or may not have been applied.
pub const AUDIT_INTERRUPTED: &str = "error:outcome_unknown (the server stopped before the answer)";

use crate::{AuditEntry, TenantId, Vault, VaultError, db, utc_now};

impl Vault {
    /// Append an audit entry (its `arguments` must already be redacted). An empty `at`
    /// is filled with the current UTC time.
    pub fn record_audit(&self, entry: &AuditEntry) -> Result<(), VaultError> {
        db::insert_audit(&self.conn(), entry, &at_or_now(entry))
    }

    /// Append several audit entries in one transaction (the host's audit writer batches
    /// what accumulated while the previous batch was written).
    pub fn record_audits(&self, entries: &[AuditEntry]) -> Result<(), VaultError> {
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        for entry in entries {
            db::insert_audit(&tx, entry, &at_or_now(entry))?;
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
        db::insert_audit(&conn, &pending, &at_or_now(entry))?;
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
        db::audit_entries(&self.conn(), tenant, limit)
    }
}

/// The entry's `at`, or now when it is empty.
fn at_or_now(entry: &AuditEntry) -> String {
    if entry.at.is_empty() {
        utc_now()
    } else {
        entry.at.clone()
    }
}
