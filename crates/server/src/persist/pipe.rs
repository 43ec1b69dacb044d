//! The pipe of a diskless transfer: the snapshot thread writes RDB chunks
//! into it, a replica's connection task drains them to the socket.

use std::sync::Mutex;
use std::time::Duration;

/// Bytes a pipe may hold before the snapshot waits for the replica to
/// catch up.
const PIPE_LIMIT: usize = 8 << 20;

#[derive(Default)]
struct PipeState {
    chunks: std::collections::VecDeque<Vec<u8>>,
    bytes: usize,
    /// Some(ok) once the snapshot ended.
    done: Option<bool>,
    /// The replica is gone: drop what is written.
    dead: bool,
    /// Since when (ms) the oldest queued bytes wait for the replica's
    /// task, for repl-timeout (Redis's repl_last_partial_write).
    waiting_since: i64,
}

/// A diskless transfer to one replica: the snapshot thread writes RDB
/// chunks, the replica's connection task sends them. Bounded: the writer
/// waits while the replica is slow, so memory stays at `PIPE_LIMIT`.
#[derive(Default)]
pub struct RdbPipe {
    st: Mutex<PipeState>,
    cv: std::sync::Condvar,
    /// Wakes the connection task.
    pub notify: tokio::sync::Notify,
}

/// What the reading side got.
pub enum PipeRead {
    /// RDB bytes to send, in order.
    Data(Vec<Vec<u8>>),
    /// Nothing yet.
    Empty,
    /// The snapshot ended: true when it succeeded.
    Done(bool),
}

impl RdbPipe {
    fn lock(&self) -> std::sync::MutexGuard<'_, PipeState> {
        self.st.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub(super) fn write(&self, chunk: &[u8]) {
        let mut st = self.lock();
        while st.bytes > PIPE_LIMIT && !st.dead {
            st = self
                .cv
                .wait_timeout(st, Duration::from_millis(100))
                .map(|(g, _)| g)
                .unwrap_or_else(|p| p.into_inner().0);
        }
        if st.dead {
            return;
        }
        if st.chunks.is_empty() {
            st.waiting_since = crate::clock::now_ms();
        }
        st.bytes += chunk.len();
        st.chunks.push_back(chunk.to_vec());
        drop(st);
        self.notify.notify_one();
    }

    pub(super) fn finish(&self, ok: bool) {
        self.lock().done = Some(ok);
        self.notify.notify_one();
    }

    /// Take what is queued.
    pub fn read(&self) -> PipeRead {
        let mut st = self.lock();
        if st.chunks.is_empty() {
            return match st.done {
                Some(ok) => PipeRead::Done(ok),
                None => PipeRead::Empty,
            };
        }
        let out: Vec<Vec<u8>> = st.chunks.drain(..).collect();
        st.bytes = 0;
        drop(st);
        self.cv.notify_all();
        PipeRead::Data(out)
    }

    /// Whether the replica went away.
    pub fn is_dead(&self) -> bool {
        self.lock().dead
    }

    /// Whether bytes have waited for the replica longer than `timeout_ms`:
    /// it stopped reading. (A replica with nothing queued is not stalled:
    /// it may be waiting for a slower one, as the snapshot writes to all.)
    pub fn stalled(&self, now: i64, timeout_ms: i64) -> bool {
        let st = self.lock();
        !st.chunks.is_empty() && !st.dead && now - st.waiting_since > timeout_ms
    }

    /// The replica went away.
    pub fn close(&self) {
        let mut st = self.lock();
        st.dead = true;
        st.chunks.clear();
        st.bytes = 0;
        drop(st);
        self.cv.notify_all();
    }
}
