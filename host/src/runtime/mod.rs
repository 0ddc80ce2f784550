//! The component runtime: one wasmtime [`Engine`], components compiled once (and cached
//! on disk), an [`InstancePre`](wasmtime::component::InstancePre) per component, and a
//! fresh [`Store`] per tool call with memory, CPU-time and result-size limits.

pub mod bindings;
pub mod compile_cache;
mod state;

use std::borrow::Cow;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use thiserror::Error;
use wasmtime::component::{Component, HasSelf, Linker};
use wasmtime::{
    Config, Enabled, Engine, InstanceAllocationStrategy, PoolingAllocationConfig, Store,
    UpdateDeadline,
};

use crate::grants::{Capability, Grants, ImportKind, classify_import};
use bindings::{ToolError, ToolGroup, ToolGroupPre};
use compile_cache::{CacheOutcome, CompileCache, content_hash};
pub use state::{CallContext, CallRecord, CallState};

/// How often the epoch ticker advances the engine's epoch.
const EPOCH_TICK: Duration = Duration::from_millis(10);

/// Limits applied to every call (and to `list` at load time).
#[derive(Clone, Debug)]
pub struct Limits {
    /// Linear memory per instance.
    pub max_memory_bytes: usize,
    /// CPU time a call may spend inside WebAssembly (host calls don't count).
    pub max_cpu_time: Duration,
    /// Wall-clock bound of a whole call, host calls (OrderDesk requests) included.
    pub max_call_time: Duration,
    /// Size of a tool's JSON result.
    pub max_result_bytes: usize,
    /// Log output per call.
    pub max_log_bytes: usize,
    /// Tools one component may declare.
    pub max_tools: usize,
    /// Size of one tool's input schema.
    pub max_schema_bytes: usize,
    /// Calls running at once (sizes the pooling allocator).
    pub max_concurrency: u32,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_memory_bytes: 64 << 20,
            max_cpu_time: Duration::from_secs(5),
            max_call_time: Duration::from_secs(120),
            max_result_bytes: 1 << 20,
            max_log_bytes: 64 << 10,
            max_tools: 200,
            max_schema_bytes: 64 << 10,
            max_concurrency: 16,
        }
    }
}

/// Where a component was loaded from.
#[derive(Clone, Debug)]
pub enum ComponentOrigin {
    /// Carried inside the binary.
    Embedded,
    /// A `.wasm` file from the components directory.
    File(std::path::PathBuf),
}

impl std::fmt::Display for ComponentOrigin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ComponentOrigin::Embedded => f.write_str("built-in"),
            ComponentOrigin::File(path) => write!(f, "{}", path.display()),
        }
    }
}

/// A component's bytes and their SHA-256, which keys the compile cache.
#[derive(Clone, Debug)]
pub struct ComponentSource {
    pub bytes: Cow<'static, [u8]>,
    /// Hex SHA-256 of `bytes`.
    pub sha256: String,
}

impl ComponentSource {
    /// Bytes read at run time (hashed here).
    pub fn from_bytes(bytes: Vec<u8>) -> ComponentSource {
        ComponentSource {
            sha256: content_hash(&bytes),
            bytes: Cow::Owned(bytes),
        }
    }

    /// Bytes carried in the binary, hashed when it was built: a start with a warm
    /// compile cache then never reads them (nor pages them in).
    pub fn embedded(bytes: &'static [u8], sha256: &'static str) -> ComponentSource {
        ComponentSource {
            bytes: Cow::Borrowed(bytes),
            sha256: sha256.trim().to_string(),
        }
    }
}

/// A tool as a component declared it, checked at load.
#[derive(Clone, Debug)]
pub struct ToolSpec {
    pub name: String,
    pub title: Option<String>,
    pub description: String,
    pub input_schema: serde_json::Map<String, serde_json::Value>,
    pub output_schema: Option<serde_json::Map<String, serde_json::Value>>,
    pub annotations: bindings::Annotations,
}

/// A component ready to serve calls.
pub struct LoadedComponent {
    pub name: String,
    pub origin: ComponentOrigin,
    pub content_hash: String,
    pub grants: Grants,
    /// The host interfaces it imports (WIT interface names).
    pub imports: Vec<String>,
    pub tools: Vec<ToolSpec>,
    pub cache: CacheOutcome,
    pre: ToolGroupPre<CallState>,
}

impl std::fmt::Debug for LoadedComponent {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LoadedComponent")
            .field("name", &self.name)
            .field("origin", &self.origin)
            .finish_non_exhaustive()
    }
}

/// Why a component could not be loaded.
#[derive(Debug, Error)]
pub enum LoadError {
    #[error("component `{name}` is not a valid component: {reason}")]
    Invalid { name: String, reason: String },
    #[error(
        "component `{name}` imports interfaces it was not granted: {}; grant them in its manifest ({name}.toml) or remove the imports",
        .ungranted.join(", ")
    )]
    Ungranted {
        name: String,
        ungranted: Vec<String>,
    },
    #[error("component `{name}` imports interfaces this host does not provide: {}", .unknown.join(", "))]
    UnknownImports { name: String, unknown: Vec<String> },
    #[error("component `{name}` declares bad tools: {reason}")]
    BadTools { name: String, reason: String },
}

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
    /// The result is not usable JSON.
    #[error("{0}")]
    BadResult(String),
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
    linker: Linker<CallState>,
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
    /// Create the engine and linker. `cache_dir` holds compiled code (none: no cache).
    pub fn new(limits: Limits, cache_dir: Option<std::path::PathBuf>) -> anyhow::Result<Runtime> {
        let mut config = Config::new();
        // Epoch interruption bounds CPU time; the ticker thread advances the epoch.
        config.epoch_interruption(true);
        config.wasm_component_model(true);
        config.allocation_strategy(InstanceAllocationStrategy::Pooling(pooling_config(&limits)));
        let engine = Engine::new(&config)?;
        let mut linker = Linker::new(&engine);
        wasmtime_wasi::p2::add_to_linker_async(&mut linker)?;
        ToolGroup::add_to_linker::<_, HasSelf<_>>(&mut linker, |state: &mut CallState| state)?;
        let cache = CompileCache::new(&engine, cache_dir);
        let ticker = EpochTicker::start(engine.clone());
        Ok(Runtime {
            engine,
            linker,
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

        let imports = self.check_imports(name, &component, &grants)?;
        let instance_pre = self
            .linker
            .instantiate_pre(&component)
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

    fn check_imports(
        &self,
        name: &str,
        component: &Component,
        grants: &Grants,
    ) -> Result<Vec<String>, LoadError> {
        let mut host_imports = Vec::new();
        let mut ungranted = Vec::new();
        let mut unknown = Vec::new();
        for (import, _) in component.component_type().imports(&self.engine) {
            match classify_import(import) {
                ImportKind::Host(Capability::Types) => {}
                ImportKind::Host(capability) => {
                    host_imports.push(capability.interface().to_string());
                    if !grants.allows_import(capability) {
                        ungranted.push(import.to_string());
                    }
                }
                ImportKind::Wasi => {}
                ImportKind::Unknown => unknown.push(import.to_string()),
            }
        }
        if !ungranted.is_empty() {
            return Err(LoadError::Ungranted {
                name: name.to_string(),
                ungranted,
            });
        }
        if !unknown.is_empty() {
            return Err(LoadError::UnknownImports {
                name: name.to_string(),
                unknown,
            });
        }
        Ok(host_imports)
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
            .map(|tool| self.check_tool(tool).map_err(&bad))
            .collect()
    }

    fn check_tool(&self, tool: bindings::Tool) -> Result<ToolSpec, String> {
        crate::catalog::check_tool_name(&tool.name)?;
        let parse = |what: &str,
                     text: &str|
         -> Result<serde_json::Map<String, serde_json::Value>, String> {
            if text.len() > self.limits.max_schema_bytes {
                return Err(format!(
                    "the {what} of `{}` is {} bytes; at most {} are allowed",
                    tool.name,
                    text.len(),
                    self.limits.max_schema_bytes
                ));
            }
            match serde_json::from_str(text) {
                Ok(serde_json::Value::Object(map)) => Ok(map),
                Ok(_) => Err(format!(
                    "the {what} of `{}` is not a JSON object",
                    tool.name
                )),
                Err(e) => Err(format!(
                    "the {what} of `{}` is not valid JSON: {e}",
                    tool.name
                )),
            }
        };
        let input_schema = parse("input schema", &tool.input_schema)?;
        let output_schema = match &tool.output_schema {
            Some(text) => Some(parse("output schema", text)?),
            None => None,
        };
        Ok(ToolSpec {
            name: tool.name.clone(),
            title: tool.title,
            description: tool.description,
            input_schema,
            output_schema,
            annotations: tool.annotations,
        })
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
        context: CallContext,
        tool: &str,
        arguments: &str,
    ) -> Result<String, CallError> {
        self.stats.calls.fetch_add(1, Ordering::Relaxed);
        let _slot = self
            .slots
            .acquire()
            .await
            .expect("the semaphore is never closed");
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
                return Err(CallError::Limit(format!(
                    "the call took longer than the {} s limit and was stopped",
                    self.limits.max_call_time.as_secs()
                )));
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
                Err(CallError::Limit(format!(
                    "the result is {} bytes, over the {} byte limit; ask for less (e.g. a smaller `limit`)",
                    result.len(),
                    self.limits.max_result_bytes
                )))
            }
            Ok(Ok(result)) => Ok(result),
        }
    }
}

impl Runtime {
    /// Functions `component` imports, WASI's included (those of imported interfaces,
    /// and bare ones): each is wired up again for every instance, so this is what a
    /// call's instantiation cost grows with.
    pub fn import_count(&self, component: &LoadedComponent) -> usize {
        count_imported_functions(&self.engine, component.pre.instance_pre().component())
    }
}

fn count_imported_functions(engine: &Engine, component: &Component) -> usize {
    use wasmtime::component::types::ComponentItem;
    component
        .component_type()
        .imports(engine)
        .map(|(_, item)| match item.ty {
            ComponentItem::ComponentFunc(_) => 1,
            ComponentItem::ComponentInstance(instance) => instance
                .exports(engine)
                .filter(|(_, export)| matches!(export.ty, ComponentItem::ComponentFunc(_)))
                .count(),
            _ => 0,
        })
        .sum()
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

fn classify_failure(
    trap: &wasmtime::Error,
    store: &Store<CallState>,
    limits: &Limits,
) -> CallError {
    let message = describe_trap(trap, store, limits);
    if store.data().cpu_exhausted() || store.data().memory_exhausted() {
        CallError::Limit(message)
    } else {
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

/// Core instances, memories and tables one component instance may use. A Rust
/// wasm32-wasip2 component is a few core modules (the program, the WASI adapter shims),
/// each with at most one memory and a couple of tables.
const CORE_INSTANCES_PER_COMPONENT: u32 = 16;
const MEMORIES_PER_COMPONENT: u32 = 4;
const TABLES_PER_COMPONENT: u32 = 8;

/// Bytes of each linear memory and table that are reset with `memset` when a call
/// ends, rather than handed back to the kernel: the next call in that slot then finds
/// them mapped instead of page-faulting them back in. A trivial call touches well under
/// this much; the rest of a memory is still released with `madvise`. (Decommits are
/// not batched: a slot waiting in a batch cannot be reused, so the next call would take
/// a cold slot instead — measured 16 µs per bare call with batches of 8, 11 µs without.)
const KEEP_RESIDENT_BYTES: usize = 1 << 20;

/// A pooling allocator sized for `max_concurrency` calls at once, plus the instances
/// made at load time: instantiation is then a slot reuse, not an mmap per call, and the
/// reserved address space is bounded by the configured concurrency.
fn pooling_config(limits: &Limits) -> PoolingAllocationConfig {
    let instances = limits.max_concurrency + 4;
    let mut pool = PoolingAllocationConfig::default();
    pool.total_component_instances(instances)
        .total_core_instances(instances * CORE_INSTANCES_PER_COMPONENT)
        .total_memories(instances * MEMORIES_PER_COMPONENT)
        .total_tables(instances * TABLES_PER_COMPONENT)
        // One async stack per instance running at once. Left at its default (1,000),
        // the pool maps and guard-protects a thousand stacks at start-up.
        .total_stacks(instances)
        .max_memories_per_component(MEMORIES_PER_COMPONENT)
        .max_tables_per_component(TABLES_PER_COMPONENT)
        .max_core_instances_per_component(CORE_INSTANCES_PER_COMPONENT)
        .max_memory_size(limits.max_memory_bytes)
        .linear_memory_keep_resident(KEEP_RESIDENT_BYTES)
        .table_keep_resident(KEEP_RESIDENT_BYTES)
        // Reset only the pages a call dirtied (Linux 6.7+; ignored elsewhere).
        .pagemap_scan(Enabled::Auto);
    pool
}

/// Advances the engine's epoch every [`EPOCH_TICK`] until dropped.
struct EpochTicker {
    stop: Arc<std::sync::atomic::AtomicBool>,
}

impl EpochTicker {
    fn start(engine: Engine) -> EpochTicker {
        let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let flag = stop.clone();
        std::thread::Builder::new()
            .name("epoch-ticker".into())
            .spawn(move || {
                while !flag.load(Ordering::Relaxed) {
                    std::thread::sleep(EPOCH_TICK);
                    engine.increment_epoch();
                }
            })
            .expect("spawning the epoch ticker thread");
        EpochTicker { stop }
    }
}

impl Drop for EpochTicker {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}
