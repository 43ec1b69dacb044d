//! Appending writes to the AOF (Redis's feedAppendOnlyFile): the same
//! command form the replication stream carries, with a SELECT when the db
//! changes and, with `aof-timestamp-enabled`, a `#TS:` annotation when the
//! second changes.

use crate::config::P;
use crate::engine::Engine;

/// Append one propagated command to the log, when it is being fed.
#[inline]
pub fn feed(eng: &mut Engine, db: usize, argv: &[&[u8]]) {
    if !eng.aof().feeding() {
        return;
    }
    let mut buf = Vec::new();
    if eng.cfg().bool(P::aof_timestamp_enabled) {
        let now = eng.now() / 1000;
        if eng.aof().cur_timestamp < now {
            eng.aof_mut().cur_timestamp = now;
            buf.extend_from_slice(format!("#TS:{now}\r\n").as_bytes());
        }
    }
    if eng.aof().selected_db != db as i64 {
        let d = db.to_string();
        resp::encode::command(&mut buf, &[b"SELECT", d.as_bytes()]);
        eng.aof_mut().selected_db = db as i64;
    }
    resp::encode::command(&mut buf, argv);
    if let Some(w) = eng.aof().writer() {
        w.append(&buf);
    }
}
