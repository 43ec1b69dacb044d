//! LZF, the small LZ77 variant Redis uses to compress strings in RDB files
//! (`rdbcompression yes`) and list nodes in memory.
//!
//! The stream is a sequence of items, each starting with a control byte:
//!
//! ```text
//! 000LLLLL <L+1 literal bytes>          literal run of 1..=32 bytes
//! LLLooooo oooooooo                      back reference, length L+2 (3..=8)
//! 111ooooo LLLLLLLL oooooooo             back reference, length L+9 (9..=264)
//! ```
//!
//! where `o+1` (1..=8192) is the distance back from the current output
//! position. References may overlap the bytes they produce (a run of one
//! repeated byte is a reference with distance 1).
//!
//! The compressor is our own: a 3-byte hash table of recent positions, as in
//! the reference implementation, so the ratio is close to what Redis gets.
//! The decompressor checks every length against its input and its declared
//! output size, so hostile input fails with an error instead of reading or
//! writing out of bounds, and memory grows only as output is really produced.
//!
//! ```
//! let data = b"abcabcabcabcabcabcabcabcabcabcabc".repeat(10);
//! let packed = rdb::lzf::compress(&data, data.len()).expect("compressible");
//! assert!(packed.len() < data.len());
//! assert_eq!(rdb::lzf::decompress(&packed, data.len()).unwrap(), data);
//! ```

use crate::Error;

/// Longest literal run one control byte can describe.
const MAX_LIT: usize = 32;
/// Largest back-reference distance (`o + 1` with 13 bits of `o`).
const MAX_OFF: usize = 1 << 13;
/// Longest back reference: 7 + 255 + 2.
const MAX_REF: usize = 264;
/// log2 of the hash table size, as Redis's `HLOG`.
const HLOG: u32 = 16;

/// Reusable compressor state: the hash table survives between calls so that
/// compressing many small strings does not allocate each time.
///
/// Stale entries left by earlier inputs are harmless: every candidate match
/// is verified byte for byte before it is used.
#[derive(Debug, Clone)]
pub struct Compressor {
    table: Vec<u32>,
}

impl Default for Compressor {
    fn default() -> Self {
        Self::new()
    }
}

#[inline(always)]
fn hash3(a: u8, b: u8, c: u8) -> usize {
    let v = u32::from(a) | (u32::from(b) << 8) | (u32::from(c) << 16);
    (v.wrapping_mul(2_654_435_761) >> (32 - HLOG)) as usize
}

impl Compressor {
    /// Creates a compressor with an empty hash table.
    pub fn new() -> Self {
        Compressor {
            table: vec![0; 1 << HLOG],
        }
    }

    /// Compresses `input` into `out` (which is cleared first).
    ///
    /// Returns `false`, leaving `out` unspecified, when the result would be
    /// longer than `max_out` bytes; Redis stores a string uncompressed in
    /// that case.
    pub fn compress_into(&mut self, input: &[u8], max_out: usize, out: &mut Vec<u8>) -> bool {
        out.clear();
        if input.is_empty() || max_out == 0 {
            return false;
        }
        let n = input.len();
        let mut ip = 0usize;
        // Start of the pending literal run in `input`.
        let mut lit_start = 0usize;

        fn flush_literals(out: &mut Vec<u8>, lits: &[u8]) {
            for run in lits.chunks(MAX_LIT) {
                // run.len() is 1..=32, so the control byte is 0..=31.
                out.push((run.len() - 1) as u8);
                out.extend_from_slice(run);
            }
        }

        while ip + 2 < n {
            let (a, b, c) = match input.get(ip..ip + 3) {
                Some(&[a, b, c]) => (a, b, c),
                _ => break,
            };
            let h = hash3(a, b, c);
            let Some(slot) = self.table.get_mut(h) else {
                break;
            };
            let cand = *slot as usize;
            *slot = ip as u32;

            let usable = cand < ip
                && ip - cand - 1 < MAX_OFF
                && input.get(cand..cand + 3) == Some(&[a, b, c][..]);
            if !usable {
                ip += 1;
                if ip - lit_start >= MAX_LIT * 64 {
                    // Keep the pending run bounded so the size check below
                    // stays cheap and accurate.
                    flush_literals(out, input.get(lit_start..ip).unwrap_or(&[]));
                    lit_start = ip;
                    if out.len() > max_out {
                        return false;
                    }
                }
                continue;
            }

            // Extend the match, eight bytes at a time while it lasts.
            let max_len = MAX_REF.min(n - ip);
            let mut len = 3;
            while len + 8 <= max_len {
                let (Some(x), Some(y)) = (
                    input.get(cand + len..cand + len + 8),
                    input.get(ip + len..ip + len + 8),
                ) else {
                    break;
                };
                let diff = u64::from_le_bytes(x.try_into().unwrap_or([0; 8]))
                    ^ u64::from_le_bytes(y.try_into().unwrap_or([0; 8]));
                if diff != 0 {
                    len += (diff.trailing_zeros() / 8) as usize;
                    break;
                }
                len += 8;
            }
            while len < max_len && input.get(cand + len) == input.get(ip + len) {
                len += 1;
            }

            flush_literals(out, input.get(lit_start..ip).unwrap_or(&[]));
            let off = ip - cand - 1;
            let l = len - 2;
            if l < 7 {
                out.push(((l << 5) | (off >> 8)) as u8);
            } else {
                out.push(((7 << 5) | (off >> 8)) as u8);
                out.push((l - 7) as u8);
            }
            out.push((off & 0xff) as u8);
            if out.len() > max_out {
                return false;
            }

            // Index the last two positions of the match, as liblzf does in
            // its VERY_FAST mode (Redis's build), then continue after it.
            // Indexing every position finds a few more matches at a large
            // cost on long runs.
            let end = ip + len;
            let mut p = end.saturating_sub(2).max(ip + 1);
            while p + 2 < n && p < end {
                if let Some(&[x, y, z]) = input.get(p..p + 3) {
                    if let Some(s) = self.table.get_mut(hash3(x, y, z)) {
                        *s = p as u32;
                    }
                }
                p += 1;
            }
            ip = end;
            lit_start = ip;
        }
        flush_literals(out, input.get(lit_start..).unwrap_or(&[]));
        out.len() <= max_out
    }
}

/// Compresses `input`, or returns `None` if the output would exceed
/// `max_out` bytes.
pub fn compress(input: &[u8], max_out: usize) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    Compressor::new()
        .compress_into(input, max_out, &mut out)
        .then_some(out)
}

/// Decompresses `input`, which must expand to exactly `expected_len` bytes.
///
/// Fails with [`Error::Lzf`] on a truncated item, a reference before the
/// start of the output, output longer than `expected_len`, or output
/// shorter than it.
pub fn decompress(input: &[u8], expected_len: usize) -> Result<Vec<u8>, Error> {
    // Grow with the output instead of trusting `expected_len` up front.
    let mut out: Vec<u8> = Vec::with_capacity(expected_len.min(1 << 20));
    let mut ip = 0usize;
    let err = |detail: &'static str| Error::Lzf { detail };
    while let Some(&ctrl) = input.get(ip) {
        ip += 1;
        let ctrl = usize::from(ctrl);
        if ctrl < 32 {
            let len = ctrl + 1;
            let lits = input
                .get(ip..ip + len)
                .ok_or_else(|| err("literal run past end of input"))?;
            if out.len() + len > expected_len {
                return Err(err("output longer than declared"));
            }
            out.extend_from_slice(lits);
            ip += len;
        } else {
            let mut len = ctrl >> 5;
            if len == 7 {
                let extra = input
                    .get(ip)
                    .ok_or_else(|| err("back reference past end of input"))?;
                len += usize::from(*extra);
                ip += 1;
            }
            let low = input
                .get(ip)
                .ok_or_else(|| err("back reference past end of input"))?;
            ip += 1;
            let dist = (((ctrl & 0x1f) << 8) | usize::from(*low)) + 1;
            len += 2;
            if dist > out.len() {
                return Err(err("back reference before start of output"));
            }
            if out.len() + len > expected_len {
                return Err(err("output longer than declared"));
            }
            let start = out.len() - dist;
            if dist >= len {
                out.extend_from_within(start..start + len);
            } else {
                // Overlapping copy: the output repeats with period `dist`
                // from `start`. Copying what lies between `start` and the
                // end keeps that period (each piece is a multiple of
                // `dist` long), and the pieces double: a run of 264 zeros
                // is a handful of memcpys, not 264 pushes.
                let mut left = len;
                while left > 0 {
                    let k = left.min(out.len() - start);
                    out.extend_from_within(start..start + k);
                    left -= k;
                }
            }
        }
    }
    if out.len() != expected_len {
        return Err(err("output shorter than declared"));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn redis_written_blob() {
        // The "compressible" key of Redis's tests/assets/encodings.rdb:
        // 137 times 'a', stored as `c3 09 40 89` + these 9 bytes.
        let blob = [0x01, 0x61, 0x61, 0xe0, 0x7c, 0x00, 0x01, 0x61, 0x61];
        assert_eq!(decompress(&blob, 137).unwrap(), vec![b'a'; 137]);
        assert!(decompress(&blob, 136).is_err());
        assert!(decompress(&blob, 138).is_err());
    }

    #[test]
    fn rejects_bad_streams() {
        assert!(decompress(&[0x05, b'a'], 6).is_err()); // short literal
        assert!(decompress(&[0x20, 0x00], 3).is_err()); // ref before start
        assert!(decompress(&[0x00, b'a', 0xe0], 20).is_err()); // truncated
        assert!(decompress(&[0x00, b'a', 0x20], 4).is_err()); // truncated
        assert!(decompress(&[], 1).is_err());
        assert_eq!(decompress(&[], 0).unwrap(), Vec::<u8>::new());
    }

    #[test]
    fn incompressible_and_limits() {
        let data: Vec<u8> = (0..200u32).map(|i| (i * 97 % 251) as u8).collect();
        assert!(compress(&data, data.len() - 4).is_none());
        assert!(compress(b"", 10).is_none());
        let run = vec![7u8; 100_000];
        let c = compress(&run, run.len()).unwrap();
        // 264 bytes per 3-byte back reference at best.
        assert!(c.len() < 1_200, "{}", c.len());
        assert_eq!(decompress(&c, run.len()).unwrap(), run);
    }

    proptest! {
        #[test]
        fn round_trip(data in proptest::collection::vec(
            prop_oneof![Just(b'a'), Just(b'b'), any::<u8>()], 0..3000)) {
            if let Some(c) = compress(&data, data.len() + data.len() / 16 + 64) {
                prop_assert_eq!(decompress(&c, data.len()).unwrap(), data);
            } else {
                prop_assert!(data.is_empty());
            }
        }

        #[test]
        fn decompress_never_panics(data in proptest::collection::vec(any::<u8>(), 0..200),
                                   len in 0usize..1000) {
            let _ = decompress(&data, len);
        }
    }
}
