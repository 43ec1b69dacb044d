//! The shared replication buffer, as Redis 7.0's `repl_buffer_blocks`: one
//! copy of the replication stream that the backlog and every replica read.
//!
//! # Model
//!
//! The stream is kept as a list of *blocks*, oldest first. Each block is
//! one allocation of a fixed capacity that is never reallocated (so the
//! stream never exists twice while it grows); bytes are appended to the
//! last block until it is full, then a new block is added. A block's size
//! is Redis's: at least [`MIN_BLOCK`] (PROTO_REPLY_CHUNK_BYTES) and at most
//! `max(repl-backlog-size / 16, MIN_BLOCK)`, so that a huge write does not
//! make one huge block that a replica would hold whole for its last bytes.
//!
//! Offsets are Redis's: stream bytes are numbered from 1, `end` is the
//! number of the last byte written (`master_repl_offset`).
//!
//! - The **backlog** is everything the list holds: its first byte
//!   (`repl_backlog_first_byte_offset`) is the first byte of the first
//!   block, and `histlen` is the number of bytes held.
//! - A **reader** is a replica's place in the list: the offset of the next
//!   byte it is to be sent. A replica waiting for its snapshot has a reader
//!   that does not stream yet (it keeps the stream from the snapshot's
//!   offset, Redis's WAIT_BGSAVE_END/SEND_BULK, and a diskless replica until
//!   its first REPLCONF ACK); an online one streams. Its connection task
//!   copies bytes out with [`ReplBuffer::read`] and writes them to the
//!   socket outside every lock.
//!
//! # Invariants
//!
//! - Every block but the last is full; blocks are contiguous: each starts
//!   where the previous one ends, and the last ends at `end`.
//! - Every reader's offset is within `first_offset ..= end + 1`: a block is
//!   dropped only when no reader still needs a byte of it. So the backlog
//!   may outgrow `repl-backlog-size` while a slow replica holds old data,
//!   and a replica may partially resync from that data.
//! - Blocks are dropped from the front only, and only while the backlog
//!   then still holds more than `repl-backlog-size` bytes (and at least one
//!   block), as Redis's `incrementalTrimReplicationBacklog`: at most
//!   [`TRIM_BLOCKS_PER_CALL`] blocks per call, so that freeing a slow
//!   replica's hundreds of MB does not stall the server; the cron finishes
//!   the job.
//! - `mem` is the capacity of every block plus a per-block overhead:
//!   Redis's `repl_buffer_mem`, INFO's `mem_total_replication_buffers`.
//!
//! # Locking
//!
//! The buffer has its own mutex, so replica connections read it without
//! the engine lock. Writes come from the engine (under its lock); lock order
//! is engine, then buffer. Nothing is written to a socket under the buffer
//! lock: `read` copies at most a bounded chunk out.

use std::collections::VecDeque;
use std::sync::{Mutex, MutexGuard};

/// Smallest block (Redis's PROTO_REPLY_CHUNK_BYTES).
pub const MIN_BLOCK: usize = 16 * 1024;

/// Smallest effective backlog (Redis's CONFIG_REPL_BACKLOG_MIN_SIZE).
pub const MIN_BACKLOG: usize = 16 * 1024;

/// Blocks freed per trim call (Redis's REPL_BACKLOG_TRIM_BLOCKS_PER_CALL).
pub const TRIM_BLOCKS_PER_CALL: usize = 64;

/// Bookkeeping counted per block on top of its capacity, as Redis counts
/// its list node and block header.
pub const BLOCK_OVERHEAD: usize = std::mem::size_of::<Block>();

/// A replica's handle on the buffer.
pub type ReaderId = u64;

/// One block of the stream.
#[derive(Debug)]
struct Block {
    /// Offset of its first byte.
    start: i64,
    /// The bytes; its capacity is fixed at creation.
    data: Vec<u8>,
}

impl Block {
    /// Offset just past its last byte.
    fn end(&self) -> i64 {
        self.start + self.data.len() as i64
    }
}

#[derive(Debug)]
struct Reader {
    id: ReaderId,
    /// Offset of the next byte to send.
    pos: i64,
    /// Whether its connection may send now.
    streaming: bool,
}

#[derive(Debug)]
struct Inner {
    blocks: VecDeque<Block>,
    /// Offset of the last byte written.
    end: i64,
    /// Bytes held (sum of the blocks' lengths).
    histlen: usize,
    /// Capacity of the blocks plus their overhead.
    mem: usize,
    /// repl-backlog-size.
    backlog_size: usize,
    min_block: usize,
    readers: Vec<Reader>,
    next_id: ReaderId,
}

/// The shared buffer: the backlog and every replica's output.
#[derive(Debug)]
pub struct ReplBuffer {
    inner: Mutex<Inner>,
}

/// What INFO shows of the buffer, read under one lock.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Stats {
    /// repl_backlog_first_byte_offset.
    pub first_offset: i64,
    /// repl_backlog_histlen.
    pub histlen: usize,
    /// mem_total_replication_buffers.
    pub mem: usize,
    /// Blocks held.
    pub blocks: usize,
}

impl Inner {
    fn first_offset(&self) -> i64 {
        self.end + 1 - self.histlen as i64
    }

    fn covers(&self, offset: i64) -> bool {
        offset >= self.first_offset() && offset <= self.end + 1
    }

    /// Index of the block holding `offset`, or of the last block for an
    /// offset past the end (None when there are no blocks).
    fn block_at(&self, offset: i64) -> Option<usize> {
        if self.blocks.is_empty() {
            return None;
        }
        let i = self.blocks.partition_point(|b| b.end() <= offset);
        Some(i.min(self.blocks.len() - 1))
    }

    fn reader(&mut self, id: ReaderId) -> Option<&mut Reader> {
        self.readers.iter_mut().find(|r| r.id == id)
    }

    fn trim(&mut self, max_blocks: usize) -> usize {
        let needed = self.readers.iter().map(|r| r.pos).min();
        let mut freed = 0;
        while freed < max_blocks && self.histlen > self.backlog_size && self.blocks.len() > 1 {
            let Some(head) = self.blocks.front() else {
                break;
            };
            if needed.is_some_and(|p| p < head.end()) {
                break;
            }
            let len = head.data.len();
            if self.histlen - len <= self.backlog_size {
                break;
            }
            self.histlen -= len;
            self.mem -= head.data.capacity() + BLOCK_OVERHEAD;
            self.blocks.pop_front();
            freed += 1;
        }
        freed
    }
}

impl ReplBuffer {
    /// An empty buffer for a backlog of `backlog_size` bytes, after stream
    /// offset `master_offset` (the next byte written is `master_offset + 1`).
    pub fn new(backlog_size: usize, master_offset: i64) -> ReplBuffer {
        Self::with_min_block(backlog_size, master_offset, MIN_BLOCK)
    }

    /// As `new`, with another smallest block size (unit tests use tiny
    /// blocks to cross their boundaries often).
    pub fn with_min_block(backlog_size: usize, master_offset: i64, min_block: usize) -> ReplBuffer {
        ReplBuffer {
            inner: Mutex::new(Inner {
                blocks: VecDeque::new(),
                end: master_offset,
                histlen: 0,
                mem: 0,
                backlog_size,
                min_block: min_block.max(1),
                readers: Vec::new(),
                next_id: 1,
            }),
        }
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        // A panic elsewhere while holding the lock leaves the list
        // consistent (every update is a few assignments with no call that
        // can panic in between), so the poison is ignored.
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Append stream bytes (Redis's feedReplicationBuffer). Returns whether
    /// a block was added: the moment Redis checks the replicas' output
    /// buffer limits.
    pub fn feed(&self, mut bytes: &[u8]) -> bool {
        let mut g = self.lock();
        let inner = &mut *g;
        let mut added = false;
        while !bytes.is_empty() {
            if let Some(tail) = inner.blocks.back_mut() {
                let room = tail.data.capacity() - tail.data.len();
                let n = room.min(bytes.len());
                if n > 0 {
                    tail.data.extend_from_slice(&bytes[..n]);
                    bytes = &bytes[n..];
                    inner.end += n as i64;
                    inner.histlen += n;
                    continue;
                }
            }
            let limit = (inner.backlog_size / 16).max(inner.min_block);
            let size = bytes.len().max(inner.min_block).min(limit);
            let data = Vec::with_capacity(size);
            inner.mem += data.capacity() + BLOCK_OVERHEAD;
            inner.blocks.push_back(Block {
                start: inner.end + 1,
                data,
            });
            added = true;
        }
        if added {
            // Trim after adding, to keep the backlog close to its size in
            // the common case (Redis does the same, once per new block).
            inner.trim(TRIM_BLOCKS_PER_CALL);
        }
        added
    }

    /// Free up to `max_blocks` blocks no one needs beyond the backlog size.
    /// Returns how many were freed.
    pub fn trim(&self, max_blocks: usize) -> usize {
        self.lock().trim(max_blocks)
    }

    /// CONFIG SET repl-backlog-size: later trims keep this much.
    pub fn set_backlog_size(&self, size: usize) {
        let mut g = self.lock();
        g.backlog_size = size;
        g.trim(TRIM_BLOCKS_PER_CALL);
    }

    /// Renumber the history `by` bytes later: a restarted master's stream
    /// continues the offsets its file recorded (Redis's
    /// rebaseReplicationBuffer).
    pub fn rebase(&self, by: i64) {
        let mut g = self.lock();
        g.end += by;
        for b in &mut g.blocks {
            b.start += by;
        }
        for r in &mut g.readers {
            r.pos += by;
        }
    }

    /// Offset of the last byte written.
    pub fn end(&self) -> i64 {
        self.lock().end
    }

    /// Offset of the oldest byte held (`repl_backlog_first_byte_offset`).
    pub fn first_offset(&self) -> i64 {
        self.lock().first_offset()
    }

    /// Bytes held (`repl_backlog_histlen`).
    pub fn histlen(&self) -> usize {
        self.lock().histlen
    }

    /// INFO's view, under one lock.
    pub fn stats(&self) -> Stats {
        let g = self.lock();
        Stats {
            first_offset: g.first_offset(),
            histlen: g.histlen,
            mem: g.mem,
            blocks: g.blocks.len(),
        }
    }

    /// Whether a replica asking for `offset` (its processed offset + 1)
    /// can continue from here.
    pub fn covers(&self, offset: i64) -> bool {
        self.lock().covers(offset)
    }

    /// A reader from `offset` (which must be held: `covers`), streaming at
    /// once or not yet.
    pub fn add_reader(&self, offset: i64, streaming: bool) -> Option<ReaderId> {
        let mut g = self.lock();
        if !g.covers(offset) {
            return None;
        }
        let id = g.next_id;
        g.next_id += 1;
        g.readers.push(Reader {
            id,
            pos: offset,
            streaming,
        });
        Some(id)
    }

    /// Let a reader's connection send (the replica went online).
    pub fn start_streaming(&self, id: ReaderId) {
        if let Some(r) = self.lock().reader(id) {
            r.streaming = true;
        }
    }

    /// Drop a reader (its replica is gone), then free what only it held,
    /// incrementally (Redis's freeReplicaReferencedReplBuffer).
    pub fn remove_reader(&self, id: ReaderId) {
        let mut g = self.lock();
        g.readers.retain(|r| r.id != id);
        g.trim(TRIM_BLOCKS_PER_CALL);
    }

    /// Copy up to `max` bytes for a streaming reader and move it past them
    /// (empty when it is not streaming or is caught up). Blocks it was the
    /// last to need are freed, incrementally.
    pub fn read(&self, id: ReaderId, max: usize) -> Vec<u8> {
        let mut g = self.lock();
        let inner = &mut *g;
        let Some(r) = inner.readers.iter().find(|r| r.id == id) else {
            return Vec::new();
        };
        if !r.streaming || r.pos > inner.end || max == 0 {
            return Vec::new();
        }
        let mut pos = r.pos;
        let want = ((inner.end + 1 - pos) as usize).min(max);
        let mut out = Vec::with_capacity(want);
        let mut i = inner.block_at(pos).unwrap_or(0);
        while out.len() < want {
            let Some(b) = inner.blocks.get(i) else {
                break;
            };
            let from = (pos - b.start) as usize;
            let n = (b.data.len() - from).min(want - out.len());
            out.extend_from_slice(&b.data[from..from + n]);
            pos += n as i64;
            i += 1;
        }
        let moved_block = inner.block_at(pos) != inner.block_at(r.pos);
        if let Some(r) = inner.reader(id) {
            r.pos = pos;
        }
        if moved_block {
            inner.trim(TRIM_BLOCKS_PER_CALL);
        }
        out
    }

    /// Bytes a reader may send now (0 unless streaming).
    pub fn pending(&self, id: ReaderId) -> usize {
        let g = self.lock();
        g.readers
            .iter()
            .find(|r| r.id == id && r.streaming)
            .map_or(0, |r| (g.end + 1 - r.pos).max(0) as usize)
    }

    /// The reader's offset (the next byte it is to be sent).
    pub fn reader_offset(&self, id: ReaderId) -> Option<i64> {
        let g = self.lock();
        g.readers.iter().find(|r| r.id == id).map(|r| r.pos)
    }

    /// Memory a reader holds: from the block it reads to the end of the
    /// list, capacities and overhead included, as Redis's
    /// getClientOutputBufferMemoryUsage for a replica (its `omem`, and what
    /// its output buffer limits compare with).
    pub fn reader_mem(&self, id: ReaderId) -> usize {
        let g = self.lock();
        let Some(r) = g.readers.iter().find(|r| r.id == id) else {
            return 0;
        };
        let (Some(i), Some(last)) = (g.block_at(r.pos), g.blocks.back()) else {
            return 0;
        };
        let first = &g.blocks[i];
        (last.start + last.data.capacity() as i64 - first.start) as usize
            + (g.blocks.len() - i) * BLOCK_OVERHEAD
    }

    /// Number of readers.
    pub fn readers(&self) -> usize {
        self.lock().readers.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn drain(b: &ReplBuffer, id: ReaderId) -> Vec<u8> {
        let mut out = Vec::new();
        loop {
            let c = b.read(id, 7);
            if c.is_empty() {
                return out;
            }
            out.extend(c);
        }
    }

    #[test]
    fn offsets_at_the_boundaries() {
        let b = ReplBuffer::with_min_block(8, 100, 4);
        assert_eq!(b.first_offset(), 101);
        assert!(b.covers(101), "empty backlog serves the next byte");
        assert!(!b.covers(100) && !b.covers(102));
        b.feed(b"abcde"); // bytes 101..=105
        let r = b.add_reader(103, true).unwrap();
        assert_eq!(drain(&b, r), b"cde");
        assert!(b.add_reader(107, true).is_none() && b.add_reader(100, true).is_none());
        b.remove_reader(r);
        b.feed(b"fghijklmnop"); // up to 116; trims to keep > 8 bytes
        assert_eq!(b.histlen() as i64, 116 - b.first_offset() + 1);
        assert!(b.histlen() > 8 && b.histlen() <= 8 + 4, "{}", b.histlen());
        let r = b.add_reader(b.first_offset(), true).unwrap();
        let all = drain(&b, r);
        assert_eq!(&all[..], &b"abcdefghijklmnop"[16 - all.len()..]);
    }

    #[test]
    fn a_slow_reader_keeps_the_stream_beyond_the_backlog_size() {
        let b = ReplBuffer::with_min_block(16, 0, 4);
        let slow = b.add_reader(1, false).unwrap();
        let fast = b.add_reader(1, true).unwrap();
        let data: Vec<u8> = (0..200u8).collect();
        for c in data.chunks(9) {
            b.feed(c);
            drain(&b, fast);
        }
        assert_eq!(b.histlen(), 200, "the slow reader holds everything");
        assert_eq!(b.first_offset(), 1);
        let before = b.stats().mem;
        assert!(b.reader_mem(slow) >= 200 && b.reader_mem(fast) <= 4 + BLOCK_OVERHEAD);
        // A reconnecting replica continues from old data.
        let late = b.add_reader(50, true).unwrap();
        assert_eq!(drain(&b, late), &data[49..]);
        b.remove_reader(late);
        // The slow reader starts and catches up: the buffer shrinks back.
        b.start_streaming(slow);
        assert_eq!(drain(&b, slow), data);
        b.trim(usize::MAX);
        assert!(b.histlen() > 16 && b.histlen() <= 20, "{}", b.histlen());
        assert!(b.stats().mem < before / 4);
        assert_eq!(b.first_offset() + b.histlen() as i64, 201);
    }

    #[test]
    fn trimming_is_incremental() {
        let b = ReplBuffer::with_min_block(4, 0, 4);
        let r = b.add_reader(1, false).unwrap();
        b.feed(&[1u8; 4 * 200]);
        assert_eq!(b.stats().blocks, 200);
        b.remove_reader(r);
        assert_eq!(b.stats().blocks, 200 - TRIM_BLOCKS_PER_CALL);
        assert_eq!(b.trim(10), 10);
        b.trim(usize::MAX);
        assert_eq!(
            b.stats().blocks,
            2,
            "keeps the backlog size: 4 bytes + a block"
        );
        assert_eq!(b.stats().mem, 2 * (4 + BLOCK_OVERHEAD));
    }

    #[test]
    fn block_sizes_follow_redis() {
        // Backlog 1 MB: blocks of 16 kB up to 64 kB.
        let b = ReplBuffer::new(1 << 20, 0);
        b.feed(b"x");
        assert_eq!(b.stats().mem, MIN_BLOCK + BLOCK_OVERHEAD);
        b.feed(&vec![0u8; MIN_BLOCK - 1]);
        assert_eq!(b.stats().blocks, 1);
        b.feed(&vec![0u8; 200_000]);
        // 200000 bytes: three 64 kB blocks, and the rest in a 16 kB one.
        assert_eq!(b.stats().blocks, 5);
        let r = b.add_reader(1, false).unwrap();
        assert_eq!(
            b.reader_mem(r),
            2 * MIN_BLOCK + 3 * (1 << 16) + 5 * BLOCK_OVERHEAD
        );
    }

    proptest! {
        /// Against a model: the whole stream in a Vec, readers as offsets.
        #[test]
        fn matches_a_vec_model(
            size in 1usize..64,
            min_block in 1usize..16,
            start in 0i64..1000,
            ops in proptest::collection::vec(
                (0u8..6, proptest::collection::vec(any::<u8>(), 0..40), 0usize..50), 0..60),
        ) {
            let b = ReplBuffer::with_min_block(size, start, min_block);
            let mut model: Vec<u8> = Vec::new();
            // (id, offset, streaming) of each reader, as the model sees it.
            let mut readers: Vec<(ReaderId, i64, bool)> = Vec::new();
            for (op, bytes, n) in ops {
                let end = start + model.len() as i64;
                match op {
                    0 | 1 => {
                        b.feed(&bytes);
                        model.extend_from_slice(&bytes);
                    }
                    2 => {
                        // A reader somewhere in what is held.
                        let first = b.first_offset();
                        let off = first + (n as i64 % (end + 2 - first));
                        let id = b.add_reader(off, n % 2 == 0).unwrap();
                        readers.push((id, off, n % 2 == 0));
                    }
                    3 if !readers.is_empty() => {
                        let i = n % readers.len();
                        let (id, off, streaming) = readers[i];
                        let got = b.read(id, n);
                        if streaming {
                            let from = (off - start - 1) as usize;
                            let to = (from + n).min(model.len());
                            prop_assert_eq!(&got[..], &model[from..to]);
                            readers[i].1 += got.len() as i64;
                        } else {
                            prop_assert!(got.is_empty());
                        }
                    }
                    4 if !readers.is_empty() => {
                        let i = n % readers.len();
                        if n % 3 == 0 {
                            b.remove_reader(readers.remove(i).0);
                        } else {
                            b.start_streaming(readers[i].0);
                            readers[i].2 = true;
                        }
                    }
                    _ => {
                        b.trim(n);
                    }
                }
                let end = start + model.len() as i64;
                let first = b.first_offset();
                prop_assert_eq!(first + b.histlen() as i64, end + 1);
                // Every reader's data is still held, and so is the backlog.
                for &(id, off, streaming) in &readers {
                    prop_assert!(off >= first);
                    prop_assert_eq!(b.reader_offset(id), Some(off));
                    let pending = if streaming { (end + 1 - off) as usize } else { 0 };
                    prop_assert_eq!(b.pending(id), pending);
                }
                prop_assert!(b.histlen() >= size.min(model.len()));
                // What is held is the end of the model (reading it may trim
                // what the probe alone held).
                let hist = b.histlen();
                let probe = b.add_reader(first, true).unwrap();
                let mut held = Vec::new();
                loop {
                    let c = b.read(probe, 13);
                    if c.is_empty() { break; }
                    held.extend(c);
                }
                b.remove_reader(probe);
                prop_assert_eq!(&held[..], &model[model.len() - held.len()..]);
                prop_assert_eq!(held.len(), hist);
            }
        }
    }
}
