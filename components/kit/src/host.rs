//! The host interfaces as a component calls them, with the generated signatures.
//!
//! On `wasm32` each function is the generated import. Compiled natively, for `cargo
//! test`, wit-bindgen's imports are stubs that panic, so each function asks the mock
//! host of [`crate::testing`] instead: a component's code runs unchanged in a unit test.

/// The host's answer on `wasm32`, the mock host's natively.
macro_rules! route {
    ($import:expr, $host:ident => $mock:expr) => {{
        #[cfg(target_arch = "wasm32")]
        let answer = $import;
        #[cfg(not(target_arch = "wasm32"))]
        let answer = crate::testing::with_host(|$host| $mock);
        answer
    }};
}

/// Who is calling: the session of the current tool call.
pub mod session {
    #[cfg(target_arch = "wasm32")]
    use crate::bindings::orderdesk::mcp::session as import;
    pub use crate::bindings::orderdesk::mcp::session::SessionInfo;
    use crate::{HostError, StoreRef};

    /// Describe the calling session.
    pub fn info() -> SessionInfo {
        route!(import::info(), host => host.session_info())
    }

    /// Make the store named by `identifier` (a store id, else a name) the session's
    /// active store.
    pub fn set_active_store(identifier: &str) -> Result<StoreRef, HostError> {
        route!(import::set_active_store(identifier), host => host.set_active_store(identifier))
    }

    /// Report progress of a long call to the MCP client.
    pub fn report_progress(progress: f64, total: Option<f64>, message: Option<&str>) {
        route!(
            import::report_progress(progress, total, message),
            host => host.report_progress(progress, total, message)
        )
    }
}

/// Tenants and their stores. API keys go into the vault and never come out.
pub mod vault {
    use crate::HostError;
    #[cfg(target_arch = "wasm32")]
    use crate::bindings::orderdesk::mcp::vault as import;
    pub use crate::bindings::orderdesk::mcp::vault::{
        MatchKind, ResolvedStore, StoreSummary, TenantSummary,
    };

    /// Authenticate the session with a tenant's master key.
    pub fn authenticate(master_key: &str) -> Result<TenantSummary, HostError> {
        route!(import::authenticate(master_key), host => host.authenticate(master_key))
    }

    /// Register an OrderDesk store for the tenant (with `verify`, after OrderDesk's
    /// `GET /test` accepted the credentials).
    pub fn register_store(
        store_id: &str,
        api_key: &str,
        name: Option<&str>,
        label: Option<&str>,
        verify: bool,
    ) -> Result<StoreSummary, HostError> {
        route!(
            import::register_store(store_id, api_key, name, label, verify),
            host => host.register_store(store_id, api_key, name, label, verify)
        )
    }

    /// Replace the API key of a store (by id, else name) after OrderDesk's `GET /test`
    /// accepted the new one; the old key stays when it is refused.
    pub fn update_store_key(identifier: &str, api_key: &str) -> Result<StoreSummary, HostError> {
        route!(
            import::update_store_key(identifier, api_key),
            host => host.update_store_key(identifier, api_key)
        )
    }

    /// The tenant's stores, by name.
    pub fn list_stores() -> Result<Vec<StoreSummary>, HostError> {
        route!(import::list_stores(), host => host.list_stores())
    }

    /// Find a store by OrderDesk store id first, then by name.
    pub fn resolve_store(identifier: &str) -> Result<ResolvedStore, HostError> {
        route!(import::resolve_store(identifier), host => host.resolve_store(identifier))
    }

    /// Delete a store and its encrypted key; answers the deleted store.
    pub fn delete_store(identifier: &str) -> Result<StoreSummary, HostError> {
        route!(import::delete_store(identifier), host => host.delete_store(identifier))
    }
}

/// OrderDesk API requests, made by the host on the component's behalf.
pub mod orderdesk {
    use crate::HostError;
    #[cfg(target_arch = "wasm32")]
    use crate::bindings::orderdesk::mcp::orderdesk as import;
    pub use crate::bindings::orderdesk::mcp::orderdesk::{
        ApiRequest, ApiResponse, CacheMode, Method,
    };

    impl Method {
        /// The method's HTTP name, e.g. `GET`.
        pub fn as_str(self) -> &'static str {
            match self {
                Method::Get => "GET",
                Method::Post => "POST",
                Method::Put => "PUT",
                Method::Delete => "DELETE",
            }
        }
    }

    /// Perform one OrderDesk request.
    pub fn send(request: &ApiRequest) -> Result<ApiResponse, HostError> {
        route!(import::send(request), host => host.send(request))
    }
}

/// Structured lines in the host's log, tagged with the component and the call.
pub mod log {
    #[cfg(target_arch = "wasm32")]
    use crate::bindings::orderdesk::mcp::log as import;
    pub use crate::bindings::orderdesk::mcp::log::Level;

    /// Write one log line with key/value fields.
    pub fn write(level: Level, message: &str, fields: &[(String, String)]) {
        route!(
            import::write(level, message, fields),
            host => host.log(level, message, fields)
        )
    }
}
