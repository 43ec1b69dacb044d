//! Hash commands (Redis's t_hash.c "Hash type commands" half).
//!
//! The structure (listpack or hash table, converted past the
//! `hash-max-listpack-*` thresholds) is `types::hash`. Housekeeping follows
//! Redis: the type's keyspace event, `del` when the last field went, WATCH
//! invalidation, and the dirty count. HINCRBYFLOAT computes in x87 long
//! double like Redis and propagates as HSET of the result.

use super::f::*;
use super::keys::{parse_cursor, parse_scan_opts};
use super::{cmd, eq, parse_int, CommandSpec, Ctx, KEY1};
use crate::config::notify;
use crate::error::*;
use crate::keyspace::Value;
use crate::types::hash::Hash;
use crate::util::ldouble::LDouble;

/// The hash commands.
pub static COMMANDS: &[CommandSpec] = &[
    cmd(
        "hset",
        -4,
        WRITE | DENYOOM | FAST,
        KEY1,
        "hash",
        "2.0.0",
        "Set the string value of a hash field",
        hset,
    ),
    cmd(
        "hmset",
        -4,
        WRITE | DENYOOM | FAST,
        KEY1,
        "hash",
        "2.0.0",
        "Set multiple hash fields to multiple values",
        hmset,
    ),
    cmd(
        "hsetnx",
        4,
        WRITE | DENYOOM | FAST,
        KEY1,
        "hash",
        "2.0.0",
        "Set the value of a hash field, only if the field does not exist",
        hsetnx,
    ),
    cmd(
        "hget",
        3,
        READONLY | FAST,
        KEY1,
        "hash",
        "2.0.0",
        "Get the value of a hash field",
        hget,
    ),
    cmd(
        "hmget",
        -3,
        READONLY | FAST,
        KEY1,
        "hash",
        "2.0.0",
        "Get the values of all the given hash fields",
        hmget,
    ),
    cmd(
        "hdel",
        -3,
        WRITE | FAST,
        KEY1,
        "hash",
        "2.0.0",
        "Delete one or more hash fields",
        hdel,
    ),
    cmd(
        "hlen",
        2,
        READONLY | FAST,
        KEY1,
        "hash",
        "2.0.0",
        "Get the number of fields in a hash",
        hlen,
    ),
    cmd(
        "hstrlen",
        3,
        READONLY | FAST,
        KEY1,
        "hash",
        "3.2.0",
        "Get the length of the value of a hash field",
        hstrlen,
    ),
    cmd(
        "hexists",
        3,
        READONLY | FAST,
        KEY1,
        "hash",
        "2.0.0",
        "Determine if a hash field exists",
        hexists,
    ),
    cmd(
        "hgetall",
        2,
        READONLY,
        KEY1,
        "hash",
        "2.0.0",
        "Get all the fields and values in a hash",
        hgetall,
    ),
    cmd(
        "hkeys",
        2,
        READONLY,
        KEY1,
        "hash",
        "2.0.0",
        "Get all the fields in a hash",
        hkeys,
    ),
    cmd(
        "hvals",
        2,
        READONLY,
        KEY1,
        "hash",
        "2.0.0",
        "Get all the values in a hash",
        hvals,
    ),
    cmd(
        "hincrby",
        4,
        WRITE | DENYOOM | FAST,
        KEY1,
        "hash",
        "2.0.0",
        "Increment the integer value of a hash field by the given number",
        hincrby,
    ),
    cmd(
        "hincrbyfloat",
        4,
        WRITE | DENYOOM | FAST,
        KEY1,
        "hash",
        "2.6.0",
        "Increment the float value of a hash field by the given amount",
        hincrbyfloat,
    ),
    cmd(
        "hrandfield",
        -2,
        READONLY,
        KEY1,
        "hash",
        "6.2.0",
        "Get one or multiple random fields from a hash",
        hrandfield,
    ),
    cmd(
        "hscan",
        -3,
        READONLY,
        KEY1,
        "hash",
        "2.8.0",
        "Incrementally iterate hash fields and associated values",
        hscan,
    ),
];

/// Largest |count| HRANDFIELD serves: its reply is built in memory, so an
/// absurd count is refused rather than allowed to exhaust it.
const MAX_RANDOM_COUNT: u64 = 1 << 27;

/// The hash at `key` for writing (None when missing).
fn hash_mut<'c>(c: &'c mut Ctx<'_>, key: &[u8]) -> CmdResult<Option<&'c mut Hash>> {
    match c.lookup_write(key) {
        None => Ok(None),
        Some(e) => match &mut e.value {
            Value::Hash(h) => Ok(Some(h)),
            _ => Err(WRONGTYPE.into()),
        },
    }
}

/// The hash at `key`, created empty when missing (hashTypeLookupWriteOrCreate).
fn hash_or_create<'c>(c: &'c mut Ctx<'_>, key: &[u8]) -> CmdResult<&'c mut Hash> {
    if hash_mut(c, key)?.is_none() {
        c.set_key(key, Value::Hash(Hash::default()), -1);
    }
    hash_mut(c, key)?.ok_or(CmdError::fixed(NO_SUCH_KEY))
}

/// Run `f` on the hash at `key` for reading, with the reply buffer beside
/// it; `missing` when there is no such key.
fn with_hash(
    c: &mut Ctx,
    key: &[u8],
    missing: impl FnOnce(&mut Vec<u8>, resp::encode::Proto),
    f: impl FnOnce(&Hash, &mut Vec<u8>, resp::encode::Proto),
) -> CmdResult {
    super::with_typed(
        c,
        key,
        |v| match v {
            Value::Hash(x) => Some(x),
            _ => None,
        },
        missing,
        f,
    )
}

fn hset_pairs(c: &mut Ctx) -> CmdResult<usize> {
    if c.args.len() % 2 != 0 {
        return Err(CmdError::arity(c.cmd.name));
    }
    let key = c.args[1].clone();
    let lim = c.hash_limits();
    let pairs: Vec<_> = c.args[2..].to_vec();
    let h = hash_or_create(c, &key)?;
    let mut created = 0;
    for p in pairs.chunks(2) {
        if h.set(&p[0], &p[1], &lim) {
            created += 1;
        }
    }
    c.modified(&key);
    c.notify(notify::HASH, "hset", &key);
    c.dirty((pairs.len() / 2) as u64);
    Ok(created)
}

fn hset(c: &mut Ctx) -> CmdResult {
    let n = hset_pairs(c)?;
    c.int(n as i64);
    Ok(())
}

fn hmset(c: &mut Ctx) -> CmdResult {
    hset_pairs(c)?;
    c.ok();
    Ok(())
}

fn hsetnx(c: &mut Ctx) -> CmdResult {
    let (key, f, v) = (c.args[1].clone(), c.args[2].clone(), c.args[3].clone());
    let lim = c.hash_limits();
    let h = hash_or_create(c, &key)?;
    let set = h.set_nx(&f, &v, &lim);
    if set {
        c.modified(&key);
        c.notify(notify::HASH, "hset", &key);
        c.dirty(1);
    }
    c.int(set as i64);
    Ok(())
}

fn hget(c: &mut Ctx) -> CmdResult {
    let (key, f) = (c.args[1].clone(), c.args[2].clone());
    with_hash(c, &key, resp::encode::null, |h, out, p| match h.get(&f) {
        Some(v) => resp::encode::bulk(out, v),
        None => resp::encode::null(out, p),
    })
}

fn hmget(c: &mut Ctx) -> CmdResult {
    let key = c.args[1].clone();
    let fields: Vec<_> = c.args[2..].to_vec();
    let n = fields.len();
    with_hash(
        c,
        &key,
        |out, p| {
            resp::encode::array_len(out, n);
            for _ in 0..n {
                resp::encode::null(out, p);
            }
        },
        |h, out, p| {
            resp::encode::array_len(out, n);
            for f in &fields {
                match h.get(f) {
                    Some(v) => resp::encode::bulk(out, v),
                    None => resp::encode::null(out, p),
                }
            }
        },
    )
}

fn hdel(c: &mut Ctx) -> CmdResult {
    let key = c.args[1].clone();
    let fields: Vec<_> = c.args[2..].to_vec();
    let Some(h) = hash_mut(c, &key)? else {
        c.int(0);
        return Ok(());
    };
    let mut n = 0;
    for f in &fields {
        if h.remove(f) {
            n += 1;
        }
    }
    if n > 0 {
        c.modified(&key);
        c.notify(notify::HASH, "hdel", &key);
        if c.delete_if_empty(&key) {
            c.notify(notify::GENERIC, "del", &key);
        }
        c.dirty(n);
    }
    c.int(n as i64);
    Ok(())
}

fn hlen(c: &mut Ctx) -> CmdResult {
    let key = c.args[1].clone();
    with_hash(
        c,
        &key,
        |out, _| resp::encode::integer(out, 0),
        |h, out, _| resp::encode::integer(out, h.len() as i64),
    )
}

fn hstrlen(c: &mut Ctx) -> CmdResult {
    let (key, f) = (c.args[1].clone(), c.args[2].clone());
    with_hash(
        c,
        &key,
        |out, _| resp::encode::integer(out, 0),
        |h, out, _| resp::encode::integer(out, h.get(&f).map_or(0, |v| v.len()) as i64),
    )
}

fn hexists(c: &mut Ctx) -> CmdResult {
    let (key, f) = (c.args[1].clone(), c.args[2].clone());
    with_hash(
        c,
        &key,
        |out, _| resp::encode::integer(out, 0),
        |h, out, _| resp::encode::integer(out, h.contains(&f) as i64),
    )
}

/// HGETALL (fields and values), HKEYS, HVALS.
fn getall(c: &mut Ctx, fields: bool, values: bool) -> CmdResult {
    let key = c.args[1].clone();
    with_hash(
        c,
        &key,
        |out, p| {
            if fields && values {
                resp::encode::map_len(out, p, 0)
            } else {
                resp::encode::array_len(out, 0)
            }
        },
        |h, out, p| {
            if fields && values {
                resp::encode::map_len(out, p, h.len());
            } else {
                resp::encode::array_len(out, h.len());
            }
            for (f, v) in h.iter() {
                if fields {
                    resp::encode::bulk(out, f);
                }
                if values {
                    resp::encode::bulk(out, v);
                }
            }
        },
    )
}

fn hgetall(c: &mut Ctx) -> CmdResult {
    getall(c, true, true)
}

fn hkeys(c: &mut Ctx) -> CmdResult {
    getall(c, true, false)
}

fn hvals(c: &mut Ctx) -> CmdResult {
    getall(c, false, true)
}

fn hincrby(c: &mut Ctx) -> CmdResult {
    let (key, f) = (c.args[1].clone(), c.args[2].clone());
    let incr = parse_int(&c.args[3])?;
    let lim = c.hash_limits();
    let h = hash_or_create(c, &key)?;
    let old = match h.get(&f) {
        None => 0,
        Some(v) => crate::util::num::parse_i64(v)
            .ok_or(CmdError::fixed("ERR hash value is not an integer"))?,
    };
    let new = old.checked_add(incr).ok_or(CmdError::fixed(OVERFLOW))?;
    let mut b = itoa::Buffer::new();
    h.set(&f, b.format(new).as_bytes(), &lim);
    c.int(new);
    c.modified(&key);
    c.notify(notify::HASH, "hincrby", &key);
    c.dirty(1);
    Ok(())
}

fn hincrbyfloat(c: &mut Ctx) -> CmdResult {
    let (key, f) = (c.args[1].clone(), c.args[2].clone());
    let incr = LDouble::parse(&c.args[3]).ok_or(CmdError::fixed(NOT_FLOAT))?;
    if incr.is_nan_or_inf() {
        return Err("ERR value is NaN or Infinity".into());
    }
    let lim = c.hash_limits();
    let h = hash_or_create(c, &key)?;
    let old = match h.get(&f) {
        None => LDouble::parse(b"0").ok_or(CmdError::fixed(NOT_FLOAT))?,
        Some(v) => LDouble::parse(v).ok_or(CmdError::fixed("ERR hash value is not a float"))?,
    };
    let new = old + incr;
    if new.is_nan_or_inf() {
        return Err("ERR increment would produce NaN or Infinity".into());
    }
    let text = new.to_human();
    h.set(&f, text.as_bytes(), &lim);
    c.bulk(text.as_bytes());
    c.modified(&key);
    c.notify(notify::HASH, "hincrbyfloat", &key);
    c.dirty(1);
    c.propagate_instead(vec![vec![
        b"HSET".to_vec(),
        key.to_vec(),
        f.to_vec(),
        text.into_bytes(),
    ]]);
    Ok(())
}

fn hrandfield(c: &mut Ctx) -> CmdResult {
    let key = c.args[1].clone();
    if c.args.len() == 2 {
        let mut rng = std::mem::replace(&mut c.eng.rng, rand::SeedableRng::seed_from_u64(0));
        let r = with_hash(c, &key, resp::encode::null, |h, out, p| {
            match h.random_pair(&mut rng) {
                Some((f, _)) => resp::encode::bulk(out, f),
                None => resp::encode::null(out, p),
            }
        });
        c.eng.rng = rng;
        return r;
    }
    let l = parse_int(&c.args[2])?;
    if l == i64::MIN {
        return Err("ERR value is out of range".into());
    }
    let withvalues = match c.args.len() {
        3 => false,
        4 if eq(&c.args[3], "withvalues") => true,
        _ => return Err(SYNTAX.into()),
    };
    if withvalues && !(-(i64::MAX / 2)..=i64::MAX / 2).contains(&l) {
        return Err("ERR value is out of range".into());
    }
    let (count, distinct) = (l.unsigned_abs(), l >= 0);
    if !distinct && count > MAX_RANDOM_COUNT {
        return Err("ERR value is out of range".into());
    }
    let mut rng = std::mem::replace(&mut c.eng.rng, rand::SeedableRng::seed_from_u64(0));
    let r = with_hash(
        c,
        &key,
        |out, _| resp::encode::array_len(out, 0),
        |h, out, p| {
            if count == 0 {
                resp::encode::array_len(out, 0);
                return;
            }
            let picks = h.random_pairs(count as usize, distinct, &mut rng);
            let resp3 = p == resp::encode::Proto::Resp3;
            if withvalues && !resp3 {
                resp::encode::array_len(out, picks.len() * 2);
            } else {
                resp::encode::array_len(out, picks.len());
            }
            for (f, v) in picks {
                if withvalues && resp3 {
                    resp::encode::array_len(out, 2);
                }
                resp::encode::bulk(out, f);
                if withvalues {
                    resp::encode::bulk(out, v);
                }
            }
        },
    );
    c.eng.rng = rng;
    r
}

fn hscan(c: &mut Ctx) -> CmdResult {
    let key = c.args[1].clone();
    let cursor = parse_cursor(&c.args[2])?;
    let opts = parse_scan_opts(c, 3, false)?;
    with_hash(
        c,
        &key,
        |out, _| {
            resp::encode::array_len(out, 2);
            resp::encode::bulk(out, b"0");
            resp::encode::array_len(out, 0);
        },
        |h, out, _| {
            let (next, items) = h.scan(cursor, opts.count, opts.pattern.as_deref());
            resp::encode::array_len(out, 2);
            resp::encode::bulk(out, next.to_string().as_bytes());
            resp::encode::array_len(out, items.len() * 2);
            for (f, v) in items {
                resp::encode::bulk(out, f);
                resp::encode::bulk(out, v);
            }
        },
    )
}
