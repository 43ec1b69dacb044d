//! Streaming RDB writer.
//!
//! Keys are written one at a time from borrowed data, so saving a huge
//! collection needs no copy of it: at most one listpack node (about 8 KB),
//! one small collection (up to the listpack thresholds) or one compressed
//! element is buffered. The CRC64 is computed on the fly and written by
//! [`Writer::finish`].
//!
//! Encodings follow what Redis 7.0 writes, so files are about the same size
//! as Redis's own and load into the same in-memory shapes:
//!
//! | value                                   | RDB ≥ 10                  | RDB 5–9           |
//! |-----------------------------------------|---------------------------|-------------------|
//! | string                                  | int / LZF / raw           | same              |
//! | list                                    | quicklist 2, 8 KB nodes   | plain list        |
//! | set of ≤ 512 integers                   | intset                    | intset            |
//! | set of ≤ 128 short strings (RDB ≥ 11)   | set listpack              | plain set         |
//! | other sets                              | plain set                 | plain set         |
//! | hash ≤ 128 pairs, ≤ 64-byte fields/values | hash listpack          | plain hash        |
//! | zset ≤ 128 members ≤ 64 bytes           | zset listpack (sorted)    | ZSET_2 (ZSET < 8) |
//!
//! Strings (keys, elements, blobs) are stored as Redis's
//! `rdbSaveRawString` does: canonical integers that fit 32 bits as integer
//! encodings; with compression on, strings longer than 20 bytes as LZF when
//! that saves at least 4 bytes; the rest verbatim.

use std::io::Write;

use crate::encoding::{format_score, intset, listpack, parse_canonical_i64, quicklist};
use crate::opcode::*;
use crate::{crc64, lzf, Error, Stream, StreamId, Value};

/// How to write an RDB file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WriteOptions {
    /// RDB version in the header, 5 to 12. Default 10 (Redis 7.0); Redis
    /// refuses files newer than its own version. Below 10 only plain
    /// encodings (and intsets) are used.
    pub version: u32,
    /// LZF-compress strings, as `rdbcompression yes`.
    pub compression: bool,
    /// Compute and write the CRC64, as `rdbchecksum yes`; otherwise 0 is
    /// written, which readers take as "not checked".
    pub checksum: bool,
    /// Largest hash/zset (and, for RDB ≥ 11, set) written as a listpack,
    /// as `hash-max-listpack-entries`.
    pub listpack_max_entries: usize,
    /// Longest field, value or member allowed in a listpack, as
    /// `hash-max-listpack-value`.
    pub listpack_max_value: usize,
    /// Largest integer set written as an intset, as
    /// `set-max-intset-entries`.
    pub intset_max_entries: usize,
}

impl Default for WriteOptions {
    fn default() -> Self {
        WriteOptions {
            version: 10,
            compression: true,
            checksum: true,
            listpack_max_entries: 128,
            listpack_max_value: 64,
            intset_max_entries: 512,
        }
    }
}

/// Lowest version the writer produces (the first with a checksum).
pub const MIN_WRITE_VERSION: u32 = 5;

/// Writes an RDB file.
pub struct Writer<W: Write> {
    w: W,
    crc: u64,
    written: u64,
    opts: WriteOptions,
    lzf: Option<Box<lzf::Compressor>>,
    lzf_buf: Vec<u8>,
    lp: listpack::Builder,
}

fn count_mismatch(len: usize, got: usize) -> Error {
    Error::InvalidInput(format!(
        "collection declared {len} elements but its iterator yielded {got}"
    ))
}

impl<W: Write> Writer<W> {
    /// Writes the header (`REDIS` and the four-digit version).
    pub fn new(w: W, opts: WriteOptions) -> Result<Self, Error> {
        if !(MIN_WRITE_VERSION..=crate::reader::MAX_VERSION).contains(&opts.version) {
            return Err(Error::UnsupportedVersion(opts.version));
        }
        let mut me = Self::raw(w, opts);
        let hdr = format!("REDIS{:04}", me.opts.version);
        me.put(hdr.as_bytes())?;
        Ok(me)
    }

    /// A writer of records only: no header, and `finish` is not meant to be
    /// called, and no checksum. Used for snapshot fragments, which a
    /// snapshot encodes one segment at a time (possibly out of order, before
    /// a write changes the segment) and later splices into the real stream
    /// with [`Writer::records`].
    pub fn fragment(w: W, opts: WriteOptions) -> Self {
        // The checksum is taken when the records are appended to the
        // file; one here would be computed and thrown away.
        Self::raw(
            w,
            WriteOptions {
                checksum: false,
                ..opts
            },
        )
    }

    /// Append records encoded by a [`Writer::fragment`] with the same
    /// options. They go through the checksum like any other bytes.
    pub fn records(&mut self, bytes: &[u8]) -> Result<(), Error> {
        self.put(bytes)
    }

    /// The inner writer (to drain a fragment's buffer).
    pub fn get_mut(&mut self) -> &mut W {
        &mut self.w
    }

    /// A writer with no header, for DUMP payloads.
    pub(crate) fn raw(w: W, opts: WriteOptions) -> Self {
        Writer {
            w,
            crc: 0,
            written: 0,
            opts,
            lzf: None,
            lzf_buf: Vec::new(),
            lp: listpack::Builder::new(),
        }
    }

    /// Bytes written so far.
    pub fn bytes_written(&self) -> u64 {
        self.written
    }

    fn put(&mut self, bytes: &[u8]) -> Result<(), Error> {
        if self.opts.checksum {
            self.crc = crc64::crc64(self.crc, bytes);
        }
        self.w.write_all(bytes)?;
        self.written += bytes.len() as u64;
        Ok(())
    }

    fn put_u8(&mut self, b: u8) -> Result<(), Error> {
        self.put(&[b])
    }

    fn put_len(&mut self, len: u64) -> Result<(), Error> {
        if len < 1 << 6 {
            self.put_u8(len as u8)
        } else if len < 1 << 14 {
            self.put(&[0x40 | (len >> 8) as u8, len as u8])
        } else if let Ok(l) = u32::try_from(len) {
            self.put_u8(0x80)?;
            self.put(&l.to_be_bytes())
        } else {
            self.put_u8(0x81)?;
            self.put(&len.to_be_bytes())
        }
    }

    /// Writes a string as Redis's `rdbSaveRawString`.
    fn put_string(&mut self, s: &[u8]) -> Result<(), Error> {
        if s.len() <= 11 {
            if let Some(v) = parse_canonical_i64(s) {
                if let Ok(b) = i8::try_from(v) {
                    return self.put(&[0xC0, b as u8]);
                } else if let Ok(h) = i16::try_from(v) {
                    let b = h.to_le_bytes();
                    return self.put(&[0xC1, b[0], b[1]]);
                } else if let Ok(w) = i32::try_from(v) {
                    let b = w.to_le_bytes();
                    return self.put(&[0xC2, b[0], b[1], b[2], b[3]]);
                }
            }
        }
        if self.opts.compression && s.len() > 20 {
            let mut buf = std::mem::take(&mut self.lzf_buf);
            let comp = self.lzf.get_or_insert_with(Box::default);
            let ok = comp.compress_into(s, s.len() - 4, &mut buf);
            let res = if ok {
                self.put_u8(0xC3)
                    .and_then(|()| self.put_len(buf.len() as u64))
                    .and_then(|()| self.put_len(s.len() as u64))
                    .and_then(|()| self.put(&buf))
            } else {
                Ok(())
            };
            // Keep the buffer for the next string unless it grew huge.
            if buf.capacity() <= 1 << 20 {
                self.lzf_buf = buf;
            }
            if ok {
                return res;
            }
        }
        self.put_len(s.len() as u64)?;
        self.put(s)
    }

    /// Writes the current listpack as a string and empties the builder.
    fn put_listpack(&mut self) -> Result<(), Error> {
        let mut lp = std::mem::take(&mut self.lp);
        let res = self.put_string(lp.finish());
        lp.reset();
        self.lp = lp;
        res
    }

    fn begin_key(
        &mut self,
        key: Option<&[u8]>,
        type_byte: u8,
        expire_ms: Option<i64>,
    ) -> Result<(), Error> {
        if let Some(key) = key {
            if let Some(t) = expire_ms {
                self.put_u8(OP_EXPIRETIME_MS)?;
                self.put(&t.to_le_bytes())?;
            }
            self.put_u8(type_byte)?;
            self.put_string(key)
        } else {
            self.put_u8(type_byte)
        }
    }

    /// Writes an AUX field. Integer values (`redis-bits`, `ctime`,
    /// `used-mem`, `repl-offset`…) are integer-encoded automatically when
    /// given in decimal, as Redis does.
    pub fn aux(&mut self, key: &[u8], value: &[u8]) -> Result<(), Error> {
        self.put_u8(OP_AUX)?;
        self.put_string(key)?;
        self.put_string(value)
    }

    /// Writes a SELECTDB record.
    pub fn select_db(&mut self, db: u64) -> Result<(), Error> {
        self.put_u8(OP_SELECTDB)?;
        self.put_len(db)
    }

    /// Writes a RESIZEDB hint for the current database.
    pub fn resize_db(&mut self, db_size: u64, expires_size: u64) -> Result<(), Error> {
        self.put_u8(OP_RESIZEDB)?;
        self.put_len(db_size)?;
        self.put_len(expires_size)
    }

    /// Writes the LRU idle time (seconds) of the next key.
    pub fn idle(&mut self, seconds: u64) -> Result<(), Error> {
        self.put_u8(OP_IDLE)?;
        self.put_len(seconds)
    }

    /// Writes the LFU frequency of the next key.
    pub fn freq(&mut self, freq: u8) -> Result<(), Error> {
        self.put(&[OP_FREQ, freq])
    }

    /// Writes a function library (`FUNCTION2` record) with its code, which
    /// starts with the `#!<engine> name=<lib>` line.
    pub fn function(&mut self, code: &[u8]) -> Result<(), Error> {
        self.put_u8(OP_FUNCTION2)?;
        self.put_string(code)
    }

    /// Writes a string key.
    pub fn string(
        &mut self,
        key: &[u8],
        value: &[u8],
        expire_ms: Option<i64>,
    ) -> Result<(), Error> {
        self.begin_key(Some(key), TYPE_STRING, expire_ms)?;
        self.put_string(value)
    }

    /// Writes a list key of `len` elements.
    ///
    /// The iterator is walked twice (it must yield the same elements both
    /// times): once to count quicklist nodes, whose number precedes them,
    /// and once to write them.
    pub fn list<'a, I>(
        &mut self,
        key: &[u8],
        len: usize,
        items: I,
        expire_ms: Option<i64>,
    ) -> Result<(), Error>
    where
        I: Iterator<Item = &'a [u8]> + Clone,
    {
        self.write_list(Some(key), len, items, expire_ms)
    }

    fn write_list<'a, I>(
        &mut self,
        key: Option<&[u8]>,
        len: usize,
        items: I,
        expire_ms: Option<i64>,
    ) -> Result<(), Error>
    where
        I: Iterator<Item = &'a [u8]> + Clone,
    {
        if self.opts.version < 10 {
            self.begin_key(key, TYPE_LIST, expire_ms)?;
            self.put_len(len as u64)?;
            let mut n = 0;
            for it in items {
                if n == len {
                    return Err(count_mismatch(len, n + 1));
                }
                self.put_string(it)?;
                n += 1;
            }
            return if n == len {
                Ok(())
            } else {
                Err(count_mismatch(len, n))
            };
        }
        let mut plan = quicklist::Planner::default();
        let (mut nodes, mut n) = (0u64, 0usize);
        for it in items.clone() {
            n += 1;
            if plan.place(it) != quicklist::Place::Append {
                nodes += 1;
            }
        }
        if n != len {
            return Err(count_mismatch(len, n));
        }
        self.begin_key(key, TYPE_LIST_QUICKLIST_2, expire_ms)?;
        self.put_len(nodes)?;
        let mut plan = quicklist::Planner::default();
        let mut written = 0u64;
        self.lp.reset();
        for it in items {
            match plan.place(it) {
                quicklist::Place::Append => self.lp.push(it),
                place => {
                    if self.lp.len() > 0 {
                        self.put_len(QUICKLIST_NODE_PACKED)?;
                        self.put_listpack()?;
                    }
                    written += 1;
                    if place == quicklist::Place::Plain {
                        self.put_len(QUICKLIST_NODE_PLAIN)?;
                        self.put_string(it)?;
                    } else {
                        self.lp.push(it);
                    }
                }
            }
        }
        if self.lp.len() > 0 {
            self.put_len(QUICKLIST_NODE_PACKED)?;
            self.put_listpack()?;
        }
        if written != nodes {
            return Err(Error::InvalidInput(
                "list iterator yielded different elements on its second pass".into(),
            ));
        }
        Ok(())
    }

    /// Collects up to `len` items when `len` is small enough for a compact
    /// encoding; checks the count.
    fn collect_small<T, I: Iterator<Item = T>>(len: usize, items: &mut I) -> Result<Vec<T>, Error> {
        let v: Vec<T> = items.by_ref().take(len.saturating_add(1)).collect();
        if v.len() != len {
            return Err(count_mismatch(len, v.len()));
        }
        Ok(v)
    }

    /// Writes `len` then the strings of `items`, checking the count.
    fn put_strings<'a>(
        &mut self,
        len: usize,
        items: impl Iterator<Item = &'a [u8]>,
    ) -> Result<(), Error> {
        self.put_len(len as u64)?;
        let mut n = 0;
        for it in items {
            if n == len {
                return Err(count_mismatch(len, n + 1));
            }
            self.put_string(it)?;
            n += 1;
        }
        if n != len {
            return Err(count_mismatch(len, n));
        }
        Ok(())
    }

    /// Writes a set key of `len` distinct members.
    pub fn set<'a>(
        &mut self,
        key: &[u8],
        len: usize,
        items: impl Iterator<Item = &'a [u8]>,
        expire_ms: Option<i64>,
    ) -> Result<(), Error> {
        self.write_set(Some(key), len, items, expire_ms)
    }

    fn write_set<'a>(
        &mut self,
        key: Option<&[u8]>,
        len: usize,
        mut items: impl Iterator<Item = &'a [u8]>,
        expire_ms: Option<i64>,
    ) -> Result<(), Error> {
        let lp_ok = self.opts.version >= 11 && len <= self.opts.listpack_max_entries;
        if len == 0 || (len > self.opts.intset_max_entries && !lp_ok) {
            self.begin_key(key, TYPE_SET, expire_ms)?;
            return self.put_strings(len, items);
        }
        let small = Self::collect_small(len, &mut items)?;
        if len <= self.opts.intset_max_entries {
            let ints: Option<Vec<i64>> = small.iter().map(|s| parse_canonical_i64(s)).collect();
            if let Some(mut ints) = ints {
                ints.sort_unstable();
                if ints.windows(2).all(|w| w.first() < w.get(1)) {
                    self.begin_key(key, TYPE_SET_INTSET, expire_ms)?;
                    return self.put_string(&intset::encode(&ints));
                }
            }
        }
        if lp_ok
            && small
                .iter()
                .all(|s| s.len() <= self.opts.listpack_max_value)
        {
            self.begin_key(key, TYPE_SET_LISTPACK, expire_ms)?;
            self.lp.reset();
            for s in &small {
                self.lp.push(s);
            }
            return self.put_listpack();
        }
        self.begin_key(key, TYPE_SET, expire_ms)?;
        self.put_strings(len, small.into_iter())
    }

    /// Writes a hash key of `len` field/value pairs.
    pub fn hash<'a>(
        &mut self,
        key: &[u8],
        len: usize,
        pairs: impl Iterator<Item = (&'a [u8], &'a [u8])>,
        expire_ms: Option<i64>,
    ) -> Result<(), Error> {
        self.write_hash(Some(key), len, pairs, expire_ms)
    }

    fn write_hash<'a>(
        &mut self,
        key: Option<&[u8]>,
        len: usize,
        mut pairs: impl Iterator<Item = (&'a [u8], &'a [u8])>,
        expire_ms: Option<i64>,
    ) -> Result<(), Error> {
        if self.opts.version >= 10 && len > 0 && len <= self.opts.listpack_max_entries {
            let small = Self::collect_small(len, &mut pairs)?;
            let max = self.opts.listpack_max_value;
            if small.iter().all(|(f, v)| f.len() <= max && v.len() <= max) {
                self.begin_key(key, TYPE_HASH_LISTPACK, expire_ms)?;
                self.lp.reset();
                for (f, v) in &small {
                    self.lp.push(f);
                    self.lp.push(v);
                }
                return self.put_listpack();
            }
            return self.put_plain_hash(key, len, small.into_iter(), expire_ms);
        }
        self.put_plain_hash(key, len, pairs, expire_ms)
    }

    fn put_plain_hash<'a>(
        &mut self,
        key: Option<&[u8]>,
        len: usize,
        pairs: impl Iterator<Item = (&'a [u8], &'a [u8])>,
        expire_ms: Option<i64>,
    ) -> Result<(), Error> {
        self.begin_key(key, TYPE_HASH, expire_ms)?;
        self.put_len(len as u64)?;
        let mut n = 0;
        for (f, v) in pairs {
            if n == len {
                return Err(count_mismatch(len, n + 1));
            }
            self.put_string(f)?;
            self.put_string(v)?;
            n += 1;
        }
        if n != len {
            return Err(count_mismatch(len, n));
        }
        Ok(())
    }

    /// Writes a sorted-set key of `len` member/score pairs.
    ///
    /// Small sets become a listpack sorted by score then member, as Redis
    /// keeps them. Large ones are written in the iterator's order; Redis
    /// itself writes them highest score first, which makes its load fastest.
    /// A NaN score is written as given (Redis refuses such a file).
    pub fn zset<'a>(
        &mut self,
        key: &[u8],
        len: usize,
        pairs: impl Iterator<Item = (&'a [u8], f64)>,
        expire_ms: Option<i64>,
    ) -> Result<(), Error> {
        self.write_zset(Some(key), len, pairs, expire_ms)
    }

    fn write_zset<'a>(
        &mut self,
        key: Option<&[u8]>,
        len: usize,
        mut pairs: impl Iterator<Item = (&'a [u8], f64)>,
        expire_ms: Option<i64>,
    ) -> Result<(), Error> {
        if self.opts.version >= 10 && len > 0 && len <= self.opts.listpack_max_entries {
            let mut small = Self::collect_small(len, &mut pairs)?;
            let max = self.opts.listpack_max_value;
            if small.iter().all(|(m, s)| m.len() <= max && !s.is_nan()) {
                small.sort_by(|a, b| {
                    a.1.partial_cmp(&b.1)
                        .unwrap_or(std::cmp::Ordering::Equal)
                        .then_with(|| a.0.cmp(b.0))
                });
                self.begin_key(key, TYPE_ZSET_LISTPACK, expire_ms)?;
                self.lp.reset();
                for (m, s) in &small {
                    self.lp.push(m);
                    self.lp.push(format_score(*s).as_bytes());
                }
                return self.put_listpack();
            }
            return self.put_plain_zset(key, len, small.into_iter(), expire_ms);
        }
        self.put_plain_zset(key, len, pairs, expire_ms)
    }

    fn put_plain_zset<'a>(
        &mut self,
        key: Option<&[u8]>,
        len: usize,
        pairs: impl Iterator<Item = (&'a [u8], f64)>,
        expire_ms: Option<i64>,
    ) -> Result<(), Error> {
        let binary = self.opts.version >= 8;
        let t = if binary { TYPE_ZSET_2 } else { TYPE_ZSET };
        self.begin_key(key, t, expire_ms)?;
        self.put_len(len as u64)?;
        let mut n = 0;
        for (m, s) in pairs {
            if n == len {
                return Err(count_mismatch(len, n + 1));
            }
            self.put_string(m)?;
            if binary {
                self.put(&s.to_le_bytes())?;
            } else if s.is_nan() {
                self.put_u8(253)?;
            } else if s == f64::INFINITY {
                self.put_u8(254)?;
            } else if s == f64::NEG_INFINITY {
                self.put_u8(255)?;
            } else {
                let text = format_score(s);
                self.put_u8(text.len() as u8)?;
                self.put(text.as_bytes())?;
            }
            n += 1;
        }
        if n != len {
            return Err(count_mismatch(len, n));
        }
        Ok(())
    }

    /// Writes a key holding `value`, choosing the encoding as the typed
    /// methods do.
    pub fn write_value(
        &mut self,
        key: &[u8],
        value: &Value,
        expire_ms: Option<i64>,
    ) -> Result<(), Error> {
        self.value(Some(key), value, expire_ms)
    }

    /// Writes the type byte, the key if given, and the value.
    pub(crate) fn value(
        &mut self,
        key: Option<&[u8]>,
        value: &Value,
        expire_ms: Option<i64>,
    ) -> Result<(), Error> {
        match value {
            Value::String(s) => {
                self.begin_key(key, TYPE_STRING, expire_ms)?;
                self.put_string(s)
            }
            Value::List(items) => {
                self.write_list(key, items.len(), items.iter().map(Vec::as_slice), expire_ms)
            }
            Value::Set(items) => {
                self.write_set(key, items.len(), items.iter().map(Vec::as_slice), expire_ms)
            }
            Value::Hash(pairs) => self.write_hash(
                key,
                pairs.len(),
                pairs.iter().map(|(f, v)| (f.as_slice(), v.as_slice())),
                expire_ms,
            ),
            Value::ZSet(pairs) => self.write_zset(
                key,
                pairs.len(),
                pairs.iter().map(|(m, s)| (m.as_slice(), *s)),
                expire_ms,
            ),
            Value::Stream(st) => self.write_stream(key, st, expire_ms),
        }
    }

    /// Writes a stream key: `RDB_TYPE_STREAM_LISTPACKS_2` (what Redis 7.0
    /// writes) for RDB 10 and later, `RDB_TYPE_STREAM_LISTPACKS` (Redis
    /// 5.0–6.2's, without the 7.0 metadata and read counters) before.
    pub fn stream(&mut self, key: &[u8], st: &Stream, expire_ms: Option<i64>) -> Result<(), Error> {
        self.write_stream(Some(key), st, expire_ms)
    }

    fn put_stream_id(&mut self, id: StreamId) -> Result<(), Error> {
        let mut b = [0u8; 16];
        b[..8].copy_from_slice(&id.0.to_be_bytes());
        b[8..].copy_from_slice(&id.1.to_be_bytes());
        self.put(&b)
    }

    fn write_stream(
        &mut self,
        key: Option<&[u8]>,
        st: &Stream,
        expire_ms: Option<i64>,
    ) -> Result<(), Error> {
        let v2 = self.opts.version >= 10;
        let t = if v2 {
            TYPE_STREAM_LISTPACKS_2
        } else {
            TYPE_STREAM_LISTPACKS
        };
        self.begin_key(key, t, expire_ms)?;
        self.put_len(st.nodes.len() as u64)?;
        for (master, elems) in &st.nodes {
            let mut b = [0u8; 16];
            b[..8].copy_from_slice(&master.0.to_be_bytes());
            b[8..].copy_from_slice(&master.1.to_be_bytes());
            self.put_string(&b)?;
            self.lp.reset();
            for e in elems {
                self.lp.push(e);
            }
            self.put_listpack()?;
        }
        self.put_len(st.length)?;
        self.put_len(st.last_id.0)?;
        self.put_len(st.last_id.1)?;
        if v2 {
            self.put_len(st.first_id.0)?;
            self.put_len(st.first_id.1)?;
            self.put_len(st.max_deleted_id.0)?;
            self.put_len(st.max_deleted_id.1)?;
            self.put_len(st.entries_added)?;
        }
        self.put_len(st.groups.len() as u64)?;
        for g in &st.groups {
            self.put_string(&g.name)?;
            self.put_len(g.last_id.0)?;
            self.put_len(g.last_id.1)?;
            if v2 {
                self.put_len(g.entries_read.unwrap_or(-1) as u64)?;
            }
            self.put_len(g.pel.len() as u64)?;
            for &(id, time, count) in &g.pel {
                self.put_stream_id(id)?;
                self.put(&time.to_le_bytes())?;
                self.put_len(count)?;
            }
            self.put_len(g.consumers.len() as u64)?;
            for c in &g.consumers {
                self.put_string(&c.name)?;
                self.put(&c.seen_time.to_le_bytes())?;
                self.put_len(c.pel.len() as u64)?;
                for &id in &c.pel {
                    self.put_stream_id(id)?;
                }
            }
        }
        Ok(())
    }

    /// Writes the EOF opcode and (RDB ≥ 5) the CRC64, little endian, or 0
    /// when checksums are off; flushes and returns the inner writer.
    pub fn finish(mut self) -> Result<W, Error> {
        self.put_u8(OP_EOF)?;
        let crc = if self.opts.checksum { self.crc } else { 0 };
        self.put(&crc.to_le_bytes())?;
        self.w.flush()?;
        Ok(self.w)
    }

    /// Returns the inner writer without writing anything more.
    pub fn into_inner(self) -> W {
        self.w
    }
}
