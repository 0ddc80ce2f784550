//! `orderdesk-mcp tenant create|list|rotate-key|revoke|delete`. Every one is audited
//! with source `cli`.

use std::time::Duration;

use anyhow::Context;
use orderdesk_host::app::{CliOp, Settings};
use orderdesk_vault::{AuditSource, TenantId};
use serde_json::json;

use crate::args::TenantCommand;

pub async fn run(command: &TenantCommand, settings: &Settings) -> anyhow::Result<()> {
    let vault = super::stores::open_vault(settings).await?;
    match command {
        TenantCommand::Create { json } => {
            let (tenant_id, master_key) = {
                let vault = vault.clone();
                tokio::task::spawn_blocking(move || {
                    let op = CliOp::new("tenant create", json!({}));
                    let created = vault.create_tenant();
                    let op = match &created {
                        Ok((id, _)) => op.tenant(id.as_str()),
                        Err(_) => op,
                    };
                    op.finish(&vault, created.map_err(Into::into))
                })
                .await??
            };
            if *json {
                println!(
                    "{}",
                    json!({"tenant_id": tenant_id.as_str(), "master_key": master_key.expose()})
                );
            } else {
                println!("tenant:     {tenant_id}");
                println!("master key: {}", master_key.expose());
                eprintln!(
                    "Keep the master key somewhere safe: it is shown only now, and it is the \
                     only way to use this tenant's stores. Set ORDERDESK_MCP_MASTER_KEY to it in \
                     your MCP client's config."
                );
            }
        }
        TenantCommand::List { json } => {
            let tenants = tokio::task::spawn_blocking(move || {
                let listed = vault.list_tenants().map_err(Into::into);
                CliOp::new("tenant list", json!({})).finish(&vault, listed)
            })
            .await??;
            if *json {
                println!("{}", serde_json::to_string_pretty(&tenants)?);
            } else if tenants.is_empty() {
                println!("no tenants yet: create one with `orderdesk-mcp tenant create`");
            } else {
                for t in tenants {
                    let state = match (&t.revoked_at, &t.retired_key_expires_at) {
                        (Some(at), _) => format!("revoked {at}"),
                        (None, Some(until)) => format!("old key works until {until}"),
                        (None, None) => "active".to_string(),
                    };
                    println!(
                        "{}\t{} store(s)\tcreated {}\t{state}",
                        t.tenant_id, t.store_count, t.created_at
                    );
                }
            }
        }
        TenantCommand::RotateKey { grace_hours, json } => {
            let master_key = settings
                .master_key
                .clone()
                .context("set ORDERDESK_MCP_MASTER_KEY to the tenant's current master key")?;
            let grace = Duration::from_secs(grace_hours.saturating_mul(3600));
            let hours = *grace_hours;
            let rotation = tokio::task::spawn_blocking(move || {
                let op = CliOp::new("tenant rotate-key", json!({"grace_hours": hours}));
                let tenant = match vault.authenticate(&master_key) {
                    Ok(tenant) => tenant,
                    Err(e) => {
                        let failed = Err(anyhow::Error::from(e)
                            .context("ORDERDESK_MCP_MASTER_KEY was not accepted"));
                        return op.finish_failure(&vault, failed);
                    }
                };
                let op = op.tenant(tenant.tenant_id().as_str());
                let rotated = vault
                    .rotate_master_key(&tenant, grace, AuditSource::Cli)
                    .map(|rotation| (tenant.tenant_id().clone(), rotation))
                    .map_err(Into::into);
                op.finish_failure(&vault, rotated)
            })
            .await??;
            let (tenant_id, rotation) = rotation;
            if *json {
                println!(
                    "{}",
                    json!({
                        "tenant_id": tenant_id.as_str(),
                        "master_key": rotation.master_key.expose(),
                        "old_key_id": rotation.old_key_id,
                        "new_key_id": rotation.new_key_id,
                        "old_key_expires_at": rotation.old_key_expires_at,
                        "stores_reencrypted": rotation.stores_reencrypted,
                        "stores_unreadable": rotation.stores_unreadable,
                    })
                );
            } else {
                println!("tenant:         {tenant_id}");
                println!("new master key: {}", rotation.master_key.expose());
                eprintln!(
                    "Keep the new master key somewhere safe: it is shown only now. {} store \
                     key(s) were re-encrypted under it.",
                    rotation.stores_reencrypted
                );
                match &rotation.old_key_expires_at {
                    Some(until) => eprintln!(
                        "The old key ({}) keeps working until {until} UTC: switch \
                         ORDERDESK_MCP_MASTER_KEY to the new key ({}) before then.",
                        rotation.old_key_id, rotation.new_key_id
                    ),
                    None => eprintln!("The old key ({}) stopped working now.", rotation.old_key_id),
                }
                if !rotation.stores_unreadable.is_empty() {
                    eprintln!(
                        "These stores' keys could not be decrypted and were left as they were: \
                         {}; replace them with `orderdesk-mcp stores update-key STORE`.",
                        rotation.stores_unreadable.join(", ")
                    );
                }
            }
        }
        TenantCommand::Revoke { tenant_id, yes } => {
            anyhow::ensure!(
                *yes,
                "revoking tenant {tenant_id} stops its master keys and erases its stores' API \
                 keys for good; pass --yes to do it"
            );
            let id = TenantId(tenant_id.trim().to_string());
            let removal = tokio::task::spawn_blocking(move || {
                let op = CliOp::new("tenant revoke", json!({})).tenant(id.as_str());
                let revoked = vault
                    .revoke_tenant(&id, AuditSource::Cli)
                    .map_err(Into::into);
                op.finish_failure(&vault, revoked)
            })
            .await??;
            match removal.already_revoked_at {
                Some(at) => println!("tenant {} was already revoked on {at}", removal.tenant_id),
                None => println!(
                    "revoked tenant {}: its master keys no longer work; {} store key(s) erased",
                    removal.tenant_id, removal.stores
                ),
            }
        }
        TenantCommand::Delete { tenant_id, yes } => {
            anyhow::ensure!(
                *yes,
                "deleting tenant {tenant_id} removes it with its stores and keys for good (the \
                 audit log stays); pass --yes to do it"
            );
            let id = TenantId(tenant_id.trim().to_string());
            let removal = tokio::task::spawn_blocking(move || {
                let op = CliOp::new("tenant delete", json!({})).tenant(id.as_str());
                let deleted = vault
                    .delete_tenant(&id, AuditSource::Cli)
                    .map_err(Into::into);
                op.finish_failure(&vault, deleted)
            })
            .await??;
            println!(
                "deleted tenant {} and its {} store(s); the audit log keeps its history",
                removal.tenant_id, removal.stores
            );
        }
    }
    Ok(())
}
