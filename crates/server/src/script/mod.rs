//! Lua scripting: EVAL's interpreter, its script cache and a run's context
//! (Redis's `eval.c`, `script.c` and `script_lua.c`).
//!
//! One Lua 5.1 interpreter (mlua, vendored) runs EVAL scripts. It is built
//! as Redis builds its own: the base, table, string and math libraries,
//! the `cjson`, `struct`, `cmsgpack` and `bit` libraries (`lib/`),
//! the `redis` API, Redis's `pcall`, `math.random` on Redis's lrand48, the
//! allowed globals only, and every library table read-only (`prelude.lua`;
//! vanilla Lua has no read-only tables, so the sandbox gives read-only views
//! and guards `setmetatable`/`rawset`). Scripts are compiled once, named
//! `@user_script` as Redis names them, and kept in a registry table by SHA1.
//!
//! This is the scripting subsystem's state; it runs nothing against the
//! server. A run (`commands::scripting::run`, at the dispatch layer)
//! happens under the engine lock: it takes the interpreter and the script
//! client out of [`Scripting`] for its length ([`Scripting::take_runner`])
//! and binds the functions that need the engine (`redis.call`, `pcall`,
//! `setresp`, `set_repl`, `acl_check_cmd`) for the run only
//! ([`Vm::run`]); they call commands through dispatch, as Redis's
//! `scriptCall` does. Writes are collected in one propagation unit, so
//! replicas get the script's effects wrapped in MULTI/EXEC, as Redis 7.0
//! replicates scripts.
//!
//! Busy scripts: see [`busy`]. A hook every 100,000 instructions marks the
//! run timed out after `busy-reply-threshold` and aborts it on SCRIPT KILL
//! (then on every line, so that `pcall` cannot swallow the kill).

pub mod busy;
mod call;
pub mod functions;
mod lib;
mod rand48;

use std::collections::HashMap;
use std::sync::atomic::AtomicU64;
use std::sync::Arc;

use bytes::Bytes;
use mlua::chunk::ChunkMode;
use mlua::{Function, HookTriggers, Lua, LuaOptions, StdLib, Table, Value, VmState};

use crate::client::{flag, Client};
use crate::error::CmdError;

pub use busy::Busy;
pub use call::{CallReply, RunError, ScriptValue, TableValue, Target};

/// Shebang flags (Redis's SCRIPT_FLAG_*).
pub mod sflag {
    /// `no-writes`.
    pub const NO_WRITES: u32 = 1 << 0;
    /// `allow-oom`.
    pub const ALLOW_OOM: u32 = 1 << 1;
    /// `allow-stale`.
    pub const ALLOW_STALE: u32 = 1 << 2;
    /// `no-cluster`.
    pub const NO_CLUSTER: u32 = 1 << 3;
    /// `allow-cross-slot-keys`.
    pub const ALLOW_CROSS_SLOT: u32 = 1 << 4;
    /// No shebang: EVAL's backwards-compatible mode.
    pub const EVAL_COMPAT: u32 = 1 << 5;
}

const SHEBANG_FLAGS: &[(&str, u32)] = &[
    ("no-writes", sflag::NO_WRITES),
    ("allow-oom", sflag::ALLOW_OOM),
    ("allow-stale", sflag::ALLOW_STALE),
    ("no-cluster", sflag::NO_CLUSTER),
    ("allow-cross-slot-keys", sflag::ALLOW_CROSS_SLOT),
];

/// The names of script flags, in Redis's order (scripts_flags_def).
pub fn flag_names(flags: u32) -> Vec<&'static str> {
    SHEBANG_FLAGS
        .iter()
        .filter(|(_, bit)| flags & bit != 0)
        .map(|(n, _)| *n)
        .collect()
}

/// `-NOSCRIPT`.
pub const NOSCRIPT: &str = "NOSCRIPT No matching script. Please use EVAL.";

/// The name Redis gives every script's chunk.
const CHUNK_NAME: &str = "@user_script";
/// The name of our own Lua code, which error locations skip.
const INTERNAL_CHUNK: &str = "=[relica]";
/// Bytes a run may leave for the collector before the next step. Redis
/// steps it (50 kB of work) every 50 runs; with a small heap such a step
/// is a whole cycle, marking everything the interpreter keeps, for the
/// few kB of KEYS and ARGV tables that 50 short runs leave. Stepping once
/// as much garbage has built up collects the same at a fraction of the
/// cost; the heap stays within this of its live size between steps (Redis's
/// suite checks that 10,000 runs leave it under 100 kB).
const GC_SLACK: usize = 16 * 1024;
/// Instructions between two looks at the clock and the kill flag.
const HOOK_EVERY: u32 = 100_000;

/// A cached script: its flags and its compiled function, kept in the
/// interpreter's registry (an integer slot: a run finds it without
/// hashing its SHA again inside Lua).
struct Script {
    flags: u32,
    func: mlua::RegistryKey,
}

/// The interpreter and the handles into it that Rust uses.
pub struct Vm {
    lua: Lua,
    /// The real globals (the globals table itself is a guarded view).
    globals: Table,
    /// Per-run functions (`op`) and a raised error table (`err`).
    ctx: Table,
    /// The message handler of a run ([`error_handler`]).
    handler: Function,
    /// Points global reads at a table (a library's load API) or, with
    /// nil, back at the real globals.
    set_source: Function,
    /// Builds the globals a function library sees while it loads, from
    /// the Rust side of its `register_function`.
    load_api: Function,
    /// `function(f) return pcall(f) end` with Lua's own pcall: runs a
    /// library's top-level code and returns its raw error value.
    loader: Function,
    /// The Lua heap's size after the last collector step (or below it,
    /// once the collector ran on its own): see [`GC_SLACK`].
    gc_floor: std::cell::Cell<usize>,
    /// The same interpreter on Lua's C API, for runs.
    raw: call::RawVm,
}

/// The scripting subsystem: interpreter, script cache, busy state.
pub struct Scripting {
    vm: Option<Vm>,
    scripts: HashMap<String, Script, crate::types::FastState>,
    /// Bytes of cached script bodies and their SHAs.
    scripts_mem: usize,
    busy: Arc<Busy>,
    rand: Arc<AtomicU64>,
    client: Option<Box<Client>>,
    /// FUNCTION libraries, with their own interpreter.
    functions: functions::Functions,
    /// DEBUG SET-DISABLE-DENY-SCRIPTS: scripts may call `noscript`
    /// commands.
    deny_disabled: bool,
}

impl Default for Scripting {
    fn default() -> Self {
        Self::new()
    }
}

impl Scripting {
    /// A fresh interpreter and an empty cache.
    pub fn new() -> Scripting {
        let busy = Arc::new(Busy::default());
        let rand = Arc::new(AtomicU64::new(rand48::INITIAL));
        let vm = new_eval_vm(&busy, &rand).expect("the Lua interpreter initializes");
        let mut client = Client::new(0, "lua".into(), String::new(), true, false, 0);
        client.flags |= flag::SCRIPT;
        client.authenticated = true;
        let functions = functions::Functions::new(busy.clone(), rand.clone());
        let s = Scripting {
            vm: Some(vm),
            scripts: HashMap::default(),
            scripts_mem: 0,
            busy,
            functions,
            rand,
            client: Some(Box::new(client)),
            deny_disabled: false,
        };
        s.publish_memory();
        s
    }

    /// Whether scripts may call `noscript` commands (DEBUG
    /// SET-DISABLE-DENY-SCRIPTS, a test hook).
    pub fn deny_disabled(&self) -> bool {
        self.deny_disabled
    }

    /// DEBUG SET-DISABLE-DENY-SCRIPTS.
    pub fn set_deny_disabled(&mut self, on: bool) {
        self.deny_disabled = on;
    }

    /// The function libraries.
    pub fn functions(&self) -> &functions::Functions {
        &self.functions
    }

    /// The function libraries, to change (the interpreters' memory is
    /// told to the allocator's count when the guard drops).
    pub fn functions_mut(&mut self) -> FunctionsMut<'_> {
        FunctionsMut(self)
    }

    /// Tell the allocator's count what the interpreters hold
    /// ([`crate::alloc::set_lua_memory`]); not while a run has one.
    fn publish_memory(&self) {
        if self.vm.is_some() && self.functions.has_vm() {
            crate::alloc::set_lua_memory(self.vm_memory() + self.functions.vm_memory());
        }
    }

    /// Take the script client for a run; None while a run has it.
    pub fn take_client(&mut self) -> Option<Box<Client>> {
        self.client.take()
    }

    /// Give back what [`Scripting::take_client`] took.
    pub fn put_client(&mut self, cl: Box<Client>) {
        self.client = Some(cl);
        self.publish_memory();
    }

    /// The busy state, for connection tasks (read without the engine lock).
    pub fn busy(&self) -> Arc<Busy> {
        self.busy.clone()
    }

    /// Whether a script with this SHA (lower-case hex) is cached.
    pub fn exists(&self, sha: &[u8]) -> bool {
        std::str::from_utf8(sha).is_ok_and(|s| self.scripts.contains_key(s))
    }

    /// A cached script's flags and function, `sha` in lower-case hex.
    pub fn script(&self, sha: &str) -> Option<(u32, Target)> {
        let s = self.scripts.get(sha)?;
        Some((s.flags, Target::Eval(s.func.id())))
    }

    /// Number of cached scripts.
    pub fn len(&self) -> usize {
        self.scripts.len()
    }

    /// Whether no script is cached.
    pub fn is_empty(&self) -> bool {
        self.scripts.is_empty()
    }

    /// used_memory_lua / used_memory_vm_eval.
    pub fn vm_memory(&self) -> usize {
        self.vm.as_ref().map_or(0, Vm::used_memory)
    }

    /// used_memory_scripts_eval: bodies, SHAs and the table's overhead.
    pub fn scripts_memory(&self) -> usize {
        let per = std::mem::size_of::<Script>() + std::mem::size_of::<String>() + 16;
        self.scripts_mem + self.scripts.len() * per + self.scripts.capacity() * 8
    }

    /// SCRIPT FLUSH: a new interpreter, an empty cache. `lazy` drops the
    /// old one on another thread.
    pub fn flush(&mut self, lazy: bool) {
        let old = self.vm.take();
        self.scripts = HashMap::default();
        self.scripts_mem = 0;
        self.vm =
            Some(new_eval_vm(&self.busy, &self.rand).expect("the Lua interpreter initializes"));
        if let Some(old) = old {
            if lazy {
                std::thread::spawn(move || drop(old));
            } else {
                drop(old);
            }
        }
        self.publish_memory();
    }

    /// The flags of a cached script, or of `body`'s shebang (None when
    /// neither is known or the shebang is bad): processCommand's view of
    /// EVAL's flags.
    pub fn flags_for(&self, arg: &[u8], by_sha: bool) -> Option<u32> {
        if by_sha {
            let sha = sha_lower(arg)?;
            return self.scripts.get(sha_str(&sha)?).map(|s| s.flags);
        }
        let sha = sha1_hex(arg);
        if let Some(s) = self.scripts.get(&sha) {
            return Some(s.flags);
        }
        shebang(arg).ok().map(|(f, _)| f)
    }

    /// Take the interpreter and the script client for a run; None while
    /// a run has them (a script cannot run a script).
    pub fn take_runner(&mut self) -> Option<(Vm, Box<Client>)> {
        match (self.vm.take(), self.client.take()) {
            (Some(vm), Some(cl)) => Some((vm, cl)),
            (vm, cl) => {
                self.vm = vm;
                self.client = cl;
                None
            }
        }
    }

    /// Give back what [`Scripting::take_runner`] took.
    pub fn put_runner(&mut self, vm: Vm, cl: Box<Client>) {
        self.vm = Some(vm);
        self.client = Some(cl);
        self.publish_memory();
    }

    /// Compile and cache a script (SCRIPT LOAD, EVAL of a new body).
    /// Returns its SHA, or the error reply.
    pub fn load(&mut self, body: &Bytes) -> Result<String, CmdError> {
        let sha = sha1_hex(body);
        if self.scripts.contains_key(&sha) {
            return Ok(sha);
        }
        let (flags, skip) = shebang(body).map_err(CmdError::msg)?;
        let vm = self.vm.as_ref().expect("the interpreter is in place");
        let func = vm
            .lua
            .load(&body[skip..])
            .set_name(CHUNK_NAME)
            .set_mode(ChunkMode::Text)
            .into_function()
            .map_err(|e| {
                let msg = match e {
                    mlua::Error::SyntaxError { message, .. } => message,
                    other => other.to_string(),
                };
                CmdError::msg(format!("ERR Error compiling script (new function): {msg}"))
            })?;
        let func = vm
            .lua
            .create_registry_value(func)
            .map_err(|e| CmdError::msg(format!("ERR {e}")))?;
        self.scripts_mem += sha.len() + body.len();
        self.scripts.insert(sha.clone(), Script { flags, func });
        self.publish_memory();
        Ok(sha)
    }
}

/// An EVALSHA argument in lower case, if it has a SHA's length.
pub fn sha_lower(arg: &[u8]) -> Option<[u8; 40]> {
    let mut out = [0u8; 40];
    if arg.len() != out.len() {
        return None;
    }
    for (o, a) in out.iter_mut().zip(arg) {
        *o = a.to_ascii_lowercase();
    }
    Some(out)
}

/// [`sha_lower`]'s buffer as text (None if it is not UTF-8, so not hex).
pub fn sha_str(sha: &[u8; 40]) -> Option<&str> {
    std::str::from_utf8(sha).ok()
}

/// [`Scripting::functions_mut`]'s guard.
pub struct FunctionsMut<'a>(&'a mut Scripting);

impl std::ops::Deref for FunctionsMut<'_> {
    type Target = functions::Functions;
    fn deref(&self) -> &functions::Functions {
        &self.0.functions
    }
}

impl std::ops::DerefMut for FunctionsMut<'_> {
    fn deref_mut(&mut self) -> &mut functions::Functions {
        &mut self.0.functions
    }
}

impl Drop for FunctionsMut<'_> {
    fn drop(&mut self) {
        self.0.publish_memory();
    }
}

/// SHA1 of `data` in lower-case hex.
pub fn sha1_hex(data: &[u8]) -> String {
    use sha1::{Digest, Sha1};
    let d = Sha1::digest(data);
    let mut s = String::with_capacity(40);
    for b in d {
        s.push(char::from(b"0123456789abcdef"[usize::from(b >> 4)]));
        s.push(char::from(b"0123456789abcdef"[usize::from(b & 15)]));
    }
    s
}

/// Parse a `#!lua flags=...` first line (Redis's evalExtractShebangFlags):
/// the flags and the length of the shebang (the newline is kept, so line
/// numbers stay the user's).
fn shebang(body: &[u8]) -> Result<(u32, usize), String> {
    if !body.starts_with(b"#!") {
        return Ok((sflag::EVAL_COMPAT, 0));
    }
    let Some(end) = memchr::memchr(b'\n', body) else {
        return Err("ERR Invalid script shebang".into());
    };
    let parts = match resp::inline::split_args(&body[..end]) {
        Some(p) if !p.is_empty() => p,
        _ => return Err("ERR Invalid engine in script shebang".into()),
    };
    if parts[0] != b"#!lua" {
        return Err(format!(
            "ERR Unexpected engine in script shebang: {}",
            String::from_utf8_lossy(&parts[0])
        ));
    }
    let mut flags = 0;
    for p in &parts[1..] {
        let Some(list) = p.strip_prefix(b"flags=") else {
            return Err(format!(
                "ERR Unknown lua shebang option: {}",
                String::from_utf8_lossy(p)
            ));
        };
        // sdssplitlen of an empty string gives no elements.
        if list.is_empty() {
            continue;
        }
        for f in list.split(|&b| b == b',') {
            match SHEBANG_FLAGS.iter().find(|(n, _)| n.as_bytes() == f) {
                Some((_, bit)) => flags |= bit,
                None => {
                    return Err(format!(
                        "ERR Unexpected flag in script shebang: {}",
                        String::from_utf8_lossy(f)
                    ))
                }
            }
        }
    }
    Ok((flags, end))
}

// ---- the interpreter -------------------------------------------------------

/// EVAL's interpreter: [`new_vm`]'s, with the message handler also the
/// global `__redis__err__handler`, as Redis's eval.c defines it (functions
/// keep theirs out of sight, in the registry).
fn new_eval_vm(busy: &Arc<Busy>, rand: &Arc<AtomicU64>) -> mlua::Result<Vm> {
    let vm = new_vm(busy, rand)?;
    vm.globals
        .raw_set("__redis__err__handler", vm.handler.clone())?;
    Ok(vm)
}

fn new_vm(busy: &Arc<Busy>, rand: &Arc<AtomicU64>) -> mlua::Result<Vm> {
    let lua = Lua::new_with(
        StdLib::TABLE | StdLib::STRING | StdLib::MATH,
        LuaOptions::default(),
    )?;
    // As Redis's luaLoadLibraries: the libraries are globals before the
    // sandbox (prelude.lua) keeps the allowed ones and makes them read-only.
    lib::load_libraries(&lua)?;
    let globals = lua.create_table()?;
    let ctx = lua.create_table()?;
    let raw = lua.create_table()?;
    // A Rust function, so that its error points at the caller's line even
    // in a tail call (as Redis's C function does).
    let c = ctx.clone();
    raw.set(
        "sha1hex",
        lua.create_function(move |lua, args: mlua::MultiValue| {
            if args.len() != 1 {
                set_pending_err(&c, error_table(lua, b"wrong number of arguments")?)?;
                return Err(mlua::Error::runtime("wrong number of arguments"));
            }
            let s = match args.into_iter().next() {
                Some(Value::String(s)) => s.as_bytes().to_vec(),
                // lua_tolstring: "%.14g".
                Some(Value::Number(n)) => crate::util::num::fmt_g(n, 14).into_bytes(),
                Some(Value::Integer(n)) => n.to_string().into_bytes(),
                _ => Vec::new(),
            };
            Ok(sha1_hex(&s))
        })?,
    )?;
    raw.set(
        "log",
        lua.create_function(|_, (level, msg): (u8, mlua::LuaString)| {
            let msg = String::from_utf8_lossy(&msg.as_bytes()).into_owned();
            match level {
                0 => tracing::trace!("{msg}"),
                1 => tracing::debug!("{msg}"),
                2 => tracing::info!("{msg}"),
                _ => tracing::warn!("{msg}"),
            }
            Ok(())
        })?,
    )?;
    let r = rand.clone();
    raw.set(
        "rand",
        lua.create_function(move |_, ()| Ok(rand48::random(&r)))?,
    )?;
    let r = rand.clone();
    raw.set(
        "srand",
        lua.create_function(move |_, seed: i64| {
            rand48::seed(&r, seed as i32);
            Ok(())
        })?,
    )?;
    raw.set("version", crate::REDIS_VERSION)?;
    raw.set("version_num", version_num(crate::REDIS_VERSION))?;
    let b = busy.clone();
    let c = ctx.clone();
    let handler = lua.create_function(move |lua, err: Value| error_handler(lua, &b, &c, err))?;
    let loader: Function = lua
        .load("local pcall = ... return function(f) return pcall(f) end")
        .set_name(INTERNAL_CHUNK)
        .call(lua.globals().get::<Function>("pcall")?)?;
    let (api, set_source, load_api): (Table, Function, Function) = lua
        .load(include_str!("prelude.lua"))
        .set_name(INTERNAL_CHUNK)
        .call((globals.clone(), raw, ctx.clone()))?;
    // redis.call, redis.pcall and the per-run operations are made once:
    // they reach the run through the bridge slot ([`BridgeSlot`]). C
    // functions, as Redis's are, so that an error points at the caller's
    // line even in a tail call ([`call`]).
    let (call, pcall) = call::make(&lua)?;
    let c = ctx.clone();
    let op = lua.create_function(move |lua, args: mlua::MultiValue| {
        with_bridge(lua, &c, |b| b.op(lua, args))
    })?;
    api.raw_set("call", call)?;
    api.raw_set("pcall", pcall)?;
    ctx.raw_set("op", op)?;
    install_hook(&lua, busy, &ctx)?;
    let raw = call::RawVm::new(&lua, &handler, &globals, &ctx)?;
    // Start from what the interpreter keeps, not what building it left.
    lua.gc_collect()?;
    Ok(Vm {
        raw,
        lua,
        globals,
        ctx,
        set_source,
        load_api,
        loader,
        handler,
        gc_floor: Default::default(),
    })
}

/// Redis's `lua_gc(lua, LUA_GCSTEP, 50)`: one call that steps the
/// collector through 50 kB of debt (about 50 basic steps), stopping at
/// the end of a cycle. (mlua's `gc_step` passes 0, one basic
/// step per protected call: fifty calls did the same work at 9% of a
/// pipelined EVALSHA's time.)
#[allow(unsafe_code)]
fn gc_step_kbytes(lua: &Lua, kbytes: i32) {
    // SAFETY: lua_gc with LUA_GCSTEP on the state mlua hands us, inside
    // its protected call; it pushes and pops nothing.
    let r = unsafe {
        lua.exec_raw::<()>((), |state| {
            mlua::ffi::lua_gc(state, mlua::ffi::LUA_GCSTEP, kbytes);
        })
    };
    if let Err(e) = r {
        tracing::debug!("Lua collector step: {e}");
    }
}

/// "7.0.15" → 0x00070f.
fn version_num(v: &str) -> i64 {
    let mut n = 0i64;
    for part in v.split('.').take(3) {
        n = (n << 8) | part.parse::<i64>().unwrap_or(0);
    }
    n
}

/// The message handler of a run (Redis's `__redis__err__handler`): the
/// error as a table `{err=...}`, with the source and line of the user code
/// that raised it.
fn error_handler(lua: &Lua, busy: &Busy, ctx: &Table, err: Value) -> mlua::Result<Table> {
    // An error table raised by redis.call waits in ctx.err.
    let pending = match &err {
        Value::Error(_) | Value::UserData(_) => match ctx.raw_get::<Value>("err")? {
            Value::Table(t) => {
                ctx.raw_set("err", Value::Nil)?;
                Some(t)
            }
            _ => None,
        },
        _ => None,
    };
    let t = match err {
        _ if pending.is_some() => pending.expect("checked"),
        Value::Table(t) => t,
        Value::Error(_) | Value::UserData(_) if busy.kill_requested() => {
            let t = lua.create_table()?;
            t.set("err", "ERR Script killed by user with SCRIPT KILL...")?;
            t
        }
        other => {
            // 'ERR ' .. tostring(err)
            let s = match &other {
                Value::Error(e) => e.to_string(),
                Value::Nil => "nil".to_string(),
                Value::Boolean(b) => b.to_string(),
                v => lua
                    .coerce_string(v.clone())
                    .ok()
                    .flatten()
                    .map(|s| String::from_utf8_lossy(&s.as_bytes()).into_owned())
                    .unwrap_or_else(|| format!("{}: {:p}", v.type_name(), v.to_pointer())),
            };
            let t = lua.create_table()?;
            t.set("err", format!("ERR {s}"))?;
            t
        }
    };
    // Level 0 is this handler; the first user frame above it gets the blame
    // (Redis skips the C function that raised; we also skip our own Lua).
    let mut level = 1;
    while let Some((c, src, line)) = lua.inspect_stack(level, |d| {
        let s = d.source();
        (
            s.what == "C",
            s.source.map(|x| x.into_owned()),
            d.current_line(),
        )
    }) {
        if c || src.as_deref() == Some(INTERNAL_CHUNK) {
            level += 1;
            continue;
        }
        if let Some(src) = src {
            t.set("source", src)?;
        }
        if let Some(line) = line {
            t.set("line", line as i64)?;
        }
        break;
    }
    Ok(t)
}

/// The interpreter's hook, set once: every [`HOOK_EVERY`] instructions it
/// looks at the clock and the kill flag.
pub(crate) fn install_hook(lua: &Lua, busy: &Arc<Busy>, ctx: &Table) -> mlua::Result<()> {
    install_hook_with(
        lua,
        busy,
        ctx,
        HookTriggers::new().every_nth_instruction(HOOK_EVERY),
    )
}

fn install_hook_with(
    lua: &Lua,
    busy: &Arc<Busy>,
    ctx: &Table,
    triggers: HookTriggers,
) -> mlua::Result<()> {
    let b = busy.clone();
    let c = ctx.clone();
    lua.set_hook(triggers, move |lua, _| {
        if !b.running() {
            return Ok(VmState::Continue);
        }
        if b.check_timeout() {
            tracing::warn!(
                "Slow script detected: still in execution after {} milliseconds. You can try killing the script using the SCRIPT KILL command.",
                b.elapsed_ms()
            );
            // From now on other connections are answered (-BUSY, SCRIPT
            // KILL, SHUTDOWN NOSAVE): give this runtime worker's place to
            // another thread for the rest of the run.
            busy::hand_off_worker();
        }
        if b.has_requests() {
            let _ = with_bridge(lua, &c, |br| {
                br.serve_busy();
                Ok(())
            });
        }
        if b.kill_requested() {
            tracing::warn!("Lua script killed by user with SCRIPT KILL.");
            // From now on on every line, so pcall cannot keep it alive.
            install_hook_with(lua, &b, &c, HookTriggers::EVERY_LINE)?;
            return Err(mlua::Error::runtime("Script killed by user with SCRIPT KILL..."));
        }
        Ok(VmState::Continue)
    })
}

/// A Lua debugger session's hook: every line of the user's script goes to
/// the bridge (which stops there when it must), and every [`HOOK_EVERY`]
/// instructions the busy checks run as usual.
fn install_debug_hook(lua: &Lua, busy: &Arc<Busy>, ctx: &Table) -> mlua::Result<()> {
    let b = busy.clone();
    let c = ctx.clone();
    let triggers = HookTriggers::new()
        .every_line()
        .every_nth_instruction(HOOK_EVERY);
    lua.set_hook(triggers, move |lua, d| {
        if d.event() == mlua::debug::DebugEvent::Line {
            let ours = d.source().source.as_deref() == Some(CHUNK_NAME);
            if ours {
                let line = d.current_line().unwrap_or(0) as i64;
                if let Err(e) = with_bridge(lua, &c, |br| br.debug_line(lua, line)) {
                    // Raised as Redis's error table (luaPushError).
                    if let mlua::Error::RuntimeError(m) = &e {
                        set_pending_err(&c, error_table(lua, m.as_bytes())?)?;
                    }
                    return Err(e);
                }
            }
            return Ok(VmState::Continue);
        }
        if b.kill_requested() {
            return Err(mlua::Error::runtime(
                "Script killed by user with SCRIPT KILL...",
            ));
        }
        Ok(VmState::Continue)
    })
}

/// Raise error table `t` from a Rust function, which mlua cannot do: it
/// waits in `ctx.err` for the message handler or the script's pcall, and
/// the run clears it if neither took it.
fn set_pending_err(ctx: &Table, t: Table) -> mlua::Result<()> {
    call::note_pending_err();
    ctx.raw_set("err", t)
}

/// Redis's luaPushErrorBuff: `-CODE msg` or `msg` to `{err = "CODE msg"}`.
pub fn error_table(lua: &Lua, s: &[u8]) -> mlua::Result<Table> {
    let t = lua.create_table()?;
    t.raw_set("err", lua.create_string(error_text(s))?)?;
    Ok(t)
}

/// An error table's `err` (luaPushErrorBuff): `-CODE msg` to `CODE msg`,
/// `msg` to `ERR msg`, without line breaks around the message.
pub fn error_text(s: &[u8]) -> Vec<u8> {
    let (code, msg): (&[u8], &[u8]) = match s.strip_prefix(b"-") {
        Some(rest) => match memchr::memchr(b' ', rest) {
            Some(i) => (&rest[..i], &rest[i + 1..]),
            None => (b"ERR", rest),
        },
        None => (b"ERR", s),
    };
    let trim = |b: &u8| *b == b'\r' || *b == b'\n';
    let start = msg.iter().position(|b| !trim(b)).unwrap_or(msg.len());
    let end = msg.iter().rposition(|b| !trim(b)).map_or(start, |i| i + 1);
    let mut full = Vec::with_capacity(code.len() + 1 + end.max(start) - start);
    full.extend_from_slice(code);
    full.push(b' ');
    full.extend_from_slice(&msg[start..end.max(start)]);
    full
}

// ---- the bridge slot ------------------------------------------------------

thread_local! {
    /// The bridge of the run on this thread, if one runs: `redis.call`
    /// and friends, made once per interpreter, find the run here
    /// (a run borrows the engine, which cannot be stored in the
    /// interpreter). Taken out while a call uses it, so that it is never
    /// borrowed twice.
    static BRIDGE: std::cell::Cell<Option<std::ptr::NonNull<dyn Bridge>>> =
        const { std::cell::Cell::new(None) };
}

/// The bridge of one run, in the slot for the run's length.
struct BridgeSlot;

impl BridgeSlot {
    fn set(bridge: &mut dyn Bridge) -> BridgeSlot {
        let p = std::ptr::NonNull::from(bridge);
        // SAFETY: only the lifetime is erased. The pointer is removed from
        // the slot when the returned guard drops, at the end of `Vm::run`,
        // which holds the `&mut` borrow (and uses it for nothing else)
        // until then; `with_bridge` dereferences it only meanwhile, on
        // this thread, and takes it out of the slot while it does, so no
        // two `&mut` to the bridge exist at once.
        #[allow(unsafe_code)]
        let p: std::ptr::NonNull<dyn Bridge> = unsafe { std::mem::transmute(p) };
        BRIDGE.with(|b| b.set(Some(p)));
        BridgeSlot
    }
}

impl Drop for BridgeSlot {
    fn drop(&mut self) {
        BRIDGE.with(|b| b.set(None));
    }
}

/// Run `f` with the current run's bridge, or raise Redis's error when no
/// run is on (a function kept from a library's load and called later).
fn with_bridge<R>(
    lua: &Lua,
    ctx: &Table,
    f: impl FnOnce(&mut dyn Bridge) -> mlua::Result<R>,
) -> mlua::Result<R> {
    match with_bridge_raw(f) {
        Some(r) => r,
        None => {
            set_pending_err(
                ctx,
                error_table(
                    lua,
                    b"redis.call/pcall can only be called inside a script invocation",
                )?,
            )?;
            Err(mlua::Error::runtime("no script invocation"))
        }
    }
}

/// Run `f` with the current run's bridge; `None` when no run is on.
fn with_bridge_raw<R>(f: impl FnOnce(&mut dyn Bridge) -> R) -> Option<R> {
    let mut p = BRIDGE.with(|b| b.take())?;
    // SAFETY: see `BridgeSlot::set`: the run that put it there is still
    // on, and the pointer was taken out of the slot, so this is the only
    // reference to the bridge until it is put back.
    #[allow(unsafe_code)]
    let r = f(unsafe { p.as_mut() });
    BRIDGE.with(|b| b.set(Some(p)));
    Some(r)
}

/// The side of a run that reaches the server (the dispatch layer's):
/// what `redis.call`, `redis.pcall` and the per-run operations do.
pub trait Bridge {
    /// `redis.setresp` (3), `redis.set_repl` (4), `redis.acl_check_cmd` (5).
    fn op(&mut self, lua: &Lua, args: mlua::MultiValue) -> mlua::Result<mlua::MultiValue>;
    /// Run a command for `redis.call` or `redis.pcall` (Redis's
    /// scriptCall); `argv` is not empty.
    fn call(&mut self, argv: Vec<Bytes>) -> CallReply;
    /// The script reached `line` of its code, in a Lua debugger session
    /// (the hook calls it on every line then).
    fn debug_line(&mut self, _lua: &Lua, _line: i64) -> mlua::Result<()> {
        Ok(())
    }
    /// Run the commands other connections handed to the busy script
    /// ([`busy::BusyRequest`]).
    fn serve_busy(&mut self) {}
}

impl Vm {
    /// The interpreter.
    pub fn lua(&self) -> &Lua {
        &self.lua
    }

    /// Bytes the interpreter holds (Lua's own count, read without mlua's
    /// lock: INFO and the allocator's count read it after every run).
    pub fn used_memory(&self) -> usize {
        self.raw.used_bytes()
    }

    /// The per-run context table (the hook raises error tables through it).
    pub(crate) fn ctx(&self) -> &Table {
        &self.ctx
    }

    /// Run `target` with KEYS and ARGV, `bridge` serving its calls into
    /// the server; the hook watches `busy`. Returns the script's value, or
    /// the error table it raised (`None` if what it raised is not one).
    pub fn run(
        &self,
        target: Target,
        keys: &[Bytes],
        args: &[Bytes],
        busy: &Arc<Busy>,
        bridge: &mut dyn Bridge,
        debug: bool,
    ) -> mlua::Result<Result<ScriptValue, Option<RunError>>> {
        let lua = &self.lua;
        if debug {
            install_debug_hook(lua, busy, &self.ctx)?;
        }
        let res = {
            let _slot = BridgeSlot::set(bridge);
            self.raw.run(target, keys, args)
        };
        if let Some(panic) = call::take_panic() {
            std::panic::resume_unwind(panic);
        }
        if busy.kill_requested() || debug {
            // The kill switched the hook to every line: back to normal.
            install_hook(lua, busy, &self.ctx)?;
        }
        // Redis's collector step (LUA_GC_CYCLE_PERIOD), paced by the
        // garbage runs left (GC_SLACK).
        let used = self.raw.used_bytes();
        let floor = self.gc_floor.get().min(used);
        if used - floor >= GC_SLACK {
            gc_step_kbytes(lua, 50);
            self.gc_floor.set(self.raw.used_bytes());
        } else {
            self.gc_floor.set(floor);
        }
        Ok(res)
    }
}
