//! The services' errors onto the WIT `host-error`, in one place. Messages never hold
//! secrets, and say what to do next: the model at the other end reads them.
//!
//! | service error | WIT `host-error` | why |
//! |---|---|---|
//! | grant missing (checked per call) | `access-denied` | |
//! | `vault.authenticate` in the sandbox | `not-available` | the sandbox has only its demo tenant |
//! | `VaultError::Unauthenticated`, no tenant in the session | `unauthenticated` | |
//! | `VaultError::TooManyAttempts` | `rate-limited(ms)` | |
//! | `VaultError::NotFound` | `not-found` | |
//! | `VaultError::Conflict` | `conflict` | |
//! | `VaultError::InvalidInput` | `invalid-input` | |
//! | `VaultError::OriginMismatch` | `not-available` | the store's key was saved for another API origin than this server's: only the operator can change that |
//! | `VaultError::Decrypt`, `Storage`, `Config` | `internal` | host faults; the details go to the log |
//! | `GatewayError::InvalidInput` | `invalid-input` | |
//! | `GatewayError::NotFound` | `not-found` | |
//! | `GatewayError::RateLimited` | `rate-limited(ms)` | |
//! | `GatewayError::Upstream{status}` | `upstream{status}` | |
//! | `GatewayError::Unauthorized` | `upstream{401}` | OrderDesk refused the *store's* key: not the session's authentication |
//! | `GatewayError::Timeout` | `upstream{504}` | as an HTTP proxy would answer; the message says it timed out |
//! | `GatewayError::Transport` | `upstream{502}` | as an HTTP proxy would answer; the message says it was unreachable |
//! | `GatewayError::ResponseTooLarge` | `invalid-input` | the component asked for too much at once |
//! | `GatewayError::OutcomeUnknown` | `outcome-unknown` | |
//! | `GatewayError::Internal` | `internal` | |
//! | `CredentialCheckError::Refused` | `invalid-input` | the caller passed a wrong store id or key |
//! | `CredentialCheckError::Refused` of `update-store-key` | `invalid-input` | the new key is wrong; the old one is kept |
//!
//! Several gateway errors share `upstream` on purpose: the WIT is a published contract,
//! and a component handles "OrderDesk (or the way to it) failed" the same way whatever
//! the cause; the status and the message keep the cause.

use orderdesk_gateway::GatewayError;
use orderdesk_vault::VaultError;

use crate::bindings::{HostError, UpstreamError};
use crate::services::CredentialCheckError;

/// The vault's errors onto the WIT variants.
pub fn vault_error(error: VaultError) -> HostError {
    match error {
        VaultError::Unauthenticated(m) => HostError::Unauthenticated(format!(
            "{m}; check the master key (it starts with `odmk_`) or create a tenant with \
             `orderdesk-mcp tenant create`"
        )),
        VaultError::TooManyAttempts { retry_after_ms } => HostError::RateLimited(retry_after_ms),
        VaultError::NotFound(m) => HostError::NotFound(m),
        VaultError::Conflict(m) => HostError::Conflict(m),
        VaultError::InvalidInput(m) => HostError::InvalidInput(m),
        error @ VaultError::OriginMismatch { .. } => {
            tracing::warn!(error = %error, "store key refused for another API origin");
            HostError::NotAvailable(error.to_string())
        }
        error @ VaultError::Decrypt => HostError::Internal(error.to_string()),
        VaultError::Storage(m) | VaultError::Config(m) => {
            // The details (file paths, SQL) are for the operator, not the model.
            tracing::error!(error = %m, "vault failure");
            HostError::Internal(
                "the host's storage failed (the details are in the server's log); try \
                 again, and tell the operator if it persists"
                    .into(),
            )
        }
    }
}

/// The gateway's errors onto the WIT variants.
pub fn gateway_error(error: GatewayError) -> HostError {
    match error {
        GatewayError::InvalidInput(m) => HostError::InvalidInput(m),
        GatewayError::Unauthorized(m) => HostError::Upstream(UpstreamError {
            status: 401,
            message: format!(
                "{m}; the store id or API key registered for this store is wrong or was \
                 revoked: replace the key with the current one (`orderdesk-mcp stores \
                 update-key STORE`, which keeps it out of the chat, or the stores_update_key \
                 tool)"
            ),
        }),
        GatewayError::NotFound(m) => HostError::NotFound(m),
        GatewayError::RateLimited { retry_after_ms } => HostError::RateLimited(retry_after_ms),
        GatewayError::Upstream { status, message } => {
            HostError::Upstream(UpstreamError { status, message })
        }
        GatewayError::OutcomeUnknown(m) => HostError::OutcomeUnknown(m),
        GatewayError::Timeout(m) => HostError::Upstream(UpstreamError {
            status: 504,
            message: format!("OrderDesk did not answer in time ({m}); try again later"),
        }),
        GatewayError::Transport(m) => HostError::Upstream(UpstreamError {
            status: 502,
            message: format!("could not reach OrderDesk ({m}); try again later"),
        }),
        GatewayError::ResponseTooLarge(cap) => HostError::InvalidInput(format!(
            "OrderDesk's answer is larger than the host's {cap}-byte cap; ask for fewer \
             records (e.g. a smaller `limit`)"
        )),
        GatewayError::Internal(m) => HostError::Internal(m),
    }
}

/// A failed credential check onto the WIT variants.
pub fn credential_error(error: CredentialCheckError) -> HostError {
    match error {
        refused @ CredentialCheckError::Refused { .. } => HostError::InvalidInput(format!(
            "{refused}, or pass verify: false to save without checking"
        )),
        CredentialCheckError::Gateway(error) => gateway_error(error),
    }
}

/// A failed check of a replacement key (`update-store-key`, which always checks) onto
/// the WIT variants.
pub fn replacement_key_error(error: CredentialCheckError) -> HostError {
    match error {
        CredentialCheckError::Refused { store_id } => HostError::InvalidInput(format!(
            "OrderDesk refused store id {store_id} with the new API key, so the old key was \
             kept; check the key in OrderDesk (Settings → API) and try again"
        )),
        CredentialCheckError::Gateway(error) => match gateway_error(error) {
            HostError::Upstream(UpstreamError { status, message }) => {
                HostError::Upstream(UpstreamError {
                    status,
                    message: format!(
                        "{message}; the new key was not checked, so the old one was kept"
                    ),
                })
            }
            other => other,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_gateway_error_keeps_its_cause_in_the_status() {
        let status = |e| match gateway_error(e) {
            HostError::Upstream(UpstreamError { status, .. }) => Some(status),
            _ => None,
        };
        assert_eq!(status(GatewayError::Unauthorized("no".into())), Some(401));
        assert_eq!(status(GatewayError::Timeout("30 s".into())), Some(504));
        assert_eq!(status(GatewayError::Transport("refused".into())), Some(502));
        assert!(matches!(
            gateway_error(GatewayError::OutcomeUnknown("POST /orders".into())),
            HostError::OutcomeUnknown(m) if m == "POST /orders"
        ));
        assert!(matches!(
            gateway_error(GatewayError::RateLimited {
                retry_after_ms: 1500
            }),
            HostError::RateLimited(1500)
        ));
    }

    #[test]
    fn a_refused_key_tells_how_to_go_on() {
        let error = credential_error(CredentialCheckError::Refused {
            store_id: "123".into(),
        });
        let HostError::InvalidInput(message) = error else {
            panic!("invalid-input expected")
        };
        assert!(message.contains("store id 123"), "{message}");
        assert!(message.contains("verify: false"), "{message}");
    }

    #[test]
    fn a_store_key_orderdesk_refuses_points_at_update_key() {
        let HostError::Upstream(UpstreamError { status, message }) =
            gateway_error(GatewayError::Unauthorized("Invalid API key".into()))
        else {
            panic!("upstream expected")
        };
        assert_eq!(status, 401);
        assert!(message.contains("stores_update_key"), "{message}");
        assert!(
            message.contains("orderdesk-mcp stores update-key"),
            "{message}"
        );
        assert!(!message.contains("register the store again"), "{message}");
    }

    #[test]
    fn a_key_for_another_origin_names_both_and_is_not_available() {
        let error = vault_error(VaultError::OriginMismatch {
            store_id: "123".into(),
            registered: "https://app.orderdesk.me".into(),
            requested: "https://evil.example".into(),
        });
        let HostError::NotAvailable(message) = error else {
            panic!("not-available expected, got {error:?}")
        };
        assert!(message.contains("https://app.orderdesk.me"), "{message}");
        assert!(message.contains("https://evil.example"), "{message}");
        assert!(message.contains("stores update-key 123"), "{message}");
    }

    #[test]
    fn a_refused_replacement_key_keeps_the_old_one() {
        let HostError::InvalidInput(message) =
            replacement_key_error(CredentialCheckError::Refused {
                store_id: "123".into(),
            })
        else {
            panic!("invalid-input expected")
        };
        assert!(message.contains("old key was kept"), "{message}");
        assert!(!message.contains("verify: false"), "{message}");
    }

    #[test]
    fn storage_faults_are_internal_and_name_no_secret() {
        assert!(matches!(
            vault_error(VaultError::Storage("/srv/data/orderdesk-mcp.sqlite3: disk full".into())),
            HostError::Internal(m) if m.contains("storage failed") && !m.contains("/srv") && !m.contains("disk full")
        ));
        assert!(matches!(
            vault_error(VaultError::TooManyAttempts { retry_after_ms: 10 }),
            HostError::RateLimited(10)
        ));
    }
}
