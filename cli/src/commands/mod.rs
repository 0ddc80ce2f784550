//! One module per subcommand: call into the host, print the outcome.

pub mod call;
pub mod component;
pub mod components;
pub mod new;
pub mod review;
pub mod serve;
pub mod server_key;
pub mod stores;
pub mod tenant;
pub mod token;
pub mod webhooks;
