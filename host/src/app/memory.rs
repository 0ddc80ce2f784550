//! Giving back the memory that only start-up needed.
//!
//! A stdio MCP server is started with its client and then sits, mostly idle, for as long
//! as the client runs. Start-up touches far more than serving does: compiling a
//! component leaves megabytes of Cranelift's heap behind, and the loader, the argument
//! parser, the database migrations, the component loader and the schema compiler are
//! pages of the binary that a tool call never runs again (the kernel maps a file's pages
//! in 64 KiB runs, so touched code is resident well beyond what ran). Shortly after the
//! client's first `tools/list` ([`RELEASE_DELAY`]), [`release_startup_memory`] hands both
//! back:
//!
//! - the C heap's free memory, with `malloc_trim`;
//! - the pages of the binary's own code and read-only data, with
//!   `madvise(MADV_PAGEOUT)`. They are clean file pages: the kernel drops them from the
//!   process (and keeps them in its page cache while there is room), and whatever a
//!   later call runs is read back in on its first use. From then on those mappings
//!   are read page by page (`MADV_RANDOM`, no read-ahead around a fault), so what stays
//!   resident is what serving calls actually runs. Nothing written is touched:
//!   writable mappings (relocated data, the heap, stacks, wasm memories) are left alone.
//!
//! Set `ORDERDESK_MCP_KEEP_STARTUP_MEMORY=1` to skip it (e.g. to compare).

use std::path::Path;

/// How long after the first `tools/list` the release happens: clients list the tools
/// at the end of their start-up handshake and then, typically, wait for their user.
pub const RELEASE_DELAY: std::time::Duration = std::time::Duration::from_millis(200);

/// The environment variable that turns the release off.
pub const KEEP_STARTUP_MEMORY_ENV: &str = "ORDERDESK_MCP_KEEP_STARTUP_MEMORY";

/// [`release_startup_memory`] on a background thread, [`RELEASE_DELAY`] from now: off
/// the path of the answer being written, and a moment after it (paging out takes the
/// kernel a few ms, during which the code that writes the answer would fault its pages
/// back in).
pub fn release_startup_memory_soon() {
    let spawned = std::thread::Builder::new()
        .name("release-startup-memory".into())
        .spawn(|| {
            std::thread::sleep(RELEASE_DELAY);
            let released = release_startup_memory();
            tracing::debug!(
                binary_pages_released_kib = released.binary_bytes >> 10,
                heap_trimmed = released.heap_trimmed,
                "released start-up memory"
            );
        });
    if let Err(error) = spawned {
        tracing::debug!(error = %error, "start-up memory kept");
    }
}

/// What [`release_startup_memory`] did.
#[derive(Debug, Default, Clone, Copy)]
pub struct Released {
    /// Bytes of the binary's read-only mappings handed back.
    pub binary_bytes: u64,
    /// Whether the heap was trimmed.
    pub heap_trimmed: bool,
}

/// Hand back start-up-only memory (see the module docs). Best effort: a platform or
/// kernel without the calls just keeps the memory.
pub fn release_startup_memory() -> Released {
    let mut released = Released {
        heap_trimmed: trim_heap(),
        ..Released::default()
    };
    if let Ok(exe) = std::env::current_exe() {
        released.binary_bytes = page_out_read_only_mappings_of(&exe);
    }
    released
}

#[cfg(all(target_os = "linux", target_env = "gnu"))]
#[allow(unsafe_code)]
fn trim_heap() -> bool {
    // SAFETY: malloc_trim only returns free heap memory to the kernel; it does not
    // touch allocated blocks.
    unsafe { libc::malloc_trim(0) };
    true
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn trim_heap() -> bool {
    false
}

/// `madvise(MADV_PAGEOUT)` over every non-writable mapping of `file`; returns the
/// bytes advised.
#[cfg(target_os = "linux")]
#[allow(unsafe_code)]
fn page_out_read_only_mappings_of(file: &Path) -> u64 {
    let Ok(maps) = std::fs::read_to_string("/proc/self/maps") else {
        return 0;
    };
    let mut advised = 0;
    for mapping in maps.lines().filter_map(Mapping::parse) {
        if mapping.writable || Path::new(mapping.path) != file {
            continue;
        }
        let len = mapping.end - mapping.start;
        // SAFETY: the range is a whole mapping of this process, taken from
        // /proc/self/maps, of a file mapped without write permission: paging it out
        // cannot lose data (the pages are re-read from the file on the next access)
        // and does not change what any address holds.
        let status = unsafe {
            libc::madvise(
                mapping.start as *mut libc::c_void,
                len as libc::size_t,
                libc::MADV_PAGEOUT,
            )
        };
        if status == 0 {
            advised += len;
            // From now on, map what is used page by page: without this, every fault
            // reads ahead and maps its neighbours too (the 64 KiB runs that made
            // start-up's footprint), and the call path alone would bring back most of
            // what was just released.
            // SAFETY: as above; MADV_RANDOM only changes how faults read ahead.
            unsafe {
                libc::madvise(
                    mapping.start as *mut libc::c_void,
                    len as libc::size_t,
                    libc::MADV_RANDOM,
                )
            };
        }
    }
    advised
}

#[cfg(not(target_os = "linux"))]
fn page_out_read_only_mappings_of(_file: &Path) -> u64 {
    0
}

/// One line of `/proc/self/maps`.
#[cfg_attr(not(target_os = "linux"), allow(dead_code))]
#[derive(Debug, PartialEq, Eq)]
struct Mapping<'a> {
    start: u64,
    end: u64,
    writable: bool,
    path: &'a str,
}

impl<'a> Mapping<'a> {
    /// `start-end perms offset dev inode path`; `None` for lines without a path.
    #[cfg_attr(not(target_os = "linux"), allow(dead_code))]
    fn parse(line: &'a str) -> Option<Mapping<'a>> {
        let mut fields = line.splitn(6, ' ');
        let (range, perms) = (fields.next()?, fields.next()?);
        let path = fields.nth(3)?.trim_start();
        if !path.starts_with('/') {
            return None;
        }
        let (start, end) = range.split_once('-')?;
        Some(Mapping {
            start: u64::from_str_radix(start, 16).ok()?,
            end: u64::from_str_radix(end, 16).ok()?,
            writable: perms.as_bytes().get(1) == Some(&b'w'),
            path,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_maps_lines() {
        let text = "55d0c0a00000-55d0c2600000 r-xp 00a03000 fd:01 1234   /usr/bin/orderdesk-mcp";
        assert_eq!(
            Mapping::parse(text),
            Some(Mapping {
                start: 0x55d0c0a00000,
                end: 0x55d0c2600000,
                writable: false,
                path: "/usr/bin/orderdesk-mcp",
            })
        );
        let data = "55d0c2600000-55d0c2700000 rw-p 02600000 fd:01 1234 /usr/bin/orderdesk-mcp";
        assert!(Mapping::parse(data).unwrap().writable);
        assert_eq!(
            Mapping::parse("7ffd1000-7ffd2000 rw-p 00000000 00:00 0   [stack]"),
            None
        );
        assert_eq!(
            Mapping::parse("7ffd1000-7ffd2000 rw-p 00000000 00:00 0"),
            None
        );
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn pages_out_this_test_binarys_code_and_it_still_runs() {
        let exe = std::env::current_exe().unwrap();
        let released = page_out_read_only_mappings_of(&exe);
        assert!(released > 0, "no read-only mapping of {}", exe.display());
        // Code paged out comes back on use.
        assert_eq!(format!("{}", 6 * 7), "42");
    }
}
