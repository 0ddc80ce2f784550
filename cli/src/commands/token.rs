//! `orderdesk-mcp token create|list|revoke`, for the tenant whose master key is in
//! ORDERDESK_MCP_MASTER_KEY: what `orderdesk_host::app` does (each audited with source
//! `cli`), printed.

use anyhow::Context;
use orderdesk_host::app::{self, Settings, TokenListing, TokenRequest, TokenRevocation};
use orderdesk_vault::TokenScope;
use secrecy::ExposeSecret;

use crate::args::{Scope, TokenCommand};

pub async fn run(command: &TokenCommand, settings: &Settings) -> anyhow::Result<()> {
    let master_key = settings.master_key.clone().context(
        "set ORDERDESK_MCP_MASTER_KEY to the tenant's master key (from `orderdesk-mcp tenant \
         create`): its access tokens are made and managed with it",
    )?;
    let vault = super::stores::open_vault(settings).await?;
    match command {
        TokenCommand::Create {
            scope,
            store,
            expires,
            label,
            json,
        } => {
            let request = TokenRequest {
                scope: match scope {
                    Scope::Read => TokenScope::Read,
                    Scope::Write => TokenScope::Write,
                },
                store: store.clone(),
                lifetime: *expires,
                label: label.clone(),
            };
            let created = tokio::task::spawn_blocking(move || {
                app::create_token(&vault, &master_key, &request)
            })
            .await??;
            let token = created.token.expose_secret();
            let listing = &created.listing;
            if *json {
                let mut out = serde_json::to_value(listing)?;
                out["token"] = token.into();
                println!("{out}");
            } else {
                let r = &listing.record;
                println!("token:   {token}");
                println!("id:      {}", r.token_id);
                println!("scope:   {}", r.scope);
                println!("store:   {}", store_text(listing));
                match &r.expires_at {
                    Some(at) => println!("expires: {at} UTC"),
                    None => println!("expires: never"),
                }
                if let Some(label) = &r.label {
                    println!("label:   {label}");
                }
                println!(
                    "This token is shown only now: keep it where your MCP client keeps secrets. \
                     The client sends it to the remote server as `Authorization: Bearer \
                     <token>`; `orderdesk-mcp token revoke {}` stops it.",
                    r.token_id
                );
            }
        }
        TokenCommand::List { json } => {
            let tokens = tokio::task::spawn_blocking(move || app::list_tokens(&vault, &master_key))
                .await??;
            if *json {
                println!("{}", serde_json::to_string_pretty(&tokens)?);
            } else if tokens.is_empty() {
                println!("no access tokens yet: make one with `orderdesk-mcp token create`");
            } else {
                println!("{}", table(&tokens));
            }
        }
        TokenCommand::Revoke { token_id } => {
            let id = token_id.clone();
            let revocation =
                tokio::task::spawn_blocking(move || app::revoke_token(&vault, &master_key, &id))
                    .await??;
            println!("{}", revoked_text(&revocation));
        }
    }
    Ok(())
}

/// Which store a token is for, as the operator named it.
fn store_text(listing: &TokenListing) -> String {
    match (&listing.record.store_id, &listing.store_name) {
        (None, _) => "all stores".to_string(),
        (Some(id), Some(name)) if name == id => id.clone(),
        (Some(id), Some(name)) => format!("{name} ({id})"),
        (Some(id), None) => format!("{id} (removed)"),
    }
}

fn revoked_text(revocation: &TokenRevocation) -> String {
    let record = &revocation.record;
    let label = record
        .label
        .as_ref()
        .map(|l| format!(" ({l})"))
        .unwrap_or_default();
    match &record.revoked_at {
        Some(at) if revocation.already_revoked => format!(
            "access token {}{label} was already revoked on {at} UTC",
            record.token_id
        ),
        _ => format!(
            "revoked access token {}{label}: it no longer works",
            record.token_id
        ),
    }
}

/// The tokens as a table with a header, columns padded to their widest cell.
fn table(tokens: &[TokenListing]) -> String {
    let mut rows = vec![
        [
            "ID",
            "LABEL",
            "SCOPE",
            "STORE",
            "CREATED",
            "LAST USED",
            "EXPIRES",
            "REVOKED",
        ]
        .map(String::from),
    ];
    for listing in tokens {
        let r = &listing.record;
        let expires = match (&r.expires_at, listing.expired) {
            (None, _) => "never".to_string(),
            (Some(at), true) => format!("{at} (expired)"),
            (Some(at), false) => at.clone(),
        };
        rows.push([
            r.token_id.clone(),
            r.label.clone().unwrap_or_else(|| "-".into()),
            r.scope.to_string(),
            store_text(listing),
            r.created_at.clone(),
            r.last_used_at.clone().unwrap_or_else(|| "never".into()),
            expires,
            r.revoked_at.clone().unwrap_or_else(|| "-".into()),
        ]);
    }
    let widths: Vec<usize> = (0..rows[0].len())
        .map(|c| {
            rows.iter()
                .map(|row| row[c].chars().count())
                .max()
                .unwrap_or(0)
        })
        .collect();
    rows.iter()
        .map(|row| {
            let cells: Vec<String> = row
                .iter()
                .zip(&widths)
                .map(|(cell, width)| format!("{cell:<width$}"))
                .collect();
            cells.join("  ").trim_end().to_string()
        })
        .collect::<Vec<_>>()
        .join("\n")
}
