//! `log`: a component's log lines, bounded per call, redacted, tagged with the call's
//! component and correlation id.

use crate::grants::Capability;
use crate::redact::redact_text;
use crate::runtime::CallState;
use crate::runtime::bindings::log;

impl log::Host for CallState {
    async fn write(&mut self, level: log::Level, message: String, fields: Vec<(String, String)>) {
        if self.require(Capability::Log).is_err() {
            return;
        }
        // Bound the volume a component can push into the host's log per call; say once
        // that the rest was dropped.
        let size = message.len() + fields.iter().map(|(k, v)| k.len() + v.len()).sum::<usize>();
        if self.log_bytes + size > self.max_log_bytes {
            if !self.log_truncated {
                self.log_truncated = true;
                tracing::warn!(
                    component = &*self.context.component,
                    correlation_id = &*self.context.correlation_id,
                    limit_bytes = self.max_log_bytes,
                    "component log output over the per-call limit; further lines of this call dropped"
                );
            }
            return;
        }
        self.log_bytes += size;
        let component = &*self.context.component;
        let correlation_id = &*self.context.correlation_id;
        if let Some(sink) = &self.context.services.log_sink {
            sink.push(level, &message, &fields);
        }
        let message = redact_text(&message);
        let fields = redact_text(
            &fields
                .iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect::<Vec<_>>()
                .join(" "),
        );
        match level {
            log::Level::Trace => tracing::trace!(component, correlation_id, fields, "{message}"),
            log::Level::Debug => tracing::debug!(component, correlation_id, fields, "{message}"),
            log::Level::Info => tracing::info!(component, correlation_id, fields, "{message}"),
            log::Level::Warn => tracing::warn!(component, correlation_id, fields, "{message}"),
            log::Level::Error => tracing::error!(component, correlation_id, fields, "{message}"),
        }
    }
}
