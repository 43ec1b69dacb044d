//! The persistence subsystem's state: the save and load in progress and
//! the bookkeeping INFO persistence reports. Nothing here does I/O or
//! names the engine; the operations (`snapshot`, `load`, the save points
//! in `mod.rs`) change it through the engine.

/// The persistence subsystem: the background save in progress, the load
/// in progress, and the bookkeeping INFO persistence reports. Invariants:
/// at most one save job at a time; `dirty` counts the changes since the
/// last successful save (a failed save keeps them); `loading` is set only
/// while a dataset is being loaded, when commands without the `loading`
/// flag answer -LOADING.
#[derive(Default)]
pub struct Persistence {
    /// Changes since the last save (rdb_changes_since_last_save).
    pub(super) dirty: u64,
    /// Last successful save (s).
    pub(super) lastsave: i64,
    /// Whether we are loading a dataset (answers -LOADING).
    pub(super) loading: bool,
    /// The background save in progress.
    pub(super) job: Option<BgJob>,
    /// Progress of the load in progress.
    pub(super) progress: Progress,
    /// The replication id the loaded file recorded.
    pub(super) loaded_replid: Option<String>,
    /// The replication offset the loaded file recorded.
    pub(super) loaded_repl_offset: Option<i64>,
    /// A replica loads its master's snapshot aside while the old data
    /// answers reads (INFO async_loading).
    pub(super) async_loading: bool,
    /// The db the replication stream had selected when the loaded file was
    /// written (`repl-stream-db`): where a replica's MASTER client starts.
    pub(super) loaded_stream_db: Option<usize>,
    /// BGSAVE SCHEDULE asked for one after the running save.
    pub(super) scheduled: bool,
    /// The RDB on disk was written only for replication and may be
    /// deleted once sent (rdb-del-sync-files).
    pub(super) rdb_for_replication: bool,
    /// When the last background save was attempted (s).
    pub(super) last_try: i64,
    /// Duration of the last background save (s).
    pub(super) last_bgsave_secs: Option<i64>,
    /// rdb_saves
    pub(super) saves: u64,
    /// rdb_last_cow_size: what writes made the last RDB snapshot encode
    /// early (bytes), relica's copy-on-write.
    pub(super) last_rdb_cow: u64,
    /// aof_last_cow_size, the same for the last AOF rewrite.
    pub(super) last_aof_cow: u64,
    /// total_forks: background snapshots started (BGSAVE, AOF rewrites,
    /// full syncs), each where Redis forks a child.
    pub(super) forks: u64,
    /// The last background save to disk failed (rdb_last_bgsave_status:err);
    /// false at start, as Redis. A diskless transfer does not set it.
    pub(super) last_failed: bool,
    /// rdb_last_load_keys_loaded
    pub(super) last_load_keys: u64,
    /// rdb_last_load_keys_expired
    pub(super) last_load_expired: u64,
    /// RESTORE skips the payload's CRC64 check (DEBUG
    /// SET-SKIP-CHECKSUM-VALIDATION 1; the value is still validated).
    pub(super) skip_checksum: bool,
}

impl Persistence {
    /// Nothing saved yet; `now_secs` is the start-up time.
    pub fn new(now_secs: i64) -> Persistence {
        Persistence {
            lastsave: now_secs,
            ..Persistence::default()
        }
    }

    /// rdb_changes_since_last_save.
    pub fn dirty(&self) -> u64 {
        self.dirty
    }

    /// `n` more changes to the dataset.
    #[inline]
    pub fn add_dirty(&mut self, n: u64) {
        self.dirty += n;
    }

    /// The dataset now equals what is saved (a full sync loaded it, or
    /// FLUSHALL saved it).
    pub fn clear_dirty(&mut self) {
        self.dirty = 0;
    }

    /// When the last successful save ended (s).
    pub fn lastsave(&self) -> i64 {
        self.lastsave
    }

    /// A background snapshot ended: its copy-before-write size becomes
    /// the last one (rdb_last_cow_size or aof_last_cow_size).
    pub fn snapshot_ended(&mut self, job: &BgJob) {
        let cow = job.cow();
        if job.aof {
            self.last_aof_cow = cow;
        } else {
            self.last_rdb_cow = cow;
        }
    }

    /// aof_last_cow_size.
    pub fn last_aof_cow(&self) -> u64 {
        self.last_aof_cow
    }

    /// Whether RESTORE skips the payload checksum.
    pub fn skip_checksum(&self) -> bool {
        self.skip_checksum
    }

    /// DEBUG SET-SKIP-CHECKSUM-VALIDATION.
    pub fn set_skip_checksum(&mut self, on: bool) {
        self.skip_checksum = on;
    }

    /// Whether a dataset is being loaded.
    pub fn loading(&self) -> bool {
        self.loading
    }

    /// A load starts or ends.
    pub fn set_loading(&mut self, on: bool) {
        self.loading = on;
        crate::watchdog::set_loading(on);
    }

    /// The background save in progress.
    pub fn job(&self) -> Option<&BgJob> {
        self.job.as_ref()
    }

    /// The background save in progress, to drive.
    pub fn job_mut(&mut self) -> Option<&mut BgJob> {
        self.job.as_mut()
    }

    /// Whether a background save (RDB or AOF rewrite) is in progress
    /// (Redis's hasActiveChildProcess).
    pub fn saving(&self) -> bool {
        self.job.is_some()
    }

    /// Whether an RDB save (not an AOF rewrite) is in progress.
    pub fn saving_rdb(&self) -> bool {
        self.job.as_ref().is_some_and(|j| !j.aof)
    }

    /// BGSAVE SCHEDULE: start one once the running save ends.
    pub fn schedule(&mut self) {
        self.scheduled = true;
    }

    /// A load of `total` bytes starts: the server answers -LOADING and
    /// INFO shows the progress, counted through the returned counter.
    pub fn begin_load_progress(
        &mut self,
        total: u64,
    ) -> std::sync::Arc<std::sync::atomic::AtomicU64> {
        let counter = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(0));
        self.progress = Progress {
            start: crate::clock::now_secs(),
            total,
            loaded: counter.clone(),
            rdb_used_mem: 0,
        };
        counter
    }

    /// Progress of the load in progress.
    pub fn progress(&self) -> &Progress {
        &self.progress
    }

    /// INFO async_loading: a replica loads aside while old data answers.
    pub fn async_loading(&self) -> bool {
        self.async_loading
    }

    /// A replica's aside load starts or ends.
    pub fn set_async_loading(&mut self, on: bool) {
        self.async_loading = on;
    }

    /// total_forks.
    pub fn total_forks(&self) -> u64 {
        self.forks
    }

    /// The replication id and offset the loaded file recorded, when it
    /// recorded both.
    pub fn loaded_repl(&self) -> Option<(String, i64)> {
        self.loaded_replid.clone().zip(self.loaded_repl_offset)
    }

    /// The db the loaded file's stream had selected (`repl-stream-db`).
    pub fn loaded_stream_db(&self) -> Option<usize> {
        self.loaded_stream_db
    }

    /// The loaded file's `repl-stream-db`, taken once by the MASTER client
    /// that resumes from it.
    pub fn take_loaded_stream_db(&mut self) -> Option<usize> {
        self.loaded_stream_db.take()
    }

    /// Forget or set the loaded file's `repl-stream-db`.
    pub fn set_loaded_stream_db(&mut self, db: Option<usize>) {
        self.loaded_stream_db = db;
    }

    /// A replica loaded its master's snapshot of `keys` keys.
    pub fn loaded_from_master(&mut self, keys: u64) {
        self.last_load_keys = keys;
    }

    /// Whether the RDB on disk was written only for replication
    /// (rdb-del-sync-files may delete it once sent).
    pub fn rdb_for_replication(&self) -> bool {
        self.rdb_for_replication
    }

    /// Mark the RDB on disk as written for replication, or not.
    pub fn set_rdb_for_replication(&mut self, on: bool) {
        self.rdb_for_replication = on;
    }
}

/// The background save in progress.
pub struct BgJob {
    /// When it started (ms).
    pub started_ms: i64,
    /// `dirty` when it started: what remains after it is the new dirty.
    pub dirty_before: u64,
    /// Keys in the dataset when it started.
    pub keys_total: u64,
    /// Keys written so far.
    pub keys_done: u64,
    /// Set by SHUTDOWN/FLUSHALL to abandon the file.
    pub cancel: bool,
    /// Written to replicas' sockets rather than to disk (Redis's
    /// RDB_CHILD_TYPE_SOCKET).
    pub socket_target: bool,
    /// Writes an AOF base (an AOF rewrite, Redis's CHILD_TYPE_AOF).
    pub aof: bool,
    /// This snapshot's number (`snapshot.rs`).
    pub gen: u64,
    /// Bytes the write path encoded before changing a segment not saved
    /// yet (copy-before-write): relica's measure of what Redis reports as
    /// its fork child's copy-on-write memory.
    pub cow_bytes: std::sync::Arc<std::sync::atomic::AtomicU64>,
}

impl BgJob {
    /// The copy-before-write bytes so far.
    pub fn cow(&self) -> u64 {
        self.cow_bytes.load(std::sync::atomic::Ordering::Relaxed)
    }
}

/// Progress of the load in progress, for INFO.
#[derive(Default)]
pub struct Progress {
    /// loading_start_time (s).
    pub start: i64,
    /// loading_total_bytes.
    pub total: u64,
    /// Bytes read so far.
    pub loaded: std::sync::Arc<std::sync::atomic::AtomicU64>,
    /// loading_rdb_used_mem.
    pub rdb_used_mem: u64,
}
