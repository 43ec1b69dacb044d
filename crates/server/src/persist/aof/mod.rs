//! The append-only file: Redis 7.0's multi-part AOF (aof.c).
//!
//! An AOF directory (`appenddirname`) holds a manifest
//! (`<appendfilename>.manifest`, [`manifest`]), one base file (an RDB
//! preamble, or commands) and incremental files of commands. Writes append
//! their propagated form ([`feed`]) to the open incremental file
//! ([`writer`]), flushed before their replies leave. A rewrite
//! (BGREWRITEAOF, auto-rewrite, turning the AOF on at runtime) opens a new
//! incremental file for the writes from then on and builds a new base from
//! a point-in-time snapshot without fork (`persist::snapshot`); when the
//! base is complete, the manifest switches to it atomically and the files
//! it replaces are deleted ([`done`]). Loading replays the files
//! ([`load`]).

pub mod crash;
pub mod done;
pub mod feed;
pub mod load;
pub mod manifest;
pub mod rewrite;
pub mod state;
pub mod writer;

use std::fmt::Write as _;
use std::path::Path;

pub use state::{Aof, AofState, Logged, ReplMark, REPL_MARK};

use self::done::{aof_dir, persist_manifest, temp_incr_name};
use self::manifest::Manifest;
use self::writer::{AofWriter, Fsync};
use crate::config::P;
use crate::engine::Engine;

/// The AOF error that denies writes, if any (aof_last_write_status err).
pub fn aof_write_error(eng: &Engine) -> Option<String> {
    if eng.aof().state == AofState::Off {
        return None;
    }
    let w = eng.aof().writer()?;
    if w.write_ok() {
        return None;
    }
    let e = w.last_error();
    Some(if e.is_empty() {
        "Input/output error".into()
    } else {
        e
    })
}

/// Read the manifest at start-up or for DEBUG LOADAOF
/// (aofLoadManifestFromDisk). Err after logging a fatal manifest error.
pub fn load_manifest_from_disk(eng: &mut Engine) -> Result<(), Logged> {
    eng.aof_mut().manifest = Manifest::default();
    let dir = aof_dir(eng);
    if !dir.is_dir() {
        tracing::debug!("The AOF directory {} doesn't exist", dir.display());
        return Ok(());
    }
    let name = format!(
        "{}{}",
        eng.cfg().str(P::appendfilename),
        manifest::MANIFEST_SUFFIX
    );
    let path = dir.join(&name);
    if !path.exists() {
        tracing::debug!("The AOF manifest file {name} doesn't exist");
        return Ok(());
    }
    let text = match std::fs::read(&path) {
        Ok(t) => t,
        Err(e) => {
            tracing::warn!(
                "Fatal error: can't open the AOF manifest file {} for reading: {}",
                path.display(),
                writer::strerror(&e)
            );
            return Err(Logged);
        }
    };
    match Manifest::parse(&text) {
        Ok(am) => {
            eng.aof_mut().manifest = am;
            Ok(())
        }
        Err(e) => {
            tracing::warn!("\n*** FATAL AOF MANIFEST FILE ERROR ***\n");
            if let Some((n, line)) = &e.line {
                tracing::warn!("Reading the manifest file, at line {n}\n");
                tracing::warn!(">>> '{line}'\n");
            }
            tracing::warn!("{}\n", e.msg);
            Err(Logged)
        }
    }
}

/// Move a Redis ≤ 6.2 single AOF into the AOF directory as the base of a
/// new manifest when needed (the first step of loadAppendOnlyFiles).
pub fn upgrade_if_needed(eng: &mut Engine) -> Result<(), Logged> {
    let filename = eng.cfg().str(P::appendfilename).to_string();
    let dir = aof_dir(eng);
    if !Path::new(&filename).is_file() {
        return Ok(());
    }
    let am = &eng.aof().manifest;
    let upgrade = !dir.is_dir()
        || (am.base.is_none() && am.incr.is_empty())
        || (am.incr.is_empty()
            && am.base.as_ref().is_some_and(|b| b.name == filename)
            && !dir.join(&filename).exists());
    if !upgrade {
        return Ok(());
    }
    if let Err(e) = std::fs::create_dir_all(&dir) {
        tracing::warn!(
            "Can't open or create append-only dir {}: {}",
            dir.display(),
            writer::strerror(&e)
        );
        return Err(Logged);
    }
    let mut am = Manifest {
        base: Some(manifest::AofInfo {
            name: filename.clone(),
            seq: 1,
            kind: manifest::FileType::Base,
        }),
        base_seq: 1,
        dirty: true,
        ..eng.aof().manifest.clone()
    };
    persist_manifest(eng, &mut am, "")?;
    eng.aof_mut().manifest = am;
    if let Err(e) = std::fs::rename(&filename, dir.join(&filename)) {
        tracing::warn!(
            "Error trying to move the old AOF file {filename} into dir {}: {}",
            dir.display(),
            writer::strerror(&e)
        );
        return Err(Logged);
    }
    tracing::info!(
        "Successfully migrated an old-style AOF file ({filename}) into the AOF directory ({}).",
        dir.display()
    );
    Ok(())
}

fn create_dir(eng: &Engine) -> Result<(), Logged> {
    let dir = aof_dir(eng);
    std::fs::create_dir_all(&dir).map_err(|e| {
        tracing::warn!(
            "Can't open or create append-only dir {}: {}",
            dir.display(),
            writer::strerror(&e)
        );
        Logged
    })
}

fn new_writer(
    eng: &Engine,
    file: std::fs::File,
    incr_size: u64,
    current: u64,
) -> std::sync::Arc<AofWriter> {
    let w = AofWriter::new(
        file,
        incr_size,
        current,
        Fsync::parse(eng.cfg().str(P::appendfsync)),
    );
    w.set_flush_sleep(eng.aof().flush_sleep_us);
    w
}

/// Write a base file of the current dataset synchronously (Redis's
/// rewriteAppendOnlyFile, used at start-up with an empty dataset).
fn write_base_now(eng: &Engine, path: &Path) -> Result<(), Logged> {
    let tmp = format!("temp-rewriteaof-{}.aof", std::process::id());
    let res = if eng.cfg().bool(P::aof_use_rdb_preamble) {
        crate::persist::write_rdb_file(eng, Path::new(&tmp), true)
    } else {
        let rdb_tmp = format!("temp-rewriteaof-{}.rdb", std::process::id());
        let r = crate::persist::write_rdb_file(eng, Path::new(&rdb_tmp), true).and_then(|_| {
            rewrite::rdb_to_commands(
                Path::new(&rdb_tmp),
                Path::new(&tmp),
                eng.cfg().bool(P::aof_timestamp_enabled),
            )
        });
        let _ = std::fs::remove_file(&rdb_tmp);
        r
    };
    let res = res.and_then(|_| std::fs::rename(&tmp, path));
    if let Err(e) = res {
        tracing::warn!(
            "Write error writing append only file on disk: {}",
            writer::strerror(&e)
        );
        let _ = std::fs::remove_file(&tmp);
        return Err(Logged);
    }
    Ok(())
}

/// After the start-up load, with `appendonly yes`: create a base when
/// starting empty, open the last incremental file (or a new one), persist
/// the manifest (aofOpenIfNeededOnServerStart). Err: start-up stops.
pub fn open_on_start(eng: &mut Engine) -> Result<(), Logged> {
    if eng.aof().state != AofState::On {
        return Ok(());
    }
    create_dir(eng)?;
    let dir = aof_dir(eng);
    let filename = eng.cfg().str(P::appendfilename).to_string();
    let mut am = eng.aof().manifest.clone();
    let incr_len = am.incr.len();
    if am.base.is_none() && incr_len == 0 {
        let base = am.new_base(&filename, eng.cfg().bool(P::aof_use_rdb_preamble));
        write_base_now(eng, &dir.join(&base))?;
        tracing::info!("Creating AOF base file {base} on server start");
    }
    let name = am.last_incr(&filename);
    let path = dir.join(&name);
    let file = match std::fs::OpenOptions::new()
        .append(true)
        .create(true)
        .open(&path)
    {
        Ok(f) => f,
        Err(e) => {
            tracing::warn!(
                "Can't open the append-only file {name}: {}",
                writer::strerror(&e)
            );
            return Err(Logged);
        }
    };
    persist_manifest(eng, &mut am, "")?;
    let incr_size = file.metadata().map(|m| m.len()).unwrap_or(0);
    let total = load::total_size(&dir, &am).unwrap_or(incr_size);
    eng.aof_mut().manifest = am;
    let w = new_writer(eng, file, incr_size, total);
    eng.aof_mut().writer = Some(w);
    if incr_len > 0 {
        tracing::info!("Opening AOF incr file {name} on server start");
    } else {
        tracing::info!("Creating AOF incr file {name} on server start");
    }
    Ok(())
}

/// Start a rewrite now (rewriteAppendOnlyFileBackground). Err when another
/// background save runs or a file cannot be opened.
pub fn start_rewrite(eng: &mut Engine) -> Result<(), Logged> {
    if eng.persist().saving() {
        return Err(Logged);
    }
    if create_dir(eng).is_err() {
        eng.aof_mut().last_bgrewrite_ok = false;
        return Err(Logged);
    }
    eng.aof_mut().selected_db = -1;
    if let Some(w) = eng.aof().writer() {
        let _ = w.flush(true);
    }
    if open_new_incr(eng).is_err() {
        eng.aof_mut().last_bgrewrite_ok = false;
        return Err(Logged);
    }
    eng.aof_mut().rewrites += 1;
    // Redis names it after its fork child; a rewrite abandoned at once may
    // still be finishing, so each rewrite has its own.
    let tmp = format!(
        "temp-rewriteaof-bg-{}-{}.aof",
        std::process::id(),
        eng.aof().rewrites
    );
    let target = crate::persist::snapshot::Target::AofBase {
        tmp: tmp.clone().into(),
        preamble: eng.cfg().bool(P::aof_use_rdb_preamble),
        timestamp: eng.cfg().bool(P::aof_timestamp_enabled),
    };
    eng.aof_mut().rewrite = Some(state::Rewrite {
        started: crate::clock::now_secs(),
        tmp,
    });
    if let Err(e) = crate::persist::snapshot::start_snapshot(eng, target) {
        eng.aof_mut().rewrite = None;
        eng.aof_mut().last_bgrewrite_ok = false;
        tracing::warn!("Can't rewrite append only file in background: fork: {e}");
        return Err(Logged);
    }
    if eng.cfg().bool(P::no_appendfsync_on_rewrite) {
        if let Some(w) = eng.aof().writer() {
            w.set_no_fsync(true);
        }
    }
    eng.aof_mut().scheduled = false;
    Ok(())
}

/// Open the incremental file the writes go to from now on
/// (openNewIncrAofForAppend): a new one in the manifest, or, while the AOF
/// waits for its first rewrite, a temporary one.
fn open_new_incr(eng: &mut Engine) -> Result<(), Logged> {
    let st = eng.aof().state;
    if st == AofState::Off {
        return Ok(());
    }
    let filename = eng.cfg().str(P::appendfilename).to_string();
    let dir = aof_dir(eng);
    let mut temp_am = None;
    let name = if st == AofState::WaitRewrite {
        temp_incr_name(eng)
    } else {
        let mut am = eng.aof().manifest.clone();
        let n = am.new_incr(&filename);
        temp_am = Some(am);
        n
    };
    let file = match std::fs::File::create(dir.join(&name)) {
        Ok(f) => f,
        Err(e) => {
            tracing::warn!(
                "Can't open the append-only file {name}: {}",
                writer::strerror(&e)
            );
            return Err(Logged);
        }
    };
    crash::point("start", "incr-created");
    if let Some(am) = temp_am.as_mut() {
        persist_manifest(eng, am, "start")?;
    }
    tracing::info!("Creating AOF incr file {name} on background rewrite");
    match eng.aof().writer().cloned() {
        Some(w) => {
            let _ = w.switch_file(file);
        }
        None => {
            let w = new_writer(eng, file, 0, 0);
            eng.aof_mut().writer = Some(w);
        }
    }
    if let Some(am) = temp_am {
        eng.aof_mut().manifest = am;
    }
    Ok(())
}

/// Stop a running rewrite (killAppendOnlyChild).
pub fn kill_rewrite(eng: &mut Engine) {
    if !eng.aof().rewriting() {
        return;
    }
    tracing::info!("Killing running AOF rewrite child: {}", std::process::id());
    crate::persist::snapshot::abandon_aof_job(eng);
    if let Some(rw) = eng.aof_mut().rewrite.take() {
        let _ = std::fs::remove_file(&rw.tmp);
    }
    if let Some(w) = eng.aof().writer() {
        w.set_no_fsync(false);
    }
}

/// CONFIG SET appendonly no (stopAppendOnly).
pub fn stop(eng: &mut Engine) {
    if eng.aof().state == AofState::Off {
        return;
    }
    if let Some(w) = eng.aof_mut().writer.take() {
        let _ = w.flush_and_fsync();
    }
    let a = eng.aof_mut();
    a.selected_db = -1;
    a.state = AofState::Off;
    a.scheduled = false;
    kill_rewrite(eng);
}

/// CONFIG SET appendonly yes (startAppendOnly): rewrite first; the log
/// counts once that rewrite ends.
pub fn start(eng: &mut Engine) -> Result<(), Logged> {
    if eng.aof().state != AofState::Off {
        return Ok(());
    }
    eng.aof_mut().state = AofState::WaitRewrite;
    if eng.persist().saving() && !eng.aof().rewriting() {
        eng.aof_mut().scheduled = true;
        tracing::warn!("AOF was enabled but there is already another background operation. An AOF background was scheduled to start when possible.");
    } else if eng.repl().in_unit() {
        eng.aof_mut().scheduled = true;
        tracing::warn!("AOF was enabled during a transaction. An AOF background was scheduled to start when possible.");
    } else {
        if eng.aof().rewriting() {
            tracing::warn!("AOF was enabled but there is already an AOF rewriting in background. Stopping background AOF and starting a rewrite now.");
            kill_rewrite(eng);
        }
        if start_rewrite(eng).is_err() {
            eng.aof_mut().state = AofState::Off;
            if let Some(w) = eng.aof_mut().writer.take() {
                w.discard_pending();
            }
            tracing::warn!("Redis needs to enable the AOF but can't trigger a background AOF rewrite operation. Check the above logs for more info about the error.");
            return Err(Logged);
        }
    }
    if let Some(w) = eng.aof().writer() {
        if !w.write_ok() {
            tracing::warn!("AOF reopen, just ignore the last error.");
            w.clear_errors();
        }
    }
    Ok(())
}

/// The rewrite retry limit after repeated failures (aofRewriteLimited).
fn rewrite_limited(eng: &mut Engine) -> bool {
    let now = crate::clock::now_secs();
    let a = eng.aof_mut();
    if a.consecutive_failures < 3 {
        a.next_delay_minutes = 0;
        a.next_rewrite_time = 0;
        return false;
    }
    if a.next_rewrite_time != 0 {
        if now < a.next_rewrite_time {
            return true;
        }
        a.next_rewrite_time = 0;
        return false;
    }
    a.next_delay_minutes = if a.next_delay_minutes == 0 {
        1
    } else {
        (a.next_delay_minutes * 2).min(60)
    };
    a.next_rewrite_time = now + a.next_delay_minutes * 60;
    tracing::warn!(
        "Background AOF rewrite has repeatedly failed and triggered the limit, will retry in {} minutes",
        a.next_delay_minutes
    );
    true
}

/// From the cron (serverCron's AOF part): a scheduled rewrite, the
/// automatic rewrite on growth, the flush and the once-a-second fsync,
/// retrying after a write error.
pub fn cron(eng: &mut Engine) {
    if eng.aof().loading {
        return;
    }
    if !eng.persist().saving() && eng.aof().scheduled && !rewrite_limited(eng) {
        let _ = start_rewrite(eng);
    }
    if eng.aof().state == AofState::On && !eng.persist().saving() {
        let perc = eng.cfg().int(P::auto_aof_rewrite_percentage);
        let min = eng.cfg().int(P::auto_aof_rewrite_min_size) as u64;
        if let Some(w) = eng.aof().writer() {
            let cur = w.current_size();
            if perc > 0 && cur > min {
                let base = eng.aof().base_size.max(1);
                let growth = (cur as i64 * 100 / base as i64) - 100;
                if growth >= perc && !rewrite_limited(eng) {
                    tracing::info!("Starting automatic rewriting of AOF on {growth}% growth");
                    let _ = start_rewrite(eng);
                }
            }
        }
    }
    if let Some(w) = eng.aof().writer() {
        if w.flush(false) == Err(writer::FlushError::Fatal) {
            std::process::exit(1);
        }
    }
}

/// Whether a shutdown must be refused because the first rewrite after
/// turning the AOF on still runs (finishShutdown: without it the dataset
/// would be lost). Logs Redis's lines; `force` exits anyway.
pub fn refuse_shutdown(eng: &Engine, force: bool) -> bool {
    let a = eng.aof();
    if !(a.rewriting() && a.state == AofState::WaitRewrite) {
        return false;
    }
    if force {
        tracing::warn!("Writing initial AOF. Exit anyway.");
        return false;
    }
    tracing::warn!("Writing initial AOF, can't exit.");
    tracing::warn!("Errors trying to shut down the server. Check the logs for more information.");
    true
}

/// Write and fsync everything before exiting (SHUTDOWN, SIGTERM), then the
/// replication mark ([`REPL_MARK`]) when this node keeps a replication
/// history.
pub fn shutdown(eng: &mut Engine) {
    kill_rewrite(eng);
    let Some(w) = eng.aof().writer().cloned() else {
        return;
    };
    tracing::info!("Calling fsync() on the AOF file.");
    if w.flush_and_fsync().is_err() || eng.aof().state != AofState::On {
        return;
    }
    if let Some(mark) = repl_mark(eng) {
        w.append(mark.line().as_bytes());
        let _ = w.flush_and_fsync();
    }
}

/// This node's replication position, as an RDB's aux fields record it
/// (`persist::aux_fields`), when it has one.
fn repl_mark(eng: &Engine) -> Option<ReplMark> {
    if !(eng.repl().backlog_active() || eng.is_replica()) {
        return None;
    }
    let db = match eng.repl().link() {
        Some(l) => l.db as i64,
        None => eng.repl().stream_db().max(0),
    };
    let replid = eng.repl().replid().to_string();
    (replid.len() == 40).then(|| ReplMark {
        replid,
        offset: eng.repl().offset(),
        db,
    })
}

/// After the start-up load: continue the replication history the log's
/// closing mark recorded, as a restart from an RDB does
/// (`repl::feed::resume_from_file`).
pub fn resume_replication(eng: &mut Engine) {
    let Some(m) = eng.aof_mut().loaded_mark.take() else {
        return;
    };
    tracing::info!(
        "AOF ends with replication id {} offset {}: continuing that history",
        m.replid,
        m.offset
    );
    if m.db >= 0 {
        eng.persist_mut().loaded_stream_db = Some(m.db as usize);
    }
    if eng.is_replica() {
        // The link `replicaof` starts next takes it as its cached master,
        // as it takes an RDB's aux fields, and asks to continue from it.
        let p = eng.persist_mut();
        p.loaded_replid = Some(m.replid.clone());
        p.loaded_repl_offset = Some(m.offset);
    }
    crate::repl::feed::resume_from_file(eng, m.replid, m.offset, Vec::new());
}

/// INFO persistence fields about the AOF.
pub fn info_fields(eng: &Engine, s: &mut String) {
    let a = eng.aof();
    let cur = a
        .rewrite
        .as_ref()
        .map_or(-1, |r| crate::clock::now_secs() - r.started);
    let write_ok = a.writer().is_none_or(|w| w.write_ok());
    let _ = write!(
        s,
        "aof_enabled:{}\r\naof_rewrite_in_progress:{}\r\naof_rewrite_scheduled:{}\r\naof_last_rewrite_time_sec:{}\r\naof_current_rewrite_time_sec:{cur}\r\naof_last_bgrewrite_status:{}\r\naof_rewrites:{}\r\naof_rewrites_consecutive_failures:{}\r\naof_last_write_status:{}\r\naof_last_cow_size:{}\r\nmodule_fork_in_progress:0\r\nmodule_fork_last_cow_size:0\r\n",
        (a.state != AofState::Off) as u8,
        a.rewriting() as u8,
        a.scheduled as u8,
        a.last_rewrite_secs,
        if a.last_bgrewrite_ok { "ok" } else { "err" },
        a.rewrites,
        a.consecutive_failures,
        if write_ok { "ok" } else { "err" },
        eng.persist().last_aof_cow(),
    );
    if eng.cfg().str(P::appendonly) == "yes" || a.state != AofState::Off {
        let (size, buf, pending, delayed) = a.writer().map_or((0, 0, 0, 0), |w| {
            (
                w.current_size(),
                w.buffer_len(),
                w.fsync_pending() as u64,
                w.delayed_fsync(),
            )
        });
        let _ = write!(
            s,
            "aof_current_size:{size}\r\naof_base_size:{}\r\naof_pending_rewrite:{}\r\naof_buffer_length:{buf}\r\naof_pending_bio_fsync:{pending}\r\naof_delayed_fsync:{delayed}\r\n",
            a.base_size,
            a.scheduled as u8,
        );
    }
}

/// `appendfsync` changed.
pub fn fsync_policy_changed(eng: &Engine) {
    if let Some(w) = eng.aof().writer() {
        w.set_policy(Fsync::parse(eng.cfg().str(P::appendfsync)));
    }
}

/// After a successful load: the base size the auto-rewrite grows from.
pub fn loaded(eng: &mut Engine, base_size: u64) {
    eng.aof_mut().base_size = base_size;
}

/// Replay the log the manifest lists (after moving an old single AOF
/// in): loadAppendOnlyFiles with its upgrade step.
pub fn replay(with: &mut load::WithEngine, runner: &mut dyn load::Runner) -> load::Status {
    let mut up = Ok(());
    with(&mut |e: &mut Engine| up = upgrade_if_needed(e));
    if up.is_err() {
        return load::Status::Failed;
    }
    let mut setup = None;
    with(&mut |e: &mut Engine| {
        let dir = aof_dir(e);
        let am = e.aof().manifest().clone();
        let total = load::total_size_quiet(&dir, &am);
        let progress = e.persist_mut().begin_load_progress(total);
        e.aof_mut().set_loading(true);
        setup = Some((
            dir,
            am,
            e.cfg().str(crate::config::P::appendfilename).to_string(),
            e.cfg().bool(crate::config::P::aof_load_truncated),
            e.cfg().int(crate::config::P::key_load_delay),
            progress,
        ));
    });
    let Some((dir, am, filename, load_truncated, delay, progress)) = setup else {
        return load::Status::Failed;
    };
    let cx = load::Ctx {
        dir: &dir,
        filename: &filename,
        load_truncated,
        delay,
        progress,
        repl_mark: std::cell::RefCell::new(None),
    };
    let (st, base) = load::load_files(&cx, &am, with, runner);
    // A truncated tail was written after the mark: the log does not end
    // where the mark says.
    let mark = match st {
        load::Status::Ok => cx.repl_mark.take(),
        _ => None,
    };
    with(&mut |e: &mut Engine| {
        e.aof_mut().set_loading(false);
        e.aof_mut().loaded_mark = mark.clone();
        if matches!(st, load::Status::Ok | load::Status::Truncated) {
            loaded(e, base);
        }
        e.persist_mut().clear_dirty();
    });
    st
}
