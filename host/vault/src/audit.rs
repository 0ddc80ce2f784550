//! The audit log: appending entries, reading the latest, pruning old ones.
//!
//! Entries arrive already redacted (the host strips secrets from tool arguments before
//! recording); the vault stores them as given and must not be relied on to redact.
//! Rows are kept in the same database as tenants and stores, but with no foreign key to
//! them: failed authentications have no tenant, and what happened must stay on record
//! whatever exists now.

use std::time::Duration;

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
