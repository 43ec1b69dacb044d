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

/// Documentation flags (Redis's CMD_DOC_*), in COMMAND DOCS's order.
pub mod doc {
    /// The command is deprecated.
    pub const DEPRECATED: u8 = 1 << 0;
    /// A system command, not meant for users.
    pub const SYSCMD: u8 = 1 << 1;
    /// Names for COMMAND DOCS.
    pub const NAMES: &[(u8, &str)] = &[(DEPRECATED, "deprecated"), (SYSCMD, "syscmd")];
}

/// Argument flags (Redis's CMD_ARG_*), in COMMAND DOCS's order.
pub mod argf {
    /// The argument may be left out.
    pub const OPTIONAL: u8 = 1 << 0;
    /// The argument may repeat.
    pub const MULTIPLE: u8 = 1 << 1;
    /// Each repetition repeats the token too.
    pub const MULTIPLE_TOKEN: u8 = 1 << 2;
    /// Names for COMMAND DOCS.
    pub const NAMES: &[(u8, &str)] = &[
        (OPTIONAL, "optional"),
        (MULTIPLE, "multiple"),
        (MULTIPLE_TOKEN, "multiple_token"),
    ];
}

/// An argument's type (Redis's redisCommandArgType).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ArgType {
    /// `string`.
    String,
    /// `integer`.
    Integer,
    /// `double`.
    Double,
    /// `key`.
    Key,
    /// `pattern`.
    Pattern,
    /// `unix-time`.
    UnixTime,
    /// `pure-token`.
    PureToken,
    /// `oneof`: one of its arguments.
    Oneof,
    /// `block`: all of its arguments.
    Block,
}

impl ArgType {
    /// The name COMMAND DOCS shows.
    pub fn name(self) -> &'static str {
        match self {
            ArgType::String => "string",
            ArgType::Integer => "integer",
            ArgType::Double => "double",
            ArgType::Key => "key",
            ArgType::Pattern => "pattern",
            ArgType::UnixTime => "unix-time",
            ArgType::PureToken => "pure-token",
            ArgType::Oneof => "oneof",
            ArgType::Block => "block",
        }
    }
}

/// One argument of a command, as COMMAND DOCS describes it (Redis's
/// redisCommandArg). None is Redis's NULL: the field is left out.
#[derive(Debug, Clone, Copy)]
pub struct Arg {
    /// Lower-case name.
    pub name: &'static str,
    /// Its type.
    pub kind: ArgType,
    /// The key spec it is a key of (-1 for none).
    pub key_spec_index: i32,
    /// The token before it, upper-case.
    pub token: Option<&'static str>,
    /// One-line summary.
    pub summary: Option<&'static str>,
    /// Version that introduced it.
    pub since: Option<&'static str>,
    /// Version that deprecated it.
    pub deprecated_since: Option<&'static str>,
    /// `argf::*`.
    pub flags: u8,
    /// The arguments of a `oneof` or `block`.
    pub args: &'static [Arg],
}

/// Build an [`Arg`] (keeps the generated table short).
#[allow(clippy::too_many_arguments)]
const fn arg(
    name: &'static str,
    kind: ArgType,
    key_spec_index: i32,
    token: Option<&'static str>,
    summary: Option<&'static str>,
    since: Option<&'static str>,
    deprecated_since: Option<&'static str>,
    flags: u8,
    args: &'static [Arg],
) -> Arg {
    Arg {
        name,
        kind,
        key_spec_index,
        token,
        summary,
        since,
        deprecated_since,
        flags,
        args,
    }
}

/// A command's documentation (COMMAND DOCS) and tips (COMMAND INFO).
/// None is Redis's NULL: the field is left out.
#[derive(Debug, Clone, Copy)]
pub struct Docs {
    /// One-line summary.
    pub summary: Option<&'static str>,
    /// Time complexity.
    pub complexity: Option<&'static str>,
    /// Version that introduced it.
    pub since: Option<&'static str>,
    /// Documentation group (`sorted-set`, …); a subcommand's is its
    /// container's.
    pub group: &'static str,
    /// `doc::*`.
    pub doc_flags: u8,
    /// Version that deprecated it.
    pub deprecated_since: Option<&'static str>,
    /// What replaces a deprecated command.
    pub replaced_by: Option<&'static str>,
    /// (version, change) pairs.
    pub history: &'static [(&'static str, &'static str)],
    /// Command tips, lower-case.
    pub tips: &'static [&'static str],
    /// Its arguments.
    pub args: &'static [Arg],
}

/// Everything Redis 7.0 defines about one command or subcommand.
#[derive(Debug, Clone, Copy)]
pub struct Meta {
    /// Full name (`get`, `config|get`).
    pub name: &'static str,
    /// Explicit ACL categories (`cat::*`).
    pub acl: u64,
    /// Key specs.
    pub key_specs: &'static [KeySpec],
    /// Documentation and tips.
    pub docs: Docs,
}
