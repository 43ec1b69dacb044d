//! Streams (Redis's `t_stream.c` "low level stream encoding" half and
//! `stream.h`), with no reply code.
//!
//! Entries live in nodes keyed by their master ID in an ordered map (Redis's
//! radix tree of 128-bit big-endian IDs orders them the same way). Each
//! node is a listpack laid out exactly as a Redis stream node:
//!
//! ```text
//! master entry: count deleted num-fields field_1 ... field_N 0
//! entry:        flags ms-delta seq-delta [num-fields field_1] value_1 ... lp-count
//! ```
//!
//! where `flags` has `DELETED` (1) and `SAMEFIELDS` (2, the entry's fields
//! are the master's, so only the values are stored). Numbers are held as
//! their decimal text, which is what Redis's `lpGet` returns for them, so a
//! node converts to and from Redis's byte layout element by element (the
//! rdb crate does that). Nodes are bounded by `stream-node-max-bytes`,
//! measured as the size Redis's own listpack would have, and by
//! `stream-node-max-entries`, so node boundaries (and XINFO's
//! `radix-tree-keys`) match Redis's.
//!
//! Consumer groups keep their pending entries lists (PEL) as ordered maps:
//! the group's maps ID → [`Nack`], each consumer's holds the IDs it owns.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

/// Entry flag: deleted (a tombstone until the node goes).
pub const FLAG_DELETED: i64 = 1;
/// Entry flag: same fields as the master entry.
pub const FLAG_SAMEFIELDS: i64 = 2;

/// Redis's `STREAM_LISTPACK_MAX_SIZE`: a node never grows past 1 GiB.
pub const LISTPACK_MAX_SIZE: usize = 1 << 30;

/// `SCG_INVALID_ENTRIES_READ`: a group's read counter that is unknown.
pub const INVALID_ENTRIES_READ: i64 = -1;

/// A stream entry ID: milliseconds and sequence number.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct StreamId {
    /// Unix time in ms (or whatever the client gave).
    pub ms: u64,
    /// Sequence within the millisecond.
    pub seq: u64,
}

impl StreamId {
    /// 0-0.
    pub const MIN: StreamId = StreamId { ms: 0, seq: 0 };
    /// The largest ID.
    pub const MAX: StreamId = StreamId {
        ms: u64::MAX,
        seq: u64::MAX,
    };

    /// An ID.
    pub const fn new(ms: u64, seq: u64) -> StreamId {
        StreamId { ms, seq }
    }

    /// Whether this is 0-0.
    pub fn is_zero(&self) -> bool {
        self.ms == 0 && self.seq == 0
    }

    /// The successor (`streamIncrID`), None past the maximum.
    pub fn next(self) -> Option<StreamId> {
        if self.seq == u64::MAX {
            if self.ms == u64::MAX {
                None
            } else {
                Some(StreamId::new(self.ms + 1, 0))
            }
        } else {
            Some(StreamId::new(self.ms, self.seq + 1))
        }
    }

    /// The predecessor (`streamDecrID`), None before 0-0.
    pub fn prev(self) -> Option<StreamId> {
        if self.seq == 0 {
            if self.ms == 0 {
                None
            } else {
                Some(StreamId::new(self.ms - 1, u64::MAX))
            }
        } else {
            Some(StreamId::new(self.ms, self.seq - 1))
        }
    }

    /// Parse `ms[-seq]`, the `-seq` part defaulting to `missing_seq`; with
    /// `allow_auto_seq`, `ms-*` parses with `seq_given` false (XADD).
    /// Returns (id, seq_given). Redis's `streamGenericParseIDOrReply`
    /// without the `-`/`+` shortcuts.
    pub fn parse(s: &[u8], missing_seq: u64, allow_auto_seq: bool) -> Option<(StreamId, bool)> {
        if s.len() > 127 {
            return None;
        }
        match s.iter().position(|&b| b == b'-') {
            None => Some((StreamId::new(parse_u64(s)?, missing_seq), true)),
            Some(dash) => {
                let ms = parse_u64(&s[..dash])?;
                let rest = &s[dash + 1..];
                if allow_auto_seq && rest == b"*" {
                    return Some((StreamId::new(ms, 0), false));
                }
                Some((StreamId::new(ms, parse_u64(rest)?), true))
            }
        }
    }

    /// The 16-byte big-endian form (the radix-tree key, the RDB form).
    pub fn to_be_bytes(self) -> [u8; 16] {
        let mut b = [0u8; 16];
        b[..8].copy_from_slice(&self.ms.to_be_bytes());
        b[8..].copy_from_slice(&self.seq.to_be_bytes());
        b
    }

    /// From the 16-byte big-endian form.
    pub fn from_be_bytes(b: &[u8; 16]) -> StreamId {
        let mut ms = [0u8; 8];
        let mut seq = [0u8; 8];
        ms.copy_from_slice(&b[..8]);
        seq.copy_from_slice(&b[8..]);
        StreamId::new(u64::from_be_bytes(ms), u64::from_be_bytes(seq))
    }
}

/// Redis's `string2ull`: plain decimal digits, no sign, no overflow.
fn parse_u64(s: &[u8]) -> Option<u64> {
    if s.is_empty() || s.len() > 20 || !s.iter().all(u8::is_ascii_digit) {
        return None;
    }
    std::str::from_utf8(s).ok()?.parse().ok()
}

impl fmt::Display for StreamId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}-{}", self.ms, self.seq)
    }
}

impl fmt::Debug for StreamId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}-{}", self.ms, self.seq)
    }
}

/// A pending entry: delivered to a consumer and not yet acknowledged.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Nack {
    /// When it was last delivered (ms).
    pub delivery_time: i64,
    /// How many times it was delivered.
    pub delivery_count: u64,
    /// The consumer that owns it.
    pub consumer: Box<[u8]>,
}

/// A consumer of a group.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Consumer {
    /// Last time it was active (ms).
    pub seen_time: i64,
    /// The IDs it owns in the group's PEL.
    pub pel: BTreeSet<StreamId>,
}

/// A consumer group.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Group {
    /// Last delivered ID.
    pub last_id: StreamId,
    /// The logical read counter, [`INVALID_ENTRIES_READ`] when unknown.
    pub entries_read: i64,
    /// Pending entries of every consumer.
    pub pel: BTreeMap<StreamId, Nack>,
    /// Consumers by name.
    pub consumers: BTreeMap<Box<[u8]>, Consumer>,
}

impl Group {
    /// A new group delivering after `last_id`.
    pub fn new(last_id: StreamId, entries_read: i64) -> Group {
        Group {
            last_id,
            entries_read,
            pel: BTreeMap::new(),
            consumers: BTreeMap::new(),
        }
    }

    /// Add a NACK for `id` owned by `consumer` (which must exist), or hand
    /// an existing one over to it with a fresh time and count 1, as a first
    /// delivery does.
    pub fn deliver(&mut self, id: StreamId, consumer: &[u8], now: i64) {
        if let Some(old) = self.pel.get(&id) {
            if let Some(c) = self.consumers.get_mut(&old.consumer) {
                c.pel.remove(&id);
            }
        }
        self.pel.insert(
            id,
            Nack {
                delivery_time: now,
                delivery_count: 1,
                consumer: consumer.into(),
            },
        );
        if let Some(c) = self.consumers.get_mut(consumer) {
            c.pel.insert(id);
        }
    }

    /// Remove the NACK for `id`; true when there was one.
    pub fn ack(&mut self, id: StreamId) -> bool {
        match self.pel.remove(&id) {
            Some(n) => {
                if let Some(c) = self.consumers.get_mut(&n.consumer) {
                    c.pel.remove(&id);
                }
                true
            }
            None => false,
        }
    }

    /// Remove a consumer and its pending entries; returns how many it had.
    pub fn delete_consumer(&mut self, name: &[u8]) -> Option<usize> {
        let c = self.consumers.remove(name)?;
        for id in &c.pel {
            self.pel.remove(id);
        }
        Some(c.pel.len())
    }
}

/// How XADD picks the new entry's ID.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NewId {
    /// `*`: from the clock (given as `now_ms`).
    Auto(u64),
    /// `ms-*`: this ms, the sequence generated.
    AutoSeq(u64),
    /// An explicit ID.
    Exact(StreamId),
}

/// Why an append failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AddError {
    /// The ID is not greater than the top item (or generation overflowed).
    IdTooSmall,
    /// The fields are too large for a node.
    TooLarge,
}

/// How to trim (XADD/XTRIM's MAXLEN/MINID).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TrimBy {
    /// Keep at most this many entries.
    MaxLen(u64),
    /// Remove entries below this ID.
    MinId(StreamId),
}

/// The node size limits (from config).
#[derive(Clone, Copy, Debug)]
pub struct NodeLimits {
    /// `stream-node-max-bytes` (0 = no limit but the listpack's).
    pub max_bytes: usize,
    /// `stream-node-max-entries` (0 = no limit).
    pub max_entries: i64,
}

impl Default for NodeLimits {
    fn default() -> Self {
        NodeLimits {
            max_bytes: 4096,
            max_entries: 100,
        }
    }
}

/// One node: a listpack in Redis's own byte layout (6-byte header,
/// integer and string encodings with back-lengths, the end byte) holding a
/// Redis stream node, so that its size, and so the node limits and the
/// memory, are Redis's.
#[derive(Clone, PartialEq, Eq)]
pub struct Node {
    lp: Vec<u8>,
}

/// Bytes of Redis's listpack header.
const LP_HDR: usize = 6;
/// The end byte.
const LP_EOF: u8 = 0xFF;
/// Header and end byte.
#[cfg(test)]
const LP_OVERHEAD: usize = 7;

/// One element of a node: a string, or an integer as Redis's listpack
/// keeps canonical integers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Elem<'a> {
    /// Bytes.
    Str(&'a [u8]),
    /// An integer.
    Int(i64),
}

impl<'a> Elem<'a> {
    /// The element as Redis shows it (integers in decimal).
    pub fn bytes(self) -> std::borrow::Cow<'a, [u8]> {
        match self {
            Elem::Str(s) => std::borrow::Cow::Borrowed(s),
            Elem::Int(v) => {
                std::borrow::Cow::Owned(itoa::Buffer::new().format(v).as_bytes().to_vec())
            }
        }
    }

    fn int(self) -> i64 {
        match self {
            Elem::Int(v) => v,
            Elem::Str(s) => crate::util::num::parse_i64(s).unwrap_or(0),
        }
    }

    fn eq_bytes(self, b: &[u8]) -> bool {
        match self {
            Elem::Str(s) => s == b,
            Elem::Int(v) => itoa::Buffer::new().format(v).as_bytes() == b,
        }
    }
}

/// Size of a back-length for an entry of `l` bytes.
fn backlen_size(l: usize) -> usize {
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

/// Append Redis's back-length of `l`.
fn push_backlen(out: &mut Vec<u8>, l: usize) {
    let l = l as u64;
    match backlen_size(l as usize) {
        1 => out.push(l as u8),
        2 => out.extend_from_slice(&[(l >> 7) as u8, ((l & 127) | 128) as u8]),
        3 => out.extend_from_slice(&[
            (l >> 14) as u8,
            (((l >> 7) & 127) | 128) as u8,
            ((l & 127) | 128) as u8,
        ]),
        4 => out.extend_from_slice(&[
            (l >> 21) as u8,
            (((l >> 14) & 127) | 128) as u8,
            (((l >> 7) & 127) | 128) as u8,
            ((l & 127) | 128) as u8,
        ]),
        _ => out.extend_from_slice(&[
            (l >> 28) as u8,
            (((l >> 21) & 127) | 128) as u8,
            (((l >> 14) & 127) | 128) as u8,
            (((l >> 7) & 127) | 128) as u8,
            ((l & 127) | 128) as u8,
        ]),
    }
}

/// Encode an integer as Redis's listpack does (`lpEncodeIntegerGetType`).
fn encode_int(out: &mut Vec<u8>, v: i64) {
    let start = out.len();
    match v {
        0..=127 => out.push(v as u8),
        -4096..=4095 => {
            let u = (v as u64) & 0x1fff;
            out.push(0xC0 | (u >> 8) as u8);
            out.push(u as u8);
        }
        -32768..=32767 => {
            out.push(0xF1);
            out.extend_from_slice(&(v as i16).to_le_bytes());
        }
        -8_388_608..=8_388_607 => {
            out.push(0xF2);
            out.extend_from_slice(&(v as i32).to_le_bytes()[..3]);
        }
        -2_147_483_648..=2_147_483_647 => {
            out.push(0xF3);
            out.extend_from_slice(&(v as i32).to_le_bytes());
        }
        _ => {
            out.push(0xF4);
            out.extend_from_slice(&v.to_le_bytes());
        }
    }
    let l = out.len() - start;
    push_backlen(out, l);
}

/// Encode a string (or, when it is a canonical integer, an integer) as
/// Redis's `lpAppend`.
fn encode_elem(out: &mut Vec<u8>, s: &[u8]) {
    if let Some(v) = lp_int(s) {
        return encode_int(out, v);
    }
    let start = out.len();
    let n = s.len();
    if n < 64 {
        out.push(0x80 | n as u8);
    } else if n < 4096 {
        out.push(0xE0 | (n >> 8) as u8);
        out.push(n as u8);
    } else {
        out.push(0xF0);
        out.extend_from_slice(&(n as u32).to_le_bytes());
    }
    out.extend_from_slice(s);
    let l = out.len() - start;
    push_backlen(out, l);
}

/// The size of one element in Redis's listpack encoding.
pub fn redis_lp_entry_size(s: &[u8]) -> usize {
    let mut v = Vec::new();
    encode_elem(&mut v, s);
    v.len()
}

/// Whether Redis's listpack stores `s` as an integer (`lpStringToInt64`).
pub fn lp_int(s: &[u8]) -> Option<i64> {
    if s.is_empty() || s.len() > 20 {
        return None;
    }
    crate::util::num::parse_i64(s)
}

/// Decode the element at `pos` of a listpack we wrote: it and the position
/// of the next one.
fn elem_at(buf: &[u8], pos: usize) -> Option<(Elem<'_>, usize)> {
    let b = *buf.get(pos)?;
    let sl = |from: usize, n: usize| buf.get(from..from + n);
    let (e, enc) = if b & 0x80 == 0 {
        (Elem::Int(i64::from(b)), 1)
    } else if b & 0xC0 == 0x80 {
        let n = usize::from(b & 0x3F);
        (Elem::Str(sl(pos + 1, n)?), 1 + n)
    } else if b & 0xE0 == 0xC0 {
        let u = (u64::from(b & 0x1F) << 8) | u64::from(*buf.get(pos + 1)?);
        let v = if u >= 1 << 12 {
            u as i64 - (1 << 13)
        } else {
            u as i64
        };
        (Elem::Int(v), 2)
    } else if b & 0xF0 == 0xE0 {
        let n = (usize::from(b & 0x0F) << 8) | usize::from(*buf.get(pos + 1)?);
        (Elem::Str(sl(pos + 2, n)?), 2 + n)
    } else {
        match b {
            0xF1 => {
                let d = sl(pos + 1, 2)?;
                (Elem::Int(i64::from(i16::from_le_bytes([d[0], d[1]]))), 3)
            }
            0xF2 => {
                let d = sl(pos + 1, 3)?;
                let v = i32::from_le_bytes([0, d[0], d[1], d[2]]) >> 8;
                (Elem::Int(i64::from(v)), 4)
            }
            0xF3 => {
                let d = sl(pos + 1, 4)?;
                (
                    Elem::Int(i64::from(i32::from_le_bytes([d[0], d[1], d[2], d[3]]))),
                    5,
                )
            }
            0xF4 => {
                let d = sl(pos + 1, 8)?;
                let mut a = [0u8; 8];
                a.copy_from_slice(d);
                (Elem::Int(i64::from_le_bytes(a)), 9)
            }
            0xF0 => {
                let d = sl(pos + 1, 4)?;
                let n = u32::from_le_bytes([d[0], d[1], d[2], d[3]]) as usize;
                (Elem::Str(sl(pos + 5, n)?), 5 + n)
            }
            _ => return None,
        }
    };
    Some((e, pos + enc + backlen_size(enc)))
}

impl Node {
    fn new() -> Node {
        let mut lp = Vec::with_capacity(64);
        lp.extend_from_slice(&[0; LP_HDR]);
        lp.push(LP_EOF);
        let mut n = Node { lp };
        n.fix_header(0);
        n
    }

    fn num_elems(&self) -> usize {
        usize::from(u16::from_le_bytes([self.lp[4], self.lp[5]]))
    }

    fn fix_header(&mut self, count: usize) {
        let total = (self.lp.len() as u32).to_le_bytes();
        self.lp[..4].copy_from_slice(&total);
        let n = if count < 65535 { count as u16 } else { 65535 };
        self.lp[4..6].copy_from_slice(&n.to_le_bytes());
    }

    fn push_with(&mut self, f: impl FnOnce(&mut Vec<u8>)) {
        let n = self.num_elems();
        self.lp.pop();
        f(&mut self.lp);
        self.lp.push(LP_EOF);
        self.fix_header(n + 1);
    }

    fn push_int(&mut self, v: i64) {
        self.push_with(|lp| encode_int(lp, v));
    }

    fn push(&mut self, s: &[u8]) {
        self.push_with(|lp| encode_elem(lp, s));
    }

    /// Replace the integer element at byte offset `pos`.
    fn replace_int_at(&mut self, pos: usize, v: i64) {
        let Some((_, next)) = elem_at(&self.lp, pos) else {
            return;
        };
        let mut enc = Vec::with_capacity(10);
        encode_int(&mut enc, v);
        let n = self.num_elems();
        self.lp.splice(pos..next, enc);
        self.fix_header(n);
    }

    fn int_at(&self, pos: usize) -> i64 {
        elem_at(&self.lp, pos).map(|(e, _)| e.int()).unwrap_or(0)
    }

    /// Byte offset of the second element (the deleted count).
    fn second(&self) -> usize {
        elem_at(&self.lp, LP_HDR).map(|(_, n)| n).unwrap_or(LP_HDR)
    }

    /// Give back the spare capacity (a node that is full).
    fn shrink(&mut self) {
        self.lp.shrink_to_fit();
    }

    /// The node's elements, as Redis's `lpGet` shows them.
    pub fn elements(&self) -> impl Iterator<Item = Elem<'_>> {
        let mut pos = LP_HDR;
        std::iter::from_fn(move || {
            let (e, next) = elem_at(&self.lp, pos)?;
            pos = next;
            Some(e)
        })
    }

    /// The node's listpack bytes (Redis's layout).
    pub fn bytes(&self) -> &[u8] {
        &self.lp
    }

    /// The size of this node in Redis's listpack encoding.
    pub fn redis_bytes(&self) -> usize {
        self.lp.len()
    }

    /// Heap bytes held.
    pub fn allocated_bytes(&self) -> usize {
        self.lp.capacity()
    }

    /// Live entries.
    pub fn count(&self) -> i64 {
        self.int_at(LP_HDR)
    }

    fn deleted(&self) -> i64 {
        self.int_at(self.second())
    }

    fn set_counts(&mut self, count: i64, deleted: i64) {
        self.replace_int_at(LP_HDR, count);
        let second = self.second();
        self.replace_int_at(second, deleted);
    }

    /// Build a node from the elements of a Redis node listpack (already
    /// validated by [`validate_node`]).
    pub fn from_elements<'a>(elems: impl IntoIterator<Item = &'a [u8]>) -> Node {
        let mut n = Node::new();
        for e in elems {
            n.push(e);
        }
        n.shrink();
        n
    }

    /// The master entry: its fields and the offset of the first entry.
    fn master_fields(&self) -> (Vec<Elem<'_>>, usize) {
        let mut pos = LP_HDR;
        let next = |pos: &mut usize| -> Option<Elem<'_>> {
            let (e, n) = elem_at(&self.lp, *pos)?;
            *pos = n;
            Some(e)
        };
        next(&mut pos);
        next(&mut pos);
        let nmf = next(&mut pos).map(Elem::int).unwrap_or(0).max(0) as usize;
        let mut fields = Vec::with_capacity(nmf);
        for _ in 0..nmf {
            match next(&mut pos) {
                Some(e) => fields.push(e),
                None => break,
            }
        }
        next(&mut pos);
        (fields, pos)
    }

    /// Decode the entry at `pos`: its fields and values into `fv`; returns
    /// the ID, whether deleted, and the next entry's offset.
    fn entry_at<'a>(
        &'a self,
        pos: usize,
        master: StreamId,
        mfields: &[Elem<'a>],
        fv: &mut Vec<Elem<'a>>,
    ) -> Option<(StreamId, bool, usize)> {
        let mut p = pos;
        let mut next = || -> Option<Elem<'a>> {
            let (e, n) = elem_at(&self.lp, p)?;
            p = n;
            Some(e)
        };
        let flags = next()?.int();
        let msd = next()?.int();
        let seqd = next()?.int();
        let id = StreamId::new(
            master.ms.wrapping_add(msd as u64),
            master.seq.wrapping_add(seqd as u64),
        );
        fv.clear();
        if flags & FLAG_SAMEFIELDS != 0 {
            for mf in mfields {
                fv.push(*mf);
                fv.push(next()?);
            }
        } else {
            let nf = next()?.int().max(0) as usize;
            for _ in 0..nf * 2 {
                fv.push(next()?);
            }
        }
        next()?;
        Some((id, flags & FLAG_DELETED != 0, p))
    }

    /// Visit the entries (deleted ones too) in order: the flags element's
    /// offset, the ID, whether deleted, and the fields and values
    /// alternating. Stops when `f` returns false; returns false then.
    fn for_each<'a>(
        &'a self,
        master: StreamId,
        f: impl FnMut(usize, StreamId, bool, &[Elem<'a>]) -> bool,
    ) -> bool {
        self.for_each_from(master, StreamId::MIN, f)
    }

    /// Step over the entry at `pos` if its ID is below `min` (without
    /// decoding its fields): the next entry's offset, or None when the
    /// entry is at or above `min`.
    fn skip_below(&self, pos: usize, master: StreamId, nmf: usize, min: StreamId) -> Option<usize> {
        let (flags, p) = elem_at(&self.lp, pos)?;
        let (msd, p) = elem_at(&self.lp, p)?;
        let (seqd, mut p) = elem_at(&self.lp, p)?;
        let id = StreamId::new(
            master.ms.wrapping_add(msd.int() as u64),
            master.seq.wrapping_add(seqd.int() as u64),
        );
        if id >= min {
            return None;
        }
        let n = if flags.int() & FLAG_SAMEFIELDS != 0 {
            nmf
        } else {
            let (nf, q) = elem_at(&self.lp, p)?;
            p = q;
            nf.int().max(0) as usize * 2
        };
        for _ in 0..=n {
            p = elem_at(&self.lp, p)?.1;
        }
        Some(p)
    }

    /// `for_each` from the first entry at or above `min`.
    fn for_each_from<'a>(
        &'a self,
        master: StreamId,
        min: StreamId,
        mut f: impl FnMut(usize, StreamId, bool, &[Elem<'a>]) -> bool,
    ) -> bool {
        let (mfields, mut pos) = self.master_fields();
        if min > master {
            while pos < self.lp.len() - 1 {
                match self.skip_below(pos, master, mfields.len(), min) {
                    Some(next) => pos = next,
                    None => break,
                }
            }
        }
        let mut fv = Vec::with_capacity(mfields.len() * 2);
        while pos < self.lp.len() - 1 {
            let Some((id, del, next)) = self.entry_at(pos, master, &mfields, &mut fv) else {
                return true;
            };
            if !f(pos, id, del, &fv) {
                return false;
            }
            pos = next;
        }
        true
    }

    /// Whether the master entry's fields are these.
    fn same_master_fields<'f>(&self, mut fields: impl ExactSizeIterator<Item = &'f [u8]>) -> bool {
        let mut pos = LP_HDR;
        for _ in 0..2 {
            match elem_at(&self.lp, pos) {
                Some((_, n)) => pos = n,
                None => return false,
            }
        }
        let Some((nmf, mut pos)) = elem_at(&self.lp, pos) else {
            return false;
        };
        if nmf.int() != fields.len() as i64 {
            return false;
        }
        fields.all(|f| match elem_at(&self.lp, pos) {
            Some((e, n)) => {
                pos = n;
                e.eq_bytes(f)
            }
            None => false,
        })
    }

    /// Where the element that ends just before byte `end` starts, read
    /// through its back-length (`lpDecodeBacklen`).
    fn prev_start(&self, end: usize) -> Option<usize> {
        let mut val = 0usize;
        let mut shift = 0;
        let mut p = end.checked_sub(1)?;
        loop {
            let b = *self.lp.get(p)?;
            val |= usize::from(b & 127) << shift;
            if b & 128 == 0 || shift >= 28 {
                break;
            }
            shift += 7;
            p = p.checked_sub(1)?;
        }
        end.checked_sub(backlen_size(val) + val)
            .filter(|&s| s >= LP_HDR)
    }

    /// The last entry's ID and whether it is deleted, read from the end
    /// through its lp-count, as Redis's reverse iterator does.
    fn last_entry(&self, master: StreamId) -> Option<(StreamId, bool)> {
        let end = self.lp.len() - 1;
        let lpc_at = self.prev_start(end)?;
        let lp_count = elem_at(&self.lp, lpc_at)?.0.int();
        if lp_count <= 0 {
            return None;
        }
        let mut at = lpc_at;
        for _ in 0..lp_count {
            at = self.prev_start(at)?;
        }
        let (flags, p) = elem_at(&self.lp, at)?;
        let (msd, p) = elem_at(&self.lp, p)?;
        let (seqd, _) = elem_at(&self.lp, p)?;
        let id = StreamId::new(
            master.ms.wrapping_add(msd.int() as u64),
            master.seq.wrapping_add(seqd.int() as u64),
        );
        Some((id, flags.int() & FLAG_DELETED != 0))
    }

    /// The first or last live ID of the node.
    fn edge(&self, master: StreamId, last: bool) -> Option<StreamId> {
        if last {
            if let Some((id, false)) = self.last_entry(master) {
                return Some(id);
            }
        }
        let mut found = None;
        self.for_each(master, |_, id, del, _| {
            if !del {
                found = Some(id);
                return last;
            }
            true
        });
        found
    }
}

/// Render elements as byte strings for a reply (integers in decimal).
pub fn render<'a>(fv: &[Elem<'a>]) -> Vec<std::borrow::Cow<'a, [u8]>> {
    fv.iter().map(|e| e.bytes()).collect()
}

impl fmt::Debug for Node {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.elements()).finish()
    }
}

/// A stream.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Stream {
    nodes: BTreeMap<StreamId, Node>,
    length: u64,
    last_id: StreamId,
    first_id: StreamId,
    max_deleted_entry_id: StreamId,
    entries_added: u64,
    groups: BTreeMap<Box<[u8]>, Group>,
}

impl Stream {
    /// An empty stream.
    pub fn new() -> Stream {
        Stream::default()
    }

    /// Number of live entries.
    pub fn len(&self) -> u64 {
        self.length
    }

    /// Whether there are no live entries (a stream key may still exist).
    pub fn is_empty(&self) -> bool {
        self.length == 0
    }

    /// The last ID ever added (or set by XSETID).
    pub fn last_id(&self) -> StreamId {
        self.last_id
    }

    /// The first live ID (0-0 when empty).
    pub fn first_id(&self) -> StreamId {
        self.first_id
    }

    /// The largest ID ever deleted.
    pub fn max_deleted_entry_id(&self) -> StreamId {
        self.max_deleted_entry_id
    }

    /// How many entries were ever added.
    pub fn entries_added(&self) -> u64 {
        self.entries_added
    }

    /// XSETID / RDB load: the metadata.
    pub fn set_meta(&mut self, last_id: StreamId, entries_added: u64, max_deleted: StreamId) {
        self.last_id = last_id;
        self.entries_added = entries_added;
        self.max_deleted_entry_id = max_deleted;
    }

    /// RDB load: the length and first ID as the file says.
    pub fn set_length_and_first(&mut self, length: u64, first_id: StreamId) {
        self.length = length;
        self.first_id = first_id;
    }

    /// Number of nodes (XINFO's `radix-tree-keys`).
    pub fn node_count(&self) -> usize {
        self.nodes.len()
    }

    /// The nodes in order, by master ID.
    pub fn nodes(&self) -> impl Iterator<Item = (&StreamId, &Node)> {
        self.nodes.iter()
    }

    /// Whether every entry (deleted ones too) is above the one before and
    /// at or above its node's master ID (a loaded stream's check).
    pub fn ids_ascend(&self) -> bool {
        let mut prev: Option<StreamId> = None;
        for (master, node) in &self.nodes {
            let ok = node.for_each(*master, |_, id, _, _| {
                let fine = id >= *master && prev.is_none_or(|p| id > p);
                prev = Some(id);
                fine
            });
            if !ok {
                return false;
            }
        }
        true
    }

    /// RDB load: add a node (validated) under its master ID.
    pub fn insert_node(&mut self, master: StreamId, node: Node) {
        self.nodes.insert(master, node);
    }

    /// MEMORY USAGE's estimate, as Redis's `objectComputeSize` for
    /// streams: the radix tree's overhead, the first `samples` nodes'
    /// average for all but the last node plus the last one's real size, and
    /// the groups' and consumers' pending lists.
    pub fn memory_usage(&self, samples: usize) -> usize {
        fn tree(keys: usize, nodes: usize) -> usize {
            keys * 16 + nodes * 4 + nodes * 8 * 30
        }
        let keys: Vec<[u8; 16]> = self.nodes.keys().map(|k| k.to_be_bytes()).collect();
        let mut size = 16 + 80 + tree(keys.len(), rax_nodes(&keys));
        let sampled: Vec<usize> = self
            .nodes
            .values()
            .take(samples.max(1))
            .map(Node::allocated_bytes)
            .collect();
        let lpsize: usize = sampled.iter().sum();
        if self.nodes.len() <= sampled.len() {
            size += lpsize;
        } else {
            let avg = lpsize / sampled.len().max(1);
            size += avg * (self.nodes.len() - 1);
            size += self
                .nodes
                .values()
                .next_back()
                .map_or(0, Node::allocated_bytes);
        }
        for g in self.groups.values() {
            let pel: Vec<[u8; 16]> = g.pel.keys().map(|k| k.to_be_bytes()).collect();
            size += 40 + tree(pel.len(), rax_nodes(&pel)) + 24 * pel.len();
            for (name, c) in &g.consumers {
                let cp: Vec<[u8; 16]> = c.pel.iter().map(|k| k.to_be_bytes()).collect();
                size += 24 + name.len() + tree(cp.len(), rax_nodes(&cp));
            }
        }
        size
    }

    /// Consumer groups by name.
    pub fn groups(&self) -> &BTreeMap<Box<[u8]>, Group> {
        &self.groups
    }

    /// A group.
    pub fn group(&self, name: &[u8]) -> Option<&Group> {
        self.groups.get(name)
    }

    /// A group, to change.
    pub fn group_mut(&mut self, name: &[u8]) -> Option<&mut Group> {
        self.groups.get_mut(name)
    }

    /// Create a group; false when it exists.
    pub fn create_group(&mut self, name: &[u8], last_id: StreamId, entries_read: i64) -> bool {
        if self.groups.contains_key(name) {
            return false;
        }
        self.groups
            .insert(name.into(), Group::new(last_id, entries_read));
        true
    }

    /// Destroy a group; false when there was none.
    pub fn destroy_group(&mut self, name: &[u8]) -> bool {
        self.groups.remove(name).is_some()
    }

    /// Append an entry of `fv` (fields and values alternating, at least
    /// one pair), returning its ID. Redis's `streamAppendItem`.
    pub fn append(
        &mut self,
        new: NewId,
        fv: &[&[u8]],
        lim: NodeLimits,
    ) -> Result<StreamId, AddError> {
        let id = match new {
            NewId::Auto(now) => {
                if now > self.last_id.ms {
                    StreamId::new(now, 0)
                } else {
                    self.last_id.next().ok_or(AddError::IdTooSmall)?
                }
            }
            NewId::AutoSeq(ms) => {
                if ms == self.last_id.ms {
                    if self.last_id.seq == u64::MAX {
                        // Redis fails here without setting errno, and
                        // answers with the other error.
                        return Err(AddError::TooLarge);
                    }
                    StreamId::new(ms, self.last_id.seq + 1)
                } else {
                    StreamId::new(ms, 0)
                }
            }
            NewId::Exact(id) => id,
        };
        if id <= self.last_id {
            return Err(AddError::IdTooSmall);
        }
        let total: usize = fv.iter().map(|s| s.len()).sum();
        if total > LISTPACK_MAX_SIZE {
            return Err(AddError::TooLarge);
        }
        let nfields = fv.len() / 2;
        let mut max_bytes = lim.max_bytes;
        if max_bytes == 0 || max_bytes > LISTPACK_MAX_SIZE {
            max_bytes = LISTPACK_MAX_SIZE;
        }
        let tail_full = match self.nodes.last_key_value() {
            None => true,
            Some((_, n)) => {
                n.redis_bytes() + total >= max_bytes
                    || (lim.max_entries != 0 && n.count() + n.deleted() >= lim.max_entries)
            }
        };
        let mut flags = 0;
        if tail_full {
            if let Some((_, last)) = self.nodes.iter_mut().next_back() {
                last.shrink();
            }
            let mut n = Node::new();
            n.push_int(1);
            n.push_int(0);
            n.push_int(nfields as i64);
            for f in fv.iter().step_by(2) {
                n.push(f);
            }
            n.push_int(0);
            self.nodes.insert(id, n);
            flags |= FLAG_SAMEFIELDS;
        }
        let Some((master, node)) = self.nodes.iter_mut().next_back() else {
            return Err(AddError::TooLarge);
        };
        let master = *master;
        if !tail_full {
            let count = node.count();
            node.replace_int_at(LP_HDR, count + 1);
            if node.same_master_fields(fv.chunks(2).map(|p| p[0])) {
                flags |= FLAG_SAMEFIELDS;
            }
        }
        node.push_int(flags);
        node.push_int(id.ms.wrapping_sub(master.ms) as i64);
        node.push_int(id.seq.wrapping_sub(master.seq) as i64);
        let same = flags & FLAG_SAMEFIELDS != 0;
        if !same {
            node.push_int(nfields as i64);
        }
        for pair in fv.chunks(2) {
            if !same {
                node.push(pair[0]);
            }
            node.push(pair.get(1).copied().unwrap_or_default());
        }
        let mut lp_count = nfields as i64 + 3;
        if !same {
            lp_count += nfields as i64 + 1;
        }
        node.push_int(lp_count);
        self.length += 1;
        self.entries_added += 1;
        self.last_id = id;
        if self.length == 1 {
            self.first_id = id;
        }
        Ok(id)
    }

    /// Visit the live entries with IDs in `start..=end`, forward or
    /// backward, until `f` returns false.
    pub fn range<'a>(
        &'a self,
        start: StreamId,
        end: StreamId,
        rev: bool,
        mut f: impl FnMut(StreamId, &[Elem<'a>]) -> bool,
    ) {
        if start > end {
            return;
        }
        let from = self
            .nodes
            .range(..=start)
            .next_back()
            .map(|(k, _)| *k)
            .unwrap_or(start);
        let nodes = self.nodes.range(from..=end);
        if !rev {
            for (master, node) in nodes {
                let go = node.for_each_from(*master, start, |_, id, del, fv| {
                    if id > end {
                        return false;
                    }
                    if del || id < start {
                        return true;
                    }
                    f(id, fv)
                });
                if !go {
                    return;
                }
            }
        } else {
            let mut flat: Vec<Elem<'a>> = Vec::new();
            let mut entries: Vec<(StreamId, usize, usize)> = Vec::new();
            for (master, node) in nodes.rev() {
                flat.clear();
                entries.clear();
                node.for_each(*master, |_, id, del, fv| {
                    if id > end {
                        return false;
                    }
                    if !del && id >= start {
                        entries.push((id, flat.len(), fv.len()));
                        flat.extend_from_slice(fv);
                    }
                    true
                });
                for &(id, at, n) in entries.iter().rev() {
                    if !f(id, &flat[at..at + n]) {
                        return;
                    }
                }
            }
        }
    }

    /// The live entry with this ID: its fields and values.
    pub fn get(&self, id: StreamId) -> Option<Vec<Elem<'_>>> {
        let mut out = None;
        self.range(id, id, false, |_, fv| {
            out = Some(fv.to_vec());
            false
        });
        out
    }

    /// Whether a live entry has this ID.
    pub fn contains(&self, id: StreamId) -> bool {
        let mut found = false;
        self.range(id, id, false, |_, _| {
            found = true;
            false
        });
        found
    }

    /// The first (or last) live ID, found by walking the nodes.
    pub fn edge_id(&self, last: bool) -> Option<StreamId> {
        if last {
            self.nodes.iter().rev().find_map(|(m, n)| n.edge(*m, true))
        } else {
            self.nodes.iter().find_map(|(m, n)| n.edge(*m, false))
        }
    }

    /// The first entry's ID, deleted or not (`streamGetEdgeID` without
    /// skipping tombstones).
    pub fn first_entry_any(&self) -> Option<StreamId> {
        let (m, n) = self.nodes.iter().next()?;
        let mut found = None;
        n.for_each(*m, |_, id, _, _| {
            found = Some(id);
            false
        });
        found
    }

    /// Mark one entry deleted (Redis's `streamDeleteItem`): true when it
    /// was live. Leaves `first_id`/`max_deleted_entry_id` to the caller.
    pub fn delete_entry(&mut self, id: StreamId) -> bool {
        let Some((&master, node)) = self.nodes.range_mut(..=id).next_back() else {
            return false;
        };
        let mut at = None;
        node.for_each(master, |idx, eid, del, _| {
            if eid == id && !del {
                at = Some(idx);
            }
            eid < id
        });
        let Some(idx) = at else {
            return false;
        };
        let count = node.count();
        if count == 1 {
            self.nodes.remove(&master);
        } else {
            let flags = node.int_at(idx);
            node.replace_int_at(idx, flags | FLAG_DELETED);
            let d = node.deleted();
            node.set_counts(count - 1, d + 1);
        }
        self.length -= 1;
        true
    }

    /// XDEL: delete these IDs, keeping `max_deleted_entry_id` and
    /// `first_id` as Redis does; returns how many were deleted.
    pub fn delete_ids(&mut self, ids: &[StreamId]) -> u64 {
        let mut deleted = 0;
        let mut first_deleted = false;
        for &id in ids {
            if self.delete_entry(id) {
                deleted += 1;
                if id > self.max_deleted_entry_id {
                    self.max_deleted_entry_id = id;
                }
                if id == self.first_id {
                    first_deleted = true;
                }
            }
        }
        if first_deleted {
            self.first_id = if self.length == 0 {
                StreamId::MIN
            } else {
                self.edge_id(false).unwrap_or_default()
            };
        }
        deleted
    }

    /// Trim (Redis's `streamTrim`): returns how many entries went.
    /// `limit` 0 means no limit.
    pub fn trim(&mut self, by: TrimBy, approx: bool, limit: i64) -> i64 {
        let mut deleted: i64 = 0;
        let keys: Vec<StreamId> = self.nodes.keys().copied().collect();
        for master in keys {
            if let TrimBy::MaxLen(max) = by {
                if self.length <= max {
                    break;
                }
            }
            let Some(node) = self.nodes.get_mut(&master) else {
                continue;
            };
            let entries = node.count();
            if limit != 0 && deleted + entries > limit {
                break;
            }
            let remove = match by {
                TrimBy::MaxLen(max) => self.length - entries as u64 >= max,
                TrimBy::MinId(min) => {
                    // The last entry of the node, deleted or not.
                    let mut last = master;
                    node.for_each(master, |_, id, _, _| {
                        last = id;
                        true
                    });
                    last < min
                }
            };
            if remove {
                self.nodes.remove(&master);
                self.length -= entries as u64;
                deleted += entries;
                continue;
            }
            if approx {
                break;
            }
            let mut marks = Vec::new();
            let length = self.length;
            let mut live = 0u64;
            node.for_each(master, |idx, id, del, _| {
                let stop = match by {
                    TrimBy::MaxLen(max) => length - live <= max,
                    TrimBy::MinId(min) => id >= min,
                };
                if stop {
                    return false;
                }
                if !del {
                    marks.push(idx);
                    live += 1;
                }
                true
            });
            for &idx in &marks {
                let flags = node.int_at(idx);
                node.replace_int_at(idx, flags | FLAG_DELETED);
            }
            let n = marks.len() as i64;
            self.length -= n as u64;
            deleted += n;
            let d = node.deleted();
            node.set_counts(entries - n, d + n);
            break;
        }
        if self.length == 0 {
            self.first_id = StreamId::MIN;
        } else if deleted > 0 {
            self.first_id = self.edge_id(false).unwrap_or_default();
        }
        deleted
    }

    /// `streamRangeHasTombstones`.
    pub fn range_has_tombstones(&self, start: Option<StreamId>, end: Option<StreamId>) -> bool {
        if self.length == 0 || self.max_deleted_entry_id.is_zero() {
            return false;
        }
        if self.first_id > self.max_deleted_entry_id {
            return false;
        }
        let s = start.unwrap_or(StreamId::MIN);
        let e = end.unwrap_or(StreamId::MAX);
        s <= self.max_deleted_entry_id && self.max_deleted_entry_id <= e
    }

    /// `streamEstimateDistanceFromFirstEverEntry`: the logical read counter
    /// of `id`, or [`INVALID_ENTRIES_READ`].
    pub fn estimate_distance(&self, id: StreamId) -> i64 {
        if self.entries_added == 0 {
            return 0;
        }
        if self.length == 0 && id <= self.last_id {
            return self.entries_added as i64;
        }
        if id == self.last_id {
            return self.entries_added as i64;
        } else if id > self.last_id {
            return INVALID_ENTRIES_READ;
        }
        if self.max_deleted_entry_id.is_zero() || self.max_deleted_entry_id < self.first_id {
            if id < self.first_id {
                return (self.entries_added - self.length) as i64;
            } else if id == self.first_id {
                return (self.entries_added - self.length + 1) as i64;
            }
        }
        INVALID_ENTRIES_READ
    }

    /// A group's lag (`streamReplyWithCGLag`), None when unknown.
    pub fn group_lag(&self, g: &Group) -> Option<i64> {
        if self.entries_added == 0 {
            return Some(0);
        }
        if g.entries_read != INVALID_ENTRIES_READ
            && !self.range_has_tombstones(Some(g.last_id), None)
        {
            return Some(self.entries_added as i64 - g.entries_read);
        }
        let read = self.estimate_distance(g.last_id);
        (read != INVALID_ENTRIES_READ).then(|| self.entries_added as i64 - read)
    }

    /// Move a group's last delivered ID to `id` as a delivery does,
    /// keeping its read counter (the first half of Redis's
    /// `streamReplyWithRange` loop body).
    pub fn advance_group(&mut self, group: &[u8], id: StreamId) {
        let has_tomb = self.range_has_tombstones(Some(id), None);
        let est = if self.entries_added != 0 {
            Some(self.estimate_distance(id))
        } else {
            None
        };
        if let Some(g) = self.groups.get_mut(group) {
            if id > g.last_id {
                if g.entries_read != INVALID_ENTRIES_READ && !has_tomb {
                    g.entries_read += 1;
                } else if let Some(e) = est {
                    g.entries_read = e;
                }
                g.last_id = id;
            }
        }
    }
}

/// The number of nodes Redis's radix tree has for these 16-byte keys
/// (XINFO's `radix-tree-nodes`): a compressed node per shared run, a
/// branch node per fork, a node per key end, and the head.
pub fn rax_nodes(keys: &[[u8; 16]]) -> usize {
    fn walk(keys: &[[u8; 16]], depth: usize) -> usize {
        if depth == 16 || keys.is_empty() {
            return 1;
        }
        let first = &keys[0];
        let last = &keys[keys.len() - 1];
        let mut common = depth;
        while common < 16 && first[common] == last[common] {
            common += 1;
        }
        if common > depth {
            return 1 + walk(keys, common);
        }
        let mut n = 1;
        let mut i = 0;
        while i < keys.len() {
            let b = keys[i][depth];
            let mut j = i;
            while j < keys.len() && keys[j][depth] == b {
                j += 1;
            }
            n += walk(&keys[i..j], depth + 1);
            i = j;
        }
        n
    }
    if keys.is_empty() {
        return 1;
    }
    walk(keys, 0)
}

/// Check a node listpack's elements as Redis's deep
/// `streamValidateListpackIntegrity` does: the master entry, then every
/// entry's shape, its lp-count, and IDs that stay within the node. Returns
/// the number of entries (live and deleted) when valid.
pub fn validate_node(elems: &[&[u8]], master: StreamId) -> Option<(i64, i64)> {
    let num =
        |i: usize| -> Option<i64> { elems.get(i).and_then(|e| crate::util::num::parse_i64(e)) };
    let count = num(0)?;
    let deleted = num(1)?;
    let nmf = num(2)?;
    if count < 0 || deleted < 0 || nmf < 0 {
        return None;
    }
    let nmf = nmf as usize;
    let mut p = 3usize.checked_add(nmf)?;
    if num(p)? != 0 {
        return None;
    }
    p += 1;
    let (mut live, mut dead) = (0i64, 0i64);
    while p < elems.len() {
        let start = p;
        let flags = num(p)?;
        let msd = num(p + 1)?;
        let seqd = num(p + 2)?;
        let _ = StreamId::new(
            master.ms.wrapping_add(msd as u64),
            master.seq.wrapping_add(seqd as u64),
        );
        p += 3;
        if flags & FLAG_SAMEFIELDS == 0 {
            let nf = num(p)?;
            if nf < 0 {
                return None;
            }
            p = p
                .checked_add(1)?
                .checked_add((nf as usize).checked_mul(2)?)?;
        } else {
            p = p.checked_add(nmf)?;
        }
        let lp_count = num(p)?;
        if lp_count < 0 || lp_count as usize != p - start {
            return None;
        }
        p += 1;
        if flags & FLAG_DELETED != 0 {
            dead += 1;
        } else {
            live += 1;
        }
    }
    if p != elems.len() || live != count || dead != deleted {
        return None;
    }
    Some((live, dead))
}

impl Stream {
    /// A stream from its RDB form (nodes already validated by the reader).
    pub fn from_rdb(st: rdb::Stream) -> Option<Stream> {
        let sid = |(ms, seq): rdb::StreamId| StreamId::new(ms, seq);
        let mut s = Stream::new();
        let mut live = 0u64;
        for (master, elems) in &st.nodes {
            let refs: Vec<&[u8]> = elems.iter().map(Vec::as_slice).collect();
            let (count, _) = validate_node(&refs, sid(*master))?;
            live = live.checked_add(count as u64)?;
            s.insert_node(sid(*master), Node::from_elements(refs));
        }
        // The counters the commands rely on must agree with the nodes, and
        // entries must ascend from node to node: a file that says otherwise is
        // refused rather than loaded into a stream that breaks later.
        if live != st.length || !s.ids_ascend() {
            return None;
        }
        s.set_length_and_first(st.length, sid(st.first_id));
        s.set_meta(sid(st.last_id), st.entries_added, sid(st.max_deleted_id));
        for g in st.groups {
            let last = sid(g.last_id);
            let read = g.entries_read.unwrap_or_else(|| s.estimate_distance(last));
            if !s.create_group(&g.name, last, read) {
                return None;
            }
            let grp = s.group_mut(&g.name)?;
            for (id, time, count) in &g.pel {
                grp.pel.insert(
                    sid(*id),
                    Nack {
                        delivery_time: *time,
                        delivery_count: *count,
                        consumer: Box::default(),
                    },
                );
            }
            for c in g.consumers {
                let mut cons = Consumer {
                    seen_time: c.seen_time,
                    pel: Default::default(),
                };
                for id in c.pel {
                    let n = grp.pel.get_mut(&sid(id))?;
                    n.consumer = c.name.clone().into_boxed_slice();
                    cons.pel.insert(sid(id));
                }
                grp.consumers.insert(c.name.into_boxed_slice(), cons);
            }
        }
        Some(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn id(ms: u64, seq: u64) -> StreamId {
        StreamId::new(ms, seq)
    }

    fn all(s: &Stream) -> Vec<(StreamId, Vec<Vec<u8>>)> {
        let mut v = Vec::new();
        s.range(StreamId::MIN, StreamId::MAX, false, |i, fv| {
            v.push((i, fv.iter().map(|x| x.bytes().into_owned()).collect()));
            true
        });
        v
    }

    #[test]
    fn rax_node_counts() {
        let k = |ms: u64, seq: u64| StreamId::new(ms, seq).to_be_bytes();
        assert_eq!(rax_nodes(&[]), 1);
        assert_eq!(rax_nodes(&[k(1, 0)]), 2);
        // A shared 7-byte run, a fork, and under each a 8-byte run and its key.
        assert_eq!(rax_nodes(&[k(1, 0), k(2, 0)]), 6);
    }

    #[test]
    fn parse_ids() {
        assert_eq!(StreamId::parse(b"5", 0, false), Some((id(5, 0), true)));
        assert_eq!(
            StreamId::parse(b"5", u64::MAX, false),
            Some((id(5, u64::MAX), true))
        );
        assert_eq!(StreamId::parse(b"5-3", 0, false), Some((id(5, 3), true)));
        assert_eq!(StreamId::parse(b"5-*", 0, true), Some((id(5, 0), false)));
        assert_eq!(StreamId::parse(b"5-*", 0, false), None);
        assert_eq!(StreamId::parse(b"-1", 0, false), None);
        assert_eq!(StreamId::parse(b"a-1", 0, false), None);
        assert_eq!(StreamId::parse(b"18446744073709551616", 0, false), None);
    }

    #[test]
    fn node_layout_is_redis() {
        let mut s = Stream::new();
        let lim = NodeLimits::default();
        s.append(NewId::Exact(id(5, 0)), &[b"a", b"1", b"b", b"2"], lim)
            .unwrap();
        s.append(NewId::Exact(id(7, 1)), &[b"a", b"3", b"b", b"4"], lim)
            .unwrap();
        s.append(NewId::Exact(id(7, 2)), &[b"x", b"y"], lim)
            .unwrap();
        let (_, n) = s.nodes().next().unwrap();
        let owned: Vec<Vec<u8>> = n.elements().map(|e| e.bytes().into_owned()).collect();
        let e: Vec<&[u8]> = owned.iter().map(Vec::as_slice).collect();
        let want: Vec<&[u8]> = vec![
            b"3", b"0", b"2", b"a", b"b", b"0", // master
            b"2", b"0", b"0", b"1", b"2", b"5", // same fields
            b"2", b"2", b"1", b"3", b"4", b"5", //
            b"0", b"2", b"2", b"1", b"x", b"y", b"6", // own fields
        ];
        assert_eq!(e, want);
        assert_eq!(validate_node(&e, id(5, 0)), Some((3, 0)));
        let size: usize = LP_OVERHEAD + e.iter().map(|x| redis_lp_entry_size(x)).sum::<usize>();
        assert_eq!(n.redis_bytes(), size);
        assert!(s.delete_entry(id(7, 1)));
        let (_, n) = s.nodes().next().unwrap();
        let owned: Vec<Vec<u8>> = n.elements().map(|e| e.bytes().into_owned()).collect();
        let e: Vec<&[u8]> = owned.iter().map(Vec::as_slice).collect();
        assert_eq!(&e[..3], &[b"2" as &[u8], b"1", b"2"]);
        assert_eq!(e[12], b"3");
        assert_eq!(validate_node(&e, id(5, 0)), Some((2, 1)));
    }

    #[test]
    fn ids_generated_as_redis() {
        let mut s = Stream::new();
        let lim = NodeLimits::default();
        assert_eq!(s.append(NewId::Auto(10), &[b"f", b"v"], lim), Ok(id(10, 0)));
        assert_eq!(s.append(NewId::Auto(9), &[b"f", b"v"], lim), Ok(id(10, 1)));
        assert_eq!(
            s.append(NewId::AutoSeq(10), &[b"f", b"v"], lim),
            Ok(id(10, 2))
        );
        assert_eq!(
            s.append(NewId::AutoSeq(11), &[b"f", b"v"], lim),
            Ok(id(11, 0))
        );
        assert_eq!(
            s.append(NewId::AutoSeq(3), &[b"f", b"v"], lim),
            Err(AddError::IdTooSmall)
        );
        assert_eq!(
            s.append(NewId::Exact(id(11, 0)), &[b"f", b"v"], lim),
            Err(AddError::IdTooSmall)
        );
        s.append(NewId::Exact(id(11, u64::MAX)), &[b"f", b"v"], lim)
            .unwrap();
        assert_eq!(
            s.append(NewId::AutoSeq(11), &[b"f", b"v"], lim),
            Err(AddError::TooLarge)
        );
        assert_eq!(s.entries_added(), 5);
    }

    #[test]
    fn nodes_split_at_max_entries() {
        let mut s = Stream::new();
        let lim = NodeLimits {
            max_bytes: 4096,
            max_entries: 3,
        };
        for i in 1..=10 {
            s.append(NewId::Exact(id(i, 0)), &[b"f", b"v"], lim)
                .unwrap();
        }
        assert_eq!(s.node_count(), 4);
        assert_eq!(s.trim(TrimBy::MaxLen(5), true, 0), 3);
        assert_eq!(s.len(), 7);
        assert_eq!(s.trim(TrimBy::MaxLen(5), false, 0), 2);
        assert_eq!(s.first_id(), id(6, 0));
        assert_eq!(s.trim(TrimBy::MinId(id(8, 0)), false, 0), 2);
        assert_eq!(all(&s).first().unwrap().0, id(8, 0));
    }

    #[derive(Debug, Clone)]
    enum Op {
        Add(u64, u8),
        Del(u64),
        Trim(u64, bool),
        MinId(u64, bool),
    }

    fn op() -> impl Strategy<Value = Op> {
        prop_oneof![
            4 => (1u64..4, 0u8..3).prop_map(|(d, f)| Op::Add(d, f)),
            2 => (0u64..200).prop_map(Op::Del),
            1 => (0u64..40, any::<bool>()).prop_map(|(n, a)| Op::Trim(n, a)),
            1 => (0u64..200, any::<bool>()).prop_map(|(n, a)| Op::MinId(n, a)),
        ]
    }

    proptest! {
        #[test]
        fn stream_matches_model(ops in proptest::collection::vec(op(), 1..150), max_entries in 1i64..6) {
            let lim = NodeLimits { max_bytes: 200, max_entries };
            let mut s = Stream::new();
            let mut model: BTreeMap<StreamId, Vec<Vec<u8>>> = BTreeMap::new();
            let mut ms = 0;
            for op in ops {
                match op {
                    Op::Add(d, f) => {
                        ms += d;
                        let fields: Vec<Vec<u8>> = match f {
                            0 => vec![b"a".to_vec(), ms.to_string().into_bytes()],
                            1 => vec![b"a".to_vec(), b"x".to_vec(), b"b".to_vec(), vec![b'y'; 30]],
                            _ => vec![b"c".to_vec(), b"-5".to_vec()],
                        };
                        let refs: Vec<&[u8]> = fields.iter().map(|x| x.as_slice()).collect();
                        let got = s.append(NewId::AutoSeq(ms), &refs, lim).unwrap();
                        model.insert(got, fields);
                    }
                    Op::Del(m) => {
                        let i = id(m, 0);
                        let was = model.remove(&i).is_some();
                        prop_assert_eq!(s.delete_ids(&[i]), was as u64);
                    }
                    Op::Trim(n, approx) => {
                        let before = model.len() as i64;
                        let d = s.trim(TrimBy::MaxLen(n), approx, 0);
                        for _ in 0..d { let k = *model.keys().next().unwrap(); model.remove(&k); }
                        prop_assert!(approx || model.len() as u64 <= n);
                        prop_assert_eq!(before - d, model.len() as i64);
                    }
                    Op::MinId(m, approx) => {
                        let d = s.trim(TrimBy::MinId(id(m, 0)), approx, 0);
                        for _ in 0..d { let k = *model.keys().next().unwrap(); prop_assert!(k < id(m, 0)); model.remove(&k); }
                        if !approx { prop_assert!(model.keys().next().is_none_or(|k| *k >= id(m, 0))); }
                    }
                }
                prop_assert_eq!(s.len(), model.len() as u64);
                let got = all(&s);
                let want: Vec<(StreamId, Vec<Vec<u8>>)> = model.iter().map(|(k, v)| (*k, v.clone())).collect();
                prop_assert_eq!(&got, &want);
                let mut rev = Vec::new();
                s.range(StreamId::MIN, StreamId::MAX, true, |i, _| { rev.push(i); true });
                rev.reverse();
                prop_assert_eq!(rev, want.iter().map(|x| x.0).collect::<Vec<_>>());
                prop_assert_eq!(s.first_id(), model.keys().next().copied().unwrap_or_default());
                prop_assert_eq!(s.edge_id(true), model.keys().next_back().copied());
                for (m, n) in s.nodes() {
                    let owned: Vec<Vec<u8>> = n.elements().map(|e| e.bytes().into_owned()).collect();
                    let e: Vec<&[u8]> = owned.iter().map(Vec::as_slice).collect();
                    prop_assert!(validate_node(&e, *m).is_some());
                    let size: usize = LP_OVERHEAD + e.iter().map(|x| redis_lp_entry_size(x)).sum::<usize>();
                    prop_assert_eq!(n.redis_bytes(), size);
                }
            }
        }
    }
}
