//! `orderdesk-mcp stores add|list|remove`, for the tenant whose master key is in
//! ORDERDESK_MCP_MASTER_KEY.

use std::io::{BufRead, IsTerminal};
use std::sync::Arc;

use anyhow::Context;
use orderdesk_gateway::{Gateway, GatewayConfig, StoreCredentials};
use orderdesk_host::app::{self, Settings};
use orderdesk_host::services::{CredentialCheckError, verify_store_credentials};
use orderdesk_vault::Vault;
use secrecy::{ExposeSecret, SecretString};

use crate::args::StoresCommand;

/// The operator's vault, opened off the async threads.
pub async fn open_vault(settings: &Settings) -> anyhow::Result<Arc<Vault>> {
    let data_dir = settings.data_dir.clone();
    let vault_settings = settings.vault.clone();
    tokio::task::spawn_blocking(move || app::open_vault(&data_dir, &vault_settings)).await?
}

pub async fn run(command: &StoresCommand, settings: &Settings) -> anyhow::Result<()> {
    let master_key = settings.master_key.clone().context(
        "set ORDERDESK_MCP_MASTER_KEY to the tenant's master key (from `orderdesk-mcp tenant create`)",
    )?;
    let vault = open_vault(settings).await?;
    let tenant = {
        let vault = vault.clone();
        tokio::task::spawn_blocking(move || vault.authenticate(&master_key))
            .await?
            .context("ORDERDESK_MCP_MASTER_KEY was not accepted")?
    };
    match command {
        StoresCommand::Add {
            store_id,
            name,
            label,
            no_verify,
        } => {
            let api_key = read_api_key()?;
            if !no_verify {
                let gateway = Gateway::new(GatewayConfig::new(&settings.api_base))?;
                let credentials = StoreCredentials {
                    store_id: store_id.clone(),
                    api_key: api_key.clone(),
                };
                match verify_store_credentials(&gateway, tenant.tenant_id().as_str(), &credentials)
                    .await
                {
                    Ok(()) => {}
                    Err(refused @ CredentialCheckError::Refused { .. }) => {
                        anyhow::bail!("{refused}, or pass --no-verify")
                    }
                    Err(error) => {
                        anyhow::bail!(
                            "{error}; nothing was saved (pass --no-verify to save anyway)"
                        )
                    }
                }
            }
            let (store_id, name, label) = (store_id.clone(), name.clone(), label.clone());
            let record = tokio::task::spawn_blocking(move || {
                vault.add_store(
                    &tenant,
                    &store_id,
                    &api_key,
                    name.as_deref(),
                    label.as_deref(),
                )
            })
            .await??;
            println!("registered store {} as `{}`", record.store_id, record.name);
        }
        StoresCommand::List { json } => {
            let id = tenant.tenant_id().clone();
            let stores = tokio::task::spawn_blocking(move || vault.list_stores(&id)).await??;
            if *json {
                println!("{}", serde_json::to_string_pretty(&stores)?);
            } else if stores.is_empty() {
                println!("no stores yet: add one with `orderdesk-mcp stores add --store-id ID`");
            } else {
                for s in stores {
                    println!(
                        "{}\t{}\t{}\t{}",
                        s.store_id,
                        s.name,
                        s.label.unwrap_or_default(),
                        s.created_at
                    );
                }
            }
        }
        StoresCommand::Remove { identifier } => {
            let id = tenant.tenant_id().clone();
            let identifier = identifier.clone();
            let record =
                tokio::task::spawn_blocking(move || vault.delete_store(&id, &identifier)).await??;
            println!("removed store {} (`{}`)", record.store_id, record.name);
        }
    }
    Ok(())
}

/// The API key from a hidden prompt, or the first line of stdin when it is not a terminal.
fn read_api_key() -> anyhow::Result<SecretString> {
    let key = if std::io::stdin().is_terminal() {
        rpassword::prompt_password("OrderDesk API key (input hidden): ")
            .context("cannot read the API key")?
    } else {
        let mut line = String::new();
        std::io::stdin()
            .lock()
            .read_line(&mut line)
            .context("cannot read the API key from stdin")?;
        line
    };
    let key = SecretString::from(key.trim().to_string());
    anyhow::ensure!(!key.expose_secret().is_empty(), "no API key given");
    Ok(key)
}
