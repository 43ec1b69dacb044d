//! RESP, the Redis wire protocol, for relica: requests in, replies out.
//!
//! This crate knows bytes and nothing about commands, so the server's
//! connection code, the replica side of replication, the config parser and
//! the fuzzers can all share it, and it can be tested on its own. It follows
//! Redis 7.0's `networking.c` closely, error texts included, because clients
//! and Redis's own test suite notice every difference.
//!
//! - [`decode`]: client → server. [`RequestDecoder`] turns a read buffer
//!   into argument vectors, resumably and without copying.
//! - [`inline`]: [`split_args`], Redis's `sdssplitargs`, for inline requests
//!   and `redis.conf` lines.
//! - [`encode`]: server → client. One function per reply type, RESP2 or
//!   RESP3 as the connection chose.
//! - [`frame`]: any RESP2/RESP3 value, decoded and encoded; for the replica
//!   reading its master and for tests.
//! - [`error`]: [`ProtocolError`] (Redis's exact texts) and [`FrameError`].
//! - [`num`]: Redis's strict integer parsing, and allocation-free writing.
//!
//! Input is untrusted: no code path panics on it (`unwrap` and indexing are
//! denied below) and no allocation is sized by a length read off the wire.

#![deny(clippy::unwrap_used, clippy::indexing_slicing)]
#![warn(missing_docs, unreachable_pub)]

pub mod decode;
pub mod encode;
pub mod error;
pub mod frame;
pub mod inline;
pub mod num;

pub use decode::{Limits, RequestDecoder};
pub use encode::Proto;
pub use error::{FrameError, ProtocolError};
pub use frame::{decode_frame, encode_frame, Frame};
pub use inline::split_args;
