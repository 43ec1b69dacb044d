//! Spin briefly before a busy runtime thread goes to sleep.
//!
//! A runtime thread with no ready task sleeps in `epoll_wait`, and the next
//! client to send a request pays for waking it up: on a virtual machine
//! that is an inter-processor interrupt and a halted vCPU to resume, which
//! shows up in the *client's* send. relica serves a request sooner than
//! redis-server does, so under a steady load it runs out of work and
//! sleeps more often (50k sleeps for 300k LRANGE_100 requests from 50
//! clients, against redis-server's 8k), and a benchmark client that is
//! itself the bottleneck slows down by the cost of those wake-ups.
//!
//! So the thread spins for [`SPIN`] before it parks; when a request arrives
//! meanwhile, the park's `epoll_wait` finds it without sleeping (a hit).
//! A spin that ends in a real sleep anyway (a miss: one client waiting for
//! each reply, or an idle server) was wasted, so after a miss the next
//! spins are skipped: 1 park, then 2, 4, … up to [`MAX_SKIP`], until a
//! probing spin hits again. An idle server thus spins about once per
//! `MAX_SKIP` wake-ups, which costs nothing measurable.

use std::cell::Cell;
use std::time::{Duration, Instant};

/// How long to spin before parking.
const SPIN: Duration = Duration::from_micros(10);
/// A park that returns within this after a spin did not sleep: a hit.
const HIT: Duration = Duration::from_micros(5);
/// The most parks skipped without a spin after misses.
const MAX_SKIP: u32 = 64;

#[derive(Clone, Copy, Default)]
struct State {
    /// When the spin before the current park ended; None when not spun.
    spun_until: Option<Instant>,
    /// Parks left to skip before the next spin.
    skip: u32,
    /// The skip that follows the next miss.
    backoff: u32,
}

thread_local! {
    static STATE: Cell<State> = const {
        Cell::new(State { spun_until: None, skip: 0, backoff: 1 })
    };
}

/// The runtime's `on_thread_park` hook.
pub fn before_park() {
    let mut st = STATE.get();
    if st.skip > 0 {
        st.skip -= 1;
        st.spun_until = None;
    } else {
        let start = Instant::now();
        while start.elapsed() < SPIN {
            std::hint::spin_loop();
        }
        st.spun_until = Some(Instant::now());
    }
    STATE.set(st);
}

/// The runtime's `on_thread_unpark` hook.
pub fn after_unpark() {
    let mut st = STATE.get();
    if let Some(t) = st.spun_until.take() {
        if t.elapsed() < HIT {
            st.backoff = 1;
        } else {
            st.skip = st.backoff;
            st.backoff = (st.backoff * 2).min(MAX_SKIP);
        }
    }
    STATE.set(st);
}
