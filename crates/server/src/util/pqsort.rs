//! Partial quicksort: order a slice only as far as a range of positions
//! needs, as Redis's `pqsort` does for SORT ... BY ... LIMIT.
//!
//! Quicksort is not stable, so which of several equal elements lands where
//! is part of Redis's observable behaviour (SORT ... BY ... ALPHA LIMIT over
//! elements whose weights are equal or missing). To answer as Redis does,
//! this follows the same algorithm step for step: Bentley and McIlroy's
//! "Engineering a Sort Function" (insertion sort below 7 elements, the
//! median of three or of nine as pivot, a three-way partition that parks
//! the elements equal to the pivot at both ends and swaps them back to the
//! middle), recursing on the smaller side and looping on the larger, and
//! skipping any part that lies wholly before or wholly after the range of
//! positions asked for.

use std::cmp::Ordering;

/// Sort `v` enough that positions `lrange..=rrange` hold what a full sort
/// would put there (equal elements in the order Redis's `pqsort` leaves
/// them). `cmp` is called as Redis's comparator would be.
pub fn pqsort<T>(v: &mut [T], lrange: i64, rrange: i64, mut cmp: impl FnMut(&T, &T) -> Ordering) {
    let range = Range {
        l: lrange,
        r: rrange,
    };
    sort(v, 0, v.len(), &mut cmp, range);
}

/// The positions wanted.
#[derive(Clone, Copy)]
struct Range {
    l: i64,
    r: i64,
}

impl Range {
    /// Whether the part `from..from + n` needs sorting: Redis skips it only
    /// when both ends of the range lie before it, or both after it.
    fn wants(self, from: usize, n: usize) -> bool {
        let (lo, hi) = (from as i64, (from + n) as i64);
        !((self.l < lo && self.r < lo) || (self.l >= hi && self.r >= hi))
    }
}

fn med3<T>(
    v: &[T],
    a: usize,
    b: usize,
    c: usize,
    cmp: &mut impl FnMut(&T, &T) -> Ordering,
) -> usize {
    if cmp(&v[a], &v[b]) == Ordering::Less {
        if cmp(&v[b], &v[c]) == Ordering::Less {
            b
        } else if cmp(&v[a], &v[c]) == Ordering::Less {
            c
        } else {
            a
        }
    } else if cmp(&v[b], &v[c]) == Ordering::Greater {
        b
    } else if cmp(&v[a], &v[c]) == Ordering::Less {
        a
    } else {
        c
    }
}

/// Swap the `n` elements from `a` with the `n` from `b`, pair by pair.
fn swap_runs<T>(v: &mut [T], a: usize, b: usize, n: usize) {
    for i in 0..n {
        v.swap(a + i, b + i);
    }
}

fn sort<T>(
    v: &mut [T],
    mut a: usize,
    mut n: usize,
    cmp: &mut impl FnMut(&T, &T) -> Ordering,
    range: Range,
) {
    loop {
        if n < 7 {
            for m in a + 1..a + n {
                let mut l = m;
                while l > a && cmp(&v[l - 1], &v[l]) == Ordering::Greater {
                    v.swap(l, l - 1);
                    l -= 1;
                }
            }
            return;
        }
        let mut pm = a + n / 2;
        if n > 7 {
            let mut pl = a;
            let mut pn = a + n - 1;
            if n > 40 {
                let d = n / 8;
                pl = med3(v, pl, pl + d, pl + 2 * d, cmp);
                pm = med3(v, pm - d, pm, pm + d, cmp);
                pn = med3(v, pn - 2 * d, pn - d, pn, cmp);
            }
            pm = med3(v, pl, pm, pn, cmp);
        }
        // The pivot goes to `a`; elements equal to it gather at both ends
        // ([a+1, pa) and (pd, a+n)) while the rest is partitioned.
        v.swap(a, pm);
        let (mut pa, mut pb) = (a + 1, a + 1);
        let (mut pc, mut pd) = (a + n - 1, a + n - 1);
        loop {
            while pb <= pc {
                match cmp(&v[pb], &v[a]) {
                    Ordering::Greater => break,
                    Ordering::Equal => {
                        v.swap(pa, pb);
                        pa += 1;
                    }
                    Ordering::Less => {}
                }
                pb += 1;
            }
            while pb <= pc {
                match cmp(&v[pc], &v[a]) {
                    Ordering::Less => break,
                    Ordering::Equal => {
                        v.swap(pc, pd);
                        pd -= 1;
                    }
                    Ordering::Greater => {}
                }
                pc -= 1;
            }
            if pb > pc {
                break;
            }
            v.swap(pb, pc);
            pb += 1;
            pc -= 1;
        }
        let end = a + n;
        let r = (pa - a).min(pb - pa);
        swap_runs(v, a, pb - r, r);
        let r = (pd - pc).min(end - pd - 1);
        swap_runs(v, pb, end - r, r);
        // The smaller-than part is sorted by recursion, the greater-than
        // part by the loop.
        let less = pb - pa;
        if less > 1 && range.wants(a, less) {
            sort(v, a, less, cmp, range);
        }
        let more = pd - pc;
        if more <= 1 {
            return;
        }
        a = end - more;
        n = more;
        if !range.wants(a, n) {
            return;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// The asked-for positions hold what a full sort puts there.
        #[test]
        fn range_matches_a_full_sort(
            mut v in proptest::collection::vec(0u8..20, 0..200),
            l in 0usize..200,
            count in 0usize..200,
        ) {
            let mut full = v.clone();
            full.sort();
            let len = v.len();
            let l = l.min(len);
            let r = (l + count).min(len) as i64 - 1;
            pqsort(&mut v, l as i64, r, |a, b| a.cmp(b));
            for i in l as i64..=r {
                prop_assert_eq!(v[i as usize], full[i as usize]);
            }
        }

        /// The whole range is a full sort.
        #[test]
        fn whole_range_sorts(mut v in proptest::collection::vec(any::<u16>(), 0..300)) {
            let mut full = v.clone();
            full.sort();
            let n = v.len() as i64;
            pqsort(&mut v, 0, n - 1, |a, b| a.cmp(b));
            prop_assert_eq!(v, full);
        }
    }

    /// Equal elements end where Redis's pqsort leaves them. Keys are
    /// `(i*i*31 + 7) % m` for element `i`; the expected orders (element
    /// numbers) were produced by Redis 7.0.15's pqsort.c over the same
    /// input, and the differential tests check the same thing end to end.
    #[test]
    fn equal_elements_like_redis() {
        let run = |n: usize, m: usize, l: i64, r: i64| -> Vec<usize> {
            let mut v: Vec<(usize, usize)> = (0..n)
                .map(|i| (if m == 0 { 0 } else { (i * i * 31 + 7) % m }, i))
                .collect();
            pqsort(&mut v, l, r, |a, b| a.0.cmp(&b.0));
            v.iter().map(|p| p.1).collect()
        };
        assert_eq!(run(10, 0, 0, 4), [9, 1, 2, 3, 4, 5, 6, 7, 8, 0]);
        assert_eq!(
            run(60, 3, 10, 20),
            [
                0, 9, 42, 3, 30, 45, 21, 15, 48, 33, 6, 51, 24, 36, 54, 12, 18, 57, 39, 27, 29, 31,
                32, 34, 35, 37, 38, 40, 41, 43, 44, 46, 47, 49, 50, 52, 53, 55, 56, 58, 59, 1, 2,
                4, 5, 7, 8, 10, 11, 13, 14, 16, 17, 19, 20, 22, 23, 25, 26, 28
            ]
        );
        assert_eq!(
            run(45, 4, 40, 44),
            [
                23, 3, 25, 13, 27, 7, 29, 15, 31, 1, 33, 17, 35, 9, 37, 19, 39, 5, 41, 21, 43, 11,
                0, 44, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30, 32, 34, 36, 38, 40,
                42
            ]
        );
    }
}
