//! SORT and SORT_RO (Redis's sort.c).
//!
//! `SORT key [BY pattern] [LIMIT offset count] [GET pattern ...] [ASC|DESC]
//! [ALPHA] [STORE destination]` over a list, a set or a sorted set; a
//! missing key sorts as an empty list. Everything follows Redis 7.0 where a
//! client can see it:
//!
//! - Options are read left to right, the last one of a kind winning, and
//!   all are checked before the key is looked up. A BY pattern without `*`
//!   means "don't sort", and stays meaning it even if a later BY has a `*`.
//! - Not sorting keeps a list's or a sorted set's own order (reversed by
//!   DESC) and takes LIMIT's range straight from it. A set has no order of
//!   its own, so with STORE, or inside a script, it is sorted ALPHA anyway
//!   to make replicas and AOF agree.
//! - Weights are the elements themselves, or what `BY` names: `*` replaced
//!   by the element, and `key->field` for a hash field. A missing weight
//!   counts as 0 (numeric) or as lower than any string (ALPHA). Numeric
//!   weights are read with C's `strtod`, so any weight it refuses (or NaN,
//!   or a range error) makes SORT answer "One or more scores can't be
//!   converted into double". Equal numeric weights fall back to comparing
//!   the elements as bytes; ALPHA compares with `strcoll` (byte order
//!   under STORE, for replicas' sake).
//! - Sorting is glibc's `qsort` (a stable merge sort) or, for BY with a
//!   LIMIT that leaves something out, Redis's partial quicksort
//!   ([`crate::util::pqsort`]), so equal weights come out in Redis's order.
//! - STORE writes a list (event `sortstore`, one dirty change per element)
//!   or, for an empty result, deletes the destination (`del`). The command
//!   reaches replicas as it was written.
//! - A sorted set is converted to the skiplist encoding first, as Redis
//!   does, even by SORT_RO.
//!
//! Patterns are read as C strings where Redis reads them with C string
//! functions (`*`, `->` and `#` are looked for before the first NUL byte),
//! and as whole byte strings where Redis uses their length.

use std::cmp::Ordering;

use bytes::Bytes;

use super::f::*;
use super::{cmd, eq, parse_int, CommandSpec, Ctx, KEY1};
use crate::config::notify;
use crate::error::*;
use crate::keyspace::Value;
use crate::types::list::List;
use crate::util::collate::{c_str, strcoll};
use crate::util::{num, pqsort};

/// Table rows.
pub static COMMANDS: &[CommandSpec] = &[
    cmd(
        "sort",
        -2,
        WRITE | DENYOOM,
        KEY1,
        "generic",
        "1.0.0",
        "Sort the elements in a list, set or sorted set",
        sort,
    )
    .keys_found_by(sort_keys),
    cmd(
        "sort_ro",
        -2,
        READONLY,
        KEY1,
        "generic",
        "7.0.0",
        "Sort the elements in a list, set or sorted set. Read-only variant of SORT.",
        sort_ro,
    )
    .keys_found_by(|_| vec![1]),
];

/// SORT's keys as Redis's sortGetKeys finds them: the key, then the
/// destination of the last STORE, skipping the arguments of LIMIT, GET and
/// BY (and nothing after STORE: its argument is read as an option too).
fn sort_keys(args: &[Bytes]) -> Vec<usize> {
    let mut store = None;
    let mut i = 2;
    while i < args.len() {
        let a = &args[i];
        if eq(a, "limit") {
            i += 2;
        } else if eq(a, "store") && i + 1 < args.len() {
            store = Some(i + 1);
        } else if eq(a, "get") || eq(a, "by") {
            i += 1;
        }
        i += 1;
    }
    std::iter::once(1).chain(store).collect()
}

fn sort(c: &mut Ctx) -> CmdResult {
    sort_generic(c, false)
}

fn sort_ro(c: &mut Ctx) -> CmdResult {
    sort_generic(c, true)
}

/// The options, as parsed.
struct Options {
    desc: bool,
    alpha: bool,
    /// LIMIT offset and count; (0, -1) without LIMIT.
    limit: (i64, i64),
    store: Option<Bytes>,
    by: Option<Bytes>,
    /// A BY pattern without `*` was given.
    dontsort: bool,
    gets: Vec<Bytes>,
}

fn parse_options(c: &Ctx, readonly: bool) -> CmdResult<Options> {
    let mut o = Options {
        desc: false,
        alpha: false,
        limit: (0, -1),
        store: None,
        by: None,
        dontsort: false,
        gets: Vec::new(),
    };
    let argc = c.args.len();
    // BY and GET read keys that no key spec names: Redis allows them only
    // to a user who may read every key with this command.
    let full_key_access = super::acl::unrestricted_read(c.eng, c.cl, c.cmd, c.parent, &c.args);
    let mut j = 2;
    while j < argc {
        let left = argc - j - 1;
        let a = c.arg(j);
        if eq(a, "asc") {
            o.desc = false;
        } else if eq(a, "desc") {
            o.desc = true;
        } else if eq(a, "alpha") {
            o.alpha = true;
        } else if eq(a, "limit") && left >= 2 {
            o.limit = (parse_int(c.arg(j + 1))?, parse_int(c.arg(j + 2))?);
            j += 2;
        } else if !readonly && eq(a, "store") && left >= 1 {
            o.store = Some(c.args[j + 1].clone());
            j += 1;
        } else if eq(a, "by") && left >= 1 {
            let pattern = c.args[j + 1].clone();
            if !c_str(&pattern).contains(&b'*') {
                o.dontsort = true;
            } else if !full_key_access {
                return Err(
                    "ERR BY option of SORT denied due to insufficient ACL permissions.".into(),
                );
            }
            o.by = Some(pattern);
            j += 1;
        } else if eq(a, "get") && left >= 1 {
            if !full_key_access {
                return Err(
                    "ERR GET option of SORT denied due to insufficient ACL permissions.".into(),
                );
            }
            o.gets.push(c.args[j + 1].clone());
            j += 1;
        } else {
            return Err(SYNTAX.into());
        }
        j += 1;
    }
    Ok(o)
}

/// The value a BY or GET pattern names for `elem` (Redis's
/// lookupKeyByPattern): `#` is the element itself; otherwise the first `*`
/// is replaced by the element, and a `->field` after it (with something
/// after the arrow) reads that field of a hash. Anything missing, of the
/// wrong type, or a pattern without `*`, gives None.
fn lookup_by_pattern(c: &mut Ctx, pattern: &[u8], elem: &[u8]) -> Option<Vec<u8>> {
    let cpat = c_str(pattern);
    if cpat == b"#" {
        return Some(elem.to_vec());
    }
    let star = memchr::memchr(b'*', cpat)?;
    let arrow = memchr::memmem::find(&cpat[star + 1..], b"->")
        .map(|i| star + 1 + i)
        .filter(|&f| f + 2 < cpat.len());
    let (postfix, field) = match arrow {
        Some(f) => (&pattern[star + 1..f], Some(&pattern[f + 2..])),
        None => (&pattern[star + 1..], None),
    };
    let mut key = Vec::with_capacity(star + elem.len() + postfix.len());
    key.extend_from_slice(&pattern[..star]);
    key.extend_from_slice(elem);
    key.extend_from_slice(postfix);
    let value = &c.lookup_read(&key)?.value;
    match (field, value) {
        (Some(f), Value::Hash(h)) => h.get(f).map(<[u8]>::to_vec),
        (Some(_), _) => None,
        (None, v) => v.as_bytes().map(|b| b.into_owned()),
    }
}

/// What is being sorted.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    List,
    Set,
    ZSet,
}

/// One element of the sorting vector.
struct Item {
    elem: Vec<u8>,
    /// Numeric weight (0 when BY finds nothing).
    score: f64,
    /// ALPHA weight from BY (None when BY finds nothing).
    weight: Option<Vec<u8>>,
}

/// The elements to sort, in the order Redis loads them: for a list or a
/// sorted set that is not sorted, only the `start..=end` range, in the
/// direction asked; otherwise all of them.
fn load_elements(
    value: Option<&Value>,
    unsorted: bool,
    desc: bool,
    start: i64,
    end: i64,
) -> Vec<Vec<u8>> {
    let count = usize::try_from(end - start + 1).unwrap_or(0);
    let first = usize::try_from(start).unwrap_or(0);
    let owned = |v: &[u8]| v.to_vec();
    match value {
        None => Vec::new(),
        Some(Value::List(l)) if unsorted => {
            if count == 0 {
                return Vec::new();
            }
            let len = l.len() as i64;
            if desc {
                let hi = len - 1 - start;
                let mut v: Vec<Vec<u8>> = l
                    .range(hi - count as i64 + 1, hi)
                    .into_iter()
                    .map(owned)
                    .collect();
                v.reverse();
                v
            } else {
                l.range(start, end).into_iter().map(owned).collect()
            }
        }
        Some(Value::List(l)) => l.iter().map(owned).collect(),
        Some(Value::Set(s)) => s.iter().map(|m| m.into_owned()).collect(),
        Some(Value::ZSet(z)) if unsorted => {
            if count == 0 {
                return Vec::new();
            }
            z.range_by_rank(first, first + count - 1, desc)
                .into_iter()
                .map(|(m, _)| m.to_vec())
                .collect()
        }
        Some(Value::ZSet(z)) => z.iter().map(|(m, _)| m.to_vec()).collect(),
        Some(_) => Vec::new(),
    }
}

fn sort_generic(c: &mut Ctx, readonly: bool) -> CmdResult {
    let mut o = parse_options(c, readonly)?;
    let key = c.args[1].clone();
    let (kind, len) = match c.lookup_read(&key).map(|e| &e.value) {
        None => (Kind::List, 0),
        Some(Value::List(l)) => (Kind::List, l.len()),
        Some(Value::Set(s)) => (Kind::Set, s.len()),
        Some(Value::ZSet(z)) => (Kind::ZSet, z.len()),
        Some(_) => return Err(WRONGTYPE.into()),
    };
    // A set's own order is not the same on a replica: sort it.
    let in_script = c.cl.flags & crate::client::flag::SCRIPT != 0;
    if o.dontsort && kind == Kind::Set && (o.store.is_some() || in_script) {
        o.dontsort = false;
        o.alpha = true;
        o.by = None;
    }
    if kind == Kind::ZSet {
        if let Some(Value::ZSet(z)) = c.db().get_mut(&key).map(|e| &mut e.value) {
            z.convert_to_skiplist();
        }
    }

    // LIMIT, clamped to the elements there are.
    let len = len as i64;
    let mut start = o.limit.0.clamp(0, len);
    let count = o.limit.1.clamp(-1, len);
    let mut end = if count < 0 {
        len - 1
    } else {
        start + count - 1
    };
    if start >= len {
        start = len - 1;
        end = len - 2;
    }
    end = end.min(len - 1);

    // A list or sorted set that is not sorted gives only the range asked.
    let unsorted = o.dontsort && kind != Kind::Set;
    let elems = {
        let db = c.cl.db;
        let value = c.eng.keyspace().db(db).get(&key).map(|e| &e.value);
        load_elements(value, unsorted, o.desc, start, end)
    };
    if unsorted && (kind == Kind::ZSet || end >= start) {
        end -= start;
        start = 0;
    }
    let mut items: Vec<Item> = elems
        .into_iter()
        .map(|elem| Item {
            elem,
            score: 0.0,
            weight: None,
        })
        .collect();

    let mut bad_weight = false;
    if !o.dontsort {
        for item in &mut items {
            let w = match &o.by {
                Some(p) => match lookup_by_pattern(c, p, &item.elem) {
                    Some(w) => w,
                    None => continue,
                },
                None if o.alpha => continue,
                None => item.elem.clone(),
            };
            if o.alpha {
                item.weight = Some(w);
            } else {
                match num::parse_sort_weight(&w) {
                    Some(x) => item.score = x,
                    None => bad_weight = true,
                }
            }
        }
        if !bad_weight {
            let cmp = comparator(o.alpha, o.by.is_some(), o.store.is_some(), o.desc);
            if o.by.is_some() && (start != 0 || end != items.len() as i64 - 1) {
                pqsort::pqsort(&mut items, start, end, cmp);
            } else {
                items.sort_by(cmp);
            }
        }
    }
    if bad_weight {
        return Err("ERR One or more scores can't be converted into double".into());
    }

    let picked = usize::try_from(end - start + 1).unwrap_or(0);
    let from = usize::try_from(start).unwrap_or(0);
    let rest = &items[from.min(items.len())..];
    let picked = &rest[..picked.min(rest.len())];
    let outputlen = if o.gets.is_empty() {
        picked.len()
    } else {
        o.gets.len() * picked.len()
    };
    match o.store {
        None => {
            c.array(outputlen);
            for item in picked {
                if o.gets.is_empty() {
                    c.bulk(&item.elem);
                }
                for g in &o.gets {
                    match lookup_by_pattern(c, g, &item.elem) {
                        Some(v) => c.bulk(&v),
                        None => c.null(),
                    }
                }
            }
        }
        Some(dst) => {
            let mut list = List::new();
            for item in picked {
                if o.gets.is_empty() {
                    list.push_back(&item.elem);
                }
                for g in &o.gets {
                    list.push_back(&lookup_by_pattern(c, g, &item.elem).unwrap_or_default());
                }
            }
            store(c, &dst, list);
        }
    }
    Ok(())
}

/// Redis's sortCompare for these options.
fn comparator(alpha: bool, by: bool, store: bool, desc: bool) -> impl Fn(&Item, &Item) -> Ordering {
    // Under STORE, ALPHA compares bytes, so that replicas (whatever their
    // locale) store the same list.
    let text = move |a: &[u8], b: &[u8]| if store { a.cmp(b) } else { strcoll(a, b) };
    move |a, b| {
        let o = if !alpha {
            a.score
                .partial_cmp(&b.score)
                .unwrap_or(Ordering::Equal)
                .then_with(|| a.elem.cmp(&b.elem))
        } else if by {
            match (&a.weight, &b.weight) {
                (None, None) => Ordering::Equal,
                (None, Some(_)) => Ordering::Less,
                (Some(_), None) => Ordering::Greater,
                (Some(x), Some(y)) => text(x, y),
            }
        } else {
            text(&a.elem, &b.elem)
        };
        if desc {
            o.reverse()
        } else {
            o
        }
    }
}

/// SORT ... STORE: the result replaces `dst`, or an empty one deletes it.
fn store(c: &mut Ctx, dst: &[u8], list: List) {
    let n = list.len();
    if n > 0 {
        // Clients blocked on `dst` are served when the list is new
        // (Redis's dbAdd), not when it replaces a value.
        let existed = c.exists(dst);
        c.set_key(dst, Value::List(Box::new(list)), -1);
        c.notify(notify::LIST, "sortstore", dst);
        c.dirty(n as u64);
        if !existed {
            let db = c.cl.db;
            c.eng.keyspace_mut().signal_ready(db, dst);
        }
    } else if c.delete(dst) {
        c.notify(notify::GENERIC, "del", dst);
        c.dirty(1);
    }
    c.int(n as i64);
}
