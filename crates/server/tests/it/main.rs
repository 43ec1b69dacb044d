//! One integration-test binary (ripgrep's `autotests = false` layout): each
//! module starts real `relica-server` processes on free loopback ports.

mod util;

mod bits_hll;
mod core;
mod protocol;
mod strings_keys;
