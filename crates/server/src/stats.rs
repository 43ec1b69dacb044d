//! Statistics (INFO stats, commandstats, errorstats): the counters every
//! subsystem adds to and INFO reads. The counters only grow, except that
//! CONFIG RESETSTAT zeroes them all at once ([`Stats::reset`]); the
//! per-command time is shared out per batch rather than clocked per
//! command ([`Stats::flush_timing`]).

use std::collections::HashMap;

/// The plain counters of INFO stats, read through [`Stats::counters`] and
/// moved through [`Stats::add`].
#[derive(Default, Clone, Copy)]
pub struct Counters {
    /// total_connections_received
    pub connections: u64,
    /// total_commands_processed
    pub commands: u64,
    /// expired_keys
    pub expired_keys: u64,
    /// evicted_keys
    pub evicted_keys: u64,
    /// keyspace_hits
    pub hits: u64,
    /// keyspace_misses
    pub misses: u64,
    /// rejected_connections
    pub rejected: u64,
    /// total_net_input_bytes
    pub net_in: u64,
    /// total_net_output_bytes
    pub net_out: u64,
    /// total_error_replies
    pub error_replies: u64,
    /// unexpected_error_replies
    pub unexpected_errors: u64,
    /// sync_full
    pub sync_full: u64,
    /// sync_partial_ok
    pub sync_partial_ok: u64,
    /// sync_partial_err
    pub sync_partial_err: u64,
    /// expire_cycle_cpu_milliseconds
    pub expire_cycle_cpu_ms: u64,
    /// total_reads_processed
    pub reads: u64,
    /// total_writes_processed
    pub writes: u64,
}

/// One counter of [`Counters`], for [`Stats::add`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Counter {
    /// total_connections_received
    Connections,
    /// expired_keys
    ExpiredKeys,
    /// keyspace_hits
    Hits,
    /// keyspace_misses
    Misses,
    /// rejected_connections
    Rejected,
    /// total_net_input_bytes
    NetIn,
    /// total_net_output_bytes
    NetOut,
    /// sync_full
    SyncFull,
    /// sync_partial_ok
    SyncPartialOk,
    /// sync_partial_err
    SyncPartialErr,
    /// expire_cycle_cpu_milliseconds
    ExpireCycleCpuMs,
    /// total_reads_processed
    Reads,
    /// total_writes_processed
    Writes,
    /// unexpected_error_replies
    UnexpectedErrors,
}

/// Per-command counters (INFO commandstats).
#[derive(Default, Clone, Copy)]
pub struct CmdStat {
    /// calls
    pub calls: u64,
    /// usec
    pub usec: u64,
    /// rejected_calls
    pub rejected: u64,
    /// failed_calls
    pub failed: u64,
}

/// A hasher for keys that are already well-spread integers (addresses).
#[derive(Default, Clone, Copy)]
pub struct PtrHash;

/// The hasher `PtrHash` builds.
#[derive(Default)]
pub struct PtrHasher(u64);

impl std::hash::BuildHasher for PtrHash {
    type Hasher = PtrHasher;
    fn build_hasher(&self) -> PtrHasher {
        PtrHasher(0)
    }
}

impl std::hash::Hasher for PtrHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0 ^ u64::from(b)).wrapping_mul(0x100_0000_01b3);
        }
    }
    fn write_usize(&mut self, n: usize) {
        // Fibonacci hashing: the high bits hashbrown uses are well mixed.
        self.0 = (n as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15);
    }
}

/// Commands run in a period are timed together: a clock read per command
/// cost a few percent of a pipelined batch.
const TIMING_BATCH: usize = 256;

/// Counters reported by INFO stats, commandstats and errorstats.
pub struct Stats {
    counters: Counters,
    /// Per-command calls, usec, rejected, failed, keyed by the command
    /// table row's address (hashed by a multiply, not by its name: this is
    /// updated for every command).
    cmd: HashMap<usize, (&'static str, CmdStat), PtrHash>,
    /// Per error prefix counts.
    errors: HashMap<String, u64>,
    /// When the commands in `timing` started.
    clock_mark: std::time::Instant,
    /// Commands run since `clock_mark`, to share its time among.
    timing: Vec<usize>,
    /// instantaneous_ops_per_sec samples, one per 100 ms.
    ops_samples: [u64; 16],
    ops_idx: usize,
    ops_last: (i64, u64),
}

impl Stats {
    /// Everything zero; `now_ms` starts the ops/sec sampling.
    pub fn new(now_ms: i64) -> Stats {
        Stats {
            counters: Counters::default(),
            cmd: HashMap::default(),
            errors: HashMap::new(),
            clock_mark: std::time::Instant::now(),
            timing: Vec::new(),
            ops_samples: [0; 16],
            ops_idx: 0,
            ops_last: (now_ms, 0),
        }
    }

    /// The counters of INFO stats.
    pub fn counters(&self) -> &Counters {
        &self.counters
    }

    /// Add `n` to a counter.
    #[inline]
    pub fn add(&mut self, c: Counter, n: u64) {
        let f = &mut self.counters;
        let slot = match c {
            Counter::Connections => &mut f.connections,
            Counter::ExpiredKeys => &mut f.expired_keys,
            Counter::Hits => &mut f.hits,
            Counter::Misses => &mut f.misses,
            Counter::Rejected => &mut f.rejected,
            Counter::NetIn => &mut f.net_in,
            Counter::NetOut => &mut f.net_out,
            Counter::SyncFull => &mut f.sync_full,
            Counter::SyncPartialOk => &mut f.sync_partial_ok,
            Counter::SyncPartialErr => &mut f.sync_partial_err,
            Counter::ExpireCycleCpuMs => &mut f.expire_cycle_cpu_ms,
            Counter::Reads => &mut f.reads,
            Counter::Writes => &mut f.writes,
            Counter::UnexpectedErrors => &mut f.unexpected_errors,
        };
        *slot += n;
    }

    /// A command ran: `key` is its table row's address, `name` the name
    /// INFO commandstats shows (made only the first time).
    #[inline]
    pub fn command_ran(&mut self, key: usize, name: impl FnOnce() -> &'static str, failed: bool) {
        self.counters.commands += 1;
        let (_, st) = self
            .cmd
            .entry(key)
            .or_insert_with(|| (name(), CmdStat::default()));
        st.calls += 1;
        if failed {
            st.failed += 1;
        }
        self.timing.push(key);
        if self.timing.len() >= TIMING_BATCH {
            self.flush_timing();
        }
    }

    /// An error reply went out; `prefix` is its first word.
    pub fn error_replied(&mut self, prefix: &str) {
        self.counters.error_replies += 1;
        match self.errors.get_mut(prefix) {
            Some(n) => *n += 1,
            None => {
                self.errors.insert(prefix.to_string(), 1);
            }
        }
    }

    /// Per-command statistics, in no order.
    pub fn commands(&self) -> impl Iterator<Item = &(&'static str, CmdStat)> {
        self.cmd.values()
    }

    /// Error replies per prefix, in no order.
    pub fn errors(&self) -> impl Iterator<Item = (&String, &u64)> {
        self.errors.iter()
    }

    /// CONFIG RESETSTAT: every counter back to zero.
    pub fn reset(&mut self, now_ms: i64) {
        *self = Stats::new(now_ms);
    }

    /// Share the time since the period started among the commands run
    /// since, in INFO commandstats, and start a new period.
    pub fn flush_timing(&mut self) {
        let now = std::time::Instant::now();
        if !self.timing.is_empty() {
            let us = now.saturating_duration_since(self.clock_mark).as_micros() as u64;
            let per = us / self.timing.len() as u64;
            let mut rest = us % self.timing.len() as u64;
            for key in std::mem::take(&mut self.timing) {
                if let Some((_, st)) = self.cmd.get_mut(&key) {
                    st.usec += per + u64::from(rest > 0);
                    rest = rest.saturating_sub(1);
                }
            }
        }
        self.clock_mark = now;
    }

    /// Take an ops/sec sample (the cron calls this every 100 ms).
    pub fn sample_ops(&mut self, now: i64) {
        let (t, n) = self.ops_last;
        let dt = (now - t).max(1) as u64;
        let ops = (self.counters.commands - n) * 1000 / dt;
        self.ops_samples[self.ops_idx] = ops;
        self.ops_idx = (self.ops_idx + 1) % self.ops_samples.len();
        self.ops_last = (now, self.counters.commands);
    }

    /// instantaneous_ops_per_sec.
    pub fn ops_per_sec(&self) -> u64 {
        self.ops_samples.iter().sum::<u64>() / self.ops_samples.len() as u64
    }
}
