//! One task per connection: read, decode, run the batch under the lock,
//! write the replies.
//!
//! Decoding and socket I/O happen outside the engine lock; the lock is taken
//! once per batch of pipelined commands. A client blocked by a command (or
//! subscribed, or monitoring) waits on its outbox for asynchronous output.
//! A protocol error gets Redis's `-ERR Protocol error: …` reply after the
//! replies of the commands before it, then the connection closes.

use crate::engine::lock;
use std::collections::VecDeque;
use std::sync::Arc;
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use resp::{Limits, RequestDecoder};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

use crate::client::{flag, Client, IOBUF_LEN};
use crate::config::P;
use crate::engine::Shared;

/// Peer description.
pub struct Peer {
    /// `ip:port` of the client.
    pub addr: String,
    /// Local `ip:port`.
    pub laddr: String,
    /// Loopback or unix socket.
    pub local: bool,
    /// Unix socket.
    pub unix: bool,
}

const DENIED: &[u8] = b"-DENIED Redis is running in protected mode because protected mode is enabled and no password is set for the default user. In this mode connections are only accepted from the loopback interface. If you want to connect from external computers to Redis you may adopt one of the following solutions: 1) Just disable protected mode sending the command 'CONFIG SET protected-mode no' from the loopback interface by connecting to Redis from the same host the server is running, however MAKE SURE Redis is not publicly accessible from internet if you do so. Use CONFIG REWRITE to make this change permanent. 2) Alternatively you can just disable the protected mode by editing the Redis configuration file, and setting the protected mode option to 'no', and then restarting the server. 3) If you started the server manually just for testing, restart it with the '--protected-mode no' option. 4) Set up an authentication password for the default user. NOTE: You only need to do one of the above things in order for the server to start accepting connections from the outside.\r\n";

/// What a connection needs of its socket besides reading and writing.
pub trait Socket {
    /// Set TCP_NODELAY (`repl-disable-tcp-nodelay` on a replica's link); a
    /// no-op where there is no such thing.
    fn set_no_delay(&self, on: bool);
    /// The descriptor a kill shuts down (and the Lua debugger talks over).
    fn fd(&self) -> Option<std::os::fd::RawFd>;
}

impl Socket for tokio::net::TcpStream {
    fn set_no_delay(&self, on: bool) {
        let _ = self.set_nodelay(on);
    }
    fn fd(&self) -> Option<std::os::fd::RawFd> {
        Some(std::os::fd::AsRawFd::as_raw_fd(self))
    }
}

impl Socket for tokio::net::UnixStream {
    fn set_no_delay(&self, _on: bool) {}
    fn fd(&self) -> Option<std::os::fd::RawFd> {
        Some(std::os::fd::AsRawFd::as_raw_fd(self))
    }
}

impl Socket for tokio_openssl::SslStream<tokio::net::TcpStream> {
    fn set_no_delay(&self, on: bool) {
        let _ = self.get_ref().set_nodelay(on);
    }
    fn fd(&self) -> Option<std::os::fd::RawFd> {
        Some(std::os::fd::AsRawFd::as_raw_fd(self.get_ref()))
    }
}

/// Write all of `bytes` and flush: over TLS, what the session buffered
/// leaves only with a flush (a no-op on plain sockets).
async fn send<S>(sock: &mut S, bytes: &[u8]) -> std::io::Result<()>
where
    S: AsyncWrite + Unpin,
{
    sock.write_all(bytes).await?;
    sock.flush().await
}

/// Serve one connection until it closes.
pub async fn serve<S>(shared: Shared, mut sock: S, peer: Peer, busy: Arc<crate::script::Busy>)
where
    S: AsyncRead + AsyncWrite + Unpin + Socket,
{
    let mut early = Early::default();
    enum Admit {
        Ok(u64, std::sync::Arc<crate::client::Outbox>),
        Refuse(&'static [u8]),
    }
    let admit = {
        let mut eng = loop {
            if busy.running() {
                // A script holds the engine (and so admission): answer as
                // Redis does while busy until it ends.
                if serve_before_admission(&mut sock, &busy, &mut early)
                    .await
                    .is_err()
                {
                    return;
                }
            }
            if let Some(g) = crate::engine::lock_unless_script(&shared, &busy) {
                break g;
            }
        };
        eng.stats_mut().add(crate::stats::Counter::Connections, 1);
        let maxclients = eng.cfg().int(P::maxclients) as usize;
        if eng.clients().connected() >= maxclients {
            eng.stats_mut().add(crate::stats::Counter::Rejected, 1);
            Admit::Refuse(b"-ERR max number of clients reached\r\n")
        } else if eng.cfg().bool(P::protected_mode)
            && eng.acl().default_user().nopass()
            && !peer.local
        {
            Admit::Refuse(DENIED)
        } else {
            eng.clients_mut().connection_opened();
            let id = eng.clients_mut().new_id();
            let now = crate::clock::now_ms();
            let mut cl = Client::new(
                id,
                peer.addr.clone(),
                peer.laddr.clone(),
                peer.local,
                peer.unix,
                now,
            );
            cl.authenticated = eng.acl().new_clients_authenticated();
            let ob = cl.outbox.clone();

            eng.clients_mut().insert(Box::new(cl));
            Admit::Ok(id, ob)
        }
    };
    let (id, outbox) = match admit {
        Admit::Ok(id, ob) => (id, ob),
        Admit::Refuse(msg) => {
            let _ = send(&mut sock, msg).await;
            return;
        }
    };
    outbox.attach_socket(sock.fd());
    let _ = run(&shared, &mut sock, id, &outbox, &busy, early).await;
    outbox.detach_socket();
    // While a script runs, its thread forgets the client (Redis frees a
    // closed connection's client from inside a busy script).
    if busy.running() {
        if let Some(rx) = busy.submit(id, crate::script::busy::BusyWork::Close) {
            if rx.await.is_ok() {
                return;
            }
        }
    }
    crate::commands::script_call::forget_client(&mut lock(&shared), id);
}

async fn run<S>(
    shared: &Shared,
    sock: &mut S,
    id: u64,
    outbox: &crate::client::Outbox,
    busy: &crate::script::Busy,
    early: Early,
) -> std::io::Result<()>
where
    S: AsyncRead + AsyncWrite + Unpin + Socket,
{
    let Early {
        mut rbuf,
        mut dec,
        mut pending,
        mut proto_err,
    } = early;
    let mut out = Out {
        buf: Vec::with_capacity(crate::client::REPLY_CHUNK),
        ..Out::default()
    };
    outbox.set_stalled(0, out.buf.capacity());
    let mut limits = Limits::default();
    let mut qbuf_limit = 1usize << 30;
    let mut idle_timeout = 0u64;
    // maxmemory-clients is on: the connection's memory is checked as it
    // reads.
    let mut client_evict = false;
    // Before the first read: a client that has not authenticated is bounded
    // from its first byte (Redis's authRequired in processMultibulkBuffer).
    refresh_limits(
        &lock(shared),
        id,
        &mut limits,
        &mut qbuf_limit,
        &mut idle_timeout,
        &mut client_evict,
    );
    let mut is_replica = false;
    // Bytes of the commands decoded since the last batch ran: Redis trims
    // its query buffer only after running what it parsed, so CLIENT LIST
    // counts them in `qbuf` while they run.
    let mut batch_bytes = 0usize;
    // The last big argument read (Redis keeps room for another as big).
    let mut last_big = 0usize;
    'conn: loop {
        apply_resize(&mut rbuf, &dec, &mut out, outbox, batch_bytes);
        // Read what is there unless commands are still waiting to run.
        if pending.is_empty() && proto_err.is_none() && !rbuf.is_empty() {
            batch_bytes += decode_all(&mut dec, &mut rbuf, &limits, &mut pending, &mut proto_err);
        }
        if pending.is_empty() && proto_err.is_none() {
            // What others handed the client (pub/sub messages, a
            // replica's stream) goes out once what it has is written.
            // Chunk after chunk while the socket takes them whole (a
            // replica's stream is handed out 64 KB at a time, and nothing
            // wakes the task for the rest while its socket is writable).
            while out.is_empty() && !outbox.is_empty() && send_pushed(sock, &mut out, outbox)? {
                note_output(shared, outbox, &out, client_evict);
            }
            if outbox.closing() && outbox.is_empty() && out.is_empty() {
                sock.flush().await?;
                return Ok(());
            }
            // No timer at all without `timeout`: arming one per read costs
            // a clock read and a timer-wheel entry for every batch.
            let idle = (idle_timeout > 0).then(|| Duration::from_secs(idle_timeout));
            let idle_sleep = async move {
                match idle {
                    Some(d) => tokio::time::sleep(d).await,
                    None => std::future::pending::<()>().await,
                }
            };
            // A full read buffer grows for the rest of a command: the
            // arguments already parsed must not pin its chunk, else a
            // second chunk lives beside it until the command has run
            // (used_memory 16 KB over for that command: a SET refused
            // with -OOM just under maxmemory).
            if rbuf.capacity() == rbuf.len() {
                dec.own_pending_args();
            }
            // While replies wait for the socket (a client that does not
            // read), the connection goes on reading and running commands,
            // as Redis does: their replies queue up behind, counted as the
            // client's output buffer (omem, tot-mem, output-buffer limits,
            // client eviction).
            tokio::select! {
                r = std::future::poll_fn(|cx| poll_io(sock, &mut rbuf, &out, cx)) => {
                    match r? {
                        Io::Read(0) => return Ok(()),
                        Io::Read(_) => {
                            // While a big argument arrives, take what else is
                            // already there before anything runs (Redis reads a
                            // big bulk's whole remainder in one call).
                            while dec.pending_bulk_len().is_some_and(|n| n >= 32 * 1024) && rbuf.capacity() > rbuf.len() {
                                match read_now(sock, &mut rbuf) {
                                    Some(Ok(0)) => return Ok(()),
                                    Some(Ok(_)) => {}
                                    Some(Err(e)) => return Err(e),
                                    None => break,
                                }
                            }
                        }
                        Io::Wrote(n) => {
                            out.advance(n);
                            write_now(sock, &mut out)?;
                            note_output(shared, outbox, &out, client_evict);
                            if is_replica && out.is_empty() {
                                send_rdb_if_ready(shared, sock, id, outbox, &mut rbuf).await?;
                            }
                            continue 'conn;
                        }
                        Io::Flushed => {
                            out.flush = false;
                            continue 'conn;
                        }
                    }
                }
                _ = outbox.notify.notified() => {
                    if outbox.is_killed() {
                        return Ok(());
                    }
                    // Let the other ready connections run first: what
                    // they push (a replica's stream, published messages)
                    // then goes out in one write, as Redis writes its
                    // replicas once per event loop turn, instead of one
                    // write per command.
                    tokio::task::yield_now().await;
                    while out.is_empty() && send_pushed(sock, &mut out, outbox)? {
                        note_output(shared, outbox, &out, client_evict);
                    }
                    if is_replica && out.is_empty() {
                        send_rdb_if_ready(shared, sock, id, outbox, &mut rbuf).await?;
                    }
                    continue;
                }
                _ = idle_sleep => {
                    let exempt = {
                        let eng = lock(shared);
                        eng.clients().get(id).is_some_and(|c| c.subscriptions() > 0 || c.flags & (flag::REPLICA | flag::MASTER | flag::MONITOR) != 0)
                    };
                    if !exempt {
                        tracing::debug!("Closing idle client");
                        return Ok(());
                    }
                    continue;
                }
            }
            batch_bytes += decode_all(&mut dec, &mut rbuf, &limits, &mut pending, &mut proto_err);
            // A big argument's payload is read in as few reads as it
            // arrives in: Redis makes room for the whole bulk once it
            // knows its length (and counts that room as the client's
            // query buffer), never for a client that has not
            // authenticated (its bulks are bounded, and announcing one
            // must not buy it memory).
            if let Some(n) = dec
                .pending_bulk_len()
                .filter(|&n| n >= 32 * 1024 && !limits.auth_required)
            {
                let want = (n + 2).saturating_sub(rbuf.len()).min(8 << 20);
                rbuf.reserve(want);
                last_big = n;
            }
            if rbuf.len() + dec.pending_arg_bytes() > qbuf_limit {
                tracing::warn!(
                    "Closing client that reached max query buffer length (qbuf initial bytes: {})",
                    rbuf.len()
                );
                return Ok(());
            }
            outbox.set_query(query(&rbuf, &dec, batch_bytes));
            if client_evict {
                // What it read may put the clients over maxmemory-clients
                // (Redis checks after each read, in beforeSleep).
                lock(shared).evict_clients(None);
                if outbox.is_killed() {
                    return Ok(());
                }
            }
        }
        // Run the batch under the lock.
        let mut blocked = false;
        let mut close = false;
        let mut became_replica = false;
        let nagle;
        let mut pause_until = 0i64;
        let mut pause_notify = None;
        let mut aof_flush: Option<std::sync::Arc<crate::persist::aof::writer::AofWriter>>;
        {
            let mut eng = loop {
                // While a script that passed busy-reply-threshold holds
                // the engine, answer as Redis does when busy, also when it
                // started while we waited. A younger one is waited for as
                // any command holding the lock (`lock_unless_script`).
                if !pending.is_empty() && busy.timed_out() {
                    let authenticated = !limits.auth_required;
                    let served = crate::commands::scripting::serve_while_busy(
                        busy,
                        Some(id),
                        authenticated,
                        &mut pending,
                        &mut out.buf,
                    )
                    .await;
                    if served == crate::commands::scripting::Served::Answered {
                        drain(sock, &mut out, outbox).await?;
                        continue 'conn;
                    }
                }
                if pending.is_empty() {
                    break lock(shared);
                }
                if let Some(g) = crate::engine::lock_unless_script(shared, busy) {
                    break g;
                }
            };
            if let Some(first) = pending.front() {
                if crate::commands::dispatch::paused_for(
                    &eng,
                    first,
                    eng.clients().get(id).map_or(&[][..], |c| &c.multi[..]),
                ) && !eng
                    .clients()
                    .get(id)
                    .is_some_and(|c| c.flags & (flag::REPLICA | flag::MASTER) != 0)
                {
                    pause_until = eng.clients().pause().until;
                    pause_notify = Some(eng.clients().pause_changed());
                }
            }
            if let Some(c) = eng.clients_mut().get_mut(id) {
                c.paused = pause_notify.is_some();
            }
            if pause_notify.is_none() && !pending.is_empty() {
                let Some(mut cl) = eng.clients_mut().check_out(id) else {
                    return Ok(());
                };
                cl.qbuf = batch_bytes + rbuf.len() + dec.pending_arg_bytes();
                // The commands about to run are still the client's query
                // buffer (CLIENT LIST qbuf), and their bytes part of its
                // allocation until it is reclaimed after the batch: the
                // client's memory stays what it was when they were read.
                outbox.set_query(query(&rbuf, &dec, batch_bytes));
                batch_bytes = 0;
                // What others handed the client before this batch (pub/sub
                // messages, invalidations) goes out before its replies.
                if !is_replica && !outbox.is_empty() {
                    out.buf.extend_from_slice(&outbox.take());
                    outbox.written();
                }
                eng.stats_mut().add(crate::stats::Counter::Reads, 1);
                let before = out.buf.len();
                crate::commands::dispatch::run_batch(&mut eng, &mut cl, &mut pending, &mut out.buf);
                cl.outbox.note_reply_peak(out.pending());
                blocked = cl.block.is_some();
                close = cl.flags & flag::CLOSE_AFTER_REPLY != 0;
                let now_replica = cl.flags & flag::REPLICA != 0;
                became_replica = now_replica && !is_replica;
                is_replica = now_replica;
                if cl.flags & (flag::REPLICA | flag::MASTER) == 0
                    && !out.is_empty()
                    && crate::commands::over_output_limit(&eng, &cl, out.pending())
                {
                    // Redis's closeClientOnOutputBufferLimitReached: the
                    // client goes, its replies with it.
                    tracing::warn!(
                        "Client {} scheduled to be closed ASAP for overcoming of output buffer limits.",
                        eng.client_info_line(&cl, eng.now())
                    );
                    cl.outbox.kill();
                    out.buf.clear();
                    out.sent = 0;
                }
                eng.clients_mut().check_in(cl);
                eng.stats_mut().add(
                    crate::stats::Counter::NetOut,
                    (out.buf.len().saturating_sub(before)) as u64,
                );
                eng.stats_mut().add(crate::stats::Counter::Writes, 1);
            }
            nagle = became_replica && eng.cfg().bool(P::repl_disable_tcp_nodelay);
            // What ran leaves room for the next read (Redis trims what it
            // ran and keeps the allocation; reclaimed in place once the
            // arguments are gone), or for another argument as big as the
            // last one, as Redis makes its next query buffer.
            if rbuf.is_empty() {
                let want = match std::mem::take(&mut last_big) {
                    0 => IOBUF_LEN,
                    n => (n + 2).clamp(IOBUF_LEN, 8 << 20),
                };
                if rbuf.capacity() < want {
                    rbuf.reserve(want);
                }
            }
            outbox.set_query(query(&rbuf, &dec, 0));
            if client_evict {
                eng.evict_clients(None);
            }
            refresh_limits(
                &eng,
                id,
                &mut limits,
                &mut qbuf_limit,
                &mut idle_timeout,
                &mut client_evict,
            );
            aof_flush = eng.aof().writer().filter(|w| w.needs_flush()).cloned();
        }
        if outbox.is_killed() {
            return Ok(());
        }
        // The writes' AOF bytes reach the file (and, with appendfsync
        // always, the disk) before their replies leave, outside the lock;
        // connections that wrote together share the write and the fsync.
        // The other connections ready now run their batches first, so that
        // one write (and fsync) carries them all, as Redis writes its AOF
        // once per event-loop turn: whoever comes back first writes
        // everything appended, the others find nothing left to write.
        if let Some(w) = aof_flush.take() {
            tokio::task::yield_now().await;
            if w.flush_for_reply() == Err(crate::persist::aof::writer::FlushError::Fatal) {
                std::process::exit(1);
            }
        }
        if nagle {
            // Redis's repl-disable-tcp-nodelay: fewer, larger packets to
            // replicas. A syscall, so outside the engine lock.
            sock.set_no_delay(false);
        }
        if let Some(n) = pause_notify {
            drain(sock, &mut out, outbox).await?;
            let wait = (pause_until - crate::clock::now_ms()).max(1) as u64;
            tokio::select! {
                _ = tokio::time::sleep(Duration::from_millis(wait)) => {}
                _ = n.notified() => {}
            }
            continue;
        }
        if out.is_empty() && !outbox.is_empty() {
            out.buf.extend_from_slice(&outbox.take());
            outbox.written();
        }
        if close
            || outbox.closing()
            || blocked
            || is_replica
            || (pending.is_empty() && proto_err.is_some())
        {
            drain(sock, &mut out, outbox).await?;
        } else {
            // The other connections ready now run their batches first, so
            // that the replies go out together, as Redis writes its clients
            // once per event-loop turn (beforeSleep): the peer reading them
            // is woken once for all, not once per connection's batch.
            // Meanwhile the replies count as the client's output buffer.
            note_output(shared, outbox, &out, client_evict);
            let_queued_run().await;
            if outbox.is_killed() {
                // Killed meanwhile (CLIENT KILL, client eviction): Redis
                // frees such a client with its replies unsent.
                return Ok(());
            }
            write_now(sock, &mut out)?;
            note_output(shared, outbox, &out, client_evict);
        }
        if close || outbox.is_killed() || (outbox.closing() && outbox.is_empty()) {
            sock.flush().await?;
            return Ok(());
        }
        if is_replica {
            send_rdb_if_ready(shared, sock, id, outbox, &mut rbuf).await?;
        }
        if blocked {
            wait_unblocked(shared, sock, id, outbox, &mut rbuf).await?;
            continue;
        }
        if pending.is_empty() {
            if let Some(e) = proto_err.take() {
                tracing::debug!("Protocol error ({}) from client: id={id}", e);
                send(sock, &protocol_error_reply(&e)).await?;
                return Ok(());
            }
        }
    }
}

/// A connection's output on its way to the socket: replies, and what others
/// handed the client. What the socket has not taken stays here while the
/// connection goes on reading (Redis's reply list of a client that does not
/// read its replies).
#[derive(Default)]
struct Out {
    buf: Vec<u8>,
    /// Bytes of `buf` already written.
    sent: usize,
    /// A flush is still due (a TLS session holds bytes).
    flush: bool,
    /// The size the reply buffer is kept at (the cron's choice, see
    /// [`crate::client::Outbox::cron_reply_buffer`]); 0 until it first
    /// decides: [`crate::client::REPLY_CHUNK`].
    size: usize,
}

impl Out {
    /// Everything is written.
    fn is_empty(&self) -> bool {
        self.sent >= self.buf.len()
    }

    /// What is still to write.
    fn unsent(&self) -> &[u8] {
        self.buf.get(self.sent..).unwrap_or_default()
    }

    /// Bytes still to write.
    fn pending(&self) -> usize {
        self.buf.len().saturating_sub(self.sent)
    }

    /// The socket took `n` more bytes.
    fn advance(&mut self, n: usize) {
        self.sent += n;
        if self.sent >= self.buf.len() {
            self.buf.clear();
            self.sent = 0;
            self.fit();
        } else if self.sent >= 1 << 20 && self.sent * 2 >= self.buf.len() {
            self.buf.drain(..self.sent);
            self.sent = 0;
        }
    }

    /// Once all is written: big replies leave no big buffer behind
    /// (Redis keeps its fixed reply buffer and frees the reply blocks
    /// that took the rest once they are written).
    fn fit(&mut self) {
        let size = match self.size {
            0 => crate::client::REPLY_CHUNK,
            n => n,
        };
        if self.buf.capacity() > 2 * size {
            self.buf.shrink_to(size);
        }
    }

    /// Replies the socket has not taken.
    fn held(&self) -> usize {
        self.pending()
    }
}

/// What the socket did first.
enum Io {
    /// Read this many bytes (0: the peer closed).
    Read(usize),
    /// Took this many bytes of the output.
    Wrote(usize),
    /// A due flush completed.
    Flushed,
}

/// Write the output (or flush it) and read the socket at once: whichever
/// is ready first.
fn poll_io<S>(
    sock: &mut S,
    rbuf: &mut BytesMut,
    out: &Out,
    cx: &mut std::task::Context<'_>,
) -> std::task::Poll<std::io::Result<Io>>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    use std::task::Poll;
    if !out.is_empty() {
        if let Poll::Ready(r) = std::pin::Pin::new(&mut *sock).poll_write(cx, out.unsent()) {
            return Poll::Ready(match r {
                Ok(0) => Err(std::io::ErrorKind::WriteZero.into()),
                Ok(n) => Ok(Io::Wrote(n)),
                Err(e) => Err(e),
            });
        }
    } else if out.flush {
        if let Poll::Ready(r) = std::pin::Pin::new(&mut *sock).poll_flush(cx) {
            return Poll::Ready(r.map(|()| Io::Flushed));
        }
    }
    if rbuf.capacity() == 0 {
        // The cron freed the buffer of an idle client: read onto the stack
        // first, so that waiting holds no buffer.
        let mut tmp = [std::mem::MaybeUninit::<u8>::uninit(); IOBUF_LEN];
        let mut rb = tokio::io::ReadBuf::uninit(&mut tmp);
        return match std::pin::Pin::new(&mut *sock).poll_read(cx, &mut rb) {
            Poll::Ready(Ok(())) => {
                rbuf.reserve(IOBUF_LEN);
                rbuf.extend_from_slice(rb.filled());
                Poll::Ready(Ok(Io::Read(rb.filled().len())))
            }
            Poll::Ready(Err(e)) => Poll::Ready(Err(e)),
            Poll::Pending => Poll::Pending,
        };
    }
    let fut = std::pin::pin!(sock.read_buf(rbuf));
    std::future::Future::poll(fut, cx).map(|r| r.map(Io::Read))
}

/// Apply what the cron decided about the connection's buffers (see
/// [`crate::client::Outbox::cron_query_buffer`]): an idle client's empty
/// query buffer is freed (the next read makes room again), an oversized
/// one cut down to what it holds and is reading, with room for a read;
/// the reply buffer takes its new size once what it holds is written.
fn apply_resize(
    rbuf: &mut BytesMut,
    dec: &RequestDecoder,
    out: &mut Out,
    outbox: &crate::client::Outbox,
    batch: usize,
) {
    if let Some(to) = outbox.take_query_resize() {
        if to == 0 {
            if rbuf.is_empty() {
                *rbuf = BytesMut::new();
            }
        } else {
            let bulk = dec.pending_bulk_len().map_or(0, |n| n + 2);
            let need = to.max(rbuf.len()).max(bulk).max(IOBUF_LEN);
            if rbuf.capacity() > need {
                let mut b = BytesMut::with_capacity(need);
                b.extend_from_slice(rbuf);
                *rbuf = b;
            }
        }
        outbox.set_query(query(rbuf, dec, batch));
    }
    if let Some(size) = outbox.take_reply_resize() {
        out.size = size;
        if out.is_empty() {
            out.buf = Vec::with_capacity(size);
            out.sent = 0;
        }
        outbox.set_stalled(out.held(), out.buf.capacity());
    }
}

/// Write what the socket takes now, without waiting, and flush when all
/// of it went.
fn write_now<S>(sock: &mut S, out: &mut Out) -> std::io::Result<()>
where
    S: AsyncWrite + Unpin,
{
    use std::task::Poll;
    let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
    while !out.is_empty() {
        match std::pin::Pin::new(&mut *sock).poll_write(&mut cx, out.unsent()) {
            Poll::Ready(Ok(0)) => return Err(std::io::ErrorKind::WriteZero.into()),
            Poll::Ready(Ok(n)) => out.advance(n),
            Poll::Ready(Err(e)) => return Err(e),
            Poll::Pending => return Ok(()),
        }
    }
    match std::pin::Pin::new(&mut *sock).poll_flush(&mut cx) {
        Poll::Ready(r) => {
            out.flush = false;
            r
        }
        Poll::Pending => {
            out.flush = true;
            Ok(())
        }
    }
}

/// Send what others handed the client (pub/sub messages, invalidations, a
/// replica's stream) once its own output is written: the chunk taken goes
/// out as it is and stays as the output only for what the socket does not
/// take now, so that the reply buffer keeps its allocation and a burst of
/// pushed messages leaves no memory behind (else invalidations sent by an
/// eviction would read as memory to evict for).
///
/// False when there was nothing to take (a replica's reader may hold
/// bytes it does not stream yet).
fn send_pushed<S>(
    sock: &mut S,
    out: &mut Out,
    outbox: &crate::client::Outbox,
) -> std::io::Result<bool>
where
    S: AsyncWrite + Unpin,
{
    let pushed = outbox.take();
    if pushed.is_empty() {
        outbox.written();
        return Ok(false);
    }
    let replies = std::mem::replace(&mut out.buf, pushed);
    out.sent = 0;
    let r = write_now(sock, out);
    outbox.written();
    if out.is_empty() {
        out.buf = replies;
    }
    r.map(|()| true)
}

/// Write all the output and flush, waiting as long as it takes (before the
/// connection blocks, pauses, closes or sends a replica its RDB).
async fn drain<S>(
    sock: &mut S,
    out: &mut Out,
    outbox: &crate::client::Outbox,
) -> std::io::Result<()>
where
    S: AsyncWrite + Unpin,
{
    if !out.is_empty() {
        write_or_killed(sock, out.unsent(), outbox).await?;
    } else if out.flush {
        sock.flush().await?;
    }
    out.buf.clear();
    out.sent = 0;
    out.flush = false;
    out.fit();
    outbox.set_stalled(0, out.buf.capacity());
    Ok(())
}

/// The output the socket has not taken is the client's output buffer: when
/// it changed, the clients may be over maxmemory-clients (Redis updates the
/// client's memory after each write and evicts before it sleeps).
/// Let the tasks already queued on this worker run before this one goes
/// on. Unlike `tokio::task::yield_now`, which waits for the next poll of
/// the I/O driver, the task is queued again at once: the connections
/// whose requests were read in the same turn run theirs first, and no
/// connection that becomes ready meanwhile overtakes it.
async fn let_queued_run() {
    let mut queued = false;
    std::future::poll_fn(|cx| {
        if queued {
            return std::task::Poll::Ready(());
        }
        queued = true;
        cx.waker().wake_by_ref();
        std::task::Poll::Pending
    })
    .await
}

fn note_output(shared: &Shared, outbox: &crate::client::Outbox, out: &Out, client_evict: bool) {
    let (held, cap) = (out.held(), out.buf.capacity());
    if held == 0 || !client_evict {
        outbox.set_stalled(held, cap);
        return;
    }
    // Under the lock, so that nobody sees the client over the limit
    // before it is evicted.
    let mut eng = lock(shared);
    outbox.set_stalled(held, cap);
    eng.evict_clients(None);
}

/// The query buffer as it stands: `batch` bytes of commands read and not
/// yet run, split off the front of the buffer's allocation (they stay in
/// it until it is reclaimed after they ran), and what is still to parse.
fn query(rbuf: &BytesMut, dec: &RequestDecoder, batch: usize) -> crate::client::Query {
    crate::client::Query {
        len: batch + rbuf.len(),
        free: rbuf.capacity() - rbuf.len(),
        argv: dec.pending_arg_bytes(),
        mem: rbuf.capacity() + batch,
    }
}

/// Read what the socket has right now, without waiting: None when it
/// has nothing yet.
fn read_now<S: AsyncRead + Unpin>(
    sock: &mut S,
    buf: &mut BytesMut,
) -> Option<std::io::Result<usize>> {
    let fut = std::pin::pin!(sock.read_buf(buf));
    let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
    match std::future::Future::poll(fut, &mut cx) {
        std::task::Poll::Ready(r) => Some(r),
        std::task::Poll::Pending => None,
    }
}

/// What a connection read before it was admitted (while a script ran).
struct Early {
    rbuf: BytesMut,
    dec: RequestDecoder,
    pending: VecDeque<Vec<Bytes>>,
    /// A protocol error after `pending`: answered once they are.
    proto_err: Option<resp::ProtocolError>,
}

impl Default for Early {
    fn default() -> Self {
        Early {
            rbuf: BytesMut::with_capacity(IOBUF_LEN),
            dec: RequestDecoder::new(),
            pending: VecDeque::new(),
            proto_err: None,
        }
    }
}

/// `-ERR Protocol error: …`, the last reply before the connection closes.
fn protocol_error_reply(e: &resp::ProtocolError) -> Vec<u8> {
    let mut msg = b"-ERR ".to_vec();
    msg.extend_from_slice(&e.message());
    msg.extend_from_slice(b"\r\n");
    msg
}

/// A new connection while a script runs: read and answer its commands
/// without the engine lock (`commands::scripting::serve_while_busy`) until
/// the script ends; what is left runs once the connection is admitted.
/// It is not authenticated yet: with `requirepass` set it is bounded as
/// Redis bounds unauthenticated clients, and answered -NOAUTH.
async fn serve_before_admission<S>(
    sock: &mut S,
    busy: &crate::script::Busy,
    early: &mut Early,
) -> std::io::Result<()>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    use crate::commands::scripting::{serve_while_busy, Served};
    let mut out = Vec::new();
    while busy.running() {
        let limits = Limits {
            auth_required: busy.auth_required(),
            ..Limits::default()
        };
        if early.proto_err.is_none() {
            tokio::select! {
                r = sock.read_buf(&mut early.rbuf) => {
                    if r? == 0 {
                        return Err(std::io::Error::other("closed"));
                    }
                }
                _ = tokio::time::sleep(Duration::from_millis(10)) => {}
            }
            decode_all(
                &mut early.dec,
                &mut early.rbuf,
                &limits,
                &mut early.pending,
                &mut early.proto_err,
            );
        }
        if early.pending.is_empty() {
            if let Some(e) = early.proto_err.take() {
                send(sock, &protocol_error_reply(&e)).await?;
                return Err(std::io::Error::other("protocol error"));
            }
            continue;
        }
        let authenticated = !limits.auth_required;
        let served =
            serve_while_busy(busy, None, authenticated, &mut early.pending, &mut out).await;
        if !out.is_empty() {
            send(sock, &out).await?;
            out.clear();
        }
        if served == Served::Proceed {
            break;
        }
    }
    Ok(())
}

/// For a replica whose full resync is ready to send (SendBulk), write the
/// RDB, then hand it to the stream (`transfer_done`). Disk snapshots go as
/// `$<len>` bulk, diskless ones as `$EOF:<mark>` … `<mark>`.
async fn send_rdb_if_ready<S>(
    shared: &Shared,
    sock: &mut S,
    id: u64,
    outbox: &crate::client::Outbox,
    rbuf: &mut BytesMut,
) -> std::io::Result<()>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    use crate::persist::snapshot::PipeRead;
    use crate::repl::master::{SlaveState, Transfer};
    let transfer = {
        let eng = lock(shared);
        eng.repl()
            .replicas()
            .iter()
            .find(|r| r.id == id && r.state == SlaveState::SendBulk)
            .and_then(|r| r.transfer.clone())
    };
    let Some(transfer) = transfer else {
        return Ok(());
    };
    let diskless = matches!(transfer, Transfer::Pipe(_));
    // +FULLRESYNC (queued when the snapshot started) goes first.
    let head = outbox.take();
    sock.write_all(&head).await?;
    outbox.written();
    match transfer {
        Transfer::File(path) => {
            let mut f = tokio::fs::File::open(&path).await?;
            let len = f.metadata().await?.len();
            sock.write_all(format!("${len}\r\n").as_bytes()).await?;
            let sent = tokio::io::copy(&mut f, sock).await?;
            if sent != len {
                return Err(std::io::Error::other("RDB file changed while sending"));
            }
        }
        Transfer::Pipe(pipe) => {
            let mut mark = [0u8; 40];
            for b in mark.iter_mut() {
                *b = b"0123456789abcdef"[rand::random::<usize>() % 16];
            }
            sock.write_all(b"$EOF:").await?;
            sock.write_all(&mark).await?;
            send(sock, b"\r\n").await?;
            loop {
                match pipe.read() {
                    PipeRead::Data(chunks) => {
                        for d in chunks {
                            // A stalled replica is dropped by the cron
                            // (repl-timeout): the write must give up then.
                            write_or_killed(sock, &d, outbox).await?;
                        }
                    }
                    PipeRead::Done(true) => break,
                    PipeRead::Done(false) => {
                        pipe.close();
                        return Err(std::io::Error::other("diskless snapshot failed"));
                    }
                    PipeRead::Empty => {
                        // Watch the socket too, as Redis's read handler
                        // does: a replica that goes away while the
                        // snapshot is slow is noticed at once, not at the
                        // next write (what it sends meanwhile is kept).
                        tokio::select! {
                            _ = pipe.notify.notified() => {}
                            _ = tokio::time::sleep(Duration::from_millis(100)) => {}
                            r = sock.read_buf(rbuf) => {
                                if r? == 0 {
                                    pipe.close();
                                    return Err(std::io::Error::other("replica closed during the transfer"));
                                }
                            }
                        }
                        if outbox.is_killed() {
                            pipe.close();
                            return Ok(());
                        }
                    }
                }
            }
            sock.write_all(&mark).await?;
        }
    }
    sock.flush().await?;
    crate::repl::master::transfer_done(&mut lock(shared), id, diskless);
    // The stream kept during the transfer is in the outbox now; the
    // connection loop writes it out chunk by chunk.
    outbox.wake();
    if outbox.closing() {
        sock.flush().await?;
        return Err(std::io::Error::other("rdb-only transfer complete"));
    }
    Ok(())
}

/// Write to the client, giving up when it is killed meanwhile (an output
/// buffer limit, CLIENT KILL): a client that stops reading must not keep
/// its connection, or its subscriptions, alive.
async fn write_or_killed<S>(
    sock: &mut S,
    bytes: &[u8],
    outbox: &crate::client::Outbox,
) -> std::io::Result<()>
where
    S: AsyncWrite + Unpin,
{
    let mut w = std::pin::pin!(send(sock, bytes));
    loop {
        tokio::select! {
            r = &mut w => {
                // A wake-up consumed while writing may hide queued output.
                if !outbox.is_empty() || outbox.is_killed() {
                    outbox.wake();
                }
                return r;
            }
            _ = outbox.notify.notified() => {
                if outbox.is_killed() {
                    return Err(std::io::Error::other("killed while writing"));
                }
            }
        }
    }
}

/// The connection's protocol limits, query-buffer limit and idle timeout,
/// as the configuration and the client's authentication now stand.
fn refresh_limits(
    eng: &crate::engine::Engine,
    id: u64,
    limits: &mut Limits,
    qbuf_limit: &mut usize,
    idle_timeout: &mut u64,
    client_evict: &mut bool,
) {
    *client_evict = eng.client_eviction_limit() > 0;
    limits.max_bulk_len = eng.cfg().int(P::proto_max_bulk_len) as u64;
    limits.auth_required = !eng.acl().new_clients_authenticated()
        && !eng.clients().get(id).is_some_and(|c| c.authenticated);
    *qbuf_limit = eng.cfg().int(P::client_query_buffer_limit) as usize;
    *idle_timeout = eng.cfg().int(P::timeout) as u64;
}

/// Decode the commands `rbuf` holds into `pending`; returns the bytes the
/// complete ones took (what CLIENT LIST counts in `qbuf` until they run).
fn decode_all(
    dec: &mut RequestDecoder,
    rbuf: &mut BytesMut,
    limits: &Limits,
    pending: &mut VecDeque<Vec<Bytes>>,
    err: &mut Option<resp::ProtocolError>,
) -> usize {
    let before = rbuf.len() + dec.pending_arg_bytes();
    let mut taken = 0;
    while pending.len() < 4096 {
        // Until it authenticates, a client's commands are decoded one at a
        // time: Redis runs each (an AUTH lifts the limits) before it parses
        // the next.
        if limits.auth_required && !pending.is_empty() {
            break;
        }
        match dec.decode(rbuf, limits) {
            Ok(Some(args)) => {
                pending.push_back(args);
                taken = before.saturating_sub(rbuf.len());
            }
            Ok(None) => break,
            Err(e) => {
                *err = Some(e);
                break;
            }
        }
    }
    taken
}

/// Wait until the engine serves or times out a blocked client, reading (and
/// keeping) whatever else the client sends meanwhile.
async fn wait_unblocked<S>(
    shared: &Shared,
    sock: &mut S,
    id: u64,
    outbox: &crate::client::Outbox,
    rbuf: &mut BytesMut,
) -> std::io::Result<()>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    loop {
        let (done, deadline) = {
            let eng = lock(shared);
            match eng.clients().get(id).and_then(|c| c.block.as_ref()) {
                Some(b) => (b.done, b.deadline),
                None => (true, None),
            }
        };
        if done {
            let aof = {
                let mut eng = lock(shared);
                if let Some(cl) = eng.clients_mut().get_mut(id) {
                    cl.block = None;
                }
                eng.aof().writer().filter(|w| w.needs_flush()).cloned()
            };
            // The write that woke us (and our own served pop) reach the
            // AOF, fsynced with `appendfsync always`, before our reply
            // leaves, as Redis's beforeSleep flushes the AOF before any
            // reply; usually the waker's flush already covered it.
            if let Some(w) = aof {
                if w.flush_for_reply() == Err(crate::persist::aof::writer::FlushError::Fatal) {
                    std::process::exit(1);
                }
            }
            let pushed = outbox.take();
            if !pushed.is_empty() {
                send(sock, &pushed).await?;
            }
            outbox.written();
            if !outbox.is_empty() {
                outbox.wake();
            }
            return Ok(());
        }
        if outbox.is_killed() {
            return Err(std::io::Error::other("killed"));
        }
        let sleep = match deadline {
            Some(d) => Duration::from_micros((d * 1000 - crate::clock::now_us()).max(0) as u64),
            None => Duration::from_secs(86400 * 365),
        };
        tokio::select! {
            _ = outbox.notify.notified() => {}
            _ = tokio::time::sleep(sleep) => {
                crate::blocking::timeout(&mut lock(shared), id);
            }
            r = sock.read_buf(rbuf) => {
                if r? == 0 {
                    return Err(std::io::Error::other("client closed while blocked"));
                }
            }
        }
    }
}
