//! ACL: users, their permissions and the ACL log (Redis 7.0's `acl.c`).
//!
//! A subsystem below the engine: it owns the users (by name, in byte
//! order as Redis's radix tree lists them) and the log, and sees the
//! command table only through a [`Catalog`] (ids, full names, categories,
//! subcommands) that the command layer builds, so that it never names the
//! commands. The rules, the descriptions and the checks are in `user.rs`.

pub mod user;

use std::collections::{BTreeMap, HashMap, VecDeque};

pub use user::{
    hash_password, merge_selector_args, perm, ChanRef, CheckRequest, Denied, KeyRef, RuleError,
    Selector, User,
};

/// ACL categories (Redis's ACL_CATEGORY_*), one bit each.
pub mod cat {
    #![allow(missing_docs)]
    pub const KEYSPACE: u64 = 1 << 0;
    pub const READ: u64 = 1 << 1;
    pub const WRITE: u64 = 1 << 2;
    pub const SET: u64 = 1 << 3;
    pub const SORTEDSET: u64 = 1 << 4;
    pub const LIST: u64 = 1 << 5;
    pub const HASH: u64 = 1 << 6;
    pub const STRING: u64 = 1 << 7;
    pub const BITMAP: u64 = 1 << 8;
    pub const HYPERLOGLOG: u64 = 1 << 9;
    pub const GEO: u64 = 1 << 10;
    pub const STREAM: u64 = 1 << 11;
    pub const PUBSUB: u64 = 1 << 12;
    pub const ADMIN: u64 = 1 << 13;
    pub const FAST: u64 = 1 << 14;
    pub const SLOW: u64 = 1 << 15;
    pub const BLOCKING: u64 = 1 << 16;
    pub const DANGEROUS: u64 = 1 << 17;
    pub const CONNECTION: u64 = 1 << 18;
    pub const TRANSACTION: u64 = 1 << 19;
    pub const SCRIPTING: u64 = 1 << 20;
}

/// The categories by name, in Redis's order (ACL CAT, COMMAND INFO, and
/// the order ACL rules are rebuilt in).
pub const CATEGORIES: [(&str, u64); 21] = [
    ("keyspace", cat::KEYSPACE),
    ("read", cat::READ),
    ("write", cat::WRITE),
    ("set", cat::SET),
    ("sortedset", cat::SORTEDSET),
    ("list", cat::LIST),
    ("hash", cat::HASH),
    ("string", cat::STRING),
    ("bitmap", cat::BITMAP),
    ("hyperloglog", cat::HYPERLOGLOG),
    ("geo", cat::GEO),
    ("stream", cat::STREAM),
    ("pubsub", cat::PUBSUB),
    ("admin", cat::ADMIN),
    ("fast", cat::FAST),
    ("slow", cat::SLOW),
    ("blocking", cat::BLOCKING),
    ("dangerous", cat::DANGEROUS),
    ("connection", cat::CONNECTION),
    ("transaction", cat::TRANSACTION),
    ("scripting", cat::SCRIPTING),
];

/// A category by name, case-insensitively.
pub fn category(name: &[u8]) -> Option<u64> {
    CATEGORIES
        .iter()
        .find(|(n, _)| n.as_bytes().eq_ignore_ascii_case(name))
        .map(|(_, f)| *f)
}

/// Words of a user's command bitmap (Redis's USER_COMMAND_BITS_COUNT).
pub const WORDS: usize = 1024 / 64;
/// The bit `+@all` sets and no command has: the user may run commands
/// added later.
pub const FUTURE_BIT: usize = WORDS * 64 - 1;

/// One command as ACLs see it.
#[derive(Debug, Clone)]
pub struct CatalogEntry {
    /// Full name (`get`, `config|get`).
    pub name: String,
    /// Its categories.
    pub cats: u64,
    /// Its subcommands' ids.
    pub subs: Vec<usize>,
    /// Its container's id.
    pub parent: Option<usize>,
    /// CMD_NO_AUTH: always allowed as a command.
    pub no_auth: bool,
}

/// The command table as ACLs see it; ids index the users' bitmaps.
#[derive(Debug, Default)]
pub struct Catalog {
    entries: Vec<CatalogEntry>,
    top: Vec<usize>,
    by_name: HashMap<String, usize>,
}

impl Catalog {
    /// Add a command (after its container, for a subcommand); its id.
    pub fn add(&mut self, name: &str, cats: u64, no_auth: bool, parent: Option<usize>) -> usize {
        let mut id = self.entries.len();
        if id == FUTURE_BIT {
            // Never given to a command, as in Redis.
            self.entries.push(CatalogEntry {
                name: String::new(),
                cats: 0,
                subs: Vec::new(),
                parent: None,
                no_auth: false,
            });
            id += 1;
        }
        assert!(id < WORDS * 64 - 1, "more commands than ACL bitmap bits");
        self.entries.push(CatalogEntry {
            name: name.to_string(),
            cats,
            subs: Vec::new(),
            parent,
            no_auth,
        });
        match parent {
            Some(p) => self.entries[p].subs.push(id),
            None => self.top.push(id),
        }
        self.by_name.insert(name.to_ascii_lowercase(), id);
        id
    }

    /// An entry by id.
    pub fn cmd(&self, id: usize) -> &CatalogEntry {
        &self.entries[id]
    }

    /// A command by `name` or `container|sub` (Redis's ACLLookupCommand:
    /// one level of subcommands, only for containers).
    pub fn lookup(&self, name: &[u8]) -> Option<usize> {
        let name = std::str::from_utf8(name).ok()?.to_ascii_lowercase();
        let mut parts = name.split('|');
        let base = parts.next()?;
        let sub = parts.next();
        if parts.next().is_some() {
            return None;
        }
        let id = *self.by_name.get(base)?;
        if self.entries[id].parent.is_some() {
            return None;
        }
        match sub {
            None => Some(id),
            Some(_) if self.entries[id].subs.is_empty() => None,
            Some(_) => self.by_name.get(&name).copied(),
        }
    }

    /// The full names of the commands in a category (ACL CAT <category>).
    pub fn in_category(&self, flag: u64) -> Vec<&str> {
        let mut v = Vec::new();
        for &id in &self.top {
            if self.entries[id].cats & flag != 0 {
                v.push(self.entries[id].name.as_str());
            }
            for &s in &self.entries[id].subs {
                if self.entries[s].cats & flag != 0 {
                    v.push(self.entries[s].name.as_str());
                }
            }
        }
        v
    }
}

/// One ACL LOG entry.
#[derive(Debug, Clone)]
pub struct LogEntry {
    /// How many times it happened (similar events are grouped).
    pub count: u64,
    /// What was refused.
    pub reason: Denied,
    /// `toplevel`, `multi`, `lua` or `module`.
    pub context: &'static str,
    /// The command, key, channel or (for auth) the user name.
    pub object: Vec<u8>,
    /// The user.
    pub username: Vec<u8>,
    /// Last time (ms).
    pub ctime: i64,
    /// CLIENT LIST line of the last client.
    pub cinfo: String,
}

/// Entries within this many ms of each other are grouped.
const LOG_GROUPING_MAX_TIME_DELTA: i64 = 60_000;

/// The users and the log. Invariant: `default_open` and `default_auth`
/// describe the default user as it is now (every change to the users goes
/// through `insert`, `remove`, `replace_all` or `set_default_password`).
#[derive(Debug)]
pub struct Acl {
    users: BTreeMap<Vec<u8>, User>,
    log: VecDeque<LogEntry>,
    /// The default user may run anything on anything: checks skipped.
    default_open: bool,
    /// The default user is on and nopass: new clients start authenticated.
    default_auth: bool,
}

impl Default for Acl {
    fn default() -> Self {
        Acl::new()
    }
}

impl Acl {
    /// The `default` user alone: on, nopass, every key, channel and command.
    pub fn new() -> Acl {
        let mut users = BTreeMap::new();
        users.insert(b"default".to_vec(), Acl::default_user_rules());
        let mut a = Acl {
            users,
            log: VecDeque::new(),
            default_open: true,
            default_auth: true,
        };
        a.default_changed();
        a
    }

    fn default_changed(&mut self) {
        let d = self.default_user();
        let (open, auth) = (d.unrestricted(), d.nopass() && d.enabled());
        self.default_open = open;
        self.default_auth = auth;
    }

    /// Whether the default user may run anything on anything.
    #[inline]
    pub fn default_unrestricted(&self) -> bool {
        self.default_open
    }

    /// The default user as Redis creates it (ACLCreateDefaultUser).
    pub fn default_user_rules() -> User {
        let cat = Catalog::default();
        let mut u = User::new(b"default", false);
        for op in ["+@all", "~*", "&*", "on", "nopass"] {
            let _ = u.apply(&cat, op.as_bytes(), false);
        }
        u
    }

    /// A user by name.
    pub fn user(&self, name: &[u8]) -> Option<&User> {
        self.users.get(name)
    }

    /// The default user.
    pub fn default_user(&self) -> &User {
        // The default user can be changed but never removed.
        self.users.get(b"default".as_slice()).expect("default user")
    }

    /// Whether a new connection starts authenticated (the default user is
    /// on and nopass).
    #[inline]
    pub fn new_clients_authenticated(&self) -> bool {
        self.default_auth
    }

    /// Every user, in name order.
    pub fn users(&self) -> impl Iterator<Item = &User> {
        self.users.values()
    }

    /// Add or replace a user.
    pub fn insert(&mut self, u: User) {
        self.users.insert(u.name().to_vec(), u);
        self.default_changed();
    }

    /// Remove a user (never `default`).
    pub fn remove(&mut self, name: &[u8]) -> Option<User> {
        if name == b"default" {
            return None;
        }
        self.users.remove(name)
    }

    /// Replace every user (ACL LOAD); the default user keeps its place.
    pub fn replace_all(&mut self, users: BTreeMap<Vec<u8>, User>) -> Vec<Vec<u8>> {
        let old: Vec<Vec<u8>> = self.users.keys().cloned().collect();
        self.users = users;
        self.users
            .entry(b"default".to_vec())
            .or_insert_with(Acl::default_user_rules);
        self.default_changed();
        old
    }

    /// Set `requirepass`: the default user's one password, or nopass
    /// (Redis's ACLUpdateDefaultUserPassword).
    pub fn set_default_password(&mut self, pass: &[u8]) {
        let cat = Catalog::default();
        if let Some(d) = self.users.get_mut(b"default".as_slice()) {
            let _ = d.apply(&cat, b"resetpass", false);
            if pass.is_empty() {
                let _ = d.apply(&cat, b"nopass", false);
            } else {
                let mut op = b">".to_vec();
                op.extend_from_slice(pass);
                let _ = d.apply(&cat, &op, false);
            }
        }
        self.default_changed();
    }

    /// Log a refusal, grouping it with a similar recent one (Redis's
    /// addACLLogEntry), keeping at most `max_len` entries.
    pub fn log_add(&mut self, e: LogEntry, max_len: usize) {
        let found = self.log.iter().take(10).position(|cur| {
            cur.reason == e.reason
                && cur.context == e.context
                && (cur.ctime - e.ctime).abs() <= LOG_GROUPING_MAX_TIME_DELTA
                && cur.object == e.object
                && cur.username == e.username
        });
        match found {
            Some(i) => {
                if let Some(mut cur) = self.log.remove(i) {
                    cur.cinfo = e.cinfo;
                    cur.ctime = e.ctime;
                    cur.count += 1;
                    self.log.push_front(cur);
                }
            }
            None => {
                self.log.push_front(e);
                self.log.truncate(max_len);
            }
        }
    }

    /// The log, newest first.
    pub fn log(&self) -> &VecDeque<LogEntry> {
        &self.log
    }

    /// ACL LOG RESET.
    pub fn log_reset(&mut self) {
        self.log.clear();
    }

    /// Trim the log to a new `acllog-max-len`.
    pub fn log_trim(&mut self, max_len: usize) {
        self.log.truncate(max_len);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn password_hash_is_sha256_hex() {
        assert_eq!(
            hash_password(b"foo"),
            "2c26b46b68ffc68ff99b453c1d30413413422d706483bfa0f98a5e886266e7ae"
        );
    }

    #[test]
    fn default_user_description() {
        let mut c = Catalog::default();
        c.add("get", cat::READ | cat::STRING | cat::FAST, false, None);
        let a = Acl::new();
        assert_eq!(
            String::from_utf8(a.default_user().describe(&c)).unwrap(),
            "on nopass ~* &* +@all"
        );
    }

    #[test]
    fn merge_selectors() {
        let v: Vec<Vec<u8>> = ["on", "(~a", "+get)", "x"]
            .iter()
            .map(|s| s.as_bytes().to_vec())
            .collect();
        assert_eq!(
            merge_selector_args(&v).unwrap(),
            vec![b"on".to_vec(), b"(~a +get)".to_vec(), b"x".to_vec()]
        );
        assert_eq!(merge_selector_args(&v[..2]), Err(1));
    }
}
