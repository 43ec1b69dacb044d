//! Dispatch: a client's commands from the connection (or the master's
//! stream, or a blocked client's retry) to their handlers — Redis's
//! `processInputBuffer`, `processCommand` and `call`. It sits above the
//! engine and the command families: the engine never calls up into it.

use bytes::Bytes;
use std::collections::HashMap;
use std::sync::LazyLock;

use resp::encode::{self as enc, Proto};

use super::{eq, f, full_name, lookup, lookup_sub, server, write_error, CommandSpec, Ctx};
use crate::client::{flag, Client, ReplyMode};
use crate::config::P;
use crate::engine::Engine;
use crate::error::{CmdError, NOAUTH};

/// Run a batch of commands for one client. Returns how many commands
/// were consumed: fewer than `batch.len()` when the client blocked (the
/// rest wait until it is served).
pub fn run_batch(
    eng: &mut Engine,
    cl: &mut Client,
    batch: &mut std::collections::VecDeque<Vec<Bytes>>,
    out: &mut Vec<u8>,
) -> usize {
    let mut n = 0;
    // One time for the batch, as Redis caches its clock per event-loop
    // iteration.
    eng.set_now(crate::clock::now_ms());
    cl.last_interaction = eng.now();
    if batch.len() > 1 {
        eng.warm_keys(cl.db, batch);
    }
    while let Some(args) = batch.pop_front() {
        n += 1;
        let start = out.len();
        let mode = cl.reply_mode;
        let was_replica = cl.flags & crate::client::flag::REPLICA != 0;
        let client_cmd = args.first().is_some_and(|a| eq(a, "client"));
        execute(eng, cl, args, out);
        eng.tracking_mut()
            .command_done(cl.id, cl.in_multi(), client_cmd);
        if was_replica && out.len() > start {
            replica_replied(eng, cl, &out[start..]);
            out.truncate(start);
            break;
        }
        cl.outbox.resp3.store(
            cl.proto == resp::encode::Proto::Resp3,
            std::sync::atomic::Ordering::Relaxed,
        );
        cl.outbox
            .subscribed
            .store(cl.subscriptions() > 0, std::sync::atomic::Ordering::Relaxed);
        if eng.keyspace().has_ready() {
            crate::blocking::handle_ready(eng);
        }
        // CLIENT REPLY ON answers even though replies were off.
        if matches!(mode, ReplyMode::Off | ReplyMode::Skip) && cl.reply_mode != ReplyMode::On {
            out.truncate(start);
            out.append(&mut cl.unmuted);
        }
        // SKIP applies to the command after CLIENT REPLY SKIP.
        cl.reply_mode = match (mode, cl.reply_mode) {
            (ReplyMode::Skip, ReplyMode::Skip) => ReplyMode::On,
            (_, ReplyMode::SkipNext) => ReplyMode::Skip,
            (_, m) => m,
        };
        if cl.block.is_some() || cl.flags & flag::CLOSE_AFTER_REPLY != 0 {
            break;
        }
    }
    // BCAST invalidations go out once per batch, as Redis sends them once
    // per event-loop turn.
    eng.tracking_broadcast();
    n
}

/// A replica's link carries the stream and nothing else: a command a
/// replica sends that produces a reply gets it disconnected, with
/// Redis's log lines (an error reply is logged as critical first).
fn replica_replied(eng: &Engine, cl: &mut Client, reply: &[u8]) {
    if let Some(err) = reply.strip_prefix(b"-") {
        let end = err.iter().position(|&b| b == b'\r').unwrap_or(err.len());
        tracing::warn!(
            "== CRITICAL == This master is sending an error to its replica: '{}' after processing the command '{}'",
            String::from_utf8_lossy(&err[..end]),
            cl.last_cmd
        );
    }
    tracing::warn!(
        "Replica generated a reply to command '{}', disconnecting it: {}",
        cl.last_cmd,
        eng.client_info_line(cl, eng.now())
    );
    cl.outbox.kill();
}

/// The flags processCommand checks for a command (Redis's
/// getCommandFlags): a script that declared its flags, and a function, are
/// checked as them; other commands as their table row.
fn command_flags(eng: &Engine, spec: &CommandSpec, args: &[Bytes]) -> u32 {
    if spec.group == "scripting"
        && (spec.name.starts_with("eval") || spec.name.starts_with("fcall"))
    {
        super::scripting::command_flags(eng, spec.name, spec.flags, args)
    } else {
        spec.flags
    }
}

/// Whether CLIENT PAUSE holds this command now (Redis's
/// blockPostponeClient checks in processCommand): everything under PAUSE
/// ALL; under PAUSE WRITE, writes and commands that may replicate, and an
/// EXEC whose `queued` commands include one.
pub fn paused_for(eng: &Engine, args: &[Bytes], queued: &[Vec<Bytes>]) -> bool {
    // No clock read while no pause was ever asked (the replica's stream
    // asks for every command it applies).
    let pause = eng.clients().pause();
    if pause.until == 0 || pause.until <= crate::clock::now_ms() {
        return false;
    }
    if !pause.write_only {
        return true;
    }
    let holds = |a: &[Bytes]| {
        a.first()
            .and_then(|n| lookup(n))
            .is_some_and(|s| command_flags(eng, s, a) & (f::WRITE | f::MAY_REPLICATE) != 0)
    };
    match args.first().and_then(|n| lookup(n)) {
        // A wrong number of arguments is answered at once, as
        // processCommand checks arity before the pause.
        Some(s) if !arity_ok(s.arity, args.len()) => false,
        Some(s) if s.name == "exec" => queued.iter().any(|q| holds(q)),
        Some(_) => holds(args),
        None => false,
    }
}

fn arity_ok(arity: i32, argc: usize) -> bool {
    let argc = argc as i32;
    (arity > 0 && arity == argc) || (arity < 0 && argc >= -arity)
}

/// Commands allowed in RESP2 subscribed mode.
fn allowed_in_subscribed_mode(name: &str) -> bool {
    matches!(
        name,
        "subscribe"
            | "ssubscribe"
            | "unsubscribe"
            | "sunsubscribe"
            | "psubscribe"
            | "punsubscribe"
            | "ping"
            | "quit"
            | "reset"
    )
}

/// Run one command for a client: Redis's `processCommand` then `call`.
pub fn execute(eng: &mut Engine, cl: &mut Client, args: Vec<Bytes>, out: &mut Vec<u8>) {
    execute_from(eng, cl, args, out, false)
}

/// `execute`, marking commands that come from our master.
pub fn execute_from(
    eng: &mut Engine,
    cl: &mut Client,
    args: Vec<Bytes>,
    out: &mut Vec<u8>,
    from_master: bool,
) {
    // The client is Redis's current_client while its command runs:
    // tracking invalidations meant for it are written after its reply.
    let prev = eng.tracking_mut().begin_client(cl.id);
    process(eng, cl, args, out, from_master);
    take_pushes(eng, cl, out);
    eng.tracking_mut().end_client(prev);
}

/// Write what the running client received (tracking invalidations) where
/// its reply goes; pushes go out even while replies are off (Redis's
/// CLIENT_PUSHING).
fn take_pushes(eng: &mut Engine, cl: &mut Client, out: &mut Vec<u8>) {
    if let Some(pushed) = eng.tracking_mut().take_for_current() {
        if cl.reply_mode == ReplyMode::On {
            out.extend_from_slice(&pushed);
        } else {
            cl.unmuted.extend_from_slice(&pushed);
        }
    }
}

/// Refuse a command before it runs (Redis's rejectCommand): the
/// transaction is flagged, the command's rejected_calls counted.
fn reject(
    eng: &mut Engine,
    cl: &mut Client,
    out: &mut Vec<u8>,
    spec: &'static CommandSpec,
    parent: Option<&'static CommandSpec>,
    e: &CmdError,
) {
    flag_transaction(cl);
    // A refused EXEC ends the transaction (Redis's execCommandAbort).
    let abort;
    let e = if spec.name == "exec" && cl.in_multi() {
        eng.discard_transaction(cl);
        abort = CmdError::msg(format!(
            "EXECABORT Transaction discarded because of: {}",
            e.text().trim_start_matches('-')
        ));
        &abort
    } else {
        e
    };
    count_rejected(eng, spec, parent);
    write_error(eng, out, e);
}

/// Count a refused command in its rejected_calls (Redis's
/// incrCommandStatsOnError with ERROR_COMMAND_REJECTED); also for a
/// script's refused `redis.call`.
pub fn count_rejected(
    eng: &mut Engine,
    spec: &'static CommandSpec,
    parent: Option<&'static CommandSpec>,
) {
    let stat_spec = match parent {
        Some(p) if p.flags & f::OPAQUE != 0 => p,
        _ => spec,
    };
    eng.stats_mut()
        .command_rejected(stat_spec as *const CommandSpec as usize, || {
            if parent.is_some() {
                leak_full_name(parent, spec)
            } else {
                spec.name
            }
        });
}

/// Redis's processCommand: the checks, then `call`.
fn process(
    eng: &mut Engine,
    cl: &mut Client,
    args: Vec<Bytes>,
    out: &mut Vec<u8>,
    from_master: bool,
) {
    let Some(name) = args.first() else { return };
    let Some(mut spec) = lookup(name) else {
        flag_transaction(cl);
        let e = CmdError::unknown_command(name, &args[1..]);
        write_error(eng, out, &e);
        return;
    };
    let mut parent = None;
    if spec.flags & f::CONTAINER != 0 {
        if args.len() < 2 && spec.name == "command" {
            // Bare COMMAND lists everything.
            call(eng, cl, spec, None, args, out, from_master);
            return;
        }
        if args.len() < 2 {
            flag_transaction(cl);
            write_error(eng, out, &CmdError::arity(spec.name));
            return;
        }
        match lookup_sub(spec, &args[1]) {
            Some(sub) => {
                parent = Some(spec);
                spec = sub;
            }
            None => {
                // Redis's DEBUG is one command: its user needs the right to
                // it (or to this first argument) before it answers that it
                // knows no such subcommand.
                if spec.name == "debug" && !from_master && !super::acl::auth_required(eng, cl) {
                    if let Err(denied) = super::acl::check(eng, cl, spec, None, &args) {
                        let ctx = if cl.in_multi() {
                            super::acl::Context::Multi
                        } else {
                            super::acl::Context::Toplevel
                        };
                        let e = super::acl::refuse(eng, cl, denied, ctx, spec, None, &args);
                        flag_transaction(cl);
                        write_error(eng, out, &e);
                        return;
                    }
                }
                flag_transaction(cl);
                let e = CmdError::unknown_subcommand(spec.name, &args[1]);
                write_error(eng, out, &e);
                return;
            }
        }
    }
    if parent.is_some_and(|p| p.name == "debug") && !eng.cfg().debug_allowed(cl.local) {
        write_error(eng, out, &CmdError::fixed("ERR DEBUG command not allowed. If the enable-debug-command option is set to \"local\", you can run it from a local connection, otherwise you need to set this option in the configuration file, and then restart the server."));
        return;
    }
    if !arity_ok(spec.arity, args.len()) {
        reject(
            eng,
            cl,
            out,
            spec,
            parent,
            &CmdError::arity(&full_name(parent, spec)),
        );
        return;
    }
    // MODULE LOAD/LOADEX/UNLOAD are Redis's PROTECTED commands, checked
    // after the arity as processCommand does.
    if parent.is_some_and(|p| p.name == "module")
        && matches!(spec.name, "load" | "loadex" | "unload")
        && !eng.cfg().module_command_allowed(cl.local)
    {
        reject(eng, cl, out, spec, parent, &CmdError::fixed("ERR MODULE command not allowed. If the enable-module-command option is set to \"local\", you can run it from a local connection, otherwise you need to set this option in the configuration file, and then restart the server."));
        return;
    }
    if !from_master && spec.flags & f::NO_AUTH == 0 && super::acl::auth_required(eng, cl) {
        reject(eng, cl, out, spec, parent, &CmdError::fixed(NOAUTH));
        return;
    }
    // Keep client-side caching's table within tracking-table-max-keys
    // (its invalidations reach this client before its reply).
    eng.tracking_limit();
    take_pushes(eng, cl, out);
    if cl.in_multi() && spec.flags & f::NO_MULTI != 0 {
        reject(
            eng,
            cl,
            out,
            spec,
            parent,
            &CmdError::fixed("ERR Command not allowed inside a transaction"),
        );
        return;
    }
    if !from_master {
        if let Err(denied) = super::acl::check(eng, cl, spec, parent, &args) {
            let ctx = if cl.in_multi() {
                super::acl::Context::Multi
            } else {
                super::acl::Context::Toplevel
            };
            let e = super::acl::refuse(eng, cl, denied, ctx, spec, parent, &args);
            reject(eng, cl, out, spec, parent, &e);
            return;
        }
    }
    // Disconnect clients over maxmemory-clients (this one too: then its
    // command does not run).
    if eng.evict_clients(Some(cl)) {
        cl.flags |= flag::CLOSE_AFTER_REPLY;
        return;
    }
    if eng.cfg().int(P::maxmemory) != 0 && oom_refused(eng, cl, spec, &args) {
        take_pushes(eng, cl, out);
        reject(
            eng,
            cl,
            out,
            spec,
            parent,
            &CmdError::fixed(crate::error::OOM),
        );
        return;
    }
    // Evictions' invalidations reach this client before its reply.
    take_pushes(eng, cl, out);
    if cl.proto == Proto::Resp2 && cl.subscriptions() > 0 && !allowed_in_subscribed_mode(spec.name)
    {
        let e = CmdError::msg(format!(
            "ERR Can't execute '{}': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in this context",
            full_name(parent, spec)
        ));
        write_error(eng, out, &e);
        return;
    }
    let flags = command_flags(eng, spec, &args);
    // For EXEC, Redis also weighs what it queued (mstate.cmd_flags and
    // cmd_inv_flags): a write queued before min-replicas-to-write was
    // raised, a read queued before the link went down, are refused at EXEC.
    let (queued, queued_inv) = if spec.name == "exec" && cl.in_multi() {
        queued_flags(eng, cl)
    } else {
        (0, 0)
    };
    let is_write = (flags | queued) & f::WRITE != 0;
    if cl.flags & flag::REPLICA != 0
        && spec.flags & (f::WRITE | f::READONLY | f::MAY_REPLICATE) != 0
    {
        cl.last_cmd = match parent {
            Some(_) => leak_full_name(parent, spec),
            None => spec.name,
        };
        write_error(
            eng,
            out,
            &CmdError::fixed("ERR Replica can't interact with the keyspace"),
        );
        return;
    }
    if !from_master
        && (is_write || spec.name == "ping")
        && !eng.is_replica()
        && crate::persist::writes_denied(eng)
    {
        let e = CmdError::msg(crate::persist::misconf(eng));
        reject(eng, cl, out, spec, parent, &e);
        return;
    }
    if is_write && !from_master && crate::repl::master::not_enough_replicas(eng) {
        reject(
            eng,
            cl,
            out,
            spec,
            parent,
            &CmdError::fixed("NOREPLICAS Not enough good replicas to write."),
        );
        return;
    }
    if is_write && !from_master && eng.is_replica() && eng.cfg().bool(P::replica_read_only) {
        reject(
            eng,
            cl,
            out,
            spec,
            parent,
            &CmdError::fixed(crate::error::READONLY_REPLICA),
        );
        return;
    }
    let deny_stale = flags & f::STALE == 0 || queued_inv & f::STALE != 0;
    if !from_master && deny_stale && crate::repl::replica::deny_stale(eng) {
        reject(
            eng,
            cl,
            out,
            spec,
            parent,
            &CmdError::fixed(
                "MASTERDOWN Link with MASTER is down and replica-serve-stale-data is set to 'no'.",
            ),
        );
        return;
    }
    if eng.persist().loading() && (spec.flags & f::LOADING == 0 || queued_inv & f::LOADING != 0) {
        write_error(
            eng,
            out,
            &CmdError::fixed("LOADING Redis is loading the dataset in memory"),
        );
        return;
    }
    // While a replica loads its master's data aside, commands that would
    // change replication or persistence wait (Redis's CMD_NO_ASYNC_LOADING,
    // for EXEC the flags of what it queued).
    if eng.persist().async_loading()
        && !from_master
        && (spec.flags | queued) & f::NO_ASYNC_LOADING != 0
    {
        reject(
            eng,
            cl,
            out,
            spec,
            parent,
            &CmdError::fixed("LOADING Redis is loading the dataset in memory"),
        );
        return;
    }
    if cl.in_multi()
        && !matches!(
            spec.name,
            "exec" | "discard" | "multi" | "watch" | "quit" | "reset"
        )
    {
        cl.multi.push(args);
        enc::simple(out, b"QUEUED");
        return;
    }
    call(eng, cl, spec, parent, args, out, from_master);
}

/// processCommand's maxmemory step: evict what the policy allows, then
/// whether the command must be refused with -OOM (a DENYOOM command, an
/// EXEC of queued DENYOOM commands, or anything but EXEC, DISCARD, QUIT
/// and RESET queued inside MULTI). The outcome is kept for scripts
/// (Redis's pre_command_oom_state).
fn oom_refused(eng: &mut Engine, cl: &Client, spec: &CommandSpec, args: &[Bytes]) -> bool {
    if crate::script::busy::any_running() {
        return false;
    }
    let out_of_memory =
        crate::keyspace::evict::perform_evictions(eng) == crate::keyspace::evict::EvictResult::Fail;
    eng.evict_state_mut().set_pre_command_oom(out_of_memory);
    if !out_of_memory {
        return false;
    }
    let denyoom = command_flags(eng, spec, args) & f::DENYOOM != 0
        || (spec.name == "exec" && queued_flags(eng, cl).0 & f::DENYOOM != 0);
    denyoom || (cl.in_multi() && !matches!(spec.name, "exec" | "discard" | "quit" | "reset"))
}

/// The flags of the commands `cl` queued, or-ed, and their complements
/// or-ed (Redis's mstate.cmd_flags and cmd_inv_flags): "some queued
/// command has X" and "some queued command lacks X".
fn queued_flags(eng: &Engine, cl: &Client) -> (u32, u32) {
    cl.multi.iter().fold((0, 0), |(any, inv), q| {
        let Some(mut s) = q.first().and_then(|n| lookup(n)) else {
            return (any, inv);
        };
        if s.flags & f::CONTAINER != 0 {
            match q.get(1).and_then(|a| lookup_sub(s, a)) {
                Some(sub) => s = sub,
                None => return (any, inv),
            }
        }
        let fl = command_flags(eng, s, q);
        (any | fl, inv | !fl)
    })
}

/// Mark the open transaction as failed (a queued command was refused).
fn flag_transaction(cl: &mut Client) {
    if cl.in_multi() {
        cl.flags |= flag::DIRTY_EXEC;
    }
}

/// Run a command whose checks passed: MONITOR feed, handler, stats,
/// propagation, then serve clients blocked on keys it made ready.
pub fn call(
    eng: &mut Engine,
    cl: &mut Client,
    spec: &'static CommandSpec,
    parent: Option<&'static CommandSpec>,
    args: Vec<Bytes>,
    out: &mut Vec<u8>,
    from_master: bool,
) {
    let dirty_before = eng.persist().dirty();
    let db_before = cl.db;
    let name = spec.name;
    // CLIENT LIST shows the command being run as the client's last.
    cl.last_cmd = if parent.is_some() {
        leak_full_name(parent, spec)
    } else {
        name
    };
    eng.tracking_mut().enter_call();
    let mut ctx = Ctx {
        eng,
        cl,
        args,
        out,
        cmd: spec,
        parent,
        propagate_as: None,
        from_master,
        redacted: Vec::new(),
        failed: false,
        started: std::time::Instant::now(),
    };
    let had_block = ctx.cl.block.is_some();
    let start = ctx.started;
    let res = (spec.handler)(&mut ctx);
    let ns = start.elapsed().as_nanos() as u64;
    let Ctx {
        eng,
        cl,
        args,
        out,
        propagate_as,
        redacted,
        failed,
        ..
    } = ctx;
    let failed = failed || res.is_err();
    if let Err(e) = res {
        write_error(eng, out, &e);
    }
    // A command that blocked is counted, logged and tracked when it is
    // answered (Redis's updateStatsOnUnblock), not now. (WAIT keeps its
    // count at the call.)
    let blocked = (!had_block
        && cl
            .block
            .as_ref()
            .is_some_and(|b| !b.done && b.wait.is_none()))
        || (eng.rerunning() && eng.blocked_again());
    if !blocked {
        let track = eng.cfg().bool(crate::config::P::latency_tracking);
        // An opaque container's subcommands count as the container.
        let stat_spec = match parent {
            Some(p) if p.flags & f::OPAQUE != 0 => p,
            _ => spec,
        };
        eng.stats_mut().command_ran(
            stat_spec as *const CommandSpec as usize,
            || {
                if parent.is_some() {
                    leak_full_name(parent, spec)
                } else {
                    name
                }
            },
            failed,
            ns,
            track,
        );
    }
    let event = if spec.flags & f::FAST != 0 {
        "fast-command"
    } else {
        "command"
    };
    eng.latency_sample(event, ns / 1_000_000);
    if !blocked && spec.flags & f::SKIP_SLOWLOG == 0 {
        slowlog_push(eng, cl, &args, &redacted, ns / 1000);
    }
    // MONITOR sees a command once it ran, as Redis 7.0's call(), with the
    // arguments it redacted.
    let monitored = parent.map_or(spec.flags, |p| p.flags | spec.flags);
    if !eng.clients().monitors().is_empty() && monitored & (f::SKIP_MONITOR | f::ADMIN) == 0 {
        if redacted.is_empty() {
            server::feed_monitors(eng, cl, &args);
        } else {
            let shown: Vec<Bytes> = (0..args.len())
                .map(|i| {
                    if redacted.contains(&i) {
                        Bytes::from_static(crate::slowlog::REDACTED)
                    } else {
                        args[i].clone()
                    }
                })
                .collect();
            server::feed_monitors(eng, cl, &shown);
        }
    }
    if spec.flags & f::READONLY != 0 && eng.tracking().active() {
        remember_keys(eng, cl, spec, &args);
    }
    if eng.repl().link().is_some() && !from_master && eng.persist().dirty() != dirty_before {
        remember_replica_ttls(eng, spec, db_before, &args);
    }
    // Commands from our master reach our own replicas as the master's
    // bytes (repl::replica proxies them), not as our propagation.
    // A writable replica's own writes stay local, as in Redis: its stream
    // is its master's.
    let forced = eng.repl_mut().take_forced();
    // The AOF records every write, a replica's included (what its master
    // sent and, when writable, its own clients'); feed() sends to the
    // stream only what this node's own stream carries.
    if (eng.persist().dirty() != dirty_before || forced)
        && spec.flags & f::WRITE != 0
        && ((!from_master && eng.repl().link().is_none()) || eng.aof().feeding())
        && eng.propagating()
    {
        match propagate_as {
            Some(cmds) => {
                // Several writes from one command reach replicas as one
                // MULTI/EXEC, as Redis 7.0's propagatePendingCommands.
                let nested = (cmds.len() > 1).then(|| crate::repl::feed::begin_unit(eng));
                for c in cmds {
                    let v: Vec<&[u8]> = c.iter().map(|a| a.as_slice()).collect();
                    crate::repl::feed::feed(eng, db_before, &v);
                }
                if let Some(n) = nested {
                    crate::repl::feed::end_unit(eng, n);
                }
            }
            None => {
                let v: Vec<&[u8]> = args.iter().map(|a| a.as_ref()).collect();
                crate::repl::feed::feed(eng, db_before, &v);
            }
        }
    }
    eng.tracking_leave_call(cl.proto);
}

/// A read-only command ran: a client tracking keys (default mode) may now
/// cache the keys it read (Redis's trackingRememberKeys from call). A
/// script's read makes its caller cache the keys the script declared;
/// EVAL_RO and FCALL_RO themselves track nothing.
fn remember_keys(eng: &mut Engine, cl: &Client, spec: &CommandSpec, args: &[Bytes]) {
    if spec.flags & f::PUBSUB != 0 || matches!(spec.name, "eval_ro" | "evalsha_ro" | "fcall_ro") {
        return;
    }
    if cl.flags & flag::SCRIPT != 0 {
        eng.tracking_mut().script_read();
        return;
    }
    if spec.numkeys == 0 && spec.key_finder.is_none() && spec.keyword_keys.is_empty() {
        if spec.first_key <= 0 {
            return;
        }
        let argc = args.len() as i32;
        let last = if spec.last_key < 0 {
            argc + spec.last_key
        } else {
            spec.last_key
        };
        let step = spec.step.max(1) as usize;
        let (first, last) = (spec.first_key as usize, last.min(argc - 1).max(0) as usize);
        if first > last {
            return;
        }
        let keys = args[first..=last].iter().step_by(step).map(|k| k.as_ref());
        eng.tracking_mut().remember(cl.id, keys);
    } else if let Ok(keys) = server::command_keys(args) {
        eng.tracking_mut()
            .remember(cl.id, keys.iter().map(|k| k.as_ref()));
    }
}

/// Log a command that ran for `us` microseconds in the slow log, if
/// `slowlog-log-slower-than` asks for it.
fn slowlog_push(eng: &mut Engine, cl: &Client, args: &[Bytes], redacted: &[usize], us: u64) {
    use crate::config::P;
    let slower_than = eng.cfg().int(P::slowlog_log_slower_than);
    if slower_than < 0 {
        return;
    }
    let max_len = eng.cfg().int(P::slowlog_max_len) as usize;
    let run = crate::slowlog::Run {
        args,
        redacted,
        duration: us,
        peer: &cl.addr,
        name: cl.name.as_deref(),
    };
    // The clock is read only for an entry (a third read per command
    // otherwise).
    eng.slowlog_mut()
        .push_if_needed(run, slower_than, max_len, || crate::clock::now_ms() / 1000);
}

/// A writable replica's own write: remember the keys it left with a TTL
/// (in its db, or the target db of MOVE and COPY ... DB), which only the
/// replica itself will expire (`keyspace::replica_expire`).
fn remember_replica_ttls(eng: &mut Engine, spec: &CommandSpec, db: usize, args: &[Bytes]) {
    let Ok(keys) = server::command_keys(args) else {
        return;
    };
    let mut dbs = vec![db];
    let target = match spec.name {
        "move" => args.get(2),
        "copy" => args
            .iter()
            .position(|a| eq(a, "db"))
            .and_then(|i| args.get(i + 1)),
        _ => None,
    };
    if let Some(t) = target.and_then(|t| crate::util::num::parse_i64(t)) {
        dbs.extend(
            usize::try_from(t)
                .ok()
                .filter(|&t| t < eng.keyspace().num_dbs()),
        );
    }
    for key in &keys {
        for &d in &dbs {
            if eng
                .keyspace()
                .db(d)
                .get(key)
                .is_some_and(|e| e.expire() >= 0)
            {
                eng.keyspace_mut().remember_replica_ttl(d, key);
            }
        }
    }
}

/// Subcommand stat names are static strings, built once per subcommand.
fn leak_full_name(parent: Option<&CommandSpec>, spec: &'static CommandSpec) -> &'static str {
    static NAMES: LazyLock<std::sync::Mutex<HashMap<usize, &'static str>>> =
        LazyLock::new(Default::default);
    let key = spec as *const CommandSpec as usize;
    let mut m = NAMES.lock().unwrap_or_else(|p| p.into_inner());
    m.entry(key)
        .or_insert_with(|| Box::leak(full_name(parent, spec).into_boxed_str()))
}
