//! Intset: a sorted array of unique integers, Redis's encoding for small
//! sets of integers.
//!
//! ```text
//! <encoding u32 LE: 2, 4 or 8> <length u32 LE> <length × encoding bytes, LE, ascending>
//! ```

use super::{blob_err, BlobResult};

/// Decodes and validates an intset: known width, exact size, non-empty,
/// strictly ascending (so no duplicates).
pub(crate) fn members(is: &[u8]) -> BlobResult<Vec<i64>> {
    let (Some(&[e0, e1, e2, e3]), Some(&[l0, l1, l2, l3])) = (is.get(0..4), is.get(4..8)) else {
        return blob_err(0, "intset shorter than its header");
    };
    let width = u32::from_le_bytes([e0, e1, e2, e3]);
    let count = u32::from_le_bytes([l0, l1, l2, l3]) as usize;
    if !matches!(width, 2 | 4 | 8) {
        return blob_err(0, "invalid intset encoding");
    }
    let width = width as usize;
    if count.checked_mul(width).and_then(|n| n.checked_add(8)) != Some(is.len()) {
        return blob_err(4, "intset length does not match its size");
    }
    if count == 0 {
        return blob_err(4, "empty intset");
    }
    let mut out = Vec::with_capacity(count.min(4096));
    let data = is.get(8..).unwrap_or(&[]);
    for (i, chunk) in data.chunks_exact(width).enumerate() {
        let v = match *chunk {
            [a, b] => i64::from(i16::from_le_bytes([a, b])),
            [a, b, c, d] => i64::from(i32::from_le_bytes([a, b, c, d])),
            [a, b, c, d, e, f, g, h] => i64::from_le_bytes([a, b, c, d, e, f, g, h]),
            _ => return blob_err(8 + i * width, "bad intset element"),
        };
        if let Some(&prev) = out.last() {
            if v <= prev {
                return blob_err(8 + i * width, "intset not strictly ascending");
            }
        }
        out.push(v);
    }
    Ok(out)
}

/// Encodes sorted, unique integers as an intset with the narrowest width
/// that holds them all.
pub(crate) fn encode(sorted: &[i64]) -> Vec<u8> {
    let width: usize = if sorted.iter().all(|&v| i16::try_from(v).is_ok()) {
        2
    } else if sorted.iter().all(|&v| i32::try_from(v).is_ok()) {
        4
    } else {
        8
    };
    let mut out = Vec::with_capacity(8 + sorted.len() * width);
    out.extend_from_slice(&(width as u32).to_le_bytes());
    out.extend_from_slice(&(sorted.len() as u32).to_le_bytes());
    for &v in sorted {
        out.extend_from_slice(v.to_le_bytes().get(..width).unwrap_or(&[]));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redis_written() {
        // set_zipped_1 from Redis's tests/assets/encodings.rdb: 16-bit 1..4.
        let blob = [2, 0, 0, 0, 4, 0, 0, 0, 1, 0, 2, 0, 3, 0, 4, 0];
        assert_eq!(members(&blob).unwrap(), vec![1, 2, 3, 4]);
        assert_eq!(encode(&[1, 2, 3, 4]), blob);
    }

    #[test]
    fn widths_and_errors() {
        for set in [
            vec![-5, 40000],
            vec![i64::MIN, 0, i64::MAX],
            vec![-32768, 32767],
        ] {
            assert_eq!(members(&encode(&set)).unwrap(), set);
        }
        assert_eq!(encode(&[1, 70000])[0], 4);
        assert!(members(&encode(&[2, 1])).is_err());
        assert!(members(&encode(&[1, 1])).is_err());
        assert!(members(&encode(&[])).is_err());
        assert!(members(&[3, 0, 0, 0, 1, 0, 0, 0, 1, 2, 3]).is_err());
        assert!(members(&[2, 0, 0, 0, 2, 0, 0, 0, 1, 0]).is_err());
        assert!(members(&[2, 0, 0, 0, 0xff, 0xff, 0xff, 0xff, 1, 0]).is_err());
        assert!(members(&[2, 0]).is_err());
    }
}
