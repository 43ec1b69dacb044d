//! The global allocator: mimalloc, wrapped to count live bytes.
//!
//! Redis reports `used_memory` from its own allocation counter and tests
//! and operators rely on it (maxmemory, INFO memory, MEMORY STATS). We count
//! the same way: every allocation adds its size class (the usable size, as
//! Redis's zmalloc_size), every free subtracts it.
//! mimalloc is chosen for its small-object density, which the memory
//! targets (RSS against redis-server's jemalloc) depend on.
#![allow(unsafe_code)]

use std::alloc::{GlobalAlloc, Layout};
use std::sync::atomic::{AtomicIsize, AtomicUsize, Ordering};

use mimalloc::MiMalloc;

/// Counting wrapper around mimalloc.
pub struct Counting;

static ALLOCATED: AtomicIsize = AtomicIsize::new(0);

/// Bytes a thread may count locally before adding them to `ALLOCATED`: a
/// locked add on every allocation cost several percent of a pipelined
/// SET, and `used_memory` does not need byte precision. Under `maxmemory`
/// it does need more: eviction and the -OOM check compare it with the
/// limit within a few kB (Redis's suite allows 4 kB), so the threshold
/// drops to `FLUSH_PRECISE` then (`set_precise`).
const FLUSH: isize = 64 * 1024;
const FLUSH_PRECISE: isize = 512;
static FLUSH_AT: AtomicIsize = AtomicIsize::new(FLUSH);

/// A thread's counts: what it has not added to `ALLOCATED` yet, and all
/// it ever allocated less what it freed (its own net, which other threads
/// do not move).
struct Local {
    pending: std::cell::Cell<isize>,
    own: std::cell::Cell<isize>,
}

thread_local! {
    static LOCAL: Local = const {
        Local {
            pending: std::cell::Cell::new(0),
            own: std::cell::Cell::new(0),
        }
    };
}

#[inline]
fn count(delta: isize) {
    let done = LOCAL.try_with(|l| {
        l.own.set(l.own.get() + delta);
        let v = l.pending.get() + delta;
        if v.abs() >= FLUSH_AT.load(Ordering::Relaxed) {
            ALLOCATED.fetch_add(v, Ordering::Relaxed);
            l.pending.set(0);
        } else {
            l.pending.set(v);
        }
    });
    if done.is_err() {
        ALLOCATED.fetch_add(delta, Ordering::Relaxed);
    }
}
static PEAK: AtomicUsize = AtomicUsize::new(0);
static STARTUP: AtomicUsize = AtomicUsize::new(0);

/// The bytes a request of `size` really takes: mimalloc's size class.
/// Redis's used_memory counts the allocator's usable size (zmalloc_size),
/// not the size asked for, so a 100-byte value counts as 112 there and
/// here.
#[inline]
fn usable(size: usize) -> isize {
    // SAFETY: a pure function of its argument in mimalloc.
    (unsafe { libmimalloc_sys::mi_good_size(size) }) as isize
}

// SAFETY: every method forwards to mimalloc with the caller's arguments
// unchanged; the counters are plain atomics and never touch the memory.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, l: Layout) -> *mut u8 {
        let p = MiMalloc.alloc(l);
        if !p.is_null() {
            count(usable(l.size()));
        }
        p
    }
    unsafe fn dealloc(&self, p: *mut u8, l: Layout) {
        count(-usable(l.size()));
        MiMalloc.dealloc(p, l)
    }
    unsafe fn alloc_zeroed(&self, l: Layout) -> *mut u8 {
        let p = MiMalloc.alloc_zeroed(l);
        if !p.is_null() {
            count(usable(l.size()));
        }
        p
    }
    unsafe fn realloc(&self, p: *mut u8, l: Layout, new: usize) -> *mut u8 {
        // mimalloc shrinks in place (keeping the whole block) down to half
        // its size; a shrink to a smaller size class moves instead, as
        // glibc's realloc gives the tail back. Lua shrinks every compiled
        // function's arrays to their final length, which otherwise kept
        // up to twice their size (SCRIPT LOAD of many scripts).
        if new < l.size() && usable(new) < usable(l.size()) {
            // SAFETY: the caller's layout with the smaller size is valid
            // (same alignment, non-zero size as `new` comes from a
            // successful shrink request), and the old block holds at
            // least `new` initialized bytes.
            let nl = Layout::from_size_align_unchecked(new, l.align());
            let q = MiMalloc.alloc(nl);
            if !q.is_null() {
                std::ptr::copy_nonoverlapping(p, q, new);
                MiMalloc.dealloc(p, l);
                count(usable(new) - usable(l.size()));
            }
            return q;
        }
        let q = MiMalloc.realloc(p, l, new);
        if !q.is_null() {
            count(usable(new) - usable(l.size()));
        }
        q
    }
}

/// The bytes an allocation of `size` takes, as `used_memory` counts it
/// (mimalloc's size class; 0 for nothing).
pub fn usable_size(size: usize) -> usize {
    if size == 0 {
        0
    } else {
        usable(size) as usize
    }
}

/// What the calling thread allocated less what it freed, since it began:
/// the difference of two readings is what the code between them allocated
/// (or, negative, freed) on this thread, whatever other threads do
/// meanwhile (eviction measures what a deletion freed with it, as Redis
/// reads zmalloc_used_memory around it in its single thread).
pub fn thread_net() -> isize {
    LOCAL.try_with(|l| l.own.get()).unwrap_or(0)
}

/// Count precisely enough for `maxmemory` (or, with `false`, cheaply).
pub fn set_precise(on: bool) {
    FLUSH_AT.store(if on { FLUSH_PRECISE } else { FLUSH }, Ordering::Relaxed);
}

/// Bytes the Lua interpreters hold, which `allocated` leaves out: Redis
/// runs Lua on libc's allocator, outside zmalloc's count, so its
/// used_memory (and maxmemory) does not include them (INFO shows them as
/// used_memory_vm_eval and used_memory_vm_functions).
static LUA: AtomicIsize = AtomicIsize::new(0);

/// The Lua interpreters now hold `bytes` (their own count).
pub fn set_lua_memory(bytes: usize) {
    LUA.store(bytes as isize, Ordering::Relaxed);
}

/// Live bytes allocated (to within the flush threshold per thread; the
/// calling thread's own share is included exactly), the Lua
/// interpreters' aside.
pub fn allocated() -> usize {
    let local = LOCAL.try_with(|l| l.pending.get()).unwrap_or(0);
    let lua = LUA.load(Ordering::Relaxed);
    let n = (ALLOCATED.load(Ordering::Relaxed) + local - lua).max(0) as usize;
    let peak = PEAK.load(Ordering::Relaxed);
    if n > peak {
        PEAK.store(n, Ordering::Relaxed);
    }
    n
}

/// Highest `allocated()` seen.
pub fn peak() -> usize {
    allocated();
    PEAK.load(Ordering::Relaxed)
}

/// Record the start-up baseline (used_memory_startup).
pub fn mark_startup() {
    STARTUP.store(allocated(), Ordering::Relaxed);
}

/// used_memory_startup.
pub fn startup_allocated() -> usize {
    STARTUP.load(Ordering::Relaxed)
}

/// The first memory the server takes, kept in 4 KiB pages.
const SMALL_PAGES_ARENA: usize = 64 << 20;

/// Reserve mimalloc's first arena without transparent huge pages. Called
/// before anything is allocated (a constructor of the binary, see
/// `main.rs`), so that mimalloc takes from it before it maps more.
///
/// mimalloc advises MADV_HUGEPAGE on the arenas it maps itself. Redis
/// advises turning THP off because a forked child copies a whole 2 MiB
/// page on the first write to it; we never fork, and a page fault per
/// 4 KiB was the largest cost of filling a large dataset (start-up load,
/// full sync), so the data arenas keep them. But a small dataset gains
/// nothing from huge pages and pays for them in RSS: memory in use spread
/// over 2 MiB pages that are only partly used (SCRIPT LOAD of 10,000
/// scripts grew RSS 1.5x to 1.7x what it grows in 4 KiB pages, and an
/// idle server held four huge pages). So the first 64 MiB are in 4 KiB
/// pages, and only what a bigger dataset needs beyond is in huge pages.
pub fn reserve_small_pages_arena() {
    let mut arena: libmimalloc_sys::mi_arena_id_t = std::ptr::null_mut();
    // SAFETY: mimalloc's own call to reserve an arena (it initializes
    // itself first if it has not yet); `arena` outlives it. Its result is
    // not reported (no logging before main): without this arena, mimalloc
    // maps its own, with huge pages, as it would anyway.
    let _ = unsafe {
        libmimalloc_sys::mi_reserve_os_memory_ex(SMALL_PAGES_ARENA, true, false, false, &mut arena)
    };
}

/// mimalloc's statistics report (MEMORY MALLOC-STATS, where Redis prints
/// jemalloc's).
pub fn stats_report() -> String {
    unsafe extern "C" fn collect(msg: *const std::os::raw::c_char, arg: *mut std::ffi::c_void) {
        // SAFETY: mimalloc passes a NUL-terminated message and the `arg`
        // given below, a live `&mut String`, for the length of the call.
        let (msg, out) = unsafe { (std::ffi::CStr::from_ptr(msg), &mut *(arg as *mut String)) };
        out.push_str(&msg.to_string_lossy());
    }
    let mut out = String::new();
    // SAFETY: `collect` only appends to `out`, which outlives the call.
    unsafe {
        libmimalloc_sys::mi_stats_print_out(
            Some(collect),
            &mut out as *mut String as *mut std::ffi::c_void,
        );
    }
    out
}

/// Return freed memory to the OS now (MEMORY PURGE, Redis's
/// jemalloc_purge).
pub fn purge() {
    // SAFETY: no arguments beyond the flag; safe to call from any thread.
    unsafe { libmimalloc_sys::mi_collect(true) }
}
