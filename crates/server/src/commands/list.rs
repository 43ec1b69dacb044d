//! List commands (Redis's t_list.c "List commands" half), including the
//! blocking ones, which park the client through `crate::blocking`.
//!
//! Replies, error texts and the order of checks follow Redis 7.0: most
//! commands parse their numeric arguments before looking the key up, but
//! LINDEX and LSET look the key up first. Every write keeps Redis's
//! housekeeping in Redis's order: the type's keyspace event, then `del`
//! when the list became empty (Redis never keeps an empty list), WATCH
//! invalidation, and the dirty count (one per element pushed or popped).
//!
//! Blocking commands serve at once when a list has elements. Otherwise they
//! block, and `blocking::handle_ready` re-runs them when a push signals one
//! of their keys; a re-run that finds nothing blocks again and keeps its
//! place. What a served command propagates is what Redis 7.0 propagates:
//! BLPOP/BRPOP as LPOP/RPOP, BLMPOP as `LPOP|RPOP key count`, BLMOVE as
//! LMOVE and BRPOPLPUSH as RPOPLPUSH.

use bytes::Bytes;
use resp::encode as enc;

use super::f::*;
use super::{cmd, eq, lookup_read_in, parse_int, CommandSpec, Ctx, KEY1, NOKEYS};
use crate::blocking::{block, may_block, parse_timeout, TimeoutReply};
use crate::config::notify;
use crate::error::*;
use crate::keyspace::{Key, Value};
use crate::types::list::List;

/// Keys at 1 and 2 (LMOVE, RPOPLPUSH, BLMOVE, BRPOPLPUSH).
const KEYS12: (i32, i32, i32) = (1, 2, 1);
/// Keys from 1 to the one before the timeout (BLPOP, BRPOP).
const KEYS_BEFORE_LAST: (i32, i32, i32) = (1, -2, 1);

/// The list commands.
pub static COMMANDS: &[CommandSpec] = &[
    cmd(
        "lpush",
        -3,
        WRITE | DENYOOM | FAST,
        KEY1,
        "list",
        "1.0.0",
        "Prepend one or multiple elements to a list",
        lpush,
    ),
    cmd(
        "rpush",
        -3,
        WRITE | DENYOOM | FAST,
        KEY1,
        "list",
        "1.0.0",
        "Append one or multiple elements to a list",
        rpush,
    ),
    cmd(
        "lpushx",
        -3,
        WRITE | DENYOOM | FAST,
        KEY1,
        "list",
        "2.2.0",
        "Prepend an element to a list, only if the list exists",
        lpushx,
    ),
    cmd(
        "rpushx",
        -3,
        WRITE | DENYOOM | FAST,
        KEY1,
        "list",
        "2.2.0",
        "Append an element to a list, only if the list exists",
        rpushx,
    ),
    cmd(
        "lpop",
        -2,
        WRITE | FAST,
        KEY1,
        "list",
        "1.0.0",
        "Remove and get the first elements in a list",
        lpop,
    ),
    cmd(
        "rpop",
        -2,
        WRITE | FAST,
        KEY1,
        "list",
        "1.0.0",
        "Remove and get the last elements in a list",
        rpop,
    ),
    cmd(
        "llen",
        2,
        READONLY | FAST,
        KEY1,
        "list",
        "1.0.0",
        "Get the length of a list",
        llen,
    ),
    cmd(
        "lrange",
        4,
        READONLY,
        KEY1,
        "list",
        "1.0.0",
        "Get a range of elements from a list",
        lrange,
    ),
    cmd(
        "lindex",
        3,
        READONLY,
        KEY1,
        "list",
        "1.0.0",
        "Get an element from a list by its index",
        lindex,
    ),
    cmd(
        "lset",
        4,
        WRITE | DENYOOM,
        KEY1,
        "list",
        "1.0.0",
        "Set the value of an element in a list by its index",
        lset,
    ),
    cmd(
        "lrem",
        4,
        WRITE,
        KEY1,
        "list",
        "1.0.0",
        "Remove elements from a list",
        lrem,
    ),
    cmd(
        "ltrim",
        4,
        WRITE,
        KEY1,
        "list",
        "1.0.0",
        "Trim a list to the specified range",
        ltrim,
    ),
    cmd(
        "linsert",
        5,
        WRITE | DENYOOM,
        KEY1,
        "list",
        "2.2.0",
        "Insert an element before or after another element in a list",
        linsert,
    ),
    cmd(
        "lpos",
        -3,
        READONLY,
        KEY1,
        "list",
        "6.0.6",
        "Return the index of matching elements on a list",
        lpos,
    ),
    cmd(
        "lmove",
        5,
        WRITE | DENYOOM,
        KEYS12,
        "list",
        "6.2.0",
        "Pop an element from a list, push it to another list and return it",
        lmove,
    ),
    cmd(
        "rpoplpush",
        3,
        WRITE | DENYOOM,
        KEYS12,
        "list",
        "1.2.0",
        "Remove the last element in a list, prepend it to another list and return it",
        rpoplpush,
    ),
    // LMPOP and BLMPOP find their keys through `numkeys` (Redis's
    // "movablekeys"): the legacy (first, last, step) triple is (0, 0, 0).
    cmd(
        "lmpop",
        -4,
        WRITE,
        NOKEYS,
        "list",
        "7.0.0",
        "Pop elements from a list",
        lmpop,
    )
    .numkeys_at(1),
    cmd(
        "blpop",
        -3,
        WRITE | NOSCRIPT | BLOCKING,
        KEYS_BEFORE_LAST,
        "list",
        "2.0.0",
        "Remove and get the first element in a list, or block until one is available",
        blpop,
    ),
    cmd(
        "brpop",
        -3,
        WRITE | NOSCRIPT | BLOCKING,
        KEYS_BEFORE_LAST,
        "list",
        "2.0.0",
        "Remove and get the last element in a list, or block until one is available",
        brpop,
    ),
    cmd(
        "blmove",
        6,
        WRITE | DENYOOM | NOSCRIPT | BLOCKING,
        KEYS12,
        "list",
        "6.2.0",
        "Pop an element from a list, push it to another list and return it; or block until one is available",
        blmove,
    ),
    cmd(
        "brpoplpush",
        4,
        WRITE | DENYOOM | NOSCRIPT | BLOCKING,
        KEYS12,
        "list",
        "2.2.0",
        "Pop an element from a list, push it to another list and return it; or block until one is available",
        brpoplpush,
    ),
    cmd(
        "blmpop",
        -5,
        WRITE | BLOCKING,
        NOKEYS,
        "list",
        "7.0.0",
        "Pop elements from a list, or block until one is available",
        blmpop,
    )
    .numkeys_at(2),
];

// ---- error texts (Redis 7.0's, exactly) ---------------------------------

const INDEX_OUT_OF_RANGE: &str = "ERR index out of range";
const MUST_BE_POSITIVE: &str = "ERR value is out of range, must be positive";
const RANK_ZERO: &str = "ERR RANK can't be zero: use 1 to start from the first match, 2 from the second ... or use negative to start from the end of the list";
const COUNT_NEGATIVE: &str = "ERR COUNT can't be negative";
const MAXLEN_NEGATIVE: &str = "ERR MAXLEN can't be negative";

// ---- helpers --------------------------------------------------------------

/// Which end of a list.
#[derive(Clone, Copy, PartialEq, Eq)]
enum End {
    Head,
    Tail,
}

impl End {
    /// LEFT|RIGHT, case-insensitively (Redis's
    /// getListPositionFromObjectOrReply).
    fn parse(arg: &[u8]) -> Result<End, CmdError> {
        if eq(arg, "left") {
            Ok(End::Head)
        } else if eq(arg, "right") {
            Ok(End::Tail)
        } else {
            Err(SYNTAX.into())
        }
    }

    /// The name Redis propagates for a served BLMOVE.
    fn name(self) -> &'static [u8] {
        match self {
            End::Head => b"left",
            End::Tail => b"right",
        }
    }

    fn pop_event(self) -> &'static str {
        match self {
            End::Head => "lpop",
            End::Tail => "rpop",
        }
    }

    fn push_event(self) -> &'static str {
        match self {
            End::Head => "lpush",
            End::Tail => "rpush",
        }
    }

    fn pop_command(self) -> &'static [u8] {
        match self {
            End::Head => b"LPOP",
            End::Tail => b"RPOP",
        }
    }
}

fn push_at(l: &mut List, end: End, v: &[u8]) {
    match end {
        End::Head => l.push_front(v),
        End::Tail => l.push_back(v),
    }
}

fn pop_at(l: &mut List, end: End) -> Option<Vec<u8>> {
    match end {
        End::Head => l.pop_front(),
        End::Tail => l.pop_back(),
    }
}

/// The list at `key` for writing: None when missing, WRONGTYPE for other
/// types.
fn list_mut<'c>(c: &'c mut Ctx<'_>, key: &[u8]) -> CmdResult<Option<&'c mut List>> {
    match c.lookup_write(key) {
        None => Ok(None),
        Some(e) => match &mut e.value {
            Value::List(l) => Ok(Some(l)),
            _ => Err(WRONGTYPE.into()),
        },
    }
}

/// The list at `key` for reading (hit/miss stats, LRU), with the reply
/// buffer beside it so that elements go out without copies.
fn list_read<'c>(
    c: &'c mut Ctx<'_>,
    key: &[u8],
) -> CmdResult<(Option<&'c List>, &'c mut Vec<u8>, resp::encode::Proto)> {
    let (db, from_master, proto) = (c.cl.db, c.from_master, c.cl.proto);
    let out = &mut *c.out;
    match lookup_read_in(c.eng, db, key, from_master) {
        None => Ok((None, out, proto)),
        Some(e) => match &e.value {
            Value::List(l) => Ok((Some(l), out, proto)),
            _ => Err(WRONGTYPE.into()),
        },
    }
}

/// Length of the list at `key` for a command that pops from it: None when
/// missing. With `skip_wrong_type` (a blocked command being re-run) a key
/// of another type counts as missing, as Redis 7.0 only serves blocked
/// clients from lists.
fn poppable_len(c: &mut Ctx, key: &[u8], skip_wrong_type: bool) -> CmdResult<Option<usize>> {
    match c.lookup_write(key) {
        None => Ok(None),
        Some(e) => match &e.value {
            Value::List(l) => Ok(Some(l.len())),
            _ if skip_wrong_type => Ok(None),
            _ => Err(WRONGTYPE.into()),
        },
    }
}

/// Pops up to `n` elements (which exist: the caller looked the key up)
/// from one end, with Redis's listElementsRemoved housekeeping.
fn pop_n(c: &mut Ctx, key: &[u8], end: End, n: usize) -> Vec<Vec<u8>> {
    let db = c.cl.db;
    let mut vals = Vec::new();
    if let Some(Value::List(l)) = c
        .eng
        .keyspace_mut()
        .db_mut(db)
        .get_mut(key)
        .map(|e| &mut e.value)
    {
        let n = n.min(l.len());
        if n == 1 {
            vals.extend(pop_at(l, end));
        } else if n > 1 {
            // Copy the range out, then drop it chunk by chunk: popping one
            // at a time would shift a chunk's bytes for every element.
            let k = n as i64;
            match end {
                End::Head => {
                    vals.extend(l.range(0, k - 1).into_iter().map(<[u8]>::to_vec));
                    l.trim(k, -1);
                }
                End::Tail => {
                    vals.extend(l.range(-k, -1).into_iter().rev().map(<[u8]>::to_vec));
                    l.trim(0, -k - 1);
                }
            }
        }
    }
    c.notify(notify::LIST, end.pop_event(), key);
    if c.delete_if_empty(key) {
        c.notify(notify::GENERIC, "del", key);
    }
    c.modified(key);
    c.dirty(vals.len() as u64);
    vals
}

fn reply_elements(c: &mut Ctx, vals: &[Vec<u8>]) {
    c.array(vals.len());
    for v in vals {
        c.bulk(v);
    }
}

/// LMPOP/BLMPOP's reply: the key, then the elements.
fn reply_key_elements(c: &mut Ctx, key: &[u8], vals: &[Vec<u8>]) {
    c.array(2);
    c.bulk(key);
    reply_elements(c, vals);
}

/// Parses a non-negative long with Redis's getPositiveLongFromObjectOrReply
/// (a non-number gets the same message as a negative one).
fn parse_non_negative(arg: &[u8], msg: &'static str) -> CmdResult<i64> {
    match crate::util::num::parse_i64(arg) {
        Some(n) if n >= 0 => Ok(n),
        _ => Err(msg.into()),
    }
}

fn to_usize(n: i64) -> usize {
    usize::try_from(n).unwrap_or(usize::MAX)
}

// ---- push -----------------------------------------------------------------

fn lpush(c: &mut Ctx) -> CmdResult {
    push(c, End::Head, false)
}

fn rpush(c: &mut Ctx) -> CmdResult {
    push(c, End::Tail, false)
}

fn lpushx(c: &mut Ctx) -> CmdResult {
    push(c, End::Head, true)
}

fn rpushx(c: &mut Ctx) -> CmdResult {
    push(c, End::Tail, true)
}

/// LPUSH/RPUSH/LPUSHX/RPUSHX (`xx`: only when the list exists).
fn push(c: &mut Ctx, end: End, xx: bool) -> CmdResult {
    let key = c.args[1].clone();
    let vals: Vec<Bytes> = c.args[2..].to_vec();
    let len = match list_mut(c, &key)? {
        Some(l) => {
            for v in &vals {
                push_at(l, end, v);
            }
            l.len()
        }
        None if xx => {
            c.int(0);
            return Ok(());
        }
        None => {
            let mut l = List::new();
            for v in &vals {
                push_at(&mut l, end, v);
            }
            let len = l.len();
            c.set_key(&key, Value::List(Box::new(l)), -1);
            len
        }
    };
    c.dirty(vals.len() as u64);
    c.int(len as i64);
    c.modified(&key);
    c.notify(notify::LIST, end.push_event(), &key);
    let db = c.cl.db;
    c.eng.keyspace_mut().signal_ready(db, &key);
    Ok(())
}

// ---- pop ------------------------------------------------------------------

fn lpop(c: &mut Ctx) -> CmdResult {
    pop(c, End::Head)
}

fn rpop(c: &mut Ctx) -> CmdResult {
    pop(c, End::Tail)
}

/// LPOP/RPOP key [count].
fn pop(c: &mut Ctx, end: End) -> CmdResult {
    if c.args.len() > 3 {
        return Err(CmdError::arity(c.cmd.name));
    }
    let count = match c.args.get(2) {
        Some(a) => Some(parse_non_negative(a, MUST_BE_POSITIVE)?),
        None => None,
    };
    let key = c.args[1].clone();
    if poppable_len(c, &key, false)?.is_none() {
        match count {
            Some(_) => c.null_array(),
            None => c.null(),
        }
        return Ok(());
    }
    match count {
        None => {
            let vals = pop_n(c, &key, end, 1);
            match vals.first() {
                Some(v) => c.bulk(v),
                None => c.null(),
            }
        }
        Some(0) => c.array(0),
        Some(n) => {
            let vals = pop_n(c, &key, end, to_usize(n));
            reply_elements(c, &vals);
        }
    }
    Ok(())
}

/// LMPOP numkeys key [key ...] LEFT|RIGHT [COUNT count]
fn lmpop(c: &mut Ctx) -> CmdResult {
    let m = super::parse_mpop(c, 1, End::parse)?;
    if !pop_first_ready(c, &m.keys, m.side, Some(m.count))? {
        c.null_array();
    }
    Ok(())
}

/// Pops from the first key holding a non-empty list, replying and
/// propagating as Redis does: `count` None is BLPOP/BRPOP's single element
/// (`[key, element]`, propagated as LPOP/RPOP key), Some is LMPOP's
/// (`[key, [elements]]`, propagated as LPOP/RPOP key n). Returns false when
/// every key was empty.
fn pop_first_ready(c: &mut Ctx, keys: &[Bytes], end: End, count: Option<usize>) -> CmdResult<bool> {
    let rerun = c.eng.rerunning();
    for key in keys {
        match poppable_len(c, key, rerun)? {
            None | Some(0) => continue,
            Some(_) => {}
        }
        let vals = pop_n(c, key, end, count.unwrap_or(1));
        match count {
            Some(_) => {
                reply_key_elements(c, key, &vals);
                let n = itoa::Buffer::new().format(vals.len()).as_bytes().to_vec();
                c.propagate_instead(vec![vec![end.pop_command().to_vec(), key.to_vec(), n]]);
            }
            None => {
                c.array(2);
                c.bulk(key);
                c.bulk(vals.first().map(Vec::as_slice).unwrap_or_default());
                c.propagate_instead(vec![vec![end.pop_command().to_vec(), key.to_vec()]]);
            }
        }
        return Ok(true);
    }
    Ok(false)
}

// ---- read -----------------------------------------------------------------

fn llen(c: &mut Ctx) -> CmdResult {
    let key = c.args[1].clone();
    let (l, out, _) = list_read(c, &key)?;
    enc::integer(out, l.map_or(0, |l| l.len() as i64));
    Ok(())
}

fn lrange(c: &mut Ctx) -> CmdResult {
    let start = parse_int(c.arg(2))?;
    let end = parse_int(c.arg(3))?;
    let key = c.args[1].clone();
    let (l, out, _) = list_read(c, &key)?;
    let range = l.map(|l| l.range(start, end)).unwrap_or_default();
    enc::array_len(out, range.len());
    for v in range {
        enc::bulk(out, v);
    }
    Ok(())
}

fn lindex(c: &mut Ctx) -> CmdResult {
    let key = c.args[1].clone();
    let arg = c.args[2].clone();
    let (l, out, proto) = list_read(c, &key)?;
    let Some(l) = l else {
        enc::null(out, proto);
        return Ok(());
    };
    let index = parse_int(&arg)?;
    match l.index(index) {
        Some(v) => enc::bulk(out, v),
        None => enc::null(out, proto),
    }
    Ok(())
}

/// LPOS key element [RANK rank] [COUNT num-matches] [MAXLEN len]
fn lpos(c: &mut Ctx) -> CmdResult {
    let mut rank: i64 = 1;
    let mut count: Option<i64> = None;
    let mut maxlen: i64 = 0;
    let argc = c.args.len();
    let mut j = 3;
    while j < argc {
        let more = argc - 1 - j;
        let opt = c.arg(j);
        if eq(opt, "rank") && more > 0 {
            j += 1;
            rank = parse_int(c.arg(j))?;
            if rank == 0 {
                return Err(RANK_ZERO.into());
            }
        } else if eq(opt, "count") && more > 0 {
            j += 1;
            count = Some(parse_non_negative(c.arg(j), COUNT_NEGATIVE)?);
        } else if eq(opt, "maxlen") && more > 0 {
            j += 1;
            maxlen = parse_non_negative(c.arg(j), MAXLEN_NEGATIVE)?;
        } else {
            return Err(SYNTAX.into());
        }
        j += 1;
    }
    // Redis 7.0 negates the rank in a C long: LONG_MIN stays negative and
    // every match from the tail qualifies, so it acts as rank -1 and a
    // COUNT never stops the scan.
    if rank == i64::MIN {
        rank = -1;
        if count.is_some() {
            count = Some(0);
        }
    }
    let key = c.args[1].clone();
    let ele = c.args[2].clone();
    let (l, out, proto) = list_read(c, &key)?;
    let want = match count {
        Some(n) => to_usize(n),
        None => 1,
    };
    let found = l
        .map(|l| l.positions(&ele, rank, want, to_usize(maxlen)))
        .unwrap_or_default();
    match count {
        Some(_) => {
            enc::array_len(out, found.len());
            for p in found {
                enc::integer(out, p as i64);
            }
        }
        None => match found.first() {
            Some(&p) => enc::integer(out, p as i64),
            None => enc::null(out, proto),
        },
    }
    Ok(())
}

// ---- in-place writes ------------------------------------------------------

fn lset(c: &mut Ctx) -> CmdResult {
    let key = c.args[1].clone();
    let arg = c.args[2].clone();
    let val = c.args[3].clone();
    let l = list_mut(c, &key)?.ok_or(CmdError::fixed(NO_SUCH_KEY))?;
    let index = parse_int(&arg)?;
    if !l.set(index, &val) {
        return Err(INDEX_OUT_OF_RANGE.into());
    }
    c.ok();
    c.modified(&key);
    c.notify(notify::LIST, "lset", &key);
    c.dirty(1);
    Ok(())
}

fn lrem(c: &mut Ctx) -> CmdResult {
    let count = parse_int(c.arg(2))?;
    let key = c.args[1].clone();
    let val = c.args[3].clone();
    let Some(l) = list_mut(c, &key)? else {
        c.int(0);
        return Ok(());
    };
    let removed = l.remove(count, &val);
    c.dirty(removed as u64);
    if removed > 0 {
        c.modified(&key);
        c.notify(notify::LIST, "lrem", &key);
    }
    if c.delete_if_empty(&key) {
        c.notify(notify::GENERIC, "del", &key);
    }
    c.int(removed as i64);
    Ok(())
}

fn ltrim(c: &mut Ctx) -> CmdResult {
    let start = parse_int(c.arg(2))?;
    let end = parse_int(c.arg(3))?;
    let key = c.args[1].clone();
    let Some(l) = list_mut(c, &key)? else {
        c.ok();
        return Ok(());
    };
    let before = l.len();
    l.trim(start, end);
    let removed = before - l.len();
    c.notify(notify::LIST, "ltrim", &key);
    if c.delete_if_empty(&key) {
        c.notify(notify::GENERIC, "del", &key);
    }
    c.modified(&key);
    c.dirty(removed as u64);
    c.ok();
    Ok(())
}

/// LINSERT key BEFORE|AFTER pivot element
fn linsert(c: &mut Ctx) -> CmdResult {
    let before = if eq(c.arg(2), "after") {
        false
    } else if eq(c.arg(2), "before") {
        true
    } else {
        return Err(SYNTAX.into());
    };
    let key = c.args[1].clone();
    let pivot = c.args[3].clone();
    let val = c.args[4].clone();
    let Some(l) = list_mut(c, &key)? else {
        c.int(0);
        return Ok(());
    };
    match l.insert(before, &pivot, &val) {
        Some(len) => {
            c.modified(&key);
            c.notify(notify::LIST, "linsert", &key);
            c.dirty(1);
            c.int(len as i64);
        }
        None => c.int(-1),
    }
    Ok(())
}

// ---- move -----------------------------------------------------------------

/// LMOVE source destination LEFT|RIGHT LEFT|RIGHT
fn lmove(c: &mut Ctx) -> CmdResult {
    let from = End::parse(c.arg(3))?;
    let to = End::parse(c.arg(4))?;
    move_or_null(c, from, to)
}

fn rpoplpush(c: &mut Ctx) -> CmdResult {
    move_or_null(c, End::Tail, End::Head)
}

fn move_or_null(c: &mut Ctx, from: End, to: End) -> CmdResult {
    let (src, dst) = (c.args[1].clone(), c.args[2].clone());
    match poppable_len(c, &src, false)? {
        None | Some(0) => c.null(),
        Some(_) => {
            let v = move_one(c, &src, &dst, from, to)?;
            c.bulk(&v);
        }
    }
    Ok(())
}

/// Redis's lmoveGenericCommand once the source is known to be a non-empty
/// list: checks the destination's type, pops, pushes (creating the
/// destination), and signals the destination ready, so a client blocked
/// on it is served next (BLMOVE chains).
fn move_one(c: &mut Ctx, src: &[u8], dst: &[u8], from: End, to: End) -> CmdResult<Vec<u8>> {
    list_mut(c, dst)?;
    let db = c.cl.db;
    let v = match c
        .eng
        .keyspace_mut()
        .db_mut(db)
        .get_mut(src)
        .map(|e| &mut e.value)
    {
        Some(Value::List(l)) => pop_at(l, from),
        _ => None,
    }
    .ok_or(CmdError::fixed(NO_SUCH_KEY))?;
    // With src == dst the source is still there (maybe empty for a
    // moment), so the first arm also covers rotation.
    match c
        .eng
        .keyspace_mut()
        .db_mut(db)
        .get_mut(dst)
        .map(|e| &mut e.value)
    {
        Some(Value::List(l)) => push_at(l, to, &v),
        _ => {
            let mut l = List::new();
            push_at(&mut l, to, &v);
            c.set_key(dst, Value::List(Box::new(l)), -1);
        }
    }
    c.modified(dst);
    c.notify(notify::LIST, to.push_event(), dst);
    c.eng.keyspace_mut().signal_ready(db, dst);
    c.notify(notify::LIST, from.pop_event(), src);
    if c.delete_if_empty(src) {
        c.notify(notify::GENERIC, "del", src);
    }
    c.modified(src);
    c.dirty(1);
    Ok(v)
}

// ---- blocking -------------------------------------------------------------

fn blpop(c: &mut Ctx) -> CmdResult {
    blocking_pop(c, End::Head)
}

fn brpop(c: &mut Ctx) -> CmdResult {
    blocking_pop(c, End::Tail)
}

/// BLPOP/BRPOP key [key ...] timeout
fn blocking_pop(c: &mut Ctx, end: End) -> CmdResult {
    let last = c.args.len() - 1;
    let deadline = parse_timeout(c.arg(last))?;
    let keys: Vec<Bytes> = c.args[1..last].to_vec();
    if pop_first_ready(c, &keys, end, None)? {
        return Ok(());
    }
    block_or_null(c, &keys, deadline, TimeoutReply::NullArray);
    Ok(())
}

/// BLMPOP timeout numkeys key [key ...] LEFT|RIGHT [COUNT count]
fn blmpop(c: &mut Ctx) -> CmdResult {
    let m = super::parse_mpop(c, 2, End::parse)?;
    let deadline = parse_timeout(c.arg(1))?;
    if pop_first_ready(c, &m.keys, m.side, Some(m.count))? {
        return Ok(());
    }
    block_or_null(c, &m.keys, deadline, TimeoutReply::NullArray);
    Ok(())
}

/// BLMOVE source destination LEFT|RIGHT LEFT|RIGHT timeout
fn blmove(c: &mut Ctx) -> CmdResult {
    let from = End::parse(c.arg(3))?;
    let to = End::parse(c.arg(4))?;
    let deadline = parse_timeout(c.arg(5))?;
    blocking_move(c, from, to, deadline, false)
}

/// BRPOPLPUSH source destination timeout
fn brpoplpush(c: &mut Ctx) -> CmdResult {
    let deadline = parse_timeout(c.arg(3))?;
    blocking_move(c, End::Tail, End::Head, deadline, true)
}

fn blocking_move(
    c: &mut Ctx,
    from: End,
    to: End,
    deadline: Option<i64>,
    rpoplpush: bool,
) -> CmdResult {
    let (src, dst) = (c.args[1].clone(), c.args[2].clone());
    let rerun = c.eng.rerunning();
    match poppable_len(c, &src, rerun)? {
        None | Some(0) => {
            // Inside MULTI a null bulk, but a timeout answers with a null
            // array: Redis 7.0's replyToBlockedClientTimedOut treats every
            // list wait alike.
            block_or_null(c, std::slice::from_ref(&src), deadline, TimeoutReply::Null);
        }
        Some(_) => {
            let v = move_one(c, &src, &dst, from, to)?;
            c.bulk(&v);
            let prop = if rpoplpush {
                vec![b"RPOPLPUSH".to_vec(), src.to_vec(), dst.to_vec()]
            } else if rerun {
                // Served after blocking: Redis spells the ends itself.
                vec![
                    b"LMOVE".to_vec(),
                    src.to_vec(),
                    dst.to_vec(),
                    from.name().to_vec(),
                    to.name().to_vec(),
                ]
            } else {
                vec![
                    b"LMOVE".to_vec(),
                    src.to_vec(),
                    dst.to_vec(),
                    c.arg(3).to_vec(),
                    c.arg(4).to_vec(),
                ]
            };
            c.propagate_instead(vec![prop]);
        }
    }
    Ok(())
}

/// Nothing to serve: block, or inside MULTI (where blocking is not
/// allowed) answer at once with `reply`'s null.
fn block_or_null(c: &mut Ctx, keys: &[Bytes], deadline: Option<i64>, reply: TimeoutReply) {
    if !may_block(c) {
        match reply {
            TimeoutReply::Null => c.null(),
            _ => c.null_array(),
        }
        return;
    }
    let keys: Vec<Key> = keys.iter().map(|k| Key::from(k.as_ref())).collect();
    block(c, keys, deadline, TimeoutReply::NullArray);
}

#[cfg(test)]
mod tests {
    //! What list commands propagate, served at once or after blocking:
    //! the replication stream is captured by holding a propagation unit
    //! open for the whole test.

    use crate::commands::testkit::Harness as T;

    #[test]
    fn served_at_once_propagates_the_plain_command() {
        let mut t = T::new();
        let a = t.client();
        t.run(a, &["RPUSH", "k", "1", "2", "3", "4", "5"]);
        t.run(a, &["BLPOP", "none", "k", "0"]);
        t.run(a, &["BRPOP", "k", "0"]);
        t.run(a, &["BLMPOP", "0", "1", "k", "RIGHT", "COUNT", "1"]);
        t.run(a, &["LMPOP", "2", "none", "k", "LEFT", "COUNT", "9"]);
        t.run(a, &["RPUSH", "s", "x", "y"]);
        t.run(a, &["BLMOVE", "s", "d", "LEFT", "Right", "0"]);
        t.run(a, &["BRPOPLPUSH", "s", "d", "0"]);
        assert_eq!(
            t.propagated(),
            [
                "RPUSH k 1 2 3 4 5",
                "LPOP k",
                "RPOP k",
                "RPOP k 1",
                "LPOP k 2",
                "RPUSH s x y",
                "LMOVE s d LEFT Right",
                "RPOPLPUSH s d",
            ]
        );
        // Nothing changed, nothing propagated.
        t.run(a, &["LPOP", "none"]);
        t.run(a, &["LMPOP", "1", "none", "LEFT"]);
        t.run(a, &["RPOPLPUSH", "none", "d"]);
        t.run(a, &["LREM", "d", "0", "absent"]);
        t.run(a, &["MULTI"]);
        t.run(a, &["BLPOP", "none", "0"]);
        assert_eq!(t.run(a, &["EXEC"]), "*1\r\n*-1\r\n");
        assert_eq!(t.propagated(), Vec::<String>::new());
    }

    #[test]
    fn served_after_blocking_propagates_as_redis() {
        let mut t = T::new();
        let (a, b, w) = (t.client(), t.client(), t.client());
        assert_eq!(t.run(a, &["BLPOP", "k", "0"]), "");
        assert_eq!(
            t.run(b, &["BLMPOP", "0", "1", "k", "LEFT", "COUNT", "2"]),
            ""
        );
        t.run(w, &["RPUSH", "k", "1", "2", "3", "4"]);
        assert_eq!(t.outbox(a), "*2\r\n$1\r\nk\r\n$1\r\n1\r\n");
        assert_eq!(t.outbox(b), "*2\r\n$1\r\nk\r\n*2\r\n$1\r\n2\r\n$1\r\n3\r\n");
        assert_eq!(t.propagated(), ["RPUSH k 1 2 3 4", "LPOP k", "LPOP k 2"]);

        assert_eq!(t.run(a, &["BLMOVE", "s", "d", "RIGHT", "LEFT", "0"]), "");
        assert_eq!(t.run(b, &["BRPOPLPUSH", "d", "e", "0"]), "");
        t.run(w, &["LPUSH", "s", "x"]);
        assert_eq!(t.outbox(a), "$1\r\nx\r\n");
        assert_eq!(t.outbox(b), "$1\r\nx\r\n");
        assert_eq!(
            t.propagated(),
            ["LPUSH s x", "LMOVE s d right left", "RPOPLPUSH d e"]
        );
        assert!(t.eng.keyspace().none_blocked());
    }

    #[test]
    fn rerun_skips_keys_of_another_type() {
        // Redis 7.0 serves blocked clients from lists only: a key that
        // became a string leaves the waiter blocked instead of erroring.
        let mut t = T::new();
        let (a, w) = (t.client(), t.client());
        assert_eq!(t.run(a, &["BLPOP", "k", "0"]), "");
        t.run(w, &["SET", "tmp", "v"]);
        t.run(w, &["RENAME", "tmp", "k"]);
        assert_eq!(t.outbox(a), "");
        assert!(t
            .eng
            .clients()
            .get(a)
            .unwrap()
            .block
            .as_ref()
            .is_some_and(|b| !b.done));
        t.run(w, &["DEL", "k"]);
        t.run(w, &["RPUSH", "k", "v"]);
        assert_eq!(t.outbox(a), "*2\r\n$1\r\nk\r\n$1\r\nv\r\n");
    }
}
