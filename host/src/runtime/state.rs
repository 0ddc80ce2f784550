//! Per-call store state: what one component instance can reach during one call.

use std::time::{Duration, Instant};

use wasmtime::ResourceLimiter;
use wasmtime::component::ResourceTable;
use wasmtime_wasi::{HostMonotonicClock, HostWallClock, WasiCtx, WasiCtxView, WasiView};

use super::limits::{Limits, MAX_RESOURCES, MemoryLimiter};
use crate::capabilities::{CallContext, Capabilities, HasCapabilities};

/// The data of one wasmtime `Store`: created for a call, dropped after it.
pub struct CallState {
    capabilities: Capabilities,
    wasi: WasiCtx,
    table: ResourceTable,
    memory: MemoryLimiter,
    started: Instant,
    cpu_exhausted: bool,
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
            capabilities: Capabilities::new(context, limits.capabilities()),
            wasi,
            table: {
                let mut table = ResourceTable::new();
                table.set_max_capacity(MAX_RESOURCES);
                table
            },
            memory: MemoryLimiter::new(limits.max_memory_bytes),
            started: Instant::now(),
            cpu_exhausted: false,
        }
    }

    pub(super) fn limiter(&mut self) -> &mut dyn ResourceLimiter {
        &mut self.memory
    }

    /// Time spent running WebAssembly so far (wall time minus time inside host calls).
    pub fn wasm_time(&self) -> Duration {
        self.started
            .elapsed()
            .saturating_sub(self.capabilities.env().host_time())
    }

    pub(super) fn note_cpu_exhausted(&mut self) {
        self.cpu_exhausted = true;
    }

    pub fn cpu_exhausted(&self) -> bool {
        self.cpu_exhausted
    }

    pub fn memory_exhausted(&self) -> bool {
        self.memory.exhausted
    }
}

impl HasCapabilities for CallState {
    fn capabilities(&mut self) -> &mut Capabilities {
        &mut self.capabilities
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
