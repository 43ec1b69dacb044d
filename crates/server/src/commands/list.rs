//! List commands (Redis's t_list.c "List commands" half), including the
//! blocking ones, which park the client through `crate::blocking`.

use super::CommandSpec;

/// The list commands.
pub static COMMANDS: &[CommandSpec] = &[];
