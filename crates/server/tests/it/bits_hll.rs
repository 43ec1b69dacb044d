//! Bitmap (SETBIT … BITFIELD_RO) and HyperLogLog (PF*) commands: replies,
//! errors, side effects, and differential runs against a real
//! redis-server, down to the raw bytes of HyperLogLog values.

use std::time::Duration;

use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};

use crate::util::{Diff, Raw, Server};

const WRONG_ARGS: &str = "-ERR wrong number of arguments for";

fn int(r: &mut Raw, args: &[&str]) -> i64 {
    let s = r.call(args);
    s.strip_prefix(':')
        .and_then(|s| s.trim_end().parse().ok())
        .unwrap_or_else(|| panic!("{args:?} answered {s:?}"))
}

fn bytes(r: &mut Raw, args: &[&[u8]]) -> Vec<u8> {
    r.cmd(args);
    r.reply()
}

fn info_field(r: &mut Raw, field: &str) -> i64 {
    let s = r.call(&["INFO", "persistence"]);
    let line = s
        .lines()
        .find_map(|l| l.strip_prefix(&format!("{field}:")))
        .unwrap_or_else(|| panic!("no {field} in {s}"));
    line.trim().parse().expect("number")
}

#[test]
fn setbit_getbit() {
    let s = Server::start(&[]);
    let mut r = s.raw();
    assert_eq!(r.call(&["SETBIT", "k", "7", "1"]), ":0\r\n");
    assert_eq!(r.call(&["GET", "k"]), "$1\r\n\x01\r\n");
    assert_eq!(r.call(&["SETBIT", "k", "7", "1"]), ":1\r\n");
    assert_eq!(r.call(&["SETBIT", "k", "7", "0"]), ":1\r\n");
    assert_eq!(r.call(&["GETBIT", "k", "7"]), ":0\r\n");
    assert_eq!(r.call(&["SETBIT", "k", "17", "1"]), ":0\r\n");
    assert_eq!(r.call(&["STRLEN", "k"]), ":3\r\n");
    assert_eq!(r.call(&["GETBIT", "k", "17"]), ":1\r\n");
    assert_eq!(r.call(&["GETBIT", "k", "100000"]), ":0\r\n");
    assert_eq!(r.call(&["GETBIT", "missing", "3"]), ":0\r\n");
    // SETBIT k n 0 creates the key.
    assert_eq!(r.call(&["SETBIT", "z", "15", "0"]), ":0\r\n");
    assert_eq!(r.call(&["GET", "z"]), "$2\r\n\x00\x00\r\n");
    assert_eq!(r.call(&["OBJECT", "ENCODING", "z"]), "$3\r\nraw\r\n");
    // Integer-encoded strings are their decimal text ('1' = 0x31).
    r.call(&["SET", "n", "1"]);
    assert_eq!(r.call(&["GETBIT", "n", "2"]), ":1\r\n");
    assert_eq!(r.call(&["GETBIT", "n", "4"]), ":0\r\n");
    assert_eq!(r.call(&["OBJECT", "ENCODING", "n"]), "$3\r\nint\r\n");
    assert_eq!(r.call(&["SETBIT", "n", "6", "1"]), ":0\r\n");
    assert_eq!(r.call(&["GET", "n"]), "$1\r\n3\r\n");
    assert_eq!(r.call(&["OBJECT", "ENCODING", "n"]), "$3\r\nraw\r\n");
    // Errors.
    let off = "-ERR bit offset is not an integer or out of range\r\n";
    let bit = "-ERR bit is not an integer or out of range\r\n";
    for bad in [
        "-1",
        "abc",
        "1.5",
        " 1",
        "01",
        "4294967296",
        "99999999999999999999",
    ] {
        assert_eq!(r.call(&["SETBIT", "k", bad, "1"]), off, "{bad}");
        assert_eq!(r.call(&["GETBIT", "k", bad]), off, "{bad}");
    }
    // The last valid offset reads without allocating (the 512 MB write
    // is covered with a 1 MB limit in the next test).
    assert_eq!(r.call(&["GETBIT", "k", "4294967295"]), ":0\r\n");
    r.call(&["DEL", "k"]);
    for bad in ["2", "-1", "x", ""] {
        assert_eq!(r.call(&["SETBIT", "k", "1", bad]), bit, "{bad}");
    }
    // The offset is checked before the value.
    assert_eq!(r.call(&["SETBIT", "k", "x", "x"]), off);
    assert_eq!(r.call(&["EXISTS", "k"]), ":0\r\n");
    // Not a HyperLogLog but a string: bit commands work on it.
    r.call(&["SET", "s", "a"]);
    assert_eq!(r.call(&["SETBIT", "s", "6", "1"]), ":0\r\n");
    assert_eq!(r.call(&["GET", "s"]), "$1\r\nc\r\n");
    assert!(r.call(&["SETBIT", "k", "1"]).starts_with(WRONG_ARGS));
    assert!(r
        .call(&["SETBIT", "k", "1", "1", "1"])
        .starts_with(WRONG_ARGS));
    assert!(r.call(&["GETBIT", "k"]).starts_with(WRONG_ARGS));
    assert!(r.call(&["GETBIT", "k", "1", "2"]).starts_with(WRONG_ARGS));
}

#[test]
fn setbit_limit_follows_proto_max_bulk_len() {
    let s = Server::start(&["--proto-max-bulk-len", "1048576"]);
    let mut r = s.raw();
    let off = "-ERR bit offset is not an integer or out of range\r\n";
    assert_eq!(r.call(&["SETBIT", "k", "8388608", "1"]), off);
    assert_eq!(r.call(&["GETBIT", "k", "8388608"]), off);
    assert_eq!(r.call(&["BITFIELD", "k", "GET", "u8", "8388608"]), off);
    assert_eq!(
        r.call(&["BITFIELD", "k", "SET", "u8", "#1048576", "1"]),
        off
    );
    assert_eq!(r.call(&["SETBIT", "k", "8388607", "1"]), ":0\r\n");
    assert_eq!(r.call(&["STRLEN", "k"]), ":1048576\r\n");
    assert_eq!(
        r.call(&["CONFIG", "SET", "proto-max-bulk-len", "2mb"]),
        "+OK\r\n"
    );
    assert_eq!(r.call(&["SETBIT", "k", "8388608", "1"]), ":0\r\n");
}

#[test]
fn setbit_keeps_ttl_and_counts_changes_only() {
    let s = Server::start(&[]);
    let mut r = s.raw();
    r.call(&["SET", "k", "\x00"]);
    r.call(&["EXPIRE", "k", "1000"]);
    assert_eq!(r.call(&["SETBIT", "k", "3", "1"]), ":0\r\n");
    assert_eq!(
        r.call(&["BITFIELD", "k", "SET", "u4", "4", "9"]),
        "*1\r\n:0\r\n"
    );
    assert!(int(&mut r, &["TTL", "k"]) > 0);
    let d0 = info_field(&mut r, "rdb_changes_since_last_save");
    r.call(&["SETBIT", "k", "3", "1"]); // no change
    r.call(&["SETBIT", "k", "0", "0"]); // no change
    r.call(&["BITFIELD", "k", "SET", "u4", "4", "9"]); // no change
    assert_eq!(info_field(&mut r, "rdb_changes_since_last_save"), d0);
    r.call(&["SETBIT", "k", "0", "1"]);
    r.call(&[
        "BITFIELD", "k", "SET", "u4", "4", "1", "INCRBY", "u4", "4", "1",
    ]);
    assert_eq!(info_field(&mut r, "rdb_changes_since_last_save"), d0 + 3);
    // BITOP replaces the value and drops the TTL, as SET does.
    r.call(&["BITOP", "NOT", "k", "k"]);
    assert_eq!(r.call(&["TTL", "k"]), ":-1\r\n");
}

#[test]
fn watch_sees_only_real_changes() {
    let s = Server::start(&[]);
    let mut r = s.raw();
    let mut other = s.raw();
    r.call(&["SETBIT", "k", "5", "1"]);
    for (cmd, aborted) in [
        (&["SETBIT", "k", "5", "1"][..], false),
        (&["BITFIELD", "k", "GET", "u8", "0"], false),
        (
            &[
                "BITFIELD", "k", "OVERFLOW", "FAIL", "INCRBY", "u2", "4", "8",
            ],
            false,
        ),
        (&["SETBIT", "k", "5", "0"], true),
        (&["BITFIELD", "k", "INCRBY", "u8", "0", "1"], true),
        (&["BITOP", "OR", "k", "k"], true),
    ] {
        r.call(&["WATCH", "k"]);
        other.call(cmd);
        r.call(&["MULTI"]);
        r.call(&["PING"]);
        let want = if aborted {
            "*-1\r\n"
        } else {
            "*1\r\n+PONG\r\n"
        };
        assert_eq!(r.call(&["EXEC"]), want, "{cmd:?}");
    }
}

#[test]
fn bitcount_and_bitpos() {
    let s = Server::start(&[]);
    let mut r = s.raw();
    r.call(&["SET", "k", "foobar"]);
    assert_eq!(r.call(&["BITCOUNT", "k"]), ":26\r\n");
    assert_eq!(r.call(&["BITCOUNT", "k", "0", "0"]), ":4\r\n");
    assert_eq!(r.call(&["BITCOUNT", "k", "1", "1"]), ":6\r\n");
    assert_eq!(r.call(&["BITCOUNT", "k", "1", "1", "BYTE"]), ":6\r\n");
    assert_eq!(r.call(&["BITCOUNT", "k", "5", "30", "BIT"]), ":17\r\n");
    assert_eq!(r.call(&["BITCOUNT", "k", "-2", "-1"]), ":7\r\n");
    assert_eq!(r.call(&["BITCOUNT", "k", "-1", "-5"]), ":0\r\n");
    // start > end with both negative answers 0 before the unit is read.
    assert_eq!(r.call(&["BITCOUNT", "k", "-1", "-5", "nope"]), ":0\r\n");
    assert_eq!(r.call(&["BITCOUNT", "k", "100", "200"]), ":0\r\n");
    assert_eq!(r.call(&["BITCOUNT", "k", "0"]), "-ERR syntax error\r\n");
    assert_eq!(
        r.call(&["BITCOUNT", "k", "0", "1", "BYTE", "x"]),
        "-ERR syntax error\r\n"
    );
    assert_eq!(
        r.call(&["BITCOUNT", "k", "0", "1", "bits"]),
        "-ERR syntax error\r\n"
    );
    assert_eq!(
        r.call(&["BITCOUNT", "k", "a", "1"]),
        "-ERR value is not an integer or out of range\r\n"
    );
    // A missing key is 0 whatever follows.
    assert_eq!(r.call(&["BITCOUNT", "nokey", "a"]), ":0\r\n");
    assert_eq!(r.call(&["BITCOUNT", "nokey"]), ":0\r\n");
    assert!(r.call(&["BITCOUNT"]).starts_with(WRONG_ARGS));

    r.call(&["SET", "p", "\u{0}\u{7f}"]);
    r.call(&["SET", "ones", "\x7f"]);
    r.send(b"*3\r\n$3\r\nSET\r\n$4\r\nfull\r\n$2\r\n\xff\xff\r\n");
    r.reply();
    assert_eq!(r.call(&["BITPOS", "p", "1"]), ":9\r\n");
    assert_eq!(r.call(&["BITPOS", "p", "0"]), ":0\r\n");
    assert_eq!(r.call(&["BITPOS", "p", "1", "1"]), ":9\r\n");
    assert_eq!(r.call(&["BITPOS", "p", "1", "0", "8", "BIT"]), ":-1\r\n");
    assert_eq!(r.call(&["BITPOS", "p", "1", "0", "9", "BIT"]), ":9\r\n");
    assert_eq!(r.call(&["BITPOS", "p", "0", "9", "-1", "bit"]), ":-1\r\n");
    // Looking for a 0 in all ones: past the end without an end, -1 with.
    assert_eq!(r.call(&["BITPOS", "full", "0"]), ":16\r\n");
    assert_eq!(r.call(&["BITPOS", "full", "0", "1"]), ":16\r\n");
    assert_eq!(r.call(&["BITPOS", "full", "0", "0", "-1"]), ":-1\r\n");
    assert_eq!(r.call(&["BITPOS", "full", "1", "5", "3"]), ":-1\r\n");
    assert_eq!(
        r.call(&["BITPOS", "ones", "0", "1", "-1", "BIT"]),
        ":-1\r\n"
    );
    assert_eq!(r.call(&["BITPOS", "nokey", "0"]), ":0\r\n");
    assert_eq!(r.call(&["BITPOS", "nokey", "1"]), ":-1\r\n");
    assert_eq!(r.call(&["BITPOS", "nokey", "1", "x"]), ":-1\r\n");
    assert_eq!(
        r.call(&["BITPOS", "p", "2"]),
        "-ERR The bit argument must be 1 or 0.\r\n"
    );
    assert_eq!(
        r.call(&["BITPOS", "nokey", "x"]),
        "-ERR value is not an integer or out of range\r\n"
    );
    assert_eq!(
        r.call(&["BITPOS", "p", "1", "0", "1", "BYTE", "x"]),
        "-ERR syntax error\r\n"
    );
    assert_eq!(
        r.call(&["BITPOS", "p", "1", "0", "1", "x"]),
        "-ERR syntax error\r\n"
    );
    assert_eq!(
        r.call(&["BITPOS", "p", "1", "y"]),
        "-ERR value is not an integer or out of range\r\n"
    );
    assert!(r.call(&["BITPOS", "p"]).starts_with(WRONG_ARGS));
}

#[test]
fn bitop() {
    let s = Server::start(&[]);
    let mut r = s.raw();
    r.call(&["SET", "a", "abc"]);
    r.call(&["SET", "b", "\x0f"]);
    assert_eq!(r.call(&["BITOP", "AND", "d", "a", "b"]), ":3\r\n");
    assert_eq!(r.call(&["GET", "d"]), "$3\r\n\x01\x00\x00\r\n");
    assert_eq!(r.call(&["OBJECT", "ENCODING", "d"]), "$3\r\nraw\r\n");
    assert_eq!(r.call(&["BITOP", "or", "d", "a", "b", "missing"]), ":3\r\n");
    assert_eq!(r.call(&["GET", "d"]), "$3\r\nobc\r\n");
    assert_eq!(r.call(&["BITOP", "Xor", "d", "a", "a"]), ":3\r\n");
    assert_eq!(r.call(&["GET", "d"]), "$3\r\n\x00\x00\x00\r\n");
    assert_eq!(r.call(&["BITOP", "NOT", "d", "b"]), ":1\r\n");
    assert_eq!(bytes(&mut r, &[b"GET", b"d"]), b"$1\r\n\xf0\r\n");
    // The destination may be a source.
    assert_eq!(r.call(&["BITOP", "NOT", "b", "b"]), ":1\r\n");
    assert_eq!(r.call(&["BITCOUNT", "b"]), ":4\r\n");
    // Integer-encoded sources are their text.
    r.call(&["SET", "n", "12"]);
    assert_eq!(r.call(&["BITOP", "AND", "d", "n"]), ":2\r\n");
    assert_eq!(r.call(&["GET", "d"]), "$2\r\n12\r\n");
    // An empty result deletes the destination.
    r.call(&["SET", "e", ""]);
    assert_eq!(r.call(&["BITOP", "OR", "d", "e", "missing"]), ":0\r\n");
    assert_eq!(r.call(&["EXISTS", "d"]), ":0\r\n");
    assert_eq!(r.call(&["BITOP", "OR", "d", "e"]), ":0\r\n");
    assert_eq!(
        r.call(&["BITOP", "NOT", "d", "a", "b"]),
        "-ERR BITOP NOT must be called with a single source key.\r\n"
    );
    assert_eq!(
        r.call(&["BITOP", "NAND", "d", "a"]),
        "-ERR syntax error\r\n"
    );
    assert!(r.call(&["BITOP", "AND", "d"]).starts_with(WRONG_ARGS));
}

#[test]
fn bitfield() {
    let s = Server::start(&[]);
    let mut r = s.raw();
    // Only GETs never create the key.
    assert_eq!(r.call(&["BITFIELD", "k", "GET", "u8", "0"]), "*1\r\n:0\r\n");
    assert_eq!(r.call(&["BITFIELD", "k"]), "*0\r\n");
    assert_eq!(
        r.call(&["BITFIELD_RO", "k", "GET", "i8", "#3"]),
        "*1\r\n:0\r\n"
    );
    assert_eq!(r.call(&["EXISTS", "k"]), ":0\r\n");
    assert_eq!(
        r.call(&["BITFIELD", "k", "SET", "i8", "0", "-100", "GET", "i8", "0", "GET", "u8", "0"]),
        "*3\r\n:0\r\n:-100\r\n:156\r\n"
    );
    assert_eq!(
        r.call(&[
            "BITFIELD", "k", "INCRBY", "u2", "100", "1", "OVERFLOW", "SAT", "INCRBY", "u2", "102",
            "9"
        ]),
        "*2\r\n:1\r\n:3\r\n"
    );
    assert_eq!(
        r.call(&[
            "BITFIELD", "k", "OVERFLOW", "FAIL", "INCRBY", "i4", "#0", "-2", "OVERFLOW", "WRAP",
            "INCRBY", "i4", "#0", "-2"
        ]),
        "*2\r\n$-1\r\n:7\r\n"
    );
    assert_eq!(
        r.call(&[
            "BITFIELD",
            "k",
            "SET",
            "i64",
            "0",
            "-9223372036854775808",
            "GET",
            "i64",
            "0"
        ]),
        "*2\r\n:8935141660703064064\r\n:-9223372036854775808\r\n"
    );
    assert_eq!(
        r.call(&[
            "BITFIELD",
            "k",
            "SET",
            "u63",
            "1",
            "9223372036854775807",
            "GET",
            "u63",
            "1"
        ]),
        "*2\r\n:0\r\n:9223372036854775807\r\n"
    );
    // Writes that all fail still create a missing key, zero-filled.
    assert_eq!(
        r.call(&["BITFIELD", "f", "OVERFLOW", "FAIL", "INCRBY", "u8", "8", "300"]),
        "*1\r\n$-1\r\n"
    );
    assert_eq!(r.call(&["GET", "f"]), "$2\r\n\x00\x00\r\n");
    // Errors, all checked before the key is looked at.
    let ty = "-ERR Invalid bitfield type. Use something like i16 u8. Note that u64 is not supported but i64 is.\r\n";
    for t in ["u64", "i65", "i0", "x8", "u", "I8", "u08"] {
        assert_eq!(r.call(&["BITFIELD", "k", "GET", t, "0"]), ty, "{t}");
    }
    let off = "-ERR bit offset is not an integer or out of range\r\n";
    assert_eq!(r.call(&["BITFIELD", "k", "GET", "u8", "-1"]), off);
    assert_eq!(r.call(&["BITFIELD", "k", "GET", "u8", "#-1"]), off);
    assert_eq!(r.call(&["BITFIELD", "k", "GET", "u8", "##1"]), off);
    assert_eq!(
        r.call(&["BITFIELD", "k", "SET", "u8", "0", "x"]),
        "-ERR value is not an integer or out of range\r\n"
    );
    assert_eq!(
        r.call(&["BITFIELD", "k", "OVERFLOW", "MAYBE", "GET", "u8", "0"]),
        "-ERR Invalid OVERFLOW type specified\r\n"
    );
    assert_eq!(
        r.call(&["BITFIELD", "k", "GET", "u8"]),
        "-ERR syntax error\r\n"
    );
    assert_eq!(
        r.call(&["BITFIELD", "k", "FOO", "u8", "0"]),
        "-ERR syntax error\r\n"
    );
    assert_eq!(
        r.call(&["BITFIELD", "k", "OVERFLOW"]),
        "-ERR syntax error\r\n"
    );
    assert_eq!(
        r.call(&["BITFIELD_RO", "k", "GET", "u8", "0", "SET", "u8", "0", "1"]),
        "-ERR BITFIELD_RO only supports the GET subcommand\r\n"
    );
    assert_eq!(
        r.call(&["BITFIELD_RO", "k", "INCRBY", "u8", "0", "x"]),
        "-ERR value is not an integer or out of range\r\n"
    );
    assert!(r.call(&["BITFIELD"]).starts_with(WRONG_ARGS));
    assert!(r.call(&["BITFIELD_RO"]).starts_with(WRONG_ARGS));
}

#[test]
fn hyperloglog_basics() {
    let s = Server::start(&[]);
    let mut r = s.raw();
    assert_eq!(r.call(&["PFADD", "h"]), ":1\r\n");
    assert_eq!(r.call(&["EXISTS", "h"]), ":1\r\n");
    assert_eq!(r.call(&["PFADD", "h"]), ":0\r\n");
    assert_eq!(r.call(&["PFCOUNT", "h"]), ":0\r\n");
    assert_eq!(r.call(&["PFADD", "h", "a", "b", "c"]), ":1\r\n");
    assert_eq!(r.call(&["PFADD", "h", "a", "b", "c"]), ":0\r\n");
    assert_eq!(r.call(&["PFADD", "h", ""]), ":1\r\n");
    assert_eq!(r.call(&["PFCOUNT", "h"]), ":4\r\n");
    assert_eq!(r.call(&["PFCOUNT", "nokey"]), ":0\r\n");
    assert_eq!(r.call(&["OBJECT", "ENCODING", "h"]), "$3\r\nraw\r\n");
    // The cache byte: valid after PFCOUNT, stale after a change.
    assert_eq!(r.call(&["GETRANGE", "h", "15", "15"]), "$1\r\n\x00\r\n");
    r.call(&["PFADD", "h", "a"]);
    assert_eq!(r.call(&["GETRANGE", "h", "15", "15"]), "$1\r\n\x00\r\n");
    r.call(&["PFADD", "h", "x", "y", "z"]);
    assert_eq!(
        bytes(&mut r, &[b"GETRANGE", b"h", b"15", b"15"]),
        b"$1\r\n\x80\r\n"
    );
    assert_eq!(r.call(&["PFCOUNT", "h"]), ":7\r\n");

    r.call(&["PFADD", "h1", "a", "b", "c"]);
    r.call(&["PFADD", "h2", "b", "c", "d"]);
    r.call(&["PFADD", "h3", "c", "d", "e"]);
    assert_eq!(r.call(&["PFCOUNT", "h1", "h2", "h3", "missing"]), ":5\r\n");
    // Multi-key PFCOUNT writes nothing.
    let before = r.call(&["GET", "h1"]);
    assert_eq!(r.call(&["PFCOUNT", "h1", "h1"]), ":3\r\n");
    assert_eq!(r.call(&["GET", "h1"]), before);
    assert_eq!(r.call(&["PFMERGE", "m", "h1", "h2", "h3"]), "+OK\r\n");
    assert_eq!(r.call(&["PFCOUNT", "m"]), ":5\r\n");
    assert_eq!(r.call(&["PFMERGE", "h1", "h2"]), "+OK\r\n");
    assert_eq!(r.call(&["PFCOUNT", "h1"]), ":4\r\n");
    assert_eq!(r.call(&["PFMERGE", "empty"]), "+OK\r\n");
    assert_eq!(r.call(&["PFCOUNT", "empty"]), ":0\r\n");
    // PFMERGE keeps the destination's TTL (it edits it in place).
    r.call(&["EXPIRE", "m", "1000"]);
    r.call(&["PFMERGE", "m", "h"]);
    assert!(int(&mut r, &["TTL", "m"]) > 0);

    // Strings that are not HyperLogLogs.
    let wt = "-WRONGTYPE Key is not a valid HyperLogLog string value.\r\n";
    r.call(&["SET", "foo", "bar"]);
    r.call(&["SET", "num", "12345678901234567"]);
    assert_eq!(r.call(&["PFADD", "foo", "1"]), wt);
    assert_eq!(r.call(&["PFADD", "num"]), wt);
    assert_eq!(r.call(&["PFCOUNT", "foo"]), wt);
    assert_eq!(r.call(&["PFCOUNT", "h", "foo"]), wt);
    assert_eq!(r.call(&["PFMERGE", "bar", "foo"]), wt);
    assert_eq!(r.call(&["PFMERGE", "foo", "bar"]), wt);
    assert_eq!(r.call(&["PFDEBUG", "ENCODING", "foo"]), wt);
    assert_eq!(r.call(&["EXISTS", "bar"]), ":0\r\n");
    // The failed commands left the string as it was.
    assert_eq!(r.call(&["OBJECT", "ENCODING", "foo"]), "$6\r\nembstr\r\n");
    assert!(r.call(&["PFADD"]).starts_with(WRONG_ARGS));
    assert!(r.call(&["PFCOUNT"]).starts_with(WRONG_ARGS));
    assert!(r.call(&["PFMERGE"]).starts_with(WRONG_ARGS));
    assert!(r.call(&["PFDEBUG", "ENCODING"]).starts_with(WRONG_ARGS));
    assert!(r
        .call(&["PFDEBUG", "ENCODING", "h", "x"])
        .starts_with(WRONG_ARGS));
    assert!(r.call(&["PFSELFTEST", "x"]).starts_with(WRONG_ARGS));
}

#[test]
fn hyperloglog_promotion_and_pfdebug() {
    let s = Server::start(&[]);
    let mut r = s.raw();
    r.call(&["PFADD", "h", "a", "b", "c"]);
    assert_eq!(r.call(&["PFDEBUG", "ENCODING", "h"]), "+sparse\r\n");
    let decoded = r.call(&["PFDEBUG", "DECODE", "h"]);
    assert!(
        decoded.contains("v:") && decoded.contains("Z:"),
        "{decoded}"
    );
    assert_eq!(
        r.call(&["PFDEBUG", "GETREG", "missing"]),
        "-ERR The specified key does not exist\r\n"
    );
    assert_eq!(
        r.call(&["PFDEBUG", "nope", "missing"]),
        "-ERR The specified key does not exist\r\n"
    );
    assert_eq!(
        r.call(&["PFDEBUG", "nope", "h"]),
        "-ERR Unknown PFDEBUG subcommand 'nope'\r\n"
    );
    let d0 = info_field(&mut r, "rdb_changes_since_last_save");
    assert_eq!(r.call(&["PFDEBUG", "TODENSE", "h"]), ":1\r\n");
    assert_eq!(r.call(&["PFDEBUG", "todense", "h"]), ":0\r\n");
    assert_eq!(info_field(&mut r, "rdb_changes_since_last_save"), d0 + 1);
    assert_eq!(r.call(&["PFDEBUG", "encoding", "h"]), "+dense\r\n");
    assert_eq!(r.call(&["STRLEN", "h"]), ":12304\r\n");
    assert_eq!(
        r.call(&["PFDEBUG", "DECODE", "h"]),
        "-ERR HLL encoding is not sparse\r\n"
    );
    assert_eq!(r.call(&["PFCOUNT", "h"]), ":3\r\n");
    r.cmd(&[b"PFDEBUG", b"GETREG", b"h"]);
    let regs = r.reply();
    assert!(regs.starts_with(b"*16384\r\n"));
    let ones = regs.windows(4).filter(|w| w == b"\n:1\r").count();
    let twos = regs.windows(4).filter(|w| w == b"\n:2\r").count();
    assert_eq!(ones + twos, 3, "{}", String::from_utf8_lossy(&regs[..64]));

    // Promotion past hll-sparse-max-bytes, then a lower limit.
    r.call(&["CONFIG", "SET", "hll-sparse-max-bytes", "3000"]);
    let mut n = 0;
    while r.call(&["PFDEBUG", "ENCODING", "s"]) != "+dense\r\n" {
        let mut args = vec!["PFADD".to_string(), "s".to_string()];
        args.extend((0..20).map(|i| format!("e{n}-{i}")));
        let v: Vec<&str> = args.iter().map(|a| a.as_str()).collect();
        r.call(&v);
        n += 1;
        assert!(n < 1000, "never promoted");
        if n * 20 < 500 {
            assert!(int(&mut r, &["STRLEN", "s"]) <= 3000);
        }
    }
    let card = int(&mut r, &["PFCOUNT", "s"]);
    assert!((card - n * 20).abs() < n * 20 / 20, "{card} vs {}", n * 20);
    r.call(&["CONFIG", "SET", "hll-sparse-max-bytes", "0"]);
    r.call(&["PFADD", "t", "one"]);
    assert_eq!(r.call(&["PFDEBUG", "ENCODING", "t"]), "+dense\r\n");
}

#[test]
fn hyperloglog_corruption_is_detected() {
    let s = Server::start(&[]);
    let mut r = s.raw();
    let wt = "-WRONGTYPE Key is not a valid HyperLogLog string value.\r\n";
    let bad = "-INVALIDOBJ Corrupted HLL object detected\r\n";
    r.call(&["PFADD", "h", "a", "b", "c"]);
    r.call(&["APPEND", "h", "hello"]);
    assert_eq!(r.call(&["PFCOUNT", "h"]), bad);
    assert_eq!(r.call(&["PFCOUNT", "h", "x"]), bad);
    assert_eq!(r.call(&["PFMERGE", "d", "h"]), bad);
    assert_eq!(r.call(&["EXISTS", "d"]), ":0\r\n");
    assert_eq!(r.call(&["PFDEBUG", "TODENSE", "h"]), bad);
    r.call(&["DEL", "h"]);
    r.call(&["PFADD", "h", "a", "b", "c"]);
    r.call(&["SETRANGE", "h", "0", "0123"]);
    assert_eq!(r.call(&["PFCOUNT", "h"]), wt);
    r.call(&["DEL", "h"]);
    r.call(&["PFADD", "h", "a", "b", "c"]);
    r.call(&["SETRANGE", "h", "4", "x"]);
    assert_eq!(r.call(&["PFCOUNT", "h"]), wt);
    r.call(&["DEL", "h"]);
    r.call(&["PFADD", "h", "a", "b", "c"]);
    r.cmd(&[b"SETRANGE", b"h", b"4", b"\x00"]);
    r.reply();
    assert_eq!(r.call(&["PFCOUNT", "h"]), wt);
    // Random corruption never brings the server down.
    let mut rng = SmallRng::seed_from_u64(7);
    for _ in 0..200 {
        r.call(&["DEL", "h"]);
        let n = rng.gen_range(0..300);
        let mut cmd: Vec<Vec<u8>> = vec![b"PFADD".to_vec(), b"h".to_vec()];
        cmd.extend((0..n).map(|_| rng.gen::<u64>().to_string().into_bytes()));
        let v: Vec<&[u8]> = cmd.iter().map(|a| a.as_slice()).collect();
        r.cmd(&v);
        r.reply();
        let len = int(&mut r, &["STRLEN", "h"]);
        let pos = rng.gen_range(0..len).to_string();
        r.cmd(&[b"SETRANGE", b"h", pos.as_bytes(), &[rng.gen::<u8>()]]);
        r.reply();
        r.call(&["PFCOUNT", "h"]);
        r.call(&["PFADD", "h", "more"]);
    }
    assert_eq!(r.call(&["PING"]), "+PONG\r\n");
}

#[test]
fn pfselftest_passes() {
    let s = Server::start(&[]);
    let mut r = s.raw();
    // Ten million additions: slow in a debug build.
    r.s.set_read_timeout(Some(Duration::from_secs(300)))
        .expect("timeout");
    assert_eq!(r.call(&["PFSELFTEST"]), "+OK\r\n");
}

// ---------------------------------------------------------------------------
// Against redis-server
// ---------------------------------------------------------------------------

/// Read pub/sub messages until the sentinel key's `set` event arrives.
fn events_until_sentinel(sub: &mut Raw) -> Vec<String> {
    let mut v = Vec::new();
    loop {
        let m = sub.reply_str();
        if m.contains("__keyevent@0__:set") && m.ends_with("$8\r\nsentinel\r\n") {
            return v;
        }
        v.push(m);
    }
}

#[test]
fn keyspace_events_match_redis() {
    let script: &[&[&str]] = &[
        &["SETBIT", "b", "3", "1"],
        &["SETBIT", "b", "3", "1"],
        &["SETBIT", "b", "20", "0"],
        &["BITFIELD", "b", "GET", "u8", "0"],
        &["BITFIELD", "b", "SET", "u8", "0", "16"],
        &["BITFIELD", "b", "SET", "u8", "0", "16"],
        &[
            "BITFIELD", "f", "OVERFLOW", "FAIL", "INCRBY", "u2", "0", "9",
        ],
        &["BITOP", "NOT", "c", "b"],
        &["BITOP", "AND", "c", "missing"],
        &["BITOP", "AND", "c", "missing"],
        &["PFADD", "h", "a"],
        &["PFADD", "h", "a"],
        &["PFCOUNT", "h"],
        &["PFMERGE", "h", "h"],
        &["PFMERGE", "h2", "h"],
        &["PFDEBUG", "TODENSE", "h"],
        &["PFDEBUG", "GETREG", "h2"],
    ];
    let mut streams = Vec::new();
    for s in [Server::start(&[]), Server::redis(&[])] {
        let mut r = s.raw();
        let mut sub = s.raw();
        assert_eq!(
            r.call(&["CONFIG", "SET", "notify-keyspace-events", "KEA"]),
            "+OK\r\n"
        );
        sub.call(&["PSUBSCRIBE", "__key*@0__:*"]);
        let mut replies = Vec::new();
        for cmd in script {
            replies.push(r.call(cmd));
        }
        r.call(&["SET", "sentinel", "x"]);
        streams.push((replies, events_until_sentinel(&mut sub)));
    }
    assert_eq!(streams[0].0, streams[1].0, "replies");
    assert_eq!(streams[0].1, streams[1].1, "events");
}

#[test]
fn dirty_counts_match_redis() {
    let script: &[&[&str]] = &[
        &["SETBIT", "foo", "0", "0"],
        &["BITFIELD", "foo2", "SET", "i5", "0", "0"],
        &["SETBIT", "foo", "0", "0"],
        &["BITFIELD", "foo2", "SET", "i5", "0", "0"],
        &["SETBIT", "foo", "0", "1"],
        &[
            "BITFIELD", "foo2", "SET", "i5", "0", "1", "SET", "i5", "0", "1",
        ],
        &["BITFIELD", "foo3", "INCRBY", "i5", "0", "1"],
        &["BITFIELD", "foo3", "INCRBY", "i5", "0", "0"],
        &["SETBIT", "foo", "90", "0"],
        &[
            "BITFIELD", "foo2", "SET", "i5", "90", "0", "SET", "i5", "0", "0",
        ],
        &[
            "BITFIELD", "foo4", "OVERFLOW", "FAIL", "SET", "u2", "0", "9",
        ],
        &["BITOP", "OR", "d", "foo", "foo2"],
        &["BITOP", "OR", "d", "nope"],
        &["BITOP", "OR", "d", "nope"],
        &["PFADD", "h", "a", "b", "c", "d"],
        &["PFADD", "h", "a"],
        &["PFCOUNT", "h"],
        &["PFCOUNT", "h"],
        &["PFCOUNT", "h", "h"],
        &["PFMERGE", "h", "h"],
        &["PFDEBUG", "ENCODING", "h"],
        &["PFDEBUG", "GETREG", "h"],
        &["PFDEBUG", "TODENSE", "h"],
    ];
    let mut d = Diff::start(&[]);
    let mut last = [0, 0];
    for cmd in script {
        d.same_str(cmd);
        let now = [
            info_field(&mut d.ours, "rdb_changes_since_last_save"),
            info_field(&mut d.theirs, "rdb_changes_since_last_save"),
        ];
        assert_eq!(now[0] - last[0], now[1] - last[1], "dirty after {cmd:?}");
        last = now;
    }
}

#[test]
fn command_table_matches_redis() {
    let mut d = Diff::start(&[]);
    let limits = resp::Limits::default();
    for name in [
        "setbit",
        "getbit",
        "bitcount",
        "bitpos",
        "bitop",
        "bitfield",
        "bitfield_ro",
        "pfadd",
        "pfcount",
        "pfmerge",
        "pfdebug",
        "pfselftest",
    ] {
        let (a, b) = d.both(&[b"COMMAND", b"INFO", name.as_bytes()]);
        // Name, arity, flags, first key, last key, step.
        let head = |r: &[u8]| match resp::decode_frame(r, &limits) {
            Ok(Some((resp::Frame::Array(mut v), _))) => match v.pop() {
                Some(resp::Frame::Array(info)) => format!("{:?}", info.get(..6)),
                other => panic!("{name}: {other:?}"),
            },
            other => panic!("{name}: {other:?}"),
        };
        assert_eq!(head(&a), head(&b), "COMMAND INFO {name}");
    }
}

/// A number argument: mostly valid and small, sometimes extreme or bad.
fn num(rng: &mut SmallRng, small: i64) -> String {
    match rng.gen_range(0..20) {
        0 => "x".into(),
        1 => i64::MAX.to_string(),
        2 => i64::MIN.to_string(),
        3 => rng.gen::<i64>().to_string(),
        4 => format!("-{}", rng.gen_range(0..small)),
        _ => rng.gen_range(0..small).to_string(),
    }
}

fn offset(rng: &mut SmallRng) -> String {
    match rng.gen_range(0..40) {
        0 => "-1".into(),
        1 => "4294967296".into(),
        2 => "abc".into(),
        3 => rng.gen_range(0..100_000).to_string(),
        _ => rng.gen_range(0..300).to_string(),
    }
}

fn bf_type(rng: &mut SmallRng) -> String {
    match rng.gen_range(0..30) {
        0 => "u64".into(),
        1 => "i65".into(),
        2 => "x8".into(),
        3 => "i0".into(),
        _ => {
            let signed = rng.gen_bool(0.5);
            let bits = rng.gen_range(1..=if signed { 64 } else { 63 });
            format!("{}{bits}", if signed { "i" } else { "u" })
        }
    }
}

fn bf_value(rng: &mut SmallRng) -> String {
    match rng.gen_range(0..12) {
        0 => i64::MAX.to_string(),
        1 => i64::MIN.to_string(),
        2 => rng.gen::<i64>().to_string(),
        3 => (1i64 << rng.gen_range(0..63)).to_string(),
        4 => (-(1i64 << rng.gen_range(0..63))).to_string(),
        5 => "1.5".into(),
        _ => rng.gen_range(-300..300).to_string(),
    }
}

fn random_bitmap_command(rng: &mut SmallRng) -> Vec<String> {
    const KEYS: &[&str] = &["b0", "b1", "b2", "b3", "n", "s", "nokey"];
    let key = |rng: &mut SmallRng| KEYS[rng.gen_range(0..KEYS.len())].to_string();
    let unit = |rng: &mut SmallRng| -> &'static str {
        ["BYTE", "BIT", "bit", "byte", "bits"][rng.gen_range(0..5)]
    };
    let mut c: Vec<String> = Vec::new();
    match rng.gen_range(0..100) {
        0..=24 => {
            c.extend(["SETBIT".into(), key(rng), offset(rng)]);
            c.push(match rng.gen_range(0..20) {
                0 => "2".into(),
                1 => "x".into(),
                n => (n % 2).to_string(),
            });
        }
        25..=34 => c.extend(["GETBIT".into(), key(rng), offset(rng)]),
        35..=46 => {
            c.extend(["BITCOUNT".into(), key(rng)]);
            match rng.gen_range(0..6) {
                0 => {}
                1 => c.push(num(rng, 50)),
                2 | 3 => c.extend([num(rng, 50), num(rng, 50)]),
                _ => c.extend([num(rng, 300), num(rng, 300), unit(rng).into()]),
            }
        }
        47..=58 => {
            c.extend(["BITPOS".into(), key(rng)]);
            c.push(match rng.gen_range(0..15) {
                0 => "2".into(),
                1 => "x".into(),
                n => (n % 2).to_string(),
            });
            let extra = rng.gen_range(0..5);
            if extra >= 1 {
                c.push(num(rng, 40));
            }
            if extra >= 2 {
                c.push(num(rng, 300));
            }
            if extra >= 3 {
                c.push(unit(rng).into());
            }
            if extra == 4 && rng.gen_bool(0.2) {
                c.push("extra".into());
            }
        }
        59..=66 => {
            let op = ["AND", "OR", "XOR", "NOT", "not", "nand"][rng.gen_range(0..6)];
            c.extend(["BITOP".into(), op.into(), key(rng)]);
            let n = if op.eq_ignore_ascii_case("not") && rng.gen_bool(0.8) {
                1
            } else {
                rng.gen_range(1..4)
            };
            for _ in 0..n {
                c.push(key(rng));
            }
        }
        67..=90 => {
            let ro = rng.gen_bool(0.2);
            c.extend([if ro { "BITFIELD_RO" } else { "BITFIELD" }.into(), key(rng)]);
            if rng.gen_bool(0.3) {
                c.extend(["OVERFLOW".into(), "FAIL".into()]);
            }
            for _ in 0..rng.gen_range(0..5) {
                match rng.gen_range(0..20) {
                    0..=5 => c.extend(["GET".into(), bf_type(rng)]),
                    6..=10 => c.extend(["SET".into(), bf_type(rng)]),
                    11..=15 => c.extend(["INCRBY".into(), bf_type(rng)]),
                    16..=18 => {
                        let ow = ["WRAP", "SAT", "FAIL", "fail", "nope"][rng.gen_range(0..5)];
                        c.extend(["OVERFLOW".into(), ow.into()]);
                        continue;
                    }
                    _ => {
                        c.push("BOGUS".into());
                        continue;
                    }
                }
                let off = match rng.gen_range(0..10) {
                    0 => format!("#{}", rng.gen_range(0..40)),
                    1 => offset(rng),
                    _ => rng.gen_range(0..200).to_string(),
                };
                c.push(off);
                if c[c.len() - 3] != "GET" {
                    c.push(bf_value(rng));
                }
            }
        }
        91..=93 => c.extend(["GET".into(), key(rng)]),
        94 => c.extend(["STRLEN".into(), key(rng)]),
        95 => c.extend(["OBJECT".into(), "ENCODING".into(), key(rng)]),
        96 => c.extend(["DEL".into(), key(rng)]),
        97 => c.extend([
            "SET".into(),
            "n".into(),
            rng.gen_range(-1000..100_000).to_string(),
        ]),
        98 => c.extend(["SET".into(), "s".into(), "foobar".into()]),
        _ => c.extend(["EXISTS".into(), key(rng)]),
    }
    c
}

#[test]
fn differential_bitmaps_against_redis() {
    let mut d = Diff::start(&[]);
    for seed in [1u64, 2, 3] {
        let mut rng = SmallRng::seed_from_u64(seed);
        d.same_str(&["FLUSHALL"]);
        d.same_str(&["SET", "n", "1234"]);
        d.same_str(&["SET", "s", "foobar"]);
        let (mut errors, mut nils) = (0, 0);
        for _ in 0..1500 {
            let cmd = random_bitmap_command(&mut rng);
            let v: Vec<&str> = cmd.iter().map(|a| a.as_str()).collect();
            let reply = d.same_str(&v);
            errors += usize::from(reply.starts_with('-'));
            nils += usize::from(reply.contains("$-1\r\n"));
        }
        // The stream exercises the commands, not only their errors, and
        // reaches OVERFLOW FAIL.
        assert!((100..600).contains(&errors), "{errors} errors");
        assert!(nils > 5, "{nils} nil replies");
        for k in ["b0", "b1", "b2", "b3", "n", "s", "nokey"] {
            d.same_str(&["GET", k]);
        }
    }
    // RESP3: a refused OVERFLOW FAIL write is a RESP3 null.
    d.both(&[b"HELLO", b"3"]);
    d.same_str(&[
        "BITFIELD", "r3", "OVERFLOW", "FAIL", "INCRBY", "u2", "0", "9", "GET", "i2", "0",
    ]);
    d.same_str(&["BITFIELD_RO", "r3", "GET", "u2", "0"]);
    d.same_str(&["BITPOS", "r3", "0", "0", "-1"]);
}

fn pfadd_both(d: &mut Diff, key: &str, elements: &[Vec<u8>]) {
    let mut args: Vec<&[u8]> = vec![b"PFADD", key.as_bytes()];
    args.extend(elements.iter().map(|e| e.as_slice()));
    d.same(&args);
}

fn random_elements(rng: &mut SmallRng, n: usize) -> Vec<Vec<u8>> {
    (0..n)
        .map(|_| {
            let len = rng.gen_range(0..24);
            (0..len).map(|_| rng.gen::<u8>()).collect()
        })
        .collect()
}

#[test]
fn differential_hyperloglog_against_redis() {
    let mut d = Diff::start(&[]);
    let mut rng = SmallRng::seed_from_u64(42);
    let keys = ["h0", "h1", "h2", "h3", "h4"];
    // Grow the keys at different rates, comparing the raw bytes (sparse
    // opcodes, cache, and the switch to dense) along the way.
    for round in 0..60 {
        for (i, k) in keys.iter().enumerate() {
            let n = rng.gen_range(0..(i + 1) * 12);
            let els = random_elements(&mut rng, n);
            pfadd_both(&mut d, k, &els);
            if round % 3 == i % 3 {
                d.same_str(&["PFCOUNT", k]);
            }
            d.same_str(&["GET", k]);
        }
        d.same_str(&["PFCOUNT", "h0", "h1", "h2", "nokey", "h3", "h4"]);
        if round % 7 == 0 {
            d.same_str(&["PFMERGE", "m", "h0", "h1"]);
            d.same_str(&["GET", "m"]);
            d.same_str(&["PFMERGE", "h1", "h0", "h1", "nokey"]);
            d.same_str(&["GET", "h1"]);
        }
    }
    let mut encodings = Vec::new();
    for k in keys {
        encodings.push(d.same_str(&["PFDEBUG", "ENCODING", k]));
        d.same_str(&["PFCOUNT", k]);
        d.same_str(&["GET", k]);
    }
    // Both encodings were compared byte for byte.
    assert!(
        encodings.contains(&"+sparse\r\n".to_string()),
        "{encodings:?}"
    );
    assert!(
        encodings.contains(&"+dense\r\n".to_string()),
        "{encodings:?}"
    );
    // Merges with dense sources, into sparse and dense destinations.
    d.same_str(&["PFMERGE", "all", "h0", "h1", "h2", "h3", "h4"]);
    d.same_str(&["GET", "all"]);
    d.same_str(&["PFMERGE", "h0", "h4"]);
    d.same_str(&["GET", "h0"]);
    d.same_str(&["PFMERGE", "sp", "h0"]);
    d.same_str(&["PFDEBUG", "ENCODING", "sp"]);
    d.same_str(&["GET", "sp"]);
    d.same_str(&["PFCOUNT", "sp", "all"]);
    // A lower sparse limit promotes at the next addition.
    d.same_str(&["PFADD", "small", "a", "b", "c", "d", "e", "f"]);
    for limit in ["40", "0", "3000"] {
        d.same_str(&["CONFIG", "SET", "hll-sparse-max-bytes", limit]);
        let els = random_elements(&mut rng, 5);
        pfadd_both(&mut d, "small", &els);
        d.same_str(&["PFDEBUG", "ENCODING", "small"]);
        d.same_str(&["GET", "small"]);
        d.same_str(&["PFMERGE", &format!("mm{limit}"), "h1", "h2"]);
        d.same_str(&["GET", &format!("mm{limit}")]);
    }
    // A small HyperLogLog stored by SET is embstr until a PF command
    // changes it in place (Redis unshares it into a raw string).
    let (fresh, _) = d.both(&[b"PFADD", b"tiny"]);
    assert_eq!(fresh, b":1\r\n");
    let raw = d.same(&[b"GET", b"tiny"]);
    let body = &raw[raw.iter().position(|&b| b == b'\n').expect("bulk") + 1..raw.len() - 2];
    d.same(&[b"SET", b"tiny2", body]);
    d.same_str(&["OBJECT", "ENCODING", "tiny2"]);
    d.same_str(&["PFCOUNT", "tiny2"]);
    d.same_str(&["OBJECT", "ENCODING", "tiny2"]);
    d.same_str(&["SET", "str2", "not an hll"]);
    d.same_str(&["PFCOUNT", "str2"]);
    d.same_str(&["OBJECT", "ENCODING", "str2"]);
    // PFDEBUG on both encodings.
    d.same_str(&["PFADD", "dbg", "x", "y"]);
    d.same_str(&["PFDEBUG", "DECODE", "dbg"]);
    d.same_str(&["PFDEBUG", "GETREG", "dbg"]);
    d.same_str(&["GET", "dbg"]);
    d.same_str(&["PFDEBUG", "TODENSE", "dbg"]);
    d.same_str(&["PFDEBUG", "DECODE", "dbg"]);
    d.same_str(&["PFDEBUG", "ENCODING", "nokey"]);
    d.same_str(&["SET", "str", "hello"]);
    d.same_str(&["PFDEBUG", "ENCODING", "str"]);
    d.same_str(&["PFCOUNT", "h0", "str"]);
    d.same_str(&["PFMERGE", "str", "h0"]);
    // Corrupted values: the same errors or the same answers.
    for _ in 0..150 {
        d.same_str(&["DEL", "c"]);
        let n = rng.gen_range(0..400);
        let els = random_elements(&mut rng, n);
        pfadd_both(&mut d, "c", &els);
        if rng.gen_bool(0.3) {
            d.same_str(&["PFDEBUG", "TODENSE", "c"]);
        }
        let (len, _) = d.both(&[b"STRLEN", b"c"]);
        let len: usize = String::from_utf8_lossy(&len[1..])
            .trim()
            .parse()
            .expect("strlen");
        for _ in 0..rng.gen_range(1..4) {
            let pos = rng.gen_range(0..len + 2).to_string();
            let byte = [rng.gen::<u8>()];
            d.same(&[b"SETRANGE", b"c", pos.as_bytes(), &byte]);
        }
        match rng.gen_range(0..5) {
            0 => d.same_str(&["PFCOUNT", "c"]),
            1 => d.same_str(&["PFCOUNT", "c", "h1"]),
            2 => d.same_str(&["PFMERGE", "c2", "c"]),
            3 => d.same_str(&["PFADD", "c", "new", "elements", "here"]),
            _ => d.same_str(&["PFDEBUG", "DECODE", "c"]),
        };
        d.same_str(&["GET", "c"]);
    }
}
