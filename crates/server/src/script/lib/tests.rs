//! The libraries against redis-server 7.0.15's replies, and what those
//! cases cannot show: error positions on later lines, nesting at Redis's
//! limits on a small native stack, values only Rust can make, bad input,
//! and the state moving between threads.
//!
//! The cases (`tests/data/lualib/*.cases`, recorded from redis-server by
//! `record.py` there) each run in a fresh Lua state with the four
//! libraries, compiled as `@user_script` as Redis names a script, and their
//! value is rendered as Redis converts a script's value to a RESP2 reply
//! (`luaReplyToRedisReply`), in `record.py`'s notation.

use mlua::{Function, Lua, MultiValue, Table, Value};

use super::clib::c_f64_to_i64;
use super::load_libraries;

/// A Lua 5.1 state with the libraries installed as Redis installs them.
fn lua() -> Lua {
    let lua = Lua::new();
    load_libraries(&lua).expect("the libraries load");
    lua
}

/// Runs `snippet` in `lua` as a script and renders its reply; an error is
/// `(error) <message>`, the part of Redis's error reply that the script and
/// its libraries make.
fn run_in(lua: &Lua, snippet: &str) -> String {
    let chunk = match lua.load(snippet).set_name("@user_script").into_function() {
        Ok(f) => f,
        Err(e) => return format!("(compile error) {e}"),
    };
    let pcall: Function = lua.globals().get("pcall").expect("pcall");
    let res: MultiValue = pcall.call(chunk).expect("pcall returns");
    let mut it = res.into_iter();
    let ok = matches!(it.next(), Some(Value::Boolean(true)));
    match (ok, it.next().unwrap_or(Value::Nil)) {
        (true, v) => render(&v),
        (false, Value::String(s)) => format!("(error) {}", s.to_string_lossy()),
        (false, other) => format!("(non-string error) {other:?}"),
    }
}

/// Runs `snippet` in a fresh state.
fn run(snippet: &str) -> String {
    run_in(&lua(), snippet)
}

/// A bulk string as `record.py` quotes it.
fn quote(bytes: &[u8]) -> String {
    let mut s = String::from("\"");
    for &b in bytes {
        match b {
            b'"' => s.push_str("\\\""),
            b'\\' => s.push_str("\\\\"),
            0x20..=0x7e => s.push(char::from(b)),
            _ => s.push_str(&format!("\\x{b:02x}")),
        }
    }
    s.push('"');
    s
}

/// Redis's RESP2 conversion of a script's value: numbers truncated to
/// integers (C's cast), strings as bulk strings, `true` as 1, `false` and
/// nil as nil, `{err=…}`/`{ok=…}` as error/status, other tables as arrays up
/// to their first nil; anything else is nil.
fn render(value: &Value) -> String {
    match value {
        Value::String(s) => quote(&s.as_bytes()),
        Value::Integer(i) => c_f64_to_i64(*i as f64).to_string(),
        Value::Number(n) => c_f64_to_i64(*n).to_string(),
        Value::Boolean(true) => "1".to_string(),
        Value::Table(t) => render_table(t),
        _ => "nil".to_string(),
    }
}

fn render_table(t: &Table) -> String {
    if let Ok(Value::String(e)) = t.raw_get::<Value>("err") {
        let e = e.to_string_lossy();
        return format!("(error) {}", e.strip_prefix("ERR ").unwrap_or(&e));
    }
    if let Ok(Value::String(s)) = t.raw_get::<Value>("ok") {
        return format!("+{}", s.to_string_lossy());
    }
    let mut items = Vec::new();
    for i in 1.. {
        match t.raw_get::<Value>(i) {
            Ok(Value::Nil) | Err(_) => break,
            Ok(v) => items.push(render(&v)),
        }
    }
    format!("[{}]", items.join(", "))
}

/// The cases of a `.cases` file: (group, line number, snippet, reply).
fn cases(text: &str) -> Vec<(&str, usize, &str, &str)> {
    let mut out = Vec::new();
    let mut group = "";
    let mut lines = text.lines().enumerate().peekable();
    while let Some((n, line)) = lines.next() {
        if let Some(g) = line.strip_prefix("## ") {
            group = g;
        } else if !line.is_empty() && !line.starts_with('#') {
            let reply = lines.next().and_then(|(_, l)| l.strip_prefix("=> "));
            let reply = reply.unwrap_or_else(|| panic!("line {}: no `=> ` reply", n + 2));
            out.push((group, n + 1, line, reply));
        }
    }
    out
}

/// Runs every case of a `.cases` file and reports every mismatch at once.
fn check_cases(name: &str, text: &str) {
    let all = cases(text);
    assert!(!all.is_empty(), "{name} has no cases");
    let failures: Vec<String> = all
        .iter()
        .filter_map(|&(group, line, snippet, expected)| {
            let got = run(snippet);
            (got != expected).then(|| {
                format!("{name}:{line} ({group}): {snippet}\n  redis: {expected}\n  ours:  {got}")
            })
        })
        .collect();
    assert!(
        failures.is_empty(),
        "{} of {} cases differ from redis-server:\n{}",
        failures.len(),
        all.len(),
        failures.join("\n")
    );
}

/// A test that runs the cases of one `.cases` file.
macro_rules! cases_test {
    ($test:ident, $file:literal) => {
        #[test]
        fn $test() {
            let text = include_str!(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/tests/data/lualib/",
                $file
            ));
            check_cases($file, text);
        }
    };
}

cases_test!(cjson_matches_redis, "cjson.cases");
cases_test!(bit_matches_redis, "bit.cases");
cases_test!(cmsgpack_matches_redis, "cmsgpack.cases");
cases_test!(struct_matches_redis, "struct.cases");

/// Errors carry the line of the script that called the function, as
/// `luaL_error` gives it. Expected texts from redis-server 7.0.15:
/// `ERR user_script:3: Expected value but found invalid token at character 1
/// script: ..., on @user_script:3.` and so on.
#[test]
fn errors_point_at_the_calling_line() {
    assert_eq!(
        run("local a = 1\n\nreturn cjson.decode('x')"),
        "(error) user_script:3: Expected value but found invalid token at character 1"
    );
    assert_eq!(
        run("local ok, e = pcall(function()\n  local x = bit.band({})\nend)\nreturn e"),
        r#""user_script:2: bad argument #1 to 'band' (number expected, got table)""#
    );
    assert_eq!(
        run("local f = function(s)\n return cjson.encode(s)\nend\nreturn f(f)"),
        "(error) user_script:2: Cannot serialise function: type not supported"
    );
}

/// Runs `f` on a thread with a 256 KiB stack: enough for the Lua
/// interpreter, far too little for a recursion thousands of levels deep.
fn on_small_stack(f: impl FnOnce() + Send + 'static) {
    std::thread::Builder::new()
        .stack_size(256 * 1024)
        .spawn(f)
        .expect("spawn")
        .join()
        .expect("no stack overflow");
}

/// The deepest nestings Redis encodes and decodes once the depth options are
/// raised, and the first it refuses (Lua's C-stack limit), need no deep
/// native stack. The same script on redis-server 7.0.15 replied 15994,
/// "Cannot serialise, excessive nesting (7998)", 23990, "Cannot serialise,
/// excessive nesting (4000)", "table", "Found too many nested data
/// structures (7999) at character 7999", "table", "Found too many nested
/// data structures (4000) at character 19996"; and 100,000 nested
/// MessagePack arrays fail as Lua's C stack runs out.
#[test]
fn deepest_nesting_redis_allows_needs_no_deep_native_stack() {
    on_small_stack(|| {
        let script = r#"
            cjson.encode_max_depth(100000)
            cjson.decode_max_depth(100000)
            local function nest(n, key)
                local t = {} local c = t
                for i = 1, n - 1 do c[key] = {} c = c[key] end
                return t
            end
            local r = {}
            r[1] = #cjson.encode(nest(7997, 1))
            r[2] = select(2, pcall(cjson.encode, nest(7998, 1)))
            r[3] = #cjson.encode(nest(3999, 'a'))
            r[4] = select(2, pcall(cjson.encode, nest(4000, 'a')))
            r[5] = type(cjson.decode(string.rep('[', 7998) .. string.rep(']', 7998)))
            r[6] = select(2, pcall(cjson.decode, string.rep('[', 7999)))
            r[7] = type(cjson.decode(string.rep('{"a":', 3999) .. '1' .. string.rep('}', 3999)))
            r[8] = select(2, pcall(cjson.decode, string.rep('{"a":', 4000)))
            r[9] = select(2, pcall(cmsgpack.unpack, string.rep('\145', 100000)))
            return r
        "#;
        assert_eq!(
            run(script),
            concat!(
                r#"[15994, "Cannot serialise, excessive nesting (7998)", 23990, "#,
                r#""Cannot serialise, excessive nesting (4000)", "table", "#,
                r#""Found too many nested data structures (7999) at character 7999", "table", "#,
                r#""Found too many nested data structures (4000) at character 19996", "#,
                r#""stack overflow (in function mp_decode_to_lua_array)"]"#
            )
        );
    });
}

/// Userdata other than `cjson.null`, which only Rust can make here, is
/// refused as a value and as a key.
#[test]
fn userdata_is_refused() {
    let lua = lua();
    let encode: Function = lua
        .globals()
        .get::<Table>("cjson")
        .and_then(|c| c.get("encode"))
        .expect("cjson.encode");
    let pcall: Function = lua.globals().get("pcall").expect("pcall");
    let light = Value::LightUserData(mlua::LightUserData(8 as *mut std::ffi::c_void));
    let full = Value::UserData(lua.create_any_userdata(5u8).expect("userdata"));
    for value in [light, full] {
        let (ok, message): (bool, String) = pcall.call((&encode, value.clone())).expect("pcall");
        assert!(!ok);
        assert_eq!(message, "Cannot serialise userdata: type not supported");
        let table = lua.create_table().expect("table");
        table.raw_set(value, 1).expect("set");
        let (_, message): (bool, String) = pcall.call((&encode, table)).expect("pcall");
        assert_eq!(
            message,
            "Cannot serialise userdata: table key must be a number or string"
        );
    }
}

/// What decoding gives, seen from Rust: `cjson.null` is a NULL light
/// userdata, `-0` keeps its sign, NUL bytes stay in strings.
#[test]
fn values_seen_from_rust() {
    let lua = lua();
    let decoded: Table = lua
        .load(r#"return cjson.decode('[null, -0, 1.5, "a\\u0000b"]')"#)
        .eval()
        .expect("decode");
    assert_eq!(decoded.raw_get::<Value>(1).expect("1"), Value::NULL);
    match decoded.raw_get::<Value>(2).expect("2") {
        Value::Number(n) => assert!(n == 0.0 && n.is_sign_negative()),
        other => panic!("-0 decoded as {other:?}"),
    }
    assert_eq!(decoded.raw_get::<f64>(3).expect("3"), 1.5);
    assert_eq!(
        decoded
            .raw_get::<mlua::LuaString>(4)
            .expect("4")
            .as_bytes()
            .as_ref(),
        b"a\0b"
    );
    let null: Value = lua.load("return cjson.null").eval().expect("null");
    assert_eq!(null, Value::NULL);
}

/// relica moves interpreters between threads (a lazy SCRIPT FLUSH drops
/// one on another thread): the libraries keep the state `Send`.
#[test]
fn state_with_the_libraries_moves_between_threads() {
    fn assert_send<T: Send>(_: &T) {}
    let lua = lua();
    assert_send(&lua);
    let lua = std::thread::spawn(move || {
        let r: String = lua
            .load("return cjson.encode({bit.tohex(255, -2)})")
            .eval()
            .expect("run");
        assert_eq!(r, r#"["FF"]"#);
        let n: i64 = lua
            .load("return cmsgpack.unpack(cmsgpack.pack(struct.unpack('>h', '\\1\\2')))")
            .eval()
            .expect("run");
        assert_eq!(n, 258);
        lua
    })
    .join()
    .expect("thread");
    let r: f64 = lua.load("return bit.bnot(0)").eval().expect("run");
    assert_eq!(r, -1.0);
}

/// Options belong to one module table: `cjson.new()` starts from the
/// defaults, and a module's options stay as set between calls (and
/// between scripts, until the interpreter is rebuilt, as in Redis).
#[test]
fn options_belong_to_their_table() {
    let lua = lua();
    assert_eq!(
        run_in(
            &lua,
            "cjson.encode_number_precision(3) return cjson.encode(1/3)"
        ),
        r#""0.333""#
    );
    assert_eq!(
        run_in(&lua, "return {cjson.encode(1/3), cjson.new().encode(1/3)}"),
        r#"["0.333", "0.33333333333333"]"#
    );
}

/// Runs `code`, which returns true when every check inside passed.
fn lua_ok(code: &str) {
    let ok: Value = lua()
        .load(code)
        .set_name("@robustness")
        .eval()
        .expect("runs");
    assert_eq!(ok, Value::Boolean(true), "{code}");
}

/// Bad input never panics and never raises anything but a string: random
/// bytes, formats and arguments through every function.
#[test]
fn random_input_gives_values_or_string_errors() {
    lua_ok(
        r#"
        math.randomseed(42)
        local function bytes(n, lo, hi)
          local t = {}
          for i = 1, n do t[i] = string.char(math.random(lo, hi)) end
          return table.concat(t)
        end
        local function check(ok, err)
          return ok or type(err) == 'string'
        end
        local fmtchars = '<>!bBhHlLTiIfdxcs0123456789 #\255'
        local jsonchars = '{}[],:"\\ 0123456789.eE+-tfnul\0\255'
        for i = 1, 3000 do
          local s = bytes(math.random(0, 24), 0, 255)
          if not check(pcall(cmsgpack.unpack, s)) then return false end
          if not check(pcall(cmsgpack.unpack_one, s, math.random(-2, 26))) then return false end
          if not check(pcall(cmsgpack.unpack_limit, s, math.random(-1, 5), math.random(0, 26))) then return false end
          if not check(pcall(cjson.decode, s)) then return false end
          local f, j = {}, {}
          for k = 1, math.random(0, 8) do
            local c = math.random(1, #fmtchars)
            f[k] = fmtchars:sub(c, c)
          end
          for k = 1, math.random(0, 16) do
            local c = math.random(1, #jsonchars)
            j[k] = jsonchars:sub(c, c)
          end
          f = table.concat(f)
          if not check(pcall(cjson.decode, table.concat(j))) then return false end
          if not check(pcall(struct.unpack, f, s, math.random(-1, 26))) then return false end
          if not check(pcall(struct.pack, f, math.random(-1e6, 1e6), s, -1, 2^70, 'x', 0/0)) then return false end
          if not check(pcall(struct.size, f)) then return false end
          if not check(pcall(bit.tohex, s, math.random(-9, 9))) then return false end
        end
        return true
        "#,
    );
}

/// Hostile sizes and depths stay bounded: Lua's C-stack limit, not a
/// crash; counts with no data behind them; sizes that would allocate
/// gigabytes.
#[test]
fn hostile_sizes_and_depths_are_bounded() {
    lua_ok(
        r#"
        local function fails_with(want, f, ...)
          local ok, err = pcall(f, ...)
          return not ok and type(err) == 'string' and err:find(want, 1, true) ~= nil
        end
        return
          fails_with('stack overflow (in function mp_decode_to_lua_array)',
            cmsgpack.unpack, string.rep('\145', 100000))
          and fails_with('stack overflow (too many return values',
            cmsgpack.unpack, string.rep('\129\1', 100000))
          and fails_with('Missing bytes in input.', cmsgpack.unpack, '\221\255\255\255\255')
          and fails_with('Missing bytes in input.', cmsgpack.unpack, '\223\255\255\255\255')
          and fails_with('Missing bytes in input.', cmsgpack.unpack, '\219\255\255\255\255')
          and fails_with('stack overflow (too many return values',
            cmsgpack.unpack, string.rep('\192', 100000))
          and fails_with('stack overflow (too many results)',
            struct.unpack, string.rep('b', 100000), string.rep('a', 100000))
          and fails_with('string too short', struct.pack, 'c2147483647', 'a')
          and fails_with('data string too short', struct.unpack, 'c2147483647', 'a')
          and fails_with('data string too short', struct.unpack, 'bc0', '\127')
          and fails_with('integral size overflow', struct.size, 'c99999999999999')
          and fails_with('Cannot serialise, excessive nesting (1001)',
            cjson.encode, (function() local t = {} t[1] = t return t end)())
        "#,
    );
}

/// Self-referencing and wide tables pack: a table that is its own key and
/// value gives 2^16 encodings, as in Redis (each reference is encoded again
/// down to the depth limit).
#[test]
fn cycles_and_wide_tables_pack() {
    lua_ok(
        r#"
        local t = {} t[t] = t
        local s = cmsgpack.pack(t)
        local wide = {}
        for i = 1, 200000 do wide[i] = i end
        local w = cmsgpack.unpack(cmsgpack.pack(wide))
        local map = {}
        for i = 1, 50000 do map['k' .. i] = {i} end
        local m = cmsgpack.unpack(cmsgpack.pack(map))
        local j = cjson.decode(cjson.encode(wide))
        return #s > 0 and #w == 200000 and w[200000] == 200000 and m.k50000[1] == 50000
          and #j == 200000
        "#,
    );
}
