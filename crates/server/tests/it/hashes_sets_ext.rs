//! Hash and set commands: scripted comparisons with a real redis-server
//! (replies, errors, encodings, keyspace events, WATCH), shape checks for
//! the random-choice commands, and seeded randomized differential runs.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};
use resp::Frame;

use crate::util::{show, wait_for, Diff, Raw, Server};

// ---- helpers ---------------------------------------------------------------

fn parse(reply: &[u8]) -> Frame {
    match resp::decode_frame(reply, &resp::Limits::default()) {
        Ok(Some((f, _))) => f,
        other => panic!(
            "unparsable reply {other:?}: {:?}",
            String::from_utf8_lossy(reply)
        ),
    }
}

fn bytes_of(f: &Frame) -> Vec<u8> {
    match f {
        Frame::Bulk(b) | Frame::Simple(b) => b.to_vec(),
        Frame::Integer(n) => n.to_string().into_bytes(),
        other => panic!("not a string: {other:?}"),
    }
}

/// The elements of an array or set reply.
fn elems(f: &Frame) -> Vec<Frame> {
    match f {
        Frame::Array(v) | Frame::Set(v) => v.clone(),
        other => panic!("not an aggregate: {other:?}"),
    }
}

fn is_error(reply: &[u8]) -> bool {
    reply.first() == Some(&b'-')
}

/// Run a script of commands on both servers, requiring identical replies
/// (up to aggregate order for commands written with a leading `~`).
fn script(d: &mut Diff, cmds: &[&[&str]]) {
    for c in cmds {
        match c.split_first() {
            Some((name, rest)) if name.starts_with('~') => {
                let mut v: Vec<&[u8]> = vec![&name.as_bytes()[1..]];
                v.extend(rest.iter().map(|a| a.as_bytes()));
                d.same_unordered(&v);
            }
            _ => {
                d.same_str(c);
            }
        }
    }
}

/// Run a script, comparing replies up to aggregate order.
fn script_unordered(d: &mut Diff, cmds: &[&[&str]]) {
    for c in cmds {
        let v: Vec<&[u8]> = c.iter().map(|a| a.as_bytes()).collect();
        d.same_unordered(&v);
    }
}

/// A field → value map from an HGETALL reply (flat array or RESP3 map).
fn hash_map(f: &Frame) -> BTreeMap<Vec<u8>, Vec<u8>> {
    match f {
        Frame::Map(pairs) => pairs
            .iter()
            .map(|(k, v)| (bytes_of(k), bytes_of(v)))
            .collect(),
        Frame::Array(v) => {
            assert!(v.len().is_multiple_of(2), "odd flat pairs {v:?}");
            v.chunks(2)
                .map(|p| (bytes_of(&p[0]), bytes_of(&p[1])))
                .collect()
        }
        other => panic!("not a hash reply: {other:?}"),
    }
}

/// HGETALL on both, compared as sorted pairs (Redis's order is the
/// encoding's). Returns relica's map.
fn same_pairs(d: &mut Diff, key: &[u8]) -> BTreeMap<Vec<u8>, Vec<u8>> {
    let args: [&[u8]; 2] = [b"HGETALL", key];
    let (a, b) = d.both(&args);
    if is_error(&a) || is_error(&b) {
        assert_eq!(a, b, "HGETALL {}", String::from_utf8_lossy(key));
        return BTreeMap::new();
    }
    let (ma, mb) = (hash_map(&parse(&a)), hash_map(&parse(&b)));
    assert_eq!(ma, mb, "HGETALL {} differs", String::from_utf8_lossy(key));
    ma
}

/// Members of a set on one server (empty on error or missing key).
fn members(r: &mut Raw, key: &[u8]) -> BTreeSet<Vec<u8>> {
    r.cmd(&[b"SMEMBERS", key]);
    let reply = r.reply();
    if is_error(&reply) {
        return BTreeSet::new();
    }
    elems(&parse(&reply)).iter().map(bytes_of).collect()
}

/// Iterate a whole HSCAN/SSCAN on one server; returns the error reply or
/// everything seen (pairs flattened as "field\0value" for HSCAN).
fn full_scan(r: &mut Raw, args: &[&[u8]], pairs: bool) -> Result<BTreeSet<Vec<u8>>, Vec<u8>> {
    let mut seen = BTreeSet::new();
    let mut cursor = b"0".to_vec();
    for _ in 0..100_000 {
        let mut v: Vec<&[u8]> = vec![args[0], args[1], &cursor];
        v.extend_from_slice(&args[2..]);
        r.cmd(&v);
        let reply = r.reply();
        if is_error(&reply) {
            return Err(reply);
        }
        let f = elems(&parse(&reply));
        assert_eq!(f.len(), 2, "scan reply {f:?}");
        let items = elems(&f[1]);
        if pairs {
            assert!(items.len().is_multiple_of(2));
            for p in items.chunks(2) {
                let mut k = bytes_of(&p[0]);
                k.push(0);
                k.extend(bytes_of(&p[1]));
                seen.insert(k);
            }
        } else {
            seen.extend(items.iter().map(bytes_of));
        }
        cursor = bytes_of(&f[0]);
        if cursor == b"0" {
            return Ok(seen);
        }
    }
    panic!("scan did not finish: {}", show(args));
}

fn resp3(d: &mut Diff) {
    let (a, b) = d.both(&[b"HELLO", b"3"]);
    assert!(a.starts_with(b"%") && b.starts_with(b"%"));
}

// ---- scripted comparisons ----------------------------------------------------

#[test]
fn hash_commands_match_redis() {
    let mut d = Diff::start(&[]);
    script(
        &mut d,
        &[
            &["HSET", "h", "f1", "v1", "f2", "v2"],
            &["HSET", "h", "f1", "x", "f3", "v3"],
            &["HMSET", "h", "a", "1", "b", "2"],
            &["HSET", "h", "f1"],
            &["HSET", "h", "f1", "v1", "f2"],
            &["HMSET", "h", "a"],
            &["HMSET", "h", "a", "1", "b"],
            &["HGET", "h", "f1"],
            &["HGET", "h", "nofield"],
            &["HGET", "nokey", "f"],
            &["HGET", "h"],
            &["HMGET", "h", "f1", "nofield", "f3"],
            &["HMGET", "nokey", "a", "b"],
            &["HMGET", "h"],
            &["HLEN", "h"],
            &["HLEN", "nokey"],
            &["HLEN"],
            &["HEXISTS", "h", "f1"],
            &["HEXISTS", "h", "zz"],
            &["HEXISTS", "nokey", "f"],
            &["HSET", "h", "num", "12345", "neg", "-7", "empty", ""],
            &["HSTRLEN", "h", "f1"],
            &["HSTRLEN", "h", "num"],
            &["HSTRLEN", "h", "empty"],
            &["HSTRLEN", "h", "zz"],
            &["HSTRLEN", "nokey", "f"],
            &["HSETNX", "h", "f1", "y"],
            &["HSETNX", "h", "new", "y"],
            &["HSETNX", "nk", "f", "v"],
            &["HSETNX", "nk", "f"],
            &["HGET", "nk", "f"],
            // Small hashes keep insertion order: exact comparison.
            &["HKEYS", "h"],
            &["HVALS", "h"],
            &["HGETALL", "h"],
            &["HGETALL", "nokey"],
            &["HKEYS", "nokey"],
            &["HVALS", "nokey"],
            &["HGETALL", "h", "x"],
            // HINCRBY.
            &["HINCRBY", "h", "cnt", "5"],
            &["HINCRBY", "h", "cnt", "-10"],
            &["HINCRBY", "h", "num", "1"],
            &["HINCRBY", "h", "f1", "1"],
            &["HINCRBY", "h", "cnt", "abc"],
            &["HINCRBY", "h", "cnt", "1.5"],
            &["HINCRBY", "h", "empty", "1"],
            &[
                "HSET",
                "h",
                "big",
                "9223372036854775807",
                "small",
                "-9223372036854775808",
            ],
            &["HINCRBY", "h", "big", "1"],
            &["HINCRBY", "h", "big", "0"],
            &["HINCRBY", "h", "small", "-1"],
            &["HINCRBY", "h", "small", "9223372036854775807"],
            &["HSET", "h", "sp", " 1", "plus", "+1", "zero", "01"],
            &["HINCRBY", "h", "sp", "1"],
            &["HINCRBY", "h", "plus", "1"],
            &["HINCRBY", "h", "zero", "1"],
            &["HINCRBY", "newh", "x", "-3"],
            &["HGETALL", "newh"],
            &["HINCRBY", "h", "cnt"],
            // HINCRBYFLOAT (increments exact in binary).
            &["HINCRBYFLOAT", "h", "fl", "1.5"],
            &["HINCRBYFLOAT", "h", "fl", "-0.25"],
            &["HINCRBYFLOAT", "h", "fl", "2e3"],
            &["HINCRBYFLOAT", "h", "fl", "-1251.25"],
            &["HINCRBYFLOAT", "h", "cnt", "0.5"],
            &["HINCRBYFLOAT", "h", "num", "-12345"],
            &["HINCRBYFLOAT", "h", "f1", "1"],
            &["HINCRBYFLOAT", "h", "empty", "1"],
            &["HINCRBYFLOAT", "h", "sp", "1"],
            &["HINCRBYFLOAT", "h", "fl", "abc"],
            &["HINCRBYFLOAT", "h", "fl", "inf"],
            &["HINCRBYFLOAT", "h", "fl", "-inf"],
            &["HINCRBYFLOAT", "h", "fl", "nan"],
            &["HINCRBYFLOAT", "h", "fl", ""],
            &["HSET", "h", "e", "1e3", "hx", "0x10"],
            &["HINCRBYFLOAT", "h", "e", "1"],
            &["HINCRBYFLOAT", "newf", "x", "2.5"],
            &["HGET", "newf", "x"],
            &["HINCRBYFLOAT", "h", "fl"],
            // HDEL; an emptied hash vanishes.
            &["HDEL", "h", "f1", "nofield", "f2"],
            &["HDEL", "h", "nofield"],
            &["HDEL", "nokey", "f"],
            &["HDEL", "h"],
            &["HSET", "d", "a", "1", "b", "2"],
            &["HDEL", "d", "a", "b", "c"],
            &["EXISTS", "d"],
            &["HSET", "d", "a", "1"],
            &["HDEL", "d", "a", "a"],
            &["EXISTS", "d"],
            &["HLEN", "h"],
            // Wrong types, in Redis's check order.
            &["SET", "s", "x"],
            &["HSET", "s", "a", "b"],
            &["HSETNX", "s", "a", "b"],
            &["HMSET", "s", "a", "b"],
            &["HGET", "s", "a"],
            &["HMGET", "s", "a"],
            &["HDEL", "s", "a"],
            &["HLEN", "s"],
            &["HEXISTS", "s", "a"],
            &["HSTRLEN", "s", "a"],
            &["HGETALL", "s"],
            &["HKEYS", "s"],
            &["HVALS", "s"],
            &["HINCRBY", "s", "a", "1"],
            &["HINCRBY", "s", "a", "abc"],
            &["HINCRBYFLOAT", "s", "a", "1"],
            &["HINCRBYFLOAT", "s", "a", "abc"],
            &["HRANDFIELD", "s"],
            &["HRANDFIELD", "s", "2"],
            &["HRANDFIELD", "s", "x"],
            &["HSCAN", "s", "0"],
            &["HSCAN", "s", "x"],
            &["SADD", "set", "1"],
            &["HGET", "set", "a"],
            &["TYPE", "h"],
            // HRANDFIELD errors and deterministic cases.
            &["HRANDFIELD", "h", "1", "foo"],
            &["HRANDFIELD", "h", "1", "withvalues", "x"],
            &["HRANDFIELD", "h", "abc"],
            &["HRANDFIELD", "h", "abc", "foo"],
            &["HRANDFIELD", "h", "-9223372036854775808"],
            &["HRANDFIELD", "h", "9223372036854775807", "foo"],
            &["HRANDFIELD", "h", "-9223372036854770000", "withvalues"],
            &["HRANDFIELD", "h", "9223372036854770000", "WITHVALUES"],
            &["HRANDFIELD", "h", "0"],
            &["HRANDFIELD", "h", "0", "withvalues"],
            &["HRANDFIELD", "nokey"],
            &["HRANDFIELD", "nokey", "5"],
            &["HRANDFIELD", "nokey", "-5", "withvalues"],
            &["HRANDFIELD", "h", "100"],
            &["HRANDFIELD", "h", "100", "WITHVALUES"],
            &["HRANDFIELD"],
            // HSCAN on a listpack: everything at once, cursor 0.
            &["HSCAN", "h", "0"],
            &["HSCAN", "h", "0", "MATCH", "f*"],
            &["HSCAN", "h", "0", "COUNT", "1"],
            &["HSCAN", "h", "0", "MATCH", "*l*", "COUNT", "2"],
            &["HSCAN", "h", "123"],
            &["HSCAN", "h", "abc"],
            &["HSCAN", "h", "0", "COUNT", "0"],
            &["HSCAN", "h", "0", "COUNT", "abc"],
            &["HSCAN", "h", "0", "MATCH"],
            &["HSCAN", "h", "0", "TYPE", "string"],
            &["HSCAN", "h", "0", "FOO", "bar"],
            &["HSCAN", "nokey", "0", "COUNT", "abc"],
            &["HSCAN", "nokey", "xyz"],
            &["HSCAN", "h"],
        ],
    );
    // RESP3 shapes.
    resp3(&mut d);
    script(
        &mut d,
        &[
            &["HGETALL", "h"],
            &["HGETALL", "nokey"],
            &["HGET", "nokey", "f"],
            &["HMGET", "h", "cnt", "nofield"],
            &["HRANDFIELD", "nokey"],
            &["HRANDFIELD", "h", "100", "WITHVALUES"],
            &["HRANDFIELD", "h", "0", "WITHVALUES"],
            &["HRANDFIELD", "nokey", "3", "WITHVALUES"],
            &["HSCAN", "h", "0"],
            &["HINCRBYFLOAT", "h", "fl", "0.5"],
        ],
    );
}

#[test]
fn set_commands_match_redis() {
    let mut d = Diff::start(&[]);
    script(
        &mut d,
        &[
            &["SADD", "s", "3", "1", "2"],
            &["SADD", "s", "2", "4"],
            &["SADD", "s"],
            &["SMEMBERS", "s"],
            &["SCARD", "s"],
            &["SCARD", "nokey"],
            &["SISMEMBER", "s", "2"],
            &["SISMEMBER", "s", "02"],
            &["SISMEMBER", "s", "x"],
            &["SISMEMBER", "nokey", "x"],
            &["SMISMEMBER", "s", "1", "x", "4", "01"],
            &["SMISMEMBER", "nokey", "a", "b"],
            &["SMISMEMBER", "s"],
            &["SREM", "s", "1", "x"],
            &["SREM", "s", "x"],
            &["SREM", "nokey", "x"],
            &["SREM", "s"],
            &["SMEMBERS", "s"],
            &["SREM", "s", "2", "3", "4", "5"],
            &["EXISTS", "s"],
            &["SADD", "s", "a"],
            &["SREM", "s", "a", "a"],
            &["EXISTS", "s"],
            &["SMEMBERS", "nokey"],
            &["SMEMBERS", "s", "x"],
            // Intsets reply in ascending order, so compare exactly.
            &[
                "SADD",
                "i",
                "10",
                "-5",
                "7",
                "9223372036854775807",
                "-9223372036854775808",
            ],
            &["SMEMBERS", "i"],
            &["SINTER", "i"],
            &["SUNION", "i", "nokey"],
            &["SDIFF", "i", "nokey"],
            &["SSCAN", "i", "0"],
            &["SSCAN", "i", "0", "MATCH", "-*"],
            &["SSCAN", "i", "0", "COUNT", "1"],
            &["SSCAN", "i", "abc"],
            &["SSCAN", "i", "0", "COUNT", "0"],
            &["SSCAN", "i", "0", "MATCH"],
            &["SSCAN", "nokey", "0", "COUNT", "x"],
            &["SSCAN", "i"],
            // Wrong types.
            &["SET", "str", "x"],
            &["HSET", "hash", "f", "v"],
            &["SADD", "str", "a"],
            &["SREM", "str", "a"],
            &["SISMEMBER", "str", "a"],
            &["SMISMEMBER", "str", "a"],
            &["SCARD", "hash"],
            &["SMEMBERS", "str"],
            &["SPOP", "str"],
            &["SPOP", "str", "0"],
            &["SPOP", "str", "-1"],
            &["SRANDMEMBER", "str"],
            &["SRANDMEMBER", "str", "0"],
            &["SRANDMEMBER", "str", "x"],
            &["SSCAN", "str", "0"],
            &["SINTER", "i", "str"],
            &["SINTER", "nokey", "str"],
            &["SINTER", "str", "nokey"],
            &["SUNION", "i", "hash"],
            &["SDIFF", "nokey", "str"],
            &["SINTERSTORE", "dst", "i", "str"],
            &["SUNIONSTORE", "dst", "str"],
            &["SDIFFSTORE", "dst", "i", "hash"],
            &["SINTERCARD", "2", "i", "str"],
            &["SMOVE", "str", "i", "1"],
            &["SMOVE", "i", "str", "10"],
            &["SMOVE", "nokey", "str", "10"],
            &["EXISTS", "dst"],
            // SPOP / SRANDMEMBER arguments.
            &["SPOP", "nokey"],
            &["SPOP", "nokey", "3"],
            &["SPOP", "i", "0"],
            &["SPOP", "i", "-1"],
            &["SPOP", "i", "abc"],
            &["SPOP", "i", "1", "2"],
            &["SPOP", "nokey", "abc"],
            &["SPOP"],
            &["SRANDMEMBER", "nokey"],
            &["SRANDMEMBER", "nokey", "5"],
            &["SRANDMEMBER", "nokey", "-5"],
            &["SRANDMEMBER", "i", "0"],
            &["SRANDMEMBER", "i", "abc"],
            &["SRANDMEMBER", "i", "-9223372036854775808"],
            &["SRANDMEMBER", "i", "1", "2"],
            &["SRANDMEMBER", "i", "100"],
            &["SRANDMEMBER"],
            &["SCARD", "i"],
            // SINTERCARD arguments.
            &["SADD", "a", "1", "2", "3", "4", "x"],
            &["SADD", "b", "2", "3", "4", "5", "x", "y"],
            &["SINTERCARD", "2", "a", "b"],
            &["SINTERCARD", "2", "a", "b", "LIMIT", "2"],
            &["SINTERCARD", "2", "a", "b", "limit", "0"],
            &["SINTERCARD", "2", "a", "b", "LIMIT", "100"],
            &["SINTERCARD", "1", "a"],
            &["SINTERCARD", "2", "a", "nokey"],
            &["SINTERCARD", "0", "a"],
            &["SINTERCARD", "-1", "a"],
            &["SINTERCARD", "abc", "a"],
            &["SINTERCARD", "3", "a", "b"],
            &["SINTERCARD", "1", "a", "LIMIT"],
            &["SINTERCARD", "1", "a", "LIMIT", "-1"],
            &["SINTERCARD", "1", "a", "LIMIT", "abc"],
            &["SINTERCARD", "1", "a", "FOO", "1"],
            &["SINTERCARD", "1", "a", "b"],
            &["SINTERCARD", "2", "a", "a"],
            &["SINTERCARD", "1"],
            // Stores: an empty result deletes the destination, whatever
            // it held.
            &["SINTERSTORE", "dst", "a", "b"],
            &["~SMEMBERS", "dst"],
            &["OBJECT", "ENCODING", "dst"],
            &["SDIFFSTORE", "d2", "a", "b"],
            &["SMEMBERS", "d2"],
            &["OBJECT", "ENCODING", "d2"],
            &["SUNIONSTORE", "u", "i", "nokey"],
            &["OBJECT", "ENCODING", "u"],
            &["SET", "victim", "x"],
            &["SINTERSTORE", "victim", "a", "nokey"],
            &["EXISTS", "victim"],
            &["SET", "victim", "x"],
            &["SDIFFSTORE", "victim", "a", "a"],
            &["EXISTS", "victim"],
            &["SET", "victim", "x"],
            &["SUNIONSTORE", "victim", "nokey"],
            &["EXISTS", "victim"],
            &["SINTERSTORE", "victim", "nokey"],
            &["SET", "victim", "x"],
            &["EXPIRE", "victim", "100"],
            &["SINTERSTORE", "victim", "a", "b"],
            &["TTL", "victim"],
            &["SINTERSTORE", "a", "a", "b"],
            &["~SMEMBERS", "a"],
            &["SDIFF", "b", "b"],
            &["SDIFF", "nokey", "b"],
            &["SINTERSTORE", "dst"],
            // SMOVE.
            &["SMOVE", "a", "c", "2"],
            &["SMOVE", "a", "c", "2"],
            &["SMOVE", "a", "a", "3"],
            &["SMOVE", "a", "a", "99"],
            &["OBJECT", "ENCODING", "c"],
            &["SMOVE", "a", "c", "x"],
            &["SMOVE", "a", "c", "3"],
            &["SMOVE", "a", "c", "4"],
            &["EXISTS", "a"],
            &["SCARD", "c"],
            &["SMOVE", "nokey", "c", "1"],
            &["SMOVE", "b", "c", "nomember"],
            &["SMOVE", "b", "newdst", "y"],
            &["OBJECT", "ENCODING", "newdst"],
            &["SMOVE", "b", "newdst2", "5"],
            &["OBJECT", "ENCODING", "newdst2"],
            &["SMOVE", "a", "b"],
        ],
    );
    script_unordered(
        &mut d,
        &[
            &["SMEMBERS", "b"],
            &["SMEMBERS", "c"],
            &["SINTER", "b", "c"],
            &["SINTER", "c", "b", "c"],
            &["SUNION", "b", "c", "nokey"],
            &["SDIFF", "c", "b"],
            &["SDIFF", "c", "nokey", "b"],
            &["SINTER", "c", "nokey"],
        ],
    );
    // The whole set via SPOP: the content is determined, the key vanishes.
    script_unordered(&mut d, &[&["SPOP", "c", "100"], &["EXISTS", "c"]]);
    resp3(&mut d);
    script(
        &mut d,
        &[
            &["SMEMBERS", "i"],
            &["SMEMBERS", "nokey"],
            &["SINTER", "i", "nokey"],
            &["SUNION", "nokey"],
            &["SPOP", "nokey"],
            &["SPOP", "nokey", "2"],
            &["SPOP", "i", "0"],
            &["SRANDMEMBER", "nokey"],
            &["SRANDMEMBER", "nokey", "2"],
            &["SRANDMEMBER", "i", "100"],
            &["SMISMEMBER", "i", "7", "8"],
            &["SSCAN", "i", "0"],
        ],
    );
    script_unordered(&mut d, &[&["SPOP", "i", "100"]]);
}

#[test]
fn encodings_follow_thresholds() {
    let mut d = Diff::start(&[]);
    let long = "x".repeat(65);
    let l = long.as_str();
    script(
        &mut d,
        &[
            &["CONFIG", "SET", "hash-max-listpack-entries", "4"],
            &["HSET", "e", "a", "1", "b", "2", "c", "3", "d", "4"],
            &["OBJECT", "ENCODING", "e"],
            &["HSET", "e", "a", "5"],
            &["OBJECT", "ENCODING", "e"],
            &["HSET", "e", "x", "5"],
            &["OBJECT", "ENCODING", "e"],
            &["HDEL", "e", "a", "b", "c", "d"],
            &["OBJECT", "ENCODING", "e"],
            &["HSET", "lv", "f", l],
            &["OBJECT", "ENCODING", "lv"],
            &["HSET", "lf", l, "v"],
            &["OBJECT", "ENCODING", "lf"],
            // Redis 7.0's HSETNX checks the field before converting.
            &["HSET", "nx", "f", "v"],
            &["HSETNX", "nx", "f", l],
            &["OBJECT", "ENCODING", "nx"],
            &["HSETNX", "nx", "g", l],
            &["OBJECT", "ENCODING", "nx"],
            &["HINCRBY", "hi", l, "1"],
            &["OBJECT", "ENCODING", "hi"],
            &["CONFIG", "SET", "hash-max-listpack-value", "3"],
            &["HSET", "hf", "f", "1"],
            &["OBJECT", "ENCODING", "hf"],
            &["HINCRBYFLOAT", "hf", "f", "1000.5"],
            &["OBJECT", "ENCODING", "hf"],
            &["HSET", "hb", "f", "1"],
            &["HINCRBY", "hb", "f", "99"],
            &["OBJECT", "ENCODING", "hb"],
            &["HINCRBY", "hb", "f", "1"],
            &["OBJECT", "ENCODING", "hb"],
            &["CONFIG", "SET", "hash-max-listpack-value", "64"],
            &["CONFIG", "SET", "hash-max-listpack-entries", "128"],
            &["OBJECT", "ENCODING", "e"],
            &[
                "HSET", "e2", "a", "1", "b", "2", "c", "3", "d", "4", "e", "5",
            ],
            &["OBJECT", "ENCODING", "e2"],
            &["CONFIG", "SET", "hash-max-listpack-entries", "0"],
            &["HSET", "z", "a", "1"],
            &["OBJECT", "ENCODING", "z"],
            // Sets.
            &["SADD", "s", "1", "2", "3"],
            &["OBJECT", "ENCODING", "s"],
            &["SADD", "s", "a"],
            &["OBJECT", "ENCODING", "s"],
            &["SREM", "s", "a"],
            &["OBJECT", "ENCODING", "s"],
            &["SADD", "n", "01"],
            &["OBJECT", "ENCODING", "n"],
            &["SADD", "n2", "1", "+2"],
            &["OBJECT", "ENCODING", "n2"],
            &["SADD", "big", "9223372036854775807", "-9223372036854775808"],
            &["OBJECT", "ENCODING", "big"],
            &["SADD", "ovf", "9223372036854775808"],
            &["OBJECT", "ENCODING", "ovf"],
            &["CONFIG", "SET", "set-max-intset-entries", "4"],
            &["SADD", "j", "1", "2", "3", "4"],
            &["OBJECT", "ENCODING", "j"],
            &["SADD", "j", "5"],
            &["OBJECT", "ENCODING", "j"],
            &["SADD", "k", "1", "2", "3", "4", "5", "6"],
            &["OBJECT", "ENCODING", "k"],
            &["SADD", "k2", "1", "2", "3"],
            // Stored results are built afresh.
            &["SINTERSTORE", "r1", "j", "k2"],
            &["OBJECT", "ENCODING", "r1"],
            &["SUNIONSTORE", "r2", "j", "k2"],
            &["OBJECT", "ENCODING", "r2"],
            &["SDIFFSTORE", "r3", "j", "k2"],
            &["OBJECT", "ENCODING", "r3"],
            &["SMEMBERS", "r3"],
            // SDIFF's second algorithm copies the first set whole: its
            // result stays a table although it is small.
            &["SADD", "m", "1", "2", "3", "4", "5", "6", "7", "8"],
            &["SADD", "m2", "1", "2", "3", "4", "5", "6", "7"],
            &["SDIFFSTORE", "r4", "m", "m2"],
            &["OBJECT", "ENCODING", "r4"],
            &["SDIFFSTORE", "r5", "m", "nokey"],
            &["OBJECT", "ENCODING", "r5"],
            &["SMOVE", "m", "mv", "1"],
            &["OBJECT", "ENCODING", "mv"],
            &["SMOVE", "m", "mv2", "1x"],
            &["CONFIG", "SET", "set-max-intset-entries", "512"],
            &["OBJECT", "ENCODING", "j"],
            &["SADD", "j2", "1", "2", "3", "4", "5", "6"],
            &["OBJECT", "ENCODING", "j2"],
        ],
    );
    // SPOP rebuilding most of a big table from the few members it keeps
    // gives an intset back, as in Redis.
    script(
        &mut d,
        &[
            &["CONFIG", "SET", "set-max-intset-entries", "16"],
            &[
                "SADD", "p", "1", "2", "3", "4", "5", "6", "7", "8", "9", "10", "11", "12", "13",
                "14", "15", "16", "17", "18", "19", "20",
            ],
            &["OBJECT", "ENCODING", "p"],
        ],
    );
    let (a, b) = d.both(&[b"SPOP", b"p", b"18"]);
    assert_eq!(elems(&parse(&a)).len(), 18);
    assert_eq!(elems(&parse(&b)).len(), 18);
    d.same_str(&["OBJECT", "ENCODING", "p"]);
    d.same_str(&["SCARD", "p"]);
    let (a, b) = d.both(&[b"SPOP", b"p", b"1"]);
    assert_eq!(elems(&parse(&a)).len(), 1);
    assert_eq!(elems(&parse(&b)).len(), 1);
    d.same_str(&["OBJECT", "ENCODING", "p"]);
}

#[test]
fn random_choice_shapes() {
    let s = Server::start(&[]);
    let mut r = s.raw();
    r.call(&["HSET", "h", "a", "1", "b", "2", "c", "3"]);
    r.call(&["SADD", "s", "x", "y", "z"]);
    r.call(&["SADD", "i", "1", "2", "3"]);
    let fields: BTreeSet<Vec<u8>> = [b"a", b"b", b"c"].iter().map(|f| f.to_vec()).collect();
    let values = |f: &[u8]| match f {
        b"a" => b"1".to_vec(),
        b"b" => b"2".to_vec(),
        _ => b"3".to_vec(),
    };
    for _ in 0..20 {
        // Without a count: one bulk.
        r.cmd(&[b"HRANDFIELD", b"h"]);
        assert!(fields.contains(&bytes_of(&parse(&r.reply()))));
        // Positive: distinct, at most the size.
        for (count, want) in [(1, 1), (2, 2), (3, 3), (10, 3)] {
            let c = count.to_string();
            r.cmd(&[b"HRANDFIELD", b"h", c.as_bytes()]);
            let got: Vec<Vec<u8>> = elems(&parse(&r.reply())).iter().map(bytes_of).collect();
            let distinct: BTreeSet<_> = got.iter().cloned().collect();
            assert_eq!((got.len(), distinct.len()), (want, want), "{got:?}");
            assert!(distinct.is_subset(&fields));
        }
        // Negative: exactly |count|, repetitions allowed.
        r.cmd(&[b"HRANDFIELD", b"h", b"-10", b"WITHVALUES"]);
        let got = elems(&parse(&r.reply()));
        assert_eq!(got.len(), 20);
        for p in got.chunks(2) {
            assert_eq!(bytes_of(&p[1]), values(&bytes_of(&p[0])));
        }
        for (count, want) in [("2", 2), ("-7", 7), ("-1", 1)] {
            r.cmd(&[b"SRANDMEMBER", b"s", count.as_bytes()]);
            let got: Vec<Vec<u8>> = elems(&parse(&r.reply())).iter().map(bytes_of).collect();
            assert_eq!(got.len(), want);
            assert!(got
                .iter()
                .all(|m| [b"x", b"y", b"z"].iter().any(|x| &m[..] == *x)));
            if !count.starts_with('-') {
                assert_eq!(got.iter().collect::<BTreeSet<_>>().len(), want);
            }
            r.cmd(&[b"SRANDMEMBER", b"i", count.as_bytes()]);
            let got: Vec<Vec<u8>> = elems(&parse(&r.reply())).iter().map(bytes_of).collect();
            assert_eq!(got.len(), want);
            assert!(got
                .iter()
                .all(|m| [b"1", b"2", b"3"].iter().any(|x| &m[..] == *x)));
        }
    }
    // Every field shows up eventually (not a constant answer).
    let mut seen = BTreeSet::new();
    wait_for("all fields picked", Duration::from_secs(10), || {
        r.cmd(&[b"HRANDFIELD", b"h"]);
        seen.insert(bytes_of(&parse(&r.reply())));
        seen.len() == 3
    });
    // RESP3: WITHVALUES pairs nest.
    r.call(&["HELLO", "3"]);
    for count in ["2", "-5", "10"] {
        r.cmd(&[b"HRANDFIELD", b"h", count.as_bytes(), b"WITHVALUES"]);
        let got = elems(&parse(&r.reply()));
        let want = match count {
            "2" => 2,
            "-5" => 5,
            _ => 3,
        };
        assert_eq!(got.len(), want);
        for p in &got {
            let p = elems(p);
            assert_eq!(p.len(), 2);
            assert_eq!(bytes_of(&p[1]), values(&bytes_of(&p[0])));
        }
    }
    // SPOP with a count replies with a RESP3 set.
    let reply = {
        r.cmd(&[b"SPOP", b"s", b"2"]);
        r.reply()
    };
    assert!(
        reply.starts_with(b"~2\r\n"),
        "{}",
        String::from_utf8_lossy(&reply)
    );
    assert_eq!(r.call(&["SCARD", "s"]), ":1\r\n");
    // A reply too big to build is refused, and the server lives on.
    let e = r.call(&["SRANDMEMBER", "i", "-4000000000"]);
    assert!(e.starts_with("-ERR"), "{e}");
    let e = r.call(&["HRANDFIELD", "h", "-4000000000"]);
    assert!(e.starts_with("-ERR"), "{e}");
    assert_eq!(r.call(&["PING"]), "+PONG\r\n");
}

#[test]
fn big_scans_cover_everything() {
    let s = Server::start(&[]);
    let mut r = s.raw();
    let mut hset: Vec<Vec<u8>> = vec![b"HSET".to_vec(), b"h".to_vec()];
    let mut sadd: Vec<Vec<u8>> = vec![b"SADD".to_vec(), b"s".to_vec()];
    for i in 0..1000 {
        hset.push(format!("field:{i}").into_bytes());
        hset.push(format!("v{i}").into_bytes());
        sadd.push(format!("m{i}").into_bytes());
    }
    let v: Vec<&[u8]> = hset.iter().map(Vec::as_slice).collect();
    r.cmd(&v);
    assert_eq!(r.reply_str(), ":1000\r\n");
    let v: Vec<&[u8]> = sadd.iter().map(Vec::as_slice).collect();
    r.cmd(&v);
    assert_eq!(r.reply_str(), ":1000\r\n");
    assert_eq!(r.call(&["OBJECT", "ENCODING", "h"]), "$9\r\nhashtable\r\n");
    let all = full_scan(&mut r, &[b"HSCAN", b"h", b"COUNT", b"7"], true).unwrap();
    assert_eq!(all.len(), 1000);
    assert!(all.contains(b"field:999\0v999".as_slice()));
    let some = full_scan(&mut r, &[b"HSCAN", b"h", b"MATCH", b"field:1*"], true).unwrap();
    assert_eq!(some.len(), 111);
    let all = full_scan(&mut r, &[b"SSCAN", b"s"], false).unwrap();
    assert_eq!(all.len(), 1000);
    // More than one call, and cursors that are not 0 in between.
    r.cmd(&[b"SSCAN", b"s", b"0"]);
    let first = elems(&parse(&r.reply()));
    assert_ne!(bytes_of(&first[0]), b"0");
    assert!(!elems(&first[1]).is_empty());
}

/// Keyspace events, in order, compared with Redis's.
#[test]
fn keyspace_events_match_redis() {
    let ours = Server::start(&[]);
    let theirs = Server::redis(&[]);
    let mut subs = Vec::new();
    let mut conns = Vec::new();
    for s in [&ours, &theirs] {
        let mut c = s.raw();
        assert_eq!(
            c.call(&["CONFIG", "SET", "notify-keyspace-events", "KEA"]),
            "+OK\r\n"
        );
        let mut sub = s.raw();
        sub.call(&["PSUBSCRIBE", "__keyevent@0__:*"]);
        subs.push(sub);
        conns.push(c);
    }
    let batches: &[&[&[&str]]] = &[
        &[
            &["HSET", "h", "a", "1", "b", "2"],
            &["HSETNX", "h", "a", "x"],
            &["HSETNX", "h", "c", "3"],
        ],
        &[
            &["HINCRBY", "h", "a", "2"],
            &["HINCRBYFLOAT", "h", "a", "0.5"],
            &["HMSET", "h", "d", "4"],
        ],
        &[
            &["HDEL", "h", "zz"],
            &["HDEL", "h", "a", "b"],
            &["HDEL", "h", "c", "d"],
        ],
        &[
            &["SADD", "s", "1", "2", "3"],
            &["SADD", "s", "1"],
            &["SREM", "s", "9"],
            &["SREM", "s", "1"],
        ],
        &[
            &["SMOVE", "s", "t", "2"],
            &["SMOVE", "s", "t", "3"],
            &["SMOVE", "t", "t", "3"],
        ],
        &[
            &["SADD", "u", "1"],
            &["SMOVE", "t", "u", "2"],
            &["SPOP", "u"],
            &["SPOP", "u"],
        ],
        &[
            &["SADD", "v", "a", "b"],
            &["SPOP", "v", "0"],
            &["SPOP", "v", "5"],
            &["SPOP", "nokey", "2"],
        ],
        &[&["SADD", "w", "a", "b", "c"], &["SPOP", "w", "1"]],
        &[
            &["SADD", "x", "1", "2"],
            &["SADD", "y", "2", "3"],
            &["SINTERSTORE", "z", "x", "y"],
        ],
        &[
            &["SUNIONSTORE", "z", "x", "y"],
            &["SDIFFSTORE", "z", "x", "y"],
            &["SINTERSTORE", "z", "x", "nokey"],
        ],
        &[
            &["SINTERSTORE", "z", "x", "nokey"],
            &["SDIFFSTORE", "x", "x", "x"],
            &["SET", "str", "1"],
        ],
        &[&["HSET", "str", "a", "b"], &["SADD", "str", "a"]],
    ];
    for batch in batches {
        let mut got = Vec::new();
        for (i, c) in conns.iter_mut().enumerate() {
            for cmd in *batch {
                c.call(cmd);
            }
            c.call(&["SET", "sentinel", "1"]);
            let mut events = Vec::new();
            loop {
                let f = elems(&parse(&subs[i].reply()));
                let (chan, key) = (bytes_of(&f[2]), bytes_of(&f[3]));
                if key == b"sentinel" {
                    break;
                }
                events.push(format!(
                    "{} {}",
                    String::from_utf8_lossy(&chan),
                    String::from_utf8_lossy(&key)
                ));
            }
            got.push(events);
        }
        assert_eq!(got[0], got[1], "events differ for {batch:?}");
    }
}

/// Which commands touch a WATCHed key, compared with Redis.
#[test]
fn watch_sees_modifications_like_redis() {
    let mut d = Diff::start(&[]);
    script(
        &mut d,
        &[
            &["HSET", "h", "a", "1"],
            &["SADD", "s", "1", "2"],
            &["SADD", "t", "9"],
        ],
    );
    let cmds: &[&[&str]] = &[
        &["HSET", "h", "a", "1"],
        &["HSETNX", "h", "a", "2"],
        &["HSETNX", "h", "b", "2"],
        &["HDEL", "h", "zz"],
        &["HDEL", "h", "b"],
        &["HINCRBY", "h", "a", "1"],
        &["HINCRBYFLOAT", "h", "a", "1.5"],
        &["HGET", "h", "a"],
        &["SADD", "s", "1"],
        &["SADD", "s", "3"],
        &["SREM", "s", "9"],
        &["SREM", "s", "3"],
        &["SMOVE", "s", "t", "9"],
        &["SMOVE", "t", "s", "9"],
        &["SPOP", "s", "0"],
        &["SINTERSTORE", "t", "s", "nokey"],
        &["SISMEMBER", "s", "1"],
    ];
    for c in cmds {
        let key = c[1];
        d.same_str(&["WATCH", key]);
        d.same_str(c);
        d.same_str(&["MULTI"]);
        d.same_str(&["PING"]);
        d.same_str(&["EXEC"]);
    }
}

// ---- randomized differential -----------------------------------------------

const HASH_KEYS: &[&str] = &["h1", "h2"];
const SET_KEYS: &[&str] = &["s1", "s2", "s3"];
/// Keys of the wrong type or missing, picked now and then.
const OTHER_KEYS: &[&str] = &["h1", "s1", "str", "nokey"];
const FIELDS: &[&str] = &[
    "f0", "f1", "f2", "f3", "f4", "f5", "f6", "f7", "f8", "f9", "10", "",
];
const VALUES: &[&str] = &[
    "",
    "1",
    "-7",
    "42",
    "3.5",
    "abc",
    "9223372036854775807",
    " 5",
    "0x10",
    "1e2",
    "-0",
    "007",
];
const MEMBERS: &[&str] = &[
    "0",
    "1",
    "2",
    "3",
    "4",
    "5",
    "6",
    "7",
    "8",
    "9",
    "10",
    "11",
    "-3",
    "a",
    "b",
    "c",
    "01",
    "",
    "9223372036854775807",
    "-9223372036854775808",
    "1.5",
];
const COUNTS: &[&str] = &["-5", "-1", "0", "1", "2", "3", "10", "100", "x"];
const INCRS: &[&str] = &[
    "1",
    "-1",
    "5",
    "100",
    "abc",
    "9223372036854775807",
    "-9223372036854775808",
    "1.5",
];
const FLOAT_INCRS: &[&str] = &["0.5", "-1.25", "3", "1e3", "abc", "inf", "-0.75", "0"];

fn pick<'a>(rng: &mut SmallRng, xs: &[&'a str]) -> &'a str {
    xs[rng.gen_range(0..xs.len())]
}

/// Mostly one of `usual`, sometimes a key of another type or none.
fn any_key(rng: &mut SmallRng, usual: &[&str]) -> String {
    if rng.gen_ratio(1, 12) {
        pick(rng, OTHER_KEYS).to_string()
    } else {
        pick(rng, usual).to_string()
    }
}

fn long_string(rng: &mut SmallRng) -> String {
    format!("{}{}", "L".repeat(70), rng.gen_range(0..3))
}

fn field(rng: &mut SmallRng) -> String {
    if rng.gen_ratio(1, 40) {
        long_string(rng)
    } else {
        pick(rng, FIELDS).to_string()
    }
}

fn value(rng: &mut SmallRng) -> String {
    if rng.gen_ratio(1, 40) {
        long_string(rng)
    } else {
        pick(rng, VALUES).to_string()
    }
}

fn member(rng: &mut SmallRng) -> String {
    if rng.gen_ratio(1, 60) {
        long_string(rng)
    } else if rng.gen_ratio(1, 4) {
        rng.gen_range(0..40).to_string()
    } else {
        pick(rng, MEMBERS).to_string()
    }
}

/// State the differential driver keeps between commands.
struct Run {
    d: Diff,
    rng: SmallRng,
    /// Keys whose encoding may legitimately differ (after SPOP, which we
    /// replay on redis-server as SREMs).
    tainted: BTreeSet<String>,
}

impl Run {
    fn same(&mut self, args: &[String]) {
        let v: Vec<&[u8]> = args.iter().map(|a| a.as_bytes()).collect();
        self.d.same(&v);
    }

    fn unordered(&mut self, args: &[String]) {
        let v: Vec<&[u8]> = args.iter().map(|a| a.as_bytes()).collect();
        self.d.same_unordered(&v);
    }

    /// Both replies are errors, nulls or empty: they must be equal. Returns
    /// relica's reply otherwise (both checked for the same kind).
    fn random_reply(&mut self, args: &[String]) -> Option<(Frame, Frame)> {
        let v: Vec<&[u8]> = args.iter().map(|a| a.as_bytes()).collect();
        let (a, b) = self.d.both(&v);
        let trivial = |r: &[u8]| {
            is_error(r) || r == b"$-1\r\n" || r == b"_\r\n" || r == b"*0\r\n" || r == b"~0\r\n"
        };
        if trivial(&a) || trivial(&b) {
            assert_eq!(
                String::from_utf8_lossy(&a),
                String::from_utf8_lossy(&b),
                "{}",
                args.join(" ")
            );
            return None;
        }
        let (fa, fb) = (parse(&a), parse(&b));
        assert_eq!(
            std::mem::discriminant(&fa),
            std::mem::discriminant(&fb),
            "{}",
            args.join(" ")
        );
        Some((fa, fb))
    }

    fn hash_op(&mut self) {
        let rng = &mut self.rng;
        let key = any_key(rng, HASH_KEYS);
        let s = |x: &str| x.to_string();
        let op = rng.gen_range(0..40);
        let mut args: Vec<String> = Vec::new();
        match op {
            0 | 1 => {
                args.extend([s(if op == 0 { "HSET" } else { "HMSET" }), key.clone()]);
                for _ in 0..rng.gen_range(1..4) {
                    args.push(field(rng));
                    args.push(value(rng));
                }
                if rng.gen_ratio(1, 20) {
                    args.pop(); // odd: arity error
                }
            }
            2 => args.extend([s("HSETNX"), key.clone(), field(rng), value(rng)]),
            3 => args.extend([s("HGET"), key.clone(), field(rng)]),
            4 => {
                args.extend([s("HMGET"), key.clone()]);
                for _ in 0..rng.gen_range(1..4) {
                    args.push(field(rng));
                }
            }
            5 | 6 => {
                args.extend([s("HDEL"), key.clone()]);
                for _ in 0..rng.gen_range(1..4) {
                    args.push(field(rng));
                }
            }
            7 => args.extend([s("HLEN"), key.clone()]),
            8 => args.extend([s("HEXISTS"), key.clone(), field(rng)]),
            9 => args.extend([s("HSTRLEN"), key.clone(), field(rng)]),
            10 | 11 => args.extend([s("HINCRBY"), key.clone(), field(rng), s(pick(rng, INCRS))]),
            12 => {
                let f = field(rng);
                let incr = s(pick(rng, FLOAT_INCRS));
                if !self.float_safe(&key, &f) {
                    return;
                }
                args.extend([s("HINCRBYFLOAT"), key.clone(), f, incr]);
            }
            13 => {
                let k = key.clone();
                same_pairs(&mut self.d, k.as_bytes());
                return;
            }
            14 => {
                let cmd = if rng.gen_bool(0.5) { "HKEYS" } else { "HVALS" };
                self.unordered(&[s(cmd), key]);
                return;
            }
            15 | 16 => {
                self.hrandfield(key);
                return;
            }
            17 => {
                self.scan("HSCAN", key);
                return;
            }
            18 => {
                if !self.tainted.contains(&key) {
                    self.same(&[s("OBJECT"), s("ENCODING"), key]);
                }
                return;
            }
            19 => args.extend([s("HGET"), key.clone()]), // arity
            20 => args.extend([s("DEL"), key.clone()]),
            21 => args.extend([s("TYPE"), key.clone()]),
            // The common writes and reads again, weighted up.
            22..=29 => {
                args.extend([s("HSET"), key.clone()]);
                for _ in 0..rng.gen_range(1..4) {
                    args.push(field(rng));
                    args.push(value(rng));
                }
            }
            30..=32 => {
                args.extend([s("HDEL"), key.clone(), field(rng)]);
            }
            33..=35 => args.extend([
                s("HINCRBY"),
                key.clone(),
                field(rng),
                s(pick(rng, &["1", "-2", "7"])),
            ]),
            _ => args.extend([s("HGET"), key.clone(), field(rng)]),
        }
        if args[0] == "DEL" {
            self.tainted.remove(&key);
        }
        self.same(&args);
    }

    /// Whether HINCRBYFLOAT on this field gives the same text with a
    /// double as with Redis's long double: the current value must be far
    /// from the 53-bit limit (big integers stored by HSET/HINCRBY are not).
    fn float_safe(&mut self, key: &str, field: &str) -> bool {
        self.d
            .ours
            .cmd(&[b"HGET", key.as_bytes(), field.as_bytes()]);
        match parse(&self.d.ours.reply()) {
            Frame::Bulk(b) => match std::str::from_utf8(&b)
                .ok()
                .and_then(|t| t.parse::<f64>().ok())
            {
                Some(x) => x.abs() < 1e12,
                None => true, // not a number: an error on both sides
            },
            _ => true,
        }
    }

    fn hrandfield(&mut self, key: String) {
        let rng = &mut self.rng;
        let mut args = vec!["HRANDFIELD".to_string(), key.clone()];
        let count = if rng.gen_ratio(1, 4) {
            None
        } else {
            Some(pick(rng, COUNTS))
        };
        let withvalues = count.is_some() && rng.gen_bool(0.5);
        if let Some(c) = count {
            args.push(c.to_string());
        }
        if withvalues {
            args.push(
                if rng.gen_bool(0.9) {
                    "WITHVALUES"
                } else {
                    "junk"
                }
                .to_string(),
            );
        }
        let content = {
            let (a, _) = self.d.both(&[b"HGETALL", key.as_bytes()]);
            if is_error(&a) {
                BTreeMap::new()
            } else {
                hash_map(&parse(&a))
            }
        };
        let Some((fa, fb)) = self.random_reply(&args) else {
            return;
        };
        for f in [fa, fb] {
            check_hrandfield(&f, &content, count, withvalues, &args);
        }
    }

    fn set_op(&mut self) {
        let rng = &mut self.rng;
        let key = any_key(rng, SET_KEYS);
        let s = |x: &str| x.to_string();
        let op = rng.gen_range(0..36);
        let mut args: Vec<String> = Vec::new();
        let several = |rng: &mut SmallRng, n: usize| -> Vec<String> {
            (0..rng.gen_range(1..=n))
                .map(|_| any_key(rng, SET_KEYS))
                .collect()
        };
        match op {
            0..=3 => {
                args.extend([s("SADD"), key.clone()]);
                for _ in 0..rng.gen_range(1..6) {
                    args.push(member(rng));
                }
            }
            4 | 5 => {
                args.extend([s("SREM"), key.clone()]);
                for _ in 0..rng.gen_range(1..4) {
                    args.push(member(rng));
                }
            }
            6 => args.extend([s("SISMEMBER"), key.clone(), member(rng)]),
            7 => {
                args.extend([s("SMISMEMBER"), key.clone()]);
                for _ in 0..rng.gen_range(1..4) {
                    args.push(member(rng));
                }
            }
            8 => args.extend([s("SCARD"), key.clone()]),
            9 => {
                self.unordered(&[s("SMEMBERS"), key]);
                return;
            }
            10 | 11 => {
                self.spop(key);
                return;
            }
            12 | 13 => {
                self.srandmember(key);
                return;
            }
            14..=16 => {
                let cmd = ["SINTER", "SUNION", "SDIFF"][op - 14];
                let mut a = vec![s(cmd)];
                a.extend(several(rng, 3));
                self.unordered(&a);
                return;
            }
            17..=19 => {
                let cmd = ["SINTERSTORE", "SUNIONSTORE", "SDIFFSTORE"][op - 17];
                args.extend([s(cmd), key.clone()]);
                args.extend(several(rng, 3));
                self.tainted.remove(&key);
            }
            20 => {
                let keys = several(rng, 3);
                let n = if rng.gen_ratio(1, 8) {
                    pick(rng, &["0", "-1", "x", "5"]).to_string()
                } else {
                    keys.len().to_string()
                };
                args.extend([s("SINTERCARD"), n]);
                args.extend(keys);
                if rng.gen_bool(0.4) {
                    args.push(s("LIMIT"));
                    args.push(s(pick(rng, &["0", "1", "2", "-1", "x"])));
                }
            }
            21 => {
                let dst = any_key(rng, SET_KEYS);
                args.extend([s("SMOVE"), key.clone(), dst, member(rng)]);
            }
            22 => {
                self.scan("SSCAN", key);
                return;
            }
            23 => {
                if !self.tainted.contains(&key) {
                    self.same(&[s("OBJECT"), s("ENCODING"), key]);
                }
                return;
            }
            24 => args.extend([s("SPOP")]), // arity
            25 => {
                args.extend([s("DEL"), key.clone()]);
                self.tainted.remove(&key);
            }
            // The common writes weighted up.
            _ => {
                args.extend([s("SADD"), key.clone()]);
                for _ in 0..rng.gen_range(1..4) {
                    args.push(member(rng));
                }
            }
        }
        self.same(&args);
    }

    /// SPOP on relica only, then the same removals on redis-server as
    /// SREM (which also proves the popped members were there).
    fn spop(&mut self, key: String) {
        let count = if self.rng.gen_ratio(1, 3) {
            None
        } else {
            Some(pick(&mut self.rng, &["0", "1", "2", "3", "10", "-1", "x"]).to_string())
        };
        let mut args: Vec<&[u8]> = vec![b"SPOP", key.as_bytes()];
        if let Some(c) = &count {
            args.push(c.as_bytes());
        }
        let before = members(&mut self.d.ours, key.as_bytes());
        self.d.ours.cmd(&args);
        let reply = self.d.ours.reply();
        let f = parse(&reply);
        let popped: Vec<Vec<u8>> = match &f {
            Frame::Bulk(b) => vec![b.to_vec()],
            Frame::Array(_) | Frame::Set(_) => elems(&f).iter().map(bytes_of).collect(),
            _ => Vec::new(),
        };
        if popped.is_empty() {
            // Errors, nil, empty: nothing random, compare with Redis.
            self.d.theirs.cmd(&args);
            let theirs = self.d.theirs.reply();
            assert_eq!(
                String::from_utf8_lossy(&reply),
                String::from_utf8_lossy(&theirs),
                "{}",
                show(&args)
            );
            return;
        }
        let distinct: BTreeSet<Vec<u8>> = popped.iter().cloned().collect();
        assert_eq!(distinct.len(), popped.len(), "SPOP repeated a member");
        assert!(distinct.is_subset(&before), "SPOP invented members");
        if let Some(c) = count.as_deref().and_then(|c| c.parse::<usize>().ok()) {
            assert_eq!(popped.len(), c.min(before.len()));
        }
        let mut srem: Vec<&[u8]> = vec![b"SREM", key.as_bytes()];
        srem.extend(popped.iter().map(Vec::as_slice));
        self.d.theirs.cmd(&srem);
        assert_eq!(
            self.d.theirs.reply(),
            format!(":{}\r\n", popped.len()).into_bytes()
        );
        self.tainted.insert(key);
    }

    fn srandmember(&mut self, key: String) {
        let count = if self.rng.gen_ratio(1, 4) {
            None
        } else {
            Some(pick(&mut self.rng, COUNTS))
        };
        let mut args = vec!["SRANDMEMBER".to_string(), key.clone()];
        if let Some(c) = count {
            args.push(c.to_string());
        }
        let content = members(&mut self.d.ours, key.as_bytes());
        let Some((fa, fb)) = self.random_reply(&args) else {
            return;
        };
        for f in [fa, fb] {
            let got: Vec<Vec<u8>> = match (&f, count) {
                (Frame::Bulk(b), None) => vec![b.to_vec()],
                (Frame::Array(v), Some(_)) => v.iter().map(bytes_of).collect(),
                other => panic!("SRANDMEMBER shape {other:?}"),
            };
            assert!(
                got.iter().all(|m| content.contains(m)),
                "{}",
                args.join(" ")
            );
            if let Some(c) = count.and_then(|c| c.parse::<i64>().ok()) {
                let want = if c < 0 {
                    c.unsigned_abs() as usize
                } else {
                    (c as usize).min(content.len())
                };
                assert_eq!(got.len(), want, "{}", args.join(" "));
                if c > 0 {
                    assert_eq!(got.iter().collect::<BTreeSet<_>>().len(), want);
                }
            }
        }
    }

    /// A whole HSCAN/SSCAN on each side, compared as sets (cursors are
    /// implementation details for big encodings).
    fn scan(&mut self, cmd: &str, key: String) {
        let mut extra: Vec<String> = Vec::new();
        if self.rng.gen_bool(0.3) {
            extra.push("MATCH".into());
            extra.push(pick(&mut self.rng, &["f*", "*1*", "?", "[a-c]*", "L*"]).into());
        }
        if self.rng.gen_bool(0.3) {
            extra.push("COUNT".into());
            extra.push(pick(&mut self.rng, &["1", "3", "100", "0", "x"]).into());
        }
        let mut args: Vec<&[u8]> = vec![cmd.as_bytes(), key.as_bytes()];
        args.extend(extra.iter().map(|e| e.as_bytes()));
        let pairs = cmd == "HSCAN";
        let a = full_scan(&mut self.d.ours, &args, pairs);
        let b = full_scan(&mut self.d.theirs, &args, pairs);
        match (a, b) {
            (Ok(a), Ok(b)) => assert_eq!(a, b, "{}", show(&args)),
            (Err(a), Err(b)) => assert_eq!(
                String::from_utf8_lossy(&a),
                String::from_utf8_lossy(&b),
                "{}",
                show(&args)
            ),
            (a, b) => panic!("{}: {a:?} vs {b:?}", show(&args)),
        }
    }

    fn config_op(&mut self) {
        let (name, vals): (&str, &[&str]) = match self.rng.gen_range(0..3) {
            0 => ("hash-max-listpack-entries", &["2", "4", "8", "128"]),
            1 => ("hash-max-listpack-value", &["3", "8", "64"]),
            _ => ("set-max-intset-entries", &["2", "5", "8", "512"]),
        };
        let v = pick(&mut self.rng, vals);
        self.d.same_str(&["CONFIG", "SET", name, v]);
    }
}

fn check_hrandfield(
    f: &Frame,
    content: &BTreeMap<Vec<u8>, Vec<u8>>,
    count: Option<&str>,
    withvalues: bool,
    args: &[String],
) {
    let what = args.join(" ");
    let Some(count) = count else {
        let b = bytes_of(f);
        assert!(content.contains_key(&b), "{what}");
        return;
    };
    let c: i64 = count.parse().expect("numeric count");
    let items = elems(f);
    // (field, value) picks in either wire shape.
    let mut picks: Vec<(Vec<u8>, Option<Vec<u8>>)> = Vec::new();
    if withvalues && items.first().is_some_and(|i| matches!(i, Frame::Array(_))) {
        for p in &items {
            let p = elems(p);
            assert_eq!(p.len(), 2, "{what}");
            picks.push((bytes_of(&p[0]), Some(bytes_of(&p[1]))));
        }
    } else if withvalues {
        assert!(items.len().is_multiple_of(2), "{what}");
        for p in items.chunks(2) {
            picks.push((bytes_of(&p[0]), Some(bytes_of(&p[1]))));
        }
    } else {
        picks.extend(items.iter().map(|i| (bytes_of(i), None)));
    }
    let want = if c < 0 {
        c.unsigned_abs() as usize
    } else {
        (c as usize).min(content.len())
    };
    assert_eq!(picks.len(), want, "{what}");
    for (fld, val) in &picks {
        let stored = content.get(fld);
        assert!(stored.is_some(), "{what}: unknown field");
        if let Some(v) = val {
            assert_eq!(Some(v), stored, "{what}: wrong value");
        }
    }
    if c > 0 {
        let distinct: BTreeSet<_> = picks.iter().map(|p| &p.0).collect();
        assert_eq!(distinct.len(), want, "{what}: repeated field");
    }
}

fn differential(seed: u64, resp3_mode: bool) {
    let mut run = Run {
        d: Diff::start(&[]),
        rng: SmallRng::seed_from_u64(seed),
        tainted: BTreeSet::new(),
    };
    if resp3_mode {
        resp3(&mut run.d);
    }
    // Low thresholds so that conversions happen often.
    run.d
        .same_str(&["CONFIG", "SET", "hash-max-listpack-entries", "8"]);
    run.d
        .same_str(&["CONFIG", "SET", "set-max-intset-entries", "8"]);
    run.d.same_str(&["SET", "str", "text"]);
    for i in 0..2000 {
        match run.rng.gen_range(0..100) {
            0..=44 => run.hash_op(),
            45..=96 => run.set_op(),
            97..=98 => run.config_op(),
            _ => {
                let key = pick(&mut run.rng, &["h1", "s1", "s2"]);
                run.d.same_str(&["SET", key, "x"]);
                run.tainted.remove(key);
            }
        }
        if i % 100 == 99 {
            // Full-state check: every key's content and type.
            for k in ["h1", "h2"] {
                same_pairs(&mut run.d, k.as_bytes());
            }
            for k in ["s1", "s2", "s3"] {
                run.d.same_unordered(&[b"SMEMBERS", k.as_bytes()]);
            }
            run.d.same_unordered(&[b"KEYS", b"*"]);
        }
    }
}

#[test]
fn differential_hashes_sets_resp2() {
    differential(0x5eed_0001, false);
}

#[test]
fn differential_hashes_sets_resp3() {
    differential(0x5eed_0002, true);
}
