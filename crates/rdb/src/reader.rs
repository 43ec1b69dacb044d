//! Streaming RDB reader: one [`Record`] at a time, never the whole file.
//!
//! The reader pulls bytes from any [`Read`] (wrap files and sockets in a
//! [`std::io::BufReader`]: records are read a few bytes at a time), keeps
//! the running CRC64 and byte offset, and decodes each value completely,
//! validating compact encodings before handing them out. Lengths read from
//! the file never size an allocation directly: strings are read in bounded
//! chunks and collections grow as their elements arrive, so a forged length
//! on a short file ends in [`Error::UnexpectedEof`], not in an out-of-memory
//! abort.
//!
//! ```
//! # fn main() -> Result<(), rdb::Error> {
//! let mut file = Vec::new();
//! let mut w = rdb::Writer::new(&mut file, rdb::WriteOptions::default())?;
//! w.select_db(0)?;
//! w.string(b"greeting", b"hello", None)?;
//! w.finish()?;
//!
//! let mut r = rdb::Reader::new(&file[..])?;
//! assert_eq!(r.version(), 10);
//! while let Some(rec) = r.next_record()? {
//!     if let rdb::Record::Key(k) = rec {
//!         assert_eq!(k.key, b"greeting");
//!         assert_eq!(k.value, rdb::Value::String(b"hello".to_vec()));
//!     }
//! }
//! # Ok(()) }
//! ```

use std::io::{self, Read};

use crate::encoding::{intset, listpack, ziplist, zipmap, BlobError, Entry};
use crate::error::Context;
use crate::opcode::*;
use crate::{
    crc64, lzf, Error, KeyRecord, Record, Stream, StreamConsumer, StreamGroup, StreamId, Value,
};

/// Highest RDB version this crate reads (Redis 7.4).
pub const MAX_VERSION: u32 = 12;

/// Strings are read in pieces of this size, so a forged length costs no
/// more memory than the bytes actually present.
const CHUNK: usize = 64 * 1024;

/// Initial capacity cap for collections whose length comes from the file.
pub(crate) fn cap(n: u64) -> usize {
    usize::try_from(n).unwrap_or(usize::MAX).min(4096)
}

/// A length field: either a length or the tag of a special string encoding.
enum Len {
    Plain(u64),
    Encoded(u8),
}

/// Decodes values from a byte source, keeping offset and CRC. Shared by
/// [`Reader`] and [`crate::restore_payload`].
pub(crate) struct Parser<R> {
    inner: R,
    offset: u64,
    crc: u64,
    pub(crate) version: u32,
    pub(crate) ctx: Context,
    /// Reused for LZF input.
    scratch: Vec<u8>,
}

/// The largest LZF input buffer kept between strings.
const SCRATCH_KEEP: usize = 1 << 20;

impl<R: Read> Parser<R> {
    pub(crate) fn new(inner: R, version: u32) -> Self {
        Parser {
            inner,
            offset: 0,
            crc: 0,
            version,
            ctx: Context::default(),
            scratch: Vec::new(),
        }
    }

    fn io_err(&self, e: io::Error) -> Error {
        if e.kind() == io::ErrorKind::UnexpectedEof {
            Error::UnexpectedEof {
                offset: self.offset,
                context: self.ctx.clone(),
            }
        } else {
            Error::Io(e)
        }
    }

    pub(crate) fn corrupt(&self, detail: impl Into<String>) -> Error {
        Error::Corrupt {
            offset: self.offset,
            context: self.ctx.clone(),
            detail: detail.into(),
        }
    }

    /// A blob that failed validation: Redis's reason for its type (e.g.
    /// "Hash ziplist integrity check failed.", the text RESTORE logs),
    /// then what exactly is wrong and where.
    fn blob_err(&self, reason: &str, e: BlobError) -> Error {
        self.corrupt(format!("{reason} ({} at byte {})", e.msg, e.pos))
    }

    fn unsupported(&self, what: impl Into<String>) -> Error {
        Error::Unsupported {
            offset: self.offset,
            what: what.into(),
            key: self.ctx.key.clone().unwrap_or_default(),
        }
    }

    fn fill(&mut self, buf: &mut [u8]) -> Result<(), Error> {
        if let Err(e) = self.inner.read_exact(buf) {
            return Err(self.io_err(e));
        }
        self.crc = crc64::crc64(self.crc, buf);
        self.offset += buf.len() as u64;
        Ok(())
    }

    pub(crate) fn read_u8(&mut self) -> Result<u8, Error> {
        let mut b = [0u8; 1];
        self.fill(&mut b)?;
        Ok(b[0])
    }

    fn read_array<const N: usize>(&mut self) -> Result<[u8; N], Error> {
        let mut b = [0u8; N];
        self.fill(&mut b)?;
        Ok(b)
    }

    /// Reads `n` raw bytes in bounded chunks.
    fn read_bytes(&mut self, n: u64) -> Result<Vec<u8>, Error> {
        let mut out = Vec::new();
        self.read_bytes_into(&mut out, n)?;
        Ok(out)
    }

    /// Append `n` bytes to `out`, growing it chunk by chunk as the bytes
    /// arrive, so a length that lies costs no more than the input holds.
    fn read_bytes_into(&mut self, out: &mut Vec<u8>, n: u64) -> Result<(), Error> {
        let n = usize::try_from(n).map_err(|_| self.corrupt("length too large"))?;
        let base = out.len();
        out.reserve_exact(n.min(CHUNK));
        while out.len() - base < n {
            let start = out.len();
            let step = (n - (start - base)).min(CHUNK);
            out.resize(start + step, 0);
            let dst = out.get_mut(start..).unwrap_or(&mut []);
            if let Err(e) = self.inner.read_exact(dst) {
                return Err(self.io_err(e));
            }
            self.crc = crc64::crc64(self.crc, dst);
            self.offset += step as u64;
        }
        Ok(())
    }

    fn read_len_field(&mut self) -> Result<Len, Error> {
        let b = self.read_u8()?;
        Ok(match b >> 6 {
            0 => Len::Plain(u64::from(b & 0x3f)),
            1 => {
                let b2 = self.read_u8()?;
                Len::Plain((u64::from(b & 0x3f) << 8) | u64::from(b2))
            }
            3 => Len::Encoded(b & 0x3f),
            _ => match b {
                0x80 => Len::Plain(u64::from(u32::from_be_bytes(self.read_array()?))),
                0x81 => Len::Plain(u64::from_be_bytes(self.read_array()?)),
                _ => return Err(self.corrupt(format!("unknown length encoding {b:#04x}"))),
            },
        })
    }

    /// Reads a length (not a string encoding).
    pub(crate) fn read_length(&mut self) -> Result<u64, Error> {
        match self.read_len_field()? {
            Len::Plain(n) => Ok(n),
            Len::Encoded(t) => {
                Err(self.corrupt(format!("expected a length, found string encoding {t}")))
            }
        }
    }

    /// Reads a string in any of its encodings.
    pub(crate) fn read_string(&mut self) -> Result<Vec<u8>, Error> {
        match self.read_len_field()? {
            Len::Plain(n) => self.read_bytes(n),
            Len::Encoded(0) => Ok(i64::from(self.read_u8()? as i8).to_string().into_bytes()),
            Len::Encoded(1) => {
                let v = i16::from_le_bytes(self.read_array()?);
                Ok(v.to_string().into_bytes())
            }
            Len::Encoded(2) => {
                let v = i32::from_le_bytes(self.read_array()?);
                Ok(v.to_string().into_bytes())
            }
            Len::Encoded(3) => {
                let clen = self.read_length()?;
                let len = self.read_length()?;
                // LZF expands at most ~88x (3 input bytes -> 264 output);
                // reject impossible ratios before reading anything.
                if len > clen.saturating_mul(90).saturating_add(64) {
                    return Err(
                        self.corrupt(format!("LZF string of {clen} bytes cannot expand to {len}"))
                    );
                }
                // The compressed bytes go to a buffer kept for the next
                // string: one allocation per value, not two.
                let mut packed = std::mem::take(&mut self.scratch);
                packed.clear();
                let read = self.read_bytes_into(&mut packed, clen);
                let len = usize::try_from(len).map_err(|_| self.corrupt("length too large"));
                let out = read.and(len).and_then(|len| {
                    lzf::decompress(&packed, len).map_err(|e| self.corrupt(e.to_string()))
                });
                if packed.capacity() <= SCRATCH_KEEP {
                    self.scratch = packed;
                }
                out
            }
            Len::Encoded(t) => Err(self.corrupt(format!("unknown string encoding {t}"))),
        }
    }

    fn read_f64_bin(&mut self) -> Result<f64, Error> {
        Ok(f64::from_le_bytes(self.read_array()?))
    }

    /// Reads a ZSET v1 score: a length byte with 253/254/255 meaning
    /// nan/+inf/-inf, else that many ASCII bytes.
    fn read_f64_text(&mut self) -> Result<f64, Error> {
        let n = self.read_u8()?;
        match n {
            253 => Ok(f64::NAN),
            254 => Ok(f64::INFINITY),
            255 => Ok(f64::NEG_INFINITY),
            _ => {
                let s = self.read_bytes(u64::from(n))?;
                crate::encoding::parse_score(&s).ok_or_else(|| self.corrupt("invalid score text"))
            }
        }
    }

    fn check_score(&self, s: f64) -> Result<f64, Error> {
        if s.is_nan() {
            Err(self.corrupt("Zset with NAN score detected"))
        } else {
            Ok(s)
        }
    }

    fn entry_score(&self, e: Entry<'_>) -> Result<f64, Error> {
        let s = match e {
            Entry::Int(v) => v as f64,
            Entry::Str(s) => crate::encoding::parse_score(s)
                .ok_or_else(|| self.corrupt("invalid score in encoded sorted set"))?,
        };
        self.check_score(s)
    }

    fn pairs<'a>(&self, entries: Vec<Entry<'a>>) -> Result<Vec<(Entry<'a>, Entry<'a>)>, Error> {
        if entries.len() & 1 == 1 {
            return Err(self.corrupt("odd number of entries in encoded pairs"));
        }
        let mut out = Vec::with_capacity(entries.len() / 2);
        let mut it = entries.into_iter();
        while let (Some(a), Some(b)) = (it.next(), it.next()) {
            out.push((a, b));
        }
        Ok(out)
    }

    /// A hash from encoded pairs; `reason` is Redis's text for a bad blob
    /// of this type (uneven count and duplicate fields included).
    fn hash_from(&self, entries: Vec<Entry<'_>>, reason: &str) -> Result<Value, Error> {
        let pairs = self
            .pairs(entries)
            .map_err(|_| self.corrupt(format!("{reason} (odd number of entries)")))?;
        let out: Vec<(Vec<u8>, Vec<u8>)> = pairs
            .into_iter()
            .map(|(f, v)| (f.to_bytes(), v.to_bytes()))
            .collect();
        if has_dups(out.iter().map(|(f, _)| f.as_slice())) {
            return Err(self.corrupt(format!("{reason} (duplicate fields)")));
        }
        Ok(Value::Hash(out))
    }

    fn zset_from(&self, entries: Vec<Entry<'_>>, reason: &str) -> Result<Value, Error> {
        let pairs = self
            .pairs(entries)
            .map_err(|_| self.corrupt(format!("{reason} (odd number of entries)")))?;
        let mut out = Vec::with_capacity(pairs.len());
        for (m, s) in pairs {
            let score = self
                .entry_score(s)
                .map_err(|_| self.corrupt(format!("{reason} (invalid score)")))?;
            out.push((m.to_bytes(), score));
        }
        if has_dups(out.iter().map(|(m, _)| m.as_slice())) {
            return Err(self.corrupt(format!("{reason} (duplicate members)")));
        }
        Ok(Value::ZSet(out))
    }

    /// Skips a module value serialized with module opcodes, up to and
    /// including its EOF opcode.
    fn skip_module_value(&mut self) -> Result<(), Error> {
        loop {
            match self.read_length()? {
                module::EOF => return Ok(()),
                module::SINT | module::UINT => {
                    self.read_length()?;
                }
                module::FLOAT => {
                    self.read_array::<4>()?;
                }
                module::DOUBLE => {
                    self.read_array::<8>()?;
                }
                module::STRING => {
                    self.read_string()?;
                }
                op => return Err(self.corrupt(format!("unknown module opcode {op}"))),
            }
        }
    }

    fn read_stream_id(&mut self) -> Result<StreamId, Error> {
        let b: [u8; 16] = self.read_array()?;
        let mut ms = [0u8; 8];
        let mut seq = [0u8; 8];
        ms.copy_from_slice(b.get(..8).unwrap_or(&[0; 8]));
        seq.copy_from_slice(b.get(8..).unwrap_or(&[0; 8]));
        Ok((u64::from_be_bytes(ms), u64::from_be_bytes(seq)))
    }

    fn read_ms_time(&mut self) -> Result<i64, Error> {
        Ok(i64::from_le_bytes(self.read_array::<8>()?))
    }

    /// A stream of type 15, 19 or 21, as Redis's `rdbLoadObject`, with the
    /// node listpacks checked as `streamValidateListpackIntegrity` does
    /// deeply, so that a bad file is refused instead of loaded.
    fn read_stream(&mut self, t: u8) -> Result<Stream, Error> {
        let mut s = Stream::default();
        let nodes = self.read_length()?;
        for _ in 0..nodes {
            let key = self.read_string()?;
            let Ok(key) = <[u8; 16]>::try_from(key.as_slice()) else {
                return Err(self.corrupt("Stream node key entry is not the size of a stream ID"));
            };
            let mut ms = [0u8; 8];
            let mut seq = [0u8; 8];
            ms.copy_from_slice(key.get(..8).unwrap_or(&[0; 8]));
            seq.copy_from_slice(key.get(8..).unwrap_or(&[0; 8]));
            let master = (u64::from_be_bytes(ms), u64::from_be_bytes(seq));
            let blob = self.read_string()?;
            let e = listpack::entries(&blob)
                .map_err(|e| self.blob_err("Stream listpack integrity check failed.", e))?;
            if e.is_empty() {
                return Err(self.corrupt("Empty listpack inside stream"));
            }
            let elems: Vec<Vec<u8>> = e.into_iter().map(Entry::to_bytes).collect();
            if !valid_stream_node(&elems, master) {
                return Err(self.corrupt("Stream listpack integrity check failed."));
            }
            if s.nodes.last().is_some_and(|(m, _)| *m >= master) {
                return Err(self.corrupt("Listpack re-added with existing key"));
            }
            s.nodes.push((master, elems));
        }
        s.length = self.read_length()?;
        s.last_id = (self.read_length()?, self.read_length()?);
        if t != TYPE_STREAM_LISTPACKS {
            s.first_id = (self.read_length()?, self.read_length()?);
            s.max_deleted_id = (self.read_length()?, self.read_length()?);
            s.entries_added = self.read_length()?;
        } else {
            s.entries_added = s.length;
            s.first_id = first_live_id(&s.nodes).unwrap_or((0, 0));
        }
        if s.length > 0 && s.nodes.is_empty() {
            return Err(self.corrupt("Stream length inconsistent with rax entries"));
        }
        if !stream_ids_consistent(&s.nodes, s.length, s.last_id) {
            return Err(self.corrupt("Stream entries out of order or length inconsistent"));
        }
        let ngroups = self.read_length()?;
        for _ in 0..ngroups {
            let mut g = StreamGroup {
                name: self.read_string()?,
                last_id: (self.read_length()?, self.read_length()?),
                ..StreamGroup::default()
            };
            if t != TYPE_STREAM_LISTPACKS {
                g.entries_read = Some(self.read_length()? as i64);
            }
            if s.groups.iter().any(|x| x.name == g.name) {
                return Err(self.corrupt("Duplicated consumer group name"));
            }
            let npel = self.read_length()?;
            for _ in 0..npel {
                let id = self.read_stream_id()?;
                let time = self.read_ms_time()?;
                let count = self.read_length()?;
                if g.pel.last().is_some_and(|(p, _, _)| *p >= id) {
                    return Err(
                        self.corrupt("Duplicated global PEL entry loading stream consumer group")
                    );
                }
                g.pel.push((id, time, count));
            }
            let mut owned = std::collections::BTreeSet::new();
            let ncons = self.read_length()?;
            for _ in 0..ncons {
                let mut c = StreamConsumer {
                    name: self.read_string()?,
                    seen_time: self.read_ms_time()?,
                    pel: Vec::new(),
                };
                if t == TYPE_STREAM_LISTPACKS_3 {
                    self.read_ms_time()?;
                }
                if g.consumers.iter().any(|x| x.name == c.name) {
                    return Err(self.corrupt("Duplicate stream consumer detected."));
                }
                let n = self.read_length()?;
                for _ in 0..n {
                    let id = self.read_stream_id()?;
                    if g.pel.binary_search_by(|p| p.0.cmp(&id)).is_err() {
                        return Err(self.corrupt("Consumer entry not found in group global PEL"));
                    }
                    if !owned.insert(id) {
                        return Err(self.corrupt(
                            "Duplicated consumer PEL entry  loading a stream consumer group",
                        ));
                    }
                    c.pel.push(id);
                }
                g.consumers.push(c);
            }
            if owned.len() != g.pel.len() {
                return Err(self.corrupt("Stream CG PEL entry without consumer"));
            }
            s.groups.push(g);
        }
        Ok(s)
    }

    /// Reads the value of RDB type `t` (the key, if any, is in `ctx`).
    pub(crate) fn read_value(&mut self, t: u8) -> Result<Value, Error> {
        self.ctx.what = "value";
        self.ctx.type_byte = Some(t);
        Ok(match t {
            TYPE_STRING => Value::String(self.read_string()?),
            TYPE_LIST | TYPE_SET => {
                let n = self.read_length()?;
                let mut v = Vec::with_capacity(cap(n));
                for _ in 0..n {
                    v.push(self.read_string()?);
                }
                if t == TYPE_LIST {
                    Value::List(v)
                } else {
                    if has_dups(v.iter().map(Vec::as_slice)) {
                        return Err(self.corrupt("Duplicate set members detected"));
                    }
                    Value::Set(v)
                }
            }
            TYPE_ZSET | TYPE_ZSET_2 => {
                let n = self.read_length()?;
                let mut v = Vec::with_capacity(cap(n));
                for _ in 0..n {
                    let m = self.read_string()?;
                    let s = if t == TYPE_ZSET_2 {
                        self.read_f64_bin()?
                    } else {
                        self.read_f64_text()?
                    };
                    v.push((m, self.check_score(s)?));
                }
                if has_dups(v.iter().map(|(m, _)| m.as_slice())) {
                    return Err(self.corrupt("Duplicate zset fields detected"));
                }
                Value::ZSet(v)
            }
            TYPE_HASH => {
                let n = self.read_length()?;
                let mut v = Vec::with_capacity(cap(n));
                for _ in 0..n {
                    let f = self.read_string()?;
                    v.push((f, self.read_string()?));
                }
                if has_dups(v.iter().map(|(f, _)| f.as_slice())) {
                    return Err(self.corrupt("Duplicate hash fields detected"));
                }
                Value::Hash(v)
            }
            TYPE_HASH_ZIPMAP => {
                let blob = self.read_string()?;
                let pairs = zipmap::pairs(&blob)
                    .map_err(|e| self.blob_err("Zipmap integrity check failed.", e))?;
                if has_dups(pairs.iter().map(|(f, _)| *f)) {
                    return Err(self.corrupt("Hash zipmap with dup elements"));
                }
                Value::Hash(
                    pairs
                        .into_iter()
                        .map(|(f, v)| (f.to_vec(), v.to_vec()))
                        .collect(),
                )
            }
            TYPE_LIST_ZIPLIST => {
                let blob = self.read_string()?;
                let e = ziplist::entries(&blob)
                    .map_err(|e| self.blob_err("List ziplist integrity check failed.", e))?;
                Value::List(e.into_iter().map(Entry::to_bytes).collect())
            }
            TYPE_SET_INTSET => {
                let blob = self.read_string()?;
                let m = intset::members(&blob)
                    .map_err(|e| self.blob_err("Intset integrity check failed.", e))?;
                Value::Set(m.into_iter().map(|v| v.to_string().into_bytes()).collect())
            }
            TYPE_ZSET_ZIPLIST | TYPE_HASH_ZIPLIST => {
                let blob = self.read_string()?;
                let reason = if t == TYPE_ZSET_ZIPLIST {
                    "Zset ziplist integrity check failed."
                } else {
                    "Hash ziplist integrity check failed."
                };
                let e = ziplist::entries(&blob).map_err(|e| self.blob_err(reason, e))?;
                if t == TYPE_ZSET_ZIPLIST {
                    self.zset_from(e, reason)?
                } else {
                    self.hash_from(e, reason)?
                }
            }
            TYPE_HASH_LISTPACK | TYPE_ZSET_LISTPACK | TYPE_SET_LISTPACK => {
                let blob = self.read_string()?;
                let reason = match t {
                    TYPE_HASH_LISTPACK => "Hash listpack integrity check failed.",
                    TYPE_ZSET_LISTPACK => "Zset listpack integrity check failed.",
                    _ => "Set listpack integrity check failed.",
                };
                let e = listpack::entries(&blob).map_err(|e| self.blob_err(reason, e))?;
                match t {
                    TYPE_HASH_LISTPACK => self.hash_from(e, reason)?,
                    TYPE_ZSET_LISTPACK => self.zset_from(e, reason)?,
                    _ => {
                        let v: Vec<Vec<u8>> = e.into_iter().map(Entry::to_bytes).collect();
                        if has_dups(v.iter().map(Vec::as_slice)) {
                            return Err(self.corrupt(format!("{reason} (duplicate members)")));
                        }
                        Value::Set(v)
                    }
                }
            }
            TYPE_LIST_QUICKLIST => {
                let nodes = self.read_length()?;
                let mut v = Vec::new();
                for _ in 0..nodes {
                    let blob = self.read_string()?;
                    let e = ziplist::entries(&blob)
                        .map_err(|e| self.blob_err("Ziplist integrity check failed.", e))?;
                    v.extend(e.into_iter().map(Entry::to_bytes));
                }
                Value::List(v)
            }
            TYPE_LIST_QUICKLIST_2 => {
                let nodes = self.read_length()?;
                let mut v = Vec::new();
                for _ in 0..nodes {
                    let container = self.read_length()?;
                    let blob = self.read_string()?;
                    if blob.is_empty() {
                        return Err(self.corrupt("Quicklist integrity check failed."));
                    }
                    match container {
                        QUICKLIST_NODE_PLAIN => v.push(blob),
                        QUICKLIST_NODE_PACKED => {
                            let e = listpack::entries(&blob).map_err(|e| {
                                self.blob_err("Listpack integrity check failed.", e)
                            })?;
                            v.extend(e.into_iter().map(Entry::to_bytes));
                        }
                        c => {
                            return Err(self.corrupt(format!(
                                "Quicklist integrity check failed. (unknown container {c})"
                            )))
                        }
                    }
                }
                Value::List(v)
            }
            TYPE_STREAM_LISTPACKS | TYPE_STREAM_LISTPACKS_2 | TYPE_STREAM_LISTPACKS_3 => {
                Value::Stream(Box::new(self.read_stream(t)?))
            }
            TYPE_MODULE_PRE_GA | TYPE_MODULE_2 => {
                let id = self.read_length()?;
                return Err(self.unsupported(format!("module type '{}'", module_name(id))));
            }
            TYPE_HASH_METADATA_PRE_GA
            | TYPE_HASH_LISTPACK_EX_PRE_GA
            | TYPE_HASH_METADATA
            | TYPE_HASH_LISTPACK_EX => return Err(self.unsupported("hash with field expiration")),
            _ => return Err(self.corrupt(format!("unknown RDB value type {t}"))),
        })
    }
}

/// Whether any two of `items` are equal (Redis refuses duplicate members
/// and fields in every collection it loads).
fn has_dups<'a>(items: impl Iterator<Item = &'a [u8]>) -> bool {
    let mut seen = std::collections::HashSet::new();
    for it in items {
        if !seen.insert(it) {
            return true;
        }
    }
    false
}

fn int_at(elems: &[Vec<u8>], i: usize) -> Option<i64> {
    crate::encoding::parse_canonical_i64(elems.get(i)?)
}

/// The shape of a stream node listpack, as Redis's deep
/// `streamValidateListpackIntegrity`: the master entry, then entries whose
/// lp-count matches their size, with the master's live/deleted counts.
pub(crate) fn valid_stream_node(elems: &[Vec<u8>], master: StreamId) -> bool {
    let _ = master;
    let (Some(count), Some(deleted), Some(nmf)) =
        (int_at(elems, 0), int_at(elems, 1), int_at(elems, 2))
    else {
        return false;
    };
    if count < 0 || deleted < 0 || nmf < 0 {
        return false;
    }
    let nmf = nmf as usize;
    let Some(mut p) = 3usize.checked_add(nmf) else {
        return false;
    };
    if p > elems.len() || int_at(elems, p) != Some(0) {
        return false;
    }
    p += 1;
    let (mut live, mut dead) = (0i64, 0i64);
    while p < elems.len() {
        let start = p;
        let (Some(flags), Some(_), Some(_)) =
            (int_at(elems, p), int_at(elems, p + 1), int_at(elems, p + 2))
        else {
            return false;
        };
        p += 3;
        if flags & 2 == 0 {
            let Some(nf) = int_at(elems, p).filter(|&n| n >= 0) else {
                return false;
            };
            let Some(np) = (nf as usize)
                .checked_mul(2)
                .and_then(|n| n.checked_add(p + 1))
            else {
                return false;
            };
            p = np;
        } else {
            p += nmf;
        }
        if p >= elems.len() || int_at(elems, p) != Some((p - start) as i64) {
            return false;
        }
        p += 1;
        if flags & 1 != 0 {
            dead += 1;
        } else {
            live += 1;
        }
    }
    live == count && dead == deleted
}

/// Whether validated nodes hold `length` live entries whose IDs (deleted
/// ones too) ascend from node to node and never fall below their node's
/// master ID.
fn stream_ids_consistent(
    nodes: &[(StreamId, Vec<Vec<u8>>)],
    length: u64,
    last_id: StreamId,
) -> bool {
    let mut live = 0u64;
    let mut prev: Option<StreamId> = None;
    for (master, elems) in nodes {
        let Some(nmf) = int_at(elems, 2) else {
            return false;
        };
        let mut p = 4 + nmf as usize;
        while p < elems.len() {
            let (Some(flags), Some(msd), Some(seqd)) =
                (int_at(elems, p), int_at(elems, p + 1), int_at(elems, p + 2))
            else {
                return false;
            };
            let id = (
                master.0.wrapping_add(msd as u64),
                master.1.wrapping_add(seqd as u64),
            );
            if id < *master || prev.is_some_and(|q| id <= q) {
                return false;
            }
            prev = Some(id);
            if flags & 1 == 0 {
                live += 1;
            }
            p += 3;
            if flags & 2 == 0 {
                let Some(nf) = int_at(elems, p) else {
                    return false;
                };
                p += 1 + 2 * nf as usize;
            } else {
                p += nmf as usize;
            }
            p += 1;
        }
    }
    // No entry, live or deleted, may be newer than the stream's last ID
    // (XADD * would then make IDs that go backwards).
    live == length && prev.is_none_or(|q| q <= last_id)
}

/// The first live entry's ID in validated nodes.
fn first_live_id(nodes: &[(StreamId, Vec<Vec<u8>>)]) -> Option<StreamId> {
    for (master, elems) in nodes {
        let nmf = int_at(elems, 2)? as usize;
        let mut p = 4 + nmf;
        while p < elems.len() {
            let flags = int_at(elems, p)?;
            let msd = int_at(elems, p + 1)?;
            let seqd = int_at(elems, p + 2)?;
            if flags & 1 == 0 {
                return Some((
                    master.0.wrapping_add(msd as u64),
                    master.1.wrapping_add(seqd as u64),
                ));
            }
            p += 3;
            if flags & 2 == 0 {
                p += 1 + 2 * int_at(elems, p)? as usize;
            } else {
                p += nmf;
            }
            p += 1;
        }
    }
    None
}

/// The 9-character module type name packed in the top 54 bits of a module
/// id (the low 10 bits are the encoding version).
pub fn module_name(id: u64) -> String {
    const CHARSET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut name = [0u8; 9];
    let mut v = id >> 10;
    for slot in name.iter_mut().rev() {
        *slot = CHARSET.get((v & 63) as usize).copied().unwrap_or(b'?');
        v >>= 6;
    }
    String::from_utf8_lossy(&name).into_owned()
}

/// Reads an RDB file record by record.
///
/// After an error the reader's position is unspecified: stop reading.
pub struct Reader<R: Read> {
    p: Parser<R>,
    db: u64,
    expire_ms: Option<i64>,
    lru_idle: Option<u64>,
    lfu_freq: Option<u8>,
    done: bool,
    verify_checksum: bool,
}

impl<R: Read> Reader<R> {
    /// Reads and checks the header: `REDIS` and a four-digit version from 1
    /// to [`MAX_VERSION`].
    pub fn new(r: R) -> Result<Self, Error> {
        let mut p = Parser::new(r, 0);
        p.ctx.what = "header";
        let hdr: [u8; 9] = p.read_array()?;
        let (magic, digits) = hdr.split_at(5);
        if magic != b"REDIS" || !digits.iter().all(u8::is_ascii_digit) {
            return Err(Error::BadSignature);
        }
        let version = digits
            .iter()
            .fold(0u32, |acc, d| acc * 10 + u32::from(d - b'0'));
        if version == 0 || version > MAX_VERSION {
            return Err(Error::UnsupportedVersion(version));
        }
        p.version = version;
        Ok(Self::with_parser(p))
    }

    fn with_parser(p: Parser<R>) -> Self {
        Reader {
            p,
            db: 0,
            expire_ms: None,
            lru_idle: None,
            lfu_freq: None,
            done: false,
            verify_checksum: true,
        }
    }

    /// A reader of records with no header (the body of a FUNCTION DUMP
    /// payload), as RDB version `version` writes them.
    pub fn fragment(r: R, version: u32) -> Self {
        Self::with_parser(Parser::new(r, version))
    }

    /// Reads one record that must be a function library: its payload, or
    /// `None` when the record is of another type (nothing more is read).
    pub fn next_function(&mut self) -> Result<Option<Vec<u8>>, Error> {
        self.p.ctx.what = "function";
        let t = self.p.read_u8()?;
        match t {
            OP_FUNCTION2 | OP_FUNCTION_PRE_GA => self.read_function(t).map(Some),
            _ => Ok(None),
        }
    }

    /// The payload of a function record of type `t`. 7.0 release
    /// candidates wrote name, engine, optional description and code;
    /// Redis rewrites that into the GA form with a shebang line, and so do
    /// we.
    fn read_function(&mut self, t: u8) -> Result<Vec<u8>, Error> {
        if t == OP_FUNCTION2 {
            return self.p.read_string();
        }
        let name = self.p.read_string()?;
        let engine = self.p.read_string()?;
        if self.p.read_length()? != 0 {
            self.p.read_string()?;
        }
        let code = self.p.read_string()?;
        let mut payload = b"#!".to_vec();
        payload.extend_from_slice(&engine);
        payload.extend_from_slice(b" name=");
        payload.extend_from_slice(&name);
        payload.push(b'\n');
        payload.extend_from_slice(&code);
        Ok(payload)
    }

    /// The RDB version from the header.
    pub fn version(&self) -> u32 {
        self.p.version
    }

    /// Bytes consumed so far.
    pub fn offset(&self) -> u64 {
        self.p.offset
    }

    /// Whether a wrong checksum is an error (the default, as Redis) or only
    /// reported as `checksum_ok: false` (for an inspector).
    pub fn set_verify_checksum(&mut self, verify: bool) {
        self.verify_checksum = verify;
    }

    /// Gives back the underlying reader, positioned after the last byte
    /// consumed (after the checksum once [`Record::Eof`] was returned).
    pub fn into_inner(self) -> R {
        self.p.inner
    }

    /// Reads the next record, or `None` once the EOF record was returned.
    pub fn next_record(&mut self) -> Result<Option<Record>, Error> {
        if self.done {
            return Ok(None);
        }
        loop {
            self.p.ctx = Context {
                what: "record type",
                key: None,
                type_byte: None,
            };
            let t = self.p.read_u8()?;
            self.p.ctx.what = describe_type(t);
            match t {
                OP_EXPIRETIME => {
                    let secs = i32::from_le_bytes(self.p.read_array()?);
                    self.expire_ms = Some(i64::from(secs) * 1000);
                }
                OP_EXPIRETIME_MS => {
                    self.expire_ms = Some(i64::from_le_bytes(self.p.read_array()?));
                }
                OP_FREQ => self.lfu_freq = Some(self.p.read_u8()?),
                OP_IDLE => self.lru_idle = Some(self.p.read_length()?),
                OP_EOF => return self.read_eof().map(Some),
                OP_SELECTDB => {
                    self.db = self.p.read_length()?;
                    return Ok(Some(Record::SelectDb(self.db)));
                }
                OP_RESIZEDB => {
                    let db_size = self.p.read_length()?;
                    let expires_size = self.p.read_length()?;
                    return Ok(Some(Record::ResizeDb {
                        db_size,
                        expires_size,
                    }));
                }
                OP_SLOT_INFO => {
                    let slot_id = self.p.read_length()?;
                    let slot_size = self.p.read_length()?;
                    let expires_slot_size = self.p.read_length()?;
                    return Ok(Some(Record::SlotInfo {
                        slot_id,
                        slot_size,
                        expires_slot_size,
                    }));
                }
                OP_AUX => {
                    let key = self.p.read_string()?;
                    let value = self.p.read_string()?;
                    return Ok(Some(Record::Aux { key, value }));
                }
                OP_MODULE_AUX => {
                    let module_id = self.p.read_length()?;
                    let when_opcode = self.p.read_length()?;
                    let when = self.p.read_length()?;
                    if when_opcode != module::UINT {
                        return Err(self.p.corrupt("bad when_opcode in module aux"));
                    }
                    self.p.skip_module_value()?;
                    return Ok(Some(Record::ModuleAux {
                        module_id,
                        module_name: module_name(module_id),
                        when,
                    }));
                }
                OP_FUNCTION2 | OP_FUNCTION_PRE_GA => {
                    let payload = self.read_function(t)?;
                    return Ok(Some(Record::Function { payload }));
                }
                0..=7 | 9..=25 => return self.read_key(t).map(Some),
                _ => return Err(self.p.corrupt(format!("unknown record type {t}"))),
            }
        }
    }

    fn read_key(&mut self, t: u8) -> Result<Record, Error> {
        self.p.ctx = Context {
            what: "key",
            key: None,
            type_byte: Some(t),
        };
        let key = self.p.read_string()?;
        self.p.ctx.key = Some(key);
        let value = self.p.read_value(t)?;
        let key = self.p.ctx.key.take().unwrap_or_default();
        Ok(Record::Key(KeyRecord {
            db: self.db,
            key,
            value,
            expire_ms: self.expire_ms.take(),
            lru_idle: self.lru_idle.take(),
            lfu_freq: self.lfu_freq.take(),
            type_byte: t,
        }))
    }

    fn read_eof(&mut self) -> Result<Record, Error> {
        self.done = true;
        if self.p.version < 5 {
            return Ok(Record::Eof { checksum_ok: false });
        }
        let computed = self.p.crc;
        self.p.ctx.what = "checksum";
        let stored = u64::from_le_bytes(self.p.read_array()?);
        if stored == 0 {
            Ok(Record::Eof { checksum_ok: false })
        } else if stored == computed {
            Ok(Record::Eof { checksum_ok: true })
        } else if self.verify_checksum {
            Err(Error::ChecksumMismatch { stored, computed })
        } else {
            Ok(Record::Eof { checksum_ok: false })
        }
    }
}

#[cfg(test)]
mod tests {
    //! Hand-built files for encodings Redis 7.0 no longer writes (RDB 1–9)
    //! and for rare records. Each builder documents the bytes it lays out.
    use super::*;
    use crate::encoding::ziplist;

    /// An RDB length: `00xxxxxx` (< 64), `01xxxxxx xxxxxxxx` (< 16384),
    /// `0x80` + u32 BE, or `0x81` + u64 BE.
    fn len(n: u64) -> Vec<u8> {
        if n < 64 {
            vec![n as u8]
        } else if n < 16384 {
            vec![0x40 | (n >> 8) as u8, n as u8]
        } else {
            let mut v = vec![0x80];
            v.extend_from_slice(&(n as u32).to_be_bytes());
            v
        }
    }

    /// A length-prefixed raw string.
    fn s(b: &[u8]) -> Vec<u8> {
        let mut v = len(b.len() as u64);
        v.extend_from_slice(b);
        v
    }

    /// `REDIS` + 4-digit version + body + EOF opcode, then (RDB ≥ 5) the
    /// CRC64 of everything before it, little endian.
    fn file(version: u32, body: &[u8]) -> Vec<u8> {
        let mut f = format!("REDIS{version:04}").into_bytes();
        f.extend_from_slice(body);
        f.push(OP_EOF);
        if version >= 5 {
            let crc = crc64::crc64(0, &f);
            f.extend_from_slice(&crc.to_le_bytes());
        }
        f
    }

    fn read(f: &[u8]) -> Result<Vec<Record>, Error> {
        let mut r = Reader::new(f)?;
        let mut out = Vec::new();
        while let Some(rec) = r.next_record()? {
            out.push(rec);
        }
        Ok(out)
    }

    fn keys(f: &[u8]) -> Vec<KeyRecord> {
        read(f)
            .unwrap()
            .into_iter()
            .filter_map(|r| match r {
                Record::Key(k) => Some(k),
                _ => None,
            })
            .collect()
    }

    fn strs(v: &[&str]) -> Vec<Vec<u8>> {
        v.iter().map(|x| x.as_bytes().to_vec()).collect()
    }

    #[test]
    fn rdb1_plain_types_and_second_expire() {
        let mut body = vec![OP_SELECTDB, 0];
        // EXPIRETIME (seconds, i32 LE) then a string key.
        body.push(OP_EXPIRETIME);
        body.extend_from_slice(&1_700_000_000i32.to_le_bytes());
        body.push(TYPE_STRING);
        body.extend(s(b"str"));
        body.extend(s(b"value"));
        // LIST: count, then strings.
        body.push(TYPE_LIST);
        body.extend(s(b"list"));
        body.extend(len(2));
        body.extend(s(b"a"));
        body.extend(s(b"b"));
        // SET: count, then strings.
        body.push(TYPE_SET);
        body.extend(s(b"set"));
        body.extend(len(1));
        body.extend(s(b"m"));
        // ZSET v1: member, then score as <len><ascii>, or 253/254/255
        // for nan/+inf/-inf.
        body.push(TYPE_ZSET);
        body.extend(s(b"zset"));
        body.extend(len(3));
        body.extend(s(b"x"));
        body.extend(s(b"1.5"));
        body.extend(s(b"y"));
        body.push(254);
        body.extend(s(b"z"));
        body.push(255);
        // HASH: count, then field/value strings.
        body.push(TYPE_HASH);
        body.extend(s(b"hash"));
        body.extend(len(1));
        body.extend(s(b"f"));
        body.extend(s(b"v"));
        let f = file(1, &body);
        let recs = read(&f).unwrap();
        assert_eq!(recs.last(), Some(&Record::Eof { checksum_ok: false }));
        let ks = keys(&f);
        assert_eq!(ks.len(), 5);
        assert_eq!(ks[0].expire_ms, Some(1_700_000_000_000));
        assert_eq!(ks[0].value, Value::String(b"value".to_vec()));
        assert_eq!(ks[1].expire_ms, None);
        assert_eq!(ks[1].value, Value::List(strs(&["a", "b"])));
        assert_eq!(ks[2].value, Value::Set(strs(&["m"])));
        assert_eq!(
            ks[3].value,
            Value::ZSet(vec![
                (b"x".to_vec(), 1.5),
                (b"y".to_vec(), f64::INFINITY),
                (b"z".to_vec(), f64::NEG_INFINITY)
            ])
        );
        assert_eq!(
            ks[4].value,
            Value::Hash(vec![(b"f".to_vec(), b"v".to_vec())])
        );
    }

    #[test]
    fn zset_v1_nan_is_corrupt() {
        let mut body = vec![TYPE_ZSET];
        body.extend(s(b"z"));
        body.extend(len(1));
        body.extend(s(b"m"));
        body.push(253);
        let err = read(&file(3, &body)).unwrap_err();
        assert!(
            err.to_string().contains("Zset with NAN score detected"),
            "{err}"
        );
        assert!(err.to_string().contains("key 'z'"), "{err}");
    }

    #[test]
    fn rdb6_ziplists_intset_quicklist() {
        let mut body = vec![OP_SELECTDB, 0];
        // LIST_ZIPLIST: one string holding a ziplist.
        body.push(TYPE_LIST_ZIPLIST);
        body.extend(s(b"lz"));
        body.extend(s(&ziplist::encode(&[
            b"a",
            b"12",
            b"-70000",
            b"5000000000",
        ])));
        // HASH_ZIPLIST: field, value, field, value.
        body.push(TYPE_HASH_ZIPLIST);
        body.extend(s(b"hz"));
        body.extend(s(&ziplist::encode(&[b"f1", b"1", b"f2", b"two"])));
        // ZSET_ZIPLIST: member, score (integer or text).
        body.push(TYPE_ZSET_ZIPLIST);
        body.extend(s(b"zz"));
        body.extend(s(&ziplist::encode(&[b"a", b"1", b"b", b"2.5"])));
        // SET_INTSET: int16 encoding, 2 elements, -1 and 300.
        body.push(TYPE_SET_INTSET);
        body.extend(s(b"is"));
        body.extend(s(&[2, 0, 0, 0, 2, 0, 0, 0, 0xff, 0xff, 0x2c, 0x01]));
        // QUICKLIST (v1): node count, then ziplist strings. The second node
        // is LZF-compressed: 0xC3 <clen> <len> <lzf bytes>.
        body.push(TYPE_LIST_QUICKLIST);
        body.extend(s(b"ql"));
        body.extend(len(2));
        body.extend(s(&ziplist::encode(&[b"n1", b"n2"])));
        let node2 = ziplist::encode(&[&[b'q'; 100][..], &[b'q'; 100][..]]);
        let packed = crate::lzf::compress(&node2, node2.len()).unwrap();
        body.push(0xC3);
        body.extend(len(packed.len() as u64));
        body.extend(len(node2.len() as u64));
        body.extend(&packed);
        let f = file(6, &body);
        assert_eq!(
            read(&f).unwrap().last(),
            Some(&Record::Eof { checksum_ok: true })
        );
        let ks = keys(&f);
        assert_eq!(
            ks[0].value,
            Value::List(strs(&["a", "12", "-70000", "5000000000"]))
        );
        assert_eq!(
            ks[1].value,
            Value::Hash(vec![
                (b"f1".to_vec(), b"1".to_vec()),
                (b"f2".to_vec(), b"two".to_vec())
            ])
        );
        assert_eq!(
            ks[2].value,
            Value::ZSet(vec![(b"a".to_vec(), 1.0), (b"b".to_vec(), 2.5)])
        );
        assert_eq!(ks[3].value, Value::Set(strs(&["-1", "300"])));
        let q = "q".repeat(100);
        assert_eq!(ks[4].value, Value::List(strs(&["n1", "n2", &q, &q])));
        assert_eq!(ks[4].type_byte, TYPE_LIST_QUICKLIST);
    }

    #[test]
    fn odd_pairs_in_ziplist_are_corrupt() {
        let mut body = vec![TYPE_HASH_ZIPLIST];
        body.extend(s(b"h"));
        body.extend(s(&ziplist::encode(&[b"f1", b"v1", b"f2"])));
        let err = read(&file(6, &body)).unwrap_err();
        assert!(matches!(err, Error::Corrupt { .. }), "{err}");
    }

    #[test]
    fn quicklist2_plain_and_packed_nodes_and_set_listpack() {
        let mut lp = listpack::Builder::new();
        lp.push(b"a");
        lp.push(b"7");
        let lp = lp.finish().to_vec();
        // QUICKLIST_2: node count, then per node <container> <string>;
        // container 1 = plain element, 2 = listpack.
        let mut body = vec![TYPE_LIST_QUICKLIST_2];
        body.extend(s(b"l"));
        body.extend(len(3));
        body.extend(len(2));
        body.extend(s(&lp));
        body.extend(len(1));
        body.extend(s(b"plain element"));
        body.extend(len(2));
        body.extend(s(&lp));
        // SET_LISTPACK (RDB 11): one string holding a listpack.
        body.push(TYPE_SET_LISTPACK);
        body.extend(s(b"s"));
        body.extend(s(&lp));
        let ks = keys(&file(11, &body));
        assert_eq!(
            ks[0].value,
            Value::List(strs(&["a", "7", "plain element", "a", "7"]))
        );
        assert_eq!(ks[1].value, Value::Set(strs(&["a", "7"])));

        // Unknown container 3.
        let mut body = vec![TYPE_LIST_QUICKLIST_2];
        body.extend(s(b"l"));
        body.extend(len(1));
        body.extend(len(3));
        body.extend(s(&lp));
        let err = read(&file(10, &body)).unwrap_err();
        assert!(err.to_string().contains("container"), "{err}");
    }

    #[test]
    fn string_encodings_and_long_lengths() {
        let mut body = Vec::new();
        // Keys int-encoded: INT8 (0xC0), INT16 (0xC1, LE), INT32 (0xC2, LE).
        for (enc, val) in [
            (vec![0xC0, 0x85], "-123"),
            (vec![0xC1, 0x39, 0x30], "12345"),
            (vec![0xC2, 0x15, 0xcd, 0x5b, 0x07], "123456789"),
        ] {
            body.push(TYPE_STRING);
            body.extend(&enc);
            body.extend(s(val.as_bytes()));
        }
        // Value with a 32-bit length (0x80 + BE u32) and a 64-bit one
        // (0x81 + BE u64).
        body.push(TYPE_STRING);
        body.extend(s(b"k32"));
        body.extend([0x80, 0, 0, 0, 3]);
        body.extend(b"abc");
        body.push(TYPE_STRING);
        body.extend(s(b"k64"));
        body.extend([0x81, 0, 0, 0, 0, 0, 0, 0, 2]);
        body.extend(b"de");
        let ks = keys(&file(9, &body));
        let got: Vec<(Vec<u8>, Value)> = ks.into_iter().map(|k| (k.key, k.value)).collect();
        assert_eq!(got[0].0, b"-123");
        assert_eq!(got[1].0, b"12345");
        assert_eq!(got[2].0, b"123456789");
        assert_eq!(got[2].1, Value::String(b"123456789".to_vec()));
        assert_eq!(got[3].1, Value::String(b"abc".to_vec()));
        assert_eq!(got[4].1, Value::String(b"de".to_vec()));

        // Unknown length forms.
        for bad in [[0x82u8], [0xC4]] {
            let mut body = vec![TYPE_STRING];
            body.extend(s(b"k"));
            body.extend(bad);
            assert!(matches!(read(&file(9, &body)), Err(Error::Corrupt { .. })));
        }
    }

    #[test]
    fn module_aux_is_skipped_and_module_values_refused() {
        // Module id: 9 name characters of 6 bits each, then a 10-bit
        // encoding version.
        let charset = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
        let id = b"mymodule1".iter().fold(0u64, |acc, c| {
            (acc << 6) | charset.iter().position(|x| x == c).unwrap() as u64
        }) << 10
            | 3;
        assert_eq!(module_name(id), "mymodule1");
        let id_len = {
            let mut v = vec![0x81];
            v.extend_from_slice(&id.to_be_bytes());
            v
        };
        // MODULE_AUX: <id> <when_opcode = 2 (UINT)> <when> then module
        // opcodes: SINT <len>, STRING <string>, FLOAT <4 bytes>,
        // DOUBLE <8 bytes>, UINT <len>, EOF (0).
        let mut body = vec![OP_MODULE_AUX];
        body.extend(&id_len);
        body.extend([2, 2]);
        body.extend([1, 5]);
        body.push(5);
        body.extend(s(b"abc"));
        body.push(3);
        body.extend(1.5f32.to_le_bytes());
        body.push(4);
        body.extend(2.5f64.to_le_bytes());
        body.extend([2, 7, 0]);
        body.push(TYPE_STRING);
        body.extend(s(b"after"));
        body.extend(s(b"ok"));
        let recs = read(&file(9, &body)).unwrap();
        assert_eq!(
            recs[0],
            Record::ModuleAux {
                module_id: id,
                module_name: "mymodule1".into(),
                when: 2
            }
        );
        assert!(matches!(&recs[1], Record::Key(k) if k.key == b"after"));

        // A module value (type 7) is refused, naming key and module.
        let mut body = vec![TYPE_MODULE_2];
        body.extend(s(b"mkey"));
        body.extend(&id_len);
        body.extend([2, 1, 0]);
        let err = read(&file(9, &body)).unwrap_err();
        let msg = err.to_string();
        assert!(
            msg.contains("module type 'mymodule1'") && msg.contains("'mkey'"),
            "{msg}"
        );
    }

    fn stream_value(lp_count: &str, length: u64) -> Value {
        let e = |v: &[&str]| v.iter().map(|x| x.as_bytes().to_vec()).collect::<Vec<_>>();
        Value::Stream(Box::new(Stream {
            nodes: vec![(
                (5, 0),
                e(&[
                    "2", "0", "1", "f", "0", // master entry
                    "2", "0", "0", "v1", lp_count, // 5-0, same fields
                    "0", "1", "0", "1", "g", "12", "6", // 6-0, own fields
                ]),
            )],
            length,
            last_id: (6, 0),
            first_id: (5, 0),
            max_deleted_id: (0, 0),
            entries_added: 2,
            groups: vec![StreamGroup {
                name: b"grp".to_vec(),
                last_id: (5, 0),
                entries_read: Some(1),
                pel: vec![((5, 0), 1234, 2)],
                consumers: vec![StreamConsumer {
                    name: b"alice".to_vec(),
                    seen_time: 99,
                    pel: vec![(5, 0)],
                }],
            }],
        }))
    }

    #[test]
    fn streams_round_trip_and_bad_nodes_are_refused() {
        let v = stream_value("4", 2);
        let back = crate::restore_payload(&crate::dump_payload(&v, 10)).unwrap();
        assert_eq!(back, v);
        // A wrong lp-count, or a length the nodes do not hold.
        for bad in [stream_value("5", 2), stream_value("4", 3)] {
            let err = crate::restore_payload(&crate::dump_payload(&bad, 10)).unwrap_err();
            assert!(matches!(err, Error::Corrupt { .. }), "{err}");
        }
    }

    #[test]
    fn field_ttl_hashes_are_refused() {
        let mut body = vec![TYPE_HASH_LISTPACK_EX];
        body.extend(s(b"x"));
        body.extend([0, 0, 0]);
        let err = read(&file(12, &body)).unwrap_err();
        assert!(matches!(err, Error::Unsupported { .. }));
        assert_eq!(
            err.to_string(),
            "hash with field expiration not supported (key 'x')"
        );
    }

    #[test]
    fn functions_slot_info_idle_freq() {
        // FUNCTION (7.0 RC): name, engine, has-description, [desc], code.
        let mut body = vec![OP_FUNCTION_PRE_GA];
        body.extend(s(b"lib"));
        body.extend(s(b"LUA"));
        body.extend(len(1));
        body.extend(s(b"a description"));
        body.extend(s(b"return 1"));
        body.push(OP_FUNCTION2);
        body.extend(s(b"#!lua name=lib2\nreturn 2"));
        // SLOT_INFO: slot, keys, keys with expire.
        body.extend([OP_SLOT_INFO, 5, 1, 0]);
        // IDLE <len seconds>, FREQ <u8>, then the key they belong to.
        body.extend([OP_IDLE, 0x40, 200, OP_FREQ, 9, TYPE_STRING]);
        body.extend(s(b"k"));
        body.extend(s(b"v"));
        let recs = read(&file(12, &body)).unwrap();
        assert_eq!(
            recs[0],
            Record::Function {
                payload: b"#!LUA name=lib\nreturn 1".to_vec()
            }
        );
        assert_eq!(
            recs[1],
            Record::Function {
                payload: b"#!lua name=lib2\nreturn 2".to_vec()
            }
        );
        assert_eq!(
            recs[2],
            Record::SlotInfo {
                slot_id: 5,
                slot_size: 1,
                expires_slot_size: 0
            }
        );
        match &recs[3] {
            Record::Key(k) => {
                assert_eq!((k.lru_idle, k.lfu_freq), (Some(200), Some(9)));
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn header_and_checksum_errors() {
        assert!(matches!(
            Reader::new(&b"RADIS0009"[..]),
            Err(Error::BadSignature)
        ));
        assert!(matches!(
            Reader::new(&b"REDIS00a9"[..]),
            Err(Error::BadSignature)
        ));
        assert!(matches!(
            Reader::new(&b"REDIS0013"[..]),
            Err(Error::UnsupportedVersion(13))
        ));
        assert!(matches!(
            Reader::new(&b"REDIS0000"[..]),
            Err(Error::UnsupportedVersion(0))
        ));
        assert!(matches!(
            Reader::new(&b"REDIS"[..]),
            Err(Error::UnexpectedEof { .. })
        ));
        for t in [8u8, 26, 100, 243] {
            let err = read(&file(9, &[t])).unwrap_err();
            assert!(err.to_string().contains("unknown record type"), "{err}");
        }

        let mut f = file(9, &[TYPE_STRING, 1, b'k', 1, b'v']);
        let n = f.len();
        f[n - 1] ^= 0x40;
        assert!(matches!(read(&f), Err(Error::ChecksumMismatch { .. })));
        let mut r = Reader::new(&f[..]).unwrap();
        r.set_verify_checksum(false);
        assert!(matches!(r.next_record(), Ok(Some(Record::Key(_)))));
        assert_eq!(
            r.next_record().unwrap(),
            Some(Record::Eof { checksum_ok: false })
        );
        assert_eq!(r.next_record().unwrap(), None);
        assert_eq!(r.offset(), f.len() as u64);
    }

    #[test]
    fn errors_name_offset_key_and_type() {
        // A hash listpack whose element count is wrong.
        let mut lp = listpack::Builder::new();
        lp.push(b"f");
        lp.push(b"v");
        let mut lp = lp.finish().to_vec();
        lp[4] = 3;
        let mut body = vec![TYPE_HASH_LISTPACK];
        body.extend(s(b"badkey"));
        body.extend(s(&lp));
        let err = read(&file(10, &body)).unwrap_err();
        match &err {
            Error::Corrupt {
                offset, context, ..
            } => {
                assert_eq!(*offset, 9 + 1 + 7 + 1 + lp.len() as u64);
                assert_eq!(context.key.as_deref(), Some(&b"badkey"[..]));
                assert_eq!(context.type_byte, Some(TYPE_HASH_LISTPACK));
            }
            other => panic!("{other:?}"),
        }
        let msg = err.to_string();
        assert!(
            msg.contains("key 'badkey'") && msg.contains("hash-listpack") && msg.contains("count"),
            "{msg}"
        );
    }
}
