//! The host side of each WIT interface the components import: one module per
//! capability (`session`, `vault`, `orderdesk`, `log`), each of the same shape, after
//! wasmtime's `wasi-config` and Spin's host factors:
//!
//! - `XxxState`: what the capability keeps for one call, when it keeps anything (`log`
//!   counts the bytes written);
//! - `XxxView<'a>`: borrows the call's [`CallEnv`] and that state, and implements the
//!   generated `Host` trait: check the grant, do the work through
//!   [`Services`](crate::services::Services) (blocking work off the async threads, its
//!   time not counted against the component's CPU limit), map the service's error onto
//!   the WIT `host-error` (the table is in [`errors`]);
//! - `add_to_linker(linker, get_view)`: adds the interface to a linker.
//!
//! [`add_to_linker`] links only the interfaces a component was granted, so an
//! ungranted one is not even there to call; every function checks the grant again (the
//! second line, e.g. for a grant narrowed after load).
//!
//! This layer knows the runtime's store only through [`HasCapabilities`], and the MCP
//! layer only through [`ProgressSink`].

pub mod errors;
pub mod log;
pub mod orderdesk;
pub mod session;
pub mod vault;

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use orderdesk_vault::{StoreRecord, TenantSession, Vault, VaultError};
use wasmtime::component::{HasData, Linker};

use crate::bindings::orderdesk::mcp::types;
use crate::bindings::{HostError, StoreRef};
use crate::grants::{Capability, Grants};
use crate::services::{BoxFuture, Services};
use crate::session::{Session, SessionAccess, SessionState};
use errors::vault_error;

/// Receives a call's progress reports (the MCP layer sends them to the client that
/// asked for them).
pub trait ProgressSink: Send + Sync {
    fn report(
        &self,
        progress: f64,
        total: Option<f64>,
        message: Option<String>,
    ) -> BoxFuture<'_, ()>;
}

/// Everything a call needs to know about its caller.
#[derive(Clone)]
pub struct CallContext {
    pub services: Arc<Services>,
    pub session: Arc<Session>,
    pub component: Arc<str>,
    pub grants: Grants,
    pub correlation_id: Arc<str>,
    /// The tool being called (`list` for a component's tool listing at load time).
    pub tool: Arc<str>,
    pub progress: Option<Arc<dyn ProgressSink>>,
    /// What the call touched, for its audit row.
    pub record: Arc<CallRecord>,
    /// When the runtime stops the call (set by the runtime when the call starts):
    /// OrderDesk requests are fitted inside it.
    pub deadline: Option<Instant>,
    /// A component's `list` at load time: no client asked for anything, so no host
    /// function does anything (each answers `not-available`).
    pub listing: bool,
    /// The secret values of the call's arguments (a master key, an API key): masked
    /// wherever the component repeats them (log lines, progress messages).
    pub secrets: Arc<[secrecy::SecretString]>,
}

impl CallContext {
    /// The context of a component's `list` at load time (and at every `--watch`
    /// reload): an empty session of its own rather than the live one, no progress, a
    /// record nobody reads, and every host function answering `not-available` — no
    /// client asked for anything, so nothing may be read, sent or changed.
    pub fn for_listing(services: Arc<Services>, component: &str, grants: Grants) -> CallContext {
        CallContext {
            services,
            session: Arc::new(Session::default()),
            component: component.into(),
            grants,
            correlation_id: "load".into(),
            tool: "list".into(),
            progress: None,
            record: Arc::new(CallRecord::default()),
            deadline: None,
            listing: true,
            secrets: Arc::new([]),
        }
    }
}

/// Facts about one call that the host learns while the component runs (which tenant
/// and store it acted on, which changes it set out to make), read back for the audit
/// log after the call and for telling an abandoned call from one that did nothing.
#[derive(Debug, Default)]
pub struct CallRecord {
    tenant_id: Mutex<Option<String>>,
    store_id: Mutex<Option<String>>,
    effects: Mutex<Vec<Effect>>,
}

/// A change outside the component that a call set out to make: an OrderDesk write or
/// a vault change. Once one has started, a call stopped by its time limit cannot be
/// reported as "stopped, nothing happened".
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Effect {
    /// e.g. `POST /orders (store 12345)`.
    pub what: String,
    pub state: EffectState,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EffectState {
    /// Started and not known to have ended: it may or may not have happened.
    InFlight,
    /// Confirmed done.
    Done,
    /// Confirmed not done.
    Failed,
}

/// Marks an [`Effect`] ended; dropped without [`EffectGuard::settle`] (the call was
/// abandoned mid-way), the effect stays in flight.
pub struct EffectGuard {
    record: Arc<CallRecord>,
    index: usize,
}

impl EffectGuard {
    pub fn settle(self, done: bool) {
        let state = if done {
            EffectState::Done
        } else {
            EffectState::Failed
        };
        if let Some(effect) = lock(&self.record.effects).get_mut(self.index) {
            effect.state = state;
        }
    }
}

impl CallRecord {
    pub fn note_tenant(&self, tenant_id: &str) {
        *lock(&self.tenant_id) = Some(tenant_id.to_string());
    }

    pub fn note_store(&self, store_id: &str) {
        *lock(&self.store_id) = Some(store_id.to_string());
    }

    pub fn tenant_id(&self) -> Option<String> {
        lock(&self.tenant_id).clone()
    }

    pub fn store_id(&self) -> Option<String> {
        lock(&self.store_id).clone()
    }

    /// Note that the call is starting a change outside the component.
    pub fn begin_effect(self: &Arc<Self>, what: String) -> EffectGuard {
        let mut effects = lock(&self.effects);
        effects.push(Effect {
            what,
            state: EffectState::InFlight,
        });
        EffectGuard {
            record: self.clone(),
            index: effects.len() - 1,
        }
    }

    /// Every change the call started, in order, with how each ended (so far).
    pub fn effects(&self) -> Vec<Effect> {
        lock(&self.effects).clone()
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    // Plain data, always consistent: a panic elsewhere cannot have broken it.
    mutex.lock().unwrap_or_else(|e| e.into_inner())
}

/// What every capability of one call shares: who is calling, with which grants, and
/// how long the host has worked for the call so far.
pub struct CallEnv {
    pub context: CallContext,
    host_time: Duration,
    /// Progress reports passed on so far (bounded per call).
    progress_reports: u32,
    /// The answer size components are asked to keep under.
    answer_bytes: usize,
}

impl CallEnv {
    fn new(context: CallContext, answer_bytes: usize) -> CallEnv {
        CallEnv {
            context,
            host_time: Duration::ZERO,
            progress_reports: 0,
            answer_bytes,
        }
    }

    /// Time spent in host calls so far (it does not count against the CPU limit).
    pub fn host_time(&self) -> Duration {
        self.host_time
    }

    /// The per-call grant check, the second line behind the linker (and the refusal of
    /// every host function while a component lists its tools).
    fn require(&self, capability: Capability) -> Result<(), HostError> {
        if self.context.listing {
            return Err(HostError::NotAvailable(format!(
                "`{capability}` is not available while a component lists its tools: \
                 `list` must only describe them"
            )));
        }
        if self.context.grants.allows_import(capability) {
            Ok(())
        } else {
            Err(HostError::AccessDenied(format!(
                "component `{}` was not granted `{capability}`",
                self.context.component
            )))
        }
    }

    /// The session's tenant, or the error that tells the model how to authenticate.
    fn tenant(&self) -> Result<TenantSession, HostError> {
        self.tenant_of(&self.context.session.snapshot())
    }

    /// The tenant of a session snapshot already taken.
    fn tenant_of(&self, snapshot: &SessionState) -> Result<TenantSession, HostError> {
        snapshot.tenant.clone().ok_or_else(|| {
            HostError::Unauthenticated(
                "this session is not authenticated: start the server with \
                 ORDERDESK_MCP_MASTER_KEY set, or call tenant_use_master_key"
                    .into(),
            )
        })
    }

    /// Refuse `what` (a change to the vault) in a session whose access token is
    /// read-only.
    fn require_writable(&self, what: &str) -> Result<(), HostError> {
        if self.context.session.snapshot().access.read_only {
            Err(HostError::AccessDenied(format!(
                "this session's access token is read-only: {what} is refused; connect \
                 with a token created with `--scope write` to change anything"
            )))
        } else {
            Ok(())
        }
    }

    /// Refuse a store outside the one the session's access token is limited to.
    fn require_store_allowed(&self, record: &StoreRecord) -> Result<(), HostError> {
        store_allowed(&self.context.session.snapshot().access, record)
    }

    /// Run host-side work, not counting its time against the component's CPU limit.
    async fn host_work<T>(&mut self, work: impl Future<Output = T>) -> T {
        let started = Instant::now();
        let out = work.await;
        self.host_time += started.elapsed();
        out
    }

    /// The path of every vault-backed host call: the session's tenant, the work on the
    /// vault off the async threads (not counted as the component's time), the vault's
    /// error mapped onto the WIT's.
    async fn with_tenant_vault<T, F>(&mut self, work: F) -> Result<T, HostError>
    where
        T: Send + 'static,
        F: FnOnce(&Vault, TenantSession) -> Result<T, VaultError> + Send + 'static,
    {
        let tenant = self.tenant()?;
        self.with_vault_as(tenant, work).await
    }

    /// `with_tenant_vault` for a tenant already taken from a session snapshot.
    async fn with_vault_as<T, F>(&mut self, tenant: TenantSession, work: F) -> Result<T, HostError>
    where
        T: Send + 'static,
        F: FnOnce(&Vault, TenantSession) -> Result<T, VaultError> + Send + 'static,
    {
        let services = self.context.services.clone();
        self.host_work(services.with_vault(move |vault| work(vault, tenant)))
            .await
            .map_err(vault_error)
    }
}

/// Whether `access` lets the session use `record` (a token may be limited to one store).
fn store_allowed(access: &SessionAccess, record: &StoreRecord) -> Result<(), HostError> {
    match &access.store_id {
        Some(only) if only != &record.store_id => Err(HostError::AccessDenied(format!(
            "this session's access token is limited to store {only}: store {} is not \
             available to it",
            record.store_id
        ))),
        _ => Ok(()),
    }
}

/// A store as components see it: never any key material.
fn store_ref(record: &StoreRecord) -> StoreRef {
    StoreRef {
        store_id: record.store_id.clone(),
        name: record.name.clone(),
        label: record.label.clone(),
    }
}

/// Per-call limits the capabilities enforce themselves.
#[derive(Clone, Copy, Debug)]
pub struct CapabilityLimits {
    /// Log output per call.
    pub max_log_bytes: usize,
    /// What `session.budget` answers as `result-bytes`.
    pub answer_bytes: usize,
}

/// The per-call state of every capability, kept in the store's data.
pub struct Capabilities {
    env: CallEnv,
    log: log::LogState,
}

impl Capabilities {
    pub fn new(context: CallContext, limits: CapabilityLimits) -> Capabilities {
        Capabilities {
            env: CallEnv::new(context, limits.answer_bytes),
            log: log::LogState::new(limits.max_log_bytes),
        }
    }

    pub fn env(&self) -> &CallEnv {
        &self.env
    }

    fn session(&mut self) -> session::SessionView<'_> {
        session::SessionView { env: &mut self.env }
    }

    fn vault(&mut self) -> vault::VaultView<'_> {
        vault::VaultView { env: &mut self.env }
    }

    fn orderdesk(&mut self) -> orderdesk::OrderDeskView<'_> {
        orderdesk::OrderDeskView { env: &mut self.env }
    }

    fn log(&mut self) -> log::LogView<'_> {
        log::LogView {
            env: &mut self.env,
            state: &mut self.log,
        }
    }
}

/// A store's data that carries the capabilities of its call.
pub trait HasCapabilities: Send + 'static {
    fn capabilities(&mut self) -> &mut Capabilities;
}

/// `types` holds only type definitions: linking it grants nothing.
pub struct TypesView;

impl types::Host for TypesView {}

struct Types;

impl HasData for Types {
    type Data<'a> = TypesView;
}

/// Add the interfaces `grants` allow (and `types`) to `linker`.
pub fn add_to_linker<T: HasCapabilities>(
    linker: &mut Linker<T>,
    grants: &Grants,
) -> wasmtime::Result<()> {
    types::add_to_linker::<T, Types>(linker, |_| TypesView)?;
    if grants.allows_import(Capability::Session) {
        session::add_to_linker(linker, session_view::<T>)?;
    }
    if grants.allows_import(Capability::Vault) {
        vault::add_to_linker(linker, vault_view::<T>)?;
    }
    if grants.allows_import(Capability::OrderDesk) {
        orderdesk::add_to_linker(linker, orderdesk_view::<T>)?;
    }
    if grants.allows_import(Capability::Log) {
        log::add_to_linker(linker, log_view::<T>)?;
    }
    Ok(())
}

fn session_view<T: HasCapabilities>(data: &mut T) -> session::SessionView<'_> {
    data.capabilities().session()
}

fn vault_view<T: HasCapabilities>(data: &mut T) -> vault::VaultView<'_> {
    data.capabilities().vault()
}

fn orderdesk_view<T: HasCapabilities>(data: &mut T) -> orderdesk::OrderDeskView<'_> {
    data.capabilities().orderdesk()
}

fn log_view<T: HasCapabilities>(data: &mut T) -> log::LogView<'_> {
    data.capabilities().log()
}
