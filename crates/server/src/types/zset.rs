//! The sorted-set value: members ordered by (score, member), as a listpack
//! while small and an indexed ordered structure once big (Redis `t_zset.c`,
//! "Sorted set API").
//!
//! Small sorted sets (leaderboards of a few entries, time-indexed queues)
//! are the common case and cost little as a listpack of member/score pairs
//! kept in order. Past `zset-max-listpack-entries` members, or on a member
//! longer than `zset-max-listpack-value`, the set converts for good to what
//! OBJECT ENCODING calls `skiplist`. Redis pairs a skip list with spans (for
//! ranks) with a dict (for member lookups). We keep the same two
//! capabilities in safe Rust with one copy of each member:
//! - an `IndexMap` member → score, which gives O(1) lookups, O(1) random
//!   picks and dense indices for ZSCAN (see [`super::scan_window`]);
//! - a treap over the same indices, each node carrying its subtree size,
//!   which gives O(log n) insert, remove, rank and select-by-rank. Node `i`
//!   belongs to map entry `i`, so the tree stores only links.
//!
//! Ranges follow Redis's definitions: a score range is found as "first
//! element not below min" and "last element not above max"; a lex range the
//! same way by member, which is only meaningful when all scores are equal
//! (as Redis documents).

use std::cmp::Ordering;

use indexmap::IndexMap;
use rand::Rng;

use super::listpack::{self, Listpack};
use super::{random_indices, scan_window, FastState, LISTPACK_SAFETY_LIMIT};
use crate::util::glob::glob_match;
use crate::util::num::parse_strtod_bound;

/// Reply to a score range that does not parse.
pub const ERR_MIN_MAX_NOT_FLOAT: &str = "ERR min or max is not a float";
/// Reply to a lex range that does not parse.
pub const ERR_MIN_MAX_NOT_LEX: &str = "ERR min or max not valid string range item";

/// Conversion thresholds (`zset-max-listpack-entries`/`-value`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ZSetLimits {
    /// Most members a listpack-encoded sorted set may hold.
    pub max_listpack_entries: usize,
    /// Longest member (bytes) a listpack-encoded sorted set may hold.
    pub max_listpack_value: usize,
}

impl Default for ZSetLimits {
    /// Redis 7.0's defaults: 128 entries, 64 bytes.
    fn default() -> Self {
        Self {
            max_listpack_entries: 128,
            max_listpack_value: 64,
        }
    }
}

/// Orders two elements as Redis does: by score, then by member bytes.
/// Scores are never NaN; `-0.0` and `0.0` are equal.
fn cmp_elem(s1: f64, m1: &[u8], s2: f64, m2: &[u8]) -> Ordering {
    if s1 < s2 {
        Ordering::Less
    } else if s1 > s2 {
        Ordering::Greater
    } else {
        m1.cmp(m2)
    }
}

// ---------------------------------------------------------------------------
// Ranges
// ---------------------------------------------------------------------------

/// A score interval, as parsed from ZRANGEBYSCORE-style arguments.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ScoreRange {
    /// Lower bound.
    pub min: f64,
    /// Whether `min` itself is excluded (`(1.5`).
    pub min_exclusive: bool,
    /// Upper bound.
    pub max: f64,
    /// Whether `max` itself is excluded.
    pub max_exclusive: bool,
}

/// Parses one score bound: `1.5`, `(1.5`, `-inf`, `+inf`… with Redis's
/// `zslParseRange` rules (see [`parse_strtod_bound`]). Returns
/// `(value, exclusive)`.
pub fn parse_score_bound(s: &[u8]) -> Result<(f64, bool), &'static str> {
    parse_strtod_bound(s).ok_or(ERR_MIN_MAX_NOT_FLOAT)
}

impl ScoreRange {
    /// Parses `min` and `max` as given to ZRANGEBYSCORE (for the REV forms
    /// the caller passes them in min/max order).
    pub fn parse(min: &[u8], max: &[u8]) -> Result<Self, &'static str> {
        let (min, min_exclusive) = parse_score_bound(min)?;
        let (max, max_exclusive) = parse_score_bound(max)?;
        Ok(Self {
            min,
            min_exclusive,
            max,
            max_exclusive,
        })
    }

    /// Whether `score` is not below the lower bound.
    pub fn above_min(&self, score: f64) -> bool {
        if self.min_exclusive {
            score > self.min
        } else {
            score >= self.min
        }
    }

    /// Whether `score` is not above the upper bound.
    pub fn below_max(&self, score: f64) -> bool {
        if self.max_exclusive {
            score < self.max
        } else {
            score <= self.max
        }
    }

    /// Whether `score` lies in the range.
    pub fn contains(&self, score: f64) -> bool {
        self.above_min(score) && self.below_max(score)
    }
}

/// One end of a lex range.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LexBound {
    /// `-`: below every string.
    NegInf,
    /// `+`: above every string.
    PosInf,
    /// `[abc`.
    Inclusive(Box<[u8]>),
    /// `(abc`.
    Exclusive(Box<[u8]>),
}

/// Parses one lex bound: `-`, `+`, `[abc` or `(abc` (Redis's
/// `zslParseLexRangeItem`).
pub fn parse_lex_bound(s: &[u8]) -> Result<LexBound, &'static str> {
    // C compares `c[1]` with NUL, so "+\0…" still reads as "+".
    let alone = s.get(1).is_none_or(|&c| c == 0);
    match s.split_first() {
        Some((b'+', _)) if alone => Ok(LexBound::PosInf),
        Some((b'-', _)) if alone => Ok(LexBound::NegInf),
        Some((b'(', rest)) => Ok(LexBound::Exclusive(rest.into())),
        Some((b'[', rest)) => Ok(LexBound::Inclusive(rest.into())),
        _ => Err(ERR_MIN_MAX_NOT_LEX),
    }
}

/// A member interval, as parsed from ZRANGEBYLEX-style arguments.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LexRange {
    /// Lower bound.
    pub min: LexBound,
    /// Upper bound.
    pub max: LexBound,
}

impl LexRange {
    /// Parses `min` and `max` as given to ZRANGEBYLEX.
    pub fn parse(min: &[u8], max: &[u8]) -> Result<Self, &'static str> {
        Ok(Self {
            min: parse_lex_bound(min)?,
            max: parse_lex_bound(max)?,
        })
    }

    /// Whether `member` is not below the lower bound.
    pub fn above_min(&self, member: &[u8]) -> bool {
        match &self.min {
            LexBound::NegInf => true,
            LexBound::PosInf => false,
            LexBound::Inclusive(b) => member >= &**b,
            LexBound::Exclusive(b) => member > &**b,
        }
    }

    /// Whether `member` is not above the upper bound.
    pub fn below_max(&self, member: &[u8]) -> bool {
        match &self.max {
            LexBound::NegInf => false,
            LexBound::PosInf => true,
            LexBound::Inclusive(b) => member <= &**b,
            LexBound::Exclusive(b) => member < &**b,
        }
    }
}

// ---------------------------------------------------------------------------
// ZADD
// ---------------------------------------------------------------------------

/// ZADD options. `incr` adds the given score to the current one.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ZAddFlags {
    /// Only add new members.
    pub nx: bool,
    /// Only update existing members.
    pub xx: bool,
    /// Only update when the new score is greater.
    pub gt: bool,
    /// Only update when the new score is less.
    pub lt: bool,
    /// Increment instead of set (ZINCRBY, ZADD INCR).
    pub incr: bool,
}

/// What [`ZSet::add`] did. The score is the member's score afterwards (the
/// reply of ZADD INCR / ZINCRBY).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum ZAddOutcome {
    /// A new member.
    Added(f64),
    /// An existing member whose score changed.
    Updated(f64),
    /// An existing member whose score stayed the same.
    Unchanged(f64),
    /// Nothing done because of NX, XX, GT or LT (ZADD INCR replies nil).
    Skipped,
}

impl ZAddOutcome {
    /// Counts for ZADD's reply: (added, added + updated for CH).
    pub fn counts(self) -> (usize, usize) {
        match self {
            ZAddOutcome::Added(_) => (1, 1),
            ZAddOutcome::Updated(_) => (0, 1),
            ZAddOutcome::Unchanged(_) | ZAddOutcome::Skipped => (0, 0),
        }
    }

    /// The resulting score, unless skipped.
    pub fn score(self) -> Option<f64> {
        match self {
            ZAddOutcome::Added(s) | ZAddOutcome::Updated(s) | ZAddOutcome::Unchanged(s) => Some(s),
            ZAddOutcome::Skipped => None,
        }
    }
}

/// The score (given, or reached by INCR) is NaN; nothing was changed.
/// Redis replies `-ERR resulting score is not a number (NaN)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NanScore;

impl NanScore {
    /// Redis's reply text.
    pub const MESSAGE: &'static str = "ERR resulting score is not a number (NaN)";
}

impl std::fmt::Display for NanScore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(Self::MESSAGE)
    }
}

impl std::error::Error for NanScore {}

// ---------------------------------------------------------------------------
// Listpack encoding: member, score, member, score… sorted by (score, member)
// ---------------------------------------------------------------------------

/// Largest magnitude stored as an integer score (exact in both i64 and f64).
const INT_SCORE_LIMIT: f64 = 9_007_199_254_740_992.0; // 2^53

/// Encodes a score for the listpack: integral values within ±2^53 as a
/// zigzag integer in 0..=7 little-endian bytes, anything else as the 8
/// bytes of its IEEE representation. The length tells them apart. `-0.0`
/// counts as integral and reads back as `0`, as in Redis 7.0, whose
/// listpack stores it through `double2ll` as the integer 0 (a skiplist
/// keeps the sign).
fn encode_score(score: f64, buf: &mut [u8; 8]) -> usize {
    let integral = score.trunc() == score && score.abs() < INT_SCORE_LIMIT;
    if integral {
        let i = score as i64;
        let z = ((i << 1) ^ (i >> 63)) as u64;
        let n = (64 - z.leading_zeros() as usize).div_ceil(8);
        buf.copy_from_slice(&z.to_le_bytes());
        n
    } else {
        buf.copy_from_slice(&score.to_bits().to_le_bytes());
        8
    }
}

fn decode_score(b: &[u8]) -> f64 {
    let mut raw = [0u8; 8];
    let n = b.len().min(8);
    raw[..n].copy_from_slice(&b[..n]);
    let v = u64::from_le_bytes(raw);
    if b.len() >= 8 {
        f64::from_bits(v)
    } else {
        let i = ((v >> 1) as i64) ^ -((v & 1) as i64);
        i as f64
    }
}

fn lp_pairs(lp: &Listpack) -> impl DoubleEndedIterator<Item = (&[u8], f64)> + '_ {
    lp.pairs().map(|(m, s)| (m, decode_score(s)))
}

/// (pair index, score) of `member`.
fn lp_find(lp: &Listpack, member: &[u8]) -> Option<(usize, f64)> {
    lp_pairs(lp)
        .enumerate()
        .find(|(_, (m, _))| *m == member)
        .map(|(i, (_, s))| (i, s))
}

fn lp_insert(lp: &mut Listpack, member: &[u8], score: f64) {
    let pos = lp_pairs(lp)
        .position(|(m, s)| cmp_elem(s, m, score, member) == Ordering::Greater)
        .unwrap_or(lp.len() / 2);
    let mut buf = [0u8; 8];
    let n = encode_score(score, &mut buf);
    lp.insert(2 * pos, member);
    lp.insert(2 * pos + 1, &buf[..n]);
}

// ---------------------------------------------------------------------------
// Big encoding: IndexMap + treap with subtree sizes
// ---------------------------------------------------------------------------

const NIL: u32 = u32::MAX;

/// Tree links of map entry `i`; `size` counts the subtree's elements.
#[derive(Debug, Clone, Copy)]
struct Node {
    left: u32,
    right: u32,
    size: u32,
    prio: u32,
}

/// The big sorted-set encoding (OBJECT ENCODING `skiplist`). See the module
/// docs for the layout.
#[derive(Clone)]
pub struct SortedSet {
    entries: IndexMap<Box<[u8]>, f64, FastState>,
    nodes: Vec<Node>,
    root: u32,
    /// xorshift state for treap priorities, seeded randomly per set so that
    /// insertion order cannot be chosen to unbalance the tree.
    seed: u64,
}

impl std::fmt::Debug for SortedSet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list()
            .entries(self.iter().map(|(m, s)| (String::from_utf8_lossy(m), s)))
            .finish()
    }
}

impl Default for SortedSet {
    fn default() -> Self {
        Self::new()
    }
}

impl SortedSet {
    /// An empty set.
    pub fn new() -> Self {
        Self {
            entries: IndexMap::with_hasher(FastState::new()),
            nodes: Vec::new(),
            root: NIL,
            seed: rand::random::<u64>() | 1,
        }
    }

    /// Number of members.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether there are no members.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The score of `member`.
    pub fn score(&self, member: &[u8]) -> Option<f64> {
        self.entries.get(member).copied()
    }

    fn next_prio(&mut self) -> u32 {
        let mut x = self.seed;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.seed = x;
        (x >> 32) as u32
    }

    fn key(&self, i: u32) -> (f64, &[u8]) {
        let (m, s) = self
            .entries
            .get_index(i as usize)
            .expect("every tree node has its map entry");
        (*s, m)
    }

    /// Compares element `a` with element `b`.
    fn cmp_nodes(&self, a: u32, b: u32) -> Ordering {
        let (sa, ma) = self.key(a);
        let (sb, mb) = self.key(b);
        cmp_elem(sa, ma, sb, mb)
    }

    fn size(&self, t: u32) -> u32 {
        if t == NIL {
            0
        } else {
            self.nodes[t as usize].size
        }
    }

    fn left(&self, t: u32) -> u32 {
        self.nodes[t as usize].left
    }

    fn right(&self, t: u32) -> u32 {
        self.nodes[t as usize].right
    }

    fn update(&mut self, t: u32) {
        let size = self.size(self.left(t)) + self.size(self.right(t)) + 1;
        self.nodes[t as usize].size = size;
    }

    /// Splits subtree `t` into elements before and after element `n`
    /// (which is not in `t`).
    fn split(&mut self, t: u32, n: u32) -> (u32, u32) {
        if t == NIL {
            return (NIL, NIL);
        }
        if self.cmp_nodes(t, n) == Ordering::Less {
            let (a, b) = self.split(self.right(t), n);
            self.nodes[t as usize].right = a;
            self.update(t);
            (t, b)
        } else {
            let (a, b) = self.split(self.left(t), n);
            self.nodes[t as usize].left = b;
            self.update(t);
            (a, t)
        }
    }

    /// Splits subtree `t` into its first `k` elements and the rest.
    fn split_rank(&mut self, t: u32, k: u32) -> (u32, u32) {
        if t == NIL {
            return (NIL, NIL);
        }
        let ls = self.size(self.left(t));
        if k <= ls {
            let (a, b) = self.split_rank(self.left(t), k);
            self.nodes[t as usize].left = b;
            self.update(t);
            (a, t)
        } else {
            let (a, b) = self.split_rank(self.right(t), k - ls - 1);
            self.nodes[t as usize].right = a;
            self.update(t);
            (t, b)
        }
    }

    /// Joins two subtrees where every element of `a` precedes `b`'s.
    fn merge(&mut self, a: u32, b: u32) -> u32 {
        if a == NIL {
            return b;
        }
        if b == NIL {
            return a;
        }
        if self.nodes[a as usize].prio > self.nodes[b as usize].prio {
            let r = self.merge(self.right(a), b);
            self.nodes[a as usize].right = r;
            self.update(a);
            a
        } else {
            let l = self.merge(a, self.left(b));
            self.nodes[b as usize].left = l;
            self.update(b);
            b
        }
    }

    /// Links the detached node `n` into subtree `t`.
    fn tree_insert(&mut self, t: u32, n: u32) -> u32 {
        if t == NIL {
            return n;
        }
        if self.nodes[n as usize].prio > self.nodes[t as usize].prio {
            let (l, r) = self.split(t, n);
            let node = &mut self.nodes[n as usize];
            node.left = l;
            node.right = r;
            self.update(n);
            return n;
        }
        if self.cmp_nodes(n, t) == Ordering::Less {
            let l = self.tree_insert(self.left(t), n);
            self.nodes[t as usize].left = l;
        } else {
            let r = self.tree_insert(self.right(t), n);
            self.nodes[t as usize].right = r;
        }
        self.nodes[t as usize].size += 1;
        t
    }

    /// Unlinks node `n` (which is in subtree `t`).
    fn tree_remove(&mut self, t: u32, n: u32) -> u32 {
        if t == n {
            return self.merge(self.left(t), self.right(t));
        }
        if self.cmp_nodes(n, t) == Ordering::Less {
            let l = self.tree_remove(self.left(t), n);
            self.nodes[t as usize].left = l;
        } else {
            let r = self.tree_remove(self.right(t), n);
            self.nodes[t as usize].right = r;
        }
        self.nodes[t as usize].size -= 1;
        t
    }

    fn link_new(&mut self, i: u32) {
        let prio = self.next_prio();
        self.nodes[i as usize] = Node {
            left: NIL,
            right: NIL,
            size: 1,
            prio,
        };
        self.root = self.tree_insert(self.root, i);
    }

    /// Adds a member that is not present.
    fn insert_new(&mut self, member: &[u8], score: f64) {
        let (i, _) = self.entries.insert_full(member.into(), score);
        self.nodes.push(Node {
            left: NIL,
            right: NIL,
            size: 1,
            prio: 0,
        });
        self.link_new(i as u32);
    }

    /// Changes the score of the member at entry `i`.
    fn set_score(&mut self, i: usize, score: f64) {
        self.root = self.tree_remove(self.root, i as u32);
        if let Some((_, s)) = self.entries.get_index_mut(i) {
            *s = score;
        }
        self.link_new(i as u32);
    }

    /// Removes the (already unlinked) entry `i` from the arena: the last
    /// entry moves into slot `i`, and the link pointing at it is patched.
    fn drop_slot(&mut self, i: u32) {
        let last = (self.entries.len() - 1) as u32;
        if i != last {
            // Find who points at `last` by searching for its key.
            let mut parent = NIL;
            let mut t = self.root;
            while t != last {
                parent = t;
                t = if self.cmp_nodes(last, t) == Ordering::Less {
                    self.left(t)
                } else {
                    self.right(t)
                };
            }
            if parent == NIL {
                self.root = i;
            } else if self.left(parent) == last {
                self.nodes[parent as usize].left = i;
            } else {
                self.nodes[parent as usize].right = i;
            }
        }
        self.nodes.swap_remove(i as usize);
        self.entries.swap_remove_index(i as usize);
    }

    /// Removes `member`; returns its score.
    pub fn remove(&mut self, member: &[u8]) -> Option<f64> {
        let (i, _, &score) = self.entries.get_full(member)?;
        self.root = self.tree_remove(self.root, i as u32);
        self.drop_slot(i as u32);
        Some(score)
    }

    /// Removes the elements with ranks in `lo..hi`.
    fn remove_rank_range(&mut self, lo: usize, hi: usize) {
        if lo >= hi {
            return;
        }
        let (a, rest) = self.split_rank(self.root, lo as u32);
        let (mid, c) = self.split_rank(rest, (hi - lo) as u32);
        self.root = self.merge(a, c);
        let mut doomed = Vec::with_capacity(hi - lo);
        let mut stack = vec![mid];
        while let Some(t) = stack.pop() {
            if t != NIL {
                doomed.push(t);
                stack.push(self.left(t));
                stack.push(self.right(t));
            }
        }
        // Highest first: then the entry moving into each freed slot is never
        // itself one still to be removed.
        doomed.sort_unstable_by(|a, b| b.cmp(a));
        for i in doomed {
            self.drop_slot(i);
        }
    }

    /// 0-based rank of `member` in ascending order.
    pub fn rank(&self, member: &[u8]) -> Option<usize> {
        let (i, _, _) = self.entries.get_full(member)?;
        let n = i as u32;
        let mut rank = 0;
        let mut t = self.root;
        while t != NIL {
            match self.cmp_nodes(n, t) {
                Ordering::Less => t = self.left(t),
                Ordering::Equal => return Some(rank + self.size(self.left(t)) as usize),
                Ordering::Greater => {
                    rank += self.size(self.left(t)) as usize + 1;
                    t = self.right(t);
                }
            }
        }
        None
    }

    /// How many leading elements (in order) satisfy `pred`, which must be
    /// true for a prefix and false after it.
    fn partition_point(&self, pred: impl Fn(f64, &[u8]) -> bool) -> usize {
        let mut count = 0;
        let mut t = self.root;
        while t != NIL {
            let (s, m) = self.key(t);
            if pred(s, m) {
                count += self.size(self.left(t)) as usize + 1;
                t = self.right(t);
            } else {
                t = self.left(t);
            }
        }
        count
    }

    /// The element of rank `r`.
    pub fn get_by_rank(&self, r: usize) -> Option<(&[u8], f64)> {
        let mut k = u32::try_from(r).ok()?;
        let mut t = self.root;
        while t != NIL {
            let ls = self.size(self.left(t));
            match k.cmp(&ls) {
                Ordering::Less => t = self.left(t),
                Ordering::Equal => {
                    let (s, m) = self.key(t);
                    return Some((m, s));
                }
                Ordering::Greater => {
                    k -= ls + 1;
                    t = self.right(t);
                }
            }
        }
        None
    }

    /// Elements from rank `r` on, ascending (or descending with `reverse`).
    pub fn iter_from(&self, r: usize, reverse: bool) -> TreeIter<'_> {
        let mut stack = Vec::new();
        let mut t = self.root;
        let mut k = r as u64;
        while t != NIL {
            let ls = u64::from(self.size(self.left(t)));
            match (k.cmp(&ls), reverse) {
                (Ordering::Less, false) => {
                    stack.push(t);
                    t = self.left(t);
                }
                (Ordering::Less, true) => t = self.left(t),
                (Ordering::Equal, _) => {
                    stack.push(t);
                    break;
                }
                (Ordering::Greater, rev) => {
                    if rev {
                        stack.push(t);
                    }
                    k -= ls + 1;
                    t = self.right(t);
                }
            }
        }
        TreeIter {
            set: self,
            stack,
            reverse,
        }
    }

    /// Ascending iteration.
    pub fn iter(&self) -> TreeIter<'_> {
        self.iter_from(0, false)
    }
}

/// In-order iterator over a [`SortedSet`].
pub struct TreeIter<'a> {
    set: &'a SortedSet,
    stack: Vec<u32>,
    reverse: bool,
}

impl<'a> Iterator for TreeIter<'a> {
    type Item = (&'a [u8], f64);

    fn next(&mut self) -> Option<Self::Item> {
        let t = self.stack.pop()?;
        let set = self.set;
        let mut c = if self.reverse {
            set.left(t)
        } else {
            set.right(t)
        };
        while c != NIL {
            self.stack.push(c);
            c = if self.reverse {
                set.right(c)
            } else {
                set.left(c)
            };
        }
        let (s, m) = set.key(t);
        Some((m, s))
    }
}

// ---------------------------------------------------------------------------
// ZSet
// ---------------------------------------------------------------------------

/// A sorted-set value. See the module docs.
#[derive(Debug, Clone)]
pub enum ZSet {
    /// member, score, member, score… in (score, member) order. Scores are
    /// in an internal binary form: read them through [`ZSet::iter`], never
    /// from the listpack directly.
    Listpack(Listpack),
    /// Boxed so that the common small set keeps the enum small.
    SkipList(Box<SortedSet>),
}

impl Default for ZSet {
    fn default() -> Self {
        ZSet::Listpack(Listpack::new())
    }
}

/// Iterator over a [`ZSet`] in ascending order.
pub enum Iter<'a> {
    /// Listpack encoding.
    Listpack(listpack::Pairs<'a>),
    /// Skiplist encoding.
    SkipList(TreeIter<'a>),
}

impl<'a> Iterator for Iter<'a> {
    type Item = (&'a [u8], f64);

    fn next(&mut self) -> Option<Self::Item> {
        match self {
            Iter::Listpack(p) => p.next().map(|(m, s)| (m, decode_score(s))),
            Iter::SkipList(t) => t.next(),
        }
    }
}

impl ZSet {
    /// An empty listpack-encoded sorted set.
    pub fn new() -> Self {
        Self::default()
    }

    /// An empty skiplist-encoded sorted set (ZUNIONSTORE & co. build into
    /// one, then call [`ZSet::convert_to_listpack_if_fits`]).
    pub fn new_skiplist() -> Self {
        ZSet::SkipList(Box::default())
    }

    /// The encoding ZRANGESTORE starts with for `len` results.
    pub fn with_len_hint(len: usize, limits: &ZSetLimits) -> Self {
        if len > limits.max_listpack_entries {
            Self::new_skiplist()
        } else {
            Self::new()
        }
    }

    /// Number of members.
    pub fn len(&self) -> usize {
        match self {
            ZSet::Listpack(lp) => lp.len() / 2,
            ZSet::SkipList(z) => z.len(),
        }
    }

    /// Whether there are no members.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// `OBJECT ENCODING` name.
    pub fn encoding_name(&self) -> &'static str {
        match self {
            ZSet::Listpack(_) => "listpack",
            ZSet::SkipList(_) => "skiplist",
        }
    }

    /// Converts to the skiplist encoding (no-op if already there).
    pub fn convert_to_skiplist(&mut self) {
        if let ZSet::Listpack(lp) = self {
            let mut z = SortedSet::new();
            z.entries.reserve(lp.len() / 2);
            for (m, s) in lp_pairs(lp) {
                z.insert_new(m, s);
            }
            *self = ZSet::SkipList(Box::new(z));
        }
    }

    /// Converts a skiplist back to a listpack when it is within the limits
    /// (Redis's `zsetConvertToListpackIfNeeded`, used by the *STORE
    /// commands).
    pub fn convert_to_listpack_if_fits(&mut self, limits: &ZSetLimits) {
        if let ZSet::SkipList(z) = self {
            let fits = z.len() <= limits.max_listpack_entries
                && z.entries
                    .keys()
                    .all(|m| m.len() <= limits.max_listpack_value)
                && z.entries.keys().map(|m| m.len()).sum::<usize>() <= LISTPACK_SAFETY_LIMIT;
            if fits {
                let mut lp = Listpack::new();
                let mut buf = [0u8; 8];
                for (m, s) in z.iter() {
                    let n = encode_score(s, &mut buf);
                    lp.push(m);
                    lp.push(&buf[..n]);
                }
                *self = ZSet::Listpack(lp);
            }
        }
    }

    /// The score of `member` (ZSCORE).
    pub fn score(&self, member: &[u8]) -> Option<f64> {
        match self {
            ZSet::Listpack(lp) => lp_find(lp, member).map(|(_, s)| s),
            ZSet::SkipList(z) => z.score(member),
        }
    }

    /// Whether `member` is present.
    pub fn contains(&self, member: &[u8]) -> bool {
        self.score(member).is_some()
    }

    /// ZADD / ZINCRBY for one member, with Redis's `zsetAdd` semantics:
    /// NX skips existing members, XX skips new ones, GT/LT skip updates that
    /// do not raise/lower the score (new members are still added), INCR
    /// adds to the current score. A NaN score, given or reached, is an
    /// error and changes nothing.
    pub fn add(
        &mut self,
        member: &[u8],
        score: f64,
        flags: ZAddFlags,
        limits: &ZSetLimits,
    ) -> Result<ZAddOutcome, NanScore> {
        if score.is_nan() {
            return Err(NanScore);
        }
        let current = self.score(member);
        let Some(cur) = current else {
            if flags.xx {
                return Ok(ZAddOutcome::Skipped);
            }
            if let ZSet::Listpack(lp) = self {
                if lp.len() / 2 + 1 > limits.max_listpack_entries
                    || member.len() > limits.max_listpack_value
                    || lp.bytes_len() + member.len() > LISTPACK_SAFETY_LIMIT
                {
                    self.convert_to_skiplist();
                }
            }
            match self {
                ZSet::Listpack(lp) => lp_insert(lp, member, score),
                ZSet::SkipList(z) => z.insert_new(member, score),
            }
            return Ok(ZAddOutcome::Added(score));
        };
        if flags.nx {
            return Ok(ZAddOutcome::Skipped);
        }
        let mut score = score;
        if flags.incr {
            score += cur;
            if score.is_nan() {
                return Err(NanScore);
            }
        }
        if (flags.lt && score >= cur) || (flags.gt && score <= cur) {
            return Ok(ZAddOutcome::Skipped);
        }
        if score == cur {
            return Ok(ZAddOutcome::Unchanged(score));
        }
        match self {
            ZSet::Listpack(lp) => {
                if let Some((i, _)) = lp_find(lp, member) {
                    lp.remove_range(2 * i, 2);
                }
                lp_insert(lp, member, score);
            }
            ZSet::SkipList(z) => {
                if let Some(i) = z.entries.get_index_of(member) {
                    z.set_score(i, score);
                }
            }
        }
        Ok(ZAddOutcome::Updated(score))
    }

    /// ZREM one member; returns whether it was present.
    pub fn remove(&mut self, member: &[u8]) -> bool {
        match self {
            ZSet::Listpack(lp) => match lp_find(lp, member) {
                Some((i, _)) => {
                    lp.remove_range(2 * i, 2);
                    true
                }
                None => false,
            },
            ZSet::SkipList(z) => z.remove(member).is_some(),
        }
    }

    /// ZRANK / ZREVRANK: 0-based position in ascending (descending with
    /// `reverse`) order.
    pub fn rank(&self, member: &[u8], reverse: bool) -> Option<usize> {
        let r = match self {
            ZSet::Listpack(lp) => lp_find(lp, member).map(|(i, _)| i),
            ZSet::SkipList(z) => z.rank(member),
        }?;
        Some(if reverse { self.len() - 1 - r } else { r })
    }

    /// The element at ascending rank `r`.
    pub fn get_by_rank(&self, r: usize) -> Option<(&[u8], f64)> {
        match self {
            ZSet::Listpack(lp) => lp_pairs(lp).nth(r),
            ZSet::SkipList(z) => z.get_by_rank(r),
        }
    }

    /// All elements in ascending order.
    pub fn iter(&self) -> Iter<'_> {
        match self {
            ZSet::Listpack(lp) => Iter::Listpack(lp.pairs()),
            ZSet::SkipList(z) => Iter::SkipList(z.iter()),
        }
    }

    /// Elements with ascending ranks in `lo..hi`, skipping `offset` from
    /// the start (or, with `reverse`, from the end) and taking at most
    /// `limit`; in descending order with `reverse`.
    fn slice(
        &self,
        lo: usize,
        hi: usize,
        reverse: bool,
        offset: usize,
        limit: Option<usize>,
    ) -> Vec<(&[u8], f64)> {
        let hi = hi.min(self.len());
        let avail = hi.saturating_sub(lo).saturating_sub(offset);
        let n = limit.map_or(avail, |l| l.min(avail));
        if n == 0 {
            return Vec::new();
        }
        let mut out = Vec::with_capacity(n);
        match (self, reverse) {
            (ZSet::Listpack(lp), false) => out.extend(lp_pairs(lp).skip(lo + offset).take(n)),
            (ZSet::Listpack(lp), true) => {
                let skip = self.len() - hi + offset;
                out.extend(lp_pairs(lp).rev().skip(skip).take(n));
            }
            (ZSet::SkipList(z), false) => out.extend(z.iter_from(lo + offset, false).take(n)),
            (ZSet::SkipList(z), true) => out.extend(z.iter_from(hi - 1 - offset, true).take(n)),
        }
        out
    }

    /// ZRANGE by index: ranks `start..=end` (already normalized by the
    /// caller to non-negative; `end` is clamped to the last element),
    /// counted from the highest score with `reverse`.
    pub fn range_by_rank(&self, start: usize, end: usize, reverse: bool) -> Vec<(&[u8], f64)> {
        let len = self.len();
        if start >= len || start > end {
            return Vec::new();
        }
        let end = end.min(len - 1);
        if reverse {
            self.slice(len - 1 - end, len - start, true, 0, None)
        } else {
            self.slice(start, end + 1, false, 0, None)
        }
    }

    /// Ascending rank interval `lo..hi` of the elements in a score range.
    fn score_ranks(&self, range: &ScoreRange) -> (usize, usize) {
        match self {
            ZSet::Listpack(lp) => {
                let lo = lp_pairs(lp)
                    .take_while(|(_, s)| !range.above_min(*s))
                    .count();
                let n = lp_pairs(lp)
                    .skip(lo)
                    .take_while(|(_, s)| range.below_max(*s))
                    .count();
                (lo, lo + n)
            }
            ZSet::SkipList(z) => {
                let lo = z.partition_point(|s, _| !range.above_min(s));
                let hi = z.partition_point(|s, _| range.below_max(s));
                (lo, hi.max(lo))
            }
        }
    }

    /// Ascending rank interval `lo..hi` of the elements in a lex range.
    fn lex_ranks(&self, range: &LexRange) -> (usize, usize) {
        match self {
            ZSet::Listpack(lp) => {
                let lo = lp_pairs(lp)
                    .take_while(|(m, _)| !range.above_min(m))
                    .count();
                let n = lp_pairs(lp)
                    .skip(lo)
                    .take_while(|(m, _)| range.below_max(m))
                    .count();
                (lo, lo + n)
            }
            ZSet::SkipList(z) => {
                let lo = z.partition_point(|_, m| !range.above_min(m));
                let hi = z.partition_point(|_, m| range.below_max(m));
                (lo, hi.max(lo))
            }
        }
    }

    /// ZRANGEBYSCORE / ZREVRANGEBYSCORE (and ZRANGE BYSCORE [REV]) with
    /// LIMIT `offset`, `limit` (`None` = no limit). With `reverse` the
    /// elements come highest first and `offset` counts from the top.
    pub fn range_by_score(
        &self,
        range: &ScoreRange,
        reverse: bool,
        offset: usize,
        limit: Option<usize>,
    ) -> Vec<(&[u8], f64)> {
        let (lo, hi) = self.score_ranks(range);
        self.slice(lo, hi, reverse, offset, limit)
    }

    /// ZRANGEBYLEX / ZREVRANGEBYLEX, like [`ZSet::range_by_score`].
    pub fn range_by_lex(
        &self,
        range: &LexRange,
        reverse: bool,
        offset: usize,
        limit: Option<usize>,
    ) -> Vec<(&[u8], f64)> {
        let (lo, hi) = self.lex_ranks(range);
        self.slice(lo, hi, reverse, offset, limit)
    }

    /// ZCOUNT.
    pub fn count_in_score_range(&self, range: &ScoreRange) -> usize {
        let (lo, hi) = self.score_ranks(range);
        hi - lo
    }

    /// ZLEXCOUNT.
    pub fn count_in_lex_range(&self, range: &LexRange) -> usize {
        let (lo, hi) = self.lex_ranks(range);
        hi - lo
    }

    /// Removes ascending ranks `lo..hi`.
    fn remove_ranks(&mut self, lo: usize, hi: usize) -> usize {
        let hi = hi.min(self.len());
        if lo >= hi {
            return 0;
        }
        match self {
            ZSet::Listpack(lp) => lp.remove_range(2 * lo, 2 * (hi - lo)),
            ZSet::SkipList(z) => z.remove_rank_range(lo, hi),
        }
        hi - lo
    }

    /// ZREMRANGEBYRANK over normalized ranks `start..=end` (`end` clamped);
    /// returns how many were removed.
    pub fn remove_range_by_rank(&mut self, start: usize, end: usize) -> usize {
        if start > end {
            return 0;
        }
        self.remove_ranks(start, end.saturating_add(1))
    }

    /// ZREMRANGEBYSCORE; returns how many were removed.
    pub fn remove_range_by_score(&mut self, range: &ScoreRange) -> usize {
        let (lo, hi) = self.score_ranks(range);
        self.remove_ranks(lo, hi)
    }

    /// ZREMRANGEBYLEX; returns how many were removed.
    pub fn remove_range_by_lex(&mut self, range: &LexRange) -> usize {
        let (lo, hi) = self.lex_ranks(range);
        self.remove_ranks(lo, hi)
    }

    /// ZPOPMIN: removes and returns up to `count` lowest elements, lowest
    /// first.
    pub fn pop_min(&mut self, count: usize) -> Vec<(Vec<u8>, f64)> {
        let n = count.min(self.len());
        let out = self
            .slice(0, n, false, 0, None)
            .into_iter()
            .map(|(m, s)| (m.to_vec(), s))
            .collect();
        self.remove_ranks(0, n);
        out
    }

    /// ZPOPMAX: removes and returns up to `count` highest elements, highest
    /// first.
    pub fn pop_max(&mut self, count: usize) -> Vec<(Vec<u8>, f64)> {
        let len = self.len();
        let n = count.min(len);
        let out = self
            .slice(len - n, len, true, 0, None)
            .into_iter()
            .map(|(m, s)| (m.to_vec(), s))
            .collect();
        self.remove_ranks(len - n, len);
        out
    }

    /// The element at position `i` in encoding order (not score order):
    /// O(1) for a skiplist, O(n) for a listpack. For random picks.
    pub fn get_index(&self, i: usize) -> Option<(&[u8], f64)> {
        match self {
            ZSet::Listpack(lp) => lp_pairs(lp).nth(i),
            ZSet::SkipList(z) => z.entries.get_index(i).map(|(m, s)| (&**m, *s)),
        }
    }

    /// ZRANDMEMBER with a count; see [`super::random_indices`] for
    /// `distinct`.
    pub fn random_pairs(
        &self,
        count: usize,
        distinct: bool,
        rng: &mut impl Rng,
    ) -> Vec<(&[u8], f64)> {
        let picks = random_indices(self.len(), count, distinct, rng);
        match self {
            ZSet::Listpack(lp) => {
                let all: Vec<_> = lp_pairs(lp).collect();
                picks.into_iter().map(|i| all[i]).collect()
            }
            ZSet::SkipList(_) => picks
                .into_iter()
                .filter_map(|i| self.get_index(i))
                .collect(),
        }
    }

    /// A uniformly random element (ZRANDMEMBER without a count).
    pub fn random_pair(&self, rng: &mut impl Rng) -> Option<(&[u8], f64)> {
        match self.len() {
            0 => None,
            n => self.get_index(rng.gen_range(0..n)),
        }
    }

    /// One ZSCAN step: (next cursor, elements whose member matches
    /// `pattern`). A listpack returns everything at once with cursor 0.
    pub fn scan(
        &self,
        cursor: u64,
        count: usize,
        pattern: Option<&[u8]>,
    ) -> (u64, Vec<(&[u8], f64)>) {
        let wanted = |m: &[u8]| pattern.is_none_or(|p| glob_match(p, m, false));
        match self {
            ZSet::Listpack(lp) => (0, lp_pairs(lp).filter(|(m, _)| wanted(m)).collect()),
            ZSet::SkipList(z) => {
                let (window, next) = scan_window(z.len(), cursor, count);
                let items = window
                    .rev()
                    .filter_map(|i| z.entries.get_index(i))
                    .map(|(m, s)| (&**m, *s))
                    .filter(|(m, _)| wanted(m))
                    .collect();
                (next, items)
            }
        }
    }

    /// Estimated heap bytes (MEMORY USAGE), excluding the key.
    pub fn memory_usage(&self) -> usize {
        match self {
            ZSet::Listpack(lp) => lp.allocated_bytes(),
            ZSet::SkipList(z) => {
                let slots = z.entries.capacity() * 8 / 7 + 1;
                std::mem::size_of::<SortedSet>()
                    + z.entries.capacity() * (8 + 16 + 8)
                    + slots * 9
                    + z.nodes.capacity() * std::mem::size_of::<Node>()
                    + z.entries.keys().map(|m| m.len()).sum::<usize>()
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::collections::BTreeSet;

    const SMALL: ZSetLimits = ZSetLimits {
        max_listpack_entries: 8,
        max_listpack_value: 8,
    };
    const ADD: ZAddFlags = ZAddFlags {
        nx: false,
        xx: false,
        gt: false,
        lt: false,
        incr: false,
    };

    fn both() -> [ZSet; 2] {
        [ZSet::new(), ZSet::new_skiplist()]
    }

    fn owned(v: Vec<(&[u8], f64)>) -> Vec<(Vec<u8>, f64)> {
        v.into_iter().map(|(m, s)| (m.to_vec(), s)).collect()
    }

    fn el(m: &str, s: f64) -> (Vec<u8>, f64) {
        (m.as_bytes().to_vec(), s)
    }

    #[test]
    fn score_encoding_round_trips() {
        let mut buf = [0u8; 8];
        for s in [
            0.0,
            -0.0,
            1.0,
            -1.0,
            1.5,
            255.0,
            -256.0,
            9_007_199_254_740_991.0,
            -9_007_199_254_740_991.0,
            9_007_199_254_740_992.0,
            1e300,
            f64::INFINITY,
            f64::NEG_INFINITY,
            f64::MIN_POSITIVE,
        ] {
            let n = encode_score(s, &mut buf);
            let back = decode_score(&buf[..n]);
            // Adding 0.0 turns -0.0 into 0.0 and keeps everything else.
            assert_eq!(back.to_bits(), (s + 0.0).to_bits(), "{s}");
        }
        assert_eq!(encode_score(0.0, &mut buf), 0);
        assert_eq!(encode_score(63.0, &mut buf), 1);
    }

    #[test]
    fn parse_bounds() {
        assert_eq!(parse_score_bound(b"(1.5"), Ok((1.5, true)));
        assert_eq!(parse_score_bound(b"-inf"), Ok((f64::NEG_INFINITY, false)));
        assert_eq!(parse_score_bound(b"+inf"), Ok((f64::INFINITY, false)));
        assert_eq!(parse_score_bound(b"abc"), Err(ERR_MIN_MAX_NOT_FLOAT));
        assert_eq!(parse_score_bound(b"nan"), Err(ERR_MIN_MAX_NOT_FLOAT));
        assert_eq!(parse_lex_bound(b"-"), Ok(LexBound::NegInf));
        assert_eq!(parse_lex_bound(b"+"), Ok(LexBound::PosInf));
        assert_eq!(
            parse_lex_bound(b"[a"),
            Ok(LexBound::Inclusive(b"a"[..].into()))
        );
        assert_eq!(
            parse_lex_bound(b"("),
            Ok(LexBound::Exclusive(b""[..].into()))
        );
        for bad in [&b""[..], b"a", b"+a", b"-a", b"1"] {
            assert_eq!(parse_lex_bound(bad), Err(ERR_MIN_MAX_NOT_LEX));
        }
        assert!(ScoreRange::parse(b"1", b"x").is_err());
        assert!(LexRange::parse(b"[a", b"x").is_err());
    }

    #[test]
    fn add_flags_follow_zsetadd() {
        for mut z in both() {
            let lim = ZSetLimits::default();
            assert_eq!(z.add(b"a", 1.0, ADD, &lim), Ok(ZAddOutcome::Added(1.0)));
            assert_eq!(z.add(b"a", 1.0, ADD, &lim), Ok(ZAddOutcome::Unchanged(1.0)));
            assert_eq!(z.add(b"a", 2.0, ADD, &lim), Ok(ZAddOutcome::Updated(2.0)));
            let nx = ZAddFlags { nx: true, ..ADD };
            assert_eq!(z.add(b"a", 5.0, nx, &lim), Ok(ZAddOutcome::Skipped));
            assert_eq!(z.add(b"b", 5.0, nx, &lim), Ok(ZAddOutcome::Added(5.0)));
            let xx = ZAddFlags { xx: true, ..ADD };
            assert_eq!(z.add(b"c", 5.0, xx, &lim), Ok(ZAddOutcome::Skipped));
            assert_eq!(z.add(b"a", 3.0, xx, &lim), Ok(ZAddOutcome::Updated(3.0)));
            let gt = ZAddFlags { gt: true, ..ADD };
            assert_eq!(z.add(b"a", 1.0, gt, &lim), Ok(ZAddOutcome::Skipped));
            assert_eq!(z.add(b"a", 3.0, gt, &lim), Ok(ZAddOutcome::Skipped));
            assert_eq!(z.add(b"a", 4.0, gt, &lim), Ok(ZAddOutcome::Updated(4.0)));
            assert_eq!(z.add(b"d", -1.0, gt, &lim), Ok(ZAddOutcome::Added(-1.0)));
            let lt = ZAddFlags { lt: true, ..ADD };
            assert_eq!(z.add(b"a", 9.0, lt, &lim), Ok(ZAddOutcome::Skipped));
            assert_eq!(z.add(b"a", 0.5, lt, &lim), Ok(ZAddOutcome::Updated(0.5)));
            let incr = ZAddFlags { incr: true, ..ADD };
            assert_eq!(z.add(b"a", 2.0, incr, &lim), Ok(ZAddOutcome::Updated(2.5)));
            assert_eq!(z.add(b"e", 2.0, incr, &lim), Ok(ZAddOutcome::Added(2.0)));
            assert_eq!(
                z.add(b"e", 0.0, incr, &lim),
                Ok(ZAddOutcome::Unchanged(2.0))
            );
            let incr_gt = ZAddFlags {
                incr: true,
                gt: true,
                ..ADD
            };
            assert_eq!(z.add(b"e", -1.0, incr_gt, &lim), Ok(ZAddOutcome::Skipped));
            assert_eq!(z.add(b"x", f64::NAN, ADD, &lim), Err(NanScore));
            z.add(b"inf", f64::INFINITY, ADD, &lim).unwrap();
            assert_eq!(z.add(b"inf", f64::NEG_INFINITY, incr, &lim), Err(NanScore));
            assert_eq!(z.score(b"inf"), Some(f64::INFINITY));
            assert_eq!(
                z.add(b"zero", -0.0, ADD, &lim),
                Ok(ZAddOutcome::Added(-0.0))
            );
            assert_eq!(
                z.add(b"zero", 0.0, ADD, &lim),
                Ok(ZAddOutcome::Unchanged(0.0))
            );
            assert_eq!(
                z.score(b"zero").unwrap().is_sign_negative(),
                matches!(z, ZSet::SkipList(_)),
                "only a skiplist keeps the sign of zero"
            );
            let order: Vec<_> = z.iter().map(|(m, _)| m.to_vec()).collect();
            assert_eq!(
                order,
                [&b"d"[..], b"zero", b"e", b"a", b"b", b"inf"].map(<[u8]>::to_vec)
            );
        }
    }

    #[test]
    fn conversions() {
        let mut z = ZSet::new();
        for i in 0..8 {
            z.add(format!("m{i}").as_bytes(), f64::from(i), ADD, &SMALL)
                .unwrap();
        }
        assert_eq!(z.encoding_name(), "listpack");
        z.add(b"m8", 8.0, ADD, &SMALL).unwrap();
        assert_eq!(z.encoding_name(), "skiplist");
        assert_eq!(z.len(), 9);
        assert_eq!(z.rank(b"m8", false), Some(8));
        z.remove_range_by_rank(0, 7);
        assert_eq!(z.encoding_name(), "skiplist", "no way back on removal");
        z.convert_to_listpack_if_fits(&SMALL);
        assert_eq!(z.encoding_name(), "listpack");
        assert_eq!(owned(z.range_by_rank(0, 10, false)), vec![el("m8", 8.0)]);

        let mut z = ZSet::new();
        z.add(b"123456789", 1.0, ADD, &SMALL).unwrap();
        assert_eq!(z.encoding_name(), "skiplist");
        z.convert_to_listpack_if_fits(&SMALL);
        assert_eq!(z.encoding_name(), "skiplist", "member too long");
        let mut z = ZSet::new();
        z.add(b"12345678", 1.0, ADD, &SMALL).unwrap();
        assert_eq!(z.encoding_name(), "listpack");
        // An existing member never converts, even under XX.
        assert_eq!(ZSet::with_len_hint(9, &SMALL).encoding_name(), "skiplist");
        assert_eq!(ZSet::with_len_hint(8, &SMALL).encoding_name(), "listpack");
    }

    fn sample() -> [ZSet; 2] {
        let mut out = both();
        for z in &mut out {
            for (m, s) in [("a", 1.0), ("b", 2.0), ("c", 2.0), ("d", 3.0), ("e", 5.0)] {
                z.add(m.as_bytes(), s, ADD, &ZSetLimits::default()).unwrap();
            }
        }
        out
    }

    #[test]
    fn ranges() {
        for z in sample() {
            assert_eq!(z.rank(b"a", false), Some(0));
            assert_eq!(z.rank(b"a", true), Some(4));
            assert_eq!(z.rank(b"zz", false), None);
            assert_eq!(
                owned(z.range_by_rank(1, 2, false)),
                vec![el("b", 2.0), el("c", 2.0)]
            );
            assert_eq!(
                owned(z.range_by_rank(0, 1, true)),
                vec![el("e", 5.0), el("d", 3.0)]
            );
            assert_eq!(z.range_by_rank(3, 100, false).len(), 2);
            assert!(z.range_by_rank(5, 9, false).is_empty());
            assert!(z.range_by_rank(3, 2, false).is_empty());

            let r = ScoreRange::parse(b"(1", b"3").unwrap();
            assert_eq!(z.count_in_score_range(&r), 3);
            let got = owned(z.range_by_score(&r, false, 0, None));
            assert_eq!(got, vec![el("b", 2.0), el("c", 2.0), el("d", 3.0)]);
            let got = owned(z.range_by_score(&r, true, 1, Some(1)));
            assert_eq!(got, vec![el("c", 2.0)]);
            assert!(z.range_by_score(&r, false, 3, None).is_empty());
            let r = ScoreRange::parse(b"-inf", b"+inf").unwrap();
            assert_eq!(z.count_in_score_range(&r), 5);
            let r = ScoreRange::parse(b"3", b"1").unwrap();
            assert_eq!(z.count_in_score_range(&r), 0);
            let r = ScoreRange::parse(b"(2", b"(2").unwrap();
            assert_eq!(z.count_in_score_range(&r), 0);
            let r = ScoreRange::parse(b"2", b"2").unwrap();
            assert_eq!(z.count_in_score_range(&r), 2);

            let l = LexRange::parse(b"[b", b"(d").unwrap();
            assert_eq!(z.count_in_lex_range(&l), 2);
            let l = LexRange::parse(b"-", b"+").unwrap();
            assert_eq!(
                owned(z.range_by_lex(&l, true, 0, Some(2))),
                vec![el("e", 5.0), el("d", 3.0)]
            );
            let l = LexRange::parse(b"+", b"-").unwrap();
            assert_eq!(z.count_in_lex_range(&l), 0);
            assert_eq!(z.get_by_rank(4), Some((&b"e"[..], 5.0)));
            assert_eq!(z.get_by_rank(5), None);
        }
    }

    #[test]
    fn removals_and_pops() {
        for mut z in sample() {
            let r = ScoreRange::parse(b"2", b"2").unwrap();
            assert_eq!(z.remove_range_by_score(&r), 2);
            assert_eq!(z.len(), 3);
            let l = LexRange::parse(b"[e", b"+").unwrap();
            assert_eq!(z.remove_range_by_lex(&l), 1);
            assert_eq!(z.pop_max(1), vec![el("d", 3.0)]);
            assert!(z.remove(b"a"));
            assert!(!z.remove(b"a"));
            assert!(z.is_empty());
        }
        for mut z in sample() {
            assert_eq!(z.pop_min(2), vec![el("a", 1.0), el("b", 2.0)]);
            assert_eq!(z.pop_max(2), vec![el("e", 5.0), el("d", 3.0)]);
            assert_eq!(z.pop_max(9), vec![el("c", 2.0)]);
            assert!(z.pop_min(1).is_empty());
        }
        for mut z in sample() {
            assert_eq!(z.remove_range_by_rank(1, 3), 3);
            assert_eq!(
                owned(z.range_by_rank(0, 9, false)),
                vec![el("a", 1.0), el("e", 5.0)]
            );
            assert_eq!(z.remove_range_by_rank(2, 3), 0);
        }
    }

    #[test]
    fn random_and_scan() {
        let mut rng = rand::thread_rng();
        for z in sample() {
            assert_eq!(z.random_pairs(9, true, &mut rng).len(), 5);
            let d = z.random_pairs(3, true, &mut rng);
            assert_eq!(d.iter().map(|p| p.0).collect::<BTreeSet<_>>().len(), 3);
            assert_eq!(z.random_pairs(9, false, &mut rng).len(), 9);
            let (m, s) = z.random_pair(&mut rng).unwrap();
            assert_eq!(z.score(m), Some(s));
            let mut seen = BTreeSet::new();
            let mut cursor = 0;
            loop {
                let (next, items) = z.scan(cursor, 2, Some(b"[a-d]"));
                seen.extend(items.into_iter().map(|(m, _)| m.to_vec()));
                if next == 0 {
                    break;
                }
                cursor = next;
            }
            assert_eq!(seen.len(), 4);
        }
    }

    #[test]
    fn big_set_stays_consistent() {
        let mut z = ZSet::new_skiplist();
        let lim = ZSetLimits::default();
        let n = 3000;
        for i in 0..n {
            let s = f64::from((i * 7919) % 1000);
            z.add(format!("m{i}").as_bytes(), s, ADD, &lim).unwrap();
        }
        let all: Vec<_> = owned(z.iter().collect());
        assert_eq!(all.len(), n as usize);
        assert!(all
            .windows(2)
            .all(|w| cmp_elem(w[0].1, &w[0].0, w[1].1, &w[1].0) == Ordering::Less));
        for (r, (m, _)) in all.iter().enumerate() {
            assert_eq!(z.rank(m, false), Some(r));
        }
        let r = ScoreRange::parse(b"100", b"(900").unwrap();
        let removed = z.remove_range_by_score(&r);
        assert_eq!(removed, all.iter().filter(|(_, s)| r.contains(*s)).count());
        assert_eq!(z.len(), n as usize - removed);
        let rest: Vec<_> = owned(z.iter().collect());
        let want: Vec<_> = all.into_iter().filter(|(_, s)| !r.contains(*s)).collect();
        assert_eq!(rest, want);
    }

    #[derive(Debug, Clone)]
    enum Op {
        Add(u8, i8, ZAddFlags),
        Remove(u8),
        RemoveRank(usize, usize),
        RemoveScore(i8, bool, i8, bool),
        RemoveLex(u8, u8),
        PopMin(usize),
        PopMax(usize),
    }

    fn op() -> impl Strategy<Value = Op> {
        let flags = (
            any::<bool>(),
            any::<bool>(),
            any::<bool>(),
            any::<bool>(),
            any::<bool>(),
        )
            .prop_map(|(nx, xx, gt, lt, incr)| ZAddFlags {
                nx: nx && !xx,
                xx,
                gt: gt && !nx,
                lt: lt && !gt && !nx,
                incr,
            });
        prop_oneof![
            6 => (0u8..40, -5i8..5, flags).prop_map(|(m, s, f)| Op::Add(m, s, f)),
            2 => (0u8..40).prop_map(Op::Remove),
            1 => (0usize..20, 0usize..20).prop_map(|(a, b)| Op::RemoveRank(a, b)),
            1 => (-5i8..5, any::<bool>(), -5i8..5, any::<bool>())
                .prop_map(|(a, ax, b, bx)| Op::RemoveScore(a, ax, b, bx)),
            1 => (0u8..40, 0u8..40).prop_map(|(a, b)| Op::RemoveLex(a, b)),
            1 => (0usize..4).prop_map(Op::PopMin),
            1 => (0usize..4).prop_map(Op::PopMax),
        ]
    }

    fn member(m: u8) -> Vec<u8> {
        // Lengths 1..=9 so some members exceed the listpack value limit.
        vec![b'a' + m % 26; usize::from(m % 9) / 8 * 8 + 1]
    }

    /// (score bits ordered, member) model entries.
    type Model = BTreeSet<(OrdF64, Vec<u8>)>;

    #[derive(Debug, Clone, Copy, PartialEq)]
    struct OrdF64(f64);
    impl Eq for OrdF64 {}
    impl PartialOrd for OrdF64 {
        fn partial_cmp(&self, o: &Self) -> Option<Ordering> {
            Some(self.cmp(o))
        }
    }
    impl Ord for OrdF64 {
        fn cmp(&self, o: &Self) -> Ordering {
            self.0.partial_cmp(&o.0).unwrap_or(Ordering::Equal)
        }
    }

    fn model_score(m: &Model, member: &[u8]) -> Option<f64> {
        m.iter().find(|(_, x)| x == member).map(|(s, _)| s.0)
    }

    fn check(z: &ZSet, m: &Model) -> Result<(), TestCaseError> {
        let got: Vec<(Vec<u8>, f64)> = owned(z.iter().collect());
        let want: Vec<(Vec<u8>, f64)> = m.iter().map(|(s, x)| (x.clone(), s.0)).collect();
        prop_assert_eq!(&got, &want);
        prop_assert_eq!(z.len(), m.len());
        for (r, (x, s)) in want.iter().enumerate() {
            prop_assert_eq!(z.rank(x, false), Some(r));
            prop_assert_eq!(z.rank(x, true), Some(m.len() - 1 - r));
            prop_assert_eq!(z.score(x), Some(*s));
            prop_assert_eq!(z.get_by_rank(r), Some((&x[..], *s)));
        }
        for start in 0..=m.len() {
            let got = owned(z.range_by_rank(start, m.len(), true));
            let mut rev = want.clone();
            rev.reverse();
            prop_assert_eq!(got, rev[start..].to_vec());
        }
        Ok(())
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(150))]
        #[test]
        fn behaves_like_a_btreeset(ops in prop::collection::vec(op(), 0..60)) {
            let mut z = ZSet::new();
            let mut m: Model = BTreeSet::new();
            let mut was_skiplist = false;
            for op in ops {
                match op {
                    Op::Add(x, s, f) => {
                        let x = member(x);
                        let s = f64::from(s) / 2.0;
                        let cur = model_score(&m, &x);
                        let got = z.add(&x, s, f, &SMALL).unwrap();
                        let want = match cur {
                            None if f.xx => ZAddOutcome::Skipped,
                            None => ZAddOutcome::Added(s),
                            Some(_) if f.nx => ZAddOutcome::Skipped,
                            Some(c) => {
                                let n = if f.incr { c + s } else { s };
                                if (f.gt && n <= c) || (f.lt && n >= c) {
                                    ZAddOutcome::Skipped
                                } else if n == c {
                                    ZAddOutcome::Unchanged(n)
                                } else {
                                    ZAddOutcome::Updated(n)
                                }
                            }
                        };
                        prop_assert_eq!(got, want);
                        if let ZAddOutcome::Added(n) | ZAddOutcome::Updated(n) = want {
                            m.retain(|(_, y)| *y != x);
                            m.insert((OrdF64(n), x));
                        }
                    }
                    Op::Remove(x) => {
                        let x = member(x);
                        let had = model_score(&m, &x).is_some();
                        m.retain(|(_, y)| *y != x);
                        prop_assert_eq!(z.remove(&x), had);
                    }
                    Op::RemoveRank(a, b) => {
                        let removed = z.remove_range_by_rank(a, b);
                        let keep: Model = m.iter().enumerate()
                            .filter(|(i, _)| !(a <= *i && *i <= b))
                            .map(|(_, e)| e.clone()).collect();
                        prop_assert_eq!(removed, m.len() - keep.len());
                        m = keep;
                    }
                    Op::RemoveScore(a, ax, b, bx) => {
                        let r = ScoreRange {
                            min: f64::from(a) / 2.0, min_exclusive: ax,
                            max: f64::from(b) / 2.0, max_exclusive: bx,
                        };
                        let n = m.iter().filter(|(s, _)| r.contains(s.0)).count();
                        prop_assert_eq!(z.count_in_score_range(&r), n);
                        let fwd = owned(z.range_by_score(&r, false, 1, Some(2)));
                        let want: Vec<_> = m.iter().filter(|(s, _)| r.contains(s.0))
                            .skip(1).take(2).map(|(s, x)| (x.clone(), s.0)).collect();
                        prop_assert_eq!(fwd, want);
                        let rev = owned(z.range_by_score(&r, true, 1, None));
                        let want: Vec<_> = m.iter().rev().filter(|(s, _)| r.contains(s.0))
                            .skip(1).map(|(s, x)| (x.clone(), s.0)).collect();
                        prop_assert_eq!(rev, want);
                        prop_assert_eq!(z.remove_range_by_score(&r), n);
                        m.retain(|(s, _)| !r.contains(s.0));
                    }
                    Op::RemoveLex(a, b) => {
                        // Lex ranges are defined when all scores are equal:
                        // check against the model only in that case.
                        let r = LexRange {
                            min: LexBound::Inclusive(member(a).into()),
                            max: LexBound::Exclusive(member(b).into()),
                        };
                        let same = m.iter().all(|(s, _)| s.0 == m.iter().next().map_or(0.0, |f| f.0 .0));
                        if same {
                            let n = m.iter().filter(|(_, x)| r.above_min(x) && r.below_max(x)).count();
                            prop_assert_eq!(z.count_in_lex_range(&r), n);
                            prop_assert_eq!(z.remove_range_by_lex(&r), n);
                            m.retain(|(_, x)| !(r.above_min(x) && r.below_max(x)));
                        }
                    }
                    Op::PopMin(n) => {
                        let want: Vec<_> = m.iter().take(n).map(|(s, x)| (x.clone(), s.0)).collect();
                        prop_assert_eq!(z.pop_min(n), want);
                        for _ in 0..n { m.pop_first(); }
                    }
                    Op::PopMax(n) => {
                        let want: Vec<_> = m.iter().rev().take(n).map(|(s, x)| (x.clone(), s.0)).collect();
                        prop_assert_eq!(z.pop_max(n), want);
                        for _ in 0..n { m.pop_last(); }
                    }
                }
                check(&z, &m)?;
                if was_skiplist {
                    prop_assert_eq!(z.encoding_name(), "skiplist");
                }
                was_skiplist = z.encoding_name() == "skiplist";
                if !was_skiplist {
                    prop_assert!(z.len() <= SMALL.max_listpack_entries);
                }
            }
        }

        #[test]
        fn skiplist_alone_matches_model(ops in prop::collection::vec((0u16..300, -20i8..20, any::<bool>()), 0..400)) {
            let mut z = ZSet::new_skiplist();
            let mut m: Model = BTreeSet::new();
            for (x, s, add) in ops {
                let x = x.to_string().into_bytes();
                m.retain(|(_, y)| *y != x);
                if add {
                    z.add(&x, f64::from(s), ADD, &SMALL).unwrap();
                    m.insert((OrdF64(f64::from(s)), x));
                } else {
                    z.remove(&x);
                }
            }
            check(&z, &m)?;
        }
    }
}
