//! `Authorization: Bearer odat_…` on `/mcp`: every request's token is checked with the
//! vault (one keyed-hash lookup; a revoked or expired token is refused at its next
//! request), and the request that opens a session also opens the tenant's keys. The
//! result travels with the request as a [`Principal`] for the MCP layer.
//!
//! Failed checks are counted per client address by the vault's limiter (bounded in
//! size); past its allowance a client gets 429 without its tokens being looked at.

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::Response;
use orderdesk_vault::{AccessTokenRecord, StoreRecord, TenantSession, TokenScope, VaultError};
use secrecy::SecretString;

use super::guard::{ClientIp, REQUEST_ID, refusal};
use crate::mcp::Principal;
use crate::services::Services;
use crate::session::SessionAccess;

/// The header an MCP session's requests carry after `initialize`.
const SESSION_ID: &str = "mcp-session-id";

/// What the middleware needs.
pub struct Authenticator {
    pub services: Arc<Services>,
    /// `WWW-Authenticate` of a 401 (the realm, and later the resource metadata's URL).
    pub challenge: String,
}

/// The token of `Authorization: Bearer …`, if the header has that form.
fn bearer(headers: &HeaderMap) -> Option<SecretString> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.trim().split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| SecretString::from(token.trim().to_string()))
}

impl Authenticator {
    fn unauthorized(&self, error: Option<&str>, message: &str) -> Response {
        let mut response = refusal(
            StatusCode::UNAUTHORIZED,
            error.unwrap_or("unauthorized"),
            message,
        );
        // RFC 6750: without credentials, the challenge alone; with bad ones, why.
        let challenge = match error {
            Some(error) => format!(
                "{}, error=\"{error}\", error_description=\"{}\"",
                self.challenge,
                message.replace('"', "'")
            ),
            None => self.challenge.clone(),
        };
        if let Ok(value) = HeaderValue::from_str(&challenge) {
            response
                .headers_mut()
                .insert(header::WWW_AUTHENTICATE, value);
        }
        response
    }
}

/// Count a refused authentication (the metrics' auth failures by reason).
fn note_failure(reason: &'static str) {
    tracing::debug!(reason, "authentication refused");
    crate::telemetry::auth_failure(reason);
}

/// What the request that opens a session gets besides the check: the tenant's opened
/// keys and, for a token limited to one store, that store.
type Opened = (TenantSession, Option<StoreRecord>);

/// What a checked token allows a session.
fn access_of(record: &AccessTokenRecord) -> SessionAccess {
    SessionAccess {
        token_id: Some(record.token_id.clone()),
        read_only: record.scope == TokenScope::Read,
        store_id: record.store_id.clone(),
    }
}

/// The middleware on `/mcp`.
pub async fn authenticate(
    State(auth): State<Arc<Authenticator>>,
    mut request: Request,
    next: Next,
) -> Response {
    let Some(token) = bearer(request.headers()) else {
        note_failure("missing_token");
        return auth.unauthorized(
            None,
            "this server needs an access token: send `Authorization: Bearer odat_…` (create \
             one with `orderdesk-mcp token create`)",
        );
    };
    let source = request
        .extensions()
        .get::<ClientIp>()
        .map(|ip| format!("http:{}", ip.0))
        .unwrap_or_else(|| "http".into());
    // A request without a session id opens one: it needs the tenant's keys, the
    // others only the check.
    let opens_session =
        request.method() == Method::POST && !request.headers().contains_key(SESSION_ID);
    let checked: Result<(AccessTokenRecord, Option<Opened>), VaultError> = if opens_session {
        auth.services
            .with_vault(move |vault| {
                let (tenant, record) = vault.authenticate_access_token_from(&source, &token)?;
                let store = match &record.store_id {
                    Some(store_id) => Some(vault.resolve_store(tenant.tenant_id(), store_id)?.0),
                    None => None,
                };
                Ok((record, Some((tenant, store))))
            })
            .await
    } else {
        // Every request of a session is checked: one keyed hash and one indexed read
        // (no bcrypt, no decryption), a few microseconds. Handing that to the blocking
        // pool and back costs more than the work (two thread wake-ups per request,
        // measured in figure 8 of docs/benchmarks.md), so it runs here.
        auth.services
            .vault
            .check_access_token_from(&source, &token)
            .map(|record| (record, None))
    };
    let (record, opened) = match checked {
        Ok(checked) => checked,
        Err(VaultError::TooManyAttempts { retry_after_ms }) => {
            note_failure("rate_limited");
            let mut response = refusal(
                StatusCode::TOO_MANY_REQUESTS,
                "too_many_attempts",
                "too many failed authentications from this address; wait and try again",
            );
            let seconds = retry_after_ms.div_ceil(1000).max(1);
            if let Ok(value) = HeaderValue::from_str(&seconds.to_string()) {
                response.headers_mut().insert(header::RETRY_AFTER, value);
            }
            return response;
        }
        Err(VaultError::Unauthenticated(message)) => {
            note_failure("invalid_token");
            return auth.unauthorized(Some("invalid_token"), &message);
        }
        Err(VaultError::NotFound(message)) => {
            // The one store a token is limited to was deleted.
            note_failure("store_gone");
            return auth.unauthorized(Some("invalid_token"), &message);
        }
        Err(error) => {
            tracing::error!(error = %error, "checking an access token failed");
            return refusal(
                StatusCode::SERVICE_UNAVAILABLE,
                "unavailable",
                "the server could not check the access token; try again shortly",
            );
        }
    };
    let (tenant, store) = opened.unzip();
    let request_id = request
        .headers()
        .get(REQUEST_ID)
        .and_then(|value| value.to_str().ok())
        .map(Arc::from);
    request.extensions_mut().insert(Principal {
        tenant_id: record.tenant_id.to_string(),
        access: access_of(&record),
        tenant,
        store: store.flatten(),
        request_id,
    });
    next.run(request).await
}

#[cfg(test)]
mod tests {
    use secrecy::ExposeSecret;

    use super::*;

    #[test]
    fn only_the_bearer_scheme_carries_a_token() {
        let mut headers = HeaderMap::new();
        assert!(bearer(&headers).is_none());
        headers.insert(header::AUTHORIZATION, "Basic abc".parse().unwrap());
        assert!(bearer(&headers).is_none());
        headers.insert(header::AUTHORIZATION, "bearer  odat_x ".parse().unwrap());
        assert_eq!(bearer(&headers).unwrap().expose_secret(), "odat_x");
    }
}
