//! The `bit` library of Redis's Lua: LuaBitOp 1.0.2 (`deps/lua/src/lua_bit.c`).
//!
//! Lua 5.1 has only doubles, so LuaBitOp works on 32-bit integers it makes
//! out of them and gives back signed 32-bit results as numbers:
//!
//! - An argument becomes 32 bits by adding 2^52 + 2^51 to the double and
//!   taking the low 32 bits of the sum's representation. That rounds halves to
//!   even (`tobit(2.5) == 2`, `tobit(-1.5) == -2`), wraps modulo 2^32
//!   (`tobit(2^32 + 5) == 5`), and turns NaN and the infinities into 0; past
//!   2^51 the addition itself rounds (`tobit(2^53 + 3) == 2`).
//! - Strings that Lua can convert to numbers are accepted (`"0x10"`,
//!   `" 12 "`); anything else is `bad argument #N to 'f' (number expected,
//!   got <type>)`, with `no value` for a missing argument.
//! - `band`, `bor` and `bxor` check their first argument, then the others
//!   from the last one down, as the C loop does; that decides which bad
//!   argument is reported.
//! - Shift counts use their low 5 bits.
//! - `tohex(x [, n])`: `n` digits (default 8, at most 8), upper case when `n`
//!   is negative, none for 0. Redis 7.0.15's build gives 8 upper-case digits
//!   for `n == -2^31`; later Redis versions make that explicit, and so do we.
//!
//! Unlike modules opened with `luaL_register` elsewhere, the table has no
//! `_NAME` or `_VERSION`.

use mlua::{Lua, Table};

use super::clib::{c_function, Args, Outcome};

/// A `bit` function that returns a number.
type Operation = fn(&Lua, &Args) -> Outcome<f64>;

/// Builds the `bit` table (Redis installs it as the global `bit`), its
/// functions set in LuaBitOp's order so that it iterates as Redis's does.
pub(super) fn open(lua: &Lua) -> mlua::Result<Table> {
    let operations: [(&str, Operation); 11] = [
        ("tobit", |_, args| unary(args, |b| b)),
        ("bnot", |_, args| unary(args, |b| !b)),
        ("band", |_, args| fold(args, |a, b| a & b)),
        ("bor", |_, args| fold(args, |a, b| a | b)),
        ("bxor", |_, args| fold(args, |a, b| a ^ b)),
        ("lshift", |_, args| shift(args, |b, n| b << n)),
        ("rshift", |_, args| shift(args, |b, n| b >> n)),
        ("arshift", |_, args| {
            shift(args, |b, n| ((b as i32) >> n) as u32)
        }),
        ("rol", |_, args| shift(args, u32::rotate_left)),
        ("ror", |_, args| shift(args, u32::rotate_right)),
        ("bswap", |_, args| unary(args, u32::swap_bytes)),
    ];
    let bit = lua.create_table()?;
    for (name, operation) in operations {
        bit.raw_set(name, c_function(lua, operation)?)?;
    }
    bit.raw_set("tohex", c_function(lua, tohex)?)?;
    Ok(bit)
}

/// LuaBitOp's return convention: the 32 bits as a signed integer, as a number.
fn bit_result(bits: u32) -> f64 {
    f64::from(bits as i32)
}

/// The 32 bits of a double, LuaBitOp's way (see the module doc).
fn normalize(n: f64) -> u32 {
    // 2^52 + 2^51: the sum's unit in the last place is 1, so its low 32
    // mantissa bits hold the integer, in two's complement for negatives.
    (n + 6_755_399_441_055_744.0).to_bits() as u32
}

/// Argument `arg` (1-based) as 32 bits: a number, or a string Lua converts
/// to one (`lua_tonumber`), else LuaBitOp's `luaL_typerror(L, arg, "number")`.
fn bit_arg(args: &Args, arg: usize) -> Outcome<u32> {
    Ok(normalize(args.check_number(arg)?))
}

/// `tobit`, `bnot`, `bswap`: one argument, the others ignored.
fn unary(args: &Args, op: impl Fn(u32) -> u32) -> Outcome<f64> {
    Ok(bit_result(op(bit_arg(args, 1)?)))
}

/// `band`, `bor`, `bxor`: the first argument, then the rest from the last
/// one down (the order in which LuaBitOp reads them).
fn fold(args: &Args, op: impl Fn(u32, u32) -> u32) -> Outcome<f64> {
    let mut acc = bit_arg(args, 1)?;
    for arg in (2..=args.count()).rev() {
        acc = op(acc, bit_arg(args, arg)?);
    }
    Ok(bit_result(acc))
}

/// `lshift`, `rshift`, `arshift`, `rol`, `ror`: the count is taken mod 32.
fn shift(args: &Args, op: impl Fn(u32, u32) -> u32) -> Outcome<f64> {
    let bits = bit_arg(args, 1)?;
    let count = bit_arg(args, 2)? & 31;
    Ok(bit_result(op(bits, count)))
}

/// `tohex(x [, n])`. A second argument that is present must be a number
/// (`nil` is refused), as LuaBitOp only skips it when it is absent.
fn tohex(lua: &Lua, args: &Args) -> Outcome<mlua::LuaString> {
    let mut bits = bit_arg(args, 1)?;
    let mut width = if args.count() < 2 {
        8
    } else {
        bit_arg(args, 2)? as i32
    };
    if width == i32::MIN {
        width = i32::MIN + 1;
    }
    let digits: &[u8; 16] = if width < 0 {
        width = -width;
        b"0123456789ABCDEF"
    } else {
        b"0123456789abcdef"
    };
    let width = width.min(8) as usize;
    let mut text = [0u8; 8];
    for slot in text[..width].iter_mut().rev() {
        *slot = digits[(bits & 15) as usize];
        bits >>= 4;
    }
    Ok(lua.create_string(&text[..width])?)
}

#[cfg(test)]
mod tests {
    use super::normalize;

    #[test]
    fn normalization_matches_luabitop() {
        assert_eq!(normalize(1437217655.0), 1437217655); // LuaBitOp's self-test
        assert_eq!(normalize(-1.0), u32::MAX);
        assert_eq!(normalize(2.5) as i32, 2);
        assert_eq!(normalize(-2.5) as i32, -2);
        assert_eq!(normalize(3.5) as i32, 4);
        assert_eq!(normalize(4294967296.0 + 5.0), 5);
        assert_eq!(normalize(f64::INFINITY), 0);
        assert_eq!(normalize(f64::NEG_INFINITY), 0);
        assert_eq!(normalize(f64::NAN), 0);
        assert_eq!(normalize(1e300) as i32, -2013235812);
    }
}
