//! MCP resources: every order of the session's stores is a resource,
//! `orderdesk://stores/{store}/orders/{order_id}` (the store by id or by the tenant's
//! name for it), read through the `orders_get` tool (so a read is granted, cached,
//! audited and shaped like that tool's answers) and subscribable: when OrderDesk pushes
//! a change to an order, the sessions of that tenant subscribed to it get
//! `notifications/resources/updated`.
//!
//! Subscriptions are shared by all sessions of the process ([`Subscriptions`]); each
//! remembers its session weakly, so a session that ends takes its subscriptions with
//! it, and the tenant is checked again when a change is told (a stdio session may have
//! switched tenants since it subscribed).

use std::sync::{Arc, Mutex, Weak};

use rmcp::RoleServer;
use rmcp::model::{ResourceTemplate, ResourceUpdatedNotificationParam};
use rmcp::service::Peer;

use crate::session::Session;

/// The URI template of an order.
pub const ORDER_TEMPLATE: &str = "orderdesk://stores/{store}/orders/{order_id}";

/// A session holds at most this many subscriptions (each is a few hundred bytes; the
/// bound keeps one client from growing the server without end).
pub const MAX_SUBSCRIPTIONS_PER_SESSION: usize = 1_000;

const SCHEME_AND_STORES: &str = "orderdesk://stores/";

/// The resource templates `resources/templates/list` answers.
pub fn templates() -> Vec<ResourceTemplate> {
    vec![
        ResourceTemplate::new(ORDER_TEMPLATE, "order")
            .with_title("An OrderDesk order")
            .with_description(
                "One order of one of your stores, as `orders_get` with view \"full\" answers \
                 it (JSON). {store} is the store's id or its name; {order_id} is OrderDesk's \
                 order id. Subscribe to hear when OrderDesk reports a change to it.",
            )
            .with_mime_type("application/json"),
    ]
}

/// An order's URI as its parts: (store id or name, order id); `None` when `uri` is not
/// an order's.
pub fn parse_order_uri(uri: &str) -> Option<(String, String)> {
    let rest = uri.strip_prefix(SCHEME_AND_STORES)?;
    let (store, rest) = rest.split_once('/')?;
    let order_id = rest.strip_prefix("orders/")?;
    let valid = |part: &str| {
        !part.is_empty()
            && part.len() <= 100
            && part
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "-_. ".contains(c))
    };
    let store = percent_decode(store)?;
    (valid(&store) && valid(order_id) && order_id.chars().all(|c| c.is_ascii_digit()))
        .then(|| (store, order_id.to_string()))
}

/// `%20`-style escapes of a store name in a URI (names may hold spaces).
fn percent_decode(text: &str) -> Option<String> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = text.get(i + 1..i + 3)?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

/// The error a bad URI gets: what the server's resources look like.
pub fn not_an_order_uri(uri: &str) -> String {
    let shown: String = uri.chars().take(200).collect();
    format!(
        "`{shown}` is not a resource of this server: orders are \
         `orderdesk://stores/{{store}}/orders/{{order_id}}` (the store's id or name, the \
         numeric order id), e.g. orderdesk://stores/demo/orders/3344551"
    )
}

/// One subscription of one session.
struct Subscriber {
    session: Weak<Session>,
    tenant_id: String,
    /// OrderDesk's store id (a name in the URI resolved at subscription).
    store_id: String,
    order_id: String,
    /// The URI as the client subscribed to it: the one it is told of.
    uri: String,
    peer: Peer<RoleServer>,
}

impl Subscriber {
    fn same_session(&self, session: &Arc<Session>) -> bool {
        std::ptr::eq(self.session.as_ptr(), Arc::as_ptr(session))
    }
}

/// Why a subscription was refused.
#[derive(Debug)]
pub struct TooManySubscriptions;

/// Every session's subscriptions, shared by the sessions of a process.
#[derive(Default)]
pub struct Subscriptions {
    subscribers: Mutex<Vec<Subscriber>>,
}

impl std::fmt::Debug for Subscriptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Subscriptions")
            .field("count", &self.lock().len())
            .finish()
    }
}

/// What [`Subscriptions::subscribe`] records.
pub struct Subscription<'a> {
    pub session: &'a Arc<Session>,
    pub tenant_id: String,
    pub store_id: String,
    pub order_id: String,
    pub uri: String,
    pub peer: Peer<RoleServer>,
}

impl Subscriptions {
    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<Subscriber>> {
        self.subscribers.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Subscribe a session to an order (again: once). Subscriptions of ended sessions
    /// are dropped on the way.
    pub fn subscribe(&self, subscription: Subscription<'_>) -> Result<(), TooManySubscriptions> {
        let mut subscribers = self.lock();
        subscribers.retain(|s| s.session.strong_count() > 0);
        let of_session = subscribers
            .iter()
            .filter(|s| s.same_session(subscription.session))
            .count();
        if subscribers
            .iter()
            .any(|s| s.same_session(subscription.session) && s.uri == subscription.uri)
        {
            return Ok(());
        }
        if of_session >= MAX_SUBSCRIPTIONS_PER_SESSION {
            return Err(TooManySubscriptions);
        }
        subscribers.push(Subscriber {
            session: Arc::downgrade(subscription.session),
            tenant_id: subscription.tenant_id,
            store_id: subscription.store_id,
            order_id: subscription.order_id,
            uri: subscription.uri,
            peer: subscription.peer,
        });
        Ok(())
    }

    /// End a session's subscription to `uri` (nothing when it had none).
    pub fn unsubscribe(&self, session: &Arc<Session>, uri: &str) {
        self.lock()
            .retain(|s| s.session.strong_count() > 0 && !(s.same_session(session) && s.uri == uri));
    }

    /// Tell the sessions of `tenant_id` subscribed to the order that it changed. Only
    /// sessions still acting for that tenant are told. Returns how many were told.
    pub async fn order_changed(&self, tenant_id: &str, store_id: &str, order_id: &str) -> usize {
        let targets: Vec<(Peer<RoleServer>, String)> = {
            let mut subscribers = self.lock();
            subscribers.retain(|s| s.session.strong_count() > 0);
            subscribers
                .iter()
                .filter(|s| {
                    s.tenant_id == tenant_id && s.store_id == store_id && s.order_id == order_id
                })
                .filter(|s| {
                    s.session.upgrade().is_some_and(|session| {
                        session.snapshot().tenant_id().as_deref() == Some(tenant_id)
                    })
                })
                .map(|s| (s.peer.clone(), s.uri.clone()))
                .collect()
        };
        let mut told = 0;
        for (peer, uri) in targets {
            match peer
                .notify_resource_updated(ResourceUpdatedNotificationParam::new(uri))
                .await
            {
                Ok(()) => told += 1,
                Err(error) => {
                    tracing::debug!(%error, "a subscribed client could not be told of a change");
                }
            }
        }
        told
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn order_uris_parse_and_others_do_not() {
        assert_eq!(
            parse_order_uri("orderdesk://stores/100001/orders/3344551"),
            Some(("100001".into(), "3344551".into()))
        );
        assert_eq!(
            parse_order_uri("orderdesk://stores/main%20shop/orders/12"),
            Some(("main shop".into(), "12".into()))
        );
        for bad in [
            "orderdesk://stores/100001/orders/",
            "orderdesk://stores//orders/1",
            "orderdesk://stores/100001/orders/abc",
            "orderdesk://stores/100001/items/1",
            "orderdesk://stores/100001/orders/1/2",
            "https://stores/1/orders/2",
            "orderdesk://stores/a%2/orders/1",
            "orderdesk://stores/a%2Fb/orders/1",
        ] {
            assert_eq!(parse_order_uri(bad), None, "{bad}");
        }
        assert!(not_an_order_uri("x").contains("orderdesk://stores/{store}/orders/{order_id}"));
    }
}
