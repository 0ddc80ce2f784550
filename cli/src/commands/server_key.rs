//! `orderdesk-mcp server-key rotate`, audited with source `cli`.

use orderdesk_host::app::{CliOp, Settings};
use orderdesk_vault::AuditSource;
use secrecy::SecretString;
use serde_json::json;

use crate::args::ServerKeyCommand;

/// Where the new key comes from when the current one comes from the environment.
const NEW_KEY_VARIABLE: &str = "ORDERDESK_MCP_NEW_SERVER_KEY";

pub async fn run(command: &ServerKeyCommand, settings: &Settings) -> anyhow::Result<()> {
    let ServerKeyCommand::Rotate = command;
    let vault = super::stores::open_vault(settings).await?;
    let new_key = std::env::var(NEW_KEY_VARIABLE)
        .ok()
        .filter(|v| !v.trim().is_empty())
        .map(SecretString::from);
    let from_env = settings.vault.server_key.is_some();
    let rotation = tokio::task::spawn_blocking(move || {
        let op = CliOp::new(
            "server-key rotate",
            json!({"new_key_given": new_key.is_some()}),
        );
        let rotated = vault
            .rotate_server_key(new_key.as_ref(), AuditSource::Cli)
            .map_err(Into::into);
        op.finish_failure(&vault, rotated)
    })
    .await??;
    println!(
        "re-encrypted {} store key(s) under the new server key",
        rotation.stores_reencrypted
    );
    match &rotation.key_file {
        Some(path) => println!("the new key is in {} (the old one is gone)", path.display()),
        None if from_env => println!(
            "set ORDERDESK_MCP_SERVER_KEY to the key in {NEW_KEY_VARIABLE} now: the old key no \
             longer opens the database"
        ),
        None => {}
    }
    if rotation.stores_unreadable > 0 {
        eprintln!(
            "{} store key(s) could not be decrypted and were left as they were; replace them \
             with `orderdesk-mcp stores update-key STORE`",
            rotation.stores_unreadable
        );
    }
    eprintln!(
        "Restart running orderdesk-mcp servers of this data directory; back up the new key \
         (apart from the database)."
    );
    Ok(())
}
