//! Set commands (Redis's t_set.c "Set commands" half).

use super::CommandSpec;

/// The set commands.
pub static COMMANDS: &[CommandSpec] = &[];
