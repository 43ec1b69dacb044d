//! Transactions, pub/sub, keyspace notifications, MONITOR, CLIENT PAUSE,
//! the unix socket and daemonize: behaviour checked against what Redis 7.0
//! answers, byte for byte where it matters.

use std::io::Read;
use std::time::Duration;

use crate::util::{wait_for, Diff, Raw, Server};

const T: Duration = Duration::from_secs(20);

#[test]
fn transactions_match_redis() {
    let mut d = Diff::start(&[]);
    for cmd in [
        &["MULTI"][..],
        &["SET", "a", "1"],
        &["INCR", "a"],
        &["LPUSH", "a", "x"], // runtime error inside EXEC: the rest still runs
        &["GET", "a"],
        &["EXEC"],
        &["EXEC"],
        &["DISCARD"],
        &["MULTI"],
        &["MULTI"],
        &["SET", "b"], // arity error: EXEC aborts
        &["SET", "b", "2"],
        &["EXEC"],
        &["GET", "b"],
        &["MULTI"],
        &["NOSUCHCOMMAND"],
        &["EXEC"],
        &["MULTI"],
        &["WATCH", "a"],
        &["DISCARD"],
        &["WATCH", "a"],
        &["MULTI"],
        &["PING"],
        &["EXEC"],
    ] {
        d.same_str(cmd);
    }
}

#[test]
fn watch_is_invalidated_by_others_expiry_flush_and_swapdb() {
    let s = Server::start(&[]);
    let mut a = s.raw();
    let mut b = s.raw();
    // Another client's write.
    a.call(&["SET", "k", "1"]);
    a.call(&["WATCH", "k"]);
    b.call(&["SET", "k", "2"]);
    a.call(&["MULTI"]);
    a.call(&["SET", "k", "3"]);
    assert_eq!(a.call(&["EXEC"]), "*-1\r\n");
    assert_eq!(a.call(&["GET", "k"]), "$1\r\n2\r\n");
    // Untouched: EXEC runs.
    a.call(&["WATCH", "k"]);
    a.call(&["MULTI"]);
    a.call(&["SET", "k", "3"]);
    assert_eq!(a.call(&["EXEC"]), "*1\r\n+OK\r\n");
    // Expiry of a watched key.
    a.call(&["SET", "e", "1", "PX", "30"]);
    a.call(&["WATCH", "e"]);
    wait_for("expired", T, || b.call(&["EXISTS", "e"]) == ":0\r\n");
    a.call(&["MULTI"]);
    a.call(&["PING"]);
    assert_eq!(a.call(&["EXEC"]), "*-1\r\n");
    // FLUSHALL and SWAPDB.
    for breaker in [&["FLUSHALL"][..], &["SWAPDB", "0", "1"]] {
        a.call(&["SET", "w", "1"]);
        a.call(&["WATCH", "w"]);
        b.call(breaker);
        a.call(&["MULTI"]);
        a.call(&["PING"]);
        assert_eq!(a.call(&["EXEC"]), "*-1\r\n", "{breaker:?}");
    }
}

#[test]
fn pubsub_resp2_and_resp3() {
    let s = Server::start(&[]);
    let mut sub = s.raw();
    let mut p = s.raw();
    assert_eq!(
        sub.call(&["SUBSCRIBE", "news", "other"]),
        "*3\r\n$9\r\nsubscribe\r\n$4\r\nnews\r\n:1\r\n"
    );
    assert_eq!(
        sub.reply_str(),
        "*3\r\n$9\r\nsubscribe\r\n$5\r\nother\r\n:2\r\n"
    );
    assert_eq!(
        sub.call(&["PSUBSCRIBE", "n*"]),
        "*3\r\n$10\r\npsubscribe\r\n$2\r\nn*\r\n:3\r\n"
    );
    // RESP2 subscribed mode refuses other commands.
    assert_eq!(
        sub.call(&["GET", "x"]),
        "-ERR Can't execute 'get': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in this context\r\n"
    );
    assert_eq!(sub.call(&["PING"]), "*2\r\n$4\r\npong\r\n$0\r\n\r\n");
    assert_eq!(p.call(&["PUBLISH", "news", "hi"]), ":2\r\n");
    assert_eq!(
        sub.reply_str(),
        "*3\r\n$7\r\nmessage\r\n$4\r\nnews\r\n$2\r\nhi\r\n"
    );
    assert_eq!(
        sub.reply_str(),
        "*4\r\n$8\r\npmessage\r\n$2\r\nn*\r\n$4\r\nnews\r\n$2\r\nhi\r\n"
    );
    assert_eq!(
        p.call(&["PUBSUB", "CHANNELS"]),
        p.call(&["PUBSUB", "CHANNELS", "*"])
    );
    assert_eq!(
        p.call(&["PUBSUB", "NUMSUB", "news", "none"]),
        "*4\r\n$4\r\nnews\r\n:1\r\n$4\r\nnone\r\n:0\r\n"
    );
    assert_eq!(p.call(&["PUBSUB", "NUMPAT"]), ":1\r\n");
    assert_eq!(
        sub.call(&["UNSUBSCRIBE", "news"]),
        "*3\r\n$11\r\nunsubscribe\r\n$4\r\nnews\r\n:2\r\n"
    );
    // RESP3: push messages, and normal commands allowed.
    let mut s3 = s.raw();
    assert!(s3.call(&["HELLO", "3"]).starts_with('%'));
    assert_eq!(
        s3.call(&["SUBSCRIBE", "c3"]),
        ">3\r\n$9\r\nsubscribe\r\n$2\r\nc3\r\n:1\r\n"
    );
    assert_eq!(s3.call(&["SET", "x", "1"]), "+OK\r\n");
    p.call(&["PUBLISH", "c3", "m"]);
    assert_eq!(
        s3.reply_str(),
        ">3\r\n$7\r\nmessage\r\n$2\r\nc3\r\n$1\r\nm\r\n"
    );
}

#[test]
fn slow_subscriber_is_disconnected_at_the_pubsub_limit() {
    let s = Server::start(&["--client-output-buffer-limit", "pubsub 64kb 0 0"]);
    let mut sub = s.raw();
    sub.call(&["SUBSCRIBE", "flood"]);
    let mut p = s.raw();
    let big = "z".repeat(50_000);
    // The subscriber never reads: its output grows until the hard limit.
    wait_for("subscriber dropped", T, || {
        p.call(&["PUBLISH", "flood", &big]);
        p.call(&["PUBSUB", "NUMSUB", "flood"]).ends_with(":0\r\n")
    });
    assert!(s
        .log_text()
        .contains("scheduled to be closed ASAP for overcoming of output buffer limits"));
}

// Over the soft limit for longer than allowed, a subscriber is dropped even
// when nothing more is published (Redis's clientsCron).
#[test]
fn soft_limit_is_enforced_without_more_output() {
    let s = Server::start(&["--client-output-buffer-limit", "pubsub 0 100kb 1"]);
    let mut sub = s.raw();
    sub.call(&["SUBSCRIBE", "flood"]);
    let mut p = s.raw();
    let big = "z".repeat(1 << 20);
    // Until the socket buffers are full and relica itself holds well over
    // the limit (the kernel can no longer take it off its hands).
    wait_for("queue over the soft limit", T, || {
        p.call(&["PUBLISH", "flood", &big]);
        let list = p.call(&["CLIENT", "LIST"]);
        list.lines()
            .filter(|l| l.contains("sub=1"))
            .filter_map(|l| {
                l.split("omem=")
                    .nth(1)?
                    .split(' ')
                    .next()?
                    .parse::<u64>()
                    .ok()
            })
            .any(|omem| omem > 2 << 20)
    });
    // Nothing more is published: only the cron can drop it now.
    wait_for("subscriber dropped", T, || {
        p.call(&["PUBSUB", "NUMSUB", "flood"]).ends_with(":0\r\n")
    });
    assert!(s
        .log_text()
        .contains("scheduled to be closed ASAP for overcoming of output buffer limits"));
}

#[test]
fn keyspace_notifications() {
    let s = Server::start(&[]);
    let mut sub = s.raw();
    let mut c = s.raw();
    c.call(&["CONFIG", "SET", "notify-keyspace-events", "KEA"]);
    sub.call(&["PSUBSCRIBE", "__key*__:*"]);
    c.call(&["SET", "k", "v"]);
    assert_eq!(
        sub.reply_str(),
        "*4\r\n$8\r\npmessage\r\n$10\r\n__key*__:*\r\n$16\r\n__keyspace@0__:k\r\n$3\r\nset\r\n"
    );
    assert_eq!(
        sub.reply_str(),
        "*4\r\n$8\r\npmessage\r\n$10\r\n__key*__:*\r\n$18\r\n__keyevent@0__:set\r\n$1\r\nk\r\n"
    );
    c.call(&["RPUSH", "l", "a"]);
    assert!(sub.reply_str().ends_with("$5\r\nrpush\r\n"));
    assert!(sub.reply_str().ends_with("$1\r\nl\r\n"));
    c.call(&["SET", "t", "1", "PX", "20"]);
    // SET with an expire sends set, then expire (space and event each).
    let evs: Vec<String> = (0..4).map(|_| sub.reply_str()).collect();
    assert!(evs[0].ends_with("$3\r\nset\r\n"), "{evs:?}");
    assert!(evs[2].ends_with("$6\r\nexpire\r\n"), "{evs:?}");
    // Expired events come from the active cycle without anyone reading.
    let ev = sub.reply_str();
    assert!(
        ev.contains("__keyspace@0__:t") && ev.ends_with("$7\r\nexpired\r\n"),
        "{ev}"
    );
}

#[test]
fn monitor_shows_commands() {
    let s = Server::start(&[]);
    let mut m = s.raw();
    assert_eq!(m.call(&["MONITOR"]), "+OK\r\n");
    let mut c = s.raw();
    c.call(&["SET", "mk", "with space"]);
    let line = m.reply_str();
    assert!(line.starts_with('+'), "{line}");
    assert!(
        line.contains("[0 127.0.0.1:") && line.ends_with("\"SET\" \"mk\" \"with space\"\r\n"),
        "{line}"
    );
    // Admin commands are not shown (Redis hides CONFIG and friends).
    c.call(&["CONFIG", "GET", "port"]);
    c.call(&["GET", "mk"]);
    assert!(m.reply_str().ends_with("\"GET\" \"mk\"\r\n"));
}

#[test]
fn client_pause_write_blocks_writes_only() {
    let s = Server::start(&[]);
    let mut admin = s.raw();
    let mut c = s.raw();
    assert_eq!(
        admin.call(&["CLIENT", "PAUSE", "100000", "WRITE"]),
        "+OK\r\n"
    );
    assert_eq!(c.call(&["GET", "x"]), "$-1\r\n");
    c.cmd(&[b"SET", b"x", b"1"]);
    // The write waits, counted as a blocked client as in Redis.
    wait_for("paused write", Duration::from_secs(20), || {
        admin.info_field("blocked_clients") == "1"
    });
    assert_eq!(admin.call(&["GET", "x"]), "$-1\r\n");
    assert_eq!(admin.call(&["CLIENT", "UNPAUSE"]), "+OK\r\n");
    assert_eq!(c.reply_str(), "+OK\r\n");
    assert_eq!(c.call(&["GET", "x"]), "$1\r\n1\r\n");
    assert_eq!(admin.info_field("blocked_clients"), "0");
}

// CLIENT PAUSE holds expiry too: keys past their time read as missing but
// are deleted (and counted) only once the pause is over.
#[test]
fn client_pause_holds_active_and_passive_expiry() {
    let s = Server::start(&[]);
    let mut r = s.raw();
    r.call(&["SET", "foo", "bar", "PX", "10"]);
    r.call(&["SET", "baz", "qux", "PX", "10"]);
    assert_eq!(r.call(&["CLIENT", "PAUSE", "100000", "WRITE"]), "+OK\r\n");
    // The two keys were set a moment apart: wait for both.
    wait_for("logically expired", Duration::from_secs(20), || {
        r.call(&["GET", "foo"]) == "$-1\r\n" && r.call(&["EXISTS", "baz"]) == ":0\r\n"
    });
    assert_eq!(r.info_field("expired_keys"), "0");
    assert_eq!(r.call(&["DBSIZE"]), ":2\r\n");
    assert_eq!(r.call(&["CLIENT", "UNPAUSE"]), "+OK\r\n");
    r.call(&["GET", "foo"]);
    wait_for("expired after the pause", Duration::from_secs(20), || {
        r.info_field("expired_keys") == "2"
    });
    assert_eq!(r.call(&["DBSIZE"]), ":0\r\n");
}

#[test]
fn unix_socket_and_daemonize_with_pidfile() {
    let dir = tempfile::tempdir().unwrap();
    let sock = dir.path().join("relica.sock");
    let pidfile = dir.path().join("relica.pid");
    let log = dir.path().join("d.log");
    let port = crate::util::free_port();
    let status = std::process::Command::new(env!("CARGO_BIN_EXE_relica-server"))
        .args([
            "--port",
            &port.to_string(),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
        ])
        .args(["--daemonize", "yes"])
        .args([
            "--unixsocket",
            sock.to_str().unwrap(),
            "--unixsocketperm",
            "700",
        ])
        .args(["--pidfile", pidfile.to_str().unwrap()])
        .args(["--logfile", log.to_str().unwrap()])
        .args(["--dir", dir.path().to_str().unwrap()])
        .status()
        .unwrap();
    assert!(status.success(), "the launching process exits at once");
    wait_for("pidfile", T, || {
        std::fs::read_to_string(&pidfile).is_ok_and(|p| p.trim().parse::<u32>().is_ok())
    });
    let pid: i32 = std::fs::read_to_string(&pidfile)
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    struct Stop(i32);
    impl Drop for Stop {
        fn drop(&mut self) {
            // Stop the daemon by its PID, even when an assert failed.
            unsafe_free_kill(self.0);
        }
    }
    let _stop = Stop(pid);
    wait_for("socket", T, || sock.exists());
    let mut u = std::os::unix::net::UnixStream::connect(&sock).unwrap();
    use std::io::Write;
    u.write_all(b"*1\r\n$4\r\nPING\r\n").unwrap();
    let mut buf = [0u8; 7];
    u.read_exact(&mut buf).unwrap();
    assert_eq!(&buf, b"+PONG\r\n");
    let mut r = Raw::from_stream(std::net::TcpStream::connect(("127.0.0.1", port)).unwrap());
    assert!(
        r.call(&["CLIENT", "LIST"]).contains("flags=U"),
        "unix client flagged"
    );
    r.cmd(&[b"SHUTDOWN", b"NOSAVE"]);
    assert!(r.closed());
    wait_for("pidfile removed", T, || !pidfile.exists());
}

/// SIGTERM through the `kill` utility: no unsafe code in tests.
fn unsafe_free_kill(pid: i32) {
    let _ = std::process::Command::new("kill")
        .arg(pid.to_string())
        .status();
}

// CLIENT REPLY OFF silences replies, but not subscribe confirmations,
// which Redis sends as pushes, in RESP2 too.
#[test]
fn subscribe_confirmations_under_client_reply_off_match_redis() {
    let mut d = Diff::start(&[]);
    let cmd = |d: &mut Diff, args: &[&str]| {
        let v: Vec<&[u8]> = args.iter().map(|a| a.as_bytes()).collect();
        d.ours.cmd(&v);
        d.theirs.cmd(&v);
    };
    cmd(&mut d, &["CLIENT", "REPLY", "OFF"]);
    cmd(&mut d, &["SET", "k", "v"]);
    d.same_str(&["SUBSCRIBE", "ch"]);
    d.same_str(&["UNSUBSCRIBE", "ch"]);
    assert_eq!(d.same_str(&["CLIENT", "REPLY", "ON"]), "+OK\r\n");
    // RESP3.
    d.both(&[b"HELLO", b"3"]);
    cmd(&mut d, &["CLIENT", "REPLY", "OFF"]);
    d.same_str(&["SUBSCRIBE", "ch"]);
    d.same_str(&["PSUBSCRIBE", "c*"]);
    cmd(&mut d, &["SET", "k", "v"]);
    d.same_str(&["UNSUBSCRIBE", "ch"]);
    assert_eq!(d.same_str(&["CLIENT", "REPLY", "ON"]), "+OK\r\n");
    cmd(&mut d, &["CLIENT", "REPLY", "SKIP"]);
    d.same_str(&["PUNSUBSCRIBE", "c*"]);
    assert_eq!(d.same_str(&["GET", "k"]), "$1\r\nv\r\n");
}

/// A REPLICAOF queued in a transaction takes effect inside it, but the
/// commands after it still run (Redis checks READONLY when EXEC arrives,
/// not per queued command); an EXEC of writes that arrives once the node
/// is a read-only replica is aborted whole, as Redis's execCommandAbort.
#[test]
fn exec_and_replicaof_as_redis() {
    let run = |s: &Server| {
        let mut a = s.raw();
        let mut b = s.raw();
        let mut seen = Vec::new();
        for cmd in [
            &["MULTI"][..],
            &["SET", "foo2", "bar"],
            &["REPLICAOF", "localhost", "9999"],
            &["SET", "foo3", "bar"],
            &["EXEC"],
            &["SET", "foo4", "bar"],
            &["REPLICAOF", "NO", "ONE"],
            &["MULTI"],
            &["SET", "x", "1"],
            &["GET", "x"],
        ] {
            seen.push(a.call(cmd));
        }
        seen.push(b.call(&["REPLICAOF", "localhost", "9999"]));
        seen.push(a.call(&["EXEC"]));
        seen.push(a.call(&["MULTI"]));
        seen.push(a.call(&["GET", "x"]));
        seen.push(a.call(&["EXEC"]));
        seen.push(b.call(&["REPLICAOF", "NO", "ONE"]));
        seen.push(a.call(&["MGET", "foo2", "foo3", "foo4", "x"]));
        seen
    };
    let ours = run(&Server::start(&[]));
    let theirs = run(&Server::redis(&[]));
    assert_eq!(ours, theirs);
}

/// WATCH of keys that are already expired (stale) as Redis 7.0: deleting
/// or flushing a stale key is no change, a SWAPDB that brings one in
/// where nothing was is none either, a flush does not touch watched keys it
/// does not hold; a live watched key that expires, or a stale one that is
/// written, fails EXEC. Compared with redis-server.
#[test]
fn watch_stale_keys_as_redis() {
    let mut d = Diff::start(&[]);
    let exec_ping = |d: &mut Diff| {
        d.same_str(&["MULTI"]);
        d.same_str(&["PING"]);
        d.same_str(&["EXEC"])
    };
    // KEYS skips expired keys without deleting them (PTTL would delete).
    let wait_gone = |d: &mut Diff, key: &str| {
        wait_for("the key to expire", Duration::from_secs(5), || {
            d.ours.call(&["KEYS", key]) == "*0\r\n" && d.theirs.call(&["KEYS", key]) == "*0\r\n"
        });
        d.same_str(&["DBSIZE"]);
    };
    d.same_str(&["DEBUG", "SET-ACTIVE-EXPIRE", "0"]);
    // Lazy expiry deletes a key watched stale: no change.
    d.same_str(&["SET", "x", "foo", "PX", "1"]);
    wait_gone(&mut d, "x");
    d.same_str(&["WATCH", "x"]);
    assert_eq!(d.same_str(&["EXISTS", "x"]), ":0\r\n");
    assert_eq!(exec_ping(&mut d), "*1\r\n+PONG\r\n");
    // FLUSHDB of a stale watched key: no change.
    d.same_str(&["SET", "x", "foo", "PX", "1"]);
    wait_gone(&mut d, "x");
    d.same_str(&["WATCH", "x"]);
    d.same_str(&["FLUSHDB"]);
    assert_eq!(exec_ping(&mut d), "*1\r\n+PONG\r\n");
    // FLUSHALL does not touch a watched key that does not exist.
    d.same_str(&["WATCH", "y"]);
    d.same_str(&["SET", "other", "1"]);
    d.same_str(&["FLUSHALL"]);
    assert_eq!(exec_ping(&mut d), "*1\r\n+PONG\r\n");
    // SWAPDB: a stale key swapped out for nothing, and nothing swapped out
    // for a stale key, are no change; a live key swapped in is one.
    d.same_str(&["SET", "x", "foo", "PX", "1"]);
    wait_gone(&mut d, "x");
    d.same_str(&["WATCH", "x"]);
    d.same_str(&["SWAPDB", "0", "1"]);
    assert_eq!(exec_ping(&mut d), "*1\r\n+PONG\r\n");
    d.same_str(&["FLUSHALL"]);
    d.same_str(&["SELECT", "1"]);
    d.same_str(&["SET", "x", "foo", "PX", "1"]);
    wait_gone(&mut d, "x");
    d.same_str(&["SELECT", "0"]);
    d.same_str(&["WATCH", "x"]);
    d.same_str(&["SWAPDB", "0", "1"]);
    assert_eq!(exec_ping(&mut d), "*1\r\n+PONG\r\n");
    d.same_str(&["SELECT", "1"]);
    d.same_str(&["SET", "x", "live"]);
    d.same_str(&["SELECT", "0"]);
    d.same_str(&["WATCH", "x"]);
    d.same_str(&["SWAPDB", "0", "1"]);
    assert_eq!(exec_ping(&mut d), "*-1\r\n");
    // A stale watched key written: EXEC fails.
    d.same_str(&["FLUSHALL"]);
    d.same_str(&["SET", "x", "foo", "PX", "1"]);
    wait_gone(&mut d, "x");
    d.same_str(&["WATCH", "x"]);
    d.same_str(&["SET", "x", "bar"]);
    assert_eq!(exec_ping(&mut d), "*-1\r\n");
    // A live watched key that expires fails EXEC.
    d.same_str(&["SET", "z", "v", "PX", "20"]);
    d.same_str(&["WATCH", "z"]);
    wait_gone(&mut d, "z");
    assert_eq!(exec_ping(&mut d), "*-1\r\n");
    d.same_str(&["DEBUG", "SET-ACTIVE-EXPIRE", "1"]);
}

/// Requests are run in the order they arrive, across connections, as in
/// Redis's event loop: an EXEC sent on one connection before an LPUSH on
/// another runs first, so the LPUSH does not fail its WATCH.
#[test]
fn connections_are_served_in_arrival_order() {
    let s = Server::start(&[]);
    let mut w = s.raw();
    let mut r = s.raw();
    for _ in 0..300 {
        r.call(&["DEL", "dst"]);
        assert_eq!(w.call(&["WATCH", "dst"]), "+OK\r\n");
        assert_eq!(w.call(&["MULTI"]), "+OK\r\n");
        assert_eq!(w.call(&["PING"]), "+QUEUED\r\n");
        w.cmd(&[b"EXEC"]);
        r.cmd(&[b"LPUSH", b"dst", b"x"]);
        assert_eq!(r.reply_str(), ":1\r\n");
        assert_eq!(
            w.reply_str(),
            "*1\r\n+PONG\r\n",
            "the LPUSH ran before the EXEC"
        );
    }
}

/// EXEC weighs what it queued against the server's state at EXEC time, as
/// Redis's processCommand does with mstate's flags: a queued write after
/// min-replicas-to-write was raised, a queued read or PING after the
/// replica's link went down (replica-serve-stale-data no) abort the
/// transaction; queued reads still run over maxmemory. Same replies as
/// redis-server.
#[test]
fn exec_checks_queued_commands_against_state_changes() {
    let dead = crate::util::free_port().to_string();
    let script: &[(bool, &[&str])] = &[
        (false, &["SET", "xx", "1"]),
        (false, &["MULTI"]),
        (false, &["INCR", "xx"]),
        (true, &["CONFIG", "SET", "min-replicas-to-write", "2"]),
        (false, &["EXEC"]),
        (false, &["GET", "xx"]),
        (true, &["CONFIG", "SET", "min-replicas-to-write", "0"]),
        (false, &["CONFIG", "SET", "replica-serve-stale-data", "no"]),
        (false, &["MULTI"]),
        (false, &["GET", "xx"]),
        (true, &["REPLICAOF", "127.0.0.1", &dead]),
        (false, &["EXEC"]),
        (false, &["PING"]),
        (true, &["REPLICAOF", "NO", "ONE"]),
        (false, &["MULTI"]),
        (false, &["PING"]),
        (true, &["REPLICAOF", "127.0.0.1", &dead]),
        (false, &["EXEC"]),
        (false, &["MULTI"]),
        (true, &["REPLICAOF", "NO", "ONE"]),
        (false, &["GET", "xx"]),
        (false, &["EXEC"]),
        (false, &["MULTI"]),
        (false, &["GET", "xx"]),
        (false, &["PING"]),
        (true, &["CONFIG", "SET", "maxmemory", "1"]),
        (false, &["EXEC"]),
        (false, &["MULTI"]),
        (false, &["SET", "yy", "1"]),
        (false, &["EXEC"]),
        (true, &["CONFIG", "SET", "maxmemory", "0"]),
    ];
    let relica = Server::start(&[]);
    let redis = Server::redis(&[]);
    let run = |s: &Server| {
        let (mut a, mut b) = (s.raw(), s.raw());
        script
            .iter()
            .map(
                |(other, args)| {
                    if *other {
                        b.call(args)
                    } else {
                        a.call(args)
                    }
                },
            )
            .collect::<Vec<_>>()
    };
    let (ours, theirs) = (run(&relica), run(&redis));
    for (i, (o, t)) in ours.iter().zip(&theirs).enumerate() {
        assert_eq!(o, t, "step {i}: {:?}", script[i].1);
    }
    assert!(ours[4].starts_with("-EXECABORT Transaction discarded because of: NOREPLICAS"));
    assert!(ours[11].starts_with("-EXECABORT Transaction discarded because of: MASTERDOWN"));
}
