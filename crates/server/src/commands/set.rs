//! Set commands (Redis's t_set.c "Set commands" half).
//!
//! The structure and its encodings live in [`crate::types::set`]; here are
//! the replies, the keyspace bookkeeping (empty sets vanish, events, WATCH,
//! dirty) and Redis's argument and error order. Results of SINTER/SUNION/
//! SDIFF are built the way Redis builds them (a fresh intset that converts
//! as members arrive), so a stored result has the encoding Redis would give
//! it. SPOP propagates as `SREM`s (wrapped in MULTI/EXEC when more than one)
//! or as `DEL` when it empties the set, as Redis 7.0 does.

use std::borrow::Cow;

use bytes::Bytes;
use rand::Rng;
use resp::encode as enc;

use super::f::*;
use super::hash::{check_reply_budget, empty_scan, parse_signed_count};
use super::keys::{parse_cursor, parse_scan_opts};
use super::{cmd, eq, lookup_read_in, CommandSpec, Ctx, KEY1, NOKEYS};
use crate::config::notify;
use crate::engine::Engine;
use crate::error::*;
use crate::keyspace::{Db, Value};
use crate::types::random_indices;
use crate::types::set::{Set, SetLimits};
use crate::util::num::parse_i64;

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
        "smembers",
        2,
        READONLY,
        KEY1,
        "set",
        "1.0.0",
        "Get all the members in a set",
        sinter,
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
        "sinter",
        -2,
        READONLY,
        (1, -1, 1),
        "set",
        "1.0.0",
        "Intersect multiple sets",
        sinter,
    ),
    cmd(
        "sunion",
        -2,
        READONLY,
        (1, -1, 1),
        "set",
        "1.0.0",
        "Add multiple sets",
        sunion,
    ),
    cmd(
        "sdiff",
        -2,
        READONLY,
        (1, -1, 1),
        "set",
        "1.0.0",
        "Subtract multiple sets",
        sdiff,
    ),
    cmd(
        "sinterstore",
        -3,
        WRITE | DENYOOM,
        (1, -1, 1),
        "set",
        "1.0.0",
        "Intersect multiple sets and store the resulting set in a key",
        sinterstore,
    ),
    cmd(
        "sunionstore",
        -3,
        WRITE | DENYOOM,
        (1, -1, 1),
        "set",
        "1.0.0",
        "Add multiple sets and store the resulting set in a key",
        sunionstore,
    ),
    cmd(
        "sdiffstore",
        -3,
        WRITE | DENYOOM,
        (1, -1, 1),
        "set",
        "1.0.0",
        "Subtract multiple sets and store the resulting set in a key",
        sdiffstore,
    ),
    // Keys come from `numkeys`: Redis's legacy range is empty (movablekeys).
    cmd(
        "sintercard",
        -3,
        READONLY,
        NOKEYS,
        "set",
        "7.0.0",
        "Intersect multiple sets and return the cardinality of the result",
        sintercard,
    )
    .numkeys_at(1),
    cmd(
        "smove",
        4,
        WRITE | FAST,
        (1, 2, 1),
        "set",
        "1.0.0",
        "Move a member from one set to another",
        smove,
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

/// SPOP's count error (Redis's `getPositiveLongFromObjectOrReply` without
/// a message: also for a count that is not a number).
const COUNT_POSITIVE: &str = "ERR value is out of range, must be positive";

/// How much bigger than the members left a SPOP count must be for Redis
/// to rebuild the set from the members it keeps (SPOP_MOVE_STRATEGY_MUL).
const SPOP_MOVE_STRATEGY_MUL: usize = 5;

// ---- helpers ---------------------------------------------------------------

/// The set at `key` for reading (lazy expiry, stats), borrowing only the
/// engine so the reply can be written meanwhile.
fn read_set<'e>(
    eng: &'e mut Engine,
    db: usize,
    key: &[u8],
    from_master: bool,
) -> CmdResult<Option<&'e Set>> {
    match lookup_read_in(eng, db, key, from_master) {
        None => Ok(None),
        Some(e) => match &e.value {
            Value::Set(s) => Ok(Some(s)),
            _ => Err(WRONGTYPE.into()),
        },
    }
}

/// The set at `key` in `dbs[db]`, after a lookup that did expiry and stats.
fn set_in<'d>(dbs: &'d [Db], db: usize, key: &[u8]) -> Option<&'d Set> {
    match &dbs.get(db)?.get(key)?.value {
        Value::Set(s) => Some(s),
        _ => None,
    }
}

/// Mutable [`set_in`].
fn set_in_mut<'d>(dbs: &'d mut [Db], db: usize, key: &[u8]) -> Option<&'d mut Set> {
    match &mut dbs.get_mut(db)?.get_mut(key)?.value {
        Value::Set(s) => Some(s),
        _ => None,
    }
}

/// The set at `key` for writing; None when missing.
fn write_set<'c>(c: &'c mut Ctx, key: &[u8]) -> CmdResult<Option<&'c mut Set>> {
    match c.lookup_write(key) {
        None => Ok(None),
        Some(e) => match &mut e.value {
            Value::Set(s) => Ok(Some(s)),
            _ => Err(WRONGTYPE.into()),
        },
    }
}

/// Redis's `lookupKeyRead` + `checkType` over `keys` in order: which exist.
fn check_sets(c: &mut Ctx, keys: &[Bytes]) -> CmdResult<Vec<bool>> {
    let (db, fm) = (c.cl.db, c.from_master);
    keys.iter()
        .map(|k| read_set(c.eng, db, k, fm).map(|s| s.is_some()))
        .collect()
}

/// The sets behind `keys` (None for missing ones), once checked.
fn sets_of<'d>(dbs: &'d [Db], db: usize, keys: &[Bytes], present: &[bool]) -> Vec<Option<&'d Set>> {
    keys.iter()
        .zip(present)
        .map(|(k, &p)| if p { set_in(dbs, db, k) } else { None })
        .collect()
}

/// The average length of a few random members (reply size estimates).
fn avg_member_len(s: &Set, rng: &mut impl Rng) -> usize {
    let n = s.len();
    let sample = n.min(64);
    (0..sample)
        .filter_map(|_| s.get_index(rng.gen_range(0..n)))
        .map(|m| m.len())
        .sum::<usize>()
        / sample.max(1)
}

/// Propagate `cmds` instead of the command, as one unit (MULTI/EXEC when
/// more than one), as Redis 7.0's `alsoPropagate` does.
fn propagate_unit(c: &mut Ctx, cmds: Vec<Vec<Vec<u8>>>) {
    if cmds.len() <= 1 {
        c.propagate_instead(cmds);
        return;
    }
    let db = c.cl.db;
    let nested = crate::repl::feed::begin_unit(c.eng);
    for argv in &cmds {
        let v: Vec<&[u8]> = argv.iter().map(Vec::as_slice).collect();
        crate::repl::feed::feed(c.eng, db, &v);
    }
    crate::repl::feed::end_unit(c.eng, nested);
    c.propagate_instead(Vec::new());
}

/// Store a SINTERSTORE/SUNIONSTORE/SDIFFSTORE result: set it (event
/// `event`) or, when empty, delete the destination.
fn store_result(c: &mut Ctx, dst: &[u8], result: Set, event: &str) {
    if result.is_empty() {
        c.int(0);
        if c.delete(dst) {
            c.dirty(1);
            c.notify(notify::GENERIC, "del", dst);
        }
        return;
    }
    let n = result.len();
    c.set_key(dst, Value::Set(Box::new(result)), -1);
    c.int(n as i64);
    c.notify(notify::SET, event, dst);
    c.dirty(1);
}

// ---- commands --------------------------------------------------------------

fn sadd(c: &mut Ctx) -> CmdResult {
    let key = c.args[1].clone();
    let args = c.args.clone();
    let limits = c.set_limits();
    let added = match write_set(c, &key)? {
        Some(s) => args[2..].iter().filter(|m| s.add(m, &limits)).count(),
        None => {
            let mut s = Set::new();
            let added = args[2..].iter().filter(|m| s.add(m, &limits)).count();
            c.set_key(&key, Value::Set(Box::new(s)), -1);
            added
        }
    };
    if added > 0 {
        c.modified(&key);
        c.notify(notify::SET, "sadd", &key);
    }
    c.dirty(added as u64);
    c.int(added as i64);
    Ok(())
}

fn srem(c: &mut Ctx) -> CmdResult {
    let key = c.args[1].clone();
    let args = c.args.clone();
    let Some(s) = write_set(c, &key)? else {
        c.int(0);
        return Ok(());
    };
    let mut deleted = 0;
    for m in &args[2..] {
        if s.remove(m) {
            deleted += 1;
            if s.is_empty() {
                break;
            }
        }
    }
    if deleted > 0 {
        c.modified(&key);
        c.notify(notify::SET, "srem", &key);
        if c.delete_if_empty(&key) {
            c.notify(notify::GENERIC, "del", &key);
        }
        c.dirty(deleted);
    }
    c.int(deleted as i64);
    Ok(())
}

fn smove(c: &mut Ctx) -> CmdResult {
    let (src, dst, m) = (c.args[1].clone(), c.args[2].clone(), c.args[3].clone());
    let src_is_set = c
        .lookup_write(&src)
        .map(|e| matches!(e.value, Value::Set(_)));
    let dst_is_set = c
        .lookup_write(&dst)
        .map(|e| matches!(e.value, Value::Set(_)));
    match src_is_set {
        None => {
            c.int(0);
            return Ok(());
        }
        Some(false) => return Err(WRONGTYPE.into()),
        Some(true) => {}
    }
    if dst_is_set == Some(false) {
        return Err(WRONGTYPE.into());
    }
    let db = c.cl.db;
    if src == dst {
        let yes = set_in(c.eng.keyspace().dbs(), db, &src).is_some_and(|s| s.contains(&m));
        c.int(yes as i64);
        return Ok(());
    }
    if !set_in_mut(c.eng.keyspace_mut().dbs_mut(), db, &src).is_some_and(|s| s.remove(&m)) {
        c.int(0);
        return Ok(());
    }
    c.notify(notify::SET, "srem", &src);
    if c.delete_if_empty(&src) {
        c.notify(notify::GENERIC, "del", &src);
    }
    let limits = c.set_limits();
    let added = match set_in_mut(c.eng.keyspace_mut().dbs_mut(), db, &dst) {
        Some(s) => s.add(&m, &limits),
        None => {
            let mut s = Set::new();
            s.add(&m, &limits);
            c.set_key(&dst, Value::Set(Box::new(s)), -1);
            true
        }
    };
    c.modified(&src);
    c.dirty(1);
    if added {
        c.dirty(1);
        c.modified(&dst);
        c.notify(notify::SET, "sadd", &dst);
    }
    c.int(1);
    Ok(())
}

fn sismember(c: &mut Ctx) -> CmdResult {
    let (db, fm) = (c.cl.db, c.from_master);
    let yes = read_set(c.eng, db, &c.args[1], fm)?.is_some_and(|s| s.contains(&c.args[2]));
    c.int(yes as i64);
    Ok(())
}

fn smismember(c: &mut Ctx) -> CmdResult {
    let (db, fm) = (c.cl.db, c.from_master);
    let s = read_set(c.eng, db, &c.args[1], fm)?;
    enc::array_len(c.out, c.args.len() - 2);
    for m in &c.args[2..] {
        enc::integer(c.out, s.is_some_and(|s| s.contains(m)) as i64);
    }
    Ok(())
}

fn scard(c: &mut Ctx) -> CmdResult {
    let (db, fm) = (c.cl.db, c.from_master);
    let n = read_set(c.eng, db, &c.args[1], fm)?.map_or(0, Set::len);
    c.int(n as i64);
    Ok(())
}

fn spop(c: &mut Ctx) -> CmdResult {
    match c.args.len() {
        2 => spop_one(c),
        3 => spop_count(c),
        _ => Err(SYNTAX.into()),
    }
}

fn spop_one(c: &mut Ctx) -> CmdResult {
    let key = c.args[1].clone();
    if write_set(c, &key)?.is_none() {
        c.null();
        return Ok(());
    }
    let db = c.cl.db;
    let (dbs, rng) = c.eng.dbs_and_rng();
    let Some(m) = set_in_mut(dbs, db, &key).and_then(|s| s.pop_random(rng)) else {
        c.null();
        return Ok(());
    };
    c.notify(notify::SET, "spop", &key);
    c.bulk(&m);
    c.propagate_instead(vec![vec![b"SREM".to_vec(), key.to_vec(), m]]);
    if c.delete_if_empty(&key) {
        c.notify(notify::GENERIC, "del", &key);
    }
    c.modified(&key);
    c.dirty(1);
    Ok(())
}

fn spop_count(c: &mut Ctx) -> CmdResult {
    let count = parse_i64(&c.args[2])
        .filter(|&n| n >= 0)
        .ok_or(CmdError::fixed(COUNT_POSITIVE))?;
    let count = usize::try_from(count).unwrap_or(usize::MAX);
    let key = c.args[1].clone();
    let proto = c.cl.proto;
    let Some(s) = write_set(c, &key)? else {
        c.set_header(0);
        return Ok(());
    };
    let size = s.len();
    if count == 0 {
        c.set_header(0);
        return Ok(());
    }
    c.notify(notify::SET, "spop", &key);
    c.dirty(count.min(size) as u64);
    let db = c.cl.db;
    if count >= size {
        // The whole set: reply with it, delete the key, propagate DEL.
        if let Some(s) = set_in(c.eng.keyspace().dbs(), db, &key) {
            enc::set_len(c.out, proto, s.len());
            for m in s.iter() {
                enc::bulk(c.out, &m);
            }
        }
        c.eng.keyspace_mut().db_mut(db).remove(&key);
        c.notify(notify::GENERIC, "del", &key);
        c.propagate_instead(vec![vec![b"DEL".to_vec(), key.to_vec()]]);
        c.modified(&key);
        return Ok(());
    }
    let limits = c.set_limits();
    let remaining = size - count;
    let (dbs, rng) = c.eng.dbs_and_rng();
    let Some(s) = set_in_mut(dbs, db, &key) else {
        c.set_header(0);
        return Ok(());
    };
    let popped: Vec<Vec<u8>> = if remaining * SPOP_MOVE_STRATEGY_MUL > count {
        // Few to pop: pop them one by one.
        (0..count).filter_map(|_| s.pop_random(rng)).collect()
    } else {
        // Most of the set goes: pick the members that stay and rebuild the
        // set from them, as Redis does (which may turn it back into an
        // intset).
        let mut keep = vec![false; size];
        for i in random_indices(size, remaining, true, rng) {
            if let Some(k) = keep.get_mut(i) {
                *k = true;
            }
        }
        let mut kept = Set::new();
        let mut popped = Vec::with_capacity(count);
        for (m, k) in s.iter().zip(&keep) {
            if *k {
                kept.add(&m, &limits);
            } else {
                popped.push(m.into_owned());
            }
        }
        *s = kept;
        popped
    };
    enc::set_len(c.out, proto, popped.len());
    for m in &popped {
        enc::bulk(c.out, m);
    }
    let cmds = popped
        .into_iter()
        .map(|m| vec![b"SREM".to_vec(), key.to_vec(), m])
        .collect();
    propagate_unit(c, cmds);
    c.modified(&key);
    Ok(())
}

fn srandmember(c: &mut Ctx) -> CmdResult {
    let (db, fm) = (c.cl.db, c.from_master);
    let key = c.args[1].clone();
    match c.args.len() {
        2 => {
            if read_set(c.eng, db, &key, fm)?.is_none() {
                c.null();
                return Ok(());
            }
            let (dbs, rng) = c.eng.dbs_and_rng();
            match set_in(dbs, db, &key).and_then(|s| s.random_member(rng)) {
                Some(m) => enc::bulk(c.out, &m),
                None => enc::null(c.out, c.cl.proto),
            }
            Ok(())
        }
        3 => {
            let l = parse_signed_count(&c.args[2])?;
            if read_set(c.eng, db, &key, fm)?.is_none() || l == 0 {
                c.array(0);
                return Ok(());
            }
            let stop_at = c.reply_stop_at().map(|n| n + c.out.len());
            let (dbs, rng) = c.eng.dbs_and_rng();
            let Some(s) = set_in(dbs, db, &key) else {
                enc::array_len(c.out, 0);
                return Ok(());
            };
            let count = usize::try_from(l.unsigned_abs()).unwrap_or(usize::MAX);
            if l > 0 {
                // At most the whole set.
                let picks = s.random_members(count, true, rng);
                enc::array_len(c.out, picks.len());
                for m in picks {
                    enc::bulk(c.out, &m);
                }
                return Ok(());
            }
            if stop_at.is_none() {
                check_reply_budget(count, avg_member_len(s, rng))?;
            }
            let n = s.len();
            enc::array_len(c.out, count);
            for _ in 0..count {
                if let Some(m) = s.get_index(rng.gen_range(0..n)) {
                    enc::bulk(c.out, &m);
                }
                // Over the client's output limit: it is closed.
                if stop_at.is_some_and(|s| c.out.len() > s) {
                    break;
                }
            }
            Ok(())
        }
        _ => Err(SYNTAX.into()),
    }
}

/// SINTER, SMEMBERS, SINTERSTORE and SINTERCARD (Redis's
/// `sinterGenericCommand`).
fn inter_generic(
    c: &mut Ctx,
    keys: &[Bytes],
    dst: Option<&[u8]>,
    card_only: bool,
    limit: usize,
) -> CmdResult {
    let present = check_sets(c, keys)?;
    if present.iter().any(|p| !p) {
        match dst {
            Some(d) => store_result(c, d, Set::new(), "sinterstore"),
            None if card_only => c.int(0),
            None => c.set_header(0),
        }
        return Ok(());
    }
    let (db, proto) = (c.cl.db, c.cl.proto);
    let limits = c.set_limits();
    let mut sets: Vec<&Set> = sets_of(c.eng.keyspace().dbs(), db, keys, &present)
        .into_iter()
        .flatten()
        .collect();
    sets.sort_by_key(|s| s.len());
    let Some((&first, rest)) = sets.split_first() else {
        c.set_header(0);
        return Ok(());
    };
    let common = first.iter().filter(|m| {
        rest.iter()
            .all(|s| std::ptr::eq(*s, first) || s.contains(m))
    });
    if card_only {
        let n = if limit > 0 {
            common.take(limit).count()
        } else {
            common.count()
        };
        enc::integer(c.out, n as i64);
        return Ok(());
    }
    match dst {
        None => {
            let found: Vec<Cow<[u8]>> = common.collect();
            enc::set_len(c.out, proto, found.len());
            for m in found {
                enc::bulk(c.out, &m);
            }
        }
        Some(d) => {
            let mut result = Set::new();
            for m in common {
                result.add(&m, &limits);
            }
            store_result(c, d, result, "sinterstore");
        }
    }
    Ok(())
}

fn sinter(c: &mut Ctx) -> CmdResult {
    let keys = c.args[1..].to_vec();
    inter_generic(c, &keys, None, false, 0)
}

fn sinterstore(c: &mut Ctx) -> CmdResult {
    let keys = c.args[2..].to_vec();
    let dst = c.args[1].clone();
    inter_generic(c, &keys, Some(&dst), false, 0)
}

fn sintercard(c: &mut Ctx) -> CmdResult {
    const NUMKEYS: &str = "ERR numkeys should be greater than 0";
    let numkeys = parse_i64(&c.args[1])
        .filter(|&n| n >= 1)
        .ok_or(CmdError::fixed(NUMKEYS))?;
    let numkeys = usize::try_from(numkeys).unwrap_or(usize::MAX);
    if numkeys > c.args.len() - 2 {
        return Err("ERR Number of keys can't be greater than number of args".into());
    }
    let mut limit = 0usize;
    let mut j = 2 + numkeys;
    while j < c.args.len() {
        if eq(&c.args[j], "limit") && j + 1 < c.args.len() {
            j += 1;
            let l = parse_i64(&c.args[j])
                .filter(|&n| n >= 0)
                .ok_or(CmdError::fixed("ERR LIMIT can't be negative"))?;
            limit = usize::try_from(l).unwrap_or(usize::MAX);
        } else {
            return Err(SYNTAX.into());
        }
        j += 1;
    }
    let keys = c.args[2..2 + numkeys].to_vec();
    inter_generic(c, &keys, None, true, limit)
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Op {
    Union,
    Diff,
}

/// SUNION, SDIFF and their STORE forms (Redis's
/// `sunionDiffGenericCommand`).
fn union_diff_generic(c: &mut Ctx, keys: &[Bytes], dst: Option<&[u8]>, op: Op) -> CmdResult {
    let present = check_sets(c, keys)?;
    let (db, proto) = (c.cl.db, c.cl.proto);
    let limits = c.set_limits();
    let sets = sets_of(c.eng.keyspace().dbs(), db, keys, &present);
    let result = match op {
        Op::Union => {
            let mut r = Set::new();
            for s in sets.iter().flatten() {
                for m in s.iter() {
                    r.add(&m, &limits);
                }
            }
            r
        }
        Op::Diff => diff(keys, &sets, &limits),
    };
    match dst {
        None => {
            enc::set_len(c.out, proto, result.len());
            for m in result.iter() {
                enc::bulk(c.out, &m);
            }
        }
        Some(d) => {
            let event = match op {
                Op::Union => "sunionstore",
                Op::Diff => "sdiffstore",
            };
            store_result(c, d, result, event);
        }
    }
    Ok(())
}

/// The members of the first set in none of the others, in the encoding
/// Redis's chosen algorithm leaves: algorithm 2 first copies the whole first
/// set (which may turn the result into a table for good).
fn diff(keys: &[Bytes], sets: &[Option<&Set>], limits: &SetLimits) -> Set {
    let mut r = Set::new();
    let Some(Some(first)) = sets.first() else {
        return r;
    };
    let same_set = keys
        .iter()
        .zip(sets)
        .skip(1)
        .any(|(k, s)| s.is_some() && Some(k) == keys.first());
    if same_set {
        return r;
    }
    let others: Vec<&Set> = sets.iter().skip(1).flatten().copied().collect();
    let algo_one_work = first.len() * (others.len() + 1) / 2;
    let algo_two_work = first.len() + others.iter().map(|s| s.len()).sum::<usize>();
    for m in first.iter() {
        if !others.iter().any(|s| s.contains(&m)) {
            r.add(&m, limits);
        }
    }
    if algo_one_work > algo_two_work {
        let first_converts = first.len() > limits.max_intset_entries
            || (matches!(first, Set::Table(_)) && first.iter().any(|m| parse_i64(&m).is_none()));
        if first_converts {
            r.convert_to_table();
        }
    }
    r
}

fn sunion(c: &mut Ctx) -> CmdResult {
    let keys = c.args[1..].to_vec();
    union_diff_generic(c, &keys, None, Op::Union)
}

fn sunionstore(c: &mut Ctx) -> CmdResult {
    let keys = c.args[2..].to_vec();
    let dst = c.args[1].clone();
    union_diff_generic(c, &keys, Some(&dst), Op::Union)
}

fn sdiff(c: &mut Ctx) -> CmdResult {
    let keys = c.args[1..].to_vec();
    union_diff_generic(c, &keys, None, Op::Diff)
}

fn sdiffstore(c: &mut Ctx) -> CmdResult {
    let keys = c.args[2..].to_vec();
    let dst = c.args[1].clone();
    union_diff_generic(c, &keys, Some(&dst), Op::Diff)
}

fn sscan(c: &mut Ctx) -> CmdResult {
    let cursor = parse_cursor(&c.args[2])?;
    let (db, fm) = (c.cl.db, c.from_master);
    let key = c.args[1].clone();
    if read_set(c.eng, db, &key, fm)?.is_none() {
        empty_scan(c.out);
        return Ok(());
    }
    let o = parse_scan_opts(c, 3, false)?;
    let Some(s) = set_in(c.eng.keyspace().dbs(), db, &key) else {
        empty_scan(c.out);
        return Ok(());
    };
    let (next, items) = s.scan(cursor, o.count, o.pattern.as_deref());
    enc::array_len(c.out, 2);
    enc::bulk(c.out, itoa::Buffer::new().format(next).as_bytes());
    enc::array_len(c.out, items.len());
    for m in items {
        enc::bulk(c.out, &m);
    }
    Ok(())
}

#[cfg(test)]
pub(crate) mod tests {
    use std::collections::BTreeSet;

    use bytes::Bytes;

    use crate::client::Client;
    use crate::config::Config;
    use crate::engine::Engine;

    /// An engine and a client to run commands on, with no sockets.
    pub(crate) fn setup() -> (Engine, Client) {
        (
            Engine::new(Config::default()),
            Client::new(1, "test".into(), "test".into(), true, false, 0),
        )
    }

    /// Run a command; return its reply.
    pub(crate) fn run(eng: &mut Engine, cl: &mut Client, args: &[&str]) -> String {
        let mut out = Vec::new();
        let argv = args
            .iter()
            .map(|a| Bytes::copy_from_slice(a.as_bytes()))
            .collect();
        crate::commands::dispatch::execute(eng, cl, argv, &mut out);
        String::from_utf8_lossy(&out).into_owned()
    }

    /// Run a command inside a propagation unit; return what it propagated.
    pub(crate) fn propagated(eng: &mut Engine, cl: &mut Client, args: &[&str]) -> Vec<Vec<String>> {
        assert!(!eng.repl().in_unit());
        eng.repl_mut().capture();
        run(eng, cl, args);
        eng.repl_mut()
            .end_capture()
            .into_iter()
            .map(|(_, argv)| {
                argv.iter()
                    .map(|a| String::from_utf8_lossy(a).into_owned())
                    .collect()
            })
            .collect()
    }

    fn members(eng: &mut Engine, cl: &mut Client, key: &str) -> usize {
        run(eng, cl, &["SCARD", key])
            .trim_start_matches(':')
            .trim()
            .parse()
            .unwrap_or(0)
    }

    #[test]
    fn spop_propagates_as_srem_or_del() {
        let (mut eng, mut cl) = setup();
        let add: Vec<String> = (0..20).map(|i| format!("m{i}")).collect();
        let mut sadd = vec!["SADD", "s"];
        sadd.extend(add.iter().map(String::as_str));
        run(&mut eng, &mut cl, &sadd);

        let p = propagated(&mut eng, &mut cl, &["SPOP", "s"]);
        assert_eq!(p.len(), 1);
        assert_eq!(p[0][..2], ["SREM", "s"]);
        assert_eq!(
            run(&mut eng, &mut cl, &["SISMEMBER", "s", &p[0][2]]),
            ":0\r\n"
        );

        // Few members: popped one by one; most of the set: rebuilt. Both
        // propagate one SREM per member, distinct, and really removed.
        for (count, left) in [(3, 16), (14, 2)] {
            let p = propagated(&mut eng, &mut cl, &["SPOP", "s", &count.to_string()]);
            assert_eq!(p.len(), count);
            let popped: BTreeSet<&str> = p.iter().map(|c| c[2].as_str()).collect();
            assert_eq!(popped.len(), count);
            for c in &p {
                assert_eq!(c[..2], ["SREM", "s"]);
                assert_eq!(run(&mut eng, &mut cl, &["SISMEMBER", "s", &c[2]]), ":0\r\n");
            }
            assert_eq!(members(&mut eng, &mut cl, "s"), left);
        }

        assert!(propagated(&mut eng, &mut cl, &["SPOP", "s", "0"]).is_empty());
        assert!(propagated(&mut eng, &mut cl, &["SPOP", "nokey", "3"]).is_empty());
        assert!(propagated(&mut eng, &mut cl, &["SPOP", "nokey"]).is_empty());
        assert_eq!(
            propagated(&mut eng, &mut cl, &["SPOP", "s", "5"]),
            vec![vec!["DEL".to_string(), "s".to_string()]]
        );
        assert_eq!(run(&mut eng, &mut cl, &["EXISTS", "s"]), ":0\r\n");
    }

    #[test]
    fn only_changes_propagate() {
        let (mut eng, mut cl) = setup();
        run(&mut eng, &mut cl, &["SADD", "a", "1", "2"]);
        assert!(propagated(&mut eng, &mut cl, &["SADD", "a", "1"]).is_empty());
        assert!(propagated(&mut eng, &mut cl, &["SREM", "a", "9"]).is_empty());
        assert!(propagated(&mut eng, &mut cl, &["SMOVE", "a", "b", "9"]).is_empty());
        assert!(propagated(&mut eng, &mut cl, &["SINTERSTORE", "d", "a", "nokey"]).is_empty());
        let p = propagated(&mut eng, &mut cl, &["SMOVE", "a", "b", "1"]);
        assert_eq!(p, vec![vec!["SMOVE", "a", "b", "1"]]);
        let p = propagated(&mut eng, &mut cl, &["SUNIONSTORE", "d", "a", "b"]);
        assert_eq!(p, vec![vec!["SUNIONSTORE", "d", "a", "b"]]);
        let p = propagated(&mut eng, &mut cl, &["SINTERSTORE", "d", "a", "nokey"]);
        assert_eq!(p, vec![vec!["SINTERSTORE", "d", "a", "nokey"]]);
        assert_eq!(run(&mut eng, &mut cl, &["EXISTS", "d"]), ":0\r\n");
        assert_eq!(eng.keyspace().db(0).len(), 2);
    }
}
