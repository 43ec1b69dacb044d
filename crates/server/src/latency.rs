//! The latency monitor (Redis's `latency.c`): per event class (`command`,
//! `fast-command`, `expire-cycle`, ...), the worst latency of each second
//! that reached `latency-monitor-threshold` milliseconds, the last 160 of
//! them, and the all-time worst; the LATENCY GRAPH sparkline and the
//! LATENCY DOCTOR report are drawn from them.
//!
//! The per-command latency histograms (LATENCY HISTOGRAM, INFO
//! latencystats) are kept with the command statistics (`crate::stats`).

use indexmap::IndexMap;

/// Samples kept per event (Redis's LATENCY_TS_LEN).
pub const TS_LEN: usize = 160;

/// One second's worst latency.
#[derive(Clone, Copy, Default, Debug, PartialEq, Eq)]
pub struct Sample {
    /// Unix seconds; 0 marks an unused slot.
    pub time: i64,
    /// Milliseconds.
    pub latency: u64,
}

/// The samples of one event class, a ring.
#[derive(Clone, Debug)]
pub struct Series {
    idx: usize,
    /// The all-time worst (ms).
    pub max: u64,
    samples: [Sample; TS_LEN],
}

impl Series {
    fn new() -> Series {
        Series {
            idx: 0,
            max: 0,
            samples: [Sample::default(); TS_LEN],
        }
    }

    /// The used samples, oldest first.
    pub fn samples(&self) -> impl Iterator<Item = Sample> + '_ {
        (0..TS_LEN)
            .map(move |j| self.samples[(self.idx + j) % TS_LEN])
            .filter(|s| s.time != 0)
    }

    /// The newest sample (time 0 if none).
    pub fn last(&self) -> Sample {
        self.samples[(self.idx + TS_LEN - 1) % TS_LEN]
    }
}

/// All event classes seen since the last reset.
#[derive(Default)]
pub struct LatencyMonitor {
    events: IndexMap<String, Series>,
}

impl LatencyMonitor {
    /// Record `ms` for `event` if the monitor is on (`threshold` > 0) and
    /// `ms` reaches it (Redis's latencyAddSampleIfNeeded).
    pub fn add_if_needed(
        &mut self,
        event: &str,
        ms: u64,
        threshold: i64,
        now_s: impl FnOnce() -> i64,
    ) {
        if threshold > 0 && ms >= threshold as u64 {
            self.add(event, ms, now_s());
        }
    }

    /// Record `ms` for `event`: one sample per second, the worst.
    pub fn add(&mut self, event: &str, ms: u64, now_s: i64) {
        if !self.events.contains_key(event) {
            self.events.insert(event.to_string(), Series::new());
        }
        let Some(ts) = self.events.get_mut(event) else {
            return;
        };
        ts.max = ts.max.max(ms);
        let prev = (ts.idx + TS_LEN - 1) % TS_LEN;
        if ts.samples[prev].time == now_s {
            ts.samples[prev].latency = ts.samples[prev].latency.max(ms);
            return;
        }
        ts.samples[ts.idx] = Sample {
            time: now_s,
            latency: ms,
        };
        ts.idx = (ts.idx + 1) % TS_LEN;
    }

    /// The series of `event` (case-sensitive, as Redis's dict).
    pub fn series(&self, event: &[u8]) -> Option<(&str, &Series)> {
        let name = std::str::from_utf8(event).ok()?;
        self.events
            .get_key_value(name)
            .map(|(k, v)| (k.as_str(), v))
    }

    /// Every event with its series.
    pub fn events(&self) -> impl Iterator<Item = (&str, &Series)> {
        self.events.iter().map(|(k, v)| (k.as_str(), v))
    }

    /// LATENCY RESET: drop `event` (case-insensitive) or, with None, all;
    /// returns how many were dropped.
    pub fn reset(&mut self, event: Option<&[u8]>) -> usize {
        let before = self.events.len();
        match event {
            None => self.events.clear(),
            Some(e) => self
                .events
                .retain(|k, _| !k.as_bytes().eq_ignore_ascii_case(e)),
        }
        before - self.events.len()
    }
}

/// Statistics of one event's samples (Redis's analyzeLatencyForEvent).
#[derive(Default, Debug, PartialEq, Eq)]
pub struct Analysis {
    /// Samples kept.
    pub samples: u64,
    /// Their average (ms).
    pub avg: u64,
    /// Mean absolute deviation from the average (ms).
    pub mad: u64,
    /// Seconds since the oldest sample (at least 1).
    pub period: i64,
}

/// Analyze a series at `now_s`.
pub fn analyze(ts: &Series, now_s: i64) -> Analysis {
    let mut a = Analysis::default();
    let mut sum = 0u64;
    let mut oldest = 0i64;
    for s in ts.samples() {
        a.samples += 1;
        sum += s.latency;
        if oldest == 0 || s.time < oldest {
            oldest = s.time;
        }
    }
    if a.samples == 0 {
        return a;
    }
    a.avg = sum / a.samples;
    a.period = (now_s - oldest).max(1);
    let dev: u64 = ts.samples().map(|s| a.avg.abs_diff(s.latency)).sum();
    a.mad = dev / a.samples;
    a
}

/// Columns of LATENCY GRAPH.
const GRAPH_COLS: usize = 80;
/// Rows of its sparkline.
const GRAPH_ROWS: usize = 4;

/// LATENCY GRAPH's text for `event`: a heading, then a filled sparkline of
/// the samples, labelled with how long ago each happened.
pub fn graph(event: &str, ts: &Series, now_s: i64) -> String {
    let points: Vec<(f64, String)> = ts
        .samples()
        .map(|s| {
            let ago = now_s - s.time;
            let label = if ago < 60 {
                format!("{ago}s")
            } else if ago < 3600 {
                format!("{}m", ago / 60)
            } else if ago < 86400 {
                format!("{}h", ago / 3600)
            } else {
                format!("{}d", ago / 86400)
            };
            (s.latency as f64, label)
        })
        .collect();
    let low = ts.samples().map(|s| s.latency).min().unwrap_or(0);
    let high = ts.samples().map(|s| s.latency).max().unwrap_or(0);
    let mut out = format!(
        "{event} - high {high} ms, low {low} ms (all time high {} ms)\n",
        ts.max
    );
    out.push_str(&"-".repeat(GRAPH_COLS));
    out.push('\n');
    sparkline(&mut out, &points, GRAPH_COLS, GRAPH_ROWS);
    out
}

/// A filled sparkline of `points` (value, label), `columns` wide and
/// `rows` high, wrapping into blocks of `columns` points, each followed by
/// its labels written downwards.
fn sparkline(out: &mut String, points: &[(f64, String)], columns: usize, rows: usize) {
    const FILL: &[u8] = b"_o#";
    let min = points.iter().map(|p| p.0).fold(f64::INFINITY, f64::min);
    let max = points.iter().map(|p| p.0).fold(f64::NEG_INFINITY, f64::max);
    let mut relmax = max - min;
    if relmax == 0.0 {
        relmax = 1.0;
    }
    let steps = (FILL.len() * rows) as i64;
    let has_labels = points.iter().any(|p| !p.1.is_empty());
    for (block, chunk) in points.chunks(columns).enumerate() {
        if block != 0 {
            out.push('\n');
        }
        let mut row = 0usize;
        loop {
            let mut more = false;
            let mut line = vec![b' '; chunk.len()];
            for (j, (value, label)) in chunk.iter().enumerate() {
                let step = (((value - min) * steps as f64) / relmax) as i64;
                let step = step.clamp(0, steps - 1);
                if row < rows {
                    more = true;
                    let idx = step - ((rows - row - 1) * FILL.len()) as i64;
                    if (0..FILL.len() as i64).contains(&idx) {
                        line[j] = FILL[idx as usize];
                    } else if idx >= FILL.len() as i64 {
                        line[j] = b'|';
                    }
                } else {
                    // One blank line between the graph and the labels.
                    if has_labels && row - rows < 1 {
                        more = true;
                        break;
                    }
                    let at = row - rows - 1;
                    if let Some(&c) = label.as_bytes().get(at) {
                        more = true;
                        line[j] = c;
                    }
                }
            }
            if !more {
                break;
            }
            row += 1;
            out.push_str(&String::from_utf8_lossy(&line));
            out.push('\n');
        }
    }
}

/// The settings LATENCY DOCTOR's advice depends on.
pub struct DoctorCtx {
    /// latency-monitor-threshold (ms).
    pub threshold: i64,
    /// slowlog-log-slower-than (µs).
    pub slowlog_slower_than: i64,
    /// hz.
    pub hz: i64,
    /// appendfsync is `always`.
    pub fsync_always: bool,
    /// Seconds now.
    pub now_s: i64,
}

/// LATENCY DOCTOR's report (Redis's createLatencyReport, with the advice
/// that applies to relica's events; relica does not fork, so there is no
/// fork-rate advice).
pub fn doctor(mon: &LatencyMonitor, cx: &DoctorCtx) -> String {
    let mut r = String::new();
    if mon.events.is_empty() && cx.threshold == 0 {
        r.push_str("I'm sorry, Dave, I can't do that. Latency monitoring is disabled in this Redis instance. You may use \"CONFIG SET latency-monitor-threshold <milliseconds>.\" in order to enable it. If we weren't in a deep space mission I'd suggest to take a look at https://redis.io/topics/latency-monitor.\n");
        return r;
    }
    #[derive(Default)]
    struct Advice {
        slowlog_enabled: bool,
        slowlog_tuning: bool,
        slowlog_inspect: bool,
        large_objects: bool,
        scheduler: bool,
        local_disk: bool,
        disk_contention: bool,
        ssd: bool,
        data_writeback: bool,
        no_appendfsync: bool,
        relax_fsync: bool,
        write_load_info: bool,
        hz: bool,
        mass_eviction: bool,
    }
    let mut adv = Advice::default();
    let mut advices = 0;
    for (n, (event, ts)) in mon.events.iter().enumerate() {
        if n == 0 {
            r.push_str("Dave, I have observed latency spikes in this Redis instance. You don't mind talking about it, do you Dave?\n\n");
        }
        let a = analyze(ts, cx.now_s);
        r.push_str(&format!(
            "{}. {event}: {} latency spikes (average {}ms, mean deviation {}ms, period {:.2} sec). Worst all time event {}ms.",
            n + 1,
            a.samples,
            a.avg,
            a.mad,
            a.period as f64 / a.samples.max(1) as f64,
            ts.max
        ));
        match event.to_ascii_lowercase().as_str() {
            "command" => {
                if cx.slowlog_slower_than < 0 {
                    adv.slowlog_enabled = true;
                    advices += 1;
                } else if cx.slowlog_slower_than / 1000 > cx.threshold {
                    adv.slowlog_tuning = true;
                    advices += 1;
                }
                adv.slowlog_inspect = true;
                adv.large_objects = true;
                advices += 2;
            }
            "fast-command" => {
                adv.scheduler = true;
                advices += 1;
            }
            "aof-write-pending-fsync" => {
                adv.local_disk = true;
                adv.disk_contention = true;
                adv.ssd = true;
                adv.data_writeback = true;
                advices += 4;
            }
            "aof-write-active-child" => {
                adv.no_appendfsync = true;
                adv.data_writeback = true;
                adv.ssd = true;
                advices += 3;
            }
            "aof-write-alone" => {
                adv.local_disk = true;
                adv.data_writeback = true;
                adv.ssd = true;
                advices += 3;
            }
            "aof-fsync-always" => {
                adv.relax_fsync = true;
                advices += 1;
            }
            "aof-fstat" | "rdb-unlink-temp-file" => {
                adv.disk_contention = true;
                adv.local_disk = true;
                advices += 2;
            }
            "aof-rewrite-diff-write" | "aof-rename" => {
                adv.write_load_info = true;
                adv.data_writeback = true;
                adv.ssd = true;
                adv.local_disk = true;
                advices += 4;
            }
            "expire-cycle" => {
                adv.hz = true;
                adv.large_objects = true;
                advices += 2;
            }
            "eviction-del" => {
                adv.large_objects = true;
                advices += 1;
            }
            "eviction-cycle" => {
                adv.mass_eviction = true;
                advices += 1;
            }
            _ => {}
        }
        r.push('\n');
    }
    let events = mon.events.len();
    if events == 0 && advices == 0 {
        r.push_str("Dave, no latency spike was observed during the lifetime of this Redis instance, not in the slightest bit. I honestly think you ought to sit down calmly, take a stress pill, and think things over.\n");
        return r;
    }
    if advices == 0 {
        r.push_str("\nWhile there are latency events logged, I'm not able to suggest any easy fix. Please use the Redis community to get some help, providing this report in your help request.\n");
        return r;
    }
    r.push_str("\nI have a few advices for you:\n\n");
    let us = cx.threshold.max(0) as u64 * 1000;
    if adv.slowlog_enabled {
        r.push_str(&format!("- There are latency issues with potentially slow commands you are using. Try to enable the Slow Log Redis feature using the command 'CONFIG SET slowlog-log-slower-than {us}'. If the Slow log is disabled Redis is not able to log slow commands execution for you.\n"));
    }
    if adv.slowlog_tuning {
        r.push_str(&format!("- Your current Slow Log configuration only logs events that are slower than your configured latency monitor threshold. Please use 'CONFIG SET slowlog-log-slower-than {us}'.\n"));
    }
    if adv.slowlog_inspect {
        r.push_str("- Check your Slow Log to understand what are the commands you are running which are too slow to execute. Please check https://redis.io/commands/slowlog for more information.\n");
    }
    if adv.scheduler {
        r.push_str("- The system is slow to execute Redis code paths not containing system calls. This usually means the system does not provide Redis CPU time to run for long periods. You should try to:\n  1) Lower the system load.\n  2) Use a computer / VM just for Redis if you are running other software in the same system.\n  3) Check if you have a \"noisy neighbour\" problem.\n  4) Check with 'redis-cli --intrinsic-latency 100' what is the intrinsic latency in your system.\n");
    }
    if adv.local_disk {
        r.push_str("- It is strongly advised to use local disks for persistence, especially if you are using AOF. Remote disks provided by platform-as-a-service providers are known to be slow.\n");
    }
    if adv.ssd {
        r.push_str("- SSD disks are able to reduce fsync latency, and total time needed for snapshotting and AOF log rewriting (resulting in smaller memory usage). With extremely high write load SSD disks can be a good option. However Redis should perform reasonably with high load using normal disks. Use this advice as a last resort.\n");
    }
    if adv.data_writeback {
        r.push_str("- Mounting ext3/4 filesystems with data=writeback can provide a performance boost compared to data=ordered, however this mode of operation provides less guarantees, and sometimes it can happen that after a hard crash the AOF file will have a half-written command at the end and will require to be repaired before Redis restarts.\n");
    }
    if adv.disk_contention {
        r.push_str("- Try to lower the disk contention. This is often caused by other disk intensive processes running in the same computer (including other Redis instances).\n");
    }
    if adv.no_appendfsync {
        r.push_str("- Assuming from the point of view of data safety this is viable in your environment, you could try to enable the 'no-appendfsync-on-rewrite' option, so that fsync will not be performed while an AOF rewrite or an RDB save is in progress (the moment where there is high disk contention).\n");
    }
    if adv.relax_fsync && cx.fsync_always {
        r.push_str("- Your fsync policy is set to 'always'. It is very hard to get good performances with such a setup, if possible try to relax the fsync policy to 'onesec'.\n");
    }
    if adv.write_load_info {
        r.push_str("- Latency during the AOF atomic rename operation or when the final difference is flushed to the AOF file at the end of the rewrite, sometimes is caused by very high write load, causing the AOF buffer to get very large. If possible try to send less commands to accomplish the same work, or use Lua scripts to group multiple operations into a single EVALSHA call.\n");
    }
    if adv.hz && cx.hz < 100 {
        r.push_str("- In order to make the Redis keys expiring process more incremental, try to set the 'hz' configuration parameter to 100 using 'CONFIG SET hz 100'.\n");
    }
    if adv.large_objects {
        r.push_str("- Deleting, expiring or evicting (because of maxmemory policy) large objects is a blocking operation. If you have very large objects that are often deleted, expired, or evicted, try to fragment those objects into multiple smaller objects.\n");
    }
    if adv.mass_eviction {
        r.push_str("- Sudden changes to the 'maxmemory' setting via 'CONFIG SET', or allocation of large objects via sets or sorted sets intersections, STORE option of SORT, large RESTOREs, may create sudden memory pressure forcing the server to block trying to evict keys. \n");
    }
    r
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_sample_per_second_the_worst() {
        let mut m = LatencyMonitor::default();
        m.add_if_needed("command", 50, 0, || 100);
        assert!(m.events().next().is_none(), "threshold 0 = off");
        m.add_if_needed("command", 5, 10, || 100);
        assert!(m.events().next().is_none(), "below the threshold");
        m.add_if_needed("command", 50, 10, || 100);
        m.add_if_needed("command", 70, 10, || 100);
        m.add_if_needed("command", 60, 10, || 100);
        m.add_if_needed("command", 20, 10, || 101);
        let (_, ts) = m.series(b"command").unwrap();
        let s: Vec<Sample> = ts.samples().collect();
        assert_eq!(
            s,
            vec![
                Sample {
                    time: 100,
                    latency: 70
                },
                Sample {
                    time: 101,
                    latency: 20
                }
            ]
        );
        assert_eq!(ts.max, 70);
        assert_eq!(ts.last().latency, 20);
        let a = analyze(ts, 110);
        assert_eq!((a.samples, a.avg, a.mad, a.period), (2, 45, 25, 10));
        assert_eq!(m.reset(Some(b"COMMAND")), 1);
        assert_eq!(m.reset(None), 0);
    }

    #[test]
    fn ring_keeps_the_last_160() {
        let mut m = LatencyMonitor::default();
        for t in 1..=200 {
            m.add("e", t as u64, t);
        }
        let (_, ts) = m.series(b"e").unwrap();
        let s: Vec<i64> = ts.samples().map(|s| s.time).collect();
        assert_eq!(s.len(), TS_LEN);
        assert_eq!(s[0], 41);
        assert_eq!(*s.last().unwrap(), 200);
    }

    #[test]
    fn graph_and_doctor_text() {
        let mut m = LatencyMonitor::default();
        m.add("command", 300, 10);
        m.add("command", 500, 12);
        let (e, ts) = m.series(b"command").unwrap();
        let g = graph(e, ts, 15);
        let lines: Vec<&str> = g.lines().collect();
        assert_eq!(
            lines[0],
            "command - high 500 ms, low 300 ms (all time high 500 ms)"
        );
        assert_eq!(lines[1], "-".repeat(80));
        assert_eq!(lines[2], " #");
        assert_eq!(lines[5], "_|");
        assert_eq!(lines[6], "  ");
        assert_eq!(lines[7], "53");
        assert_eq!(lines[8], "ss");
        let cx = DoctorCtx {
            threshold: 100,
            slowlog_slower_than: 10000,
            hz: 10,
            fsync_always: false,
            now_s: 15,
        };
        let d = doctor(&m, &cx);
        assert!(d.starts_with("Dave, I have observed latency spikes"));
        assert!(d.contains("1. command: 2 latency spikes (average 400ms, mean deviation 100ms, period 2.50 sec). Worst all time event 500ms."));
        assert!(d.contains("Check your Slow Log"));
        let off = DoctorCtx { threshold: 0, ..cx };
        assert!(doctor(&LatencyMonitor::default(), &off).starts_with("I'm sorry, Dave"));
    }
}
