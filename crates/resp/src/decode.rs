//! Request decoding (client → server), resumable across reads.
//!
//! A client sends either multibulk requests (`*2\r\n$3\r\nGET\r\n$1\r\nk\r\n`)
//! or inline ones (`GET k\r\n`). This module turns the front of a
//! connection's read buffer into argument vectors with the same rules and
//! the same errors as Redis 7.0's `processMultibulkBuffer` and
//! `processInlineBuffer` (`networking.c`), because clients and test suites
//! depend on both: which bytes are accepted, and which exact `-ERR Protocol
//! error: ...` text comes back before the connection is closed.
//!
//! Why it is shaped this way:
//! - **Resumable.** A 100 MB `SET` arrives in thousands of reads. The decoder
//!   keeps the arguments parsed so far and the length of the bulk it waits
//!   for, and consumes bytes as it goes, so each read costs only the new
//!   bytes. Searches for a line end remember how far they got, so a long
//!   header arriving byte by byte is not rescanned either.
//! - **Zero-copy.** Each argument is `split_to(len).freeze()` of the read
//!   buffer: the bytes are not copied. (A `Bytes` keeps its whole buffer
//!   chunk alive; a caller storing small values long-term may prefer to
//!   copy them.)
//! - **Bounded.** Every length read off the wire is checked against
//!   [`Limits`] before it is used, and no allocation is sized by it beyond a
//!   small cap: a client claiming `*2147483647` or `$536870912` costs nothing
//!   until it actually sends the bytes.
//!
//! Quirks kept on purpose, because Redis has them:
//! - Line ends are found with C `strchr` on a NUL-terminated buffer, so a
//!   NUL byte before the `\n` of an inline request (or the `\r` of a `*`/`$`
//!   header) hides it: the decoder waits, and errors only once more than
//!   `max_inline_len` bytes are buffered.
//! - Only `\r` is looked for in headers; the byte after it is skipped
//!   unchecked, and so are the two bytes after a bulk payload.
//! - An inline line ends at `\n`, with an optional `\r` before it stripped.
//! - Empty inline lines, `*0` and negative counts (`*-1`) are skipped.

use bytes::{Buf, Bytes, BytesMut};

use crate::error::ProtocolError;
use crate::inline::split_args;
use crate::num::parse_i64;

/// Redis's `PROTO_INLINE_MAX_SIZE`: the longest inline request or header
/// line it waits for.
pub const PROTO_INLINE_MAX_SIZE: usize = 64 * 1024;

/// Redis's `PROTO_MBULK_BIG_ARG`: from this size on a bulk argument counts
/// as big, and the decoder grows the buffer towards it ahead of the reads.
pub const PROTO_MBULK_BIG_ARG: usize = 32 * 1024;

/// Redis's default `proto-max-bulk-len`, 512 MB.
pub const DEFAULT_MAX_BULK_LEN: u64 = 512 * 1024 * 1024;

/// Redis 7.0's ceiling on a multibulk count: `INT_MAX`.
pub const DEFAULT_MAX_MULTIBULK_LEN: u64 = i32::MAX as u64;

/// The largest multibulk count a client that must still authenticate may
/// send (CVE-2021-32675).
const UNAUTH_MAX_MULTIBULK: i64 = 10;

/// The largest bulk length a client that must still authenticate may send.
const UNAUTH_MAX_BULK: i64 = 16384;

/// The largest number of argument slots reserved up front for a multibulk
/// (Redis 7.0: `argv_len = min(multibulklen, 1024)`); more grow as the
/// arguments actually arrive.
const ARGV_PREALLOC: usize = 1024;

/// Bounds the decoder applies to untrusted lengths.
///
/// A connection from a master (Redis's `CLIENT_MASTER`) is exempt from
/// `proto-max-bulk-len`: give it `max_bulk_len: u64::MAX`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// `proto-max-bulk-len`: the longest bulk argument accepted.
    /// Default 512 MB.
    pub max_bulk_len: u64,
    /// The largest multibulk count accepted. Default `INT_MAX`, as in
    /// Redis 7.0.
    pub max_multibulk_len: u64,
    /// How many bytes may be buffered without finding the end of an inline
    /// request or of a `*`/`$` header line. Default 64 KB
    /// (`PROTO_INLINE_MAX_SIZE`).
    pub max_inline_len: usize,
    /// The client must still `AUTH` (Redis's `authRequired(c)`): counts
    /// above 10 and bulk lengths above 16384 are refused with
    /// "unauthenticated ..." errors. Default `false`.
    pub auth_required: bool,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_bulk_len: DEFAULT_MAX_BULK_LEN,
            max_multibulk_len: DEFAULT_MAX_MULTIBULK_LEN,
            max_inline_len: PROTO_INLINE_MAX_SIZE,
            auth_required: false,
        }
    }
}

/// Decodes requests from the front of a read buffer, one command at a time,
/// remembering a half-read multibulk between calls.
///
/// One decoder belongs to one connection. The caller appends what it reads
/// to a `BytesMut` and calls [`RequestDecoder::decode`] until it returns
/// `Ok(None)`; between calls it must only append to the buffer.
///
/// ```
/// use bytes::BytesMut;
/// use resp::{Limits, RequestDecoder};
///
/// let mut dec = RequestDecoder::new();
/// let limits = Limits::default();
/// let mut buf = BytesMut::from(&b"*2\r\n$3\r\nGET\r\n$1"[..]);
/// assert_eq!(dec.decode(&mut buf, &limits), Ok(None));
/// assert!(dec.in_progress());
/// buf.extend_from_slice(b"\r\nk\r\nPING\r\n");
/// let args = dec.decode(&mut buf, &limits).unwrap().unwrap();
/// assert_eq!(args, vec![&b"GET"[..], &b"k"[..]]);
/// let args = dec.decode(&mut buf, &limits).unwrap().unwrap();
/// assert_eq!(args, vec![&b"PING"[..]]);
/// assert_eq!(dec.decode(&mut buf, &limits), Ok(None));
/// ```
#[derive(Debug, Default)]
pub struct RequestDecoder {
    /// `Some` between a multibulk's `*n` line and its last argument.
    multibulk: Option<Multibulk>,
    /// How many bytes at the front of the buffer are known to hold no line
    /// end, so the next search starts there. Reset whenever bytes are
    /// consumed.
    scanned: usize,
}

/// A multibulk request whose `*n` line has been consumed.
#[derive(Debug)]
struct Multibulk {
    /// Arguments still to read (Redis's `multibulklen`).
    remaining: u64,
    /// The length of the argument whose `$len` line has been consumed but
    /// whose payload has not (Redis's `bulklen`).
    bulk: Option<usize>,
    /// Arguments read so far.
    args: Vec<Bytes>,
    /// Their total length (Redis's `argv_len_sum`).
    arg_bytes: usize,
}

/// What one step of decoding produced.
enum Step {
    /// Not enough bytes yet.
    NeedMore,
    /// Something that is not a command was consumed (empty line, `*0`), or
    /// a multibulk was started: keep going.
    Continue,
    /// A complete command.
    Command(Vec<Bytes>),
}

/// Result of a C-`strchr`-like search.
enum Scan {
    /// The byte was found at this index.
    Found(usize),
    /// Not found (or hidden behind a NUL); a later search may resume at
    /// this index.
    Missing(usize),
}

/// Looks for `needle` in `hay[from..]` the way `strchr` does in Redis's
/// NUL-terminated query buffer: a NUL byte ends the search.
fn c_strchr(hay: &[u8], from: usize, needle: u8) -> Scan {
    let from = from.min(hay.len());
    let rest = hay.get(from..).unwrap_or_default();
    match memchr::memchr2(needle, 0, rest) {
        Some(i) if rest.get(i) == Some(&needle) => Scan::Found(from + i),
        // Stopped at a NUL: resume on it next time, which finds it at once.
        Some(i) => Scan::Missing(from + i),
        None => Scan::Missing(hay.len()),
    }
}

impl RequestDecoder {
    /// A decoder at a command boundary.
    pub fn new() -> Self {
        Self::default()
    }

    /// Decodes the next complete command from the front of `buf`, consuming
    /// its bytes.
    ///
    /// - `Ok(Some(args))`: one command, never empty; each argument is a
    ///   zero-copy slice of `buf`'s memory.
    /// - `Ok(None)`: more bytes are needed. Bytes of a half-read multibulk
    ///   may already have been consumed; the decoder remembers them.
    /// - `Err(e)`: the client broke the protocol. Reply `-ERR {e}` and close
    ///   the connection. The decoder is reset but `buf` is left as it was
    ///   at the error.
    ///
    /// Empty inline lines and multibulks with a count of zero or less are
    /// consumed and skipped, as Redis does.
    pub fn decode(
        &mut self,
        buf: &mut BytesMut,
        limits: &Limits,
    ) -> Result<Option<Vec<Bytes>>, ProtocolError> {
        let result = self.decode_inner(buf, limits);
        if result.is_err() {
            *self = Self::new();
        }
        result
    }

    /// `true` while the decoder holds part of a multibulk command (its
    /// header has been consumed, not all its arguments have).
    pub fn in_progress(&self) -> bool {
        self.multibulk.is_some()
    }

    /// Bytes of arguments held for the command in progress, already taken
    /// out of the buffer (Redis's `argv_len_sum`). Add it to the buffer's
    /// length when enforcing `client-query-buffer-limit`.
    pub fn pending_arg_bytes(&self) -> usize {
        self.multibulk.as_ref().map_or(0, |m| m.arg_bytes)
    }

    /// Give the arguments held for the command in progress their own
    /// memory, except big ones (32 KB and more, Redis's
    /// PROTO_MBULK_BIG_ARG, whose buffer they fill anyway).
    ///
    /// A held argument is a slice of the read buffer's chunk and keeps it
    /// alive. Call this before the buffer must grow for the rest of the
    /// command: with nothing else holding the chunk, `BytesMut` moves the
    /// unread bytes to its front instead of allocating a second chunk
    /// while the first lives on until the command has run. (Redis copies
    /// such arguments into their own objects as it parses them.)
    pub fn own_pending_args(&mut self) {
        if let Some(m) = self.multibulk.as_mut() {
            for a in &mut m.args {
                if a.len() < PROTO_MBULK_BIG_ARG {
                    *a = Bytes::copy_from_slice(a);
                }
            }
        }
    }

    /// The length of the bulk argument whose payload is awaited, if any
    /// (Redis's `bulklen`). A reader may use it to size its next read.
    pub fn pending_bulk_len(&self) -> Option<usize> {
        self.multibulk.as_ref().and_then(|m| m.bulk)
    }

    fn decode_inner(
        &mut self,
        buf: &mut BytesMut,
        limits: &Limits,
    ) -> Result<Option<Vec<Bytes>>, ProtocolError> {
        loop {
            let step = if let Some(mb) = self.multibulk.as_mut() {
                read_arguments(mb, &mut self.scanned, buf, limits)?
            } else {
                match buf.first() {
                    None => Step::NeedMore,
                    Some(b'*') => self.read_count(buf, limits)?,
                    Some(_) => self.read_inline(buf, limits)?,
                }
            };
            match step {
                Step::NeedMore => return Ok(None),
                Step::Continue => {}
                Step::Command(args) => {
                    self.multibulk = None;
                    return Ok(Some(args));
                }
            }
        }
    }

    /// `processInlineBuffer`.
    fn read_inline(&mut self, buf: &mut BytesMut, limits: &Limits) -> Result<Step, ProtocolError> {
        let newline = match c_strchr(buf, self.scanned, b'\n') {
            Scan::Found(i) => i,
            Scan::Missing(resume) => {
                self.scanned = resume;
                if buf.len() > limits.max_inline_len {
                    return Err(ProtocolError::TooBigInlineRequest);
                }
                return Ok(Step::NeedMore);
            }
        };
        let mut line_end = newline;
        if newline > 0 && buf.get(newline - 1) == Some(&b'\r') {
            line_end -= 1;
        }
        let line = buf.get(..line_end).unwrap_or_default();
        let args = split_args(line).ok_or(ProtocolError::UnbalancedQuotes)?;
        buf.advance(newline + 1);
        self.scanned = 0;
        if args.is_empty() {
            return Ok(Step::Continue);
        }
        Ok(Step::Command(args.into_iter().map(Bytes::from).collect()))
    }

    /// The `*<count>` line of `processMultibulkBuffer`.
    fn read_count(&mut self, buf: &mut BytesMut, limits: &Limits) -> Result<Step, ProtocolError> {
        let Some(cr) = find_header_end(
            buf,
            &mut self.scanned,
            limits,
            ProtocolError::TooBigMbulkCountString,
        )?
        else {
            return Ok(Step::NeedMore);
        };
        let max = i64::try_from(limits.max_multibulk_len).unwrap_or(i64::MAX);
        let count = buf
            .get(1..cr)
            .and_then(parse_i64)
            .filter(|&n| n <= max)
            .ok_or(ProtocolError::InvalidMultibulkLength)?;
        if count > UNAUTH_MAX_MULTIBULK && limits.auth_required {
            return Err(ProtocolError::UnauthenticatedMultibulkLength);
        }
        buf.advance(cr + 2);
        self.scanned = 0;
        if let Ok(remaining @ 1..) = u64::try_from(count) {
            let prealloc =
                usize::try_from(remaining).map_or(ARGV_PREALLOC, |n| n.min(ARGV_PREALLOC));
            self.multibulk = Some(Multibulk {
                remaining,
                bulk: None,
                args: Vec::with_capacity(prealloc),
                arg_bytes: 0,
            });
        }
        // A count of zero or less is an empty command: skipped.
        Ok(Step::Continue)
    }
}

/// Finds the `\r` ending the header line at the front of `buf`, or returns
/// `Ok(None)` when more bytes are needed, or `too_big` when more than
/// `max_inline_len` bytes hold no `\r`. As in Redis, the line counts as
/// complete once one byte follows the `\r`, whatever that byte is.
fn find_header_end(
    buf: &[u8],
    scanned: &mut usize,
    limits: &Limits,
    too_big: ProtocolError,
) -> Result<Option<usize>, ProtocolError> {
    match c_strchr(buf, *scanned, b'\r') {
        Scan::Missing(resume) => {
            *scanned = resume;
            if buf.len() > limits.max_inline_len {
                Err(too_big)
            } else {
                Ok(None)
            }
        }
        Scan::Found(cr) if cr + 1 >= buf.len() => {
            *scanned = cr;
            Ok(None)
        }
        Scan::Found(cr) => Ok(Some(cr)),
    }
}

/// The argument loop of `processMultibulkBuffer`.
fn read_arguments(
    mb: &mut Multibulk,
    scanned: &mut usize,
    buf: &mut BytesMut,
    limits: &Limits,
) -> Result<Step, ProtocolError> {
    while mb.remaining > 0 {
        let len = match mb.bulk {
            Some(len) => len,
            None => {
                let Some(cr) =
                    find_header_end(buf, scanned, limits, ProtocolError::TooBigBulkCountString)?
                else {
                    return Ok(Step::NeedMore);
                };
                match buf.first() {
                    Some(b'$') => {}
                    Some(&other) => return Err(ProtocolError::ExpectedDollar(other)),
                    None => return Ok(Step::NeedMore),
                }
                let max = i64::try_from(limits.max_bulk_len).unwrap_or(i64::MAX);
                let ll = buf
                    .get(1..cr)
                    .and_then(parse_i64)
                    .filter(|&n| (0..=max).contains(&n))
                    .ok_or(ProtocolError::InvalidBulkLength)?;
                if ll > UNAUTH_MAX_BULK && limits.auth_required {
                    return Err(ProtocolError::UnauthenticatedBulkLength);
                }
                let len = usize::try_from(ll).map_err(|_| ProtocolError::InvalidBulkLength)?;
                buf.advance(cr + 2);
                *scanned = 0;
                mb.bulk = Some(len);
                len
            }
        };
        // The payload and the two bytes after it (meant to be \r\n).
        let needed = len.saturating_add(2);
        if buf.len() < needed {
            if len >= PROTO_MBULK_BIG_ARG {
                // Grow towards the big argument so it lands in one buffer
                // without many small reallocations, but never by more than
                // what has actually arrived (plus one read's worth): a
                // length claimed by the client costs nothing up front.
                let missing = needed - buf.len();
                buf.reserve(missing.min(buf.len().max(16 * 1024)));
            }
            return Ok(Step::NeedMore);
        }
        let arg = buf.split_to(len).freeze();
        buf.advance(2);
        mb.args.push(arg);
        mb.arg_bytes = mb.arg_bytes.saturating_add(len);
        mb.bulk = None;
        mb.remaining -= 1;
    }
    Ok(Step::Command(std::mem::take(&mut mb.args)))
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    use super::*;

    fn limits() -> Limits {
        Limits::default()
    }

    // A command cut by the end of a full buffer: once the parsed arguments
    // have their own memory, growing the buffer for the rest reuses its
    // chunk instead of allocating a second one beside it.
    #[test]
    fn owned_pending_args_let_the_buffer_reuse_its_chunk() {
        let head = b"*3\r\n$3\r\nSET\r\n$3\r\nkey\r\n$10\r\n01234";
        let mut buf = BytesMut::with_capacity(1024);
        let start = buf.as_ptr();
        buf.extend_from_slice(&[b'\n'; 1024 - 31]);
        buf.extend_from_slice(&head[..31]);
        assert_eq!(buf.len(), buf.capacity());
        let mut d = RequestDecoder::new();
        assert_eq!(d.decode(&mut buf, &limits()).unwrap(), None);
        assert_eq!(d.pending_arg_bytes(), 6);
        d.own_pending_args();
        buf.reserve(64);
        assert_eq!(buf.as_ptr(), start, "the chunk was reallocated");
        buf.extend_from_slice(&head[31..]);
        buf.extend_from_slice(b"56789\r\n");
        let args = d.decode(&mut buf, &limits()).unwrap().unwrap();
        assert_eq!(args, vec![&b"SET"[..], b"key", b"0123456789"]);
    }

    /// Decodes every command in `input` fed at once.
    fn all(input: &[u8], limits: &Limits) -> Result<Vec<Vec<Vec<u8>>>, ProtocolError> {
        let mut dec = RequestDecoder::new();
        let mut buf = BytesMut::from(input);
        let mut out = Vec::new();
        while let Some(args) = dec.decode(&mut buf, limits)? {
            out.push(args.iter().map(|a| a.to_vec()).collect());
        }
        Ok(out)
    }

    fn cmd(items: &[&[u8]]) -> Vec<Vec<u8>> {
        items.iter().map(|s| s.to_vec()).collect()
    }

    /// Feeds `input` split at `at`, then the rest, checking the outcome is
    /// the same as in one piece.
    fn split_feed(input: &[u8], at: usize) -> Vec<Vec<Vec<u8>>> {
        let mut dec = RequestDecoder::new();
        let mut buf = BytesMut::new();
        let mut out = Vec::new();
        for piece in [&input[..at], &input[at..]] {
            buf.extend_from_slice(piece);
            while let Some(args) = dec.decode(&mut buf, &limits()).unwrap() {
                out.push(args.iter().map(|a| a.to_vec()).collect());
            }
        }
        assert!(buf.is_empty());
        assert!(!dec.in_progress());
        out
    }

    #[test]
    fn multibulk_basic_and_pipelined() {
        let input = b"*1\r\n$4\r\nPING\r\n*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$0\r\n\r\n";
        assert_eq!(
            all(input, &limits()).unwrap(),
            vec![cmd(&[b"PING"]), cmd(&[b"SET", b"k", b""])]
        );
    }

    #[test]
    fn binary_payload_with_crlf_and_nul() {
        let input = b"*2\r\n$3\r\nSET\r\n$6\r\na\r\n\0\r\n\r\n";
        assert_eq!(
            all(input, &limits()).unwrap(),
            vec![cmd(&[b"SET", b"a\r\n\0\r\n"])]
        );
    }

    #[test]
    fn every_split_point() {
        let input: &[u8] = b"*2\r\n$4\r\nECHO\r\n$5\r\nhello\r\nPING\r\n\r\n*0\r\n*-1\r\nset a \"b c\"\n*1\r\n$3\r\nfoo\r\n";
        let want = vec![
            cmd(&[b"ECHO", b"hello"]),
            cmd(&[b"PING"]),
            cmd(&[b"set", b"a", b"b c"]),
            cmd(&[b"foo"]),
        ];
        assert_eq!(all(input, &limits()).unwrap(), want);
        for at in 0..=input.len() {
            assert_eq!(split_feed(input, at), want, "split at {at}");
        }
    }

    #[test]
    fn byte_by_byte() {
        let input: &[u8] = b"*3\r\n$3\r\nSET\r\n$3\r\nkey\r\n$10\r\n0123456789\r\nGET key\r\n";
        let mut dec = RequestDecoder::new();
        let mut buf = BytesMut::new();
        let mut out = Vec::new();
        for &b in input {
            buf.extend_from_slice(&[b]);
            while let Some(args) = dec.decode(&mut buf, &limits()).unwrap() {
                out.push(args.iter().map(|a| a.to_vec()).collect::<Vec<_>>());
            }
        }
        assert_eq!(
            out,
            vec![
                cmd(&[b"SET", b"key", b"0123456789"]),
                cmd(&[b"GET", b"key"])
            ]
        );
    }

    #[test]
    fn skipped_empty_commands() {
        assert_eq!(
            all(b"*0\r\n*-1\r\n*-100\r\n\r\n\n   \r\n", &limits()).unwrap(),
            Vec::<Vec<Vec<u8>>>::new()
        );
        let mut dec = RequestDecoder::new();
        let mut buf = BytesMut::from(&b"*0\r\n\n"[..]);
        assert_eq!(dec.decode(&mut buf, &limits()), Ok(None));
        assert!(buf.is_empty());
        assert!(!dec.in_progress());
    }

    #[test]
    fn inline_commands() {
        assert_eq!(all(b"PING\r\n", &limits()).unwrap(), vec![cmd(&[b"PING"])]);
        // A lone \n terminates too.
        assert_eq!(all(b"PING\n", &limits()).unwrap(), vec![cmd(&[b"PING"])]);
        // Only one \r before the \n is stripped; the other is a blank.
        assert_eq!(
            all(b"a b\r\r\n", &limits()).unwrap(),
            vec![cmd(&[b"a", b"b"])]
        );
        // Quotes, escapes and empty arguments (kept in 7.0).
        assert_eq!(
            all(b"set k \"a\\x00\\n\" '' x\r\n", &limits()).unwrap(),
            vec![cmd(&[b"set", b"k", b"a\0\n", b"", b"x"])]
        );
        // Inline, then multibulk, then inline.
        assert_eq!(
            all(b"A\n*1\r\n$1\r\nB\r\nC\r\n", &limits()).unwrap(),
            vec![cmd(&[b"A"]), cmd(&[b"B"]), cmd(&[b"C"])]
        );
    }

    #[test]
    fn inline_waits_without_newline() {
        let mut dec = RequestDecoder::new();
        let mut buf = BytesMut::from(&b"PING\r"[..]);
        assert_eq!(dec.decode(&mut buf, &limits()), Ok(None));
        assert_eq!(&buf[..], b"PING\r");
        assert!(!dec.in_progress());
    }

    #[test]
    fn inline_errors() {
        assert_eq!(
            all(b"set \"a\r\n", &limits()),
            Err(ProtocolError::UnbalancedQuotes)
        );
        assert_eq!(
            all(b"set 'a'b\r\n", &limits()),
            Err(ProtocolError::UnbalancedQuotes)
        );
        // 64 KB without a newline waits; one byte more is an error.
        let mut dec = RequestDecoder::new();
        let mut buf = BytesMut::from(&vec![b'a'; PROTO_INLINE_MAX_SIZE][..]);
        assert_eq!(dec.decode(&mut buf, &limits()), Ok(None));
        buf.extend_from_slice(b"a");
        assert_eq!(
            dec.decode(&mut buf, &limits()),
            Err(ProtocolError::TooBigInlineRequest)
        );
        // But a long line that arrives complete is fine, as in Redis.
        let mut long = vec![b'a'; 100_000];
        long.extend_from_slice(b"\r\n");
        assert_eq!(all(&long, &limits()).unwrap().len(), 1);
    }

    #[test]
    fn nul_hides_the_line_end_like_strchr() {
        let mut dec = RequestDecoder::new();
        let mut buf = BytesMut::from(&b"PI\0NG\r\n"[..]);
        assert_eq!(dec.decode(&mut buf, &limits()), Ok(None));
        let small = Limits {
            max_inline_len: 16,
            ..Limits::default()
        };
        buf.extend_from_slice(b"0123456789");
        assert_eq!(
            dec.decode(&mut buf, &small),
            Err(ProtocolError::TooBigInlineRequest)
        );
        // Same for a header line.
        assert_eq!(all(b"*1\0\r\n", &limits()), Ok(vec![]));
        let mut dec = RequestDecoder::new();
        let mut buf = BytesMut::from(&b"*1\r\n$1\0\r\nx\r\n0123456789"[..]);
        assert_eq!(
            dec.decode(&mut buf, &small),
            Err(ProtocolError::TooBigBulkCountString)
        );
    }

    #[test]
    fn multibulk_count_errors() {
        for bad in [
            &b"*x\r\n"[..],
            b"*\r\n",
            b"*01\r\n",
            b"*+1\r\n",
            b"*1 \r\n",
            b"*-0\r\n",
            b"*2147483648\r\n",
            b"*99999999999999999999\r\n",
        ] {
            assert_eq!(
                all(bad, &limits()),
                Err(ProtocolError::InvalidMultibulkLength),
                "{:?}",
                String::from_utf8_lossy(bad)
            );
        }
        // INT_MAX itself is accepted and then waits, with no allocation.
        let mut dec = RequestDecoder::new();
        let mut buf = BytesMut::from(&b"*2147483647\r\n"[..]);
        assert_eq!(dec.decode(&mut buf, &limits()), Ok(None));
        assert!(dec.in_progress());
        // A custom limit.
        let tight = Limits {
            max_multibulk_len: 3,
            ..Limits::default()
        };
        assert_eq!(
            all(b"*4\r\n", &tight),
            Err(ProtocolError::InvalidMultibulkLength)
        );
        assert_eq!(all(b"*3\r\n", &tight), Ok(vec![]));
    }

    #[test]
    fn header_waits_for_byte_after_cr() {
        let mut dec = RequestDecoder::new();
        let mut buf = BytesMut::from(&b"*1\r"[..]);
        assert_eq!(dec.decode(&mut buf, &limits()), Ok(None));
        assert!(!dec.in_progress());
        buf.extend_from_slice(b"\n$1\r");
        assert_eq!(dec.decode(&mut buf, &limits()), Ok(None));
        assert!(dec.in_progress());
        assert_eq!(&buf[..], b"$1\r");
    }

    #[test]
    fn byte_after_cr_is_not_checked() {
        // Redis skips two bytes after the number without looking at them.
        assert_eq!(
            all(b"*1\rX$1\rYa\r\n", &limits()).unwrap(),
            vec![cmd(&[b"a"])]
        );
        // Same after a payload.
        assert_eq!(
            all(b"*1\r\n$1\r\naXY*1\r\n$1\r\nb\r\n", &limits()).unwrap(),
            vec![cmd(&[b"a"]), cmd(&[b"b"])]
        );
    }

    #[test]
    fn too_big_count_strings() {
        let mut input = b"*".to_vec();
        input.extend(std::iter::repeat_n(b'1', PROTO_INLINE_MAX_SIZE - 1));
        let mut dec = RequestDecoder::new();
        let mut buf = BytesMut::from(&input[..]);
        assert_eq!(dec.decode(&mut buf, &limits()), Ok(None));
        buf.extend_from_slice(b"1");
        assert_eq!(
            dec.decode(&mut buf, &limits()),
            Err(ProtocolError::TooBigMbulkCountString)
        );

        let mut input = b"*2\r\n$4\r\nECHO\r\n$".to_vec();
        input.extend(std::iter::repeat_n(b'1', PROTO_INLINE_MAX_SIZE - 1));
        let mut dec = RequestDecoder::new();
        let mut buf = BytesMut::from(&input[..]);
        assert_eq!(dec.decode(&mut buf, &limits()), Ok(None));
        buf.extend_from_slice(b"1");
        assert_eq!(
            dec.decode(&mut buf, &limits()),
            Err(ProtocolError::TooBigBulkCountString)
        );

        // The size check comes before the '$' check.
        let mut input = b"*1\r\n".to_vec();
        input.extend(std::iter::repeat_n(b'X', 70_000));
        assert_eq!(
            all(&input, &limits()),
            Err(ProtocolError::TooBigBulkCountString)
        );
    }

    #[test]
    fn expected_dollar() {
        assert_eq!(
            all(b"*1\r\n:1\r\n", &limits()),
            Err(ProtocolError::ExpectedDollar(b':'))
        );
        assert_eq!(
            all(b"*1\r\nx\r\n", &limits()),
            Err(ProtocolError::ExpectedDollar(b'x'))
        );
        assert_eq!(
            all(b"*1\r\n\r\n", &limits()),
            Err(ProtocolError::ExpectedDollar(b'\r'))
        );
        // Waits for the whole line before judging the first byte.
        let mut dec = RequestDecoder::new();
        let mut buf = BytesMut::from(&b"*1\r\nx"[..]);
        assert_eq!(dec.decode(&mut buf, &limits()), Ok(None));
        assert_eq!(
            ProtocolError::ExpectedDollar(b'x').to_string(),
            "Protocol error: expected '$', got 'x'"
        );
    }

    #[test]
    fn bulk_length_errors() {
        for bad in [
            &b"*1\r\n$x\r\n"[..],
            b"*1\r\n$\r\n",
            b"*1\r\n$-1\r\n",
            b"*1\r\n$01\r\n",
            b"*1\r\n$536870913\r\n",
            b"*1\r\n$9223372036854775807\r\n",
        ] {
            assert_eq!(
                all(bad, &limits()),
                Err(ProtocolError::InvalidBulkLength),
                "{:?}",
                String::from_utf8_lossy(bad)
            );
        }
        // Exactly proto-max-bulk-len is accepted, and waits without
        // allocating anything like 512 MB.
        let mut dec = RequestDecoder::new();
        let mut buf = BytesMut::from(&b"*1\r\n$536870912\r\nabc"[..]);
        assert_eq!(dec.decode(&mut buf, &limits()), Ok(None));
        assert!(buf.capacity() < 1024 * 1024, "capacity {}", buf.capacity());
        assert_eq!(dec.pending_bulk_len(), Some(536_870_912));
        // A master link lifts the limit.
        let master = Limits {
            max_bulk_len: u64::MAX,
            ..Limits::default()
        };
        let mut dec = RequestDecoder::new();
        let mut buf = BytesMut::from(&b"*1\r\n$536870913\r\n"[..]);
        assert_eq!(dec.decode(&mut buf, &master), Ok(None));
    }

    #[test]
    fn unauthenticated_limits() {
        let unauth = Limits {
            auth_required: true,
            ..Limits::default()
        };
        assert_eq!(
            all(b"*11\r\n", &unauth),
            Err(ProtocolError::UnauthenticatedMultibulkLength)
        );
        assert_eq!(
            all(b"*100\r\n", &unauth),
            Err(ProtocolError::UnauthenticatedMultibulkLength)
        );
        assert_eq!(all(b"*10\r\n", &unauth), Ok(vec![]));
        assert_eq!(
            all(b"*1\r\n$16385\r\n", &unauth),
            Err(ProtocolError::UnauthenticatedBulkLength)
        );
        // Invalid beats unauthenticated.
        assert_eq!(
            all(b"*1\r\n$536870913\r\n", &unauth),
            Err(ProtocolError::InvalidBulkLength)
        );
        assert_eq!(
            all(b"*2147483648\r\n", &unauth),
            Err(ProtocolError::InvalidMultibulkLength)
        );
        let mut ok = b"*1\r\n$16384\r\n".to_vec();
        ok.extend(std::iter::repeat_n(b'a', 16384));
        ok.extend_from_slice(b"\r\n");
        assert_eq!(all(&ok, &unauth).unwrap().len(), 1);
        // Inline requests have no such limit beyond the line length.
        assert_eq!(
            all(b"a b c d e f g h i j k l\r\n", &unauth).unwrap()[0].len(),
            12
        );
    }

    #[test]
    fn big_argument_in_many_reads() {
        let len = 300_000;
        let mut input = format!("*2\r\n$3\r\nSET\r\n${len}\r\n").into_bytes();
        input.extend((0..len).map(|i| (i % 251) as u8));
        input.extend_from_slice(b"\r\n");
        let mut dec = RequestDecoder::new();
        let mut buf = BytesMut::new();
        let mut got = None;
        for chunk in input.chunks(4096) {
            buf.extend_from_slice(chunk);
            if let Some(args) = dec.decode(&mut buf, &limits()).unwrap() {
                got = Some(args);
            }
            if got.is_none() {
                assert!(dec.in_progress());
                assert_eq!(dec.pending_arg_bytes(), 3);
            }
        }
        let args = got.unwrap();
        assert_eq!(args[1].len(), len);
        assert_eq!(&args[1][..], &input[input.len() - len - 2..input.len() - 2]);
        assert!(!dec.in_progress());
        assert_eq!(dec.pending_arg_bytes(), 0);
    }

    #[test]
    fn arguments_are_zero_copy() {
        let mut buf = BytesMut::from(&b"*1\r\n$5\r\nhello\r\n"[..]);
        let base = buf.as_ptr() as usize;
        let mut dec = RequestDecoder::new();
        let args = dec.decode(&mut buf, &limits()).unwrap().unwrap();
        assert_eq!(args[0].as_ptr() as usize, base + 8);
    }

    #[test]
    fn error_resets_decoder() {
        let mut dec = RequestDecoder::new();
        let mut buf = BytesMut::from(&b"*2\r\n$1\r\na\r\n?"[..]);
        assert_eq!(dec.decode(&mut buf, &limits()), Ok(None));
        buf.extend_from_slice(b"\r\n");
        assert_eq!(
            dec.decode(&mut buf, &limits()),
            Err(ProtocolError::ExpectedDollar(b'?'))
        );
        assert!(!dec.in_progress());
        assert_eq!(&buf[..], b"?\r\n");
    }
}
