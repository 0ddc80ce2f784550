//! Logging to stderr: stdout belongs to JSON-RPC when serving stdio, and to the report
//! of every other command. Set up before the settings are read, so it takes its filter
//! and format from the environment and flags only.

use std::io::IsTerminal;

use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;

use crate::args::LogFormat;

/// Install the stderr logger. `ORDERDESK_MCP_LOG` decides what is logged when it is
/// set; otherwise `default_level`.
pub fn init(format: LogFormat, default_level: tracing::Level) {
    let filter = tracing_subscriber::EnvFilter::try_from_env("ORDERDESK_MCP_LOG")
        .unwrap_or_else(|_| default_level.as_str().to_ascii_lowercase().into());
    let builder = tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        // Colours for a terminal only: MCP clients write a server's stderr to log files.
        .with_ansi(std::io::stderr().is_terminal())
        .with_env_filter(filter);
    // rmcp logs whole JSON-RPC messages at debug level, tool arguments included (a
    // master key passed to `tenant_use_master_key`): never let those through, whatever
    // the filter asks for.
    let no_message_dumps = tracing_subscriber::filter::filter_fn(|meta| {
        !(meta.target().starts_with("rmcp") && *meta.level() > tracing::Level::INFO)
    });
    match format {
        LogFormat::Text => builder.finish().with(no_message_dumps).init(),
        LogFormat::Json => builder
            .json()
            .flatten_event(true)
            .finish()
            .with(no_message_dumps)
            .init(),
    }
}
