//! One integration-test binary (ripgrep's `autotests = false` layout): each
//! module starts real `relica-server` processes on free loopback ports.

mod util;

mod acl;
mod aof;
mod bits_hll;
mod command_docs;
mod core;
mod corrupt;
mod diag;
mod geo;
mod hashes_sets;
mod hashes_sets_ext;
mod incrfloat;
mod layers;
mod lists;
mod maxmemory;
mod persistence;
mod protocol;
mod repl_exact;
mod replica;
mod replication;
mod scripting;
mod sentinel;
mod sort;
mod streams;
mod strings_keys;
mod tls;
mod tracking;
mod tx_pubsub;
mod zsets;
