//! INFO: Redis's sections and field names, so that redis-cli, Sentinel,
//! exporters and Redis's own tests read relica as they read Redis.

use std::fmt::Write as _;
use std::sync::OnceLock;

use crate::client::Client;
use crate::config::P;
use crate::engine::Engine;
use crate::keyspace::{Entry, Value};

pub use crate::REDIS_VERSION;

/// This server's run id (40 hex digits, new at each start).
pub fn run_id() -> &'static str {
    static ID: OnceLock<String> = OnceLock::new();
    ID.get_or_init(crate::repl::random_replid)
}

/// Resident set size in bytes, from /proc.
pub fn rss_bytes() -> usize {
    let statm = std::fs::read_to_string("/proc/self/statm").unwrap_or_default();
    let pages: usize = statm
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    pages * 4096
}

/// Bytes held for clients that are not replicas (mem_clients_normal): each
/// client's memory as client eviction counts it (query buffer, arguments,
/// output, the client itself). A MONITOR client counts as a normal
/// one, as in Redis. Replicas' output is the shared replication buffer,
/// reported apart (`repl::feed::replication_memory`), as Redis 7.0 does.
/// `me`, the client asking, is out of the table while its command runs.
pub fn client_memory(eng: &Engine, me: &Client) -> u64 {
    let mut normal = 0u64;
    let asking = (!eng.clients().contains(me.id)).then_some(me);
    for cl in eng.clients().iter().chain(asking) {
        let is_replica = cl.flags & crate::client::flag::REPLICA != 0
            && cl.flags & crate::client::flag::MONITOR == 0;
        if !is_replica {
            normal += eng.client_memory(cl) as u64;
        }
    }
    normal
}

/// Redis's human-readable byte counts: `1.50M`.
pub fn human(n: u64) -> String {
    let n = n as f64;
    if n < 1024.0 {
        format!("{}B", n as u64)
    } else if n < 1024.0 * 1024.0 {
        format!("{:.2}K", n / 1024.0)
    } else if n < 1024.0 * 1024.0 * 1024.0 {
        format!("{:.2}M", n / (1024.0 * 1024.0))
    } else if n < 1024.0 * 1024.0 * 1024.0 * 1024.0 {
        format!("{:.2}G", n / (1024.0 * 1024.0 * 1024.0))
    } else {
        format!("{:.2}T", n / (1024.0 * 1024.0 * 1024.0 * 1024.0))
    }
}

/// Estimated bytes used by a key and its value (MEMORY USAGE).
pub fn entry_memory(e: &Entry) -> usize {
    entry_memory_sampled(e, 5)
}

/// `entry_memory` looking at `samples` parts of a stream (MEMORY USAGE
/// SAMPLES).
pub fn entry_memory_sampled(e: &Entry, samples: usize) -> usize {
    let key = e.key.len().max(16) + 56;
    let val = match &e.value {
        Value::Int(_) => 0,
        Value::Str(b) => b.len().max(16),
        Value::Raw(v) => v.capacity().max(16) + 24,
        Value::List(l) => l.memory_usage(),
        Value::Hash(h) => h.memory_usage(),
        Value::Set(s) => s.memory_usage(),
        Value::ZSet(z) => z.memory_usage(),
        Value::Stream(s) => s.memory_usage(samples),
    };
    key + val
}

/// getrusage(RUSAGE_SELF) user and system seconds.
fn cpu_times(who: i32) -> (f64, f64) {
    let mut ru = std::mem::MaybeUninit::<libc::rusage>::zeroed();
    #[allow(unsafe_code)]
    // SAFETY: getrusage fills the struct we own; on failure we read zeros.
    let ru = unsafe {
        libc::getrusage(who, ru.as_mut_ptr());
        ru.assume_init()
    };
    let t = |tv: libc::timeval| tv.tv_sec as f64 + tv.tv_usec as f64 / 1e6;
    (t(ru.ru_utime), t(ru.ru_stime))
}

const DEFAULT: &[&str] = &[
    "server",
    "clients",
    "memory",
    "persistence",
    "stats",
    "replication",
    "cpu",
    "modules",
    "errorstats",
    "cluster",
    "keyspace",
];
const ALL: &[&str] = &[
    "server",
    "clients",
    "memory",
    "persistence",
    "stats",
    "replication",
    "cpu",
    "modules",
    "commandstats",
    "errorstats",
    "cluster",
    "keyspace",
];

/// Render INFO for the requested section names (empty = default).
pub fn render(eng: &Engine, me: &Client, req: &[String]) -> String {
    let mut want: Vec<&str> = Vec::new();
    if req.is_empty() || req.iter().any(|s| s == "default") {
        want.extend(DEFAULT);
    }
    for r in req {
        match r.as_str() {
            "all" | "everything" => want.extend(ALL),
            "default" => {}
            s => want.push(s),
        }
    }
    let mut out = String::new();
    let mut seen: Vec<&str> = Vec::new();
    for sec in ALL.iter().chain(["latencystats"].iter()) {
        if !want.contains(sec) || seen.contains(sec) {
            continue;
        }
        seen.push(sec);
        if !out.is_empty() {
            out.push_str("\r\n");
        }
        section(eng, me, sec, &mut out);
    }
    out
}

fn section(eng: &Engine, me: &Client, name: &str, s: &mut String) {
    let now = eng.now().max(crate::clock::now_ms());
    macro_rules! f {
        ($($arg:tt)*) => {{ let _ = write!(s, $($arg)*); s.push_str("\r\n"); }};
    }
    match name {
        "server" => {
            s.push_str("# Server\r\n");
            let uptime = (now - eng.start_ms()) / 1000;
            f!("redis_version:{REDIS_VERSION}");
            f!("redis_git_sha1:00000000");
            f!("redis_git_dirty:0");
            f!("redis_build_id:0");
            f!("redis_mode:standalone");
            f!("os:{} {}", std::env::consts::OS, std::env::consts::ARCH);
            f!("arch_bits:64");
            f!("monotonic_clock:POSIX clock_gettime");
            f!("multiplexing_api:epoll");
            f!("atomicvar_api:c11-builtin");
            f!("gcc_version:0.0.0");
            f!("process_id:{}", std::process::id());
            f!("process_supervised:no");
            f!("run_id:{}", run_id());
            // As Redis: the TLS port when there is no plain one.
            f!("tcp_port:{}", {
                let port = eng.cfg().int(P::port);
                if port != 0 {
                    port
                } else {
                    eng.cfg().int(P::tls_port)
                }
            });
            f!("server_time_usec:{}", crate::clock::now_us());
            f!("uptime_in_seconds:{uptime}");
            f!("uptime_in_days:{}", uptime / 86400);
            f!("hz:{}", eng.cfg().int(P::hz));
            f!("configured_hz:{}", eng.cfg().int(P::hz));
            f!("lru_clock:{}", eng.lru_seconds());
            f!(
                "executable:{}",
                std::env::current_exe()
                    .map(|p| p.display().to_string())
                    .unwrap_or_default()
            );
            f!(
                "config_file:{}",
                eng.cfg()
                    .file
                    .as_ref()
                    .map(|p| p.display().to_string())
                    .unwrap_or_default()
            );
            f!("io_threads_active:0");
            if let Some(d) = eng.shutdown_wait().and_then(|w| w.deadline) {
                f!("shutdown_in_milliseconds:{}", d - eng.now());
            }
            f!("relica_version:{}", env!("CARGO_PKG_VERSION"));
        }
        "clients" => {
            s.push_str("# Clients\r\n");
            // Replicas are not counted, as Redis (clients minus slaves).
            f!(
                "connected_clients:{}",
                eng.clients()
                    .connected()
                    .saturating_sub(eng.repl().replicas().len())
            );
            f!("cluster_connections:0");
            f!("maxclients:{}", eng.cfg().int(P::maxclients));
            f!("client_recent_max_input_buffer:{}", me.qbuf);
            f!(
                "client_recent_max_output_buffer:{}",
                eng.clients()
                    .iter()
                    .map(|c| c.outbox.held())
                    .chain([me.outbox.held()])
                    .max()
                    .unwrap_or(0)
            );
            f!("blocked_clients:{}", crate::blocking::blocked_clients(eng));
            f!("tracking_clients:{}", eng.tracking().client_count());
            f!(
                "clients_in_timeout_table:{}",
                eng.clients()
                    .iter()
                    .filter(|c| c
                        .block
                        .as_ref()
                        .is_some_and(|b| !b.done && b.deadline.is_some()))
                    .count()
            );
        }
        "memory" => {
            s.push_str("# Memory\r\n");
            let used = crate::alloc::allocated() as u64;
            let peak = crate::alloc::peak() as u64;
            let rss = rss_bytes() as u64;
            let startup = crate::alloc::startup_allocated() as u64;
            let maxmem = eng.cfg().int(P::maxmemory) as u64;
            let repl = crate::repl::feed::replication_memory(eng);
            let clients_normal = client_memory(eng, me);
            let overhead = startup + repl.backlog + repl.replicas + clients_normal;
            f!("used_memory:{used}");
            f!("used_memory_human:{}", human(used));
            f!("used_memory_rss:{rss}");
            f!("used_memory_rss_human:{}", human(rss));
            f!("used_memory_peak:{peak}");
            f!("used_memory_peak_human:{}", human(peak));
            f!(
                "used_memory_peak_perc:{:.2}%",
                if peak > 0 {
                    used as f64 * 100.0 / peak as f64
                } else {
                    100.0
                }
            );
            f!("used_memory_overhead:{overhead}");
            f!("used_memory_startup:{startup}");
            f!("used_memory_dataset:{}", used.saturating_sub(overhead));
            f!(
                "used_memory_dataset_perc:{:.2}%",
                if used > startup {
                    used.saturating_sub(overhead) as f64 * 100.0 / (used - startup) as f64
                } else {
                    0.0
                }
            );
            f!("allocator_allocated:{used}");
            f!("allocator_active:{rss}");
            f!("allocator_resident:{rss}");
            f!("total_system_memory:{}", total_system_memory());
            f!("total_system_memory_human:{}", human(total_system_memory()));
            let vm_eval = eng.scripting().vm_memory();
            let scripts_eval = eng.scripting().scripts_memory();
            let funcs = eng.scripting().functions();
            let (vm_functions, functions_mem) = (funcs.vm_memory(), funcs.memory());
            f!("used_memory_lua:{vm_eval}");
            f!("used_memory_vm_eval:{vm_eval}");
            f!("used_memory_lua_human:{}", human(vm_eval as u64));
            f!("used_memory_scripts_eval:{scripts_eval}");
            f!("number_of_cached_scripts:{}", eng.scripting().len());
            f!("number_of_functions:{}", funcs.function_count());
            f!("number_of_libraries:{}", funcs.library_count());
            f!("used_memory_vm_functions:{vm_functions}");
            f!("used_memory_vm_total:{}", vm_eval + vm_functions);
            f!(
                "used_memory_vm_total_human:{}",
                human((vm_eval + vm_functions) as u64)
            );
            f!("used_memory_functions:{functions_mem}");
            f!("used_memory_scripts:{}", scripts_eval + functions_mem);
            f!(
                "used_memory_scripts_human:{}",
                human((scripts_eval + functions_mem) as u64)
            );
            f!("maxmemory:{maxmem}");
            f!("maxmemory_human:{}", human(maxmem));
            f!("maxmemory_policy:{}", eng.cfg().str(P::maxmemory_policy));
            f!("allocator_frag_ratio:1.00");
            f!("allocator_frag_bytes:0");
            f!("allocator_rss_ratio:1.00");
            f!("allocator_rss_bytes:0");
            f!("rss_overhead_ratio:1.00");
            f!("rss_overhead_bytes:0");
            f!(
                "mem_fragmentation_ratio:{:.2}",
                if used > 0 {
                    rss as f64 / used as f64
                } else {
                    0.0
                }
            );
            f!("mem_fragmentation_bytes:{}", rss as i64 - used as i64);
            f!(
                "mem_not_counted_for_evict:{}",
                crate::keyspace::evict::not_counted(eng)
            );
            f!("mem_replication_backlog:{}", repl.backlog);
            f!("mem_total_replication_buffers:{}", repl.total);
            f!("mem_clients_slaves:{}", repl.replicas);
            f!("mem_clients_normal:{clients_normal}");
            f!("mem_cluster_links:0");
            f!(
                "mem_aof_buffer:{}",
                eng.aof().writer().map_or(0, |w| w.buffer_len())
            );
            f!("mem_allocator:mimalloc");
            f!("active_defrag_running:0");
            f!(
                "lazyfree_pending_objects:{}",
                crate::keyspace::lazyfree::pending()
            );
            f!("lazyfreed_objects:{}", crate::keyspace::lazyfree::freed());
        }
        "persistence" => {
            s.push_str("# Persistence\r\n");
            f!("loading:{}", eng.persist().loading() as u8);
            f!("async_loading:{}", eng.persist().async_loading() as u8);
            crate::persist::info_fields(eng, s);
            crate::persist::aof::info_fields(eng, s);
            if eng.persist().loading() {
                let p = eng.persist().progress();
                let loaded = p.loaded.load(std::sync::atomic::Ordering::Relaxed);
                let elapsed = (crate::clock::now_secs() - p.start).max(0);
                let perc = if p.total > 0 {
                    loaded as f64 * 100.0 / p.total as f64
                } else {
                    0.0
                };
                let eta = if loaded > 0 && elapsed > 0 {
                    (p.total.saturating_sub(loaded) as f64 / (loaded as f64 / elapsed as f64))
                        as i64
                } else {
                    1
                };
                f!("loading_start_time:{}", p.start);
                f!("loading_total_bytes:{}", p.total);
                f!("loading_rdb_used_mem:{}", p.rdb_used_mem);
                f!("loading_loaded_bytes:{loaded}");
                f!("loading_loaded_perc:{perc:.2}");
                f!("loading_eta_seconds:{eta}");
            }
        }
        "stats" => {
            s.push_str("# Stats\r\n");
            let st = eng.stats().counters();
            f!("total_connections_received:{}", st.connections);
            f!("total_commands_processed:{}", st.commands);
            f!("instantaneous_ops_per_sec:{}", eng.stats().ops_per_sec());
            f!("total_net_input_bytes:{}", st.net_in);
            f!("total_net_output_bytes:{}", st.net_out);
            f!("total_net_repl_input_bytes:0");
            f!("total_net_repl_output_bytes:0");
            f!("instantaneous_input_kbps:0.00");
            f!("instantaneous_output_kbps:0.00");
            f!("instantaneous_input_repl_kbps:0.00");
            f!("instantaneous_output_repl_kbps:0.00");
            f!("rejected_connections:{}", st.rejected);
            f!("sync_full:{}", st.sync_full);
            f!("sync_partial_ok:{}", st.sync_partial_ok);
            f!("sync_partial_err:{}", st.sync_partial_err);
            f!("expired_keys:{}", st.expired_keys);
            f!("expired_stale_perc:0.00");
            f!("expired_time_cap_reached_count:0");
            f!("expire_cycle_cpu_milliseconds:{}", st.expire_cycle_cpu_ms);
            f!("evicted_keys:{}", st.evicted_keys);
            f!("evicted_clients:{}", st.evicted_clients);
            let (total, current) = eng.evict_state().exceeded_ms();
            f!("total_eviction_exceeded_time:{total}");
            f!("current_eviction_exceeded_time:{current}");
            f!("keyspace_hits:{}", st.hits);
            f!("keyspace_misses:{}", st.misses);
            f!("pubsub_channels:{}", eng.pubsub().channel_count());
            f!("pubsub_patterns:{}", eng.pubsub().pattern_count());
            f!("pubsubshard_channels:{}", eng.pubsub().shard_count());
            f!("latest_fork_usec:0");
            f!("total_forks:{}", eng.persist().total_forks());
            f!("migrate_cached_sockets:{}", eng.migrate_links().len());
            f!("slave_expires_tracked_keys:0");
            f!("active_defrag_hits:0");
            f!("active_defrag_misses:0");
            f!("active_defrag_key_hits:0");
            f!("active_defrag_key_misses:0");
            f!("total_active_defrag_time:0");
            f!("current_active_defrag_time:0");
            f!("tracking_total_keys:{}", eng.tracking().total_keys());
            f!("tracking_total_items:{}", eng.tracking().total_items());
            f!(
                "tracking_total_prefixes:{}",
                eng.tracking().total_prefixes()
            );
            f!("unexpected_error_replies:{}", st.unexpected_errors);
            f!("total_error_replies:{}", st.error_replies);
            f!("dump_payload_sanitizations:0");
            f!("total_reads_processed:{}", st.reads);
            f!("total_writes_processed:{}", st.writes);
            f!("io_threaded_reads_processed:0");
            f!("io_threaded_writes_processed:0");
            f!("reply_buffer_shrinks:{}", st.reply_shrinks);
            f!("reply_buffer_expands:{}", st.reply_expands);
        }
        "replication" => {
            s.push_str("# Replication\r\n");
            crate::repl::feed::info_fields(eng, s);
        }
        "cpu" => {
            s.push_str("# CPU\r\n");
            let (u, sy) = cpu_times(libc::RUSAGE_SELF);
            let (cu, cs) = cpu_times(libc::RUSAGE_CHILDREN);
            f!("used_cpu_sys:{sy:.6}");
            f!("used_cpu_user:{u:.6}");
            f!("used_cpu_sys_children:{cs:.6}");
            f!("used_cpu_user_children:{cu:.6}");
            f!("used_cpu_sys_main_thread:{sy:.6}");
            f!("used_cpu_user_main_thread:{u:.6}");
        }
        "modules" => s.push_str("# Modules\r\n"),
        "errorstats" => {
            s.push_str("# Errorstats\r\n");
            let mut v: Vec<_> = eng.stats().errors().collect();
            v.sort();
            for (k, n) in v {
                f!("errorstat_{k}:count={n}");
            }
        }
        "commandstats" => {
            s.push_str("# Commandstats\r\n");
            let mut v: Vec<_> = eng.stats().commands().collect();
            v.sort_by_key(|(k, _)| *k);
            for (k, st) in v {
                f!(
                    "cmdstat_{k}:calls={},usec={},usec_per_call={:.2},rejected_calls={},failed_calls={}",
                    st.calls,
                    st.nsec / 1000,
                    if st.calls > 0 { (st.nsec / 1000) as f64 / st.calls as f64 } else { 0.0 },
                    st.rejected,
                    st.failed
                );
            }
        }
        "cluster" => {
            s.push_str("# Cluster\r\n");
            f!("cluster_enabled:0");
        }
        "keyspace" => {
            s.push_str("# Keyspace\r\n");
            for (i, db) in eng.keyspace().dbs().iter().enumerate() {
                if db.is_empty() {
                    continue;
                }
                f!(
                    "db{i}:keys={},expires={},avg_ttl={}",
                    db.len(),
                    db.volatile_len(),
                    db.avg_ttl(now)
                );
            }
        }
        "latencystats" => {
            s.push_str("# Latencystats\r\n");
            if eng.cfg().bool(P::latency_tracking) {
                let shown = eng
                    .cfg()
                    .show(P::latency_tracking_info_percentiles as usize);
                let pcts = crate::config::percentiles(&shown);
                let mut v: Vec<_> = eng
                    .stats()
                    .commands()
                    .filter_map(|(k, st)| st.hist.as_ref().map(|h| (*k, h)))
                    .collect();
                v.sort_by_key(|(k, _)| *k);
                for (k, h) in v {
                    let parts: Vec<String> = pcts
                        .iter()
                        .zip(shown.split(' '))
                        .map(|(p, text)| {
                            let us = crate::stats::value_at_percentile(h, *p) as f64 / 1000.0;
                            format!("p{text}={us:.3}")
                        })
                        .collect();
                    f!("latency_percentiles_usec_{k}:{}", parts.join(","));
                }
            }
        }
        _ => {}
    }
}

fn total_system_memory() -> u64 {
    let m = std::fs::read_to_string("/proc/meminfo").unwrap_or_default();
    m.lines()
        .find(|l| l.starts_with("MemTotal:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse::<u64>().ok())
        .map(|kb| kb * 1024)
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use crate::client::flag;
    use crate::commands::testkit::Harness;

    fn field(info: &str, name: &str) -> u64 {
        let line = info
            .lines()
            .find(|l| l.starts_with(&format!("{name}:")))
            .unwrap_or_else(|| panic!("no {name} in INFO"));
        line[name.len() + 1..].parse().expect("a number")
    }

    #[test]
    fn client_memory_is_split_by_client_type() {
        let mut h = Harness::new();
        let (normal, replica, monitor) = (h.client(), h.client(), h.client());
        h.eng.clients_mut().get_mut(replica).unwrap().flags |= flag::REPLICA;
        h.eng.clients_mut().get_mut(monitor).unwrap().flags |= flag::REPLICA | flag::MONITOR;
        h.eng
            .clients()
            .get(normal)
            .unwrap()
            .outbox
            .push(&[b'a'; 100]);
        h.eng
            .clients()
            .get(replica)
            .unwrap()
            .outbox
            .push(&[b'r'; 1000]);
        h.eng
            .clients()
            .get(monitor)
            .unwrap()
            .outbox
            .push(&[b'm'; 10]);
        let base = h.eng.client_memory(h.eng.clients().get(replica).unwrap()) as u64 - 1000;
        let info = h.run(normal, &["INFO", "memory"]);
        // Redis 7.0: a replica's output is the shared replication buffer,
        // not client memory; there is no buffer without a backlog.
        assert_eq!(field(&info, "mem_clients_slaves"), 0);
        assert_eq!(field(&info, "mem_clients_normal"), 2 * base + 110);
        assert_eq!(field(&info, "mem_total_replication_buffers"), 0);
        let info = h.run(normal, &["INFO", "clients"]);
        assert_eq!(field(&info, "client_recent_max_output_buffer"), 1000);
    }

    #[test]
    fn replication_buffer_memory_is_the_backlog_without_replicas() {
        let mut h = Harness::new();
        let c = h.client();
        let size = crate::repl::master::backlog_size(&h.eng) as u64;
        crate::repl::master::start_backlog(&mut h.eng, 0);
        for _ in 0..64 {
            crate::repl::master::feed_replicas(&mut h.eng, &[b'x'; 50_000]);
        }
        crate::repl::master::trim_backlog(&h.eng);
        let info = h.run(c, &["INFO", "memory"]);
        let total = field(&info, "mem_total_replication_buffers");
        assert!(total > size && total < size + size / 4, "{total}");
        assert_eq!(field(&info, "mem_replication_backlog"), total);
        assert_eq!(field(&info, "mem_clients_slaves"), 0);
        let info = h.run(c, &["INFO", "replication"]);
        let hist = field(&info, "repl_backlog_histlen");
        assert!(hist > size && hist <= size + size / 16, "{hist}");
        assert_eq!(
            field(&info, "repl_backlog_first_byte_offset"),
            64 * 50_000 - hist + 1
        );
    }
}
