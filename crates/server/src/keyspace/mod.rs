//! The keyspace: one `Db` per logical database.
//!
//! A `Db` is split into `NSEG` segments chosen by twelve middle bits of the key's
//! hash, each a `hashbrown::HashTable` with its own version number. Two
//! things need the segments (DESIGN.md, "Snapshots without fork"):
//!
//! - a snapshot serializes the keyspace one segment at a time and must know,
//!   before a write lands, whether the segment it touches was already saved;
//!   every mutation goes through `Db::seg_mut`, the one place that bumps the
//!   version and where the snapshot's copy-before-write hook sits;
//! - SCAN walks segments in order and, inside a segment, keys in hash order,
//!   so its cursor (segment, next hash) stays valid however the tables grow
//!   or shrink: every key present for the whole scan is returned.
//!
//! Expiry times live in the entry (`-1` = none); each segment counts its
//! volatile keys so the active expiry cycle skips segments without any.

mod entry_key;
pub mod evict;
pub mod evict_pool;
pub mod expire;
pub mod lazyfree;
mod replica_expire;
mod space;
mod value;

pub use entry_key::EntryKey;
pub use evict_pool::{Eviction, Policy};
pub use space::Keyspace;
pub use value::{Value, ValueType};

use std::sync::OnceLock;

use hashbrown::HashTable;

/// A running snapshot's copy-before-write hook on one database (the
/// saver of `persist::snapshot`): it is handed every segment it has not
/// saved yet just before a write changes it, and every segment before the
/// database's content is dropped.
pub trait SnapshotHook: Send {
    /// Save segment `idx` as it is now, unless it already was.
    fn save_segment(&mut self, idx: usize, seg: &Segment);
    /// Save every segment not saved yet.
    fn save_all(&mut self, segs: &[Segment]);
    /// The hook as `Any`, for its owner to find its own type again.
    fn as_any(&mut self) -> &mut dyn std::any::Any;
}

/// Segments per database (a power of two).
pub const NSEG: usize = 4096;
const SEG_BITS: u32 = NSEG.trailing_zeros();
const POS_BITS: u32 = 64 - SEG_BITS;

/// A key's bytes.
pub type Key = Box<[u8]>;

static HASHER: OnceLock<ahash::RandomState> = OnceLock::new();

/// The keyspace hash of a key (random seed per process, like Redis's siphash
/// seed).
#[inline]
pub fn hash_key(k: &[u8]) -> u64 {
    HASHER.get_or_init(ahash::RandomState::new).hash_one(k)
}

/// Where the segment number sits in a key's hash. The segment tables are
/// handed the full hash, and hashbrown takes a bucket from its low bits and
/// a 7-bit tag from its top bits: both must vary among the keys of one
/// segment, so the segment comes from the middle. (Taking it from the low
/// bits sent every key of a segment to the same first bucket, and probes
/// grew with the segment.)
const SEG_SHIFT: u32 = 32;

#[inline]
fn seg_of(h: u64) -> usize {
    ((h >> SEG_SHIFT) as usize) & (NSEG - 1)
}

/// Position of a hash inside its segment's scan order: the hash without
/// its segment bits.
#[inline]
fn pos_of(h: u64) -> u64 {
    let low = h & ((1u64 << SEG_SHIFT) - 1);
    ((h >> (SEG_SHIFT + SEG_BITS)) << SEG_SHIFT) | low
}

/// A key to insert: borrowed (copied if it is new) or already owned.
trait PutKey {
    fn bytes(&self) -> &[u8];
    fn into_key(self) -> EntryKey;
}

impl PutKey for &[u8] {
    fn bytes(&self) -> &[u8] {
        self
    }
    fn into_key(self) -> EntryKey {
        EntryKey::new(self)
    }
}

impl PutKey for EntryKey {
    fn bytes(&self) -> &[u8] {
        self
    }
    fn into_key(self) -> EntryKey {
        self
    }
}

/// One key with its value and metadata.
pub struct Entry {
    /// The key.
    pub key: EntryKey,
    /// The value.
    pub value: Value,
    expire: i64,
    /// LRU clock (seconds, 24 bits as Redis) of the last access, or
    /// under an LFU policy (minutes << 8 | counter); bit 31 marks a small
    /// integer stored while an LRU/LFU policy forbade sharing it
    /// ([`UNSHARED_INT`]).
    pub lru: u32,
}

/// The access field's bits (Redis's 24-bit `lru`).
pub const ACCESS_MASK: u32 = (1 << 24) - 1;
/// Set in [`Entry::lru`] on a small integer that is not a shared object
/// (OBJECT REFCOUNT 1): it was stored under maxmemory with an LRU or LFU
/// policy, as Redis then creates its own object.
pub const UNSHARED_INT: u32 = 1 << 31;

impl Entry {
    /// The access field (LRU clock or LFU data) without the flag bit.
    #[inline]
    pub fn access_field(&self) -> u32 {
        self.lru & ACCESS_MASK
    }

    /// Absolute expiry in ms, or -1.
    #[inline]
    pub fn expire(&self) -> i64 {
        self.expire
    }

    /// Whether the key is logically expired at `now`.
    #[inline]
    pub fn is_expired(&self, now: i64) -> bool {
        self.expire >= 0 && self.expire <= now
    }
}

/// One segment.
#[derive(Default)]
pub struct Segment {
    /// Entries are boxed: the table then holds 8-byte pointers, so its
    /// power-of-two growth costs little, as Redis's dict of dictEntry
    /// pointers (inline 56-byte entries doubled the table's footprint).
    table: HashTable<Box<Entry>>,
    /// Bumped by every mutation; the snapshot compares it with its epoch.
    pub version: u64,
    volatile: u32,
}

impl Segment {
    /// Entries, in table order.
    pub fn iter(&self) -> impl Iterator<Item = &Entry> {
        self.table.iter().map(|b| &**b)
    }

    /// Number of keys.
    pub fn len(&self) -> usize {
        self.table.len()
    }

    /// No keys.
    pub fn is_empty(&self) -> bool {
        self.table.is_empty()
    }
}

/// A logical database.
#[derive(Default)]
pub struct Db {
    segs: Vec<Segment>,
    keys: usize,
    volatile: usize,
    /// Global write counter used as the next segment version.
    clock: u64,
    /// The running snapshot's record of this database's unsaved segments.
    snap: Option<Box<dyn SnapshotHook>>,
}

impl Db {
    /// An empty database.
    pub fn new() -> Self {
        Db::default()
    }

    /// An empty database whose segment array is there from the start, as
    /// Redis's dict has its small table: the first key then allocates no
    /// more than any other (under maxmemory a 200 kB step at the first key
    /// would read as a burst of writes). Databases nobody selects stay
    /// without one until their first key.
    pub fn with_segments() -> Self {
        let mut db = Db::default();
        db.segs.resize_with(NSEG, Segment::default);
        db
    }

    /// Number of keys (including logically expired ones not yet reclaimed).
    pub fn len(&self) -> usize {
        self.keys
    }

    /// No keys.
    pub fn is_empty(&self) -> bool {
        self.keys == 0
    }

    /// What the key tables take beyond the keys and values themselves
    /// (MEMORY STATS overhead.hashtable.main, as Redis counts its dict's
    /// entries, buckets and key objects): the segments' buckets and the
    /// boxed entries. (The segment array itself is there from the start,
    /// counted in startup.allocated as Redis's empty dicts are.)
    pub fn table_overhead(&self) -> usize {
        let buckets: usize = self
            .segs
            .iter()
            .map(|s| s.table.capacity() * (std::mem::size_of::<Box<Entry>>() + 1))
            .sum();
        buckets + self.keys * std::mem::size_of::<Entry>()
    }

    /// Number of keys with an expiry.
    pub fn volatile_len(&self) -> usize {
        self.volatile
    }

    /// The segments, for snapshots and full iteration.
    pub fn segments(&self) -> &[Segment] {
        &self.segs
    }

    /// Make room for about `keys` keys in total (RESIZEDB while loading), so
    /// the tables do not rehash again and again as they fill.
    pub fn reserve(&mut self, keys: usize) {
        if self.segs.is_empty() {
            self.segs.resize_with(NSEG, Segment::default);
        }
        let per = keys / NSEG + keys / NSEG / 8 + 1;
        for seg in &mut self.segs {
            let more = per.saturating_sub(seg.table.len());
            seg.table.reserve(more, |e| hash_key(&e.key));
        }
    }

    /// Start a snapshot of this database: `make` builds the saver for its
    /// segment count. A database that never had segments has nothing to
    /// save (segments created later hold only post-snapshot writes).
    pub fn begin_snapshot(&mut self, make: impl FnOnce(usize) -> Box<dyn SnapshotHook>) {
        self.snap = (!self.segs.is_empty()).then(|| make(self.segs.len()));
    }

    /// The snapshot ended or was abandoned: drop its hook.
    pub fn end_snapshot(&mut self) {
        self.snap = None;
    }

    /// The segments and the snapshot saver, borrowed together.
    pub fn snapshot_parts<T: 'static>(&mut self) -> (&[Segment], Option<&mut T>) {
        let hook = self.snap.as_deref_mut();
        (
            &self.segs,
            hook.and_then(|h| h.as_any().downcast_mut::<T>()),
        )
    }

    /// The one gate for mutation: bumps the segment's version, and first
    /// lets a running snapshot save the segment's current content
    /// (copy-before-write).
    #[inline]
    fn seg_mut(&mut self, idx: usize) -> &mut Segment {
        if self.segs.is_empty() {
            self.segs.resize_with(NSEG, Segment::default);
        }
        if let Some(s) = self.snap.as_deref_mut() {
            s.save_segment(idx, &self.segs[idx]);
        }
        self.clock += 1;
        let seg = &mut self.segs[idx];
        seg.version = self.clock;
        seg
    }

    /// Look a key up without any expiry logic.
    #[inline]
    pub fn get(&self, key: &[u8]) -> Option<&Entry> {
        let h = hash_key(key);
        self.segs
            .get(seg_of(h))?
            .table
            .find(h, |e| *e.key == *key)
            .map(|b| &**b)
    }

    /// Look a key up for writing its value (expiry is changed with
    /// `set_expire`/`persist`).
    #[inline]
    pub fn get_mut(&mut self, key: &[u8]) -> Option<&mut Entry> {
        let h = hash_key(key);
        if self.segs.is_empty() {
            return None;
        }
        self.seg_mut(seg_of(h))
            .table
            .find_mut(h, |e| *e.key == *key)
            .map(|b| &mut **b)
    }

    /// Look a key up for reading and refresh its LRU clock (not a data
    /// change: the segment version stays).
    #[inline]
    pub fn get_touch(&mut self, key: &[u8], lru: u32) -> Option<&Entry> {
        let h = hash_key(key);
        let e = self
            .segs
            .get_mut(seg_of(h))?
            .table
            .find_mut(h, |e| *e.key == *key)?;
        e.lru = (e.lru & UNSHARED_INT) | lru;
        Some(&**e)
    }

    /// Insert or overwrite a key. `expire` is absolute ms or -1. Returns the
    /// previous entry (its key is left in the table: the entry returned
    /// has an empty one). The key is copied only when it is new.
    pub fn insert(&mut self, key: &[u8], value: Value, expire: i64, lru: u32) -> Option<Entry> {
        self.put(key, value, expire, lru)
    }

    /// `insert` with a key already allocated (a loader's): the table
    /// keeps it as it is.
    pub fn insert_owned(
        &mut self,
        key: EntryKey,
        value: Value,
        expire: i64,
        lru: u32,
    ) -> Option<Entry> {
        self.put(key, value, expire, lru)
    }

    fn put(&mut self, key: impl PutKey, value: Value, expire: i64, lru: u32) -> Option<Entry> {
        let h = hash_key(key.bytes());
        let seg = self.seg_mut(seg_of(h));
        let new_vol = (expire >= 0) as u32;
        match seg.table.find_mut(h, |e| *e.key == *key.bytes()) {
            Some(e) => {
                let old_vol = (e.expire >= 0) as u32;
                let old_value = std::mem::replace(&mut e.value, value);
                let old_expire = std::mem::replace(&mut e.expire, expire);
                e.lru = lru;
                seg.volatile = seg.volatile + new_vol - old_vol;
                self.volatile = self.volatile + new_vol as usize - old_vol as usize;
                Some(Entry {
                    key: EntryKey::new(b""),
                    value: old_value,
                    expire: old_expire,
                    lru,
                })
            }
            None => {
                seg.table.insert_unique(
                    h,
                    Box::new(Entry {
                        key: key.into_key(),
                        value,
                        expire,
                        lru,
                    }),
                    |e| hash_key(&e.key),
                );
                seg.volatile += new_vol;
                self.volatile += new_vol as usize;
                self.keys += 1;
                None
            }
        }
    }

    /// Replace a key's value, keeping its expiry (Redis's `dbOverwrite`).
    /// Returns false when the key does not exist.
    pub fn overwrite(&mut self, key: &[u8], value: Value) -> bool {
        match self.get_mut(key) {
            Some(e) => {
                e.value = value;
                true
            }
            None => false,
        }
    }

    /// Remove a key.
    pub fn remove(&mut self, key: &[u8]) -> Option<Entry> {
        let h = hash_key(key);
        if self.segs.is_empty() {
            return None;
        }
        let seg = self.seg_mut(seg_of(h));
        let e = *seg.table.find_entry(h, |e| *e.key == *key).ok()?.remove().0;
        if e.expire >= 0 {
            seg.volatile -= 1;
            self.volatile -= 1;
        }
        self.keys -= 1;
        Some(e)
    }

    /// Set an absolute expiry (ms) on an existing key, or -1 to persist.
    /// Returns false when the key does not exist.
    pub fn set_expire(&mut self, key: &[u8], when: i64) -> bool {
        let h = hash_key(key);
        if self.segs.is_empty() {
            return false;
        }
        let seg = self.seg_mut(seg_of(h));
        let Some(e) = seg.table.find_mut(h, |e| *e.key == *key) else {
            return false;
        };
        let (was, is) = (e.expire >= 0, when >= 0);
        e.expire = when;
        match (was, is) {
            (false, true) => {
                seg.volatile += 1;
                self.volatile += 1;
            }
            (true, false) => {
                seg.volatile -= 1;
                self.volatile -= 1;
            }
            _ => {}
        }
        true
    }

    /// Drop every key.
    pub fn clear(&mut self) {
        for i in 0..self.segs.len() {
            let seg = self.seg_mut(i);
            seg.table = HashTable::new();
            seg.volatile = 0;
        }
        self.keys = 0;
        self.volatile = 0;
    }

    /// Take the whole content out, leaving an empty database (FLUSHALL
    /// ASYNC hands the old one to a background thread to free).
    pub fn take(&mut self) -> Db {
        let clock = self.clock + 1;
        let mut old = std::mem::take(self);
        self.clock = clock;
        old.clock = clock;
        // The emptied database keeps a segment array (see `new`).
        self.segs.resize_with(NSEG, Segment::default);
        // A running snapshot saves what it has not saved yet, and keeps
        // its saver (and buffered bytes) with this database.
        if let Some(mut s) = old.snap.take() {
            s.save_all(&old.segs);
            self.snap = Some(s);
        }
        old
    }

    /// All entries.
    pub fn iter(&self) -> impl Iterator<Item = &Entry> {
        self.segs.iter().flat_map(|s| s.iter())
    }

    /// One SCAN step. `cursor` is 0 at the start; the returned cursor is 0
    /// when the scan is complete. At least `count` keys are visited when
    /// there are that many left (more when keys tie on a hash position).
    /// Empty segments are skipped without limit: a database has a fixed
    /// number of them, where Redis's table shrinks with its keys, so a small
    /// database is scanned in one call as Redis scans it (a call costs at
    /// most one pass over the segment headers).
    pub fn scan(&self, cursor: u64, count: usize, out: &mut Vec<Key>) -> u64 {
        if self.segs.is_empty() {
            return 0;
        }
        let count = count.max(1);
        let mut seg = (cursor >> POS_BITS) as usize;
        let mut pos = cursor & ((1u64 << POS_BITS) - 1);
        let mut found = 0usize;
        let mut cand: Vec<(u64, &Entry)> = Vec::new();
        while seg < NSEG {
            cand.clear();
            for e in self.segs[seg].table.iter() {
                let p = pos_of(hash_key(&e.key));
                if p >= pos {
                    cand.push((p, &**e));
                }
            }
            if cand.is_empty() {
                seg += 1;
                pos = 0;
                continue;
            }
            let want = count - found;
            if cand.len() > want {
                cand.sort_unstable_by_key(|(p, _)| *p);
                // Take `want` keys plus every key that ties with the last.
                let last = cand[want - 1].0;
                let mut n = want;
                while n < cand.len() && cand[n].0 == last {
                    n += 1;
                }
                if n < cand.len() {
                    out.extend(cand[..n].iter().map(|(_, e)| e.key.to_boxed()));
                    return ((seg as u64) << POS_BITS) | (last + 1);
                }
            }
            found += cand.len();
            out.extend(cand.iter().map(|(_, e)| e.key.to_boxed()));
            seg += 1;
            pos = 0;
            if found >= count {
                break;
            }
        }
        if seg >= NSEG {
            0
        } else {
            (seg as u64) << POS_BITS
        }
    }

    /// A random key, or None when empty.
    pub fn random_key(&self, rng: &mut impl rand::Rng) -> Option<&Entry> {
        if self.keys == 0 {
            return None;
        }
        // Probe random segments; with few keys fall back to a linear walk
        // from a random start so the cost stays bounded.
        for _ in 0..64 {
            let s = &self.segs[rng.gen_range(0..NSEG)];
            if !s.table.is_empty() {
                return s
                    .table
                    .iter()
                    .nth(rng.gen_range(0..s.table.len()))
                    .map(|b| &**b);
            }
        }
        let start = rng.gen_range(0..NSEG);
        (0..NSEG)
            .map(|i| &self.segs[(start + i) % NSEG])
            .find(|s| !s.table.is_empty())
            .and_then(|s| s.table.iter().nth(rng.gen_range(0..s.table.len())))
            .map(|b| &**b)
    }

    /// Up to `count` keys picked as Redis's dictGetSomeKeys picks them for
    /// eviction: from a random segment on, a run of neighbouring entries
    /// from a random place in each, only keys with a TTL when `volatile`.
    /// Each pick is handed to `f` (it may repeat across calls, never
    /// within one). Bounded work: at most `10 * count` segments looked at,
    /// or all of them when there are fewer keys than segments (so a few
    /// keys are still found).
    pub fn sample(
        &self,
        rng: &mut impl rand::Rng,
        count: usize,
        volatile: bool,
        mut f: impl FnMut(&Entry),
    ) {
        let total = if volatile { self.volatile } else { self.keys };
        if total == 0 || self.segs.is_empty() || count == 0 {
            return;
        }
        let mut got = 0;
        let mut idx = rng.gen_range(0..NSEG);
        let steps = if total < NSEG {
            NSEG
        } else {
            (count * 10).max(64)
        };
        for _ in 0..steps {
            let s = &self.segs[idx];
            idx = (idx + 1) & (NSEG - 1);
            let n = if volatile {
                s.volatile as usize
            } else {
                s.table.len()
            };
            if n == 0 {
                continue;
            }
            let len = s.table.len();
            let skip = rng.gen_range(0..len);
            let run = s
                .table
                .iter()
                .skip(skip)
                .chain(s.table.iter().take(skip))
                .map(|b| &**b)
                .filter(|e| !volatile || e.expire >= 0);
            for e in run {
                f(e);
                got += 1;
                if got >= count {
                    return;
                }
            }
            if got >= total {
                return;
            }
        }
    }

    /// The name of a random key with a TTL (volatile-random), or None
    /// when none has.
    pub fn random_volatile_key(&self, rng: &mut impl rand::Rng) -> Option<Key> {
        let mut pick = None;
        self.sample(rng, 1, true, |e| pick = Some(e.key.to_boxed()));
        pick
    }

    /// Number of volatile keys in a segment.
    pub fn seg_volatile(&self, idx: usize) -> u32 {
        self.segs.get(idx).map(|s| s.volatile).unwrap_or(0)
    }

    /// Collect the keys of segment `idx` that are expired at `now`.
    pub fn expired_in_segment(&self, idx: usize, now: i64, out: &mut Vec<Key>) {
        if let Some(s) = self.segs.get(idx) {
            if s.volatile > 0 {
                out.extend(
                    s.table
                        .iter()
                        .filter(|e| e.is_expired(now))
                        .map(|e| e.key.to_boxed()),
                );
            }
        }
    }

    /// Average remaining TTL (ms) of volatile keys, as INFO keyspace's
    /// avg_ttl (0 when none).
    pub fn avg_ttl(&self, now: i64) -> i64 {
        if self.volatile == 0 {
            return 0;
        }
        let (mut sum, mut n) = (0i128, 0i128);
        // Sample at most 4096 volatile keys: INFO must stay cheap.
        for e in self.iter().filter(|e| e.expire >= 0).take(4096) {
            sum += (e.expire - now).max(0) as i128;
            n += 1;
        }
        if n == 0 {
            0
        } else {
            (sum / n) as i64
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(v: &str) -> Value {
        Value::from_bytes(v.as_bytes())
    }

    #[test]
    fn insert_get_remove_counts() {
        let mut db = Db::new();
        assert!(db.insert(b"a", s("1"), -1, 0).is_none());
        assert!(db.insert(b"b", s("2"), 100, 0).is_none());
        assert_eq!((db.len(), db.volatile_len()), (2, 1));
        assert!(db.insert(b"b", s("3"), -1, 0).is_some());
        assert_eq!((db.len(), db.volatile_len()), (2, 0));
        assert!(db.set_expire(b"a", 5));
        assert_eq!(db.volatile_len(), 1);
        assert!(db.remove(b"a").is_some());
        assert_eq!((db.len(), db.volatile_len()), (1, 0));
        assert!(db.get(b"a").is_none());
        assert!(db.get(b"b").is_some());
    }

    #[test]
    fn scan_returns_every_key_once_even_with_small_counts() {
        let mut db = Db::new();
        for i in 0..5000 {
            db.insert(format!("k{i}").as_bytes(), s("v"), -1, 0);
        }
        for count in [1, 7, 100, 10_000] {
            let mut seen = std::collections::HashSet::new();
            let mut c = 0;
            let mut calls = 0;
            loop {
                let mut out = Vec::new();
                c = db.scan(c, count, &mut out);
                for k in out {
                    assert!(seen.insert(k), "duplicate");
                }
                calls += 1;
                if c == 0 {
                    break;
                }
                assert!(calls < 1_000_000);
            }
            assert_eq!(seen.len(), 5000, "count {count}");
        }
    }

    #[test]
    fn scan_survives_growth_between_calls() {
        let mut db = Db::new();
        for i in 0..1000 {
            db.insert(format!("k{i}").as_bytes(), s("v"), -1, 0);
        }
        let mut seen = std::collections::HashSet::new();
        let mut c = 0;
        let mut extra = 0;
        loop {
            let mut out = Vec::new();
            c = db.scan(c, 10, &mut out);
            seen.extend(out);
            for _ in 0..20 {
                db.insert(format!("x{extra}").as_bytes(), s("v"), -1, 0);
                extra += 1;
            }
            if c == 0 {
                break;
            }
        }
        for i in 0..1000 {
            assert!(seen.contains(format!("k{i}").as_bytes()));
        }
    }

    #[test]
    fn random_key_finds_the_only_key() {
        let mut db = Db::new();
        let mut rng = rand::thread_rng();
        assert!(db.random_key(&mut rng).is_none());
        db.insert(b"only", s("v"), -1, 0);
        assert_eq!(&*db.random_key(&mut rng).unwrap().key, b"only");
    }
}
