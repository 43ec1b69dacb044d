//! Expiry that changes more than the keyspace: deleting an expired key
//! propagates a DEL (or UNLINK) to replicas, fires the `expired` keyspace
//! event, touches WATCHers and counts in INFO, as Redis's
//! `deleteExpiredKeyAndPropagate`. Lookups, the active expire cycle and the
//! writable replica's cron all expire through here.

use crate::config::P;
use crate::engine::Engine;

/// Delete a key if it is logically expired. Returns true when the key is
/// (now) absent for the caller. On a replica the key is never deleted
/// by our own clock; it just reads as missing (except for the master
/// link, which must see it).
pub fn expire_if_needed(eng: &mut Engine, db: usize, key: &[u8], from_master: bool) -> bool {
    let now = eng.now();
    let Some(e) = eng.keyspace().db(db).get(key) else {
        return true;
    };
    if !e.is_expired(now) {
        return false;
    }
    // Nothing expires while a dataset loads (Redis's keyIsExpired); the
    // keys go once the load is over.
    if eng.persist().loading() {
        return false;
    }
    if eng.is_replica() {
        return !from_master;
    }
    if eng.expiry_paused() {
        // Logically expired, deleted once the pause is over (a
        // deletion would be a write).
        return true;
    }
    delete_expired(eng, db, key);
    true
}

/// As a replica, delete the keys its own clients gave a TTL that has
/// passed (Redis's expireSlaveKeys, run from the cron): the master
/// knows nothing of them.
pub fn expire_replica_keys(eng: &mut Engine) {
    let now = eng.now();
    for (db, key) in eng.keyspace_mut().expired_replica_keys(now) {
        delete_expired(eng, db, &key);
    }
}

/// Remove an expired key and propagate its deletion, as Redis's
/// `deleteExpiredKeyAndPropagate`.
pub fn delete_expired(eng: &mut Engine, db: usize, key: &[u8]) {
    let lazy = eng.cfg().bool(P::lazyfree_lazy_expire);
    match eng.keyspace_mut().db_mut(db).remove(key) {
        Some(e) if lazy => {
            super::lazyfree::free_value(e.value);
        }
        Some(_) => {}
        None => return,
    }
    eng.stats_mut().add(crate::stats::Counter::ExpiredKeys, 1);
    let cmd: &[u8] = if lazy { b"UNLINK" } else { b"DEL" };
    crate::repl::feed::feed(eng, db, &[cmd, key]);
    eng.notify_keyspace(crate::config::notify::EXPIRED, "expired", db, key);
    eng.keyspace_mut().touch_watched(db, key);
    eng.tracking_invalidate(key, 0);
}
