//! Integration tests of the rdb crate, in one binary: files written by a
//! real Redis, round trips through our writer and reader, corrupted input,
//! the checks of the fuzz targets, interoperability with a real
//! `redis-server`, and the `relica-rdb` tool.

mod common;
mod corruption;
mod fixtures;
mod fuzz_smoke;
mod interop;
mod roundtrip;
mod tool;

/// The fuzz targets' checks (the `fuzz/` crate is outside the workspace;
/// compiling its rdb checks here keeps them building on stable Rust).
#[path = "../../../fuzz/src/rdb_oracle.rs"]
mod rdb_oracle;
