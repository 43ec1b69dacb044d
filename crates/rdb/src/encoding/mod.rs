//! The compact blobs Redis stores inside RDB strings: intset, ziplist,
//! listpack and zipmap (quicklists are sequences of these).
//!
//! Each decoder takes the whole blob as a slice and validates all of it
//! before returning anything: header sizes against the slice length, every
//! entry inside the bounds, the back-lengths (ziplist `prevlen`, listpack
//! `backlen`) against the entries they describe, and the element count in
//! the header against the entries found. That is what Redis calls "deep
//! sanitization"; here it is always on, since a blob is at most one value.
//!
//! Errors are a small [`BlobError`] (byte position inside the blob and a
//! fixed message); the reader adds the file offset and the key.

pub(crate) mod intset;
pub(crate) mod listpack;
pub(crate) mod quicklist;
pub(crate) mod ziplist;
pub(crate) mod zipmap;

/// A malformed blob: where inside it, and what.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct BlobError {
    pub(crate) pos: usize,
    pub(crate) msg: &'static str,
}

pub(crate) type BlobResult<T> = Result<T, BlobError>;

pub(crate) fn blob_err<T>(pos: usize, msg: &'static str) -> BlobResult<T> {
    Err(BlobError { pos, msg })
}

/// One element of a ziplist or listpack: strings are borrowed from the
/// blob, integers are decoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Entry<'a> {
    Str(&'a [u8]),
    Int(i64),
}

impl Entry<'_> {
    /// The element as Redis shows it: integers in decimal.
    pub(crate) fn to_bytes(self) -> Vec<u8> {
        match self {
            Entry::Str(s) => s.to_vec(),
            Entry::Int(v) => v.to_string().into_bytes(),
        }
    }
}

/// Parses `s` as a signed 64-bit integer only if it is in canonical form
/// (no sign on zero, no leading zeros, no `+`, no spaces), as Redis's
/// `string2ll`/`lpStringToInt64` do; only such strings may be stored as
/// integers, so that they read back byte for byte.
pub(crate) fn parse_canonical_i64(s: &[u8]) -> Option<i64> {
    if s.is_empty() || s.len() > 20 {
        return None;
    }
    if s == b"0" {
        return Some(0);
    }
    let (neg, digits) = match s.split_first() {
        Some((b'-', rest)) => (true, rest),
        _ => (false, s),
    };
    match digits.first() {
        Some(b'1'..=b'9') => {}
        _ => return None,
    }
    let mut v: u64 = 0;
    for &d in digits {
        if !d.is_ascii_digit() {
            return None;
        }
        v = v.checked_mul(10)?.checked_add(u64::from(d - b'0'))?;
    }
    if neg {
        if v > (i64::MAX as u64) + 1 {
            return None;
        }
        Some((v as i64).wrapping_neg())
    } else {
        i64::try_from(v).ok()
    }
}

/// Parses a score stored as text (ZSET v1 records, ziplist and listpack
/// entries), accepting what C's `strtod` would for Redis-written data:
/// decimal and exponent forms, `inf`, `-inf`, `nan`.
pub(crate) fn parse_score(s: &[u8]) -> Option<f64> {
    let text = std::str::from_utf8(s).ok()?;
    let t = text.trim_start();
    match t.to_ascii_lowercase().as_str() {
        "inf" | "+inf" | "infinity" | "+infinity" => return Some(f64::INFINITY),
        "-inf" | "-infinity" => return Some(f64::NEG_INFINITY),
        "nan" | "+nan" | "-nan" => return Some(f64::NAN),
        _ => {}
    }
    t.parse::<f64>().ok()
}

/// Formats a score as text that parses back to the same double: integral
/// values as integers (so listpacks store them as integers, as Redis's
/// `d2string` + `lpStringToInt64` do), others in the shortest round-trip
/// form.
pub(crate) fn format_score(v: f64) -> String {
    if v.is_nan() {
        return "nan".to_string();
    }
    if v.is_infinite() {
        return if v > 0.0 { "inf" } else { "-inf" }.to_string();
    }
    if v == 0.0 {
        return if v.is_sign_negative() { "-0" } else { "0" }.to_string();
    }
    if v.fract() == 0.0 && v.abs() < 1e17 {
        return format!("{}", v as i64);
    }
    let plain = format!("{v}");
    let exp = format!("{v:e}");
    if exp.len() < plain.len() {
        exp
    } else {
        plain
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn canonical_integers() {
        for (s, v) in [
            ("0", Some(0)),
            ("-1", Some(-1)),
            ("123", Some(123)),
            ("9223372036854775807", Some(i64::MAX)),
            ("-9223372036854775808", Some(i64::MIN)),
            ("9223372036854775808", None),
            ("-9223372036854775809", None),
            ("-0", None),
            ("01", None),
            ("+1", None),
            (" 1", None),
            ("1 ", None),
            ("", None),
            ("-", None),
            ("1a", None),
        ] {
            assert_eq!(parse_canonical_i64(s.as_bytes()), v, "{s}");
        }
    }

    #[test]
    fn scores_round_trip() {
        for v in [
            0.0,
            -0.0,
            1.0,
            -1.5,
            0.1,
            1e300,
            -1e-300,
            f64::MAX,
            f64::MIN_POSITIVE,
            123456789.0,
            1e17,
            f64::INFINITY,
            f64::NEG_INFINITY,
        ] {
            let s = format_score(v);
            let back = parse_score(s.as_bytes()).unwrap();
            assert_eq!(back.to_bits(), v.to_bits(), "{v} -> {s}");
        }
        assert!(parse_score(b"nan").unwrap().is_nan());
        assert_eq!(format_score(3.0), "3");
        assert_eq!(parse_score(b"1.5e3"), Some(1500.0));
        assert_eq!(parse_score(b"x"), None);
    }
}
