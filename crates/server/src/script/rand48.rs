//! Redis's `redisLrand48`/`redisSrand48` (rand.c): the 48-bit linear
//! congruential generator of drand48, x' = (0x5DEECE66D·x + 0xB) mod 2^48,
//! whose output is the top 31 bits. `math.random` uses it so that a seed
//! gives the same sequence as in Redis. Like Redis's, the state lives for
//! the process: SCRIPT FLUSH does not reset it.

use std::sync::atomic::{AtomicU64, Ordering};

/// The state before any seed (X2 X1 X0 = 0x1234 0xABCD 0x330E).
pub const INITIAL: u64 = 0x1234_ABCD_330E;
const A: u64 = 0x5_DEEC_E66D;
const C: u64 = 0xB;
const MASK: u64 = (1 << 48) - 1;
/// REDIS_LRAND48_MAX.
const MAX: i64 = i32::MAX as i64;

/// redisLrand48: the next 31-bit value.
pub fn next(state: &AtomicU64) -> i64 {
    let x = state.load(Ordering::Relaxed);
    let x = (A.wrapping_mul(x).wrapping_add(C)) & MASK;
    state.store(x, Ordering::Relaxed);
    (x >> 17) as i64
}

/// redisSrand48.
pub fn seed(state: &AtomicU64, seed: i32) {
    state.store((u64::from(seed as u32) << 16) | 0x330E, Ordering::Relaxed);
}

/// math.random()'s number in [0, 1).
pub fn random(state: &AtomicU64) -> f64 {
    (next(state) % MAX) as f64 / MAX as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_lrand48() {
        // glibc's lrand48 after srand48(0) starts with these.
        let s = AtomicU64::new(0);
        seed(&s, 0);
        assert_eq!(next(&s), 366850414);
        assert_eq!(next(&s), 1610402240);
    }
}
