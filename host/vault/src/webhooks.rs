//! OrderDesk's pushes ("post order to URL" rules): verifying their signature and
//! recording them as events a tenant's sessions can read.
//!
//! # Verifying without the API key
//!
//! OrderDesk signs a push with `X-Order-Desk-Hash`, HMAC-SHA256 of the order JSON keyed
//! with the store's API key. That key is stored so that only a session authenticated with
//! the tenant's master key can decrypt it, and a push brings no master key. So whenever
//! the vault has a store's API key in the clear ([`Vault::add_store`],
//! [`Vault::update_store_key`], and [`Vault::store_api_key`] for a store saved before
//! this existed), it also saves the HMAC key's *state*: SHA-256's internal state after the
//! key⊕ipad block and after the key⊕opad block (`crypto::HmacState`), encrypted under a
//! key derived from the server key and bound to the tenant and the store. From those
//! states the vault computes the push's HMAC; they do not give the API key back. Whoever
//! holds both the database and the server key can therefore forge pushes (make the host
//! record events), but still cannot call OrderDesk with a tenant's key.
//!
//! A store that has not been used in a session since it was registered has no state yet,
//! and its pushes are refused: [`Vault::webhook_readiness`] says which.
//!
//! One OrderDesk store may be registered by several tenants (with the same key or with
//! different ones): [`Vault::verify_webhook`] answers every tenant whose key made the
//! signature, and [`Vault::record_webhook_event`] records the push once for each.
//!
//! # Events
//!
//! The host parses the order JSON (the vault has no JSON library) into a
//! [`PushedOrder`]; its [`order_digest`] makes a repeated push (a retry, a rule firing
//! twice) recognisable, so it is recorded once. Events are kept for
//! [`VaultOptions::webhook_retention`](crate::VaultOptions::webhook_retention), then
//! [`Vault::prune_webhook_events`] deletes them. Their ids only grow, so a process that
//! did not receive a push itself (a stdio server beside an HTTP one) hears of it by
//! polling [`Vault::webhook_events_after`].

use rusqlite::TransactionBehavior;
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};

use crate::crypto::{self, HmacState};
use crate::db::{self, StoreKeyRow};
use crate::keys::ServerKeys;
use crate::stores::{validate_store_id, validate_text};
use crate::{TenantId, Vault, VaultError, clock};

/// The most events one [`Vault::webhook_events`] or [`Vault::webhook_events_after`]
/// answers.
pub const WEBHOOK_EVENTS_MAX: u32 = 500;
/// Limits on what a push may record (OrderDesk's order ids are numbers, its dates
/// `YYYY-MM-DD HH:MM:SS`).
const MAX_ORDER_ID_LEN: usize = 100;
const MAX_DATE_LEN: usize = 64;

/// A tenant whose key for the pushing store made a push's signature.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct WebhookMatch {
    pub tenant_id: TenantId,
    /// The tenant's name for the store.
    pub store_name: String,
}

/// What the host read from a verified push, to record it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PushedOrder {
    /// OrderDesk's store id (the verified `X-Order-Desk-Store-Id`).
    pub store_id: String,
    pub order_id: String,
    pub folder_id: Option<i64>,
    /// The order's `date_updated` as OrderDesk sent it.
    pub date_updated: Option<String>,
    /// [`order_digest`] of the body.
    pub digest: String,
}

/// The event recorded for one tenant.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecordedEvent {
    pub tenant_id: TenantId,
    pub event_id: i64,
    /// `false`: the same push was recorded before (`event_id` is that event's).
    pub new: bool,
}

/// Which of a tenant's events [`Vault::webhook_events`] answers; each field given
/// narrows it.
#[derive(Clone, Debug, Default)]
pub struct WebhookEventQuery {
    /// Pushes of this OrderDesk store.
    pub store_id: Option<String>,
    /// Received at or after this time (`YYYY-MM-DD` or `YYYY-MM-DD HH:MM:SS`, UTC).
    pub since: Option<String>,
    /// Older than this event (the last `event_id` of the previous page).
    pub before_event_id: Option<i64>,
    /// At most this many (1 to [`WEBHOOK_EVENTS_MAX`]).
    pub limit: u32,
}

/// A recorded push.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct WebhookEvent {
    pub event_id: i64,
    pub tenant_id: TenantId,
    /// OrderDesk's store id.
    pub store_id: String,
    /// The tenant's name for the store; `None` when it no longer has that store.
    pub store_name: Option<String>,
    pub order_id: String,
    pub folder_id: Option<i64>,
    pub date_updated: Option<String>,
    /// `YYYY-MM-DD HH:MM:SS` UTC.
    pub received_at: String,
}

/// The digest of a push's body (SHA-256, lowercase hex) for [`PushedOrder::digest`].
pub fn order_digest(body: &[u8]) -> String {
    crypto::sha256_hex(body)
}

/// The encrypted webhook key state of `api_key` for the tenant's store.
pub(crate) fn seal_state(
    keys: &ServerKeys,
    tenant_id: &str,
    store_id: &str,
    api_key: &str,
) -> Result<Vec<u8>, VaultError> {
    crypto::seal_webhook_state(
        keys.webhook(),
        &crypto::webhook_state_aad(tenant_id, store_id),
        &HmacState::new(api_key.as_bytes()),
    )
}

impl Vault {
    /// The tenants a push from OrderDesk store `store_id` with body `order_json` and
    /// `X-Order-Desk-Hash` `hash_hex` comes for: every tenant (not revoked) that
    /// registered that store and whose API key for it makes that HMAC (compared in
    /// constant time). Empty (refuse the push, 403) for a wrong signature, a store no
    /// tenant registered or none has a key state for, or a hash that is not 64 hex
    /// digits. Errors are the database's, or `Config` when the server key was rotated by
    /// another process; none carries the body, the hash or a key.
    pub fn verify_webhook(
        &self,
        store_id: &str,
        order_json: &[u8],
        hash_hex: &str,
    ) -> Result<Vec<WebhookMatch>, VaultError> {
        let Some(tag) = crypto::parse_mac_hex(hash_hex) else {
            return Ok(Vec::new());
        };
        let Ok(store_id) = validate_store_id(store_id) else {
            return Ok(Vec::new());
        };
        let keys = self.keys();
        let candidates = db::webhook_states_of_store(&self.conn(), store_id)?;
        let mut matches = Vec::new();
        let mut unreadable = false;
        for row in candidates {
            let aad = crypto::webhook_state_aad(&row.tenant_id, &row.store_id);
            match crypto::open_webhook_state(keys.webhook(), &aad, &row.hmac_state) {
                Ok(state) => {
                    if state.verify(order_json, &tag) {
                        matches.push(WebhookMatch {
                            tenant_id: TenantId(row.tenant_id),
                            store_name: row.store_name,
                        });
                    }
                }
                Err(VaultError::Decrypt) => unreadable = true,
                Err(e) => return Err(e),
            }
        }
        if unreadable && matches.is_empty() {
            // Say so when the cause is a server key changed under us.
            self.check_server_key(&self.conn(), &keys)?;
        }
        Ok(matches)
    }

    /// Record a verified push once for each of `tenants` (those
    /// [`Vault::verify_webhook`] answered), in one transaction. A push recorded before
    /// for a tenant (same store, order, `date_updated` and digest) is not recorded again:
    /// its entry has the earlier event's id and `new: false`.
    pub fn record_webhook_event(
        &self,
        tenants: &[TenantId],
        order: &PushedOrder,
    ) -> Result<Vec<RecordedEvent>, VaultError> {
        let order = validate_order(order)?;
        if tenants.is_empty() {
            return Ok(Vec::new());
        }
        let received_at = clock::utc_now();
        let mut conn = self.conn();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let mut recorded = Vec::with_capacity(tenants.len());
        for tenant in tenants {
            let (event_id, new) = db::insert_webhook_event(&tx, tenant, &order, &received_at)?;
            recorded.push(RecordedEvent {
                tenant_id: tenant.clone(),
                event_id,
                new,
            });
        }
        tx.commit()?;
        Ok(recorded)
    }

    /// The tenant's events that match `query`, newest first.
    pub fn webhook_events(
        &self,
        tenant: &TenantId,
        query: &WebhookEventQuery,
    ) -> Result<Vec<WebhookEvent>, VaultError> {
        db::webhook_events(&self.conn(), tenant, query, clamp_limit(query.limit))
    }

    /// Every tenant's events after event `after_event_id`, oldest first, at most `limit`
    /// (1 to [`WEBHOOK_EVENTS_MAX`]): what a process polls to hear of pushes another
    /// process recorded. Start from [`Vault::latest_webhook_event_id`].
    pub fn webhook_events_after(
        &self,
        after_event_id: i64,
        limit: u32,
    ) -> Result<Vec<WebhookEvent>, VaultError> {
        db::webhook_events_after(&self.conn(), after_event_id, clamp_limit(limit))
    }

    /// The id of the newest event, 0 when there is none.
    pub fn latest_webhook_event_id(&self) -> Result<i64, VaultError> {
        db::latest_webhook_event_id(&self.conn())
    }

    /// Delete the events received longer than
    /// [`VaultOptions::webhook_retention`](crate::VaultOptions::webhook_retention) ago;
    /// returns how many.
    pub fn prune_webhook_events(&self) -> Result<usize, VaultError> {
        let retention = i64::try_from(self.webhook_retention.as_secs()).unwrap_or(i64::MAX);
        let cutoff = clock::format_unix(clock::unix_now().saturating_sub(retention));
        db::prune_webhook_events(&self.conn(), &cutoff)
    }

    /// The tenant's stores as (name, OrderDesk store id, whether the vault can verify
    /// its pushes), by name. A store without a key state was registered before pushes
    /// were verified and has not been used since: using it once in a session (any call
    /// that reads the store's key) makes one.
    pub fn webhook_readiness(
        &self,
        tenant: &TenantId,
    ) -> Result<Vec<(String, String, bool)>, VaultError> {
        db::webhook_readiness(&self.conn(), tenant)
    }

    /// After a session decrypted `row`'s API key: save its webhook key state if the store
    /// has none (it was saved before pushes were verified), provided the store's key is
    /// still the one decrypted.
    pub(crate) fn add_missing_webhook_state(
        &self,
        keys: &ServerKeys,
        row: &StoreKeyRow,
        api_key: &SecretString,
    ) -> Result<(), VaultError> {
        let blob = seal_state(keys, &row.tenant_id, &row.store_id, api_key.expose_secret())?;
        let conn = self.conn();
        self.check_server_key(&conn, keys)?;
        db::add_webhook_state_for_key(&conn, &row.tenant_id, &row.store_id, &blob, &row.api_key)?;
        Ok(())
    }
}

fn clamp_limit(limit: u32) -> i64 {
    i64::from(limit.clamp(1, WEBHOOK_EVENTS_MAX))
}

/// The order checked and trimmed: what ends up in tool results must be short, without
/// control characters.
fn validate_order(order: &PushedOrder) -> Result<PushedOrder, VaultError> {
    let store_id = validate_store_id(&order.store_id)?;
    let order_id = order.order_id.trim();
    if order_id.is_empty() {
        return Err(VaultError::InvalidInput("the order id is empty".into()));
    }
    let order_id = validate_text("order id", order_id, MAX_ORDER_ID_LEN)?;
    let date_updated = match order.date_updated.as_deref().map(str::trim) {
        Some(d) if !d.is_empty() => Some(validate_text("date_updated", d, MAX_DATE_LEN)?),
        _ => None,
    };
    let digest = &order.digest;
    if digest.len() != 64
        || !digest
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    {
        return Err(VaultError::InvalidInput(
            "the digest must be order_digest() of the body (64 lowercase hex digits)".into(),
        ));
    }
    Ok(PushedOrder {
        store_id: store_id.to_string(),
        order_id: order_id.to_string(),
        folder_id: order.folder_id,
        date_updated: date_updated.map(str::to_string),
        digest: digest.clone(),
    })
}
