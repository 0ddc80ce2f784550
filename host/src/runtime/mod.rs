//! The component runtime: one wasmtime [`Engine`], components compiled once (and cached
//! on disk), an [`InstancePre`](wasmtime::component::InstancePre) per component linked
//! with only the interfaces it was granted, and a fresh [`Store`] per tool call with
//! memory, CPU-time and result-size limits.
//!
//! - `component`: what a loaded component is, and the checks made at load;
//! - `limits`: the per-call limits and the instance pool sized from them;
//! - `state`: the data of one call's store (WASI context, capabilities, timing);
//! - `compile_cache`: compiled code on disk, keyed by content and engine;
//! - `epoch`: the ticker that bounds CPU time.

pub mod compile_cache;
mod component;
mod epoch;
mod limits;
mod state;

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use thiserror::Error;
use wasmtime::component::Linker;
use wasmtime::{Config, Engine, InstanceAllocationStrategy, Store, UpdateDeadline};

use crate::bindings::{ToolError, ToolGroupPre};
use crate::capabilities::{self, CallContext, Effect, EffectState};
use crate::grants::Grants;
use crate::telemetry::{self, Limit};
use compile_cache::{CacheOutcome, CompileCache};
pub use compile_cache::{CacheSetup, CodeAuthenticator};
pub use component::{
    ComponentOrigin, ComponentSource, InvalidToolName, LoadError, LoadedComponent, ToolSpec,
    check_tool_name,
};
use epoch::EpochTicker;
pub use limits::Limits;
pub use state::CallState;

/// Why a call failed (besides the component's own tool error).
#[derive(Debug, Error)]
pub enum CallError {
    /// The component answered with a tool error.
    #[error("{0:?}")]
    Tool(ToolError),
    /// A limit was hit; the instance was discarded.
    #[error("{0}")]
    Limit(String),
    /// The component trapped (panic, unreachable, bad memory access...).
    #[error("the component failed: {0}")]
    Trap(String),
    /// The call was stopped (time limit) after it had started a change outside the
    /// component (an OrderDesk write, a vault change) that may or may not have been
    /// applied: the message names each.
    #[error("{0}")]
    OutcomeUnknown(String),
}

/// Counters that show what the runtime did (used by tests and `components list`).
#[derive(Debug, Default)]
pub struct RuntimeStats {
    pub compiled: AtomicU64,
    pub cache_hits: AtomicU64,
    pub calls: AtomicU64,
}

/// The component runtime.
pub struct Runtime {
    engine: Engine,
    /// WASI only; each grant set's linker starts as a copy of it.
    base_linker: Linker<CallState>,
    /// One linker per grant set seen: WASI plus exactly the granted host interfaces.
    linkers: Mutex<HashMap<Grants, Linker<CallState>>>,
    cache: CompileCache,
    limits: Limits,
    pub stats: RuntimeStats,
    /// Calls running at once; more wait their turn rather than fail on a full pool.
    slots: Arc<tokio::sync::Semaphore>,
    _ticker: EpochTicker,
}

impl std::fmt::Debug for Runtime {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Runtime")
            .field("limits", &self.limits)
            .finish_non_exhaustive()
    }
}

impl Runtime {
    /// Create the engine. `cache` says where compiled code is kept and who
    /// authenticates it (none: compile every time).
    pub fn new(limits: Limits, cache: Option<CacheSetup>) -> wasmtime::Result<Runtime> {
        let mut config = Config::new();
        // Epoch interruption bounds CPU time; the ticker thread advances the epoch.
        config.epoch_interruption(true);
        config.wasm_component_model(true);
        config.allocation_strategy(InstanceAllocationStrategy::Pooling(limits::pooling_config(
            &limits,
        )));
        let engine = Engine::new(&config)?;
        let mut base_linker = Linker::new(&engine);
        wasmtime_wasi::p2::add_to_linker_async(&mut base_linker)?;
        let cache = CompileCache::new(&engine, cache);
        let ticker = EpochTicker::start(engine.clone());
        Ok(Runtime {
            engine,
            base_linker,
            linkers: Mutex::default(),
            cache,
            slots: Arc::new(tokio::sync::Semaphore::new(limits.max_concurrency as usize)),
            limits,
            stats: RuntimeStats::default(),
            _ticker: ticker,
        })
    }

    pub fn limits(&self) -> &Limits {
        &self.limits
    }

    /// The linker for components with `grants`: an ungranted interface is not in it.
    fn linker_for(&self, grants: Grants) -> wasmtime::Result<Linker<CallState>> {
        let mut linkers = self.linkers.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(linker) = linkers.get(&grants) {
            return Ok(linker.clone());
        }
        let mut linker = self.base_linker.clone();
        capabilities::add_to_linker(&mut linker, &grants)?;
        linkers.insert(grants, linker.clone());
        Ok(linker)
    }

    /// Compile (or load from cache) a component, check its imports against `grants`,
    /// prepare its instantiation and ask it for its tools.
    pub async fn load(
        &self,
        name: &str,
        origin: ComponentOrigin,
        source: ComponentSource,
        grants: Grants,
        context: CallContext,
    ) -> Result<LoadedComponent, LoadError> {
        let invalid = |reason: String| LoadError::Invalid {
            name: name.to_string(),
            reason,
        };
        let hash = source.sha256.clone();
        let (component, cache) = {
            let engine = self.engine.clone();
            let cache = self.cache.clone();
            // Compiling is CPU-bound for hundreds of milliseconds: keep it off the
            // async worker threads.
            tokio::task::spawn_blocking(move || {
                cache.load_or_compile(&engine, &source.bytes, &source.sha256)
            })
            .await
            .map_err(|e| invalid(e.to_string()))?
            .map_err(|e| invalid(format!("{e:#}")))?
        };
        match cache {
            CacheOutcome::Hit => self.stats.cache_hits.fetch_add(1, Ordering::Relaxed),
            CacheOutcome::Compiled => self.stats.compiled.fetch_add(1, Ordering::Relaxed),
        };
        tracing::info!(
            component = name,
            cache = cache.as_str(),
            "component code ready"
        );

        let imports = component::check_imports(&self.engine, name, &component, &grants)?;
        let instance_pre = self
            .linker_for(grants)
            .and_then(|linker| linker.instantiate_pre(&component))
            .map_err(|e| invalid(format!("{e:#}")))?;
        let pre = ToolGroupPre::new(instance_pre).map_err(|e| invalid(format!("{e:#}")))?;

        let mut loaded = LoadedComponent {
            name: name.to_string(),
            origin,
            content_hash: hash,
            grants,
            imports,
            tools: Vec::new(),
            cache,
            pre,
        };
        loaded.tools = self.list_tools(&loaded, context).await?;
        Ok(loaded)
    }

    /// Ask a component for its tools and check them (names, sizes, schemas parse).
    async fn list_tools(
        &self,
        component: &LoadedComponent,
        context: CallContext,
    ) -> Result<Vec<ToolSpec>, LoadError> {
        let bad = |reason: String| LoadError::BadTools {
            name: component.name.clone(),
            reason,
        };
        let _slot = self
            .slots
            .acquire()
            .await
            .expect("the semaphore is never closed");
        let mut store = self.new_store(context);
        let raw = async {
            let instance = component.pre.instantiate_async(&mut store).await?;
            instance.orderdesk_mcp_tools().call_list(&mut store).await
        };
        let raw = tokio::time::timeout(self.limits.max_call_time, raw)
            .await
            .map_err(|_| bad("`list` did not answer in time".into()))?
            .map_err(|e| bad(describe_trap(&e, &store, &self.limits)))?;
        if raw.len() > self.limits.max_tools {
            return Err(bad(format!(
                "it declares {} tools; at most {} are allowed",
                raw.len(),
                self.limits.max_tools
            )));
        }
        raw.into_iter()
            .map(|tool| component::check_tool(tool, &self.limits).map_err(&bad))
            .collect()
    }

    fn new_store(&self, context: CallContext) -> Store<CallState> {
        let mut store = Store::new(&self.engine, CallState::new(context, &self.limits));
        store.limiter(|state| state.limiter());
        // The deadline fires every tick budget; the callback decides whether the call has
        // used up its CPU time (time spent in host calls doesn't count).
        let max_cpu = self.limits.max_cpu_time;
        store.set_epoch_deadline(1);
        store.epoch_deadline_callback(move |mut ctx| {
            if ctx.data().wasm_time() > max_cpu {
                ctx.data_mut().note_cpu_exhausted();
                Ok(UpdateDeadline::Interrupt)
            } else {
                Ok(UpdateDeadline::Yield(1))
            }
        });
        store
    }

    /// Call tool `tool` of `component` in a fresh instance.
    pub async fn call(
        &self,
        component: &LoadedComponent,
        mut context: CallContext,
        tool: &str,
        arguments: &str,
    ) -> Result<String, CallError> {
        self.stats.calls.fetch_add(1, Ordering::Relaxed);
        let _slot = self
            .slots
            .acquire()
            .await
            .expect("the semaphore is never closed");
        let record = context.record.clone();
        context.deadline = Some(std::time::Instant::now() + self.limits.max_call_time);
        let mut store = self.new_store(context);
        let outcome = async {
            let instance = component.pre.instantiate_async(&mut store).await?;
            instance
                .orderdesk_mcp_tools()
                .call_call(&mut store, tool, arguments)
                .await
        };
        let outcome = match tokio::time::timeout(self.limits.max_call_time, outcome).await {
            Err(_) => {
                telemetry::limit_hit(Limit::CallTime);
                return Err(stopped(&self.limits, &record.effects()));
            }
            Ok(outcome) => outcome,
        };
        // The store (and with it the instance) is dropped here whatever happened: a
        // failed instance is never reused.
        match outcome {
            Err(trap) => Err(classify_failure(&trap, &store, &self.limits)),
            Ok(Err(tool_error)) => Err(CallError::Tool(bound_tool_error(
                tool_error,
                self.limits.max_result_bytes,
            ))),
            Ok(Ok(result)) if result.len() > self.limits.max_result_bytes => {
                telemetry::limit_hit(Limit::ResultSize);
                Err(CallError::Limit(format!(
                    "the result is {} bytes, over the {} byte limit; ask for less (e.g. a smaller `limit`)",
                    result.len(),
                    self.limits.max_result_bytes
                )))
            }
            Ok(Ok(result)) => Ok(result),
        }
    }

    /// Functions `component` imports, WASI's included: what a call's instantiation cost
    /// grows with (the benchmarks print it).
    #[cfg(feature = "bench")]
    pub fn import_count(&self, component: &LoadedComponent) -> usize {
        component::count_imported_functions(&self.engine, component.pre.instance_pre().component())
    }
}

/// What a call stopped by its time limit tells the model: "nothing happened" only when
/// the call started no change outside the component; otherwise outcome-unknown, naming
/// what may have been applied and what was.
fn stopped(limits: &Limits, effects: &[Effect]) -> CallError {
    let limit = format!(
        "the call took longer than the {} s limit and was stopped",
        limits.max_call_time.as_secs()
    );
    let list = |state: EffectState| {
        effects
            .iter()
            .filter(|e| e.state == state)
            .map(|e| e.what.as_str())
            .collect::<Vec<_>>()
            .join("; ")
    };
    let in_flight = list(EffectState::InFlight);
    let done = list(EffectState::Done);
    if in_flight.is_empty() && done.is_empty() {
        return CallError::Limit(limit);
    }
    let mut message = limit;
    if !in_flight.is_empty() {
        message.push_str(&format!(
            " while {in_flight} was under way: it may or may not have been applied — \
             check with a read before retrying"
        ));
    }
    if !done.is_empty() {
        message.push_str(&format!("; already applied: {done}"));
    }
    CallError::OutcomeUnknown(message)
}

/// A tool error's message is what the model reads, like a result: the result size
/// limit bounds it too (cut at a character boundary, saying how much was cut).
fn bound_tool_error(error: ToolError, max_bytes: usize) -> ToolError {
    let bound = |message: String| {
        if message.len() <= max_bytes {
            return message;
        }
        let mut end = max_bytes;
        while !message.is_char_boundary(end) {
            end -= 1;
        }
        format!(
            "{}… (error message truncated: {} of {} bytes shown)",
            &message[..end],
            end,
            message.len()
        )
    };
    match error {
        ToolError::InvalidInput(m) => ToolError::InvalidInput(bound(m)),
        ToolError::NotFound(m) => ToolError::NotFound(bound(m)),
        ToolError::Unauthorized(m) => ToolError::Unauthorized(bound(m)),
        ToolError::RateLimited(ms) => ToolError::RateLimited(ms),
        ToolError::Upstream(m) => ToolError::Upstream(bound(m)),
        ToolError::OutcomeUnknown(m) => ToolError::OutcomeUnknown(bound(m)),
        ToolError::Internal(m) => ToolError::Internal(bound(m)),
    }
}

/// What a failed call's trap was: a limit the call hit or a trap of the component's
/// own, each counted (`telemetry`) by kind.
fn classify_failure(
    trap: &wasmtime::Error,
    store: &Store<CallState>,
    limits: &Limits,
) -> CallError {
    let message = describe_trap(trap, store, limits);
    let state = store.data();
    if state.cpu_exhausted() {
        telemetry::limit_hit(Limit::CpuTime);
        CallError::Limit(message)
    } else if state.memory_exhausted() {
        telemetry::limit_hit(Limit::Memory);
        CallError::Limit(message)
    } else {
        telemetry::trap();
        CallError::Trap(message)
    }
}

/// Say which limit a trap came from, or what the trap was.
fn describe_trap(trap: &wasmtime::Error, store: &Store<CallState>, limits: &Limits) -> String {
    let state = store.data();
    if state.cpu_exhausted() {
        format!(
            "the component used more than its {} ms CPU-time limit and was stopped",
            limits.max_cpu_time.as_millis()
        )
    } else if state.memory_exhausted() {
        format!(
            "the component tried to use more than its {} MiB memory limit and was stopped",
            limits.max_memory_bytes >> 20
        )
    } else {
        // The root cause (e.g. "wasm trap: wasm `unreachable` instruction executed" for a
        // Rust panic) without the backtrace.
        let root = trap.root_cause().to_string();
        root.lines().next().unwrap_or("trap").to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_call_stopped_mid_change_is_outcome_unknown_naming_it() {
        let limits = Limits::default();
        let nothing = stopped(&limits, &[]);
        assert!(matches!(nothing, CallError::Limit(_)), "{nothing:?}");
        let effect = |what: &str, state| Effect {
            what: what.into(),
            state,
        };
        let failed_only = stopped(
            &limits,
            &[effect("POST /orders (store 1)", EffectState::Failed)],
        );
        assert!(
            matches!(failed_only, CallError::Limit(_)),
            "{failed_only:?}"
        );
        let cut = stopped(
            &limits,
            &[
                effect("PUT /orders/1 (store 1)", EffectState::Done),
                effect("POST /orders (store 1)", EffectState::InFlight),
            ],
        );
        let CallError::OutcomeUnknown(message) = cut else {
            panic!("expected outcome-unknown, got {cut:?}");
        };
        assert!(
            message.contains("while POST /orders (store 1) was under way"),
            "{message}"
        );
        assert!(
            message.contains("already applied: PUT /orders/1 (store 1)"),
            "{message}"
        );
    }

    #[test]
    fn long_tool_errors_are_cut_at_a_character_boundary_saying_so() {
        let message = "é".repeat(100); // 200 bytes
        let ToolError::NotFound(cut) = bound_tool_error(ToolError::NotFound(message), 51) else {
            panic!("the variant is kept")
        };
        assert!(cut.starts_with(&"é".repeat(25)), "{cut}");
        assert!(cut.contains("50 of 200 bytes shown"), "{cut}");
        let ToolError::Internal(short) = bound_tool_error(ToolError::Internal("ok".into()), 51)
        else {
            panic!("the variant is kept")
        };
        assert_eq!(short, "ok");
        assert!(matches!(
            bound_tool_error(ToolError::RateLimited(7), 1),
            ToolError::RateLimited(7)
        ));
    }

    #[test]
    fn each_grant_set_gets_a_linker_with_only_its_interfaces() {
        let runtime = Runtime::new(Limits::default(), None).unwrap();
        let log_only = runtime.linker_for(Grants::LOG_ONLY).unwrap();
        let mut probe = log_only.clone();
        // Defining `log` again fails where it is already linked; `vault` is free.
        assert!(
            probe
                .instance("orderdesk:mcp/log@0.1.0")
                .and_then(|mut i| i.func_wrap(
                    "write",
                    |_: wasmtime::StoreContextMut<'_, CallState>, (): ()| Ok(())
                ))
                .is_err(),
            "log is linked for a log-only grant"
        );
        let mut probe = log_only.clone();
        assert!(
            probe
                .instance("orderdesk:mcp/vault@0.1.0")
                .is_ok_and(|mut i| i
                    .func_wrap(
                        "list-stores",
                        |_: wasmtime::StoreContextMut<'_, CallState>, (): ()| Ok(())
                    )
                    .is_ok()),
            "vault is not linked for a log-only grant"
        );
        assert_eq!(runtime.linkers.lock().unwrap().len(), 1);
        runtime.linker_for(Grants::LOG_ONLY).unwrap();
        assert_eq!(runtime.linkers.lock().unwrap().len(), 1, "reused");
    }
}
