//! Replication state shared by both roles.
//!
//! Replication ids and offsets follow Redis's `replication.c`: `replid` is
//! the id of the history this node's data belongs to, `replid2` the id of
//! the history it came from (valid up to `second_replid_offset`), and
//! `master_repl_offset` counts every byte of the replication stream this node
//! produced or received. The stream only exists (and the offset only moves)
//! while there is a backlog, as in Redis.

pub mod buffer;
pub mod failover;
pub mod feed;
pub mod handshake;
pub mod master;
pub mod peers;
pub mod replica;

use rand::RngCore;

/// A new random 40-hex-digit replication id.
pub fn random_replid() -> String {
    let mut b = [0u8; 20];
    rand::thread_rng().fill_bytes(&mut b);
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// A write goes to the AOF (Redis's PROPAGATE_AOF, Lua's REPL_AOF).
pub const PROPAGATE_AOF: u8 = 1;
/// A write goes to the replicas (PROPAGATE_REPL, REPL_REPLICA).
pub const PROPAGATE_REPL: u8 = 2;
/// Both (REPL_ALL).
pub const PROPAGATE_ALL: u8 = PROPAGATE_AOF | PROPAGATE_REPL;

/// The replication subsystem: this node's place in the replication
/// history (ids and offsets), the stream it keeps (the shared buffer), its
/// replicas, its link with its own master and a FAILOVER in progress.
///
/// Invariants (Redis's `replication.c`): `master_repl_offset` moves only
/// while `backlog_active`; `replid2` is valid up to
/// `second_replid_offset`; a node has a `link` exactly while it is a
/// replica; the stream's commands are the engine's execution order, with
/// the writes of an open unit (`prop_unit`, EXEC) emitted together.
/// Fields are private to `repl/`; the rest of the server uses the methods.
pub struct Replication {
    /// Whether a backlog exists (the stream is being kept).
    backlog_active: bool,
    /// Current replication id.
    replid: String,
    /// Previous replication id, or 40 zeros.
    replid2: String,
    /// Offset up to which `replid2` is valid, or -1.
    second_replid_offset: i64,
    /// Bytes of replication stream produced/received.
    master_repl_offset: i64,
    /// The db the stream last selected (-1 = none), so a SELECT is emitted
    /// when it changes.
    stream_db: i64,
    /// As a replica: whether the link with our master is up.
    master_link_up: bool,
    /// The shared replication buffer (the backlog and every replica's
    /// output), once a replica attached (`buffer`).
    backlog: Option<std::sync::Arc<buffer::ReplBuffer>>,
    /// Attached replicas.
    replicas: Vec<peers::Replica>,
    /// The link with our master, when we are a replica.
    link: Option<peers::Link>,
    /// Bumped by every REPLICAOF, to retire old link tasks.
    link_generation: u64,
    /// A FAILOVER in progress.
    failover: Option<peers::Failover>,
    /// Since when (s) no replica is attached, for repl-backlog-ttl.
    no_replicas_since: i64,
    /// When (s) replicas were last pinged.
    last_replica_ping: i64,
    /// Writes of the running unit (EXEC), emitted together at its end.
    prop_unit: Option<Vec<(usize, Vec<Vec<u8>>)>>,
    /// Where each of the unit's writes goes ([`PROPAGATE_AOF`],
    /// [`PROPAGATE_REPL`]), by index; a write past its end goes to
    /// both (a script's `redis.set_repl` narrows its writes).
    prop_targets: Vec<u8>,
    /// The running command propagates even if the dirty counter did not
    /// move (Redis's forceCommandPropagation: FLUSHALL saves and zeroes it).
    force_propagation: bool,
    /// A caller collects what is propagated ([`Replication::capture`]).
    capturing: bool,
}

impl Replication {
    /// A master with a new id, no backlog and no replicas; `now_secs`
    /// starts the repl-backlog-ttl clock.
    pub fn new(now_secs: i64) -> Replication {
        Replication {
            backlog_active: false,
            replid: random_replid(),
            replid2: "0".repeat(40),
            second_replid_offset: -1,
            master_repl_offset: 0,
            stream_db: -1,
            master_link_up: false,
            backlog: None,
            replicas: Vec::new(),
            link: None,
            link_generation: 0,
            failover: None,
            no_replicas_since: now_secs,
            last_replica_ping: now_secs,
            prop_unit: None,
            prop_targets: Vec::new(),
            force_propagation: false,
            capturing: false,
        }
    }

    /// The current replication id.
    pub fn replid(&self) -> &str {
        &self.replid
    }

    /// Whether this node writes a stream of its own: it keeps a backlog
    /// and is not a replica. A replica's stream is its master's, proxied
    /// byte for byte (`crate::link`): nothing it runs itself (a client's
    /// PUBLISH, a writable replica's writes, DEBUG REPLICATE, a PING) may
    /// move its offset, as Redis's `replicationFeedSlaves` returns at once
    /// when `masterhost` is set.
    pub fn stream_active(&self) -> bool {
        self.backlog_active && self.link.is_none()
    }

    /// master_repl_offset.
    pub fn offset(&self) -> i64 {
        self.master_repl_offset
    }

    /// Whether the stream is kept (a backlog exists).
    pub fn backlog_active(&self) -> bool {
        self.backlog_active
    }

    /// The db the stream last selected, or -1.
    pub fn stream_db(&self) -> i64 {
        self.stream_db
    }

    /// As a replica, whether the link with the master is up.
    pub fn master_link_up(&self) -> bool {
        self.master_link_up
    }

    /// The link with our master, when we are a replica.
    pub fn link(&self) -> Option<&peers::Link> {
        self.link.as_ref()
    }

    /// The link with our master, to update its progress.
    pub fn link_mut(&mut self) -> Option<&mut peers::Link> {
        self.link.as_mut()
    }

    /// Bytes of our master's stream were applied (and fed on to our own
    /// replicas): our offset moves by as much.
    pub fn applied_from_master(&mut self, bytes: i64) {
        self.master_repl_offset += bytes;
    }

    /// INFO's master_failover_state.
    pub fn failover_state_name(&self) -> &'static str {
        match self.failover.as_ref().map(|f| f.state) {
            None => "no-failover",
            Some(peers::FailoverState::WaitForSync) => "waiting-for-sync",
            Some(peers::FailoverState::InProgress) => "failover-in-progress",
        }
    }

    /// Whether a FAILOVER is handing over to its target (PSYNC FAILOVER).
    pub fn failing_over(&self) -> bool {
        self.failover
            .as_ref()
            .is_some_and(|f| f.state == peers::FailoverState::InProgress)
    }

    /// Become a replica with `link` at `offset`, without a task (tests of
    /// the stream applier).
    #[cfg(test)]
    pub fn set_link_for_test(&mut self, link: peers::Link, offset: i64) {
        self.link = Some(link);
        self.master_repl_offset = offset;
    }

    /// Attached replicas.
    pub fn replicas(&self) -> &[peers::Replica] {
        &self.replicas
    }

    /// A FAILOVER in progress.
    pub fn failover(&self) -> Option<&peers::Failover> {
        self.failover.as_ref()
    }

    /// Start a FAILOVER (the caller checked none is in progress).
    pub fn start_failover(&mut self, f: peers::Failover) {
        self.failover = Some(f);
    }

    /// How many writes the open unit collected so far (0 without one).
    pub fn unit_len(&self) -> usize {
        self.prop_unit.as_ref().map_or(0, |u| u.len())
    }

    /// Drop the open unit's writes after the first `len` (a script's
    /// `redis.set_repl` kept them from replicas).
    pub fn truncate_unit(&mut self, len: usize) {
        if let Some(u) = self.prop_unit.as_mut() {
            u.truncate(len);
        }
        self.prop_targets.truncate(len);
    }

    /// Send the open unit's writes after the first `from` only to
    /// `target` (a script's `redis.set_repl(redis.REPL_AOF)` or
    /// `REPL_REPLICA`).
    pub fn retarget_unit(&mut self, from: usize, target: u8) {
        let len = self.unit_len();
        if from >= len {
            return;
        }
        self.prop_targets.resize(len, PROPAGATE_ALL);
        for t in &mut self.prop_targets[from..] {
            *t = target;
        }
    }

    /// Take the open unit's writes with their targets.
    pub(super) fn take_unit(&mut self) -> Option<(Vec<(usize, Vec<Vec<u8>>)>, Vec<u8>)> {
        let cmds = self.prop_unit.take()?;
        Some((cmds, std::mem::take(&mut self.prop_targets)))
    }

    /// Whether a write has anywhere to go: the stream (a backlog, on a
    /// master) or a caller capturing it. The AOF is asked apart.
    pub fn wanted(&self) -> bool {
        self.stream_active() || self.capturing
    }

    /// Whether writes are being collected into a unit (EXEC).
    pub fn in_unit(&self) -> bool {
        self.prop_unit.is_some()
    }

    /// The running command propagates even though it changed nothing
    /// (FLUSHALL, after its save zeroed the dirty counter).
    pub fn force_propagation(&mut self) {
        self.force_propagation = true;
    }

    /// Whether the running command asked to be propagated; asks no more.
    pub fn take_forced(&mut self) -> bool {
        std::mem::take(&mut self.force_propagation)
    }

    /// Collect what is propagated from now on instead of emitting it, and
    /// return what was collected so far (tests look at a command's
    /// propagated form this way).
    pub fn capture(&mut self) -> Vec<(usize, Vec<Vec<u8>>)> {
        self.capturing = true;
        self.prop_targets.clear();
        self.prop_unit.replace(Vec::new()).unwrap_or_default()
    }

    /// Stop collecting (see [`Replication::capture`]); returns what was
    /// collected.
    pub fn end_capture(&mut self) -> Vec<(usize, Vec<Vec<u8>>)> {
        self.capturing = false;
        self.prop_targets.clear();
        self.prop_unit.take().unwrap_or_default()
    }
}
