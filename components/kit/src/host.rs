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
    pub use crate::bindings::orderdesk::mcp::session::{CallBudget, SessionInfo};
    use crate::{HostError, StoreRef};

    /// Describe the calling session: authenticated or not, the tenant, the active
    /// store, whether it is the sandbox, the call's correlation id.
    ///
    /// ```
    /// use orderdesk_tool_kit::{session, testing::MockHost};
    ///
    /// let _host = MockHost::with_store();
    /// let info = session::info();
    /// assert!(info.authenticated);
    /// assert_eq!(info.active_store.unwrap().name, "main");
    /// ```
    pub fn info() -> SessionInfo {
        route!(import::info(), host => host.session_info())
    }

    /// Make the store named by `identifier` (a store id, else a name) the session's
    /// active store.
    ///
    /// ```
    /// use orderdesk_tool_kit::{session, testing::MockHost};
    ///
    /// let _host = MockHost::with_store().store("200002", "second");
    /// assert_eq!(session::set_active_store("second").unwrap().store_id, "200002");
    /// assert!(session::set_active_store("nope").is_err());
    /// ```
    pub fn set_active_store(identifier: &str) -> Result<StoreRef, HostError> {
        route!(import::set_active_store(identifier), host => host.set_active_store(identifier))
    }

    /// Report progress of a long call to the MCP client (when it asked for progress).
    ///
    /// ```
    /// use orderdesk_tool_kit::{session, testing::MockHost};
    ///
    /// let host = MockHost::with_store();
    /// session::report_progress(1.0, Some(4.0), Some("page 1 of 4"));
    /// assert_eq!(host.progress()[0].total, Some(4.0));
    /// ```
    pub fn report_progress(progress: f64, total: Option<f64>, message: Option<&str>) {
        route!(
            import::report_progress(progress, total, message),
            host => host.report_progress(progress, total, message)
        )
    }

    /// The current date and time, UTC, as `YYYY-MM-DD HH:MM:SS` (OrderDesk's form):
    /// what "today" is for a search. The mock host answers a fixed time
    /// ([`MockHost::now`](crate::testing::MockHost::now) sets another).
    ///
    /// ```
    /// use orderdesk_tool_kit::{session, testing::MockHost};
    ///
    /// let _host = MockHost::with_store().now("2026-12-02 09:30:00");
    /// assert_eq!(session::now(), "2026-12-02 09:30:00");
    /// assert_eq!(&session::now()[..10], "2026-12-02"); // today's date, for a search
    /// ```
    pub fn now() -> String {
        route!(import::now(), host => host.now.clone())
    }

    /// What the current call may still spend: `result_bytes`, the size to keep an
    /// answer under (a page of records stops before it and says where to continue),
    /// and `time_left_ms` before the host stops the call (work in steps stops in time
    /// to answer what it did). The mock host answers 60 KiB and 30 s unless
    /// [`MockHost::budget`](crate::testing::MockHost::budget) says otherwise.
    ///
    /// ```
    /// use orderdesk_tool_kit::{session, testing::MockHost};
    ///
    /// let _host = MockHost::with_store().budget(4096, 1500);
    /// let budget = session::budget();
    /// assert_eq!((budget.result_bytes, budget.time_left_ms), (4096, 1500));
    /// ```
    pub fn budget() -> CallBudget {
        route!(import::budget(), host => host.budget())
    }
}

/// Tenants and their stores. API keys go into the vault and never come out.
pub mod vault {
    use crate::HostError;
    #[cfg(target_arch = "wasm32")]
    use crate::bindings::orderdesk::mcp::vault as import;
    pub use crate::bindings::orderdesk::mcp::vault::{
        CallEntry, CallFilter, MatchKind, ResolvedStore, StoreSummary, TenantSummary,
    };

    /// Authenticate the session with a tenant's master key. Needs the `vault` grant
    /// (the built-in `tenant` component has it; a third-party one normally does not).
    ///
    /// ```
    /// use orderdesk_tool_kit::{testing::MockHost, vault};
    ///
    /// let _host = MockHost::new().master_key("odmk_example");
    /// assert!(vault::authenticate("wrong").is_err());
    /// assert_eq!(vault::authenticate("odmk_example").unwrap().tenant_id, "tenant-1");
    /// ```
    pub fn authenticate(master_key: &str) -> Result<TenantSummary, HostError> {
        route!(import::authenticate(master_key), host => host.authenticate(master_key))
    }

    /// Register an OrderDesk store for the tenant (with `verify`, after OrderDesk's
    /// `GET /test` accepted the credentials).
    ///
    /// ```
    /// use orderdesk_tool_kit::{testing::MockHost, vault};
    ///
    /// let host = MockHost::new().tenant("tenant-1");
    /// host.reply(200, serde_json::json!({"status": "success"})); // GET /test
    /// let saved = vault::register_store("300003", "key", Some("shop"), None, true).unwrap();
    /// assert_eq!(saved.store.name, "shop");
    /// ```
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
    ///
    /// ```
    /// use orderdesk_tool_kit::{testing::MockHost, vault};
    ///
    /// let _host = MockHost::with_store();
    /// assert_eq!(vault::list_stores().unwrap()[0].store.store_id, "100001");
    /// ```
    pub fn list_stores() -> Result<Vec<StoreSummary>, HostError> {
        route!(import::list_stores(), host => host.list_stores())
    }

    /// Find a store by OrderDesk store id first, then by name.
    ///
    /// ```
    /// use orderdesk_tool_kit::{testing::MockHost, vault};
    ///
    /// let _host = MockHost::with_store();
    /// assert_eq!(vault::resolve_store("main").unwrap().matched_by, vault::MatchKind::Name);
    /// ```
    pub fn resolve_store(identifier: &str) -> Result<ResolvedStore, HostError> {
        route!(import::resolve_store(identifier), host => host.resolve_store(identifier))
    }

    /// Delete a store and its encrypted key; answers the deleted store.
    ///
    /// ```
    /// use orderdesk_tool_kit::{testing::MockHost, vault};
    ///
    /// let _host = MockHost::with_store();
    /// vault::delete_store("main").unwrap();
    /// assert!(vault::list_stores().unwrap().is_empty());
    /// ```
    pub fn delete_store(identifier: &str) -> Result<StoreSummary, HostError> {
        route!(import::delete_store(identifier), host => host.delete_store(identifier))
    }

    /// The tenant's own recent calls from the audit log, newest first, narrowed by
    /// `filter` (arguments redacted). The mock host answers the entries given to
    /// [`MockHost::audit`](crate::testing::MockHost::audit), filtered the same way.
    ///
    /// ```
    /// use orderdesk_tool_kit::{testing::MockHost, vault};
    ///
    /// let _host = MockHost::with_store()
    ///     .audit("orders_update", "error:conflict")
    ///     .audit("orders_get", "ok");
    /// let filter = vault::CallFilter { tool: None, outcome: Some("error".into()),
    ///                                  store_id: None, since: None, limit: 20 };
    /// let calls = vault::recent_calls(&filter).unwrap();
    /// assert_eq!(calls.len(), 1);
    /// assert_eq!(calls[0].tool, "orders_update");
    /// ```
    pub fn recent_calls(filter: &CallFilter) -> Result<Vec<CallEntry>, HostError> {
        route!(import::recent_calls(filter), host => host.recent_calls(filter))
    }
}

/// OrderDesk API requests, made by the host on the component's behalf.
pub mod orderdesk {
    use crate::HostError;
    #[cfg(target_arch = "wasm32")]
    use crate::bindings::orderdesk::mcp::orderdesk as import;
    pub use crate::bindings::orderdesk::mcp::orderdesk::{
        ApiAnswer, ApiRequest, ApiResponse, CacheMode, ChangeQuery, Method, OrderChange,
    };

    impl Method {
        /// The method's HTTP name, e.g. `GET`.
        ///
        /// ```
        /// assert_eq!(orderdesk_tool_kit::orderdesk::Method::Put.as_str(), "PUT");
        /// ```
        pub fn as_str(self) -> &'static str {
            match self {
                Method::Get => "GET",
                Method::Post => "POST",
                Method::Put => "PUT",
                Method::Delete => "DELETE",
            }
        }
    }

    /// Perform one OrderDesk request for `request.store` (`None`: the session's active
    /// store). The host adds the store's credentials, paces and retries the request
    /// and may answer a GET from its cache (`CacheMode::UseCache`); an error status
    /// comes back as a `HostError`. `docs/orderdesk-replies.md` shows what each
    /// endpoint answers; store-api's `Target` wraps this with errors that name the
    /// request.
    ///
    /// ```
    /// use orderdesk_tool_kit::orderdesk::{self, ApiRequest, CacheMode, Method};
    /// use orderdesk_tool_kit::testing::MockHost;
    ///
    /// let host = MockHost::with_store();
    /// host.reply(200, serde_json::json!({"status": "success", "message": "Connection Successful"}));
    /// let response = orderdesk::send(&ApiRequest {
    ///     method: Method::Get,
    ///     path: "/test".to_string(),
    ///     query: Vec::new(),
    ///     body: None, // GET and DELETE carry none; POST and PUT a JSON text
    ///     store: None,
    ///     cache: CacheMode::Bypass,
    /// })
    /// .unwrap();
    /// assert_eq!(response.store_id, "100001");
    /// assert!(response.body.contains("Connection Successful"));
    /// assert_eq!(host.requests()[0].path, "/test");
    /// ```
    pub fn send(request: &ApiRequest) -> Result<ApiResponse, HostError> {
        route!(import::send(request), host => host.send(request).map(|answer| ApiResponse {
            status: answer.status,
            body: answer.body,
            store_id: answer.store_id,
            cached: answer.cache_age_s.is_some(),
        }))
    }

    /// [`send`], with the age of an answer the host's cache gave (`cache_age_s`:
    /// seconds since OrderDesk answered; `None` when OrderDesk answered this request),
    /// so a tool can tell the model how old its data is. The mock host answers
    /// [`MockHost::reply_cached`](crate::testing::MockHost::reply_cached) replies as
    /// cached.
    ///
    /// ```
    /// use orderdesk_tool_kit::orderdesk::{self, ApiRequest, CacheMode, Method};
    /// use orderdesk_tool_kit::testing::MockHost;
    ///
    /// let host = MockHost::with_store();
    /// host.reply_cached(200, serde_json::json!({"status": "success", "order": {"id": "7"}}), 42);
    /// let answer = orderdesk::request(&ApiRequest {
    ///     method: Method::Get, path: "/orders/7".into(), query: Vec::new(),
    ///     body: None, store: None, cache: CacheMode::UseCache,
    /// })
    /// .unwrap();
    /// assert_eq!(answer.cache_age_s, Some(42));
    /// ```
    pub fn request(request: &ApiRequest) -> Result<ApiAnswer, HostError> {
        route!(import::request(request), host => host.send(request))
    }

    /// The order changes OrderDesk pushed to the server for the session's stores
    /// (its "post order to URL" rules), newest first; no request goes to OrderDesk.
    /// The mock host answers those added with
    /// [`MockHost::pushed`](crate::testing::MockHost::pushed).
    ///
    /// ```
    /// use orderdesk_tool_kit::orderdesk::{self, ChangeQuery};
    /// use orderdesk_tool_kit::testing::MockHost;
    ///
    /// let _host = MockHost::with_store().pushed("100001", "7", Some(3));
    /// let changes = orderdesk::changes(&ChangeQuery {
    ///     store: None, since: None, before_event_id: None, limit: 10,
    /// })
    /// .unwrap();
    /// assert_eq!(changes[0].order_id, "7");
    /// ```
    pub fn changes(query: &ChangeQuery) -> Result<Vec<OrderChange>, HostError> {
        route!(import::changes(query), host => host.changes(query))
    }
}

/// Structured lines in the host's log, tagged with the component and the call.
pub mod log {
    #[cfg(target_arch = "wasm32")]
    use crate::bindings::orderdesk::mcp::log as import;
    pub use crate::bindings::orderdesk::mcp::log::Level;

    /// Write one log line with key/value fields into the host's log (tagged with the
    /// component and the call). Needs the `log` grant: calling it makes the component
    /// import `log`.
    ///
    /// ```
    /// use orderdesk_tool_kit::{log, testing::MockHost};
    ///
    /// let host = MockHost::new();
    /// log::write(log::Level::Info, "stock checked", &[("items".to_string(), "12".to_string())]);
    /// assert_eq!(host.logs()[0].message, "stock checked");
    /// ```
    pub fn write(level: Level, message: &str, fields: &[(String, String)]) {
        route!(
            import::write(level, message, fields),
            host => host.log(level, message, fields)
        )
    }
}
