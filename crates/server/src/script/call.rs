//! `redis.call` and `redis.pcall` as C functions on Lua's stack, as Redis's
//! `luaRedisGenericCommand` is one (script_lua.c): the arguments are read
//! off the stack (`luaArgsToRedisArgv`), the command runs through the
//! run's [`Bridge`], and its reply is pushed as Lua values
//! (`redisProtocolToLuaType`); `redis.call` raises an error reply as the
//! error table itself (`lua_error`).
//!
//! Through mlua's callbacks a call cost a protected call, a closure
//! allocated in Lua and a reference per argument and per reply value;
//! this is most of what a one-command script spends outside the command.
//!
//! What may raise a Lua error (longjmp) is kept apart from Rust values
//! that need dropping: the arguments are read and the command runs first,
//! then the reply is pushed. Only pushing can raise, when Lua cannot
//! allocate; the reply being pushed is then leaked, not freed twice.
//!
//! This module is Lua's C API throughout, hence unsafe code.
#![allow(unsafe_code)]

use std::any::Any;
use std::cell::Cell;
use std::ffi::{c_int, CStr};

use bytes::Bytes;
use mlua::ffi;
use resp::Frame;

use super::{error_text, with_bridge_raw};

/// Deepest table a reply may nest (Redis stops at its Lua stack limit).
const MAX_DEPTH: usize = 1000;

/// What a command run for a script gave (Redis's scriptCall).
pub enum CallReply {
    /// It ran: its reply, as RESP in the protocol the script chose
    /// (`redis.setresp`). An error reply starts with `-`.
    Ran(Vec<u8>),
    /// It was refused before it ran (and counted as an error reply):
    /// luaPushError's message.
    Refused(Vec<u8>),
}

thread_local! {
    /// A panic caught in a command run from Lua, resumed once the
    /// script's protected call has returned ([`take_panic`]): unwinding
    /// through Lua's C frames is not allowed.
    static PANIC: Cell<Option<Box<dyn Any + Send>>> = const { Cell::new(None) };
}

thread_local! {
    /// A Rust function set `ctx.err` ([`super::set_pending_err`]) since
    /// the last run ended: the run clears what is left of it.
    static ERR_PENDING: Cell<bool> = const { Cell::new(false) };
}

/// `ctx.err` was set.
pub(super) fn note_pending_err() {
    ERR_PENDING.with(|p| p.set(true));
}

/// The panic a command raised during the run, if one did.
pub(super) fn take_panic() -> Option<Box<dyn Any + Send>> {
    PANIC.with(Cell::take)
}

/// `redis.call` and `redis.pcall` for an interpreter.
pub(super) fn make(lua: &mlua::Lua) -> mlua::Result<(mlua::Function, mlua::Function)> {
    // SAFETY: both are C functions that keep to Lua's API: they use
    // their own frame, check the stack before pushing, and raise only
    // with nothing left to drop.
    unsafe {
        Ok((
            lua.create_c_function(redis_call)?,
            lua.create_c_function(redis_pcall)?,
        ))
    }
}

/// `redis.call`.
unsafe extern "C-unwind" fn redis_call(state: *mut ffi::lua_State) -> c_int {
    // SAFETY: called by Lua as a C function, with its arguments on `state`.
    unsafe { generic(state, true) }
}

/// `redis.pcall`.
unsafe extern "C-unwind" fn redis_pcall(state: *mut ffi::lua_State) -> c_int {
    // SAFETY: as redis_call.
    unsafe { generic(state, false) }
}

/// What a call gave: the bridge's reply, or an error table's message for
/// a call that did not reach it (not counted as a command's error).
enum Outcome {
    Reply(CallReply),
    Error(&'static [u8]),
}

/// # Safety
/// `state` is a Lua state in a call of this C function.
unsafe fn generic(state: *mut ffi::lua_State, raise: bool) -> c_int {
    // SAFETY: reading the arguments on our own frame raises nothing.
    let outcome = match unsafe { argv(state) } {
        Ok(argv) => match with_bridge_raw(|b| {
            std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| b.call(argv)))
        }) {
            Some(Ok(reply)) => Outcome::Reply(reply),
            Some(Err(panic)) => {
                PANIC.with(|p| p.set(Some(panic)));
                Outcome::Error(b"the command panicked")
            }
            None => {
                Outcome::Error(b"redis.call/pcall can only be called inside a script invocation")
            }
        },
        Err(msg) => Outcome::Error(msg),
    };
    // SAFETY: the arguments are popped (Redis makes room for the result
    // so); the pushes below need at most 4 slots per nesting level, which
    // push_frame checks.
    let failed = unsafe {
        ffi::lua_settop(state, 0);
        match &outcome {
            Outcome::Reply(CallReply::Ran(out)) => push_reply(state, out),
            Outcome::Reply(CallReply::Refused(msg)) => {
                push_error_table(state, msg, true);
                true
            }
            Outcome::Error(msg) => {
                push_error_table(state, msg, false);
                true
            }
        }
    };
    drop(outcome);
    if failed && raise {
        // SAFETY: nothing on this frame needs dropping any more; the
        // error table is on top.
        unsafe { ffi::lua_error(state) }
    }
    1
}

/// The arguments as a command's argv (luaArgsToRedisArgv): numbers as
/// "%.17g", strings as they are; anything else is refused.
///
/// # Safety
/// `state` is in a C function's call; raises nothing.
unsafe fn argv(state: *mut ffi::lua_State) -> Result<Vec<Bytes>, &'static [u8]> {
    // SAFETY: type checks and reads of values on the frame, which neither
    // allocate nor raise (lua_tolstring is called on strings only).
    unsafe {
        let argc = ffi::lua_gettop(state);
        if argc == 0 {
            return Err(b"Please specify at least one argument for this redis lib call");
        }
        let mut out = Vec::with_capacity(argc as usize);
        for i in 1..=argc {
            match ffi::lua_type(state, i) {
                ffi::LUA_TNUMBER => {
                    let n = ffi::lua_tonumber(state, i);
                    out.push(Bytes::from(crate::util::num::fmt_g17(n)));
                }
                ffi::LUA_TSTRING => {
                    let mut len = 0usize;
                    let p = ffi::lua_tolstring(state, i, &mut len);
                    out.push(Bytes::copy_from_slice(std::slice::from_raw_parts(
                        p.cast::<u8>(),
                        len,
                    )));
                }
                _ => return Err(b"Lua redis lib command arguments must be strings or integers"),
            }
        }
        Ok(out)
    }
}

/// Push a command's reply (redisProtocolToLuaType); whether it is an
/// error reply.
///
/// # Safety
/// `state` is in a C function's call; may raise when Lua is out of memory.
unsafe fn push_reply(state: *mut ffi::lua_State, out: &[u8]) -> bool {
    // The common replies (a command's reply is one of these most of the
    // time) are pushed straight from the bytes.
    let line = |from: usize| {
        let end = from + memchr::memchr(b'\r', out.get(from..)?)?;
        (out.get(end + 1) == Some(&b'\n')).then(|| (out.get(from..end), end + 2))
    };
    match (out.first(), line(1)) {
        (Some(b':'), Some((Some(digits), _))) => {
            if let Some(n) = resp::num::parse_i64(digits) {
                // SAFETY: as this function's.
                unsafe { ffi::lua_pushnumber(state, n as f64) };
                return false;
            }
        }
        (Some(b'$'), Some((Some(len), start))) => {
            if len == b"-1" {
                // SAFETY: as this function's.
                unsafe { ffi::lua_pushboolean(state, 0) };
                return false;
            }
            let body = resp::num::parse_i64(len)
                .and_then(|n| usize::try_from(n).ok())
                .and_then(|n| out.get(start..start.checked_add(n)?));
            if let Some(body) = body {
                // SAFETY: as this function's.
                unsafe { push_str(state, body) };
                return false;
            }
        }
        (Some(b'+'), Some((Some(text), _))) => {
            // SAFETY: as this function's.
            unsafe { push_wrapped(state, c"ok", || push_str(state, text)) };
            return false;
        }
        (Some(b'-'), Some((Some(_), end))) => {
            // SAFETY: as this function's.
            unsafe { push_error_table(state, &out[..end - 2], true) };
            return true;
        }
        _ => {}
    }
    let limits = resp::Limits {
        max_bulk_len: u64::MAX,
        ..Default::default()
    };
    match resp::decode_frame(out, &limits) {
        // SAFETY: as this function's.
        Ok(Some((frame, _))) => unsafe { push_frame(state, &frame, 0) },
        // SAFETY: as this function's.
        _ => unsafe { ffi::lua_pushnil(state) },
    }
    out.first() == Some(&b'-')
}

/// # Safety
/// As [`push_reply`].
unsafe fn push_str(state: *mut ffi::lua_State, s: &[u8]) {
    // SAFETY: a pointer and length of a live slice.
    unsafe { ffi::lua_pushlstring(state, s.as_ptr().cast(), s.len()) };
}

/// Set `t[key] = s` on the table on top.
///
/// # Safety
/// As [`push_reply`]; the top is a table without a metatable.
unsafe fn set_str(state: *mut ffi::lua_State, key: &CStr, s: &[u8]) {
    // SAFETY: as this function's.
    unsafe {
        push_str(state, s);
        ffi::lua_setfield(state, -2, key.as_ptr());
    }
}

/// Push `{err = "CODE msg"}` (luaPushErrorBuff), marked as counted when
/// `counted` (the command that produced it was).
///
/// # Safety
/// As [`push_reply`].
pub(super) unsafe fn push_error_table(state: *mut ffi::lua_State, msg: &[u8], counted: bool) {
    // SAFETY: as this function's.
    unsafe {
        ffi::lua_createtable(state, 0, 2);
        set_str(state, c"err", &error_text(msg));
        if counted {
            ffi::lua_pushboolean(state, 1);
            ffi::lua_setfield(state, -2, c"ignore_error_stats_update".as_ptr());
        }
    }
}

/// Push `{name = inner}` where `fill` pushes the inner value.
///
/// # Safety
/// As [`push_reply`]; `fill` pushes exactly one value.
unsafe fn push_wrapped(state: *mut ffi::lua_State, name: &CStr, fill: impl FnOnce()) {
    // SAFETY: as this function's.
    unsafe {
        ffi::lua_createtable(state, 0, 1);
        fill();
        ffi::lua_setfield(state, -2, name.as_ptr());
    }
}

/// Push one reply value as Lua sees it (redisProtocolToLuaType).
///
/// # Safety
/// As [`push_reply`].
unsafe fn push_frame(state: *mut ffi::lua_State, f: &Frame, depth: usize) {
    // SAFETY: every push below has the room luaL_checkstack made (at most
    // three values above the caller's before the recursion, which checks
    // again); the tables are new, without metatables.
    unsafe {
        if depth > MAX_DEPTH {
            ffi::lua_pushnil(state);
            return;
        }
        ffi::luaL_checkstack(state, 4, c"reply".as_ptr());
        match f {
            Frame::Simple(s) => push_wrapped(state, c"ok", || push_str(state, s)),
            Frame::Error(s) | Frame::BulkError(s) => {
                let mut e = Vec::with_capacity(s.len() + 1);
                e.push(b'-');
                e.extend_from_slice(s);
                push_error_table(state, &e, true);
            }
            Frame::Integer(n) => ffi::lua_pushnumber(state, *n as f64),
            Frame::Bulk(b) => push_str(state, b),
            Frame::NullBulk | Frame::NullArray => ffi::lua_pushboolean(state, 0),
            Frame::Null => ffi::lua_pushnil(state),
            Frame::Array(v) | Frame::Push(v) => {
                ffi::lua_createtable(state, v.len().min(i32::MAX as usize) as c_int, 0);
                for (i, x) in v.iter().enumerate() {
                    push_frame(state, x, depth + 1);
                    ffi::lua_rawseti(state, -2, (i + 1) as ffi::lua_Integer);
                }
            }
            Frame::Map(pairs) => push_wrapped(state, c"map", || {
                ffi::lua_createtable(state, 0, 0);
                for (k, v) in pairs {
                    push_frame(state, k, depth + 1);
                    if ffi::lua_type(state, -1) == ffi::LUA_TNIL {
                        ffi::lua_pop(state, 1);
                        continue;
                    }
                    push_frame(state, v, depth + 1);
                    ffi::lua_rawset(state, -3);
                }
            }),
            Frame::Set(v) => push_wrapped(state, c"set", || {
                ffi::lua_createtable(state, 0, 0);
                for x in v {
                    push_frame(state, x, depth + 1);
                    if ffi::lua_type(state, -1) == ffi::LUA_TNIL {
                        ffi::lua_pop(state, 1);
                        continue;
                    }
                    ffi::lua_pushboolean(state, 1);
                    ffi::lua_rawset(state, -3);
                }
            }),
            Frame::Attribute { value, .. } => push_frame(state, value, depth),
            Frame::Double(d) => push_wrapped(state, c"double", || ffi::lua_pushnumber(state, *d)),
            Frame::Boolean(b) => ffi::lua_pushboolean(state, *b as c_int),
            Frame::BigNumber(s) => push_wrapped(state, c"big_number", || push_str(state, s)),
            Frame::Verbatim { format, text } => push_wrapped(state, c"verbatim_string", || {
                ffi::lua_createtable(state, 0, 2);
                set_str(state, c"string", text);
                set_str(state, c"format", format);
            }),
        }
    }
}

// ---- a run on the C API ----------------------------------------------------

/// An interpreter's main state and the registry slots a run uses, for runs
/// made on Lua's C API as Redis's luaCallFunction makes them (one
/// `lua_pcall` with the message handler): through mlua, a run also cost
/// its lock, a protected call around the call with a closure allocated
/// for it, and a reference per value pushed and returned.
pub(super) struct RawVm {
    state: std::ptr::NonNull<ffi::lua_State>,
    handler: c_int,
    globals: c_int,
    ctx: c_int,
    /// EVAL's KEYS and ARGV tables, reused from run to run ([`Reused`]).
    keys: Reused,
    argv: Reused,
}

/// A table reused for EVAL's KEYS or ARGV: each run finds it emptied and
/// refilled, as a new table would be, instead of leaving one more table
/// for the collector (most of what a short script leaves). Nothing can
/// tell the difference: a script cannot keep a value from one run to the
/// next (the globals are read-only, and an EVAL script has no upvalues),
/// a metatable it set is removed, and a table it grew is replaced.
/// Function callbacks get new tables, as they can keep them in upvalues.
struct Reused {
    /// Its registry slot.
    slot: c_int,
    /// The global it is.
    name: &'static CStr,
    /// How many values the last run got; the global is not set yet while
    /// `None`.
    last: std::cell::Cell<Option<usize>>,
}

/// The most values a reused table takes (more, and a run gets a new
/// table, so that an idle interpreter does not keep a big one).
const REUSE_MAX: usize = 64;

// SAFETY: the state belongs to the `Lua` kept beside it in the same `Vm`
// (mlua's `send` feature makes that `Lua` Send); it is used only through
// `&Vm`, on the thread that holds the engine.
unsafe impl Send for RawVm {}

/// What a run calls: a registry slot holding an EVAL script's function
/// (run with KEYS and ARGV as globals) or a library function's callback
/// (run with the keys and arguments tables as its two arguments).
#[derive(Clone, Copy)]
pub enum Target {
    /// A cached EVAL script ([`super::Scripting::script`]).
    Eval(c_int),
    /// A function's callback (FCALL).
    Function(c_int),
}

/// A script's value as its reply is built from it (luaReplyToRedisReply),
/// read off Lua's stack.
pub enum ScriptValue {
    /// nil, and anything that is not a string, number, boolean or table.
    Nil,
    /// A boolean.
    Bool(bool),
    /// A number.
    Number(f64),
    /// A string.
    Str(Vec<u8>),
    /// A table, by the first of Redis's special fields it has.
    Table(Box<TableValue>),
    /// Nested deeper than Redis's Lua stack allows (its reply is an
    /// error).
    TooDeep,
}

/// A table returned by a script, as luaReplyToRedisReply reads it: the
/// first of `err`, `ok`, `double`, `big_number`, `verbatim_string`,
/// `map` and `set` it has, else its array part up to the first nil.
pub enum TableValue {
    /// `{err = "..."}`, and whether the error was counted already
    /// (`ignore_error_stats_update`).
    Err(Vec<u8>, bool),
    /// `{ok = "..."}`.
    Ok(Vec<u8>),
    /// `{double = n}`.
    Double(f64),
    /// `{big_number = "..."}`.
    BigNumber(Vec<u8>),
    /// `{verbatim_string = {format = "txt", string = "..."}}`.
    Verbatim([u8; 3], Vec<u8>),
    /// `{map = {...}}`.
    Map(Vec<(ScriptValue, ScriptValue)>),
    /// `{set = {...}}`.
    Set(Vec<ScriptValue>),
    /// An array.
    Array(Vec<ScriptValue>),
}

/// The error table a failed run raised, as its message handler made it:
/// `err` (a string, or a number as Lua prints it), where it was raised,
/// and whether it was counted already. `None` fields are absent.
#[derive(Default)]
pub struct RunError {
    /// The message.
    pub err: Option<Vec<u8>>,
    /// The chunk that raised it.
    pub source: Option<Vec<u8>>,
    /// Its line.
    pub line: Option<Vec<u8>>,
    /// `ignore_error_stats_update`.
    pub counted: bool,
}

impl RawVm {
    /// The main state of `lua`, with the handler, the real globals and the
    /// per-run context table kept in registry slots for the interpreter's
    /// life.
    pub(super) fn new(
        lua: &mlua::Lua,
        handler: &mlua::Function,
        globals: &mlua::Table,
        ctx: &mlua::Table,
    ) -> mlua::Result<RawVm> {
        let mut got = None;
        // SAFETY: exec_raw pushes the three values and runs the closure in
        // a protected call on the interpreter's main state; luaL_ref pops
        // one value each.
        unsafe {
            lua.exec_raw::<()>((handler, globals, ctx), |state| {
                let ctx = ffi::luaL_ref(state, ffi::LUA_REGISTRYINDEX);
                let globals = ffi::luaL_ref(state, ffi::LUA_REGISTRYINDEX);
                let handler = ffi::luaL_ref(state, ffi::LUA_REGISTRYINDEX);
                ffi::lua_createtable(state, 0, 0);
                let keys = ffi::luaL_ref(state, ffi::LUA_REGISTRYINDEX);
                ffi::lua_createtable(state, 0, 0);
                let argv = ffi::luaL_ref(state, ffi::LUA_REGISTRYINDEX);
                got = Some((state, handler, globals, ctx, keys, argv));
            })?;
        }
        let (state, handler, globals, ctx, keys, argv) =
            got.ok_or_else(|| mlua::Error::runtime("no Lua state"))?;
        let state =
            std::ptr::NonNull::new(state).ok_or_else(|| mlua::Error::runtime("no Lua state"))?;
        let reused = |slot, name| Reused {
            slot,
            name,
            last: Default::default(),
        };
        Ok(RawVm {
            state,
            handler,
            globals,
            ctx,
            keys: reused(keys, c"KEYS"),
            argv: reused(argv, c"ARGV"),
        })
    }

    /// The Lua heap's size in bytes (`collectgarbage('count')`).
    pub(super) fn used_bytes(&self) -> usize {
        let state = self.state.as_ptr();
        // SAFETY: LUA_GCCOUNT and LUA_GCCOUNTB only read the collector's
        // byte count.
        let (kb, b) = unsafe {
            (
                ffi::lua_gc(state, ffi::LUA_GCCOUNT, 0),
                ffi::lua_gc(state, ffi::LUA_GCCOUNTB, 0),
            )
        };
        (kb.max(0) as usize) * 1024 + b.max(0) as usize
    }

    /// Run `target` (luaCallFunction): its value, or the error table its
    /// handler made (`None` if it is not a table).
    pub(super) fn run(
        &self,
        target: Target,
        keys: &[Bytes],
        args: &[Bytes],
    ) -> Result<ScriptValue, Option<RunError>> {
        let state = self.state.as_ptr();
        // SAFETY: the main state, between two of mlua's operations (no
        // mlua call is under way on it: the interpreter is borrowed by this
        // run). Everything pushed is popped before returning. Building
        // KEYS and ARGV happens outside a protected call, as in Redis: it
        // can only fail when Lua cannot allocate, which aborts.
        unsafe {
            let top = ffi::lua_gettop(state);
            if ffi::lua_checkstack(state, 8) == 0 {
                return Err(None);
            }
            ffi::lua_rawgeti(state, ffi::LUA_REGISTRYINDEX, self.handler.into());
            let nargs = match target {
                Target::Eval(f) => {
                    self.refill(&self.keys, keys);
                    self.refill(&self.argv, args);
                    ffi::lua_rawgeti(state, ffi::LUA_REGISTRYINDEX, f.into());
                    0
                }
                Target::Function(f) => {
                    ffi::lua_rawgeti(state, ffi::LUA_REGISTRYINDEX, f.into());
                    push_strings(state, keys);
                    push_strings(state, args);
                    2
                }
            };
            let status = ffi::lua_pcall(state, nargs, 1, top + 1);
            let r = if status == 0 {
                Ok(read_value(state, 0))
            } else {
                Err(read_error(state))
            };
            // A raised error table may be left over in ctx.err (a pcall or
            // xpcall of the script caught it).
            if ERR_PENDING.with(|p| p.replace(false)) {
                ffi::lua_rawgeti(state, ffi::LUA_REGISTRYINDEX, self.ctx.into());
                ffi::lua_pushstring(state, c"err".as_ptr());
                ffi::lua_pushnil(state);
                ffi::lua_rawset(state, -3);
            }
            ffi::lua_settop(state, top);
            r
        }
    }
}

impl RawVm {
    /// Give EVAL's global `t.name` the values `v`: the reused table
    /// emptied and refilled, or a new one.
    ///
    /// # Safety
    /// As [`RawVm::run`]'s: room for five values.
    unsafe fn refill(&self, t: &Reused, v: &[Bytes]) {
        let state = self.state.as_ptr();
        // SAFETY: as this function's. Clearing fields during lua_next is
        // allowed; the table is the only value pushed between calls.
        unsafe {
            ffi::lua_rawgeti(state, ffi::LUA_REGISTRYINDEX, t.slot.into());
            let mut fresh = match t.last.get() {
                None => true,
                Some(n) => n > REUSE_MAX || v.len() > REUSE_MAX,
            };
            if !fresh {
                ffi::lua_pushnil(state);
                ffi::lua_setmetatable(state, -2);
                let mut count = 0usize;
                ffi::lua_pushnil(state);
                while ffi::lua_next(state, -2) != 0 {
                    ffi::lua_pop(state, 1);
                    ffi::lua_pushvalue(state, -1);
                    ffi::lua_pushnil(state);
                    ffi::lua_rawset(state, -4);
                    count += 1;
                }
                // The script added to it: it may have grown.
                fresh = Some(count) != t.last.get();
            }
            if fresh {
                ffi::lua_pop(state, 1);
                push_strings(state, v);
                ffi::lua_pushvalue(state, -1);
                ffi::lua_rawseti(state, ffi::LUA_REGISTRYINDEX, t.slot.into());
                ffi::lua_rawgeti(state, ffi::LUA_REGISTRYINDEX, self.globals.into());
                ffi::lua_pushstring(state, t.name.as_ptr());
                ffi::lua_pushvalue(state, -3);
                ffi::lua_rawset(state, -3);
                ffi::lua_pop(state, 1);
            } else {
                for (i, k) in v.iter().enumerate() {
                    push_str(state, k);
                    ffi::lua_rawseti(state, -2, (i + 1) as ffi::lua_Integer);
                }
            }
            ffi::lua_pop(state, 1);
            t.last.set(Some(v.len()));
        }
    }
}

/// Push a sequence of strings (KEYS or ARGV) as a new table.
///
/// # Safety
/// `state` has room for two more values.
unsafe fn push_strings(state: *mut ffi::lua_State, v: &[Bytes]) {
    // SAFETY: as this function's.
    unsafe {
        ffi::lua_createtable(state, v.len().min(i32::MAX as usize) as c_int, 0);
        for (i, k) in v.iter().enumerate() {
            push_str(state, k);
            ffi::lua_rawseti(state, -2, (i + 1) as ffi::lua_Integer);
        }
    }
}

/// The string at `idx`, if it is one (not a number).
///
/// # Safety
/// `idx` is a valid index of `state`.
unsafe fn string_at(state: *mut ffi::lua_State, idx: c_int) -> Option<Vec<u8>> {
    // SAFETY: lua_tolstring on a string neither allocates nor raises.
    unsafe {
        if ffi::lua_type(state, idx) != ffi::LUA_TSTRING {
            return None;
        }
        let mut len = 0usize;
        let p = ffi::lua_tolstring(state, idx, &mut len);
        Some(std::slice::from_raw_parts(p.cast::<u8>(), len).to_vec())
    }
}

/// Push `t[key]` (raw) for the table on top.
///
/// # Safety
/// The top is a table; room for one more value.
unsafe fn field(state: *mut ffi::lua_State, key: &CStr) {
    // SAFETY: as this function's; a raw get never raises.
    unsafe {
        ffi::lua_pushstring(state, key.as_ptr());
        ffi::lua_rawget(state, -2);
    }
}

/// `t[key]` (raw) of the table on top, if it is a string.
///
/// # Safety
/// As [`field`].
unsafe fn string_field(state: *mut ffi::lua_State, key: &CStr) -> Option<Vec<u8>> {
    // SAFETY: as this function's; the value pushed is popped.
    unsafe {
        field(state, key);
        let v = string_at(state, -1);
        ffi::lua_pop(state, 1);
        v
    }
}

/// Whether `t[key]` (raw) of the table on top is `true`.
///
/// # Safety
/// As [`field`].
unsafe fn true_field(state: *mut ffi::lua_State, key: &CStr) -> bool {
    // SAFETY: as this function's; the value pushed is popped.
    unsafe {
        field(state, key);
        let v = ffi::lua_type(state, -1) == ffi::LUA_TBOOLEAN && ffi::lua_toboolean(state, -1) != 0;
        ffi::lua_pop(state, 1);
        v
    }
}

/// The value on top (luaReplyToRedisReply's reading of it); leaves the
/// stack as it was.
///
/// # Safety
/// `state` holds at least one value; only reads (raw gets). Pushing a
/// field's name may allocate its string, which raises only when Lua
/// cannot allocate.
unsafe fn read_value(state: *mut ffi::lua_State, depth: usize) -> ScriptValue {
    if depth > MAX_DEPTH {
        return ScriptValue::TooDeep;
    }
    // SAFETY: as this function's.
    unsafe {
        match ffi::lua_type(state, -1) {
            ffi::LUA_TSTRING => ScriptValue::Str(string_at(state, -1).unwrap_or_default()),
            ffi::LUA_TBOOLEAN => ScriptValue::Bool(ffi::lua_toboolean(state, -1) != 0),
            ffi::LUA_TNUMBER => ScriptValue::Number(ffi::lua_tonumber(state, -1)),
            ffi::LUA_TTABLE => {
                if ffi::lua_checkstack(state, 4) == 0 {
                    return ScriptValue::TooDeep;
                }
                ScriptValue::Table(Box::new(read_table(state, depth)))
            }
            _ => ScriptValue::Nil,
        }
    }
}

/// The table on top, by Redis's special fields.
///
/// # Safety
/// As [`read_value`], with the table on top and room for four values.
unsafe fn read_table(state: *mut ffi::lua_State, depth: usize) -> TableValue {
    // SAFETY: as this function's; every push is popped before returning.
    unsafe {
        if let Some(e) = string_field(state, c"err") {
            let counted = true_field(state, c"ignore_error_stats_update");
            return TableValue::Err(e, counted);
        }
        if let Some(s) = string_field(state, c"ok") {
            return TableValue::Ok(s);
        }
        field(state, c"double");
        let d =
            (ffi::lua_type(state, -1) == ffi::LUA_TNUMBER).then(|| ffi::lua_tonumber(state, -1));
        ffi::lua_pop(state, 1);
        if let Some(d) = d {
            return TableValue::Double(d);
        }
        if let Some(s) = string_field(state, c"big_number") {
            return TableValue::BigNumber(s);
        }
        field(state, c"verbatim_string");
        if ffi::lua_type(state, -1) == ffi::LUA_TTABLE {
            let format = string_field(state, c"format");
            let text = string_field(state, c"string");
            if let (Some(format), Some(text)) = (format, text) {
                ffi::lua_pop(state, 1);
                let mut f3 = [0u8; 3];
                for (d, s) in f3.iter_mut().zip(format.iter()) {
                    *d = *s;
                }
                return TableValue::Verbatim(f3, text);
            }
        }
        ffi::lua_pop(state, 1);
        for (name, is_map) in [(c"map", true), (c"set", false)] {
            field(state, name);
            if ffi::lua_type(state, -1) == ffi::LUA_TTABLE {
                let v = read_pairs(state, depth, is_map);
                ffi::lua_pop(state, 1);
                return v;
            }
            ffi::lua_pop(state, 1);
        }
        let mut items = Vec::new();
        let mut j: ffi::lua_Integer = 1;
        loop {
            ffi::lua_rawgeti(state, -1, j);
            if ffi::lua_type(state, -1) == ffi::LUA_TNIL {
                ffi::lua_pop(state, 1);
                break;
            }
            items.push(read_value(state, depth + 1));
            ffi::lua_pop(state, 1);
            j += 1;
        }
        TableValue::Array(items)
    }
}

/// A `map` or `set` table's contents (on top), in `lua_next` order.
///
/// # Safety
/// As [`read_table`].
unsafe fn read_pairs(state: *mut ffi::lua_State, depth: usize, is_map: bool) -> TableValue {
    // SAFETY: lua_next with the previous key on top; the value is popped
    // after each step. The table is not changed during the walk.
    unsafe {
        let mut pairs = Vec::new();
        let mut keys = Vec::new();
        ffi::lua_pushnil(state);
        while ffi::lua_next(state, -2) != 0 {
            if is_map {
                let v = read_value(state, depth + 1);
                ffi::lua_pushvalue(state, -2);
                let k = read_value(state, depth + 1);
                ffi::lua_pop(state, 1);
                pairs.push((k, v));
            } else {
                ffi::lua_pushvalue(state, -2);
                keys.push(read_value(state, depth + 1));
                ffi::lua_pop(state, 1);
            }
            ffi::lua_pop(state, 1);
        }
        if is_map {
            TableValue::Map(pairs)
        } else {
            TableValue::Set(keys)
        }
    }
}

/// The error value on top of a failed run, if it is a table.
///
/// # Safety
/// As [`read_value`].
unsafe fn read_error(state: *mut ffi::lua_State) -> Option<RunError> {
    // SAFETY: as this function's.
    unsafe {
        if ffi::lua_type(state, -1) != ffi::LUA_TTABLE || ffi::lua_checkstack(state, 2) == 0 {
            return None;
        }
        let text = |name: &CStr| {
            field(state, name);
            let v = match ffi::lua_type(state, -1) {
                ffi::LUA_TSTRING => string_at(state, -1),
                ffi::LUA_TNUMBER => Some(format_num(ffi::lua_tonumber(state, -1)).into_bytes()),
                _ => None,
            };
            ffi::lua_pop(state, 1);
            v
        };
        Some(RunError {
            err: text(c"err"),
            source: text(c"source"),
            line: text(c"line"),
            counted: true_field(state, c"ignore_error_stats_update"),
        })
    }
}

/// A number as the error reply shows it (Lua 5.1's "%.14g" for integers
/// below 1e14).
fn format_num(n: f64) -> String {
    if n == n.trunc() && n.abs() < 1e14 {
        format!("{}", n as i64)
    } else {
        format!("{n}")
    }
}
