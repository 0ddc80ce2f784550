//! What one call may use, and the instance pool sized from it.

use std::time::Duration;

use wasmtime::{Enabled, PoolingAllocationConfig, ResourceLimiter};

use crate::capabilities::CapabilityLimits;

/// Limits applied to every call (and to `list` at load time).
#[derive(Clone, Debug)]
pub struct Limits {
    /// Linear memory per instance.
    pub max_memory_bytes: usize,
    /// CPU time a call may spend inside WebAssembly (host calls don't count).
    pub max_cpu_time: Duration,
    /// Wall-clock bound of a whole call, host calls (OrderDesk requests) included.
    pub max_call_time: Duration,
    /// Size of a tool's JSON result: a hard limit, past which the call fails.
    pub max_result_bytes: usize,
    /// The size components are asked to keep an answer under (`session.budget`): a page
    /// of records stops before it and says where to continue. A model's client cuts a
    /// tool result at about 25,000 tokens; 60 KiB is about 15,000.
    pub answer_bytes: usize,
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
            answer_bytes: 60 << 10,
            max_log_bytes: 64 << 10,
            max_tools: 200,
            max_schema_bytes: 64 << 10,
            max_concurrency: 16,
        }
    }
}

impl Limits {
    /// The part the capabilities enforce themselves.
    pub fn capabilities(&self) -> CapabilityLimits {
        CapabilityLimits {
            max_log_bytes: self.max_log_bytes,
            // Never more than the hard limit, or an answer sized to it would fail.
            answer_bytes: self.answer_bytes.min(self.max_result_bytes),
        }
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
pub(super) fn pooling_config(limits: &Limits) -> PoolingAllocationConfig {
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

/// Table elements an instance may have (function tables of real components are small).
const MAX_TABLE_ELEMENTS: usize = 100_000;

/// Entries a call's WASI resource table may hold (streams, pollables, descriptors):
/// a loop creating resources without dropping them fails instead of growing host
/// memory without bound.
pub(super) const MAX_RESOURCES: usize = 10_000;

/// Caps linear memory — all of an instance's memories together, since a component may
/// have several — and tables, and remembers whether a cap was hit so the host can say
/// "memory limit" rather than "the component trapped".
pub(super) struct MemoryLimiter {
    pub(super) max_memory_bytes: usize,
    /// Bytes of linear memory the instance's memories hold together.
    pub(super) used_bytes: usize,
    pub(super) exhausted: bool,
}

impl MemoryLimiter {
    pub(super) fn new(max_memory_bytes: usize) -> MemoryLimiter {
        MemoryLimiter {
            max_memory_bytes,
            used_bytes: 0,
            exhausted: false,
        }
    }
}

impl ResourceLimiter for MemoryLimiter {
    fn memory_growing(
        &mut self,
        current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        // Each memory reports its own size; the limit is on their sum.
        let total = (self.used_bytes - current.min(self.used_bytes)).saturating_add(desired);
        if total > self.max_memory_bytes {
            self.exhausted = true;
            return Ok(false);
        }
        self.used_bytes = total;
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_memory_limit_is_on_all_memories_together() {
        let mut limiter = MemoryLimiter::new(4 << 20);
        // Two memories of 2 MiB each fill the limit...
        assert!(limiter.memory_growing(0, 2 << 20, None).unwrap());
        assert!(limiter.memory_growing(0, 2 << 20, None).unwrap());
        // ...so a third memory, or either growing, is refused.
        assert!(!limiter.memory_growing(0, 1 << 16, None).unwrap());
        assert!(
            !limiter
                .memory_growing(2 << 20, (2 << 20) + (1 << 16), None)
                .unwrap()
        );
        assert!(limiter.exhausted);
    }

    #[test]
    fn the_memory_limiter_refuses_growth_past_the_cap_and_remembers_it() {
        let mut limiter = MemoryLimiter {
            used_bytes: 0,
            max_memory_bytes: 1 << 20,
            exhausted: false,
        };
        assert!(limiter.memory_growing(0, 1 << 20, None).unwrap());
        assert!(!limiter.exhausted);
        assert!(
            !limiter
                .memory_growing(1 << 20, (1 << 20) + 1, None)
                .unwrap()
        );
        assert!(limiter.exhausted);
        let mut tables = MemoryLimiter {
            used_bytes: 0,
            max_memory_bytes: 0,
            exhausted: false,
        };
        assert!(
            !tables
                .table_growing(0, MAX_TABLE_ELEMENTS + 1, None)
                .unwrap()
        );
        assert!(tables.exhausted);
    }
}
