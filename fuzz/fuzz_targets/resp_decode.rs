//! Arbitrary bytes through the request decoder (whole and in pieces) and
//! the frame decoder, with decoded frames re-encoded and decoded again.

#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    relica_fuzz::resp_oracle::decode(data);
});
