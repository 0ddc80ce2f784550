//! What a server process does with the order changes OrderDesk pushes: each recorded
//! event drops the cached reads of its store for its tenant and tells that tenant's
//! sessions subscribed to the order (`notifications/resources/updated`).
//!
//! Events are read back from the vault's events table, not handed over in memory, so
//! every process on the same database hears every push: a stdio server beside an HTTP
//! server that receives them, or (later) replicas. The HTTP receiver pokes the feed
//! so its own process reacts at once; otherwise the table is polled every
//! [`POLL_INTERVAL`]. Old events are pruned every [`PRUNE_INTERVAL`].

use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::Notify;

use crate::mcp::McpServer;
use crate::services::Services;

/// How often the events table is read when nothing poked the feed.
pub const POLL_INTERVAL: Duration = Duration::from_secs(1);
/// How often events past their retention are deleted.
pub const PRUNE_INTERVAL: Duration = Duration::from_secs(3600);
/// Events read at once.
const BATCH: u32 = 500;

/// A running feed; poke it when an event was just recorded.
#[derive(Debug, Default)]
pub struct PushFeed {
    recorded: Notify,
}

impl PushFeed {
    /// An event was just recorded: read the table now.
    pub fn poke(&self) {
        self.recorded.notify_one();
    }
}

/// Stops the feed's task when dropped (with its server).
#[derive(Debug)]
pub struct FeedTask(tokio::task::JoinHandle<()>);

impl Drop for FeedTask {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// Start following the events table from its current end.
pub fn start(services: Arc<Services>, mcp: McpServer) -> (Arc<PushFeed>, FeedTask) {
    let feed = Arc::new(PushFeed::default());
    let task = tokio::spawn(follow(services, mcp, feed.clone()));
    (feed, FeedTask(task))
}

async fn follow(services: Arc<Services>, mcp: McpServer, feed: Arc<PushFeed>) {
    let mut last = match services
        .with_vault(|vault| vault.latest_webhook_event_id())
        .await
    {
        Ok(last) => last,
        Err(error) => {
            tracing::warn!(%error, "cannot read the pushed events; pushes are not followed");
            return;
        }
    };
    let mut pruned = Instant::now();
    loop {
        tokio::select! {
            () = tokio::time::sleep(POLL_INTERVAL) => {}
            () = feed.recorded.notified() => {}
        }
        loop {
            let events = match services
                .with_vault(move |vault| vault.webhook_events_after(last, BATCH))
                .await
            {
                Ok(events) => events,
                Err(error) => {
                    tracing::warn!(%error, "cannot read the pushed events; trying again");
                    break;
                }
            };
            let full = events.len() as u32 == BATCH;
            for event in events {
                last = last.max(event.event_id);
                let tenant_id = event.tenant_id.to_string();
                services
                    .orderdesk
                    .invalidate_store(&tenant_id, &event.store_id);
                let told = mcp
                    .order_changed(&tenant_id, &event.store_id, &event.order_id)
                    .await;
                tracing::debug!(
                    event_id = event.event_id,
                    tenant_id = %tenant_id,
                    store_id = %event.store_id,
                    order_id = %event.order_id,
                    subscribers_told = told,
                    "pushed order change"
                );
            }
            if !full {
                break;
            }
        }
        if pruned.elapsed() >= PRUNE_INTERVAL {
            pruned = Instant::now();
            match services
                .with_vault(|vault| vault.prune_webhook_events())
                .await
            {
                Ok(0) => {}
                Ok(count) => tracing::info!(count, "pruned pushed events past their retention"),
                Err(error) => tracing::warn!(%error, "cannot prune pushed events"),
            }
        }
    }
}
