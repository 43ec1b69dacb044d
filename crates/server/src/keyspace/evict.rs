//! Eviction under `maxmemory`, as Redis 7.0's evict.c: before a command
//! runs (and over time while memory stays above the limit) keys are
//! picked by the policy and deleted until `used_memory`, less what is not
//! counted (replication buffers beyond the backlog, the AOF buffer), is
//! back under `maxmemory`. Each eviction is propagated as DEL (UNLINK
//! under `lazyfree-lazy-eviction`), fires the `evicted` keyspace event,
//! touches WATCHers and invalidates client-side caches.
//!
//! The LRU and LFU policies sample `maxmemory-samples` keys of each
//! database into a pool of the 16 best candidates (evictionPoolPopulate)
//! and evict the best of the pool; the random policies pick one random
//! key of the next database in turn.

use super::evict_pool::Policy;
use crate::config::P;
use crate::engine::Engine;

/// What an eviction round achieved (performEvictions' result).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EvictResult {
    /// Memory is under the limit, or eviction may not run now.
    Ok,
    /// Memory is over the limit, eviction goes on over time.
    Running,
    /// Memory is over the limit and nothing (more) may be evicted.
    Fail,
}

/// Memory not counted against maxmemory (freeMemoryGetNotCountedMemory):
/// the replication buffer beyond the backlog, the AOF buffer.
pub fn not_counted(eng: &Engine) -> u64 {
    let repl = crate::repl::feed::replication_memory(eng).not_counted;
    let aof = if eng.aof().feeding() {
        eng.aof().writer().map_or(0, |w| w.buffer_len()) as u64
    } else {
        0
    };
    repl + aof
}

/// How many bytes must be freed to be back under maxmemory; 0 when
/// within it (getMaxmemoryState).
pub fn to_free(eng: &Engine) -> u64 {
    let max = eng.cfg().int(P::maxmemory) as u64;
    if max == 0 {
        return 0;
    }
    let used = crate::alloc::allocated() as u64;
    if used <= max {
        return 0;
    }
    let transient: usize = eng
        .clients()
        .outboxes()
        .values()
        .map(|o| o.transient())
        .sum();
    let used = used.saturating_sub(not_counted(eng) + transient as u64);
    used.saturating_sub(max)
}

/// Redis's isSafeToPerformEvictions: not while loading, not on a replica
/// that ignores maxmemory, not while clients are paused.
fn safe_to_evict(eng: &Engine) -> bool {
    !(eng.persist().loading()
        || (eng.is_replica() && eng.cfg().bool(P::replica_ignore_maxmemory))
        || eng.expiry_paused())
}

/// maxmemory-eviction-tenacity as a time limit for one round
/// (evictionTimeLimitUs); None is no limit.
fn time_limit(tenacity: i64) -> Option<std::time::Duration> {
    let us = if tenacity <= 10 {
        50 * tenacity.max(0) as u64
    } else if tenacity < 100 {
        (500.0 * 1.15f64.powf(tenacity as f64 - 10.0)) as u64
    } else {
        return None;
    };
    Some(std::time::Duration::from_micros(us))
}

/// How good an eviction pick a key is under the policy: larger is better.
/// The clocks are read once per sampling round, not per key.
#[derive(Clone, Copy)]
struct Scorer {
    policy: Policy,
    /// The LRU clock (seconds, 24 bits).
    lru_now: u32,
    /// The LFU clock (minutes, 16 bits) and lfu-decay-time.
    lfu_now: u32,
    lfu_decay: u32,
}

impl Scorer {
    fn new(eng: &Engine, policy: Policy) -> Scorer {
        let (lfu_now, lfu_decay) = eng.lfu_clock_and_decay();
        Scorer {
            policy,
            lru_now: eng.lru_seconds(),
            lfu_now,
            lfu_decay,
        }
    }

    #[inline]
    fn score(&self, e: &super::Entry) -> u64 {
        if self.policy.ttl() {
            u64::MAX - e.expire().max(0) as u64
        } else if self.policy.lfu() {
            255 - crate::engine::lfu_decayed(e.access_field(), self.lfu_now, self.lfu_decay) as u64
        } else {
            let now = self.lru_now;
            let lru = e.access_field();
            let idle = if now >= lru {
                now - lru
            } else {
                now + ((1 << 24) - 1 - lru)
            };
            idle as u64 * 1000
        }
    }
}

/// Fill the pool from every database, then take the best candidate that
/// still exists (and, for volatile policies, still has a TTL). A sampled
/// key's name is copied only when the pool keeps it.
fn pick_from_pool(eng: &mut Engine, policy: Policy) -> Option<(usize, super::Key)> {
    let samples = eng.cfg().int(P::maxmemory_samples).max(1) as usize;
    let volatile = !policy.allkeys();
    let scorer = Scorer::new(eng, policy);
    loop {
        let (ks, rng, pool) = eng.evict_sampling();
        let mut total = 0;
        for db in 0..ks.num_dbs() {
            let d = ks.db(db);
            let n = if volatile { d.volatile_len() } else { d.len() };
            if n == 0 {
                continue;
            }
            total += n;
            d.sample(rng, samples, volatile, |e| {
                pool.offer(scorer.score(e), &e.key, db);
            });
        }
        if total == 0 {
            return None;
        }
        while let Some(c) = pool.take_best() {
            let alive = ks
                .db(c.db)
                .get(&c.key)
                .is_some_and(|e| !volatile || e.expire() >= 0);
            if alive {
                return Some((c.db, c.key));
            }
        }
    }
}

/// A random key (with a TTL for volatile-random) of the next database
/// that has one.
fn pick_random(eng: &mut Engine, policy: Policy) -> Option<(usize, super::Key)> {
    let dbs = eng.keyspace().num_dbs();
    let (ks, rng, state) = eng.evict_sampling();
    for _ in 0..dbs {
        let db = state.next_db(dbs);
        let d = ks.db(db);
        let key = if policy.allkeys() {
            d.random_key(rng).map(|e| e.key.to_boxed())
        } else {
            d.random_volatile_key(rng)
        };
        if let Some(k) = key {
            return Some((db, k));
        }
    }
    None
}

/// Whether the latency monitor records events (latency-monitor-threshold
/// above 0).
fn latency_monitor(eng: &Engine) -> bool {
    eng.cfg().int(P::latency_monitor_threshold) > 0
}

/// Delete an evicted key and tell everyone; returns the bytes freed by
/// the deletion itself (the DEL fed to replicas and the invalidations it
/// sends are not counted, as in Redis), measured on this thread alone:
/// connections writing and freeing on other threads meanwhile (the
/// invalidations of the keys evicted before) must not make a deletion
/// look as if it freed nothing, which would evict on and on.
fn evict_key(eng: &mut Engine, db: usize, key: &[u8]) -> u64 {
    let lazy = eng.cfg().bool(P::lazyfree_lazy_eviction);
    let before = crate::alloc::thread_net() as i64;
    // Timed only for the latency monitor (latencyStartMonitor reads no
    // clock while latency-monitor-threshold is 0).
    let start = latency_monitor(eng).then(std::time::Instant::now);
    if let Some(e) = eng.keyspace_mut().db_mut(db).remove(key) {
        if lazy {
            super::lazyfree::free_value(e.value);
        }
    }
    if let Some(start) = start {
        eng.latency_sample("eviction-del", start.elapsed().as_millis() as u64);
    }
    let freed = (before - crate::alloc::thread_net() as i64).max(0) as u64;
    eng.stats_mut().add(crate::stats::Counter::EvictedKeys, 1);
    eng.keyspace_mut().touch_watched(db, key);
    eng.tracking_invalidate(key, 0);
    eng.notify_keyspace(crate::config::notify::EVICTED, "evicted", db, key);
    let cmd: &[u8] = if lazy { b"UNLINK" } else { b"DEL" };
    crate::repl::feed::feed(eng, db, &[cmd, key]);
    freed
}

/// Redis's performEvictions: evict until memory is under the limit, for
/// at most the time maxmemory-eviction-tenacity allows (then eviction
/// goes on over time, `Running`).
pub fn perform_evictions(eng: &mut Engine) -> EvictResult {
    if !safe_to_evict(eng) {
        return EvictResult::Ok;
    }
    let tofree = to_free(eng);
    if tofree == 0 {
        eng.evict_state_mut().note_exceeded(false);
        return EvictResult::Ok;
    }
    let policy = eng.evict_state().policy();
    if policy == Policy::NoEviction {
        eng.evict_state_mut().note_exceeded(true);
        return EvictResult::Fail;
    }
    let limit = time_limit(eng.cfg().int(P::maxmemory_eviction_tenacity));
    let lazy = eng.cfg().bool(P::lazyfree_lazy_eviction);
    let start = std::time::Instant::now();
    let mut freed = 0u64;
    let mut keys = 0u64;
    let mut result = EvictResult::Fail;
    let mut timed_out = false;
    while freed < tofree {
        let pick = if policy.random() {
            pick_random(eng, policy)
        } else {
            pick_from_pool(eng, policy)
        };
        let Some((db, key)) = pick else {
            break;
        };
        freed += evict_key(eng, db, &key);
        keys += 1;
        if keys % 16 == 0 {
            if lazy && to_free(eng) == 0 {
                break;
            }
            if limit.is_some_and(|l| start.elapsed() > l) {
                eng.evict_state_mut().start_proc();
                timed_out = true;
                break;
            }
        }
    }
    if freed >= tofree || timed_out || (lazy && to_free(eng) == 0) {
        // Over time only while a round runs out of time: a round that
        // freed what it had to is done (Redis's timer runs one more round
        // that finds memory fine once the replies it caused are written).
        result = if timed_out {
            EvictResult::Running
        } else {
            EvictResult::Ok
        };
    }
    if result == EvictResult::Fail {
        // Nothing left to evict: what the lazyfree thread is freeing may
        // still bring memory under the limit; wait for it a little.
        let wait = limit.unwrap_or(std::time::Duration::from_millis(1));
        while super::lazyfree::pending() > 0 && start.elapsed() < wait {
            if to_free(eng) == 0 {
                result = EvictResult::Ok;
                break;
            }
            std::thread::sleep(wait.min(std::time::Duration::from_millis(1)));
        }
    }
    if latency_monitor(eng) {
        eng.latency_sample("eviction-cycle", start.elapsed().as_millis() as u64);
    }
    eng.evict_state_mut()
        .note_exceeded(result != EvictResult::Ok);
    result
}

/// One round of eviction over time (evictionTimeProc), run by the
/// server's eviction task while `proc_running`: stops it when memory is
/// fine or nothing is left to evict. True while it should go on.
pub fn eviction_proc_round(eng: &mut Engine) -> bool {
    if perform_evictions(eng) == EvictResult::Running {
        return true;
    }
    eng.evict_state_mut().stop_proc();
    false
}

/// The hook for scripts (and anything else that must know before a
/// write): whether memory is over `maxmemory` after trying to evict, so
/// that a command that may grow memory (DENYOOM) must be refused with
/// -OOM. False when maxmemory is off.
pub fn over_limit_after_evicting(eng: &mut Engine) -> bool {
    eng.cfg().int(P::maxmemory) != 0 && perform_evictions(eng) == EvictResult::Fail
}

/// CONFIG SET maxmemory: warn when the new limit is below what is used,
/// and start evicting over time (updateMaxmemory).
pub fn maxmemory_changed(eng: &mut Engine) {
    let max = eng.cfg().int(P::maxmemory) as u64;
    crate::alloc::set_precise(max != 0);
    if max == 0 {
        return;
    }
    let used = (crate::alloc::allocated() as u64).saturating_sub(not_counted(eng));
    if max < used {
        tracing::warn!("WARNING: the new maxmemory value set via CONFIG SET ({max}) is smaller than the current memory usage ({used}). This will result in key eviction and/or the inability to accept new write commands depending on the maxmemory-policy.");
    }
    eng.evict_state_mut().start_proc();
}
