//! Arbitrary bytes as an RDB file (read to the end or the first error) and
//! as a RESTORE payload: never a panic, a hang or a runaway allocation.
//! The spirit of Redis's `tests/integration/corrupt-dump-fuzzer.tcl`.

#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    relica_fuzz::rdb_oracle::load(data);
    relica_fuzz::rdb_oracle::restore(data);
});
