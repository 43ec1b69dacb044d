//! Small pure helpers that several command families share.
//!
//! Redis clients see the exact text of numbers and the exact behaviour of
//! glob patterns, so both live here once, written against Redis 7.0's
//! `util.c` rules rather than Rust's own conventions:
//! - [`num`]: `string2ll`/`string2d` parsing and `%.17g`-style formatting;
//! - [`glob`]: `stringmatchlen`, used by KEYS, SCAN MATCH and PSUBSCRIBE;
//! - [`prefetch`]: a cache hint for walks over the keyspace;
//! - [`park`]: a short spin before a busy runtime thread sleeps;
//! - [`chunks`]: a byte queue that grows by chunks, not by reallocation;
//! - [`collate`]: `strcoll` under the environment's `LC_COLLATE`, as Redis;
//! - [`pqsort`]: Redis's partial quicksort, for SORT ... BY ... LIMIT;
//! - [`repr`]: `sdscatrepr`'s quoting, for MONITOR and command-line options.

pub mod chunks;
pub mod collate;
pub mod glob;
pub mod ldouble;
pub mod num;
pub mod oom;
pub mod park;
pub mod pqsort;
pub mod prefetch;

/// Append `s` quoted as Redis's `sdscatrepr` quotes it: `"..."` with `\\`,
/// `\"`, `\n`, `\r`, `\t`, `\a`, `\b` and `\xHH` for other unprintable
/// bytes.
pub fn repr(out: &mut Vec<u8>, s: &[u8]) {
    out.push(b'"');
    for &b in s {
        match b {
            b'\\' => out.extend_from_slice(b"\\\\"),
            b'"' => out.extend_from_slice(b"\\\""),
            b'\n' => out.extend_from_slice(b"\\n"),
            b'\r' => out.extend_from_slice(b"\\r"),
            b'\t' => out.extend_from_slice(b"\\t"),
            0x07 => out.extend_from_slice(b"\\a"),
            0x08 => out.extend_from_slice(b"\\b"),
            b if b.is_ascii_graphic() || b == b' ' => out.push(b),
            b => out.extend_from_slice(format!("\\x{b:02x}").as_bytes()),
        }
    }
    out.push(b'"');
}
