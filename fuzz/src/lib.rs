//! The checks behind the fuzz targets in `fuzz_targets/`, one function per
//! target, so that they can be called from elsewhere too:
//! `crates/rdb/tests/fuzz_smoke.rs` compiles [`rdb_oracle`] into the rdb
//! crate's tests and runs it on mutated fixtures with stable Rust, which
//! keeps it building and exercised in CI even though this crate is not.

pub mod rdb_oracle;
pub mod resp_oracle;
