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
//! last batch window (an OrderDesk write has its own intent row, written before the
//! request leaves, so it is never among them). A batch the database refuses is tried
//! again, then kept for the next batch — never dropped silently: rows are given up only
//! past [`MAX_UNWRITTEN`] or when the server stops with the database still refusing
//! them, and the log says how many. The queue's depth, the rows written and given up
//! and the refused batches are metrics too (`telemetry`).

use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::Duration;

use orderdesk_vault::{AuditEntry, Vault, VaultError};
use tokio::sync::oneshot;

use crate::telemetry;

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

/// Where audit rows go: the vault (tests give a store that refuses on purpose).
pub trait AuditStore: Send + Sync + 'static {
    fn record_audits(&self, rows: &[AuditEntry]) -> Result<(), VaultError>;
}

impl AuditStore for Vault {
    fn record_audits(&self, rows: &[AuditEntry]) -> Result<(), VaultError> {
        Vault::record_audits(self, rows)
    }
}

impl AuditLog {
    /// Start the writer thread for `vault`.
    pub fn start(vault: Arc<Vault>) -> AuditLog {
        AuditLog::start_with(vault)
    }

    /// Start the writer thread for any [`AuditStore`].
    pub fn start_with(vault: Arc<dyn AuditStore>) -> AuditLog {
        let shared = Arc::new(Shared {
            queue: Mutex::new(Queue::default()),
            work: Condvar::new(),
        });
        let writer = shared.clone();
        let spawned = std::thread::Builder::new()
            .name("audit-writer".into())
            .spawn(move || write_batches(&writer, vault.as_ref()));
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
            telemetry::audit_queued(1);
            telemetry::audit_failed(1);
            return;
        }
        queue.rows.push(entry);
        telemetry::audit_queued(1);
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

/// Attempts to write a batch before it is put back in the queue.
const WRITE_ATTEMPTS: u32 = 3;

/// Pause between a batch's attempts, and before the writer tries again after failing.
const RETRY_PAUSE: Duration = Duration::from_millis(500);

/// Rows kept in memory while the database refuses them.
const MAX_UNWRITTEN: usize = 100_000;

/// Batches tried after the last handle went before unwritable rows are given up.
const CLOSE_ATTEMPTS: u32 = 3;

/// Write `rows`, trying again a few times; the rows back when every attempt failed.
fn write_with_retries(
    vault: &dyn AuditStore,
    rows: Vec<AuditEntry>,
) -> Result<(), Vec<AuditEntry>> {
    for attempt in 1..=WRITE_ATTEMPTS {
        match vault.record_audits(&rows) {
            Ok(()) => {
                telemetry::audit_written(rows.len());
                if attempt > 1 {
                    tracing::info!(
                        rows = rows.len(),
                        attempt,
                        "audit rows written after a retry"
                    );
                }
                return Ok(());
            }
            Err(error) => {
                telemetry::audit_write_error();
                tracing::error!(error = %error, rows = rows.len(), attempt, "could not write the audit log; will retry");
                if attempt < WRITE_ATTEMPTS {
                    std::thread::sleep(RETRY_PAUSE);
                }
            }
        }
    }
    Err(rows)
}

fn gave_up_at_close(attempts: &mut u32) -> bool {
    *attempts += 1;
    *attempts > CLOSE_ATTEMPTS
}

/// The writer thread: wait for a first row, collect for a window, write, repeat.
fn write_batches(shared: &Shared, vault: &dyn AuditStore) {
    let mut close_attempts = 0;
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
            && let Err(unwritten) = write_with_retries(vault, rows)
        {
            // Kept for the next batch rather than dropped: put back in front of what
            // arrived meanwhile (bounded, so a database that stays broken cannot eat
            // the host's memory; what goes is counted in the log).
            let mut queue = shared.lock();
            let mut rows = unwritten;
            rows.append(&mut queue.rows);
            if rows.len() > MAX_UNWRITTEN {
                let dropped = rows.len() - MAX_UNWRITTEN;
                rows.drain(..dropped);
                telemetry::audit_failed(dropped);
                tracing::error!(
                    rows = dropped,
                    "the audit log is still unwritable: the oldest rows were dropped"
                );
            }
            queue.rows = rows;
            drop(queue);
            if !closed {
                std::thread::sleep(RETRY_PAUSE);
            }
        }
        for done in flushes {
            let _ = done.send(());
        }
        if closed {
            let left = shared.lock().rows.len();
            if left == 0 {
                return;
            }
            if gave_up_at_close(&mut close_attempts) {
                telemetry::audit_failed(left);
                tracing::error!(
                    rows = left,
                    "the server is stopping and the audit log is unwritable: rows lost"
                );
                return;
            }
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

    /// Refuses the first `failures` batches, then keeps what it is given.
    struct FlakyStore {
        failures: Mutex<u32>,
        rows: Mutex<Vec<AuditEntry>>,
    }

    impl AuditStore for FlakyStore {
        fn record_audits(&self, rows: &[AuditEntry]) -> Result<(), VaultError> {
            let mut failures = self.failures.lock().unwrap();
            if *failures > 0 {
                *failures -= 1;
                return Err(VaultError::Storage("database is locked".into()));
            }
            self.rows.lock().unwrap().extend_from_slice(rows);
            Ok(())
        }
    }

    #[tokio::test]
    async fn a_batch_the_database_refuses_is_kept_and_written_once_it_can_be() {
        // More failures than one batch's attempts: the rows must survive into a later
        // batch, together with those that arrived meanwhile.
        let store = Arc::new(FlakyStore {
            failures: Mutex::new(WRITE_ATTEMPTS + 1),
            rows: Mutex::default(),
        });
        let log = AuditLog::start_with(store.clone());
        for i in 0..10 {
            log.record(entry(&format!("while_refused_{i}")));
        }
        tokio::time::sleep(BATCH_WINDOW).await;
        log.record(entry("later"));
        log.flush().await;
        let deadline = std::time::Instant::now() + Duration::from_secs(20);
        while store.rows.lock().unwrap().len() < 11 {
            assert!(std::time::Instant::now() < deadline, "rows were lost");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let rows = store.rows.lock().unwrap();
        assert_eq!(rows.len(), 11);
        assert_eq!(rows[0].tool, "while_refused_0", "kept in order");
        assert_eq!(rows[10].tool, "later");
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
