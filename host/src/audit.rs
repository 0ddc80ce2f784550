//! The audit writer: tool calls hand their audit row to a background task, so writing
//! SQLite is not on the path of a call's answer. Rows that pile up while one batch is
//! written go in the next batch, in one transaction.
//!
//! A row is written within milliseconds of its call; [`AuditLog::flush`] (called when
//! the server shuts down) waits until every row handed over so far is in the database.
//! A process killed outright can lose the rows of its last few milliseconds.

use std::sync::Arc;

use orderdesk_vault::{AuditEntry, Vault};
use tokio::sync::{mpsc, oneshot};

enum Message {
    Entry(AuditEntry),
    Flush(oneshot::Sender<()>),
}

/// Handle to the audit writer task. Cheap to clone.
#[derive(Clone)]
pub struct AuditLog {
    tx: mpsc::UnboundedSender<Message>,
}

/// Rows written in one transaction at most.
const MAX_BATCH: usize = 256;

impl AuditLog {
    /// Start the writer for `vault` on the current tokio runtime.
    pub fn start(vault: Arc<Vault>) -> AuditLog {
        let (tx, mut rx) = mpsc::unbounded_channel::<Message>();
        tokio::spawn(async move {
            while let Some(first) = rx.recv().await {
                let mut entries = Vec::new();
                let mut flushes = Vec::new();
                let mut next = Some(first);
                while let Some(message) = next.take() {
                    match message {
                        Message::Entry(entry) => entries.push(entry),
                        Message::Flush(done) => flushes.push(done),
                    }
                    if entries.len() < MAX_BATCH {
                        next = rx.try_recv().ok();
                    }
                }
                if !entries.is_empty() {
                    let vault = vault.clone();
                    let count = entries.len();
                    let written =
                        tokio::task::spawn_blocking(move || vault.record_audits(&entries)).await;
                    match written {
                        Ok(Ok(())) => {}
                        Ok(Err(error)) => {
                            tracing::error!(error = %error, rows = count, "could not write the audit log")
                        }
                        Err(error) => {
                            tracing::error!(error = %error, rows = count, "the audit writer failed")
                        }
                    }
                }
                for done in flushes {
                    let _ = done.send(());
                }
            }
        });
        AuditLog { tx }
    }

    /// Hand over one row.
    pub fn record(&self, entry: AuditEntry) {
        if self.tx.send(Message::Entry(entry)).is_err() {
            tracing::error!("the audit writer has stopped; an audit row was lost");
        }
    }

    /// Wait until every row handed over before this call is written.
    pub async fn flush(&self) {
        let (done, wait) = oneshot::channel();
        if self.tx.send(Message::Flush(done)).is_ok() {
            let _ = wait.await;
        }
    }
}
