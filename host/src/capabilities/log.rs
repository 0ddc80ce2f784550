//! `log`: a component's log lines, bounded per call, redacted, tagged with the call's
//! component and correlation id.

use wasmtime::component::{HasData, Linker};

use super::CallEnv;
use crate::bindings::log;
use crate::grants::Capability;
use crate::redact::redact_with;
use crate::telemetry::{self, Limit};

/// What `log` keeps for one call: how much the component has written.
pub struct LogState {
    bytes: usize,
    max_bytes: usize,
    truncated: bool,
}

impl LogState {
    pub fn new(max_bytes: usize) -> LogState {
        LogState {
            bytes: 0,
            max_bytes,
            truncated: false,
        }
    }
}

/// `log` for one call.
pub struct LogView<'a> {
    pub(super) env: &'a mut CallEnv,
    pub(super) state: &'a mut LogState,
}

struct Log;

impl HasData for Log {
    type Data<'a> = LogView<'a>;
}

/// Add `log` to `linker`.
pub fn add_to_linker<T: Send + 'static>(
    linker: &mut Linker<T>,
    get: fn(&mut T) -> LogView<'_>,
) -> wasmtime::Result<()> {
    log::add_to_linker::<T, Log>(linker, get)
}

impl log::Host for LogView<'_> {
    async fn write(&mut self, level: log::Level, message: String, fields: Vec<(String, String)>) {
        if self.env.require(Capability::Log).is_err() {
            return;
        }
        let context = &self.env.context;
        let component = &*context.component;
        let correlation_id = &*context.correlation_id;
        // Bound the volume a component can push into the host's log per call; say once
        // that the rest was dropped.
        let size = message.len() + fields.iter().map(|(k, v)| k.len() + v.len()).sum::<usize>();
        if self.state.bytes + size > self.state.max_bytes {
            if !self.state.truncated {
                self.state.truncated = true;
                telemetry::limit_hit(Limit::LogSize);
                tracing::warn!(
                    component,
                    correlation_id,
                    limit_bytes = self.state.max_bytes,
                    "component log output over the per-call limit; further lines of this call dropped"
                );
            }
            return;
        }
        self.state.bytes += size;
        if let Some(observer) = &context.services.log_observer {
            observer.component_log(level, &message, &fields);
        }
        let secrets = &context.secrets;
        let message = redact_with(&message, secrets);
        let fields = redact_with(
            &fields
                .iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect::<Vec<_>>()
                .join(" "),
            secrets,
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
