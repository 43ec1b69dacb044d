//! Zipmap: the hash encoding of Redis ≤ 2.4 (RDB type 9).
//!
//! ```text
//! <zmlen u8, 254 = unknown> ( <len> <field> <len> <free u8> <value> <free bytes> )* <0xFF>
//! len = 1 byte (< 254) | 0xFE <u32 LE>
//! ```
//!
//! `free` counts unused bytes after the value, left by in-place updates.

use super::{blob_err, BlobResult};

const BIGLEN: u8 = 254;
const END: u8 = 0xFF;

/// Decodes and validates a zipmap: every length inside the blob, at least
/// one pair, and the count byte when it is not 254.
pub(crate) fn pairs(zm: &[u8]) -> BlobResult<Vec<(&[u8], &[u8])>> {
    if zm.len() < 2 {
        return blob_err(0, "zipmap shorter than its header");
    }
    let last = zm.len() - 1;
    if zm.get(last) != Some(&END) {
        return blob_err(last, "zipmap does not end with 0xFF");
    }
    let zmlen = zm.first().copied().unwrap_or(0);
    let mut out = Vec::new();
    let mut p = 1usize;
    // Reads a length at `p`, returning it and the position after it.
    let read_len = |p: usize| -> BlobResult<(usize, usize)> {
        match zm.get(p) {
            Some(&b) if b < BIGLEN => Ok((usize::from(b), p + 1)),
            Some(&BIGLEN) => match zm.get(p + 1..p + 5) {
                Some(&[a, b, c, d]) if p + 5 <= last => {
                    Ok((u32::from_le_bytes([a, b, c, d]) as usize, p + 5))
                }
                _ => blob_err(p, "zipmap length past end"),
            },
            _ => blob_err(p, "invalid zipmap length"),
        }
    };
    while zm.get(p) != Some(&END) {
        let (flen, q) = read_len(p)?;
        let field = q
            .checked_add(flen)
            .filter(|&e| e <= last)
            .and_then(|e| zm.get(q..e))
            .ok_or(super::BlobError {
                pos: p,
                msg: "zipmap field past end",
            })?;
        let (vlen, q) = read_len(q + flen)?;
        let free = usize::from(*zm.get(q).filter(|_| q < last).ok_or(super::BlobError {
            pos: q,
            msg: "zipmap free byte past end",
        })?);
        let vstart = q + 1;
        let value = vstart
            .checked_add(vlen)
            .filter(|&e| e <= last)
            .and_then(|e| zm.get(vstart..e))
            .ok_or(super::BlobError {
                pos: q,
                msg: "zipmap value past end",
            })?;
        let next = vstart + vlen + free;
        if next > last {
            return blob_err(q, "zipmap free space past end");
        }
        out.push((field, value));
        p = next;
    }
    if out.is_empty() {
        return blob_err(0, "empty zipmap");
    }
    if zmlen != BIGLEN && usize::from(zmlen) != out.len() {
        return blob_err(0, "zipmap count does not match entries");
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redis_written() {
        // Key "hash" of Redis's tests/assets/hash-zipmap.rdb (RDB 3):
        // 2 pairs, f1=v1 and f2=v2, no free space.
        let zm = [
            2, 2, b'f', b'1', 2, 0, b'v', b'1', 2, b'f', b'2', 2, 0, b'v', b'2', 0xff,
        ];
        assert_eq!(
            pairs(&zm).unwrap(),
            vec![(&b"f1"[..], &b"v1"[..]), (&b"f2"[..], &b"v2"[..])]
        );
    }

    #[test]
    fn free_space_biglen_and_errors() {
        // 254 = unknown count; value "v" followed by 2 free bytes; a field
        // with the 5-byte length form.
        let mut zm = vec![
            254, 1, b'a', 1, 2, b'v', 0, 0, 254, 3, 0, 0, 0, b'x', b'y', b'z', 0, 0,
        ];
        zm.push(0xff);
        assert_eq!(
            pairs(&zm).unwrap(),
            vec![(&b"a"[..], &b"v"[..]), (&b"xyz"[..], &b""[..])]
        );
        assert!(pairs(&[0, 0xff]).is_err());
        assert!(pairs(&[1, 5, b'a', 0xff]).is_err());
        assert!(pairs(&[1, 1, b'a', 1, 9, b'v', 0xff]).is_err());
        assert!(pairs(&[2, 1, b'a', 1, 0, b'v', 0xff]).is_err());
        assert!(pairs(&[1, 1, b'a', 255, 0, b'v', 0xff]).is_err());
        assert!(pairs(&[1]).is_err());
    }
}
