//! The "busy script" state, readable without the engine lock.
//!
//! A script runs under the engine lock, so nothing that needs the engine can
//! run beside it. What Redis still does while a script is slow (answer other
//! clients `-BUSY`, accept SCRIPT KILL and SHUTDOWN NOSAVE) is done here from
//! atomics that connection tasks read without the lock:
//!
//! - the script's run sets `running` and its start time, and clears them
//!   when it ends (waking `done`);
//! - the Lua hook (every 100,000 instructions) marks the run timed out once
//!   `busy-reply-threshold` passed, and aborts it when `kill` is set;
//! - a connection task with commands to run first looks at `running`: while
//!   the run is young it waits for `done`; once timed out it answers each
//!   command itself (`commands::scripting::serve_while_busy`): -BUSY, or
//!   SCRIPT KILL (sets `kill` unless the script wrote), or SHUTDOWN NOSAVE
//!   (sets `kill` and `shutdown`).
//!
//! While any script runs, `engine::lock` hands the waiting worker thread's
//! place in the runtime to another thread (`block_in_place`), and a run
//! that passes the threshold does the same from its hook
//! ([`hand_off_worker`]), so a one-thread runtime keeps serving
//! connections; a short run never pays for it.

use std::sync::atomic::{AtomicBool, AtomicI64, AtomicUsize, Ordering::*};
use std::time::Duration;

use tokio::sync::Notify;

/// Scripts running in this process (any engine): a hint for `engine::lock`.
static RUNNING: AtomicUsize = AtomicUsize::new(0);

/// Whether some script runs now.
pub fn any_running() -> bool {
    RUNNING.load(Relaxed) > 0
}

/// Run `f`, which may wait a long time, letting the runtime move its other
/// tasks to another thread when called on a multi-thread runtime's worker.
pub fn blocking<R>(f: impl FnOnce() -> R) -> R {
    if on_worker() {
        wait_for_hand_off();
        tokio::task::block_in_place(f)
    } else {
        f()
    }
}

/// A hand-off ([`hand_off_worker`]) is under way.
static HANDING_OFF: AtomicBool = AtomicBool::new(false);
/// Another worker thread waited for the hand-off: it has the worker.
static HAND_OFF_SEEN: AtomicBool = AtomicBool::new(false);

/// Give the runtime worker this thread runs to another thread, for the
/// rest of what this thread does now (a script that passed
/// busy-reply-threshold, from its hook): connection tasks then go on
/// answering -BUSY, SCRIPT KILL and SHUTDOWN NOSAVE while it runs.
/// Short runs never pay for this (it wakes a thread).
///
/// `block_in_place` puts the worker in a slot for a new thread and, when
/// its closure returns, takes back whatever worker is in that slot. So the
/// closure waits until the worker runs elsewhere (a task spawned here ran,
/// or another worker thread waits in [`blocking`]); and meanwhile
/// [`blocking`], which would put the worker back in the slot for this
/// thread to take, waits for the hand-off to end. Bounded at 10 s in case
/// the new thread never starts.
pub fn hand_off_worker() {
    if !on_worker() {
        return;
    }
    let moved = std::sync::Arc::new(AtomicBool::new(false));
    let m = moved.clone();
    HAND_OFF_SEEN.store(false, SeqCst);
    HANDING_OFF.store(true, SeqCst);
    tokio::spawn(async move { m.store(true, Release) });
    tokio::task::block_in_place(|| {
        let until = std::time::Instant::now() + Duration::from_secs(10);
        while !moved.load(Acquire)
            && !HAND_OFF_SEEN.load(SeqCst)
            && std::time::Instant::now() < until
        {
            std::thread::sleep(Duration::from_micros(50));
        }
    });
    HANDING_OFF.store(false, SeqCst);
}

/// Before a `block_in_place` on a worker thread: let a hand-off under way
/// end first (see [`hand_off_worker`]).
fn wait_for_hand_off() {
    if !HANDING_OFF.load(SeqCst) {
        return;
    }
    HAND_OFF_SEEN.store(true, SeqCst);
    while HANDING_OFF.load(SeqCst) {
        std::thread::sleep(Duration::from_micros(50));
    }
}

fn on_worker() -> bool {
    use tokio::runtime::{Handle, RuntimeFlavor};
    Handle::try_current().is_ok_and(|h| h.runtime_flavor() == RuntimeFlavor::MultiThread)
}

/// `-BUSY` for EVAL scripts (Redis's shared.slowevalerr).
pub const BUSY_EVAL: &str =
    "BUSY Redis is busy running a script. You can only call SCRIPT KILL or SHUTDOWN NOSAVE.";
/// `-BUSY` for functions (Redis's shared.slowscripterr).
pub const BUSY_FUNCTION: &str =
    "BUSY Redis is busy running a script. You can only call FUNCTION KILL or SHUTDOWN NOSAVE.";
/// SCRIPT KILL with nothing running.
pub const NOTBUSY: &str = "NOTBUSY No scripts in execution right now.";
/// SCRIPT KILL after the script wrote.
pub const UNKILLABLE_WROTE: &str = "UNKILLABLE Sorry the script already executed write commands against the dataset. You can either wait the script termination or kill the server in a hard way using the SHUTDOWN NOSAVE command.";
/// SCRIPT KILL of a script sent by our master.
pub const UNKILLABLE_MASTER: &str = "UNKILLABLE The busy script was sent by a master instance in the context of replication and cannot be killed.";

/// A function's run, as FUNCTION STATS shows it while it runs.
#[derive(Clone, Debug)]
pub struct FunctionRun {
    /// The function's name.
    pub name: String,
    /// The caller's command (FCALL …).
    pub argv: Vec<bytes::Bytes>,
    /// Libraries loaded when it started.
    pub libraries: usize,
    /// Functions loaded when it started.
    pub functions: usize,
}

/// A command Redis runs while a script is busy (an `allow-busy` one such
/// as HELLO, AUTH, MULTI or WATCH), handed by its connection to the
/// script's thread, which holds the engine: Redis runs such commands from
/// inside the script (processEventsWhileBlocked).
pub struct BusyRequest {
    /// The client that sent it.
    pub client: u64,
    /// What to do for it.
    pub work: BusyWork,
    /// Where its reply goes.
    pub reply: tokio::sync::oneshot::Sender<Vec<u8>>,
}

/// What the script's thread does for a connection while busy.
pub enum BusyWork {
    /// Run this command as the client.
    Command(Vec<bytes::Bytes>),
    /// The connection closed: forget the client (a replica that went away
    /// no longer counts, as when Redis frees it while the script runs).
    Close,
    /// This command is refused with -BUSY: inside MULTI that also fails
    /// the transaction, and an EXEC aborts it (Redis's rejectCommand).
    Refuse(Vec<bytes::Bytes>),
}

/// The state of the script running now, if any.
#[derive(Default)]
pub struct Busy {
    /// Commands waiting for the script's thread to run them.
    requests: std::sync::Mutex<Vec<BusyRequest>>,
    has_requests: AtomicBool,
    running: AtomicBool,
    /// Start of the run (ms since [`epoch`]).
    start: AtomicI64,
    /// busy-reply-threshold for this run (ms; 0 = never times out).
    threshold: AtomicI64,
    timedout: AtomicBool,
    wrote: AtomicBool,
    from_master: AtomicBool,
    kill: AtomicBool,
    shutdown: AtomicBool,
    /// `requirepass` was set when the run started: connections admitted
    /// meanwhile are bounded and answered as unauthenticated.
    auth_required: AtomicBool,
    /// The run is part of a dataset load (a script in the AOF): commands
    /// that may not run while loading answer -LOADING, not -BUSY.
    loading: AtomicBool,
    /// The run is a function's (FCALL): its name and the caller's command,
    /// for FUNCTION STATS; None for EVAL.
    function: std::sync::Mutex<Option<FunctionRun>>,
    /// `function` holds a run (so that an EVAL's start need not lock it).
    has_function: AtomicBool,
    done: Notify,
}

/// The monotonic clock's origin for run times.
fn epoch() -> std::time::Instant {
    static EPOCH: std::sync::LazyLock<std::time::Instant> =
        std::sync::LazyLock::new(std::time::Instant::now);
    *EPOCH
}

/// Milliseconds from [`epoch`] to `t`.
fn ms_since_epoch(t: std::time::Instant) -> i64 {
    t.saturating_duration_since(epoch()).as_millis() as i64
}

impl Busy {
    /// A run starts; `started` is when its command did.
    pub fn start(
        &self,
        started: std::time::Instant,
        threshold_ms: i64,
        from_master: bool,
        auth_required: bool,
    ) {
        self.auth_required.store(auth_required, Relaxed);
        self.loading.store(false, Relaxed);
        if self.has_function.swap(false, Relaxed) {
            *self.function_slot() = None;
        }
        self.start.store(ms_since_epoch(started), Relaxed);
        self.threshold.store(threshold_ms, Relaxed);
        self.timedout.store(false, Relaxed);
        self.wrote.store(false, Relaxed);
        self.kill.store(false, Relaxed);
        self.from_master.store(from_master, Relaxed);
        RUNNING.fetch_add(1, Relaxed);
        self.running.store(true, Release);
    }

    /// The run that just started is part of a dataset load.
    pub fn set_loading(&self, on: bool) {
        self.loading.store(on, Relaxed);
    }

    /// Whether the run is part of a dataset load.
    pub fn loading(&self) -> bool {
        self.loading.load(Relaxed)
    }

    /// The run ended. Requests not served are dropped: their connections
    /// run them as usual.
    pub fn end(&self) {
        self.running.store(false, Release);
        self.timedout.store(false, Relaxed);
        drop(self.take_requests());
        RUNNING.fetch_sub(1, Relaxed);
        self.done.notify_waiters();
    }

    fn function_slot(&self) -> std::sync::MutexGuard<'_, Option<FunctionRun>> {
        self.function.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The run that just started is a function's.
    pub fn set_function(&self, run: FunctionRun) {
        *self.function_slot() = Some(run);
        self.has_function.store(true, Relaxed);
    }

    /// What FUNCTION STATS shows of the running function, if a function
    /// (not an EVAL script) runs.
    pub fn running_function(&self) -> Option<FunctionRun> {
        if !self.running() {
            return None;
        }
        self.function_slot().clone()
    }

    /// The -BUSY text for the script running now.
    pub fn busy_error(&self) -> &'static str {
        if self.function_slot().is_some() {
            BUSY_FUNCTION
        } else {
            BUSY_EVAL
        }
    }

    /// Whether clients must authenticate (as when the run started).
    pub fn auth_required(&self) -> bool {
        self.auth_required.load(Relaxed)
    }

    /// Whether a script runs now.
    pub fn running(&self) -> bool {
        self.running.load(Acquire)
    }

    /// Whether the running script passed busy-reply-threshold (seen by
    /// the hook, or by the clock: a script busy in long commands may not
    /// reach its next hook soon).
    pub fn timed_out(&self) -> bool {
        if !self.running() {
            return false;
        }
        let t = self.threshold.load(Relaxed);
        self.timedout.load(Relaxed) || (t > 0 && self.elapsed_ms() >= t)
    }

    /// Milliseconds the current run has lasted.
    pub fn elapsed_ms(&self) -> i64 {
        ms_since_epoch(std::time::Instant::now()) - self.start.load(Relaxed)
    }

    /// From the Lua hook: mark the run timed out when its time has come.
    /// Returns true when it just did (to log it once).
    pub fn check_timeout(&self) -> bool {
        if self.timedout.load(Relaxed) {
            return false;
        }
        let t = self.threshold.load(Relaxed);
        if t > 0 && self.elapsed_ms() >= t {
            self.timedout.store(true, Relaxed);
            return true;
        }
        false
    }

    /// The script ran a write command: it cannot be killed any more.
    pub fn set_wrote(&self) {
        self.wrote.store(true, Relaxed);
    }

    /// Whether SCRIPT KILL (or SHUTDOWN NOSAVE) asked the run to stop.
    pub fn kill_requested(&self) -> bool {
        self.kill.load(Relaxed)
    }

    /// Whether SHUTDOWN NOSAVE arrived while the script ran.
    pub fn take_shutdown(&self) -> bool {
        self.shutdown.swap(false, Relaxed)
    }

    /// SHUTDOWN NOSAVE while the script runs: stop it, then the server.
    pub fn request_shutdown_nosave(&self) {
        self.shutdown.store(true, Relaxed);
        self.kill.store(true, Relaxed);
    }

    /// SCRIPT KILL (`eval`) or FUNCTION KILL: the error to answer, or
    /// None when the kill is on (Redis's scriptKill). Each kills only its
    /// own kind of script.
    pub fn kill(&self, eval: bool) -> Option<&'static str> {
        if !self.running() {
            return Some(NOTBUSY);
        }
        if self.from_master.load(Relaxed) {
            return Some(UNKILLABLE_MASTER);
        }
        if self.wrote.load(Relaxed) {
            return Some(UNKILLABLE_WROTE);
        }
        let function = self.function_slot().is_some();
        if eval && function {
            return Some(BUSY_FUNCTION);
        }
        if !eval && !function {
            return Some(BUSY_EVAL);
        }
        self.kill.store(true, Relaxed);
        None
    }

    /// A connection hands an allow-busy command to the script's thread;
    /// None when no script runs any more (run it as usual then).
    pub fn submit(
        &self,
        client: u64,
        work: BusyWork,
    ) -> Option<tokio::sync::oneshot::Receiver<Vec<u8>>> {
        let mut q = self.requests.lock().unwrap_or_else(|p| p.into_inner());
        if !self.running() {
            return None;
        }
        let (tx, rx) = tokio::sync::oneshot::channel();
        q.push(BusyRequest {
            client,
            work,
            reply: tx,
        });
        self.has_requests.store(true, Release);
        Some(rx)
    }

    /// Whether commands wait for the script's thread.
    pub fn has_requests(&self) -> bool {
        self.has_requests.load(Acquire)
    }

    /// The commands waiting for the script's thread.
    pub fn take_requests(&self) -> Vec<BusyRequest> {
        let mut q = self.requests.lock().unwrap_or_else(|p| p.into_inner());
        self.has_requests.store(false, Release);
        std::mem::take(&mut *q)
    }

    /// Wait until the run ends or `ms` pass.
    pub async fn wait(&self, ms: u64) {
        let n = self.done.notified();
        if !self.running() {
            return;
        }
        tokio::select! {
            _ = n => {}
            _ = tokio::time::sleep(Duration::from_millis(ms)) => {}
        }
    }
}
