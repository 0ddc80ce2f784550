//! Progress notifications for long calls, sent only when the client asked for them.

use rmcp::model::{ProgressNotificationParam, ProgressToken};
use rmcp::{Peer, RoleServer};

use crate::capabilities::ProgressSink;
use crate::services::BoxFuture;

/// Sends `notifications/progress` for one request's progress token.
#[derive(Clone)]
pub struct ProgressReporter {
    pub peer: Peer<RoleServer>,
    pub token: ProgressToken,
}

impl ProgressSink for ProgressReporter {
    fn report(
        &self,
        progress: f64,
        total: Option<f64>,
        message: Option<String>,
    ) -> BoxFuture<'_, ()> {
        let mut param = ProgressNotificationParam::new(self.token.clone(), progress);
        param.total = total;
        param.message = message;
        Box::pin(async move {
            if let Err(e) = self.peer.notify_progress(param).await {
                tracing::debug!(error = %e, "could not send a progress notification");
            }
        })
    }
}
