//! Listpack: Redis 7's compact sequence, used for small hashes, sorted sets
//! and sets, and for the nodes of a quicklist.
//!
//! ```text
//! <total-bytes u32 LE> <num-elements u16 LE> <entry>* <0xFF>
//! entry = <encoding + data> <backlen>
//! ```
//!
//! Encodings (first byte):
//!
//! | bits        | meaning                                       |
//! |-------------|-----------------------------------------------|
//! | `0xxxxxxx`  | 7-bit unsigned integer                        |
//! | `10xxxxxx`  | string of up to 63 bytes follows              |
//! | `110xxxxx`  | 13-bit signed integer (with the next byte)    |
//! | `1110xxxx`  | string, 12-bit length (with the next byte)    |
//! | `0xF0`      | string, 32-bit LE length follows              |
//! | `0xF1..F4`  | 16/24/32/64-bit signed LE integer follows     |
//!
//! `backlen` is the length of encoding + data, written big-end first in
//! 7-bit groups with the high bit set on all but the first byte, so it can
//! be read backwards from the end of the entry. `num-elements` is 65535
//! when the count does not fit (then only walking the entries counts them).

use super::{blob_err, parse_canonical_i64, BlobResult, Entry};

const HDR: usize = 6;
const EOF: u8 = 0xFF;
const NUMELE_UNKNOWN: u16 = u16::MAX;

/// Size in bytes of the backlen of an entry whose encoding + data take `l`
/// bytes (the thresholds are Redis's, including its `< 16383`).
pub(crate) fn backlen_size(l: u64) -> usize {
    if l <= 127 {
        1
    } else if l < 16383 {
        2
    } else if l < 2_097_151 {
        3
    } else if l < 268_435_455 {
        4
    } else {
        5
    }
}

fn push_backlen(out: &mut Vec<u8>, l: u64) {
    let n = backlen_size(l);
    // First byte holds the highest 7-bit group and no continuation bit;
    // every later byte has the bit set.
    for i in (0..n).rev() {
        let group = ((l >> (7 * i)) & 127) as u8;
        if i == n - 1 {
            out.push(group);
        } else {
            out.push(group | 128);
        }
    }
}

/// Reads the backlen that ends at `end` (exclusive) backwards.
fn read_backlen(lp: &[u8], end: usize) -> Option<(u64, usize)> {
    let mut val = 0u64;
    let mut shift = 0;
    let mut p = end;
    loop {
        p = p.checked_sub(1)?;
        let b = *lp.get(p)?;
        val |= u64::from(b & 127) << shift;
        if b & 128 == 0 {
            return Some((val, end - p));
        }
        shift += 7;
        if shift > 28 {
            return None;
        }
    }
}

fn le(bytes: &[u8]) -> u64 {
    bytes
        .iter()
        .rev()
        .fold(0u64, |acc, &b| (acc << 8) | u64::from(b))
}

/// Sign-extends the low `bits` bits of `v`.
fn sext(v: u64, bits: u32) -> i64 {
    let shift = 64 - bits;
    ((v << shift) as i64) >> shift
}

/// Decodes and validates a whole listpack.
pub(crate) fn entries(lp: &[u8]) -> BlobResult<Vec<Entry<'_>>> {
    if lp.len() < HDR + 1 {
        return blob_err(0, "listpack shorter than its header");
    }
    let total = le(lp.get(0..4).unwrap_or(&[])) as usize;
    if total != lp.len() {
        return blob_err(0, "listpack total-bytes does not match its size");
    }
    if lp.last() != Some(&EOF) {
        return blob_err(lp.len() - 1, "listpack does not end with 0xFF");
    }
    let numele = le(lp.get(4..6).unwrap_or(&[])) as u16;
    let mut out = Vec::with_capacity(usize::from(numele).min(4096));
    let end = lp.len() - 1;
    let mut p = HDR;
    while p < end {
        let b0 = *lp.get(p).unwrap_or(&EOF);
        let need = |n: usize| -> BlobResult<&[u8]> {
            match lp.get(p + 1..p + 1 + n) {
                Some(s) if p + 1 + n <= end => Ok(s),
                _ => blob_err(p, "listpack entry past end"),
            }
        };
        let (entry, enc_len) = if b0 & 0x80 == 0 {
            (Entry::Int(i64::from(b0 & 0x7f)), 1)
        } else if b0 & 0xC0 == 0x80 {
            let n = usize::from(b0 & 0x3f);
            (Entry::Str(need(n)?), 1 + n)
        } else if b0 & 0xE0 == 0xC0 {
            let b1 = need(1)?;
            let v = (u64::from(b0 & 0x1f) << 8) | le(b1);
            (Entry::Int(sext(v, 13)), 2)
        } else if b0 & 0xF0 == 0xE0 {
            let b1 = need(1)?;
            let n = (usize::from(b0 & 0x0f) << 8) | le(b1) as usize;
            let s = lp
                .get(p + 2..p + 2 + n)
                .filter(|_| p + 2 + n <= end)
                .ok_or(super::BlobError {
                    pos: p,
                    msg: "listpack entry past end",
                })?;
            (Entry::Str(s), 2 + n)
        } else {
            match b0 {
                0xF0 => {
                    let n = le(need(4)?) as usize;
                    let s = p
                        .checked_add(5)
                        .and_then(|a| a.checked_add(n).map(|b| (a, b)))
                        .filter(|&(_, b)| b <= end)
                        .and_then(|(a, b)| lp.get(a..b))
                        .ok_or(super::BlobError {
                            pos: p,
                            msg: "listpack entry past end",
                        })?;
                    (Entry::Str(s), 5 + n)
                }
                0xF1 => (Entry::Int(sext(le(need(2)?), 16)), 3),
                0xF2 => (Entry::Int(sext(le(need(3)?), 24)), 4),
                0xF3 => (Entry::Int(sext(le(need(4)?), 32)), 5),
                0xF4 => (Entry::Int(le(need(8)?) as i64), 9),
                _ => return blob_err(p, "invalid listpack entry encoding"),
            }
        };
        let bl = backlen_size(enc_len as u64);
        let next = p + enc_len + bl;
        if next > end {
            return blob_err(p, "listpack entry backlen past end");
        }
        match read_backlen(lp, next) {
            Some((v, n)) if v == enc_len as u64 && n == bl => {}
            _ => return blob_err(next - bl, "listpack backlen does not match entry"),
        }
        out.push(entry);
        p = next;
    }
    if numele != NUMELE_UNKNOWN && usize::from(numele) != out.len() {
        return blob_err(4, "listpack element count does not match entries");
    }
    Ok(out)
}

/// Builds a listpack the way Redis's `lpAppend` does: strings that are
/// canonical integers are stored as integers.
#[derive(Debug, Default)]
pub(crate) struct Builder {
    buf: Vec<u8>,
    count: usize,
}

/// Bytes an element takes in a listpack (encoding, data and backlen).
pub(crate) fn entry_size(ele: &[u8]) -> usize {
    let enc = match parse_canonical_i64(ele) {
        Some(v) => int_enc_len(v),
        None => str_enc_len(ele.len()),
    };
    enc + backlen_size(enc as u64)
}

fn int_enc_len(v: i64) -> usize {
    match v {
        0..=127 => 1,
        -4096..=4095 => 2,
        -32768..=32767 => 3,
        -8_388_608..=8_388_607 => 4,
        -2_147_483_648..=2_147_483_647 => 5,
        _ => 9,
    }
}

fn str_enc_len(n: usize) -> usize {
    if n < 64 {
        1 + n
    } else if n < 4096 {
        2 + n
    } else {
        5 + n
    }
}

impl Builder {
    pub(crate) fn new() -> Self {
        let mut b = Builder::default();
        b.reset();
        b
    }

    /// Empties the builder, keeping its buffer.
    pub(crate) fn reset(&mut self) {
        self.buf.clear();
        self.buf.extend_from_slice(&[0; HDR]);
        self.count = 0;
    }

    pub(crate) fn len(&self) -> usize {
        self.count
    }

    pub(crate) fn push(&mut self, ele: &[u8]) {
        match parse_canonical_i64(ele) {
            Some(v) => self.push_int(v),
            None => self.push_str(ele),
        }
    }

    pub(crate) fn push_int(&mut self, v: i64) {
        let start = self.buf.len();
        let b = &mut self.buf;
        match v {
            0..=127 => b.push(v as u8),
            -4096..=4095 => {
                let u = (v as u64) & 0x1fff;
                b.push(0xC0 | (u >> 8) as u8);
                b.push(u as u8);
            }
            -32768..=32767 => {
                b.push(0xF1);
                b.extend_from_slice(&(v as i16).to_le_bytes());
            }
            -8_388_608..=8_388_607 => {
                b.push(0xF2);
                b.extend_from_slice(&(v as i32).to_le_bytes()[..3]);
            }
            -2_147_483_648..=2_147_483_647 => {
                b.push(0xF3);
                b.extend_from_slice(&(v as i32).to_le_bytes());
            }
            _ => {
                b.push(0xF4);
                b.extend_from_slice(&v.to_le_bytes());
            }
        }
        let l = (self.buf.len() - start) as u64;
        push_backlen(&mut self.buf, l);
        self.count += 1;
    }

    pub(crate) fn push_str(&mut self, s: &[u8]) {
        let start = self.buf.len();
        let n = s.len();
        if n < 64 {
            self.buf.push(0x80 | n as u8);
        } else if n < 4096 {
            self.buf.push(0xE0 | (n >> 8) as u8);
            self.buf.push(n as u8);
        } else {
            self.buf.push(0xF0);
            self.buf.extend_from_slice(&(n as u32).to_le_bytes());
        }
        self.buf.extend_from_slice(s);
        let l = (self.buf.len() - start) as u64;
        push_backlen(&mut self.buf, l);
        self.count += 1;
    }

    /// Writes the header and end byte and returns the listpack bytes.
    pub(crate) fn finish(&mut self) -> &[u8] {
        self.buf.push(EOF);
        let total = self.buf.len() as u32;
        let num = u16::try_from(self.count)
            .ok()
            .filter(|&n| n != NUMELE_UNKNOWN)
            .unwrap_or(NUMELE_UNKNOWN);
        if let Some(h) = self.buf.get_mut(0..4) {
            h.copy_from_slice(&total.to_le_bytes());
        }
        if let Some(h) = self.buf.get_mut(4..6) {
            h.copy_from_slice(&num.to_le_bytes());
        }
        &self.buf
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn redis_written_zset_listpack() {
        // The listpack of key "zset" in Redis's tests/assets/zset-ziplist.rdb
        // after conversion by Redis 7: one/1 two/2. Hand-built from the spec:
        // header (total 24, 4 elements), "one" (0x83 + 3 bytes, backlen 4),
        // 1 (7-bit int, backlen 1), "two", 2, end.
        let lp = [
            24, 0, 0, 0, 4, 0, 0x83, b'o', b'n', b'e', 4, 0x01, 1, 0x83, b't', b'w', b'o', 4, 0x02,
            1, 0xFF,
        ];
        let mut fixed = lp.to_vec();
        fixed[0] = fixed.len() as u8;
        let e = entries(&fixed).unwrap();
        assert_eq!(
            e,
            vec![
                Entry::Str(b"one"),
                Entry::Int(1),
                Entry::Str(b"two"),
                Entry::Int(2)
            ]
        );
    }

    #[test]
    fn all_encodings_round_trip() {
        let long = vec![b'x'; 5000];
        let mid = vec![b'y'; 300];
        let items: Vec<Vec<u8>> = vec![
            b"0".to_vec(),
            b"127".to_vec(),
            b"128".to_vec(),
            b"-1".to_vec(),
            b"-4096".to_vec(),
            b"4095".to_vec(),
            b"-4097".to_vec(),
            b"32767".to_vec(),
            b"-32768".to_vec(),
            b"8388607".to_vec(),
            b"-8388608".to_vec(),
            b"2147483647".to_vec(),
            b"-2147483648".to_vec(),
            b"2147483648".to_vec(),
            i64::MIN.to_string().into_bytes(),
            i64::MAX.to_string().into_bytes(),
            b"".to_vec(),
            b"abc".to_vec(),
            b"007".to_vec(),
            mid,
            long,
        ];
        let mut b = Builder::new();
        let mut expect_size = 7;
        for it in &items {
            b.push(it);
            expect_size += entry_size(it);
        }
        let lp = b.finish().to_vec();
        assert_eq!(lp.len(), expect_size);
        let got: Vec<Vec<u8>> = entries(&lp)
            .unwrap()
            .into_iter()
            .map(|e| e.to_bytes())
            .collect();
        assert_eq!(got, items);
    }

    #[test]
    fn backlen_boundaries() {
        for l in [
            0u64,
            127,
            128,
            16382,
            16383,
            2_097_150,
            2_097_151,
            268_435_454,
            268_435_455,
            1 << 31,
        ] {
            let mut v = Vec::new();
            push_backlen(&mut v, l);
            assert_eq!(v.len(), backlen_size(l));
            assert_eq!(read_backlen(&v, v.len()), Some((l, v.len())), "{l}");
        }
    }

    #[test]
    fn rejects_corruption() {
        let mut b = Builder::new();
        b.push(b"hello");
        b.push(b"12");
        let good = b.finish().to_vec();
        assert!(entries(&good).is_ok());
        // wrong count
        let mut bad = good.clone();
        bad[4] = 3;
        assert!(entries(&bad).is_err());
        // unknown count is fine
        bad[4] = 0xff;
        bad[5] = 0xff;
        assert!(entries(&bad).is_ok());
        // wrong total
        let mut bad = good.clone();
        bad[0] += 1;
        assert!(entries(&bad).is_err());
        // broken backlen
        let mut bad = good.clone();
        bad[12] = 9;
        assert!(entries(&bad).is_err());
        // string length past end
        let mut bad = good.clone();
        bad[6] = 0x80 | 60;
        assert!(entries(&bad).is_err());
        // invalid encoding byte
        let mut bad = good.clone();
        bad[6] = 0xF5;
        assert!(entries(&bad).is_err());
        assert!(entries(&[7, 0, 0, 0, 0, 0, 0xFF]).unwrap().is_empty());
        assert!(entries(&[7, 0, 0, 0, 0, 0]).is_err());
    }

    proptest! {
        #[test]
        fn never_panics(data in proptest::collection::vec(any::<u8>(), 0..64)) {
            let mut d = data;
            if d.len() >= 7 {
                let n = d.len() as u32;
                d[..4].copy_from_slice(&n.to_le_bytes());
                let last = d.len() - 1;
                d[last] = 0xFF;
            }
            let _ = entries(&d);
        }
    }
}
