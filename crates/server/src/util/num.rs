//! Redis's number rules: which strings are integers or floats, and how
//! doubles are printed.
//!
//! Clients observe these byte for byte: `SET k 007` followed by `INCR k`
//! must fail, `ZSCORE` must print `1.1000000000000001`, `INCRBYFLOAT` must
//! print `5.4`. Rust's `str::parse` and `Display` disagree with C's
//! `strtoll`/`strtod`/`printf` in many corners, so this module spells out
//! the Redis 7.0 rules (`util.c`: `string2ll`, `string2d`, `d2string`,
//! `ld2string`; `networking.c`: `addReplyDouble`) and checks the printing
//! against a table produced by glibc's `printf`.

/// Longest decimal string [`parse_i64`] accepts; Redis's `LONG_STR_SIZE`
/// (21) minus the terminating NUL.
pub const MAX_I64_CHARS: usize = 20;

/// Parses a canonical decimal `i64`, exactly like Redis's `string2ll`.
///
/// Accepted: `0`, or an optional `-` followed by a digit `1`-`9` and more
/// digits, at most 20 bytes in all and within `i64` range. Rejected: empty
/// input, `+`, leading zeros, `-0`, spaces anywhere, overflow. This is the
/// rule that decides whether a string "is an integer" (INCR, intset
/// membership, integer-encoded strings), so it must stay this strict.
pub fn parse_i64(s: &[u8]) -> Option<i64> {
    if s.is_empty() || s.len() > MAX_I64_CHARS {
        return None;
    }
    if s == b"0" {
        return Some(0);
    }
    let (negative, digits) = match s.split_first() {
        Some((b'-', rest)) => (true, rest),
        _ => (false, s),
    };
    match digits.first() {
        Some(b'1'..=b'9') => {}
        _ => return None,
    }
    let mut v: u64 = 0;
    for &c in digits {
        if !c.is_ascii_digit() {
            return None;
        }
        v = v.checked_mul(10)?.checked_add(u64::from(c - b'0'))?;
    }
    if negative {
        if v > i64::MIN.unsigned_abs() {
            return None;
        }
        // `v <= 2^63`, so the wrapping negation lands exactly on the value.
        Some((v as i64).wrapping_neg())
    } else {
        i64::try_from(v).ok()
    }
}

/// C's `isspace` in the "C" locale.
pub(crate) fn is_c_space(c: u8) -> bool {
    matches!(c, b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r')
}

/// The result of running C's `strtod` over a byte string.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Strtod {
    pub(crate) value: f64,
    /// Bytes consumed (`eptr - s`); 0 when no conversion was performed.
    pub(crate) consumed: usize,
    /// `errno == ERANGE` with a result of ±HUGE_VAL or zero: the literal
    /// overflowed to infinity or underflowed to zero.
    range_error: bool,
    /// A non-zero result below the normal range that is not exactly the
    /// literal: glibc sets `errno = ERANGE` for it too (SORT refuses it;
    /// `string2d` does not look).
    tiny: bool,
}

/// Emulates glibc's `strtod`: leading white space, an optional sign, then
/// `inf`/`infinity`/`nan[(…)]` (any case; `-nan` is a NaN with the sign
/// bit), a hexadecimal float (`0x1.8p3`) or a decimal one (`1.5e-3`, `.5`,
/// `5.`). Results are correctly rounded, subnormals included. Stops at the
/// first byte that cannot continue the number; a NUL byte therefore ends
/// the string, as in C.
pub(crate) fn strtod(s: &[u8]) -> Strtod {
    let none = Strtod {
        value: 0.0,
        consumed: 0,
        range_error: false,
        tiny: false,
    };
    let mut i = 0;
    while s.get(i).copied().is_some_and(is_c_space) {
        i += 1;
    }
    let negative = match s.get(i) {
        Some(b'-') => {
            i += 1;
            true
        }
        Some(b'+') => {
            i += 1;
            false
        }
        _ => false,
    };
    let signed = |v: f64| if negative { -v } else { v };
    let rest = s.get(i..).unwrap_or_default();
    let starts_with_ci = |word: &[u8]| {
        rest.len() >= word.len()
            && rest
                .iter()
                .zip(word)
                .all(|(a, b)| a.eq_ignore_ascii_case(b))
    };
    if starts_with_ci(b"infinity") {
        return Strtod {
            value: signed(f64::INFINITY),
            consumed: i + 8,
            range_error: false,
            tiny: false,
        };
    }
    if starts_with_ci(b"inf") {
        return Strtod {
            value: signed(f64::INFINITY),
            consumed: i + 3,
            range_error: false,
            tiny: false,
        };
    }
    if starts_with_ci(b"nan") {
        let mut end = i + 3;
        // "nan(n-char-sequence)" is consumed only when the ')' is there.
        if s.get(end) == Some(&b'(') {
            let mut j = end + 1;
            while s
                .get(j)
                .is_some_and(|c| c.is_ascii_alphanumeric() || *c == b'_')
            {
                j += 1;
            }
            if s.get(j) == Some(&b')') {
                end = j + 1;
            }
        }
        return Strtod {
            value: signed(f64::NAN),
            consumed: end,
            range_error: false,
            tiny: false,
        };
    }
    if rest.len() >= 2 && rest[0] == b'0' && (rest[1] | 0x20) == b'x' {
        if let Some((value, len, range_error, tiny)) = hex_float(&rest[2..]) {
            return Strtod {
                value: signed(value),
                consumed: i + 2 + len,
                range_error,
                tiny,
            };
        }
        // "0x" without hex digits: only the "0" is a number.
        return Strtod {
            value: signed(0.0),
            consumed: i + 1,
            range_error: false,
            tiny: false,
        };
    }
    // Decimal: digits [. digits] [e [sign] digits], at least one digit.
    let start = i;
    let mut j = i;
    let mut nonzero_digit = false;
    let mut ndigits = 0;
    while let Some(c) = s.get(j).filter(|c| c.is_ascii_digit()) {
        nonzero_digit |= *c != b'0';
        ndigits += 1;
        j += 1;
    }
    if s.get(j) == Some(&b'.') {
        j += 1;
        while let Some(c) = s.get(j).filter(|c| c.is_ascii_digit()) {
            nonzero_digit |= *c != b'0';
            ndigits += 1;
            j += 1;
        }
    }
    if ndigits == 0 {
        return none;
    }
    if matches!(s.get(j), Some(b'e' | b'E')) {
        let mut k = j + 1;
        if matches!(s.get(k), Some(b'+' | b'-')) {
            k += 1;
        }
        if s.get(k).is_some_and(u8::is_ascii_digit) {
            while s.get(k).is_some_and(u8::is_ascii_digit) {
                k += 1;
            }
            j = k;
        }
    }
    // The span is plain ASCII of the form Rust's parser accepts, and Rust
    // rounds correctly, as glibc does.
    let value = std::str::from_utf8(&s[start..j])
        .ok()
        .and_then(|t| t.parse::<f64>().ok())
        .unwrap_or(0.0);
    let range_error = value.is_infinite() || (value == 0.0 && nonzero_digit);
    Strtod {
        value: signed(value),
        consumed: j,
        range_error,
        // A decimal literal is exactly a subnormal double only when it
        // spells all of its (hundreds of) digits; taken as inexact.
        tiny: value != 0.0 && !value.is_normal() && value.is_finite(),
    }
}

/// Parses the part of a hexadecimal float after "0x": hex digits with an
/// optional point, then an optional binary exponent `p[+-]digits`. Returns
/// (magnitude, bytes consumed, range error, inexact subnormal), or `None`
/// without any digit.
fn hex_float(s: &[u8]) -> Option<(f64, usize, bool, bool)> {
    // The first 16 significant hex digits, exactly; any non-zero digit after
    // them only matters for rounding (`sticky`).
    let mut mantissa: u64 = 0;
    let mut kept = 0;
    let mut sticky = false;
    let mut exp: i64 = 0;
    let mut ndigits = 0;
    let mut seen_point = false;
    let mut j = 0;
    loop {
        match s.get(j) {
            Some(&c) if c.is_ascii_hexdigit() => {
                let d = u64::from(char::from(c).to_digit(16).unwrap_or(0));
                ndigits += 1;
                if mantissa == 0 && d == 0 {
                    // Leading zeros only move the point.
                    if seen_point {
                        exp -= 4;
                    }
                } else if kept < 16 {
                    mantissa = (mantissa << 4) | d;
                    kept += 1;
                    if seen_point {
                        exp -= 4;
                    }
                } else {
                    sticky |= d != 0;
                    if !seen_point {
                        exp += 4;
                    }
                }
            }
            Some(b'.') if !seen_point => seen_point = true,
            _ => break,
        }
        j += 1;
    }
    if ndigits == 0 {
        return None;
    }
    if matches!(s.get(j), Some(b'p' | b'P')) {
        let mut k = j + 1;
        let neg = match s.get(k) {
            Some(b'-') => {
                k += 1;
                true
            }
            Some(b'+') => {
                k += 1;
                false
            }
            _ => false,
        };
        if s.get(k).is_some_and(u8::is_ascii_digit) {
            let mut e: i64 = 0;
            while let Some(c) = s.get(k).filter(|c| c.is_ascii_digit()) {
                e = (e * 10 + i64::from(c - b'0')).min(1 << 40);
                k += 1;
            }
            exp += if neg { -e } else { e };
            j = k;
        }
    }
    let value = scale_binary(mantissa, sticky, exp);
    let range_error = value.is_infinite() || (value == 0.0 && mantissa != 0);
    // Below the normal range the last place is 2^-1074: bits under it
    // are lost.
    let lost_bits = match u32::try_from(-(exp + 1074)) {
        Ok(0) | Err(_) => false,
        Ok(n) if n >= 64 => mantissa != 0,
        Ok(n) => mantissa & ((1u64 << n) - 1) != 0,
    };
    let tiny = value != 0.0 && !value.is_normal() && value.is_finite() && (sticky || lost_bits);
    Some((value, j, range_error, tiny))
}

/// `mantissa` (plus a sticky bit for less significant non-zero digits)
/// times 2^`exp`, rounded once to the nearest double, ties to even, as
/// glibc rounds (subnormal results included).
fn scale_binary(mantissa: u64, sticky: bool, exp: i64) -> f64 {
    if mantissa == 0 {
        return 0.0;
    }
    let shift = mantissa.leading_zeros();
    let mantissa = mantissa << shift;
    // The value is mantissa * 2^(exp - shift) with the top bit set, so the
    // leading bit is worth 2^top.
    let top = exp - i64::from(shift) + 63;
    if top > 1023 {
        return f64::INFINITY;
    }
    // Bits the double can hold at this magnitude: 53, fewer when subnormal.
    let bits = if top >= -1022 { 53 } else { 53 - (-1022 - top) };
    if bits <= 0 {
        // Below half the smallest subnormal, or exactly half of it (a tie,
        // to even: zero) unless something lies beyond.
        let above_half = bits == 0 && (mantissa > 1 << 63 || sticky);
        return if above_half { f64::from_bits(1) } else { 0.0 };
    }
    let drop = 64 - bits as u32;
    let mut kept = mantissa >> drop;
    let rest = mantissa & ((1u64 << drop) - 1);
    let half = 1u64 << (drop - 1);
    if rest > half || (rest == half && (sticky || kept & 1 == 1)) {
        kept += 1;
    }
    if top >= -1022 {
        let mut top = top;
        if kept == 1 << 53 {
            kept >>= 1;
            top += 1;
            if top > 1023 {
                return f64::INFINITY;
            }
        }
        f64::from_bits((((top + 1023) as u64) << 52) | (kept & ((1 << 52) - 1)))
    } else {
        // Subnormal: the kept bits are the representation (a carry into
        // bit 52 is the smallest normal, as it should be).
        f64::from_bits(kept)
    }
}

/// Parses a double exactly like Redis's `string2d` (used by
/// `getDoubleFromObject`: ZADD scores, ZINCRBY, INCRBYFLOAT operands…).
///
/// strtod syntax (`1.5`, `+1.5`, `.5`, `5.`, `1e-3`, `inf`, `-Infinity`,
/// `0x1p3`), but the whole input must be consumed, it must not start with
/// white space, and NaN, overflow (`1e400`) and underflow to zero (`1e-400`)
/// are rejected.
pub fn parse_f64(s: &[u8]) -> Option<f64> {
    match s.first() {
        None => return None,
        Some(&c) if is_c_space(c) => return None,
        _ => {}
    }
    let r = strtod(s);
    if r.consumed != s.len() || r.range_error || r.value.is_nan() {
        return None;
    }
    Some(r.value)
}

/// Parses one side of a score range the way Redis's `zslParseRange` does:
/// an optional `(` (exclusive) and then whatever `strtod` accepts up to a NUL
/// byte. Returns `(value, exclusive)`.
///
/// This is looser than [`parse_f64`], as in Redis: leading white space is
/// skipped, an empty string is 0, and overflow gives ±inf. NaN is refused.
/// Callers reply [`crate::types::zset::ERR_MIN_MAX_NOT_FLOAT`] on `None`.
pub fn parse_strtod_bound(s: &[u8]) -> Option<(f64, bool)> {
    let (exclusive, body) = match s.split_first() {
        Some((b'(', rest)) => (true, rest),
        _ => (false, s),
    };
    // C sees the string only up to its first NUL.
    let body = match body.iter().position(|&c| c == 0) {
        Some(n) => &body[..n],
        None => body,
    };
    let r = strtod(body);
    // `eptr[0] != '\0'`: when nothing converts, eptr is the start, so only
    // an empty string passes (as 0).
    if r.consumed != body.len() || r.value.is_nan() {
        return None;
    }
    Some((r.value, exclusive))
}

/// Parses a weight the way SORT does (`strtod` then `eptr[0] != '\0' ||
/// errno == ERANGE || isnan`): C sees the string up to its first NUL,
/// leading white space is skipped, an empty string is 0, and NaN and every
/// range error (overflow, underflow, an inexact subnormal) are refused.
pub fn parse_sort_weight(s: &[u8]) -> Option<f64> {
    let body = crate::util::collate::c_str(s);
    let r = strtod(body);
    if r.consumed != body.len() || r.range_error || r.tiny || r.value.is_nan() {
        return None;
    }
    Some(r.value)
}

/// Formats like C's `printf("%.17g", x)`, which Redis 7.0's
/// `addReplyDouble` uses for every double reply (ZSCORE, ZADD INCR…).
///
/// `1.1` → `1.1000000000000001`, `3.0` → `3`, `1e20` → `1e+20`,
/// `-0.0` → `-0`; infinities are `inf`/`-inf` as Redis writes them itself.
pub fn fmt_g17(x: f64) -> String {
    fmt_g(x, 17)
}

/// C's `printf("%.<precision>g", x)` (glibc): `precision` significant
/// digits (at least 1), trailing zeros of the fraction dropped, the
/// exponent form (`1e+15`, `1e-05`) below 1e-4 or from 10^precision up;
/// `inf`, `-inf`, `nan` and `-nan` (a NaN with the sign bit). Lua prints
/// numbers with `%.14g` (`tostring`, `lua_tolstring`), lua-cjson with
/// `%.<encode_number_precision>g`.
pub fn fmt_g(x: f64, precision: usize) -> String {
    let sign = if x.is_sign_negative() { "-" } else { "" };
    if x.is_nan() {
        return format!("{sign}nan");
    }
    if x.is_infinite() {
        return format!("{sign}inf");
    }
    if x == 0.0 {
        return format!("{sign}0");
    }
    let precision = precision.max(1);
    // The exponent %e would print decides the style. Rust rounds the exact
    // binary value, ties to even, as glibc does.
    let sci = format!("{:.*e}", precision - 1, x);
    let (mantissa, exp) = sci.split_once('e').unwrap_or((&sci, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    if exp < -4 || exp >= precision as i32 {
        let mantissa = trim_fraction(mantissa);
        let exp_sign = if exp < 0 { '-' } else { '+' };
        format!("{mantissa}e{exp_sign}{:02}", exp.unsigned_abs())
    } else {
        let decimals = (precision as i32 - 1 - exp) as usize;
        trim_fraction(&format!("{x:.decimals$}")).to_string()
    }
}

/// `%g` drops trailing zeros of the fraction, and the point with them.
fn trim_fraction(s: &str) -> &str {
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.')
    } else {
        s
    }
}

/// Formats the result of INCRBYFLOAT / HINCRBYFLOAT, as both reply and
/// store it.
///
/// Redis computes in `long double` and prints `%.17Lf` with trailing zeros
/// (and a bare point) trimmed: plain notation, no exponent, never `-0`, and
/// nothing below 17 decimal places. We compute in `f64`, so printing 17
/// decimals would show binary noise (`5.40000000000000036`); instead we
/// print the shortest decimal that reads back to the same double (`5.4`,
/// `17179869185.5`, `3000`), and fall back to Redis's 17-decimal rounding
/// only when that shortest form needs more decimals (`1e-20` → `0`).
/// Infinities print as `inf`/`-inf` (callers refuse them before storing).
pub fn fmt_incr_float(x: f64) -> String {
    if x.is_infinite() {
        return if x < 0.0 { "-inf" } else { "inf" }.to_owned();
    }
    // Rust's `Display` for floats is shortest-round-trip and never uses an
    // exponent.
    let mut s = x.to_string();
    let decimals = s.find('.').map_or(0, |p| s.len() - p - 1);
    if decimals > 17 {
        s = format!("{x:.17}");
        let trimmed = s.trim_end_matches('0').trim_end_matches('.').len();
        s.truncate(trimmed);
    }
    if s == "-0" {
        s.truncate(0);
        s.push('0');
    }
    s
}

/// Redis's `ld2string(…, LD_STR_HUMAN)` of a double (`addReplyHumanLongDouble`,
/// which GEOPOS and WITHCOORD use): `%.17Lf` with trailing zeros and a bare
/// point trimmed, and `-0` written `0`.
///
/// A double widens to `long double` exactly, so `%.17Lf` is the double's
/// exact decimal value rounded to 17 places, which Rust's `{:.17}` also
/// prints (ties to even, as glibc).
pub fn fmt_human(x: f64) -> String {
    if x.is_infinite() {
        return if x < 0.0 { "-inf" } else { "inf" }.to_owned();
    }
    if x.is_nan() {
        return if x.is_sign_negative() { "-nan" } else { "nan" }.to_owned();
    }
    let mut s = format!("{x:.17}");
    let trimmed = s.trim_end_matches('0').trim_end_matches('.').len();
    s.truncate(trimmed);
    if s == "-0" {
        s.truncate(0);
        s.push('0');
    }
    s
}

/// C's `llrint` on x86-64: round to nearest, ties to even; NaN and values
/// outside `i64` give `i64::MIN` (the instruction's "integer indefinite").
pub fn llrint(x: f64) -> i64 {
    const LIMIT: f64 = 9_223_372_036_854_775_808.0; // 2^63
    let r = x.round_ties_even();
    if r.is_nan() || !(-LIMIT..LIMIT).contains(&r) {
        i64::MIN
    } else {
        r as i64
    }
}

/// Redis's `fixedpoint_d2string`: `x` with exactly `digits` (1 to 17)
/// decimals, rounded by [`llrint`] of `x * 10^digits`. Distances in GEODIST
/// and WITHDIST are written this way with 4 decimals (`0.7750`).
pub fn fmt_fixed(x: f64, digits: usize) -> String {
    const POW10: [f64; 18] = [
        1.0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16,
        1e17,
    ];
    let digits = digits.clamp(1, 17);
    let scaled = llrint(x * POW10[digits]);
    let mag = scaled.unsigned_abs();
    let unit = 10u64.pow(digits as u32);
    let sign = if scaled < 0 { "-" } else { "" };
    format!("{sign}{}.{:0digits$}", mag / unit, mag % unit)
}

/// Redis's `d2string`: how a zset score is written into a listpack and into
/// non-`_2` ZSET RDB records.
///
/// Integral values within ±2^62 (`double2ll` on 7.0) print as integers,
/// zero as `0` or `-0`, infinities as `inf`/`-inf`, NaN as `nan`, and
/// everything else as `%.17g`.
pub fn d2string(x: f64) -> String {
    if x.is_nan() {
        return "nan".to_owned();
    }
    if x.is_infinite() {
        return if x < 0.0 { "-inf" } else { "inf" }.to_owned();
    }
    if x == 0.0 {
        return if x.is_sign_negative() { "-0" } else { "0" }.to_owned();
    }
    const LIMIT: f64 = 4_611_686_018_427_387_904.0; // (double)(LLONG_MAX / 2)
    if (-LIMIT..=LIMIT).contains(&x) && x.trunc() == x {
        // In range and integral, so the conversion is exact.
        return (x as i64).to_string();
    }
    fmt_g17(x)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// SORT's weights, against glibc's strtod and errno (checked with a C
    /// program on glibc 2.36).
    #[test]
    fn sort_weights_follow_strtod_and_erange() {
        let ok: &[(&[u8], f64)] = &[
            (b"", 0.0),
            (b"  5", 5.0),
            (b"0x10", 16.0),
            (b"1e5", 1e5),
            (b"-inf", f64::NEG_INFINITY),
            (b"1\0junk", 1.0),
            (b"0x1p-1074", f64::from_bits(1)),
            (b"2.2250738585072014e-308", f64::MIN_POSITIVE),
        ];
        for (s, v) in ok {
            assert_eq!(
                parse_sort_weight(s),
                Some(*v),
                "{:?}",
                String::from_utf8_lossy(s)
            );
        }
        let bad: &[&[u8]] = &[
            b"x",
            b"1x",
            b"5 ",
            b"  ",
            b"nan",
            b"1e400",
            b"1e-400",
            b"1e-310",
            b"4.9406564584124654e-324",
            b"0x1.8p-1074",
        ];
        for s in bad {
            assert_eq!(
                parse_sort_weight(s),
                None,
                "{:?}",
                String::from_utf8_lossy(s)
            );
        }
    }

    #[test]
    fn parse_i64_follows_string2ll() {
        let ok: &[(&[u8], i64)] = &[
            (b"0", 0),
            (b"1", 1),
            (b"-1", -1),
            (b"10", 10),
            (b"9223372036854775807", i64::MAX),
            (b"-9223372036854775808", i64::MIN),
            (b"12345678901234567", 12_345_678_901_234_567),
        ];
        for (s, v) in ok {
            assert_eq!(parse_i64(s), Some(*v), "{:?}", String::from_utf8_lossy(s));
        }
        let bad: &[&[u8]] = &[
            b"",
            b"-",
            b"+1",
            b"-0",
            b"01",
            b"00",
            b"-01",
            b" 1",
            b"1 ",
            b"1a",
            b"1.0",
            b"9223372036854775808",
            b"-9223372036854775809",
            b"18446744073709551616",
            b"99999999999999999999",
            b"-99999999999999999999",
            b"000000000000000000001",
            b"\x001",
        ];
        for s in bad {
            assert_eq!(parse_i64(s), None, "{:?}", String::from_utf8_lossy(s));
        }
    }

    #[test]
    fn parse_i64_round_trips_every_width() {
        let mut v: i64 = 1;
        for _ in 0..19 {
            for x in [v, v - 1, -v, -(v - 1), v + 7] {
                assert_eq!(parse_i64(x.to_string().as_bytes()), Some(x));
            }
            v = v.saturating_mul(10);
        }
    }

    /// Generated by glibc: `strtod` checked the way `string2d` checks it,
    /// and the way `zslParseRange` checks it (after an optional '(').
    #[rustfmt::skip]
    const STRTOD: &[(&str, Option<u64>, Option<u64>)] = &[
    ("0", Some(0x0000000000000000), Some(0x0000000000000000)),
    ("1", Some(0x3ff0000000000000), Some(0x3ff0000000000000)),
    ("-1", Some(0xbff0000000000000), Some(0xbff0000000000000)),
    ("+1", Some(0x3ff0000000000000), Some(0x3ff0000000000000)),
    ("1.5", Some(0x3ff8000000000000), Some(0x3ff8000000000000)),
    ("-1.5", Some(0xbff8000000000000), Some(0xbff8000000000000)),
    ("+1.5", Some(0x3ff8000000000000), Some(0x3ff8000000000000)),
    (".5", Some(0x3fe0000000000000), Some(0x3fe0000000000000)),
    ("5.", Some(0x4014000000000000), Some(0x4014000000000000)),
    (".", None, None),
    ("-.", None, None),
    ("+", None, None),
    ("-", None, None),
    ("1e5", Some(0x40f86a0000000000), Some(0x40f86a0000000000)),
    ("1E5", Some(0x40f86a0000000000), Some(0x40f86a0000000000)),
    ("1e+5", Some(0x40f86a0000000000), Some(0x40f86a0000000000)),
    ("1e-5", Some(0x3ee4f8b588e368f1), Some(0x3ee4f8b588e368f1)),
    ("1e", None, None),
    ("1e+", None, None),
    ("1e-", None, None),
    ("e5", None, None),
    ("1.e5", Some(0x40f86a0000000000), Some(0x40f86a0000000000)),
    (".5e-3", Some(0x3f40624dd2f1a9fc), Some(0x3f40624dd2f1a9fc)),
    ("+.5e-3", Some(0x3f40624dd2f1a9fc), Some(0x3f40624dd2f1a9fc)),
    ("inf", Some(0x7ff0000000000000), Some(0x7ff0000000000000)),
    ("-inf", Some(0xfff0000000000000), Some(0xfff0000000000000)),
    ("+inf", Some(0x7ff0000000000000), Some(0x7ff0000000000000)),
    ("INF", Some(0x7ff0000000000000), Some(0x7ff0000000000000)),
    ("Inf", Some(0x7ff0000000000000), Some(0x7ff0000000000000)),
    ("infinity", Some(0x7ff0000000000000), Some(0x7ff0000000000000)),
    ("-Infinity", Some(0xfff0000000000000), Some(0xfff0000000000000)),
    ("INFINITY", Some(0x7ff0000000000000), Some(0x7ff0000000000000)),
    ("infinit", None, None),
    ("infinityx", None, None),
    ("infx", None, None),
    ("nan", None, None),
    ("-nan", None, None),
    ("NaN", None, None),
    ("nan(123)", None, None),
    (" 1", None, Some(0x3ff0000000000000)),
    ("1 ", None, None),
    ("\x091", None, Some(0x3ff0000000000000)),
    ("1x", None, None),
    ("0x10", Some(0x4030000000000000), Some(0x4030000000000000)),
    ("0X1p3", Some(0x4020000000000000), Some(0x4020000000000000)),
    ("0x1.8p1", Some(0x4008000000000000), Some(0x4008000000000000)),
    ("0x", None, None),
    ("0xg", None, None),
    ("-0x1p-3", Some(0xbfc0000000000000), Some(0xbfc0000000000000)),
    ("0x1p", None, None),
    ("0x.8", Some(0x3fe0000000000000), Some(0x3fe0000000000000)),
    ("0x1P-1074", Some(0x0000000000000001), Some(0x0000000000000001)),
    ("0x1p-1075", None, Some(0x0000000000000000)),
    ("0x1.8p-1075", Some(0x0000000000000001), Some(0x0000000000000001)),
    ("0x1p1024", None, Some(0x7ff0000000000000)),
    ("0xffffffffffffffffff", Some(0x4470000000000000), Some(0x4470000000000000)),
    ("1e400", None, Some(0x7ff0000000000000)),
    ("-1e400", None, Some(0xfff0000000000000)),
    ("1e-400", None, Some(0x0000000000000000)),
    ("4e-320", Some(0x0000000000001fa0), Some(0x0000000000001fa0)),
    ("0e-400", Some(0x0000000000000000), Some(0x0000000000000000)),
    ("0.000", Some(0x0000000000000000), Some(0x0000000000000000)),
    ("-0", Some(0x8000000000000000), Some(0x8000000000000000)),
    ("-0.0", Some(0x8000000000000000), Some(0x8000000000000000)),
    ("00012", Some(0x4028000000000000), Some(0x4028000000000000)),
    ("1_0", None, None),
    ("123456789012345678901234567890", Some(0x45f8ee90ff6c373e), Some(0x45f8ee90ff6c373e)),
    ("0.30000000000000004", Some(0x3fd3333333333334), Some(0x3fd3333333333334)),
    ("1.7976931348623157e308", Some(0x7fefffffffffffff), Some(0x7fefffffffffffff)),
    ("1.7976931348623159e308", None, Some(0x7ff0000000000000)),
    ("2.4703282292062327e-324", None, Some(0x0000000000000000)),
    ("2.4703282292062328e-324", Some(0x0000000000000001), Some(0x0000000000000001)),
    ("9007199254740993", Some(0x4340000000000000), Some(0x4340000000000000)),
    ("(1.5", None, Some(0x3ff8000000000000)),
    ("(inf", None, Some(0x7ff0000000000000)),
    ("(-inf", None, Some(0xfff0000000000000)),
    ("(", None, Some(0x0000000000000000)),
    ("((1", None, None),
    ("( 1", None, Some(0x3ff0000000000000)),
    ("(1e400", None, Some(0x7ff0000000000000)),
    ("+inf", Some(0x7ff0000000000000), Some(0x7ff0000000000000)),
    ("1.5.5", None, None),
    ("--1", None, None),
    ("+-1", None, None),
    ("", None, Some(0x0000000000000000)),
    ];

    #[test]
    fn parse_f64_matches_glibc_string2d() {
        for (input, expect, _) in STRTOD {
            let got = parse_f64(input.as_bytes()).map(f64::to_bits);
            assert_eq!(got, *expect, "string2d({input:?})");
        }
    }

    #[test]
    fn score_bound_matches_glibc_zslparserange() {
        for (input, _, expect) in STRTOD {
            let got = parse_strtod_bound(input.as_bytes());
            assert_eq!(got.map(|(v, _)| v.to_bits()), *expect, "bound({input:?})");
            if let Some((_, ex)) = got {
                assert_eq!(ex, input.starts_with('('), "{input:?}");
            }
        }
        // C stops at NUL: "1\0junk" is 1.
        assert_eq!(parse_strtod_bound(b"1\0junk"), Some((1.0, false)));
        assert_eq!(parse_f64(b"1\0junk"), None);
    }

    #[test]
    fn fmt_g_matches_printf() {
        // Expected values from glibc's printf("%.14g") / ("%.3g") etc.
        let cases: &[(f64, usize, &str)] = &[
            (0.1, 14, "0.1"),
            (1e15, 14, "1e+15"),
            (1e14, 14, "1e+14"),
            (12345678901234.0, 14, "12345678901234"),
            (123456789012345.0, 14, "1.2345678901234e+14"),
            (-0.0, 14, "-0"),
            (1e-5, 14, "1e-05"),
            (0.0001, 14, "0.0001"),
            (std::f64::consts::E, 14, "2.718281828459"),
            (1234.5, 3, "1.23e+03"),
            (1.23456, 3, "1.23"),
            (0.5, 1, "0.5"),
            (2.5, 1, "2"),
            (99.96, 3, "100"),
            (999999.5, 6, "1e+06"),
            (1e300, 14, "1e+300"),
            (5e-324, 14, "4.9406564584125e-324"),
            (f64::INFINITY, 14, "inf"),
            (f64::NEG_INFINITY, 14, "-inf"),
            (f64::NAN, 14, "nan"),
            (-f64::NAN, 14, "-nan"),
            (-123.456, 14, "-123.456"),
            (100.0, 2, "1e+02"),
        ];
        for &(x, p, expected) in cases {
            assert_eq!(fmt_g(x, p), expected, "%.{p}g of {x:e}");
        }
    }

    #[test]
    fn strtod_matches_glibc() {
        // Expected values and lengths from glibc's strtod.
        let cases: &[(&str, f64, usize)] = &[
            ("1", 1.0, 1),
            ("-1.5e3x", -1500.0, 6),
            ("1.", 1.0, 2),
            ("1e", 1.0, 1),
            ("1e+", 1.0, 1),
            ("-.5", -0.5, 3),
            ("0x10", 16.0, 4),
            ("0X1f", 31.0, 4),
            ("0x", 0.0, 1),
            ("0xg", 0.0, 1),
            ("0x.8", 0.5, 4),
            ("0x1.8p1", 3.0, 7),
            ("0x1p-1074", 5e-324, 9),
            ("0x1p-1075", 0.0, 9),
            ("0x1.0000000000001p-1075", 5e-324, 23),
            ("0x1p1024", f64::INFINITY, 8),
            ("0x1.fffffffffffff8p1023", f64::INFINITY, 23),
            ("0x1.fffffffffffff7p1023", f64::MAX, 23),
            ("0x123456789abcdef01", 2.0988295479420645e19, 19),
            ("0x10000000000000800", 18446744073709551616.0, 19),
            ("0x10000000000001800", 1.844674407370956e19, 19),
            ("0x10000000000000801", 1.8446744073709556e19, 19),
            ("0x100000000000000801", 2.9514790517935283e20, 20),
            ("0x0.0000000000000000000001p0", 3.2311742677852644e-27, 28),
            ("0x00000000000000000000001", 1.0, 25),
            ("0x1.00000000000008p0", 1.0, 20),
            ("0x1.00000000000018p0", 1.0000000000000004, 20),
            ("0x1.000000000000080000000001p0", 1.0000000000000002, 30),
            ("0x3p-1076", 5e-324, 9),
            ("0x1p-1076", 0.0, 9),
            ("0x1.8p-1075", 5e-324, 11),
            ("+7", 7.0, 2),
            ("inf", f64::INFINITY, 3),
            ("-Infinity", f64::NEG_INFINITY, 9),
            ("infinit", f64::INFINITY, 3),
            ("1e400", f64::INFINITY, 5),
            ("1e-400", 0.0, 6),
            ("2.2250738585072011e-308", 2.225073858507201e-308, 23),
            ("0.1", 0.1, 3),
            ("01", 1.0, 2),
        ];
        for &(text, value, used) in cases {
            let r = strtod(text.as_bytes());
            assert_eq!(
                (r.value.to_bits(), r.consumed),
                (value.to_bits(), used),
                "strtod({text:?})"
            );
        }
        let r = strtod(b"-nan(abc)x");
        assert!(r.value.is_nan() && r.value.is_sign_negative() && r.consumed == 9);
        assert_eq!(strtod(b"nan(").consumed, 3);
        for bad in ["", "-", "+", ".", "-.", "x", "e5", "- 1"] {
            assert_eq!(strtod(bad.as_bytes()).consumed, 0, "strtod({bad:?})");
        }
    }

    #[test]
    fn parse_f64_round_trips_g17() {
        for (bits, _) in G17 {
            let x = f64::from_bits(*bits);
            assert_eq!(
                parse_f64(fmt_g17(x).as_bytes()).map(f64::to_bits),
                Some(*bits)
            );
        }
    }

    /// Generated by glibc `printf("%.17g")` from the bit patterns.
    #[rustfmt::skip]
    const G17: &[(u64, &str)] = &[
    (0x0000000000000000, "0"),
    (0x0000000000000001, "4.9406564584124654e-324"),
    (0x0010000000000000, "2.2250738585072014e-308"),
    (0x0316909e3bbbe9ea, "8.8327905439827136e-294"),
    (0x0c5c7fd0a6a3a450, "3.980498358697587e-249"),
    (0x0cb1e29c658cda14, "1.5987381841032883e-247"),
    (0x0f21ddb66cad4a26, "8.7797532256802712e-236"),
    (0x0fd630f1f29d0da9, "2.2333869991501741e-232"),
    (0x10a3d6b2aa05e11a, "1.6356324386913733e-228"),
    (0x119a72d174c9df6a, "7.1453650522518077e-224"),
    (0x12bd4acefaecbd38, "2.0745096302730225e-218"),
    (0x13deef86ab1031d0, "5.7433106149184849e-213"),
    (0x14f4733f3e7d1bfb, "9.9526840090024479e-208"),
    (0x153e7c2a26a2c0bd, "2.3738290563139491e-206"),
    (0x1600a35a099950d8, "1.0613447212142254e-202"),
    (0x17f5e837d70820fe, "3.0010119427191346e-193"),
    (0x1818e811892f902b, "1.3647584518757569e-192"),
    (0x18f135d25f557203, "1.5450754142984396e-188"),
    (0x1a61dbe22e44158b, "1.3449551894627777e-181"),
    (0x20203626f3fe39c0, "6.045556425707975e-154"),
    (0x2217beaddbc496cb, "1.9015657400796622e-144"),
    (0x230d977ee2257159, "7.7653871385137949e-140"),
    (0x254b0c4e010c4759, "4.8776212517061182e-129"),
    (0x26bb7dbd2d1c9af0, "4.1586747791282524e-122"),
    (0x2a3af4d46b0a18e8, "2.9383455973541661e-105"),
    (0x2a96fb1a14a0f9e7, "1.6032007377980954e-103"),
    (0x2e05319acb5c7427, "5.3269600817830169e-87"),
    (0x2eae05cf96d0cc5f, "7.7271785554382585e-84"),
    (0x301850c5a38fd547, "5.2498223088143036e-77"),
    (0x36f675cc81e74ef5, "6.2946752411953861e-44"),
    (0x37dc76fb0f17a300, "1.3070380624806793e-39"),
    (0x3898d190f9ebdacc, "4.6678633181812096e-36"),
    (0x3b1287fff52ddf5d, "3.8321725482165366e-24"),
    (0x3d9c172411e20b8f, "6.3870161585135632e-12"),
    (0x3e97dc849a70a8ae, "3.5556254335495816e-07"),
    (0x3ea239d0cbd99eaa, "5.4317242588211427e-07"),
    (0x3ecc8698b9365d5a, "3.4005365223234345e-06"),
    (0x3eda9aa1e1d2afa6, "6.3428956568570908e-06"),
    (0x3ee4f8b588e368f1, "1.0000000000000001e-05"),
    (0x3ee9e0fcaf9380fc, "1.234e-05"),
    (0x3f137c8e3ba09467, "7.4335271080432094e-05"),
    (0x3f14f6517e375a19, "7.9964374484966022e-05"),
    (0x3f151cd275d0ec8b, "8.0538125488626374e-05"),
    (0x3f16839f401d4c11, "8.5884661556165595e-05"),
    (0x3f19a69c55aa44b1, "9.7850124271897277e-05"),
    (0x3f1a36e2eb1c432d, "0.0001"),
    (0x3f23d39bdfd4fb5c, "0.00015126493227942794"),
    (0x3f3ce07dfd3bcc67, "0.00044062686832475054"),
    (0x3f4b598aaaa44a4e, "0.00083464880779821906"),
    (0x3f7926fae334cfb5, "0.0061406898778847878"),
    (0x3f98e2774cbd87ad, "0.024301399287089676"),
    (0x3f9a1ce7890019c0, "0.025500886666145695"),
    (0x3fa879abb8e3c170, "0.047803274459400025"),
    (0x3faa8abb358c003d, "0.051839685713276108"),
    (0x3fb28e0a60822287, "0.072479866563421522"),
    (0x3fb999999999999a, "0.10000000000000001"),
    (0x3fc865e4b113db14, "0.19060953756680787"),
    (0x3fc999999999999a, "0.20000000000000001"),
    (0x3fcd0948b7857294, "0.22684582673072795"),
    (0x3fd3333333333333, "0.29999999999999999"),
    (0x3fd5555555555555, "0.33333333333333331"),
    (0x3fe0000000000000, "0.5"),
    (0x3fe5555555555555, "0.66666666666666663"),
    (0x3fe6c48cef0024d2, "0.7114929836253856"),
    (0x3ff199999999999a, "1.1000000000000001"),
    (0x4008000000000000, "3"),
    (0x400c74a855b8293a, "3.556961698229455"),
    (0x401d984cbb0441e2, "7.3987302037571414"),
    (0x403bf11d56672b0f, "27.941853904902981"),
    (0x405167a8d0645baa, "69.619678590780183"),
    (0x4059000000000000, "100"),
    (0x407e06525937ab58, "480.39510461564851"),
    (0x4087b124c7f81c04, "758.14295953593728"),
    (0x40904ccccccccccd, "1043.2"),
    (0x409769851eb851ec, "1498.3800000000001"),
    (0x409788eb851eb852, "1506.23"),
    (0x40a2ac75c28f5c29, "2390.23"),
    (0x40a380999999999a, "2496.3000000000002"),
    (0x40a6133d70a3d70a, "2825.6199999999999"),
    (0x40ac5151eb851eb8, "3624.6599999999999"),
    (0x40ad54ae147ae148, "3754.3400000000001"),
    (0x40ad8fd1eb851eb8, "3783.9099999999999"),
    (0x40b471147ae147ae, "5233.0799999999999"),
    (0x40b65611eb851eb8, "5718.0699999999997"),
    (0x40ba6bbae147ae14, "6763.7299999999996"),
    (0x40bb0191eb851eb8, "6913.5699999999997"),
    (0x40bc9dbae147ae14, "7325.7299999999996"),
    (0x40bca52e147ae148, "7333.1800000000003"),
    (0x40c02ce28f5c28f6, "8281.7700000000004"),
    (0x40c0439333333333, "8327.1499999999996"),
    (0x40c1880f5c28f5c3, "8976.1200000000008"),
    (0x40c2b5c3d70a3d71, "9579.5300000000007"),
    (0x40c2de0e147ae148, "9660.1100000000006"),
    (0x40eefa1ea6bc271a, "63440.957853390093"),
    (0x40f6327eb77ea39b, "90919.919798506817"),
    (0x40f81f3ce4a3cfee, "98803.805820286012"),
    (0x410d38dd65ebdcf1, "239387.67476627932"),
    (0x4117f2eba0a81acf, "392378.90689126862"),
    (0x411828f9faf37c44, "395838.49506944814"),
    (0x4196ce1ace895a5e, "95651507.634133786"),
    (0x4197ad6b00ae900d, "99310272.170471385"),
    (0x419d49b1db0c7cd3, "122842230.76219492"),
    (0x419d6f3454000000, "123456789"),
    (0x41a7d5033eca510e, "199917983.39514965"),
    (0x41ab884134e7aba8, "230957210.45248151"),
    (0x41b4217707d6a9ee, "337737479.83853042"),
    (0x41b77dcb4ff9b177, "394120015.97536415"),
    (0x41c1f3068a7b2316, "602279188.96200824"),
    (0x41c90c03a3a3bfc5, "840435527.27928984"),
    (0x41f9c7f7b8873fdf, "6920567688.4530935"),
    (0x4237d64caf9d38db, "102379597725.22209"),
    (0x427c2dd61d7a017f, "1936449460128.0935"),
    (0x4296b4123cc7a8bb, "6240663974378.1826"),
    (0x42a142e312c33cac, "9489487585694.3359"),
    (0x42c3bb8d7ffd0c16, "43392507574808.172"),
    (0x42c6dc29dffcb1be, "50269702322531.484"),
    (0x42dc12218377de68, "123456789012345.62"),
    (0x430c6bf526340000, "1000000000000000"),
    (0x4329b43d28512ef3, "3617524590090105.5"),
    (0x4340000000000000, "9007199254740992"),
    (0x4341c37937e07fff, "9999999999999998"),
    (0x4341c37937e08000, "10000000000000000"),
    (0x43632dd98a6e8120, "43187495289227520"),
    (0x4370a56722488d89, "74967392044243088"),
    (0x4371f42a03bb44ce, "80856574279830752"),
    (0x43750253ca31f94f, "94616534539801840"),
    (0x4376345785d8a000, "1e+17"),
    (0x437b9026430f9706, "1.2413309407103805e+17"),
    (0x43937390e43f3cc7, "3.5040580475756179e+17"),
    (0x439a9196f2f5ae20, "4.7861932171431322e+17"),
    (0x439d9097dada8bfb, "5.3259239749287904e+17"),
    (0x43a5a2340316b568, "7.7943280444707328e+17"),
    (0x43a5d725ad0894e0, "7.8688400994641101e+17"),
    (0x43a5e1e9e83c35c9, "7.8839926410411328e+17"),
    (0x43a8560357bee060, "8.7679639015340032e+17"),
    (0x43a8bc5d042071e1, "8.9120091241873011e+17"),
    (0x43a9e677808deb43, "9.3315524480608704e+17"),
    (0x43aaa504e7cb9fdc, "9.5997310487179622e+17"),
    (0x43ac9b6a9a487a6b, "1.030679232662812e+18"),
    (0x43ad304b419d5e92, "1.0516318855835999e+18"),
    (0x43bef408331a3dd1, "2.2304167310318513e+18"),
    (0x43c712b1285a302f, "3.3251719986460995e+18"),
    (0x43dd94dd70066825, "8.5262879874666056e+18"),
    (0x43df9071b74b5af9, "9.0977713755172301e+18"),
    (0x43e12ab906115c78, "9.8960358670307e+18"),
    (0x43e56a95319d63e1, "1.2345678901234567e+19"),
    (0x43f6f6c8b0707e87, "2.6475689171718009e+19"),
    (0x4415af1d78b58c40, "1e+20"),
    (0x451abd81f1d69ed6, "8.08174890787967e+24"),
    (0x4720771f8ca81811, "4.2746428041772148e+34"),
    (0x482c9cbc43435cc5, "4.8681216785982848e+39"),
    (0x49952399c4aaeac1, "3.0170681842882087e+46"),
    (0x4cdd2055930d6eaf, "1.8721667527122837e+62"),
    (0x4f426dcbb394fb36, "6.5122058598344157e+73"),
    (0x519088f590fbbd11, "8.0305060980922437e+84"),
    (0x571242425051c1cc, "2.7444240984593666e+111"),
    (0x5790f82ec1d3fcff, "6.5295986747658322e+113"),
    (0x57ee05cde00902c7, "3.6967297937384553e+115"),
    (0x58d5563dab2cd31e, "8.6089299807627358e+119"),
    (0x59a54a7bb1fee08f, "7.0372547696645247e+123"),
    (0x5affb2297631a992, "2.1970596639627999e+130"),
    (0x5c90a9587403e430, "7.750545741548908e+137"),
    (0x616499c9e25a7605, "1.4481396684332679e+161"),
    (0x6513270e269e0d37, "7.761117632285041e+178"),
    (0x65dc9f503f63af83, "4.7507502047509849e+182"),
    (0x66d2287672fdf202, "1.9751801151887592e+187"),
    (0x6b0d549b6f03675a, "4.7083251603875462e+207"),
    (0x6b4cb2424a23d596, "7.370437700706684e+208"),
    (0x6bf46c697d2caf82, "1.0743030475716402e+212"),
    (0x6e36aab0d1bc52d9, "8.193439767873551e+222"),
    (0x72158370d269a9a5, "3.5862982565236525e+241"),
    (0x72e6cc3ababced20, "3.1132849561694472e+245"),
    (0x74e69a5d0dd27a65, "1.3257208647146701e+255"),
    (0x7731af10506bf2ef, "1.4255183989699612e+266"),
    (0x7e62aa0a1df9fd78, "6.2496465711118593e+300"),
    (0x7ebff20686734721, "3.4229783989470719e+302"),
    (0x7f15052434b9b5df, "1.4414848395559941e+304"),
    (0x7f1b103cdf1582b0, "1.8559166032057722e+304"),
    (0x7f26144b98289fcd, "3.0282415270685036e+304"),
    (0x7fefffffffffffff, "1.7976931348623157e+308"),
    (0x8000000000000000, "-0"),
    (0x830e07bc1e398f10, "-5.877500503097409e-294"),
    (0x881ed162ae2eb154, "-1.4583679262758548e-269"),
    (0x88daf4016b4013ef, "-5.2243626508318762e-266"),
    (0x8a6a63ec24ede6a4, "-1.7163996725272777e-258"),
    (0x8cdb305fdd2e1609, "-9.7215654460842523e-247"),
    (0x8d116ece1738f7d9, "-9.9731303785687331e-246"),
    (0x8e81973e0becd7b0, "-8.4418727921054556e-239"),
    (0x8ede0d7ac3baea9e, "-4.6151547070255599e-237"),
    (0x8f2c6ec8cc4169a3, "-1.3972441246414233e-235"),
    (0x8f6d05584ef8aa38, "-2.2818334634712625e-234"),
    (0x907a70c31012f037, "-2.7249126747649799e-229"),
    (0x90c192cfd3ac94af, "-5.7955032484989932e-228"),
    (0x922766581e27a1c0, "-3.2367190832119987e-221"),
    (0x923a736994e3bf91, "-7.3174959760626057e-221"),
    (0x93f448b3a5aa3c81, "-1.5063173670565552e-212"),
    (0x9531985d5d9dc9f8, "-1.3701135617873088e-206"),
    (0x953f48f1a09f76b5, "-2.4361176994848409e-206"),
    (0x95e60af593bd04cf, "-3.5152797062666699e-203"),
    (0x9be4bcfc49b64a08, "-2.6202582260546103e-174"),
    (0x9c1caaf75e8766ed, "-2.8977267740353203e-173"),
    (0x9c6539382b0537e6, "-6.8648296141500026e-172"),
    (0x9e7769b10f4205b4, "-6.5051418615487723e-162"),
    (0xa170b33839263059, "-1.3060523885277959e-147"),
    (0xa7abe1c29e1a8ef4, "-1.3820816268679183e-117"),
    (0xa8948c893b618676, "-3.337733639824717e-113"),
    (0xae3a2b7fdfe01893, "-5.2621550823053697e-86"),
    (0xae658f33fe3b890b, "-3.4680683343609559e-85"),
    (0xae97ba94d0eda82f, "-3.0536383926309363e-84"),
    (0xaec6f0245bd86d40, "-2.3614991605223492e-83"),
    (0xb2715945795e8229, "-1.029599445714058e-65"),
    (0xb4d66a3a47469a4d, "-3.6566096214330605e-54"),
    (0xb64ce4228c38fb29, "-3.9536256982247919e-47"),
    (0xb774eb5248db40af, "-1.500880737539812e-41"),
    (0xbb2d420f0f88080b, "-1.210084267904234e-23"),
    (0xbd0561e6211c70cf, "-9.4957010010874352e-15"),
    (0xbd628881ad1b72db, "-5.2674604096931422e-13"),
    (0xbff8000000000000, "-1.5"),
    (0xc04a028f5c28f5c3, "-52.020000000000003"),
    (0xc059100000000000, "-100.25"),
    (0xc06e1a8f5c28f5c3, "-240.83000000000001"),
    (0xc08c32e147ae147b, "-902.36000000000001"),
    (0xc0a4b6dc28f5c28f, "-2651.4299999999998"),
    (0xc0ae20199999999a, "-3856.0500000000002"),
    (0xc0b26ea666666666, "-4718.6499999999996"),
    (0xc0b5a1b0a3d70a3d, "-5537.6899999999996"),
    (0xc0b5c62147ae147b, "-5574.1300000000001"),
    (0xc0b71aa3d70a3d71, "-5914.6400000000003"),
    (0xc0ba4a47ae147ae1, "-6730.2799999999997"),
    (0xc0baae2666666666, "-6830.1499999999996"),
    (0xc0bb16828f5c28f6, "-6934.5100000000002"),
    (0xc0bba7b5c28f5c29, "-7079.71"),
    (0xc0bc5511eb851eb8, "-7253.0699999999997"),
    (0xc0bca7d1eb851eb8, "-7335.8199999999997"),
    (0xc0bea4b851eb851f, "-7844.7200000000003"),
    (0xc0c262770a3d70a4, "-9412.9300000000003"),
    (0xc0c2672147ae147b, "-9422.2600000000002"),
    (0xc0c2a7a3d70a3d71, "-9551.2800000000007"),
    (0xc0c2f2a7ae147ae1, "-9701.3099999999995"),
    (0xc338ab41f174136c, "-6943699153195884"),
    (0xc36360158ff67b45, "-43629362267019816"),
    (0xc3911fd760e4db92, "-3.0848540851980813e+17"),
    (0xc393e115e3669a2d, "-3.5811255572591699e+17"),
    (0xc39e71f484a9c8c9, "-5.484508360318777e+17"),
    (0xc3a26b01b2726fe4, "-6.635781905632425e+17"),
    (0xc3ad9b1438fa9995, "-1.0666605417225775e+18"),
    (0xc3af7f23f6c86b87, "-1.1347861400247182e+18"),
    (0xc6f877186d76b07e, "-7.9394166688077208e+33"),
    (0xc7a2ea20b2f14c94, "-1.2570882301712172e+37"),
    (0xca02135e92b1d3f2, "-3.302201168194502e+48"),
    (0xcc011cdd9474031b, "-1.3427313830183207e+58"),
    (0xd17f9acae01f5057, "-3.8373366379117136e+84"),
    (0xd23f0824128b2f33, "-1.5432835417340557e+88"),
    (0xd4c28c2e7c26847f, "-2.0284108606212458e+100"),
    (0xdbf4a8b2b0c4312d, "-9.3848401234979093e+134"),
    (0xdef88334e647cb8f, "-3.1343387564175544e+149"),
    (0xe315128862c33a4f, "-1.9881605394901064e+169"),
    (0xe8e25d940ed90475, "-1.7160537630466207e+197"),
    (0xeab477d26415479c, "-1.0267710304426359e+206"),
    (0xec66a78795e761d1, "-1.5253157012324029e+214"),
    (0xeeeacbe226e87555, "-1.9837344250050814e+226"),
    (0xf0ce583505c6af07, "-2.412056419517317e+235"),
    (0xf28c105d1fb17c23, "-5.9881801593860111e+243"),
    (0xf2a74de452e6b438, "-1.989032661366619e+244"),
    (0xf341e07a83f73f16, "-1.5624204901097633e+247"),
    (0xf3aed0b6c7ac1491, "-1.7236642596087033e+249"),
    (0xf646e1f40a097c97, "-5.629271400715247e+261"),
    (0xfc891b4a6a50df4d, "-7.8294957456817992e+291"),
    ];

    #[test]
    fn g17_matches_glibc_printf() {
        for (bits, expect) in G17 {
            assert_eq!(fmt_g17(f64::from_bits(*bits)), *expect, "bits {bits:#x}");
        }
    }

    #[test]
    fn g17_examples() {
        assert_eq!(fmt_g17(1.1), "1.1000000000000001");
        assert_eq!(fmt_g17(3.0), "3");
        assert_eq!(fmt_g17(1e20), "1e+20");
        assert_eq!(fmt_g17(0.0001), "0.0001");
        assert_eq!(fmt_g17(1e-5), "1.0000000000000001e-05");
        assert_eq!(fmt_g17(f64::INFINITY), "inf");
        assert_eq!(fmt_g17(f64::NEG_INFINITY), "-inf");
        assert_eq!(fmt_g17(-0.0), "-0");
        assert_eq!(fmt_g17(1e16), "10000000000000000");
        assert_eq!(fmt_g17(1e17), "1e+17");
        // 123456789012345.625 exactly: the 17-digit cut is a tie, and
        // glibc rounds ties to even.
        assert_eq!(
            fmt_g17(f64::from_bits(0x42dc_1221_8377_de68)),
            "123456789012345.62"
        );
    }

    #[test]
    fn incr_float_examples() {
        assert_eq!(fmt_incr_float(10.5 + -5.1), "5.4");
        assert_eq!(fmt_incr_float(17_179_869_184.0 + 1.5), "17179869185.5");
        assert_eq!(fmt_incr_float(3.0e3), "3000");
        assert_eq!(fmt_incr_float(-0.0), "0");
        assert_eq!(fmt_incr_float(0.0), "0");
        assert_eq!(fmt_incr_float(-1.25), "-1.25");
        assert_eq!(fmt_incr_float(1e20), "100000000000000000000");
        assert_eq!(fmt_incr_float(1e-7), "0.0000001");
        assert_eq!(fmt_incr_float(f64::INFINITY), "inf");
        assert_eq!(fmt_incr_float(1e-20), "0");
        assert_eq!(fmt_incr_float(-1e-20), "0");
        assert_eq!(fmt_incr_float(1.234_567e-15), "0.00000000000000123");
        assert_eq!(fmt_incr_float(0.1 + 0.2), "0.30000000000000004");
        assert_eq!(fmt_incr_float(1e-17), "0.00000000000000001");
    }

    #[test]
    fn human_examples() {
        // Checked against Redis 7.0's GEOPOS and glibc's "%.17Lf".
        assert_eq!(fmt_human(13.361389338970184), "13.36138933897018433");
        assert_eq!(fmt_human(-0.0), "0");
        assert_eq!(fmt_human(-1e-30), "0");
        assert_eq!(fmt_human(3.0), "3");
        assert_eq!(fmt_human(-180.0), "-180");
        assert_eq!(fmt_human(0.5), "0.5");
        assert_eq!(fmt_human(f64::INFINITY), "inf");
    }

    #[test]
    fn fixed_examples() {
        assert_eq!(fmt_fixed(0.0, 4), "0.0000");
        assert_eq!(fmt_fixed(-0.0, 4), "0.0000");
        assert_eq!(fmt_fixed(0.775, 4), "0.7750");
        assert_eq!(fmt_fixed(166274.1516, 4), "166274.1516");
        assert_eq!(fmt_fixed(0.00049, 4), "0.0005");
        assert_eq!(fmt_fixed(-1.5, 4), "-1.5000");
        // llrint's ties go to even.
        assert_eq!(fmt_fixed(0.5, 1), "0.5");
        assert_eq!(llrint(2.5), 2);
        assert_eq!(llrint(3.5), 4);
        // NaN and overflow come out as i64::MIN, as on x86-64.
        assert_eq!(fmt_fixed(f64::NAN, 4), "-922337203685477.5808");
        assert_eq!(fmt_fixed(1e300, 4), "-922337203685477.5808");
    }

    #[test]
    fn d2string_examples() {
        assert_eq!(d2string(1.0), "1");
        assert_eq!(d2string(-3.0), "-3");
        assert_eq!(d2string(1.5), "1.5");
        assert_eq!(d2string(0.1), "0.10000000000000001");
        assert_eq!(d2string(0.0), "0");
        assert_eq!(d2string(-0.0), "-0");
        assert_eq!(d2string(f64::INFINITY), "inf");
        assert_eq!(d2string(f64::NEG_INFINITY), "-inf");
        assert_eq!(d2string(4_611_686_018_427_387_904.0), "4611686018427387904");
        assert_eq!(
            d2string(-4_611_686_018_427_387_904.0),
            "-4611686018427387904"
        );
        assert_eq!(
            d2string(9_223_372_036_854_775_808.0),
            "9.2233720368547758e+18"
        );
        assert_eq!(d2string(1e20), "1e+20");
    }
}
