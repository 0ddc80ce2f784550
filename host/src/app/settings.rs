//! One settings type for the whole server, merged from three sources with one
//! precedence: **command-line flag > environment variable > config file > default**.
//!
//! The data directory and the config file's own path come from flags and the
//! environment only (the file lives in the data directory); secrets (the master key, the
//! server key) from the environment only, so that they never sit in a file or a process
//! listing. Logging is set up by the binary before any of this is read.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::time::Duration;

use orderdesk_vault::VaultOptions;
use secrecy::SecretString;
use thiserror::Error;

use super::config::{ConfigError, ConfigFile};
use super::remote::{HttpSettings, PublicUrl};
use crate::mcp::TextCopy;
use crate::runtime::Limits;
use crate::services::DEFAULT_AUDIT_RETENTION;

/// Seconds a shutdown waits for the calls under way, by default.
pub const DEFAULT_SHUTDOWN_GRACE_S: u64 = 10;

/// OrderDesk's production API.
pub const DEFAULT_API_BASE: &str = "https://app.orderdesk.me/api/v2";

/// What the command line says; `None`/`false` leaves the choice to the other sources.
#[derive(Clone, Debug, Default)]
pub struct Flags {
    pub data_dir: Option<PathBuf>,
    pub components: Option<PathBuf>,
    pub config: Option<PathBuf>,
    pub api_base: Option<String>,
    /// `--insecure-api-base`: accept a loopback `http://` API base (a local test server).
    pub insecure_api_base: bool,
    pub sandbox: bool,
    pub watch: bool,
    /// `--http ADDR`: serve MCP over HTTP rather than stdio.
    pub http: Option<String>,
    /// `--public-url URL`: how clients reach the HTTP server behind a proxy.
    pub public_url: Option<String>,
    /// `--metrics ADDR`: serve `/metrics` there.
    pub metrics: Option<String>,
}

/// Operator settings of the vault.
#[derive(Clone, Debug)]
pub struct VaultSettings {
    pub bcrypt_cost: u32,
    pub auto_provision: bool,
    pub server_key: Option<SecretString>,
    pub audit_retention: Duration,
    /// How long pushed order changes are kept (`[server] webhook_retention_days`).
    pub webhook_retention: Duration,
}

/// Everything a server process runs with.
#[derive(Debug)]
pub struct Settings {
    pub data_dir: PathBuf,
    pub config_path: PathBuf,
    /// Extra components (`NAME.wasm`, grants in `NAME.toml`).
    pub components_dir: Option<PathBuf>,
    pub api_base: String,
    /// The API base is a loopback `http://` one, allowed by `--insecure-api-base`.
    pub insecure_api_base: bool,
    /// Tools may take secrets as arguments (`tenant_use_master_key`,
    /// `stores_register`'s `api_key`): they then pass through the chat transcript.
    /// Default: yes, unless the master key comes from the environment.
    pub secret_arguments: bool,
    /// Serve the built-in OrderDesk simulator with a demo store.
    pub sandbox: bool,
    /// Reload changed components of the components directory.
    pub watch: bool,
    /// Authenticate the session at start-up.
    pub master_key: Option<SecretString>,
    pub vault: VaultSettings,
    pub limits: Limits,
    /// How long a shutdown (SIGTERM, Ctrl-C) waits for calls under way before cutting
    /// them off (and recording that it did).
    pub shutdown_grace: Duration,
    /// The form of a result's text copy (`ORDERDESK_MCP_TEXT_COPY`, `[server]
    /// text_copy`): TOON unless the operator's clients need JSON.
    pub text_copy: TextCopy,
    /// Keep start-up memory rather than hand it back after the first `tools/list`
    /// (`ORDERDESK_MCP_KEEP_STARTUP_MEMORY`; see [`memory`](super::memory)).
    pub keep_startup_memory: bool,
    /// Serve MCP over HTTP (`--http`, `ORDERDESK_MCP_HTTP`, `[http] bind`) rather than
    /// stdio, with these settings.
    pub http: Option<HttpSettings>,
    /// The URL the server is reached at from outside (`--public-url`,
    /// ORDERDESK_MCP_PUBLIC_URL, `[http] public_url`), whether or not this process
    /// serves HTTP: `webhooks info` gives OrderDesk URLs under it.
    pub public_url: Option<PublicUrl>,
    /// Where `/metrics` is served (`--metrics`, `ORDERDESK_MCP_METRICS`, `[server]
    /// metrics`); `None`: nowhere, and no metrics are kept.
    pub metrics_addr: Option<SocketAddr>,
    /// The bearer token a scrape of `/metrics` must carry
    /// (`ORDERDESK_MCP_METRICS_TOKEN` only: a flag would show in the process list).
    pub metrics_token: Option<SecretString>,
    /// The config file (its grant ceilings are applied when components load).
    pub file: ConfigFile,
}

/// A setting that cannot be used; the message names it and what it accepts.
#[derive(Debug, Error)]
pub enum SettingsError {
    #[error("{name} must be {expected}, not `{value}`")]
    Invalid {
        name: &'static str,
        value: String,
        expected: &'static str,
    },
    #[error("cannot find a data directory; pass --data-dir or set ORDERDESK_MCP_DATA_DIR")]
    NoDataDir,
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error(
        "the OrderDesk API base `{base}` is refused: {why}. Store API keys are sent to it; \
         OrderDesk's is {DEFAULT_API_BASE}"
    )]
    InsecureApiBase { base: String, why: &'static str },
}

impl Settings {
    /// Merge `flags`, the environment as `env` reads it, and the config file.
    pub fn resolve(
        flags: Flags,
        env: impl Fn(&str) -> Option<String>,
    ) -> Result<Settings, SettingsError> {
        let env = |name: &str| env(name).filter(|value| !value.trim().is_empty());
        let data_dir = match flags
            .data_dir
            .or_else(|| env("ORDERDESK_MCP_DATA_DIR").map(PathBuf::from))
        {
            Some(dir) => dir,
            None => directories::ProjectDirs::from("me", "orderdesk", "orderdesk-mcp")
                .ok_or(SettingsError::NoDataDir)?
                .data_dir()
                .to_path_buf(),
        };
        let config_path = flags
            .config
            .or_else(|| env("ORDERDESK_MCP_CONFIG").map(PathBuf::from))
            .unwrap_or_else(|| data_dir.join("config.toml"));
        let file = ConfigFile::load(&config_path)?;
        let server = file.server.clone();

        let components_dir = flags
            .components
            .or_else(|| env("ORDERDESK_MCP_COMPONENTS").map(PathBuf::from))
            .or(server.components);
        let api_base = flags
            .api_base
            .or_else(|| env("ORDERDESK_API_BASE"))
            .or(server.api_base)
            .unwrap_or_else(|| DEFAULT_API_BASE.to_string());
        let sandbox = flags.sandbox || parse_bool(&env, "ORDERDESK_MCP_SANDBOX")?.unwrap_or(false);
        let insecure_api_base = flags.insecure_api_base
            || parse_bool(&env, "ORDERDESK_MCP_INSECURE_API_BASE")?.unwrap_or(false);
        if !sandbox {
            check_api_base(&api_base, insecure_api_base)?;
        }
        let master_key = env("ORDERDESK_MCP_MASTER_KEY").map(SecretString::from);
        let secret_arguments =
            match parse_bool(&env, "ORDERDESK_MCP_SECRET_ARGUMENTS")?.or(server.secret_arguments) {
                Some(allowed) => allowed,
                // An operator who set the key in the environment has no need for it in chat.
                None => master_key.is_none(),
            };
        let watch = flags.watch || parse_bool(&env, "ORDERDESK_MCP_WATCH")?.unwrap_or(false);
        let bcrypt_cost = match env("ORDERDESK_MCP_BCRYPT_COST") {
            Some(text) => text.trim().parse().map_err(|_| SettingsError::Invalid {
                name: "ORDERDESK_MCP_BCRYPT_COST",
                value: text,
                expected: "a number 4..=31",
            })?,
            None => server
                .bcrypt_cost
                .unwrap_or(VaultOptions::default().bcrypt_cost),
        };
        let auto_provision = parse_bool(&env, "ORDERDESK_MCP_AUTO_PROVISION")?
            .or(server.auto_provision)
            .unwrap_or(false);
        let retention_days = match env("ORDERDESK_MCP_AUDIT_RETENTION_DAYS") {
            Some(text) => Some(
                text.trim()
                    .parse::<u64>()
                    .map_err(|_| SettingsError::Invalid {
                        name: "ORDERDESK_MCP_AUDIT_RETENTION_DAYS",
                        value: text,
                        expected: "a whole number of days",
                    })?,
            ),
            None => server.audit_retention_days,
        };
        let webhook_retention = match server.webhook_retention_days {
            Some(0) => {
                return Err(SettingsError::Invalid {
                    name: "[server] webhook_retention_days",
                    value: "0".into(),
                    expected: "a whole number of days above zero",
                });
            }
            Some(days) => Duration::from_secs(days * 24 * 3600),
            None => VaultOptions::default().webhook_retention,
        };
        let shutdown_grace_s = match env("ORDERDESK_MCP_SHUTDOWN_GRACE_S") {
            Some(text) => text
                .trim()
                .parse::<u64>()
                .map_err(|_| SettingsError::Invalid {
                    name: "ORDERDESK_MCP_SHUTDOWN_GRACE_S",
                    value: text,
                    expected: "a whole number of seconds",
                })?,
            None => server.shutdown_grace_s.unwrap_or(DEFAULT_SHUTDOWN_GRACE_S),
        };
        let text_copy = match env("ORDERDESK_MCP_TEXT_COPY").or(server.text_copy) {
            Some(text) => TextCopy::parse(&text).ok_or(SettingsError::Invalid {
                name: "ORDERDESK_MCP_TEXT_COPY (or [server] text_copy)",
                value: text,
                expected: "`toon` or `json`",
            })?,
            None => TextCopy::default(),
        };
        let metrics_addr = match flags
            .metrics
            .or_else(|| env("ORDERDESK_MCP_METRICS"))
            .or(server.metrics)
        {
            Some(text) => Some(parse_listen_addr(&text).ok_or(SettingsError::Invalid {
                name: "--metrics (or ORDERDESK_MCP_METRICS, [server] metrics)",
                value: text,
                expected: "an address to listen on, such as 127.0.0.1:9464 (or a port alone, \
                           for 127.0.0.1)",
            })?),
            None => None,
        };
        let limits = file.limits()?;
        let public_url = PublicUrl::resolve(flags.public_url.clone(), &env, &file.http)?;
        let http = HttpSettings::resolve(flags.http, flags.public_url, &env, &file.http)?;
        Ok(Settings {
            http,
            public_url,
            metrics_addr,
            metrics_token: env("ORDERDESK_MCP_METRICS_TOKEN").map(SecretString::from),
            text_copy,
            data_dir,
            config_path,
            components_dir,
            api_base,
            insecure_api_base,
            secret_arguments,
            sandbox,
            watch,
            master_key,
            vault: VaultSettings {
                bcrypt_cost,
                auto_provision,
                server_key: env("ORDERDESK_MCP_SERVER_KEY").map(SecretString::from),
                audit_retention: retention_days
                    .map(|days| Duration::from_secs(days * 24 * 3600))
                    .unwrap_or(DEFAULT_AUDIT_RETENTION),
                webhook_retention,
            },
            limits,
            shutdown_grace: Duration::from_secs(shutdown_grace_s),
            keep_startup_memory: parse_bool(&env, super::memory::KEEP_STARTUP_MEMORY_ENV)?
                .unwrap_or(false),
            file,
        })
    }

    /// Merge `flags` with this process's environment and the config file.
    pub fn from_process(flags: Flags) -> Result<Settings, SettingsError> {
        Settings::resolve(flags, |name| std::env::var(name).ok())
    }

    /// The compile cache's directory.
    pub fn cache_dir(&self) -> PathBuf {
        self.data_dir.join("cache")
    }
}

/// Outside the sandbox, store API keys go only to an `https://` API base; a loopback
/// `http://` one (a local test server) only when the operator says so.
fn check_api_base(base: &str, insecure: bool) -> Result<(), SettingsError> {
    let refuse = |why| {
        Err(SettingsError::InsecureApiBase {
            base: base.to_string(),
            why,
        })
    };
    let (scheme, rest) = base.split_once("://").unwrap_or(("", base));
    match scheme.to_ascii_lowercase().as_str() {
        "https" => Ok(()),
        "http" if !insecure => refuse(
            "it is not https:// (for a local test server on 127.0.0.1 or localhost, pass \
             --insecure-api-base or set ORDERDESK_MCP_INSECURE_API_BASE=true)",
        ),
        "http" if is_loopback_authority(rest) => Ok(()),
        "http" => refuse(
            "--insecure-api-base allows an http:// base on this machine's loopback only \
             (127.0.0.1, ::1 or localhost)",
        ),
        _ => refuse("it is not an https:// URL"),
    }
}

/// Whether the authority at the start of `rest` (after `scheme://`) is a loopback host.
fn is_loopback_authority(rest: &str) -> bool {
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    if authority.contains('@') {
        return false; // credentials in the URL: not a plain local server
    }
    let host = match authority.strip_prefix('[') {
        Some(v6) => v6.split(']').next().unwrap_or(""),
        None => authority
            .rsplit_once(':')
            .map_or(authority, |(host, _)| host),
    };
    host.eq_ignore_ascii_case("localhost")
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

/// `HOST:PORT` (an IP address, `[::1]:PORT` for IPv6), or a port alone for loopback:
/// nothing is exposed beyond this machine unless the operator names an address.
fn parse_listen_addr(text: &str) -> Option<SocketAddr> {
    let text = text.trim();
    if let Ok(port) = text.parse::<u16>() {
        return Some(SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), port));
    }
    text.parse().ok()
}

fn parse_bool(
    env: &impl Fn(&str) -> Option<String>,
    name: &'static str,
) -> Result<Option<bool>, SettingsError> {
    let Some(text) = env(name) else {
        return Ok(None);
    };
    match text.trim().to_ascii_lowercase().as_str() {
        "true" | "1" | "yes" => Ok(Some(true)),
        "false" | "0" | "no" => Ok(Some(false)),
        _ => Err(SettingsError::Invalid {
            name,
            value: text,
            expected: "true or false",
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn resolve(flags: Flags, env: &[(&str, &str)], file: &str) -> Result<Settings, SettingsError> {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("config.toml"), file).unwrap();
        let env: HashMap<String, String> = env
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let flags = Flags {
            data_dir: Some(dir.path().to_path_buf()),
            ..flags
        };
        Settings::resolve(flags, |name| env.get(name).cloned())
    }

    #[test]
    fn a_flag_beats_the_environment_which_beats_the_file() {
        let file =
            "[server]\napi_base = \"https://file\"\nbcrypt_cost = 6\ncomponents = \"/file\"\n";
        let from_file = resolve(Flags::default(), &[], file).unwrap();
        assert_eq!(from_file.api_base, "https://file");
        assert_eq!(from_file.vault.bcrypt_cost, 6);
        assert_eq!(from_file.components_dir, Some(PathBuf::from("/file")));

        let env = [
            ("ORDERDESK_API_BASE", "https://env"),
            ("ORDERDESK_MCP_BCRYPT_COST", "8"),
        ];
        let from_env = resolve(Flags::default(), &env, file).unwrap();
        assert_eq!(from_env.api_base, "https://env");
        assert_eq!(from_env.vault.bcrypt_cost, 8);

        let flags = Flags {
            api_base: Some("https://flag".into()),
            components: Some("/flag".into()),
            ..Flags::default()
        };
        let from_flag = resolve(flags, &env, file).unwrap();
        assert_eq!(from_flag.api_base, "https://flag");
        assert_eq!(from_flag.components_dir, Some(PathBuf::from("/flag")));
    }

    #[test]
    fn keys_go_only_to_an_https_api_base_or_an_allowed_loopback_one() {
        let base = |value: &str, insecure: bool| {
            let flags = Flags {
                api_base: Some(value.into()),
                insecure_api_base: insecure,
                ..Flags::default()
            };
            resolve(flags, &[], "").map(|s| s.api_base)
        };
        assert!(base("https://app.orderdesk.me/api/v2", false).is_ok());
        let refused = base("http://127.0.0.1:8080/api/v2", false)
            .unwrap_err()
            .to_string();
        assert!(refused.contains("--insecure-api-base"), "{refused}");
        assert!(base("http://127.0.0.1:8080/api/v2", true).is_ok());
        assert!(base("http://localhost/api/v2", true).is_ok());
        assert!(base("http://[::1]:9/api/v2", true).is_ok());
        for remote in [
            "http://orderdesk.example/api/v2",
            "http://127.0.0.1.example.com/api/v2",
            "http://user@127.0.0.1/api/v2",
        ] {
            let refused = base(remote, true).unwrap_err().to_string();
            assert!(refused.contains("loopback only"), "{remote}: {refused}");
        }
        assert!(base("ftp://127.0.0.1/api/v2", true).is_err());
        // The sandbox's simulator is the host's own, on loopback.
        let sandbox = Flags {
            api_base: Some("http://127.0.0.1:9/api/v2".into()),
            sandbox: true,
            ..Flags::default()
        };
        assert!(resolve(sandbox, &[], "").is_ok());
    }

    #[test]
    fn the_text_copy_is_toon_unless_the_operator_asks_for_json() {
        let default = resolve(Flags::default(), &[], "").unwrap();
        assert_eq!(default.text_copy, TextCopy::Toon);
        let file = resolve(Flags::default(), &[], "[server]\ntext_copy = \"json\"\n").unwrap();
        assert_eq!(file.text_copy, TextCopy::Json);
        let env_wins = resolve(
            Flags::default(),
            &[("ORDERDESK_MCP_TEXT_COPY", "toon")],
            "[server]\ntext_copy = \"json\"\n",
        )
        .unwrap();
        assert_eq!(env_wins.text_copy, TextCopy::Toon);
        let refused = resolve(Flags::default(), &[("ORDERDESK_MCP_TEXT_COPY", "yaml")], "")
            .unwrap_err()
            .to_string();
        assert!(refused.contains("`toon` or `json`"), "{refused}");
    }

    #[test]
    fn secrets_as_tool_arguments_are_off_when_the_key_comes_from_the_environment() {
        let open = resolve(Flags::default(), &[], "").unwrap();
        assert!(open.secret_arguments);
        let keyed = resolve(
            Flags::default(),
            &[("ORDERDESK_MCP_MASTER_KEY", "odmk_x")],
            "",
        )
        .unwrap();
        assert!(!keyed.secret_arguments);
        let chosen = resolve(
            Flags::default(),
            &[("ORDERDESK_MCP_MASTER_KEY", "odmk_x")],
            "[server]\nsecret_arguments = true\n",
        )
        .unwrap();
        assert!(chosen.secret_arguments);
        let env_wins = resolve(
            Flags::default(),
            &[("ORDERDESK_MCP_SECRET_ARGUMENTS", "false")],
            "[server]\nsecret_arguments = true\n",
        )
        .unwrap();
        assert!(!env_wins.secret_arguments);
    }

    #[test]
    fn the_metrics_address_comes_from_one_precedence_and_the_token_from_the_environment() {
        let none = resolve(Flags::default(), &[], "").unwrap();
        assert_eq!(none.metrics_addr, None);
        assert!(none.metrics_token.is_none());
        let file = "[server]\nmetrics = \"0.0.0.0:9000\"\n";
        let from_file = resolve(Flags::default(), &[], file).unwrap();
        assert_eq!(
            from_file.metrics_addr,
            Some("0.0.0.0:9000".parse().unwrap())
        );
        let env = [
            ("ORDERDESK_MCP_METRICS", "9100"),
            ("ORDERDESK_MCP_METRICS_TOKEN", "s3cret"),
        ];
        let from_env = resolve(Flags::default(), &env, file).unwrap();
        assert_eq!(
            from_env.metrics_addr,
            Some("127.0.0.1:9100".parse().unwrap())
        );
        assert!(from_env.metrics_token.is_some());
        let flags = Flags {
            metrics: Some("[::1]:0".into()),
            ..Flags::default()
        };
        let from_flag = resolve(flags, &env, file).unwrap();
        assert_eq!(from_flag.metrics_addr, Some("[::1]:0".parse().unwrap()));
        let refused = resolve(
            Flags::default(),
            &[("ORDERDESK_MCP_METRICS", "localhost")],
            "",
        )
        .unwrap_err()
        .to_string();
        assert!(refused.contains("127.0.0.1:9464"), "{refused}");
    }

    #[test]
    fn defaults_fill_what_no_source_sets() {
        let settings = resolve(Flags::default(), &[], "").unwrap();
        assert_eq!(settings.api_base, DEFAULT_API_BASE);
        assert!(!settings.sandbox && !settings.watch);
        assert!(settings.master_key.is_none());
        assert_eq!(settings.vault.audit_retention, DEFAULT_AUDIT_RETENTION);
        assert_eq!(
            settings.vault.bcrypt_cost,
            VaultOptions::default().bcrypt_cost
        );
    }

    #[test]
    fn pushed_changes_are_kept_as_the_file_says() {
        let default = resolve(Flags::default(), &[], "").unwrap();
        assert_eq!(
            default.vault.webhook_retention,
            VaultOptions::default().webhook_retention
        );
        let week = resolve(
            Flags::default(),
            &[],
            "[server]\nwebhook_retention_days = 7\n",
        )
        .unwrap();
        assert_eq!(
            week.vault.webhook_retention,
            Duration::from_secs(7 * 24 * 3600)
        );
        let refused = resolve(
            Flags::default(),
            &[],
            "[server]\nwebhook_retention_days = 0\n",
        )
        .unwrap_err()
        .to_string();
        assert!(refused.contains("webhook_retention_days"), "{refused}");
    }

    #[test]
    fn the_public_url_is_known_without_serving_http() {
        let settings = resolve(
            Flags::default(),
            &[("ORDERDESK_MCP_PUBLIC_URL", "https://mcp.example.com")],
            "",
        )
        .unwrap();
        assert!(settings.http.is_none());
        assert_eq!(
            settings.public_url.unwrap().origin,
            "https://mcp.example.com:443"
        );
    }

    #[test]
    fn a_bad_value_is_named_with_what_it_accepts() {
        let error = resolve(
            Flags::default(),
            &[("ORDERDESK_MCP_AUTO_PROVISION", "perhaps")],
            "",
        )
        .unwrap_err()
        .to_string();
        assert!(error.contains("ORDERDESK_MCP_AUTO_PROVISION"), "{error}");
        assert!(error.contains("true or false"), "{error}");
        let error = resolve(Flags::default(), &[], "[server]\nport = 1\n")
            .unwrap_err()
            .to_string();
        assert!(error.contains("invalid config file"), "{error}");
    }
}
