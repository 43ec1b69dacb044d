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
//! - [`pqsort`]: Redis's partial quicksort, for SORT ... BY ... LIMIT.

pub mod chunks;
pub mod collate;
pub mod glob;
pub mod ldouble;
pub mod num;
pub mod park;
pub mod pqsort;
pub mod prefetch;
