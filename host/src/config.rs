//! The operator's config file (`<data dir>/config.toml`, or `--config FILE`): per-call
//! limits, and grants narrowed per component. Everything is optional; a missing file
//! means the defaults.
//!
//! ```toml
//! [limits]
//! memory_mib = 64        # linear memory per call
//! cpu_ms = 5000          # CPU time inside WebAssembly per call
//! call_timeout_s = 120   # wall time per call, OrderDesk requests included
//! result_kib = 1024      # size of a tool's JSON result
//! log_kib = 64           # log output per call
//! max_concurrency = 16   # calls running at once (sizes the instance pool)
//!
//! [grants.orders]        # narrow a component's grants (never widens them)
//! orderdesk = "read"
//! ```

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

use anyhow::Context;
use serde::Deserialize;

use crate::grants::{Grants, OrderDeskAccess};
use crate::runtime::Limits;

/// The parsed config file.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HostConfig {
    #[serde(default)]
    pub limits: LimitSettings,
    /// Component name → the most it may be granted.
    #[serde(default)]
    pub grants: BTreeMap<String, GrantCeiling>,
}

/// Limits as the operator writes them (units in the names).
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LimitSettings {
    pub memory_mib: Option<u64>,
    pub cpu_ms: Option<u64>,
    pub call_timeout_s: Option<u64>,
    pub result_kib: Option<u64>,
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

impl HostConfig {
    /// Read `path`; a missing file is the default config.
    pub fn load(path: &Path) -> anyhow::Result<HostConfig> {
        let text = match std::fs::read_to_string(path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(HostConfig::default()),
            Err(e) => return Err(e).with_context(|| format!("cannot read {}", path.display())),
        };
        toml::from_str(&text).with_context(|| {
            format!(
                "invalid config file {}; see the README's \"Configuration\" section",
                path.display()
            )
        })
    }

    /// The limits, defaults filled in.
    pub fn limits(&self) -> anyhow::Result<Limits> {
        let mut limits = Limits::default();
        let l = &self.limits;
        let positive = |name: &str, v: u64| -> anyhow::Result<u64> {
            anyhow::ensure!(v > 0, "limits.{name} must be greater than 0");
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
        let config: HostConfig = toml::from_str(
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
        let config: HostConfig = toml::from_str("[limits]\nmemory_mib = 16\n").unwrap();
        let limits = config.limits().unwrap();
        assert_eq!(limits.max_memory_bytes, 16 << 20);
        assert_eq!(limits.max_cpu_time, Limits::default().max_cpu_time);
        let zero: HostConfig = toml::from_str("[limits]\ncpu_ms = 0\n").unwrap();
        assert!(zero.limits().unwrap_err().to_string().contains("cpu_ms"));
    }

    #[test]
    fn unknown_keys_are_refused() {
        assert!(toml::from_str::<HostConfig>("[limits]\nmemory = 1\n").is_err());
    }
}
