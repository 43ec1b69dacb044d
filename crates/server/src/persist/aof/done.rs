//! The end of an AOF rewrite (Redis's backgroundRewriteDoneHandler): the
//! new base takes its name, the incremental files it covers become
//! history, the manifest switches atomically, the history is deleted.
//! Called by the snapshot thread when the base file is complete.

use std::path::PathBuf;

use super::manifest::Manifest;
use super::state::AofState;
use crate::config::P;
use crate::engine::Engine;

/// The AOF directory (relative to `dir`, the working directory).
pub fn aof_dir(eng: &Engine) -> PathBuf {
    PathBuf::from(eng.cfg().str(P::appenddirname))
}

/// The temporary incremental file of a WaitRewrite log.
pub fn temp_incr_name(eng: &Engine) -> String {
    format!(
        "{}{}.incr",
        super::manifest::TEMP_PREFIX,
        eng.cfg().str(P::appendfilename)
    )
}

/// Write the manifest through a temp file, fsync, rename, fsync the dir
/// (writeAofManifestFile). Logs and fails as Redis does.
///
/// `phase` names the crash-injection points of a rewrite's switch
/// ([`super::crash`]; "" for none).
pub fn persist_manifest(eng: &Engine, am: &mut Manifest, phase: &str) -> Result<(), super::Logged> {
    if !am.dirty {
        return Ok(());
    }
    let dir = aof_dir(eng);
    let name = format!(
        "{}{}",
        eng.cfg().str(P::appendfilename),
        super::manifest::MANIFEST_SUFFIX
    );
    let tmp_name = format!("{}{name}", super::manifest::TEMP_PREFIX);
    let (path, tmp) = (dir.join(&name), dir.join(&tmp_name));
    let text = am.to_text();
    let res = (|| {
        use std::io::Write as _;
        let mut f = std::fs::File::create(&tmp).map_err(|e| {
            tracing::warn!(
                "Can't open the AOF manifest file {tmp_name}: {}",
                super::writer::strerror(&e)
            );
        })?;
        f.write_all(text.as_bytes()).map_err(|e| {
            tracing::warn!(
                "Error trying to write the temporary AOF manifest file {tmp_name}: {}",
                super::writer::strerror(&e)
            );
        })?;
        f.sync_all().map_err(|e| {
            tracing::warn!(
                "Fail to fsync the temp AOF file {tmp_name}: {}.",
                super::writer::strerror(&e)
            );
        })?;
        super::crash::point(phase, "manifest-temp");
        std::fs::rename(&tmp, &path).map_err(|e| {
            tracing::warn!(
                "Error trying to rename the temporary AOF manifest file {tmp_name} into {name}: {}",
                super::writer::strerror(&e)
            );
        })?;
        super::crash::point(phase, "manifest-renamed");
        fsync_dir(&dir).map_err(|e| {
            tracing::warn!(
                "Fail to fsync AOF directory {}: {}.",
                path.display(),
                super::writer::strerror(&e)
            );
        })?;
        super::crash::point(phase, "dir-fsynced");
        Ok(())
    })();
    if res.is_ok() {
        am.dirty = false;
    }
    res.map_err(|()| super::Logged)
}

/// fsync a directory, so renames in it are durable.
pub fn fsync_dir(dir: &std::path::Path) -> std::io::Result<()> {
    std::fs::File::open(dir)?.sync_all()
}

/// Delete the history files (aofDelHistoryFiles), unless
/// `aof-disable-auto-gc`.
pub fn del_history_files(eng: &mut Engine) {
    if eng.cfg().bool(P::aof_disable_auto_gc) || eng.aof().manifest.history.is_empty() {
        return;
    }
    let dir = aof_dir(eng);
    let hist = std::mem::take(&mut eng.aof_mut().manifest.history);
    let mut removing = Vec::new();
    for ai in &hist {
        tracing::info!("Removing the history file {} in the background", ai.name);
        let p = dir.join(&ai.name);
        removing.push(std::thread::spawn(move || {
            let _ = std::fs::remove_file(p);
        }));
    }
    if super::crash::armed("gc-files-removed") {
        for t in removing {
            let _ = t.join();
        }
        super::crash::point("gc", "files-removed");
    }
    let mut am = eng.aof().manifest.clone();
    am.dirty = true;
    if persist_manifest(eng, &mut am, "gc").is_ok() {
        eng.aof_mut().manifest = am;
    } else {
        eng.aof_mut().manifest.dirty = true;
    }
}

/// A rewrite ended: `ok` when its temporary base file `tmp` is complete,
/// `canceled` when it was stopped on purpose.
pub fn rewrite_done(eng: &mut Engine, ok: bool, canceled: bool) {
    let Some(rw) = eng.aof_mut().rewrite.take() else {
        return;
    };
    let now = crate::clock::now_secs();
    if let Some(w) = eng.aof().writer() {
        w.set_no_fsync(false);
    }
    if ok {
        finish_ok(eng, &rw.tmp);
    } else if canceled {
        tracing::warn!("Background AOF rewrite terminated by signal 10");
        let _ = std::fs::remove_file(&rw.tmp);
    } else {
        eng.aof_mut().last_bgrewrite_ok = false;
        eng.aof_mut().consecutive_failures += 1;
        tracing::warn!("Background AOF rewrite terminated with error");
        let _ = std::fs::remove_file(&rw.tmp);
    }
    // aofRemoveTempFile and, while waiting for the first rewrite, the
    // temporary incremental file and its buffer.
    let _ = std::fs::remove_file(&rw.tmp);
    if eng.aof().state == AofState::WaitRewrite {
        if let Some(w) = eng.aof_mut().writer.take() {
            w.discard_pending();
        }
        let name = temp_incr_name(eng);
        tracing::info!("Removing the temp incr aof file {name} in the background");
        let _ = std::fs::remove_file(aof_dir(eng).join(name));
        eng.aof_mut().scheduled = true;
    }
    eng.aof_mut().last_rewrite_secs = now - rw.started;
}

fn finish_ok(eng: &mut Engine, tmp: &str) {
    tracing::info!("Background AOF rewrite terminated with success");
    let dir = aof_dir(eng);
    let filename = eng.cfg().str(P::appendfilename).to_string();
    let preamble = eng.cfg().bool(P::aof_use_rdb_preamble);
    let mut am = eng.aof().manifest.clone();
    let base = am.new_base(&filename, preamble);
    let base_path = dir.join(&base);
    super::crash::point("done", "base-written");
    if let Err(e) = std::fs::rename(tmp, &base_path) {
        tracing::warn!(
            "Error trying to rename the temporary AOF base file {tmp} into {}: {}",
            base_path.display(),
            super::writer::strerror(&e)
        );
        fail(eng);
        return;
    }
    tracing::info!("Successfully renamed the temporary AOF base file {tmp} into {base}");
    super::crash::point("done", "base-renamed");
    let mut new_incr = None;
    if eng.aof().state == AofState::WaitRewrite {
        let temp_name = temp_incr_name(eng);
        let incr = am.new_incr(&filename);
        if let Err(e) = std::fs::rename(dir.join(&temp_name), dir.join(&incr)) {
            tracing::warn!(
                "Error trying to rename the temporary AOF incr file {} into {}: {}",
                dir.join(&temp_name).display(),
                dir.join(&incr).display(),
                super::writer::strerror(&e)
            );
            let _ = std::fs::remove_file(&base_path);
            fail(eng);
            return;
        }
        tracing::info!("Successfully renamed the temporary AOF incr file {temp_name} into {incr}");
        new_incr = Some(incr);
    }
    let writing = eng.aof().writer.is_some();
    am.mark_rewritten_incr_as_history(writing);
    if persist_manifest(eng, &mut am, "done").is_err() {
        let _ = std::fs::remove_file(&base_path);
        if let Some(i) = new_incr {
            let _ = std::fs::remove_file(dir.join(i));
        }
        fail(eng);
        return;
    }
    eng.aof_mut().manifest = am;
    if eng.aof().state != AofState::Off {
        let base_size = std::fs::metadata(&base_path).map(|m| m.len()).unwrap_or(0);
        if let Some(w) = eng.aof().writer() {
            let size = base_size + w.incr_size();
            w.set_current_size(size);
            eng.aof_mut().base_size = size;
        }
    }
    del_history_files(eng);
    eng.aof_mut().last_bgrewrite_ok = true;
    eng.aof_mut().consecutive_failures = 0;
    tracing::info!("Background AOF rewrite finished successfully");
    if eng.aof().state == AofState::WaitRewrite {
        eng.aof_mut().state = AofState::On;
    }
}

fn fail(eng: &mut Engine) {
    eng.aof_mut().last_bgrewrite_ok = false;
    eng.aof_mut().consecutive_failures += 1;
}
