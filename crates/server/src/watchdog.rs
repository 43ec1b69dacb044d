//! Redis's software watchdog (`watchdog-period`): a warning in the log when
//! the server has not completed a cron cycle for longer than the period.
//!
//! Redis arms a SIGALRM timer at every serverCron; when the main thread is
//! stuck (a slow command, a script, a synchronous load) the timer fires and
//! logs `--- WATCHDOG TIMER EXPIRED ---` with the stuck thread's stack.
//! relica's cron runs under the engine lock, so the same beat stops when one
//! operation holds the engine, and the cron does not beat while a dataset is
//! being loaded (clients get -LOADING, as Redis's main thread is in its
//! load loop then). A thread here checks the beat; it logs once per stall,
//! naming what it can see (loading or not) instead of a stack trace.

use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
use std::sync::OnceLock;
use std::time::Duration;

/// The period in ms; 0 disables the watchdog.
static PERIOD_MS: AtomicI64 = AtomicI64::new(0);
/// When the cron last completed (ms since the epoch).
static LAST_BEAT: AtomicI64 = AtomicI64::new(0);
/// The current stall was reported.
static FIRED: AtomicBool = AtomicBool::new(false);
/// A dataset is being loaded (the cron does not beat meanwhile).
static LOADING: AtomicBool = AtomicBool::new(false);
static THREAD: OnceLock<()> = OnceLock::new();

/// Apply `watchdog-period` (ms) under `hz`: Redis raises a period shorter
/// than two cron periods to that, and 0 stops the watchdog.
pub fn set_period(period_ms: i64, hz: i64) {
    if period_ms <= 0 {
        PERIOD_MS.store(0, Ordering::Relaxed);
        return;
    }
    let min = (1000 / hz.clamp(1, 500)) * 2;
    LAST_BEAT.store(crate::clock::now_ms(), Ordering::Relaxed);
    FIRED.store(false, Ordering::Relaxed);
    PERIOD_MS.store(period_ms.max(min), Ordering::Relaxed);
    THREAD.get_or_init(|| {
        if let Err(e) = std::thread::Builder::new()
            .name("relica-watchdog".into())
            .spawn(watch)
        {
            tracing::warn!("Unable to start the watchdog thread: {e}");
        }
    });
}

/// The cron completed a cycle (not counted while loading).
pub fn beat(now_ms: i64) {
    if LOADING.load(Ordering::Relaxed) {
        return;
    }
    LAST_BEAT.store(now_ms, Ordering::Relaxed);
    FIRED.store(false, Ordering::Relaxed);
}

/// A dataset load starts or ends.
pub fn set_loading(on: bool) {
    LOADING.store(on, Ordering::Relaxed);
    if !on {
        beat(crate::clock::now_ms());
    }
}

fn watch() {
    loop {
        let period = PERIOD_MS.load(Ordering::Relaxed);
        let tick = if period == 0 {
            100
        } else {
            (period / 4).clamp(1, 100)
        };
        std::thread::sleep(Duration::from_millis(tick as u64));
        if period == 0 || FIRED.load(Ordering::Relaxed) {
            continue;
        }
        let stalled = crate::clock::now_ms() - LAST_BEAT.load(Ordering::Relaxed);
        if stalled > period {
            FIRED.store(true, Ordering::Relaxed);
            let what = if LOADING.load(Ordering::Relaxed) {
                "loading a dataset"
            } else {
                "one operation holds the engine"
            };
            tracing::warn!("--- WATCHDOG TIMER EXPIRED ---");
            tracing::warn!(
                "No cron cycle completed for {stalled} ms (watchdog-period {period}): {what}"
            );
            tracing::warn!("--------");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_short_period_is_raised_to_two_cron_periods() {
        set_period(10, 10);
        assert_eq!(PERIOD_MS.load(Ordering::Relaxed), 200);
        set_period(0, 10);
        assert_eq!(PERIOD_MS.load(Ordering::Relaxed), 0);
    }
}
