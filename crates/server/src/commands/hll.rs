//! HyperLogLog commands (Redis's hyperloglog.c): PFADD, PFCOUNT, PFMERGE,
//! PFDEBUG, PFSELFTEST. Values are strings in Redis's exact HLL layout
//! (`types::hll`), so they travel through RDB and replication unchanged.

use super::CommandSpec;

/// The hll commands.
pub static COMMANDS: &[CommandSpec] = &[];
