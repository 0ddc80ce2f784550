//! The HTTP layer: the only module that builds reqwest requests and reads their bodies.
//!
//! It owns the client (built lazily, never following redirects), the headers every
//! request carries (credentials, with the API key marked sensitive; `Accept`; a
//! `Content-Type` only with a body), the size cap on response bodies, and the one-line
//! description of a transport failure. It knows nothing of retries, pacing or caching,
//! and must never put the API key or the URL (whose query may carry personal data)
//! into an error or a log line.

use std::sync::OnceLock;
use std::time::Duration;

use reqwest::header::{ACCEPT, CONTENT_TYPE, HeaderValue};
use reqwest::{Client, RequestBuilder, Response, Url};
use secrecy::ExposeSecret;

use crate::{ApiRequest, GatewayError, StoreCredentials};

/// Builds the requests of one gateway.
pub(crate) struct Transport {
    user_agent: HeaderValue,
    connect_timeout: Duration,
    request_timeout: Duration,
    /// Built on the first request: loading the system's TLS roots costs milliseconds
    /// at start-up, and a session may never reach OrderDesk.
    client: OnceLock<Result<Client, String>>,
}

impl Transport {
    pub(crate) fn new(
        user_agent: HeaderValue,
        connect_timeout: Duration,
        request_timeout: Duration,
    ) -> Self {
        Transport {
            user_agent,
            connect_timeout,
            request_timeout,
            client: OnceLock::new(),
        }
    }

    /// The HTTP client, built on first use.
    fn client(&self) -> Result<&Client, GatewayError> {
        self.client
            .get_or_init(|| {
                Client::builder()
                    .user_agent(self.user_agent.clone())
                    .connect_timeout(self.connect_timeout)
                    .timeout(self.request_timeout)
                    // Following a redirect would send ORDERDESK-API-KEY to wherever it
                    // points (reqwest strips only the standard credential headers).
                    .redirect(reqwest::redirect::Policy::none())
                    .build()
                    .map_err(|e| format!("building the HTTP client: {e}"))
            })
            .as_ref()
            .map_err(|e| GatewayError::Internal(e.clone()))
    }

    /// `request` to `url` with the store's credentials, ready to send.
    pub(crate) fn build(
        &self,
        creds: &StoreCredentials,
        request: &ApiRequest,
        url: Url,
    ) -> Result<RequestBuilder, GatewayError> {
        let store = HeaderValue::from_str(&creds.store_id).map_err(|_| {
            GatewayError::InvalidInput("the store id cannot be sent in a header".into())
        })?;
        let mut key = HeaderValue::from_str(creds.api_key.expose_secret()).map_err(|_| {
            // Say nothing about the key's content.
            GatewayError::InvalidInput(
                "the store's API key contains characters that cannot be sent in a header".into(),
            )
        })?;
        // Keeps it out of reqwest's and hyper's Debug output.
        key.set_sensitive(true);
        let mut rb = self
            .client()?
            .request(request.method.to_reqwest(), url)
            .header("ORDERDESK-STORE-ID", store)
            .header("ORDERDESK-API-KEY", key)
            .header(ACCEPT, "application/json");
        if let Some(body) = &request.body {
            rb = rb
                .header(CONTENT_TYPE, "application/json")
                .body(body.clone());
        }
        Ok(rb)
    }
}

/// Why a body could not be read whole.
pub(crate) enum BodyError {
    TooLarge,
    Transport(reqwest::Error),
}

/// Reads a body in chunks, stopping as soon as it passes `cap`.
pub(crate) async fn read_capped(response: &mut Response, cap: usize) -> Result<Vec<u8>, BodyError> {
    if let Some(len) = response.content_length()
        && len > cap as u64
    {
        return Err(BodyError::TooLarge);
    }
    let hint = response.content_length().unwrap_or(0).min(cap as u64) as usize;
    let mut buf = Vec::with_capacity(hint.min(1 << 20));
    while let Some(chunk) = response.chunk().await.map_err(BodyError::Transport)? {
        if buf.len() + chunk.len() > cap {
            return Err(BodyError::TooLarge);
        }
        buf.extend_from_slice(&chunk);
    }
    Ok(buf)
}

/// A reqwest error as one line: its own text plus its causes (hyper's "connection
/// refused" is two levels down), without the URL, whose query may carry personal data.
pub(crate) fn describe(e: &reqwest::Error) -> String {
    let mut out = if e.is_timeout() {
        "timed out".to_string()
    } else if e.is_connect() {
        "could not connect".to_string()
    } else {
        "connection failed".to_string()
    };
    let mut source = std::error::Error::source(e);
    let mut last = String::new();
    while let Some(s) = source {
        let text = s.to_string();
        // Layers often repeat their inner error's text; keep the output short.
        if !text.is_empty() && !last.contains(&text) && !out.contains(&text) {
            out.push_str(": ");
            out.push_str(&text);
        }
        last = text;
        source = s.source();
    }
    out
}
