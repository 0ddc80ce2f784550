//! The operator's config file (`<data dir>/config.toml`, or `--config FILE`): server
//! settings, per-call limits, and grants narrowed per component. Everything is optional;
//! a missing file means the defaults. [`Settings`](super::Settings) merges it with the
//! environment and the command line, which take precedence.
//!
//! ```toml
//! [server]               # each also settable by flag or environment variable
//! api_base = "https://app.orderdesk.me/api/v2"
//! components = "/srv/orderdesk-mcp/components"
//! bcrypt_cost = 12
//! auto_provision = false
//! audit_retention_days = 90
//! webhook_retention_days = 30  # pushed order changes (orders_changes) kept this long
//! secret_arguments = false  # tools may not take master/API keys as arguments
//! shutdown_grace_s = 10      # a shutdown waits this long for the calls under way
//! text_copy = "toon"         # a result's text copy: "toon" (fewer tokens) or "json"
//! metrics = "127.0.0.1:9464" # serve Prometheus metrics at /metrics (token: environment)
//!
//! [limits]
//! memory_mib = 64        # linear memory per call
//! cpu_ms = 5000          # CPU time inside WebAssembly per call
//! call_timeout_s = 120   # wall time per call, OrderDesk requests included
//! result_kib = 1024      # size of a tool's JSON result (a call over it fails)
//! answer_kib = 60        # the size tools keep a page of records under (session.budget)
//! log_kib = 64           # log output per call
//! max_concurrency = 16   # calls running at once (sizes the instance pool)
//!
//! [grants.orders]        # narrow a component's grants (never widens them)
//! orderdesk = "read"
//!
//! [components.lowstock]  # a third-party component the operator trusted (app::trust)
//! sha256 = "9f2c…"       # of the exact file reviewed
//! orderdesk = "read"     # the most it may be granted; its manifest may ask for less
//! log = true
//! ```

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;
use thiserror::Error;

use super::trust::ComponentTrust;
use crate::grants::{Grants, OrderDeskAccess};
use crate::runtime::Limits;

/// A config file that cannot be used.
#[derive(Debug, Error)]
pub enum ConfigError {
    #[error("cannot read {path}: {source}")]
    Unreadable {
        path: std::path::PathBuf,
        source: std::io::Error,
    },
    #[error("invalid config file {path}: {source}; see the README's \"Configuration\" section")]
    Invalid {
        path: std::path::PathBuf,
        source: Box<toml::de::Error>,
    },
    #[error("limits.{0} must be greater than 0")]
    NotPositive(&'static str),
}

/// The parsed config file.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConfigFile {
    #[serde(default)]
    pub server: ServerSettings,
    #[serde(default)]
    pub limits: LimitSettings,
    /// The remote server (`serve --http`).
    #[serde(default)]
    pub http: HttpFileSettings,
    /// Component name → the most it may be granted.
    #[serde(default)]
    pub grants: BTreeMap<String, GrantCeiling>,
    /// Third-party component name → the exact file the operator trusted and the
    /// grants allowed to it (see `app::trust`).
    #[serde(default)]
    pub components: BTreeMap<String, ComponentTrust>,
    /// Where this config was read from (`None`: defaults, no file).
    #[serde(skip)]
    pub path: Option<PathBuf>,
}

/// The `[http]` table: the remote server's settings (`serve --http`); see
/// `app::http::HttpSettings` for what each means and its default.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HttpFileSettings {
    pub bind: Option<String>,
    pub public_url: Option<String>,
    pub allowed_origins: Option<Vec<String>>,
    pub trusted_proxies: Option<Vec<String>>,
    pub max_body_kib: Option<u64>,
    pub max_concurrent: Option<usize>,
    pub request_timeout_s: Option<u64>,
    pub session_idle_s: Option<u64>,
    pub sessions_per_tenant: Option<usize>,
}

/// The `[server]` table: what flags and environment variables can also set.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServerSettings {
    pub api_base: Option<String>,
    pub components: Option<std::path::PathBuf>,
    pub bcrypt_cost: Option<u32>,
    pub auto_provision: Option<bool>,
    pub audit_retention_days: Option<u64>,
    /// How long OrderDesk's pushed order changes are kept (`orders_changes`).
    pub webhook_retention_days: Option<u64>,
    /// Whether tools may take secrets as arguments (default: yes unless
    /// `ORDERDESK_MCP_MASTER_KEY` is set).
    pub secret_arguments: Option<bool>,
    /// Seconds a shutdown waits for the calls under way (default 10).
    pub shutdown_grace_s: Option<u64>,
    /// The form of a result's text copy: `toon` (default) or `json`.
    pub text_copy: Option<String>,
    /// Where to serve `/metrics` (`127.0.0.1:9464`, or a port alone for loopback).
    pub metrics: Option<String>,
}

/// Limits as the operator writes them (units in the names).
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LimitSettings {
    pub memory_mib: Option<u64>,
    pub cpu_ms: Option<u64>,
    pub call_timeout_s: Option<u64>,
    pub result_kib: Option<u64>,
    pub answer_kib: Option<u64>,
    pub log_kib: Option<u64>,
    pub max_concurrency: Option<u32>,
}

/// A ceiling on a component's grants: `false`/`"none"`/`"read"` take away, an absent
/// field keeps what the component's own manifest grants.
#[derive(Clone, Copy, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GrantCeiling {
    pub session: Option<bool>,
    pub vault: Option<bool>,
    pub orderdesk: Option<OrderDeskAccess>,
    pub log: Option<bool>,
    pub clocks: Option<bool>,
}

impl ConfigFile {
    /// Read `path`; a missing file is the default config.
    pub fn load(path: &Path) -> Result<ConfigFile, ConfigError> {
        let text = match std::fs::read_to_string(path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Ok(ConfigFile {
                    path: Some(path.to_path_buf()),
                    ..ConfigFile::default()
                });
            }
            Err(source) => {
                return Err(ConfigError::Unreadable {
                    path: path.to_path_buf(),
                    source,
                });
            }
        };
        let mut config: ConfigFile =
            toml::from_str(&text).map_err(|source| ConfigError::Invalid {
                path: path.to_path_buf(),
                source: Box::new(source),
            })?;
        config.path = Some(path.to_path_buf());
        Ok(config)
    }

    /// The file read again (after an operator's edit, e.g. `components trust --write`);
    /// the defaults when this config came from no file.
    pub fn reread(&self) -> Result<ConfigFile, ConfigError> {
        match &self.path {
            Some(path) => ConfigFile::load(path),
            None => Ok(self.clone()),
        }
    }

    /// The limits, defaults filled in.
    pub fn limits(&self) -> Result<Limits, ConfigError> {
        let mut limits = Limits::default();
        let l = &self.limits;
        let positive = |name: &'static str, v: u64| -> Result<u64, ConfigError> {
            if v == 0 {
                return Err(ConfigError::NotPositive(name));
            }
            Ok(v)
        };
        if let Some(v) = l.memory_mib {
            limits.max_memory_bytes = (positive("memory_mib", v)? as usize) << 20;
        }
        if let Some(v) = l.cpu_ms {
            limits.max_cpu_time = Duration::from_millis(positive("cpu_ms", v)?);
        }
        if let Some(v) = l.call_timeout_s {
            limits.max_call_time = Duration::from_secs(positive("call_timeout_s", v)?);
        }
        if let Some(v) = l.result_kib {
            limits.max_result_bytes = (positive("result_kib", v)? as usize) << 10;
        }
        if let Some(v) = l.answer_kib {
            limits.answer_bytes = (positive("answer_kib", v)? as usize) << 10;
        }
        if let Some(v) = l.log_kib {
            limits.max_log_bytes = (positive("log_kib", v)? as usize) << 10;
        }
        if let Some(v) = l.max_concurrency {
            limits.max_concurrency = positive("max_concurrency", u64::from(v))? as u32;
        }
        Ok(limits)
    }

    /// `grants` narrowed by the operator's ceiling for `component`, if any.
    pub fn narrow(&self, component: &str, grants: Grants) -> Grants {
        let Some(ceiling) = self.grants.get(component) else {
            return grants;
        };
        Grants {
            session: grants.session && ceiling.session.unwrap_or(true),
            vault: grants.vault && ceiling.vault.unwrap_or(true),
            orderdesk: grants
                .orderdesk
                .min(ceiling.orderdesk.unwrap_or(OrderDeskAccess::Write)),
            log: grants.log && ceiling.log.unwrap_or(true),
            clocks: grants.clocks && ceiling.clocks.unwrap_or(true),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_ceiling_narrows_and_never_widens() {
        let config: ConfigFile = toml::from_str(
            "[grants.orders]\norderdesk = \"read\"\n[grants.tenant]\norderdesk = \"write\"\nvault = false\n",
        )
        .unwrap();
        let writer = Grants {
            session: true,
            vault: false,
            orderdesk: OrderDeskAccess::Write,
            log: true,
            clocks: false,
        };
        assert_eq!(
            config.narrow("orders", writer).orderdesk,
            OrderDeskAccess::Read
        );
        assert!(config.narrow("orders", writer).session);
        let tenant = Grants {
            session: true,
            vault: true,
            orderdesk: OrderDeskAccess::None,
            log: true,
            clocks: false,
        };
        let narrowed = config.narrow("tenant", tenant);
        assert_eq!(narrowed.orderdesk, OrderDeskAccess::None);
        assert!(!narrowed.vault);
        assert_eq!(config.narrow("other", writer), writer);
    }

    #[test]
    fn limits_fill_defaults_and_refuse_zero() {
        let config: ConfigFile = toml::from_str("[limits]\nmemory_mib = 16\n").unwrap();
        let limits = config.limits().unwrap();
        assert_eq!(limits.max_memory_bytes, 16 << 20);
        assert_eq!(limits.max_cpu_time, Limits::default().max_cpu_time);
        let zero: ConfigFile = toml::from_str("[limits]\ncpu_ms = 0\n").unwrap();
        assert!(zero.limits().unwrap_err().to_string().contains("cpu_ms"));
    }

    #[test]
    fn unknown_keys_are_refused() {
        assert!(toml::from_str::<ConfigFile>("[limits]\nmemory = 1\n").is_err());
    }
}
