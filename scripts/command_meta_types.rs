/// Key spec flags (Redis's CMD_KEY_*).
pub mod ks {
    #![allow(missing_docs)]
    pub const RO: u32 = 1 << 0;
    pub const RW: u32 = 1 << 1;
    pub const OW: u32 = 1 << 2;
    pub const RM: u32 = 1 << 3;
    pub const ACCESS: u32 = 1 << 4;
    pub const UPDATE: u32 = 1 << 5;
    pub const INSERT: u32 = 1 << 6;
    pub const DELETE: u32 = 1 << 7;
    pub const NOT_KEY: u32 = 1 << 8;
    pub const INCOMPLETE: u32 = 1 << 9;
    pub const VARIABLE_FLAGS: u32 = 1 << 10;
}

/// Where a key spec starts looking.
#[derive(Debug, Clone, Copy)]
pub enum Begin {
    /// At an argument.
    Index(i32),
    /// After a keyword, searched from `startfrom` (negative: from the end).
    Keyword(&'static str, i32),
    /// Only the command's key finder knows.
    Unknown,
}

/// How a key spec finds its keys from where it begins.
#[derive(Debug, Clone, Copy)]
pub enum Find {
    /// `lastkey`, `step`, `limit`.
    Range(i32, i32, i32),
    /// `keynumidx`, `firstkey`, `step`.
    Keynum(i32, i32, i32),
    /// Only the command's key finder knows.
    Unknown,
}

/// One key spec.
#[derive(Debug, Clone, Copy)]
pub struct KeySpec {
    /// Its notes, as COMMAND INFO shows them ("" for none).
    pub notes: &'static str,
    /// `ks::*`.
    pub flags: u32,
    /// Where the search begins.
    pub begin: Begin,
    /// How keys are found.
    pub find: Find,
}

