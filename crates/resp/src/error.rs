//! The two ways bytes off the wire can be wrong, one enum per direction.
//!
//! [`ProtocolError`] is what a *client* did wrong in a request. Redis answers
//! it with `-ERR <text>` and closes the connection, so each variant's
//! `Display` is Redis 7.0's exact text (from `networking.c`) without the
//! `ERR ` prefix; the server prepends it. [`FrameError`] is what a *server*
//! did wrong in a reply (the replica reading its master, or a test reading
//! us); nobody answers it, so its text only needs to help a human.

use std::borrow::Cow;

/// A malformed request, as `processInlineBuffer` / `processMultibulkBuffer`
/// in Redis 7.0 reject it.
///
/// After an error the connection must be answered with
/// `-ERR {error}` and closed: the decoder does not try to resynchronise.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum ProtocolError {
    /// An inline request with no `\n` in more than `max_inline_len` bytes.
    #[error("Protocol error: too big inline request")]
    TooBigInlineRequest,
    /// An inline request whose quoting `sdssplitargs` refuses.
    #[error("Protocol error: unbalanced quotes in request")]
    UnbalancedQuotes,
    /// A `*<count>` line with no `\r` in more than `max_inline_len` bytes.
    #[error("Protocol error: too big mbulk count string")]
    TooBigMbulkCountString,
    /// A `*<count>` that is not a number or is above `max_multibulk_len`.
    #[error("Protocol error: invalid multibulk length")]
    InvalidMultibulkLength,
    /// A `*<count>` above 10 from a client that must still authenticate.
    #[error("Protocol error: unauthenticated multibulk length")]
    UnauthenticatedMultibulkLength,
    /// A `$<len>` line with no `\r` in more than `max_inline_len` bytes.
    #[error("Protocol error: too big bulk count string")]
    TooBigBulkCountString,
    /// An argument of a multibulk request that does not start with `$`.
    /// Holds the offending byte; see [`ProtocolError::message`] for the
    /// byte-exact text when it is not ASCII.
    #[error("Protocol error: expected '$', got '{}'", char::from(sanitize(*.0)))]
    ExpectedDollar(u8),
    /// A `$<len>` that is not a number, is negative, or is above
    /// `max_bulk_len`.
    #[error("Protocol error: invalid bulk length")]
    InvalidBulkLength,
    /// A `$<len>` above 16384 from a client that must still authenticate.
    #[error("Protocol error: unauthenticated bulk length")]
    UnauthenticatedBulkLength,
}

impl ProtocolError {
    /// The reply text as bytes, exactly as Redis sends it after `-ERR `.
    ///
    /// Equal to `to_string()` except for [`ProtocolError::ExpectedDollar`]
    /// with a non-ASCII byte: Redis prints that byte raw (`%c`), which a
    /// Rust `String` cannot hold, so `Display` shows it as a Latin-1 char.
    pub fn message(&self) -> Cow<'static, [u8]> {
        match self {
            Self::ExpectedDollar(b) => {
                let mut v = b"Protocol error: expected '$', got '".to_vec();
                v.push(sanitize(*b));
                v.push(b'\'');
                Cow::Owned(v)
            }
            other => Cow::Owned(other.to_string().into_bytes()),
        }
    }
}

/// Redis's `addReplyErrorFormat` maps `\r` and `\n` to spaces.
fn sanitize(b: u8) -> u8 {
    if b == b'\r' || b == b'\n' {
        b' '
    } else {
        b
    }
}

/// A malformed RESP2/RESP3 reply (server → client direction).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum FrameError {
    /// The first byte of a frame is no RESP2/RESP3 type byte. Streamed
    /// RESP3 types (`$?`, `;`, `.`) are not supported and land here or in
    /// [`FrameError::InvalidLength`].
    #[error("Protocol error: unknown type byte {0:#04x}")]
    UnknownType(u8),
    /// A line (type byte to `\r\n`) longer than `max_inline_len`.
    #[error("Protocol error: line too long")]
    LineTooLong,
    /// A `\r` not followed by `\n`, or a payload not followed by `\r\n`.
    #[error("Protocol error: expected CRLF")]
    BadLineEnding,
    /// A `:` line that is not a canonical 64-bit integer.
    #[error("Protocol error: invalid integer")]
    InvalidInteger,
    /// A length or count that is not a number or is negative.
    #[error("Protocol error: invalid length")]
    InvalidLength,
    /// A blob longer than `max_bulk_len`.
    #[error("Protocol error: bulk too long")]
    BulkTooLong,
    /// An aggregate with more than `max_multibulk_len` elements.
    #[error("Protocol error: aggregate too long")]
    AggregateTooLong,
    /// A `,` line that is not a floating point number.
    #[error("Protocol error: invalid double")]
    InvalidDouble,
    /// A `#` line other than `t` or `f`.
    #[error("Protocol error: invalid boolean")]
    InvalidBoolean,
    /// A `(` line that is not an optional `-` followed by digits.
    #[error("Protocol error: invalid big number")]
    InvalidBigNumber,
    /// A `=` payload shorter than 4 bytes or without `:` at index 3.
    #[error("Protocol error: invalid verbatim string")]
    InvalidVerbatim,
    /// A `_` line with something between `_` and `\r\n`.
    #[error("Protocol error: invalid null")]
    InvalidNull,
    /// Aggregates nested deeper than [`crate::frame::MAX_DEPTH`].
    #[error("Protocol error: nesting too deep")]
    TooDeep,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expected_dollar_text() {
        let e = ProtocolError::ExpectedDollar(b'x');
        assert_eq!(e.to_string(), "Protocol error: expected '$', got 'x'");
        assert_eq!(&*e.message(), e.to_string().as_bytes());
        // \r is mapped to a space, as addReplyErrorFormat does.
        let e = ProtocolError::ExpectedDollar(b'\r');
        assert_eq!(e.to_string(), "Protocol error: expected '$', got ' '");
        // A raw high byte stays raw in message().
        let e = ProtocolError::ExpectedDollar(0xff);
        assert_eq!(&*e.message(), b"Protocol error: expected '$', got '\xff'");
    }

    #[test]
    fn fixed_texts() {
        let cases = [
            (
                ProtocolError::TooBigInlineRequest,
                "Protocol error: too big inline request",
            ),
            (
                ProtocolError::UnbalancedQuotes,
                "Protocol error: unbalanced quotes in request",
            ),
            (
                ProtocolError::TooBigMbulkCountString,
                "Protocol error: too big mbulk count string",
            ),
            (
                ProtocolError::InvalidMultibulkLength,
                "Protocol error: invalid multibulk length",
            ),
            (
                ProtocolError::UnauthenticatedMultibulkLength,
                "Protocol error: unauthenticated multibulk length",
            ),
            (
                ProtocolError::TooBigBulkCountString,
                "Protocol error: too big bulk count string",
            ),
            (
                ProtocolError::InvalidBulkLength,
                "Protocol error: invalid bulk length",
            ),
            (
                ProtocolError::UnauthenticatedBulkLength,
                "Protocol error: unauthenticated bulk length",
            ),
        ];
        for (e, text) in cases {
            assert_eq!(e.to_string(), text);
            assert_eq!(&*e.message(), text.as_bytes());
        }
    }
}
