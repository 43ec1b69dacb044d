//! Transactions: MULTI, EXEC, DISCARD, WATCH, UNWATCH (Redis's `multi.c`).
//!
//! Queued commands were checked when queued (unknown command or wrong arity
//! flags the transaction, and EXEC answers `-EXECABORT`); errors while
//! running do not stop the others. A WATCHed key touched by anyone (or that
//! expired since WATCH) makes EXEC answer a null array. The commands' writes
//! are propagated together, wrapped in MULTI/EXEC when there is more than
//! one, as Redis 7.0 does.

use super::f::*;
use super::{cmd, CommandSpec, Ctx, NOKEYS};
use crate::client::{flag, Client};
use crate::engine::Engine;
use crate::error::*;
use crate::keyspace::Key;
use bytes::Bytes;

/// Table rows.
pub static COMMANDS: &[CommandSpec] = &[
    cmd(
        "multi",
        1,
        NOSCRIPT | LOADING | STALE | FAST | ALLOW_BUSY,
        NOKEYS,
        "transactions",
        "1.2.0",
        "Mark the start of a transaction block",
        multi,
    ),
    cmd(
        "exec",
        1,
        NOSCRIPT | LOADING | STALE | SKIP_SLOWLOG,
        NOKEYS,
        "transactions",
        "1.2.0",
        "Execute all commands issued after MULTI",
        exec,
    ),
    cmd(
        "discard",
        1,
        NOSCRIPT | LOADING | STALE | FAST | ALLOW_BUSY,
        NOKEYS,
        "transactions",
        "2.0.0",
        "Discard all commands issued after MULTI",
        discard,
    ),
    cmd(
        "watch",
        -2,
        NOSCRIPT | LOADING | STALE | FAST | ALLOW_BUSY,
        (1, -1, 1),
        "transactions",
        "2.2.0",
        "Watch the given keys to determine execution of the MULTI/EXEC block",
        watch,
    ),
    cmd(
        "unwatch",
        1,
        NOSCRIPT | LOADING | STALE | FAST | ALLOW_BUSY,
        NOKEYS,
        "transactions",
        "2.2.0",
        "Forget about all watched keys",
        unwatch,
    ),
];

fn multi(c: &mut Ctx) -> CmdResult {
    if c.cl.in_multi() {
        return Err("ERR MULTI calls can not be nested".into());
    }
    c.cl.flags |= flag::MULTI;
    c.ok();
    Ok(())
}

/// Leave MULTI state, dropping queued commands.
pub fn discard_transaction(eng: &mut Engine, cl: &mut Client) {
    eng.discard_transaction(cl);
}

/// Forget every WATCHed key of a client.
pub fn unwatch_all(eng: &mut Engine, cl: &mut Client) {
    eng.unwatch_all(cl);
}

fn discard(c: &mut Ctx) -> CmdResult {
    if !c.cl.in_multi() {
        return Err("ERR DISCARD without MULTI".into());
    }
    discard_transaction(c.eng, c.cl);
    c.ok();
    Ok(())
}

fn watch(c: &mut Ctx) -> CmdResult {
    if c.cl.in_multi() {
        return Err("ERR WATCH inside MULTI is not allowed".into());
    }
    let db = c.cl.db;
    let now = c.now();
    for k in c.args[1..].to_vec() {
        if c.cl.watched.iter().any(|(d, key)| *d == db && **key == *k) {
            continue;
        }
        let expired = c
            .eng
            .keyspace()
            .db(db)
            .get(&k)
            .is_some_and(|e| e.is_expired(now));
        let key: Key = k.as_ref().into();
        c.eng
            .keyspace_mut()
            .watch(db, key.clone(), c.cl.id, expired);
        c.cl.watched.push((db, key));
    }
    c.ok();
    Ok(())
}

fn unwatch(c: &mut Ctx) -> CmdResult {
    unwatch_all(c.eng, c.cl);
    c.ok();
    Ok(())
}

/// Whether a queued command writes (Redis's mstate.cmd_flags & CMD_WRITE).
/// Whether a queued command writes, as processCommand sees it (a script
/// with a shebang by its flags: getCommandFlags).
fn queued_is_write(eng: &crate::engine::Engine, args: &[Bytes]) -> bool {
    let Some(spec) = args.first().and_then(|a| super::lookup(a)) else {
        return false;
    };
    let spec = if spec.flags & CONTAINER != 0 {
        match args.get(1).and_then(|a| super::lookup_sub(spec, a)) {
            Some(s) => s,
            None => return false,
        }
    } else {
        spec
    };
    let flags = if spec.group == "scripting"
        && (spec.name.starts_with("eval") || spec.name.starts_with("fcall"))
    {
        super::scripting::command_flags(eng, spec.name, spec.flags, args)
    } else {
        spec.flags
    };
    flags & WRITE != 0
}

fn exec(c: &mut Ctx) -> CmdResult {
    if !c.cl.in_multi() {
        return Err("ERR EXEC without MULTI".into());
    }
    if c.cl.flags & flag::DIRTY_EXEC != 0 {
        discard_transaction(c.eng, c.cl);
        return Err("EXECABORT Transaction discarded because of previous errors.".into());
    }
    let now = c.eng.now();
    if c.eng.keyspace().cas_failed(c.cl.id)
        || c.eng
            .keyspace()
            .watched_key_expired(&c.cl.watched, c.cl.id, now)
    {
        discard_transaction(c.eng, c.cl);
        c.null_array();
        return Ok(());
    }
    // processCommand refuses an EXEC of writes on a read-only replica
    // (rejectCommand → execCommandAbort); once it runs, every queued
    // command runs, even after a REPLICAOF among them.
    if !c.from_master
        && c.eng.is_replica()
        && c.eng.cfg().bool(crate::config::P::replica_read_only)
        && c.cl.multi.iter().any(|a| queued_is_write(c.eng, a))
    {
        discard_transaction(c.eng, c.cl);
        let msg = READONLY_REPLICA.trim_start_matches('-');
        return Err(CmdError::msg(format!(
            "EXECABORT Transaction discarded because of: {msg}"
        )));
    }
    let queued = std::mem::take(&mut c.cl.multi);
    unwatch_all(c.eng, c.cl);
    c.array(queued.len());
    let outer = crate::repl::feed::begin_unit(c.eng);
    for args in queued {
        let spec = super::lookup(&args[0]);
        let (spec, parent) = match spec {
            Some(s) if s.flags & CONTAINER != 0 => {
                (args.get(1).and_then(|a| super::lookup_sub(s, a)), Some(s))
            }
            s => (s, None),
        };
        let Some(spec) = spec else {
            continue;
        };
        if !c.from_master {
            if let Err((denied, pos)) = super::acl::check(c.eng, c.cl, spec, parent, &args) {
                let name = super::acl::acl_name(spec, parent);
                let ctx = super::acl::Context::Multi;
                super::acl::log_refusal(c.eng, &*c.cl, denied, pos, ctx, &name, &args);
                c.error(&CmdError::msg(format!(
                    "NOPERM ACLs rules changed between the moment the transaction was accumulated and the EXEC call. This command is no longer allowed for the following reason: {}",
                    super::acl::exec_message(denied)
                )));
                continue;
            }
        }
        super::dispatch::call(c.eng, c.cl, spec, parent, args, c.out, c.from_master);
    }
    crate::repl::feed::end_unit(c.eng, outer);
    c.cl.flags &= !(flag::MULTI | flag::DIRTY_EXEC);
    // EXEC itself is not propagated: its commands were.
    c.propagate_instead(Vec::new());
    Ok(())
}
