//! `app::serve(settings, transport, shutdown)` is the one entry of every transport: here
//! it runs in-process on an in-memory pipe, driven by rmcp's client, and stops when its
//! shutdown signal fires (as the HTTP transport and tests will use it).

use orderdesk_host::app::{self, Flags, Settings};
use rmcp::ServiceExt;
use rmcp::model::CallToolRequestParams;

#[tokio::test]
async fn serve_answers_on_any_transport_and_stops_on_shutdown() {
    let dir = tempfile::tempdir().unwrap();
    let flags = Flags {
        data_dir: Some(dir.path().to_path_buf()),
        sandbox: true,
        ..Flags::default()
    };
    // No environment: the settings come from the flags and the defaults alone.
    let settings = Settings::resolve(flags, |_| None).unwrap();
    let (server_end, client_end) = tokio::io::duplex(64 << 10);
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(async move {
        app::serve(&settings, server_end, async {
            let _ = stopped.await;
        })
        .await
    });

    let client = ().serve(client_end).await.expect("the MCP handshake");
    let tools = client.list_all_tools().await.unwrap();
    assert!(tools.iter().any(|t| t.name == "orders_list"), "{tools:?}");
    let info = client
        .call_tool(CallToolRequestParams::new("tenant_info"))
        .await
        .unwrap();
    let info = info.structured_content.expect("a structured result");
    assert_eq!(info["sandbox"], true, "{info}");
    assert_eq!(info["active_store"]["store_id"], "100001", "{info}");

    // The shutdown signal ends the server while the client is still connected.
    stop.send(()).unwrap();
    let finished = tokio::time::timeout(std::time::Duration::from_secs(10), server)
        .await
        .expect("serve returns after the shutdown signal")
        .unwrap();
    finished.unwrap();
    // Every call was audited before serve returned.
    let vault = orderdesk_vault::Vault::open(
        &dir.path().join("sandbox"),
        orderdesk_vault::VaultOptions {
            bcrypt_cost: 4,
            ..Default::default()
        },
    )
    .unwrap();
    let rows = vault.audit_entries(None, 10).unwrap();
    assert!(rows.iter().any(|r| r.tool == "tenant_info"), "{rows:?}");
}
