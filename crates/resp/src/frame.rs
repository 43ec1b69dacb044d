//! Any RESP2/RESP3 value, and its decoding and encoding (server → client
//! direction).
//!
//! The server itself writes replies with [`crate::encode`]; this module is
//! for the other side of the wire: a replica reading its master's replies
//! during the handshake (`+FULLRESYNC ...`, `+CONTINUE`), and tests reading
//! what our server sent. So it favours faithfulness over speed: every wire
//! form has its own variant, and `decode_frame(encode_frame(f)) == f`.
//!
//! Decoding follows the codec contract of the project (check, then parse):
//! a first pass walks the input without allocating, to learn whether a
//! whole frame is there and how long it is; only then is the [`Frame`]
//! built. Every length is bounded by [`Limits`] and nesting by
//! [`MAX_DEPTH`], and both passes use an explicit stack rather than
//! recursion, so hostile input can neither exhaust memory nor overflow the
//! stack.
//!
//! Streamed RESP3 types (`$?`, `*?`, `;`, `.`) are not supported: Redis
//! never sends them.

use bytes::Bytes;

use crate::decode::Limits;
use crate::encode;
use crate::error::FrameError;
use crate::num::{parse_i64, write_i64};

/// The deepest nesting of aggregates [`decode_frame`] accepts. Redis's own
/// replies nest a handful of levels.
pub const MAX_DEPTH: usize = 1024;

/// One RESP2 or RESP3 value.
///
/// The three nulls are kept apart so a frame re-encodes to the bytes it was
/// decoded from; [`Frame::is_null`] treats them alike.
#[derive(Clone, Debug, PartialEq)]
pub enum Frame {
    /// `+text`: a status reply.
    Simple(Bytes),
    /// `-CODE text`: an error reply, without the leading `-`.
    Error(Bytes),
    /// `:n`.
    Integer(i64),
    /// `$len` + payload: a binary-safe string.
    Bulk(Bytes),
    /// `$-1`: RESP2's null bulk string.
    NullBulk,
    /// `*-1`: RESP2's null array.
    NullArray,
    /// `_`: RESP3's null.
    Null,
    /// `*n`.
    Array(Vec<Frame>),
    /// `%n`: key/value pairs in wire order.
    Map(Vec<(Frame, Frame)>),
    /// `~n`.
    Set(Vec<Frame>),
    /// `>n`: out-of-band data (pub/sub messages, invalidations).
    Push(Vec<Frame>),
    /// `|n` key/value pairs, then the value they annotate. On the wire an
    /// attribute is a prefix of the next value and does not count as an
    /// element of an enclosing aggregate, so the two are kept together.
    Attribute {
        /// The annotations.
        attrs: Vec<(Frame, Frame)>,
        /// The value that follows them.
        value: Box<Frame>,
    },
    /// `,repr`: a double. `inf`, `-inf` and `nan` included.
    Double(f64),
    /// `#t` / `#f`.
    Boolean(bool),
    /// `(digits`: an integer of any size, as its decimal text.
    BigNumber(Bytes),
    /// `=len` + `fmt:text`.
    Verbatim {
        /// The 3-byte format, `txt` or `mkd`.
        format: [u8; 3],
        /// The text after `fmt:`.
        text: Bytes,
    },
    /// `!len` + payload: RESP3's binary-safe error.
    BulkError(Bytes),
}

impl Frame {
    /// `true` for [`Frame::Null`], [`Frame::NullBulk`] and
    /// [`Frame::NullArray`].
    pub fn is_null(&self) -> bool {
        matches!(self, Frame::Null | Frame::NullBulk | Frame::NullArray)
    }

    /// The bytes of a string-like frame: simple, error, bulk, bulk error,
    /// big number, or the text of a verbatim string.
    pub fn as_bytes(&self) -> Option<&Bytes> {
        match self {
            Frame::Simple(b)
            | Frame::Error(b)
            | Frame::Bulk(b)
            | Frame::BulkError(b)
            | Frame::BigNumber(b)
            | Frame::Verbatim { text: b, .. } => Some(b),
            _ => None,
        }
    }
}

/// What kind of aggregate a header opened.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Array,
    Map,
    Set,
    Push,
    Attribute,
}

/// One header-level element of the input: a whole scalar, or the header of
/// an aggregate whose children follow.
enum Token<'a> {
    Scalar(Scalar<'a>),
    /// An aggregate and the number of frames that make it up.
    Open(Kind, u64),
}

/// A scalar, borrowing its bytes from the input.
enum Scalar<'a> {
    Simple(&'a [u8]),
    Error(&'a [u8]),
    Integer(i64),
    Bulk(&'a [u8]),
    BulkError(&'a [u8]),
    Verbatim([u8; 3], &'a [u8]),
    NullBulk,
    NullArray,
    Null,
    Double(f64),
    Boolean(bool),
    BigNumber(&'a [u8]),
}

impl Scalar<'_> {
    fn to_frame(&self) -> Frame {
        match *self {
            Scalar::Simple(b) => Frame::Simple(Bytes::copy_from_slice(b)),
            Scalar::Error(b) => Frame::Error(Bytes::copy_from_slice(b)),
            Scalar::Integer(n) => Frame::Integer(n),
            Scalar::Bulk(b) => Frame::Bulk(Bytes::copy_from_slice(b)),
            Scalar::BulkError(b) => Frame::BulkError(Bytes::copy_from_slice(b)),
            Scalar::Verbatim(format, text) => Frame::Verbatim {
                format,
                text: Bytes::copy_from_slice(text),
            },
            Scalar::NullBulk => Frame::NullBulk,
            Scalar::NullArray => Frame::NullArray,
            Scalar::Null => Frame::Null,
            Scalar::Double(d) => Frame::Double(d),
            Scalar::Boolean(b) => Frame::Boolean(b),
            Scalar::BigNumber(b) => Frame::BigNumber(Bytes::copy_from_slice(b)),
        }
    }
}

/// Reads the line starting at `start` (just after the type byte). Returns
/// the line without its `\r\n` and the index after the `\n`, or `Ok(None)`
/// if the line is incomplete. A line longer than `max_inline_len` is an
/// error whether or not its end has arrived, so the outcome does not depend
/// on how the input was chunked.
fn read_line<'a>(
    buf: &'a [u8],
    start: usize,
    limits: &Limits,
) -> Result<Option<(&'a [u8], usize)>, FrameError> {
    let rest = buf.get(start..).unwrap_or_default();
    let Some(cr) = memchr::memchr(b'\r', rest) else {
        if rest.len() > limits.max_inline_len {
            return Err(FrameError::LineTooLong);
        }
        return Ok(None);
    };
    if cr > limits.max_inline_len {
        return Err(FrameError::LineTooLong);
    }
    match rest.get(cr + 1) {
        None => Ok(None),
        Some(b'\n') => Ok(Some((rest.get(..cr).unwrap_or_default(), start + cr + 2))),
        Some(_) => Err(FrameError::BadLineEnding),
    }
}

/// Parses a non-negative length or count no larger than `max`.
fn parse_len(line: &[u8], max: u64, too_long: FrameError) -> Result<u64, FrameError> {
    let n = parse_i64(line).ok_or(FrameError::InvalidLength)?;
    let n = u64::try_from(n).map_err(|_| FrameError::InvalidLength)?;
    if n > max {
        return Err(too_long);
    }
    Ok(n)
}

fn parse_double(line: &[u8]) -> Result<f64, FrameError> {
    match line {
        b"inf" | b"+inf" => return Ok(f64::INFINITY),
        b"-inf" => return Ok(f64::NEG_INFINITY),
        b"nan" | b"-nan" => return Ok(f64::NAN),
        _ => {}
    }
    // Only digits, signs, '.', 'e'/'E': this keeps out the words
    // ("infinity", "NaN") Rust's parser would also take.
    if line.is_empty()
        || !line
            .iter()
            .all(|&b| b.is_ascii_digit() || matches!(b, b'+' | b'-' | b'.' | b'e' | b'E'))
    {
        return Err(FrameError::InvalidDouble);
    }
    std::str::from_utf8(line)
        .ok()
        .and_then(|s| s.parse::<f64>().ok())
        .ok_or(FrameError::InvalidDouble)
}

fn valid_big_number(line: &[u8]) -> bool {
    let digits = match line.split_first() {
        Some((b'-', rest)) => rest,
        _ => line,
    };
    !digits.is_empty() && digits.iter().all(u8::is_ascii_digit)
}

/// Reads one token at `pos`. `Ok(None)` means the input ends inside it.
fn read_token<'a>(
    buf: &'a [u8],
    pos: usize,
    limits: &Limits,
) -> Result<Option<(Token<'a>, usize)>, FrameError> {
    let Some(&ty) = buf.get(pos) else {
        return Ok(None);
    };
    if !matches!(
        ty,
        b'+' | b'-'
            | b':'
            | b'$'
            | b'!'
            | b'='
            | b'*'
            | b'%'
            | b'~'
            | b'>'
            | b'|'
            | b'_'
            | b','
            | b'#'
            | b'('
    ) {
        return Err(FrameError::UnknownType(ty));
    }
    let Some((line, after)) = read_line(buf, pos + 1, limits)? else {
        return Ok(None);
    };
    let scalar = match ty {
        b'+' => Scalar::Simple(line),
        b'-' => Scalar::Error(line),
        b':' => Scalar::Integer(parse_i64(line).ok_or(FrameError::InvalidInteger)?),
        b'_' if line.is_empty() => Scalar::Null,
        b'_' => return Err(FrameError::InvalidNull),
        b',' => Scalar::Double(parse_double(line)?),
        b'#' => match line {
            b"t" => Scalar::Boolean(true),
            b"f" => Scalar::Boolean(false),
            _ => return Err(FrameError::InvalidBoolean),
        },
        b'(' if valid_big_number(line) => Scalar::BigNumber(line),
        b'(' => return Err(FrameError::InvalidBigNumber),
        b'$' if line == b"-1" => Scalar::NullBulk,
        b'*' if line == b"-1" => Scalar::NullArray,
        b'$' | b'!' | b'=' => {
            let len = parse_len(line, limits.max_bulk_len, FrameError::BulkTooLong)?;
            let len = usize::try_from(len).map_err(|_| FrameError::BulkTooLong)?;
            let end = after.checked_add(len).ok_or(FrameError::BulkTooLong)?;
            let (Some(payload), Some(crlf)) = (buf.get(after..end), buf.get(end..end + 2)) else {
                return Ok(None);
            };
            if crlf != b"\r\n" {
                return Err(FrameError::BadLineEnding);
            }
            let scalar = match ty {
                b'$' => Scalar::Bulk(payload),
                b'!' => Scalar::BulkError(payload),
                _ => match payload {
                    [a, b, c, b':', text @ ..] => Scalar::Verbatim([*a, *b, *c], text),
                    _ => return Err(FrameError::InvalidVerbatim),
                },
            };
            return Ok(Some((Token::Scalar(scalar), end + 2)));
        }
        _ => {
            let n = parse_len(line, limits.max_multibulk_len, FrameError::AggregateTooLong)?;
            let (kind, children) = match ty {
                b'*' => (Kind::Array, n),
                b'~' => (Kind::Set, n),
                b'>' => (Kind::Push, n),
                b'%' => (Kind::Map, n.saturating_mul(2)),
                // The pairs, then the annotated value.
                _ => (Kind::Attribute, n.saturating_mul(2).saturating_add(1)),
            };
            return Ok(Some((Token::Open(kind, children), after)));
        }
    };
    Ok(Some((Token::Scalar(scalar), after)))
}

/// The check pass: the length of the complete frame at the front of `buf`,
/// `Ok(None)` if it is incomplete. Allocates only the depth stack.
fn frame_len(buf: &[u8], limits: &Limits) -> Result<Option<usize>, FrameError> {
    // Frames still missing at each open aggregate, innermost last.
    let mut missing: Vec<u64> = Vec::new();
    let mut pos = 0;
    loop {
        let Some((token, next)) = read_token(buf, pos, limits)? else {
            return Ok(None);
        };
        pos = next;
        if let Token::Open(_, children @ 1..) = token {
            if missing.len() >= MAX_DEPTH {
                return Err(FrameError::TooDeep);
            }
            missing.push(children);
            continue;
        }
        // A value is complete: it may complete its parents in turn.
        loop {
            match missing.last_mut() {
                None => return Ok(Some(pos)),
                Some(left) => {
                    *left -= 1;
                    if *left > 0 {
                        break;
                    }
                    missing.pop();
                }
            }
        }
    }
}

/// An aggregate being built by the parse pass.
struct Partial {
    kind: Kind,
    wanted: usize,
    items: Vec<Frame>,
}

fn pairs(items: Vec<Frame>) -> Vec<(Frame, Frame)> {
    let mut out = Vec::with_capacity(items.len() / 2);
    let mut it = items.into_iter();
    while let (Some(k), Some(v)) = (it.next(), it.next()) {
        out.push((k, v));
    }
    out
}

fn close(kind: Kind, mut items: Vec<Frame>) -> Frame {
    match kind {
        Kind::Array => Frame::Array(items),
        Kind::Set => Frame::Set(items),
        Kind::Push => Frame::Push(items),
        Kind::Map => Frame::Map(pairs(items)),
        Kind::Attribute => {
            // The check pass guarantees the value is there.
            let value = items.pop().unwrap_or(Frame::Null);
            Frame::Attribute {
                attrs: pairs(items),
                value: Box::new(value),
            }
        }
    }
}

/// The parse pass, run on input the check pass found complete and valid.
fn build(buf: &[u8], limits: &Limits) -> Result<Option<Frame>, FrameError> {
    let mut stack: Vec<Partial> = Vec::new();
    let mut pos = 0;
    loop {
        let Some((token, next)) = read_token(buf, pos, limits)? else {
            return Ok(None);
        };
        pos = next;
        let mut done = match token {
            Token::Scalar(s) => s.to_frame(),
            Token::Open(kind, children) => {
                let wanted = usize::try_from(children).map_err(|_| FrameError::AggregateTooLong)?;
                if wanted > 0 {
                    // The check pass has seen every child in the input, at
                    // 3 bytes or more each, so this is bounded by its size.
                    stack.push(Partial {
                        kind,
                        wanted,
                        items: Vec::with_capacity(wanted),
                    });
                    continue;
                }
                close(kind, Vec::new())
            }
        };
        loop {
            let Some(top) = stack.last_mut() else {
                return Ok(Some(done));
            };
            top.items.push(done);
            if top.items.len() < top.wanted {
                break;
            }
            let Some(full) = stack.pop() else {
                break;
            };
            done = close(full.kind, full.items);
        }
    }
}

/// Decodes one frame from the front of `buf`.
///
/// `Ok(Some((frame, n)))`: a frame made of the first `n` bytes.
/// `Ok(None)`: `buf` holds only the start of a frame; call again with more.
/// `Err`: the bytes are not RESP, or break [`Limits`] or [`MAX_DEPTH`].
///
/// Incomplete input is rejected by a scan that allocates nothing, so calling
/// this again as bytes arrive costs no allocation until the frame is whole.
///
/// ```
/// use resp::{decode_frame, Frame, Limits};
/// let limits = Limits::default();
/// assert_eq!(decode_frame(b"*2\r\n:1\r\n$1\r", &limits), Ok(None));
/// let (frame, n) = decode_frame(b"*2\r\n:1\r\n$1\r\na\r\n+next", &limits).unwrap().unwrap();
/// assert_eq!(frame, Frame::Array(vec![Frame::Integer(1), Frame::Bulk("a".into())]));
/// assert_eq!(n, 15);
/// ```
pub fn decode_frame(buf: &[u8], limits: &Limits) -> Result<Option<(Frame, usize)>, FrameError> {
    let Some(len) = frame_len(buf, limits)? else {
        return Ok(None);
    };
    let whole = buf.get(..len).unwrap_or_default();
    Ok(build(whole, limits)?.map(|f| (f, len)))
}

/// Appends `f` in its wire form. Simple strings and errors have any `\r`
/// or `\n` replaced by spaces (see [`encode::simple`]); doubles are written
/// as the shortest text that parses back to the same value.
///
/// ```
/// use resp::{encode_frame, Frame};
/// let mut out = Vec::new();
/// encode_frame(&mut out, &Frame::Map(vec![(Frame::Simple("a".into()), Frame::Boolean(true))]));
/// assert_eq!(out, b"%1\r\n+a\r\n#t\r\n");
/// ```
pub fn encode_frame(out: &mut Vec<u8>, f: &Frame) {
    // An explicit stack instead of recursion: a frame nested deeper than
    // any thread's stack could take still encodes.
    enum Item<'a> {
        Frame(&'a Frame),
        Pair(&'a (Frame, Frame)),
    }
    let mut todo = vec![Item::Frame(f)];
    while let Some(item) = todo.pop() {
        let f = match item {
            Item::Frame(f) => f,
            Item::Pair((k, v)) => {
                todo.push(Item::Frame(v));
                todo.push(Item::Frame(k));
                continue;
            }
        };
        match f {
            Frame::Simple(s) => encode::simple(out, s),
            Frame::Error(s) => {
                // Not encode::error, which would drop a leading '-'.
                out.push(b'-');
                out.extend(
                    s.iter()
                        .map(|&b| if b == b'\r' || b == b'\n' { b' ' } else { b }),
                );
                out.extend_from_slice(b"\r\n");
            }
            Frame::Integer(n) => encode::integer(out, *n),
            Frame::Bulk(b) => encode::bulk(out, b),
            Frame::NullBulk => encode::null(out, encode::Proto::Resp2),
            Frame::NullArray => encode::null_array(out, encode::Proto::Resp2),
            Frame::Null => encode::null(out, encode::Proto::Resp3),
            Frame::Double(d) => {
                let repr = format_double(*d);
                encode::double(out, encode::Proto::Resp3, repr.as_bytes());
            }
            Frame::Boolean(b) => encode::boolean(out, encode::Proto::Resp3, *b),
            Frame::BigNumber(b) => encode::big_number(out, encode::Proto::Resp3, b),
            Frame::Verbatim { format, text } => {
                encode::verbatim(out, encode::Proto::Resp3, format, text)
            }
            Frame::BulkError(b) => {
                out.push(b'!');
                crate::num::write_u64(out, b.len() as u64);
                out.extend_from_slice(b"\r\n");
                out.extend_from_slice(b);
                out.extend_from_slice(b"\r\n");
            }
            Frame::Array(items) | Frame::Set(items) | Frame::Push(items) => {
                let prefix = match f {
                    Frame::Array(_) => b'*',
                    Frame::Set(_) => b'~',
                    _ => b'>',
                };
                aggregate_header(out, prefix, items.len());
                todo.extend(items.iter().rev().map(Item::Frame));
            }
            Frame::Map(pairs) => {
                aggregate_header(out, b'%', pairs.len());
                todo.extend(pairs.iter().rev().map(Item::Pair));
            }
            Frame::Attribute { attrs, value } => {
                aggregate_header(out, b'|', attrs.len());
                todo.push(Item::Frame(value));
                todo.extend(attrs.iter().rev().map(Item::Pair));
            }
        }
    }
}

fn aggregate_header(out: &mut Vec<u8>, prefix: u8, n: usize) {
    out.push(prefix);
    write_i64(out, i64::try_from(n).unwrap_or(i64::MAX));
    out.extend_from_slice(b"\r\n");
}

/// `inf`, `-inf`, `nan`, or Rust's shortest round-trip form (`1.5`,
/// `1e300`).
fn format_double(d: f64) -> String {
    if d.is_nan() {
        "nan".to_owned()
    } else if d.is_infinite() {
        if d > 0.0 { "inf" } else { "-inf" }.to_owned()
    } else {
        format!("{d:?}")
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    use super::*;

    fn lim() -> Limits {
        Limits::default()
    }

    fn one(input: &[u8]) -> Frame {
        let (f, n) = decode_frame(input, &lim()).unwrap().unwrap();
        assert_eq!(n, input.len(), "consumed");
        f
    }

    fn err(input: &[u8]) -> FrameError {
        decode_frame(input, &lim()).unwrap_err()
    }

    fn b(s: &str) -> Bytes {
        Bytes::copy_from_slice(s.as_bytes())
    }

    #[test]
    fn scalars() {
        assert_eq!(one(b"+OK\r\n"), Frame::Simple(b("OK")));
        assert_eq!(one(b"+\r\n"), Frame::Simple(b("")));
        assert_eq!(one(b"-ERR x\r\n"), Frame::Error(b("ERR x")));
        assert_eq!(one(b":-5\r\n"), Frame::Integer(-5));
        assert_eq!(one(b"$3\r\na\r\n\r\n"), Frame::Bulk(b("a\r\n")));
        assert_eq!(one(b"$0\r\n\r\n"), Frame::Bulk(b("")));
        assert_eq!(one(b"$-1\r\n"), Frame::NullBulk);
        assert_eq!(one(b"*-1\r\n"), Frame::NullArray);
        assert_eq!(one(b"_\r\n"), Frame::Null);
        assert_eq!(one(b",1.5\r\n"), Frame::Double(1.5));
        assert_eq!(one(b",-2\r\n"), Frame::Double(-2.0));
        assert_eq!(one(b",1e10\r\n"), Frame::Double(1e10));
        assert_eq!(one(b",inf\r\n"), Frame::Double(f64::INFINITY));
        assert_eq!(one(b",-inf\r\n"), Frame::Double(f64::NEG_INFINITY));
        assert!(matches!(one(b",nan\r\n"), Frame::Double(d) if d.is_nan()));
        assert!(matches!(one(b",-nan\r\n"), Frame::Double(d) if d.is_nan()));
        assert_eq!(one(b"#t\r\n"), Frame::Boolean(true));
        assert_eq!(one(b"#f\r\n"), Frame::Boolean(false));
        assert_eq!(
            one(b"(-123456789012345678901234567890\r\n"),
            Frame::BigNumber(b("-123456789012345678901234567890"))
        );
        assert_eq!(
            one(b"=8\r\ntxt:a\r\nb\r\n"),
            Frame::Verbatim {
                format: *b"txt",
                text: b("a\r\nb")
            }
        );
        assert_eq!(one(b"!5\r\nERR x\r\n"), Frame::BulkError(b("ERR x")));
    }

    #[test]
    fn aggregates() {
        assert_eq!(one(b"*0\r\n"), Frame::Array(vec![]));
        assert_eq!(one(b"%0\r\n"), Frame::Map(vec![]));
        assert_eq!(
            one(b"*2\r\n*1\r\n:1\r\n~2\r\n+a\r\n_\r\n"),
            Frame::Array(vec![
                Frame::Array(vec![Frame::Integer(1)]),
                Frame::Set(vec![Frame::Simple(b("a")), Frame::Null]),
            ])
        );
        assert_eq!(
            one(b"%2\r\n+a\r\n:1\r\n+b\r\n*0\r\n"),
            Frame::Map(vec![
                (Frame::Simple(b("a")), Frame::Integer(1)),
                (Frame::Simple(b("b")), Frame::Array(vec![])),
            ])
        );
        assert_eq!(
            one(b">3\r\n$7\r\nmessage\r\n$2\r\nch\r\n$2\r\nhi\r\n"),
            Frame::Push(vec![
                Frame::Bulk(b("message")),
                Frame::Bulk(b("ch")),
                Frame::Bulk(b("hi"))
            ])
        );
    }

    #[test]
    fn attributes_prefix_a_value() {
        // From the RESP3 spec: the attribute does not count as an element.
        let input =
            b"*2\r\n|1\r\n+key-popularity\r\n%1\r\n$1\r\na\r\n,0.19\r\n:2039123\r\n:9543892\r\n";
        assert_eq!(
            one(input),
            Frame::Array(vec![
                Frame::Attribute {
                    attrs: vec![(
                        Frame::Simple(b("key-popularity")),
                        Frame::Map(vec![(Frame::Bulk(b("a")), Frame::Double(0.19))]),
                    )],
                    value: Box::new(Frame::Integer(2039123)),
                },
                Frame::Integer(9543892),
            ])
        );
        assert_eq!(
            one(b"|0\r\n:1\r\n"),
            Frame::Attribute {
                attrs: vec![],
                value: Box::new(Frame::Integer(1))
            }
        );
        assert_eq!(decode_frame(b"|0\r\n", &lim()), Ok(None));
    }

    #[test]
    fn consumes_only_one_frame() {
        let (f, n) = decode_frame(b":1\r\n:2\r\n", &lim()).unwrap().unwrap();
        assert_eq!((f, n), (Frame::Integer(1), 4));
    }

    #[test]
    fn every_truncation_is_incomplete() {
        let input: &[u8] = b"*3\r\n%1\r\n+k\r\n$3\r\nv\r\n\r\n|1\r\n:1\r\n:2\r\n=7\r\ntxt:abc\r\n>2\r\n,1.5\r\n(12\r\n";
        assert!(one(input) != Frame::Null);
        for cut in 0..input.len() {
            assert_eq!(
                decode_frame(&input[..cut], &lim()),
                Ok(None),
                "cut at {cut}"
            );
        }
    }

    #[test]
    fn errors() {
        assert_eq!(err(b"?x\r\n"), FrameError::UnknownType(b'?'));
        assert_eq!(err(b"$?\r\n"), FrameError::InvalidLength);
        assert_eq!(err(b";4\r\n"), FrameError::UnknownType(b';'));
        assert_eq!(err(b"+a\rb\r\n"), FrameError::BadLineEnding);
        assert_eq!(err(b"$1\r\nab\r\n"), FrameError::BadLineEnding);
        assert_eq!(err(b":1.0\r\n"), FrameError::InvalidInteger);
        assert_eq!(err(b":\r\n"), FrameError::InvalidInteger);
        assert_eq!(err(b"$-2\r\n"), FrameError::InvalidLength);
        assert_eq!(err(b"*-2\r\n"), FrameError::InvalidLength);
        assert_eq!(err(b"%-1\r\n"), FrameError::InvalidLength);
        assert_eq!(err(b"$x\r\n"), FrameError::InvalidLength);
        assert_eq!(err(b"#x\r\n"), FrameError::InvalidBoolean);
        assert_eq!(err(b"#\r\n"), FrameError::InvalidBoolean);
        assert_eq!(err(b",abc\r\n"), FrameError::InvalidDouble);
        assert_eq!(err(b",\r\n"), FrameError::InvalidDouble);
        assert_eq!(err(b",infinity\r\n"), FrameError::InvalidDouble);
        assert_eq!(err(b"(\r\n"), FrameError::InvalidBigNumber);
        assert_eq!(err(b"(1a\r\n"), FrameError::InvalidBigNumber);
        assert_eq!(err(b"(-\r\n"), FrameError::InvalidBigNumber);
        assert_eq!(err(b"=3\r\ntxt\r\n"), FrameError::InvalidVerbatim);
        assert_eq!(err(b"=4\r\ntxt;\r\n"), FrameError::InvalidVerbatim);
        assert_eq!(err(b"_x\r\n"), FrameError::InvalidNull);
        // An error deep inside an aggregate is still found.
        assert_eq!(err(b"*2\r\n:1\r\n*1\r\n#?\r\n"), FrameError::InvalidBoolean);
    }

    #[test]
    fn huge_lengths_are_refused_without_allocating() {
        assert_eq!(err(b"$536870913\r\n"), FrameError::BulkTooLong);
        assert_eq!(err(b"*2147483648\r\n"), FrameError::AggregateTooLong);
        assert_eq!(err(b"$9223372036854775807\r\n"), FrameError::BulkTooLong);
        // Within limits but not there yet: incomplete, nothing allocated.
        assert_eq!(decode_frame(b"$536870912\r\nabc", &lim()), Ok(None));
        assert_eq!(decode_frame(b"*2147483647\r\n:1\r\n", &lim()), Ok(None));
        assert_eq!(decode_frame(b"%1073741823\r\n", &lim()), Ok(None));
        let tight = Limits {
            max_bulk_len: 3,
            max_multibulk_len: 2,
            ..Limits::default()
        };
        assert_eq!(
            decode_frame(b"$4\r\n", &tight),
            Err(FrameError::BulkTooLong)
        );
        assert_eq!(
            decode_frame(b"!4\r\n", &tight),
            Err(FrameError::BulkTooLong)
        );
        assert_eq!(
            decode_frame(b"~3\r\n", &tight),
            Err(FrameError::AggregateTooLong)
        );
        assert_eq!(
            decode_frame(b"$3\r\nabc\r\n", &tight).unwrap().unwrap().1,
            9
        );
    }

    #[test]
    fn long_lines() {
        let small = Limits {
            max_inline_len: 8,
            ..Limits::default()
        };
        assert_eq!(
            decode_frame(b"+12345678\r\n", &small).unwrap().unwrap().1,
            11
        );
        assert_eq!(
            decode_frame(b"+123456789\r\n", &small),
            Err(FrameError::LineTooLong)
        );
        assert_eq!(decode_frame(b"+12345678", &small), Ok(None));
        assert_eq!(
            decode_frame(b"+123456789", &small),
            Err(FrameError::LineTooLong)
        );
        assert_eq!(
            decode_frame(b"+123456789\r", &small),
            Err(FrameError::LineTooLong)
        );
    }

    #[test]
    fn depth_is_bounded() {
        let mut ok = b"*1\r\n".repeat(MAX_DEPTH);
        ok.extend_from_slice(b":1\r\n");
        let (mut f, _) = decode_frame(&ok, &lim()).unwrap().unwrap();
        let mut depth = 0;
        while let Frame::Array(mut v) = f {
            depth += 1;
            f = v.pop().unwrap();
        }
        assert_eq!(depth, MAX_DEPTH);
        let mut bad = b"*1\r\n".repeat(MAX_DEPTH + 1);
        bad.extend_from_slice(b":1\r\n");
        assert_eq!(decode_frame(&bad, &lim()), Err(FrameError::TooDeep));
        // Hostile depth with no end is refused as soon as it is too deep.
        assert_eq!(
            decode_frame(&b"*1\r\n".repeat(100_000), &lim()),
            Err(FrameError::TooDeep)
        );
        // Attributes and maps count as levels too.
        assert_eq!(
            decode_frame(&b"|1\r\n".repeat(MAX_DEPTH + 1), &lim()),
            Err(FrameError::TooDeep)
        );
    }

    #[test]
    fn encode_deep_frame_without_recursion() {
        let mut f = Frame::Integer(1);
        for _ in 0..MAX_DEPTH {
            f = Frame::Array(vec![f]);
        }
        let mut out = Vec::new();
        encode_frame(&mut out, &f);
        let (g, n) = decode_frame(&out, &lim()).unwrap().unwrap();
        assert_eq!(n, out.len());
        assert!(g == f);
    }

    #[test]
    fn encode_forms() {
        let cases: Vec<(Frame, &[u8])> = vec![
            (Frame::Simple(b("a\r\nb")), b"+a  b\r\n"),
            (Frame::Error(b("-x")), b"--x\r\n"),
            (Frame::NullBulk, b"$-1\r\n"),
            (Frame::NullArray, b"*-1\r\n"),
            (Frame::Null, b"_\r\n"),
            (Frame::Double(1.0), b",1.0\r\n"),
            (Frame::Double(f64::NAN), b",nan\r\n"),
            (Frame::Double(f64::NEG_INFINITY), b",-inf\r\n"),
            (Frame::BulkError(b("E")), b"!1\r\nE\r\n"),
            (Frame::Push(vec![Frame::Integer(1)]), b">1\r\n:1\r\n"),
            (
                Frame::Attribute {
                    attrs: vec![(Frame::Integer(1), Frame::Integer(2))],
                    value: Box::new(Frame::Null),
                },
                b"|1\r\n:1\r\n:2\r\n_\r\n",
            ),
        ];
        for (f, want) in cases {
            let mut out = Vec::new();
            encode_frame(&mut out, &f);
            assert_eq!(out, want, "{f:?}");
        }
    }

    #[test]
    fn helpers() {
        assert!(Frame::Null.is_null() && Frame::NullBulk.is_null() && Frame::NullArray.is_null());
        assert!(!Frame::Bulk(b("")).is_null());
        assert_eq!(Frame::Simple(b("x")).as_bytes(), Some(&b("x")));
        assert_eq!(
            Frame::Verbatim {
                format: *b"txt",
                text: b("y")
            }
            .as_bytes(),
            Some(&b("y"))
        );
        assert_eq!(Frame::Integer(1).as_bytes(), None);
    }
}
