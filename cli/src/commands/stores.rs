//! `orderdesk-mcp stores add|list|remove|update-key`, for the tenant whose master key is
//! in ORDERDESK_MCP_MASTER_KEY. Every one is audited with source `cli`.

use std::io::{BufRead, IsTerminal};
use std::sync::Arc;

use anyhow::Context;
use orderdesk_gateway::{Gateway, GatewayConfig, StoreCredentials};
use orderdesk_host::app::{self, CliOp, Settings};
use orderdesk_host::services::{CredentialCheckError, verify_store_credentials};
use orderdesk_vault::{TenantSession, Vault};
use secrecy::{ExposeSecret, SecretString};
use serde_json::json;

use crate::args::StoresCommand;

/// The operator's vault, opened off the async threads.
pub async fn open_vault(settings: &Settings) -> anyhow::Result<Arc<Vault>> {
    let data_dir = settings.data_dir.clone();
    let vault_settings = settings.vault.clone();
    tokio::task::spawn_blocking(move || app::open_vault(&data_dir, &vault_settings)).await?
}

/// The audit row of `command`: its name and its arguments (never the API key, which is
/// not an argument).
fn audit_op(command: &StoresCommand) -> CliOp {
    match command {
        StoresCommand::Add {
            store_id,
            name,
            label,
            no_verify,
        } => CliOp::new(
            "stores add",
            json!({"store_id": store_id, "name": name, "label": label, "no_verify": no_verify}),
        )
        .store(store_id.trim()),
        StoresCommand::List { .. } => CliOp::new("stores list", json!({})),
        StoresCommand::Remove { identifier } => {
            CliOp::new("stores remove", json!({"identifier": identifier}))
        }
        StoresCommand::UpdateKey { identifier } => {
            CliOp::new("stores update-key", json!({"identifier": identifier}))
        }
    }
}

pub async fn run(command: &StoresCommand, settings: &Settings) -> anyhow::Result<()> {
    let master_key = settings.master_key.clone().context(
        "set ORDERDESK_MCP_MASTER_KEY to the tenant's master key (from `orderdesk-mcp tenant create`)",
    )?;
    let vault = open_vault(settings).await?;
    let op = audit_op(command);
    let tenant = {
        let vault = vault.clone();
        tokio::task::spawn_blocking(move || vault.authenticate(&master_key)).await?
    };
    let (op, outcome) = match tenant {
        Ok(tenant) => {
            let op = op.tenant(tenant.tenant_id().as_str());
            match execute(command, settings, &vault, tenant).await {
                Ok((output, Some(store_id))) => (op.store(store_id), Ok(output)),
                Ok((output, None)) => (op, Ok(output)),
                Err(error) => (op, Err(error)),
            }
        }
        Err(error) => (
            op,
            Err(anyhow::Error::from(error).context("ORDERDESK_MCP_MASTER_KEY was not accepted")),
        ),
    };
    let output = tokio::task::spawn_blocking(move || op.finish(&vault, outcome)).await??;
    println!("{output}");
    Ok(())
}

/// Do the command; what to print, and the store it acted on (for the audit row).
async fn execute(
    command: &StoresCommand,
    settings: &Settings,
    vault: &Arc<Vault>,
    tenant: TenantSession,
) -> anyhow::Result<(String, Option<String>)> {
    let vault = vault.clone();
    match command {
        StoresCommand::Add {
            store_id,
            name,
            label,
            no_verify,
        } => {
            let gateway = Gateway::new(GatewayConfig::new(&settings.api_base))?;
            let api_key = read_api_key()?;
            if !no_verify {
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
            let origin = gateway.api_origin();
            let (store_id, name, label) = (store_id.clone(), name.clone(), label.clone());
            let record = tokio::task::spawn_blocking(move || {
                vault.add_store(
                    &tenant,
                    &store_id,
                    &api_key,
                    name.as_deref(),
                    label.as_deref(),
                    &origin,
                )
            })
            .await??;
            Ok((
                format!("registered store {} as `{}`", record.store_id, record.name),
                Some(record.store_id),
            ))
        }
        StoresCommand::List { json } => {
            let id = tenant.tenant_id().clone();
            let stores = tokio::task::spawn_blocking(move || vault.list_stores(&id)).await??;
            let output = if *json {
                serde_json::to_string_pretty(&stores)?
            } else if stores.is_empty() {
                "no stores yet: add one with `orderdesk-mcp stores add --store-id ID`".to_string()
            } else {
                stores
                    .into_iter()
                    .map(|s| {
                        format!(
                            "{}\t{}\t{}\t{}\t{}",
                            s.store_id,
                            s.name,
                            s.label.unwrap_or_default(),
                            s.created_at,
                            s.api_origin
                                .unwrap_or_else(|| "(origin: bound on first use)".to_string())
                        )
                    })
                    .collect::<Vec<_>>()
                    .join("\n")
            };
            Ok((output, None))
        }
        StoresCommand::Remove { identifier } => {
            let id = tenant.tenant_id().clone();
            let identifier = identifier.clone();
            let record =
                tokio::task::spawn_blocking(move || vault.delete_store(&id, &identifier)).await??;
            Ok((
                format!("removed store {} (`{}`)", record.store_id, record.name),
                Some(record.store_id),
            ))
        }
        StoresCommand::UpdateKey { identifier } => {
            let gateway = Gateway::new(GatewayConfig::new(&settings.api_base))?;
            let (record, _) = {
                let vault = vault.clone();
                let id = tenant.tenant_id().clone();
                let identifier = identifier.clone();
                tokio::task::spawn_blocking(move || vault.resolve_store(&id, &identifier)).await??
            };
            let api_key = read_api_key()?;
            let credentials = StoreCredentials {
                store_id: record.store_id.clone(),
                api_key: api_key.clone(),
            };
            match verify_store_credentials(&gateway, tenant.tenant_id().as_str(), &credentials)
                .await
            {
                Ok(()) => {}
                Err(CredentialCheckError::Refused { store_id }) => anyhow::bail!(
                    "OrderDesk refused store id {store_id} with the new API key, so the old key \
                     was kept; check the key in OrderDesk (Settings → API)"
                ),
                Err(CredentialCheckError::Gateway(error)) => anyhow::bail!(
                    "could not check the new key with OrderDesk ({error}), so the old key was \
                     kept; try again"
                ),
            }
            let origin = gateway.api_origin();
            let store_id = record.store_id.clone();
            let updated = tokio::task::spawn_blocking(move || {
                vault.update_store_key(&tenant, &store_id, &api_key, &origin)
            })
            .await??;
            let saved_for = updated.api_origin.clone().unwrap_or_default();
            let moved = match &record.api_origin {
                Some(before) if *before != saved_for => format!(" (moved from {before})"),
                _ => String::new(),
            };
            Ok((
                format!(
                    "replaced the API key of store {} (`{}`), saved for {saved_for}{moved}",
                    updated.store_id, updated.name
                ),
                Some(updated.store_id),
            ))
        }
    }
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
