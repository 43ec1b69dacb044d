//! ACL users (issue 19) against a real redis-server: the same ACL SETUSER
//! sequences give the same ACL LIST, ACL GETUSER and error replies; AUTH,
//! HELLO AUTH, -NOPERM and -WRONGPASS texts; DRYRUN; selectors and read/
//! write key permissions; MULTI/EXEC and scripts; an ACL file loaded and
//! saved; clients of a deleted user disconnected; replication as a
//! restricted ACL user both ways.

use std::time::Duration;

use crate::util::{wait_for, wait_same_digest, wait_up, Diff, Raw, Server};

const T: Duration = Duration::from_secs(120);

/// A command written as one string, arguments separated by spaces.
fn words(c: &str) -> Vec<&str> {
    c.split(' ').collect()
}

/// Each command to both servers, byte-identical replies required.
fn all_same(d: &mut Diff, cmds: &[&str]) {
    for c in cmds {
        d.same_str(&words(c));
    }
}

/// The bulk strings of a flat array reply.
fn bulks(reply: &[u8]) -> Vec<String> {
    let text = String::from_utf8_lossy(reply);
    let mut lines = text.split("\r\n");
    let mut v = Vec::new();
    while let Some(l) = lines.next() {
        if l.starts_with('$') {
            v.push(lines.next().unwrap_or_default().to_string());
        }
    }
    v
}

#[test]
fn setuser_sequences_describe_as_redis() {
    let mut d = Diff::start(&[]);
    all_same(
        &mut d,
        &[
            "ACL SETUSER u1",
            "ACL LIST",
            "ACL GETUSER u1",
            "ACL SETUSER u1 on >pass1 >pass2 ~k* %R~r* %W~w* %RW~rw* &ch* +@string -incr",
            "ACL GETUSER u1",
            "ACL SETUSER u1 <pass1 #a6864eb339b0e1f6e00d75293a8840abf069a2c0fe82e6e53af6ac099793c1d5",
            "ACL GETUSER u1",
            "ACL SETUSER u1 !a6864eb339b0e1f6e00d75293a8840abf069a2c0fe82e6e53af6ac099793c1d5 resetkeys ~* resetchannels",
            "ACL GETUSER u1",
            "ACL SETUSER u2 on nopass +@all -@dangerous",
            "ACL SETUSER u3 reset -@all +@hash +@list +get",
            "ACL SETUSER u4 +@all -client +client|id",
            "ACL SETUSER u5 -@all +select|0",
            "ACL SETUSER u6 +@all -config|set",
            "ACL SETUSER u7 -@all +@set -sadd",
            "ACL SETUSER u8 on (~a* +get) (%R~b* +@read) clearselectors (~c* +set)",
            "ACL SETUSER u9 skip-sanitize-payload allkeys allchannels allcommands",
            "ACL SETUSER u9 sanitize-payload resetpass nocommands",
            "ACL GETUSER u8",
            "ACL GETUSER nosuchuser",
            "ACL LIST",
            "ACL USERS",
            "ACL DELUSER u9 nosuchuser",
            "ACL DELUSER default",
            "ACL USERS",
            "ACL WHOAMI",
            "ACL CAT",
            "ACL CAT nosuchcategory",
            "ACL CAT string extra",
            "ACL GENPASS 0",
            "ACL GENPASS 5000",
            "ACL GENPASS abc",
            "ACL LOAD",
            "ACL SAVE",
            "ACL HELP",
            "ACL NOSUCH",
            "ACL LOG NOTANUMBER",
            "CONFIG GET acllog-max-len",
            "CONFIG GET acl-pubsub-default",
            "CONFIG GET aclfile",
            "CONFIG SET acl-pubsub-default allchannels",
            "ACL SETUSER u10",
            "ACL GETUSER u10",
            "CONFIG SET acl-pubsub-default nosuchvalue",
            "CONFIG SET aclfile x",
            "CONFIG SET acllog-max-len 3",
        ],
    );
    // Every category's commands, whatever order each server lists them
    // in: relica's are redis-server's, less the commands relica lacks
    // (streams, cluster, latency, module, …).
    for (cat, _) in relica_server::acl::CATEGORIES {
        let (a, b) = d.both(&[b"ACL", b"CAT", cat.as_bytes()]);
        let mut ours = bulks(&a);
        ours.sort();
        let mut theirs: Vec<String> = bulks(&b)
            .into_iter()
            .filter(|n| {
                let r = d.ours.call(&["COMMAND", "INFO", n]);
                r != "*1\r\n*-1\r\n"
            })
            .collect();
        theirs.sort();
        assert_eq!(ours, theirs, "ACL CAT {cat}");
    }
    // The GENPASS length.
    d.ours.cmd(&[b"ACL", b"GENPASS", b"33"]);
    assert_eq!(d.ours.reply_str().len(), "$9\r\n".len() + 9 + 2);
}

#[test]
fn setuser_errors_as_redis() {
    let mut d = Diff::start(&[]);
    all_same(
        &mut d,
        &[
            "ACL SETUSER e1 +nosuchcommand",
            "ACL SETUSER e1 +@nosuchcategory",
            "ACL SETUSER e1 ~* ~foo",
            "ACL SETUSER e1 &* &foo",
            "ACL SETUSER e1 #abc",
            "ACL SETUSER e1 !abc",
            "ACL SETUSER e1 <notthere",
            "ACL SETUSER e1 +config|get|appendonly",
            "ACL SETUSER e1 +config|nosuch",
            "ACL SETUSER e1 -config|nosuch",
            "ACL SETUSER e1 +get|key1|key2",
            "ACL SETUSER e1 +select|",
            "ACL SETUSER e1 -select|0",
            "ACL SETUSER e1 %X~foo",
            "ACL SETUSER e1 %RR~foo",
            "ACL SETUSER e1 (~a +get",
            "ACL SETUSER e1 (+nosuch)",
            "ACL SETUSER e1 bogus",
            "ACL USERS",
        ],
    );
    // A failed SETUSER changes nothing.
    all_same(
        &mut d,
        &[
            "ACL SETUSER e2 on ~x",
            "ACL SETUSER e2 off ~y +nosuch",
            "ACL GETUSER e2",
        ],
    );
    let (a, b) = d.both(&[b"ACL", b"SETUSER", b"has space"]);
    assert_eq!(a, b);
    assert_eq!(
        String::from_utf8_lossy(&a),
        "-ERR Usernames can't contain spaces or null characters\r\n"
    );
}

#[test]
fn permissions_as_redis() {
    let mut d = Diff::start(&[]);
    all_same(
        &mut d,
        &[
            "ACL SETUSER alice on >pw ~obj:* &news* +@all -flushall",
            "ACL SETUSER bob on >pw (%R~r* +get) (%W~w* +set)",
            "AUTH alice wrong",
            "AUTH nosuchuser pw",
            "AUTH alice pw",
            "ACL WHOAMI",
            "SET obj:1 v",
            "SET other v",
            "GET other",
            "FLUSHALL",
            "PUBLISH news:1 m",
            "PUBLISH sports m",
            "MSET obj:1 a obj:2 b",
            "MSET obj:1 a x b",
            "MULTI",
            "SET other x",
            "EXEC",
            "EVAL return 1 0",
            "EVAL redis.call('get','other') 0",
        ],
    );
    for key in ["other", "obj:1"] {
        let script = format!("return redis.acl_check_cmd('get','{key}')");
        d.same_str(&["EVAL", &script, "0"]);
    }
    all_same(
        &mut d,
        &[
            "AUTH bob pw",
            "GET r1",
            "GET w1",
            "SET w1 v",
            "SET r1 v",
            "SET w1 v GET",
            "DEL w1",
            "AUTH default x",
            "HELLO 2 AUTH alice wrong",
            "ACL DRYRUN alice GET other",
            "ACL DRYRUN alice GET obj:1",
            "ACL DRYRUN alice FLUSHALL",
            "ACL DRYRUN alice PUBLISH sports m",
            "ACL DRYRUN bob SET r1 v",
            "ACL DRYRUN bob GET r1",
            "ACL DRYRUN bob SORT r1 STORE w1",
            "ACL DRYRUN bob SET v",
            "ACL DRYRUN nosuch GET x",
            "ACL DRYRUN bob NOSUCHCMD x",
            "ACL DRYRUN bob CONFIG NOSUCH",
            "ACL DRYRUN bob CLIENT ID",
        ],
    );
}

#[test]
fn log_entries_and_default_user() {
    let s = Server::start(&[]);
    let mut r = s.raw();
    assert_eq!(
        r.call(&["ACL", "SETUSER", "ant", "on", ">foo", "+set", "+eval", "~k"]),
        "+OK\r\n"
    );
    assert_eq!(r.call(&["AUTH", "ant", "foo"]), "+OK\r\n");
    assert_eq!(
        r.call(&["GET", "k"]),
        "-NOPERM this user has no permissions to run the 'get' command\r\n"
    );
    assert_eq!(
        r.call(&["SET", "x", "1"]),
        "-NOPERM this user has no permissions to access one of the keys used as arguments\r\n"
    );
    assert!(r
        .call(&["EVAL", "return redis.call('get','k')", "0"])
        .starts_with("-ERR The user executing the script can't run this command or subcommand"));
    assert_eq!(r.call(&["AUTH", "default", ""]), "+OK\r\n");
    let lua = r.call(&["ACL", "LOG", "1"]);
    assert!(
        lua.contains("$3\r\nlua\r\n") && lua.contains("$3\r\nget\r\n"),
        "{lua}"
    );
    // The caller's line, not the script client's.
    assert!(
        lua.contains("addr=127.0.0.1:") && !lua.contains("addr=lua"),
        "{lua}"
    );
    let log = r.call(&["ACL", "LOG"]);
    for field in [
        "count",
        "reason",
        "context",
        "object",
        "username",
        "age-seconds",
        "client-info",
    ] {
        assert!(log.contains(field), "{log}");
    }
    assert!(log.starts_with("*3\r\n"), "{log}");
    assert!(
        log.contains("$3\r\nkey\r\n") && log.contains("$1\r\nx\r\n"),
        "{log}"
    );
    assert!(log.contains("user=ant"), "{log}");
    assert_eq!(r.call(&["ACL", "LOG", "RESET"]), "+OK\r\n");
    assert_eq!(r.call(&["ACL", "LOG"]), "*0\r\n");
    // requirepass sets the default user's one password.
    assert_eq!(
        r.call(&["CONFIG", "SET", "requirepass", "secret"]),
        "+OK\r\n"
    );
    assert!(r.call(&["ACL", "LIST"]).contains(
        "user default on #2bb80d537b1da3e38bd30361aa855686bde0eacd7162fef6a25fe97bf527a25b ~* &* +@all"
    ));
    let mut r2 = s.raw();
    assert_eq!(r2.call(&["PING"]), "-NOAUTH Authentication required.\r\n");
    assert_eq!(r2.call(&["AUTH", "secret"]), "+OK\r\n");
    assert!(r2.call(&["CLIENT", "INFO"]).contains(" user=default "));
    assert_eq!(r2.call(&["AUTH", "ant", "foo"]), "+OK\r\n");
    r.call(&["AUTH", "secret"]);
    assert!(r.call(&["CLIENT", "LIST"]).contains(" user=ant "));
}

#[test]
fn deleted_and_changed_users_lose_their_clients() {
    let s = Server::start(&[]);
    let mut admin = s.raw();
    admin.call(&[
        "ACL", "SETUSER", "gone", "on", "nopass", "+@all", "~*", "&*",
    ]);
    let mut a = s.raw();
    assert_eq!(a.call(&["AUTH", "gone", "x"]), "+OK\r\n");
    assert_eq!(a.call(&["PING"]), "+PONG\r\n");
    assert_eq!(admin.call(&["ACL", "DELUSER", "gone"]), ":1\r\n");
    assert!(a.closed());
    // A subscriber whose channel is revoked is disconnected; one whose
    // channel stays allowed is not.
    admin.call(&[
        "ACL",
        "SETUSER",
        "sub",
        "on",
        "nopass",
        "+@all",
        "resetchannels",
        "&a",
        "&b",
    ]);
    let mut sa = s.raw();
    sa.call(&["AUTH", "sub", "x"]);
    assert!(sa.call(&["SUBSCRIBE", "a"]).contains("subscribe"));
    let mut sb = s.raw();
    sb.call(&["AUTH", "sub", "x"]);
    assert!(sb.call(&["SUBSCRIBE", "b"]).contains("subscribe"));
    admin.call(&["ACL", "SETUSER", "sub", "resetchannels", "&b"]);
    assert!(sa.closed());
    assert!(sb.call(&["PING"]).contains("pong"));
    // CLIENT KILL USER.
    let mut k = s.raw();
    k.call(&["AUTH", "sub", "x"]);
    assert_eq!(
        admin.call(&["CLIENT", "KILL", "USER", "nosuch"]),
        "-ERR No such user 'nosuch'\r\n"
    );
    assert_eq!(admin.call(&["CLIENT", "KILL", "USER", "sub"]), ":2\r\n");
    assert!(k.closed());
}

#[test]
fn aclfile_loaded_and_saved() {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("users.acl");
    std::fs::write(
        &file,
        "user alice on #2bb80d537b1da3e38bd30361aa855686bde0eacd7162fef6a25fe97bf527a25b ~* &* +@all\n\
         user default on nopass ~* &* +@all\n",
    )
    .expect("write acl file");
    let s = Server::start(&["--aclfile", file.to_str().expect("path")]);
    let mut r = s.raw();
    assert_eq!(r.call(&["AUTH", "alice", "secret"]), "+OK\r\n");
    assert_eq!(
        r.call(&["ACL", "SETUSER", "eve", "on", ">eve", "+get", "allkeys"]),
        "+OK\r\n"
    );
    assert_eq!(r.call(&["ACL", "SAVE"]), "+OK\r\n");
    let saved = std::fs::read_to_string(&file).expect("read");
    let expected = format!(
        "user alice on #2bb80d537b1da3e38bd30361aa855686bde0eacd7162fef6a25fe97bf527a25b ~* &* +@all\n\
         user default on nopass ~* &* +@all\n\
         user eve on #{} ~* resetchannels -@all +get\n",
        relica_server::acl::hash_password(b"eve")
    );
    assert_eq!(saved, expected);
    // LOAD disconnects the clients of the users it replaces.
    assert_eq!(r.call(&["ACL", "LOAD"]), "+OK\r\n");
    assert!(r.closed());
    let mut r = s.raw();
    assert_eq!(r.call(&["AUTH", "eve", "eve"]), "+OK\r\n");
    assert_eq!(
        r.call(&["SET", "k", "v"]),
        "-NOPERM this user has no permissions to run the 'set' command\r\n"
    );
    // A bad file changes nothing and says why, as Redis.
    assert_eq!(r.call(&["AUTH", "alice", "secret"]), "+OK\r\n");
    std::fs::write(&file, "user alice on nopass\nuser alice off\nbogus line\n").expect("write");
    let e = r.call(&["ACL", "LOAD"]);
    assert!(
        e.contains("WARNING: Duplicate user 'alice' found on line 2."),
        "{e}"
    );
    assert!(
        e.contains(":3 should start with user keyword followed by the username."),
        "{e}"
    );
    assert!(
        e.contains("no change to the previously active ACL rules was performed"),
        "{e}"
    );
    assert_eq!(r.call(&["ACL", "WHOAMI"]), "$5\r\nalice\r\n");
}

#[test]
fn user_lines_in_config_and_rewrite() {
    let dir = tempfile::tempdir().expect("tempdir");
    let conf = dir.path().join("redis.conf");
    std::fs::write(
        &conf,
        "user default on nopass ~* &* +@all -flushdb\nuser bob on >pw +get ~b*\n",
    )
    .expect("write conf");
    let s = Server::start_conf(Some(&conf), &[]);
    let mut r = s.raw();
    assert_eq!(
        r.call(&["FLUSHDB"]),
        "-NOPERM this user has no permissions to run the 'flushdb' command\r\n"
    );
    assert_eq!(r.call(&["AUTH", "bob", "pw"]), "+OK\r\n");
    assert_eq!(r.call(&["AUTH", "default", ""]), "+OK\r\n");
    assert_eq!(r.call(&["CONFIG", "REWRITE"]), "+OK\r\n");
    let text = std::fs::read_to_string(&conf).expect("read conf");
    // As Redis: a config line resets the default user first.
    assert!(
        text.contains("user default on nopass sanitize-payload ~* &* +@all -flushdb"),
        "{text}"
    );
    assert!(text.contains("user bob on #"), "{text}");
    // A user given twice stops start-up, as in Redis.
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_relica-server"))
        .args(["--port", "0", "--user", "foo", "--user", "foo"])
        .output()
        .expect("run");
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("Duplicate user"));
}

/// relica as master, a real redis-server replica authenticating as a user
/// that may only replicate; then relica as that replica of a redis-server
/// master with the same user.
#[test]
fn replication_as_a_restricted_user() {
    let rules = ["on", ">replpw", "-@all", "+psync", "+replconf", "+ping"];
    let master = Server::start(&[]);
    let mut m = master.raw();
    let mut setuser = vec!["ACL", "SETUSER", "repl"];
    setuser.extend(rules);
    assert_eq!(m.call(&setuser), "+OK\r\n");
    m.call(&["CONFIG", "SET", "requirepass", "adminpw"]);
    m.call(&["AUTH", "adminpw"]);
    m.call(&["SET", "k", "v"]);
    let port = master.port.to_string();
    let replica = Server::redis(&[
        "--replicaof",
        "127.0.0.1",
        &port,
        "--masteruser",
        "repl",
        "--masterauth",
        "replpw",
    ]);
    let mut r = replica.raw();
    wait_up(&mut r);
    m.call(&["SET", "k2", "v2"]);
    wait_same_digest(&mut m, &mut r);

    let rmaster = Server::redis(&["--requirepass", "adminpw"]);
    let mut rm = rmaster.raw();
    rm.call(&["AUTH", "adminpw"]);
    assert_eq!(rm.call(&setuser), "+OK\r\n");
    rm.call(&["SET", "a", "1"]);
    let rport = rmaster.port.to_string();
    let ours = Server::start(&["--masteruser", "repl", "--masterauth", "replpw"]);
    let mut o = ours.raw();
    o.call(&["REPLICAOF", "127.0.0.1", &rport]);
    wait_up(&mut o);
    rm.call(&["SET", "b", "2"]);
    wait_same_digest(&mut rm, &mut o);
    // With a wrong password the link never comes up.
    let bad = Server::start(&["--masteruser", "repl", "--masterauth", "nope"]);
    let mut b = bad.raw();
    b.call(&["REPLICAOF", "127.0.0.1", &rport]);
    wait_for("the refused AUTH in the ACL log", T, || {
        rm.call(&["ACL", "LOG"]).contains("$4\r\nrepl\r\n")
    });
    assert_eq!(b.info_field("master_link_status"), "down");
    let _: &mut Raw = &mut b;
}

/// Sharded pub/sub (SSUBSCRIBE, SPUBLISH, SUNSUBSCRIBE, PUBSUB SHARD*) and
/// its channel permissions, against redis-server.
#[test]
fn sharded_pubsub_as_redis() {
    let ours = Server::start(&[]);
    let theirs = Server::redis(&[]);
    let (mut sa, mut sb) = (ours.raw(), theirs.raw());
    let (mut pa, mut pb) = (ours.raw(), theirs.raw());
    let same = |a: &mut Raw, b: &mut Raw, c: &str| {
        let v: Vec<&[u8]> = words(c).iter().map(|w| w.as_bytes()).collect();
        a.cmd(&v);
        b.cmd(&v);
        let (x, y) = (a.reply_str(), b.reply_str());
        assert_eq!(x, y, "relica and redis-server differ on {c}");
        x
    };
    for c in ["SSUBSCRIBE a b", "SUBSCRIBE c", "SSUBSCRIBE a"] {
        let v: Vec<&[u8]> = words(c).iter().map(|w| w.as_bytes()).collect();
        sa.cmd(&v);
        sb.cmd(&v);
        let n = v.len() - 1;
        for _ in 0..n {
            assert_eq!(sa.reply_str(), sb.reply_str(), "{c}");
        }
    }
    for c in [
        "SPUBLISH a hello",
        "SPUBLISH c nobody",
        "PUBLISH a nobody",
        "PUBSUB SHARDCHANNELS a*",
        "PUBSUB SHARDCHANNELS b*",
        "PUBSUB SHARDNUMSUB a b c",
        "PUBSUB NUMSUB a c",
        "PUBSUB SHARDCHANNELS a b",
        "MULTI",
        "SSUBSCRIBE x",
        "EXEC",
        "ACL SETUSER sh on nopass +@all resetchannels &a",
        "ACL DRYRUN sh SSUBSCRIBE a",
        "ACL DRYRUN sh SSUBSCRIBE b",
        "ACL DRYRUN sh SPUBLISH b m",
        "ACL DRYRUN sh SUNSUBSCRIBE b",
        "AUTH sh x",
        "SPUBLISH b m",
        "SSUBSCRIBE b",
    ] {
        same(&mut pa, &mut pb, c);
    }
    assert_eq!(sa.reply_str(), sb.reply_str());
    for c in ["SUNSUBSCRIBE a", "SUNSUBSCRIBE"] {
        let v: Vec<&[u8]> = words(c).iter().map(|w| w.as_bytes()).collect();
        sa.cmd(&v);
        sb.cmd(&v);
        assert_eq!(sa.reply_str(), sb.reply_str(), "{c}");
    }
    assert!(sa.call(&["PING"]).contains("pong"));
    assert!(sb.call(&["PING"]).contains("pong"));
}

/// COMMAND GETKEYSANDFLAGS: the keys and their key-spec flags, as the ACL
/// read/write checks see them.
#[test]
fn getkeysandflags_as_redis() {
    let mut d = Diff::start(&[]);
    all_same(
        &mut d,
        &[
            "COMMAND GETKEYSANDFLAGS SET k v",
            "COMMAND GETKEYSANDFLAGS SET k v GET",
            "COMMAND GETKEYSANDFLAGS GET k",
            "COMMAND GETKEYSANDFLAGS MSET a 1 b 2",
            "COMMAND GETKEYSANDFLAGS LMOVE a b LEFT RIGHT",
            "COMMAND GETKEYSANDFLAGS BITFIELD k GET u8 0",
            "COMMAND GETKEYSANDFLAGS BITFIELD k SET u8 0 1",
            "COMMAND GETKEYSANDFLAGS SORT k BY w* STORE d",
            "COMMAND GETKEYSANDFLAGS ZUNIONSTORE d 2 a b",
            "COMMAND GETKEYSANDFLAGS EVAL return 2 a b x",
            "COMMAND GETKEYSANDFLAGS GEORADIUS k 0 0 1 m STORE d",
            "COMMAND GETKEYSANDFLAGS RENAME a b",
            "COMMAND GETKEYSANDFLAGS DEL a b c",
            "COMMAND GETKEYSANDFLAGS HEXISTS h f",
            "COMMAND GETKEYSANDFLAGS OBJECT ENCODING k",
            "COMMAND GETKEYSANDFLAGS PING",
            "COMMAND GETKEYSANDFLAGS NOSUCH a",
            "COMMAND GETKEYSANDFLAGS GET",
        ],
    );
}

/// COMMAND INFO: every command's (and subcommand's) ACL categories and
/// key specs with their flags are redis-server's, for every command both
/// have.
#[test]
fn command_info_categories_and_key_specs_as_redis() {
    use resp::Frame;
    let mut d = Diff::start(&[]);
    let limits = resp::Limits::default();
    let (a, b) = d.both(&[b"COMMAND", b"INFO"]);
    fn walk(f: &Frame, out: &mut std::collections::BTreeMap<String, (String, String)>) {
        let Frame::Array(v) = f else { return };
        let name = match v.first() {
            Some(Frame::Bulk(n)) => String::from_utf8_lossy(n).into_owned(),
            _ => return,
        };
        let show = |i: usize| {
            let mut s = format!("{:?}", v.get(i));
            // Sets are unordered.
            if let Some(Frame::Set(items)) | Some(Frame::Array(items)) = v.get(i) {
                let mut parts: Vec<String> = items.iter().map(|x| format!("{x:?}")).collect();
                if i == 6 {
                    parts.sort();
                }
                s = parts.join(",");
            }
            s
        };
        out.insert(name, (show(6), show(8)));
        if let Some(Frame::Array(subs)) = v.get(9) {
            for sub in subs {
                walk(sub, out);
            }
        }
    }
    let parse = |r: &[u8]| {
        let mut m = std::collections::BTreeMap::new();
        if let Ok(Some((Frame::Array(all), _))) = resp::decode_frame(r, &limits) {
            for c in &all {
                walk(c, &mut m);
            }
        }
        m
    };
    let (ours, theirs) = (parse(&a), parse(&b));
    assert!(ours.len() >= 290, "{}", ours.len());
    let mut compared = 0;
    for (name, (cats, specs)) in &ours {
        // relica splits DEBUG into subcommands; Redis has one DEBUG.
        let Some((tc, ts)) = theirs.get(name) else {
            assert!(name.starts_with("debug|"), "{name} unknown to redis-server");
            continue;
        };
        assert_eq!(cats, tc, "ACL categories of {name}");
        assert_eq!(specs, ts, "key specs of {name}");
        compared += 1;
    }
    assert!(compared >= 280, "{compared}");
}
