//! Replication state shared by both roles.
//!
//! Replication ids and offsets follow Redis's `replication.c`: `replid` is
//! the id of the history this node's data belongs to, `replid2` the id of
//! the history it came from (valid up to `second_replid_offset`), and
//! `master_repl_offset` counts every byte of the replication stream this node
//! produced or received. The stream only exists (and the offset only moves)
//! while there is a backlog, as in Redis.

pub mod buffer;
pub mod feed;
pub mod handshake;
pub mod master;
pub mod replica;

use rand::RngCore;

/// A new random 40-hex-digit replication id.
pub fn random_replid() -> String {
    let mut b = [0u8; 20];
    rand::thread_rng().fill_bytes(&mut b);
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// Replication ids and offsets.
pub struct ReplState {
    /// Whether a backlog exists (the stream is being kept).
    pub backlog_active: bool,
    /// Current replication id.
    pub replid: String,
    /// Previous replication id, or 40 zeros.
    pub replid2: String,
    /// Offset up to which `replid2` is valid, or -1.
    pub second_replid_offset: i64,
    /// Bytes of replication stream produced/received.
    pub master_repl_offset: i64,
    /// The db the stream last selected (-1 = none), so a SELECT is emitted
    /// when it changes.
    pub stream_db: i64,
    /// As a replica: whether the link with our master is up.
    pub master_link_up: bool,
}

impl Default for ReplState {
    fn default() -> Self {
        ReplState {
            backlog_active: false,
            replid: random_replid(),
            replid2: "0".repeat(40),
            second_replid_offset: -1,
            master_repl_offset: 0,
            stream_db: -1,
            master_link_up: false,
        }
    }
}

/// A new backlog (`repl-backlog-size`) whose history starts after
/// `offset`, the offset of the last byte we hold.
pub fn start_backlog(eng: &mut crate::engine::Engine, offset: i64) {
    let size = backlog_size(eng);
    eng.backlog = Some(std::sync::Arc::new(buffer::ReplBuffer::new(size, offset)));
    eng.repl.backlog_active = true;
}

/// The backlog size in effect: `repl-backlog-size`, at least 16 kB as in
/// Redis (CONFIG_REPL_BACKLOG_MIN_SIZE).
pub fn backlog_size(eng: &crate::engine::Engine) -> usize {
    (eng.cfg.int(crate::config::P::repl_backlog_size) as usize).max(buffer::MIN_BACKLOG)
}
