//! SLOWLOG, LATENCY, MONITOR redaction, COMMAND LIST and MIGRATE, against
//! relica and (where replies are deterministic) a real redis-server.

use crate::util::*;
use std::time::Duration;

fn line(r: &mut Raw, args: &[&str]) -> String {
    r.call(args).trim_end().to_string()
}

/// The arguments of each SLOWLOG GET entry, newest first.
fn slowlog_args(c: &mut redis::Connection) -> Vec<Vec<String>> {
    let v: redis::Value = redis::cmd("SLOWLOG").arg("GET").arg(-1).query(c).unwrap();
    let redis::Value::Array(entries) = v else {
        panic!("{v:?}")
    };
    entries
        .into_iter()
        .map(|e| {
            let redis::Value::Array(f) = e else { panic!() };
            let redis::Value::Array(args) = &f[3] else {
                panic!()
            };
            args.iter()
                .map(|a| match a {
                    redis::Value::BulkString(b) => String::from_utf8_lossy(b).into_owned(),
                    o => panic!("{o:?}"),
                })
                .collect()
        })
        .collect()
}

/// The slow log keeps what Redis keeps: trimmed arguments, passwords
/// redacted, EXEC's commands but not EXEC, the length limit.
#[test]
fn slowlog_entries_as_redis() {
    for s in [Server::start(&[]), Server::redis(&[])] {
        let mut c = s.conn();
        let q = |c: &mut redis::Connection, args: &[&str]| {
            let mut cmd = redis::cmd(args[0]);
            for a in &args[1..] {
                cmd.arg(*a);
            }
            let _: redis::RedisResult<redis::Value> = cmd.query(c);
        };
        q(&mut c, &["CONFIG", "SET", "slowlog-log-slower-than", "0"]);
        q(&mut c, &["SLOWLOG", "RESET"]);
        let many: Vec<String> = (0..40).map(|i| i.to_string()).collect();
        let mut sadd = vec!["SADD", "s"];
        sadd.extend(many.iter().map(|s| s.as_str()));
        q(&mut c, &sadd);
        let long = "A".repeat(130);
        q(&mut c, &["SET", "k", &long]);
        q(&mut c, &["CONFIG", "SET", "masterauth", "secret"]);
        q(&mut c, &["AUTH", "nobody", "pw"]);
        q(&mut c, &["MULTI"]);
        q(&mut c, &["INCR", "n"]);
        q(&mut c, &["EXEC"]);
        q(&mut c, &["CONFIG", "SET", "slowlog-log-slower-than", "-1"]);
        let log = slowlog_args(&mut c);
        let shown: Vec<String> = log.iter().map(|a| a.join(" ")).collect();
        // The command that turned the log off is not in it.
        assert_eq!(shown[0], "INCR n", "EXEC itself is not logged: {shown:?}");
        assert_eq!(shown[1], "MULTI");
        assert_eq!(shown[2], "AUTH (redacted) (redacted)");
        assert_eq!(shown[3], "CONFIG SET masterauth (redacted)");
        assert_eq!(log[4][2], format!("{}... (2 more bytes)", "A".repeat(128)));
        assert_eq!(log[5].len(), 32);
        assert_eq!(log[5][31], "... (11 more arguments)");
        let n: i64 = redis::cmd("SLOWLOG").arg("LEN").query(&mut c).unwrap();
        assert_eq!(n as usize, log.len());
        q(&mut c, &["CONFIG", "SET", "slowlog-log-slower-than", "0"]);
        q(&mut c, &["CONFIG", "SET", "slowlog-max-len", "2"]);
        q(&mut c, &["PING"]);
        assert_eq!(slowlog_args(&mut c).len(), 2);
    }
    let mut d = Diff::start(&[]);
    d.same_str(&["SLOWLOG", "GET", "-2"]);
    d.same_str(&["SLOWLOG", "GET", "x"]);
    d.same_str(&["SLOWLOG", "GET", "1", "2"]);
    d.same_str(&["SLOWLOG", "HELP"]);
    d.same_str(&["LATENCY", "HELP"]);
    d.same_str(&["LATENCY", "HISTORY", "nosuch"]);
    d.same_str(&["LATENCY", "GRAPH", "nosuch"]);
    d.same_str(&["LATENCY", "RESET", "nosuch"]);
    d.same_str(&["LATENCY", "HISTOGRAM", "nosuch"]);
    d.same_str(&["LATENCY", "DOCTOR"]);
    d.same_str(&["LATENCY", "HELP", "x"]);
}

/// LATENCY records commands over the threshold; HISTOGRAM and INFO
/// latencystats track every command (DEBUG as one command, as in Redis).
#[test]
fn latency_monitor_and_histograms() {
    let s = Server::start(&["--enable-debug-command", "yes"]);
    let mut r = s.raw();
    assert_eq!(
        line(
            &mut r,
            &["CONFIG", "SET", "latency-monitor-threshold", "50"]
        ),
        "+OK"
    );
    assert_eq!(line(&mut r, &["DEBUG", "SLEEP", "0.1"]), "+OK");
    let latest = line(&mut r, &["LATENCY", "LATEST"]);
    assert!(latest.contains("command"), "{latest}");
    let hist = line(&mut r, &["LATENCY", "HISTORY", "command"]);
    assert!(hist.starts_with("*1\r\n*2\r\n:"), "{hist}");
    let graph = line(&mut r, &["LATENCY", "GRAPH", "command"]);
    assert!(graph.contains("command - high"), "{graph}");
    let doc = line(&mut r, &["LATENCY", "DOCTOR"]);
    assert!(doc.contains("1. command: 1 latency spikes"), "{doc}");
    assert_eq!(line(&mut r, &["LATENCY", "RESET"]), ":1");
    assert_eq!(line(&mut r, &["LATENCY", "LATEST"]), "*0");
    assert_eq!(line(&mut r, &["CONFIG", "RESETSTAT"]), "+OK");
    line(&mut r, &["SET", "a", "b"]);
    line(&mut r, &["SET", "a", "c"]);
    line(&mut r, &["CLIENT", "ID"]);
    line(&mut r, &["DEBUG", "SLEEP", "0"]);
    let h = line(
        &mut r,
        &["LATENCY", "HISTOGRAM", "set", "client", "debug", "nosuch"],
    );
    assert!(
        h.starts_with("*6\r\n$3\r\nset\r\n*4\r\n$5\r\ncalls\r\n:2\r\n$14\r\nhistogram_usec\r\n"),
        "{h}"
    );
    assert!(h.contains("$9\r\nclient|id\r\n"), "{h}");
    assert!(h.contains("$5\r\ndebug\r\n"), "{h}");
    let info = line(&mut r, &["INFO", "latencystats"]);
    assert!(info.contains("latency_percentiles_usec_set:p50="), "{info}");
    assert!(
        info.contains("latency_percentiles_usec_debug:p50="),
        "{info}"
    );
    let stats = line(&mut r, &["INFO", "commandstats"]);
    assert!(stats.contains("cmdstat_debug:calls=1,"), "{stats}");
}

/// MONITOR shows a command after it ran, with its passwords redacted.
#[test]
fn monitor_redacts_and_orders_exec() {
    let s = Server::start(&[]);
    let mut m = s.raw();
    assert_eq!(line(&mut m, &["MONITOR"]), "+OK");
    let mut r = s.raw();
    line(&mut r, &["AUTH", "user", "pw"]);
    line(&mut r, &["HELLO", "2", "AUTH", "user", "pw"]);
    line(&mut r, &["MULTI"]);
    line(&mut r, &["SET", "foo", "bar"]);
    line(&mut r, &["EXEC"]);
    let mut got = Vec::new();
    for _ in 0..5 {
        got.push(m.reply_str());
    }
    assert!(
        got[0].contains(r#""AUTH" "(redacted)" "(redacted)""#),
        "{got:?}"
    );
    assert!(
        got[1].contains(r#""HELLO" "2" "AUTH" "(redacted)" "(redacted)""#),
        "{got:?}"
    );
    assert!(got[2].contains(r#""MULTI""#), "{got:?}");
    assert!(got[3].contains(r#""SET" "foo" "bar""#), "{got:?}");
    assert!(got[4].contains(r#""EXEC""#), "{got:?}");
}

/// COMMAND LIST lists subcommands as `container|sub`, as Redis 7.0.
#[test]
fn command_list_has_subcommands() {
    let s = Server::start(&[]);
    let mut r = s.raw();
    let all = line(&mut r, &["COMMAND", "LIST"]);
    assert!(all.contains("\r\nconfig|get\r\n"), "{all}");
    assert!(!all.contains("debug|"), "DEBUG is one command");
    let mut d = Diff::start(&[]);
    // Redis lists in its hash table's order: compare as sets.
    let (a, b) = d.both(&[b"COMMAND", b"LIST", b"FILTERBY", b"PATTERN", b"config|*"]);
    let sorted = |r: Vec<u8>| {
        let mut v: Vec<String> = String::from_utf8_lossy(&r)
            .split("\r\n")
            .map(str::to_string)
            .collect();
        v.sort();
        v
    };
    assert_eq!(sorted(a), sorted(b));
    // DEBUG: one command with Redis's flags, no subcommands.
    let info = line(&mut r, &["COMMAND", "INFO", "debug"]);
    assert!(
        info.starts_with("*1\r\n*10\r\n$5\r\ndebug\r\n:-2\r\n*4\r\n+admin\r\n+noscript\r\n+loading\r\n+stale\r\n"),
        "{info}"
    );
    assert!(info.ends_with("*0\r\n*0\r\n*0"), "{info}");
}

/// CLIENT LIST counts the running command in its qbuf and shows it as the
/// client's command, as Redis does.
#[test]
fn client_list_shows_running_command() {
    let mut d = Diff::start(&[]);
    for c in [&mut d.ours, &mut d.theirs] {
        let l = line(c, &["CLIENT", "LIST"]);
        assert!(
            l.contains(" qbuf=26 ") && l.contains(" cmd=client|list "),
            "{l}"
        );
    }
}

/// MIGRATE moves keys (with TTLs) to relica and to redis-server, reuses
/// its connection, COPY keeps the source, errors come back as Redis words
/// them, and the source's replicas see a DEL.
#[test]
fn migrate_between_servers() {
    let src = Server::start(&[]);
    let mut r = src.raw();
    for (n, target) in [Server::start(&[]), Server::redis(&[])]
        .into_iter()
        .enumerate()
    {
        let port = target.port.to_string();
        let mut t = target.raw();
        line(&mut r, &["FLUSHALL"]);
        line(&mut r, &["RPUSH", "l", "a", "b"]);
        line(&mut r, &["SET", "s", "v", "PX", "100000"]);
        line(&mut r, &["SET", "c", "copy"]);
        assert_eq!(
            line(
                &mut r,
                &["MIGRATE", "127.0.0.1", &port, "nosuch", "0", "5000"]
            ),
            "+NOKEY"
        );
        assert_eq!(
            line(&mut r, &["MIGRATE", "127.0.0.1", &port, "l", "3", "5000"]),
            "+OK"
        );
        assert_eq!(line(&mut r, &["EXISTS", "l"]), ":0");
        assert_eq!(line(&mut t, &["SELECT", "3"]), "+OK");
        assert_eq!(
            line(&mut t, &["LRANGE", "l", "0", "-1"]),
            "*2\r\n$1\r\na\r\n$1\r\nb"
        );
        assert_eq!(
            line(
                &mut r,
                &[
                    "MIGRATE",
                    "127.0.0.1",
                    &port,
                    "",
                    "3",
                    "5000",
                    "COPY",
                    "KEYS",
                    "s",
                    "c"
                ]
            ),
            "+OK"
        );
        assert_eq!(line(&mut r, &["EXISTS", "s", "c"]), ":2");
        let ttl: i64 = line(&mut t, &["PTTL", "s"])[1..].parse().unwrap();
        assert!(ttl > 90_000 && ttl <= 100_000, "{ttl}");
        // One connection per target, kept.
        let cached = format!("migrate_cached_sockets:{}", n + 1);
        assert!(line(&mut r, &["INFO", "stats"]).contains(&cached));
        let e = line(&mut r, &["MIGRATE", "127.0.0.1", &port, "c", "3", "5000"]);
        assert_eq!(
            e,
            "-ERR Target instance replied with error: BUSYKEY Target key name already exists."
        );
        assert_eq!(
            line(
                &mut r,
                &["MIGRATE", "127.0.0.1", &port, "c", "3", "5000", "REPLACE"]
            ),
            "+OK"
        );
        assert_eq!(line(&mut r, &["EXISTS", "c"]), ":0");
        assert_eq!(
            line(
                &mut r,
                &["MIGRATE", "127.0.0.1", &port, "x", "3", "5000", "KEYS", "s"]
            ),
            "-ERR When using MIGRATE KEYS option, the key argument must be set to the empty string"
        );
        line(&mut r, &["SET", "z", "1"]);
        assert_eq!(
            line(&mut r, &["MIGRATE", "127.0.0.1", &port, "z", "0", "5000", "AUTH", "pw"]),
            "-ERR Target instance replied with error: ERR AUTH <password> called without any password configured for the default user. Are you sure your configuration is correct?"
        );
        assert_eq!(line(&mut r, &["EXISTS", "z"]), ":1");
    }
    // Nobody listens: an I/O error, and the key stays.
    let closed = free_port().to_string();
    assert_eq!(
        line(&mut r, &["MIGRATE", "127.0.0.1", &closed, "z", "0", "500"]),
        "-IOERR error or timeout connecting to the client"
    );
    assert_eq!(line(&mut r, &["EXISTS", "z"]), ":1");
    wait_for(
        "idle MIGRATE sockets to close",
        Duration::from_secs(30),
        || line(&mut r, &["INFO", "stats"]).contains("migrate_cached_sockets:0"),
    );
}

/// CONFIG SET as Redis 7.0: percentages for maxmemory-clients, protected
/// directives, all-or-nothing with the first error, a new port listened on
/// at once (the old one closed), a used port refused and rolled back.
#[test]
fn config_set_checks_and_applies_as_redis() {
    let mut d = Diff::start(&[]);
    d.same_str(&["CONFIG", "SET", "maxmemory-clients", "10%"]);
    d.same_str(&["CONFIG", "GET", "maxmemory-clients"]);
    d.same_str(&["CONFIG", "SET", "maxmemory-clients", "200%"]);
    d.same_str(&["CONFIG", "SET", "maxmemory-clients", "x"]);
    d.same_str(&["CONFIG", "SET", "maxmemory-clients", "1mb"]);
    d.same_str(&["CONFIG", "GET", "maxmemory-clients"]);
    d.same_str(&["CONFIG", "SET", "dir", "/tmp"]);
    d.same_str(&["CONFIG", "SET", "dbfilename", "x.rdb"]);
    d.same_str(&[
        "CONFIG",
        "SET",
        "maxmemory",
        "1000",
        "maxmemory-clients",
        "101%",
        "hz",
        "x",
    ]);
    d.same_str(&["CONFIG", "GET", "maxmemory"]);
    d.same_str(&["CONFIG", "SET", "shutdown-on-sigterm", "now nosave"]);
    d.same_str(&["CONFIG", "GET", "shutdown-on-sigterm"]);
    d.same_str(&["CONFIG", "SET", "shutdown-on-sigterm", "save nosave"]);
    d.same_str(&["CONFIG", "SET", "shutdown-on-sigterm", "bogus"]);

    let s = Server::start(&[]);
    let mut r = s.raw();
    // A port somebody else holds: refused, nothing changed.
    let held = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let held_port = held.local_addr().unwrap().port().to_string();
    let e = line(
        &mut r,
        &["CONFIG", "SET", "maxmemory", "12345", "port", &held_port],
    );
    assert!(
        e.starts_with("-ERR CONFIG SET failed (possibly related to argument 'port') - Unable to listen on this port"),
        "{e}"
    );
    assert_eq!(
        line(&mut r, &["CONFIG", "GET", "maxmemory"]),
        "*2\r\n$9\r\nmaxmemory\r\n$1\r\n0"
    );
    // The same port again is no change.
    let own = s.port.to_string();
    assert_eq!(line(&mut r, &["CONFIG", "SET", "port", &own]), "+OK");
    let new_port = free_port();
    assert_eq!(
        line(&mut r, &["CONFIG", "SET", "port", &new_port.to_string()]),
        "+OK"
    );
    let mut n = Raw::connect(new_port);
    assert_eq!(line(&mut n, &["PING"]), "+PONG");
    assert!(std::net::TcpStream::connect(("127.0.0.1", s.port)).is_err());
    // The connection that asked stays open.
    assert_eq!(line(&mut r, &["PING"]), "+PONG");
}

/// rename-command: the old name is unknown, the new one runs it, an empty
/// name removes it; CONFIG REWRITE keeps the lines.
#[test]
fn rename_command_from_the_config_file() {
    let dir = tempfile::tempdir().unwrap();
    let conf = dir.path().join("r.conf");
    std::fs::write(
        &conf,
        "rename-command flushdb badger\nrename-command keys \"\"\n",
    )
    .unwrap();
    let s = Server::start_conf(Some(&conf), &[]);
    let mut r = s.raw();
    assert!(line(&mut r, &["FLUSHDB"]).starts_with("-ERR unknown command 'FLUSHDB'"));
    assert!(line(&mut r, &["KEYS", "*"]).starts_with("-ERR unknown command 'KEYS'"));
    line(&mut r, &["SET", "a", "1"]);
    assert_eq!(line(&mut r, &["BADGER"]), "+OK");
    assert_eq!(line(&mut r, &["DBSIZE"]), ":0");
    assert_eq!(line(&mut r, &["CONFIG", "REWRITE"]), "+OK");
    let text = std::fs::read_to_string(&conf).unwrap();
    assert!(text.contains("rename-command flushdb badger"), "{text}");
    std::fs::write(&conf, "rename-command nosuch x\n").unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_relica-server"))
        .arg(&conf)
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("No such command in rename-command"));
}

/// TOUCH refreshes a key's access time (OBJECT IDLETIME), as Redis's
/// lookupKeyRead.
#[test]
fn touch_refreshes_idle_time() {
    let s = Server::start(&[]);
    let mut r = s.raw();
    line(&mut r, &["SET", "foo", "bar"]);
    wait_for("the key to idle", Duration::from_secs(20), || {
        line(&mut r, &["OBJECT", "IDLETIME", "foo"])[1..]
            .parse::<i64>()
            .unwrap()
            >= 2
    });
    assert_eq!(line(&mut r, &["TOUCH", "foo", "nosuch"]), ":1");
    let idle: i64 = line(&mut r, &["OBJECT", "IDLETIME", "foo"])[1..]
        .parse()
        .unwrap();
    assert!(idle < 2, "{idle}");
}

/// A replica connects to its master from bind-source-addr.
#[test]
fn replica_connects_from_bind_source_addr() {
    let master = Server::start(&[]);
    let replica = Server::start(&["--bind-source-addr", "127.0.0.2"]);
    let mut r = replica.raw();
    let port = master.port.to_string();
    assert_eq!(line(&mut r, &["REPLICAOF", "127.0.0.1", &port]), "+OK");
    let mut m = master.raw();
    wait_for("the replica to attach", Duration::from_secs(30), || {
        line(&mut m, &["INFO", "replication"]).contains("slave0:ip=127.0.0.2,")
    });
    // The same address is refused as a listening address it cannot bind.
    let e = line(&mut r, &["CONFIG", "SET", "bind", "192.0.2.1"]);
    assert_eq!(
        e,
        "-ERR CONFIG SET failed (possibly related to argument 'bind') - Failed to bind to specified addresses."
    );
    assert_eq!(line(&mut r, &["PING"]), "+PONG");
}

/// MIGRATE's keys as Redis finds them: after KEYS, past AUTH's password
/// (even one spelled KEYS), for COMMAND GETKEYS and ACL checks alike.
#[test]
fn migrate_keys_skip_auth_arguments() {
    let mut d = Diff::start(&[]);
    d.same_str(&[
        "COMMAND", "GETKEYS", "MIGRATE", "h", "1", "", "0", "5000", "AUTH", "KEYS", "KEYS", "rw",
    ]);
    d.same_str(&[
        "COMMAND", "GETKEYS", "MIGRATE", "h", "1", "", "0", "5000", "AUTH2", "u", "KEYS", "KEYS",
        "a", "b",
    ]);
    d.same_str(&["COMMAND", "GETKEYS", "MIGRATE", "h", "1", "k", "0", "5000"]);
    d.same_str(&["ACL", "SETUSER", "t", "on", "nopass", "+migrate", "~rw"]);
    d.same_str(&[
        "ACL", "DRYRUN", "t", "MIGRATE", "h", "1", "", "0", "5000", "AUTH", "KEYS", "KEYS", "rw",
    ]);
    d.same_str(&[
        "ACL", "DRYRUN", "t", "MIGRATE", "h", "1", "", "0", "5000", "KEYS", "other",
    ]);
}

/// watchdog-period: a server stuck longer than the period (here DEBUG
/// SLEEP) logs Redis's watchdog line, relica as redis-server.
#[test]
fn watchdog_reports_a_stalled_server() {
    for s in [Server::start(&[]), Server::redis(&[])] {
        let mut r = s.raw();
        assert_eq!(
            r.call(&["CONFIG", "SET", "watchdog-period", "200"]),
            "+OK\r\n"
        );
        assert_eq!(r.call(&["DEBUG", "SLEEP", "1"]), "+OK\r\n");
        wait_for("the watchdog's log line", Duration::from_secs(5), || {
            s.log_text().contains("--- WATCHDOG TIMER EXPIRED ---")
        });
        assert_eq!(
            r.call(&["CONFIG", "SET", "watchdog-period", "0"]),
            "+OK\r\n"
        );
    }
}

/// MODULE and `enable-module-command` (Redis's protected check, after the
/// arity check): replies as redis-server's with no module loaded.
#[test]
fn module_command_and_enable_module_command_as_redis() {
    for setting in ["no", "yes", "local"] {
        let mut d = Diff::start(&["--enable-module-command", setting]);
        for cmd in [
            &["MODULE", "LIST"][..],
            &["MODULE", "HELP"],
            &["MODULE", "LOAD"],
            &["MODULE", "LOAD", "/nonexistent/module.so"],
            &["MODULE", "LOADEX", "/nonexistent/module.so", "ARGS", "a"],
            &["MODULE", "UNLOAD", "nosuchmodule"],
            &["MODULE", "UNLOAD"],
            &["MODULE", "NOSUCH"],
            &["CONFIG", "SET", "enable-module-command", "yes"],
        ] {
            d.same_str(cmd);
        }
    }
}

/// A field of the CLIENT LIST line of the client named `name`.
fn client_field(r: &mut Raw, name: &str, field: &str) -> usize {
    let list = r.call(&["CLIENT", "LIST"]);
    let line = list
        .lines()
        .find(|l| l.contains(&format!(" name={name} ")))
        .unwrap_or_else(|| panic!("no client {name} in {list}"));
    let key = format!(" {field}=");
    let at = line.find(&key).unwrap_or_else(|| panic!("{line}")) + key.len();
    line[at..].split(' ').next().unwrap().parse().unwrap()
}

/// Query and reply buffers as Redis's clientsCron resizes them, side by
/// side with redis-server: a connection reads 16 KB at a time, an idle
/// client's query buffer is freed after 2 s, a big argument leaves room
/// for another as big until the cron cuts it back, and the reply buffer
/// shrinks to its peak (1 KB for an idle client) and doubles back to
/// 16 KB under big replies (DEBUG REPLYBUFFER, INFO reply_buffer_*).
#[test]
fn client_buffers_are_resized_as_in_redis() {
    let (ours, theirs) = (Server::start(&[]), Server::redis(&[]));
    for port in [ours.port, theirs.port] {
        let mut r = Raw::connect(port);
        let mut c = Raw::connect(port);
        c.call(&["CLIENT", "SETNAME", "test_client"]);
        let qb = |r: &mut Raw| {
            client_field(r, "test_client", "qbuf") + client_field(r, "test_client", "qbuf-free")
        };
        let q = qb(&mut r);
        assert!((16384..32768).contains(&q), "port {port}: query buffer {q}");
        wait_for("idle query buffer freed", Duration::from_secs(10), || {
            qb(&mut r) == 0
        });
        // The next command is read as ever.
        assert_eq!(c.call(&["PING"]), "+PONG\r\n");
        let big = "A".repeat(400_000);
        assert_eq!(c.call(&["SET", "x", &big]), "+OK\r\n");
        let after_big = qb(&mut r);
        assert!(after_big > 32768, "port {port}: {after_big}");
        wait_for("query buffer cut back", Duration::from_secs(10), || {
            assert_eq!(c.call(&["SET", "x", "small"]), "+OK\r\n");
            let q = qb(&mut r);
            q > 0 && q < after_big
        });

        assert_eq!(
            r.call(&["DEBUG", "REPLYBUFFER", "PEAK-RESET-TIME", "100"]),
            "+OK\r\n"
        );
        let rbs = |r: &mut Raw| client_field(r, "test_client", "rbs");
        wait_for("idle reply buffer shrunk", Duration::from_secs(10), || {
            (1024..2048).contains(&rbs(&mut r))
        });
        assert_eq!(r.call(&["SET", "bigval", &"x".repeat(32768)]), "+OK\r\n");
        assert_eq!(
            r.call(&["DEBUG", "REPLYBUFFER", "PEAK-RESET-TIME", "never"]),
            "+OK\r\n"
        );
        wait_for("busy reply buffer grown", Duration::from_secs(10), || {
            assert_eq!(c.call(&["GET", "bigval"]).len(), 32768 + 10);
            (16384..32768).contains(&rbs(&mut r))
        });
        assert!(client_field(&mut r, "test_client", "rbp") > 0);
        assert!(int_field(&mut r, "reply_buffer_shrinks") > 0);
        assert!(int_field(&mut r, "reply_buffer_expands") > 0);
        // RESIZING 0 leaves every reply buffer as it is.
        assert_eq!(
            r.call(&["DEBUG", "REPLYBUFFER", "RESIZING", "0"]),
            "+OK\r\n"
        );
        assert_eq!(
            r.call(&["DEBUG", "REPLYBUFFER", "PEAK-RESET-TIME", "reset"]),
            "+OK\r\n"
        );
        assert_eq!(
            r.call(&["DEBUG", "REPLYBUFFER", "RESIZING", "1"]),
            "+OK\r\n"
        );
    }
}

/// The cluster commands answer as a standalone Redis.
#[test]
fn cluster_commands_answer_as_standalone() {
    let mut d = Diff::start(&[]);
    for c in ["ASKING", "READONLY", "READWRITE"] {
        d.same_str(&[c]);
        d.same_str(&[c, "extra"]);
    }
}

/// Redis's crash report: DEBUG SEGFAULT and a SIGABRT from outside end the
/// server by their signal, after the log got the bug report with the
/// signal and a stack trace, as redis-server's does.
#[test]
fn crash_report_on_fatal_signals() {
    use std::os::unix::process::ExitStatusExt;
    for redis in [false, true] {
        for abort in [false, true] {
            let args = [
                "--enable-debug-command",
                "yes",
                "--crash-memcheck-enabled",
                "no",
            ];
            let mut s = if redis {
                Server::redis(&args)
            } else {
                Server::start(&args)
            };
            let mut r = s.raw();
            if abort {
                let st = std::process::Command::new("kill")
                    .args(["-ABRT", &s.pid().to_string()])
                    .status()
                    .unwrap();
                assert!(st.success());
            } else {
                r.cmd(&[b"DEBUG", b"SEGFAULT"]);
            }
            let st = s.wait_exit(Duration::from_secs(30));
            let sig = if abort { 6 } else { 11 };
            assert_eq!(st.signal(), Some(sig), "redis {redis}: {st:?}");
            let log = s.log_text();
            assert!(
                log.contains("=== REDIS BUG REPORT START")
                    && log.contains(&format!("crashed by signal: {sig}"))
                    && log.contains("------ STACK TRACE ------"),
                "redis {redis}: {log}"
            );
        }
    }
}
