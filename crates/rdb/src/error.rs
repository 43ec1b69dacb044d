//! The one error type of this crate.
//!
//! Every error met while reading says where: the byte offset in the file
//! (or payload) and a [`Context`] naming the record, the key and the RDB
//! type being read, so that a log line like Redis's
//! `Short read or OOM loading DB` becomes something a person can act on.

use std::fmt;

/// What the reader was doing when an error happened.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Context {
    /// The part of the file being read: `"header"`, `"aux field"`,
    /// `"key"`, `"value"`, `"checksum"`…
    pub what: &'static str,
    /// The key whose record was being read, if any.
    pub key: Option<Vec<u8>>,
    /// The RDB type byte of that record, if known.
    pub type_byte: Option<u8>,
}

impl fmt::Display for Context {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(if self.what.is_empty() {
            "record"
        } else {
            self.what
        })?;
        if let Some(key) = &self.key {
            write!(f, " of key '{}'", String::from_utf8_lossy(key))?;
        }
        if let Some(t) = self.type_byte {
            write!(f, " (type {t}, {})", crate::describe_type(t))?;
        }
        Ok(())
    }
}

/// Errors from reading or writing RDB data.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The underlying reader or writer failed (other than a short read).
    #[error("I/O error: {0}")]
    Io(#[from] std::io::Error),

    /// The input ended in the middle of a record.
    #[error("unexpected end of RDB data at byte {offset} while reading {context}")]
    UnexpectedEof {
        /// Offset of the first missing byte.
        offset: u64,
        /// What was being read.
        context: Context,
    },

    /// The file does not start with `REDIS` and four digits.
    #[error("wrong signature: not an RDB file")]
    BadSignature,

    /// The header names a version this crate cannot read (or write).
    #[error("can't handle RDB format version {0}")]
    UnsupportedVersion(u32),

    /// The data is malformed.
    #[error("corrupt RDB at byte {offset} while reading {context}: {detail}")]
    Corrupt {
        /// Offset at (or just after) the offending bytes.
        offset: u64,
        /// What was being read.
        context: Context,
        /// What is wrong.
        detail: String,
    },

    /// A well-formed value of a kind relica does not load (streams, module
    /// values, hashes with field expiration).
    #[error("{what} not supported (key '{}')", String::from_utf8_lossy(.key))]
    Unsupported {
        /// Offset of the value.
        offset: u64,
        /// The kind of value, e.g. `"stream type"`.
        what: String,
        /// The key holding it.
        key: Vec<u8>,
    },

    /// The CRC64 at the end of the file does not match its contents.
    #[error("wrong RDB checksum: stored {stored:#018x}, computed {computed:#018x}")]
    ChecksumMismatch {
        /// The checksum found in the file.
        stored: u64,
        /// The checksum of the bytes read.
        computed: u64,
    },

    /// A DUMP payload's footer (RDB version or CRC64) is wrong; the message
    /// is the one `RESTORE` replies with.
    #[error("DUMP payload version or checksum are wrong")]
    BadDumpPayload,

    /// An LZF stream is malformed (from [`crate::lzf::decompress`]; the
    /// reader reports these as [`Error::Corrupt`] with context).
    #[error("invalid LZF data: {detail}")]
    Lzf {
        /// What is wrong.
        detail: &'static str,
    },

    /// The caller asked the writer for something the format cannot hold,
    /// e.g. an iterator that yields more items than the length it declared.
    #[error("invalid input for RDB writer: {0}")]
    InvalidInput(String),
}
