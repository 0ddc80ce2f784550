//! `orderdesk-mcp tenant create`.

use orderdesk_host::app::Settings;

use crate::args::TenantCommand;

pub async fn run(command: &TenantCommand, settings: &Settings) -> anyhow::Result<()> {
    let TenantCommand::Create { json } = command;
    let vault = super::stores::open_vault(settings).await?;
    let (tenant_id, master_key) =
        tokio::task::spawn_blocking(move || vault.create_tenant()).await??;
    if *json {
        println!(
            "{}",
            serde_json::json!({"tenant_id": tenant_id.as_str(), "master_key": master_key.expose()})
        );
    } else {
        println!("tenant:     {tenant_id}");
        println!("master key: {}", master_key.expose());
        eprintln!(
            "Keep the master key somewhere safe: it is shown only now, and it is the only way \
             to use this tenant's stores. Set ORDERDESK_MCP_MASTER_KEY to it in your MCP \
             client's config."
        );
    }
    Ok(())
}
