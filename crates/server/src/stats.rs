//! Statistics (INFO stats, commandstats, errorstats): the counters every
//! subsystem adds to and INFO reads. The counters only grow, except that
//! CONFIG RESETSTAT zeroes them all at once ([`Stats::reset`]). Each
//! command's time also goes to a latency histogram of its own (LATENCY
//! HISTOGRAM, INFO latencystats) while `latency-tracking` is on.

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
    /// evicted_clients
    pub evicted_clients: u64,
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
    /// reply_buffer_shrinks
    pub reply_shrinks: u64,
    /// reply_buffer_expands
    pub reply_expands: u64,
}

/// One counter of [`Counters`], for [`Stats::add`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Counter {
    /// total_connections_received
    Connections,
    /// expired_keys
    ExpiredKeys,
    /// evicted_keys
    EvictedKeys,
    /// evicted_clients
    EvictedClients,
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
    /// reply_buffer_shrinks
    ReplyShrinks,
    /// reply_buffer_expands
    ReplyExpands,
}

/// Per-command counters (INFO commandstats) and latency histogram.
#[derive(Default, Clone)]
pub struct CmdStat {
    /// calls
    pub calls: u64,
    /// Time run (ns; INFO shows it as usec).
    pub nsec: u64,
    /// rejected_calls
    pub rejected: u64,
    /// failed_calls
    pub failed: u64,
    /// Latencies in nanoseconds (1 ns to 1 s, two significant digits, as
    /// Redis's hdr_histogram), made at the first tracked run.
    pub hist: Option<Box<Histogram>>,
}

/// A command's latency histogram.
pub type Histogram = hdrhistogram::Histogram<u64>;

/// Lowest latency tracked (ns; Redis's LATENCY_HISTOGRAM_MIN_VALUE).
const HIST_MIN: u64 = 1;
/// Highest latency tracked (ns; Redis's LATENCY_HISTOGRAM_MAX_VALUE).
const HIST_MAX: u64 = 1_000_000_000;

impl CmdStat {
    /// Record a run of `ns` nanoseconds in the histogram, clamped to its
    /// range as Redis clamps it.
    pub fn record_latency(&mut self, ns: u64) {
        let h = self.hist.get_or_insert_with(|| {
            Box::new(Histogram::new_with_bounds(HIST_MIN, HIST_MAX, 2).expect("valid bounds"))
        });
        h.saturating_record(ns.clamp(HIST_MIN, HIST_MAX));
    }
}

/// The value at `percentile` of `h`, computed as Redis's
/// hdr_value_at_percentile (which rounds the target count to nearest, where
/// the crate's own rounds up): the highest value equivalent to the one
/// reached, or the lowest for percentile 0.
pub fn value_at_percentile(h: &Histogram, percentile: f64) -> u64 {
    let p = percentile.min(100.0);
    let target = (((p / 100.0) * h.len() as f64) + 0.5) as u64;
    let target = target.max(1);
    let mut seen = 0u64;
    for v in h.iter_recorded() {
        seen += v.count_at_value();
        if seen >= target {
            let at = v.value_iterated_to();
            return if percentile == 0.0 {
                h.lowest_equivalent(at)
            } else {
                h.highest_equivalent(at)
            };
        }
    }
    0
}

/// LATENCY HISTOGRAM's buckets for `h`: (upper bound in µs, cumulative
/// count) at power-of-two steps from 1024 ns, the empty steps left out
/// (Redis's fillCommandCDF).
pub fn cdf(h: &Histogram) -> Vec<(u64, u64)> {
    let mut out = Vec::new();
    let mut cumulative = 0u64;
    let mut previous = 0u64;
    for v in h.iter_log(1024, 2.0) {
        cumulative += v.count_since_last_iteration();
        if cumulative > previous {
            out.push((v.value_iterated_to() / 1000, cumulative));
        }
        previous = cumulative;
    }
    out
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

/// Counters reported by INFO stats, commandstats and errorstats.
pub struct Stats {
    counters: Counters,
    /// Per-command calls, usec, rejected, failed, keyed by the command
    /// table row's address (hashed by a multiply, not by its name: this is
    /// updated for every command).
    cmd: HashMap<usize, (&'static str, CmdStat), PtrHash>,
    /// Per error prefix counts.
    errors: HashMap<String, u64>,
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
            Counter::EvictedKeys => &mut f.evicted_keys,
            Counter::EvictedClients => &mut f.evicted_clients,
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
            Counter::ReplyShrinks => &mut f.reply_shrinks,
            Counter::ReplyExpands => &mut f.reply_expands,
        };
        *slot += n;
    }

    /// A command ran for `ns` nanoseconds: `key` is its table row's
    /// address, `name` the name INFO commandstats shows (made only the first
    /// time); `track` records the run in its latency histogram.
    #[inline]
    pub fn command_ran(
        &mut self,
        key: usize,
        name: impl FnOnce() -> &'static str,
        failed: bool,
        ns: u64,
        track: bool,
    ) {
        self.counters.commands += 1;
        let (_, st) = self
            .cmd
            .entry(key)
            .or_insert_with(|| (name(), CmdStat::default()));
        st.calls += 1;
        if failed {
            st.failed += 1;
        }
        st.nsec += ns;
        if track {
            st.record_latency(ns);
        }
    }

    /// A command was refused before it ran (rejected_calls).
    pub fn command_rejected(&mut self, key: usize, name: impl FnOnce() -> &'static str) {
        let (_, st) = self
            .cmd
            .entry(key)
            .or_insert_with(|| (name(), CmdStat::default()));
        st.rejected += 1;
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

    /// The statistics of the command whose table row is at `key`.
    pub fn command(&self, key: usize) -> Option<&CmdStat> {
        self.cmd.get(&key).map(|(_, st)| st)
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
