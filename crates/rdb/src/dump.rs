//! `DUMP`/`RESTORE` payloads: one value in RDB form plus a footer.
//!
//! ```text
//! <type byte> <value> <RDB version u16 LE> <CRC64 LE of everything before it>
//! ```
//!
//! ```
//! let v = rdb::Value::String(b"hello".to_vec());
//! let p = rdb::dump_payload(&v, 10);
//! assert_eq!(rdb::restore_payload(&p).unwrap(), v);
//! ```

use crate::reader::{Parser, MAX_VERSION};
use crate::{crc64, Error, Value, WriteOptions, Writer};

/// Serializes `value` as `DUMP` does, with `rdb_version` in the footer
/// (Redis 7.0 writes 10; compact encodings are used from version 10 on, as
/// in [`Writer`]). Strings are LZF-compressed as with `rdbcompression yes`.
pub fn dump_payload(value: &Value, rdb_version: u16) -> Vec<u8> {
    let opts = WriteOptions {
        version: u32::from(rdb_version),
        checksum: false,
        ..WriteOptions::default()
    };
    let mut w = Writer::raw(Vec::new(), opts);
    // Writing to a Vec cannot fail, and a `Value` always yields exactly
    // the number of elements it declares, so this is always `Ok`.
    let mut out = match w.value(None, value, None) {
        Ok(()) => w.into_inner(),
        Err(_) => Vec::new(),
    };
    out.extend_from_slice(&rdb_version.to_le_bytes());
    let crc = crc64::crc64(0, &out);
    out.extend_from_slice(&crc.to_le_bytes());
    out
}

/// Parses a `RESTORE` payload.
///
/// The footer is checked first, as Redis's `verifyDumpPayload`: a payload
/// shorter than 10 bytes, a version newer than [`MAX_VERSION`] or a wrong
/// CRC64 is [`Error::BadDumpPayload`] ("DUMP payload version or checksum
/// are wrong"); a malformed value is another error (Redis answers "Bad data
/// format").
pub fn restore_payload(payload: &[u8]) -> Result<Value, Error> {
    restore_payload_typed(payload).map(|(_, v)| v)
}

/// Like [`restore_payload`], also returning the RDB type byte.
pub fn restore_payload_typed(payload: &[u8]) -> Result<(u8, Value), Error> {
    restore_payload_checked(payload, true)
}

/// Like [`restore_payload_typed`]; with `verify_crc` false the CRC64 is not
/// checked (Redis's `DEBUG SET-SKIP-CHECKSUM-VALIDATION 1`), the version
/// still is. The value itself is always validated in full.
pub fn restore_payload_checked(payload: &[u8], verify_crc: bool) -> Result<(u8, Value), Error> {
    let (body, version) = verify_footer(payload, verify_crc)?;
    let mut p = Parser::new(body, u32::from(version));
    p.ctx.what = "DUMP payload type";
    let t = p.read_u8()?;
    if !matches!(t, 0..=7 | 9..=25) {
        return Err(p.corrupt(format!("unknown RDB value type {t}")));
    }
    let v = p.read_value(t)?;
    Ok((t, v))
}

/// Redis's verifyDumpPayload: the body before the footer and the RDB
/// version the footer names, once the version and the CRC64 check out.
fn verify_footer(payload: &[u8], verify_crc: bool) -> Result<(&[u8], u16), Error> {
    let body_len = payload.len().checked_sub(10).ok_or(Error::BadDumpPayload)?;
    let (body, footer) = payload.split_at(body_len);
    let (ver, crc) = footer.split_at(2);
    let version = u16::from_le_bytes([
        ver.first().copied().unwrap_or(0),
        ver.get(1).copied().unwrap_or(0),
    ]);
    if u32::from(version) > MAX_VERSION {
        return Err(Error::BadDumpPayload);
    }
    if !verify_crc {
        return Ok((body, version));
    }
    let mut stored = [0u8; 8];
    stored.copy_from_slice(crc);
    let covered = payload.get(..body_len + 2).unwrap_or(&[]);
    if crc64::crc64(0, covered) != u64::from_le_bytes(stored) {
        return Err(Error::BadDumpPayload);
    }
    Ok((body, version))
}

/// FUNCTION DUMP's payload: each library as a `FUNCTION2` record, then the
/// footer of a DUMP payload (`rdb_version`, CRC64).
pub fn dump_functions<'a>(codes: impl IntoIterator<Item = &'a [u8]>, rdb_version: u16) -> Vec<u8> {
    let opts = WriteOptions {
        version: u32::from(rdb_version),
        checksum: false,
        ..WriteOptions::default()
    };
    let mut w = Writer::raw(Vec::new(), opts);
    for code in codes {
        // Writing to a Vec cannot fail.
        let _ = w.function(code);
    }
    let mut out = w.into_inner();
    out.extend_from_slice(&rdb_version.to_le_bytes());
    let crc = crc64::crc64(0, &out);
    out.extend_from_slice(&crc.to_le_bytes());
    out
}

/// Why a FUNCTION RESTORE payload was refused, with Redis's texts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FunctionsPayloadError {
    /// The footer's version or checksum is wrong.
    BadFooter,
    /// A record is not a function ("given type is not a function").
    NotAFunction,
    /// A record could not be read.
    Unreadable(String),
}

impl std::fmt::Display for FunctionsPayloadError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::BadFooter => f.write_str("DUMP payload version or checksum are wrong"),
            Self::NotAFunction => f.write_str("given type is not a function"),
            Self::Unreadable(_) => f.write_str("can not read data type"),
        }
    }
}

/// The library payloads of a FUNCTION DUMP payload (`FUNCTION2` records,
/// and the `FUNCTION` records of 7.0 release candidates, rewritten with
/// their shebang line as Redis does).
pub fn restore_functions(payload: &[u8]) -> Result<Vec<Vec<u8>>, FunctionsPayloadError> {
    let (body, version) =
        verify_footer(payload, true).map_err(|_| FunctionsPayloadError::BadFooter)?;
    let mut r = crate::Reader::fragment(body, u32::from(version));
    let mut out = Vec::new();
    while r.offset() < body.len() as u64 {
        match r.next_function() {
            Ok(Some(p)) => out.push(p),
            Ok(None) => return Err(FunctionsPayloadError::NotAFunction),
            Err(e) => return Err(FunctionsPayloadError::Unreadable(e.to_string())),
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn b(s: &str) -> Vec<u8> {
        s.as_bytes().to_vec()
    }

    #[test]
    fn byte_identical_to_redis_7_0_dump() {
        // `redis-cli --raw DUMP` output from Redis 7.0.15 after SET k hello,
        // RPUSH l a b 1, HSET h f v n 5, ZADD z 1.5 a 2 b, SADD s 3 1 2.
        let cases: Vec<(Value, &[u8])> = vec![
            (
                Value::String(b("hello")),
                b"\x00\x05hello\x0a\x00\x63\x72\xdf\x76\x65\x34\x20\x0a",
            ),
            (
                Value::List(vec![b("a"), b("b"), b("1")]),
                b"\x12\x01\x02\x0f\x0f\x00\x00\x00\x03\x00\x81a\x02\x81b\x02\x01\x01\xff\
                  \x0a\x00\xe0\x1b\xab\x4a\x47\xce\x59\x22",
            ),
            (
                Value::Hash(vec![(b("f"), b("v")), (b("n"), b("5"))]),
                b"\x10\x12\x12\x00\x00\x00\x04\x00\x81f\x02\x81v\x02\x81n\x02\x05\x01\xff\
                  \x0a\x00\x84\x90\x93\x9f\x57\xb4\xf3\xc2",
            ),
            (
                Value::ZSet(vec![(b("b"), 2.0), (b("a"), 1.5)]),
                b"\x11\x14\x14\x00\x00\x00\x04\x00\x81a\x02\x831.5\x04\x81b\x02\x02\x01\xff\
                  \x0a\x00\xfa\x02\xb4\x25\xaf\x18\x87\x63",
            ),
            (
                Value::Set(vec![b("3"), b("1"), b("2")]),
                b"\x0b\x0e\x02\x00\x00\x00\x03\x00\x00\x00\x01\x00\x02\x00\x03\x00\
                  \x0a\x00\xa5\x02\x5c\xe2\x6d\x6e\x4d\x1b",
            ),
        ];
        for (value, redis) in cases {
            assert_eq!(dump_payload(&value, 10), redis.to_vec(), "{value:?}");
            let back = restore_payload(redis).unwrap();
            match (&back, &value) {
                (Value::Set(_), _) => assert_eq!(back, Value::Set(vec![b("1"), b("2"), b("3")])),
                (Value::ZSet(_), _) => {
                    assert_eq!(back, Value::ZSet(vec![(b("a"), 1.5), (b("b"), 2.0)]))
                }
                _ => assert_eq!(back, value),
            }
        }
    }

    #[test]
    fn bad_footers() {
        let mut p = dump_payload(&Value::String(b"x".to_vec()), 10);
        assert!(restore_payload(&p).is_ok());
        assert!(matches!(
            restore_payload(&p[..9]),
            Err(Error::BadDumpPayload)
        ));
        let n = p.len();
        p[n - 1] ^= 1;
        assert!(matches!(restore_payload(&p), Err(Error::BadDumpPayload)));
        let p13 = dump_payload(&Value::String(b"x".to_vec()), 13);
        assert!(matches!(restore_payload(&p13), Err(Error::BadDumpPayload)));
    }
}
