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
        NO_MANDATORY_KEYS | NOSCRIPT | SKIP_MONITOR | MAY_REPLICATE | STALE,
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
        NO_MANDATORY_KEYS | NOSCRIPT | SKIP_MONITOR | MAY_REPLICATE | STALE,
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
        NO_MANDATORY_KEYS | NOSCRIPT | SKIP_MONITOR | STALE | READONLY,
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
        NO_MANDATORY_KEYS | NOSCRIPT | SKIP_MONITOR | STALE | READONLY,
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
    cmd(
        "fcall",
        -3,
        NO_MANDATORY_KEYS | NOSCRIPT | SKIP_MONITOR | MAY_REPLICATE | STALE,
        NOKEYS,
        "scripting",
        "7.0.0",
        "Invoke a function",
        fcall,
    )
    .numkeys_at(2),
    cmd(
        "fcall_ro",
        -3,
        NO_MANDATORY_KEYS | NOSCRIPT | SKIP_MONITOR | STALE | READONLY,
        NOKEYS,
        "scripting",
        "7.0.0",
        "Invoke a read-only function",
        fcall_ro,
    )
    .numkeys_at(2),
    container(
        "function",
        "scripting",
        "7.0.0",
        "A container for function commands",
        FUNCTION,
    ),
];

static FUNCTION: &[CommandSpec] = &[
    cmd(
        "delete",
        3,
        NOSCRIPT | WRITE,
        NOKEYS,
        "scripting",
        "7.0.0",
        "Delete a function by name",
        function_delete,
    ),
    cmd(
        "dump",
        2,
        NOSCRIPT,
        NOKEYS,
        "scripting",
        "7.0.0",
        "Dump all functions into a serialized binary payload",
        function_dump,
    ),
    cmd(
        "flush",
        -2,
        NOSCRIPT | WRITE,
        NOKEYS,
        "scripting",
        "7.0.0",
        "Deleting all functions",
        function_flush,
    ),
    cmd(
        "help",
        2,
        LOADING | STALE,
        NOKEYS,
        "scripting",
        "7.0.0",
        "Show helpful text about the different subcommands",
        function_help,
    ),
    cmd(
        "kill",
        2,
        NOSCRIPT | ALLOW_BUSY,
        NOKEYS,
        "scripting",
        "7.0.0",
        "Kill the function currently in execution.",
        function_kill,
    ),
    cmd(
        "list",
        -2,
        NOSCRIPT,
        NOKEYS,
        "scripting",
        "7.0.0",
        "List information about all the functions",
        function_list,
    ),
    cmd(
        "load",
        -3,
        NOSCRIPT | WRITE | DENYOOM,
        NOKEYS,
        "scripting",
        "7.0.0",
        "Create a function with the given arguments (name, code, description)",
        function_load,
    ),
    cmd(
        "restore",
        -3,
        NOSCRIPT | WRITE | DENYOOM,
        NOKEYS,
        "scripting",
        "7.0.0",
        "Restore all the functions on the given payload",
        function_restore,
    ),
    cmd(
        "stats",
        2,
        NOSCRIPT | ALLOW_BUSY,
        NOKEYS,
        "scripting",
        "7.0.0",
        "Return information about the function currently running (name, description, duration)",
        function_stats,
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
    if by_sha && c.cl.lua_debug {
        return Err("ERR Please use EVAL instead of EVALSHA for debugging".into());
    }
    let numkeys = parse_int(c.arg(2))?;
    let nargs = c.args.len() as i64 - 3;
    if numkeys > nargs {
        return Err("ERR Number of keys can't be greater than number of args".into());
    }
    if numkeys < 0 {
        return Err("ERR Number of keys can't be negative".into());
    }
    let loaded;
    let lower;
    let sha = if by_sha {
        lower = script::sha_lower(c.arg(1)).ok_or(CmdError::fixed(NOSCRIPT_ERR))?;
        script::sha_str(&lower).ok_or(CmdError::fixed(NOSCRIPT_ERR))?
    } else {
        let body = c.args[1].clone();
        loaded = c.eng.scripting_mut().load(&body)?;
        loaded.as_str()
    };
    let split = 3 + numkeys as usize;
    let call = Call {
        sha,
        keys: &c.args[3..split],
        args: &c.args[split..],
        ro,
        from_master: c.from_master,
        debug: (c.cl.lua_debug && !c.from_master)
            .then(|| (c.cl.outbox.socket_fd().unwrap_or(-1), c.args[1].clone())),
        started: c.started,
    };
    let debugged = call.debug.is_some();
    c.failed = run(c.eng, c.cl, call, c.out);
    if debugged {
        // The end of a debugging session closes the connection after the
        // script's reply (Redis's ldbEndSession).
        c.cl.flags |= crate::client::flag::CLOSE_AFTER_REPLY;
    }
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
    kill(c, true)
}

/// SCRIPT KILL (`eval`) or FUNCTION KILL under the engine lock, where no
/// script runs; while one does, connections answer them without the lock
/// (`serve_while_busy`).
fn kill(c: &mut Ctx, eval: bool) -> CmdResult {
    match c.eng.scripting().busy().kill(eval) {
        Some(e) => Err(CmdError::fixed(e)),
        None => {
            c.ok();
            Ok(())
        }
    }
}

/// SCRIPT DEBUG YES|SYNC|NO. YES (Redis's forked session) is served as
/// SYNC: relica does not fork (see `commands::ldb`).
fn script_debug(c: &mut Ctx) -> CmdResult {
    if !c.out.is_empty() {
        return Err("ERR SCRIPT DEBUG must be called outside a pipeline".into());
    }
    if eq(c.arg(2), "no") {
        c.cl.lua_debug = false;
    } else if eq(c.arg(2), "yes") || eq(c.arg(2), "sync") {
        c.cl.lua_debug = true;
    } else {
        return Err("ERR Use SCRIPT DEBUG YES/SYNC/NO".into());
    }
    c.ok();
    Ok(())
}

fn script_help(c: &mut Ctx) -> CmdResult {
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
    super::keys::help_reply(c, "SCRIPT", lines);
    Ok(())
}

fn fcall(c: &mut Ctx) -> CmdResult {
    fcall_generic(c, false)
}

fn fcall_ro(c: &mut Ctx) -> CmdResult {
    fcall_generic(c, true)
}

/// Redis's fcallCommandGeneric.
fn fcall_generic(c: &mut Ctx, ro: bool) -> CmdResult {
    // Functions are fed to MONITORs before the commands they run.
    if !c.eng.clients().monitors().is_empty() {
        super::server::feed_monitors(c.eng, c.cl, &c.args);
    }
    let name = String::from_utf8_lossy(c.arg(1)).into_owned();
    if c.eng.scripting().functions().function(&name).is_none() {
        return Err("ERR Function not found".into());
    }
    let numkeys = crate::util::num::parse_i64(c.arg(2))
        .ok_or_else(|| CmdError::fixed("ERR Bad number of keys provided"))?;
    let nargs = c.args.len() as i64 - 3;
    if numkeys > nargs {
        return Err("ERR Number of keys can't be greater than number of args".into());
    }
    if numkeys < 0 {
        return Err("ERR Number of keys can't be negative".into());
    }
    let split = 3 + numkeys as usize;
    let args = c.args.clone();
    let call = FunctionCall {
        name: &name,
        argv: &args,
        split,
        ro,
        from_master: c.from_master,
        started: c.started,
    };
    c.failed = run_function(c.eng, c.cl, call, c.out);
    Ok(())
}

/// What FCALL asks for.
struct FunctionCall<'a> {
    name: &'a str,
    /// The FCALL command.
    argv: &'a [Bytes],
    /// Where its keys end.
    split: usize,
    ro: bool,
    from_master: bool,
    started: std::time::Instant,
}

/// Run a function for `caller`. Returns whether its reply is (or holds)
/// an error.
fn run_function(eng: &mut Engine, caller: &Client, call: FunctionCall, out: &mut Vec<u8>) -> bool {
    let FunctionCall {
        name,
        argv,
        split,
        ro,
        from_master,
        started,
    } = call;
    let Some((target, flags)) = eng.scripting().functions().function(name) else {
        super::write_error(eng, out, &CmdError::fixed("ERR Function not found"));
        return true;
    };
    if let Err(e) = prepare(eng, flags, ro, from_master) {
        super::write_error(eng, out, &e);
        return true;
    }
    let vm = eng.scripting_mut().functions_mut().take_vm();
    let cl = eng.scripting_mut().take_client();
    let (Some(vm), Some(mut cl)) = (vm, cl) else {
        super::write_error(eng, out, &CmdError::fixed("ERR script engine busy"));
        return true;
    };
    let f = eng.scripting().functions();
    let function = Some(script::busy::FunctionRun {
        name: name.to_string(),
        argv: argv.to_vec(),
        libraries: f.library_count(),
        functions: f.function_count(),
    });
    let req = RunReq {
        target,
        name,
        keys: &argv[3..split],
        args: &argv[split..],
        read_only: ro || flags & sflag::NO_WRITES != 0,
        from_master,
        function,
        allow_oom: flags & sflag::ALLOW_OOM != 0,
        debug: None,
        started,
    };
    let failed = execute(eng, caller, &vm, &mut cl, req, out);
    eng.scripting_mut().functions_mut().put_vm(vm);
    eng.scripting_mut().put_client(cl);
    failed
}

fn function_load(c: &mut Ctx) -> CmdResult {
    let mut replace = false;
    let mut i = 2;
    while i < c.args.len() - 1 {
        if eq(c.arg(i), "replace") {
            replace = true;
            i += 1;
            continue;
        }
        return Err(CmdError::msg(format!(
            "ERR Unknown option given: {}",
            String::from_utf8_lossy(c.arg(i))
        )));
    }
    if i >= c.args.len() {
        return Err("ERR Function code is missing".into());
    }
    let code = c.args[i].clone();
    // Our master's libraries load without the time limit (mustObeyClient).
    let timeout = if c.from_master {
        0
    } else {
        script::functions::LOAD_TIMEOUT_MS
    };
    let name = c
        .eng
        .scripting_mut()
        .functions_mut()
        .load(&code, replace, timeout)
        .map_err(|e| CmdError::msg(format!("ERR {e}")))?;
    c.dirty(1);
    c.bulk(name.as_bytes());
    Ok(())
}

fn function_delete(c: &mut Ctx) -> CmdResult {
    let name = String::from_utf8_lossy(c.arg(2)).into_owned();
    c.eng
        .scripting_mut()
        .functions_mut()
        .delete(&name)
        .map_err(CmdError::fixed)?;
    c.dirty(1);
    c.ok();
    Ok(())
}

fn function_flush(c: &mut Ctx) -> CmdResult {
    if c.args.len() > 3 {
        return Err(CmdError::msg(super::subcommand_syntax(c)));
    }
    let lazy = match c.args.len() {
        2 => c.eng.cfg().bool(P::lazyfree_lazy_user_flush),
        _ if eq(c.arg(2), "sync") => false,
        _ if eq(c.arg(2), "async") => true,
        _ => return Err("ERR FUNCTION FLUSH only supports SYNC|ASYNC option".into()),
    };
    c.eng.scripting_mut().functions_mut().flush(lazy);
    c.dirty(1);
    c.ok();
    Ok(())
}

fn function_kill(c: &mut Ctx) -> CmdResult {
    kill(c, false)
}

fn function_stats(c: &mut Ctx) -> CmdResult {
    let f = c.eng.scripting().functions();
    let counts = (f.library_count(), f.function_count());
    let busy = c.eng.scripting().busy();
    let proto = c.proto();
    function_stats_reply(c.out, proto, &busy, Some(counts));
    Ok(())
}

/// FUNCTION STATS (functionStatsCommand): the running function, if any,
/// and the engines' counts. While a script is busy the counts are the
/// ones taken when it started (the connection answers without the lock).
fn function_stats_reply(
    out: &mut Vec<u8>,
    p: resp::encode::Proto,
    busy: &Busy,
    counts: Option<(usize, usize)>,
) {
    use resp::encode as enc;
    let running = busy.running_function();
    if busy.running() && running.is_none() {
        enc::error(out, script::busy::BUSY_EVAL.as_bytes());
        return;
    }
    let counts = counts
        .or_else(|| running.as_ref().map(|r| (r.libraries, r.functions)))
        .unwrap_or((0, 0));
    enc::map_len(out, p, 2);
    enc::bulk(out, b"running_script");
    match &running {
        None => enc::null(out, p),
        Some(r) => {
            enc::map_len(out, p, 3);
            enc::bulk(out, b"name");
            enc::bulk(out, r.name.as_bytes());
            enc::bulk(out, b"command");
            enc::array_len(out, r.argv.len());
            for a in &r.argv {
                enc::bulk(out, a);
            }
            enc::bulk(out, b"duration_ms");
            enc::integer(out, busy.elapsed_ms());
        }
    }
    enc::bulk(out, b"engines");
    enc::map_len(out, p, 1);
    enc::bulk(out, script::functions::ENGINE.as_bytes());
    enc::map_len(out, p, 2);
    enc::bulk(out, b"libraries_count");
    enc::integer(out, counts.0 as i64);
    enc::bulk(out, b"functions_count");
    enc::integer(out, counts.1 as i64);
}

fn function_list(c: &mut Ctx) -> CmdResult {
    let mut with_code = false;
    let mut pattern: Option<Bytes> = None;
    let mut i = 2;
    while i < c.args.len() {
        let a = c.args[i].clone();
        i += 1;
        if !with_code && eq(&a, "withcode") {
            with_code = true;
            continue;
        }
        if pattern.is_none() && eq(&a, "libraryname") {
            if i >= c.args.len() {
                return Err("ERR library name argument was not given".into());
            }
            pattern = Some(c.args[i].clone());
            i += 1;
            continue;
        }
        return Err(CmdError::msg(format!(
            "ERR Unknown argument {}",
            String::from_utf8_lossy(&a)
        )));
    }
    let proto = c.proto();
    let libs: Vec<&script::functions::Library> = c
        .eng
        .scripting()
        .functions()
        .libraries()
        .filter(|l| {
            pattern
                .as_ref()
                .is_none_or(|p| crate::util::glob::glob_match(p, l.name.as_bytes(), true))
        })
        .collect();
    let out = &mut *c.out;
    use resp::encode as enc;
    enc::array_len(out, libs.len());
    for l in libs {
        enc::map_len(out, proto, if with_code { 4 } else { 3 });
        enc::bulk(out, b"library_name");
        enc::bulk(out, l.name.as_bytes());
        enc::bulk(out, b"engine");
        enc::bulk(out, script::functions::ENGINE.as_bytes());
        enc::bulk(out, b"functions");
        enc::array_len(out, l.functions.len());
        for f in l.functions.values() {
            enc::map_len(out, proto, 3);
            enc::bulk(out, b"name");
            enc::bulk(out, f.name.as_bytes());
            enc::bulk(out, b"description");
            match &f.desc {
                Some(d) => enc::bulk(out, d),
                None => enc::null(out, proto),
            }
            enc::bulk(out, b"flags");
            let names = script::flag_names(f.flags);
            enc::set_len(out, proto, names.len());
            for n in names {
                enc::simple(out, n.as_bytes());
            }
        }
        if with_code {
            enc::bulk(out, b"library_code");
            enc::bulk(out, &l.code);
        }
    }
    Ok(())
}

fn function_dump(c: &mut Ctx) -> CmdResult {
    let payload = c.eng.scripting().functions().dump();
    c.bulk(&payload);
    Ok(())
}

fn function_restore(c: &mut Ctx) -> CmdResult {
    use script::functions::RestorePolicy;
    if c.args.len() > 4 {
        return Err(CmdError::msg(super::subcommand_syntax(c)));
    }
    let policy =
        match c.args.get(3) {
            None => RestorePolicy::Append,
            Some(a) if eq(a, "append") => RestorePolicy::Append,
            Some(a) if eq(a, "replace") => RestorePolicy::Replace,
            Some(a) if eq(a, "flush") => RestorePolicy::Flush,
            Some(_) => return Err(
                "ERR Wrong restore policy given, value should be either FLUSH, APPEND or REPLACE."
                    .into(),
            ),
        };
    let payload = c.args[2].clone();
    c.eng
        .scripting_mut()
        .functions_mut()
        .restore(&payload, policy)
        .map_err(CmdError::msg)?;
    c.dirty(1);
    c.ok();
    Ok(())
}

fn function_help(c: &mut Ctx) -> CmdResult {
    let lines: &[&str] = &[
        "LOAD [REPLACE] <FUNCTION CODE>",
        "    Create a new library with the given library name and code.",
        "DELETE <LIBRARY NAME>",
        "    Delete the given library.",
        "LIST [LIBRARYNAME PATTERN] [WITHCODE]",
        "    Return general information on all the libraries:",
        "    * Library name",
        "    * The engine used to run the Library",
        "    * Library description",
        "    * Functions list",
        "    * Library code (if WITHCODE is given)",
        "    It also possible to get only function that matches a pattern using LIBRARYNAME argument.",
        "STATS",
        "    Return information about the current function running:",
        "    * Function name",
        "    * Command used to run the function",
        "    * Duration in MS that the function is running",
        "    If no function is running, return nil",
        "    In addition, returns a list of available engines.",
        "KILL",
        "    Kill the current running function.",
        "FLUSH [ASYNC|SYNC]",
        "    Delete all the libraries.",
        "    When called without the optional mode argument, the behavior is determined by the",
        "    lazyfree-lazy-user-flush configuration directive. Valid modes are:",
        "    * ASYNC: Asynchronously flush the libraries.",
        "    * SYNC: Synchronously flush the libraries.",
        "DUMP",
        "    Return a serialized payload representing the current libraries, can be restored using FUNCTION RESTORE command",
        "RESTORE <PAYLOAD> [FLUSH|APPEND|REPLACE]",
        "    Restore the libraries represented by the given payload, it is possible to give a restore policy to",
        "    control how to handle existing libraries (default APPEND):",
        "    * FLUSH: delete all existing libraries.",
        "    * APPEND: appends the restored libraries to the existing libraries. On collision, abort.",
        "    * REPLACE: appends the restored libraries to the existing libraries, On collision, replace the old",
        "      libraries with the new libraries (notice that even on this option there is a chance of failure",
        "      in case of functions name collision with another library).",
    ];
    super::keys::help_reply(c, "FUNCTION", lines);
    Ok(())
}

/// The flags processCommand checks for EVAL, FCALL and friends: a script
/// that declared flags, and every function, gets them (Redis's
/// evalGetCommandFlags, fcallGetCommandFlags, scriptFlagsToCmdFlags).
pub fn command_flags(eng: &Engine, name: &str, flags: u32, args: &[Bytes]) -> u32 {
    use crate::commands::f;
    let Some(arg) = args.get(1) else {
        return flags;
    };
    let sf = if name.starts_with("fcall") {
        let name = String::from_utf8_lossy(arg);
        eng.scripting()
            .functions()
            .function(&name)
            .map(|(_, fl)| fl)
    } else {
        eng.scripting().flags_for(arg, name.starts_with("evalsha"))
    };
    let Some(sf) = sf else {
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
    /// SCRIPT DEBUG is on for the caller: its socket and the script's
    /// body, for a debugger session.
    pub debug: Option<(i32, Bytes)>,
    /// When EVAL started.
    pub started: std::time::Instant,
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
            if let Some(e) = crate::persist::aof::aof_write_error(eng) {
                return Err(CmdError::msg(format!(
                    "MISCONF Errors writing to the AOF file: {e}"
                )));
            }
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
        // The no-writes flag implies allow-oom (checked after it, so the
        // reply does not mention it).
        if eng.cfg().int(P::maxmemory) > 0 && eng.over_maxmemory() && flags & sflag::ALLOW_OOM == 0
        {
            return Err(CmdError::fixed("OOM allow-oom flag is not set on the script, can not run it when used memory > 'maxmemory'"));
        }
    }
    Ok(())
}

/// Run a cached script for `caller`, writing its reply to `out`. Returns
/// whether the reply is (or holds) an error.
pub fn run(eng: &mut Engine, caller: &Client, call: Call, out: &mut Vec<u8>) -> bool {
    let Some((flags, target)) = eng.scripting().script(call.sha) else {
        super::write_error(eng, out, &CmdError::fixed(NOSCRIPT_ERR));
        return true;
    };
    if let Err(e) = prepare(eng, flags, call.ro, call.from_master) {
        super::write_error(eng, out, &e);
        return true;
    }
    let Some((vm, mut cl)) = eng.scripting_mut().take_runner() else {
        super::write_error(eng, out, &CmdError::fixed("ERR script engine busy"));
        return true;
    };
    let req = RunReq {
        target,
        name: call.sha,
        keys: call.keys,
        args: call.args,
        read_only: call.ro || (flags & sflag::EVAL_COMPAT == 0 && flags & sflag::NO_WRITES != 0),
        from_master: call.from_master,
        debug: call.debug,
        function: None,
        allow_oom: flags & sflag::EVAL_COMPAT == 0 && flags & sflag::ALLOW_OOM != 0,
        started: call.started,
    };
    let failed = execute(eng, caller, &vm, &mut cl, req, out);
    eng.scripting_mut().put_runner(vm, cl);
    failed
}

/// A run, apart from its interpreter and script client.
struct RunReq<'a> {
    target: script::Target,
    /// The script's SHA or the function's name, for error replies.
    name: &'a str,
    keys: &'a [Bytes],
    args: &'a [Bytes],
    /// EVAL_RO/FCALL_RO, or a `no-writes` script.
    read_only: bool,
    from_master: bool,
    /// For a function, what FUNCTION STATS shows while it runs.
    function: Option<script::busy::FunctionRun>,
    /// A shebang or function flag `allow-oom` (Redis's SCRIPT_ALLOW_OOM).
    allow_oom: bool,
    /// A debugger session's socket and script body (SCRIPT DEBUG).
    debug: Option<(i32, Bytes)>,
    /// When the command started: the script's busy clock starts there.
    started: std::time::Instant,
}

/// Run `req` on `vm` as the script client `cl` for `caller` (Redis's
/// scriptPrepareForRun done, then luaCallFunction and scriptResetRun):
/// the busy state is on for the run, its writes form one propagation
/// unit, and its value or error is written to `out` in the caller's
/// protocol.
fn execute(
    eng: &mut Engine,
    caller: &Client,
    vm: &script::Vm,
    cl: &mut Client,
    req: RunReq,
    out: &mut Vec<u8>,
) -> bool {
    cl.db = caller.db;
    cl.user.clone_from(&caller.user);
    let now = eng.now();
    cl.proto = resp::encode::Proto::Resp2;
    let busy = eng.scripting().busy();
    let threshold = eng.cfg().int(P::lua_time_limit);
    let auth = !eng.acl().new_clients_authenticated();
    busy.start(req.started, threshold, req.from_master, auth);
    busy.set_loading(eng.persist().loading());
    if let Some(f) = req.function {
        busy.set_function(f);
    }
    let unit = crate::repl::feed::begin_unit(eng);
    // A tracking caller caches the declared keys once the script reads.
    let tracked = eng.tracking().active() && eng.tracking_mut().begin_script(caller.id, req.keys);
    // A run that passes busy-reply-threshold gives its runtime worker to
    // another thread from its hook (`script::busy::hand_off_worker`), so
    // that connections go on answering -BUSY, SCRIPT KILL and SHUTDOWN
    // NOSAVE while it holds the engine; short runs run as any command.
    let eng_oom = eng.cfg().int(P::maxmemory) > 0 && eng.over_maxmemory();
    let result = {
        let mut bridge = super::script_call::Run {
            eng: &mut *eng,
            cl: &mut *cl,
            busy: &busy,
            read_only: req.read_only,
            wrote: false,
            repl: 3,
            from_master: req.from_master,
            caller,
            now,
            allow_oom: req.allow_oom,
            oom_at_start: eng_oom,
            ldb: req
                .debug
                .as_ref()
                .map(|(fd, body)| super::ldb::Ldb::start(*fd, body)),
        };
        let debug = bridge.ldb.is_some();
        let r = vm.run(req.target, req.keys, req.args, &busy, &mut bridge, debug);
        (r, bridge.ldb.take())
    };
    let (result, ldb) = result;
    if let Some(l) = ldb {
        l.end();
    }
    crate::repl::feed::end_unit(eng, unit);
    if tracked {
        eng.tracking_mut().end_script();
    }
    busy.end();
    let failed = match result {
        Ok(Ok(v)) => super::script_call::reply(eng, out, caller.proto, cl.proto, &v),
        Ok(Err(e)) => {
            super::script_call::error_reply(eng, out, req.name, e.as_ref());
            true
        }
        Err(e) => {
            super::write_error(eng, out, &CmdError::msg(format!("ERR {e}")));
            true
        }
    };
    if busy.take_shutdown() {
        eng.request_shutdown(crate::engine::ShutdownReq { save: Some(false) });
    }
    failed
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
    client: Option<u64>,
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
            match classify(args, authenticated, busy.loading()) {
                // An admitted client's allow-busy command runs on the
                // script's thread (as Redis runs it from inside the
                // script); if the script ends first it runs as usual.
                Kind::Wait => match client
                    .and_then(|id| busy.submit(id, script::busy::BusyWork::Command(args.clone())))
                {
                    Some(rx) => match rx.await {
                        Ok(reply) => out.extend_from_slice(&reply),
                        Err(_) => return Served::Proceed,
                    },
                    None => {
                        busy.wait(10).await;
                        break;
                    }
                },
                Kind::Error(e) => resp::encode::error(out, e.as_bytes()),
                // The connection's protocol is not known without the
                // lock: RESP2, as most clients speak.
                Kind::FunctionStats => {
                    function_stats_reply(out, resp::encode::Proto::Resp2, busy, None)
                }
                Kind::Kill(eval) => match busy.kill(eval) {
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
                // For a client in MULTI the refusal also changes its
                // transaction, which the script's thread does.
                Kind::Busy => match client
                    .and_then(|id| busy.submit(id, script::busy::BusyWork::Refuse(args.clone())))
                {
                    Some(rx) => match rx.await {
                        Ok(reply) => out.extend_from_slice(&reply),
                        Err(_) => return Served::Proceed,
                    },
                    None => resp::encode::error(out, busy.busy_error().as_bytes()),
                },
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
    /// SCRIPT KILL (true) or FUNCTION KILL.
    Kill(bool),
    FunctionStats,
    ShutdownNoSave,
    ShutdownSave,
    Wait,
    Error(String),
}

fn classify(args: &[Bytes], authenticated: bool, loading: bool) -> Kind {
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
        return Kind::Kill(true);
    }
    if spec.name == "function" && args.len() == 2 && eq(&args[1], "kill") {
        return Kind::Kill(false);
    }
    if spec.name == "function" && args.len() == 2 && eq(&args[1], "stats") {
        return Kind::FunctionStats;
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
    // processCommand refuses during a load before it looks at busy-ness.
    if loading && spec.flags & f::LOADING == 0 {
        return Kind::Error("LOADING Redis is loading the dataset in memory".into());
    }
    if spec.flags & f::ALLOW_BUSY != 0 {
        Kind::Wait
    } else {
        Kind::Busy
    }
}
