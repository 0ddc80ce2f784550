//! OrderDesk's "post order to URL" rules: when an order is created, changed or moved
//! into a folder, OrderDesk POSTs the whole order to the URLs its rules name. The
//! simulator does the same, so that a receiver of those pushes can be tested end to end.
//!
//! A push is what OrderDesk sends:
//!
//! * `POST` with `Content-Type: application/x-www-form-urlencoded` and one field, `order`,
//!   holding the order JSON exactly as `GET /orders/{id}` answers it in its `order` field,
//!   after the change;
//! * `X-Order-Desk-Store-Id`: the store id;
//! * `X-Order-Desk-Hash`: lowercase hex HMAC-SHA256 of that order JSON string, keyed with
//!   the store's API key ([`sign_push`]).
//!
//! There is no event id (the payload is the order), so a receiver cannot tell a push
//! from a replay of it; the simulator never retries, which keeps tests deterministic.
//!
//! What fires ([`Trigger`]):
//!
//! * `Created` on `POST /orders` (only: an order created in a folder did not move there);
//! * `Updated` whenever a request leaves an existing order different from before it:
//!   `PUT /orders/{id}`, order history, items, shipments (one or in a batch),
//!   `POST /move-orders`, and another writer's edit ([`crate::Simulator::edit_order`]).
//!   A request that fails, or changes nothing, pushes nothing; a deleted order pushes
//!   nothing (OrderDesk has no push for a deletion);
//! * `MovedToFolder(f)` when such a change leaves the order in folder `f` and it was in
//!   another folder before (a move into the folder it is already in is only an update).
//!
//! Each rule pushes at most once per request and order: a rule with both `Updated` and
//! `MovedToFolder(f)` sends one push for a move into `f`, recorded with the more specific
//! trigger. A batch that touches one order twice pushes its final state once.
//!
//! Delivery never holds up the API's answer: pushes go to a tokio task per store, which
//! sends them one at a time in the order the changes happened (so a slow receiver delays
//! the store's later pushes, by [`PUSH_TIMEOUT`] at most each). Each attempt is recorded
//! as a [`WebhookDelivery`] (the last [`MAX_DELIVERIES`] per store are kept): the status
//! the receiver answered, whatever it was, or the transport error. There are no retries,
//! no redirects followed (a 3xx is recorded as such) and no proxy (pushes go straight to
//! the URL, as OrderDesk's own do). A rule removed while its pushes wait in the queue
//! still sends them: they were due when the change happened.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::fmt::Write as _;
use std::sync::{Arc, Mutex, OnceLock, Weak};
use std::time::{Duration, SystemTime};

use hmac::{Hmac, KeyInit, Mac};
use serde::{Deserialize, Serialize, Serializer};
use sha2::Sha256;
use tokio::sync::mpsc;

use crate::clock::format_instant;
use crate::state::lock;

/// The header naming the store a push comes from.
pub const PUSH_STORE_ID_HEADER: &str = "x-order-desk-store-id";
/// The header carrying [`sign_push`]'s signature of the pushed order JSON.
pub const PUSH_HASH_HEADER: &str = "x-order-desk-hash";
/// How long one push may take, from connecting to reading the answer.
pub const PUSH_TIMEOUT: Duration = Duration::from_secs(5);
/// Deliveries kept per store; older ones are forgotten.
pub const MAX_DELIVERIES: usize = 1000;

/// What makes a rule push an order.
///
/// In JSON (the `/_sim/…` control routes, [`WebhookDelivery`]) a trigger is an object
/// tagged by `kind`: `{"kind":"created"}`, `{"kind":"updated"}` or
/// `{"kind":"moved_to_folder","folder_id":1007}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(from = "TriggerSpec", into = "TriggerSpec")]
pub enum Trigger {
    /// The order was created (`POST /orders`).
    Created,
    /// Anything about an existing order changed.
    Updated,
    /// The order landed in this folder, coming from another one.
    MovedToFolder(u64),
}

/// [`Trigger`] on the wire: serde cannot tag a newtype variant holding a number. The
/// empty braces make serde refuse stray fields (`{"kind":"created","folder_id":3}` is
/// a mistake worth a 400), which it lets pass on a unit variant.
#[derive(Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
enum TriggerSpec {
    Created {},
    Updated {},
    MovedToFolder { folder_id: u64 },
}

impl From<TriggerSpec> for Trigger {
    fn from(spec: TriggerSpec) -> Self {
        match spec {
            TriggerSpec::Created {} => Trigger::Created,
            TriggerSpec::Updated {} => Trigger::Updated,
            TriggerSpec::MovedToFolder { folder_id } => Trigger::MovedToFolder(folder_id),
        }
    }
}

impl From<Trigger> for TriggerSpec {
    fn from(trigger: Trigger) -> Self {
        match trigger {
            Trigger::Created => TriggerSpec::Created {},
            Trigger::Updated => TriggerSpec::Updated {},
            Trigger::MovedToFolder(folder_id) => TriggerSpec::MovedToFolder { folder_id },
        }
    }
}

/// A "post order to URL" rule of one store: push the order to `url` on any of `triggers`.
///
/// In JSON: `{"url":"http://127.0.0.1:8080/hook","triggers":[{"kind":"created"}]}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WebhookRule {
    pub url: String,
    pub triggers: Vec<Trigger>,
}

impl WebhookRule {
    pub fn new(url: impl Into<String>, triggers: impl IntoIterator<Item = Trigger>) -> Self {
        Self {
            url: url.into(),
            triggers: triggers.into_iter().collect(),
        }
    }

    /// Why this rule could never push, if it could not: the control route refuses such a
    /// rule (400), where [`crate::Simulator::add_webhook_rule`] takes it as given and
    /// records each failed push instead.
    pub(crate) fn problem(&self) -> Option<String> {
        match reqwest::Url::parse(&self.url) {
            Ok(url) if matches!(url.scheme(), "http" | "https") => {}
            Ok(url) => return Some(format!("url must be http or https, not {}", url.scheme())),
            Err(e) => return Some(format!("url is not a URL: {e}")),
        }
        if self.triggers.is_empty() {
            return Some("triggers must name at least one trigger".to_owned());
        }
        None
    }

    /// The trigger this rule pushes for, given what happened to an order (most specific
    /// first), or `None` when none of its triggers matches.
    fn fires_on(&self, events: &[Trigger]) -> Option<Trigger> {
        events
            .iter()
            .find(|event| self.triggers.contains(event))
            .copied()
    }
}

/// One push attempt, as it went.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct WebhookDelivery {
    pub rule_id: u64,
    pub url: String,
    pub order_id: u64,
    /// The trigger the push was for.
    pub trigger: Trigger,
    /// The status the receiver answered (any status: a 500 is a delivery too); `None`
    /// when there was no answer.
    pub status: Option<u16>,
    /// Why there was no answer (connection refused, timeout…).
    pub error: Option<String>,
    /// When the push was sent; in JSON `"YYYY-MM-DD HH:MM:SS.mmm"`, UTC.
    #[serde(serialize_with = "serialize_instant")]
    pub at: SystemTime,
}

impl WebhookDelivery {
    /// The receiver answered 2xx.
    pub fn succeeded(&self) -> bool {
        self.status
            .is_some_and(|status| (200..300).contains(&status))
    }
}

fn serialize_instant<S: Serializer>(at: &SystemTime, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.serialize_str(&format_instant(*at))
}

/// OrderDesk's signature of a push: lowercase hex HMAC-SHA256 of the order JSON string
/// (the `order` form field, byte for byte), keyed with the store's API key.
pub fn sign_push(api_key: &str, order_json: &str) -> String {
    // HMAC takes a key of any length, so this cannot fail.
    let mut mac = Hmac::<Sha256>::new_from_slice(api_key.as_bytes())
        .expect("HMAC accepts keys of any length");
    mac.update(order_json.as_bytes());
    hex::encode(mac.finalize().into_bytes())
}

/// `application/x-www-form-urlencoded` encoding of a value (the WHATWG serializer):
/// a dozen lines instead of a dependency for the one field a push has.
fn form_encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + text.len() / 2);
    for byte in text.bytes() {
        match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'*' | b'-' | b'.' | b'_' => {
                out.push(char::from(byte));
            }
            b' ' => out.push('+'),
            _ => {
                let _ = write!(out, "%{byte:02X}");
            }
        }
    }
    out
}

/// What one request did to one order, worked out once the request is done (see
/// [`crate::state::StoreData::take_changes`]).
#[derive(Debug)]
pub(crate) struct OrderChange {
    pub order_id: u64,
    /// Most specific first: `Created` alone, or `MovedToFolder(f)` (if it moved) then
    /// `Updated`.
    pub events: Vec<Trigger>,
    /// The order as `GET /orders/{id}` would answer it now.
    pub order_json: String,
}

/// A push waiting in a store's queue, signed and encoded.
#[derive(Debug)]
struct Push {
    rule_id: u64,
    url: String,
    order_id: u64,
    trigger: Trigger,
    store_id: String,
    hash: String,
    body: String,
}

impl Push {
    fn delivery(&self, at: SystemTime, outcome: Result<u16, String>) -> WebhookDelivery {
        let (status, error) = match outcome {
            Ok(status) => (Some(status), None),
            Err(error) => (None, Some(error)),
        };
        WebhookDelivery {
            rule_id: self.rule_id,
            url: self.url.clone(),
            order_id: self.order_id,
            trigger: self.trigger,
            status,
            error,
            at,
        }
    }
}

/// One store's rules, its delivery record, and the queue of its delivery task.
#[derive(Debug)]
struct StoreHooks {
    rules: BTreeMap<u64, WebhookRule>,
    next_rule_id: u64,
    deliveries: VecDeque<WebhookDelivery>,
    /// `None` until the first push, or after the task's runtime went away.
    queue: Option<mpsc::UnboundedSender<Push>>,
}

impl Default for StoreHooks {
    fn default() -> Self {
        Self {
            rules: BTreeMap::new(),
            next_rule_id: 1,
            deliveries: VecDeque::new(),
            queue: None,
        }
    }
}

impl StoreHooks {
    fn record(&mut self, delivery: WebhookDelivery) {
        if self.deliveries.len() >= MAX_DELIVERIES {
            self.deliveries.pop_front();
        }
        self.deliveries.push_back(delivery);
    }
}

/// Every store's rules and deliveries. Never locks the stores (the stores' lock may be
/// held while this one is taken, never the other way round).
#[derive(Debug, Default)]
pub(crate) struct Webhooks {
    stores: Mutex<HashMap<String, StoreHooks>>,
    /// Built on the first push; an error when no client could be built.
    client: OnceLock<Result<reqwest::Client, String>>,
}

impl Webhooks {
    /// Add a rule to a store (the caller has checked the store exists); its id.
    pub fn add_rule(&self, store_id: &str, rule: WebhookRule) -> u64 {
        let mut stores = lock(&self.stores);
        let hooks = stores.entry(store_id.to_owned()).or_default();
        let id = hooks.next_rule_id;
        hooks.next_rule_id += 1;
        hooks.rules.insert(id, rule);
        id
    }

    pub fn remove_rule(&self, store_id: &str, rule_id: u64) -> bool {
        lock(&self.stores)
            .get_mut(store_id)
            .is_some_and(|hooks| hooks.rules.remove(&rule_id).is_some())
    }

    pub fn rules(&self, store_id: &str) -> Vec<(u64, WebhookRule)> {
        lock(&self.stores)
            .get(store_id)
            .map(|hooks| {
                hooks
                    .rules
                    .iter()
                    .map(|(id, rule)| (*id, rule.clone()))
                    .collect()
            })
            .unwrap_or_default()
    }

    pub fn deliveries(&self, store_id: &str) -> Vec<WebhookDelivery> {
        lock(&self.stores)
            .get(store_id)
            .map(|hooks| hooks.deliveries.iter().cloned().collect())
            .unwrap_or_default()
    }

    /// Whether changes to this store's orders are worth working out at all.
    pub fn has_rules(&self, store_id: &str) -> bool {
        lock(&self.stores)
            .get(store_id)
            .is_some_and(|hooks| !hooks.rules.is_empty())
    }

    /// Queue the pushes these changes call for. Never waits on the network: without a
    /// tokio runtime to deliver on, each push is recorded as failed at once.
    pub fn dispatch(self: &Arc<Self>, store_id: &str, api_key: &str, changes: Vec<OrderChange>) {
        let mut stores = lock(&self.stores);
        let Some(hooks) = stores.get_mut(store_id) else {
            return;
        };
        let mut pushes = Vec::new();
        for change in &changes {
            let hash = sign_push(api_key, &change.order_json);
            let body = format!("order={}", form_encode(&change.order_json));
            for (rule_id, rule) in &hooks.rules {
                if let Some(trigger) = rule.fires_on(&change.events) {
                    pushes.push(Push {
                        rule_id: *rule_id,
                        url: rule.url.clone(),
                        order_id: change.order_id,
                        trigger,
                        store_id: store_id.to_owned(),
                        hash: hash.clone(),
                        body: body.clone(),
                    });
                }
            }
        }
        for push in pushes {
            // No queue yet, or one whose task died with its runtime (a simulator outliving
            // the runtime it first pushed on) and handed the push back: start a task on
            // this runtime.
            let push = match &hooks.queue {
                Some(queue) => match queue.send(push) {
                    Ok(()) => continue,
                    Err(mpsc::error::SendError(push)) => push,
                },
                None => push,
            };
            match tokio::runtime::Handle::try_current() {
                Ok(runtime) => {
                    let (queue, pending) = mpsc::unbounded_channel();
                    runtime.spawn(deliver(Arc::downgrade(self), store_id.to_owned(), pending));
                    // The receiver was just made and is alive: this cannot fail.
                    let _ = queue.send(push);
                    hooks.queue = Some(queue);
                }
                Err(_) => {
                    let error = "no tokio runtime to deliver the push on".to_owned();
                    hooks.record(push.delivery(SystemTime::now(), Err(error)));
                }
            }
        }
    }

    fn record(&self, store_id: &str, delivery: WebhookDelivery) {
        lock(&self.stores)
            .entry(store_id.to_owned())
            .or_default()
            .record(delivery);
    }

    fn client(&self) -> Result<reqwest::Client, String> {
        self.client
            .get_or_init(|| {
                reqwest::Client::builder()
                    .timeout(PUSH_TIMEOUT)
                    .redirect(reqwest::redirect::Policy::none())
                    .no_proxy()
                    .user_agent(concat!("orderdesk-sim/", env!("CARGO_PKG_VERSION")))
                    .build()
                    .map_err(|e| format!("no HTTP client: {}", error_chain(&e)))
            })
            .clone()
    }
}

/// A store's delivery task: its pushes one at a time, in order. It holds the rules only
/// weakly, so it ends when the simulator is dropped (its queue's sender goes with it).
async fn deliver(
    hooks: Weak<Webhooks>,
    store_id: String,
    mut pending: mpsc::UnboundedReceiver<Push>,
) {
    while let Some(push) = pending.recv().await {
        let Some(client) = hooks.upgrade().map(|hooks| hooks.client()) else {
            return;
        };
        let at = SystemTime::now();
        let outcome = match client {
            Ok(client) => send(&client, &push).await,
            Err(error) => Err(error),
        };
        let Some(hooks) = hooks.upgrade() else {
            return;
        };
        hooks.record(&store_id, push.delivery(at, outcome));
    }
}

/// Send one push; the status answered, or why there was none.
async fn send(client: &reqwest::Client, push: &Push) -> Result<u16, String> {
    let response = client
        .post(&push.url)
        .header(
            reqwest::header::CONTENT_TYPE,
            "application/x-www-form-urlencoded",
        )
        .header(PUSH_STORE_ID_HEADER, &push.store_id)
        .header(PUSH_HASH_HEADER, &push.hash)
        .body(push.body.clone())
        .send()
        .await
        .map_err(|e| error_chain(&e))?;
    let status = response.status().as_u16();
    // Read the answer so the connection can be reused; what it says does not matter.
    let _ = response.bytes().await;
    Ok(status)
}

/// An error and its causes, `: `-separated: reqwest's own message alone ("error sending
/// request") does not say whether the connection was refused or timed out.
fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let _ = write!(text, ": {cause}");
        source = cause.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn sign_push_is_hmac_sha256_in_lowercase_hex() {
        // RFC 4231, test case 2.
        assert_eq!(
            sign_push("Jefe", "what do ya want for nothing?"),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }

    #[test]
    fn form_encoding_escapes_all_but_the_unreserved_bytes() {
        assert_eq!(
            form_encode(r#"{"a":"b c&d=é+*-._~"}"#),
            "%7B%22a%22%3A%22b+c%26d%3D%C3%A9%2B*-._%7E%22%7D"
        );
    }

    #[test]
    fn triggers_are_tagged_objects() {
        let triggers = vec![
            Trigger::Created,
            Trigger::Updated,
            Trigger::MovedToFolder(1007),
        ];
        let text = json!([
            { "kind": "created" },
            { "kind": "updated" },
            { "kind": "moved_to_folder", "folder_id": 1007 },
        ]);
        assert_eq!(serde_json::to_value(&triggers).unwrap(), text);
        assert_eq!(
            serde_json::from_value::<Vec<Trigger>>(text).unwrap(),
            triggers
        );
        for bad in [
            json!({ "kind": "deleted" }),
            json!({ "kind": "moved_to_folder" }),
            json!({ "kind": "created", "folder_id": 3 }),
            json!("created"),
        ] {
            assert!(
                serde_json::from_value::<Trigger>(bad.clone()).is_err(),
                "{bad}"
            );
        }
    }

    #[test]
    fn a_rule_fires_once_with_its_most_specific_trigger() {
        let rule = WebhookRule::new("http://x", [Trigger::Updated, Trigger::MovedToFolder(7)]);
        let moved = [Trigger::MovedToFolder(7), Trigger::Updated];
        assert_eq!(rule.fires_on(&moved), Some(Trigger::MovedToFolder(7)));
        let elsewhere = [Trigger::MovedToFolder(8), Trigger::Updated];
        assert_eq!(rule.fires_on(&elsewhere), Some(Trigger::Updated));
        assert_eq!(rule.fires_on(&[Trigger::Created]), None);
        let only_folder = WebhookRule::new("http://x", [Trigger::MovedToFolder(7)]);
        assert_eq!(only_folder.fires_on(&elsewhere), None);
    }

    #[test]
    fn a_rule_that_could_never_push_is_named() {
        assert_eq!(
            WebhookRule::new("http://127.0.0.1:1/hook", [Trigger::Created]).problem(),
            None
        );
        assert!(
            WebhookRule::new("ftp://x/", [Trigger::Created])
                .problem()
                .is_some_and(|p| p.contains("http or https"))
        );
        assert!(
            WebhookRule::new("not a url", [Trigger::Created])
                .problem()
                .is_some_and(|p| p.contains("not a URL"))
        );
        assert!(
            WebhookRule::new("http://x/", [])
                .problem()
                .is_some_and(|p| p.contains("at least one"))
        );
    }

    #[test]
    fn deliveries_are_bounded() {
        let mut hooks = StoreHooks::default();
        for order_id in 0..(MAX_DELIVERIES as u64 + 5) {
            hooks.record(WebhookDelivery {
                rule_id: 1,
                url: "http://x".into(),
                order_id,
                trigger: Trigger::Created,
                status: Some(200),
                error: None,
                at: SystemTime::UNIX_EPOCH,
            });
        }
        assert_eq!(hooks.deliveries.len(), MAX_DELIVERIES);
        assert_eq!(hooks.deliveries.front().map(|d| d.order_id), Some(5));
    }
}
