//! The state of eviction under `maxmemory` (Redis's evict.c data): the
//! policy, the eviction pool of the best candidates sampled so far, the
//! flag of the eviction that goes on over time, and the time spent over
//! the limit. The work itself, which spans subsystems, is
//! `keyspace::evict`.

use std::time::{Duration, Instant};

use super::Key;

/// Redis's EVPOOL_SIZE.
pub const POOL_SIZE: usize = 16;

/// The eight `maxmemory-policy` values.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Policy {
    /// noeviction
    NoEviction,
    /// volatile-lru
    VolatileLru,
    /// volatile-lfu
    VolatileLfu,
    /// volatile-random
    VolatileRandom,
    /// volatile-ttl
    VolatileTtl,
    /// allkeys-lru
    AllkeysLru,
    /// allkeys-lfu
    AllkeysLfu,
    /// allkeys-random
    AllkeysRandom,
}

impl Policy {
    /// The policy a config value names (noeviction for anything else).
    pub fn parse(s: &str) -> Policy {
        match s {
            "volatile-lru" => Policy::VolatileLru,
            "volatile-lfu" => Policy::VolatileLfu,
            "volatile-random" => Policy::VolatileRandom,
            "volatile-ttl" => Policy::VolatileTtl,
            "allkeys-lru" => Policy::AllkeysLru,
            "allkeys-lfu" => Policy::AllkeysLfu,
            "allkeys-random" => Policy::AllkeysRandom,
            _ => Policy::NoEviction,
        }
    }

    /// Whether every key may be evicted (else only keys with a TTL).
    pub fn allkeys(self) -> bool {
        matches!(
            self,
            Policy::AllkeysLru | Policy::AllkeysLfu | Policy::AllkeysRandom
        )
    }

    /// Whether keys are picked at random (no pool).
    pub fn random(self) -> bool {
        matches!(self, Policy::AllkeysRandom | Policy::VolatileRandom)
    }

    /// LFU policies.
    pub fn lfu(self) -> bool {
        matches!(self, Policy::AllkeysLfu | Policy::VolatileLfu)
    }

    /// volatile-ttl.
    pub fn ttl(self) -> bool {
        self == Policy::VolatileTtl
    }

    /// Redis's MAXMEMORY_FLAG_NO_SHARED_INTEGERS: under an LRU or LFU
    /// policy every key needs its own access field, so small integers are
    /// not shared objects.
    pub fn no_shared_integers(self) -> bool {
        matches!(
            self,
            Policy::VolatileLru | Policy::VolatileLfu | Policy::AllkeysLru | Policy::AllkeysLfu
        )
    }
}

/// One candidate: larger `idle` is a better pick (idle time in ms under
/// LRU, 255 minus the counter under LFU, the inverse of the expiry time
/// under volatile-ttl).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Candidate {
    /// How good a pick it is.
    pub idle: u64,
    /// The key's name.
    pub key: Key,
    /// Its database.
    pub db: usize,
}

/// Eviction's state.
#[derive(Debug)]
pub struct Eviction {
    policy: Policy,
    /// Candidates sorted by `idle`, ascending (the best last).
    pool: Vec<Candidate>,
    /// The random policies visit the databases in turn.
    next_db: usize,
    /// Eviction continues over time (Redis's evictionTimeProc).
    proc_running: bool,
    /// Since when memory is over the limit, if it is.
    exceeded_since: Option<Instant>,
    /// Time over the limit before that (total_eviction_exceeded_time).
    exceeded_total: Duration,
    /// Wakes the task that evicts over time.
    wake: std::sync::Arc<tokio::sync::Notify>,
    /// Memory was over the limit, after evicting, when the running
    /// command started (Redis's pre_command_oom_state).
    pre_command_oom: bool,
}

impl Eviction {
    /// The state for a policy.
    pub fn new(policy: Policy) -> Eviction {
        Eviction {
            policy,
            pool: Vec::with_capacity(POOL_SIZE),
            next_db: 0,
            proc_running: false,
            exceeded_since: None,
            exceeded_total: Duration::ZERO,
            wake: Default::default(),
            pre_command_oom: false,
        }
    }

    /// The policy.
    #[inline]
    pub fn policy(&self) -> Policy {
        self.policy
    }

    /// CONFIG SET maxmemory-policy: the pool's scores mean something else
    /// now.
    pub fn set_policy(&mut self, p: Policy) {
        if p != self.policy {
            self.pool.clear();
        }
        self.policy = p;
    }

    /// Offer a sampled key to the pool (evictionPoolPopulate's insertion):
    /// kept when the pool has room or it beats the worst candidate.
    pub fn offer(&mut self, idle: u64, key: &[u8], db: usize) {
        let k = self.pool.partition_point(|c| c.idle < idle);
        if self.pool.len() == POOL_SIZE {
            if k == 0 {
                return;
            }
            self.pool.remove(0);
            self.pool.insert(
                k - 1,
                Candidate {
                    idle,
                    key: key.into(),
                    db,
                },
            );
        } else {
            self.pool.insert(
                k,
                Candidate {
                    idle,
                    key: key.into(),
                    db,
                },
            );
        }
    }

    /// Take the best candidate out of the pool.
    pub fn take_best(&mut self) -> Option<Candidate> {
        self.pool.pop()
    }

    /// The database a random policy looks at next.
    pub fn next_db(&mut self, dbs: usize) -> usize {
        self.next_db = (self.next_db + 1) % dbs.max(1);
        self.next_db
    }

    /// Whether memory was over the limit, after evicting, when the
    /// running command started: a script refuses its first DENYOOM call
    /// with -OOM then (scriptVerifyOOM).
    pub fn pre_command_oom(&self) -> bool {
        self.pre_command_oom
    }

    /// Record the running command's start state (processCommand).
    pub fn set_pre_command_oom(&mut self, oom: bool) {
        self.pre_command_oom = oom;
    }

    /// Whether eviction goes on over time.
    pub fn proc_running(&self) -> bool {
        self.proc_running
    }

    /// Start eviction over time (startEvictionTimeProc); true when it was
    /// not running (the caller's wake-up then starts it).
    pub fn start_proc(&mut self) {
        if !self.proc_running {
            self.proc_running = true;
            self.wake.notify_one();
        }
    }

    /// Eviction over time is done.
    pub fn stop_proc(&mut self) {
        self.proc_running = false;
    }

    /// What the eviction task waits on.
    pub fn waker(&self) -> std::sync::Arc<tokio::sync::Notify> {
        self.wake.clone()
    }

    /// Record whether memory is (still) over the limit after an eviction
    /// round (performEvictions' update_metrics).
    pub fn note_exceeded(&mut self, over: bool) {
        match (over, self.exceeded_since) {
            (true, None) => self.exceeded_since = Some(Instant::now()),
            (false, Some(t)) => {
                self.exceeded_total += t.elapsed();
                self.exceeded_since = None;
            }
            _ => {}
        }
    }

    /// INFO total_eviction_exceeded_time and
    /// current_eviction_exceeded_time, in ms.
    pub fn exceeded_ms(&self) -> (u64, u64) {
        let cur = self.exceeded_since.map_or(Duration::ZERO, |t| t.elapsed());
        (
            (self.exceeded_total + cur).as_millis() as u64,
            cur.as_millis() as u64,
        )
    }

    /// CONFIG RESETSTAT.
    pub fn reset_stats(&mut self) {
        self.exceeded_total = Duration::ZERO;
        if self.exceeded_since.is_some() {
            self.exceeded_since = Some(Instant::now());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_pool_keeps_the_sixteen_best() {
        let mut e = Eviction::new(Policy::AllkeysLru);
        for i in 0..40u64 {
            // 0, 39, 1, 38, ...: best ones arrive in any order.
            let idle = if i % 2 == 0 { i / 2 } else { 39 - i / 2 };
            e.offer(idle, format!("k{idle}").as_bytes(), 0);
        }
        let mut got = Vec::new();
        while let Some(c) = e.take_best() {
            got.push(c.idle);
        }
        assert_eq!(got, (24..40).rev().collect::<Vec<_>>());
    }
}
