//! The set value: an intset while every member is a small canonical integer,
//! a hash table otherwise (Redis `t_set.c`, "Set type API"; Redis 7.0 has
//! no listpack sets).
//!
//! Sets of ids are common, and an intset keeps them as a sorted array of
//! 2-, 4- or 8-byte integers, widened for the whole array when a wider
//! value arrives (Redis `intset.c`). Only strings that `string2ll` accepts
//! (see [`parse_i64`]) may live in it, so that members read back byte for
//! byte: "01" or "+1" force the table. A set converts, for good, on the
//! first other member or once it has more than `set-max-intset-entries`.

use std::borrow::Cow;

use indexmap::IndexSet;
use rand::Rng;

use super::{random_indices, scan_window, FastState};
use crate::util::glob::glob_match;
use crate::util::num::parse_i64;

/// The hash-table encoding.
pub type SetTable = IndexSet<Box<[u8]>, FastState>;

/// Conversion threshold (`set-max-intset-entries`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SetLimits {
    /// Most members an intset may hold.
    pub max_intset_entries: usize,
}

impl Default for SetLimits {
    /// Redis 7.0's default: 512.
    fn default() -> Self {
        Self {
            max_intset_entries: 512,
        }
    }
}

/// A sorted array of distinct integers stored at the narrowest width that
/// holds them all (Redis's intset).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IntSet {
    /// Every value fits in `i16`.
    I16(Vec<i16>),
    /// Every value fits in `i32`, some not in `i16`.
    I32(Vec<i32>),
    /// Some value needs 64 bits.
    I64(Vec<i64>),
}

impl Default for IntSet {
    fn default() -> Self {
        IntSet::I16(Vec::new())
    }
}

fn search<T: Copy + Into<i64>>(v: &[T], x: i64) -> Result<usize, usize> {
    v.binary_search_by(|e| (*e).into().cmp(&x))
}

fn widen<T: Copy + Into<U>, U>(v: &[T]) -> Vec<U> {
    let mut out = Vec::with_capacity(v.len() + 1);
    out.extend(v.iter().map(|&e| e.into()));
    out
}

fn insert_exact<T>(v: &mut Vec<T>, at: usize, x: T) {
    v.reserve_exact(1);
    v.insert(at, x);
}

impl IntSet {
    /// An empty intset.
    pub fn new() -> Self {
        Self::default()
    }

    /// Number of values.
    pub fn len(&self) -> usize {
        match self {
            IntSet::I16(v) => v.len(),
            IntSet::I32(v) => v.len(),
            IntSet::I64(v) => v.len(),
        }
    }

    /// Whether the set is empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The `i`-th smallest value.
    pub fn get(&self, i: usize) -> Option<i64> {
        match self {
            IntSet::I16(v) => v.get(i).map(|&x| x.into()),
            IntSet::I32(v) => v.get(i).map(|&x| x.into()),
            IntSet::I64(v) => v.get(i).copied(),
        }
    }

    fn find(&self, x: i64) -> Result<usize, usize> {
        match self {
            IntSet::I16(v) => match i16::try_from(x) {
                Ok(_) => search(v, x),
                Err(_) => Err(if x < 0 { 0 } else { v.len() }),
            },
            IntSet::I32(v) => match i32::try_from(x) {
                Ok(_) => search(v, x),
                Err(_) => Err(if x < 0 { 0 } else { v.len() }),
            },
            IntSet::I64(v) => search(v, x),
        }
    }

    /// Whether `x` is present.
    pub fn contains(&self, x: i64) -> bool {
        self.find(x).is_ok()
    }

    /// Inserts `x`; returns whether it was new. Widens the whole array when
    /// `x` does not fit the current width.
    pub fn insert(&mut self, x: i64) -> bool {
        let at = match self.find(x) {
            Ok(_) => return false,
            Err(at) => at,
        };
        match self {
            IntSet::I16(v) => {
                if let Ok(y) = i16::try_from(x) {
                    insert_exact(v, at, y);
                } else if let Ok(y) = i32::try_from(x) {
                    let mut w: Vec<i32> = widen(v);
                    w.insert(at, y);
                    *self = IntSet::I32(w);
                } else {
                    let mut w: Vec<i64> = widen(v);
                    w.insert(at, x);
                    *self = IntSet::I64(w);
                }
            }
            IntSet::I32(v) => {
                if let Ok(y) = i32::try_from(x) {
                    insert_exact(v, at, y);
                } else {
                    let mut w: Vec<i64> = widen(v);
                    w.insert(at, x);
                    *self = IntSet::I64(w);
                }
            }
            IntSet::I64(v) => insert_exact(v, at, x),
        }
        true
    }

    /// Removes the value at sorted position `i`; returns it.
    pub fn remove_index(&mut self, i: usize) -> Option<i64> {
        if i >= self.len() {
            return None;
        }
        let x = match self {
            IntSet::I16(v) => v.remove(i).into(),
            IntSet::I32(v) => v.remove(i).into(),
            IntSet::I64(v) => v.remove(i),
        };
        Some(x)
    }

    /// Removes `x`; returns whether it was present. Never narrows, as in
    /// Redis.
    pub fn remove(&mut self, x: i64) -> bool {
        match self.find(x) {
            Ok(i) => self.remove_index(i).is_some(),
            Err(_) => false,
        }
    }

    /// Values in ascending order.
    pub fn iter(&self) -> impl DoubleEndedIterator<Item = i64> + ExactSizeIterator + '_ {
        (0..self.len()).map(move |i| self.get(i).unwrap_or_default())
    }

    /// Heap bytes held.
    pub fn allocated_bytes(&self) -> usize {
        match self {
            IntSet::I16(v) => v.capacity() * 2,
            IntSet::I32(v) => v.capacity() * 4,
            IntSet::I64(v) => v.capacity() * 8,
        }
    }

    /// Bytes per element (2, 4 or 8), Redis's intset "encoding".
    pub fn width_bytes(&self) -> usize {
        match self {
            IntSet::I16(_) => 2,
            IntSet::I32(_) => 4,
            IntSet::I64(_) => 8,
        }
    }
}

fn int_bytes<'a>(x: i64) -> Cow<'a, [u8]> {
    Cow::Owned(x.to_string().into_bytes())
}

/// A set value. See the module docs.
#[derive(Debug, Clone, PartialEq)]
pub enum Set {
    /// Sorted integers.
    IntSet(IntSet),
    /// Boxed so that the common small set keeps the enum small.
    Table(Box<SetTable>),
}

impl Default for Set {
    fn default() -> Self {
        Set::IntSet(IntSet::new())
    }
}

impl Set {
    /// An empty intset-encoded set. Adding a non-integer converts it, which
    /// gives what Redis's `setTypeCreate` picks for a first member.
    pub fn new() -> Self {
        Self::default()
    }

    /// An empty table-encoded set (Redis's `createSetObject`).
    pub fn new_table() -> Self {
        Set::Table(Box::new(SetTable::with_hasher(FastState::new())))
    }

    /// Number of members.
    pub fn len(&self) -> usize {
        match self {
            Set::IntSet(s) => s.len(),
            Set::Table(t) => t.len(),
        }
    }

    /// Whether there are no members.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// `OBJECT ENCODING` name.
    pub fn encoding_name(&self) -> &'static str {
        match self {
            Set::IntSet(_) => "intset",
            Set::Table(_) => "hashtable",
        }
    }

    /// Converts to the table encoding (no-op if already there).
    pub fn convert_to_table(&mut self) {
        if let Set::IntSet(s) = self {
            let mut t = SetTable::with_capacity_and_hasher(s.len(), FastState::new());
            t.extend(
                s.iter()
                    .map(|x| x.to_string().into_bytes().into_boxed_slice()),
            );
            *self = Set::Table(Box::new(t));
        }
    }

    /// SADD one member; returns whether it was new. An intset converts on a
    /// member that is not a canonical integer, or once it holds more than
    /// `max_intset_entries`.
    pub fn add(&mut self, member: &[u8], limits: &SetLimits) -> bool {
        if let Set::IntSet(s) = self {
            match parse_i64(member) {
                Some(x) => {
                    if !s.insert(x) {
                        return false;
                    }
                    if s.len() > limits.max_intset_entries {
                        self.convert_to_table();
                    }
                    return true;
                }
                None => self.convert_to_table(),
            }
        }
        match self {
            Set::Table(t) => {
                if t.contains(member) {
                    false
                } else {
                    t.insert(member.into())
                }
            }
            Set::IntSet(_) => false,
        }
    }

    /// SREM one member; returns whether it was present.
    pub fn remove(&mut self, member: &[u8]) -> bool {
        match self {
            Set::IntSet(s) => parse_i64(member).is_some_and(|x| s.remove(x)),
            Set::Table(t) => t.swap_remove(member),
        }
    }

    /// SISMEMBER.
    pub fn contains(&self, member: &[u8]) -> bool {
        match self {
            Set::IntSet(s) => parse_i64(member).is_some_and(|x| s.contains(x)),
            Set::Table(t) => t.contains(member),
        }
    }

    /// All members, in encoding order (ascending for an intset). Integers
    /// are rendered as decimal strings.
    pub fn iter(&self) -> Iter<'_> {
        match self {
            Set::IntSet(s) => Iter::IntSet { set: s, next: 0 },
            Set::Table(t) => Iter::Table(t.iter()),
        }
    }

    /// The member at position `i` in encoding order, O(1).
    pub fn get_index(&self, i: usize) -> Option<Cow<'_, [u8]>> {
        match self {
            Set::IntSet(s) => s.get(i).map(int_bytes),
            Set::Table(t) => t.get_index(i).map(|m| Cow::Borrowed(&**m)),
        }
    }

    /// A uniformly random member (SRANDMEMBER without a count).
    pub fn random_member(&self, rng: &mut impl Rng) -> Option<Cow<'_, [u8]>> {
        match self.len() {
            0 => None,
            n => self.get_index(rng.gen_range(0..n)),
        }
    }

    /// SRANDMEMBER with a count; see [`super::random_indices`] for
    /// `distinct`.
    pub fn random_members(
        &self,
        count: usize,
        distinct: bool,
        rng: &mut impl Rng,
    ) -> Vec<Cow<'_, [u8]>> {
        random_indices(self.len(), count, distinct, rng)
            .into_iter()
            .filter_map(|i| self.get_index(i))
            .collect()
    }

    /// SPOP without a count: removes and returns a random member.
    pub fn pop_random(&mut self, rng: &mut impl Rng) -> Option<Vec<u8>> {
        let n = self.len();
        if n == 0 {
            return None;
        }
        let i = rng.gen_range(0..n);
        match self {
            Set::IntSet(s) => s.remove_index(i).map(|x| x.to_string().into_bytes()),
            Set::Table(t) => t.swap_remove_index(i).map(Vec::from),
        }
    }

    /// SPOP with a count: removes and returns up to `count` random members
    /// (all of them, in encoding order, when `count >= len`).
    pub fn pop_random_n(&mut self, count: usize, rng: &mut impl Rng) -> Vec<Vec<u8>> {
        if count >= self.len() {
            let all = self.iter().map(Cow::into_owned).collect();
            *self = match self {
                Set::IntSet(_) => Set::new(),
                Set::Table(_) => Set::new_table(),
            };
            return all;
        }
        (0..count).filter_map(|_| self.pop_random(rng)).collect()
    }

    /// One SSCAN step: (next cursor, members matching `pattern`). An intset
    /// returns everything at once with cursor 0, as in Redis.
    pub fn scan(
        &self,
        cursor: u64,
        count: usize,
        pattern: Option<&[u8]>,
    ) -> (u64, Vec<Cow<'_, [u8]>>) {
        let wanted = |m: &[u8]| pattern.is_none_or(|p| glob_match(p, m, false));
        match self {
            Set::IntSet(_) => (0, self.iter().filter(|m| wanted(m)).collect()),
            Set::Table(t) => {
                let (window, next) = scan_window(t.len(), cursor, count);
                let items = window
                    .rev()
                    .filter_map(|i| t.get_index(i))
                    .filter(|m| wanted(m))
                    .map(|m| Cow::Borrowed(&**m))
                    .collect();
                (next, items)
            }
        }
    }

    /// Estimated heap bytes (MEMORY USAGE), excluding the key.
    pub fn memory_usage(&self) -> usize {
        match self {
            Set::IntSet(s) => s.allocated_bytes(),
            Set::Table(t) => {
                let slots = t.capacity() * 8 / 7 + 1;
                std::mem::size_of::<SetTable>()
                    + t.capacity() * (8 + 16)
                    + slots * 9
                    + t.iter().map(|m| m.len()).sum::<usize>()
            }
        }
    }
}

/// Iterator over a [`Set`]'s members.
pub enum Iter<'a> {
    /// Intset encoding: integers rendered on the fly.
    IntSet {
        /// The intset.
        set: &'a IntSet,
        /// Next position.
        next: usize,
    },
    /// Table encoding.
    Table(indexmap::set::Iter<'a, Box<[u8]>>),
}

impl<'a> Iterator for Iter<'a> {
    type Item = Cow<'a, [u8]>;

    fn next(&mut self) -> Option<Self::Item> {
        match self {
            Iter::IntSet { set, next } => {
                let x = set.get(*next)?;
                *next += 1;
                Some(int_bytes(x))
            }
            Iter::Table(t) => t.next().map(|m| Cow::Borrowed(&**m)),
        }
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let n = match self {
            Iter::IntSet { set, next } => set.len() - *next,
            Iter::Table(t) => t.len(),
        };
        (n, Some(n))
    }
}

impl ExactSizeIterator for Iter<'_> {}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use rand::Rng;
    use std::collections::BTreeSet;

    const SMALL: SetLimits = SetLimits {
        max_intset_entries: 4,
    };

    fn members(s: &Set) -> Vec<Vec<u8>> {
        let mut v: Vec<_> = s.iter().map(Cow::into_owned).collect();
        v.sort();
        v
    }

    #[test]
    fn intset_widths() {
        let mut s = IntSet::new();
        assert!(s.insert(5));
        assert!(!s.insert(5));
        assert!(s.insert(-3));
        assert_eq!(s.width_bytes(), 2);
        assert!(s.insert(70_000));
        assert_eq!(s.width_bytes(), 4);
        assert!(s.insert(i64::MIN));
        assert!(s.insert(i64::MAX));
        assert_eq!(s.width_bytes(), 8);
        assert_eq!(
            s.iter().collect::<Vec<_>>(),
            vec![i64::MIN, -3, 5, 70_000, i64::MAX]
        );
        assert!(s.remove(70_000));
        assert!(!s.remove(70_000));
        assert_eq!(s.width_bytes(), 8, "never narrows");
        let mut s = IntSet::new();
        s.insert(1);
        assert!(!s.contains(1 << 40), "out of width is absent");
        assert!(!s.remove(-(1 << 40)));
    }

    #[test]
    fn encoding_transitions() {
        let mut s = Set::new();
        assert!(s.add(b"1", &SMALL));
        assert!(s.add(b"-2", &SMALL));
        assert!(!s.add(b"1", &SMALL));
        assert_eq!(s.encoding_name(), "intset");
        assert!(s.contains(b"-2"));
        assert!(!s.contains(b"01"));
        assert!(s.add(b"01", &SMALL), "non-canonical integers are strings");
        assert_eq!(s.encoding_name(), "hashtable");
        assert!(s.contains(b"1") && s.contains(b"01"));
        assert_eq!(
            members(&s),
            vec![b"-2".to_vec(), b"01".to_vec(), b"1".to_vec()]
        );

        let mut s = Set::new();
        for i in 0..4 {
            s.add(i.to_string().as_bytes(), &SMALL);
        }
        assert_eq!(s.encoding_name(), "intset");
        s.add(b"4", &SMALL);
        assert_eq!(s.encoding_name(), "hashtable");
        assert!(s.contains(b"4"));
        for i in 0..5 {
            assert!(s.remove(i.to_string().as_bytes()));
        }
        assert_eq!(s.encoding_name(), "hashtable");
    }

    #[test]
    fn pop_and_random() {
        let mut rng = rand::thread_rng();
        for lim in [SMALL, SetLimits::default()] {
            let mut s = Set::new();
            for i in 0..6 {
                s.add(i.to_string().as_bytes(), &lim);
            }
            let d = s.random_members(4, true, &mut rng);
            assert_eq!(d.iter().collect::<BTreeSet<_>>().len(), 4);
            assert_eq!(s.random_members(9, false, &mut rng).len(), 9);
            let p = s.pop_random(&mut rng).unwrap();
            assert!(!s.contains(&p));
            assert_eq!(s.len(), 5);
            let popped = s.pop_random_n(2, &mut rng);
            assert_eq!(popped.len(), 2);
            assert_eq!(s.len(), 3);
            let rest = s.pop_random_n(10, &mut rng);
            assert_eq!(rest.len(), 3);
            assert!(s.is_empty());
            assert_eq!(s.pop_random(&mut rng), None);
        }
    }

    #[test]
    fn scan() {
        let mut s = Set::new();
        for i in 0..20 {
            s.add(i.to_string().as_bytes(), &SetLimits::default());
        }
        let (next, items) = s.scan(0, 2, Some(b"1*"));
        assert_eq!(next, 0);
        assert_eq!(items.len(), 11);
        s.add(b"x", &SetLimits::default());
        let mut all = BTreeSet::new();
        let mut cursor = 0;
        loop {
            let (next, items) = s.scan(cursor, 3, None);
            all.extend(items.into_iter().map(Cow::into_owned));
            if next == 0 {
                break;
            }
            cursor = next;
        }
        assert_eq!(all.len(), 21);
    }

    /// Redis's "SCAN regression test for issue #4906": remove most of a set
    /// mid-scan; the members never removed must all be reported.
    #[test]
    fn scan_regression_4906() {
        let mut rng = rand::thread_rng();
        let lim = SetLimits::default();
        for _ in 0..20 {
            let mut s = Set::new();
            s.add(b"x", &lim);
            let n = 101 + rng.gen_range(0..1000);
            for j in 0..n {
                s.add(j.to_string().as_bytes(), &lim);
            }
            let del_at = rng.gen_range(0..10);
            let mut found = BTreeSet::new();
            let (mut cursor, mut iteration) = (0, 0);
            loop {
                let (next, items) = s.scan(cursor, 10, None);
                found.extend(items.into_iter().map(Cow::into_owned));
                iteration += 1;
                if iteration == del_at {
                    for j in (100..n).rev() {
                        s.remove(j.to_string().as_bytes());
                    }
                }
                cursor = next;
                if cursor == 0 {
                    break;
                }
            }
            for j in 0..100 {
                assert!(found.contains(j.to_string().as_bytes()), "missing {j}");
            }
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(100))]
        #[test]
        fn behaves_like_a_set(
            ops in prop::collection::vec(
                (any::<bool>(), prop_oneof![
                    (-3i64..40).prop_map(|x| x.to_string().into_bytes()),
                    Just(b"01".to_vec()),
                    Just(b"a".to_vec()),
                    Just(i64::MIN.to_string().into_bytes()),
                ]),
                0..60,
            )
        ) {
            let lim = SetLimits { max_intset_entries: 16 };
            let mut s = Set::new();
            let mut m: BTreeSet<Vec<u8>> = BTreeSet::new();
            for (add, v) in ops {
                if add {
                    prop_assert_eq!(s.add(&v, &lim), m.insert(v.clone()));
                } else {
                    prop_assert_eq!(s.remove(&v), m.remove(&v));
                }
                prop_assert_eq!(s.len(), m.len());
                prop_assert_eq!(members(&s), m.iter().cloned().collect::<Vec<_>>());
                prop_assert!(m.iter().all(|v| s.contains(v)));
                if s.encoding_name() == "intset" {
                    prop_assert!(m.len() <= 16);
                    prop_assert!(m.iter().all(|v| parse_i64(v).is_some()));
                }
            }
        }
    }
}
