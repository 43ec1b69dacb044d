//! A key's value: Redis's object types with their encodings.
//!
//! Strings keep Redis's three encodings visible to `OBJECT ENCODING`:
//! `int` (a canonical 64-bit integer, stored as a number), `embstr` (an
//! immutable string of at most 44 bytes) and `raw` (longer strings, or any
//! string changed in place by APPEND/SETRANGE/SETBIT, which keep a growable
//! buffer). Big collections are boxed; small hashes and sorted sets (a
//! 16-byte listpack) live inline. `Value` stays 24 bytes: the
//! keyspace holds millions of them.

use std::borrow::Cow;

use crate::types::{hash::Hash, list::List, set::Set, stream::Stream, zset::ZSet};

/// Redis's embstr limit.
pub const EMBSTR_MAX: usize = 44;

/// A value.
pub enum Value {
    /// Integer-encoded string.
    Int(i64),
    /// Immutable string (embstr or raw by length).
    Str(Box<[u8]>),
    /// String modified in place (always raw).
    Raw(Box<Vec<u8>>),
    /// List.
    List(Box<List>),
    /// Hash.
    Hash(Hash),
    /// Set.
    Set(Box<Set>),
    /// Sorted set.
    ZSet(ZSet),
    /// Stream.
    Stream(Box<Stream>),
}

impl Clone for Value {
    fn clone(&self) -> Self {
        match self {
            Value::Int(n) => Value::Int(*n),
            Value::Str(b) => Value::Str(b.clone()),
            Value::Raw(v) => Value::Raw(v.clone()),
            Value::List(l) => Value::List(l.clone()),
            Value::Hash(h) => Value::Hash(h.clone()),
            Value::Set(s) => Value::Set(s.clone()),
            Value::ZSet(z) => Value::ZSet(z.clone()),
            Value::Stream(x) => Value::Stream(x.clone()),
        }
    }
}

/// The type of a value, as TYPE answers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ValueType {
    /// string
    String,
    /// list
    List,
    /// hash
    Hash,
    /// set
    Set,
    /// zset
    ZSet,
    /// stream
    Stream,
}

impl ValueType {
    /// TYPE's answer.
    pub fn name(self) -> &'static str {
        match self {
            ValueType::String => "string",
            ValueType::List => "list",
            ValueType::Hash => "hash",
            ValueType::Set => "set",
            ValueType::ZSet => "zset",
            ValueType::Stream => "stream",
        }
    }

    /// Parse SCAN's TYPE argument.
    pub fn parse(s: &[u8]) -> Option<ValueType> {
        Some(match s.to_ascii_lowercase().as_slice() {
            b"string" => ValueType::String,
            b"list" => ValueType::List,
            b"hash" => ValueType::Hash,
            b"set" => ValueType::Set,
            b"zset" => ValueType::ZSet,
            b"stream" => ValueType::Stream,
            _ => return None,
        })
    }
}

impl Value {
    /// A string value, int-encoded when it is a canonical integer.
    pub fn from_bytes(b: &[u8]) -> Value {
        if b.len() <= 20 {
            if let Some(n) = crate::util::num::parse_i64(b) {
                return Value::Int(n);
            }
        }
        Value::Str(b.into())
    }

    /// A string value from an owned buffer.
    pub fn from_vec(v: Vec<u8>) -> Value {
        if v.len() <= 20 {
            if let Some(n) = crate::util::num::parse_i64(&v) {
                return Value::Int(n);
            }
        }
        Value::Str(v.into_boxed_slice())
    }

    /// Where the value's own allocation starts, if it has one: what a
    /// walk over many keys prefetches.
    #[inline]
    pub fn heap_ptr(&self) -> Option<*const u8> {
        match self {
            Value::Str(b) => Some(b.as_ptr()),
            Value::Raw(v) => Some(v.as_ptr()),
            Value::List(l) => Some((&**l as *const List).cast()),
            Value::Set(s) => Some((&**s as *const Set).cast()),
            Value::Stream(s) => Some((&**s as *const Stream).cast()),
            Value::Int(_) | Value::Hash(_) | Value::ZSet(_) => None,
        }
    }

    /// The type.
    pub fn kind(&self) -> ValueType {
        match self {
            Value::Int(_) | Value::Str(_) | Value::Raw(_) => ValueType::String,
            Value::List(_) => ValueType::List,
            Value::Hash(_) => ValueType::Hash,
            Value::Set(_) => ValueType::Set,
            Value::ZSet(_) => ValueType::ZSet,
            Value::Stream(_) => ValueType::Stream,
        }
    }

    /// Whether this is a string.
    pub fn is_string(&self) -> bool {
        matches!(self, Value::Int(_) | Value::Str(_) | Value::Raw(_))
    }

    /// The bytes of a string value (None for other types).
    pub fn as_bytes(&self) -> Option<Cow<'_, [u8]>> {
        match self {
            Value::Int(n) => Some(Cow::Owned(
                itoa::Buffer::new().format(*n).as_bytes().to_vec(),
            )),
            Value::Str(b) => Some(Cow::Borrowed(b)),
            Value::Raw(v) => Some(Cow::Borrowed(v.as_slice())),
            _ => None,
        }
    }

    /// Length of a string value in bytes.
    pub fn str_len(&self) -> usize {
        match self {
            Value::Int(n) => itoa::Buffer::new().format(*n).len(),
            Value::Str(b) => b.len(),
            Value::Raw(v) => v.len(),
            _ => 0,
        }
    }

    /// Turn a string value into its growable raw form and return the buffer
    /// (APPEND, SETRANGE, SETBIT).
    pub fn make_raw(&mut self) -> Option<&mut Vec<u8>> {
        let bytes = match self {
            Value::Raw(_) => None,
            Value::Int(_) | Value::Str(_) => self.as_bytes().map(|b| b.into_owned()),
            _ => return None,
        };
        if let Some(b) = bytes {
            *self = Value::Raw(Box::new(b));
        }
        match self {
            Value::Raw(v) => Some(v),
            _ => None,
        }
    }

    /// Whether this is a list, hash, set or sorted set with no elements
    /// (which Redis never keeps in the keyspace).
    pub fn is_empty_collection(&self) -> bool {
        match self {
            Value::List(l) => l.is_empty(),
            Value::Hash(h) => h.is_empty(),
            Value::Set(s) => s.is_empty(),
            Value::ZSet(z) => z.is_empty(),
            _ => false,
        }
    }

    /// OBJECT ENCODING's answer.
    pub fn encoding(&self) -> &'static str {
        match self {
            Value::Int(_) => "int",
            Value::Str(b) if b.len() <= EMBSTR_MAX => "embstr",
            Value::Str(_) | Value::Raw(_) => "raw",
            Value::List(_) => "quicklist",
            Value::Hash(h) => h.encoding_name(),
            Value::Set(s) => s.encoding_name(),
            Value::ZSet(z) => z.encoding_name(),
            Value::Stream(_) => "stream",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The keyspace holds millions of these: a small hash lives inline,
    /// and a value stays 24 bytes, an entry 56.
    #[test]
    fn sizes() {
        assert_eq!(std::mem::size_of::<Hash>(), 16);
        assert_eq!(std::mem::size_of::<ZSet>(), 16);
        assert_eq!(std::mem::size_of::<Value>(), 24);
        assert!(std::mem::size_of::<crate::keyspace::Entry>() <= 56);
    }
}
