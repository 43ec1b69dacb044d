//! The engine: everything behind the one lock.
//!
//! `Engine` composes the subsystems — the keyspace, the client table,
//! pub/sub, replication, persistence, statistics — one private field each,
//! with the configuration and the little that belongs to no subsystem (the
//! command clock, the random source, the shutdown request). It has no
//! public fields: callers reach a subsystem through its accessor and change
//! it through the subsystem's methods (docs/DESIGN.md, "Layers").
//!
//! The engine sits behind one `parking_lot` mutex (DESIGN.md, "Execution
//! model"). A connection takes the lock once per batch of pipelined
//! commands and runs them with `commands::dispatch::run_batch`; nothing
//! awaits, and no socket I/O happens, under it. Because every write appends
//! its propagated form to the stream while the lock is held, the stream's
//! order is the execution order by construction.

use std::sync::Arc;

use bytes::Bytes;
use rand::rngs::SmallRng;
use rand::SeedableRng;

use crate::config::{Config, P};
use crate::keyspace::Keyspace;

/// The engine lock. parking_lot's mutex spins briefly before it parks,
/// which suits a lock held for microseconds by a few worker threads: with
/// std's mutex, pipelined benchmarks spent a quarter of their time in
/// futex wake-ups and context switches.
pub type EngineLock = parking_lot::Mutex<Engine>;

/// The shared handle.
pub type Shared = Arc<EngineLock>;

/// Take the engine lock.
#[inline]
pub fn lock(shared: &Shared) -> parking_lot::MutexGuard<'_, Engine> {
    if let Some(g) = shared.try_lock() {
        return g;
    }
    // While a script runs it holds the lock for its whole run: a waiter
    // then gives its runtime worker's place to another thread before it
    // waits, so that connection tasks can still answer -BUSY
    // (`script::busy`). Looking again every millisecond catches a script
    // that starts while we wait.
    loop {
        if crate::script::busy::any_running() {
            return crate::script::busy::blocking(|| shared.lock());
        }
        if let Some(g) = shared.try_lock_for(std::time::Duration::from_millis(1)) {
            return g;
        }
    }
}

/// Take the engine lock for a connection's commands, unless a script of
/// this engine runs past busy-reply-threshold (or gets there while we
/// wait): then None, and the caller answers as Redis does while busy
/// (`commands::scripting::serve_while_busy`) instead of waiting out the
/// whole script. A script younger than that is waited for as any command
/// that holds the lock: Redis too serves nobody until the threshold, and
/// waking every waiting connection at the end of each short run cost
/// pipelined EVALSHA half its throughput.
pub fn lock_unless_script<'a>(
    shared: &'a Shared,
    busy: &crate::script::Busy,
) -> Option<parking_lot::MutexGuard<'a, Engine>> {
    loop {
        if busy.timed_out() {
            return None;
        }
        if let Some(g) = shared.try_lock_for(std::time::Duration::from_millis(1)) {
            return Some(g);
        }
    }
}

/// Everything behind the lock.
pub struct Engine {
    /// The engine's own handle, for work that runs outside the lock
    /// (background saves). Dangling in unit tests.
    me: std::sync::Weak<EngineLock>,
    /// Live configuration.
    cfg: Config,
    /// An LFU maxmemory-policy is set (cached: read on every key access).
    lfu_mode: bool,
    /// client-output-buffer-limit, parsed (cached: read on every write fed
    /// to replicas and every message published): normal, replica, pubsub.
    buf_limits: [crate::config::BufLimit; 3],
    /// The databases and their WATCH, blocking and expiry registries.
    keyspace: Keyspace,
    /// Eviction under maxmemory: the policy, the pool, the time over.
    evict: crate::keyspace::Eviction,
    /// Replication: ids, offsets, the stream, replicas, the master link.
    repl: crate::repl::Replication,
    /// Statistics.
    stats: crate::stats::Stats,
    /// Connected clients.
    clients: crate::clients::Clients,
    /// Server start (ms).
    start_ms: i64,
    /// Random source for RANDOMKEY, SPOP, …
    rng: SmallRng,
    /// Set (by [`Engine::request_shutdown`]) to ask the server to shut down.
    shutdown: Option<ShutdownReq>,
    /// Woken when `shutdown` is set.
    shutdown_wake: Arc<tokio::sync::Notify>,
    /// A shutdown under way that waits for lagging replicas (Redis's
    /// shutdown_mstime), or a signal's shutdown not yet started (Redis's
    /// shutdown_asap, while DEBUG PAUSE-CRON holds the cron).
    shutdown_wait: Option<ShutdownWait>,
    /// The `now` of the command being run, in ms.
    now: i64,
    /// DEBUG PAUSE-CRON: the cron skips its work.
    cron_paused: bool,
    /// Pub/sub subscriptions and keyspace-event classes.
    pubsub: crate::pubsub::PubSub,
    /// Client-side caching: the tracking and prefix tables.
    tracking: crate::tracking::Tracking,
    /// Set while re-running a blocked client's command: Some(true) once the
    /// command asked to block again.
    reexec: Option<bool>,
    /// Starts the task that drives a new link with a master
    /// (`crate::link::start`, installed by the server at start-up; none in
    /// unit tests).
    link_driver: Option<LinkDriver>,
    /// Re-binds the TCP listeners after CONFIG SET port/bind
    /// (`crate::server::rebind`, installed at start-up).
    rebinder: Option<Rebinder>,
    /// The TLS contexts in use (Redis's redis_tls_ctx), once configured.
    tls: Option<Arc<crate::tls::TlsContext>>,
    /// Lua scripting: the interpreter, the script cache, the busy state.
    scripting: crate::script::Scripting,
    /// Persistence: saves, loads, the dirty counter.
    persist: crate::persist::state::Persistence,
    /// The append-only file.
    aof: crate::persist::aof::state::Aof,
    /// Makes the fake client that replays the AOF through dispatch
    /// (installed by the server at start-up; none in unit tests).
    aof_runner: Option<AofRunner>,
    /// The slow log.
    slowlog: crate::slowlog::SlowLog,
    /// The latency monitor's events.
    latency: crate::latency::LatencyMonitor,
    /// MIGRATE's connections.
    migrate_links: crate::migrate::MigrateLinks,
    /// ACL users and the ACL log.
    acl: crate::acl::Acl,
}

/// Makes the AOF replay's fake client.
pub type AofRunner = fn() -> Box<dyn AofReplay>;

/// Runs the commands read from the AOF, as Redis's fake AOF client
/// (`persist::aof::load`); the dispatch layer implements it.
pub trait AofReplay {
    /// Run one command. `false` when there is no such command.
    fn run(&mut self, eng: &mut Engine, argv: Vec<Bytes>) -> bool;
    /// Whether the fake client is inside MULTI.
    fn in_multi(&self) -> bool;
    /// Forget a MULTI left open (a reverted transaction).
    fn reset(&mut self);
}

/// Which listeners a rebind is about: the plain TCP ones (`port`, `bind`)
/// or the TLS ones (`tls-port`, `bind`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Listeners {
    /// `port`.
    Tcp,
    /// `tls-port`.
    Tls,
}

/// Binds the listeners the configuration asks for and serves them in place
/// of the old ones; an error leaves the old ones serving.
pub type Rebinder = fn(&mut Engine, Listeners) -> Result<(), String>;

/// Starts the task driving the link with our master of a given
/// generation; returns its handle, to abort it when the link is retired.
pub type LinkDriver = fn(Shared, u64) -> Option<tokio::task::AbortHandle>;

/// SHUTDOWN's flags (or a signal's, from shutdown-on-sigterm/-sigint).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ShutdownFlags {
    /// SAVE (Some(true)), NOSAVE (Some(false)), or as configured.
    pub save: Option<bool>,
    /// NOW: do not wait for lagging replicas.
    pub now: bool,
    /// FORCE: exit even when the final save or the first AOF fails.
    pub force: bool,
}

/// A shutdown that has not finished: waiting for replicas until
/// `deadline` (ms), with the clients blocked in SHUTDOWN; or, with no
/// deadline, a signal's shutdown the paused cron has not started.
#[derive(Clone, Debug, Default)]
pub struct ShutdownWait {
    /// When to give up waiting (ms); None: not started yet (a signal).
    pub deadline: Option<i64>,
    /// How to finish.
    pub flags: ShutdownFlags,
    /// Clients blocked in SHUTDOWN, answered if the shutdown fails.
    pub clients: Vec<u64>,
}

/// A shutdown request from SHUTDOWN or a signal.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ShutdownReq {
    /// Save first: Some(true) SAVE, Some(false) NOSAVE, None as configured.
    pub save: Option<bool>,
}

impl Engine {
    /// A fresh engine for a configuration.
    pub fn new(cfg: Config) -> Engine {
        let ndb = cfg.int(P::databases) as usize;
        let cfg_aof = cfg.str(P::appendonly) == "yes";
        let cfg_policy = cfg.str(P::maxmemory_policy).to_string();
        crate::alloc::set_precise(cfg.int(P::maxmemory) != 0);
        let now = crate::clock::now_ms();
        let mut eng = Engine {
            me: std::sync::Weak::new(),
            lfu_mode: cfg.str(P::maxmemory_policy).contains("lfu"),
            pubsub: crate::pubsub::PubSub::new(
                crate::config::notify_flags(cfg.str(P::notify_keyspace_events)).unwrap_or(0),
            ),
            buf_limits: crate::config::buffer_limits(cfg.str(P::client_output_buffer_limit)),
            tracking: Default::default(),
            cfg,
            stats: crate::stats::Stats::new(now),
            start_ms: now,
            rng: SmallRng::from_entropy(),
            shutdown: None,
            shutdown_wake: Arc::default(),
            shutdown_wait: None,
            now,
            cron_paused: false,
            reexec: None,
            keyspace: Keyspace::new(ndb),
            evict: crate::keyspace::Eviction::new(crate::keyspace::Policy::parse(
                cfg_policy.as_str(),
            )),
            repl: crate::repl::Replication::new(now / 1000),
            persist: crate::persist::state::Persistence::new(now / 1000),
            aof: crate::persist::aof::state::Aof::new(cfg_aof),
            aof_runner: None,
            clients: Default::default(),
            link_driver: None,
            rebinder: None,
            tls: None,
            scripting: crate::script::Scripting::new(),
            slowlog: Default::default(),
            latency: Default::default(),
            migrate_links: Default::default(),
            acl: crate::acl::Acl::new(),
        };
        let pass = eng.cfg.str(P::requirepass).as_bytes().to_vec();
        if !pass.is_empty() {
            eng.acl.set_default_password(&pass);
        }
        eng
    }

    /// Eviction's state.
    pub fn evict_state(&self) -> &crate::keyspace::Eviction {
        &self.evict
    }

    /// Eviction's state, to change.
    pub fn evict_state_mut(&mut self) -> &mut crate::keyspace::Eviction {
        &mut self.evict
    }

    /// The access field for a new value under the current policy, with
    /// the mark of an unshared small integer when maxmemory with an LRU
    /// or LFU policy forbids sharing it (Redis's
    /// MAXMEMORY_FLAG_NO_SHARED_INTEGERS).
    pub fn new_value_field(&self, v: &crate::keyspace::Value) -> u32 {
        let field = self.lru_clock();
        if matches!(v, crate::keyspace::Value::Int(n) if (0..10_000).contains(n))
            && self.cfg.int(P::maxmemory) != 0
            && self.evict.policy().no_shared_integers()
        {
            field | crate::keyspace::UNSHARED_INT
        } else {
            field
        }
    }

    /// ACL users and the ACL log.
    pub fn acl(&self) -> &crate::acl::Acl {
        &self.acl
    }

    /// ACL users and the ACL log, to change.
    pub fn acl_mut(&mut self) -> &mut crate::acl::Acl {
        &mut self.acl
    }

    /// Redis's LRU clock: seconds, 24 bits.
    pub fn lru_seconds(&self) -> u32 {
        ((self.now / 1000) as u32) & ((1 << 24) - 1)
    }

    /// Whether an LFU maxmemory policy is selected.
    pub fn lfu(&self) -> bool {
        self.lfu_mode
    }

    fn lfu_minutes(&self) -> u32 {
        ((self.now / 60_000) as u32) & 0xffff
    }

    /// The access field for a new key: the LRU clock, or under an LFU
    /// policy Redis's (minutes << 8 | LFU_INIT_VAL).
    pub fn lru_clock(&self) -> u32 {
        if self.lfu() {
            (self.lfu_minutes() << 8) | 5
        } else {
            self.lru_seconds()
        }
    }

    /// The access field for a key RESTOREd with IDLETIME or FREQ
    /// (objectSetLRUOrLFU): under LRU an idle time moves the clock back,
    /// under LFU a frequency sets the counter; otherwise a fresh field.
    pub fn access_field(&self, idle_secs: Option<i64>, freq: Option<u32>) -> u32 {
        const LRU_MAX: i64 = (1 << 24) - 1;
        match (self.lfu(), idle_secs, freq) {
            (true, _, Some(f)) => (self.lfu_minutes() << 8) | f.min(255),
            (false, Some(idle), _) => {
                let mut abs = self.lru_seconds() as i64 - idle;
                if abs < 0 {
                    abs = (self.lru_seconds() as i64 + LRU_MAX / 2) % LRU_MAX;
                }
                abs as u32
            }
            _ => self.lru_clock(),
        }
    }

    /// The LFU counter after decay (Redis's LFUDecrAndReturn).
    pub fn lfu_counter(&self, field: u32) -> u32 {
        lfu_decayed(field, self.lfu_minutes(), self.lfu_decay_time())
    }

    /// The LFU clock (minutes, 16 bits) and lfu-decay-time, for code that
    /// decays many counters with [`lfu_decayed`] while it borrows the
    /// keyspace (eviction's sampling).
    pub fn lfu_clock_and_decay(&self) -> (u32, u32) {
        (self.lfu_minutes(), self.lfu_decay_time())
    }

    fn lfu_decay_time(&self) -> u32 {
        self.cfg.int(P::lfu_decay_time).max(0) as u32
    }

    /// Update a key's access field on a read or write (LRU or LFU).
    pub fn access(&mut self, field: u32) -> u32 {
        if !self.lfu() {
            return self.lru_seconds();
        }
        let mut counter = self.lfu_counter(field);
        if counter < 255 {
            let base = counter.saturating_sub(5) as f64;
            let p = 1.0 / (base * self.cfg.int(P::lfu_log_factor) as f64 + 1.0);
            if rand::Rng::gen::<f64>(&mut self.rng) < p {
                counter += 1;
            }
        }
        (self.lfu_minutes() << 8) | counter
    }

    /// Look up the second argument of every command of a pipelined batch
    /// (the key, for most commands) before running any of them. The
    /// lookups do not depend on each other, so their cache misses overlap;
    /// the commands then find their keys' table lines and entries in the
    /// cache. A lookup of something that is not a key costs only itself.
    pub fn warm_keys(&self, db: usize, batch: &std::collections::VecDeque<Vec<Bytes>>) {
        let Some(d) = self.keyspace.dbs().get(db) else {
            return;
        };
        let mut found = 0usize;
        for args in batch {
            if let Some(key) = args.get(1) {
                found += usize::from(d.get(key).is_some());
            }
        }
        std::hint::black_box(found);
    }

    /// The engine's own handle, for work that runs outside the lock
    /// (background saves, the replica's link task); None in unit tests.
    pub fn handle(&self) -> Option<Shared> {
        self.me.upgrade()
    }

    /// Give the engine its own handle, once it is shared.
    pub fn set_handle(&mut self, me: std::sync::Weak<EngineLock>) {
        self.me = me;
    }

    /// Install what starts a link's task when this node becomes a replica.
    pub fn set_link_driver(&mut self, start: LinkDriver) {
        self.link_driver = Some(start);
    }

    /// Install what re-binds the listeners.
    pub fn set_rebinder(&mut self, r: Rebinder) {
        self.rebinder = Some(r);
    }

    /// Re-bind the TCP (or TLS) listeners to the configured `bind` and
    /// `port` (`tls-port`); a no-op without a server, as in unit tests.
    pub fn rebind(&mut self, which: Listeners) -> Result<(), String> {
        match self.rebinder {
            Some(r) => r(self, which),
            None => Ok(()),
        }
    }

    /// The TLS contexts in use, once configured.
    pub fn tls(&self) -> Option<Arc<crate::tls::TlsContext>> {
        self.tls.clone()
    }

    /// Build the TLS contexts from the configuration and use them from
    /// the next connection on (Redis's tlsConfigure); on failure, log why
    /// as Redis does and keep the contexts in use (the error is what was
    /// logged).
    pub fn configure_tls(&mut self) -> Result<(), String> {
        match crate::tls::TlsContext::build(&self.cfg) {
            Ok(ctx) => {
                self.tls = Some(Arc::new(ctx));
                Ok(())
            }
            Err(why) => {
                tracing::warn!("{why}");
                Err(why)
            }
        }
    }

    /// What starts a link's task, once the server installed it.
    pub fn link_driver(&self) -> Option<LinkDriver> {
        self.link_driver
    }

    /// The live configuration.
    #[inline]
    pub fn cfg(&self) -> &Config {
        &self.cfg
    }

    /// The live configuration, to change; the caller then reports each
    /// changed directive with [`Engine::config_changed`].
    pub fn cfg_mut(&mut self) -> &mut Config {
        &mut self.cfg
    }

    /// A directive changed: refresh what is cached from it (read on hot
    /// paths: the LFU switch, output-buffer limits, keyspace-event flags).
    pub fn config_changed(&mut self, name: &str) {
        match name {
            "maxmemory-policy" => {
                self.lfu_mode = self.cfg.str(P::maxmemory_policy).contains("lfu");
                self.evict.set_policy(crate::keyspace::Policy::parse(
                    self.cfg.str(P::maxmemory_policy),
                ));
            }
            "client-output-buffer-limit" => {
                self.buf_limits =
                    crate::config::buffer_limits(self.cfg.str(P::client_output_buffer_limit));
            }
            "requirepass" => {
                let pass = self.cfg.str(P::requirepass).as_bytes().to_vec();
                self.acl.set_default_password(&pass);
            }
            "acllog-max-len" => {
                let n = self.cfg.int(P::acllog_max_len).max(0) as usize;
                self.acl.log_trim(n);
            }
            "notify-keyspace-events" => {
                let flags = crate::config::notify_flags(self.cfg.str(P::notify_keyspace_events))
                    .unwrap_or(0);
                self.pubsub.set_notify_flags(flags);
            }
            _ => {}
        }
    }

    /// Set this process's OOM-killer score for its role (`oom-score-adj`,
    /// Redis's setOOMScoreAdj(-1)); false (logged) when it failed.
    pub fn apply_oom_score(&self) -> bool {
        let class = if self.is_replica() {
            crate::util::oom::REPLICA
        } else {
            crate::util::oom::MASTER
        };
        crate::util::oom::apply(
            self.cfg.str(P::oom_score_adj),
            self.cfg.str(P::oom_score_adj_values),
            class,
        )
    }

    /// client-output-buffer-limit for a class: 0 normal, 1 replica,
    /// 2 pubsub.
    #[inline]
    pub fn buf_limit(&self, class: usize) -> crate::config::BufLimit {
        self.buf_limits[class]
    }

    /// When the server started (ms).
    pub fn start_ms(&self) -> i64 {
        self.start_ms
    }

    /// The time of the command being run (ms): one clock read per batch.
    #[inline]
    pub fn now(&self) -> i64 {
        self.now
    }

    /// Whether DEBUG PAUSE-CRON stopped the cron's work.
    pub fn cron_paused(&self) -> bool {
        self.cron_paused
    }

    /// DEBUG PAUSE-CRON.
    pub fn set_cron_paused(&mut self, on: bool) {
        self.cron_paused = on;
    }

    /// Read the clock for what runs next.
    #[inline]
    pub fn set_now(&mut self, ms: i64) {
        self.now = ms;
    }

    /// The random source (RANDOMKEY, SPOP, LFU counters, …).
    pub fn rng(&mut self) -> &mut SmallRng {
        &mut self.rng
    }

    /// The slow log.
    pub fn slowlog(&self) -> &crate::slowlog::SlowLog {
        &self.slowlog
    }

    /// The slow log, to change.
    pub fn slowlog_mut(&mut self) -> &mut crate::slowlog::SlowLog {
        &mut self.slowlog
    }

    /// MIGRATE's cached connections.
    pub fn migrate_links(&self) -> &crate::migrate::MigrateLinks {
        &self.migrate_links
    }

    /// MIGRATE's cached connections, to use.
    pub fn migrate_links_mut(&mut self) -> &mut crate::migrate::MigrateLinks {
        &mut self.migrate_links
    }

    /// The latency monitor.
    pub fn latency(&self) -> &crate::latency::LatencyMonitor {
        &self.latency
    }

    /// The latency monitor, to change.
    pub fn latency_mut(&mut self) -> &mut crate::latency::LatencyMonitor {
        &mut self.latency
    }

    /// Record `ms` of latency for `event` if `latency-monitor-threshold`
    /// asks for it (Redis's latencyAddSampleIfNeeded).
    pub fn latency_sample(&mut self, event: &str, ms: u64) {
        let threshold = self.cfg.int(P::latency_monitor_threshold);
        self.latency
            .add_if_needed(event, ms, threshold, || crate::clock::now_ms() / 1000);
    }

    /// Pub/sub.
    pub fn pubsub(&self) -> &crate::pubsub::PubSub {
        &self.pubsub
    }

    /// Pub/sub, to change.
    pub fn pubsub_mut(&mut self) -> &mut crate::pubsub::PubSub {
        &mut self.pubsub
    }

    /// Client-side caching.
    pub fn tracking(&self) -> &crate::tracking::Tracking {
        &self.tracking
    }

    /// Client-side caching, to change (modes, remembered keys, the running
    /// client); invalidations go through the `tracking_*` methods, which
    /// know where to deliver.
    pub fn tracking_mut(&mut self) -> &mut crate::tracking::Tracking {
        &mut self.tracking
    }

    /// `key` changed, by client `by` (0: no client, e.g. an expiry): tell
    /// the clients that may cache it (Redis's signalModifiedKey's half
    /// that is tracking's).
    #[inline]
    pub fn tracking_invalidate(&mut self, key: &[u8], by: u64) {
        if !self.tracking.in_use() {
            return;
        }
        let (tracking, sink) = self.tracking_and_sink();
        tracking.invalidate(&sink, key, by, true);
    }

    /// The tracking table beside where its invalidations go (the clients'
    /// outboxes, their buffer limits, the time).
    fn tracking_and_sink(&mut self) -> (&mut crate::tracking::Tracking, crate::tracking::Sink<'_>) {
        let sink = crate::tracking::Sink {
            clients: &self.clients,
            normal: self.buf_limits[0],
            pubsub: self.buf_limits[2],
            now: self.now,
        };
        (&mut self.tracking, sink)
    }

    /// Databases were flushed: every tracking client is told everything
    /// changed.
    pub fn tracking_invalidate_all(&mut self) {
        if !self.tracking.in_use() {
            return;
        }
        let (tracking, sink) = self.tracking_and_sink();
        tracking.invalidate_all(&sink);
    }

    /// Keep the tracking table within `tracking-table-max-keys`.
    pub fn tracking_limit(&mut self) {
        if !self.tracking.active() {
            return;
        }
        let max = self.cfg.int(P::tracking_table_max_keys).max(0) as usize;
        let (tracking, sink) = self.tracking_and_sink();
        tracking.limit(&sink, max);
    }

    /// Send BCAST clients the keys changed since the last time (once per
    /// batch and per cron turn).
    #[inline]
    pub fn tracking_broadcast(&mut self) {
        if !self.tracking.broadcast_due() {
            return;
        }
        let (tracking, sink) = self.tracking_and_sink();
        tracking.broadcast(&sink);
    }

    /// A `call` ends: at the outermost one, the running client (speaking
    /// `proto`) gets the invalidations queued for it.
    #[inline]
    pub fn tracking_leave_call(&mut self, proto: resp::encode::Proto) {
        let (tracking, sink) = self.tracking_and_sink();
        tracking.leave_call(&sink, proto);
    }

    /// A client's CLIENT LIST line at `now`, with its tracking mode's flags
    /// (`t`, `R`, `B`) and `redir=`, which the tracking subsystem holds.
    pub fn client_info_line(&self, cl: &crate::client::Client, now: i64) -> String {
        self.running_client_info_line(cl, now, 0)
    }

    /// [`Engine::client_info_line`] of the client running a command whose
    /// arguments take `argv` bytes (Redis counts them in its argv-mem and
    /// tot-mem while it runs).
    pub fn running_client_info_line(
        &self,
        cl: &crate::client::Client,
        now: i64,
        argv: usize,
    ) -> String {
        use crate::tracking::mode;
        let extra = self.tracking.prefix_memory(cl.id);
        let Some(f) = self.tracking.flags(cl.id) else {
            return cl.info_line(now, ("", -1), extra, argv);
        };
        let mut letters = String::from("t");
        if f & mode::BROKEN_REDIR != 0 {
            letters.push('R');
        }
        if f & mode::BCAST != 0 {
            letters.push('B');
        }
        let redir = self.tracking.redirect(cl.id).unwrap_or(0) as i64;
        cl.info_line(now, (&letters, redir), extra, argv)
    }

    /// Leave MULTI state, dropping queued commands and WATCHes (DISCARD,
    /// and an EXEC that is refused or aborted).
    pub fn discard_transaction(&mut self, cl: &mut crate::client::Client) {
        use crate::client::flag;
        cl.multi.clear();
        cl.flags &= !(flag::MULTI | flag::DIRTY_EXEC);
        self.unwatch_all(cl);
    }

    /// Forget every WATCHed key of a client.
    pub fn unwatch_all(&mut self, cl: &mut crate::client::Client) {
        for (db, key) in cl.watched.drain(..) {
            self.keyspace.unwatch(db, key, cl.id);
        }
        self.keyspace.forget_cas(cl.id);
    }

    /// A client's memory as client eviction counts it (tot-mem).
    pub fn client_memory(&self, cl: &crate::client::Client) -> usize {
        cl.memory(self.tracking.prefix_memory(cl.id))
    }

    /// maxmemory-clients in bytes (a percentage is of maxmemory, off
    /// while maxmemory is 0); 0 off; never under 128 KB, so that a bad
    /// setting cannot cut every client off (getClientEvictionLimit).
    pub fn client_eviction_limit(&self) -> u64 {
        let v = self.cfg.str(P::maxmemory_clients);
        let limit = match v.strip_suffix('%') {
            Some(p) => {
                let p: u64 = p.parse().unwrap_or(0);
                self.cfg.int(P::maxmemory).max(0) as u64 * p / 100
            }
            None => v.parse().unwrap_or(0),
        };
        if limit == 0 {
            0
        } else {
            limit.max(128 * 1024)
        }
    }

    /// Redis's evictClients: while the normal and pub/sub clients together
    /// use maxmemory-clients or more, disconnect clients from the largest
    /// memory bucket down (log2 buckets, in the order clients entered
    /// their bucket), never those with CLIENT NO-EVICT. `current` is the
    /// client running a batch (out of the table meanwhile). True when it
    /// was evicted.
    pub fn evict_clients(&mut self, current: Option<&crate::client::Client>) -> bool {
        use crate::client::flag;
        let limit = self.client_eviction_limit();
        if limit == 0 {
            return false;
        }
        let mut total = 0u64;
        let mut all: Vec<&crate::client::Client> = self
            .clients
            .iter()
            .chain(current)
            .filter(|cl| cl.flags & (flag::REPLICA | flag::MASTER) == 0 && !cl.outbox.is_killed())
            .collect();
        // Clients new to their bucket enter it in connection order, as
        // Redis walks its client list.
        all.sort_unstable_by_key(|cl| cl.id);
        let mut cands: Vec<((std::cmp::Reverse<u64>, u64), u64, &crate::client::Client)> =
            Vec::new();
        for cl in all {
            let m = self.client_memory(cl) as u64;
            total += m;
            if cl.flags & flag::NO_EVICT == 0 {
                let (bucket, seq) = cl.outbox.eviction_bucket(m as usize);
                cands.push(((std::cmp::Reverse(bucket), seq), m, cl));
            }
        }
        if total < limit {
            return false;
        }
        cands.sort_unstable_by_key(|c| c.0);
        let now = self.now;
        let mut evicted = Vec::new();
        let mut cands = cands.into_iter();
        while total >= limit {
            let Some((_, m, cl)) = cands.next() else {
                tracing::warn!("Over client maxmemory after evicting all evictable clients");
                break;
            };
            tracing::info!("Evicting client: {}", self.client_info_line(cl, now));
            cl.outbox.kill();
            evicted.push(cl.id);
            total -= m;
        }
        self.stats
            .add(crate::stats::Counter::EvictedClients, evicted.len() as u64);
        current.is_some_and(|c| evicted.contains(&c.id))
    }

    /// A blocked client's command is about to be re-run.
    pub fn begin_rerun(&mut self) {
        self.reexec = Some(false);
    }

    /// Whether a blocked client's command is being re-run.
    pub fn rerunning(&self) -> bool {
        self.reexec.is_some()
    }

    /// The re-run command found nothing and blocks again.
    pub fn block_again(&mut self) {
        self.reexec = Some(true);
    }

    /// Whether the re-run command blocked again.
    pub fn blocked_again(&self) -> bool {
        self.reexec == Some(true)
    }

    /// The re-run is over.
    pub fn end_rerun(&mut self) {
        self.reexec = None;
    }

    /// The shutdown asked for, if any.
    pub fn shutdown_requested(&self) -> Option<ShutdownReq> {
        self.shutdown
    }

    /// SHUTDOWN ABORT.
    pub fn cancel_shutdown(&mut self) {
        self.shutdown = None;
    }

    /// The shutdown under way (waiting for replicas) or pending (a signal
    /// while the cron is paused).
    pub fn shutdown_wait(&self) -> Option<&ShutdownWait> {
        self.shutdown_wait.as_ref()
    }

    /// The shutdown under way, to change.
    pub fn shutdown_wait_mut(&mut self) -> Option<&mut ShutdownWait> {
        self.shutdown_wait.as_mut()
    }

    /// Start (or clear, with None) a shutdown that waits; the server's
    /// loop is woken to watch it.
    pub fn set_shutdown_wait(&mut self, w: Option<ShutdownWait>) -> Option<ShutdownWait> {
        let old = std::mem::replace(&mut self.shutdown_wait, w);
        self.shutdown_wake.notify_one();
        old
    }

    /// Woken when a shutdown is requested.
    pub fn shutdown_wake(&self) -> Arc<tokio::sync::Notify> {
        self.shutdown_wake.clone()
    }

    /// The keyspace.
    #[inline]
    pub fn keyspace(&self) -> &Keyspace {
        &self.keyspace
    }

    /// The keyspace, to change.
    #[inline]
    pub fn keyspace_mut(&mut self) -> &mut Keyspace {
        &mut self.keyspace
    }

    /// The databases and the random source together, for commands that
    /// pick at random from a value they borrow (SPOP, RANDOMKEY, …).
    pub fn dbs_and_rng(&mut self) -> (&mut [crate::keyspace::Db], &mut SmallRng) {
        (self.keyspace.dbs_mut(), &mut self.rng)
    }

    /// The keyspace, the random source and eviction's state together:
    /// eviction samples keys into its pool while it borrows the keyspace.
    pub fn evict_sampling(&mut self) -> (&Keyspace, &mut SmallRng, &mut crate::keyspace::Eviction) {
        (&self.keyspace, &mut self.rng, &mut self.evict)
    }

    /// Replication.
    pub fn repl(&self) -> &crate::repl::Replication {
        &self.repl
    }

    /// Replication, to change.
    pub fn repl_mut(&mut self) -> &mut crate::repl::Replication {
        &mut self.repl
    }

    /// Connected clients.
    pub fn clients(&self) -> &crate::clients::Clients {
        &self.clients
    }

    /// Connected clients, to change.
    pub fn clients_mut(&mut self) -> &mut crate::clients::Clients {
        &mut self.clients
    }

    /// Scripting.
    pub fn scripting(&self) -> &crate::script::Scripting {
        &self.scripting
    }

    /// Scripting, to change.
    pub fn scripting_mut(&mut self) -> &mut crate::script::Scripting {
        &mut self.scripting
    }

    /// Persistence.
    pub fn persist(&self) -> &crate::persist::state::Persistence {
        &self.persist
    }

    /// Persistence, to change.
    pub fn persist_mut(&mut self) -> &mut crate::persist::state::Persistence {
        &mut self.persist
    }

    /// Statistics.
    pub fn stats(&self) -> &crate::stats::Stats {
        &self.stats
    }

    /// Statistics, to count in.
    pub fn stats_mut(&mut self) -> &mut crate::stats::Stats {
        &mut self.stats
    }

    /// Ask the server to shut down, unless it already is; wakes the task
    /// that carries it out.
    pub fn request_shutdown(&mut self, req: ShutdownReq) {
        if self.shutdown.is_none() {
            self.shutdown = Some(req);
        }
        self.shutdown_wake.notify_one();
    }

    /// Whether the server is over `maxmemory` for the command about to
    /// run (Redis's `server.pre_command_oom_state`: processCommand's
    /// `performEvictions() == EVICT_FAIL`). Scripts decide with it: a
    /// script without `allow-oom` is refused (-OOM allow-oom flag is not
    /// set…), and a script's first write of a `denyoom` command is refused
    /// (-OOM command not allowed…). It is dispatch's verdict before the
    /// command (Redis's pre_command_oom_state), after evicting what the
    /// policy allowed.
    pub fn over_maxmemory(&self) -> bool {
        self.evict.pre_command_oom()
    }

    /// Whether this node is a replica.
    pub fn is_replica(&self) -> bool {
        !self.cfg.str(P::replicaof).is_empty()
    }

    /// As a replica, whether the link with the master is up.
    pub fn master_link_up(&self) -> bool {
        self.repl.master_link_up()
    }

    /// CLIENT PAUSE (WRITE or ALL) also holds expiry, active and passive,
    /// as Redis's checkClientPauseTimeoutAndReturnIfPaused.
    pub fn expiry_paused(&self) -> bool {
        self.clients.pause().until > self.now
    }

    /// Whether anything would receive propagated writes now (a backlog,
    /// the AOF, or an open EXEC unit collecting them).
    #[inline]
    pub fn propagating(&self) -> bool {
        self.repl.backlog_active() || self.repl.in_unit() || self.aof.feeding()
    }

    /// The append-only file.
    pub fn aof(&self) -> &crate::persist::aof::state::Aof {
        &self.aof
    }

    /// Install the AOF replay's client maker.
    pub fn set_aof_runner(&mut self, f: AofRunner) {
        self.aof_runner = Some(f);
    }

    /// The AOF replay's client maker.
    pub fn aof_runner(&self) -> Option<AofRunner> {
        self.aof_runner
    }

    /// The append-only file, to change.
    pub fn aof_mut(&mut self) -> &mut crate::persist::aof::state::Aof {
        &mut self.aof
    }

    /// Deliver a pub/sub message; returns how many subscribers got it.
    pub fn publish(&mut self, channel: &[u8], msg: &[u8]) -> usize {
        let limit = self.buf_limits[2];
        self.pubsub
            .publish(self.clients.outboxes(), limit, self.now, channel, msg)
    }

    /// Deliver a shard-channel message (SPUBLISH); returns how many
    /// subscribers got it.
    pub fn spublish(&mut self, channel: &[u8], msg: &[u8]) -> usize {
        let limit = self.buf_limits[2];
        self.pubsub
            .spublish(self.clients.outboxes(), limit, self.now, channel, msg)
    }

    /// Publish a keyspace notification when enabled.
    pub fn notify_keyspace(&mut self, class: u32, event: &str, db: usize, key: &[u8]) {
        let flags = self.pubsub.notify_flags();
        if flags & class == 0 {
            return;
        }
        use crate::config::notify::{KEYEVENT, KEYSPACE};
        if flags & KEYSPACE != 0 {
            let mut ch = format!("__keyspace@{db}__:").into_bytes();
            ch.extend_from_slice(key);
            self.publish(&ch, event.as_bytes());
        }
        if flags & KEYEVENT != 0 {
            let ch = format!("__keyevent@{db}__:{event}").into_bytes();
            self.publish(&ch, key);
        }
    }
}

/// An LFU access field's counter decayed by the minutes elapsed since its
/// last decrement (`now` the 16-bit minute clock), one per `decay`
/// minutes (Redis's LFUDecrAndReturn).
pub fn lfu_decayed(field: u32, now: u32, decay: u32) -> u32 {
    let ldt = field >> 8;
    let counter = field & 255;
    let elapsed = if now >= ldt {
        now - ldt
    } else {
        65535 - ldt + now
    };
    let periods = elapsed.checked_div(decay).unwrap_or(0);
    counter.saturating_sub(periods)
}
