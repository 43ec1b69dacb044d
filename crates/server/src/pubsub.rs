//! Pub/sub (Redis's `pubsub.c`): the subsystem that owns the channel and
//! pattern subscriptions and the keyspace-event classes, and delivers
//! messages. The PUBLISH command and keyspace notifications both publish
//! through it; the SUBSCRIBE family changes it through its methods.
//!
//! Subscribers receive messages through their outboxes, so delivery never
//! waits on a slow socket; a subscriber whose queue passes
//! `client-output-buffer-limit pubsub` is disconnected rather than allowed
//! to grow. Invariant: a name is in a map only while some client is
//! subscribed to it (so `channel_count`/`pattern_count` are INFO's
//! pubsub_channels/pubsub_patterns).

use std::collections::HashMap;
use std::sync::Arc;

use resp::encode::{self as enc, Proto};

use crate::client::Outbox;
use crate::config::BufLimit;

/// Header of a pub/sub message: a push in RESP3, an array in RESP2.
pub fn msg_header(out: &mut Vec<u8>, p: Proto, n: usize) {
    enc::push_len(out, p, n);
}

/// Channel and pattern subscriptions, and the keyspace-event classes.
#[derive(Default)]
pub struct PubSub {
    /// Channel → subscriber ids, in subscription order.
    channels: HashMap<Vec<u8>, Vec<u64>>,
    /// Pattern → subscriber ids, in subscription order.
    patterns: HashMap<Vec<u8>, Vec<u64>>,
    /// Shard channel → subscriber ids, in subscription order (SSUBSCRIBE;
    /// standalone, so one shard holds them all).
    shard_channels: HashMap<Vec<u8>, Vec<u64>>,
    /// notify-keyspace-events, parsed (read on every write).
    notify_flags: u32,
}

fn add(map: &mut HashMap<Vec<u8>, Vec<u64>>, name: &[u8], id: u64) {
    map.entry(name.to_vec()).or_default().push(id);
}

fn remove(map: &mut HashMap<Vec<u8>, Vec<u64>>, name: &[u8], id: u64) {
    if let Some(ids) = map.get_mut(name) {
        ids.retain(|&x| x != id);
        if ids.is_empty() {
            map.remove(name);
        }
    }
}

impl PubSub {
    /// Subscriptions none; keyspace events as `notify_flags` says.
    pub fn new(notify_flags: u32) -> PubSub {
        PubSub {
            notify_flags,
            ..PubSub::default()
        }
    }

    /// Client `id` subscribed to `channel` (the caller checked it was not).
    pub fn subscribe(&mut self, channel: &[u8], id: u64) {
        add(&mut self.channels, channel, id);
    }

    /// Client `id` subscribed to `pattern` (the caller checked it was not).
    pub fn psubscribe(&mut self, pattern: &[u8], id: u64) {
        add(&mut self.patterns, pattern, id);
    }

    /// Client `id` left `channel`.
    pub fn unsubscribe(&mut self, channel: &[u8], id: u64) {
        remove(&mut self.channels, channel, id);
    }

    /// Client `id` left `pattern`.
    pub fn punsubscribe(&mut self, pattern: &[u8], id: u64) {
        remove(&mut self.patterns, pattern, id);
    }

    /// Client `id` subscribed to shard channel `channel` (the caller
    /// checked it was not).
    pub fn ssubscribe(&mut self, channel: &[u8], id: u64) {
        add(&mut self.shard_channels, channel, id);
    }

    /// Client `id` left shard channel `channel`.
    pub fn sunsubscribe(&mut self, channel: &[u8], id: u64) {
        remove(&mut self.shard_channels, channel, id);
    }

    /// Shard channels with at least one subscriber.
    pub fn shard_channel_names(&self) -> impl Iterator<Item = &[u8]> {
        self.shard_channels.keys().map(Vec::as_slice)
    }

    /// Subscribers of shard channel `channel` (PUBSUB SHARDNUMSUB).
    pub fn shard_subscribers(&self, channel: &[u8]) -> usize {
        self.shard_channels.get(channel).map_or(0, Vec::len)
    }

    /// Shard channels with at least one subscriber (INFO
    /// pubsubshard_channels).
    pub fn shard_channel_count(&self) -> usize {
        self.shard_channels.len()
    }

    /// Deliver a message to the subscribers of shard channel `channel`
    /// (SPUBLISH: no patterns), as `smessage`; returns how many got it.
    pub fn spublish(
        &self,
        outboxes: &HashMap<u64, Arc<Outbox>>,
        limit: BufLimit,
        now: i64,
        channel: &[u8],
        msg: &[u8],
    ) -> usize {
        let Some(ids) = self.shard_channels.get(channel) else {
            return 0;
        };
        let mut frame2 = Vec::new();
        let mut frame3 = Vec::new();
        for (p, f) in [(Proto::Resp2, &mut frame2), (Proto::Resp3, &mut frame3)] {
            msg_header(f, p, 3);
            enc::bulk(f, b"smessage");
            enc::bulk(f, channel);
            enc::bulk(f, msg);
        }
        let mut n = 0;
        for id in ids {
            if let Some(ob) = outboxes.get(id) {
                let f = if ob.is_resp3() { &frame3 } else { &frame2 };
                if !ob.is_killed() && !ob.push_limited(f, limit, now) {
                    log_overflow(*id);
                }
                n += 1;
            }
        }
        n
    }

    /// Channels with at least one subscriber.
    pub fn channel_names(&self) -> impl Iterator<Item = &[u8]> {
        self.channels.keys().map(Vec::as_slice)
    }

    /// Subscribers of `channel` (PUBSUB NUMSUB).
    pub fn subscribers(&self, channel: &[u8]) -> usize {
        self.channels.get(channel).map_or(0, Vec::len)
    }

    /// Channels with at least one subscriber (INFO pubsub_channels).
    pub fn channel_count(&self) -> usize {
        self.channels.len()
    }

    /// Patterns with at least one subscriber (PUBSUB NUMPAT, INFO).
    pub fn pattern_count(&self) -> usize {
        self.patterns.len()
    }

    /// The keyspace-event classes (`config::notify`).
    pub fn notify_flags(&self) -> u32 {
        self.notify_flags
    }

    /// CONFIG SET notify-keyspace-events.
    pub fn set_notify_flags(&mut self, flags: u32) {
        self.notify_flags = flags;
    }

    /// Deliver a message to subscribers, through `outboxes`, dropping
    /// those past `limit`; returns how many received it.
    pub fn publish(
        &self,
        outboxes: &HashMap<u64, Arc<Outbox>>,
        limit: BufLimit,
        now: i64,
        channel: &[u8],
        msg: &[u8],
    ) -> usize {
        if self.channels.is_empty() && self.patterns.is_empty() {
            return 0;
        }
        let mut n = 0;
        let mut frame2 = Vec::new();
        let mut frame3 = Vec::new();
        if let Some(ids) = self.channels.get(channel) {
            for (p, f) in [(Proto::Resp2, &mut frame2), (Proto::Resp3, &mut frame3)] {
                msg_header(f, p, 3);
                enc::bulk(f, b"message");
                enc::bulk(f, channel);
                enc::bulk(f, msg);
            }
            for id in ids {
                if let Some(ob) = outboxes.get(id) {
                    let f = if ob.is_resp3() { &frame3 } else { &frame2 };
                    if !ob.is_killed() && !ob.push_limited(f, limit, now) {
                        log_overflow(*id);
                    }
                    n += 1;
                }
            }
        }
        for (pat, ids) in &self.patterns {
            if !crate::util::glob::glob_match(pat, channel, false) {
                continue;
            }
            let (mut f2, mut f3) = (Vec::new(), Vec::new());
            for (p, f) in [(Proto::Resp2, &mut f2), (Proto::Resp3, &mut f3)] {
                msg_header(f, p, 4);
                enc::bulk(f, b"pmessage");
                enc::bulk(f, pat);
                enc::bulk(f, channel);
                enc::bulk(f, msg);
            }
            for id in ids {
                if let Some(ob) = outboxes.get(id) {
                    let f = if ob.is_resp3() { &f3 } else { &f2 };
                    if !ob.is_killed() && !ob.push_limited(f, limit, now) {
                        log_overflow(*id);
                    }
                    n += 1;
                }
            }
        }
        n
    }
}

/// Redis's log line for a client dropped at its output-buffer limit.
pub fn log_overflow(id: u64) {
    tracing::warn!(
        "Client id={id} scheduled to be closed ASAP for overcoming of output buffer limits."
    );
}
