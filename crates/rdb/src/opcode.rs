//! The numbers of the format: value types and record opcodes, as in
//! Redis's `rdb.h` (which keeps them fixed on disk while in-memory
//! encodings change).
//!
//! A record starts with one byte: either a value type (0–25), and then a
//! key and a value follow, or an opcode (244–255) for everything else.

/// Plain string (with its own string encodings: length-prefixed, integer,
/// LZF).
pub const TYPE_STRING: u8 = 0;
/// List as a count and that many strings.
pub const TYPE_LIST: u8 = 1;
/// Set as a count and that many strings.
pub const TYPE_SET: u8 = 2;
/// Sorted set with scores as length-prefixed ASCII (253/254/255 = nan,
/// +inf, -inf).
pub const TYPE_ZSET: u8 = 3;
/// Hash as a count and that many field/value pairs.
pub const TYPE_HASH: u8 = 4;
/// Sorted set with scores as little-endian binary doubles (RDB ≥ 8).
pub const TYPE_ZSET_2: u8 = 5;
/// Module value from Redis 4.0 release candidates.
pub const TYPE_MODULE_PRE_GA: u8 = 6;
/// Module value with self-describing opcodes.
pub const TYPE_MODULE_2: u8 = 7;
/// Hash as a zipmap blob (Redis ≤ 2.4).
pub const TYPE_HASH_ZIPMAP: u8 = 9;
/// List as a single ziplist blob (Redis ≤ 3.0).
pub const TYPE_LIST_ZIPLIST: u8 = 10;
/// Set of integers as an intset blob.
pub const TYPE_SET_INTSET: u8 = 11;
/// Sorted set as a ziplist blob of member/score pairs.
pub const TYPE_ZSET_ZIPLIST: u8 = 12;
/// Hash as a ziplist blob of field/value pairs.
pub const TYPE_HASH_ZIPLIST: u8 = 13;
/// List as a count of ziplist nodes (Redis 3.2–6.2).
pub const TYPE_LIST_QUICKLIST: u8 = 14;
/// Stream (Redis 5–6.2).
pub const TYPE_STREAM_LISTPACKS: u8 = 15;
/// Hash as a listpack blob (Redis 7.0).
pub const TYPE_HASH_LISTPACK: u8 = 16;
/// Sorted set as a listpack blob (Redis 7.0).
pub const TYPE_ZSET_LISTPACK: u8 = 17;
/// List as a count of nodes, each a container tag then a listpack (packed)
/// or a single element (plain) (Redis 7.0).
pub const TYPE_LIST_QUICKLIST_2: u8 = 18;
/// Stream (Redis 7.0).
pub const TYPE_STREAM_LISTPACKS_2: u8 = 19;
/// Set as a listpack blob (Redis 7.2).
pub const TYPE_SET_LISTPACK: u8 = 20;
/// Stream (Redis 7.2).
pub const TYPE_STREAM_LISTPACKS_3: u8 = 21;
/// Hash with field expiration, hash table (7.4 release candidates).
pub const TYPE_HASH_METADATA_PRE_GA: u8 = 22;
/// Hash with field expiration, listpack (7.4 release candidates).
pub const TYPE_HASH_LISTPACK_EX_PRE_GA: u8 = 23;
/// Hash with field expiration, hash table (Redis 7.4).
pub const TYPE_HASH_METADATA: u8 = 24;
/// Hash with field expiration, listpack (Redis 7.4).
pub const TYPE_HASH_LISTPACK_EX: u8 = 25;

/// Per-slot sizes in cluster mode (Redis 7.4).
pub const OP_SLOT_INFO: u8 = 244;
/// Function library code (Redis 7.0).
pub const OP_FUNCTION2: u8 = 245;
/// Function library in the format of 7.0 release candidates.
pub const OP_FUNCTION_PRE_GA: u8 = 246;
/// Module auxiliary data.
pub const OP_MODULE_AUX: u8 = 247;
/// LRU idle time of the next key, in seconds.
pub const OP_IDLE: u8 = 248;
/// LFU frequency of the next key.
pub const OP_FREQ: u8 = 249;
/// Auxiliary field: two strings.
pub const OP_AUX: u8 = 250;
/// Sizes hint for the current database.
pub const OP_RESIZEDB: u8 = 251;
/// Expire time of the next key, milliseconds since the epoch.
pub const OP_EXPIRETIME_MS: u8 = 252;
/// Expire time of the next key, seconds since the epoch (RDB < 3).
pub const OP_EXPIRETIME: u8 = 253;
/// Database number of the keys that follow.
pub const OP_SELECTDB: u8 = 254;
/// End of the data; the 8-byte checksum follows (RDB ≥ 5).
pub const OP_EOF: u8 = 255;

/// Module value opcodes (`RDB_MODULE_OPCODE_*`), which let a reader skip
/// module data it cannot interpret.
pub(crate) mod module {
    pub(crate) const EOF: u64 = 0;
    pub(crate) const SINT: u64 = 1;
    pub(crate) const UINT: u64 = 2;
    pub(crate) const FLOAT: u64 = 3;
    pub(crate) const DOUBLE: u64 = 4;
    pub(crate) const STRING: u64 = 5;
}

/// Quicklist 2 node containers.
pub(crate) const QUICKLIST_NODE_PLAIN: u64 = 1;
pub(crate) const QUICKLIST_NODE_PACKED: u64 = 2;

/// Names a value type as `redis-check-rdb` does (`"hash-listpack"`,
/// `"quicklist-v2"`…), or an opcode by its name; `"unknown"` otherwise.
pub fn describe_type(type_byte: u8) -> &'static str {
    match type_byte {
        TYPE_STRING => "string",
        TYPE_LIST => "list-linked",
        TYPE_SET => "set-hashtable",
        TYPE_ZSET => "zset-v1",
        TYPE_HASH => "hash-hashtable",
        TYPE_ZSET_2 => "zset-v2",
        TYPE_MODULE_PRE_GA => "module-pre-release",
        TYPE_MODULE_2 => "module-value",
        TYPE_HASH_ZIPMAP => "hash-zipmap",
        TYPE_LIST_ZIPLIST => "list-ziplist",
        TYPE_SET_INTSET => "set-intset",
        TYPE_ZSET_ZIPLIST => "zset-ziplist",
        TYPE_HASH_ZIPLIST => "hash-ziplist",
        TYPE_LIST_QUICKLIST => "quicklist",
        TYPE_STREAM_LISTPACKS => "stream",
        TYPE_HASH_LISTPACK => "hash-listpack",
        TYPE_ZSET_LISTPACK => "zset-listpack",
        TYPE_LIST_QUICKLIST_2 => "quicklist-v2",
        TYPE_STREAM_LISTPACKS_2 => "stream-v2",
        TYPE_SET_LISTPACK => "set-listpack",
        TYPE_STREAM_LISTPACKS_3 => "stream-v3",
        TYPE_HASH_METADATA_PRE_GA => "hash-hashtable-md-pre-release",
        TYPE_HASH_LISTPACK_EX_PRE_GA => "hash-listpack-md-pre-release",
        TYPE_HASH_METADATA => "hash-hashtable-md",
        TYPE_HASH_LISTPACK_EX => "hash-listpack-md",
        OP_SLOT_INFO => "opcode-slot-info",
        OP_FUNCTION2 => "opcode-function2",
        OP_FUNCTION_PRE_GA => "opcode-function-pre-release",
        OP_MODULE_AUX => "opcode-module-aux",
        OP_IDLE => "opcode-idle",
        OP_FREQ => "opcode-freq",
        OP_AUX => "opcode-aux",
        OP_RESIZEDB => "opcode-resizedb",
        OP_EXPIRETIME_MS => "opcode-expiretime-ms",
        OP_EXPIRETIME => "opcode-expiretime",
        OP_SELECTDB => "opcode-selectdb",
        OP_EOF => "opcode-eof",
        _ => "unknown",
    }
}
