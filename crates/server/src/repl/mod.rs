//! Replication state shared by both roles.
//!
//! Replication ids and offsets follow Redis's `replication.c`: `replid` is
//! the id of the history this node's data belongs to, `replid2` the id of
//! the history it came from (valid up to `second_replid_offset`), and
//! `master_repl_offset` counts every byte of the replication stream this node
//! produced or received. The stream only exists (and the offset only moves)
//! while there is a backlog, as in Redis.

pub mod buffer;
pub mod feed;
pub mod handshake;
pub mod master;
pub mod replica;

use rand::RngCore;

/// A new random 40-hex-digit replication id.
pub fn random_replid() -> String {
    let mut b = [0u8; 20];
    rand::thread_rng().fill_bytes(&mut b);
    b.iter().map(|x| format!("{x:02x}")).collect()
}

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
    replicas: Vec<master::Replica>,
    /// The link with our master, when we are a replica.
    link: Option<replica::Link>,
    /// Bumped by every REPLICAOF, to retire old link tasks.
    link_generation: u64,
    /// A FAILOVER in progress.
    failover: Option<master::Failover>,
    /// Since when (s) no replica is attached, for repl-backlog-ttl.
    no_replicas_since: i64,
    /// When (s) replicas were last pinged.
    last_replica_ping: i64,
    /// Writes of the running unit (EXEC), emitted together at its end.
    prop_unit: Option<Vec<(usize, Vec<Vec<u8>>)>>,
    /// The running command propagates even if the dirty counter did not
    /// move (Redis's forceCommandPropagation: FLUSHALL saves and zeroes it).
    force_propagation: bool,
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
            force_propagation: false,
        }
    }

    /// The current replication id.
    pub fn replid(&self) -> &str {
        &self.replid
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
    pub fn link(&self) -> Option<&replica::Link> {
        self.link.as_ref()
    }

    /// Attached replicas.
    pub fn replicas(&self) -> &[master::Replica] {
        &self.replicas
    }

    /// A FAILOVER in progress.
    pub fn failover(&self) -> Option<&master::Failover> {
        self.failover.as_ref()
    }

    /// Start a FAILOVER (the caller checked none is in progress).
    pub fn start_failover(&mut self, f: master::Failover) {
        self.failover = Some(f);
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
        self.prop_unit.replace(Vec::new()).unwrap_or_default()
    }

    /// Stop collecting (see [`Replication::capture`]); returns what was
    /// collected.
    pub fn end_capture(&mut self) -> Vec<(usize, Vec<Vec<u8>>)> {
        self.prop_unit.take().unwrap_or_default()
    }
}

/// A new backlog (`repl-backlog-size`) whose history starts after
/// `offset`, the offset of the last byte we hold.
pub fn start_backlog(eng: &mut crate::engine::Engine, offset: i64) {
    let size = backlog_size(eng);
    let r = eng.repl_mut();
    r.backlog = Some(std::sync::Arc::new(buffer::ReplBuffer::new(size, offset)));
    r.backlog_active = true;
}

/// The backlog size in effect: `repl-backlog-size`, at least 16 kB as in
/// Redis (CONFIG_REPL_BACKLOG_MIN_SIZE).
pub fn backlog_size(eng: &crate::engine::Engine) -> usize {
    (eng.cfg.int(crate::config::P::repl_backlog_size) as usize).max(buffer::MIN_BACKLOG)
}

/// After a start-up load, take the replication id and offset the file
/// recorded (Redis 7.0's loadDataFromDisk). A replica offers that history
/// to its master. A restarted master starts a new history (its fresh
/// replid) whose past, up to the file's offset, is the file's id (replid2),
/// so its replicas continue partially; the deletions of keys that expired
/// while it was down are the first bytes of its backlog, numbered after
/// the file's offset. A file without replication information gives no
/// backlog, and the expired keys' deletions are not kept either.
pub fn resume_from_file(
    e: &mut crate::engine::Engine,
    id: String,
    off: i64,
    expired: Vec<(usize, crate::keyspace::Key)>,
) {
    if id.len() != 40 {
        return;
    }
    if e.is_replica() {
        let r = e.repl_mut();
        r.replid = id;
        r.master_repl_offset = off;
        return;
    }
    e.repl_mut().master_repl_offset = 0;
    start_backlog(e, 0);
    e.repl_mut().stream_db = -1;
    let del: &[u8] = if e.cfg.bool(crate::config::P::lazyfree_lazy_expire) {
        b"UNLINK"
    } else {
        b"DEL"
    };
    for (db, key) in expired {
        e.propagate(db, &[del, &key]);
    }
    let r = e.repl_mut();
    r.replid2 = id;
    r.second_replid_offset = off + 1;
    r.master_repl_offset += off;
    if let Some(b) = r.backlog.as_ref() {
        b.rebase(off);
    }
    r.no_replicas_since = crate::clock::now_secs();
}
