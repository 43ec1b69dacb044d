//! Stream commands (Redis's t_stream.c "stream commands" half).
//!
//! Replies, error texts and the order of checks follow Redis 7.0.15. Writes
//! propagate as Redis propagates them: XADD with the ID it generated and an
//! approximate trim rewritten as an exact one (`MAXLEN = <len>` /
//! `MINID = <first id>`); XREADGROUP, XCLAIM and XAUTOCLAIM as one
//! `XCLAIM key group consumer 0 id TIME t RETRYCOUNT n FORCE JUSTID LASTID
//! last` per pending entry they create, move or drop, plus `XGROUP SETID`
//! for NOACK reads and `XGROUP CREATECONSUMER` for consumers NOACK created.
//!
//! XREAD and XREADGROUP with BLOCK park the client through
//! `crate::blocking`; a `$` ID is replaced by the stream's last ID before
//! the command is kept, so that a re-run (when a write signals one of the
//! keys) reads what arrived after the block, as Redis's
//! `serveClientsBlockedOnStreamKey`: one stream per reply, at most COUNT
//! (1000 without COUNT) entries.

use bytes::Bytes;
use resp::encode as enc;
use resp::Proto;

use super::f::*;
use super::{cmd, container, eq, lookup_read_in, parse_int, CommandSpec, Ctx, KEY1};
use crate::blocking::{block, may_block, TimeoutReply};
use crate::config::{notify, P};
use crate::error::*;
use crate::keyspace::{Key, Value};
use crate::types::stream::{
    AddError, Consumer, Elem, Group, NewId, NodeLimits, Stream, StreamId, TrimBy,
    INVALID_ENTRIES_READ,
};

const INVALID_ID: &str = "ERR Invalid stream ID specified as stream command argument";

/// Keys at 2 (XGROUP subcommands, XINFO subcommands).
const KEY2: (i32, i32, i32) = (2, 2, 1);

/// The keys of XREAD/XREADGROUP: the first half of what follows STREAMS
/// (Redis's `xreadGetKeys`).
fn xread_keys(args: &[Bytes]) -> Vec<usize> {
    let mut i = 1;
    let mut streams = None;
    while i < args.len() {
        let a = &args[i];
        if eq(a, "block") || eq(a, "count") {
            i += 1;
        } else if eq(a, "group") {
            i += 2;
        } else if eq(a, "noack") {
        } else if eq(a, "streams") {
            streams = Some(i);
            break;
        } else {
            break;
        }
        i += 1;
    }
    let Some(pos) = streams else {
        return Vec::new();
    };
    let num = args.len() - pos - 1;
    if num == 0 || num % 2 != 0 {
        return Vec::new();
    }
    (pos + 1..pos + 1 + num / 2).collect()
}

/// The stream commands.
pub static COMMANDS: &[CommandSpec] = &[
    cmd(
        "xadd",
        -5,
        WRITE | DENYOOM | FAST,
        KEY1,
        "stream",
        "5.0.0",
        "Appends a new entry to a stream",
        xadd,
    ),
    cmd(
        "xrange",
        -4,
        READONLY,
        KEY1,
        "stream",
        "5.0.0",
        "Return a range of elements in a stream, with IDs matching the specified IDs interval",
        xrange,
    ),
    cmd(
        "xrevrange",
        -4,
        READONLY,
        KEY1,
        "stream",
        "5.0.0",
        "Return a range of elements in a stream, with IDs matching the specified IDs interval, in reverse order (from greater to smaller IDs) compared to XRANGE",
        xrevrange,
    ),
    cmd(
        "xlen",
        2,
        READONLY | FAST,
        KEY1,
        "stream",
        "5.0.0",
        "Return the number of entries in a stream",
        xlen,
    ),
    cmd(
        "xdel",
        -3,
        WRITE | FAST,
        KEY1,
        "stream",
        "5.0.0",
        "Removes the specified entries from the stream. Returns the number of items actually deleted, that may be different from the number of IDs passed in case certain IDs do not exist.",
        xdel,
    ),
    cmd(
        "xtrim",
        -4,
        WRITE,
        KEY1,
        "stream",
        "5.0.0",
        "Trims the stream to (approximately if '~' is passed) a certain size",
        xtrim,
    ),
    cmd(
        "xsetid",
        -3,
        WRITE | DENYOOM | FAST,
        KEY1,
        "stream",
        "5.0.0",
        "An internal command for replicating stream values",
        xsetid,
    ),
    cmd(
        "xread",
        -4,
        READONLY | BLOCKING,
        (0, 0, 0),
        "stream",
        "5.0.0",
        "Return never seen elements in multiple streams, with IDs greater than the ones reported by the caller for each stream. Can block.",
        xread,
    )
    .keys_found_by(xread_keys),
    cmd(
        "xreadgroup",
        -7,
        WRITE | BLOCKING,
        (0, 0, 0),
        "stream",
        "5.0.0",
        "Return new entries from a stream using a consumer group, or access the history of the pending entries for a given consumer. Can block.",
        xread,
    )
    .keys_found_by(xread_keys),
    cmd(
        "xack",
        -4,
        WRITE | FAST,
        KEY1,
        "stream",
        "5.0.0",
        "Marks a pending message as correctly processed, effectively removing it from the pending entries list of the consumer group. Return value of the command is the number of messages successfully acknowledged, that is, the IDs we were actually able to resolve in the PEL.",
        xack,
    ),
    cmd(
        "xpending",
        -3,
        READONLY,
        KEY1,
        "stream",
        "5.0.0",
        "Return information and entries from a stream consumer group pending entries list, that are messages fetched but never acknowledged.",
        xpending,
    ),
    cmd(
        "xclaim",
        -6,
        WRITE | FAST,
        KEY1,
        "stream",
        "5.0.0",
        "Changes (or acquires) ownership of a message in a consumer group, as if the message was delivered to the specified consumer.",
        xclaim,
    ),
    cmd(
        "xautoclaim",
        -6,
        WRITE | FAST,
        KEY1,
        "stream",
        "6.2.0",
        "Changes (or acquires) ownership of messages in a consumer group, as if the messages were delivered to the specified consumer.",
        xautoclaim,
    ),
    container(
        "xgroup",
        "stream",
        "5.0.0",
        "A container for consumer groups commands",
        XGROUP,
    ),
    container(
        "xinfo",
        "stream",
        "5.0.0",
        "A container for stream introspection commands",
        XINFO,
    ),
];

static XGROUP: &[CommandSpec] = &[
    cmd(
        "create",
        -5,
        WRITE | DENYOOM,
        KEY2,
        "stream",
        "5.0.0",
        "Create a consumer group.",
        xgroup,
    ),
    cmd(
        "createconsumer",
        5,
        WRITE | DENYOOM,
        KEY2,
        "stream",
        "6.2.0",
        "Create a consumer in a consumer group.",
        xgroup,
    ),
    cmd(
        "delconsumer",
        5,
        WRITE,
        KEY2,
        "stream",
        "5.0.0",
        "Delete a consumer from a consumer group.",
        xgroup,
    ),
    cmd(
        "destroy",
        4,
        WRITE,
        KEY2,
        "stream",
        "5.0.0",
        "Destroy a consumer group.",
        xgroup,
    ),
    cmd(
        "setid",
        -5,
        WRITE,
        KEY2,
        "stream",
        "5.0.0",
        "Set a consumer group to an arbitrary last delivered ID value.",
        xgroup,
    ),
    cmd(
        "help",
        2,
        LOADING | STALE,
        (0, 0, 0),
        "stream",
        "5.0.0",
        "Show helpful text about the different subcommands",
        xgroup,
    ),
];

static XINFO: &[CommandSpec] = &[
    cmd(
        "consumers",
        4,
        READONLY,
        KEY2,
        "stream",
        "5.0.0",
        "List the consumers in a consumer group",
        xinfo,
    ),
    cmd(
        "groups",
        3,
        READONLY,
        KEY2,
        "stream",
        "5.0.0",
        "List the consumer groups of a stream",
        xinfo,
    ),
    cmd(
        "stream",
        -3,
        READONLY,
        KEY2,
        "stream",
        "5.0.0",
        "Get information about a stream",
        xinfo,
    ),
    cmd(
        "help",
        2,
        LOADING | STALE,
        (0, 0, 0),
        "stream",
        "5.0.0",
        "Show helpful text about the different subcommands",
        xinfo,
    ),
];

// ---- parsing -------------------------------------------------------------

/// `streamGenericParseIDOrReply` without `ms-*`: `-`/`+` only when not
/// strict.
fn parse_id(arg: &[u8], missing_seq: u64, strict: bool) -> CmdResult<StreamId> {
    if arg == b"-" || arg == b"+" {
        if strict {
            return Err(INVALID_ID.into());
        }
        return Ok(if arg == b"-" {
            StreamId::MIN
        } else {
            StreamId::MAX
        });
    }
    StreamId::parse(arg, missing_seq, false)
        .map(|x| x.0)
        .ok_or(INVALID_ID.into())
}

/// An interval bound: `(id` is exclusive (and strict).
fn parse_interval(arg: &[u8], missing_seq: u64) -> CmdResult<(StreamId, bool)> {
    if arg.len() > 1 && arg[0] == b'(' {
        Ok((parse_id(&arg[1..], missing_seq, true)?, true))
    } else {
        Ok((parse_id(arg, missing_seq, false)?, false))
    }
}

/// An inclusive start from an interval argument.
fn interval_start(arg: &[u8]) -> CmdResult<StreamId> {
    let (id, ex) = parse_interval(arg, 0)?;
    if ex {
        return id
            .next()
            .ok_or(CmdError::fixed("ERR invalid start ID for the interval"));
    }
    Ok(id)
}

/// An inclusive end from an interval argument.
fn interval_end(arg: &[u8]) -> CmdResult<StreamId> {
    let (id, ex) = parse_interval(arg, u64::MAX)?;
    if ex {
        return id
            .prev()
            .ok_or(CmdError::fixed("ERR invalid end ID for the interval"));
    }
    Ok(id)
}

fn id_string(id: StreamId) -> Vec<u8> {
    id.to_string().into_bytes()
}

fn write_id(out: &mut Vec<u8>, id: StreamId) {
    enc::bulk(out, id.to_string().as_bytes());
}

/// One entry: `[id, [field, value, ...]]`.
fn write_entry(out: &mut Vec<u8>, id: StreamId, fv: &[Elem<'_>]) {
    enc::array_len(out, 2);
    write_id(out, id);
    enc::array_len(out, fv.len());
    for x in fv {
        match x {
            Elem::Str(b) => enc::bulk(out, b),
            Elem::Int(v) => enc::bulk(out, itoa::Buffer::new().format(*v).as_bytes()),
        }
    }
}

/// Write the entries in `start..=end` (COUNT 0 = all); returns how many.
fn write_range(
    out: &mut Vec<u8>,
    s: &Stream,
    start: StreamId,
    end: StreamId,
    count: usize,
    rev: bool,
) -> usize {
    let mut body = Vec::new();
    let mut n = 0;
    s.range(start, end, rev, |id, fv| {
        write_entry(&mut body, id, fv);
        n += 1;
        count == 0 || n < count
    });
    enc::array_len(out, n);
    out.extend_from_slice(&body);
    n
}

fn node_limits(c: &Ctx) -> NodeLimits {
    NodeLimits {
        max_bytes: c.eng.cfg().int(P::stream_node_max_bytes) as usize,
        max_entries: c.eng.cfg().int(P::stream_node_max_entries),
    }
}

fn as_stream(v: &Value) -> Option<&Stream> {
    match v {
        Value::Stream(s) => Some(s),
        _ => None,
    }
}

/// The stream at `key` for writing (after lazy expiry): None when missing,
/// WRONGTYPE for another type.
fn stream_mut<'a>(c: &'a mut Ctx, key: &[u8]) -> CmdResult<Option<&'a mut Stream>> {
    if c.lookup_write(key).is_none() {
        return Ok(None);
    }
    let db = c.cl.db;
    match c.eng.keyspace_mut().db_mut(db).get_mut(key) {
        Some(e) => match &mut e.value {
            Value::Stream(s) => Ok(Some(s)),
            _ => Err(WRONGTYPE.into()),
        },
        None => Ok(None),
    }
}

fn nogroup(key: &[u8], group: &[u8]) -> CmdError {
    CmdError::msg(format!(
        "NOGROUP No such key '{}' or consumer group '{}'",
        String::from_utf8_lossy(key),
        String::from_utf8_lossy(group)
    ))
}

/// The propagated XCLAIM for a pending entry (`streamPropagateXCLAIM`).
fn xclaim_prop(
    key: &[u8],
    group: &[u8],
    consumer: &[u8],
    id: &[u8],
    time: i64,
    count: u64,
    last: StreamId,
) -> Vec<Vec<u8>> {
    vec![
        b"XCLAIM".to_vec(),
        key.to_vec(),
        group.to_vec(),
        consumer.to_vec(),
        b"0".to_vec(),
        id.to_vec(),
        b"TIME".to_vec(),
        time.to_string().into_bytes(),
        b"RETRYCOUNT".to_vec(),
        count.to_string().into_bytes(),
        b"FORCE".to_vec(),
        b"JUSTID".to_vec(),
        b"LASTID".to_vec(),
        id_string(last),
    ]
}

/// `XGROUP SETID key group id ENTRIESREAD n` (`streamPropagateGroupID`).
fn setid_prop(key: &[u8], group: &[u8], g: &Group) -> Vec<Vec<u8>> {
    vec![
        b"XGROUP".to_vec(),
        b"SETID".to_vec(),
        key.to_vec(),
        group.to_vec(),
        id_string(g.last_id),
        b"ENTRIESREAD".to_vec(),
        g.entries_read.to_string().into_bytes(),
    ]
}

// ---- XADD / XTRIM ----------------------------------------------------------

struct AddTrim {
    by: Option<TrimBy>,
    approx: bool,
    limit: i64,
    /// Index of the MAXLEN/MINID value (for the rewrite).
    arg_idx: usize,
    id: Option<(StreamId, bool)>,
    nomkstream: bool,
}

/// `streamParseAddOrTrimArgsOrReply`: the options and the position of the
/// ID (XADD).
fn parse_add_trim(c: &Ctx, xadd: bool) -> CmdResult<(AddTrim, usize)> {
    let mut a = AddTrim {
        by: None,
        approx: false,
        limit: 0,
        arg_idx: 0,
        id: None,
        nomkstream: false,
    };
    let argc = c.args.len();
    let mut limit_given = false;
    let mut i = 2;
    while i < argc {
        let more = argc - 1 - i;
        let opt = c.arg(i);
        if xadd && opt == b"*" {
            break;
        } else if (eq(opt, "maxlen") || eq(opt, "minid")) && more > 0 {
            let maxlen = eq(opt, "maxlen");
            if a.by.is_some() {
                return Err(CmdError::fixed(
                    "ERR syntax error, MAXLEN and MINID options at the same time are not compatible",
                ));
            }
            a.approx = false;
            let next = c.arg(i + 1);
            if more >= 2 && next == b"~" {
                a.approx = true;
                i += 1;
            } else if more >= 2 && next == b"=" {
                i += 1;
            }
            if maxlen {
                let n = parse_int(c.arg(i + 1))?;
                if n < 0 {
                    return Err(CmdError::fixed("ERR The MAXLEN argument must be >= 0."));
                }
                a.by = Some(TrimBy::MaxLen(n as u64));
            } else {
                a.by = Some(TrimBy::MinId(parse_id(c.arg(i + 1), 0, true)?));
            }
            i += 1;
            a.arg_idx = i;
        } else if eq(opt, "limit") && more > 0 {
            let n = parse_int(c.arg(i + 1))?;
            if n < 0 {
                return Err(CmdError::fixed("ERR The LIMIT argument must be >= 0."));
            }
            a.limit = n;
            limit_given = true;
            i += 1;
        } else if xadd && eq(opt, "nomkstream") {
            a.nomkstream = true;
        } else if xadd {
            if opt == b"-" || opt == b"+" {
                return Err(INVALID_ID.into());
            }
            let (id, seq_given) =
                StreamId::parse(opt, 0, true).ok_or(CmdError::fixed(INVALID_ID))?;
            a.id = Some((id, seq_given));
            break;
        } else {
            return Err(SYNTAX.into());
        }
        i += 1;
    }
    if a.limit != 0 && a.by.is_none() {
        return Err(CmdError::fixed(
            "ERR syntax error, LIMIT cannot be used without specifying a trimming strategy",
        ));
    }
    if !xadd && a.by.is_none() {
        return Err(CmdError::fixed(
            "ERR syntax error, XTRIM must be called with a trimming strategy",
        ));
    }
    if c.from_master {
        a.limit = 0;
    } else if limit_given {
        if !a.approx {
            return Err(CmdError::fixed(
                "ERR syntax error, LIMIT cannot be used without the special ~ option",
            ));
        }
    } else if a.approx {
        let mut l = 100i64.saturating_mul(c.eng.cfg().int(P::stream_node_max_entries));
        if l <= 0 {
            l = 10000;
        }
        if l > 1_000_000 {
            l = 1_000_000;
        }
        a.limit = l;
    } else {
        a.limit = 0;
    }
    Ok((a, i))
}

/// After an approximate trim, the argument that makes it exact on replicas
/// (`streamRewriteTrimArgument`).
fn exact_trim_arg(s: &Stream, by: TrimBy) -> Vec<u8> {
    match by {
        TrimBy::MaxLen(_) => s.len().to_string().into_bytes(),
        TrimBy::MinId(_) => id_string(s.first_entry_any().unwrap_or(StreamId::MAX)),
    }
}

/// XADD key [NOMKSTREAM] [MAXLEN|MINID [=|~] threshold [LIMIT count]] *|id field value [field value ...]
fn xadd(c: &mut Ctx) -> CmdResult {
    let (a, idpos) = parse_add_trim(c, true)?;
    let argc = c.args.len();
    let field_pos = idpos + 1;
    if field_pos > argc || argc - field_pos < 2 || (argc - field_pos) % 2 == 1 {
        return Err(CmdError::arity("xadd"));
    }
    if let Some((id, true)) = a.id {
        if id.is_zero() {
            return Err(CmdError::fixed(
                "ERR The ID specified in XADD must be greater than 0-0",
            ));
        }
    }
    let key = c.args[1].clone();
    let lim = node_limits(c);
    let now = c.now().max(0) as u64;
    if stream_mut(c, &key)?.is_none() {
        if a.nomkstream {
            c.null();
            return Ok(());
        }
        c.set_key(&key, Value::Stream(Box::default()), -1);
    }
    let db = c.cl.db;
    // Split borrows: the fields stay in the arguments.
    let fv: Vec<&[u8]> = c.args[field_pos..].iter().map(|b| b.as_ref()).collect();
    let Some(Value::Stream(s)) = c
        .eng
        .keyspace_mut()
        .db_mut(db)
        .get_mut(&key)
        .map(|e| &mut e.value)
    else {
        return Ok(());
    };
    if s.last_id() == StreamId::MAX {
        return Err(CmdError::fixed(
            "ERR The stream has exhausted the last possible ID, unable to add more items",
        ));
    }
    let new = match a.id {
        None => NewId::Auto(now),
        Some((id, true)) => NewId::Exact(id),
        Some((id, false)) => NewId::AutoSeq(id.ms),
    };
    let id =
        match s.append(new, &fv, lim) {
            Ok(id) => id,
            Err(AddError::IdTooSmall) => return Err(CmdError::fixed(
                "ERR The ID specified in XADD is equal or smaller than the target stream top item",
            )),
            Err(AddError::TooLarge) => {
                return Err(CmdError::fixed("ERR Elements are too large to be stored"))
            }
        };
    let mut trimmed = 0;
    let mut rewrite = None;
    if let Some(by) = a.by {
        trimmed = s.trim(by, a.approx, a.limit);
        if a.approx {
            rewrite = Some(exact_trim_arg(s, by));
        }
    }
    let ids = id_string(id);
    c.bulk(&ids);
    c.modified(&key);
    c.notify(notify::STREAM, "xadd", &key);
    c.dirty(1);
    if a.by.is_some() {
        if trimmed > 0 {
            c.notify(notify::STREAM, "xtrim", &key);
        }
        if let Some(v) = rewrite {
            c.args[a.arg_idx - 1] = Bytes::from_static(b"=");
            c.args[a.arg_idx] = Bytes::from(v);
        }
    }
    if !matches!(a.id, Some((_, true))) {
        c.args[idpos] = Bytes::from(ids);
    }
    Ok(())
}

/// XTRIM key MAXLEN|MINID [=|~] threshold [LIMIT count]
fn xtrim(c: &mut Ctx) -> CmdResult {
    let (a, _) = parse_add_trim(c, false)?;
    let key = c.args[1].clone();
    let Some(s) = stream_mut(c, &key)? else {
        c.int(0);
        return Ok(());
    };
    let Some(by) = a.by else {
        return Err(SYNTAX.into());
    };
    let deleted = s.trim(by, a.approx, a.limit);
    let rewrite = (deleted > 0 && a.approx).then(|| exact_trim_arg(s, by));
    if deleted > 0 {
        c.notify(notify::STREAM, "xtrim", &key);
        if let Some(v) = rewrite {
            c.args[a.arg_idx - 1] = Bytes::from_static(b"=");
            c.args[a.arg_idx] = Bytes::from(v);
        }
        c.modified(&key);
        c.dirty(deleted as u64);
    }
    c.int(deleted);
    Ok(())
}

// ---- XRANGE / XREVRANGE / XLEN / XDEL / XSETID ----------------------------

fn xrange(c: &mut Ctx) -> CmdResult {
    range_generic(c, false)
}

fn xrevrange(c: &mut Ctx) -> CmdResult {
    range_generic(c, true)
}

/// XRANGE key start end [COUNT n] / XREVRANGE key end start [COUNT n]
fn range_generic(c: &mut Ctx, rev: bool) -> CmdResult {
    let (sa, ea) = if rev { (3, 2) } else { (2, 3) };
    let start = interval_start(c.arg(sa))?;
    let end = interval_end(c.arg(ea))?;
    let mut count: i64 = -1;
    let mut j = 4;
    while j < c.args.len() {
        if eq(c.arg(j), "count") && j + 1 < c.args.len() {
            count = parse_int(c.arg(j + 1))?.max(0);
            j += 1;
        } else {
            return Err(SYNTAX.into());
        }
        j += 1;
    }
    let (db, fm, proto) = (c.cl.db, c.from_master, c.cl.proto);
    let out = &mut *c.out;
    let Some(e) = lookup_read_in(c.eng, db, &c.args[1], fm) else {
        enc::array_len(out, 0);
        return Ok(());
    };
    let s = as_stream(&e.value).ok_or(CmdError::fixed(WRONGTYPE))?;
    if count == 0 {
        enc::null_array(out, proto);
    } else {
        let n = if count < 0 { 0 } else { count as usize };
        write_range(out, s, start, end, n, rev);
    }
    Ok(())
}

fn xlen(c: &mut Ctx) -> CmdResult {
    let (db, fm) = (c.cl.db, c.from_master);
    let n = match lookup_read_in(c.eng, db, &c.args[1], fm) {
        None => 0,
        Some(e) => as_stream(&e.value).ok_or(CmdError::fixed(WRONGTYPE))?.len(),
    };
    c.int(n as i64);
    Ok(())
}

/// XDEL key id [id ...]
fn xdel(c: &mut Ctx) -> CmdResult {
    let key = c.args[1].clone();
    if stream_mut(c, &key)?.is_none() {
        c.int(0);
        return Ok(());
    }
    let ids = c.args[2..]
        .iter()
        .map(|a| parse_id(a, 0, true))
        .collect::<CmdResult<Vec<_>>>()?;
    let Some(s) = stream_mut(c, &key)? else {
        return Ok(());
    };
    let deleted = s.delete_ids(&ids);
    if deleted > 0 {
        c.modified(&key);
        c.notify(notify::STREAM, "xdel", &key);
        c.dirty(deleted);
    }
    c.int(deleted as i64);
    Ok(())
}

/// XSETID key last-id [ENTRIESADDED n] [MAXDELETEDID id]
fn xsetid(c: &mut Ctx) -> CmdResult {
    let id = parse_id(c.arg(2), 0, true)?;
    let mut entries_added: i64 = -1;
    let mut max_xdel = StreamId::MIN;
    let mut i = 3;
    let argc = c.args.len();
    while i < argc {
        let more = argc - 1 - i;
        if eq(c.arg(i), "entriesadded") && more > 0 {
            entries_added = parse_int(c.arg(i + 1))?;
            if entries_added < 0 {
                return Err(CmdError::fixed("ERR entries_added must be positive"));
            }
            i += 2;
        } else if eq(c.arg(i), "maxdeletedid") && more > 0 {
            max_xdel = parse_id(c.arg(i + 1), 0, true)?;
            if id < max_xdel {
                return Err(CmdError::fixed(
                    "ERR The ID specified in XSETID is smaller than the provided max_deleted_entry_id",
                ));
            }
            i += 2;
        } else {
            return Err(SYNTAX.into());
        }
    }
    let key = c.args[1].clone();
    let Some(s) = stream_mut(c, &key)? else {
        return Err(NO_SUCH_KEY.into());
    };
    if !s.is_empty() {
        let max = s.edge_id(true).unwrap_or_default();
        if id < max {
            return Err(CmdError::fixed(
                "ERR The ID specified in XSETID is smaller than the target stream top item",
            ));
        }
        if entries_added != -1 && s.len() > entries_added as u64 {
            return Err(CmdError::fixed(
                "ERR The entries_added specified in XSETID is smaller than the target stream length",
            ));
        }
    }
    let added = if entries_added != -1 {
        entries_added as u64
    } else {
        s.entries_added()
    };
    let maxdel = if max_xdel.is_zero() {
        s.max_deleted_entry_id()
    } else {
        max_xdel
    };
    s.set_meta(id, added, maxdel);
    c.ok();
    c.dirty(1);
    c.notify(notify::STREAM, "xsetid", &key);
    Ok(())
}

// ---- XREAD / XREADGROUP ----------------------------------------------------

/// Deliver entries from `start` on to a consumer of a group (the group
/// half of `streamReplyWithRange`): writes the entries array, moves the
/// group's last ID and read counter, creates or hands over the pending
/// entries (unless `noack`), and collects what to propagate.
#[allow(clippy::too_many_arguments)]
fn deliver(
    out: &mut Vec<u8>,
    s: &mut Stream,
    key: &[u8],
    group: &[u8],
    consumer: &[u8],
    start: StreamId,
    count: usize,
    noack: bool,
    now: i64,
    prop: &mut Vec<Vec<Vec<u8>>>,
) -> usize {
    let mut ids = Vec::new();
    let mut body = Vec::new();
    s.range(start, StreamId::MAX, false, |id, fv| {
        write_entry(&mut body, id, fv);
        ids.push(id);
        count == 0 || ids.len() < count
    });
    enc::array_len(out, ids.len());
    out.extend_from_slice(&body);
    let mut moved = false;
    for &id in &ids {
        let before = s.group(group).map(|g| g.last_id);
        s.advance_group(group, id);
        if before.is_some_and(|b| id > b) {
            moved = true;
        }
        if noack {
            continue;
        }
        let Some(g) = s.group_mut(group) else {
            continue;
        };
        g.deliver(id, consumer, now);
        let (t, n) = g
            .pel
            .get(&id)
            .map(|n| (n.delivery_time, n.delivery_count))
            .unwrap_or((now, 1));
        prop.push(xclaim_prop(
            key,
            group,
            consumer,
            &id_string(id),
            t,
            n,
            g.last_id,
        ));
    }
    if noack && moved {
        if let Some(g) = s.group(group) {
            prop.push(setid_prop(key, group, g));
        }
    }
    ids.len()
}

/// The history of a consumer (`streamReplyWithRangeFromConsumerPEL`).
#[allow(clippy::too_many_arguments)]
fn deliver_history(
    out: &mut Vec<u8>,
    proto: Proto,
    s: &mut Stream,
    group: &[u8],
    consumer: &[u8],
    start: StreamId,
    count: usize,
    now: i64,
) {
    let ids: Vec<StreamId> = s
        .group(group)
        .and_then(|g| g.consumers.get(consumer))
        .map(|c| {
            c.pel
                .range(start..)
                .take(if count == 0 { usize::MAX } else { count })
                .copied()
                .collect()
        })
        .unwrap_or_default();
    enc::array_len(out, ids.len());
    let mut found = Vec::with_capacity(ids.len());
    for &id in &ids {
        match s.get(id) {
            Some(fv) => {
                write_entry(out, id, &fv);
                found.push(id);
            }
            None => {
                enc::array_len(out, 2);
                write_id(out, id);
                enc::null_array(out, proto);
            }
        }
    }
    if let Some(g) = s.group_mut(group) {
        for id in found {
            if let Some(n) = g.pel.get_mut(&id) {
                n.delivery_time = now;
                n.delivery_count += 1;
            }
        }
    }
}

/// Look a consumer up (refreshing its seen time) or create it; true when
/// created.
fn touch_consumer(g: &mut Group, name: &[u8], now: i64) -> bool {
    match g.consumers.get_mut(name) {
        Some(c) => {
            c.seen_time = now;
            false
        }
        None => {
            g.consumers.insert(
                name.into(),
                Consumer {
                    seen_time: now,
                    pel: Default::default(),
                },
            );
            true
        }
    }
}

/// XREAD [COUNT n] [BLOCK ms] STREAMS key [key ...] id [id ...]
/// XREADGROUP GROUP group consumer [COUNT n] [BLOCK ms] [NOACK] STREAMS key [key ...] id [id ...]
fn xread(c: &mut Ctx) -> CmdResult {
    let xreadgroup = c.arg(0).len() == 10;
    let argc = c.args.len();
    let mut timeout: Option<i64> = None;
    let mut count: i64 = 0;
    let mut streams_arg = 0;
    let mut nstreams = 0;
    let mut noack = false;
    let mut group_name: Option<Bytes> = None;
    let mut consumer_name: Option<Bytes> = None;
    let mut i = 1;
    while i < argc {
        let more = argc - i - 1;
        let o = c.arg(i);
        if eq(o, "block") && more > 0 {
            if c.cl.flags & crate::client::flag::SCRIPT != 0 {
                return Err(CmdError::msg(format!(
                    "ERR {} command is not allowed with BLOCK option from scripts",
                    String::from_utf8_lossy(c.arg(0))
                )));
            }
            i += 1;
            let t = crate::util::num::parse_i64(c.arg(i)).ok_or(CmdError::fixed(
                "ERR timeout is not an integer or out of range",
            ))?;
            if t < 0 {
                return Err(TIMEOUT_NEGATIVE.into());
            }
            timeout = Some(t);
        } else if eq(o, "count") && more > 0 {
            i += 1;
            count = parse_int(c.arg(i))?.max(0);
        } else if eq(o, "streams") && more > 0 {
            streams_arg = i + 1;
            let n = argc - streams_arg;
            if n % 2 != 0 {
                return Err(CmdError::fixed(
                    "ERR Unbalanced XREAD list of streams: for each stream key an ID or '$' must be specified.",
                ));
            }
            nstreams = n / 2;
            break;
        } else if eq(o, "group") && more >= 2 {
            if !xreadgroup {
                return Err(CmdError::fixed(
                    "ERR The GROUP option is only supported by XREADGROUP. You called XREAD instead.",
                ));
            }
            group_name = Some(c.args[i + 1].clone());
            consumer_name = Some(c.args[i + 2].clone());
            i += 2;
        } else if eq(o, "noack") {
            if !xreadgroup {
                return Err(CmdError::fixed(
                    "ERR The NOACK option is only supported by XREADGROUP. You called XREAD instead.",
                ));
            }
            noack = true;
        } else {
            return Err(SYNTAX.into());
        }
        i += 1;
    }
    if streams_arg == 0 {
        return Err(SYNTAX.into());
    }
    if xreadgroup && group_name.is_none() {
        return Err(CmdError::fixed("ERR Missing GROUP option for XREADGROUP"));
    }
    let (db, fm) = (c.cl.db, c.from_master);
    // Resolve the IDs ('$', '>', explicit) and check the groups.
    let mut ids = Vec::with_capacity(nstreams);
    for k in 0..nstreams {
        let key = c.args[streams_arg + k].clone();
        let arg = c.args[streams_arg + nstreams + k].clone();
        let rerun = c.eng.rerunning();
        let e = lookup_read_in(c.eng, db, &key, fm);
        let s = match e {
            None => None,
            // Served after blocking, a key that holds something else now is
            // one with nothing to serve (Redis serves the ready key only).
            Some(e) if rerun => as_stream(&e.value),
            Some(e) => Some(as_stream(&e.value).ok_or(CmdError::fixed(WRONGTYPE))?),
        };
        if let Some(g) = &group_name {
            if s.and_then(|s| s.group(g)).is_none() {
                if c.eng.rerunning() {
                    return Err(CmdError::fixed(
                        "NOGROUP the consumer group this client was blocked on no longer exists",
                    ));
                }
                return Err(CmdError::msg(format!(
                    "NOGROUP No such key '{}' or consumer group '{}' in XREADGROUP with GROUP option",
                    String::from_utf8_lossy(&key),
                    String::from_utf8_lossy(g)
                )));
            }
        }
        if arg.as_ref() == b"$" {
            if xreadgroup {
                return Err(CmdError::fixed("ERR The $ ID is meaningless in the context of XREADGROUP: you want to read the history of this consumer by specifying a proper ID, or use the > ID to get new messages. The $ ID would just return an empty result set."));
            }
            ids.push(s.map(|s| s.last_id()).unwrap_or_default());
            continue;
        } else if arg.as_ref() == b">" {
            if !xreadgroup {
                return Err(CmdError::fixed("ERR The > ID can be specified only when calling XREADGROUP using the GROUP <group> <consumer> option."));
            }
            ids.push(StreamId::MAX);
            continue;
        }
        ids.push(parse_id(&arg, 0, true)?);
    }
    let now = c.now();
    let proto = c.cl.proto;
    let mut prop: Vec<Vec<Vec<u8>>> = Vec::new();

    if c.eng.rerunning() {
        // Served after blocking: the first stream that has something newer.
        let n = if count > 0 { count as usize } else { 1000 };
        for k in 0..nstreams {
            let key = c.args[streams_arg + k].clone();
            let Ok(Some(s)) = stream_mut(c, &key) else {
                continue;
            };
            let mut gt = ids[k];
            if let Some(g) = &group_name {
                match s.group(g) {
                    None => return Err(CmdError::fixed(
                        "NOGROUP the consumer group this client was blocked on no longer exists",
                    )),
                    Some(grp) => gt = grp.last_id,
                }
            }
            if s.last_id() <= gt {
                continue;
            }
            let start = gt.next().unwrap_or(StreamId::MAX);
            let mut body = Vec::new();
            if proto == Proto::Resp2 {
                enc::array_len(&mut body, 1);
                enc::array_len(&mut body, 2);
            } else {
                enc::map_len(&mut body, proto, 1);
            }
            enc::bulk(&mut body, &key);
            let mut created = false;
            if let (Some(g), Some(cn)) = (&group_name, &consumer_name) {
                if let Some(grp) = s.group_mut(g) {
                    created = touch_consumer(grp, cn, now);
                }
                if created && noack {
                    prop.push(vec![
                        b"XGROUP".to_vec(),
                        b"CREATECONSUMER".to_vec(),
                        key.to_vec(),
                        g.to_vec(),
                        cn.to_vec(),
                    ]);
                }
                deliver(&mut body, s, &key, g, cn, start, n, noack, now, &mut prop);
            } else {
                write_range(&mut body, s, start, StreamId::MAX, n, false);
            }
            c.out.extend_from_slice(&body);
            if created {
                c.dirty(1);
                c.notify(notify::STREAM, "xgroup-createconsumer", &key);
            }
            if group_name.is_some() {
                c.dirty(1);
                c.propagate_instead(prop);
            }
            return Ok(());
        }
        block(c, Vec::new(), None, TimeoutReply::NullArray);
        return Ok(());
    }

    // Serve at once what can be served.
    let mut served = 0;
    let mut body = Vec::new();
    for k in 0..nstreams {
        let key = c.args[streams_arg + k].clone();
        let Some(s) = stream_mut_read(c, &key) else {
            continue;
        };
        let mut gt = ids[k];
        let mut history = false;
        let mut serve = false;
        if let Some(g) = &group_name {
            if gt != StreamId::MAX {
                serve = true;
                history = true;
            } else if !s.is_empty() {
                let last = s.group(g).map(|x| x.last_id).unwrap_or_default();
                let max = s.edge_id(true).unwrap_or_default();
                if max > last {
                    serve = true;
                    gt = last;
                }
            }
        } else if !s.is_empty() {
            let max = s.edge_id(true).unwrap_or_default();
            serve = max > gt;
        }
        if !serve {
            continue;
        }
        served += 1;
        let start = gt.next().unwrap_or(StreamId::MAX);
        if proto == Proto::Resp2 {
            enc::array_len(&mut body, 2);
        }
        enc::bulk(&mut body, &key);
        let n = count as usize;
        match (&group_name, &consumer_name) {
            (Some(g), Some(cn)) => {
                let mut created = false;
                if let Some(grp) = s.group_mut(g) {
                    created = touch_consumer(grp, cn, now);
                }
                if created && noack {
                    prop.push(vec![
                        b"XGROUP".to_vec(),
                        b"CREATECONSUMER".to_vec(),
                        key.to_vec(),
                        g.to_vec(),
                        cn.to_vec(),
                    ]);
                }
                if history {
                    deliver_history(&mut body, proto, s, g, cn, start, n, now);
                } else {
                    deliver(&mut body, s, &key, g, cn, start, n, noack, now, &mut prop);
                }
                if created {
                    c.dirty(1);
                    c.notify(notify::STREAM, "xgroup-createconsumer", &key);
                }
                c.dirty(1);
            }
            _ => {
                write_range(&mut body, s, start, StreamId::MAX, n, false);
            }
        }
    }
    if group_name.is_some() {
        c.propagate_instead(prop);
    }
    if served > 0 {
        if proto == Proto::Resp2 {
            enc::array_len(c.out, served);
        } else {
            enc::map_len(c.out, proto, served);
        }
        c.out.extend_from_slice(&body);
        return Ok(());
    }
    let Some(t) = timeout else {
        c.null_array();
        return Ok(());
    };
    if !may_block(c) {
        c.null_array();
        return Ok(());
    }
    // Keep '$' as the ID it meant now, for the re-run.
    for (k, id) in ids.iter().enumerate() {
        let at = streams_arg + nstreams + k;
        if c.args[at].as_ref() == b"$" {
            c.args[at] = Bytes::from(id_string(*id));
        }
    }
    let deadline = (t > 0).then(|| crate::clock::now_ms() + t);
    let keys: Vec<Key> = (0..nstreams)
        .map(|k| Key::from(c.args[streams_arg + k].as_ref()))
        .collect();
    block(c, keys, deadline, TimeoutReply::NullArray);
    Ok(())
}

/// The stream at `key` without lazy-expiry side effects beyond a read's,
/// for XREAD's synchronous pass (which may still change groups).
fn stream_mut_read<'a>(c: &'a mut Ctx, key: &[u8]) -> Option<&'a mut Stream> {
    let (db, fm) = (c.cl.db, c.from_master);
    lookup_read_in(c.eng, db, key, fm)?;
    match &mut c.eng.keyspace_mut().db_mut(db).get_mut(key)?.value {
        Value::Stream(s) => Some(s),
        _ => None,
    }
}

// ---- consumer groups -----------------------------------------------------

fn subcommand_syntax(c: &Ctx) -> CmdError {
    CmdError::msg(format!(
        "ERR unknown subcommand or wrong number of arguments for '{}'. Try {} HELP.",
        String::from_utf8_lossy(c.arg(1)),
        String::from_utf8_lossy(c.arg(0)).to_uppercase()
    ))
}

/// XGROUP CREATE|SETID|DESTROY|CREATECONSUMER|DELCONSUMER|HELP
fn xgroup(c: &mut Ctx) -> CmdResult {
    let argc = c.args.len();
    let opt = c.args[1].clone();
    let mut mkstream = false;
    let mut entries_read = INVALID_ENTRIES_READ;
    let mut have_stream = false;
    let mut have_group = false;
    if argc >= 4 {
        let create = eq(&opt, "create");
        let setid = eq(&opt, "setid");
        let mut i = 5;
        while i < argc {
            if create && eq(c.arg(i), "mkstream") {
                mkstream = true;
                i += 1;
            } else if (create || setid) && eq(c.arg(i), "entriesread") && i + 1 < argc {
                entries_read = parse_int(c.arg(i + 1))?;
                if entries_read < 0 && entries_read != INVALID_ENTRIES_READ {
                    return Err(CmdError::fixed(
                        "ERR value for ENTRIESREAD must be positive or -1",
                    ));
                }
                i += 2;
            } else {
                return Err(subcommand_syntax(c));
            }
        }
        let key = c.args[2].clone();
        let grp = c.args[3].clone();
        if let Some(s) = stream_mut(c, &key)? {
            have_stream = true;
            have_group = s.group(&grp).is_some();
        }
        if !mkstream {
            if !have_stream {
                return Err(CmdError::fixed("ERR The XGROUP subcommand requires the key to exist. Note that for CREATE you may want to use the MKSTREAM option to create an empty stream automatically."));
            }
            if !have_group
                && (eq(&opt, "setid") || eq(&opt, "createconsumer") || eq(&opt, "delconsumer"))
            {
                return Err(CmdError::msg(format!(
                    "NOGROUP No such consumer group '{}' for key name '{}'",
                    String::from_utf8_lossy(&grp),
                    String::from_utf8_lossy(&key)
                )));
            }
        }
    }
    let now = c.now();
    if argc == 2 && eq(&opt, "help") {
        super::keys::help_reply(
            c,
            "XGROUP",
            &[
                "CREATE <key> <groupname> <id|$> [option]",
                "    Create a new consumer group. Options are:",
                "    * MKSTREAM",
                "      Create the empty stream if it does not exist.",
                "    * ENTRIESREAD entries_read",
                "      Set the group's entries_read counter (internal use).",
                "CREATECONSUMER <key> <groupname> <consumer>",
                "    Create a new consumer in the specified group.",
                "DELCONSUMER <key> <groupname> <consumer>",
                "    Remove the specified consumer.",
                "DESTROY <key> <groupname>",
                "    Remove the specified group.",
                "SETID <key> <groupname> <id|$> [ENTRIESREAD entries_read]",
                "    Set the current group ID and entries_read counter.",
            ],
        );
        return Ok(());
    }
    let key = if argc >= 3 {
        c.args[2].clone()
    } else {
        Bytes::new()
    };
    let grp = if argc >= 4 {
        c.args[3].clone()
    } else {
        Bytes::new()
    };
    if eq(&opt, "create") && (5..=8).contains(&argc) {
        let id = if c.arg(4) == b"$" {
            match stream_mut(c, &key)? {
                Some(s) => s.last_id(),
                None => StreamId::MIN,
            }
        } else {
            parse_id(c.arg(4), 0, true)?
        };
        if !have_stream {
            c.set_key(&key, Value::Stream(Box::default()), -1);
        }
        let Some(s) = stream_mut(c, &key)? else {
            return Ok(());
        };
        if s.create_group(&grp, id, entries_read) {
            c.ok();
            c.dirty(1);
            c.notify(notify::STREAM, "xgroup-create", &key);
        } else {
            return Err(CmdError::fixed(
                "BUSYGROUP Consumer Group name already exists",
            ));
        }
    } else if eq(&opt, "setid") && (argc == 5 || argc == 7) {
        let idarg = c.args[4].clone();
        let Some(s) = stream_mut(c, &key)? else {
            return Ok(());
        };
        let id = if idarg.as_ref() == b"$" {
            s.last_id()
        } else {
            parse_id(&idarg, 0, false)?
        };
        if let Some(g) = s.group_mut(&grp) {
            g.last_id = id;
            g.entries_read = entries_read;
        }
        c.ok();
        c.dirty(1);
        c.notify(notify::STREAM, "xgroup-setid", &key);
    } else if eq(&opt, "destroy") && argc == 4 {
        let Some(s) = stream_mut(c, &key)? else {
            return Ok(());
        };
        if s.destroy_group(&grp) {
            c.int(1);
            c.dirty(1);
            c.notify(notify::STREAM, "xgroup-destroy", &key);
            // Blocked XREADGROUP readers of the group get -NOGROUP.
            let db = c.cl.db;
            c.eng.keyspace_mut().signal_ready(db, &key);
        } else {
            c.int(0);
        }
    } else if eq(&opt, "createconsumer") && argc == 5 {
        let name = c.args[4].clone();
        let Some(s) = stream_mut(c, &key)? else {
            return Ok(());
        };
        let created = match s.group_mut(&grp) {
            Some(g) if !g.consumers.contains_key(name.as_ref()) => {
                touch_consumer(g, &name, now);
                true
            }
            _ => false,
        };
        if created {
            c.dirty(1);
            c.notify(notify::STREAM, "xgroup-createconsumer", &key);
        }
        c.int(created as i64);
    } else if eq(&opt, "delconsumer") && argc == 5 {
        let name = c.args[4].clone();
        let Some(s) = stream_mut(c, &key)? else {
            return Ok(());
        };
        let pending = s.group_mut(&grp).and_then(|g| g.delete_consumer(&name));
        if pending.is_some() {
            c.dirty(1);
            c.notify(notify::STREAM, "xgroup-delconsumer", &key);
        }
        c.int(pending.unwrap_or(0) as i64);
    } else {
        return Err(subcommand_syntax(c));
    }
    Ok(())
}

/// XACK key group id [id ...]
fn xack(c: &mut Ctx) -> CmdResult {
    let key = c.args[1].clone();
    let grp = c.args[2].clone();
    let (db, fm) = (c.cl.db, c.from_master);
    let has_group = match lookup_read_in(c.eng, db, &key, fm) {
        None => false,
        Some(e) => as_stream(&e.value)
            .ok_or(CmdError::fixed(WRONGTYPE))?
            .group(&grp)
            .is_some(),
    };
    if !has_group {
        c.int(0);
        return Ok(());
    }
    let ids = c.args[3..]
        .iter()
        .map(|a| parse_id(a, 0, true))
        .collect::<CmdResult<Vec<_>>>()?;
    let mut acked = 0;
    if let Some(g) = stream_mut_read(c, &key).and_then(|s| s.group_mut(&grp)) {
        for id in ids {
            if g.ack(id) {
                acked += 1;
            }
        }
    }
    c.dirty(acked);
    c.int(acked as i64);
    Ok(())
}

/// XPENDING key group [[IDLE min-idle] start end count [consumer]]
fn xpending(c: &mut Ctx) -> CmdResult {
    let argc = c.args.len();
    let justinfo = argc == 3;
    if argc != 3 && !(6..=9).contains(&argc) {
        return Err(SYNTAX.into());
    }
    let mut start = StreamId::MIN;
    let mut end = StreamId::MAX;
    let mut count: i64 = 0;
    let mut minidle: i64 = 0;
    let mut consumer: Option<Bytes> = None;
    if argc >= 6 {
        let mut si = 3;
        if eq(c.arg(3), "idle") {
            minidle = parse_int(c.arg(4))?;
            if argc < 8 {
                return Err(SYNTAX.into());
            }
            si += 2;
        }
        count = parse_int(c.arg(si + 2))?.max(0);
        start = interval_start(c.arg(si))?;
        end = interval_end(c.arg(si + 1))?;
        if si + 3 < argc {
            consumer = Some(c.args[si + 3].clone());
        }
    }
    let key = c.args[1].clone();
    let grp = c.args[2].clone();
    let (db, fm, proto) = (c.cl.db, c.from_master, c.cl.proto);
    let now = c.now();
    let out = &mut *c.out;
    let e = lookup_read_in(c.eng, db, &key, fm);
    let s = match e {
        None => None,
        Some(e) => Some(as_stream(&e.value).ok_or(CmdError::fixed(WRONGTYPE))?),
    };
    let Some(g) = s.and_then(|s| s.group(&grp)) else {
        return Err(nogroup(&key, &grp));
    };
    if justinfo {
        enc::array_len(out, 4);
        enc::integer(out, g.pel.len() as i64);
        match (g.pel.keys().next(), g.pel.keys().next_back()) {
            (Some(a), Some(b)) => {
                write_id(out, *a);
                write_id(out, *b);
                let with: Vec<_> = g
                    .consumers
                    .iter()
                    .filter(|(_, c)| !c.pel.is_empty())
                    .collect();
                enc::array_len(out, with.len());
                for (name, cons) in with {
                    enc::array_len(out, 2);
                    enc::bulk(out, name);
                    enc::bulk(out, cons.pel.len().to_string().as_bytes());
                }
            }
            _ => {
                enc::null(out, proto);
                enc::null(out, proto);
                enc::null_array(out, proto);
            }
        }
        return Ok(());
    }
    let ids: Vec<StreamId> = match &consumer {
        Some(cn) => match g.consumers.get(cn.as_ref()) {
            None => {
                enc::array_len(out, 0);
                return Ok(());
            }
            Some(cons) => cons.pel.range(start..).copied().collect(),
        },
        None => g.pel.range(start..).map(|(k, _)| *k).collect(),
    };
    let mut body = Vec::new();
    let mut n = 0;
    for id in ids {
        if count == 0 || id > end {
            break;
        }
        let Some(nack) = g.pel.get(&id) else {
            continue;
        };
        if minidle != 0 && now - nack.delivery_time < minidle {
            continue;
        }
        n += 1;
        count -= 1;
        enc::array_len(&mut body, 4);
        write_id(&mut body, id);
        enc::bulk(&mut body, &nack.consumer);
        enc::integer(&mut body, (now - nack.delivery_time).max(0));
        enc::integer(&mut body, nack.delivery_count as i64);
    }
    enc::array_len(out, n);
    out.extend_from_slice(&body);
    Ok(())
}

/// XCLAIM key group consumer min-idle-time id [id ...] [IDLE ms] [TIME ms]
/// [RETRYCOUNT n] [FORCE] [JUSTID] [LASTID id]
fn xclaim(c: &mut Ctx) -> CmdResult {
    let key = c.args[1].clone();
    let grp = c.args[2].clone();
    let name = c.args[3].clone();
    let (db, fm) = (c.cl.db, c.from_master);
    let ok = match lookup_read_in(c.eng, db, &key, fm) {
        None => false,
        Some(e) => as_stream(&e.value)
            .ok_or(CmdError::fixed(WRONGTYPE))?
            .group(&grp)
            .is_some(),
    };
    if !ok {
        return Err(nogroup(&key, &grp));
    }
    let minidle = crate::util::num::parse_i64(c.arg(4))
        .ok_or(CmdError::fixed(
            "ERR Invalid min-idle-time argument for XCLAIM",
        ))?
        .max(0);
    let argc = c.args.len();
    let mut ids = Vec::new();
    let mut j = 5;
    while j < argc {
        let a = c.arg(j);
        if a == b"-" || a == b"+" {
            break;
        }
        match StreamId::parse(a, 0, false) {
            Some((id, _)) => ids.push((id, c.args[j].clone())),
            None => break,
        }
        j += 1;
    }
    let now = c.now();
    let mut retrycount: i64 = -1;
    let mut deliverytime: i64 = -1;
    let mut force = false;
    let mut justid = false;
    let mut last_id = StreamId::MIN;
    while j < argc {
        let more = argc - 1 - j;
        let opt = c.args[j].clone();
        if eq(&opt, "force") {
            force = true;
        } else if eq(&opt, "justid") {
            justid = true;
        } else if eq(&opt, "idle") && more > 0 {
            j += 1;
            let v = crate::util::num::parse_i64(c.arg(j)).ok_or(CmdError::fixed(
                "ERR Invalid IDLE option argument for XCLAIM",
            ))?;
            deliverytime = now - v;
        } else if eq(&opt, "time") && more > 0 {
            j += 1;
            deliverytime = crate::util::num::parse_i64(c.arg(j)).ok_or(CmdError::fixed(
                "ERR Invalid TIME option argument for XCLAIM",
            ))?;
        } else if eq(&opt, "retrycount") && more > 0 {
            j += 1;
            retrycount = crate::util::num::parse_i64(c.arg(j)).ok_or(CmdError::fixed(
                "ERR Invalid RETRYCOUNT option argument for XCLAIM",
            ))?;
        } else if eq(&opt, "lastid") && more > 0 {
            j += 1;
            last_id = parse_id(c.arg(j), 0, true)?;
        } else {
            return Err(CmdError::msg(format!(
                "ERR Unrecognized XCLAIM option '{}'",
                String::from_utf8_lossy(&opt)
            )));
        }
        j += 1;
    }
    if deliverytime != -1 {
        if deliverytime < 0 || deliverytime > now {
            deliverytime = now;
        }
    } else {
        deliverytime = now;
    }
    let proto = c.cl.proto;
    let _ = proto;
    let mut prop = Vec::new();
    let mut dirty = 0u64;
    let mut created = false;
    let mut body = Vec::new();
    let mut n = 0;
    {
        let Some(s) = stream_mut_read(c, &key) else {
            return Ok(());
        };
        let mut propagate_last = false;
        if let Some(g) = s.group_mut(&grp) {
            if last_id > g.last_id {
                g.last_id = last_id;
                propagate_last = true;
            }
        }
        let mut have_consumer = false;
        for (id, arg) in &ids {
            let exists = s.contains(*id);
            let Some(g) = s.group_mut(&grp) else { break };
            if !exists {
                if let Some(nack) = g.pel.get(id) {
                    prop.push(xclaim_prop(
                        &key,
                        &grp,
                        &nack.consumer,
                        arg,
                        nack.delivery_time,
                        nack.delivery_count,
                        g.last_id,
                    ));
                    propagate_last = false;
                    dirty += 1;
                    g.ack(*id);
                }
                continue;
            }
            let mut fresh = false;
            if force && !g.pel.contains_key(id) {
                g.pel.insert(
                    *id,
                    crate::types::stream::Nack {
                        delivery_time: now,
                        delivery_count: 1,
                        consumer: Box::default(),
                    },
                );
                fresh = true;
            }
            let Some(nack) = g.pel.get(id) else {
                continue;
            };
            if !fresh && minidle != 0 && now - nack.delivery_time < minidle {
                continue;
            }
            let old = nack.consumer.clone();
            if !have_consumer {
                created |= touch_consumer(g, &name, now);
                have_consumer = true;
            }
            if old.as_ref() != name.as_ref() {
                if let Some(oc) = g.consumers.get_mut(&old) {
                    oc.pel.remove(id);
                }
            }
            let Some(nack) = g.pel.get_mut(id) else {
                continue;
            };
            nack.delivery_time = deliverytime;
            if retrycount >= 0 {
                nack.delivery_count = retrycount as u64;
            } else if !justid {
                nack.delivery_count += 1;
            }
            nack.consumer = name.as_ref().into();
            let (t, cnt) = (nack.delivery_time, nack.delivery_count);
            if let Some(cons) = g.consumers.get_mut(name.as_ref()) {
                cons.pel.insert(*id);
            }
            let last = g.last_id;
            if justid {
                write_id(&mut body, *id);
            } else if let Some(fv) = s.get(*id) {
                write_entry(&mut body, *id, &fv);
            }
            n += 1;
            prop.push(xclaim_prop(&key, &grp, &name, arg, t, cnt, last));
            propagate_last = false;
            dirty += 1;
        }
        if propagate_last {
            if let Some(g) = s.group(&grp) {
                prop.push(setid_prop(&key, &grp, g));
            }
            dirty += 1;
        }
    }
    if created {
        c.dirty(1);
        c.notify(notify::STREAM, "xgroup-createconsumer", &key);
    }
    c.dirty(dirty);
    enc::array_len(c.out, n);
    c.out.extend_from_slice(&body);
    c.propagate_instead(prop);
    Ok(())
}

/// XAUTOCLAIM key group consumer min-idle-time start [COUNT count] [JUSTID]
fn xautoclaim(c: &mut Ctx) -> CmdResult {
    let minidle = crate::util::num::parse_i64(c.arg(4))
        .ok_or(CmdError::fixed(
            "ERR Invalid min-idle-time argument for XAUTOCLAIM",
        ))?
        .max(0);
    let start = interval_start(c.arg(5))?;
    let argc = c.args.len();
    let mut count: i64 = 100;
    let mut justid = false;
    let mut j = 6;
    let max_count = i64::MAX / 16;
    while j < argc {
        let more = argc - 1 - j;
        if eq(c.arg(j), "count") && more > 0 {
            count = match crate::util::num::parse_i64(c.arg(j + 1)) {
                Some(n) if (1..=max_count).contains(&n) => n,
                _ => return Err(CmdError::fixed("ERR COUNT must be > 0")),
            };
            j += 1;
        } else if eq(c.arg(j), "justid") {
            justid = true;
        } else {
            return Err(SYNTAX.into());
        }
        j += 1;
    }
    let key = c.args[1].clone();
    let grp = c.args[2].clone();
    let name = c.args[3].clone();
    let (db, fm) = (c.cl.db, c.from_master);
    let ok = match lookup_read_in(c.eng, db, &key, fm) {
        None => false,
        Some(e) => as_stream(&e.value)
            .ok_or(CmdError::fixed(WRONGTYPE))?
            .group(&grp)
            .is_some(),
    };
    if !ok {
        return Err(nogroup(&key, &grp));
    }
    let now = c.now();
    let mut attempts = count.saturating_mul(10);
    let mut prop = Vec::new();
    let mut dirty = 0u64;
    let mut created = false;
    let mut deleted = Vec::new();
    let mut body = Vec::new();
    let mut n = 0;
    let next_cursor;
    {
        let Some(s) = stream_mut_read(c, &key) else {
            return Ok(());
        };
        let mut cursor = Some(start);
        let mut have_consumer = false;
        while attempts > 0 && count > 0 {
            attempts -= 1;
            let Some(cur) = cursor else { break };
            let Some(id) = s
                .group(&grp)
                .and_then(|g| g.pel.range(cur..).next().map(|(k, _)| *k))
            else {
                cursor = None;
                break;
            };
            cursor = id.next();
            let exists = s.contains(id);
            let Some(g) = s.group_mut(&grp) else { break };
            if !exists {
                if let Some(nack) = g.pel.get(&id) {
                    prop.push(xclaim_prop(
                        &key,
                        &grp,
                        &nack.consumer,
                        &id_string(id),
                        nack.delivery_time,
                        nack.delivery_count,
                        g.last_id,
                    ));
                }
                dirty += 1;
                g.ack(id);
                deleted.push(id);
                count -= 1;
                continue;
            }
            let Some(nack) = g.pel.get(&id) else { continue };
            if minidle != 0 && now - nack.delivery_time < minidle {
                continue;
            }
            let old = nack.consumer.clone();
            if !have_consumer {
                created |= touch_consumer(g, &name, now);
                have_consumer = true;
            }
            if old.as_ref() != name.as_ref() {
                if let Some(oc) = g.consumers.get_mut(&old) {
                    oc.pel.remove(&id);
                }
            }
            let Some(nack) = g.pel.get_mut(&id) else {
                continue;
            };
            nack.delivery_time = now;
            if !justid {
                nack.delivery_count += 1;
            }
            nack.consumer = name.as_ref().into();
            let (t, cnt) = (nack.delivery_time, nack.delivery_count);
            if let Some(cons) = g.consumers.get_mut(name.as_ref()) {
                cons.pel.insert(id);
            }
            let last = g.last_id;
            if justid {
                write_id(&mut body, id);
            } else if let Some(fv) = s.get(id) {
                write_entry(&mut body, id, &fv);
            }
            n += 1;
            count -= 1;
            prop.push(xclaim_prop(&key, &grp, &name, &id_string(id), t, cnt, last));
            dirty += 1;
        }
        next_cursor = cursor
            .and_then(|cur| {
                s.group(&grp)
                    .and_then(|g| g.pel.range(cur..).next().map(|(k, _)| *k))
            })
            .unwrap_or(StreamId::MIN);
    }
    if created {
        c.dirty(1);
        c.notify(notify::STREAM, "xgroup-createconsumer", &key);
    }
    c.dirty(dirty);
    let out = &mut *c.out;
    enc::array_len(out, 3);
    write_id(out, next_cursor);
    enc::array_len(out, n);
    out.extend_from_slice(&body);
    enc::array_len(out, deleted.len());
    for id in deleted {
        write_id(out, id);
    }
    c.propagate_instead(prop);
    Ok(())
}

// ---- XINFO -----------------------------------------------------------------

fn xinfo(c: &mut Ctx) -> CmdResult {
    let argc = c.args.len();
    if eq(c.arg(1), "help") {
        if argc != 2 {
            return Err(subcommand_syntax(c));
        }
        super::keys::help_reply(
            c,
            "XINFO",
            &[
                "CONSUMERS <key> <groupname>",
                "    Show consumers of <groupname>.",
                "GROUPS <key>",
                "    Show the stream consumer groups.",
                "STREAM <key> [FULL [COUNT <count>]",
                "    Show information about the stream.",
            ],
        );
        return Ok(());
    } else if argc < 3 {
        return Err(subcommand_syntax(c));
    }
    let opt = c.args[1].clone();
    let key = c.args[2].clone();
    let (db, fm, proto) = (c.cl.db, c.from_master, c.cl.proto);
    let now = c.now();
    // Parse XINFO STREAM's options before the reply starts.
    let mut full = false;
    let mut count: i64 = 10;
    let is_stream = eq(&opt, "stream");
    let syntax = subcommand_syntax(c);
    if is_stream && argc > 3 {
        let optc = argc - 3;
        if optc != 1 && optc != 3 {
            return Err(syntax);
        }
        if !eq(c.arg(3), "full") {
            return Err(syntax);
        }
        full = true;
        if optc == 3 {
            if !eq(c.arg(4), "count") {
                return Err(syntax);
            }
            count = parse_int(c.arg(5))?;
            if count < 0 {
                count = 10;
            }
        }
    }
    let out = &mut *c.out;
    let Some(e) = lookup_read_in(c.eng, db, &key, fm) else {
        return Err(NO_SUCH_KEY.into());
    };
    let s = as_stream(&e.value).ok_or(CmdError::fixed(WRONGTYPE))?;
    if eq(&opt, "consumers") && argc == 4 {
        let g = s.group(&c.args[3]).ok_or_else(|| {
            CmdError::msg(format!(
                "NOGROUP No such consumer group '{}' for key name '{}'",
                String::from_utf8_lossy(&c.args[3]),
                String::from_utf8_lossy(&key)
            ))
        })?;
        enc::array_len(out, g.consumers.len());
        for (name, cons) in &g.consumers {
            enc::map_len(out, proto, 3);
            enc::bulk(out, b"name");
            enc::bulk(out, name);
            enc::bulk(out, b"pending");
            enc::integer(out, cons.pel.len() as i64);
            enc::bulk(out, b"idle");
            enc::integer(out, (now - cons.seen_time).max(0));
        }
    } else if eq(&opt, "groups") && argc == 3 {
        enc::array_len(out, s.groups().len());
        for (name, g) in s.groups() {
            enc::map_len(out, proto, 6);
            enc::bulk(out, b"name");
            enc::bulk(out, name);
            enc::bulk(out, b"consumers");
            enc::integer(out, g.consumers.len() as i64);
            enc::bulk(out, b"pending");
            enc::integer(out, g.pel.len() as i64);
            enc::bulk(out, b"last-delivered-id");
            write_id(out, g.last_id);
            enc::bulk(out, b"entries-read");
            write_read_counter(out, proto, g.entries_read);
            enc::bulk(out, b"lag");
            write_lag(out, proto, s.group_lag(g));
        }
    } else if is_stream {
        let keys: Vec<[u8; 16]> = s.nodes().map(|(k, _)| k.to_be_bytes()).collect();
        enc::map_len(out, proto, if full { 9 } else { 10 });
        enc::bulk(out, b"length");
        enc::integer(out, s.len() as i64);
        enc::bulk(out, b"radix-tree-keys");
        enc::integer(out, s.node_count() as i64);
        enc::bulk(out, b"radix-tree-nodes");
        enc::integer(out, crate::types::stream::rax_nodes(&keys) as i64);
        enc::bulk(out, b"last-generated-id");
        write_id(out, s.last_id());
        enc::bulk(out, b"max-deleted-entry-id");
        write_id(out, s.max_deleted_entry_id());
        enc::bulk(out, b"entries-added");
        enc::integer(out, s.entries_added() as i64);
        enc::bulk(out, b"recorded-first-entry-id");
        write_id(out, s.first_id());
        if !full {
            enc::bulk(out, b"groups");
            enc::integer(out, s.groups().len() as i64);
            enc::bulk(out, b"first-entry");
            let mut any = false;
            s.range(StreamId::MIN, StreamId::MAX, false, |id, fv| {
                write_entry(out, id, fv);
                any = true;
                false
            });
            if !any {
                enc::null(out, proto);
            }
            enc::bulk(out, b"last-entry");
            let mut any = false;
            s.range(StreamId::MIN, StreamId::MAX, true, |id, fv| {
                write_entry(out, id, fv);
                any = true;
                false
            });
            if !any {
                enc::null(out, proto);
            }
        } else {
            let cnt = count as usize;
            enc::bulk(out, b"entries");
            write_range(out, s, StreamId::MIN, StreamId::MAX, cnt, false);
            enc::bulk(out, b"groups");
            enc::array_len(out, s.groups().len());
            for (name, g) in s.groups() {
                enc::map_len(out, proto, 7);
                enc::bulk(out, b"name");
                enc::bulk(out, name);
                enc::bulk(out, b"last-delivered-id");
                write_id(out, g.last_id);
                enc::bulk(out, b"entries-read");
                write_read_counter(out, proto, g.entries_read);
                enc::bulk(out, b"lag");
                write_lag(out, proto, s.group_lag(g));
                enc::bulk(out, b"pel-count");
                enc::integer(out, g.pel.len() as i64);
                enc::bulk(out, b"pending");
                let take = if cnt == 0 { usize::MAX } else { cnt };
                let shown: Vec<_> = g.pel.iter().take(take).collect();
                enc::array_len(out, shown.len());
                for (id, nack) in shown {
                    enc::array_len(out, 4);
                    write_id(out, *id);
                    enc::bulk(out, &nack.consumer);
                    enc::integer(out, nack.delivery_time);
                    enc::integer(out, nack.delivery_count as i64);
                }
                enc::bulk(out, b"consumers");
                enc::array_len(out, g.consumers.len());
                for (cname, cons) in &g.consumers {
                    enc::map_len(out, proto, 4);
                    enc::bulk(out, b"name");
                    enc::bulk(out, cname);
                    enc::bulk(out, b"seen-time");
                    enc::integer(out, cons.seen_time);
                    enc::bulk(out, b"pel-count");
                    enc::integer(out, cons.pel.len() as i64);
                    enc::bulk(out, b"pending");
                    let shown: Vec<_> = cons.pel.iter().take(take).collect();
                    enc::array_len(out, shown.len());
                    for id in shown {
                        let (t, n) = g
                            .pel
                            .get(id)
                            .map(|x| (x.delivery_time, x.delivery_count))
                            .unwrap_or((0, 0));
                        enc::array_len(out, 3);
                        write_id(out, *id);
                        enc::integer(out, t);
                        enc::integer(out, n as i64);
                    }
                }
            }
        }
    } else {
        return Err(syntax);
    }
    Ok(())
}

fn write_read_counter(out: &mut Vec<u8>, proto: Proto, n: i64) {
    if n != INVALID_ENTRIES_READ {
        enc::integer(out, n);
    } else {
        enc::null(out, proto);
    }
}

fn write_lag(out: &mut Vec<u8>, proto: Proto, lag: Option<i64>) {
    match lag {
        Some(n) => enc::integer(out, n),
        None => enc::null(out, proto),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn xread_key_positions() {
        let a = crate::blocking::args(&["XREAD", "COUNT", "2", "STREAMS", "a", "b", "0", "0"]);
        assert_eq!(xread_keys(&a), vec![4, 5]);
        let a = crate::blocking::args(&[
            "XREADGROUP",
            "GROUP",
            "g",
            "c",
            "NOACK",
            "STREAMS",
            "a",
            ">",
        ]);
        assert_eq!(xread_keys(&a), vec![6]);
        let a = crate::blocking::args(&["XREAD", "STREAMS", "a"]);
        assert!(xread_keys(&a).is_empty());
    }
}
