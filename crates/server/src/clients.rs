//! The client table (Redis's `server.clients`, `server.monitors` and the
//! pause state of `networking.c`).
//!
//! Invariants: every connected client has an outbox here for as long as it
//! is connected, so that pub/sub, MONITOR and replication can deliver to it
//! even while it runs a batch; the client itself is in the table only while
//! it is *not* running one (a connection checks it out with
//! [`Clients::check_out`] for the length of a batch and back in with
//! [`Clients::check_in`]). Ids are never reused.

use std::collections::HashMap;
use std::sync::Arc;

use crate::client::{Client, Outbox};

/// CLIENT PAUSE state.
#[derive(Default, Clone, Copy, Debug, PartialEq, Eq)]
pub struct Pause {
    /// Until when (ms); 0 = not paused.
    pub until: i64,
    /// Only writes are paused.
    pub write_only: bool,
}

/// Connected clients, their outboxes, MONITORs and CLIENT PAUSE.
pub struct Clients {
    /// Clients not currently running a batch.
    table: HashMap<u64, Box<Client>>,
    /// Every connected client's outbox.
    outboxes: HashMap<u64, Arc<Outbox>>,
    /// MONITOR clients, in the order they asked.
    monitors: Vec<u64>,
    /// The next client id.
    next_id: u64,
    /// Connections counted against maxclients.
    connected: usize,
    /// CLIENT PAUSE.
    pause: Pause,
    /// Woken when a pause ends early.
    pause_changed: Arc<tokio::sync::Notify>,
    /// DEBUG REPLYBUFFER RESIZING: the cron resizes reply buffers.
    reply_resizing: bool,
    /// DEBUG REPLYBUFFER PEAK-RESET-TIME (ms; negative: never).
    reply_peak_reset_ms: i64,
}

/// Redis's default reply_buffer_peak_reset_time (ms).
pub const REPLY_PEAK_RESET_MS: i64 = 5000;

impl Default for Clients {
    fn default() -> Self {
        Clients {
            table: HashMap::new(),
            outboxes: HashMap::new(),
            monitors: Vec::new(),
            next_id: 1,
            connected: 0,
            pause: Pause::default(),
            pause_changed: Arc::new(tokio::sync::Notify::new()),
            reply_resizing: true,
            reply_peak_reset_ms: REPLY_PEAK_RESET_MS,
        }
    }
}

impl Clients {
    /// Allocate a client id.
    pub fn new_id(&mut self) -> u64 {
        let id = self.next_id;
        self.next_id += 1;
        id
    }

    /// Connections counted against maxclients (connected_clients).
    pub fn connected(&self) -> usize {
        self.connected
    }

    /// A connection was accepted (it counts against maxclients until
    /// [`Clients::disconnected`]).
    pub fn connection_opened(&mut self) {
        self.connected += 1;
    }

    /// A connection counted by [`Clients::connection_opened`] closed.
    pub fn connection_closed(&mut self) {
        self.connected -= 1;
    }

    /// DEBUG REPLYBUFFER RESIZING <0|1>.
    pub fn set_reply_resizing(&mut self, on: bool) {
        self.reply_resizing = on;
    }

    /// DEBUG REPLYBUFFER PEAK-RESET-TIME: `ms`, negative for never.
    pub fn set_reply_peak_reset(&mut self, ms: i64) {
        self.reply_peak_reset_ms = ms;
    }

    /// Redis's clientsCron buffer resizing, every client at each cron
    /// tick: query buffers of idle clients freed and oversized ones cut to
    /// their peak, reply buffers fitted to their peak. Returns how many
    /// reply buffers shrank and grew (reply_buffer_shrinks/expands).
    pub fn cron_resize_buffers(&self, now: i64) -> (u64, u64) {
        for c in self.table.values() {
            c.outbox
                .cron_query_buffer((now - c.last_interaction).max(0) / 1000);
        }
        let (mut shrinks, mut expands) = (0, 0);
        for ob in self.outboxes.values() {
            match ob.cron_reply_buffer(now, self.reply_resizing, self.reply_peak_reset_ms) {
                -1 => shrinks += 1,
                1 => expands += 1,
                _ => {}
            }
        }
        (shrinks, expands)
    }

    /// Add a client (not running a batch) and its outbox.
    pub fn insert(&mut self, cl: Box<Client>) {
        self.outboxes.insert(cl.id, cl.outbox.clone());
        self.table.insert(cl.id, cl);
    }

    /// Remove a client for good: its outbox and MONITOR too. Returns the
    /// client unless it was checked out.
    pub fn remove(&mut self, id: u64) -> Option<Box<Client>> {
        self.outboxes.remove(&id);
        self.monitors.retain(|&m| m != id);
        self.table.remove(&id)
    }

    /// Take a client out of the table to run a batch (its outbox stays).
    pub fn check_out(&mut self, id: u64) -> Option<Box<Client>> {
        self.table.remove(&id)
    }

    /// Put back a client taken by [`Clients::check_out`].
    pub fn check_in(&mut self, cl: Box<Client>) {
        self.table.insert(cl.id, cl);
    }

    /// A client that is not running a batch.
    pub fn get(&self, id: u64) -> Option<&Client> {
        self.table.get(&id).map(|c| &**c)
    }

    /// A client that is not running a batch, to change.
    pub fn get_mut(&mut self, id: u64) -> Option<&mut Client> {
        self.table.get_mut(&id).map(|c| &mut **c)
    }

    /// Whether a client is connected and not running a batch.
    pub fn contains(&self, id: u64) -> bool {
        self.table.contains_key(&id)
    }

    /// Clients not running a batch, in no order.
    pub fn iter(&self) -> impl Iterator<Item = &Client> {
        self.table.values().map(|c| &**c)
    }

    /// Every connected client's outbox, by id.
    pub fn outboxes(&self) -> &HashMap<u64, Arc<Outbox>> {
        &self.outboxes
    }

    /// A connected client's outbox.
    pub fn outbox(&self, id: u64) -> Option<&Arc<Outbox>> {
        self.outboxes.get(&id)
    }

    /// MONITOR clients.
    pub fn monitors(&self) -> &[u64] {
        &self.monitors
    }

    /// Client `id` starts to MONITOR.
    pub fn add_monitor(&mut self, id: u64) {
        self.monitors.push(id);
    }

    /// Client `id` stops MONITORing (RESET).
    pub fn remove_monitor(&mut self, id: u64) {
        self.monitors.retain(|&m| m != id);
    }

    /// The pause in effect (or past).
    pub fn pause(&self) -> Pause {
        self.pause
    }

    /// Pause clients until `until` (ms), writes only or all. A longer or
    /// stricter pause wins, as Redis's pauseClients; `now` tells whether
    /// the current one is over.
    pub fn pause_until(&mut self, until: i64, write_only: bool, now: i64) {
        let p = &mut self.pause;
        if p.until < now || until > p.until {
            p.until = until;
        }
        p.write_only = if p.until == until {
            write_only
        } else {
            p.write_only && write_only
        };
    }

    /// Hold writes until [`Clients::unpause`] (FAILOVER).
    pub fn pause_writes_indefinitely(&mut self) {
        self.pause = Pause {
            until: i64::MAX,
            write_only: true,
        };
    }

    /// End any pause now and wake the clients waiting on it.
    pub fn unpause(&mut self) {
        self.pause = Pause::default();
        self.pause_changed.notify_waiters();
    }

    /// Woken when a pause ends early.
    pub fn pause_changed(&self) -> Arc<tokio::sync::Notify> {
        self.pause_changed.clone()
    }
}
