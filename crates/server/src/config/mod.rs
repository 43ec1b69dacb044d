//! Configuration: one table of directives, as Redis's `config.c`.
//!
//! Each directive has a name (plus Redis's legacy aliases such as `slaveof`),
//! a kind that parses and validates its value, a default and whether `CONFIG
//! SET` may change it. The same table serves redis.conf files, `--name value`
//! command-line arguments, `CONFIG GET/SET` and `CONFIG REWRITE`, so a
//! directive behaves the same whichever way it is set.
//!
//! Values are kept parsed (`CVal`); hot readers use the typed getters with a
//! `P` constant.

mod parse;
pub mod rewrite;

pub use parse::{load, LoadError};

use std::fmt::Write as _;

/// How a directive's value is parsed and shown.
#[derive(Clone, Copy)]
pub enum Kind {
    /// yes/no.
    Bool,
    /// An integer within bounds.
    Int(i64, i64),
    /// A byte size with k/kb/m/mb/g/gb units, within bounds.
    Mem(i64, i64),
    /// Free text.
    Str,
    /// One of a fixed set of words.
    Enum(&'static [&'static str]),
    /// Custom normalizer: takes the words, returns the canonical text.
    Special(fn(&[Vec<u8>]) -> Result<String, String>),
}

/// A parsed value.
#[derive(Clone, Debug, PartialEq)]
pub enum CVal {
    /// Bool.
    Bool(bool),
    /// Int or Mem.
    Int(i64),
    /// Str, Enum, Special (canonical text).
    Str(String),
}

/// One directive.
pub struct Directive {
    /// Canonical name.
    pub name: &'static str,
    /// Legacy names accepted on input.
    pub aliases: &'static [&'static str],
    /// How to parse it.
    pub kind: Kind,
    /// Default value, as config-file text.
    pub default: &'static str,
    /// Whether CONFIG SET may change it.
    pub mutable: bool,
}

macro_rules! directives {
    ($( $id:ident = $name:literal $([$($alias:literal),*])? : $kind:expr, $default:expr, $mutable:expr; )*) => {
        /// Directive ids, in table order.
        #[allow(non_camel_case_types, missing_docs)]
        #[derive(Clone, Copy, Debug, PartialEq, Eq)]
        pub enum P { $($id),* }
        /// The directive table.
        pub static TABLE: &[Directive] = &[ $( Directive {
            name: $name,
            aliases: &[$($($alias),*)?],
            kind: $kind,
            default: $default,
            mutable: $mutable,
        } ),* ];
    };
}

const YES: bool = true;
const NO: bool = false;
const I32: i64 = i32::MAX as i64;
const LL: i64 = i64::MAX;

const MAXMEMORY_POLICIES: &[&str] = &[
    "volatile-lru",
    "volatile-lfu",
    "volatile-random",
    "volatile-ttl",
    "allkeys-lru",
    "allkeys-lfu",
    "allkeys-random",
    "noeviction",
];

directives! {
    // networking
    port = "port": Kind::Int(0, 65535), "6379", YES;
    bind = "bind": Kind::Special(norm_words), "* -::*", YES;
    bind_source_addr = "bind-source-addr": Kind::Str, "", YES;
    protected_mode = "protected-mode": Kind::Bool, "yes", YES;
    unixsocket = "unixsocket": Kind::Str, "", NO;
    unixsocketperm = "unixsocketperm": Kind::Special(norm_octal), "0", NO;
    tcp_backlog = "tcp-backlog": Kind::Int(0, I32), "511", NO;
    timeout = "timeout": Kind::Int(0, I32), "0", YES;
    tcp_keepalive = "tcp-keepalive": Kind::Int(0, I32), "300", YES;
    maxclients = "maxclients": Kind::Int(1, I32), "10000", YES;
    tls_port = "tls-port": Kind::Int(0, 65535), "0", YES;
    tls_cert_file = "tls-cert-file": Kind::Str, "", YES;
    tls_key_file = "tls-key-file": Kind::Str, "", YES;
    tls_key_file_pass = "tls-key-file-pass": Kind::Str, "", YES;
    tls_client_cert_file = "tls-client-cert-file": Kind::Str, "", YES;
    tls_client_key_file = "tls-client-key-file": Kind::Str, "", YES;
    tls_client_key_file_pass = "tls-client-key-file-pass": Kind::Str, "", YES;
    tls_dh_params_file = "tls-dh-params-file": Kind::Str, "", YES;
    tls_ca_cert_file = "tls-ca-cert-file": Kind::Str, "", YES;
    tls_ca_cert_dir = "tls-ca-cert-dir": Kind::Str, "", YES;
    tls_protocols = "tls-protocols": Kind::Str, "", YES;
    tls_ciphers = "tls-ciphers": Kind::Str, "", YES;
    tls_ciphersuites = "tls-ciphersuites": Kind::Str, "", YES;
    tls_auth_clients = "tls-auth-clients": Kind::Enum(&["no", "yes", "optional"]), "yes", YES;
    tls_prefer_server_ciphers = "tls-prefer-server-ciphers": Kind::Bool, "no", YES;
    tls_session_caching = "tls-session-caching": Kind::Bool, "yes", YES;
    tls_session_cache_size = "tls-session-cache-size": Kind::Int(0, I32), "20480", YES;
    tls_session_cache_timeout = "tls-session-cache-timeout": Kind::Int(0, I32), "300", YES;
    tls_cluster = "tls-cluster": Kind::Bool, "no", YES;
    tls_replication = "tls-replication": Kind::Bool, "no", YES;
    socket_mark_id = "socket-mark-id": Kind::Int(0, I32), "0", YES;
    // general
    daemonize = "daemonize": Kind::Bool, "no", NO;
    supervised = "supervised": Kind::Enum(&["upstart", "systemd", "auto", "no"]), "no", NO;
    pidfile = "pidfile": Kind::Str, "", NO;
    loglevel = "loglevel": Kind::Enum(&["debug", "verbose", "notice", "warning"]), "notice", YES;
    logfile = "logfile": Kind::Str, "", NO;
    syslog_enabled = "syslog-enabled": Kind::Bool, "no", NO;
    syslog_ident = "syslog-ident": Kind::Str, "redis", NO;
    syslog_facility = "syslog-facility": Kind::Str, "local0", NO;
    crash_log_enabled = "crash-log-enabled": Kind::Bool, "yes", YES;
    crash_memcheck_enabled = "crash-memcheck-enabled": Kind::Bool, "yes", YES;
    databases = "databases": Kind::Int(1, 1_000_000), "16", NO;
    always_show_logo = "always-show-logo": Kind::Bool, "no", NO;
    set_proc_title = "set-proc-title": Kind::Bool, "yes", NO;
    proc_title_template = "proc-title-template": Kind::Str, "{title} {listen-addr} {server-mode}", YES;
    hz = "hz": Kind::Int(0, I32), "10", YES;
    dynamic_hz = "dynamic-hz": Kind::Bool, "yes", YES;
    enable_debug_command = "enable-debug-command": Kind::Enum(&["no", "yes", "local"]), "no", NO;
    enable_module_command = "enable-module-command": Kind::Enum(&["no", "yes", "local"]), "no", NO;
    enable_protected_configs = "enable-protected-configs": Kind::Enum(&["no", "yes", "local"]), "no", NO;
    requirepass = "requirepass": Kind::Str, "", YES;
    aclfile = "aclfile": Kind::Str, "", NO;
    acl_pubsub_default = "acl-pubsub-default": Kind::Enum(&["allchannels", "resetchannels"]), "resetchannels", YES;
    acllog_max_len = "acllog-max-len": Kind::Int(0, LL), "128", YES;
    proto_max_bulk_len = "proto-max-bulk-len": Kind::Mem(1024 * 1024, LL), "536870912", YES;
    client_query_buffer_limit = "client-query-buffer-limit": Kind::Mem(1024 * 1024, LL), "1073741824", YES;
    client_output_buffer_limit = "client-output-buffer-limit": Kind::Special(norm_cobl), "normal 0 0 0 slave 268435456 67108864 60 pubsub 33554432 8388608 60", YES;
    latency_monitor_threshold = "latency-monitor-threshold": Kind::Int(0, LL), "0", YES;
    latency_tracking = "latency-tracking": Kind::Bool, "yes", YES;
    slowlog_log_slower_than = "slowlog-log-slower-than": Kind::Int(-1, LL), "10000", YES;
    slowlog_max_len = "slowlog-max-len": Kind::Int(0, LL), "128", YES;
    latency_tracking_info_percentiles = "latency-tracking-info-percentiles": Kind::Special(norm_percentiles), "50 99 99.9", YES;
    ignore_warnings = "ignore-warnings": Kind::Str, "", YES;
    use_exit_on_panic = "use-exit-on-panic": Kind::Bool, "no", YES;
    watchdog_period = "watchdog-period": Kind::Int(0, I32), "0", YES;
    notify_keyspace_events = "notify-keyspace-events": Kind::Special(norm_notify), "", YES;
    activerehashing = "activerehashing": Kind::Bool, "yes", YES;
    active_expire_effort = "active-expire-effort": Kind::Int(1, 10), "1", YES;
    lazyfree_lazy_eviction = "lazyfree-lazy-eviction": Kind::Bool, "no", YES;
    lazyfree_lazy_expire = "lazyfree-lazy-expire": Kind::Bool, "no", YES;
    lazyfree_lazy_server_del = "lazyfree-lazy-server-del": Kind::Bool, "no", YES;
    lazyfree_lazy_user_del = "lazyfree-lazy-user-del": Kind::Bool, "no", YES;
    lazyfree_lazy_user_flush = "lazyfree-lazy-user-flush": Kind::Bool, "no", YES;
    io_threads = "io-threads": Kind::Int(1, 128), "1", NO;
    io_threads_do_reads = "io-threads-do-reads": Kind::Bool, "no", NO;
    oom_score_adj = "oom-score-adj": Kind::Enum(&["no", "yes", "relative", "absolute"]), "no", YES;
    oom_score_adj_values = "oom-score-adj-values": Kind::Special(norm_oom_values), "0 200 800", YES;
    disable_thp = "disable-thp": Kind::Bool, "yes", NO;
    jemalloc_bg_thread = "jemalloc-bg-thread": Kind::Bool, "yes", YES;
    activedefrag = "activedefrag": Kind::Bool, "no", YES;
    active_defrag_cycle_min = "active-defrag-cycle-min": Kind::Int(1, 99), "1", YES;
    active_defrag_cycle_max = "active-defrag-cycle-max": Kind::Int(1, 99), "25", YES;
    active_defrag_threshold_lower = "active-defrag-threshold-lower": Kind::Int(0, 1000), "10", YES;
    active_defrag_threshold_upper = "active-defrag-threshold-upper": Kind::Int(0, 1000), "100", YES;
    active_defrag_ignore_bytes = "active-defrag-ignore-bytes": Kind::Mem(1, LL), "104857600", YES;
    active_defrag_max_scan_fields = "active-defrag-max-scan-fields": Kind::Int(1, LL), "1000", YES;
    lua_time_limit = "lua-time-limit" ["busy-reply-threshold"]: Kind::Int(0, LL), "5000", YES;
    cluster_enabled = "cluster-enabled": Kind::Bool, "no", NO;
    cluster_config_file = "cluster-config-file": Kind::Str, "nodes.conf", NO;
    cluster_port = "cluster-port": Kind::Int(0, 65535), "0", NO;
    cluster_node_timeout = "cluster-node-timeout": Kind::Int(0, LL), "15000", YES;
    cluster_migration_barrier = "cluster-migration-barrier": Kind::Int(0, I32), "1", YES;
    cluster_replica_validity_factor = "cluster-replica-validity-factor" ["cluster-slave-validity-factor"]: Kind::Int(0, I32), "10", YES;
    cluster_require_full_coverage = "cluster-require-full-coverage": Kind::Bool, "yes", YES;
    cluster_replica_no_failover = "cluster-replica-no-failover" ["cluster-slave-no-failover"]: Kind::Bool, "no", YES;
    cluster_allow_reads_when_down = "cluster-allow-reads-when-down": Kind::Bool, "no", YES;
    cluster_allow_pubsubshard_when_down = "cluster-allow-pubsubshard-when-down": Kind::Bool, "yes", YES;
    cluster_allow_replica_migration = "cluster-allow-replica-migration": Kind::Bool, "yes", YES;
    cluster_announce_ip = "cluster-announce-ip": Kind::Str, "", YES;
    cluster_announce_hostname = "cluster-announce-hostname": Kind::Str, "", YES;
    cluster_announce_port = "cluster-announce-port": Kind::Int(0, 65535), "0", YES;
    cluster_announce_bus_port = "cluster-announce-bus-port": Kind::Int(0, 65535), "0", YES;
    cluster_announce_tls_port = "cluster-announce-tls-port": Kind::Int(0, 65535), "0", YES;
    cluster_preferred_endpoint_type = "cluster-preferred-endpoint-type": Kind::Enum(&["ip", "hostname", "unknown-endpoint"]), "ip", YES;
    cluster_link_sendbuf_limit = "cluster-link-sendbuf-limit": Kind::Mem(0, LL), "0", YES;
    tracking_table_max_keys = "tracking-table-max-keys": Kind::Int(0, LL), "1000000", YES;
    propagation_error_behavior = "propagation-error-behavior": Kind::Enum(&["ignore", "panic", "panic-on-replicas"]), "ignore", YES;
    shutdown_on_sigterm = "shutdown-on-sigterm": Kind::Special(norm_shutdown_sig), "default", YES;
    shutdown_on_sigint = "shutdown-on-sigint": Kind::Special(norm_shutdown_sig), "default", YES;
    shutdown_timeout = "shutdown-timeout": Kind::Int(0, I32), "10", YES;
    // memory
    maxmemory = "maxmemory": Kind::Mem(0, LL), "0", YES;
    maxmemory_policy = "maxmemory-policy": Kind::Enum(MAXMEMORY_POLICIES), "noeviction", YES;
    maxmemory_samples = "maxmemory-samples": Kind::Int(1, I32), "5", YES;
    maxmemory_eviction_tenacity = "maxmemory-eviction-tenacity": Kind::Int(0, 100), "10", YES;
    lfu_log_factor = "lfu-log-factor": Kind::Int(0, I32), "10", YES;
    lfu_decay_time = "lfu-decay-time": Kind::Int(0, I32), "1", YES;
    maxmemory_clients = "maxmemory-clients": Kind::Special(norm_mem_or_percent), "0", YES;
    // encodings
    hash_max_listpack_entries = "hash-max-listpack-entries" ["hash-max-ziplist-entries"]: Kind::Int(0, LL), "128", YES;
    hash_max_listpack_value = "hash-max-listpack-value" ["hash-max-ziplist-value"]: Kind::Int(0, LL), "64", YES;
    list_max_listpack_size = "list-max-listpack-size" ["list-max-ziplist-size"]: Kind::Int(i32::MIN as i64, I32), "-2", YES;
    list_compress_depth = "list-compress-depth": Kind::Int(0, I32), "0", YES;
    set_max_intset_entries = "set-max-intset-entries": Kind::Int(0, LL), "512", YES;
    zset_max_listpack_entries = "zset-max-listpack-entries" ["zset-max-ziplist-entries"]: Kind::Int(0, LL), "128", YES;
    zset_max_listpack_value = "zset-max-listpack-value" ["zset-max-ziplist-value"]: Kind::Int(0, LL), "64", YES;
    hll_sparse_max_bytes = "hll-sparse-max-bytes": Kind::Mem(0, LL), "3000", YES;
    stream_node_max_bytes = "stream-node-max-bytes": Kind::Mem(0, LL), "4096", YES;
    stream_node_max_entries = "stream-node-max-entries": Kind::Int(0, LL), "100", YES;
    // persistence
    save = "save": Kind::Special(norm_save), "3600 1 300 100 60 10000", YES;
    stop_writes_on_bgsave_error = "stop-writes-on-bgsave-error": Kind::Bool, "yes", YES;
    rdbcompression = "rdbcompression": Kind::Bool, "yes", YES;
    rdbchecksum = "rdbchecksum": Kind::Bool, "yes", YES;
    sanitize_dump_payload = "sanitize-dump-payload": Kind::Enum(&["no", "yes", "clients"]), "no", YES;
    dbfilename = "dbfilename": Kind::Special(norm_filename), "dump.rdb", YES;
    dir = "dir": Kind::Str, "./", YES;
    rdb_del_sync_files = "rdb-del-sync-files": Kind::Bool, "no", YES;
    rdb_key_save_delay = "rdb-key-save-delay": Kind::Int(i32::MIN as i64, I32), "0", YES;
    key_load_delay = "key-load-delay": Kind::Int(i32::MIN as i64, I32), "0", YES;
    loading_process_events_interval_bytes = "loading-process-events-interval-bytes": Kind::Int(1024, I32), "2097152", YES;
    appendonly = "appendonly": Kind::Special(norm_appendonly), "no", YES;
    appendfilename = "appendfilename": Kind::Special(norm_aof_filename), "appendonly.aof", NO;
    appenddirname = "appenddirname": Kind::Special(norm_aof_dirname), "appendonlydir", NO;
    appendfsync = "appendfsync": Kind::Enum(&["always", "everysec", "no"]), "everysec", YES;
    no_appendfsync_on_rewrite = "no-appendfsync-on-rewrite": Kind::Bool, "no", YES;
    auto_aof_rewrite_percentage = "auto-aof-rewrite-percentage": Kind::Int(0, I32), "100", YES;
    auto_aof_rewrite_min_size = "auto-aof-rewrite-min-size": Kind::Mem(0, LL), "67108864", YES;
    aof_load_truncated = "aof-load-truncated": Kind::Bool, "yes", YES;
    aof_use_rdb_preamble = "aof-use-rdb-preamble": Kind::Bool, "yes", YES;
    aof_timestamp_enabled = "aof-timestamp-enabled": Kind::Bool, "no", YES;
    aof_rewrite_incremental_fsync = "aof-rewrite-incremental-fsync": Kind::Bool, "yes", YES;
    aof_disable_auto_gc = "aof-disable-auto-gc": Kind::Bool, "no", YES;
    rdb_save_incremental_fsync = "rdb-save-incremental-fsync": Kind::Bool, "yes", YES;
    // replication
    replicaof = "replicaof" ["slaveof"]: Kind::Special(norm_replicaof), "", NO;
    masterauth = "masterauth": Kind::Str, "", YES;
    masteruser = "masteruser": Kind::Str, "", YES;
    replica_serve_stale_data = "replica-serve-stale-data" ["slave-serve-stale-data"]: Kind::Bool, "yes", YES;
    replica_read_only = "replica-read-only" ["slave-read-only"]: Kind::Bool, "yes", YES;
    repl_diskless_sync = "repl-diskless-sync": Kind::Bool, "yes", YES;
    repl_diskless_sync_delay = "repl-diskless-sync-delay": Kind::Int(0, I32), "5", YES;
    repl_diskless_sync_max_replicas = "repl-diskless-sync-max-replicas": Kind::Int(0, I32), "0", YES;
    repl_diskless_load = "repl-diskless-load": Kind::Enum(&["disabled", "on-empty-db", "swapdb"]), "disabled", YES;
    repl_ping_replica_period = "repl-ping-replica-period" ["repl-ping-slave-period"]: Kind::Int(1, I32), "10", YES;
    repl_timeout = "repl-timeout": Kind::Int(1, I32), "60", YES;
    repl_disable_tcp_nodelay = "repl-disable-tcp-nodelay": Kind::Bool, "no", YES;
    repl_backlog_size = "repl-backlog-size": Kind::Mem(1, LL), "1048576", YES;
    repl_backlog_ttl = "repl-backlog-ttl": Kind::Int(0, I32), "3600", YES;
    replica_priority = "replica-priority" ["slave-priority"]: Kind::Int(0, I32), "100", YES;
    replica_announced = "replica-announced": Kind::Bool, "yes", YES;
    replica_announce_ip = "replica-announce-ip" ["slave-announce-ip"]: Kind::Str, "", YES;
    replica_announce_port = "replica-announce-port" ["slave-announce-port"]: Kind::Int(0, 65535), "0", YES;
    replica_lazy_flush = "replica-lazy-flush" ["slave-lazy-flush"]: Kind::Bool, "no", YES;
    replica_ignore_disk_write_errors = "replica-ignore-disk-write-errors": Kind::Bool, "no", YES;
    replica_ignore_maxmemory = "replica-ignore-maxmemory" ["slave-ignore-maxmemory"]: Kind::Bool, "yes", YES;
    min_replicas_to_write = "min-replicas-to-write" ["min-slaves-to-write"]: Kind::Int(0, I32), "0", YES;
    min_replicas_max_lag = "min-replicas-max-lag" ["min-slaves-max-lag"]: Kind::Int(0, I32), "10", YES;
}

fn words(args: &[Vec<u8>]) -> Vec<String> {
    args.iter()
        .flat_map(|a| {
            String::from_utf8_lossy(a)
                .split_whitespace()
                .map(str::to_string)
                .collect::<Vec<_>>()
        })
        .collect()
}

fn norm_words(args: &[Vec<u8>]) -> Result<String, String> {
    Ok(words(args).join(" "))
}

/// oom-score-adj-values: three scores in -2000..=2000.
fn norm_oom_values(args: &[Vec<u8>]) -> Result<String, String> {
    crate::util::oom::parse_values(&words(args))
}

/// maxmemory-clients: bytes (with units) or a percentage of maxmemory
/// (`10%`, at most 100%), shown as Redis shows it.
fn norm_mem_or_percent(args: &[Vec<u8>]) -> Result<String, String> {
    let [a] = args else {
        return Err("wrong number of arguments".into());
    };
    let v = String::from_utf8_lossy(a);
    if let Some(n) = parse_mem(&v) {
        return Ok(n.to_string());
    }
    if let Some(p) = v
        .strip_suffix('%')
        .filter(|p| !p.is_empty())
        .and_then(|p| crate::util::num::parse_i64(p.as_bytes()))
        .filter(|p| *p >= 0)
    {
        if p > 100 {
            return Err("percentage argument must be less or equal to 100".into());
        }
        return Ok(format!("{p}%"));
    }
    Err("argument must be a memory or percent value".into())
}

/// shutdown-on-sigterm / -sigint: flags among save, nosave, now, force
/// (or default), shown in that order as Redis shows its bit flags.
fn norm_shutdown_sig(args: &[Vec<u8>]) -> Result<String, String> {
    const NAMES: [&str; 4] = ["save", "nosave", "now", "force"];
    let w = words(args);
    if w.is_empty() {
        return Err(
            "argument(s) must be one of the following: default, save, nosave, now, force".into(),
        );
    }
    let mut bits = 0u8;
    for word in &w {
        if word.eq_ignore_ascii_case("default") {
            continue;
        }
        let Some(i) = NAMES.iter().position(|n| word.eq_ignore_ascii_case(n)) else {
            return Err(
                "argument(s) must be one of the following: default, save, nosave, now, force"
                    .into(),
            );
        };
        bits |= 1 << i;
    }
    if bits & 0b11 == 0b11 {
        return Err("shutdown options SAVE and NOSAVE can't be used simultaneously".into());
    }
    if bits == 0 {
        return Ok("default".into());
    }
    let shown: Vec<&str> = (0..4)
        .filter(|i| bits & (1 << i) != 0)
        .map(|i| NAMES[i])
        .collect();
    Ok(shown.join(" "))
}

/// latency-tracking-info-percentiles: numbers in 0..=100, shown as
/// Redis's `%f` with trailing zeros trimmed; `""` means none.
fn norm_percentiles(args: &[Vec<u8>]) -> Result<String, String> {
    let mut out = Vec::new();
    for w in words(args) {
        let v = crate::util::num::parse_f64(w.as_bytes())
            .filter(|v| !v.is_nan())
            .ok_or("Invalid latency-tracking-info-percentiles parameters")?;
        if !(0.0..=100.0).contains(&v) {
            return Err(
                "latency-tracking-info-percentiles parameters should sit between [0.0,100.0]"
                    .into(),
            );
        }
        let mut t = format!("{v:.6}");
        while t.ends_with('0') {
            t.pop();
        }
        if t.ends_with('.') {
            t.pop();
        }
        out.push(t);
    }
    Ok(out.join(" "))
}

/// The percentiles of latency-tracking-info-percentiles, parsed.
pub fn percentiles(shown: &str) -> Vec<f64> {
    shown.split(' ').filter_map(|w| w.parse().ok()).collect()
}

/// Redis's PROTECTED_CONFIG directives: CONFIG SET changes them only as
/// `enable-protected-configs` allows.
pub fn protected(name: &str) -> bool {
    matches!(name, "dir" | "dbfilename")
}

/// Redis's MULTI_ARG_CONFIG directives: any number of values on a config
/// line (none included, which their own checks judge).
pub fn multi_arg(name: &str) -> bool {
    matches!(
        name,
        "save"
            | "shutdown-on-sigint"
            | "shutdown-on-sigterm"
            | "client-output-buffer-limit"
            | "oom-score-adj-values"
            | "bind"
            | "replicaof"
            | "latency-tracking-info-percentiles"
    )
}

/// Redis's SENSITIVE_CONFIG directives: their values are hidden from the
/// slow log.
pub fn sensitive(name: &str) -> bool {
    matches!(name, "requirepass" | "masterauth" | "masteruser")
}

/// Redis's HIDDEN_CONFIG directives: CONFIG GET shows them only when asked
/// by exact name, never for a pattern.
pub fn hidden(name: &str) -> bool {
    matches!(
        name,
        "use-exit-on-panic"
            | "rdb-key-save-delay"
            | "key-load-delay"
            | "watchdog-period"
            | "loading-process-events-interval-bytes"
    )
}

fn norm_octal(args: &[Vec<u8>]) -> Result<String, String> {
    let w = words(args);
    match w.as_slice() {
        [one] if i64::from_str_radix(one, 8).is_ok() => Ok(one.clone()),
        _ => Err("Invalid socket file permissions".into()),
    }
}

/// Redis's pathIsBaseName: no `/` and no `\\`.
fn is_base_name(w: &str) -> bool {
    !w.contains('/') && !w.contains('\\')
}

fn first_arg(args: &[Vec<u8>]) -> String {
    String::from_utf8_lossy(args.first().map(|v| v.as_slice()).unwrap_or(b"")).into_owned()
}

fn norm_filename(args: &[Vec<u8>]) -> Result<String, String> {
    let w = first_arg(args);
    if !is_base_name(&w) {
        return Err("dbfilename can't be a path, just a filename".into());
    }
    Ok(w)
}

/// Redis's isValidAOFfilename.
fn norm_aof_filename(args: &[Vec<u8>]) -> Result<String, String> {
    let w = first_arg(args);
    if w.is_empty() {
        return Err("appendfilename can't be empty".into());
    }
    if !is_base_name(&w) {
        return Err("appendfilename can't be a path, just a filename".into());
    }
    Ok(w)
}

/// Redis's isValidAOFdirname.
fn norm_aof_dirname(args: &[Vec<u8>]) -> Result<String, String> {
    let w = first_arg(args);
    if w.is_empty() {
        return Err("appenddirname can't be empty".into());
    }
    if !is_base_name(&w) {
        return Err("appenddirname can't be a path, just a dirname".into());
    }
    Ok(w)
}

fn norm_appendonly(args: &[Vec<u8>]) -> Result<String, String> {
    match words(args).as_slice() {
        [v] if v.eq_ignore_ascii_case("no") => Ok("no".into()),
        [v] if v.eq_ignore_ascii_case("yes") => Ok("yes".into()),
        _ => Err("argument must be 'yes' or 'no'".into()),
    }
}

fn norm_replicaof(args: &[Vec<u8>]) -> Result<String, String> {
    let w = words(args);
    match w.as_slice() {
        [] => Ok(String::new()),
        [h, p] if h.eq_ignore_ascii_case("no") && p.eq_ignore_ascii_case("one") => {
            Ok(String::new())
        }
        [h, p] => match p.parse::<u16>() {
            Ok(_) => Ok(format!("{h} {p}")),
            Err(_) => Err("Invalid master port".into()),
        },
        _ => Err("wrong number of arguments".into()),
    }
}

/// `save "3600 1 300 100"`, `save ""`: pairs of seconds and changes.
fn norm_save(args: &[Vec<u8>]) -> Result<String, String> {
    let w = words(args);
    if w.is_empty() || (w.len() == 1 && w[0].is_empty()) {
        return Ok(String::new());
    }
    if w.len() % 2 != 0 {
        return Err("Invalid save parameters".into());
    }
    for x in &w {
        if x.parse::<i64>().map(|v| v < 0).unwrap_or(true) {
            return Err("Invalid save parameters".into());
        }
    }
    Ok(w.join(" "))
}

/// Parsed `save` points: (seconds, changes).
pub fn save_points(s: &str) -> Vec<(i64, i64)> {
    let v: Vec<i64> = s
        .split_whitespace()
        .filter_map(|x| x.parse().ok())
        .collect();
    v.chunks_exact(2).map(|c| (c[0], c[1])).collect()
}

/// One `client-output-buffer-limit` class: hard, soft bytes, soft seconds.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct BufLimit {
    /// Disconnect at once past this many bytes (0 = none).
    pub hard: u64,
    /// Disconnect when past this many bytes for `soft_secs`.
    pub soft: u64,
    /// Seconds over the soft limit before disconnecting.
    pub soft_secs: u64,
}

/// The three classes of output-buffer limits, in Redis's order.
pub fn buffer_limits(s: &str) -> [BufLimit; 3] {
    let mut out = [BufLimit::default(); 3];
    let w: Vec<&str> = s.split_whitespace().collect();
    for c in w.chunks_exact(4) {
        let i = match c[0] {
            "normal" => 0,
            "slave" | "replica" => 1,
            "pubsub" => 2,
            _ => continue,
        };
        out[i] = BufLimit {
            hard: parse_mem(c[1]).unwrap_or(0) as u64,
            soft: parse_mem(c[2]).unwrap_or(0) as u64,
            soft_secs: c[3].parse().unwrap_or(0),
        };
    }
    out
}

fn norm_cobl(args: &[Vec<u8>]) -> Result<String, String> {
    let w = words(args);
    if w.len() % 4 != 0 || w.is_empty() {
        return Err("Wrong number of arguments in buffer limit configuration.".into());
    }
    // Merge onto the current defaults: unspecified classes keep theirs.
    let mut cur =
        buffer_limits("normal 0 0 0 slave 268435456 67108864 60 pubsub 33554432 8388608 60");
    for c in w.chunks_exact(4) {
        let i = match c[0].to_ascii_lowercase().as_str() {
            "normal" => 0,
            "slave" | "replica" => 1,
            "pubsub" => 2,
            _ => {
                return Err("Invalid client class specified in buffer limit configuration.".into())
            }
        };
        let hard = parse_mem(&c[1]);
        let soft = parse_mem(&c[2]);
        let secs = c[3].parse::<i64>().ok();
        match (hard, soft, secs) {
            (Some(h), Some(s), Some(t)) if h >= 0 && s >= 0 && t >= 0 => {
                cur[i] = BufLimit {
                    hard: h as u64,
                    soft: s as u64,
                    soft_secs: t as u64,
                }
            }
            _ => {
                return Err(
                    "Error in hard, soft or soft_seconds setting in buffer limit configuration."
                        .into(),
                )
            }
        }
    }
    let names = ["normal", "slave", "pubsub"];
    let mut s = String::new();
    for (i, l) in cur.iter().enumerate() {
        if i > 0 {
            s.push(' ');
        }
        let _ = write!(s, "{} {} {} {}", names[i], l.hard, l.soft, l.soft_secs);
    }
    Ok(s)
}

/// Keyspace notification flags, in Redis's canonical order.
fn norm_notify(args: &[Vec<u8>]) -> Result<String, String> {
    let s = String::from_utf8_lossy(args.first().map(|v| v.as_slice()).unwrap_or(b"")).into_owned();
    let flags = notify_flags(&s).ok_or("Invalid event class character. Use 'Ag$lshzxeKEtmd'.")?;
    Ok(notify_flags_string(flags))
}

/// Notification class bits, as Redis's NOTIFY_*.
pub mod notify {
    /// K
    pub const KEYSPACE: u32 = 1 << 0;
    /// E
    pub const KEYEVENT: u32 = 1 << 1;
    /// g
    pub const GENERIC: u32 = 1 << 2;
    /// $
    pub const STRING: u32 = 1 << 3;
    /// l
    pub const LIST: u32 = 1 << 4;
    /// s
    pub const SET: u32 = 1 << 5;
    /// h
    pub const HASH: u32 = 1 << 6;
    /// z
    pub const ZSET: u32 = 1 << 7;
    /// x
    pub const EXPIRED: u32 = 1 << 8;
    /// e
    pub const EVICTED: u32 = 1 << 9;
    /// t
    pub const STREAM: u32 = 1 << 10;
    /// m
    pub const KEY_MISS: u32 = 1 << 11;
    /// d
    pub const MODULE: u32 = 1 << 12;
    /// n
    pub const NEW: u32 = 1 << 13;
    /// A
    pub const ALL: u32 =
        GENERIC | STRING | LIST | SET | HASH | ZSET | EXPIRED | EVICTED | STREAM | MODULE;
}

/// Parse `notify-keyspace-events` class characters.
pub fn notify_flags(s: &str) -> Option<u32> {
    use notify::*;
    let mut f = 0;
    for c in s.chars() {
        f |= match c {
            'A' => ALL,
            'g' => GENERIC,
            '$' => STRING,
            'l' => LIST,
            's' => SET,
            'h' => HASH,
            'z' => ZSET,
            'x' => EXPIRED,
            'e' => EVICTED,
            'K' => KEYSPACE,
            'E' => KEYEVENT,
            't' => STREAM,
            'm' => KEY_MISS,
            'd' => MODULE,
            'n' => NEW,
            _ => return None,
        };
    }
    Some(f)
}

/// The canonical text of notification flags, as CONFIG GET shows it.
pub fn notify_flags_string(f: u32) -> String {
    use notify::*;
    let mut s = String::new();
    if f & ALL == ALL {
        s.push('A');
    } else {
        for (bit, c) in [
            (GENERIC, 'g'),
            (STRING, '$'),
            (LIST, 'l'),
            (SET, 's'),
            (HASH, 'h'),
            (ZSET, 'z'),
            (EXPIRED, 'x'),
            (EVICTED, 'e'),
            (STREAM, 't'),
            (MODULE, 'd'),
        ] {
            if f & bit != 0 {
                s.push(c);
            }
        }
    }
    for (bit, c) in [
        (KEYSPACE, 'K'),
        (KEYEVENT, 'E'),
        (KEY_MISS, 'm'),
        (NEW, 'n'),
    ] {
        if f & bit != 0 {
            s.push(c);
        }
    }
    s
}

/// `1gb`, `100mb`, `10k`, `12345`: bytes. k = 1000, kb = 1024, as Redis.
pub fn parse_mem(s: &str) -> Option<i64> {
    let l = s.to_ascii_lowercase();
    let (num, mul) = if let Some(n) = l.strip_suffix("kb") {
        (n, 1024)
    } else if let Some(n) = l.strip_suffix("mb") {
        (n, 1024 * 1024)
    } else if let Some(n) = l.strip_suffix("gb") {
        (n, 1024 * 1024 * 1024)
    } else if let Some(n) = l.strip_suffix('k') {
        (n, 1000)
    } else if let Some(n) = l.strip_suffix('m') {
        (n, 1_000_000)
    } else if let Some(n) = l.strip_suffix('g') {
        (n, 1_000_000_000)
    } else if let Some(n) = l.strip_suffix('b') {
        (n, 1)
    } else {
        (l.as_str(), 1)
    };
    if num.is_empty() || num.starts_with('+') {
        return None;
    }
    num.parse::<i64>().ok()?.checked_mul(mul)
}

/// The live configuration.
#[derive(Clone, Debug)]
pub struct Config {
    vals: Vec<CVal>,
    /// The config file path, for CONFIG REWRITE (absolute).
    pub file: Option<std::path::PathBuf>,
    /// `rename-command old new` lines, in order (an empty new name removes
    /// the command); applied to the command table at start-up.
    pub renames: Vec<(String, String)>,
    /// `user <name> <rules…>` lines, in order: loaded into the ACL at
    /// start-up.
    pub users: Vec<Vec<Vec<u8>>>,
}

impl Default for Config {
    fn default() -> Self {
        let vals = TABLE
            .iter()
            .map(|d| {
                parse_value(d, &[d.default.as_bytes().to_vec()])
                    .unwrap_or_else(|e| panic!("bad default for {}: {e}", d.name))
            })
            .collect();
        Config {
            vals,
            file: None,
            renames: Vec::new(),
            users: Vec::new(),
        }
    }
}

/// Parse words into a directive's value.
pub fn parse_value(d: &Directive, args: &[Vec<u8>]) -> Result<CVal, String> {
    let one = || -> Result<String, String> {
        match args {
            [a] => Ok(String::from_utf8_lossy(a).into_owned()),
            _ => Err("wrong number of arguments".into()),
        }
    };
    match d.kind {
        Kind::Bool => {
            let v = one()?;
            if v.eq_ignore_ascii_case("yes") {
                Ok(CVal::Bool(true))
            } else if v.eq_ignore_ascii_case("no") {
                Ok(CVal::Bool(false))
            } else {
                Err("argument must be 'yes' or 'no'".into())
            }
        }
        Kind::Int(lo, hi) => {
            let v = one()?;
            let n: i64 = v
                .parse()
                .map_err(|_| "argument couldn't be parsed into an integer".to_string())?;
            if n < lo || n > hi {
                return Err(format!("argument must be between {lo} and {hi} inclusive"));
            }
            Ok(CVal::Int(n))
        }
        Kind::Mem(lo, hi) => {
            let v = one()?;
            let n = parse_mem(&v).ok_or_else(|| "argument must be a memory value".to_string())?;
            if n < lo || n > hi {
                return Err(format!("argument must be between {lo} and {hi} inclusive"));
            }
            Ok(CVal::Int(n))
        }
        Kind::Str => Ok(CVal::Str(one()?)),
        Kind::Enum(words) => {
            let v = one()?;
            words
                .iter()
                .find(|w| w.eq_ignore_ascii_case(&v))
                .map(|w| CVal::Str((*w).to_string()))
                .ok_or_else(|| {
                    format!(
                        "argument(s) must be one of the following: {}",
                        words.join(", ")
                    )
                })
        }
        Kind::Special(f) => f(args).map(CVal::Str),
    }
}

/// Find a directive by name or alias (case-insensitive).
pub fn lookup(name: &str) -> Option<(usize, &'static Directive)> {
    TABLE.iter().enumerate().find(|(_, d)| {
        d.name.eq_ignore_ascii_case(name) || d.aliases.iter().any(|a| a.eq_ignore_ascii_case(name))
    })
}

impl Config {
    /// Integer value (Int and Mem kinds).
    pub fn int(&self, p: P) -> i64 {
        match &self.vals[p as usize] {
            CVal::Int(n) => *n,
            CVal::Bool(b) => *b as i64,
            CVal::Str(_) => 0,
        }
    }

    /// Boolean value.
    pub fn bool(&self, p: P) -> bool {
        matches!(self.vals[p as usize], CVal::Bool(true))
    }

    /// Text value (Str, Enum, Special kinds).
    pub fn str(&self, p: P) -> &str {
        match &self.vals[p as usize] {
            CVal::Str(s) => s,
            CVal::Bool(true) => "yes",
            CVal::Bool(false) => "no",
            CVal::Int(_) => "",
        }
    }

    /// Make `dir` the working directory and keep it as the absolute path,
    /// as Redis (CONFIG GET dir is getcwd).
    pub fn enter_dir(&mut self) -> std::io::Result<()> {
        std::env::set_current_dir(self.str(P::dir))?;
        let abs = std::env::current_dir()?;
        self.vals[P::dir as usize] = CVal::Str(abs.to_string_lossy().into_owned());
        Ok(())
    }

    /// Set a value already parsed and validated.
    pub fn set_parsed(&mut self, idx: usize, v: CVal) {
        self.vals[idx] = v;
    }

    /// The value at an index.
    pub fn get_parsed(&self, idx: usize) -> &CVal {
        &self.vals[idx]
    }

    /// The value as CONFIG GET shows it.
    pub fn show(&self, idx: usize) -> String {
        let d = &TABLE[idx];
        match (&self.vals[idx], d.kind) {
            (CVal::Bool(b), _) => if *b { "yes" } else { "no" }.into(),
            (CVal::Int(n), _) => n.to_string(),
            (CVal::Str(s), Kind::Special(_)) if d.name == "dir" => s.clone(),
            (CVal::Str(s), _) => s.clone(),
        }
    }

    /// Set a directive from words, validating.
    pub fn set_from_words(&mut self, name: &str, args: &[Vec<u8>]) -> Result<usize, String> {
        let (idx, d) =
            lookup(name).ok_or_else(|| "Bad directive or wrong number of arguments".to_string())?;
        let v = parse_value(d, args)?;
        self.vals[idx] = v;
        Ok(idx)
    }

    /// Whether `enable-debug-command` allows a client from `local`.
    pub fn debug_allowed(&self, local: bool) -> bool {
        Self::allowed(self.str(P::enable_debug_command), local)
    }

    /// Whether `enable-module-command` allows a client from `local`.
    pub fn module_command_allowed(&self, local: bool) -> bool {
        Self::allowed(self.str(P::enable_module_command), local)
    }

    /// Whether a client (local or not) may change protected directives.
    pub fn protected_configs_allowed(&self, local: bool) -> bool {
        Self::allowed(self.str(P::enable_protected_configs), local)
    }

    fn allowed(setting: &str, local: bool) -> bool {
        match setting {
            "yes" => true,
            "local" => local,
            _ => false,
        }
    }

    /// Redis's loglevel as our numeric level.
    pub fn log_level(&self) -> u8 {
        match self.str(P::loglevel) {
            "debug" => crate::log::LEVEL_DEBUG,
            "verbose" => crate::log::LEVEL_VERBOSE,
            "warning" => crate::log::LEVEL_WARNING,
            _ => crate::log::LEVEL_NOTICE,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_parse() {
        let c = Config::default();
        assert_eq!(c.int(P::port), 6379);
        assert_eq!(c.str(P::save), "3600 1 300 100 60 10000");
        assert!(c.bool(P::protected_mode));
    }

    #[test]
    fn mem_units() {
        assert_eq!(parse_mem("1gb"), Some(1 << 30));
        assert_eq!(parse_mem("1k"), Some(1000));
        assert_eq!(parse_mem("10MB"), Some(10 << 20));
        assert_eq!(parse_mem("x"), None);
    }

    #[test]
    fn notify_roundtrip() {
        assert_eq!(notify_flags_string(notify_flags("KEA").unwrap()), "AKE");
        assert_eq!(notify_flags_string(notify_flags("Kx").unwrap()), "xK");
        assert!(notify_flags("q").is_none());
    }

    #[test]
    fn cobl_merges() {
        let s = norm_cobl(&[b"pubsub 1mb 0 0".to_vec()]).unwrap();
        assert_eq!(
            s,
            "normal 0 0 0 slave 268435456 67108864 60 pubsub 1048576 0 0"
        );
    }
}
