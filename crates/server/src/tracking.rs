//! Client-side caching (Redis's `tracking.c`): the subsystem that owns the
//! tracking table, the BCAST prefix table and every tracking client's mode,
//! and sends the invalidation messages.
//!
//! - **Default mode**: the keys a tracking client reads are remembered in
//!   the tracking table (key → the ids of the clients that may cache it);
//!   when a key changes, each of them gets one invalidation and the key
//!   leaves the table. The table is global (keys of every db), ids are
//!   removed lazily (a client that stops tracking or leaves stays listed
//!   until the key changes), and `tracking-table-max-keys` bounds it by
//!   invalidating keys as if they had changed.
//! - **BCAST mode**: a client subscribes to prefixes; the keys changed
//!   under a prefix are collected and sent once per turn
//!   ([`Tracking::broadcast`], Redis's beforeSleep), without NOLOOP
//!   clients' own changes.
//! - **Delivery**: a RESP3 client gets `invalidate` pushes; with REDIRECT
//!   they go to the other client, which in RESP2 receives them as messages
//!   of the `__redis__:invalidate` channel while it is subscribed. A client
//!   whose redirect target left gets `tracking-redir-broken` (RESP3).
//! - **The running client**: invalidations for the client whose command
//!   runs are queued until its reply is written (Redis's
//!   tracking_pending_keys), and what it receives is collected for its
//!   reply buffer ([`Tracking::take_for_current`]), so messages never
//!   interleave with a reply.
//!
//! Invariants: a client is in `clients` exactly while it has tracking on
//! (so `tracking_clients` is its size); a prefix is in the prefix table
//! only while some BCAST client uses it; `items` is the number of ids in
//! the tracking table.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use resp::encode::{self as enc, Proto};

use crate::clients::Clients;
use crate::config::BufLimit;

/// Tracking mode bits (Redis's CLIENT_TRACKING_*).
pub mod mode {
    /// BCAST: invalidations by prefix, whatever was read.
    pub const BCAST: u32 = 1 << 0;
    /// OPTIN: only keys read after CLIENT CACHING yes are tracked.
    pub const OPTIN: u32 = 1 << 1;
    /// OPTOUT: keys read after CLIENT CACHING no are not tracked.
    pub const OPTOUT: u32 = 1 << 2;
    /// CLIENT CACHING was given for the next command.
    pub const CACHING: u32 = 1 << 3;
    /// No invalidations for the client's own changes.
    pub const NOLOOP: u32 = 1 << 4;
    /// The redirect target has gone.
    pub const BROKEN_REDIR: u32 = 1 << 5;
}

/// The channel RESP2 redirect targets receive invalidations on.
pub const INVALIDATE_CHANNEL: &[u8] = b"__redis__:invalidate";

/// One tracking client's mode.
#[derive(Default, Debug, Clone)]
struct ClientMode {
    /// `mode::*` bits.
    flags: u32,
    /// REDIRECT target id, 0 for none.
    redirect: u64,
    /// BCAST prefixes, in order.
    prefixes: BTreeSet<Vec<u8>>,
}

/// A BCAST prefix: the keys changed under it since the last broadcast
/// (each with the id of the client that changed it last, 0 for none: an
/// expiry) and the clients subscribed to it.
#[derive(Default)]
struct Bcast {
    keys: BTreeMap<Vec<u8>, u64>,
    clients: BTreeSet<u64>,
}

/// The ids of the clients that may cache a key: a list while few, a set
/// when many clients read the same key.
enum Ids {
    Few(Vec<u64>),
    Many(std::collections::HashSet<u64>),
}

const FEW: usize = 16;

impl Ids {
    /// Add `id`; true when it was not there.
    fn insert(&mut self, id: u64) -> bool {
        match self {
            Ids::Few(v) => {
                if v.contains(&id) {
                    return false;
                }
                if v.len() < FEW {
                    v.push(id);
                } else {
                    let mut s: std::collections::HashSet<u64> = v.drain(..).collect();
                    s.insert(id);
                    *self = Ids::Many(s);
                }
                true
            }
            Ids::Many(s) => s.insert(id),
        }
    }

    fn len(&self) -> usize {
        match self {
            Ids::Few(v) => v.len(),
            Ids::Many(s) => s.len(),
        }
    }

    fn into_sorted(self) -> Vec<u64> {
        let mut v: Vec<u64> = match self {
            Ids::Few(v) => v,
            Ids::Many(s) => s.into_iter().collect(),
        };
        v.sort_unstable();
        v
    }
}

/// What an invalidation carries after its header.
enum Payload<'a> {
    /// One key, sent as an array of one.
    Key(&'a [u8]),
    /// Ready RESP: an array of keys, or a null after a flush.
    Raw(&'a [u8]),
}

/// Where messages go: the connected clients' outboxes, under their
/// output-buffer limits.
pub struct Sink<'a> {
    /// The client table (outboxes, protocols, subscribed state).
    pub clients: &'a Clients,
    /// client-output-buffer-limit normal.
    pub normal: BufLimit,
    /// client-output-buffer-limit pubsub.
    pub pubsub: BufLimit,
    /// Now, in ms (soft limits).
    pub now: i64,
}

/// The tracking table, the prefix table and the tracking clients.
#[derive(Default)]
pub struct Tracking {
    /// Key → ids of the clients that may cache it (default mode).
    table: HashMap<Box<[u8]>, Ids, ahash::RandomState>,
    /// Ids in `table`, summed over its keys (tracking_total_items).
    items: u64,
    /// BCAST prefixes, in order.
    prefixes: BTreeMap<Vec<u8>, Bcast>,
    /// Some prefix has keys waiting for [`Tracking::broadcast`].
    bcast_pending: bool,
    /// Clients with tracking on, by id (looked up on every read they make).
    clients: HashMap<u64, ClientMode, ahash::RandomState>,
    /// The client whose command runs (0: none, e.g. the cron).
    current: u64,
    /// How deep in `call` the running client is (0: outside any).
    depth: u32,
    /// Invalidations for the running client, sent after its reply: a key,
    /// or None for a flush.
    pending: Vec<Option<Vec<u8>>>,
    /// What the running client received, for its reply buffer.
    to_current: Vec<u8>,
    /// Rounds in a row [`Tracking::limit`] ended still over the limit.
    limit_rounds: u32,
    /// While a script runs for a tracking client: that client and the
    /// script's declared keys (tracked once the script reads anything).
    script_caller: Option<(u64, Vec<bytes::Bytes>)>,
}

impl Tracking {
    // ---- modes ------------------------------------------------------------

    /// Whether any client has tracking on (the cheap check for hot paths).
    #[inline]
    pub fn active(&self) -> bool {
        !self.clients.is_empty()
    }

    /// Whether a change to a key may concern tracking: a client tracks,
    /// or the table still lists keys.
    #[inline]
    pub fn in_use(&self) -> bool {
        !self.clients.is_empty() || !self.table.is_empty()
    }

    /// Whether BCAST keys wait to be sent.
    #[inline]
    pub fn broadcast_due(&self) -> bool {
        self.bcast_pending
    }

    /// Clients with tracking on (INFO tracking_clients).
    pub fn client_count(&self) -> usize {
        self.clients.len()
    }

    /// Keys in the tracking table (INFO tracking_total_keys).
    pub fn total_keys(&self) -> usize {
        self.table.len()
    }

    /// Ids in the tracking table (INFO tracking_total_items).
    pub fn total_items(&self) -> u64 {
        self.items
    }

    /// BCAST prefixes in use (INFO tracking_total_prefixes).
    pub fn total_prefixes(&self) -> usize {
        self.prefixes.len()
    }

    /// Client `id`'s mode bits, None when its tracking is off.
    pub fn flags(&self, id: u64) -> Option<u32> {
        self.clients.get(&id).map(|m| m.flags)
    }

    /// Client `id`'s redirect target (0 for none), None when its tracking
    /// is off.
    pub fn redirect(&self, id: u64) -> Option<u64> {
        self.clients.get(&id).map(|m| m.redirect)
    }

    /// Client `id`'s BCAST prefixes, in order (empty when none).
    pub fn prefix_memory(&self, id: u64) -> usize {
        // As Redis's estimate: a radix-tree node per byte of each prefix.
        self.clients
            .get(&id)
            .map_or(0, |m| m.prefixes.iter().map(|p| 32 * p.len().max(1)).sum())
    }

    /// A client's BCAST prefixes.
    pub fn prefixes_of(&self, id: u64) -> Vec<Vec<u8>> {
        self.clients
            .get(&id)
            .map(|m| m.prefixes.iter().cloned().collect())
            .unwrap_or_default()
    }

    /// Check new BCAST `prefixes` for client `id` as Redis's
    /// checkPrefixCollisionsOrReply: none may be a prefix of, or have as a
    /// prefix, one the client has or another one given. Returns the error.
    pub fn prefix_collision(&self, id: u64, prefixes: &[Vec<u8>]) -> Option<String> {
        let overlap = |a: &[u8], b: &[u8]| {
            let n = a.len().min(b.len());
            a[..n] == b[..n]
        };
        let text = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
        let have = self.clients.get(&id).map(|m| &m.prefixes);
        for (i, p) in prefixes.iter().enumerate() {
            if let Some(old) = have.and_then(|h| h.iter().find(|o| overlap(o, p))) {
                return Some(format!(
                    "ERR Prefix '{}' overlaps with an existing prefix '{}'. Prefixes for a single client must not overlap.",
                    text(p),
                    text(old)
                ));
            }
            if let Some(q) = prefixes[i + 1..].iter().find(|q| overlap(p, q)) {
                return Some(format!(
                    "ERR Prefix '{}' overlaps with another provided prefix '{}'. Prefixes for a single client must not overlap.",
                    text(p),
                    text(q)
                ));
            }
        }
        None
    }

    /// Turn tracking on for client `id` (or change its options), as
    /// Redis's enableTracking: `options` are `mode::{BCAST, OPTIN, OPTOUT,
    /// NOLOOP}`; BCAST with no prefix subscribes to the empty one. The
    /// caller checked the options (CLIENT TRACKING's errors).
    pub fn enable(&mut self, id: u64, redirect: u64, options: u32, prefixes: &[Vec<u8>]) {
        let m = self.clients.entry(id).or_default();
        m.flags &= !(mode::BROKEN_REDIR | mode::BCAST | mode::OPTIN | mode::OPTOUT | mode::NOLOOP);
        m.redirect = redirect;
        if options & mode::BCAST != 0 {
            m.flags |= mode::BCAST;
            let empty = [Vec::new()];
            let list = if prefixes.is_empty() {
                &empty[..]
            } else {
                prefixes
            };
            for p in list {
                let b = self.prefixes.entry(p.clone()).or_default();
                if b.clients.insert(id) {
                    m.prefixes.insert(p.clone());
                }
            }
        }
        m.flags |= options & (mode::OPTIN | mode::OPTOUT | mode::NOLOOP);
    }

    /// Turn tracking off for client `id` (CLIENT TRACKING off, RESET, a
    /// disconnection): it leaves its prefixes; its ids in the tracking
    /// table go lazily.
    pub fn disable(&mut self, id: u64) {
        let Some(m) = self.clients.remove(&id) else {
            return;
        };
        for p in &m.prefixes {
            if let Some(b) = self.prefixes.get_mut(p) {
                b.clients.remove(&id);
                if b.clients.is_empty() {
                    self.prefixes.remove(p);
                }
            }
        }
    }

    /// CLIENT CACHING yes/no for client `id`'s next command.
    pub fn set_caching(&mut self, id: u64) {
        if let Some(m) = self.clients.get_mut(&id) {
            m.flags |= mode::CACHING;
        }
    }

    /// A command of client `id` ended: CLIENT CACHING applies to the next
    /// command only, or to the whole of a transaction (Redis's
    /// resetClient): kept inside MULTI and after a CLIENT command.
    #[inline]
    pub fn command_done(&mut self, id: u64, in_multi: bool, was_client_cmd: bool) {
        if in_multi || was_client_cmd || self.clients.is_empty() {
            return;
        }
        if let Some(m) = self.clients.get_mut(&id) {
            m.flags &= !mode::CACHING;
        }
    }

    // ---- the running client -------------------------------------------------

    /// Client `id`'s command starts being processed; returns what was
    /// running (to give back to [`Tracking::end_client`]).
    pub fn begin_client(&mut self, id: u64) -> (u64, Vec<Option<Vec<u8>>>, Vec<u8>) {
        let prev = std::mem::replace(&mut self.current, id);
        if self.pending.is_empty() && self.to_current.is_empty() {
            return (prev, Vec::new(), Vec::new());
        }
        (
            prev,
            std::mem::take(&mut self.pending),
            std::mem::take(&mut self.to_current),
        )
    }

    /// The command started by [`Tracking::begin_client`] is done (the
    /// caller took what it received): the previous client runs again.
    pub fn end_client(&mut self, prev: (u64, Vec<Option<Vec<u8>>>, Vec<u8>)) {
        self.current = prev.0;
        self.pending = prev.1;
        self.to_current = prev.2;
    }

    /// A `call` starts (nested calls: EXEC, scripts).
    #[inline]
    pub fn enter_call(&mut self) {
        self.depth += 1;
    }

    /// A `call` ends; at the outermost one the running client gets the
    /// invalidations queued for it (after its reply, which is written).
    #[inline]
    pub fn leave_call(&mut self, sink: &Sink, current_proto: Proto) {
        self.depth -= 1;
        if self.depth == 0 && !self.pending.is_empty() {
            self.flush_pending(sink, current_proto);
        }
    }

    /// Send the running client what was queued for it (Redis's
    /// trackingHandlePendingKeyInvalidations).
    pub fn flush_pending(&mut self, sink: &Sink, current_proto: Proto) {
        let id = self.current;
        for key in std::mem::take(&mut self.pending) {
            match key {
                Some(k) => self.send(sink, id, Payload::Key(&k)),
                None => {
                    let mut null = Vec::new();
                    enc::null(&mut null, current_proto);
                    self.send(sink, id, Payload::Raw(&null));
                }
            }
        }
    }

    /// What the running client received (its reply buffer gets it now).
    pub fn take_for_current(&mut self) -> Option<Vec<u8>> {
        if self.to_current.is_empty() {
            None
        } else {
            Some(std::mem::take(&mut self.to_current))
        }
    }

    // ---- remembering keys ---------------------------------------------------

    /// Whether the keys client `id` reads are remembered (tracking on, not
    /// BCAST).
    #[inline]
    pub fn remembers(&self, id: u64) -> bool {
        self.clients
            .get(&id)
            .is_some_and(|m| m.flags & mode::BCAST == 0)
    }

    /// Remember that client `id` read `keys` (Redis's trackingRememberKeys),
    /// unless it does not remember keys (tracking off, or BCAST), or is in
    /// OPTIN without CACHING yes, or OPTOUT with CACHING no.
    pub fn remember<'k>(&mut self, id: u64, keys: impl IntoIterator<Item = &'k [u8]>) {
        let Some(m) = self.clients.get(&id) else {
            return;
        };
        if m.flags & mode::BCAST != 0 {
            return;
        }
        let caching = m.flags & mode::CACHING != 0;
        if (m.flags & mode::OPTIN != 0 && !caching) || (m.flags & mode::OPTOUT != 0 && caching) {
            return;
        }
        for key in keys {
            let added = match self.table.get_mut(key) {
                Some(ids) => ids.insert(id),
                None => {
                    self.table.insert(key.into(), Ids::Few(vec![id]));
                    true
                }
            };
            self.items += u64::from(added);
        }
    }

    /// A script starts for client `caller`, declaring `keys`: if the script
    /// reads anything, the caller is taken to cache them.
    pub fn begin_script(&mut self, caller: u64, keys: &[bytes::Bytes]) -> bool {
        if !self.remembers(caller) {
            return false;
        }
        self.script_caller = Some((caller, keys.to_vec()));
        true
    }

    /// The script started by [`Tracking::begin_script`] ended.
    pub fn end_script(&mut self) {
        self.script_caller = None;
    }

    /// The running script read something: remember its declared keys for
    /// its caller.
    pub fn script_read(&mut self) {
        if let Some((id, keys)) = self.script_caller.take() {
            self.remember(id, keys.iter().map(|k| k.as_ref()));
            self.script_caller = Some((id, keys));
        }
    }

    // ---- invalidation -----------------------------------------------------

    /// `key` changed (Redis's trackingInvalidateKey): every client that
    /// may cache it is told, and it leaves the table; with `bcast`, it is
    /// also collected for the BCAST prefixes it falls under, marked as
    /// changed by `by` (a client id, 0 for none).
    pub fn invalidate(&mut self, sink: &Sink, key: &[u8], by: u64, bcast: bool) {
        if bcast && !self.prefixes.is_empty() {
            for (p, b) in self.prefixes.iter_mut() {
                if key.starts_with(p) {
                    b.keys.insert(key.to_vec(), by);
                    self.bcast_pending = true;
                }
            }
        }
        if self.table.is_empty() {
            return;
        }
        let Some(ids) = self.table.remove(key) else {
            return;
        };
        self.items -= ids.len() as u64;
        for id in ids.into_sorted() {
            let Some(m) = self.clients.get(&id) else {
                continue;
            };
            if m.flags & mode::BCAST != 0 {
                continue;
            }
            if id == self.current {
                if m.flags & mode::NOLOOP != 0 {
                    continue;
                }
                if self.depth > 0 {
                    self.pending.push(Some(key.to_vec()));
                    continue;
                }
            }
            self.send(sink, id, Payload::Key(key));
        }
    }

    /// Databases were flushed (Redis's trackingInvalidateKeysOnFlush):
    /// every tracking client gets a null ("everything"), in its own
    /// protocol, and the tracking table is emptied.
    pub fn invalidate_all(&mut self, sink: &Sink) {
        let mut ids: Vec<u64> = self.clients.keys().copied().collect();
        ids.sort_unstable();
        for id in ids {
            if id == self.current {
                self.pending.push(None);
                continue;
            }
            let resp3 = sink.clients.outbox(id).is_some_and(|o| o.is_resp3());
            let null: &[u8] = if resp3 { b"_\r\n" } else { b"$-1\r\n" };
            self.send(sink, id, Payload::Raw(null));
        }
        self.table.clear();
        self.items = 0;
    }

    /// Keep the tracking table within `max_keys` (0: no limit) by
    /// invalidating keys as if they changed (Redis's
    /// trackingLimitUsedSlots): up to 100 keys a round, 100 more each
    /// round that ended still over the limit.
    pub fn limit(&mut self, sink: &Sink, max_keys: usize) {
        if max_keys == 0 || self.table.is_empty() {
            return;
        }
        if self.table.len() <= max_keys {
            self.limit_rounds = 0;
            return;
        }
        let effort = 100 * (self.limit_rounds as usize + 1);
        let over = self.table.len() - max_keys;
        let victims: Vec<Box<[u8]>> = self.table.keys().take(effort.min(over)).cloned().collect();
        for k in &victims {
            self.invalidate(sink, k, 0, false);
        }
        if self.table.len() <= max_keys {
            self.limit_rounds = 0;
        } else {
            self.limit_rounds += 1;
        }
    }

    /// Send the BCAST clients the keys changed under their prefixes since
    /// the last time (Redis's trackingBroadcastInvalidationMessages, once
    /// per event-loop turn): one array per prefix, without the keys a
    /// NOLOOP client changed itself.
    pub fn broadcast(&mut self, sink: &Sink) {
        if !self.bcast_pending {
            return;
        }
        self.bcast_pending = false;
        let mut msgs: Vec<(u64, Vec<u8>)> = Vec::new();
        for b in self.prefixes.values_mut() {
            if b.keys.is_empty() {
                continue;
            }
            let all = keys_array(&b.keys, 0);
            for &id in &b.clients {
                let noloop = self
                    .clients
                    .get(&id)
                    .is_some_and(|m| m.flags & mode::NOLOOP != 0);
                if noloop {
                    if b.keys.values().any(|&by| by != id) {
                        msgs.push((id, keys_array(&b.keys, id)));
                    }
                } else {
                    msgs.push((id, all.clone()));
                }
            }
            b.keys.clear();
        }
        for (id, m) in msgs {
            self.send(sink, id, Payload::Raw(&m));
        }
    }

    /// Send one invalidation to tracking client `id` (Redis's
    /// sendTrackingMessage): to itself in RESP3, or to its redirect target
    /// (RESP3 push, or RESP2 `__redis__:invalidate` message while it is
    /// subscribed); a gone target marks the redirect broken.
    fn send(&mut self, sink: &Sink, id: u64, payload: Payload) {
        let redirect = self.clients.get(&id).map_or(0, |m| m.redirect);
        let mut dest = id;
        if redirect != 0 {
            if redirect != self.current && sink.clients.outbox(redirect).is_none() {
                if let Some(m) = self.clients.get_mut(&id) {
                    m.flags |= mode::BROKEN_REDIR;
                }
                if self.resp3(sink, id) {
                    let mut msg = Vec::new();
                    enc::push_len(&mut msg, Proto::Resp3, 2);
                    enc::bulk(&mut msg, b"tracking-redir-broken");
                    enc::integer(&mut msg, redirect as i64);
                    self.deliver(sink, id, &msg);
                }
                return;
            }
            dest = redirect;
        }
        let mut msg = Vec::new();
        if self.resp3(sink, dest) {
            enc::push_len(&mut msg, Proto::Resp3, 2);
            enc::bulk(&mut msg, b"invalidate");
        } else if redirect != 0 && sink.clients.outbox(dest).is_some_and(|o| o.is_subscribed()) {
            enc::array_len(&mut msg, 3);
            enc::bulk(&mut msg, b"message");
            enc::bulk(&mut msg, INVALIDATE_CHANNEL);
        } else {
            // RESP2 without a redirect: nowhere to send it.
            return;
        }
        match payload {
            Payload::Key(k) => {
                enc::array_len(&mut msg, 1);
                enc::bulk(&mut msg, k);
            }
            Payload::Raw(r) => msg.extend_from_slice(r),
        }
        self.deliver(sink, dest, &msg);
    }

    fn resp3(&self, sink: &Sink, id: u64) -> bool {
        sink.clients.outbox(id).is_some_and(|o| o.is_resp3())
    }

    /// Hand `msg` to client `id`: into the running client's reply buffer,
    /// or another's outbox (under its output-buffer limit).
    fn deliver(&mut self, sink: &Sink, id: u64, msg: &[u8]) {
        if id == self.current {
            self.to_current.extend_from_slice(msg);
            return;
        }
        if let Some(ob) = sink.clients.outbox(id) {
            let limit = if ob.is_subscribed() {
                sink.pubsub
            } else {
                sink.normal
            };
            if !ob.is_killed() && !ob.push_limited(msg, limit, sink.now) {
                crate::pubsub::log_overflow(id);
            }
        }
    }
}

/// The RESP array of the keys in `keys`, without those changed last by
/// client `skip` (0: none skipped).
fn keys_array(keys: &BTreeMap<Vec<u8>, u64>, skip: u64) -> Vec<u8> {
    let n = keys.values().filter(|&&by| skip == 0 || by != skip).count();
    let mut out = Vec::with_capacity(16 + n * 16);
    enc::array_len(&mut out, n);
    for (k, &by) in keys {
        if skip == 0 || by != skip {
            enc::bulk(&mut out, k);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefixes_overlap_as_redis_says() {
        let mut t = Tracking::default();
        let v = |s: &str| s.as_bytes().to_vec();
        let e = t.prefix_collision(1, &[v("FOOBAR"), v("FOO")]).unwrap();
        assert!(e.starts_with("ERR Prefix 'FOOBAR' overlaps with another provided prefix 'FOO'."));
        t.enable(1, 0, mode::BCAST, &[v("FOO"), v("BAR")]);
        let e = t.prefix_collision(1, &[v("FO")]).unwrap();
        assert!(e.starts_with("ERR Prefix 'FO' overlaps with an existing prefix 'FOO'."));
        assert!(t.prefix_collision(1, &[v("BAZ")]).is_none());
        assert_eq!(t.total_prefixes(), 2);
        t.disable(1);
        assert_eq!(t.total_prefixes(), 0);
        assert!(!t.active());
    }

    #[test]
    fn remembering_counts_items_once() {
        let mut t = Tracking::default();
        t.enable(1, 0, 0, &[]);
        t.enable(2, 0, mode::OPTIN, &[]);
        t.remember(1, [&b"a"[..], b"b", b"a"]);
        t.remember(2, [&b"a"[..]]);
        assert_eq!((t.total_keys(), t.total_items()), (2, 2));
        t.set_caching(2);
        t.remember(2, [&b"a"[..]]);
        assert_eq!((t.total_keys(), t.total_items()), (2, 3));
        t.command_done(2, false, false);
        assert_eq!(t.flags(2), Some(mode::OPTIN));
        let mut ids = Ids::Few(Vec::new());
        for i in 0..40 {
            assert!(ids.insert(i));
        }
        assert!(!ids.insert(7));
        assert_eq!(ids.len(), 40);
    }
}
