//! Hash commands (Redis's t_hash.c "Hash type commands" half).
//!
//! The structure and its encodings live in [`crate::types::hash`]; here are
//! the replies, the keyspace bookkeeping (empty hashes vanish, `hset`/`hdel`/
//! `hincrby`/`hincrbyfloat` events, WATCH, dirty) and Redis's argument and
//! error order. HINCRBYFLOAT propagates as `HSET key field value` with the
//! final value, as Redis does, so that replicas never redo float math.

use bytes::Bytes;
use rand::Rng;
use resp::encode::{self as enc, Proto};

use super::f::*;
use super::keys::{parse_cursor, parse_scan_opts};
use super::{cmd, eq, lookup_read_in, parse_int, CommandSpec, Ctx, KEY1};
use crate::config::notify;
use crate::engine::Engine;
use crate::error::*;
use crate::keyspace::Value;
use crate::types::hash::{Hash, Pair};
use crate::util::num;

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
        "hmset",
        -4,
        WRITE | DENYOOM | FAST,
        KEY1,
        "hash",
        "2.0.0",
        "Set multiple hash fields to multiple values",
        hset,
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

/// HINCRBY on a value that is not an integer.
pub const HASH_NOT_INT: &str = "ERR hash value is not an integer";
/// HINCRBYFLOAT on a value that is not a float.
pub const HASH_NOT_FLOAT: &str = "ERR hash value is not a float";
/// HINCRBYFLOAT with a NaN or infinite increment.
const INCR_NAN_INF: &str = "ERR value is NaN or Infinity";
/// HINCRBYFLOAT whose result is not finite.
const RESULT_NAN_INF: &str = "ERR increment would produce NaN or Infinity";
/// Redis's `getRangeLongFromObjectOrReply(-LONG_MAX, LONG_MAX)` message.
pub const COUNT_RANGE: &str =
    "ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807";

/// The most bytes a reply of random picks with repetitions (a negative
/// count) may take. Redis streams such replies and relies on the output
/// buffer limits; we build replies in memory, so we refuse instead.
pub const MAX_RANDOM_REPLY_BYTES: usize = 1 << 30;

/// Refuses a count whose reply would pass [`MAX_RANDOM_REPLY_BYTES`], given
/// the average length of one element (field, or field plus value).
pub fn check_reply_budget(count: usize, avg_len: usize) -> CmdResult {
    // `$<len>\r\n…\r\n` (and the pair header in RESP3) per element.
    let per = avg_len.saturating_add(16);
    if count.saturating_mul(per) > MAX_RANDOM_REPLY_BYTES {
        return Err(CmdError::fixed(
            "ERR reply for this count would be too large",
        ));
    }
    Ok(())
}

// ---- helpers ---------------------------------------------------------------

/// The hash at `key` for reading (lazy expiry, stats), borrowing only the
/// engine so the reply can be written meanwhile.
fn read_hash<'e>(
    eng: &'e mut Engine,
    db: usize,
    key: &[u8],
    from_master: bool,
) -> CmdResult<Option<&'e Hash>> {
    match lookup_read_in(eng, db, key, from_master) {
        None => Ok(None),
        Some(e) => match &e.value {
            Value::Hash(h) => Ok(Some(h)),
            _ => Err(WRONGTYPE.into()),
        },
    }
}

/// The hash at `key` for writing; None when missing.
fn write_hash<'c>(c: &'c mut Ctx, key: &[u8]) -> CmdResult<Option<&'c mut Hash>> {
    match c.lookup_write(key) {
        None => Ok(None),
        Some(e) => match &mut e.value {
            Value::Hash(h) => Ok(Some(h)),
            _ => Err(WRONGTYPE.into()),
        },
    }
}

/// The hash at `key` for writing, created empty when missing (Redis's
/// `hashTypeLookupWriteOrCreate`). Callers must leave it non-empty.
fn hash_or_create<'c>(c: &'c mut Ctx, key: &[u8]) -> CmdResult<&'c mut Hash> {
    if write_hash(c, key)?.is_none() {
        c.set_key(key, Value::Hash(Hash::default()), -1);
    }
    let db = c.cl.db;
    match c
        .eng
        .keyspace_mut()
        .db_mut(db)
        .get_mut(key)
        .map(|e| &mut e.value)
    {
        Some(Value::Hash(h)) => Ok(h),
        _ => Err(NO_SUCH_KEY.into()),
    }
}

/// After removing fields: the `hdel` event, then `del` when the hash is now
/// empty and gone.
fn after_delete(c: &mut Ctx, key: &[u8], deleted: usize) {
    if deleted == 0 {
        return;
    }
    c.modified(key);
    c.notify(notify::HASH, "hdel", key);
    if c.delete_if_empty(key) {
        c.notify(notify::GENERIC, "del", key);
    }
    c.dirty(deleted as u64);
}

// ---- commands --------------------------------------------------------------

fn hset(c: &mut Ctx) -> CmdResult {
    if c.args.len() % 2 == 1 {
        return Err(CmdError::arity(c.cmd.name));
    }
    let key = c.args[1].clone();
    let args = c.args.clone();
    let limits = c.hash_limits();
    let h = hash_or_create(c, &key)?;
    let mut created = 0;
    for pair in args[2..].chunks_exact(2) {
        if h.set(&pair[0], &pair[1], &limits) {
            created += 1;
        }
    }
    if c.cmd.name == "hset" {
        c.int(created);
    } else {
        c.ok();
    }
    c.modified(&key);
    c.notify(notify::HASH, "hset", &key);
    c.dirty(((args.len() - 2) / 2) as u64);
    Ok(())
}

fn hsetnx(c: &mut Ctx) -> CmdResult {
    let (key, field, value) = (c.args[1].clone(), c.args[2].clone(), c.args[3].clone());
    let limits = c.hash_limits();
    let h = hash_or_create(c, &key)?;
    // Redis 7.0 checks for the field before any conversion.
    if h.contains(&field) {
        c.int(0);
        return Ok(());
    }
    h.set(&field, &value, &limits);
    c.int(1);
    c.modified(&key);
    c.notify(notify::HASH, "hset", &key);
    c.dirty(1);
    Ok(())
}

fn hget(c: &mut Ctx) -> CmdResult {
    let (db, fm, proto) = (c.cl.db, c.from_master, c.cl.proto);
    match read_hash(c.eng, db, &c.args[1], fm)?.and_then(|h| h.get(&c.args[2])) {
        Some(v) => enc::bulk(c.out, v),
        None => enc::null(c.out, proto),
    }
    Ok(())
}

fn hmget(c: &mut Ctx) -> CmdResult {
    let (db, fm, proto) = (c.cl.db, c.from_master, c.cl.proto);
    let h = read_hash(c.eng, db, &c.args[1], fm)?;
    enc::array_len(c.out, c.args.len() - 2);
    for f in &c.args[2..] {
        match h.and_then(|h| h.get(f)) {
            Some(v) => enc::bulk(c.out, v),
            None => enc::null(c.out, proto),
        }
    }
    Ok(())
}

fn hdel(c: &mut Ctx) -> CmdResult {
    let key = c.args[1].clone();
    let args = c.args.clone();
    let Some(h) = write_hash(c, &key)? else {
        c.int(0);
        return Ok(());
    };
    let mut deleted = 0;
    for f in &args[2..] {
        if h.remove(f) {
            deleted += 1;
            if h.is_empty() {
                break;
            }
        }
    }
    after_delete(c, &key, deleted);
    c.int(deleted as i64);
    Ok(())
}

fn hlen(c: &mut Ctx) -> CmdResult {
    let (db, fm) = (c.cl.db, c.from_master);
    let n = read_hash(c.eng, db, &c.args[1], fm)?.map_or(0, Hash::len);
    c.int(n as i64);
    Ok(())
}

fn hstrlen(c: &mut Ctx) -> CmdResult {
    let (db, fm) = (c.cl.db, c.from_master);
    let n = read_hash(c.eng, db, &c.args[1], fm)?
        .and_then(|h| h.get(&c.args[2]))
        .map_or(0, <[u8]>::len);
    c.int(n as i64);
    Ok(())
}

fn hexists(c: &mut Ctx) -> CmdResult {
    let (db, fm) = (c.cl.db, c.from_master);
    let yes = read_hash(c.eng, db, &c.args[1], fm)?.is_some_and(|h| h.contains(&c.args[2]));
    c.int(yes as i64);
    Ok(())
}

/// HGETALL (a map in RESP3), HKEYS, HVALS.
fn getall(c: &mut Ctx, keys: bool, vals: bool) -> CmdResult {
    let (db, fm, proto) = (c.cl.db, c.from_master, c.cl.proto);
    let h = read_hash(c.eng, db, &c.args[1], fm)?;
    let n = h.map_or(0, Hash::len);
    if keys && vals {
        enc::map_len(c.out, proto, n);
    } else {
        enc::array_len(c.out, n);
    }
    for (f, v) in h.into_iter().flat_map(Hash::iter) {
        if keys {
            enc::bulk(c.out, f);
        }
        if vals {
            enc::bulk(c.out, v);
        }
    }
    Ok(())
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

/// The current value of `field` for an increment: None when the hash or the
/// field is missing.
fn current_value(c: &mut Ctx, key: &[u8], field: &[u8]) -> CmdResult<Option<Vec<u8>>> {
    Ok(write_hash(c, key)?.and_then(|h| h.get(field).map(<[u8]>::to_vec)))
}

fn hincrby(c: &mut Ctx) -> CmdResult {
    let (key, field) = (c.args[1].clone(), c.args[2].clone());
    let incr = parse_int(&c.args[3])?;
    let old = match current_value(c, &key, &field)? {
        None => 0,
        Some(v) => num::parse_i64(&v).ok_or(CmdError::fixed(HASH_NOT_INT))?,
    };
    let new = old.checked_add(incr).ok_or(CmdError::fixed(OVERFLOW))?;
    let text = itoa::Buffer::new().format(new).as_bytes().to_vec();
    let limits = c.hash_limits();
    hash_or_create(c, &key)?.set(&field, &text, &limits);
    c.int(new);
    c.modified(&key);
    c.notify(notify::HASH, "hincrby", &key);
    c.dirty(1);
    Ok(())
}

fn hincrbyfloat(c: &mut Ctx) -> CmdResult {
    let (key, field, incr) = (c.args[1].clone(), c.args[2].clone(), c.args[3].clone());
    // Parsed as Redis does, in long double: `1e400` is a valid increment.
    match crate::util::ldouble::LDouble::parse(&incr) {
        None => return Err(NOT_FLOAT.into()),
        Some(x) if x.is_nan_or_inf() => return Err(INCR_NAN_INF.into()),
        Some(_) => {}
    }
    let cur = current_value(c, &key, &field)?;
    let text = crate::util::ldouble::incr_by_float(cur.as_deref(), &incr).map_err(|e| match e {
        crate::util::ldouble::IncrFloatError::BadCurrent => CmdError::fixed(HASH_NOT_FLOAT),
        crate::util::ldouble::IncrFloatError::BadIncrement => CmdError::fixed(NOT_FLOAT),
        crate::util::ldouble::IncrFloatError::NanOrInf => CmdError::fixed(RESULT_NAN_INF),
    })?;
    let limits = c.hash_limits();
    hash_or_create(c, &key)?.set(&field, text.as_bytes(), &limits);
    c.bulk(text.as_bytes());
    c.modified(&key);
    c.notify(notify::HASH, "hincrbyfloat", &key);
    c.dirty(1);
    c.propagate_instead(vec![vec![
        b"HSET".to_vec(),
        key.to_vec(),
        field.to_vec(),
        text.into_bytes(),
    ]]);
    Ok(())
}

/// A count argument in `-LONG_MAX..=LONG_MAX` (HRANDFIELD, SRANDMEMBER).
pub fn parse_signed_count(b: &[u8]) -> CmdResult<i64> {
    let n = parse_int(b)?;
    if n == i64::MIN {
        return Err(COUNT_RANGE.into());
    }
    Ok(n)
}

fn hrandfield(c: &mut Ctx) -> CmdResult {
    let (db, fm, proto) = (c.cl.db, c.from_master, c.cl.proto);
    let key: Bytes = c.args[1].clone();
    if c.args.len() == 2 {
        if read_hash(c.eng, db, &key, fm)?.is_none() {
            enc::null(c.out, proto);
            return Ok(());
        }
        let (dbs, rng) = c.eng.dbs_and_rng();
        match hash_in(dbs, db, &key).and_then(|h| h.random_pair(rng)) {
            Some((f, _)) => enc::bulk(c.out, f),
            None => enc::null(c.out, proto),
        }
        return Ok(());
    }
    let l = parse_signed_count(&c.args[2])?;
    let withvalues = match c.args.len() {
        3 => false,
        4 if eq(&c.args[3], "withvalues") => true,
        _ => return Err(SYNTAX.into()),
    };
    if withvalues && !(-(i64::MAX / 2)..=i64::MAX / 2).contains(&l) {
        return Err("ERR value is out of range".into());
    }
    if read_hash(c.eng, db, &key, fm)?.is_none() || l == 0 {
        enc::array_len(c.out, 0);
        return Ok(());
    }
    let stop_at = c.reply_stop_at().map(|n| n + c.out.len());
    let (dbs, rng) = c.eng.dbs_and_rng();
    let Some(h) = hash_in(dbs, db, &key) else {
        enc::array_len(c.out, 0);
        return Ok(());
    };
    random_fields(c.out, h, rng, l, withvalues, proto, stop_at)
}

/// The hash at `key` in `dbs[db]`, after a lookup that did expiry and stats.
fn hash_in<'d>(dbs: &'d [crate::keyspace::Db], db: usize, key: &[u8]) -> Option<&'d Hash> {
    match &dbs.get(db)?.get(key)?.value {
        Value::Hash(h) => Some(h),
        _ => None,
    }
}

/// HRANDFIELD with a non-zero count: distinct fields for a positive count
/// (all of them, in encoding order, when it covers the hash), independent
/// picks for a negative one, which stop once the reply reaches `stop_at`
/// ([`Ctx::reply_stop_at`]). RESP3 nests each WITHVALUES pair in an array.
fn random_fields(
    out: &mut Vec<u8>,
    h: &Hash,
    rng: &mut impl Rng,
    l: i64,
    withvalues: bool,
    proto: Proto,
    stop_at: Option<usize>,
) -> CmdResult {
    let count = usize::try_from(l.unsigned_abs()).unwrap_or(usize::MAX);
    let n = h.len();
    let write_pair = |out: &mut Vec<u8>, (f, v): Pair| {
        if withvalues && proto == Proto::Resp3 {
            enc::array_len(out, 2);
        }
        enc::bulk(out, f);
        if withvalues {
            enc::bulk(out, v);
        }
    };
    let per = if withvalues && proto == Proto::Resp2 {
        2
    } else {
        1
    };
    if l > 0 {
        // At most `n` pairs: bounded by the hash itself.
        let picks = h.random_pairs(count, true, rng);
        enc::array_len(out, picks.len() * per);
        for p in picks {
            write_pair(out, p);
        }
        return Ok(());
    }
    // Repetitions: `count` independent picks, streamed. A listpack is
    // indexed once so that each pick is O(1).
    let listed: Option<Vec<Pair>> = match h {
        Hash::Listpack(_) => Some(h.iter().collect()),
        Hash::Table(_) => None,
    };
    let at = |i: usize| match &listed {
        Some(v) => v.get(i).copied(),
        None => h.get_index(i),
    };
    let sample = n.min(64);
    let avg = (0..sample)
        .filter_map(|_| at(rng.gen_range(0..n)))
        .map(|(f, v)| f.len() + if withvalues { v.len() + 16 } else { 0 })
        .sum::<usize>()
        / sample.max(1);
    if stop_at.is_none() {
        check_reply_budget(count, avg)?;
    }
    enc::array_len(out, count * per);
    for _ in 0..count {
        if let Some(p) = at(rng.gen_range(0..n)) {
            write_pair(out, p);
        }
        if stop_at.is_some_and(|s| out.len() > s) {
            break;
        }
    }
    Ok(())
}

fn hscan(c: &mut Ctx) -> CmdResult {
    let cursor = parse_cursor(&c.args[2])?;
    let (db, fm) = (c.cl.db, c.from_master);
    let key = c.args[1].clone();
    if read_hash(c.eng, db, &key, fm)?.is_none() {
        empty_scan(c.out);
        return Ok(());
    }
    let o = parse_scan_opts(c, 3, false)?;
    let Some(h) = hash_in(c.eng.keyspace().dbs(), db, &key) else {
        empty_scan(c.out);
        return Ok(());
    };
    let (next, items) = h.scan(cursor, o.count, o.pattern.as_deref());
    enc::array_len(c.out, 2);
    enc::bulk(c.out, itoa::Buffer::new().format(next).as_bytes());
    enc::array_len(c.out, items.len() * 2);
    for (f, v) in items {
        enc::bulk(c.out, f);
        enc::bulk(c.out, v);
    }
    Ok(())
}

/// `*2 "0" *0`: SCAN of a missing key.
pub fn empty_scan(out: &mut Vec<u8>) {
    enc::array_len(out, 2);
    enc::bulk(out, b"0");
    enc::array_len(out, 0);
}

#[cfg(test)]
mod tests {
    use crate::commands::set::tests::{propagated, run, setup};

    #[test]
    fn hincrbyfloat_propagates_as_hset() {
        let (mut eng, mut cl) = setup();
        let p = propagated(&mut eng, &mut cl, &["HINCRBYFLOAT", "h", "f", "1.5"]);
        assert_eq!(p, vec![vec!["HSET", "h", "f", "1.5"]]);
        let p = propagated(&mut eng, &mut cl, &["HINCRBYFLOAT", "h", "f", "2e1"]);
        assert_eq!(p, vec![vec!["HSET", "h", "f", "21.5"]]);
        assert!(propagated(&mut eng, &mut cl, &["HINCRBYFLOAT", "h", "f", "x"]).is_empty());
        let p = propagated(&mut eng, &mut cl, &["HINCRBY", "h", "n", "3"]);
        assert_eq!(p, vec![vec!["HINCRBY", "h", "n", "3"]]);
    }

    #[test]
    fn no_op_writes_do_not_propagate() {
        let (mut eng, mut cl) = setup();
        run(&mut eng, &mut cl, &["HSET", "h", "a", "1"]);
        assert!(propagated(&mut eng, &mut cl, &["HSETNX", "h", "a", "2"]).is_empty());
        assert!(propagated(&mut eng, &mut cl, &["HDEL", "h", "zz"]).is_empty());
        assert!(propagated(&mut eng, &mut cl, &["HDEL", "nokey", "zz"]).is_empty());
        let p = propagated(&mut eng, &mut cl, &["HDEL", "h", "a"]);
        assert_eq!(p, vec![vec!["HDEL", "h", "a"]]);
        assert_eq!(run(&mut eng, &mut cl, &["EXISTS", "h"]), ":0\r\n");
        // HSET always counts as a change, even to the same value.
        let p = propagated(&mut eng, &mut cl, &["HSET", "h", "a", "1"]);
        assert_eq!(p.len(), 1);
        let p = propagated(&mut eng, &mut cl, &["HSET", "h", "a", "1"]);
        assert_eq!(p.len(), 1);
    }
}
