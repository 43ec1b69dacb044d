//! ACL users and their selectors, as Redis 7.0's `acl.c` keeps them: the
//! rules (`on`, `>pass`, `~keys`, `&channels`, `+cmd`, `+@cat`, `(…)`, …)
//! applied one at a time, the description ACL LIST and ACL GETUSER show
//! (rebuilt from the command bitmap as Redis rebuilds it), and the checks
//! a command goes through. Pure: the command table is seen through a
//! [`Catalog`] the command layer builds.

use std::collections::BTreeMap;

use sha2::{Digest, Sha256};

use super::{Catalog, CATEGORIES, FUTURE_BIT, WORDS};
use crate::util::glob::glob_match;

/// Key permission bits of a key pattern.
pub mod perm {
    /// `%R~`.
    pub const READ: u8 = 1;
    /// `%W~`.
    pub const WRITE: u8 = 2;
    /// `~`.
    pub const ALL: u8 = READ | WRITE;
}

/// Why a rule was refused (Redis's errno values in ACLSetUser).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RuleError {
    /// EINVAL.
    Syntax,
    /// ENOENT.
    UnknownCommand,
    /// EEXIST.
    KeyAfterAll,
    /// EISDIR.
    ChannelAfterAll,
    /// ENODEV.
    NoSuchPassword,
    /// EBADMSG.
    BadHash,
    /// EALREADY.
    Duplicate,
    /// ECHILD.
    FirstArgOfSub,
}

impl RuleError {
    /// Redis's ACLSetUserStringError text.
    pub fn text(self) -> &'static str {
        match self {
            RuleError::UnknownCommand => "Unknown command or category name in ACL",
            RuleError::Syntax => "Syntax error",
            RuleError::KeyAfterAll => "Adding a pattern after the * pattern (or the 'allkeys' flag) is not valid and does not have any effect. Try 'resetkeys' to start with an empty list of patterns",
            RuleError::ChannelAfterAll => "Adding a pattern after the * pattern (or the 'allchannels' flag) is not valid and does not have any effect. Try 'resetchannels' to start with an empty list of channels",
            RuleError::NoSuchPassword => "The password you are trying to remove from the user does not exist",
            RuleError::BadHash => "The password hash must be exactly 64 characters and contain only lowercase hexadecimal characters",
            RuleError::Duplicate => "Duplicate user found. A user can only be defined once in config files",
            RuleError::FirstArgOfSub => "Allowing first-arg of a subcommand is not supported",
        }
    }
}

/// One selector: the root one (outside parentheses) or a `(…)` one.
#[derive(Clone, Debug, PartialEq)]
pub struct Selector {
    root: bool,
    allkeys: bool,
    allchannels: bool,
    allcommands: bool,
    bits: [u64; WORDS],
    /// Allowed first arguments of otherwise denied commands, by id.
    firstargs: BTreeMap<usize, Vec<String>>,
    patterns: Vec<(u8, Vec<u8>)>,
    channels: Vec<Vec<u8>>,
}

impl Selector {
    /// An empty selector: no commands, keys or channels, except all
    /// channels when `acl-pubsub-default` is `allchannels`.
    pub fn new(root: bool, pubsub_all: bool) -> Selector {
        Selector {
            root,
            allkeys: false,
            allchannels: pubsub_all,
            allcommands: false,
            bits: [0; WORDS],
            firstargs: BTreeMap::new(),
            patterns: Vec::new(),
            channels: Vec::new(),
        }
    }

    fn bit(&self, id: usize) -> bool {
        id < WORDS * 64 && self.bits[id / 64] & (1 << (id % 64)) != 0
    }

    fn set_bit(&mut self, id: usize, on: bool) {
        if id >= WORDS * 64 {
            return;
        }
        if on {
            self.bits[id / 64] |= 1 << (id % 64);
        } else {
            self.bits[id / 64] &= !(1 << (id % 64));
            self.allcommands = false;
        }
    }

    /// Allow or deny a command, and with a container all its subcommands.
    fn change_perm(&mut self, cat: &Catalog, id: usize, on: bool) {
        self.set_bit(id, on);
        self.firstargs.remove(&id);
        for &sub in &cat.cmd(id).subs {
            self.set_bit(sub, on);
        }
    }

    fn set_category(&mut self, cat: &Catalog, flag: u64, on: bool) {
        for &id in &cat.top {
            if cat.cmd(id).cats & flag != 0 {
                self.change_perm(cat, id, on);
            }
            for &sub in &cat.cmd(id).subs {
                if cat.cmd(sub).cats & flag != 0 {
                    self.change_perm(cat, sub, on);
                }
            }
        }
    }

    fn count_category(&self, cat: &Catalog, flag: u64) -> (usize, usize) {
        let (mut on, mut off) = (0, 0);
        let mut count = |id: usize| {
            if cat.cmd(id).cats & flag != 0 {
                if self.bit(id) {
                    on += 1;
                } else {
                    off += 1;
                }
            }
        };
        for &id in &cat.top {
            count(id);
            for &sub in &cat.cmd(id).subs {
                count(sub);
            }
        }
        (on, off)
    }

    /// Apply one selector rule (Redis's ACLSetSelector).
    pub fn apply(&mut self, cat: &Catalog, op: &[u8]) -> Result<(), RuleError> {
        if op.is_empty() {
            return Err(RuleError::Syntax);
        }
        let is = |w: &str| op.eq_ignore_ascii_case(w.as_bytes());
        if is("allkeys") || is("~*") {
            self.allkeys = true;
            self.patterns.clear();
        } else if is("resetkeys") {
            self.allkeys = false;
            self.patterns.clear();
        } else if is("allchannels") || is("&*") {
            self.allchannels = true;
            self.channels.clear();
        } else if is("resetchannels") {
            self.allchannels = false;
            self.channels.clear();
        } else if is("allcommands") || is("+@all") {
            self.bits = [u64::MAX; WORDS];
            self.allcommands = true;
            self.firstargs.clear();
        } else if is("nocommands") || is("-@all") {
            self.bits = [0; WORDS];
            self.allcommands = false;
            self.firstargs.clear();
        } else if op[0] == b'~' || op[0] == b'%' {
            if self.allkeys {
                return Err(RuleError::KeyAfterAll);
            }
            let mut flags = 0u8;
            let mut offset = 1;
            if op[0] == b'%' {
                while offset < op.len() {
                    let ch = op[offset].to_ascii_uppercase();
                    if ch == b'R' && flags & perm::READ == 0 {
                        flags |= perm::READ;
                    } else if ch == b'W' && flags & perm::WRITE == 0 {
                        flags |= perm::WRITE;
                    } else if op[offset] == b'~' {
                        offset += 1;
                        break;
                    } else {
                        return Err(RuleError::Syntax);
                    }
                    offset += 1;
                }
            } else {
                flags = perm::ALL;
            }
            let pat = op.get(offset..).unwrap_or_default();
            if has_spaces(pat) {
                return Err(RuleError::Syntax);
            }
            match self.patterns.iter_mut().find(|(_, p)| p == pat) {
                Some((f, _)) => *f |= flags,
                None => self.patterns.push((flags, pat.to_vec())),
            }
            self.allkeys = false;
        } else if op[0] == b'&' {
            if self.allchannels {
                return Err(RuleError::ChannelAfterAll);
            }
            let pat = &op[1..];
            if has_spaces(pat) {
                return Err(RuleError::Syntax);
            }
            if !self.channels.iter().any(|c| c == pat) {
                self.channels.push(pat.to_vec());
            }
            self.allchannels = false;
        } else if op[0] == b'+' && op.get(1) != Some(&b'@') {
            let name = &op[1..];
            match name.iter().rposition(|&b| b == b'|') {
                None => {
                    let id = cat.lookup(name).ok_or(RuleError::UnknownCommand)?;
                    self.change_perm(cat, id, true);
                }
                Some(bar) => {
                    let (base, sub) = (&name[..bar], &name[bar + 1..]);
                    let id = cat.lookup(base).ok_or(RuleError::UnknownCommand)?;
                    if cat.cmd(id).parent.is_some() {
                        return Err(RuleError::FirstArgOfSub);
                    }
                    if sub.is_empty() {
                        return Err(RuleError::Syntax);
                    }
                    if !cat.cmd(id).subs.is_empty() {
                        let sid = cat.lookup(name).ok_or(RuleError::UnknownCommand)?;
                        self.change_perm(cat, sid, true);
                    } else {
                        tracing::warn!(
                            "Deprecation warning: Allowing a first arg of an otherwise blocked command is a misuse of ACL and may get disabled in the future (offender: +{})",
                            String::from_utf8_lossy(name)
                        );
                        let sub = String::from_utf8_lossy(sub).into_owned();
                        let list = self.firstargs.entry(id).or_default();
                        if !list.iter().any(|s| s.eq_ignore_ascii_case(&sub)) {
                            list.push(sub);
                        }
                    }
                }
            }
        } else if op[0] == b'-' && op.get(1) != Some(&b'@') {
            let id = cat.lookup(&op[1..]).ok_or(RuleError::UnknownCommand)?;
            self.change_perm(cat, id, false);
        } else if (op[0] == b'+' || op[0] == b'-') && op.get(1) == Some(&b'@') {
            let flag = super::category(&op[2..]).ok_or(RuleError::UnknownCommand)?;
            self.set_category(cat, flag, op[0] == b'+');
        } else {
            return Err(RuleError::Syntax);
        }
        Ok(())
    }

    /// The command rules (Redis's ACLDescribeSelectorCommandRules): `+@all`
    /// or `-@all`, the categories that fit best, then single commands.
    pub fn describe_commands(&self, cat: &Catalog) -> String {
        let mut rules = String::new();
        let mut fake = Selector::new(false, false);
        let additive = !self.bit(FUTURE_BIT);
        let start: &[u8] = if additive { b"-@all" } else { b"+@all" };
        rules.push_str(if additive { "-@all " } else { "+@all " });
        let _ = fake.apply(cat, start);
        let mut temp = Selector::new(false, false);
        temp.bits = self.bits;
        let mut applied = [false; CATEGORIES.len()];
        loop {
            let mut best = None;
            let (mut mindiff, mut maxsame) = (usize::MAX, 0);
            for (j, (_, flag)) in CATEGORIES.iter().enumerate() {
                if applied[j] {
                    continue;
                }
                let (on, off) = temp.count_category(cat, *flag);
                let (diff, same) = if additive { (off, on) } else { (on, off) };
                if same > diff && (diff < mindiff || (diff == mindiff && same > maxsame)) {
                    best = Some(j);
                    mindiff = diff;
                    maxsame = same;
                }
            }
            let Some(j) = best else { break };
            let (name, flag) = CATEGORIES[j];
            fake.set_category(cat, flag, additive);
            temp.set_category(cat, flag, !additive);
            rules.push_str(if additive { "+@" } else { "-@" });
            rules.push_str(name);
            rules.push(' ');
            applied[j] = true;
        }
        for &id in &cat.top {
            self.describe_single(cat, &mut fake, &mut rules, id);
        }
        rules.pop();
        rules
    }

    fn describe_single(&self, cat: &Catalog, fake: &mut Selector, rules: &mut String, id: usize) {
        let userbit = self.bit(id);
        if userbit != fake.bit(id) {
            rules.push(if userbit { '+' } else { '-' });
            rules.push_str(&cat.cmd(id).name);
            rules.push(' ');
            fake.change_perm(cat, id, userbit);
        }
        for &sub in &cat.cmd(id).subs {
            self.describe_single(cat, fake, rules, sub);
        }
        if !userbit {
            if let Some(args) = self.firstargs.get(&id) {
                for a in args {
                    rules.push('+');
                    rules.push_str(&cat.cmd(id).name);
                    rules.push('|');
                    rules.push_str(a);
                    rules.push(' ');
                }
            }
        }
    }

    /// The key patterns as ACL GETUSER shows them.
    pub fn describe_keys(&self) -> Vec<u8> {
        if self.allkeys {
            return b"~*".to_vec();
        }
        let mut v = Vec::new();
        for (i, (f, p)) in self.patterns.iter().enumerate() {
            if i > 0 {
                v.push(b' ');
            }
            push_pattern(&mut v, *f, p);
        }
        v
    }

    /// The channel patterns as ACL GETUSER shows them.
    pub fn describe_channels(&self) -> Vec<u8> {
        if self.allchannels {
            return b"&*".to_vec();
        }
        let mut v = Vec::new();
        for (i, p) in self.channels.iter().enumerate() {
            if i > 0 {
                v.push(b' ');
            }
            v.push(b'&');
            v.extend_from_slice(p);
        }
        v
    }

    /// The whole selector (Redis's ACLDescribeSelector).
    pub fn describe(&self, cat: &Catalog) -> Vec<u8> {
        let mut v = Vec::new();
        if self.allkeys {
            v.extend_from_slice(b"~* ");
        } else {
            for (f, p) in &self.patterns {
                push_pattern(&mut v, *f, p);
                v.push(b' ');
            }
        }
        if self.allchannels {
            v.extend_from_slice(b"&* ");
        } else {
            v.extend_from_slice(b"resetchannels ");
            for p in &self.channels {
                v.push(b'&');
                v.extend_from_slice(p);
                v.push(b' ');
            }
        }
        v.extend_from_slice(self.describe_commands(cat).as_bytes());
        v
    }

    /// Whether the selector may access `key` with `need` (perm bits).
    fn check_key(&self, key: &[u8], need: u8) -> bool {
        self.allkeys
            || self
                .patterns
                .iter()
                .any(|(f, p)| f & need == need && glob_match(p, key, false))
    }

    /// Whether the selector has `need` on every key (`~*`, `%R~*`, …).
    fn unrestricted_keys(&self, need: u8) -> bool {
        self.allkeys
            || self
                .patterns
                .iter()
                .any(|(f, p)| f & need == need && p.as_slice() == b"*")
    }

    fn check_cmd(&self, req: &CheckRequest, keys: &[KeyRef]) -> Result<(), (Denied, usize)> {
        if !self.allcommands && !req.no_auth && !self.bit(req.id) {
            let idx = if req.is_sub { 2 } else { 1 };
            let allowed = self.firstargs.get(&req.id).is_some_and(|list| {
                req.args.len() >= 2
                    && req
                        .args
                        .get(idx)
                        .is_some_and(|a| list.iter().any(|s| s.as_bytes().eq_ignore_ascii_case(a)))
            });
            if !allowed {
                return Err((Denied::Command, 0));
            }
        }
        if !self.allkeys {
            for k in keys {
                let key = req.args.get(k.pos).map(|a| a.as_ref()).unwrap_or_default();
                if !self.check_key(key, k.need) {
                    return Err((Denied::Key, k.pos));
                }
            }
        }
        if !self.allchannels {
            for ch in req.channels {
                let name = req.args.get(ch.pos).map(|a| a.as_ref()).unwrap_or_default();
                if !channel_allowed(&self.channels, name, ch.pattern) {
                    return Err((Denied::Channel, ch.pos));
                }
            }
        }
        Ok(())
    }
}

fn push_pattern(v: &mut Vec<u8>, f: u8, p: &[u8]) {
    v.extend_from_slice(match f {
        perm::READ => b"%R~",
        perm::WRITE => b"%W~",
        _ => b"~",
    });
    v.extend_from_slice(p);
}

/// A channel against a list of channel patterns: a channel name is
/// matched as a glob; a PSUBSCRIBE pattern only literally.
pub fn channel_allowed(list: &[Vec<u8>], name: &[u8], pattern: bool) -> bool {
    list.iter().any(|p| {
        if pattern {
            p.as_slice() == name
        } else {
            glob_match(p, name, false)
        }
    })
}

/// Whether a name or pattern has whitespace or NUL (Redis's
/// ACLStringHasSpaces).
pub fn has_spaces(s: &[u8]) -> bool {
    s.iter()
        .any(|&b| b == 0 || b == b' ' || (b'\t'..=b'\r').contains(&b))
}

/// SHA-256 of a password, as lowercase hex (Redis's ACLHashPassword).
pub fn hash_password(pass: &[u8]) -> String {
    let digest = Sha256::digest(pass);
    let mut s = String::with_capacity(64);
    for b in digest {
        s.push_str(&format!("{b:02x}"));
    }
    s
}

fn valid_hash(h: &[u8]) -> bool {
    h.len() == 64
        && h.iter()
            .all(|&c| c.is_ascii_digit() || (b'a'..=b'f').contains(&c))
}

/// What a permission check refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Denied {
    /// ACL_DENIED_CMD.
    Command = 1,
    /// ACL_DENIED_KEY.
    Key = 2,
    /// ACL_DENIED_AUTH.
    Auth = 3,
    /// ACL_DENIED_CHANNEL.
    Channel = 4,
}

impl Denied {
    /// ACL LOG's reason.
    pub fn reason(self) -> &'static str {
        match self {
            Denied::Command => "command",
            Denied::Key => "key",
            Denied::Channel => "channel",
            Denied::Auth => "auth",
        }
    }
}

/// A key a command names: its argument position and the permission it
/// needs (from the key spec's flags).
#[derive(Debug, Clone, Copy)]
pub struct KeyRef {
    /// Argument position.
    pub pos: usize,
    /// `perm::*` bits needed.
    pub need: u8,
}

/// A channel a command names.
#[derive(Debug, Clone, Copy)]
pub struct ChanRef {
    /// Argument position.
    pub pos: usize,
    /// A PSUBSCRIBE pattern (matched literally).
    pub pattern: bool,
}

/// What a command check needs to know about the command.
pub struct CheckRequest<'a> {
    /// The command's (or subcommand's) ACL id.
    pub id: usize,
    /// Its no_auth flag (always allowed as a command).
    pub no_auth: bool,
    /// A subcommand (first args are then argument 2).
    pub is_sub: bool,
    /// The arguments, the name first.
    pub args: &'a [bytes::Bytes],
    /// The channels it names.
    pub channels: &'a [ChanRef],
}

/// One user.
#[derive(Clone, Debug, PartialEq)]
pub struct User {
    name: Vec<u8>,
    enabled: bool,
    nopass: bool,
    /// Some(true) skip-sanitize-payload, Some(false) sanitize-payload.
    skip_sanitize: Option<bool>,
    passwords: Vec<String>,
    selectors: Vec<Selector>,
}

impl User {
    /// A new user: off, no passwords, no permissions.
    pub fn new(name: &[u8], pubsub_all: bool) -> User {
        User {
            name: name.to_vec(),
            enabled: false,
            nopass: false,
            skip_sanitize: None,
            passwords: Vec::new(),
            selectors: vec![Selector::new(true, pubsub_all)],
        }
    }

    /// The user's name.
    pub fn name(&self) -> &[u8] {
        &self.name
    }

    /// `on`.
    pub fn enabled(&self) -> bool {
        self.enabled
    }

    /// `nopass`.
    pub fn nopass(&self) -> bool {
        self.nopass
    }

    /// `skip-sanitize-payload`.
    pub fn skips_sanitize(&self) -> bool {
        self.skip_sanitize == Some(true)
    }

    /// The password hashes.
    pub fn passwords(&self) -> &[String] {
        &self.passwords
    }

    /// The root selector, then the others.
    pub fn selectors(&self) -> &[Selector] {
        &self.selectors
    }

    /// Keep the rules of `src` under this user's name (Redis's ACLCopyUser).
    pub fn copy_rules(&mut self, src: &User) {
        let name = std::mem::take(&mut self.name);
        *self = src.clone();
        self.name = name;
    }

    /// Apply one rule (Redis's ACLSetUser).
    pub fn apply(&mut self, cat: &Catalog, op: &[u8], pubsub_all: bool) -> Result<(), RuleError> {
        if op.is_empty() {
            return Ok(());
        }
        let is = |w: &str| op.eq_ignore_ascii_case(w.as_bytes());
        if is("on") {
            self.enabled = true;
        } else if is("off") {
            self.enabled = false;
        } else if is("skip-sanitize-payload") {
            self.skip_sanitize = Some(true);
        } else if is("sanitize-payload") {
            self.skip_sanitize = Some(false);
        } else if is("nopass") {
            self.nopass = true;
            self.passwords.clear();
        } else if is("resetpass") {
            self.nopass = false;
            self.passwords.clear();
        } else if op[0] == b'>' || op[0] == b'#' {
            let hash = if op[0] == b'>' {
                hash_password(&op[1..])
            } else {
                if !valid_hash(&op[1..]) {
                    return Err(RuleError::BadHash);
                }
                String::from_utf8_lossy(&op[1..]).into_owned()
            };
            if !self.passwords.contains(&hash) {
                self.passwords.push(hash);
            }
            self.nopass = false;
        } else if op[0] == b'<' || op[0] == b'!' {
            let hash = if op[0] == b'<' {
                hash_password(&op[1..])
            } else {
                if !valid_hash(&op[1..]) {
                    return Err(RuleError::BadHash);
                }
                String::from_utf8_lossy(&op[1..]).into_owned()
            };
            match self.passwords.iter().position(|p| *p == hash) {
                Some(i) => {
                    self.passwords.remove(i);
                }
                None => return Err(RuleError::NoSuchPassword),
            }
        } else if op[0] == b'(' && op[op.len() - 1] == b')' {
            let inner = &op[1..op.len() - 1];
            let mut s = Selector::new(false, pubsub_all);
            // Unbalanced quotes leave the selector empty, as Redis's
            // sdssplitargs() failing does.
            let words = resp::inline::split_args(inner).unwrap_or_default();
            for w in words {
                s.apply(cat, &w)?;
            }
            self.selectors.push(s);
        } else if is("clearselectors") {
            self.selectors.truncate(1);
        } else if is("reset") {
            self.nopass = false;
            self.passwords.clear();
            let root = &mut self.selectors[0];
            root.allkeys = false;
            root.patterns.clear();
            root.allchannels = pubsub_all;
            root.channels.clear();
            self.enabled = false;
            self.skip_sanitize = Some(false);
            self.selectors.truncate(1);
            self.selectors[0].bits = [0; WORDS];
            self.selectors[0].allcommands = false;
            self.selectors[0].firstargs.clear();
        } else {
            self.selectors[0].apply(cat, op)?;
        }
        Ok(())
    }

    /// The user's rules in config-file form, without `user <name>`
    /// (Redis's ACLDescribeUser).
    pub fn describe(&self, cat: &Catalog) -> Vec<u8> {
        let mut v = Vec::new();
        for f in self.flag_names() {
            v.extend_from_slice(f.as_bytes());
            v.push(b' ');
        }
        for p in &self.passwords {
            v.push(b'#');
            v.extend_from_slice(p.as_bytes());
            v.push(b' ');
        }
        for s in &self.selectors {
            if s.root {
                v.extend_from_slice(&s.describe(cat));
            } else {
                v.extend_from_slice(b" (");
                v.extend_from_slice(&s.describe(cat));
                v.push(b')');
            }
        }
        v
    }

    /// The flags, in Redis's order.
    pub fn flag_names(&self) -> Vec<&'static str> {
        let mut v = vec![if self.enabled { "on" } else { "off" }];
        if self.nopass {
            v.push("nopass");
        }
        match self.skip_sanitize {
            Some(true) => v.push("skip-sanitize-payload"),
            Some(false) => v.push("sanitize-payload"),
            None => {}
        }
        v
    }

    /// Whether `pass` authenticates this user (an enabled user, nopass or
    /// a matching password).
    pub fn check_password(&self, pass: &[u8]) -> bool {
        if !self.enabled {
            return false;
        }
        if self.nopass {
            return true;
        }
        let h = hash_password(pass);
        self.passwords
            .iter()
            .any(|p| p.bytes().zip(h.bytes()).fold(0u8, |d, (a, b)| d | (a ^ b)) == 0)
    }

    /// Whether the user can run anything on anything (the default user as
    /// it starts): checks can be skipped.
    pub fn unrestricted(&self) -> bool {
        self.selectors
            .iter()
            .any(|s| s.allcommands && s.allkeys && s.allchannels)
    }

    /// Whether some selector limits keys (a command check then needs the
    /// command's keys).
    pub fn needs_keys(&self) -> bool {
        self.selectors.iter().any(|s| !s.allkeys)
    }

    /// Redis's ACLCheckAllUserCommandPerm: Ok when a selector allows the
    /// command with its keys and channels; otherwise the most relevant
    /// refusal and the argument it concerns.
    pub fn check_cmd(&self, req: &CheckRequest, keys: &[KeyRef]) -> Result<(), (Denied, usize)> {
        let mut relevant = Denied::Command;
        let mut last = 0;
        for s in &self.selectors {
            match s.check_cmd(req, keys) {
                Ok(()) => return Ok(()),
                Err((d, pos)) => {
                    if d > relevant || (d == relevant && pos > last) {
                        relevant = d;
                        last = pos;
                    }
                }
            }
        }
        Err((relevant, last))
    }

    /// Redis's ACLUserCheckCmdWithUnrestrictedKeyAccess (SORT's BY/GET).
    pub fn check_cmd_unrestricted_keys(
        &self,
        req: &CheckRequest,
        keys: &[KeyRef],
        need: u8,
    ) -> bool {
        self.selectors
            .iter()
            .any(|s| s.check_cmd(req, keys).is_ok() && s.unrestricted_keys(need))
    }

    /// Whether one channel is allowed (Redis's ACLUserCheckChannelPerm).
    pub fn check_channel(&self, channel: &[u8], pattern: bool) -> bool {
        self.selectors
            .iter()
            .any(|s| s.allchannels || channel_allowed(&s.channels, channel, pattern))
    }

    /// Whether one key is allowed with `need`.
    pub fn check_key(&self, key: &[u8], need: u8) -> bool {
        self.selectors.iter().any(|s| s.check_key(key, need))
    }

    /// Channel permissions as `new` has them are a superset of this
    /// user's (Redis's ACLKillPubsubClientsIfNeeded shortcut); else the
    /// channel list `new` allows, to check subscribers against.
    pub fn channels_after(&self, new: &User) -> Option<Vec<Vec<u8>>> {
        if new.selectors.iter().any(|s| s.allchannels) {
            return None;
        }
        let upcoming: Vec<Vec<u8>> = new
            .selectors
            .iter()
            .flat_map(|s| s.channels.iter().cloned())
            .collect();
        let kept = self
            .selectors
            .iter()
            .all(|s| !s.allchannels && s.channels.iter().all(|c| upcoming.contains(c)));
        if kept {
            None
        } else {
            Some(upcoming)
        }
    }
}

/// Merge selector rules spread over several arguments (`(~a` `+get)`)
/// into one (Redis's ACLMergeSelectorArguments); Err with the index of an
/// unclosed `(`.
pub fn merge_selector_args(args: &[Vec<u8>]) -> Result<Vec<Vec<u8>>, usize> {
    let mut out = Vec::new();
    let mut open: Option<(usize, Vec<u8>)> = None;
    for (j, op) in args.iter().enumerate() {
        if op.first() == Some(&b'(') && op.last() != Some(&b')') {
            open = Some((j, op.clone()));
            continue;
        }
        if let Some((_, sel)) = open.as_mut() {
            sel.push(b' ');
            sel.extend_from_slice(op);
            if op.last() == Some(&b')') {
                out.push(open.take().map(|(_, s)| s).unwrap_or_default());
            }
            continue;
        }
        out.push(op.clone());
    }
    match open {
        Some((j, _)) => Err(j),
        None => Ok(out),
    }
}
