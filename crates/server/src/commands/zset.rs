//! Sorted set commands (Redis's t_zset.c command half), including
//! BZPOPMIN/BZPOPMAX/BZMPOP through `crate::blocking`.

use super::CommandSpec;

/// The zset commands.
pub static COMMANDS: &[CommandSpec] = &[];
