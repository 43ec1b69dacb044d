//! Calls from Lua into the server and the conversions between Lua values
//! and RESP, as Redis 7.0's `script_lua.c` does them: a command's reply is
//! parsed from the RESP the command wrote (RESP2 or RESP3 as the script
//! chose with `redis.setresp`), and a script's return value is written as
//! the caller's protocol.

use bytes::Bytes;
use mlua::{Lua, MultiValue, Table, Value};
use resp::encode::{self as enc, Proto};

use crate::client::Client;
use crate::commands::{self, f};
use crate::config::P;
use crate::engine::Engine;
use crate::script::Busy;
use crate::script::{error_table, CallReply, RunError, ScriptValue, TableValue};

/// A run's side of the bridge: the engine, the script client and what
/// the run decided (Redis's scriptRunCtx).
pub struct Run<'a> {
    /// The engine, borrowed for the run.
    pub eng: &'a mut Engine,
    /// The script client the script's commands run as.
    pub cl: &'a mut Client,
    /// The busy state, told when the script writes.
    pub busy: &'a Busy,
    /// EVAL_RO, or a `no-writes` script.
    pub read_only: bool,
    /// A write command ran (the script can no longer be killed).
    pub wrote: bool,
    /// `redis.set_repl` flags (REPL_ALL = 3).
    pub repl: u8,
    /// The caller is our master.
    pub from_master: bool,
    /// The caller, whose CLIENT LIST line the ACL log of a refused call
    /// shows.
    pub caller: &'a Client,
    /// The run's start (ms), for that line.
    pub now: i64,
    /// The script may run `denyoom` commands over maxmemory.
    pub allow_oom: bool,
    /// The server was over maxmemory when the script started
    /// (`Engine::over_maxmemory`).
    pub oom_at_start: bool,
    /// A Lua debugger session (SCRIPT DEBUG), if the run is debugged.
    pub ldb: Option<super::ldb::Ldb>,
}

impl Run<'_> {
    /// A call the debugger logs (stepping, or its `redis` command): the
    /// command, then its reply or error, as Redis's debugger logs them.
    fn logged_call(&mut self, argv: Vec<Bytes>) -> (CallReply, Vec<Vec<u8>>) {
        let mut logs = Vec::new();
        let mut line = b"<redis>".to_vec();
        for a in &argv {
            line.push(b' ');
            line.extend_from_slice(a);
        }
        logs.push(line);
        let r = call(self, argv);
        match &r {
            CallReply::Refused(msg) => {
                // Refused before it ran (luaPushErrorBuff logs it).
                let mut l = b"<error> ".to_vec();
                let e = crate::script::error_text(msg);
                l.extend_from_slice(e.strip_prefix(b"ERR ").unwrap_or(&e));
                logs.push(l);
            }
            CallReply::Ran(raw) => {
                if raw.first() == Some(&b'-') {
                    // An error reply is logged as raised, then as the reply.
                    let mut l = b"<error> ".to_vec();
                    l.extend_from_slice(raw.strip_suffix(b"\r\n").unwrap_or(raw));
                    logs.push(l);
                }
                let mut l = b"<reply> ".to_vec();
                super::ldb::reply_human(raw, &mut l);
                logs.push(l);
            }
        }
        (r, logs)
    }
}

impl crate::script::Bridge for Run<'_> {
    fn op(&mut self, lua: &Lua, args: mlua::MultiValue) -> mlua::Result<mlua::MultiValue> {
        op(lua, self, args)
    }

    fn call(&mut self, argv: Vec<Bytes>) -> CallReply {
        if self.ldb.as_ref().is_some_and(|l| l.step) {
            let (r, logs) = self.logged_call(argv);
            if let Some(l) = self.ldb.as_mut() {
                for x in logs {
                    l.log(x);
                }
            }
            return r;
        }
        call(self, argv)
    }

    fn serve_busy(&mut self) {
        for req in self.busy.take_requests() {
            let mut out = Vec::new();
            match req.work {
                crate::script::busy::BusyWork::Command(args) => {
                    if let Some(mut cl) = self.eng.clients_mut().check_out(req.client) {
                        commands::dispatch::execute(self.eng, &mut cl, args, &mut out);
                        self.eng.clients_mut().check_in(cl);
                    }
                }
                crate::script::busy::BusyWork::Close => {
                    forget_client(self.eng, req.client);
                }
                crate::script::busy::BusyWork::Refuse(args) => {
                    let msg = self.busy.busy_error();
                    let is_exec = args
                        .first()
                        .is_some_and(|a| a.eq_ignore_ascii_case(b"exec"));
                    match self.eng.clients_mut().check_out(req.client) {
                        Some(mut cl) if cl.in_multi() && is_exec => {
                            commands::multi::discard_transaction(self.eng, &mut cl);
                            let e = format!("EXECABORT Transaction discarded because of: {msg}");
                            resp::encode::error(&mut out, e.as_bytes());
                            self.eng.clients_mut().check_in(cl);
                        }
                        Some(mut cl) => {
                            if cl.in_multi() {
                                cl.flags |= crate::client::flag::DIRTY_EXEC;
                            }
                            resp::encode::error(&mut out, msg.as_bytes());
                            self.eng.clients_mut().check_in(cl);
                        }
                        None => resp::encode::error(&mut out, msg.as_bytes()),
                    }
                }
            }
            let _ = req.reply.send(out);
        }
    }

    fn debug_line(&mut self, lua: &Lua, line: i64) -> mlua::Result<()> {
        let Some(mut ldb) = self.ldb.take() else {
            return Ok(());
        };
        let mut run_cmd = |_: &Lua, argv: Vec<Bytes>| -> Vec<Vec<u8>> {
            if argv.is_empty() {
                // luaArgsToRedisArgv's refusal, before any command.
                let msg = b"Please specify at least one argument for this redis lib call";
                return vec![[&b"<error> "[..], msg].concat()];
            }
            self.logged_call(argv).1
        };
        let resume = ldb.line(lua, line, &mut run_cmd);
        self.ldb = Some(ldb);
        match resume {
            super::ldb::Resume::Continue => Ok(()),
            super::ldb::Resume::Error(e) => Err(mlua::Error::runtime(e)),
        }
    }
}

/// The per-run operation behind `redis.setresp` (3), `redis.set_repl` (4) and `redis.acl_check_cmd` (5).
pub fn op(lua: &Lua, run: &mut Run, args: MultiValue) -> mlua::Result<MultiValue> {
    let mut it = args.into_iter();
    let kind = match it.next() {
        Some(Value::Integer(n)) => n,
        Some(Value::Number(n)) => n as i64,
        _ => 0,
    };
    let rest: Vec<Value> = it.collect();
    match kind {
        3 => {
            run.cl.proto = if num(rest.first()) == 3 {
                Proto::Resp3
            } else {
                Proto::Resp2
            };
            Ok(MultiValue::new())
        }
        4 => {
            run.repl = num(rest.first()) as u8;
            Ok(MultiValue::new())
        }
        5 => {
            let argv = match argv(lua, rest)? {
                Ok(a) => a,
                Err(t) => {
                    return Ok(MultiValue::from_iter([
                        Value::Table(t),
                        Value::Boolean(true),
                    ]))
                }
            };
            let Some((spec, parent)) = lookup(&argv) else {
                let t = error_table(lua, b"ERR Invalid command passed to redis.acl_check_cmd()")?;
                return Ok(MultiValue::from_iter([
                    Value::Table(t),
                    Value::Boolean(true),
                ]));
            };
            // The caller's user (the script client runs as it), without
            // logging, as Redis's luaRedisAclCheckCmdPermissionsCommand.
            let allowed = run.from_master
                || commands::acl::check(run.eng, run.cl, spec, parent, &argv).is_ok();
            Ok(MultiValue::from_iter([
                Value::Boolean(allowed),
                Value::Boolean(false),
            ]))
        }
        _ => Ok(MultiValue::new()),
    }
}

fn num(v: Option<&Value>) -> i64 {
    match v {
        Some(Value::Integer(n)) => *n,
        Some(Value::Number(n)) => *n as i64,
        _ => 0,
    }
}

/// Lua arguments to a command's argv (Redis's luaArgsToRedisArgv), or the
/// error table.
fn argv(lua: &Lua, args: Vec<Value>) -> mlua::Result<Result<Vec<Bytes>, Table>> {
    if args.is_empty() {
        return Ok(Err(error_table(
            lua,
            b"Please specify at least one argument for this redis lib call",
        )?));
    }
    let mut out = Vec::with_capacity(args.len());
    for a in args {
        match a {
            Value::Number(n) => out.push(Bytes::from(crate::util::num::fmt_g17(n))),
            Value::Integer(n) => out.push(Bytes::from(crate::util::num::fmt_g17(n as f64))),
            Value::String(s) => out.push(Bytes::copy_from_slice(&s.as_bytes())),
            _ => {
                return Ok(Err(error_table(
                    lua,
                    b"Lua redis lib command arguments must be strings or integers",
                )?))
            }
        }
    }
    Ok(Ok(out))
}

fn lookup(
    argv: &[Bytes],
) -> Option<(
    &'static commands::CommandSpec,
    Option<&'static commands::CommandSpec>,
)> {
    let spec = commands::lookup(&argv[0])?;
    if spec.flags & f::CONTAINER != 0 && argv.len() >= 2 {
        let sub = commands::lookup_sub(spec, &argv[1])?;
        return Some((sub, Some(spec)));
    }
    Some((spec, None))
}

fn arity_ok(arity: i32, argc: usize) -> bool {
    let argc = argc as i32;
    (arity > 0 && arity == argc) || (arity < 0 && argc >= -arity)
}

/// Run a command for the script (Redis's scriptCall): its reply, or why it
/// was refused.
pub fn call(run: &mut Run, argv: Vec<Bytes>) -> CallReply {
    if run.busy.has_requests() {
        crate::script::Bridge::serve_busy(run);
    }
    let (spec, parent) = match lookup(&argv) {
        Some(s) => s,
        None => return refuse(run, "Unknown Redis command called from script", None),
    };
    if let Err(msg) = verify(run, spec, parent, &argv) {
        return refuse(run, &msg, Some((spec, parent)));
    }
    let is_write = spec.flags & f::WRITE != 0;
    if is_write {
        run.wrote = true;
        run.busy.set_wrote();
    }
    let before = run.eng.repl().unit_len();
    // Room for a short reply (most are), so that writing it does not
    // grow the buffer.
    let mut out = Vec::with_capacity(64);
    commands::dispatch::call(
        run.eng,
        run.cl,
        spec,
        parent,
        argv,
        &mut out,
        run.from_master,
    );
    // Redis's scriptCall: the run's REPL_AOF / REPL_REPLICA flags say
    // where the command's writes go.
    match run.repl & crate::repl::feed::PROPAGATE_ALL {
        0 => run.eng.repl_mut().truncate_unit(before),
        crate::repl::feed::PROPAGATE_ALL => {}
        t => run.eng.repl_mut().retarget_unit(before, t),
    }
    CallReply::Ran(out)
}

/// Redis's scriptCall checks between the lookup and the call: the
/// refusal's message, if the command may not run.
fn verify(
    run: &mut Run,
    spec: &'static commands::CommandSpec,
    parent: Option<&'static commands::CommandSpec>,
    argv: &[Bytes],
) -> Result<(), String> {
    if !arity_ok(spec.arity, argv.len()) {
        return Err("Wrong number of args calling Redis command from script".into());
    }
    if spec.flags & f::NOSCRIPT != 0 && !run.eng.scripting().deny_disabled() {
        return Err("This Redis command is not allowed from script".into());
    }
    let eng = &mut *run.eng;
    if !run.from_master && spec.flags & f::STALE == 0 && crate::repl::replica::deny_stale(eng) {
        return Err("Can not execute the command on a stale replica".into());
    }
    if !run.from_master {
        if let Err((denied, pos)) = commands::acl::check(eng, run.cl, spec, parent, argv) {
            let name = commands::acl::acl_name(spec, parent);
            let ctx = commands::acl::Context::Lua;
            let info = eng.client_info_line(run.caller, run.now);
            let who = (&*run.cl, info.as_str());
            commands::acl::log_refusal(eng, who, denied, pos, ctx, &name, argv);
            let msg = format!(
                "The user executing the script {}",
                commands::acl::script_message(denied)
            );
            return Err(msg);
        }
    }
    if run.read_only && spec.flags & (f::WRITE | f::MAY_REPLICATE) != 0 {
        return Err("Write commands are not allowed from read-only scripts.".into());
    }
    let is_write = spec.flags & f::WRITE != 0;
    if is_write && !run.wrote {
        if eng.is_replica() && eng.cfg().bool(P::replica_read_only) && !run.from_master {
            return Err(format!("-{}", crate::error::READONLY_REPLICA));
        }
        if !run.from_master && !eng.is_replica() && crate::persist::writes_denied(eng) {
            let msg = format!("-{}", crate::persist::misconf(eng));
            return Err(msg);
        }
        if !run.from_master && crate::repl::master::not_enough_replicas(eng) {
            return Err("-NOREPLICAS Not enough good replicas to write.".into());
        }
    }
    // Redis's scriptVerifyOOM: over maxmemory, a denyoom command is
    // refused unless the script may (allow-oom) or already wrote.
    if !run.allow_oom
        && !run.from_master
        && !run.wrote
        && run.oom_at_start
        && spec.flags & f::DENYOOM != 0
    {
        return Err("-OOM command not allowed when used memory > 'maxmemory'.".into());
    }
    Ok(())
}

/// A command refused before it ran: counted as Redis's afterErrorReply
/// does (and in the command's rejected_calls once it was found, as
/// scriptCall's incrCommandStatsOnError).
fn refuse(
    run: &mut Run,
    msg: &str,
    cmd: Option<(
        &'static commands::CommandSpec,
        Option<&'static commands::CommandSpec>,
    )>,
) -> CallReply {
    if let Some((spec, parent)) = cmd {
        commands::dispatch::count_rejected(run.eng, spec, parent);
    }
    let e = crate::script::error_text(msg.as_bytes());
    let code = e.split(|&b| b == b' ').next().unwrap_or(b"ERR");
    let code = String::from_utf8_lossy(code).into_owned();
    run.eng.stats_mut().error_replied(&code);
    CallReply::Refused(msg.as_bytes().to_vec())
}

/// C's `(long long)` of a double on x86-64: out of range and NaN give
/// i64::MIN.
fn trunc(d: f64) -> i64 {
    if d.is_nan() || !(-9_223_372_036_854_775_808.0..9_223_372_036_854_775_808.0).contains(&d) {
        i64::MIN
    } else {
        d as i64
    }
}

fn map_crlf(b: &[u8]) -> Vec<u8> {
    b.iter()
        .map(|&c| if c == b'\r' || c == b'\n' { b' ' } else { c })
        .collect()
}

/// A script's return value as a reply (luaReplyToRedisReply). `proto` is
/// the caller's, `script_proto` what the script set with redis.setresp.
/// Returns whether it wrote an error reply (at any depth): the command
/// then counts as failed, as Redis's afterErrorReply makes it.
pub fn reply(
    eng: &mut Engine,
    out: &mut Vec<u8>,
    proto: Proto,
    script_proto: Proto,
    v: &ScriptValue,
) -> bool {
    match v {
        ScriptValue::TooDeep => {
            let e = crate::error::CmdError::fixed("ERR reached lua stack limit");
            commands::write_error(eng, out, &e);
            return true;
        }
        ScriptValue::Str(s) => enc::bulk(out, s),
        ScriptValue::Bool(b) => match (script_proto, b) {
            (Proto::Resp2, true) => enc::integer(out, 1),
            (Proto::Resp2, false) => enc::null(out, proto),
            (Proto::Resp3, b) => enc::boolean(out, proto, *b),
        },
        ScriptValue::Number(n) => enc::integer(out, trunc(*n)),
        ScriptValue::Table(t) => return table_reply(eng, out, proto, script_proto, t),
        ScriptValue::Nil => enc::null(out, proto),
    }
    false
}

fn table_reply(
    eng: &mut Engine,
    out: &mut Vec<u8>,
    proto: Proto,
    script_proto: Proto,
    t: &TableValue,
) -> bool {
    match t {
        TableValue::Err(e, counted) => {
            write_err(eng, out, e, *counted);
            return true;
        }
        TableValue::Ok(s) => enc::simple(out, &map_crlf(s)),
        TableValue::Double(d) => enc::double(out, proto, crate::util::num::fmt_g17(*d).as_bytes()),
        TableValue::BigNumber(s) => enc::big_number(out, proto, &map_crlf(s)),
        TableValue::Verbatim(f3, text) => enc::verbatim(out, proto, f3, text),
        TableValue::Map(pairs) => {
            enc::map_len(out, proto, pairs.len());
            let mut failed = false;
            for (k, v) in pairs {
                failed |= reply(eng, out, proto, script_proto, k);
                failed |= reply(eng, out, proto, script_proto, v);
            }
            return failed;
        }
        TableValue::Set(keys) => {
            enc::set_len(out, proto, keys.len());
            let mut failed = false;
            for k in keys {
                failed |= reply(eng, out, proto, script_proto, k);
            }
            return failed;
        }
        TableValue::Array(items) => {
            enc::array_len(out, items.len());
            let mut failed = false;
            for v in items {
                failed |= reply(eng, out, proto, script_proto, v);
            }
            return failed;
        }
    }
    false
}

/// An error reply built from an error table's message: counted unless the
/// command that produced it was counted already.
fn write_err(eng: &mut Engine, out: &mut Vec<u8>, msg: &[u8], ignore_stats: bool) {
    if ignore_stats {
        enc::error(out, msg);
    } else {
        let s = String::from_utf8_lossy(msg).into_owned();
        commands::write_error(eng, out, &crate::error::CmdError::msg(s));
    }
}

/// The reply for a script that raised an error (luaCallFunction's error
/// path): the message, then where it was raised.
pub fn error_reply(eng: &mut Engine, out: &mut Vec<u8>, sha: &str, e: Option<&RunError>) {
    let Some(e) = e else {
        let msg = format!("ERR Error running script {sha}, execution failure");
        commands::write_error(eng, out, &crate::error::CmdError::msg(msg));
        return;
    };
    let mut msg = e.err.clone().unwrap_or_else(|| b"ERR (null)".to_vec());
    if let (Some(src), Some(line)) = (&e.source, &e.line) {
        msg.extend_from_slice(b" script: ");
        msg.extend_from_slice(sha.as_bytes());
        msg.extend_from_slice(b", on ");
        msg.extend_from_slice(src);
        msg.push(b':');
        msg.extend_from_slice(line);
        msg.push(b'.');
    }
    write_err(eng, out, &msg, e.counted);
}

/// A connection closed: forget its client everywhere (blocked keys,
/// subscriptions, WATCH, tracking, replicas) and drop it.
pub fn forget_client(eng: &mut Engine, id: u64) {
    if let Some(mut cl) = eng.clients_mut().check_out(id) {
        crate::blocking::forget(eng, &cl);
        commands::pubsub::unsubscribe_all(eng, &mut cl);
        commands::multi::unwatch_all(eng, &mut cl);
    }
    eng.tracking_mut().disable(id);
    crate::repl::master::forget(eng, id);
    eng.clients_mut().remove(id);
    eng.clients_mut().connection_closed();
}
