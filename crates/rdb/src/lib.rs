//! Reading and writing Redis RDB files (versions 1–12, Redis 2.x–7.4) and
//! DUMP/RESTORE payloads.
//!
//! * [`Reader`] streams [`Record`]s out of any [`std::io::Read`]: aux
//!   fields, database selectors, keys with their [`Value`] and metadata,
//!   function libraries, and the end marker with its checksum verdict.
//!   Every encoding Redis ever wrote for strings, lists, sets, hashes and
//!   sorted sets is decoded and validated; streams, module values and
//!   hashes with field expiration are refused with an error naming the key.
//! * [`Writer`] streams a file out of borrowed data in the encodings Redis
//!   7.0 writes (RDB version 10 by default), so that `redis-server` loads
//!   it and the file is about the size Redis's own would be.
//! * [`dump_payload`] and [`restore_payload`] are `DUMP` and `RESTORE`'s
//!   serialization.
//!
//! The crate is pure: bytes in, records out. What a record means for a
//! server (skip empty keys, drop expired ones, refuse duplicates) is the
//! loader's decision, as it is in Redis's `rdbLoadRio`.
//!
//! ```
//! # fn main() -> Result<(), rdb::Error> {
//! use rdb::{Reader, Record, Value, WriteOptions, Writer};
//!
//! let mut w = Writer::new(Vec::new(), WriteOptions::default())?;
//! w.aux(b"redis-ver", b"7.0.15")?;
//! w.select_db(0)?;
//! let items: Vec<&[u8]> = vec![b"a", b"b", b"c"];
//! w.list(b"letters", items.len(), items.iter().copied(), Some(1_700_000_000_000))?;
//! let file = w.finish()?;
//!
//! let mut r = Reader::new(&file[..])?;
//! let mut keys = Vec::new();
//! while let Some(rec) = r.next_record()? {
//!     match rec {
//!         Record::Key(k) => keys.push((k.key, k.value, k.expire_ms)),
//!         Record::Eof { checksum_ok } => assert!(checksum_ok),
//!         _ => {}
//!     }
//! }
//! assert_eq!(keys, vec![(
//!     b"letters".to_vec(),
//!     Value::List(vec![b"a".to_vec(), b"b".to_vec(), b"c".to_vec()]),
//!     Some(1_700_000_000_000),
//! )]);
//! # Ok(()) }
//! ```

#![deny(clippy::unwrap_used, clippy::indexing_slicing)]
#![warn(missing_docs, unreachable_pub)]

pub mod crc64;
mod dump;
mod encoding;
mod error;
pub mod lzf;
pub mod opcode;
mod reader;
mod writer;

pub use dump::{
    dump_functions, dump_payload, restore_functions, restore_payload, restore_payload_checked,
    restore_payload_typed, FunctionsPayloadError,
};
pub use error::{Context, Error};
pub use opcode::describe_type;
pub use reader::{module_name, Reader, MAX_VERSION};
pub use writer::{WriteOptions, Writer, MIN_WRITE_VERSION};

/// The logical content of a key, independent of how it was encoded.
///
/// Elements keep the order they had in the file (for sets and hashes that
/// order means nothing; for sorted sets, listpack-encoded ones are sorted
/// by score, others are in whatever order the writer chose). Integers
/// stored in compact encodings come back as their decimal text, exactly as
/// Redis would return them.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// A string.
    String(Vec<u8>),
    /// A list, head first.
    List(Vec<Vec<u8>>),
    /// A set's members.
    Set(Vec<Vec<u8>>),
    /// A hash's field/value pairs.
    Hash(Vec<(Vec<u8>, Vec<u8>)>),
    /// A sorted set's member/score pairs (never NaN).
    ZSet(Vec<(Vec<u8>, f64)>),
    /// A stream, its nodes as Redis keeps them.
    Stream(Box<Stream>),
}

/// A stream ID as (ms, seq).
pub type StreamId = (u64, u64);

/// A stream as RDB holds it: Redis's radix-tree nodes (master ID and the
/// node listpack's elements, integers as decimal text), the metadata, and
/// the consumer groups.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Stream {
    /// Nodes in order: master ID and the node's listpack elements.
    pub nodes: Vec<(StreamId, Vec<Vec<u8>>)>,
    /// Live entries.
    pub length: u64,
    /// Last ID.
    pub last_id: StreamId,
    /// First live ID (computed from the nodes for type 15 files).
    pub first_id: StreamId,
    /// Largest deleted ID (0-0 for type 15 files).
    pub max_deleted_id: StreamId,
    /// Entries ever added (the length for type 15 files).
    pub entries_added: u64,
    /// Consumer groups, in name order.
    pub groups: Vec<StreamGroup>,
}

/// A consumer group of a [`Stream`].
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct StreamGroup {
    /// Name.
    pub name: Vec<u8>,
    /// Last delivered ID.
    pub last_id: StreamId,
    /// Logical read counter; `None` for type 15 files (the loader
    /// estimates it as Redis does).
    pub entries_read: Option<i64>,
    /// Pending entries: ID, delivery time (ms), delivery count.
    pub pel: Vec<(StreamId, i64, u64)>,
    /// Consumers, in name order.
    pub consumers: Vec<StreamConsumer>,
}

/// A consumer of a [`StreamGroup`].
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct StreamConsumer {
    /// Name.
    pub name: Vec<u8>,
    /// Last seen time (ms).
    pub seen_time: i64,
    /// The IDs it owns in the group's PEL.
    pub pel: Vec<StreamId>,
}

/// One key read from a file, with its metadata.
#[derive(Debug, Clone, PartialEq)]
pub struct KeyRecord {
    /// The database, from the last SELECTDB (0 before any).
    pub db: u64,
    /// The key's name.
    pub key: Vec<u8>,
    /// Its content. Collections may be empty: Redis skips such keys on
    /// load ("empty keys skipped"), and so should a server.
    pub value: Value,
    /// Absolute expire time in Unix milliseconds, if any (may be in the
    /// past: a master drops such keys on load, a replica keeps them).
    pub expire_ms: Option<i64>,
    /// LRU idle time in seconds (`maxmemory-policy` with LRU).
    pub lru_idle: Option<u64>,
    /// LFU logarithmic frequency (`maxmemory-policy` with LFU).
    pub lfu_freq: Option<u8>,
    /// The RDB type byte the value was stored with (see [`describe_type`]).
    pub type_byte: u8,
}

/// One record of an RDB file.
#[derive(Debug, Clone, PartialEq)]
pub enum Record {
    /// An auxiliary field (`redis-ver`, `ctime`, `repl-id`, `lua`…).
    /// Integer-encoded values come back as decimal text.
    Aux {
        /// Field name.
        key: Vec<u8>,
        /// Field value.
        value: Vec<u8>,
    },
    /// The following keys belong to this database.
    SelectDb(u64),
    /// Hint: how many keys, and keys with an expire, the current database
    /// holds.
    ResizeDb {
        /// Number of keys.
        db_size: u64,
        /// Number of keys with an expire.
        expires_size: u64,
    },
    /// Cluster-mode per-slot sizes hint (Redis 7.4).
    SlotInfo {
        /// Slot number.
        slot_id: u64,
        /// Keys in the slot.
        slot_size: u64,
        /// Keys with an expire in the slot.
        expires_slot_size: u64,
    },
    /// A key and its value.
    Key(KeyRecord),
    /// Module auxiliary data; its payload was skipped (it can only be
    /// interpreted by the module).
    ModuleAux {
        /// The module type id (name and encoding version).
        module_id: u64,
        /// The 9-character module type name from the id.
        module_name: String,
        /// When it was saved: 1 = before keys, 2 = after keys.
        when: u64,
    },
    /// A function library: its code, starting with `#!<engine> name=<lib>`
    /// (libraries in the 7.0 release-candidate format are converted to
    /// this form, as Redis does).
    Function {
        /// The library code.
        payload: Vec<u8>,
    },
    /// The end of the data. `checksum_ok` is true when a checksum was
    /// stored and matched; false when there is none (RDB < 5, or 0 stored
    /// by `rdbchecksum no`) or, with
    /// [`Reader::set_verify_checksum`]`(false)`, when it did not match.
    /// By default a mismatch is [`Error::ChecksumMismatch`] instead.
    Eof {
        /// Whether the stored checksum was verified.
        checksum_ok: bool,
    },
}
