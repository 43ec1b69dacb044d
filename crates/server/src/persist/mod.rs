//! Persistence: RDB snapshots of the keyspace (SAVE, save points, the
//! start-up load) through the `rdb` crate.
//!
//! This module owns the mapping between the engine's values and `rdb`'s
//! records, and the save bookkeeping INFO persistence reports.

use std::fmt::Write as _;
use std::io::Write as _;

use crate::config::P;
use crate::engine::Engine;
use crate::keyspace::Value;

pub mod aof;
pub mod digest;
pub mod load;
pub mod pipe;
pub mod snapshot;
pub mod state;

pub use state::Persistence;

/// Convert a value to the `rdb` crate's model (for DUMP sizes and saves).
pub fn to_rdb(v: &Value) -> rdb::Value {
    match v {
        Value::Int(_) | Value::Str(_) | Value::Raw(_) => {
            rdb::Value::String(v.as_bytes().map(|b| b.into_owned()).unwrap_or_default())
        }
        Value::List(l) => rdb::Value::List(l.iter().map(|e| e.to_vec()).collect()),
        Value::Hash(h) => {
            rdb::Value::Hash(h.iter().map(|(f, v)| (f.to_vec(), v.to_vec())).collect())
        }
        Value::Set(s) => rdb::Value::Set(s.iter().map(|m| m.to_vec()).collect()),
        Value::ZSet(z) => rdb::Value::ZSet(z.iter().map(|(m, sc)| (m.to_vec(), sc)).collect()),
        Value::Stream(s) => rdb::Value::Stream(Box::new(stream_to_rdb(s))),
    }
}

/// A stream in the `rdb` crate's model: its nodes element by element.
pub fn stream_to_rdb(s: &crate::types::stream::Stream) -> rdb::Stream {
    use crate::types::stream::StreamId;
    let t = |id: StreamId| (id.ms, id.seq);
    rdb::Stream {
        nodes: s
            .nodes()
            .map(|(m, n)| {
                (
                    t(*m),
                    n.elements().map(|e| e.bytes().into_owned()).collect(),
                )
            })
            .collect(),
        length: s.len(),
        last_id: t(s.last_id()),
        first_id: t(s.first_id()),
        max_deleted_id: t(s.max_deleted_entry_id()),
        entries_added: s.entries_added(),
        groups: s
            .groups()
            .iter()
            .map(|(name, g)| rdb::StreamGroup {
                name: name.to_vec(),
                last_id: t(g.last_id),
                entries_read: Some(g.entries_read),
                pel: g
                    .pel
                    .iter()
                    .map(|(id, n)| (t(*id), n.delivery_time, n.delivery_count))
                    .collect(),
                consumers: g
                    .consumers
                    .iter()
                    .map(|(cn, c)| rdb::StreamConsumer {
                        name: cn.to_vec(),
                        seen_time: c.seen_time,
                        pel: c.pel.iter().map(|id| t(*id)).collect(),
                    })
                    .collect(),
            })
            .collect(),
    }
}

/// Bytes the value takes in an RDB file (DEBUG OBJECT serializedlength).
pub fn serialized_len(v: &Value) -> usize {
    // A DUMP payload is the RDB value plus a 2-byte version and 8-byte CRC.
    rdb::dump_payload(&to_rdb(v), 10).len().saturating_sub(11)
}

/// Write the whole dataset to `dir/dbfilename` through a temp file and an
/// atomic rename, as Redis's rdbSave.
pub fn save_blocking(eng: &mut Engine) -> std::io::Result<()> {
    let dir = std::path::PathBuf::from(eng.cfg().str(P::dir));
    let file = dir.join(eng.cfg().str(P::dbfilename));
    let tmp = dir.join(format!("temp-{}.rdb", std::process::id()));
    let res = write_rdb(eng, &tmp).and_then(|_| std::fs::rename(&tmp, &file));
    match &res {
        Ok(()) => {
            tracing::info!("DB saved on disk");
            eng.persist_mut().dirty = 0;
            eng.persist_mut().lastsave = crate::clock::now_secs();
            eng.persist_mut().saves += 1;
            eng.persist_mut().last_failed = false;
        }
        Err(e) => {
            let _ = std::fs::remove_file(&tmp);
            tracing::warn!(
                "Failed opening the temp RDB file {} (in server root dir {}) for saving: {e}",
                tmp.display(),
                dir.display()
            );
            eng.persist_mut().last_failed = true;
        }
    }
    res
}

fn io_err(e: rdb::Error) -> std::io::Error {
    std::io::Error::other(e.to_string())
}

/// An RDB without keys, for a replica that asked for a filtered one
/// (REPLCONF rdb-filter-only): the AUX fields, and the function libraries
/// when `functions`.
pub fn filtered_rdb(eng: &Engine, functions: bool) -> std::io::Result<Vec<u8>> {
    let mut w = rdb::Writer::new(Vec::new(), snapshot::write_options(eng)).map_err(io_err)?;
    for (k, v) in aux_fields(eng) {
        w.aux(k.as_bytes(), v.as_bytes()).map_err(io_err)?;
    }
    if functions {
        for code in function_libraries(eng) {
            w.function(&code).map_err(io_err)?;
        }
    }
    w.finish().map_err(io_err)
}

fn write_rdb(eng: &Engine, path: &std::path::Path) -> std::io::Result<()> {
    write_rdb_file(eng, path, false)
}

/// Write the dataset as an RDB file at `path`, fsynced; `aof_base` marks
/// it as an AOF base (aux `aof-base` 1).
pub fn write_rdb_file(eng: &Engine, path: &std::path::Path, aof_base: bool) -> std::io::Result<()> {
    let f = std::fs::File::create(path)?;
    let bw = std::io::BufWriter::with_capacity(1 << 16, f);
    let opts = snapshot::write_options(eng);
    let mut w = rdb::Writer::new(bw, opts).map_err(io_err)?;
    for (k, mut v) in aux_fields(eng) {
        if aof_base && k == "aof-base" {
            v = "1".into();
        }
        w.aux(k.as_bytes(), v.as_bytes()).map_err(io_err)?;
    }
    for code in function_libraries(eng) {
        w.function(&code).map_err(io_err)?;
    }
    for (i, db) in eng.keyspace().dbs().iter().enumerate() {
        if db.is_empty() {
            continue;
        }
        w.select_db(i as u64).map_err(io_err)?;
        w.resize_db(db.len() as u64, db.volatile_len() as u64)
            .map_err(io_err)?;
        // Expired keys are saved too (snapshot.rs says why).
        for e in db.iter() {
            let exp = (e.expire() >= 0).then_some(e.expire());
            write_entry(&mut w, &e.key, &e.value, exp).map_err(io_err)?;
        }
    }
    let mut bw = w.finish().map_err(io_err)?;
    bw.flush()?;
    let f = bw.into_inner().map_err(|e| e.into_error())?;
    f.sync_all()
}

/// The function libraries an RDB file holds, after its AUX fields (Redis's
/// rdbSaveFunctions), as each library's payload.
pub fn function_libraries(eng: &Engine) -> Vec<bytes::Bytes> {
    eng.scripting()
        .functions()
        .libraries()
        .map(|l| l.code.clone())
        .collect()
}

/// The AUX fields Redis 7.0 writes at the head of an RDB file: version,
/// bits, creation time, memory, and, when this node keeps a replication
/// stream, the replication id and offset a restarted node resumes from.
pub fn aux_fields(eng: &Engine) -> Vec<(String, String)> {
    let mut v = vec![
        ("redis-ver".into(), crate::REDIS_VERSION.into()),
        ("redis-bits".into(), "64".into()),
        ("ctime".into(), crate::clock::now_secs().to_string()),
        ("used-mem".into(), crate::alloc::allocated().to_string()),
    ];
    if eng.repl().backlog_active() || eng.is_replica() {
        // A replica records its master's stream's db (Redis's
        // rdbPopulateSaveInfo: the master client's db), a master its own.
        let db = match eng.repl().link() {
            Some(l) => l.db as i64,
            None => eng.repl().stream_db().max(0),
        };
        v.push(("repl-stream-db".into(), db.to_string()));
        v.push(("repl-id".into(), eng.repl().replid().to_string()));
        v.push(("repl-offset".into(), eng.repl().offset().to_string()));
    }
    v.push(("aof-base".into(), "0".into()));
    v
}

/// Write one key through an RDB writer.
pub fn write_entry<W: std::io::Write>(
    w: &mut rdb::Writer<W>,
    key: &[u8],
    v: &Value,
    exp: Option<i64>,
) -> Result<(), rdb::Error> {
    match v {
        Value::Int(_) | Value::Str(_) | Value::Raw(_) => {
            let b = v.as_bytes().unwrap_or_default();
            w.string(key, &b, exp)
        }
        Value::List(l) => {
            let items: Vec<&[u8]> = l.iter().collect();
            w.list(key, items.len(), items.iter().copied(), exp)
        }
        Value::Hash(h) => {
            let pairs: Vec<(&[u8], &[u8])> = h.iter().collect();
            w.hash(key, pairs.len(), pairs.iter().copied(), exp)
        }
        Value::Set(s) => {
            let members: Vec<std::borrow::Cow<[u8]>> = s.iter().collect();
            w.set(key, members.len(), members.iter().map(|m| m.as_ref()), exp)
        }
        Value::ZSet(z) => {
            let pairs: Vec<(&[u8], f64)> = z.iter().collect();
            w.zset(key, pairs.len(), pairs.iter().copied(), exp)
        }
        Value::Stream(s) => w.stream(key, &stream_to_rdb(s), exp),
    }
}

/// FLUSHALL resets the dirty counter and saves when save points exist, as
/// Redis does.
pub fn after_flushall(eng: &mut Engine) {
    if eng.persist().job.is_some() {
        snapshot::cancel_bgsave(eng);
    }
    if !crate::config::save_points(eng.cfg().str(P::save)).is_empty() {
        // The save leaves no changes to save (Redis's rdbSave zeroes
        // dirty); FLUSHALL still reaches the replicas.
        let _ = save_blocking(eng);
    }
    eng.repl_mut().force_propagation();
}

/// INFO persistence fields about RDB. There is no fork: the copy-on-write
/// sizes are the bytes the write path encoded before changing segments the
/// running snapshot had not saved yet (`BgJob::cow_bytes`).
pub fn info_fields(eng: &Engine, s: &mut String) {
    let job = eng.persist().job.as_ref();
    let (done, total) = job.map_or((0, 0), |j| (j.keys_done, j.keys_total));
    let current = job
        .filter(|j| !j.aof)
        .map_or(-1, |j| (crate::clock::now_ms() - j.started_ms) / 1000);
    let cow = job.map_or(0, |j| j.cow());
    let perc = if total > 0 {
        done as f64 * 100.0 / total as f64
    } else {
        0.0
    };
    let _ = write!(
        s,
        "current_cow_peak:{cow}\r\ncurrent_cow_size:{cow}\r\ncurrent_cow_size_age:0\r\ncurrent_fork_perc:{perc:.2}\r\ncurrent_save_keys_processed:{done}\r\ncurrent_save_keys_total:{total}\r\nrdb_changes_since_last_save:{}\r\nrdb_bgsave_in_progress:{}\r\nrdb_last_save_time:{}\r\nrdb_last_bgsave_status:{}\r\nrdb_last_bgsave_time_sec:{}\r\nrdb_current_bgsave_time_sec:{current}\r\nrdb_saves:{}\r\nrdb_last_cow_size:{}\r\nrdb_last_load_keys_expired:{}\r\nrdb_last_load_keys_loaded:{}\r\n",
        eng.persist().dirty,
        job.is_some_and(|j| !j.aof) as u8,
        eng.persist().lastsave,
        if eng.persist().last_failed { "err" } else { "ok" },
        eng.persist().last_bgsave_secs.unwrap_or(-1),
        eng.persist().saves,
        eng.persist().last_rdb_cow,
        eng.persist().last_load_expired,
        eng.persist().last_load_keys,
    );
}

/// The save points, run from the cron as Redis's serverCron: start a
/// background save when a `save <seconds> <changes>` point is reached (after
/// a failed save, retry only every 5 seconds), or when one was scheduled.
pub fn cron(eng: &mut Engine) {
    if eng.persist().job.is_some() || eng.persist().loading {
        return;
    }
    if std::mem::take(&mut eng.persist_mut().scheduled) {
        if let Err(e) = snapshot::start_bgsave(eng) {
            tracing::warn!("Scheduled background save failed to start: {e}");
        }
        return;
    }
    let now = crate::clock::now_secs();
    let retry_ok = !eng.persist().last_failed || now - eng.persist().last_try > 5;
    for (secs, changes) in crate::config::save_points(eng.cfg().str(P::save)) {
        if eng.persist().dirty >= changes as u64 && now - eng.persist().lastsave > secs && retry_ok
        {
            tracing::info!("{changes} changes in {secs} seconds. Saving...");
            if let Err(e) = snapshot::start_bgsave(eng) {
                tracing::warn!("Background save failed to start: {e}");
            }
            break;
        }
    }
}

/// Whether writes are refused because the last background save failed
/// (`stop-writes-on-bgsave-error` with save points), as Redis's
/// writeCommandsDeniedByDiskError.
pub fn writes_denied(eng: &Engine) -> bool {
    rdb_writes_denied(eng) || aof::aof_write_error(eng).is_some()
}

fn rdb_writes_denied(eng: &Engine) -> bool {
    eng.cfg().bool(P::stop_writes_on_bgsave_error)
        && eng.persist().last_failed
        && !crate::config::save_points(eng.cfg().str(P::save)).is_empty()
}

/// The MISCONF error for the disk error that denies writes
/// (writeCommandsGetDiskErrorMessage).
pub fn misconf(eng: &Engine) -> String {
    match aof::aof_write_error(eng) {
        Some(e) if !rdb_writes_denied(eng) => {
            format!("MISCONF Errors writing to the AOF file: {e}")
        }
        _ => MISCONF.to_string(),
    }
}

/// The MISCONF error text.
pub const MISCONF: &str = "MISCONF Redis is configured to save RDB snapshots, but it's currently unable to persist to disk. Commands that may modify the data set are disabled, because this instance is configured to report errors during writes if RDB snapshotting fails (stop-writes-on-bgsave-error option). Please check the Redis logs for details about the RDB error.";
