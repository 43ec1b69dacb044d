//! Scripting commands: EVAL, EVALSHA, EVAL_RO, EVALSHA_RO and SCRIPT
//! (Redis's `eval.c`), a script's run against the server (`run`: Redis's
//! `scriptPrepareForRun` and the `redis.call` bridge of `script_call.rs`),
//! and what a connection answers while a script is busy
//! (`serve_while_busy`). The interpreter and the script cache are the
//! scripting subsystem, `crate::script`.

use super::f::*;
use super::{cmd, container, eq, parse_int, CommandSpec, Ctx, NOKEYS};
use crate::config::P;
use crate::error::*;
use std::collections::VecDeque;

use bytes::Bytes;

use crate::client::Client;
use crate::engine::Engine;
use crate::script::{self, sflag, Busy, NOSCRIPT as NOSCRIPT_ERR};

/// Table rows.
pub static COMMANDS: &[CommandSpec] = &[
    cmd(
        "eval",
        -3,
        NOSCRIPT | SKIP_MONITOR | MAY_REPLICATE | STALE,
        NOKEYS,
        "scripting",
        "2.6.0",
        "Execute a Lua script server side",
        eval,
    )
    .numkeys_at(2),
    cmd(
        "evalsha",
        -3,
        NOSCRIPT | SKIP_MONITOR | MAY_REPLICATE | STALE,
        NOKEYS,
        "scripting",
        "2.6.0",
        "Execute a Lua script server side",
        evalsha,
    )
    .numkeys_at(2),
    cmd(
        "eval_ro",
        -3,
        NOSCRIPT | SKIP_MONITOR | STALE | READONLY,
        NOKEYS,
        "scripting",
        "7.0.0",
        "Execute a read-only Lua script server side",
        eval_ro,
    )
    .numkeys_at(2),
    cmd(
        "evalsha_ro",
        -3,
        NOSCRIPT | SKIP_MONITOR | STALE | READONLY,
        NOKEYS,
        "scripting",
        "7.0.0",
        "Execute a read-only Lua script server side",
        evalsha_ro,
    )
    .numkeys_at(2),
    container(
        "script",
        "scripting",
        "2.6.0",
        "A container for Lua scripts management commands",
        SCRIPT,
    ),
];

static SCRIPT: &[CommandSpec] = &[
    cmd(
        "debug",
        3,
        NOSCRIPT,
        NOKEYS,
        "scripting",
        "3.2.0",
        "Set the debug mode for executed scripts.",
        script_debug,
    ),
    cmd(
        "exists",
        -3,
        NOSCRIPT,
        NOKEYS,
        "scripting",
        "2.6.0",
        "Check existence of scripts in the script cache.",
        script_exists,
    ),
    cmd(
        "flush",
        -2,
        NOSCRIPT,
        NOKEYS,
        "scripting",
        "2.6.0",
        "Remove all the scripts from the script cache.",
        script_flush,
    ),
    cmd(
        "help",
        2,
        LOADING | STALE,
        NOKEYS,
        "scripting",
        "5.0.0",
        "Show helpful text about the different subcommands",
        script_help,
    ),
    cmd(
        "kill",
        2,
        NOSCRIPT | ALLOW_BUSY,
        NOKEYS,
        "scripting",
        "2.6.0",
        "Kill the script currently in execution.",
        script_kill,
    ),
    cmd(
        "load",
        3,
        NOSCRIPT | STALE,
        NOKEYS,
        "scripting",
        "2.6.0",
        "Load the specified Lua script into the script cache.",
        script_load,
    ),
];

fn eval(c: &mut Ctx) -> CmdResult {
    eval_generic(c, false, false)
}

fn evalsha(c: &mut Ctx) -> CmdResult {
    eval_generic(c, true, false)
}

fn eval_ro(c: &mut Ctx) -> CmdResult {
    eval_generic(c, false, true)
}

fn evalsha_ro(c: &mut Ctx) -> CmdResult {
    eval_generic(c, true, true)
}

/// Redis's evalGenericCommand (and evalShaCommand's length check).
fn eval_generic(c: &mut Ctx, by_sha: bool, ro: bool) -> CmdResult {
    // EVAL skips MONITOR in `call` and feeds it here, so that the script's
    // commands show after it.
    if !c.eng.clients().monitors().is_empty() {
        super::server::feed_monitors(c.eng, c.cl, &c.args);
    }
    if by_sha && c.arg(1).len() != 40 {
        return Err(NOSCRIPT_ERR.into());
    }
    let numkeys = parse_int(c.arg(2))?;
    let nargs = c.args.len() as i64 - 3;
    if numkeys > nargs {
        return Err("ERR Number of keys can't be greater than number of args".into());
    }
    if numkeys < 0 {
        return Err("ERR Number of keys can't be negative".into());
    }
    let sha = if by_sha {
        let sha = String::from_utf8_lossy(c.arg(1)).to_ascii_lowercase();
        if !c.eng.scripting_mut().exists(sha.as_bytes()) {
            return Err(NOSCRIPT_ERR.into());
        }
        sha
    } else {
        let body = c.args[1].clone();
        c.eng.scripting_mut().load(&body)?
    };
    let split = 3 + numkeys as usize;
    let call = Call {
        sha: &sha,
        keys: &c.args[3..split],
        args: &c.args[split..],
        ro,
        from_master: c.from_master,
    };
    run(c.eng, c.cl, call, c.out);
    Ok(())
}

fn script_load(c: &mut Ctx) -> CmdResult {
    let body = c.args[2].clone();
    let sha = c.eng.scripting_mut().load(&body)?;
    c.bulk(sha.as_bytes());
    Ok(())
}

fn script_exists(c: &mut Ctx) -> CmdResult {
    let n = c.args.len() - 2;
    c.array(n);
    for i in 2..c.args.len() {
        let sha = c.args[i].to_ascii_lowercase();
        let found = c.eng.scripting_mut().exists(&sha);
        c.int(i64::from(found));
    }
    Ok(())
}

fn script_flush(c: &mut Ctx) -> CmdResult {
    let lazy = match c.args.len() {
        2 => c.eng.cfg().bool(P::lazyfree_lazy_user_flush),
        3 if eq(c.arg(2), "sync") => false,
        3 if eq(c.arg(2), "async") => true,
        _ => return Err("ERR SCRIPT FLUSH only support SYNC|ASYNC option".into()),
    };
    c.eng.scripting_mut().flush(lazy);
    c.ok();
    Ok(())
}

fn script_kill(c: &mut Ctx) -> CmdResult {
    // Under the engine lock no script runs; while one does, connections
    // answer SCRIPT KILL without the lock (script::busy).
    match c.eng.scripting_mut().busy().kill() {
        Some(e) => Err(CmdError::fixed(e)),
        None => {
            c.ok();
            Ok(())
        }
    }
}

fn script_debug(_c: &mut Ctx) -> CmdResult {
    Err("ERR SCRIPT DEBUG (the Lua debugger) is not supported by relica".into())
}

fn script_help(c: &mut Ctx) -> CmdResult {
    // Redis 7.0's addReplyHelp ends with "Prints this help." (the shared
    // help_reply writes "Print", which OBJECT and others may need checked).
    let lines: &[&str] = &[
        "DEBUG (YES|SYNC|NO)",
        "    Set the debug mode for subsequent scripts executed.",
        "EXISTS <sha1> [<sha1> ...]",
        "    Return information about the existence of the scripts in the script cache.",
        "FLUSH [ASYNC|SYNC]",
        "    Flush the Lua scripts cache. Very dangerous on replicas.",
        "    When called without the optional mode argument, the behavior is determined by the",
        "    lazyfree-lazy-user-flush configuration directive. Valid modes are:",
        "    * ASYNC: Asynchronously flush the scripts cache.",
        "    * SYNC: Synchronously flush the scripts cache.",
        "KILL",
        "    Kill the currently executing Lua script.",
        "LOAD <script>",
        "    Load a script into the scripts cache without executing it.",
    ];
    c.array(lines.len() + 3);
    c.simple("SCRIPT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:");
    for l in lines {
        c.simple(l);
    }
    c.simple("HELP");
    c.simple("    Prints this help.");
    Ok(())
}

/// The flags processCommand checks for EVAL and friends: a script that
/// declared flags gets them (Redis's evalGetCommandFlags).
pub fn command_flags(eng: &Engine, name: &str, flags: u32, args: &[Bytes]) -> u32 {
    use crate::commands::f;
    let Some(arg) = args.get(1) else {
        return flags;
    };
    let by_sha = name.starts_with("evalsha");
    let Some(sf) = eng.scripting().flags_for(arg, by_sha) else {
        return flags;
    };
    if sf & sflag::EVAL_COMPAT != 0 {
        return flags;
    }
    let mut out = flags & !(f::STALE | f::DENYOOM | f::WRITE | f::MAY_REPLICATE);
    if sf & (sflag::ALLOW_OOM | sflag::NO_WRITES) == 0 {
        out |= f::DENYOOM;
    }
    if sf & sflag::NO_WRITES == 0 {
        out |= f::WRITE;
    }
    if sf & sflag::ALLOW_STALE != 0 {
        out |= f::STALE;
    }
    out
}

// ---- a run -----------------------------------------------------------------

/// What EVAL asks for.
pub struct Call<'a> {
    /// Lower-case SHA of a cached script.
    pub sha: &'a str,
    /// KEYS.
    pub keys: &'a [Bytes],
    /// ARGV.
    pub args: &'a [Bytes],
    /// EVAL_RO / EVALSHA_RO.
    pub ro: bool,
    /// The caller is our master.
    pub from_master: bool,
}

/// Check whether the script may run at all (Redis's scriptPrepareForRun).
fn prepare(eng: &Engine, flags: u32, ro: bool, from_master: bool) -> Result<(), CmdError> {
    let running_stale = crate::repl::replica::deny_stale(eng);
    if flags & sflag::EVAL_COMPAT != 0 {
        if running_stale && !from_master {
            return Err(CmdError::fixed(
                "MASTERDOWN Link with MASTER is down and replica-serve-stale-data is set to 'no'.",
            ));
        }
        return Ok(());
    }
    if running_stale && flags & sflag::ALLOW_STALE == 0 && !from_master {
        return Err(CmdError::fixed("MASTERDOWN Link with MASTER is down, replica-serve-stale-data is set to 'no' and 'allow-stale' flag is not set on the script."));
    }
    if flags & sflag::NO_WRITES == 0 {
        if eng.is_replica() && eng.cfg().bool(P::replica_read_only) && !from_master {
            return Err(CmdError::fixed(
                "READONLY Can not run script with write flag on readonly replica",
            ));
        }
        if !from_master && !eng.is_replica() && crate::persist::writes_denied(eng) {
            return Err(CmdError::fixed("MISCONF Redis is configured to save RDB snapshots, but it's currently unable to persist to disk. Writable scripts are blocked. Use 'no-writes' flag for read only scripts."));
        }
        if ro {
            return Err(CmdError::fixed(
                "ERR Can not execute a script with write flag using *_ro command.",
            ));
        }
        if !from_master && crate::repl::master::not_enough_replicas(eng) {
            return Err(CmdError::fixed(
                "NOREPLICAS Not enough good replicas to write.",
            ));
        }
    }
    Ok(())
}

/// Run a cached script for `caller`, writing its reply to `out`.
pub fn run(eng: &mut Engine, caller: &Client, call: Call, out: &mut Vec<u8>) {
    let Some(flags) = eng.scripting().script_flags(call.sha) else {
        super::write_error(eng, out, &CmdError::fixed(NOSCRIPT_ERR));
        return;
    };
    if let Err(e) = prepare(eng, flags, call.ro, call.from_master) {
        super::write_error(eng, out, &e);
        return;
    }
    let read_only = call.ro || (flags & sflag::EVAL_COMPAT == 0 && flags & sflag::NO_WRITES != 0);
    let Some((vm, mut cl)) = eng.scripting_mut().take_runner() else {
        super::write_error(eng, out, &CmdError::fixed("ERR script engine busy"));
        return;
    };
    cl.db = caller.db;
    cl.proto = resp::encode::Proto::Resp2;
    let busy = eng.scripting().busy();
    let threshold = eng.cfg().int(P::lua_time_limit);
    let auth = !eng.cfg().str(P::requirepass).is_empty();
    busy.start(threshold, call.from_master, auth);
    let unit = crate::repl::feed::begin_unit(eng);
    let result = script::busy::blocking(|| {
        let mut bridge = super::script_call::Run {
            eng: &mut *eng,
            cl: &mut cl,
            busy: &busy,
            read_only,
            wrote: false,
            repl: 3,
            from_master: call.from_master,
        };
        vm.run(
            call.sha,
            call.keys,
            call.args,
            threshold,
            &busy,
            &mut bridge,
        )
    });
    crate::repl::feed::end_unit(eng, unit);
    busy.end();
    match result {
        Ok((true, v)) => super::script_call::reply(eng, out, caller.proto, cl.proto, &v, 0),
        Ok((false, v)) => super::script_call::error_reply(eng, out, call.sha, &v),
        Err(e) => super::write_error(eng, out, &CmdError::msg(format!("ERR {e}"))),
    }
    eng.scripting_mut().put_runner(vm, cl);
    if busy.take_shutdown() {
        eng.request_shutdown(crate::engine::ShutdownReq { save: Some(false) });
    }
}

/// What `serve_while_busy` did with a connection's pending commands.
#[derive(Debug, PartialEq, Eq)]
pub enum Served {
    /// No script runs (any more): run the rest under the lock as usual.
    Proceed,
    /// Every pending command was answered; replies are in `out`.
    Answered,
}

/// A connection with commands to run while a script may be running:
/// wait while the script is young, then answer as Redis does while it is
/// busy. Commands that Redis lets through (ALLOW_BUSY ones other than
/// SCRIPT KILL and SHUTDOWN) wait for the script to end.
pub async fn serve_while_busy(
    busy: &Busy,
    authenticated: bool,
    pending: &mut VecDeque<Vec<Bytes>>,
    out: &mut Vec<u8>,
) -> Served {
    loop {
        if !busy.running() {
            return Served::Proceed;
        }
        if !busy.timed_out() {
            busy.wait(5).await;
            continue;
        }
        while let Some(args) = pending.front() {
            match classify(args, authenticated) {
                Kind::Wait => {
                    busy.wait(10).await;
                    break;
                }
                Kind::Error(e) => resp::encode::error(out, e.as_bytes()),
                Kind::Kill => match busy.kill() {
                    Some(e) => resp::encode::error(out, e.as_bytes()),
                    None => resp::encode::simple(out, b"OK"),
                },
                Kind::ShutdownNoSave => {
                    busy.request_shutdown_nosave();
                    // The connection closes when the server exits.
                    pending.clear();
                    return Served::Answered;
                }
                Kind::ShutdownSave => {
                    resp::encode::error(out, b"ERR Errors trying to SHUTDOWN. Check logs.")
                }
                Kind::Busy => resp::encode::error(out, script::busy::BUSY_EVAL.as_bytes()),
            }
            pending.pop_front();
        }
        if pending.is_empty() {
            return Served::Answered;
        }
    }
}

enum Kind {
    Busy,
    Kill,
    ShutdownNoSave,
    ShutdownSave,
    Wait,
    Error(String),
}

fn classify(args: &[Bytes], authenticated: bool) -> Kind {
    use super::{f, lookup, lookup_sub};
    let Some(name) = args.first() else {
        return Kind::Busy;
    };
    let Some(spec) = lookup(name) else {
        return Kind::Error(
            crate::error::CmdError::unknown_command(name, &args[1..])
                .0
                .to_string(),
        );
    };
    // As processCommand: authentication is checked before busy-ness.
    if !authenticated && spec.flags & f::NO_AUTH == 0 {
        return Kind::Error(crate::error::NOAUTH.to_string());
    }
    if spec.name == "script" && args.len() == 2 && eq(&args[1], "kill") {
        return Kind::Kill;
    }
    if spec.name == "shutdown" {
        if args[1..].iter().any(|a| eq(a, "nosave")) {
            return Kind::ShutdownNoSave;
        }
        return Kind::ShutdownSave;
    }
    let spec = if spec.flags & f::CONTAINER != 0 {
        match args.get(1).and_then(|a| lookup_sub(spec, a)) {
            Some(s) => s,
            None => return Kind::Busy,
        }
    } else {
        spec
    };
    if spec.flags & f::ALLOW_BUSY != 0 {
        Kind::Wait
    } else {
        Kind::Busy
    }
}
