//! The scripted OrderDesk of the mock host: the requests a test expects, in order, and
//! the replies (or failures) it gives them.

use std::collections::{BTreeMap, VecDeque};
use std::fmt;
use std::sync::Mutex;

use orderdesk_gateway::{ApiRequest, ApiResponse, GatewayError, StoreCredentials};
use orderdesk_host::services::{BoxFuture, OrderDeskBackend};
use serde::Deserialize;
use serde_json::Value;
use thiserror::Error;

use super::lock;

/// A request a component made, as the harness saw it.
#[derive(Clone, Debug, PartialEq)]
pub struct RecordedRequest {
    pub store_id: String,
    pub method: String,
    pub path: String,
    pub query: Vec<(String, String)>,
    /// The JSON body (or the raw text, as a JSON string, when it was not JSON).
    pub body: Option<Value>,
}

impl fmt::Display for RecordedRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.method, self.path)?;
        if !self.query.is_empty() {
            let query: Vec<String> = self.query.iter().map(|(k, v)| format!("{k}={v}")).collect();
            write!(f, "?{}", query.join("&"))?;
        }
        if let Some(body) = &self.body {
            write!(f, " body {body}")?;
        }
        Ok(())
    }
}

/// What a test expects the component to ask for. Fields left out match anything.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExpectedRequest {
    pub method: String,
    pub path: String,
    /// When given, the query must have exactly these parameters.
    #[serde(default)]
    pub query: Option<BTreeMap<String, String>>,
    /// When given, the body must be this JSON (key order aside).
    #[serde(default)]
    pub body: Option<Value>,
}

impl ExpectedRequest {
    fn matches(&self, actual: &RecordedRequest) -> bool {
        if !self.method.eq_ignore_ascii_case(&actual.method) || self.path != actual.path {
            return false;
        }
        if let Some(query) = &self.query {
            let actual_query: BTreeMap<String, String> = actual.query.iter().cloned().collect();
            if *query != actual_query || actual_query.len() != actual.query.len() {
                return false;
            }
        }
        match &self.body {
            Some(body) => actual.body.as_ref() == Some(body),
            None => true,
        }
    }
}

impl fmt::Display for ExpectedRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.method.to_ascii_uppercase(), self.path)?;
        match &self.query {
            Some(query) if !query.is_empty() => {
                let query: Vec<String> = query.iter().map(|(k, v)| format!("{k}={v}")).collect();
                write!(f, "?{}", query.join("&"))?;
            }
            Some(_) => f.write_str(" (no query)")?,
            None => f.write_str(" (any query)")?,
        }
        if let Some(body) = &self.body {
            write!(f, " body {body}")?;
        }
        Ok(())
    }
}

/// How OrderDesk answers a failing request, as the gateway would report it.
#[derive(Clone, Debug, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum ScriptedFailure {
    /// Rate-limited past the gateway's retries.
    RateLimited { retry_after_ms: u32 },
    /// An error status with OrderDesk's message.
    Upstream { status: u16, message: String },
    /// A write that may or may not have been applied (5xx or timeout after sending).
    OutcomeUnknown { message: String },
    /// OrderDesk could not be reached.
    Transport { message: String },
}

/// The reply to one expected request.
#[derive(Clone, Debug)]
pub enum Reply {
    /// An HTTP answer; statuses ≥ 400 become the error the gateway would report.
    Respond {
        status: u16,
        body: Value,
    },
    Fail(ScriptedFailure),
}

/// One expected request and its reply.
#[derive(Clone, Debug, Deserialize)]
#[serde(try_from = "ExchangeSpec")]
pub struct Exchange {
    pub request: ExpectedRequest,
    pub reply: Reply,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ExchangeSpec {
    request: ExpectedRequest,
    #[serde(default)]
    response: Option<ResponseSpec>,
    #[serde(default)]
    failure: Option<ScriptedFailure>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ResponseSpec {
    #[serde(default = "ok_status")]
    status: u16,
    #[serde(default)]
    body: Value,
}

fn ok_status() -> u16 {
    200
}

impl TryFrom<ExchangeSpec> for Exchange {
    type Error = String;

    fn try_from(spec: ExchangeSpec) -> Result<Exchange, String> {
        let reply = match (spec.response, spec.failure) {
            (Some(r), None) => Reply::Respond {
                status: r.status,
                body: r.body,
            },
            (None, Some(f)) => Reply::Fail(f),
            _ => {
                return Err(format!(
                    "the exchange for {} needs exactly one of `response` or `failure`",
                    spec.request
                ));
            }
        };
        Ok(Exchange {
            request: spec.request,
            reply,
        })
    }
}

impl Exchange {
    /// Expect `method path` (any query, any body) until narrowed.
    pub fn new(method: &str, path: &str) -> Exchange {
        Exchange {
            request: ExpectedRequest {
                method: method.to_ascii_uppercase(),
                path: path.into(),
                query: None,
                body: None,
            },
            reply: Reply::Respond {
                status: 200,
                body: serde_json::json!({"status": "success"}),
            },
        }
    }

    pub fn get(path: &str) -> Exchange {
        Exchange::new("GET", path)
    }

    pub fn post(path: &str) -> Exchange {
        Exchange::new("POST", path)
    }

    pub fn put(path: &str) -> Exchange {
        Exchange::new("PUT", path)
    }

    pub fn delete(path: &str) -> Exchange {
        Exchange::new("DELETE", path)
    }

    /// Require this query parameter (the query must then have exactly the parameters
    /// added this way).
    pub fn query(mut self, name: &str, value: &str) -> Exchange {
        self.request
            .query
            .get_or_insert_with(BTreeMap::new)
            .insert(name.into(), value.into());
        self
    }

    /// Require exactly this JSON body.
    pub fn body(mut self, body: Value) -> Exchange {
        self.request.body = Some(body);
        self
    }

    pub fn respond(mut self, status: u16, body: Value) -> Exchange {
        self.reply = Reply::Respond { status, body };
        self
    }

    pub fn fail(mut self, failure: ScriptedFailure) -> Exchange {
        self.reply = Reply::Fail(failure);
        self
    }
}

/// OrderDesk as a script: requests must come in the expected order; each gets its
/// canned reply. Anything else is recorded as a mismatch (and answered with an error,
/// so the component sees a failure too).
#[derive(Debug, Default)]
pub struct ScriptedOrderDesk {
    state: Mutex<ScriptState>,
}

#[derive(Debug, Default)]
struct ScriptState {
    expected: VecDeque<Exchange>,
    requests: Vec<RecordedRequest>,
    mismatches: Vec<String>,
}

impl ScriptedOrderDesk {
    pub fn expect(&self, exchange: Exchange) {
        lock(&self.state).expected.push_back(exchange);
    }

    /// Forget expectations, requests and mismatches (between test cases).
    pub fn reset(&self) {
        *lock(&self.state) = ScriptState::default();
    }

    pub fn requests(&self) -> Vec<RecordedRequest> {
        lock(&self.state).requests.clone()
    }

    /// Every expected request was made, in order, and nothing else.
    pub fn verify(&self) -> Result<(), ScriptMismatch> {
        let state = lock(&self.state);
        let mut problems = state.mismatches.clone();
        for missing in &state.expected {
            problems.push(format!("expected request never made: {}", missing.request));
        }
        if problems.is_empty() {
            Ok(())
        } else {
            Err(ScriptMismatch(problems.join("\n")))
        }
    }

    /// The backend side: called by the `orderdesk` capability.
    pub fn answer(
        &self,
        store_id: &str,
        request: &ApiRequest,
    ) -> Result<ApiResponse, GatewayError> {
        let body = request
            .body
            .as_ref()
            .map(|text| serde_json::from_str(text).unwrap_or_else(|_| Value::String(text.clone())));
        let actual = RecordedRequest {
            store_id: store_id.into(),
            method: request.method.as_str().into(),
            path: request.path.clone(),
            query: request.query.clone(),
            body,
        };
        let mut state = lock(&self.state);
        state.requests.push(actual.clone());
        let number = state.requests.len();
        let Some(next) = state.expected.pop_front() else {
            let problem = format!("request #{number} was not expected: {actual}");
            state.mismatches.push(problem.clone());
            return Err(harness_refusal(problem));
        };
        if !next.request.matches(&actual) {
            let problem = format!(
                "request #{number} differs from the script:\n  expected: {}\n  actual:   {actual}",
                next.request
            );
            state.mismatches.push(problem.clone());
            return Err(harness_refusal(problem));
        }
        match next.reply {
            // As the gateway: a 5xx on a write may or may not have been applied.
            Reply::Respond { status, .. } if status >= 500 && request.method.is_write() => {
                Err(GatewayError::OutcomeUnknown(format!(
                    "OrderDesk answered HTTP {status} to {} {}; the change may or may not have been applied",
                    request.method.as_str(),
                    request.path
                )))
            }
            Reply::Respond { status, body } => reply_for(status, body),
            Reply::Fail(failure) => Err(match failure {
                ScriptedFailure::RateLimited { retry_after_ms } => {
                    GatewayError::RateLimited { retry_after_ms }
                }
                ScriptedFailure::Upstream { status, message } => {
                    GatewayError::Upstream { status, message }
                }
                ScriptedFailure::OutcomeUnknown { message } => {
                    GatewayError::OutcomeUnknown(message)
                }
                ScriptedFailure::Transport { message } => GatewayError::Transport(message),
            }),
        }
    }
}

/// What the component sees for a request the script did not expect.
/// The requests a component made differ from the script: each expected and actual
/// request, one per line.
#[derive(Debug, Error)]
#[error("{0}")]
pub struct ScriptMismatch(pub String);

/// The harness's OrderDesk is the script: the host's `orderdesk` capability sends to it
/// as it sends to the gateway in production.
impl OrderDeskBackend for ScriptedOrderDesk {
    fn send<'a>(
        &'a self,
        _tenant_id: &'a str,
        credentials: &'a StoreCredentials,
        request: ApiRequest,
    ) -> BoxFuture<'a, Result<ApiResponse, GatewayError>> {
        let answer = self.answer(&credentials.store_id, &request);
        Box::pin(std::future::ready(answer))
    }

    fn api_origin(&self) -> String {
        HARNESS_ORIGIN.to_string()
    }
}

/// The origin of the harness's scripted OrderDesk (stores of its vault are saved for it).
pub(crate) const HARNESS_ORIGIN: &str = "harness://scripted-orderdesk";

fn harness_refusal(problem: String) -> GatewayError {
    GatewayError::Upstream {
        status: 599,
        message: format!("test harness: {problem}"),
    }
}

/// An HTTP answer as the gateway would hand it on.
fn reply_for(status: u16, body: Value) -> Result<ApiResponse, GatewayError> {
    let message = body
        .get("message")
        .and_then(Value::as_str)
        .unwrap_or("error")
        .to_string();
    match status {
        200..=299 => Ok(ApiResponse {
            status,
            body: body.to_string(),
            cached: false,
            cache_age: None,
        }),
        401 | 403 => Err(GatewayError::Unauthorized(message)),
        404 => Err(GatewayError::NotFound(message)),
        429 => Err(GatewayError::RateLimited {
            retry_after_ms: 1000,
        }),
        _ => Err(GatewayError::Upstream { status, message }),
    }
}
