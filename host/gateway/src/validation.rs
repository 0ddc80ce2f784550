//! What the gateway refuses before anything is sent, always as
//! [`GatewayError::InvalidInput`]: settings that make no sense (checked once, by
//! `Gateway::new`) and requests whose tenant, store id, path, query or body could not
//! be sent safely or as OrderDesk expects.
//!
//! Pure checks: no I/O, no clock, no state. The path rules keep every request under the
//! API base, because the API key header goes wherever the URL points; [`url_for`]
//! checks the built URL once more for the same reason.

use reqwest::Url;
use reqwest::header::HeaderValue;

use crate::{ApiRequest, GatewayConfig, GatewayError, Method, StoreCredentials};

/// The longest path we accept; OrderDesk paths are short.
const MAX_PATH_LEN: usize = 2048;

/// The parts of a [`GatewayConfig`] that the gateway keeps parsed.
pub(crate) struct CheckedConfig {
    /// `api_base` parsed, without a trailing slash.
    pub(crate) base: Url,
    pub(crate) user_agent: HeaderValue,
}

/// Refuses settings the gateway cannot work with: an API base that is not an http(s)
/// URL without query or fragment, bucket sizes and rates that are not positive, a zero
/// response cap, a user agent that cannot be a header.
pub(crate) fn check_config(config: &GatewayConfig) -> Result<CheckedConfig, GatewayError> {
    let bad = |m: String| Err(GatewayError::InvalidInput(m));
    let base_text = config.api_base.trim_end_matches('/');
    let base = match Url::parse(base_text) {
        Ok(u) => u,
        Err(e) => return bad(format!("api_base {base_text:?} is not a URL: {e}")),
    };
    if !matches!(base.scheme(), "http" | "https")
        || base.query().is_some()
        || base.fragment().is_some()
        || base.cannot_be_a_base()
    {
        return bad(format!(
            "api_base {base_text:?} must be an http(s) URL without query or fragment"
        ));
    }
    let positive = [
        ("store_bucket_capacity", config.store_bucket_capacity, 1.0),
        (
            "store_refill_per_sec",
            config.store_refill_per_sec,
            f64::MIN_POSITIVE,
        ),
        ("tenant_bucket_burst", config.tenant_bucket_burst, 1.0),
        (
            "tenant_refill_per_min",
            config.tenant_refill_per_min,
            f64::MIN_POSITIVE,
        ),
        ("write_cost", config.write_cost, 0.0),
    ];
    for (name, value, min) in positive {
        if !(value.is_finite() && value >= min) {
            return bad(format!(
                "{name} must be a finite number >= {min}, not {value}"
            ));
        }
    }
    if config.max_response_bytes == 0 {
        return bad("max_response_bytes must be positive".into());
    }
    let user_agent = match HeaderValue::from_str(&config.user_agent) {
        Ok(v) => v,
        Err(_) => return bad("user_agent is not a valid header value".into()),
    };
    Ok(CheckedConfig { base, user_agent })
}

/// Refuses a request that must not go out: no tenant, a store id that cannot be a
/// header, a path that is not a plain absolute path under the base, an unnamed query
/// parameter, or a body on a method without one or that is not JSON.
pub(crate) fn validate(
    tenant_id: &str,
    creds: &StoreCredentials,
    request: &ApiRequest,
) -> Result<(), GatewayError> {
    let bad = |m: String| Err(GatewayError::InvalidInput(m));
    if tenant_id.is_empty() {
        return bad("the tenant id is empty".into());
    }
    let store = &creds.store_id;
    if store.is_empty() || !store.bytes().all(|b| b.is_ascii_graphic()) {
        return bad(format!(
            "store id {store:?} must be non-empty printable ASCII without spaces"
        ));
    }
    let path = &request.path;
    if !path.starts_with('/') {
        return bad(format!("path {path:?} must start with '/'"));
    }
    if path.len() > MAX_PATH_LEN {
        return bad(format!("path is longer than {MAX_PATH_LEN} bytes"));
    }
    if path.contains('?') || path.contains('#') {
        return bad(format!(
            "path {path:?} must not contain '?' or '#': put parameters in the query list"
        ));
    }
    // `%2e%2e` is `..` to a URL parser, and `\` is `/` to it: both could climb out of
    // the API base just like a literal `..`.
    let lower = path.to_ascii_lowercase();
    if path.contains("..") || lower.contains("%2e") || path.contains('\\') {
        return bad(format!("path {path:?} must not contain '..'"));
    }
    if path.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return bad(format!(
            "path {path:?} must not contain spaces or control characters"
        ));
    }
    if let Some((name, _)) = request.query.iter().find(|(k, _)| k.is_empty()) {
        return bad(format!("query parameter name {name:?} is empty"));
    }
    if let Some(body) = &request.body {
        if !matches!(request.method, Method::Post | Method::Put) {
            return bad(format!(
                "{} requests carry no body; only POST and PUT do",
                request.method
            ));
        }
        if let Err(e) = serde_json::from_str::<serde_json::Value>(body) {
            return bad(format!("the body is not valid JSON: {e}"));
        }
    }
    Ok(())
}

/// The full URL of a (validated) request: the base, the path, then the query,
/// percent-encoded. Refuses any URL that would leave the base.
pub(crate) fn url_for(base: &Url, request: &ApiRequest) -> Result<Url, GatewayError> {
    let text = format!("{}{}", base.as_str().trim_end_matches('/'), request.path);
    let mut url = Url::parse(&text).map_err(|e| {
        GatewayError::InvalidInput(format!("path {:?} does not form a URL: {e}", request.path))
    })?;
    // Validation should make this impossible; checked anyway because the key
    // header goes wherever this URL points.
    let base_path = base.path().trim_end_matches('/');
    if url.origin() != base.origin() || !url.path().starts_with(base_path) {
        return Err(GatewayError::InvalidInput(format!(
            "path {:?} leaves the API base",
            request.path
        )));
    }
    if !request.query.is_empty() {
        url.query_pairs_mut().extend_pairs(&request.query);
    }
    Ok(url)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn creds() -> StoreCredentials {
        StoreCredentials::new("12345", "sk_live_supersecret")
    }

    fn check(request: ApiRequest) -> Result<(), GatewayError> {
        validate("tenant", &creds(), &request)
    }

    #[test]
    fn valid_requests_pass() {
        check(ApiRequest::get("/orders").with_query("limit", "5")).unwrap();
        check(ApiRequest::post("/orders", r#"{"a":1}"#)).unwrap();
        check(ApiRequest::put("/orders/1", r#"{"a":1}"#)).unwrap();
        check(ApiRequest::delete("/orders/1")).unwrap();
        check(ApiRequest::new(Method::Post, "/move-orders")).unwrap();
    }

    #[test]
    fn bad_paths_are_refused() {
        for path in [
            "orders",
            "",
            "/orders/../store",
            "/orders?limit=5",
            "/orders#x",
            "/orders/%2E%2E/x",
            "/orders\\..",
            "/orders/1 2",
            "/orders/\n",
        ] {
            assert!(
                matches!(
                    check(ApiRequest::get(path)),
                    Err(GatewayError::InvalidInput(_))
                ),
                "{path:?}"
            );
        }
    }

    #[test]
    fn bodies_only_on_post_and_put_and_only_json() {
        for request in [
            ApiRequest::get("/orders").with_body("{}"),
            ApiRequest::delete("/orders/1").with_body("{}"),
            ApiRequest::post("/orders", "{not json"),
            ApiRequest::put("/orders/1", ""),
        ] {
            assert!(matches!(check(request), Err(GatewayError::InvalidInput(_))));
        }
    }

    #[test]
    fn bad_store_ids_and_tenants_are_refused() {
        let r = ApiRequest::get("/test");
        assert!(validate("", &creds(), &r).is_err());
        assert!(validate("t", &StoreCredentials::new("", "k"), &r).is_err());
        assert!(validate("t", &StoreCredentials::new("1 2", "k"), &r).is_err());
    }
}
