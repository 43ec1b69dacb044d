//! MIGRATE (Redis's `cluster.c`): move keys to another server as RESTORE
//! commands carrying DUMP payloads, over a connection kept for the next
//! MIGRATE (`crate::migrate`). As in Redis it runs synchronously, bounded
//! by its timeout; moved keys (unless COPY) are deleted here and
//! propagated as one DEL.

use bytes::Bytes;

use super::f::*;
use super::{cmd, eq, CommandSpec, Ctx};
use crate::config::notify;
use crate::error::{CmdError, CmdResult, SYNTAX};

/// Table rows.
pub static COMMANDS: &[CommandSpec] = &[cmd(
    "migrate",
    -6,
    WRITE,
    (3, 3, 1),
    "generic",
    "2.6.0",
    "Atomically transfer a key from a Redis instance to another one.",
    migrate,
)
.keys_found_by(migrate_keys)];

/// The keys of a MIGRATE, as Redis's migrateGetKeys: `key`, or those after
/// KEYS (none when `key` is not empty then), skipping AUTH's and AUTH2's
/// arguments on the way.
fn migrate_keys(args: &[Bytes]) -> Vec<usize> {
    let mut i = 6;
    while i < args.len() {
        let a = &args[i];
        if eq(a, "keys") {
            if args.get(3).is_some_and(|k| !k.is_empty()) {
                return Vec::new();
            }
            return (i + 1..args.len()).collect();
        }
        if eq(a, "auth") {
            i += 1;
        } else if eq(a, "auth2") {
            i += 2;
        }
        i += 1;
    }
    vec![3]
}

fn parse_long(b: &[u8]) -> CmdResult<i64> {
    crate::util::num::parse_i64(b).ok_or(CmdError::fixed(crate::error::NOT_INT))
}

fn migrate(c: &mut Ctx) -> CmdResult {
    let (mut copy, mut replace) = (false, false);
    let mut auth: Option<(Option<Bytes>, Bytes)> = None;
    let (mut first_key, mut num_keys) = (3usize, 1usize);
    let mut j = 6;
    while j < c.args.len() {
        let more = c.args.len() - 1 - j;
        let a = c.args[j].clone();
        if eq(&a, "copy") {
            copy = true;
        } else if eq(&a, "replace") {
            replace = true;
        } else if eq(&a, "auth") {
            if more == 0 {
                return Err(SYNTAX.into());
            }
            j += 1;
            c.redact(j);
            auth = Some((None, c.args[j].clone()));
        } else if eq(&a, "auth2") {
            if more < 2 {
                return Err(SYNTAX.into());
            }
            c.redact(j + 1);
            c.redact(j + 2);
            auth = Some((Some(c.args[j + 1].clone()), c.args[j + 2].clone()));
            j += 2;
        } else if eq(&a, "keys") {
            if !c.args[3].is_empty() {
                return Err("ERR When using MIGRATE KEYS option, the key argument must be set to the empty string".into());
            }
            first_key = j + 1;
            num_keys = c.args.len() - j - 1;
            break;
        } else {
            return Err(SYNTAX.into());
        }
        j += 1;
    }
    let mut timeout = parse_long(&c.args[5])?;
    let dbid = parse_long(&c.args[4])?;
    if timeout <= 0 {
        timeout = 1000;
    }
    let timeout = std::time::Duration::from_millis(timeout as u64);
    let named: Vec<Bytes> = c.args[first_key..first_key + num_keys].to_vec();
    let keys: Vec<Bytes> = named
        .into_iter()
        .filter(|k| c.lookup_read(k).is_some())
        .collect();
    if keys.is_empty() {
        c.simple("NOKEY");
        return Ok(());
    }
    let host = String::from_utf8_lossy(&c.args[1]).to_string();
    let port = String::from_utf8_lossy(&c.args[2]).to_string();
    let mut may_retry = true;
    loop {
        match attempt(c, &host, &port, &keys, dbid, timeout, copy, replace, &auth)? {
            Attempt::Done => {
                c.ok();
                return Ok(());
            }
            Attempt::SocketError { writing, timed_out } => {
                c.eng.migrate_links_mut().close(&host, &port);
                if may_retry && !timed_out {
                    may_retry = false;
                    continue;
                }
                return Err(CmdError::msg(format!(
                    "IOERR error or timeout {} to target instance",
                    if writing { "writing" } else { "reading" }
                )));
            }
        }
    }
}

enum Attempt {
    /// Every key moved.
    Done,
    /// Nothing was acknowledged: the caller may retry once.
    SocketError { writing: bool, timed_out: bool },
}

#[allow(clippy::too_many_arguments)]
fn attempt(
    c: &mut Ctx,
    host: &str,
    port: &str,
    keys: &[Bytes],
    dbid: i64,
    timeout: std::time::Duration,
    copy: bool,
    replace: bool,
    auth: &Option<(Option<Bytes>, Bytes)>,
) -> CmdResult<Attempt> {
    let db = c.cl.db;
    let now = crate::clock::now_ms();
    // The commands: AUTH, SELECT unless the target has our db selected,
    // then a RESTORE per key that has not expired since it was looked up.
    let mut buf = Vec::new();
    let mut moved: Vec<Bytes> = Vec::new();
    // With tls-cluster, MIGRATE talks TLS (Redis's migrateGetSocket).
    let tls = if c.eng.cfg().bool(crate::config::P::tls_cluster) {
        match c.eng.tls().map(|t| t.client_context()) {
            Some(t) => Some(t),
            None => return Err("IOERR error or timeout connecting to the client".into()),
        }
    } else {
        None
    };
    let last_dbid = {
        let Some(link) =
            c.eng
                .migrate_links_mut()
                .get(host, port, timeout, now / 1000, tls.clone())
        else {
            return Err("IOERR error or timeout connecting to the client".into());
        };
        link.last_dbid
    };
    if let Some((user, pass)) = auth {
        let mut argv: Vec<&[u8]> = vec![b"AUTH"];
        if let Some(u) = user {
            argv.push(u);
        }
        argv.push(pass);
        resp::encode::command(&mut buf, &argv);
    }
    let select = last_dbid != dbid;
    if select {
        let d = dbid.to_string();
        resp::encode::command(&mut buf, &[b"SELECT", d.as_bytes()]);
    }
    for k in keys {
        let Some(e) = c.eng.keyspace().db(db).get(k) else {
            continue;
        };
        let mut ttl = 0i64;
        if e.expire() != -1 {
            ttl = e.expire() - now;
            if ttl < 0 {
                continue;
            }
            ttl = ttl.max(1);
        }
        let payload = rdb::dump_payload(&crate::persist::to_rdb(&e.value), 10);
        let t = ttl.to_string();
        let mut argv: Vec<&[u8]> = vec![b"RESTORE", k, t.as_bytes(), &payload];
        if replace {
            argv.push(b"REPLACE");
        }
        resp::encode::command(&mut buf, &argv);
        moved.push(k.clone());
    }
    let outcome = crate::script::busy::blocking(|| {
        let links = c.eng.migrate_links_mut();
        let Some(link) = links.get(host, port, timeout, now / 1000, tls.clone()) else {
            return Err((true, false));
        };
        if let Err(e) = link.send(&buf, timeout) {
            return Err((true, crate::migrate::is_timeout(&e)));
        }
        let mut first_err: Option<Vec<u8>> = None;
        let read = |link: &mut crate::migrate::Link| {
            link.read_line(timeout)
                .map_err(|e| (false, crate::migrate::is_timeout(&e)))
        };
        // An AUTH or SELECT error fails every RESTORE.
        for _ in 0..usize::from(auth.is_some()) + usize::from(select) {
            let line = read(link)?;
            if line.first() == Some(&b'-') && first_err.is_none() {
                first_err = Some(line);
            }
        }
        let setup_failed = first_err.is_some();
        let mut acked = Vec::new();
        let mut failure = None;
        for i in 0..moved.len() {
            match read(link) {
                Ok(line) if line.first() == Some(&b'-') => {
                    first_err.get_or_insert(line);
                }
                Ok(_) if !setup_failed => acked.push(i),
                Ok(_) => {}
                Err(e) => {
                    failure = Some((i, e));
                    break;
                }
            }
        }
        if first_err.is_some() {
            link.last_dbid = -1;
        }
        Ok((first_err, acked, failure))
    });
    let (first_err, acked, failure) = match outcome {
        Ok(v) => v,
        Err((writing, timed_out)) => return Ok(Attempt::SocketError { writing, timed_out }),
    };
    // The first reply never came and nothing failed on the target: retry
    // (maybe) before anything changes here.
    if let Some((0, (writing, timed_out))) = failure {
        if first_err.is_none() {
            return Ok(Attempt::SocketError { writing, timed_out });
        }
    }
    if failure.is_some() {
        c.eng.migrate_links_mut().close(host, port);
    }
    if !copy && !acked.is_empty() {
        let mut del: Vec<Vec<u8>> = vec![b"DEL".to_vec()];
        for &i in &acked {
            let k = &moved[i];
            c.delete(k);
            c.notify(notify::GENERIC, "del", k);
            c.dirty(1);
            del.push(k.to_vec());
        }
        c.propagate_instead(vec![del]);
    }
    if let Some(e) = first_err {
        return Err(CmdError::msg(format!(
            "ERR Target instance replied with error: {}",
            String::from_utf8_lossy(&e[1..])
        )));
    }
    if failure.is_some() {
        return Err("IOERR error or timeout reading from target instance".into());
    }
    if let Some(link) = c
        .eng
        .migrate_links_mut()
        .get(host, port, timeout, now / 1000, tls)
    {
        link.last_dbid = dbid;
    }
    Ok(Attempt::Done)
}
