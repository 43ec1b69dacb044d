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
                let mut c = redis::Client::open(format!("redis://127.0.0.1:{port}/"))
                    .unwrap()
                    .get_connection()
                    .unwrap();
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
    write_mix(&mut r, "b");
    let before = digest(&mut r);
    assert_eq!(r.call(&["DEBUG", "LOADAOF"]), "+OK\r\n");
    assert_eq!(digest(&mut r), before);
    assert_eq!(r.call(&["CONFIG", "SET", "appendonly", "no"]), "+OK\r\n");
    assert_eq!(r.info_field("aof_enabled"), "0");
}
