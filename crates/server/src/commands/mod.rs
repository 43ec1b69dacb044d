//! The command table and dispatch.
//!
//! The table is data, as Redis's `commands/*.json`: name, arity (+N exact,
//! −N at least), flags, key positions, group, and the handler. `execute`
//! runs Redis's `processCommand` checks in Redis's order (lookup, arity,
//! auth, transaction queueing, subscribed-mode, read-only replica, loading)
//! and then `call`s the handler, which writes its reply into the output
//! buffer through `Ctx`. One file per command family holds the handlers.

pub mod acl;
pub mod aof;
pub mod bitmap;
pub mod conn;
pub mod diag;
pub mod dispatch;
pub mod geo;
pub mod hash;
pub mod hll;
pub mod keys;
pub mod keyspec;
pub mod ldb;
pub mod list;
pub mod lolwut;
pub mod meta;
pub mod migrate;
pub mod multi;
pub mod persist;
pub mod pubsub;
pub mod repl;
pub mod script_call;
pub mod scripting;
pub mod server;
pub mod set;
pub mod sort;
pub mod stream;
pub mod string;
#[cfg(test)]
pub mod testkit;
pub mod zset;

use std::collections::HashMap;
use std::sync::LazyLock;

use bytes::Bytes;
use resp::encode::{self as enc, Proto};

use crate::client::Client;
use crate::config::P;
use crate::engine::Engine;
use crate::error::{CmdError, CmdResult, WRONGTYPE};
use crate::keyspace::{Db, Entry, Value};

/// Command flags (Redis's CMD_*).
pub mod f {
    /// May modify the dataset.
    pub const WRITE: u32 = 1 << 0;
    /// Reads data only.
    pub const READONLY: u32 = 1 << 1;
    /// May grow memory: refused when over maxmemory.
    pub const DENYOOM: u32 = 1 << 2;
    /// Administrative.
    pub const ADMIN: u32 = 1 << 3;
    /// Pub/sub related.
    pub const PUBSUB: u32 = 1 << 4;
    /// Not allowed in scripts.
    pub const NOSCRIPT: u32 = 1 << 5;
    /// May block the client.
    pub const BLOCKING: u32 = 1 << 6;
    /// Allowed while loading.
    pub const LOADING: u32 = 1 << 7;
    /// Allowed on a replica with stale data.
    pub const STALE: u32 = 1 << 8;
    /// Not shown to MONITOR.
    pub const SKIP_MONITOR: u32 = 1 << 9;
    /// Not logged in the slowlog.
    pub const SKIP_SLOWLOG: u32 = 1 << 10;
    /// O(1) or O(log N).
    pub const FAST: u32 = 1 << 11;
    /// Allowed before AUTH.
    pub const NO_AUTH: u32 = 1 << 12;
    /// May replicate (PUBLISH, …).
    pub const MAY_REPLICATE: u32 = 1 << 13;
    /// Refused inside MULTI.
    pub const NO_MULTI: u32 = 1 << 14;
    /// Allowed while busy.
    pub const ALLOW_BUSY: u32 = 1 << 15;
    /// Allowed in RESP2 subscribed mode.
    pub const SUBCTX: u32 = 1 << 16;
    /// Container of subcommands.
    pub const CONTAINER: u32 = 1 << 17;
    /// Keys found through a `numkeys` argument, after a keyword, or by the
    /// command's own key finder (set by [`super::CommandSpec::numkeys_at`],
    /// [`super::CommandSpec::keys_after`] and
    /// [`super::CommandSpec::keys_found_by`]).
    pub const MOVABLE_KEYS: u32 = 1 << 18;
    /// Refused with -LOADING while a replica loads its master's data aside
    /// (Redis's CMD_NO_ASYNC_LOADING).
    pub const NO_ASYNC_LOADING: u32 = 1 << 19;
    /// A container whose subcommands are relica's own way of dispatching
    /// what Redis has as one command (DEBUG): shown, counted and timed as
    /// the one command.
    pub const OPAQUE: u32 = 1 << 20;
    /// Redis's CMD_ASKING: accepted on a cluster node for a slot being
    /// imported; shown in COMMAND INFO only (standalone has no slots).
    pub const ASKING: u32 = 1 << 21;
    /// Redis's CMD_NO_MANDATORY_KEYS: the keys may be none (scripts and
    /// functions called with numkeys 0).
    pub const NO_MANDATORY_KEYS: u32 = 1 << 22;

    /// Names for COMMAND INFO, in Redis's order.
    pub const NAMES: &[(u32, &str)] = &[
        (WRITE, "write"),
        (READONLY, "readonly"),
        (DENYOOM, "denyoom"),
        (ADMIN, "admin"),
        (PUBSUB, "pubsub"),
        (NOSCRIPT, "noscript"),
        (BLOCKING, "blocking"),
        (LOADING, "loading"),
        (STALE, "stale"),
        (SKIP_MONITOR, "skip_monitor"),
        (SKIP_SLOWLOG, "skip_slowlog"),
        (ASKING, "asking"),
        (FAST, "fast"),
        (NO_AUTH, "no_auth"),
        // MAY_REPLICATE is hidden from COMMAND INFO, as in Redis 7.0.
        (NO_MANDATORY_KEYS, "no_mandatory_keys"),
        (NO_ASYNC_LOADING, "no_async_loading"),
        (NO_MULTI, "no_multi"),
        (MOVABLE_KEYS, "movablekeys"),
        (ALLOW_BUSY, "allow_busy"),
    ];
}

/// A command handler.
pub type Handler = fn(&mut Ctx) -> CmdResult;

/// A command's own key finder (Redis's `getkeys_proc`): the positions of
/// the keys in its arguments (0 is the name).
pub type KeyFinder = fn(&[Bytes]) -> Vec<usize>;

/// One row of the command table.
pub struct CommandSpec {
    /// Lower-case name (`config|get` style for subcommands is built from
    /// the parent).
    pub name: &'static str,
    /// +N exact, -N at least (counting the name).
    pub arity: i32,
    /// `f::*`.
    pub flags: u32,
    /// First key argument (0 = none).
    pub first_key: i32,
    /// Last key argument (-1 = last argument).
    pub last_key: i32,
    /// Step between keys.
    pub step: i32,
    /// Position of a `numkeys` argument followed by that many keys (0 =
    /// none): Redis's "movablekeys" commands, which the (first, last,
    /// step) triple cannot describe.
    pub numkeys: i32,
    /// The command's own key finder, for keys that neither the triple nor
    /// `numkeys` describe (SORT's STORE destination).
    pub key_finder: Option<KeyFinder>,
    /// Keys that follow a keyword (Redis's `keyword` key specs, as
    /// GEORADIUS's `STORE key`), found after the fixed ones.
    pub keyword_keys: &'static [KeywordKey],
    /// Documentation group (`string`, `generic`, …).
    pub group: &'static str,
    /// Version that introduced it.
    pub since: &'static str,
    /// One-line summary.
    pub summary: &'static str,
    /// The handler (containers dispatch to subcommands).
    pub handler: Handler,
    /// Subcommands of a container.
    pub subs: &'static [CommandSpec],
}

/// A key found after a keyword: the argument that follows the first
/// `keyword` (case-insensitive) at or after argument `from`. As in Redis's
/// key-spec search, the last argument is never taken for the keyword, as
/// no key could follow it.
#[derive(Debug, Clone, Copy)]
pub struct KeywordKey {
    /// The keyword, as COMMAND INFO shows it.
    pub keyword: &'static str,
    /// First argument searched.
    pub from: i32,
}

impl KeywordKey {
    /// The key this rule finds in `args` (the command name first).
    pub fn find<'a>(&self, args: &'a [Bytes]) -> Option<&'a Bytes> {
        let from = usize::try_from(self.from).ok()?;
        let last = args.len().checked_sub(1)?;
        (from.max(1)..last)
            .find(|&i| eq(&args[i], self.keyword))
            .map(|i| &args[i + 1])
    }
}

/// Shorthand to build a table row.
#[allow(clippy::too_many_arguments)]
pub const fn cmd(
    name: &'static str,
    arity: i32,
    flags: u32,
    keys: (i32, i32, i32),
    group: &'static str,
    since: &'static str,
    summary: &'static str,
    handler: Handler,
) -> CommandSpec {
    CommandSpec {
        name,
        arity,
        flags,
        first_key: keys.0,
        last_key: keys.1,
        step: keys.2,
        numkeys: 0,
        key_finder: None,
        keyword_keys: &[],
        group,
        since,
        summary,
        handler,
        subs: &[],
    }
}

impl CommandSpec {
    /// The subcommands Redis shows (none for an [`f::OPAQUE`] container).
    pub fn visible_subs(&self) -> &'static [CommandSpec] {
        if self.flags & f::OPAQUE != 0 {
            &[]
        } else {
            self.subs
        }
    }

    /// A container that Redis shows as one command with these flags
    /// ([`f::OPAQUE`]).
    pub const fn opaque(mut self, flags: u32) -> CommandSpec {
        self.flags |= f::OPAQUE | flags;
        self
    }

    /// The keys are counted by a `numkeys` argument at `pos` and follow it.
    pub const fn numkeys_at(mut self, pos: i32) -> CommandSpec {
        self.numkeys = pos;
        self.flags |= f::MOVABLE_KEYS;
        self
    }

    /// The keys are where `finder` says (Redis's "movablekeys" commands
    /// whose key specs leave some keys "unknown").
    pub const fn keys_found_by(mut self, finder: KeyFinder) -> CommandSpec {
        self.key_finder = Some(finder);
        self.flags |= f::MOVABLE_KEYS;
        self
    }

    /// Further keys follow keywords (see [`KeywordKey`]).
    pub const fn keys_after(mut self, rules: &'static [KeywordKey]) -> CommandSpec {
        self.keyword_keys = rules;
        self.flags |= f::MOVABLE_KEYS;
        self
    }
}

/// A container command (CONFIG, CLIENT, …) with subcommands.
pub const fn container(
    name: &'static str,
    group: &'static str,
    since: &'static str,
    summary: &'static str,
    subs: &'static [CommandSpec],
) -> CommandSpec {
    CommandSpec {
        name,
        arity: -2,
        flags: f::CONTAINER,
        first_key: 0,
        last_key: 0,
        step: 0,
        numkeys: 0,
        key_finder: None,
        keyword_keys: &[],
        group,
        since,
        summary,
        handler: |_| Ok(()),
        subs,
    }
}

/// No keys.
pub const NOKEYS: (i32, i32, i32) = (0, 0, 0);
/// One key at argument 1.
pub const KEY1: (i32, i32, i32) = (1, 1, 1);

fn families() -> [&'static [CommandSpec]; 22] {
    [
        acl::COMMANDS,
        string::COMMANDS,
        list::COMMANDS,
        hash::COMMANDS,
        set::COMMANDS,
        zset::COMMANDS,
        stream::COMMANDS,
        geo::COMMANDS,
        bitmap::COMMANDS,
        hll::COMMANDS,
        multi::COMMANDS,
        keys::COMMANDS,
        sort::COMMANDS,
        server::COMMANDS,
        conn::COMMANDS,
        pubsub::COMMANDS,
        persist::COMMANDS,
        aof::COMMANDS,
        repl::COMMANDS,
        scripting::COMMANDS,
        diag::COMMANDS,
        migrate::COMMANDS,
    ]
}

/// Every command, by lower-case name.
pub static TABLE: LazyLock<HashMap<&'static [u8], &'static CommandSpec, ahash::RandomState>> =
    LazyLock::new(|| {
        let mut m = HashMap::with_hasher(ahash::RandomState::new());
        for fam in families() {
            for c in fam {
                m.insert(c.name.as_bytes(), c);
            }
        }
        m
    });

/// Look a command up by name, case-insensitively, without allocating for
/// normal-length names.
pub fn lookup(name: &[u8]) -> Option<&'static CommandSpec> {
    let mut buf = [0u8; 64];
    if name.len() > buf.len() {
        return None;
    }
    let lower = &mut buf[..name.len()];
    lower.copy_from_slice(name);
    lower.make_ascii_lowercase();
    let lower: &[u8] = lower;
    match RENAMES.get() {
        Some(r) if !r.is_empty() => {
            let s = std::str::from_utf8(lower).ok()?;
            r.get(s)
                .copied()
                .unwrap_or_else(|| TABLE.get(lower).copied())
        }
        _ => TABLE.get(lower).copied(),
    }
}

/// The commands the server has now, sorted by name: the table less those
/// `rename-command` removed (a renamed command keeps its own name here,
/// as Redis keeps its `fullname` in COMMAND, COMMAND INFO, DOCS and LIST).
pub fn current_commands() -> Vec<&'static CommandSpec> {
    let mut v: Vec<&'static CommandSpec> = match RENAMES.get() {
        Some(r) if !r.is_empty() => TABLE
            .values()
            .copied()
            .filter(|c| !r.contains_key(c.name))
            .chain(r.values().flatten().copied())
            .collect(),
        _ => TABLE.values().copied().collect(),
    };
    v.sort_by_key(|c| c.name);
    v
}

/// `rename-command`: names that now stand for another command, or for
/// none (a renamed or removed command's own name).
static RENAMES: std::sync::OnceLock<HashMap<String, Option<&'static CommandSpec>>> =
    std::sync::OnceLock::new();

/// Apply the configuration's `rename-command` lines (once, at start-up),
/// with Redis's errors for an unknown command or a name already taken.
pub fn set_renames(renames: &[(String, String)]) -> Result<(), String> {
    let mut map: HashMap<String, Option<&'static CommandSpec>> = HashMap::new();
    for (old, new) in renames {
        let current = map
            .get(old)
            .copied()
            .unwrap_or_else(|| TABLE.get(old.as_bytes()).copied());
        let Some(spec) = current else {
            return Err(format!("No such command in rename-command: {old}"));
        };
        if !new.is_empty() {
            let taken = map
                .get(new)
                .copied()
                .unwrap_or_else(|| TABLE.get(new.as_bytes()).copied());
            if taken.is_some() {
                return Err(format!("Target command name already exists: {new}"));
            }
        }
        map.insert(old.clone(), None);
        if !new.is_empty() {
            map.insert(new.clone(), Some(spec));
        }
    }
    let _ = RENAMES.set(map);
    Ok(())
}

/// Find a subcommand of a container.
pub fn lookup_sub(parent: &'static CommandSpec, name: &[u8]) -> Option<&'static CommandSpec> {
    parent
        .subs
        .iter()
        .find(|s| s.name.as_bytes().eq_ignore_ascii_case(name))
}

/// A command by its full name (`get`, `config|get`), case-insensitively,
/// with its container for a subcommand.
pub fn lookup_full_name(
    name: &[u8],
) -> Option<(Option<&'static CommandSpec>, &'static CommandSpec)> {
    match name.iter().position(|&b| b == b'|') {
        None => lookup(name).map(|c| (None, c)),
        Some(i) => {
            // Only a container's subcommands have names of their own
            // (Redis's strict lookup: `debug|sleep` and `a|b|c` name none).
            let parent = lookup(&name[..i])?;
            let sub = &name[i + 1..];
            parent
                .visible_subs()
                .iter()
                .find(|s| s.name.as_bytes().eq_ignore_ascii_case(sub))
                .map(|s| (Some(parent), s))
        }
    }
}

/// Redis's addReplySubcommandSyntaxError.
pub fn subcommand_syntax(c: &Ctx) -> String {
    format!(
        "ERR unknown subcommand or wrong number of arguments for '{}'. Try {} HELP.",
        String::from_utf8_lossy(c.arg(1)),
        String::from_utf8_lossy(c.arg(0)).to_uppercase()
    )
}

/// The full name Redis shows for a (sub)command: `get`, `config|get`.
pub fn full_name(parent: Option<&CommandSpec>, c: &CommandSpec) -> String {
    match parent {
        Some(p) if p.flags & f::OPAQUE != 0 => p.name.to_string(),
        Some(p) => format!("{}|{}", p.name, c.name),
        None => c.name.to_string(),
    }
}

/// Everything a handler sees.
pub struct Ctx<'a> {
    /// The engine (under the lock).
    pub eng: &'a mut Engine,
    /// The client running the command.
    pub cl: &'a mut Client,
    /// Arguments, the name first.
    pub args: Vec<Bytes>,
    /// The reply buffer.
    pub out: &'a mut Vec<u8>,
    /// The command being run.
    pub cmd: &'static CommandSpec,
    /// Its container, for subcommands.
    pub parent: Option<&'static CommandSpec>,
    /// Set by a handler that propagates something other than its argv
    /// (an empty list propagates nothing).
    pub propagate_as: Option<Vec<Vec<Vec<u8>>>>,
    /// Whether this command runs for our master (replication stream).
    pub from_master: bool,
    /// Arguments the slow log shows as `(redacted)` (passwords).
    pub redacted: Vec<usize>,
    /// The handler wrote an error reply itself (a script's error): the
    /// command counts in failed_calls, as Redis's afterErrorReply makes it.
    pub failed: bool,
    /// When the handler started (the command's duration is measured from
    /// it; a script's run starts its busy clock there).
    pub started: std::time::Instant,
}

impl<'a> Ctx<'a> {
    /// The length the reply buffer may reach before the client is over
    /// its output-buffer limit (hard, or soft with no grace time): a long
    /// reply stops there (Redis's CLIENT_CLOSE_ASAP, which it checks as
    /// it adds each element of HRANDFIELD/SRANDMEMBER/ZRANDMEMBER with
    /// repetitions), and the connection closes the client once the batch
    /// ends. None when no such limit applies (a script's client and our
    /// master's have none).
    pub fn reply_stop_at(&self) -> Option<usize> {
        if self.cl.flags & (crate::client::flag::SCRIPT | crate::client::flag::MASTER) != 0 {
            return None;
        }
        let l = self.eng.buf_limit(output_class(self.cl));
        let soft = (l.soft > 0 && l.soft_secs == 0).then_some(l.soft);
        let hard = (l.hard > 0).then_some(l.hard);
        let limit = match (hard, soft) {
            (Some(h), Some(s)) => h.min(s),
            (h, s) => h.or(s)?,
        };
        let held = self
            .cl
            .outbox
            .held()
            .saturating_sub(self.cl.outbox.stalled());
        Some((limit as usize).saturating_sub(held))
    }

    /// Hide argument `i` from the slow log (Redis's
    /// redactClientCommandArgument).
    pub fn redact(&mut self, i: usize) {
        if !self.redacted.contains(&i) {
            self.redacted.push(i);
        }
    }

    /// Argument `i` (0 is the command name).
    #[inline]
    pub fn arg(&self, i: usize) -> &[u8] {
        &self.args[i]
    }

    /// The client's protocol.
    #[inline]
    pub fn proto(&self) -> Proto {
        self.cl.proto
    }

    /// Current time of the command (ms).
    #[inline]
    pub fn now(&self) -> i64 {
        self.eng.now()
    }

    /// The selected database.
    #[inline]
    pub fn db(&mut self) -> &mut Db {
        self.eng.keyspace_mut().db_mut(self.cl.db)
    }

    // ---- replies ---------------------------------------------------------

    /// +OK
    pub fn ok(&mut self) {
        enc::simple(self.out, b"OK");
    }
    /// +s
    pub fn simple(&mut self, s: &str) {
        enc::simple(self.out, s.as_bytes());
    }
    /// :n
    pub fn int(&mut self, n: i64) {
        enc::integer(self.out, n);
    }
    /// $bulk
    pub fn bulk(&mut self, b: &[u8]) {
        enc::bulk(self.out, b);
    }
    /// A string value as a bulk reply.
    pub fn bulk_value(&mut self, v: &Value) {
        write_string_value(self.out, v);
    }
    /// Null bulk.
    pub fn null(&mut self) {
        enc::null(self.out, self.cl.proto);
    }
    /// Null array.
    pub fn null_array(&mut self) {
        enc::null_array(self.out, self.cl.proto);
    }
    /// Array header.
    pub fn array(&mut self, n: usize) {
        enc::array_len(self.out, n);
    }
    /// Map header.
    pub fn map(&mut self, n: usize) {
        enc::map_len(self.out, self.cl.proto, n);
    }
    /// Set header.
    pub fn set_header(&mut self, n: usize) {
        enc::set_len(self.out, self.cl.proto, n);
    }
    /// A double, formatted as Redis 7.0 does (%.17g).
    pub fn double(&mut self, d: f64) {
        let s = crate::util::num::fmt_g17(d);
        enc::double(self.out, self.cl.proto, s.as_bytes());
    }
    /// An error reply (counted in INFO errorstats by `execute`).
    pub fn error(&mut self, e: &CmdError) {
        write_error(self.eng, self.out, e);
    }
    /// Verbatim text (RESP3) or bulk (RESP2).
    pub fn verbatim(&mut self, text: &[u8]) {
        enc::verbatim(self.out, self.cl.proto, b"txt", text);
    }

    // ---- keyspace --------------------------------------------------------

    /// Look a key up for reading: lazy expiry, hit/miss stats, LRU.
    pub fn lookup_read(&mut self, key: &[u8]) -> Option<&Entry> {
        lookup_read_in(self.eng, self.cl.db, key, self.from_master)
    }

    /// As `lookup_read`, leaving the key's access time alone.
    pub fn lookup_read_notouch(&mut self, key: &[u8]) -> Option<&Entry> {
        lookup_read_touch(self.eng, self.cl.db, key, self.from_master, false)
    }

    /// Look a key up for writing: lazy expiry, no stats.
    pub fn lookup_write(&mut self, key: &[u8]) -> Option<&mut Entry> {
        let db = self.cl.db;
        if crate::keyspace::expire::expire_if_needed(self.eng, db, key, self.from_master) {
            // A writable replica's own write deletes the expired key it
            // found (Redis's force_delete_expired for LOOKUP_WRITE); a
            // read-only replica's (PFCOUNT's cache) only reads it as gone.
            let expired = self
                .eng
                .keyspace()
                .db(db)
                .get(key)
                .is_some_and(|e| e.is_expired(self.eng.now()));
            if expired && !self.eng.cfg().bool(P::replica_read_only) {
                crate::keyspace::expire::delete_expired(self.eng, db, key);
            }
            return None;
        }
        self.eng.keyspace_mut().db_mut(db).get_mut(key)
    }

    /// Whether a key exists (with lazy expiry, no stats).
    pub fn exists(&mut self, key: &[u8]) -> bool {
        let db = self.cl.db;
        !crate::keyspace::expire::expire_if_needed(self.eng, db, key, self.from_master)
    }

    /// Read a string value: None when missing, WRONGTYPE for other types.
    pub fn get_string(&mut self, key: &[u8]) -> CmdResult<Option<std::borrow::Cow<'_, [u8]>>> {
        match self.lookup_read(key) {
            None => Ok(None),
            Some(e) => e
                .value
                .as_bytes()
                .map(Some)
                .ok_or(CmdError::fixed(WRONGTYPE)),
        }
    }

    /// Store a value, replacing any old one and its TTL (Redis's setKey).
    pub fn set_key(&mut self, key: &[u8], value: Value, expire: i64) {
        let db = self.cl.db;
        let lru = self.eng.new_value_field(&value);
        let old = self
            .eng
            .keyspace_mut()
            .db_mut(db)
            .insert(key, value, expire, lru);
        match old {
            Some(old) => {
                if self.eng.cfg().bool(P::lazyfree_lazy_server_del) {
                    crate::keyspace::lazyfree::free_value(old.value);
                }
            }
            // Redis's dbAdd announces a key that did not exist.
            None => self.notify(crate::config::notify::NEW, "new", key),
        }
        self.modified(key);
    }

    /// Delete a key; true when it existed (and was not expired).
    pub fn delete(&mut self, key: &[u8]) -> bool {
        self.delete_lazy(key, false)
    }

    /// Delete a key, its value freed in the background when `lazy` and
    /// that is long work (UNLINK, lazyfree-lazy-user-del).
    pub fn delete_lazy(&mut self, key: &[u8], lazy: bool) -> bool {
        if !self.exists(key) {
            return false;
        }
        let db = self.cl.db;
        match self.eng.keyspace_mut().db_mut(db).remove(key) {
            Some(e) => {
                if lazy {
                    crate::keyspace::lazyfree::free_value(e.value);
                }
                self.modified(key);
                true
            }
            None => false,
        }
    }

    /// A key's value changed: WATCH and client-side caching invalidation
    /// (Redis's signalModifiedKey).
    pub fn modified(&mut self, key: &[u8]) {
        let db = self.cl.db;
        self.eng.keyspace_mut().touch_watched(db, key);
        self.eng.tracking_invalidate(key, self.cl.id);
    }

    /// Count a change for save points and propagation.
    pub fn dirty(&mut self, n: u64) {
        self.eng.persist_mut().add_dirty(n);
    }

    /// Keyspace notification for a key in the selected db.
    pub fn notify(&mut self, class: u32, event: &str, key: &[u8]) {
        let db = self.cl.db;
        self.eng.notify_keyspace(class, event, db, key);
    }

    /// Delete `key` when the collection it holds became empty: Redis never
    /// keeps an empty list, hash, set or sorted set. Returns true when it
    /// deleted; the caller sends the `del` notification after its own event.
    pub fn delete_if_empty(&mut self, key: &[u8]) -> bool {
        let db = self.cl.db;
        if self
            .eng
            .keyspace()
            .db(db)
            .get(key)
            .is_some_and(|e| e.value.is_empty_collection())
        {
            self.eng.keyspace_mut().db_mut(db).remove(key);
            return true;
        }
        false
    }

    /// `hash-max-listpack-*` as they are now.
    pub fn hash_limits(&self) -> crate::types::hash::HashLimits {
        crate::types::hash::HashLimits {
            max_listpack_entries: self.eng.cfg().int(P::hash_max_listpack_entries) as usize,
            max_listpack_value: self.eng.cfg().int(P::hash_max_listpack_value) as usize,
        }
    }

    /// `set-max-intset-entries` as it is now.
    pub fn set_limits(&self) -> crate::types::set::SetLimits {
        crate::types::set::SetLimits {
            max_intset_entries: self.eng.cfg().int(P::set_max_intset_entries) as usize,
        }
    }

    /// `zset-max-listpack-*` as they are now.
    pub fn zset_limits(&self) -> crate::types::zset::ZSetLimits {
        crate::types::zset::ZSetLimits {
            max_listpack_entries: self.eng.cfg().int(P::zset_max_listpack_entries) as usize,
            max_listpack_value: self.eng.cfg().int(P::zset_max_listpack_value) as usize,
        }
    }

    /// Propagate these commands instead of argv.
    pub fn propagate_instead(&mut self, cmds: Vec<Vec<Vec<u8>>>) {
        self.propagate_as = Some(cmds);
    }
}

/// `Ctx::lookup_read` on split borrows, so a handler can keep writing to
/// `out` while it holds the entry.
pub fn lookup_read_in<'e>(
    eng: &'e mut Engine,
    db: usize,
    key: &[u8],
    from_master: bool,
) -> Option<&'e Entry> {
    lookup_read_touch(eng, db, key, from_master, true)
}

/// A read lookup that updates the key's access time (LRU/LFU) only when
/// `touch`: TYPE, EXISTS and the TTL family look without touching, as
/// Redis's LOOKUP_NOTOUCH.
fn lookup_read_touch<'e>(
    eng: &'e mut Engine,
    db: usize,
    key: &[u8],
    from_master: bool,
    touch: bool,
) -> Option<&'e Entry> {
    let now = eng.now();
    match eng.keyspace().db(db).get(key).map(|e| e.is_expired(now)) {
        None => {
            eng.stats_mut().add(crate::stats::Counter::Misses, 1);
            return None;
        }
        Some(true) => {
            if crate::keyspace::expire::expire_if_needed(eng, db, key, from_master) {
                eng.stats_mut().add(crate::stats::Counter::Misses, 1);
                return None;
            }
        }
        Some(false) => {}
    }
    eng.stats_mut().add(crate::stats::Counter::Hits, 1);
    if !touch {
        return eng.keyspace().db(db).get(key);
    }
    let old = eng
        .keyspace()
        .db(db)
        .get(key)
        .map(|e| e.access_field())
        .unwrap_or(0);
    let lru = eng.access(old);
    eng.keyspace_mut().db_mut(db).get_touch(key, lru)
}

/// Read the value at `key` as one type: `pick` says whether the value is of
/// that type; `f` gets it with the reply buffer beside it (no copies),
/// `missing` runs for an absent key, and any other type is WRONGTYPE.
pub fn with_typed<T: ?Sized>(
    c: &mut Ctx,
    key: &[u8],
    pick: impl for<'v> FnOnce(&'v Value) -> Option<&'v T>,
    missing: impl FnOnce(&mut Vec<u8>, Proto),
    f: impl FnOnce(&T, &mut Vec<u8>, Proto),
) -> CmdResult {
    let (db, from_master, proto) = (c.cl.db, c.from_master, c.cl.proto);
    let out = &mut *c.out;
    match lookup_read_in(c.eng, db, key, from_master) {
        None => missing(out, proto),
        Some(e) => match pick(&e.value) {
            Some(v) => f(v, out, proto),
            None => return Err(WRONGTYPE.into()),
        },
    }
    Ok(())
}

/// Write a string value as a bulk reply without copying it.
pub fn write_string_value(out: &mut Vec<u8>, v: &Value) {
    match v {
        Value::Int(n) => {
            let mut b = itoa::Buffer::new();
            enc::bulk(out, b.format(*n).as_bytes());
        }
        Value::Str(b) => enc::bulk(out, b),
        Value::Raw(b) => enc::bulk(out, b),
        _ => enc::error(out, WRONGTYPE.as_bytes()),
    }
}

/// Write an error reply and count it.
pub fn write_error(eng: &mut Engine, out: &mut Vec<u8>, e: &CmdError) {
    enc::error(out, e.0.as_bytes());
    let prefix = e.0.split(' ').next().unwrap_or("ERR");
    eng.stats_mut().error_replied(prefix);
}

/// `numkeys key [key ...] <side> [COUNT count]` of LMPOP/BLMPOP/ZMPOP/BZMPOP.
pub struct MPop<T> {
    /// The keys, in order.
    pub keys: Vec<Bytes>,
    /// LEFT/RIGHT or MIN/MAX, as the caller parsed it.
    pub side: T,
    /// COUNT (1 when absent).
    pub count: usize,
}

/// Parse MPOP arguments from `numkeys_idx`, with Redis's errors in Redis's
/// order: numkeys, then the side, then COUNT.
pub fn parse_mpop<T>(
    c: &Ctx,
    numkeys_idx: usize,
    side: impl FnOnce(&[u8]) -> CmdResult<T>,
) -> CmdResult<MPop<T>> {
    let at_least_1 = |arg: &[u8], msg: &'static str| match crate::util::num::parse_i64(arg) {
        Some(n) if n >= 1 => Ok(usize::try_from(n).unwrap_or(usize::MAX)),
        _ => Err(CmdError::fixed(msg)),
    };
    let argc = c.args.len();
    let numkeys = at_least_1(&c.args[numkeys_idx], "ERR numkeys should be greater than 0")?;
    let where_idx = match numkeys_idx
        .checked_add(numkeys)
        .and_then(|n| n.checked_add(1))
    {
        Some(i) if i < argc => i,
        _ => return Err(crate::error::SYNTAX.into()),
    };
    let side = side(&c.args[where_idx])?;
    let mut count = None;
    let mut j = where_idx + 1;
    while j < argc {
        let more = argc - 1 - j;
        if count.is_none() && eq(&c.args[j], "count") && more > 0 {
            j += 1;
            count = Some(at_least_1(
                &c.args[j],
                "ERR count should be greater than 0",
            )?);
        } else {
            return Err(crate::error::SYNTAX.into());
        }
        j += 1;
    }
    Ok(MPop {
        keys: c.args[numkeys_idx + 1..where_idx].to_vec(),
        side,
        count: count.unwrap_or(1),
    })
}

/// Parse an integer argument (Redis's getLongLongFromObjectOrReply).
pub fn parse_int(b: &[u8]) -> CmdResult<i64> {
    crate::util::num::parse_i64(b).ok_or(CmdError::fixed(crate::error::NOT_INT))
}

/// Parse a float argument.
pub fn parse_float(b: &[u8]) -> CmdResult<f64> {
    crate::util::num::parse_f64(b).ok_or(CmdError::fixed(crate::error::NOT_FLOAT))
}

/// Case-insensitive argument comparison.
#[inline]
pub fn eq(a: &[u8], b: &str) -> bool {
    a.eq_ignore_ascii_case(b.as_bytes())
}

/// The output-buffer limit class of a client: pub/sub (2) while it is
/// subscribed, else normal (0).
fn output_class(cl: &Client) -> usize {
    if cl.subscriptions() > 0 {
        2
    } else {
        0
    }
}

/// Whether a client whose socket has not taken `pending` bytes of replies
/// is over its class's client-output-buffer-limit (normal, or pub/sub for a
/// subscriber), as Redis checks each reply it adds.
pub fn over_output_limit(eng: &Engine, cl: &Client, pending: usize) -> bool {
    let limit = eng.buf_limit(output_class(cl));
    if limit.hard == 0 && limit.soft == 0 {
        return false;
    }
    let held = cl.outbox.held().saturating_sub(cl.outbox.stalled()) + pending;
    cl.outbox.breaks_limit(held, limit, eng.now())
}
