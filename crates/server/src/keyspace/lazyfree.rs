//! Lazy freeing, as Redis's lazyfree.c with its bio thread: values whose
//! freeing is long work (many allocations) and whole emptied databases
//! are handed to one background thread, so that the engine lock is not
//! held while they are freed. UNLINK, FLUSHALL/FLUSHDB ASYNC and the
//! `lazyfree-lazy-*` configs come here; INFO reports
//! `lazyfree_pending_objects` and `lazyfreed_objects`.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{channel, Sender};
use std::sync::{Mutex, OnceLock};

use super::{Db, Value};

/// Redis's LAZYFREE_THRESHOLD: values whose free effort is above it are
/// freed in the background.
pub const THRESHOLD: usize = 64;

/// Objects handed to the thread and not freed yet.
static PENDING: AtomicU64 = AtomicU64::new(0);
/// Objects the thread freed (since the last CONFIG RESETSTAT).
static FREED: AtomicU64 = AtomicU64::new(0);

/// One job: something to drop, counted as `objects`.
struct Job {
    what: Box<dyn Send>,
    objects: u64,
}

static QUEUE: OnceLock<Mutex<Sender<Job>>> = OnceLock::new();

fn queue() -> &'static Mutex<Sender<Job>> {
    QUEUE.get_or_init(|| {
        let (tx, rx) = channel::<Job>();
        let spawned = std::thread::Builder::new()
            .name("lazyfree".into())
            .spawn(move || {
                while let Ok(job) = rx.recv() {
                    drop(job.what);
                    PENDING.fetch_sub(job.objects, Ordering::Relaxed);
                    FREED.fetch_add(job.objects, Ordering::Relaxed);
                }
            });
        if let Err(e) = spawned {
            tracing::warn!("Can't start the lazyfree thread: {e}");
        }
        Mutex::new(tx)
    })
}

/// Drop `what` on the background thread, counted as `objects` pending
/// until then (freed here at once when the thread is gone).
fn submit(what: Box<dyn Send>, objects: u64) {
    PENDING.fetch_add(objects, Ordering::Relaxed);
    let q = queue().lock().unwrap_or_else(|p| p.into_inner());
    if let Err(back) = q.send(Job { what, objects }) {
        drop(back.0.what);
        PENDING.fetch_sub(objects, Ordering::Relaxed);
    }
}

/// How much work freeing a value is (Redis's lazyfreeGetFreeEffort): the
/// allocations it is made of, 1 for a compact encoding.
pub fn free_effort(v: &Value) -> usize {
    match v {
        Value::List(l) => l.len().div_ceil(128),
        Value::Set(s) if s.encoding_name() == "hashtable" => s.len(),
        Value::ZSet(z) if z.encoding_name() == "skiplist" => z.len(),
        Value::Hash(h) if h.encoding_name() == "hashtable" => h.len(),
        Value::Stream(s) => {
            // Every node is an allocation; so is each group, and (as
            // Redis estimates it) the first group's PEL for every group.
            let groups = s.groups();
            let pel = groups.values().next().map_or(0, |g| g.pel.len());
            s.node_count() + groups.len() * (1 + pel)
        }
        _ => 1,
    }
}

/// Free a deleted value, in the background when that is long work
/// (dbAsyncDelete's choice); true when it went to the thread.
pub fn free_value(v: Value) -> bool {
    if free_effort(&v) > THRESHOLD {
        submit(Box::new(v), 1);
        true
    } else {
        drop(v);
        false
    }
}

/// Free an emptied database (FLUSHALL/FLUSHDB ASYNC, emptyDbAsync): its
/// keys count as pending objects until the thread has freed them.
pub fn free_db(db: Db) {
    let n = db.len() as u64;
    if n == 0 {
        return;
    }
    submit(Box::new(db), n);
}

/// Free anything else in the background (a replica's old dataset,
/// replica-lazy-flush), counted as `objects`.
pub fn free_later<T: Send + 'static>(what: T, objects: u64) {
    submit(Box::new(what), objects);
}

/// INFO lazyfree_pending_objects.
pub fn pending() -> u64 {
    PENDING.load(Ordering::Relaxed)
}

/// INFO lazyfreed_objects.
pub fn freed() -> u64 {
    FREED.load(Ordering::Relaxed)
}

/// CONFIG RESETSTAT.
pub fn reset_freed() {
    FREED.store(0, Ordering::Relaxed);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn small_values_free_at_once_big_ones_later() {
        assert!(!free_value(Value::from_bytes(b"x")));
        let mut db = Db::new();
        db.insert(b"k", Value::from_bytes(b"v"), -1, 0);
        free_db(db);
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        while pending() > 0 && std::time::Instant::now() < deadline {
            std::thread::yield_now();
        }
        assert_eq!(pending(), 0);
        assert!(freed() >= 1);
    }
}
