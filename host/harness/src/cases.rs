//! Case files: what `orderdesk-mcp component test` runs.

use std::path::Path;

use anyhow::Context;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::{CallOutcome, Exchange, Harness, HarnessOptions};
use orderdesk_host::grants::Grants;

/// The file of `orderdesk-mcp component test`:
///
/// ```json
/// {
///   "session": {"authenticated": true, "store": {"store_id": "100001", "name": "main"}},
///   "cases": [{
///     "name": "lists five orders",
///     "tool": "order_summary_recent",
///     "arguments": {"limit": 5},
///     "orderdesk": [
///       {"request": {"method": "GET", "path": "/orders", "query": {"limit": "5"}},
///        "response": {"status": 200, "body": {"status": "success", "orders": []}}}
///     ],
///     "expect": {"ok": {"count": 0}}
///   }]
/// }
/// ```
///
/// `expect` is `{"ok": SUBSET}` (the result must contain SUBSET: objects key by key,
/// arrays element by element) or `{"error": {"kind": "invalid_input", "contains": "limit"}}`
/// (both fields optional). A `failure` instead of `response` simulates what the gateway
/// reports: `{"kind": "rate_limited", "retry_after_ms": 2000}`, `{"kind": "upstream",
/// "status": 503, "message": "…"}`, `{"kind": "outcome_unknown", "message": "…"}`,
/// `{"kind": "transport", "message": "…"}`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CaseFile {
    #[serde(default)]
    pub session: Option<SessionSpec>,
    pub cases: Vec<Case>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SessionSpec {
    #[serde(default = "yes")]
    pub authenticated: bool,
    #[serde(default)]
    pub store: Option<StoreSpec>,
}

fn yes() -> bool {
    true
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StoreSpec {
    pub store_id: String,
    pub name: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Case {
    pub name: String,
    pub tool: String,
    #[serde(default = "empty_object")]
    pub arguments: Value,
    #[serde(default)]
    pub orderdesk: Vec<Exchange>,
    pub expect: Expectation,
}

fn empty_object() -> Value {
    Value::Object(Default::default())
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum Expectation {
    Ok(Value),
    Error(ErrorExpectation),
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ErrorExpectation {
    #[serde(default)]
    pub kind: Option<String>,
    #[serde(default)]
    pub contains: Option<String>,
}

/// One case's verdict.
#[derive(Debug, Serialize)]
pub struct CaseResult {
    pub name: String,
    /// Empty when the case passed.
    pub failures: Vec<String>,
}

/// Run every case of `cases` against the component at `wasm` with `grants`.
pub async fn run_case_file(
    wasm: &Path,
    cases: &Path,
    grants: Grants,
) -> anyhow::Result<Vec<CaseResult>> {
    let text = std::fs::read_to_string(cases)
        .with_context(|| format!("cannot read {}", cases.display()))?;
    let file: CaseFile = serde_json::from_str(&text).with_context(|| {
        format!(
            "{} is not a valid case file (see `orderdesk-mcp component test --help`)",
            cases.display()
        )
    })?;
    let mut options = match &file.session {
        Some(SessionSpec {
            authenticated: false,
            ..
        }) => HarnessOptions::anonymous(grants),
        Some(SessionSpec {
            store: Some(store), ..
        }) => {
            let mut o = HarnessOptions::with_store(grants);
            o.store = Some((store.store_id.clone(), store.name.clone()));
            o
        }
        Some(SessionSpec { store: None, .. }) => {
            let mut o = HarnessOptions::with_store(grants);
            o.store = None;
            o
        }
        None => HarnessOptions::with_store(grants),
    };
    options.grants = grants;
    let harness = Harness::load(wasm, options).await?;
    let mut results = Vec::new();
    for case in file.cases {
        harness.reset();
        for exchange in case.orderdesk {
            harness.expect(exchange);
        }
        let outcome = harness.call(&case.tool, case.arguments).await;
        let mismatch = harness.verify().err();
        let mut failures: Vec<String> = mismatch.iter().map(|m| m.0.clone()).collect();
        match outcome {
            Err(e) => failures.push(format!("{e:#}")),
            // The component answered with the script's refusal of its request (as an
            // error, or in a result): the verdict above says why, and the component's
            // echo of it would only repeat it.
            Ok(outcome) if mismatch.is_some() && echoes_refusal(&outcome) => {}
            Ok(outcome) => failures.extend(unmet_expectation(&case.expect, &outcome)),
        }
        results.push(CaseResult {
            name: case.name,
            failures,
        });
    }
    Ok(results)
}

/// Whether a call's answer passes on the script's refusal of a request (the
/// `upstream` 599 whose message starts `test harness:`).
fn echoes_refusal(outcome: &CallOutcome) -> bool {
    outcome.text.contains("test harness: ")
}

/// How the outcome of a call misses what the case expects (nothing when it meets it).
fn unmet_expectation(expect: &Expectation, outcome: &CallOutcome) -> Vec<String> {
    match expect {
        Expectation::Ok(_) if outcome.is_error => {
            vec![format!("expected success, got an error: {}", outcome.text)]
        }
        Expectation::Ok(subset) => contains_subset(&outcome.value, subset, "$")
            .err()
            .map(|path| {
                format!(
                    "the result differs at {path}:\n  expected (subset): {subset}\n  actual:            {}",
                    outcome.value
                )
            })
            .into_iter()
            .collect(),
        Expectation::Error(_) if !outcome.is_error => {
            vec![format!("expected an error, got a result: {}", outcome.value)]
        }
        Expectation::Error(expected) => {
            let mut problems = Vec::new();
            if let Some(kind) = &expected.kind
                && outcome.error_kind() != Some(kind.as_str())
            {
                problems.push(format!(
                    "expected an error of kind `{kind}`, got `{}`: {}",
                    outcome.error_kind().unwrap_or("?"),
                    outcome.text
                ));
            }
            if let Some(needle) = &expected.contains
                && !outcome.text.contains(needle.as_str())
            {
                problems.push(format!(
                    "the error does not mention `{needle}`: {}",
                    outcome.text
                ));
            }
            problems
        }
    }
}

/// Whether `actual` contains `subset`; on a difference, the JSON path where it is.
pub fn contains_subset(actual: &Value, subset: &Value, path: &str) -> Result<(), String> {
    match (actual, subset) {
        (Value::Object(actual), Value::Object(subset)) => {
            for (key, expected) in subset {
                let here = format!("{path}.{key}");
                match actual.get(key) {
                    Some(value) => contains_subset(value, expected, &here)?,
                    None => return Err(here),
                }
            }
            Ok(())
        }
        (Value::Array(actual), Value::Array(subset)) => {
            if actual.len() != subset.len() {
                return Err(format!(
                    "{path} (length {} vs {})",
                    actual.len(),
                    subset.len()
                ));
            }
            for (i, (a, s)) in actual.iter().zip(subset).enumerate() {
                contains_subset(a, s, &format!("{path}[{i}]"))?;
            }
            Ok(())
        }
        (a, s) if a == s => Ok(()),
        _ => Err(path.to_string()),
    }
}
