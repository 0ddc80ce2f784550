//! Per-call store state: what one component instance can reach during one call.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use wasmtime::ResourceLimiter;
use wasmtime::component::ResourceTable;
use wasmtime_wasi::{HostMonotonicClock, HostWallClock, WasiCtx, WasiCtxView, WasiView};

use super::Limits;
use crate::grants::Grants;
use crate::host::HostServices;
use crate::mcp::progress::ProgressReporter;
use crate::session::Session;

/// Everything a call needs to know about its caller, shared by value into the store.
#[derive(Clone)]
pub struct CallContext {
    pub services: Arc<HostServices>,
    pub session: Arc<Session>,
    pub component: Arc<str>,
    pub grants: Grants,
    pub correlation_id: Arc<str>,
    pub progress: Option<ProgressReporter>,
    /// What the call touched, for its audit row.
    pub record: Arc<CallRecord>,
}

/// Facts about one call that the host learns while the component runs (which tenant
/// and store it acted on), read back for the audit log after the store is dropped.
#[derive(Debug, Default)]
pub struct CallRecord {
    tenant_id: Mutex<Option<String>>,
    store_id: Mutex<Option<String>>,
}

impl CallRecord {
    pub fn note_tenant(&self, tenant_id: &str) {
        *self.tenant_id.lock().unwrap_or_else(|e| e.into_inner()) = Some(tenant_id.to_string());
    }

    pub fn note_store(&self, store_id: &str) {
        *self.store_id.lock().unwrap_or_else(|e| e.into_inner()) = Some(store_id.to_string());
    }

    pub fn tenant_id(&self) -> Option<String> {
        self.tenant_id
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    pub fn store_id(&self) -> Option<String> {
        self.store_id
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }
}

/// The data of one wasmtime `Store`: created for a call, dropped after it.
pub struct CallState {
    pub(crate) context: CallContext,
    wasi: WasiCtx,
    table: ResourceTable,
    memory: MemoryLimiter,
    started: Instant,
    host_time: Duration,
    cpu_exhausted: bool,
    pub(crate) log_bytes: usize,
    pub(crate) max_log_bytes: usize,
    pub(crate) log_truncated: bool,
}

impl CallState {
    pub fn new(context: CallContext, limits: &Limits) -> CallState {
        // A WASI context that inherits nothing: no environment variables, no arguments,
        // no preopened directories, no network addresses, stdio connected to nothing.
        let mut wasi = WasiCtx::builder();
        wasi.allow_ip_name_lookup(false);
        if !context.grants.clocks {
            wasi.wall_clock(FrozenClock).monotonic_clock(FrozenClock);
        }
        let wasi = wasi.build();
        CallState {
            context,
            wasi,
            table: ResourceTable::new(),
            memory: MemoryLimiter {
                max_memory_bytes: limits.max_memory_bytes,
                exhausted: false,
            },
            started: Instant::now(),
            host_time: Duration::ZERO,
            cpu_exhausted: false,
            log_bytes: 0,
            max_log_bytes: limits.max_log_bytes,
            log_truncated: false,
        }
    }

    pub(crate) fn limiter(&mut self) -> &mut dyn ResourceLimiter {
        &mut self.memory
    }

    /// Time spent running WebAssembly so far (wall time minus time inside host calls).
    pub fn wasm_time(&self) -> Duration {
        self.started.elapsed().saturating_sub(self.host_time)
    }

    /// Account the time of a host call, which must not count against the CPU limit.
    pub(crate) fn add_host_time(&mut self, since: Instant) {
        self.host_time += since.elapsed();
    }

    pub(crate) fn note_cpu_exhausted(&mut self) {
        self.cpu_exhausted = true;
    }

    pub fn cpu_exhausted(&self) -> bool {
        self.cpu_exhausted
    }

    pub fn memory_exhausted(&self) -> bool {
        self.memory.exhausted
    }
}

impl WasiView for CallState {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.wasi,
            table: &mut self.table,
        }
    }
}

/// The clock of a component without the `clocks` grant: time stands still at zero, so
/// it can neither read the time nor use it as a side channel.
struct FrozenClock;

impl HostWallClock for FrozenClock {
    fn resolution(&self) -> Duration {
        Duration::from_secs(1)
    }

    fn now(&self) -> Duration {
        Duration::ZERO
    }
}

impl HostMonotonicClock for FrozenClock {
    fn resolution(&self) -> u64 {
        1_000_000_000
    }

    fn now(&self) -> u64 {
        0
    }
}

/// Caps linear memory and tables, and remembers whether the cap was hit so the host can
/// say "memory limit" rather than "the component trapped".
struct MemoryLimiter {
    max_memory_bytes: usize,
    exhausted: bool,
}

/// Table elements an instance may have (function tables of real components are small).
const MAX_TABLE_ELEMENTS: usize = 100_000;

impl ResourceLimiter for MemoryLimiter {
    fn memory_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        if desired > self.max_memory_bytes {
            self.exhausted = true;
            return Ok(false);
        }
        Ok(true)
    }

    fn table_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        if desired > MAX_TABLE_ELEMENTS {
            self.exhausted = true;
            return Ok(false);
        }
        Ok(true)
    }
}
