//! What goes through the gateway: a store's credentials, a request to OrderDesk's API and
//! its answer.

use std::fmt;
use std::str::FromStr;

use secrecy::SecretString;
use tokio::time::Instant;

use crate::GatewayError;

/// A store's credentials, resolved by the host's vault for one request.
pub struct StoreCredentials {
    pub store_id: String,
    pub api_key: SecretString,
}

impl StoreCredentials {
    pub fn new(store_id: impl Into<String>, api_key: impl Into<String>) -> Self {
        StoreCredentials {
            store_id: store_id.into(),
            api_key: SecretString::from(api_key.into()),
        }
    }
}

impl fmt::Debug for StoreCredentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StoreCredentials")
            .field("store_id", &self.store_id)
            .finish_non_exhaustive()
    }
}

/// The methods OrderDesk accepts (there is no PATCH).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Method {
    Get,
    Post,
    Put,
    Delete,
}

impl Method {
    pub fn as_str(self) -> &'static str {
        match self {
            Method::Get => "GET",
            Method::Post => "POST",
            Method::Put => "PUT",
            Method::Delete => "DELETE",
        }
    }

    /// Anything but GET changes something in OrderDesk.
    pub fn is_write(self) -> bool {
        self != Method::Get
    }

    pub(crate) fn to_reqwest(self) -> reqwest::Method {
        match self {
            Method::Get => reqwest::Method::GET,
            Method::Post => reqwest::Method::POST,
            Method::Put => reqwest::Method::PUT,
            Method::Delete => reqwest::Method::DELETE,
        }
    }
}

impl fmt::Display for Method {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Method {
    type Err = GatewayError;

    /// Case-insensitive; PATCH and anything else is refused.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_uppercase().as_str() {
            "GET" => Ok(Method::Get),
            "POST" => Ok(Method::Post),
            "PUT" => Ok(Method::Put),
            "DELETE" => Ok(Method::Delete),
            _ => Err(GatewayError::InvalidInput(format!(
                "method {s:?} is not supported by OrderDesk (use GET, POST, PUT or DELETE)"
            ))),
        }
    }
}

/// Whether a GET may be answered from the cache.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum CacheMode {
    UseCache,
    /// Go upstream whatever the cache holds, and refresh the entry with the answer.
    Bypass,
}

/// One request to OrderDesk, relative to the API base.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ApiRequest {
    pub method: Method,
    /// Starts with `/`, e.g. `/orders/123`. No query string, fragment or `..`.
    pub path: String,
    pub query: Vec<(String, String)>,
    /// JSON text, for POST and PUT only.
    pub body: Option<String>,
    pub cache: CacheMode,
    /// When the caller stops waiting (its own call deadline). The gateway fits its whole
    /// budget for the request inside it: it refuses to start an attempt it cannot
    /// finish, cuts an attempt's timeout to what is left, and never waits out a 429 or
    /// a backoff past it. `None`: only the configured timeouts apply.
    pub deadline: Option<Instant>,
}

impl ApiRequest {
    pub fn new(method: Method, path: impl Into<String>) -> Self {
        ApiRequest {
            method,
            path: path.into(),
            query: Vec::new(),
            body: None,
            cache: CacheMode::UseCache,
            deadline: None,
        }
    }

    pub fn get(path: impl Into<String>) -> Self {
        Self::new(Method::Get, path)
    }

    pub fn post(path: impl Into<String>, body: impl Into<String>) -> Self {
        Self::new(Method::Post, path).with_body(body)
    }

    pub fn put(path: impl Into<String>, body: impl Into<String>) -> Self {
        Self::new(Method::Put, path).with_body(body)
    }

    pub fn delete(path: impl Into<String>) -> Self {
        Self::new(Method::Delete, path)
    }

    pub fn with_query(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.query.push((name.into(), value.into()));
        self
    }

    pub fn with_body(mut self, body: impl Into<String>) -> Self {
        self.body = Some(body.into());
        self
    }

    pub fn with_cache(mut self, cache: CacheMode) -> Self {
        self.cache = cache;
        self
    }

    pub fn with_deadline(mut self, deadline: Instant) -> Self {
        self.deadline = Some(deadline);
        self
    }
}

/// A successful answer from OrderDesk (or from the cache).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ApiResponse {
    pub status: u16,
    pub body: String,
    /// Answered from the cache without going upstream.
    pub cached: bool,
    /// How long ago OrderDesk gave a cached answer (`Some` exactly when `cached`).
    pub cache_age: Option<std::time::Duration>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn creds() -> StoreCredentials {
        StoreCredentials::new("12345", "sk_live_supersecret")
    }

    #[test]
    fn credentials_debug_shows_the_store_only() {
        let text = format!("{:?}", creds());
        assert!(text.contains("12345"));
        assert!(!text.contains("supersecret"));
    }

    #[test]
    fn methods_parse_without_patch() {
        assert_eq!("get".parse::<Method>().unwrap(), Method::Get);
        assert_eq!("DELETE".parse::<Method>().unwrap(), Method::Delete);
        assert!("PATCH".parse::<Method>().is_err());
    }
}
