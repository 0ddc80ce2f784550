//! The receiver of OrderDesk's pushes: `POST /webhooks/orderdesk` (and
//! `/webhooks/orderdesk/{store_id}`), where a store's "post order to URL" rule sends an
//! order when it is created, changed or moved.
//!
//! OrderDesk's scheme: a form POST with one field, `order`, holding the order's JSON;
//! `X-Order-Desk-Store-Id` names the store and `X-Order-Desk-Hash` is the hex
//! HMAC-SHA256 of that JSON keyed with the store's API key. The key never leaves the
//! vault: [`Vault::verify_webhook`](orderdesk_vault::Vault::verify_webhook) checks the
//! hash for every tenant that registered the store, and the push belongs to the
//! tenants whose key matches.
//!
//! Answers: 400 for a missing or malformed body or store id, 403 for an unknown store
//! or a wrong hash, 413 over the body limit (the guard's), 200 once recorded. A request
//! that fails is counted (`orderdesk_mcp_webhooks_total{outcome}`) and logged with its
//! source address only: nothing of its body or headers is kept.
//!
//! A verified push is recorded as an event per tenant (a duplicate push once), then
//! [`PushFeed::poke`] has every session told and the store's cache dropped at once.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use orderdesk_vault::{PushedOrder, VaultError, order_digest};
use serde_json::{Value, json};

use super::guard::ClientIp;
use crate::app::pushes::PushFeed;
use crate::services::Services;

/// The header naming the store a push is for.
pub const STORE_ID_HEADER: &str = "x-order-desk-store-id";
/// The header carrying the push's signature.
pub const HASH_HEADER: &str = "x-order-desk-hash";
/// The route OrderDesk's rules post to (the store id may follow as one more segment).
pub const PATH: &str = "/webhooks/orderdesk";

/// What the receiver needs.
pub struct Receiver {
    pub services: Arc<Services>,
    pub feed: Arc<PushFeed>,
}

/// Why a push was refused: its status, the counter's outcome and what the sender reads.
struct Refusal {
    status: StatusCode,
    outcome: &'static str,
    message: &'static str,
}

impl Refusal {
    const fn bad_request(outcome: &'static str, message: &'static str) -> Refusal {
        Refusal {
            status: StatusCode::BAD_REQUEST,
            outcome,
            message,
        }
    }

    const fn forbidden(outcome: &'static str, message: &'static str) -> Refusal {
        Refusal {
            status: StatusCode::FORBIDDEN,
            outcome,
            message,
        }
    }
}

/// `POST /webhooks/orderdesk`.
pub async fn receive(
    State(receiver): State<Arc<Receiver>>,
    client: Option<Extension<ClientIp>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    handle(&receiver, client, None, &headers, &body).await
}

/// `POST /webhooks/orderdesk/{store_id}`: the store id in the path must be the header's.
pub async fn receive_for_store(
    State(receiver): State<Arc<Receiver>>,
    client: Option<Extension<ClientIp>>,
    Path(store_id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    handle(&receiver, client, Some(store_id), &headers, &body).await
}

async fn handle(
    receiver: &Receiver,
    client: Option<Extension<ClientIp>>,
    path_store: Option<String>,
    headers: &HeaderMap,
    body: &[u8],
) -> Response {
    match accept(receiver, path_store, headers, body).await {
        Ok(recorded) => {
            crate::telemetry::webhook("recorded");
            (
                StatusCode::OK,
                Json(json!({"status": "success", "recorded": recorded})),
            )
                .into_response()
        }
        Err(refusal) => {
            crate::telemetry::webhook(refusal.outcome);
            tracing::info!(
                client_ip = client.map(|ip| ip.0.0.to_string()).unwrap_or_default(),
                status = refusal.status.as_u16(),
                reason = refusal.outcome,
                "OrderDesk push refused"
            );
            (
                refusal.status,
                Json(json!({"status": "error", "message": refusal.message})),
            )
                .into_response()
        }
    }
}

/// Check a push and record it; how many tenants' events were new.
async fn accept(
    receiver: &Receiver,
    path_store: Option<String>,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<usize, Refusal> {
    let store_id = header_text(headers, STORE_ID_HEADER)
        .filter(|id| is_store_id(id))
        .ok_or(Refusal::bad_request(
            "bad_store_id",
            "X-Order-Desk-Store-Id must hold the store's numeric id",
        ))?;
    if path_store.is_some_and(|path| path != store_id) {
        return Err(Refusal::forbidden(
            "wrong_store",
            "the store id in the URL is not X-Order-Desk-Store-Id's",
        ));
    }
    let hash = header_text(headers, HASH_HEADER).ok_or(Refusal::forbidden(
        "bad_hash",
        "X-Order-Desk-Hash is missing",
    ))?;
    let order_json = order_field(headers, body)?;
    let order = parse_order(&order_json, &store_id)?;

    let services = receiver.services.clone();
    let verify_store = store_id.clone();
    let order_bytes = order_json.clone().into_bytes();
    let recorded = services
        .with_vault(move |vault| {
            let tenants: Vec<_> = vault
                .verify_webhook(&verify_store, &order_bytes, &hash)?
                .into_iter()
                .map(|matched| matched.tenant_id)
                .collect();
            if tenants.is_empty() {
                return Ok(None);
            }
            vault.record_webhook_event(&tenants, &order).map(Some)
        })
        .await;
    let recorded = match recorded {
        Ok(Some(recorded)) => recorded,
        Ok(None) => {
            return Err(Refusal::forbidden(
                "unverified",
                "no store with this id and key here: check the rule's store, and that the \
                 store was used once since it was registered or its key changed",
            ));
        }
        Err(error) => {
            log_storage_error(&error);
            return Err(Refusal {
                status: StatusCode::SERVICE_UNAVAILABLE,
                outcome: "unavailable",
                message: "the server could not record the push; OrderDesk may send it again",
            });
        }
    };
    // The feed drops cached reads and tells subscribed sessions, for this process and
    // (through the events table) for every other one on the same database.
    receiver.feed.poke();
    Ok(recorded.iter().filter(|event| event.new).count())
}

fn log_storage_error(error: &VaultError) {
    tracing::error!(%error, "recording an OrderDesk push failed");
}

fn header_text(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get(name)
        .and_then(|value| value.to_str().ok())
        .map(|value| value.trim().to_string())
        .filter(|value| !value.is_empty())
}

/// OrderDesk's store ids are numbers.
fn is_store_id(text: &str) -> bool {
    !text.is_empty() && text.len() <= 20 && text.bytes().all(|b| b.is_ascii_digit())
}

/// The form field `order` (`application/x-www-form-urlencoded`, as OrderDesk posts).
fn order_field(headers: &HeaderMap, body: &[u8]) -> Result<String, Refusal> {
    let is_form = headers
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|value| {
            value
                .split(';')
                .next()
                .is_some_and(|media| media.trim() == "application/x-www-form-urlencoded")
        });
    if !is_form {
        return Err(Refusal::bad_request(
            "bad_body",
            "send the order as the form field `order` (application/x-www-form-urlencoded)",
        ));
    }
    let fields: Vec<(String, String)> = serde_urlencoded::from_bytes(body).map_err(|_| {
        Refusal::bad_request("bad_body", "the body is not a valid form (field `order`)")
    })?;
    fields
        .into_iter()
        .find(|(name, _)| name == "order")
        .map(|(_, value)| value)
        .filter(|value| !value.trim().is_empty())
        .ok_or(Refusal::bad_request(
            "bad_body",
            "the form has no field `order` holding the order's JSON",
        ))
}

/// What an event records of the order: its id, folder and `date_updated`, and the
/// digest of the JSON as sent.
fn parse_order(order_json: &str, store_id: &str) -> Result<PushedOrder, Refusal> {
    let malformed = || {
        Refusal::bad_request(
            "bad_body",
            "the field `order` must hold an order as JSON, with its `id`",
        )
    };
    let order: Value = serde_json::from_str(order_json).map_err(|_| malformed())?;
    let text_or_number = |value: &Value| match value {
        Value::String(text) if !text.is_empty() => Some(text.clone()),
        Value::Number(number) => Some(number.to_string()),
        _ => None,
    };
    let order_id = order
        .get("id")
        .and_then(text_or_number)
        .filter(|id| id.len() <= 20 && id.bytes().all(|b| b.is_ascii_digit()))
        .ok_or_else(malformed)?;
    let folder_id = order
        .get("folder_id")
        .and_then(text_or_number)
        .and_then(|id| id.parse::<i64>().ok());
    let date_updated = order
        .get("date_updated")
        .and_then(Value::as_str)
        .map(|date| date.chars().take(32).collect());
    Ok(PushedOrder {
        store_id: store_id.to_string(),
        order_id,
        folder_id,
        date_updated,
        digest: order_digest(order_json.as_bytes()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn form_headers() -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(
            header::CONTENT_TYPE,
            "application/x-www-form-urlencoded; charset=utf-8"
                .parse()
                .unwrap(),
        );
        headers
    }

    #[test]
    fn the_order_comes_from_the_form_field() {
        let body =
            serde_urlencoded::to_string([("order", r#"{"id":"12","folder_id":"3"}"#)]).unwrap();
        let json = order_field(&form_headers(), body.as_bytes()).ok().unwrap();
        let order = parse_order(&json, "1").ok().unwrap();
        assert_eq!(order.order_id, "12");
        assert_eq!(order.folder_id, Some(3));
        assert_eq!(order.date_updated, None);
        assert_eq!(order.digest, order_digest(json.as_bytes()));
    }

    #[test]
    fn malformed_bodies_are_bad_requests() {
        let bad = |headers: &HeaderMap, body: &str| {
            let status = order_field(headers, body.as_bytes())
                .and_then(|json| parse_order(&json, "1"))
                .err()
                .map(|refusal| refusal.status);
            assert_eq!(status, Some(StatusCode::BAD_REQUEST), "{body}");
        };
        bad(&HeaderMap::new(), "order=%7B%22id%22%3A1%7D");
        bad(&form_headers(), "");
        bad(&form_headers(), "other=1");
        bad(&form_headers(), "order=");
        bad(&form_headers(), "order=not-json");
        bad(&form_headers(), "order=%7B%7D");
        bad(&form_headers(), "order=%7B%22id%22%3A%22x1%22%7D");
        bad(&form_headers(), "order=%5B1%5D");
    }

    #[test]
    fn store_ids_are_numbers() {
        assert!(is_store_id("100001"));
        assert!(!is_store_id(""));
        assert!(!is_store_id("12a"));
        assert!(!is_store_id(&"1".repeat(21)));
    }
}
