//! The C libraries Redis 7.0 gives scripts, written on mlua: `cjson`
//! (lua-cjson 2.1.0), `struct` (struct.c 1.7), `cmsgpack` (lua-cmsgpack
//! 0.4.0) and `bit` (LuaBitOp 1.0.2), as `deps/lua/src/lua_*.c` build them.
//!
//! Each library module has an `open` function that builds its table;
//! [`load_libraries`] installs them as globals, as Redis's
//! `luaLoadLibraries` does, before the sandbox (`prelude.lua`) keeps the
//! allowed globals and makes the library tables read-only. They are
//! observably the C libraries: same results, same errors (text and
//! position), same limits. [`clib`] holds what they share: behaving like a
//! Lua C function (errors raised as plain strings by a C trampoline, Lua's
//! C-stack limit, argument conversions) and C's numeric casts.

mod bit;
mod cjson;
mod clib;
mod cmsgpack;
mod struct_lib;
#[cfg(test)]
mod tests;

use mlua::Lua;

/// Redis's `luaLoadLibraries`, for the four C libraries: each table set as
/// the global of its name, in Redis's order.
pub(super) fn load_libraries(lua: &Lua) -> mlua::Result<()> {
    let globals = lua.globals();
    globals.raw_set("cjson", cjson::open(lua)?)?;
    globals.raw_set("struct", struct_lib::open(lua)?)?;
    globals.raw_set("cmsgpack", cmsgpack::open(lua)?)?;
    globals.raw_set("bit", bit::open(lua)?)?;
    Ok(())
}
