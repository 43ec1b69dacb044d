//! Pub/sub delivery (Redis's `pubsub.c`, `pubsubPublishMessage`): the
//! subsystem the PUBLISH command and keyspace notifications both publish
//! through, below the command families.
//!
//! Subscribers are found through the engine's channel and pattern maps and
//! receive messages through their outboxes, so delivery never waits on a
//! slow socket; a subscriber whose queue passes `client-output-buffer-limit
//! pubsub` is disconnected rather than allowed to grow.

use resp::encode::{self as enc, Proto};

use crate::engine::Engine;

/// Header of a pub/sub message: a push in RESP3, an array in RESP2.
pub fn msg_header(out: &mut Vec<u8>, p: Proto, n: usize) {
    enc::push_len(out, p, n);
}

/// Deliver a message to subscribers; returns how many received it.
pub fn publish(eng: &mut Engine, channel: &[u8], msg: &[u8]) -> usize {
    if eng.channels.is_empty() && eng.patterns.is_empty() {
        return 0;
    }
    let limit = eng.buf_limits[2];
    let now = eng.now;
    let mut n = 0;
    let mut frame2 = Vec::new();
    let mut frame3 = Vec::new();
    if let Some(ids) = eng.channels.get(channel) {
        for (p, f) in [(Proto::Resp2, &mut frame2), (Proto::Resp3, &mut frame3)] {
            msg_header(f, p, 3);
            enc::bulk(f, b"message");
            enc::bulk(f, channel);
            enc::bulk(f, msg);
        }
        for id in ids {
            if let Some(ob) = eng.outboxes.get(id) {
                let f = if ob.is_resp3() { &frame3 } else { &frame2 };
                if !ob.is_killed() && !ob.push_limited(f, limit, now) {
                    log_overflow(*id);
                }
                n += 1;
            }
        }
    }
    for (pat, ids) in &eng.patterns {
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
            if let Some(ob) = eng.outboxes.get(id) {
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

/// Redis's log line for a client dropped at its output-buffer limit.
pub fn log_overflow(id: u64) {
    tracing::warn!(
        "Client id={id} scheduled to be closed ASAP for overcoming of output buffer limits."
    );
}
