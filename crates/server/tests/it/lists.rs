//! List commands, blocking list commands, and a differential run against a
//! real redis-server.

use std::time::{Duration, Instant};

use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};

use crate::util::expect::{arity, bulk, bulks, wait_blocked, NOT_INT, SYNTAX, WRONGTYPE};
use crate::util::{Diff, Raw, Server};

fn client_id(r: &mut Raw) -> String {
    r.call(&["CLIENT", "ID"])
        .trim_start_matches(':')
        .trim()
        .to_string()
}

#[test]
fn push_pop_len_range() {
    let s = Server::start(&[]);
    let mut r = s.raw();
    assert_eq!(r.call(&["LPUSHX", "l", "a"]), ":0\r\n");
    assert_eq!(r.call(&["RPUSHX", "l", "a", "b"]), ":0\r\n");
    assert_eq!(r.call(&["EXISTS", "l"]), ":0\r\n");
    assert_eq!(r.call(&["RPUSH", "l", "a", "b", "c"]), ":3\r\n");
    assert_eq!(r.call(&["LPUSH", "l", "x", "y"]), ":5\r\n");
    assert_eq!(r.call(&["LPUSHX", "l", "z"]), ":6\r\n");
    assert_eq!(r.call(&["RPUSHX", "l", "d", "e"]), ":8\r\n");
    assert_eq!(r.call(&["LLEN", "l"]), ":8\r\n");
    assert_eq!(r.call(&["LLEN", "nosuch"]), ":0\r\n");
    assert_eq!(
        r.call(&["LRANGE", "l", "0", "-1"]),
        bulks(&["z", "y", "x", "a", "b", "c", "d", "e"])
    );
    assert_eq!(r.call(&["LRANGE", "l", "-3", "-2"]), bulks(&["c", "d"]));
    assert_eq!(r.call(&["LRANGE", "l", "-100", "1"]), bulks(&["z", "y"]));
    assert_eq!(r.call(&["LRANGE", "l", "6", "100"]), bulks(&["d", "e"]));
    assert_eq!(r.call(&["LRANGE", "l", "5", "2"]), "*0\r\n");
    assert_eq!(r.call(&["LRANGE", "l", "8", "9"]), "*0\r\n");
    assert_eq!(r.call(&["LRANGE", "nosuch", "0", "-1"]), "*0\r\n");
    assert_eq!(r.call(&["LRANGE", "l", "a", "1"]), NOT_INT);
    assert_eq!(r.call(&["LRANGE", "nosuch", "0", "1.5"]), NOT_INT);
    assert_eq!(r.call(&["TYPE", "l"]), "+list\r\n");
    assert_eq!(r.call(&["OBJECT", "ENCODING", "l"]), "$9\r\nquicklist\r\n");

    assert_eq!(r.call(&["LPOP", "l"]), bulk("z"));
    assert_eq!(r.call(&["RPOP", "l"]), bulk("e"));
    assert_eq!(r.call(&["LPOP", "l", "2"]), bulks(&["y", "x"]));
    // RPOP with a count answers from the tail inwards.
    assert_eq!(r.call(&["RPOP", "l", "2"]), bulks(&["d", "c"]));
    assert_eq!(r.call(&["LPOP", "l", "0"]), "*0\r\n");
    assert_eq!(
        r.call(&["LPOP", "l", "-1"]),
        "-ERR value is out of range, must be positive\r\n"
    );
    assert_eq!(
        r.call(&["RPOP", "l", "x"]),
        "-ERR value is out of range, must be positive\r\n"
    );
    assert_eq!(r.call(&["LPOP", "l", "1", "2"]), arity("lpop"));
    assert_eq!(r.call(&["RPOP", "l", "1", "2"]), arity("rpop"));
    assert_eq!(r.call(&["LPOP", "l", "100"]), bulks(&["a", "b"]));
    // The last element gone, the key is gone.
    assert_eq!(r.call(&["EXISTS", "l"]), ":0\r\n");
    assert_eq!(r.call(&["LPOP", "l"]), "$-1\r\n");
    assert_eq!(r.call(&["LPOP", "l", "1"]), "*-1\r\n");
    assert_eq!(r.call(&["LPOP", "l", "0"]), "*-1\r\n");
    assert_eq!(
        r.call(&["RPOP", "l", "-1"]),
        "-ERR value is out of range, must be positive\r\n"
    );

    // RESP3 null shapes.
    r.call(&["HELLO", "3"]);
    assert_eq!(r.call(&["LPOP", "l"]), "_\r\n");
    assert_eq!(r.call(&["RPOP", "l", "3"]), "_\r\n");
    assert_eq!(r.call(&["LINDEX", "l", "0"]), "_\r\n");
    assert_eq!(r.call(&["LPOS", "l", "a"]), "_\r\n");
    assert_eq!(r.call(&["LMOVE", "l", "m", "LEFT", "LEFT"]), "_\r\n");
    assert_eq!(r.call(&["LMPOP", "1", "l", "LEFT"]), "_\r\n");
    assert_eq!(r.call(&["BLPOP", "l", "0.01"]), "_\r\n");
    assert_eq!(
        r.call(&["BLMOVE", "l", "m", "LEFT", "LEFT", "0.01"]),
        "_\r\n"
    );

    // Large pushes split over chunks and come back intact.
    let big = "v".repeat(5000);
    let mut args = vec!["RPUSH", "big"];
    for _ in 0..10 {
        args.push(&big);
    }
    assert_eq!(r.call(&args), ":10\r\n");
    assert_eq!(r.call(&["LINDEX", "big", "9"]), bulk(&big));
}

#[test]
fn index_set_rem_trim_insert() {
    let s = Server::start(&[]);
    let mut r = s.raw();
    r.call(&["RPUSH", "l", "a", "b", "c", "b", "a"]);
    assert_eq!(r.call(&["LINDEX", "l", "0"]), bulk("a"));
    assert_eq!(r.call(&["LINDEX", "l", "-1"]), bulk("a"));
    assert_eq!(r.call(&["LINDEX", "l", "-2"]), bulk("b"));
    assert_eq!(r.call(&["LINDEX", "l", "5"]), "$-1\r\n");
    assert_eq!(r.call(&["LINDEX", "l", "-6"]), "$-1\r\n");
    assert_eq!(r.call(&["LINDEX", "l", "-9223372036854775808"]), "$-1\r\n");
    assert_eq!(r.call(&["LINDEX", "l", "x"]), NOT_INT);
    // LINDEX looks the key up before parsing the index.
    assert_eq!(r.call(&["LINDEX", "nosuch", "x"]), "$-1\r\n");

    assert_eq!(r.call(&["LSET", "l", "1", "B"]), "+OK\r\n");
    assert_eq!(r.call(&["LSET", "l", "-1", "Z"]), "+OK\r\n");
    assert_eq!(
        r.call(&["LRANGE", "l", "0", "-1"]),
        bulks(&["a", "B", "c", "b", "Z"])
    );
    assert_eq!(
        r.call(&["LSET", "l", "5", "x"]),
        "-ERR index out of range\r\n"
    );
    assert_eq!(
        r.call(&["LSET", "l", "-6", "x"]),
        "-ERR index out of range\r\n"
    );
    assert_eq!(r.call(&["LSET", "l", "x", "x"]), NOT_INT);
    assert_eq!(
        r.call(&["LSET", "nosuch", "0", "x"]),
        "-ERR no such key\r\n"
    );
    assert_eq!(
        r.call(&["LSET", "nosuch", "x", "x"]),
        "-ERR no such key\r\n"
    );

    r.call(&["DEL", "l"]);
    r.call(&["RPUSH", "l", "a", "b", "a", "c", "a", "b", "a"]);
    assert_eq!(r.call(&["LREM", "l", "1", "a"]), ":1\r\n");
    assert_eq!(
        r.call(&["LRANGE", "l", "0", "-1"]),
        bulks(&["b", "a", "c", "a", "b", "a"])
    );
    assert_eq!(r.call(&["LREM", "l", "-2", "a"]), ":2\r\n");
    assert_eq!(
        r.call(&["LRANGE", "l", "0", "-1"]),
        bulks(&["b", "a", "c", "b"])
    );
    assert_eq!(r.call(&["LREM", "l", "0", "b"]), ":2\r\n");
    assert_eq!(r.call(&["LREM", "l", "0", "zz"]), ":0\r\n");
    assert_eq!(r.call(&["LREM", "l", "x", "a"]), NOT_INT);
    assert_eq!(r.call(&["LREM", "nosuch", "0", "a"]), ":0\r\n");
    assert_eq!(r.call(&["LREM", "l", "0", "a"]), ":1\r\n");
    assert_eq!(r.call(&["LREM", "l", "0", "c"]), ":1\r\n");
    assert_eq!(r.call(&["EXISTS", "l"]), ":0\r\n");

    r.call(&["RPUSH", "l", "0", "1", "2", "3", "4", "5"]);
    assert_eq!(r.call(&["LTRIM", "l", "1", "-2"]), "+OK\r\n");
    assert_eq!(
        r.call(&["LRANGE", "l", "0", "-1"]),
        bulks(&["1", "2", "3", "4"])
    );
    assert_eq!(r.call(&["LTRIM", "l", "-100", "100"]), "+OK\r\n");
    assert_eq!(r.call(&["LLEN", "l"]), ":4\r\n");
    assert_eq!(r.call(&["LTRIM", "l", "x", "1"]), NOT_INT);
    assert_eq!(r.call(&["LTRIM", "nosuch", "0", "1"]), "+OK\r\n");
    assert_eq!(r.call(&["LTRIM", "l", "3", "1"]), "+OK\r\n");
    assert_eq!(r.call(&["EXISTS", "l"]), ":0\r\n");

    r.call(&["RPUSH", "l", "a", "b", "a"]);
    assert_eq!(r.call(&["LINSERT", "l", "BEFORE", "a", "x"]), ":4\r\n");
    assert_eq!(r.call(&["LINSERT", "l", "after", "b", "y"]), ":5\r\n");
    assert_eq!(r.call(&["LINSERT", "l", "AFTER", "zz", "y"]), ":-1\r\n");
    assert_eq!(
        r.call(&["LRANGE", "l", "0", "-1"]),
        bulks(&["x", "a", "b", "y", "a"])
    );
    assert_eq!(r.call(&["LINSERT", "l", "MIDDLE", "a", "x"]), SYNTAX);
    assert_eq!(r.call(&["LINSERT", "nosuch", "MIDDLE", "a", "x"]), SYNTAX);
    assert_eq!(r.call(&["LINSERT", "nosuch", "BEFORE", "a", "x"]), ":0\r\n");
    assert_eq!(r.call(&["EXISTS", "nosuch"]), ":0\r\n");
}

#[test]
fn lpos_options() {
    let s = Server::start(&[]);
    let mut r = s.raw();
    r.call(&["RPUSH", "l", "a", "b", "c", "1", "2", "3", "c", "c"]);
    assert_eq!(r.call(&["LPOS", "l", "c"]), ":2\r\n");
    assert_eq!(r.call(&["LPOS", "l", "zz"]), "$-1\r\n");
    assert_eq!(r.call(&["LPOS", "l", "c", "RANK", "2"]), ":6\r\n");
    assert_eq!(r.call(&["LPOS", "l", "c", "RANK", "4"]), "$-1\r\n");
    assert_eq!(r.call(&["LPOS", "l", "c", "RANK", "-1"]), ":7\r\n");
    assert_eq!(r.call(&["LPOS", "l", "c", "RANK", "-3"]), ":2\r\n");
    assert_eq!(
        r.call(&["LPOS", "l", "c", "COUNT", "0"]),
        "*3\r\n:2\r\n:6\r\n:7\r\n"
    );
    assert_eq!(
        r.call(&["LPOS", "l", "c", "COUNT", "2"]),
        "*2\r\n:2\r\n:6\r\n"
    );
    assert_eq!(
        r.call(&["LPOS", "l", "c", "COUNT", "2", "RANK", "-1"]),
        "*2\r\n:7\r\n:6\r\n"
    );
    assert_eq!(r.call(&["LPOS", "l", "zz", "COUNT", "2"]), "*0\r\n");
    assert_eq!(r.call(&["LPOS", "l", "c", "MAXLEN", "2"]), "$-1\r\n");
    assert_eq!(r.call(&["LPOS", "l", "c", "MAXLEN", "3"]), ":2\r\n");
    assert_eq!(
        r.call(&["LPOS", "l", "c", "COUNT", "0", "MAXLEN", "7"]),
        "*2\r\n:2\r\n:6\r\n"
    );
    assert_eq!(
        r.call(&["LPOS", "l", "c", "RANK", "-1", "MAXLEN", "1", "COUNT", "0"]),
        "*1\r\n:7\r\n"
    );
    assert_eq!(r.call(&["LPOS", "nosuch", "c"]), "$-1\r\n");
    assert_eq!(r.call(&["LPOS", "nosuch", "c", "COUNT", "1"]), "*0\r\n");
    assert_eq!(
        r.call(&["LPOS", "l", "c", "RANK", "0"]),
        "-ERR RANK can't be zero: use 1 to start from the first match, 2 from the second ... or use negative to start from the end of the list\r\n"
    );
    assert_eq!(r.call(&["LPOS", "l", "c", "RANK", "x"]), NOT_INT);
    assert_eq!(
        r.call(&["LPOS", "l", "c", "COUNT", "-1"]),
        "-ERR COUNT can't be negative\r\n"
    );
    assert_eq!(
        r.call(&["LPOS", "l", "c", "MAXLEN", "-1"]),
        "-ERR MAXLEN can't be negative\r\n"
    );
    assert_eq!(r.call(&["LPOS", "l", "c", "COUNT"]), SYNTAX);
    assert_eq!(r.call(&["LPOS", "l", "c", "FOO", "1"]), SYNTAX);
    // Options are checked before the key.
    assert!(r
        .call(&["LPOS", "nosuch", "c", "RANK", "0"])
        .starts_with("-ERR RANK"));
}

#[test]
fn lmove_and_rpoplpush() {
    let s = Server::start(&[]);
    let mut r = s.raw();
    r.call(&["RPUSH", "src", "a", "b", "c"]);
    assert_eq!(r.call(&["LMOVE", "src", "dst", "LEFT", "RIGHT"]), bulk("a"));
    assert_eq!(r.call(&["LMOVE", "src", "dst", "right", "left"]), bulk("c"));
    assert_eq!(r.call(&["LRANGE", "dst", "0", "-1"]), bulks(&["c", "a"]));
    assert_eq!(r.call(&["RPOPLPUSH", "dst", "src"]), bulk("a"));
    assert_eq!(r.call(&["LRANGE", "src", "0", "-1"]), bulks(&["a", "b"]));
    // Rotation on one key.
    assert_eq!(r.call(&["LMOVE", "src", "src", "LEFT", "RIGHT"]), bulk("a"));
    assert_eq!(r.call(&["LRANGE", "src", "0", "-1"]), bulks(&["b", "a"]));
    assert_eq!(r.call(&["RPOPLPUSH", "src", "src"]), bulk("a"));
    assert_eq!(r.call(&["LRANGE", "src", "0", "-1"]), bulks(&["a", "b"]));
    r.call(&["DEL", "one"]);
    r.call(&["RPUSH", "one", "x"]);
    assert_eq!(r.call(&["LMOVE", "one", "one", "LEFT", "LEFT"]), bulk("x"));
    assert_eq!(r.call(&["LRANGE", "one", "0", "-1"]), bulks(&["x"]));
    // The last element moved away: the source vanishes.
    assert_eq!(r.call(&["RPOPLPUSH", "dst", "src"]), bulk("c"));
    assert_eq!(r.call(&["EXISTS", "dst"]), ":0\r\n");
    assert_eq!(
        r.call(&["LMOVE", "nosuch", "src", "LEFT", "LEFT"]),
        "$-1\r\n"
    );
    assert_eq!(r.call(&["RPOPLPUSH", "nosuch", "src"]), "$-1\r\n");
    assert_eq!(r.call(&["LMOVE", "src", "dst", "UP", "LEFT"]), SYNTAX);
    assert_eq!(r.call(&["LMOVE", "src", "dst", "LEFT", "DOWN"]), SYNTAX);
    // A wrong-type destination leaves the source alone.
    r.call(&["SET", "str", "v"]);
    assert_eq!(r.call(&["LMOVE", "src", "str", "LEFT", "LEFT"]), WRONGTYPE);
    assert_eq!(r.call(&["RPOPLPUSH", "src", "str"]), WRONGTYPE);
    assert_eq!(r.call(&["LLEN", "src"]), ":3\r\n");
    assert_eq!(r.call(&["LMOVE", "str", "src", "LEFT", "LEFT"]), WRONGTYPE);
    // A missing source wins over a wrong-type destination.
    assert_eq!(r.call(&["RPOPLPUSH", "nosuch", "str"]), "$-1\r\n");
}

#[test]
fn lmpop_and_errors() {
    let s = Server::start(&[]);
    let mut r = s.raw();
    r.call(&["RPUSH", "b", "1", "2", "3"]);
    assert_eq!(
        r.call(&["LMPOP", "2", "a", "b", "LEFT"]),
        "*2\r\n$1\r\nb\r\n*1\r\n$1\r\n1\r\n"
    );
    assert_eq!(
        r.call(&["LMPOP", "2", "a", "b", "RIGHT", "COUNT", "10"]),
        "*2\r\n$1\r\nb\r\n*2\r\n$1\r\n3\r\n$1\r\n2\r\n"
    );
    assert_eq!(r.call(&["EXISTS", "b"]), ":0\r\n");
    assert_eq!(r.call(&["LMPOP", "2", "a", "b", "LEFT"]), "*-1\r\n");
    let numkeys = "-ERR numkeys should be greater than 0\r\n";
    let count = "-ERR count should be greater than 0\r\n";
    assert_eq!(r.call(&["LMPOP", "0", "a", "LEFT"]), numkeys);
    assert_eq!(r.call(&["LMPOP", "-1", "a", "LEFT"]), numkeys);
    assert_eq!(r.call(&["LMPOP", "x", "a", "LEFT"]), numkeys);
    assert_eq!(r.call(&["LMPOP", "2", "a", "LEFT"]), SYNTAX);
    assert_eq!(
        r.call(&["LMPOP", "9223372036854775807", "a", "LEFT"]),
        SYNTAX
    );
    assert_eq!(r.call(&["LMPOP", "1", "a", "UP"]), SYNTAX);
    assert_eq!(r.call(&["LMPOP", "1", "a", "LEFT", "COUNT", "0"]), count);
    assert_eq!(r.call(&["LMPOP", "1", "a", "LEFT", "COUNT", "-3"]), count);
    assert_eq!(r.call(&["LMPOP", "1", "a", "LEFT", "COUNT", "x"]), count);
    assert_eq!(r.call(&["LMPOP", "1", "a", "LEFT", "COUNT"]), SYNTAX);
    assert_eq!(
        r.call(&["LMPOP", "1", "a", "LEFT", "COUNT", "1", "COUNT", "1"]),
        SYNTAX
    );
    assert_eq!(r.call(&["LMPOP", "1", "a", "LEFT", "FOO"]), SYNTAX);
    assert_eq!(r.call(&["LMPOP", "1", "a"]), arity("lmpop"));
    // BLMPOP checks its options before its timeout.
    assert_eq!(r.call(&["BLMPOP", "x", "0", "a", "LEFT"]), numkeys);
    assert_eq!(
        r.call(&["BLMPOP", "x", "1", "a", "LEFT", "COUNT", "0"]),
        count
    );
    assert_eq!(
        r.call(&["BLMPOP", "x", "1", "a", "LEFT"]),
        "-ERR timeout is not a float or out of range\r\n"
    );
    assert_eq!(
        r.call(&["BLMPOP", "-1", "1", "a", "LEFT"]),
        "-ERR timeout is negative\r\n"
    );
    assert_eq!(r.call(&["BLMPOP", "0", "1", "a"]), arity("blmpop"));
    r.call(&["SET", "s", "v"]);
    assert_eq!(r.call(&["LMPOP", "2", "a", "s", "LEFT"]), WRONGTYPE);
    assert_eq!(
        r.call(&["BLMPOP", "0.01", "2", "a", "s", "LEFT"]),
        WRONGTYPE
    );
    r.call(&["RPUSH", "a", "x"]);
    // The first non-empty list answers before a later wrong-type key.
    assert_eq!(
        r.call(&["LMPOP", "2", "a", "s", "LEFT"]),
        "*2\r\n$1\r\na\r\n*1\r\n$1\r\nx\r\n"
    );
}

#[test]
fn wrong_type_and_arity() {
    let s = Server::start(&[]);
    let mut r = s.raw();
    r.call(&["SET", "s", "v"]);
    let cases: &[&[&str]] = &[
        &["LPUSH", "s", "a"],
        &["RPUSH", "s", "a"],
        &["LPUSHX", "s", "a"],
        &["RPUSHX", "s", "a"],
        &["LPOP", "s"],
        &["RPOP", "s", "2"],
        &["LLEN", "s"],
        &["LRANGE", "s", "0", "-1"],
        &["LINDEX", "s", "0"],
        &["LINDEX", "s", "x"],
        &["LSET", "s", "0", "a"],
        &["LREM", "s", "0", "a"],
        &["LTRIM", "s", "0", "1"],
        &["LINSERT", "s", "BEFORE", "a", "b"],
        &["LPOS", "s", "a"],
        &["LMOVE", "s", "d", "LEFT", "LEFT"],
        &["RPOPLPUSH", "s", "d"],
        &["LMPOP", "1", "s", "LEFT"],
        &["BLPOP", "s", "0"],
        &["BRPOP", "nosuch", "s", "0"],
        &["BLMOVE", "s", "d", "LEFT", "LEFT", "0"],
        &["BRPOPLPUSH", "s", "d", "0"],
        &["BLMPOP", "0", "1", "s", "RIGHT"],
    ];
    for c in cases {
        assert_eq!(r.call(c), WRONGTYPE, "{c:?}");
    }
    assert_eq!(r.call(&["GET", "s"]), bulk("v"));

    // String commands against a list.
    r.call(&["RPUSH", "l", "1"]);
    for c in [
        &["GET", "l"][..],
        &["INCR", "l"],
        &["APPEND", "l", "x"],
        &["STRLEN", "l"],
        &["GETRANGE", "l", "0", "1"],
        &["INCRBYFLOAT", "l", "1.5"],
        &["GETSET", "l", "x"],
    ] {
        assert_eq!(r.call(c), WRONGTYPE, "{c:?}");
    }
    assert_eq!(r.call(&["LLEN", "l"]), ":1\r\n");
    assert_eq!(r.call(&["SET", "l", "x"]), "+OK\r\n");
    assert_eq!(r.call(&["TYPE", "l"]), "+string\r\n");

    let arities: &[(&str, &[&str])] = &[
        ("lpush", &["LPUSH", "k"]),
        ("rpush", &["RPUSH", "k"]),
        ("lpushx", &["LPUSHX", "k"]),
        ("rpushx", &["RPUSHX", "k"]),
        ("lpop", &["LPOP"]),
        ("rpop", &["RPOP"]),
        ("llen", &["LLEN", "k", "x"]),
        ("lrange", &["LRANGE", "k", "0"]),
        ("lindex", &["LINDEX", "k"]),
        ("lset", &["LSET", "k", "0"]),
        ("lrem", &["LREM", "k", "0"]),
        ("ltrim", &["LTRIM", "k", "0", "1", "2"]),
        ("linsert", &["LINSERT", "k", "BEFORE", "a"]),
        ("lpos", &["LPOS", "k"]),
        ("lmove", &["LMOVE", "a", "b", "LEFT"]),
        ("rpoplpush", &["RPOPLPUSH", "a"]),
        ("lmpop", &["LMPOP", "1", "a"]),
        ("blpop", &["BLPOP", "k"]),
        ("brpop", &["BRPOP", "k"]),
        ("blmove", &["BLMOVE", "a", "b", "LEFT", "LEFT"]),
        ("brpoplpush", &["BRPOPLPUSH", "a", "b"]),
        ("blmpop", &["BLMPOP", "0", "1", "a"]),
    ];
    for (name, c) in arities {
        assert_eq!(r.call(c), arity(name), "{c:?}");
    }
}

#[test]
fn command_table_rows() {
    let s = Server::start(&[]);
    let mut r = s.raw();
    let info = r.call(&["COMMAND", "INFO", "blpop"]);
    assert!(info.contains("$5\r\nblpop\r\n:-3\r\n"), "{info}");
    assert!(info.contains("+blocking\r\n"), "{info}");
    assert!(info.contains(":1\r\n:-2\r\n:1\r\n"), "{info}");
    let info = r.call(&["COMMAND", "INFO", "lmove"]);
    assert!(info.contains(":5\r\n"), "{info}");
    assert!(info.contains("+denyoom\r\n"), "{info}");
    assert!(info.contains(":1\r\n:2\r\n:1\r\n"), "{info}");
    let info = r.call(&["COMMAND", "INFO", "llen"]);
    assert!(info.contains("+readonly\r\n+fast\r\n"), "{info}");
    assert_eq!(
        r.call(&["COMMAND", "GETKEYS", "BLPOP", "a", "b", "0"]),
        bulks(&["a", "b"])
    );
    let docs = r.call(&["COMMAND", "DOCS", "lmpop"]);
    assert!(docs.contains("$4\r\nlist\r\n"), "{docs}");
    assert!(docs.contains("$5\r\n7.0.0\r\n"), "{docs}");
}

/// Reads pub/sub messages until `n` arrived; returns (channel, payload).
fn read_events(r: &mut Raw, n: usize) -> Vec<(String, String)> {
    let mut v = Vec::new();
    while v.len() < n {
        let msg = r.reply_str();
        let parts: Vec<&str> = msg.split("\r\n").collect();
        // *4 $8 pmessage $len pattern $len channel $len payload
        if parts.len() >= 9 && parts[2] == "pmessage" {
            v.push((parts[6].to_string(), parts[8].to_string()));
        }
    }
    v
}

#[test]
fn keyspace_events() {
    let s = Server::start(&["--notify-keyspace-events", "Elg"]);
    let mut sub = s.raw();
    sub.call(&["PSUBSCRIBE", "__keyevent@0__:*"]);
    let mut r = s.raw();
    let ev = |e: &str, k: &str| (format!("__keyevent@0__:{e}"), k.to_string());
    r.call(&["RPUSH", "l", "a", "b", "c"]);
    r.call(&["LPUSH", "l", "z"]);
    r.call(&["LSET", "l", "0", "y"]);
    r.call(&["LINSERT", "l", "AFTER", "y", "x"]);
    r.call(&["LINSERT", "l", "AFTER", "nothing", "x"]);
    r.call(&["LREM", "l", "1", "x"]);
    r.call(&["LREM", "l", "1", "nothing"]);
    r.call(&["LTRIM", "l", "1", "-1"]);
    r.call(&["LMOVE", "l", "m", "LEFT", "RIGHT"]);
    r.call(&["RPOP", "l", "5"]);
    r.call(&["LPOP", "m"]);
    // Sentinels: nothing else may arrive in between.
    r.call(&["RPUSH", "end", "x"]);
    r.call(&["DEL", "end"]);
    assert_eq!(
        read_events(&mut sub, 14),
        vec![
            ev("rpush", "l"),
            ev("lpush", "l"),
            ev("lset", "l"),
            ev("linsert", "l"),
            ev("lrem", "l"),
            ev("ltrim", "l"),
            ev("rpush", "m"),
            ev("lpop", "l"),
            ev("rpop", "l"),
            ev("del", "l"),
            ev("lpop", "m"),
            ev("del", "m"),
            ev("rpush", "end"),
            ev("del", "end"),
        ]
    );
}

#[test]
fn blocking_served_immediately_and_in_multi() {
    let s = Server::start(&[]);
    let mut r = s.raw();
    r.call(&["RPUSH", "l", "a", "b"]);
    assert_eq!(r.call(&["BLPOP", "nosuch", "l", "0"]), bulks(&["l", "a"]));
    assert_eq!(r.call(&["BRPOP", "l", "0"]), bulks(&["l", "b"]));
    assert_eq!(r.call(&["EXISTS", "l"]), ":0\r\n");
    r.call(&["RPUSH", "l", "a", "b", "c"]);
    assert_eq!(
        r.call(&["BLMPOP", "0", "1", "l", "RIGHT", "COUNT", "2"]),
        "*2\r\n$1\r\nl\r\n*2\r\n$1\r\nc\r\n$1\r\nb\r\n"
    );
    assert_eq!(r.call(&["BRPOPLPUSH", "l", "m", "0"]), bulk("a"));
    assert_eq!(
        r.call(&["BLMOVE", "m", "l", "LEFT", "RIGHT", "0"]),
        bulk("a")
    );
    assert_eq!(r.call(&["LRANGE", "l", "0", "-1"]), bulks(&["a"]));
    assert_eq!(
        r.call(&["BLPOP", "l", "x"]),
        "-ERR timeout is not a float or out of range\r\n"
    );
    assert_eq!(
        r.call(&["BLPOP", "l", "-1"]),
        "-ERR timeout is negative\r\n"
    );
    assert_eq!(r.call(&["BLMOVE", "l", "m", "LEFT", "UP", "x"]), SYNTAX);
    assert_eq!(
        r.call(&["BRPOPLPUSH", "l", "m", "inf"]),
        "-ERR timeout is not a float or out of range\r\n"
    );

    // Inside MULTI nothing blocks: empty keys answer as a timeout.
    assert_eq!(r.call(&["MULTI"]), "+OK\r\n");
    for c in [
        &["BLPOP", "nosuch", "0"][..],
        &["BRPOP", "nosuch", "0"],
        &["BLMOVE", "nosuch", "m", "LEFT", "LEFT", "0"],
        &["BRPOPLPUSH", "nosuch", "m", "0"],
        &["BLMPOP", "0", "1", "nosuch", "LEFT"],
        &["BLPOP", "l", "0"],
    ] {
        assert_eq!(r.call(c), "+QUEUED\r\n");
    }
    assert_eq!(
        r.call(&["EXEC"]),
        "*6\r\n*-1\r\n*-1\r\n$-1\r\n$-1\r\n*-1\r\n*2\r\n$1\r\nl\r\n$1\r\na\r\n"
    );
}

#[test]
fn blocking_fifo_order() {
    let s = Server::start(&[]);
    let mut a = s.raw();
    let mut b = s.raw();
    let mut r = s.raw();
    a.cmd(&[b"BLPOP", b"q", b"0"]);
    wait_blocked(&mut r, 1);
    b.cmd(&[b"BLPOP", b"other", b"q", b"0"]);
    wait_blocked(&mut r, 2);
    assert_eq!(r.call(&["RPUSH", "q", "1", "2", "3"]), ":3\r\n");
    assert_eq!(a.reply_str(), bulks(&["q", "1"]));
    assert_eq!(b.reply_str(), bulks(&["q", "2"]));
    assert_eq!(r.call(&["LRANGE", "q", "0", "-1"]), bulks(&["3"]));
    wait_blocked(&mut r, 0);

    // One element for two waiters: the first gets it, the second waits on.
    r.call(&["DEL", "q"]);
    a.cmd(&[b"BRPOP", b"q", b"0"]);
    wait_blocked(&mut r, 1);
    b.cmd(&[b"BLMPOP", b"0", b"1", b"q", b"LEFT", b"COUNT", b"5"]);
    wait_blocked(&mut r, 2);
    r.call(&["LPUSH", "q", "x"]);
    assert_eq!(a.reply_str(), bulks(&["q", "x"]));
    wait_blocked(&mut r, 1);
    r.call(&["RPUSH", "q", "y", "z"]);
    assert_eq!(
        b.reply_str(),
        "*2\r\n$1\r\nq\r\n*2\r\n$1\r\ny\r\n$1\r\nz\r\n"
    );
    assert_eq!(r.call(&["EXISTS", "q"]), ":0\r\n");
    // The connection goes on working after being served.
    assert_eq!(a.call(&["PING"]), "+PONG\r\n");
    assert_eq!(b.call(&["PING"]), "+PONG\r\n");
}

#[test]
fn blocking_timeout_sub_second() {
    let s = Server::start(&[]);
    let mut a = s.raw();
    for (c, null) in [
        (&["BLPOP", "q", "0.1"][..], "*-1\r\n"),
        (&["BRPOP", "q", "q2", "0.1"], "*-1\r\n"),
        // Redis 7.0 times every list wait out with a null array.
        (&["BLMOVE", "q", "d", "LEFT", "LEFT", "0.1"], "*-1\r\n"),
        (&["BRPOPLPUSH", "q", "d", "0.1"], "*-1\r\n"),
        (&["BLMPOP", "0.1", "1", "q", "LEFT"], "*-1\r\n"),
    ] {
        let start = Instant::now();
        assert_eq!(a.call(c), null, "{c:?}");
        let took = start.elapsed();
        assert!(took >= Duration::from_millis(100), "{c:?} {took:?}");
        assert!(took < Duration::from_secs(5), "{c:?} {took:?}");
    }
    assert_eq!(a.call(&["EXISTS", "d"]), ":0\r\n");
    let mut r = s.raw();
    wait_blocked(&mut r, 0);
}

#[test]
fn blmove_chain_serves_the_next_waiter() {
    let s = Server::start(&[]);
    let mut a = s.raw();
    let mut b = s.raw();
    let mut c = s.raw();
    let mut r = s.raw();
    a.cmd(&[b"BLMOVE", b"src", b"mid", b"LEFT", b"RIGHT", b"0"]);
    wait_blocked(&mut r, 1);
    b.cmd(&[b"BRPOPLPUSH", b"mid", b"last", b"0"]);
    wait_blocked(&mut r, 2);
    c.cmd(&[b"BLPOP", b"last", b"0"]);
    wait_blocked(&mut r, 3);
    assert_eq!(r.call(&["LPUSH", "src", "x"]), ":1\r\n");
    assert_eq!(a.reply_str(), bulk("x"));
    assert_eq!(b.reply_str(), bulk("x"));
    assert_eq!(c.reply_str(), bulks(&["last", "x"]));
    for k in ["src", "mid", "last"] {
        assert_eq!(r.call(&["EXISTS", k]), ":0\r\n", "{k}");
    }
    wait_blocked(&mut r, 0);

    // A blocked BLMOVE whose destination turned into a string gets
    // WRONGTYPE when served, and the element stays.
    a.cmd(&[b"BLMOVE", b"src", b"dst", b"LEFT", b"RIGHT", b"0"]);
    wait_blocked(&mut r, 1);
    r.call(&["SET", "dst", "str"]);
    r.call(&["RPUSH", "src", "y"]);
    assert_eq!(a.reply_str(), WRONGTYPE);
    assert_eq!(r.call(&["LRANGE", "src", "0", "-1"]), bulks(&["y"]));
}

#[test]
fn push_inside_multi_wakes_at_exec() {
    let s = Server::start(&[]);
    let mut a = s.raw();
    let mut r = s.raw();
    a.cmd(&[b"BLPOP", b"q", b"0"]);
    wait_blocked(&mut r, 1);
    assert_eq!(r.call(&["MULTI"]), "+OK\r\n");
    assert_eq!(r.call(&["RPUSH", "q", "1", "2"]), "+QUEUED\r\n");
    assert_eq!(r.call(&["LPOP", "q"]), "+QUEUED\r\n");
    // Queued, not run: the client still waits.
    let info = s.raw().call(&["INFO", "clients"]);
    assert!(info.contains("blocked_clients:1\r\n"), "{info}");
    assert_eq!(r.call(&["EXEC"]), "*2\r\n:2\r\n$1\r\n1\r\n");
    // Served after EXEC with what the transaction left.
    assert_eq!(a.reply_str(), bulks(&["q", "2"]));
    assert_eq!(r.call(&["EXISTS", "q"]), ":0\r\n");

    // A transaction that pushes and pops everything serves nobody.
    a.cmd(&[b"BLPOP", b"q", b"0"]);
    wait_blocked(&mut r, 1);
    r.call(&["MULTI"]);
    r.call(&["RPUSH", "q", "1"]);
    r.call(&["RPOP", "q"]);
    assert_eq!(r.call(&["EXEC"]), "*2\r\n:1\r\n$1\r\n1\r\n");
    r.call(&["RPUSH", "q", "later"]);
    assert_eq!(a.reply_str(), bulks(&["q", "later"]));
}

#[test]
fn client_unblock_forms() {
    let s = Server::start(&[]);
    let mut a = s.raw();
    let mut r = s.raw();
    let id = client_id(&mut a);
    assert_eq!(r.call(&["CLIENT", "UNBLOCK", &id]), ":0\r\n");
    a.cmd(&[b"BLPOP", b"q", b"0"]);
    wait_blocked(&mut r, 1);
    assert_eq!(r.call(&["CLIENT", "UNBLOCK", &id, "TIMEOUT"]), ":1\r\n");
    assert_eq!(a.reply_str(), "*-1\r\n");
    a.cmd(&[b"BLMOVE", b"q", b"d", b"LEFT", b"LEFT", b"0"]);
    wait_blocked(&mut r, 1);
    assert_eq!(r.call(&["CLIENT", "UNBLOCK", &id]), ":1\r\n");
    assert_eq!(a.reply_str(), "*-1\r\n");
    a.cmd(&[b"BLMPOP", b"0", b"1", b"q", b"LEFT"]);
    wait_blocked(&mut r, 1);
    assert_eq!(r.call(&["CLIENT", "UNBLOCK", &id, "ERROR"]), ":1\r\n");
    assert_eq!(
        a.reply_str(),
        "-UNBLOCKED client unblocked via CLIENT UNBLOCK\r\n"
    );
    wait_blocked(&mut r, 0);
    // Unblocked clients are no longer waiting: a push stays in the list.
    r.call(&["RPUSH", "q", "x"]);
    assert_eq!(r.call(&["LLEN", "q"]), ":1\r\n");
    assert_eq!(a.call(&["PING"]), "+PONG\r\n");
}

#[test]
fn blocked_client_disconnect() {
    let s = Server::start(&[]);
    let mut r = s.raw();
    {
        let mut a = s.raw();
        a.cmd(&[b"BLPOP", b"q", b"0"]);
        wait_blocked(&mut r, 1);
        let mut b = s.raw();
        b.cmd(&[b"BLMOVE", b"q", b"d", b"LEFT", b"LEFT", b"0"]);
        wait_blocked(&mut r, 2);
        // Both drop here.
    }
    wait_blocked(&mut r, 0);
    let mut c = s.raw();
    c.cmd(&[b"BRPOP", b"q", b"0"]);
    wait_blocked(&mut r, 1);
    r.call(&["RPUSH", "q", "x", "y"]);
    // Only the live waiter took an element.
    assert_eq!(c.reply_str(), bulks(&["q", "y"]));
    assert_eq!(r.call(&["LRANGE", "q", "0", "-1"]), bulks(&["x"]));
    assert_eq!(r.call(&["EXISTS", "d"]), ":0\r\n");
}

// ---- differential ---------------------------------------------------------

const KEYS: &[&str] = &["l1", "l2", "l3", "str"];
const VALS: &[&str] = &["a", "b", "c", "1", "42", "", "-7", "zz"];

fn pick<'a>(rng: &mut SmallRng, v: &[&'a str]) -> &'a str {
    v[rng.gen_range(0..v.len())]
}

fn index(rng: &mut SmallRng) -> String {
    match rng.gen_range(0..12) {
        0 => "x".into(),
        1 => "9223372036854775807".into(),
        2 => "-9223372036854775808".into(),
        3 => "1.5".into(),
        _ => rng.gen_range(-8i64..8).to_string(),
    }
}

fn count(rng: &mut SmallRng) -> String {
    match rng.gen_range(0..10) {
        0 => "-1".into(),
        1 => "x".into(),
        2 => "0".into(),
        3 => "9223372036854775807".into(),
        _ => rng.gen_range(1i64..5).to_string(),
    }
}

fn side(rng: &mut SmallRng) -> String {
    pick(rng, &["LEFT", "RIGHT", "left", "Right", "UP"]).to_string()
}

fn random_command(rng: &mut SmallRng) -> Vec<String> {
    let k = |rng: &mut SmallRng| pick(rng, KEYS).to_string();
    let v = |rng: &mut SmallRng| pick(rng, VALS).to_string();
    let mut c: Vec<String> = Vec::new();
    match rng.gen_range(0..30) {
        0..=3 => {
            c.push(pick(rng, &["LPUSH", "RPUSH", "LPUSHX", "RPUSHX"]).into());
            c.push(k(rng));
            for _ in 0..rng.gen_range(0..4) {
                c.push(v(rng));
            }
        }
        4..=6 => {
            c.push(pick(rng, &["LPOP", "RPOP"]).into());
            c.push(k(rng));
            match rng.gen_range(0..4) {
                0 => {}
                1 => {
                    c.push(count(rng));
                    c.push("1".into());
                }
                _ => c.push(count(rng)),
            }
        }
        7 => c.extend(["LLEN".into(), k(rng)]),
        8..=9 => c.extend(["LRANGE".into(), k(rng), index(rng), index(rng)]),
        10 => c.extend(["LINDEX".into(), k(rng), index(rng)]),
        11 => c.extend(["LSET".into(), k(rng), index(rng), v(rng)]),
        12 => c.extend(["LREM".into(), k(rng), index(rng), v(rng)]),
        13 => c.extend(["LTRIM".into(), k(rng), index(rng), index(rng)]),
        14 => {
            let w = pick(rng, &["BEFORE", "after", "middle"]).to_string();
            c.extend(["LINSERT".into(), k(rng), w, v(rng), v(rng)]);
        }
        15..=16 => {
            c.extend(["LPOS".into(), k(rng), v(rng)]);
            for _ in 0..rng.gen_range(0..3) {
                match rng.gen_range(0..7) {
                    0 | 1 => c.extend(["RANK".into(), index(rng)]),
                    2 | 3 => c.extend(["COUNT".into(), index(rng)]),
                    4 | 5 => c.extend(["MAXLEN".into(), index(rng)]),
                    _ => c.push("RANK".into()),
                }
            }
        }
        17..=18 => c.extend(["LMOVE".into(), k(rng), k(rng), side(rng), side(rng)]),
        19 => c.extend(["RPOPLPUSH".into(), k(rng), k(rng)]),
        20..=21 => {
            c.push("LMPOP".into());
            mpop_args(rng, &mut c);
        }
        22 => {
            c.push(pick(rng, &["BLPOP", "BRPOP"]).into());
            for _ in 0..rng.gen_range(1..3) {
                c.push(k(rng));
            }
            c.push(pick(rng, &["0.01", "x", "-1"]).into());
        }
        23 => c.extend([
            "BLMOVE".into(),
            k(rng),
            k(rng),
            side(rng),
            side(rng),
            pick(rng, &["0.01", "x"]).into(),
        ]),
        24 => c.extend(["BRPOPLPUSH".into(), k(rng), k(rng), "0.01".into()]),
        25 => {
            c.push("BLMPOP".into());
            c.push(pick(rng, &["0.01", "x"]).into());
            mpop_args(rng, &mut c);
        }
        26 => c.extend(["LRANGE".into(), k(rng), "0".into(), "-1".into()]),
        27 => c.extend(["EXISTS".into(), k(rng)]),
        28 => c.extend(["TYPE".into(), k(rng)]),
        _ => match rng.gen_range(0..4) {
            0 => c.extend(["SET".into(), "str".into(), v(rng)]),
            1 => c.extend(["DEL".into(), k(rng)]),
            2 => c.extend(["GET".into(), k(rng)]),
            _ => c.extend(["INCR".into(), k(rng)]),
        },
    }
    c
}

fn mpop_args(rng: &mut SmallRng, c: &mut Vec<String>) {
    let n = rng.gen_range(1..4usize);
    c.push(match rng.gen_range(0..10) {
        0 => "0".into(),
        1 => "x".into(),
        2 => (n + 1).to_string(),
        _ => n.to_string(),
    });
    for _ in 0..n {
        c.push(pick(rng, KEYS).into());
    }
    c.push(side(rng));
    match rng.gen_range(0..5) {
        0 | 1 => {}
        2 => c.extend(["COUNT".into(), count(rng)]),
        3 => c.extend(["COUNT".into(), count(rng), "COUNT".into(), "1".into()]),
        _ => c.extend(["COUNT".into(), rng.gen_range(1..6).to_string()]),
    }
}

#[test]
fn differential_lists_against_redis() {
    let mut d = Diff::start(&[]);
    let mut rng = SmallRng::seed_from_u64(0x1157_7e57);
    d.same_str(&["SET", "str", "text"]);
    for i in 0..2400 {
        if i == 1200 {
            // The second half in RESP3, for the null and array shapes.
            d.both(&[b"HELLO", b"3"]);
        }
        let c = random_command(&mut rng);
        let v: Vec<&[u8]> = c.iter().map(|s| s.as_bytes()).collect();
        d.same(&v);
        if i % 50 == 0 {
            for k in KEYS {
                d.same_str(&["LRANGE", k, "0", "-1"]);
            }
        }
    }
    // Keys that hold big lists, where chunking matters.
    for i in 0..3000 {
        let v = format!("value-{}-{}", i % 97, "x".repeat(i % 40));
        d.same_str(&[if i % 3 == 0 { "LPUSH" } else { "RPUSH" }, "big", &v]);
    }
    for _ in 0..300 {
        let c = match rng.gen_range(0..6) {
            0 => vec![
                "LINDEX".to_string(),
                "big".into(),
                rng.gen_range(-3100i64..3100).to_string(),
            ],
            1 => {
                let a = rng.gen_range(-3100i64..3100);
                vec![
                    "LRANGE".into(),
                    "big".into(),
                    a.to_string(),
                    (a + rng.gen_range(0..50)).to_string(),
                ]
            }
            2 => vec![
                "LREM".into(),
                "big".into(),
                rng.gen_range(-3i64..3).to_string(),
                format!("value-{}-", rng.gen_range(0..97)),
            ],
            3 => vec![
                "LSET".into(),
                "big".into(),
                rng.gen_range(-3100i64..3100).to_string(),
                "set".into(),
            ],
            4 => vec![
                "LPOS".into(),
                "big".into(),
                "set".into(),
                "RANK".into(),
                "-2".into(),
                "COUNT".into(),
                "3".into(),
            ],
            _ => vec![
                "LINSERT".into(),
                "big".into(),
                "BEFORE".into(),
                "set".into(),
                "ins".into(),
            ],
        };
        let v: Vec<&[u8]> = c.iter().map(|s| s.as_bytes()).collect();
        d.same(&v);
    }
    d.same_str(&["LRANGE", "big", "0", "-1"]);
    // Extreme ranks, both protocols.
    d.same_str(&["RPUSH", "r", "a", "b", "a", "c", "a"]);
    for proto in ["2", "3"] {
        d.both(&[b"HELLO", proto.as_bytes()]);
        for rank in [
            "-9223372036854775808",
            "9223372036854775807",
            "-9223372036854775807",
        ] {
            d.same_str(&["LPOS", "r", "a", "RANK", rank]);
            d.same_str(&["LPOS", "r", "a", "RANK", rank, "COUNT", "2"]);
            d.same_str(&["LPOS", "r", "a", "RANK", rank, "COUNT", "0", "MAXLEN", "3"]);
        }
    }
    d.same_str(&["LTRIM", "big", "100", "-100"]);
    // Multi-element pops across chunk boundaries.
    d.same_str(&["LPOP", "big", "700"]);
    d.same_str(&["RPOP", "big", "900"]);
    d.same_str(&["LMPOP", "2", "none", "big", "RIGHT", "COUNT", "333"]);
    d.same_str(&["BLMPOP", "0", "1", "big", "LEFT", "COUNT", "444"]);
    d.same_str(&["LRANGE", "big", "0", "-1"]);
    d.same_str(&["RPOP", "big", "100000"]);
    d.same_str(&["EXISTS", "big"]);
    d.same_str(&["LRANGE", "big", "0", "-1"]);
}

#[test]
fn writes_invalidate_watch() {
    let s = Server::start(&[]);
    let mut r = s.raw();
    let mut other = s.raw();
    r.call(&["RPUSH", "l", "a", "b", "c"]);
    let writes: &[&[&str]] = &[
        &["LPUSH", "l", "x"],
        &["RPUSHX", "l", "x"],
        &["LPOP", "l"],
        &["RPOP", "l", "2"],
        &["LSET", "l", "0", "y"],
        &["LREM", "l", "0", "a"],
        &["LTRIM", "l", "0", "0"],
        &["LINSERT", "l", "BEFORE", "a", "z"],
        &["LMOVE", "src", "l", "LEFT", "LEFT"],
        &["RPOPLPUSH", "l", "other"],
        &["LMPOP", "1", "l", "LEFT"],
        &["BLPOP", "l", "0"],
    ];
    for w in writes {
        r.call(&["DEL", "l", "src"]);
        r.call(&["RPUSH", "l", "a", "b", "c"]);
        r.call(&["RPUSH", "src", "s"]);
        assert_eq!(r.call(&["WATCH", "l"]), "+OK\r\n");
        assert_ne!(other.call(w).as_bytes()[0], b'-', "{w:?}");
        r.call(&["MULTI"]);
        r.call(&["LLEN", "l"]);
        assert_eq!(r.call(&["EXEC"]), "*-1\r\n", "{w:?}");
    }
    // Commands that change nothing leave the watch alone.
    let reads: &[&[&str]] = &[
        &["LRANGE", "l", "0", "-1"],
        &["LREM", "l", "0", "absent"],
        &["LINSERT", "l", "BEFORE", "absent", "z"],
        &["LPUSHX", "nosuch", "x"],
    ];
    r.call(&["DEL", "l"]);
    r.call(&["RPUSH", "l", "a", "b", "c"]);
    for w in reads {
        assert_eq!(r.call(&["WATCH", "l"]), "+OK\r\n");
        other.call(w);
        r.call(&["MULTI"]);
        r.call(&["LLEN", "l"]);
        assert_eq!(r.call(&["EXEC"]), "*1\r\n:3\r\n", "{w:?}");
    }
}
