//! The master side of replication, as Redis's `replication.c` MASTER
//! section: SYNC/PSYNC (`syncCommand`, `masterTryPartialResynchronization`),
//! full resynchronization through a snapshot (`startBgsaveForReplication`,
//! `updateSlavesWaitingBgsave`), the per-replica states and the cron that
//! pings replicas, drops silent ones and frees an unused backlog.
//!
//! A replica's lifecycle (Redis's SLAVE_STATE_*):
//!
//! ```text
//! PSYNC/SYNC ─┬─ partial ok ─────────────────────────────────────► Online
//!             └─ full ─► WaitBgsaveStart ─► WaitBgsaveEnd ─► SendBulk ─► Online
//! ```
//!
//! - `WaitBgsaveStart`: no usable snapshot yet; no stream is kept for it
//!   (its copy will start later).
//! - `WaitBgsaveEnd`: a snapshot started at its `initial_offset`; its
//!   reader in the shared replication buffer (`repl::buffer`) stays there,
//!   keeping every stream byte since.
//! - `SendBulk`: its connection task sends the RDB (a file, or a pipe fed by
//!   a diskless snapshot), then turns it `Online`.
//! - `Online`: its reader streams: the connection sends the stream from the
//!   snapshot's offset on (after a diskless transfer, once the first
//!   REPLCONF ACK came: `stream_on_ack`).
//!
//! There is one copy of the stream whatever the number of replicas: each
//! replica's output is a reader of the shared buffer, attached to its
//! outbox. Replicas live in `Engine::replicas`, outside the client table, so
//! the stream reaches them even while their connection runs a command.

use std::path::Path;
use std::sync::Arc;

use crate::client::Outbox;
use crate::config::P;
use crate::engine::Engine;
use crate::persist::snapshot::{self, RdbPipe, Target};

pub use super::peers::{Failover, FailoverState, Replica, SlaveState, Transfer};
pub use crate::client::Handshake;

/// Why PSYNC could not continue (for the log).
#[derive(Debug, PartialEq, Eq)]
pub enum PsyncDecision {
    /// Serve from the backlog from this offset.
    Continue(i64),
    /// Full resync needed.
    Full,
}

/// Redis's masterTryPartialResynchronization decision, pure: the ids,
/// offsets and the offsets a replica may ask for (`first ..= end + 1` of
/// the backlog, if there is one) in, the decision and the log line out.
pub fn psync_decision(
    replid: &str,
    offset_arg: &[u8],
    ids: &super::Replication,
    backlog: Option<std::ops::RangeInclusive<i64>>,
    who: &str,
) -> (PsyncDecision, Option<String>) {
    let (my_replid, my_replid2) = (ids.replid.as_str(), ids.replid2.as_str());
    let (second_offset, master_offset) = (ids.second_replid_offset, ids.master_repl_offset);
    let Some(offset) = crate::util::num::parse_i64(offset_arg) else {
        return (PsyncDecision::Full, None);
    };
    if !replid.eq_ignore_ascii_case(my_replid)
        && (!replid.eq_ignore_ascii_case(my_replid2) || offset > second_offset)
    {
        let msg = if replid.starts_with('?') {
            format!("Full resync requested by replica {who}")
        } else if !replid.eq_ignore_ascii_case(my_replid)
            && !replid.eq_ignore_ascii_case(my_replid2)
        {
            format!(
                "Partial resynchronization not accepted: Replication ID mismatch (Replica asked for '{replid}', my replication IDs are '{my_replid}' and '{my_replid2}')"
            )
        } else {
            format!(
                "Partial resynchronization not accepted: Requested offset for second ID was {offset}, but I can reply up to {second_offset}"
            )
        };
        return (PsyncDecision::Full, Some(msg));
    }
    match backlog {
        Some(held) if held.contains(&offset) => (PsyncDecision::Continue(offset), None),
        _ => {
            let mut msg = format!(
                "Unable to partial resync with replica {who} for lack of backlog (Replica request was: {offset})."
            );
            if offset > master_offset {
                msg.push_str(&format!("\nWarning: replica {who} tried to PSYNC with an offset that is greater than the master replication offset."));
            }
            (PsyncDecision::Full, Some(msg))
        }
    }
}

/// Create the backlog for the first replica, with a new history as Redis
/// does when there is no valid past.
fn ensure_backlog(eng: &mut Engine) {
    if eng.repl().backlog.is_some() {
        return;
    }
    eng.repl_mut().replid = super::random_replid();
    eng.repl_mut().replid2 = "0".repeat(40);
    eng.repl_mut().second_replid_offset = -1;
    let offset = eng.repl().master_repl_offset;
    start_backlog(eng, offset);
    tracing::info!(
        "Replication backlog created, my new replication IDs are '{}' and '{}'",
        eng.repl().replid,
        eng.repl().replid2
    );
}

/// SYNC or PSYNC from client `id`: partial resync or register for a full
/// one. Writes the +CONTINUE/+FULLRESYNC lines to the outbox itself, since
/// they are not ordinary replies. Returns the error reply, if any.
pub fn sync(
    eng: &mut Engine,
    id: u64,
    outbox: Arc<Outbox>,
    hs: &Handshake,
    peer_ip: &str,
    psync: Option<(&str, &[u8])>,
) -> Result<(), &'static str> {
    if eng.is_replica() && !eng.master_link_up() {
        return Err("NOMASTERLINK Can't SYNC while not connected with my master");
    }
    let mut r = Replica {
        id,
        outbox,
        state: SlaveState::WaitBgsaveStart,
        capa_eof: hs.eof,
        capa_psync2: hs.psync2,
        pre_psync: psync.is_none(),
        initial_offset: 0,
        transfer: None,
        socket_target: false,
        ack_offset: 0,
        ack_time: eng.now(),
        since: eng.now(),
        port: hs.port,
        ip: hs.ip.clone().unwrap_or_else(|| peer_ip.to_string()),
        rdb_only: hs.rdb_only,
        stream_on_ack: false,
    };
    let who = r.name();
    if hs.rdb_filter_functions.is_some() && !hs.eof {
        return Err("ERR Filtered replica requires EOF capability");
    }
    tracing::info!("Replica {who} asks for synchronization");
    if psync.is_some_and(|(_, off)| crate::util::num::parse_i64(off).is_none()) {
        tracing::warn!("Replica {who} asks for synchronization but with a wrong offset");
        return Err("ERR value is not an integer or out of range");
    }
    if let Some((replid, off)) = psync {
        let held = eng.repl().backlog.as_ref().map(|b| {
            let st = b.stats();
            st.first_offset..=st.first_offset + st.histlen as i64
        });
        let (d, msg) = psync_decision(replid, off, eng.repl(), held, &who);
        if let Some(m) = msg {
            for line in m.lines() {
                tracing::info!("{line}");
            }
        }
        if let PsyncDecision::Continue(offset) = d {
            eng.stats_mut().add(crate::stats::Counter::SyncPartialOk, 1);
            let line = if r.capa_psync2 {
                format!("+CONTINUE {}\r\n", eng.repl().replid)
            } else {
                "+CONTINUE\r\n".to_string()
            };
            r.outbox.push(line.as_bytes());
            r.state = SlaveState::Online;
            // The decision saw `offset` held, under the same engine lock.
            let sending = eng.repl().master_repl_offset + 1 - offset;
            eng.repl_mut().replicas.push(r);
            let me = eng.repl().replicas.len() - 1;
            attach(eng, me, offset, !eng.repl().replicas[me].rdb_only);
            tracing::info!(
                "Partial resynchronization request from {who} accepted. Sending {sending} bytes of backlog starting from offset {offset}."
            );
            return Ok(());
        }
        if !replid.starts_with('?') {
            eng.stats_mut()
                .add(crate::stats::Counter::SyncPartialErr, 1);
        }
    }
    eng.stats_mut().add(crate::stats::Counter::SyncFull, 1);
    eng.repl_mut().replicas.push(r);
    ensure_backlog(eng);
    if let Some(functions) = hs.rdb_filter_functions {
        // A filtered RDB holds no keys: made here and sent at once, as the
        // EOF-marked payload of a diskless transfer (Redis makes it in a
        // socket-target child of its own).
        let me = eng.repl().replicas.len() - 1;
        let offset = eng.repl().master_repl_offset;
        setup_full_resync(eng, me, offset);
        let payload = crate::persist::filtered_rdb(eng, functions).map_err(|e| {
            tracing::warn!("Filtered RDB for {who} failed: {e}");
            "ERR Filtered RDB could not be made"
        })?;
        let mark = super::random_replid();
        let ob = eng.repl().replicas[me].outbox.clone();
        ob.push(format!("$EOF:{mark}\r\n").as_bytes());
        ob.push(&payload);
        ob.push(mark.as_bytes());
        tracing::info!(
            "Filtered RDB ({} bytes) sent to replica {who}",
            payload.len()
        );
        transfer_done(eng, id, true);
        return Ok(());
    }
    let diskless = eng.cfg().bool(P::repl_diskless_sync);
    match eng.persist().job().map(|j| (j.socket_target, j.aof)) {
        Some((_, true)) => tracing::info!(
            "No BGSAVE in progress, but another BG operation is active. BGSAVE for replication delayed"
        ),
        Some((false, false)) => {
            // A disk snapshot runs: attach when a replica already waits on it
            // with capabilities this one has too.
            let me = eng.repl().replicas.len() - 1;
            let other = eng.repl().replicas.iter().position(|o| {
                o.id != id && o.state == SlaveState::WaitBgsaveEnd && !o.socket_target
            });
            match other {
                Some(o)
                    if (hs.eof || !eng.repl().replicas[o].capa_eof)
                        && (hs.psync2 || !eng.repl().replicas[o].capa_psync2) =>
                {
                    // Redis's copyReplicaOutputBuffer: the same place in
                    // the shared buffer (the other replica holds it there).
                    let off = eng.repl().replicas[o].initial_offset;
                    setup_full_resync(eng, me, off);
                    tracing::info!("Waiting for end of BGSAVE for SYNC");
                }
                _ => tracing::info!(
                    "Can't attach the replica to the current BGSAVE. Waiting for next BGSAVE for SYNC"
                ),
            }
        }
        Some((true, false)) => {
            tracing::info!("Current BGSAVE has socket target. Waiting for next BGSAVE for SYNC")
        }
        None => {
            if diskless && hs.eof {
                if eng.cfg().int(P::repl_diskless_sync_delay) > 0 {
                    tracing::info!("Delay next BGSAVE for diskless SYNC");
                } else {
                    start_for_replication(eng);
                }
            } else {
                start_for_replication(eng);
            }
        }
    }
    Ok(())
}

/// Replica `idx` will get the snapshot taken at `offset`: answer
/// +FULLRESYNC and start keeping its stream (a reader from `offset + 1`
/// that does not stream yet).
fn setup_full_resync(eng: &mut Engine, idx: usize, offset: i64) {
    let replid = eng.repl().replid.clone();
    let r = &mut eng.repl_mut().replicas[idx];
    r.state = SlaveState::WaitBgsaveEnd;
    r.initial_offset = offset;
    if !r.pre_psync {
        r.outbox
            .push(format!("+FULLRESYNC {replid} {offset}\r\n").as_bytes());
    }
    if !r.rdb_only {
        attach(eng, idx, offset + 1, false);
    }
}

/// Give replica `idx` a reader of the shared buffer from `offset`.
fn attach(eng: &mut Engine, idx: usize, offset: i64, streaming: bool) {
    let Some(buf) = eng.repl().backlog.clone() else {
        return;
    };
    match buf.add_reader(offset, streaming) {
        Some(id) => eng.repl().replicas[idx].outbox.set_stream(buf, id),
        None => {
            // Unreachable while the invariants hold (the offset comes from
            // the backlog or from a replica that holds it): a replica with
            // a hole in its stream must not go on.
            tracing::warn!(
                "Replica {} asked for offset {offset} that the replication buffer lost; disconnecting it",
                eng.repl().replicas[idx].name()
            );
            eng.repl().replicas[idx].outbox.kill();
        }
    }
}

/// Free a departing replica's reader (Redis's
/// freeReplicaReferencedReplBuffer): what only it held is trimmed,
/// incrementally.
fn detach(r: &Replica) {
    if let Some((buf, id)) = r.outbox.take_stream() {
        buf.remove_reader(id);
    }
}

/// Start a snapshot for the replicas waiting for one (Redis's
/// startBgsaveForReplication): to their sockets when diskless sync is on
/// and all of them can take it, otherwise to disk.
pub fn start_for_replication(eng: &mut Engine) {
    let waiting: Vec<usize> = (0..eng.repl().replicas.len())
        .filter(|&i| eng.repl().replicas[i].state == SlaveState::WaitBgsaveStart)
        .collect();
    if waiting.is_empty() || eng.persist().saving() {
        return;
    }
    let socket = eng.cfg().bool(P::repl_diskless_sync)
        && waiting.iter().all(|&i| eng.repl().replicas[i].capa_eof);
    tracing::info!(
        "Starting BGSAVE for SYNC with target: {}",
        if socket { "replicas sockets" } else { "disk" }
    );
    // The stream after the snapshot must select its db again.
    eng.repl_mut().stream_db = -1;
    let offset = eng.repl().master_repl_offset;
    let target = if socket {
        let mut pipes = Vec::new();
        for &i in &waiting {
            let p = Arc::new(RdbPipe::default());
            eng.repl_mut().replicas[i].socket_target = true;
            eng.repl_mut().replicas[i].transfer = Some(Transfer::Pipe(p.clone()));
            pipes.push(p);
        }
        Target::Sockets(pipes)
    } else {
        Target::Disk
    };
    match snapshot::start_snapshot(eng, target) {
        Ok(()) => {
            // rdb-del-sync-files: remember that this file exists only for
            // replication, so it can go once sent (only without save
            // points, as Redis).
            if !socket
                && eng.cfg().bool(P::rdb_del_sync_files)
                && crate::config::save_points(eng.cfg().str(P::save)).is_empty()
            {
                eng.persist_mut().set_rdb_for_replication(true);
            }
            for &i in &waiting {
                setup_full_resync(eng, i, offset);
                if socket {
                    // The connection sends the pipe as the snapshot fills it.
                    eng.repl_mut().replicas[i].state = SlaveState::SendBulk;
                    eng.repl().replicas[i].outbox.notify.notify_one();
                }
            }
        }
        Err(e) => {
            tracing::warn!("BGSAVE for replication failed: {e}");
            for &i in waiting.iter().rev() {
                let r = eng.repl_mut().replicas.remove(i);
                detach(&r);
                r.outbox
                    .push(b"-ERR BGSAVE failed, replication can't continue\r\n");
                r.outbox.kill_after_flush();
            }
        }
    }
}

/// A snapshot ended (Redis's updateSlavesWaitingBgsave): disk snapshots hand
/// their file to the replicas that waited for it, failures drop them, and
/// replicas still waiting for a snapshot get the next one.
pub fn snapshot_done(eng: &mut Engine, ok: bool, socket_target: bool, file: &Path) {
    let mut i = 0;
    while i < eng.repl().replicas.len() {
        let r = &mut eng.repl_mut().replicas[i];
        let mine = r.state == SlaveState::WaitBgsaveEnd && r.socket_target == socket_target;
        if mine && !ok {
            tracing::warn!("SYNC failed. BGSAVE child returned an error");
            let r = eng.repl_mut().replicas.remove(i);
            detach(&r);
            r.outbox.kill();
            continue;
        }
        if mine && !socket_target {
            r.state = SlaveState::SendBulk;
            r.transfer = Some(Transfer::File(file.to_path_buf()));
            r.outbox.notify.notify_one();
        }
        i += 1;
    }
    if eng
        .repl()
        .replicas
        .iter()
        .any(|r| r.state == SlaveState::WaitBgsaveStart)
    {
        let diskless_wait =
            eng.cfg().bool(P::repl_diskless_sync) && eng.cfg().int(P::repl_diskless_sync_delay) > 0;
        if !diskless_wait {
            start_for_replication(eng);
        }
    }
}

/// The replica's connection finished sending the RDB: put it online
/// (Redis's replicaPutOnline) and send what was kept meanwhile.
///
/// After a diskless transfer the stream waits for the replica's first
/// REPLCONF ACK, as in Redis: the replica finds the end of an EOF-marked
/// RDB by its last 40 bytes, so nothing may follow the mark until it has
/// loaded (a real redis-server replica otherwise waits for the mark until
/// it times out).
pub fn transfer_done(eng: &mut Engine, id: u64, diskless: bool) {
    let now = eng.now();
    let Some(r) = eng.repl_mut().replicas.iter_mut().find(|r| r.id == id) else {
        return;
    };
    r.transfer = None;
    r.state = SlaveState::Online;
    r.ack_time = now;
    if r.rdb_only {
        tracing::info!(
            "RDB transfer completed, rdb only replica ({}) should be disconnected asap",
            r.name()
        );
        r.outbox.kill_after_flush();
    } else if diskless {
        tracing::info!(
            "Streamed RDB transfer with replica {} succeeded (socket). Waiting for REPLCONF ACK from slave to enable streaming",
            r.name()
        );
        tracing::info!("Synchronization with replica {} succeeded", r.name());
        r.stream_on_ack = true;
    } else {
        tracing::info!("Synchronization with replica {} succeeded", r.name());
        r.outbox.start_stream();
    }
    remove_sync_file_if_unused(eng);
}

/// rdb-del-sync-files: delete the RDB a replication snapshot wrote once no
/// replica still needs it.
fn remove_sync_file_if_unused(eng: &mut Engine) {
    if !eng.persist().rdb_for_replication() || eng.persist().saving() {
        return;
    }
    let busy = eng.repl().replicas.iter().any(|r| {
        matches!(r.transfer, Some(Transfer::File(_))) || r.state == SlaveState::WaitBgsaveEnd
    });
    if busy {
        return;
    }
    eng.persist_mut().set_rdb_for_replication(false);
    let file = Path::new(eng.cfg().str(P::dir)).join(eng.cfg().str(P::dbfilename));
    tracing::info!("Removing the RDB file used for replication since persistence is disabled.");
    let _ = std::fs::remove_file(file);
}

/// The replica's connection closed.
pub fn forget(eng: &mut Engine, id: u64) {
    if let Some(pos) = eng.repl().replicas.iter().position(|r| r.id == id) {
        let r = eng.repl_mut().replicas.remove(pos);
        detach(&r);
        remove_sync_file_if_unused(eng);
        // A disk snapshot nobody waits for any more is abandoned, unless
        // save points make it worth keeping (Redis's freeClient).
        let disk_snapshot = eng
            .persist()
            .job()
            .is_some_and(|j| !j.socket_target && !j.aof);
        if disk_snapshot
            && r.state == SlaveState::WaitBgsaveEnd
            && crate::config::save_points(eng.cfg().str(P::save)).is_empty()
            && !eng
                .repl()
                .replicas
                .iter()
                .any(|o| o.state == SlaveState::WaitBgsaveEnd)
        {
            crate::persist::snapshot::cancel_bgsave(eng);
        }
        if let Some(Transfer::Pipe(p)) = &r.transfer {
            p.close();
        }
        tracing::info!("Connection with replica {} lost.", r.name());
        if eng.repl().replicas.is_empty() {
            eng.repl_mut().no_replicas_since = crate::clock::now_secs();
        }
    }
}

/// Append stream bytes to the shared buffer (Redis's
/// feedReplicationBuffer): one copy, which the backlog and every replica's
/// reader share. Streaming replicas are woken; when a block was added,
/// every replica that keeps the stream is checked against its output
/// buffer limits, as in Redis.
pub fn feed_replicas(eng: &mut Engine, bytes: &[u8]) {
    let Some(buf) = eng.repl().backlog.as_ref() else {
        return;
    };
    let added = buf.feed(bytes);
    if eng.repl().replicas.is_empty() {
        return;
    }
    for r in &eng.repl().replicas {
        if r.state == SlaveState::Online && !r.stream_on_ack && !r.rdb_only {
            r.outbox.notify.notify_one();
        }
    }
    if !added {
        return;
    }
    let limit = replica_buf_limit(eng);
    let now = eng.now();
    let dropped: Vec<u64> = eng
        .repl()
        .replicas
        .iter()
        .filter(|r| r.state != SlaveState::WaitBgsaveStart && !r.rdb_only)
        .filter(|r| r.outbox.enforce_limit(limit, now))
        .map(|r| r.id)
        .collect();
    for id in dropped {
        if let Some(r) = eng.repl().replicas.iter().find(|r| r.id == id) {
            tracing::warn!(
                "Client id={id} addr={} scheduled to be closed ASAP for overcoming of output buffer limits.",
                r.name()
            );
        }
        forget(eng, id);
    }
}

/// The replicas' output buffer limit: a hard limit below the backlog size
/// is raised to it, as Redis's checkClientOutputBufferLimits (a replica
/// shares the backlog's memory, and a partial resync would otherwise be
/// followed by a disconnection).
pub fn replica_buf_limit(eng: &Engine) -> crate::config::BufLimit {
    let mut limit = eng.buf_limit(1);
    let backlog = backlog_size(eng) as u64;
    if limit.hard > 0 && limit.hard < backlog {
        limit.hard = backlog;
    }
    limit
}

/// Free what the backlog no longer needs, ten times the usual step, as
/// Redis's beforeSleep (called from the server cron).
pub fn trim_backlog(eng: &Engine) {
    if let Some(b) = eng.repl().backlog.as_ref() {
        b.trim(10 * super::buffer::TRIM_BLOCKS_PER_CALL);
    }
}

/// REPLCONF ACK from a replica.
pub fn ack(eng: &mut Engine, id: u64, offset: i64) {
    let now = eng.now();
    if let Some(r) = eng.repl_mut().replicas.iter_mut().find(|r| r.id == id) {
        if offset > r.ack_offset {
            r.ack_offset = offset;
        }
        r.ack_time = now;
        if r.stream_on_ack && r.state == SlaveState::Online {
            // Redis's replicaStartCommandStream.
            r.stream_on_ack = false;
            r.outbox.start_stream();
        }
    }
}

/// Replicas whose acknowledged offset reached `offset` (WAIT).
pub fn replicas_acked(eng: &Engine, offset: i64) -> usize {
    eng.repl()
        .replicas
        .iter()
        .filter(|r| r.state == SlaveState::Online && r.ack_offset >= offset)
        .count()
}

/// Online replicas with a lag within min-replicas-max-lag
/// (repl_good_slaves_count).
pub fn good_replicas(eng: &Engine) -> usize {
    let max_lag = eng.cfg().int(P::min_replicas_max_lag);
    let now = eng.now();
    eng.repl()
        .replicas
        .iter()
        .filter(|r| r.state == SlaveState::Online && (now - r.ack_time) / 1000 <= max_lag)
        .count()
}

/// Whether min-replicas-to-write refuses writes now.
pub fn not_enough_replicas(eng: &Engine) -> bool {
    let min = eng.cfg().int(P::min_replicas_to_write);
    let max_lag = eng.cfg().int(P::min_replicas_max_lag);
    min > 0 && max_lag > 0 && !eng.is_replica() && (good_replicas(eng) as i64) < min
}

/// Once a second (Redis's replicationCron, master part): PING the replicas
/// every repl-ping-replica-period, drop those silent past repl-timeout,
/// start a delayed diskless sync, free the backlog after repl-backlog-ttl
/// without replicas, and ask for ACKs for pending WAITs.
pub fn cron(eng: &mut Engine) {
    let now = eng.now();
    let period = eng.cfg().int(P::repl_ping_replica_period).max(1);
    // As Redis's `replication_cron_loops % period`, the ping ticks run
    // from start-up whether or not replicas are attached: a replica that
    // just attached is not pinged at once (tests read the stream).
    let secs = now / 1000;
    if secs - eng.repl().last_replica_ping >= period {
        eng.repl_mut().last_replica_ping = secs;
        if !eng.repl().replicas.is_empty() && !eng.is_replica() {
            feed_raw(eng, &[b"PING"]);
        }
    }
    let timeout_ms = eng.cfg().int(P::repl_timeout) * 1000;
    let timed_out: Vec<u64> = eng
        .repl()
        .replicas
        .iter()
        .filter(|r| r.state == SlaveState::Online && !r.pre_psync && now - r.ack_time > timeout_ms)
        .map(|r| r.id)
        .collect();
    // A diskless transfer that stopped moving (Redis's
    // repl_last_partial_write): the snapshot must not wait for it.
    let stalled: Vec<u64> = eng
        .repl()
        .replicas
        .iter()
        .filter(|r| match &r.transfer {
            Some(Transfer::Pipe(p)) => p.stalled(now, timeout_ms),
            _ => false,
        })
        .map(|r| r.id)
        .collect();
    for (ids, kind) in [(timed_out, "streaming sync"), (stalled, "full sync")] {
        for id in ids {
            if let Some(r) = eng.repl().replicas.iter().find(|r| r.id == id) {
                tracing::warn!("Disconnecting timedout replica ({kind}): {}", r.name());
                r.outbox.kill();
            }
            forget(eng, id);
        }
    }
    // Diskless: start when the delay passed or enough replicas wait.
    if !eng.persist().saving() && eng.cfg().bool(P::repl_diskless_sync) {
        let waiting: Vec<&Replica> = eng
            .repl()
            .replicas
            .iter()
            .filter(|r| r.state == SlaveState::WaitBgsaveStart)
            .collect();
        if let Some(oldest) = waiting.iter().map(|r| r.since).min() {
            let delay = eng.cfg().int(P::repl_diskless_sync_delay) * 1000;
            let max = eng.cfg().int(P::repl_diskless_sync_max_replicas);
            if now - oldest >= delay || (max > 0 && waiting.len() as i64 >= max) {
                start_for_replication(eng);
            }
        }
    } else if !eng.persist().saving() {
        start_for_replication(eng);
    }
    // Free the backlog after repl-backlog-ttl without replicas.
    let ttl = eng.cfg().int(P::repl_backlog_ttl);
    if eng.repl().backlog.is_some()
        && eng.repl().replicas.is_empty()
        && !eng.is_replica()
        && ttl > 0
        && crate::clock::now_secs() - eng.repl().no_replicas_since > ttl
    {
        // A new id, so that replicas of the old history can't continue.
        eng.repl_mut().replid2 = "0".repeat(40);
        eng.repl_mut().second_replid_offset = -1;
        eng.repl_mut().replid = super::random_replid();
        eng.repl_mut().backlog = None;
        eng.repl_mut().backlog_active = false;
        tracing::info!("Replication backlog freed after {ttl} seconds without connected replicas.");
    }
}

/// Answer the WAIT clients whose condition is now met.
pub fn serve_waiters(eng: &mut Engine) {
    let ready: Vec<(u64, usize)> = eng
        .clients()
        .iter()
        .filter_map(|cl| {
            let b = cl.block.as_ref().filter(|b| !b.done)?;
            let (n, off) = b.wait?;
            let acked = replicas_acked(eng, off);
            (acked >= n).then_some((cl.id, acked))
        })
        .collect();
    for (id, acked) in ready {
        if let Some(cl) = eng.clients_mut().get_mut(id) {
            if let Some(b) = cl.block.as_mut() {
                b.done = true;
            }
            let mut out = Vec::new();
            resp::encode::integer(&mut out, acked as i64);
            cl.outbox.push(&out);
        }
    }
}

/// Write a command to the stream without a SELECT (PING to replicas).
pub fn feed_raw(eng: &mut Engine, argv: &[&[u8]]) {
    if !eng.repl().stream_active() {
        return;
    }
    let mut buf = Vec::new();
    resp::encode::command(&mut buf, argv);
    eng.repl_mut().master_repl_offset += buf.len() as i64;
    feed_replicas(eng, &buf);
}

/// A new backlog (`repl-backlog-size`) whose history starts after
/// `offset`, the offset of the last byte we hold.
pub fn start_backlog(eng: &mut Engine, offset: i64) {
    let size = backlog_size(eng);
    let r = eng.repl_mut();
    r.backlog = Some(std::sync::Arc::new(super::buffer::ReplBuffer::new(
        size, offset,
    )));
    r.backlog_active = true;
}

/// The backlog size in effect: `repl-backlog-size`, at least 16 kB as in
/// Redis (CONFIG_REPL_BACKLOG_MIN_SIZE).
pub fn backlog_size(eng: &crate::engine::Engine) -> usize {
    (eng.cfg().int(crate::config::P::repl_backlog_size) as usize).max(super::buffer::MIN_BACKLOG)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::repl::Replication;

    fn ids() -> Replication {
        Replication {
            replid: "a".repeat(40),
            replid2: "b".repeat(40),
            second_replid_offset: 100,
            master_repl_offset: 300,
            ..Replication::new(0)
        }
    }

    /// A backlog holding bytes 151..=300: a replica may ask for 151..=301.
    fn backlog() -> std::ops::RangeInclusive<i64> {
        151..=301
    }

    #[test]
    fn every_psync_branch() {
        let (ids, b) = (ids(), backlog());
        let a = "a".repeat(40);
        let bb = "b".repeat(40);
        let d = |id: &str, off: &str, bl: Option<&std::ops::RangeInclusive<i64>>| {
            psync_decision(id, off.as_bytes(), &ids, bl.cloned(), "r:1")
        };
        // Current id, inside the backlog (both ends).
        assert_eq!(d(&a, "151", Some(&b)).0, PsyncDecision::Continue(151));
        assert_eq!(d(&a, "301", Some(&b)).0, PsyncDecision::Continue(301));
        // Below the backlog, beyond the master offset, no backlog.
        let (dec, msg) = d(&a, "150", Some(&b));
        assert_eq!(dec, PsyncDecision::Full);
        assert!(msg
            .unwrap()
            .contains("for lack of backlog (Replica request was: 150)"));
        let (_, msg) = d(&a, "400", Some(&b));
        assert!(msg
            .unwrap()
            .contains("offset that is greater than the master replication offset"));
        assert_eq!(d(&a, "200", None).0, PsyncDecision::Full);
        // replid2 valid up to second_replid_offset (inclusive) only.
        assert_eq!(
            d(&bb, "100", Some(&b)).0,
            PsyncDecision::Full,
            "100 is outside the backlog"
        );
        // Holding bytes 1..=300.
        let b2 = 1..=301;
        assert_eq!(d(&bb, "100", Some(&b2)).0, PsyncDecision::Continue(100));
        let (dec, msg) = d(&bb, "101", Some(&b2));
        assert_eq!(dec, PsyncDecision::Full);
        assert!(msg
            .unwrap()
            .contains("Requested offset for second ID was 101, but I can reply up to 100"));
        // Unknown id, and "?" forcing a full sync.
        let (_, msg) = d(&"c".repeat(40), "200", Some(&b2));
        assert!(msg.unwrap().contains("Replication ID mismatch"));
        let (dec, msg) = d("?", "-1", Some(&b2));
        assert_eq!(dec, PsyncDecision::Full);
        assert_eq!(msg.unwrap(), "Full resync requested by replica r:1");
        // An offset that is not a number: full, silently.
        assert_eq!(d(&a, "x", Some(&b)), (PsyncDecision::Full, None));
    }
}
