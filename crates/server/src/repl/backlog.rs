//! The replication backlog: a ring buffer holding the tail of the
//! replication stream, so that a replica that lost its link can continue
//! from its offset (PSYNC) instead of taking a full copy.
//!
//! Offsets are Redis's: the stream's bytes are numbered from 1, the master
//! offset is the number of the last byte written, and `first_offset`
//! (Redis's `repl_backlog_off`) is the number of the oldest byte still held.
//! A replica that has processed everything up to offset `o` asks for
//! `o + 1`; the request can be served when
//! `first_offset <= o + 1 <= first_offset + histlen`.

/// The ring buffer.
#[derive(Debug, Clone)]
pub struct Backlog {
    buf: Vec<u8>,
    /// Where the next byte goes.
    idx: usize,
    /// Bytes of history held (≤ capacity).
    histlen: usize,
    /// Offset of the oldest byte held.
    first_offset: i64,
}

impl Backlog {
    /// A backlog of `size` bytes that starts after stream offset
    /// `master_offset` (the next byte written is `master_offset + 1`).
    pub fn new(size: usize, master_offset: i64) -> Backlog {
        Backlog {
            buf: vec![0; size.max(1)],
            idx: 0,
            histlen: 0,
            first_offset: master_offset + 1,
        }
    }

    /// Capacity in bytes.
    pub fn size(&self) -> usize {
        self.buf.len()
    }

    /// Bytes of history held.
    pub fn histlen(&self) -> usize {
        self.histlen
    }

    /// Offset of the oldest byte held (`repl_backlog_first_byte_offset`).
    pub fn first_offset(&self) -> i64 {
        self.first_offset
    }

    /// Append stream bytes, dropping the oldest when full.
    pub fn append(&mut self, mut data: &[u8]) {
        let cap = self.buf.len();
        if data.len() > cap {
            // Only the last `cap` bytes can be kept.
            let skip = data.len() - cap;
            self.first_offset += (skip + self.histlen) as i64;
            self.histlen = 0;
            data = &data[skip..];
        }
        while !data.is_empty() {
            let room = cap - self.idx;
            let n = room.min(data.len());
            self.buf[self.idx..self.idx + n].copy_from_slice(&data[..n]);
            self.idx = (self.idx + n) % cap;
            data = &data[n..];
            self.histlen += n;
        }
        if self.histlen > cap {
            self.first_offset += (self.histlen - cap) as i64;
            self.histlen = cap;
        }
    }

    /// Whether a replica asking for `offset` (its processed offset + 1)
    /// can be served from here.
    pub fn covers(&self, offset: i64) -> bool {
        offset >= self.first_offset && offset <= self.first_offset + self.histlen as i64
    }

    /// The bytes from stream offset `offset` to the end, if held.
    pub fn read_from(&self, offset: i64) -> Option<Vec<u8>> {
        if !self.covers(offset) {
            return None;
        }
        let skip = (offset - self.first_offset) as usize;
        let len = self.histlen - skip;
        let cap = self.buf.len();
        // The oldest byte sits `histlen` bytes behind idx.
        let start = (self.idx + cap - self.histlen + skip) % cap;
        let mut out = Vec::with_capacity(len);
        let first = (cap - start).min(len);
        out.extend_from_slice(&self.buf[start..start + first]);
        out.extend_from_slice(&self.buf[..len - first]);
        Some(out)
    }

    /// Renumber the history `by` bytes later: a restarted master's stream
    /// continues the offsets its file recorded (Redis's
    /// rebaseReplicationBuffer).
    pub fn rebase(&mut self, by: i64) {
        self.first_offset += by;
    }

    /// Change the capacity, keeping as much recent history as fits.
    pub fn resize(&mut self, size: usize) {
        let size = size.max(1);
        if size == self.buf.len() {
            return;
        }
        let hist = self.read_from(self.first_offset).unwrap_or_default();
        let end = self.first_offset + self.histlen as i64;
        let keep = hist.len().min(size);
        let mut b = Backlog::new(size, end - 1 - keep as i64);
        b.append(&hist[hist.len() - keep..]);
        *self = b;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn offsets_at_the_boundaries() {
        let mut b = Backlog::new(8, 100);
        assert_eq!(b.first_offset(), 101);
        assert!(b.covers(101), "empty backlog serves the next byte");
        assert!(!b.covers(100) && !b.covers(102));
        b.append(b"abcde"); // bytes 101..=105
        assert_eq!(b.read_from(101).unwrap(), b"abcde");
        assert_eq!(b.read_from(106).unwrap(), b"");
        assert_eq!(b.read_from(103).unwrap(), b"cde");
        assert!(b.read_from(107).is_none() && b.read_from(100).is_none());
        b.append(b"fghij"); // 106..=110, wraps; 101,102 dropped
        assert_eq!(b.first_offset(), 103);
        assert_eq!(b.histlen(), 8);
        assert_eq!(b.read_from(103).unwrap(), b"cdefghij");
        assert_eq!(b.read_from(109).unwrap(), b"ij");
        assert!(b.read_from(102).is_none());
    }

    #[test]
    fn append_larger_than_capacity() {
        let mut b = Backlog::new(4, 0);
        b.append(b"xy");
        b.append(b"0123456789");
        assert_eq!(b.first_offset(), 9);
        assert_eq!(b.read_from(9).unwrap(), b"6789");
    }

    #[test]
    fn resize_keeps_recent_history() {
        let mut b = Backlog::new(8, 0);
        b.append(b"abcdefgh");
        b.resize(4);
        assert_eq!(b.first_offset(), 5);
        assert_eq!(b.read_from(5).unwrap(), b"efgh");
        b.resize(16);
        assert_eq!(b.read_from(5).unwrap(), b"efgh");
        b.append(b"ijkl");
        assert_eq!(b.read_from(5).unwrap(), b"efghijkl");
    }

    proptest! {
        /// Against a model: the whole stream in a Vec.
        #[test]
        fn matches_a_vec_model(
            size in 1usize..64,
            start in 0i64..1000,
            chunks in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..40), 0..30),
            resize_at in 0usize..30,
            new_size in 1usize..64,
        ) {
            let mut b = Backlog::new(size, start);
            let mut model: Vec<u8> = Vec::new();
            let mut cap = size;
            for (i, c) in chunks.iter().enumerate() {
                if i == resize_at {
                    b.resize(new_size);
                    cap = new_size;
                }
                b.append(c);
                model.extend_from_slice(c);
                let held = model.len().min(cap).min(b.histlen());
                prop_assert!(b.histlen() <= cap);
                let end = start + model.len() as i64; // last byte's offset
                prop_assert_eq!(b.first_offset() + b.histlen() as i64, end + 1);
                for back in 0..=held {
                    let off = end + 1 - back as i64;
                    let got = b.read_from(off).unwrap();
                    prop_assert_eq!(&got[..], &model[model.len() - back..]);
                }
                prop_assert!(b.read_from(end + 2).is_none());
            }
        }
    }
}
