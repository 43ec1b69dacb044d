//! The link with our master: the connection-layer task that drives a
//! replica's side of replication, as `conn.rs` drives a client's
//! connection. It connects, runs the handshake (whose decisions live in
//! `repl::handshake`), receives a full resync (`readSyncBulkPayload`) or
//! continues partially, and applies the master's stream through dispatch
//! as the MASTER client's commands. Replication state and its transitions
//! live in `repl::replica`; this task only moves bytes and calls them.
//!
//! One task per link (`run_link`) owns the socket. It takes the engine lock
//! only to read its settings, to apply a batch of the master's commands, or
//! to install a loaded dataset; it never waits under the lock. A
//! `generation` number ties the task to one REPLICAOF: when the user points
//! the node elsewhere (or says NO ONE), the old task notices and ends.
//!
//! The master's stream is applied command by command with a MASTER client
//! (its SELECT, its MULTI), and the exact bytes applied are fed to our own
//! backlog and replicas, so chained replicas see the same stream and
//! offsets as we do. Bytes of a MULTI block count only once its EXEC is
//! applied, so a link cut inside a transaction resumes before its MULTI.

use std::time::Duration;

use bytes::{Buf, BytesMut};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::tls::Stream;

use crate::client::{flag, Client};
use crate::config::P;
use crate::engine::{lock, Engine, Shared};
use crate::repl::handshake::{self, Failover, Handshake, Outcome, Step};
use crate::repl::replica::{Link, LinkState};

fn current(shared: &Shared, generation: u64) -> bool {
    lock(shared)
        .repl()
        .link()
        .is_some_and(|l| l.generation == generation)
}

fn with_link(shared: &Shared, generation: u64, f: impl FnOnce(&mut Engine, &mut Link)) {
    crate::repl::replica::with_link(&mut lock(shared), generation, f);
}

/// Start the task for the link of `generation` on the running runtime
/// (the driver `repl::replica::set_master` calls).
pub fn start(shared: Shared, generation: u64) -> Option<tokio::task::AbortHandle> {
    let h = tokio::runtime::Handle::try_current().ok()?;
    Some(h.spawn(run_link(shared, generation)).abort_handle())
}

/// The link task: connect, sync, stream; reconnect at once when an
/// established link drops, else retry on each cron tick.
pub async fn run_link(shared: Shared, generation: u64) {
    while current(&shared, generation) {
        let res = session(&shared, generation).await;
        if !current(&shared, generation) {
            return;
        }
        let was_up = lock(&shared).repl().master_link_up();
        if let Err(e) = res {
            if was_up {
                tracing::warn!("Connection with master lost.");
            }
            tracing::warn!("{e}");
        }
        crate::repl::replica::link_lost(&mut lock(&shared), generation);
        if was_up {
            // An established link that drops reconnects at once (Redis
            // 7.0's replicationHandleMasterDisconnection: waiting risks the
            // master's backlog moving past us).
            let (host, port) = lock(&shared)
                .repl()
                .link()
                .map_or((String::new(), 0), |l| (l.host.clone(), l.port));
            tracing::info!("Reconnecting to MASTER {host}:{port}");
            continue;
        }
        // A failed attempt retries on the replication cron's next tick
        // (each wall-clock second, repl::master::cron), as Redis's
        // replicationCron.
        let into_second = crate::clock::now_ms().rem_euclid(1000) as u64;
        tokio::time::sleep(Duration::from_millis(1000 - into_second)).await;
    }
}

/// A socket to the master with a read buffer.
struct MasterConn {
    sock: Stream,
    buf: BytesMut,
    timeout: Duration,
}

type LinkResult<T> = Result<T, String>;

impl MasterConn {
    async fn fill(&mut self) -> LinkResult<()> {
        // A full sync hands the buffer's bytes to the loader (split off),
        // so room for the next read may have to be made here.
        if self.buf.capacity() - self.buf.len() < 16 * 1024 {
            self.buf.reserve(64 * 1024);
        }
        match tokio::time::timeout(self.timeout, self.sock.read_buf(&mut self.buf)).await {
            Err(_) => Err("Timeout connecting to the MASTER...".into()),
            Ok(Err(e)) => Err(format!("Error reading from MASTER: {e}")),
            Ok(Ok(0)) => Err("Master closed the connection".into()),
            Ok(Ok(_)) => Ok(()),
        }
    }

    /// One reply line; empty lines (the master's keep-alive newlines while
    /// it prepares the RDB) are skipped.
    async fn line(&mut self) -> LinkResult<String> {
        loop {
            if let Some(p) = self.buf.iter().position(|&b| b == b'\n') {
                let raw = self.buf.split_to(p + 1);
                let text = String::from_utf8_lossy(&raw[..p])
                    .trim_end_matches('\r')
                    .to_string();
                if text.is_empty() {
                    continue;
                }
                return Ok(text);
            }
            if self.buf.len() > 64 * 1024 {
                return Err("Master sent an overlong reply line".into());
            }
            self.fill().await?;
        }
    }

    async fn send(&mut self, args: &[&[u8]]) -> LinkResult<()> {
        let mut out = Vec::new();
        resp::encode::command(&mut out, args);
        self.write(&out).await
    }

    /// Several commands in one write (the pipelined handshake).
    async fn send_all(&mut self, cmds: &[Vec<Vec<u8>>]) -> LinkResult<()> {
        let mut out = Vec::new();
        for cmd in cmds {
            let args: Vec<&[u8]> = cmd.iter().map(Vec::as_slice).collect();
            resp::encode::command(&mut out, &args);
        }
        self.write(&out).await
    }

    async fn write(&mut self, bytes: &[u8]) -> LinkResult<()> {
        // Flushed: over TLS the session keeps what it could not send.
        let r = match self.sock.write_all(bytes).await {
            Ok(()) => self.sock.flush().await,
            Err(e) => Err(e),
        };
        r.map_err(|e| format!("Error writing to MASTER: {e}"))
    }
}

struct Settings {
    host: String,
    port: u16,
    /// bind-source-addr: the local address to connect from.
    source: Option<String>,
    timeout: Duration,
    handshake: handshake::Config,
    /// With `tls-replication`, the client side of the TLS contexts (None
    /// inside when TLS could not be configured).
    tls: Option<Option<openssl::ssl::SslContext>>,
}

/// Connect to `addr`, from `source` (bind-source-addr) when set.
async fn connect(addr: &str, source: Option<&str>) -> std::io::Result<TcpStream> {
    let Some(source) = source else {
        return TcpStream::connect(addr).await;
    };
    let mut last = std::io::Error::other("no address");
    for to in tokio::net::lookup_host(addr).await? {
        let sock = if to.is_ipv4() {
            tokio::net::TcpSocket::new_v4()?
        } else {
            tokio::net::TcpSocket::new_v6()?
        };
        let from: std::net::IpAddr = source
            .parse()
            .map_err(|_| std::io::Error::other(format!("Invalid bind-source-addr {source}")))?;
        sock.bind(std::net::SocketAddr::new(from, 0))?;
        match sock.connect(to).await {
            Ok(s) => return Ok(s),
            Err(e) => last = e,
        }
    }
    Err(last)
}

async fn session(shared: &Shared, generation: u64) -> LinkResult<()> {
    let st = {
        let eng = lock(shared);
        let Some(l) = eng.repl().link().filter(|l| l.generation == generation) else {
            return Ok(());
        };
        let announce_port = eng.cfg().int(P::replica_announce_port);
        let user = eng.cfg().str(P::masteruser);
        let pass = eng.cfg().str(P::masterauth);
        let announce_ip = eng.cfg().str(P::replica_announce_ip);
        let source = eng.cfg().str(P::bind_source_addr);
        Settings {
            host: l.host.clone(),
            port: l.port,
            source: (!source.is_empty()).then(|| source.to_string()),
            timeout: Duration::from_secs(eng.cfg().int(P::repl_timeout).max(1) as u64),
            handshake: handshake::Config {
                auth: (!pass.is_empty()).then(|| {
                    (
                        (!user.is_empty()).then(|| user.to_string()),
                        pass.to_string(),
                    )
                }),
                port: if announce_port > 0 {
                    announce_port as u16
                } else if eng.cfg().bool(P::tls_replication) && eng.cfg().int(P::tls_port) != 0 {
                    eng.cfg().int(P::tls_port) as u16
                } else {
                    eng.cfg().int(P::port) as u16
                },
                announce_ip: (!announce_ip.is_empty()).then(|| announce_ip.to_string()),
                cached: l.cached.clone(),
                failing_over: eng.repl().failing_over(),
            },
            tls: eng
                .cfg()
                .bool(P::tls_replication)
                .then(|| eng.tls().map(|t| t.client_context())),
        }
    };
    with_link(shared, generation, |_, l| l.state = LinkState::Connecting);
    tracing::info!("MASTER <-> REPLICA sync started");
    let addr = format!("{}:{}", st.host, st.port);
    let sock = match tokio::time::timeout(st.timeout, connect(&addr, st.source.as_deref())).await {
        Ok(Ok(s)) => s,
        Ok(Err(e)) => return Err(format!("Error condition on socket for SYNC: {e}")),
        Err(_) => return Err("Timeout connecting to the MASTER...".into()),
    };
    let _ = sock.set_nodelay(true);
    let sock = match st.tls {
        None => Stream::Tcp(sock),
        Some(None) => {
            return Err("Error condition on socket for SYNC: TLS is not configured".into())
        }
        Some(Some(ctx)) => {
            match tokio::time::timeout(st.timeout, Stream::connect_tls(ctx, sock)).await {
                Ok(Ok(s)) => s,
                Ok(Err(e)) => return Err(format!("Error condition on socket for SYNC: {e}")),
                Err(_) => return Err("Timeout connecting to the MASTER...".into()),
            }
        }
    };
    tracing::info!("Non blocking connect for SYNC fired the event.");
    with_link(shared, generation, |_, l| l.state = LinkState::Handshake);
    let mut mc = MasterConn {
        sock,
        buf: BytesMut::with_capacity(64 * 1024),
        timeout: st.timeout,
    };
    // The handshake (handshake.rs) decides; this loop only moves its
    // commands and replies over the socket.
    let mut hs = Handshake::new(st.handshake);
    let mut next = Some(vec![hs.start()]);
    let (outcome, failover) = loop {
        if let Some(cmds) = next.take() {
            mc.send_all(&cmds).await?;
        }
        let reply = mc.line().await?;
        let step = hs.on_reply(&reply);
        for line in hs.take_logs() {
            tracing::info!("{line}");
        }
        match step {
            Step::Send(cmds) => next = Some(cmds),
            Step::Wait => {}
            Step::Done { outcome, failover } => break (outcome, failover),
        }
    };
    match failover {
        Some(Failover::Accepted) => crate::repl::failover::clear_failover(&mut lock(shared)),
        Some(Failover::Rejected) => crate::repl::failover::abort_failover(
            &mut lock(shared),
            "Failover target rejected psync request",
        ),
        None => {}
    }
    match outcome {
        Outcome::FullResync { replid, offset } => {
            full_sync(shared, generation, &mut mc, &replid, offset).await?;
        }
        Outcome::Continue { new_replid } => {
            crate::repl::replica::partial_resync_accepted(&mut lock(shared), new_replid);
            tracing::info!("MASTER <-> REPLICA sync: Master accepted a Partial Resynchronization.");
        }
        Outcome::Retry(why) | Outcome::Fail(why) => return Err(why),
    }
    stream(shared, generation, mc).await
}

/// Receive the RDB into a temp file, then load it.
async fn full_sync(
    shared: &Shared,
    generation: u64,
    mc: &mut MasterConn,
    replid: &str,
    offset: i64,
) -> LinkResult<()> {
    let head = mc.line().await?;
    lock(shared).persist_mut().set_loaded_stream_db(None);
    let (dir, dbfilename, swapdb) = {
        let eng = lock(shared);
        let swapdb = (eng.cfg().str(P::repl_diskless_load) == "swapdb").then(|| {
            // Redis 7.0 serves the old data while loading (async_loading)
            // only when the master's history is ours: the old data is then
            // an earlier point of the same dataset. Otherwise it answers
            // -LOADING, and keeps the old data only in case the load fails.
            if eng.repl().replid() == replid {
                Aside::Async
            } else {
                Aside::Loading
            }
        });
        (
            std::path::PathBuf::from(eng.cfg().str(P::dir)),
            eng.cfg().str(P::dbfilename).to_string(),
            swapdb,
        )
    };
    if let Some(err) = head.strip_prefix('-') {
        return Err(format!("MASTER aborted replication with an error: {err}"));
    }
    let Some(h) = head.strip_prefix('$') else {
        return Err(format!(
            "Bad protocol from MASTER, the first byte is not '$' (we received '{head}'), are you sure the host and port are right?"
        ));
    };
    let mark = h.strip_prefix("EOF:").map(|m| m.as_bytes().to_vec());
    let len: i64 = match &mark {
        Some(m) if m.len() == 40 => -1,
        Some(_) => return Err("Bad EOF mark from MASTER".into()),
        None => h
            .parse()
            .map_err(|_| format!("Bad bulk length from MASTER: {head}"))?,
    };
    // repl-diskless-load: swapdb always parses from the socket (the old
    // data serves reads until the swap); on-empty-db only when we hold
    // nothing; disabled goes through a file, as Redis.
    let mode = lock(shared).cfg().str(P::repl_diskless_load).to_string();
    let empty = lock(shared).keyspace().dbs().iter().all(|d| d.is_empty());
    let from_socket = swapdb.is_some() || (mode == "on-empty-db" && empty);
    let target = if from_socket { "parser" } else { "disk" };
    if mark.is_some() {
        tracing::info!(
            "MASTER <-> REPLICA sync: receiving streamed RDB from master with EOF to {target}"
        );
    } else {
        tracing::info!("MASTER <-> REPLICA sync: receiving {len} bytes from master to {target}");
    }
    with_link(shared, generation, |_, l| {
        l.state = LinkState::Transfer;
        l.transfer = (len, 0);
    });
    if from_socket {
        // Parse while receiving: the loader thread reads what the link
        // task forwards, so transfer and load overlap.
        let (tx, rx) = tokio::sync::mpsc::channel::<bytes::Bytes>(64);
        let sh = shared.clone();
        let loader = tokio::task::spawn_blocking(move || {
            let reader = ChanReader {
                rx,
                cur: bytes::Bytes::new(),
            };
            load_synced(&sh, reader, swapdb)
        });
        let received = receive(
            shared,
            generation,
            mc,
            Sink::Loader(tx),
            len,
            mark.as_deref(),
        )
        .await;
        let loaded = loader
            .await
            .map_err(|e| format!("Loading task failed: {e}"))?;
        received?;
        loaded?;
    } else {
        let tmp = dir.join(format!(
            "temp-{}.{}.rdb",
            crate::clock::now_secs(),
            std::process::id()
        ));
        let sink = std::fs::File::create(&tmp)
            .map(|f| Sink::File(std::io::BufWriter::with_capacity(1 << 16, f)))
            .map_err(|e| {
                format!("Opening the temp file needed for MASTER <-> REPLICA synchronization: {e}")
            })?;
        // Removed however the transfer ends, also when REPLICAOF aborts
        // this task (Redis's replicationAbortSyncTransfer).
        let mut guard = TempFile(Some(tmp.clone()));
        receive(shared, generation, mc, sink, len, mark.as_deref()).await?;
        // Load it: the old dataset is replaced only once the new one is in.
        let file = dir.join(&dbfilename);
        if let Err(e) = std::fs::rename(&tmp, &file) {
            return Err(format!(
                "Failed trying to rename the temp DB into {dbfilename} in MASTER <-> REPLICA synchronization: {e}"
            ));
        }
        guard.0 = None;
        let sh = shared.clone();
        let loaded = tokio::task::spawn_blocking(move || {
            let f = std::fs::File::open(&file).map_err(|e| {
                format!("Failed trying to load the MASTER synchronization DB from disk: {e}")
            })?;
            load_synced(&sh, std::io::BufReader::with_capacity(1 << 16, f), swapdb)
        })
        .await
        .map_err(|e| format!("Loading task failed: {e}"))?;
        loaded?;
    }
    let mut eng = lock(shared);
    crate::repl::replica::full_sync_loaded(&mut eng, replid, offset);
    tracing::info!("MASTER <-> REPLICA sync: Finished with success");
    Ok(())
}

/// A temp file deleted when dropped, unless taken out first.
struct TempFile(Option<std::path::PathBuf>);

impl Drop for TempFile {
    fn drop(&mut self) {
        if let Some(p) = self.0.take() {
            let _ = std::fs::remove_file(p);
        }
    }
}

/// Where received RDB bytes go: a temp file, or a loader thread parsing
/// them as they arrive (diskless load). The loader gets the socket's
/// buffer itself, split off, not a copy.
enum Sink {
    File(std::io::BufWriter<std::fs::File>),
    Loader(tokio::sync::mpsc::Sender<bytes::Bytes>),
}

impl Sink {
    async fn put(&mut self, bytes: bytes::Bytes) -> LinkResult<()> {
        use std::io::Write as _;
        if bytes.is_empty() {
            return Ok(());
        }
        match self {
            Sink::File(w) => w.write_all(&bytes).map_err(|e| {
                format!("Write error writing to the DB dump file needed for MASTER <-> REPLICA synchronization: {e}")
            }),
            Sink::Loader(tx) => tx
                .send(bytes)
                .await
                .map_err(|_| "The loader stopped reading the RDB from the socket".to_string()),
        }
    }

    fn finish(self) -> LinkResult<()> {
        use std::io::Write as _;
        match self {
            Sink::File(mut w) => {
                let io = |e: std::io::Error| {
                    format!("Write error writing to the DB dump file needed for MASTER <-> REPLICA synchronization: {e}")
                };
                w.flush().map_err(io)?;
                let f = w.into_inner().map_err(|e| io(e.into_error()))?;
                f.sync_all().map_err(io)
            }
            // Dropping the sender is the end of the stream for the loader.
            Sink::Loader(_) => Ok(()),
        }
    }
}

/// Move the RDB from the socket to `sink`: `len` bytes, or up to `mark`.
async fn receive(
    shared: &Shared,
    generation: u64,
    mc: &mut MasterConn,
    mut sink: Sink,
    len: i64,
    mark: Option<&[u8]>,
) -> LinkResult<()> {
    let mut got: i64 = 0;
    loop {
        match mark {
            None => {
                let want = (len - got) as usize;
                let n = want.min(mc.buf.len());
                sink.put(mc.buf.split_to(n).freeze()).await?;
                got += n as i64;
                if got == len {
                    break;
                }
            }
            Some(m) => {
                if let Some(p) = memchr::memmem::find(&mc.buf, m) {
                    sink.put(mc.buf.split_to(p).freeze()).await?;
                    got += p as i64;
                    mc.buf.advance(m.len());
                    break;
                }
                // Keep the last mark-1 bytes: the mark may straddle reads.
                let keep = (m.len() - 1).min(mc.buf.len());
                let n = mc.buf.len() - keep;
                sink.put(mc.buf.split_to(n).freeze()).await?;
                got += n as i64;
            }
        }
        with_link(shared, generation, |eng, l| {
            l.transfer.1 = got;
            l.last_io = eng.now();
        });
        mc.fill().await?;
    }
    sink.finish()?;
    with_link(shared, generation, |_, l| l.transfer.1 = got);
    Ok(())
}

/// `Read` over the chunks the link task hands the loader thread. Reads
/// are served from the current chunk without a syscall, so no BufReader
/// (and its extra copy) sits in front of it.
struct ChanReader {
    rx: tokio::sync::mpsc::Receiver<bytes::Bytes>,
    cur: bytes::Bytes,
}

impl std::io::Read for ChanReader {
    fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
        while self.cur.is_empty() {
            match self.rx.blocking_recv() {
                Some(v) => self.cur = v,
                None => return Ok(0),
            }
        }
        let n = out.len().min(self.cur.len());
        out[..n].copy_from_slice(&self.cur[..n]);
        self.cur.advance(n);
        Ok(n)
    }
}

/// Load the synced file: flush and load with -LOADING (repl-diskless-load
/// disabled/on-empty-db), or load aside and swap at the end (swapdb).
/// How repl-diskless-load swapdb serves clients while it loads aside.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Aside {
    /// The old data answers reads (INFO async_loading:1).
    Async,
    /// -LOADING (INFO loading:1); the old data is back if the load fails.
    Loading,
}

fn load_synced(
    shared: &Shared,
    reader: impl std::io::Read,
    swapdb: Option<Aside>,
) -> LinkResult<()> {
    if let Some(aside_mode) = swapdb {
        let (opts, ndb) = {
            let mut eng = lock(shared);
            match aside_mode {
                Aside::Async => eng.persist_mut().set_async_loading(true),
                Aside::Loading => eng.persist_mut().set_loading(true),
            }
            (
                crate::persist::load::LoadOpts::of(&eng),
                eng.keyspace().num_dbs(),
            )
        };
        let mut dbs: Vec<crate::keyspace::Db> = (0..ndb).map(|_| Default::default()).collect();
        tracing::info!("MASTER <-> REPLICA sync: Loading DB in memory");
        let lru = lock(shared).lru_clock();
        let aside = std::sync::Mutex::new(std::mem::take(&mut dbs));
        // The master's libraries replace ours once its data does (Redis
        // loads them into a temporary context and swaps it in).
        let mut libs = Vec::new();
        let res = crate::persist::load::load_pipelined(
            reader,
            &opts,
            |k, v| crate::persist::load::aux(shared, k, v),
            |code| {
                libs.push(code);
                Ok(())
            },
            |db, n| aside.lock().unwrap_or_else(|p| p.into_inner())[db].reserve(n),
            |batch| {
                let mut dbs = aside.lock().unwrap_or_else(|p| p.into_inner());
                crate::persist::load::insert_items(&mut dbs, batch, lru);
            },
            |_, _| {},
        );
        dbs = aside.into_inner().unwrap_or_else(|p| p.into_inner());
        match res {
            Ok((n, _, _)) => {
                let old = {
                    let mut eng = lock(shared);
                    // Our replicas' history ends here: they must resync
                    // with us (Redis's replicationAttachToNewMaster).
                    crate::repl::replica::disconnect_replicas(&mut eng);
                    let now = crate::clock::now_ms();
                    eng.keyspace_mut().touch_watched_replacing(&dbs, now);
                    let old = eng.keyspace_mut().replace_dbs(dbs);
                    eng.scripting_mut().functions_mut().flush(true);
                    for code in &libs {
                        if let Err(e) = crate::persist::load::install_function(&mut eng, code, true)
                        {
                            tracing::warn!("Failed loading library, {e}");
                        }
                    }
                    eng.persist_mut().set_loading(false);
                    eng.persist_mut().set_async_loading(false);
                    eng.tracking_invalidate_all();
                    eng.persist_mut().loaded_from_master(n);
                    old
                };
                // The old dataset is freed off the critical path, as a
                // lazy flush would: the link comes up without waiting for
                // millions of frees. (Redis frees it inline unless
                // replica-lazy-flush; nothing observable depends on it.)
                let freed = std::thread::Builder::new()
                    .name("relica-lazyfree".into())
                    .spawn(move || drop(old));
                if let Err(e) = freed {
                    tracing::warn!("Freeing the old dataset inline: {e}");
                }
                Ok(())
            }
            Err(e) => {
                // The old data stays, and serves again.
                let mut eng = lock(shared);
                eng.persist_mut().set_loading(false);
                eng.persist_mut().set_async_loading(false);
                Err(format!(
                    "Failed trying to load the MASTER synchronization DB from socket, check server logs. ({})",
                    e.0
                ))
            }
        }
    } else {
        {
            let mut eng = lock(shared);
            // Our replicas' history ends here: they must resync with us
            // (Redis's replicationAttachToNewMaster).
            crate::repl::replica::disconnect_replicas(&mut eng);
            tracing::info!("MASTER <-> REPLICA sync: Flushing old data");
            if eng.persist().saving() {
                crate::persist::snapshot::cancel_bgsave(&mut eng);
            }
            for db in eng.keyspace_mut().dbs_mut() {
                db.clear();
            }
            eng.scripting_mut().functions_mut().flush(true);
            eng.keyspace_mut().touch_all_watched(None);
            eng.tracking_invalidate_all();
            eng.persist_mut().set_loading(true);
        }
        tracing::info!("MASTER <-> REPLICA sync: Loading DB in memory");
        let res = crate::persist::load::load_from(shared, reader, |_, _| {});
        let mut eng = lock(shared);
        eng.persist_mut().set_loading(false);
        match res {
            Ok((n, _, _)) => {
                eng.persist_mut().loaded_from_master(n);
                Ok(())
            }
            Err(e) => {
                for db in eng.keyspace_mut().dbs_mut() {
                    db.clear();
                }
                Err(format!(
                    "Failed trying to load the MASTER synchronization DB from disk, check server logs. ({})",
                    e.0
                ))
            }
        }
    }
}

/// Apply the master's stream until the link drops or REPLICAOF changes.
async fn stream(shared: &Shared, generation: u64, mut mc: MasterConn) -> LinkResult<()> {
    let outbox = {
        let mut eng = lock(shared);
        let id = eng.clients_mut().new_id();
        let addr = mc
            .sock
            .tcp()
            .peer_addr()
            .map(|a| a.to_string())
            .unwrap_or_default();
        let laddr = mc
            .sock
            .tcp()
            .local_addr()
            .map(|a| a.to_string())
            .unwrap_or_default();
        let mut cl = Client::new(id, addr, laddr, false, false, eng.now());
        cl.flags |= flag::MASTER;
        cl.db = eng.repl().link().map_or(0, |l| l.db);
        cl.authenticated = true;
        // Our master may do anything (no ACL user, as Redis's NULL user).
        cl.user = b"(superuser)".to_vec();
        let ob = cl.outbox.clone();
        eng.clients_mut().insert(Box::new(cl));
        crate::repl::replica::link_established(&mut eng, id);
        ob
    };
    let mut dec = resp::RequestDecoder::new();
    let limits = resp::Limits {
        max_bulk_len: 1 << 40,
        ..resp::Limits::default()
    };
    let mut ack = tokio::time::interval(Duration::from_secs(1));
    // Applied bytes of an open MULTI block, counted at its EXEC.
    let mut held: Vec<u8> = Vec::new();
    let pause_changed = lock(shared).clients().pause_changed();
    // Held by CLIENT PAUSE: nothing is applied until the pause changes.
    let mut paused = false;
    loop {
        // Apply what is buffered.
        if !mc.buf.is_empty() && !paused {
            let Some(done) = apply(
                shared,
                generation,
                &mut mc.buf,
                &mut dec,
                &limits,
                &mut held,
            )?
            else {
                return Ok(());
            };
            for off in done.acks {
                mc.send(&[b"REPLCONF", b"ACK", off.to_string().as_bytes()])
                    .await?;
            }
            paused = done.paused;
        }
        // The read buffer is sized as Redis sizes the master client's
        // query buffer: a big argument gets room for exactly its bulk (not
        // a doubling to twice its size), and a buffer left large by one
        // is given back once empty (clientsCron's resize), so a 32 MB
        // value costs the replica 32 MB, not 100.
        if let Some(n) = dec.pending_bulk_len().filter(|&n| n >= 32 * 1024) {
            mc.buf.reserve((n + 2).saturating_sub(mc.buf.len()));
        } else if mc.buf.is_empty() && mc.buf.capacity() > 1 << 20 {
            mc.buf = BytesMut::with_capacity(64 * 1024);
        }
        // While paused, wake when the pause changes or ends, and keep
        // reading (counted in slave_read_repl_offset).
        let held_by_pause = paused;
        let pause_wait = async {
            if !held_by_pause {
                return std::future::pending::<()>().await;
            }
            let until = lock(shared).clients().pause().until;
            let left = (until - crate::clock::now_ms()).max(1) as u64;
            tokio::select! {
                _ = tokio::time::sleep(Duration::from_millis(left)) => {}
                _ = pause_changed.notified() => {}
            }
        };
        if outbox.is_killed() {
            return Err("Master link closed by REPLICAOF or CLIENT KILL".into());
        }
        tokio::select! {
            r = mc.sock.read_buf(&mut mc.buf) => {
                match r {
                    Ok(0) => return Err("Master closed the connection".into()),
                    Ok(_) => {}
                    Err(e) => return Err(format!("Error reading from MASTER: {e}")),
                }
                if paused {
                    let mut eng = lock(shared);
                    let now = crate::clock::now_ms();
                    if let Some(l) = eng.repl_mut().link_mut() {
                        l.unapplied = (mc.buf.len() + held.len()) as i64;
                        l.last_io = now;
                    }
                }
            }
            _ = pause_wait => paused = false,
            _ = ack.tick() => {
                let (off, silent, cur) = {
                    let eng = lock(shared);
                    let last = eng.repl().link().map_or(0, |l| l.last_io);
                    let timeout = eng.cfg().int(P::repl_timeout) * 1000;
                    (
                        eng.repl().offset(),
                        crate::clock::now_ms() - last > timeout,
                        eng.repl().link().is_some_and(|l| l.generation == generation),
                    )
                };
                if !cur {
                    return Ok(());
                }
                if silent {
                    return Err("MASTER timeout: no data nor PING received...".into());
                }
                mc.send(&[b"REPLCONF", b"ACK", off.to_string().as_bytes()]).await?;
            }
            _ = outbox.notify.notified() => {}
        }
    }
}

/// Apply the complete commands in `buf` under the lock, up to one CLIENT
/// PAUSE holds. None when this link is no longer the current one.
fn apply(
    shared: &Shared,
    generation: u64,
    buf: &mut BytesMut,
    dec: &mut resp::RequestDecoder,
    limits: &resp::Limits,
    held: &mut Vec<u8>,
) -> LinkResult<Option<Applied>> {
    let mut acks: Vec<i64> = Vec::new();
    let mut eng = lock(shared);
    if !eng
        .repl()
        .link()
        .is_some_and(|l| l.generation == generation)
    {
        return Ok(None);
    }
    let Some(id) = eng.repl().link().and_then(|l| l.client_id) else {
        return Ok(None);
    };
    let Some(mut cl) = eng.clients_mut().check_out(id) else {
        return Err("Master client gone".into());
    };
    eng.set_now(crate::clock::now_ms());
    let now = eng.now();
    if let Some(l) = eng.repl_mut().link_mut() {
        l.last_io = now;
    }
    let mut result = Ok(Some(()));
    let mut paused = false;
    loop {
        let args = match dec.decode(buf, limits) {
            Ok(Some(a)) => a,
            Ok(None) => break,
            Err(e) => {
                result = Err(format!("Protocol error from MASTER: {e}"));
                break;
            }
        };
        // Masters send canonical multibulk, so re-encoding gives back
        // exactly the bytes applied.
        let mut raw = Vec::new();
        let refs: Vec<&[u8]> = args.iter().map(|a| a.as_ref()).collect();
        resp::encode::command(&mut raw, &refs);
        let is_getack = args.len() >= 2
            && crate::commands::eq(&args[0], "replconf")
            && crate::commands::eq(&args[1], "getack");
        if !is_getack && crate::commands::dispatch::paused_for(&eng, &args, &cl.multi) {
            // CLIENT PAUSE holds our master's writes too, as in Redis: put
            // the command back and wait for the pause to end.
            let mut back = BytesMut::with_capacity(raw.len() + buf.len());
            back.extend_from_slice(&raw);
            back.extend_from_slice(buf);
            *buf = back;
            paused = true;
            break;
        }
        if is_getack {
            // The ACK excludes the GETACK itself, as in Redis.
            acks.push(eng.repl().offset());
        } else {
            let mut out = Vec::new();
            let known = crate::commands::lookup(&args[0]).is_some();
            crate::commands::dispatch::execute_from(&mut eng, &mut cl, args, &mut out, true);
            if out.first() == Some(&b'-') {
                let cmd = if known { cl.last_cmd } else { "<unknown>" };
                master_error(&mut eng, &out, cmd);
            }
            crate::blocking::handle_ready(&mut eng);
        }
        held.extend_from_slice(&raw);
        if !cl.in_multi() {
            eng.repl_mut().applied_from_master(held.len() as i64);
            let bytes = std::mem::take(held);
            crate::repl::master::feed_replicas(&mut eng, &bytes);
        }
    }
    let db = cl.db;
    eng.clients_mut().check_in(cl);
    // BCAST invalidations of what the master's stream changed.
    eng.tracking_broadcast();
    if let Some(l) = eng.repl_mut().link_mut() {
        l.unapplied = (buf.len() + held.len()) as i64;
        l.db = db;
    }
    result.map(|r| r.map(|_| Applied { acks, paused }))
}

/// A command from our master failed here (Redis's afterErrorReply for the
/// MASTER client): the error never reaches the master, so it is logged as
/// critical, counted, and with `propagation-error-behavior panic` (or
/// `panic-on-replicas`) on a read-only replica, the server stops: the
/// data may have diverged.
fn master_error(eng: &mut Engine, reply: &[u8], cmd: &str) {
    let body = &reply[1..];
    let end = body
        .iter()
        .position(|&b| b == b'\r')
        .unwrap_or(body.len())
        .min(4096);
    tracing::warn!(
        "== CRITICAL == This replica is sending an error to its master: '{}' after processing the command '{cmd}'",
        String::from_utf8_lossy(&body[..end])
    );
    eng.stats_mut()
        .add(crate::stats::Counter::UnexpectedErrors, 1);
    let behavior = eng.cfg().str(P::propagation_error_behavior);
    if eng.cfg().bool(P::replica_read_only) && behavior.starts_with("panic") {
        tracing::error!(
            "This replica panicked sending an error to its master after processing the command '{cmd}'"
        );
        std::process::abort();
    }
}

/// What `apply` did.
#[derive(Debug, PartialEq)]
struct Applied {
    /// Offsets to acknowledge (REPLCONF GETACK).
    acks: Vec<i64>,
    /// It stopped at a command CLIENT PAUSE holds.
    paused: bool,
}

#[cfg(test)]
mod tests {
    //! The stream offset accounting of `apply`, in-process: bytes count
    //! when applied, a MULTI block only at its EXEC, and a GETACK is
    //! answered with the offset before it.

    use super::*;

    fn command(args: &[&str]) -> Vec<u8> {
        let mut out = Vec::new();
        let v: Vec<&[u8]> = args.iter().map(|a| a.as_bytes()).collect();
        resp::encode::command(&mut out, &v);
        out
    }

    fn setup() -> Shared {
        let mut eng = Engine::new(crate::config::Config::default());
        let id = eng.clients_mut().new_id();
        let mut cl = Client::new(id, "m".into(), "l".into(), false, false, 0);
        cl.flags |= flag::MASTER;
        eng.clients_mut().insert(Box::new(cl));
        eng.repl_mut().set_link_for_test(
            Link {
                host: "127.0.0.1".into(),
                port: 1,
                generation: 1,
                state: LinkState::Connected,
                last_io: 0,
                down_since: 0,
                cached: None,
                transfer: (0, 0),
                unapplied: 0,
                client_id: Some(id),
                task: None,
                db: 0,
            },
            100,
        );
        std::sync::Arc::new(crate::engine::EngineLock::new(eng))
    }

    #[test]
    fn offsets_move_by_applied_bytes_and_multi_counts_at_exec() {
        let shared = setup();
        let mut dec = resp::RequestDecoder::new();
        let limits = resp::Limits::default();
        let mut held = Vec::new();
        let set = command(&["SET", "a", "1"]);
        let multi = command(&["MULTI"]);
        let set_b = command(&["SET", "b", "2"]);
        let exec = command(&["EXEC"]);
        let getack = command(&["REPLCONF", "GETACK", "*"]);
        let mut buf = BytesMut::new();
        buf.extend_from_slice(&set);
        buf.extend_from_slice(&multi);
        buf.extend_from_slice(&set_b);
        buf.extend_from_slice(&exec[..3]); // EXEC split across reads
        let acks = apply(&shared, 1, &mut buf, &mut dec, &limits, &mut held)
            .unwrap()
            .unwrap()
            .acks;
        assert!(acks.is_empty());
        // SET counted; MULTI and SET b held until EXEC.
        assert_eq!(lock(&shared).repl().offset(), 100 + set.len() as i64);
        assert_eq!(held.len(), multi.len() + set_b.len());
        buf.extend_from_slice(&exec[3..]);
        buf.extend_from_slice(&getack);
        let acks = apply(&shared, 1, &mut buf, &mut dec, &limits, &mut held)
            .unwrap()
            .unwrap()
            .acks;
        let after_exec = 100 + (set.len() + multi.len() + set_b.len() + exec.len()) as i64;
        assert_eq!(
            acks,
            vec![after_exec],
            "GETACK answers the offset before it"
        );
        assert_eq!(
            lock(&shared).repl().offset(),
            after_exec + getack.len() as i64
        );
        assert!(held.is_empty());
        let eng = lock(&shared);
        assert!(
            eng.keyspace().db(0).get(b"b").is_some(),
            "the transaction was applied"
        );
    }

    #[test]
    fn a_retired_link_applies_nothing() {
        let shared = setup();
        let mut buf = BytesMut::from(&command(&["SET", "a", "1"])[..]);
        let mut held = Vec::new();
        let r = apply(
            &shared,
            2,
            &mut buf,
            &mut resp::RequestDecoder::new(),
            &resp::Limits::default(),
            &mut held,
        );
        assert_eq!(r, Ok(None));
        assert!(lock(&shared).keyspace().db(0).get(b"a").is_none());
    }
}
