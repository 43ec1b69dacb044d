//! The keyspace subsystem: the databases and the registries keyed by
//! (db, key) that must follow every change to them — WATCH (Redis's
//! `multi.c` watched_keys), clients blocked on keys and the keys made
//! ready for them (`blocked.c`), the active-expire cursor and the keys a
//! writable replica's own clients gave a TTL (`expire.c`).
//!
//! Invariants: a (db, key) is in the WATCH table only while some client
//! watches it, and in the blocked table only while some client waits on
//! it (so "nobody watches" and "nobody waits" are O(1) checks on the write
//! path); a ready key is listed once, and only while someone waits on it.

use std::collections::{HashMap, HashSet, VecDeque};

use super::replica_expire::ReplicaExpires;
use super::{Db, Key};

/// A client watching a key (Redis's watchedKey).
struct Watcher {
    id: u64,
    /// The key was logically absent (expired, not yet deleted) when watched,
    /// or became so by a FLUSHDB/SWAPDB that brought in an expired key:
    /// deleting it is then no change, and it expiring cannot fail EXEC.
    expired: bool,
}

/// The databases and their WATCH, blocking and expiry bookkeeping.
pub struct Keyspace {
    dbs: Vec<Db>,
    /// Whether the active expire cycle runs (DEBUG SET-ACTIVE-EXPIRE).
    active_expire: bool,
    /// Active expire cursor: (db, segment).
    expire_cursor: (usize, usize),
    /// Keys a writable replica's own clients gave a TTL.
    replica_expires: ReplicaExpires,
    /// Keys under WATCH: (db, key) → its watchers.
    watched: HashMap<(usize, Key), Vec<Watcher>>,
    /// Clients whose WATCHed keys were touched.
    dirty_cas: HashSet<u64>,
    /// Clients blocked on each key, in blocking order.
    blocked_on: HashMap<(usize, Key), VecDeque<u64>>,
    /// Keys signalled ready for blocked clients during the current command.
    ready_keys: Vec<(usize, Key)>,
}

impl Keyspace {
    /// `n` empty databases.
    pub fn new(n: usize) -> Keyspace {
        Keyspace {
            dbs: (0..n)
                .map(|i| {
                    if i == 0 {
                        Db::with_segments()
                    } else {
                        Db::new()
                    }
                })
                .collect(),
            active_expire: true,
            expire_cursor: (0, 0),
            replica_expires: ReplicaExpires::default(),
            watched: HashMap::new(),
            dirty_cas: HashSet::new(),
            blocked_on: HashMap::new(),
            ready_keys: Vec::new(),
        }
    }

    // ---- databases ------------------------------------------------------

    /// Database `i` (the caller checked `i < num_dbs()`).
    #[inline]
    pub fn db(&self, i: usize) -> &Db {
        &self.dbs[i]
    }

    /// Database `i`, to change.
    #[inline]
    pub fn db_mut(&mut self, i: usize) -> &mut Db {
        &mut self.dbs[i]
    }

    /// Every database, in order.
    pub fn dbs(&self) -> &[Db] {
        &self.dbs
    }

    /// Every database, to change (flushes, SWAPDB, snapshots).
    pub fn dbs_mut(&mut self) -> &mut [Db] {
        &mut self.dbs
    }

    /// How many databases there are (`databases`).
    pub fn num_dbs(&self) -> usize {
        self.dbs.len()
    }

    /// Put a loaded dataset in place of the current one (a replica's
    /// aside load); returns the old one. Both have `num_dbs()` databases.
    pub fn replace_dbs(&mut self, dbs: Vec<Db>) -> Vec<Db> {
        debug_assert_eq!(dbs.len(), self.dbs.len());
        std::mem::replace(&mut self.dbs, dbs)
    }

    // ---- WATCH ------------------------------------------------------------

    /// Client `id` watches `key` in `db` (the caller checked it did not);
    /// `expired`: the key is there but already expired.
    pub fn watch(&mut self, db: usize, key: Key, id: u64, expired: bool) {
        self.watched
            .entry((db, key))
            .or_default()
            .push(Watcher { id, expired });
    }

    /// Client `id` no longer watches `key` in `db`.
    pub fn unwatch(&mut self, db: usize, key: Key, id: u64) {
        let k = (db, key);
        if let Some(ws) = self.watched.get_mut(&k) {
            ws.retain(|w| w.id != id);
            if ws.is_empty() {
                self.watched.remove(&k);
            }
        }
    }

    /// Whether a key client `id` watches, which was not expired when
    /// watched, has expired since (Redis's isWatchedKeyExpired: EXEC fails).
    pub fn watched_key_expired(&self, keys: &[(usize, Key)], id: u64, now: i64) -> bool {
        keys.iter().any(|k| {
            let stale_at_watch = self
                .watched
                .get(k)
                .and_then(|ws| ws.iter().find(|w| w.id == id))
                .is_none_or(|w| w.expired);
            !stale_at_watch && self.dbs[k.0].get(&k.1).is_some_and(|e| e.is_expired(now))
        })
    }

    /// A key changed (called after the change): its watchers become
    /// dirty, as Redis's `touchWatchedKey`, except those that watched it
    /// already expired when the change deleted it (logically no change).
    ///
    /// A key that clients block on is also signalled ready, as Redis 7.0
    /// signals a stream key that is deleted or overwritten: blocked
    /// XREADGROUP clients are then answered with an error (the waiters'
    /// command decides what a change means to it; see `blocking.rs`).
    #[inline]
    pub fn touch_watched(&mut self, db: usize, key: &[u8]) {
        if !self.blocked_on.is_empty() {
            self.signal_ready(db, key);
        }
        if self.watched.is_empty() {
            return;
        }
        let k = (db, Key::from(key));
        let Some(ws) = self.watched.get_mut(&k) else {
            return;
        };
        let gone = self.dbs[db].get(key).is_none();
        for w in ws.iter_mut() {
            if w.expired && gone {
                w.expired = false;
            } else {
                self.dirty_cas.insert(w.id);
            }
        }
    }

    /// Database `db` is about to be emptied (FLUSHDB), or every database
    /// (`None`: FLUSHALL, a full sync, DEBUG RELOAD): watchers of keys it
    /// holds become dirty, as Redis's `touchAllWatchedKeysInDb` with
    /// nothing replacing them. Called before the flush.
    pub fn touch_all_watched(&mut self, db: Option<usize>) {
        self.signal_blocked_in(|d| db.is_none_or(|x| x == d));
        let Keyspace {
            dbs,
            watched,
            dirty_cas,
            ..
        } = self;
        for (d, emptied) in dbs.iter().enumerate() {
            if db.is_none_or(|x| x == d) {
                touch_emptied(watched, dirty_cas, d, emptied, None, 0);
            }
        }
    }

    /// Every database is about to be replaced by `new` (a replica's
    /// aside load swapping in): Redis's `touchAllWatchedKeysInDb(old, new)`.
    pub fn touch_watched_replacing(&mut self, new: &[Db], now: i64) {
        self.signal_blocked_in(|_| true);
        let Keyspace {
            dbs,
            watched,
            dirty_cas,
            ..
        } = self;
        for (d, (emptied, replaced)) in dbs.iter().zip(new).enumerate() {
            touch_emptied(watched, dirty_cas, d, emptied, Some(replaced), now);
        }
    }

    /// Databases `a` and `b` are about to swap (SWAPDB): each one's
    /// watchers see the other's keys replace its own.
    pub fn touch_watched_swapping(&mut self, a: usize, b: usize, now: i64) {
        self.signal_blocked_in(|d| d == a || d == b);
        let Keyspace {
            dbs,
            watched,
            dirty_cas,
            ..
        } = self;
        touch_emptied(watched, dirty_cas, a, &dbs[a], Some(&dbs[b]), now);
        touch_emptied(watched, dirty_cas, b, &dbs[b], Some(&dbs[a]), now);
    }

    /// Signal every key someone blocks on in the databases `in_scope`
    /// accepts (their content is about to change wholesale).
    fn signal_blocked_in(&mut self, in_scope: impl Fn(usize) -> bool) {
        let blocked: Vec<(usize, Key)> = self
            .blocked_on
            .keys()
            .filter(|(d, _)| in_scope(*d))
            .cloned()
            .collect();
        for (d, k) in blocked {
            self.signal_ready(d, &k);
        }
    }

    /// Whether a key client `id` watches was touched (EXEC fails).
    pub fn cas_failed(&self, id: u64) -> bool {
        self.dirty_cas.contains(&id)
    }

    /// Client `id` watches nothing any more: forget its touched mark.
    pub fn forget_cas(&mut self, id: u64) {
        self.dirty_cas.remove(&id);
    }

    // ---- blocked clients --------------------------------------------------

    /// Client `id` waits on `key` in `db` (once, however often it asks).
    pub fn block_on(&mut self, db: usize, key: Key, id: u64) {
        let q = self.blocked_on.entry((db, key)).or_default();
        if !q.contains(&id) {
            q.push_back(id);
        }
    }

    /// Client `id` no longer waits on `key` in `db`.
    pub fn unblock_on(&mut self, k: &(usize, Key), id: u64) {
        if let Some(q) = self.blocked_on.get_mut(k) {
            q.retain(|&x| x != id);
            if q.is_empty() {
                self.blocked_on.remove(k);
            }
        }
    }

    /// The clients waiting on `key` in `db`, in blocking order.
    pub fn waiters(&self, k: &(usize, Key)) -> Option<Vec<u64>> {
        self.blocked_on.get(k).map(|q| q.iter().copied().collect())
    }

    /// Whether no client waits on any key.
    pub fn none_blocked(&self) -> bool {
        self.blocked_on.is_empty()
    }

    /// The keys someone waits on in database `a` or `b` (SWAPDB).
    pub fn blocked_keys_in(&self, a: usize, b: usize) -> Vec<(usize, Key)> {
        self.blocked_on
            .keys()
            .filter(|(d, _)| *d == a || *d == b)
            .cloned()
            .collect()
    }

    /// Signal that a key may now satisfy blocked clients (a push to a list
    /// or zset).
    #[inline]
    pub fn signal_ready(&mut self, db: usize, key: &[u8]) {
        if self.blocked_on.is_empty() {
            return;
        }
        let k = (db, Key::from(key));
        if self.blocked_on.contains_key(&k) && !self.ready_keys.contains(&k) {
            self.ready_keys.push(k);
        }
    }

    /// Whether keys were signalled ready and not yet served.
    pub fn has_ready(&self) -> bool {
        !self.ready_keys.is_empty()
    }

    /// The keys signalled ready so far, in order; the list starts over.
    pub fn take_ready(&mut self) -> Vec<(usize, Key)> {
        std::mem::take(&mut self.ready_keys)
    }

    // ---- expiry -----------------------------------------------------------

    /// Whether the active expire cycle runs.
    pub fn active_expire(&self) -> bool {
        self.active_expire
    }

    /// DEBUG SET-ACTIVE-EXPIRE.
    pub fn set_active_expire(&mut self, on: bool) {
        self.active_expire = on;
    }

    /// Where the active expire cycle resumes: (db, segment).
    pub fn expire_cursor(&self) -> (usize, usize) {
        self.expire_cursor
    }

    /// Where the active expire cycle stopped.
    pub fn set_expire_cursor(&mut self, at: (usize, usize)) {
        self.expire_cursor = at;
    }

    /// As a writable replica, remember that `key` in `db` got a TTL from
    /// one of our own clients.
    pub fn remember_replica_ttl(&mut self, db: usize, key: &[u8]) {
        self.replica_expires.remember(db, key);
    }

    /// Forget the keys our own clients gave a TTL (a full resync replaced
    /// the dataset, or this node is a master again).
    pub fn forget_replica_ttls(&mut self) {
        self.replica_expires.clear();
    }

    /// The keys our own clients gave a TTL that has passed at `now`.
    pub fn expired_replica_keys(&mut self, now: i64) -> Vec<(usize, Key)> {
        if self.replica_expires.is_empty() {
            return Vec::new();
        }
        let dbs = &self.dbs;
        self.replica_expires.collect_expired(|db, key| {
            dbs.get(db)?
                .get(key)
                .filter(|e| e.expire() >= 0)
                .map(|e| e.is_expired(now))
        })
    }
}

/// Redis's `touchAllWatchedKeysInDb`: database `d` (`emptied`) loses its
/// content, and `replaced` (if any) takes its place. A watcher of a key
/// present on either side becomes dirty, except: a key watched stale that
/// is now gone (or replaced by another stale one) is no change, and a key
/// that was absent and is replaced by a stale one becomes stale.
fn touch_emptied(
    watched: &mut HashMap<(usize, Key), Vec<Watcher>>,
    dirty_cas: &mut HashSet<u64>,
    d: usize,
    emptied: &Db,
    replaced: Option<&Db>,
    now: i64,
) {
    for ((wd, key), ws) in watched.iter_mut() {
        if *wd != d {
            continue;
        }
        let in_emptied = emptied.get(key).is_some();
        let incoming = replaced.and_then(|r| r.get(key));
        if !in_emptied && incoming.is_none() {
            continue;
        }
        let incoming_stale = incoming.is_some_and(|e| e.is_expired(now));
        for w in ws.iter_mut() {
            if w.expired {
                if incoming.is_none() {
                    w.expired = false;
                    continue;
                }
                if incoming_stale {
                    continue;
                }
            } else if !in_emptied && incoming_stale {
                w.expired = true;
                continue;
            }
            dirty_cas.insert(w.id);
        }
    }
}
