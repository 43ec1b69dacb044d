//! The append-only file (issue 17): writes survive a restart and a kill -9,
//! rewrites keep the data, truncated tails load as Redis's
//! `aof-load-truncated` says, and AOF directories move between relica and a
//! real redis-server both ways (`redis-check-aof` accepts relica's).

use std::time::Duration;

use crate::util::{wait_for, Raw, Server};

fn digest(r: &mut Raw) -> String {
    r.call(&["DEBUG", "DIGEST"])
}

fn rewrite_done(r: &mut Raw) -> bool {
    r.info_field("aof_rewrite_in_progress") == "0" && r.info_field("aof_rewrite_scheduled") == "0"
}

/// A mixed dataset over two dbs, with TTLs and a transaction.
fn write_mix(r: &mut Raw, tag: &str) {
    for i in 0..200 {
        r.call(&["SET", &format!("s:{tag}:{i}"), &format!("v{i}")]);
    }
    r.call(&["RPUSH", &format!("l:{tag}"), "a", "b", "c", "1", "2"]);
    r.call(&["HSET", &format!("h:{tag}"), "f1", "v1", "f2", "v2"]);
    r.call(&["SADD", &format!("st:{tag}"), "x", "y", "3"]);
    r.call(&[
        "ZADD",
        &format!("z:{tag}"),
        "1.5",
        "m1",
        "-2",
        "m2",
        "inf",
        "m3",
    ]);
    r.call(&["SET", &format!("ttl:{tag}"), "v", "EX", "1000"]);
    r.call(&["SELECT", "3"]);
    r.call(&["INCRBY", &format!("n:{tag}"), "7"]);
    r.call(&["MULTI"]);
    r.call(&["LPUSH", &format!("l3:{tag}"), "q"]);
    r.call(&["INCR", &format!("n:{tag}")]);
    r.call(&["EXEC"]);
    r.call(&["SELECT", "0"]);
    r.call(&["DEL", &format!("s:{tag}:0")]);
}

fn start_in(dir: &str, extra: &[&str]) -> Server {
    let mut args = vec!["--dir", dir, "--appendonly", "yes"];
    args.extend_from_slice(extra);
    Server::start(&args)
}

#[test]
fn restart_and_kill9_recover_writes_across_rewrites() {
    for preamble in ["yes", "no"] {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path().to_str().unwrap();
        let opts = ["--aof-use-rdb-preamble", preamble];
        let before = {
            let s = start_in(d, &opts);
            let mut r = s.raw();
            write_mix(&mut r, "a");
            assert_eq!(
                r.call(&["BGREWRITEAOF"]),
                "+Background append only file rewriting started\r\n"
            );
            // Writes during the rewrite go to the new incremental file.
            write_mix(&mut r, "b");
            wait_for("rewrite", Duration::from_secs(20), || rewrite_done(&mut r));
            write_mix(&mut r, "c");
            digest(&mut r)
        };
        // SHUTDOWN-less stop: the handle's drop kills the process.
        let s = start_in(d, &opts);
        let mut r = s.raw();
        assert_eq!(digest(&mut r), before, "preamble {preamble}");
        assert_eq!(r.call(&["GET", "s:a:5"]), "$2\r\nv5\r\n");
        let m = std::fs::read_to_string(dir.path().join("appendonlydir/appendonly.aof.manifest"))
            .unwrap();
        let ext = if preamble == "yes" { "rdb" } else { "aof" };
        assert_eq!(
            m,
            format!("file appendonly.aof.2.base.{ext} seq 2 type b\nfile appendonly.aof.2.incr.aof seq 2 type i\n")
        );
        // History files are gone.
        assert!(!dir
            .path()
            .join("appendonlydir/appendonly.aof.1.incr.aof")
            .exists());
    }
}

#[test]
fn appendfsync_always_loses_no_acknowledged_write() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().to_str().unwrap();
    let mut s = start_in(d, &["--appendfsync", "always"]);
    let port = s.port;
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let acks: Vec<_> = (0..3)
        .map(|t| {
            let stop = stop.clone();
            std::thread::spawn(move || {
                // A writer that had not connected when the server was
                // killed acknowledged nothing.
                let Ok(mut c) = redis::Client::open(format!("redis://127.0.0.1:{port}/"))
                    .unwrap()
                    .get_connection()
                else {
                    return 0;
                };
                let mut n = 0i64;
                while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                    let r: redis::RedisResult<i64> =
                        redis::cmd("INCR").arg(format!("ctr{t}")).query(&mut c);
                    match r {
                        Ok(v) => n = v,
                        Err(_) => break,
                    }
                }
                n
            })
        })
        .collect();
    let mut r = s.raw();
    wait_for("some writes", Duration::from_secs(20), || {
        r.call(&["GET", "ctr0"]).len() > 6
    });
    s.kill9();
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let acked: Vec<i64> = acks.into_iter().map(|h| h.join().unwrap()).collect();
    let s2 = start_in(d, &["--appendfsync", "always"]);
    let mut r2 = s2.raw();
    for (t, a) in acked.iter().enumerate() {
        let got = r2.call(&["GET", &format!("ctr{t}")]);
        let v: i64 = got.lines().nth(1).unwrap_or("0").parse().unwrap_or(0);
        assert!(v >= *a, "ctr{t}: {v} < acknowledged {a}");
    }
}

fn start_fails(dir: &str, extra: &[&str]) -> String {
    let log = std::path::Path::new(dir).join("fail.log");
    let _ = std::fs::remove_file(&log);
    let status = std::process::Command::new(env!("CARGO_BIN_EXE_relica-server"))
        .args(["--port", &crate::util::free_port().to_string()])
        .args(["--bind", "127.0.0.1", "--save", "", "--appendonly", "yes"])
        .args(["--dir", dir])
        .args(["--logfile", log.to_str().unwrap()])
        .args(extra)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .unwrap();
    assert!(!status.success());
    std::fs::read_to_string(&log).unwrap()
}

#[test]
fn truncated_tail_and_bad_format() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().to_str().unwrap();
    {
        let mut s = start_in(d, &[]);
        let mut r = s.raw();
        for _ in 0..5 {
            r.call(&["INCR", "foo"]);
        }
        r.cmd(&[b"SHUTDOWN", b"NOSAVE"]);
        s.wait_exit(Duration::from_secs(20));
    }
    let incr = dir.path().join("appendonlydir/appendonly.aof.1.incr.aof");
    let good = std::fs::read(&incr).unwrap();
    let mut bad = good.clone();
    bad.extend_from_slice(b"*2\r\n$4\r\nINCR\r\n$3\r\nfo");
    std::fs::write(&incr, &bad).unwrap();
    let text = start_fails(d, &["--aof-load-truncated", "no"]);
    assert!(
        text.contains(
            "Unexpected end of file reading the append only file appendonly.aof.1.incr.aof"
        ),
        "{text}"
    );
    assert_eq!(std::fs::read(&incr).unwrap(), bad, "left as it was");
    {
        let s = start_in(d, &["--aof-load-truncated", "yes"]);
        let mut r = s.raw();
        assert_eq!(r.call(&["GET", "foo"]), "$1\r\n5\r\n");
        assert!(s.log_text().contains(&format!(
            "!!! Truncating the AOF appendonly.aof.1.incr.aof at offset {} !!!",
            good.len()
        )));
    }
    assert_eq!(std::fs::read(&incr).unwrap(), good, "tail cut off");
    // A MULTI without EXEC at the end is reverted.
    let mut multi = good.clone();
    multi.extend_from_slice(b"*1\r\n$5\r\nMULTI\r\n*2\r\n$4\r\nINCR\r\n$3\r\nfoo\r\n");
    std::fs::write(&incr, &multi).unwrap();
    {
        let s = start_in(d, &[]);
        let mut r = s.raw();
        assert_eq!(r.call(&["GET", "foo"]), "$1\r\n5\r\n");
        assert!(s
            .log_text()
            .contains("Revert incomplete MULTI/EXEC transaction"));
    }
    // A corrupt middle stops start-up.
    let mut corrupt = good[..good.len() / 2].to_vec();
    corrupt.extend_from_slice(b"!!!\r\n");
    corrupt.extend_from_slice(&good);
    std::fs::write(&incr, &corrupt).unwrap();
    let text = start_fails(d, &[]);
    assert!(
        text.contains("Bad file format reading the append only file appendonly.aof.1.incr.aof"),
        "{text}"
    );
}

fn check_aof(manifest: &std::path::Path) -> String {
    let out = std::process::Command::new("redis-check-aof")
        .arg(manifest)
        .output()
        .expect("redis-check-aof (redis-tools)");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn aof_dirs_move_between_relica_and_redis() {
    for preamble in ["yes", "no"] {
        // relica → redis-server
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path().to_str().unwrap();
        let opts = ["--aof-use-rdb-preamble", preamble];
        let want = {
            let mut s = start_in(d, &opts);
            let mut r = s.raw();
            write_mix(&mut r, "a");
            r.call(&["BGREWRITEAOF"]);
            wait_for("rewrite", Duration::from_secs(20), || rewrite_done(&mut r));
            write_mix(&mut r, "b");
            let dg = digest(&mut r);
            r.cmd(&[b"SHUTDOWN", b"NOSAVE"]);
            s.wait_exit(Duration::from_secs(20));
            dg
        };
        let report = check_aof(&dir.path().join("appendonlydir/appendonly.aof.manifest"));
        assert!(
            report.contains("All AOF files and manifest are valid"),
            "{report}"
        );
        {
            let rs = Server::redis(&[
                "--dir",
                d,
                "--appendonly",
                "yes",
                "--aof-use-rdb-preamble",
                preamble,
            ]);
            let mut r = rs.raw();
            assert_eq!(
                digest(&mut r),
                want,
                "redis-server loads relica's ({preamble})"
            );
        }
        // redis-server → relica
        let dir2 = tempfile::tempdir().unwrap();
        let d2 = dir2.path().to_str().unwrap();
        let want2 = {
            let mut rs = Server::redis(&[
                "--dir",
                d2,
                "--appendonly",
                "yes",
                "--aof-use-rdb-preamble",
                preamble,
            ]);
            let mut r = rs.raw();
            write_mix(&mut r, "x");
            r.call(&["BGREWRITEAOF"]);
            wait_for("redis rewrite", Duration::from_secs(20), || {
                rewrite_done(&mut r)
            });
            write_mix(&mut r, "y");
            let dg = digest(&mut r);
            r.cmd(&[b"SHUTDOWN", b"NOSAVE"]);
            rs.wait_exit(Duration::from_secs(20));
            dg
        };
        let s = start_in(d2, &opts);
        let mut r = s.raw();
        assert_eq!(
            digest(&mut r),
            want2,
            "relica loads redis-server's ({preamble})"
        );
    }
}

#[test]
fn legacy_single_aof_is_upgraded() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("appendonly.aof"),
        b"*2\r\n$6\r\nSELECT\r\n$1\r\n0\r\n*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1\r\nv\r\n",
    )
    .unwrap();
    let s = start_in(dir.path().to_str().unwrap(), &[]);
    let mut r = s.raw();
    assert_eq!(r.call(&["GET", "k"]), "$1\r\nv\r\n");
    assert!(s.log_text().contains("Successfully migrated an old-style AOF file (appendonly.aof) into the AOF directory (appendonlydir)."));
    let m =
        std::fs::read_to_string(dir.path().join("appendonlydir/appendonly.aof.manifest")).unwrap();
    assert_eq!(
        m,
        "file appendonly.aof seq 1 type b\nfile appendonly.aof.1.incr.aof seq 1 type i\n"
    );
}

#[test]
fn config_set_appendonly_at_runtime() {
    let s = Server::start(&[]);
    let mut r = s.raw();
    write_mix(&mut r, "a");
    assert_eq!(r.call(&["CONFIG", "SET", "appendonly", "yes"]), "+OK\r\n");
    wait_for("first rewrite", Duration::from_secs(20), || {
        rewrite_done(&mut r)
    });
    assert_eq!(r.info_field("aof_enabled"), "1");
    // Each background job counts where Redis forks (its tests wait on it).
    assert_eq!(r.info_field("total_forks"), "1");
    write_mix(&mut r, "b");
    let before = digest(&mut r);
    assert_eq!(r.call(&["DEBUG", "LOADAOF"]), "+OK\r\n");
    assert_eq!(digest(&mut r), before);
    assert_eq!(r.call(&["CONFIG", "SET", "appendonly", "no"]), "+OK\r\n");
    assert_eq!(r.info_field("aof_enabled"), "0");
}

/// A raw connection to a fixed port (a restarted server keeps its port).
fn connect(port: u16) -> Raw {
    let s = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    Raw::from_stream(s)
}

/// A master with `appendonly yes` (and no RDB) restarted cleanly keeps its
/// replication history through the AOF's closing mark, so its replica (a
/// real redis-server, then relica) continues with a partial resync; after a
/// kill -9 the mark is gone and the replica resyncs fully.
#[test]
fn master_restarted_from_aof_keeps_its_replication_history() {
    const T: Duration = Duration::from_secs(60);
    for relica_replica in [false, true] {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path().to_str().unwrap().to_string();
        let port = crate::util::free_port();
        let p = port.to_string();
        let opts = ["--port", &p, "--repl-diskless-sync", "no"];
        let mut master = start_in(&d, &opts);
        let mut m = connect(port);
        write_mix(&mut m, "a");
        let replica = if relica_replica {
            Server::start(&["--replicaof", "127.0.0.1", &p])
        } else {
            Server::redis(&["--replicaof", "127.0.0.1", &p])
        };
        let mut r = replica.raw();
        crate::util::wait_up(&mut r);
        write_mix(&mut m, "b");
        assert_eq!(m.call(&["WAIT", "1", "5000"]), ":1\r\n");
        let id = m.info_field("master_replid");
        m.cmd(&[b"SHUTDOWN", b"NOSAVE"]);
        assert!(m.closed());
        master.wait_exit(T);
        // SHUTDOWN waited for the replica to acknowledge the whole stream
        // (its GETACK included), so the replica holds the final offset.
        let off = r.info_field("master_repl_offset");
        assert!(master
            .log_text()
            .contains("1 of 1 replicas are in sync when shutting down."));
        // The full sync's RDB holds a position too: only the AOF may say.
        let _ = std::fs::remove_file(dir.path().join("dump.rdb"));
        let incr =
            std::fs::read_to_string(dir.path().join("appendonlydir/appendonly.aof.1.incr.aof"))
                .unwrap();
        assert!(
            incr.ends_with(&format!("#relica-repl:{id} {off} 0\r\n")),
            "{}",
            &incr[incr.len().saturating_sub(200)..]
        );
        let mut master = start_in(&d, &opts);
        let mut m = connect(port);
        assert_eq!(m.info_field("master_replid2"), id, "history kept");
        assert_eq!(m.info_field("master_repl_offset"), off);
        wait_for("partial resync after restart", T, || {
            m.info_field("sync_partial_ok") == "1"
        });
        assert_eq!(m.info_field("sync_full"), "0");
        write_mix(&mut m, "c");
        crate::util::wait_same_digest(&mut m, &mut r);
        // A crash leaves no mark: a new history, and a full resync.
        let id2 = m.info_field("master_replid");
        master.kill9();
        let _master = start_in(&d, &opts);
        let mut m = connect(port);
        assert_ne!(m.info_field("master_replid2"), id2);
        assert_ne!(m.info_field("master_replid"), id2);
        wait_for("full resync after a crash", T, || {
            m.info_field("sync_full") == "1"
        });
        m.call(&["SET", "after-crash", "1"]);
        crate::util::wait_same_digest(&mut m, &mut r);
    }
}

/// A relica replica with `appendonly yes` restarted cleanly continues its
/// master's history from its AOF's closing mark: a real redis-server
/// master accepts its PSYNC as a partial resync, and the stream goes on in
/// the database it had selected (the master sends no SELECT again).
#[test]
fn replica_restarted_from_aof_continues_partially() {
    const T: Duration = Duration::from_secs(60);
    let master = Server::redis(&["--repl-diskless-sync", "no"]);
    let mut m = master.raw();
    let mp = master.port.to_string();
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().to_str().unwrap().to_string();
    let port = crate::util::free_port();
    let p = port.to_string();
    let opts = ["--port", &p, "--replicaof", "127.0.0.1", &mp];
    let mut replica = start_in(&d, &opts);
    let mut r = connect(port);
    crate::util::wait_up(&mut r);
    write_mix(&mut m, "a");
    // The stream ends with database 3 selected.
    m.call(&["SELECT", "3"]);
    m.call(&["SET", "in3", "x"]);
    assert_eq!(m.call(&["WAIT", "1", "5000"]), ":1\r\n");
    crate::util::wait_same_digest(&mut m, &mut r);
    let id = m.info_field("master_replid");
    let off: i64 = r.info_field("master_repl_offset").parse().unwrap();
    r.cmd(&[b"SHUTDOWN", b"NOSAVE"]);
    assert!(r.closed());
    replica.wait_exit(T);
    // The log ends with the mark: the master's id, the offset applied (a
    // PING of the master's may have come after the reading above) and
    // the database selected.
    let incr = std::fs::read_to_string(dir.path().join("appendonlydir/appendonly.aof.1.incr.aof"))
        .unwrap();
    let last = incr.trim_end().rsplit("\r\n").next().unwrap_or_default();
    let mark: Vec<&str> = last
        .strip_prefix("#relica-repl:")
        .unwrap_or_else(|| panic!("no mark at the end: {last:?}"))
        .split(' ')
        .collect();
    assert_eq!(mark.len(), 3, "{last:?}");
    assert_eq!(mark[0], id);
    assert!(
        mark[1].parse::<i64>().unwrap() >= off,
        "{last:?} before {off}"
    );
    assert_eq!(mark[2], "3");
    let _ = std::fs::remove_file(dir.path().join("dump.rdb"));
    let _replica = start_in(&d, &opts);
    let mut r = connect(port);
    wait_for("partial resync of the restarted replica", T, || {
        m.info_field("sync_partial_ok") == "1"
    });
    assert_eq!(m.info_field("sync_full"), "1");
    crate::util::wait_up(&mut r);
    // No SELECT in the stream: the replica must still be in database 3.
    m.call(&["SET", "in3", "y"]);
    m.call(&["SELECT", "0"]);
    m.call(&["SET", "in0", "z"]);
    crate::util::wait_same_digest(&mut m, &mut r);
    r.call(&["SELECT", "3"]);
    assert_eq!(r.call(&["GET", "in3"]), "$1\r\ny\r\n");
}

/// `redis.set_repl` sends a script's writes to the AOF only (REPL_AOF), to
/// the replicas only (REPL_REPLICA), or nowhere (REPL_NONE), as Redis's
/// propagation targets.
#[test]
fn script_set_repl_targets_the_aof_and_the_replicas() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().to_str().unwrap();
    let master = start_in(d, &[]);
    let mut m = master.raw();
    let replica = Server::redis(&["--replicaof", "127.0.0.1", &master.port.to_string()]);
    let mut r = replica.raw();
    crate::util::wait_up(&mut r);
    let script = "redis.call('set', 'all', '1'); \
        redis.set_repl(redis.REPL_AOF); redis.call('set', 'aof-only', '1'); \
        redis.set_repl(redis.REPL_REPLICA); redis.call('set', 'replica-only', '1'); \
        redis.set_repl(redis.REPL_NONE); redis.call('set', 'nowhere', '1'); \
        redis.set_repl(redis.REPL_ALL); redis.call('set', 'all2', '1')";
    assert_eq!(m.call(&["EVAL", script, "0"]), "$-1\r\n");
    assert_eq!(m.call(&["WAIT", "1", "5000"]), ":1\r\n");
    let keys = |r: &mut Raw| {
        ["all", "aof-only", "replica-only", "nowhere", "all2"]
            .iter()
            .filter(|k| r.call(&["EXISTS", k]) == ":1\r\n")
            .copied()
            .collect::<Vec<_>>()
    };
    assert_eq!(keys(&mut r), ["all", "replica-only", "all2"]);
    let incr = std::fs::read_to_string(dir.path().join("appendonlydir/appendonly.aof.1.incr.aof"))
        .unwrap();
    let sets: Vec<&str> = incr
        .split("\r\n")
        .collect::<Vec<_>>()
        .windows(4)
        .filter(|w| w[1] == "set" || w[1] == "SET")
        .map(|w| w[3])
        .collect();
    assert_eq!(sets, ["all", "aof-only", "all2"]);
    // The transaction wraps them for both.
    assert!(incr.contains("MULTI") && incr.contains("EXEC"), "{incr}");
    assert_eq!(m.call(&["DEBUG", "LOADAOF"]), "+OK\r\n");
    assert_eq!(keys(&mut m), ["all", "aof-only", "all2"]);
}

/// SHUTDOWN (and SIGTERM) refuse to exit while the first rewrite after
/// turning the AOF on still runs, as Redis: the dataset is not in the AOF
/// yet. SHUTDOWN FORCE exits anyway.
#[test]
fn shutdown_refused_while_writing_the_initial_aof() {
    let mut s = Server::start(&[]);
    let mut r = s.raw();
    r.call(&["DEBUG", "POPULATE", "200"]);
    r.call(&["CONFIG", "SET", "rdb-key-save-delay", "100000"]);
    assert_eq!(r.call(&["CONFIG", "SET", "appendonly", "yes"]), "+OK\r\n");
    assert_eq!(r.info_field("aof_rewrite_in_progress"), "1");
    assert_eq!(
        r.call(&["SHUTDOWN"]),
        "-ERR Errors trying to SHUTDOWN. Check logs.\r\n"
    );
    assert!(s.log_text().contains("Writing initial AOF, can't exit."));
    let _ = std::process::Command::new("kill")
        .args(["-TERM", &s.pid().to_string()])
        .status();
    wait_for("SIGTERM refused", Duration::from_secs(10), || {
        s.log_text()
            .matches("Writing initial AOF, can't exit.")
            .count()
            == 2
    });
    assert_eq!(r.call(&["PING"]), "+PONG\r\n");
    r.cmd(&[b"SHUTDOWN", b"FORCE"]);
    assert!(r.closed());
    s.wait_exit(Duration::from_secs(20));
    assert!(s.log_text().contains("Writing initial AOF. Exit anyway."));
}

/// appendfilename and appenddirname are plain names, as Redis checks them.
#[test]
fn aof_names_must_be_plain_names() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().to_str().unwrap();
    for (name, value, msg) in [
        (
            "--appendfilename",
            "a/b.aof",
            "appendfilename can't be a path, just a filename",
        ),
        ("--appendfilename", "", "appendfilename can't be empty"),
        (
            "--appenddirname",
            "x/y",
            "appenddirname can't be a path, just a dirname",
        ),
        ("--appenddirname", "", "appenddirname can't be empty"),
    ] {
        for bin in [env!("CARGO_BIN_EXE_relica-server"), "redis-server"] {
            let out = std::process::Command::new(bin)
                .args(["--port", &crate::util::free_port().to_string()])
                .args(["--dir", d, name, value])
                .output()
                .unwrap();
            assert!(!out.status.success(), "{bin} {name} {value:?}");
            let text = String::from_utf8_lossy(&out.stderr).into_owned()
                + &String::from_utf8_lossy(&out.stdout);
            assert!(text.contains(msg), "{bin} {name} {value:?}: {text}");
        }
    }
}

/// The steps of a rewrite where `RELICA_AOF_CRASH_AT` kills the server
/// (persist/aof/crash.rs).
const CRASH_STEPS: &[&str] = &[
    "start-incr-created",
    "start-manifest-temp",
    "start-manifest-renamed",
    "start-dir-fsynced",
    "done-base-written",
    "done-base-renamed",
    "done-manifest-temp",
    "done-manifest-renamed",
    "done-dir-fsynced",
    "gc-files-removed",
    "gc-manifest-temp",
    "gc-manifest-renamed",
];

/// A kill -9 at each step of a rewrite (writing the new incremental file,
/// the manifest's temp file, its rename, the directory fsync, the new
/// base, history removal) leaves a directory that loads with every
/// acknowledged write, and that redis-check-aof accepts.
#[test]
fn crash_at_each_rewrite_step_keeps_acknowledged_writes() {
    for (i, step) in CRASH_STEPS.iter().enumerate() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path().to_str().unwrap();
        let preamble = if i % 2 == 0 { "yes" } else { "no" };
        let args = [
            "--dir",
            d,
            "--appendonly",
            "yes",
            "--aof-use-rdb-preamble",
            preamble,
            "--rdb-key-save-delay",
            "1000",
            // With everysec a write may wait (up to 2 s) behind a
            // background fsync while its reply leaves, in Redis too: only
            // `always` promises every acknowledged write.
            "--appendfsync",
            "always",
        ];
        let mut s = Server::start_env(&args, &[("RELICA_AOF_CRASH_AT", step)]);
        let mut r = s.raw();
        write_mix(&mut r, "a");
        let want = digest(&mut r);
        let port = s.port;
        let writer = std::thread::spawn(move || {
            let mut c = redis::Client::open(format!("redis://127.0.0.1:{port}/"))
                .unwrap()
                .get_connection()
                .unwrap();
            let mut acked = 0i64;
            while let Ok(v) = redis::cmd("INCR").arg("ctr").query::<i64>(&mut c) {
                acked = v;
            }
            acked
        });
        wait_for("writes", Duration::from_secs(20), || {
            r.call(&["EXISTS", "ctr"]) == ":1\r\n"
        });
        r.cmd(&[b"BGREWRITEAOF"]);
        let st = s.wait_exit(Duration::from_secs(60));
        assert!(!st.success(), "{step}");
        assert!(
            s.log_text()
                .contains(&format!("AOF crash injected at rewrite step {step}")),
            "{step}"
        );
        let acked = writer.join().unwrap();
        let report = check_aof(&dir.path().join("appendonlydir/appendonly.aof.manifest"));
        assert!(
            report.contains("All AOF files and manifest are valid"),
            "{step}: {report}"
        );
        let s2 = Server::start(&args);
        let mut r = s2.raw();
        let got = r.call(&["GET", "ctr"]);
        let ctr: i64 = match got.lines().nth(1) {
            Some(n) => n.parse().unwrap(),
            None => panic!("{step}: GET ctr {got:?}; log:\n{}", s2.log_text()),
        };
        assert!(
            ctr == acked || ctr == acked + 1,
            "{step}: ctr {ctr}, acknowledged {acked}"
        );
        r.call(&["DEL", "ctr"]);
        assert_eq!(digest(&mut r), want, "{step}");
        // It keeps working: another rewrite and restart.
        r.call(&["SET", "after", "1"]);
        r.call(&["BGREWRITEAOF"]);
        wait_for("rewrite", Duration::from_secs(30), || rewrite_done(&mut r));
        assert_eq!(r.info_field("aof_last_bgrewrite_status"), "ok", "{step}");
    }
}

/// A write error (the new incremental file is /dev/full: ENOSPC, which
/// chmod could not give a root test) refuses writes with -MISCONF and
/// shows aof_last_write_status:err, as redis-server in the same setup; the
/// next rewrite's new file clears it, and the acknowledged write survives.
#[test]
fn write_error_refuses_writes_with_misconf() {
    let run = |s: &Server, dir: &std::path::Path| {
        let mut r = s.raw();
        let mut seen = Vec::new();
        assert_eq!(r.call(&["SET", "a", "1"]), "+OK\r\n");
        std::os::unix::fs::symlink(
            "/dev/full",
            dir.join("appendonlydir/appendonly.aof.2.incr.aof"),
        )
        .unwrap();
        r.call(&["BGREWRITEAOF"]);
        wait_for("rewrite", Duration::from_secs(20), || rewrite_done(&mut r));
        seen.push(r.call(&["SET", "b", "1"]));
        seen.push(r.call(&["SET", "c", "1"]));
        seen.push(r.info_field("aof_last_write_status"));
        seen.push(r.call(&["GET", "b"]));
        seen.push(r.call(&["BGREWRITEAOF"]));
        wait_for("rewrite", Duration::from_secs(20), || rewrite_done(&mut r));
        seen.push(r.call(&["SET", "d", "1"]));
        seen.push(r.info_field("aof_last_write_status"));
        let dg = digest(&mut r);
        assert_eq!(r.call(&["DEBUG", "LOADAOF"]), "+OK\r\n");
        assert_eq!(digest(&mut r), dg);
        seen.push(r.call(&["MGET", "a", "b", "c", "d"]));
        seen
    };
    let dir = tempfile::tempdir().unwrap();
    let ours = run(&start_in(dir.path().to_str().unwrap(), &[]), dir.path());
    let rdir = tempfile::tempdir().unwrap();
    let rd = rdir.path().to_str().unwrap();
    let theirs = run(
        &Server::redis(&["--dir", rd, "--appendonly", "yes"]),
        rdir.path(),
    );
    assert_eq!(ours, theirs);
    assert_eq!(
        ours[1],
        "-MISCONF Errors writing to the AOF file: No space left on device\r\n"
    );
}

/// With `appendfsync always`, clients blocked in BLPOP that another
/// client's transaction wakes get their replies only once its writes are
/// in the AOF (written and fsynced), as Redis's beforeSleep flushes the
/// AOF before any reply leaves. The flush is slowed (DEBUG
/// AOF-FLUSH-SLEEP) so that an early reply would find the file without the
/// write; several clients are woken so that some run on another thread.
#[test]
fn always_fsync_precedes_a_woken_clients_reply() {
    let dir = tempfile::tempdir().unwrap();
    // Several runtime threads, so that a woken client's task can run while
    // the waker's is still flushing.
    let s = start_in(
        dir.path().to_str().unwrap(),
        &["--appendfsync", "always", "--io-threads", "4"],
    );
    let mut blocked: Vec<_> = (0..4).map(|_| s.raw()).collect();
    let mut b = s.raw();
    let incr = dir.path().join("appendonlydir/appendonly.aof.1.incr.aof");
    for round in 0..3 {
        for (i, a) in blocked.iter_mut().enumerate() {
            a.cmd(&[b"BLPOP", format!("q{i}").as_bytes(), b"0"]);
        }
        crate::util::expect::wait_blocked(&mut b, blocked.len());
        assert_eq!(b.call(&["DEBUG", "AOF-FLUSH-SLEEP", "500000"]), "+OK\r\n");
        b.cmd(&[b"MULTI"]);
        for i in 0..blocked.len() {
            b.cmd(&[
                b"LPUSH",
                format!("q{i}").as_bytes(),
                format!("item{round}-{i}").as_bytes(),
            ]);
        }
        b.cmd(&[b"EXEC"]);
        for (i, a) in blocked.iter_mut().enumerate() {
            let item = format!("item{round}-{i}");
            assert_eq!(
                a.reply_str(),
                crate::util::expect::bulks(&[&format!("q{i}"), &item])
            );
            let log = std::fs::read_to_string(&incr).unwrap();
            assert!(
                log.contains(&item),
                "round {round}, client {i}: reply before the AOF write"
            );
        }
        let mut replies = Vec::new();
        for _ in 0..blocked.len() + 2 {
            replies.push(b.reply_str());
        }
        assert_eq!(replies.last().unwrap().lines().next(), Some("*4"));
        assert_eq!(b.call(&["DEBUG", "AOF-FLUSH-SLEEP", "0"]), "+OK\r\n");
    }
}
