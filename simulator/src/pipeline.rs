//! What happens to every `/api/v2` request before and after its handler, in order:
//!
//! 1. the body is buffered (to know whether there was one, for the log and the GET rule);
//! 2. injected faults: delays add up, then a status or drop fault ends the request here,
//!    before authentication and without spending a token (like a proxy failing);
//! 3. the store's bucket: a known store id spends a token even when its key is wrong, so
//!    hammering with a bad key is throttled as on the real service; an empty bucket is a
//!    429 with `X-Retry-After`;
//! 4. credentials: 401 unless the store id and API key match a configured store (an
//!    unknown store id has no bucket to charge);
//! 5. a GET that carries a body is a 400;
//! 6. the handler, which finds the store in an [`AuthedStore`] extension.
//!
//! Every response gets `X-Tokens-Remaining` (the bucket's capacity when there is no
//! bucket to speak of) and a line in the request log.

use std::io;
use std::sync::Arc;
use std::time::SystemTime;

use axum::body::{Body, Bytes, to_bytes};
use axum::extract::{Request, State};
use axum::http::header::CONTENT_LENGTH;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::bucket::Take;
use crate::control::{API_PREFIX, FaultKind, LoggedRequest};
use crate::routes::{ApiError, AuthedStore};
use crate::state::{SimState, lock};

pub const STORE_ID_HEADER: &str = "orderdesk-store-id";
pub const API_KEY_HEADER: &str = "orderdesk-api-key";
pub const TOKENS_HEADER: &str = "x-tokens-remaining";
pub const RETRY_AFTER_HEADER: &str = "x-retry-after";

/// Larger request bodies are refused (OrderDesk's own limits are far smaller).
const MAX_BODY_BYTES: usize = 4 * 1024 * 1024;

/// Marks a response that must not be sent: the connection is to be dropped instead.
/// [`crate::server`] turns it into a connection error.
#[derive(Debug, Clone, Copy)]
pub struct DropConnection;

pub async fn api_pipeline(
    State(state): State<Arc<SimState>>,
    request: Request,
    next: Next,
) -> Response {
    let path = request.uri().path().to_owned();
    let is_api = path == API_PREFIX || path.starts_with(&format!("{API_PREFIX}/"));
    if !is_api {
        return next.run(request).await;
    }
    let timestamp = SystemTime::now();
    let method = request.method().clone();
    let query = request.uri().query().unwrap_or_default().to_owned();
    let store_id = header_text(request.headers(), STORE_ID_HEADER);
    lock(&state.arrivals).push(format!("{method} {path}"));

    let (parts, body) = request.into_parts();
    let (response, had_body) = match to_bytes(body, MAX_BODY_BYTES).await {
        Ok(bytes) => {
            let had_body = !bytes.is_empty();
            let request = Request::from_parts(parts, Body::from(bytes));
            (handle(&state, request, next).await, had_body)
        }
        Err(_) => {
            let error = ApiError::new(StatusCode::PAYLOAD_TOO_LARGE, "Request body too large");
            (
                with_tokens(
                    error.into_response(),
                    idle_tokens(&state, store_id.as_deref()),
                ),
                true,
            )
        }
    };

    let status = if response.extensions().get::<DropConnection>().is_some() {
        0
    } else {
        response.status().as_u16()
    };
    lock(&state.log).push(LoggedRequest {
        method: method.to_string(),
        path,
        query,
        store_id,
        status,
        had_body,
        timestamp,
    });
    response
}

async fn handle(state: &SimState, mut request: Request, next: Next) -> Response {
    let method = request.method().clone();
    let store_id = header_text(request.headers(), STORE_ID_HEADER);

    // 2. Faults.
    let plan = lock(&state.faults).take(method.as_str(), request.uri().path());
    if !plan.delay.is_zero() {
        tokio::time::sleep(plan.delay).await;
    }
    match plan.terminal {
        Some(FaultKind::Status(status)) => {
            let tokens = idle_tokens(state, store_id.as_deref());
            return with_tokens(fault_response(status), tokens);
        }
        Some(FaultKind::DropConnection) => return dropped_response(),
        Some(FaultKind::Delay(_)) | None => {}
    }

    // 3. and 4. Rate limit and credentials.
    let Some(store) = store_id.as_deref().and_then(|id| state.store_config(id)) else {
        return with_tokens(unauthorized(), state.config.bucket_capacity);
    };
    let remaining = match state.take_token(&store.store_id) {
        Take::Granted { remaining } => remaining,
        Take::Refused { retry_after_secs } => return rate_limited(retry_after_secs),
    };
    let key = header_text(request.headers(), API_KEY_HEADER);
    if key.as_deref() != Some(store.api_key.as_str()) {
        return with_tokens(unauthorized(), remaining);
    }

    // 5. GET carries no body.
    if method == Method::GET && carries_body(&request) {
        let error = ApiError::bad_request("GET requests must not have a body");
        return with_tokens(error.into_response(), remaining);
    }

    // 6. The endpoint.
    request
        .extensions_mut()
        .insert(AuthedStore(store.store_id.clone()));
    with_tokens(next.run(request).await, remaining)
}

fn header_text(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(|v| v.trim().to_owned())
}

/// A body was sent: a positive Content-Length, or bytes after all.
fn carries_body(request: &Request) -> bool {
    let headers = request.headers();
    let declared = header_text(headers, CONTENT_LENGTH.as_str())
        .and_then(|len| len.parse::<u64>().ok())
        .is_some_and(|len| len > 0);
    let sent = axum::body::HttpBody::size_hint(request.body())
        .exact()
        .is_none_or(|len| len > 0);
    declared || sent
}

/// Tokens to report on a response that spent none.
fn idle_tokens(state: &SimState, store_id: Option<&str>) -> u32 {
    match store_id.filter(|id| state.store_config(id).is_some()) {
        Some(id) => state.peek_tokens(id),
        None => state.config.bucket_capacity,
    }
}

fn with_tokens(mut response: Response, tokens: u32) -> Response {
    response
        .headers_mut()
        .insert(TOKENS_HEADER, HeaderValue::from(tokens));
    response
}

fn unauthorized() -> Response {
    ApiError::new(StatusCode::UNAUTHORIZED, "Invalid Store ID or API Key").into_response()
}

fn rate_limited(retry_after_secs: u64) -> Response {
    let mut response =
        ApiError::new(StatusCode::TOO_MANY_REQUESTS, "Rate limit exceeded").into_response();
    let headers = response.headers_mut();
    headers.insert(RETRY_AFTER_HEADER, HeaderValue::from(retry_after_secs));
    headers.insert(TOKENS_HEADER, HeaderValue::from(0));
    response
}

fn fault_response(status: u16) -> Response {
    let code = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut response =
        ApiError::new(code, format!("Simulated fault: HTTP {status}")).into_response();
    if code == StatusCode::TOO_MANY_REQUESTS {
        // A client's 429 handling expects the header; give it the shortest legal wait.
        response
            .headers_mut()
            .insert(RETRY_AFTER_HEADER, HeaderValue::from(1));
    }
    response
}

/// A response that must never reach the client. Its body fails on first read, so even a
/// server other than ours aborts the connection instead of sending something whole.
fn dropped_response() -> Response {
    let failing = futures_util::stream::once(async {
        Err::<Bytes, _>(io::Error::new(
            io::ErrorKind::ConnectionAborted,
            "simulated dropped connection",
        ))
    });
    let mut response = Response::new(Body::from_stream(failing));
    response.extensions_mut().insert(DropConnection);
    response
}
