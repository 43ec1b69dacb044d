//! A file that reads fully, written again key by key with `rdb::Writer`,
//! reads back as the same records.

#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    relica_fuzz::rdb_oracle::roundtrip(data);
});
