//! Generic key commands (Redis's `db.c` and `expire.c`): existence,
//! deletion, renaming, copying, iteration and expiry.

use super::f::*;
use super::{cmd, container, eq, parse_int, CommandSpec, Ctx, KEY1, NOKEYS};
use crate::config::{notify, P};
use crate::error::*;
use crate::keyspace::{Key, Value, ValueType};

/// Table rows.
pub static COMMANDS: &[CommandSpec] = &[
    cmd(
        "del",
        -2,
        WRITE,
        (1, -1, 1),
        "generic",
        "1.0.0",
        "Delete a key",
        del,
    ),
    cmd(
        "unlink",
        -2,
        WRITE | FAST,
        (1, -1, 1),
        "generic",
        "4.0.0",
        "Delete a key asynchronously in another thread",
        del,
    ),
    cmd(
        "exists",
        -2,
        READONLY | FAST,
        (1, -1, 1),
        "generic",
        "1.0.0",
        "Determine if a key exists",
        exists,
    ),
    cmd(
        "type",
        2,
        READONLY | FAST,
        KEY1,
        "generic",
        "1.0.0",
        "Determine the type stored at key",
        type_,
    ),
    cmd(
        "rename",
        3,
        WRITE,
        (1, 2, 1),
        "generic",
        "1.0.0",
        "Rename a key",
        rename,
    ),
    cmd(
        "renamenx",
        3,
        WRITE | FAST,
        (1, 2, 1),
        "generic",
        "1.0.0",
        "Rename a key, only if the new key does not exist",
        renamenx,
    ),
    cmd(
        "copy",
        -3,
        WRITE | DENYOOM,
        (1, 2, 1),
        "generic",
        "6.2.0",
        "Copy a key",
        copy,
    ),
    cmd(
        "move",
        3,
        WRITE | FAST,
        KEY1,
        "generic",
        "1.0.0",
        "Move a key to another database",
        move_,
    ),
    cmd(
        "keys",
        2,
        READONLY,
        NOKEYS,
        "generic",
        "1.0.0",
        "Find all keys matching the given pattern",
        keys,
    ),
    cmd(
        "scan",
        -2,
        READONLY,
        NOKEYS,
        "generic",
        "2.8.0",
        "Incrementally iterate the keys space",
        scan,
    ),
    cmd(
        "randomkey",
        1,
        READONLY,
        NOKEYS,
        "generic",
        "1.0.0",
        "Return a random key from the keyspace",
        randomkey,
    ),
    cmd(
        "touch",
        -2,
        READONLY | FAST,
        (1, -1, 1),
        "generic",
        "3.2.1",
        "Alters the last access time of a key(s). Returns the number of existing keys specified.",
        touch,
    ),
    cmd(
        "expire",
        -3,
        WRITE | FAST,
        KEY1,
        "generic",
        "1.0.0",
        "Set a key's time to live in seconds",
        expire,
    ),
    cmd(
        "pexpire",
        -3,
        WRITE | FAST,
        KEY1,
        "generic",
        "2.6.0",
        "Set a key's time to live in milliseconds",
        pexpire,
    ),
    cmd(
        "expireat",
        -3,
        WRITE | FAST,
        KEY1,
        "generic",
        "1.2.0",
        "Set the expiration for a key as a UNIX timestamp",
        expireat,
    ),
    cmd(
        "pexpireat",
        -3,
        WRITE | FAST,
        KEY1,
        "generic",
        "2.6.0",
        "Set the expiration for a key as a UNIX timestamp specified in milliseconds",
        pexpireat,
    ),
    cmd(
        "ttl",
        2,
        READONLY | FAST,
        KEY1,
        "generic",
        "1.0.0",
        "Get the time to live for a key in seconds",
        ttl,
    ),
    cmd(
        "pttl",
        2,
        READONLY | FAST,
        KEY1,
        "generic",
        "2.6.0",
        "Get the time to live for a key in milliseconds",
        pttl,
    ),
    cmd(
        "expiretime",
        2,
        READONLY | FAST,
        KEY1,
        "generic",
        "7.0.0",
        "Get the expiration Unix timestamp for a key",
        expiretime,
    ),
    cmd(
        "pexpiretime",
        2,
        READONLY | FAST,
        KEY1,
        "generic",
        "7.0.0",
        "Get the expiration Unix timestamp for a key in milliseconds",
        pexpiretime,
    ),
    cmd(
        "persist",
        2,
        WRITE | FAST,
        KEY1,
        "generic",
        "2.2.0",
        "Remove the expiration from a key",
        persist,
    ),
    container(
        "object",
        "generic",
        "2.2.3",
        "A container for object introspection commands",
        OBJECT,
    ),
];

static OBJECT: &[CommandSpec] = &[
    cmd(
        "encoding",
        3,
        READONLY,
        (2, 2, 1),
        "generic",
        "2.2.3",
        "Inspect the internal encoding of a Redis object",
        object_encoding,
    ),
    cmd(
        "freq",
        3,
        READONLY,
        (2, 2, 1),
        "generic",
        "4.0.0",
        "Get the logarithmic access frequency counter of a Redis object",
        object_freq,
    ),
    cmd(
        "idletime",
        3,
        READONLY,
        (2, 2, 1),
        "generic",
        "2.2.3",
        "Get the time since a Redis object was last accessed",
        object_idletime,
    ),
    cmd(
        "refcount",
        3,
        READONLY,
        (2, 2, 1),
        "generic",
        "2.2.3",
        "Get the number of references to the value of the key",
        object_refcount,
    ),
    cmd(
        "help",
        2,
        LOADING | STALE,
        NOKEYS,
        "generic",
        "6.2.0",
        "Show helpful text about the different subcommands",
        object_help,
    ),
];

fn del(c: &mut Ctx) -> CmdResult {
    let mut n = 0;
    let lazy = c.cmd.name == "unlink" || c.eng.cfg().bool(P::lazyfree_lazy_user_del);
    for i in 1..c.args.len() {
        let k = c.args[i].clone();
        if c.delete_lazy(&k, lazy) {
            c.notify(notify::GENERIC, "del", &k);
            c.dirty(1);
            n += 1;
        }
    }
    c.int(n);
    Ok(())
}

fn exists(c: &mut Ctx) -> CmdResult {
    let mut n = 0;
    for i in 1..c.args.len() {
        let k = c.args[i].clone();
        if c.lookup_read_notouch(&k).is_some() {
            n += 1;
        }
    }
    c.int(n);
    Ok(())
}

fn type_(c: &mut Ctx) -> CmdResult {
    let k = c.args[1].clone();
    let t = c
        .lookup_read_notouch(&k)
        .map(|e| e.value.kind().name())
        .unwrap_or("none");
    c.simple(t);
    Ok(())
}

fn rename_generic(c: &mut Ctx, nx: bool) -> CmdResult {
    let (src, dst) = (c.args[1].clone(), c.args[2].clone());
    if c.lookup_write(&src).is_none() {
        return Err(NO_SUCH_KEY.into());
    }
    if src == dst {
        if nx {
            c.int(0);
        } else {
            c.ok();
        }
        return Ok(());
    }
    if c.lookup_write(&dst).is_some() {
        if nx {
            c.int(0);
            return Ok(());
        }
        c.delete(&dst);
    }
    let db = c.cl.db;
    let e = c
        .eng
        .keyspace_mut()
        .db_mut(db)
        .remove(&src)
        .ok_or(CmdError::fixed(NO_SUCH_KEY))?;
    let (lru, expire) = (e.lru, e.expire());
    c.eng
        .keyspace_mut()
        .db_mut(db)
        .insert(&dst, e.value, expire, lru);
    c.notify(notify::NEW, "new", &dst);
    c.modified(&src);
    c.modified(&dst);
    c.notify(notify::GENERIC, "rename_from", &src);
    c.notify(notify::GENERIC, "rename_to", &dst);
    c.eng.keyspace_mut().signal_ready(db, &dst);
    c.dirty(1);
    if nx {
        c.int(1);
    } else {
        c.ok();
    }
    Ok(())
}

fn rename(c: &mut Ctx) -> CmdResult {
    rename_generic(c, false)
}

fn renamenx(c: &mut Ctx) -> CmdResult {
    rename_generic(c, true)
}

fn parse_db(c: &Ctx, b: &[u8]) -> CmdResult<usize> {
    let n = crate::util::num::parse_i64(b).ok_or(CmdError::fixed(
        "ERR value is not an integer or out of range",
    ))?;
    if n < 0 || n as usize >= c.eng.keyspace().num_dbs() {
        return Err(DB_RANGE.into());
    }
    Ok(n as usize)
}

fn copy(c: &mut Ctx) -> CmdResult {
    let (src, dst) = (c.args[1].clone(), c.args[2].clone());
    let mut dstdb = c.cl.db;
    let mut replace = false;
    let mut i = 3;
    while i < c.args.len() {
        if eq(&c.args[i], "replace") {
            replace = true;
        } else if eq(&c.args[i], "db") && i + 1 < c.args.len() {
            dstdb = parse_db(c, &c.args[i + 1].clone())?;
            i += 1;
        } else {
            return Err(SYNTAX.into());
        }
        i += 1;
    }
    let srcdb = c.cl.db;
    if srcdb == dstdb && src == dst {
        return Err("ERR source and destination objects are the same".into());
    }
    let Some(e) = c.lookup_read(&src) else {
        c.int(0);
        return Ok(());
    };
    let (value, expire) = (e.value.clone(), e.expire());
    let dst_exists = !crate::keyspace::expire::expire_if_needed(c.eng, dstdb, &dst, c.from_master);
    if dst_exists {
        if !replace {
            c.int(0);
            return Ok(());
        }
        c.eng.keyspace_mut().db_mut(dstdb).remove(&dst);
    }
    let lru = c.eng.lru_clock();
    c.eng
        .keyspace_mut()
        .db_mut(dstdb)
        .insert(&dst, value, expire, lru);
    c.eng.notify_keyspace(notify::NEW, "new", dstdb, &dst);
    c.eng.keyspace_mut().touch_watched(dstdb, &dst);
    c.eng.tracking_invalidate(&dst, c.cl.id);
    c.eng
        .notify_keyspace(notify::GENERIC, "copy_to", dstdb, &dst);
    c.eng.keyspace_mut().signal_ready(dstdb, &dst);
    c.dirty(1);
    c.int(1);
    Ok(())
}

fn move_(c: &mut Ctx) -> CmdResult {
    let k = c.args[1].clone();
    let dstdb = parse_db(c, &c.args[2].clone())?;
    let srcdb = c.cl.db;
    if srcdb == dstdb {
        return Err("ERR source and destination objects are the same".into());
    }
    if c.lookup_write(&k).is_none() {
        c.int(0);
        return Ok(());
    }
    if !crate::keyspace::expire::expire_if_needed(c.eng, dstdb, &k, c.from_master) {
        c.int(0);
        return Ok(());
    }
    let e = c
        .eng
        .keyspace_mut()
        .db_mut(srcdb)
        .remove(&k)
        .ok_or(CmdError::fixed(NO_SUCH_KEY))?;
    let lru = e.lru;
    let expire = e.expire();
    c.eng
        .keyspace_mut()
        .db_mut(dstdb)
        .insert(&k, e.value, expire, lru);
    c.eng.notify_keyspace(notify::NEW, "new", dstdb, &k);
    c.eng.keyspace_mut().touch_watched(srcdb, &k);
    c.eng.keyspace_mut().touch_watched(dstdb, &k);
    c.eng.tracking_invalidate(&k, c.cl.id);
    c.eng.tracking_invalidate(&k, c.cl.id);
    c.eng
        .notify_keyspace(notify::GENERIC, "move_from", srcdb, &k);
    c.eng.notify_keyspace(notify::GENERIC, "move_to", dstdb, &k);
    c.eng.keyspace_mut().signal_ready(dstdb, &k);
    c.dirty(1);
    c.int(1);
    Ok(())
}

fn keys(c: &mut Ctx) -> CmdResult {
    let pat = c.args[1].clone();
    let now = c.now();
    let all = pat.as_ref() == b"*";
    let found: Vec<Key> = c
        .eng
        .keyspace()
        .db(c.cl.db)
        .iter()
        .filter(|e| {
            !e.is_expired(now) && (all || crate::util::glob::glob_match(&pat, &e.key, false))
        })
        .map(|e| e.key.to_boxed())
        .collect();
    c.array(found.len());
    for k in found {
        c.bulk(&k);
    }
    Ok(())
}

/// Parse a SCAN cursor: an unsigned 64-bit decimal.
pub fn parse_cursor(b: &[u8]) -> CmdResult<u64> {
    // Redis's parseScanCursorOrReply: strtoul, so an optional sign (a
    // negative number wraps around), and "" is 0; no leading space, nothing
    // after the digits, no overflow.
    let bad = || CmdError::fixed("ERR invalid cursor");
    let (neg, digits) = match b.first() {
        Some(b'-') => (true, &b[1..]),
        Some(b'+') => (false, &b[1..]),
        _ => (false, b),
    };
    if b.is_empty() {
        return Ok(0);
    }
    if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
        return Err(bad());
    }
    let n: u64 = std::str::from_utf8(digits)
        .ok()
        .and_then(|s| s.parse().ok())
        .ok_or_else(bad)?;
    Ok(if neg { n.wrapping_neg() } else { n })
}

/// SCAN-family options: MATCH, COUNT, TYPE (TYPE only for SCAN).
pub struct ScanOpts {
    /// MATCH pattern.
    pub pattern: Option<bytes::Bytes>,
    /// COUNT hint.
    pub count: usize,
    /// TYPE filter.
    pub kind: Option<Option<ValueType>>,
}

/// Parse SCAN options from argument `from`.
pub fn parse_scan_opts(c: &Ctx, from: usize, allow_type: bool) -> CmdResult<ScanOpts> {
    let mut o = ScanOpts {
        pattern: None,
        count: 10,
        kind: None,
    };
    let mut i = from;
    while i < c.args.len() {
        let has_next = i + 1 < c.args.len();
        if eq(&c.args[i], "count") && has_next {
            let n = parse_int(&c.args[i + 1])?;
            if n < 1 {
                return Err(SYNTAX.into());
            }
            o.count = n as usize;
        } else if eq(&c.args[i], "match") && has_next {
            o.pattern = Some(c.args[i + 1].clone());
        } else if eq(&c.args[i], "type") && has_next && allow_type {
            o.kind = Some(ValueType::parse(&c.args[i + 1]));
        } else {
            return Err(SYNTAX.into());
        }
        i += 2;
    }
    Ok(o)
}

fn scan(c: &mut Ctx) -> CmdResult {
    let cursor = parse_cursor(&c.args[1])?;
    let o = parse_scan_opts(c, 2, true)?;
    let db = c.cl.db;
    let mut keys = Vec::new();
    let next = c.eng.keyspace().db(db).scan(cursor, o.count, &mut keys);
    let mut res = Vec::with_capacity(keys.len());
    for k in keys {
        if let Some(p) = &o.pattern {
            if !crate::util::glob::glob_match(p, &k, false) {
                continue;
            }
        }
        if crate::keyspace::expire::expire_if_needed(c.eng, db, &k, c.from_master) {
            continue;
        }
        if let Some(t) = o.kind {
            let kt = c.eng.keyspace().db(db).get(&k).map(|e| e.value.kind());
            if t.is_none() || kt != t {
                continue;
            }
        }
        res.push(k);
    }
    c.array(2);
    c.bulk(next.to_string().as_bytes());
    c.array(res.len());
    for k in res {
        c.bulk(&k);
    }
    Ok(())
}

fn randomkey(c: &mut Ctx) -> CmdResult {
    let db = c.cl.db;
    let now = c.now();
    let mut tries = 0;
    loop {
        let (dbs, rng) = c.eng.dbs_and_rng();
        let Some(e) = dbs[db].random_key(rng) else {
            c.null();
            return Ok(());
        };
        let k = e.key.clone();
        let expired = e.is_expired(now);
        if expired {
            tries += 1;
            // On a replica, or while clients are paused, expired keys are
            // not deleted; after enough tries
            // give one back rather than loop for ever (as Redis does).
            if c.eng.is_replica() || c.eng.expiry_paused() {
                if tries > 100 {
                    c.bulk(&k);
                    return Ok(());
                }
                continue;
            }
            crate::keyspace::expire::delete_expired(c.eng, db, &k);
            continue;
        }
        c.bulk(&k);
        return Ok(());
    }
}

fn touch(c: &mut Ctx) -> CmdResult {
    let mut n = 0;
    for i in 1..c.args.len() {
        let k = c.args[i].clone();
        // TOUCH refreshes the access time (Redis's lookupKeyRead).
        if c.lookup_read(&k).is_some() {
            n += 1;
        }
    }
    c.int(n);
    Ok(())
}

/// EXPIRE, PEXPIRE, EXPIREAT, PEXPIREAT.
fn expire_generic(c: &mut Ctx, basetime: i64, unit_secs: bool) -> CmdResult {
    let k = c.args[1].clone();
    let raw = parse_int(&c.args[2])?;
    let (mut nx, mut xx, mut gt, mut lt) = (false, false, false, false);
    for a in &c.args[3..] {
        if eq(a, "nx") {
            nx = true;
        } else if eq(a, "xx") {
            xx = true;
        } else if eq(a, "gt") {
            gt = true;
        } else if eq(a, "lt") {
            lt = true;
        } else {
            return Err(CmdError::msg(format!(
                "ERR Unsupported option {}",
                String::from_utf8_lossy(a)
            )));
        }
    }
    if nx && (xx || gt || lt) {
        return Err("ERR NX and XX, GT or LT options at the same time are not compatible".into());
    }
    if gt && lt {
        return Err("ERR GT and LT options at the same time are not compatible".into());
    }
    let bad = || {
        CmdError::msg(format!(
            "ERR invalid expire time in '{}' command",
            c.cmd.name
        ))
    };
    let mut when = raw;
    if unit_secs {
        when = when.checked_mul(1000).ok_or_else(bad)?;
    }
    when = when.checked_add(basetime).ok_or_else(bad)?;
    let Some(e) = c.lookup_write(&k) else {
        c.int(0);
        return Ok(());
    };
    let cur = e.expire();
    if (nx && cur >= 0)
        || (xx && cur < 0)
        || (gt && (cur < 0 || when <= cur))
        || (lt && cur >= 0 && when >= cur)
    {
        c.int(0);
        return Ok(());
    }
    let db = c.cl.db;
    if when <= c.now() && !c.eng.persist().loading() && !c.from_master {
        // Already expired: delete now and propagate the deletion.
        c.eng.keyspace_mut().db_mut(db).remove(&k);
        let verb: &[u8] = if c.eng.cfg().bool(P::lazyfree_lazy_expire) {
            b"UNLINK"
        } else {
            b"DEL"
        };
        c.propagate_instead(vec![vec![verb.to_vec(), k.to_vec()]]);
        c.modified(&k);
        c.notify(notify::GENERIC, "del", &k);
        c.dirty(1);
        c.int(1);
        return Ok(());
    }
    c.eng.keyspace_mut().db_mut(db).set_expire(&k, when);
    if !eq(&c.args[0], "pexpireat") || unit_secs {
        c.propagate_instead(vec![vec![
            b"PEXPIREAT".to_vec(),
            k.to_vec(),
            when.to_string().into_bytes(),
        ]]);
    }
    c.modified(&k);
    c.notify(notify::GENERIC, "expire", &k);
    c.dirty(1);
    c.int(1);
    Ok(())
}

fn expire(c: &mut Ctx) -> CmdResult {
    let now = c.now();
    expire_generic(c, now, true)
}
fn pexpire(c: &mut Ctx) -> CmdResult {
    let now = c.now();
    expire_generic(c, now, false)
}
fn expireat(c: &mut Ctx) -> CmdResult {
    expire_generic(c, 0, true)
}
fn pexpireat(c: &mut Ctx) -> CmdResult {
    expire_generic(c, 0, false)
}

/// TTL family: which number to report.
enum TtlKind {
    Secs,
    Ms,
    AbsSecs,
    AbsMs,
}

fn ttl_generic(c: &mut Ctx, kind: TtlKind) -> CmdResult {
    let k = c.args[1].clone();
    let now = c.now();
    let Some(e) = c.lookup_read_notouch(&k) else {
        c.int(-2);
        return Ok(());
    };
    let exp = e.expire();
    if exp < 0 {
        c.int(-1);
        return Ok(());
    }
    let left = (exp - now).max(0);
    let v = match kind {
        TtlKind::Secs => (left + 500) / 1000,
        TtlKind::Ms => left,
        TtlKind::AbsSecs => exp / 1000,
        TtlKind::AbsMs => exp,
    };
    c.int(v);
    Ok(())
}

fn ttl(c: &mut Ctx) -> CmdResult {
    ttl_generic(c, TtlKind::Secs)
}
fn pttl(c: &mut Ctx) -> CmdResult {
    ttl_generic(c, TtlKind::Ms)
}
fn expiretime(c: &mut Ctx) -> CmdResult {
    ttl_generic(c, TtlKind::AbsSecs)
}
fn pexpiretime(c: &mut Ctx) -> CmdResult {
    ttl_generic(c, TtlKind::AbsMs)
}

fn persist(c: &mut Ctx) -> CmdResult {
    let k = c.args[1].clone();
    let has_ttl = c.lookup_write(&k).map(|e| e.expire() >= 0);
    if has_ttl != Some(true) {
        c.int(0);
        return Ok(());
    }
    let db = c.cl.db;
    c.eng.keyspace_mut().db_mut(db).set_expire(&k, -1);
    c.modified(&k);
    c.notify(notify::GENERIC, "persist", &k);
    c.dirty(1);
    c.int(1);
    Ok(())
}

fn lfu_policy(c: &Ctx) -> bool {
    c.eng.cfg().str(P::maxmemory_policy).contains("lfu")
}

fn object_encoding(c: &mut Ctx) -> CmdResult {
    let k = c.args[2].clone();
    match c.lookup_read_notouch(&k).map(|e| e.value.encoding()) {
        Some(enc) => c.bulk(enc.as_bytes()),
        None => c.null(),
    }
    Ok(())
}

fn object_freq(c: &mut Ctx) -> CmdResult {
    let k = c.args[2].clone();
    let db = c.cl.db;
    // FREQ must not count its own access.
    if crate::keyspace::expire::expire_if_needed(c.eng, db, &k, c.from_master) {
        c.null();
        return Ok(());
    }
    if !lfu_policy(c) {
        return Err("ERR An LFU maxmemory policy is not selected, access frequency not tracked. Please note that when switching between policies at runtime LRU and LFU data will take some time to adjust.".into());
    }
    let field = c
        .eng
        .keyspace()
        .db(db)
        .get(&k)
        .map(|e| e.access_field())
        .unwrap_or(0);
    let n = c.eng.lfu_counter(field);
    c.int(n as i64);
    Ok(())
}

fn object_idletime(c: &mut Ctx) -> CmdResult {
    let k = c.args[2].clone();
    let db = c.cl.db;
    // IDLETIME must not refresh the access time it reports.
    if crate::keyspace::expire::expire_if_needed(c.eng, db, &k, c.from_master) {
        c.null();
        return Ok(());
    }
    if lfu_policy(c) {
        return Err("ERR An LFU maxmemory policy is selected, idle time not tracked. Please note that when switching between policies at runtime LRU and LFU data will take some time to adjust.".into());
    }
    let now = c.eng.lru_seconds();
    let lru = c
        .eng
        .keyspace()
        .db(db)
        .get(&k)
        .map(|e| e.access_field())
        .unwrap_or(now);
    let idle = if now >= lru {
        now - lru
    } else {
        now + (1 << 24) - lru
    };
    c.int(idle as i64);
    Ok(())
}

fn object_refcount(c: &mut Ctx) -> CmdResult {
    let k = c.args[2].clone();
    match c.lookup_read(&k).map(|e| {
        matches!(e.value, Value::Int(n) if (0..10000).contains(&n))
            && e.lru & crate::keyspace::UNSHARED_INT == 0
    }) {
        // Redis shares the integers 0..9999: their refcount is INT_MAX.
        Some(true) => c.int(i32::MAX as i64),
        Some(false) => c.int(1),
        None => c.null(),
    }
    Ok(())
}

/// Reply with a HELP text as Redis formats it.
pub fn help_reply(c: &mut Ctx, cmd: &str, lines: &[&str]) {
    c.array(lines.len() + 3);
    c.simple(&format!(
        "{} <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
        cmd
    ));
    for l in lines {
        c.simple(l);
    }
    c.simple("HELP");
    // Redis 7.0's addReplyHelp.
    c.simple("    Prints this help.");
}

fn object_help(c: &mut Ctx) -> CmdResult {
    help_reply(
        c,
        "OBJECT",
        &[
            "ENCODING <key>",
            "    Return the kind of internal representation used in order to store the value",
            "    associated with a <key>.",
            "FREQ <key>",
            "    Return the access frequency index of the <key>. The returned integer is",
            "    proportional to the logarithm of the recent access frequency of the key.",
            "IDLETIME <key>",
            "    Return the idle time of the <key>, that is the approximated number of",
            "    seconds elapsed since the last access to the key.",
            "REFCOUNT <key>",
            "    Return the number of references of the value associated with the specified",
            "    <key>.",
        ],
    );
    Ok(())
}
