//! Work on many records in one call, within the call's budget: a result per record, one
//! record's failure not stopping the others, progress reported as it goes, and — when
//! the call's time or the answer's room runs short — an answer that says what was done,
//! what was not, and the exact arguments to resume with.
//!
//! Requests go one after another through the host, which paces them per store and per
//! tenant: a bulk tool never sends in parallel, it just asks before each step whether
//! there is still room for one ([`Bulk::may_continue`]).
//!
//! ```
//! use orderdesk_store_api::bulk::{Budget, Bulk};
//! use orderdesk_tool_kit::{ToolError, testing::MockHost};
//! use serde_json::json;
//!
//! let host = MockHost::with_store();
//! let ids = ["1", "2", "3"];
//! let mut bulk = Bulk::new("demo_touch_many", "order", ids.len())
//!     .with_budget(|| Budget { time_left_ms: 60_000, result_bytes: 60 * 1024 });
//! let mut next = 0;
//! while next < ids.len() && bulk.may_continue() {
//!     let outcome = if ids[next] == "2" {
//!         Err(ToolError::NotFound("order 2 was not found".into()))
//!     } else {
//!         Ok(json!({"status": "updated"}))
//!     };
//!     if bulk.done(json!({"order_id": ids[next]}), outcome).retry() {
//!         break;
//!     }
//!     next += 1;
//! }
//! let answer = bulk.finish(json!({"order_ids": ids[next..]}));
//! assert_eq!(answer["complete"], true);
//! assert_eq!(answer["summary"], json!({"requested": 3, "succeeded": 2, "failed": 1, "not_attempted": 0}));
//! assert_eq!(answer["results"][1]["error"]["kind"], "not_found");
//! assert_eq!(host.progress().len(), 3);
//! ```

use orderdesk_tool_kit::args::invalid;
use orderdesk_tool_kit::errors::conflict_message;
use orderdesk_tool_kit::{ToolError, session};
use serde_json::{Value, json};

/// What the current call may still spend: `time_left_ms` before the host stops it,
/// `result_bytes` of answer the model should get at most (the host's
/// `session::budget`).
pub use orderdesk_tool_kit::session::CallBudget as Budget;

/// The current call's budget, from the host.
pub fn budget() -> Budget {
    session::budget()
}

/// Never start a step with less time than this left: what a step needs at the least
/// (the gateway starts no request with less than a second left, and a step is one or
/// two requests, each possibly waiting its turn in the store's pacing).
const MIN_RESERVE_MS: u32 = 5_000;

/// Room kept in the answer for the summary, the stop reason and the resume arguments'
/// envelope.
const ANSWER_RESERVE_BYTES: usize = 2_048;

/// Stop after this many OrderDesk failures in a row: OrderDesk is failing, not the
/// records.
const MAX_UPSTREAM_FAILURES_IN_A_ROW: u32 = 3;

/// What a bulk tool does after a record ([`Bulk::done`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Next {
    /// Go on with the next record (if [`Bulk::may_continue`] agrees).
    Continue,
    /// Stop; the record is done (succeeded or failed) and not to be resumed.
    Stop,
    /// Stop; the record was not applied (OrderDesk's rate limit refused it) and belongs
    /// to the resume arguments.
    Retry,
}

impl Next {
    /// Whether the record belongs to the resume arguments.
    pub fn retry(self) -> bool {
        self == Next::Retry
    }

    /// Whether to stop after this record.
    pub fn stop(self) -> bool {
        self != Next::Continue
    }
}

/// One bulk call under way: the results so far and whether there is room for more.
pub struct Bulk<'a> {
    tool: &'a str,
    noun: &'a str,
    total: usize,
    results: Vec<Value>,
    answer_bytes: usize,
    largest_result: usize,
    succeeded: usize,
    failed: usize,
    upstream_failures_in_a_row: u32,
    slowest_step_ms: u32,
    last_time_left_ms: Option<u32>,
    stopped: Option<String>,
    store_id: Option<Value>,
    budget: Box<dyn FnMut() -> Budget + 'a>,
}

impl<'a> Bulk<'a> {
    /// A run of `tool` over `total` records, each called `noun` in progress messages.
    pub fn new(tool: &'a str, noun: &'a str, total: usize) -> Self {
        Bulk {
            tool,
            noun,
            total,
            results: Vec::new(),
            answer_bytes: 0,
            largest_result: 0,
            succeeded: 0,
            failed: 0,
            upstream_failures_in_a_row: 0,
            slowest_step_ms: 0,
            last_time_left_ms: None,
            stopped: None,
            store_id: None,
            budget: Box::new(budget),
        }
    }

    /// Read the budget from `budget` instead of the host (for tests).
    pub fn with_budget(mut self, budget: impl FnMut() -> Budget + 'a) -> Self {
        self.budget = Box::new(budget);
        self
    }

    /// Whether to start the next step. False once the run was stopped, or when the time
    /// left is less than twice the slowest step so far (at least `MIN_RESERVE_MS`),
    /// or the answer would outgrow the budget's result size; the reason goes into the
    /// answer.
    pub fn may_continue(&mut self) -> bool {
        if self.stopped.is_some() {
            return false;
        }
        let budget = (self.budget)();
        if let Some(last) = self.last_time_left_ms {
            let step = last.saturating_sub(budget.time_left_ms);
            self.slowest_step_ms = self.slowest_step_ms.max(step);
        }
        self.last_time_left_ms = Some(budget.time_left_ms);
        let reserve = MIN_RESERVE_MS.max(self.slowest_step_ms.saturating_mul(2));
        if budget.time_left_ms < reserve {
            self.stop(format!(
                "the call's time was nearly up ({} ms left, a step takes up to {} ms)",
                budget.time_left_ms, self.slowest_step_ms
            ));
            return false;
        }
        let needed = self.answer_bytes + self.largest_result + ANSWER_RESERVE_BYTES;
        if needed > budget.result_bytes as usize {
            self.stop(format!(
                "the answer reached its size budget ({} bytes)",
                budget.result_bytes
            ));
            return false;
        }
        true
    }

    /// Record the outcome of one record, named by `record` (an object such as
    /// `{"order_id": "7"}`): on success the outcome's fields (e.g. `{"status":
    /// "updated"}`, a `store_id` is lifted into the answer), on failure `status:
    /// "failed"` and the error's kind and message. Reports progress, and says whether
    /// to go on.
    pub fn done(&mut self, record: Value, outcome: Result<Value, ToolError>) -> Next {
        let mut result = record;
        let next = match outcome {
            Ok(Value::Object(fields)) => {
                for (key, value) in fields {
                    if key == "store_id" {
                        self.store_id = Some(value);
                    } else {
                        result[key] = value;
                    }
                }
                self.succeeded += 1;
                self.upstream_failures_in_a_row = 0;
                Next::Continue
            }
            Ok(other) => {
                result["status"] = other;
                self.succeeded += 1;
                self.upstream_failures_in_a_row = 0;
                Next::Continue
            }
            Err(ToolError::RateLimited(ms)) => {
                self.stop(format!(
                    "OrderDesk's rate limit is spent: wait {:.1} s, then resume",
                    f64::from(ms) / 1000.0
                ));
                return Next::Retry;
            }
            Err(error) => return self.failed(result, error),
        };
        self.push(result);
        next
    }

    /// Record that `record` failed with `error`, whatever the error (a rate limit
    /// included: the record is not resumed, its result says to retry it), and say
    /// whether to go on. See [`Bulk::done`].
    pub fn failed(&mut self, record: Value, error: ToolError) -> Next {
        let next = self.after_failure(&error);
        let (kind, message) = kind_and_message(error);
        let mut result = record;
        result["status"] = json!("failed");
        result["error"] = json!({"kind": kind, "message": message});
        self.failed += 1;
        self.push(result);
        next
    }

    /// Keep a result and report progress.
    fn push(&mut self, result: Value) {
        let size = result.to_string().len() + 1;
        self.answer_bytes += size;
        self.largest_result = self.largest_result.max(size);
        self.results.push(result);
        let finished = self.succeeded + self.failed;
        session::report_progress(
            finished as f64,
            Some(self.total as f64),
            Some(&format!(
                "{finished} of {} {}s done ({} failed)",
                self.total, self.noun, self.failed
            )),
        );
    }

    /// Whether a failed record stops the run: when OrderDesk or the session, not the
    /// record, is at fault.
    fn after_failure(&mut self, error: &ToolError) -> Next {
        match error {
            ToolError::RateLimited(ms) => {
                self.stop(format!(
                    "OrderDesk's rate limit is spent: wait {:.1} s, then resume",
                    f64::from(*ms) / 1000.0
                ));
                Next::Stop
            }
            ToolError::OutcomeUnknown(_) => {
                self.stop(format!(
                    "OrderDesk did not confirm a write (see the failed {} with kind \
                     outcome_unknown): check it before resuming",
                    self.noun
                ));
                Next::Stop
            }
            ToolError::Unauthorized(_) | ToolError::Internal(_) => {
                self.stop("a failure no other record would escape (see the last failed one)");
                Next::Stop
            }
            ToolError::Upstream(_) => {
                self.upstream_failures_in_a_row += 1;
                if self.upstream_failures_in_a_row >= MAX_UPSTREAM_FAILURES_IN_A_ROW {
                    self.stop(format!(
                        "OrderDesk failed for {} {}s in a row",
                        self.upstream_failures_in_a_row, self.noun
                    ));
                    Next::Stop
                } else {
                    Next::Continue
                }
            }
            _ => {
                self.upstream_failures_in_a_row = 0;
                Next::Continue
            }
        }
    }

    /// Stop the run, saying why (the first reason is kept).
    pub fn stop(&mut self, reason: impl Into<String>) {
        self.stopped.get_or_insert_with(|| reason.into());
    }

    /// The store the records are in, when no result carried it.
    pub fn store(&mut self, store_id: &str) {
        self.store_id.get_or_insert_with(|| json!(store_id));
    }

    /// How many records have a result so far.
    pub fn finished(&self) -> usize {
        self.results.len()
    }

    /// The answer: `results` (one per record attempted, in order), `summary`,
    /// `complete`, and while records are left, why it `stopped` and `resume`: the
    /// tool and `arguments`, the exact arguments to call it with for the records left
    /// (`remaining`, the tool's arguments holding only those).
    pub fn finish(self, remaining: Value) -> Value {
        let attempted = self.results.len();
        let not_attempted = self.total.saturating_sub(attempted);
        let complete = not_attempted == 0;
        let mut answer = json!({
            "results": self.results,
            "summary": {
                "requested": self.total,
                "succeeded": self.succeeded,
                "failed": self.failed,
                "not_attempted": not_attempted,
            },
            "complete": complete,
        });
        if !complete {
            answer["stopped"] = json!(
                self.stopped
                    .unwrap_or_else(|| "the call stopped early".to_string())
            );
            answer["resume"] = json!({"tool": self.tool, "arguments": remaining});
        }
        if let Some(store_id) = self.store_id {
            answer["store_id"] = store_id;
        }
        answer
    }
}

/// `Ok` when a bulk tool's list `field` holds 1 to `max` entries; otherwise the
/// `invalid-input` that says to split it (`nouns` names the entries, e.g. `orders`).
///
/// ```
/// use orderdesk_store_api::bulk::check_count;
///
/// assert!(check_count("updates", 3, 100, "orders").is_ok());
/// assert!(check_count("updates", 0, 100, "orders").is_err());
/// ```
pub fn check_count(field: &str, count: usize, max: usize, nouns: &str) -> Result<(), ToolError> {
    if count == 0 || count > max {
        return Err(invalid(format!(
            "`{field}` must hold 1 to {max} {nouns}; split a longer list over several calls"
        )));
    }
    Ok(())
}

/// A tool error as the model reads it in a result (`error.kind` as the host names it).
pub fn kind_and_message(error: ToolError) -> (&'static str, String) {
    if let Some(message) = conflict_message(&error) {
        return ("conflict", message.to_string());
    }
    match error {
        ToolError::InvalidInput(m) => ("invalid_input", m),
        ToolError::NotFound(m) => ("not_found", m),
        ToolError::Unauthorized(m) => ("unauthorized", m),
        ToolError::RateLimited(ms) => ("rate_limited", format!("retry after {ms} ms")),
        ToolError::Upstream(m) => ("upstream", m),
        ToolError::OutcomeUnknown(m) => ("outcome_unknown", m),
        ToolError::Internal(m) => ("internal", m),
    }
}

/// The output schema of a bulk tool whose results hold `record` (the properties naming
/// a record and its outcome besides `status` and `error`).
///
/// ```
/// let schema = orderdesk_store_api::bulk::output_schema(serde_json::json!({"order_id": {"type": "string"}}));
/// assert_eq!(schema["properties"]["results"]["items"]["properties"]["order_id"]["type"], "string");
/// ```
pub fn output_schema(record: Value) -> Value {
    let mut properties = match record {
        Value::Object(properties) => properties,
        _ => serde_json::Map::new(),
    };
    properties.insert(
        "status".to_string(),
        json!({"type": "string",
               "description": "What happened to this record; `failed` with `error`."}),
    );
    properties.insert(
        "error".to_string(),
        json!({"type": "object", "required": ["kind", "message"],
               "properties": {"kind": {"type": "string"}, "message": {"type": "string"}}}),
    );
    json!({
        "type": "object",
        "required": ["results", "summary", "complete"],
        "properties": {
            "results": {
                "type": "array",
                "description": "One result per record attempted, in the order given.",
                "items": {"type": "object", "required": ["status"], "properties": properties}
            },
            "summary": {
                "type": "object",
                "required": ["requested", "succeeded", "failed", "not_attempted"],
                "properties": {
                    "requested": {"type": "integer"},
                    "succeeded": {"type": "integer"},
                    "failed": {"type": "integer"},
                    "not_attempted": {"type": "integer"}
                }
            },
            "complete": {"type": "boolean",
                         "description": "Every record was attempted (some may have failed)."},
            "stopped": {"type": "string", "description": "Why the call stopped early."},
            "resume": {
                "type": "object",
                "description": "Present when records were not attempted: call `tool` with \
                                exactly `arguments` to go on with them.",
                "required": ["tool", "arguments"],
                "properties": {"tool": {"type": "string"}, "arguments": {"type": "object"}}
            },
            "note": {"type": "string"},
            "store_id": {"type": "string"}
        }
    })
}

#[cfg(test)]
mod tests {
    use std::cell::Cell;

    use orderdesk_tool_kit::testing::MockHost;

    use super::*;

    #[test]
    fn a_run_stops_when_the_time_left_would_not_fit_two_of_its_slowest_steps() {
        let _host = MockHost::with_store();
        let left = Cell::new(30_000u32);
        let mut bulk = Bulk::new("demo_many", "order", 10).with_budget(|| Budget {
            time_left_ms: left.get(),
            result_bytes: 60_000,
        });
        let mut done = 0;
        while done < 10 && bulk.may_continue() {
            bulk.done(
                json!({"order_id": done.to_string()}),
                Ok(json!({"status": "updated"})),
            );
            done += 1;
            // Each step takes 6 s: after 4 of them 6 s are left, less than 2 × 6 s.
            left.set(left.get() - 6_000);
        }
        assert_eq!(done, 4);
        let answer = bulk.finish(json!({"order_ids": ["4", "5"]}));
        assert_eq!(answer["complete"], false);
        assert_eq!(answer["summary"]["not_attempted"], 6);
        assert!(
            answer["stopped"]
                .as_str()
                .unwrap()
                .contains("time was nearly up"),
            "{answer}"
        );
        assert_eq!(
            answer["resume"],
            json!({"tool": "demo_many", "arguments": {"order_ids": ["4", "5"]}})
        );
    }

    #[test]
    fn the_rate_limit_stops_the_run_and_leaves_the_record_to_resume() {
        let _host = MockHost::with_store();
        let mut bulk = Bulk::new("demo_many", "order", 3).with_budget(|| Budget {
            time_left_ms: 60_000,
            result_bytes: 60_000,
        });
        assert!(bulk.may_continue());
        assert_eq!(
            bulk.done(
                json!({"order_id": "1"}),
                Ok(json!({"status": "updated", "store_id": "100001"}))
            ),
            Next::Continue
        );
        assert_eq!(
            bulk.done(json!({"order_id": "2"}), Err(ToolError::RateLimited(1500))),
            Next::Retry
        );
        assert!(!bulk.may_continue());
        let answer = bulk.finish(json!({"order_ids": ["2", "3"]}));
        assert_eq!(answer["summary"]["not_attempted"], 2);
        assert_eq!(answer["store_id"], "100001");
        assert!(
            answer["stopped"].as_str().unwrap().contains("1.5 s"),
            "{answer}"
        );
    }

    #[test]
    fn failures_of_single_records_go_on_but_orderdesk_failing_in_a_row_stops() {
        let _host = MockHost::with_store();
        let mut bulk = Bulk::new("demo_many", "order", 9).with_budget(|| Budget {
            time_left_ms: 60_000,
            result_bytes: 60_000,
        });
        let not_found = || Err(ToolError::NotFound("gone".into()));
        let upstream = || Err(ToolError::Upstream("HTTP 500".into()));
        assert_eq!(bulk.done(json!({"id": "1"}), not_found()), Next::Continue);
        assert_eq!(bulk.done(json!({"id": "2"}), upstream()), Next::Continue);
        assert_eq!(bulk.done(json!({"id": "3"}), upstream()), Next::Continue);
        assert_eq!(bulk.done(json!({"id": "4"}), upstream()), Next::Stop);
        let answer = bulk.finish(json!({}));
        assert_eq!(answer["summary"]["failed"], 4);
        assert_eq!(answer["results"][0]["status"], "failed");
        assert!(
            answer["stopped"]
                .as_str()
                .unwrap()
                .contains("3 orders in a row")
        );
    }

    #[test]
    fn a_run_stops_before_its_answer_outgrows_the_result_budget() {
        let _host = MockHost::with_store();
        let mut bulk = Bulk::new("demo_many", "order", 100).with_budget(|| Budget {
            time_left_ms: 60_000,
            result_bytes: 4_096,
        });
        let mut done = 0;
        while done < 100 && bulk.may_continue() {
            bulk.done(
                json!({"id": done, "note": "x".repeat(200)}),
                Ok(json!({"status": "ok"})),
            );
            done += 1;
        }
        assert!(done > 5 && done < 12, "{done}");
        let answer = bulk.finish(json!({}));
        assert!(
            answer.to_string().len() < 4_096,
            "{}",
            answer.to_string().len()
        );
    }
}
