//! A byte queue kept as a list of chunks of about [`CHUNK`] bytes.
//!
//! A replica's stream can pile up to tens of MB while it loads a snapshot
//! (the master keeps it, as Redis does). In one `Vec<u8>` each doubling
//! allocates a new block and copies the old one into it, so for a moment the
//! process holds the stream twice, and that moment is the master's peak
//! RSS during a sync. Here a queue grows by whole chunks instead: nothing
//! already queued is copied again, and what the queue holds is what it
//! takes. A short queue is a single `Vec`, as before.

use std::collections::VecDeque;

/// Size past which the last chunk is closed instead of reallocated.
#[cfg(not(test))]
pub const CHUNK: usize = 1 << 20;
/// Small in unit tests, so that they cross chunk boundaries often.
#[cfg(test)]
pub const CHUNK: usize = 4096;

/// A FIFO byte queue in chunks.
#[derive(Debug, Default)]
pub struct ChunkBuf {
    /// Closed chunks, oldest first.
    full: VecDeque<Vec<u8>>,
    /// The chunk being filled (after every chunk in `full`).
    tail: Vec<u8>,
    /// Bytes in `full` and `tail`.
    len: usize,
    /// The allocation of the chunks in `full`, as `used_memory` counts it.
    full_mem: usize,
}

impl ChunkBuf {
    /// An empty queue.
    pub const fn new() -> Self {
        Self {
            full: VecDeque::new(),
            tail: Vec::new(),
            len: 0,
            full_mem: 0,
        }
    }

    /// Bytes queued.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Nothing queued.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Bytes allocated for what is queued, as the allocator counts them in
    /// `used_memory` (the chunks' capacities rounded up to their size
    /// classes: eviction subtracts this from used_memory, and counting the
    /// capacities alone left a fifth of a queue of invalidations to evict
    /// for).
    pub fn allocated(&self) -> usize {
        self.full_mem + crate::alloc::usable_size(self.tail.capacity())
    }

    fn push_full(&mut self, c: Vec<u8>) {
        self.full_mem += crate::alloc::usable_size(c.capacity());
        self.full.push_back(c);
    }

    /// Append a copy of `bytes`.
    pub fn push(&mut self, bytes: &[u8]) {
        if bytes.is_empty() {
            return;
        }
        let room = self.tail.capacity() - self.tail.len();
        if bytes.len() > room {
            if self.tail.len() >= CHUNK {
                self.close_tail(bytes.len());
            } else {
                // Grow as Vec would (doubling), to the whole size class
                // the allocator gives that request anyway.
                let want = (self.tail.capacity() * 2).max(self.tail.len() + bytes.len());
                let want = crate::alloc::usable_size(want);
                self.tail.reserve_exact(want - self.tail.len());
            }
        }
        self.tail.extend_from_slice(bytes);
        self.len += bytes.len();
    }

    /// Append an owned buffer without copying it.
    pub fn push_vec(&mut self, bytes: Vec<u8>) {
        if bytes.is_empty() {
            return;
        }
        self.len += bytes.len();
        if self.tail.is_empty() {
            self.tail = bytes;
        } else if bytes.len() < CHUNK / 16 && self.tail.capacity() - self.tail.len() >= bytes.len()
        {
            self.tail.extend_from_slice(&bytes);
        } else {
            let tail = std::mem::replace(&mut self.tail, bytes);
            self.push_full(tail);
        }
    }

    /// Append every chunk of `other`, without copying them.
    pub fn append(&mut self, other: ChunkBuf) {
        let ChunkBuf { full, tail, .. } = other;
        for c in full {
            self.push_vec(c);
        }
        self.push_vec(tail);
    }

    /// Take the oldest chunk (empty when nothing is queued).
    pub fn pop_front(&mut self) -> Vec<u8> {
        let c = match self.full.pop_front() {
            Some(c) => {
                self.full_mem -= crate::alloc::usable_size(c.capacity());
                c
            }
            None => std::mem::take(&mut self.tail),
        };
        self.len -= c.len();
        c
    }

    /// Move the tail into `full` and start a new one with room for `next`.
    fn close_tail(&mut self, next: usize) {
        let fresh = Vec::with_capacity(next.max(CHUNK));
        let tail = std::mem::replace(&mut self.tail, fresh);
        self.push_full(tail);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn drain(q: &mut ChunkBuf) -> Vec<u8> {
        let mut out = Vec::new();
        loop {
            let c = q.pop_front();
            if c.is_empty() {
                return out;
            }
            out.extend_from_slice(&c);
        }
    }

    #[test]
    fn large_queue_grows_by_chunks_without_reallocating_old_ones() {
        let mut q = ChunkBuf::new();
        let piece = vec![7u8; 512];
        for _ in 0..(3 * CHUNK / 512) {
            q.push(&piece);
        }
        assert_eq!(q.len(), 3 * CHUNK);
        assert!(q.full.len() >= 2, "closed chunks: {}", q.full.len());
        for c in &q.full {
            assert!(c.len() >= CHUNK && c.len() < 2 * CHUNK + 512);
        }
    }

    /// What `allocated` says is what the allocator counts of the chunks,
    /// and growing the tail asks for whole size classes (no room the
    /// allocator gives but the queue does not use or count).
    #[test]
    fn allocated_counts_size_classes() {
        let mut q = ChunkBuf::new();
        let msg = vec![b'x'; 1036];
        for _ in 0..36 {
            q.push(&msg);
            assert_eq!(
                q.tail.capacity(),
                crate::alloc::usable_size(q.tail.capacity())
            );
        }
        let counted: usize = q
            .full
            .iter()
            .chain(std::iter::once(&q.tail))
            .map(|c| crate::alloc::usable_size(c.capacity()))
            .sum();
        assert_eq!(q.allocated(), counted);
        assert!(q.allocated() >= q.len());
        while !q.pop_front().is_empty() {}
        assert_eq!(q.allocated(), 0);
    }

    proptest! {
        // Any mix of pushes, owned pushes, appends and pops keeps the bytes
        // in order, as a plain Vec would.
        #[test]
        fn behaves_as_a_vec(ops in proptest::collection::vec(
            (0u8..4, proptest::collection::vec(any::<u8>(), 0..3000), 0usize..3000), 0..200))
        {
            let mut q = ChunkBuf::new();
            let mut model: VecDeque<u8> = VecDeque::new();
            for (op, bytes, n) in ops {
                match op {
                    0 => { q.push(&bytes); model.extend(&bytes); }
                    1 => { q.push_vec(bytes.clone()); model.extend(&bytes); }
                    2 => {
                        let mut other = ChunkBuf::new();
                        other.push(&bytes[..bytes.len() / 2]);
                        other.push_vec(bytes[bytes.len() / 2..].repeat(n % 3 + 1));
                        let mut m = bytes[..bytes.len() / 2].to_vec();
                        m.extend(bytes[bytes.len() / 2..].repeat(n % 3 + 1));
                        q.append(other);
                        model.extend(&m);
                    }
                    _ => {
                        let c = q.pop_front();
                        let want: Vec<u8> = model.drain(..c.len()).collect();
                        prop_assert_eq!(c, want);
                    }
                }
                prop_assert_eq!(q.len(), model.len());
            }
            prop_assert_eq!(drain(&mut q), model.into_iter().collect::<Vec<u8>>());
        }
    }
}
