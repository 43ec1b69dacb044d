//! Replication commands on the master side: SYNC, PSYNC, REPLCONF and WAIT
//! (Redis's `replication.c` command handlers). The decisions live in
//! `crate::repl::master`.

use super::f::*;
use super::{cmd, eq, parse_int, CommandSpec, Ctx, NOKEYS};
use crate::blocking::TimeoutReply;
use crate::client::{flag, BlockState};
use crate::error::{CmdError, CmdResult, SYNTAX};
use crate::repl::master;

/// The replication commands.
pub static COMMANDS: &[CommandSpec] = &[
    cmd(
        "sync",
        1,
        ADMIN | NOSCRIPT | NO_MULTI | NO_ASYNC_LOADING,
        NOKEYS,
        "server",
        "1.0.0",
        "Internal command used for replication",
        sync,
    ),
    cmd(
        "psync",
        -3,
        ADMIN | NOSCRIPT | NO_MULTI | NO_ASYNC_LOADING,
        NOKEYS,
        "server",
        "2.8.0",
        "Internal command used for replication",
        sync,
    ),
    cmd(
        "replconf",
        -1,
        ADMIN | NOSCRIPT | LOADING | STALE | ALLOW_BUSY,
        NOKEYS,
        "server",
        "3.0.0",
        "An internal command for configuring the replication stream",
        replconf,
    ),
    cmd(
        "replicaof",
        3,
        ADMIN | NOSCRIPT | STALE | NO_ASYNC_LOADING,
        NOKEYS,
        "server",
        "5.0.0",
        "Make the server a replica of another instance, or promote it as master.",
        replicaof,
    ),
    cmd(
        "slaveof",
        3,
        ADMIN | NOSCRIPT | STALE | NO_ASYNC_LOADING,
        NOKEYS,
        "server",
        "1.0.0",
        "Make the server a replica of another instance, or promote it as master.",
        replicaof,
    ),
    cmd(
        "failover",
        -1,
        ADMIN | NOSCRIPT | STALE,
        NOKEYS,
        "server",
        "6.2.0",
        "Start a coordinated failover between this server and one of its replicas.",
        failover,
    ),
    cmd(
        "wait",
        3,
        NOSCRIPT,
        NOKEYS,
        "generic",
        "3.0.0",
        "Wait for the synchronous replication of all the write commands sent in the context of the current connection",
        wait,
    ),
];

fn replicaof(c: &mut Ctx) -> CmdResult {
    let who = format!("id={} addr={}", c.cl.id, c.cl.addr);
    if eq(&c.args[1], "no") && eq(&c.args[2], "one") {
        if c.eng.repl().link().is_some() {
            crate::repl::replica::set_master_none(c.eng);
            tracing::info!("MASTER MODE enabled (user request from '{who}')");
        }
        c.ok();
        return Ok(());
    }
    if c.cl.flags & flag::REPLICA != 0 {
        return Err("ERR Command is not valid when client is a replica.".into());
    }
    let host = String::from_utf8_lossy(&c.args[1]).into_owned();
    let port = parse_int(&c.args[2])?;
    let port = u16::try_from(port).map_err(|_| CmdError::fixed("ERR Invalid master port"))?;
    if c.eng
        .repl()
        .link()
        .is_some_and(|l| l.host.eq_ignore_ascii_case(&host) && l.port == port)
    {
        tracing::info!("REPLICAOF would result into synchronization with the master we are already connected with. No operation performed.");
        c.simple("OK Already connected to specified master");
        return Ok(());
    }
    crate::repl::replica::set_master(c.eng, &host, port);
    tracing::info!("REPLICAOF {host}:{port} enabled (user request from '{who}')");
    c.ok();
    Ok(())
}

fn failover(c: &mut Ctx) -> CmdResult {
    use crate::repl::master::{Failover, FailoverState};
    if c.args.len() == 2 && eq(&c.args[1], "abort") {
        if c.eng.repl().failover().is_none() {
            return Err("ERR No failover in progress.".into());
        }
        crate::repl::failover::abort_failover(c.eng, "Failover manually aborted");
        c.ok();
        return Ok(());
    }
    let (mut timeout, mut force, mut target) = (0i64, false, None::<(String, u16)>);
    let mut j = 1;
    while j < c.args.len() {
        let a = &c.args[j];
        if eq(a, "timeout") && j + 1 < c.args.len() && timeout == 0 {
            timeout = parse_int(&c.args[j + 1])?;
            if timeout <= 0 {
                return Err("ERR FAILOVER timeout must be greater than 0".into());
            }
            j += 2;
        } else if eq(a, "to") && j + 2 < c.args.len() && target.is_none() {
            let port = parse_int(&c.args[j + 2])?;
            let host = String::from_utf8_lossy(&c.args[j + 1]).into_owned();
            target = Some((host, u16::try_from(port).unwrap_or(0)));
            j += 3;
        } else if eq(a, "force") && !force {
            force = true;
            j += 1;
        } else {
            return Err(SYNTAX.into());
        }
    }
    if c.eng.repl().failover().is_some() {
        return Err("ERR FAILOVER already in progress.".into());
    }
    if c.eng.repl().link().is_some() {
        return Err("ERR FAILOVER is not valid when server is a replica.".into());
    }
    if c.eng.repl().replicas().is_empty() {
        return Err("ERR FAILOVER requires connected replicas.".into());
    }
    if force && (timeout == 0 || target.is_none()) {
        return Err(
            "ERR FAILOVER with force option requires both a timeout and target HOST and IP.".into(),
        );
    }
    match &target {
        Some((h, p)) => {
            let r = c
                .eng
                .repl()
                .replicas()
                .iter()
                .find(|r| r.ip == *h && r.port == *p);
            let Some(r) = r else {
                return Err("ERR FAILOVER target HOST and PORT is not a replica.".into());
            };
            if r.state != master::SlaveState::Online {
                return Err("ERR FAILOVER target replica is not online.".into());
            }
            tracing::info!("FAILOVER requested to {h}:{p}.");
        }
        None => tracing::info!("FAILOVER requested to any replica."),
    }
    c.eng.repl_mut().start_failover(Failover {
        target,
        end: (timeout > 0).then(|| crate::clock::now_ms() + timeout),
        force,
        state: FailoverState::WaitForSync,
    });
    // Stop writes so the replica can catch up, and ask where it is.
    c.eng.clients_mut().pause_writes_indefinitely();
    crate::repl::master::feed_raw(c.eng, &[b"REPLCONF", b"GETACK", b"*"]);
    c.ok();
    Ok(())
}

fn sync(c: &mut Ctx) -> CmdResult {
    if c.cl.flags & flag::REPLICA != 0 {
        // Already a replica: ignored, as Redis.
        return Ok(());
    }
    if c.args.len() > 3 && eq(&c.args[0], "psync") && eq(&c.args[3], "failover") {
        tracing::warn!(
            "Failover request received for replid {}.",
            String::from_utf8_lossy(&c.args[1])
        );
        if c.eng.repl().link().is_none() {
            return Err("ERR PSYNC FAILOVER can't be sent to a master.".into());
        }
        if !c.args[1].eq_ignore_ascii_case(c.eng.repl().replid().as_bytes()) {
            return Err("ERR PSYNC FAILOVER replid must match my replid.".into());
        }
        crate::repl::replica::set_master_none(c.eng);
        tracing::info!(
            "MASTER MODE enabled (failover request from 'id={} addr={}')",
            c.cl.id,
            c.cl.addr
        );
    }
    if !c.cl.outbox.is_empty() {
        return Err("ERR SYNC and PSYNC are invalid with pending output".into());
    }
    let hs = c.cl.replica.as_deref().cloned().unwrap_or_default();
    // The peer's address without its port, and an IPv6 one without the
    // brackets of `[::1]:port`, as Redis's connPeerToString gives it.
    let ip =
        c.cl.addr
            .rsplit_once(':')
            .map_or(c.cl.addr.as_str(), |(ip, _)| ip);
    let ip = ip
        .strip_prefix('[')
        .and_then(|i| i.strip_suffix(']'))
        .unwrap_or(ip)
        .to_string();
    let psync_args;
    let psync = if eq(&c.args[0], "psync") {
        psync_args = (
            String::from_utf8_lossy(&c.args[1]).into_owned(),
            c.args[2].clone(),
        );
        Some((psync_args.0.as_str(), &psync_args.1[..]))
    } else {
        None
    };
    let outbox = c.cl.outbox.clone();
    master::sync(c.eng, c.cl.id, outbox, &hs, &ip, psync).map_err(CmdError::fixed)?;
    c.cl.flags |= flag::REPLICA;
    if psync.is_none() {
        c.cl.flags |= flag::PRE_PSYNC;
    }
    Ok(())
}

fn replconf(c: &mut Ctx) -> CmdResult {
    if c.args.len() % 2 == 0 {
        // Options come in pairs.
        return Err(SYNTAX.into());
    }
    let mut j = 1;
    while j + 1 < c.args.len() {
        let (opt, val) = (c.args[j].clone(), c.args[j + 1].clone());
        let hs = c.cl.replica.get_or_insert_with(Box::default);
        if eq(&opt, "listening-port") {
            let port = parse_int(&val)?;
            hs.port = u16::try_from(port).unwrap_or(0);
        } else if eq(&opt, "ip-address") {
            let ip = String::from_utf8_lossy(&val).into_owned();
            if ip.len() >= 46 {
                return Err(CmdError::msg(format!(
                    "ERR REPLCONF ip-address provided by replica instance is too long: {} bytes",
                    ip.len()
                )));
            }
            hs.ip = Some(ip);
        } else if eq(&opt, "capa") {
            if eq(&val, "eof") {
                hs.eof = true;
            } else if eq(&val, "psync2") {
                hs.psync2 = true;
            }
        } else if eq(&opt, "ack") || eq(&opt, "fack") {
            // Only from an attached replica; never answered.
            if c.cl.flags & flag::REPLICA == 0 {
                return Ok(());
            }
            if eq(&opt, "ack") {
                if let Some(off) = crate::util::num::parse_i64(&val) {
                    master::ack(c.eng, c.cl.id, off);
                    crate::repl::failover::update_failover(c.eng);
                    master::serve_waiters(c.eng);
                }
            }
            return Ok(());
        } else if eq(&opt, "getack") {
            // A master asks its replica; as a master we have nothing to say.
            return Ok(());
        } else if eq(&opt, "rdb-only") {
            let v = parse_int(&val)?;
            if v != 0 && v != 1 {
                return Err("ERR invalid value for rdb-only".into());
            }
            hs.rdb_only = v == 1;
        } else if eq(&opt, "rdb-filter-only") {
            // Redis 7.0's one include filter, "functions" (redis-cli
            // --functions-rdb); an empty list keeps nothing.
            let Some(filters) = resp::inline::split_args(&val) else {
                return Err("ERR Missing rdb-filter-only values".into());
            };
            let mut functions = false;
            for f in &filters {
                if !eq(f, "functions") {
                    return Err(CmdError::msg(format!(
                        "ERR Unsupported rdb-filter-only option: {}",
                        String::from_utf8_lossy(f)
                    )));
                }
                functions = true;
            }
            hs.rdb_filter_functions = Some(functions);
        } else {
            return Err(CmdError::msg(format!(
                "ERR Unrecognized REPLCONF option: {}",
                String::from_utf8_lossy(&opt)
            )));
        }
        j += 2;
    }
    c.ok();
    Ok(())
}

fn wait(c: &mut Ctx) -> CmdResult {
    if c.eng.is_replica() {
        return Err("ERR WAIT cannot be used with replica instances. Please also note that since Redis 4.0 if a replica is configured to be writable (which is not the default) writes to replicas are just local and are not propagated.".into());
    }
    let n = parse_int(&c.args[1])?;
    let deadline = {
        let ms = parse_int(&c.args[2])
            .map_err(|_| CmdError::fixed("ERR timeout is not an integer or out of range"))?;
        if ms < 0 {
            return Err("ERR timeout is negative".into());
        }
        (ms > 0).then(|| (crate::clock::now_us() + ms * 1000 + 999) / 1000)
    };
    let offset = c.eng.repl().offset();
    let acked = master::replicas_acked(c.eng, offset) as i64;
    if acked >= n || c.cl.in_multi() || c.cl.flags & crate::client::flag::SCRIPT != 0 {
        c.int(acked);
        return Ok(());
    }
    c.cl.block = Some(BlockState {
        args: c.args.clone(),
        keys: Vec::new(),
        deadline,
        wait: Some((n.max(0) as usize, offset)),
        done: false,
        reply: TimeoutReply::WaitCount,
    });
    // Ask the replicas where they are.
    crate::repl::master::feed_raw(c.eng, &[b"REPLCONF", b"GETACK", b"*"]);
    Ok(())
}
