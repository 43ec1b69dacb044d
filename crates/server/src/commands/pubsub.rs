//! Pub/Sub commands (Redis's `pubsub.c`): SUBSCRIBE and its kin, PUBLISH,
//! PUBSUB. Delivery itself is the pub/sub subsystem's (`crate::pubsub`),
//! which keyspace notifications use too.

use super::f::*;
use super::{cmd, container, CommandSpec, Ctx, NOKEYS};
use crate::client::Client;
use crate::engine::Engine;
use crate::error::*;

/// Table rows.
pub static COMMANDS: &[CommandSpec] = &[
    cmd(
        "subscribe",
        -2,
        PUBSUB | NOSCRIPT | LOADING | STALE,
        NOKEYS,
        "pubsub",
        "2.0.0",
        "Listen for messages published to the given channels",
        subscribe,
    ),
    cmd(
        "unsubscribe",
        -1,
        PUBSUB | NOSCRIPT | LOADING | STALE,
        NOKEYS,
        "pubsub",
        "2.0.0",
        "Stop listening for messages posted to the given channels",
        unsubscribe,
    ),
    cmd(
        "psubscribe",
        -2,
        PUBSUB | NOSCRIPT | LOADING | STALE,
        NOKEYS,
        "pubsub",
        "2.0.0",
        "Listen for messages published to channels matching the given patterns",
        psubscribe,
    ),
    cmd(
        "punsubscribe",
        -1,
        PUBSUB | NOSCRIPT | LOADING | STALE,
        NOKEYS,
        "pubsub",
        "2.0.0",
        "Stop listening for messages posted to channels matching the given patterns",
        punsubscribe,
    ),
    cmd(
        "publish",
        3,
        PUBSUB | LOADING | STALE | FAST | MAY_REPLICATE,
        NOKEYS,
        "pubsub",
        "2.0.0",
        "Post a message to a channel",
        publish_cmd,
    ),
    cmd(
        "ssubscribe",
        -2,
        PUBSUB | NOSCRIPT | LOADING | STALE,
        NOKEYS,
        "pubsub",
        "7.0.0",
        "Listen for messages published to the given shard channels",
        ssubscribe,
    ),
    cmd(
        "sunsubscribe",
        -1,
        PUBSUB | NOSCRIPT | LOADING | STALE,
        NOKEYS,
        "pubsub",
        "7.0.0",
        "Stop listening for messages posted to the given shard channels",
        sunsubscribe,
    ),
    cmd(
        "spublish",
        3,
        PUBSUB | LOADING | STALE | FAST | MAY_REPLICATE,
        NOKEYS,
        "pubsub",
        "7.0.0",
        "Post a message to a shard channel",
        spublish_cmd,
    ),
    container(
        "pubsub",
        "pubsub",
        "2.8.0",
        "A container for Pub/Sub commands",
        PUBSUB_SUBS,
    ),
];

static PUBSUB_SUBS: &[CommandSpec] = &[
    cmd(
        "channels",
        -2,
        PUBSUB | LOADING | STALE,
        NOKEYS,
        "pubsub",
        "2.8.0",
        "List active channels",
        pubsub_channels,
    ),
    cmd(
        "numsub",
        -2,
        PUBSUB | LOADING | STALE,
        NOKEYS,
        "pubsub",
        "2.8.0",
        "Get the count of subscribers for channels",
        pubsub_numsub,
    ),
    cmd(
        "numpat",
        2,
        PUBSUB | LOADING | STALE,
        NOKEYS,
        "pubsub",
        "2.8.0",
        "Get the count of unique patterns pattern subscriptions",
        pubsub_numpat,
    ),
    cmd(
        "shardchannels",
        -2,
        PUBSUB | LOADING | STALE,
        NOKEYS,
        "pubsub",
        "7.0.0",
        "List active shard channels",
        pubsub_shardchannels,
    ),
    cmd(
        "shardnumsub",
        -2,
        PUBSUB | LOADING | STALE,
        NOKEYS,
        "pubsub",
        "7.0.0",
        "Get the count of subscribers for shard channels",
        pubsub_shardnumsub,
    ),
    cmd(
        "help",
        2,
        LOADING | STALE,
        NOKEYS,
        "pubsub",
        "6.2.0",
        "Show helpful text about the different subcommands",
        pubsub_help,
    ),
];

use crate::pubsub::msg_header;

fn sub_reply(c: &mut Ctx, kind: &[u8], name: Option<&[u8]>) {
    let p = c.proto();
    let start = c.out.len();
    msg_header(c.out, p, 3);
    c.bulk(kind);
    match name {
        Some(n) => c.bulk(n),
        None => c.null(),
    }
    // Shard subscriptions are counted apart from the others, as in Redis.
    let n = if kind == b"ssubscribe" || kind == b"sunsubscribe" {
        c.cl.shard_channels.len()
    } else {
        c.cl.channels.len() + c.cl.patterns.len()
    };
    c.int(n as i64);
    // Confirmations are sent as pushes (Redis's CLIENT_PUSHING), in RESP2
    // too: CLIENT REPLY OFF/SKIP does not silence them.
    if matches!(
        c.cl.reply_mode,
        crate::client::ReplyMode::Off | crate::client::ReplyMode::Skip
    ) {
        c.cl.unmuted.extend_from_slice(&c.out[start..]);
        c.out.truncate(start);
    }
}

fn subscribe(c: &mut Ctx) -> CmdResult {
    if c.cl.in_multi() {
        return Err("ERR Command not allowed inside a transaction".into());
    }
    for ch in c.args[1..].to_vec() {
        if c.cl.channels.insert(ch.to_vec()) {
            c.eng.pubsub_mut().subscribe(&ch, c.cl.id);
        }
        sub_reply(c, b"subscribe", Some(&ch));
    }
    Ok(())
}

fn psubscribe(c: &mut Ctx) -> CmdResult {
    if c.cl.in_multi() {
        return Err("ERR Command not allowed inside a transaction".into());
    }
    for pat in c.args[1..].to_vec() {
        if c.cl.patterns.insert(pat.to_vec()) {
            c.eng.pubsub_mut().psubscribe(&pat, c.cl.id);
        }
        sub_reply(c, b"psubscribe", Some(&pat));
    }
    Ok(())
}

fn unsubscribe_generic(c: &mut Ctx, patterns: bool) {
    let kind: &[u8] = if patterns {
        b"punsubscribe"
    } else {
        b"unsubscribe"
    };
    let names: Vec<Vec<u8>> = if c.args.len() > 1 {
        c.args[1..].iter().map(|a| a.to_vec()).collect()
    } else if patterns {
        c.cl.patterns.iter().cloned().collect()
    } else {
        c.cl.channels.iter().cloned().collect()
    };
    if names.is_empty() {
        sub_reply(c, kind, None);
        return;
    }
    for n in names {
        let id = c.cl.id;
        let removed = if patterns {
            c.cl.patterns.remove(&n)
        } else {
            c.cl.channels.remove(&n)
        };
        if removed && patterns {
            c.eng.pubsub_mut().punsubscribe(&n, id);
        } else if removed {
            c.eng.pubsub_mut().unsubscribe(&n, id);
        }
        sub_reply(c, kind, Some(&n));
    }
}

fn unsubscribe(c: &mut Ctx) -> CmdResult {
    unsubscribe_generic(c, false);
    Ok(())
}

fn punsubscribe(c: &mut Ctx) -> CmdResult {
    unsubscribe_generic(c, true);
    Ok(())
}

fn ssubscribe(c: &mut Ctx) -> CmdResult {
    if c.cl.in_multi() {
        // A transaction wants one reply per command (Redis's
        // CLIENT_DENY_BLOCKING).
        return Err("ERR SSUBSCRIBE isn't allowed for a DENY BLOCKING client".into());
    }
    for ch in c.args[1..].to_vec() {
        if c.cl.shard_channels.insert(ch.to_vec()) {
            c.eng.pubsub_mut().ssubscribe(&ch, c.cl.id);
        }
        sub_reply(c, b"ssubscribe", Some(&ch));
    }
    Ok(())
}

fn sunsubscribe(c: &mut Ctx) -> CmdResult {
    let names: Vec<Vec<u8>> = if c.args.len() > 1 {
        c.args[1..].iter().map(|a| a.to_vec()).collect()
    } else {
        c.cl.shard_channels.iter().cloned().collect()
    };
    if names.is_empty() {
        sub_reply(c, b"sunsubscribe", None);
        return Ok(());
    }
    for n in names {
        if c.cl.shard_channels.remove(&n) {
            let id = c.cl.id;
            c.eng.pubsub_mut().sunsubscribe(&n, id);
        }
        sub_reply(c, b"sunsubscribe", Some(&n));
    }
    Ok(())
}

fn spublish_cmd(c: &mut Ctx) -> CmdResult {
    let (ch, msg) = (c.args[1].clone(), c.args[2].clone());
    let n = c.eng.spublish(&ch, &msg);
    let db = c.cl.db;
    crate::repl::feed::feed(c.eng, db, &[b"SPUBLISH", &ch, &msg]);
    c.int(n as i64);
    Ok(())
}

fn pubsub_shardchannels(c: &mut Ctx) -> CmdResult {
    list_channels(c, true)
}

fn pubsub_shardnumsub(c: &mut Ctx) -> CmdResult {
    numsub(c, true)
}

/// Drop every subscription of a client (RESET, disconnect).
pub fn unsubscribe_all(eng: &mut Engine, cl: &mut Client) {
    for ch in cl.shard_channels.drain() {
        eng.pubsub_mut().sunsubscribe(&ch, cl.id);
    }
    for ch in cl.channels.drain() {
        eng.pubsub_mut().unsubscribe(&ch, cl.id);
    }
    for p in cl.patterns.drain() {
        eng.pubsub_mut().punsubscribe(&p, cl.id);
    }
}

fn publish_cmd(c: &mut Ctx) -> CmdResult {
    let (ch, msg) = (c.args[1].clone(), c.args[2].clone());
    let n = c.eng.publish(&ch, &msg);
    // PUBLISH reaches replicas too, as in Redis.
    let db = c.cl.db;
    crate::repl::feed::feed(c.eng, db, &[b"PUBLISH", &ch, &msg]);
    c.int(n as i64);
    Ok(())
}

fn pubsub_channels(c: &mut Ctx) -> CmdResult {
    list_channels(c, false)
}

fn pubsub_numsub(c: &mut Ctx) -> CmdResult {
    numsub(c, false)
}

/// PUBSUB CHANNELS / SHARDCHANNELS [pattern]: the (shard) channels with
/// subscribers, matching the pattern, sorted.
fn list_channels(c: &mut Ctx, shard: bool) -> CmdResult {
    if c.args.len() > 3 {
        return Err(CmdError::msg(format!(
            "ERR unknown subcommand or wrong number of arguments for '{}'. Try PUBSUB HELP.",
            truncate_for_error(&c.args[1])
        )));
    }
    let pat = c.args.get(2).cloned();
    let ps = c.eng.pubsub();
    let names: Box<dyn Iterator<Item = &[u8]>> = if shard {
        Box::new(ps.shard_names())
    } else {
        Box::new(ps.channel_names())
    };
    let mut chans: Vec<Vec<u8>> = names
        .filter(|ch| {
            pat.as_ref()
                .is_none_or(|p| crate::util::glob::glob_match(p, ch, false))
        })
        .map(<[u8]>::to_vec)
        .collect();
    chans.sort();
    c.array(chans.len());
    for ch in chans {
        c.bulk(&ch);
    }
    Ok(())
}

/// PUBSUB NUMSUB / SHARDNUMSUB channel...: each with its subscriber count,
/// a flat array in RESP3 too, as Redis 7.0.
fn numsub(c: &mut Ctx, shard: bool) -> CmdResult {
    let names = c.args[2..].to_vec();
    c.array(names.len() * 2);
    for n in names {
        let ps = c.eng.pubsub();
        let cnt = if shard {
            ps.shard_subscribers(&n)
        } else {
            ps.subscribers(&n)
        };
        c.bulk(&n);
        c.int(cnt as i64);
    }
    Ok(())
}

fn pubsub_numpat(c: &mut Ctx) -> CmdResult {
    let n = c.eng.pubsub().pattern_count();
    c.int(n as i64);
    Ok(())
}

fn pubsub_help(c: &mut Ctx) -> CmdResult {
    super::keys::help_reply(
        c,
        "PUBSUB",
        &[
            "CHANNELS [<pattern>]",
            "    Return the currently active channels matching a <pattern> (default: '*').",
            "NUMPAT",
            "    Return number of subscriptions to patterns.",
            "NUMSUB [<channel> ...]",
            "    Return the number of subscribers for the specified channels, excluding",
            "    pattern subscriptions(default: no channels).",
            "SHARDCHANNELS [<pattern>]",
            "    Return the currently active shard level channels matching a <pattern> (default: '*').",
            "SHARDNUMSUB [<shardchannel> ...]",
            "    Return the number of subscribers for the specified shard level channel(s)",
        ],
    );
    Ok(())
}
