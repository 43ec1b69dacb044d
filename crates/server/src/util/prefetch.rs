//! A cache prefetch hint, for walks over the keyspace that chase a pointer
//! per key (snapshots): asking for the next keys' memory a few steps ahead
//! overlaps the cache misses instead of taking them one after another.

/// Ask the CPU to bring the cache line at `p` into the cache.
#[inline(always)]
pub fn prefetch<T>(p: *const T) {
    #[cfg(target_arch = "x86_64")]
    #[allow(unsafe_code)]
    // SAFETY: a prefetch is a hint. It never faults and never hands memory
    // to the program, whatever the address, so any pointer is fine.
    unsafe {
        use core::arch::x86_64::{_mm_prefetch, _MM_HINT_T0};
        _mm_prefetch::<_MM_HINT_T0>(p.cast::<i8>());
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = p;
}
