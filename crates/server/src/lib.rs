//! relica: a Redis-compatible data server built around Redis replication.
//!
//! The binary (`main.rs`) is a thin shell around this library. The modules
//! are layered (docs/DESIGN.md, "Layers"): connections (`server`, `conn`,
//! `link`) → dispatch (`commands::dispatch`, `blocking`) → command families
//! (`commands`) → the engine (`engine`, one lock) and its subsystems
//! (`keyspace`, `clients`, `pubsub`, `tracking`, `repl`, `persist`, `acl`,
//! `stats`) → data
//! types (`types`, `util`, `config`). `tests/it/layers.rs` keeps it so.

// Style lints that fight Redis-shaped code (parity checks on argument
// counts, DEBUG PROTOCOL's literal 3.141); correctness lints stay on.
#![allow(
    clippy::manual_is_multiple_of,
    clippy::approx_constant,
    clippy::collapsible_if,
    clippy::type_complexity,
    clippy::needless_range_loop,
    clippy::nonminimal_bool,
    clippy::unnecessary_to_owned
)]

/// The Redis version whose behaviour we follow, reported as redis_version
/// (INFO, HELLO, LOLWUT) and written as the RDB's `redis-ver`.
pub const REDIS_VERSION: &str = "7.0.15";

pub mod acl;
pub mod alloc;
pub mod blocking;
pub mod client;
pub mod clients;
pub mod clock;
pub mod commands;
pub mod config;
pub mod conn;
pub mod crash;
pub mod engine;
pub mod error;
pub mod info;
pub mod keyspace;
pub mod latency;
pub mod link;
pub mod log;
pub mod migrate;
pub mod persist;
pub mod pubsub;
pub mod repl;
pub mod script;
pub mod server;
pub mod slowlog;
pub mod stats;
pub mod tls;
pub mod tracking;
pub mod types;
pub mod util;
pub mod watchdog;
