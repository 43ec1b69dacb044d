//! Integration tests of the rdb crate, in one binary: files written by a
//! real Redis, round trips through our writer and reader, corrupted input,
//! and interoperability with a real `redis-server`.

mod common;
mod corruption;
mod fixtures;
mod interop;
mod roundtrip;
