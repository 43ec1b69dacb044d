//! Point-in-time snapshots without fork (DESIGN.md, "Snapshots without
//! fork").
//!
//! A snapshot starts under the engine lock: every database that has
//! segments gets a [`SegSaver`] recording which of its segments are still
//! unsaved. From then on two things serialize segments into the saver's
//! buffer, each exactly once:
//!
//! - the background thread ([`run_bgsave`]), which takes the lock for one
//!   short step at a time, saves the next unsaved segments up to a byte
//!   budget, drains the buffers and writes them to the file outside the lock;
//! - the keyspace's copy-before-write hook (`Db::seg_mut`), which saves a
//!   segment's pre-write content just before the first write that changes it.
//!
//! Either way a segment is saved as it was at the start, so the file is the
//! dataset at that instant. Nothing is copied except the encoded bytes
//! waiting to be written.
//!
//! Savers travel with their database's content: SWAPDB swaps them along
//! with the tables, and FLUSHDB/FLUSHALL save what is left before dropping
//! it (`Db::take`/`Db::clear`). Each saver keeps the index its database had
//! at the start, so the file gets the right SELECTDB for every fragment.

use crate::engine::lock;
use std::io::Write as _;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use crate::config::P;
use crate::engine::Engine;
use crate::keyspace::{Entry, Segment};
use crate::util::prefetch::prefetch;

pub use super::pipe::{PipeRead, RdbPipe};
pub use super::state::BgJob;

/// Each snapshot's number: a thread whose snapshot was abandoned (an AOF
/// rewrite stopped at once) must not touch the next one.
static GEN: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);

/// Bytes buffered per background step before the lock is released.
const STEP_BYTES: usize = 256 * 1024;

/// Saves the segments of one database as they were when the snapshot began.
pub struct SegSaver {
    /// Index of the database at the start of the snapshot.
    pub db_index: usize,
    done: Vec<bool>,
    pending: usize,
    cursor: usize,
    frag: rdb::Writer<Vec<u8>>,
    /// Keys written so far.
    pub keys: u64,
    /// Bytes encoded by the write path (the hook) rather than by the
    /// background thread, shared by the job's savers: `BgJob::cow_bytes`.
    cow_bytes: Arc<std::sync::atomic::AtomicU64>,
    /// The first encoding error, which fails the snapshot.
    pub error: Option<String>,
}

impl SegSaver {
    /// A saver for a database with `nseg` segments.
    pub fn new(
        db_index: usize,
        nseg: usize,
        opts: rdb::WriteOptions,
        cow_bytes: Arc<std::sync::atomic::AtomicU64>,
    ) -> Self {
        SegSaver {
            db_index,
            done: vec![false; nseg],
            pending: nseg,
            cursor: 0,
            frag: rdb::Writer::fragment(Vec::new(), opts),
            keys: 0,
            cow_bytes,
            error: None,
        }
    }

    /// Save unsaved segments in order until about `budget` bytes are
    /// buffered or `max_keys` keys were visited.
    fn advance(&mut self, segs: &[Segment], budget: usize, max_keys: u64) {
        let start_keys = self.keys;
        while self.cursor < segs.len() && self.frag_len() < budget {
            if self.keys - start_keys >= max_keys {
                break;
            }
            let i = self.cursor;
            self.cursor += 1;
            self.encode_segment(i, &segs[i]);
        }
    }

    fn frag_len(&mut self) -> usize {
        self.frag.get_mut().len()
    }

    /// Whether every segment is saved.
    pub fn finished(&self) -> bool {
        self.pending == 0
    }

    /// The bytes encoded so far; `spare` (an emptied earlier buffer)
    /// takes their place, so steps reuse a few buffers instead of growing
    /// a fresh one each time.
    fn take_bytes(&mut self, spare: Vec<u8>) -> Vec<u8> {
        std::mem::replace(self.frag.get_mut(), spare)
    }
}

impl SegSaver {
    /// Encode segment `idx` unless it already was.
    fn encode_segment(&mut self, idx: usize, seg: &Segment) {
        match self.done.get_mut(idx) {
            Some(d) if !*d => *d = true,
            _ => return,
        }
        self.pending -= 1;
        // Each key is a walk through three allocations (entry, key,
        // value); prefetching them a few keys ahead keeps the misses in
        // flight together. This was most of a snapshot's time.
        const AHEAD: usize = 4;
        let entries: Vec<&Entry> = seg.iter().collect();
        for (i, e) in entries.iter().enumerate() {
            if let Some(next) = entries.get(i + 2 * AHEAD) {
                prefetch(*next as *const Entry);
            }
            if let Some(next) = entries.get(i + AHEAD) {
                prefetch(next.key.as_ptr());
                if let Some(p) = next.value.heap_ptr() {
                    prefetch(p);
                }
            }
            // Keys whose TTL passed are saved too, as Redis 7.0 does: whoever
            // loads the file decides (a restarted master deletes them and
            // tells its replicas, a replica keeps them for its master's DEL).
            let exp = (e.expire() >= 0).then_some(e.expire());
            if let Err(err) = super::write_entry(&mut self.frag, &e.key, &e.value, exp) {
                self.error.get_or_insert_with(|| err.to_string());
            }
            self.keys += 1;
        }
    }
}

/// The keyspace calls these just before a write changes what they save:
/// what they encode is the snapshot's copy-before-write.
impl crate::keyspace::SnapshotHook for SegSaver {
    fn save_segment(&mut self, idx: usize, seg: &Segment) {
        let before = self.frag_len();
        self.encode_segment(idx, seg);
        let n = (self.frag_len() - before) as u64;
        self.cow_bytes
            .fetch_add(n, std::sync::atomic::Ordering::Relaxed);
    }

    fn save_all(&mut self, segs: &[Segment]) {
        for (i, s) in segs.iter().enumerate() {
            self.save_segment(i, s);
        }
    }

    fn as_any(&mut self) -> &mut dyn std::any::Any {
        self
    }
}

/// Where a snapshot goes.
pub enum Target {
    /// `dir/dbfilename`, through a temp file and a rename.
    Disk,
    /// Straight to replicas (diskless replication), one pipe each.
    Sockets(Vec<Arc<RdbPipe>>),
    /// A new AOF base file at `tmp` (an AOF rewrite): RDB when
    /// `preamble`, else commands (with a `#TS:` first when `timestamp`).
    AofBase {
        /// The temporary base file.
        tmp: PathBuf,
        /// aof-use-rdb-preamble.
        preamble: bool,
        /// aof-timestamp-enabled.
        timestamp: bool,
    },
}

/// `Write` into every pipe of a socket-target snapshot.
struct PipesWriter(Vec<Arc<RdbPipe>>);

impl PipesWriter {
    /// How many replicas are still reading.
    fn alive(&self) -> usize {
        self.0.iter().filter(|p| !p.is_dead()).count()
    }
}

impl std::io::Write for PipesWriter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        for p in &self.0 {
            p.write(buf);
        }
        if self.alive() == 0 {
            // Redis kills its fork child then; the snapshot stops here.
            return Err(std::io::Error::other("last replica dropped"));
        }
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Write options for snapshots from the live configuration.
pub fn write_options(eng: &Engine) -> rdb::WriteOptions {
    rdb::WriteOptions {
        compression: eng.cfg().bool(P::rdbcompression),
        checksum: eng.cfg().bool(P::rdbchecksum),
        listpack_max_entries: eng.cfg().int(P::hash_max_listpack_entries) as usize,
        listpack_max_value: eng.cfg().int(P::hash_max_listpack_value) as usize,
        intset_max_entries: eng.cfg().int(P::set_max_intset_entries) as usize,
        ..Default::default()
    }
}

/// Start a background save to `dir/dbfilename`. Fails when one is running
/// or the engine is not shared yet.
pub fn start_bgsave(eng: &mut Engine) -> Result<(), String> {
    start_snapshot(eng, Target::Disk)
}

/// Start a snapshot to disk or to replicas' pipes.
pub fn start_snapshot(eng: &mut Engine, target: Target) -> Result<(), String> {
    if eng.persist().job.is_some() {
        return Err("ERR Background save already in progress".into());
    }
    let Some(shared) = eng.handle() else {
        return Err("ERR Background save not possible: engine not running".into());
    };
    let opts = write_options(eng);
    let gen = GEN.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let mut keys_total = 0;
    let cow_bytes = Arc::new(std::sync::atomic::AtomicU64::new(0));
    for (i, db) in eng.keyspace_mut().dbs_mut().iter_mut().enumerate() {
        keys_total += db.len() as u64;
        let cow = cow_bytes.clone();
        db.begin_snapshot(|nseg| Box::new(SegSaver::new(i, nseg, opts.clone(), cow)));
    }
    eng.persist_mut().job = Some(BgJob {
        started_ms: crate::clock::now_ms(),
        dirty_before: eng.persist().dirty,
        keys_total,
        keys_done: 0,
        cancel: false,
        socket_target: matches!(target, Target::Sockets(_)),
        aof: matches!(target, Target::AofBase { .. }),
        gen,
        cow_bytes,
    });
    eng.persist_mut().last_try = crate::clock::now_secs();
    eng.persist_mut().saves += 1;
    eng.persist_mut().forks += 1;
    let dir = PathBuf::from(eng.cfg().str(P::dir));
    let file = dir.join(eng.cfg().str(P::dbfilename));
    let tmp = dir.join(format!("temp-{}-bg.rdb", std::process::id()));
    let tmp = if matches!(target, Target::AofBase { .. }) {
        dir.join(format!("temp-rewriteaof-{}-{gen}.rdb", std::process::id()))
    } else {
        tmp
    };
    let mut aux_list = super::aux_fields(eng);
    if matches!(target, Target::AofBase { .. }) {
        // Redis's RDBFLAGS_AOF_PREAMBLE.
        for (k, v) in aux_list.iter_mut() {
            if k == "aof-base" {
                *v = "1".into();
            }
        }
    }
    let aux = Head {
        aux: aux_list,
        functions: super::function_libraries(eng),
        sizes: eng
            .keyspace()
            .dbs()
            .iter()
            .map(|d| (d.len() as u64, d.volatile_len() as u64))
            .collect(),
    };
    let socket = matches!(target, Target::Sockets(_));
    let aof = matches!(target, Target::AofBase { .. });
    let spawned = std::thread::Builder::new()
        .name("relica-bgsave".into())
        .spawn(move || run_bgsave(shared, opts, aux, target, tmp, file, gen));
    if let Err(e) = spawned {
        end_snapshot(eng);
        eng.persist_mut().job = None;
        return Err(format!("ERR Can't start the background save: {e}"));
    }
    // Redis names its fork child here; the snapshot runs in a thread of
    // this process, so this process's id is the one that does the work.
    let pid = std::process::id();
    if aof {
        tracing::info!("Background append only file rewriting started by pid {pid}");
    } else if socket {
        tracing::info!("Background RDB transfer started by pid {pid}");
    } else {
        tracing::info!("Background saving started by pid {pid}");
    }
    Ok(())
}

/// Drop every saver (the snapshot ended or was abandoned).
fn end_snapshot(eng: &mut Engine) {
    for db in eng.keyspace_mut().dbs_mut() {
        db.end_snapshot();
    }
}

/// What goes before the keys: AUX fields, and each database's key and
/// expire counts at the start (RESIZEDB, so loaders size their tables once).
struct Head {
    aux: Vec<(String, String)>,
    /// Function libraries at the start.
    functions: Vec<bytes::Bytes>,
    sizes: Vec<(u64, u64)>,
}

/// What one step under the lock produced.
struct Step {
    chunks: Vec<(usize, Vec<u8>)>,
    keys: u64,
    done: bool,
    error: Option<String>,
    cancel: bool,
}

fn step(eng: &mut Engine, max_keys: u64, spare: &mut Vec<Vec<u8>>, gen: u64) -> Step {
    let mut st = Step {
        chunks: Vec::new(),
        keys: 0,
        done: true,
        error: None,
        cancel: eng
            .persist()
            .job
            .as_ref()
            .is_none_or(|j| j.cancel || j.gen != gen),
    };
    if st.cancel {
        return st;
    }
    let mut budget = STEP_BYTES;
    let mut key_budget = max_keys;
    for db in eng.keyspace_mut().dbs_mut() {
        let (segs, snap) = db.snapshot_parts::<SegSaver>();
        let Some(s) = snap else { continue };
        if budget > 0 && key_budget > 0 {
            let before = s.keys;
            s.advance(segs, budget, key_budget);
            key_budget = key_budget.saturating_sub(s.keys - before);
        }
        let bytes = s.take_bytes(spare.pop().unwrap_or_default());
        budget = budget.saturating_sub(bytes.len());
        if !bytes.is_empty() {
            st.chunks.push((s.db_index, bytes));
        }
        st.keys += s.keys;
        if let Some(e) = &s.error {
            st.error.get_or_insert_with(|| e.clone());
        }
        st.done &= s.finished();
    }
    if let Some(j) = eng.persist_mut().job.as_mut() {
        j.keys_done = st.keys;
    }
    if st.done || st.error.is_some() {
        end_snapshot(eng);
    }
    st
}

/// The background thread: step, write, repeat; then finish the file (or
/// the pipes) and record the outcome.
fn run_bgsave(
    shared: crate::engine::Shared,
    opts: rdb::WriteOptions,
    aux: Head,
    target: Target,
    tmp: PathBuf,
    file: PathBuf,
    gen: u64,
) {
    let res = match &target {
        Target::AofBase {
            tmp: base,
            preamble,
            timestamp,
        } => {
            let r = if *preamble {
                write_disk(&shared, opts, &aux, base, gen)
            } else {
                write_disk(&shared, opts, &aux, &tmp, gen).and_then(|_| {
                    let r = super::aof::rewrite::rdb_to_commands(&tmp, base, *timestamp);
                    let _ = std::fs::remove_file(&tmp);
                    r
                })
            };
            match &r {
                Ok(()) => tracing::info!(
                    "Successfully created the temporary AOF base file {}",
                    base.display()
                ),
                Err(e) => tracing::warn!(
                    "Write error writing append only file on disk: {}",
                    super::aof::writer::strerror(e)
                ),
            }
            if r.is_err() {
                let _ = std::fs::remove_file(base);
            }
            r
        }
        Target::Disk => {
            write_disk(&shared, opts, &aux, &tmp, gen).and_then(|_| std::fs::rename(&tmp, &file))
        }
        Target::Sockets(pipes) => {
            let r = write_stream(&shared, opts, &aux, PipesWriter(pipes.clone()), gen).map(|_| ());
            for p in pipes {
                p.finish(r.is_ok());
            }
            let alive = PipesWriter(pipes.clone()).alive();
            match &r {
                Ok(()) => tracing::info!(
                    "Diskless rdb transfer, done reading from pipe, {alive} replicas still up."
                ),
                Err(_) if alive == 0 => tracing::warn!(
                    "Diskless rdb transfer, last replica dropped, killing fork child."
                ),
                Err(e) => tracing::warn!("Background transfer error: {e}"),
            }
            r
        }
    };
    if res.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    let mut eng = lock(&shared);
    if eng.persist().job.as_ref().is_none_or(|j| j.gen != gen) {
        // Abandoned, and maybe replaced by a newer snapshot.
        return;
    }
    end_snapshot(&mut eng);
    let Some(job) = eng.persist_mut().job.take() else {
        return;
    };
    let now_ms = crate::clock::now_ms();
    let ok = res.is_ok();
    eng.persist_mut().snapshot_ended(&job);
    if job.aof {
        crate::persist::aof::done::rewrite_done(&mut eng, ok, job.cancel);
    } else if !job.socket_target {
        eng.persist_mut().last_bgsave_secs = Some((now_ms - job.started_ms) / 1000);
        match res {
            Ok(()) => {
                tracing::info!("DB saved on disk");
                tracing::info!("Background saving terminated with success");
                eng.persist_mut().dirty = eng.persist_mut().dirty.saturating_sub(job.dirty_before);
                eng.persist_mut().lastsave = now_ms / 1000;
                eng.persist_mut().last_failed = false;
            }
            Err(e) if job.cancel => {
                tracing::warn!("Background saving was canceled: {e}");
            }
            Err(e) => {
                tracing::warn!("Background saving error: {e}");
                eng.persist_mut().last_failed = true;
            }
        }
    }
    if !job.aof {
        crate::repl::master::snapshot_done(&mut eng, ok, job.socket_target, &file);
    }
    if std::mem::take(&mut eng.persist_mut().scheduled) && eng.persist_mut().job.is_none() {
        if let Err(e) = start_bgsave(&mut eng) {
            tracing::warn!("Scheduled background save failed to start: {e}");
        }
    }
}

fn write_disk(
    shared: &crate::engine::Shared,
    opts: rdb::WriteOptions,
    aux: &Head,
    tmp: &std::path::Path,
    gen: u64,
) -> std::io::Result<()> {
    let f = std::fs::File::create(tmp)?;
    let bw = std::io::BufWriter::with_capacity(1 << 16, f);
    let mut bw = write_stream(shared, opts, aux, bw, gen)?;
    bw.flush()?;
    let f = bw.into_inner().map_err(|e| e.into_error())?;
    f.sync_all()
}

fn write_stream<W: std::io::Write>(
    shared: &crate::engine::Shared,
    opts: rdb::WriteOptions,
    head: &Head,
    out: W,
    gen: u64,
) -> std::io::Result<W> {
    let io = |e: rdb::Error| std::io::Error::other(e.to_string());
    let mut w = rdb::Writer::new(out, opts).map_err(io)?;
    for (k, v) in &head.aux {
        w.aux(k.as_bytes(), v.as_bytes()).map_err(io)?;
    }
    for code in &head.functions {
        w.function(code).map_err(io)?;
    }
    let mut cur_db = None;
    let mut sized = vec![false; head.sizes.len()];
    let mut spare: Vec<Vec<u8>> = Vec::new();
    loop {
        let delay_us = lock(shared).cfg().int(P::rdb_key_save_delay);
        // The test knob rdb-key-save-delay slows saving per key, as in
        // Redis's child; steps then carry one segment's worth of keys.
        let max_keys = if delay_us != 0 { 1 } else { u64::MAX };
        let (st, before) = {
            let mut eng = lock(shared);
            let before = eng.persist().job.as_ref().map_or(0, |j| j.keys_done);
            (step(&mut eng, max_keys, &mut spare, gen), before)
        };
        if st.cancel {
            return Err(std::io::Error::other("canceled"));
        }
        if let Some(e) = st.error {
            return Err(std::io::Error::other(e));
        }
        for (db, bytes) in &st.chunks {
            if cur_db != Some(*db) {
                w.select_db(*db as u64).map_err(io)?;
                cur_db = Some(*db);
                if let Some((keys, expires)) = head.sizes.get(*db) {
                    if !std::mem::replace(&mut sized[*db], true) {
                        w.resize_db(*keys, *expires).map_err(io)?;
                    }
                }
            }
            w.records(bytes).map_err(io)?;
        }
        for (_, mut bytes) in st.chunks {
            if spare.len() < 4 {
                bytes.clear();
                spare.push(bytes);
            }
        }
        // rdb-key-save-delay is per key saved, as in Redis's child: keys a
        // write serialized ahead of the snapshot (copy on write) count
        // too, so writes do not make a delayed snapshot end early.
        if delay_us > 0 {
            let n = st.keys.saturating_sub(before).max(1);
            sleep_unless_canceled(shared, Duration::from_micros(delay_us as u64 * n), gen)?;
        }
        if st.done {
            break;
        }
    }
    w.finish().map_err(io)
}

/// Sleep for the save delay, in slices, giving up when the save is
/// canceled (a delay times many keys can be minutes).
fn sleep_unless_canceled(
    shared: &crate::engine::Shared,
    d: Duration,
    gen: u64,
) -> std::io::Result<()> {
    let until = std::time::Instant::now() + d;
    loop {
        let now = std::time::Instant::now();
        if now >= until {
            return Ok(());
        }
        std::thread::sleep((until - now).min(Duration::from_millis(10)));
        if lock(shared)
            .persist()
            .job
            .as_ref()
            .is_none_or(|j| j.cancel || j.gen != gen)
        {
            return Err(std::io::Error::other("canceled"));
        }
    }
}

/// Drop a running AOF rewrite's snapshot at once (killAppendOnlyChild):
/// its thread sees the job gone and stops without touching what follows.
pub fn abandon_aof_job(eng: &mut Engine) {
    if eng.persist().job.as_ref().is_some_and(|j| j.aof) {
        eng.persist_mut().job = None;
        end_snapshot(eng);
    }
}

/// Abandon a running background save (SHUTDOWN, FLUSHALL).
pub fn cancel_bgsave(eng: &mut Engine) {
    if let Some(j) = eng.persist_mut().job.as_mut() {
        j.cancel = true;
        tracing::warn!("Background saving canceled");
    }
    end_snapshot(eng);
}
