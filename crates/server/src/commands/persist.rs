//! Persistence commands: SAVE and BGSAVE (Redis's `rdb.c` command half),
//! DUMP and RESTORE (`cluster.c`), whose payloads are RDB values with
//! Redis's footer so they move between relica and Redis. The snapshot
//! machinery lives in `crate::persist`.

use super::f::*;
use super::{cmd, eq, parse_int, CommandSpec, Ctx, KEY1, NOKEYS};
use crate::config::notify;
use crate::error::{CmdError, CmdResult, SYNTAX};
use crate::persist::snapshot;

/// The persistence commands.
pub static COMMANDS: &[CommandSpec] = &[
    cmd(
        "save",
        1,
        ADMIN | NOSCRIPT | NO_MULTI | NO_ASYNC_LOADING,
        NOKEYS,
        "server",
        "1.0.0",
        "Synchronously save the dataset to disk",
        save,
    ),
    cmd(
        "bgsave",
        -1,
        ADMIN | NOSCRIPT | NO_ASYNC_LOADING,
        NOKEYS,
        "server",
        "1.0.0",
        "Asynchronously save the dataset to disk",
        bgsave,
    ),
    cmd(
        "dump",
        2,
        READONLY,
        KEY1,
        "generic",
        "2.6.0",
        "Return a serialized version of the value stored at the specified key.",
        dump,
    ),
    cmd(
        "restore",
        -4,
        WRITE | DENYOOM,
        KEY1,
        "generic",
        "2.6.0",
        "Create a key using the provided serialized value, previously obtained using DUMP.",
        restore,
    ),
    // What MIGRATE sends a cluster node importing the key's slot; on a
    // standalone server it is RESTORE (a real master's MIGRATE target may
    // replicate it to us).
    cmd(
        "restore-asking",
        -4,
        WRITE | DENYOOM | ASKING,
        KEY1,
        "server",
        "3.0.0",
        "An internal command for migrating keys in a cluster",
        restore,
    ),
];

fn dump(c: &mut Ctx) -> CmdResult {
    let k = c.args[1].clone();
    let Some(e) = c.lookup_read(&k) else {
        c.null();
        return Ok(());
    };
    let payload = rdb::dump_payload(&crate::persist::to_rdb(&e.value), 10);
    c.bulk(&payload);
    Ok(())
}

fn restore(c: &mut Ctx) -> CmdResult {
    let (mut replace, mut absttl) = (false, false);
    let (mut idle, mut freq): (Option<i64>, Option<i64>) = (None, None);
    let mut j = 4;
    while j < c.args.len() {
        let more = c.args.len() - j - 1;
        let a = &c.args[j];
        if eq(a, "replace") {
            replace = true;
        } else if eq(a, "absttl") {
            absttl = true;
        } else if eq(a, "idletime") && more >= 1 && freq.is_none() {
            let v = parse_int(&c.args[j + 1])?;
            if v < 0 {
                return Err("ERR Invalid IDLETIME value, must be >= 0".into());
            }
            idle = Some(v);
            j += 1;
        } else if eq(a, "freq") && more >= 1 && idle.is_none() {
            let v = parse_int(&c.args[j + 1])?;
            if !(0..=255).contains(&v) {
                return Err("ERR Invalid FREQ value, must be >= 0 and <= 255".into());
            }
            freq = Some(v);
            j += 1;
        } else {
            return Err(SYNTAX.into());
        }
        j += 1;
    }
    let k = c.args[1].clone();
    if !replace && c.exists(&k) {
        return Err("BUSYKEY Target key name already exists.".into());
    }
    let mut ttl = parse_int(&c.args[2])?;
    if ttl < 0 {
        return Err("ERR Invalid TTL value, must be >= 0".into());
    }
    let verify_crc = !c.eng.persist().skip_checksum();
    let value = match rdb::restore_payload_checked(&c.args[3], verify_crc) {
        Ok((_, v)) => v,
        Err(rdb::Error::BadDumpPayload) => {
            return Err("ERR DUMP payload version or checksum are wrong".into())
        }
        Err(e) => {
            // Redis's rdbReportError in a RESTORE: logged at verbose level,
            // the command answers the error and the server goes on.
            tracing::debug!("{}", crate::persist::load::corrupt_line(&e));
            return Err("ERR Bad data format".into());
        }
    };
    let lim = crate::persist::load::Limits::of(c.eng);
    let value = crate::persist::load::from_rdb(value, &lim)
        .ok_or(CmdError::fixed("ERR Bad data format"))?;
    let deleted = replace && c.delete(&k);
    if ttl != 0 && !absttl {
        ttl = ttl.saturating_add(c.now());
    }
    if ttl != 0 && ttl <= c.now() && !c.from_master && !c.eng.is_replica() {
        // Already expired: nothing is created (an old key was deleted).
        if deleted {
            c.notify(notify::GENERIC, "del", &k);
            c.dirty(1);
            c.propagate_instead(vec![vec![b"DEL".to_vec(), k.to_vec()]]);
        }
        c.ok();
        return Ok(());
    }
    let db = c.cl.db;
    let field = c.eng.access_field(idle, freq.map(|f| f as u32));
    c.eng
        .keyspace_mut()
        .db_mut(db)
        .insert(&k, value, if ttl != 0 { ttl } else { -1 }, field);
    c.modified(&k);
    if ttl != 0 && !absttl {
        // Propagate the TTL as an absolute time.
        let mut argv: Vec<Vec<u8>> = c.args.iter().map(|a| a.to_vec()).collect();
        argv[2] = ttl.to_string().into_bytes();
        argv.push(b"ABSTTL".to_vec());
        c.propagate_instead(vec![argv]);
    }
    c.notify(notify::GENERIC, "restore", &k);
    c.dirty(1);
    c.ok();
    Ok(())
}

fn save(c: &mut Ctx) -> CmdResult {
    if c.eng.persist().saving() {
        return Err("ERR Background save already in progress".into());
    }
    crate::persist::save_blocking(c.eng).map_err(|_| crate::error::CmdError::fixed("ERR"))?;
    c.ok();
    Ok(())
}

fn bgsave(c: &mut Ctx) -> CmdResult {
    // SCHEDULE matters in Redis only while another child (an AOF
    // rewrite) runs; with no forks it changes nothing here.
    match c.args.len() {
        1 => {}
        2 if eq(&c.args[1], "schedule") => {}
        _ => return Err(SYNTAX.into()),
    }
    if c.eng.persist().saving_rdb() {
        return Err("ERR Background save already in progress".into());
    }
    if c.eng.aof().rewriting() || c.eng.persist().saving() {
        if c.args.len() == 2 {
            c.eng.persist_mut().schedule();
            c.simple("Background saving scheduled");
            return Ok(());
        }
        return Err("ERR An AOF log rewriting in progress: can't BGSAVE right now. Use BGSAVE SCHEDULE in order to schedule a BGSAVE whenever possible.".into());
    }
    if c.eng.repl().in_unit() {
        // Inside EXEC Redis defers the fork to the cron; so do we.
        c.eng.persist_mut().schedule();
        c.simple("Background saving scheduled");
        return Ok(());
    }
    snapshot::start_bgsave(c.eng).map_err(crate::error::CmdError::msg)?;
    c.simple("Background saving started");
    Ok(())
}
