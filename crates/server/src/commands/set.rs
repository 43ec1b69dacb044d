//! Set commands (Redis's t_set.c "Set commands" half).
//!
//! The structure (intset or hash table, converted past
//! `set-max-intset-entries`) is `types::set`. Housekeeping follows Redis:
//! the type's keyspace event, `del` when the last member went, WATCH
//! invalidation, and the dirty count. SPOP propagates as what it did: SREM
//! of the popped member(s), or DEL when the whole set went.

use std::borrow::Cow;

use super::f::*;
use super::keys::{parse_cursor, parse_scan_opts};
use super::{cmd, eq, lookup_read_in, parse_int, CommandSpec, Ctx, KEY1};
use crate::config::notify;
use crate::error::*;
use crate::keyspace::Value;
use crate::types::set::Set;

/// Keys from 1 to the last argument.
const ALL_KEYS: (i32, i32, i32) = (1, -1, 1);
/// Keys at 1 and 2 (SMOVE).
const KEYS12: (i32, i32, i32) = (1, 2, 1);

/// The set commands.
pub static COMMANDS: &[CommandSpec] = &[
    cmd(
        "sadd",
        -3,
        WRITE | DENYOOM | FAST,
        KEY1,
        "set",
        "1.0.0",
        "Add one or more members to a set",
        sadd,
    ),
    cmd(
        "srem",
        -3,
        WRITE | FAST,
        KEY1,
        "set",
        "1.0.0",
        "Remove one or more members from a set",
        srem,
    ),
    cmd(
        "smove",
        4,
        WRITE | FAST,
        KEYS12,
        "set",
        "1.0.0",
        "Move a member from one set to another",
        smove,
    ),
    cmd(
        "sismember",
        3,
        READONLY | FAST,
        KEY1,
        "set",
        "1.0.0",
        "Determine if a given value is a member of a set",
        sismember,
    ),
    cmd(
        "smismember",
        -3,
        READONLY | FAST,
        KEY1,
        "set",
        "6.2.0",
        "Returns the membership associated with the given elements for a set",
        smismember,
    ),
    cmd(
        "scard",
        2,
        READONLY | FAST,
        KEY1,
        "set",
        "1.0.0",
        "Get the number of members in a set",
        scard,
    ),
    cmd(
        "spop",
        -2,
        WRITE | FAST,
        KEY1,
        "set",
        "1.0.0",
        "Remove and return one or multiple random members from a set",
        spop,
    ),
    cmd(
        "srandmember",
        -2,
        READONLY,
        KEY1,
        "set",
        "1.0.0",
        "Get one or multiple random members from a set",
        srandmember,
    ),
    cmd(
        "smembers",
        2,
        READONLY,
        KEY1,
        "set",
        "1.0.0",
        "Get all the members in a set",
        smembers,
    ),
    cmd(
        "sinter",
        -2,
        READONLY,
        ALL_KEYS,
        "set",
        "1.0.0",
        "Intersect multiple sets",
        sinter,
    ),
    cmd(
        "sintercard",
        -3,
        READONLY,
        (0, 0, 0),
        "set",
        "7.0.0",
        "Intersect multiple sets and return the cardinality of the result",
        sintercard,
    ),
    cmd(
        "sinterstore",
        -3,
        WRITE | DENYOOM,
        ALL_KEYS,
        "set",
        "1.0.0",
        "Intersect multiple sets and store the resulting set in a key",
        sinterstore,
    ),
    cmd(
        "sunion",
        -2,
        READONLY,
        ALL_KEYS,
        "set",
        "1.0.0",
        "Add multiple sets",
        sunion,
    ),
    cmd(
        "sunionstore",
        -3,
        WRITE | DENYOOM,
        ALL_KEYS,
        "set",
        "1.0.0",
        "Add multiple sets and store the resulting set in a key",
        sunionstore,
    ),
    cmd(
        "sdiff",
        -2,
        READONLY,
        ALL_KEYS,
        "set",
        "1.0.0",
        "Subtract multiple sets",
        sdiff,
    ),
    cmd(
        "sdiffstore",
        -3,
        WRITE | DENYOOM,
        ALL_KEYS,
        "set",
        "1.0.0",
        "Subtract multiple sets and store the resulting set in a key",
        sdiffstore,
    ),
    cmd(
        "sscan",
        -3,
        READONLY,
        KEY1,
        "set",
        "2.8.0",
        "Incrementally iterate Set elements",
        sscan,
    ),
];

/// Largest |count| SRANDMEMBER serves with repetitions: the reply is built
/// in memory, so an absurd count is refused instead of exhausting it.
const MAX_RANDOM_COUNT: u64 = 1 << 27;

const NOT_POSITIVE: &str = "ERR value is out of range, must be positive";

fn set_mut<'c>(c: &'c mut Ctx<'_>, key: &[u8]) -> CmdResult<Option<&'c mut Set>> {
    match c.lookup_write(key) {
        None => Ok(None),
        Some(e) => match &mut e.value {
            Value::Set(s) => Ok(Some(s)),
            _ => Err(WRONGTYPE.into()),
        },
    }
}

/// Run `f` on the set at `key` for reading, with the reply buffer.
fn with_set(
    c: &mut Ctx,
    key: &[u8],
    missing: impl FnOnce(&mut Vec<u8>, resp::encode::Proto),
    f: impl FnOnce(&Set, &mut Vec<u8>, resp::encode::Proto),
) -> CmdResult {
    super::with_typed(
        c,
        key,
        |v| match v {
            Value::Set(x) => Some(x),
            _ => None,
        },
        missing,
        f,
    )
}

fn sadd(c: &mut Ctx) -> CmdResult {
    let key = c.args[1].clone();
    let members: Vec<_> = c.args[2..].to_vec();
    let lim = c.set_limits();
    if set_mut(c, &key)?.is_none() {
        // Redis sizes a new set for what is added (setTypeCreate).
        let s = if members.len() > lim.max_intset_entries {
            Set::new_table()
        } else {
            Set::new()
        };
        c.set_key(&key, Value::Set(Box::new(s)), -1);
    }
    let s = set_mut(c, &key)?.ok_or(CmdError::fixed(NO_SUCH_KEY))?;
    let mut added = 0;
    for m in &members {
        if s.add(m, &lim) {
            added += 1;
        }
    }
    if added > 0 {
        c.modified(&key);
        c.notify(notify::SET, "sadd", &key);
    }
    c.dirty(added);
    c.int(added as i64);
    Ok(())
}

fn srem(c: &mut Ctx) -> CmdResult {
    let key = c.args[1].clone();
    let members: Vec<_> = c.args[2..].to_vec();
    let Some(s) = set_mut(c, &key)? else {
        c.int(0);
        return Ok(());
    };
    let mut n = 0;
    for m in &members {
        if s.remove(m) {
            n += 1;
            if s.is_empty() {
                break;
            }
        }
    }
    if n > 0 {
        c.modified(&key);
        c.notify(notify::SET, "srem", &key);
        if c.delete_if_empty(&key) {
            c.notify(notify::GENERIC, "del", &key);
        }
        c.dirty(n);
    }
    c.int(n as i64);
    Ok(())
}

fn smove(c: &mut Ctx) -> CmdResult {
    let (src, dst, m) = (c.args[1].clone(), c.args[2].clone(), c.args[3].clone());
    let src_exists = set_mut(c, &src)?.is_some();
    if !src_exists {
        c.int(0);
        return Ok(());
    }
    set_mut(c, &dst)?;
    if src == dst {
        let is = set_mut(c, &src)?.is_some_and(|s| s.contains(&m));
        c.int(is as i64);
        return Ok(());
    }
    let removed = set_mut(c, &src)?.is_some_and(|s| s.remove(&m));
    if !removed {
        c.int(0);
        return Ok(());
    }
    c.notify(notify::SET, "srem", &src);
    if c.delete_if_empty(&src) {
        c.notify(notify::GENERIC, "del", &src);
    }
    let lim = c.set_limits();
    if set_mut(c, &dst)?.is_none() {
        c.set_key(&dst, Value::Set(Box::default()), -1);
    }
    c.modified(&src);
    c.dirty(1);
    let added = set_mut(c, &dst)?.is_some_and(|s| s.add(&m, &lim));
    if added {
        c.dirty(1);
        c.modified(&dst);
        c.notify(notify::SET, "sadd", &dst);
    }
    c.int(1);
    Ok(())
}

fn sismember(c: &mut Ctx) -> CmdResult {
    let (key, m) = (c.args[1].clone(), c.args[2].clone());
    with_set(
        c,
        &key,
        |out, _| resp::encode::integer(out, 0),
        |s, out, _| resp::encode::integer(out, s.contains(&m) as i64),
    )
}

fn smismember(c: &mut Ctx) -> CmdResult {
    let key = c.args[1].clone();
    let ms: Vec<_> = c.args[2..].to_vec();
    with_set(
        c,
        &key,
        |out, _| {
            resp::encode::array_len(out, ms.len());
            for _ in &ms {
                resp::encode::integer(out, 0);
            }
        },
        |s, out, _| {
            resp::encode::array_len(out, ms.len());
            for m in &ms {
                resp::encode::integer(out, s.contains(m) as i64);
            }
        },
    )
}

fn scard(c: &mut Ctx) -> CmdResult {
    let key = c.args[1].clone();
    with_set(
        c,
        &key,
        |out, _| resp::encode::integer(out, 0),
        |s, out, _| resp::encode::integer(out, s.len() as i64),
    )
}

fn smembers(c: &mut Ctx) -> CmdResult {
    let key = c.args[1].clone();
    with_set(
        c,
        &key,
        |out, p| resp::encode::set_len(out, p, 0),
        |s, out, p| {
            resp::encode::set_len(out, p, s.len());
            for m in s.iter() {
                resp::encode::bulk(out, &m);
            }
        },
    )
}

fn spop(c: &mut Ctx) -> CmdResult {
    let key = c.args[1].clone();
    if c.args.len() > 3 {
        return Err(SYNTAX.into());
    }
    let count = match c.args.get(2) {
        None => None,
        Some(a) => {
            let n = parse_int(a)?;
            if n < 0 {
                return Err(NOT_POSITIVE.into());
            }
            Some(n as u64)
        }
    };
    let mut rng = std::mem::replace(&mut c.eng.rng, rand::SeedableRng::seed_from_u64(0));
    let res = spop_with(c, &key, count, &mut rng);
    c.eng.rng = rng;
    res
}

fn spop_with(
    c: &mut Ctx,
    key: &[u8],
    count: Option<u64>,
    rng: &mut rand::rngs::SmallRng,
) -> CmdResult {
    let proto = c.cl.proto;
    let Some(s) = set_mut(c, key)? else {
        match count {
            None => c.null(),
            Some(_) => resp::encode::set_len(c.out, proto, 0),
        }
        return Ok(());
    };
    let Some(count) = count else {
        let Some(m) = s.pop_random(rng) else {
            c.null();
            return Ok(());
        };
        c.bulk(&m);
        c.notify(notify::SET, "spop", key);
        c.propagate_instead(vec![vec![b"SREM".to_vec(), key.to_vec(), m]]);
        if c.delete_if_empty(key) {
            c.notify(notify::GENERIC, "del", key);
        }
        c.modified(key);
        c.dirty(1);
        return Ok(());
    };
    if count == 0 {
        resp::encode::set_len(c.out, proto, 0);
        return Ok(());
    }
    let size = s.len() as u64;
    let popped: Vec<Vec<u8>> = if count >= size {
        s.iter().map(|m| m.into_owned()).collect()
    } else {
        s.pop_random_n(count as usize, rng)
    };
    let whole = count >= size;
    c.notify(notify::SET, "spop", key);
    c.dirty(popped.len() as u64);
    resp::encode::set_len(c.out, proto, popped.len());
    for m in &popped {
        resp::encode::bulk(c.out, m);
    }
    if whole {
        let db = c.cl.db;
        c.eng.dbs[db].remove(key);
        c.notify(notify::GENERIC, "del", key);
        c.propagate_instead(vec![vec![b"DEL".to_vec(), key.to_vec()]]);
    } else {
        c.propagate_instead(
            popped
                .iter()
                .map(|m| vec![b"SREM".to_vec(), key.to_vec(), m.clone()])
                .collect(),
        );
    }
    c.modified(key);
    Ok(())
}

fn srandmember(c: &mut Ctx) -> CmdResult {
    let key = c.args[1].clone();
    if c.args.len() > 3 {
        return Err(SYNTAX.into());
    }
    let mut rng = std::mem::replace(&mut c.eng.rng, rand::SeedableRng::seed_from_u64(0));
    let res = if c.args.len() == 2 {
        with_set(c, &key, resp::encode::null, |s, out, p| {
            match s.random_member(&mut rng) {
                Some(m) => resp::encode::bulk(out, &m),
                None => resp::encode::null(out, p),
            }
        })
    } else {
        srandmember_count(c, &key, &mut rng)
    };
    c.eng.rng = rng;
    res
}

fn srandmember_count(c: &mut Ctx, key: &[u8], rng: &mut rand::rngs::SmallRng) -> CmdResult {
    let l = parse_int(&c.args[2])?;
    if l == i64::MIN {
        return Err("ERR value is out of range".into());
    }
    let (count, distinct) = (l.unsigned_abs(), l >= 0);
    if !distinct && count > MAX_RANDOM_COUNT {
        return Err("ERR value is out of range".into());
    }
    with_set(
        c,
        key,
        |out, _| resp::encode::array_len(out, 0),
        |s, out, _| {
            if count == 0 {
                resp::encode::array_len(out, 0);
                return;
            }
            let picks = s.random_members(count as usize, distinct, rng);
            resp::encode::array_len(out, picks.len());
            for m in picks {
                resp::encode::bulk(out, &m);
            }
        },
    )
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Op {
    Inter,
    Union,
    Diff,
}

/// The members of the sets at `keys` combined by `op` (Redis's
/// sinterGenericCommand / sunionDiffGenericCommand). Missing keys are
/// empty sets; any key of another type is WRONGTYPE. `limit` stops an
/// intersection early (SINTERCARD).
fn combine(c: &mut Ctx, keys: &[bytes::Bytes], op: Op, limit: usize) -> CmdResult<Vec<Vec<u8>>> {
    let (db, from_master) = (c.cl.db, c.from_master);
    // Check types first, as Redis looks every key up before combining.
    let mut present = Vec::with_capacity(keys.len());
    for k in keys {
        match lookup_read_in(c.eng, db, k, from_master) {
            None => present.push(false),
            Some(e) if matches!(e.value, Value::Set(_)) => present.push(true),
            Some(_) => return Err(WRONGTYPE.into()),
        }
    }
    let dbr = &c.eng.dbs[db];
    let get = |k: &[u8]| -> Option<&Set> {
        match dbr.get(k).map(|e| &e.value) {
            Some(Value::Set(s)) => Some(s),
            _ => None,
        }
    };
    let out: Vec<Vec<u8>> = match op {
        Op::Inter => {
            if present.iter().any(|p| !p) {
                return Ok(Vec::new());
            }
            let mut sets: Vec<&Set> = keys.iter().filter_map(|k| get(k)).collect();
            sets.sort_by_key(|s| s.len());
            let Some((first, rest)) = sets.split_first() else {
                return Ok(Vec::new());
            };
            let mut v = Vec::new();
            for m in first.iter() {
                if rest.iter().all(|s| s.contains(&m)) {
                    v.push(m.into_owned());
                    if limit > 0 && v.len() >= limit {
                        break;
                    }
                }
            }
            v
        }
        Op::Union => {
            let mut seen: std::collections::HashSet<Vec<u8>, ahash::RandomState> =
                Default::default();
            let mut v = Vec::new();
            for k in keys {
                if let Some(s) = get(k) {
                    for m in s.iter() {
                        if !seen.contains(m.as_ref()) {
                            seen.insert(m.to_vec());
                            v.push(m.into_owned());
                        }
                    }
                }
            }
            v
        }
        Op::Diff => {
            let Some(first) = get(&keys[0]) else {
                return Ok(Vec::new());
            };
            let others: Vec<&Set> = keys[1..].iter().filter_map(|k| get(k)).collect();
            first
                .iter()
                .filter(|m| !others.iter().any(|s| s.contains(m)))
                .map(Cow::into_owned)
                .collect()
        }
    };
    Ok(out)
}

fn reply_members(c: &mut Ctx, members: &[Vec<u8>]) {
    c.set_header(members.len());
    for m in members {
        c.bulk(m);
    }
}

fn sinter(c: &mut Ctx) -> CmdResult {
    let keys: Vec<_> = c.args[1..].to_vec();
    let v = combine(c, &keys, Op::Inter, 0)?;
    reply_members(c, &v);
    Ok(())
}

fn sunion(c: &mut Ctx) -> CmdResult {
    let keys: Vec<_> = c.args[1..].to_vec();
    let v = combine(c, &keys, Op::Union, 0)?;
    reply_members(c, &v);
    Ok(())
}

fn sdiff(c: &mut Ctx) -> CmdResult {
    let keys: Vec<_> = c.args[1..].to_vec();
    let v = combine(c, &keys, Op::Diff, 0)?;
    reply_members(c, &v);
    Ok(())
}

fn sintercard(c: &mut Ctx) -> CmdResult {
    let numkeys = crate::util::num::parse_i64(&c.args[1])
        .filter(|n| *n >= 1)
        .ok_or(CmdError::fixed("ERR numkeys should be greater than 0"))?;
    if numkeys > (c.args.len() - 2) as i64 {
        return Err("ERR Number of keys can't be greater than number of args".into());
    }
    let nk = numkeys as usize;
    let mut limit = 0usize;
    let mut j = 2 + nk;
    while j < c.args.len() {
        let more = c.args.len() - 1 - j;
        if eq(&c.args[j], "limit") && more > 0 {
            j += 1;
            let l = crate::util::num::parse_i64(&c.args[j]).ok_or(CmdError::fixed(NOT_INT))?;
            if l < 0 {
                return Err("ERR LIMIT can't be negative".into());
            }
            limit = l as usize;
        } else {
            return Err(SYNTAX.into());
        }
        j += 1;
    }
    let keys: Vec<_> = c.args[2..2 + nk].to_vec();
    let v = combine(c, &keys, Op::Inter, limit)?;
    c.int(v.len() as i64);
    Ok(())
}

fn store(c: &mut Ctx, op: Op, event: &str) -> CmdResult {
    let dst = c.args[1].clone();
    let keys: Vec<_> = c.args[2..].to_vec();
    let members = combine(c, &keys, op, 0)?;
    if members.is_empty() {
        if c.delete(&dst) {
            c.notify(notify::GENERIC, "del", &dst);
            c.dirty(1);
        }
        c.int(0);
        return Ok(());
    }
    let lim = c.set_limits();
    let mut s = if members.len() > lim.max_intset_entries {
        Set::new_table()
    } else {
        Set::new()
    };
    for m in &members {
        s.add(m, &lim);
    }
    let n = s.len();
    c.set_key(&dst, Value::Set(Box::new(s)), -1);
    c.notify(notify::SET, event, &dst);
    c.dirty(1);
    c.int(n as i64);
    Ok(())
}

fn sinterstore(c: &mut Ctx) -> CmdResult {
    store(c, Op::Inter, "sinterstore")
}

fn sunionstore(c: &mut Ctx) -> CmdResult {
    store(c, Op::Union, "sunionstore")
}

fn sdiffstore(c: &mut Ctx) -> CmdResult {
    store(c, Op::Diff, "sdiffstore")
}

fn sscan(c: &mut Ctx) -> CmdResult {
    let key = c.args[1].clone();
    let cursor = parse_cursor(&c.args[2])?;
    let opts = parse_scan_opts(c, 3, false)?;
    with_set(
        c,
        &key,
        |out, _| {
            resp::encode::array_len(out, 2);
            resp::encode::bulk(out, b"0");
            resp::encode::array_len(out, 0);
        },
        |s, out, _| {
            let (next, items) = s.scan(cursor, opts.count, opts.pattern.as_deref());
            resp::encode::array_len(out, 2);
            resp::encode::bulk(out, next.to_string().as_bytes());
            resp::encode::array_len(out, items.len());
            for m in items {
                resp::encode::bulk(out, &m);
            }
        },
    )
}
