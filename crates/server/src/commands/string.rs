//! String commands (Redis's `t_string.c`).
//!
//! Writes propagate in the absolute form Redis 7.0 uses: SET with any
//! expiry becomes `SET k v PXAT ms`, GETEX becomes `PEXPIREAT`/`PERSIST`,
//! GETDEL becomes `DEL`, GETSET becomes `SET`, INCRBYFLOAT becomes
//! `SET k v KEEPTTL`, so that replicas converge whatever their clocks.

use super::f::*;
use super::{cmd, eq, parse_int, CommandSpec, Ctx, KEY1};
use crate::config::notify;
use crate::error::*;
use crate::keyspace::Value;
use crate::util::num;

/// Table rows.
pub static COMMANDS: &[CommandSpec] = &[
    cmd(
        "get",
        2,
        READONLY | FAST,
        KEY1,
        "string",
        "1.0.0",
        "Get the value of a key",
        get,
    ),
    cmd(
        "set",
        -3,
        WRITE | DENYOOM,
        KEY1,
        "string",
        "1.0.0",
        "Set the string value of a key",
        set,
    ),
    cmd(
        "setnx",
        3,
        WRITE | DENYOOM | FAST,
        KEY1,
        "string",
        "1.0.0",
        "Set the value of a key, only if the key does not exist",
        setnx,
    ),
    cmd(
        "setex",
        4,
        WRITE | DENYOOM,
        KEY1,
        "string",
        "2.0.0",
        "Set the value and expiration of a key",
        setex,
    ),
    cmd(
        "psetex",
        4,
        WRITE | DENYOOM,
        KEY1,
        "string",
        "2.6.0",
        "Set the value and expiration in milliseconds of a key",
        psetex,
    ),
    cmd(
        "getset",
        3,
        WRITE | DENYOOM | FAST,
        KEY1,
        "string",
        "1.0.0",
        "Set the string value of a key and return its old value",
        getset,
    ),
    cmd(
        "getdel",
        2,
        WRITE | FAST,
        KEY1,
        "string",
        "6.2.0",
        "Get the value of a key and delete the key",
        getdel,
    ),
    cmd(
        "getex",
        -2,
        WRITE | FAST,
        KEY1,
        "string",
        "6.2.0",
        "Get the value of a key and optionally set its expiration",
        getex,
    ),
    cmd(
        "mget",
        -2,
        READONLY | FAST,
        (1, -1, 1),
        "string",
        "1.0.0",
        "Get the values of all the given keys",
        mget,
    ),
    cmd(
        "mset",
        -3,
        WRITE | DENYOOM,
        (1, -1, 2),
        "string",
        "1.0.1",
        "Set multiple keys to multiple values",
        mset,
    ),
    cmd(
        "msetnx",
        -3,
        WRITE | DENYOOM,
        (1, -1, 2),
        "string",
        "1.0.1",
        "Set multiple keys to multiple values, only if none of the keys exist",
        msetnx,
    ),
    cmd(
        "append",
        3,
        WRITE | DENYOOM | FAST,
        KEY1,
        "string",
        "2.0.0",
        "Append a value to a key",
        append,
    ),
    cmd(
        "strlen",
        2,
        READONLY | FAST,
        KEY1,
        "string",
        "2.2.0",
        "Get the length of the value stored in a key",
        strlen,
    ),
    cmd(
        "setrange",
        4,
        WRITE | DENYOOM,
        KEY1,
        "string",
        "2.2.0",
        "Overwrite part of a string at key starting at the specified offset",
        setrange,
    ),
    cmd(
        "getrange",
        4,
        READONLY,
        KEY1,
        "string",
        "2.4.0",
        "Get a substring of the string stored at a key",
        getrange,
    ),
    cmd(
        "substr",
        4,
        READONLY,
        KEY1,
        "string",
        "1.0.0",
        "Get a substring of the string stored at a key",
        getrange,
    ),
    cmd(
        "incr",
        2,
        WRITE | DENYOOM | FAST,
        KEY1,
        "string",
        "1.0.0",
        "Increment the integer value of a key by one",
        incr,
    ),
    cmd(
        "decr",
        2,
        WRITE | DENYOOM | FAST,
        KEY1,
        "string",
        "1.0.0",
        "Decrement the integer value of a key by one",
        decr,
    ),
    cmd(
        "incrby",
        3,
        WRITE | DENYOOM | FAST,
        KEY1,
        "string",
        "1.0.0",
        "Increment the integer value of a key by the given amount",
        incrby,
    ),
    cmd(
        "decrby",
        3,
        WRITE | DENYOOM | FAST,
        KEY1,
        "string",
        "1.0.0",
        "Decrement the integer value of a key by the given number",
        decrby,
    ),
    cmd(
        "incrbyfloat",
        3,
        WRITE | DENYOOM | FAST,
        KEY1,
        "string",
        "2.6.0",
        "Increment the float value of a key by the given amount",
        incrbyfloat,
    ),
    cmd(
        "lcs",
        -3,
        READONLY,
        (1, 2, 1),
        "string",
        "7.0.0",
        "Find longest common substring",
        lcs,
    ),
];

fn get(c: &mut Ctx) -> CmdResult {
    let Ctx {
        eng,
        cl,
        args,
        out,
        from_master,
        ..
    } = c;
    match super::lookup_read_in(eng, cl.db, &args[1], *from_master) {
        None => resp::encode::null(out, cl.proto),
        Some(e) if e.value.is_string() => super::write_string_value(out, &e.value),
        Some(_) => return Err(WRONGTYPE.into()),
    }
    Ok(())
}

/// SET's options.
#[derive(Default)]
struct SetOpts {
    nx: bool,
    xx: bool,
    get: bool,
    keepttl: bool,
    /// Absolute expiry (ms).
    expire: Option<i64>,
}

/// Turn a relative or absolute time argument into absolute ms, as
/// getExpireMillisecondsOrReply.
fn expire_ms(c: &Ctx, raw: &[u8], unit_secs: bool, relative: bool) -> CmdResult<i64> {
    let n = parse_int(raw)?;
    let bad = || {
        CmdError::msg(format!(
            "ERR invalid expire time in '{}' command",
            c.cmd.name
        ))
    };
    if n <= 0 || (unit_secs && n > i64::MAX / 1000) {
        return Err(bad());
    }
    let mut ms = if unit_secs { n * 1000 } else { n };
    if relative {
        ms = ms.checked_add(c.now()).ok_or_else(bad)?;
    }
    if ms <= 0 {
        return Err(bad());
    }
    Ok(ms)
}

fn parse_set_opts(c: &Ctx, from: usize) -> CmdResult<SetOpts> {
    let mut o = SetOpts::default();
    let mut i = from;
    let mut have_expire = false;
    while i < c.args.len() {
        let a = &c.args[i];
        let next = c.args.get(i + 1);
        if eq(a, "nx") && !o.xx {
            o.nx = true;
        } else if eq(a, "xx") && !o.nx {
            o.xx = true;
        } else if eq(a, "get") {
            o.get = true;
        } else if eq(a, "keepttl") && !have_expire {
            o.keepttl = true;
        } else if (eq(a, "ex") || eq(a, "px") || eq(a, "exat") || eq(a, "pxat"))
            && !o.keepttl
            && !have_expire
            && next.is_some()
        {
            let secs = eq(a, "ex") || eq(a, "exat");
            let rel = eq(a, "ex") || eq(a, "px");
            o.expire = Some(expire_ms(
                c,
                next.map(|b| b.as_ref()).unwrap_or(b""),
                secs,
                rel,
            )?);
            have_expire = true;
            i += 1;
        } else {
            return Err(SYNTAX.into());
        }
        i += 1;
    }
    Ok(o)
}

/// The common SET path. Returns whether the value was set.
fn set_generic(c: &mut Ctx, o: SetOpts, key: &[u8], val: &[u8]) -> CmdResult<bool> {
    if o.get {
        // GET first: errors on a wrong type before anything changes.
        match c.get_string(key)? {
            Some(old) => {
                let old = old.into_owned();
                c.bulk(&old);
            }
            None => c.null(),
        }
    }
    if o.nx || o.xx {
        let found = c.lookup_write(key).is_some();
        if (o.nx && found) || (o.xx && !found) {
            if !o.get {
                c.null();
            }
            return Ok(false);
        }
    } else {
        // Only lazy expiry matters here (an expired key is deleted, with
        // its DEL and event, before the new value goes in).
        c.exists(key);
    }
    let db = c.cl.db;
    let keep = if o.keepttl {
        c.eng
            .keyspace()
            .db(db)
            .get(key)
            .map(|e| e.expire())
            .unwrap_or(-1)
    } else {
        -1
    };
    c.set_key(key, Value::from_bytes(val), o.expire.unwrap_or(keep));
    c.dirty(1);
    c.notify(notify::STRING, "set", key);
    if let Some(ms) = o.expire {
        c.propagate_instead(vec![vec![
            b"SET".to_vec(),
            key.to_vec(),
            val.to_vec(),
            b"PXAT".to_vec(),
            ms.to_string().into_bytes(),
        ]]);
        c.notify(notify::GENERIC, "expire", key);
    } else if o.get {
        let argv: Vec<Vec<u8>> = c
            .args
            .iter()
            .enumerate()
            .filter(|(i, a)| *i < 3 || !eq(a, "get"))
            .map(|(_, a)| a.to_vec())
            .collect();
        c.propagate_instead(vec![argv]);
    }
    if !o.get {
        c.ok();
    }
    Ok(true)
}

fn set(c: &mut Ctx) -> CmdResult {
    let o = parse_set_opts(c, 3)?;
    let (k, v) = (c.args[1].clone(), c.args[2].clone());
    set_generic(c, o, &k, &v).map(|_| ())
}

fn setnx(c: &mut Ctx) -> CmdResult {
    let (k, v) = (c.args[1].clone(), c.args[2].clone());
    if c.lookup_write(&k).is_some() {
        c.int(0);
        return Ok(());
    }
    c.set_key(&k, Value::from_bytes(&v), -1);
    c.dirty(1);
    c.notify(notify::STRING, "set", &k);
    c.int(1);
    Ok(())
}

fn setex_generic(c: &mut Ctx, secs: bool) -> CmdResult {
    let ms = expire_ms(c, &c.args[2].clone(), secs, true)?;
    let (k, v) = (c.args[1].clone(), c.args[3].clone());
    let o = SetOpts {
        expire: Some(ms),
        ..Default::default()
    };
    set_generic(c, o, &k, &v).map(|_| ())
}

fn setex(c: &mut Ctx) -> CmdResult {
    setex_generic(c, true)
}

fn psetex(c: &mut Ctx) -> CmdResult {
    setex_generic(c, false)
}

fn getset(c: &mut Ctx) -> CmdResult {
    let (k, v) = (c.args[1].clone(), c.args[2].clone());
    match c.get_string(&k)? {
        Some(old) => {
            let old = old.into_owned();
            c.bulk(&old);
        }
        None => c.null(),
    }
    c.set_key(&k, Value::from_bytes(&v), -1);
    c.notify(notify::STRING, "set", &k);
    c.dirty(1);
    c.propagate_instead(vec![vec![b"SET".to_vec(), k.to_vec(), v.to_vec()]]);
    Ok(())
}

fn getdel(c: &mut Ctx) -> CmdResult {
    let k = c.args[1].clone();
    match c.get_string(&k)? {
        Some(old) => {
            let old = old.into_owned();
            c.bulk(&old);
        }
        None => {
            c.null();
            return Ok(());
        }
    }
    c.delete(&k);
    let verb: &[u8] = if c.eng.cfg().bool(crate::config::P::lazyfree_lazy_user_del) {
        b"UNLINK"
    } else {
        b"DEL"
    };
    c.propagate_instead(vec![vec![verb.to_vec(), k.to_vec()]]);
    c.notify(notify::GENERIC, "del", &k);
    c.dirty(1);
    Ok(())
}

fn getex(c: &mut Ctx) -> CmdResult {
    let k = c.args[1].clone();
    let mut expire: Option<i64> = None;
    let mut persist = false;
    let mut i = 2;
    while i < c.args.len() {
        let a = c.args[i].clone();
        let next = c.args.get(i + 1).cloned();
        if eq(&a, "persist") && expire.is_none() && !persist {
            persist = true;
        } else if (eq(&a, "ex") || eq(&a, "px") || eq(&a, "exat") || eq(&a, "pxat"))
            && expire.is_none()
            && !persist
            && next.is_some()
        {
            let secs = eq(&a, "ex") || eq(&a, "exat");
            let rel = eq(&a, "ex") || eq(&a, "px");
            expire = Some(expire_ms(c, next.as_deref().unwrap_or(b""), secs, rel)?);
            i += 1;
        } else {
            return Err(SYNTAX.into());
        }
        i += 1;
    }
    match c.get_string(&k)? {
        Some(v) => {
            let v = v.into_owned();
            c.bulk(&v);
        }
        None => {
            c.null();
            return Ok(());
        }
    }
    let db = c.cl.db;
    if let Some(ms) = expire {
        if ms <= c.now() && !c.eng.is_replica() {
            // Already in the past: delete, as Redis's checkAlreadyExpired.
            c.delete(&k);
            c.propagate_instead(vec![vec![b"DEL".to_vec(), k.to_vec()]]);
            c.notify(notify::GENERIC, "del", &k);
        } else {
            c.eng.keyspace_mut().db_mut(db).set_expire(&k, ms);
            c.modified(&k);
            c.propagate_instead(vec![vec![
                b"PEXPIREAT".to_vec(),
                k.to_vec(),
                ms.to_string().into_bytes(),
            ]]);
            c.notify(notify::GENERIC, "expire", &k);
        }
        c.dirty(1);
    } else if persist {
        if c.eng
            .keyspace()
            .db(db)
            .get(&k)
            .is_some_and(|e| e.expire() >= 0)
        {
            c.eng.keyspace_mut().db_mut(db).set_expire(&k, -1);
            c.modified(&k);
            c.propagate_instead(vec![vec![b"PERSIST".to_vec(), k.to_vec()]]);
            c.notify(notify::GENERIC, "persist", &k);
            c.dirty(1);
        }
    }
    Ok(())
}

fn mget(c: &mut Ctx) -> CmdResult {
    let Ctx {
        eng,
        cl,
        args,
        out,
        from_master,
        ..
    } = c;
    resp::encode::array_len(out, args.len() - 1);
    for k in &args[1..] {
        match super::lookup_read_in(eng, cl.db, k, *from_master) {
            Some(e) if e.value.is_string() => super::write_string_value(out, &e.value),
            _ => resp::encode::null(out, cl.proto),
        }
    }
    Ok(())
}

fn mset_generic(c: &mut Ctx, nx: bool) -> CmdResult {
    if c.args.len() % 2 == 0 {
        return Err(CmdError::arity(c.cmd.name));
    }
    if nx {
        for i in (1..c.args.len()).step_by(2) {
            let k = c.args[i].clone();
            if c.lookup_write(&k).is_some() {
                c.int(0);
                return Ok(());
            }
        }
    }
    for i in (1..c.args.len()).step_by(2) {
        let (k, v) = (c.args[i].clone(), c.args[i + 1].clone());
        c.set_key(&k, Value::from_bytes(&v), -1);
        c.notify(notify::STRING, "set", &k);
    }
    c.dirty(((c.args.len() - 1) / 2) as u64);
    if nx {
        c.int(1);
    } else {
        c.ok();
    }
    Ok(())
}

fn mset(c: &mut Ctx) -> CmdResult {
    mset_generic(c, false)
}

fn msetnx(c: &mut Ctx) -> CmdResult {
    mset_generic(c, true)
}

/// Largest string a write may produce (proto-max-bulk-len).
fn check_len(c: &Ctx, total: u64) -> CmdResult {
    if total > c.eng.cfg().int(crate::config::P::proto_max_bulk_len) as u64 {
        return Err(STRING_TOO_LONG.into());
    }
    Ok(())
}

fn append(c: &mut Ctx) -> CmdResult {
    let (k, v) = (c.args[1].clone(), c.args[2].clone());
    let len;
    match c.lookup_write(&k) {
        None => {
            c.set_key(&k, Value::from_bytes(&v), -1);
            len = v.len();
        }
        Some(e) => {
            if !e.value.is_string() {
                return Err(WRONGTYPE.into());
            }
            let cur = e.value.str_len();
            check_len(c, (cur + v.len()) as u64)?;
            let db = c.cl.db;
            let e = c
                .eng
                .keyspace_mut()
                .db_mut(db)
                .get_mut(&k)
                .ok_or(CmdError::fixed(NO_SUCH_KEY))?;
            let buf = e.value.make_raw().ok_or(CmdError::fixed(WRONGTYPE))?;
            buf.extend_from_slice(&v);
            len = buf.len();
            c.modified(&k);
        }
    }
    c.notify(notify::STRING, "append", &k);
    c.dirty(1);
    c.int(len as i64);
    Ok(())
}

fn strlen(c: &mut Ctx) -> CmdResult {
    let k = c.args[1].clone();
    let n = match c.lookup_read(&k) {
        None => 0,
        Some(e) if e.value.is_string() => e.value.str_len(),
        Some(_) => return Err(WRONGTYPE.into()),
    };
    c.int(n as i64);
    Ok(())
}

fn setrange(c: &mut Ctx) -> CmdResult {
    let k = c.args[1].clone();
    let off = parse_int(&c.args[2])?;
    let v = c.args[3].clone();
    if off < 0 {
        return Err("ERR offset is out of range".into());
    }
    let off = off as usize;
    let exists = match c.lookup_write(&k) {
        None => false,
        Some(e) if e.value.is_string() => true,
        Some(_) => return Err(WRONGTYPE.into()),
    };
    if !exists {
        if v.is_empty() {
            c.int(0);
            return Ok(());
        }
        check_len(c, (off + v.len()) as u64)?;
        let mut buf = vec![0u8; off + v.len()];
        buf[off..].copy_from_slice(&v);
        c.set_key(&k, Value::Raw(Box::new(buf)), -1);
        c.notify(notify::STRING, "setrange", &k);
        c.dirty(1);
        c.int((off + v.len()) as i64);
        return Ok(());
    }
    let db = c.cl.db;
    let cur = c
        .eng
        .keyspace()
        .db(db)
        .get(&k)
        .map(|e| e.value.str_len())
        .unwrap_or(0);
    if v.is_empty() {
        c.int(cur as i64);
        return Ok(());
    }
    check_len(c, (off + v.len()) as u64)?;
    let e = c
        .eng
        .keyspace_mut()
        .db_mut(db)
        .get_mut(&k)
        .ok_or(CmdError::fixed(NO_SUCH_KEY))?;
    let buf = e.value.make_raw().ok_or(CmdError::fixed(WRONGTYPE))?;
    if buf.len() < off + v.len() {
        buf.resize(off + v.len(), 0);
    }
    buf[off..off + v.len()].copy_from_slice(&v);
    let n = buf.len();
    c.modified(&k);
    c.notify(notify::STRING, "setrange", &k);
    c.dirty(1);
    c.int(n as i64);
    Ok(())
}

fn getrange(c: &mut Ctx) -> CmdResult {
    let k = c.args[1].clone();
    let start = parse_int(&c.args[2])?;
    let end = parse_int(&c.args[3])?;
    let s = match c.get_string(&k)? {
        None => {
            c.bulk(b"");
            return Ok(());
        }
        Some(s) => s.into_owned(),
    };
    let len = s.len() as i64;
    if start < 0 && end < 0 && start > end {
        c.bulk(b"");
        return Ok(());
    }
    let mut start = if start < 0 { len + start } else { start };
    let mut end = if end < 0 { len + end } else { end };
    if start < 0 {
        start = 0;
    }
    if end < 0 {
        end = 0;
    }
    if end >= len {
        end = len - 1;
    }
    if start > end || len == 0 {
        c.bulk(b"");
    } else {
        c.bulk(&s[start as usize..=end as usize]);
    }
    Ok(())
}

fn incr_generic(c: &mut Ctx, by: i64) -> CmdResult {
    let k = c.args[1].clone();
    let db = c.cl.db;
    let cur = match c.lookup_write(&k) {
        None => None,
        Some(e) => match &e.value {
            Value::Int(n) => Some(*n),
            v if v.is_string() => {
                let b = v.as_bytes().map(|b| b.into_owned()).unwrap_or_default();
                Some(num::parse_i64(&b).ok_or(CmdError::fixed(NOT_INT))?)
            }
            _ => return Err(WRONGTYPE.into()),
        },
    };
    let old = cur.unwrap_or(0);
    let new = old.checked_add(by).ok_or(CmdError::fixed(OVERFLOW))?;
    match cur {
        Some(_) => {
            c.eng
                .keyspace_mut()
                .db_mut(db)
                .overwrite(&k, Value::Int(new));
            c.modified(&k);
        }
        None => c.set_key(&k, Value::Int(new), -1),
    }
    c.notify(notify::STRING, "incrby", &k);
    c.dirty(1);
    c.int(new);
    Ok(())
}

fn incr(c: &mut Ctx) -> CmdResult {
    incr_generic(c, 1)
}

fn decr(c: &mut Ctx) -> CmdResult {
    incr_generic(c, -1)
}

fn incrby(c: &mut Ctx) -> CmdResult {
    let by = parse_int(&c.args[2])?;
    incr_generic(c, by)
}

fn decrby(c: &mut Ctx) -> CmdResult {
    let by = parse_int(&c.args[2])?;
    if by == i64::MIN {
        return Err("ERR decrement would overflow".into());
    }
    incr_generic(c, -by)
}

fn incrbyfloat(c: &mut Ctx) -> CmdResult {
    let k = c.args[1].clone();
    let db = c.cl.db;
    let cur: Option<Vec<u8>> = match c.lookup_write(&k) {
        None => None,
        Some(e) => match e.value.as_bytes() {
            Some(b) => Some(b.into_owned()),
            None => return Err(WRONGTYPE.into()),
        },
    };
    let s =
        crate::util::ldouble::incr_by_float(cur.as_deref(), &c.args[2]).map_err(|e| match e {
            crate::util::ldouble::IncrFloatError::NanOrInf => {
                CmdError::fixed("ERR increment would produce NaN or Infinity")
            }
            _ => CmdError::fixed(NOT_FLOAT),
        })?;
    match cur {
        Some(_) => {
            c.eng
                .keyspace_mut()
                .db_mut(db)
                .overwrite(&k, Value::from_bytes(s.as_bytes()));
            c.modified(&k);
        }
        None => c.set_key(&k, Value::from_bytes(s.as_bytes()), -1),
    }
    c.notify(notify::STRING, "incrbyfloat", &k);
    c.dirty(1);
    c.bulk(s.as_bytes());
    c.propagate_instead(vec![vec![
        b"SET".to_vec(),
        k.to_vec(),
        s.into_bytes(),
        b"KEEPTTL".to_vec(),
    ]]);
    Ok(())
}

fn lcs(c: &mut Ctx) -> CmdResult {
    let (ka, kb) = (c.args[1].clone(), c.args[2].clone());
    let read = |c: &mut Ctx, k: &[u8]| -> CmdResult<Vec<u8>> {
        match c.lookup_read(k) {
            None => Ok(Vec::new()),
            Some(e) => e
                .value
                .as_bytes()
                .map(|b| b.into_owned())
                .ok_or(CmdError::fixed(
                    "ERR The specified keys must contain string values",
                )),
        }
    };
    let a = read(c, &ka)?;
    let b = read(c, &kb)?;
    let (mut getlen, mut getidx, mut withlen, mut minlen) = (false, false, false, 0i64);
    let mut i = 3;
    while i < c.args.len() {
        let o = &c.args[i];
        if eq(o, "idx") {
            getidx = true;
        } else if eq(o, "len") {
            getlen = true;
        } else if eq(o, "withmatchlen") {
            withlen = true;
        } else if eq(o, "minmatchlen") && i + 1 < c.args.len() {
            minlen = parse_int(&c.args[i + 1])?.max(0);
            i += 1;
        } else {
            return Err(SYNTAX.into());
        }
        i += 1;
    }
    if getlen && getidx {
        return Err("ERR If you want both the length and indexes, please just use IDX.".into());
    }
    let (al, bl) = (a.len(), b.len());
    let cells = (al as u64 + 1) * (bl as u64 + 1) * 4;
    if cells > c.eng.cfg().int(crate::config::P::proto_max_bulk_len) as u64 {
        return Err(
            "ERR Insufficient memory, transient memory for LCS exceeds proto-max-bulk-len".into(),
        );
    }
    let w = bl + 1;
    let mut t = vec![0u32; (al + 1) * w];
    for i in 1..=al {
        for j in 1..=bl {
            t[i * w + j] = if a[i - 1] == b[j - 1] {
                t[(i - 1) * w + j - 1] + 1
            } else {
                t[(i - 1) * w + j].max(t[i * w + j - 1])
            };
        }
    }
    let len = t[al * w + bl] as usize;
    if getlen {
        c.int(len as i64);
        return Ok(());
    }
    // Walk back from the end, collecting the LCS and its matching ranges.
    let mut res = vec![0u8; len];
    let mut ranges: Vec<((usize, usize), (usize, usize), usize)> = Vec::new();
    let (mut i, mut j, mut idx) = (al, bl, len);
    let mut cur: Option<(usize, usize, usize, usize)> = None; // a_start,a_end,b_start,b_end
    let flush = |cur: &mut Option<(usize, usize, usize, usize)>, ranges: &mut Vec<_>| {
        if let Some((as_, ae, bs, be)) = cur.take() {
            let mlen = ae - as_ + 1;
            if mlen as i64 >= minlen {
                ranges.push(((as_, ae), (bs, be), mlen));
            }
        }
    };
    while i > 0 && j > 0 {
        if a[i - 1] == b[j - 1] {
            idx -= 1;
            res[idx] = a[i - 1];
            match &mut cur {
                Some((as_, _, bs, _)) if *as_ == i && *bs == j => {
                    *as_ = i - 1;
                    *bs = j - 1;
                }
                _ => {
                    flush(&mut cur, &mut ranges);
                    cur = Some((i - 1, i - 1, j - 1, j - 1));
                }
            }
            i -= 1;
            j -= 1;
        } else if t[(i - 1) * w + j] > t[i * w + j - 1] {
            i -= 1;
        } else {
            j -= 1;
        }
    }
    flush(&mut cur, &mut ranges);
    if !getidx {
        c.bulk(&res);
        return Ok(());
    }
    c.map(2);
    c.bulk(b"matches");
    c.array(ranges.len());
    for ((as_, ae), (bs, be), mlen) in &ranges {
        c.array(if withlen { 3 } else { 2 });
        c.array(2);
        c.int(*as_ as i64);
        c.int(*ae as i64);
        c.array(2);
        c.int(*bs as i64);
        c.int(*be as i64);
        if withlen {
            c.int(*mlen as i64);
        }
    }
    c.bulk(b"len");
    c.int(len as i64);
    Ok(())
}
