//! The remote server's settings, merged like every other setting (flag > environment >
//! `[http]` in the config file > default), and the checks of a request's `Host`,
//! `Origin` and client address that follow from them.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::time::Duration;

use http::Uri;

use super::super::config::HttpFileSettings;
use super::super::settings::SettingsError;

/// The port `--http` binds when given only an address.
pub const DEFAULT_PORT: u16 = 8787;
/// Request bodies larger than this are refused with 413 (MCP requests are small; a
/// store's batch of order edits stays well under it).
pub const DEFAULT_MAX_BODY_KIB: u64 = 1024;
/// Requests handled at once; beyond it, 503 with `Retry-After`.
pub const DEFAULT_MAX_CONCURRENT: usize = 64;
/// The longest a request may take before its answer starts (a tool call's own time
/// limit is shorter; this catches what hangs elsewhere).
pub const DEFAULT_REQUEST_TIMEOUT_S: u64 = 180;
/// A session with no request for this long is ended.
pub const DEFAULT_SESSION_IDLE_S: u64 = 30 * 60;
/// Open sessions one tenant may have at once.
pub const DEFAULT_SESSIONS_PER_TENANT: usize = 32;

/// Everything `serve --http` runs with.
#[derive(Clone, Debug)]
pub struct HttpSettings {
    pub bind: SocketAddr,
    /// How clients reach the server when it is behind a proxy (`https://mcp.example.com`):
    /// its origin is allowed, its host accepted, and (once the console and OAuth exist)
    /// the URLs the server writes start with it.
    pub public_url: Option<PublicUrl>,
    /// Browser origins allowed besides the public URL's (and, on loopback, the
    /// server's own `http://localhost:PORT`); normalised `scheme://host:port`.
    pub allowed_origins: Vec<String>,
    /// Proxies whose `X-Forwarded-For` is believed (exact addresses).
    pub trusted_proxies: Vec<IpAddr>,
    pub max_body_bytes: usize,
    pub max_concurrent: usize,
    pub request_timeout: Duration,
    pub session_idle: Duration,
    pub sessions_per_tenant: usize,
}

/// The externally visible base URL of the server.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PublicUrl {
    /// `https://host[:port]`, normalised (see [`normalise_origin`]).
    pub origin: String,
    /// The host as a `Host` header names it (`host[:port]`).
    pub authority: String,
    pub https: bool,
}

impl PublicUrl {
    /// `--public-url`, else ORDERDESK_MCP_PUBLIC_URL, else `[http] public_url`.
    pub fn resolve(
        flag: Option<String>,
        env: &impl Fn(&str) -> Option<String>,
        file: &HttpFileSettings,
    ) -> Result<Option<PublicUrl>, SettingsError> {
        match flag
            .or_else(|| env("ORDERDESK_MCP_PUBLIC_URL"))
            .or_else(|| file.public_url.clone())
        {
            Some(text) => Ok(Some(PublicUrl::parse(&text).ok_or(SettingsError::Invalid {
                name: "--public-url (or ORDERDESK_MCP_PUBLIC_URL, [http] public_url)",
                value: text,
                expected: "an absolute http(s) URL without a path, e.g. https://mcp.example.com",
            })?)),
            None => Ok(None),
        }
    }
}

impl HttpSettings {
    /// `bind` from `--http`/`ORDERDESK_MCP_HTTP` (else `[http] bind`); `None` when
    /// neither asks for HTTP.
    pub fn resolve(
        bind_flag: Option<String>,
        public_url_flag: Option<String>,
        env: &impl Fn(&str) -> Option<String>,
        file: &HttpFileSettings,
    ) -> Result<Option<HttpSettings>, SettingsError> {
        let Some(bind) = bind_flag
            .or_else(|| env("ORDERDESK_MCP_HTTP"))
            .or_else(|| file.bind.clone())
        else {
            return Ok(None);
        };
        let bind = parse_bind(&bind).ok_or(SettingsError::Invalid {
            name: "--http (or ORDERDESK_MCP_HTTP, [http] bind)",
            value: bind,
            expected: "PORT, HOST:PORT or IP:PORT, e.g. 8787 or 127.0.0.1:8787",
        })?;
        let public_url = PublicUrl::resolve(public_url_flag, env, file)?;
        let mut allowed_origins = Vec::new();
        for origin in file.allowed_origins.iter().flatten() {
            allowed_origins.push(normalise_origin(origin).ok_or(SettingsError::Invalid {
                name: "[http] allowed_origins",
                value: origin.clone(),
                expected: "origins like https://app.example.com",
            })?);
        }
        let mut trusted_proxies = Vec::new();
        for proxy in file.trusted_proxies.iter().flatten() {
            trusted_proxies.push(proxy.trim().parse().map_err(|_| SettingsError::Invalid {
                name: "[http] trusted_proxies",
                value: proxy.clone(),
                expected: "IP addresses, e.g. 10.0.0.5",
            })?);
        }
        let positive = |value: Option<u64>, name: &'static str, default: u64| match value {
            Some(0) => Err(SettingsError::Invalid {
                name,
                value: "0".into(),
                expected: "a number above zero",
            }),
            other => Ok(other.unwrap_or(default)),
        };
        Ok(Some(HttpSettings {
            bind,
            public_url,
            allowed_origins,
            trusted_proxies,
            max_body_bytes: positive(
                file.max_body_kib,
                "[http] max_body_kib",
                DEFAULT_MAX_BODY_KIB,
            )?
            .saturating_mul(1024) as usize,
            max_concurrent: positive(
                file.max_concurrent.map(|n| n as u64),
                "[http] max_concurrent",
                DEFAULT_MAX_CONCURRENT as u64,
            )? as usize,
            request_timeout: Duration::from_secs(positive(
                file.request_timeout_s,
                "[http] request_timeout_s",
                DEFAULT_REQUEST_TIMEOUT_S,
            )?),
            session_idle: Duration::from_secs(positive(
                file.session_idle_s,
                "[http] session_idle_s",
                DEFAULT_SESSION_IDLE_S,
            )?),
            sessions_per_tenant: positive(
                file.sessions_per_tenant.map(|n| n as u64),
                "[http] sessions_per_tenant",
                DEFAULT_SESSIONS_PER_TENANT as u64,
            )? as usize,
        }))
    }

    /// Settings for `bind` with every default (tests, benchmarks).
    pub fn on(bind: SocketAddr) -> HttpSettings {
        HttpSettings {
            bind,
            public_url: None,
            allowed_origins: Vec::new(),
            trusted_proxies: Vec::new(),
            max_body_bytes: (DEFAULT_MAX_BODY_KIB * 1024) as usize,
            max_concurrent: DEFAULT_MAX_CONCURRENT,
            request_timeout: Duration::from_secs(DEFAULT_REQUEST_TIMEOUT_S),
            session_idle: Duration::from_secs(DEFAULT_SESSION_IDLE_S),
            sessions_per_tenant: DEFAULT_SESSIONS_PER_TENANT,
        }
    }
}

/// `8787`, `:8787`, `127.0.0.1:8787`, `[::1]:8787`, `localhost:8787`.
fn parse_bind(text: &str) -> Option<SocketAddr> {
    let text = text.trim();
    let port_only = text.strip_prefix(':').unwrap_or(text);
    if let Ok(port) = port_only.parse::<u16>() {
        return Some(SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), port));
    }
    if let Ok(addr) = text.parse::<SocketAddr>() {
        return Some(addr);
    }
    let (host, port) = text.rsplit_once(':')?;
    let port = port.parse().ok()?;
    (host == "localhost").then(|| SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), port))
}

impl PublicUrl {
    pub fn parse(text: &str) -> Option<PublicUrl> {
        let uri: Uri = text.trim().trim_end_matches('/').parse().ok()?;
        if !matches!(uri.path(), "" | "/") || uri.query().is_some() {
            return None;
        }
        let origin = normalise_origin(text.trim().trim_end_matches('/'))?;
        Some(PublicUrl {
            https: uri.scheme_str() == Some("https"),
            authority: uri.authority()?.as_str().to_ascii_lowercase(),
            origin,
        })
    }
}

/// `scheme://host:port` in lower case with the port always written (`https://a.b` →
/// `https://a.b:443`), so that two spellings of one origin compare equal; `None` for
/// anything that is not an http(s) origin.
pub fn normalise_origin(text: &str) -> Option<String> {
    let uri: Uri = text.trim().parse().ok()?;
    let scheme = uri.scheme_str()?.to_ascii_lowercase();
    let default_port = match scheme.as_str() {
        "http" => 80,
        "https" => 443,
        _ => return None,
    };
    let host = uri.host()?.to_ascii_lowercase();
    if !matches!(uri.path(), "" | "/") {
        return None;
    }
    Some(format!(
        "{scheme}://{host}:{}",
        uri.port_u16().unwrap_or(default_port)
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bind_address_can_be_a_port_alone() {
        assert_eq!(parse_bind("8787"), Some("127.0.0.1:8787".parse().unwrap()));
        assert_eq!(parse_bind(":9000"), Some("127.0.0.1:9000".parse().unwrap()));
        assert_eq!(
            parse_bind("0.0.0.0:80"),
            Some("0.0.0.0:80".parse().unwrap())
        );
        assert_eq!(parse_bind("[::1]:80"), Some("[::1]:80".parse().unwrap()));
        assert_eq!(
            parse_bind("localhost:1"),
            Some("127.0.0.1:1".parse().unwrap())
        );
        assert_eq!(parse_bind("example.com:80"), None);
        assert_eq!(parse_bind("http://x"), None);
    }

    #[test]
    fn origins_compare_with_their_default_ports() {
        assert_eq!(
            normalise_origin("HTTPS://App.Example.com").as_deref(),
            Some("https://app.example.com:443")
        );
        assert_eq!(
            normalise_origin("http://localhost:8787").as_deref(),
            Some("http://localhost:8787")
        );
        assert_eq!(normalise_origin("null"), None);
        assert_eq!(normalise_origin("ftp://x"), None);
        assert_eq!(normalise_origin("https://x/path"), None);
    }

    #[test]
    fn a_public_url_has_no_path() {
        let url = PublicUrl::parse("https://mcp.example.com/").unwrap();
        assert_eq!(url.origin, "https://mcp.example.com:443");
        assert_eq!(url.authority, "mcp.example.com");
        assert!(url.https);
        assert!(PublicUrl::parse("https://mcp.example.com/base").is_none());
        assert!(PublicUrl::parse("mcp.example.com").is_none());
    }

    #[test]
    fn http_is_off_unless_asked_for_and_bad_values_are_named() {
        let none = |_: &str| None;
        let file = HttpFileSettings::default();
        assert!(
            HttpSettings::resolve(None, None, &none, &file)
                .unwrap()
                .is_none()
        );
        let on = HttpSettings::resolve(Some("9100".into()), None, &none, &file)
            .unwrap()
            .unwrap();
        assert_eq!(on.bind, "127.0.0.1:9100".parse().unwrap());
        assert_eq!(on.max_concurrent, DEFAULT_MAX_CONCURRENT);
        let env = |name: &str| (name == "ORDERDESK_MCP_HTTP").then(|| "nonsense".to_string());
        let error = HttpSettings::resolve(None, None, &env, &file).unwrap_err();
        assert!(error.to_string().contains("nonsense"), "{error}");
        let zero = HttpFileSettings {
            bind: Some("1".into()),
            max_concurrent: Some(0),
            ..Default::default()
        };
        assert!(HttpSettings::resolve(None, None, &none, &zero).is_err());
    }
}
