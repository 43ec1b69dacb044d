//! The value structures behind the collection types, with no reply or
//! keyspace code (Redis's "type API" halves of `t_*.c`).
//!
//! Each type keeps Redis's two encodings because clients can see them
//! (`OBJECT ENCODING`, `MEMORY USAGE`, SCAN returning everything at once for
//! small values) and because the small encodings are where the memory goes:
//! - [`list::List`]: chunked listpacks, always reported as `quicklist`;
//! - [`hash::Hash`]: `listpack` → `hashtable`;
//! - [`set::Set`]: `intset` → `hashtable`;
//! - [`zset::ZSet`]: `listpack` → `skiplist`;
//! - [`stream::Stream`]: always `stream`, nodes that are listpacks in
//!   Redis's own byte layout under an ordered map.
//!
//! Conversion thresholds come from the caller (config), and conversions are
//! one-way, as in Redis. The building block for the small encodings is
//! [`listpack::Listpack`].

pub mod bitops;
pub mod geo;
pub mod hash;
pub mod hll;
pub mod list;
pub mod listpack;
pub mod set;
pub mod stream;
pub mod zset;

use rand::Rng;

/// Hasher for the hash-table encodings: fast, and randomly keyed per table
/// so clients cannot aim collisions at us.
pub type FastState = ahash::RandomState;

/// Redis's listpack safety limit (`LISTPACK_MAX_SAFETY_SIZE`, 1 GiB): a small
/// encoding that would grow past this converts to the big one instead.
pub const LISTPACK_SAFETY_LIMIT: usize = 1 << 30;

/// One step of a SCAN over a table whose elements sit at dense indices
/// `0..len` and are removed by swap-remove (the last element moves into the
/// hole), as in our `IndexMap`/`IndexSet` encodings.
///
/// The cursor counts down: a call with `cursor` visits the `count` indices
/// just below it (0 means "start", i.e. `len`) and returns them with the next
/// cursor, 0 when done. Counting down is what keeps SCAN's guarantee that an
/// element present for the whole scan is returned: a swap-remove only ever
/// moves the last element, which is either already visited or moves to a
/// lower, not-yet-visited index. Elements added during the scan land above
/// the cursor and may be missed, which SCAN allows.
pub fn scan_window(len: usize, cursor: u64, count: usize) -> (std::ops::Range<usize>, u64) {
    let top = if cursor == 0 {
        len
    } else {
        usize::try_from(cursor).map_or(len, |c| c.min(len))
    };
    let bottom = top.saturating_sub(count.max(1));
    (bottom..top, bottom as u64)
}

/// Indices for HRANDFIELD / SRANDMEMBER / ZRANDMEMBER with a count over a
/// collection of `len` elements.
///
/// With `distinct` (a positive count in Redis): every index once, in order,
/// when `count >= len`; otherwise `count` different indices in random
/// order. Without it (a negative count): `count` independent uniform picks.
pub fn random_indices(len: usize, count: usize, distinct: bool, rng: &mut impl Rng) -> Vec<usize> {
    if len == 0 {
        return Vec::new();
    }
    if distinct {
        if count >= len {
            (0..len).collect()
        } else {
            rand::seq::index::sample(rng, len, count).into_vec()
        }
    } else {
        (0..count).map(|_| rng.gen_range(0..len)).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scan_window_counts_down() {
        assert_eq!(scan_window(0, 0, 10), (0..0, 0));
        assert_eq!(scan_window(25, 0, 10), (15..25, 15));
        assert_eq!(scan_window(25, 15, 10), (5..15, 5));
        assert_eq!(scan_window(25, 5, 10), (0..5, 0));
        // A cursor beyond a table that shrank is clamped.
        assert_eq!(scan_window(3, 15, 10), (0..3, 0));
        assert_eq!(scan_window(3, u64::MAX, 1), (2..3, 2));
        assert_eq!(scan_window(3, 0, 0), (2..3, 2), "count 0 still moves");
    }

    #[test]
    fn random_indices_shapes() {
        let mut rng = rand::thread_rng();
        assert!(random_indices(0, 5, true, &mut rng).is_empty());
        assert_eq!(random_indices(3, 5, true, &mut rng), vec![0, 1, 2]);
        let mut d = random_indices(100, 10, true, &mut rng);
        d.sort_unstable();
        d.dedup();
        assert_eq!(d.len(), 10);
        let r = random_indices(2, 50, false, &mut rng);
        assert_eq!(r.len(), 50);
        assert!(r.iter().all(|&i| i < 2));
    }
}
