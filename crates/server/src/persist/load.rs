//! Loading RDB data into the keyspace: the start-up load from
//! `dir/dbfilename` and the value conversion RESTORE shares.
//!
//! The start-up load runs after the listeners are up, as Redis's: clients
//! that connect meanwhile get `-LOADING` (the engine's `loading` flag).
//! Records are parsed and converted outside the engine lock and inserted in
//! batches, so the lock is held briefly and INFO shows the progress.

use crate::engine::lock;
use std::io::Read;
use std::path::Path;
use std::time::{Duration, Instant};

use crate::config::P;
use crate::engine::{Engine, Shared};
use crate::keyspace::Value;
use crate::types::stream::Stream;
use crate::types::{hash::Hash, list::List, set::Set, zset::ZSet};

pub use super::state::Progress;

/// Keys inserted per lock acquisition.
const BATCH: usize = 1024;

/// Most keys a RESIZEDB hint may pre-size a database for (the table of
/// pointers this reserves is then at most a few hundred MB).
const MAX_RESERVE: u64 = 1 << 25;

/// The thresholds that choose encodings for loaded values.
#[derive(Clone, Copy)]
pub struct Limits {
    /// Hash thresholds.
    pub hash: crate::types::hash::HashLimits,
    /// Set threshold.
    pub set: crate::types::set::SetLimits,
    /// Sorted set thresholds.
    pub zset: crate::types::zset::ZSetLimits,
}

impl Limits {
    /// From the live configuration.
    pub fn of(eng: &Engine) -> Limits {
        Limits {
            hash: crate::types::hash::HashLimits {
                max_listpack_entries: eng.cfg().int(P::hash_max_listpack_entries) as usize,
                max_listpack_value: eng.cfg().int(P::hash_max_listpack_value) as usize,
            },
            set: crate::types::set::SetLimits {
                max_intset_entries: eng.cfg().int(P::set_max_intset_entries) as usize,
            },
            zset: crate::types::zset::ZSetLimits {
                max_listpack_entries: eng.cfg().int(P::zset_max_listpack_entries) as usize,
                max_listpack_value: eng.cfg().int(P::zset_max_listpack_value) as usize,
            },
        }
    }
}

/// Convert an RDB value to ours. `None` for an empty collection (Redis
/// skips those on load) or a sorted set with a NaN score.
pub fn from_rdb(v: rdb::Value, lim: &Limits) -> Option<Value> {
    Some(match v {
        rdb::Value::String(b) => Value::from_vec(b),
        rdb::Value::List(items) => {
            if items.is_empty() {
                return None;
            }
            let mut l = List::new();
            for i in &items {
                l.push_back(i);
            }
            Value::List(Box::new(l))
        }
        rdb::Value::Set(items) => {
            if items.is_empty() {
                return None;
            }
            let mut s = if items.len() > lim.set.max_intset_entries {
                Set::new_table()
            } else {
                Set::new()
            };
            for m in &items {
                s.add(m, &lim.set);
            }
            Value::Set(Box::new(s))
        }
        rdb::Value::Hash(pairs) => {
            if pairs.is_empty() {
                return None;
            }
            let mut h = Hash::new();
            if pairs.len() > lim.hash.max_listpack_entries {
                h.convert_to_table();
            }
            for (f, v) in &pairs {
                h.set(f, v, &lim.hash);
            }
            Value::Hash(h)
        }
        rdb::Value::ZSet(pairs) => {
            if pairs.is_empty() {
                return None;
            }
            let mut z = ZSet::with_len_hint(pairs.len(), &lim.zset);
            for (m, s) in &pairs {
                z.add(m, *s, Default::default(), &lim.zset).ok()?;
            }
            Value::ZSet(z)
        }
        rdb::Value::Stream(st) => Value::Stream(Box::new(Stream::from_rdb(*st)?)),
    })
}

/// Why the start-up load failed.
#[derive(Debug)]
pub struct LoadFailed(pub String);

/// A reader that counts the bytes it has read, for INFO's progress.
struct Counting<R> {
    inner: R,
    n: std::sync::Arc<std::sync::atomic::AtomicU64>,
}

impl<R: Read> Read for Counting<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let k = self.inner.read(buf)?;
        self.n
            .fetch_add(k as u64, std::sync::atomic::Ordering::Relaxed);
        Ok(k)
    }
}

/// The start-up load, opened: the file is open and the server is marked
/// loading, so that a client accepted from now on gets `-LOADING` (in Redis
/// the listeners exist before the load, but no client is served until
/// `loading` is set).
pub struct StartupLoad {
    file: std::fs::File,
    counter: std::sync::Arc<std::sync::atomic::AtomicU64>,
    started: Instant,
}

/// Open `dir/dbfilename` for the start-up load and mark the server loading.
/// `Ok(None)` when there is no file; an error means start-up must stop.
pub fn open_startup(shared: &Shared) -> Result<Option<StartupLoad>, LoadFailed> {
    let path = {
        let e = lock(shared);
        Path::new(e.cfg().str(P::dir)).join(e.cfg().str(P::dbfilename))
    };
    let file = match std::fs::File::open(&path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => {
            tracing::warn!("Fatal error loading the DB: {e}. Exiting.");
            return Err(LoadFailed(e.to_string()));
        }
    };
    let total = file.metadata().map(|m| m.len()).unwrap_or(0);
    let counter = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(0));
    {
        let mut e = lock(shared);
        e.persist_mut().loading = true;
        e.persist_mut().progress = Progress {
            start: crate::clock::now_secs(),
            total,
            loaded: counter.clone(),
            rdb_used_mem: 0,
        };
    }
    Ok(Some(StartupLoad {
        file,
        counter,
        started: Instant::now(),
    }))
}

/// Load an opened start-up file (blocking). Logs as Redis does; an error
/// means start-up must stop (the file is left as it is).
pub fn load_startup(shared: &Shared, load: StartupLoad) -> Result<(), LoadFailed> {
    let StartupLoad {
        file,
        counter,
        started,
    } = load;
    let reader = Counting {
        inner: std::io::BufReader::with_capacity(1 << 16, file),
        n: counter,
    };
    // A master deletes the expired keys it finds, and its replicas must
    // hear of it (Redis's RDBFLAGS_FEED_REPL): collected here, fed to the
    // stream once the file's replication id is known.
    let mut expired_keys = Vec::new();
    let master = !lock(shared).is_replica();
    let res = load_from(shared, reader, |db, key| {
        if master {
            expired_keys.push((db, key))
        }
    });
    let mut e = lock(shared);
    e.persist_mut().loading = false;
    match res {
        Ok((loaded, expired, empty)) => {
            if empty > 0 {
                tracing::warn!("Done loading RDB, keys loaded: {loaded}, keys expired: {expired}, empty keys skipped: {empty}.");
            } else {
                tracing::info!("Done loading RDB, keys loaded: {loaded}, keys expired: {expired}.");
            }
            tracing::info!(
                "DB loaded from disk: {:.3} seconds",
                started.elapsed().as_secs_f64()
            );
            e.persist_mut().last_load_keys = loaded;
            e.persist_mut().last_load_expired = expired;
            e.persist_mut().dirty = 0;
            restore_replication_info(&mut e, expired_keys);
            Ok(())
        }
        Err(err) => {
            // Start-up stops: drop whatever part was loaded.
            for db in e.keyspace_mut().dbs_mut() {
                db.clear();
            }
            for line in err.0.lines() {
                tracing::warn!("{line}");
            }
            if err.0.contains(CORRUPT_PREFIX) {
                // Redis runs redis-check-rdb on a corrupt file and exits.
                tracing::warn!("Terminating server after rdb file reading failure.");
            }
            Err(err)
        }
    }
}

/// A loaded key: (db, key, value, expire or -1).
pub type Item = (usize, crate::keyspace::EntryKey, Value, i64);

/// How to load.
#[derive(Clone, Copy)]
pub struct LoadOpts {
    /// Encoding thresholds.
    pub lim: Limits,
    /// Number of databases.
    pub ndb: usize,
    /// Keep keys whose expire is in the past (a replica does).
    pub keep_expired: bool,
    /// key-load-delay (µs per key).
    pub delay: i64,
    /// Check the file's CRC64 (off after DEBUG SET-SKIP-CHECKSUM-VALIDATION 1).
    pub verify_checksum: bool,
}

impl LoadOpts {
    /// From the live configuration.
    pub fn of(eng: &Engine) -> LoadOpts {
        LoadOpts {
            lim: Limits::of(eng),
            ndb: eng.keyspace().num_dbs(),
            keep_expired: eng.is_replica(),
            delay: eng.cfg().int(P::key_load_delay),
            verify_checksum: !eng.persist().skip_checksum(),
        }
    }
}

/// Parse an RDB stream and hand its keys over in batches. Returns (keys
/// loaded, keys expired).
pub fn load_records<R: Read>(
    r: R,
    o: &LoadOpts,
    mut on_aux: impl FnMut(&[u8], &[u8]),
    mut on_function: impl FnMut(Vec<u8>) -> Result<(), String>,
    mut on_resize: impl FnMut(usize, usize),
    mut on_batch: impl FnMut(&mut Vec<Item>),
    mut on_expired: impl FnMut(usize, crate::keyspace::Key),
) -> Result<(u64, u64, u64), LoadFailed> {
    let mut rd = rdb::Reader::new(r).map_err(|e| report(&e))?;
    rd.set_verify_checksum(o.verify_checksum);
    let mut empty_skipped = 0u64;
    let mut cur_db = 0usize;
    let mut batch: Vec<Item> = Vec::with_capacity(BATCH);
    let (mut loaded, mut expired) = (0u64, 0u64);
    let now = crate::clock::now_ms();
    while let Some(rec) = rd.next_record().map_err(|e| report(&e))? {
        match rec {
            rdb::Record::Aux { key, value } => on_aux(&key, &value),
            rdb::Record::SelectDb(db) if db >= o.ndb as u64 => return Err(too_many_dbs(o.ndb)),
            rdb::Record::SelectDb(db) => cur_db = db as usize,
            rdb::Record::ResizeDb { db_size, .. } => {
                // A hint from the file: capped, since the file may lie.
                on_resize(cur_db, db_size.min(MAX_RESERVE) as usize);
            }
            rdb::Record::Key(k) => {
                let db = k.db as usize;
                if db >= o.ndb {
                    return Err(too_many_dbs(o.ndb));
                }
                if let Some(exp) = k.expire_ms {
                    if exp <= now && !o.keep_expired {
                        expired += 1;
                        on_expired(db, k.key.into_boxed_slice());
                        continue;
                    }
                }
                let empty = is_empty_value(&k.value);
                let Some(v) = from_rdb(k.value, &o.lim) else {
                    if !empty {
                        // A value our types refuse (a stream whose parts
                        // disagree): the file is corrupt.
                        return Err(LoadFailed(format!(
                            "Internal error in RDB reading offset {}, function at value of key '{}' -> Bad data format",
                            rd.offset(),
                            String::from_utf8_lossy(&k.key)
                        )));
                    }
                    // Redis skips empty keys (#8453) and says so.
                    if empty_skipped < 10 {
                        tracing::warn!(
                            "rdbLoadObject skipping empty key: {}",
                            String::from_utf8_lossy(&k.key)
                        );
                    }
                    empty_skipped += 1;
                    continue;
                };
                batch.push((db, (&k.key[..]).into(), v, k.expire_ms.unwrap_or(-1)));
                loaded += 1;
                if o.delay > 0 {
                    std::thread::sleep(Duration::from_micros(o.delay as u64));
                }
                if batch.len() >= BATCH || o.delay > 0 {
                    on_batch(&mut batch);
                }
            }
            rdb::Record::Function { payload } => {
                on_function(payload)
                    .map_err(|e| LoadFailed(format!("Failed loading library, {e}")))?;
            }
            rdb::Record::Eof { .. } => break,
            _ => {}
        }
    }
    on_batch(&mut batch);
    Ok((loaded, expired, empty_skipped))
}

/// Whether an RDB value is an empty collection (Redis's "empty key").
fn is_empty_value(v: &rdb::Value) -> bool {
    match v {
        rdb::Value::String(_) | rdb::Value::Stream(_) => false,
        rdb::Value::List(x) | rdb::Value::Set(x) => x.is_empty(),
        rdb::Value::Hash(x) => x.is_empty(),
        rdb::Value::ZSet(x) => x.is_empty(),
    }
}

/// After a start-up load, resume the replication history the file
/// recorded (`repl::resume_from_file`).
fn restore_replication_info(e: &mut Engine, expired: Vec<(usize, crate::keyspace::Key)>) {
    if let Some((id, off)) = e.persist().loaded_repl() {
        crate::repl::feed::resume_from_file(e, id, off, expired);
    }
}

/// Load an RDB stream into a shared engine, taking the lock per batch.
/// `on_expired` hears of each key left out because it expired.
pub fn load_from<R: Read>(
    shared: &Shared,
    r: R,
    on_expired: impl FnMut(usize, crate::keyspace::Key),
) -> Result<(u64, u64, u64), LoadFailed> {
    let o = LoadOpts::of(&lock(shared));
    load_pipelined(
        r,
        &o,
        |k, v| aux(shared, k, v),
        |code| install_function(&mut lock(shared), &code, false),
        |db, n| lock(shared).keyspace_mut().db_mut(db).reserve(n),
        |b| insert_batch(&mut lock(shared), b),
        on_expired,
    )
}

/// `load_records` in two stages on two threads: this one parses and
/// converts, the other runs `insert`, so parsing overlaps the table work.
pub fn load_pipelined<R: Read>(
    r: R,
    o: &LoadOpts,
    on_aux: impl FnMut(&[u8], &[u8]),
    on_function: impl FnMut(Vec<u8>) -> Result<(), String>,
    on_resize: impl FnMut(usize, usize),
    mut insert: impl FnMut(&mut Vec<Item>) + Send,
    on_expired: impl FnMut(usize, crate::keyspace::Key),
) -> Result<(u64, u64, u64), LoadFailed> {
    let (tx, rx) = std::sync::mpsc::sync_channel::<Vec<Item>>(4);
    std::thread::scope(|scope| {
        let inserter = scope.spawn(move || {
            for mut batch in rx {
                insert(&mut batch);
            }
        });
        let res = load_records(
            r,
            o,
            on_aux,
            on_function,
            on_resize,
            |b| {
                // The inserter only stops when this side does.
                let _ = tx.send(std::mem::take(b));
            },
            on_expired,
        );
        drop(tx);
        let _ = inserter.join();
        res
    })
}

/// Load an RDB stream into an engine we already hold (DEBUG RELOAD). A
/// key or library that is already there is an error unless `merge`
/// (Redis's RDBFLAGS_ALLOW_DUP), when the file's replaces it.
pub fn load_into<R: Read>(eng: &mut Engine, r: R, merge: bool) -> Result<(u64, u64), LoadFailed> {
    let o = LoadOpts::of(eng);
    let mut items = Vec::new();
    let mut hints = Vec::new();
    let mut libs = Vec::new();
    let res = load_records(
        r,
        &o,
        log_aux,
        |code| {
            libs.push(code);
            Ok(())
        },
        |db, n| hints.push((db, n)),
        |b| items.append(b),
        |_, _| {},
    );
    let (loaded, expired, _) = res?;
    if !merge {
        if let Some((db, key, ..)) = items
            .iter()
            .find(|(db, key, ..)| eng.keyspace().db(*db).get(key).is_some())
        {
            return Err(LoadFailed(format!(
                "RDB has duplicated key '{}' in DB {db}",
                String::from_utf8_lossy(key)
            )));
        }
    }
    for (db, n) in hints {
        eng.keyspace_mut().db_mut(db).reserve(n);
    }
    insert_batch(eng, &mut items);
    for code in libs {
        install_function(eng, &code, merge)
            .map_err(|e| LoadFailed(format!("Failed loading library, {e}")))?;
    }
    Ok((loaded, expired))
}

/// Load a function library a file (or a master) holds. No time limit:
/// the file's libraries are trusted as a master's are.
pub fn install_function(eng: &mut Engine, code: &[u8], replace: bool) -> Result<(), String> {
    eng.scripting_mut()
        .functions_mut()
        .load(code, replace, 0)
        .map(|_| ())
}

fn too_many_dbs(ndb: usize) -> LoadFailed {
    LoadFailed(format!(
        "FATAL: Data file was created with a Redis server configured to handle more than {ndb} databases. Exiting"
    ))
}

/// Insert a batch of loaded keys into their databases.
pub fn insert_batch(e: &mut Engine, batch: &mut Vec<Item>) {
    if batch.is_empty() {
        return;
    }
    let lru = e.lru_clock();
    insert_items(e.keyspace_mut().dbs_mut(), batch, lru);
}

/// Insert a batch of loaded keys. The whole batch is looked up first: the
/// lookups do not depend on each other, so their cache misses overlap, and
/// the inserts then find the table lines they probe in the cache.
pub fn insert_items(dbs: &mut [crate::keyspace::Db], batch: &mut Vec<Item>, lru: u32) {
    let mut found = 0usize;
    for (db, key, _, _) in batch.iter() {
        if let Some(d) = dbs.get(*db) {
            found += usize::from(d.get(key).is_some());
        }
    }
    std::hint::black_box(found);
    for (db, key, v, exp) in batch.drain(..) {
        if let Some(d) = dbs.get_mut(db) {
            d.insert_owned(key, v, exp, lru);
        }
    }
}

/// Log the AUX fields Redis logs while loading.
pub fn log_aux(key: &[u8], value: &[u8]) {
    let v = String::from_utf8_lossy(value);
    match key {
        b"redis-ver" => tracing::info!("Loading RDB produced by version {v}"),
        b"ctime" => {
            if let Ok(t) = v.parse::<i64>() {
                let age = (crate::clock::now_secs() - t).max(0);
                tracing::info!("RDB age {age} seconds");
            }
        }
        b"used-mem" => {
            if let Ok(m) = v.parse::<u64>() {
                tracing::info!(
                    "RDB memory usage when created {:.2} Mb",
                    m as f64 / (1024.0 * 1024.0)
                );
            }
        }
        _ => {}
    }
}

/// An AUX field of a file being loaded: logged, and kept where it matters.
pub fn aux(shared: &Shared, key: &[u8], value: &[u8]) {
    log_aux(key, value);
    let v = String::from_utf8_lossy(value);
    match key {
        b"used-mem" => {
            if let Ok(m) = v.parse::<u64>() {
                lock(shared).persist_mut().progress.rdb_used_mem = m;
            }
        }
        b"repl-id" => lock(shared).persist_mut().loaded_replid = Some(v.into_owned()),
        b"repl-stream-db" => lock(shared).persist_mut().loaded_stream_db = v.parse().ok(),
        b"repl-offset" => {
            if let Ok(o) = v.parse::<i64>() {
                lock(shared).persist_mut().loaded_repl_offset = Some(o);
            }
        }
        _ => {}
    }
}

/// Redis's wording for a load that failed.
/// How a corrupt RDB is reported (Redis's rdbReportError).
const CORRUPT_PREFIX: &str = "Internal error in RDB reading offset";

/// Redis's rdbReportError line for a value that could not be read: the
/// offset, where (our context in place of Redis's rdb.c line), and the
/// reason, Redis's words first ("Hash ziplist integrity check failed.").
pub fn corrupt_line(e: &rdb::Error) -> String {
    match e {
        rdb::Error::Corrupt {
            offset,
            context,
            detail,
        } => format!("{CORRUPT_PREFIX} {offset}, function at {context} -> {detail}"),
        rdb::Error::UnexpectedEof { offset, context } => {
            format!("{CORRUPT_PREFIX} {offset}, function at {context} -> Unexpected EOF reading RDB file")
        }
        _ => format!("{CORRUPT_PREFIX} 0, function at value -> {e}"),
    }
}

fn report(e: &rdb::Error) -> LoadFailed {
    LoadFailed(match e {
        // The reason, then what redis-check-rdb (which Redis runs on a
        // corrupt file before it exits) says about it.
        rdb::Error::Corrupt {
            offset, context, ..
        } => {
            let line = corrupt_line(e);
            format!(
                "{line}\n--- RDB ERROR DETECTED ---\n[offset {offset}] {line}\n[additional info] While doing: read {context}"
            )
        }
        rdb::Error::UnexpectedEof { .. } => {
            format!("Short read or OOM loading DB. Unrecoverable error, aborting now. ({e})")
        }
        // Two lines, as Redis logs them (rdbReportCorruptRDB after it).
        rdb::Error::ChecksumMismatch { stored, computed } => format!(
            "Wrong RDB checksum expected: ({computed:x}) got ({stored:x}). Aborting now.\nInternal error in RDB reading offset 0, function at rdb.c:3216 -> RDB CRC error"
        ),
        _ => format!("Internal error in RDB reading: {e}. Unrecoverable error, aborting now."),
    })
}
