//! Crash injection between the steps of a rewrite, for the tests only:
//! `RELICA_AOF_CRASH_AT=<step>` in the environment, read once at start-up,
//! makes the server kill itself with SIGKILL when the rewrite reaches that
//! step, so a test can check that the directory left behind loads with
//! every acknowledged write (Redis has no equivalent knob; its tests kill
//! the fork child). Unset, every point is one load of an empty option.
//!
//! The steps, in a rewrite's order ([`STEPS`]): `start-incr-created` (the
//! new incremental file exists, the manifest does not list it yet),
//! `start-manifest-temp`, `start-manifest-renamed`, `start-dir-fsynced`
//! (the manifest switch at the start), `done-base-written` (the new base
//! is complete under its temporary name), `done-base-renamed`,
//! `done-manifest-temp`, `done-manifest-renamed`, `done-dir-fsynced` (the
//! switch to the new base), `gc-files-removed` (history files deleted, the
//! manifest still lists them), `gc-manifest-temp`, `gc-manifest-renamed`.

use std::sync::OnceLock;

static AT: OnceLock<Option<String>> = OnceLock::new();

/// The environment variable naming the step.
pub const ENV: &str = "RELICA_AOF_CRASH_AT";

/// Every step, in the order a rewrite passes them.
pub const STEPS: &[&str] = &[
    "start-incr-created",
    "start-manifest-temp",
    "start-manifest-renamed",
    "start-dir-fsynced",
    "done-base-written",
    "done-base-renamed",
    "done-manifest-temp",
    "done-manifest-renamed",
    "done-dir-fsynced",
    "gc-files-removed",
    "gc-manifest-temp",
    "gc-manifest-renamed",
];

/// Read the environment (once, at start-up).
pub fn init() {
    let v = AT.get_or_init(|| std::env::var(ENV).ok().filter(|s| !s.is_empty()));
    if let Some(step) = v {
        tracing::warn!("AOF crash injection armed at rewrite step {step} ({ENV})");
    }
}

/// Whether a crash is armed at `step`.
pub fn armed(step: &str) -> bool {
    matches!(AT.get(), Some(Some(s)) if s == step)
}

/// Die here, as kill -9 would, when the test armed this step.
#[allow(unsafe_code)]
pub fn point(phase: &str, step: &str) {
    let Some(Some(at)) = AT.get() else {
        return;
    };
    if at.len() == phase.len() + 1 + step.len()
        && at.starts_with(phase)
        && at.ends_with(step)
        && at.as_bytes()[phase.len()] == b'-'
    {
        tracing::warn!("AOF crash injected at rewrite step {at}");
        // SAFETY: getpid and kill have no memory effects; SIGKILL ends the
        // process at once, as the test's kill -9 would.
        unsafe {
            libc::kill(libc::getpid(), libc::SIGKILL);
        }
    }
}
