//! Sorted set commands, blocking pops, encodings, and a differential run
//! against a real redis-server.

use std::time::{Duration, Instant};

use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};

use crate::util::expect::{arity, bulk, bulks, wait_blocked, NOT_INT, SYNTAX, WRONGTYPE};
use crate::util::{Diff, Raw, Server};

const NOT_FLOAT: &str = "-ERR value is not a valid float\r\n";
const MIN_MAX_FLOAT: &str = "-ERR min or max is not a float\r\n";
const MIN_MAX_LEX: &str = "-ERR min or max not valid string range item\r\n";

#[test]
fn zadd_options_and_errors() {
    let s = Server::start(&[]);
    let mut r = s.raw();
    assert_eq!(r.call(&["ZADD", "z", "1", "a", "2", "b"]), ":2\r\n");
    assert_eq!(r.call(&["ZADD", "z", "3", "a", "4", "c"]), ":1\r\n");
    assert_eq!(
        r.call(&["ZADD", "z", "CH", "5", "a", "4", "c", "1", "d"]),
        ":2\r\n"
    );
    assert_eq!(r.call(&["ZADD", "z", "NX", "9", "a", "9", "e"]), ":1\r\n");
    assert_eq!(r.call(&["ZSCORE", "z", "a"]), bulk("5"));
    assert_eq!(
        r.call(&["ZADD", "z", "XX", "CH", "7", "a", "7", "new"]),
        ":1\r\n"
    );
    assert_eq!(r.call(&["ZSCORE", "z", "new"]), "$-1\r\n");
    // GT/LT only move scores one way; new members are still added.
    assert_eq!(
        r.call(&["ZADD", "z", "GT", "CH", "1", "a", "10", "b", "0", "f"]),
        ":2\r\n"
    );
    assert_eq!(r.call(&["ZSCORE", "z", "a"]), bulk("7"));
    assert_eq!(r.call(&["ZSCORE", "z", "b"]), bulk("10"));
    assert_eq!(
        r.call(&["ZADD", "z", "LT", "XX", "CH", "1", "a", "20", "b"]),
        ":1\r\n"
    );
    assert_eq!(r.call(&["ZSCORE", "z", "a"]), bulk("1"));
    // INCR replies the new score, or nil when skipped.
    assert_eq!(r.call(&["ZADD", "z", "INCR", "1.5", "a"]), bulk("2.5"));
    assert_eq!(r.call(&["ZADD", "z", "INCR", "NX", "1", "a"]), "$-1\r\n");
    assert_eq!(
        r.call(&["ZADD", "z", "INCR", "XX", "1", "nosuch"]),
        "$-1\r\n"
    );
    assert_eq!(r.call(&["ZADD", "z", "INCR", "GT", "-1", "a"]), "$-1\r\n");
    assert_eq!(r.call(&["ZADD", "nokey", "XX", "1", "a"]), ":0\r\n");
    assert_eq!(
        r.call(&["ZADD", "nokey", "XX", "INCR", "1", "a"]),
        "$-1\r\n"
    );
    assert_eq!(r.call(&["EXISTS", "nokey"]), ":0\r\n");
    assert_eq!(
        r.call(&["ZINCRBY", "z", "0.1", "a"]),
        bulk("2.6000000000000001")
    );
    assert_eq!(r.call(&["ZINCRBY", "z", "5", "fresh"]), bulk("5"));
    assert_eq!(r.call(&["ZINCRBY", "z", "x", "a"]), NOT_FLOAT);
    // Option conflicts, in Redis's order.
    assert_eq!(
        r.call(&["ZADD", "z", "NX", "XX", "1", "a"]),
        "-ERR XX and NX options at the same time are not compatible\r\n"
    );
    for opts in [["GT", "LT"], ["GT", "NX"], ["NX", "LT"]] {
        assert_eq!(
            r.call(&["ZADD", "z", opts[0], opts[1], "1", "a"]),
            "-ERR GT, LT, and/or NX options at the same time are not compatible\r\n"
        );
    }
    assert_eq!(
        r.call(&["ZADD", "z", "INCR", "1", "a", "2", "b"]),
        "-ERR INCR option supports a single increment-element pair\r\n"
    );
    assert_eq!(r.call(&["ZADD", "z", "1", "a", "2"]), SYNTAX);
    assert_eq!(r.call(&["ZADD", "z", "NX", "CH"]), SYNTAX);
    assert_eq!(r.call(&["ZADD", "z", "1", "a", "NX", "1"]), NOT_FLOAT);
    assert_eq!(r.call(&["ZADD", "z", "nan", "a"]), NOT_FLOAT);
    assert_eq!(r.call(&["ZADD", "z", "1", "a", "x", "b"]), NOT_FLOAT);
    assert_eq!(r.call(&["ZINCRBY", "z", "NX", "a"]), SYNTAX);
    // Nothing of a failed ZADD is applied.
    assert_eq!(r.call(&["ZSCORE", "z", "b"]), bulk("10"));
    // Infinities are fine; inf - inf is not.
    assert_eq!(r.call(&["ZADD", "z", "+inf", "i"]), ":1\r\n");
    assert_eq!(r.call(&["ZSCORE", "z", "i"]), bulk("inf"));
    assert_eq!(
        r.call(&["ZINCRBY", "z", "-inf", "i"]),
        "-ERR resulting score is not a number (NaN)\r\n"
    );
    assert_eq!(
        r.call(&["ZADD", "z", "INCR", "-inf", "i"]),
        "-ERR resulting score is not a number (NaN)\r\n"
    );
    assert_eq!(r.call(&["ZSCORE", "z", "i"]), bulk("inf"));
    assert_eq!(r.call(&["ZADD", "z", "-inf", "j"]), ":1\r\n");
    assert_eq!(r.call(&["ZSCORE", "z", "j"]), bulk("-inf"));
    // Wrong type and arity.
    r.call(&["SET", "str", "x"]);
    for c in [
        &["ZADD", "str", "1", "a"][..],
        &["ZINCRBY", "str", "1", "a"],
        &["ZADD", "str", "XX", "1", "a"],
        &["ZREM", "str", "a"],
        &["ZSCORE", "str", "a"],
        &["ZMSCORE", "str", "a"],
        &["ZCARD", "str"],
        &["ZRANK", "str", "a"],
        &["ZREVRANK", "str", "a"],
        &["ZCOUNT", "str", "0", "1"],
        &["ZLEXCOUNT", "str", "-", "+"],
        &["ZRANGE", "str", "0", "1"],
        &["ZRANGESTORE", "d", "str", "0", "1"],
        &["ZREMRANGEBYRANK", "str", "0", "1"],
        &["ZPOPMIN", "str"],
        &["ZPOPMAX", "str", "0"],
        &["ZMPOP", "2", "nosuch", "str", "MIN"],
        &["BZPOPMIN", "nosuch", "str", "0"],
        &["BZMPOP", "0", "1", "str", "MAX"],
        &["ZUNION", "2", "z", "str"],
        &["ZINTERSTORE", "d", "1", "str"],
        &["ZINTERCARD", "1", "str"],
        &["ZDIFF", "1", "str"],
        &["ZRANDMEMBER", "str"],
        &["ZRANDMEMBER", "str", "0"],
        &["ZSCAN", "str", "0"],
    ] {
        assert_eq!(r.call(c), WRONGTYPE, "{c:?}");
    }
    assert_eq!(r.call(&["ZADD", "z", "1"]), arity("zadd"));
    assert_eq!(r.call(&["ZINCRBY", "z", "1"]), arity("zincrby"));
    assert_eq!(r.call(&["ZSCORE", "z"]), arity("zscore"));
    assert_eq!(r.call(&["ZCARD", "z", "x"]), arity("zcard"));
    assert_eq!(r.call(&["ZRANGE", "z", "0"]), arity("zrange"));
    assert_eq!(r.call(&["BZMPOP", "0", "1", "z"]), arity("bzmpop"));
    assert_eq!(
        r.call(&["ZRANGESTORE", "d", "z", "0"]),
        arity("zrangestore")
    );
}

#[test]
fn point_reads_and_resp3() {
    let s = Server::start(&[]);
    let mut r = s.raw();
    r.call(&["ZADD", "z", "1", "a", "2.5", "b", "-0", "c", "1e20", "d"]);
    assert_eq!(r.call(&["ZCARD", "z"]), ":4\r\n");
    assert_eq!(r.call(&["ZCARD", "nosuch"]), ":0\r\n");
    // A listpack stores -0 as the integer 0, as Redis 7.0 does.
    assert_eq!(r.call(&["ZSCORE", "z", "c"]), bulk("0"));
    assert_eq!(r.call(&["ZSCORE", "z", "d"]), bulk("1e+20"));
    assert_eq!(r.call(&["ZSCORE", "nosuch", "a"]), "$-1\r\n");
    assert_eq!(
        r.call(&["ZMSCORE", "z", "a", "x", "b"]),
        "*3\r\n$1\r\n1\r\n$-1\r\n$3\r\n2.5\r\n"
    );
    assert_eq!(r.call(&["ZMSCORE", "nosuch", "a"]), "*1\r\n$-1\r\n");
    assert_eq!(r.call(&["ZRANK", "z", "c"]), ":0\r\n");
    assert_eq!(r.call(&["ZREVRANK", "z", "c"]), ":3\r\n");
    assert_eq!(r.call(&["ZRANK", "z", "x"]), "$-1\r\n");
    assert_eq!(r.call(&["ZRANK", "nosuch", "x"]), "$-1\r\n");
    r.call(&["HELLO", "3"]);
    assert_eq!(r.call(&["ZSCORE", "z", "b"]), ",2.5\r\n");
    assert_eq!(r.call(&["ZSCORE", "z", "x"]), "_\r\n");
    assert_eq!(r.call(&["ZMSCORE", "z", "a", "x"]), "*2\r\n,1\r\n_\r\n");
    assert_eq!(r.call(&["ZRANK", "z", "x"]), "_\r\n");
    assert_eq!(
        r.call(&["ZRANGE", "z", "0", "1", "WITHSCORES"]),
        "*2\r\n*2\r\n$1\r\nc\r\n,0\r\n*2\r\n$1\r\na\r\n,1\r\n"
    );
    assert_eq!(r.call(&["ZRANGE", "z", "0", "1"]), bulks(&["c", "a"]));
    assert_eq!(r.call(&["ZPOPMIN", "z"]), "*2\r\n$1\r\nc\r\n,0\r\n");
    assert_eq!(
        r.call(&["ZPOPMIN", "z", "1"]),
        "*1\r\n*2\r\n$1\r\na\r\n,1\r\n"
    );
    assert_eq!(r.call(&["ZPOPMAX", "nosuch"]), "*0\r\n");
    assert_eq!(r.call(&["ZMPOP", "1", "nosuch", "MIN"]), "_\r\n");
    assert_eq!(
        r.call(&["ZMPOP", "1", "z", "MAX"]),
        "*2\r\n$1\r\nz\r\n*1\r\n*2\r\n$1\r\nd\r\n,1e+20\r\n"
    );
    assert_eq!(
        r.call(&["BZPOPMIN", "z", "0"]),
        "*3\r\n$1\r\nz\r\n$1\r\nb\r\n,2.5\r\n"
    );
    assert_eq!(r.call(&["BZPOPMIN", "z", "0.01"]), "_\r\n");
    assert_eq!(r.call(&["ZRANDMEMBER", "z"]), "_\r\n");
    r.call(&["ZADD", "z", "1", "a"]);
    assert_eq!(
        r.call(&["ZRANDMEMBER", "z", "1", "WITHSCORES"]),
        "*1\r\n*2\r\n$1\r\na\r\n,1\r\n"
    );
    assert_eq!(
        r.call(&["ZUNION", "1", "z", "WITHSCORES"]),
        "*1\r\n*2\r\n$1\r\na\r\n,1\r\n"
    );
    assert_eq!(
        r.call(&["ZSCAN", "z", "0"]),
        "*2\r\n$1\r\n0\r\n*2\r\n$1\r\na\r\n$1\r\n1\r\n"
    );
}

#[test]
fn ranges_and_counts() {
    let s = Server::start(&[]);
    let mut r = s.raw();
    r.call(&[
        "ZADD", "z", "1", "a", "2", "b", "3", "c", "4", "d", "5", "e",
    ]);
    assert_eq!(
        r.call(&["ZRANGE", "z", "0", "-1"]),
        bulks(&["a", "b", "c", "d", "e"])
    );
    assert_eq!(r.call(&["ZRANGE", "z", "-2", "100"]), bulks(&["d", "e"]));
    assert_eq!(r.call(&["ZRANGE", "z", "3", "1"]), "*0\r\n");
    assert_eq!(
        r.call(&["ZRANGE", "z", "0", "-1", "REV"]),
        bulks(&["e", "d", "c", "b", "a"])
    );
    assert_eq!(r.call(&["ZREVRANGE", "z", "0", "1"]), bulks(&["e", "d"]));
    assert_eq!(
        r.call(&["ZREVRANGE", "z", "0", "0", "WITHSCORES"]),
        bulks(&["e", "5"])
    );
    assert_eq!(
        r.call(&["ZRANGE", "z", "(1", "3", "BYSCORE", "WITHSCORES"]),
        bulks(&["b", "2", "c", "3"])
    );
    assert_eq!(
        r.call(&["ZRANGE", "z", "+inf", "-inf", "BYSCORE", "REV", "LIMIT", "1", "2"]),
        bulks(&["d", "c"])
    );
    assert_eq!(
        r.call(&["ZRANGEBYSCORE", "z", "-inf", "+inf", "LIMIT", "3", "-1"]),
        bulks(&["d", "e"])
    );
    assert_eq!(
        r.call(&["ZRANGEBYSCORE", "z", "-inf", "+inf", "LIMIT", "-1", "5"]),
        "*0\r\n"
    );
    assert_eq!(r.call(&["ZRANGEBYSCORE", "z", "3", "2"]), "*0\r\n");
    assert_eq!(
        r.call(&["ZREVRANGEBYSCORE", "z", "4", "(2"]),
        bulks(&["d", "c"])
    );
    assert_eq!(r.call(&["ZRANGEBYSCORE", "z", "x", "2"]), MIN_MAX_FLOAT);
    assert_eq!(r.call(&["ZRANGEBYSCORE", "z", "1", "2", "REV"]), SYNTAX);
    assert_eq!(
        r.call(&["ZRANGEBYSCORE", "z", "1", "2", "LIMIT", "1"]),
        SYNTAX
    );
    assert_eq!(
        r.call(&["ZRANGEBYSCORE", "z", "1", "2", "LIMIT", "a", "1"]),
        NOT_INT
    );
    assert_eq!(r.call(&["ZCOUNT", "z", "(1", "3"]), ":2\r\n");
    assert_eq!(r.call(&["ZCOUNT", "z", "-inf", "+inf"]), ":5\r\n");
    assert_eq!(r.call(&["ZCOUNT", "nosuch", "0", "1"]), ":0\r\n");
    assert_eq!(r.call(&["ZCOUNT", "nosuch", "a", "1"]), MIN_MAX_FLOAT);
    // Lex ranges over equal scores.
    r.call(&["ZADD", "l", "0", "a", "0", "b", "0", "c", "0", "d"]);
    assert_eq!(
        r.call(&["ZRANGEBYLEX", "l", "[b", "(d"]),
        bulks(&["b", "c"])
    );
    assert_eq!(
        r.call(&["ZRANGEBYLEX", "l", "-", "+", "LIMIT", "1", "2"]),
        bulks(&["b", "c"])
    );
    assert_eq!(
        r.call(&["ZREVRANGEBYLEX", "l", "+", "(b"]),
        bulks(&["d", "c"])
    );
    assert_eq!(
        r.call(&["ZRANGE", "l", "[c", "-", "BYLEX", "REV"]),
        bulks(&["c", "b", "a"])
    );
    assert_eq!(r.call(&["ZLEXCOUNT", "l", "(a", "[c"]), ":2\r\n");
    assert_eq!(r.call(&["ZLEXCOUNT", "l", "a", "[c"]), MIN_MAX_LEX);
    assert_eq!(r.call(&["ZRANGEBYLEX", "l", "-", "c"]), MIN_MAX_LEX);
    assert_eq!(
        r.call(&["ZRANGE", "l", "-", "+", "BYLEX", "WITHSCORES"]),
        "-ERR syntax error, WITHSCORES not supported in combination with BYLEX\r\n"
    );
    assert_eq!(
        r.call(&["ZRANGE", "l", "0", "1", "LIMIT", "0", "1"]),
        "-ERR syntax error, LIMIT is only supported in combination with either BYSCORE or BYLEX\r\n"
    );
    // Redis reads "LIMIT x -1" as no limit at all.
    assert_eq!(
        r.call(&["ZRANGE", "l", "0", "1", "LIMIT", "5", "-1"]),
        bulks(&["a", "b"])
    );
    assert_eq!(
        r.call(&["ZRANGE", "l", "0", "1", "BYSCORE", "BYLEX"]),
        SYNTAX
    );
    assert_eq!(r.call(&["ZRANGE", "l", "0", "x"]), NOT_INT);
    assert_eq!(r.call(&["ZRANGE", "nosuch", "0", "-1"]), "*0\r\n");
    // ZRANGESTORE: events, empty results delete the destination.
    assert_eq!(r.call(&["ZRANGESTORE", "d", "z", "1", "3"]), ":3\r\n");
    assert_eq!(
        r.call(&["ZRANGE", "d", "0", "-1", "WITHSCORES"]),
        bulks(&["b", "2", "c", "3", "d", "4"])
    );
    assert_eq!(
        r.call(&["ZRANGESTORE", "d", "z", "(5", "+inf", "BYSCORE"]),
        ":0\r\n"
    );
    assert_eq!(r.call(&["EXISTS", "d"]), ":0\r\n");
    assert_eq!(
        r.call(&["ZRANGESTORE", "z", "z", "0", "1", "REV"]),
        ":2\r\n"
    );
    assert_eq!(r.call(&["ZRANGE", "z", "0", "-1"]), bulks(&["d", "e"]));
    assert_eq!(
        r.call(&["ZRANGESTORE", "d", "z", "0", "1", "WITHSCORES"]),
        SYNTAX
    );
    r.call(&["SET", "str", "x"]);
    assert_eq!(
        r.call(&["ZRANGESTORE", "str", "l", "[a", "[b", "BYLEX"]),
        ":2\r\n"
    );
    assert_eq!(r.call(&["TYPE", "str"]), "+zset\r\n");
}

#[test]
fn removals_and_pops() {
    let s = Server::start(&[]);
    let mut r = s.raw();
    r.call(&[
        "ZADD", "z", "1", "a", "2", "b", "3", "c", "4", "d", "5", "e",
    ]);
    assert_eq!(r.call(&["ZREM", "z", "a", "x", "b"]), ":2\r\n");
    assert_eq!(r.call(&["ZREM", "nosuch", "a"]), ":0\r\n");
    assert_eq!(r.call(&["ZREMRANGEBYRANK", "z", "-1", "-1"]), ":1\r\n");
    assert_eq!(r.call(&["ZREMRANGEBYRANK", "z", "5", "10"]), ":0\r\n");
    assert_eq!(r.call(&["ZREMRANGEBYRANK", "z", "x", "10"]), NOT_INT);
    assert_eq!(r.call(&["ZREMRANGEBYSCORE", "z", "(3", "+inf"]), ":1\r\n");
    assert_eq!(
        r.call(&["ZREMRANGEBYSCORE", "z", "x", "+inf"]),
        MIN_MAX_FLOAT
    );
    assert_eq!(r.call(&["ZREMRANGEBYLEX", "z", "x", "+"]), MIN_MAX_LEX);
    assert_eq!(r.call(&["ZREMRANGEBYLEX", "z", "-", "+"]), ":1\r\n");
    assert_eq!(r.call(&["EXISTS", "z"]), ":0\r\n");
    r.call(&["ZADD", "z", "1", "a", "2", "b", "3", "c"]);
    assert_eq!(r.call(&["ZREM", "z", "a", "b", "c", "a"]), ":3\r\n");
    assert_eq!(r.call(&["EXISTS", "z"]), ":0\r\n");

    r.call(&["ZADD", "z", "1", "a", "2", "b", "3", "c", "4", "d"]);
    assert_eq!(r.call(&["ZPOPMIN", "z"]), bulks(&["a", "1"]));
    assert_eq!(r.call(&["ZPOPMAX", "z", "2"]), bulks(&["d", "4", "c", "3"]));
    assert_eq!(r.call(&["ZPOPMAX", "z", "0"]), "*0\r\n");
    assert_eq!(
        r.call(&["ZPOPMAX", "z", "-1"]),
        "-ERR value is out of range, must be positive\r\n"
    );
    assert_eq!(r.call(&["ZPOPMAX", "z", "1", "2"]), SYNTAX);
    assert_eq!(r.call(&["ZPOPMIN", "z", "10"]), bulks(&["b", "2"]));
    assert_eq!(r.call(&["EXISTS", "z"]), ":0\r\n");
    assert_eq!(r.call(&["ZPOPMIN", "z"]), "*0\r\n");
    assert_eq!(r.call(&["ZPOPMIN", "z", "1"]), "*0\r\n");

    r.call(&["ZADD", "z", "1", "a", "2", "b", "3", "c"]);
    assert_eq!(r.call(&["ZMPOP", "1", "nosuch", "MIN"]), "*-1\r\n");
    assert_eq!(
        r.call(&["ZMPOP", "2", "nosuch", "z", "MAX", "COUNT", "2"]),
        "*2\r\n$1\r\nz\r\n*2\r\n*2\r\n$1\r\nc\r\n$1\r\n3\r\n*2\r\n$1\r\nb\r\n$1\r\n2\r\n"
    );
    assert_eq!(
        r.call(&["ZMPOP", "0", "z", "MIN"]),
        "-ERR numkeys should be greater than 0\r\n"
    );
    assert_eq!(
        r.call(&["ZMPOP", "1", "z", "MIN", "COUNT", "0"]),
        "-ERR count should be greater than 0\r\n"
    );
    assert_eq!(
        r.call(&["ZMPOP", "1", "z", "MIN", "COUNT", "1", "COUNT", "1"]),
        SYNTAX
    );
    assert_eq!(r.call(&["ZMPOP", "1", "z", "LEFT"]), SYNTAX);
    assert_eq!(r.call(&["ZMPOP", "5", "z", "MIN"]), SYNTAX);
    assert_eq!(
        r.call(&["ZMPOP", "1", "z", "MIN", "COUNT", "10"]),
        "*2\r\n$1\r\nz\r\n*1\r\n*2\r\n$1\r\na\r\n$1\r\n1\r\n"
    );
    assert_eq!(r.call(&["EXISTS", "z"]), ":0\r\n");
}

#[test]
fn set_operations() {
    let s = Server::start(&[]);
    let mut r = s.raw();
    r.call(&["ZADD", "a", "1", "x", "2", "y", "3", "z"]);
    r.call(&["ZADD", "b", "10", "y", "20", "z", "30", "w"]);
    assert_eq!(
        r.call(&["ZUNION", "2", "a", "b", "WITHSCORES"]),
        bulks(&["x", "1", "y", "12", "z", "23", "w", "30"])
    );
    assert_eq!(
        r.call(&[
            "ZUNION",
            "2",
            "a",
            "b",
            "WEIGHTS",
            "2",
            "0.5",
            "AGGREGATE",
            "MAX",
            "WITHSCORES"
        ]),
        bulks(&["x", "2", "y", "5", "z", "10", "w", "15"])
    );
    assert_eq!(
        r.call(&["ZINTER", "2", "a", "b", "AGGREGATE", "min", "WITHSCORES"]),
        bulks(&["y", "2", "z", "3"])
    );
    assert_eq!(r.call(&["ZINTER", "3", "a", "b", "nosuch"]), "*0\r\n");
    assert_eq!(
        r.call(&["ZDIFF", "2", "a", "b", "WITHSCORES"]),
        bulks(&["x", "1"])
    );
    assert_eq!(r.call(&["ZDIFF", "2", "nosuch", "b"]), "*0\r\n");
    assert_eq!(r.call(&["ZINTERCARD", "2", "a", "b"]), ":2\r\n");
    assert_eq!(
        r.call(&["ZINTERCARD", "2", "a", "b", "LIMIT", "1"]),
        ":1\r\n"
    );
    assert_eq!(
        r.call(&["ZINTERCARD", "2", "a", "b", "LIMIT", "0"]),
        ":2\r\n"
    );
    assert_eq!(
        r.call(&["ZINTERCARD", "2", "a", "b", "LIMIT", "-1"]),
        "-ERR LIMIT can't be negative\r\n"
    );
    assert_eq!(r.call(&["ZINTERCARD", "2", "a", "b", "WITHSCORES"]), SYNTAX);
    // inf * 0 and inf - inf count as 0.
    r.call(&["ZADD", "p", "inf", "m"]);
    r.call(&["ZADD", "n", "-inf", "m"]);
    assert_eq!(
        r.call(&["ZUNION", "2", "p", "n", "WITHSCORES"]),
        bulks(&["m", "0"])
    );
    assert_eq!(
        r.call(&["ZUNION", "1", "p", "WEIGHTS", "0", "WITHSCORES"]),
        bulks(&["m", "0"])
    );
    // Stores.
    assert_eq!(r.call(&["ZUNIONSTORE", "d", "2", "a", "b"]), ":4\r\n");
    assert_eq!(r.call(&["OBJECT", "ENCODING", "d"]), bulk("listpack"));
    assert_eq!(
        r.call(&["ZINTERSTORE", "d", "2", "a", "b", "WEIGHTS", "1", "-1"]),
        ":2\r\n"
    );
    assert_eq!(
        r.call(&["ZRANGE", "d", "0", "-1", "WITHSCORES"]),
        bulks(&["z", "-17", "y", "-8"])
    );
    assert_eq!(r.call(&["ZDIFFSTORE", "d", "2", "a", "a"]), ":0\r\n");
    assert_eq!(r.call(&["EXISTS", "d"]), ":0\r\n");
    r.call(&["SET", "d", "string"]);
    assert_eq!(r.call(&["ZDIFFSTORE", "d", "1", "a"]), ":3\r\n");
    assert_eq!(r.call(&["TYPE", "d"]), "+zset\r\n");
    // Errors, in Redis's order.
    assert_eq!(
        r.call(&["ZUNION", "0", "a"]),
        "-ERR at least 1 input key is needed for 'zunion' command\r\n"
    );
    assert_eq!(
        r.call(&["ZUNIONSTORE", "d", "-1", "a"]),
        "-ERR at least 1 input key is needed for 'zunionstore' command\r\n"
    );
    assert_eq!(r.call(&["ZUNION", "x", "a"]), NOT_INT);
    assert_eq!(r.call(&["ZUNION", "3", "a", "b"]), SYNTAX);
    assert_eq!(r.call(&["ZUNION", "2", "a", "b", "WEIGHTS", "1"]), SYNTAX);
    assert_eq!(
        r.call(&["ZUNION", "2", "a", "b", "WEIGHTS", "1", "x"]),
        "-ERR weight value is not a float\r\n"
    );
    assert_eq!(
        r.call(&["ZUNION", "2", "a", "b", "AGGREGATE", "avg"]),
        SYNTAX
    );
    assert_eq!(
        r.call(&["ZDIFF", "2", "a", "b", "WEIGHTS", "1", "1"]),
        SYNTAX
    );
    assert_eq!(
        r.call(&["ZUNIONSTORE", "d", "1", "a", "WITHSCORES"]),
        SYNTAX
    );
    r.call(&["SET", "str", "x"]);
    // Inputs are type-checked before the options are read.
    assert_eq!(r.call(&["ZUNION", "2", "a", "str", "BOGUS"]), WRONGTYPE);
}

#[test]
fn randmember_and_scan() {
    let s = Server::start(&[]);
    let mut r = s.raw();
    r.call(&["ZADD", "z", "1", "a", "2", "b", "3", "c"]);
    let one = r.call(&["ZRANDMEMBER", "z"]);
    assert!([bulk("a"), bulk("b"), bulk("c")].contains(&one), "{one}");
    assert_eq!(r.call(&["ZRANDMEMBER", "nosuch"]), "$-1\r\n");
    assert_eq!(r.call(&["ZRANDMEMBER", "nosuch", "5"]), "*0\r\n");
    assert_eq!(r.call(&["ZRANDMEMBER", "z", "0"]), "*0\r\n");
    assert_eq!(
        r.call(&["ZRANDMEMBER", "z", "5", "WITHSCORES"]),
        bulks(&["a", "1", "b", "2", "c", "3"])
    );
    let two = r.call(&["ZRANDMEMBER", "z", "2"]);
    assert!(two.starts_with("*2\r\n"), "{two}");
    let many = r.call(&["ZRANDMEMBER", "z", "-7", "WITHSCORES"]);
    assert!(many.starts_with("*14\r\n"), "{many}");
    assert_eq!(r.call(&["ZRANDMEMBER", "z", "1", "2"]), SYNTAX);
    assert_eq!(r.call(&["ZRANDMEMBER", "z", "x"]), NOT_INT);
    assert_eq!(
        r.call(&["ZRANDMEMBER", "z", "-9223372036854775808"]),
        "-ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807\r\n"
    );
    assert_eq!(
        r.call(&["ZRANDMEMBER", "z", "-9223372036854770000", "WITHSCORES"]),
        "-ERR value is out of range\r\n"
    );
    // A reply that could not fit in memory is refused, not attempted.
    assert_eq!(
        r.call(&["ZRANDMEMBER", "z", "-9223372036854770000"]),
        "-ERR value is out of range\r\n"
    );

    assert_eq!(
        r.call(&["ZSCAN", "z", "0", "MATCH", "[ab]"]),
        "*2\r\n$1\r\n0\r\n*4\r\n$1\r\na\r\n$1\r\n1\r\n$1\r\nb\r\n$1\r\n2\r\n"
    );
    assert_eq!(r.call(&["ZSCAN", "nosuch", "0"]), "*2\r\n$1\r\n0\r\n*0\r\n");
    assert_eq!(r.call(&["ZSCAN", "z", "x"]), "-ERR invalid cursor\r\n");
    assert_eq!(r.call(&["ZSCAN", "z", "0", "COUNT", "0"]), SYNTAX);
    assert_eq!(r.call(&["ZSCAN", "z", "0", "TYPE", "zset"]), SYNTAX);
    // A skiplist-encoded set is walked with a cursor; every member comes back.
    r.call(&["CONFIG", "SET", "zset-max-listpack-entries", "4"]);
    for i in 0..50 {
        r.call(&["ZADD", "big", &format!("{i}.5"), &format!("m{i}")]);
    }
    let mut seen = std::collections::BTreeSet::new();
    let mut cursor = "0".to_string();
    loop {
        let reply = r.call(&["ZSCAN", "big", &cursor, "COUNT", "7"]);
        let lines: Vec<&str> = reply.split("\r\n").collect();
        cursor = lines[2].to_string();
        for pair in lines[4..].chunks(4) {
            if pair.len() == 4 {
                seen.insert((pair[1].to_string(), pair[3].to_string()));
            }
        }
        if cursor == "0" {
            break;
        }
    }
    assert_eq!(seen.len(), 50);
    assert!(seen.contains(&("m7".to_string(), "7.5".to_string())));
}

#[test]
fn encoding_conversion() {
    let s = Server::start(&[
        "--zset-max-listpack-entries",
        "4",
        "--zset-max-listpack-value",
        "8",
    ]);
    let mut r = s.raw();
    r.call(&["ZADD", "z", "1", "a", "2", "b", "3", "c", "4", "d"]);
    assert_eq!(r.call(&["OBJECT", "ENCODING", "z"]), bulk("listpack"));
    r.call(&["ZADD", "z", "5", "e"]);
    assert_eq!(r.call(&["OBJECT", "ENCODING", "z"]), bulk("skiplist"));
    // Shrinking does not convert back.
    r.call(&["ZPOPMIN", "z", "4"]);
    assert_eq!(r.call(&["OBJECT", "ENCODING", "z"]), bulk("skiplist"));
    r.call(&["ZADD", "long", "1", "123456789"]);
    assert_eq!(r.call(&["OBJECT", "ENCODING", "long"]), bulk("skiplist"));
    r.call(&["ZADD", "short", "1", "a"]);
    r.call(&["ZADD", "short", "1", "abcdefghij"]);
    assert_eq!(r.call(&["OBJECT", "ENCODING", "short"]), bulk("skiplist"));
    // Store results pick the encoding by size.
    assert_eq!(r.call(&["ZUNIONSTORE", "u", "1", "z"]), ":1\r\n");
    assert_eq!(r.call(&["OBJECT", "ENCODING", "u"]), bulk("listpack"));
    assert_eq!(r.call(&["ZUNIONSTORE", "u", "1", "short"]), ":2\r\n");
    assert_eq!(r.call(&["OBJECT", "ENCODING", "u"]), bulk("skiplist"));
    r.call(&[
        "ZADD", "w", "1", "a", "2", "b", "3", "c", "4", "d", "5", "e", "6", "f",
    ]);
    assert_eq!(r.call(&["ZRANGESTORE", "d", "w", "0", "4"]), ":5\r\n");
    assert_eq!(r.call(&["OBJECT", "ENCODING", "d"]), bulk("skiplist"));
    assert_eq!(r.call(&["ZRANGESTORE", "d", "w", "0", "3"]), ":4\r\n");
    assert_eq!(r.call(&["OBJECT", "ENCODING", "d"]), bulk("listpack"));
    assert_eq!(
        r.call(&["ZRANGESTORE", "d", "w", "-inf", "+inf", "BYSCORE"]),
        ":6\r\n"
    );
    assert_eq!(r.call(&["OBJECT", "ENCODING", "d"]), bulk("skiplist"));
    assert_eq!(
        r.call(&["ZRANGE", "d", "0", "-1"]),
        bulks(&["a", "b", "c", "d", "e", "f"])
    );
    r.call(&["CONFIG", "SET", "zset-max-listpack-entries", "0"]);
    r.call(&["ZADD", "zero", "1", "a"]);
    assert_eq!(r.call(&["OBJECT", "ENCODING", "zero"]), bulk("skiplist"));
}

/// Reads pub/sub messages until `n` arrived; returns (channel, payload).
fn read_events(r: &mut Raw, n: usize) -> Vec<(String, String)> {
    let mut v = Vec::new();
    while v.len() < n {
        let msg = r.reply_str();
        let parts: Vec<&str> = msg.split("\r\n").collect();
        if parts.len() >= 9 && parts[2] == "pmessage" {
            v.push((parts[6].to_string(), parts[8].to_string()));
        }
    }
    v
}

#[test]
fn keyspace_events() {
    let s = Server::start(&["--notify-keyspace-events", "Egz"]);
    let mut sub = s.raw();
    sub.call(&["PSUBSCRIBE", "__keyevent@0__:*"]);
    let mut r = s.raw();
    let ev = |e: &str, k: &str| (format!("__keyevent@0__:{e}"), k.to_string());
    r.call(&["ZADD", "z", "1", "a", "2", "b", "3", "c", "4", "d"]);
    r.call(&["ZADD", "z", "1", "a"]); // no change, no event
    r.call(&["ZINCRBY", "z", "1", "a"]);
    r.call(&["ZADD", "z", "INCR", "1", "a"]);
    r.call(&["ZREM", "z", "nosuch"]);
    r.call(&["ZREM", "z", "a"]);
    r.call(&["ZREMRANGEBYRANK", "z", "0", "0"]);
    r.call(&["ZREMRANGEBYSCORE", "z", "3", "3"]);
    r.call(&["ZADD", "y", "1", "a"]);
    r.call(&["ZUNIONSTORE", "u", "2", "y", "z"]);
    r.call(&["ZINTERSTORE", "u", "2", "y", "z"]);
    r.call(&["ZRANGESTORE", "r", "z", "0", "-1"]);
    r.call(&["ZDIFFSTORE", "r", "1", "y"]);
    r.call(&["ZPOPMAX", "z"]);
    r.call(&["ZMPOP", "1", "y", "MIN"]);
    r.call(&["ZREMRANGEBYLEX", "r", "-", "+"]);
    // Sentinels: nothing else may arrive in between.
    r.call(&["ZINCRBY", "x", "1", "m"]);
    r.call(&["ZREM", "x", "m"]);
    assert_eq!(
        read_events(&mut sub, 20),
        vec![
            ev("zadd", "z"),
            ev("zincr", "z"),
            ev("zincr", "z"),
            ev("zrem", "z"),
            ev("zremrangebyrank", "z"),
            ev("zremrangebyscore", "z"),
            ev("zadd", "y"),
            ev("zunionstore", "u"),
            ev("del", "u"),
            ev("zrangestore", "r"),
            ev("zdiffstore", "r"),
            ev("zpopmax", "z"),
            ev("del", "z"),
            ev("zpopmin", "y"),
            ev("del", "y"),
            ev("zremrangebylex", "r"),
            ev("del", "r"),
            ev("zincr", "x"),
            ev("zrem", "x"),
            ev("del", "x"),
        ]
    );
}

#[test]
fn command_table_rows() {
    let s = Server::start(&[]);
    let mut r = s.raw();
    let info = r.call(&["COMMAND", "INFO", "bzpopmin"]);
    assert!(info.contains("$8\r\nbzpopmin\r\n:-3\r\n"), "{info}");
    assert!(info.contains("+blocking\r\n"), "{info}");
    assert!(info.contains(":1\r\n:-2\r\n:1\r\n"), "{info}");
    let info = r.call(&["COMMAND", "INFO", "zrangestore"]);
    assert!(info.contains(":-5\r\n"), "{info}");
    assert!(info.contains("+denyoom\r\n"), "{info}");
    assert!(info.contains(":1\r\n:2\r\n:1\r\n"), "{info}");
    let info = r.call(&["COMMAND", "INFO", "zscore"]);
    assert!(info.contains("+readonly\r\n+fast\r\n"), "{info}");
    let docs = r.call(&["COMMAND", "DOCS", "zmpop"]);
    assert!(docs.contains("$10\r\nsorted-set\r\n"), "{docs}");
    assert!(docs.contains("$5\r\n7.0.0\r\n"), "{docs}");
}

#[test]
fn blocking_served_immediately_and_in_multi() {
    let s = Server::start(&[]);
    let mut r = s.raw();
    r.call(&["ZADD", "z", "1", "a", "2", "b", "3", "c"]);
    assert_eq!(
        r.call(&["BZPOPMIN", "nosuch", "z", "0"]),
        bulks(&["z", "a", "1"])
    );
    assert_eq!(r.call(&["BZPOPMAX", "z", "0"]), bulks(&["z", "c", "3"]));
    assert_eq!(
        r.call(&["BZMPOP", "0", "1", "z", "MIN", "COUNT", "5"]),
        "*2\r\n$1\r\nz\r\n*1\r\n*2\r\n$1\r\nb\r\n$1\r\n2\r\n"
    );
    assert_eq!(r.call(&["EXISTS", "z"]), ":0\r\n");
    assert_eq!(
        r.call(&["BZPOPMIN", "z", "x"]),
        "-ERR timeout is not a float or out of range\r\n"
    );
    assert_eq!(
        r.call(&["BZPOPMIN", "z", "-1"]),
        "-ERR timeout is negative\r\n"
    );
    assert_eq!(r.call(&["BZMPOP", "0", "1", "z", "UP"]), SYNTAX);
    // BZMPOP parses its keys before its timeout.
    assert_eq!(
        r.call(&["BZMPOP", "x", "0", "z", "MIN"]),
        "-ERR numkeys should be greater than 0\r\n"
    );
    assert_eq!(
        r.call(&["BZMPOP", "x", "1", "z", "MIN"]),
        "-ERR timeout is not a float or out of range\r\n"
    );
    r.call(&["ZADD", "z", "1", "a"]);
    assert_eq!(r.call(&["MULTI"]), "+OK\r\n");
    for c in [
        &["BZPOPMIN", "nosuch", "0"][..],
        &["BZPOPMAX", "nosuch", "0"],
        &["BZMPOP", "0", "1", "nosuch", "MIN"],
        &["BZPOPMAX", "z", "0"],
    ] {
        assert_eq!(r.call(c), "+QUEUED\r\n");
    }
    assert_eq!(
        r.call(&["EXEC"]),
        "*4\r\n*-1\r\n*-1\r\n*-1\r\n*3\r\n$1\r\nz\r\n$1\r\na\r\n$1\r\n1\r\n"
    );
}

#[test]
fn bzpopmin_fifo_order() {
    let s = Server::start(&[]);
    let mut a = s.raw();
    let mut b = s.raw();
    let mut c = s.raw();
    let mut r = s.raw();
    a.cmd(&[b"BZPOPMIN", b"q", b"0"]);
    wait_blocked(&mut r, 1);
    b.cmd(&[b"BZPOPMAX", b"other", b"q", b"0"]);
    wait_blocked(&mut r, 2);
    c.cmd(&[
        b"BZMPOP", b"0", b"2", b"other", b"q", b"MIN", b"COUNT", b"2",
    ]);
    wait_blocked(&mut r, 3);
    assert_eq!(
        r.call(&["ZADD", "q", "1", "a", "2", "b", "3", "c", "4", "d", "5", "e"]),
        ":5\r\n"
    );
    assert_eq!(a.reply_str(), bulks(&["q", "a", "1"]));
    assert_eq!(b.reply_str(), bulks(&["q", "e", "5"]));
    assert_eq!(
        c.reply_str(),
        "*2\r\n$1\r\nq\r\n*2\r\n*2\r\n$1\r\nb\r\n$1\r\n2\r\n*2\r\n$1\r\nc\r\n$1\r\n3\r\n"
    );
    assert_eq!(r.call(&["ZRANGE", "q", "0", "-1"]), bulks(&["d"]));
    wait_blocked(&mut r, 0);

    // One member for two waiters: the first gets it, the second waits on.
    r.call(&["DEL", "q"]);
    a.cmd(&[b"BZPOPMAX", b"q", b"0"]);
    wait_blocked(&mut r, 1);
    b.cmd(&[b"BZPOPMIN", b"q", b"0"]);
    wait_blocked(&mut r, 2);
    r.call(&["ZADD", "q", "1", "x"]);
    assert_eq!(a.reply_str(), bulks(&["q", "x", "1"]));
    wait_blocked(&mut r, 1);
    // Stores and ZINCRBY wake waiters too.
    r.call(&["ZADD", "src", "7", "y"]);
    r.call(&["ZUNIONSTORE", "q", "1", "src"]);
    assert_eq!(b.reply_str(), bulks(&["q", "y", "7"]));
    a.cmd(&[b"BZPOPMIN", b"q2", b"0"]);
    wait_blocked(&mut r, 1);
    r.call(&["ZINCRBY", "q2", "2", "z"]);
    assert_eq!(a.reply_str(), bulks(&["q2", "z", "2"]));
    assert_eq!(r.call(&["EXISTS", "q", "q2"]), ":0\r\n");
    assert_eq!(a.call(&["PING"]), "+PONG\r\n");
    assert_eq!(b.call(&["PING"]), "+PONG\r\n");
}

#[test]
fn blocking_timeout_sub_second() {
    let s = Server::start(&[]);
    let mut a = s.raw();
    for c in [
        &["BZPOPMIN", "q", "0.1"][..],
        &["BZPOPMAX", "q", "q2", "0.1"],
        &["BZMPOP", "0.1", "1", "q", "MAX"],
    ] {
        let start = Instant::now();
        assert_eq!(a.call(c), "*-1\r\n", "{c:?}");
        let took = start.elapsed();
        assert!(took >= Duration::from_millis(100), "{c:?} {took:?}");
        assert!(took < Duration::from_secs(5), "{c:?} {took:?}");
    }
    a.call(&["HELLO", "3"]);
    assert_eq!(a.call(&["BZMPOP", "0.05", "1", "q", "MAX"]), "_\r\n");
    let mut r = s.raw();
    wait_blocked(&mut r, 0);
}

#[test]
fn writes_invalidate_watch() {
    let s = Server::start(&[]);
    let mut r = s.raw();
    let mut other = s.raw();
    let writes: &[&[&str]] = &[
        &["ZADD", "z", "5", "x"],
        &["ZINCRBY", "z", "1", "a"],
        &["ZREM", "z", "a"],
        &["ZPOPMIN", "z"],
        &["ZMPOP", "1", "z", "MAX"],
        &["BZPOPMAX", "z", "0"],
        &["ZREMRANGEBYSCORE", "z", "-inf", "+inf"],
        &["ZUNIONSTORE", "z", "1", "src"],
        &["ZRANGESTORE", "z", "src", "0", "-1"],
        &["ZDIFFSTORE", "z", "1", "nosuch"],
    ];
    for w in writes {
        r.call(&["DEL", "z", "src"]);
        r.call(&["ZADD", "z", "1", "a", "2", "b"]);
        r.call(&["ZADD", "src", "1", "s"]);
        assert_eq!(r.call(&["WATCH", "z"]), "+OK\r\n");
        assert_ne!(other.call(w).as_bytes()[0], b'-', "{w:?}");
        r.call(&["MULTI"]);
        r.call(&["ZCARD", "z"]);
        assert_eq!(r.call(&["EXEC"]), "*-1\r\n", "{w:?}");
    }
    let reads: &[&[&str]] = &[
        &["ZRANGE", "z", "0", "-1"],
        &["ZADD", "z", "1", "a"],
        &["ZADD", "z", "XX", "1", "new"],
        &["ZREM", "z", "absent"],
        &["ZREMRANGEBYRANK", "z", "5", "6"],
        &["ZPOPMIN", "z", "0"],
    ];
    r.call(&["DEL", "z"]);
    r.call(&["ZADD", "z", "1", "a", "2", "b"]);
    for w in reads {
        assert_eq!(r.call(&["WATCH", "z"]), "+OK\r\n");
        other.call(w);
        r.call(&["MULTI"]);
        r.call(&["ZCARD", "z"]);
        assert_eq!(r.call(&["EXEC"]), "*1\r\n:2\r\n", "{w:?}");
    }
}

// ---- differential ---------------------------------------------------------

const KEYS: &[&str] = &["z1", "z2", "z3", "str", "s1", "s2", "nokey"];
const MEMBERS: &[&str] = &["a", "b", "c", "d", "e", "f", "g", "1", "2", "10", "-", "x"];
const SCORES: &[&str] = &[
    "0", "1", "2", "3", "-1", "1.5", "2.5", "-0", "10", "100", "1e3", "0.25", "inf", "-inf",
    "+inf", "abc", "7",
];
const BOUNDS: &[&str] = &[
    "-inf", "+inf", "0", "1", "(1", "2.5", "(2.5", "-1", "10", "(inf", "x", "(", "",
];
const LEX: &[&str] = &[
    "-", "+", "[a", "(a", "[c", "(d", "[x", "(1", "[10", "a", "[", "(",
];

fn pick<'a>(rng: &mut SmallRng, v: &[&'a str]) -> &'a str {
    v[rng.gen_range(0..v.len())]
}

fn member(rng: &mut SmallRng) -> String {
    if rng.gen_range(0..40) == 0 {
        // Longer than zset-max-listpack-value: forces the skiplist.
        format!("long-{}", "m".repeat(70))
    } else {
        pick(rng, MEMBERS).to_string()
    }
}

fn int_arg(rng: &mut SmallRng) -> String {
    match rng.gen_range(0..12) {
        0 => "x".into(),
        1 => "9223372036854775807".into(),
        2 => "-9223372036854775808".into(),
        _ => rng.gen_range(-8i64..9).to_string(),
    }
}

fn numkeys_and_keys(rng: &mut SmallRng, c: &mut Vec<String>) -> usize {
    let n = rng.gen_range(1..4);
    c.push(if rng.gen_range(0..20) == 0 {
        pick(rng, &["0", "-1", "x", "9"]).to_string()
    } else {
        n.to_string()
    });
    for _ in 0..n {
        c.push(pick(rng, KEYS).to_string());
    }
    n
}

fn setop_options(rng: &mut SmallRng, c: &mut Vec<String>, n: usize, store: bool) {
    if rng.gen_bool(0.4) {
        c.push("WEIGHTS".into());
        for _ in 0..n {
            c.push(pick(rng, &["1", "2", "0.5", "-1", "0", "x", "inf"]).into());
        }
    }
    if rng.gen_bool(0.4) {
        c.push("AGGREGATE".into());
        c.push(pick(rng, &["SUM", "min", "Max", "avg"]).into());
    }
    if !store && rng.gen_bool(0.5) {
        c.push("WITHSCORES".into());
    }
}

/// Keys for lex ranges. Redis defines lex ranges only over equal scores
/// (with mixed scores its answer depends on the skiplist's random levels),
/// so "lx" only ever holds score 0.
// Not "str": store commands can turn it into a zset with mixed scores,
// where lex ranges are undefined (Redis's answer then depends on its
// skiplist's random levels). WRONGTYPE for lex commands is tested apart.
const LEX_KEYS: &[&str] = &["lx", "lx", "lx", "missing"];

fn random_command(rng: &mut SmallRng) -> Vec<String> {
    let k = |rng: &mut SmallRng| pick(rng, KEYS).to_string();
    let lk = |rng: &mut SmallRng| pick(rng, LEX_KEYS).to_string();
    let mut c: Vec<String> = Vec::new();
    let s = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<_>>();
    match rng.gen_range(0..40) {
        0..=7 => {
            c.push(
                if rng.gen_range(0..8) == 0 {
                    "ZINCRBY"
                } else {
                    "ZADD"
                }
                .into(),
            );
            c.push(k(rng));
            if c[0] == "ZADD" {
                for o in ["NX", "XX", "GT", "LT", "CH", "INCR"] {
                    if rng.gen_range(0..7) == 0 {
                        c.push(o.into());
                    }
                }
                for _ in 0..rng.gen_range(1..4) {
                    c.push(pick(rng, SCORES).into());
                    c.push(member(rng));
                }
            } else {
                c.push(pick(rng, SCORES).into());
                c.push(member(rng));
            }
        }
        8 | 9 => {
            c = s(&["ZREM"]);
            c.push(k(rng));
            for _ in 0..rng.gen_range(1..4) {
                c.push(member(rng));
            }
        }
        10 => c = vec!["ZSCORE".into(), k(rng), member(rng)],
        11 => c = vec!["ZMSCORE".into(), k(rng), member(rng), member(rng)],
        12 => c = vec!["ZCARD".into(), k(rng)],
        13 => {
            c = vec![
                "ZCOUNT".into(),
                k(rng),
                pick(rng, BOUNDS).into(),
                pick(rng, BOUNDS).into(),
            ]
        }
        14 => {
            c = vec![
                "ZLEXCOUNT".into(),
                lk(rng),
                pick(rng, LEX).into(),
                pick(rng, LEX).into(),
            ]
        }
        15..=18 => {
            let store = rng.gen_range(0..4) == 0;
            if store {
                c = vec![
                    "ZRANGESTORE".into(),
                    pick(rng, &["z3", "dst", "str"]).into(),
                ];
            } else {
                c = vec!["ZRANGE".into()];
            }
            match rng.gen_range(0..3) {
                0 => {
                    c.push(k(rng));
                    c.push(int_arg(rng));
                    c.push(int_arg(rng));
                }
                1 => {
                    c.push(k(rng));
                    c.push(pick(rng, BOUNDS).into());
                    c.push(pick(rng, BOUNDS).into());
                    c.push("BYSCORE".into());
                }
                _ => {
                    c.push(lk(rng));
                    c.push(pick(rng, LEX).into());
                    c.push(pick(rng, LEX).into());
                    c.push("BYLEX".into());
                }
            }
            if rng.gen_bool(0.3) {
                c.push("REV".into());
            }
            if rng.gen_bool(0.3) {
                c.push("LIMIT".into());
                c.push(int_arg(rng));
                c.push(int_arg(rng));
            }
            if rng.gen_bool(0.3) {
                c.push("WITHSCORES".into());
            }
            if rng.gen_range(0..10) == 0 {
                let i = rng.gen_range(4..=c.len());
                c.insert(i, pick(rng, &["BYSCORE", "REV", "bogus"]).into());
            }
            if c.iter().any(|a| a == "BYLEX") {
                // Lex ranges are only defined over equal scores.
                c.retain(|a| a != "BYSCORE");
            }
        }
        19 => {
            let name = pick(rng, &["ZRANGEBYSCORE", "ZREVRANGEBYSCORE"]);
            c = vec![
                name.into(),
                k(rng),
                pick(rng, BOUNDS).into(),
                pick(rng, BOUNDS).into(),
            ];
            if rng.gen_bool(0.4) {
                c.push("WITHSCORES".into());
            }
            if rng.gen_bool(0.4) {
                c.extend(["LIMIT".into(), int_arg(rng), int_arg(rng)]);
            }
        }
        20 => {
            let name = pick(rng, &["ZRANGEBYLEX", "ZREVRANGEBYLEX"]);
            c = vec![
                name.into(),
                lk(rng),
                pick(rng, LEX).into(),
                pick(rng, LEX).into(),
            ];
            if rng.gen_bool(0.4) {
                c.extend(["LIMIT".into(), int_arg(rng), int_arg(rng)]);
            }
        }
        21 => {
            c = vec!["ZREVRANGE".into(), k(rng), int_arg(rng), int_arg(rng)];
            if rng.gen_bool(0.5) {
                c.push("WITHSCORES".into());
            }
        }
        22 => {
            c = vec![
                pick(rng, &["ZRANK", "ZREVRANK"]).into(),
                k(rng),
                member(rng),
            ]
        }
        23 => c = vec!["ZREMRANGEBYRANK".into(), k(rng), int_arg(rng), int_arg(rng)],
        24 => {
            c = vec![
                "ZREMRANGEBYSCORE".into(),
                k(rng),
                pick(rng, BOUNDS).into(),
                pick(rng, BOUNDS).into(),
            ]
        }
        25 => {
            if rng.gen_bool(0.6) {
                c = vec!["ZADD".into(), "lx".into()];
                for _ in 0..rng.gen_range(1..4) {
                    c.push("0".into());
                    c.push(member(rng));
                }
            } else {
                c = vec![
                    "ZREMRANGEBYLEX".into(),
                    lk(rng),
                    pick(rng, LEX).into(),
                    pick(rng, LEX).into(),
                ];
            }
        }
        26 | 27 => {
            c = vec![pick(rng, &["ZPOPMIN", "ZPOPMAX"]).into(), k(rng)];
            if rng.gen_bool(0.6) {
                c.push(pick(rng, &["0", "1", "2", "5", "-1", "x"]).into());
            }
        }
        28 | 29 => {
            let blocking = rng.gen_bool(0.5);
            if blocking {
                c = vec!["BZMPOP".into(), "0.01".into()];
            } else {
                c = vec!["ZMPOP".into()];
            }
            numkeys_and_keys(rng, &mut c);
            c.push(pick(rng, &["MIN", "max", "LEFT"]).into());
            if rng.gen_bool(0.5) {
                c.extend([
                    "COUNT".into(),
                    pick(rng, &["1", "2", "10", "0", "x"]).into(),
                ]);
            }
        }
        30 => {
            c = vec![pick(rng, &["BZPOPMIN", "BZPOPMAX"]).into(), k(rng)];
            if rng.gen_bool(0.5) {
                c.push(k(rng));
            }
            c.push("0.01".into());
        }
        31..=34 => {
            let name = pick(
                rng,
                &[
                    "ZUNION",
                    "ZINTER",
                    "ZDIFF",
                    "ZUNIONSTORE",
                    "ZINTERSTORE",
                    "ZDIFFSTORE",
                    "ZINTERCARD",
                ],
            );
            c = vec![name.into()];
            let store = name.ends_with("STORE");
            if store {
                c.push(pick(rng, &["dst", "z3", "str"]).into());
            }
            let n = numkeys_and_keys(rng, &mut c);
            if name == "ZINTERCARD" {
                if rng.gen_bool(0.5) {
                    c.extend([
                        "LIMIT".into(),
                        pick(rng, &["0", "1", "2", "-1", "x"]).into(),
                    ]);
                }
            } else if name.starts_with("ZDIFF") {
                if !store && rng.gen_bool(0.5) {
                    c.push("WITHSCORES".into());
                }
                if rng.gen_range(0..10) == 0 {
                    c.extend(["WEIGHTS".into(), "1".into()]);
                }
            } else {
                setop_options(rng, &mut c, n, store);
            }
        }
        35 => c = vec!["OBJECT".into(), "ENCODING".into(), k(rng)],
        36 => {
            c = vec!["ZSCAN".into(), k(rng), pick(rng, &["0", "0", "x"]).into()];
            if rng.gen_bool(0.3) {
                c.extend([
                    "MATCH".into(),
                    pick(rng, &["*", "[a-c]", "1*", "long*"]).into(),
                ]);
            }
            c.extend(["COUNT".into(), pick(rng, &["1000", "1000", "0"]).into()]);
        }
        37 => {
            c = vec!["ZRANDMEMBER".into(), k(rng)];
            if rng.gen_bool(0.8) {
                c.push(pick(rng, &["0", "1", "3", "20", "-3", "-20", "x"]).into());
                if rng.gen_bool(0.5) {
                    c.push("WITHSCORES".into());
                }
            }
        }
        38 => {
            // Wrong arity and odd argument counts.
            c = match rng.gen_range(0..4) {
                0 => s(&["ZADD", "z1", "1"]),
                1 => s(&["ZPOPMIN", "z1", "1", "2"]),
                2 => s(&["ZRANGE", "z1", "0"]),
                _ => s(&["ZRANDMEMBER", "z1", "1", "WITHSCORES", "x"]),
            };
        }
        _ => c = vec!["DEL".into(), pick(rng, &["z1", "z2", "z3", "dst"]).into()],
    }
    c
}

/// A reply's shape: aggregates with their lengths, other values by type.
fn shape(reply: &[u8]) -> String {
    fn go(f: &resp::Frame) -> String {
        use resp::Frame;
        match f {
            Frame::Array(v) => format!("[{}]", v.iter().map(go).collect::<Vec<_>>().join(",")),
            Frame::Bulk(_) => "b".into(),
            Frame::Double(_) => "d".into(),
            other => format!("{other:?}"),
        }
    }
    match resp::decode_frame(reply, &resp::Limits::default()) {
        Ok(Some((f, _))) => go(&f),
        _ => "unparsable".into(),
    }
}

/// Copies a key from redis-server into relica through DUMP/RESTORE (for
/// plain sets, whose commands live elsewhere).
fn copy_key(d: &mut Diff, key: &str) {
    d.theirs.cmd(&[b"DUMP", key.as_bytes()]);
    let reply = d.theirs.reply();
    let nl = reply.iter().position(|&b| b == b'\n').expect("bulk header");
    let payload = &reply[nl + 1..reply.len() - 2];
    d.ours
        .cmd(&[b"RESTORE", key.as_bytes(), b"0", payload, b"REPLACE"]);
    assert_eq!(d.ours.reply_str(), "+OK\r\n");
}

#[test]
fn differential_zsets_against_redis() {
    let mut d = Diff::start(&[]);
    let mut rng = SmallRng::seed_from_u64(0x25e7_d1ff);
    d.same_str(&["SET", "str", "text"]);
    d.theirs.call(&["SADD", "s1", "a", "c", "x", "10", "zz"]);
    d.theirs.call(&["SADD", "s2", "1", "2", "10", "77"]);
    copy_key(&mut d, "s1");
    copy_key(&mut d, "s2");
    d.same_str(&["OBJECT", "ENCODING", "s2"]);
    for i in 0..2400 {
        if i == 1600 {
            // The last third in RESP3, for the double and pair shapes.
            d.both(&[b"HELLO", b"3"]);
        }
        if i % 400 == 200 {
            let n = if i % 800 == 200 { "4" } else { "128" };
            d.same_str(&["CONFIG", "SET", "zset-max-listpack-entries", n]);
        }
        let c = random_command(&mut rng);
        let v: Vec<&[u8]> = c.iter().map(|s| s.as_bytes()).collect();
        if std::env::var_os("ZDEBUG").is_some() {
            eprintln!("{i}: {}", c.join(" "));
        }
        if c[0] == "ZRANDMEMBER" {
            let (a, b) = d.both(&v);
            assert_eq!(shape(&a), shape(&b), "ZRANDMEMBER shapes differ on {c:?}");
            if a.starts_with(b"-") || b.starts_with(b"-") {
                assert_eq!(a, b, "{c:?}");
            }
        } else if c[0] == "ZSCAN" {
            d.same_unordered(&v);
        } else {
            d.same(&v);
        }
        if i % 50 == 0 {
            for k in ["z1", "z2", "z3", "dst", "lx"] {
                d.same_str(&["ZRANGE", k, "0", "-1", "WITHSCORES"]);
                d.same_str(&["OBJECT", "ENCODING", k]);
            }
        }
    }
    // Big sets: ranks and ranges deep inside a skiplist.
    d.both(&[b"HELLO", b"2"]);
    d.same_str(&["CONFIG", "SET", "zset-max-listpack-entries", "128"]);
    for i in 0..1500 {
        let score = format!("{}", (i * 7919) % 1000);
        let m = format!("m{}", (i * 31) % 1200);
        d.same_str(&["ZADD", "big", &score, &m]);
    }
    d.same_str(&["OBJECT", "ENCODING", "big"]);
    for _ in 0..200 {
        let a = rng.gen_range(-1300i64..1300).to_string();
        let b = rng.gen_range(-1300i64..1300).to_string();
        let lo = rng.gen_range(0..1000).to_string();
        let hi = rng.gen_range(0..1000).to_string();
        let m = format!("m{}", rng.gen_range(0..1300));
        let off = rng.gen_range(0..50).to_string();
        let c: Vec<&str> = match rng.gen_range(0..8) {
            0 => vec!["ZRANGE", "big", &a, &b, "WITHSCORES"],
            1 => vec![
                "ZRANGE", "big", &hi, &lo, "BYSCORE", "REV", "LIMIT", &off, "5",
            ],
            2 => vec!["ZRANK", "big", &m],
            3 => vec!["ZREVRANK", "big", &m],
            4 => vec!["ZCOUNT", "big", &lo, &hi],
            5 => vec!["ZRANGEBYSCORE", "big", &lo, &hi, "LIMIT", &off, "3"],
            6 => vec!["ZINCRBY", "big", "1.5", &m],
            _ => vec!["ZREM", "big", &m],
        };
        d.same_str(&c);
    }
    d.same_str(&["ZREMRANGEBYRANK", "big", "100", "200"]);
    d.same_str(&["ZREMRANGEBYSCORE", "big", "(300", "400"]);
    d.same_str(&["ZUNIONSTORE", "u", "2", "big", "s2", "WEIGHTS", "2", "3"]);
    d.same_str(&["OBJECT", "ENCODING", "u"]);
    d.same_str(&["ZINTERSTORE", "u", "2", "big", "big", "AGGREGATE", "MAX"]);
    d.same_str(&["ZDIFFSTORE", "u", "2", "big", "s1"]);
    d.same_str(&["ZRANGESTORE", "u", "big", "10", "20"]);
    d.same_str(&["OBJECT", "ENCODING", "u"]);
    d.same_str(&["ZRANGESTORE", "u", "big", "0", "200"]);
    d.same_str(&["OBJECT", "ENCODING", "u"]);
    d.same_str(&["ZPOPMIN", "big", "300"]);
    d.same_str(&["ZMPOP", "1", "big", "MAX", "COUNT", "300"]);
    d.same_str(&["ZRANGE", "big", "0", "-1", "WITHSCORES"]);
    d.same_str(&["ZPOPMAX", "big", "100000"]);
    d.same_str(&["EXISTS", "big"]);
}
