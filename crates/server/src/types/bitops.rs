//! Bit operations on string values: `SETBIT`, `GETBIT`, `BITCOUNT`,
//! `BITPOS`, `BITOP`, `BITFIELD` and `BITFIELD_RO`, as Redis 7.0 does them.
//!
//! Bits are numbered from the most significant bit of the first byte, and a
//! string reads as if followed by endless zero bytes. The commands carry
//! quirks that clients and Redis's own test suite see, so they are kept
//! here on purpose:
//!
//! * `BITCOUNT k -1 -5` is 0 before the unit argument is even looked at,
//!   while other ranges are clamped to the string.
//! * `BITPOS k 0` on a string of all ones answers the first bit after the
//!   string, but -1 once an explicit end is given.
//! * `BITFIELD` checks an offset against the length limit, not
//!   offset + width, so a write may grow a string a few bytes past the
//!   limit; `SET` of a negative value on an unsigned field saturates to the
//!   maximum; a missing key written only by failed `OVERFLOW FAIL`
//!   operations is still created, zero-filled.
//!
//! Numbers are parsed with Redis's `string2ll` rules (no sign but `-`, no
//! leading zeros, no spaces, at most 20 bytes), because the same argument
//! must be accepted or refused exactly as Redis would.
//!
//! Functions are pure over byte strings. The caller looks keys up, checks
//! their type (an integer-encoded string is passed as its decimal text),
//! stores results, and propagates when the results say something changed.
//! The caller also keeps Redis's order of checks where it interleaves with
//! key lookups; each function's doc says where that is.

use std::fmt;

/// Errors of the bit commands; [`BitError::message`] is the exact reply.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BitError {
    /// `ERR syntax error`.
    Syntax,
    /// A start, end, value or increment is not a 64-bit integer.
    NotInteger,
    /// A bit offset is not an integer, negative, or beyond the length limit.
    BitOffset,
    /// The `SETBIT` value is not 0 or 1.
    BitValue,
    /// The `BITPOS` bit is not 0 or 1.
    BitArg,
    /// A `BITFIELD` type is not `i1`..`i64` or `u1`..`u63`.
    BitfieldType,
    /// `OVERFLOW` is not followed by `WRAP`, `SAT` or `FAIL`.
    OverflowType,
    /// `BITFIELD_RO` with `SET` or `INCRBY`.
    BitfieldRo,
    /// `BITOP NOT` with more than one source key.
    BitopNot,
}

impl BitError {
    /// The error reply text, without the leading `-`.
    pub const fn message(self) -> &'static str {
        match self {
            BitError::Syntax => "ERR syntax error",
            BitError::NotInteger => "ERR value is not an integer or out of range",
            BitError::BitOffset => "ERR bit offset is not an integer or out of range",
            BitError::BitValue => "ERR bit is not an integer or out of range",
            BitError::BitArg => "ERR The bit argument must be 1 or 0.",
            BitError::BitfieldType => {
                "ERR Invalid bitfield type. Use something like i16 u8. \
                 Note that u64 is not supported but i64 is."
            }
            BitError::OverflowType => "ERR Invalid OVERFLOW type specified",
            BitError::BitfieldRo => "ERR BITFIELD_RO only supports the GET subcommand",
            BitError::BitopNot => "ERR BITOP NOT must be called with a single source key.",
        }
    }
}

impl fmt::Display for BitError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.message())
    }
}

impl std::error::Error for BitError {}

// ---------------------------------------------------------------------------
// Argument parsing
// ---------------------------------------------------------------------------

/// Redis `string2ll`: optional `-`, then `0` alone or a digit 1-9 followed
/// by digits, fitting an `i64`, shorter than 21 bytes.
pub fn parse_i64(arg: &[u8]) -> Option<i64> {
    if arg.is_empty() || arg.len() >= 21 {
        return None;
    }
    if arg == b"0" {
        return Some(0);
    }
    let (negative, digits) = match arg.split_first() {
        Some((b'-', rest)) => (true, rest),
        _ => (false, arg),
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
    if negative {
        if v > 1u64 << 63 {
            return None;
        }
        Some((v as i64).wrapping_neg())
    } else {
        i64::try_from(v).ok()
    }
}

fn parse_int(arg: &[u8]) -> Result<i64, BitError> {
    parse_i64(arg).ok_or(BitError::NotInteger)
}

/// Redis `getBitOffsetFromArgument`. `hash_bits` enables the `#N` form
/// (`BITFIELD`: offset N × width). `max_bytes` is `proto-max-bulk-len`;
/// `None` for the master link and AOF loading, which Redis exempts.
fn parse_offset(
    arg: &[u8],
    hash_bits: Option<u32>,
    max_bytes: Option<u64>,
) -> Result<u64, BitError> {
    let (digits, mult) = match (arg.split_first(), hash_bits) {
        (Some((b'#', rest)), Some(bits)) if bits > 0 => (rest, Some(bits)),
        _ => (arg, None),
    };
    let mut off = parse_i64(digits).ok_or(BitError::BitOffset)?;
    if let Some(bits) = mult {
        // C multiplies without an overflow check; wrapping is what runs.
        off = off.wrapping_mul(i64::from(bits));
    }
    let Ok(off) = u64::try_from(off) else {
        return Err(BitError::BitOffset);
    };
    match max_bytes {
        Some(max) if off >> 3 >= max => Err(BitError::BitOffset),
        _ => Ok(off),
    }
}

/// The offset argument of `SETBIT` and `GETBIT`, parsed before the key is
/// looked up. `max_bytes` is `proto-max-bulk-len` (512 MB by default), or
/// `None` for clients Redis lets through (master link, AOF).
pub fn parse_bit_offset(arg: &[u8], max_bytes: Option<u64>) -> Result<u64, BitError> {
    parse_offset(arg, None, max_bytes)
}

/// The value argument of `SETBIT` (`0` or `1`), parsed after the offset and
/// before the key is looked up.
pub fn parse_bit_value(arg: &[u8]) -> Result<bool, BitError> {
    match parse_i64(arg) {
        Some(0) => Ok(false),
        Some(1) => Ok(true),
        _ => Err(BitError::BitValue),
    }
}

/// The bit argument of `BITPOS`, parsed before the key is looked up.
pub fn parse_bitpos_bit(arg: &[u8]) -> Result<bool, BitError> {
    match parse_int(arg)? {
        0 => Ok(false),
        1 => Ok(true),
        _ => Err(BitError::BitArg),
    }
}

/// `BIT` / `BYTE`, any case; true for `BIT`.
fn parse_unit(arg: &[u8]) -> Result<bool, BitError> {
    if arg.eq_ignore_ascii_case(b"bit") {
        Ok(true)
    } else if arg.eq_ignore_ascii_case(b"byte") {
        Ok(false)
    } else {
        Err(BitError::Syntax)
    }
}

// ---------------------------------------------------------------------------
// GETBIT / SETBIT
// ---------------------------------------------------------------------------

/// `GETBIT`: the bit at `offset`, 0 past the end.
pub fn getbit(s: &[u8], offset: u64) -> bool {
    let Ok(byte) = usize::try_from(offset >> 3) else {
        return false;
    };
    s.get(byte)
        .is_some_and(|&b| b & (0x80 >> (offset & 7)) != 0)
}

/// What `SETBIT` did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SetBit {
    /// The previous bit: the reply.
    pub old: bool,
    /// The string grew or the bit changed: signal the key, notify `setbit`,
    /// count a dirty change and propagate.
    pub dirty: bool,
}

/// `SETBIT`: sets the bit at `offset` (already checked by
/// [`parse_bit_offset`]), growing `s` with zero bytes to reach it. For a
/// missing key pass an empty vector and store it: Redis creates the key
/// even for `SETBIT k n 0`.
pub fn setbit(s: &mut Vec<u8>, offset: u64, on: bool) -> SetBit {
    let byte = usize::try_from(offset >> 3).unwrap_or(usize::MAX);
    let mask = 0x80u8 >> (offset & 7);
    let grew = s.len() <= byte;
    if grew {
        s.resize(byte.saturating_add(1), 0);
    }
    let Some(b) = s.get_mut(byte) else {
        return SetBit {
            old: false,
            dirty: grew,
        };
    };
    let old = *b & mask != 0;
    if on {
        *b |= mask;
    } else {
        *b &= !mask;
    }
    SetBit {
        old,
        dirty: grew || old != on,
    }
}

// ---------------------------------------------------------------------------
// BITCOUNT
// ---------------------------------------------------------------------------

fn popcount(s: &[u8]) -> i64 {
    let mut chunks = s.chunks_exact(8);
    let mut n: u64 = 0;
    for c in &mut chunks {
        let mut w = [0u8; 8];
        w.copy_from_slice(c);
        n += u64::from(u64::from_ne_bytes(w).count_ones());
    }
    n += chunks
        .remainder()
        .iter()
        .map(|b| u64::from(b.count_ones()))
        .sum::<u64>();
    n as i64
}

/// Normalizes a range as `BITCOUNT` and `BITPOS` do: negative indexes count
/// from the end, then clamp to the string. Returns byte `start`/`end` and,
/// for bit units, the masks of the out-of-range bits in the edge bytes.
/// `None` when the range is empty.
fn byte_range(len: usize, start: i64, end: i64, bit_unit: bool) -> Option<(usize, usize, u8, u8)> {
    let mut total = len as i64;
    if bit_unit {
        total = total.saturating_mul(8);
    }
    let mut start = if start < 0 {
        total.saturating_add(start)
    } else {
        start
    };
    let mut end = if end < 0 {
        total.saturating_add(end)
    } else {
        end
    };
    start = start.max(0);
    end = end.max(0);
    if end >= total {
        end = total - 1;
    }
    if start > end {
        return None;
    }
    let (mut first_mask, mut last_mask) = (0u8, 0u8);
    if bit_unit {
        first_mask = !(0xffu8 >> (start & 7));
        last_mask = (0xffu32 >> ((end & 7) + 1)) as u8;
        start >>= 3;
        end >>= 3;
    }
    Some((start as usize, end as usize, first_mask, last_mask))
}

/// `BITCOUNT key start end [BYTE|BIT]`: set bits in the range, with
/// Redis's normalization (negative indexes from the end, then clamped).
/// The whole string is `bitcount(s, 0, -1, false)`.
pub fn bitcount(s: &[u8], start: i64, end: i64, bit_unit: bool) -> i64 {
    if start < 0 && end < 0 && start > end {
        return 0;
    }
    let Some((start, end, first_mask, last_mask)) = byte_range(s.len(), start, end, bit_unit)
    else {
        return 0;
    };
    let Some(range) = s.get(start..=end) else {
        return 0;
    };
    let mut count = popcount(range);
    if let (Some(&f), Some(&l)) = (range.first(), range.last()) {
        count -= i64::from((f & first_mask).count_ones());
        count -= i64::from((l & last_mask).count_ones());
    }
    count
}

/// `BITCOUNT` from its arguments after the key, in Redis's order of
/// checks. `s` is `None` for a missing key, which counts 0 before any
/// argument is looked at; the caller checks the type before calling.
pub fn bitcount_args(s: Option<&[u8]>, args: &[&[u8]]) -> Result<i64, BitError> {
    let Some(s) = s else { return Ok(0) };
    match *args {
        [] => Ok(bitcount(s, 0, -1, false)),
        [start, end] | [start, end, _] => {
            let start = parse_int(start)?;
            let end = parse_int(end)?;
            if start < 0 && end < 0 && start > end {
                return Ok(0);
            }
            let bit_unit = match args.get(2) {
                Some(u) => parse_unit(u)?,
                None => false,
            };
            Ok(bitcount(s, start, end, bit_unit))
        }
        _ => Err(BitError::Syntax),
    }
}

// ---------------------------------------------------------------------------
// BITPOS
// ---------------------------------------------------------------------------

/// Redis `redisBitpos`: the first `bit` in `bytes`; for a 0 not found,
/// the position just after them (zero padding), for a 1 not found, -1.
fn first_bit(bytes: &[u8], bit: bool) -> i64 {
    for (i, &b) in bytes.iter().enumerate() {
        let b = if bit { b } else { !b };
        if b != 0 {
            return i as i64 * 8 + i64::from(b.leading_zeros());
        }
    }
    if bit {
        -1
    } else {
        bytes.len() as i64 * 8
    }
}

/// `BITPOS key bit [start [end [BYTE|BIT]]]` on an existing string.
///
/// `start: None` searches the whole string (end ignored). `end: None`
/// means no end was given: then a 0 is always found, past the string if
/// need be; with an explicit end, -1 when the range holds no 0. An empty
/// range gives -1. A missing key is not handled here: Redis answers -1
/// when looking for 1 and 0 when looking for 0, without parsing the range.
pub fn bitpos(s: &[u8], bit: bool, start: Option<i64>, end: Option<i64>, bit_unit: bool) -> i64 {
    let end_given = start.is_some() && end.is_some();
    let range = match start {
        None => byte_range(s.len(), 0, -1, false),
        Some(st) => {
            let len = s.len() as i64;
            let en = end.unwrap_or(if bit_unit { len * 8 + 7 } else { len - 1 });
            byte_range(s.len(), st, en, bit_unit)
        }
    };
    let Some((mut start, end, first_mask, last_mask)) = range else {
        return -1;
    };
    let byte = |i: usize| s.get(i).copied().unwrap_or(0);
    // Keep Redis's three steps (first byte, middle, last byte): which
    // "not found" position comes out depends on them.
    let mut bytes = end - start + 1;
    let pos = 'found: {
        if first_mask != 0 {
            let mut c = if bit {
                byte(start) & !first_mask
            } else {
                byte(start) | first_mask
            };
            if last_mask != 0 && bytes == 1 {
                c = if bit { c & !last_mask } else { c | last_mask };
            }
            let pos = first_bit(&[c], bit);
            if bytes == 1 || (pos != -1 && pos != 8) {
                break 'found pos;
            }
            start += 1;
            bytes -= 1;
        }
        let cur = bytes - usize::from(last_mask != 0);
        if cur > 0 {
            let pos = first_bit(s.get(start..start + cur).unwrap_or_default(), bit);
            if bytes == cur || (pos != -1 && pos != cur as i64 * 8) {
                break 'found pos;
            }
            start += cur;
            bytes -= cur;
        }
        let c = if bit {
            byte(end) & !last_mask
        } else {
            byte(end) | last_mask
        };
        first_bit(&[c], bit)
    };
    if end_given && !bit && pos == bytes as i64 * 8 {
        return -1;
    }
    if pos != -1 {
        pos + start as i64 * 8
    } else {
        pos
    }
}

/// `BITPOS` from its arguments after the bit, in Redis's order of checks
/// (start, unit, then end). `s` is `None` for a missing key. The caller
/// parses the bit with [`parse_bitpos_bit`] first and checks the key's type
/// in between.
pub fn bitpos_args(s: Option<&[u8]>, bit: bool, args: &[&[u8]]) -> Result<i64, BitError> {
    let Some(s) = s else {
        return Ok(if bit { -1 } else { 0 });
    };
    if args.len() > 3 {
        return Err(BitError::Syntax);
    }
    let Some(start) = args.first() else {
        return Ok(bitpos(s, bit, None, None, false));
    };
    let start = parse_int(start)?;
    let bit_unit = match args.get(2) {
        Some(u) => parse_unit(u)?,
        None => false,
    };
    let end = match args.get(1) {
        Some(e) => Some(parse_int(e)?),
        None => None,
    };
    Ok(bitpos(s, bit, Some(start), end, bit_unit))
}

// ---------------------------------------------------------------------------
// BITOP
// ---------------------------------------------------------------------------

/// The `BITOP` operations.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BitOp {
    /// `AND`
    And,
    /// `OR`
    Or,
    /// `XOR`
    Xor,
    /// `NOT`
    Not,
}

impl BitOp {
    /// Parses the operation name (any case) given the number of source
    /// keys; checked before any key is looked up.
    pub fn parse(name: &[u8], sources: usize) -> Result<BitOp, BitError> {
        let op = if name.eq_ignore_ascii_case(b"and") {
            BitOp::And
        } else if name.eq_ignore_ascii_case(b"or") {
            BitOp::Or
        } else if name.eq_ignore_ascii_case(b"xor") {
            BitOp::Xor
        } else if name.eq_ignore_ascii_case(b"not") {
            BitOp::Not
        } else {
            return Err(BitError::Syntax);
        };
        if op == BitOp::Not && sources != 1 {
            return Err(BitError::BitopNot);
        }
        Ok(op)
    }
}

/// `BITOP`: the result as long as the longest source, shorter sources
/// padded with zeros (missing keys are empty sources). An empty result
/// means the destination is deleted; the reply is the result's length.
pub fn bitop(op: BitOp, srcs: &[&[u8]]) -> Vec<u8> {
    let maxlen = srcs.iter().map(|s| s.len()).max().unwrap_or(0);
    let byte = |s: &[u8], j: usize| s.get(j).copied().unwrap_or(0);
    let first = srcs.first().copied().unwrap_or_default();
    let rest = srcs.get(1..).unwrap_or_default();
    (0..maxlen)
        .map(|j| {
            let init = byte(first, j);
            match op {
                BitOp::Not => !init,
                BitOp::And => rest.iter().fold(init, |acc, s| acc & byte(s, j)),
                BitOp::Or => rest.iter().fold(init, |acc, s| acc | byte(s, j)),
                BitOp::Xor => rest.iter().fold(init, |acc, s| acc ^ byte(s, j)),
            }
        })
        .collect()
}

// ---------------------------------------------------------------------------
// BITFIELD
// ---------------------------------------------------------------------------

/// `OVERFLOW` behaviour of `SET` and `INCRBY` in `BITFIELD`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Overflow {
    /// Wrap around (the default).
    Wrap,
    /// Clamp to the type's minimum or maximum.
    Sat,
    /// Do nothing and reply nil.
    Fail,
}

/// One `BITFIELD` operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldOp {
    /// `GET type offset`
    Get,
    /// `SET type offset value`
    Set(i64),
    /// `INCRBY type offset increment`
    IncrBy(i64),
}

/// A parsed `BITFIELD` subcommand.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Field {
    /// What to do.
    pub op: FieldOp,
    /// `i` types are signed, `u` unsigned.
    pub signed: bool,
    /// Width: 1..=64 signed, 1..=63 unsigned.
    pub bits: u32,
    /// Offset of the first bit (a `#N` offset already multiplied).
    pub offset: u64,
    /// The `OVERFLOW` in force when this operation was parsed.
    pub overflow: Overflow,
}

/// The operations of one `BITFIELD` or `BITFIELD_RO` call, checked in full
/// before the key is looked up, as Redis does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BitfieldPlan {
    fields: Vec<Field>,
    /// The last bit any `SET`/`INCRBY` touches.
    highest_write: Option<u64>,
}

/// The outcome of [`BitfieldPlan::execute`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BitfieldReply {
    /// One reply per operation, `None` (nil) for an `OVERFLOW FAIL` refusal.
    pub values: Vec<Option<i64>>,
    /// Redis's change counter: non-zero means signal the key, notify
    /// `setbit`, add it to the dirty counter and propagate.
    pub changes: u64,
}

fn parse_type(arg: &[u8]) -> Result<(bool, u32), BitError> {
    // Redis reads the width with strlen(): it stops at a NUL byte.
    let (signed, rest) = match arg.split_first() {
        Some((b'i', rest)) => (true, rest),
        Some((b'u', rest)) => (false, rest),
        _ => return Err(BitError::BitfieldType),
    };
    let rest = rest.split(|&b| b == 0).next().unwrap_or_default();
    let max = if signed { 64 } else { 63 };
    match parse_i64(rest) {
        Some(bits) if (1..=max).contains(&bits) => Ok((signed, bits as u32)),
        _ => Err(BitError::BitfieldType),
    }
}

impl BitfieldPlan {
    /// Parses the arguments after the key. `readonly_command` is true for
    /// `BITFIELD_RO`, which then refuses `SET`/`INCRBY` (after every
    /// argument was checked). `max_bytes` is `proto-max-bulk-len`, `None`
    /// for the master link and AOF loading.
    pub fn parse(
        args: &[&[u8]],
        readonly_command: bool,
        max_bytes: Option<u64>,
    ) -> Result<BitfieldPlan, BitError> {
        let mut fields = Vec::new();
        let mut highest_write: Option<u64> = None;
        let mut overflow = Overflow::Wrap;
        let mut j = 0;
        while let Some(sub) = args.get(j) {
            let remaining = args.len() - j - 1;
            let get = sub.eq_ignore_ascii_case(b"get") && remaining >= 2;
            let set = sub.eq_ignore_ascii_case(b"set") && remaining >= 3;
            let incr = sub.eq_ignore_ascii_case(b"incrby") && remaining >= 3;
            if sub.eq_ignore_ascii_case(b"overflow") && remaining >= 1 {
                let name = args.get(j + 1).copied().unwrap_or_default();
                overflow = if name.eq_ignore_ascii_case(b"wrap") {
                    Overflow::Wrap
                } else if name.eq_ignore_ascii_case(b"sat") {
                    Overflow::Sat
                } else if name.eq_ignore_ascii_case(b"fail") {
                    Overflow::Fail
                } else {
                    return Err(BitError::OverflowType);
                };
                j += 2;
                continue;
            }
            if !(get || set || incr) {
                return Err(BitError::Syntax);
            }
            let arg = |k: usize| args.get(j + k).copied().unwrap_or_default();
            let (signed, bits) = parse_type(arg(1))?;
            let offset = parse_offset(arg(2), Some(bits), max_bytes)?;
            let op = if get {
                FieldOp::Get
            } else {
                let last = offset + u64::from(bits) - 1;
                highest_write = Some(highest_write.map_or(last, |h| h.max(last)));
                let v = parse_int(arg(3))?;
                if set {
                    FieldOp::Set(v)
                } else {
                    FieldOp::IncrBy(v)
                }
            };
            fields.push(Field {
                op,
                signed,
                bits,
                offset,
                overflow,
            });
            j += if get { 3 } else { 4 };
        }
        if readonly_command && highest_write.is_some() {
            return Err(BitError::BitfieldRo);
        }
        Ok(BitfieldPlan {
            fields,
            highest_write,
        })
    }

    /// The parsed operations.
    pub fn fields(&self) -> &[Field] {
        &self.fields
    }

    /// True when there are only `GET`s: look the key up for reading, do not
    /// create it, and pass an empty vector for a missing key.
    pub fn is_read_only(&self) -> bool {
        self.highest_write.is_none()
    }

    /// Runs the operations in order on `s`.
    ///
    /// A plan that writes first grows `s` with zeros to hold every written
    /// bit; for a missing key pass an empty vector, and store the result
    /// whatever `changes` says (Redis creates the key even when every write
    /// failed). A read-only plan never modifies `s`.
    pub fn execute(&self, s: &mut Vec<u8>) -> BitfieldReply {
        let mut dirty = false;
        if let Some(h) = self.highest_write {
            let need = usize::try_from(h >> 3)
                .unwrap_or(usize::MAX)
                .saturating_add(1);
            if s.len() < need {
                s.resize(need, 0);
                dirty = true;
            }
        }
        let mut changes = 0;
        let mut values = Vec::with_capacity(self.fields.len());
        for f in &self.fields {
            let value = match f.op {
                FieldOp::Get => Some(get_field(s, f)),
                FieldOp::Set(_) | FieldOp::IncrBy(_) => {
                    let (old, new, reply, overflowed) = if f.signed {
                        signed_write(s, f)
                    } else {
                        unsigned_write(s, f)
                    };
                    if overflowed && f.overflow == Overflow::Fail {
                        None
                    } else {
                        set_bits(s, f.offset, f.bits, new);
                        if dirty || old != new {
                            changes += 1;
                        }
                        Some(reply)
                    }
                }
            };
            values.push(value);
        }
        BitfieldReply { values, changes }
    }
}

fn get_bits(s: &[u8], offset: u64, bits: u32) -> u64 {
    let mut v = 0u64;
    for k in 0..u64::from(bits) {
        let o = offset + k;
        let b = usize::try_from(o >> 3)
            .ok()
            .and_then(|i| s.get(i))
            .copied()
            .unwrap_or(0);
        v = (v << 1) | u64::from((b >> (7 - (o & 7))) & 1);
    }
    v
}

fn set_bits(s: &mut [u8], offset: u64, bits: u32, value: u64) {
    for k in 0..u64::from(bits) {
        let o = offset + k;
        let bit = (value >> (u64::from(bits) - 1 - k)) & 1;
        if let Some(b) = usize::try_from(o >> 3).ok().and_then(|i| s.get_mut(i)) {
            let mask = 0x80u8 >> (o & 7);
            if bit == 1 {
                *b |= mask;
            } else {
                *b &= !mask;
            }
        }
    }
}

fn sign_extend(v: u64, bits: u32) -> i64 {
    if bits < 64 && v & (1 << (bits - 1)) != 0 {
        (v | (u64::MAX << bits)) as i64
    } else {
        v as i64
    }
}

/// `GET`: reads as if the string were followed by zeros.
fn get_field(s: &[u8], f: &Field) -> i64 {
    let v = get_bits(s, f.offset, f.bits);
    if f.signed {
        sign_extend(v, f.bits)
    } else {
        v as i64
    }
}

/// Redis `checkUnsignedBitfieldOverflow`: whether `value + incr` leaves
/// the type, and the value WRAP or SAT would store instead.
fn unsigned_overflow(value: u64, incr: i64, bits: u32, ow: Overflow) -> (bool, u64) {
    let max = if bits == 64 {
        u64::MAX
    } else {
        (1u64 << bits) - 1
    };
    let max_incr = max.wrapping_sub(value) as i64;
    let min_incr = value.wrapping_neg() as i64;
    let wrap = || value.wrapping_add(incr as u64) & !(u64::MAX.checked_shl(bits).unwrap_or(0));
    if value > max || (incr > 0 && incr > max_incr) {
        (true, if ow == Overflow::Sat { max } else { wrap() })
    } else if incr < 0 && incr < min_incr {
        (true, if ow == Overflow::Sat { 0 } else { wrap() })
    } else {
        (false, value.wrapping_add(incr as u64))
    }
}

/// Redis `checkSignedBitfieldOverflow`, same contract.
fn signed_overflow(value: i64, incr: i64, bits: u32, ow: Overflow) -> (bool, i64) {
    let max = if bits == 64 {
        i64::MAX
    } else {
        (1i64 << (bits - 1)) - 1
    };
    let min = -max - 1;
    let max_incr = (max as u64).wrapping_sub(value as u64) as i64;
    let min_incr = min.wrapping_sub(value);
    let wrap = || {
        let c = (value as u64).wrapping_add(incr as u64);
        sign_extend(c & !(u64::MAX.checked_shl(bits).unwrap_or(0)), bits)
    };
    if value > max || (bits != 64 && incr > max_incr) || (value >= 0 && incr > 0 && incr > max_incr)
    {
        (true, if ow == Overflow::Sat { max } else { wrap() })
    } else if value < min
        || (bits != 64 && incr < min_incr)
        || (value < 0 && incr < 0 && incr < min_incr)
    {
        (true, if ow == Overflow::Sat { min } else { wrap() })
    } else {
        (false, value.wrapping_add(incr))
    }
}

/// `SET`/`INCRBY` on a signed field: (old bits, new bits, reply, overflowed).
fn signed_write(s: &[u8], f: &Field) -> (u64, u64, i64, bool) {
    let old = sign_extend(get_bits(s, f.offset, f.bits), f.bits);
    let (overflowed, new, reply) = match f.op {
        FieldOp::IncrBy(incr) => {
            let (o, new) = signed_overflow(old, incr, f.bits, f.overflow);
            (o, new, new)
        }
        FieldOp::Set(v) => {
            let (o, new) = signed_overflow(v, 0, f.bits, f.overflow);
            (o, new, old)
        }
        FieldOp::Get => (false, old, old),
    };
    (old as u64, new as u64, reply, overflowed)
}

/// `SET`/`INCRBY` on an unsigned field: (old bits, new bits, reply,
/// overflowed).
fn unsigned_write(s: &[u8], f: &Field) -> (u64, u64, i64, bool) {
    let old = get_bits(s, f.offset, f.bits);
    let (overflowed, new, reply) = match f.op {
        FieldOp::IncrBy(incr) => {
            let (o, new) = unsigned_overflow(old, incr, f.bits, f.overflow);
            (o, new, new as i64)
        }
        FieldOp::Set(v) => {
            let (o, new) = unsigned_overflow(v as u64, 0, f.bits, f.overflow);
            (o, new, old as i64)
        }
        FieldOp::Get => (false, old, old as i64),
    };
    (old, new, reply, overflowed)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    /// Replies of redis-server 7.0.15 to a script of bit commands, written
    /// by `testdata/gen.py` (its doc explains the notation).
    const FIXTURE: &str = include_str!("testdata/bitops_redis70.txt");

    fn fnv1a(b: &[u8]) -> u64 {
        b.iter().fold(0xcbf2_9ce4_8422_2325, |h, &x| {
            (h ^ u64::from(x)).wrapping_mul(0x100_0000_01b3)
        })
    }

    fn bulk(b: &[u8]) -> String {
        if b.len() <= 256 {
            format!(
                "hex:{}",
                b.iter().map(|x| format!("{x:02x}")).collect::<String>()
            )
        } else {
            format!("fnv:{}:{:016x}", b.len(), fnv1a(b))
        }
    }

    fn expand(line: &str) -> Vec<Vec<u8>> {
        line.split_whitespace()
            .map(|tok| match tok.strip_prefix("x:") {
                Some(h) => (0..h.len())
                    .step_by(2)
                    .map(|i| u8::from_str_radix(&h[i..i + 2], 16).unwrap())
                    .collect(),
                None => tok.as_bytes().to_vec(),
            })
            .collect()
    }

    /// The command layer a server puts around this module, reduced to what
    /// the fixture needs (every key holds a string).
    struct Mini {
        db: HashMap<Vec<u8>, Vec<u8>>,
        max_bulk: u64,
    }

    impl Mini {
        fn run(&mut self, args: &[Vec<u8>]) -> Result<String, BitError> {
            let name = String::from_utf8_lossy(&args[0]).to_ascii_uppercase();
            let key = args.get(1).cloned().unwrap_or_default();
            let rest: Vec<&[u8]> = args.iter().skip(2).map(Vec::as_slice).collect();
            let limit = Some(self.max_bulk);
            Ok(match name.as_str() {
                "FLUSHALL" => {
                    self.db.clear();
                    "+OK".into()
                }
                "CONFIG" => {
                    self.max_bulk = String::from_utf8_lossy(&args[3]).parse().unwrap();
                    "+OK".into()
                }
                "SET" => {
                    self.db.insert(key, args[2].clone());
                    "+OK".into()
                }
                "GET" => self.db.get(&key).map_or("nil".into(), |v| bulk(v)),
                "DEL" => format!(":{}", u8::from(self.db.remove(&key).is_some())),
                "EXISTS" => format!(":{}", u8::from(self.db.contains_key(&key))),
                "STRLEN" => format!(":{}", self.db.get(&key).map_or(0, Vec::len)),
                "GETBIT" => {
                    let off = parse_bit_offset(rest[0], limit)?;
                    let v = self.db.get(&key).map_or(&[][..], Vec::as_slice);
                    format!(":{}", u8::from(getbit(v, off)))
                }
                "SETBIT" => {
                    let off = parse_bit_offset(rest[0], limit)?;
                    let on = parse_bit_value(rest[1])?;
                    let v = self.db.entry(key).or_default();
                    format!(":{}", u8::from(setbit(v, off, on).old))
                }
                "BITCOUNT" => {
                    let v = self.db.get(&key).map(Vec::as_slice);
                    format!(":{}", bitcount_args(v, &rest)?)
                }
                "BITPOS" => {
                    let bit = parse_bitpos_bit(rest[0])?;
                    let v = self.db.get(&key).map(Vec::as_slice);
                    format!(":{}", bitpos_args(v, bit, &rest[1..])?)
                }
                // Arity is checked by the command table, before this module.
                "BITOP" if args.len() < 4 => {
                    "-ERR wrong number of arguments for 'bitop' command".into()
                }
                "BITOP" => {
                    let op = BitOp::parse(&args[1], args.len() - 3)?;
                    let srcs: Vec<&[u8]> = args[3..]
                        .iter()
                        .map(|k| self.db.get(k).map_or(&[][..], Vec::as_slice))
                        .collect();
                    let res = bitop(op, &srcs);
                    let len = res.len();
                    if res.is_empty() {
                        self.db.remove(&args[2]);
                    } else {
                        self.db.insert(args[2].clone(), res);
                    }
                    format!(":{len}")
                }
                "BITFIELD" | "BITFIELD_RO" => {
                    let plan = BitfieldPlan::parse(&rest, name == "BITFIELD_RO", limit)?;
                    let reply = if plan.is_read_only() {
                        let mut v = self.db.get(&key).cloned().unwrap_or_default();
                        let reply = plan.execute(&mut v);
                        assert_eq!(Some(&v), self.db.get(&key).or(Some(&Vec::new())));
                        assert_eq!(reply.changes, 0);
                        reply
                    } else {
                        plan.execute(self.db.entry(key).or_default())
                    };
                    let items: Vec<String> = reply
                        .values
                        .iter()
                        .map(|v| v.map_or("nil".into(), |n| format!(":{n}")))
                        .collect();
                    format!("[{}]", items.join(","))
                }
                _ => unreachable!("{name}"),
            })
        }
    }

    #[test]
    fn integers_follow_string2ll() {
        for (s, want) in [
            ("0", Some(0)),
            ("-1", Some(-1)),
            ("9223372036854775807", Some(i64::MAX)),
            ("-9223372036854775808", Some(i64::MIN)),
            ("9223372036854775808", None),
            ("-9223372036854775809", None),
            ("00", None),
            ("-0", None),
            ("+1", None),
            (" 1", None),
            ("1 ", None),
            ("-", None),
            ("", None),
            ("000000000000000000001", None),
        ] {
            assert_eq!(parse_i64(s.as_bytes()), want, "{s:?}");
        }
    }

    #[test]
    fn error_texts() {
        assert_eq!(
            BitError::BitfieldType.to_string(),
            "ERR Invalid bitfield type. Use something like i16 u8. \
             Note that u64 is not supported but i64 is."
        );
        assert_eq!(
            parse_bit_offset(b"4294967296", Some(512 << 20)),
            Err(BitError::BitOffset)
        );
        // The master link and AOF are not limited.
        assert_eq!(parse_bit_offset(b"4294967296", None), Ok(4_294_967_296));
        assert_eq!(parse_bitpos_bit(b"x"), Err(BitError::NotInteger));
        assert_eq!(parse_bitpos_bit(b"2"), Err(BitError::BitArg));
        assert_eq!(BitOp::parse(b"NOT", 2), Err(BitError::BitopNot));
    }

    #[test]
    fn setbit_reports_dirty() {
        let mut s = Vec::new();
        assert_eq!(
            setbit(&mut s, 9, false),
            SetBit {
                old: false,
                dirty: true
            }
        );
        assert_eq!(s, [0, 0]);
        assert_eq!(
            setbit(&mut s, 9, false),
            SetBit {
                old: false,
                dirty: false
            }
        );
        assert_eq!(
            setbit(&mut s, 9, true),
            SetBit {
                old: false,
                dirty: true
            }
        );
        assert_eq!(
            setbit(&mut s, 9, true),
            SetBit {
                old: true,
                dirty: false
            }
        );
        assert_eq!(s, [0, 0x40]);
        assert!(getbit(&s, 9));
        assert!(!getbit(&s, 1 << 40));
    }

    #[test]
    fn bitfield_plan() {
        let args: Vec<&[u8]> = vec![
            b"GET",
            b"u8",
            b"#2",
            b"OVERFLOW",
            b"SAT",
            b"INCRBY",
            b"i5",
            b"3",
            b"-40",
        ];
        let plan = BitfieldPlan::parse(&args, false, Some(512 << 20)).unwrap();
        assert!(!plan.is_read_only());
        assert_eq!(plan.fields()[0].offset, 16);
        assert_eq!(plan.fields()[1].overflow, Overflow::Sat);
        let mut s = vec![0xff; 3];
        let r = plan.execute(&mut s);
        assert_eq!(r.values, [Some(255), Some(-16)]);
        assert_eq!(r.changes, 1);
        assert_eq!(s, [0xf0, 0xff, 0xff]);
        assert_eq!(
            BitfieldPlan::parse(&args, true, None),
            Err(BitError::BitfieldRo)
        );
    }

    /// BITCOUNT and BITPOS in bit units against a bit-by-bit model.
    #[test]
    fn bit_ranges_match_a_model() {
        let mut x = 0x9e37_79b9_7f4a_7c15_u64;
        let mut next = move || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        for _ in 0..3000 {
            let len = (next() % 6) as usize;
            let s: Vec<u8> = (0..len)
                .map(|_| match next() % 3 {
                    0 => 0,
                    1 => 0xff,
                    _ => next() as u8,
                })
                .collect();
            let bits = len as i64 * 8;
            let start = (next() % 60) as i64 - 30;
            let end = (next() % 60) as i64 - 30;
            let norm = |i: i64| if i < 0 { (bits + i).max(0) } else { i };
            let (a, b) = (norm(start), norm(end).min(bits - 1));
            let bit_at = |i: i64| getbit(&s, i as u64);
            let count = (a..=b).filter(|&i| bit_at(i)).count() as i64;
            let want = if start < 0 && end < 0 && start > end {
                0
            } else {
                count
            };
            assert_eq!(bitcount(&s, start, end, true), want, "{s:?} {start} {end}");
            for bit in [false, true] {
                let found = (a..=b).find(|&i| bit_at(i) == bit).unwrap_or(-1);
                assert_eq!(
                    bitpos(&s, bit, Some(start), Some(end), true),
                    found,
                    "{s:?} {bit} {start} {end}"
                );
            }
        }
    }

    #[test]
    fn replays_redis_70() {
        let mut mini = Mini {
            db: HashMap::new(),
            max_bulk: 512 << 20,
        };
        let mut checked = 0;
        for line in FIXTURE.lines() {
            let Some((cmd, want)) = line.split_once(" => ") else {
                continue;
            };
            let got = mini
                .run(&expand(cmd))
                .unwrap_or_else(|e| format!("-{}", e.message()));
            assert_eq!(got, want, "{cmd}");
            checked += 1;
        }
        assert!(checked > 2000, "fixture not read: {checked}");
    }
}
