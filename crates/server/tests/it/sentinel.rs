//! Three real redis-sentinels managing relica: one master and two
//! replicas; the master is killed, Sentinel promotes a replica, the other
//! follows it with a partial resync, and no write acknowledged by WAIT is
//! lost. The sentinels' hello messages, published to every instance every
//! two seconds, must not move the replicas' offsets (issue 12). The same
//! with hostnames (`resolve-hostnames`, `announce-hostnames`, every
//! instance announcing `localhost`; issue 20).

use std::time::{Duration, Instant};

use crate::util::{free_port, wait_for, Raw, Server};

const T: Duration = Duration::from_secs(90);

struct Sentinel {
    child: std::process::Child,
    port: u16,
    dir: tempfile::TempDir,
}

impl Drop for Sentinel {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Sentinel {
    fn start(master_port: u16, quorum: u32) -> Sentinel {
        Sentinel::start_with(master_port, quorum, "")
    }

    /// A sentinel with extra configuration lines.
    fn start_with(master_port: u16, quorum: u32, extra: &str) -> Sentinel {
        Sentinel::start_at("127.0.0.1", "127.0.0.1", master_port, quorum, extra)
    }

    /// A sentinel listening on `bind`, monitoring `host`:`master_port`,
    /// with extra configuration lines before the monitor line (Sentinel
    /// resolves the host as it reads `sentinel monitor`).
    fn start_at(bind: &str, host: &str, master_port: u16, quorum: u32, extra: &str) -> Sentinel {
        let dir = tempfile::tempdir().unwrap();
        let port = free_port();
        let conf = dir.path().join("sentinel.conf");
        std::fs::write(
            &conf,
            format!(
                "port {port}\nbind {bind}\ndir {}\nlogfile {}\n{extra}\
                 sentinel monitor mymaster {host} {master_port} {quorum}\n\
                 sentinel down-after-milliseconds mymaster 1000\n\
                 sentinel failover-timeout mymaster 20000\n\
                 sentinel parallel-syncs mymaster 1\n",
                dir.path().display(),
                dir.path().join("sentinel.log").display()
            ),
        )
        .unwrap();
        let child = std::process::Command::new("redis-sentinel")
            .arg(&conf)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("redis-sentinel (scripts/test installs it)");
        let s = Sentinel { child, port, dir };
        wait_for("sentinel up", T, || {
            std::net::TcpStream::connect(("127.0.0.1", port)).is_ok()
        });
        s
    }

    /// Its log so far.
    fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("sentinel.log")).unwrap_or_default()
    }

    fn raw(&self) -> Raw {
        let s = std::net::TcpStream::connect(("127.0.0.1", self.port)).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        Raw::from_stream(s)
    }
}

/// A relica with a config file, as Sentinel's CONFIG REWRITE expects.
fn relica_with_conf(extra: &str) -> (Server, tempfile::TempDir) {
    relica_with_conf_args(extra, &[])
}

/// The same, with extra command-line arguments.
fn relica_with_conf_args(extra: &str, args: &[&str]) -> (Server, tempfile::TempDir) {
    let d = tempfile::tempdir().unwrap();
    let conf = d.path().join("relica.conf");
    std::fs::write(&conf, format!("appendonly no\n{extra}")).unwrap();
    (Server::start_conf(Some(&conf), args), d)
}

#[test]
fn sentinel_fails_over_relica_without_losing_acknowledged_writes() {
    let (mut m, _md) = relica_with_conf("");
    let mut rm = m.raw();
    let mp = m.port.to_string();
    let (r1, _d1) = relica_with_conf(&format!("replicaof 127.0.0.1 {mp}\n"));
    let (r2, _d2) = relica_with_conf(&format!("replicaof 127.0.0.1 {mp}\n"));
    let (mut a, mut b) = (r1.raw(), r2.raw());
    for r in [&mut a, &mut b] {
        wait_for("replica up", T, || {
            r.info_field("master_link_status") == "up"
        });
    }
    let sentinels: Vec<Sentinel> = (0..3).map(|_| Sentinel::start(m.port, 2)).collect();
    let mut s = sentinels[0].raw();
    for sentinel in &sentinels {
        let mut c = sentinel.raw();
        wait_for(
            "sentinel sees both replicas and the other sentinels",
            T,
            || {
                c.call(&["SENTINEL", "REPLICAS", "mymaster"])
                    .starts_with("*2\r\n")
                    && c.call(&["SENTINEL", "SENTINELS", "mymaster"])
                        .starts_with("*2\r\n")
            },
        );
    }
    for i in 0..200 {
        rm.call(&["SET", &format!("acked:{i}"), &i.to_string()]);
    }
    assert_eq!(rm.call(&["WAIT", "2", "5000"]), ":2\r\n");
    // Sentinels PUBLISH hellos on the replicas themselves (more PUBLISH
    // calls there than the master's, which reach them through the
    // stream); the replicas' offsets stay the master's all the same.
    let publishes = |r: &mut Raw| -> i64 {
        let stats = r.call(&["INFO", "commandstats"]);
        stats
            .lines()
            .find_map(|l| l.strip_prefix("cmdstat_publish:calls="))
            .and_then(|v| v.split(',').next())
            .and_then(|n| n.parse().ok())
            .unwrap_or(0)
    };
    wait_for("hellos published on the replicas", T, || {
        let on_master = publishes(&mut rm);
        publishes(&mut a) > on_master && publishes(&mut b) > on_master
    });
    wait_for("replicas at the master's offset", T, || {
        let off = rm.info_field("master_repl_offset");
        a.info_field("master_repl_offset") == off && b.info_field("master_repl_offset") == off
    });
    // Kill the master by its PID.
    m.kill9();
    drop(rm);
    let (new_port, promoted, other) = wait_promotion(&mut s, &mp, None, &r1, &r2);
    // Sentinel's failover kills normal clients (CLIENT KILL TYPE normal):
    // every check below uses a fresh connection.
    let field = |srv: &Server, f: &str| srv.raw().info_field(f);
    wait_for("promoted", T, || field(promoted, "role") == "master");
    wait_for("other follows", T, || {
        field(other, "master_port") == new_port && field(other, "master_link_status") == "up"
    });
    // The other replica continued partially; nothing acknowledged is lost.
    kept_and_replicating(promoted, other, "acked", 200);
    drop((a, b));
}

/// Users every instance of the ACL deployment defines: Sentinel's user
/// with the rights Redis's documentation lists for it, and a replication
/// user that may only replicate.
const ACL_USERS: &str = "user sentinel-user on >sentinelpw allchannels +multi +slaveof +ping +exec +subscribe +config|rewrite +role +publish +info +client|setname +client|kill +script|kill\n\
     user repl on >replpw -@all +psync +replconf +ping\n\
     masteruser repl\nmasterauth replpw\n";

/// Three redis-sentinels that log in to relica as a restricted ACL user
/// (`sentinel auth-user`), relica replicas that replicate as a restricted
/// user (`masteruser`): Sentinel still monitors and fails over.
#[test]
fn sentinel_with_acl_users_fails_over_relica() {
    let (mut m, _md) = relica_with_conf(ACL_USERS);
    let mut rm = m.raw();
    let mp = m.port.to_string();
    let (r1, _d1) = relica_with_conf(&format!("{ACL_USERS}replicaof 127.0.0.1 {mp}\n"));
    let (r2, _d2) = relica_with_conf(&format!("{ACL_USERS}replicaof 127.0.0.1 {mp}\n"));
    for r in [&r1, &r2] {
        let mut c = r.raw();
        wait_for("replica up", T, || {
            c.info_field("master_link_status") == "up"
        });
    }
    let auth =
        "sentinel auth-user mymaster sentinel-user\nsentinel auth-pass mymaster sentinelpw\n";
    let sentinels: Vec<Sentinel> = (0..3)
        .map(|_| Sentinel::start_with(m.port, 2, auth))
        .collect();
    for sentinel in &sentinels {
        let mut c = sentinel.raw();
        wait_for(
            "sentinel sees the replicas and the other sentinels",
            T,
            || {
                c.call(&["SENTINEL", "REPLICAS", "mymaster"])
                    .starts_with("*2\r\n")
                    && c.call(&["SENTINEL", "SENTINELS", "mymaster"])
                        .starts_with("*2\r\n")
            },
        );
    }
    let clients = rm.call(&["CLIENT", "LIST"]);
    assert!(clients.contains("user=sentinel-user"), "{clients}");
    assert!(clients.contains("user=repl"), "{clients}");
    assert_eq!(rm.call(&["ACL", "LOG"]), "*0\r\n", "nothing refused");
    rm.call(&["SET", "k", "v"]);
    assert_eq!(rm.call(&["WAIT", "2", "5000"]), ":2\r\n");
    m.kill9();
    drop(rm);
    let mut s = sentinels[0].raw();
    let (new_port, promoted, other) = wait_promotion(&mut s, &mp, None, &r1, &r2);
    let field = |srv: &Server, f: &str| srv.raw().info_field(f);
    wait_for("promoted", T, || field(promoted, "role") == "master");
    wait_for("other follows", T, || {
        field(other, "master_port") == new_port && field(other, "master_link_status") == "up"
    });
    assert_eq!(promoted.raw().call(&["GET", "k"]), "$1\r\nv\r\n");
    assert_eq!(promoted.raw().call(&["ACL", "LOG"]), "*0\r\n");
}

/// Wait until the sentinel names another master than `old_port` (at
/// `host`, when given): its port, then the promoted replica and the other.
fn wait_promotion<'a>(
    s: &mut Raw,
    old_port: &str,
    host: Option<&str>,
    r1: &'a Server,
    r2: &'a Server,
) -> (String, &'a Server, &'a Server) {
    let mut new_port = String::new();
    wait_for("sentinel promotes a replica", T, || {
        let addr = s.call(&["SENTINEL", "GET-MASTER-ADDR-BY-NAME", "mymaster"]);
        let mut it = addr.lines().skip(2).step_by(2);
        let (h, port) = (it.next().unwrap_or(""), it.next().unwrap_or(""));
        if host.is_none_or(|want| h == want) && !port.is_empty() && port != old_port {
            new_port = port.to_string();
            true
        } else {
            false
        }
    });
    if new_port == r1.port.to_string() {
        (new_port, r1, r2)
    } else {
        (new_port, r2, r1)
    }
}

/// After a failover: the other replica continued partially with the
/// promoted one, which holds `<prefix>:i` = i for the `n` acknowledged
/// writes and replicates a new one.
fn kept_and_replicating(promoted: &Server, other: &Server, prefix: &str, n: usize) {
    let mut p = promoted.raw();
    assert_eq!(p.info_field("sync_full"), "0");
    assert!(p.info_field("sync_partial_ok").parse::<i64>().unwrap() >= 1);
    for i in 0..n {
        assert_eq!(
            p.call(&["GET", &format!("{prefix}:{i}")]),
            format!("${}\r\n{i}\r\n", i.to_string().len())
        );
    }
    p.call(&["SET", "after-failover", "x"]);
    wait_for("replicated", T, || {
        other.raw().call(&["GET", "after-failover"]) == "$1\r\nx\r\n"
    });
}

/// A field of `SENTINEL MASTER mymaster` (a flat list of names and values).
fn master_field(s: &mut Raw, name: &str) -> String {
    let reply = s.call(&["SENTINEL", "MASTER", "mymaster"]);
    let lines: Vec<&str> = reply.lines().collect();
    lines
        .iter()
        .position(|l| *l == name)
        .and_then(|i| lines.get(i + 2))
        .map_or(String::new(), |v| v.to_string())
}

/// Issue 20: three redis-sentinels with `resolve-hostnames yes` and
/// `announce-hostnames yes` monitor `localhost`; every relica announces
/// `replica-announce-ip localhost` and the replicas attach with REPLICAOF
/// localhost. Every instance listens on 127.0.0.1 and, where the machine
/// has it, ::1: where `localhost` resolves to ::1 first (Debian's
/// /etc/hosts), Sentinel connects there, as it does to redis-server's
/// default `bind * -::*`, which relica once failed to take. The sentinels
/// see both replicas at once, under their hostname, and a failover
/// reconfigures the other replica with REPLICAOF localhost, which
/// continues partially.
#[test]
fn sentinel_with_hostnames_sees_every_replica_and_fails_over() {
    const BIND: &str = "127.0.0.1 -::1";
    let args = ["--bind", BIND];
    let announce = "replica-announce-ip localhost\n";
    let (mut m, _md) = relica_with_conf_args(announce, &args);
    let mp = m.port.to_string();
    let (r1, _d1) = relica_with_conf_args(announce, &args);
    let (r2, _d2) = relica_with_conf_args(announce, &args);
    for r in [&r1, &r2] {
        assert_eq!(r.raw().call(&["REPLICAOF", "localhost", &mp]), "+OK\r\n");
    }
    let mut rm = m.raw();
    wait_for("both replicas online", T, || {
        let info = rm.call(&["INFO", "replication"]);
        info.matches(",state=online,").count() == 2
    });
    // What Sentinel reads: the master lists its replicas by the name they
    // announce, a replica names its master as it was given (not resolved).
    let info = rm.call(&["INFO", "replication"]);
    for r in [&r1, &r2] {
        assert!(
            info.contains(&format!("ip=localhost,port={},state=online", r.port)),
            "{info}"
        );
        let mut c = r.raw();
        assert_eq!(c.info_field("master_host"), "localhost");
        assert_eq!(c.info_field("master_port"), mp);
        let role = c.call(&["ROLE"]);
        assert!(
            role.starts_with(&format!(
                "*5\r\n$5\r\nslave\r\n$9\r\nlocalhost\r\n:{mp}\r\n"
            )),
            "{role}"
        );
    }
    let role = rm.call(&["ROLE"]);
    assert_eq!(role.matches("$9\r\nlocalhost\r\n").count(), 2, "{role}");

    let hostnames = "sentinel resolve-hostnames yes\nsentinel announce-hostnames yes\n";
    let started = Instant::now();
    let sentinels: Vec<Sentinel> = (0..3)
        .map(|_| Sentinel::start_at(BIND, "localhost", m.port, 2, hostnames))
        .collect();
    // redis-server's replicas are seen on the first INFO after MONITOR;
    // the issue saw num-slaves stay short for 50 s.
    for sentinel in &sentinels {
        let mut c = sentinel.raw();
        wait_for(
            "sentinel sees both replicas",
            Duration::from_secs(20),
            || master_field(&mut c, "num-slaves") == "2",
        );
    }
    let seen_after = started.elapsed();
    for sentinel in &sentinels {
        let mut c = sentinel.raw();
        wait_for("sentinel sees the other sentinels", T, || {
            master_field(&mut c, "num-other-sentinels") == "2"
        });
        assert_eq!(master_field(&mut c, "ip"), "localhost");
        assert_eq!(master_field(&mut c, "flags"), "master");
        let replicas = c.call(&["SENTINEL", "REPLICAS", "mymaster"]);
        for r in [&r1, &r2] {
            let name = format!("localhost:{}", r.port);
            assert!(
                replicas.contains(&format!("$4\r\nname\r\n${}\r\n{name}\r\n", name.len())),
                "{replicas}"
            );
        }
    }
    eprintln!("sentinels saw both replicas after {seen_after:?}");

    for i in 0..100 {
        rm.call(&["SET", &format!("host:{i}"), &i.to_string()]);
    }
    assert_eq!(rm.call(&["WAIT", "2", "5000"]), ":2\r\n");
    wait_for("replicas at the master's offset", T, || {
        let off = rm.info_field("master_repl_offset");
        r1.raw().info_field("master_repl_offset") == off
            && r2.raw().info_field("master_repl_offset") == off
    });
    let killed = Instant::now();
    m.kill9();
    drop(rm);
    let mut s = sentinels[0].raw();
    let (new_port, promoted, other) = wait_promotion(&mut s, &mp, Some("localhost"), &r1, &r2);
    // Sentinel's failover kills normal clients: fresh connections below.
    let field = |srv: &Server, f: &str| srv.raw().info_field(f);
    wait_for("promoted", T, || field(promoted, "role") == "master");
    wait_for("other follows through REPLICAOF localhost", T, || {
        field(other, "master_host") == "localhost"
            && field(other, "master_port") == new_port
            && field(other, "master_link_status") == "up"
    });
    let mut c = s;
    wait_for("failover ends", T, || {
        sentinels[0]
            .log()
            .contains("+switch-master mymaster localhost")
            && master_field(&mut c, "num-slaves") == "2"
    });
    eprintln!("failover done {:?} after the kill", killed.elapsed());
    let info = promoted.raw().call(&["INFO", "replication"]);
    assert!(
        info.contains(&format!("ip=localhost,port={},state=online", other.port)),
        "{info}"
    );
    kept_and_replicating(promoted, other, "host", 100);
}
