//! `struct`: binary packing for scripts, as Redis 7.0 ships it (Roberto
//! Ierusalimschy's struct library, `deps/lua/src/lua_struct.c`: struct.c
//! v1.7 with Redis's security fixes, the `getnum` overflow error
//! (CVE-2015-8080), the overflow-safe `data string too short` checks and the
//! `offset must be 1 or greater` check (2018)).
//!
//! - `struct.pack(fmt, v1, v2, …)` returns the values laid out by `fmt`.
//! - `struct.unpack(fmt, s [, pos])` reads `s` from byte `pos` (1-based,
//!   default 1) and returns the values, then the position after them.
//! - `struct.size(fmt)` returns the size `fmt` packs to.
//!
//! Format options, each optionally followed by a number where noted:
//!
//! | option | meaning |
//! |--------|---------|
//! | `>` `<` | big / little endian from here on (native, little, at the start) |
//! | `![n]` | maximum alignment n, a power of 2 (no n: 8, the C `double` alignment) |
//! | `x` | one zero byte of padding (skipped on unpack) |
//! | `b` `B` | signed / unsigned `char` (1 byte) |
//! | `h` `H` | signed / unsigned `short` (2) |
//! | `l` `L` | signed / unsigned `long` (8) |
//! | `T` | `size_t` (8) |
//! | `i[n]` `I[n]` | signed / unsigned integer of n bytes (default 4, at most 32) |
//! | `f` `d` | `float` / `double` |
//! | `c[n]` | n bytes of a string (default 1). Packing, `c0` is the whole string; unpacking, `c0` takes its length from the previous result |
//! | `s` | a zero-terminated string |
//! | ` ` | ignored |
//!
//! Every quirk of the C code is kept, since scripts can see it: integers
//! are converted through C's `long`/`unsigned long` casts (x86-64 results
//! for out-of-range values), integers wider than 8 bytes carry only 64 bits
//! (sign extension uses the shift count modulo 64), the format stops at a
//! zero byte, digits after an option that takes none are options of their
//! own (invalid to `pack`/`unpack`, ignored by `size`), alignment uses
//! `size & (size - 1)` even for sizes that are not powers of 2, the error
//! for a short `c` string names the argument after it, a missing argument
//! to `pack` is a `nil` (the C code's stack mark), and `unpack` fails with
//! `stack overflow (too many results)` where Lua's C stack would.

use mlua::{Lua, LuaString, Table, Value};

use super::clib::{
    c_f64_to_i64, c_f64_to_u64, c_function, to_number, Args, Failure, Outcome, Ret, MAX_C_STACK,
};

/// `MAXINTSIZE`: the widest `i`/`I` option.
const MAX_INT_SIZE: i32 = 32;

/// `MAXALIGN`: the largest of the C `double` alignment and `sizeof(int)`,
/// the default of `!`.
const MAX_ALIGN: i32 = {
    let double_align = std::mem::align_of::<f64>() as i32;
    let int_size = std::mem::size_of::<std::os::raw::c_int>() as i32;
    if double_align > int_size {
        double_align
    } else {
        int_size
    }
};

/// `sizeof(short)`, `sizeof(int)`, `sizeof(long)`, `sizeof(size_t)` of the
/// LP64 platforms Redis runs on.
const SHORT_SIZE: u64 = 2;
const INT_SIZE: i32 = 4;
const LONG_SIZE: u64 = 8;
const SIZE_T_SIZE: u64 = 8;

/// Builds the `struct` table: `pack`, `unpack`, `size`. The caller installs
/// it as the global `struct`.
pub(super) fn open(lua: &Lua) -> mlua::Result<Table> {
    let lib = lua.create_table()?;
    lib.set("pack", c_function(lua, pack)?)?;
    lib.set("unpack", c_function(lua, unpack)?)?;
    lib.set("size", c_function(lua, size)?)?;
    Ok(lib)
}

/// Byte order.
#[derive(Clone, Copy, PartialEq)]
enum Endian {
    Big,
    Little,
}

impl Endian {
    /// Little-endian `bytes` in this byte order (reversed for big endian).
    fn order<const N: usize>(self, mut bytes: [u8; N]) -> [u8; N] {
        if self == Endian::Big {
            bytes.reverse();
        }
        bytes
    }
}

/// The `N` bytes of `data` at `at` (within it: `unpack` checks the size
/// first).
fn bytes_at<const N: usize>(data: &[u8], at: usize) -> [u8; N] {
    let mut b = [0u8; N];
    b.copy_from_slice(&data[at..at + N]);
    b
}

/// The machine's byte order, the default.
const NATIVE: Endian = if cfg!(target_endian = "big") {
    Endian::Big
} else {
    Endian::Little
};

/// The state the options `<`, `>` and `!` change.
struct Header {
    endian: Endian,
    align: i32,
}

impl Default for Header {
    fn default() -> Self {
        Header {
            endian: NATIVE,
            align: 1,
        }
    }
}

/// A format string, read as C reads it: up to its first zero byte.
struct Format {
    bytes: Vec<u8>,
    pos: usize,
}

impl Format {
    /// `luaL_checkstring(L, 1)`.
    fn from_arg(args: &Args) -> Outcome<Format> {
        let s = args.check_string(1)?;
        let all = s.as_bytes();
        let end = all.iter().position(|&b| b == 0).unwrap_or(all.len());
        Ok(Format {
            bytes: all[..end].to_vec(),
            pos: 0,
        })
    }

    /// The next option, if any.
    fn next_option(&mut self) -> Option<u8> {
        let opt = *self.bytes.get(self.pos)?;
        self.pos += 1;
        Some(opt)
    }

    /// `getnum`: the decimal number at the cursor, or `default` when there is
    /// no digit; one larger than `INT_MAX` is "integral size overflow".
    fn number(&mut self, default: i32) -> Outcome<i32> {
        let mut digits = self.bytes.get(self.pos..).unwrap_or(&[]).iter();
        let Some(&first) = digits.next().filter(|b| b.is_ascii_digit()) else {
            return Ok(default);
        };
        let mut a: i32 = 0;
        let mut d = first;
        loop {
            let digit = i32::from(d - b'0');
            if a > i32::MAX / 10 || a * 10 > i32::MAX - digit {
                return Err(Failure::error("integral size overflow"));
            }
            a = a * 10 + digit;
            self.pos += 1;
            match digits.next() {
                Some(&b) if b.is_ascii_digit() => d = b,
                _ => return Ok(a),
            }
        }
    }

    /// `optsize`: the size of option `opt`, reading its number if it takes
    /// one; 0 for options that are not data.
    fn size_of(&mut self, opt: u8) -> Outcome<u64> {
        Ok(match opt {
            b'B' | b'b' | b'x' => 1,
            b'H' | b'h' => SHORT_SIZE,
            b'L' | b'l' => LONG_SIZE,
            b'T' => SIZE_T_SIZE,
            b'f' => 4,
            b'd' => 8,
            b'c' => self.number(1)? as u64,
            b'i' | b'I' => {
                let size = self.number(INT_SIZE)?;
                if size > MAX_INT_SIZE {
                    return Err(Failure::error(format!(
                        "integral size {size} is larger than limit of {MAX_INT_SIZE}"
                    )));
                }
                size as u64
            }
            _ => 0,
        })
    }

    /// `controloptions`: space, `>`, `<` and `!n`; anything else is an
    /// invalid option (argument 1).
    fn control(&mut self, opt: u8, h: &mut Header) -> Outcome<()> {
        match opt {
            b' ' => {}
            b'>' => h.endian = Endian::Big,
            b'<' => h.endian = Endian::Little,
            b'!' => {
                let a = self.number(MAX_ALIGN)?;
                if !(a > 0 && a & (a - 1) == 0) {
                    return Err(Failure::error(format!("alignment {a} is not a power of 2")));
                }
                h.align = a;
            }
            _ => {
                let mut msg = b"invalid format option '".to_vec();
                msg.push(opt);
                msg.push(b'\'');
                return Err(Failure::Arg(1, msg));
            }
        }
        Ok(())
    }
}

/// `gettoalign`: padding before an item of `size` bytes at offset `len`,
/// aligned to `min(size, align)` with the mask `size - 1` (exact for powers
/// of 2, as C computes it otherwise). Strings are never aligned.
fn padding(len: u64, h: &Header, opt: u8, size: u64) -> u64 {
    if size == 0 || opt == b'c' {
        return 0;
    }
    let size = size.min(h.align as u64);
    let mask = size - 1;
    size.wrapping_sub(len & mask) & mask
}

/// `struct.pack(fmt, ...)`.
fn pack(lua: &Lua, args: &Args) -> Outcome<Ret> {
    let mut fmt = Format::from_arg(args)?;
    let mut h = Header::default();
    let mut arg = 2usize;
    let mut out: Vec<u8> = Vec::new();
    while let Some(opt) = fmt.next_option() {
        let mut size = fmt.size_of(opt)?;
        let pad = padding(out.len() as u64, &h, opt, size);
        out.resize(out.len() + pad as usize, 0);
        match opt {
            b'b' | b'B' | b'h' | b'H' | b'l' | b'L' | b'T' | b'i' | b'I' => {
                let n = pack_number(args, arg)?;
                arg += 1;
                put_integer(&mut out, n, h.endian, size);
            }
            b'x' => out.push(0),
            b'f' | b'd' => {
                let x = pack_number(args, arg)?;
                arg += 1;
                if opt == b'f' {
                    out.extend_from_slice(&h.endian.order((x as f32).to_le_bytes()));
                } else {
                    out.extend_from_slice(&h.endian.order(x.to_le_bytes()));
                }
            }
            b'c' | b's' => {
                let s = pack_string(args, arg)?;
                arg += 1;
                let s = s.as_bytes();
                let len = s.len() as u64;
                if size == 0 {
                    size = len;
                }
                if len < size {
                    // Redis names the argument after the string.
                    return Err(Failure::arg(arg as i32, "string too short"));
                }
                out.extend_from_slice(&s[..size as usize]);
                if opt == b's' {
                    out.push(0);
                }
            }
            _ => fmt.control(opt, &mut h)?,
        }
    }
    Ok(Ret::One(Value::String(lua.create_string(out)?)))
}

/// `luaL_checknumber` on a `pack` argument. Past the last argument the C
/// function's stack holds the nil it pushes as a mark, so a missing
/// argument is a nil (and the first one always stops `pack`).
fn pack_number(args: &Args, i: usize) -> Outcome<f64> {
    if i > args.count() {
        return Err(Failure::arg(i as i32, "number expected, got nil"));
    }
    args.check_number(i)
}

/// `luaL_checklstring` on a `pack` argument, a missing one being a nil.
fn pack_string(args: &Args, i: usize) -> Outcome<LuaString> {
    if i > args.count() {
        return Err(Failure::arg(i as i32, "string expected, got nil"));
    }
    args.check_string(i)
}

/// `putinteger`: `n` through C's `(unsigned long)(long)n` when negative,
/// `(unsigned long)n` otherwise, written in `size` bytes (zeros past the
/// 8 bytes of a `long`).
fn put_integer(out: &mut Vec<u8>, n: f64, endian: Endian, size: u64) {
    let mut value = if n < 0.0 {
        c_f64_to_i64(n) as u64
    } else {
        c_f64_to_u64(n)
    };
    let start = out.len();
    for _ in 0..size {
        out.push((value & 0xff) as u8);
        value >>= 8;
    }
    if endian == Endian::Big {
        out[start..].reverse();
    }
}

/// `getinteger`: the integer in `bytes` as a Lua number. Only the last 64
/// bits read survive the shifts of a wider integer, and the sign mask is
/// `~0 << (size*8 - 1)` with the shift count taken modulo 64, as x86-64
/// computes C's out-of-range shift.
fn get_integer(bytes: &[u8], endian: Endian, signed: bool) -> f64 {
    let mut l: u64 = 0;
    let mut add = |b: &u8| l = (l << 8) | u64::from(*b);
    match endian {
        Endian::Big => bytes.iter().for_each(&mut add),
        Endian::Little => bytes.iter().rev().for_each(&mut add),
    }
    if !signed {
        return l as f64;
    }
    let shift = ((bytes.len() as i64) * 8 - 1) & 63;
    let mask = u64::MAX << shift;
    if l & mask != 0 {
        l |= mask;
    }
    l as i64 as f64
}

/// `struct.unpack(fmt, s [, pos])`.
fn unpack(lua: &Lua, args: &Args) -> Outcome<Ret> {
    let mut fmt = Format::from_arg(args)?;
    let data = args.check_string(2)?;
    let data = data.as_bytes();
    let ld = data.len() as u64;
    // A negative position becomes a huge size_t and fails as too short.
    let mut pos = args.opt_integer(3, 1)? as u64;
    if pos == 0 {
        return Err(Failure::arg(3, "offset must be 1 or greater"));
    }
    pos -= 1;
    let mut h = Header::default();
    let results = lua.create_table()?;
    let mut n: usize = 0;
    let too_short = || Failure::arg(2, "data string too short");
    // The arguments stay on the C function's stack under the results.
    let base = args.count();
    while let Some(opt) = fmt.next_option() {
        let mut size = fmt.size_of(opt)?;
        pos = pos.wrapping_add(padding(pos, &h, opt, size));
        if !(size <= ld && pos <= ld - size) {
            return Err(too_short());
        }
        // Room for an item and the final position.
        if base + n + 2 > MAX_C_STACK {
            return Err(Failure::stack_overflow("too many results"));
        }
        let at = pos as usize;
        match opt {
            b'b' | b'B' | b'h' | b'H' | b'l' | b'L' | b'T' | b'i' | b'I' => {
                let bytes = &data[at..at + size as usize];
                n += 1;
                results.raw_set(n, get_integer(bytes, h.endian, opt.is_ascii_lowercase()))?;
            }
            b'x' => {}
            b'f' | b'd' => {
                let x = if opt == b'f' {
                    f64::from(f32::from_le_bytes(h.endian.order(bytes_at(&data, at))))
                } else {
                    f64::from_le_bytes(h.endian.order(bytes_at(&data, at)))
                };
                n += 1;
                results.raw_set(n, x)?;
            }
            b'c' => {
                if size == 0 {
                    // The previous result (a number, or a string Lua reads
                    // as one) is the length, and is replaced by the string.
                    let previous = if n == 0 {
                        None
                    } else {
                        to_number(lua, results.raw_get(n)?)?
                    };
                    let Some(len) = previous else {
                        return Err(Failure::error("format 'c0' needs a previous size"));
                    };
                    size = c_f64_to_u64(len);
                    results.raw_set(n, Value::Nil)?;
                    n -= 1;
                    if !(size <= ld && pos <= ld - size) {
                        return Err(too_short());
                    }
                }
                n += 1;
                results.raw_set(n, lua.create_string(&data[at..at + size as usize])?)?;
            }
            b's' => {
                let Some(len) = data[at..].iter().position(|&b| b == 0) else {
                    return Err(Failure::error("unfinished string in data"));
                };
                size = len as u64 + 1;
                n += 1;
                results.raw_set(n, lua.create_string(&data[at..at + len])?)?;
            }
            _ => fmt.control(opt, &mut h)?,
        }
        pos = pos.wrapping_add(size);
    }
    n += 1;
    results.raw_set(n, pos.wrapping_add(1) as i64)?;
    Ok(Ret::Many(results, n))
}

/// `struct.size(fmt)`. Letters and digits that are not options count as
/// nothing here (only `pack` and `unpack` reject them).
fn size(_lua: &Lua, args: &Args) -> Outcome<Ret> {
    let mut fmt = Format::from_arg(args)?;
    let mut h = Header::default();
    let mut pos: u64 = 0;
    while let Some(opt) = fmt.next_option() {
        let size = fmt.size_of(opt)?;
        pos = pos.wrapping_add(padding(pos, &h, opt, size));
        if opt == b's' {
            return Err(Failure::arg(1, "option 's' has no fixed size"));
        }
        if opt == b'c' && size == 0 {
            return Err(Failure::arg(1, "option 'c0' has no fixed size"));
        }
        if !opt.is_ascii_alphanumeric() {
            fmt.control(opt, &mut h)?;
        }
        pos = pos.wrapping_add(size);
    }
    Ok(Ret::One(Value::Integer(pos as i64)))
}
