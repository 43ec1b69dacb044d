//! Replication exactness (issue 12): a replica's data and offset stay equal
//! to its master's through partial resyncs, chains and its own clients'
//! commands, with relica and real redis-server on either end.

use std::time::Duration;

use crate::util::{int_field, wait_for, wait_same_digest, wait_up, Raw, Server};

const T: Duration = Duration::from_secs(120);

fn replicaof(r: &mut Raw, master: &Server) {
    let port = master.port.to_string();
    assert_eq!(r.call(&["REPLICAOF", "127.0.0.1", &port]), "+OK\r\n");
}

fn master(redis: bool) -> Server {
    let args = ["--repl-diskless-sync-delay", "0"];
    if redis {
        Server::redis(&args)
    } else {
        Server::start(&args)
    }
}

/// A chain top → middle (relica, with `middle_args`) → bottom, links up:
/// the servers (kept alive by the caller) and a connection to each.
fn chain(
    redis_top: bool,
    middle_args: &[&str],
    redis_bottom: bool,
) -> ([Server; 3], Raw, Raw, Raw) {
    let top = master(redis_top);
    let middle = Server::start(middle_args);
    let mut mid = middle.raw();
    replicaof(&mut mid, &top);
    wait_up(&mut mid);
    let mport = middle.port.to_string();
    let bottom = if redis_bottom {
        Server::redis(&["--replicaof", "127.0.0.1", &mport])
    } else {
        Server::start(&["--replicaof", "127.0.0.1", &mport])
    };
    let mut b = bottom.raw();
    wait_up(&mut b);
    let t = top.raw();
    ([top, middle, bottom], t, mid, b)
}

/// Wait until `r` reports the master's offset as its own.
fn wait_same_offset(m: &mut Raw, r: &mut Raw) {
    wait_for("same replication offset", T, || {
        let a = int_field(m, "master_repl_offset");
        a > 0 && a == int_field(r, "master_repl_offset")
    });
}

/// A partial resync continues the stream in the db it had selected: the
/// master sends no new SELECT, so the replica must keep its MASTER
/// client's db across the reconnection (Redis's cached master). Before the
/// fix the stream after the PSYNC went to db 0.
fn partial_resync_keeps_the_streams_db(redis_master: bool) {
    let master = master(redis_master);
    let mut m = master.raw();
    let replica = Server::start(&[]);
    let mut r = replica.raw();
    replicaof(&mut r, &master);
    wait_up(&mut r);
    m.call(&["SELECT", "9"]);
    m.call(&["SET", "before", "1"]);
    wait_same_digest(&mut m, &mut r);
    assert_eq!(r.call(&["CLIENT", "KILL", "TYPE", "master"]), ":1\r\n");
    // Same client, same db: the stream selects nothing new.
    m.call(&["SET", "after", "2"]);
    m.call(&["INCR", "ctr"]);
    wait_for("partial resync", T, || {
        int_field(&mut m, "sync_partial_ok") == 1
    });
    wait_up(&mut r);
    wait_same_digest(&mut m, &mut r);
    assert_eq!(int_field(&mut m, "sync_full"), 1);
    r.call(&["SELECT", "9"]);
    assert_eq!(
        r.call(&["MGET", "before", "after", "ctr"]),
        "*3\r\n$1\r\n1\r\n$1\r\n2\r\n$1\r\n1\r\n"
    );
    r.call(&["SELECT", "0"]);
    assert_eq!(r.call(&["DBSIZE"]), ":0\r\n");
}

#[test]
fn partial_resync_from_redis_keeps_the_streams_db() {
    partial_resync_keeps_the_streams_db(true);
}

#[test]
fn partial_resync_from_relica_keeps_the_streams_db() {
    partial_resync_keeps_the_streams_db(false);
}

/// Commands a replica's own clients run never reach its stream: a chain
/// top → middle (relica) → bottom, where the middle serves PUBLISH (as
/// Sentinel's hellos), reads and writable-replica writes, keeps every
/// offset equal to the top's, and the bottom's data equal to the top's.
fn middle_replica_commands_stay_local(redis_top: bool, redis_bottom: bool) {
    let (_servers, mut t, mut mid, mut b) =
        chain(redis_top, &["--replica-read-only", "no"], redis_bottom);
    t.call(&["SET", "k", "1"]);
    wait_same_offset(&mut t, &mut b);
    for i in 0..20 {
        mid.call(&["PUBLISH", "__sentinel__:hello", &format!("hello {i}")]);
        mid.call(&["GET", "k"]);
        mid.call(&["PFCOUNT", "nohll"]);
        t.call(&["INCR", "ctr"]);
    }
    // A writable replica's own writes stay local, as in Redis.
    mid.call(&["SET", "local", "x"]);
    mid.call(&["SELECT", "5"]);
    mid.call(&["PUBLISH", "ch", "in db 5"]);
    t.call(&["SET", "k", "2"]);
    wait_same_offset(&mut t, &mut mid);
    wait_same_offset(&mut t, &mut b);
    wait_same_digest(&mut t, &mut b);
    assert_eq!(b.call(&["GET", "local"]), "$-1\r\n");
    assert_eq!(b.call(&["GET", "ctr"]), "$2\r\n20\r\n");
    // The bottom continues partially from the middle, at the same offset.
    assert_eq!(b.call(&["CLIENT", "KILL", "TYPE", "master"]), ":1\r\n");
    t.call(&["INCR", "ctr"]);
    wait_for("partial resync", T, || {
        int_field(&mut mid, "sync_partial_ok") == 1
    });
    wait_same_offset(&mut t, &mut b);
    wait_same_digest(&mut t, &mut b);
    assert_eq!(int_field(&mut mid, "sync_full"), 1);
}

#[test]
fn chain_middle_commands_stay_local_relica_top_redis_bottom() {
    middle_replica_commands_stay_local(false, true);
}

#[test]
fn chain_middle_commands_stay_local_redis_top_relica_bottom() {
    middle_replica_commands_stay_local(true, false);
}

#[test]
fn chain_middle_commands_stay_local_relica_only() {
    middle_replica_commands_stay_local(false, false);
}

/// A writable replica expires the keys its own clients gave a TTL (Redis's
/// slaveKeysWithExpire), and its own writes treat an expired key of the
/// master's as missing; the same scenario on a redis-server replica gives
/// the same replies.
#[test]
fn writable_replica_expires_its_own_keys_as_redis() {
    let top = master(false);
    let mut t = top.raw();
    let port = top.port.to_string();
    let args = [
        "--replicaof",
        "127.0.0.1",
        &port,
        "--replica-read-only",
        "no",
    ];
    for replica in [Server::start(&args), Server::redis(&args)] {
        let mut r = replica.raw();
        wait_up(&mut r);
        t.call(&["FLUSHALL"]);
        wait_same_offset(&mut t, &mut r);
        r.call(&["SELECT", "5"]);
        for k in ["key1", "key2", "key3"] {
            assert_eq!(r.call(&["SET", k, "1", "PX", "100"]), "+OK\r\n");
        }
        r.call(&["MOVE", "key3", "6"]);
        assert_eq!(r.call(&["DBSIZE"]), ":2\r\n");
        // Deleted by the replica's cron, not just read as missing.
        wait_for("replica-local keys expired", T, || {
            r.call(&["DBSIZE"]) == ":0\r\n"
        });
        r.call(&["SELECT", "6"]);
        wait_for("moved key expired", T, || r.call(&["DBSIZE"]) == ":0\r\n");
        // The master's keys are the master's to expire.
        t.call(&["DEBUG", "SET-ACTIVE-EXPIRE", "0"]);
        t.call(&["SELECT", "6"]);
        t.call(&["SET", "m1", "5", "PX", "10"]);
        t.call(&["SET", "m2", "5", "PX", "10"]);
        wait_for("master keys replicated and expired", T, || {
            r.call(&["DBSIZE"]) == ":2\r\n" && r.call(&["EXISTS", "m1", "m2"]) == ":0\r\n"
        });
        assert_eq!(r.call(&["INCR", "m1"]), ":1\r\n");
        assert_eq!(r.call(&["TTL", "m1"]), ":-1\r\n");
        assert_eq!(r.call(&["GET", "m2"]), "$-1\r\n");
        assert_eq!(r.call(&["DBSIZE"]), ":2\r\n");
        t.call(&["DEBUG", "SET-ACTIVE-EXPIRE", "1"]);
        t.call(&["SELECT", "0"]);
    }
}

/// A master restarted from its RDB starts a new history whose past is the
/// file's (replid2, valid up to the file's offset); the deletions of the
/// keys that expired meanwhile are the first bytes of its backlog; its
/// replicas (relica and redis-server) continue partially and end equal.
fn master_restart_continues_partially(redis_replica: bool) {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path().to_str().expect("utf-8 path");
    let first = Server::start(&["--dir", d, "--repl-diskless-sync-delay", "0"]);
    let mut m = first.raw();
    let port = first.port.to_string();
    let replica = if redis_replica {
        Server::redis(&["--replicaof", "127.0.0.1", &port])
    } else {
        Server::start(&["--replicaof", "127.0.0.1", &port])
    };
    let mut r = replica.raw();
    wait_up(&mut r);
    m.call(&["SELECT", "9"]);
    m.call(&["SET", "kept", "1"]);
    m.call(&["DEBUG", "SET-ACTIVE-EXPIRE", "0"]);
    for i in 0..50 {
        m.call(&["SET", &format!("short:{i}"), "v", "PX", "1"]);
    }
    wait_same_offset(&mut m, &mut r);
    let old_id = m.info_field("master_replid");
    let mut first = first;
    m.send(b"*2\r\n$8\r\nSHUTDOWN\r\n$4\r\nSAVE\r\n");
    assert!(first.wait_exit(T).success());
    // SHUTDOWN waits for its replicas to acknowledge the whole stream (the
    // GETACK it sends included): the replica holds the final offset.
    let offset = int_field(&mut r, "master_repl_offset");
    let second = Server::start(&["--dir", d]);
    let mut m = second.raw();
    assert_eq!(m.info_field("rdb_last_load_keys_expired"), "50");
    assert_ne!(m.info_field("master_replid"), old_id);
    assert_eq!(m.info_field("master_replid2"), old_id);
    assert_eq!(int_field(&mut m, "second_repl_offset"), offset + 1);
    assert_eq!(
        int_field(&mut m, "repl_backlog_first_byte_offset"),
        offset + 1
    );
    let dels = int_field(&mut m, "repl_backlog_histlen");
    assert!(dels > 50 * 20, "the deletions are in the backlog: {dels}");
    assert_eq!(int_field(&mut m, "master_repl_offset"), offset + dels);
    replicaof(&mut r, &second);
    wait_for("partial resync", T, || {
        int_field(&mut m, "sync_partial_ok") == 1
    });
    wait_same_offset(&mut m, &mut r);
    wait_same_digest(&mut m, &mut r);
    assert_eq!(int_field(&mut m, "sync_full"), 0);
    r.call(&["SELECT", "9"]);
    assert_eq!(r.call(&["DBSIZE"]), ":1\r\n");
}

#[test]
fn master_restart_continues_partially_with_relica_replica() {
    master_restart_continues_partially(false);
}

#[test]
fn master_restart_continues_partially_with_redis_replica() {
    master_restart_continues_partially(true);
}

/// A replica that full-resyncs ends its own replicas' history: they are
/// disconnected and resync with it (Redis's replicationAttachToNewMaster),
/// instead of staying attached to a dataset that was replaced under them.
fn middle_full_resync_resyncs_the_bottom(redis_top: bool, redis_bottom: bool, load: &str) {
    let (_servers, mut t, mut mid, mut b) =
        chain(redis_top, &["--repl-diskless-load", load], redis_bottom);
    t.call(&["SET", "x", "1"]);
    wait_same_offset(&mut t, &mut b);
    // The top starts a new history while the middle is away: the middle
    // can only come back with a full resync.
    t.call(&["DEBUG", "CHANGE-REPL-ID"]);
    assert_eq!(mid.call(&["CLIENT", "KILL", "TYPE", "master"]), ":1\r\n");
    t.call(&["SET", "y", "2"]);
    wait_for("middle full resync", T, || {
        int_field(&mut t, "sync_full") == 2
    });
    wait_same_digest(&mut t, &mut mid);
    wait_same_digest(&mut t, &mut b);
    assert_eq!(b.call(&["GET", "y"]), "$1\r\n2\r\n");
    assert_eq!(int_field(&mut mid, "sync_full"), 2);
}

#[test]
fn middle_full_resync_resyncs_the_bottom_relica_top_redis_bottom() {
    middle_full_resync_resyncs_the_bottom(false, true, "disabled");
}

#[test]
fn middle_full_resync_resyncs_the_bottom_redis_top_relica_bottom_swapdb() {
    middle_full_resync_resyncs_the_bottom(true, false, "swapdb");
}

/// While its master prepares a diskless snapshot (and so has not answered
/// PSYNC), a replica is in the handshake, as ROLE shows it in Redis.
#[test]
fn replica_waiting_for_psync_reply_is_in_handshake() {
    let top = Server::start(&["--repl-diskless-sync-delay", "1000"]);
    for replica in [Server::start(&[]), Server::redis(&[])] {
        let mut r = replica.raw();
        replicaof(&mut r, &top);
        wait_for("handshake state", T, || {
            r.call(&["ROLE"]).contains("handshake")
        });
        assert_eq!(r.info_field("master_link_status"), "down");
        assert_eq!(r.info_field("master_sync_in_progress"), "0");
    }
}

/// REPLICAOF to another master keeps our own replicas attached until our
/// history changes (Redis 7.0): a full sync with the new master that fails
/// before loading leaves them untouched, and going back to the first
/// master continues partially, so the bottom never reconnects.
#[test]
fn replicaof_keeps_sub_replicas_until_the_history_changes() {
    let master1 = master(false);
    let mut m1 = master1.raw();
    m1.call(&["SET", "a", "b"]);
    let master2 = Server::redis(&["--rdb-key-save-delay", "1000000"]);
    let mut m2 = master2.raw();
    m2.call(&["DEBUG", "POPULATE", "10", "master2", "10"]);
    let middle = Server::start(&[]);
    let mut mid = middle.raw();
    replicaof(&mut mid, &master1);
    wait_up(&mut mid);
    let mport = middle.port.to_string();
    let bottom = Server::start(&["--replicaof", "127.0.0.1", &mport]);
    let mut b = bottom.raw();
    wait_up(&mut b);
    assert_eq!(b.call(&["GET", "a"]), "$1\r\nb\r\n");
    replicaof(&mut mid, &master2);
    wait_for("master2's snapshot started", T, || {
        m2.info_field("rdb_bgsave_in_progress") == "1"
    });
    drop(master2);
    let full = int_field(&mut m1, "sync_full");
    replicaof(&mut mid, &master1);
    wait_for("partial resync with master1", T, || {
        int_field(&mut m1, "sync_partial_ok") == 1
    });
    wait_up(&mut mid);
    assert_eq!(int_field(&mut m1, "sync_full"), full);
    m1.call(&["SET", "c", "d"]);
    wait_same_offset(&mut m1, &mut b);
    wait_same_digest(&mut m1, &mut b);
    let id = m1.info_field("master_replid");
    assert_eq!(mid.info_field("master_replid"), id);
    assert_eq!(b.info_field("master_replid"), id);
    assert_eq!(int_field(&mut mid, "sync_full"), 1);
    assert_eq!(int_field(&mut mid, "sync_partial_ok"), 0);
    assert!(!bottom.log_text().contains("Connection with master lost"));
}

/// A replica's link carries the stream only: a command a replica sends
/// that gets a reply (PING, or a keyspace command, refused) disconnects it
/// with Redis's log lines; PSYNC with an offset that is not a number is an
/// error, and the client is not made a replica. Both servers alike.
#[test]
fn replica_links_never_carry_replies() {
    let args = ["--repl-diskless-sync", "no"];
    for (s, relica) in [(Server::start(&args), true), (Server::redis(&args), false)] {
        let mut c = s.raw();
        c.cmd(&[b"SYNC"]);
        c.cmd(&[b"PING"]);
        assert!(c.closed(), "a replica's PING closes its link");
        let mut c = s.raw();
        c.cmd(&[b"PSYNC", b"replicationid", b"-1"]);
        assert!(c.read_line().starts_with("+FULLRESYNC"));
        c.cmd(&[b"GET", b"foo"]);
        assert!(c.closed(), "a replica's GET closes its link");
        let mut c = s.raw();
        assert_eq!(
            c.call(&["PSYNC", "replicationid", "offset_str"]),
            "-ERR value is not an integer or out of range\r\n"
        );
        assert_eq!(c.call(&["PING"]), "+PONG\r\n");
        if relica {
            let log = s.log_text();
            for line in [
                "Replica generated a reply to command 'ping', disconnecting it: id=",
                "== CRITICAL == This master is sending an error to its replica: 'ERR Replica can't interact with the keyspace' after processing the command 'get'",
                "Replica generated a reply to command 'get', disconnecting it: id=",
                "asks for synchronization but with a wrong offset",
            ] {
                assert!(log.contains(line), "log lacks {line:?}:\n{log}");
            }
        }
    }
}

/// A disk snapshot taken for replicas is abandoned once no replica waits
/// for it, unless save points make it worth keeping (Redis's freeClient);
/// a replica told REPLICAOF NO ONE mid-transfer closes its link at once
/// (relica and redis-server replicas alike), so the master notices.
#[test]
fn snapshot_nobody_waits_for_is_abandoned() {
    let master = Server::start(&[
        "--repl-diskless-sync",
        "no",
        "--rdb-key-save-delay",
        "1000000",
    ]);
    let mut m = master.raw();
    for i in 0..10 {
        m.call(&["SET", &i.to_string(), "v"]);
    }
    let port = master.port.to_string();
    let replicas = [Server::start(&[]), Server::redis(&[])];
    for save in ["", "900 1"] {
        m.call(&["CONFIG", "SET", "save", save]);
        for r in &replicas {
            r.raw().call(&["REPLICAOF", "127.0.0.1", &port]);
        }
        wait_for("both replicas wait for the snapshot", T, || {
            m.info_field("rdb_bgsave_in_progress") == "1"
                && m.info_field("slave0").contains("wait_bgsave")
                && m.info_field("slave1").contains("wait_bgsave")
        });
        replicas[0].raw().call(&["REPLICAOF", "NO", "ONE"]);
        wait_for("first replica gone", T, || {
            m.info_field("connected_slaves") == "1"
        });
        assert_eq!(m.info_field("rdb_bgsave_in_progress"), "1");
        replicas[1].raw().call(&["REPLICAOF", "NO", "ONE"]);
        wait_for("second replica gone", T, || {
            m.info_field("connected_slaves") == "0"
        });
        if save.is_empty() {
            wait_for("snapshot abandoned", T, || {
                m.info_field("rdb_bgsave_in_progress") == "0"
            });
        } else {
            assert_eq!(m.info_field("rdb_bgsave_in_progress"), "1");
        }
    }
}

/// REPLICAOF NO ONE in the middle of a transfer to disk closes the link at
/// once and leaves no temp file behind.
#[test]
fn transfer_aborted_by_replicaof_leaves_no_temp_file() {
    let top = Server::start(&[
        "--repl-diskless-sync-delay",
        "0",
        "--rdb-key-save-delay",
        "10000",
    ]);
    let mut t = top.raw();
    t.call(&["DEBUG", "POPULATE", "1000", "key", "1000"]);
    let replica = Server::start(&["--repl-diskless-load", "disabled"]);
    let mut r = replica.raw();
    replicaof(&mut r, &top);
    let temp_files = || {
        std::fs::read_dir(replica.dir.path())
            .expect("replica dir")
            .filter_map(Result::ok)
            .filter(|e| e.file_name().to_string_lossy().starts_with("temp-"))
            .count()
    };
    wait_for("transfer into a temp file", T, || {
        r.info_field("master_sync_in_progress") == "1" && temp_files() == 1
    });
    assert_eq!(r.call(&["REPLICAOF", "NO", "ONE"]), "+OK\r\n");
    wait_for("temp file removed", T, || temp_files() == 0);
    wait_for("master sees the replica leave", T, || {
        t.info_field("connected_slaves") == "0"
    });
}
