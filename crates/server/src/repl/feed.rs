//! The replication stream: where every propagated write goes.
//!
//! Writes are appended in execution order while the engine lock is held.
//! As in Redis, nothing is kept and the offset does not move while there is
//! no backlog (no replica has ever attached); the backlog and the replica
//! links that consume the stream come with the master side of replication.
//! A command that propagates several writes (EXEC) runs as one *unit*:
//! its writes are collected and emitted wrapped in MULTI/EXEC when there is
//! more than one, as Redis 7.0's `propagatePendingCommands`.

use std::fmt::Write as _;

use crate::engine::Engine;

pub use super::{PROPAGATE_ALL, PROPAGATE_AOF, PROPAGATE_REPL};

/// Propagate one command.
pub fn feed(eng: &mut Engine, db: usize, argv: &[&[u8]]) {
    // Neither replicas nor the AOF take it: nothing to keep (Redis's
    // shouldPropagate). Whether they do cannot change before the unit's
    // end, which runs under the same hold of the engine.
    if !eng.repl().wanted() && !eng.aof().feeding() {
        return;
    }
    if let Some(unit) = eng.repl_mut().prop_unit.as_mut() {
        unit.push((db, argv.iter().map(|a| a.to_vec()).collect()));
        return;
    }
    write_stream(eng, db, argv, PROPAGATE_ALL);
}

fn write_stream(eng: &mut Engine, db: usize, argv: &[&[u8]], target: u8) {
    // The AOF gets the same form, in the same order (Redis's propagateNow:
    // feedAppendOnlyFile, then replicationFeedSlaves).
    if target & PROPAGATE_AOF != 0 {
        crate::persist::aof::feed::feed(eng, db, argv);
    }
    if target & PROPAGATE_REPL == 0 || !eng.repl().stream_active() {
        return;
    }
    let mut buf = Vec::new();
    if eng.repl().stream_db != db as i64 {
        let d = db.to_string();
        resp::encode::command(&mut buf, &[b"SELECT", d.as_bytes()]);
        eng.repl_mut().stream_db = db as i64;
    }
    resp::encode::command(&mut buf, argv);
    eng.repl_mut().master_repl_offset += buf.len() as i64;
    super::master::feed_replicas(eng, &buf);
}

/// Start collecting a unit's writes. Returns whether a unit was already
/// open (nested units are part of the outer one).
pub fn begin_unit(eng: &mut Engine) -> bool {
    if eng.repl().prop_unit.is_some() {
        return true;
    }
    eng.repl_mut().prop_unit = Some(Vec::new());
    eng.repl_mut().prop_targets.clear();
    false
}

/// Emit a unit's writes, wrapped in MULTI/EXEC when more than one.
pub fn end_unit(eng: &mut Engine, nested: bool) {
    if nested {
        return;
    }
    let Some((cmds, targets)) = eng.repl_mut().take_unit() else {
        return;
    };
    let wrap = cmds.len() > 1;
    if wrap {
        let db = cmds[0].0;
        write_stream(eng, db, &[b"MULTI"], PROPAGATE_ALL);
    }
    let last_db = cmds.last().map(|c| c.0).unwrap_or(0);
    for (i, (db, argv)) in cmds.iter().enumerate() {
        let v: Vec<&[u8]> = argv.iter().map(|a| a.as_slice()).collect();
        let target = targets.get(i).copied().unwrap_or(PROPAGATE_ALL);
        write_stream(eng, *db, &v, target);
    }
    if wrap {
        write_stream(eng, last_db, &[b"EXEC"], PROPAGATE_ALL);
    }
}

/// CONFIG SET repl-backlog-size: later trims keep the new size (Redis's
/// resizeReplicationBacklog; nothing is copied).
pub fn resize_backlog(eng: &mut Engine) {
    let size = super::master::backlog_size(eng);
    if let Some(b) = eng.repl().backlog.as_ref() {
        b.set_backlog_size(size);
    }
}

/// The shared replication buffer's memory as Redis 7.0 splits it
/// (getMemoryOverheadData).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ReplMemory {
    /// mem_replication_backlog: the buffer up to repl-backlog-size.
    pub backlog: u64,
    /// mem_clients_slaves: what the replicas hold beyond that.
    pub replicas: u64,
    /// mem_total_replication_buffers: the whole buffer, counted once.
    pub total: u64,
    /// The part not counted against maxmemory
    /// (freeMemoryGetNotCountedMemory): beyond the backlog size and the
    /// bookkeeping of its blocks.
    pub not_counted: u64,
}

/// The replication buffer's memory now.
pub fn replication_memory(eng: &Engine) -> ReplMemory {
    let total = eng.repl().backlog.as_ref().map_or(0, |b| b.stats().mem) as u64;
    let size = super::master::backlog_size(eng) as u64;
    let counted =
        size + (size / super::buffer::MIN_BLOCK as u64 + 1) * super::buffer::BLOCK_OVERHEAD as u64;
    let (backlog, replicas) = if !eng.repl().replicas.is_empty() && total > size {
        (size, total - size)
    } else {
        (total, 0)
    };
    ReplMemory {
        backlog,
        replicas,
        total,
        not_counted: total.saturating_sub(counted),
    }
}

/// Number of replicas whose acknowledged offset reached `offset`.
pub fn replicas_acked(eng: &Engine, offset: i64) -> usize {
    super::master::replicas_acked(eng, offset)
}

/// DEBUG CHANGE-REPL-ID: a new history.
pub fn change_replid(eng: &mut Engine) {
    eng.repl_mut().replid = super::random_replid();
    eng.repl_mut().replid2 = "0".repeat(40);
    eng.repl_mut().second_replid_offset = -1;
}

/// INFO replication fields for a master.
pub fn info_fields(eng: &Engine, s: &mut String) {
    let r = eng.repl();
    if eng.repl().link.is_some() {
        super::replica::info_fields(eng, s);
    } else {
        s.push_str("role:master\r\n");
    }
    let _ = write!(s, "connected_slaves:{}\r\n", eng.repl().replicas.len());
    if eng.cfg().int(crate::config::P::min_replicas_to_write) > 0
        && eng.cfg().int(crate::config::P::min_replicas_max_lag) > 0
    {
        let _ = write!(
            s,
            "min_slaves_good_slaves:{}\r\n",
            super::master::good_replicas(eng)
        );
    }
    for (i, rep) in eng.repl().replicas.iter().enumerate() {
        let lag = (eng.now() - rep.ack_time) / 1000;
        let _ = write!(
            s,
            "slave{i}:ip={},port={},state={},offset={},lag={}\r\n",
            rep.ip,
            rep.port,
            rep.state_name(),
            rep.ack_offset,
            lag
        );
    }
    let (first, hist) = eng.repl().backlog.as_ref().map_or((0, 0), |b| {
        let st = b.stats();
        (st.first_offset, st.histlen)
    });
    let _ = write!(
        s,
        "master_failover_state:{}\r\nmaster_replid:{}\r\nmaster_replid2:{}\r\nmaster_repl_offset:{}\r\nsecond_repl_offset:{}\r\nrepl_backlog_active:{}\r\nrepl_backlog_size:{}\r\nrepl_backlog_first_byte_offset:{}\r\nrepl_backlog_histlen:{}\r\n",
        eng.repl().failover_state_name(),
        r.replid,
        r.replid2,
        r.master_repl_offset,
        r.second_replid_offset,
        eng.repl().backlog.is_some() as u8,
        eng.cfg().int(crate::config::P::repl_backlog_size),
        first,
        hist,
    );
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
    super::master::start_backlog(e, 0);
    e.repl_mut().stream_db = -1;
    let del: &[u8] = if e.cfg().bool(crate::config::P::lazyfree_lazy_expire) {
        b"UNLINK"
    } else {
        b"DEL"
    };
    for (db, key) in expired {
        feed(e, db, &[del, &key]);
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
