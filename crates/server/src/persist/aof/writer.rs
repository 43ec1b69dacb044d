//! The open incremental AOF file and the bytes waiting for it (Redis's
//! `aof_fd`, `aof_buf`, `flushAppendOnlyFile` and the BIO fsync job).
//!
//! Writes append their propagated form to `pending` under the engine lock,
//! so the file's order is the execution order. Whoever is about to send a
//! reply for a write calls [`AofWriter::flush_for_reply`] after releasing
//! the engine lock: it writes everything pending (and, with `appendfsync
//! always`, fsyncs) unless another caller already did, so concurrent
//! writers share one write and one fsync (group commit). With `everysec`
//! the cron hands an fsync to a background thread once a second; with `no`
//! the kernel decides. Nothing here names the engine.

use std::fs::File;
use std::io::Write as _;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicU8, Ordering::*};
use std::sync::Arc;

use parking_lot::Mutex;

/// `appendfsync`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fsync {
    /// fsync before every reply.
    Always = 0,
    /// fsync in the background once a second.
    Everysec = 1,
    /// Never fsync explicitly.
    No = 2,
}

impl Fsync {
    /// From the config's text.
    pub fn parse(s: &str) -> Fsync {
        match s {
            "always" => Fsync::Always,
            "no" => Fsync::No,
            _ => Fsync::Everysec,
        }
    }
    fn from_u8(v: u8) -> Fsync {
        match v {
            0 => Fsync::Always,
            2 => Fsync::No,
            _ => Fsync::Everysec,
        }
    }
}

struct FileState {
    file: Option<File>,
    /// Bytes in the open incremental file (aof_last_incr_size).
    incr_size: u64,
    /// What of it was last handed to fsync (aof_last_incr_fsync_offset).
    fsync_offset: u64,
    /// When the last fsync was started (s).
    last_fsync: i64,
    /// When a postponed write started waiting (s), or 0.
    postponed_start: i64,
    /// When a write error was last logged (s).
    last_error_log: i64,
}

/// The open AOF and its buffer; shared between the engine and whoever
/// flushes it.
pub struct AofWriter {
    pending: Mutex<Vec<u8>>,
    /// Bytes ever appended to `pending`.
    appended: AtomicU64,
    /// Bytes ever written to the files.
    written: AtomicU64,
    /// Bytes ever written and fsynced.
    synced: AtomicU64,
    file: Mutex<FileState>,
    policy: AtomicU8,
    /// A background fsync runs (aof_pending_bio_fsync).
    fsync_busy: Arc<AtomicBool>,
    /// aof_last_write_status: false after a failed write, until one works.
    write_ok: AtomicBool,
    /// The background fsync failed (aof_bio_fsync_status).
    bio_fsync_ok: Arc<AtomicBool>,
    /// The last write error's text.
    last_error: Mutex<String>,
    /// aof_delayed_fsync.
    delayed_fsync: AtomicU64,
    /// aof_current_size: base plus incremental files.
    current_size: AtomicU64,
    /// Skip fsyncs while a rewrite runs (no-appendfsync-on-rewrite).
    no_fsync: AtomicBool,
    /// The background fsync thread's queue.
    bio: std::sync::mpsc::Sender<(File, bool)>,
    /// DEBUG AOF-FLUSH-SLEEP (µs before each write).
    flush_sleep_us: AtomicU64,
}

/// What a failed flush means to the caller.
#[derive(Debug, PartialEq, Eq)]
pub enum FlushError {
    /// The write failed; writes are refused until one works.
    Write,
    /// The write or fsync failed under `appendfsync always`: Redis exits.
    Fatal,
}

impl AofWriter {
    /// A writer appending to `file`, which already holds `incr_size`
    /// bytes; `current_size` counts the base too.
    pub fn new(file: File, incr_size: u64, current_size: u64, policy: Fsync) -> Arc<AofWriter> {
        let (tx, rx) = std::sync::mpsc::channel::<(File, bool)>();
        let busy = Arc::new(AtomicBool::new(false));
        let bio_ok = Arc::new(AtomicBool::new(true));
        let (b2, ok2) = (busy.clone(), bio_ok.clone());
        let _ = std::thread::Builder::new()
            .name("relica-aof-fsync".into())
            .spawn(move || {
                for (f, close) in rx {
                    match f.sync_data() {
                        Ok(()) => ok2.store(true, Relaxed),
                        Err(e) => {
                            if !close {
                                tracing::warn!("Fail to fsync the AOF file: {e}");
                                ok2.store(false, Relaxed);
                            }
                        }
                    }
                    drop(f);
                    b2.store(false, Release);
                }
            });
        Arc::new(AofWriter {
            pending: Mutex::new(Vec::new()),
            appended: AtomicU64::new(0),
            written: AtomicU64::new(0),
            synced: AtomicU64::new(0),
            file: Mutex::new(FileState {
                file: Some(file),
                incr_size,
                fsync_offset: incr_size,
                last_fsync: crate::clock::now_secs(),
                postponed_start: 0,
                last_error_log: 0,
            }),
            policy: AtomicU8::new(policy as u8),
            fsync_busy: busy,
            write_ok: AtomicBool::new(true),
            bio_fsync_ok: bio_ok,
            last_error: Mutex::new(String::new()),
            delayed_fsync: AtomicU64::new(0),
            current_size: AtomicU64::new(current_size),
            no_fsync: AtomicBool::new(false),
            bio: tx,
            flush_sleep_us: AtomicU64::new(0),
        })
    }

    /// Append bytes for the file (under the engine lock).
    #[inline]
    pub fn append(&self, bytes: &[u8]) {
        self.pending.lock().extend_from_slice(bytes);
        self.appended.fetch_add(bytes.len() as u64, Release);
    }

    /// DEBUG AOF-FLUSH-SLEEP.
    pub fn set_flush_sleep(&self, us: u64) {
        self.flush_sleep_us.store(us, Relaxed);
    }

    /// `appendfsync` changed.
    pub fn set_policy(&self, p: Fsync) {
        self.policy.store(p as u8, Relaxed);
    }

    fn policy(&self) -> Fsync {
        Fsync::from_u8(self.policy.load(Relaxed))
    }

    /// While a rewrite (or another background save) runs, skip fsyncs when
    /// `no-appendfsync-on-rewrite` is set.
    pub fn set_no_fsync(&self, on: bool) {
        self.no_fsync.store(on, Relaxed);
    }

    /// Whether anything appended is not yet where a reply needs it: written
    /// (everysec, no) or written and fsynced (always).
    #[inline]
    pub fn needs_flush(&self) -> bool {
        let a = self.appended.load(Acquire);
        if self.policy() == Fsync::Always {
            a > self.synced.load(Acquire)
        } else {
            a > self.written.load(Acquire)
        }
    }

    /// Before replies leave: make what was appended so far durable as the
    /// policy asks (Redis's flushAppendOnlyFile in beforeSleep). Outside
    /// the engine lock.
    pub fn flush_for_reply(&self) -> Result<(), FlushError> {
        if !self.needs_flush() {
            return Ok(());
        }
        self.flush(false)
    }

    /// Write what is pending; `force` writes even while a background
    /// fsync is running. Then fsync as the policy says.
    pub fn flush(&self, force: bool) -> Result<(), FlushError> {
        let mut fs = self.file.lock();
        let now = crate::clock::now_secs();
        let policy = self.policy();
        let target = self.appended.load(Acquire);
        let busy = self.fsync_busy.load(Acquire);
        let empty = self.pending.lock().is_empty();
        if empty {
            if policy == Fsync::Always && fs.fsync_offset != fs.incr_size {
                return self.fsync_always(&mut fs, target);
            }
            if policy == Fsync::Everysec
                && fs.fsync_offset != fs.incr_size
                && now > fs.last_fsync
                && !busy
            {
                self.bg_fsync(&mut fs, now);
            }
            return Ok(());
        }
        if policy == Fsync::Everysec && !force && busy {
            if fs.postponed_start == 0 {
                fs.postponed_start = now;
                return Ok(());
            } else if now - fs.postponed_start < 2 {
                return Ok(());
            }
            self.delayed_fsync.fetch_add(1, Relaxed);
            tracing::info!("Asynchronous AOF fsync is taking too long (disk is busy?). Writing the AOF buffer without waiting for fsync to complete, this may slow down Redis.");
        }
        fs.postponed_start = 0;
        let sleep = self.flush_sleep_us.load(Relaxed);
        if sleep > 0 {
            std::thread::sleep(std::time::Duration::from_micros(sleep));
        }
        let buf = std::mem::take(&mut *self.pending.lock());
        let Some(f) = fs.file.as_mut() else {
            return Ok(());
        };
        let mut done = 0usize;
        let mut err = None;
        while done < buf.len() {
            // write, not write_all: a short write must be known to be
            // undone (Redis's aofWrite and its ftruncate).
            #[allow(clippy::disallowed_methods)]
            let r = f.write(&buf[done..]);
            match r {
                Ok(0) => {
                    err = Some(std::io::Error::from(std::io::ErrorKind::WriteZero));
                    break;
                }
                Ok(n) => done += n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => {
                    err = Some(e);
                    break;
                }
            }
        }
        if let Some(e) = err {
            let can_log = now - fs.last_error_log > 30;
            if can_log {
                fs.last_error_log = now;
            }
            if done == 0 {
                if can_log {
                    tracing::warn!("Error writing to the AOF file: {e}");
                }
            } else {
                if can_log {
                    tracing::warn!(
                        "Short write while writing to the AOF file: (nwritten={done}, expected={})",
                        buf.len()
                    );
                }
                let size = fs.incr_size;
                if let Some(f) = fs.file.as_mut() {
                    if f.set_len(size).is_ok() {
                        done = 0;
                    } else if can_log {
                        tracing::warn!("Could not remove short write from the append-only file.  Redis may refuse to load the AOF the next time it starts.  ftruncate: {e}");
                    }
                }
            }
            *self.last_error.lock() = if done == 0 && e.raw_os_error().is_none() {
                "No space left on device".into()
            } else {
                strerror(&e)
            };
            if policy == Fsync::Always {
                tracing::warn!("Can't recover from AOF write error when the AOF fsync policy is 'always'. Exiting...");
                return Err(FlushError::Fatal);
            }
            self.write_ok.store(false, Relaxed);
            // What was not written goes back ahead of what came since.
            let mut p = self.pending.lock();
            let mut rest = buf[done..].to_vec();
            rest.extend_from_slice(&p);
            *p = rest;
            fs.incr_size += done as u64;
            self.current_size.fetch_add(done as u64, Relaxed);
            self.written.fetch_add(done as u64, Release);
            return Err(FlushError::Write);
        }
        if !self.write_ok.swap(true, Relaxed) {
            tracing::warn!("AOF write error looks solved, Redis can write again.");
        }
        fs.incr_size += done as u64;
        self.current_size.fetch_add(done as u64, Relaxed);
        self.written.fetch_add(done as u64, Release);
        if self.no_fsync.load(Relaxed) {
            return Ok(());
        }
        match policy {
            Fsync::Always => self.fsync_always(&mut fs, target),
            Fsync::Everysec if now > fs.last_fsync => {
                if !busy {
                    self.bg_fsync(&mut fs, now);
                }
                fs.last_fsync = now;
                Ok(())
            }
            _ => Ok(()),
        }
    }

    fn fsync_always(&self, fs: &mut FileState, target: u64) -> Result<(), FlushError> {
        if self.no_fsync.load(Relaxed) {
            return Ok(());
        }
        if let Some(f) = fs.file.as_ref() {
            if let Err(e) = f.sync_data() {
                tracing::warn!("Can't persist AOF for fsync error when the AOF fsync policy is 'always': {}. Exiting...", strerror(&e));
                return Err(FlushError::Fatal);
            }
        }
        fs.fsync_offset = fs.incr_size;
        fs.last_fsync = crate::clock::now_secs();
        let _ = target;
        self.synced.fetch_max(self.written.load(Acquire), Release);
        Ok(())
    }

    fn bg_fsync(&self, fs: &mut FileState, now: i64) {
        let Some(f) = fs.file.as_ref().and_then(|f| f.try_clone().ok()) else {
            return;
        };
        self.fsync_busy.store(true, Release);
        if self.bio.send((f, false)).is_err() {
            self.fsync_busy.store(false, Release);
        }
        fs.fsync_offset = fs.incr_size;
        fs.last_fsync = now;
    }

    /// From the cron: write what waits, fsync once a second (everysec).
    pub fn cron(&self) -> Result<(), FlushError> {
        self.flush(false)
    }

    /// Write everything, then fsync now (SHUTDOWN, stopping the AOF).
    pub fn flush_and_fsync(&self) -> Result<(), FlushError> {
        let r = self.flush(true);
        let mut fs = self.file.lock();
        if let Some(f) = fs.file.as_ref() {
            match f.sync_data() {
                Ok(()) => fs.last_fsync = crate::clock::now_secs(),
                Err(e) => tracing::warn!("Fail to fsync the AOF file: {}", strerror(&e)),
            }
        }
        fs.fsync_offset = fs.incr_size;
        let w = self.written.load(Acquire);
        self.synced.fetch_max(w, Release);
        r
    }

    /// Continue in a new incremental file: what is pending goes to the old
    /// one first, which is then fsynced and closed in the background
    /// (openNewIncrAofForAppend).
    pub fn switch_file(&self, new: File) -> Result<(), FlushError> {
        let r = self.flush(true);
        let mut fs = self.file.lock();
        if let Some(old) = fs.file.replace(new) {
            let _ = self.bio.send((old, true));
        }
        fs.incr_size = 0;
        fs.fsync_offset = 0;
        fs.last_fsync = crate::clock::now_secs();
        r
    }

    /// Drop what is pending (a rewrite that collected into a temp file
    /// failed).
    pub fn discard_pending(&self) {
        let n = std::mem::take(&mut *self.pending.lock()).len() as u64;
        self.written.fetch_add(n, Release);
        self.synced.fetch_add(n, Release);
    }

    /// aof_last_write_status (with the background fsync's status).
    pub fn write_ok(&self) -> bool {
        self.write_ok.load(Relaxed) && self.bio_fsync_ok.load(Relaxed)
    }

    /// Whether the last write failed (refuse writes).
    pub fn write_failed(&self) -> bool {
        !self.write_ok.load(Relaxed)
    }

    /// Forget past errors (the AOF is reopened).
    pub fn clear_errors(&self) {
        self.write_ok.store(true, Relaxed);
        self.bio_fsync_ok.store(true, Relaxed);
    }

    /// The last write error's text.
    pub fn last_error(&self) -> String {
        self.last_error.lock().clone()
    }

    /// aof_buffer_length.
    pub fn buffer_len(&self) -> usize {
        self.pending.lock().len()
    }

    /// aof_pending_bio_fsync.
    pub fn fsync_pending(&self) -> bool {
        self.fsync_busy.load(Relaxed)
    }

    /// aof_delayed_fsync.
    pub fn delayed_fsync(&self) -> u64 {
        self.delayed_fsync.load(Relaxed)
    }

    /// aof_current_size.
    pub fn current_size(&self) -> u64 {
        self.current_size.load(Relaxed)
    }

    /// Set aof_current_size (after a rewrite).
    pub fn set_current_size(&self, n: u64) {
        self.current_size.store(n, Relaxed);
    }

    /// aof_last_incr_size.
    pub fn incr_size(&self) -> u64 {
        self.file.lock().incr_size
    }
}

/// An I/O error as C's strerror words it.
pub fn strerror(e: &std::io::Error) -> String {
    let s = e.to_string();
    match s.find(" (os error") {
        Some(i) => s[..i].to_string(),
        None => s,
    }
}
