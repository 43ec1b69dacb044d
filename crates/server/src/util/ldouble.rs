//! The x86 80-bit `long double` Redis computes INCRBYFLOAT and
//! HINCRBYFLOAT in, so that our results are bit for bit Redis's:
//! `strtold` parsing, one correctly rounded addition, and `%.17Lf` printing
//! with trailing zeros trimmed (Redis's `ld2string(…, LD_STR_HUMAN)`).
//!
//! Parsing and addition use `rustc_apfloat`'s X87DoubleExtended (LLVM's
//! APFloat: correctly rounded, with x87 denormals); the syntax check is our
//! `strtod` scanner, since strtold accepts exactly strtod's syntax. Printing
//! is exact: the value is `m × 2^e` with a 64-bit `m`, turned into decimal
//! with a small base-10⁹ big number and rounded half-to-even at 17 decimals
//! as glibc's printf does.

use rustc_apfloat::ieee::X87DoubleExtended as X;
use rustc_apfloat::{Float, Round, Status};

use super::num::{is_c_space, strtod};

/// Redis's MAX_LONG_DOUBLE_CHARS: longer inputs are not numbers.
const MAX_CHARS: usize = 5 * 1024;

/// A long double.
#[derive(Clone, Copy, Debug)]
pub struct LDouble(X);

impl std::ops::Add for LDouble {
    type Output = LDouble;

    /// Rounded to nearest-even at 64 bits of mantissa, as the x87 adds.
    fn add(self, other: LDouble) -> LDouble {
        LDouble((self.0 + other.0).value)
    }
}

impl LDouble {
    /// Redis's `string2ld`: the whole input must be a number (no leading
    /// space, nothing after it), NaN and out-of-range literals (overflow to
    /// infinity, underflow to zero) are refused; `inf` is accepted.
    pub fn parse(s: &[u8]) -> Option<LDouble> {
        if s.is_empty() || s.len() >= MAX_CHARS || is_c_space(s[0]) {
            return None;
        }
        let r = strtod(s);
        if r.consumed != s.len() || r.value.is_nan() {
            return None;
        }
        let text = std::str::from_utf8(s).ok()?;
        let (neg, body) = match text.as_bytes()[0] {
            b'-' => (true, &text[1..]),
            b'+' => (false, &text[1..]),
            _ => (false, text),
        };
        let value = if body.as_bytes()[0].eq_ignore_ascii_case(&b'i') {
            X::INFINITY
        } else {
            let lower = body.to_ascii_lowercase();
            let owned;
            let src = if lower.starts_with("0x") && !lower.contains('p') {
                // strtold allows a hex float without exponent; APFloat wants one.
                owned = format!("{lower}p0");
                owned.as_str()
            } else {
                lower.as_str()
            };
            let conv = X::from_str_r(src, Round::NearestTiesToEven).ok()?;
            if conv.status.contains(Status::OVERFLOW)
                || (conv.status.contains(Status::UNDERFLOW) && conv.value.is_zero())
            {
                return None;
            }
            conv.value
        };
        Some(LDouble(if neg { -value } else { value }))
    }

    /// Whether the value is NaN or infinite.
    pub fn is_nan_or_inf(self) -> bool {
        self.0.is_nan() || self.0.is_infinite()
    }

    /// `%.17Lf` with trailing zeros (and a bare point) removed, and `-0`
    /// printed as `0`: how Redis stores and replies INCRBYFLOAT results.
    pub fn to_human(self) -> String {
        if self.0.is_infinite() {
            return if self.0.is_negative() { "-inf" } else { "inf" }.to_owned();
        }
        let bits = self.0.to_bits();
        let neg = (bits >> 79) & 1 == 1;
        let exp_field = ((bits >> 64) & 0x7fff) as i32;
        let mant = bits as u64;
        // value = mant × 2^e (the integer bit is explicit in x87 format).
        let e = if exp_field == 0 {
            1 - 16383 - 63
        } else {
            exp_field - 16383 - 63
        };
        let mut digits = scaled_decimal(mant, e);
        // At least one digit before the point.
        while digits.len() < 18 {
            digits.insert(0, b'0');
        }
        let point = digits.len() - 17;
        let mut s = String::with_capacity(digits.len() + 2);
        if neg {
            s.push('-');
        }
        s.push_str(std::str::from_utf8(&digits[..point]).unwrap_or("0"));
        let frac = std::str::from_utf8(&digits[point..]).unwrap_or("");
        let frac = frac.trim_end_matches('0');
        if !frac.is_empty() {
            s.push('.');
            s.push_str(frac);
        }
        if s == "-0" {
            s = "0".into();
        }
        s
    }
}

/// The decimal digits of round(m × 2^e × 10^17), half to even.
fn scaled_decimal(m: u64, e: i32) -> Vec<u8> {
    const SCALE: u128 = 100_000_000_000_000_000; // 10^17
    if m == 0 {
        return b"0".to_vec();
    }
    if e < 0 {
        let k = (-e) as u32;
        // m × 10^17 < 2^121: exact in u128.
        let n = m as u128 * SCALE;
        if k >= 128 {
            // Below 2^-7 × 10^-17 ·…: far under half a unit of the last digit.
            return b"0".to_vec();
        }
        let q = n >> k;
        let rem = n & ((1u128 << k) - 1);
        let half = 1u128 << (k - 1);
        let q = if rem > half || (rem == half && q & 1 == 1) {
            q + 1
        } else {
            q
        };
        return q.to_string().into_bytes();
    }
    // An integer: m × 2^e, then append 17 zero decimals.
    let mut big = BigDec::from_u64(m);
    let mut left = e as u32;
    while left > 0 {
        let step = left.min(29);
        big.mul_small(1u32 << step);
        left -= step;
    }
    let mut out = big.to_digits();
    out.extend_from_slice(&[b'0'; 17]);
    out
}

/// A natural number in base 10⁹, little-endian limbs.
struct BigDec(Vec<u32>);

const BASE: u64 = 1_000_000_000;

impl BigDec {
    fn from_u64(mut n: u64) -> BigDec {
        let mut limbs = Vec::new();
        while n > 0 {
            limbs.push((n % BASE) as u32);
            n /= BASE;
        }
        BigDec(limbs)
    }

    fn mul_small(&mut self, k: u32) {
        let mut carry = 0u64;
        for l in &mut self.0 {
            let v = *l as u64 * k as u64 + carry;
            *l = (v % BASE) as u32;
            carry = v / BASE;
        }
        while carry > 0 {
            self.0.push((carry % BASE) as u32);
            carry /= BASE;
        }
    }

    fn to_digits(&self) -> Vec<u8> {
        let Some((top, rest)) = self.0.split_last() else {
            return b"0".to_vec();
        };
        let mut s = top.to_string();
        for l in rest.iter().rev() {
            s.push_str(&format!("{l:09}"));
        }
        s.into_bytes()
    }
}

/// Why an INCRBYFLOAT-style increment failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IncrFloatError {
    /// The stored value is not a number (Redis: "value is not a valid
    /// float" for strings, "hash value is not a float" for hashes).
    BadCurrent,
    /// The increment argument is not a number.
    BadIncrement,
    /// The result would be NaN or infinite.
    NanOrInf,
}

/// INCRBYFLOAT / HINCRBYFLOAT: `current` (None = missing, i.e. 0) plus
/// `incr`, both as their stored/argument text, returning the text that is
/// both stored and replied. Computed as Redis does, in x87 `long double`
/// (see [`LDouble`]).
pub fn incr_by_float(current: Option<&[u8]>, incr: &[u8]) -> Result<String, IncrFloatError> {
    let cur = match current {
        None => LDouble::parse(b"0").ok_or(IncrFloatError::BadCurrent)?,
        Some(b) => LDouble::parse(b).ok_or(IncrFloatError::BadCurrent)?,
    };
    let by = LDouble::parse(incr).ok_or(IncrFloatError::BadIncrement)?;
    let new = cur + by;
    if new.is_nan_or_inf() {
        return Err(IncrFloatError::NanOrInf);
    }
    Ok(new.to_human())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn incr(a: &str, b: &str) -> String {
        let x = LDouble::parse(a.as_bytes()).unwrap();
        let y = LDouble::parse(b.as_bytes()).unwrap();
        (x + y).to_human()
    }

    /// Ground truth from redis-server 7.0.15 (INCRBYFLOAT on x86-64).
    #[test]
    fn matches_redis() {
        assert_eq!(incr("10", "0.1"), "10.1");
        assert_eq!(incr("10.1", "3.0e3"), "3010.10000000000000009");
        assert_eq!(incr("0.1", "0.2"), "0.3");
        assert_eq!(incr("5.0e3", "2.0e2"), "5200");
        assert_eq!(incr("0", "-0"), "0");
        assert_eq!(incr("1", "-1"), "0");
        assert_eq!(incr("0", "1e-20"), "0");
        assert_eq!(incr("0", "0x1p3"), "8");
        assert_eq!(incr("0", "0x10"), "16");
        assert_eq!(incr("3", "1.5"), "4.5");
        assert_eq!(incr("0", "1e300").len(), 301);
    }

    #[test]
    fn string2ld_rules() {
        for bad in [
            " 1", "1 ", "", "abc", "1e", "nan", "1e5000", "1e-5000", "0x", "--1",
        ] {
            assert!(LDouble::parse(bad.as_bytes()).is_none(), "{bad:?}");
        }
        for ok in [
            "1",
            "+1",
            "-1.5",
            ".5",
            "5.",
            "1e400",
            "inf",
            "-Infinity",
            "0x1.8p1",
        ] {
            assert!(LDouble::parse(ok.as_bytes()).is_some(), "{ok:?}");
        }
        assert!(LDouble::parse(b"inf").unwrap().is_nan_or_inf());
        assert!(LDouble::parse(&vec![b'1'; MAX_CHARS]).is_none());
    }

    #[test]
    fn prints_every_magnitude_exactly() {
        // 1e40 is not a long double: the nearest one prints exactly.
        assert_eq!(
            LDouble::parse(b"1e40").unwrap().to_human(),
            "9999999999999999999783686092270256259072"
        );
        let max = LDouble::parse(b"1.18973149535723176502e4932")
            .unwrap()
            .to_human();
        assert_eq!(max.len(), 4933);
        assert_eq!(LDouble::parse(b"-1e-18").unwrap().to_human(), "0", "no -0");
        assert_eq!(LDouble::parse(b"1e-4940").unwrap().to_human(), "0");
    }
}
