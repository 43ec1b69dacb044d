//! String and generic key commands, including expiry (lazy and active).

use std::time::Duration;

use crate::util::{wait_for, Diff, Server};

#[test]
fn set_options() {
    let s = Server::start(&[]);
    let mut r = s.raw();
    assert_eq!(r.call(&["SET", "k", "v", "NX"]), "+OK\r\n");
    assert_eq!(r.call(&["SET", "k", "w", "NX"]), "$-1\r\n");
    assert_eq!(r.call(&["SET", "k", "w", "XX", "GET"]), "$1\r\nv\r\n");
    assert_eq!(r.call(&["SET", "nokey", "w", "XX"]), "$-1\r\n");
    assert_eq!(r.call(&["SET", "k", "x", "EX", "100"]), "+OK\r\n");
    let ttl: i64 = r
        .call(&["TTL", "k"])
        .trim_start_matches(':')
        .trim()
        .parse()
        .unwrap();
    assert!((99..=100).contains(&ttl));
    assert_eq!(r.call(&["SET", "k", "y", "KEEPTTL"]), "+OK\r\n");
    let pttl: i64 = r
        .call(&["PTTL", "k"])
        .trim_start_matches(':')
        .trim()
        .parse()
        .unwrap();
    assert!((90_000..=100_000).contains(&pttl), "{pttl}");
    assert_eq!(r.call(&["SET", "k", "z"]), "+OK\r\n");
    assert_eq!(r.call(&["TTL", "k"]), ":-1\r\n");
    assert_eq!(
        r.call(&["SET", "k", "v", "NX", "XX"]),
        "-ERR syntax error\r\n"
    );
    assert_eq!(
        r.call(&["SET", "k", "v", "EX", "10", "PX", "100"]),
        "-ERR syntax error\r\n"
    );
    assert_eq!(
        r.call(&["SET", "k", "v", "EX", "0"]),
        "-ERR invalid expire time in 'set' command\r\n"
    );
    assert_eq!(
        r.call(&["SET", "k", "v", "EX", "abc"]),
        "-ERR value is not an integer or out of range\r\n"
    );
    assert_eq!(
        r.call(&["SET", "k", "v", "KEEPTTL", "EX", "1"]),
        "-ERR syntax error\r\n"
    );
    let at = (std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
        + 1000)
        .to_string();
    assert_eq!(r.call(&["SET", "k", "v", "EXAT", &at]), "+OK\r\n");
    assert_eq!(r.call(&["EXPIRETIME", "k"]), format!(":{at}\r\n"));
}

#[test]
fn string_commands() {
    let s = Server::start(&[]);
    let mut r = s.raw();
    assert_eq!(r.call(&["APPEND", "s", "hello"]), ":5\r\n");
    assert_eq!(r.call(&["APPEND", "s", " world"]), ":11\r\n");
    assert_eq!(r.call(&["STRLEN", "s"]), ":11\r\n");
    assert_eq!(r.call(&["GETRANGE", "s", "0", "4"]), "$5\r\nhello\r\n");
    assert_eq!(r.call(&["GETRANGE", "s", "-5", "-1"]), "$5\r\nworld\r\n");
    assert_eq!(r.call(&["GETRANGE", "s", "5", "1"]), "$0\r\n\r\n");
    assert_eq!(r.call(&["SUBSTR", "s", "0", "0"]), "$1\r\nh\r\n");
    assert_eq!(r.call(&["SETRANGE", "s", "6", "WORLD"]), ":11\r\n");
    assert_eq!(r.call(&["GET", "s"]), "$11\r\nhello WORLD\r\n");
    assert_eq!(r.call(&["SETRANGE", "n", "3", "x"]), ":4\r\n");
    assert_eq!(r.call(&["GET", "n"]), "$4\r\n\0\0\0x\r\n");
    assert_eq!(
        r.call(&["SETRANGE", "n", "-1", "x"]),
        "-ERR offset is out of range\r\n"
    );
    assert_eq!(
        r.call(&["SETRANGE", "big", "536870911", "xx"]),
        "-ERR string exceeds maximum allowed size (proto-max-bulk-len)\r\n"
    );
    assert_eq!(r.call(&["MSET", "a", "1", "b", "2"]), "+OK\r\n");
    assert_eq!(
        r.call(&["MSET", "a", "1", "b"]),
        "-ERR wrong number of arguments for 'mset' command\r\n"
    );
    assert_eq!(
        r.call(&["MGET", "a", "b", "nope"]),
        "*3\r\n$1\r\n1\r\n$1\r\n2\r\n$-1\r\n"
    );
    assert_eq!(r.call(&["MSETNX", "a", "9", "c", "3"]), ":0\r\n");
    assert_eq!(r.call(&["MSETNX", "c", "3", "d", "4"]), ":1\r\n");
    assert_eq!(r.call(&["GETSET", "a", "x"]), "$1\r\n1\r\n");
    assert_eq!(r.call(&["GETDEL", "a"]), "$1\r\nx\r\n");
    assert_eq!(r.call(&["EXISTS", "a"]), ":0\r\n");
    assert_eq!(r.call(&["SETNX", "a", "1"]), ":1\r\n");
    assert_eq!(r.call(&["SETNX", "a", "2"]), ":0\r\n");
    assert_eq!(r.call(&["SETEX", "e", "100", "v"]), "+OK\r\n");
    assert_eq!(r.call(&["PSETEX", "e", "100000", "v"]), "+OK\r\n");
    assert_eq!(
        r.call(&["SETEX", "e", "-1", "v"]),
        "-ERR invalid expire time in 'setex' command\r\n"
    );
    assert_eq!(r.call(&["GETEX", "e", "PERSIST"]), "$1\r\nv\r\n");
    assert_eq!(r.call(&["TTL", "e"]), ":-1\r\n");
    assert_eq!(r.call(&["GETEX", "e", "EX", "50"]), "$1\r\nv\r\n");
    assert_eq!(r.call(&["TTL", "e"]), ":50\r\n");
    assert_eq!(r.call(&["LCS", "a", "b"]), "$0\r\n\r\n");
    r.call(&["MSET", "k1", "ohmytext", "k2", "mynewtext"]);
    assert_eq!(r.call(&["LCS", "k1", "k2"]), "$6\r\nmytext\r\n");
    assert_eq!(r.call(&["LCS", "k1", "k2", "LEN"]), ":6\r\n");
    assert_eq!(
        r.call(&["LCS", "k1", "k2", "IDX", "MINMATCHLEN", "4", "WITHMATCHLEN"]),
        "*4\r\n$7\r\nmatches\r\n*1\r\n*3\r\n*2\r\n:4\r\n:7\r\n*2\r\n:5\r\n:8\r\n:4\r\n$3\r\nlen\r\n:6\r\n"
    );
}

#[test]
fn counters() {
    let s = Server::start(&[]);
    let mut r = s.raw();
    assert_eq!(r.call(&["INCR", "c"]), ":1\r\n");
    assert_eq!(r.call(&["INCRBY", "c", "10"]), ":11\r\n");
    assert_eq!(r.call(&["DECR", "c"]), ":10\r\n");
    assert_eq!(r.call(&["DECRBY", "c", "20"]), ":-10\r\n");
    r.call(&["SET", "c", "9223372036854775807"]);
    assert_eq!(
        r.call(&["INCR", "c"]),
        "-ERR increment or decrement would overflow\r\n"
    );
    assert_eq!(
        r.call(&["DECRBY", "c", "-9223372036854775808"]),
        "-ERR decrement would overflow\r\n"
    );
    r.call(&["SET", "c", " 1"]);
    assert_eq!(
        r.call(&["INCR", "c"]),
        "-ERR value is not an integer or out of range\r\n"
    );
    assert_eq!(
        r.call(&["INCRBY", "c", "1.5"]),
        "-ERR value is not an integer or out of range\r\n"
    );
    assert_eq!(r.call(&["INCRBYFLOAT", "f", "10.5"]), "$4\r\n10.5\r\n");
    assert_eq!(r.call(&["INCRBYFLOAT", "f", "-5.1"]), "$3\r\n5.4\r\n");
    r.call(&["SET", "f", "17179869184"]);
    assert_eq!(
        r.call(&["INCRBYFLOAT", "f", "1.5"]),
        "$13\r\n17179869185.5\r\n"
    );
    assert_eq!(
        r.call(&["INCRBYFLOAT", "f", "abc"]),
        "-ERR value is not a valid float\r\n"
    );
    // long double, as Redis: 1e308 + 1e308 is fine, 1.1e4932 twice is not.
    r.call(&["SET", "f", "1e308"]);
    assert!(r
        .call(&["INCRBYFLOAT", "f", "1e308"])
        .starts_with("$309\r\n"));
    r.call(&["SET", "f", "1.1e4932"]);
    assert_eq!(
        r.call(&["INCRBYFLOAT", "f", "1.1e4932"]),
        "-ERR increment would produce NaN or Infinity\r\n"
    );
    r.call(&["SET", "i", "123"]);
    assert_eq!(r.call(&["OBJECT", "ENCODING", "i"]), "$3\r\nint\r\n");
    r.call(&["APPEND", "i", "4"]);
    assert_eq!(r.call(&["OBJECT", "ENCODING", "i"]), "$3\r\nraw\r\n");
    r.call(&["SET", "e", "short"]);
    assert_eq!(r.call(&["OBJECT", "ENCODING", "e"]), "$6\r\nembstr\r\n");
    r.call(&["SET", "e", &"x".repeat(45)]);
    assert_eq!(r.call(&["OBJECT", "ENCODING", "e"]), "$3\r\nraw\r\n");
}

#[test]
fn key_commands() {
    let s = Server::start(&[]);
    let mut r = s.raw();
    r.call(&["MSET", "a", "1", "b", "2", "c", "3"]);
    assert_eq!(r.call(&["DEL", "a", "b", "zz"]), ":2\r\n");
    assert_eq!(r.call(&["UNLINK", "c"]), ":1\r\n");
    r.call(&["SET", "x", "1"]);
    assert_eq!(r.call(&["TYPE", "x"]), "+string\r\n");
    assert_eq!(r.call(&["TYPE", "nope"]), "+none\r\n");
    assert_eq!(r.call(&["RENAME", "nope", "y"]), "-ERR no such key\r\n");
    r.call(&["EXPIRE", "x", "100"]);
    assert_eq!(r.call(&["RENAME", "x", "y"]), "+OK\r\n");
    assert!(r.call(&["TTL", "y"]).starts_with(":10") || r.call(&["TTL", "y"]).starts_with(":9"));
    r.call(&["SET", "z", "9"]);
    assert_eq!(r.call(&["RENAMENX", "y", "z"]), ":0\r\n");
    assert_eq!(r.call(&["COPY", "y", "z"]), ":0\r\n");
    assert_eq!(r.call(&["COPY", "y", "z", "REPLACE"]), ":1\r\n");
    assert_eq!(
        r.call(&["COPY", "y", "y"]),
        "-ERR source and destination objects are the same\r\n"
    );
    assert_eq!(r.call(&["COPY", "y", "w", "DB", "1"]), ":1\r\n");
    assert_eq!(
        r.call(&["COPY", "y", "w", "DB", "99"]),
        "-ERR DB index is out of range\r\n"
    );
    assert_eq!(r.call(&["MOVE", "z", "2"]), ":1\r\n");
    assert_eq!(r.call(&["MOVE", "z", "2"]), ":0\r\n");
    r.call(&["SELECT", "2"]);
    assert_eq!(r.call(&["GET", "z"]), "$1\r\n1\r\n");
    assert_eq!(r.call(&["SWAPDB", "0", "2"]), "+OK\r\n");
    assert_eq!(r.call(&["DBSIZE"]), ":1\r\n");
    r.call(&["SELECT", "0"]);
    assert_eq!(r.call(&["GET", "z"]), "$1\r\n1\r\n");
    assert_eq!(
        r.call(&["SELECT", "16"]),
        "-ERR DB index is out of range\r\n"
    );
    assert_eq!(r.call(&["TOUCH", "z", "nope"]), ":1\r\n");
    assert_eq!(r.call(&["RANDOMKEY"]), "$1\r\nz\r\n");
    assert_eq!(r.call(&["FLUSHDB"]), "+OK\r\n");
    assert_eq!(r.call(&["RANDOMKEY"]), "$-1\r\n");
    r.call(&["SELECT", "1"]);
    assert_eq!(r.call(&["DBSIZE"]), ":1\r\n");
    assert_eq!(r.call(&["FLUSHALL", "ASYNC"]), "+OK\r\n");
    assert_eq!(r.call(&["DBSIZE"]), ":0\r\n");
    assert_eq!(r.call(&["FLUSHALL", "BOGUS"]), "-ERR syntax error\r\n");
}

#[test]
fn keys_and_scan() {
    let s = Server::start(&[]);
    let mut c = s.conn();
    for i in 0..500 {
        let _: () = redis::cmd("SET")
            .arg(format!("user:{i}"))
            .arg(i)
            .query(&mut c)
            .unwrap();
    }
    let _: () = redis::cmd("SET").arg("other").arg(1).query(&mut c).unwrap();
    let mut keys: Vec<String> = redis::cmd("KEYS").arg("user:1?").query(&mut c).unwrap();
    keys.sort();
    assert_eq!(
        keys,
        (10..20).map(|i| format!("user:{i}")).collect::<Vec<_>>()
    );
    let mut seen = std::collections::HashSet::new();
    let mut cursor = 0u64;
    loop {
        let (next, batch): (u64, Vec<String>) = redis::cmd("SCAN")
            .arg(cursor)
            .arg("MATCH")
            .arg("user:*")
            .arg("COUNT")
            .arg(7)
            .query(&mut c)
            .unwrap();
        seen.extend(batch);
        cursor = next;
        if cursor == 0 {
            break;
        }
    }
    assert_eq!(seen.len(), 500);
    let (_, only): (u64, Vec<String>) = redis::cmd("SCAN")
        .arg(0)
        .arg("TYPE")
        .arg("list")
        .arg("COUNT")
        .arg(1000)
        .query(&mut c)
        .unwrap();
    assert!(only.is_empty());
    let mut r = s.raw();
    assert_eq!(r.call(&["SCAN", "abc"]), "-ERR invalid cursor\r\n");
    assert_eq!(
        r.call(&["SCAN", "0", "COUNT", "0"]),
        "-ERR syntax error\r\n"
    );
}

#[test]
fn expire_family_and_lazy_expiry() {
    let s = Server::start(&[]);
    let mut r = s.raw();
    r.call(&["DEBUG", "SET-ACTIVE-EXPIRE", "0"]);
    r.call(&["SET", "k", "v"]);
    assert_eq!(r.call(&["EXPIRE", "k", "100", "XX"]), ":0\r\n");
    assert_eq!(r.call(&["EXPIRE", "k", "100", "NX"]), ":1\r\n");
    assert_eq!(r.call(&["EXPIRE", "k", "50", "GT"]), ":0\r\n");
    assert_eq!(r.call(&["EXPIRE", "k", "50", "LT"]), ":1\r\n");
    assert_eq!(
        r.call(&["EXPIRE", "k", "50", "NX", "XX"]),
        "-ERR NX and XX, GT or LT options at the same time are not compatible\r\n"
    );
    assert_eq!(
        r.call(&["EXPIRE", "k", "50", "GT", "LT"]),
        "-ERR GT and LT options at the same time are not compatible\r\n"
    );
    assert_eq!(
        r.call(&["EXPIRE", "k", "50", "FOO"]),
        "-ERR Unsupported option FOO\r\n"
    );
    assert_eq!(
        r.call(&["EXPIRE", "k", "9223372036854775807"]),
        "-ERR invalid expire time in 'expire' command\r\n"
    );
    assert_eq!(r.call(&["PERSIST", "k"]), ":1\r\n");
    assert_eq!(r.call(&["PERSIST", "k"]), ":0\r\n");
    assert_eq!(r.call(&["TTL", "nope"]), ":-2\r\n");
    assert_eq!(r.call(&["PEXPIRE", "k", "50"]), ":1\r\n");
    // Lazy expiry: the key vanishes on access after its time.
    wait_for("lazy expiry", Duration::from_secs(5), || {
        r.call(&["GET", "k"]) == "$-1\r\n"
    });
    assert_eq!(r.call(&["EXISTS", "k"]), ":0\r\n");
    r.call(&["SET", "k", "v"]);
    assert_eq!(r.call(&["EXPIREAT", "k", "1"]), ":1\r\n");
    assert_eq!(r.call(&["EXISTS", "k"]), ":0\r\n");
    let info = r.call(&["INFO", "stats"]);
    assert!(info.contains("expired_keys:1"), "{info}");
}

#[test]
fn active_expiry_reclaims_unread_keys() {
    let s = Server::start(&["--hz", "100"]);
    let mut r = s.raw();
    for i in 0..200 {
        r.call(&["SET", &format!("t{i}"), "v", "PX", "30"]);
    }
    r.call(&["SET", "keep", "v"]);
    wait_for("active expiry", Duration::from_secs(10), || {
        r.call(&["DBSIZE"]) == ":1\r\n"
    });
    let info = r.call(&["INFO", "stats"]);
    assert!(info.contains("expired_keys:200"), "{info}");
}

#[test]
fn differential_strings_against_redis() {
    let mut d = Diff::start(&[]);
    for cmd in [
        &["SET", "a", "10"][..],
        &["INCRBYFLOAT", "a", "0.1"],
        &["INCRBYFLOAT", "a", "3.0e3"],
        &["INCRBYFLOAT", "a", "-0.2"],
        &["APPEND", "a", "xyz"],
        &["GETRANGE", "a", "-5", "-1"],
        &["SETRANGE", "b", "5", "hi"],
        &["GET", "b"],
        &["OBJECT", "ENCODING", "a"],
        &["INCR", "a"],
        &["MSETNX", "a", "1", "c", "2"],
        &["LCS", "a", "b"],
        &["GETEX", "a", "PX", "0"],
        &["SET", "n", "9223372036854775807"],
        &["INCR", "n"],
        &["OBJECT", "ENCODING", "n"],
    ] {
        d.same_str(cmd);
    }
}

// TYPE, EXISTS, the TTL family and OBJECT ENCODING look at a key without
// refreshing its access time (Redis's LOOKUP_NOTOUCH); GET refreshes it.
#[test]
fn inspecting_a_key_leaves_its_idle_time() {
    let s = Server::start(&[]);
    let mut r = s.raw();
    r.call(&["SET", "foo", "bar"]);
    let idle = |r: &mut crate::util::Raw| -> i64 {
        r.call(&["OBJECT", "IDLETIME", "foo"])[1..]
            .trim()
            .parse()
            .unwrap()
    };
    wait_for("idle", Duration::from_secs(20), || idle(&mut r) >= 2);
    for cmd in [
        &["TYPE", "foo"][..],
        &["EXISTS", "foo"],
        &["TTL", "foo"],
        &["PTTL", "foo"],
        &["EXPIRETIME", "foo"],
        &["PEXPIRETIME", "foo"],
        &["OBJECT", "ENCODING", "foo"],
    ] {
        r.call(cmd);
    }
    assert!(idle(&mut r) >= 2);
    r.call(&["GET", "foo"]);
    assert!(idle(&mut r) < 2);
}

/// A database of a few keys is scanned in one call, as Redis scans a small
/// table: all of them and cursor 0 (and expired ones met are deleted).
#[test]
fn scan_of_a_small_database_is_one_call() {
    let mut d = Diff::start(&[]);
    for k in ["a", "b", "c", "d", "e"] {
        d.same_str(&["SET", k, "1"]);
    }
    d.same_unordered(&[b"SCAN", b"0"]);
    d.same_str(&["DEBUG", "SET-ACTIVE-EXPIRE", "0"]);
    d.same_str(&["PEXPIRE", "a", "1"]);
    wait_for("a to expire", Duration::from_secs(5), || {
        d.ours.call(&["KEYS", "a"]) == "*0\r\n" && d.theirs.call(&["KEYS", "a"]) == "*0\r\n"
    });
    d.same_unordered(&[b"SCAN", b"0"]);
    assert_eq!(d.same_str(&["DBSIZE"]), ":4\r\n");
}
