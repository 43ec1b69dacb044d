//! Corrupt DUMP payloads (issue 20, Redis's integration/corrupt-dump):
//! RESTORE refuses them with Redis's errors and log lines, with
//! `sanitize-dump-payload` yes or no, and whatever it accepts can be read
//! by every command of its type without hurting the server.

use crate::util::{Diff, Raw, Server};

/// The value of a bulk-string reply (None for a null or an error).
fn bulk_value(reply: &[u8]) -> Option<Vec<u8>> {
    if reply.first() != Some(&b'$') {
        return None;
    }
    let eol = reply.windows(2).position(|w| w == b"\r\n")?;
    let n: usize = std::str::from_utf8(&reply[1..eol]).ok()?.parse().ok()?;
    Some(reply[eol + 2..eol + 2 + n].to_vec())
}

/// Payloads from Redis 7.0.15's tests/integration/corrupt-dump.tcl that
/// Redis refuses with sanitize-dump-payload yes and no alike (checksums
/// not checked: DEBUG SET-SKIP-CHECKSUM-VALIDATION 1).
const REFUSED: &[&[u8]] = &[
    // #7445: quicklist of a ziplist with a broken entry.
    b"\x0E\x01\x1D\x1D\x00\x00\x00\x16\x00\x00\x00\x03\x00\x00\x04\x43\x43\x43\x43\x06\x04\x42\x42\x42\x42\x06\x3F\x41\x41\x41\x41\xFF\x09\x00\x88\xA5\xCA\xA8\xC5\x41\xF4\x35",
    // hash ziplist, invalid entry len
    b"\x0D\x1B\x1B\x00\x00\x00\x16\x00\x00\x00\x04\x00\x00\x02\x61\x00\x04\x02\x62\x00\x04\x14\x63\x00\x04\x02\x64\x00\xFF\x09\x00\xD9\x10\x54\x92\x15\xF5\x5F\x52",
    // invalid zlbytes header
    b"\x0D\x1B\x25\x00\x00\x00\x16\x00\x00\x00\x04\x00\x00\x02\x61\x00\x04\x02\x62\x00\x04\x02\x63\x00\x04\x02\x64\x00\xFF\x09\x00\xB7\xF7\x6E\x9F\x43\x43\x14\xC6",
    // hash ziplist with a repeated field
    b"\x0D\x1B\x1B\x00\x00\x00\x16\x00\x00\x00\x04\x00\x00\x02\x61\x00\x04\x02\x62\x00\x04\x02\x61\x00\x04\x02\x64\x00\xFF\x09\x00\xA1\x98\x36\x78\xCC\x8E\x93\x2E",
    // quicklist ziplist with a wrong prevlen, and a wrong count
    b"\x0E\x01\x13\x13\x00\x00\x00\x0E\x00\x00\x00\x02\x00\x00\x02\x61\x00\x0E\x02\x62\x00\xFF\x09\x00\x49\x97\x30\xB2\x0D\xA1\xED\xAA",
    b"\x0E\x01\x13\x13\x00\x00\x00\x0E\x00\x00\x00\x03\x00\x00\x02\x61\x00\x04\x02\x62\x00\xFF\x09\x00\x4D\xE2\x0A\x2F\x08\x25\xDF\x91",
    // quicklist with an empty ziplist, quicklist node of 0 bytes
    b"\x0E\x01\x0B\x0B\x00\x00\x00\x0A\x00\x00\x00\x00\x00\xFF\x09\x00\xC2\x69\x37\x83\x3C\x7F\xFE\x6F",
    b"\x12\x01\x01\x00\x0a\x00\x8f\xc6\xc0\x57\x1c\x0a\xb3\x3c",
    // empty zipmap
    b"\x09\x02\x00\xFF\x09\x00\xC0\xF1\xB8\x67\x4C\x16\xAC\xE3",
    // set with a repeated member
    b"\x02\x0A\x02\x5F\x39\xC0\x06\x02\x5F\x31\xC0\x00\xC0\x04\x02\x5F\x35\xC0\x02\xC0\x08\x02\x5F\x31\x02\x5F\x33\x09\x00\x7A\x5A\xFB\x90\x3A\xE9\x3C\xBE",
    // empty zset, empty hash
    b"\x05\xC0\x01\x09\x00\xF6\x8A\xB6\x7A\x85\x87\x72\x4D",
    b"\x04\xC0\x21\x09\x00\xF6\x8A\xB6\x7A\x85\x87\x72\x4D",
    // stream with duplicate consumers
    b"\x0F\x00\x00\x00\x00\x01\x07\x6D\x79\x67\x72\x6F\x75\x70\x00\x00\x00\x02\x04\x6E\x61\x6D\x65\x2A\x4C\xAA\x9A\x7D\x01\x00\x00\x00\x04\x6E\x61\x6D\x65\x2B\x4C\xAA\x9A\x7D\x01\x00\x00\x00\x0A\x00\xCC\xED\x8C\xA7\x62\xEE\xC7\xC8",
    // truncated LZF in a set
    b"\x02\x03\x02\x5F\x31\xC0\x02\xC3\x00\x09\x00\xE6\xDC\x76\x44\xFF\xEB\x3D\xFE",
];

#[test]
fn fixed_corrupt_payloads_answer_as_redis() {
    for sanitize in ["yes", "no"] {
        let mut d = Diff::start(&["--sanitize-dump-payload", sanitize]);
        d.same_str(&["DEBUG", "SET-SKIP-CHECKSUM-VALIDATION", "1"]);
        for p in REFUSED {
            let r = d.same(&[b"RESTORE", b"k", b"0", p, b"REPLACE"]);
            assert!(
                String::from_utf8_lossy(&r).starts_with("-ERR Bad data format"),
                "sanitize {sanitize}: {}",
                String::from_utf8_lossy(&r)
            );
            d.same_str(&["EXISTS", "k"]);
        }
        // A wrong checksum once validation is back on.
        d.same_str(&["DEBUG", "SET-SKIP-CHECKSUM-VALIDATION", "0"]);
        d.same(&[b"RESTORE", b"k", b"0", REFUSED[4], b"REPLACE"]);
        d.same_str(&["PING"]);
    }
}

#[test]
fn refused_restore_logs_redis_reason() {
    let s = Server::start(&["--loglevel", "verbose"]);
    let mut r = s.raw();
    assert_eq!(
        r.call(&["DEBUG", "SET-SKIP-CHECKSUM-VALIDATION", "1"]),
        "+OK\r\n"
    );
    for (p, reason) in [
        (REFUSED[3], "Hash ziplist integrity check failed."),
        (REFUSED[8], "Zipmap integrity check failed."),
        (REFUSED[9], "Duplicate set members detected"),
        (REFUSED[12], "Duplicate stream consumer detected."),
    ] {
        r.cmd(&[b"RESTORE", b"k", b"0", p]);
        assert_eq!(r.reply_str(), "-ERR Bad data format\r\n");
        crate::util::wait_for(reason, std::time::Duration::from_secs(10), || {
            s.log_text().contains(reason)
        });
    }
    assert!(s
        .log_text()
        .contains("Internal error in RDB reading offset"));
}

/// Tiny deterministic generator for the mutations.
struct Lcg(u64);

impl Lcg {
    fn below(&mut self, n: usize) -> usize {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        ((self.0 >> 33) as usize) % n.max(1)
    }
}

/// Every read command of a key's type, as the suite's fuzzer sends them.
fn read_commands(kind: &str) -> Vec<Vec<&'static str>> {
    let v = |a: &[&'static str]| a.to_vec();
    match kind {
        "string" => vec![
            v(&["GET", "_k"]),
            v(&["STRLEN", "_k"]),
            v(&["GETRANGE", "_k", "0", "-1"]),
        ],
        "list" => vec![
            v(&["LRANGE", "_k", "0", "-1"]),
            v(&["LLEN", "_k"]),
            v(&["LINDEX", "_k", "-1"]),
            v(&["LPOS", "_k", "1"]),
            v(&["LPOP", "_k"]),
            v(&["RPUSH", "_k", "x"]),
        ],
        "set" => vec![
            v(&["SMEMBERS", "_k"]),
            v(&["SCARD", "_k"]),
            v(&["SISMEMBER", "_k", "1"]),
            v(&["SRANDMEMBER", "_k", "-5"]),
            v(&["SADD", "_k", "x"]),
        ],
        "hash" => vec![
            v(&["HGETALL", "_k"]),
            v(&["HLEN", "_k"]),
            v(&["HGET", "_k", "1"]),
            v(&["HRANDFIELD", "_k", "-5", "WITHVALUES"]),
            v(&["HSET", "_k", "x", "y"]),
        ],
        "zset" => vec![
            v(&["ZRANGE", "_k", "0", "-1", "WITHSCORES"]),
            v(&["ZCARD", "_k"]),
            v(&["ZRANGEBYSCORE", "_k", "-inf", "+inf"]),
            v(&["ZRANK", "_k", "_1"]),
            v(&["ZADD", "_k", "3", "x"]),
        ],
        "stream" => vec![
            v(&["XRANGE", "_k", "-", "+"]),
            v(&["XREVRANGE", "_k", "+", "-"]),
            v(&["XLEN", "_k"]),
            v(&["XINFO", "STREAM", "_k", "FULL"]),
            v(&["XINFO", "GROUPS", "_k"]),
            v(&["XPENDING", "_k", "mygroup"]),
            v(&["XADD", "_k", "*", "a", "b"]),
        ],
        _ => vec![],
    }
}

fn fill(r: &mut Raw) {
    for cfg in [
        ["list-max-ziplist-size", "5"],
        ["hash-max-ziplist-entries", "5"],
        ["zset-max-ziplist-entries", "5"],
        ["stream-node-max-entries", "5"],
    ] {
        assert_eq!(r.call(&["CONFIG", "SET", cfg[0], cfg[1]]), "+OK\r\n");
    }
    for (suffix, n) in [("", 3), ("big", 10)] {
        for j in 0..n {
            let val = if j % 2 == 0 {
                j.to_string()
            } else {
                format!("_{j}")
            };
            let js = j.to_string();
            r.call(&["HSET", &format!("hash{suffix}"), &js, &val]);
            r.call(&["LPUSH", &format!("list{suffix}"), &val]);
            r.call(&["ZADD", &format!("zset{suffix}"), &js, &val]);
            r.call(&["SADD", &format!("set{suffix}"), &val]);
            r.call(&["SADD", &format!("intset{suffix}"), &js]);
            r.call(&[
                "XADD",
                &format!("stream{suffix}"),
                "*",
                "item",
                "1",
                "value",
                &val,
            ]);
        }
    }
    r.call(&["XGROUP", "CREATE", "stream", "mygroup", "0"]);
    r.call(&[
        "XREADGROUP",
        "GROUP",
        "mygroup",
        "Alice",
        "COUNT",
        "2",
        "STREAMS",
        "stream",
        ">",
    ]);
    r.call(&["SET", "string", "a string value"]);
    r.call(&["INCR", "int"]);
}

const KEYS: &[(&str, &str)] = &[
    ("hash", "hash"),
    ("hashbig", "hash"),
    ("list", "list"),
    ("listbig", "list"),
    ("zset", "zset"),
    ("zsetbig", "zset"),
    ("set", "set"),
    ("setbig", "set"),
    ("intset", "set"),
    ("intsetbig", "set"),
    ("stream", "stream"),
    ("streambig", "stream"),
    ("string", "string"),
    ("int", "string"),
];

/// The suite's fuzzer in our own tests: DUMP every type, flip bytes,
/// RESTORE with and without sanitization, and on what was accepted run
/// each read command of its type; the server answers every command, and
/// an accepted value DUMPs and RESTOREs again.
#[test]
fn mutated_payloads_never_hurt_the_server() {
    for sanitize in ["no", "yes"] {
        let s = Server::start(&["--sanitize-dump-payload", sanitize]);
        let mut r = s.raw();
        assert_eq!(
            r.call(&["DEBUG", "SET-SKIP-CHECKSUM-VALIDATION", "1"]),
            "+OK\r\n"
        );
        fill(&mut r);
        let mut rng = Lcg(if sanitize == "yes" { 7 } else { 11 });
        let (mut accepted, mut refused) = (0, 0);
        for (key, kind) in KEYS {
            r.cmd(&[b"DUMP", key.as_bytes()]);
            let good = bulk_value(&r.reply()).expect("DUMP");
            for _ in 0..150 {
                let mut p = good.clone();
                for _ in 0..1 + rng.below(2) {
                    let i = rng.below(p.len());
                    p[i] = rng.below(256) as u8;
                }
                if rng.below(10) == 0 {
                    let cut = rng.below(p.len());
                    p.truncate(cut);
                }
                r.cmd(&[b"RESTORE", b"_k", b"0", &p, b"REPLACE"]);
                let reply = r.reply_str();
                if reply.starts_with('-') {
                    assert!(reply.starts_with("-ERR "), "{reply}");
                    refused += 1;
                    continue;
                }
                assert_eq!(reply, "+OK\r\n");
                accepted += 1;
                for c in read_commands(kind) {
                    r.call(&c);
                }
                let ty = r.call(&["TYPE", "_k"]);
                if ty != "+none\r\n" {
                    r.cmd(&[b"DUMP", b"_k"]);
                    let again = bulk_value(&r.reply()).expect("DUMP of an accepted value");
                    r.cmd(&[b"RESTORE", b"_k2", b"0", &again, b"REPLACE"]);
                    assert_eq!(
                        r.reply_str(),
                        "+OK\r\n",
                        "round trip of {key} (sanitize {sanitize}), restored from {p:02x?}, dumped as {again:02x?}"
                    );
                }
                r.call(&["DEL", "_k", "_k2"]);
            }
        }
        assert!(accepted > 0 && refused > 0, "{accepted} {refused}");
        assert_eq!(r.call(&["PING"]), "+PONG\r\n");
        assert_eq!(r.call(&["DBSIZE"]), ":14\r\n");
    }
}
