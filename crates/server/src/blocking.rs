//! Blocking commands: clients waiting on keys (BLPOP, BZPOPMIN, …) or on
//! replica acknowledgements (WAIT).
//!
//! A blocked client keeps its command (`BlockState::args`) and stays in the
//! engine's client table; the connection task releases the lock and waits
//! on the client's outbox. When a write signals a key ready
//! (`Engine::signal_ready`), `handle_ready` runs after that command, as
//! Redis's `handleClientsBlockedOnKeys`: for every ready key it re-runs the
//! waiting clients' commands in the order they blocked, so the first
//! blocked is the first served, and a client that still finds nothing stays
//! where it was in the queue. Replies go to the client's outbox; the
//! connection task wakes and carries on with its pipeline. Nothing here
//! waits: timeouts are the connection task's timer calling `timeout`.

use bytes::Bytes;

use crate::client::{BlockState, Client};
use crate::commands::{self, Ctx};
use crate::engine::Engine;
use crate::error::{CmdError, CmdResult, TIMEOUT_NEGATIVE, TIMEOUT_NOT_FLOAT};
use crate::keyspace::{Key, ValueType};

pub use crate::client::TimeoutReply;

/// Parse a blocking timeout in seconds (a double, as Redis 7.0) into an
/// absolute deadline in ms, or None for "forever" (0).
pub fn parse_timeout(arg: &[u8]) -> CmdResult<Option<i64>> {
    let secs = crate::util::num::parse_f64(arg).ok_or(CmdError::fixed(TIMEOUT_NOT_FLOAT))?;
    if secs < 0.0 {
        return Err(TIMEOUT_NEGATIVE.into());
    }
    if !secs.is_finite() || secs * 1000.0 > (i64::MAX / 2) as f64 {
        return Err(TIMEOUT_NOT_FLOAT.into());
    }
    let ms = (secs * 1000.0).ceil() as i64;
    // From the clock now (not the batch's cached time), rounded up, so the
    // client never waits less than it asked for.
    let deadline = (crate::clock::now_us() + ms * 1000 + 999) / 1000;
    Ok(if ms == 0 { None } else { Some(deadline) })
}

/// Block the running client on keys. Inside MULTI (or when the command is
/// being re-run for an already blocked client) this does not register
/// anything new: the caller then answers as on a timeout.
pub fn block(c: &mut Ctx, keys: Vec<Key>, deadline: Option<i64>, reply: TimeoutReply) {
    if c.eng.rerunning() {
        // Re-running for a blocked client that still finds nothing: it keeps
        // its place and its original deadline.
        c.eng.block_again();
        return;
    }
    let db = c.cl.db;
    let keys: Vec<(usize, Key)> = keys.into_iter().map(|k| (db, k)).collect();
    for (db, k) in &keys {
        c.eng.keyspace_mut().block_on(*db, k.clone(), c.cl.id);
    }
    c.cl.block = Some(BlockState {
        args: c.args.clone(),
        keys,
        deadline,
        wait: None,
        done: false,
        reply,
    });
}

/// Whether the running command may block (not inside MULTI/EXEC).
pub fn may_block(c: &Ctx) -> bool {
    !c.cl.in_multi() && !c.from_master && c.cl.flags & crate::client::flag::SCRIPT == 0
}

fn unregister(eng: &mut Engine, cl: &Client) {
    if let Some(b) = &cl.block {
        for k in &b.keys {
            eng.keyspace_mut().unblock_on(k, cl.id);
        }
    }
}

/// Serve clients blocked on keys made ready by the last command.
pub fn handle_ready(eng: &mut Engine) {
    if !eng.keyspace().has_ready() {
        return;
    }
    // Expiry is judged at the time of serving, as Redis's
    // handleClientsBlockedOnKeys updates its cached time: a key pushed
    // inside a MULTI that expired before the EXEC ended wakes nobody.
    eng.set_now(crate::clock::now_ms());
    while eng.keyspace().has_ready() {
        let ready = eng.keyspace_mut().take_ready();
        for key in ready {
            let Some(ids) = eng.keyspace().waiters(&key) else {
                continue;
            };
            for id in ids {
                let have = eng.keyspace().db(key.0).get(&key.1).map(|e| e.value.kind());
                match waiter_kind(eng, id) {
                    // A stream reader is served when the key holds a stream;
                    // XREADGROUP readers of a key that went away (or holds
                    // another type now) get an error, as Redis 7.0's
                    // unblockDeletedStreamReadgroupClients.
                    Waiter::Stream { group } => match have {
                        Some(ValueType::Stream) => serve(eng, id),
                        _ if group => fail(eng, id, b"UNBLOCKED the stream key no longer exists"),
                        _ => {}
                    },
                    Waiter::Typed(t) => {
                        if have == Some(t) {
                            serve(eng, id);
                        }
                    }
                    Waiter::Any => {
                        if have.is_some() {
                            serve(eng, id);
                        }
                    }
                }
            }
        }
    }
}

/// What a blocked client waits for, from its command.
enum Waiter {
    /// XREAD (`group` false) or XREADGROUP.
    Stream { group: bool },
    /// A value of this type (BLPOP: a list; BZPOPMIN: a sorted set).
    Typed(ValueType),
    /// Anything at the key.
    Any,
}

fn waiter_kind(eng: &Engine, id: u64) -> Waiter {
    let Some(name) = eng
        .clients()
        .get(id)
        .and_then(|c| c.block.as_ref())
        .and_then(|b| b.args.first())
    else {
        return Waiter::Any;
    };
    let name = name.to_ascii_lowercase();
    match name.as_slice() {
        b"xread" => Waiter::Stream { group: false },
        b"xreadgroup" => Waiter::Stream { group: true },
        b"blpop" | b"brpop" | b"blmove" | b"brpoplpush" | b"blmpop" => {
            Waiter::Typed(ValueType::List)
        }
        b"bzpopmin" | b"bzpopmax" | b"bzmpop" => Waiter::Typed(ValueType::ZSet),
        _ => Waiter::Any,
    }
}

/// Count the blocked command's call now that it is answered without a
/// re-run (a timeout, an error), as Redis's updateStatsOnUnblock.
fn count_unblocked(eng: &mut Engine, cl: &Client, failed: bool) {
    let Some(spec) = cl
        .block
        .as_ref()
        .filter(|b| b.wait.is_none())
        .and_then(|b| b.args.first())
        .and_then(|n| commands::lookup(n))
    else {
        return;
    };
    // Its time is the first run's, not kept here: the call counts, the
    // histogram gets a minimal sample.
    let track = eng.cfg().bool(crate::config::P::latency_tracking);
    eng.stats_mut().command_ran(
        spec as *const commands::CommandSpec as usize,
        || spec.name,
        failed,
        0,
        track,
    );
}

/// Answer a blocked client with an error and unblock it.
pub fn fail(eng: &mut Engine, id: u64, msg: &[u8]) {
    let Some(mut cl) = eng.clients_mut().check_out(id) else {
        return;
    };
    if cl.block.as_ref().is_none_or(|b| b.done) {
        eng.clients_mut().check_in(cl);
        return;
    }
    count_unblocked(eng, &cl, true);
    unregister(eng, &cl);
    if let Some(b) = cl.block.as_mut() {
        b.done = true;
    }
    let mut out = Vec::new();
    resp::encode::error(&mut out, msg);
    let prefix = std::str::from_utf8(msg)
        .unwrap_or("ERR")
        .split(' ')
        .next()
        .unwrap_or("ERR");
    eng.stats_mut().error_replied(prefix);
    cl.outbox.push(&out);
    eng.clients_mut().check_in(cl);
}

/// Re-run a blocked client's command; if it got an answer, unblock it.
fn serve(eng: &mut Engine, id: u64) {
    let Some(mut cl) = eng.clients_mut().check_out(id) else {
        return;
    };
    let Some(args) = cl
        .block
        .as_ref()
        .filter(|b| !b.done)
        .map(|b| b.args.clone())
    else {
        eng.clients_mut().check_in(cl);
        return;
    };
    let mut out = Vec::new();
    eng.begin_rerun();
    let saved_block = cl.block.take();
    commands::dispatch::execute(eng, &mut cl, args, &mut out);
    let still_blocked = eng.blocked_again();
    eng.end_rerun();
    cl.block = saved_block;
    if still_blocked {
        eng.clients_mut().check_in(cl);
        return;
    }
    unregister(eng, &cl);
    if let Some(b) = cl.block.as_mut() {
        b.done = true;
    }
    cl.outbox.push(&out);
    eng.clients_mut().check_in(cl);
}

fn write_timeout_reply(eng: &Engine, cl: &Client, out: &mut Vec<u8>) {
    let Some(b) = &cl.block else { return };
    match b.reply {
        TimeoutReply::NullArray => resp::encode::null_array(out, cl.proto),
        TimeoutReply::Null => resp::encode::null(out, cl.proto),
        TimeoutReply::WaitCount => {
            let n = b
                .wait
                .map(|(_, off)| crate::repl::feed::replicas_acked(eng, off))
                .unwrap_or(0);
            resp::encode::integer(out, n as i64);
        }
    }
}

/// The deadline passed: answer as a timeout. Returns false when the client
/// was already served.
pub fn timeout(eng: &mut Engine, id: u64) -> bool {
    let Some(cl) = eng.clients().get(id) else {
        return false;
    };
    if cl.block.as_ref().is_none_or(|b| b.done) {
        return false;
    }
    let mut out = Vec::new();
    write_timeout_reply(eng, cl, &mut out);
    let Some(mut cl) = eng.clients_mut().check_out(id) else {
        return false;
    };
    count_unblocked(eng, &cl, false);
    unregister(eng, &cl);
    if let Some(b) = cl.block.as_mut() {
        b.done = true;
    }
    cl.outbox.push(&out);
    eng.clients_mut().check_in(cl);
    true
}

/// CLIENT UNBLOCK: returns 1 when the client was blocked.
pub fn unblock_client(eng: &mut Engine, id: u64, error: bool) -> usize {
    let blocked = eng
        .clients()
        .get(id)
        .is_some_and(|cl| cl.block.as_ref().is_some_and(|b| !b.done));
    if !blocked {
        return 0;
    }
    if !error {
        return timeout(eng, id) as usize;
    }
    let Some(mut cl) = eng.clients_mut().check_out(id) else {
        return 0;
    };
    count_unblocked(eng, &cl, true);
    unregister(eng, &cl);
    if let Some(b) = cl.block.as_mut() {
        b.done = true;
    }
    let mut out = Vec::new();
    resp::encode::error(&mut out, b"UNBLOCKED client unblocked via CLIENT UNBLOCK");
    eng.stats_mut().error_replied("UNBLOCKED");
    cl.outbox.push(&out);
    eng.clients_mut().check_in(cl);
    1
}

/// The client disconnected while blocked.
pub fn forget(eng: &mut Engine, cl: &Client) {
    unregister(eng, cl);
}

/// After SWAPDB, keys that now exist in a swapped db may serve waiters.
pub fn signal_db_swapped(eng: &mut Engine, a: usize, b: usize) {
    // Every blocked key of both: those that now hold data serve their
    // readers, and XREADGROUP readers of keys that are gone get an error
    // (Redis's scanDatabaseForDeletedKeys).
    let keys = eng.keyspace().blocked_keys_in(a, b);
    for (d, k) in keys {
        eng.keyspace_mut().signal_ready(d, &k);
    }
}

/// Clients blocked on keys or WAIT, or held by CLIENT PAUSE.
pub fn blocked_clients(eng: &Engine) -> usize {
    eng.clients()
        .iter()
        .filter(|c| c.paused || c.block.as_ref().is_some_and(|b| !b.done))
        .count()
}

/// Arguments helper used by tests.
pub fn args(v: &[&str]) -> Vec<Bytes> {
    v.iter()
        .map(|s| Bytes::copy_from_slice(s.as_bytes()))
        .collect()
}
