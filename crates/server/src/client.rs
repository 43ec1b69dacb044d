//! Per-client state that commands read and change.
//!
//! A `Client` lives in the engine's client table while its connection is
//! idle, and is taken out for the duration of a batch, so commands get it as
//! `&mut Client` next to `&mut Engine`. A client blocked on keys (BLPOP,
//! WAIT, …) stays in the engine with its pending command, so the engine can
//! serve it in FIFO order the moment a key becomes ready, exactly as Redis's
//! `handleClientsBlockedOnKeys` does.
//!
//! What other tasks need to hand a client asynchronously (pub/sub messages,
//! replies to a blocked command, MONITOR lines, the replication stream, a
//! kill) goes through its `Outbox`, which the connection task drains.
//! A replica's outbox also holds its place in the shared replication buffer
//! (`repl::buffer`): its connection sends what is queued first (the
//! +FULLRESYNC/+CONTINUE lines), then the stream from that place.

use std::collections::HashSet;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use resp::encode::Proto;
use tokio::sync::Notify;

use crate::keyspace::Key;

/// Client flag bits (a subset of Redis's CLIENT_*), shown in CLIENT LIST.
pub mod flag {
    /// Inside MULTI.
    pub const MULTI: u32 = 1 << 0;
    /// A queued command had an error: EXEC must abort.
    pub const DIRTY_EXEC: u32 = 1 << 1;
    /// A replica connection.
    pub const REPLICA: u32 = 1 << 2;
    /// Our master's connection.
    pub const MASTER: u32 = 1 << 3;
    /// MONITOR.
    pub const MONITOR: u32 = 1 << 4;
    /// Blocked on keys or WAIT.
    pub const BLOCKED: u32 = 1 << 5;
    /// Close after the current reply.
    pub const CLOSE_AFTER_REPLY: u32 = 1 << 6;
    /// Connected over the unix socket.
    pub const UNIX: u32 = 1 << 7;
    /// CLIENT NO-EVICT on.
    pub const NO_EVICT: u32 = 1 << 8;
    /// Old SYNC protocol replica: does not send REPLCONF ACK.
    pub const PRE_PSYNC: u32 = 1 << 9;
    /// The Lua scripts' client: never blocks (Redis's CLIENT_DENY_BLOCKING).
    pub const SCRIPT: u32 = 1 << 10;
}

/// CLIENT REPLY state.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReplyMode {
    /// Replies are sent.
    On,
    /// No replies.
    Off,
    /// The next command's reply is dropped.
    Skip,
    /// Set by CLIENT REPLY SKIP; becomes Skip for the following command.
    SkipNext,
}

/// Bytes of the replication stream a replica's connection copies out of
/// the shared buffer per write.
pub const STREAM_CHUNK: usize = 64 * 1024;

/// A replica's place in the shared replication buffer.
type StreamRef = (
    Arc<crate::repl::buffer::ReplBuffer>,
    crate::repl::buffer::ReaderId,
);

/// Asynchronous output for a client: bytes other tasks hand it, plus a kill
/// switch. Bounded by the caller through `len()` and the client's output
/// buffer limits.
#[derive(Default)]
pub struct Outbox {
    buf: Mutex<crate::util::chunks::ChunkBuf>,
    /// For a replica: its reader in the shared replication buffer.
    stream: Mutex<Option<StreamRef>>,
    /// Whether `stream` is set (read without its lock on every `len()`).
    has_stream: AtomicBool,
    len: AtomicUsize,
    /// The allocation of what is queued (`len` and the chunks' room).
    queued_mem: AtomicUsize,
    /// Bytes taken by the connection and not yet written out.
    inflight: AtomicUsize,
    /// The allocation of the chunk taken (what used_memory counts of it).
    inflight_mem: AtomicUsize,
    /// The connection's query buffer (read, not yet run), kept by the
    /// connection as it reads (CLIENT LIST qbuf).
    qbuf: AtomicUsize,
    /// Room left in the query buffer's allocation (CLIENT LIST qbuf-free).
    qbuf_free: AtomicUsize,
    /// Arguments of the command being read, already parsed (Redis's
    /// argv_len_sum: CLIENT LIST argv-mem).
    argv: AtomicUsize,
    /// What the query buffer holds in memory, as Redis's
    /// sdsZmallocSize(querybuf): the read buffer's allocation (all of a
    /// big argument once its length is known) and the commands read but
    /// not yet running.
    qmem: AtomicUsize,
    /// Replies the socket has not taken (the peer does not read): the
    /// connection's output buffer, as Redis's reply list (omem, client
    /// eviction, output-buffer limits, used_memory).
    stalled: AtomicUsize,
    /// The connection's reply buffer's allocation (CLIENT LIST rbs, as
    /// Redis's buf_usable_size): what it keeps for the next replies,
    /// including the stalled ones.
    reply_buf: AtomicUsize,
    /// What the cron decided about the connection's buffers, applied by
    /// the connection at its next turn.
    resize: Resize,
    /// The client-eviction bucket the client was last seen in and when it
    /// entered it (`bucket << 56 | seq`): Redis's client_mem_usage_buckets
    /// list order.
    bucket: std::sync::atomic::AtomicU64,
    killed: AtomicBool,
    /// The connection's socket while its task owns it, so that a kill
    /// closes it at once, as Redis's freeClient does (a replica killed
    /// inside a MULTI sees its link drop before the EXEC reply leaves).
    socket: Mutex<Option<std::os::fd::RawFd>>,
    close_after_flush: AtomicBool,
    /// The client's protocol is RESP3 (for pushed messages).
    pub resp3: AtomicBool,
    /// The client is subscribed to something (Redis's CLIENT_PUBSUB: a
    /// RESP2 client receives tracking invalidations as messages then).
    pub subscribed: AtomicBool,
    /// When the queue went over the soft limit (ms), 0 when under it.
    soft_since: std::sync::atomic::AtomicI64,
    /// Woken on new output, unblock, or kill.
    pub notify: Notify,
}

impl Outbox {
    /// Append bytes and wake the connection.
    pub fn push(&self, bytes: &[u8]) {
        let mut b = self.buf.lock().unwrap_or_else(|p| p.into_inner());
        b.push(bytes);
        self.len.store(b.len(), Ordering::Relaxed);
        self.queued_mem.store(b.allocated(), Ordering::Relaxed);
        drop(b);
        self.notify.notify_one();
    }

    fn stream_ref(&self) -> Option<StreamRef> {
        if !self.has_stream.load(Ordering::Relaxed) {
            return None;
        }
        self.stream
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// Attach a replica's reader of the shared replication buffer (its
    /// bytes are sent after whatever is queued).
    pub fn set_stream(&self, buf: Arc<crate::repl::buffer::ReplBuffer>, id: u64) {
        *self.stream.lock().unwrap_or_else(|p| p.into_inner()) = Some((buf, id));
        self.has_stream.store(true, Ordering::Relaxed);
    }

    /// Detach the replica's reader, returning it (to free it).
    pub fn take_stream(&self) -> Option<StreamRef> {
        self.has_stream.store(false, Ordering::Relaxed);
        self.stream.lock().unwrap_or_else(|p| p.into_inner()).take()
    }

    /// The replica went online: let its connection send the stream.
    pub fn start_stream(&self) {
        if let Some((buf, id)) = self.stream_ref() {
            buf.start_streaming(id);
        }
        self.notify.notify_one();
    }

    /// Append bytes under an output-buffer limit: a client over the hard
    /// limit, or over the soft limit for longer than allowed, is killed
    /// instead of growing without bound. Returns false when killed.
    pub fn push_limited(&self, bytes: &[u8], limit: crate::config::BufLimit, now: i64) -> bool {
        if self.is_killed() {
            return false;
        }
        if self.breaks_limit(self.held() + bytes.len(), limit, now) {
            self.kill();
            return false;
        }
        self.push(bytes);
        true
    }

    /// Kill the client if what is queued now breaks `limit`, as Redis's
    /// clientsCron: a client over its soft limit is dropped once the time
    /// is up even when no new output comes. Returns whether it killed.
    pub fn enforce_limit(&self, limit: crate::config::BufLimit, now: i64) -> bool {
        if self.is_killed() || !self.breaks_limit(self.held(), limit, now) {
            return false;
        }
        self.kill();
        true
    }

    /// Whether a queue of `len` bytes breaks `limit`: over the hard limit,
    /// or over the soft one for longer than allowed (the soft clock starts
    /// and stops here).
    pub fn breaks_limit(&self, len: usize, limit: crate::config::BufLimit, now: i64) -> bool {
        if limit.hard > 0 && len as u64 > limit.hard {
            return true;
        }
        if limit.soft > 0 && len as u64 > limit.soft {
            let since = self.soft_since.load(Ordering::Relaxed);
            if since == 0 {
                self.soft_since.store(now, Ordering::Relaxed);
            } else if (now - since) as u64 >= limit.soft_secs * 1000 {
                return true;
            }
        } else {
            self.soft_since.store(0, Ordering::Relaxed);
        }
        false
    }

    /// Whether pushed messages use RESP3.
    pub fn is_resp3(&self) -> bool {
        self.resp3.load(Ordering::Relaxed)
    }

    /// Whether the client is subscribed to anything.
    pub fn is_subscribed(&self) -> bool {
        self.subscribed.load(Ordering::Relaxed)
    }

    /// Take the oldest queued chunk: everything when little is queued,
    /// about a MB of a long queue; for a replica with nothing queued, up to
    /// [`STREAM_CHUNK`] bytes of its stream (empty when there is nothing to
    /// send). Whoever writes it out comes back for the rest.
    pub fn take(&self) -> Vec<u8> {
        let mut b = self.buf.lock().unwrap_or_else(|p| p.into_inner());
        let mut c = b.pop_front();
        self.len.store(b.len(), Ordering::Relaxed);
        self.queued_mem.store(b.allocated(), Ordering::Relaxed);
        drop(b);
        if c.is_empty() {
            if let Some((buf, id)) = self.stream_ref() {
                c = buf.read(id, STREAM_CHUNK);
            }
        }
        self.inflight_mem
            .store(crate::alloc::usable_size(c.capacity()), Ordering::Relaxed);
        self.inflight.store(c.len(), Ordering::Relaxed);
        c
    }

    /// What `take` gave is written out.
    pub fn written(&self) {
        self.inflight.store(0, Ordering::Relaxed);
        self.inflight_mem.store(0, Ordering::Relaxed);
    }

    /// Output held for the client: queued, plus taken and still being
    /// written, plus for a replica the part of the shared replication
    /// buffer it holds, as Redis's getClientOutputBufferMemoryUsage
    /// (CLIENT LIST omem, output-buffer limits).
    pub fn held(&self) -> usize {
        let stream = self.stream_ref().map_or(0, |(buf, id)| buf.reader_mem(id));
        self.len.load(Ordering::Relaxed)
            + self.inflight.load(Ordering::Relaxed)
            + self.stalled.load(Ordering::Relaxed)
            + stream
    }

    /// What [`Outbox::set_stalled`] last set.
    pub fn stalled(&self) -> usize {
        self.stalled.load(Ordering::Relaxed)
    }

    /// The connection's replies the socket has not taken: `n` bytes (0
    /// once all is written), in a reply buffer of `cap` bytes.
    pub fn set_stalled(&self, n: usize, cap: usize) {
        self.stalled.store(n, Ordering::Relaxed);
        self.reply_buf.store(cap, Ordering::Relaxed);
    }

    /// The reply buffer's allocation.
    pub fn reply_buf(&self) -> usize {
        self.reply_buf.load(Ordering::Relaxed)
    }

    /// Output on its way to the socket: the chunk being written, or when
    /// none is, what is queued (it goes out at the connection's next
    /// turn, as Redis writes its clients' replies before it reads the
    /// next command). Eviction does not count it, else the invalidations
    /// an eviction sends would read as memory to evict for; what queues
    /// up behind a write that stalls (a client that does not read)
    /// counts, except for a replica: what its connection copied out of the
    /// shared replication buffer and the socket has not taken is more of
    /// the replication stream, which maxmemory does not count. The queue
    /// and the chunk being written count as the allocator counts them in
    /// used_memory (whole size classes, room beyond the bytes included):
    /// counting the bytes, or the capacities alone, a burst of tracking
    /// invalidations to ten clients read as tens or hundreds of kB to
    /// evict for while the connections had not written them yet, and
    /// evicted most keys (Redis's eviction feedback-loop test).
    pub fn transient(&self) -> usize {
        let stream = if self.has_stream.load(Ordering::Relaxed) {
            self.stalled.load(Ordering::Relaxed)
        } else {
            0
        };
        stream
            + match self.inflight.load(Ordering::Relaxed) {
                // Behind output the socket did not take, the queue waits
                // for the peer: it is the client's output buffer.
                0 if self.stalled.load(Ordering::Relaxed) > 0 => 0,
                0 => self.queued_mem.load(Ordering::Relaxed),
                _ => self.inflight_mem.load(Ordering::Relaxed),
            }
    }

    /// The connection's query buffer now.
    pub fn qbuf(&self) -> usize {
        self.qbuf.load(Ordering::Relaxed)
    }

    /// Room left in the query buffer's allocation.
    pub fn qbuf_free(&self) -> usize {
        self.qbuf_free.load(Ordering::Relaxed)
    }

    /// Bytes of the arguments parsed so far of the command being read.
    pub fn argv(&self) -> usize {
        self.argv.load(Ordering::Relaxed)
    }

    /// Memory the query buffer holds (client eviction, tot-mem).
    pub fn qmem(&self) -> usize {
        self.qmem.load(Ordering::Relaxed)
    }

    /// The connection read or ran commands: its query buffer holds `q`
    /// (`qbuf`, `qbuf-free`, `argv`, memory).
    pub fn set_query(&self, q: Query) {
        self.qbuf.store(q.len, Ordering::Relaxed);
        self.qbuf_free.store(q.free, Ordering::Relaxed);
        self.argv.store(q.argv, Ordering::Relaxed);
        self.qmem.store(q.mem, Ordering::Relaxed);
        self.note_query_peak(q.len + q.argv);
    }

    /// The query buffer holds `n` bytes (read and not run): its peak.
    fn note_query_peak(&self, n: usize) {
        self.resize.query_peak.fetch_max(n, Ordering::Relaxed);
    }

    /// A batch left `n` bytes of replies in the reply buffer: its peak
    /// (the buffer's size at most, as Redis's buf_peak).
    pub fn note_reply_peak(&self, n: usize) {
        let n = n.min(self.reply_size());
        self.resize.reply_peak.fetch_max(n, Ordering::Relaxed);
    }

    /// The size the connection keeps its reply buffer at.
    pub fn reply_size(&self) -> usize {
        match self.resize.reply_size.load(Ordering::Relaxed) {
            0 => REPLY_CHUNK,
            n => n,
        }
    }

    /// The reply buffer's peak (CLIENT LIST rbp).
    pub fn reply_peak(&self) -> usize {
        self.resize.reply_peak.load(Ordering::Relaxed)
    }

    /// The query buffer size the cron asked for, once: `Some(0)` frees it.
    pub fn take_query_resize(&self) -> Option<usize> {
        match self.resize.query_to.swap(0, Ordering::Relaxed) {
            0 => None,
            n => Some(n - 1),
        }
    }

    /// The reply buffer size the cron set, once, when it changed.
    pub fn take_reply_resize(&self) -> Option<usize> {
        self.resize
            .reply_due
            .swap(false, Ordering::Relaxed)
            .then(|| self.reply_size())
    }

    /// Redis's clientsCronResizeQueryBuffer for a client idle for
    /// `idle_s` seconds: a buffer wasting more than 4 KB is freed when the
    /// client is idle, else cut down to its recent peak when it is over
    /// [`QUERY_RESIZE_THRESHOLD`] and twice that peak. The peak restarts
    /// from what the buffer holds now.
    pub fn cron_query_buffer(&self, idle_s: i64) {
        let (len, free) = (self.qbuf(), self.qbuf_free());
        let size = len + free;
        let peak = self.resize.query_peak.load(Ordering::Relaxed);
        if free > 4 * 1024 {
            if idle_s > 2 {
                self.resize.query_to.store(1, Ordering::Relaxed);
                self.notify.notify_one();
            } else if size > QUERY_RESIZE_THRESHOLD && size / 2 > peak {
                let to = len.max(peak).max(self.argv());
                self.resize.query_to.store(to + 1, Ordering::Relaxed);
                self.notify.notify_one();
            }
        }
        self.resize.query_peak.store(len, Ordering::Relaxed);
    }

    /// Redis's clientsCronResizeOutputBuffer: the reply buffer shrinks to
    /// its peak when it used under half of itself, and doubles (up to
    /// [`REPLY_CHUNK`]) when it filled up; the peak restarts every
    /// `peak_reset_ms` (negative: never). -1, 0 or 1: shrunk, unchanged,
    /// grown.
    pub fn cron_reply_buffer(&self, now: i64, resizing: bool, peak_reset_ms: i64) -> i8 {
        if !resizing {
            return 0;
        }
        let size = self.reply_size();
        let peak = self.resize.reply_peak.load(Ordering::Relaxed);
        let mut change = 0;
        let mut to = 0;
        if size / 2 >= REPLY_MIN && peak < size / 2 {
            to = REPLY_MIN.max(peak + 1);
            change = -1;
        } else if size * 2 < REPLY_CHUNK * 2 && peak >= size {
            to = REPLY_CHUNK.min(size * 2);
            change = 1;
        }
        let last = self.resize.reply_peak_reset.load(Ordering::Relaxed);
        if peak_reset_ms >= 0 && now - last >= peak_reset_ms {
            let held = self.stalled().min(size);
            self.resize.reply_peak.store(held, Ordering::Relaxed);
            self.resize.reply_peak_reset.store(now, Ordering::Relaxed);
        }
        if change != 0 {
            self.resize.reply_size.store(to, Ordering::Relaxed);
            self.resize.reply_due.store(true, Ordering::Relaxed);
            self.notify.notify_one();
        }
        change
    }

    /// The client-eviction bucket of a client using `mem` bytes (Redis's
    /// getMemUsageBucket: log2, from 32 KB to 4 GB) and when it entered
    /// it: a client that changes bucket goes to the end of the new one.
    pub fn eviction_bucket(&self, mem: usize) -> (u64, u64) {
        let bits = usize::BITS - mem.leading_zeros();
        let idx = u64::from(bits.clamp(15, 33) - 15);
        let cur = self.bucket.load(Ordering::Relaxed);
        if cur != 0 && cur >> 56 == idx {
            return (idx, cur & ((1 << 56) - 1));
        }
        let seq = BUCKET_SEQ.fetch_add(1, Ordering::Relaxed);
        self.bucket.store(idx << 56 | seq, Ordering::Relaxed);
        (idx, seq)
    }

    /// Bytes ready to send: queued, plus for a streaming replica the
    /// stream it has not been sent yet.
    pub fn len(&self) -> usize {
        let stream = self.stream_ref().map_or(0, |(buf, id)| buf.pending(id));
        self.len.load(Ordering::Relaxed) + stream
    }

    /// Nothing queued.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Close the connection: its socket is shut down now (the peer sees
    /// the close before anything the killer sends after), and its task
    /// ends when it wakes.
    pub fn kill(&self) {
        self.killed.store(true, Ordering::Relaxed);
        let fd = self.socket.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(fd) = *fd {
            // SAFETY: the connection's task holds the socket open until it
            // has cleared `socket` under this lock (`detach_socket`), so
            // `fd` is still that socket.
            #[allow(unsafe_code)]
            unsafe {
                libc::shutdown(fd, libc::SHUT_RDWR);
            }
        }
        drop(fd);
        self.notify.notify_one();
    }

    /// The connection's task owns `fd` from now until `detach_socket`.
    pub fn attach_socket(&self, fd: Option<std::os::fd::RawFd>) {
        *self.socket.lock().unwrap_or_else(|p| p.into_inner()) = fd;
    }

    /// The connection's socket while its task owns it (the Lua debugger
    /// talks over it while the script it stopped holds the engine).
    pub fn socket_fd(&self) -> Option<std::os::fd::RawFd> {
        *self.socket.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The task is about to close its socket: kills no longer touch it.
    pub fn detach_socket(&self) {
        *self.socket.lock().unwrap_or_else(|p| p.into_inner()) = None;
    }

    /// Close once what is queued is written (an error reply to a replica
    /// whose sync failed, the end of an rdb-only transfer).
    pub fn kill_after_flush(&self) {
        self.close_after_flush.store(true, Ordering::Relaxed);
        self.notify.notify_one();
    }

    /// Whether the connection should close after writing what is queued.
    pub fn closing(&self) -> bool {
        self.close_after_flush.load(Ordering::Relaxed)
    }

    /// Whether a kill was asked.
    pub fn is_killed(&self) -> bool {
        self.killed.load(Ordering::Relaxed)
    }

    /// Wake the connection without output (unblocked, timed out).
    pub fn wake(&self) {
        self.notify.notify_one();
    }
}

/// The reply buffer a connection starts with and grows back to (Redis's
/// PROTO_REPLY_CHUNK_BYTES).
pub const REPLY_CHUNK: usize = 16 * 1024;
/// The smallest reply buffer the cron shrinks to (PROTO_REPLY_MIN_BYTES).
pub const REPLY_MIN: usize = 1024;
/// What a connection reads at a time (PROTO_IOBUF_LEN): room it makes in
/// its query buffer before reading.
pub const IOBUF_LEN: usize = 16 * 1024;
/// A query buffer over this size is shrunk to its recent peak by the cron
/// (PROTO_RESIZE_THRESHOLD).
pub const QUERY_RESIZE_THRESHOLD: usize = 32 * 1024;

/// The buffers' peaks, and the sizes the cron wants them at (Redis's
/// clientsCronResizeQueryBuffer and clientsCronResizeOutputBuffer decide,
/// the connection reallocates).
#[derive(Default)]
struct Resize {
    /// The most the query buffer held since the cron last looked
    /// (querybuf_peak).
    query_peak: AtomicUsize,
    /// 0: nothing asked; n + 1: make the query buffer n bytes (0: free it,
    /// the client is idle).
    query_to: AtomicUsize,
    /// The most the reply buffer held since the peak was last reset
    /// (buf_peak), at most its size.
    reply_peak: AtomicUsize,
    /// When the reply peak was last reset (ms).
    reply_peak_reset: std::sync::atomic::AtomicI64,
    /// The reply buffer's size (0: [`REPLY_CHUNK`]).
    reply_size: AtomicUsize,
    /// `reply_size` changed and the connection has not applied it.
    reply_due: AtomicBool,
}

/// Where the client-eviction bucket entries are in their lists.
static BUCKET_SEQ: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);

/// What a connection's query buffer holds (see [`Outbox::set_query`]).
#[derive(Clone, Copy, Debug, Default)]
pub struct Query {
    /// Bytes read and not run (CLIENT LIST qbuf).
    pub len: usize,
    /// Room left in the read buffer (qbuf-free).
    pub free: usize,
    /// Arguments of the command being read, already parsed (argv-mem).
    pub argv: usize,
    /// Memory held: the read buffer's allocation and the commands read
    /// and not yet running.
    pub mem: usize,
}

/// Capabilities a replica announced before PSYNC (kept on the client).
#[derive(Clone, Debug, Default)]
pub struct Handshake {
    /// listening-port.
    pub port: u16,
    /// ip-address.
    pub ip: Option<String>,
    /// capa eof.
    pub eof: bool,
    /// capa psync2.
    pub psync2: bool,
    /// rdb-only.
    pub rdb_only: bool,
    /// rdb-filter-only: the RDB holds only what the filters include
    /// (Some(true): functions; Some(false): nothing), not the keys.
    pub rdb_filter_functions: Option<bool>,
}

/// What a blocked command answers when its time runs out.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TimeoutReply {
    /// Null array (BLPOP, BZPOPMIN, BLMPOP, …).
    NullArray,
    /// Null bulk (BLMOVE, BRPOPLPUSH).
    Null,
    /// WAIT: the number of replicas that acknowledged.
    WaitCount,
}

/// What a blocked client waits for.
pub struct BlockState {
    /// The command to run again when a key is ready.
    pub args: Vec<Bytes>,
    /// Keys (db, key) it waits on; empty for WAIT.
    pub keys: Vec<(usize, Key)>,
    /// Absolute deadline in ms, or None for ever.
    pub deadline: Option<i64>,
    /// For WAIT: replicas wanted and the offset to reach.
    pub wait: Option<(usize, i64)>,
    /// Set when the engine served or timed the client out: the connection
    /// picks up the outbox and resumes.
    pub done: bool,
    /// What to answer on timeout.
    pub reply: TimeoutReply,
}

/// One client.
pub struct Client {
    /// Unique id, as CLIENT ID.
    pub id: u64,
    /// Peer address `ip:port` (or `path:0` on the unix socket).
    pub addr: String,
    /// Local address.
    pub laddr: String,
    /// Whether the peer is on loopback or the unix socket.
    pub local: bool,
    /// CLIENT SETNAME.
    pub name: Option<Vec<u8>>,
    /// Selected database.
    pub db: usize,
    /// RESP2 or RESP3.
    pub proto: Proto,
    /// Passed AUTH (or no password is set).
    pub authenticated: bool,
    /// The ACL user it runs as (`default` until AUTH).
    pub user: Vec<u8>,
    /// `flag::*` bits.
    pub flags: u32,
    /// Commands queued by MULTI.
    pub multi: Vec<Vec<Bytes>>,
    /// Keys under WATCH: (db, key, expired-at-watch-time).
    pub watched: Vec<(usize, Key)>,
    /// CLIENT REPLY.
    pub reply_mode: ReplyMode,
    /// Held by CLIENT PAUSE (counted in blocked_clients, as Redis).
    pub paused: bool,
    /// Pushes a command wrote while its replies are off (subscribe
    /// confirmations): they go out anyway, as in Redis.
    pub unmuted: Vec<u8>,
    /// Channels subscribed.
    pub channels: HashSet<Vec<u8>>,
    /// Patterns subscribed.
    pub patterns: HashSet<Vec<u8>>,
    /// Shard channels subscribed (SSUBSCRIBE).
    pub shard_channels: HashSet<Vec<u8>>,
    /// Creation time (ms).
    pub created: i64,
    /// Last interaction (ms).
    pub last_interaction: i64,
    /// Name of the last command run.
    pub last_cmd: &'static str,
    /// Asynchronous output.
    pub outbox: Arc<Outbox>,
    /// Set while blocked.
    pub block: Option<BlockState>,
    /// Bytes in the query buffer, for CLIENT LIST.
    pub qbuf: usize,
    /// When the client first went over the soft output limit (ms), or 0.
    pub soft_limit_since: i64,
    /// What a replica announced with REPLCONF before its SYNC/PSYNC.
    pub replica: Option<Box<Handshake>>,
    /// SCRIPT DEBUG YES/SYNC: its next EVAL runs in the Lua debugger.
    pub lua_debug: bool,
}

impl Client {
    /// A fresh client.
    pub fn new(id: u64, addr: String, laddr: String, local: bool, unix: bool, now: i64) -> Client {
        Client {
            id,
            addr,
            laddr,
            local,
            name: None,
            db: 0,
            proto: Proto::Resp2,
            authenticated: false,
            user: b"default".to_vec(),
            flags: if unix { flag::UNIX } else { 0 },
            multi: Vec::new(),
            watched: Vec::new(),
            reply_mode: ReplyMode::On,
            paused: false,
            unmuted: Vec::new(),
            channels: HashSet::new(),
            patterns: HashSet::new(),
            shard_channels: HashSet::new(),
            created: now,
            last_interaction: now,
            last_cmd: "NULL",
            outbox: Arc::new(Outbox::default()),
            block: None,
            qbuf: 0,
            soft_limit_since: 0,
            replica: None,
            lua_debug: false,
        }
    }

    /// Inside MULTI.
    pub fn in_multi(&self) -> bool {
        self.flags & flag::MULTI != 0
    }

    /// Subscriptions of every kind: channels, patterns and shard
    /// channels (Redis's CLIENT_PUBSUB: RESP2 subscribed mode, the `P`
    /// flag, the pubsub output-buffer class).
    pub fn subscriptions(&self) -> usize {
        self.channels.len() + self.patterns.len() + self.shard_channels.len()
    }

    /// Channels and patterns subscribed (the count SUBSCRIBE and
    /// PSUBSCRIBE confirmations carry; Redis's clientSubscriptionsCount).
    pub fn global_subscriptions(&self) -> usize {
        self.channels.len() + self.patterns.len()
    }
}

/// The `flags=` letters of CLIENT LIST; `tracking` holds the letters of
/// the client's tracking mode (`t`, `R`, `B`), which the tracking
/// subsystem knows.
fn flags_string(cl: &Client, tracking: &str) -> String {
    let mut s = String::new();
    if cl.flags & flag::REPLICA != 0 {
        if cl.flags & flag::MONITOR != 0 {
            s.push('O');
        } else {
            s.push('S');
        }
    }
    if cl.flags & flag::MASTER != 0 {
        s.push('M');
    }
    if cl.subscriptions() > 0 {
        s.push('P');
    }
    if cl.in_multi() {
        s.push('x');
    }
    if cl.block.is_some() {
        s.push('b');
    }
    s.push_str(tracking);
    if cl.flags & flag::DIRTY_EXEC != 0 {
        s.push('d');
    }
    if cl.flags & flag::CLOSE_AFTER_REPLY != 0 {
        s.push('c');
    }
    if cl.flags & flag::UNIX != 0 {
        s.push('U');
    }
    if cl.flags & flag::NO_EVICT != 0 {
        s.push('e');
    }
    if s.is_empty() {
        s.push('N');
    }
    s
}

/// The client's own record (Redis counts zmalloc_size(c)).
const CLIENT_STRUCT: usize = std::mem::size_of::<Client>() + std::mem::size_of::<Outbox>();

impl Client {
    /// What MULTI holds (Redis's multiStateMemOverhead): the queued
    /// commands' arguments and their slots, and the WATCH list's entries.
    pub fn multi_mem(&self) -> usize {
        let queued: usize = self
            .multi
            .iter()
            .map(|a| 24 + a.iter().map(|x| x.len() + 8).sum::<usize>())
            .sum();
        queued + self.watched.len() * 56
    }

    /// The client's memory as Redis's getClientMemoryUsage counts it
    /// (CLIENT LIST tot-mem, maxmemory-clients): output, query buffer
    /// (its allocation), parsed arguments, the client itself and its reply
    /// buffer, MULTI state, subscription entries, and `extra` (the
    /// tracking prefixes' share, which the tracking subsystem knows).
    pub fn memory(&self, extra: usize) -> usize {
        // The stalled replies are in the reply buffer's allocation.
        self.outbox.held().saturating_sub(self.outbox.stalled())
            + self.outbox.reply_buf()
            + self.outbox.qmem()
            + self.outbox.argv()
            + CLIENT_STRUCT
            + self.multi_mem()
            + self.patterns.len() * 24
            + (self.channels.len() + self.shard_channels.len()) * 32
            + extra
    }

    /// Its CLIENT LIST line, with Redis 7.0's fields; `tracking` is its
    /// tracking mode's flag letters and its `redir=` (-1 when off),
    /// `extra` its tracking prefixes' memory and `running` the arguments
    /// of the command it runs now (for its own line: Redis counts them in
    /// argv-mem and tot-mem while the command runs).
    pub fn info_line(
        &self,
        now: i64,
        tracking: (&str, i64),
        extra: usize,
        running: usize,
    ) -> String {
        let cl = self;
        let qbuf = cl.outbox.qbuf();
        format!(
            "id={} addr={} laddr={} fd={} name={} age={} idle={} flags={} db={} sub={} psub={} ssub={} multi={} qbuf={} qbuf-free={} argv-mem={} multi-mem={} rbs={} rbp={} obl=0 oll=0 omem={} tot-mem={} events=r cmd={} user={} redir={} resp={}",
            cl.id,
            cl.addr,
            cl.laddr,
            cl.id + 7,
            String::from_utf8_lossy(cl.name.as_deref().unwrap_or(b"")),
            (now - cl.created) / 1000,
            (now - cl.last_interaction) / 1000,
            flags_string(cl, tracking.0),
            cl.db,
            cl.channels.len(),
            cl.patterns.len(),
            cl.shard_channels.len(),
            if cl.in_multi() { cl.multi.len() as i64 } else { -1 },
            qbuf,
            cl.outbox.qbuf_free(),
            cl.outbox.argv() + running,
            cl.multi_mem(),
            cl.outbox.reply_buf(),
            cl.outbox.reply_peak(),
            cl.outbox.held(),
            cl.memory(extra) + running,
            cl.last_cmd,
            String::from_utf8_lossy(&cl.user),
            tracking.1,
            if cl.proto == Proto::Resp3 { 3 } else { 2 }
        )
    }
}

#[cfg(test)]
mod tests {
    use super::Outbox;
    use crate::repl::buffer::ReplBuffer;
    use std::sync::Arc;

    #[test]
    fn a_replica_gets_its_queue_then_its_stream() {
        let buf = Arc::new(ReplBuffer::new(1 << 20, 0));
        buf.feed(b"old ");
        let o = Outbox::default();
        o.push(b"+CONTINUE\r\n");
        o.set_stream(buf.clone(), buf.add_reader(5, false).unwrap());
        buf.feed(b"stream ");
        assert_eq!(o.len(), 11, "the stream waits until it is started");
        assert!(o.held() >= 11 + crate::repl::buffer::MIN_BLOCK);
        assert_eq!(o.take(), b"+CONTINUE\r\n");
        o.written();
        assert!(o.take().is_empty());
        o.start_stream();
        buf.feed(b"more");
        assert_eq!(o.len(), 11);
        let mut got = Vec::new();
        while !o.is_empty() {
            got.extend(o.take());
            o.written();
        }
        assert_eq!(got, b"stream more");
        let (b, id) = o.take_stream().unwrap();
        b.remove_reader(id);
        assert_eq!(buf.readers(), 0);
        assert_eq!(o.held(), 0);
    }
}
