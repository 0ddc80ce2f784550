//! `GET /metrics`: the process's metrics ([`telemetry`]) in Prometheus's text format,
//! over HTTP. [`metrics_routes`] is the route alone, for a server that mounts it on its
//! own listener; [`serve_metrics`] runs it on a listener of its own (its listener and
//! shutdown signal passed in, so a test runs the real thing on port 0); [`with_metrics`]
//! runs it beside a server for as long as that server runs (`serve --metrics ADDR`).
//!
//! When the operator sets a token (`ORDERDESK_MCP_METRICS_TOKEN`), a scrape without it
//! gets 401 with `WWW-Authenticate: Bearer` and counts as an authentication failure
//! (reason `metrics_token`). The token is kept only as its SHA-256 digest, and compared
//! digest to digest in constant time: neither its content nor its length shows in the
//! time an answer takes.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use secrecy::{ExposeSecret, SecretString};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

use super::settings::Settings;
use crate::telemetry::{self, Metrics};

/// The content type of Prometheus's text exposition format.
pub const METRICS_CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// How long a stopped metrics listener may take to close its connections (a scraper's
/// keep-alive connection included) before they are cut.
const STOP_GRACE: Duration = Duration::from_secs(5);

/// What the route needs: the recorder, and the token's digest if one is required.
struct Endpoint {
    metrics: Metrics,
    token_digest: Option<[u8; 32]>,
}

/// `GET /metrics` (and `HEAD`), answering 401 without `Authorization: Bearer <bearer>`
/// when `bearer` is set.
pub fn metrics_routes(metrics: Metrics, bearer: Option<SecretString>) -> Router {
    let endpoint = Endpoint {
        metrics,
        token_digest: bearer.map(|token| digest(token.expose_secret())),
    };
    Router::new()
        .route("/metrics", get(scrape))
        .with_state(Arc::new(endpoint))
}

async fn scrape(State(endpoint): State<Arc<Endpoint>>, headers: HeaderMap) -> Response {
    if let Some(expected) = &endpoint.token_digest
        && !authorized(&headers, expected)
    {
        telemetry::auth_failure("metrics_token");
        return (
            StatusCode::UNAUTHORIZED,
            [(header::WWW_AUTHENTICATE, "Bearer realm=\"metrics\"")],
            "this endpoint needs `Authorization: Bearer <ORDERDESK_MCP_METRICS_TOKEN>`\n",
        )
            .into_response();
    }
    (
        [(header::CONTENT_TYPE, METRICS_CONTENT_TYPE)],
        endpoint.metrics.render(),
    )
        .into_response()
}

/// Whether `headers` carry `Authorization: Bearer <token>` whose digest is `expected`
/// (the scheme in any case, as RFC 9110 has it).
fn authorized(headers: &HeaderMap, expected: &[u8; 32]) -> bool {
    let Some(value) = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
    else {
        return false;
    };
    let Some((scheme, token)) = value.trim().split_once(' ') else {
        return false;
    };
    scheme.eq_ignore_ascii_case("bearer") && bool::from(digest(token.trim()).ct_eq(expected))
}

fn digest(token: &str) -> [u8; 32] {
    Sha256::digest(token.as_bytes()).into()
}

/// A metrics listener running on its own task.
#[derive(Debug)]
pub struct MetricsServer {
    addr: SocketAddr,
    task: JoinHandle<std::io::Result<()>>,
}

impl MetricsServer {
    /// The address it listens on (the real port when asked for port 0).
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// Wait for it to end once its shutdown signal has fired: at most `grace` for open
    /// connections to close, after which they are cut.
    pub async fn finish(mut self, grace: Duration) -> anyhow::Result<()> {
        match tokio::time::timeout(grace, &mut self.task).await {
            Ok(ended) => {
                ended.context("the metrics listener task failed")??;
                Ok(())
            }
            Err(_) => {
                self.task.abort();
                Ok(())
            }
        }
    }
}

/// Listen on `addr` (port 0: any free port) and serve [`metrics_routes`] there until
/// `shutdown` completes. Logs `metrics listening on ADDR` with the bound address.
pub async fn serve_metrics(
    addr: SocketAddr,
    metrics: Metrics,
    bearer: Option<SecretString>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<MetricsServer> {
    let listener = TcpListener::bind(addr)
        .await
        .with_context(|| format!("cannot listen for metrics on {addr}"))?;
    let bound = listener.local_addr()?;
    if bearer.is_none() && !bound.ip().is_loopback() {
        tracing::warn!(
            "metrics on {bound} are open to anyone who can reach it: set \
             ORDERDESK_MCP_METRICS_TOKEN to require a bearer token"
        );
    }
    tracing::info!("metrics listening on {bound}");
    let routes = metrics_routes(metrics, bearer);
    let task = tokio::spawn(async move {
        axum::serve(listener, routes)
            .with_graceful_shutdown(shutdown)
            .await
    });
    Ok(MetricsServer { addr: bound, task })
}

/// Run `serving` (a server) with `/metrics` served at `settings.metrics_addr`, if set,
/// until it ends: the recorder is installed and the listener bound first (a busy
/// address fails before anything else starts), and the listener stops with `serving`.
/// Without an address nothing is installed, and recording stays a no-op.
pub async fn with_metrics<T>(
    settings: &Settings,
    serving: impl Future<Output = anyhow::Result<T>>,
) -> anyhow::Result<T> {
    let Some(addr) = settings.metrics_addr else {
        return serving.await;
    };
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = serve_metrics(
        addr,
        telemetry::install(),
        settings.metrics_token.clone(),
        async {
            let _ = stopped.await;
        },
    )
    .await?;
    let served = serving.await;
    let _ = stop.send(());
    if let Err(error) = server.finish(STOP_GRACE).await {
        tracing::warn!(error = %format!("{error:#}"), "the metrics listener did not stop cleanly");
    }
    served
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    fn with_authorization(value: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(header::AUTHORIZATION, HeaderValue::from_str(value).unwrap());
        headers
    }

    #[test]
    fn only_the_right_bearer_token_is_authorized() {
        let expected = digest("s3cret");
        assert!(authorized(&with_authorization("Bearer s3cret"), &expected));
        assert!(authorized(
            &with_authorization("bearer  s3cret "),
            &expected
        ));
        for wrong in [
            "Bearer s3cre",
            "Bearer s3cret2",
            "Basic s3cret",
            "s3cret",
            "Bearer",
            "",
        ] {
            assert!(
                !authorized(&with_authorization(wrong), &expected),
                "{wrong:?}"
            );
        }
        assert!(!authorized(&HeaderMap::new(), &expected));
    }

    /// One HTTP/1.1 request over a plain socket: the status line and the whole answer.
    async fn get(addr: SocketAddr, authorization: Option<&str>) -> String {
        let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
        let authorization = authorization
            .map(|value| format!("Authorization: {value}\r\n"))
            .unwrap_or_default();
        let request = format!(
            "GET /metrics HTTP/1.1\r\nHost: {addr}\r\n{authorization}Connection: close\r\n\r\n"
        );
        stream.write_all(request.as_bytes()).await.unwrap();
        let mut answer = String::new();
        stream.read_to_string(&mut answer).await.unwrap();
        answer
    }

    #[tokio::test]
    async fn the_endpoint_binds_port_zero_asks_for_the_token_and_stops_on_its_signal() {
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let server = serve_metrics(
            "127.0.0.1:0".parse().unwrap(),
            telemetry::install(),
            Some(SecretString::from("s3cret")),
            async {
                let _ = stopped.await;
            },
        )
        .await
        .unwrap();
        let addr = server.local_addr();
        assert_ne!(addr.port(), 0);

        let refused = get(addr, None).await;
        assert!(refused.starts_with("HTTP/1.1 401"), "{refused}");
        assert!(
            refused
                .to_ascii_lowercase()
                .contains("www-authenticate: bearer"),
            "{refused}"
        );
        let wrong = get(addr, Some("Bearer nope")).await;
        assert!(wrong.starts_with("HTTP/1.1 401"), "{wrong}");

        let scraped = get(addr, Some("Bearer s3cret")).await;
        assert!(scraped.starts_with("HTTP/1.1 200"), "{scraped}");
        assert!(
            scraped.contains(&format!("content-type: {METRICS_CONTENT_TYPE}")),
            "{scraped}"
        );
        assert!(
            scraped.contains("orderdesk_mcp_auth_failures_total{reason=\"metrics_token\"}"),
            "{scraped}"
        );

        stop.send(()).unwrap();
        server.finish(Duration::from_secs(5)).await.unwrap();
        assert!(
            tokio::net::TcpStream::connect(addr).await.is_err(),
            "the listener is closed"
        );
    }
}
