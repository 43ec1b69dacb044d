//! The list value: a deque of byte strings stored as a chain of listpack
//! chunks, like Redis's quicklist (Redis `t_list.c`, "List type API";
//! OBJECT ENCODING is always `quicklist` on 7.0).
//!
//! Lists are used as queues, so both ends must be O(1), and they can hold
//! millions of short elements, so one allocation per element (a
//! `VecDeque<Box<[u8]>>`) would cost ~32 bytes of overhead each. Chunks of
//! up to [`CHUNK_BYTES`] of packed entries cost ~2 bytes per element.
//! Access by index walks the chunks from the nearer end, O(n / chunk) like
//! Redis's quicklist; within a chunk it is a listpack walk.
//!
//! Index arguments follow Redis: negative indices count from the tail
//! (-1 is the last element), and ranges are inclusive and clamped the way
//! LRANGE/LTRIM clamp them.

use std::collections::VecDeque;

use super::listpack::{self, Listpack};

/// Target size of one chunk in bytes: Redis's default
/// `list-max-listpack-size -2`. A single larger element gets a chunk of its
/// own.
pub const CHUNK_BYTES: usize = 8 * 1024;

/// Elements at least this long get a chunk of their own (Redis's
/// quicklist "plain" nodes, `packed_threshold`: 1 GB unless DEBUG
/// QUICKLIST-PACKED-THRESHOLD changes it; one setting for the process).
static PACKED_THRESHOLD: std::sync::atomic::AtomicUsize =
    std::sync::atomic::AtomicUsize::new(DEFAULT_PACKED_THRESHOLD);
const DEFAULT_PACKED_THRESHOLD: usize = 1 << 30;

/// Set the plain-element threshold as Redis's
/// `quicklistisSetPackedThreshold`: 0 restores the default; more than 4 GB
/// less 1 MB is refused (false).
pub fn set_packed_threshold(sz: u64) -> bool {
    if sz > (1u64 << 32) - (1 << 20) {
        return false;
    }
    let sz = if sz == 0 {
        DEFAULT_PACKED_THRESHOLD
    } else {
        sz as usize
    };
    PACKED_THRESHOLD.store(sz, std::sync::atomic::Ordering::Relaxed);
    true
}

fn is_plain(v_len: usize) -> bool {
    v_len >= PACKED_THRESHOLD.load(std::sync::atomic::Ordering::Relaxed)
}

/// A list value. See the module docs.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct List {
    chunks: VecDeque<Listpack>,
    len: usize,
}

/// Redis's LRANGE/LTRIM normalization of `start..=end` over `len`
/// elements: `None` if the range is empty.
fn normalize(start: i64, end: i64, len: usize) -> Option<(usize, usize)> {
    let len = len as i64;
    let start = if start < 0 {
        (len + start).max(0)
    } else {
        start
    };
    let end = if end < 0 { len + end } else { end };
    if start > end || start >= len {
        return None;
    }
    Some((start as usize, end.min(len - 1) as usize))
}

impl List {
    /// An empty list.
    pub fn new() -> Self {
        Self::default()
    }

    /// Number of elements.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether there are no elements.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// `OBJECT ENCODING` name.
    pub fn encoding_name(&self) -> &'static str {
        "quicklist"
    }

    /// Whether `v` may join `chunk` at an end: not when either is a plain
    /// element (alone in its chunk), nor past the chunk size.
    fn fits(chunk: &Listpack, v: &[u8]) -> bool {
        if chunk.is_empty() {
            return true;
        }
        if is_plain(v.len())
            || (chunk.len() == 1 && chunk.first().is_some_and(|e| is_plain(e.len())))
        {
            return false;
        }
        chunk.bytes_len() + listpack::entry_size(v.len()) <= CHUNK_BYTES
    }

    /// LPUSH one element.
    pub fn push_front(&mut self, v: &[u8]) {
        match self.chunks.front_mut() {
            Some(c) if Self::fits(c, v) => c.push_front(v),
            _ => {
                let mut c = Listpack::new();
                c.push(v);
                self.chunks.push_front(c);
            }
        }
        self.len += 1;
    }

    /// RPUSH one element.
    pub fn push_back(&mut self, v: &[u8]) {
        match self.chunks.back_mut() {
            Some(c) if Self::fits(c, v) => c.push(v),
            _ => {
                let mut c = Listpack::new();
                c.push(v);
                self.chunks.push_back(c);
            }
        }
        self.len += 1;
    }

    /// LPOP one element.
    pub fn pop_front(&mut self) -> Option<Vec<u8>> {
        let c = self.chunks.front_mut()?;
        let v = c.pop_front()?;
        if c.is_empty() {
            self.chunks.pop_front();
        }
        self.len -= 1;
        Some(v)
    }

    /// RPOP one element.
    pub fn pop_back(&mut self) -> Option<Vec<u8>> {
        let c = self.chunks.back_mut()?;
        let v = c.pop_back()?;
        if c.is_empty() {
            self.chunks.pop_back();
        }
        self.len -= 1;
        Some(v)
    }

    /// The first element.
    pub fn front(&self) -> Option<&[u8]> {
        self.chunks.front().and_then(Listpack::first)
    }

    /// The last element.
    pub fn back(&self) -> Option<&[u8]> {
        self.chunks.back().and_then(Listpack::last)
    }

    /// (chunk, index within chunk) of element `i < len`, walking from the
    /// nearer end.
    fn locate(&self, i: usize) -> (usize, usize) {
        if i < self.len / 2 {
            let mut i = i;
            for (ci, c) in self.chunks.iter().enumerate() {
                if i < c.len() {
                    return (ci, i);
                }
                i -= c.len();
            }
        } else {
            let mut from_end = self.len - i;
            for (ci, c) in self.chunks.iter().enumerate().rev() {
                if from_end <= c.len() {
                    return (ci, c.len() - from_end);
                }
                from_end -= c.len();
            }
        }
        unreachable!("index {i} checked against len {}", self.len)
    }

    /// Resolves a Redis index (negative counts from the tail).
    fn resolve(&self, index: i64) -> Option<usize> {
        let i = if index < 0 {
            (self.len as i64).checked_add(index)?
        } else {
            index
        };
        usize::try_from(i).ok().filter(|&i| i < self.len)
    }

    /// LINDEX.
    pub fn index(&self, index: i64) -> Option<&[u8]> {
        let i = self.resolve(index)?;
        let (ci, k) = self.locate(i);
        self.chunks[ci].get(k)
    }

    /// Splits chunk `ci` in two when an edit left it over the size target.
    fn rebalance(&mut self, ci: usize) {
        let c = &mut self.chunks[ci];
        if c.bytes_len() > CHUNK_BYTES && c.len() > 1 {
            let tail = c.split_off(c.len() / 2);
            self.chunks.insert(ci + 1, tail);
        }
    }

    /// LSET; returns false when the index is out of range.
    pub fn set(&mut self, index: i64, v: &[u8]) -> bool {
        let Some(i) = self.resolve(index) else {
            return false;
        };
        let (ci, k) = self.locate(i);
        self.chunks[ci].replace(k, v);
        self.rebalance(ci);
        true
    }

    /// All elements, from either end.
    pub fn iter(&self) -> impl DoubleEndedIterator<Item = &[u8]> + '_ {
        self.chunks.iter().flat_map(Listpack::iter)
    }

    /// LRANGE `start end` (inclusive, Redis index rules).
    pub fn range(&self, start: i64, end: i64) -> Vec<&[u8]> {
        let Some((start, end)) = normalize(start, end, self.len) else {
            return Vec::new();
        };
        let n = end - start + 1;
        let mut out = Vec::with_capacity(n);
        let (ci, k) = self.locate(start);
        let mut chunks = self.chunks.iter().skip(ci);
        if let Some(first) = chunks.next() {
            out.extend(first.iter_from(k).take(n));
        }
        for c in chunks {
            if out.len() == n {
                break;
            }
            let want = n - out.len();
            out.extend(c.iter().take(want));
        }
        out
    }

    /// Removes the first `n` elements.
    fn remove_front(&mut self, mut n: usize) {
        n = n.min(self.len);
        self.len -= n;
        while n > 0 {
            let Some(c) = self.chunks.front_mut() else {
                break;
            };
            if c.len() <= n {
                n -= c.len();
                self.chunks.pop_front();
            } else {
                c.remove_range(0, n);
                n = 0;
            }
        }
    }

    /// Removes the last `n` elements.
    fn remove_back(&mut self, mut n: usize) {
        n = n.min(self.len);
        self.len -= n;
        while n > 0 {
            let Some(c) = self.chunks.back_mut() else {
                break;
            };
            if c.len() <= n {
                n -= c.len();
                self.chunks.pop_back();
            } else {
                let keep = c.len() - n;
                c.remove_range(keep, n);
                n = 0;
            }
        }
    }

    /// LTRIM `start end`: keeps only that range (Redis index rules); an
    /// empty range empties the list.
    pub fn trim(&mut self, start: i64, end: i64) {
        match normalize(start, end, self.len) {
            None => {
                self.chunks.clear();
                self.len = 0;
            }
            Some((start, end)) => {
                let back = self.len - end - 1;
                self.remove_back(back);
                self.remove_front(start);
            }
        }
    }

    /// LINSERT BEFORE|AFTER: inserts `v` next to the first element equal to
    /// `pivot`, returning the new length, or `None` if `pivot` is absent.
    pub fn insert(&mut self, before: bool, pivot: &[u8], v: &[u8]) -> Option<usize> {
        let (ci, k) = self
            .chunks
            .iter()
            .enumerate()
            .find_map(|(ci, c)| c.find(pivot).map(|k| (ci, k)))?;
        self.chunks[ci].insert(if before { k } else { k + 1 }, v);
        self.len += 1;
        self.rebalance(ci);
        Some(self.len)
    }

    /// LINSERT BEFORE.
    pub fn insert_before(&mut self, pivot: &[u8], v: &[u8]) -> Option<usize> {
        self.insert(true, pivot, v)
    }

    /// LINSERT AFTER.
    pub fn insert_after(&mut self, pivot: &[u8], v: &[u8]) -> Option<usize> {
        self.insert(false, pivot, v)
    }

    /// LREM: removes elements equal to `v`: the first `count` from the head
    /// when `count > 0`, the last `-count` from the tail when `count < 0`,
    /// all when 0. Returns how many were removed.
    pub fn remove(&mut self, count: i64, v: &[u8]) -> usize {
        let limit = if count == 0 {
            usize::MAX
        } else {
            usize::try_from(count.unsigned_abs()).unwrap_or(usize::MAX)
        };
        let mut removed = 0;
        let order: Vec<usize> = if count < 0 {
            (0..self.chunks.len()).rev().collect()
        } else {
            (0..self.chunks.len()).collect()
        };
        for ci in order {
            if removed == limit {
                break;
            }
            let c = &mut self.chunks[ci];
            let left = limit - removed;
            let mut skip = 0;
            if count < 0 {
                // Remove the last `left` matches of this chunk.
                let matches = c.iter().filter(|e| *e == v).count();
                skip = matches.saturating_sub(left);
            }
            let mut taken = 0;
            c.retain(|e| {
                if e != v || taken == left {
                    return true;
                }
                if skip > 0 {
                    skip -= 1;
                    return true;
                }
                taken += 1;
                false
            });
            removed += taken;
        }
        if removed > 0 {
            self.len -= removed;
            self.compact();
        }
        removed
    }

    /// Drops empty chunks and merges neighbours that fit in one chunk, after
    /// deletions in the middle.
    fn compact(&mut self) {
        let mut out: VecDeque<Listpack> = VecDeque::with_capacity(self.chunks.len());
        for mut c in self.chunks.drain(..) {
            if c.is_empty() {
                continue;
            }
            match out.back_mut() {
                Some(prev) if prev.bytes_len() + c.bytes_len() <= CHUNK_BYTES => {
                    prev.append(&mut c)
                }
                _ => out.push_back(c),
            }
        }
        self.chunks = out;
    }

    /// LPOS: positions (from the head) of elements equal to `v`.
    ///
    /// `rank` (non-zero) picks the first match to report: the `rank`-th
    /// from the head, or with a negative rank the `-rank`-th from the tail,
    /// scanning towards the head. At most `count` positions are returned (0
    /// = all), and at most `maxlen` elements are compared (0 = no limit).
    /// Without LPOS's COUNT option, pass `count = 1` and use the first.
    pub fn positions(&self, v: &[u8], rank: i64, count: usize, maxlen: usize) -> Vec<usize> {
        let skip = usize::try_from(rank.unsigned_abs().saturating_sub(1)).unwrap_or(usize::MAX);
        let want = if count == 0 { usize::MAX } else { count };
        let maxlen = if maxlen == 0 { usize::MAX } else { maxlen };
        let scanned = self.len.min(maxlen);
        let hits: Box<dyn Iterator<Item = usize> + '_> = if rank < 0 {
            Box::new(
                self.iter()
                    .rev()
                    .take(scanned)
                    .enumerate()
                    .filter(|(_, e)| *e == v)
                    .map(|(i, _)| self.len - 1 - i),
            )
        } else {
            Box::new(
                self.iter()
                    .take(scanned)
                    .enumerate()
                    .filter(|(_, e)| *e == v)
                    .map(|(i, _)| i),
            )
        };
        hits.skip(skip).take(want).collect()
    }

    /// Estimated heap bytes (MEMORY USAGE), excluding the key.
    pub fn memory_usage(&self) -> usize {
        self.chunks.capacity() * std::mem::size_of::<Listpack>()
            + self
                .chunks
                .iter()
                .map(Listpack::allocated_bytes)
                .sum::<usize>()
    }

    /// Number of chunks (for tests and DEBUG-style introspection).
    pub fn chunk_count(&self) -> usize {
        self.chunks.len()
    }
}

impl<'a> FromIterator<&'a [u8]> for List {
    fn from_iter<I: IntoIterator<Item = &'a [u8]>>(iter: I) -> Self {
        let mut l = List::new();
        for v in iter {
            l.push_back(v);
        }
        l
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn list(items: &[&str]) -> List {
        items.iter().map(|s| s.as_bytes()).collect()
    }

    fn strs(v: Vec<&[u8]>) -> Vec<String> {
        v.into_iter()
            .map(|b| String::from_utf8_lossy(b).into_owned())
            .collect()
    }

    #[test]
    fn push_pop_index() {
        let mut l = List::new();
        assert_eq!(l.pop_front(), None);
        l.push_back(b"b");
        l.push_front(b"a");
        l.push_back(b"c");
        assert_eq!(l.len(), 3);
        assert_eq!(l.index(0), Some(&b"a"[..]));
        assert_eq!(l.index(-1), Some(&b"c"[..]));
        assert_eq!(l.index(-3), Some(&b"a"[..]));
        assert_eq!(l.index(-4), None);
        assert_eq!(l.index(3), None);
        assert_eq!(l.index(i64::MIN), None);
        assert!(l.set(-2, b"B"));
        assert!(!l.set(5, b"x"));
        assert_eq!(l.front(), Some(&b"a"[..]));
        assert_eq!(l.back(), Some(&b"c"[..]));
        assert_eq!(l.pop_back(), Some(b"c".to_vec()));
        assert_eq!(l.pop_front(), Some(b"a".to_vec()));
        assert_eq!(l.pop_front(), Some(b"B".to_vec()));
        assert!(l.is_empty());
        assert_eq!(l.chunk_count(), 0);
    }

    #[test]
    fn lrange_rules() {
        let l = list(&["a", "b", "c", "d"]);
        assert_eq!(strs(l.range(0, -1)), ["a", "b", "c", "d"]);
        assert_eq!(strs(l.range(1, 2)), ["b", "c"]);
        assert_eq!(strs(l.range(-2, 100)), ["c", "d"]);
        assert_eq!(strs(l.range(-100, 0)), ["a"]);
        assert!(l.range(2, 1).is_empty());
        assert!(l.range(4, 10).is_empty());
        assert!(l.range(0, -5).is_empty());
    }

    #[test]
    fn ltrim_rules() {
        let mut l = list(&["a", "b", "c", "d"]);
        l.trim(1, -2);
        assert_eq!(strs(l.range(0, -1)), ["b", "c"]);
        l.trim(5, 10);
        assert!(l.is_empty());
    }

    #[test]
    fn linsert_lrem_lpos() {
        let mut l = list(&["a", "b", "a", "c", "a"]);
        assert_eq!(l.insert_before(b"b", b"x"), Some(6));
        assert_eq!(l.insert_after(b"c", b"y"), Some(7));
        assert_eq!(l.insert_after(b"zz", b"y"), None);
        assert_eq!(strs(l.range(0, -1)), ["a", "x", "b", "a", "c", "y", "a"]);
        assert_eq!(l.positions(b"a", 1, 0, 0), vec![0, 3, 6]);
        assert_eq!(l.positions(b"a", 2, 1, 0), vec![3]);
        assert_eq!(l.positions(b"a", -1, 2, 0), vec![6, 3]);
        assert_eq!(l.positions(b"a", 1, 0, 4), vec![0, 3]);
        assert_eq!(l.positions(b"a", -1, 0, 2), vec![6]);
        assert!(l.positions(b"a", 4, 0, 0).is_empty());
        assert_eq!(l.remove(-1, b"a"), 1);
        assert_eq!(strs(l.range(0, -1)), ["a", "x", "b", "a", "c", "y"]);
        assert_eq!(l.remove(1, b"a"), 1);
        assert_eq!(strs(l.range(0, -1)), ["x", "b", "a", "c", "y"]);
        assert_eq!(l.remove(0, b"a"), 1);
        assert_eq!(l.remove(0, b"a"), 0);
        assert_eq!(l.len(), 4);
    }

    #[test]
    fn chunks_are_compact() {
        let mut l = List::new();
        for i in 0..100_000u32 {
            l.push_back(format!("{i:08}").as_bytes());
        }
        // 10 bytes per element when packed.
        assert!(l.memory_usage() < 100_000 * 12, "{}", l.memory_usage());
        assert!(l.chunk_count() <= 100_000 * 10 / CHUNK_BYTES + 2);
        assert_eq!(l.index(54_321), Some(&b"00054321"[..]));
        assert_eq!(l.index(-1), Some(&b"00099999"[..]));
        let big = vec![b'x'; 3 * CHUNK_BYTES];
        l.push_front(&big);
        assert_eq!(l.index(0), Some(&big[..]));
        assert_eq!(l.index(1), Some(&b"00000000"[..]));
    }

    #[derive(Debug, Clone)]
    enum Op {
        PushFront(Vec<u8>),
        PushBack(Vec<u8>),
        PopFront,
        PopBack,
        Set(i64, Vec<u8>),
        Insert(bool, Vec<u8>, Vec<u8>),
        Remove(i64, Vec<u8>),
        Trim(i64, i64),
    }

    fn value() -> impl Strategy<Value = Vec<u8>> {
        prop_oneof![
            8 => (0u8..4).prop_map(|b| vec![b'a' + b]),
            1 => (0u8..4).prop_map(|b| vec![b'a' + b; 3000]),
        ]
    }

    fn op() -> impl Strategy<Value = Op> {
        prop_oneof![
            3 => value().prop_map(Op::PushFront),
            3 => value().prop_map(Op::PushBack),
            1 => Just(Op::PopFront),
            1 => Just(Op::PopBack),
            1 => (-12i64..12, value()).prop_map(|(i, v)| Op::Set(i, v)),
            1 => (any::<bool>(), value(), value()).prop_map(|(b, p, v)| Op::Insert(b, p, v)),
            1 => (-3i64..3, value()).prop_map(|(c, v)| Op::Remove(c, v)),
            1 => (-12i64..12, -12i64..12).prop_map(|(a, b)| Op::Trim(a, b)),
        ]
    }

    fn model_index(m: &[Vec<u8>], i: i64) -> Option<usize> {
        let i = if i < 0 { m.len() as i64 + i } else { i };
        usize::try_from(i).ok().filter(|&i| i < m.len())
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(150))]
        #[test]
        fn behaves_like_a_vecdeque(ops in prop::collection::vec(op(), 0..60)) {
            let mut l = List::new();
            let mut m: Vec<Vec<u8>> = Vec::new();
            for op in ops {
                match op {
                    Op::PushFront(v) => { l.push_front(&v); m.insert(0, v); }
                    Op::PushBack(v) => { l.push_back(&v); m.push(v); }
                    Op::PopFront => {
                        let want = if m.is_empty() { None } else { Some(m.remove(0)) };
                        prop_assert_eq!(l.pop_front(), want);
                    }
                    Op::PopBack => prop_assert_eq!(l.pop_back(), m.pop()),
                    Op::Set(i, v) => {
                        let mi = model_index(&m, i);
                        prop_assert_eq!(l.set(i, &v), mi.is_some());
                        if let Some(mi) = mi { m[mi] = v; }
                    }
                    Op::Insert(before, p, v) => {
                        let at = m.iter().position(|e| *e == p);
                        let got = l.insert(before, &p, &v);
                        if let Some(at) = at {
                            m.insert(if before { at } else { at + 1 }, v);
                            prop_assert_eq!(got, Some(m.len()));
                        } else {
                            prop_assert_eq!(got, None);
                        }
                    }
                    Op::Remove(c, v) => {
                        let mut idx: Vec<usize> = m.iter().enumerate()
                            .filter(|(_, e)| **e == v).map(|(i, _)| i).collect();
                        if c < 0 { idx.reverse(); }
                        if c != 0 { idx.truncate(c.unsigned_abs() as usize); }
                        idx.sort_unstable();
                        for i in idx.iter().rev() { m.remove(*i); }
                        prop_assert_eq!(l.remove(c, &v), idx.len());
                    }
                    Op::Trim(a, b) => {
                        l.trim(a, b);
                        m = match normalize(a, b, m.len()) {
                            None => Vec::new(),
                            Some((s, e)) => m[s..=e].to_vec(),
                        };
                    }
                }
                prop_assert_eq!(l.len(), m.len());
                let all: Vec<Vec<u8>> = l.iter().map(<[u8]>::to_vec).collect();
                prop_assert_eq!(&all, &m);
                for i in -(m.len() as i64) - 1..=m.len() as i64 {
                    prop_assert_eq!(l.index(i), model_index(&m, i).map(|i| &m[i][..]));
                }
                for (a, b) in [(0, -1), (1, 3), (-3, -1), (2, 1)] {
                    let want: Vec<&[u8]> = match normalize(a, b, m.len()) {
                        None => Vec::new(),
                        Some((s, e)) => m[s..=e].iter().map(|v| &v[..]).collect(),
                    };
                    prop_assert_eq!(l.range(a, b), want);
                }
                for (rank, count, maxlen) in [(1i64, 0, 0), (-1, 0, 0), (2, 1, 0), (-2, 2, 3), (1, 1, 2)] {
                    let v = b"a".to_vec();
                    let mut hits: Vec<usize> = m.iter().enumerate().filter(|(_, e)| **e == v).map(|(i, _)| i).collect();
                    let ml = if maxlen == 0 { m.len() } else { maxlen.min(m.len()) };
                    if rank < 0 {
                        hits.retain(|&i| i >= m.len() - ml);
                        hits.reverse();
                    } else {
                        hits.retain(|&i| i < ml);
                    }
                    let skip = rank.unsigned_abs() as usize - 1;
                    let want: Vec<usize> = hits.into_iter().skip(skip).take(if count == 0 { usize::MAX } else { count }).collect();
                    prop_assert_eq!(l.positions(&v, rank, count, maxlen), want);
                }
            }
        }
    }
}
