//! The listeners, the cron and shutdown.
//!
//! TCP listeners on every `bind` address (a `-` prefix marks an address
//! that may be missing) and the `unixsocket`; one task per connection; a
//! cron task at `hz` that runs the active expire cycle, samples ops/sec and
//! triggers `save` points; and the shutdown path for SIGTERM/SIGINT and
//! SHUTDOWN.

use crate::engine::lock;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use tokio::net::{TcpListener, UnixListener};

use crate::config::P;
use crate::conn::{serve, Peer};
use crate::engine::{Listeners, Shared};
use crate::keyspace::NSEG;

/// Bind the TCP listeners Redis would bind for this configuration
/// (addresses with a `-` prefix are optional). Synchronous, so that CONFIG
/// SET port/bind can answer with the failure.
fn bind_tcp(bind: &str, port: u16, backlog: u32) -> std::io::Result<Vec<TcpListener>> {
    let mut out = Vec::new();
    for addr in bind.split_whitespace() {
        let (optional, addr) = match addr.strip_prefix('-') {
            Some(a) => (true, a),
            None => (false, addr),
        };
        let host = match addr {
            "*" => "0.0.0.0",
            "::*" => "::",
            a => a,
        };
        let sa = if host.contains(':') {
            format!("[{host}]:{port}")
        } else {
            format!("{host}:{port}")
        };
        let bound = sa
            .parse::<std::net::SocketAddr>()
            .map_err(std::io::Error::other)
            .and_then(|a| {
                let s = if a.is_ipv4() {
                    tokio::net::TcpSocket::new_v4()?
                } else {
                    let s = tokio::net::TcpSocket::new_v6()?;
                    v6_only(&s)?;
                    s
                };
                s.set_reuseaddr(true)?;
                s.bind(a)?;
                s.listen(backlog)
            });
        match bound {
            Ok(l) => out.push(l),
            Err(e) if optional => tracing::debug!("Could not bind optional address {sa}: {e}"),
            Err(e) => {
                tracing::warn!("Warning: Could not create server TCP listening socket {sa}: {e}");
                return Err(e);
            }
        }
    }
    Ok(out)
}

/// An IPv6 listener takes IPv6 connections only (IPV6_V6ONLY), as
/// Redis's anetV6Only: without it the `::` of the default `bind * -::*`
/// would also claim the IPv4 port that `*` has just bound, fail with
/// EADDRINUSE and, being optional, be skipped silently, leaving the server
/// deaf on `::1`, where `localhost` resolves first on most systems (and
/// where Sentinel, resolving `localhost`, connects).
fn v6_only(s: &tokio::net::TcpSocket) -> std::io::Result<()> {
    let fd = std::os::fd::AsRawFd::as_raw_fd(s);
    let yes: libc::c_int = 1;
    // SAFETY: `fd` is the open socket `s` owns for the whole call, and the
    // option value is a c_int that lives on the stack across it, with its
    // size passed alongside.
    #[allow(unsafe_code)]
    let rc = unsafe {
        libc::setsockopt(
            fd,
            libc::IPPROTO_IPV6,
            libc::IPV6_V6ONLY,
            std::ptr::addr_of!(yes).cast(),
            std::mem::size_of::<libc::c_int>() as libc::socklen_t,
        )
    };
    if rc == 0 {
        Ok(())
    } else {
        Err(std::io::Error::last_os_error())
    }
}

/// A task accepting on a listener, with the listener's descriptor.
struct Acceptor {
    task: tokio::task::JoinHandle<()>,
    fd: std::os::fd::RawFd,
}

impl Acceptor {
    /// Stop listening now, then end the task. The task drops the listener
    /// only when the runtime next polls it; until then new connections
    /// would still be accepted (a client told OK by CONFIG SET bind/port
    /// could still connect), so the socket leaves the listening state
    /// first, as Redis's close() of the listener does at once.
    fn stop(self) -> tokio::task::JoinHandle<()> {
        // SAFETY: the task owns the listener and has not been aborted, so
        // the descriptor is still the listener's; shutdown() changes the
        // socket's state only (Linux refuses new connections to it).
        #[allow(unsafe_code)]
        unsafe {
            libc::shutdown(self.fd, libc::SHUT_RDWR);
        }
        self.task.abort();
        self.task
    }
}

/// The tasks accepting on the TCP listeners and on the TLS listeners,
/// each stopped when its kind is replaced.
static ACCEPTORS: std::sync::Mutex<[Vec<Acceptor>; 2]> =
    std::sync::Mutex::new([Vec::new(), Vec::new()]);

/// Stop accepting before shutting down: the listeners are closed (their
/// tasks ended) before any client sees its connection close, so that a
/// client reconnecting after a SHUTDOWN is refused, as by Redis, rather
/// than accepted by a server about to exit.
async fn close_listeners() {
    let tasks: Vec<_> = {
        let mut a = ACCEPTORS.lock().unwrap_or_else(|p| p.into_inner());
        a.iter_mut().flat_map(std::mem::take).collect()
    };
    for t in tasks {
        let _ = t.stop().await;
    }
}

/// Serve `listeners` in place of the listeners of the same kind served so
/// far.
fn serve_listeners(
    shared: &Shared,
    busy: std::sync::Arc<crate::script::Busy>,
    listeners: Vec<TcpListener>,
    kind: Listeners,
) {
    let mut acceptors = ACCEPTORS.lock().unwrap_or_else(|p| p.into_inner());
    let slot = &mut acceptors[kind as usize];
    for a in slot.drain(..) {
        a.stop();
    }
    for l in listeners {
        let fd = std::os::fd::AsRawFd::as_raw_fd(&l);
        let sh = shared.clone();
        let bz = busy.clone();
        let task = tokio::spawn(async move {
            loop {
                match l.accept().await {
                    Ok((sock, addr)) => {
                        let _ = sock.set_nodelay(true);
                        let laddr = sock.local_addr().map(|a| a.to_string()).unwrap_or_default();
                        let peer = Peer {
                            addr: addr.to_string(),
                            laddr,
                            local: addr.ip().is_loopback(),
                            unix: false,
                        };
                        match kind {
                            Listeners::Tcp => {
                                tokio::spawn(serve(sh.clone(), sock, peer, bz.clone()));
                            }
                            Listeners::Tls => {
                                tokio::spawn(accept_tls(sh.clone(), sock, peer, bz.clone()));
                            }
                        }
                    }
                    Err(e) => {
                        tracing::warn!("Accepting client connection: {e}");
                        tokio::time::sleep(Duration::from_millis(10)).await;
                    }
                }
            }
        });
        slot.push(Acceptor { task, fd });
    }
}

/// TLS connections in their handshake.
static HANDSHAKES: AtomicUsize = AtomicUsize::new(0);

/// A connection on the TLS port: the handshake with the contexts in use
/// and the `tls-auth-clients` of now, then the same connection code as a
/// plain one. A failed handshake is logged as Redis logs it.
async fn accept_tls(
    shared: Shared,
    sock: tokio::net::TcpStream,
    peer: Peer,
    busy: std::sync::Arc<crate::script::Busy>,
) {
    // A connection in its handshake holds a client slot, as in Redis
    // (which creates the client at accept): handshakes that never finish
    // cannot pile up past maxclients.
    let ssl = {
        let mut e = lock(&shared);
        let maxclients = e.cfg().int(P::maxclients) as usize;
        if e.clients().connected() + HANDSHAKES.load(Ordering::Relaxed) >= maxclients {
            e.stats_mut().add(crate::stats::Counter::Rejected, 1);
            return;
        }
        let auth = crate::tls::AuthClients::from_config(e.cfg());
        e.tls().map(|t| t.accept_ssl(auth))
    };
    HANDSHAKES.fetch_add(1, Ordering::Relaxed);
    struct Done;
    impl Drop for Done {
        fn drop(&mut self) {
            HANDSHAKES.fetch_sub(1, Ordering::Relaxed);
        }
    }
    let done = Done;
    let ssl = match ssl {
        Some(Ok(ssl)) => ssl,
        Some(Err(why)) => {
            tracing::warn!("Error accepting a client connection: {why}");
            return;
        }
        // A TLS listener exists only once TLS is configured.
        None => return,
    };
    // A client that does not speak TLS fails the handshake as in Redis
    // (OpenSSL's "wrong version number"), and is dropped.
    match crate::tls::accept(ssl, sock).await {
        Ok(tls) => {
            drop(done);
            serve(shared, tls, peer, busy).await
        }
        Err(why) => tracing::warn!("Error accepting a client connection: {why}"),
    }
}

/// CONFIG SET port / tls-port / bind: bind the new listeners first, then
/// drop the old ones (Redis's changeListenPort); on failure the old ones
/// keep serving.
fn rebind(eng: &mut crate::engine::Engine, kind: Listeners) -> Result<(), String> {
    let Some(shared) = eng.handle() else {
        return Ok(());
    };
    let port = match kind {
        Listeners::Tcp => eng.cfg().int(P::port),
        Listeners::Tls => eng.cfg().int(P::tls_port),
    } as u16;
    let listeners = if port > 0 {
        let backlog = eng.cfg().int(P::tcp_backlog).clamp(1, u32::MAX as i64) as u32;
        bind_tcp(eng.cfg().str(P::bind), port, backlog)
            .map_err(|e| format!("Unable to listen on this port: {e}"))?
    } else {
        Vec::new()
    };
    serve_listeners(&shared, eng.scripting().busy(), listeners, kind);
    Ok(())
}

/// Run the server until shutdown. Returns the exit code.
pub async fn run(shared: Shared) -> i32 {
    lock(&shared).set_link_driver(crate::link::start);
    lock(&shared).set_rebinder(rebind);
    lock(&shared).set_aof_runner(crate::commands::aof::new_runner);
    let (bind, port, unixsocket, perm, pidfile) = {
        let e = lock(&shared);
        (
            e.cfg().str(P::bind).to_string(),
            e.cfg().int(P::port) as u16,
            e.cfg().str(P::unixsocket).to_string(),
            e.cfg().str(P::unixsocketperm).to_string(),
            e.cfg().str(P::pidfile).to_string(),
        )
    };
    let aof_on = lock(&shared).aof().state() == crate::persist::aof::AofState::On;
    let startup_load = if aof_on {
        // Clients accepted from now on get -LOADING until the log is in.
        lock(&shared).persist_mut().set_loading(true);
        None
    } else {
        match crate::persist::load::open_startup(&shared) {
            Ok(l) => l,
            Err(_) => return 1,
        }
    };
    let tls_port = lock(&shared).cfg().int(P::tls_port) as u16;
    if crate::tls::wanted(lock(&shared).cfg()) && lock(&shared).configure_tls().is_err() {
        tracing::warn!("Failed to configure TLS. Check logs for more info.");
        return 1;
    }
    let backlog = lock(&shared)
        .cfg()
        .int(P::tcp_backlog)
        .clamp(1, u32::MAX as i64) as u32;
    let listeners = if port > 0 {
        match bind_tcp(&bind, port, backlog) {
            Ok(l) => l,
            Err(_) => {
                // Redis's wording; its test suite looks for it to retry on
                // another port.
                tracing::warn!("Failed listening on port {port} (TCP), aborting.");
                return 1;
            }
        }
    } else {
        Vec::new()
    };
    let tls_listeners = if tls_port > 0 {
        match bind_tcp(&bind, tls_port, backlog) {
            Ok(l) => l,
            Err(_) => {
                tracing::warn!("Failed listening on port {tls_port} (TLS), aborting.");
                return 1;
            }
        }
    } else {
        Vec::new()
    };
    if listeners.is_empty() && tls_listeners.is_empty() && unixsocket.is_empty() {
        tracing::warn!("Configured to not listen anywhere, exiting.");
        return 1;
    }
    // As Redis (initServer listens before the banner): once this line is
    // out, the port accepts connections, which answer -LOADING while the
    // dataset loads.
    tracing::info!(
        "Running mode=standalone, port={}. PID: {}",
        if port != 0 { port } else { tls_port },
        std::process::id()
    );
    tracing::info!("Server initialized");
    // As Redis's main, after the banner (a test harness waits for it before
    // it reads why start-up stopped): the manifest is read whether or not
    // the AOF is on.
    if crate::persist::aof::load_manifest_from_disk(&mut lock(&shared)).is_err() {
        return 1;
    }
    let busy = lock(&shared).scripting().busy();
    serve_listeners(&shared, busy.clone(), listeners, Listeners::Tcp);
    serve_listeners(&shared, busy, tls_listeners, Listeners::Tls);
    if !unixsocket.is_empty() {
        let _ = std::fs::remove_file(&unixsocket);
        match UnixListener::bind(&unixsocket) {
            Ok(l) => {
                if let Ok(mode) = u32::from_str_radix(&perm, 8) {
                    if mode != 0 {
                        use std::os::unix::fs::PermissionsExt;
                        let _ = std::fs::set_permissions(
                            &unixsocket,
                            std::fs::Permissions::from_mode(mode),
                        );
                    }
                }
                let sh = shared.clone();
                let bz = lock(&shared).scripting().busy();
                let path = unixsocket.clone();
                tokio::spawn(async move {
                    loop {
                        if let Ok((sock, _)) = l.accept().await {
                            let peer = Peer {
                                addr: format!("{path}:0"),
                                laddr: format!("{path}:0"),
                                local: true,
                                unix: true,
                            };
                            tokio::spawn(serve(sh.clone(), sock, peer, bz.clone()));
                        }
                    }
                });
                tracing::info!("The server is now ready to accept connections at {unixsocket}");
            }
            Err(e) => {
                tracing::warn!("Failed opening Unix socket: {e}");
                return 1;
            }
        }
    }
    if !pidfile.is_empty() {
        if let Err(e) = std::fs::write(&pidfile, format!("{}\n", std::process::id())) {
            tracing::warn!("Failed to write PID file: {e}");
        }
    }
    // used_memory_startup: the server ready, before any data is loaded
    // (Redis measures it at the end of initServer, before
    // loadDataFromDisk), so INFO's overhead and dataset fields and MEMORY
    // STATS leave the loaded keys in the dataset.
    crate::alloc::mark_startup();
    crate::persist::aof::crash::init();
    if aof_on {
        let sh = shared.clone();
        let loaded =
            tokio::task::spawn_blocking(move || crate::commands::aof::load_at_startup(&sh)).await;
        if !matches!(loaded, Ok(Ok(()))) {
            return 1;
        }
    }
    {
        let mut e = lock(&shared);
        if crate::persist::aof::open_on_start(&mut e).is_err() {
            return 1;
        }
        crate::persist::aof::done::del_history_files(&mut e);
    }
    if let Some(load) = startup_load {
        let sh = shared.clone();
        let loaded =
            tokio::task::spawn_blocking(move || crate::persist::load::load_startup(&sh, load))
                .await;
        match loaded {
            Ok(Ok(())) => {}
            _ => return 1,
        }
    }
    crate::repl::replica::start_from_config(&shared);
    tracing::info!("Ready to accept connections");
    {
        let e = lock(&shared);
        crate::watchdog::set_period(e.cfg().int(P::watchdog_period), e.cfg().int(P::hz));
        // As Redis's main(): the OOM score of its role (a replicaof in the
        // configuration already set it through set_master).
        e.apply_oom_score();
    }
    let cron = tokio::spawn(cron(shared.clone()));
    let evictor = tokio::spawn(evict_over_time(shared.clone()));
    wait_for_shutdown(&shared).await;
    close_listeners().await;
    cron.abort();
    evictor.abort();
    finish_shutdown(&shared, &pidfile, &unixsocket)
}

async fn wait_for_shutdown(shared: &Shared) {
    use tokio::signal::unix::{signal, SignalKind};
    let mut term = signal(SignalKind::terminate()).ok();
    let mut int = signal(SignalKind::interrupt()).ok();
    let wake = lock(shared).shutdown_wake();
    loop {
        // A shutdown waiting for replicas (or for the paused cron) is
        // looked at every 10 ms, as often as Redis's cron at hz 100.
        let waiting = lock(shared).shutdown_wait().is_some();
        let tick = async {
            if waiting {
                tokio::time::sleep(Duration::from_millis(10)).await;
            } else {
                std::future::pending::<()>().await;
            }
        };
        tokio::select! {
            _ = async { match term.as_mut() { Some(s) => { s.recv().await; } None => std::future::pending().await } } => {
                tracing::warn!("Received SIGTERM scheduling shutdown...");
                if signal_shutdown(shared, P::shutdown_on_sigterm) {
                    return;
                }
            }
            _ = async { match int.as_mut() { Some(s) => { s.recv().await; } None => std::future::pending().await } } => {
                tracing::warn!("Received SIGINT scheduling shutdown...");
                if signal_shutdown(shared, P::shutdown_on_sigint) {
                    return;
                }
            }
            _ = wake.notified() => {
                if lock(shared).shutdown_requested().is_some() {
                    return;
                }
            }
            _ = tick => {
                if crate::commands::server::shutdown_tick(&mut lock(shared)) {
                    return;
                }
            }
        }
    }
}

/// A signal asked for a shutdown (Redis's shutdown_asap): started at once
/// with the flags of shutdown-on-sigterm / -sigint, or by the next tick
/// while DEBUG PAUSE-CRON holds the cron (SHUTDOWN ABORT can still cancel
/// it then). True when the server must exit now.
fn signal_shutdown(shared: &Shared, which: P) -> bool {
    let mut e = lock(shared);
    if e.shutdown_wait().is_some() {
        // Already under way (or already pending).
        return false;
    }
    let mut flags = crate::engine::ShutdownFlags::default();
    for w in e.cfg().str(which).split(' ') {
        match w {
            "save" => flags.save = Some(true),
            "nosave" => flags.save = Some(false),
            "now" => flags.now = true,
            "force" => flags.force = true,
            _ => {}
        }
    }
    if e.cron_paused() {
        e.set_shutdown_wait(Some(crate::engine::ShutdownWait {
            deadline: None,
            flags,
            clients: Vec::new(),
        }));
        return false;
    }
    crate::commands::server::prepare_shutdown(&mut e, flags)
        == crate::commands::server::Shutdown::Exit
}

fn finish_shutdown(shared: &Shared, pidfile: &str, unixsocket: &str) -> i32 {
    let mut e = lock(shared);
    let req = e
        .shutdown_requested()
        .unwrap_or(crate::engine::ShutdownReq { save: None });
    let want_save = match req.save {
        Some(s) => s,
        None => !crate::config::save_points(e.cfg().str(P::save)).is_empty(),
    };
    if e.persist().saving() {
        tracing::warn!("There is a child saving an .rdb. Killing it!");
        crate::persist::snapshot::cancel_bgsave(&mut e);
    }
    crate::persist::aof::shutdown(&mut e);
    if want_save {
        tracing::info!("Saving the final RDB snapshot before exiting.");
        if crate::persist::save_blocking(&mut e).is_err() {
            tracing::warn!("Error trying to save the DB, can't exit.");
        }
    }
    if !pidfile.is_empty() {
        tracing::info!("Removing the pid file.");
        let _ = std::fs::remove_file(pidfile);
    }
    if !unixsocket.is_empty() {
        tracing::info!("Removing the unix socket file.");
        let _ = std::fs::remove_file(unixsocket);
    }
    tracing::warn!("Redis is now ready to exit, bye bye...");
    0
}

/// Eviction that goes on over time (Redis's evictionTimeProc): started
/// when memory stays over maxmemory after a round's time limit, or by
/// CONFIG SET maxmemory; one round per turn, the lock given back between
/// rounds, until memory is fine or nothing is left to evict.
async fn evict_over_time(shared: Shared) {
    let wake = lock(&shared).evict_state().waker();
    loop {
        wake.notified().await;
        loop {
            let more = {
                let mut e = lock(&shared);
                e.set_now(crate::clock::now_ms());
                let more = crate::keyspace::evict::eviction_proc_round(&mut e);
                e.tracking_broadcast();
                more
            };
            if !more {
                break;
            }
            tokio::task::yield_now().await;
        }
    }
}

/// The periodic task: active expiry, ops/sec samples, save points.
async fn cron(shared: Shared) {
    let mut last_sample = 0i64;
    let mut last_repl_cron = 0i64;
    loop {
        let hz = lock(&shared).cfg().int(P::hz).clamp(1, 500);
        tokio::time::sleep(Duration::from_millis((1000 / hz) as u64)).await;
        let now = crate::clock::now_ms();
        {
            let mut e = lock(&shared);
            if e.cron_paused() {
                continue;
            }
            e.set_now(now);
            if now - last_sample >= 100 {
                e.stats_mut().sample_ops(now);
                last_sample = now;
            }
            crate::persist::cron(&mut e);
            crate::persist::aof::cron(&mut e);
            // Redis's databasesCron: a master expires keys actively (below),
            // a replica only those its own clients gave a TTL.
            if e.keyspace().active_expire() && e.is_replica() {
                crate::keyspace::expire::expire_replica_keys(&mut e);
            }
            // Client-side caching: the table within its limit even when
            // idle, and BCAST invalidations of what changed meanwhile
            // (expiries, the master's stream).
            e.tracking_limit();
            e.tracking_broadcast();
            e.evict_clients(None);
            let (shrinks, expands) = e.clients().cron_resize_buffers(now);
            e.stats_mut()
                .add(crate::stats::Counter::ReplyShrinks, shrinks);
            e.stats_mut()
                .add(crate::stats::Counter::ReplyExpands, expands);
            crate::repl::master::trim_backlog(&e);
            if now / 1000 != last_repl_cron {
                last_repl_cron = now / 1000;
                crate::repl::failover::update_failover(&mut e);
                crate::repl::master::cron(&mut e);
                enforce_output_limits(&e, now);
                e.migrate_links_mut().close_idle(now / 1000);
            }
            crate::watchdog::beat(now);
        }
        active_expire_cycle(&shared, hz);
    }
}

/// Drop clients whose output stays over its soft limit, as Redis's
/// clientsCron: normal and pub/sub clients by their queue, replicas by the
/// part of the shared replication buffer they hold (they are also checked
/// as the stream grows). The master's link is not limited.
fn enforce_output_limits(e: &crate::engine::Engine, now: i64) {
    use crate::client::flag;
    let replica_limit = crate::repl::master::replica_buf_limit(e);
    for c in e.clients().iter() {
        if c.flags & flag::MASTER != 0 {
            continue;
        }
        let replica = c.flags & flag::REPLICA != 0 && c.flags & flag::MONITOR == 0;
        let limit = if replica {
            replica_limit
        } else if c.subscriptions() > 0 {
            e.buf_limit(2)
        } else {
            e.buf_limit(0)
        };
        if c.outbox.enforce_limit(limit, now) {
            if replica {
                tracing::warn!(
                    "Client id={} addr={} closed for overcoming of output buffer limits.",
                    c.id,
                    c.addr
                );
            } else {
                crate::pubsub::log_overflow(c.id);
            }
        }
    }
}

/// Reclaim expired keys that nobody reads, as Redis's activeExpireCycle:
/// at most 25% of each cron period, in chunks that take the lock briefly,
/// walking segments round-robin so every volatile key is eventually seen.
fn active_expire_cycle(shared: &Shared, hz: i64) {
    let start = std::time::Instant::now();
    let budget = Duration::from_micros((250_000 / hz) as u64);
    let mut keys = Vec::new();
    loop {
        let mut e = lock(shared);
        let now = crate::clock::now_ms();
        e.set_now(now);
        if !e.keyspace().active_expire() || e.is_replica() || e.expiry_paused() {
            return;
        }
        let ndb = e.keyspace().num_dbs();
        let (mut db, mut seg) = e.keyspace().expire_cursor();
        let mut visited = 0;
        let mut work = 0;
        let mut expired = 0;
        // One chunk: up to 256 segments or 2000 keys examined.
        while visited < 256 && work < 2000 {
            if db >= ndb {
                db = 0;
            }
            if e.keyspace().db(db).volatile_len() == 0 {
                db += 1;
                seg = 0;
                visited += 1;
                if visited > ndb && e.keyspace().dbs().iter().all(|d| d.volatile_len() == 0) {
                    break;
                }
                continue;
            }
            work += e.keyspace().db(db).seg_volatile(seg) as usize;
            keys.clear();
            e.keyspace().db(db).expired_in_segment(seg, now, &mut keys);
            expired += keys.len();
            for k in &keys {
                crate::keyspace::expire::delete_expired(&mut e, db, k);
            }
            seg += 1;
            if seg >= NSEG {
                seg = 0;
                db += 1;
            }
            visited += 1;
        }
        e.keyspace_mut().set_expire_cursor((db, seg));
        // BCAST clients hear of the keys that expired.
        e.tracking_broadcast();
        let elapsed = start.elapsed();
        e.stats_mut().add(
            crate::stats::Counter::ExpireCycleCpuMs,
            elapsed.as_millis() as u64,
        );
        e.latency_sample("expire-cycle", elapsed.as_millis() as u64);
        drop(e);
        // Like Redis, keep going only while more than 10% of what we look
        // at is expired and the time budget lasts.
        if elapsed >= budget || (work < 2000 && visited < 256) || expired * 10 < work {
            return;
        }
    }
}
