//! Redis 7.0 functions (`functions.c`, `function_lua.c`): libraries of Lua
//! functions loaded with FUNCTION LOAD and called with FCALL.
//!
//! Functions have an interpreter of their own, as in Redis, built like
//! EVAL's (same sandbox and `redis` API at call time). While a library's
//! code runs at load time its globals are only the load API (`redis` with
//! `register_function`, `log` and the constants): the global table's reads
//! are pointed at it for the length of the load (Redis swaps the globals'
//! `__index` between LIBRARY_API and GLOBALS_API the same way).
//!
//! Invariants: every function name is unique across libraries (`index`
//! maps it to its library); a library has at least one function; a failed
//! load, RESTORE or replace leaves the libraries as they were.

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::AtomicU64;
use std::sync::Arc;

use bytes::Bytes;
use mlua::{Function, HookTriggers, Table, Value, VmState};

use super::{new_vm, Busy, Vm, SHEBANG_FLAGS};

/// The only engine (Redis's `LUA_ENGINE_NAME`).
pub const ENGINE: &str = "LUA";
/// The chunk name of library code.
const CHUNK_NAME: &str = "@user_function";
/// FUNCTION LOAD's time limit for a library's top-level code (ms),
/// Redis's LOAD_TIMEOUT_MS.
pub const LOAD_TIMEOUT_MS: u64 = 500;
/// Library and function names.
const BAD_NAME: &str = "Library names can only contain letters, numbers, or underscores(_) and must be at least one character long";

/// One registered function.
pub struct FuncInfo {
    /// Its name, as registered (lookups ignore case, as Redis's dict).
    pub name: String,
    /// Its description, if it gave one.
    pub desc: Option<Bytes>,
    /// Script flags (`script::sflag`).
    pub flags: u32,
    /// The callback, in the interpreter's registry (a run pushes it from
    /// its slot).
    callback: mlua::RegistryKey,
}

/// One library.
pub struct Library {
    /// Its name (from `#!lua name=…`).
    pub name: String,
    /// The whole payload FUNCTION LOAD got, shebang included.
    pub code: Bytes,
    /// Its functions, by lower-cased name.
    pub functions: BTreeMap<String, FuncInfo>,
}

/// How FUNCTION RESTORE treats libraries that exist.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RestorePolicy {
    /// Keep them; a name collision aborts.
    Append,
    /// Replace a library of the same name.
    Replace,
    /// Delete every library first.
    Flush,
}

/// The libraries and their interpreter.
pub struct Functions {
    vm: Option<Vm>,
    /// The globals a library's code sees while it loads (the load API),
    /// made once per interpreter.
    env: Option<Table>,
    /// The functions a loading library registered; None outside a load
    /// (`redis.register_function` kept and called later refuses then).
    registering: Registering,
    /// Libraries by lower-cased name (Redis compares names ignoring case).
    libs: BTreeMap<String, Library>,
    /// Lower-cased function name → lower-cased library name.
    index: HashMap<String, String>,
    busy: Arc<Busy>,
    rand: Arc<AtomicU64>,
}

/// Redis's functionsVerifyName.
fn valid_name(name: &str) -> bool {
    !name.is_empty() && name.bytes().all(|c| c.is_ascii_alphanumeric() || c == b'_')
}

/// The library metadata of a payload (functionExtractLibMetaData): its
/// name, its engine, and the code after the shebang line.
fn metadata(payload: &[u8]) -> Result<(String, String), String> {
    if !payload.starts_with(b"#!") {
        return Err("Missing library metadata".into());
    }
    let Some(end) = memchr::memchr(b'\n', payload) else {
        return Err("Invalid library metadata".into());
    };
    let parts = match resp::inline::split_args(&payload[..end]) {
        Some(p) if !p.is_empty() => p,
        _ => return Err("Invalid library metadata".into()),
    };
    let engine = String::from_utf8_lossy(&parts[0][2..]).into_owned();
    let mut name = None;
    for p in &parts[1..] {
        if p.len() >= 5 && p[..5].eq_ignore_ascii_case(b"name=") {
            if name.is_some() {
                return Err(
                    "Invalid metadata value, name argument was given multiple times".into(),
                );
            }
            name = Some(String::from_utf8_lossy(&p[5..]).into_owned());
            continue;
        }
        return Err(format!(
            "Invalid metadata value given: {}",
            String::from_utf8_lossy(p)
        ));
    }
    let name = name.ok_or_else(|| "Library name was not given".to_string())?;
    Ok((name, engine))
}

type Registering = Arc<parking_lot::Mutex<Option<BTreeMap<String, FuncInfo>>>>;

/// The functions' interpreter and the load API's globals, whose
/// `register_function` adds to `registering`.
fn new_functions_vm(
    busy: &Arc<Busy>,
    rand: &Arc<AtomicU64>,
    registering: &Registering,
) -> mlua::Result<(Vm, Table)> {
    let vm = new_vm(busy, rand)?;
    let reg = registering.clone();
    let collect = vm.lua().create_function(
        move |lua,
              (name, cb, desc, flags): (
            Option<mlua::LuaString>,
            Option<Function>,
            Option<mlua::LuaString>,
            Option<Table>,
        )| {
            let mut guard = reg.lock();
            let Some(reg) = guard.as_mut() else {
                return Ok(Some(
                    "ERR redis.register_function can only be called on FUNCTION LOAD command"
                        .to_string(),
                ));
            };
            // Called with no arguments: only whether a load is on.
            let (Some(name), Some(cb)) = (name, cb) else {
                return Ok(None);
            };
            let name = String::from_utf8_lossy(&name.as_bytes()).into_owned();
            if !valid_name(&name) {
                return Ok(Some(format!("ERR {BAD_NAME}")));
            }
            let mut fl = 0;
            if let Some(t) = flags {
                for v in t.sequence_values::<mlua::LuaString>() {
                    let v = v?;
                    let s = v.as_bytes();
                    match SHEBANG_FLAGS
                        .iter()
                        .find(|(n, _)| n.as_bytes().eq_ignore_ascii_case(&s))
                    {
                        Some((_, bit)) => fl |= bit,
                        None => return Ok(Some("ERR unknown flag given".to_string())),
                    }
                }
            }
            let key = name.to_ascii_lowercase();
            if reg.contains_key(&key) {
                return Ok(Some(
                    "ERR Function already exists in the library".to_string(),
                ));
            }
            reg.insert(
                key,
                FuncInfo {
                    name,
                    desc: desc.map(|d| Bytes::copy_from_slice(&d.as_bytes())),
                    flags: fl,
                    callback: lua.create_registry_value(cb)?,
                },
            );
            Ok(None::<String>)
        },
    )?;
    let env: Table = vm.load_api.call(collect)?;
    Ok((vm, env))
}

impl Functions {
    /// No libraries; the interpreter shares EVAL's busy state and random
    /// generator.
    pub fn new(busy: Arc<Busy>, rand: Arc<AtomicU64>) -> Functions {
        let registering = Registering::default();
        let (vm, env) =
            new_functions_vm(&busy, &rand, &registering).expect("the Lua interpreter initializes");
        Functions {
            vm: Some(vm),
            env: Some(env),
            registering,
            libs: BTreeMap::new(),
            index: HashMap::new(),
            busy,
            rand,
        }
    }

    /// The libraries, by name.
    pub fn libraries(&self) -> impl Iterator<Item = &Library> {
        self.libs.values()
    }

    /// number_of_libraries.
    pub fn library_count(&self) -> usize {
        self.libs.len()
    }

    /// number_of_functions.
    pub fn function_count(&self) -> usize {
        self.index.len()
    }

    /// Whether the interpreter is in place (no run has it).
    pub fn has_vm(&self) -> bool {
        self.vm.is_some()
    }

    /// used_memory_vm_functions.
    pub fn vm_memory(&self) -> usize {
        self.vm.as_ref().map_or(0, Vm::used_memory)
    }

    /// used_memory_functions: the libraries' code and names, and the
    /// bookkeeping of each function.
    pub fn memory(&self) -> usize {
        let per_fn = std::mem::size_of::<FuncInfo>() + 64;
        self.libs
            .values()
            .map(|l| {
                l.code.len()
                    + l.name.len()
                    + std::mem::size_of::<Library>()
                    + l.functions
                        .iter()
                        .map(|(n, f)| n.len() + f.desc.as_ref().map_or(0, |d| d.len()) + per_fn)
                        .sum::<usize>()
            })
            .sum::<usize>()
            + 184
    }

    /// A function's callback and flags.
    pub fn function(&self, name: &str) -> Option<(super::Target, u32)> {
        let key = name.to_ascii_lowercase();
        let lib = self.libs.get(self.index.get(&key)?)?;
        let f = lib.functions.get(&key)?;
        Some((super::Target::Function(f.callback.id()), f.flags))
    }

    /// The interpreter, for an FCALL's run; None while a run has it.
    pub fn take_vm(&mut self) -> Option<Vm> {
        self.vm.take()
    }

    /// Give back what [`Functions::take_vm`] took.
    pub fn put_vm(&mut self, vm: Vm) {
        self.vm = Some(vm);
    }

    /// FUNCTION FLUSH: no libraries, a new interpreter. `lazy` drops the
    /// old one on another thread.
    pub fn flush(&mut self, lazy: bool) {
        let old = (
            self.vm.take(),
            std::mem::take(&mut self.libs),
            std::mem::take(&mut self.index),
        );
        let old = (old, self.env.take());
        let (vm, env) = new_functions_vm(&self.busy, &self.rand, &self.registering)
            .expect("the Lua interpreter initializes");
        self.vm = Some(vm);
        self.env = Some(env);
        if lazy {
            std::thread::spawn(move || drop(old));
        }
    }

    /// FUNCTION DELETE.
    pub fn delete(&mut self, name: &str) -> Result<(), &'static str> {
        let lib = self
            .libs
            .remove(&name.to_ascii_lowercase())
            .ok_or("ERR Library not found")?;
        for f in lib.functions.keys() {
            self.index.remove(f);
        }
        Ok(())
    }

    /// FUNCTION LOAD (functionsCreateWithLibraryCtx): compile and register
    /// a library. Returns its name, or the error text (without `ERR `).
    /// `timeout_ms` bounds the library's top-level code (0: no bound, for
    /// a master's or a file's libraries).
    pub fn load(&mut self, code: &[u8], replace: bool, timeout_ms: u64) -> Result<String, String> {
        let taken: Vec<String> = self.libs.keys().cloned().collect();
        let lib = self.compile(code, timeout_ms, |name| {
            if !replace && taken.iter().any(|n| n.eq_ignore_ascii_case(name)) {
                return Err(format!("Library '{name}' already exists"));
            }
            Ok(())
        })?;
        let key = lib.name.to_ascii_lowercase();
        for (k, f) in &lib.functions {
            if self.index.get(k).is_some_and(|l| *l != key) {
                return Err(format!("Function {} already exists", f.name));
            }
        }
        let name = lib.name.clone();
        self.link(lib);
        Ok(name)
    }

    fn link(&mut self, lib: Library) {
        let _ = self.delete(&lib.name);
        let key = lib.name.to_ascii_lowercase();
        for f in lib.functions.keys() {
            self.index.insert(f.clone(), key.clone());
        }
        self.libs.insert(key, lib);
    }

    /// Build a library from its payload: metadata, compile, run its
    /// top-level code with the load API.
    /// `admit` may refuse the library's name before any of its code runs.
    fn compile(
        &mut self,
        payload: &[u8],
        timeout_ms: u64,
        admit: impl FnOnce(&str) -> Result<(), String>,
    ) -> Result<Library, String> {
        let (name, engine) = metadata(payload)?;
        if !valid_name(&name) {
            return Err(BAD_NAME.into());
        }
        if !engine.eq_ignore_ascii_case(ENGINE) {
            return Err(format!("Engine '{engine}' not found"));
        }
        admit(&name)?;
        let vm = self.vm.as_ref().expect("the interpreter is in place");
        let end = memchr::memchr(b'\n', payload).unwrap_or(payload.len());
        let lua = vm.lua();
        let func = lua
            .load(&payload[end..])
            .set_name(CHUNK_NAME)
            .set_mode(mlua::chunk::ChunkMode::Text)
            .into_function()
            .map_err(|e| {
                let msg = match e {
                    mlua::Error::SyntaxError { message, .. } => message,
                    other => other.to_string(),
                };
                format!("Error compiling function: {msg}")
            })?;
        *self.registering.lock() = Some(BTreeMap::new());
        let timed_out = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let res: mlua::Result<(bool, Value)> = (|| {
            let env = self.env.as_ref().expect("the interpreter is in place");
            vm.set_source.call::<()>(env)?;
            if timeout_ms > 0 {
                let start = std::time::Instant::now();
                let flag = timed_out.clone();
                lua.set_hook(
                    HookTriggers::new().every_nth_instruction(100_000),
                    move |_, _| {
                        if start.elapsed().as_millis() as u64 > timeout_ms {
                            flag.store(true, std::sync::atomic::Ordering::Relaxed);
                            return Err(mlua::Error::runtime("FUNCTION LOAD timeout"));
                        }
                        Ok(VmState::Continue)
                    },
                )?;
            }
            let r = vm.loader.call::<(bool, Value)>(func);
            if timeout_ms > 0 {
                super::install_hook(lua, &self.busy, vm.ctx())?;
            }
            vm.set_source.call::<()>(Value::Nil)?;
            r
        })();
        let registered = self.registering.lock().take().unwrap_or_default();
        let (ok, err) = res.map_err(|e| format!("Error registering functions: ERR {e}"))?;
        if timed_out.load(std::sync::atomic::Ordering::Relaxed) {
            return Err("Error registering functions: ERR FUNCTION LOAD timeout".into());
        }
        if !ok {
            return Err(format!("Error registering functions: {}", error_text(&err)));
        }
        let functions = registered;
        if functions.is_empty() {
            return Err("No functions registered".into());
        }
        Ok(Library {
            name,
            code: Bytes::copy_from_slice(payload),
            functions,
        })
    }

    /// FUNCTION DUMP: every library as an RDB FUNCTION2 record, then the
    /// RDB version and a CRC-64 (a DUMP payload's trailer).
    pub fn dump(&self) -> Vec<u8> {
        rdb::dump_functions(self.libs.values().map(|l| &l.code[..]), 10)
    }

    /// FUNCTION RESTORE: the libraries of a DUMP payload, joined to ours
    /// by `policy`. Errors are reply texts (with their code).
    pub fn restore(&mut self, payload: &[u8], policy: RestorePolicy) -> Result<(), String> {
        let codes = rdb::restore_functions(payload).map_err(|e| format!("ERR {e}"))?;
        // Build the new libraries aside first: nothing changes on error.
        let mut fresh: Vec<Library> = Vec::new();
        for code in codes {
            let lib = self
                .compile(&code, 0, |_| Ok(()))
                .map_err(|e| format!("ERR {e}"))?;
            if fresh.iter().any(|l| l.name.eq_ignore_ascii_case(&lib.name)) {
                return Err(format!("ERR Library '{}' already exists", lib.name));
            }
            fresh.push(lib);
        }
        if policy == RestorePolicy::Flush {
            self.libs.clear();
            self.index.clear();
        }
        // libraryJoin: existing names collide unless replacing; then no
        // function may collide with a library that stays.
        let replaced: Vec<String> = fresh
            .iter()
            .map(|l| l.name.to_ascii_lowercase())
            .filter(|k| self.libs.contains_key(k))
            .collect();
        if policy == RestorePolicy::Append {
            if let Some(k) = replaced.first() {
                let n = self.libs.get(k).map_or(k.as_str(), |l| l.name.as_str());
                return Err(format!("ERR Library {n} already exists"));
            }
        }
        for lib in &fresh {
            for (k, f) in &lib.functions {
                if let Some(owner) = self.index.get(k) {
                    if !replaced.contains(owner) {
                        return Err(format!("ERR Function {} already exists", f.name));
                    }
                }
            }
        }
        for lib in fresh {
            self.link(lib);
        }
        Ok(())
    }
}

/// The text of an error a library's load raised (luaExtractErrorInformation):
/// a string is prefixed `ERR `, an error table gives its `err`.
fn error_text(v: &Value) -> String {
    match v {
        Value::String(s) => format!("ERR {}", String::from_utf8_lossy(&s.as_bytes())),
        Value::Table(t) => match t.raw_get::<Value>("err") {
            Ok(Value::String(s)) => String::from_utf8_lossy(&s.as_bytes()).into_owned(),
            _ => "ERR (null)".into(),
        },
        Value::Error(e) => format!("ERR {e}"),
        _ => "ERR (null)".into(),
    }
}
