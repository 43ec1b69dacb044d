//! Sorted set commands (Redis's t_zset.c command half), including
//! BZPOPMIN/BZPOPMAX/BZMPOP through `crate::blocking`.
//!
//! Replies, error texts and the order of checks follow Redis 7.0: options
//! and numbers are parsed before the key is looked up (so a syntax error
//! wins over WRONGTYPE), except where Redis looks keys up first (the
//! ZUNION family reads its inputs before its options, ZPOP* and ZRANDMEMBER
//! check the key before acting on a zero count). Every write keeps Redis's
//! housekeeping in Redis's order: the zset keyspace event, then `del` when
//! the sorted set became empty (Redis never keeps an empty one), WATCH
//! invalidation, and the dirty count.
//!
//! Blocking pops serve at once when a sorted set has members; otherwise they
//! block and `blocking::handle_ready` re-runs them when a write signals one
//! of their keys. What a served pop propagates is what Redis 7.0
//! propagates: BZPOPMIN/BZPOPMAX as `ZPOPMIN|ZPOPMAX key`, ZMPOP and BZMPOP
//! as `ZPOPMIN|ZPOPMAX key count`.

use std::borrow::Cow;
use std::cmp::Ordering;
use std::collections::HashMap;

use bytes::Bytes;
use resp::encode::{self as enc, Proto};

use super::f::*;
use super::keys::{parse_cursor, parse_scan_opts};
use super::{cmd, eq, lookup_read_in, parse_float, parse_int, CommandSpec, Ctx, KEY1, NOKEYS};
use crate::blocking::{block, may_block, parse_timeout, TimeoutReply};
use crate::config::notify;
use crate::error::*;
use crate::keyspace::{Key, Value};
use crate::types::set::Set;
use crate::types::zset::{LexRange, ScoreRange, ZAddFlags, ZSet};
use crate::util::num::{d2string, fmt_g17};

/// Keys from 1 to the one before the timeout (BZPOPMIN, BZPOPMAX).
const KEYS_BEFORE_LAST: (i32, i32, i32) = (1, -2, 1);
/// Keys at 1 and 2 (ZRANGESTORE).
const KEYS12: (i32, i32, i32) = (1, 2, 1);

const G: &str = "sorted-set";

/// The sorted set commands.
pub static COMMANDS: &[CommandSpec] = &[
    cmd("zadd", -4, WRITE | DENYOOM | FAST, KEY1, G, "1.2.0",
        "Add one or more members to a sorted set, or update its score if it already exists", zadd),
    cmd("zincrby", 4, WRITE | DENYOOM | FAST, KEY1, G, "1.2.0",
        "Increment the score of a member in a sorted set", zincrby),
    cmd("zrem", -3, WRITE | FAST, KEY1, G, "1.2.0",
        "Remove one or more members from a sorted set", zrem),
    cmd("zscore", 3, READONLY | FAST, KEY1, G, "1.2.0",
        "Get the score associated with the given member in a sorted set", zscore),
    cmd("zmscore", -3, READONLY | FAST, KEY1, G, "6.2.0",
        "Get the score associated with the given members in a sorted set", zmscore),
    cmd("zcard", 2, READONLY | FAST, KEY1, G, "1.2.0",
        "Get the number of members in a sorted set", zcard),
    cmd("zcount", 4, READONLY | FAST, KEY1, G, "2.0.0",
        "Count the members in a sorted set with scores within the given values", zcount),
    cmd("zlexcount", 4, READONLY | FAST, KEY1, G, "2.8.9",
        "Count the number of members in a sorted set between a given lexicographical range", zlexcount),
    cmd("zrange", -4, READONLY, KEY1, G, "1.2.0",
        "Return a range of members in a sorted set", zrange),
    cmd("zrangestore", -5, WRITE | DENYOOM, KEYS12, G, "6.2.0",
        "Store a range of members from sorted set into another key", zrangestore),
    cmd("zrangebyscore", -4, READONLY, KEY1, G, "1.0.5",
        "Return a range of members in a sorted set, by score", zrangebyscore),
    cmd("zrevrangebyscore", -4, READONLY, KEY1, G, "2.2.0",
        "Return a range of members in a sorted set, by score, with scores ordered from high to low", zrevrangebyscore),
    cmd("zrangebylex", -4, READONLY, KEY1, G, "2.8.9",
        "Return a range of members in a sorted set, by lexicographical range", zrangebylex),
    cmd("zrevrangebylex", -4, READONLY, KEY1, G, "2.8.9",
        "Return a range of members in a sorted set, by lexicographical range, ordered from higher to lower strings.", zrevrangebylex),
    cmd("zrevrange", -4, READONLY, KEY1, G, "1.2.0",
        "Return a range of members in a sorted set, by index, with scores ordered from high to low", zrevrange),
    cmd("zrank", 3, READONLY | FAST, KEY1, G, "2.0.0",
        "Determine the index of a member in a sorted set", zrank),
    cmd("zrevrank", 3, READONLY | FAST, KEY1, G, "2.0.0",
        "Determine the index of a member in a sorted set, with scores ordered from high to low", zrevrank),
    cmd("zremrangebyrank", 4, WRITE, KEY1, G, "2.0.0",
        "Remove all members in a sorted set within the given indexes", zremrangebyrank),
    cmd("zremrangebyscore", 4, WRITE, KEY1, G, "1.2.0",
        "Remove all members in a sorted set within the given scores", zremrangebyscore),
    cmd("zremrangebylex", 4, WRITE, KEY1, G, "2.8.9",
        "Remove all members in a sorted set between the given lexicographical range", zremrangebylex),
    cmd("zpopmin", -2, WRITE | FAST, KEY1, G, "5.0.0",
        "Remove and return members with the lowest scores in a sorted set", zpopmin),
    cmd("zpopmax", -2, WRITE | FAST, KEY1, G, "5.0.0",
        "Remove and return members with the highest scores in a sorted set", zpopmax),
    // ZMPOP, BZMPOP, ZUNION, ZINTER, ZDIFF and ZINTERCARD find their keys
    // through `numkeys` (Redis's "movablekeys"): the legacy (first, last,
    // step) triple is (0, 0, 0), and only the destination for *STORE.
    cmd("zmpop", -4, WRITE, NOKEYS, G, "7.0.0",
        "Remove and return members with scores in a sorted set", zmpop).numkeys_at(1),
    cmd("bzpopmin", -3, WRITE | NOSCRIPT | FAST | BLOCKING, KEYS_BEFORE_LAST, G, "5.0.0",
        "Remove and return the member with the lowest score from one or more sorted sets, or block until one is available", bzpopmin),
    cmd("bzpopmax", -3, WRITE | NOSCRIPT | FAST | BLOCKING, KEYS_BEFORE_LAST, G, "5.0.0",
        "Remove and return the member with the highest score from one or more sorted sets, or block until one is available", bzpopmax),
    cmd("bzmpop", -5, WRITE | BLOCKING, NOKEYS, G, "7.0.0",
        "Remove and return members with scores in a sorted set or block until one is available", bzmpop).numkeys_at(2),
    cmd("zunion", -3, READONLY, NOKEYS, G, "6.2.0",
        "Add multiple sorted sets", zunion).numkeys_at(1),
    cmd("zinter", -3, READONLY, NOKEYS, G, "6.2.0",
        "Intersect multiple sorted sets", zinter).numkeys_at(1),
    cmd("zdiff", -3, READONLY, NOKEYS, G, "6.2.0",
        "Subtract multiple sorted sets", zdiff).numkeys_at(1),
    cmd("zintercard", -3, READONLY, NOKEYS, G, "7.0.0",
        "Intersect multiple sorted sets and return the cardinality of the result", zintercard).numkeys_at(1),
    cmd("zunionstore", -4, WRITE | DENYOOM, KEY1, G, "2.0.0",
        "Add multiple sorted sets and store the resulting sorted set in a new key", zunionstore).numkeys_at(2),
    cmd("zinterstore", -4, WRITE | DENYOOM, KEY1, G, "2.0.0",
        "Intersect multiple sorted sets and store the resulting sorted set in a new key", zinterstore).numkeys_at(2),
    cmd("zdiffstore", -4, WRITE | DENYOOM, KEY1, G, "6.2.0",
        "Subtract multiple sorted sets and store the resulting sorted set in a new key", zdiffstore).numkeys_at(2),
    cmd("zrandmember", -2, READONLY, KEY1, G, "6.2.0",
        "Get one or multiple random elements from a sorted set", zrandmember),
    cmd("zscan", -3, READONLY, KEY1, G, "2.8.0",
        "Incrementally iterate sorted sets elements and associated scores", zscan),
];

// ---- error texts (Redis 7.0's, exactly) ---------------------------------

const XX_NX: &str = "ERR XX and NX options at the same time are not compatible";
const GT_LT_NX: &str = "ERR GT, LT, and/or NX options at the same time are not compatible";
const INCR_PAIR: &str = "ERR INCR option supports a single increment-element pair";
const NAN_SCORE: &str = "ERR resulting score is not a number (NaN)";
const LIMIT_RANK: &str =
    "ERR syntax error, LIMIT is only supported in combination with either BYSCORE or BYLEX";
const WITHSCORES_LEX: &str = "ERR syntax error, WITHSCORES not supported in combination with BYLEX";
const MUST_BE_POSITIVE: &str = "ERR value is out of range, must be positive";
const WEIGHT_NOT_FLOAT: &str = "ERR weight value is not a float";
const LIMIT_NEGATIVE: &str = "ERR LIMIT can't be negative";
const OUT_OF_RANGE: &str = "ERR value is out of range";
const RANDMEMBER_RANGE: &str =
    "ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807";

/// Most bytes a ZRANDMEMBER reply with a negative count may take: Redis
/// streams such replies, we build them whole, so a larger request is
/// refused as out of range instead of exhausting memory.
const RANDMEMBER_MAX_REPLY: u64 = 1 << 30;

// ---- helpers --------------------------------------------------------------

/// The sorted set at `key` for writing: None when missing, WRONGTYPE for
/// other types.
fn zset_mut<'c>(c: &'c mut Ctx<'_>, key: &[u8]) -> CmdResult<Option<&'c mut ZSet>> {
    match c.lookup_write(key) {
        None => Ok(None),
        Some(e) => match &mut e.value {
            Value::ZSet(z) => Ok(Some(z)),
            _ => Err(WRONGTYPE.into()),
        },
    }
}

/// The sorted set at `key` for reading (hit/miss stats, LRU), with the
/// reply buffer beside it so that members go out without copies.
pub(super) fn zset_read<'c>(
    c: &'c mut Ctx<'_>,
    key: &[u8],
) -> CmdResult<(Option<&'c ZSet>, &'c mut Vec<u8>, Proto)> {
    let (db, from_master, proto) = (c.cl.db, c.from_master, c.cl.proto);
    let out = &mut *c.out;
    match lookup_read_in(c.eng, db, key, from_master) {
        None => Ok((None, out, proto)),
        Some(e) => match &e.value {
            Value::ZSet(z) => Ok((Some(z), out, proto)),
            _ => Err(WRONGTYPE.into()),
        },
    }
}

/// A double reply, %.17g as Redis's addReplyDouble.
fn put_double(out: &mut Vec<u8>, proto: Proto, d: f64) {
    enc::double(out, proto, fmt_g17(d).as_bytes());
}

/// Members, with their scores when asked: a flat array in RESP2, an array
/// of [member, score] pairs in RESP3 (Redis 7.0's WITHSCORES shapes).
fn put_pairs<M: AsRef<[u8]>>(
    out: &mut Vec<u8>,
    proto: Proto,
    items: &[(M, f64)],
    withscores: bool,
) {
    if withscores && proto == Proto::Resp2 {
        enc::array_len(out, items.len() * 2);
    } else {
        enc::array_len(out, items.len());
    }
    for (m, s) in items {
        if withscores && proto == Proto::Resp3 {
            enc::array_len(out, 2);
        }
        enc::bulk(out, m.as_ref());
        if withscores {
            put_double(out, proto, *s);
        }
    }
}

/// Parses a long in `lo..` with one message for both a non-number and a
/// value out of range (Redis's getRangeLongFromObjectOrReply with a
/// message).
fn parse_at_least(arg: &[u8], lo: i64, msg: &'static str) -> CmdResult<i64> {
    match crate::util::num::parse_i64(arg) {
        Some(n) if n >= lo => Ok(n),
        _ => Err(msg.into()),
    }
}

fn to_usize(n: i64) -> usize {
    usize::try_from(n).unwrap_or(usize::MAX)
}

fn cmp_pair(a: &(Vec<u8>, f64), b: &(Vec<u8>, f64)) -> Ordering {
    a.1.partial_cmp(&b.1)
        .unwrap_or(Ordering::Equal)
        .then_with(|| a.0.cmp(&b.0))
}

/// Stores a computed result at `dst` as Redis's *STORE commands do: the
/// value (replacing anything, TTL included) and its event when there is
/// one, counting `dirty` changes, otherwise deleting `dst` (one change if
/// it existed). Replies with the result's size.
pub(super) fn store_result(c: &mut Ctx, dst: &[u8], z: ZSet, event: &str, dirty: u64) {
    if z.is_empty() {
        c.int(0);
        if c.delete(dst) {
            c.notify(notify::GENERIC, "del", dst);
            c.dirty(1);
        }
        return;
    }
    let len = z.len();
    c.set_key(dst, Value::ZSet(z), -1);
    c.int(len as i64);
    c.notify(notify::ZSET, event, dst);
    c.dirty(dirty);
    let db = c.cl.db;
    c.eng.keyspace_mut().signal_ready(db, dst);
}

// ---- ZADD / ZINCRBY / ZREM --------------------------------------------------

pub(super) fn zadd(c: &mut Ctx) -> CmdResult {
    zadd_generic(c, false)
}

fn zincrby(c: &mut Ctx) -> CmdResult {
    zadd_generic(c, true)
}

/// ZADD key [NX|XX] [GT|LT] [CH] [INCR] score member [score member ...],
/// and ZINCRBY key increment member (ZADD with INCR, as in Redis: the
/// option words are recognised there too).
fn zadd_generic(c: &mut Ctx, incr_cmd: bool) -> CmdResult {
    let argc = c.args.len();
    let mut fl = ZAddFlags {
        incr: incr_cmd,
        ..ZAddFlags::default()
    };
    let mut ch = false;
    let mut idx = 2;
    while idx < argc {
        let o = c.arg(idx);
        if eq(o, "nx") {
            fl.nx = true;
        } else if eq(o, "xx") {
            fl.xx = true;
        } else if eq(o, "ch") {
            ch = true;
        } else if eq(o, "incr") {
            fl.incr = true;
        } else if eq(o, "gt") {
            fl.gt = true;
        } else if eq(o, "lt") {
            fl.lt = true;
        } else {
            break;
        }
        idx += 1;
    }
    let elements = argc - idx;
    if elements % 2 != 0 || elements == 0 {
        return Err(SYNTAX.into());
    }
    let n = elements / 2;
    if fl.nx && fl.xx {
        return Err(XX_NX.into());
    }
    if (fl.gt && fl.nx) || (fl.lt && fl.nx) || (fl.gt && fl.lt) {
        return Err(GT_LT_NX.into());
    }
    if fl.incr && n > 1 {
        return Err(INCR_PAIR.into());
    }
    let mut scores = Vec::with_capacity(n);
    for j in 0..n {
        scores.push(parse_float(c.arg(idx + 2 * j))?);
    }
    let key = c.args[1].clone();
    let limits = c.zset_limits();
    if zset_mut(c, &key)?.is_none() {
        if fl.xx {
            if fl.incr {
                c.null();
            } else {
                c.int(0);
            }
            return Ok(());
        }
        let z = if limits.max_listpack_entries == 0
            || limits.max_listpack_value < c.arg(idx + 1).len()
        {
            ZSet::new_skiplist()
        } else {
            ZSet::new()
        };
        c.set_key(&key, Value::ZSet(z), -1);
    }
    let (mut added, mut updated, mut processed) = (0usize, 0usize, 0usize);
    let mut last = 0.0;
    let mut nan = false;
    let db = c.cl.db;
    if let Some(Value::ZSet(z)) = c
        .eng
        .keyspace_mut()
        .db_mut(db)
        .get_mut(&key)
        .map(|e| &mut e.value)
    {
        for (j, score) in scores.iter().enumerate() {
            let member = &c.args[idx + 1 + 2 * j];
            match z.add(member, *score, fl, &limits) {
                Err(_) => {
                    nan = true;
                    break;
                }
                Ok(o) => {
                    let (a, au) = o.counts();
                    added += a;
                    updated += au - a;
                    if let Some(s) = o.score() {
                        processed += 1;
                        last = s;
                    }
                }
            }
        }
    }
    // Never the case in practice (a NaN needs an existing member), but an
    // empty sorted set must not stay behind.
    c.delete_if_empty(&key);
    c.dirty((added + updated) as u64);
    // On NaN the error goes out through the dispatcher, after the
    // housekeeping below.
    if !nan {
        if !fl.incr {
            c.int(if ch { added + updated } else { added } as i64);
        } else if processed > 0 {
            c.double(last);
        } else {
            c.null();
        }
    }
    if added > 0 || updated > 0 {
        c.modified(&key);
        c.notify(notify::ZSET, if fl.incr { "zincr" } else { "zadd" }, &key);
    }
    if added > 0 {
        c.eng.keyspace_mut().signal_ready(db, &key);
    }
    if nan {
        return Err(NAN_SCORE.into());
    }
    Ok(())
}

/// ZREM key member [member ...]
fn zrem(c: &mut Ctx) -> CmdResult {
    let key = c.args[1].clone();
    let members: Vec<Bytes> = c.args[2..].to_vec();
    let Some(z) = zset_mut(c, &key)? else {
        c.int(0);
        return Ok(());
    };
    let mut deleted = 0usize;
    for m in &members {
        if z.remove(m) {
            deleted += 1;
        }
        if z.is_empty() {
            break;
        }
    }
    if deleted > 0 {
        c.notify(notify::ZSET, "zrem", &key);
        if c.delete_if_empty(&key) {
            c.notify(notify::GENERIC, "del", &key);
        }
        c.modified(&key);
        c.dirty(deleted as u64);
    }
    c.int(deleted as i64);
    Ok(())
}

// ---- point reads --------------------------------------------------------------

fn zscore(c: &mut Ctx) -> CmdResult {
    let key = c.args[1].clone();
    let member = c.args[2].clone();
    let (z, out, proto) = zset_read(c, &key)?;
    match z.and_then(|z| z.score(&member)) {
        Some(s) => put_double(out, proto, s),
        None => enc::null(out, proto),
    }
    Ok(())
}

fn zmscore(c: &mut Ctx) -> CmdResult {
    reply_per_member(c, put_double, enc::null)
}

/// ZMSCORE's reply shape, which GEOPOS and GEOHASH share: an array with,
/// for each member after the key, `found` given its score, or `missing`
/// when the member (or the key) is absent.
pub(super) fn reply_per_member(
    c: &mut Ctx,
    found: impl Fn(&mut Vec<u8>, Proto, f64),
    missing: fn(&mut Vec<u8>, Proto),
) -> CmdResult {
    let key = c.args[1].clone();
    let members: Vec<Bytes> = c.args[2..].to_vec();
    let (z, out, proto) = zset_read(c, &key)?;
    enc::array_len(out, members.len());
    for m in &members {
        match z.and_then(|z| z.score(m)) {
            Some(s) => found(out, proto, s),
            None => missing(out, proto),
        }
    }
    Ok(())
}

fn zcard(c: &mut Ctx) -> CmdResult {
    let key = c.args[1].clone();
    let (z, out, _) = zset_read(c, &key)?;
    enc::integer(out, z.map_or(0, |z| z.len() as i64));
    Ok(())
}

fn zrank(c: &mut Ctx) -> CmdResult {
    rank_generic(c, false)
}

fn zrevrank(c: &mut Ctx) -> CmdResult {
    rank_generic(c, true)
}

fn rank_generic(c: &mut Ctx, reverse: bool) -> CmdResult {
    let key = c.args[1].clone();
    let member = c.args[2].clone();
    let (z, out, proto) = zset_read(c, &key)?;
    match z.and_then(|z| z.rank(&member, reverse)) {
        Some(r) => enc::integer(out, r as i64),
        None => enc::null(out, proto),
    }
    Ok(())
}

fn zcount(c: &mut Ctx) -> CmdResult {
    let range = ScoreRange::parse(c.arg(2), c.arg(3)).map_err(CmdError::fixed)?;
    let key = c.args[1].clone();
    let (z, out, _) = zset_read(c, &key)?;
    enc::integer(out, z.map_or(0, |z| z.count_in_score_range(&range) as i64));
    Ok(())
}

fn zlexcount(c: &mut Ctx) -> CmdResult {
    let range = LexRange::parse(c.arg(2), c.arg(3)).map_err(CmdError::fixed)?;
    let key = c.args[1].clone();
    let (z, out, _) = zset_read(c, &key)?;
    enc::integer(out, z.map_or(0, |z| z.count_in_lex_range(&range) as i64));
    Ok(())
}

// ---- ZRANGE family ------------------------------------------------------------

#[derive(Clone, Copy, PartialEq, Eq)]
enum RangeType {
    Auto,
    Rank,
    Score,
    Lex,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Direction {
    Auto,
    Forward,
    Reverse,
}

/// A parsed range request.
enum Range {
    Rank(i64, i64),
    Score(ScoreRange),
    Lex(LexRange),
}

struct RangeQuery {
    range: Range,
    reverse: bool,
    withscores: bool,
    offset: i64,
    limit: i64,
}

impl RangeQuery {
    /// The elements selected from `z`, in reply order.
    fn select<'z>(&self, z: &'z ZSet) -> Vec<(&'z [u8], f64)> {
        let limit = usize::try_from(self.limit).ok();
        match &self.range {
            Range::Rank(start, end) => {
                let llen = z.len() as i64;
                let (mut s, mut e) = (*start, *end);
                if s < 0 {
                    s += llen;
                }
                if e < 0 {
                    e += llen;
                }
                if s < 0 {
                    s = 0;
                }
                if s > e || s >= llen {
                    return Vec::new();
                }
                z.range_by_rank(to_usize(s), to_usize(e), self.reverse)
            }
            // A negative offset walks off the end in Redis: nothing.
            Range::Score(r) => match usize::try_from(self.offset) {
                Ok(off) => z.range_by_score(r, self.reverse, off, limit),
                Err(_) => Vec::new(),
            },
            Range::Lex(r) => match usize::try_from(self.offset) {
                Ok(off) => z.range_by_lex(r, self.reverse, off, limit),
                Err(_) => Vec::new(),
            },
        }
    }
}

/// Redis's zrangeGenericCommand argument parsing: `<src> <min> <max>` at
/// `start` and the options after them.
fn parse_range(
    c: &Ctx,
    start: usize,
    store: bool,
    mut rt: RangeType,
    mut dir: Direction,
) -> CmdResult<RangeQuery> {
    let argc = c.args.len();
    let (mut withscores, mut offset, mut limit) = (false, 0i64, -1i64);
    let mut j = start + 3;
    while j < argc {
        let left = argc - j - 1;
        let a = c.arg(j);
        if !store && eq(a, "withscores") {
            withscores = true;
        } else if eq(a, "limit") && left >= 2 {
            offset = parse_int(c.arg(j + 1))?;
            limit = parse_int(c.arg(j + 2))?;
            j += 2;
        } else if dir == Direction::Auto && eq(a, "rev") {
            dir = Direction::Reverse;
        } else if rt == RangeType::Auto && eq(a, "bylex") {
            rt = RangeType::Lex;
        } else if rt == RangeType::Auto && eq(a, "byscore") {
            rt = RangeType::Score;
        } else {
            return Err(SYNTAX.into());
        }
        j += 1;
    }
    let reverse = dir == Direction::Reverse;
    if rt == RangeType::Auto {
        rt = RangeType::Rank;
    }
    // Redis tells "no LIMIT" by the count -1, so `LIMIT x -1` passes here.
    if limit != -1 && rt == RangeType::Rank {
        return Err(LIMIT_RANK.into());
    }
    if withscores && rt == RangeType::Lex {
        return Err(WITHSCORES_LEX.into());
    }
    let (mut minidx, mut maxidx) = (start + 1, start + 2);
    if reverse && rt != RangeType::Rank {
        std::mem::swap(&mut minidx, &mut maxidx);
    }
    let range = match rt {
        RangeType::Score => {
            Range::Score(ScoreRange::parse(c.arg(minidx), c.arg(maxidx)).map_err(CmdError::fixed)?)
        }
        RangeType::Lex => {
            Range::Lex(LexRange::parse(c.arg(minidx), c.arg(maxidx)).map_err(CmdError::fixed)?)
        }
        _ => Range::Rank(parse_int(c.arg(minidx))?, parse_int(c.arg(maxidx))?),
    };
    Ok(RangeQuery {
        range,
        reverse,
        withscores,
        offset,
        limit,
    })
}

fn range_reply(c: &mut Ctx, rt: RangeType, dir: Direction) -> CmdResult {
    let q = parse_range(c, 1, false, rt, dir)?;
    let key = c.args[1].clone();
    let (z, out, proto) = zset_read(c, &key)?;
    match z {
        None => enc::array_len(out, 0),
        Some(z) => put_pairs(out, proto, &q.select(z), q.withscores),
    }
    Ok(())
}

/// ZRANGE key min max [BYSCORE|BYLEX] [REV] [LIMIT offset count] [WITHSCORES]
fn zrange(c: &mut Ctx) -> CmdResult {
    range_reply(c, RangeType::Auto, Direction::Auto)
}

fn zrevrange(c: &mut Ctx) -> CmdResult {
    range_reply(c, RangeType::Rank, Direction::Reverse)
}

fn zrangebyscore(c: &mut Ctx) -> CmdResult {
    range_reply(c, RangeType::Score, Direction::Forward)
}

fn zrevrangebyscore(c: &mut Ctx) -> CmdResult {
    range_reply(c, RangeType::Score, Direction::Reverse)
}

fn zrangebylex(c: &mut Ctx) -> CmdResult {
    range_reply(c, RangeType::Lex, Direction::Forward)
}

fn zrevrangebylex(c: &mut Ctx) -> CmdResult {
    range_reply(c, RangeType::Lex, Direction::Reverse)
}

/// ZRANGESTORE dst src min max [BYSCORE|BYLEX] [REV] [LIMIT offset count]
fn zrangestore(c: &mut Ctx) -> CmdResult {
    let q = parse_range(c, 2, true, RangeType::Auto, Direction::Auto)?;
    let dst = c.args[1].clone();
    let src = c.args[2].clone();
    let limits = c.zset_limits();
    let (z, _, _) = zset_read(c, &src)?;
    let items: Vec<(Vec<u8>, f64)> = z
        .map(|z| {
            q.select(z)
                .into_iter()
                .map(|(m, s)| (m.to_vec(), s))
                .collect()
        })
        .unwrap_or_default();
    // Redis sizes the destination by the rank range's length; score and
    // lex ranges start as a listpack and convert while growing.
    let hint = match q.range {
        Range::Rank(..) => items.len(),
        _ => 0,
    };
    let mut out = ZSet::with_len_hint(hint, &limits);
    for (m, s) in &items {
        let _ = out.add(m, *s, ZAddFlags::default(), &limits);
    }
    store_result(c, &dst, out, "zrangestore", 1);
    Ok(())
}

// ---- ZREMRANGEBY* ------------------------------------------------------------

fn zremrangebyrank(c: &mut Ctx) -> CmdResult {
    let start = parse_int(c.arg(2))?;
    let end = parse_int(c.arg(3))?;
    remrange(c, Range::Rank(start, end), "zremrangebyrank")
}

fn zremrangebyscore(c: &mut Ctx) -> CmdResult {
    let r = ScoreRange::parse(c.arg(2), c.arg(3)).map_err(CmdError::fixed)?;
    remrange(c, Range::Score(r), "zremrangebyscore")
}

fn zremrangebylex(c: &mut Ctx) -> CmdResult {
    let r = LexRange::parse(c.arg(2), c.arg(3)).map_err(CmdError::fixed)?;
    remrange(c, Range::Lex(r), "zremrangebylex")
}

fn remrange(c: &mut Ctx, range: Range, event: &str) -> CmdResult {
    let key = c.args[1].clone();
    let Some(z) = zset_mut(c, &key)? else {
        c.int(0);
        return Ok(());
    };
    let deleted = match &range {
        Range::Rank(start, end) => {
            let llen = z.len() as i64;
            let (mut s, mut e) = (*start, *end);
            if s < 0 {
                s += llen;
            }
            if e < 0 {
                e += llen;
            }
            if s < 0 {
                s = 0;
            }
            if s > e || s >= llen {
                0
            } else {
                z.remove_range_by_rank(to_usize(s), to_usize(e.min(llen - 1)))
            }
        }
        Range::Score(r) => z.remove_range_by_score(r),
        Range::Lex(r) => z.remove_range_by_lex(r),
    };
    if deleted > 0 {
        c.modified(&key);
        c.notify(notify::ZSET, event, &key);
        if c.delete_if_empty(&key) {
            c.notify(notify::GENERIC, "del", &key);
        }
    }
    c.dirty(deleted as u64);
    c.int(deleted as i64);
    Ok(())
}

// ---- pops ---------------------------------------------------------------------

/// Length of the sorted set at `key` for a command that pops from it: None
/// when missing. With `skip_wrong_type` (a blocked command being re-run) a
/// key of another type counts as missing, as Redis 7.0 only serves blocked
/// clients from sorted sets.
fn poppable_len(c: &mut Ctx, key: &[u8], skip_wrong_type: bool) -> CmdResult<Option<usize>> {
    match c.lookup_write(key) {
        None => Ok(None),
        Some(e) => match &e.value {
            Value::ZSet(z) => Ok(Some(z.len())),
            _ if skip_wrong_type => Ok(None),
            _ => Err(WRONGTYPE.into()),
        },
    }
}

/// Pops up to `n` members from the low (or, with `max`, the high) end,
/// with Redis's genericZpopCommand housekeeping.
fn pop_n(c: &mut Ctx, key: &[u8], max: bool, n: usize) -> Vec<(Vec<u8>, f64)> {
    let db = c.cl.db;
    let vals = match c
        .eng
        .keyspace_mut()
        .db_mut(db)
        .get_mut(key)
        .map(|e| &mut e.value)
    {
        Some(Value::ZSet(z)) if max => z.pop_max(n),
        Some(Value::ZSet(z)) => z.pop_min(n),
        _ => Vec::new(),
    };
    c.notify(notify::ZSET, if max { "zpopmax" } else { "zpopmin" }, key);
    c.modified(key);
    if c.delete_if_empty(key) {
        c.notify(notify::GENERIC, "del", key);
    }
    c.dirty(vals.len() as u64);
    vals
}

fn pop_command(max: bool) -> Vec<u8> {
    if max {
        b"ZPOPMAX".to_vec()
    } else {
        b"ZPOPMIN".to_vec()
    }
}

fn zpopmin(c: &mut Ctx) -> CmdResult {
    zpop(c, false)
}

fn zpopmax(c: &mut Ctx) -> CmdResult {
    zpop(c, true)
}

/// ZPOPMIN/ZPOPMAX key [count]
fn zpop(c: &mut Ctx, max: bool) -> CmdResult {
    if c.args.len() > 3 {
        return Err(SYNTAX.into());
    }
    let count = match c.args.get(2) {
        Some(a) => Some(parse_at_least(a, 0, MUST_BE_POSITIVE)?),
        None => None,
    };
    let key = c.args[1].clone();
    if poppable_len(c, &key, false)?.is_none() || count == Some(0) {
        c.array(0);
        return Ok(());
    }
    let vals = pop_n(c, &key, max, count.map_or(1, to_usize));
    // RESP3 nests pairs only when a count was given.
    let nested = c.proto() == Proto::Resp3 && count.is_some();
    let proto = c.proto();
    if nested {
        put_pairs(c.out, proto, &vals, true);
    } else {
        c.array(vals.len() * 2);
        for (m, s) in &vals {
            c.bulk(m);
            c.double(*s);
        }
    }
    Ok(())
}

/// MIN or MAX, as `max`.
fn min_or_max(arg: &[u8]) -> CmdResult<bool> {
    if eq(arg, "min") {
        Ok(false)
    } else if eq(arg, "max") {
        Ok(true)
    } else {
        Err(SYNTAX.into())
    }
}

/// ZMPOP numkeys key [key ...] MIN|MAX [COUNT count]
fn zmpop(c: &mut Ctx) -> CmdResult {
    let m = super::parse_mpop(c, 1, min_or_max)?;
    if !pop_first_ready(c, &m.keys, m.side, Some(m.count))? {
        c.null_array();
    }
    Ok(())
}

/// Pops from the first key holding a sorted set, replying and propagating
/// as Redis does: `count` None is BZPOPMIN/BZPOPMAX's single member
/// (`[key, member, score]`, propagated as ZPOPMIN/ZPOPMAX key), Some is
/// ZMPOP's (`[key, [[member, score] ...]]`, propagated with the count
/// actually popped). Returns false when no key held one.
fn pop_first_ready(
    c: &mut Ctx,
    keys: &[Bytes],
    max: bool,
    count: Option<usize>,
) -> CmdResult<bool> {
    let rerun = c.eng.rerunning();
    for key in keys {
        match poppable_len(c, key, rerun)? {
            None | Some(0) => continue,
            Some(_) => {}
        }
        let vals = pop_n(c, key, max, count.unwrap_or(1));
        match count {
            Some(_) => {
                // Pairs nest in both protocols here.
                c.array(2);
                c.bulk(key);
                c.array(vals.len());
                for (m, s) in &vals {
                    c.array(2);
                    c.bulk(m);
                    c.double(*s);
                }
                let n = itoa::Buffer::new().format(vals.len()).as_bytes().to_vec();
                c.propagate_instead(vec![vec![pop_command(max), key.to_vec(), n]]);
            }
            None => {
                c.array(1 + 2 * vals.len());
                c.bulk(key);
                for (m, s) in &vals {
                    c.bulk(m);
                    c.double(*s);
                }
                c.propagate_instead(vec![vec![pop_command(max), key.to_vec()]]);
            }
        }
        return Ok(true);
    }
    Ok(false)
}

// ---- blocking -------------------------------------------------------------

fn bzpopmin(c: &mut Ctx) -> CmdResult {
    blocking_pop(c, false)
}

fn bzpopmax(c: &mut Ctx) -> CmdResult {
    blocking_pop(c, true)
}

/// BZPOPMIN/BZPOPMAX key [key ...] timeout
fn blocking_pop(c: &mut Ctx, max: bool) -> CmdResult {
    let last = c.args.len() - 1;
    let deadline = parse_timeout(c.arg(last))?;
    let keys: Vec<Bytes> = c.args[1..last].to_vec();
    if pop_first_ready(c, &keys, max, None)? {
        return Ok(());
    }
    block_or_null(c, &keys, deadline);
    Ok(())
}

/// BZMPOP timeout numkeys key [key ...] MIN|MAX [COUNT count]
fn bzmpop(c: &mut Ctx) -> CmdResult {
    let m = super::parse_mpop(c, 2, min_or_max)?;
    let deadline = parse_timeout(c.arg(1))?;
    if pop_first_ready(c, &m.keys, m.side, Some(m.count))? {
        return Ok(());
    }
    block_or_null(c, &m.keys, deadline);
    Ok(())
}

/// Nothing to serve: block, or inside MULTI (where blocking is not
/// allowed) answer at once as a timeout would.
fn block_or_null(c: &mut Ctx, keys: &[Bytes], deadline: Option<i64>) {
    if !may_block(c) {
        c.null_array();
        return;
    }
    let keys: Vec<Key> = keys.iter().map(|k| Key::from(k.as_ref())).collect();
    block(c, keys, deadline, TimeoutReply::NullArray);
}

// ---- ZUNION / ZINTER / ZDIFF ------------------------------------------------

#[derive(Clone, Copy, PartialEq, Eq)]
enum SetOp {
    Union,
    Inter,
    Diff,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Aggregate {
    Sum,
    Min,
    Max,
}

/// Redis's zunionInterAggregate: a sum of +inf and -inf is 0.
fn aggregate(target: &mut f64, val: f64, agg: Aggregate) {
    match agg {
        Aggregate::Sum => {
            *target += val;
            if target.is_nan() {
                *target = 0.0;
            }
        }
        Aggregate::Min => {
            if val < *target {
                *target = val;
            }
        }
        Aggregate::Max => {
            if val > *target {
                *target = val;
            }
        }
    }
}

/// One input of a set operation: a sorted set, or a plain set whose
/// members all score 1.
#[derive(Clone, Copy)]
enum Src<'a> {
    Missing,
    Z(&'a ZSet),
    S(&'a Set),
}

impl<'a> Src<'a> {
    fn len(self) -> usize {
        match self {
            Src::Missing => 0,
            Src::Z(z) => z.len(),
            Src::S(s) => s.len(),
        }
    }

    fn find(self, member: &[u8]) -> Option<f64> {
        match self {
            Src::Missing => None,
            Src::Z(z) => z.score(member),
            Src::S(s) => s.contains(member).then_some(1.0),
        }
    }

    fn items(self) -> Box<dyn Iterator<Item = (Cow<'a, [u8]>, f64)> + 'a> {
        match self {
            Src::Missing => Box::new(std::iter::empty()),
            Src::Z(z) => Box::new(z.iter().map(|(m, s)| (Cow::Borrowed(m), s))),
            Src::S(s) => Box::new(s.iter().map(|m| (m, 1.0))),
        }
    }
}

fn zunion(c: &mut Ctx) -> CmdResult {
    zsetop(c, None, 1, SetOp::Union, false)
}

fn zinter(c: &mut Ctx) -> CmdResult {
    zsetop(c, None, 1, SetOp::Inter, false)
}

fn zdiff(c: &mut Ctx) -> CmdResult {
    zsetop(c, None, 1, SetOp::Diff, false)
}

fn zintercard(c: &mut Ctx) -> CmdResult {
    zsetop(c, None, 1, SetOp::Inter, true)
}

fn zunionstore(c: &mut Ctx) -> CmdResult {
    let dst = c.args[1].clone();
    zsetop(c, Some(dst), 2, SetOp::Union, false)
}

fn zinterstore(c: &mut Ctx) -> CmdResult {
    let dst = c.args[1].clone();
    zsetop(c, Some(dst), 2, SetOp::Inter, false)
}

fn zdiffstore(c: &mut Ctx) -> CmdResult {
    let dst = c.args[1].clone();
    zsetop(c, Some(dst), 2, SetOp::Diff, false)
}

/// Redis's zunionInterDiffGenericCommand.
fn zsetop(c: &mut Ctx, dst: Option<Bytes>, nk_idx: usize, op: SetOp, card_only: bool) -> CmdResult {
    let argc = c.args.len();
    let setnum = parse_int(c.arg(nk_idx))?;
    if setnum < 1 {
        return Err(CmdError::msg(format!(
            "ERR at least 1 input key is needed for '{}' command",
            c.cmd.name
        )));
    }
    if setnum > (argc - (nk_idx + 1)) as i64 {
        return Err(SYNTAX.into());
    }
    let setnum = setnum as usize;
    let keys: Vec<Bytes> = c.args[nk_idx + 1..nk_idx + 1 + setnum].to_vec();
    // Inputs are looked up (and type-checked) before the options are read.
    let (db, fm) = (c.cl.db, c.from_master);
    let mut present = Vec::with_capacity(setnum);
    for k in &keys {
        match lookup_read_in(c.eng, db, k, fm) {
            None => present.push(false),
            Some(e) => match &e.value {
                Value::ZSet(_) | Value::Set(_) => present.push(true),
                _ => return Err(WRONGTYPE.into()),
            },
        }
    }
    let mut weights = vec![1.0f64; setnum];
    let mut agg = Aggregate::Sum;
    let mut withscores = false;
    let mut limit = 0usize;
    let mut j = nk_idx + 1 + setnum;
    while j < argc {
        let remaining = argc - j;
        let a = c.arg(j);
        if op != SetOp::Diff && !card_only && remaining > setnum && eq(a, "weights") {
            j += 1;
            for w in weights.iter_mut() {
                *w = crate::util::num::parse_f64(c.arg(j))
                    .ok_or(CmdError::fixed(WEIGHT_NOT_FLOAT))?;
                j += 1;
            }
        } else if op != SetOp::Diff && !card_only && remaining >= 2 && eq(a, "aggregate") {
            let v = c.arg(j + 1);
            agg = if eq(v, "sum") {
                Aggregate::Sum
            } else if eq(v, "min") {
                Aggregate::Min
            } else if eq(v, "max") {
                Aggregate::Max
            } else {
                return Err(SYNTAX.into());
            };
            j += 2;
        } else if dst.is_none() && !card_only && eq(a, "withscores") {
            withscores = true;
            j += 1;
        } else if card_only && remaining >= 2 && eq(a, "limit") {
            limit = to_usize(parse_at_least(c.arg(j + 1), 0, LIMIT_NEGATIVE)?);
            j += 2;
        } else {
            return Err(SYNTAX.into());
        }
    }

    let dbref = c.eng.keyspace().db(db);
    let srcs: Vec<Src> = keys
        .iter()
        .zip(&present)
        .map(|(k, &p)| match dbref.get(k).map(|e| &e.value) {
            Some(Value::ZSet(z)) if p => Src::Z(z),
            Some(Value::Set(s)) if p => Src::S(s),
            _ => Src::Missing,
        })
        .collect();
    let mut order: Vec<usize> = (0..setnum).collect();
    if op != SetOp::Diff {
        // Smallest first, as Redis sorts its inputs.
        order.sort_by_key(|&i| srcs[i].len());
    }
    let mut result: Vec<(Vec<u8>, f64)> = Vec::new();
    let mut card = 0usize;
    match op {
        SetOp::Inter => {
            let first = order[0];
            if srcs[first].len() > 0 {
                for (m, sc) in srcs[first].items() {
                    let mut score = weights[first] * sc;
                    if score.is_nan() {
                        score = 0.0;
                    }
                    let mut everywhere = true;
                    for &o in &order[1..] {
                        let found = if keys[o] == keys[first] {
                            Some(sc)
                        } else {
                            srcs[o].find(&m)
                        };
                        match found {
                            Some(v) => aggregate(&mut score, v * weights[o], agg),
                            None => {
                                everywhere = false;
                                break;
                            }
                        }
                    }
                    if !everywhere {
                        continue;
                    }
                    if card_only {
                        card += 1;
                        if limit > 0 && card >= limit {
                            break;
                        }
                    } else {
                        result.push((m.into_owned(), score));
                    }
                }
            }
        }
        SetOp::Union => {
            let mut acc: HashMap<Vec<u8>, f64, ahash::RandomState> =
                HashMap::with_hasher(ahash::RandomState::new());
            for &i in &order {
                for (m, sc) in srcs[i].items() {
                    let mut score = weights[i] * sc;
                    if score.is_nan() {
                        score = 0.0;
                    }
                    match acc.get_mut(m.as_ref()) {
                        Some(t) => aggregate(t, score, agg),
                        None => {
                            acc.insert(m.into_owned(), score);
                        }
                    }
                }
            }
            result = acc.into_iter().collect();
        }
        SetOp::Diff => {
            for (m, sc) in srcs[0].items() {
                if !srcs[1..].iter().any(|s| s.find(&m).is_some()) {
                    result.push((m.into_owned(), sc));
                }
            }
        }
    }
    result.sort_by(cmp_pair);

    if let Some(dst) = dst {
        let limits = c.zset_limits();
        let mut z = ZSet::new_skiplist();
        for (m, s) in &result {
            let _ = z.add(m, *s, ZAddFlags::default(), &limits);
        }
        z.convert_to_listpack_if_fits(&limits);
        let event = match op {
            SetOp::Union => "zunionstore",
            SetOp::Inter => "zinterstore",
            SetOp::Diff => "zdiffstore",
        };
        store_result(c, &dst, z, event, 1);
    } else if card_only {
        c.int(card as i64);
    } else {
        let proto = c.proto();
        put_pairs(c.out, proto, &result, withscores);
    }
    Ok(())
}

// ---- ZRANDMEMBER / ZSCAN ---------------------------------------------------

/// ZRANDMEMBER key [count [WITHSCORES]]
fn zrandmember(c: &mut Ctx) -> CmdResult {
    let argc = c.args.len();
    let key = c.args[1].clone();
    if argc >= 3 {
        let l = match crate::util::num::parse_i64(c.arg(2)) {
            None => return Err(NOT_INT.into()),
            Some(i64::MIN) => return Err(RANDMEMBER_RANGE.into()),
            Some(l) => l,
        };
        if argc > 4 || (argc == 4 && !eq(c.arg(3), "withscores")) {
            return Err(SYNTAX.into());
        }
        let withscores = argc == 4;
        if withscores && !(-(i64::MAX / 2)..=i64::MAX / 2).contains(&l) {
            return Err(OUT_OF_RANGE.into());
        }
        return zrandmember_count(c, &key, l, withscores);
    }
    let db = c.cl.db;
    if zset_read(c, &key)?.0.is_none() {
        c.null();
        return Ok(());
    }
    let (dbs, rng) = c.eng.dbs_and_rng();
    let out = &mut *c.out;
    if let Some(Value::ZSet(z)) = dbs[db].get(&key).map(|e| &e.value) {
        match z.random_pair(rng) {
            Some((m, _)) => enc::bulk(out, m),
            None => enc::null(out, c.cl.proto),
        }
    }
    Ok(())
}

fn zrandmember_count(c: &mut Ctx, key: &[u8], l: i64, withscores: bool) -> CmdResult {
    if zset_read(c, key)?.0.is_none() {
        c.array(0);
        return Ok(());
    }
    let (db, proto) = (c.cl.db, c.cl.proto);
    let stop_at = c.reply_stop_at().map(|n| n + c.out.len());
    let (dbs, rng) = c.eng.dbs_and_rng();
    let out = &mut *c.out;
    let Some(Value::ZSet(z)) = dbs[db].get(key).map(|e| &e.value) else {
        enc::array_len(out, 0);
        return Ok(());
    };
    let (count, uniq) = if l >= 0 {
        (l.unsigned_abs(), true)
    } else {
        (l.unsigned_abs(), false)
    };
    if count == 0 {
        enc::array_len(out, 0);
        return Ok(());
    }
    if !uniq || count == 1 {
        if count > 1 << 16 && stop_at.is_none() {
            let members: u64 = z.iter().map(|(m, _)| m.len() as u64).sum();
            let avg = members / z.len().max(1) as u64;
            let per = avg + 16 + if withscores { 32 } else { 0 };
            if count.saturating_mul(per) > RANDMEMBER_MAX_REPLY {
                return Err(OUT_OF_RANGE.into());
            }
        }
        let count = count as usize;
        enc::array_len(
            out,
            if withscores && proto == Proto::Resp2 {
                count * 2
            } else {
                count
            },
        );
        let mut left = count;
        while left > 0 {
            let n = left.min(1000);
            left -= n;
            for (m, s) in z.random_pairs(n, false, rng) {
                if withscores && proto == Proto::Resp3 {
                    enc::array_len(out, 2);
                }
                enc::bulk(out, m);
                if withscores {
                    put_double(out, proto, s);
                }
            }
            // Over the client's output limit: it is closed.
            if stop_at.is_some_and(|s| out.len() > s) {
                break;
            }
        }
        return Ok(());
    }
    if count >= z.len() as u64 {
        // The whole set, in order (Redis's "case 2").
        let all: Vec<(&[u8], f64)> = z.iter().collect();
        put_pairs(out, proto, &all, withscores);
        return Ok(());
    }
    let picks = z.random_pairs(to_usize(l), true, rng);
    put_pairs(out, proto, &picks, withscores);
    Ok(())
}

/// ZSCAN key cursor [MATCH pattern] [COUNT count]
fn zscan(c: &mut Ctx) -> CmdResult {
    let cursor = parse_cursor(c.arg(2))?;
    let key = c.args[1].clone();
    if zset_read(c, &key)?.0.is_none() {
        c.array(2);
        c.bulk(b"0");
        c.array(0);
        return Ok(());
    }
    let o = parse_scan_opts(c, 3, false)?;
    let db = c.cl.db;
    let out = &mut *c.out;
    let Some(Value::ZSet(z)) = c.eng.keyspace().db(db).get(&key).map(|e| &e.value) else {
        return Ok(());
    };
    let pattern = o.pattern.as_deref().filter(|p| *p != b"*");
    let (next, items) = z.scan(cursor, o.count, pattern);
    let listpack = z.encoding_name() == "listpack";
    enc::array_len(out, 2);
    enc::bulk(out, itoa::Buffer::new().format(next).as_bytes());
    enc::array_len(out, items.len() * 2);
    for (m, s) in items {
        enc::bulk(out, m);
        // A listpack keeps scores as d2string wrote them; a skiplist's
        // come out through %.17Lg.
        let text = if listpack { d2string(s) } else { fmt_g17(s) };
        enc::bulk(out, text.as_bytes());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    //! What sorted-set pops propagate, served at once or after blocking:
    //! the replication stream is captured by holding a propagation unit
    //! open for the whole test.

    use crate::commands::testkit::Harness as T;

    #[test]
    fn served_at_once_propagates_as_redis() {
        let mut t = T::new();
        let a = t.client();
        t.run(
            a,
            &[
                "ZADD", "k", "1", "a", "2", "b", "3", "c", "4", "d", "5", "e",
            ],
        );
        t.run(a, &["BZPOPMIN", "none", "k", "0"]);
        t.run(a, &["BZPOPMAX", "k", "0"]);
        t.run(a, &["ZMPOP", "2", "none", "k", "MIN", "COUNT", "1"]);
        t.run(a, &["BZMPOP", "0", "1", "k", "MAX", "COUNT", "9"]);
        t.run(a, &["ZADD", "k", "1", "a", "2", "b"]);
        t.run(a, &["ZPOPMIN", "k", "5"]);
        assert_eq!(
            t.propagated(),
            [
                "ZADD k 1 a 2 b 3 c 4 d 5 e",
                "ZPOPMIN k",
                "ZPOPMAX k",
                "ZPOPMIN k 1",
                "ZPOPMAX k 2",
                "ZADD k 1 a 2 b",
                "ZPOPMIN k 5",
            ]
        );
        // Nothing changed, nothing propagated.
        t.run(a, &["ZPOPMIN", "none"]);
        t.run(a, &["ZMPOP", "1", "none", "MIN"]);
        t.run(a, &["ZREM", "none", "x"]);
        t.run(a, &["ZADD", "k2", "XX", "1", "x"]);
        t.run(a, &["ZUNIONSTORE", "none", "1", "none"]);
        t.run(a, &["MULTI"]);
        t.run(a, &["BZPOPMIN", "none", "0"]);
        assert_eq!(t.run(a, &["EXEC"]), "*1\r\n*-1\r\n");
        assert_eq!(t.propagated(), Vec::<String>::new());
    }

    #[test]
    fn served_after_blocking_propagates_as_redis() {
        let mut t = T::new();
        let (a, b, w) = (t.client(), t.client(), t.client());
        assert_eq!(t.run(a, &["BZPOPMAX", "k", "0"]), "");
        assert_eq!(
            t.run(b, &["BZMPOP", "0", "1", "k", "MIN", "COUNT", "2"]),
            ""
        );
        t.run(w, &["ZADD", "k", "1", "x", "2", "y", "3", "z", "4", "q"]);
        assert_eq!(t.outbox(a), "*3\r\n$1\r\nk\r\n$1\r\nq\r\n$1\r\n4\r\n");
        assert_eq!(
            t.outbox(b),
            "*2\r\n$1\r\nk\r\n*2\r\n*2\r\n$1\r\nx\r\n$1\r\n1\r\n*2\r\n$1\r\ny\r\n$1\r\n2\r\n"
        );
        assert_eq!(
            t.propagated(),
            ["ZADD k 1 x 2 y 3 z 4 q", "ZPOPMAX k", "ZPOPMIN k 2"]
        );
        assert!(t.eng.keyspace().none_blocked());
    }

    #[test]
    fn rerun_skips_keys_of_another_type() {
        let mut t = T::new();
        let (a, w) = (t.client(), t.client());
        assert_eq!(t.run(a, &["BZPOPMIN", "k", "0"]), "");
        t.run(w, &["SET", "tmp", "v"]);
        t.run(w, &["RENAME", "tmp", "k"]);
        assert_eq!(t.outbox(a), "");
        t.run(w, &["DEL", "k"]);
        t.run(w, &["ZADD", "k", "1", "v"]);
        assert_eq!(t.outbox(a), "*3\r\n$1\r\nk\r\n$1\r\nv\r\n$1\r\n1\r\n");
    }
}
