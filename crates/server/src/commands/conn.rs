//! Connection commands: PING, ECHO, QUIT, RESET, AUTH, HELLO, SELECT and
//! CLIENT (Redis's `networking.c` and `server.c`).

use resp::encode::Proto;

use super::f::*;
use super::{cmd, container, eq, parse_int, CommandSpec, Ctx, NOKEYS};
use crate::client::{flag, Client, ReplyMode};
use crate::error::*;

/// Table rows.
pub static COMMANDS: &[CommandSpec] = &[
    cmd(
        "ping",
        -1,
        FAST | SUBCTX,
        NOKEYS,
        "connection",
        "1.0.0",
        "Ping the server",
        ping,
    ),
    cmd(
        "echo",
        2,
        LOADING | STALE | FAST,
        NOKEYS,
        "connection",
        "1.0.0",
        "Echo the given string",
        echo,
    ),
    cmd(
        "quit",
        -1,
        NOSCRIPT | ALLOW_BUSY | NO_AUTH | LOADING | STALE | FAST,
        NOKEYS,
        "connection",
        "1.0.0",
        "Close the connection",
        quit,
    ),
    cmd(
        "reset",
        1,
        NOSCRIPT | LOADING | STALE | NO_AUTH | FAST | ALLOW_BUSY,
        NOKEYS,
        "connection",
        "6.2.0",
        "Reset the connection",
        reset,
    ),
    cmd(
        "auth",
        -2,
        NOSCRIPT | LOADING | STALE | FAST | NO_AUTH | ALLOW_BUSY,
        NOKEYS,
        "connection",
        "1.0.0",
        "Authenticate to the server",
        auth,
    ),
    cmd(
        "hello",
        -1,
        NOSCRIPT | LOADING | STALE | FAST | NO_AUTH | ALLOW_BUSY,
        NOKEYS,
        "connection",
        "6.0.0",
        "Handshake with Redis",
        hello,
    ),
    cmd(
        "select",
        2,
        LOADING | STALE | FAST,
        NOKEYS,
        "connection",
        "1.0.0",
        "Change the selected database for the current connection",
        select,
    ),
    cmd(
        "asking",
        1,
        FAST,
        NOKEYS,
        "cluster",
        "3.0.0",
        "Sent by cluster clients after an -ASK redirect",
        cluster_disabled,
    ),
    cmd(
        "readonly",
        1,
        FAST | LOADING | STALE,
        NOKEYS,
        "cluster",
        "3.0.0",
        "Enables read queries for a connection to a cluster replica node",
        cluster_disabled,
    ),
    container(
        "cluster",
        "cluster",
        "3.0.0",
        "A container for cluster commands",
        CLUSTER,
    ),
    cmd(
        "readwrite",
        1,
        FAST | LOADING | STALE,
        NOKEYS,
        "cluster",
        "3.0.0",
        "Disables read queries for a connection to a cluster replica node",
        cluster_disabled,
    ),
    container(
        "client",
        "connection",
        "2.4.0",
        "A container for client connection commands",
        CLIENT,
    ),
];

const CA: u32 = ADMIN | NOSCRIPT | LOADING | STALE;
const CF: u32 = NOSCRIPT | LOADING | STALE;

static CLIENT: &[CommandSpec] = &[
    cmd(
        "id",
        2,
        CF,
        NOKEYS,
        "connection",
        "5.0.0",
        "Returns the client ID for the current connection",
        client_id,
    ),
    cmd(
        "setname",
        3,
        CF,
        NOKEYS,
        "connection",
        "2.6.9",
        "Set the current connection name",
        client_setname,
    ),
    cmd(
        "getname",
        2,
        CF,
        NOKEYS,
        "connection",
        "2.6.9",
        "Get the current connection name",
        client_getname,
    ),
    cmd(
        "list",
        -2,
        CA,
        NOKEYS,
        "connection",
        "2.4.0",
        "Get the list of client connections",
        client_list,
    ),
    cmd(
        "info",
        2,
        CF,
        NOKEYS,
        "connection",
        "6.2.0",
        "Returns information about the current client connection.",
        client_info,
    ),
    cmd(
        "kill",
        -3,
        CA,
        NOKEYS,
        "connection",
        "2.4.0",
        "Kill the connection of a client",
        client_kill,
    ),
    cmd(
        "pause",
        -3,
        CA,
        NOKEYS,
        "connection",
        "3.0.0",
        "Stop processing commands from clients for some time",
        client_pause,
    ),
    cmd(
        "unpause",
        2,
        CA,
        NOKEYS,
        "connection",
        "6.2.0",
        "Resume processing of clients that were paused",
        client_unpause,
    ),
    cmd(
        "reply",
        3,
        CF,
        NOKEYS,
        "connection",
        "3.2.0",
        "Instruct the server whether to reply to commands",
        client_reply,
    ),
    cmd(
        "no-evict",
        3,
        CA,
        NOKEYS,
        "connection",
        "7.0.0",
        "Set client eviction mode for the current connection",
        client_no_evict,
    ),
    cmd(
        "unblock",
        -3,
        CA,
        NOKEYS,
        "connection",
        "5.0.0",
        "Unblock a client blocked in a blocking command from a different connection",
        client_unblock,
    ),
    cmd(
        "getredir",
        2,
        CF,
        NOKEYS,
        "connection",
        "6.0.0",
        "Get tracking notifications redirection client ID if any",
        client_getredir,
    ),
    cmd(
        "tracking",
        -3,
        CF,
        NOKEYS,
        "connection",
        "6.0.0",
        "Enable or disable server assisted client side caching support",
        client_tracking,
    ),
    cmd(
        "caching",
        3,
        CF,
        NOKEYS,
        "connection",
        "6.0.0",
        "Instruct the server about tracking or not keys in the next request",
        client_caching,
    ),
    cmd(
        "trackinginfo",
        2,
        CF,
        NOKEYS,
        "connection",
        "6.2.0",
        "Return information about server assisted client side caching for the current connection",
        client_trackinginfo,
    ),
    cmd(
        "help",
        2,
        LOADING | STALE,
        NOKEYS,
        "connection",
        "5.0.0",
        "Show helpful text about the different subcommands",
        client_help,
    ),
];

fn ping(c: &mut Ctx) -> CmdResult {
    if c.args.len() > 2 {
        return Err(CmdError::arity("ping"));
    }
    if c.cl.proto == Proto::Resp2 && c.cl.subscriptions() > 0 {
        // In RESP2 subscribed mode PING answers as a pub/sub message.
        c.array(2);
        c.bulk(b"pong");
        let m = c.args.get(1).cloned().unwrap_or_default();
        c.bulk(&m);
        return Ok(());
    }
    match c.args.get(1).cloned() {
        Some(m) => c.bulk(&m),
        None => c.simple("PONG"),
    }
    Ok(())
}

/// READONLY and READWRITE: relica has no cluster mode.
/// CLUSTER's subcommands, as Redis 7.0 declares them; without cluster
/// mode each answers that cluster support is disabled (Redis's
/// clusterCommand), but their flags still count: a script may not call
/// CLUSTER RESET (`noscript`).
static CLUSTER: &[CommandSpec] = &[
    cmd(
        "addslots",
        -3,
        NO_ASYNC_LOADING | ADMIN | STALE,
        NOKEYS,
        "cluster",
        "3.0.0",
        "Assign new hash slots to receiving node",
        cluster_disabled,
    ),
    cmd(
        "addslotsrange",
        -4,
        NO_ASYNC_LOADING | ADMIN | STALE,
        NOKEYS,
        "cluster",
        "7.0.0",
        "Assign new hash slots to receiving node",
        cluster_disabled,
    ),
    cmd(
        "bumpepoch",
        2,
        NO_ASYNC_LOADING | ADMIN | STALE,
        NOKEYS,
        "cluster",
        "3.0.0",
        "Advance the cluster config epoch",
        cluster_disabled,
    ),
    cmd(
        "count-failure-reports",
        3,
        ADMIN | STALE,
        NOKEYS,
        "cluster",
        "3.0.0",
        "Return the number of failure reports active for a given node",
        cluster_disabled,
    ),
    cmd(
        "countkeysinslot",
        3,
        STALE,
        NOKEYS,
        "cluster",
        "3.0.0",
        "Return the number of local keys in the specified hash slot",
        cluster_disabled,
    ),
    cmd(
        "delslots",
        -3,
        NO_ASYNC_LOADING | ADMIN | STALE,
        NOKEYS,
        "cluster",
        "3.0.0",
        "Set hash slots as unbound in receiving node",
        cluster_disabled,
    ),
    cmd(
        "delslotsrange",
        -4,
        NO_ASYNC_LOADING | ADMIN | STALE,
        NOKEYS,
        "cluster",
        "7.0.0",
        "Set hash slots as unbound in receiving node",
        cluster_disabled,
    ),
    cmd(
        "failover",
        -2,
        NO_ASYNC_LOADING | ADMIN | STALE,
        NOKEYS,
        "cluster",
        "3.0.0",
        "Forces a replica to perform a manual failover of its master.",
        cluster_disabled,
    ),
    cmd(
        "flushslots",
        2,
        NO_ASYNC_LOADING | ADMIN | STALE,
        NOKEYS,
        "cluster",
        "3.0.0",
        "Delete a node's own slots information",
        cluster_disabled,
    ),
    cmd(
        "forget",
        3,
        NO_ASYNC_LOADING | ADMIN | STALE,
        NOKEYS,
        "cluster",
        "3.0.0",
        "Remove a node from the nodes table",
        cluster_disabled,
    ),
    cmd(
        "getkeysinslot",
        4,
        STALE,
        NOKEYS,
        "cluster",
        "3.0.0",
        "Return local key names in the specified hash slot",
        cluster_disabled,
    ),
    cmd(
        "help",
        2,
        LOADING | STALE,
        NOKEYS,
        "cluster",
        "5.0.0",
        "Show helpful text about the different subcommands",
        cluster_disabled,
    ),
    cmd(
        "info",
        2,
        STALE,
        NOKEYS,
        "cluster",
        "3.0.0",
        "Provides info about Redis Cluster node state",
        cluster_disabled,
    ),
    cmd(
        "keyslot",
        3,
        STALE,
        NOKEYS,
        "cluster",
        "3.0.0",
        "Returns the hash slot of the specified key",
        cluster_disabled,
    ),
    cmd(
        "links",
        2,
        STALE,
        NOKEYS,
        "cluster",
        "7.0.0",
        "Returns a list of all TCP links to and from peer nodes in cluster",
        cluster_disabled,
    ),
    cmd(
        "meet",
        -4,
        NO_ASYNC_LOADING | ADMIN | STALE,
        NOKEYS,
        "cluster",
        "3.0.0",
        "Force a node cluster to handshake with another node",
        cluster_disabled,
    ),
    cmd(
        "myid",
        2,
        STALE,
        NOKEYS,
        "cluster",
        "3.0.0",
        "Return the node id",
        cluster_disabled,
    ),
    cmd(
        "nodes",
        2,
        STALE,
        NOKEYS,
        "cluster",
        "3.0.0",
        "Get Cluster config for the node",
        cluster_disabled,
    ),
    cmd(
        "replicas",
        3,
        ADMIN | STALE,
        NOKEYS,
        "cluster",
        "5.0.0",
        "List replica nodes of the specified master node",
        cluster_disabled,
    ),
    cmd(
        "replicate",
        3,
        NO_ASYNC_LOADING | ADMIN | STALE,
        NOKEYS,
        "cluster",
        "3.0.0",
        "Reconfigure a node as a replica of the specified master node",
        cluster_disabled,
    ),
    cmd(
        "reset",
        -2,
        ADMIN | STALE | NOSCRIPT,
        NOKEYS,
        "cluster",
        "3.0.0",
        "Reset a Redis Cluster node",
        cluster_disabled,
    ),
    cmd(
        "saveconfig",
        2,
        NO_ASYNC_LOADING | ADMIN | STALE,
        NOKEYS,
        "cluster",
        "3.0.0",
        "Forces the node to save cluster state on disk",
        cluster_disabled,
    ),
    cmd(
        "set-config-epoch",
        3,
        NO_ASYNC_LOADING | ADMIN | STALE,
        NOKEYS,
        "cluster",
        "3.0.0",
        "Set the configuration epoch in a new node",
        cluster_disabled,
    ),
    cmd(
        "setslot",
        -4,
        NO_ASYNC_LOADING | ADMIN | STALE,
        NOKEYS,
        "cluster",
        "3.0.0",
        "Bind a hash slot to a specific node",
        cluster_disabled,
    ),
    cmd(
        "shards",
        2,
        STALE,
        NOKEYS,
        "cluster",
        "7.0.0",
        "Get array of cluster slots to node mappings",
        cluster_disabled,
    ),
    cmd(
        "slaves",
        3,
        ADMIN | STALE,
        NOKEYS,
        "cluster",
        "3.0.0",
        "List replica nodes of the specified master node",
        cluster_disabled,
    ),
    cmd(
        "slots",
        2,
        STALE,
        NOKEYS,
        "cluster",
        "3.0.0",
        "Get array of Cluster slot to node mappings",
        cluster_disabled,
    ),
];

fn cluster_disabled(_c: &mut Ctx) -> CmdResult {
    Err("ERR This instance has cluster support disabled".into())
}

fn echo(c: &mut Ctx) -> CmdResult {
    let m = c.args[1].clone();
    c.bulk(&m);
    Ok(())
}

fn quit(c: &mut Ctx) -> CmdResult {
    c.cl.flags |= flag::CLOSE_AFTER_REPLY;
    c.ok();
    Ok(())
}

fn reset(c: &mut Ctx) -> CmdResult {
    super::multi::discard_transaction(c.eng, c.cl);
    super::multi::unwatch_all(c.eng, c.cl);
    super::pubsub::unsubscribe_all(c.eng, c.cl);
    c.eng.tracking_mut().disable(c.cl.id);
    c.eng.clients_mut().remove_monitor(c.cl.id);
    c.cl.flags &= !(flag::MONITOR | flag::NO_EVICT);
    c.cl.reply_mode = ReplyMode::On;
    c.cl.proto = Proto::Resp2;
    c.cl.db = 0;
    c.cl.name = None;
    c.cl.user = b"default".to_vec();
    c.cl.authenticated = c.eng.acl().new_clients_authenticated();
    c.simple("RESET");
    Ok(())
}

fn auth(c: &mut Ctx) -> CmdResult {
    if c.args.len() > 3 {
        return Err(SYNTAX.into());
    }
    c.redact(1);
    if c.args.len() == 3 {
        c.redact(2);
    }
    let (user, pass) = if c.args.len() == 3 {
        (c.args[1].clone(), c.args[2].clone())
    } else {
        if c.eng.acl().default_user().nopass() {
            return Err("ERR AUTH <password> called without any password configured for the default user. Are you sure your configuration is correct?".into());
        }
        (bytes::Bytes::from_static(b"default"), c.args[1].clone())
    };
    let name = c.args[0].clone();
    if !super::acl::authenticate(c.eng, c.cl, &user, &pass, &name) {
        return Err(WRONGPASS.into());
    }
    c.ok();
    Ok(())
}

fn hello(c: &mut Ctx) -> CmdResult {
    let mut proto = c.cl.proto;
    let mut i = 1;
    if let Some(v) = c.args.get(1) {
        let n = parse_int(v).map_err(|_| {
            CmdError::fixed("ERR Protocol version is not an integer or out of range")
        })?;
        proto = match n {
            2 => Proto::Resp2,
            3 => Proto::Resp3,
            _ => return Err("NOPROTO unsupported protocol version".into()),
        };
        i = 2;
    }
    let mut setname = None;
    while i < c.args.len() {
        let more = c.args.len() - i - 1;
        if eq(&c.args[i], "auth") && more >= 2 {
            c.redact(i + 1);
            c.redact(i + 2);
            let (u, p) = (c.args[i + 1].clone(), c.args[i + 2].clone());
            let name = c.args[0].clone();
            if !super::acl::authenticate(c.eng, c.cl, &u, &p, &name) {
                return Err(WRONGPASS.into());
            }
            i += 3;
        } else if eq(&c.args[i], "setname") && more >= 1 {
            let n = c.args[i + 1].clone();
            validate_name(&n)?;
            setname = Some(n);
            i += 2;
        } else {
            return Err(CmdError::msg(format!(
                "ERR Syntax error in HELLO option '{}'",
                truncate_for_error(&c.args[i])
            )));
        }
    }
    if !c.cl.authenticated {
        return Err("NOAUTH HELLO must be called with the client already authenticated, otherwise the HELLO <proto> AUTH <user> <pass> option can be used to authenticate the client and select the RESP protocol version at the same time".into());
    }
    if let Some(n) = setname {
        c.cl.name = if n.is_empty() { None } else { Some(n.to_vec()) };
    }
    c.cl.proto = proto;
    let role = if c.eng.is_replica() {
        "replica"
    } else {
        "master"
    };
    c.map(7);
    c.bulk(b"server");
    c.bulk(b"redis");
    c.bulk(b"version");
    c.bulk(crate::info::REDIS_VERSION.as_bytes());
    c.bulk(b"proto");
    c.int(if proto == Proto::Resp3 { 3 } else { 2 });
    c.bulk(b"id");
    let id = c.cl.id;
    c.int(id as i64);
    c.bulk(b"mode");
    c.bulk(b"standalone");
    c.bulk(b"role");
    c.bulk(role.as_bytes());
    c.bulk(b"modules");
    c.array(0);
    Ok(())
}

fn select(c: &mut Ctx) -> CmdResult {
    let n = parse_int(&c.args[1])?;
    if n < 0 || n as usize >= c.eng.keyspace().num_dbs() {
        return Err(DB_RANGE.into());
    }
    c.cl.db = n as usize;
    c.ok();
    Ok(())
}

fn client_id(c: &mut Ctx) -> CmdResult {
    let id = c.cl.id;
    c.int(id as i64);
    Ok(())
}

fn validate_name(n: &[u8]) -> CmdResult {
    if n.iter().any(|&b| !(b'!'..=b'~').contains(&b)) {
        return Err(
            "ERR Client names cannot contain spaces, newlines or special characters.".into(),
        );
    }
    Ok(())
}

fn client_setname(c: &mut Ctx) -> CmdResult {
    let n = c.args[2].clone();
    validate_name(&n)?;
    c.cl.name = if n.is_empty() { None } else { Some(n.to_vec()) };
    c.ok();
    Ok(())
}

fn client_getname(c: &mut Ctx) -> CmdResult {
    match c.cl.name.clone() {
        Some(n) => c.bulk(&n),
        None => c.null(),
    }
    Ok(())
}

fn client_type_matches(cl: &Client, t: &[u8]) -> CmdResult<bool> {
    Ok(if eq(t, "normal") {
        cl.flags & (flag::REPLICA | flag::MASTER) == 0 && cl.subscriptions() == 0
    } else if eq(t, "replica") || eq(t, "slave") {
        cl.flags & flag::REPLICA != 0 && cl.flags & flag::MONITOR == 0
    } else if eq(t, "master") {
        cl.flags & flag::MASTER != 0
    } else if eq(t, "pubsub") {
        cl.subscriptions() > 0
    } else {
        return Err(CmdError::msg(format!(
            "ERR Unknown client type '{}'",
            truncate_for_error(t)
        )));
    })
}

fn client_list(c: &mut Ctx) -> CmdResult {
    let now = c.now();
    let mut ids: Option<Vec<u64>> = None;
    let mut ty: Option<bytes::Bytes> = None;
    let mut i = 2;
    while i < c.args.len() {
        if eq(&c.args[i], "type") && i + 1 < c.args.len() {
            ty = Some(c.args[i + 1].clone());
            i += 2;
        } else if eq(&c.args[i], "id") && i + 1 < c.args.len() {
            let mut v = Vec::new();
            for a in &c.args[i + 1..] {
                let n = parse_int(a).map_err(|_| CmdError::fixed("ERR Invalid client ID"))?;
                if n <= 0 {
                    return Err("ERR Invalid client ID".into());
                }
                v.push(n as u64);
            }
            ids = Some(v);
            i = c.args.len();
        } else {
            return Err(SYNTAX.into());
        }
    }
    // A client killed (evicted, over its output limit) is gone for Redis
    // at once; its connection here may not have closed yet.
    let mut all: Vec<&Client> = c
        .eng
        .clients()
        .iter()
        .filter(|cl| !cl.outbox.is_killed())
        .collect();
    all.push(c.cl);
    all.sort_by_key(|cl| cl.id);
    let mut text = String::new();
    for cl in all {
        if let Some(ids) = &ids {
            if !ids.contains(&cl.id) {
                continue;
            }
        }
        if let Some(t) = &ty {
            if !client_type_matches(cl, t)? {
                continue;
            }
        }
        let argv = if cl.id == c.cl.id { running_argv(c) } else { 0 };
        text.push_str(&c.eng.running_client_info_line(cl, now, argv));
        text.push('\n');
    }
    c.verbatim(text.as_bytes());
    Ok(())
}

/// What the running command's arguments take (Redis's argv_len_sum).
fn running_argv(c: &Ctx) -> usize {
    c.args.iter().map(|a| a.len()).sum()
}

fn client_info(c: &mut Ctx) -> CmdResult {
    let argv = running_argv(c);
    let mut line = c.eng.running_client_info_line(c.cl, c.now(), argv);
    line.push('\n');
    c.verbatim(line.as_bytes());
    Ok(())
}

fn client_kill(c: &mut Ctx) -> CmdResult {
    // Old form: CLIENT KILL addr:port.
    if c.args.len() == 3 {
        let addr = c.args[2].clone();
        let me = c.cl.addr.as_bytes() == addr.as_ref();
        let victim = c
            .eng
            .clients()
            .iter()
            .find(|cl| cl.addr.as_bytes() == addr.as_ref())
            .map(|cl| cl.outbox.clone());
        if me {
            c.cl.flags |= flag::CLOSE_AFTER_REPLY;
        } else if let Some(ob) = victim {
            ob.kill();
        } else {
            return Err("ERR No such client".into());
        }
        c.ok();
        return Ok(());
    }
    let mut filt_id = None;
    let mut filt_addr = None;
    let mut filt_laddr = None;
    let mut filt_type = None;
    let mut filt_user = None;
    let mut skipme = true;
    let mut i = 2;
    while i < c.args.len() {
        if i + 1 >= c.args.len() {
            return Err(SYNTAX.into());
        }
        let (k, v) = (c.args[i].clone(), c.args[i + 1].clone());
        if eq(&k, "id") {
            let n = parse_int(&v)
                .ok()
                .filter(|n| *n > 0)
                .ok_or(CmdError::fixed("ERR client-id should be greater than 0"))?;
            filt_id = Some(n as u64);
        } else if eq(&k, "addr") {
            filt_addr = Some(v);
        } else if eq(&k, "laddr") {
            filt_laddr = Some(v);
        } else if eq(&k, "type") {
            // Validate the type now, as Redis does.
            client_type_matches(c.cl, &v)?;
            filt_type = Some(v);
        } else if eq(&k, "user") {
            if c.eng.acl().user(&v).is_none() {
                return Err(CmdError::msg(format!(
                    "ERR No such user '{}'",
                    truncate_for_error(&v)
                )));
            }
            filt_user = Some(v);
        } else if eq(&k, "skipme") {
            skipme = if eq(&v, "yes") {
                true
            } else if eq(&v, "no") {
                false
            } else {
                return Err(SYNTAX.into());
            };
        } else {
            return Err(SYNTAX.into());
        }
        i += 2;
    }
    let matches = |cl: &Client| -> CmdResult<bool> {
        if filt_id.is_some_and(|id| id != cl.id) {
            return Ok(false);
        }
        if filt_user
            .as_ref()
            .is_some_and(|u| u.as_ref() != cl.user.as_slice())
        {
            return Ok(false);
        }
        if filt_addr
            .as_ref()
            .is_some_and(|a| a.as_ref() != cl.addr.as_bytes())
        {
            return Ok(false);
        }
        if filt_laddr
            .as_ref()
            .is_some_and(|a| a.as_ref() != cl.laddr.as_bytes())
        {
            return Ok(false);
        }
        if let Some(t) = &filt_type {
            if !client_type_matches(cl, t)? {
                return Ok(false);
            }
        }
        Ok(true)
    };
    let mut killed = 0;
    for cl in c.eng.clients().iter() {
        if matches(cl)? {
            cl.outbox.kill();
            killed += 1;
        }
    }
    if !skipme && matches(c.cl)? {
        c.cl.flags |= flag::CLOSE_AFTER_REPLY;
        killed += 1;
    }
    c.int(killed);
    Ok(())
}

fn client_pause(c: &mut Ctx) -> CmdResult {
    let ms = parse_int(&c.args[2])
        .map_err(|_| CmdError::fixed("ERR timeout is not an integer or out of range"))?;
    if ms < 0 {
        return Err("ERR timeout is negative".into());
    }
    let write_only = match c.args.get(3) {
        None => false,
        Some(a) if eq(a, "write") => true,
        Some(a) if eq(a, "all") => false,
        Some(_) => return Err(SYNTAX.into()),
    };
    if c.args.len() > 4 {
        return Err(SYNTAX.into());
    }
    let until = c.now() + ms;
    // A longer or stricter pause wins, as Redis's pauseClients.
    let now = c.eng.now();
    c.eng.clients_mut().pause_until(until, write_only, now);
    c.ok();
    Ok(())
}

fn client_unpause(c: &mut Ctx) -> CmdResult {
    c.eng.clients_mut().unpause();
    c.ok();
    Ok(())
}

fn client_reply(c: &mut Ctx) -> CmdResult {
    let a = c.args[2].clone();
    if eq(&a, "on") {
        c.cl.reply_mode = ReplyMode::On;
        c.ok();
    } else if eq(&a, "off") {
        c.cl.reply_mode = ReplyMode::Off;
    } else if eq(&a, "skip") {
        if c.cl.reply_mode == ReplyMode::On {
            c.cl.reply_mode = ReplyMode::SkipNext;
        }
    } else {
        return Err(SYNTAX.into());
    }
    Ok(())
}

fn client_no_evict(c: &mut Ctx) -> CmdResult {
    let a = c.args[2].clone();
    if eq(&a, "on") {
        c.cl.flags |= flag::NO_EVICT;
    } else if eq(&a, "off") {
        c.cl.flags &= !flag::NO_EVICT;
    } else {
        return Err(SYNTAX.into());
    }
    c.ok();
    Ok(())
}

fn client_unblock(c: &mut Ctx) -> CmdResult {
    let id = parse_int(&c.args[2])?;
    let error = match c.args.get(3) {
        None => false,
        Some(a) if eq(a, "timeout") => false,
        Some(a) if eq(a, "error") => true,
        Some(_) => return Err("ERR CLIENT UNBLOCK reason should be TIMEOUT or ERROR".into()),
    };
    let n = crate::blocking::unblock_client(c.eng, id as u64, error);
    c.int(n as i64);
    Ok(())
}

fn client_getredir(c: &mut Ctx) -> CmdResult {
    let r = c.eng.tracking().redirect(c.cl.id).map_or(-1, |r| r as i64);
    c.int(r);
    Ok(())
}

/// CLIENT TRACKING (ON|OFF) [REDIRECT id] [BCAST] [PREFIX p ...] [OPTIN]
/// [OPTOUT] [NOLOOP], with Redis 7.0's checks in its order.
fn client_tracking(c: &mut Ctx) -> CmdResult {
    use crate::tracking::mode;
    let mut redir: i64 = 0;
    let mut options = 0u32;
    let mut prefixes: Vec<Vec<u8>> = Vec::new();
    let mut j = 3;
    while j < c.args.len() {
        let more = c.args.len() - 1 - j;
        let a = &c.args[j];
        if eq(a, "redirect") && more > 0 {
            j += 1;
            if redir != 0 {
                return Err("ERR A client can only redirect to a single other client".into());
            }
            redir = parse_int(&c.args[j])?;
            let exists = redir > 0
                && (redir as u64 == c.cl.id || c.eng.clients().outbox(redir as u64).is_some());
            if !exists {
                return Err("ERR The client ID you want redirect to does not exist".into());
            }
        } else if eq(a, "bcast") {
            options |= mode::BCAST;
        } else if eq(a, "optin") {
            options |= mode::OPTIN;
        } else if eq(a, "optout") {
            options |= mode::OPTOUT;
        } else if eq(a, "noloop") {
            options |= mode::NOLOOP;
        } else if eq(a, "prefix") && more > 0 {
            j += 1;
            prefixes.push(c.args[j].to_vec());
        } else {
            return Err(SYNTAX.into());
        }
        j += 1;
    }
    let id = c.cl.id;
    if eq(&c.args[2], "on") {
        if options & mode::BCAST == 0 && !prefixes.is_empty() {
            return Err("ERR PREFIX option requires BCAST mode to be enabled".into());
        }
        let cur = c.eng.tracking().flags(id);
        if let Some(f) = cur {
            if (f & mode::BCAST != 0) != (options & mode::BCAST != 0) {
                return Err("ERR You can't switch BCAST mode on/off before disabling tracking for this client, and then re-enabling it with a different mode.".into());
            }
        }
        if options & mode::BCAST != 0 && options & (mode::OPTIN | mode::OPTOUT) != 0 {
            return Err("ERR OPTIN and OPTOUT are not compatible with BCAST".into());
        }
        if options & mode::OPTIN != 0 && options & mode::OPTOUT != 0 {
            return Err("ERR You can't specify both OPTIN mode and OPTOUT mode".into());
        }
        let f = cur.unwrap_or(0);
        if (options & mode::OPTIN != 0 && f & mode::OPTOUT != 0)
            || (options & mode::OPTOUT != 0 && f & mode::OPTIN != 0)
        {
            return Err("ERR You can't switch OPTIN/OPTOUT mode before disabling tracking for this client, and then re-enabling it with a different mode.".into());
        }
        if options & mode::BCAST != 0 {
            if let Some(e) = c.eng.tracking().prefix_collision(id, &prefixes) {
                return Err(CmdError::msg(e));
            }
        }
        c.eng
            .tracking_mut()
            .enable(id, redir as u64, options, &prefixes);
    } else if eq(&c.args[2], "off") {
        c.eng.tracking_mut().disable(id);
    } else {
        return Err(SYNTAX.into());
    }
    c.ok();
    Ok(())
}

/// CLIENT CACHING (YES|NO): track, or not, the keys the next command
/// reads, in OPTIN or OPTOUT mode.
fn client_caching(c: &mut Ctx) -> CmdResult {
    use crate::tracking::mode;
    let id = c.cl.id;
    let Some(f) = c.eng.tracking().flags(id) else {
        return Err("ERR CLIENT CACHING can be called only when the client is in tracking mode with OPTIN or OPTOUT mode enabled".into());
    };
    if eq(&c.args[2], "yes") {
        if f & mode::OPTIN == 0 {
            return Err(
                "ERR CLIENT CACHING YES is only valid when tracking is enabled in OPTIN mode."
                    .into(),
            );
        }
    } else if eq(&c.args[2], "no") {
        if f & mode::OPTOUT == 0 {
            return Err(
                "ERR CLIENT CACHING NO is only valid when tracking is enabled in OPTOUT mode."
                    .into(),
            );
        }
    } else {
        return Err(SYNTAX.into());
    }
    c.eng.tracking_mut().set_caching(id);
    c.ok();
    Ok(())
}

/// CLIENT TRACKINGINFO: the connection's tracking flags, redirect and
/// prefixes.
fn client_trackinginfo(c: &mut Ctx) -> CmdResult {
    use crate::tracking::mode;
    let id = c.cl.id;
    let t = c.eng.tracking();
    let f = t.flags(id);
    let mut flags: Vec<&str> = vec![if f.is_some() { "on" } else { "off" }];
    let f = f.unwrap_or(0);
    if f & mode::BCAST != 0 {
        flags.push("bcast");
    }
    if f & mode::OPTIN != 0 {
        flags.push("optin");
        if f & mode::CACHING != 0 {
            flags.push("caching-yes");
        }
    }
    if f & mode::OPTOUT != 0 {
        flags.push("optout");
        if f & mode::CACHING != 0 {
            flags.push("caching-no");
        }
    }
    if f & mode::NOLOOP != 0 {
        flags.push("noloop");
    }
    if f & mode::BROKEN_REDIR != 0 {
        flags.push("broken_redirect");
    }
    let redirect = t.redirect(id).map_or(-1, |r| r as i64);
    let prefixes = t.prefixes_of(id);
    c.map(3);
    c.bulk(b"flags");
    c.set_header(flags.len());
    for fl in flags {
        c.bulk(fl.as_bytes());
    }
    c.bulk(b"redirect");
    c.int(redirect);
    c.bulk(b"prefixes");
    c.array(prefixes.len());
    for p in prefixes {
        c.bulk(&p);
    }
    Ok(())
}

fn client_help(c: &mut Ctx) -> CmdResult {
    super::keys::help_reply(
        c,
        "CLIENT",
        &[
            "CACHING (YES|NO)",
            "    Enable/disable tracking of the keys for next command in OPTIN/OPTOUT modes.",
            "GETREDIR",
            "    Return the client ID we are redirecting to when tracking is enabled.",
            "GETNAME",
            "    Return the name of the current connection.",
            "ID",
            "    Return the ID of the current connection.",
            "INFO",
            "    Return information about the current client connection.",
            "KILL <ip:port>",
            "    Kill connection made from <ip:port>.",
            "KILL <option> <value> [<option> <value> [...]]",
            "    Kill connections. Options are:",
            "    * ADDR (<ip:port>|<unixsocket>:0)",
            "      Kill connections made from the specified address",
            "    * LADDR (<ip:port>|<unixsocket>:0)",
            "      Kill connections made to specified local address",
            "    * TYPE (NORMAL|MASTER|REPLICA|PUBSUB)",
            "      Kill connections by type.",
            "    * USER <username>",
            "      Kill connections authenticated by <username>.",
            "    * SKIPME (YES|NO)",
            "      Skip killing current connection (default: yes).",
            "LIST [options ...]",
            "    Return information about client connections. Options:",
            "    * TYPE (NORMAL|MASTER|REPLICA|PUBSUB)",
            "      Return clients of specified type.",
            "UNPAUSE",
            "    Stop the current client pause, resuming traffic.",
            "PAUSE <timeout> [WRITE|ALL]",
            "    Suspend all, or just write, clients for <timeout> milliseconds.",
            "REPLY (ON|OFF|SKIP)",
            "    Control the replies sent to the current connection.",
            "SETNAME <name>",
            "    Assign the name <name> to the current connection.",
            "UNBLOCK <clientid> [TIMEOUT|ERROR]",
            "    Unblock the specified blocked client.",
            "TRACKING (ON|OFF) [REDIRECT <id>] [BCAST] [PREFIX <prefix> [...]]",
            "         [OPTIN] [OPTOUT] [NOLOOP]",
            "    Control server assisted client side caching.",
            "TRACKINGINFO",
            "    Report tracking status for the current connection.",
            "NO-EVICT (ON|OFF)",
            "    Protect current client connection from eviction.",
        ],
    );
    Ok(())
}
