//! Keys a writable replica's own clients gave a time to live, as Redis's
//! `slaveKeysWithExpire` (expire.c).
//!
//! A replica never expires keys by its own clock: its master sends a DEL
//! when a key expires there. Keys that the replica's own clients wrote
//! (`replica-read-only no`) are unknown to the master, so nobody would ever
//! delete them. The replica remembers them, with the databases they were
//! set in, and its cron deletes those that expired. A remembered key that
//! is gone, or lost its TTL, is forgotten when the cron next looks at it.

use std::collections::HashMap;

use super::Key;

/// Key → bitmap of the databases (0..64) it was given a TTL in.
#[derive(Default)]
pub struct ReplicaExpires {
    keys: HashMap<Key, u64>,
}

impl ReplicaExpires {
    /// Remember that `key` in `db` has a TTL set by a replica's client.
    /// Databases above 63 are not tracked (Redis's limit too).
    pub fn remember(&mut self, db: usize, key: &[u8]) {
        if db >= 64 {
            return;
        }
        *self.keys.entry(Key::from(key)).or_default() |= 1 << db;
    }

    /// How many keys are remembered.
    #[cfg(test)]
    pub fn len(&self) -> usize {
        self.keys.len()
    }

    /// Whether none is.
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    /// Forget them all (a full resync replaced the dataset, or this node
    /// is a master again and expires keys itself).
    pub fn clear(&mut self) {
        self.keys = HashMap::new();
    }

    /// One pass over the remembered keys: `expired(db, key)` says whether
    /// the key is in `db` with a TTL that passed (Some(true)), with a TTL
    /// still to come (Some(false)), or no longer there with a TTL (None).
    /// Returns the (db, key) pairs to delete; keys with nothing left to
    /// watch are forgotten.
    pub fn collect_expired(
        &mut self,
        mut expired: impl FnMut(usize, &[u8]) -> Option<bool>,
    ) -> Vec<(usize, Key)> {
        let mut out = Vec::new();
        self.keys.retain(|key, dbs| {
            let mut keep = 0u64;
            let mut bits = *dbs;
            while bits != 0 {
                let db = bits.trailing_zeros() as usize;
                bits &= bits - 1;
                match expired(db, key) {
                    Some(true) => out.push((db, key.clone())),
                    Some(false) => keep |= 1 << db,
                    None => {}
                }
            }
            *dbs = keep;
            keep != 0
        });
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_only_keys_whose_ttl_is_still_to_come() {
        let mut r = ReplicaExpires::default();
        r.remember(0, b"a");
        r.remember(5, b"a");
        r.remember(2, b"b");
        r.remember(64, b"ignored");
        assert_eq!(r.len(), 2);
        // a: expired in db 0, pending in db 5; b: gone from db 2.
        let out = r.collect_expired(|db, key| match (db, key) {
            (0, b"a") => Some(true),
            (5, b"a") => Some(false),
            _ => None,
        });
        assert_eq!(out, vec![(0, Key::from(&b"a"[..]))]);
        assert_eq!(r.len(), 1);
        let out = r.collect_expired(|db, _| (db == 5).then_some(true));
        assert_eq!(out, vec![(5, Key::from(&b"a"[..]))]);
        assert!(r.is_empty());
    }
}
