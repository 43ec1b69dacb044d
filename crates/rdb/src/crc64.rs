//! CRC-64/Jones, the checksum Redis puts at the end of RDB files and DUMP
//! payloads.
//!
//! Parameters (reflected in and out, no final xor): polynomial
//! `0xad93d23594c935a9`, initial value 0. Because there is neither an
//! inversion on entry nor a final xor, `crc64(crc64(0, a), b)` equals
//! `crc64(0, a ++ b)`, which is how Redis feeds it a file piece by piece.
//!
//! The table-driven loop processes eight bytes per step ("slicing by 8"),
//! as Redis's `crcspeed.c` does, so checksumming is never the bottleneck of
//! a load or a save.
//!
//! ```
//! assert_eq!(rdb::crc64::crc64(0, b"123456789"), 0xe9c6d914c4b8d9ca);
//! ```

/// The polynomial with its bits reversed, for the reflected algorithm.
const POLY_REFLECTED: u64 = 0x95ac_9329_ac4b_c9b5;

/// Eight 256-entry tables: `TABLES[0]` is the classic byte table and
/// `TABLES[k][i]` is the CRC of byte `i` followed by `k` zero bytes.
static TABLES: [[u64; 256]; 8] = build_tables();

// Evaluated at compile time: an index out of bounds here would be a build
// error, never a runtime panic.
#[allow(clippy::indexing_slicing)]
const fn build_tables() -> [[u64; 256]; 8] {
    let mut t = [[0u64; 256]; 8];
    let mut i = 0;
    while i < 256 {
        let mut crc = i as u64;
        let mut bit = 0;
        while bit < 8 {
            crc = if crc & 1 == 1 {
                (crc >> 1) ^ POLY_REFLECTED
            } else {
                crc >> 1
            };
            bit += 1;
        }
        t[0][i] = crc;
        i += 1;
    }
    let mut k = 1;
    while k < 8 {
        let mut i = 0;
        while i < 256 {
            let prev = t[k - 1][i];
            t[k][i] = (prev >> 8) ^ t[0][(prev & 0xff) as usize];
            i += 1;
        }
        k += 1;
    }
    t
}

/// Looks up `TABLES[k][byte]`.
#[inline(always)]
fn tab(k: usize, byte: u64) -> u64 {
    // `k` is a literal below 8 at every call site and `byte` is masked to
    // 0..=255, so both indexes are in bounds; the fallback is unreachable.
    TABLES
        .get(k)
        .and_then(|t| t.get((byte & 0xff) as usize))
        .copied()
        .unwrap_or(0)
}

/// Continues the CRC `crc` over `data` and returns the new CRC.
///
/// Start a fresh checksum with `crc = 0`.
pub fn crc64(crc: u64, data: &[u8]) -> u64 {
    let mut crc = crc;
    let mut chunks = data.chunks_exact(8);
    for chunk in &mut chunks {
        let mut word = [0u8; 8];
        word.copy_from_slice(chunk);
        let x = crc ^ u64::from_le_bytes(word);
        crc = tab(7, x)
            ^ tab(6, x >> 8)
            ^ tab(5, x >> 16)
            ^ tab(4, x >> 24)
            ^ tab(3, x >> 32)
            ^ tab(2, x >> 40)
            ^ tab(1, x >> 48)
            ^ tab(0, x >> 56);
    }
    for &b in chunks.remainder() {
        crc = tab(0, crc ^ u64::from(b)) ^ (crc >> 8);
    }
    crc
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Bit-at-a-time reference implementation.
    fn slow(mut crc: u64, data: &[u8]) -> u64 {
        for &b in data {
            crc ^= u64::from(b);
            for _ in 0..8 {
                crc = if crc & 1 == 1 {
                    (crc >> 1) ^ POLY_REFLECTED
                } else {
                    crc >> 1
                };
            }
        }
        crc
    }

    #[test]
    fn check_value() {
        assert_eq!(crc64(0, b"123456789"), 0xe9c6_d914_c4b8_d9ca);
        assert_eq!(crc64(0, b""), 0);
    }

    #[test]
    fn matches_bitwise_and_is_incremental() {
        let data: Vec<u8> = (0..1000u32).map(|i| (i * 7 + i / 3) as u8).collect();
        for split in [0, 1, 7, 8, 9, 500, 999, 1000] {
            let (a, b) = data.split_at(split);
            assert_eq!(crc64(crc64(0, a), b), slow(0, &data));
        }
    }
}
