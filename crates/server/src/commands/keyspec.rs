//! Key specs with their flags (Redis 7.0's `keySpec`), from the data in
//! `meta.rs`, and the keys a command names with the access each needs,
//! as Redis's `getKeysFromCommandWithSpecs` finds them: through the specs
//! when they are complete and their flags fixed, else through the
//! command's own key finder (SET, BITFIELD, SORT, MIGRATE, …). ACL key
//! checks use these; so do the ACL categories (`categories`).

use std::collections::HashMap;
use std::sync::LazyLock;

use bytes::Bytes;

use super::{eq, f, CommandSpec};
use crate::acl::{self, cat, KeyRef};

pub use super::meta::{ks, Begin, Find, KeySpec};
use super::meta::{Docs, Meta};

/// Redis 7.0's definitions by full name.
static META: LazyLock<HashMap<&'static str, &'static Meta>> =
    LazyLock::new(|| super::meta::META.iter().map(|m| (m.name, m)).collect());

/// A command's key specs as Redis 7.0 defines them; None for a command
/// Redis 7.0 does not have.
pub fn redis_specs(full_name: &str) -> Option<&'static [KeySpec]> {
    META.get(full_name).map(|m| m.key_specs)
}

/// The (first key, last key, step) COMMAND INFO shows for a command with
/// these key specs, as Redis's populateCommandLegacyRangeSpec finds them:
/// one range spec from an index as it is, else the consecutive plain
/// ranges joined (shard channels included: a NOT_KEY spec counts).
pub fn legacy_range(specs: &[KeySpec]) -> (i32, i32, i32) {
    let absolute = |pos: i32, last: i32| if last >= 0 { last + pos } else { last };
    if let [KeySpec {
        begin: Begin::Index(pos),
        find: Find::Range(last, step, _),
        ..
    }] = specs
    {
        return (*pos, absolute(*pos, *last), *step);
    }
    let (mut first, mut last_key, mut prev_last) = (i32::MAX, 0i32, 0i32);
    for s in specs {
        let (Begin::Index(pos), Find::Range(last, 1, _)) = (s.begin, s.find) else {
            continue;
        };
        if prev_last != 0 && prev_last != pos - 1 {
            continue;
        }
        first = first.min(pos);
        // Redis compares as unsigned, so a negative (from the end) wins.
        last_key = (last_key as u32).max(absolute(pos, last) as u32) as i32;
        prev_last = last_key;
    }
    if first == i32::MAX {
        (0, 0, 0)
    } else {
        (first, last_key, 1)
    }
}

/// A command's documentation and tips as Redis 7.0 defines them; None
/// for a command Redis 7.0 does not have.
pub fn redis_docs(full_name: &str) -> Option<&'static Docs> {
    META.get(full_name).map(|m| &m.docs)
}

/// A command's key specs (none for a command Redis 7.0 lacks).
pub fn specs(full_name: &str) -> &'static [KeySpec] {
    META.get(full_name).map(|m| m.key_specs).unwrap_or(&[])
}

/// A command's ACL categories: those its Redis definition names, and
/// those its flags imply (Redis's setImplicitACLCategories).
pub fn categories(full_name: &str, spec: &CommandSpec) -> u64 {
    categories_for_flags(full_name, spec.flags)
}

/// [`categories`] for a command with these flags.
pub fn categories_for_flags(full_name: &str, flags: u32) -> u64 {
    let spec = Flags { flags };
    let mut c = META.get(full_name).map(|m| m.acl).unwrap_or(0);
    if spec.flags & f::WRITE != 0 {
        c |= cat::WRITE;
    }
    if spec.flags & f::READONLY != 0 && c & cat::SCRIPTING == 0 {
        c |= cat::READ;
    }
    if spec.flags & f::ADMIN != 0 {
        c |= cat::ADMIN | cat::DANGEROUS;
    }
    if spec.flags & f::PUBSUB != 0 {
        c |= cat::PUBSUB;
    }
    if spec.flags & f::FAST != 0 {
        c |= cat::FAST;
    }
    if spec.flags & f::BLOCKING != 0 {
        c |= cat::BLOCKING;
    }
    if c & cat::FAST == 0 {
        c |= cat::SLOW;
    }
    c
}

struct Flags {
    flags: u32,
}

/// The key permission a key spec's flags need (ACCESS reads;
/// INSERT, DELETE and UPDATE write).
pub fn need(flags: u32) -> u8 {
    let mut n = 0;
    if flags & ks::ACCESS != 0 {
        n |= acl::perm::READ;
    }
    if flags & (ks::INSERT | ks::DELETE | ks::UPDATE) != 0 {
        n |= acl::perm::WRITE;
    }
    n
}

/// Whether the command names keys (Redis's doesCommandHaveKeys).
pub fn has_keys(full_name: &str, spec: &CommandSpec) -> bool {
    spec.key_finder.is_some()
        || specs(full_name).iter().any(|s| s.flags & ks::NOT_KEY == 0)
        || spec.first_key > 0
        || spec.numkeys > 0
}

/// Keys found through the specs (Redis's getKeysUsingKeySpecs): None
/// when a spec is unknown, incomplete, or finds its keys out of bounds.
fn keys_by_specs(specs: &[KeySpec], args: &[Bytes], arity: i32) -> Option<Vec<(usize, u32)>> {
    let argc = args.len() as i64;
    let mut out = Vec::new();
    for s in specs {
        if s.flags & ks::NOT_KEY != 0 {
            continue;
        }
        let mut first: i64 = match s.begin {
            Begin::Index(i) => i as i64,
            Begin::Keyword(kw, from) => {
                let from = from as i64;
                let start = if from > 0 { from } else { argc + from };
                let end = if from > 0 { argc - 1 } else { 1 };
                let mut i = start;
                let mut found = 0;
                while i != end {
                    if i >= argc || i < 1 {
                        break;
                    }
                    if eq(&args[i as usize], kw) {
                        found = i + 1;
                        break;
                    }
                    i = if start <= end { i + 1 } else { i - 1 };
                }
                if found == 0 {
                    continue;
                }
                found
            }
            Begin::Unknown => return None,
        };
        let (last, step) = match s.find {
            Find::Range(lastkey, step, limit) => {
                let last = if lastkey >= 0 {
                    first + lastkey as i64
                } else if limit == 0 {
                    argc + lastkey as i64
                } else {
                    first + ((argc - first) / limit as i64 + lastkey as i64)
                };
                (last, step as i64)
            }
            Find::Keynum(idx, firstkey, step) => {
                if idx as i64 >= argc {
                    return None;
                }
                let n = args
                    .get((first + idx as i64) as usize)
                    .and_then(|a| crate::util::num::parse_i64(a))
                    .filter(|n| *n >= 0)?;
                first += firstkey as i64;
                (first + n - 1, step as i64)
            }
            Find::Unknown => return None,
        };
        if last >= argc || last < first || first >= argc {
            return None;
        }
        let mut i = first;
        while i <= last {
            if i >= argc || i < first {
                if arity < 0 {
                    i += step.max(1);
                    continue;
                }
                return None;
            }
            out.push((i as usize, s.flags));
            i += step.max(1);
        }
        if s.flags & ks::INCOMPLETE != 0 {
            return None;
        }
    }
    Some(out)
}

/// Key positions from the command's key specs, when Redis would take
/// them from there (it has specs naming keys, none with variable flags,
/// and they all resolve); None when it turns to the command's own finder.
pub fn spec_positions(full_name: &str, spec: &CommandSpec, args: &[Bytes]) -> Option<Vec<usize>> {
    let specs = specs(full_name);
    let has_spec = specs.iter().any(|s| s.flags & ks::NOT_KEY == 0);
    let varflags = specs.iter().any(|s| s.flags & ks::VARIABLE_FLAGS != 0);
    if !has_spec || varflags {
        return None;
    }
    keys_by_specs(specs, args, spec.arity).map(|v| v.into_iter().map(|(i, _)| i).collect())
}

/// The keys a command names, with their key-spec flags (Redis's
/// getKeysFromCommandWithSpecs).
pub fn keys_with_flags(full_name: &str, spec: &CommandSpec, args: &[Bytes]) -> Vec<(usize, u32)> {
    let specs = specs(full_name);
    let has_spec = specs.iter().any(|s| s.flags & ks::NOT_KEY == 0);
    let varflags = specs.iter().any(|s| s.flags & ks::VARIABLE_FLAGS != 0);
    if has_spec && !varflags {
        if let Some(k) = keys_by_specs(specs, args, spec.arity) {
            return k;
        }
    }
    match full_name {
        "set" => {
            let get = args.iter().skip(3).any(|a| eq(a, "get"));
            let fl = if get {
                ks::RW | ks::ACCESS | ks::UPDATE
            } else {
                ks::OW | ks::UPDATE
            };
            vec![(1, fl)]
        }
        "bitfield" => {
            let mut readonly = true;
            let mut i = 2;
            while i < args.len() {
                let rem = args.len() - i - 1;
                let a = &args[i];
                if eq(a, "get") && rem >= 2 {
                    i += 3;
                } else if (eq(a, "set") || eq(a, "incrby")) && rem >= 3 {
                    readonly = false;
                    break;
                } else if eq(a, "overflow") && rem >= 1 {
                    i += 2;
                } else {
                    readonly = false;
                    break;
                }
            }
            let fl = if readonly {
                ks::RO | ks::ACCESS
            } else {
                ks::RW | ks::ACCESS | ks::UPDATE
            };
            vec![(1, fl)]
        }
        "sort" => {
            let mut keys = vec![(1, ks::RO | ks::ACCESS)];
            let mut store = None;
            let mut i = 2;
            while i < args.len() {
                let a = &args[i];
                if eq(a, "limit") {
                    i += 2;
                } else if eq(a, "get") || eq(a, "by") {
                    i += 1;
                } else if eq(a, "store") && i + 1 < args.len() {
                    store = Some(i + 1);
                }
                i += 1;
            }
            keys.extend(store.map(|p| (p, ks::OW | ks::UPDATE)));
            keys
        }
        _ => {
            // The command's own finder gives positions only: each key takes
            // the flags of every spec together, less the INCOMPLETE that
            // sent us here (MIGRATE's keys: RW access delete, as its
            // migrateGetKeys says), or, without specs, a read for a
            // read-only command and a write otherwise.
            let fl = specs.iter().fold(0, |a, s| a | s.flags) & !ks::INCOMPLETE;
            let fl = if fl != 0 {
                fl
            } else if spec.flags & f::WRITE != 0 {
                ks::RW | ks::ACCESS | ks::UPDATE
            } else {
                ks::RO | ks::ACCESS
            };
            key_positions(spec, args)
                .into_iter()
                .map(|p| (p, fl))
                .collect()
        }
    }
}

/// Key positions from the command table (the finder, the triple, numkeys
/// and keyword keys), for commands whose specs do not say.
fn key_positions(spec: &CommandSpec, args: &[Bytes]) -> Vec<usize> {
    if let Some(finder) = spec.key_finder {
        return finder(args);
    }
    let argc = args.len() as i32;
    let mut v = Vec::new();
    if spec.first_key > 0 {
        let last = if spec.last_key < 0 {
            argc + spec.last_key
        } else {
            spec.last_key
        };
        let mut i = spec.first_key;
        while i <= last && i < argc {
            v.push(i as usize);
            i += spec.step.max(1);
        }
    }
    if spec.numkeys > 0 {
        let pos = spec.numkeys as usize;
        if let Some(n) = args.get(pos).and_then(|a| crate::util::num::parse_i64(a)) {
            if n >= 0 && pos + (n as usize) < args.len() {
                v.extend(pos + 1..=pos + n as usize);
            }
        }
    }
    for k in spec.keyword_keys {
        let from = usize::try_from(k.from).unwrap_or(0).max(1);
        if let Some(i) = (from..args.len().saturating_sub(1)).find(|&i| eq(&args[i], k.keyword)) {
            v.push(i + 1);
        }
    }
    v
}

/// The keys for an ACL check: positions and the permission each needs.
pub fn acl_keys(full_name: &str, spec: &CommandSpec, args: &[Bytes]) -> Vec<KeyRef> {
    if !has_keys(full_name, spec) {
        return Vec::new();
    }
    keys_with_flags(full_name, spec, args)
        .into_iter()
        .map(|(pos, fl)| KeyRef {
            pos,
            need: need(fl),
        })
        .collect()
}

/// The channels a command names for ACL checks (Redis's
/// commands_with_channels, publish and subscribe only).
pub fn acl_channels(name: &str, argc: usize) -> Vec<acl::ChanRef> {
    let (pattern, all) = match name {
        "subscribe" | "ssubscribe" => (false, true),
        "psubscribe" => (true, true),
        "publish" | "spublish" => (false, false),
        _ => return Vec::new(),
    };
    let stop = if all { argc } else { 2.min(argc) };
    (1..stop).map(|pos| acl::ChanRef { pos, pattern }).collect()
}
