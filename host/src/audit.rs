//! The audit writer: tool calls hand their audit row to a background thread, so writing
//! SQLite is not on the path of a call's answer.
//!
//! Rows are written in batches, one transaction each: the writer collects the rows of
//! up to [`BATCH_WINDOW`] (or [`MAX_BATCH`] rows) and writes them together. A call
//! costs a push onto a queue; the writer wakes once per batch, not once per call, so a
//! busy session does not pay a thread wake-up and a SQLite transaction per call. Each
//! row carries the time of its call, not of the batch.
//!
//! [`AuditLog::flush`] (called when the server shuts down) waits until every row handed
//! over so far is in the database. A process killed outright can lose the rows of its
//! last batch window.

use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::Duration;

use orderdesk_vault::{AuditEntry, Vault};
use tokio::sync::oneshot;

/// How long the writer collects rows before writing them in one transaction.
const BATCH_WINDOW: Duration = Duration::from_millis(100);

/// Rows written in one transaction at most (a full batch is written at once).
const MAX_BATCH: usize = 512;

/// Handle to the audit writer thread. Cheap to clone; the thread writes what is left
/// and ends when the last handle is dropped.
#[derive(Clone)]
pub struct AuditLog {
    handle: Arc<Handle>,
}

/// Closes the queue when the last [`AuditLog`] goes.
struct Handle {
    shared: Arc<Shared>,
}

struct Shared {
    queue: Mutex<Queue>,
    /// Signalled when the writer has something to do: a first row, a full batch, a
    /// flush request or the end.
    work: Condvar,
}

#[derive(Default)]
struct Queue {
    rows: Vec<AuditEntry>,
    flushes: Vec<oneshot::Sender<()>>,
    closed: bool,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, Queue> {
        self.queue.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl AuditLog {
    /// Start the writer thread for `vault`.
    pub fn start(vault: Arc<Vault>) -> AuditLog {
        let shared = Arc::new(Shared {
            queue: Mutex::new(Queue::default()),
            work: Condvar::new(),
        });
        let writer = shared.clone();
        let spawned = std::thread::Builder::new()
            .name("audit-writer".into())
            .spawn(move || write_batches(&writer, &vault));
        if let Err(error) = spawned {
            // Without a writer, rows would pile up unwritten: say so loudly.
            tracing::error!(error = %error, "cannot start the audit writer; calls will not be audited");
            shared.lock().closed = true;
        }
        AuditLog {
            handle: Arc::new(Handle { shared }),
        }
    }

    /// Hand over one row. `entry.at` should hold the time of the call.
    pub fn record(&self, entry: AuditEntry) {
        let shared = &self.handle.shared;
        let mut queue = shared.lock();
        if queue.closed {
            tracing::error!("the audit writer has stopped; an audit row was lost");
            return;
        }
        queue.rows.push(entry);
        // Only the first row of a batch (the writer sleeps until there is one) and a
        // full batch need the writer awake; rows in between wait for the window to end.
        if queue.rows.len() == 1 || queue.rows.len() >= MAX_BATCH {
            shared.work.notify_one();
        }
    }

    /// Wait until every row handed over before this call is written.
    pub async fn flush(&self) {
        let (done, wait) = oneshot::channel();
        {
            let shared = &self.handle.shared;
            let mut queue = shared.lock();
            if queue.closed {
                return;
            }
            queue.flushes.push(done);
            shared.work.notify_one();
        }
        let _ = wait.await;
    }
}

impl Drop for Handle {
    fn drop(&mut self) {
        self.shared.lock().closed = true;
        self.shared.work.notify_one();
    }
}

/// The writer thread: wait for a first row, collect for a window, write, repeat.
fn write_batches(shared: &Shared, vault: &Vault) {
    loop {
        let (rows, flushes, closed) = {
            let mut queue = shared.lock();
            while queue.rows.is_empty() && queue.flushes.is_empty() && !queue.closed {
                queue = shared.work.wait(queue).unwrap_or_else(|e| e.into_inner());
            }
            if !queue.rows.is_empty() && queue.flushes.is_empty() && !queue.closed {
                // Let the batch fill; a flush, the end or a full batch cut it short.
                queue = shared
                    .work
                    .wait_timeout_while(queue, BATCH_WINDOW, |q| {
                        q.flushes.is_empty() && !q.closed && q.rows.len() < MAX_BATCH
                    })
                    .unwrap_or_else(|e| e.into_inner())
                    .0;
            }
            (
                std::mem::take(&mut queue.rows),
                std::mem::take(&mut queue.flushes),
                queue.closed,
            )
        };
        if !rows.is_empty()
            && let Err(error) = vault.record_audits(&rows)
        {
            tracing::error!(error = %error, rows = rows.len(), "could not write the audit log");
        }
        for done in flushes {
            let _ = done.send(());
        }
        if closed && shared.lock().rows.is_empty() {
            return;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(tool: &str) -> AuditEntry {
        AuditEntry {
            at: orderdesk_vault::utc_now(),
            tenant_id: None,
            store_id: None,
            tool: tool.into(),
            arguments: "{}".into(),
            outcome: "ok".into(),
            duration_ms: 1,
            correlation_id: "c".into(),
        }
    }

    fn vault(dir: &std::path::Path) -> Arc<Vault> {
        Arc::new(
            Vault::open(
                dir,
                orderdesk_vault::VaultOptions {
                    bcrypt_cost: 4,
                    ..Default::default()
                },
            )
            .expect("a vault in a temp dir"),
        )
    }

    #[tokio::test]
    async fn flush_writes_every_row_handed_over_before_it() {
        let dir = tempfile::tempdir().unwrap();
        let vault = vault(dir.path());
        let log = AuditLog::start(vault.clone());
        for i in 0..1_000 {
            log.record(entry(&format!("tool_{i}")));
        }
        log.flush().await;
        let rows = vault.audit_entries(None, 2_000).unwrap();
        assert_eq!(rows.len(), 1_000);
    }

    #[tokio::test]
    async fn rows_reach_the_database_without_a_flush() {
        let dir = tempfile::tempdir().unwrap();
        let vault = vault(dir.path());
        let log = AuditLog::start(vault.clone());
        log.record(entry("one"));
        log.record(entry("two"));
        // Written when the batch window closes; generous bound for a loaded machine.
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        while vault.audit_entries(None, 10).unwrap().len() < 2 {
            assert!(std::time::Instant::now() < deadline, "rows never written");
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        drop(log);
    }

    #[tokio::test]
    async fn dropping_the_last_handle_writes_what_is_left() {
        let dir = tempfile::tempdir().unwrap();
        let vault = vault(dir.path());
        let log = AuditLog::start(vault.clone());
        log.record(entry("last"));
        drop(log);
        // The writer ends after writing; give it the length of a window to do so.
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        while vault.audit_entries(None, 10).unwrap().is_empty() {
            assert!(
                std::time::Instant::now() < deadline,
                "the row was never written"
            );
            std::thread::sleep(Duration::from_millis(10));
        }
    }
}
