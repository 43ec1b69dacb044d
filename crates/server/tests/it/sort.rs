//! SORT and SORT_RO against a real redis-server: options and their errors,
//! patterns (`*`, `->`, `#`, NUL bytes), numeric and ALPHA weights, the
//! order of equal weights (stable merge sort, and Redis's partial
//! quicksort under BY with LIMIT), LIMIT's clamping, STORE with its
//! events, WATCH, blocked clients and replication, in RESP2 and RESP3,
//! and a seeded random run over lists, sets and sorted sets.

use rand::rngs::SmallRng;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};

use crate::util::{int_field, wait_same_digest, wait_up, Diff, Raw, Server};

/// Run commands on both servers, requiring identical replies.
fn same_all(d: &mut Diff, cmds: &[&[&str]]) {
    for c in cmds {
        d.same_str(c);
    }
}

/// The same commands, with binary arguments.
fn same_bin(d: &mut Diff, cmds: &[&[&[u8]]]) {
    for c in cmds {
        d.same(c);
    }
}

#[test]
fn options_errors_and_limits() {
    let mut d = Diff::start(&[]);
    same_all(
        &mut d,
        &[
            &[
                "RPUSH", "l", "3", "1", "10", "2", "-1.5", "1e1", "0x10", " 7",
            ],
            &["SET", "str", "x"],
            &["HSET", "hash", "a", "1"],
            &["SORT", "l"],
            &["SORT", "l", "DESC"],
            &["SORT", "l", "ASC", "DESC", "ASC"],
            &["SORT", "l", "ALPHA"],
            &["SORT", "l", "alpha", "desc"],
            &["SORT_RO", "l", "ALPHA"],
            // Errors, and which comes first.
            &["SORT", "l", "LIMIT"],
            &["SORT", "l", "LIMIT", "1"],
            &["SORT", "l", "LIMIT", "x", "1"],
            &["SORT", "l", "LIMIT", "1", "x"],
            &["SORT", "l", "LIMIT", "1.5", "1"],
            &["SORT", "l", "BY"],
            &["SORT", "l", "GET"],
            &["SORT", "l", "STORE"],
            &["SORT", "l", "FOO"],
            &["SORT", "str"],
            &["SORT", "str", "FOO"],
            &["SORT", "str", "LIMIT", "x", "0"],
            &["SORT", "hash"],
            &["SORT_RO", "str"],
            &["SORT_RO", "l", "STORE", "d"],
            &["SORT_RO", "str", "STORE", "d"],
            &["SORT"],
            &["SORT_RO"],
            &["SORT", "nokey"],
            &["SORT", "nokey", "LIMIT", "0", "5", "GET", "#"],
            &["SORT", "nokey", "BY", "nosort", "DESC", "LIMIT", "1", "1"],
        ],
    );
    // LIMIT: negative, zero, past the end, huge.
    for (off, cnt) in [
        ("0", "0"),
        ("0", "1"),
        ("2", "3"),
        ("-5", "3"),
        ("-1", "-1"),
        ("3", "-7"),
        ("7", "1"),
        ("8", "1"),
        ("9", "5"),
        ("100", "100"),
        ("0", "9223372036854775807"),
        ("9223372036854775807", "9223372036854775807"),
        ("-9223372036854775808", "2"),
        ("2", "-9223372036854775808"),
    ] {
        for by in [None, Some("nosort"), Some("w_*")] {
            for desc in ["ASC", "DESC"] {
                let mut c = vec!["SORT", "l", "LIMIT", off, cnt, desc];
                if let Some(b) = by {
                    c.extend(["BY", b]);
                }
                d.same_str(&c);
                c[0] = "SORT_RO";
                d.same_str(&c);
            }
        }
    }
    // Later options win; a constant BY keeps "don't sort" even when a
    // later BY has a `*`.
    same_all(
        &mut d,
        &[
            &["SORT", "l", "LIMIT", "0", "1", "LIMIT", "2", "2"],
            &["SORT", "l", "BY", "nosort", "BY", "w_*"],
            &["SORT", "l", "BY", "w_*", "BY", "nosort"],
            &["SORT", "l", "STORE", "a", "STORE", "b"],
            &["EXISTS", "a", "b"],
            &["LRANGE", "b", "0", "-1"],
        ],
    );
}

/// New connections to both servers. Redis 7.0 reads SORT's `errno` without
/// clearing it first, so one range error (1e400, 1e-310) makes every later
/// numeric SORT over non-integer strings fail until some failed system call
/// (the EAGAIN that ends an accept loop) overwrites it. relica does not
/// keep that state; a new connection clears it on Redis's side.
fn reconnect(d: &mut Diff) {
    for r in [&mut d.ours, &mut d.theirs] {
        let reply = r.call(&["CONFIG", "GET", "port"]);
        let port: u16 = reply
            .lines()
            .nth(4)
            .and_then(|p| p.parse().ok())
            .expect("port");
        let s = std::net::TcpStream::connect(("127.0.0.1", port)).expect("connect");
        s.set_read_timeout(Some(std::time::Duration::from_secs(10)))
            .expect("timeout");
        *r = Raw::from_stream(s);
    }
}

#[test]
fn numeric_weights_and_their_errors() {
    let mut d = Diff::start(&[]);
    let weights: &[&str] = &[
        "1",
        "-1",
        "1.5",
        " 2",
        "2 ",
        "",
        "0x1A",
        "1e2",
        "1e400",
        "-1e400",
        "1e-400",
        "1e-310",
        "0x1p-1074",
        "0x1.8p-1074",
        "inf",
        "-inf",
        "nan",
        "-nan",
        "abc",
        "1x",
        "  ",
        "+5",
        ".5",
        "5.",
        "infinity",
        "0x",
        "-0",
        "9223372036854775807",
    ];
    for w in weights {
        same_all(
            &mut d,
            &[
                &["DEL", "l", "s"],
                &["RPUSH", "l", "1", w, "3"],
                &["SORT", "l"],
                &["SORT", "l", "DESC"],
                &["SET", "w_a", w],
                &["HSET", "h_a", "f", w],
                &["RPUSH", "k", "a", "b", "c"],
                &["SORT", "k", "BY", "w_*"],
                &["SORT", "k", "BY", "h_*->f", "DESC"],
                &["SORT", "k", "BY", "w_*", "STORE", "dst"],
                &["EXISTS", "dst"],
                &["DEL", "k", "dst"],
            ],
        );
        reconnect(&mut d);
    }
    // A NUL byte ends the number, as C sees it.
    same_bin(
        &mut d,
        &[
            &[b"DEL", b"l"],
            &[b"RPUSH", b"l", b"5\x00x", b"1", b"2\x00"],
            &[b"SORT", b"l"],
            &[b"SORT", b"l", b"DESC"],
            &[b"RPUSH", b"k", b"a", b"b", b"c"],
            &[b"SET", b"w_a", b"3\x00junk"],
            &[b"SORT", b"k", b"BY", b"w_*"],
            &[b"SET", b"w_b", b"-1\x00"],
            &[b"SORT", b"k", b"BY", b"w_*", b"DESC"],
        ],
    );
    // Equal scores fall back to the elements' bytes (both directions).
    same_all(
        &mut d,
        &[
            &["DEL", "l"],
            &[
                "RPUSH", "l", "1", "1.0", "01", "1e0", " 1", "0x1", "1", "b", "a",
            ],
            &["SORT", "l", "BY", "nokey_*"],
            &["SORT", "l", "BY", "nokey_*", "DESC"],
            &["SORT", "l", "BY", "nokey_*", "LIMIT", "2", "3"],
            &["SORT", "l", "BY", "nokey_*", "LIMIT", "2", "3", "DESC"],
            &["DEL", "l"],
            &["RPUSH", "l", "1", "1.0", "01", "1e0", " 1", "0x1", "1"],
            &["SORT", "l"],
            &["SORT", "l", "DESC"],
        ],
    );
}

#[test]
fn alpha_order_and_equal_weights() {
    let mut d = Diff::start(&[]);
    // Equal and missing weights: glibc's merge sort keeps the list's
    // order (DESC too); with LIMIT, pqsort's own order.
    let mut cmd: Vec<String> = vec!["RPUSH".into(), "big".into()];
    for i in 0..120 {
        cmd.push(format!("e{i}"));
    }
    let v: Vec<&str> = cmd.iter().map(String::as_str).collect();
    d.same_str(&v);
    for i in 0..120 {
        if i % 3 != 0 {
            let w = ["x", "y", "x", "z", ""][i % 5];
            d.same_str(&["SET", &format!("w_e{i}"), w]);
        }
    }
    for by in ["w_*", "nokey_*"] {
        for limit in [
            None,
            Some(("0", "10")),
            Some(("5", "50")),
            Some(("100", "30")),
        ] {
            for desc in ["ASC", "DESC"] {
                for store in [false, true] {
                    let mut c = vec!["SORT", "big", "BY", by, "ALPHA", desc];
                    if let Some((o, n)) = limit {
                        c.extend(["LIMIT", o, n]);
                    }
                    if store {
                        c.extend(["STORE", "dst"]);
                    }
                    d.same_str(&c);
                    if store {
                        d.same_str(&["LRANGE", "dst", "0", "-1"]);
                    }
                }
            }
        }
    }
    // strcoll sees C strings: elements equal up to a NUL tie, and keep
    // their order; STORE compares all their bytes.
    same_bin(
        &mut d,
        &[
            &[
                b"RPUSH",
                b"nul",
                b"a\x00z",
                b"b",
                b"a\x00c",
                b"a",
                b"a\x00b",
                b"A",
                b"\xc3\xa9",
                b"e",
            ],
            &[b"SORT", b"nul", b"ALPHA"],
            &[b"SORT", b"nul", b"ALPHA", b"DESC"],
            &[b"SORT", b"nul", b"ALPHA", b"STORE", b"dst"],
            &[b"LRANGE", b"dst", b"0", b"-1"],
            &[b"SORT", b"nul", b"ALPHA", b"DESC", b"STORE", b"dst"],
            &[b"LRANGE", b"dst", b"0", b"-1"],
            &[b"SET", b"w_b", b"k\x00z"],
            &[b"SET", b"w_a", b"k\x00a"],
            &[b"SET", b"w_e", b"k"],
            &[b"SORT", b"nul", b"BY", b"w_*", b"ALPHA"],
            &[b"SORT", b"nul", b"BY", b"w_*", b"ALPHA", b"STORE", b"dst"],
            &[b"LRANGE", b"dst", b"0", b"-1"],
        ],
    );
    // Integer-encoded strings sort as text under ALPHA.
    same_all(
        &mut d,
        &[
            &["RPUSH", "ints", "2", "1", "3", "10", "-1", "100"],
            &["SORT", "ints", "ALPHA"],
            &["SORT", "ints", "ALPHA", "DESC", "LIMIT", "1", "3"],
            &["SORT", "ints", "ALPHA", "BY", "ints"],
        ],
    );
}

#[test]
fn patterns_get_and_hash_fields() {
    let mut d = Diff::start(&[]);
    same_all(
        &mut d,
        &[
            &["RPUSH", "l", "a", "b", "c", "1"],
            &["MSET", "w_a", "3", "w_b", "1", "w_c", "2", "w_1", "0"],
            &["HSET", "h_a", "f", "30", "g", "x"],
            &["HSET", "h_b", "f", "10"],
            &["HSET", "h_c", "f", "20", "->", "arrow", "", "empty"],
            &["SET", "x:a->", "100"],
            &["SET", "a_pre_a_post", "P"],
            &[
                "SORT", "l", "BY", "w_*", "GET", "#", "GET", "w_*", "GET", "h_*->f",
            ],
            &[
                "SORT",
                "l",
                "BY",
                "h_*->f",
                "GET",
                "h_*->g",
                "GET",
                "h_*->nofield",
            ],
            &["SORT", "l", "BY", "nosort", "GET", "x:*->"],
            &["SORT", "l", "BY", "nosort", "GET", "h_*->->"],
            &["SORT", "l", "BY", "nosort", "GET", "h_*"],
            &["SORT", "l", "BY", "nosort", "GET", "w_*->f"],
            &["SORT", "l", "BY", "nosort", "GET", "nokey"],
            &["SORT", "l", "BY", "nosort", "GET", "#", "GET", "#"],
            &["SORT", "l", "BY", "nosort", "GET", "a_pre_*_post"],
            &["SORT", "l", "BY", "nosort", "GET", "**"],
            &["SORT", "l", "BY", "nosort", "GET", "*"],
            &["SORT", "l", "BY", "nosort", "GET", "##"],
            &["SORT", "l", "BY", "nosort", "GET", ""],
            &["SORT", "l", "BY", "*", "ALPHA"],
            &["SORT", "l", "BY", "#"],
            &["SORT", "l", "BY", "", "DESC"],
            &["SORT", "l", "BY", "h_*->f", "LIMIT", "1", "2", "GET", "#"],
            &["SORT", "l", "BY", "w_*->f"],
            &["SORT", "l", "BY", "h_*", "ALPHA"],
            &["SORT", "l", "BY", "h_*->", "ALPHA"],
            &["SORT", "l", "GET", "w_*", "STORE", "dst"],
            &["LRANGE", "dst", "0", "-1"],
            &[
                "SORT", "l", "BY", "w_*", "GET", "nokey", "GET", "#", "STORE", "dst",
            ],
            &["LRANGE", "dst", "0", "-1"],
            &["SORT_RO", "l", "BY", "w_*", "GET", "h_*->f"],
        ],
    );
    // NUL bytes: `*`, `->` and `#` are looked for before the first NUL;
    // the rest of the pattern still counts where Redis uses its length.
    same_bin(
        &mut d,
        &[
            &[b"SET", b"w_a\x00tail", b"9"],
            &[b"HSET", b"h_a", b"f\x00g", b"nul-field"],
            &[b"SORT", b"l", b"BY", b"nosort", b"GET", b"w_*\x00tail"],
            &[b"SORT", b"l", b"BY", b"nosort", b"GET", b"h_*->f\x00g"],
            &[b"SORT", b"l", b"BY", b"nosort", b"GET", b"h_\x00*->f"],
            &[b"SORT", b"l", b"BY", b"nosort", b"GET", b"#\x00x"],
            &[b"SORT", b"l", b"BY", b"nosort", b"GET", b"h_*-\x00>f"],
            &[b"SORT", b"l", b"BY", b"nosort", b"GET", b"h_*->\x00f"],
            &[b"SORT", b"l", b"BY", b"w_\x00*"],
            &[b"SORT", b"l", b"BY", b"w_*\x00tail", b"DESC"],
        ],
    );
    // Missing GET values are nulls in RESP3 too.
    d.both(&[b"HELLO", b"3"]);
    same_all(
        &mut d,
        &[
            &[
                "SORT", "l", "BY", "w_*", "GET", "#", "GET", "nokey", "GET", "h_*->f",
            ],
            &["SORT", "l", "DESC", "ALPHA"],
            &["SORT", "nokey"],
            &["SORT", "l", "STORE", "dst"],
            &["SORT", "l", "LIMIT", "x", "1"],
        ],
    );
}

#[test]
fn sets_and_sorted_sets() {
    let mut d = Diff::start(&[]);
    let mut members: Vec<String> = (0..200).map(|i| format!("m{i}")).collect();
    same_all(
        &mut d,
        &[
            &["SADD", "si", "5", "-3", "10", "2", "7"],
            &["SADD", "sh", "b", "a", "10", "2", "c", "-1"],
            &["ZADD", "z", "1", "a", "5", "b", "2", "c", "10", "d", "3", "e"],
            &["ZADD", "zinf", "-100", "a", "200", "b", "+inf", "max", "-inf", "min"],
            &["OBJECT", "ENCODING", "z"],
            &["SORT", "z", "ALPHA", "DESC"],
            &["OBJECT", "ENCODING", "z"],
            &["SORT", "zinf", "BY", "nosort"],
            &["SORT", "zinf", "BY", "nosort", "DESC"],
            &["SORT", "si"],
            &["SORT", "si", "BY", "nosort"],
            &["SORT", "si", "BY", "nosort", "DESC", "LIMIT", "1", "2"],
            &["SORT", "si", "BY", "nosort", "STORE", "dst"],
            &["LRANGE", "dst", "0", "-1"],
            &["SORT", "sh", "ALPHA"],
            &["SORT", "sh", "ALPHA", "DESC", "LIMIT", "1", "3"],
            &["SORT", "sh"],
            &["SORT", "sh", "BY", "nosort", "STORE", "dst"],
            &["LRANGE", "dst", "0", "-1"],
            &["SORT", "sh", "BY", "nosort", "DESC", "STORE", "dst"],
            &["LRANGE", "dst", "0", "-1"],
            &["SORT", "sh", "BY", "nosort", "LIMIT", "1", "2", "STORE", "dst"],
            &["LRANGE", "dst", "0", "-1"],
            &["SORT", "sh", "BY", "nosort", "GET", "#", "GET", "nokey", "STORE", "dst"],
            &["LRANGE", "dst", "0", "-1"],
            // A script sorts a set even BY nosort; a list and a sorted
            // set keep their order.
            &["EVAL", "return redis.call('sort', KEYS[1], 'by', 'nosort')", "1", "sh"],
            &["EVAL", "return redis.call('sort', KEYS[1], 'by', 'nosort', 'desc')", "1", "sh"],
            &["EVAL", "return redis.call('sort_ro', KEYS[1], 'by', 'nosort', 'limit', '1', '2')", "1", "sh"],
            &["EVAL", "return {redis.call('sort',KEYS[1],'by','nosort','asc'), redis.call('sort',KEYS[1],'by','nosort','desc')}", "1", "z"],
        ],
    );
    // A set's own order is not specified (Redis's is its hash table's).
    d.same_unordered(&[b"SORT", b"sh", b"BY", b"nosort"]);
    // Sorted set BY nosort with LIMIT takes the range directly.
    for (off, cnt) in [
        ("0", "1"),
        ("0", "2"),
        ("5", "10"),
        ("-10", "100"),
        ("2", "0"),
        ("4", "-1"),
        ("1", "3"),
    ] {
        for desc in ["ASC", "DESC"] {
            d.same_str(&["SORT", "z", "BY", "nosort", desc, "LIMIT", off, cnt]);
            d.same_str(&[
                "SORT", "z", "BY", "nosort", desc, "LIMIT", off, cnt, "GET", "#", "STORE", "dz",
            ]);
            d.same_str(&["LRANGE", "dz", "0", "-1"]);
        }
    }
    // A big sorted set (skiplist) and a big set (hash table): numeric and
    // ALPHA sorts are total orders, so their own order cannot show.
    members.shuffle(&mut SmallRng::seed_from_u64(7));
    for (i, m) in members.iter().enumerate() {
        let score = ((i * 37) % 50).to_string();
        d.same_str(&["ZADD", "bigz", &score, m]);
        d.same_str(&["SADD", "bigs", m]);
        d.same_str(&["SET", &format!("w_{m}"), &((i * 13) % 7).to_string()]);
        d.same_str(&["SET", &format!("u_{m}"), &format!("{:04}", (i * 71) % 200)]);
    }
    for key in ["bigz", "bigs"] {
        same_all(
            &mut d,
            &[
                &["SORT", key, "ALPHA", "LIMIT", "10", "5"],
                &[
                    "SORT", key, "BY", "w_*", "LIMIT", "10", "20", "GET", "#", "GET", "w_*",
                ],
                &["SORT", key, "BY", "w_*", "DESC"],
                &["SORT", key, "BY", "u_*", "ALPHA", "LIMIT", "150", "100"],
                &["SORT", key, "BY", "u_*", "ALPHA", "DESC", "STORE", "dst"],
                &["LRANGE", "dst", "0", "-1"],
                &[
                    "SORT", key, "BY", "nosort", "LIMIT", "3", "4", "STORE", "dst",
                ],
                &["LRANGE", "dst", "0", "-1"],
            ],
        );
    }
    same_all(
        &mut d,
        &[
            &["SORT", "bigz", "BY", "nosort", "LIMIT", "190", "20", "DESC"],
            &["SORT", "bigz", "BY", "nosort", "LIMIT", "50", "3"],
            &["OBJECT", "ENCODING", "bigz"],
            &["DEBUG", "DIGEST"],
        ],
    );
}

/// STORE's housekeeping, compared with Redis's: replies, keyspace events,
/// WATCH, and clients blocked on the destination.
#[test]
fn store_events_watch_and_blocked_clients() {
    let servers = [Server::start(&[]), Server::redis(&[])];
    let mut results: Vec<Vec<String>> = Vec::new();
    for s in &servers {
        let mut out = Vec::new();
        let mut r = s.raw();
        r.call(&["CONFIG", "SET", "notify-keyspace-events", "KEA"]);
        let mut sub = s.raw();
        sub.call(&["PSUBSCRIBE", "__keyevent@0__:*"]);
        let cmds: &[&[&str]] = &[
            &["RPUSH", "src", "3", "1", "2"],
            &["SORT", "src", "STORE", "dst"],
            &["SORT", "src", "LIMIT", "0", "0", "STORE", "dst"],
            &["SORT", "src", "LIMIT", "0", "0", "STORE", "dst"],
            &["SORT", "nokey", "STORE", "dst"],
            &["SET", "dst", "string"],
            &["SORT", "src", "DESC", "STORE", "dst"],
            &["SET", "dst2", "v", "EX", "100"],
            &["SORT", "src", "STORE", "dst2"],
            &["TTL", "dst2"],
            &[
                "SORT", "src", "BY", "nokey_*", "GET", "nokey", "STORE", "dst",
            ],
            &["LRANGE", "dst", "0", "-1"],
            &["SORT", "src", "STORE", "src"],
            &["SORT", "src", "ALPHA", "LIMIT", "10", "10", "STORE", "src"],
            &["EXISTS", "src"],
            &["SET", "sentinel", "1"],
        ];
        for c in cmds {
            out.push(r.call(c));
        }
        loop {
            let ev = sub.reply_str();
            if ev.contains("sentinel") {
                break;
            }
            out.push(ev);
        }
        // WATCH: a STORE that writes, or deletes, touches the key; one
        // that finds nothing to delete does not.
        for (setup, sort) in [
            (
                &["RPUSH", "w", "x"][..],
                &["SORT", "nokey", "STORE", "w"][..],
            ),
            (&["DEL", "w"], &["SORT", "nokey", "STORE", "w"]),
            (&["RPUSH", "src", "1"], &["SORT", "src", "STORE", "w"]),
            (&["PING"], &["SORT", "src"]),
            (&["PING"], &["SORT_RO", "src"]),
        ] {
            r.call(setup);
            r.call(&["WATCH", "w"]);
            let mut other = s.raw();
            out.push(other.call(sort));
            r.call(&["MULTI"]);
            r.call(&["PING"]);
            out.push(r.call(&["EXEC"]));
        }
        // A client blocked on the destination is served when the list is
        // created there.
        let mut blocked = s.raw();
        blocked.cmd(&[b"BLPOP", b"target", b"10"]);
        crate::util::expect::wait_blocked(&mut r, 1);
        out.push(r.call(&["SORT", "src", "STORE", "target"]));
        out.push(blocked.reply_str());
        out.push(r.call(&["LRANGE", "target", "0", "-1"]));
        // Dirty changes: one per stored element, one for a deletion.
        let before = int_field(&mut r, "rdb_changes_since_last_save");
        r.call(&["RPUSH", "five", "1", "2", "3", "4", "5"]);
        r.call(&["SORT", "five", "GET", "#", "GET", "#", "STORE", "ten"]);
        r.call(&["SORT", "nokey", "STORE", "ten"]);
        r.call(&["SORT", "nokey", "STORE", "ten"]);
        r.call(&["SORT", "five"]);
        out.push(format!(
            "dirty +{}",
            int_field(&mut r, "rdb_changes_since_last_save") - before
        ));
        // Keyspace hits and misses of the key, BY and GET lookups.
        r.call(&["CONFIG", "RESETSTAT"]);
        r.call(&["SET", "w_1", "5"]);
        r.call(&["HSET", "h_2", "f", "1"]);
        r.call(&[
            "SORT", "five", "BY", "w_*", "GET", "#", "GET", "h_*->f", "GET", "nokey",
        ]);
        r.call(&["SORT", "nokey", "BY", "w_*"]);
        r.call(&["SORT", "five", "BY", "nosort", "GET", "w_*"]);
        for f in ["keyspace_hits", "keyspace_misses"] {
            out.push(format!("{f}:{}", r.info_field(f)));
        }
        results.push(out);
    }
    assert_eq!(results[0], results[1]);
}

#[test]
fn command_keys_and_flags() {
    let mut d = Diff::start(&[]);
    same_all(
        &mut d,
        &[
            &["COMMAND", "GETKEYS", "SORT", "abc", "STORE", "def"],
            &["COMMAND", "GETKEYS", "SORT", "abc"],
            &[
                "COMMAND", "GETKEYS", "SORT", "abc", "store", "a", "STORE", "b", "store", "c",
            ],
            &[
                "COMMAND", "GETKEYS", "SORT", "abc", "LIMIT", "store", "x", "STORE",
            ],
            &[
                "COMMAND", "GETKEYS", "SORT", "abc", "GET", "store", "by", "store", "store", "k",
            ],
            &[
                "COMMAND", "GETKEYS", "SORT", "abc", "STORE", "limit", "1", "2",
            ],
            &["COMMAND", "GETKEYS", "SORT", "abc", "STORE"],
            &["COMMAND", "GETKEYS", "SORT_RO", "abc", "STORE", "def"],
            &["COMMAND", "GETKEYS", "SORT"],
            &["COMMAND", "GETKEYS", "SORT_RO"],
        ],
    );
    let s = Server::start(&[]);
    let mut r = s.raw();
    let info = r.call(&["COMMAND", "INFO", "sort", "sort_ro"]);
    assert!(
        info.contains(
            "$4\r\nsort\r\n:-2\r\n*3\r\n+write\r\n+denyoom\r\n+movablekeys\r\n:1\r\n:1\r\n:1\r\n"
        ),
        "{info}"
    );
    assert!(
        info.contains(
            "$7\r\nsort_ro\r\n:-2\r\n*2\r\n+readonly\r\n+movablekeys\r\n:1\r\n:1\r\n:1\r\n"
        ),
        "{info}"
    );
}

/// SORT ... STORE reaches replicas as it was sent (a set BY nosort is
/// sorted, so the replica stores the same list); a SORT that stores
/// nothing is not propagated.
#[test]
fn store_replicates_to_redis_replica() {
    // No PINGs in the stream while offsets are compared.
    let master = Server::start(&["--repl-ping-replica-period", "3600"]);
    let replica = Server::redis(&["--replicaof", "127.0.0.1", &master.port.to_string()]);
    let mut m = master.raw();
    let mut r = replica.raw();
    wait_up(&mut r);
    m.call(&["SADD", "s", "b", "a", "c", "10", "2", "-1", "zz", "y"]);
    m.call(&["RPUSH", "l", "3", "1", "2"]);
    m.call(&["ZADD", "z", "3", "a", "1", "b", "2", "c"]);
    m.call(&["MSET", "w_a", "2", "w_b", "1", "w_c", "3"]);
    let offset = |m: &mut Raw| int_field(m, "master_repl_offset");
    let before = offset(&mut m);
    m.call(&["SORT", "l"]);
    m.call(&["SORT_RO", "s", "ALPHA"]);
    m.call(&["SORT", "nokey", "STORE", "nothing"]);
    assert_eq!(offset(&mut m), before, "nothing to propagate");
    for c in [
        &["SORT", "s", "BY", "nosort", "STORE", "d1"][..],
        &[
            "SORT", "s", "ALPHA", "DESC", "LIMIT", "1", "4", "STORE", "d2",
        ],
        &["SORT", "l", "STORE", "d3"],
        &["SORT", "z", "BY", "nosort", "DESC", "STORE", "d4"],
        &[
            "SORT", "z", "BY", "w_*", "GET", "#", "GET", "w_*", "STORE", "d5",
        ],
        &["SORT", "nokey", "STORE", "d3"],
        &["SORT", "s", "BY", "nosort", "STORE", "s"],
    ] {
        let before = offset(&mut m);
        m.call(c);
        let mut resp = format!("*{}\r\n", c.len());
        for a in c {
            resp.push_str(&format!("${}\r\n{a}\r\n", a.len()));
        }
        let after = offset(&mut m);
        assert_eq!(after - before, resp.len() as i64, "{c:?} propagated as is");
    }
    wait_same_digest(&mut m, &mut r);
    for k in ["d1", "d2", "d4", "d5", "s"] {
        assert_eq!(
            m.call(&["LRANGE", k, "0", "-1"]),
            r.call(&["LRANGE", k, "0", "-1"])
        );
    }
    assert_eq!(r.call(&["EXISTS", "d3"]), ":0\r\n");
}

// ---- seeded random differential ---------------------------------------------

/// Elements: numbers in many spellings, words, repeats.
const ELEMS: &[&str] = &[
    "0", "1", "2", "3", "10", "-1", "-2.5", "1.5", "1e1", "007", "7", "0x10", " 4", "", "apple",
    "Apple", "banana", "b", "a", "zz", "é", "Z9", "100", "99",
];
/// Weights: numbers, equal ones, and a few that are not numbers.
const WEIGHTS: &[&str] = &[
    "1", "2", "2", "3", "-1", "0.5", "1e2", "10", "10", "-inf", "inf", "", " 3", "x", "b", "a",
    "apple",
];
const GETS: &[&str] = &[
    "#",
    "w_*",
    "h_*->f",
    "h_*->g",
    "h_*->nofield",
    "nokey",
    "h_*",
    "w_*->f",
    "u_*",
    "*",
];
/// Keys: lists (any order shows), an intset (ordered), a hash-table set
/// and sorted sets (their own order never shows: see `tie_free`).
const KEYS: &[&str] = &["l1", "l2", "lbig", "si", "sh", "z1", "zbig", "nokey", "str"];

fn pick<'a>(rng: &mut SmallRng, v: &[&'a str]) -> &'a str {
    v[rng.gen_range(0..v.len())]
}

/// Commands that fill both servers with the random data set.
fn dataset(rng: &mut SmallRng) -> Vec<Vec<String>> {
    let s = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<_>>();
    let mut cmds = vec![s(&["FLUSHALL"]), s(&["SET", "str", "x"])];
    let mut all: Vec<String> = ELEMS.iter().map(|e| e.to_string()).collect();
    for i in 0..150 {
        all.push(format!("e{i}"));
    }
    for (key, n) in [("l1", 12), ("l2", 30), ("lbig", 200)] {
        let mut c = s(&["RPUSH", key]);
        for _ in 0..n {
            c.push(all[rng.gen_range(0..all.len())].clone());
        }
        cmds.push(c);
    }
    let mut si = s(&["SADD", "si"]);
    for _ in 0..10 {
        si.push(rng.gen_range(-20i64..50).to_string());
    }
    cmds.push(si);
    let mut sh = s(&["SADD", "sh"]);
    let mut z1 = s(&["ZADD", "z1"]);
    let mut zbig = s(&["ZADD", "zbig"]);
    for (i, e) in all.iter().enumerate() {
        if i % 2 == 0 {
            sh.push(e.clone());
        }
        if i % 7 == 0 {
            z1.push(rng.gen_range(0..5).to_string());
            z1.push(e.clone());
        }
        zbig.push(rng.gen_range(-50..50).to_string());
        zbig.push(e.clone());
    }
    cmds.extend([sh, z1, zbig]);
    let mut uniq: Vec<usize> = (0..all.len()).collect();
    uniq.shuffle(rng);
    for (i, e) in all.iter().enumerate() {
        if rng.gen_range(0..5) != 0 {
            cmds.push(vec![
                "SET".into(),
                format!("w_{e}"),
                pick(rng, WEIGHTS).into(),
            ]);
        }
        if rng.gen_range(0..3) != 0 {
            let mut h = vec!["HSET".into(), format!("h_{e}")];
            h.extend(["f".into(), pick(rng, WEIGHTS).into()]);
            if rng.gen_bool(0.5) {
                h.extend(["g".into(), pick(rng, WEIGHTS).into()]);
            }
            cmds.push(h);
        }
        // Distinct, always present: ties-free weights for sets.
        cmds.push(vec![
            "SET".into(),
            format!("u_{e}"),
            format!("{:04}", uniq[i]),
        ]);
    }
    cmds
}

/// A random SORT or SORT_RO, and whether its reply's order is Redis's
/// hash-table order (then compared as a multiset).
fn random_sort(rng: &mut SmallRng) -> (Vec<String>, bool) {
    let key = pick(rng, KEYS);
    let ro = rng.gen_range(0..5) == 0;
    let unordered_source = matches!(key, "sh" | "z1" | "zbig");
    let mut opts: Vec<Vec<String>> = Vec::new();
    let alpha = rng.gen_bool(0.4);
    if alpha {
        opts.push(vec!["ALPHA".into()]);
    }
    let mut nosort = false;
    let mut tied_by = false;
    for _ in 0..rng.gen_range(0..3) {
        if rng.gen_bool(0.5) {
            let p = pick(
                rng,
                &[
                    "w_*", "h_*->f", "h_*->g", "nosort", "nokey_*", "u_*", "h_*->", "w_*->f",
                ],
            );
            nosort |= !p.contains('*');
            tied_by |= p != "u_*";
            opts.push(vec!["BY".into(), p.into()]);
        }
    }
    if rng.gen_bool(0.4) {
        let off = match rng.gen_range(0..10) {
            0 => "-3".to_string(),
            1 => "9223372036854775807".into(),
            _ => rng.gen_range(0..40).to_string(),
        };
        let cnt = match rng.gen_range(0..10) {
            0 => "-1".to_string(),
            1 => "0".into(),
            2 => "9223372036854775807".into(),
            _ => rng.gen_range(1..30).to_string(),
        };
        opts.push(vec!["LIMIT".into(), off, cnt]);
    }
    for _ in 0..rng.gen_range(0..3) {
        opts.push(vec!["GET".into(), pick(rng, GETS).into()]);
    }
    if rng.gen_bool(0.5) {
        opts.push(vec![pick(rng, &["ASC", "DESC", "asc", "desc"]).into()]);
    }
    let store = !ro && rng.gen_bool(0.3);
    if store {
        opts.push(vec![
            "STORE".into(),
            pick(rng, &["dst", "dst", "dst2", "l1"]).into(),
        ]);
    }
    if rng.gen_range(0..30) == 0 {
        opts.push(vec![pick(rng, &["FOO", "LIMIT", "STORE", "BY"]).into()]);
    }
    opts.shuffle(rng);
    // Where Redis's hash-table order could show, keep to orders that do
    // not depend on it: sets and sorted sets take ALPHA weights only from
    // the distinct u_*, and a set BY nosort (without STORE) is compared
    // as a multiset, without LIMIT.
    let set_unsorted = key == "sh" && nosort && !store;
    let mut unordered = false;
    if unordered_source && alpha && tied_by && !nosort {
        opts.retain(|o| o[0] != "BY");
        opts.push(vec!["BY".into(), "u_*".into()]);
    }
    if set_unsorted {
        opts.retain(|o| o[0] != "LIMIT");
        unordered = true;
    }
    let mut c = vec![
        if ro { "SORT_RO" } else { "SORT" }.to_string(),
        key.to_string(),
    ];
    c.extend(opts.into_iter().flatten());
    (c, unordered)
}

#[test]
fn random_sorts_match_redis() {
    let mut d = Diff::start(&[]);
    let mut rng = SmallRng::seed_from_u64(0x5027_0001);
    for round in 0..3 {
        if round == 2 {
            d.both(&[b"HELLO", b"3"]);
        }
        for c in dataset(&mut rng) {
            let v: Vec<&str> = c.iter().map(String::as_str).collect();
            d.same_str(&v);
        }
        for i in 0..700 {
            let (c, unordered) = random_sort(&mut rng);
            let v: Vec<&[u8]> = c.iter().map(|s| s.as_bytes()).collect();
            if std::env::var_os("SORTDEBUG").is_some() {
                eprintln!("{round}/{i}: {}", c.join(" "));
            }
            if unordered {
                d.same_unordered(&v);
            } else {
                d.same(&v);
            }
            if c.iter().any(|a| a == "STORE") {
                for k in ["dst", "dst2", "l1"] {
                    d.same_str(&["LRANGE", k, "0", "-1"]);
                }
            }
            if i % 100 == 0 {
                d.same_str(&["DEBUG", "DIGEST"]);
            }
        }
        d.same_str(&["DEBUG", "DIGEST"]);
        for k in ["z1", "zbig", "sh", "si", "l1", "dst"] {
            d.same_str(&["OBJECT", "ENCODING", k]);
        }
    }
}

/// A relica replica of relica stores the same lists.
#[test]
fn store_replicates_between_relicas() {
    let master = Server::start(&[]);
    let replica = Server::start(&["--replicaof", "127.0.0.1", &master.port.to_string()]);
    let mut m = master.raw();
    let mut r = replica.raw();
    wait_up(&mut r);
    let mut rng = SmallRng::seed_from_u64(0x5027_0002);
    for c in dataset(&mut rng) {
        let v: Vec<&str> = c.iter().map(String::as_str).collect();
        m.call(&v);
    }
    for _ in 0..300 {
        let (mut c, _) = random_sort(&mut rng);
        if c[0] == "SORT" && !c.iter().any(|a| a == "STORE") {
            c.extend(["STORE".into(), "dst".into()]);
        }
        let v: Vec<&str> = c.iter().map(String::as_str).collect();
        m.call(&v);
    }
    wait_same_digest(&mut m, &mut r);
    assert_eq!(
        m.call(&["LRANGE", "dst", "0", "-1"]),
        r.call(&["LRANGE", "dst", "0", "-1"])
    );
}
