//! RDB persistence: SAVE, BGSAVE snapshots taken while clients write,
//! start-up load (with -LOADING), save points, MISCONF, and files that
//! real redis-server loads.

use std::time::Duration;

use crate::util::{int_field, wait_for, Server};

fn bgsave_done(r: &mut crate::util::Raw) -> bool {
    r.info_field("rdb_bgsave_in_progress") == "0"
}

#[test]
fn save_and_reload_on_start() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().to_str().unwrap();
    {
        let s = Server::start(&["--dir", d]);
        let mut r = s.raw();
        r.call(&["SET", "a", "1"]);
        r.call(&["SET", "big", &"x".repeat(5000)]);
        r.call(&["SELECT", "3"]);
        r.call(&["SET", "in3", "v"]);
        r.call(&["PEXPIRE", "in3", "100000"]);
        assert_eq!(r.call(&["SAVE"]), "+OK\r\n");
        assert_eq!(r.info_field("rdb_changes_since_last_save"), "0");
    }
    let s = Server::start(&["--dir", d]);
    let mut r = s.raw();
    assert_eq!(r.call(&["GET", "a"]), "$1\r\n1\r\n");
    assert_eq!(r.call(&["STRLEN", "big"]), ":5000\r\n");
    r.call(&["SELECT", "3"]);
    assert_eq!(r.call(&["GET", "in3"]), "$1\r\nv\r\n");
    let ttl: i64 = r.call(&["PTTL", "in3"])[1..].trim().parse().unwrap();
    assert!(ttl > 0 && ttl <= 100000, "{ttl}");
    assert!(s
        .log_text()
        .contains("Done loading RDB, keys loaded: 3, keys expired: 0."));
}

/// used_memory_startup is measured before the data is loaded, as Redis
/// measures it, so the loaded keys count as dataset (INFO memory's
/// overhead and dataset, MEMORY STATS), side by side with redis-server.
#[test]
fn startup_memory_leaves_out_the_loaded_data() {
    for redis in [false, true] {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path().to_str().unwrap();
        let start = |args: &[&str]| {
            if redis {
                Server::redis(args)
            } else {
                Server::start(args)
            }
        };
        {
            let s = start(&["--dir", d]);
            let mut r = s.raw();
            r.call(&["DEBUG", "POPULATE", "20000", "k", "500"]);
            assert_eq!(r.call(&["SAVE"]), "+OK\r\n");
        }
        let s = start(&["--dir", d]);
        let mut r = s.raw();
        assert_eq!(r.call(&["DBSIZE"]), ":20000\r\n");
        let startup = int_field(&mut r, "used_memory_startup");
        let dataset = int_field(&mut r, "used_memory_dataset");
        assert!(startup < 4 << 20, "redis {redis}: startup {startup}");
        assert!(dataset > 10 << 20, "redis {redis}: dataset {dataset}");
    }
}

#[test]
fn bgsave_is_a_point_in_time_snapshot() {
    let s = Server::start(&[]);
    let mut r = s.raw();
    assert_eq!(r.call(&["DEBUG", "POPULATE", "20000"]), "+OK\r\n");
    r.call(&["SELECT", "1"]);
    r.call(&["SET", "other", "db1"]);
    r.call(&["SELECT", "0"]);
    // Slow the save down so the writes below land while it runs.
    r.call(&["CONFIG", "SET", "rdb-key-save-delay", "100"]);
    assert_eq!(r.call(&["BGSAVE"]), "+Background saving started\r\n");
    assert_eq!(
        r.call(&["BGSAVE"]),
        "-ERR Background save already in progress\r\n"
    );
    assert_eq!(r.info_field("rdb_bgsave_in_progress"), "1");
    // Writes during the snapshot: none of them may show in the file.
    for i in 0..2000 {
        r.call(&["SET", &format!("key:{i}"), "changed"]);
    }
    for i in 2000..3000 {
        r.call(&["DEL", &format!("key:{i}")]);
    }
    r.call(&["SET", "new-key", "x"]);
    r.call(&["SWAPDB", "0", "1"]);
    r.call(&["FLUSHDB"]); // flushes what is now db 0 (the old db 1)
    r.call(&["CONFIG", "SET", "rdb-key-save-delay", "0"]);
    wait_for("bgsave", Duration::from_secs(60), || bgsave_done(&mut r));
    assert_eq!(r.info_field("rdb_last_bgsave_status"), "ok");
    assert!(s
        .log_text()
        .contains("Background saving terminated with success"));
    // Load the file in a real redis-server: it must hold the dataset as it
    // was when BGSAVE started.
    let file = s.dir.path().join("dump.rdb");
    let rd = Server::redis(&["--dir", s.dir.path().to_str().unwrap()]);
    let mut x = rd.raw();
    assert_eq!(x.call(&["DBSIZE"]), ":20000\r\n");
    assert_eq!(x.call(&["GET", "key:5"]), "$7\r\nvalue:5\r\n");
    assert_eq!(x.call(&["GET", "key:2500"]), "$10\r\nvalue:2500\r\n");
    assert_eq!(x.call(&["EXISTS", "new-key"]), ":0\r\n");
    x.call(&["SELECT", "1"]);
    assert_eq!(x.call(&["GET", "other"]), "$3\r\ndb1\r\n");
    assert_eq!(x.call(&["DBSIZE"]), ":1\r\n");
    drop(rd);
    assert!(file.exists());
}

#[test]
fn corrupt_file_stops_startup_and_is_left_alone() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("dump.rdb");
    {
        let s = Server::start(&["--dir", dir.path().to_str().unwrap()]);
        let mut r = s.raw();
        r.call(&["DEBUG", "POPULATE", "100"]);
        r.call(&["SAVE"]);
    }
    let mut bytes = std::fs::read(&path).unwrap();
    let n = bytes.len();
    bytes[n / 2] ^= 0xff;
    bytes[n - 3] ^= 0xff;
    std::fs::write(&path, &bytes).unwrap();
    let log = dir.path().join("corrupt.log");
    let status = std::process::Command::new(env!("CARGO_BIN_EXE_relica-server"))
        .args(["--port", &crate::util::free_port().to_string()])
        .args(["--bind", "127.0.0.1", "--save", ""])
        .args(["--dir", dir.path().to_str().unwrap()])
        .args(["--logfile", log.to_str().unwrap()])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .unwrap();
    assert!(!status.success());
    let text = std::fs::read_to_string(&log).unwrap();
    // As Redis: a corruption the loader can still parse is caught by the
    // checksum ("... Aborting now."), one it cannot by the reader
    // ("Terminating server after rdb file reading failure."); which one
    // depends on the byte the flip hit.
    let lower = text.to_lowercase();
    assert!(
        text.contains("RDB")
            && (lower.contains("aborting now")
                || text.contains("Terminating server after rdb file reading failure.")),
        "{text}"
    );
    assert!(!text.contains("Ready to accept connections"));
    assert_eq!(std::fs::read(&path).unwrap(), bytes, "file untouched");
}

// As in Redis, the server works in `dir`: a relative `dir` (and CONFIG SET
// dir) is resolved once, reads back as the absolute path, and saves and
// replication snapshots land there.
#[test]
fn relative_dir_reads_back_absolute_and_holds_the_files() {
    let s = Server::start(&["--dir", ".", "--enable-protected-configs", "yes"]);
    let mut r = s.raw();
    let base = s.dir.path().canonicalize().unwrap();
    let config_dir = |r: &mut crate::util::Raw, want: &std::path::Path| {
        let w = want.to_str().unwrap();
        assert_eq!(
            r.call(&["CONFIG", "GET", "dir"]),
            format!("*2\r\n$3\r\ndir\r\n${}\r\n{w}\r\n", w.len())
        );
    };
    config_dir(&mut r, &base);
    r.call(&["SET", "a", "1"]);
    assert_eq!(r.call(&["SAVE"]), "+OK\r\n");
    assert!(base.join("dump.rdb").is_file());
    // A replication snapshot (to disk) too.
    let mut sync = s.raw();
    sync.cmd(&[b"SYNC"]);
    assert!(sync.read_line().starts_with('$'));
    std::fs::create_dir(base.join("sub")).unwrap();
    assert_eq!(r.call(&["CONFIG", "SET", "dir", "sub"]), "+OK\r\n");
    config_dir(&mut r, &base.join("sub"));
    r.call(&["BGSAVE"]);
    wait_for("bgsave", Duration::from_secs(20), || {
        bgsave_done(&mut r) && base.join("sub/dump.rdb").is_file()
    });
    assert_eq!(r.info_field("rdb_last_bgsave_status"), "ok");
}

#[test]
fn loading_replies_and_progress() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().to_str().unwrap();
    {
        let s = Server::start(&["--dir", d]);
        let mut r = s.raw();
        r.call(&["DEBUG", "POPULATE", "2000"]);
        r.call(&["SAVE"]);
    }
    // key-load-delay makes the load take about a second.
    let log = dir.path().join("relica.log");
    let port = crate::util::free_port();
    let child = std::process::Command::new(env!("CARGO_BIN_EXE_relica-server"))
        .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
        .args(["--save", "", "--dir", d, "--logfile", log.to_str().unwrap()])
        .args(["--key-load-delay", "500"])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    struct Kill(std::process::Child);
    impl Drop for Kill {
        fn drop(&mut self) {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
    let _guard = Kill(child);
    let mut conn = None;
    wait_for("listener", Duration::from_secs(20), || {
        conn = std::net::TcpStream::connect(("127.0.0.1", port)).ok();
        conn.is_some()
    });
    let s = conn.unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let mut r = crate::util::Raw::from_stream(s);
    let reply = r.call(&["GET", "key:1"]);
    assert_eq!(reply, "-LOADING Redis is loading the dataset in memory\r\n");
    assert_eq!(r.info_field("loading"), "1");
    assert!(!r.info_field("loading_total_bytes").is_empty());
    wait_for("load end", Duration::from_secs(60), || {
        r.info_field("loading") == "0"
    });
    assert_eq!(r.call(&["DBSIZE"]), ":2000\r\n");
    assert_eq!(r.call(&["GET", "key:1"]), "$7\r\nvalue:1\r\n");
}

#[test]
fn save_points_trigger_bgsave() {
    let s = Server::start(&["--save", "1 1"]);
    let mut r = s.raw();
    let before: i64 = r.call(&["LASTSAVE"])[1..].trim().parse().unwrap();
    r.call(&["SET", "a", "1"]);
    wait_for("save point", Duration::from_secs(20), || {
        let t: i64 = r.call(&["LASTSAVE"])[1..].trim().parse().unwrap();
        t > before && r.info_field("rdb_changes_since_last_save") == "0"
    });
    assert!(s.log_text().contains("1 changes in 1 seconds. Saving..."));
    assert!(s.dir.path().join("dump.rdb").exists());
}

#[test]
fn failed_bgsave_denies_writes_with_misconf() {
    let s = Server::start(&["--save", "3600 1", "--enable-protected-configs", "yes"]);
    let mut r = s.raw();
    let gone = s.dir.path().join("gone");
    std::fs::create_dir(&gone).unwrap();
    assert_eq!(
        r.call(&["CONFIG", "SET", "dir", gone.to_str().unwrap()]),
        "+OK\r\n"
    );
    std::fs::remove_dir(&gone).unwrap();
    r.call(&["BGSAVE"]);
    wait_for("bgsave", Duration::from_secs(20), || bgsave_done(&mut r));
    assert_eq!(r.info_field("rdb_last_bgsave_status"), "err");
    assert!(r.call(&["SET", "a", "1"]).starts_with("-MISCONF "));
    assert_eq!(r.call(&["GET", "a"]), "$-1\r\n");
    r.call(&["CONFIG", "SET", "stop-writes-on-bgsave-error", "no"]);
    assert_eq!(r.call(&["SET", "a", "1"]), "+OK\r\n");
}

/// Build a dataset of every type on redis-server, move it to relica with
/// DUMP/RESTORE, and back; digests must agree everywhere.
#[test]
fn dump_restore_and_digest_match_redis() {
    let rs = Server::redis(&[
        "--zset-max-listpack-entries",
        "4",
        "--set-max-intset-entries",
        "4",
    ]);
    let mut x = rs.raw();
    let ours = Server::start(&[]);
    let mut r = ours.raw();
    assert_eq!(
        r.call(&["DEBUG", "DIGEST"]),
        format!("+{}\r\n", "0".repeat(40))
    );
    let setup: &[&[&str]] = &[
        &["SET", "s", "hello"],
        &["SET", "n", "12345"],
        &["SET", "long", &"y".repeat(300)],
        &["RPUSH", "l", "a", "1", "b", "2"],
        &["HSET", "h", "f1", "v1", "f2", "22"],
        &["SADD", "si", "1", "2", "3"],
        &["SADD", "ss", "a", "b", "c", "d", "e", "f"],
        &["ZADD", "zl", "1", "a", "2.5", "b", "-inf", "c"],
        &[
            "ZADD", "zs", "1", "a", "2", "b", "3", "c", "4", "d", "5", "e", "0.1", "f",
        ],
        &["SET", "ttl", "v", "EX", "1000"],
    ];
    for cmd in setup {
        x.call(cmd);
    }
    let keys = ["s", "n", "long", "l", "h", "si", "ss", "zl", "zs", "ttl"];
    for k in keys {
        x.cmd(&[b"DUMP", k.as_bytes()]);
        let reply = x.reply();
        // $len\r\npayload\r\n
        let start = reply.iter().position(|&b| b == b'\n').unwrap() + 1;
        let payload = &reply[start..reply.len() - 2];
        let ttl = if k == "ttl" { "1000000" } else { "0" };
        r.cmd(&[b"RESTORE", k.as_bytes(), ttl.as_bytes(), payload]);
        assert_eq!(r.reply_str(), "+OK\r\n", "restore {k}");
    }
    let theirs = x.call(&["DEBUG", "DIGEST"]);
    for k in keys {
        assert_eq!(
            r.call(&["DEBUG", "DIGEST-VALUE", k]),
            x.call(&["DEBUG", "DIGEST-VALUE", k]),
            "{k}"
        );
    }
    assert_eq!(r.call(&["DEBUG", "DIGEST"]), theirs);
    // And back: relica's payloads load in redis-server.
    let rs2 = Server::redis(&[]);
    let mut y = rs2.raw();
    for k in keys {
        r.cmd(&[b"DUMP", k.as_bytes()]);
        let reply = r.reply();
        let start = reply.iter().position(|&b| b == b'\n').unwrap() + 1;
        let payload = &reply[start..reply.len() - 2];
        let ttl = if k == "ttl" { "1000000" } else { "0" };
        y.cmd(&[b"RESTORE", k.as_bytes(), ttl.as_bytes(), payload]);
        assert_eq!(y.reply_str(), "+OK\r\n", "restore {k} in redis");
    }
    assert_eq!(y.call(&["DEBUG", "DIGEST"]), theirs);
    // DEBUG RELOAD keeps the dataset.
    assert_eq!(r.call(&["DEBUG", "RELOAD"]), "+OK\r\n");
    assert_eq!(r.call(&["DEBUG", "DIGEST"]), theirs);
    // RESTORE's errors.
    assert_eq!(
        r.call(&["RESTORE", "s", "0", "x"]),
        "-BUSYKEY Target key name already exists.\r\n"
    );
    assert_eq!(
        r.call(&["RESTORE", "new", "0", "garbage-payload"]),
        "-ERR DUMP payload version or checksum are wrong\r\n"
    );
    assert_eq!(
        r.call(&["RESTORE", "new", "-1", "x"]),
        "-ERR Invalid TTL value, must be >= 0\r\n"
    );
    assert_eq!(
        r.call(&["RESTORE", "new", "0", "x", "FREQ", "300"]),
        "-ERR Invalid FREQ value, must be >= 0 and <= 255\r\n"
    );
    assert_eq!(
        r.call(&["RESTORE", "new", "0", "x", "IDLETIME", "5", "FREQ", "3"]),
        "-ERR syntax error\r\n"
    );
    assert_eq!(r.call(&["DUMP", "nokey"]), "$-1\r\n");
    // An already expired absolute TTL creates nothing.
    r.cmd(&[b"DUMP", b"s"]);
    let reply = r.reply();
    let start = reply.iter().position(|&b| b == b'\n').unwrap() + 1;
    let payload = reply[start..reply.len() - 2].to_vec();
    r.cmd(&[b"RESTORE", b"gone", b"1", &payload, b"ABSTTL"]);
    assert_eq!(r.reply_str(), "+OK\r\n");
    assert_eq!(r.call(&["EXISTS", "gone"]), ":0\r\n");
    r.cmd(&[b"RESTORE", b"idle", b"0", &payload, b"IDLETIME", b"1000"]);
    assert_eq!(r.reply_str(), "+OK\r\n");
    let idle: i64 = r.call(&["OBJECT", "IDLETIME", "idle"])[1..]
        .trim()
        .parse()
        .unwrap();
    assert!((1000..1010).contains(&idle), "{idle}");
}

/// Every type, small and large encodings, expiries, several dbs.
fn rich_dataset(r: &mut crate::util::Raw, with_zsets: bool) {
    r.call(&["DEBUG", "POPULATE", "500", "str", "20"]);
    r.call(&["SET", "int", "12345"]);
    r.call(&["SET", "long", &"L".repeat(1000)]);
    r.call(&["SET", "ttl", "v", "EX", "10000"]);
    r.call(&["RPUSH", "list-small", "a", "b", "1", "2"]);
    for i in 0..300 {
        r.call(&[
            "RPUSH",
            "list-big",
            &format!("element-{i}-{}", "x".repeat(i % 50)),
        ]);
    }
    r.call(&["HSET", "hash-small", "f1", "v1", "f2", "2"]);
    for i in 0..200 {
        r.call(&["HSET", "hash-big", &format!("f{i}"), &format!("v{i}")]);
    }
    r.call(&["SADD", "set-int", "1", "2", "3", "-5"]);
    for i in 0..600 {
        r.call(&["SADD", "set-big", &format!("m{i}")]);
    }
    if with_zsets {
        r.call(&["ZADD", "zset-small", "1", "a", "2.5", "b", "-inf", "c"]);
        for i in 0..200 {
            r.call(&[
                "ZADD",
                "zset-big",
                &format!("{}", i as f64 / 3.0),
                &format!("m{i}"),
            ]);
        }
    }
    r.call(&["PEXPIRE", "hash-small", "9000000"]);
    r.call(&["SELECT", "7"]);
    r.call(&["SET", "db7", "x"]);
    r.call(&["RPUSH", "db7-list", "y"]);
    r.call(&["SELECT", "0"]);
}

#[test]
fn redis_written_files_load_identically() {
    let rs = Server::redis(&[]);
    let mut x = rs.raw();
    rich_dataset(&mut x, true);
    assert_eq!(x.call(&["SAVE"]), "+OK\r\n");
    let digest = x.call(&["DEBUG", "DIGEST"]);
    let ours = Server::start(&["--dir", rs.dir.path().to_str().unwrap()]);
    let mut r = ours.raw();
    assert_eq!(r.call(&["DEBUG", "DIGEST"]), digest);
    for k in [
        "list-big",
        "hash-big",
        "set-int",
        "set-big",
        "zset-small",
        "zset-big",
        "int",
    ] {
        assert_eq!(
            r.call(&["OBJECT", "ENCODING", k]),
            x.call(&["OBJECT", "ENCODING", k]),
            "{k}"
        );
    }
    let ttl: i64 = r.call(&["TTL", "ttl"])[1..].trim().parse().unwrap();
    assert!(ttl > 9000, "{ttl}");
}

#[test]
fn relica_written_files_load_identically_in_redis() {
    let ours = Server::start(&[]);
    let mut r = ours.raw();
    rich_dataset(&mut r, false);
    // Sorted sets arrive through RESTORE until ZADD exists here.
    let rs0 = Server::redis(&[]);
    let mut z = rs0.raw();
    z.call(&["ZADD", "zset", "1", "a", "2.5", "b"]);
    z.cmd(&[b"DUMP", b"zset"]);
    let reply = z.reply();
    let start = reply.iter().position(|&b| b == b'\n').unwrap() + 1;
    r.cmd(&[b"RESTORE", b"zset", b"0", &reply[start..reply.len() - 2]]);
    assert_eq!(r.reply_str(), "+OK\r\n");
    assert_eq!(r.call(&["SAVE"]), "+OK\r\n");
    let digest = r.call(&["DEBUG", "DIGEST"]);
    let rs = Server::redis(&["--dir", ours.dir.path().to_str().unwrap()]);
    let mut x = rs.raw();
    assert_eq!(x.call(&["DEBUG", "DIGEST"]), digest);
    assert_eq!(
        x.call(&["OBJECT", "ENCODING", "set-int"]),
        "$6\r\nintset\r\n"
    );
    assert_eq!(
        x.call(&["OBJECT", "ENCODING", "hash-small"]),
        "$8\r\nlistpack\r\n"
    );
}

#[test]
fn snapshot_under_a_hammering_writer_equals_its_start() {
    let s = Server::start(&[]);
    let mut r = s.raw();
    rich_dataset(&mut r, false);
    r.call(&["DEBUG", "POPULATE", "20000", "pop", "30"]);
    r.call(&["CONFIG", "SET", "rdb-key-save-delay", "20"]);
    // DIGEST and BGSAVE in one pipeline run under one lock hold: nothing
    // can land between them.
    r.send(b"*2\r\n$5\r\nDEBUG\r\n$6\r\nDIGEST\r\n*1\r\n$6\r\nBGSAVE\r\n");
    let digest = r.reply_str();
    assert_eq!(r.reply_str(), "+Background saving started\r\n");
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let port = s.port;
    let st = stop.clone();
    let writer = std::thread::spawn(move || {
        let sock = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
        let mut w = crate::util::Raw::from_stream(sock);
        let mut i = 0u64;
        while !st.load(std::sync::atomic::Ordering::Relaxed) {
            let k = format!("pop:{}", i % 20000);
            match i % 5 {
                0 => w.call(&["DEL", &k]),
                1 => w.call(&["APPEND", &k, "more"]),
                2 => w.call(&["LPUSH", "list-big", "new"]),
                3 => w.call(&["HSET", "hash-big", "f1", "changed"]),
                _ => w.call(&["SET", &format!("fresh:{i}"), "v"]),
            };
            i += 1;
        }
        i
    });
    wait_for("bgsave", Duration::from_secs(120), || bgsave_done(&mut r));
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let writes = writer.join().unwrap();
    assert!(
        writes > 100,
        "the writer ran during the save ({writes} writes)"
    );
    assert_eq!(r.info_field("rdb_last_bgsave_status"), "ok");
    assert_ne!(
        r.call(&["DEBUG", "DIGEST"]),
        digest,
        "the dataset did change"
    );
    // The file holds the dataset as it was at BGSAVE.
    let check = Server::start(&["--dir", s.dir.path().to_str().unwrap()]);
    assert_eq!(check.raw().call(&["DEBUG", "DIGEST"]), digest);
}

// FLUSHALL counts the keys it removed; with save points it saves, leaving
// no changes to save, and still reaches replicas (even on empty databases).
#[test]
fn flushall_dirty_counter_and_propagation_match_redis() {
    let mut d = crate::util::Diff::start(&[]);
    let changes = |r: &mut crate::util::Raw| r.info_field("rdb_changes_since_last_save");
    d.same_str(&["SET", "a", "1"]);
    d.same_str(&["SET", "b", "1"]);
    d.same_str(&["FLUSHALL"]);
    assert_eq!(changes(&mut d.ours), changes(&mut d.theirs));
    assert_eq!(changes(&mut d.ours), "4");
    d.same_str(&["CONFIG", "SET", "save", "3600 1"]);
    d.same_str(&["SET", "a", "1"]);
    d.same_str(&["FLUSHALL"]);
    assert_eq!(changes(&mut d.ours), changes(&mut d.theirs));
    assert_eq!(changes(&mut d.ours), "0");

    let s = Server::start(&["--save", "3600 1", "--repl-diskless-sync", "no"]);
    let mut r = s.raw();
    let mut replica = s.raw();
    replica.cmd(&[b"SYNC"]);
    let len: usize = replica.read_line()[1..].parse().unwrap();
    replica.read_n(len);
    assert_eq!(r.call(&["FLUSHALL"]), "+OK\r\n");
    let want = b"*2\r\n$6\r\nSELECT\r\n$1\r\n0\r\n*1\r\n$8\r\nFLUSHALL\r\n";
    assert_eq!(replica.read_n(want.len()), want);
}

/// Writes during a BGSAVE make the snapshot encode what they change first
/// (copy-before-write): INFO reports those bytes where Redis reports its
/// fork child's copy-on-write (current_cow_size, then rdb_last_cow_size).
#[test]
fn copy_before_write_reported_as_cow_size() {
    let dir = tempfile::tempdir().unwrap();
    let s = Server::start(&["--dir", dir.path().to_str().unwrap()]);
    let mut r = s.raw();
    assert_eq!(
        r.call(&["DEBUG", "POPULATE", "10000", "key", "100"]),
        "+OK\r\n"
    );
    assert_eq!(r.info_field("rdb_last_cow_size"), "0");
    assert_eq!(
        r.call(&["CONFIG", "SET", "rdb-key-save-delay", "100"]),
        "+OK\r\n"
    );
    assert_eq!(r.call(&["BGSAVE"]), "+Background saving started\r\n");
    // One command rewrites every key, far faster than the delayed save.
    let mut mset: Vec<String> = vec!["MSET".into()];
    for i in 0..10000 {
        mset.push(format!("key:{i}"));
        mset.push(format!("{i:x}-{}", i * 7919));
    }
    let args: Vec<&str> = mset.iter().map(String::as_str).collect();
    assert_eq!(r.call(&args), "+OK\r\n");
    let during: u64 = r.info_field("current_cow_size").parse().unwrap();
    assert!(
        during > 0 || bgsave_done(&mut r),
        "no copy-before-write reported"
    );
    assert_eq!(
        r.call(&["CONFIG", "SET", "rdb-key-save-delay", "0"]),
        "+OK\r\n"
    );
    wait_for("the BGSAVE", Duration::from_secs(20), || {
        bgsave_done(&mut r)
    });
    let last: u64 = r.info_field("rdb_last_cow_size").parse().unwrap();
    assert!(last > 0 && last >= during, "last {last}, during {during}");
    assert_eq!(r.info_field("current_cow_size"), "0");
}
