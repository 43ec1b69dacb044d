//! SLOWLOG and LATENCY: the slow log (`crate::slowlog`), the latency
//! monitor (`crate::latency`) and the per-command latency histograms kept
//! with the command statistics (`crate::stats`).

use super::f::*;
use super::{cmd, container, CommandSpec, Ctx, NOKEYS};
use crate::config::P;
use crate::error::*;

/// Table rows.
pub static COMMANDS: &[CommandSpec] = &[
    container(
        "slowlog",
        "server",
        "2.2.12",
        "A container for slow log commands",
        SLOWLOG,
    ),
    container(
        "latency",
        "server",
        "2.8.13",
        "A container for latency diagnostics commands",
        LATENCY,
    ),
];

static SLOWLOG: &[CommandSpec] = &[
    cmd(
        "get",
        -2,
        ADMIN | LOADING | STALE,
        NOKEYS,
        "server",
        "2.2.12",
        "Get the slow log's entries",
        slowlog_get,
    ),
    cmd(
        "len",
        2,
        ADMIN | LOADING | STALE,
        NOKEYS,
        "server",
        "2.2.12",
        "Get the slow log's length",
        slowlog_len,
    ),
    cmd(
        "reset",
        2,
        ADMIN | LOADING | STALE,
        NOKEYS,
        "server",
        "2.2.12",
        "Clear all entries from the slow log",
        slowlog_reset,
    ),
    cmd(
        "help",
        2,
        LOADING | STALE,
        NOKEYS,
        "server",
        "6.2.0",
        "Show helpful text about the different subcommands",
        slowlog_help,
    ),
];

static LATENCY: &[CommandSpec] = &[
    cmd(
        "doctor",
        2,
        ADMIN | NOSCRIPT | LOADING | STALE,
        NOKEYS,
        "server",
        "2.8.13",
        "Return a human readable latency analysis report.",
        latency_doctor,
    ),
    cmd(
        "graph",
        3,
        ADMIN | NOSCRIPT | LOADING | STALE,
        NOKEYS,
        "server",
        "2.8.13",
        "Return a latency graph for the event.",
        latency_graph,
    ),
    cmd(
        "history",
        3,
        ADMIN | NOSCRIPT | LOADING | STALE,
        NOKEYS,
        "server",
        "2.8.13",
        "Return timestamp-latency samples for the event.",
        latency_history,
    ),
    cmd(
        "latest",
        2,
        ADMIN | NOSCRIPT | LOADING | STALE,
        NOKEYS,
        "server",
        "2.8.13",
        "Return the latest latency samples for all events.",
        latency_latest,
    ),
    cmd(
        "reset",
        -2,
        ADMIN | NOSCRIPT | LOADING | STALE,
        NOKEYS,
        "server",
        "2.8.13",
        "Reset latency data for one or more events.",
        latency_reset,
    ),
    cmd(
        "histogram",
        -2,
        ADMIN | NOSCRIPT | LOADING | STALE,
        NOKEYS,
        "server",
        "7.0.0",
        "Return the cumulative distribution of latencies of a subset of commands or all.",
        latency_histogram,
    ),
    cmd(
        "help",
        2,
        LOADING | STALE,
        NOKEYS,
        "server",
        "2.8.13",
        "Show helpful text about the different subcommands.",
        latency_help,
    ),
];

// ---- SLOWLOG --------------------------------------------------------------

fn slowlog_get(c: &mut Ctx) -> CmdResult {
    if c.args.len() > 3 {
        return Err(CmdError::msg(super::subcommand_syntax(c)));
    }
    const RANGE: &str = "ERR count should be greater than or equal to -1";
    let count = match c.args.get(2) {
        None => Some(10),
        Some(a) => match crate::util::num::parse_i64(a) {
            Some(-1) => None,
            Some(n) if n >= 0 => Some(n as usize),
            _ => return Err(RANGE.into()),
        },
    };
    let entries: Vec<crate::slowlog::Entry> = c.eng.slowlog().newest(count).cloned().collect();
    c.array(entries.len());
    for e in entries {
        c.array(6);
        c.int(e.id as i64);
        c.int(e.time);
        c.int(e.duration as i64);
        c.array(e.args.len());
        for a in &e.args {
            c.bulk(a);
        }
        c.bulk(e.peer.as_bytes());
        c.bulk(&e.name);
    }
    Ok(())
}

fn slowlog_len(c: &mut Ctx) -> CmdResult {
    let n = c.eng.slowlog().len();
    c.int(n as i64);
    Ok(())
}

fn slowlog_reset(c: &mut Ctx) -> CmdResult {
    c.eng.slowlog_mut().reset();
    c.ok();
    Ok(())
}

fn slowlog_help(c: &mut Ctx) -> CmdResult {
    super::keys::help_reply(
        c,
        "SLOWLOG",
        &[
            "GET [<count>]",
            "    Return top <count> entries from the slowlog (default: 10, -1 mean all).",
            "    Entries are made of:",
            "    id, timestamp, time in microseconds, arguments array, client IP and port,",
            "    client name",
            "LEN",
            "    Return the length of the slowlog.",
            "RESET",
            "    Reset the slowlog.",
        ],
    );
    Ok(())
}

// ---- LATENCY --------------------------------------------------------------

fn now_s() -> i64 {
    crate::clock::now_ms() / 1000
}

fn latency_doctor(c: &mut Ctx) -> CmdResult {
    let cfg = c.eng.cfg();
    let cx = crate::latency::DoctorCtx {
        threshold: cfg.int(P::latency_monitor_threshold),
        slowlog_slower_than: cfg.int(P::slowlog_log_slower_than),
        hz: cfg.int(P::hz),
        fsync_always: cfg.str(P::appendfsync) == "always",
        now_s: now_s(),
    };
    let report = crate::latency::doctor(c.eng.latency(), &cx);
    c.verbatim(report.as_bytes());
    Ok(())
}

fn latency_graph(c: &mut Ctx) -> CmdResult {
    let Some((event, ts)) = c.eng.latency().series(&c.args[2]) else {
        return Err(CmdError::msg(format!(
            "ERR No samples available for event '{}'",
            String::from_utf8_lossy(&c.args[2])
        )));
    };
    let g = crate::latency::graph(event, ts, now_s());
    c.verbatim(g.as_bytes());
    Ok(())
}

fn latency_history(c: &mut Ctx) -> CmdResult {
    let samples: Vec<crate::latency::Sample> = c
        .eng
        .latency()
        .series(&c.args[2])
        .map(|(_, ts)| ts.samples().collect())
        .unwrap_or_default();
    c.array(samples.len());
    for s in samples {
        c.array(2);
        c.int(s.time);
        c.int(s.latency as i64);
    }
    Ok(())
}

fn latency_latest(c: &mut Ctx) -> CmdResult {
    let rows: Vec<(String, crate::latency::Sample, u64)> = c
        .eng
        .latency()
        .events()
        .map(|(e, ts)| (e.to_string(), ts.last(), ts.max))
        .collect();
    c.array(rows.len());
    for (e, last, max) in rows {
        c.array(4);
        c.bulk(e.as_bytes());
        c.int(last.time);
        c.int(last.latency as i64);
        c.int(max as i64);
    }
    Ok(())
}

fn latency_reset(c: &mut Ctx) -> CmdResult {
    let n = if c.args.len() == 2 {
        c.eng.latency_mut().reset(None)
    } else {
        let events: Vec<bytes::Bytes> = c.args[2..].to_vec();
        events
            .iter()
            .map(|e| c.eng.latency_mut().reset(Some(e)))
            .sum()
    };
    c.int(n as i64);
    Ok(())
}

/// The commands LATENCY HISTOGRAM reports, with their containers: those
/// named (a container stands for its subcommands too; unknown names are
/// skipped), or all.
fn histogram_targets(c: &Ctx) -> Vec<(Option<&'static CommandSpec>, &'static CommandSpec)> {
    let named: Vec<(Option<&'static CommandSpec>, &'static CommandSpec)> = if c.args.len() == 2 {
        super::current_commands()
            .into_iter()
            .map(|s| (None, s))
            .collect()
    } else {
        c.args[2..]
            .iter()
            .filter_map(|n| super::lookup_full_name(n))
            .collect()
    };
    let mut out = Vec::new();
    for (parent, spec) in named {
        out.push((parent, spec));
        out.extend(spec.visible_subs().iter().map(|s| (Some(spec), s)));
    }
    out
}

fn latency_histogram(c: &mut Ctx) -> CmdResult {
    let mut rows: Vec<(String, u64, Vec<(u64, u64)>)> = Vec::new();
    for (parent, spec) in histogram_targets(c) {
        let key = spec as *const CommandSpec as usize;
        let Some(h) = c.eng.stats().command(key).and_then(|st| st.hist.as_ref()) else {
            continue;
        };
        rows.push((
            super::full_name(parent, spec),
            h.len(),
            crate::stats::cdf(h),
        ));
    }
    c.map(rows.len());
    for (name, calls, cdf) in rows {
        c.bulk(name.as_bytes());
        c.map(2);
        c.bulk(b"calls");
        c.int(calls as i64);
        c.bulk(b"histogram_usec");
        c.map(cdf.len());
        for (us, n) in cdf {
            c.int(us as i64);
            c.int(n as i64);
        }
    }
    Ok(())
}

fn latency_help(c: &mut Ctx) -> CmdResult {
    super::keys::help_reply(
        c,
        "LATENCY",
        &[
            "DOCTOR",
            "    Return a human readable latency analysis report.",
            "GRAPH <event>",
            "    Return an ASCII latency graph for the <event> class.",
            "HISTORY <event>",
            "    Return time-latency samples for the <event> class.",
            "LATEST",
            "    Return the latest latency samples for all events.",
            "RESET [<event> ...]",
            "    Reset latency data of one or more <event> classes.",
            "    (default: reset all data for all event classes)",
            "HISTOGRAM [COMMAND ...]",
            "    Return a cumulative distribution of latencies in the format of a histogram for the specified command names.",
            "    If no commands are specified then all histograms are replied.",
        ],
    );
    Ok(())
}
