//! relica: a Redis-compatible data server built around Redis replication.
//!
//! The binary (`main.rs`) is a thin shell around this library; the modules
//! follow the plan in STYLE.md ("Layout"). Pure data structures live in
//! `types`, the keyspace in `keyspace`, command handlers in `commands`, and
//! everything behind the one lock in `engine`.

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

pub mod alloc;
pub mod blocking;
pub mod client;
pub mod clients;
pub mod clock;
pub mod commands;
pub mod config;
pub mod conn;
pub mod engine;
pub mod error;
pub mod info;
pub mod keyspace;
pub mod log;
pub mod persist;
pub mod pubsub;
pub mod repl;
pub mod server;
pub mod stats;
pub mod types;
pub mod util;
