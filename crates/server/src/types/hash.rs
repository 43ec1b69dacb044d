//! The hash value: field → value, as a listpack while small and a hash
//! table once big (Redis `t_hash.c`, "Hash type API").
//!
//! Most hashes in real datasets are small objects of a few short fields,
//! which a listpack stores in one allocation with two bytes of overhead per
//! string. A hash converts to a table, for good, once it has more than
//! `hash-max-listpack-entries` fields or is handed a field or value longer
//! than `hash-max-listpack-value` bytes; Redis never converts back.
//!
//! The table is an `IndexMap` so that random picks (HRANDFIELD) are O(1) and
//! HSCAN can walk dense indices (see [`super::scan_window`]).

use indexmap::IndexMap;
use rand::Rng;

use super::listpack::{Listpack, Pairs};
use super::{random_indices, scan_window, FastState, LISTPACK_SAFETY_LIMIT};
use crate::util::glob::glob_match;

/// The hash-table encoding.
pub type HashTable = IndexMap<Box<[u8]>, Box<[u8]>, FastState>;

/// A borrowed (field, value) pair.
pub type Pair<'a> = (&'a [u8], &'a [u8]);

/// Conversion thresholds (`hash-max-listpack-entries`/`-value`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HashLimits {
    /// Most fields a listpack-encoded hash may hold.
    pub max_listpack_entries: usize,
    /// Longest field or value (bytes) a listpack-encoded hash may hold.
    pub max_listpack_value: usize,
}

impl Default for HashLimits {
    /// Redis 7.0's defaults: 128 entries, 64 bytes.
    fn default() -> Self {
        Self {
            max_listpack_entries: 128,
            max_listpack_value: 64,
        }
    }
}

/// A hash value. See the module docs.
#[derive(Debug, Clone, PartialEq)]
pub enum Hash {
    /// (field, value) pairs in insertion order.
    Listpack(Listpack),
    /// Boxed so that the common small hash keeps the enum small.
    Table(Box<HashTable>),
}

impl Default for Hash {
    fn default() -> Self {
        Hash::Listpack(Listpack::new())
    }
}

impl Hash {
    /// An empty listpack-encoded hash.
    pub fn new() -> Self {
        Self::default()
    }

    /// Number of fields.
    pub fn len(&self) -> usize {
        match self {
            Hash::Listpack(lp) => lp.len() / 2,
            Hash::Table(t) => t.len(),
        }
    }

    /// Whether the hash has no fields.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// `OBJECT ENCODING` name.
    pub fn encoding_name(&self) -> &'static str {
        match self {
            Hash::Listpack(_) => "listpack",
            Hash::Table(_) => "hashtable",
        }
    }

    /// The value of `field`.
    pub fn get(&self, field: &[u8]) -> Option<&[u8]> {
        match self {
            Hash::Listpack(lp) => lp.find_pair(field).map(|(_, v)| v),
            Hash::Table(t) => t.get(field).map(|v| &**v),
        }
    }

    /// Whether `field` exists.
    pub fn contains(&self, field: &[u8]) -> bool {
        self.get(field).is_some()
    }

    /// Converts to the table encoding (no-op if already there).
    pub fn convert_to_table(&mut self) {
        if let Hash::Listpack(lp) = self {
            let mut t = HashTable::with_capacity_and_hasher(lp.len() / 2, FastState::new());
            for (f, v) in lp.pairs() {
                t.insert(f.into(), v.into());
            }
            *self = Hash::Table(Box::new(t));
        }
    }

    /// Redis's `hashTypeTryConversion` for one (field, value) about to be
    /// written: a long string, or a listpack that would pass the safety
    /// limit, converts before the write.
    fn convert_for(&mut self, field: &[u8], value: &[u8], limits: &HashLimits) {
        if let Hash::Listpack(lp) = self {
            if field.len() > limits.max_listpack_value
                || value.len() > limits.max_listpack_value
                || lp.bytes_len() + field.len() + value.len() > LISTPACK_SAFETY_LIMIT
            {
                self.convert_to_table();
            }
        }
    }

    /// Sets `field` to `value`; returns true if the field is new (HSET's
    /// count). Converts to a table as Redis does: before the write for long
    /// strings, after it once there are more than `max_listpack_entries`
    /// fields.
    pub fn set(&mut self, field: &[u8], value: &[u8], limits: &HashLimits) -> bool {
        self.convert_for(field, value, limits);
        let created = match self {
            Hash::Listpack(lp) => match lp.find_pair(field) {
                Some((i, _)) => {
                    lp.replace(i + 1, value);
                    false
                }
                None => {
                    lp.push(field);
                    lp.push(value);
                    true
                }
            },
            Hash::Table(t) => match t.get_mut(field) {
                Some(v) => {
                    *v = value.into();
                    false
                }
                None => {
                    t.insert(field.into(), value.into());
                    true
                }
            },
        };
        if self.len() > limits.max_listpack_entries {
            self.convert_to_table();
        }
        created
    }

    /// HSETNX: sets `field` only if absent; returns true if it was set.
    /// Like Redis, the size check may convert the encoding even when the
    /// field exists.
    pub fn set_nx(&mut self, field: &[u8], value: &[u8], limits: &HashLimits) -> bool {
        self.convert_for(field, value, limits);
        if self.contains(field) {
            return false;
        }
        self.set(field, value, limits)
    }

    /// Removes `field`; returns whether it existed.
    pub fn remove(&mut self, field: &[u8]) -> bool {
        match self {
            Hash::Listpack(lp) => match lp.find_pair(field) {
                Some((i, _)) => {
                    lp.remove_range(i, 2);
                    true
                }
                None => false,
            },
            Hash::Table(t) => t.swap_remove(field).is_some(),
        }
    }

    /// All (field, value) pairs, in encoding order.
    pub fn iter(&self) -> Iter<'_> {
        match self {
            Hash::Listpack(lp) => Iter::Listpack(lp.pairs()),
            Hash::Table(t) => Iter::Table(t.iter()),
        }
    }

    /// The pair at position `i` in encoding order: O(1) for a table, O(n)
    /// for a listpack. With `len`, enough to pick random fields.
    pub fn get_index(&self, i: usize) -> Option<(&[u8], &[u8])> {
        match self {
            Hash::Listpack(lp) => lp.pairs().nth(i),
            Hash::Table(t) => t.get_index(i).map(|(f, v)| (&**f, &**v)),
        }
    }

    /// A uniformly random pair (HRANDFIELD without a count).
    pub fn random_pair(&self, rng: &mut impl Rng) -> Option<(&[u8], &[u8])> {
        match self.len() {
            0 => None,
            n => self.get_index(rng.gen_range(0..n)),
        }
    }

    /// HRANDFIELD with a count: `distinct` for a positive count (all pairs
    /// when `count >= len`, else `count` different ones), repetitions
    /// allowed for a negative one. See [`super::random_indices`].
    pub fn random_pairs(&self, count: usize, distinct: bool, rng: &mut impl Rng) -> Vec<Pair<'_>> {
        let picks = random_indices(self.len(), count, distinct, rng);
        match self {
            Hash::Listpack(lp) => {
                let all: Vec<_> = lp.pairs().collect();
                picks.into_iter().map(|i| all[i]).collect()
            }
            Hash::Table(t) => picks
                .into_iter()
                .filter_map(|i| t.get_index(i))
                .map(|(f, v)| (&**f, &**v))
                .collect(),
        }
    }

    /// One HSCAN step: (next cursor, pairs whose field matches `pattern`).
    /// A listpack returns everything at once with cursor 0, as in Redis.
    pub fn scan(&self, cursor: u64, count: usize, pattern: Option<&[u8]>) -> (u64, Vec<Pair<'_>>) {
        let wanted = |f: &[u8]| pattern.is_none_or(|p| glob_match(p, f, false));
        match self {
            Hash::Listpack(lp) => (0, lp.pairs().filter(|(f, _)| wanted(f)).collect()),
            Hash::Table(t) => {
                let (window, next) = scan_window(t.len(), cursor, count);
                let items = window
                    .rev()
                    .filter_map(|i| t.get_index(i))
                    .map(|(f, v)| (&**f, &**v))
                    .filter(|(f, _)| wanted(f))
                    .collect();
                (next, items)
            }
        }
    }

    /// Estimated heap bytes (MEMORY USAGE), excluding the key and the
    /// enclosing value.
    pub fn memory_usage(&self) -> usize {
        match self {
            Hash::Listpack(lp) => lp.allocated_bytes(),
            Hash::Table(t) => {
                // Entries vector (hash + two boxes), index table (~usize +
                // control byte per slot), and the strings themselves.
                let slots = t.capacity() * 8 / 7 + 1;
                std::mem::size_of::<HashTable>()
                    + t.capacity() * (8 + 16 + 16)
                    + slots * 9
                    + t.iter().map(|(f, v)| f.len() + v.len()).sum::<usize>()
            }
        }
    }
}

/// Iterator over a [`Hash`]'s (field, value) pairs.
pub enum Iter<'a> {
    /// Listpack encoding.
    Listpack(Pairs<'a>),
    /// Table encoding.
    Table(indexmap::map::Iter<'a, Box<[u8]>, Box<[u8]>>),
}

impl<'a> Iterator for Iter<'a> {
    type Item = (&'a [u8], &'a [u8]);

    fn next(&mut self) -> Option<Self::Item> {
        match self {
            Iter::Listpack(p) => p.next(),
            Iter::Table(t) => t.next().map(|(f, v)| (&**f, &**v)),
        }
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        match self {
            Iter::Listpack(p) => p.size_hint(),
            Iter::Table(t) => t.size_hint(),
        }
    }
}

impl ExactSizeIterator for Iter<'_> {}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::collections::{BTreeMap, HashSet};

    const SMALL: HashLimits = HashLimits {
        max_listpack_entries: 4,
        max_listpack_value: 8,
    };

    #[test]
    fn set_get_remove() {
        let mut h = Hash::new();
        let lim = HashLimits::default();
        assert!(h.set(b"a", b"1", &lim));
        assert!(!h.set(b"a", b"2", &lim));
        assert!(h.set(b"b", b"3", &lim));
        assert_eq!(h.get(b"a"), Some(&b"2"[..]));
        assert_eq!(h.len(), 2);
        assert!(!h.set_nx(b"a", b"x", &lim));
        assert!(h.set_nx(b"c", b"x", &lim));
        assert!(h.remove(b"a"));
        assert!(!h.remove(b"a"));
        assert_eq!(h.get(b"a"), None);
        assert_eq!(h.encoding_name(), "listpack");
        let pairs: Vec<_> = h.iter().collect();
        assert_eq!(pairs, vec![(&b"b"[..], &b"3"[..]), (&b"c"[..], &b"x"[..])]);
    }

    #[test]
    fn converts_on_entries() {
        let mut h = Hash::new();
        for i in 0..4 {
            h.set(format!("f{i}").as_bytes(), b"v", &SMALL);
        }
        assert_eq!(h.encoding_name(), "listpack");
        h.set(b"f4", b"v", &SMALL);
        assert_eq!(h.encoding_name(), "hashtable");
        for i in 0..5 {
            h.remove(format!("f{i}").as_bytes());
        }
        assert_eq!(h.encoding_name(), "hashtable", "never converts back");
    }

    #[test]
    fn converts_on_long_strings_even_for_existing_fields() {
        let mut h = Hash::new();
        h.set(b"f", b"v", &SMALL);
        assert!(!h.set_nx(b"f", b"123456789", &SMALL));
        assert_eq!(h.encoding_name(), "hashtable");
        let mut h = Hash::new();
        h.set(b"123456789", b"v", &SMALL);
        assert_eq!(h.encoding_name(), "hashtable");
        let mut h = Hash::new();
        h.set(b"12345678", b"12345678", &SMALL);
        assert_eq!(h.encoding_name(), "listpack", "the limit is inclusive");
    }

    #[test]
    fn small_hash_memory() {
        let mut h = Hash::new();
        for i in 0..5 {
            h.set(
                format!("field{i}").as_bytes(),
                format!("val{i}").as_bytes(),
                &HashLimits::default(),
            );
        }
        // 5 * (6 + 2 + 4 + 2) bytes and a 4-byte count in one buffer.
        assert_eq!(h.memory_usage(), 74);
        assert!(std::mem::size_of::<Hash>() <= 32);
    }

    #[test]
    fn scan_listpack_returns_everything() {
        let mut h = Hash::new();
        h.set(b"a1", b"x", &SMALL);
        h.set(b"b1", b"y", &SMALL);
        let (next, items) = h.scan(0, 1, None);
        assert_eq!(next, 0);
        assert_eq!(items.len(), 2);
        let (_, items) = h.scan(0, 1, Some(b"a*"));
        assert_eq!(items, vec![(&b"a1"[..], &b"x"[..])]);
    }

    #[test]
    fn scan_table_survives_deletes() {
        let lim = HashLimits::default();
        let mut h = Hash::new();
        for i in 0..1000 {
            h.set(format!("{i}").as_bytes(), b"v", &lim);
        }
        let mut seen = HashSet::new();
        let mut cursor = 0;
        let mut round = 0;
        loop {
            let (next, items) = h.scan(cursor, 10, None);
            seen.extend(items.iter().map(|(f, _)| f.to_vec()));
            round += 1;
            if round == 5 {
                for i in (100..1000).step_by(3) {
                    h.remove(format!("{i}").as_bytes());
                }
            }
            if next == 0 {
                break;
            }
            cursor = next;
        }
        for i in 0..1000 {
            if i < 100 || (i - 100) % 3 != 0 {
                assert!(seen.contains(format!("{i}").as_bytes()), "missing {i}");
            }
        }
    }

    #[test]
    fn random_pairs() {
        let mut rng = rand::thread_rng();
        for lim in [SMALL, HashLimits::default()] {
            let mut h = Hash::new();
            for i in 0..6 {
                h.set(format!("f{i}").as_bytes(), b"v", &lim);
            }
            assert_eq!(h.random_pairs(10, true, &mut rng).len(), 6);
            let d = h.random_pairs(4, true, &mut rng);
            let fields: HashSet<_> = d.iter().map(|p| p.0).collect();
            assert_eq!(fields.len(), 4);
            assert_eq!(h.random_pairs(20, false, &mut rng).len(), 20);
            assert!(h.random_pair(&mut rng).is_some());
            assert_eq!(h.get_index(6), None);
        }
        assert!(Hash::new().random_pair(&mut rng).is_none());
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(100))]
        #[test]
        fn behaves_like_a_map(
            ops in prop::collection::vec(
                (0u8..3, 0u8..12, prop::collection::vec(any::<u8>(), 0..12)),
                0..80,
            )
        ) {
            let mut h = Hash::new();
            let mut m: BTreeMap<Vec<u8>, Vec<u8>> = BTreeMap::new();
            let mut converted = false;
            for (op, f, v) in ops {
                let field = vec![b'f', f];
                match op {
                    0 => prop_assert_eq!(h.set(&field, &v, &SMALL), m.insert(field, v).is_none()),
                    1 => {
                        let absent = !m.contains_key(&field);
                        prop_assert_eq!(h.set_nx(&field, &v, &SMALL), absent);
                        if absent { m.insert(field, v); }
                    }
                    _ => prop_assert_eq!(h.remove(&field), m.remove(&field).is_some()),
                }
                prop_assert_eq!(h.len(), m.len());
                let mut got: Vec<_> = h.iter().map(|(f, v)| (f.to_vec(), v.to_vec())).collect();
                got.sort();
                let want: Vec<_> = m.clone().into_iter().collect();
                prop_assert_eq!(got, want);
                for (f, v) in &m {
                    prop_assert_eq!(h.get(f), Some(&v[..]));
                }
                // Once a table, always a table; a listpack stays within limits.
                if converted { prop_assert_eq!(h.encoding_name(), "hashtable"); }
                converted = h.encoding_name() == "hashtable";
                if !converted {
                    prop_assert!(h.len() <= SMALL.max_listpack_entries);
                    prop_assert!(h.iter().all(|(f, v)| f.len() <= 8 && v.len() <= 8));
                }
            }
        }
    }
}
