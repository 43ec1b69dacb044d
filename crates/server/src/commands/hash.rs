//! Hash commands (Redis's t_hash.c "Hash type commands" half).

use super::CommandSpec;

/// The hash commands.
pub static COMMANDS: &[CommandSpec] = &[];
