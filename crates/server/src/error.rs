//! Command errors and their Redis wire form.
//!
//! Every error a command can answer with is a `CmdError`; the dispatcher turns
//! it into a `-PREFIX message` reply. Messages that Redis's own test suite and
//! client libraries match on are constants here, written exactly as Redis 7.0
//! writes them, so there is one place to check them against Redis.

use std::borrow::Cow;

/// `-WRONGTYPE`.
pub const WRONGTYPE: &str = "WRONGTYPE Operation against a key holding the wrong kind of value";
/// Generic syntax error.
pub const SYNTAX: &str = "ERR syntax error";
/// Integer parsing failure.
pub const NOT_INT: &str = "ERR value is not an integer or out of range";
/// Float parsing failure.
pub const NOT_FLOAT: &str = "ERR value is not a valid float";
/// INCR/DECR overflow.
pub const OVERFLOW: &str = "ERR increment or decrement would overflow";
/// Missing key for commands that need one.
pub const NO_SUCH_KEY: &str = "ERR no such key";
/// SELECT/MOVE/COPY with a bad db index.
pub const DB_RANGE: &str = "ERR DB index is out of range";
/// SETRANGE/APPEND/SETBIT growing past proto-max-bulk-len.
pub const STRING_TOO_LONG: &str = "ERR string exceeds maximum allowed size (proto-max-bulk-len)";
/// Bad expire time.
pub const INVALID_EXPIRE: &str = "ERR invalid expire time in '{}' command";
/// The -OOM refusal of a command that may grow memory over maxmemory.
pub const OOM: &str = "OOM command not allowed when used memory > 'maxmemory'.";
/// Commands before AUTH.
pub const NOAUTH: &str = "NOAUTH Authentication required.";
/// AUTH failure.
pub const WRONGPASS: &str = "WRONGPASS invalid username-password pair or user is disabled.";
/// Timeout parsing for blocking commands.
pub const TIMEOUT_NOT_FLOAT: &str = "ERR timeout is not a float or out of range";
/// Negative timeout for blocking commands.
pub const TIMEOUT_NEGATIVE: &str = "ERR timeout is negative";
/// Writes refused on a read-only replica.
pub const READONLY_REPLICA: &str = "READONLY You can't write against a read only replica.";

/// An error reply. The text always starts with its Redis prefix
/// (`ERR`, `WRONGTYPE`, …).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CmdError(pub Cow<'static, str>);

impl CmdError {
    /// An error with a fixed message.
    pub const fn fixed(msg: &'static str) -> Self {
        CmdError(Cow::Borrowed(msg))
    }

    /// An error with a message built at run time.
    pub fn msg(msg: impl Into<String>) -> Self {
        CmdError(Cow::Owned(msg.into()))
    }

    /// `ERR wrong number of arguments for '<cmd>' command`.
    pub fn arity(cmd: &str) -> Self {
        Self::msg(format!(
            "ERR wrong number of arguments for '{}' command",
            cmd.to_ascii_lowercase()
        ))
    }

    /// `ERR unknown command '<name>', with args beginning with: '<a>' '<b>' `.
    pub fn unknown_command(name: &[u8], args: &[bytes::Bytes]) -> Self {
        let mut s = format!(
            "ERR unknown command '{}', with args beginning with: ",
            truncate_for_error(name)
        );
        for a in args.iter().take(128) {
            if s.len() >= 1024 {
                break;
            }
            s.push('\'');
            s.push_str(&truncate_for_error(a));
            s.push_str("' ");
        }
        Self::msg(s)
    }

    /// `ERR unknown subcommand '<sub>'. Try <CMD> HELP.`
    pub fn unknown_subcommand(cmd: &str, sub: &[u8]) -> Self {
        Self::msg(format!(
            "ERR unknown subcommand '{}'. Try {} HELP.",
            truncate_for_error(sub),
            cmd.to_ascii_uppercase()
        ))
    }

    /// The text without the prefix word, for logs.
    pub fn text(&self) -> &str {
        &self.0
    }
}

impl From<&'static str> for CmdError {
    fn from(s: &'static str) -> Self {
        CmdError::fixed(s)
    }
}

/// Redis quotes user input in errors with at most 128 chars, and replaces
/// newlines so the error stays one line.
pub fn truncate_for_error(b: &[u8]) -> String {
    let s = String::from_utf8_lossy(&b[..b.len().min(128)]);
    s.replace(['\r', '\n'], " ")
}

/// Result of a command handler.
pub type CmdResult<T = ()> = Result<T, CmdError>;
