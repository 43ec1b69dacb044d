//! Wire protocol: RESP2/RESP3, inline commands, pipelining, and hostile
//! input answered with Redis's errors.

use crate::util::Server;

#[test]
fn inline_and_pipelined_commands() {
    let s = Server::start(&[]);
    let mut r = s.raw();
    r.send(b"PING\r\nSET a \"hello world\"\r\nGET a\r\n");
    assert_eq!(r.reply_str(), "+PONG\r\n");
    assert_eq!(r.reply_str(), "+OK\r\n");
    assert_eq!(r.reply_str(), "$11\r\nhello world\r\n");
    // 1000 pipelined commands in one write.
    let mut batch = Vec::new();
    for i in 0..1000 {
        batch.extend_from_slice(
            format!("*3\r\n$3\r\nSET\r\n$4\r\nk{:03}\r\n$1\r\nv\r\n", i % 1000).as_bytes(),
        );
    }
    r.send(&batch);
    for _ in 0..1000 {
        assert_eq!(r.reply_str(), "+OK\r\n");
    }
    assert_eq!(r.call(&["DBSIZE"]), ":1001\r\n");
}

#[test]
fn unknown_command_and_arity_errors_use_redis_text() {
    let s = Server::start(&[]);
    let mut r = s.raw();
    assert_eq!(
        r.call(&["NOSUCH", "a", "b"]),
        "-ERR unknown command 'NOSUCH', with args beginning with: 'a' 'b' \r\n"
    );
    assert_eq!(
        r.call(&["GET"]),
        "-ERR wrong number of arguments for 'get' command\r\n"
    );
    assert_eq!(
        r.call(&["CONFIG", "GET"]),
        "-ERR wrong number of arguments for 'config|get' command\r\n"
    );
    assert_eq!(
        r.call(&["CONFIG", "FOO"]),
        "-ERR unknown subcommand 'FOO'. Try CONFIG HELP.\r\n"
    );
}

#[test]
fn protocol_errors_reply_then_close() {
    let s = Server::start(&[]);
    for (input, err) in [
        (
            &b"*abc\r\n"[..],
            "-ERR Protocol error: invalid multibulk length\r\n",
        ),
        (
            b"*1\r\n$-5\r\n",
            "-ERR Protocol error: invalid bulk length\r\n",
        ),
        (
            b"*1\r\nfoo\r\n",
            "-ERR Protocol error: expected '$', got 'f'\r\n",
        ),
        (
            b"SET \"unbalanced\r\n",
            "-ERR Protocol error: unbalanced quotes in request\r\n",
        ),
    ] {
        let mut r = s.raw();
        r.send(input);
        assert_eq!(r.reply_str(), err);
        assert!(r.closed(), "connection stays open after {err}");
    }
    // The replies of commands before the bad frame still arrive.
    let mut r = s.raw();
    r.send(b"PING\r\n*x\r\n");
    assert_eq!(r.reply_str(), "+PONG\r\n");
    assert_eq!(
        r.reply_str(),
        "-ERR Protocol error: invalid multibulk length\r\n"
    );
}

#[test]
fn hostile_lengths_do_not_allocate_or_hang() {
    let s = Server::start(&[]);
    // A 4 GB bulk length: refused at once (over proto-max-bulk-len).
    let mut r = s.raw();
    r.send(b"*1\r\n$4294967296\r\n");
    assert_eq!(
        r.reply_str(),
        "-ERR Protocol error: invalid bulk length\r\n"
    );
    // A bulk length under the limit but never sent: the server just waits,
    // and other clients are served meanwhile.
    let mut r1 = s.raw();
    r1.send(b"*2\r\n$3\r\nSET\r\n$500000000\r\nabc");
    let mut r2 = s.raw();
    assert_eq!(r2.call(&["PING"]), "+PONG\r\n");
    let mut c = s.conn();
    let rss: String = redis::cmd("INFO").arg("memory").query(&mut c).unwrap();
    let used: u64 = rss
        .lines()
        .find_map(|l| l.strip_prefix("used_memory:"))
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    assert!(
        used < 200 << 20,
        "used_memory {used} grew with an unsent bulk"
    );
    // A huge multibulk count.
    let mut r3 = s.raw();
    r3.send(b"*2147483648\r\n");
    assert_eq!(
        r3.reply_str(),
        "-ERR Protocol error: invalid multibulk length\r\n"
    );
}

#[test]
fn resp3_after_hello() {
    let s = Server::start(&[]);
    let mut r = s.raw();
    let hello = r.call(&["HELLO", "3"]);
    assert!(hello.starts_with("%7\r\n"), "{hello}");
    assert!(hello.contains("$5\r\nproto\r\n:3\r\n"));
    assert_eq!(r.call(&["GET", "missing"]), "_\r\n");
    assert_eq!(
        r.call(&["CONFIG", "GET", "port"]),
        format!(
            "%1\r\n$4\r\nport\r\n${}\r\n{}\r\n",
            s.port.to_string().len(),
            s.port
        )
    );
    assert_eq!(
        r.call(&["HELLO", "4"]),
        "-NOPROTO unsupported protocol version\r\n"
    );
    let back = r.call(&["HELLO", "2"]);
    assert!(back.starts_with("*14\r\n"), "{back}");
    assert_eq!(r.call(&["GET", "missing"]), "$-1\r\n");
}

#[test]
fn auth_and_noauth() {
    let s = Server::start(&["--requirepass", "secret"]);
    let mut r = s.raw();
    assert_eq!(
        r.call(&["GET", "x"]),
        "-NOAUTH Authentication required.\r\n"
    );
    assert_eq!(
        r.call(&["AUTH", "wrong"]),
        "-WRONGPASS invalid username-password pair or user is disabled.\r\n"
    );
    assert_eq!(r.call(&["AUTH", "secret"]), "+OK\r\n");
    assert_eq!(r.call(&["GET", "x"]), "$-1\r\n");
    let mut r2 = s.raw();
    assert_eq!(r2.call(&["AUTH", "default", "secret"]), "+OK\r\n");
    let mut r3 = s.raw();
    let h = r3.call(&["HELLO", "3", "AUTH", "default", "secret", "SETNAME", "me"]);
    assert!(h.starts_with("%7"), "{h}");
    assert_eq!(r3.call(&["CLIENT", "GETNAME"]), "$2\r\nme\r\n");
    let s2 = Server::start(&[]);
    let mut r4 = s2.raw();
    assert!(r4
        .call(&["AUTH", "x"])
        .starts_with("-ERR AUTH <password> called without any password configured"));
}

#[test]
fn client_commands() {
    let s = Server::start(&[]);
    let mut a = s.raw();
    let mut b = s.raw();
    let id_b: i64 = b
        .call(&["CLIENT", "ID"])
        .trim_start_matches(':')
        .trim()
        .parse()
        .unwrap();
    assert_eq!(b.call(&["CLIENT", "SETNAME", "bee"]), "+OK\r\n");
    assert!(b
        .call(&["CLIENT", "SETNAME", "has space"])
        .starts_with("-ERR Client names cannot contain spaces"));
    let list = a.call(&["CLIENT", "LIST"]);
    assert!(list.contains(&format!("id={id_b} ")), "{list}");
    assert!(list.contains("name=bee"), "{list}");
    assert_eq!(
        a.call(&["CLIENT", "KILL", "ID", &id_b.to_string()]),
        ":1\r\n"
    );
    assert!(b.closed());
    assert_eq!(a.call(&["CLIENT", "KILL", "ID", "999999"]), ":0\r\n");
    // CLIENT REPLY OFF drops replies until ON.
    a.cmd(&[b"CLIENT", b"REPLY", b"OFF"]);
    a.cmd(&[b"SET", b"x", b"1"]);
    a.cmd(&[b"CLIENT", b"REPLY", b"ON"]);
    assert_eq!(a.reply_str(), "+OK\r\n");
    assert_eq!(a.call(&["GET", "x"]), "$1\r\n1\r\n");
    a.cmd(&[b"CLIENT", b"REPLY", b"SKIP"]);
    a.cmd(&[b"GET", b"x"]);
    assert_eq!(a.call(&["PING"]), "+PONG\r\n");
}

/// CLIENT KILL closes the victim's socket before the killer gets its reply,
/// as Redis's freeClient does: a replica killed inside a MULTI sees its link
/// drop before anything the master sends after the EXEC.
#[test]
fn client_kill_closes_before_replying() {
    for s in [Server::start(&[]), Server::redis(&[])] {
        let mut a = s.raw();
        for _ in 0..20 {
            let mut b = s.raw();
            let id = b.call(&["CLIENT", "ID"]);
            let id = id.trim_start_matches(':').trim();
            assert_eq!(a.call(&["MULTI"]), "+OK\r\n");
            assert_eq!(a.call(&["CLIENT", "KILL", "ID", id]), "+QUEUED\r\n");
            assert_eq!(a.call(&["EXEC"]), "*1\r\n:1\r\n");
            assert!(b.closed_now(), "the killed client is still open");
        }
    }
}

#[test]
fn quit_and_reset() {
    let s = Server::start(&[]);
    let mut r = s.raw();
    r.call(&["SELECT", "3"]);
    r.call(&["CLIENT", "SETNAME", "x"]);
    assert_eq!(r.call(&["RESET"]), "+RESET\r\n");
    assert_eq!(r.call(&["CLIENT", "GETNAME"]), "$-1\r\n");
    assert_eq!(r.call(&["QUIT"]), "+OK\r\n");
    assert!(r.closed());
}

/// Resident set size of a process, from /proc.
fn rss_kb(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("proc status");
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .expect("VmRSS")
}

/// Send a header announcing a huge argument, then up to `body` bytes of it;
/// return what the server answered once it closed the connection.
fn unauthenticated_flood(port: u16, header: &[u8], body: usize) -> String {
    use std::io::{Read, Write};
    let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).expect("connect");
    s.set_read_timeout(Some(std::time::Duration::from_secs(10)))
        .expect("timeout");
    s.write_all(header).expect("write header");
    let chunk = vec![b'x'; 1 << 20];
    let mut sent = 0;
    while sent < body && s.write_all(&chunk).is_ok() {
        sent += chunk.len();
    }
    let mut reply = Vec::new();
    let _ = s.read_to_end(&mut reply);
    String::from_utf8_lossy(&reply).into_owned()
}

/// Issue 19, first point: a client that has not authenticated cannot make
/// the server hold memory. Both servers refuse a long argument or a long
/// multibulk at its header and close; under four connections announcing
/// 500 MB and sending 100 MB each, relica's RSS grows no more than 2x
/// redis-server's (or a few huge pages).
#[test]
fn unauthenticated_clients_are_bounded_as_in_redis() {
    const BULK: &str = "-ERR Protocol error: unauthenticated bulk length\r\n";
    const MULTIBULK: &str = "-ERR Protocol error: unauthenticated multibulk length\r\n";
    let relica = Server::start(&["--requirepass", "secret"]);
    let redis = Server::redis(&["--requirepass", "secret"]);
    for s in [&relica, &redis] {
        let flood = |header: &[u8]| unauthenticated_flood(s.port, header, 0);
        assert_eq!(flood(b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$500000000\r\n"), BULK);
        assert_eq!(flood(b"*1\r\n$16385\r\n"), BULK);
        assert_eq!(flood(b"*11\r\n"), MULTIBULK);
        assert_eq!(flood(b"*100\r\n"), MULTIBULK);
        // Within the limits an unauthenticated command gets -NOAUTH.
        let mut r = s.raw();
        r.send(b"*10\r\n$3\r\nDEL\r\n");
        for _ in 0..9 {
            r.send(b"$16384\r\n");
            r.send(&vec![b'v'; 16384]);
            r.send(b"\r\n");
        }
        assert!(r.reply_str().starts_with("-NOAUTH"));
        // An AUTH in the same packet lifts the limits for what follows, as
        // Redis runs each command before it parses the next.
        let mut r = s.raw();
        r.send(b"*2\r\n$4\r\nAUTH\r\n$6\r\nsecret\r\n*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$20000\r\n");
        r.send(&vec![b'v'; 20000]);
        r.send(b"\r\n*2\r\n$6\r\nSTRLEN\r\n$1\r\nk\r\n");
        assert_eq!(r.reply_str(), "+OK\r\n");
        assert_eq!(r.reply_str(), "+OK\r\n");
        assert_eq!(r.reply_str(), ":20000\r\n");
        // HELLO with AUTH authenticates too.
        let mut r = s.raw();
        r.send(b"*5\r\n$5\r\nHELLO\r\n$1\r\n2\r\n$4\r\nAUTH\r\n$7\r\ndefault\r\n$6\r\nsecret\r\n");
        assert!(r.reply_str().starts_with('*'));
        r.send(b"*13\r\n$4\r\nMSET\r\n");
        for i in 0..12 {
            r.send(format!("$1\r\n{}\r\n", i % 10).as_bytes());
        }
        assert_eq!(r.reply_str(), "+OK\r\n");
    }
    let attack = |s: &Server| {
        let port = s.port;
        let floods: Vec<_> = (0..4)
            .map(|_| {
                std::thread::spawn(move || {
                    unauthenticated_flood(port, b"*2\r\n$3\r\nGET\r\n$500000000\r\n", 100 << 20)
                })
            })
            .collect();
        for f in floods {
            assert_eq!(f.join().expect("flood thread"), BULK);
        }
        rss_kb(s.pid())
    };
    // Growth, not the resting size: an idle relica holds a debug binary's
    // pages, which says nothing about what the attack costs.
    let grown = |s: &Server| {
        let before = rss_kb(s.pid());
        attack(s).saturating_sub(before)
    };
    let (ours, theirs) = (grown(&relica), grown(&redis));
    // 400 MB were sent to each; holding them is what this test catches
    // (relica held 675 MB before the bound). The slack (8 MB) is for
    // allocator rounding.
    assert!(
        ours <= (2 * theirs).max(8 << 10),
        "relica grew by {ours} kB under the attack, redis-server by {theirs} kB"
    );
}
