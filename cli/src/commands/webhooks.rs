//! `orderdesk-mcp webhooks info`, for the tenant whose master key is in
//! ORDERDESK_MCP_MASTER_KEY: the URL each store's OrderDesk rule posts to, and the rule.

use anyhow::Context;
use orderdesk_host::app::{self, Settings, WebhookSetup, webhook_setup};

use crate::args::WebhooksCommand;

pub async fn run(command: &WebhooksCommand, settings: &Settings) -> anyhow::Result<()> {
    let WebhooksCommand::Info { json, .. } = command;
    let master_key = settings.master_key.clone().context(
        "set ORDERDESK_MCP_MASTER_KEY to the tenant's master key (from `orderdesk-mcp tenant \
         create`): the set-up is shown for its stores",
    )?;
    let public_url = settings.public_url.clone().context(
        "OrderDesk posts to the server from the internet: give the URL it reaches the server \
         at with --public-url https://… (or ORDERDESK_MCP_PUBLIC_URL, or [http] public_url in \
         the config file), the same the server is started with",
    )?;
    let vault = super::stores::open_vault(settings).await?;
    let setup =
        tokio::task::spawn_blocking(move || app::webhook_setup(&vault, &master_key, &public_url))
            .await??;
    if *json {
        println!("{}", serde_json::to_string_pretty(&setup)?);
    } else {
        print!("{}", text(&setup));
    }
    Ok(())
}

/// The set-up as a person reads it.
fn text(setup: &WebhookSetup) -> String {
    let mut out = format!("{}\n\n", webhook_setup::RULE_STEPS);
    if setup.stores.is_empty() {
        out.push_str(
            "This tenant has no stores yet: add one with `orderdesk-mcp stores add`, then run \
             this again.\n",
        );
        return out;
    }
    for store in &setup.stores {
        out.push_str(&format!(
            "{} (store {}):\n  Post Order to URL: {}\n",
            store.name, store.store_id, store.url
        ));
        if !store.ready {
            out.push_str(
                "  not ready: it was registered before this server verified pushes; use it \
                 once in a session (any tool call on it) so the server can check its pushes\n",
            );
        }
    }
    out
}
