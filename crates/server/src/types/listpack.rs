//! A compact sequence of byte strings in one contiguous buffer.
//!
//! Small hashes and sorted sets are by far the most numerous values in a
//! typical Redis dataset, which is why Redis keeps them in a listpack: one
//! allocation with a byte or two of overhead per entry, instead of a node and
//! a separate string allocation per element. This is our own format with the
//! same shape (not Redis's byte layout; RDB conversion lives in the rdb
//! crate):
//!
//! ```text
//! entry := len:varint  data:[u8; len]  backlen:rev-varint
//! ```
//!
//! `len` is LEB128; `backlen` holds the same number with its bytes in
//! reverse order, so an entry can be stepped over from either end. An entry
//! under 128 bytes costs 2 bytes of overhead. Access by index walks from the
//! nearer end, so `get(i)` is O(n): fine for the few hundred entries a
//! listpack is allowed to grow to before its owner converts it.

use std::fmt;

/// A sequence of byte strings packed into one buffer. See the module docs.
///
/// The buffer is an exactly-sized `Box<[u8]>` whose first 4 bytes hold the
/// entry count (none while empty): 16 bytes inline, so a small hash or
/// sorted set fits in a `Value` with no box of its own. Like Redis's
/// listpack, every change reallocates, which the allocator does in place
/// within a size class.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Listpack {
    buf: Box<[u8]>,
}

/// Bytes of the count header.
const HDR: usize = 4;

/// Bytes the LEB128 encoding of `n` takes.
fn varint_size(mut n: usize) -> usize {
    let mut size = 1;
    while n >= 0x80 {
        n >>= 7;
        size += 1;
    }
    size
}

/// Encodes `n` as LEB128 into `out`, returning the byte count.
fn encode_varint(mut n: usize, out: &mut [u8; 10]) -> usize {
    let mut i = 0;
    loop {
        let byte = (n & 0x7f) as u8;
        n >>= 7;
        if n == 0 {
            out[i] = byte;
            return i + 1;
        }
        out[i] = byte | 0x80;
        i += 1;
    }
}

/// Reads a LEB128 number starting at `buf[pos]`: (value, bytes read).
fn read_varint(buf: &[u8], pos: usize) -> (usize, usize) {
    let mut n = 0usize;
    let mut shift = 0;
    let mut i = pos;
    loop {
        let byte = buf[i];
        n |= usize::from(byte & 0x7f) << shift;
        i += 1;
        if byte & 0x80 == 0 {
            return (n, i - pos);
        }
        shift += 7;
    }
}

/// Reads a reversed LEB128 number that ends just before `buf[end]`.
fn read_varint_back(buf: &[u8], end: usize) -> usize {
    let mut n = 0usize;
    let mut shift = 0;
    let mut i = end;
    loop {
        i -= 1;
        let byte = buf[i];
        n |= usize::from(byte & 0x7f) << shift;
        if byte & 0x80 == 0 {
            return n;
        }
        shift += 7;
    }
}

/// Total encoded size of an entry holding `data_len` bytes.
pub fn entry_size(data_len: usize) -> usize {
    2 * varint_size(data_len) + data_len
}

impl Listpack {
    /// An empty listpack; allocates nothing until the first push.
    pub fn new() -> Self {
        Self::default()
    }

    /// Number of entries.
    pub fn len(&self) -> usize {
        match self.buf.get(..HDR) {
            Some(h) => u32::from_le_bytes([h[0], h[1], h[2], h[3]]) as usize,
            None => 0,
        }
    }

    /// Whether there are no entries.
    pub fn is_empty(&self) -> bool {
        self.buf.is_empty()
    }

    /// Offset of the first entry.
    fn start(&self) -> usize {
        if self.buf.is_empty() {
            0
        } else {
            HDR
        }
    }

    /// Size of the encoded entries in bytes (without the count header).
    pub fn bytes_len(&self) -> usize {
        self.buf.len() - self.start()
    }

    /// Heap bytes held.
    pub fn allocated_bytes(&self) -> usize {
        self.buf.len()
    }

    /// Change the buffer as a `Vec` (with its header, created when empty)
    /// and the count; an empty result frees the buffer.
    fn edit<R>(&mut self, f: impl FnOnce(&mut Vec<u8>, &mut usize) -> R) -> R {
        let mut n = self.len();
        let mut v = std::mem::take(&mut self.buf).into_vec();
        if v.is_empty() {
            v.extend_from_slice(&[0; HDR]);
        }
        let r = f(&mut v, &mut n);
        if n == 0 {
            v = Vec::new();
        } else {
            v[..HDR].copy_from_slice(&(n as u32).to_le_bytes());
        }
        self.buf = v.into_boxed_slice();
        r
    }

    /// (data start, data len, next entry offset) of the entry at `off`.
    fn entry_at(&self, off: usize) -> (usize, usize, usize) {
        let (len, hdr) = read_varint(&self.buf, off);
        let start = off + hdr;
        (start, len, start + len + hdr)
    }

    /// Offset of the entry that ends at `end`.
    fn entry_before(&self, end: usize) -> usize {
        let len = read_varint_back(&self.buf, end);
        end - entry_size(len)
    }

    /// Byte offset of entry `i` (`i == len` gives the end of the buffer),
    /// walking from whichever end is nearer.
    fn offset_of(&self, i: usize) -> usize {
        assert!(i <= self.len(), "listpack index {i} out of range");
        if i <= self.len() / 2 {
            let mut off = self.start();
            for _ in 0..i {
                off = self.entry_at(off).2;
            }
            off
        } else {
            let mut off = self.buf.len();
            for _ in i..self.len() {
                off = self.entry_before(off);
            }
            off
        }
    }

    fn data(&self, off: usize) -> &[u8] {
        let (start, len, _) = self.entry_at(off);
        &self.buf[start..start + len]
    }

    /// The entry at index `i`, if any.
    pub fn get(&self, i: usize) -> Option<&[u8]> {
        (i < self.len()).then(|| self.data(self.offset_of(i)))
    }

    /// The first entry.
    pub fn first(&self) -> Option<&[u8]> {
        (!self.is_empty()).then(|| self.data(HDR))
    }

    /// The last entry.
    pub fn last(&self) -> Option<&[u8]> {
        (!self.is_empty()).then(|| self.data(self.entry_before(self.buf.len())))
    }

    /// Iterates over all entries, from either end.
    pub fn iter(&self) -> Iter<'_> {
        Iter {
            buf: &self.buf,
            front: self.start(),
            back: self.buf.len(),
            remaining: self.len(),
        }
    }

    /// Iterates over the entries from index `i` on (empty if `i >= len`).
    pub fn iter_from(&self, i: usize) -> Iter<'_> {
        let i = i.min(self.len());
        Iter {
            buf: &self.buf,
            front: self.offset_of(i),
            back: self.buf.len(),
            remaining: self.len() - i,
        }
    }

    /// Iterates over consecutive (even, odd) entry pairs: a hash's
    /// (field, value) or a sorted set's (member, score).
    pub fn pairs(&self) -> Pairs<'_> {
        Pairs { inner: self.iter() }
    }

    fn insert_at_offset(&mut self, off: usize, v: &[u8]) {
        let off = off.max(HDR);
        let mut hdr = [0u8; 10];
        let n = encode_varint(v.len(), &mut hdr);
        let mut back = hdr;
        back[..n].reverse();
        self.edit(|buf, count| {
            buf.reserve_exact(2 * n + v.len());
            buf.splice(
                off..off,
                hdr[..n].iter().chain(v).chain(back[..n].iter()).copied(),
            );
            *count += 1;
        });
    }

    /// Appends an entry.
    pub fn push(&mut self, v: &[u8]) {
        self.insert_at_offset(self.buf.len(), v);
    }

    /// Prepends an entry.
    pub fn push_front(&mut self, v: &[u8]) {
        self.insert_at_offset(HDR, v);
    }

    /// Inserts an entry so that it gets index `i`.
    ///
    /// # Panics
    /// If `i > len`.
    pub fn insert(&mut self, i: usize, v: &[u8]) {
        let off = self.offset_of(i);
        self.insert_at_offset(off, v);
    }

    /// Removes `count` entries starting at index `i` (clamped to the end).
    pub fn remove_range(&mut self, i: usize, count: usize) {
        let len = self.len();
        if count == 0 || i >= len {
            return;
        }
        let count = count.min(len - i);
        let start = self.offset_of(i);
        let end = if i + count == len {
            self.buf.len()
        } else {
            let mut off = start;
            for _ in 0..count {
                off = self.entry_at(off).2;
            }
            off
        };
        self.edit(|buf, n| {
            buf.drain(start..end);
            *n -= count;
        });
    }

    /// Removes the entry at index `i`.
    ///
    /// # Panics
    /// If `i >= len`.
    pub fn remove(&mut self, i: usize) {
        assert!(i < self.len(), "listpack index {i} out of range");
        self.remove_range(i, 1);
    }

    /// Replaces the entry at index `i`.
    ///
    /// # Panics
    /// If `i >= len`.
    pub fn replace(&mut self, i: usize, v: &[u8]) {
        assert!(i < self.len(), "listpack index {i} out of range");
        let off = self.offset_of(i);
        let (start, len, next) = self.entry_at(off);
        if len == v.len() {
            self.buf[start..start + len].copy_from_slice(v);
            return;
        }
        let mut hdr = [0u8; 10];
        let n = encode_varint(v.len(), &mut hdr);
        let mut back = hdr;
        back[..n].reverse();
        self.edit(|buf, _| {
            buf.splice(
                off..next,
                hdr[..n].iter().chain(v).chain(back[..n].iter()).copied(),
            );
        });
    }

    /// Removes and returns the first entry.
    pub fn pop_front(&mut self) -> Option<Vec<u8>> {
        let v = self.first()?.to_vec();
        self.remove_range(0, 1);
        Some(v)
    }

    /// Removes and returns the last entry.
    pub fn pop_back(&mut self) -> Option<Vec<u8>> {
        if self.is_empty() {
            return None;
        }
        let off = self.entry_before(self.buf.len());
        let v = self.data(off).to_vec();
        self.edit(|buf, n| {
            buf.truncate(off);
            *n -= 1;
        });
        Some(v)
    }

    /// Index of the first entry equal to `v`.
    pub fn find(&self, v: &[u8]) -> Option<usize> {
        self.iter().position(|e| e == v)
    }

    /// Index of the first even-indexed entry equal to `key` (the key of a
    /// pair), with the entry that follows it.
    pub fn find_pair(&self, key: &[u8]) -> Option<(usize, &[u8])> {
        self.pairs()
            .enumerate()
            .find(|(_, (k, _))| *k == key)
            .map(|(n, (_, v))| (2 * n, v))
    }

    /// Splits off the entries from index `i` on into a new listpack.
    pub fn split_off(&mut self, i: usize) -> Listpack {
        let len = self.len();
        let i = i.min(len);
        if i == len {
            return Listpack::new();
        }
        let off = self.offset_of(i);
        let mut tail = Listpack::new();
        tail.edit(|buf, n| {
            buf.extend_from_slice(&self.buf[off..]);
            *n = len - i;
        });
        self.edit(|buf, n| {
            buf.truncate(off);
            *n = i;
        });
        tail
    }

    /// Moves all entries of `other` to the end of `self`.
    pub fn append(&mut self, other: &mut Listpack) {
        if other.is_empty() {
            return;
        }
        let more = other.len();
        let entries = &other.buf[HDR..];
        self.edit(|buf, n| {
            buf.extend_from_slice(entries);
            *n += more;
        });
        other.buf = Box::default();
    }

    /// Keeps only the entries for which `keep` returns true; returns how many
    /// were removed.
    pub fn retain(&mut self, mut keep: impl FnMut(&[u8]) -> bool) -> usize {
        let len = self.len();
        let mut out = Vec::with_capacity(self.buf.len());
        out.extend_from_slice(&[0; HDR]);
        let mut kept = 0;
        let mut off = self.start();
        while off < self.buf.len() {
            let (start, dlen, next) = self.entry_at(off);
            if keep(&self.buf[start..start + dlen]) {
                out.extend_from_slice(&self.buf[off..next]);
                kept += 1;
            }
            off = next;
        }
        let removed = len - kept;
        if removed > 0 {
            if kept == 0 {
                self.buf = Box::default();
            } else {
                out[..HDR].copy_from_slice(&(kept as u32).to_le_bytes());
                self.buf = out.into_boxed_slice();
            }
        }
        removed
    }
}

impl<'a> FromIterator<&'a [u8]> for Listpack {
    fn from_iter<I: IntoIterator<Item = &'a [u8]>>(iter: I) -> Self {
        let mut lp = Listpack::new();
        for v in iter {
            lp.push(v);
        }
        lp
    }
}

impl fmt::Debug for Listpack {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list()
            .entries(self.iter().map(String::from_utf8_lossy))
            .finish()
    }
}

impl<'a> IntoIterator for &'a Listpack {
    type Item = &'a [u8];
    type IntoIter = Iter<'a>;
    fn into_iter(self) -> Iter<'a> {
        self.iter()
    }
}

/// Iterator over a [`Listpack`]'s entries.
#[derive(Clone)]
pub struct Iter<'a> {
    buf: &'a [u8],
    front: usize,
    back: usize,
    remaining: usize,
}

impl<'a> Iterator for Iter<'a> {
    type Item = &'a [u8];

    fn next(&mut self) -> Option<&'a [u8]> {
        if self.remaining == 0 {
            return None;
        }
        let (len, hdr) = read_varint(self.buf, self.front);
        let start = self.front + hdr;
        self.front = start + len + hdr;
        self.remaining -= 1;
        Some(&self.buf[start..start + len])
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.remaining, Some(self.remaining))
    }
}

impl DoubleEndedIterator for Iter<'_> {
    fn next_back(&mut self) -> Option<Self::Item> {
        if self.remaining == 0 {
            return None;
        }
        let len = read_varint_back(self.buf, self.back);
        let hdr = varint_size(len);
        let start = self.back - hdr - len;
        self.back = start - hdr;
        self.remaining -= 1;
        Some(&self.buf[start..start + len])
    }
}

impl ExactSizeIterator for Iter<'_> {}

/// Iterator over a [`Listpack`]'s entries taken two at a time.
#[derive(Clone)]
pub struct Pairs<'a> {
    inner: Iter<'a>,
}

impl<'a> Iterator for Pairs<'a> {
    type Item = (&'a [u8], &'a [u8]);

    fn next(&mut self) -> Option<Self::Item> {
        let k = self.inner.next()?;
        let v = self.inner.next()?;
        Some((k, v))
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let n = self.inner.remaining / 2;
        (n, Some(n))
    }
}

impl DoubleEndedIterator for Pairs<'_> {
    fn next_back(&mut self) -> Option<Self::Item> {
        let v = self.inner.next_back()?;
        let k = self.inner.next_back()?;
        Some((k, v))
    }
}

impl ExactSizeIterator for Pairs<'_> {}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn model(lp: &Listpack) -> Vec<Vec<u8>> {
        lp.iter().map(<[u8]>::to_vec).collect()
    }

    #[test]
    fn basics() {
        let mut lp = Listpack::new();
        assert!(lp.is_empty());
        assert_eq!(lp.get(0), None);
        assert_eq!(lp.pop_back(), None);
        lp.push(b"b");
        lp.push_front(b"a");
        lp.push(b"");
        lp.insert(2, &[7u8; 300]);
        assert_eq!(lp.len(), 4);
        assert_eq!(lp.get(0), Some(&b"a"[..]));
        assert_eq!(lp.get(1), Some(&b"b"[..]));
        assert_eq!(lp.get(2), Some(&[7u8; 300][..]));
        assert_eq!(lp.get(3), Some(&b""[..]));
        assert_eq!(lp.last(), Some(&b""[..]));
        assert_eq!(lp.bytes_len(), 3 + 3 + (300 + 4) + 2);
        assert_eq!(lp.find(b"b"), Some(1));
        assert_eq!(lp.find(b"zz"), None);
        let rev: Vec<_> = lp.iter().rev().collect();
        assert_eq!(rev[0], b"");
        assert_eq!(rev[3], b"a");
        lp.replace(2, b"c");
        assert_eq!(
            model(&lp),
            vec![b"a".to_vec(), b"b".to_vec(), b"c".to_vec(), vec![]]
        );
        assert_eq!(lp.pop_front(), Some(b"a".to_vec()));
        assert_eq!(lp.pop_back(), Some(vec![]));
        assert_eq!(model(&lp), vec![b"b".to_vec(), b"c".to_vec()]);
    }

    #[test]
    fn pairs_and_find_pair() {
        let lp: Listpack = [&b"f1"[..], b"v1", b"v1", b"f1", b"f2", b"v2"]
            .into_iter()
            .collect();
        assert_eq!(lp.find_pair(b"f1"), Some((0, &b"v1"[..])));
        assert_eq!(lp.find_pair(b"v1"), Some((2, &b"f1"[..])));
        assert_eq!(lp.find_pair(b"v2"), None, "values are not keys");
        let back: Vec<_> = lp.pairs().rev().collect();
        assert_eq!(back[0], (&b"f2"[..], &b"v2"[..]));
        assert_eq!(lp.pairs().len(), 3);
    }

    #[test]
    fn small_hash_is_compact() {
        let mut lp = Listpack::new();
        for i in 0..5 {
            lp.push(format!("field{i}").as_bytes());
            lp.push(format!("value{i}").as_bytes());
        }
        // 10 entries of 6 bytes, 2 bytes of overhead each, one allocation.
        assert_eq!(lp.bytes_len(), 80);
        assert!(lp.allocated_bytes() <= 96);
    }

    #[derive(Debug, Clone)]
    enum Op {
        Push(Vec<u8>),
        PushFront(Vec<u8>),
        Insert(usize, Vec<u8>),
        Remove(usize),
        RemoveRange(usize, usize),
        Replace(usize, Vec<u8>),
        PopFront,
        PopBack,
        SplitAppend(usize),
        Retain(u8),
    }

    fn bytes() -> impl Strategy<Value = Vec<u8>> {
        // Lengths around the 1-, 2- and 3-byte varint boundaries.
        prop_oneof![
            12 => prop::collection::vec(any::<u8>(), 0..4),
            4 => prop::collection::vec(any::<u8>(), 126..130),
            1 => prop::collection::vec(any::<u8>(), 16_383..16_385),
        ]
    }

    fn op() -> impl Strategy<Value = Op> {
        prop_oneof![
            bytes().prop_map(Op::Push),
            bytes().prop_map(Op::PushFront),
            (any::<usize>(), bytes()).prop_map(|(i, v)| Op::Insert(i, v)),
            any::<usize>().prop_map(Op::Remove),
            (any::<usize>(), 0..4usize).prop_map(|(i, n)| Op::RemoveRange(i, n)),
            (any::<usize>(), bytes()).prop_map(|(i, v)| Op::Replace(i, v)),
            Just(Op::PopFront),
            Just(Op::PopBack),
            any::<usize>().prop_map(Op::SplitAppend),
            any::<u8>().prop_map(Op::Retain),
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(128))]
        #[test]
        fn behaves_like_a_vec(ops in prop::collection::vec(op(), 0..40)) {
            let mut lp = Listpack::new();
            let mut m: Vec<Vec<u8>> = Vec::new();
            for op in ops {
                match op {
                    Op::Push(v) => { lp.push(&v); m.push(v); }
                    Op::PushFront(v) => { lp.push_front(&v); m.insert(0, v); }
                    Op::Insert(i, v) => {
                        let i = i % (m.len() + 1);
                        lp.insert(i, &v);
                        m.insert(i, v);
                    }
                    Op::Remove(i) if !m.is_empty() => {
                        let i = i % m.len();
                        lp.remove(i);
                        m.remove(i);
                    }
                    Op::Remove(_) => {}
                    Op::RemoveRange(i, n) => {
                        let i = i % (m.len() + 1);
                        lp.remove_range(i, n);
                        let end = (i + n).min(m.len());
                        m.drain(i..end);
                    }
                    Op::Replace(i, v) if !m.is_empty() => {
                        let i = i % m.len();
                        lp.replace(i, &v);
                        m[i] = v;
                    }
                    Op::Replace(..) => {}
                    Op::PopFront => {
                        let want = if m.is_empty() { None } else { Some(m.remove(0)) };
                        prop_assert_eq!(lp.pop_front(), want);
                    }
                    Op::PopBack => prop_assert_eq!(lp.pop_back(), m.pop()),
                    Op::SplitAppend(i) => {
                        let i = i % (m.len() + 1);
                        let mut tail = lp.split_off(i);
                        prop_assert_eq!(lp.len(), i);
                        prop_assert_eq!(model(&tail), m[i..].to_vec());
                        lp.append(&mut tail);
                        prop_assert!(tail.is_empty());
                    }
                    Op::Retain(b) => {
                        let removed = lp.retain(|e| e.first() != Some(&b));
                        let before = m.len();
                        m.retain(|e| e.first() != Some(&b));
                        prop_assert_eq!(removed, before - m.len());
                    }
                }
                prop_assert_eq!(lp.len(), m.len());
                prop_assert_eq!(model(&lp), m.clone());
                let rev: Vec<Vec<u8>> = lp.iter().rev().map(<[u8]>::to_vec).collect();
                let mut mrev = m.clone();
                mrev.reverse();
                prop_assert_eq!(rev, mrev);
                for (i, v) in m.iter().enumerate() {
                    prop_assert_eq!(lp.get(i), Some(&v[..]));
                    prop_assert_eq!(lp.iter_from(i).next(), Some(&v[..]));
                }
                prop_assert_eq!(lp.get(m.len()), None);
                let size: usize = m.iter().map(|v| entry_size(v.len())).sum();
                prop_assert_eq!(lp.bytes_len(), size);
            }
        }
    }
}
