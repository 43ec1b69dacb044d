//! Streams against a real redis-server: every command with its options and
//! errors in RESP2 and RESP3, seeded random operations (replies compared
//! byte for byte), blocking readers, RDB files and DUMP payloads both ways,
//! and replication both ways with consumer groups and writes during the
//! full sync (same DEBUG DIGEST, XINFO GROUPS and pending lists).

use std::time::Duration;

use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};

use crate::util::{wait_for, wait_same_digest, wait_up, Diff, Raw, Server};

fn words(c: &str) -> Vec<&str> {
    c.split(' ').collect()
}

fn all_same(d: &mut Diff, cmds: &[&str]) {
    for c in cmds {
        d.same_str(&words(c));
    }
}

/// Replies that hold no clock-dependent numbers.
const FIXED: &[&str] = &[
    "XADD s 1-1 a 1 b 2",
    "XADD s 1-2 a 3 b 4",
    "XADD s 1-* c 5",
    "XADD s 2 a 1 b 2",
    "XADD s 2 a 1",
    "XADD s 0-0 a 1",
    "XADD s 5-18446744073709551615 a 1",
    "XADD s 5-* a 1",
    "XADD s 6-* a 1",
    "XADD s MAXLEN 3 7-0 x y",
    "XADD s MAXLEN = 3 LIMIT 0 8-0 x y",
    "XADD s MINID ~ 0 LIMIT 5 9-0 x y",
    "XLEN s",
    "XRANGE s - +",
    "XRANGE s (1-1 + COUNT 2",
    "XREVRANGE s + - COUNT 2",
    "XREVRANGE s (9 (5",
    "XRANGE s - + COUNT 0",
    "XRANGE s - + COUNT -1",
    "XRANGE s (- +",
    "XRANGE s - (+",
    "XRANGE s (18446744073709551615-18446744073709551615 +",
    "XRANGE s foo +",
    "XRANGE nokey - +",
    "XRANGE s - + FOO",
    "XADD s",
    "XADD s *",
    "XADD s * a",
    "XADD s MAXLEN -1 * a b",
    "XADD s MAXLEN 1 MINID 1 * a b",
    "XADD s LIMIT 10 * a b",
    "XADD s MAXLEN 5 LIMIT 10 * a b",
    "XADD s MAXLEN ~ 5 LIMIT -1 * a b",
    "XADD s NOMKSTREAM 10-0 a b",
    "XADD nos NOMKSTREAM * a b",
    "EXISTS nos",
    "XADD s - a b",
    "XADD s 1-x a b",
    "XDEL s 5-0 7-0 99-0",
    "XDEL s bad",
    "XDEL nokey 1",
    "XLEN s",
    "XINFO STREAM s",
    "XTRIM s MAXLEN 4",
    "XTRIM s",
    "XTRIM s FOO 1",
    "XTRIM s MAXLEN ~ 1 LIMIT 1",
    "XTRIM s MINID 9",
    "XTRIM nokey MAXLEN 1",
    "XINFO STREAM s",
    "SET str x",
    "XADD str * a b",
    "XLEN str",
    "XRANGE str - +",
    "XGROUP CREATE s g 0",
    "XGROUP CREATE s g 0",
    "XGROUP CREATE nokey g 0",
    "XGROUP CREATE mk g $ MKSTREAM",
    "XGROUP CREATE s g2 $ ENTRIESREAD 5",
    "XGROUP CREATE s g3 $ ENTRIESREAD -5",
    "XGROUP CREATE s g3 $ FOO",
    "XGROUP SETID s nog 0",
    "XGROUP CREATE str g $",
    "XGROUP HELP",
    "XGROUP FOO",
    "XGROUP CREATE s",
    "XINFO HELP",
    "XINFO GROUPS s",
    "XINFO FOO s",
    "XINFO GROUPS nokey",
    "XINFO GROUPS str",
    "OBJECT ENCODING s",
    "TYPE s",
    "FLUSHALL",
    "XADD s 1-0 a 1",
    "XADD s 2-0 b 2",
    "XADD s 3-0 c 3",
    "XADD s 4-0 d 4",
    "XGROUP CREATE s g 0",
    "XREADGROUP GROUP g c1 COUNT 2 STREAMS s >",
    "XREADGROUP GROUP g c2 STREAMS s >",
    "XREADGROUP GROUP g c2 STREAMS s >",
    "XREADGROUP GROUP g c1 STREAMS s 0",
    "XREADGROUP GROUP g c1 STREAMS s 1-0",
    "XREADGROUP GROUP g c1 STREAMS s $",
    "XREADGROUP GROUP nog c1 STREAMS s >",
    "XREADGROUP GROUP g c1 STREAMS s",
    "XREADGROUP GROUP g c1 STREAMS str >",
    "XREAD STREAMS s >",
    "XREAD STREAMS s 2-0",
    "XREAD COUNT 1 STREAMS s s 0 2",
    "XREAD STREAMS s $",
    "XREAD STREAMS s nokey 0 0",
    "XREAD GROUP g c STREAMS s 0",
    "XREAD NOACK STREAMS s 0",
    "XREAD BLOCK -1 STREAMS s 0",
    "XREAD BLOCK x STREAMS s 0",
    "XREAD FOO STREAMS s 0",
    "XPENDING s g",
    "XPENDING s nog",
    "XPENDING s g - +",
    "XPENDING s g - + 0",
    "XPENDING s g - + 10 nobody",
    "XPENDING s g IDLE 99999999 - + 10",
    "XPENDING s g IDLE x - + 10",
    "XACK s g 1-0 9-0",
    "XACK s g bad",
    "XACK s nog 1-0",
    "XACK nokey g 1-0",
    "XDEL s 2-0",
    "XREADGROUP GROUP g c1 STREAMS s 0",
    "XCLAIM s g c3 0 2-0 3-0 JUSTID",
    "XPENDING s g",
    "XCLAIM s g c3 0 4-0 FOO",
    "XCLAIM s g c3 bad 4-0",
    "XCLAIM s nog c3 0 4-0",
    "XCLAIM s g c4 0 4-0 RETRYCOUNT 7 JUSTID",
    "XCLAIM s g c4 0 4-0 RETRYCOUNT x",
    "XCLAIM s g c4 0 1-0 FORCE JUSTID",
    "XAUTOCLAIM s g c5 0 0 COUNT 1",
    "XAUTOCLAIM s g c5 0 0 COUNT 10 JUSTID",
    "XAUTOCLAIM s g c5 0 0 COUNT 0",
    "XAUTOCLAIM s g c5 x 0",
    "XAUTOCLAIM s g c5 0 0 FOO",
    "XAUTOCLAIM s nog c5 0 0",
    "XGROUP CREATECONSUMER s g c9",
    "XGROUP CREATECONSUMER s g c9",
    "XGROUP DELCONSUMER s g c5",
    "XGROUP DELCONSUMER s g nobody",
    "XINFO GROUPS s",
    "XGROUP SETID s g 1-0 ENTRIESREAD 1",
    "XINFO GROUPS s",
    "XGROUP SETID s g $",
    "XINFO GROUPS s",
    "XGROUP DESTROY s g",
    "XGROUP DESTROY s g",
    "XSETID s 1-0",
    "XSETID s 100-0 ENTRIESADDED 2",
    "XSETID s 100-0 ENTRIESADDED 10 MAXDELETEDID 200-0",
    "XSETID s 100-0 ENTRIESADDED 10 MAXDELETEDID 50-0",
    "XSETID s 100-0 ENTRIESADDED -1",
    "XSETID s 100-0 FOO",
    "XINFO STREAM s",
    "XSETID nokey 1-0",
    "XGROUP CREATE s g2 0",
    "XREADGROUP GROUP g2 alice NOACK STREAMS s >",
    "XINFO GROUPS s",
    "XINFO CONSUMERS s nog",
    "XINFO STREAM s FULL BAD 1",
    "XINFO STREAM s BAD",
    "XINFO STREAM s FULL COUNT x",
    // WATCH: XADD and XDEL touch the key; XSETID and group changes do not.
    "WATCH s",
    "XSETID s 100-0",
    "XGROUP CREATECONSUMER s g2 bob",
    "MULTI",
    "XLEN s",
    "EXEC",
    "WATCH s",
    "XADD s 200-0 a b",
    "MULTI",
    "XLEN s",
    "EXEC",
    "WATCH s",
    "XDEL s 200-0",
    "MULTI",
    "XLEN s",
    "EXEC",
    "DEBUG DIGEST-VALUE s",
    "COPY s s2",
    "XINFO GROUPS s2",
    "RENAME s2 s3",
    "TYPE s3",
    "OBJECT ENCODING s3",
];

#[test]
fn stream_commands_match_redis() {
    let mut d = Diff::start(&[]);
    for proto in ["2", "3"] {
        d.both(&[b"HELLO", proto.as_bytes()]);
        d.same_str(&["FLUSHALL"]);
        all_same(&mut d, FIXED);
    }
}

/// Random appends (some with their own fields), deletions, trims and
/// reads over small nodes, compared with redis-server after every step.
#[test]
fn seeded_random_streams_match_redis() {
    let mut d = Diff::start(&[
        "--stream-node-max-entries",
        "4",
        "--stream-node-max-bytes",
        "120",
    ]);
    let mut rng = SmallRng::seed_from_u64(0x5713);
    let mut ms = 1u64;
    for step in 0..1500 {
        let key = ["s1", "s2"][rng.gen_range(0..2)];
        let cmd: Vec<String> = match rng.gen_range(0..12) {
            0..=4 => {
                ms += rng.gen_range(0..3);
                let id = if rng.gen_bool(0.5) {
                    format!("{ms}-*")
                } else {
                    format!("{ms}-{}", rng.gen_range(0..3))
                };
                let mut v = vec!["XADD".into(), key.into()];
                if rng.gen_ratio(1, 10) {
                    v.extend([
                        "MAXLEN".into(),
                        "~".into(),
                        rng.gen_range(0..20).to_string(),
                    ]);
                }
                v.push(id);
                let fields = ["a", "b", "c"];
                for f in fields.iter().take(rng.gen_range(1..4)) {
                    v.push(f.to_string());
                    v.push(if rng.gen_bool(0.5) {
                        rng.gen_range(-200i64..100_000).to_string()
                    } else {
                        "x".repeat(rng.gen_range(0..40))
                    });
                }
                v
            }
            5 => vec![
                "XDEL".into(),
                key.into(),
                format!("{}-{}", rng.gen_range(0..=ms), rng.gen_range(0..3)),
            ],
            6 => {
                let how = if rng.gen_bool(0.5) { "=" } else { "~" };
                if rng.gen_bool(0.5) {
                    vec![
                        "XTRIM".into(),
                        key.into(),
                        "MAXLEN".into(),
                        how.into(),
                        rng.gen_range(0..30).to_string(),
                    ]
                } else {
                    vec![
                        "XTRIM".into(),
                        key.into(),
                        "MINID".into(),
                        how.into(),
                        rng.gen_range(0..=ms).to_string(),
                    ]
                }
            }
            7 => vec![
                "XRANGE".into(),
                key.into(),
                rng.gen_range(0..=ms).to_string(),
                "+".into(),
                "COUNT".into(),
                rng.gen_range(1..10).to_string(),
            ],
            8 => vec!["XREVRANGE".into(), key.into(), "+".into(), "-".into()],
            9 => vec!["XINFO".into(), "STREAM".into(), key.into()],
            10 => vec!["DEBUG".into(), "DIGEST-VALUE".into(), key.into()],
            _ => vec!["XLEN".into(), key.into()],
        };
        let args: Vec<&[u8]> = cmd.iter().map(|s| s.as_bytes()).collect();
        let (a, b) = d.both(&args);
        assert_eq!(
            String::from_utf8_lossy(&a),
            String::from_utf8_lossy(&b),
            "step {step}: {cmd:?}"
        );
    }
    d.same_str(&["DEBUG", "DIGEST"]);
}

#[test]
fn blocked_readers_are_served_as_redis() {
    for server in [Server::start(&[]), Server::redis(&[])] {
        let mut a = server.raw();
        let mut b = server.raw();
        let mut c = server.raw();
        a.call(&["XADD", "s", "1-0", "f", "v"]);
        // `$` means what was last when the client blocked.
        b.cmd(&[b"XREAD", b"BLOCK", b"0", b"STREAMS", b"s", b"$"]);
        crate::util::expect::wait_blocked(&mut a, 1);
        a.call(&["XADD", "s", "2-0", "f", "w"]);
        assert_eq!(
            b.reply_str(),
            "*1\r\n*2\r\n$1\r\ns\r\n*1\r\n*2\r\n$3\r\n2-0\r\n*2\r\n$1\r\nf\r\n$1\r\nw\r\n"
        );
        // XREADGROUP: first blocked is first served; a deleted key and a
        // destroyed group answer with errors.
        a.call(&["XGROUP", "CREATE", "s", "g", "$"]);
        b.cmd(&[
            b"XREADGROUP",
            b"GROUP",
            b"g",
            b"c1",
            b"BLOCK",
            b"0",
            b"STREAMS",
            b"s",
            b">",
        ]);
        crate::util::expect::wait_blocked(&mut a, 1);
        c.cmd(&[
            b"XREADGROUP",
            b"GROUP",
            b"g",
            b"c2",
            b"BLOCK",
            b"0",
            b"STREAMS",
            b"s",
            b">",
        ]);
        crate::util::expect::wait_blocked(&mut a, 2);
        a.call(&["XADD", "s", "3-0", "f", "x"]);
        assert!(b.reply_str().contains("3-0"));
        a.call(&["XGROUP", "DESTROY", "s", "g"]);
        assert_eq!(
            c.reply_str(),
            "-NOGROUP the consumer group this client was blocked on no longer exists\r\n"
        );
        a.call(&["XGROUP", "CREATE", "s", "g", "$"]);
        b.cmd(&[
            b"XREADGROUP",
            b"GROUP",
            b"g",
            b"c1",
            b"BLOCK",
            b"0",
            b"STREAMS",
            b"s",
            b">",
        ]);
        crate::util::expect::wait_blocked(&mut a, 1);
        a.call(&["DEL", "s"]);
        assert_eq!(
            b.reply_str(),
            "-UNBLOCKED the stream key no longer exists\r\n"
        );
        // A reader of two streams is served from the one that got data,
        // whatever the other holds now.
        b.cmd(&[
            b"XREAD", b"BLOCK", b"0", b"STREAMS", b"k1", b"k2", b"$", b"$",
        ]);
        crate::util::expect::wait_blocked(&mut a, 1);
        a.call(&["SET", "k1", "x"]);
        a.call(&["XADD", "k2", "5-0", "f", "v"]);
        assert_eq!(
            b.reply_str(),
            "*1\r\n*2\r\n$2\r\nk2\r\n*1\r\n*2\r\n$3\r\n5-0\r\n*2\r\n$1\r\nf\r\n$1\r\nv\r\n"
        );
        // Timeouts answer a null array.
        b.cmd(&[b"XREAD", b"BLOCK", b"50", b"STREAMS", b"s", b"$"]);
        assert_eq!(b.reply_str(), "*-1\r\n");
    }
}

/// A stream with groups, pending entries, tombstones and several nodes.
fn stream_dataset(m: &mut Raw, key: &str) {
    for i in 1..=300 {
        let v = i.to_string();
        if i % 7 == 0 {
            m.call(&["XADD", key, &format!("{i}-1"), "other", &v]);
        } else {
            m.call(&["XADD", key, &format!("{i}-1"), "a", &v, "b", "xyz"]);
        }
    }
    m.call(&["XDEL", key, "5-1", "150-1"]);
    m.call(&["XGROUP", "CREATE", key, "g1", "0"]);
    m.call(&["XGROUP", "CREATE", key, "g2", "$"]);
    m.call(&[
        "XREADGROUP",
        "GROUP",
        "g1",
        "alice",
        "COUNT",
        "20",
        "STREAMS",
        key,
        ">",
    ]);
    m.call(&[
        "XREADGROUP",
        "GROUP",
        "g1",
        "bob",
        "COUNT",
        "5",
        "STREAMS",
        key,
        ">",
    ]);
    m.call(&[
        "XREADGROUP",
        "GROUP",
        "g1",
        "carol",
        "NOACK",
        "COUNT",
        "5",
        "STREAMS",
        key,
        ">",
    ]);
    m.call(&["XACK", key, "g1", "2-1", "3-1"]);
    m.call(&["XCLAIM", key, "g1", "dave", "0", "4-1", "6-1"]);
    m.call(&["XGROUP", "CREATECONSUMER", key, "g2", "erin"]);
    // Geo and SORT ... STORE beside the stream (issue 15 names all three).
    let (geo, list) = (format!("{key}:geo"), format!("{key}:list"));
    for i in 0..50 {
        let lon = format!("{}", 13.0 + f64::from(i) * 0.01);
        let lat = format!("{}", 38.0 - f64::from(i) * 0.01);
        m.call(&["GEOADD", &geo, &lon, &lat, &format!("p{i}")]);
        m.call(&["RPUSH", &list, &((i * 37) % 101).to_string()]);
    }
    let stored = format!("{key}:near");
    let near = m.call(&[
        "GEOSEARCHSTORE",
        &stored,
        &geo,
        "FROMMEMBER",
        "p3",
        "BYRADIUS",
        "20",
        "km",
        "ASC",
        "COUNT",
        "10",
        "STOREDIST",
    ]);
    assert_eq!(near, ":10\r\n");
    let sorted = m.call(&[
        "SORT",
        &list,
        "DESC",
        "LIMIT",
        "0",
        "20",
        "STORE",
        &format!("{key}:sorted"),
    ]);
    assert_eq!(sorted, ":20\r\n");
}

/// What replicas must agree on: groups, and each pending entry's owner
/// and delivery count (idle times depend on when they are read).
fn groups_and_pending(r: &mut Raw, key: &str) -> (String, String, Vec<String>) {
    let groups = r.call(&["XINFO", "GROUPS", key]);
    let summary = r.call(&["XPENDING", key, "g1"]);
    let ext = r.call(&["XPENDING", key, "g1", "-", "+", "1000"]);
    // Drop the idle field (the third of each entry).
    let lines: Vec<&str> = ext.split("\r\n").collect();
    let mut kept = Vec::new();
    let mut i = 1;
    while i + 7 < lines.len() {
        // *4, $n, id, $n, consumer, :idle, :count
        kept.push(format!(
            "{} {} {}",
            lines[i + 2],
            lines[i + 4],
            lines[i + 6]
        ));
        i += 7;
    }
    (groups, summary, kept)
}

#[test]
fn relica_replica_of_redis_master_with_streams() {
    let master = Server::redis(&["--repl-diskless-sync", "no"]);
    let mut m = master.raw();
    stream_dataset(&mut m, "s");
    let replica = Server::start(&[]);
    let mut r = replica.raw();
    assert_eq!(
        r.call(&["REPLICAOF", "127.0.0.1", &master.port.to_string()]),
        "+OK\r\n"
    );
    // Writes during the full sync.
    stream_dataset(&mut m, "during");
    wait_up(&mut r);
    m.call(&["XADD", "s", "MAXLEN", "~", "100", "*", "a", "1"]);
    // (A history read does not propagate the consumer it creates, in
    // Redis too: the consumer's first read is of new entries.)
    m.call(&["XADD", "s", "*", "a", "2"]);
    m.call(&[
        "XREADGROUP",
        "GROUP",
        "g2",
        "frank",
        "NOACK",
        "STREAMS",
        "s",
        ">",
    ]);
    m.call(&["XAUTOCLAIM", "s", "g1", "zed", "0", "0", "COUNT", "4"]);
    m.call(&["XTRIM", "s", "MINID", "~", "50"]);
    m.call(&["XSETID", "s", "99999999999999-0"]);
    wait_same_digest(&mut m, &mut r);
    assert_eq!(m.call(&["WAIT", "1", "5000"]), ":1\r\n");
    for key in ["s", "during"] {
        assert_eq!(
            groups_and_pending(&mut m, key),
            groups_and_pending(&mut r, key)
        );
        assert_eq!(
            m.call(&["XINFO", "STREAM", key]),
            r.call(&["XINFO", "STREAM", key])
        );
    }
    // Promoted, it keeps every group and pending list.
    assert_eq!(r.call(&["REPLICAOF", "NO", "ONE"]), "+OK\r\n");
    assert_eq!(
        groups_and_pending(&mut m, "s"),
        groups_and_pending(&mut r, "s")
    );
    assert!(r
        .call(&["XREADGROUP", "GROUP", "g1", "alice", "STREAMS", "s", "0"])
        .starts_with("*1\r\n"));
}

#[test]
fn redis_replica_of_relica_master_with_streams() {
    let master = Server::start(&["--repl-diskless-sync", "no"]);
    let mut m = master.raw();
    stream_dataset(&mut m, "s");
    let replica = Server::redis(&[]);
    let mut r = replica.raw();
    assert_eq!(
        r.call(&["REPLICAOF", "127.0.0.1", &master.port.to_string()]),
        "+OK\r\n"
    );
    stream_dataset(&mut m, "during");
    wait_up(&mut r);
    m.call(&["XADD", "s", "MAXLEN", "~", "100", "*", "a", "1"]);
    // (A history read does not propagate the consumer it creates, in
    // Redis too: the consumer's first read is of new entries.)
    m.call(&[
        "XREADGROUP",
        "GROUP",
        "g2",
        "frank",
        "NOACK",
        "STREAMS",
        "s",
        ">",
    ]);
    m.call(&["XAUTOCLAIM", "s", "g1", "zed", "0", "0", "COUNT", "4"]);
    m.call(&[
        "XCLAIM", "s", "g1", "yan", "0", "7-1", "8-1", "IDLE", "5000",
    ]);
    m.call(&["XTRIM", "s", "MINID", "~", "50"]);
    wait_same_digest(&mut m, &mut r);
    for key in ["s", "during"] {
        assert_eq!(
            groups_and_pending(&mut m, key),
            groups_and_pending(&mut r, key)
        );
        assert_eq!(
            m.call(&["XINFO", "STREAM", key]),
            r.call(&["XINFO", "STREAM", key])
        );
    }
}

/// RDB files and DUMP payloads with streams go both ways.
#[test]
fn stream_rdb_and_dump_interchange() {
    let ours = Server::start(&[]);
    let theirs = Server::redis(&[]);
    let (mut a, mut b) = (ours.raw(), theirs.raw());
    stream_dataset(&mut a, "s");
    stream_dataset(&mut b, "s");
    a.call(&["XADD", "empty", "1-0", "f", "v"]);
    a.call(&["XDEL", "empty", "1-0"]);
    b.call(&["XADD", "empty", "1-0", "f", "v"]);
    b.call(&["XDEL", "empty", "1-0"]);
    // DUMP from each restores in the other.
    for key in ["s", "empty"] {
        a.cmd(&[b"DUMP", key.as_bytes()]);
        b.cmd(&[b"DUMP", key.as_bytes()]);
        let (da, db) = (a.reply(), b.reply());
        let payload = |d: &[u8]| -> Vec<u8> {
            let nl = d.windows(2).position(|w| w == b"\r\n").unwrap();
            d[nl + 2..d.len() - 2].to_vec()
        };
        let (pa, pb) = (payload(&da), payload(&db));
        a.cmd(&[b"RESTORE", b"fromredis", b"0", &pb, b"REPLACE"]);
        assert_eq!(a.reply_str(), "+OK\r\n");
        b.cmd(&[b"RESTORE", b"fromrelica", b"0", &pa, b"REPLACE"]);
        assert_eq!(b.reply_str(), "+OK\r\n");
        assert_eq!(
            a.call(&["DEBUG", "DIGEST-VALUE", "fromredis"]),
            b.call(&["DEBUG", "DIGEST-VALUE", key])
        );
        assert_eq!(
            b.call(&["DEBUG", "DIGEST-VALUE", "fromrelica"]),
            a.call(&["DEBUG", "DIGEST-VALUE", key])
        );
        assert_eq!(
            a.call(&["XINFO", "STREAM", "fromredis"]),
            b.call(&["XINFO", "STREAM", "fromrelica"])
        );
    }
    // Our RDB file loads in redis-server, and theirs in ours.
    assert_eq!(a.call(&["SAVE"]), "+OK\r\n");
    assert_eq!(b.call(&["SAVE"]), "+OK\r\n");
    let digest_a = a.call(&["DEBUG", "DIGEST"]);
    let digest_b = b.call(&["DEBUG", "DIGEST"]);
    let groups_a = a.call(&["XINFO", "GROUPS", "s"]);
    let file_a = ours.dir.path().join("dump.rdb");
    let file_b = theirs.dir.path().join("dump.rdb");
    let check = std::process::Command::new("redis-check-rdb")
        .arg(&file_a)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&check.stdout);
    assert!(text.contains("RDB looks OK!"), "{text}");
    let tmp = tempdir();
    std::fs::copy(&file_a, tmp.join("a.rdb")).unwrap();
    std::fs::copy(&file_b, tmp.join("b.rdb")).unwrap();
    drop((a, b));
    drop(ours);
    drop(theirs);
    let t = tmp.to_string_lossy().into_owned();
    let redis_loads_ours = Server::redis(&["--dir", &t, "--dbfilename", "a.rdb"]);
    let relica_loads_theirs = Server::start(&["--dir", &t, "--dbfilename", "b.rdb"]);
    let (mut x, mut y) = (redis_loads_ours.raw(), relica_loads_theirs.raw());
    wait_for("loaded", Duration::from_secs(30), || {
        x.call(&["PING"]) == "+PONG\r\n" && y.call(&["PING"]) == "+PONG\r\n"
    });
    assert_eq!(x.call(&["DEBUG", "DIGEST"]), digest_a);
    assert_eq!(y.call(&["DEBUG", "DIGEST"]), digest_b);
    assert_eq!(x.call(&["XINFO", "GROUPS", "s"]), groups_a);
}

fn tempdir() -> std::path::PathBuf {
    let p = std::env::temp_dir().join(format!(
        "relica-streams-{}-{}",
        std::process::id(),
        crate::util::free_port()
    ));
    std::fs::create_dir_all(&p).unwrap();
    p
}
