//! The one mapping of the host's errors to the tool errors the model reads.
//!
//! The host's message always comes through; what the mapping adds is the next step,
//! as precise as the caller's [`ErrorContext`] allows. [`host_error`] knows nothing of
//! the call; a component that calls OrderDesk a lot describes each request (the
//! `orderdesk-store-api` crate's `Target` does) and gets messages that name the request,
//! the thing that was not found and the tool that finds it.

use crate::{HostError, ToolError, UpstreamError};

/// The `upstream` status with which a test's scripted OrderDesk (the host's harness
/// behind `orderdesk-mcp component test`, or the kit's `testing::MockHost`) refuses a
/// request it was not scripted to expect. OrderDesk never sends it, so the hint for it
/// talks about the script rather than about OrderDesk.
///
/// ```
/// use orderdesk_tool_kit::errors::SCRIPT_MISMATCH_STATUS;
/// use orderdesk_tool_kit::orderdesk::{self, ApiRequest, CacheMode, Method};
/// use orderdesk_tool_kit::{HostError, testing::MockHost};
///
/// let _host = MockHost::with_store(); // no reply scripted
/// let request = ApiRequest { method: Method::Get, path: "/test".into(), query: vec![],
///                            body: None, store: None, cache: CacheMode::Bypass };
/// let Err(HostError::Upstream(refused)) = orderdesk::send(&request) else { panic!() };
/// assert_eq!(refused.status, SCRIPT_MISMATCH_STATUS);
/// ```
pub const SCRIPT_MISMATCH_STATUS: u16 = 599;

/// What a failed host call was about. Every field is optional: each one the caller
/// fills in makes the message say more precisely what to do next.
///
/// ```
/// use orderdesk_tool_kit::errors::{ErrorContext, map_host_error};
/// use orderdesk_tool_kit::{HostError, ToolError};
///
/// let context = ErrorContext {
///     request: Some("GET /inventory-items/9".into()),
///     subject: Some("inventory item 9".into()),
///     lookup: Some("find the id with inventory_list".into()),
///     ..ErrorContext::default()
/// };
/// let error = map_host_error(HostError::NotFound("Inventory Item Not Found".into()), &context);
/// assert_eq!(error, ToolError::NotFound(
///     "inventory item 9 was not found in the session's active store (Inventory Item Not Found); \
///      find the id with inventory_list".into()));
/// ```
#[derive(Clone, Debug, Default)]
pub struct ErrorContext {
    /// The OrderDesk request, e.g. `GET /orders/3344551`.
    pub request: Option<String>,
    /// Whether the request writes (POST, PUT, DELETE): a failed read can simply be
    /// retried, a failed write may have to be checked first.
    pub write: bool,
    /// The `store` the call named; `None` means the session's active store.
    pub store: Option<String>,
    /// The thing the call addresses, e.g. `order 3344551`.
    pub subject: Option<String>,
    /// How to find the right id when the subject was not found, e.g. `check the id
    /// with orders_list`.
    pub lookup: Option<String>,
    /// What to check before retrying a write whose outcome is unknown, e.g. `check
    /// with orders_get before retrying`.
    pub verify: Option<String>,
}

/// Map a host error knowing nothing about the call: the host's message comes
/// through. For `map_err` after a host call.
///
/// ```
/// use orderdesk_tool_kit::orderdesk::{self, ApiRequest, CacheMode, Method};
/// use orderdesk_tool_kit::{ToolError, host_error, testing::MockHost};
///
/// let host = MockHost::with_store();
/// host.reply(404, serde_json::json!({"status": "error", "message": "Order Not Found"}));
/// let request = ApiRequest { method: Method::Get, path: "/orders/1".into(), query: vec![],
///                            body: None, store: None, cache: CacheMode::UseCache };
/// let error = orderdesk::send(&request).map_err(host_error).unwrap_err();
/// assert_eq!(error, ToolError::NotFound("Order Not Found".into()));
/// ```
pub fn host_error(error: HostError) -> ToolError {
    map_host_error(error, &ErrorContext::default())
}

/// Map a host error to the tool error the model reads, with a next step drawn from
/// `context` (see [`ErrorContext`] for an example; store-api's `Target` builds the
/// context of each request).
pub fn map_host_error(error: HostError, context: &ErrorContext) -> ToolError {
    let request = context.request.as_deref();
    match error {
        HostError::AccessDenied(m) => ToolError::Unauthorized(format!(
            "{m}; this component's manifest (NAME.toml beside NAME.wasm) does not grant it, or \
             the operator's config narrowed the grant: ask the operator"
        )),
        HostError::NotAvailable(m) => {
            ToolError::Internal(format!("{m} (this host does not provide it)"))
        }
        // The host's message already says how to authenticate.
        HostError::Unauthenticated(m) => ToolError::Unauthorized(m),
        HostError::InvalidInput(m) => ToolError::InvalidInput(match request {
            Some(request) => format!("{m} (in {request})"),
            None => m,
        }),
        HostError::NotFound(m) if names_a_store(&m) => ToolError::NotFound(format!(
            "{m}; check the store's name or id with stores_list"
        )),
        HostError::NotFound(m) => ToolError::NotFound(match &context.subject {
            Some(subject) => format!(
                "{subject} was not found in {} ({m}); {}",
                context.store_phrase(),
                context.lookup.as_deref().unwrap_or("check the id")
            ),
            None => m,
        }),
        HostError::Conflict(m) => conflict(match &context.verify {
            Some(verify) => {
                format!("{m} (this conflicts with the store's current state; {verify})")
            }
            None => m,
        }),
        HostError::RateLimited(ms) => ToolError::RateLimited(ms),
        HostError::Upstream(UpstreamError { status, message }) => {
            ToolError::Upstream(match request {
                Some(request) => format!(
                    "OrderDesk answered {request} with HTTP {status}: {message}; {}",
                    context.upstream_hint(status)
                ),
                None => format!("OrderDesk answered HTTP {status}: {message}"),
            })
        }
        HostError::OutcomeUnknown(m) => ToolError::OutcomeUnknown(match request {
            Some(request) => format!(
                "{request} may or may not have been applied ({m}); {}",
                context.verify()
            ),
            None => m,
        }),
        HostError::Internal(m) => ToolError::Internal(m),
    }
}

impl ErrorContext {
    fn store_phrase(&self) -> String {
        match &self.store {
            Some(store) => format!("store `{store}`"),
            None => "the session's active store".to_string(),
        }
    }

    fn verify(&self) -> &str {
        self.verify
            .as_deref()
            .unwrap_or("check with a read before retrying")
    }

    /// What to do after a request failed without a more specific cause: check before
    /// retrying a write, try a read again.
    ///
    /// ```
    /// # use orderdesk_tool_kit::errors::ErrorContext;
    /// assert_eq!(ErrorContext::default().after_failure(), "try again shortly");
    /// let write = ErrorContext { write: true, ..ErrorContext::default() };
    /// assert_eq!(write.after_failure(), "check with a read before retrying");
    /// ```
    pub fn after_failure(&self) -> &str {
        if self.write {
            self.verify()
        } else {
            "try again shortly"
        }
    }

    fn upstream_hint(&self, status: u16) -> String {
        match status {
            // Retrying or checking OrderDesk would be wrong advice: the test's script
            // refused the request.
            SCRIPT_MISMATCH_STATUS => "this is the test's script, not OrderDesk: make the \
                                       request match the script (or the script the request)"
                .to_string(),
            400 | 422 => "fix the fields it names and try again".to_string(),
            401 | 403 => format!(
                "the API key registered for {} may be wrong or revoked: replace it with the \
                 current key using stores_update_key (or, keeping the key out of the chat, \
                 `orderdesk-mcp stores update-key STORE` on the command line)",
                self.store_phrase()
            ),
            _ => self.after_failure().to_string(),
        }
    }
}

/// A not-found that names a store rather than an order, item, shipment or inventory
/// item.
fn names_a_store(message: &str) -> bool {
    let m = message.to_lowercase();
    m.contains("store")
        && !["order", "item", "shipment", "inventory"]
            .iter()
            .any(|w| m.contains(w))
}

/// How a conflict starts its `invalid-input` message: the WIT's `tool-error` has no case
/// of its own for it (a new case would break every component built against this
/// version), so the host tells one by this prefix and reports `error.kind = "conflict"`.
pub const CONFLICT_PREFIX: &str = "conflict: ";

/// The tool error for "the store's state is not what the call expected" (e.g. the record
/// changed since it was read; nothing was changed): the model reads it as
/// `error.kind = "conflict"`. Say both states and the next step.
///
/// ```
/// use orderdesk_tool_kit::errors::{conflict, conflict_message};
///
/// let error = conflict("order 7 changed since it was read; read it again".to_string());
/// assert_eq!(conflict_message(&error), Some("order 7 changed since it was read; read it again"));
/// ```
pub fn conflict(message: String) -> ToolError {
    ToolError::InvalidInput(format!("{CONFLICT_PREFIX}{message}"))
}

/// The message of a [`conflict`], without its prefix; `None` for any other error.
pub fn conflict_message(error: &ToolError) -> Option<&str> {
    match error {
        ToolError::InvalidInput(m) => m.strip_prefix(CONFLICT_PREFIX),
        _ => None,
    }
}

/// A tool error as one line, for results that report a partial failure.
///
/// ```
/// use orderdesk_tool_kit::{ToolError, errors::describe};
///
/// assert_eq!(describe(&ToolError::RateLimited(1500)), "rate-limited: retry after 1500 ms");
/// ```
pub fn describe(error: &ToolError) -> String {
    match error {
        // A conflict's message already starts with `conflict: `.
        ToolError::InvalidInput(m) if conflict_message(error).is_some() => m.clone(),
        ToolError::InvalidInput(m) => format!("invalid input: {m}"),
        ToolError::NotFound(m) => format!("not found: {m}"),
        ToolError::Unauthorized(m) => format!("unauthorized: {m}"),
        ToolError::RateLimited(ms) => format!("rate-limited: retry after {ms} ms"),
        ToolError::Upstream(m) => format!("OrderDesk failed: {m}"),
        ToolError::OutcomeUnknown(m) => format!("outcome unknown: {m}"),
        ToolError::Internal(m) => format!("internal error: {m}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn order_request() -> ErrorContext {
        ErrorContext {
            request: Some("PUT /orders/7".to_string()),
            write: true,
            store: Some("main".to_string()),
            subject: Some("order 7".to_string()),
            lookup: Some("check the id with orders_list".to_string()),
            verify: Some("check with orders_get before retrying".to_string()),
        }
    }

    #[test]
    fn without_context_the_host_message_comes_through() {
        assert_eq!(
            host_error(HostError::NotFound("no such tenant".into())),
            ToolError::NotFound("no such tenant".into())
        );
        assert_eq!(
            host_error(HostError::Upstream(UpstreamError {
                status: 401,
                message: "Invalid API key".into()
            })),
            ToolError::Upstream("OrderDesk answered HTTP 401: Invalid API key".into())
        );
        assert_eq!(
            host_error(HostError::Conflict("name taken".into())),
            conflict("name taken".into())
        );
        assert_eq!(
            host_error(HostError::RateLimited(2000)),
            ToolError::RateLimited(2000)
        );
    }

    #[test]
    fn a_request_context_names_the_request_the_subject_and_the_next_step() {
        let context = order_request();
        let ToolError::NotFound(m) = map_host_error(HostError::NotFound("404".into()), &context)
        else {
            panic!("not-found stays not-found");
        };
        assert_eq!(
            m,
            "order 7 was not found in store `main` (404); check the id with orders_list"
        );
        let ToolError::OutcomeUnknown(m) =
            map_host_error(HostError::OutcomeUnknown("timed out".into()), &context)
        else {
            panic!("outcome-unknown stays outcome-unknown");
        };
        assert_eq!(
            m,
            "PUT /orders/7 may or may not have been applied (timed out); check with orders_get \
             before retrying"
        );
        let ToolError::Upstream(m) = map_host_error(
            HostError::Upstream(UpstreamError {
                status: 503,
                message: "busy".into(),
            }),
            &context,
        ) else {
            panic!("upstream stays upstream");
        };
        assert!(m.ends_with("check with orders_get before retrying"), "{m}");
    }

    #[test]
    fn a_script_mismatch_in_a_test_is_not_told_to_try_again() {
        let ToolError::Upstream(m) = map_host_error(
            HostError::Upstream(UpstreamError {
                status: SCRIPT_MISMATCH_STATUS,
                message: "test harness: request #1 differs from the script".into(),
            }),
            &ErrorContext {
                request: Some("GET /inventory-items".to_string()),
                ..ErrorContext::default()
            },
        ) else {
            panic!("upstream stays upstream");
        };
        assert!(
            m.ends_with("make the request match the script (or the script the request)"),
            "{m}"
        );
        assert!(!m.contains("try again"), "{m}");
    }

    #[test]
    fn a_refused_key_points_at_replacing_it_not_registering_again() {
        let ToolError::Upstream(m) = map_host_error(
            HostError::Upstream(UpstreamError {
                status: 401,
                message: "Invalid API key".into(),
            }),
            &order_request(),
        ) else {
            panic!("upstream stays upstream");
        };
        assert!(m.contains("store `main`"), "{m}");
        assert!(m.contains("stores_update_key"), "{m}");
        assert!(m.contains("orderdesk-mcp stores update-key"), "{m}");
        assert!(
            !m.contains("stores_register"),
            "stores_register refuses a known store: {m}"
        );
    }

    #[test]
    fn a_missing_store_points_to_stores_list_even_with_a_subject() {
        let ToolError::NotFound(m) = map_host_error(
            HostError::NotFound("no store named `nope`".into()),
            &order_request(),
        ) else {
            panic!("not-found stays not-found");
        };
        assert!(m.contains("stores_list") && !m.contains("order 7"), "{m}");
    }
}
