//! Reply encoding, RESP2 or RESP3, appended to a connection's output buffer.
//!
//! Command handlers write replies through these functions and never
//! assemble protocol by hand, so the RESP2/RESP3 choice (`HELLO 3`) is made
//! in one place, as Redis's `addReply*` family does in `networking.c`: a map
//! is `%n` in RESP3 and a flat `*2n` array in RESP2, a null is `_` or
//! `$-1`, and so on. Everything writes into a plain `Vec<u8>` so a whole
//! pipeline of replies goes out in one `write`, and nothing here allocates
//! beyond growing that buffer.

use crate::num::{write_i64, write_u64};

/// The protocol version a client speaks (`HELLO 2` / `HELLO 3`).
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default)]
pub enum Proto {
    /// RESP2, the default for a new connection.
    #[default]
    Resp2,
    /// RESP3, after `HELLO 3`.
    Resp3,
}

const CRLF: &[u8] = b"\r\n";

/// Writes `prefix`, the number `n`, and `\r\n`.
fn header(out: &mut Vec<u8>, prefix: u8, n: usize) {
    out.push(prefix);
    // usize is at most 64 bits on every target Rust supports.
    write_u64(out, n as u64);
    out.extend_from_slice(CRLF);
}

/// Appends `line` with every `\r` and `\n` replaced by a space, so a line
/// reply can never break the framing.
fn line_sanitized(out: &mut Vec<u8>, line: &[u8]) {
    if memchr::memchr2(b'\r', b'\n', line).is_none() {
        out.extend_from_slice(line);
    } else {
        out.extend(
            line.iter()
                .map(|&b| if b == b'\r' || b == b'\n' { b' ' } else { b }),
        );
    }
}

/// A status reply: `+s\r\n`. Any `\r` or `\n` in `s` becomes a space.
///
/// ```
/// let mut out = Vec::new();
/// resp::encode::simple(&mut out, b"OK");
/// assert_eq!(out, b"+OK\r\n");
/// ```
pub fn simple(out: &mut Vec<u8>, s: &[u8]) {
    out.push(b'+');
    line_sanitized(out, s);
    out.extend_from_slice(CRLF);
}

/// An error reply: `-msg\r\n`. `msg` carries its own code (`ERR ...`,
/// `WRONGTYPE ...`). As in Redis's `addReplyErrorLength`, a `msg` that
/// already starts with `-` is written as is rather than getting a second
/// one. Any `\r` or `\n` in `msg` becomes a space, as `addReplyErrorFormat`
/// does.
///
/// ```
/// let mut out = Vec::new();
/// resp::encode::error(&mut out, b"ERR bad\r\nthing");
/// assert_eq!(out, b"-ERR bad  thing\r\n");
/// ```
pub fn error(out: &mut Vec<u8>, msg: &[u8]) {
    let msg = match msg.split_first() {
        Some((b'-', rest)) => rest,
        _ => msg,
    };
    out.push(b'-');
    line_sanitized(out, msg);
    out.extend_from_slice(CRLF);
}

/// An integer reply: `:n\r\n`.
pub fn integer(out: &mut Vec<u8>, n: i64) {
    out.push(b':');
    write_i64(out, n);
    out.extend_from_slice(CRLF);
}

/// A bulk string: `$len\r\nb\r\n`.
///
/// ```
/// let mut out = Vec::new();
/// resp::encode::bulk(&mut out, b"hi");
/// assert_eq!(out, b"$2\r\nhi\r\n");
/// ```
pub fn bulk(out: &mut Vec<u8>, b: &[u8]) {
    bulk_len(out, b.len());
    out.extend_from_slice(b);
    out.extend_from_slice(CRLF);
}

/// Only the header of a bulk string, `$len\r\n`, for a caller that writes
/// the `len` payload bytes and the closing `\r\n` itself (for example the
/// RDB payload of a full resync, which has no trailing `\r\n`).
pub fn bulk_len(out: &mut Vec<u8>, len: usize) {
    header(out, b'$', len);
}

/// A null reply: `$-1\r\n` in RESP2, `_\r\n` in RESP3 (`addReplyNull`).
pub fn null(out: &mut Vec<u8>, p: Proto) {
    out.extend_from_slice(match p {
        Proto::Resp2 => b"$-1\r\n",
        Proto::Resp3 => b"_\r\n",
    });
}

/// A null array: `*-1\r\n` in RESP2, `_\r\n` in RESP3
/// (`addReplyNullArray`).
pub fn null_array(out: &mut Vec<u8>, p: Proto) {
    out.extend_from_slice(match p {
        Proto::Resp2 => b"*-1\r\n",
        Proto::Resp3 => b"_\r\n",
    });
}

/// An array header, `*n\r\n`; the caller then writes `n` replies.
pub fn array_len(out: &mut Vec<u8>, n: usize) {
    header(out, b'*', n);
}

/// A map header for `n` key/value pairs: `%n` in RESP3, `*2n` in RESP2;
/// the caller then writes `2n` replies, key, value, key, value...
pub fn map_len(out: &mut Vec<u8>, p: Proto, n: usize) {
    match p {
        Proto::Resp2 => header(out, b'*', n.saturating_mul(2)),
        Proto::Resp3 => header(out, b'%', n),
    }
}

/// A set header: `~n` in RESP3, `*n` in RESP2.
pub fn set_len(out: &mut Vec<u8>, p: Proto, n: usize) {
    match p {
        Proto::Resp2 => header(out, b'*', n),
        Proto::Resp3 => header(out, b'~', n),
    }
}

/// A push header (pub/sub messages, invalidations): `>n` in RESP3, `*n` in
/// RESP2.
pub fn push_len(out: &mut Vec<u8>, p: Proto, n: usize) {
    match p {
        Proto::Resp2 => header(out, b'*', n),
        Proto::Resp3 => header(out, b'>', n),
    }
}

/// An attribute header, `|n\r\n`, followed by `2n` replies and then the
/// reply they annotate. RESP3 only, as in Redis (`addReplyAttributeLen`
/// asserts RESP3); a RESP2 client must not be sent one.
pub fn attribute_len(out: &mut Vec<u8>, n: usize) {
    header(out, b'|', n);
}

/// A double, already formatted by the caller (Redis uses `%.17g`, and
/// `inf` / `-inf`): `,repr\r\n` in RESP3, a bulk string in RESP2.
pub fn double(out: &mut Vec<u8>, p: Proto, repr: &[u8]) {
    match p {
        Proto::Resp2 => bulk(out, repr),
        Proto::Resp3 => {
            out.push(b',');
            out.extend_from_slice(repr);
            out.extend_from_slice(CRLF);
        }
    }
}

/// A boolean: `#t` / `#f` in RESP3, `:1` / `:0` in RESP2.
pub fn boolean(out: &mut Vec<u8>, p: Proto, b: bool) {
    out.extend_from_slice(match (p, b) {
        (Proto::Resp2, true) => b":1\r\n",
        (Proto::Resp2, false) => b":0\r\n",
        (Proto::Resp3, true) => b"#t\r\n",
        (Proto::Resp3, false) => b"#f\r\n",
    });
}

/// A verbatim string (`INFO`, `CLIENT LIST`, `LATENCY DOCTOR`):
/// `=len\r\nfmt:text\r\n` in RESP3, with `len` counting the 4-byte
/// `fmt:` prefix; a bulk string of `text` in RESP2.
///
/// ```
/// use resp::encode::{verbatim, Proto};
/// let mut out = Vec::new();
/// verbatim(&mut out, Proto::Resp3, b"txt", b"hi");
/// assert_eq!(out, b"=6\r\ntxt:hi\r\n");
/// ```
pub fn verbatim(out: &mut Vec<u8>, p: Proto, format: &[u8; 3], text: &[u8]) {
    match p {
        Proto::Resp2 => bulk(out, text),
        Proto::Resp3 => {
            header(out, b'=', text.len().saturating_add(4));
            out.extend_from_slice(format);
            out.push(b':');
            out.extend_from_slice(text);
            out.extend_from_slice(CRLF);
        }
    }
}

/// A big number, digits already formatted: `(digits\r\n` in RESP3, a bulk
/// string in RESP2.
pub fn big_number(out: &mut Vec<u8>, p: Proto, digits: &[u8]) {
    match p {
        Proto::Resp2 => bulk(out, digits),
        Proto::Resp3 => {
            out.push(b'(');
            out.extend_from_slice(digits);
            out.extend_from_slice(CRLF);
        }
    }
}

/// A command as a RESP2 multibulk of bulk strings, the form of the
/// replication stream and of AOF: `*n\r\n$len\r\narg\r\n...`.
///
/// ```
/// let mut out = Vec::new();
/// resp::encode::command(&mut out, &[b"SET", b"k", b"v"]);
/// assert_eq!(out, b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1\r\nv\r\n");
/// ```
pub fn command(out: &mut Vec<u8>, args: &[&[u8]]) {
    array_len(out, args.len());
    for arg in args {
        bulk(out, arg);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(f: impl FnOnce(&mut Vec<u8>)) -> Vec<u8> {
        let mut out = Vec::new();
        f(&mut out);
        out
    }

    #[test]
    fn scalars() {
        assert_eq!(run(|o| simple(o, b"OK")), b"+OK\r\n");
        assert_eq!(run(|o| simple(o, b"a\r\nb")), b"+a  b\r\n");
        assert_eq!(run(|o| simple(o, b"")), b"+\r\n");
        assert_eq!(run(|o| error(o, b"ERR x")), b"-ERR x\r\n");
        assert_eq!(run(|o| error(o, b"-NOSCRIPT x")), b"-NOSCRIPT x\r\n");
        assert_eq!(run(|o| error(o, b"ERR a\nb\rc")), b"-ERR a b c\r\n");
        assert_eq!(run(|o| integer(o, 0)), b":0\r\n");
        assert_eq!(run(|o| integer(o, -17)), b":-17\r\n");
        assert_eq!(run(|o| integer(o, i64::MIN)), b":-9223372036854775808\r\n");
        assert_eq!(run(|o| integer(o, i64::MAX)), b":9223372036854775807\r\n");
        assert_eq!(run(|o| bulk(o, b"")), b"$0\r\n\r\n");
        assert_eq!(run(|o| bulk(o, b"a\r\nb")), b"$4\r\na\r\nb\r\n");
        assert_eq!(run(|o| bulk_len(o, 12)), b"$12\r\n");
    }

    #[test]
    fn per_protocol() {
        use Proto::*;
        assert_eq!(run(|o| null(o, Resp2)), b"$-1\r\n");
        assert_eq!(run(|o| null(o, Resp3)), b"_\r\n");
        assert_eq!(run(|o| null_array(o, Resp2)), b"*-1\r\n");
        assert_eq!(run(|o| null_array(o, Resp3)), b"_\r\n");
        assert_eq!(run(|o| array_len(o, 3)), b"*3\r\n");
        assert_eq!(run(|o| map_len(o, Resp2, 3)), b"*6\r\n");
        assert_eq!(run(|o| map_len(o, Resp3, 3)), b"%3\r\n");
        assert_eq!(run(|o| set_len(o, Resp2, 2)), b"*2\r\n");
        assert_eq!(run(|o| set_len(o, Resp3, 2)), b"~2\r\n");
        assert_eq!(run(|o| push_len(o, Resp2, 3)), b"*3\r\n");
        assert_eq!(run(|o| push_len(o, Resp3, 3)), b">3\r\n");
        assert_eq!(run(|o| attribute_len(o, 1)), b"|1\r\n");
        assert_eq!(run(|o| double(o, Resp2, b"1.5")), b"$3\r\n1.5\r\n");
        assert_eq!(run(|o| double(o, Resp3, b"-inf")), b",-inf\r\n");
        assert_eq!(run(|o| boolean(o, Resp2, true)), b":1\r\n");
        assert_eq!(run(|o| boolean(o, Resp2, false)), b":0\r\n");
        assert_eq!(run(|o| boolean(o, Resp3, true)), b"#t\r\n");
        assert_eq!(run(|o| boolean(o, Resp3, false)), b"#f\r\n");
        assert_eq!(run(|o| verbatim(o, Resp2, b"txt", b"hi")), b"$2\r\nhi\r\n");
        assert_eq!(run(|o| verbatim(o, Resp3, b"mkd", b"")), b"=4\r\nmkd:\r\n");
        assert_eq!(run(|o| big_number(o, Resp2, b"-12")), b"$3\r\n-12\r\n");
        assert_eq!(run(|o| big_number(o, Resp3, b"-12")), b"(-12\r\n");
    }

    #[test]
    fn commands() {
        assert_eq!(run(|o| command(o, &[])), b"*0\r\n");
        assert_eq!(
            run(|o| command(o, &[b"PING", b""])),
            b"*2\r\n$4\r\nPING\r\n$0\r\n\r\n"
        );
    }
}
