//! FAILOVER (Redis 7.0's coordinated failover, `replication.c`): writes
//! are paused until the target replica acknowledged our whole stream, then
//! we become its replica and ask it, with `PSYNC … FAILOVER`, to take over.
//! The FAILOVER command starts one; every REPLCONF ACK and the replication
//! cron move it on (`update_failover`).

use super::master::SlaveState;
use super::peers::FailoverState;
use crate::engine::Engine;

/// End the failover: resume writes.
pub fn clear_failover(eng: &mut Engine) {
    if eng.repl_mut().failover.take().is_some() {
        eng.clients_mut().unpause();
    }
}

/// Redis's abortFailover.
pub fn abort_failover(eng: &mut Engine, why: &str) {
    let Some(f) = eng.repl().failover.as_ref() else {
        return;
    };
    match &f.target {
        Some((h, p)) => tracing::info!("FAILOVER to {h}:{p} aborted: {why}"),
        None => tracing::info!("FAILOVER to any replica aborted: {why}"),
    }
    if f.state == FailoverState::InProgress {
        super::replica::set_master_none(eng);
    }
    clear_failover(eng);
}

/// Redis's updateFailoverStatus: on timeout fail over (FORCE) or abort;
/// once the target (or any replica) acknowledged our whole stream, become
/// its replica with a failover PSYNC.
pub fn update_failover(eng: &mut Engine) {
    let Some(f) = eng.repl().failover.as_ref() else {
        return;
    };
    if f.state != FailoverState::WaitForSync {
        return;
    }
    let now = crate::clock::now_ms();
    if f.end.is_some_and(|e| e <= now) {
        if let (true, Some((h, p))) = (f.force, f.target.clone()) {
            tracing::info!("FAILOVER to {h}:{p} time out exceeded, failing over.");
            start_failover(eng, &h, p);
        } else {
            abort_failover(eng, "Replica never caught up before timeout");
        }
        return;
    }
    let off = eng.repl().master_repl_offset;
    let synced = eng.repl().replicas.iter().find(|r| {
        r.state == SlaveState::Online
            && r.ack_offset == off
            && f.target
                .as_ref()
                .is_none_or(|(h, p)| r.ip == *h && r.port == *p)
    });
    if let Some(r) = synced {
        let (h, p) = (r.ip.clone(), r.port);
        tracing::info!("Failover target {h}:{p} is synced, failing over.");
        start_failover(eng, &h, p);
    }
}

fn start_failover(eng: &mut Engine, host: &str, port: u16) {
    if let Some(f) = eng.repl_mut().failover.as_mut() {
        f.state = FailoverState::InProgress;
        f.target = Some((host.to_string(), port));
    }
    super::replica::set_master(eng, host, port);
}
