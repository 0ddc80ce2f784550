//! What the command line does to the vault on the operator's behalf: the data
//! directory made and checked, and an audit row (source `cli`) for every operation.
//!
//! The key-lifecycle operations (`tenant rotate-key|revoke|delete`, `server-key
//! rotate`) write their own row in the transaction of the change; the command line adds
//! a row only when one of them fails. Rows name ids and flags, never key material: the
//! arguments are redacted like a tool call's before they are written.

use std::path::Path;
use std::time::Instant;

use anyhow::Context;
use orderdesk_vault::{AuditEntry, AuditSource, DataDirCheck, Vault, VaultError};
use serde_json::Value;

use crate::redact::redact_arguments;

/// Create the data directory private to its owner, or check an existing one (refused
/// when it belongs to someone else or others can write it; repaired to 0700, with a
/// warning, when it holds only our files and others can read it).
pub fn prepare_data_dir(dir: &Path) -> anyhow::Result<()> {
    match orderdesk_vault::secure_data_dir(dir)? {
        DataDirCheck::Repaired { was_mode } => tracing::warn!(
            data_dir = %dir.display(),
            "the data directory was readable by group or others (mode {was_mode:04o}); it holds \
             secrets, so its mode is now 0700"
        ),
        DataDirCheck::Created | DataDirCheck::Private => {}
    }
    Ok(())
}

/// One command-line operation, for its audit row.
pub struct CliOp {
    command: &'static str,
    tenant_id: Option<String>,
    store_id: Option<String>,
    arguments: Value,
    started: Instant,
}

impl CliOp {
    /// `command` as typed (`stores add`), with its arguments (never a key).
    pub fn new(command: &'static str, arguments: Value) -> CliOp {
        CliOp {
            command,
            tenant_id: None,
            store_id: None,
            arguments,
            started: Instant::now(),
        }
    }

    pub fn tenant(mut self, tenant_id: impl Into<String>) -> CliOp {
        self.tenant_id = Some(tenant_id.into());
        self
    }

    pub fn store(mut self, store_id: impl Into<String>) -> CliOp {
        self.store_id = Some(store_id.into());
        self
    }

    /// Record the operation's outcome (`ok`, or `error:KIND` as tool calls record
    /// theirs), then hand the result back. A failure to record fails the command: an
    /// operator's change must not go unaudited.
    pub fn finish<T>(self, vault: &Vault, result: anyhow::Result<T>) -> anyhow::Result<T> {
        let outcome = match &result {
            Ok(_) => "ok".to_string(),
            Err(error) => format!("error:{}", error_kind(error)),
        };
        self.record(vault, outcome)?;
        result
    }

    /// Record only a failure (the key-lifecycle operations record their success
    /// themselves).
    pub fn finish_failure<T>(self, vault: &Vault, result: anyhow::Result<T>) -> anyhow::Result<T> {
        if let Err(error) = &result {
            let outcome = format!("error:{}", error_kind(error));
            self.record(vault, outcome)?;
        }
        result
    }

    fn record(self, vault: &Vault, outcome: String) -> anyhow::Result<()> {
        let entry = AuditEntry {
            at: orderdesk_vault::utc_now(),
            tenant_id: self.tenant_id,
            store_id: self.store_id,
            tool: self.command.to_string(),
            arguments: redact_arguments(&self.arguments).to_string(),
            outcome,
            duration_ms: u64::try_from(self.started.elapsed().as_millis()).unwrap_or(u64::MAX),
            correlation_id: uuid::Uuid::new_v4().to_string(),
        };
        vault
            .record_audit_from(AuditSource::Cli, &entry)
            .context("cannot write the audit row of this command")
    }
}

/// The kind of a failure, as tool calls record theirs.
fn error_kind(error: &anyhow::Error) -> &'static str {
    match error.downcast_ref::<VaultError>() {
        Some(VaultError::Unauthenticated(_)) => "unauthorized",
        Some(VaultError::TooManyAttempts { .. }) => "rate_limited",
        Some(VaultError::NotFound(_)) => "not_found",
        Some(VaultError::Conflict(_) | VaultError::InvalidInput(_)) => "invalid_input",
        Some(VaultError::OriginMismatch { .. }) => "not_available",
        Some(VaultError::Decrypt | VaultError::Storage(_) | VaultError::Config(_)) => "internal",
        None => "failed",
    }
}
