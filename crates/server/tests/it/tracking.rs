//! Client-side caching (CLIENT TRACKING) and sharded pub/sub, side by side
//! with a real redis-server: the same commands on several connections to
//! each, every reply and every pushed message compared byte for byte.
//! Client ids differ between the two servers, so REDIRECT takes each
//! side's own id.

use std::time::Duration;

use crate::util::{wait_for, Raw, Server};

/// The same connections to relica and to redis-server.
struct Pair {
    ours: Vec<Raw>,
    theirs: Vec<Raw>,
    ids: Vec<(String, String)>,
    _servers: (Server, Server),
}

impl Pair {
    fn start(conns: usize) -> Pair {
        let a = Server::start(&[]);
        let b = Server::redis(&[]);
        let mut p = Pair {
            ours: (0..conns).map(|_| a.raw()).collect(),
            theirs: (0..conns).map(|_| b.raw()).collect(),
            ids: Vec::new(),
            _servers: (a, b),
        };
        for i in 0..conns {
            let ours = p.ours[i].call(&["CLIENT", "ID"]);
            let theirs = p.theirs[i].call(&["CLIENT", "ID"]);
            let id = |s: &str| s.trim_start_matches(':').trim().to_string();
            p.ids.push((id(&ours), id(&theirs)));
        }
        p
    }

    /// Send a command on connection `i` of both servers without reading.
    fn send(&mut self, i: usize, args: &[&str]) {
        let v: Vec<&[u8]> = args.iter().map(|a| a.as_bytes()).collect();
        self.ours[i].cmd(&v);
        self.theirs[i].cmd(&v);
    }

    /// Read one reply (or push) on connection `i` of both; they must be
    /// identical.
    fn read(&mut self, i: usize) -> String {
        let a = self.ours[i].reply_str();
        let b = self.theirs[i].reply_str();
        assert_eq!(a, b, "relica and redis-server differ on connection {i}");
        a
    }

    /// Run a command on connection `i` of both and compare the replies.
    fn same(&mut self, i: usize, args: &[&str]) -> String {
        self.send(i, args);
        self.read(i)
    }

    /// As `same`, with `{id:j}` in the arguments replaced by each server's
    /// id of connection `j`.
    fn same_with_id(&mut self, i: usize, args: &[&str], j: usize) -> String {
        let (ours_id, theirs_id) = self.ids[j].clone();
        let sub = |id: &str| -> Vec<String> {
            args.iter()
                .map(|a| {
                    if *a == "{id}" {
                        id.to_string()
                    } else {
                        a.to_string()
                    }
                })
                .collect()
        };
        let (a, b) = (sub(&ours_id), sub(&theirs_id));
        let a: Vec<&str> = a.iter().map(String::as_str).collect();
        let b: Vec<&str> = b.iter().map(String::as_str).collect();
        let a = self.ours[i].call(&a);
        let b = self.theirs[i].call(&b);
        assert_eq!(a, b, "relica and redis-server differ on {args:?}");
        a
    }

    /// HELLO 3 on connection `i` of both (the replies carry the ids, so
    /// they are not compared).
    fn hello3(&mut self, i: usize) {
        self.send(i, &["HELLO", "3"]);
        self.ours[i].reply();
        self.theirs[i].reply();
    }

    /// Nothing more arrives on connection `i` of either server.
    fn quiet(&mut self, i: usize) {
        assert!(
            self.ours[i].quiet_for(Duration::from_millis(150)),
            "relica sent connection {i} something more"
        );
        assert!(
            self.theirs[i].quiet_for(Duration::from_millis(150)),
            "redis-server sent connection {i} something more"
        );
    }
}

/// `>2 invalidate [keys]` as RESP3 writes it.
fn push(keys: &[&str]) -> String {
    let mut s = format!(">2\r\n$10\r\ninvalidate\r\n*{}\r\n", keys.len());
    for k in keys {
        s.push_str(&format!("${}\r\n{}\r\n", k.len(), k));
    }
    s
}

/// An invalidation as a RESP2 message of `__redis__:invalidate`.
fn message(keys: &[&str]) -> String {
    let mut s = format!(
        "*3\r\n$7\r\nmessage\r\n$20\r\n__redis__:invalidate\r\n*{}\r\n",
        keys.len()
    );
    for k in keys {
        s.push_str(&format!("${}\r\n{}\r\n", k.len(), k));
    }
    s
}

#[test]
fn resp3_client_gets_invalidations_after_its_replies() {
    // 0: the tracking client (RESP3), 1: a writer.
    let mut p = Pair::start(2);
    p.hello3(0);
    assert_eq!(p.same(0, &["CLIENT", "TRACKING", "on"]), "+OK\r\n");
    p.same(1, &["MSET", "a", "1", "b", "2", "c", "3"]);
    p.same(0, &["MGET", "a", "b"]);
    p.same(1, &["SET", "a", "10"]);
    assert_eq!(p.read(0), push(&["a"]));
    // Invalidated once: the key left the table.
    p.same(1, &["SET", "a", "11"]);
    p.same(1, &["INCR", "c"]);
    p.same(1, &["DEL", "b"]);
    assert_eq!(p.read(0), push(&["b"]));
    p.quiet(0);

    // The client's own write: the push follows the reply.
    p.same(0, &["HSET", "h", "f", "1"]);
    p.same(0, &["HGET", "h", "f"]);
    p.send(0, &["HDEL", "h", "f"]);
    assert_eq!(p.read(0), ":1\r\n");
    assert_eq!(p.read(0), push(&["h"]));

    // Inside MULTI/EXEC: after EXEC's reply.
    p.same(0, &["GET", "a"]);
    p.same(0, &["MULTI"]);
    p.same(0, &["INCR", "a"]);
    p.same(0, &["GET", "c"]);
    p.send(0, &["EXEC"]);
    assert_eq!(p.read(0), "*2\r\n:12\r\n$1\r\n4\r\n");
    assert_eq!(p.read(0), push(&["a"]));

    // A script's write of a key it read through the caller's tracking.
    p.same(0, &["GET", "a"]);
    p.send(0, &["EVAL", "return redis.call('incr', KEYS[1])", "1", "a"]);
    assert_eq!(p.read(0), ":13\r\n");
    assert_eq!(p.read(0), push(&["a"]));

    // A script that reads makes its caller cache the declared keys.
    p.same(
        0,
        &["EVAL", "return redis.call('get', 'zz')", "2", "k1", "k2"],
    );
    p.same(1, &["MSET", "k2", "x", "k1", "y"]);
    assert_eq!(p.read(0), push(&["k2"]));
    assert_eq!(p.read(0), push(&["k1"]));

    // Lazy expiry while reading: after the reply.
    p.same(0, &["DEBUG", "SET-ACTIVE-EXPIRE", "0"]);
    // Set and read in one transaction, which sees one clock.
    p.same(0, &["MULTI"]);
    p.same(0, &["SET", "e", "v", "PX", "1"]);
    p.same(0, &["GET", "e"]);
    p.same(0, &["EXEC"]);
    std::thread::sleep(Duration::from_millis(20));
    p.send(0, &["GET", "e"]);
    assert_eq!(p.read(0), "_\r\n");
    assert_eq!(p.read(0), push(&["e"]));
    p.same(0, &["DEBUG", "SET-ACTIVE-EXPIRE", "1"]);

    // FLUSHALL: a null for everything.
    p.same(0, &["GET", "a"]);
    p.same(1, &["FLUSHALL"]);
    assert_eq!(p.read(0), ">2\r\n$10\r\ninvalidate\r\n_\r\n");
    p.send(0, &["FLUSHDB"]);
    assert_eq!(p.read(0), "+OK\r\n");
    assert_eq!(p.read(0), ">2\r\n$10\r\ninvalidate\r\n_\r\n");
    p.quiet(0);
}

#[test]
fn optin_optout_noloop_and_their_errors() {
    let mut p = Pair::start(2);
    p.hello3(0);
    for cmd in [
        &["CLIENT", "CACHING", "yes"][..],
        &["CLIENT", "TRACKING", "on", "PREFIX", "a"],
        &["CLIENT", "TRACKING", "on", "BCAST", "OPTIN"],
        &["CLIENT", "TRACKING", "on", "OPTIN", "OPTOUT"],
        &["CLIENT", "TRACKING", "on", "REDIRECT", "0"],
        &["CLIENT", "TRACKING", "on", "REDIRECT", "x"],
        &["CLIENT", "TRACKING", "on", "REDIRECT", "999999"],
        &["CLIENT", "TRACKING", "maybe"],
        &["CLIENT", "TRACKING", "on", "FOO"],
        &[
            "CLIENT", "TRACKING", "on", "BCAST", "PREFIX", "ab", "PREFIX", "a",
        ],
        &[
            "CLIENT", "TRACKING", "on", "BCAST", "PREFIX", "a", "PREFIX", "ab",
        ],
        &["CLIENT", "GETREDIR"],
        &["CLIENT", "TRACKINGINFO"],
        &["CLIENT", "TRACKING", "on", "OPTIN"],
        &["CLIENT", "TRACKING", "on", "OPTOUT"],
        &["CLIENT", "TRACKING", "on", "BCAST"],
        &["CLIENT", "CACHING", "no"],
        &["CLIENT", "CACHING", "maybe"],
        &["CLIENT", "TRACKINGINFO"],
        &["CLIENT", "GETREDIR"],
    ] {
        p.same(0, cmd);
    }
    // OPTIN: only what is read right after CACHING yes.
    p.same(1, &["MSET", "x", "1", "y", "2"]);
    p.same(0, &["GET", "x"]);
    p.same(0, &["CLIENT", "CACHING", "yes"]);
    p.same(0, &["CLIENT", "TRACKINGINFO"]);
    p.same(0, &["GET", "y"]);
    p.same(0, &["CLIENT", "TRACKINGINFO"]);
    p.same(1, &["MSET", "x", "3", "y", "4"]);
    assert_eq!(p.read(0), push(&["y"]));
    p.quiet(0);
    // OPTOUT: everything but what is read right after CACHING no.
    p.same(0, &["CLIENT", "TRACKING", "off"]);
    p.same(0, &["CLIENT", "TRACKING", "on", "OPTOUT", "NOLOOP"]);
    p.same(0, &["CLIENT", "TRACKINGINFO"]);
    p.same(0, &["CLIENT", "CACHING", "no"]);
    p.same(0, &["GET", "x"]);
    p.same(0, &["GET", "y"]);
    p.same(0, &["SET", "y", "own"]); // NOLOOP: no push for our own write
    p.same(0, &["GET", "y"]);
    p.same(1, &["MSET", "x", "5", "y", "6"]);
    assert_eq!(p.read(0), push(&["y"]));
    p.quiet(0);
    p.same(0, &["CLIENT", "TRACKING", "off"]);
    p.same(0, &["CLIENT", "TRACKINGINFO"]);
}

#[test]
fn redirect_to_a_resp2_subscriber_and_bcast_prefixes() {
    // 0: tracking client (RESP2), 1: writer, 2: the redirect target.
    let mut p = Pair::start(3);
    p.same(2, &["SUBSCRIBE", "__redis__:invalidate"]);
    assert_eq!(
        p.same_with_id(0, &["CLIENT", "TRACKING", "on", "REDIRECT", "{id}"], 2),
        "+OK\r\n"
    );
    p.same(1, &["SET", "k", "1"]);
    p.same(0, &["GET", "k"]);
    p.same(1, &["SET", "k", "2"]);
    assert_eq!(p.read(2), message(&["k"]));
    // A RESP2 client's own write, redirected: the target gets it.
    p.same(0, &["GET", "k"]);
    p.same(0, &["SET", "k", "3"]);
    assert_eq!(p.read(2), message(&["k"]));

    // BCAST: switching needs tracking off first.
    p.same_with_id(
        0,
        &["CLIENT", "TRACKING", "on", "BCAST", "REDIRECT", "{id}"],
        2,
    );
    p.same(0, &["CLIENT", "TRACKING", "off"]);
    p.same_with_id(
        0,
        &[
            "CLIENT", "TRACKING", "on", "BCAST", "REDIRECT", "{id}", "PREFIX", "a:", "PREFIX", "b:",
        ],
        2,
    );
    p.same(0, &["CLIENT", "TRACKING", "on", "BCAST", "PREFIX", "a"]);
    let info = p.ours[0].call(&["CLIENT", "TRACKINGINFO"]);
    assert!(
        info.ends_with("$8\r\nprefixes\r\n*2\r\n$2\r\na:\r\n$2\r\nb:\r\n"),
        "{info}"
    );
    // One array per prefix, keys in order, once per command batch.
    p.same(1, &["MSET", "a:2", "1", "b:1", "1", "a:1", "1", "c:1", "1"]);
    assert_eq!(p.read(2), message(&["a:1", "a:2"]));
    assert_eq!(p.read(2), message(&["b:1"]));
    p.same(1, &["INCR", "c:2"]);
    p.quiet(2);
    assert_eq!(p.ours[0].info_field("tracking_total_prefixes"), "2");
    assert_eq!(p.ours[0].info_field("tracking_clients"), "1");

    // The target leaves: a RESP3 client learns the redirect broke.
    p.same(0, &["CLIENT", "TRACKING", "off"]);
    p.hello3(0);
    p.same_with_id(0, &["CLIENT", "TRACKING", "on", "REDIRECT", "{id}"], 2);
    p.same(0, &["GET", "k"]);
    p.same(2, &["QUIT"]);
    for raw in [&mut p.ours[1], &mut p.theirs[1]] {
        wait_for(
            "the redirect target to leave",
            Duration::from_secs(10),
            || raw.call(&["CLIENT", "LIST"]).matches("id=").count() == 2,
        );
    }
    p.same(1, &["SET", "k", "4"]);
    let broken = |id: &str| format!(">2\r\n$21\r\ntracking-redir-broken\r\n:{id}\r\n");
    assert_eq!(p.ours[0].reply_str(), broken(&p.ids[2].0));
    assert_eq!(p.theirs[0].reply_str(), broken(&p.ids[2].1));
    let info = p.ours[0].call(&["CLIENT", "TRACKINGINFO"]);
    assert!(info.contains("broken_redirect"), "{info}");
    let line = p.ours[0].call(&["CLIENT", "INFO"]);
    assert!(line.contains(" flags=tR "), "{line}");
    assert!(line.contains(&format!(" redir={} ", p.ids[2].0)), "{line}");
}

#[test]
fn tracking_table_max_keys_evicts_with_invalidations() {
    let s = Server::start(&[]);
    let mut t = s.raw();
    let mut w = s.raw();
    t.call(&["HELLO", "3"]);
    t.call(&["CLIENT", "TRACKING", "on"]);
    for i in 0..250 {
        w.call(&["SET", &format!("key{i}"), "v"]);
        t.call(&["GET", &format!("key{i}")]);
    }
    assert_eq!(w.info_field("tracking_total_keys"), "250");
    assert_eq!(w.info_field("tracking_total_items"), "250");
    w.call(&["CONFIG", "SET", "tracking-table-max-keys", "10"]);
    // 240 keys leave the table, each with an invalidation, over a few
    // rounds of growing effort.
    for _ in 0..240 {
        let m = t.reply_str();
        assert!(m.starts_with(">2\r\n$10\r\ninvalidate\r\n*1\r\n"), "{m}");
    }
    assert_eq!(t.call(&["PING"]), "+PONG\r\n");
    assert_eq!(w.info_field("tracking_total_keys"), "10");
    let line = t.call(&["CLIENT", "INFO"]);
    assert!(
        line.contains(" flags=t ") && line.contains(" redir=0 "),
        "{line}"
    );
    t.call(&["CLIENT", "TRACKING", "off"]);
    assert_eq!(w.info_field("tracking_clients"), "0");
}

#[test]
fn sharded_pubsub_as_standalone_redis() {
    let mut p = Pair::start(3);
    p.send(0, &["SSUBSCRIBE", "ch1", "ch2", "ch1"]);
    for _ in 0..3 {
        p.read(0);
    }
    p.hello3(1);
    p.same(1, &["SSUBSCRIBE", "ch1"]);
    p.same(1, &["SUBSCRIBE", "ch1"]);
    assert_eq!(p.same(2, &["SPUBLISH", "ch1", "hi"]), ":2\r\n");
    p.read(0);
    p.read(1);
    assert_eq!(p.same(2, &["PUBLISH", "ch1", "plain"]), ":1\r\n");
    p.read(1);
    p.quiet(0);
    // Channels come in no particular order.
    p.send(2, &["PUBSUB", "SHARDCHANNELS"]);
    let (a, b) = (p.ours[2].reply(), p.theirs[2].reply());
    assert_eq!(crate::util::canon(&a), crate::util::canon(&b));
    for cmd in [
        &["PUBSUB", "SHARDCHANNELS", "ch1*"][..],
        &["PUBSUB", "SHARDCHANNELS", "a", "b"],
        &["PUBSUB", "SHARDNUMSUB", "ch1", "ch2", "nope"],
        &["PUBSUB", "SHARDNUMSUB"],
        &["PUBSUB", "NUMSUB", "ch1"],
        &["PUBSUB", "HELP"],
        &["COMMAND", "GETKEYS", "SPUBLISH", "a", "b"],
        &["SPUBLISH", "a"],
    ] {
        p.same(2, cmd);
    }
    // RESP2 subscribed mode covers shard channels too.
    p.same(0, &["GET", "x"]);
    p.same(0, &["SUNSUBSCRIBE", "ch2"]);
    p.same(0, &["SUNSUBSCRIBE"]);
    p.same(0, &["SUNSUBSCRIBE"]);
    p.same(0, &["GET", "x"]);
    let line = p.ours[1].call(&["CLIENT", "INFO"]);
    assert!(line.contains(" sub=1 psub=0 ssub=1 "), "{line}");
    assert_eq!(p.ours[2].info_field("pubsubshard_channels"), "1");
}

/// Every kind of write invalidates the keys it changes, as in Redis: for
/// each command, a RESP3 tracking client reads the keys, another client
/// runs the command, and what the tracking client receives before its
/// next PONG must be the same on both servers.
#[test]
fn every_write_family_invalidates_like_redis() {
    let mut p = Pair::start(2);
    p.hello3(0);
    p.same(0, &["CLIENT", "TRACKING", "on"]);
    let setup: &[&[&str]] = &[
        &["FLUSHALL"],
        &["SET", "s", "10"],
        &["SET", "s2", "abc"],
        &["RPUSH", "l", "a", "b", "c"],
        &["RPUSH", "l2", "x"],
        &["HSET", "h", "f", "1", "g", "2"],
        &["SADD", "st", "1", "2", "3"],
        &["SADD", "st2", "3", "4"],
        &["ZADD", "z", "1", "a", "2", "b", "3", "c"],
        &["PFADD", "hll", "a"],
        &["SET", "e", "v", "EX", "100"],
    ];
    let writes: &[&[&str]] = &[
        &["APPEND", "s2", "d"],
        &["SETRANGE", "s2", "1", "Z"],
        &["INCRBYFLOAT", "s", "1.5"],
        &["GETDEL", "s2"],
        &["GETEX", "e", "PX", "500000"],
        &["GETEX", "e"],
        &["EXPIRE", "s", "100"],
        &["PERSIST", "s"],
        &["EXPIRE", "s", "-1"],
        &["SETNX", "s2", "q"],
        &["MSETNX", "n1", "a", "n2", "b"],
        &["SETBIT", "s2", "3", "1"],
        &["BITOP", "OR", "dst", "s2", "s2"],
        &["LSET", "l", "0", "z"],
        &["LTRIM", "l", "0", "1"],
        &["LMOVE", "l", "l2", "LEFT", "RIGHT"],
        &["LPUSHX", "l", "y"],
        &["LREM", "l", "0", "nope"],
        &["HINCRBY", "h", "f", "2"],
        &["HSETNX", "h", "f", "9"],
        &["HDEL", "h", "g", "nope"],
        &["SMOVE", "st", "st2", "1"],
        &["SMOVE", "st2", "st", "4"],
        &["SINTERSTORE", "dst", "st", "st2"],
        &["SREM", "st", "nope"],
        &["ZINCRBY", "z", "1", "a"],
        &["ZPOPMIN", "z"],
        &["ZREMRANGEBYSCORE", "z", "0", "2"],
        &["ZUNIONSTORE", "dst", "1", "z"],
        &["GEOADD", "g", "13.361389", "38.115556", "Palermo"],
        &["PFADD", "hll", "b"],
        &["PFADD", "hll", "b"],
        &["SORT", "l2", "ALPHA", "STORE", "dst"],
        &["RENAME", "l2", "l3"],
        &["COPY", "l3", "dst", "REPLACE"],
        &["MOVE", "l3", "1"],
        &["UNLINK", "dst", "nope"],
        &["DEL", "hll"],
        &["TOUCH", "s"],
        &["EVAL", "redis.call('set', KEYS[1], 'x') return 1", "1", "s"],
    ];
    let read_keys = [
        "s", "s2", "l", "l2", "l3", "h", "st", "st2", "z", "hll", "e", "n1", "n2", "dst", "g",
    ];
    let mut pushes = 0;
    for w in writes {
        for s in setup {
            p.same(1, s);
        }
        // Drain what the setup sent (FLUSHALL's null and the like).
        p.send(0, &["PING"]);
        while p.read(0) != "+PONG\r\n" {}
        for k in read_keys {
            p.send(0, &["TYPE", k]);
            p.read(0);
            // TYPE does not track (not a read of the value); DUMP does.
            p.send(0, &["EXISTS", k]);
            p.read(0);
            p.send(0, &["DUMP", k]);
            let (a, b) = (p.ours[0].reply(), p.theirs[0].reply());
            assert_eq!(a.is_empty(), b.is_empty());
        }
        p.same(1, w);
        p.send(0, &["PING"]);
        let mut got = Vec::new();
        loop {
            let r = p.read(0);
            if r == "+PONG\r\n" {
                break;
            }
            got.push(r);
        }
        pushes += got.len();
    }
    assert!(pushes >= 30, "only {pushes} invalidations");
}
