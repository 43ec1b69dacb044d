//! Replication, master side: raw-socket replicas checking every PSYNC
//! branch byte for byte, and real redis-server replicas of relica (disk and
//! diskless), compared by DEBUG DIGEST.

use std::time::Duration;

use crate::util::{int_field, wait_for, wait_same_digest, wait_up, Raw, Server};

const T: Duration = Duration::from_secs(120);

/// Start a real redis-server replicating from `master`.
fn redis_replica(master: &Server, extra: &[&str]) -> Server {
    let port = master.port.to_string();
    let mut args = vec!["--replicaof", "127.0.0.1", port.as_str()];
    args.extend_from_slice(extra);
    Server::redis(&args)
}

/// Every data type, in its compact and its full encoding.
fn load_dataset(m: &mut Raw) {
    m.call(&["DEBUG", "POPULATE", "2000", "key", "20"]);
    m.call(&["RPUSH", "list", "a", "b", "c", "1", "2"]);
    m.call(&["HSET", "hash", "f1", "v1", "f2", "2"]);
    m.call(&["SADD", "intset", "1", "2", "3"]);
    m.call(&["SADD", "set", "a", "b", "c"]);
    m.call(&["ZADD", "zset", "1", "a", "2.5", "b", "-inf", "c"]);
    m.call(&["PFADD", "hll", "a", "b", "c"]);
    m.call(&["SETBIT", "bits", "1000", "1"]);
    for i in 0..300 {
        let (n, v) = (i.to_string(), format!("value-{i}"));
        m.call(&["RPUSH", "biglist", &v]);
        m.call(&["HSET", "bighash", &n, &v]);
        m.call(&["SADD", "bigset", &v]);
        m.call(&["ZADD", "bigzset", &n, &v]);
    }
    m.call(&["SET", "volatile", "v", "EX", "1000"]);
    m.call(&["SELECT", "5"]);
    m.call(&["SET", "in5", "x"]);
    m.call(&["SELECT", "0"]);
}

fn live_writes(m: &mut Raw) {
    for i in 0..200 {
        m.call(&["SET", &format!("live:{i}"), &i.to_string()]);
    }
    m.call(&["LPUSH", "list", "z"]);
    m.call(&["DEL", "key:1"]);
    m.call(&["INCRBY", "counter", "5"]);
    m.call(&["MULTI"]);
    m.call(&["SET", "tx1", "a"]);
    m.call(&["SET", "tx2", "b"]);
    m.call(&["EXEC"]);
    m.call(&["SELECT", "5"]);
    m.call(&["SET", "in5", "y"]);
    m.call(&["SELECT", "0"]);
    m.call(&["PEXPIRE", "live:3", "1"]);
}

fn full_sync_with_redis_replica(diskless: &str) {
    // With save points, so that a failed save would refuse writes.
    let master = Server::start(&[
        "--repl-diskless-sync",
        diskless,
        "--repl-diskless-sync-delay",
        "0",
        "--save",
        "3600 1",
    ]);
    let mut m = master.raw();
    load_dataset(&mut m);
    let replica = redis_replica(&master, &[]);
    let mut r = replica.raw();
    wait_up(&mut r);
    wait_same_digest(&mut m, &mut r);
    // A replication snapshot, to disk or not, leaves the save status ok
    // and writes allowed.
    assert_eq!(m.info_field("rdb_last_bgsave_status"), "ok");
    assert_eq!(m.call(&["SET", "after-sync", "1"]), "+OK\r\n");
    live_writes(&mut m);
    wait_same_digest(&mut m, &mut r);
    assert_eq!(m.call(&["WAIT", "1", "5000"]), ":1\r\n");
    assert_eq!(int_field(&mut m, "sync_full"), 1);
    assert_eq!(int_field(&mut m, "connected_slaves"), 1);
    let role = m.call(&["ROLE"]);
    assert!(role.starts_with("*3\r\n$6\r\nmaster\r\n:"), "{role}");
    assert!(role.contains(&format!(
        "${}\r\n{}\r\n",
        replica.port.to_string().len(),
        replica.port
    )));
    let target = if diskless == "yes" {
        "replicas sockets"
    } else {
        "disk"
    };
    assert!(master
        .log_text()
        .contains(&format!("Starting BGSAVE for SYNC with target: {target}")));
    assert!(master
        .log_text()
        .contains("Synchronization with replica 127.0.0.1:"));
}

#[test]
fn redis_replica_full_sync_disk() {
    full_sync_with_redis_replica("no");
}

#[test]
fn rdb_del_sync_files_removes_the_replication_rdb() {
    let master = Server::start(&["--repl-diskless-sync", "no", "--rdb-del-sync-files", "yes"]);
    let mut m = master.raw();
    m.call(&["SET", "a", "1"]);
    let (mut c, line) = raw_psync(&master, &["psync2"], "?", "-1");
    assert!(line.starts_with("+FULLRESYNC "));
    read_rdb_bulk(&mut c);
    let file = master.dir.path().join("dump.rdb");
    wait_for("sync file removed", T, || !file.exists());
    assert!(master
        .log_text()
        .contains("Removing the RDB file used for replication since persistence is disabled."));
}

#[test]
fn redis_replica_full_sync_diskless() {
    full_sync_with_redis_replica("yes");
}

#[test]
fn redis_replica_partial_resync_after_link_loss() {
    let master = Server::start(&["--repl-diskless-sync", "no"]);
    let mut m = master.raw();
    load_dataset(&mut m);
    let replica = redis_replica(&master, &[]);
    let mut r = replica.raw();
    wait_up(&mut r);
    wait_same_digest(&mut m, &mut r);
    assert_eq!(m.call(&["CLIENT", "KILL", "TYPE", "replica"]), ":1\r\n");
    live_writes(&mut m);
    wait_for("partial resync", T, || {
        int_field(&mut m, "sync_partial_ok") == 1
    });
    wait_up(&mut r);
    wait_same_digest(&mut m, &mut r);
    assert_eq!(int_field(&mut m, "sync_full"), 1, "no second full sync");
    assert!(master
        .log_text()
        .contains("Partial resynchronization request from 127.0.0.1:"));
}

#[test]
fn two_replicas_share_one_diskless_snapshot() {
    let master = Server::start(&[
        "--repl-diskless-sync",
        "yes",
        "--repl-diskless-sync-delay",
        "30",
        "--repl-diskless-sync-max-replicas",
        "2",
    ]);
    let mut m = master.raw();
    load_dataset(&mut m);
    let r1 = redis_replica(&master, &[]);
    let r2 = redis_replica(&master, &[]);
    let (mut a, mut b) = (r1.raw(), r2.raw());
    wait_up(&mut a);
    wait_up(&mut b);
    wait_same_digest(&mut m, &mut a);
    wait_same_digest(&mut m, &mut b);
    let log = master.log_text();
    assert_eq!(log.matches("Starting BGSAVE for SYNC").count(), 1, "{log}");
    assert_eq!(int_field(&mut m, "sync_full"), 2);
    live_writes(&mut m);
    assert_eq!(m.call(&["WAIT", "2", "5000"]), ":2\r\n");
    wait_same_digest(&mut m, &mut a);
    wait_same_digest(&mut m, &mut b);
}

/// Wait until the master's log holds `text`.
fn wait_log(master: &Server, text: &str) {
    wait_for(text, T, || master.log_text().contains(text));
}

fn bgsaves_for_sync(master: &Server) -> usize {
    master
        .log_text()
        .matches("Starting BGSAVE for SYNC")
        .count()
}

/// A disk-mode master with the dataset, whose snapshots crawl (10 ms a
/// key) until `lift_save_delay_and_sync`.
fn held_disk_master() -> (Server, Raw) {
    let master = Server::start(&[
        "--repl-diskless-sync",
        "no",
        "--rdb-key-save-delay",
        "10000",
    ]);
    let mut m = master.raw();
    load_dataset(&mut m);
    (master, m)
}

/// Let the held snapshot finish, then wait for every replica to be up and
/// hold the master's dataset.
fn lift_save_delay_and_sync(m: &mut Raw, replicas: &[&Server]) {
    assert_eq!(
        m.call(&["CONFIG", "SET", "rdb-key-save-delay", "0"]),
        "+OK\r\n"
    );
    for replica in replicas {
        let mut r = replica.raw();
        wait_up(&mut r);
        wait_same_digest(m, &mut r);
    }
}

// syncCommand's first case: a disk snapshot for replication is running and
// the new replica attaches to it, with a copy of the first one's stream.
// rdb-key-save-delay holds the snapshot open until the second replica is
// in, then is lifted (the saver reads it at every step).
#[test]
fn second_replica_attaches_to_a_running_disk_snapshot() {
    let (master, mut m) = held_disk_master();
    let r1 = redis_replica(&master, &[]);
    wait_log(&master, "Starting BGSAVE for SYNC with target: disk");
    live_writes(&mut m);
    let r2 = redis_replica(&master, &[]);
    wait_log(&master, "Waiting for end of BGSAVE for SYNC");
    m.call(&["SET", "after-both", "1"]);
    lift_save_delay_and_sync(&mut m, &[&r1, &r2]);
    assert_eq!(bgsaves_for_sync(&master), 1);
    assert_eq!(int_field(&mut m, "sync_full"), 2);
}

// The second case: a diskless transfer is running; a new replica waits for
// the next snapshot.
#[test]
fn replica_waits_for_the_next_snapshot_after_a_socket_one() {
    let master = Server::start(&[
        "--repl-diskless-sync",
        "yes",
        "--repl-diskless-sync-delay",
        "0",
        "--rdb-key-save-delay",
        "10000",
    ]);
    let mut m = master.raw();
    load_dataset(&mut m);
    let r1 = redis_replica(&master, &[]);
    wait_log(
        &master,
        "Starting BGSAVE for SYNC with target: replicas sockets",
    );
    let r2 = redis_replica(&master, &[]);
    wait_log(
        &master,
        "Current BGSAVE has socket target. Waiting for next BGSAVE for SYNC",
    );
    live_writes(&mut m);
    lift_save_delay_and_sync(&mut m, &[&r1, &r2]);
    assert_eq!(bgsaves_for_sync(&master), 2);
}

// A disk BGSAVE that no replica waits on (a user's BGSAVE) can't be
// shared: the replica waits for the next one, started when it ends.
#[test]
fn replica_does_not_attach_to_a_users_bgsave() {
    let (master, mut m) = held_disk_master();
    assert_eq!(m.call(&["BGSAVE"]), "+Background saving started\r\n");
    let r = redis_replica(&master, &[]);
    wait_log(
        &master,
        "Can't attach the replica to the current BGSAVE. Waiting for next BGSAVE for SYNC",
    );
    assert_eq!(bgsaves_for_sync(&master), 0);
    live_writes(&mut m);
    lift_save_delay_and_sync(&mut m, &[&r]);
    assert_eq!(bgsaves_for_sync(&master), 1);
}

// A real replica dropped by its output-buffer limit in the middle of a
// write larger than the backlog comes back with an offset the backlog no
// longer holds: a full resync, and the datasets still match.
#[test]
fn redis_replica_full_resyncs_when_the_backlog_is_too_small() {
    let master = Server::start(&["--repl-diskless-sync", "no", "--repl-backlog-size", "16kb"]);
    let mut m = master.raw();
    load_dataset(&mut m);
    let replica = redis_replica(&master, &[]);
    let mut r = replica.raw();
    wait_up(&mut r);
    wait_same_digest(&mut m, &mut r);
    assert_eq!(
        m.call(&[
            "CONFIG",
            "SET",
            "client-output-buffer-limit",
            "replica 64kb 0 0"
        ]),
        "+OK\r\n"
    );
    // Acked up to here, so the replica asks for the bytes after it.
    assert_eq!(m.call(&["WAIT", "1", "5000"]), ":1\r\n");
    m.call(&["SET", "big", &"x".repeat(100_000)]);
    wait_log(&master, "for overcoming of output buffer limits");
    wait_for("second full sync", T, || {
        int_field(&mut m, "sync_full") == 2
    });
    wait_log(&master, "for lack of backlog");
    assert!(int_field(&mut m, "sync_partial_err") >= 1);
    wait_up(&mut r);
    wait_same_digest(&mut m, &mut r);
    assert_eq!(int_field(&mut m, "sync_partial_ok"), 0);
}

/// A raw replica: handshake, PSYNC, and the master's answer line.
fn raw_psync(master: &Server, capa: &[&str], replid: &str, offset: &str) -> (Raw, String) {
    let mut c = master.raw();
    assert_eq!(c.call(&["REPLCONF", "listening-port", "4444"]), "+OK\r\n");
    for cp in capa {
        assert_eq!(c.call(&["REPLCONF", "capa", cp]), "+OK\r\n");
    }
    c.cmd(&[b"PSYNC", replid.as_bytes(), offset.as_bytes()]);
    let line = c.read_line();
    (c, line)
}

/// Read a `$<len>` RDB bulk and check it is an RDB file.
fn read_rdb_bulk(c: &mut Raw) -> Vec<u8> {
    let head = c.read_line();
    let len: usize = head.strip_prefix('$').unwrap().parse().unwrap();
    let rdb = c.read_n(len);
    assert!(rdb.starts_with(b"REDIS0010"));
    rdb
}

#[test]
fn psync_branches_byte_for_byte() {
    let master = Server::start(&["--repl-diskless-sync", "no", "--repl-backlog-size", "16kb"]);
    let mut m = master.raw();
    m.call(&["SET", "a", "1"]);
    // PSYNC ? -1: a full resync, and "?" is not counted as an error.
    let (mut c, line) = raw_psync(&master, &["psync2"], "?", "-1");
    let parts: Vec<&str> = line.split(' ').collect();
    assert_eq!(parts[0], "+FULLRESYNC");
    assert_eq!(parts[1].len(), 40);
    let replid = parts[1].to_string();
    let offset: i64 = parts[2].parse().unwrap();
    read_rdb_bulk(&mut c);
    assert_eq!(int_field(&mut m, "sync_partial_err"), 0);
    assert_eq!(int_field(&mut m, "sync_full"), 1);
    assert!(master
        .log_text()
        .contains("Full resync requested by replica 127.0.0.1:4444"));
    // The stream after the snapshot starts with SELECT.
    m.call(&["SET", "b", "2"]);
    let expect = b"*2\r\n$6\r\nSELECT\r\n$1\r\n0\r\n*3\r\n$3\r\nSET\r\n$1\r\nb\r\n$1\r\n2\r\n";
    assert_eq!(c.read_n(expect.len()), expect);
    let end = offset + expect.len() as i64;
    assert_eq!(int_field(&mut m, "master_repl_offset"), end);
    c.cmd(&[b"REPLCONF", b"ACK", end.to_string().as_bytes()]);
    // Once the ACK is in, WAIT answers at once (no GETACK in the stream).
    wait_for("ack", T, || {
        m.info_field("slave0").contains(&format!("offset={end},"))
    });
    assert_eq!(m.call(&["WAIT", "1", "5000"]), ":1\r\n");
    drop(c);
    wait_for("replica gone", T, || {
        int_field(&mut m, "connected_slaves") == 0
    });

    // Partial resync with the current id: +CONTINUE <id> and the missing bytes.
    m.call(&["SET", "c", "3"]);
    let (mut c, line) = raw_psync(&master, &["psync2"], &replid, &(end + 1).to_string());
    assert_eq!(line, format!("+CONTINUE {replid}"));
    let missing = b"*3\r\n$3\r\nSET\r\n$1\r\nc\r\n$1\r\n3\r\n";
    assert_eq!(c.read_n(missing.len()), missing);
    assert_eq!(int_field(&mut m, "sync_partial_ok"), 1);
    drop(c);
    wait_for("replica gone", T, || {
        int_field(&mut m, "connected_slaves") == 0
    });

    // Without psync2 the answer is a bare +CONTINUE.
    let now = int_field(&mut m, "master_repl_offset");
    let (c, line) = raw_psync(&master, &[], &replid, &(now + 1).to_string());
    assert_eq!(line, "+CONTINUE");
    drop(c);
    wait_for("replica gone", T, || {
        int_field(&mut m, "connected_slaves") == 0
    });

    // A wrong id: full resync, counted as an error, logged.
    let (mut c, line) = raw_psync(&master, &["psync2"], &"f".repeat(40), "5");
    assert!(line.starts_with("+FULLRESYNC "), "{line}");
    read_rdb_bulk(&mut c);
    assert_eq!(int_field(&mut m, "sync_partial_err"), 1);
    assert!(master.log_text().contains("Replication ID mismatch"));
    drop(c);
    wait_for("replica gone", T, || {
        int_field(&mut m, "connected_slaves") == 0
    });

    // An offset that fell out of the 16 kB backlog: full resync.
    let big = "x".repeat(40_000);
    m.call(&["SET", "big", &big]);
    let (mut c, line) = raw_psync(&master, &["psync2"], &replid, &(end + 1).to_string());
    assert!(line.starts_with("+FULLRESYNC "), "{line}");
    read_rdb_bulk(&mut c);
    assert!(master.log_text().contains("for lack of backlog"));
    assert_eq!(int_field(&mut m, "sync_partial_err"), 2);
    drop(c);

    // An offset ahead of the master.
    let now = int_field(&mut m, "master_repl_offset");
    let (_c, line) = raw_psync(&master, &["psync2"], &replid, &(now + 1000).to_string());
    assert!(line.starts_with("+FULLRESYNC "), "{line}");
    assert!(master.log_text().contains(
        "tried to PSYNC with an offset that is greater than the master replication offset"
    ));
}

#[test]
fn old_sync_and_diskless_eof_framing() {
    let master = Server::start(&["--repl-diskless-sync", "no"]);
    let mut m = master.raw();
    m.call(&["SET", "a", "1"]);
    // SYNC: no +FULLRESYNC line, straight to the bulk.
    let mut c = master.raw();
    c.cmd(&[b"SYNC"]);
    read_rdb_bulk(&mut c);
    m.call(&["SET", "b", "2"]);
    let expect = b"*2\r\n$6\r\nSELECT\r\n$1\r\n0\r\n*3\r\n$3\r\nSET\r\n$1\r\nb\r\n$1\r\n2\r\n";
    assert_eq!(c.read_n(expect.len()), expect);
    drop(c);

    // Diskless to a replica with capa eof: $EOF:<mark> … <mark>.
    m.call(&["CONFIG", "SET", "repl-diskless-sync", "yes"]);
    m.call(&["CONFIG", "SET", "repl-diskless-sync-delay", "0"]);
    wait_for("replica gone", T, || {
        int_field(&mut m, "connected_slaves") == 0
    });
    let (mut c, line) = raw_psync(&master, &["eof", "psync2"], "?", "-1");
    assert!(line.starts_with("+FULLRESYNC "), "{line}");
    let head = c.read_line();
    let mark = head.strip_prefix("$EOF:").expect("EOF framing").to_string();
    assert_eq!(mark.len(), 40);
    let rdb = c.read_until(mark.as_bytes());
    assert!(
        rdb.starts_with(b"REDIS0010"),
        "{:?}",
        &rdb[..9.min(rdb.len())]
    );
    assert_eq!(rdb[rdb.len() - 9], 0xff, "EOF opcode before the checksum");
    // Nothing follows the mark until the replica's first ACK: a replica
    // finds the mark by its last 40 bytes read.
    m.call(&["SET", "c", "3"]);
    assert!(
        c.quiet_for(Duration::from_millis(200)),
        "stream sent before ACK"
    );
    c.cmd(&[b"REPLCONF", b"ACK", b"0"]);
    let expect = b"*2\r\n$6\r\nSELECT\r\n$1\r\n0\r\n*3\r\n$3\r\nSET\r\n$1\r\nc\r\n$1\r\n3\r\n";
    assert_eq!(c.read_n(expect.len()), expect);
}

/// Writes during a diskless transfer are held until the replica's first
/// ACK. Sent right after the EOF mark, they hid it from a redis-server
/// replica, which then waited for it until repl-timeout.
#[test]
fn redis_replica_diskless_sync_with_writes_during_transfer() {
    let master = Server::start(&[
        "--repl-diskless-sync",
        "yes",
        "--repl-diskless-sync-delay",
        "0",
        "--rdb-key-save-delay",
        "200",
    ]);
    let mut m = master.raw();
    m.call(&["DEBUG", "POPULATE", "2000", "k", "10"]);
    let replica = redis_replica(&master, &["--repl-timeout", "60"]);
    let mut r = replica.raw();
    // Keep writing until the link is up; the replica must get there well
    // before its 60 s timeout would have rescued a lost mark.
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    let mut n = 0u64;
    while r.info_field("master_link_status") != "up" {
        assert!(
            std::time::Instant::now() < deadline,
            "replica did not finish the diskless sync"
        );
        m.call(&["SET", &format!("w{n}"), "x"]);
        n += 1;
    }
    assert!(n > 0);
    m.call(&["CONFIG", "SET", "rdb-key-save-delay", "0"]);
    wait_same_digest(&mut m, &mut r);
}

#[test]
fn replconf_wait_and_min_replicas() {
    let master = Server::start(&[]);
    let mut m = master.raw();
    assert_eq!(
        m.call(&["REPLCONF", "foo", "bar"]),
        "-ERR Unrecognized REPLCONF option: foo\r\n"
    );
    assert_eq!(m.call(&["REPLCONF", "capa"]), "-ERR syntax error\r\n");
    assert_eq!(m.call(&["WAIT", "0", "0"]), ":0\r\n");
    let start = std::time::Instant::now();
    assert_eq!(m.call(&["WAIT", "1", "100"]), ":0\r\n");
    assert!(start.elapsed() >= Duration::from_millis(100));
    assert_eq!(m.call(&["WAIT", "1", "-1"]), "-ERR timeout is negative\r\n");
    m.call(&["CONFIG", "SET", "min-replicas-to-write", "1"]);
    assert_eq!(
        m.call(&["SET", "a", "1"]),
        "-NOREPLICAS Not enough good replicas to write.\r\n"
    );
    assert_eq!(m.call(&["GET", "a"]), "$-1\r\n");
    let replica = redis_replica(&master, &[]);
    let mut r = replica.raw();
    wait_up(&mut r);
    wait_for("good replica", T, || {
        m.call(&["SET", "a", "1"]) == "+OK\r\n"
    });
    assert_eq!(m.info_field("min_slaves_good_slaves"), "1");
}

#[test]
fn silent_or_slow_replicas_are_dropped() {
    let master = Server::start(&[
        "--repl-diskless-sync",
        "no",
        "--repl-timeout",
        "1",
        "--client-output-buffer-limit",
        "replica 256kb 0 0",
    ]);
    let mut m = master.raw();
    // A replica that never acknowledges is dropped after repl-timeout.
    let (mut c, line) = raw_psync(&master, &["psync2"], "?", "-1");
    assert!(line.starts_with("+FULLRESYNC "));
    read_rdb_bulk(&mut c);
    wait_for("timed out replica dropped", T, || {
        int_field(&mut m, "connected_slaves") == 0
    });
    assert!(master
        .log_text()
        .contains("Disconnecting timedout replica (streaming sync): 127.0.0.1:4444"));
    // A replica that stops reading is dropped at the output-buffer limit
    // instead of growing the master's memory.
    m.call(&["CONFIG", "SET", "repl-timeout", "60"]);
    let (mut c, line) = raw_psync(&master, &["psync2"], "?", "-1");
    assert!(line.starts_with("+FULLRESYNC "));
    read_rdb_bulk(&mut c);
    let big = "y".repeat(100_000);
    for i in 0..400 {
        m.call(&["SET", &format!("big:{}", i % 10), &big]);
        if int_field(&mut m, "connected_slaves") == 0 {
            break;
        }
    }
    wait_for("slow replica dropped", T, || {
        int_field(&mut m, "connected_slaves") == 0
    });
    assert!(master
        .log_text()
        .contains("scheduled to be closed ASAP for overcoming of output buffer limits"));
}

/// A TCP proxy that cuts every connection after a random number of bytes
/// (seeded), `cuts` times, then forwards faithfully.
fn flaky_proxy(target: u16, seed: u64, cuts: usize) -> u16 {
    use std::io::{Read, Write};
    use std::net::{Shutdown, TcpListener, TcpStream};
    use std::sync::atomic::{AtomicI64, Ordering};
    use std::sync::Arc;
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        let mut rng = seed;
        let mut next = move || {
            rng ^= rng << 13;
            rng ^= rng >> 7;
            rng ^= rng << 17;
            rng
        };
        for (n, conn) in listener.incoming().enumerate() {
            let Ok(client) = conn else { return };
            let Ok(server) = TcpStream::connect(("127.0.0.1", target)) else {
                continue;
            };
            // Budget of bytes (both directions) before the cut; unlimited
            // once enough cuts happened.
            let budget = if n < cuts {
                (next() % 300_000) as i64 + 50
            } else {
                i64::MAX
            };
            let left = Arc::new(AtomicI64::new(budget));
            let pairs = [
                (client.try_clone().unwrap(), server.try_clone().unwrap()),
                (server, client),
            ];
            for (mut from, mut to) in pairs {
                let left = left.clone();
                std::thread::spawn(move || {
                    let mut buf = [0u8; 16384];
                    loop {
                        let k = match from.read(&mut buf) {
                            Ok(0) | Err(_) => break,
                            Ok(k) => k,
                        };
                        let allowed = left.fetch_sub(k as i64, Ordering::SeqCst);
                        let k = k.min(allowed.max(0) as usize);
                        if k > 0 && to.write_all(&buf[..k]).is_err() {
                            break;
                        }
                        if allowed - (k as i64) <= 0 && allowed != i64::MAX {
                            break;
                        }
                    }
                    let _ = from.shutdown(Shutdown::Both);
                    let _ = to.shutdown(Shutdown::Both);
                });
            }
        }
    });
    port
}

fn converges_through_cuts(relica_is_master: bool, diskless: &str) {
    let args = [
        "--repl-diskless-sync",
        diskless,
        "--repl-diskless-sync-delay",
        "0",
    ];
    let master = if relica_is_master {
        Server::start(&args)
    } else {
        Server::redis(&args)
    };
    let mut m = master.raw();
    m.call(&["DEBUG", "POPULATE", "20000", "key", "50"]);
    let proxy = flaky_proxy(master.port, 0x9e3779b97f4a7c15 ^ master.port as u64, 6);
    let p = proxy.to_string();
    let replica = if relica_is_master {
        Server::redis(&["--replicaof", "127.0.0.1", &p])
    } else {
        let s = Server::start(&[]);
        s.raw().call(&["REPLICAOF", "127.0.0.1", &p]);
        s
    };
    let mut r = replica.raw();
    for round in 0..20 {
        for i in 0..50 {
            m.call(&["SET", &format!("w:{round}:{i}"), &"z".repeat(200)]);
        }
        m.call(&["DEL", &format!("key:{round}")]);
    }
    wait_up(&mut r);
    wait_same_digest(&mut m, &mut r);
    // The first transfer is always cut (the RDB is larger than any budget).
    let syncs = int_field(&mut m, "sync_full") + int_field(&mut m, "sync_partial_ok");
    assert!(syncs >= 2, "link was never cut: {syncs} syncs");
}

#[test]
fn redis_replica_converges_through_link_cuts() {
    converges_through_cuts(true, "no");
    converges_through_cuts(true, "yes");
}

#[test]
fn relica_replica_converges_through_link_cuts() {
    converges_through_cuts(false, "no");
    converges_through_cuts(false, "yes");
}

#[test]
fn debug_replicate_feeds_replicas_only() {
    let master = Server::start(&[]);
    let mut m = master.raw();
    let replica = redis_replica(&master, &[]);
    let mut r = replica.raw();
    wait_up(&mut r);
    m.call(&["SET", "a", "1"]);
    assert_eq!(
        m.call(&["DEBUG", "REPLICATE", "SET", "only-replica", "x"]),
        "+OK\r\n"
    );
    wait_for("replicated", T, || {
        r.call(&["GET", "only-replica"]) == "$1\r\nx\r\n"
    });
    assert_eq!(m.call(&["EXISTS", "only-replica"]), ":0\r\n");
    assert_eq!(
        m.call(&["DEBUG", "ERROR", "MY custom\nerror"]),
        "-MY custom error\r\n"
    );
}

/// A restarted master continues the history its RDB recorded, as its
/// replid2 (Redis 7.0 starts a new replid), so its replica, reconnecting to
/// the same port, continues with a partial resync.
#[test]
fn replica_continues_partially_after_master_restart() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().to_str().unwrap().to_string();
    let port = crate::util::free_port().to_string();
    let mut master = Server::start(&["--dir", &d, "--port", &port, "--repl-diskless-sync", "no"]);
    let connect = || {
        let s = std::net::TcpStream::connect(("127.0.0.1", port.parse::<u16>().unwrap())).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        Raw::from_stream(s)
    };
    let mut m = connect();
    m.call(&["SET", "before", "1"]);
    let replica = Server::redis(&["--replicaof", "127.0.0.1", &port]);
    let mut r = replica.raw();
    wait_up(&mut r);
    m.call(&["SET", "more", "2"]);
    assert_eq!(m.call(&["WAIT", "1", "5000"]), ":1\r\n");
    let id = m.info_field("master_replid");
    m.cmd(&[b"SHUTDOWN", b"SAVE"]);
    assert!(m.closed());
    master.wait_exit(T);
    let _master2 = Server::start(&["--dir", &d, "--port", &port]);
    let mut m = connect();
    assert_eq!(
        m.info_field("master_replid2"),
        id,
        "history kept across restart"
    );
    assert_ne!(m.info_field("master_replid"), id);
    wait_for("partial resync after restart", T, || {
        m.info_field("sync_partial_ok") == "1"
    });
    assert_eq!(m.info_field("sync_full"), "0");
    m.call(&["SET", "after", "3"]);
    wait_same_digest(&mut m, &mut r);
}

// PINGs reach replicas every repl-ping-replica-period, on ticks counted
// from start-up as Redis's replicationCron, not on attach.
#[test]
fn replicas_are_pinged_every_period() {
    let master = Server::start(&[
        "--repl-diskless-sync",
        "no",
        "--repl-ping-replica-period",
        "1",
    ]);
    let mut c = master.raw();
    c.cmd(&[b"SYNC"]);
    read_rdb_bulk(&mut c);
    let ping = b"*1\r\n$4\r\nPING\r\n";
    assert_eq!(c.read_n(ping.len()), ping);
    assert_eq!(c.read_n(ping.len()), ping);
}

/// Write about `mb` MB to `m` in 1 kB values, pipelined.
fn write_mb(m: &mut Raw, prefix: &str, mb: usize) {
    let v = "v".repeat(1000);
    for batch in 0..mb {
        let mut cmds = Vec::new();
        for i in 0..1000 {
            let k = format!("{prefix}:{batch}:{i}");
            cmds.extend_from_slice(
                format!("*3\r\n$3\r\nSET\r\n${}\r\n{k}\r\n$1000\r\n{v}\r\n", k.len()).as_bytes(),
            );
        }
        m.send(&cmds);
        for _ in 0..1000 {
            assert_eq!(m.read_line(), "+OK");
        }
    }
}

// Redis 7.0's shared replication buffer: four replicas waiting for the same
// snapshot keep one copy of the stream, not four, and once they are online
// and caught up the buffer shrinks back to the backlog size.
#[test]
fn replicas_share_one_replication_buffer() {
    let master = Server::start(&[
        "--save",
        "",
        "--repl-diskless-sync",
        "yes",
        "--repl-diskless-sync-delay",
        "30",
        "--repl-diskless-sync-max-replicas",
        "4",
        "--client-output-buffer-limit",
        "replica 0 0 0",
    ]);
    let mut m = master.raw();
    m.call(&["DEBUG", "POPULATE", "200", "key", "10"]);
    // 20 ms a key: the snapshot takes 4 s unless sped up.
    m.call(&["CONFIG", "SET", "rdb-key-save-delay", "20000"]);
    let replicas: Vec<Server> = (0..4).map(|_| redis_replica(&master, &[])).collect();
    wait_for("four replicas waiting for one snapshot", T, || {
        int_field(&mut m, "rdb_bgsave_in_progress") == 1
            && int_field(&mut m, "connected_slaves") == 4
            && (0..4).all(|i| !m.info_field(&format!("slave{i}")).contains("online"))
    });
    let backlog = int_field(&mut m, "repl_backlog_size");
    let before = int_field(&mut m, "mem_total_replication_buffers");
    assert!(before < backlog, "{before}");
    write_mb(&mut m, "w", 4);
    let stream = 4 * 1000 * 1000;
    let total = int_field(&mut m, "mem_total_replication_buffers");
    assert!(
        total > stream && total < stream * 11 / 10,
        "one copy of a {stream}-byte stream for four replicas, got {total}"
    );
    // The replicas hold it all: the backlog outgrew its size.
    let hist = int_field(&mut m, "repl_backlog_histlen");
    assert!(hist > stream, "{hist}");
    assert_eq!(int_field(&mut m, "mem_clients_slaves"), total - backlog);
    let line = m.call(&["CLIENT", "LIST", "TYPE", "replica"]);
    for l in line.lines().filter(|l| l.contains("omem=")) {
        let omem: i64 = l
            .split(" omem=")
            .nth(1)
            .unwrap()
            .split(' ')
            .next()
            .unwrap()
            .parse()
            .unwrap();
        assert!(omem > stream && omem <= total, "{l}");
    }
    // Let the snapshot finish: the replicas load it, stream, catch up.
    m.call(&["CONFIG", "SET", "rdb-key-save-delay", "0"]);
    for rep in &replicas {
        let mut r = rep.raw();
        wait_up(&mut r);
        wait_same_digest(&mut m, &mut r);
    }
    wait_for("the buffer back to about the backlog size", T, || {
        int_field(&mut m, "repl_backlog_histlen") < backlog + backlog / 8
            && int_field(&mut m, "mem_total_replication_buffers") < backlog * 2
    });
    assert_eq!(int_field(&mut m, "sync_full"), 4);
}

// A replica partially resyncs from stream data beyond repl-backlog-size
// that the buffer still holds because another replica (waiting for its
// snapshot) needs it; once that replica is gone the buffer is trimmed back.
#[test]
fn replica_continues_from_data_another_replica_holds() {
    let master = Server::start(&[
        "--save",
        "",
        "--repl-backlog-size",
        "16kb",
        "--repl-diskless-sync-delay",
        "0",
        "--client-output-buffer-limit",
        "replica 0 0 0",
    ]);
    let mut m = master.raw();
    // Not propagated (as in Redis): in the snapshots only.
    m.call(&["DEBUG", "POPULATE", "100", "key", "10"]);
    let r1 = redis_replica(&master, &[]);
    let mut c1 = r1.raw();
    wait_up(&mut c1);
    m.call(&["CONFIG", "SET", "rdb-key-save-delay", "1000000"]);
    let r2 = redis_replica(&master, &[]);
    let mut c2 = r2.raw();
    wait_for("replica 2 waits for its snapshot", T, || {
        int_field(&mut m, "rdb_bgsave_in_progress") == 1
            && c2.info_field("master_sync_in_progress") == "1"
    });
    wait_same_digest(&mut m, &mut c1);
    // Replica 1 leaves (to a master that cannot serve it), 2 MB go by.
    let r2_port = r2.port.to_string();
    assert_eq!(c1.call(&["REPLICAOF", "127.0.0.1", &r2_port]), "+OK\r\n");
    write_mb(&mut m, "gone", 2);
    let hist = int_field(&mut m, "repl_backlog_histlen");
    assert!(
        hist > 2_000_000,
        "the waiting replica holds the stream: {hist}"
    );
    // Back to the master: it continues from 2 MB ago, 16 kB backlog or not.
    let port = master.port.to_string();
    assert_eq!(c1.call(&["REPLICAOF", "127.0.0.1", &port]), "+OK\r\n");
    wait_up(&mut c1);
    wait_same_digest(&mut m, &mut c1);
    assert_eq!(int_field(&mut m, "sync_partial_ok"), 1);
    assert_eq!(int_field(&mut m, "sync_full"), 2);
    assert_eq!(c2.info_field("master_sync_in_progress"), "1");
    // Replica 2 goes: the buffer shrinks to about the backlog size.
    drop(c2);
    drop(r2);
    wait_for("replica 2 gone", T, || {
        int_field(&mut m, "connected_slaves") == 1
    });
    wait_for("trimmed", T, || {
        int_field(&mut m, "repl_backlog_histlen") < 64 * 1024
    });
    let first = int_field(&mut m, "repl_backlog_first_byte_offset");
    let hist = int_field(&mut m, "repl_backlog_histlen");
    assert_eq!(first + hist - 1, int_field(&mut m, "master_repl_offset"));
}

/// Send a signal to a process by its PID.
fn signal(pid: u32, sig: &str) {
    let ok = std::process::Command::new("kill")
        .args([sig, &pid.to_string()])
        .status()
        .expect("kill")
        .success();
    assert!(ok, "kill {sig} {pid}");
}

/// Redis 7.0's graceful shutdown, side by side: with a replica behind, a
/// SHUTDOWN blocks (writes paused, INFO shutdown_in_milliseconds) until
/// the replica acknowledges the whole stream; SHUTDOWN ABORT answers the
/// blocked SHUTDOWNs with an error and lets writes go on; a SIGTERM waits
/// the same way, and the master exits once the replica has caught up.
fn shutdown_waits_for_lagging_replica(master_is_relica: bool) {
    let args = ["--shutdown-timeout", "300"];
    let mut master = if master_is_relica {
        Server::start(&args)
    } else {
        Server::redis(&args)
    };
    let replica = Server::start(&[]);
    let (mut m, mut r) = (master.raw(), replica.raw());
    assert_eq!(
        r.call(&["REPLICAOF", "127.0.0.1", &master.port.to_string()]),
        "+OK\r\n"
    );
    wait_up(&mut r);
    m.call(&["SET", "k", "1"]);
    wait_same_digest(&mut m, &mut r);
    signal(replica.pid(), "-STOP");
    m.call(&["INCR", "k"]);
    let (mut s1, mut s2) = (master.raw(), master.raw());
    s1.send(b"*1\r\n$8\r\nSHUTDOWN\r\n");
    s2.send(b"*1\r\n$8\r\nSHUTDOWN\r\n");
    wait_for("two clients blocked in SHUTDOWN", T, || {
        m.info_field("blocked_clients") == "2"
    });
    assert!(int_field(&mut m, "shutdown_in_milliseconds") > 0);
    assert_eq!(m.info_field("connected_clients"), "3");
    assert_eq!(m.call(&["SHUTDOWN", "ABORT"]), "+OK\r\n");
    for s in [&mut s1, &mut s2] {
        assert_eq!(
            s.reply_str(),
            "-ERR Errors trying to SHUTDOWN. Check logs.\r\n"
        );
    }
    assert_eq!(m.info_field("shutdown_in_milliseconds"), "");
    assert_eq!(
        m.call(&["SHUTDOWN", "ABORT"]),
        "-ERR No shutdown in progress.\r\n"
    );
    assert_eq!(m.call(&["INCR", "k"]), ":3\r\n");
    signal(master.pid(), "-TERM");
    wait_for("shutdown under way", T, || {
        int_field(&mut m, "shutdown_in_milliseconds") > 0
    });
    signal(replica.pid(), "-CONT");
    assert!(master.wait_exit(T).success());
    assert_eq!(r.call(&["GET", "k"]), "$1\r\n3\r\n");
    let log = master.log_text();
    for line in [
        "Waiting for replicas before shutting down.",
        "Shutdown manually aborted.",
        "1 of 1 replicas are in sync when shutting down.",
        "ready to exit, bye bye",
    ] {
        assert!(log.contains(line), "{line}: {log}");
    }
    assert!(!log.contains("Lagging replica"), "{log}");
}

#[test]
fn shutdown_waits_for_lagging_replica_relica_master() {
    shutdown_waits_for_lagging_replica(true);
}

#[test]
fn shutdown_waits_for_lagging_replica_redis_master() {
    shutdown_waits_for_lagging_replica(false);
}

/// redis-cli --rdb and --functions-rdb (REPLCONF rdb-only and
/// rdb-filter-only functions) against a disk and a diskless master: the
/// file holds the keys and functions, or the functions only; a server
/// started on it has them.
#[test]
fn redis_cli_rdb_and_functions_rdb() {
    let dir = tempfile::tempdir().expect("tempdir");
    for diskless in ["no", "yes"] {
        let master = Server::start(&[
            "--repl-diskless-sync",
            diskless,
            "--repl-diskless-sync-delay",
            "0",
        ]);
        let mut m = master.raw();
        m.call(&["DEBUG", "POPULATE", "1000", "key", "10"]);
        assert_eq!(
            m.call(&[
                "FUNCTION",
                "LOAD",
                "#!lua name=lib1\nredis.register_function('func1', function() return 123 end)",
            ]),
            "$4\r\nlib1\r\n"
        );
        for (flag, keys) in [("--rdb", ":1000\r\n"), ("--functions-rdb", ":0\r\n")] {
            let file = dir.path().join(format!("cli-{diskless}{flag}.rdb"));
            let out = std::process::Command::new("redis-cli")
                .args(["-p", &master.port.to_string(), flag])
                .arg(&file)
                .output()
                .expect("redis-cli");
            let text = String::from_utf8_lossy(&out.stderr).to_string()
                + &String::from_utf8_lossy(&out.stdout);
            assert!(text.contains("Transfer finished with success"), "{text}");
            let loaded = Server::start(&[
                "--dir",
                dir.path().to_str().expect("utf-8"),
                "--dbfilename",
                file.file_name().and_then(|f| f.to_str()).expect("name"),
            ]);
            let mut l = loaded.raw();
            assert_eq!(l.call(&["DBSIZE"]), keys, "{flag} diskless {diskless}");
            assert!(l.call(&["FUNCTION", "LIST"]).contains("func1"));
        }
        // A filtered replica must take an EOF-marked payload.
        let mut r = master.raw();
        assert_eq!(
            r.call(&["REPLCONF", "rdb-filter-only", "functions"]),
            "+OK\r\n"
        );
        assert_eq!(
            r.call(&["SYNC"]),
            "-ERR Filtered replica requires EOF capability\r\n"
        );
        assert_eq!(
            r.call(&["REPLCONF", "rdb-filter-only", "keys"]),
            "-ERR Unsupported rdb-filter-only option: keys\r\n"
        );
    }
}
