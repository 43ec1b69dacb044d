//! Server commands: INFO, CONFIG, COMMAND, DEBUG, FLUSHDB/FLUSHALL, DBSIZE,
//! SWAPDB, TIME, LOLWUT, LASTSAVE, SHUTDOWN, MONITOR, MEMORY and ROLE.

use bytes::Bytes;

use super::f::*;
use super::keyspec::ks;
use super::{cmd, container, eq, full_name, parse_int, CommandSpec, Ctx, KeywordKey, NOKEYS};
use crate::client::{flag, Client};
use crate::config::{self, P};
use crate::engine::{Engine, Listeners, ShutdownFlags, ShutdownReq, ShutdownWait};
use crate::error::*;
use crate::keyspace::{Db, Value};

/// Table rows.
pub static COMMANDS: &[CommandSpec] = &[
    cmd(
        "info",
        -1,
        LOADING | STALE,
        NOKEYS,
        "server",
        "1.0.0",
        "Get information and statistics about the server",
        info,
    ),
    container(
        "config",
        "server",
        "2.0.0",
        "A container for server configuration commands",
        CONFIG,
    ),
    CommandSpec {
        handler: command_all,
        arity: -1,
        flags: CONTAINER | LOADING | STALE,
        ..container(
            "command",
            "server",
            "2.8.13",
            "Get array of Redis command details",
            COMMAND,
        )
    },
    container(
        "debug",
        "server",
        "1.0.0",
        "A container for debugging commands",
        DEBUG,
    )
    .opaque(ADMIN | NOSCRIPT | LOADING | STALE),
    cmd(
        "flushdb",
        -1,
        WRITE,
        NOKEYS,
        "server",
        "1.0.0",
        "Remove all keys from the current database",
        flushdb,
    ),
    cmd(
        "flushall",
        -1,
        WRITE,
        NOKEYS,
        "server",
        "1.0.0",
        "Remove all keys from all databases",
        flushall,
    ),
    cmd(
        "dbsize",
        1,
        READONLY | FAST,
        NOKEYS,
        "server",
        "1.0.0",
        "Return the number of keys in the selected database",
        dbsize,
    ),
    cmd(
        "swapdb",
        3,
        WRITE | FAST,
        NOKEYS,
        "server",
        "4.0.0",
        "Swaps two Redis databases",
        swapdb,
    ),
    cmd(
        "time",
        1,
        LOADING | STALE | FAST,
        NOKEYS,
        "server",
        "2.6.0",
        "Return the current server time",
        time,
    ),
    cmd(
        "lolwut",
        -1,
        READONLY | FAST,
        NOKEYS,
        "server",
        "5.0.0",
        "Display some computer art and the Redis version",
        super::lolwut::lolwut,
    ),
    cmd(
        "lastsave",
        1,
        LOADING | STALE | FAST,
        NOKEYS,
        "server",
        "1.0.0",
        "Get the UNIX time stamp of the last successful save to disk",
        lastsave,
    ),
    cmd(
        "shutdown",
        -1,
        ADMIN | NOSCRIPT | LOADING | STALE | NO_MULTI | ALLOW_BUSY,
        NOKEYS,
        "server",
        "1.0.0",
        "Synchronously save the dataset to disk and then shut down the server",
        shutdown,
    ),
    cmd(
        "monitor",
        1,
        ADMIN | NOSCRIPT | LOADING | STALE,
        NOKEYS,
        "server",
        "1.0.0",
        "Listen for all requests received by the server in real time",
        monitor,
    ),
    container(
        "memory",
        "server",
        "4.0.0",
        "A container for memory diagnostics commands",
        MEMORY,
    ),
    container(
        "module",
        "server",
        "4.0.0",
        "A container for module commands",
        MODULE,
    ),
    cmd(
        "role",
        1,
        NOSCRIPT | LOADING | STALE | FAST,
        NOKEYS,
        "server",
        "2.8.12",
        "Return the role of the instance in the context of replication",
        role,
    ),
];

/// MODULE: relica loads no Redis modules (they are C shared objects built
/// against Redis's module API), so none is ever listed and loading one
/// fails as a load failure does in Redis. LOAD, LOADEX and UNLOAD are
/// Redis's PROTECTED commands (`enable-module-command`, checked in
/// dispatch).
static MODULE: &[CommandSpec] = &[
    cmd(
        "help",
        2,
        LOADING | STALE,
        NOKEYS,
        "server",
        "5.0.0",
        "Show helpful text about the different subcommands",
        module_help,
    ),
    cmd(
        "list",
        2,
        ADMIN | NOSCRIPT,
        NOKEYS,
        "server",
        "4.0.0",
        "List all modules loaded by the server",
        module_list,
    ),
    cmd(
        "load",
        -3,
        NO_ASYNC_LOADING | ADMIN | NOSCRIPT,
        NOKEYS,
        "server",
        "4.0.0",
        "Load a module",
        module_load,
    ),
    cmd(
        "loadex",
        -3,
        NO_ASYNC_LOADING | ADMIN | NOSCRIPT,
        NOKEYS,
        "server",
        "7.0.0",
        "Load a module with extended parameters",
        module_load,
    ),
    cmd(
        "unload",
        3,
        NO_ASYNC_LOADING | ADMIN | NOSCRIPT,
        NOKEYS,
        "server",
        "4.0.0",
        "Unload a module",
        module_unload,
    ),
];

fn module_help(c: &mut Ctx) -> CmdResult {
    super::keys::help_reply(
        c,
        "MODULE",
        &[
            "LIST",
            "    Return a list of loaded modules.",
            "LOAD <path> [<arg> ...]",
            "    Load a module library from <path>, passing to it any optional arguments.",
            "LOADEX <path> [[CONFIG NAME VALUE] [CONFIG NAME VALUE]] [ARGS ...]",
            "    Load a module library from <path>, while passing it module configurations and optional arguments.",
            "UNLOAD <name>",
            "    Unload a module.",
        ],
    );
    Ok(())
}

fn module_list(c: &mut Ctx) -> CmdResult {
    c.array(0);
    Ok(())
}

fn module_load(c: &mut Ctx) -> CmdResult {
    tracing::warn!(
        "Module {} failed to load: relica does not load Redis modules",
        String::from_utf8_lossy(&c.args[2])
    );
    Err("ERR Error loading the extension. Please check the server logs.".into())
}

fn module_unload(_c: &mut Ctx) -> CmdResult {
    Err("ERR Error unloading module: no such module with that name".into())
}

static CONFIG: &[CommandSpec] = &[
    cmd(
        "get",
        -3,
        ADMIN | NOSCRIPT | LOADING | STALE,
        NOKEYS,
        "server",
        "2.0.0",
        "Get the values of configuration parameters",
        config_get,
    ),
    cmd(
        "set",
        -4,
        ADMIN | NOSCRIPT | LOADING | STALE,
        NOKEYS,
        "server",
        "2.0.0",
        "Set configuration parameters to the given values",
        config_set,
    ),
    cmd(
        "rewrite",
        2,
        ADMIN | NOSCRIPT | LOADING | STALE,
        NOKEYS,
        "server",
        "2.8.0",
        "Rewrite the configuration file with the in memory configuration",
        config_rewrite,
    ),
    cmd(
        "resetstat",
        2,
        ADMIN | NOSCRIPT | LOADING | STALE,
        NOKEYS,
        "server",
        "2.0.0",
        "Reset the stats returned by INFO",
        config_resetstat,
    ),
    cmd(
        "help",
        2,
        LOADING | STALE,
        NOKEYS,
        "server",
        "5.0.0",
        "Show helpful text about the different subcommands",
        config_help,
    ),
];

static COMMAND: &[CommandSpec] = &[
    cmd(
        "count",
        2,
        LOADING | STALE,
        NOKEYS,
        "server",
        "2.8.13",
        "Get total number of Redis commands",
        command_count,
    ),
    cmd(
        "info",
        -2,
        LOADING | STALE,
        NOKEYS,
        "server",
        "2.8.13",
        "Get array of specific Redis command details, or all when no argument is given.",
        command_info,
    ),
    cmd(
        "docs",
        -2,
        LOADING | STALE,
        NOKEYS,
        "server",
        "7.0.0",
        "Get array of specific Redis command documentation",
        command_docs,
    ),
    cmd(
        "getkeys",
        -4,
        LOADING | STALE,
        NOKEYS,
        "server",
        "2.8.13",
        "Extract keys given a full Redis command",
        command_getkeys,
    ),
    cmd(
        "getkeysandflags",
        -4,
        LOADING | STALE,
        NOKEYS,
        "server",
        "7.0.0",
        "Extract keys and access flags given a full Redis command",
        command_getkeysandflags,
    ),
    cmd(
        "list",
        -2,
        LOADING | STALE,
        NOKEYS,
        "server",
        "7.0.0",
        "Get an array of Redis command names",
        command_list,
    ),
    cmd(
        "help",
        2,
        LOADING | STALE,
        NOKEYS,
        "server",
        "5.0.0",
        "Show helpful text about the different subcommands",
        command_help,
    ),
];

static DEBUG: &[CommandSpec] = &[
    cmd(
        "config-rewrite-force-all",
        2,
        ADMIN | NOSCRIPT | LOADING | STALE,
        NOKEYS,
        "server",
        "7.0.0",
        "Rewrite the config file with every directive, defaults included",
        debug_config_rewrite_force_all,
    ),
    cmd(
        "replicate",
        -3,
        ADMIN | NOSCRIPT | LOADING | STALE,
        NOKEYS,
        "server",
        "1.0.0",
        "Send a command to the replicas without running it here",
        debug_replicate,
    ),
    cmd(
        "error",
        3,
        ADMIN | NOSCRIPT | LOADING | STALE,
        NOKEYS,
        "server",
        "1.0.0",
        "Reply with the given error",
        debug_error,
    ),
    cmd(
        "digest",
        2,
        ADMIN | NOSCRIPT | LOADING | STALE,
        NOKEYS,
        "server",
        "1.0.0",
        "Digest of the whole dataset, as Redis computes it",
        debug_digest,
    ),
    cmd(
        "digest-value",
        -2,
        ADMIN | NOSCRIPT | LOADING | STALE,
        NOKEYS,
        "server",
        "1.0.0",
        "Digests of the given keys' values",
        debug_digest_value,
    ),
    cmd(
        "reload",
        -2,
        ADMIN | NOSCRIPT | LOADING | STALE,
        NOKEYS,
        "server",
        "1.0.0",
        "Save the RDB file, flush the dataset and load the file back",
        debug_reload,
    ),
    cmd(
        "loadaof",
        2,
        ADMIN | NOSCRIPT | LOADING | STALE,
        NOKEYS,
        "server",
        "1.0.0",
        "Flush the AOF buffers on disk and reload the AOF in memory",
        debug_loadaof,
    ),
    cmd(
        "aof-flush-sleep",
        3,
        ADMIN | NOSCRIPT | LOADING | STALE,
        NOKEYS,
        "server",
        "1.0.0",
        "Sleep the given microseconds before each AOF write",
        debug_aof_flush_sleep,
    ),
    cmd(
        "segfault",
        2,
        ADMIN | NOSCRIPT | LOADING | STALE,
        NOKEYS,
        "server",
        "1.0.0",
        "Crash the server with sigsegv",
        debug_segfault,
    ),
    cmd(
        "sleep",
        3,
        ADMIN | NOSCRIPT | LOADING | STALE,
        NOKEYS,
        "server",
        "1.0.0",
        "Stop the server for the given seconds",
        debug_sleep,
    ),
    cmd(
        "pause-cron",
        3,
        ADMIN | NOSCRIPT | LOADING | STALE,
        NOKEYS,
        "server",
        "1.0.0",
        "Stop (1) or resume (0) the server's cron tasks",
        debug_pause_cron,
    ),
    cmd(
        "replybuffer",
        4,
        ADMIN | NOSCRIPT | LOADING | STALE,
        NOKEYS,
        "server",
        "1.0.0",
        "Set the reply buffer's peak reset time or turn its resizing on or off",
        debug_replybuffer,
    ),
    cmd(
        "quicklist-packed-threshold",
        3,
        ADMIN | NOSCRIPT | LOADING | STALE,
        NOKEYS,
        "server",
        "1.0.0",
        "Set the size from which list elements are kept alone in their node",
        debug_quicklist_packed_threshold,
    ),
    cmd(
        "set-disable-deny-scripts",
        3,
        ADMIN | NOSCRIPT | LOADING | STALE,
        NOKEYS,
        "server",
        "1.0.0",
        "Let scripts call commands flagged noscript (1) or not (0)",
        debug_set_disable_deny_scripts,
    ),
    cmd(
        "set-skip-checksum-validation",
        3,
        ADMIN | NOSCRIPT | LOADING | STALE,
        NOKEYS,
        "server",
        "1.0.0",
        "Skip (1) or check (0) the CRC64 of RESTORE payloads",
        debug_set_skip_checksum_validation,
    ),
    cmd(
        "set-active-expire",
        3,
        ADMIN | NOSCRIPT | LOADING | STALE,
        NOKEYS,
        "server",
        "1.0.0",
        "Enable or disable the active expire cycle",
        debug_set_active_expire,
    ),
    cmd(
        "object",
        3,
        ADMIN | NOSCRIPT | LOADING | STALE,
        NOKEYS,
        "server",
        "1.0.0",
        "Show low-level information about a key",
        debug_object,
    ),
    cmd(
        "populate",
        -3,
        ADMIN | NOSCRIPT | LOADING | STALE | WRITE,
        NOKEYS,
        "server",
        "1.0.0",
        "Create keys key:0..N-1 with values value:0..N-1",
        debug_populate,
    ),
    cmd(
        "log",
        3,
        ADMIN | NOSCRIPT | LOADING | STALE,
        NOKEYS,
        "server",
        "1.0.0",
        "Write a line to the server log",
        debug_log,
    ),
    cmd(
        "protocol",
        3,
        ADMIN | NOSCRIPT | LOADING | STALE,
        NOKEYS,
        "server",
        "1.0.0",
        "Reply with a value of a given RESP type",
        debug_protocol,
    ),
    cmd(
        "change-repl-id",
        2,
        ADMIN | NOSCRIPT | LOADING | STALE,
        NOKEYS,
        "server",
        "1.0.0",
        "Change the replication IDs of the instance",
        debug_change_repl_id,
    ),
    cmd(
        "stringmatch-len",
        -3,
        ADMIN | NOSCRIPT | LOADING | STALE,
        NOKEYS,
        "server",
        "1.0.0",
        "Run the glob matcher on a long string",
        debug_stringmatch_len,
    ),
    cmd(
        "help",
        2,
        LOADING | STALE,
        NOKEYS,
        "server",
        "1.0.0",
        "Show helpful text about the different subcommands",
        debug_help,
    ),
];

static MEMORY: &[CommandSpec] = &[
    cmd(
        "usage",
        -3,
        READONLY,
        (2, 2, 1),
        "server",
        "4.0.0",
        "Estimate the memory usage of a key",
        memory_usage,
    ),
    cmd(
        "stats",
        2,
        0,
        NOKEYS,
        "server",
        "4.0.0",
        "Show memory usage details",
        memory_stats,
    ),
    cmd(
        "doctor",
        2,
        0,
        NOKEYS,
        "server",
        "4.0.0",
        "Outputs memory problems report",
        memory_doctor,
    ),
    cmd(
        "malloc-stats",
        2,
        0,
        NOKEYS,
        "server",
        "4.0.0",
        "Show allocator internal stats",
        memory_malloc_stats,
    ),
    cmd(
        "purge",
        2,
        0,
        NOKEYS,
        "server",
        "4.0.0",
        "Ask the allocator to release memory",
        memory_purge,
    ),
    cmd(
        "help",
        2,
        LOADING | STALE,
        NOKEYS,
        "server",
        "4.0.0",
        "Show helpful text about the different subcommands",
        memory_help,
    ),
];

fn info(c: &mut Ctx) -> CmdResult {
    let sections: Vec<String> = c.args[1..]
        .iter()
        .map(|a| String::from_utf8_lossy(a).to_ascii_lowercase())
        .collect();
    let text = crate::info::render(c.eng, c.cl, &sections);
    c.verbatim(text.as_bytes());
    Ok(())
}

// ---- CONFIG ---------------------------------------------------------------

fn config_get(c: &mut Ctx) -> CmdResult {
    let mut pairs: Vec<(&'static str, String)> = Vec::new();
    for pat in &c.args[2..] {
        for (idx, d) in config::TABLE.iter().enumerate() {
            let names = std::iter::once(d.name).chain(d.aliases.iter().copied());
            for name in names {
                let hit = if config::hidden(name) {
                    pat.eq_ignore_ascii_case(name.as_bytes())
                } else {
                    crate::util::glob::glob_match(pat, name.as_bytes(), true)
                };
                if hit && !pairs.iter().any(|(n, _)| *n == name) {
                    pairs.push((name, c.eng.cfg().show(idx)));
                }
            }
        }
    }
    c.map(pairs.len());
    for (n, v) in pairs {
        c.bulk(n.as_bytes());
        c.bulk(v.as_bytes());
    }
    Ok(())
}

fn config_set(c: &mut Ctx) -> CmdResult {
    if c.args.len() % 2 != 0 {
        return Err(CmdError::arity("config|set"));
    }
    // Passwords never reach the slow log, even when the command fails.
    for i in (2..c.args.len()).step_by(2) {
        let name = String::from_utf8_lossy(&c.args[i]).to_string();
        if config::lookup(&name).is_some_and(|(_, d)| config::sensitive(d.name)) {
            c.redact(i + 1);
        }
    }
    // Validate everything first, then apply all or nothing.
    let mut staged: Vec<(usize, config::CVal)> = Vec::new();
    for pair in c.args[2..].chunks(2) {
        let name = String::from_utf8_lossy(&pair[0]).to_string();
        let Some((idx, d)) = config::lookup(&name) else {
            return Err(CmdError::msg(format!(
                "ERR Unknown option or number of arguments for CONFIG SET - '{name}'"
            )));
        };
        if !d.mutable {
            return Err(CmdError::msg(format!("ERR CONFIG SET failed (possibly related to argument '{name}') - can't set immutable config")));
        }
        if config::protected(d.name) && !c.eng.cfg().protected_configs_allowed(c.cl.local) {
            return Err(CmdError::msg(format!("ERR CONFIG SET failed (possibly related to argument '{name}') - can't set protected config")));
        }
        // Directives that must not change under a load (Redis's
        // DENY_LOADING_CONFIG) answer -LOADING, before any other error.
        if (c.eng.persist().loading() || c.eng.persist().async_loading())
            && matches!(d.name, "appendonly" | "repl-diskless-load" | "dir")
        {
            return Err("LOADING Redis is loading the dataset in memory".into());
        }
        if staged.iter().any(|(i, _)| *i == idx) {
            return Err(CmdError::msg(format!("ERR CONFIG SET failed (possibly related to argument '{name}') - duplicate parameter")));
        }
        let v = config::parse_value(d, &[pair[1].to_vec()])
            .and_then(|v| validate_set(c.eng, d.name, &v).map(|_| v))
            .map_err(|e| {
                CmdError::msg(format!(
                    "ERR CONFIG SET failed (possibly related to argument '{name}') - {e}"
                ))
            })?;
        staged.push((idx, v));
    }
    let old = c.eng.cfg().clone();
    for (idx, v) in staged.iter().cloned() {
        c.eng.cfg_mut().set_parsed(idx, v);
    }
    // As Redis, a value set to what it already was is not applied again.
    staged.retain(|(idx, v)| old.get_parsed(*idx) != v);
    for (n, (idx, _)) in staged.iter().enumerate() {
        if let Err(e) = apply_config(c.eng, config::TABLE[*idx].name) {
            tracing::warn!(
                "Failed applying new configuration. Possibly related to new {} setting. Restoring previous settings.",
                config::TABLE[*idx].name
            );
            // Roll back: the old values, applied again where one was.
            *c.eng.cfg_mut() = old;
            for (done, _) in &staged[..n] {
                let _ = apply_config(c.eng, config::TABLE[*done].name);
            }
            return Err(CmdError::msg(format!(
                "ERR CONFIG SET failed (possibly related to argument '{}') - {e}",
                config::TABLE[*idx].name
            )));
        }
    }
    c.ok();
    Ok(())
}

/// Checks that depend on the running server, before anything is applied.
fn validate_set(_eng: &Engine, name: &str, v: &config::CVal) -> Result<(), String> {
    if name == "dir" {
        if let config::CVal::Str(d) = v {
            if !std::path::Path::new(d).is_dir() {
                return Err("No such file or directory".into());
            }
        }
    }
    Ok(())
}

const TLS_UPDATE_FAILED: &str = "Unable to update TLS configuration. Check server logs.";

/// Side effects of a changed directive.
fn apply_config(eng: &mut Engine, name: &str) -> Result<(), String> {
    match name {
        "loglevel" => crate::log::set_level(eng.cfg().log_level()),
        "port" => eng.rebind(Listeners::Tcp)?,
        // Redis's applyBind words its failure this way.
        "bind" => eng
            .rebind(Listeners::Tcp)
            .and_then(|_| eng.rebind(Listeners::Tls))
            .map_err(|_| "Failed to bind to specified addresses.".to_string())?,
        // Redis's applyTLSPort: configure TLS if it was not, then listen.
        "tls-port" => {
            if eng.tls().is_none() && eng.configure_tls().is_err() {
                return Err(TLS_UPDATE_FAILED.into());
            }
            eng.rebind(Listeners::Tls)
                .map_err(|_| "Unable to listen on this port. Check server logs.".to_string())?;
        }
        // tls-auth-clients is read per connection, as in Redis.
        "tls-auth-clients" => {}
        // Redis's applyTlsCfg: every other tls-* directive reloads the
        // certificates and settings when TLS is in use; a failure keeps
        // the contexts in use.
        n if n.starts_with("tls-") => {
            if crate::tls::wanted(eng.cfg()) && eng.configure_tls().is_err() {
                return Err(TLS_UPDATE_FAILED.into());
            }
        }
        "dir" => eng.cfg_mut().enter_dir().map_err(|e| e.to_string())?,
        "repl-backlog-size" => crate::repl::feed::resize_backlog(eng),
        "appendfsync" => crate::persist::aof::fsync_policy_changed(eng),
        "watchdog-period" | "hz" => {
            crate::watchdog::set_period(eng.cfg().int(P::watchdog_period), eng.cfg().int(P::hz));
            eng.config_changed(name);
        }
        "maxmemory" => {
            crate::keyspace::evict::maxmemory_changed(eng);
            eng.evict_clients(None);
        }
        "maxmemory-clients" => {
            eng.evict_clients(None);
        }
        "oom-score-adj" | "oom-score-adj-values" => {
            if !eng.apply_oom_score() {
                return Err("Failed to set current oom_score_adj. Check server logs.".into());
            }
        }
        "appendonly" => {
            if eng.cfg().str(P::appendonly) == "yes" {
                if eng.aof().state() == crate::persist::aof::AofState::Off
                    && crate::persist::aof::start(eng).is_err()
                {
                    return Err("Unable to turn on AOF. Check server logs.".into());
                }
            } else {
                crate::persist::aof::stop(eng);
            }
        }
        _ => eng.config_changed(name),
    }
    Ok(())
}

fn config_rewrite(c: &mut Ctx) -> CmdResult {
    let users = super::acl::config_user_lines(c.eng);
    config::rewrite::rewrite(c.eng.cfg(), &users, false)
        .map_err(|e| CmdError::msg(format!("ERR {e}")))?;
    tracing::info!("CONFIG REWRITE executed with success.");
    c.ok();
    Ok(())
}

fn debug_config_rewrite_force_all(c: &mut Ctx) -> CmdResult {
    config::rewrite::rewrite(c.eng.cfg(), &super::acl::config_user_lines(c.eng), true)
        .map_err(|e| CmdError::msg(format!("ERR CONFIG-REWRITE-FORCE-ALL failed: {e}")))?;
    c.ok();
    Ok(())
}

fn config_resetstat(c: &mut Ctx) -> CmdResult {
    let now = c.eng.now();
    c.eng.stats_mut().reset(now);
    c.eng.evict_state_mut().reset_stats();
    crate::keyspace::lazyfree::reset_freed();
    c.ok();
    Ok(())
}

fn config_help(c: &mut Ctx) -> CmdResult {
    super::keys::help_reply(
        c,
        "CONFIG",
        &[
            "GET <pattern>",
            "    Return parameters matching the glob-like <pattern> and their values.",
            "SET <directive> <value>",
            "    Set the configuration <directive> to <value>.",
            "RESETSTAT",
            "    Reset statistics reported by the INFO command.",
            "REWRITE",
            "    Rewrite the configuration file.",
        ],
    );
    Ok(())
}

// ---- COMMAND --------------------------------------------------------------

fn all_commands() -> Vec<&'static CommandSpec> {
    super::current_commands()
}

fn write_command_info(c: &mut Ctx, parent: Option<&CommandSpec>, s: &CommandSpec) {
    c.array(10);
    c.bulk(full_name(parent, s).as_bytes());
    c.int(s.arity as i64);
    let flags: Vec<&str> = super::f::NAMES
        .iter()
        .filter(|(b, _)| s.flags & b != 0)
        .map(|(_, n)| *n)
        .collect();
    c.set_header(flags.len());
    for n in flags {
        c.simple(n);
    }
    let name = full_name(parent, s);
    let redis_specs = super::keyspec::redis_specs(&name);
    let (first, last, step) = match redis_specs {
        Some(specs) => super::keyspec::legacy_range(specs),
        None => (s.first_key, s.last_key, s.step),
    };
    c.int(first as i64);
    c.int(last as i64);
    c.int(step as i64);
    // ACL categories.
    let bits = super::acl::categories_of(s);
    let cats: Vec<String> = crate::acl::CATEGORIES
        .iter()
        .filter(|(_, f)| bits & f != 0)
        .map(|(n, _)| format!("@{n}"))
        .collect();
    c.set_header(cats.len());
    for cat in cats {
        c.simple(&cat);
    }
    // Tips and key specs: Redis's own (with their flags and notes), or for
    // a command Redis lacks, none and what the table's key positions
    // describe.
    let tips = super::keyspec::redis_docs(&name).map_or(&[][..], |d| d.tips);
    c.set_header(tips.len());
    for t in tips {
        c.bulk(t.as_bytes());
    }
    if let Some(specs) = redis_specs {
        write_redis_key_specs(c, specs);
    } else {
        write_table_key_specs(c, s);
    }
    // Redis answers an empty set for a command with no subcommands.
    if s.visible_subs().is_empty() {
        c.set_header(0);
    } else {
        c.array(s.visible_subs().len());
        for sub in s.visible_subs() {
            write_command_info(c, Some(s), sub);
        }
    }
}

/// Key specs of a command Redis lacks, from the table's key positions.
fn write_table_key_specs(c: &mut Ctx, s: &CommandSpec) {
    c.set_header(usize::from(s.first_key > 0) + usize::from(s.numkeys > 0) + s.keyword_keys.len());
    if s.first_key > 0 {
        let lastkey = if s.last_key < 0 {
            s.last_key
        } else {
            s.last_key - s.first_key
        };
        write_key_spec(
            c,
            BeginSearch::Index(s.first_key),
            "range",
            [("lastkey", lastkey), ("keystep", s.step), ("limit", 0)],
        );
    }
    if s.numkeys > 0 {
        write_key_spec(
            c,
            BeginSearch::Index(s.numkeys),
            "keynum",
            [("keynumidx", 0), ("firstkey", 1), ("keystep", 1)],
        );
    }
    for k in s.keyword_keys {
        write_key_spec(
            c,
            BeginSearch::Keyword(k),
            "range",
            [("lastkey", 0), ("keystep", 1), ("limit", 0)],
        );
    }
}

/// Key specs as Redis's addReplyCommandKeySpecs writes them.
fn write_redis_key_specs(c: &mut Ctx, specs: &[super::keyspec::KeySpec]) {
    use super::keyspec::{Begin, Find};
    c.set_header(specs.len());
    for k in specs {
        c.map(3 + usize::from(!k.notes.is_empty()));
        if !k.notes.is_empty() {
            c.bulk(b"notes");
            c.bulk(k.notes.as_bytes());
        }
        c.bulk(b"flags");
        let names: Vec<&str> = KEY_FLAG_NAMES
            .iter()
            .filter(|(f, _)| k.flags & f != 0)
            .map(|(_, n)| *n)
            .collect();
        c.set_header(names.len());
        for n in names {
            c.simple(n);
        }
        c.bulk(b"begin_search");
        c.map(2);
        c.bulk(b"type");
        match k.begin {
            Begin::Index(pos) => {
                c.bulk(b"index");
                c.bulk(b"spec");
                c.map(1);
                c.bulk(b"index");
                c.int(pos as i64);
            }
            Begin::Keyword(kw, from) => {
                c.bulk(b"keyword");
                c.bulk(b"spec");
                c.map(2);
                c.bulk(b"keyword");
                c.bulk(kw.as_bytes());
                c.bulk(b"startfrom");
                c.int(from as i64);
            }
            Begin::Unknown => {
                c.bulk(b"unknown");
                c.bulk(b"spec");
                c.map(0);
            }
        }
        c.bulk(b"find_keys");
        c.map(2);
        c.bulk(b"type");
        let params = match k.find {
            Find::Range(last, step, limit) => {
                c.bulk(b"range");
                Some([("lastkey", last), ("keystep", step), ("limit", limit)])
            }
            Find::Keynum(idx, first, step) => {
                c.bulk(b"keynum");
                Some([("keynumidx", idx), ("firstkey", first), ("keystep", step)])
            }
            Find::Unknown => {
                c.bulk(b"unknown");
                None
            }
        };
        c.bulk(b"spec");
        match params {
            Some(p) => {
                c.map(3);
                for (name, v) in p {
                    c.bulk(name.as_bytes());
                    c.int(v as i64);
                }
            }
            None => c.map(0),
        }
    }
}

/// Where a key spec starts looking: at an argument, or after a keyword.
enum BeginSearch<'a> {
    Index(i32),
    Keyword(&'a KeywordKey),
}

/// One key spec of COMMAND INFO: found from `begin` by a `range` or
/// `keynum` rule with these parameters.
fn write_key_spec(c: &mut Ctx, begin: BeginSearch, find: &str, params: [(&str, i32); 3]) {
    c.map(3);
    c.bulk(b"flags");
    c.array(0);
    c.bulk(b"begin_search");
    c.map(2);
    c.bulk(b"type");
    match begin {
        BeginSearch::Index(index) => {
            c.bulk(b"index");
            c.bulk(b"spec");
            c.map(1);
            c.bulk(b"index");
            c.int(index as i64);
        }
        BeginSearch::Keyword(k) => {
            c.bulk(b"keyword");
            c.bulk(b"spec");
            c.map(2);
            c.bulk(b"keyword");
            c.bulk(k.keyword.as_bytes());
            c.bulk(b"startfrom");
            c.int(k.from as i64);
        }
    }
    c.bulk(b"find_keys");
    c.map(2);
    c.bulk(b"type");
    c.bulk(find.as_bytes());
    c.bulk(b"spec");
    c.map(params.len());
    for (name, v) in params {
        c.bulk(name.as_bytes());
        c.int(v as i64);
    }
}

fn command_count(c: &mut Ctx) -> CmdResult {
    c.int(all_commands().len() as i64);
    Ok(())
}

fn command_info(c: &mut Ctx) -> CmdResult {
    if c.args.len() == 2 {
        let all = all_commands();
        c.array(all.len());
        for s in all {
            write_command_info(c, None, s);
        }
        return Ok(());
    }
    let names: Vec<Bytes> = c.args[2..].to_vec();
    c.array(names.len());
    for n in names {
        match super::lookup_full_name(&n) {
            Some((p, s)) => write_command_info(c, p, s),
            // Redis's addReplyNull: $-1 in RESP2, _ in RESP3.
            None => c.null(),
        }
    }
    Ok(())
}

/// One command's entry in COMMAND DOCS (Redis's addReplyCommandDocs):
/// its full name, then a map of the fields Redis defines for it, those
/// it leaves NULL left out.
fn write_docs(c: &mut Ctx, parent: Option<&CommandSpec>, s: &CommandSpec) {
    let name = full_name(parent, s);
    c.bulk(name.as_bytes());
    let subs = s.visible_subs();
    let Some(d) = super::keyspec::redis_docs(&name) else {
        // A command Redis lacks: what the table knows.
        c.map(3 + usize::from(!subs.is_empty()));
        c.bulk(b"summary");
        c.bulk(s.summary.as_bytes());
        c.bulk(b"since");
        c.bulk(s.since.as_bytes());
        c.bulk(b"group");
        c.bulk(s.group.as_bytes());
        write_docs_subcommands(c, s);
        return;
    };
    let fields = [
        d.summary.is_some(),
        d.since.is_some(),
        true,
        d.complexity.is_some(),
        d.doc_flags != 0,
        d.deprecated_since.is_some(),
        d.replaced_by.is_some(),
        !d.history.is_empty(),
        !d.args.is_empty(),
        !subs.is_empty(),
    ];
    c.map(fields.iter().filter(|&&f| f).count());
    let text = |c: &mut Ctx, key: &str, v: Option<&str>| {
        if let Some(v) = v {
            c.bulk(key.as_bytes());
            c.bulk(v.as_bytes());
        }
    };
    text(c, "summary", d.summary);
    text(c, "since", d.since);
    text(c, "group", Some(d.group));
    text(c, "complexity", d.complexity);
    if d.doc_flags != 0 {
        c.bulk(b"doc_flags");
        write_flag_names(c, d.doc_flags, super::meta::doc::NAMES);
    }
    text(c, "deprecated_since", d.deprecated_since);
    text(c, "replaced_by", d.replaced_by);
    if !d.history.is_empty() {
        c.bulk(b"history");
        c.set_header(d.history.len());
        for (version, change) in d.history {
            c.array(2);
            c.bulk(version.as_bytes());
            c.bulk(change.as_bytes());
        }
    }
    if !d.args.is_empty() {
        c.bulk(b"arguments");
        write_doc_args(c, d.args);
    }
    write_docs_subcommands(c, s);
}

/// The `subcommands` field of a container's COMMAND DOCS entry.
fn write_docs_subcommands(c: &mut Ctx, s: &CommandSpec) {
    let subs = s.visible_subs();
    if subs.is_empty() {
        return;
    }
    c.bulk(b"subcommands");
    c.map(subs.len());
    for sub in subs {
        write_docs(c, Some(s), sub);
    }
}

/// A set of the names of the flags set in `flags`, as status replies.
fn write_flag_names(c: &mut Ctx, flags: u8, names: &[(u8, &str)]) {
    let set: Vec<&str> = names
        .iter()
        .filter(|(f, _)| flags & f != 0)
        .map(|(_, n)| *n)
        .collect();
    c.set_header(set.len());
    for n in set {
        c.simple(n);
    }
}

/// A command's arguments as Redis's addReplyCommandArgList writes them.
fn write_doc_args(c: &mut Ctx, args: &[super::meta::Arg]) {
    use super::meta::ArgType;
    c.array(args.len());
    for a in args {
        let nested = matches!(a.kind, ArgType::Oneof | ArgType::Block);
        let fields = [
            a.key_spec_index != -1,
            a.token.is_some(),
            a.summary.is_some(),
            a.since.is_some(),
            a.deprecated_since.is_some(),
            a.flags != 0,
            nested,
        ];
        c.map(2 + fields.iter().filter(|&&f| f).count());
        c.bulk(b"name");
        c.bulk(a.name.as_bytes());
        c.bulk(b"type");
        c.bulk(a.kind.name().as_bytes());
        if a.key_spec_index != -1 {
            c.bulk(b"key_spec_index");
            c.int(i64::from(a.key_spec_index));
        }
        for (key, v) in [
            ("token", a.token),
            ("summary", a.summary),
            ("since", a.since),
            ("deprecated_since", a.deprecated_since),
        ] {
            if let Some(v) = v {
                c.bulk(key.as_bytes());
                c.bulk(v.as_bytes());
            }
        }
        if a.flags != 0 {
            c.bulk(b"flags");
            write_flag_names(c, a.flags, super::meta::argf::NAMES);
        }
        if nested {
            c.bulk(b"arguments");
            write_doc_args(c, a.args);
        }
    }
}

fn command_docs(c: &mut Ctx) -> CmdResult {
    let specs: Vec<(Option<&'static CommandSpec>, &'static CommandSpec)> = if c.args.len() == 2 {
        all_commands().into_iter().map(|s| (None, s)).collect()
    } else {
        c.args[2..]
            .iter()
            .filter_map(|n| super::lookup_full_name(n))
            .collect()
    };
    c.map(specs.len());
    for (p, s) in specs {
        write_docs(c, p, s);
    }
    Ok(())
}

/// Keys of a command, from the table's key positions and, for the
/// movablekeys commands, their `numkeys` argument or their own key finder
/// (SORT's); as Redis's COMMAND GETKEYS finds them
/// (`getKeysFromCommandWithSpecs`).
pub fn command_keys(args: &[Bytes]) -> Result<Vec<Bytes>, CmdError> {
    let Some(mut spec) = super::lookup(&args[0]) else {
        return Err("ERR Invalid command specified".into());
    };
    let mut parent = None;
    if spec.flags & CONTAINER != 0 {
        parent = Some(spec);
        spec = args
            .get(1)
            .and_then(|a| super::lookup_sub(spec, a))
            .ok_or(CmdError::fixed("ERR Invalid command specified"))?;
    }
    let argc = args.len() as i32;
    // Shard channels are NOT_KEY key specs: COMMAND INFO shows them,
    // COMMAND GETKEYS does not.
    if (spec.first_key == 0 && spec.numkeys == 0 && spec.key_finder.is_none())
        || spec.flags & super::f::PUBSUB != 0
    {
        return Err("ERR The command has no key arguments".into());
    }
    if (spec.arity > 0 && spec.arity != argc) || argc < -spec.arity {
        return Err("ERR Invalid number of arguments specified for command".into());
    }
    if let Some(finder) = spec.key_finder {
        // Redis reads the key specs when they are complete (XREAD's
        // STREAMS keyword and half of what follows it), and turns to the
        // command's own finder when one is "unknown", taking all the keys
        // from it.
        let name = full_name(parent, spec);
        let pos = super::keyspec::spec_positions(&name, spec, args).unwrap_or_else(|| finder(args));
        if pos.is_empty() {
            return Err("ERR Invalid arguments specified for command".into());
        }
        return Ok(pos.into_iter().map(|i| args[i].clone()).collect());
    }
    let last = if spec.last_key < 0 {
        argc + spec.last_key
    } else {
        spec.last_key
    };
    let mut keys = Vec::new();
    let mut i = spec.first_key;
    while spec.first_key > 0 && i <= last && i < argc {
        keys.push(args[i as usize].clone());
        i += spec.step.max(1);
    }
    if spec.numkeys > 0 {
        let pos = spec.numkeys as usize;
        let after = args.len() - pos - 1; // arguments after numkeys
        let sources = |n: usize| args[pos + 1..pos + 1 + n].iter().cloned();
        // Redis reads the key specs (the fixed keys, then the counted ones)
        // when numkeys is a valid count; failing that, the command's own
        // key finder, which reads numkeys with atoi() and puts a
        // destination key last.
        // Redis's NO_MANDATORY_KEYS commands (scripts, functions) may
        // name no key at all.
        let no_mandatory = spec.flags & super::f::NO_MANDATORY_KEYS != 0;
        match crate::util::num::parse_i64(&args[pos]) {
            Some(0) if no_mandatory => {}
            Some(n) if n >= 1 && n as usize <= after => keys.extend(sources(n as usize)),
            _ => match atoi(&args[pos]) {
                n if n >= 1 && n as usize <= after => {
                    keys = sources(n as usize).chain(keys).collect();
                }
                _ => return Err("ERR Invalid arguments specified for command".into()),
            },
        }
    }
    keys.extend(
        spec.keyword_keys
            .iter()
            .filter_map(|k| k.find(args))
            .cloned(),
    );
    Ok(keys)
}

/// C's atoi(): leading blanks, a sign, then digits up to the first other
/// byte (0 when there are none; saturating instead of overflowing).
fn atoi(s: &[u8]) -> i64 {
    let s = s.trim_ascii_start();
    let (neg, digits) = match s.first() {
        Some(b'-') => (true, &s[1..]),
        Some(b'+') => (false, &s[1..]),
        _ => (false, s),
    };
    let n = digits
        .iter()
        .take_while(|b| b.is_ascii_digit())
        .fold(0i64, |n, b| {
            n.saturating_mul(10).saturating_add((b - b'0') as i64)
        });
    if neg {
        -n
    } else {
        n
    }
}

fn command_getkeys(c: &mut Ctx) -> CmdResult {
    let keys = command_keys(&c.args[2..])?;
    c.array(keys.len());
    for k in keys {
        c.bulk(&k);
    }
    Ok(())
}

/// Key-spec flag names, in Redis's order (addReplyFlagsForKeyArgs).
const KEY_FLAG_NAMES: &[(u32, &str)] = &[
    (ks::RO, "RO"),
    (ks::RW, "RW"),
    (ks::OW, "OW"),
    (ks::RM, "RM"),
    (ks::ACCESS, "access"),
    (ks::UPDATE, "update"),
    (ks::INSERT, "insert"),
    (ks::DELETE, "delete"),
    (ks::NOT_KEY, "not_key"),
    (ks::INCOMPLETE, "incomplete"),
    (ks::VARIABLE_FLAGS, "variable_flags"),
];

/// COMMAND GETKEYSANDFLAGS: the keys COMMAND GETKEYS finds, each with the
/// flags of the key spec (or key finder) that found it.
fn command_getkeysandflags(c: &mut Ctx) -> CmdResult {
    let args = c.args[2..].to_vec();
    let keys = command_keys(&args)?;
    let (parent, spec) = match super::lookup(&args[0]) {
        Some(p) if p.flags & CONTAINER != 0 => (
            Some(p),
            args.get(1)
                .and_then(|a| super::lookup_sub(p, a))
                .unwrap_or(p),
        ),
        Some(s) => (None, s),
        None => return Err("ERR Invalid command specified".into()),
    };
    let name = full_name(parent, spec);
    let found = super::keyspec::keys_with_flags(&name, spec, &args);
    c.array(keys.len());
    for (i, k) in keys.iter().enumerate() {
        // Keys found only by the numkeys commands' fallback (numkeys read
        // with atoi()) carry no flags, as Redis's genericGetKeys leaves them.
        let flags = if found.len() == keys.len() {
            found[i].1
        } else {
            0
        };
        c.array(2);
        c.bulk(k);
        let names: Vec<&str> = KEY_FLAG_NAMES
            .iter()
            .filter(|(f, _)| flags & f != 0)
            .map(|(_, n)| *n)
            .collect();
        c.set_header(names.len());
        for n in names {
            c.simple(n);
        }
    }
    Ok(())
}

fn command_list(c: &mut Ctx) -> CmdResult {
    // Every command, and its subcommands as `container|sub`.
    let mut names: Vec<String> = Vec::new();
    for s in all_commands() {
        names.push(s.name.to_string());
        names.extend(s.visible_subs().iter().map(|sub| full_name(Some(s), sub)));
    }
    if c.args.len() > 2 {
        if c.args.len() != 5 || !eq(&c.args[2], "filterby") {
            return Err(SYNTAX.into());
        }
        let (by, val) = (c.args[3].clone(), c.args[4].clone());
        if eq(&by, "pattern") {
            names.retain(|n| crate::util::glob::glob_match(&val, n.as_bytes(), true));
        } else if eq(&by, "aclcat") {
            let flag = crate::acl::category(&val).unwrap_or(0);
            names.retain(|n| {
                super::lookup_full_name(n.as_bytes())
                    .is_some_and(|(_, s)| super::acl::categories_of(s) & flag != 0)
            });
        } else if eq(&by, "module") {
            names.clear();
        } else {
            return Err(SYNTAX.into());
        }
    }
    c.array(names.len());
    for n in names {
        c.bulk(n.as_bytes());
    }
    Ok(())
}

fn command_help(c: &mut Ctx) -> CmdResult {
    super::keys::help_reply(
        c,
        "COMMAND",
        &[
            "(no subcommand)",
            "    Return details about all Redis commands.",
            "COUNT",
            "    Return the total number of commands in this Redis server.",
            "LIST",
            "    Return a list of all commands in this Redis server.",
            "INFO [<command-name> ...]",
            "    Return details about multiple Redis commands.",
            "    If no command names are given, documentation details for all",
            "    commands are returned.",
            "DOCS [<command-name> ...]",
            "    Return documentation details about multiple Redis commands.",
            "    If no command names are given, documentation details for all",
            "    commands are returned.",
            "GETKEYS <full-command>",
            "    Return the keys from a full Redis command.",
            "GETKEYSANDFLAGS <full-command>",
            "    Return the keys and the access flags from a full Redis command.",
        ],
    );
    Ok(())
}

/// `COMMAND` with no subcommand: the whole table, as COMMAND INFO.
pub fn command_all(c: &mut Ctx) -> CmdResult {
    let all = all_commands();
    c.array(all.len());
    for s in all {
        write_command_info(c, None, s);
    }
    Ok(())
}

// ---- DEBUG ----------------------------------------------------------------

fn debug_sleep(c: &mut Ctx) -> CmdResult {
    let secs = super::parse_float(&c.args[2])?;
    // DEBUG SLEEP exists to stall the server: it holds the engine lock on
    // purpose, as Redis's main thread does.
    if secs > 0.0 {
        std::thread::sleep(std::time::Duration::from_secs_f64(secs.min(3600.0)));
    }
    c.ok();
    Ok(())
}

/// DEBUG LOADAOF: flush the log, empty the dataset, load the log again.
fn debug_loadaof(c: &mut Ctx) -> CmdResult {
    if c.eng.aof().state() != crate::persist::aof::AofState::Off {
        if let Some(w) = c.eng.aof().writer() {
            let _ = w.flush(true);
        }
    }
    if c.eng.persist().saving_rdb() {
        crate::persist::snapshot::cancel_bgsave(c.eng);
    }
    c.eng.keyspace_mut().touch_all_watched(None);
    for db in c.eng.keyspace_mut().dbs_mut() {
        db.clear();
    }
    c.eng.scripting_mut().functions_mut().flush(false);
    if crate::persist::aof::load_manifest_from_disk(c.eng).is_err() {
        std::process::exit(1);
    }
    crate::persist::aof::done::del_history_files(c.eng);
    c.eng.persist_mut().set_loading(true);
    let Some(mut runner) = c.eng.aof_runner().map(|f| f()) else {
        return Err("ERR AOF replay not available".into());
    };
    let eng = &mut *c.eng;
    let st = crate::persist::aof::replay(
        &mut |f: &mut dyn FnMut(&mut crate::engine::Engine)| f(eng),
        runner.as_mut(),
    );
    if !matches!(
        st,
        crate::persist::aof::load::Status::Ok | crate::persist::aof::load::Status::Empty
    ) {
        std::process::exit(1);
    }
    c.eng.persist_mut().set_loading(false);
    c.eng.persist_mut().clear_dirty();
    tracing::warn!("Append Only File loaded by DEBUG LOADAOF");
    c.ok();
    Ok(())
}

fn debug_aof_flush_sleep(c: &mut Ctx) -> CmdResult {
    let us = parse_int(&c.args[2])?.max(0) as u64;
    c.eng.aof_mut().set_flush_sleep(us);
    if let Some(w) = c.eng.aof().writer() {
        w.set_flush_sleep(us);
    }
    c.ok();
    Ok(())
}

fn debug_pause_cron(c: &mut Ctx) -> CmdResult {
    // atoi(), as Redis.
    let on = atoi(&c.args[2]) != 0;
    c.eng.set_cron_paused(on);
    c.ok();
    Ok(())
}

/// DEBUG SEGFAULT: the server crashes with SIGSEGV, logging Redis's crash
/// report (`crate::crash`).
#[allow(unsafe_code)]
fn debug_segfault(_c: &mut Ctx) -> CmdResult {
    // SAFETY: raising a signal in our own process; its handler logs the
    // report and ends the process.
    unsafe {
        libc::raise(libc::SIGSEGV);
    }
    Ok(())
}

/// DEBUG REPLYBUFFER PEAK-RESET-TIME <NEVER|RESET|ms> | RESIZING <0|1>:
/// how often the cron restarts each reply buffer's peak (RESET: Redis's
/// default, 5 s), and whether it resizes reply buffers at all.
fn debug_replybuffer(c: &mut Ctx) -> CmdResult {
    if eq(&c.args[2], "peak-reset-time") {
        let ms = if eq(&c.args[3], "never") {
            -1
        } else if eq(&c.args[3], "reset") {
            crate::clients::REPLY_PEAK_RESET_MS
        } else {
            super::parse_int(&c.args[3])?
        };
        c.eng.clients_mut().set_reply_peak_reset(ms);
    } else if eq(&c.args[2], "resizing") {
        let on = atoi(&c.args[3]) != 0;
        c.eng.clients_mut().set_reply_resizing(on);
    } else {
        return Err(CmdError::unknown_subcommand("debug", &c.args[1]));
    }
    c.ok();
    Ok(())
}

fn debug_quicklist_packed_threshold(c: &mut Ctx) -> CmdResult {
    let sz = std::str::from_utf8(&c.args[2])
        .ok()
        .and_then(config::parse_mem)
        .filter(|n| *n >= 0);
    match sz {
        Some(n) if crate::types::list::set_packed_threshold(n as u64) => {
            c.ok();
            Ok(())
        }
        _ => Err("ERR argument must be a memory value bigger than 1 and smaller than 4gb".into()),
    }
}

/// DEBUG SET-DISABLE-DENY-SCRIPTS (Redis's test hook): atoi() of the
/// argument, as Redis.
fn debug_set_disable_deny_scripts(c: &mut Ctx) -> CmdResult {
    let on = atoi(&c.args[2]) != 0;
    c.eng.scripting_mut().set_deny_disabled(on);
    c.ok();
    Ok(())
}

fn debug_set_skip_checksum_validation(c: &mut Ctx) -> CmdResult {
    let on = atoi(&c.args[2]) != 0;
    c.eng.persist_mut().set_skip_checksum(on);
    c.ok();
    Ok(())
}

fn debug_set_active_expire(c: &mut Ctx) -> CmdResult {
    c.eng
        .keyspace_mut()
        .set_active_expire(parse_int(&c.args[2])? != 0);
    c.ok();
    Ok(())
}

fn debug_object(c: &mut Ctx) -> CmdResult {
    let k = c.args[2].clone();
    let db = c.cl.db;
    let lru_now = c.eng.lru_seconds();
    let Some(e) = c.eng.keyspace().db(db).get(&k) else {
        return Err(NO_SUCH_KEY.into());
    };
    let refcount = match e.value {
        Value::Int(n) if (0..10000).contains(&n) && e.lru & crate::keyspace::UNSHARED_INT == 0 => {
            i32::MAX as i64
        }
        _ => 1,
    };
    let ser = crate::persist::serialized_len(&e.value);
    let extra = match &e.value {
        Value::List(l) => format!(" ql_nodes:{} ql_avg_node:{:.2} ql_listpack_max:{} ql_compressed:0 ql_uncompressed_size:{}", l.len().div_ceil(128).max(1), l.len() as f64 / (l.len().div_ceil(128).max(1)) as f64, c.eng.cfg().int(P::list_max_listpack_size), ser),
        _ => String::new(),
    };
    let lru = e.access_field();
    let idle = if lru_now >= lru {
        lru_now - lru
    } else {
        lru_now + (1 << 24) - lru
    };
    let s = format!(
        "Value at:0x{:x} refcount:{} encoding:{} serializedlength:{} lru:{} lru_seconds_idle:{}{}",
        &e.value as *const Value as usize,
        refcount,
        e.value.encoding(),
        ser,
        lru,
        idle,
        extra
    );
    c.simple(&s);
    Ok(())
}

fn debug_replicate(c: &mut Ctx) -> CmdResult {
    // Into the stream as it is, in the stream's current db (Redis feeds
    // server.slaveseldb): tests use it to make replicas diverge.
    let argv: Vec<&[u8]> = c.args[2..].iter().map(|a| a.as_ref()).collect();
    crate::repl::master::feed_raw(c.eng, &argv);
    c.ok();
    Ok(())
}

fn debug_error(c: &mut Ctx) -> CmdResult {
    let text: String = String::from_utf8_lossy(&c.args[2])
        .chars()
        .map(|ch| if ch == '\r' || ch == '\n' { ' ' } else { ch })
        .collect();
    let mut out = Vec::new();
    resp::encode::error(&mut out, text.as_bytes());
    c.out.extend_from_slice(&out);
    Ok(())
}

fn debug_digest(c: &mut Ctx) -> CmdResult {
    let d = crate::persist::digest::dataset_digest(c.eng.keyspace().dbs());
    c.simple(&crate::persist::digest::hex(&d));
    Ok(())
}

fn debug_digest_value(c: &mut Ctx) -> CmdResult {
    let db = c.cl.db;
    c.array(c.args.len() - 2);
    for i in 2..c.args.len() {
        let mut d = [0u8; 20];
        // No lookup: logically expired keys count, as in Redis.
        if let Some(e) = c.eng.keyspace().db(db).get(&c.args[i]) {
            crate::persist::digest::value_digest(&mut d, e);
        }
        c.simple(&crate::persist::digest::hex(&d));
    }
    Ok(())
}

fn debug_reload(c: &mut Ctx) -> CmdResult {
    let (mut flush, mut save, mut merge) = (true, true, false);
    for a in &c.args[2..] {
        if eq(a, "merge") {
            merge = true;
        } else if eq(a, "noflush") {
            flush = false;
        } else if eq(a, "nosave") {
            save = false;
        } else {
            return Err(
                "ERR DEBUG RELOAD only supports the MERGE, NOFLUSH and NOSAVE options.".into(),
            );
        }
    }
    if save && crate::persist::save_blocking(c.eng).is_err() {
        return Err("ERR".into());
    }
    if flush {
        if c.eng.persist().saving() {
            crate::persist::snapshot::cancel_bgsave(c.eng);
        }
        c.eng.keyspace_mut().touch_all_watched(None);
        c.eng.tracking_invalidate_all();
        for db in c.eng.keyspace_mut().dbs_mut() {
            db.clear();
        }
        // emptyData takes the function libraries too.
        c.eng.scripting_mut().functions_mut().flush(false);
    }
    let path = std::path::Path::new(c.eng.cfg().str(P::dir)).join(c.eng.cfg().str(P::dbfilename));
    let loaded = std::fs::File::open(&path)
        .map_err(|e| crate::persist::load::LoadFailed(e.to_string()))
        .and_then(|f| crate::persist::load::load_into(c.eng, std::io::BufReader::new(f), merge));
    if let Err(e) = loaded {
        tracing::warn!("{}", e.0);
        return Err("ERR Error trying to load the RDB dump, check server logs.".into());
    }
    tracing::info!("DB reloaded by DEBUG RELOAD");
    c.ok();
    Ok(())
}

fn debug_populate(c: &mut Ctx) -> CmdResult {
    let count = parse_int(&c.args[2])?;
    if count < 0 {
        return Err("ERR value is out of range, must be positive".into());
    }
    let prefix = c
        .args
        .get(3)
        .cloned()
        .unwrap_or_else(|| Bytes::from_static(b"key"));
    let size = match c.args.get(4) {
        Some(s) => {
            let n = parse_int(s)?;
            if n < 0 {
                return Err("ERR value is out of range, must be positive".into());
            }
            Some(n as usize)
        }
        None => None,
    };
    if c.args.len() > 5 {
        return Err(SYNTAX.into());
    }
    let db = c.cl.db;
    let lru = c.eng.lru_clock();
    let mut key = Vec::with_capacity(prefix.len() + 21);
    for j in 0..count {
        key.clear();
        key.extend_from_slice(&prefix);
        key.push(b':');
        key.extend_from_slice(itoa::Buffer::new().format(j).as_bytes());
        if c.eng.keyspace().db(db).get(&key).is_some() {
            continue;
        }
        let v = format!("value:{j}");
        let value = match size {
            None => Value::from_bytes(v.as_bytes()),
            Some(n) => {
                let mut buf = vec![0u8; n];
                let m = n.min(v.len());
                buf[..m].copy_from_slice(&v.as_bytes()[..m]);
                Value::from_vec(buf)
            }
        };
        c.eng.keyspace_mut().db_mut(db).insert(&key, value, -1, lru);
    }
    c.ok();
    Ok(())
}

fn debug_log(c: &mut Ctx) -> CmdResult {
    tracing::warn!("DEBUG LOG: {}", String::from_utf8_lossy(&c.args[2]));
    c.ok();
    Ok(())
}

fn debug_protocol(c: &mut Ctx) -> CmdResult {
    let t = String::from_utf8_lossy(&c.args[2]).to_ascii_lowercase();
    let p = c.proto();
    match t.as_str() {
        "string" => c.bulk(b"Hello World"),
        "integer" => c.int(12345),
        "double" => c.double(3.141),
        "bignum" => resp::encode::big_number(c.out, p, b"1234567999999999999999999999999999999"),
        "null" => c.null(),
        "array" => {
            c.array(3);
            for i in 0..3 {
                c.int(i);
            }
        }
        "set" => {
            c.set_header(3);
            for i in 0..3 {
                c.int(i);
            }
        }
        "map" => {
            c.map(3);
            for i in 0..3 {
                c.int(i);
                resp::encode::boolean(c.out, p, i == 1);
            }
        }
        "attrib" => {
            if p == resp::encode::Proto::Resp3 {
                c.out.extend_from_slice(b"|1\r\n");
                c.bulk(b"key-popularity");
                c.array(2);
                c.bulk(b"key:123");
                c.int(90);
            }
            c.bulk(b"Some real reply following the attribute");
        }
        "push" => {
            if p != resp::encode::Proto::Resp3 {
                return Err("ERR RESP2 is not supported by this command".into());
            }
            resp::encode::push_len(c.out, p, 2);
            c.bulk(b"server-cpu-usage");
            c.int(42);
            c.bulk(b"Some real reply following the push reply");
        }
        "true" => resp::encode::boolean(c.out, p, true),
        "false" => resp::encode::boolean(c.out, p, false),
        "verbatim" => c.verbatim(b"This is a verbatim\nstring"),
        _ => return Err("ERR Wrong protocol type name. Please use one of the following: string|integer|double|bignum|null|array|set|map|attrib|push|verbatim|true|false".into()),
    }
    Ok(())
}

fn debug_change_repl_id(c: &mut Ctx) -> CmdResult {
    crate::repl::feed::change_replid(c.eng);
    c.ok();
    Ok(())
}

fn debug_stringmatch_len(c: &mut Ctx) -> CmdResult {
    let pat = c.args[2].clone();
    let s = c.args.get(3).cloned().unwrap_or_default();
    let m = crate::util::glob::glob_match(&pat, &s, false);
    c.int(m as i64);
    Ok(())
}

fn debug_help(c: &mut Ctx) -> CmdResult {
    super::keys::help_reply(
        c,
        "DEBUG",
        &[
            "CHANGE-REPL-ID",
            "    Change the replication IDs of the instance.",
            "LOG <message>",
            "    Write <message> to the server log.",
            "OBJECT <key>",
            "    Show low level info about the <key> and associated value.",
            "POPULATE <count> [<prefix>] [<size>]",
            "    Create <count> string keys named key:<num>.",
            "PROTOCOL <type>",
            "    Reply with a test value of the specified type.",
            "QUICKLIST-PACKED-THRESHOLD <size>",
            "    Sets the threshold for elements to be inserted as plain vs packed nodes",
            "    Default value is 1GB, allows values up to 4GB. Setting to 0 restores to default.",
            "SET-ACTIVE-EXPIRE <0|1>",
            "    Setting it to 0 disables expiring keys in background when they are not accessed.",
            "SET-SKIP-CHECKSUM-VALIDATION <0|1>",
            "    Enables or disables checksum checks for RDB files and RESTORE's payload.",
            "SLEEP <seconds>",
            "    Stop the server for <seconds>. Decimals allowed.",
        ],
    );
    Ok(())
}

// ---- keyspace-wide --------------------------------------------------------

fn flush_mode(c: &Ctx, at: usize) -> CmdResult<bool> {
    match c.args.get(at) {
        None => Ok(false),
        Some(a) if eq(a, "async") => Ok(true),
        Some(a) if eq(a, "sync") => Ok(false),
        Some(_) => Err(SYNTAX.into()),
    }
}

/// Empty a database; the old content is freed on another thread when
/// `lazy` (FLUSHALL ASYNC), so the lock is not held while freeing.
fn empty_db(db: &mut Db, lazy: bool) -> usize {
    let n = db.len();
    let old = db.take();
    if lazy {
        crate::keyspace::lazyfree::free_db(old);
    } else {
        drop(old);
    }
    n
}

fn flushdb(c: &mut Ctx) -> CmdResult {
    if c.args.len() > 2 {
        return Err(SYNTAX.into());
    }
    let lazy = flush_mode(c, 1)? || c.eng.cfg().bool(P::lazyfree_lazy_user_flush);
    let db = c.cl.db;
    c.eng.keyspace_mut().touch_all_watched(Some(db));
    c.eng.tracking_invalidate_all();
    let n = empty_db(c.eng.keyspace_mut().db_mut(db), lazy);
    c.eng.persist_mut().add_dirty(n as u64);
    c.dirty(1);
    c.ok();
    Ok(())
}

fn flushall(c: &mut Ctx) -> CmdResult {
    if c.args.len() > 2 {
        return Err(SYNTAX.into());
    }
    let lazy = flush_mode(c, 1)? || c.eng.cfg().bool(P::lazyfree_lazy_user_flush);
    c.eng.keyspace_mut().touch_all_watched(None);
    c.eng.tracking_invalidate_all();
    let mut n = 0;
    for db in c.eng.keyspace_mut().dbs_mut().iter_mut() {
        n += empty_db(db, lazy);
    }
    c.eng.persist_mut().add_dirty(n as u64);
    crate::persist::after_flushall(c.eng);
    c.ok();
    Ok(())
}

fn dbsize(c: &mut Ctx) -> CmdResult {
    let n = c.db().len();
    c.int(n as i64);
    Ok(())
}

fn swapdb(c: &mut Ctx) -> CmdResult {
    let a = parse_int(&c.args[1]).map_err(|_| CmdError::fixed("ERR invalid first DB index"))?;
    let b = parse_int(&c.args[2]).map_err(|_| CmdError::fixed("ERR invalid second DB index"))?;
    let n = c.eng.keyspace().num_dbs() as i64;
    if a < 0 || a >= n || b < 0 || b >= n {
        return Err(DB_RANGE.into());
    }
    let (a, b) = (a as usize, b as usize);
    if a != b {
        let now = c.now();
        c.eng.keyspace_mut().touch_watched_swapping(a, b, now);
        c.eng.keyspace_mut().dbs_mut().swap(a, b);
        crate::blocking::signal_db_swapped(c.eng, a, b);
    }
    c.dirty(1);
    c.ok();
    Ok(())
}

fn time(c: &mut Ctx) -> CmdResult {
    let us = crate::clock::now_us();
    c.array(2);
    c.bulk((us / 1_000_000).to_string().as_bytes());
    c.bulk((us % 1_000_000).to_string().as_bytes());
    Ok(())
}

fn lastsave(c: &mut Ctx) -> CmdResult {
    let t = c.eng.persist().lastsave();
    c.int(t);
    Ok(())
}

fn shutdown(c: &mut Ctx) -> CmdResult {
    let mut flags = ShutdownFlags::default();
    let mut abort = false;
    for a in &c.args[1..] {
        if eq(a, "nosave") && flags.save != Some(true) {
            flags.save = Some(false);
        } else if eq(a, "save") && flags.save != Some(false) {
            flags.save = Some(true);
        } else if eq(a, "now") {
            flags.now = true;
        } else if eq(a, "force") {
            flags.force = true;
        } else if eq(a, "abort") {
            abort = true;
        } else {
            return Err(SYNTAX.into());
        }
    }
    if abort {
        if flags != ShutdownFlags::default() {
            return Err(SYNTAX.into());
        }
        if !abort_shutdown(c.eng) {
            return Err("ERR No shutdown in progress.".into());
        }
        c.ok();
        return Ok(());
    }
    // A shutdown already waiting for replicas: wait with it.
    let waiting = c.eng.shutdown_wait().is_some_and(|w| w.deadline.is_some());
    if waiting || prepare_shutdown(c.eng, flags) == Shutdown::Waiting {
        let id = c.cl.id;
        if let Some(w) = c.eng.shutdown_wait_mut() {
            w.clients.push(id);
        }
        c.cl.block = Some(crate::client::BlockState {
            args: c.args.clone(),
            keys: Vec::new(),
            deadline: None,
            wait: None,
            done: false,
            reply: crate::client::TimeoutReply::Null,
        });
        return Ok(());
    }
    if c.eng.shutdown_requested().is_none() {
        return Err("ERR Errors trying to SHUTDOWN. Check logs.".into());
    }
    c.cl.flags |= flag::CLOSE_AFTER_REPLY;
    Ok(())
}

/// What [`prepare_shutdown`] did.
#[derive(Debug, PartialEq, Eq)]
pub enum Shutdown {
    /// Ready to exit: the server's loop was asked to.
    Exit,
    /// Waiting for lagging replicas (writes paused).
    Waiting,
    /// Refused (logged); the server goes on.
    Failed,
}

/// Redis's isReadyToShutdown: every replica acknowledged our offset.
fn replicas_in_sync(eng: &Engine) -> bool {
    let off = eng.repl().offset();
    eng.repl().replicas().iter().all(|r| r.ack_offset == off)
}

/// Redis's prepareForShutdown, for SHUTDOWN and the signals: with
/// replicas behind our offset (and neither NOW nor shutdown-timeout 0),
/// pause writes, ask the replicas for their offsets and wait for them
/// (the server's loop calls [`shutdown_tick`]); otherwise finish now.
pub fn prepare_shutdown(eng: &mut Engine, mut flags: ShutdownFlags) -> Shutdown {
    if eng.persist().loading() {
        // Never save a half-loaded dataset.
        flags.save = Some(false);
    }
    tracing::warn!("User requested shutdown...");
    let timeout = eng.cfg().int(P::shutdown_timeout);
    if !flags.now && timeout != 0 && !replicas_in_sync(eng) {
        let now = crate::clock::now_ms();
        if eng.clients().pause().until <= now {
            crate::repl::master::feed_raw(eng, &[b"REPLCONF", b"GETACK", b"*"]);
        }
        eng.clients_mut().pause_writes_indefinitely();
        tracing::info!("Waiting for replicas before shutting down.");
        eng.set_shutdown_wait(Some(ShutdownWait {
            deadline: Some(now + timeout * 1000),
            flags,
            clients: Vec::new(),
        }));
        return Shutdown::Waiting;
    }
    finish_shutdown(eng, flags)
}

/// Called by the server's loop while a shutdown waits (every few ms, not
/// while DEBUG PAUSE-CRON holds the cron, as Redis's serverCron): start a
/// signal's shutdown, or finish one whose replicas caught up or whose
/// shutdown-timeout passed. True when the server must exit.
pub fn shutdown_tick(eng: &mut Engine) -> bool {
    if eng.cron_paused() {
        return false;
    }
    let Some(w) = eng.shutdown_wait().cloned() else {
        return false;
    };
    match w.deadline {
        None => {
            eng.set_shutdown_wait(None);
            prepare_shutdown(eng, w.flags) == Shutdown::Exit
        }
        Some(d) if crate::clock::now_ms() >= d || replicas_in_sync(eng) => {
            finish_shutdown(eng, w.flags) == Shutdown::Exit
        }
        Some(_) => false,
    }
}

/// Redis's finishShutdown up to the exit: the lagging replicas logged, the
/// first AOF rewrite and the final save must succeed (unless FORCE);
/// then the server's loop is asked to exit. A failure cancels the
/// shutdown.
fn finish_shutdown(eng: &mut Engine, flags: ShutdownFlags) -> Shutdown {
    let off = eng.repl().offset();
    let now_s = crate::clock::now_secs();
    let mut lagging = 0;
    for r in eng.repl().replicas() {
        if r.ack_offset != off {
            lagging += 1;
            let lag = if r.state == crate::repl::master::SlaveState::Online {
                now_s - r.ack_time / 1000
            } else {
                0
            };
            tracing::warn!(
                "Lagging replica {} reported offset {} behind master, lag={lag}, state={}.",
                r.name(),
                off - r.ack_offset,
                r.state_name()
            );
        }
    }
    let n = eng.repl().replicas().len();
    if n > 0 {
        tracing::info!(
            "{} of {n} replicas are in sync when shutting down.",
            n - lagging
        );
    }
    if crate::persist::aof::refuse_shutdown(eng, flags.force) {
        cancel_shutdown(eng);
        return Shutdown::Failed;
    }
    if eng.persist().saving() {
        // Its file must not replace the final save's.
        tracing::warn!("There is a child saving an .rdb. Killing it!");
        crate::persist::snapshot::cancel_bgsave(eng);
    }
    let save = flags
        .save
        .unwrap_or_else(|| !crate::config::save_points(eng.cfg().str(P::save)).is_empty());
    if save {
        tracing::info!("Saving the final RDB snapshot before exiting.");
        if crate::persist::save_blocking(eng).is_err() {
            if flags.force {
                tracing::warn!("Error trying to save the DB. Exit anyway.");
            } else {
                tracing::warn!("Error trying to save the DB, can't exit.");
                tracing::warn!(
                    "Errors trying to shut down the server. Check the logs for more information."
                );
                cancel_shutdown(eng);
                return Shutdown::Failed;
            }
        }
    }
    eng.request_shutdown(ShutdownReq { save: Some(false) });
    Shutdown::Exit
}

/// Redis's cancelShutdown: writes resume and the clients blocked in
/// SHUTDOWN get an error.
fn cancel_shutdown(eng: &mut Engine) {
    eng.cancel_shutdown();
    let Some(w) = eng.set_shutdown_wait(None) else {
        return;
    };
    if w.deadline.is_some() {
        eng.clients_mut().unpause();
    }
    for id in w.clients {
        crate::blocking::fail(eng, id, b"ERR Errors trying to SHUTDOWN. Check logs.");
    }
}

/// SHUTDOWN ABORT (Redis's abortShutdown): false when no shutdown is
/// under way or pending.
fn abort_shutdown(eng: &mut Engine) -> bool {
    if eng.shutdown_wait().is_none() && eng.shutdown_requested().is_none() {
        return false;
    }
    cancel_shutdown(eng);
    tracing::info!("Shutdown manually aborted.");
    true
}

fn monitor(c: &mut Ctx) -> CmdResult {
    if c.cl.flags & flag::MONITOR != 0 {
        return Ok(());
    }
    c.cl.flags |= flag::MONITOR;
    c.eng.clients_mut().add_monitor(c.cl.id);
    c.ok();
    Ok(())
}

/// Send a command line to every MONITOR client, in Redis's format:
/// `+1339518083.107412 [0 127.0.0.1:60866] "keys" "*"`.
pub fn feed_monitors(eng: &mut Engine, cl: &Client, args: &[Bytes]) {
    let us = crate::clock::now_us();
    let mut line = format!(
        "+{}.{:06} [{} {}]",
        us / 1_000_000,
        us % 1_000_000,
        cl.db,
        cl.addr
    )
    .into_bytes();
    for a in args {
        line.push(b' ');
        crate::util::repr(&mut line, a);
    }
    line.extend_from_slice(b"\r\n");
    let ids = eng.clients().monitors().to_vec();
    for id in ids {
        if id == cl.id {
            continue;
        }
        if let Some(m) = eng.clients().get(id) {
            m.outbox.push(&line);
        }
    }
}

// ---- MEMORY ---------------------------------------------------------------

fn memory_usage(c: &mut Ctx) -> CmdResult {
    let k = c.args[2].clone();
    // Redis's default sample of 5; SAMPLES 0 means all; the option may
    // repeat (the last one counts).
    let mut samples = 5usize;
    let mut j = 3;
    while j < c.args.len() {
        if eq(&c.args[j], "samples") && j + 1 < c.args.len() {
            let n = parse_int(&c.args[j + 1])?;
            if n < 0 {
                return Err(SYNTAX.into());
            }
            samples = if n == 0 { usize::MAX } else { n as usize };
            j += 2;
        } else {
            return Err(SYNTAX.into());
        }
    }
    // No lookup side effects (Redis reads the dict directly): a logically
    // expired key not yet reclaimed still answers.
    let db = c.cl.db;
    match c.eng.keyspace().db(db).get(&k) {
        None => c.null(),
        Some(e) => {
            let n = crate::info::entry_memory_sampled(e, samples);
            c.int(n as i64);
        }
    }
    Ok(())
}

/// What MEMORY STATS and MEMORY DOCTOR report (Redis's
/// getMemoryOverheadData), with relica's numbers.
struct Overhead {
    peak: usize,
    used: usize,
    startup: usize,
    repl_backlog: u64,
    clients_slaves: u64,
    clients_normal: u64,
    aof_buffer: usize,
    lua_caches: usize,
    functions_caches: usize,
    /// (db, table overhead) of each database with keys.
    dbs: Vec<(usize, usize)>,
    total: u64,
    keys: usize,
    rss: usize,
}

fn memory_overhead(c: &Ctx) -> Overhead {
    let used = crate::alloc::allocated();
    let startup = crate::alloc::startup_allocated();
    let repl = crate::repl::feed::replication_memory(c.eng);
    let clients_normal = crate::info::client_memory(c.eng, c.cl);
    let aof_buffer = if c.eng.aof().feeding() {
        c.eng.aof().writer().map_or(0, |w| w.buffer_len())
    } else {
        0
    };
    let lua_caches = c.eng.scripting().scripts_memory();
    let functions_caches = c.eng.scripting().functions().memory();
    let mut total = startup as u64
        + repl.backlog
        + repl.replicas
        + clients_normal
        + aof_buffer as u64
        + lua_caches as u64
        + functions_caches as u64;
    let mut dbs = Vec::new();
    let mut keys = 0;
    for (i, d) in c.eng.keyspace().dbs().iter().enumerate() {
        if d.is_empty() {
            continue;
        }
        keys += d.len();
        let o = d.table_overhead();
        total += o as u64;
        dbs.push((i, o));
    }
    Overhead {
        peak: crate::alloc::peak().max(used),
        used,
        startup,
        repl_backlog: repl.backlog,
        clients_slaves: repl.replicas,
        clients_normal,
        aof_buffer,
        lua_caches,
        functions_caches,
        dbs,
        total,
        keys,
        rss: crate::info::rss_bytes(),
    }
}

fn memory_stats(c: &mut Ctx) -> CmdResult {
    let o = memory_overhead(c);
    let net = if o.used > o.startup {
        o.used - o.startup
    } else {
        1
    };
    let dataset = o.used as i64 - o.total as i64;
    // The allocator's figures, as INFO memory shows them: what mimalloc
    // holds is counted as allocated, the process's RSS as active and
    // resident.
    let frag = o.rss as f64 / o.used.max(1) as f64;
    c.map(27 + o.dbs.len());
    let int = |c: &mut Ctx, k: &str, v: i64| {
        c.bulk(k.as_bytes());
        c.int(v);
    };
    let dbl = |c: &mut Ctx, k: &str, v: f64| {
        c.bulk(k.as_bytes());
        c.double(v);
    };
    int(c, "peak.allocated", o.peak as i64);
    int(c, "total.allocated", o.used as i64);
    int(c, "startup.allocated", o.startup as i64);
    int(c, "replication.backlog", o.repl_backlog as i64);
    int(c, "clients.slaves", o.clients_slaves as i64);
    int(c, "clients.normal", o.clients_normal as i64);
    int(c, "cluster.links", 0);
    int(c, "aof.buffer", o.aof_buffer as i64);
    int(c, "lua.caches", o.lua_caches as i64);
    int(c, "functions.caches", o.functions_caches as i64);
    for &(db, overhead) in &o.dbs {
        c.bulk(format!("db.{db}").as_bytes());
        c.map(3);
        int(c, "overhead.hashtable.main", overhead as i64);
        // Expiry times live in the entries: there is no second table.
        int(c, "overhead.hashtable.expires", 0);
        int(c, "overhead.hashtable.slot-to-keys", 0);
    }
    int(c, "overhead.total", o.total as i64);
    int(c, "keys.count", o.keys as i64);
    int(
        c,
        "keys.bytes-per-key",
        net.checked_div(o.keys).unwrap_or(0) as i64,
    );
    int(c, "dataset.bytes", dataset);
    dbl(c, "dataset.percentage", dataset as f64 * 100.0 / net as f64);
    dbl(
        c,
        "peak.percentage",
        o.used as f64 * 100.0 / o.peak.max(1) as f64,
    );
    int(c, "allocator.allocated", o.used as i64);
    int(c, "allocator.active", o.rss as i64);
    int(c, "allocator.resident", o.rss as i64);
    dbl(c, "allocator-fragmentation.ratio", 1.0);
    int(c, "allocator-fragmentation.bytes", 0);
    dbl(c, "allocator-rss.ratio", 1.0);
    int(c, "allocator-rss.bytes", 0);
    dbl(c, "rss-overhead.ratio", 1.0);
    int(c, "rss-overhead.bytes", 0);
    dbl(c, "fragmentation", frag);
    int(c, "fragmentation.bytes", o.rss as i64 - o.used as i64);
    Ok(())
}

/// Redis's getMemoryDoctorReport, on relica's numbers.
fn memory_doctor(c: &mut Ctx) -> CmdResult {
    let o = memory_overhead(c);
    let mut empty = false;
    let mut big_peak = false;
    let mut high_frag = false;
    let mut big_slave_buf = false;
    let mut big_client_buf = false;
    let mut many_scripts = false;
    if o.used < 5 * 1024 * 1024 {
        empty = true;
    } else {
        big_peak = o.peak as f64 / o.used as f64 > 1.5;
        high_frag = o.rss as f64 / o.used as f64 > 1.4 && o.rss.saturating_sub(o.used) > 10 << 20;
        let replicas = c.eng.repl().replicas().len();
        let clients = c.eng.clients().connected().saturating_sub(replicas).max(1);
        big_client_buf = o.clients_normal / clients as u64 > 1024 * 200;
        big_slave_buf = replicas > 0 && o.clients_slaves > 1024 * 1024 * 10;
        many_scripts = c.eng.scripting().len() > 1000;
    }
    let reports = [
        empty,
        big_peak,
        high_frag,
        big_slave_buf,
        big_client_buf,
        many_scripts,
    ]
    .iter()
    .filter(|&&b| b)
    .count();
    let s = if reports == 0 {
        "Hi Sam, I can't find any memory issue in your instance. I can only account for what occurs on this base.\n".to_string()
    } else if empty {
        "Hi Sam, this instance is empty or is using very little memory, my issues detector can't be used in these conditions. Please, leave for your mission on Earth and fill it with some data. The new Sam and I will be back to our programming as soon as I finished rebooting.\n".to_string()
    } else {
        let mut s = String::from(
            "Sam, I detected a few issues in this Redis instance memory implants:\n\n",
        );
        if big_peak {
            s.push_str(" * Peak memory: In the past this instance used more than 150% the memory that is currently using. The allocator is normally not able to release memory after a peak, so you can expect to see a big fragmentation ratio, however this is actually harmless and is only due to the memory peak, and if the Redis instance Resident Set Size (RSS) is currently bigger than expected, the memory will be used as soon as you fill the Redis instance with more data. If the memory peak was only occasional and you want to try to reclaim memory, please try the MEMORY PURGE command, otherwise the only other option is to shutdown and restart the instance.\n\n");
        }
        if high_frag {
            s.push_str(" * High total RSS: This instance has a memory fragmentation and RSS overhead greater than 1.4 (this means that the Resident Set Size of the Redis process is much larger than the sum of the logical allocations Redis performed). This problem is usually due either to a large peak memory (check if there is a peak memory entry above in the report) or may result from a workload that causes the allocator to fragment memory a lot. If the problem is a large peak memory, then there is no issue. Otherwise, make sure you are using the Jemalloc allocator and not the default libc malloc. Note: The currently used allocator is \"mimalloc\".\n\n");
        }
        if big_slave_buf {
            s.push_str(" * Big replica buffers: The replica output buffers in this instance are greater than 10MB for each replica (on average). This likely means that there is some replica instance that is struggling receiving data, either because it is too slow or because of networking issues. As a result, data piles on the master output buffers. Please try to identify what replica is not receiving data correctly and why. You can use the INFO output in order to check the replicas delays and the CLIENT LIST command to check the output buffers of each replica.\n\n");
        }
        if big_client_buf {
            s.push_str(" * Big client buffers: The clients output buffers in this instance are greater than 200K per client (on average). This may result from different causes, like Pub/Sub clients subscribed to channels bot not receiving data fast enough, so that data piles on the Redis instance output buffer, or clients sending commands with large replies or very large sequences of commands in the same pipeline. Please use the CLIENT LIST command in order to investigate the issue if it causes problems in your instance, or to understand better why certain clients are using a big amount of memory.\n\n");
        }
        if many_scripts {
            s.push_str(" * Many scripts: There seem to be many cached scripts in this instance (more than 1000). This may be because scripts are generated and `EVAL`ed, instead of being parameterized (with KEYS and ARGV), `SCRIPT LOAD`ed and `EVALSHA`ed. Unless `SCRIPT FLUSH` is called periodically, the scripts' caches may end up consuming most of your memory.\n\n");
        }
        s.push_str("I'm here to keep you safe, Sam. I want to help you.\n");
        s
    };
    c.verbatim(s.as_bytes());
    Ok(())
}

/// The allocator's own report, as Redis prints jemalloc's: here
/// mimalloc's.
fn memory_malloc_stats(c: &mut Ctx) -> CmdResult {
    let s = crate::alloc::stats_report();
    c.verbatim(s.as_bytes());
    Ok(())
}

fn memory_purge(c: &mut Ctx) -> CmdResult {
    crate::alloc::purge();
    c.ok();
    Ok(())
}

fn memory_help(c: &mut Ctx) -> CmdResult {
    super::keys::help_reply(
        c,
        "MEMORY",
        &[
            "DOCTOR",
            "    Return memory problems reports.",
            "MALLOC-STATS",
            "    Return internal statistics report from the memory allocator.",
            "PURGE",
            "    Attempt to purge dirty pages for reclamation by the allocator.",
            "STATS",
            "    Return information about the memory usage of the server.",
            "USAGE <key> [SAMPLES <count>]",
            "    Return memory in bytes used by <key> and its value. Nested values are",
            "    sampled up to <count> times (default: 5, 0 means sample all).",
        ],
    );
    Ok(())
}

/// ROLE: a master's offset and [ip, port, ack offset] per online replica;
/// a replica's master, link state and offset.
fn role(c: &mut Ctx) -> CmdResult {
    use crate::repl::master::SlaveState;
    use crate::repl::replica::LinkState;
    if let Some(l) = c.eng.repl().link() {
        let (host, port, state) = (l.host.clone(), l.port, l.state);
        let off = c.eng.repl().offset();
        c.array(5);
        c.bulk(b"slave");
        c.bulk(host.as_bytes());
        c.int(port as i64);
        c.bulk(state.role_name().as_bytes());
        c.int(if state == LinkState::Connected {
            off
        } else {
            -1
        });
        return Ok(());
    }
    c.array(3);
    c.bulk(b"master");
    let off = c.eng.repl().offset();
    c.int(off);
    let online: Vec<(String, u16, i64)> = c
        .eng
        .repl()
        .replicas()
        .iter()
        .filter(|r| r.state == SlaveState::Online)
        .map(|r| (r.ip.clone(), r.port, r.ack_offset))
        .collect();
    c.array(online.len());
    for (ip, port, ack) in online {
        c.array(3);
        c.bulk(ip.as_bytes());
        c.bulk(port.to_string().as_bytes());
        c.bulk(ack.to_string().as_bytes());
    }
    Ok(())
}
