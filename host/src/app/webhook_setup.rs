//! What `orderdesk-mcp webhooks info` prints for the tenant whose master key the
//! operator gives: for each of its stores, the URL its OrderDesk rule must post orders
//! to, and whether the server can verify that store's pushes yet.
//!
//! The vault verifies a push with what it keeps of the store's API key when it last had
//! the key in hand (registering it, changing it, or a session using the store); a store
//! registered before pushes existed is ready once a session has used it.
//!
//! Everything here blocks (bcrypt, SQLite): call it from `spawn_blocking`.

use orderdesk_vault::Vault;
use secrecy::SecretString;
use serde::Serialize;
use serde_json::json;

use super::admin::CliOp;
use super::remote::PublicUrl;
use super::remote::WEBHOOK_PATH as PATH;

/// One store's push set-up.
#[derive(Clone, Debug, Serialize)]
pub struct StoreWebhook {
    /// The tenant's name for the store.
    pub name: String,
    /// OrderDesk's store id.
    pub store_id: String,
    /// Where its rule posts: `<public URL>/webhooks/orderdesk/<store id>`.
    pub url: String,
    /// Whether the server can verify its pushes now.
    pub ready: bool,
}

/// The set-up of every store of a tenant.
#[derive(Clone, Debug, Serialize)]
pub struct WebhookSetup {
    /// `<public URL>/webhooks/orderdesk` (any store; the store id is in a header).
    pub url: String,
    pub stores: Vec<StoreWebhook>,
}

/// The rule to create in OrderDesk, for people (the CLI and, later, the console).
pub const RULE_STEPS: &str = "In OrderDesk, open Store Settings → Rule Builder and add a rule: \
    choose when it fires (an order is imported, updated, or moved into a folder — one rule \
    per event you want), then the action \"Post Order to URL\" with the store's URL below. \
    OrderDesk signs each post with the store's API key; this server checks the signature and \
    drops its cached reads of the store, records the change for `orders_changes`, and tells \
    MCP clients subscribed to the order.";

/// The set-up of the tenant's stores for a server reachable at `public_url`.
pub fn webhook_setup(
    vault: &Vault,
    master_key: &SecretString,
    public_url: &PublicUrl,
) -> anyhow::Result<WebhookSetup> {
    let op = CliOp::new("webhooks info", json!({}));
    let (op, tenant) = match vault.authenticate(master_key) {
        Ok(tenant) => (op.tenant(tenant.tenant_id().as_str()), tenant),
        Err(error) => {
            return op.finish(
                vault,
                Err(anyhow::Error::from(error)
                    .context("ORDERDESK_MCP_MASTER_KEY was not accepted")),
            );
        }
    };
    let base = format!("{}{PATH}", without_default_port(public_url));
    let stores = vault
        .webhook_readiness(tenant.tenant_id())
        .map(|stores| {
            stores
                .into_iter()
                .map(|(name, store_id, ready)| StoreWebhook {
                    url: format!("{base}/{store_id}"),
                    name,
                    store_id,
                    ready,
                })
                .collect()
        })
        .map_err(anyhow::Error::from);
    let setup = stores.map(|stores| WebhookSetup { url: base, stores });
    op.finish(vault, setup)
}

/// The public URL's origin as people write it: the scheme's default port left out
/// (the normalised origin always names the port).
fn without_default_port(public_url: &PublicUrl) -> &str {
    let default_port = if public_url.https { ":443" } else { ":80" };
    public_url
        .origin
        .strip_suffix(default_port)
        .unwrap_or(&public_url.origin)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_ports_are_left_out_of_the_urls() {
        let url = |text: &str| PublicUrl::parse(text).unwrap();
        assert_eq!(
            without_default_port(&url("https://mcp.example.com")),
            "https://mcp.example.com"
        );
        assert_eq!(
            without_default_port(&url("http://mcp.example.com:8080")),
            "http://mcp.example.com:8080"
        );
        assert_eq!(
            without_default_port(&url("https://mcp.example.com:8443")),
            "https://mcp.example.com:8443"
        );
    }
}
