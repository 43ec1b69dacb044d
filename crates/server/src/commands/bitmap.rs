//! Bitmap commands over string values (Redis's bitops.c): SETBIT, GETBIT,
//! BITCOUNT, BITPOS, BITOP, BITFIELD, BITFIELD_RO. The bit arithmetic lives in
//! `types::bitops`.

use super::CommandSpec;

/// The bitmap commands.
pub static COMMANDS: &[CommandSpec] = &[];
