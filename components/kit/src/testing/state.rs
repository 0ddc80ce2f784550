//! What the mock host does when a component calls it: the session, the tenant's
//! stores, OrderDesk replies in script order, log lines and progress reports.

use super::*;
use crate::session::CallBudget;

/// The state behind a [`MockHost`], which the kit's host functions use natively.
#[derive(Default)]
pub(crate) struct MockState {
    pub(super) tenant_id: Option<String>,
    pub(super) master_key: Option<String>,
    pub(super) sandbox: bool,
    pub(super) stores: Vec<StoreRef>,
    /// The API key registered with each store (by store id).
    pub(super) api_keys: Vec<(String, String)>,
    pub(super) active_store: Option<String>,
    pub(super) replies: VecDeque<Scripted>,
    pub(super) requests: Vec<Request>,
    pub(super) logs: Vec<LogLine>,
    pub(super) progress: Vec<Progress>,
    pub(crate) now: String,
    /// `session::budget`: result bytes, milliseconds left.
    pub(super) budget: (u32, u32),
    /// The tenant's audit log, oldest first.
    pub(super) audit: Vec<CallEntry>,
    /// The order changes OrderDesk pushed, oldest first.
    pub(super) pushed: Vec<crate::orderdesk::OrderChange>,
}

impl MockState {
    /// The session's tenant, or the host's error that says how to authenticate.
    fn tenant(&self) -> Result<&str, HostError> {
        self.tenant_id.as_deref().ok_or_else(|| {
            HostError::Unauthenticated(
                "this session is not authenticated: start the server with \
                 ORDERDESK_MCP_MASTER_KEY set, or call tenant_use_master_key"
                    .into(),
            )
        })
    }

    /// A store by id first, then by name (as the vault resolves it).
    fn resolve(&self, identifier: &str) -> Result<(StoreRef, MatchKind), HostError> {
        let identifier = identifier.trim();
        let by = |kind: MatchKind, key: fn(&StoreRef) -> &str| {
            self.stores
                .iter()
                .find(|s| key(s) == identifier)
                .map(|s| (s.clone(), kind))
        };
        by(MatchKind::StoreId, |s| &s.store_id)
            .or_else(|| by(MatchKind::Name, |s| &s.name))
            .ok_or_else(|| {
                HostError::NotFound(format!(
                    "no store with id or name '{identifier}' is registered for this tenant"
                ))
            })
    }

    fn summary(&self, store: StoreRef) -> StoreSummary {
        let active = self.active_store.as_deref() == Some(store.store_id.as_str());
        StoreSummary {
            store,
            created_at: "2025-01-01 00:00:00".to_string(),
            active,
        }
    }

    fn active(&self) -> Option<StoreRef> {
        let id = self.active_store.as_deref()?;
        self.stores.iter().find(|s| s.store_id == id).cloned()
    }

    pub(crate) fn session_info(&self) -> SessionInfo {
        SessionInfo {
            authenticated: self.tenant_id.is_some(),
            tenant_id: self.tenant_id.clone(),
            active_store: self.active(),
            sandbox: self.sandbox,
            correlation_id: "mock-call".to_string(),
        }
    }

    pub(crate) fn set_active_store(&mut self, identifier: &str) -> Result<StoreRef, HostError> {
        self.tenant()?;
        let (store, _) = self.resolve(identifier)?;
        self.active_store = Some(store.store_id.clone());
        Ok(store)
    }

    pub(crate) fn report_progress(
        &mut self,
        progress: f64,
        total: Option<f64>,
        message: Option<&str>,
    ) {
        self.progress.push(Progress {
            progress,
            total,
            message: message.map(str::to_string),
        });
    }

    pub(crate) fn budget(&self) -> CallBudget {
        CallBudget {
            result_bytes: self.budget.0,
            time_left_ms: self.budget.1,
        }
    }

    /// As the vault: the tenant's calls matching `filter`, newest first.
    pub(crate) fn recent_calls(&self, filter: &CallFilter) -> Result<Vec<CallEntry>, HostError> {
        self.tenant()?;
        let outcome_matches = |outcome: &str| match filter.outcome.as_deref() {
            None => true,
            Some("error") => outcome.starts_with("error:"),
            Some(wanted) => outcome == wanted || outcome.starts_with(&format!("{wanted} ")),
        };
        Ok(self
            .audit
            .iter()
            .rev()
            .filter(|e| filter.tool.as_ref().is_none_or(|tool| &e.tool == tool))
            .filter(|e| outcome_matches(&e.outcome))
            .filter(|e| filter.store_id.is_none() || e.store_id == filter.store_id)
            .filter(|e| filter.since.as_ref().is_none_or(|since| &e.at >= since))
            .take(filter.limit.clamp(1, 200) as usize)
            .cloned()
            .collect())
    }

    /// As the host: the pushed changes matching `query`, newest first.
    pub(crate) fn changes(
        &self,
        query: &crate::orderdesk::ChangeQuery,
    ) -> Result<Vec<crate::orderdesk::OrderChange>, HostError> {
        self.tenant()?;
        let store_id = match &query.store {
            Some(identifier) => Some(self.resolve(identifier)?.0.store_id),
            None => None,
        };
        Ok(self
            .pushed
            .iter()
            .rev()
            .filter(|c| store_id.as_ref().is_none_or(|id| &c.store_id == id))
            .filter(|c| {
                query
                    .since
                    .as_ref()
                    .is_none_or(|since| &c.received_at >= since)
            })
            .filter(|c| {
                query
                    .before_event_id
                    .is_none_or(|before| c.event_id < before)
            })
            .take(query.limit.clamp(1, 500) as usize)
            .cloned()
            .collect())
    }

    pub(crate) fn authenticate(&mut self, master_key: &str) -> Result<TenantSummary, HostError> {
        if self.master_key.as_deref() != Some(master_key) {
            return Err(HostError::Unauthenticated(
                "the master key does not belong to any tenant".into(),
            ));
        }
        let tenant_id = self
            .tenant_id
            .get_or_insert_with(|| TENANT_ID.to_string())
            .clone();
        Ok(TenantSummary {
            tenant_id,
            store_count: self.stores.len() as u32,
            active_store: self.active(),
        })
    }

    pub(crate) fn register_store(
        &mut self,
        store_id: &str,
        api_key: &str,
        name: Option<&str>,
        label: Option<&str>,
        verify: bool,
    ) -> Result<StoreSummary, HostError> {
        self.tenant()?;
        let name = name.unwrap_or(store_id);
        if let Some(taken) = self
            .stores
            .iter()
            .find(|s| s.store_id == store_id || s.name == name)
        {
            return Err(HostError::Conflict(format!(
                "store {} (`{}`) is already registered",
                taken.store_id, taken.name
            )));
        }
        if verify {
            let test = ApiRequest {
                method: Method::Get,
                path: "/test".to_string(),
                query: Vec::new(),
                body: None,
                store: None,
                cache: CacheMode::Bypass,
            };
            match self.answer(store_id.to_string(), &test) {
                Ok(_) => {}
                Err(HostError::Upstream(UpstreamError { status: 401, .. })) => {
                    return Err(HostError::InvalidInput(format!(
                        "OrderDesk refused store id {store_id} with this API key, so nothing \
                         was saved"
                    )));
                }
                Err(error) => return Err(error),
            }
        }
        let store = StoreRef {
            store_id: store_id.to_string(),
            name: name.to_string(),
            label: label.map(str::to_string),
        };
        self.stores.push(store.clone());
        self.api_keys
            .push((store.store_id.clone(), api_key.to_string()));
        // As the host: the first store of a session becomes its active store.
        if self.active_store.is_none() {
            self.active_store = Some(store.store_id.clone());
        }
        Ok(self.summary(store))
    }

    pub(crate) fn update_store_key(
        &mut self,
        identifier: &str,
        api_key: &str,
    ) -> Result<StoreSummary, HostError> {
        self.tenant()?;
        let (store, _) = self.resolve(identifier)?;
        // As the host: the new key must pass OrderDesk's GET /test first.
        let test = ApiRequest {
            method: Method::Get,
            path: "/test".to_string(),
            query: Vec::new(),
            body: None,
            store: None,
            cache: CacheMode::Bypass,
        };
        match self.answer(store.store_id.clone(), &test) {
            Ok(_) => {}
            Err(HostError::Upstream(UpstreamError { status: 401, .. })) => {
                return Err(HostError::InvalidInput(format!(
                    "OrderDesk refused store id {} with the new API key, so the old key was \
                     kept",
                    store.store_id
                )));
            }
            Err(error) => return Err(error),
        }
        match self
            .api_keys
            .iter_mut()
            .find(|(id, _)| *id == store.store_id)
        {
            Some((_, key)) => *key = api_key.to_string(),
            None => self
                .api_keys
                .push((store.store_id.clone(), api_key.to_string())),
        }
        Ok(self.summary(store))
    }

    pub(crate) fn list_stores(&self) -> Result<Vec<StoreSummary>, HostError> {
        self.tenant()?;
        let mut stores = self.stores.clone();
        stores.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(stores.into_iter().map(|s| self.summary(s)).collect())
    }

    pub(crate) fn resolve_store(&self, identifier: &str) -> Result<ResolvedStore, HostError> {
        self.tenant()?;
        let (store, matched_by) = self.resolve(identifier)?;
        Ok(ResolvedStore {
            store: self.summary(store),
            matched_by,
        })
    }

    pub(crate) fn delete_store(&mut self, identifier: &str) -> Result<StoreSummary, HostError> {
        self.tenant()?;
        let (store, _) = self.resolve(identifier)?;
        let summary = self.summary(store.clone());
        self.stores.retain(|s| s.store_id != store.store_id);
        self.api_keys.retain(|(id, _)| *id != store.store_id);
        if self.active_store.as_deref() == Some(store.store_id.as_str()) {
            self.active_store = None;
        }
        Ok(summary)
    }

    pub(crate) fn send(&mut self, request: &ApiRequest) -> Result<ApiAnswer, HostError> {
        self.tenant()?;
        let store_id = match (&request.store, self.active()) {
            (Some(named), _) if !named.trim().is_empty() => self.resolve(named)?.0.store_id,
            (_, Some(active)) => active.store_id,
            _ => {
                return Err(HostError::InvalidInput(
                    "no store chosen: pass `store` (a store id or name), or pick one with \
                     stores_use_store; stores_list shows the registered stores"
                        .into(),
                ));
            }
        };
        self.answer(store_id, request)
    }

    /// Record a request that reaches OrderDesk and answer it from the script.
    fn answer(&mut self, store_id: String, request: &ApiRequest) -> Result<ApiAnswer, HostError> {
        let body = request
            .body
            .as_ref()
            .map(|text| serde_json::from_str(text).unwrap_or_else(|_| Value::String(text.clone())));
        self.requests.push(Request {
            store_id: store_id.clone(),
            method: request.method,
            path: request.path.clone(),
            query: request.query.clone(),
            body,
            cache: request.cache,
        });
        let write = request.method != Method::Get;
        match self.replies.pop_front() {
            None => Err(HostError::Upstream(UpstreamError {
                status: crate::errors::SCRIPT_MISMATCH_STATUS,
                message: format!(
                    "test harness: no reply scripted for request #{} ({} {})",
                    self.requests.len(),
                    request.method.as_str(),
                    request.path
                ),
            })),
            Some(Scripted::Fail(error)) => Err(error),
            Some(Scripted::Reply {
                status,
                body,
                cache_age_s,
            }) => {
                let message = || {
                    body.get("message")
                        .and_then(Value::as_str)
                        .unwrap_or("error")
                        .to_string()
                };
                match status {
                    200..=299 => Ok(ApiAnswer {
                        status,
                        body: body.to_string(),
                        store_id,
                        cache_age_s,
                    }),
                    401 | 403 => Err(HostError::Upstream(UpstreamError {
                        status: 401,
                        message: format!(
                            "{}; the store id or API key registered for this store is wrong or \
                             was revoked: replace the key with the current one \
                             (`orderdesk-mcp stores update-key STORE`, which keeps it out of the \
                             chat, or the stores_update_key tool)",
                            message()
                        ),
                    })),
                    404 => Err(HostError::NotFound(message())),
                    429 => Err(HostError::RateLimited(1000)),
                    500.. if write => Err(HostError::OutcomeUnknown(format!(
                        "OrderDesk answered HTTP {status} to {} {}; the change may or may not \
                         have been applied",
                        request.method.as_str(),
                        request.path
                    ))),
                    _ => Err(HostError::Upstream(UpstreamError {
                        status,
                        message: message(),
                    })),
                }
            }
        }
    }

    pub(crate) fn log(&mut self, level: Level, message: &str, fields: &[(String, String)]) {
        self.logs.push(LogLine {
            level,
            message: message.to_string(),
            fields: fields.to_vec(),
        });
    }
}
