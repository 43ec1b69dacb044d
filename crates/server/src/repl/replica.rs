//! The replica side of replication, as Redis's `replication.c` SLAVE
//! section: REPLICAOF / REPLICAOF NO ONE, the link's state (`Link`), and
//! the transitions the link task (`crate::link`, the connection layer)
//! asks for as it connects, resyncs and streams: a partial resync with the
//! cached master, a full resync's new history, the link going down. Here
//! nothing does I/O; the task owns the socket.

use crate::config::P;
use crate::engine::{lock, Engine};

pub use super::peers::{Link, LinkState};

/// Become a replica of host:port (REPLICAOF, or `replicaof` at start-up).
/// A former master keeps its history as the cached master, so it may
/// continue partially with the new master.
pub fn set_master(eng: &mut Engine, host: &str, port: u16) {
    set_master_with(eng, host, port, true);
}

fn set_master_with(eng: &mut Engine, host: &str, port: u16, cache_self: bool) {
    // What we hold is the history we can continue: our own as a master
    // (Redis's replicationCacheMasterUsingMyself), our master's as a
    // replica (replicationCacheMaster). At start-up only a loaded file's
    // replication id says what the data is.
    let (cached, db) = if cache_self {
        // A replica moving to another master keeps its master's stream db,
        // as Redis's cached master client keeps its db: a partial resync
        // continues the stream with no new SELECT. A former master's new
        // master starts its stream with a SELECT (a promoted replica
        // forgets its stream's db), so any db does.
        let own = (eng.repl().replid.clone(), eng.repl().master_repl_offset);
        (Some(own), eng.repl().link.as_ref().map_or(0, |l| l.db))
    } else {
        let db = eng.persist().loaded_stream_db().unwrap_or(0);
        (eng.persist().loaded_repl(), db)
    };
    retire_link(eng);
    eng.repl_mut().link_generation += 1;
    crate::log::set_role_replica(true);
    eng.repl_mut().link = Some(Link {
        host: host.to_string(),
        port,
        generation: eng.repl().link_generation,
        state: LinkState::Connect,
        last_io: 0,
        down_since: 0,
        cached,
        transfer: (0, 0),
        unapplied: 0,
        client_id: None,
        task: None,
        db,
    });
    eng.repl_mut().master_link_up = false;
    let _ = eng.cfg_mut().set_from_words(
        "replicaof",
        &[host.as_bytes().to_vec(), port.to_string().into_bytes()],
    );
    // Our replicas stay: they may well continue with us. They are
    // disconnected once our history changes, by a +CONTINUE with a new
    // replid or by a full resync about to load (Redis 7.0's
    // replicationSetMaster).
    if let (Some(shared), Some(start)) = (eng.handle(), eng.link_driver()) {
        let task = start(shared, eng.repl().link_generation);
        if let Some(l) = eng.repl_mut().link.as_mut() {
            l.task = task;
        }
    }
    tracing::info!("Connecting to MASTER {host}:{port}");
    eng.apply_oom_score();
}

/// REPLICAOF NO ONE: keep the data and the backlog, start a new history
/// whose past (replid2) is the old one, as Redis's shiftReplicationId.
pub fn set_master_none(eng: &mut Engine) {
    if eng.repl().link.is_none() {
        return;
    }
    eng.repl_mut().link_generation += 1;
    retire_link(eng);
    eng.repl_mut().master_link_up = false;
    let _ = eng.cfg_mut().set_from_words("replicaof", &[]);
    eng.repl_mut().replid2 = std::mem::replace(&mut eng.repl_mut().replid, super::random_replid());
    eng.repl_mut().second_replid_offset = eng.repl_mut().master_repl_offset + 1;
    if eng.repl().backlog.is_none() {
        let offset = eng.repl().master_repl_offset;
        super::master::start_backlog(eng, offset);
    }
    eng.repl_mut().stream_db = -1;
    // A master expires every key itself.
    eng.keyspace_mut().forget_replica_ttls();
    tracing::info!(
        "Setting secondary replication ID to {}, valid up to offset: {}. New replication ID is {}",
        eng.repl().replid2,
        eng.repl().second_replid_offset,
        eng.repl().replid
    );
    // Our replicas reconnect and continue with replid2.
    disconnect_replicas(eng);
    crate::log::set_role_replica(false);
    eng.apply_oom_score();
}

/// End the current link: its task stops (closing its socket) and its
/// MASTER client goes.
fn retire_link(eng: &mut Engine) {
    let Some(old) = eng.repl_mut().link.take() else {
        return;
    };
    if let Some(task) = old.task {
        task.abort();
    }
    if let Some(id) = old.client_id {
        if let Some(cl) = eng.clients_mut().remove(id) {
            cl.outbox.kill();
        }
    }
}

/// Run `f` on the link of `generation`, if it is still the current one.
pub fn with_link(eng: &mut Engine, generation: u64, f: impl FnOnce(&mut Engine, &mut Link)) {
    if let Some(mut link) = eng.repl_mut().link.take() {
        if link.generation == generation {
            f(eng, &mut link);
        }
        eng.repl_mut().link = Some(link);
    }
}

/// The link of `generation` dropped (or never came up): it goes back to
/// connecting, remembering what we have as the cached master to PSYNC
/// with, and its MASTER client goes.
pub fn link_lost(eng: &mut Engine, generation: u64) {
    with_link(eng, generation, |eng, l| {
        if l.state == LinkState::Connected || l.down_since == 0 {
            l.down_since = crate::clock::now_secs();
        }
        l.state = LinkState::Connect;
        // Resume from what we have: Redis's cached master.
        let r = eng.repl();
        l.cached = Some((r.replid.clone(), r.master_repl_offset));
        if let Some(id) = l.client_id.take() {
            eng.clients_mut().remove(id);
        }
        eng.repl_mut().master_link_up = false;
        eng.persist_mut().set_loading(false);
    });
}

/// The master accepted a partial resync (+CONTINUE): a new replid moves
/// the old one to replid2 (our replicas must resync with the new
/// history); the stream is kept from our offset on.
pub fn partial_resync_accepted(eng: &mut Engine, new_replid: Option<String>) {
    if let Some(new_id) = new_replid.filter(|id| *id != eng.repl().replid) {
        let r = eng.repl_mut();
        r.replid2 = std::mem::replace(&mut r.replid, new_id.clone());
        r.second_replid_offset = r.master_repl_offset + 1;
        tracing::info!("Master replication ID changed to {new_id}");
        disconnect_replicas(eng);
    }
    if eng.repl().backlog.is_none() {
        let offset = eng.repl().master_repl_offset;
        super::master::start_backlog(eng, offset);
    }
}

/// A full resync's dataset is loaded: our history is now the master's
/// `replid` at `offset`, with a new backlog, nothing dirty, and the stream
/// going on in the db the snapshot recorded (Redis's
/// replicationCreateMasterClient with rsi.repl_stream_db).
pub fn full_sync_loaded(eng: &mut Engine, replid: &str, offset: i64) {
    let r = eng.repl_mut();
    r.replid = replid.to_string();
    r.replid2 = "0".repeat(40);
    r.second_replid_offset = -1;
    r.master_repl_offset = offset;
    super::master::start_backlog(eng, offset);
    eng.repl_mut().stream_db = -1;
    eng.persist_mut().clear_dirty();
    eng.keyspace_mut().forget_replica_ttls();
    let db = eng.persist_mut().take_loaded_stream_db().unwrap_or(0);
    if let Some(l) = eng.repl_mut().link.as_mut() {
        l.db = db;
    }
}

/// The stream with our master is up, applied by MASTER client `id`.
pub fn link_established(eng: &mut Engine, id: u64) {
    let now = eng.now();
    let r = eng.repl_mut();
    if let Some(l) = r.link.as_mut() {
        l.client_id = Some(id);
        l.state = LinkState::Connected;
        l.last_io = now;
        l.down_since = 0;
    }
    r.master_link_up = true;
}

/// Drop every replica of ours (our history is about to change).
pub fn disconnect_replicas(eng: &mut Engine) {
    let ids: Vec<u64> = eng.repl().replicas.iter().map(|r| r.id).collect();
    for id in ids {
        if let Some(r) = eng.repl().replicas.iter().find(|r| r.id == id) {
            r.outbox.kill();
        }
        super::master::forget(eng, id);
    }
}

/// INFO replication's replica part.
pub fn info_fields(eng: &Engine, s: &mut String) {
    use std::fmt::Write as _;
    let Some(l) = eng.repl().link.as_ref() else {
        return;
    };
    let up = l.state == LinkState::Connected;
    let now = crate::clock::now_ms();
    let _ = write!(
        s,
        "role:slave\r\nmaster_host:{}\r\nmaster_port:{}\r\nmaster_link_status:{}\r\nmaster_last_io_seconds_ago:{}\r\nmaster_sync_in_progress:{}\r\nslave_read_repl_offset:{}\r\nslave_repl_offset:{}\r\n",
        l.host,
        l.port,
        if up { "up" } else { "down" },
        if l.last_io > 0 { (now - l.last_io) / 1000 } else { -1 },
        (l.state == LinkState::Transfer) as u8,
        eng.repl().master_repl_offset + l.unapplied,
        eng.repl().master_repl_offset,
    );
    if l.state == LinkState::Transfer {
        let _ = write!(
            s,
            "master_sync_total_bytes:{}\r\nmaster_sync_read_bytes:{}\r\nmaster_sync_left_bytes:{}\r\nmaster_sync_perc:{:.2}\r\nmaster_sync_last_io_seconds_ago:{}\r\n",
            l.transfer.0,
            l.transfer.1,
            if l.transfer.0 >= 0 { l.transfer.0 - l.transfer.1 } else { -1 },
            if l.transfer.0 > 0 { l.transfer.1 as f64 * 100.0 / l.transfer.0 as f64 } else { 0.0 },
            if l.last_io > 0 { (now - l.last_io) / 1000 } else { 0 },
        );
    }
    if !up {
        let down = if l.down_since > 0 {
            crate::clock::now_secs() - l.down_since
        } else {
            -1
        };
        let _ = write!(s, "master_link_down_since_seconds:{down}\r\n");
    }
    let _ = write!(
        s,
        "slave_priority:{}\r\nslave_read_only:{}\r\nreplica_announced:{}\r\n",
        eng.cfg().int(P::replica_priority),
        eng.cfg().bool(P::replica_read_only) as u8,
        eng.cfg().bool(P::replica_announced) as u8,
    );
}

/// Whether stale data may not be served now (replica-serve-stale-data no
/// and the link is down): Redis answers -MASTERDOWN.
pub fn deny_stale(eng: &Engine) -> bool {
    eng.repl()
        .link
        .as_ref()
        .is_some_and(|l| l.state != LinkState::Connected)
        && !eng.cfg().bool(P::replica_serve_stale_data)
}

/// Start the link configured with `replicaof` at start-up.
pub fn start_from_config(shared: &crate::engine::Shared) {
    let mut eng = lock(shared);
    let conf = eng.cfg().str(P::replicaof).to_string();
    let mut it = conf.split_whitespace();
    if let (Some(h), Some(p)) = (it.next(), it.next().and_then(|p| p.parse::<u16>().ok())) {
        let h = h.to_string();
        // Not a former master: only a loaded file's history may be cached.
        set_master_with(&mut eng, &h, p, false);
    }
}
