//! Server start-up, configuration, INFO, DEBUG and shutdown.

use std::process::Command;
use std::time::Duration;

use crate::util::{wait_for, Diff, Server};

#[test]
fn startup_log_has_redis_markers() {
    let s = Server::start(&[]);
    wait_for("ready line", Duration::from_secs(10), || {
        s.log_text().contains("Ready to accept connections")
    });
    let log = s.log_text();
    assert!(log.contains(&format!(" PID: {}", s.pid())), "{log}");
    let pid_at = log.find(" PID: ").unwrap();
    let init_at = log.find("Server initialized").unwrap();
    assert!(pid_at < init_at);
}

#[test]
fn bad_config_stops_startup_naming_the_line() {
    let dir = tempfile::tempdir().unwrap();
    let conf = dir.path().join("r.conf");
    std::fs::write(&conf, "port 7000\nmaxclients notanumber\n").unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_relica-server"))
        .arg(&conf)
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("FATAL CONFIG FILE ERROR"), "{err}");
    assert!(err.contains("line 2"), "{err}");
    assert!(err.contains("maxclients notanumber"), "{err}");
    let out = Command::new(env!("CARGO_BIN_EXE_relica-server"))
        .args(["--port", "1", "--nosuchdirective", "x"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("Bad directive"));
    // A bad value stops start-up (appendonly itself is supported since
    // the AOF landed; a server started here would run in this directory).
    let out = Command::new(env!("CARGO_BIN_EXE_relica-server"))
        .args(["--appendonly", "maybe"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("appendonly"));
}

#[test]
fn config_get_set_rewrite() {
    let dir = tempfile::tempdir().unwrap();
    let conf = dir.path().join("r.conf");
    std::fs::write(&conf, "# my config\nhz 10\nmaxmemory-policy noeviction\n").unwrap();
    let s = Server::start_conf(Some(&conf), &[]);
    let mut r = s.raw();
    let got = r.call(&["CONFIG", "GET", "max*-policy", "hz"]);
    assert!(
        got.contains("maxmemory-policy") && got.contains("$2\r\nhz\r\n$2\r\n10\r\n"),
        "{got}"
    );
    assert_eq!(
        r.call(&[
            "CONFIG",
            "SET",
            "hz",
            "50",
            "maxmemory-policy",
            "allkeys-lru"
        ]),
        "+OK\r\n"
    );
    // Atomic: a bad value leaves everything as it was.
    let e = r.call(&["CONFIG", "SET", "hz", "20", "maxmemory-policy", "bogus"]);
    assert!(
        e.starts_with("-ERR CONFIG SET failed (possibly related to argument 'maxmemory-policy')"),
        "{e}"
    );
    assert!(r.call(&["CONFIG", "GET", "hz"]).ends_with("$2\r\n50\r\n"));
    assert!(r
        .call(&["CONFIG", "SET", "databases", "4"])
        .contains("can't set immutable config"));
    assert!(r
        .call(&["CONFIG", "SET", "nosuch", "1"])
        .starts_with("-ERR Unknown option"));
    assert_eq!(r.call(&["CONFIG", "SET", "maxmemory", "1gb"]), "+OK\r\n");
    assert!(r
        .call(&["CONFIG", "GET", "maxmemory"])
        .ends_with("$10\r\n1073741824\r\n"));
    assert_eq!(r.call(&["CONFIG", "REWRITE"]), "+OK\r\n");
    let text = std::fs::read_to_string(&conf).unwrap();
    assert!(text.contains("# my config"));
    assert!(text.contains("hz 50"), "{text}");
    assert!(text.contains("maxmemory-policy allkeys-lru"), "{text}");
    assert!(text.contains("maxmemory 1073741824"), "{text}");
    assert_eq!(r.call(&["CONFIG", "RESETSTAT"]), "+OK\r\n");
}

#[test]
fn info_sections_and_fields() {
    let s = Server::start(&[]);
    let mut c = s.conn();
    let _: () = redis::cmd("SET").arg("a").arg("1").query(&mut c).unwrap();
    let _: () = redis::cmd("SET")
        .arg("b")
        .arg("1")
        .arg("EX")
        .arg("100")
        .query(&mut c)
        .unwrap();
    let info: String = redis::cmd("INFO").query(&mut c).unwrap();
    for field in [
        "# Server",
        "redis_version:",
        "tcp_port:",
        "# Clients",
        "connected_clients:",
        "# Memory",
        "used_memory:",
        "# Persistence",
        "rdb_changes_since_last_save:",
        "# Stats",
        "total_commands_processed:",
        "# Replication",
        "role:master",
        "master_replid:",
        "# CPU",
        "# Keyspace",
        "db0:keys=2,expires=1,avg_ttl=",
    ] {
        assert!(info.contains(field), "missing {field}");
    }
    assert!(!info.contains("# Commandstats"));
    let all: String = redis::cmd("INFO").arg("all").query(&mut c).unwrap();
    assert!(all.contains("cmdstat_set:calls=2"), "{all}");
    let two: String = redis::cmd("INFO")
        .arg("server")
        .arg("keyspace")
        .query(&mut c)
        .unwrap();
    assert!(two.contains("# Server") && two.contains("# Keyspace") && !two.contains("# Memory"));
}

#[test]
fn debug_commands() {
    let s = Server::start(&[]);
    let mut r = s.raw();
    assert_eq!(r.call(&["DEBUG", "POPULATE", "10"]), "+OK\r\n");
    assert_eq!(r.call(&["DBSIZE"]), ":10\r\n");
    assert_eq!(r.call(&["GET", "key:3"]), "$7\r\nvalue:3\r\n");
    r.call(&["DEBUG", "POPULATE", "3", "p", "10"]);
    assert_eq!(r.call(&["GET", "p:1"]), "$10\r\nvalue:1\0\0\0\r\n");
    r.call(&["DEBUG", "POPULATE", "2", "q", "4"]);
    assert_eq!(r.call(&["GET", "q:1"]), "$4\r\nvalu\r\n");
    let obj = r.call(&["DEBUG", "OBJECT", "key:1"]);
    assert!(
        obj.starts_with("+Value at:")
            && obj.contains("encoding:embstr")
            && obj.contains("serializedlength:"),
        "{obj}"
    );
    assert_eq!(r.call(&["DEBUG", "SLEEP", "0"]), "+OK\r\n");
    // Gated by enable-debug-command.
    let s2 = Server::start(&["--enable-debug-command", "no"]);
    let mut r2 = s2.raw();
    let e = r2.call(&["DEBUG", "SLEEP", "0"]);
    assert!(e.starts_with("-ERR DEBUG command not allowed"), "{e}");
}

#[test]
fn sigterm_and_shutdown_stop_cleanly() {
    let mut s = Server::start(&[]);
    let pid = s.pid();
    let st = Command::new("kill")
        .arg("-TERM")
        .arg(pid.to_string())
        .status()
        .unwrap();
    assert!(st.success());
    assert!(s.wait_exit(Duration::from_secs(10)).success());
    assert!(s.log_text().contains("Received SIGTERM"));
    let mut s2 = Server::start(&[]);
    let mut r = s2.raw();
    r.cmd(&[b"SHUTDOWN", b"NOSAVE"]);
    assert!(r.closed());
    assert!(s2.wait_exit(Duration::from_secs(10)).success());
}

#[test]
fn command_introspection() {
    let s = Server::start(&[]);
    let mut r = s.raw();
    let n: i64 = r
        .call(&["COMMAND", "COUNT"])
        .trim_start_matches(':')
        .trim()
        .parse()
        .unwrap();
    assert!(n > 50);
    let info = r.call(&["COMMAND", "INFO", "get"]);
    assert!(
        info.starts_with("*1\r\n*10\r\n$3\r\nget\r\n:2\r\n"),
        "{info}"
    );
    assert_eq!(
        r.call(&["COMMAND", "GETKEYS", "MSET", "a", "1", "b", "2"]),
        "*2\r\n$1\r\na\r\n$1\r\nb\r\n"
    );
    let docs = r.call(&["COMMAND", "DOCS", "set"]);
    assert!(
        docs.contains("summary") && docs.contains("string"),
        "{docs}"
    );
    assert!(r
        .call(&["COMMAND", "LIST", "FILTERBY", "PATTERN", "xx*"])
        .starts_with("*0"));
}

#[test]
fn protected_mode_and_maxclients() {
    let s = Server::start(&["--maxclients", "2"]);
    let mut a = s.raw();
    let mut b = s.raw();
    assert_eq!(a.call(&["PING"]), "+PONG\r\n");
    assert_eq!(b.call(&["PING"]), "+PONG\r\n");
    let mut c = s.raw();
    assert_eq!(c.reply_str(), "-ERR max number of clients reached\r\n");
}

/// COMMAND GETKEYS (and GETKEYSANDFLAGS) finds the keys of the numkeys
/// ("movablekeys") commands and of those with their own key finder as
/// redis-server does, down to its fallbacks for a bad numkeys (parsed
/// with atoi(), destination key last) and its errors; COMMAND INFO shows
/// them as movablekeys with Redis's legacy key positions.
#[test]
fn command_getkeys_of_numkeys_commands_matches_redis() {
    let mut d = Diff::start(&[]);
    let cases: &[&[&str]] = &[
        &["LMPOP", "2", "a", "b", "LEFT"],
        &["LMPOP", "1", "a", "b", "LEFT"],
        &["LMPOP", "3", "a", "b", "LEFT"],
        &["LMPOP", "4", "a", "b", "LEFT"],
        &["LMPOP", "0", "a", "b", "LEFT"],
        &["LMPOP", "-1", "a", "b", "LEFT"],
        &["LMPOP", "x", "a", "b", "LEFT"],
        &["LMPOP", "2x", "a", "b", "LEFT"],
        &["BLMPOP", "0", "2", "a", "b", "RIGHT"],
        &["BLMPOP", "0", "3", "a", "b", "RIGHT"],
        &["SINTERCARD", "2", "a", "b", "LIMIT", "1"],
        &["SINTERCARD", "9", "a", "b"],
        &["ZMPOP", "1", "z", "MIN"],
        &["BZMPOP", "1.5", "2", "y", "z", "MAX", "COUNT", "3"],
        &["ZUNION", "2", "a", "b", "WEIGHTS", "1", "2"],
        &["ZINTER", "1", "a"],
        &["ZDIFF", "2", "a", "b"],
        &["ZINTERCARD", "2", "a", "b"],
        &["ZUNIONSTORE", "dst", "2", "a", "b"],
        &["ZINTERSTORE", "dst", "1", "a", "b"],
        &["ZDIFFSTORE", "dst", "3", "a", "b"],
        &["ZDIFFSTORE", "dst", "2 ", "a", "b"],
        &["ZUNIONSTORE", "dst", "0", "a"],
        &["ZUNIONSTORE", "dst"],
        &["LMPOP", "1"],
        &["MSET", "a", "1", "b", "2"],
        &["GET"],
        &["PING"],
        &["NOSUCH", "a"],
        // Commands with their own key finder: Redis reads their key specs
        // when complete (XREAD's STREAMS and half of what follows).
        &["XREAD", "STREAMS", "a", "b", "0", "0"],
        &["XREAD", "COUNT", "2", "STREAMS", "a", "b", "0", "0"],
        &["XREAD", "STREAMS", "a", "b", "c"],
        &["XREAD", "STREAMS", "a"],
        &["XREAD", "COUNT", "2"],
        &["XREAD", "BLOCK", "0", "STREAMS", "a", "0"],
        &["XREADGROUP", "GROUP", "g", "c", "STREAMS", "a", "0"],
        &[
            "XREADGROUP",
            "GROUP",
            "g",
            "c",
            "COUNT",
            "1",
            "STREAMS",
            "a",
            "b",
            "0",
            "0",
        ],
        &["SORT", "a", "BY", "b", "STORE", "c"],
        &["SORT_RO", "a"],
        &["MIGRATE", "h", "6379", "", "0", "5000", "KEYS", "k1", "k2"],
        &["MIGRATE", "h", "6379", "k", "0", "5000"],
        &[
            "GEORADIUS",
            "s",
            "15",
            "37",
            "200",
            "km",
            "WITHCOORD",
            "STORE",
            "out",
        ],
        &[
            "GEORADIUSBYMEMBER",
            "a",
            "b",
            "1",
            "km",
            "STORE",
            "c",
            "STOREDIST",
            "d",
        ],
        &["EVAL", "x", "2", "a", "b"],
        &["EVAL", "x", "0"],
        &["BITFIELD", "a", "GET", "u8", "0"],
        &["SET", "a", "b", "GET"],
    ];
    for case in cases {
        for sub in ["GETKEYS", "GETKEYSANDFLAGS"] {
            let mut args = vec!["COMMAND", sub];
            args.extend_from_slice(case);
            d.same_str(&args);
        }
    }
    for name in [
        "lmpop",
        "blmpop",
        "sintercard",
        "zmpop",
        "bzmpop",
        "zunion",
        "zunionstore",
    ] {
        let (ours, theirs) = (
            d.ours.call(&["COMMAND", "INFO", name]),
            d.theirs.call(&["COMMAND", "INFO", name]),
        );
        // Name, arity, flags and (first, last, step): the reply up to the
        // ACL categories.
        let head = |s: &str| s[..s.find("@").expect("ACL categories")].to_string();
        assert_eq!(head(&ours), head(&theirs), "COMMAND INFO {name}");
        assert!(ours.contains("movablekeys"), "{ours}");
        assert!(ours.contains("keynum"), "{ours}");
    }
}

// A port in use: Redis's two log lines (its test suite retries on another
// port when it sees the second) and exit status 1.
#[test]
fn busy_port_is_logged_as_redis_does() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port();
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("relica.log");
    let status = std::process::Command::new(env!("CARGO_BIN_EXE_relica-server"))
        .current_dir(dir.path())
        .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
        .args(["--logfile", log.to_str().unwrap()])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .unwrap();
    assert_eq!(status.code(), Some(1));
    let text = std::fs::read_to_string(&log).unwrap();
    assert!(text.contains(&format!(
        "Warning: Could not create server TCP listening socket 127.0.0.1:{port}: "
    )));
    assert!(text.contains(&format!("Failed listening on port {port} (TCP), aborting.")));
}

/// `oom-score-adj`, side by side with redis-server: the process's
/// /proc/<pid>/oom_score_adj for its role, relative to its first score
/// (`yes`/`relative`) or absolute, restored when turned off; Redis's
/// error for values out of range.
#[test]
fn oom_score_adj_as_redis() {
    let score = |pid: u32| -> i64 {
        std::fs::read_to_string(format!("/proc/{pid}/oom_score_adj"))
            .expect("oom_score_adj")
            .trim()
            .parse()
            .expect("a number")
    };
    let steps: &[&[&str]] = &[
        &["CONFIG", "SET", "oom-score-adj-values", "-2001 0 0"],
        &["CONFIG", "SET", "oom-score-adj-values", "1 2"],
        &["CONFIG", "SET", "oom-score-adj-values", "10 20 30"],
        &["CONFIG", "SET", "oom-score-adj", "yes"],
        &["REPLICAOF", "127.0.0.1", "1"],
        &["REPLICAOF", "NO", "ONE"],
        &["CONFIG", "SET", "oom-score-adj", "absolute"],
        &["CONFIG", "SET", "oom-score-adj-values", "15 25 35"],
        &["CONFIG", "SET", "oom-score-adj", "no"],
        &["CONFIG", "GET", "oom-score-adj-values"],
    ];
    let run = |s: &Server| {
        let mut r = s.raw();
        let base = score(s.pid());
        steps
            .iter()
            .map(|a| (r.call(a), score(s.pid()) - base))
            .collect::<Vec<_>>()
    };
    let ours = run(&Server::start(&[]));
    let theirs = run(&Server::redis(&[]));
    assert_eq!(ours, theirs);
    // The scores moved: base+10, base+20 as a replica, then 15 absolute.
    assert_eq!(ours[3].1, 10);
    assert_eq!(ours[4].1, 20);
}

/// The default `bind * -::*` listens on IPv4 and, where the machine has
/// IPv6, on IPv6 too, as redis-server does: relica's `::` listener once
/// tried to take the IPv4 port as well (no IPV6_V6ONLY), failed and, being
/// optional, was skipped, so where `localhost` resolves to ::1 first
/// redis-sentinel could not reach relica (issue 20). A replica that
/// connects over IPv6 without announcing an address is listed as `::1`.
#[test]
fn default_bind_listens_on_ipv6_as_redis() {
    use std::net::{SocketAddr, TcpStream};
    let args = ["--bind", "* -::*"];
    let relica = Server::start(&args);
    let redis = Server::redis(&args);
    let over = |ip: &str, port: u16| -> Option<crate::util::Raw> {
        let addr: SocketAddr = format!("{ip}:{port}").parse().unwrap();
        let s = TcpStream::connect_timeout(&addr, Duration::from_secs(5)).ok()?;
        s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        Some(crate::util::Raw::from_stream(s))
    };
    for s in [&relica, &redis] {
        assert_eq!(
            over("127.0.0.1", s.port).unwrap().call(&["PING"]),
            "+PONG\r\n"
        );
    }
    let v6 = |s: &Server| over("[::1]", s.port).map(|mut c| c.call(&["PING"]));
    let with_redis = v6(&redis);
    assert_eq!(v6(&relica), with_redis, "::1 as redis-server");
    if with_redis.is_none() {
        eprintln!("no IPv6 loopback on this machine: only IPv4 compared");
        return;
    }
    for s in [&relica, &redis] {
        let list = over("[::1]", s.port).unwrap().call(&["CLIENT", "LIST"]);
        assert!(
            list.contains("addr=[::1]:") && list.contains(&format!("laddr=[::1]:{} ", s.port)),
            "{list}"
        );
        let replica = Server::start(&["--replicaof", "::1", &s.port.to_string()]);
        let mut m = s.raw();
        let line = format!("slave0:ip=::1,port={},", replica.port);
        wait_for("replica listed", Duration::from_secs(30), || {
            m.call(&["INFO", "replication"]).contains(&line)
        });
        assert_eq!(replica.raw().info_field("master_host"), "::1");
    }
}
