//! Replication, replica side: relica replicating from real redis-server
//! masters and from relica, chained replicas, promotion with REPLICAOF NO
//! ONE keeping partial resync possible, expiry and stale-data rules.

use std::time::Duration;

use crate::util::{int_field, wait_for, wait_same_digest, wait_up, Raw, Server};

const T: Duration = Duration::from_secs(120);

fn replicaof(r: &mut Raw, master: &Server) {
    assert_eq!(
        r.call(&["REPLICAOF", "127.0.0.1", &master.port.to_string()]),
        "+OK\r\n"
    );
}

fn dataset(m: &mut Raw) {
    m.call(&["DEBUG", "POPULATE", "3000", "key", "30"]);
    m.call(&["RPUSH", "list", "a", "b", "1", "2"]);
    m.call(&["SET", "ttl", "v", "EX", "5000"]);
    m.call(&["SELECT", "3"]);
    m.call(&["SET", "in3", "x"]);
    m.call(&["SELECT", "0"]);
}

fn writes(m: &mut Raw, tag: &str) {
    for i in 0..100 {
        m.call(&["SET", &format!("{tag}:{i}"), &i.to_string()]);
    }
    m.call(&["MULTI"]);
    m.call(&["INCR", &format!("{tag}:ctr")]);
    m.call(&["LPUSH", "list", tag]);
    m.call(&["EXEC"]);
    m.call(&["SELECT", "3"]);
    m.call(&["APPEND", "in3", tag]);
    m.call(&["SELECT", "0"]);
}

fn from_redis_master(diskless: &str) {
    let master = Server::redis(&[
        "--repl-diskless-sync",
        diskless,
        "--repl-diskless-sync-delay",
        "0",
    ]);
    let mut m = master.raw();
    dataset(&mut m);
    let replica = Server::start(&[]);
    let mut r = replica.raw();
    replicaof(&mut r, &master);
    wait_up(&mut r);
    wait_same_digest(&mut m, &mut r);
    writes(&mut m, "w");
    wait_same_digest(&mut m, &mut r);
    assert_eq!(m.call(&["WAIT", "1", "5000"]), ":1\r\n");
    assert_eq!(r.info_field("role"), "slave");
    assert_eq!(
        r.info_field("master_repl_offset"),
        m.info_field("master_repl_offset")
    );
    assert_eq!(r.info_field("master_replid"), m.info_field("master_replid"));
    let role = r.call(&["ROLE"]);
    assert!(
        role.starts_with(&format!(
            "*5\r\n$5\r\nslave\r\n$9\r\n127.0.0.1\r\n:{}\r\n$9\r\nconnected\r\n:",
            master.port
        )),
        "{role}"
    );
    assert_eq!(
        r.call(&["SET", "x", "1"]),
        "-READONLY You can't write against a read only replica.\r\n"
    );
    let log = replica.log_text();
    assert!(
        log.contains("MASTER <-> REPLICA sync: Finished with success"),
        "{log}"
    );
    // A former master offers its own history first (Redis's
    // replicationCacheMasterUsingMyself); the master refuses it.
    assert!(log.contains("Trying a partial resynchronization (request "));
    assert!(log.contains("Full resync from master: "));
}

#[test]
fn replica_of_redis_master_disk() {
    from_redis_master("no");
}

#[test]
fn replica_of_redis_master_diskless() {
    from_redis_master("yes");
}

#[test]
fn partial_resync_after_link_loss_and_timeout_free_expiry() {
    let master = Server::redis(&["--repl-diskless-sync", "no"]);
    let mut m = master.raw();
    dataset(&mut m);
    let replica = Server::start(&[]);
    let mut r = replica.raw();
    replicaof(&mut r, &master);
    wait_up(&mut r);
    wait_same_digest(&mut m, &mut r);
    // Cut the link from the replica's side: it must continue, not resync.
    assert_eq!(r.call(&["CLIENT", "KILL", "TYPE", "master"]), ":1\r\n");
    writes(&mut m, "gap");
    wait_for("partial resync", T, || {
        int_field(&mut m, "sync_partial_ok") == 1
    });
    wait_up(&mut r);
    wait_same_digest(&mut m, &mut r);
    assert_eq!(int_field(&mut m, "sync_full"), 1);
    assert!(replica
        .log_text()
        .contains("Successful partial resynchronization with master."));

    // Expiry: the replica never deletes by its own clock, but an expired key
    // reads as missing; the master's DEL removes it.
    m.call(&["DEBUG", "SET-ACTIVE-EXPIRE", "0"]);
    m.call(&["SET", "short", "v", "PX", "50"]);
    wait_for("key replicated", T, || {
        r.call(&["EXISTS", "ttl"]) == ":1\r\n"
    });
    wait_for("logically expired", T, || {
        r.call(&["GET", "short"]) == "$-1\r\n"
    });
    // Still stored on the replica until the master's DEL arrives.
    assert_ne!(
        r.call(&["DEBUG", "DIGEST-VALUE", "short"]),
        format!("*1\r\n+{}\r\n", "0".repeat(40))
    );
    m.call(&["DEBUG", "SET-ACTIVE-EXPIRE", "1"]);
    wait_same_digest(&mut m, &mut r);
}

#[test]
fn chained_replicas_and_promotion() {
    // redis master -> relica A -> (redis B, relica C)
    let master = Server::redis(&[]);
    let mut m = master.raw();
    dataset(&mut m);
    let a = Server::start(&["--repl-diskless-sync-delay", "0"]);
    let mut ra = a.raw();
    replicaof(&mut ra, &master);
    wait_up(&mut ra);
    let port_a = a.port.to_string();
    let b = Server::redis(&["--replicaof", "127.0.0.1", &port_a]);
    let mut rb = b.raw();
    let c = Server::start(&[]);
    let mut rc = c.raw();
    replicaof(&mut rc, &a);
    wait_up(&mut rb);
    wait_up(&mut rc);
    writes(&mut m, "chain");
    wait_same_digest(&mut m, &mut rb);
    wait_same_digest(&mut m, &mut rc);
    // The same history and offsets all the way down.
    let off = m.info_field("master_repl_offset");
    wait_for("offsets", T, || {
        rb.info_field("master_repl_offset") == off && rc.info_field("master_repl_offset") == off
    });
    assert_eq!(
        rb.info_field("master_replid"),
        m.info_field("master_replid")
    );
    assert_eq!(
        rc.info_field("master_replid"),
        m.info_field("master_replid")
    );

    // Promote A: B and C continue with it partially (replid2).
    let old_id = ra.info_field("master_replid");
    assert_eq!(ra.call(&["REPLICAOF", "NO", "ONE"]), "+OK\r\n");
    assert_eq!(ra.info_field("role"), "master");
    assert_eq!(ra.info_field("master_replid2"), old_id);
    let second: i64 = ra.info_field("second_repl_offset").parse().unwrap();
    assert_eq!(second, off.parse::<i64>().unwrap() + 1);
    wait_for("both replicas back", T, || {
        int_field(&mut ra, "sync_partial_ok") >= 2
    });
    assert_eq!(int_field(&mut ra, "sync_full"), 2, "no new full syncs");
    assert_eq!(ra.call(&["SET", "after-promotion", "1"]), "+OK\r\n");
    wait_same_digest(&mut ra, &mut rb);
    wait_same_digest(&mut ra, &mut rc);
    // The old master joins the promoted node and continues too.
    replicaof(&mut m, &a);
    wait_up(&mut m);
    wait_same_digest(&mut ra, &mut m);
    assert_eq!(int_field(&mut ra, "sync_full"), 2);
}

#[test]
fn relica_to_relica_and_stale_data() {
    let master = Server::start(&[]);
    let mut m = master.raw();
    dataset(&mut m);
    let replica = Server::start(&["--replica-serve-stale-data", "no"]);
    let mut r = replica.raw();
    replicaof(&mut r, &master);
    wait_up(&mut r);
    wait_same_digest(&mut m, &mut r);
    writes(&mut m, "rr");
    wait_same_digest(&mut m, &mut r);
    assert_eq!(
        r.call(&["REPLICAOF", "127.0.0.1", &master.port.to_string()]),
        "+OK Already connected to specified master\r\n"
    );
    // Point it at a port where nothing listens: the link stays down.
    let dead = crate::util::free_port().to_string();
    assert_eq!(r.call(&["REPLICAOF", "127.0.0.1", &dead]), "+OK\r\n");
    assert_eq!(
        r.call(&["GET", "key:1"]),
        "-MASTERDOWN Link with MASTER is down and replica-serve-stale-data is set to 'no'.\r\n"
    );
    // PING too, as Redis 7.0 (PING has no `stale` flag; Sentinel takes
    // -MASTERDOWN as a valid reply).
    assert_eq!(
        r.call(&["PING"]),
        "-MASTERDOWN Link with MASTER is down and replica-serve-stale-data is set to 'no'.\r\n"
    );
    assert_eq!(r.info_field("master_link_status"), "down");
    let role = r.call(&["ROLE"]);
    assert!(role.contains("connect"), "{role}");
    assert_eq!(r.call(&["REPLICAOF", "NO", "ONE"]), "+OK\r\n");
    assert!(r.call(&["GET", "key:1"]).starts_with("$30\r\nvalue:1"));
}

fn failover_to(target_is_relica: bool) {
    let m_srv = Server::start(&[]);
    let mut m = m_srv.raw();
    dataset(&mut m);
    assert_eq!(
        m.call(&["FAILOVER"]),
        "-ERR FAILOVER requires connected replicas.\r\n"
    );
    let port = m_srv.port.to_string();
    let t_srv = if target_is_relica {
        let s = Server::start(&[]);
        s.raw().call(&["REPLICAOF", "127.0.0.1", &port]);
        s
    } else {
        Server::redis(&["--replicaof", "127.0.0.1", &port])
    };
    let mut t = t_srv.raw();
    wait_up(&mut t);
    wait_for("replica online", T, || {
        m.info_field("slave0").contains("state=online")
    });
    assert_eq!(
        m.call(&["FAILOVER", "TO", "127.0.0.1", "1", "FORCE"]),
        "-ERR FAILOVER with force option requires both a timeout and target HOST and IP.\r\n"
    );
    assert_eq!(
        m.call(&["FAILOVER", "TO", "127.0.0.1", "1"]),
        "-ERR FAILOVER target HOST and PORT is not a replica.\r\n"
    );
    assert_eq!(
        m.call(&["FAILOVER", "ABORT"]),
        "-ERR No failover in progress.\r\n"
    );
    let tp = t_srv.port.to_string();
    assert_eq!(m.call(&["FAILOVER", "TO", "127.0.0.1", &tp]), "+OK\r\n");
    wait_for("roles swapped", T, || {
        t.info_field("role") == "master" && m.info_field("role") == "slave"
    });
    wait_up(&mut m);
    assert_eq!(m.info_field("master_failover_state"), "no-failover");
    assert_eq!(m.info_field("master_port"), tp);
    // Writes resume on the new master and reach the old one.
    assert_eq!(t.call(&["SET", "after-failover", "1"]), "+OK\r\n");
    wait_same_digest(&mut t, &mut m);
    assert_eq!(
        int_field(&mut t, "sync_full"),
        0,
        "the old master continued partially"
    );
    assert!(m_srv.log_text().contains("is synced, failing over."));
}

#[test]
fn failover_to_a_redis_replica() {
    failover_to(false);
}

#[test]
fn failover_to_a_relica_replica() {
    failover_to(true);
}

/// Every `repl-diskless-load` setting, with writes landing during the sync.
#[test]
fn every_diskless_load_mode_with_writes_during_sync() {
    for (mode, master_diskless) in [
        ("disabled", "no"),
        ("on-empty-db", "yes"),
        ("swapdb", "yes"),
    ] {
        let master = Server::redis(&[
            "--repl-diskless-sync",
            master_diskless,
            "--repl-diskless-sync-delay",
            "0",
            // Slow the master's RDB down so writes land during the transfer.
            "--rdb-key-save-delay",
            "200",
        ]);
        let mut m = master.raw();
        dataset(&mut m);
        let replica = Server::start(&["--repl-diskless-load", mode]);
        let mut r = replica.raw();
        r.call(&["SET", "stale", "old-data"]);
        replicaof(&mut r, &master);
        wait_for("sync started", T, || {
            m.info_field("slave0").contains("state=wait_bgsave")
                || m.info_field("slave0").contains("state=send_bulk")
                || m.info_field("rdb_bgsave_in_progress") == "1"
        });
        writes(&mut m, mode);
        m.call(&["CONFIG", "SET", "rdb-key-save-delay", "0"]);
        wait_up(&mut r);
        wait_same_digest(&mut m, &mut r);
        assert_eq!(r.call(&["EXISTS", "stale"]), ":0\r\n", "{mode}");
    }
}

/// PSYNC2 with the roles swapped: a redis replica is promoted and the
/// relica replica continues with it partially.
#[test]
fn relica_replica_continues_with_a_promoted_redis_replica() {
    let master = Server::redis(&[]);
    let mut m = master.raw();
    dataset(&mut m);
    let r1 = Server::redis(&["--replicaof", "127.0.0.1", &master.port.to_string()]);
    let mut a = r1.raw();
    let r2 = Server::start(&[]);
    let mut b = r2.raw();
    replicaof(&mut b, &master);
    wait_up(&mut a);
    wait_up(&mut b);
    writes(&mut m, "before");
    wait_same_digest(&mut m, &mut a);
    wait_same_digest(&mut m, &mut b);
    assert_eq!(a.call(&["REPLICAOF", "NO", "ONE"]), "+OK\r\n");
    replicaof(&mut b, &r1);
    wait_up(&mut b);
    a.call(&["SET", "after", "1"]);
    wait_same_digest(&mut a, &mut b);
    assert_eq!(
        int_field(&mut a, "sync_partial_ok"),
        1,
        "{}\n{}",
        r2.log_text(),
        r1.log_text()
    );
    assert_eq!(int_field(&mut a, "sync_full"), 0, "no full sync");
    assert!(r2
        .log_text()
        .contains("Successful partial resynchronization with master."));
}

#[test]
fn relica_chain_of_three_converges() {
    let a = Server::start(&["--repl-diskless-sync-delay", "0"]);
    let mut ra = a.raw();
    dataset(&mut ra);
    let b = Server::start(&["--repl-diskless-sync-delay", "0"]);
    let mut rb = b.raw();
    replicaof(&mut rb, &a);
    let c = Server::start(&[]);
    let mut rc = c.raw();
    replicaof(&mut rc, &b);
    wait_up(&mut rb);
    wait_up(&mut rc);
    writes(&mut ra, "c3");
    wait_same_digest(&mut ra, &mut rc);
    let off = ra.info_field("master_repl_offset");
    wait_for("offsets", T, || rc.info_field("master_repl_offset") == off);
}

/// repl-diskless-load swapdb, as Redis 7.0: from a master of another
/// history the replica answers -LOADING while it loads aside (loading:1)
/// and keeps its old data when the transfer fails; from its own master's
/// history (a full resync with the same replid) it serves the old data
/// meanwhile (async_loading:1). A redis-server replica does the same.
fn swapdb_loading_modes(replica: Server) {
    let mut master = Server::redis(&[
        "--repl-diskless-sync",
        "yes",
        "--repl-diskless-sync-delay",
        "0",
        "--rdbcompression",
        "no",
    ]);
    let mut m = master.raw();
    // Large values: redis-server answers INFO during a load only between
    // reads of loading-process-events-interval-bytes.
    m.call(&["DEBUG", "POPULATE", "200", "key", "100000"]);
    let mut r = replica.raw();
    r.call(&["CONFIG", "SET", "repl-diskless-load", "swapdb"]);
    // redis-server answers INFO during a load only every so many bytes.
    r.call(&[
        "CONFIG",
        "SET",
        "loading-process-events-interval-bytes",
        "1024",
    ]);
    r.call(&["SET", "old", "data"]);
    // Same history: synced once, then pushed out of the backlog.
    replicaof(&mut r, &master);
    wait_up(&mut r);
    wait_same_digest(&mut m, &mut r);
    m.call(&["CONFIG", "SET", "rdb-key-save-delay", "10000"]);
    // The replica is cut off while the backlog moves past it: it comes
    // back for a full resync of the same history.
    m.call(&["MULTI"]);
    m.call(&["CLIENT", "KILL", "TYPE", "replica"]);
    m.call(&["CONFIG", "SET", "repl-backlog-size", "16384"]);
    let fill = "A".repeat(16384);
    for i in 0..10 {
        m.call(&["SET", &format!("fill:{i}"), &fill]);
    }
    m.call(&["EXEC"]);
    wait_for("async loading", T, || r.info_field("async_loading") == "1");
    assert_eq!(r.info_field("loading"), "0");
    assert_eq!(r.call(&["GET", "old"]), "$-1\r\n");
    assert_eq!(r.call(&["STRLEN", "key:1"]), ":100000\r\n");
    m.call(&["CONFIG", "SET", "rdb-key-save-delay", "0"]);
    wait_for("async load done", T, || {
        r.info_field("async_loading") == "0"
    });
    wait_up(&mut r);
    wait_same_digest(&mut m, &mut r);
    // Another history: -LOADING meanwhile, and the old data if it fails.
    m.call(&["CONFIG", "SET", "rdb-key-save-delay", "10000"]);
    m.call(&["DEBUG", "CHANGE-REPL-ID"]);
    r.call(&["CLIENT", "KILL", "TYPE", "master"]);
    wait_for("loading", T, || r.info_field("loading") == "1");
    assert_eq!(r.info_field("async_loading"), "0");
    assert!(r.call(&["GET", "key:1"]).starts_with("-LOADING"));
    master.kill9();
    wait_for("load abandoned", T, || r.info_field("loading") == "0");
    assert_eq!(r.call(&["STRLEN", "key:1"]), ":100000\r\n");
    assert_eq!(r.call(&["DBSIZE"]), ":210\r\n");
}

#[test]
fn swapdb_loading_modes_relica() {
    swapdb_loading_modes(Server::start(&[]));
}

#[test]
fn swapdb_loading_modes_redis() {
    swapdb_loading_modes(Server::redis(&[]));
}

// CLIENT PAUSE WRITE on a replica holds its master's writes too, as in
// Redis: they are read (slave_read_repl_offset) but applied only after the
// pause; with a redis-server master and a relica one.
fn paused_replica_holds_the_stream(master: Server) {
    let mut m = master.raw();
    m.call(&["CONFIG", "SET", "repl-ping-replica-period", "3600"]);
    let replica = Server::start(&[]);
    let mut r = replica.raw();
    replicaof(&mut r, &master);
    wait_up(&mut r);
    m.call(&["SET", "foo", "bar"]);
    let before = int_field(&mut m, "master_repl_offset");
    wait_for("in step", Duration::from_secs(60), || {
        int_field(&mut r, "slave_repl_offset") == before
    });
    assert_eq!(r.call(&["CLIENT", "PAUSE", "100000", "WRITE"]), "+OK\r\n");
    m.call(&["SET", "foo2", "bar2"]);
    let now = int_field(&mut m, "master_repl_offset");
    wait_for("read ahead", Duration::from_secs(60), || {
        int_field(&mut r, "slave_read_repl_offset") == now
    });
    assert_eq!(int_field(&mut r, "slave_repl_offset"), before);
    assert_eq!(r.call(&["GET", "foo2"]), "$-1\r\n");
    assert_eq!(r.call(&["CLIENT", "UNPAUSE"]), "+OK\r\n");
    wait_for("applied", Duration::from_secs(60), || {
        int_field(&mut r, "slave_repl_offset") == now
    });
    assert_eq!(r.call(&["GET", "foo2"]), "$4\r\nbar2\r\n");
}

#[test]
fn paused_replica_of_redis_holds_the_stream() {
    paused_replica_holds_the_stream(Server::redis(&[]));
}

#[test]
fn paused_replica_of_relica_holds_the_stream() {
    paused_replica_holds_the_stream(Server::start(&[]));
}

// A replica sent to another master keeps its old master's stream db, as
// Redis's cached master does: coming back with a partial resync, the stream
// goes on with no SELECT, and writes of db 9 must land in db 9 (they went to
// db 0).
#[test]
fn replica_moving_masters_keeps_the_stream_db() {
    let master = Server::redis(&["--save", ""]);
    // A replica whose own master is unreachable: it refuses to serve
    // (-NOMASTERLINK), so our replica keeps its data and history meanwhile.
    let nowhere = crate::util::free_port().to_string();
    let elsewhere = Server::redis(&["--save", "", "--replicaof", "127.0.0.1", &nowhere]);
    let replica = Server::start(&[]);
    let (mut m, mut r) = (master.raw(), replica.raw());
    replicaof(&mut r, &master);
    wait_up(&mut r);
    m.call(&["SELECT", "9"]);
    for i in 0..100 {
        m.call(&["SET", &format!("before:{i}"), "v"]);
    }
    wait_same_digest(&mut m, &mut r);
    replicaof(&mut r, &elsewhere);
    for i in 0..100 {
        m.call(&["SET", &format!("away:{i}"), "v"]);
    }
    replicaof(&mut r, &master);
    wait_up(&mut r);
    wait_same_digest(&mut m, &mut r);
    assert_eq!(int_field(&mut m, "sync_partial_ok"), 1);
    assert_eq!(r.call(&["DBSIZE"]), ":0\r\n", "nothing in db 0");
    r.call(&["SELECT", "9"]);
    assert_eq!(r.call(&["DBSIZE"]), ":200\r\n");
}

/// One invocation of each write command of Redis 7.0's table (its `@write`
/// category, subcommands as `xgroup|create`), each valid on the master,
/// run in this order. `DUMP` payloads are filled in by the test.
const WRITE_CALLS: &[(&str, &[&str])] = &[
    // FLUSHALL first, over something, so that the rest is kept.
    ("flushall", &["SET", "gone", "1"]),
    ("flushall", &["FLUSHALL"]),
    ("set", &["SET", "s", "abc"]),
    ("setnx", &["SETNX", "s2", "x"]),
    ("setex", &["SETEX", "s3", "1000", "x"]),
    ("psetex", &["PSETEX", "s4", "1000000", "x"]),
    ("append", &["APPEND", "s", "def"]),
    ("setrange", &["SETRANGE", "s", "1", "ZZ"]),
    ("getset", &["GETSET", "s2", "y"]),
    ("getdel", &["GETDEL", "s2"]),
    ("getex", &["GETEX", "s", "EX", "5000"]),
    ("mset", &["MSET", "m1", "1", "m2", "2"]),
    ("msetnx", &["MSETNX", "m3", "3", "m4", "4"]),
    ("incr", &["INCR", "n"]),
    ("incrby", &["INCRBY", "n", "10"]),
    ("decr", &["DECR", "n"]),
    ("decrby", &["DECRBY", "n", "3"]),
    ("incrbyfloat", &["INCRBYFLOAT", "f", "1.5"]),
    ("setbit", &["SETBIT", "bits", "7", "1"]),
    ("bitfield", &["BITFIELD", "bits", "INCRBY", "u8", "8", "5"]),
    ("bitop", &["BITOP", "OR", "bits2", "bits", "s"]),
    ("expire", &["EXPIRE", "m1", "5000"]),
    ("pexpire", &["PEXPIRE", "m2", "5000000"]),
    ("expireat", &["EXPIREAT", "m3", "4102444800"]),
    ("pexpireat", &["PEXPIREAT", "m4", "4102444800000"]),
    ("persist", &["PERSIST", "m1"]),
    ("copy", &["COPY", "s", "scopy"]),
    ("rename", &["RENAME", "scopy", "scopy2"]),
    ("renamenx", &["RENAMENX", "scopy2", "scopy3"]),
    ("move", &["MOVE", "scopy3", "1"]),
    ("del", &["DEL", "s3"]),
    ("unlink", &["UNLINK", "s4"]),
    ("lpush", &["LPUSH", "l", "c", "b", "a"]),
    ("rpush", &["RPUSH", "l", "3", "1", "2"]),
    ("lpushx", &["LPUSHX", "l", "z"]),
    ("rpushx", &["RPUSHX", "l", "9"]),
    ("linsert", &["LINSERT", "l", "BEFORE", "b", "bb"]),
    ("lset", &["LSET", "l", "0", "zz"]),
    ("lrem", &["LREM", "l", "1", "zz"]),
    ("ltrim", &["LTRIM", "l", "0", "20"]),
    ("lpop", &["LPOP", "l"]),
    ("rpop", &["RPOP", "l"]),
    ("rpoplpush", &["RPOPLPUSH", "l", "l2"]),
    ("lmove", &["LMOVE", "l", "l2", "LEFT", "RIGHT"]),
    ("lmpop", &["LMPOP", "1", "l", "LEFT"]),
    ("blpop", &["BLPOP", "l", "1"]),
    ("brpop", &["BRPOP", "l2", "1"]),
    ("brpoplpush", &["BRPOPLPUSH", "l2", "l", "1"]),
    ("blmove", &["BLMOVE", "l", "l2", "RIGHT", "LEFT", "1"]),
    ("blmpop", &["BLMPOP", "1", "1", "l2", "RIGHT"]),
    ("sort", &["SORT", "l", "ALPHA", "STORE", "sorted"]),
    ("hset", &["HSET", "h", "a", "1", "b", "2"]),
    ("hmset", &["HMSET", "h", "c", "3"]),
    ("hsetnx", &["HSETNX", "h", "d", "4"]),
    ("hincrby", &["HINCRBY", "h", "a", "5"]),
    ("hincrbyfloat", &["HINCRBYFLOAT", "h", "b", "0.25"]),
    ("hdel", &["HDEL", "h", "c"]),
    ("sadd", &["SADD", "set1", "a", "b", "c", "d"]),
    ("sadd", &["SADD", "set2", "c", "d", "e"]),
    ("srem", &["SREM", "set1", "a"]),
    ("smove", &["SMOVE", "set1", "set2", "b"]),
    ("spop", &["SPOP", "set2"]),
    ("sinterstore", &["SINTERSTORE", "set3", "set1", "set2"]),
    ("sunionstore", &["SUNIONSTORE", "set4", "set1", "set2"]),
    ("sdiffstore", &["SDIFFSTORE", "set5", "set2", "set1"]),
    (
        "zadd",
        &["ZADD", "z", "1", "a", "2", "b", "3", "c", "4", "d"],
    ),
    (
        "zadd",
        &["ZADD", "z2", "1", "c", "5", "e", "6", "f", "7", "g"],
    ),
    ("zincrby", &["ZINCRBY", "z", "2.5", "a"]),
    ("zrem", &["ZREM", "z", "d"]),
    ("zunionstore", &["ZUNIONSTORE", "zu", "2", "z", "z2"]),
    (
        "zinterstore",
        &["ZINTERSTORE", "zi", "2", "z", "z2", "WEIGHTS", "2", "3"],
    ),
    ("zdiffstore", &["ZDIFFSTORE", "zd", "2", "z", "z2"]),
    ("zrangestore", &["ZRANGESTORE", "zr", "z2", "0", "-1"]),
    ("zpopmin", &["ZPOPMIN", "zu"]),
    ("zpopmax", &["ZPOPMAX", "zu"]),
    ("bzpopmin", &["BZPOPMIN", "zu", "1"]),
    ("bzpopmax", &["BZPOPMAX", "zu", "1"]),
    ("zmpop", &["ZMPOP", "1", "zr", "MIN", "COUNT", "2"]),
    ("bzmpop", &["BZMPOP", "1", "1", "zr", "MAX"]),
    ("zremrangebyscore", &["ZREMRANGEBYSCORE", "z2", "5", "5"]),
    ("zremrangebyrank", &["ZREMRANGEBYRANK", "z2", "0", "0"]),
    (
        "zadd",
        &["ZADD", "zl", "0", "a", "0", "b", "0", "c", "0", "d"],
    ),
    ("zremrangebylex", &["ZREMRANGEBYLEX", "zl", "[b", "[c"]),
    ("pfadd", &["PFADD", "hll", "a", "b", "c"]),
    ("pfadd", &["PFADD", "hll2", "d", "e"]),
    ("pfmerge", &["PFMERGE", "hll3", "hll", "hll2"]),
    ("pfdebug", &["PFDEBUG", "TODENSE", "hll"]),
    (
        "geoadd",
        &[
            "GEOADD",
            "geo",
            "13.361389",
            "38.115556",
            "Palermo",
            "15.087269",
            "37.502669",
            "Catania",
        ],
    ),
    (
        "georadius",
        &["GEORADIUS", "geo", "15", "37", "200", "km", "STORE", "geo1"],
    ),
    (
        "georadiusbymember",
        &[
            "GEORADIUSBYMEMBER",
            "geo",
            "Palermo",
            "300",
            "km",
            "STOREDIST",
            "geo2",
        ],
    ),
    (
        "geosearchstore",
        &[
            "GEOSEARCHSTORE",
            "geo3",
            "geo",
            "FROMLONLAT",
            "15",
            "37",
            "BYBOX",
            "400",
            "400",
            "km",
            "ASC",
        ],
    ),
    ("xadd", &["XADD", "x", "*", "a", "1"]),
    ("xadd", &["XADD", "x", "*", "a", "2"]),
    ("xadd", &["XADD", "x", "*", "a", "3"]),
    ("xgroup|create", &["XGROUP", "CREATE", "x", "g", "0"]),
    ("xgroup|create", &["XGROUP", "CREATE", "x", "g2", "0"]),
    (
        "xgroup|createconsumer",
        &["XGROUP", "CREATECONSUMER", "x", "g", "carol"],
    ),
    (
        "xreadgroup",
        &[
            "XREADGROUP",
            "GROUP",
            "g",
            "alice",
            "COUNT",
            "2",
            "STREAMS",
            "x",
            ">",
        ],
    ),
    ("xclaim", &["XCLAIM", "x", "g", "bob", "0", "0-1", "JUSTID"]),
    ("xautoclaim", &["XAUTOCLAIM", "x", "g", "bob", "0", "0"]),
    ("xack", &["XACK", "x", "g", "0-1"]),
    ("xgroup|setid", &["XGROUP", "SETID", "x", "g", "0"]),
    (
        "xgroup|delconsumer",
        &["XGROUP", "DELCONSUMER", "x", "g", "carol"],
    ),
    ("xgroup|destroy", &["XGROUP", "DESTROY", "x", "g2"]),
    ("xdel", &["XDEL", "x", "0-1"]),
    ("xtrim", &["XTRIM", "x", "MAXLEN", "2"]),
    ("xsetid", &["XSETID", "x", "9999999999999-0"]),
    ("restore", &["RESTORE", "restored", "0", "<dump h>"]),
    (
        "restore-asking",
        &["RESTORE-ASKING", "restored2", "0", "<dump z>"],
    ),
    (
        "migrate",
        &["MIGRATE", "127.0.0.1", "<target>", "l", "0", "5000"],
    ),
    (
        "function|load",
        &[
            "FUNCTION",
            "LOAD",
            "#!lua name=lib\nredis.register_function('f', function() return 1 end)",
        ],
    ),
    (
        "function|restore",
        &["FUNCTION", "RESTORE", "<function dump>", "REPLACE"],
    ),
    ("function|delete", &["FUNCTION", "DELETE", "lib"]),
    ("function|flush", &["FUNCTION", "FLUSH"]),
    ("swapdb", &["SWAPDB", "0", "1"]),
    ("swapdb", &["SWAPDB", "0", "1"]),
    ("flushdb", &["SELECT", "5"]),
    ("flushdb", &["SET", "in5", "x"]),
    ("flushdb", &["FLUSHDB"]),
    ("flushdb", &["SELECT", "0"]),
];

/// The master's one bulk reply's bytes.
fn bulk_bytes(reply: &[u8]) -> Vec<u8> {
    assert_eq!(
        reply.first(),
        Some(&b'$'),
        "{:?}",
        String::from_utf8_lossy(reply)
    );
    let nl = reply.iter().position(|&b| b == b'\n').expect("header");
    let n: usize = std::str::from_utf8(&reply[1..nl - 1])
        .expect("length")
        .parse()
        .expect("length");
    reply[nl + 1..nl + 1 + n].to_vec()
}

/// Run `WRITE_CALLS` on a master, each of which must succeed there;
/// `target` is the port MIGRATE moves its key to.
fn run_write_calls(m: &mut Raw, target: u16) {
    for (name, args) in WRITE_CALLS {
        let mut argv: Vec<Vec<u8>> = Vec::new();
        for a in *args {
            argv.push(match *a {
                "<target>" => target.to_string().into_bytes(),
                "<dump h>" | "<dump z>" => {
                    let key = if *a == "<dump h>" { "h" } else { "z" };
                    m.cmd(&[b"DUMP", key.as_bytes()]);
                    bulk_bytes(&m.reply())
                }
                "<function dump>" => {
                    m.cmd(&[b"FUNCTION", b"DUMP"]);
                    bulk_bytes(&m.reply())
                }
                other => other.as_bytes().to_vec(),
            });
        }
        let v: Vec<&[u8]> = argv.iter().map(Vec::as_slice).collect();
        m.cmd(&v);
        let reply = m.reply();
        assert!(
            !reply.starts_with(b"-") && reply != b"*-1\r\n" && reply != b"$-1\r\n",
            "{name}: the master answered {:?}",
            String::from_utf8_lossy(&reply)
        );
    }
    assert_eq!(
        m.call(&[
            "EXISTS",
            "restored",
            "restored2",
            "geo1",
            "geo2",
            "geo3",
            "sorted"
        ]),
        ":6\r\n"
    );
}

/// The master's `@write` commands (`COMMAND LIST FILTERBY ACLCAT write`).
fn write_commands(c: &mut Raw) -> Vec<String> {
    let reply = c.call(&["COMMAND", "LIST", "FILTERBY", "ACLCAT", "write"]);
    let mut names: Vec<String> = reply
        .split("\r\n")
        .filter(|l| !l.is_empty() && !l.starts_with('*') && !l.starts_with('$'))
        .map(str::to_owned)
        .collect();
    names.sort();
    names
}

/// After `run_write_calls`: the replica holds what the master holds, at
/// its offset, and never sent its master an error (counted in
/// `unexpected_error_replies`, logged as `== CRITICAL ==`).
fn same_after_writes(m: &mut Raw, r: &mut Raw, replica: &Server) {
    wait_same_digest(m, r);
    assert_eq!(m.call(&["WAIT", "1", "5000"]), ":1\r\n");
    assert_eq!(
        r.info_field("master_repl_offset"),
        m.info_field("master_repl_offset")
    );
    assert_eq!(r.call(&["FUNCTION", "LIST"]), m.call(&["FUNCTION", "LIST"]));
    assert_eq!(int_field(r, "unexpected_error_replies"), 0);
    let log = replica.log_text();
    assert!(log.contains("MASTER <-> REPLICA sync: Finished with success"));
    assert!(!log.contains("CRITICAL"), "{log}");
}

/// Issue 15: a relica replica applies every write command a real
/// redis-server master can send. The list of write commands is the
/// master's own; a command of it without an invocation in `WRITE_CALLS`
/// fails the test, so a new one cannot slip by, and relica's table must
/// list the same. Each invocation succeeds on the master; the replica ends
/// with the master's digest and offset and sent no error to its master.
#[test]
fn replica_applies_every_write_command_of_redis() {
    let master = Server::redis(&["--repl-diskless-sync", "no"]);
    let target = Server::redis(&[]);
    let mut m = master.raw();
    let replica = Server::start(&[]);
    let mut r = replica.raw();
    let writes = write_commands(&mut m);
    assert_eq!(write_commands(&mut r), writes, "relica's @write commands");
    let missing: Vec<&String> = writes
        .iter()
        .filter(|w| !WRITE_CALLS.iter().any(|(n, _)| n == w))
        .collect();
    assert!(
        missing.is_empty(),
        "write commands not exercised: {missing:?}"
    );
    replicaof(&mut r, &master);
    wait_up(&mut r);
    run_write_calls(&mut m, target.port);
    same_after_writes(&mut m, &mut r, &replica);
}

/// The other way round: what relica propagates for every write command
/// is applied by a real redis-server replica to the same data.
#[test]
fn redis_replica_applies_every_write_command_of_relica() {
    let master = Server::start(&["--repl-diskless-sync", "no"]);
    let target = Server::start(&[]);
    let mut m = master.raw();
    let replica = Server::redis(&[]);
    let mut r = replica.raw();
    replicaof(&mut r, &master);
    wait_up(&mut r);
    run_write_calls(&mut m, target.port);
    same_after_writes(&mut m, &mut r, &replica);
}

/// A big value from the master costs the replica about its size: the link
/// reads a big argument into room made for exactly its bulk and gives a
/// large read buffer back once empty (it held 3x the value: the value in a
/// buffer doubled to twice its size, plus the buffer kept). As Redis's
/// unit/pendingquerybuf: the replica within 10 MB of its master.
#[test]
fn big_value_from_master_costs_the_replica_its_size() {
    let master = Server::start(&["--repl-diskless-sync-delay", "0"]);
    let replica = Server::start(&[]);
    let (mut m, mut r) = (master.raw(), replica.raw());
    replicaof(&mut r, &master);
    wait_up(&mut r);
    let value = vec![b'v'; 32 << 20];
    m.cmd(&[b"SET", b"key", &value]);
    assert_eq!(m.reply_str(), "+OK\r\n");
    wait_same_digest(&mut m, &mut r);
    wait_for("replica's memory within 10 MB of its master's", T, || {
        int_field(&mut r, "used_memory") <= int_field(&mut m, "used_memory") + (10 << 20)
    });
}
