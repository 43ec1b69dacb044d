//! Ziplist: the compact sequence of Redis 2.6–6.2, found in RDB files up to
//! version 9 (list, hash and sorted-set ziplists, and quicklist v1 nodes).
//!
//! ```text
//! <zlbytes u32 LE> <zltail u32 LE> <zllen u16 LE> <entry>* <0xFF>
//! entry = <prevlen> <encoding> <data>
//! prevlen = 1 byte (< 254) | 0xFE <u32 LE>
//! ```
//!
//! Encodings (first byte):
//!
//! | bits                 | meaning                                  |
//! |----------------------|------------------------------------------|
//! | `00pppppp`           | string, 6-bit length                     |
//! | `01pppppp qqqqqqqq`  | string, 14-bit big-endian length         |
//! | `10000000` + 4 bytes | string, 32-bit big-endian length         |
//! | `0xC0`               | int16 LE follows                         |
//! | `0xD0`               | int32 LE follows                         |
//! | `0xE0`               | int64 LE follows                         |
//! | `0xF0`               | int24 LE follows                         |
//! | `0xFE`               | int8 follows                             |
//! | `0xF1..=0xFD`        | immediate 0..=12 (low nibble − 1)        |
//!
//! `zltail` is the offset of the last entry; `zllen` is 65535 when the count
//! does not fit.

use super::{blob_err, BlobResult, Entry};

const HDR: usize = 10;
const END: u8 = 0xFF;

fn le(bytes: &[u8]) -> u64 {
    bytes
        .iter()
        .rev()
        .fold(0u64, |acc, &b| (acc << 8) | u64::from(b))
}

fn be(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0u64, |acc, &b| (acc << 8) | u64::from(b))
}

/// Decodes and validates a whole ziplist: sizes, bounds, every `prevlen`,
/// `zltail` and the count.
pub(crate) fn entries(zl: &[u8]) -> BlobResult<Vec<Entry<'_>>> {
    if zl.len() < HDR + 1 {
        return blob_err(0, "ziplist shorter than its header");
    }
    if le(zl.get(0..4).unwrap_or(&[])) as usize != zl.len() {
        return blob_err(0, "ziplist zlbytes does not match its size");
    }
    let last = zl.len() - 1;
    if zl.get(last) != Some(&END) {
        return blob_err(last, "ziplist does not end with 0xFF");
    }
    let tail = le(zl.get(4..8).unwrap_or(&[])) as usize;
    if tail > last {
        return blob_err(4, "ziplist zltail past end");
    }
    let count = le(zl.get(8..10).unwrap_or(&[])) as u16;
    let mut out = Vec::with_capacity(usize::from(count).min(4096));
    let mut p = HDR;
    let mut prev_size = 0usize;
    let mut prev_start = None;
    while zl.get(p) != Some(&END) {
        // `p` is before `last` here: `zl[last]` is END.
        let field = |from: usize, n: usize| -> BlobResult<&[u8]> {
            match from.checked_add(n) {
                Some(to) if to <= last => Ok(zl.get(from..to).unwrap_or(&[])),
                _ => blob_err(p, "ziplist entry past end"),
            }
        };
        let (prevlen, mut q) = match zl.get(p) {
            Some(&0xFE) => (le(field(p + 1, 4)?) as usize, p + 5),
            Some(&b) => (usize::from(b), p + 1),
            None => return blob_err(p, "ziplist entry past end"),
        };
        if prevlen != prev_size {
            return blob_err(p, "ziplist prevlen does not match previous entry");
        }
        let enc = *field(q, 1)?.first().unwrap_or(&END);
        q += 1;
        let entry = match enc >> 6 {
            0 => {
                let n = usize::from(enc & 0x3f);
                let s = field(q, n)?;
                q += n;
                Entry::Str(s)
            }
            1 => {
                let n = (usize::from(enc & 0x3f) << 8) | be(field(q, 1)?) as usize;
                q += 1;
                let s = field(q, n)?;
                q += n;
                Entry::Str(s)
            }
            2 => {
                if enc != 0x80 {
                    return blob_err(q - 1, "invalid ziplist string encoding");
                }
                let n = be(field(q, 4)?) as usize;
                q += 4;
                let s = field(q, n)?;
                q += n;
                Entry::Str(s)
            }
            _ => {
                let (v, n) = match enc {
                    0xC0 => (i64::from(le(field(q, 2)?) as u16 as i16), 2),
                    0xD0 => (i64::from(le(field(q, 4)?) as u32 as i32), 4),
                    0xE0 => (le(field(q, 8)?) as i64, 8),
                    0xF0 => {
                        let raw = le(field(q, 3)?) as u32;
                        (i64::from(((raw << 8) as i32) >> 8), 3)
                    }
                    0xFE => (i64::from(le(field(q, 1)?) as u8 as i8), 1),
                    0xF1..=0xFD => (i64::from(enc & 0x0f) - 1, 0),
                    _ => return blob_err(q - 1, "invalid ziplist integer encoding"),
                };
                q += n;
                Entry::Int(v)
            }
        };
        if q > last {
            return blob_err(p, "ziplist entry past end");
        }
        out.push(entry);
        prev_size = q - p;
        prev_start = Some(p);
        p = q;
    }
    if p != last {
        return blob_err(p, "ziplist end marker before its last byte");
    }
    if let Some(s) = prev_start {
        if s != tail {
            return blob_err(4, "ziplist zltail does not point at the last entry");
        }
    }
    if count != u16::MAX && usize::from(count) != out.len() {
        return blob_err(8, "ziplist zllen does not match entries");
    }
    Ok(out)
}

/// Builds a ziplist (used by tests to make RDB v1–v9 data; relica never
/// writes ziplists).
#[cfg(test)]
pub(crate) fn encode(items: &[&[u8]]) -> Vec<u8> {
    let mut body = Vec::new();
    let mut prev = 0usize;
    let mut tail = HDR;
    for it in items {
        let start = HDR + body.len();
        tail = start;
        if prev < 254 {
            body.push(prev as u8);
        } else {
            body.push(0xFE);
            body.extend_from_slice(&(prev as u32).to_le_bytes());
        }
        match super::parse_canonical_i64(it) {
            Some(v @ 0..=12) => body.push(0xF1 + v as u8),
            Some(v) if i8::try_from(v).is_ok() => {
                body.push(0xFE);
                body.push(v as i8 as u8);
            }
            Some(v) if i16::try_from(v).is_ok() => {
                body.push(0xC0);
                body.extend_from_slice(&(v as i16).to_le_bytes());
            }
            Some(v) if (-(1 << 23)..(1 << 23)).contains(&v) => {
                body.push(0xF0);
                body.extend_from_slice(&(v as i32).to_le_bytes()[..3]);
            }
            Some(v) if i32::try_from(v).is_ok() => {
                body.push(0xD0);
                body.extend_from_slice(&(v as i32).to_le_bytes());
            }
            Some(v) => {
                body.push(0xE0);
                body.extend_from_slice(&v.to_le_bytes());
            }
            None => {
                let n = it.len();
                if n < 64 {
                    body.push(n as u8);
                } else if n < 16384 {
                    body.push(0x40 | (n >> 8) as u8);
                    body.push(n as u8);
                } else {
                    body.push(0x80);
                    body.extend_from_slice(&(n as u32).to_be_bytes());
                }
                body.extend_from_slice(it);
            }
        }
        prev = HDR + body.len() - start;
    }
    let total = HDR + body.len() + 1;
    let mut zl = Vec::with_capacity(total);
    zl.extend_from_slice(&(total as u32).to_le_bytes());
    zl.extend_from_slice(&(tail as u32).to_le_bytes());
    zl.extend_from_slice(&(items.len().min(65535) as u16).to_le_bytes());
    zl.extend_from_slice(&body);
    zl.push(END);
    zl
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn redis_written_hash_ziplist() {
        // Key "hash" of Redis's tests/assets/hash-ziplist.rdb (RDB 9):
        // zlbytes 27, zltail 22, zllen 4, then f1 v1 f2 v2 as 6-bit strings
        // each preceded by prevlen (0, then 4).
        let zl = [
            0x1b, 0, 0, 0, 0x16, 0, 0, 0, 4, 0, 0, 2, b'f', b'1', 4, 2, b'v', b'1', 4, 2, b'f',
            b'2', 4, 2, b'v', b'2', 0xff,
        ];
        let e = entries(&zl).unwrap();
        assert_eq!(
            e,
            vec![
                Entry::Str(b"f1"),
                Entry::Str(b"v1"),
                Entry::Str(b"f2"),
                Entry::Str(b"v2")
            ]
        );
        assert_eq!(encode(&[b"f1", b"v1", b"f2", b"v2"]), zl);
    }

    #[test]
    fn redis_written_list_ziplist() {
        // Node of key "list" in tests/assets/list-quicklist.rdb: one entry,
        // the immediate integer 7 (0xF8).
        let zl = [0x0d, 0, 0, 0, 0x0a, 0, 0, 0, 1, 0, 0, 0xf8, 0xff];
        assert_eq!(entries(&zl).unwrap(), vec![Entry::Int(7)]);
    }

    #[test]
    fn all_encodings_round_trip() {
        let big = vec![b'z'; 20000];
        let mid = vec![b'm'; 300];
        let items: Vec<&[u8]> = vec![
            b"0",
            b"12",
            b"13",
            b"-128",
            b"127",
            b"-32768",
            b"32767",
            b"8388607",
            b"-8388608",
            b"2147483647",
            b"-2147483648",
            b"9223372036854775807",
            b"",
            b"a",
            &mid,
            &big,
            b"after-big",
        ];
        let zl = encode(&items);
        let got: Vec<Vec<u8>> = entries(&zl)
            .unwrap()
            .into_iter()
            .map(|e| e.to_bytes())
            .collect();
        let want: Vec<Vec<u8>> = items.iter().map(|s| s.to_vec()).collect();
        assert_eq!(got, want);
    }

    #[test]
    fn rejects_corruption() {
        let good = encode(&[b"abc", b"5", b"hello"]);
        assert!(entries(&good).is_ok());
        for (i, v) in [
            (0usize, 99u8),
            (4, 0),
            (8, 9),
            (11, 0x3f),
            (15, 0xF0),
            (16, 7),
        ] {
            let mut bad = good.clone();
            bad[i] = v;
            assert!(entries(&bad).is_err(), "byte {i} = {v}");
        }
        assert!(entries(&[11, 0, 0, 0, 10, 0, 0, 0, 0, 0, 0xff])
            .unwrap()
            .is_empty());
    }

    proptest! {
        #[test]
        fn never_panics(data in proptest::collection::vec(any::<u8>(), 0..64)) {
            let mut d = data;
            if d.len() >= 11 {
                let n = d.len() as u32;
                d[..4].copy_from_slice(&n.to_le_bytes());
                let last = d.len() - 1;
                d[last] = 0xFF;
            }
            let _ = entries(&d);
        }
    }
}
