//! `cmsgpack`: MessagePack for scripts, as Redis 7.0 ships it
//! (lua-cmsgpack 0.4.0 by Salvatore Sanfilippo, `deps/lua/src/lua_cmsgpack.c`,
//! with Redis's CVE-2022-24834 fixes).
//!
//! - `cmsgpack.pack(v1, v2, …)` encodes each argument and returns the
//!   encodings concatenated. A number that is an integer (`(int64_t)n == n`)
//!   becomes the smallest MessagePack integer that holds it (positive values
//!   as unsigned types); any other number a float 32 when that loses nothing,
//!   else a float 64. Strings are always `str` (fixstr, str8, str16, str32),
//!   never `bin`. A table whose keys are exactly 1..n is an array, any other
//!   table a map, in `next` order; tables nested 16 deep (cycles included)
//!   become nil. Functions, userdata, threads and nil are nil.
//! - `cmsgpack.unpack(s)` decodes every object of `s` and returns them all.
//! - `cmsgpack.unpack_one(s [, offset])` decodes one object from byte
//!   `offset` (0-based) and returns the offset after it (-1 at the end of
//!   `s`) and the object; `cmsgpack.unpack_limit(s, limit [, offset])` up to
//!   `limit` objects. With a limit and an offset of 0 both, `unpack_limit` is
//!   `unpack` (no offset returned).
//! - Decoding knows nil, booleans, all integer and float types, str8/16/32
//!   and fixstr, arrays and maps. `bin`, `ext`, `fixext` and 0xc1 are "Bad
//!   data format in input."; a truncated object is "Missing bytes in input.".
//!   A `uint 64` above 2^63-1 wraps to a negative number, as Redis's C cast
//!   does. A nil or NaN map key is the Lua core's "table index is nil/NaN".
//!
//! The C code keeps its work on the Lua stack, so Lua's 8000-slot limit for
//! a C function is what bounds it: more than about 8000 results, or objects
//! nested about 4000 deep, fail with `stack overflow (…)`. This module counts
//! the same slots and fails at the same point with the same message (see
//! [`super::clib`]); it builds nested objects without recursion.

use mlua::{Lua, Table, Value};

use super::clib::{
    c_f64_to_i32, c_f64_to_i64, c_function, scratch_table, Args, Failure, Outcome, Ret, MAX_C_STACK,
};

/// `LUACMSGPACK_MAX_NESTING`: the table depth at which `pack` writes nil.
const MAX_NESTING: usize = 16;

/// `unpack`'s error for a truncated object.
const MISSING_BYTES: &str = "Missing bytes in input.";
/// `unpack`'s error for a byte that starts no object it knows.
const BAD_FORMAT: &str = "Bad data format in input.";

/// Builds the `cmsgpack` table: `pack`, `unpack`, `unpack_one`,
/// `unpack_limit`, and the fields `_NAME`, `_VERSION`, `_COPYRIGHT`,
/// `_DESCRIPTION` with Redis's values. The caller installs it as the global
/// `cmsgpack`.
pub(super) fn open(lua: &Lua) -> mlua::Result<Table> {
    let lib = lua.create_table()?;
    lib.set("pack", c_function(lua, pack)?)?;
    lib.set("unpack", c_function(lua, unpack)?)?;
    lib.set("unpack_one", c_function(lua, unpack_one)?)?;
    lib.set("unpack_limit", c_function(lua, unpack_limit)?)?;
    lib.set("_NAME", "cmsgpack")?;
    lib.set("_VERSION", "lua-cmsgpack 0.4.0")?;
    lib.set("_COPYRIGHT", "Copyright (C) 2012, Salvatore Sanfilippo")?;
    lib.set("_DESCRIPTION", "MessagePack C implementation for Lua")?;
    Ok(lib)
}

// ---- pack --------------------------------------------------------------------

/// `cmsgpack.pack(...)`.
fn pack(lua: &Lua, args: &Args) -> Outcome<Ret> {
    let nargs = args.count();
    if nargs == 0 {
        return Err(Failure::arg(0, "MessagePack pack needs input."));
    }
    // Redis asks the stack for room for one result per argument.
    if nargs > MAX_C_STACK || 2 * nargs > MAX_C_STACK {
        return Err(Failure::arg(0, "Too many arguments for MessagePack pack."));
    }
    let mut out = Vec::new();
    for i in 1..=nargs {
        // The encodings of the arguments before this one wait on the stack.
        let used = nargs + (i - 1);
        if used + 1 > MAX_C_STACK {
            return Err(Failure::stack_overflow("in function mp_check"));
        }
        encode_value(&mut out, &args.get(i)?, 0, used + 1)?;
    }
    Ok(Ret::One(Value::String(lua.create_string(out)?)))
}

/// Encodes `v`, a value at table depth `level`, while the C function would
/// have `used` stack slots in use (the value's own slot included).
fn encode_value(out: &mut Vec<u8>, v: &Value, level: usize, used: usize) -> Outcome<()> {
    match v {
        Value::String(s) => encode_bytes(out, &s.as_bytes()),
        Value::Boolean(b) => out.push(if *b { 0xc3 } else { 0xc2 }),
        Value::Integer(i) => encode_number(out, *i as f64),
        Value::Number(n) => encode_number(out, *n),
        Value::Table(t) if level < MAX_NESTING => encode_table(out, t, level, used)?,
        // Nil, functions, userdata, threads, and tables too deep.
        _ => out.push(0xc0),
    }
    Ok(())
}

/// A Lua number: an integer when `(int64_t)n == n` (so -0.0 is 0), else a
/// float.
fn encode_number(out: &mut Vec<u8>, n: f64) {
    let i = c_f64_to_i64(n);
    if !n.is_infinite() && i as f64 == n {
        encode_int(out, i);
    } else {
        encode_float(out, n);
    }
}

/// Float 32 when converting to `float` and back gives the same number
/// (infinities included, NaN excluded), else float 64.
fn encode_float(out: &mut Vec<u8>, d: f64) {
    let f = d as f32;
    if f as f64 == d {
        out.push(0xca);
        out.extend_from_slice(&f.to_be_bytes());
    } else {
        out.push(0xcb);
        out.extend_from_slice(&d.to_be_bytes());
    }
}

/// The smallest MessagePack integer for `n`: fixnums, then unsigned types
/// (uint 8/16/32/64) for positive numbers and signed types (int 8/16/32/64)
/// for negative ones.
fn encode_int(out: &mut Vec<u8>, n: i64) {
    if (-32..=127).contains(&n) {
        out.push(n as u8);
        return;
    }
    let (code, width) = match n {
        0..=0xff => (0xcc, 1),
        0x100..=0xffff => (0xcd, 2),
        0x1_0000..=0xffff_ffff => (0xce, 4),
        0x1_0000_0000.. => (0xcf, 8),
        -128..=-1 => (0xd0, 1),
        -32768..=-129 => (0xd1, 2),
        -2_147_483_648..=-32769 => (0xd2, 4),
        _ => (0xd3, 8),
    };
    put(out, code, n as u64, width);
}

/// A string: fixstr, str 8, str 16 or str 32 (lengths kept to 32 bits).
fn encode_bytes(out: &mut Vec<u8>, s: &[u8]) {
    let len = s.len();
    if len < 32 {
        out.push(0xa0 | len as u8);
    } else if len <= 0xff {
        put(out, 0xd9, len as u64, 1);
    } else if len <= 0xffff {
        put(out, 0xda, len as u64, 2);
    } else {
        put(out, 0xdb, len as u64, 4);
    }
    out.extend_from_slice(s);
}

/// An array or map header: fix type, 16 or 32 bits (lengths kept to 32
/// bits).
fn encode_header(out: &mut Vec<u8>, n: usize, fix: u8, with16: u8) {
    if n <= 15 {
        out.push(fix | n as u8);
    } else if n <= 0xffff {
        put(out, with16, n as u64, 2);
    } else {
        put(out, with16 + 1, n as u64, 4);
    }
}

/// A type byte, then the low `width` bytes of `n`, big-endian (two's
/// complement for negative numbers, as C's casts to narrower types give).
fn put(out: &mut Vec<u8>, code: u8, n: u64, width: usize) {
    out.push(code);
    out.extend_from_slice(&n.to_be_bytes()[8 - width..]);
}

/// A table: an array when its keys are exactly 1..n, else a map. The C code
/// walks the table on the stack: the check needs 2 slots, an array 1 (each
/// element), a map 3 (key, value, and a copy of the key to encode).
fn encode_table(out: &mut Vec<u8>, t: &Table, level: usize, used: usize) -> Outcome<()> {
    if used + 2 > MAX_C_STACK {
        return Err(Failure::stack_overflow("in function table_is_an_array"));
    }
    match array_length(t)? {
        Some(len) => {
            if used + 1 > MAX_C_STACK {
                return Err(Failure::stack_overflow(
                    "in function mp_encode_lua_table_as_array",
                ));
            }
            encode_header(out, len, 0x90, 0xdc);
            for j in 1..=len {
                let v: Value = t.raw_get(j)?;
                encode_value(out, &v, level + 1, used + 1)?;
            }
        }
        None => {
            if used + 3 > MAX_C_STACK {
                return Err(Failure::stack_overflow(
                    "in function mp_encode_lua_table_as_map",
                ));
            }
            let mut len = 0usize;
            for pair in t.pairs::<Value, Value>() {
                pair?;
                len += 1;
            }
            encode_header(out, len, 0x80, 0xde);
            for pair in t.pairs::<Value, Value>() {
                let (k, v) = pair?;
                encode_value(out, &k, level + 1, used + 3)?;
                encode_value(out, &v, level + 1, used + 2)?;
            }
        }
    }
    Ok(())
}

/// Redis's `table_is_an_array`: every key a number that is a positive C
/// `int`, and the largest key equal to the number of keys (so the keys are
/// 1..n; the empty table is an array). Returns n for an array.
fn array_length(t: &Table) -> mlua::Result<Option<usize>> {
    let mut count: i64 = 0;
    let mut max: i64 = 0;
    for pair in t.pairs::<Value, Value>() {
        let n = match pair?.0 {
            Value::Integer(i) => i as f64,
            Value::Number(n) => n,
            _ => return Ok(None),
        };
        if n <= 0.0 || c_f64_to_i32(n) as f64 != n {
            return Ok(None);
        }
        max = max.max(n as i64);
        count += 1;
    }
    Ok((max == count).then_some(count as usize))
}

// ---- unpack ------------------------------------------------------------------

/// `cmsgpack.unpack(s)`: every object (the arguments after `s` stay on the
/// C function's stack, so they count against its limit).
fn unpack(lua: &Lua, args: &Args) -> Outcome<Ret> {
    unpack_full(lua, args, args.count(), 0, 0)
}

/// `cmsgpack.unpack_one(s [, offset])`.
fn unpack_one(lua: &Lua, args: &Args) -> Outcome<Ret> {
    let offset = args.opt_integer(2, 0)?;
    unpack_full(lua, args, 1, 1, offset)
}

/// `cmsgpack.unpack_limit(s, limit [, offset])`.
fn unpack_limit(lua: &Lua, args: &Args) -> Outcome<Ret> {
    let limit = args.check_integer(2)?;
    let offset = args.opt_integer(3, 0)?;
    unpack_full(lua, args, 1, limit, offset)
}

/// Redis's `mp_unpack_full`: decodes up to `limit` objects of argument 1
/// from byte `offset`; a limit and offset of 0 both mean every object and
/// no offset in the results. `base` is the C function's stack height
/// (its arguments) when it starts.
fn unpack_full(lua: &Lua, args: &Args, base: usize, limit: i64, offset: i64) -> Outcome<Ret> {
    let s = args.check_string(1)?;
    let data = s.as_bytes();
    let len = data.len();
    let decode_all = limit == 0 && offset == 0;
    if offset < 0 || limit < 0 {
        // Redis prints the input length where it means the limit.
        return Err(Failure::error(format!(
            "Invalid request to unpack with offset of {} and limit of {}.",
            offset as i32, len as i32
        )));
    }
    if offset as u64 > len as u64 {
        return Err(Failure::error(format!(
            "Start offset {} greater than input length {}.",
            offset as i32, len as i32
        )));
    }
    let limit = if decode_all {
        i64::from(i32::MAX)
    } else {
        limit
    };
    let results = lua.create_table()?;
    // Without decode_all the offset comes first.
    let first = if decode_all { 1 } else { 2 };
    let mut dec = Decoder {
        lua,
        data: &data,
        pos: offset as usize,
    };
    let mut count: usize = 0;
    while dec.left() > 0 && (count as i64) < limit {
        let v = match dec.decode(base + count) {
            Ok(v) => v,
            Err(Stop::Eof) => return Err(Failure::error(MISSING_BYTES)),
            Err(Stop::BadFormat) => return Err(Failure::error(BAD_FORMAT)),
            Err(Stop::Fail(f)) => return Err(f),
        };
        results.raw_set(first + count, v)?;
        count += 1;
    }
    if decode_all {
        return Ok(Ret::Many(results, count));
    }
    if base + count + 1 > MAX_C_STACK {
        return Err(Failure::stack_overflow("in function mp_unpack_full"));
    }
    let next = if dec.left() == 0 {
        -1
    } else {
        (len - dec.left()) as i64
    };
    results.raw_set(1, next)?;
    Ok(Ret::Many(results, count + 1))
}

/// Why decoding stopped.
enum Stop {
    /// The input ends inside an object: "Missing bytes in input."
    Eof,
    /// A byte that starts no known object: "Bad data format in input."
    BadFormat,
    /// An error raised on the spot (stack overflow, nil key) or from mlua.
    Fail(Failure),
}

impl From<mlua::Error> for Stop {
    fn from(e: mlua::Error) -> Self {
        Stop::Fail(Failure::Lua(e))
    }
}

impl From<Failure> for Stop {
    fn from(f: Failure) -> Self {
        Stop::Fail(f)
    }
}

/// What one type byte (and its header) starts.
enum Item {
    /// A complete scalar.
    Scalar(Value),
    /// An array of `len` objects, or a map of `len` key/value pairs.
    Table { len: usize, array: bool },
}

/// An array or map being filled.
struct Frame {
    /// Objects (or pairs) still to read.
    remaining: usize,
    /// For an array, the index of the next element; `None` for a map.
    next_index: Option<i64>,
    /// For a map, whether its pending key has been read.
    has_key: bool,
    /// The C stack height when the container's own decoding began.
    base_used: usize,
}

/// A cursor over the input, as Redis's `mp_cur`.
struct Decoder<'a> {
    lua: &'a Lua,
    data: &'a [u8],
    pos: usize,
}

impl Decoder<'_> {
    /// Bytes left.
    fn left(&self) -> usize {
        self.data.len() - self.pos
    }

    /// The next `n` bytes, or `Eof`.
    fn peek(&self, n: usize) -> Result<&[u8], Stop> {
        self.data
            .get(self.pos..self.pos.saturating_add(n))
            .ok_or(Stop::Eof)
    }

    /// The `N` bytes after the type byte, consuming both.
    fn fixed<const N: usize>(&mut self) -> Result<[u8; N], Stop> {
        let b = self.peek(1 + N)?;
        let mut a = [0u8; N];
        a.copy_from_slice(&b[1..]);
        self.pos += 1 + N;
        Ok(a)
    }

    /// A string of `len` bytes after a header of `hdr` bytes.
    fn string(&mut self, hdr: usize, len: usize) -> Result<Value, Stop> {
        let b = self.peek(hdr.saturating_add(len))?;
        let s = self.lua.create_string(&b[hdr..])?;
        self.pos += hdr + len;
        Ok(Value::String(s))
    }

    /// Decodes one object with the C function's stack at `used` slots, as
    /// `mp_decode_to_lua_type` does: the object's slot is checked first,
    /// an array takes one more slot for itself and one for each index, a
    /// map one for itself and two for each pair. Nesting is handled with an
    /// explicit stack; the open containers and pending keys are kept in a
    /// Lua table, so that deep input does not pile up mlua references.
    fn decode(&mut self, used: usize) -> Result<Value, Stop> {
        let mut used = used;
        let mut frames: Vec<Frame> = Vec::new();
        // nest[2d+1] = the container at depth d, nest[2d+2] = its pending key.
        let mut nest: Option<Table> = None;
        // The innermost open container.
        let mut top: Option<Table> = None;
        loop {
            let mut value = match self.item(used)? {
                Item::Scalar(v) => v,
                Item::Table { len, array } => {
                    // An array's C function checks its stack first.
                    if array && used + 2 > MAX_C_STACK {
                        return Err(
                            Failure::stack_overflow("in function mp_decode_to_lua_array").into(),
                        );
                    }
                    let t = self.lua.create_table()?;
                    if len == 0 {
                        Value::Table(t)
                    } else {
                        scratch_table(self.lua, &mut nest)?
                            .raw_set(2 * frames.len() as i64 + 1, t.clone())?;
                        top = Some(t);
                        frames.push(Frame {
                            remaining: len,
                            next_index: array.then_some(1),
                            has_key: false,
                            base_used: used,
                        });
                        used += if array { 2 } else { 1 };
                        continue;
                    }
                }
            };
            // Store the finished object in its container; a container that
            // becomes full is finished in turn.
            loop {
                let depth = frames.len();
                let (Some(frame), Some(container), Some(nest)) =
                    (frames.last_mut(), top.as_ref(), nest.as_ref())
                else {
                    return Ok(value);
                };
                let key_slot = 2 * depth as i64;
                match frame.next_index.as_mut() {
                    Some(index) => {
                        container.raw_set(*index, value)?;
                        *index += 1;
                    }
                    None if !frame.has_key => {
                        nest.raw_set(key_slot, value)?;
                        frame.has_key = true;
                        used = frame.base_used + 2;
                        break;
                    }
                    None => {
                        let key: Value = nest.raw_get(key_slot)?;
                        check_key(&key)?;
                        container.raw_set(key, value)?;
                        nest.raw_set(key_slot, Value::Nil)?;
                        frame.has_key = false;
                    }
                }
                frame.remaining -= 1;
                if frame.remaining > 0 {
                    used = frame.base_used + if frame.next_index.is_some() { 2 } else { 1 };
                    break;
                }
                // Finished: the parent sets `used` for what it reads next.
                value = Value::Table(top.take().expect("checked above"));
                frames.pop();
                if !frames.is_empty() {
                    top = Some(nest.raw_get(2 * frames.len() as i64 - 1)?);
                }
            }
        }
    }

    /// Reads one type byte and what follows it up to the contents.
    fn item(&mut self, used: usize) -> Result<Item, Stop> {
        let b = *self.peek(1)?.first().ok_or(Stop::Eof)?;
        if used + 1 > MAX_C_STACK {
            return Err(Failure::stack_overflow(
                "too many return values at once; use unpack_one or unpack_limit instead.",
            )
            .into());
        }
        let int = |i: i64| Ok(Item::Scalar(Value::Integer(i)));
        match b {
            0xcc => int(u8::from_be_bytes(self.fixed()?).into()),
            0xd0 => int(i8::from_be_bytes(self.fixed()?).into()),
            0xcd => int(u16::from_be_bytes(self.fixed()?).into()),
            0xd1 => int(i16::from_be_bytes(self.fixed()?).into()),
            0xce => int(u32::from_be_bytes(self.fixed()?).into()),
            0xd2 => int(i32::from_be_bytes(self.fixed()?).into()),
            // Pushed through lua_Integer: above 2^63-1 it wraps.
            0xcf => int(u64::from_be_bytes(self.fixed()?) as i64),
            0xd3 => int(i64::from_be_bytes(self.fixed()?)),
            0xc0 | 0xc2 | 0xc3 => {
                self.pos += 1;
                Ok(Item::Scalar(match b {
                    0xc0 => Value::Nil,
                    0xc2 => Value::Boolean(false),
                    _ => Value::Boolean(true),
                }))
            }
            0xca => Ok(Item::Scalar(Value::Number(
                f32::from_be_bytes(self.fixed()?).into(),
            ))),
            0xcb => Ok(Item::Scalar(Value::Number(f64::from_be_bytes(
                self.fixed()?,
            )))),
            0xd9 => {
                let len = self.peek(2)?[1] as usize;
                Ok(Item::Scalar(self.string(2, len)?))
            }
            0xda => {
                let [h, l] = self.fixed_peek::<2>()?;
                Ok(Item::Scalar(
                    self.string(3, u16::from_be_bytes([h, l]).into())?,
                ))
            }
            0xdb => {
                let len = u32::from_be_bytes(self.fixed_peek::<4>()?) as usize;
                Ok(Item::Scalar(self.string(5, len)?))
            }
            // array 16, map 16; array 32, map 32.
            0xdc | 0xde => Ok(Item::Table {
                len: u16::from_be_bytes(self.fixed()?).into(),
                array: b == 0xdc,
            }),
            0xdd | 0xdf => Ok(Item::Table {
                len: u32::from_be_bytes(self.fixed()?) as usize,
                array: b == 0xdd,
            }),
            _ if b & 0x80 == 0 => {
                self.pos += 1;
                int(b.into())
            }
            _ if b & 0xe0 == 0xe0 => {
                self.pos += 1;
                int((b as i8).into())
            }
            _ if b & 0xe0 == 0xa0 => Ok(Item::Scalar(self.string(1, (b & 0x1f).into())?)),
            _ if b & 0xf0 == 0x90 => {
                self.pos += 1;
                Ok(Item::Table {
                    len: (b & 0x0f).into(),
                    array: true,
                })
            }
            _ if b & 0xf0 == 0x80 => {
                self.pos += 1;
                Ok(Item::Table {
                    len: (b & 0x0f).into(),
                    array: false,
                })
            }
            // bin, ext, fixext, 0xc1.
            _ => Err(Stop::BadFormat),
        }
    }

    /// The `N` bytes after the type byte, without consuming them.
    fn fixed_peek<const N: usize>(&self) -> Result<[u8; N], Stop> {
        let b = self.peek(1 + N)?;
        let mut a = [0u8; N];
        a.copy_from_slice(&b[1..]);
        Ok(a)
    }
}

/// `lua_settable` refuses nil and NaN keys with the core's message, which
/// carries no position.
fn check_key(key: &Value) -> Outcome<()> {
    match key {
        Value::Nil => Err(Failure::Plain(b"table index is nil".to_vec())),
        Value::Number(n) if n.is_nan() => Err(Failure::Plain(b"table index is NaN".to_vec())),
        _ => Ok(()),
    }
}
