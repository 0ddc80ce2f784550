//! One module per subcommand: call into the host, print the outcome.

pub mod component;
pub mod components;
pub mod serve;
pub mod server_key;
pub mod stores;
pub mod tenant;
