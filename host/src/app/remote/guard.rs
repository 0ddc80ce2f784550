//! What every HTTP request goes through before it reaches a route, in this order:
//! a request id, the `Host` and `Origin` checks (DNS rebinding), the concurrency
//! limit, the time limit; and what every answer leaves with: security headers and the
//! request id. One middleware function, so the order is read top to bottom here.

use std::net::{IpAddr, SocketAddr};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Instant;

use axum::body::Body;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use http_body::Frame;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tracing::Instrument;

use super::settings::{HttpSettings, normalise_origin};

/// The request id's header, read from the client when it sends a usable one.
pub const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");
/// The longest client-sent request id taken as is.
const MAX_REQUEST_ID: usize = 128;

/// What the guard needs, built once from the settings.
pub struct Guard {
    /// Hosts a request may name (`None`: any, when not bound to loopback).
    allowed_hosts: Option<Vec<String>>,
    /// Normalised origins a browser request may come from.
    allowed_origins: Vec<String>,
    trusted_proxies: Vec<IpAddr>,
    /// Requests (POST and DELETE) handled at once; a stream of notifications (GET)
    /// does not hold a place.
    in_flight: Arc<Semaphore>,
    request_timeout: std::time::Duration,
    hsts: bool,
}

/// The client's address as the guard determined it (after trusted proxies).
#[derive(Clone, Copy, Debug)]
pub struct ClientIp(pub IpAddr);

impl Guard {
    pub fn new(settings: &HttpSettings, bound: SocketAddr) -> Guard {
        let port = bound.port();
        let mut allowed_origins = settings.allowed_origins.clone();
        let mut allowed_hosts = None;
        if bound.ip().is_loopback() {
            // A page on any site could make a browser send requests to a loopback
            // server through a name that resolves to 127.0.0.1 (DNS rebinding): only
            // the loopback names are accepted as `Host`, and the server's own pages'
            // origins as `Origin`.
            let mut hosts = Vec::new();
            for name in ["localhost", "127.0.0.1", "[::1]"] {
                hosts.push(name.to_string());
                hosts.push(format!("{name}:{port}"));
                allowed_origins.extend(normalise_origin(&format!("http://{name}:{port}")));
            }
            allowed_hosts = Some(hosts);
        }
        if let Some(public) = &settings.public_url {
            allowed_origins.push(public.origin.clone());
            if let Some(hosts) = &mut allowed_hosts {
                hosts.push(public.authority.clone());
            }
        }
        Guard {
            allowed_hosts,
            allowed_origins,
            trusted_proxies: settings.trusted_proxies.clone(),
            in_flight: Arc::new(Semaphore::new(settings.max_concurrent)),
            request_timeout: settings.request_timeout,
            hsts: settings.public_url.as_ref().is_some_and(|url| url.https),
        }
    }

    /// The client's address: the peer's, unless the peer is a trusted proxy, then the
    /// nearest address in `X-Forwarded-For` that is not one.
    pub fn client_ip(&self, peer: IpAddr, headers: &HeaderMap) -> IpAddr {
        if !self.trusted_proxies.contains(&peer) {
            return peer;
        }
        let forwarded = headers
            .get_all("x-forwarded-for")
            .iter()
            .filter_map(|value| value.to_str().ok())
            .flat_map(|value| value.split(','))
            .filter_map(|hop| hop.trim().parse::<IpAddr>().ok())
            .collect::<Vec<_>>();
        forwarded
            .into_iter()
            .rev()
            .find(|hop| !self.trusted_proxies.contains(hop))
            .unwrap_or(peer)
    }

    fn host_allowed(&self, headers: &HeaderMap) -> Result<(), String> {
        let Some(allowed) = &self.allowed_hosts else {
            return Ok(());
        };
        let host = headers
            .get(header::HOST)
            .and_then(|value| value.to_str().ok())
            .unwrap_or_default()
            .to_ascii_lowercase();
        if allowed.contains(&host) {
            Ok(())
        } else {
            Err(format!(
                "Host `{host}` is not this server's: a server bound to loopback answers only \
                 to localhost, 127.0.0.1 and [::1] (and its --public-url's host)"
            ))
        }
    }

    fn origin_allowed(&self, headers: &HeaderMap) -> Result<(), String> {
        // Requests without `Origin` come from programs, not pages: they pass.
        let Some(origin) = headers.get(header::ORIGIN) else {
            return Ok(());
        };
        let text = origin.to_str().unwrap_or_default();
        match normalise_origin(text) {
            Some(origin) if self.allowed_origins.contains(&origin) => Ok(()),
            _ => Err(format!(
                "Origin `{text}` is not allowed: a page may call this server only from an \
                 origin in [http] allowed_origins (or the --public-url's)"
            )),
        }
    }
}

/// A request id the client sent, when it is short and plain enough to log as is.
fn client_request_id(headers: &HeaderMap) -> Option<String> {
    let id = headers.get(&REQUEST_ID)?.to_str().ok()?;
    let usable = !id.is_empty()
        && id.len() <= MAX_REQUEST_ID
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b':'));
    usable.then(|| id.to_string())
}

/// An answer for a request refused before it reached a route: a short JSON body.
pub fn refusal(status: StatusCode, error: &str, message: &str) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "application/json")],
        serde_json::json!({ "error": error, "error_description": message }).to_string(),
    )
        .into_response()
}

/// The middleware: see the module doc.
pub async fn guard(
    State(guard): State<Arc<Guard>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    mut request: Request,
    next: Next,
) -> Response {
    let started = Instant::now();
    let request_id =
        client_request_id(request.headers()).unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
    let id_header = HeaderValue::from_str(&request_id).unwrap_or(HeaderValue::from_static("-"));
    request.headers_mut().insert(REQUEST_ID, id_header.clone());
    let client = guard.client_ip(peer.ip(), request.headers());
    request.extensions_mut().insert(ClientIp(client));
    let method = request.method().clone();
    let path = request.uri().path().to_string();
    let span = tracing::info_span!(
        "http",
        request_id = %request_id,
        method = %method,
        path = %path,
        client = %client
    );
    let mut response = async {
        if let Err(message) = guard.host_allowed(request.headers()) {
            return refusal(StatusCode::FORBIDDEN, "host_not_allowed", &message);
        }
        if let Err(message) = guard.origin_allowed(request.headers()) {
            return refusal(StatusCode::FORBIDDEN, "origin_not_allowed", &message);
        }
        let permit = if matches!(method, Method::POST | Method::DELETE) {
            match guard.in_flight.clone().try_acquire_owned() {
                Ok(permit) => Some(permit),
                Err(_) => {
                    let mut busy = refusal(
                        StatusCode::SERVICE_UNAVAILABLE,
                        "busy",
                        "the server is handling as many requests as it allows; retry shortly",
                    );
                    busy.headers_mut()
                        .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
                    return busy;
                }
            }
        } else {
            None
        };
        let response = match tokio::time::timeout(guard.request_timeout, next.run(request)).await {
            Ok(response) => response,
            Err(_) => refusal(
                StatusCode::SERVICE_UNAVAILABLE,
                "timeout",
                &format!(
                    "the request took longer than {} s; it may have finished meanwhile — \
                     check before repeating a change",
                    guard.request_timeout.as_secs()
                ),
            ),
        };
        // A streamed answer (a tool call's events) keeps its place until it ends.
        match permit {
            Some(permit) => response.map(|body| {
                Body::new(HoldsPermit {
                    body,
                    _permit: permit,
                })
            }),
            None => response,
        }
    }
    .instrument(span.clone())
    .await;
    security_headers(response.headers_mut(), guard.hsts);
    response.headers_mut().insert(REQUEST_ID, id_header);
    let status = response.status();
    let elapsed_ms = started.elapsed().as_secs_f64() * 1000.0;
    span.in_scope(|| {
        // One line per refused or failed request for the operator; successful ones at
        // debug (the audit log has every tool call).
        if status.is_client_error() || status.is_server_error() {
            tracing::info!(status = status.as_u16(), elapsed_ms, "http request");
        } else {
            tracing::debug!(status = status.as_u16(), elapsed_ms, "http request");
        }
    });
    response
}

/// The headers every answer carries: nothing here is meant to be framed, sniffed,
/// cached or sent on as a referrer.
fn security_headers(headers: &mut HeaderMap, hsts: bool) {
    let set = |headers: &mut HeaderMap, name: HeaderName, value: &'static str| {
        headers
            .entry(name)
            .or_insert(HeaderValue::from_static(value));
    };
    set(headers, header::X_CONTENT_TYPE_OPTIONS, "nosniff");
    set(headers, header::X_FRAME_OPTIONS, "DENY");
    set(headers, header::REFERRER_POLICY, "no-referrer");
    set(
        headers,
        header::CONTENT_SECURITY_POLICY,
        "default-src 'none'; frame-ancestors 'none'",
    );
    set(headers, header::CACHE_CONTROL, "no-store");
    set(
        headers,
        HeaderName::from_static("cross-origin-resource-policy"),
        "same-origin",
    );
    if hsts {
        set(
            headers,
            header::STRICT_TRANSPORT_SECURITY,
            "max-age=31536000; includeSubDomains",
        );
    }
}

/// A response body that holds a place of the concurrency limit until it ends.
struct HoldsPermit {
    body: Body,
    _permit: OwnedSemaphorePermit,
}

impl http_body::Body for HoldsPermit {
    type Data = axum::body::Bytes;
    type Error = axum::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Self::Data>, Self::Error>>> {
        Pin::new(&mut self.body).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> http_body::SizeHint {
        self.body.size_hint()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn guard(bind: &str, proxies: &[&str]) -> Guard {
        let mut settings = HttpSettings::on(bind.parse().unwrap());
        settings.trusted_proxies = proxies.iter().map(|p| p.parse().unwrap()).collect();
        settings.allowed_origins = vec![normalise_origin("https://app.example.com").unwrap()];
        Guard::new(&settings, settings.bind)
    }

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.append(*name, value.parse().unwrap());
        }
        map
    }

    #[test]
    fn on_loopback_only_loopback_hosts_are_answered() {
        let g = guard("127.0.0.1:8787", &[]);
        assert!(
            g.host_allowed(&headers(&[("host", "localhost:8787")]))
                .is_ok()
        );
        assert!(g.host_allowed(&headers(&[("host", "127.0.0.1")])).is_ok());
        assert!(
            g.host_allowed(&headers(&[("host", "evil.example:8787")]))
                .is_err()
        );
        assert!(g.host_allowed(&headers(&[])).is_err());
        // Bound to all interfaces, any host is answered (a proxy or DNS names it).
        let open = guard("0.0.0.0:8787", &[]);
        assert!(
            open.host_allowed(&headers(&[("host", "mcp.example.com")]))
                .is_ok()
        );
    }

    #[test]
    fn origins_outside_the_list_are_refused_and_no_origin_passes() {
        let g = guard("127.0.0.1:8787", &[]);
        assert!(g.origin_allowed(&headers(&[])).is_ok());
        assert!(
            g.origin_allowed(&headers(&[("origin", "https://app.example.com")]))
                .is_ok()
        );
        assert!(
            g.origin_allowed(&headers(&[("origin", "http://localhost:8787")]))
                .is_ok()
        );
        assert!(
            g.origin_allowed(&headers(&[("origin", "https://evil.example")]))
                .is_err()
        );
        assert!(g.origin_allowed(&headers(&[("origin", "null")])).is_err());
        assert!(
            g.origin_allowed(&headers(&[("origin", "http://localhost:9999")]))
                .is_err()
        );
    }

    #[test]
    fn forwarded_addresses_are_believed_only_from_trusted_proxies() {
        let g = guard("0.0.0.0:8787", &["10.0.0.5"]);
        let forwarded = headers(&[("x-forwarded-for", "203.0.113.9, 10.0.0.5")]);
        let proxy: IpAddr = "10.0.0.5".parse().unwrap();
        let stranger: IpAddr = "198.51.100.1".parse().unwrap();
        assert_eq!(
            g.client_ip(proxy, &forwarded),
            "203.0.113.9".parse::<IpAddr>().unwrap()
        );
        assert_eq!(g.client_ip(stranger, &forwarded), stranger);
        assert_eq!(g.client_ip(proxy, &headers(&[])), proxy);
    }

    #[test]
    fn only_plain_short_request_ids_are_taken_from_the_client() {
        assert_eq!(
            client_request_id(&headers(&[("x-request-id", "abc-123")])).as_deref(),
            Some("abc-123")
        );
        assert_eq!(
            client_request_id(&headers(&[("x-request-id", "a b")])),
            None
        );
        let long = "a".repeat(MAX_REQUEST_ID + 1);
        assert_eq!(
            client_request_id(&headers(&[("x-request-id", &long)])),
            None
        );
    }
}
