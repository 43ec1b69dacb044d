//! How a library written on mlua behaves like one of Redis's C libraries
//! (`lua_cjson.c`, `lua_bit.c`, `lua_cmsgpack.c`, `lua_struct.c`).
//!
//! Those libraries are C functions, and three things about them are
//! observable from a script:
//!
//! - **Their errors are plain strings.** `luaL_error` puts the position of
//!   the *caller* in front of the message (`user_script:1: ` when a script
//!   line called the function, nothing when `pcall` called it directly), as
//!   `luaL_where(L, 1)` does. `luaL_argerror` names the function the way the
//!   caller spelled it (`bad argument #1 to 'band'`, `'f'` after
//!   `local f = bit.band`, `'?'` through `pcall`) and says `calling 'x' on
//!   bad self` for a method call. An error the Lua core raises inside the
//!   function (`table index is nil`) has no position at all. `pcall` hands
//!   the script that string.
//! - **Their stack is bounded.** Lua 5.1 refuses to grow a C function's
//!   stack beyond `LUAI_MAXCSTACK` (8000) slots, and these libraries report
//!   it (`stack overflow (…)`, `Cannot serialise, excessive nesting (N)`):
//!   it is what bounds `cmsgpack.unpack`'s and `struct.unpack`'s results and
//!   the nesting `cjson` and `cmsgpack` reach. The libraries count the slots
//!   the C code would use ([`MAX_C_STACK`]) and fail at the same point with
//!   the same message.
//! - **Their argument checks** (`luaL_checklstring`, `luaL_checknumber`,
//!   `luaL_checkinteger`, `luaL_optinteger`) accept numbers for strings and
//!   numeric strings for numbers, and name the type they got, `no value` for
//!   a missing argument: see [`Args`].
//!
//! A Rust callback made with `Lua::create_function` cannot raise a string:
//! its error reaches Lua as a userdata wrapping an `mlua::Error`, which a
//! script's `pcall` would hand back instead of the string Redis gives. So
//! each library function is a safe Rust function wrapped in a small C
//! closure, the *trampoline* ([`c_function`]): the Rust side reports a
//! [`Failure`] as ordinary return values, and the trampoline — a C function
//! that the script called, exactly where Redis's C function would be —
//! raises it with the real `luaL_where`, `luaL_argerror` and `lua_error` of
//! the Lua 5.1 that runs the script, after every Rust frame is gone, so
//! positions and names come out as Redis's.
//!
//! The Rust side receives its arguments in one table and returns many
//! results in one table, so that it never holds more than a few mlua
//! references at once, whatever the number of arguments or results (mlua
//! keeps its references on an auxiliary Lua stack that has the same
//! 8000-slot limit, and panics when it is full).

// The trampoline is a C function on the raw Lua API (`mlua::ffi`): mlua has
// no safe way to make a function whose errors are plain strings raised by
// `luaL_error`/`luaL_argerror`. The unsafe code is `c_function` and
// `trampoline` only; everything else here is safe.
#![allow(unsafe_code)]

use std::os::raw::c_int;

use mlua::{ffi, Function, IntoLua, Lua, LuaString, Table, Value};

/// `LUAI_MAXCSTACK`: the most stack slots a C function may use (Lua 5.1's
/// `lua_checkstack` fails beyond it).
pub(super) const MAX_C_STACK: usize = 8000;

/// Why a library function stops with a Lua error.
#[derive(Debug)]
pub(super) enum Failure {
    /// `luaL_error(L, "%s", message)`: the caller's position, then the text.
    Error(Vec<u8>),
    /// An error of the Lua core inside the C function (`luaG_runerror`),
    /// such as `table index is nil`: the text as is, without a position.
    Plain(Vec<u8>),
    /// `luaL_argerror(L, narg, message)`: `bad argument #narg to 'name'
    /// (message)`, or `calling 'name' on bad self` for a method call.
    Arg(i32, Vec<u8>),
    /// An error of mlua itself (out of memory, …), passed on as mlua raises
    /// it.
    Lua(mlua::Error),
}

impl Failure {
    /// A `luaL_error`.
    pub(super) fn error(message: impl Into<Vec<u8>>) -> Failure {
        Failure::Error(message.into())
    }

    /// A `luaL_argerror`.
    pub(super) fn arg(narg: i32, message: impl Into<Vec<u8>>) -> Failure {
        Failure::Arg(narg, message.into())
    }

    /// `luaL_typerror(L, narg, expected)`: `<expected> expected, got <type>`,
    /// where `got` is the Lua type name of the argument or `no value`.
    pub(super) fn type_error(narg: i32, expected: &str, got: &str) -> Failure {
        Failure::arg(narg, format!("{expected} expected, got {got}"))
    }

    /// `luaL_checkstack` failing: `stack overflow (<what>)`.
    pub(super) fn stack_overflow(what: &str) -> Failure {
        Failure::error(format!("stack overflow ({what})"))
    }
}

impl From<mlua::Error> for Failure {
    fn from(e: mlua::Error) -> Self {
        Failure::Lua(e)
    }
}

/// What a library function's body returns.
pub(super) type Outcome<T> = Result<T, Failure>;

/// What a library function returns to the script.
pub(super) enum Ret {
    /// One value.
    One(Value),
    /// `n` values, in `t[1..=n]` (nils included).
    Many(Table, usize),
}

/// What a library function may return: any one Lua value, or a [`Ret`].
pub(super) trait Returns {
    /// The results as the trampoline takes them.
    fn into_ret(self, lua: &Lua) -> mlua::Result<Ret>;
}

impl<T: IntoLua> Returns for T {
    fn into_ret(self, lua: &Lua) -> mlua::Result<Ret> {
        Ok(Ret::One(self.into_lua(lua)?))
    }
}

impl Returns for Ret {
    fn into_ret(self, _: &Lua) -> mlua::Result<Ret> {
        Ok(self)
    }
}

/// The arguments of a call, as the C function sees its stack.
pub(super) struct Args<'a> {
    lua: &'a Lua,
    table: Table,
    count: usize,
}

impl Args<'_> {
    /// `lua_gettop`: how many arguments the caller passed.
    pub(super) fn count(&self) -> usize {
        self.count
    }

    /// Argument `i` (1-based); nil when absent.
    pub(super) fn get(&self, i: usize) -> mlua::Result<Value> {
        if i == 0 || i > self.count {
            return Ok(Value::Nil);
        }
        self.table.raw_get(i)
    }

    /// `luaL_typename` of argument `i`: `no value` when absent.
    pub(super) fn type_name(&self, i: usize) -> mlua::Result<&'static str> {
        if i == 0 || i > self.count {
            return Ok("no value");
        }
        Ok(lua_type_name(&self.get(i)?))
    }

    /// `luaL_checklstring`: a string, or a number converted as Lua converts
    /// it (`%.14g`); otherwise `string expected, got <type>`.
    pub(super) fn check_string(&self, i: usize) -> Outcome<LuaString> {
        let v = self.get(i)?;
        match v {
            Value::String(s) => Ok(s),
            Value::Integer(_) | Value::Number(_) => match self.lua.coerce_string(v)? {
                Some(s) => Ok(s),
                None => Err(self.type_error(i, "string")?),
            },
            _ => Err(self.type_error(i, "string")?),
        }
    }

    /// `luaL_checknumber`: a number, or a string Lua converts to one;
    /// otherwise `number expected, got <type>`.
    pub(super) fn check_number(&self, i: usize) -> Outcome<f64> {
        match to_number(self.lua, self.get(i)?)? {
            Some(n) => Ok(n),
            None => Err(self.type_error(i, "number")?),
        }
    }

    /// `luaL_checkinteger`: `luaL_checknumber`, then C's cast to
    /// `lua_Integer` (truncation; out of range gives `i64::MIN` on x86-64).
    pub(super) fn check_integer(&self, i: usize) -> Outcome<i64> {
        Ok(c_f64_to_i64(self.check_number(i)?))
    }

    /// `luaL_optinteger`: `default` when the argument is absent or nil.
    pub(super) fn opt_integer(&self, i: usize, default: i64) -> Outcome<i64> {
        match self.get(i)? {
            Value::Nil => Ok(default),
            _ => self.check_integer(i),
        }
    }

    /// `luaL_typerror`'s failure for argument `i`.
    fn type_error(&self, i: usize, expected: &str) -> mlua::Result<Failure> {
        Ok(Failure::type_error(i as i32, expected, self.type_name(i)?))
    }
}

/// `lua_tonumber` with `lua_isnumber`: a number, or a string in Lua's number
/// syntax (`" 0x10 "` included).
pub(super) fn to_number(lua: &Lua, v: Value) -> mlua::Result<Option<f64>> {
    match v {
        Value::Integer(i) => Ok(Some(i as f64)),
        Value::Number(n) => Ok(Some(n)),
        Value::String(_) => lua.coerce_number(v),
        _ => Ok(None),
    }
}

/// `lua_typename(lua_type(v))` as Lua 5.1 names types: light userdata is
/// `userdata` too, and so is anything mlua keeps as an opaque value.
pub(super) fn lua_type_name(v: &Value) -> &'static str {
    match v {
        Value::Nil => "nil",
        Value::Boolean(_) => "boolean",
        Value::Integer(_) | Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Table(_) => "table",
        Value::Function(_) => "function",
        Value::Thread(_) => "thread",
        _ => "userdata",
    }
}

/// C's `(int64_t)d` / `(lua_Integer)d` as x86-64 computes it
/// (`cvttsd2si`): truncation toward zero, and `INT64_MIN` for NaN and
/// values out of range, where Rust's `as` would saturate instead.
pub(super) fn c_f64_to_i64(d: f64) -> i64 {
    const LIMIT: f64 = 9_223_372_036_854_775_808.0; // 2^63
    if d.is_nan() || !(-LIMIT..LIMIT).contains(&d) {
        i64::MIN
    } else {
        d as i64
    }
}

/// C's `(int)d` on x86-64: truncation, `INT_MIN` for NaN and out of range.
pub(super) fn c_f64_to_i32(d: f64) -> i32 {
    // (-2^31 - 1, 2^31) truncates into range; NaN is in no range.
    if !(d > -2_147_483_649.0 && d < 2_147_483_648.0) {
        i32::MIN
    } else {
        d as i32
    }
}

/// C's `(uint64_t)d` / `(size_t)d` as GCC compiles it on x86-64: below 2^63
/// (negative numbers and NaN included) the signed conversion, reinterpreted;
/// from 2^63 up, the signed conversion of `d - 2^63` with the top bit
/// flipped (so 2^64 and infinity give 0).
pub(super) fn c_f64_to_u64(d: f64) -> u64 {
    const TWO_63: f64 = 9_223_372_036_854_775_808.0;
    if d >= TWO_63 {
        (c_f64_to_i64(d - TWO_63) as u64) ^ (1 << 63)
    } else {
        c_f64_to_i64(d) as u64
    }
}

/// The table kept in `slot`, made on first use. The libraries keep the
/// tables of the levels they have open (and their pending keys) in such a
/// table rather than as mlua references, of which mlua holds only about
/// 8000 at once, so deep input does not exhaust them.
pub(super) fn scratch_table(lua: &Lua, slot: &mut Option<Table>) -> mlua::Result<Table> {
    if let Some(t) = slot {
        return Ok(t.clone());
    }
    let t = lua.create_table()?;
    *slot = Some(t.clone());
    Ok(t)
}

// ---- the trampoline ----------------------------------------------------------

// Status codes from the Rust function to its trampoline, the first of the
// three values it returns: (ST_ONE, value, nil), (ST_MANY, table, n),
// (ST_ERROR or ST_PLAIN, message, nil) or (ST_ARG, message, narg).
const ST_ONE: i64 = 0;
const ST_MANY: i64 = 1;
const ST_ERROR: i64 = 2;
const ST_PLAIN: i64 = 3;
const ST_ARG: i64 = 4;

/// Wraps `body` as a Lua function that behaves like a C library function:
/// arguments and results as the C function sees them, failures raised as
/// plain strings (see the module documentation).
pub(super) fn c_function<F, R>(lua: &Lua, body: F) -> mlua::Result<Function>
where
    F: Fn(&Lua, &Args) -> Outcome<R> + mlua::MaybeSend + 'static,
    R: Returns,
{
    let inner = lua.create_function(move |lua, (table, count): (Table, usize)| {
        let args = Args { lua, table, count };
        let ret = match body(lua, &args) {
            Ok(results) => results.into_ret(lua)?,
            Err(failure) => return raise_values(lua, failure),
        };
        Ok(match ret {
            Ret::One(v) => (ST_ONE, v, Value::Nil),
            Ret::Many(t, n) => (ST_MANY, Value::Table(t), Value::Integer(n as i64)),
        })
    })?;
    // SAFETY: `exec_raw` runs the closure in protected mode with `inner`
    // pushed on the stack; `lua_pushcclosure` pops it as the one upvalue of
    // the trampoline and leaves the new function, which `exec_raw` returns.
    unsafe {
        lua.exec_raw(inner, |state| {
            ffi::lua_pushcclosure(state, trampoline, 1);
        })
    }
}

/// The values by which the Rust side asks the trampoline to raise
/// `failure`; an mlua error propagates as mlua raises it.
fn raise_values(lua: &Lua, failure: Failure) -> mlua::Result<(i64, Value, Value)> {
    let (status, message, narg) = match failure {
        Failure::Error(m) => (ST_ERROR, m, Value::Nil),
        Failure::Plain(m) => (ST_PLAIN, m, Value::Nil),
        Failure::Arg(narg, m) => (ST_ARG, m, Value::Integer(narg.into())),
        Failure::Lua(e) => return Err(e),
    };
    Ok((status, Value::String(lua.create_string(message)?), narg))
}

/// The C side of [`c_function`]. It calls its upvalue (the Rust function)
/// with `(args table, argument count)`, then returns what it returned or
/// raises the error it asked for, with the same `lua_error`, `luaL_where`
/// and `luaL_argerror` a C library uses: positions and function names are
/// those of the script's call.
///
/// No Rust value with a destructor lives in this frame, so Lua's `longjmp`
/// out of it (an error in `lua_call`, or the error raised here) is safe, as
/// in mlua's own callbacks.
unsafe extern "C-unwind" fn trampoline(state: *mut ffi::lua_State) -> c_int {
    // SAFETY: called by Lua as a C closure with one upvalue (set by
    // `c_function`); every stack index used below is within the slots Lua
    // guarantees a C function (LUA_MINSTACK beyond its arguments), or
    // checked with lua_checkstack. The Rust function always returns three
    // values (see the ST_* codes).
    unsafe {
        let nargs = ffi::lua_gettop(state);
        // [args…] → [argt] with argt[i] = argument i.
        ffi::lua_createtable(state, nargs, 0);
        ffi::lua_insert(state, 1);
        let mut i = nargs;
        while i >= 1 {
            ffi::lua_rawseti_(state, 1, i);
            i -= 1;
        }
        ffi::lua_pushvalue(state, ffi::lua_upvalueindex(1));
        ffi::lua_insert(state, 1);
        ffi::lua_pushinteger(state, nargs as ffi::lua_Integer);
        ffi::lua_call(state, 2, 3);
        // [status, a, b]
        match ffi::lua_tonumber(state, 1) as i64 {
            ST_ONE => {
                ffi::lua_settop(state, 2);
                1
            }
            ST_MANY => {
                let n = ffi::lua_tonumber(state, 3) as c_int;
                ffi::lua_settop(state, 2);
                ffi::lua_replace(state, 1);
                // The libraries keep their results within LUAI_MAXCSTACK.
                if n > 0 && ffi::lua_checkstack(state, n) == 0 {
                    ffi::lua_pushstring_(state, c"stack overflow (too many results)".as_ptr());
                    ffi::lua_error(state);
                }
                for k in 1..=n {
                    ffi::lua_rawgeti_(state, 1, k);
                }
                n
            }
            ST_ERROR => {
                // luaL_error: where(1) .. message.
                ffi::lua_settop(state, 2);
                ffi::luaL_where(state, 1);
                ffi::lua_insert(state, 2);
                ffi::lua_concat(state, 2);
                ffi::lua_error(state)
            }
            ST_PLAIN => {
                ffi::lua_settop(state, 2);
                ffi::lua_error(state)
            }
            _ => {
                let narg = ffi::lua_tonumber(state, 3) as c_int;
                let message = ffi::lua_tolstring(state, 2, std::ptr::null_mut());
                ffi::luaL_argerror(state, narg, message)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn c_casts_follow_x86_64() {
        assert_eq!(c_f64_to_i64(1.9), 1);
        assert_eq!(c_f64_to_i64(-1.9), -1);
        assert_eq!(c_f64_to_i64(f64::NAN), i64::MIN);
        assert_eq!(c_f64_to_i64(9.3e18), i64::MIN);
        assert_eq!(c_f64_to_i64(-(2f64.powi(63))), i64::MIN);
        assert_eq!(c_f64_to_i64(-1e19), i64::MIN);
        assert_eq!(c_f64_to_i64(2f64.powi(63) - 1024.0), i64::MAX - 1023);
        assert_eq!(c_f64_to_i32(2_147_483_648.0), i32::MIN);
        assert_eq!(c_f64_to_i32(-2_147_483_648.5), i32::MIN);
        assert_eq!(c_f64_to_i32(-2_147_483_647.5), -2_147_483_647);
        assert_eq!(c_f64_to_i32(f64::NAN), i32::MIN);
        assert_eq!(c_f64_to_u64(18_446_744_073_709_551_616.0), 0);
        assert_eq!(c_f64_to_u64(f64::INFINITY), 0);
        assert_eq!(c_f64_to_u64(f64::NAN), 1 << 63);
        assert_eq!(c_f64_to_u64(-1.0), u64::MAX);
        assert_eq!(
            c_f64_to_u64(9_223_372_036_854_779_904.0),
            0x8000_0000_0000_1000
        );
    }
}
