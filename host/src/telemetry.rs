//! Metrics for Prometheus: the names, their `# HELP` text, one small recording function
//! per thing counted, and [`Metrics`], the installed recorder that renders the text
//! format (`app::metrics_endpoint` serves it).
//!
//! Recording goes through the `metrics` facade, so it costs next to nothing until a
//! recorder is installed: `call` and `tools` never install one, `serve --metrics` (and
//! the HTTP server) do, with [`install`] — once per process however often it is called,
//! since the facade's recorder is global (the tests start several servers in one
//! process). The gateway records its own metrics (upstream requests, retries, cache,
//! pacer) through the same facade (`orderdesk_gateway::telemetry`); [`describe`] and
//! the histogram buckets here cover them too.
//!
//! Labels are bounded: a tool name (from the catalog), an outcome (`ok` or
//! `error:<kind>`, as in the audit log), a limit kind, an auth failure reason, an HTTP
//! method and status. Never a tenant, a store, an argument or an id.
//!
//! This module uses no other module of the host: every layer may record.

use std::sync::OnceLock;
use std::time::Duration;

use metrics::{
    Unit, counter, describe_counter, describe_gauge, describe_histogram, gauge, histogram,
};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use orderdesk_vault::VaultError;

pub use orderdesk_gateway::telemetry::{
    CACHE_HITS, CACHE_MISSES, PACER_WAIT, UPSTREAM_DURATION, UPSTREAM_RATE_LIMITED,
    UPSTREAM_REQUESTS, UPSTREAM_RETRIES,
};

/// Tool calls by `tool` and `outcome` (`ok`, `error:<kind>`).
pub const TOOL_CALLS: &str = "orderdesk_mcp_tool_calls_total";
/// Tool call latency by `tool`, validation to answer.
pub const TOOL_CALL_DURATION: &str = "orderdesk_mcp_tool_call_duration_seconds";
/// Component calls that hit a limit, by `kind` ([`Limit`]).
pub const LIMIT_HITS: &str = "orderdesk_mcp_component_limit_hits_total";
/// Component calls that trapped (a panic, `unreachable`, a bad memory access).
pub const TRAPS: &str = "orderdesk_mcp_component_traps_total";
/// MCP sessions being served.
pub const SESSIONS_ACTIVE: &str = "orderdesk_mcp_sessions_active";
/// Audit rows handed to the writer and not yet written (or given up).
pub const AUDIT_QUEUE_DEPTH: &str = "orderdesk_mcp_audit_queue_depth";
/// Audit rows written to the database.
pub const AUDIT_ROWS_WRITTEN: &str = "orderdesk_mcp_audit_rows_written_total";
/// Audit rows given up after the database kept refusing them.
pub const AUDIT_ROWS_FAILED: &str = "orderdesk_mcp_audit_rows_failed_total";
/// Attempts to write a batch of audit rows that the database refused (each retried).
pub const AUDIT_WRITE_ERRORS: &str = "orderdesk_mcp_audit_write_errors_total";
/// Failed authentications by `reason`.
pub const AUTH_FAILURES: &str = "orderdesk_mcp_auth_failures_total";
/// OrderDesk pushes received, by `outcome` (`recorded`, or why one was refused).
pub const WEBHOOKS: &str = "orderdesk_mcp_webhooks_total";
/// Always 1, with the server's `version` as a label.
pub const BUILD_INFO: &str = "orderdesk_mcp_build_info";

/// Every histogram's buckets, in seconds: from a bare tool call's tens of microseconds
/// to a call's whole time limit.
pub const LATENCY_BUCKETS: &[f64] = &[
    0.000_05, 0.000_1, 0.000_25, 0.000_5, 0.001, 0.002_5, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5,
    1.0, 2.5, 5.0, 10.0, 30.0, 60.0,
];

/// How often histogram samples are folded into their buckets between scrapes (so that
/// a server nobody scrapes does not keep every sample).
const UPKEEP_EVERY: Duration = Duration::from_secs(5);

/// The installed Prometheus recorder. Cheap to clone.
#[derive(Clone)]
pub struct Metrics {
    handle: PrometheusHandle,
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Metrics").finish_non_exhaustive()
    }
}

impl Metrics {
    /// Every metric so far, in Prometheus's text format (version 0.0.4).
    pub fn render(&self) -> String {
        // Publishes the descriptions and folds in the histograms' latest samples.
        self.handle.run_upkeep();
        self.handle.render()
    }
}

/// Install the Prometheus recorder for this process (the first call does; later calls
/// return the same one) and describe every metric.
pub fn install() -> Metrics {
    static INSTALLED: OnceLock<Metrics> = OnceLock::new();
    INSTALLED
        .get_or_init(|| {
            let recorder = builder().build_recorder();
            let handle = recorder.handle();
            match metrics::set_global_recorder(recorder) {
                Ok(()) => {
                    describe();
                    gauge!(BUILD_INFO, "version" => env!("CARGO_PKG_VERSION")).set(1.0);
                    start_upkeep(handle.clone());
                }
                // Only an embedding program could have installed another one first.
                Err(error) => tracing::warn!(
                    error = %error,
                    "another metrics recorder is installed: /metrics will stay empty"
                ),
            }
            Metrics { handle }
        })
        .clone()
}

/// The exporter's settings: explicit buckets for every histogram.
fn builder() -> PrometheusBuilder {
    let histograms = [TOOL_CALL_DURATION]
        .iter()
        .chain(orderdesk_gateway::telemetry::HISTOGRAMS);
    histograms.fold(PrometheusBuilder::new(), |builder, name| {
        builder
            .set_buckets_for_metric(Matcher::Full((*name).to_string()), LATENCY_BUCKETS)
            .expect("the buckets are not empty")
    })
}

fn start_upkeep(handle: PrometheusHandle) {
    let spawned = std::thread::Builder::new()
        .name("metrics-upkeep".into())
        .spawn(move || {
            loop {
                std::thread::sleep(UPKEEP_EVERY);
                handle.run_upkeep();
            }
        });
    if let Err(error) = spawned {
        // Scrapes still fold the samples in; between them they pile up.
        tracing::warn!(error = %error, "cannot start the metrics upkeep thread");
    }
}

/// Give every metric its `# HELP` line and unit.
pub fn describe() {
    describe_counter!(
        TOOL_CALLS,
        Unit::Count,
        "Tool calls by tool and outcome (ok, or error:<kind> as in the audit log)"
    );
    describe_histogram!(
        TOOL_CALL_DURATION,
        Unit::Seconds,
        "Tool call latency by tool, from validation to the answer"
    );
    describe_counter!(
        LIMIT_HITS,
        Unit::Count,
        "Component calls that hit a limit, by kind (memory, cpu_time, call_time, result_size, log_size)"
    );
    describe_counter!(
        TRAPS,
        Unit::Count,
        "Component calls that trapped (a panic, unreachable, a bad memory access)"
    );
    describe_gauge!(SESSIONS_ACTIVE, Unit::Count, "MCP sessions being served");
    describe_gauge!(
        AUDIT_QUEUE_DEPTH,
        Unit::Count,
        "Audit rows handed to the writer and not yet written"
    );
    describe_counter!(
        AUDIT_ROWS_WRITTEN,
        Unit::Count,
        "Audit rows written to the database"
    );
    describe_counter!(
        AUDIT_ROWS_FAILED,
        Unit::Count,
        "Audit rows given up after the database kept refusing them"
    );
    describe_counter!(
        AUDIT_WRITE_ERRORS,
        Unit::Count,
        "Audit batch writes the database refused (each is retried)"
    );
    describe_counter!(
        AUTH_FAILURES,
        Unit::Count,
        "Failed authentications by reason"
    );
    describe_counter!(
        WEBHOOKS,
        Unit::Count,
        "OrderDesk pushes received, by outcome (recorded, or why one was refused)"
    );
    describe_gauge!(
        BUILD_INFO,
        Unit::Count,
        "Always 1; the server's version is in the label"
    );
    orderdesk_gateway::telemetry::describe();
}

/// An OrderDesk push: `recorded`, or why it was refused (a fixed set of reasons).
pub fn webhook(outcome: &'static str) {
    counter!(WEBHOOKS, "outcome" => outcome).increment(1);
}

/// One tool call's outcome (`ok` or `error:<kind>`) and latency.
pub fn tool_call(tool: &str, outcome: &str, elapsed: Duration) {
    counter!(TOOL_CALLS, "tool" => tool.to_string(), "outcome" => outcome.to_string()).increment(1);
    histogram!(TOOL_CALL_DURATION, "tool" => tool.to_string()).record(elapsed.as_secs_f64());
}

/// A limit a component call ran into.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Limit {
    /// Linear memory (or table elements): the call was stopped.
    Memory,
    /// CPU time inside WebAssembly (the epoch deadline): the call was stopped.
    CpuTime,
    /// The call's wall-clock time, host calls included: the call was stopped.
    CallTime,
    /// The result was over the size limit: the call failed.
    ResultSize,
    /// The call's log output was cut at its limit (the call went on).
    LogSize,
}

impl Limit {
    pub fn as_str(self) -> &'static str {
        match self {
            Limit::Memory => "memory",
            Limit::CpuTime => "cpu_time",
            Limit::CallTime => "call_time",
            Limit::ResultSize => "result_size",
            Limit::LogSize => "log_size",
        }
    }
}

pub fn limit_hit(limit: Limit) {
    counter!(LIMIT_HITS, "kind" => limit.as_str()).increment(1);
}

pub fn trap() {
    counter!(TRAPS).increment(1);
}

/// An MCP session began. Pair it with [`session_closed`], or hold a [`SessionGuard`].
pub fn session_opened() {
    gauge!(SESSIONS_ACTIVE).increment(1.0);
}

/// An MCP session ended.
pub fn session_closed() {
    gauge!(SESSIONS_ACTIVE).decrement(1.0);
}

/// Counts one MCP session for as long as it is held. `app::Server::serve` holds one
/// (a stdio server is one session while it runs); a transport that serves sessions
/// another way holds one per session.
#[derive(Debug)]
#[must_use = "the session is counted only while the guard is held"]
pub struct SessionGuard(());

impl SessionGuard {
    pub fn open() -> SessionGuard {
        session_opened();
        SessionGuard(())
    }
}

impl Drop for SessionGuard {
    fn drop(&mut self) {
        session_closed();
    }
}

/// `rows` audit rows handed to the writer.
pub fn audit_queued(rows: usize) {
    gauge!(AUDIT_QUEUE_DEPTH).increment(rows as f64);
}

/// `rows` audit rows written.
pub fn audit_written(rows: usize) {
    gauge!(AUDIT_QUEUE_DEPTH).decrement(rows as f64);
    counter!(AUDIT_ROWS_WRITTEN).increment(rows as u64);
}

/// `rows` audit rows given up (lost).
pub fn audit_failed(rows: usize) {
    gauge!(AUDIT_QUEUE_DEPTH).decrement(rows as f64);
    counter!(AUDIT_ROWS_FAILED).increment(rows as u64);
}

/// The database refused a batch of audit rows (it is tried again).
pub fn audit_write_error() {
    counter!(AUDIT_WRITE_ERRORS).increment(1);
}

/// A failed authentication; `reason` is one of a fixed set, e.g. `invalid_master_key`,
/// `metrics_token`, or the HTTP transport's token reasons.
pub fn auth_failure(reason: &'static str) {
    counter!(AUTH_FAILURES, "reason" => reason).increment(1);
}

/// Count a failed master-key sign-in, if `error` is one (other vault errors are not
/// authentication failures).
pub fn master_key_failure(error: &VaultError) {
    if let Some(reason) = master_key_failure_reason(error) {
        auth_failure(reason);
    }
}

fn master_key_failure_reason(error: &VaultError) -> Option<&'static str> {
    match error {
        VaultError::Unauthenticated(_) => Some("invalid_master_key"),
        VaultError::TooManyAttempts { .. } => Some("sign_in_rate_limited"),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Records through a recorder of its own (not the process's), so tests running at
    /// the same time cannot move its numbers.
    fn recorded(record: impl FnOnce()) -> String {
        let recorder = builder().build_recorder();
        let handle = recorder.handle();
        metrics::with_local_recorder(&recorder, || {
            describe();
            record();
        });
        handle.run_upkeep();
        handle.render()
    }

    fn line<'a>(text: &'a str, start: &str) -> Option<&'a str> {
        text.lines().find(|l| l.starts_with(start))
    }

    #[test]
    fn tool_calls_are_counted_by_tool_and_outcome_with_latency_buckets() {
        let text = recorded(|| {
            tool_call("orders_get", "ok", Duration::from_micros(70));
            tool_call("orders_get", "ok", Duration::from_millis(30));
            tool_call("orders_get", "error:not_found", Duration::from_secs(2));
        });
        assert!(
            text.contains("# HELP orderdesk_mcp_tool_calls_total Tool calls by tool"),
            "{text}"
        );
        assert!(
            text.contains("orderdesk_mcp_tool_calls_total{tool=\"orders_get\",outcome=\"ok\"} 2"),
            "{text}"
        );
        assert!(text.contains("outcome=\"error:not_found\"} 1"), "{text}");
        let bucket = |le: &str| {
            let start = format!(
                "orderdesk_mcp_tool_call_duration_seconds_bucket{{tool=\"orders_get\",le=\"{le}\"}}"
            );
            line(&text, &start).unwrap_or_else(|| panic!("no bucket {le}:\n{text}"))[start.len()..]
                .trim()
                .to_string()
        };
        assert_eq!(bucket("0.00005"), "0");
        assert_eq!(bucket("0.0001"), "1");
        assert_eq!(bucket("0.05"), "2");
        assert_eq!(bucket("60"), "3");
        assert_eq!(bucket("+Inf"), "3");
    }

    #[test]
    fn sessions_and_the_audit_queue_go_up_and_down() {
        let text = recorded(|| {
            let one = SessionGuard::open();
            {
                let _two = SessionGuard::open();
            }
            // Still open when the recorder is read.
            std::mem::forget(one);
            audit_queued(5);
            audit_written(3);
            audit_failed(1);
            audit_write_error();
        });
        assert!(text.contains("orderdesk_mcp_sessions_active 1\n"), "{text}");
        assert!(
            text.contains("orderdesk_mcp_audit_queue_depth 1\n"),
            "{text}"
        );
        assert!(
            text.contains("orderdesk_mcp_audit_rows_written_total 3\n"),
            "{text}"
        );
        assert!(
            text.contains("orderdesk_mcp_audit_rows_failed_total 1\n"),
            "{text}"
        );
        assert!(
            text.contains("orderdesk_mcp_audit_write_errors_total 1\n"),
            "{text}"
        );
    }

    #[test]
    fn limit_kinds_and_auth_failures_are_labelled() {
        let text = recorded(|| {
            limit_hit(Limit::CpuTime);
            limit_hit(Limit::ResultSize);
            trap();
            master_key_failure(&VaultError::Unauthenticated("no".into()));
            master_key_failure(&VaultError::TooManyAttempts { retry_after_ms: 1 });
            // Not an authentication failure.
            master_key_failure(&VaultError::Storage("disk".into()));
            auth_failure("metrics_token");
        });
        assert!(text.contains("kind=\"cpu_time\"} 1"), "{text}");
        assert!(text.contains("kind=\"result_size\"} 1"), "{text}");
        assert!(
            text.contains("orderdesk_mcp_component_traps_total 1"),
            "{text}"
        );
        assert!(text.contains("reason=\"invalid_master_key\"} 1"), "{text}");
        assert!(
            text.contains("reason=\"sign_in_rate_limited\"} 1"),
            "{text}"
        );
        assert!(text.contains("reason=\"metrics_token\"} 1"), "{text}");
        assert_eq!(
            text.matches("orderdesk_mcp_auth_failures_total{").count(),
            3
        );
    }

    #[test]
    fn installing_twice_gives_the_same_recorder_with_the_build_info() {
        let _first = install();
        // Recorded through the global recorder the first call installed...
        counter!("orderdesk_mcp_test_installed_total").increment(1);
        // ...and seen through the handle the second call returns.
        let text = install().render();
        assert!(
            text.contains("orderdesk_mcp_test_installed_total 1"),
            "{text}"
        );
        assert!(
            text.contains(&format!(
                "orderdesk_mcp_build_info{{version=\"{}\"}} 1",
                env!("CARGO_PKG_VERSION")
            )),
            "{text}"
        );
        assert!(text.contains("# HELP orderdesk_mcp_build_info"), "{text}");
    }
}
