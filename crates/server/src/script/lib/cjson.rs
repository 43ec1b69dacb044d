//! The `cjson` library of Redis's Lua: lua-cjson 2.1.0 as Redis 7.0 builds it
//! (`deps/lua/src/lua_cjson.c`, `fpconv.c`, `strbuf.c`).
//!
//! # The module table
//!
//! `encode`, `decode`, the option functions `encode_sparse_array`,
//! `encode_max_depth`, `decode_max_depth`, `encode_number_precision`,
//! `encode_keep_buffer`, `encode_invalid_numbers`, `decode_invalid_numbers`,
//! `new` (a fresh module table with its own options: Redis loads `cjson`, not
//! `cjson.safe`, so `new` is there), `null` (a NULL light userdata, what
//! `decode` gives for JSON `null`), `_NAME` = `"cjson"`, `_VERSION` =
//! `"2.1.0"`. They are set in the C code's order, so the table iterates as
//! Redis's does. The options belong to the table (and survive between
//! scripts, as in Redis, until the interpreter is rebuilt).
//!
//! # Encoding
//!
//! - Numbers: `%.14g` (the precision is `encode_number_precision`, 1..14);
//!   NaN and the infinities are refused (`Cannot serialise number: must not
//!   be NaN or Inf`) unless `encode_invalid_numbers` is `true` (`nan`, `inf`,
//!   `-inf`) or `"null"` (`null`).
//! - Strings: bytes as they are, except `"`, `\`, `/` (as `\/`), the control
//!   characters (`\b \t \n \f \r`, others `\u00XX`) and DEL (`\u007f`).
//! - `nil` and `cjson.null` give `null`; functions, threads and other userdata
//!   `Cannot serialise <type>: type not supported`.
//! - A table whose keys are all positive integers is an array up to its
//!   highest key, holes as `null`, unless it is *excessively sparse*: highest
//!   key > ratio × number of keys and > safe (defaults 2 and 10), which is an
//!   error (`Cannot serialise table: excessively sparse array`) or, with
//!   `encode_sparse_array(true)`, an object. Any other table (also `{}`) is
//!   an object, in the order `lua_next` gives (Redis's order too: both run
//!   Lua 5.1.5's tables, and the tests check multi-key objects against
//!   redis-server); number keys are written as strings (`{"1.5":..}`), other
//!   key types are refused (`Cannot serialise <type>: table key must be a
//!   number or string`). Tables are read raw: metatables play no part.
//! - Nesting beyond `encode_max_depth` (1000) is `Cannot serialise,
//!   excessive nesting (N)`. Redis also stops where Lua's C stack would
//!   overflow (`lua_checkstack` refuses past 8000 slots): at depth 4000 for
//!   objects and 7998 for arrays when the option is raised; so do we.
//!
//! # Decoding
//!
//! - Errors read `Expected <what> but found <token> at character N` (1-based;
//!   tokens are named `T_ARR_END`, `T_END`, ... or are the lexer's complaint:
//!   `invalid token`, `invalid number`, `invalid escape code`, `invalid
//!   unicode escape code`, `unexpected end of string`).
//! - Numbers are read with C's `strtod`, so with `decode_invalid_numbers`
//!   (on by default) `+1`, `0x1F`, `0x1p3`, `01`, `inf`, `-Infinity`, `nan`
//!   are accepted; with it off, they are `invalid number` or `invalid token`.
//! - `\uXXXX` escapes become UTF-8; a high surrogate must be followed by a
//!   `\u` low surrogate, a lone low surrogate is an error. Other bytes, invalid
//!   UTF-8 included, are kept as they are.
//! - The text ends at its first NUL byte, as the C string it is; a NUL in one
//!   of its first two bytes is refused as UTF-16/UTF-32.
//! - Nesting beyond `decode_max_depth` (1000) is `Found too many nested data
//!   structures (N) at character M`; again Redis's Lua stack limit applies
//!   past it (depth 4000 for objects, 7999 for arrays).
//!
//! # Errors and arguments
//!
//! Errors are Lua strings raised as `luaL_error`/`luaL_argerror` raise them
//! (see [`super::clib`]), with lua-cjson's argument checks: `expected 1
//! argument`, `found too many arguments`, `expected integer between A and
//! B` (always reported as argument #1, as lua-cjson does), `invalid option
//! 'x'`.
//!
//! # Bounded work
//!
//! Encoding and decoding loop over explicit stacks instead of recursing, and
//! keep the tables of enclosing levels (and the child tables of an object
//! being written) in a scratch Lua table rather than as Rust references
//! (mlua can hold only about 8000 of those at once), so neither the native
//! stack nor mlua's reference stack grows with the input. An object's
//! entries are read once into Rust (strings copied) before it is written;
//! an array's elements are read one at a time, as lua-cjson does.

use std::sync::{Arc, Mutex, MutexGuard};

use mlua::{Lua, Table, Value};

use crate::util::num::{fmt_g, strtod};

use super::clib::{
    c_f64_to_i32, c_function, lua_type_name, scratch_table, Args, Failure, Outcome, Ret, Returns,
    MAX_C_STACK,
};

/// `_NAME`.
const MODULE_NAME: &str = "cjson";
/// `_VERSION`.
const MODULE_VERSION: &str = "2.1.0";

/// The options of one module table (lua-cjson's `json_config_t`), with
/// lua-cjson's defaults.
#[derive(Clone, Copy, Debug)]
struct Config {
    /// 1: encode excessively sparse arrays as objects; 0: refuse them.
    encode_sparse_convert: i32,
    /// 0: never sparse; else sparse when max key > ratio × keys.
    encode_sparse_ratio: i32,
    /// Arrays whose max key is at most this are never sparse.
    encode_sparse_safe: i32,
    encode_max_depth: i32,
    decode_max_depth: i32,
    /// 0: refuse NaN/Inf; 1: write `nan`/`inf`; 2: write `null`.
    encode_invalid_numbers: i32,
    /// Significant digits of `%.Ng`, 1..=14.
    encode_number_precision: i32,
    /// Whether lua-cjson keeps its encode buffer between calls; only its
    /// getter/setter is observable.
    encode_keep_buffer: i32,
    /// 1: accept what `strtod` accepts beyond JSON (hex, inf, nan, `+`, ...).
    decode_invalid_numbers: i32,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            encode_sparse_convert: 0,
            encode_sparse_ratio: 2,
            encode_sparse_safe: 10,
            encode_max_depth: 1000,
            decode_max_depth: 1000,
            encode_invalid_numbers: 0,
            encode_number_precision: 14,
            encode_keep_buffer: 1,
            decode_invalid_numbers: 1,
        }
    }
}

/// Picks one option out of the options.
type OptionField = fn(&mut Config) -> &mut i32;

/// The options shared by the functions of one module table.
type SharedConfig = Arc<Mutex<Config>>;

fn lock(config: &SharedConfig) -> MutexGuard<'_, Config> {
    // Nothing panics while holding the lock, so it is never poisoned; if it
    // were, the options inside are still whole (plain integers).
    config
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Builds the `cjson` table (Redis installs it as the global `cjson`).
pub(super) fn open(lua: &Lua) -> mlua::Result<Table> {
    new_module(lua)
}

/// lua-cjson's `lua_cjson_new`: a module table with its own options.
fn new_module(lua: &Lua) -> mlua::Result<Table> {
    let config: SharedConfig = Arc::new(Mutex::new(Config::default()));
    let module = lua.create_table()?;
    let add = |name: &str, function: mlua::Function| module.raw_set(name, function);

    add(
        "encode",
        c_function_with(lua, &config, |lua, args, config| {
            one_argument(args)?;
            let json = Encoder::new(lua, *lock(config)).encode(args.get(1)?)?;
            Ok(lua.create_string(json)?)
        })?,
    )?;
    add(
        "decode",
        c_function_with(lua, &config, |lua, args, config| {
            one_argument(args)?;
            let text = args.check_string(1)?;
            Decoder::new(lua, *lock(config), &text.as_bytes()).decode()
        })?,
    )?;
    add(
        "encode_sparse_array",
        c_function_with(lua, &config, |lua, args, config| {
            check_option_count(args, 3)?;
            let mut config = lock(config);
            let convert = enum_option(
                lua,
                args,
                1,
                &mut config.encode_sparse_convert,
                BOOL_OPTIONS,
            )?;
            let ratio = integer_option(args, 2, &mut config.encode_sparse_ratio, 0, i32::MAX)?;
            let safe = integer_option(args, 3, &mut config.encode_sparse_safe, 0, i32::MAX)?;
            let results =
                lua.create_sequence_from([convert, Value::Number(ratio), Value::Number(safe)])?;
            Ok(Ret::Many(results, 3))
        })?,
    )?;
    let integer_options: [(&str, OptionField, i32, i32); 3] = [
        ("encode_max_depth", |c| &mut c.encode_max_depth, 1, i32::MAX),
        ("decode_max_depth", |c| &mut c.decode_max_depth, 1, i32::MAX),
        (
            "encode_number_precision",
            |c| &mut c.encode_number_precision,
            1,
            14,
        ),
    ];
    for (name, field, min, max) in integer_options {
        add(
            name,
            c_function_with(lua, &config, move |_, args, config| {
                check_option_count(args, 1)?;
                integer_option(args, 1, field(&mut lock(config)), min, max)
            })?,
        )?;
    }
    let enum_options: [(&str, OptionField, &[&str]); 3] = [
        (
            "encode_keep_buffer",
            |c| &mut c.encode_keep_buffer,
            BOOL_OPTIONS,
        ),
        (
            "encode_invalid_numbers",
            |c| &mut c.encode_invalid_numbers,
            &["off", "on", "null"],
        ),
        (
            "decode_invalid_numbers",
            |c| &mut c.decode_invalid_numbers,
            BOOL_OPTIONS,
        ),
    ];
    for (name, field, options) in enum_options {
        add(
            name,
            c_function_with(lua, &config, move |lua, args, config| {
                check_option_count(args, 1)?;
                enum_option(lua, args, 1, field(&mut lock(config)), options)
            })?,
        )?;
    }
    add("new", c_function(lua, |lua, _| Ok(new_module(lua)?))?)?;
    module.raw_set("null", Value::NULL)?;
    module.raw_set("_NAME", MODULE_NAME)?;
    module.raw_set("_VERSION", MODULE_VERSION)?;
    Ok(module)
}

/// A library function of the module whose options are `config`.
fn c_function_with<F, R>(lua: &Lua, config: &SharedConfig, body: F) -> mlua::Result<mlua::Function>
where
    F: Fn(&Lua, &Args, &SharedConfig) -> Outcome<R> + Send + 'static,
    R: Returns,
{
    let config = config.clone();
    c_function(lua, move |lua, args| body(lua, args, &config))
}

// ---- options ---------------------------------------------------------------

/// lua-cjson's boolean options, which also take `"off"`/`"on"`.
const BOOL_OPTIONS: &[&str] = &["off", "on"];

/// `luaL_argcheck(l, lua_gettop(l) == 1, 1, "expected 1 argument")`, as
/// `encode` and `decode` check their arguments.
fn one_argument(args: &Args) -> Outcome<()> {
    if args.count() != 1 {
        return Err(Failure::arg(1, "expected 1 argument"));
    }
    Ok(())
}

/// `json_arg_init`: at most `n` arguments (the missing ones read as nil).
fn check_option_count(args: &Args, n: usize) -> Outcome<()> {
    if args.count() > n {
        return Err(Failure::arg(n as i32 + 1, "found too many arguments"));
    }
    Ok(())
}

/// `json_integer_option`: sets `setting` from argument `arg` unless it is
/// nil, and returns it. The value is stored in a C `int` (so it wraps), and
/// a value out of range is reported as argument #1 whatever its position,
/// as in lua-cjson.
fn integer_option(args: &Args, arg: usize, setting: &mut i32, min: i32, max: i32) -> Outcome<f64> {
    if !args.get(arg)?.is_nil() {
        let n = args.check_integer(arg)? as i32;
        if !(min <= n && n <= max) {
            return Err(Failure::arg(
                1,
                format!("expected integer between {min} and {max}"),
            ));
        }
        *setting = n;
    }
    Ok(f64::from(*setting))
}

/// `json_enum_option`: sets `setting` from argument `arg`, a boolean, or
/// one of `options` by name (`luaL_checkoption`, which compares C strings,
/// so up to a NUL byte). Returns the setting as a boolean when it is 0 or
/// 1, else by its name.
fn enum_option(
    lua: &Lua,
    args: &Args,
    arg: usize,
    setting: &mut i32,
    options: &[&str],
) -> Outcome<Value> {
    match args.get(arg)? {
        Value::Nil => {}
        Value::Boolean(b) => *setting = i32::from(b),
        _ => {
            let name = args.check_string(arg)?;
            let name = name.as_bytes();
            let name = name.split(|&b| b == 0).next().unwrap_or_default();
            match options.iter().position(|o| o.as_bytes() == name) {
                Some(index) => *setting = index as i32,
                None => {
                    let mut message = b"invalid option '".to_vec();
                    message.extend_from_slice(name);
                    message.push(b'\'');
                    return Err(Failure::arg(arg as i32, message));
                }
            }
        }
    }
    Ok(match *setting {
        0 | 1 => Value::Boolean(*setting == 1),
        n => {
            let name = options.get(n as usize).copied().unwrap_or_default();
            Value::String(lua.create_string(name)?)
        }
    })
}

// ---- nesting -----------------------------------------------------------------

/// An open array or object of the encoder or the decoder.
trait Level {
    /// Whether it is an object (else an array).
    fn is_object(&self) -> bool;
}

/// The open arrays and objects of one `encode` or `decode`, innermost last,
/// and the Lua-stack slots lua-cjson's C function holds for them while it
/// works on a deeper level: one for an array (the encoder's element, the
/// decoder's table), two for an object (the key and value; the table and
/// the pending key).
struct Levels<L> {
    open: Vec<L>,
    slots: i64,
}

impl<L: Level> Levels<L> {
    fn new() -> Self {
        Levels {
            open: Vec::new(),
            slots: 0,
        }
    }

    fn len(&self) -> usize {
        self.open.len()
    }

    fn last_mut(&mut self) -> Option<&mut L> {
        self.open.last_mut()
    }

    fn push(&mut self, level: L) {
        self.slots += if level.is_object() { 2 } else { 1 };
        self.open.push(level);
    }

    fn pop(&mut self) -> Option<L> {
        let level = self.open.pop()?;
        self.slots -= if level.is_object() { 2 } else { 1 };
        Some(level)
    }

    /// The depth of a new level when it is one too many: deeper than
    /// `max_depth`, or past Lua's C-stack limit, where the C function's
    /// frame (its argument and the open levels' slots) cannot get the
    /// `extra` slots it asks `lua_checkstack` for.
    fn too_deep(&self, max_depth: i32, extra: i64) -> Option<i64> {
        let depth = self.open.len() as i64 + 1;
        let stack_full = 1 + self.slots + extra > MAX_C_STACK as i64;
        (depth > i64::from(max_depth) || stack_full).then_some(depth)
    }
}

// ---- encoding --------------------------------------------------------------

/// Appends `byte` as lua-cjson writes it inside a JSON string: `"`, `\`
/// and `/` escaped with a backslash, the control characters as `\b \t \n
/// \f \r` or `\u00xx` (lower-case hex), DEL as `\u007f`, every other byte
/// (UTF-8 or not) as itself.
fn push_escaped(out: &mut Vec<u8>, byte: u8) {
    let short: &[u8] = match byte {
        b'"' => b"\\\"",
        b'\\' => b"\\\\",
        b'/' => b"\\/",
        0x08 => b"\\b",
        b'\t' => b"\\t",
        b'\n' => b"\\n",
        0x0c => b"\\f",
        b'\r' => b"\\r",
        0x00..=0x1f | 0x7f => {
            const HEX: &[u8; 16] = b"0123456789abcdef";
            out.extend_from_slice(b"\\u00");
            out.push(HEX[usize::from(byte >> 4)]);
            out.push(HEX[usize::from(byte & 15)]);
            return;
        }
        _ => {
            out.push(byte);
            return;
        }
    };
    out.extend_from_slice(short);
}

/// A table key, as the encoder needs it.
enum Key {
    Number(f64),
    String(Vec<u8>),
    /// Any other type: refused when its turn comes.
    Unsupported(&'static str),
}

/// A value met in a table or at the top, as the encoder needs it.
enum Item {
    String(Vec<u8>),
    Number(f64),
    Boolean(bool),
    /// `nil` or `cjson.null`.
    Null,
    /// A table in hand.
    Table(Table),
    /// A table kept in the encoder's `pending` table at this slot.
    Stashed(i64),
    /// A type JSON has no place for: refused when its turn comes.
    Unsupported(&'static str),
}

/// An open table of the encoder.
enum EncodeFrame {
    /// An array being written, element `next` of `length` next.
    Array {
        /// Where the table is kept in `pending`.
        slot: i64,
        /// The table itself, while no deeper table is being written.
        table: Option<Table>,
        length: i32,
        next: i32,
    },
    /// An object being written: the entries left.
    Object {
        entries: std::vec::IntoIter<(Key, Item)>,
        first: bool,
    },
}

impl Level for EncodeFrame {
    fn is_object(&self) -> bool {
        matches!(self, EncodeFrame::Object { .. })
    }
}

/// One `cjson.encode` call.
struct Encoder<'lua> {
    lua: &'lua Lua,
    config: Config,
    out: Vec<u8>,
    frames: Levels<EncodeFrame>,
    /// Tables waiting their turn, by slot (created on first use).
    pending: Option<Table>,
    next_slot: i64,
}

impl<'lua> Encoder<'lua> {
    fn new(lua: &'lua Lua, config: Config) -> Self {
        Encoder {
            lua,
            config,
            out: Vec::new(),
            frames: Levels::new(),
            pending: None,
            next_slot: 0,
        }
    }

    fn encode(mut self, value: Value) -> Outcome<Vec<u8>> {
        let item = self.item(value, false)?;
        self.write_item(item)?;
        while let Some(frame) = self.frames.last_mut() {
            match frame {
                EncodeFrame::Array {
                    slot,
                    table,
                    length,
                    next,
                } => {
                    if *next > *length {
                        self.out.push(b']');
                        let slot = *slot;
                        self.frames.pop();
                        self.unstash(slot)?;
                        continue;
                    }
                    if *next > 1 {
                        self.out.push(b',');
                    }
                    let index = *next;
                    *next += 1;
                    let table = match table {
                        Some(t) => t.clone(),
                        None => {
                            let Some(pending) = &self.pending else {
                                return Err(Failure::error("cjson: lost a pending table"));
                            };
                            let t: Table = pending.raw_get(*slot)?;
                            *table = Some(t.clone());
                            t
                        }
                    };
                    let value = table.raw_get::<Value>(index)?;
                    let item = self.item(value, false)?;
                    self.write_item(item)?;
                }
                EncodeFrame::Object { entries, first } => {
                    let Some((key, item)) = entries.next() else {
                        self.out.push(b'}');
                        self.frames.pop();
                        continue;
                    };
                    if !*first {
                        self.out.push(b',');
                    }
                    *first = false;
                    self.write_key(key)?;
                    self.write_item(item)?;
                }
            }
        }
        Ok(self.out)
    }

    /// The encoder's view of a value; with `stash`, tables are put aside in
    /// `pending` so that Rust holds no reference to them.
    fn item(&mut self, value: Value, stash: bool) -> Outcome<Item> {
        Ok(match value {
            Value::String(s) => Item::String(s.as_bytes().to_vec()),
            Value::Integer(i) => Item::Number(i as f64),
            Value::Number(n) => Item::Number(n),
            Value::Boolean(b) => Item::Boolean(b),
            Value::Nil => Item::Null,
            Value::LightUserData(p) if p.0.is_null() => Item::Null,
            Value::Table(t) if stash => Item::Stashed(self.stash(t)?),
            Value::Table(t) => Item::Table(t),
            other => Item::Unsupported(lua_type_name(&other)),
        })
    }

    fn pending(&mut self) -> Outcome<Table> {
        Ok(scratch_table(self.lua, &mut self.pending)?)
    }

    fn stash(&mut self, table: Table) -> Outcome<i64> {
        self.next_slot += 1;
        self.pending()?.raw_set(self.next_slot, table)?;
        Ok(self.next_slot)
    }

    fn stashed(&mut self, slot: i64) -> Outcome<Table> {
        Ok(self.pending()?.raw_get(slot)?)
    }

    fn unstash(&mut self, slot: i64) -> Outcome<()> {
        Ok(self.pending()?.raw_set(slot, Value::Nil)?)
    }

    fn write_item(&mut self, item: Item) -> Outcome<()> {
        match item {
            Item::String(s) => self.write_string(&s),
            Item::Number(n) => self.write_number(n)?,
            Item::Boolean(true) => self.out.extend_from_slice(b"true"),
            Item::Boolean(false) => self.out.extend_from_slice(b"false"),
            Item::Null => self.out.extend_from_slice(b"null"),
            Item::Table(t) => self.open_table(t, None)?,
            Item::Stashed(slot) => {
                let t = self.stashed(slot)?;
                self.open_table(t, Some(slot))?;
            }
            Item::Unsupported(type_name) => {
                return Err(Failure::error(format!(
                    "Cannot serialise {type_name}: type not supported"
                )));
            }
        }
        Ok(())
    }

    fn write_key(&mut self, key: Key) -> Outcome<()> {
        match key {
            Key::Number(n) => {
                self.out.push(b'"');
                self.write_number(n)?;
                self.out.extend_from_slice(b"\":");
            }
            Key::String(s) => {
                self.write_string(&s);
                self.out.push(b':');
            }
            Key::Unsupported(type_name) => {
                return Err(Failure::error(format!(
                    "Cannot serialise {type_name}: table key must be a number or string"
                )));
            }
        }
        Ok(())
    }

    fn write_string(&mut self, s: &[u8]) {
        self.out.reserve(s.len() + 2);
        self.out.push(b'"');
        for &byte in s {
            push_escaped(&mut self.out, byte);
        }
        self.out.push(b'"');
    }

    fn write_number(&mut self, n: f64) -> Outcome<()> {
        match self.config.encode_invalid_numbers {
            0 if !n.is_finite() => {
                return Err(Failure::error(
                    "Cannot serialise number: must not be NaN or Inf",
                ));
            }
            // Written apart because some C libraries print "-nan".
            1 if n.is_nan() => {
                self.out.extend_from_slice(b"nan");
                return Ok(());
            }
            2 if !n.is_finite() => {
                self.out.extend_from_slice(b"null");
                return Ok(());
            }
            _ => {}
        }
        let precision = self.config.encode_number_precision.clamp(1, 14) as usize;
        self.out.extend_from_slice(fmt_g(n, precision).as_bytes());
        Ok(())
    }

    /// Starts writing a table one level deeper (`json_append_data`'s table
    /// case): the depth checks, then array or object.
    fn open_table(&mut self, table: Table, slot: Option<i64>) -> Outcome<()> {
        // The C encoder asks lua_checkstack for 3 slots.
        if let Some(depth) = self.frames.too_deep(self.config.encode_max_depth, 3) {
            return Err(Failure::error(format!(
                "Cannot serialise, excessive nesting ({depth})"
            )));
        }
        let length = self.array_length(&table)?;
        // The enclosing array lets go of its table while this one is written.
        if let Some(EncodeFrame::Array { table: parent, .. }) = self.frames.last_mut() {
            *parent = None;
        }
        let frame = if length > 0 {
            self.out.push(b'[');
            let slot = match slot {
                Some(slot) => slot,
                None => self.stash(table.clone())?,
            };
            EncodeFrame::Array {
                slot,
                table: Some(table),
                length,
                next: 1,
            }
        } else {
            self.out.push(b'{');
            if let Some(slot) = slot {
                self.unstash(slot)?;
            }
            let mut entries = Vec::new();
            for pair in table.pairs::<Value, Value>() {
                let (key, value) = pair?;
                let key = match key {
                    Value::Integer(i) => Key::Number(i as f64),
                    Value::Number(n) => Key::Number(n),
                    Value::String(s) => Key::String(s.as_bytes().to_vec()),
                    other => Key::Unsupported(lua_type_name(&other)),
                };
                entries.push((key, self.item(value, true)?));
            }
            EncodeFrame::Object {
                entries: entries.into_iter(),
                first: true,
            }
        };
        self.frames.push(frame);
        Ok(())
    }

    /// `lua_array_length`: the highest key if every key is a positive
    /// integer, else 0 (an object); excessively sparse arrays are an error
    /// or an object. `max` and the product are C `int`s, with C's
    /// conversions (a key past 2^31 - 1 makes `max` negative: an object).
    fn array_length(&self, table: &Table) -> Outcome<i32> {
        let mut max: i32 = 0;
        let mut items: i32 = 0;
        for pair in table.pairs::<Value, Value>() {
            let (key, _) = pair?;
            let k = match key {
                Value::Integer(i) => i as f64,
                Value::Number(n) => n,
                _ => return Ok(0),
            };
            if k == 0.0 || !(k.floor() == k && k >= 1.0) {
                return Ok(0);
            }
            if k > f64::from(max) {
                max = c_f64_to_i32(k);
            }
            items = items.wrapping_add(1);
        }
        let config = &self.config;
        if config.encode_sparse_ratio > 0
            && max > items.wrapping_mul(config.encode_sparse_ratio)
            && max > config.encode_sparse_safe
        {
            if config.encode_sparse_convert == 0 {
                return Err(Failure::error(
                    "Cannot serialise table: excessively sparse array",
                ));
            }
            return Ok(0);
        }
        Ok(max)
    }
}

// ---- decoding --------------------------------------------------------------

/// A token of the JSON text (lua-cjson's `json_token_type_t`).
#[derive(Clone, Copy, Debug, PartialEq)]
enum Token {
    ObjectBegin,
    ObjectEnd,
    ArrayBegin,
    ArrayEnd,
    /// Its text is in the decoder's `string`.
    String,
    Number(f64),
    Boolean(bool),
    Null,
    Colon,
    Comma,
    End,
    /// The lexer's complaint.
    Error(&'static str),
}

impl Token {
    /// How error messages name the token.
    fn name(&self) -> &'static str {
        match self {
            Token::ObjectBegin => "T_OBJ_BEGIN",
            Token::ObjectEnd => "T_OBJ_END",
            Token::ArrayBegin => "T_ARR_BEGIN",
            Token::ArrayEnd => "T_ARR_END",
            Token::String => "T_STRING",
            Token::Number(_) => "T_NUMBER",
            Token::Boolean(_) => "T_BOOLEAN",
            Token::Null => "T_NULL",
            Token::Colon => "T_COLON",
            Token::Comma => "T_COMMA",
            Token::End => "T_END",
            Token::Error(what) => what,
        }
    }
}

/// A token and the 0-based offset it was found at.
#[derive(Clone, Copy, Debug)]
struct Lexeme {
    token: Token,
    index: usize,
}

/// An open array or object of the decoder.
struct DecodeFrame {
    /// The table being filled, while no deeper one is open (otherwise it is
    /// kept in the decoder's `parents`).
    table: Option<Table>,
    kind: DecodeKind,
}

enum DecodeKind {
    /// The index the next element goes to.
    Array { next_index: i64 },
    /// The key whose value is being read.
    Object { key: Vec<u8> },
}

impl Level for DecodeFrame {
    fn is_object(&self) -> bool {
        matches!(self.kind, DecodeKind::Object { .. })
    }
}

/// One `cjson.decode` call.
struct Decoder<'a> {
    lua: &'a Lua,
    config: Config,
    json: &'a [u8],
    pos: usize,
    /// The text of the last string token.
    string: Vec<u8>,
    frames: Levels<DecodeFrame>,
    /// Tables of the enclosing open levels, by depth (created on first use).
    parents: Option<Table>,
}

impl<'a> Decoder<'a> {
    fn new(lua: &'a Lua, config: Config, json: &'a [u8]) -> Self {
        Decoder {
            lua,
            config,
            json,
            pos: 0,
            string: Vec::new(),
            frames: Levels::new(),
            parents: None,
        }
    }

    fn decode(mut self) -> Outcome<Value> {
        // JSON text starts with an ASCII character, so a NUL in either of
        // the first two bytes means a wider encoding (RFC 4627).
        if self.json.len() >= 2 && (self.byte(0) == 0 || self.byte(1) == 0) {
            return Err(Failure::error(
                "JSON parser does not support UTF-16 or UTF-32",
            ));
        }
        let first = self.next_token();
        let value = self.parse_value(first)?;
        let last = self.next_token();
        if last.token != Token::End {
            return Err(parse_error("the end", last));
        }
        Ok(value)
    }

    /// The byte at `i`, or NUL past the end (the C string's terminator).
    fn byte(&self, i: usize) -> u8 {
        self.json.get(i).copied().unwrap_or(0)
    }

    fn starts_with(&self, word: &[u8]) -> bool {
        self.json
            .get(self.pos..)
            .is_some_and(|rest| rest.starts_with(word))
    }

    /// Reads one value starting with `lexeme`, arrays and objects whole.
    fn parse_value(&mut self, mut lexeme: Lexeme) -> Outcome<Value> {
        'value: loop {
            let mut value = match lexeme.token {
                Token::String => Value::String(self.lua.create_string(&self.string)?),
                Token::Number(n) => Value::Number(n),
                Token::Boolean(b) => Value::Boolean(b),
                Token::Null => Value::NULL,
                Token::ObjectBegin | Token::ArrayBegin => {
                    let object = lexeme.token == Token::ObjectBegin;
                    // lua_checkstack(3) for an object, (2) for an array.
                    self.descend(if object { 3 } else { 2 })?;
                    let table = self.lua.create_table()?;
                    lexeme = self.next_token();
                    let end = if object {
                        Token::ObjectEnd
                    } else {
                        Token::ArrayEnd
                    };
                    if lexeme.token == end {
                        Value::Table(table)
                    } else if object {
                        self.open(table, DecodeKind::Object { key: Vec::new() })?;
                        lexeme = self.object_key(lexeme)?;
                        continue 'value;
                    } else {
                        self.open(table, DecodeKind::Array { next_index: 1 })?;
                        continue 'value;
                    }
                }
                _ => return Err(parse_error("value", lexeme)),
            };
            // Store the value in the open container, closing those that end.
            loop {
                let Some(frame) = self.frames.last_mut() else {
                    return Ok(value);
                };
                let Some(table) = frame.table.clone() else {
                    return Err(Failure::error("cjson: lost an open table"));
                };
                let is_array = match &mut frame.kind {
                    DecodeKind::Array { next_index } => {
                        table.raw_set(*next_index, value)?;
                        *next_index += 1;
                        true
                    }
                    DecodeKind::Object { key } => {
                        table.raw_set(self.lua.create_string(&*key)?, value)?;
                        false
                    }
                };
                lexeme = self.next_token();
                match (is_array, lexeme.token) {
                    (true, Token::ArrayEnd) | (false, Token::ObjectEnd) => {
                        value = Value::Table(self.close()?);
                    }
                    (true, Token::Comma) => {
                        lexeme = self.next_token();
                        continue 'value;
                    }
                    (false, Token::Comma) => {
                        let next = self.next_token();
                        lexeme = self.object_key(next)?;
                        continue 'value;
                    }
                    (true, _) => return Err(parse_error("comma or array end", lexeme)),
                    (false, _) => return Err(parse_error("comma or object end", lexeme)),
                }
            }
        }
    }

    /// In an object, `lexeme` must be a key string followed by a colon;
    /// returns the token after the colon (the value's first).
    fn object_key(&mut self, lexeme: Lexeme) -> Outcome<Lexeme> {
        if lexeme.token != Token::String {
            return Err(parse_error("object key string", lexeme));
        }
        if let Some(DecodeFrame {
            kind: DecodeKind::Object { key },
            ..
        }) = self.frames.last_mut()
        {
            key.clear();
            key.extend_from_slice(&self.string);
        }
        let colon = self.next_token();
        if colon.token != Token::Colon {
            return Err(parse_error("colon", colon));
        }
        Ok(self.next_token())
    }

    /// `json_decode_descend`: one level deeper, within `decode_max_depth`
    /// and the Lua stack (`lua_checkstack(slots)` in the C decoder's frame,
    /// which holds the text argument and what each open level keeps).
    fn descend(&mut self, slots: i64) -> Outcome<()> {
        if let Some(depth) = self.frames.too_deep(self.config.decode_max_depth, slots) {
            return Err(Failure::error(format!(
                "Found too many nested data structures ({depth}) at character {}",
                self.pos
            )));
        }
        Ok(())
    }

    fn parents(&mut self) -> Outcome<Table> {
        Ok(scratch_table(self.lua, &mut self.parents)?)
    }

    /// Opens a container inside the current one.
    fn open(&mut self, table: Table, kind: DecodeKind) -> Outcome<()> {
        let depth = self.frames.len();
        let parent = self.frames.last_mut().and_then(|f| f.table.take());
        if let Some(parent) = parent {
            self.parents()?.raw_set(depth as i64, parent)?;
        }
        self.frames.push(DecodeFrame {
            table: Some(table),
            kind,
        });
        Ok(())
    }

    /// Closes the current container and returns its table.
    fn close(&mut self) -> Outcome<Table> {
        let Some(frame) = self.frames.pop() else {
            return Err(Failure::error("cjson: closed a table that was not open"));
        };
        let depth = self.frames.len() as i64;
        if depth > 0 {
            let parents = self.parents()?;
            let parent: Table = parents.raw_get(depth)?;
            parents.raw_set(depth, Value::Nil)?;
            if let Some(f) = self.frames.last_mut() {
                f.table = Some(parent);
            }
        }
        frame
            .table
            .ok_or_else(|| Failure::error("cjson: lost an open table"))
    }

    /// `json_next_token`.
    fn next_token(&mut self) -> Lexeme {
        while matches!(self.byte(self.pos), b' ' | b'\t' | b'\n' | b'\r') {
            self.pos += 1;
        }
        let index = self.pos;
        let single = |token| Lexeme { token, index };
        let ch = self.byte(self.pos);
        let token = match ch {
            b'{' => Token::ObjectBegin,
            b'}' => Token::ObjectEnd,
            b'[' => Token::ArrayBegin,
            b']' => Token::ArrayEnd,
            b',' => Token::Comma,
            b':' => Token::Colon,
            0 => return single(Token::End),
            b'"' => return self.string_token(),
            b'-' | b'0'..=b'9' => {
                if self.config.decode_invalid_numbers == 0 && self.is_invalid_number() {
                    return single(Token::Error("invalid number"));
                }
                return self.number_token();
            }
            b't' | b'f' | b'n' | b'i' | b'I' | b'N' | b'+' => {
                if self.starts_with(b"true") {
                    self.pos += 4;
                    return single(Token::Boolean(true));
                }
                if self.starts_with(b"false") {
                    self.pos += 5;
                    return single(Token::Boolean(false));
                }
                if self.starts_with(b"null") {
                    self.pos += 4;
                    return single(Token::Null);
                }
                if self.config.decode_invalid_numbers != 0 && self.is_invalid_number() {
                    return self.number_token();
                }
                return single(Token::Error("invalid token"));
            }
            _ => return single(Token::Error("invalid token")),
        };
        self.pos += 1;
        single(token)
    }

    /// `json_is_invalid_number`: would `strtod` read something here that
    /// strict JSON does not allow (a `+`, hex, a leading zero, inf, nan)?
    fn is_invalid_number(&self) -> bool {
        let mut p = self.pos;
        match self.byte(p) {
            b'+' => return true,
            b'-' => p += 1,
            _ => {}
        }
        let ch = self.byte(p);
        if ch == b'0' {
            let next = self.byte(p + 1);
            return next | 0x20 == b'x' || next.is_ascii_digit();
        }
        if ch <= b'9' {
            return false;
        }
        let word = [self.byte(p), self.byte(p + 1), self.byte(p + 2)];
        word.eq_ignore_ascii_case(b"inf") || word.eq_ignore_ascii_case(b"nan")
    }

    /// A number as C's `strtod` reads it here (`util::num::strtod`).
    fn number_token(&mut self) -> Lexeme {
        let index = self.pos;
        let r = strtod(self.json.get(self.pos..).unwrap_or_default());
        if r.consumed == 0 {
            return Lexeme {
                token: Token::Error("invalid number"),
                index,
            };
        }
        self.pos += r.consumed;
        Lexeme {
            token: Token::Number(r.value),
            index,
        }
    }

    /// `json_next_string_token`: the text goes to `self.string`. Errors point
    /// at the offending backslash, or at the end of the text.
    fn string_token(&mut self) -> Lexeme {
        let start = self.pos;
        self.pos += 1;
        self.string.clear();
        loop {
            let run_end = self.pos
                + self
                    .json
                    .get(self.pos..)
                    .unwrap_or_default()
                    .iter()
                    .position(|&b| matches!(b, b'"' | b'\\' | 0))
                    .unwrap_or(self.json.len().saturating_sub(self.pos));
            if let Some(run) = self.json.get(self.pos..run_end) {
                self.string.extend_from_slice(run);
            }
            self.pos = run_end;
            let error = |what| Lexeme {
                token: Token::Error(what),
                index: run_end,
            };
            match self.byte(self.pos) {
                b'"' => break,
                0 => return error("unexpected end of string"),
                _ => {}
            }
            // A backslash.
            let translated = match self.byte(self.pos + 1) {
                b'"' => b'"',
                b'\\' => b'\\',
                b'/' => b'/',
                b'b' => 0x08,
                b't' => b'\t',
                b'n' => b'\n',
                b'f' => 0x0c,
                b'r' => b'\r',
                b'u' => match self.unicode_escape() {
                    Some(length) => {
                        self.pos += length;
                        continue;
                    }
                    None => return error("invalid unicode escape code"),
                },
                _ => return error("invalid escape code"),
            };
            self.string.push(translated);
            self.pos += 2;
        }
        self.pos += 1;
        Lexeme {
            token: Token::String,
            index: start,
        }
    }

    /// Four hex digits at `at`, or `None`.
    fn hex4(&self, at: usize) -> Option<u32> {
        (0..4).try_fold(0u32, |acc, i| {
            char::from(self.byte(at + i))
                .to_digit(16)
                .map(|d| (acc << 4) | d)
        })
    }

    /// `json_append_unicode_escape` at a `\u`: appends the UTF-8 bytes and
    /// returns the escape's length (6, or 12 for a surrogate pair).
    fn unicode_escape(&mut self) -> Option<usize> {
        let mut codepoint = self.hex4(self.pos + 2)?;
        let mut length = 6;
        if codepoint & 0xF800 == 0xD800 {
            // A surrogate: it must be a high one, followed by \u and a low one.
            if codepoint & 0x400 != 0 {
                return None;
            }
            if self.byte(self.pos + 6) != b'\\' || self.byte(self.pos + 7) != b'u' {
                return None;
            }
            let low = self.hex4(self.pos + 8)?;
            if low & 0xFC00 != 0xDC00 {
                return None;
            }
            codepoint = (((codepoint & 0x3FF) << 10) | (low & 0x3FF)) + 0x10000;
            length = 12;
        }
        push_utf8(&mut self.string, codepoint);
        Some(length)
    }
}

/// The error for an unexpected token.
fn parse_error(expected: &str, lexeme: Lexeme) -> Failure {
    Failure::error(format!(
        "Expected {expected} but found {} at character {}",
        lexeme.token.name(),
        lexeme.index + 1
    ))
}

/// Appends `codepoint` (at most 0x10FFFF here) as UTF-8.
fn push_utf8(out: &mut Vec<u8>, codepoint: u32) {
    let c = codepoint;
    if c <= 0x7F {
        out.push(c as u8);
    } else if c <= 0x7FF {
        out.extend_from_slice(&[0xC0 | (c >> 6) as u8, 0x80 | (c & 0x3F) as u8]);
    } else if c <= 0xFFFF {
        out.extend_from_slice(&[
            0xE0 | (c >> 12) as u8,
            0x80 | ((c >> 6) & 0x3F) as u8,
            0x80 | (c & 0x3F) as u8,
        ]);
    } else {
        out.extend_from_slice(&[
            0xF0 | (c >> 18) as u8,
            0x80 | ((c >> 12) & 0x3F) as u8,
            0x80 | ((c >> 6) & 0x3F) as u8,
            0x80 | (c & 0x3F) as u8,
        ]);
    }
}
