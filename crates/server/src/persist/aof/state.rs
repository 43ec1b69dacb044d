//! The AOF subsystem's state (Redis's `server.aof_*`): whether the log is
//! on, its manifest, the open file, the rewrite in progress and the
//! counters INFO persistence reports. Nothing here names the engine; the
//! operations (`mod.rs`, `feed.rs`, `done.rs`) change it through the engine.

use std::sync::Arc;

use super::manifest::Manifest;
use super::writer::AofWriter;

/// The annotation a clean shutdown ends the log with:
/// `#relica-repl:<replid> <offset> <db>`, the replication position the
/// log's last write reached. A restart that finds it as the log's last
/// line continues that replication history, so replicas resync partially
/// (Redis 7.0 keeps the position only in an RDB's aux fields, and starts
/// a new history after loading an AOF). Any write after it (the next run's)
/// voids it, so a crash never claims a position the log does not reach.
/// Redis and redis-check-aof skip `#` lines they do not know.
pub const REPL_MARK: &str = "#relica-repl:";

/// The replication position a clean shutdown wrote at the end of the log
/// (see [`REPL_MARK`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReplMark {
    /// The replication id.
    pub replid: String,
    /// The offset the log's last write reached.
    pub offset: i64,
    /// The db the stream had selected.
    pub db: i64,
}

impl ReplMark {
    /// Parse `#relica-repl:<id> <offset> <db>\r\n`.
    pub fn parse(line: &[u8]) -> Option<ReplMark> {
        let rest = line.strip_prefix(REPL_MARK.as_bytes())?;
        let text = std::str::from_utf8(rest)
            .ok()?
            .trim_end_matches(['\r', '\n']);
        let mut it = text.split(' ');
        let replid = it.next()?;
        let offset = it.next()?.parse().ok()?;
        let db = it.next()?.parse().ok()?;
        if it.next().is_some()
            || replid.len() != 40
            || !replid.bytes().all(|b| b.is_ascii_hexdigit())
            || offset < 0
        {
            return None;
        }
        Some(ReplMark {
            replid: replid.to_string(),
            offset,
            db,
        })
    }

    /// The annotation line.
    pub fn line(&self) -> String {
        format!(
            "{}{} {} {}\r\n",
            REPL_MARK, self.replid, self.offset, self.db
        )
    }
}

/// Redis's aof_state.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AofState {
    /// No AOF.
    Off,
    /// Writes are appended to the open incremental file.
    On,
    /// Turned on at runtime: the first rewrite must end before the log
    /// counts (writes collect in a temporary incremental file).
    WaitRewrite,
}

/// A rewrite in progress.
#[derive(Clone, Debug)]
pub struct Rewrite {
    /// When it started (s).
    pub started: i64,
    /// The temporary base file it writes.
    pub tmp: String,
}

/// The AOF subsystem. Invariants: `writer` is Some exactly while the state
/// is On, or WaitRewrite with a rewrite running; at most one rewrite runs,
/// and only while no other background save does.
pub struct Aof {
    pub(super) state: AofState,
    pub(super) manifest: Manifest,
    pub(super) writer: Option<Arc<AofWriter>>,
    /// The db the log last selected, or -1.
    pub(super) selected_db: i64,
    /// The last `#TS:` annotation written (s).
    pub(super) cur_timestamp: i64,
    pub(super) rewrite: Option<Rewrite>,
    /// aof_rewrite_scheduled.
    pub(super) scheduled: bool,
    /// aof_last_bgrewrite_status.
    pub(super) last_bgrewrite_ok: bool,
    /// aof_rewrites.
    pub(super) rewrites: u64,
    /// aof_rewrites_consecutive_failures.
    pub(super) consecutive_failures: u64,
    /// aof_last_rewrite_time_sec.
    pub(super) last_rewrite_secs: i64,
    /// aof_base_size: the log's size after the last rewrite.
    pub(super) base_size: u64,
    /// Replaying the log: nothing is fed back into it.
    pub(super) loading: bool,
    /// The rewrite retry limit (aofRewriteLimited).
    pub(super) next_delay_minutes: i64,
    pub(super) next_rewrite_time: i64,
    /// The last write failure seen by a cron (for the MISCONF text).
    pub(super) flush_sleep_us: u64,
    /// The replication mark the last replay found at the log's end.
    pub(super) loaded_mark: Option<ReplMark>,
}

impl Aof {
    /// The state for `appendonly`.
    pub fn new(on: bool) -> Aof {
        Aof {
            state: if on { AofState::On } else { AofState::Off },
            manifest: Manifest::default(),
            writer: None,
            selected_db: -1,
            cur_timestamp: 0,
            rewrite: None,
            scheduled: false,
            last_bgrewrite_ok: true,
            rewrites: 0,
            consecutive_failures: 0,
            last_rewrite_secs: -1,
            base_size: 0,
            loading: false,
            next_delay_minutes: 0,
            next_rewrite_time: 0,
            flush_sleep_us: 0,
            loaded_mark: None,
        }
    }

    /// aof_state.
    pub fn state(&self) -> AofState {
        self.state
    }

    /// Whether writes are fed to the log now.
    #[inline]
    pub fn feeding(&self) -> bool {
        !self.loading
            && (self.state == AofState::On
                || (self.state == AofState::WaitRewrite && self.rewrite.is_some()))
            && self.writer.is_some()
    }

    /// The open file, to flush before replies.
    #[inline]
    pub fn writer(&self) -> Option<&Arc<AofWriter>> {
        self.writer.as_ref()
    }

    /// Whether a rewrite runs.
    pub fn rewriting(&self) -> bool {
        self.rewrite.is_some()
    }

    /// Whether a rewrite is scheduled.
    pub fn scheduled(&self) -> bool {
        self.scheduled
    }

    /// Schedule a rewrite (BGREWRITEAOF while another save runs); a manual
    /// request resets the failure count so it runs at once.
    pub fn schedule(&mut self) {
        self.scheduled = true;
        self.consecutive_failures = 0;
    }

    /// Whether the log is being replayed.
    pub fn loading(&self) -> bool {
        self.loading
    }

    /// A replay starts or ends.
    pub fn set_loading(&mut self, on: bool) {
        self.loading = on;
    }

    /// The manifest.
    pub fn manifest(&self) -> &Manifest {
        &self.manifest
    }

    /// DEBUG AOF-FLUSH-SLEEP.
    pub fn set_flush_sleep(&mut self, us: u64) {
        self.flush_sleep_us = us;
    }
}

/// An AOF operation failed; why is already in the log (Redis's C_ERR after
/// a serverLog).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Logged;

impl From<()> for Logged {
    fn from(_: ()) -> Logged {
        Logged
    }
}
