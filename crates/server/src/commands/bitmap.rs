//! Bitmap commands over string values (Redis's bitops.c): SETBIT, GETBIT,
//! BITCOUNT, BITPOS, BITOP, BITFIELD, BITFIELD_RO. The bit arithmetic lives in
//! `types::bitops`.
//!
//! Handlers keep Redis 7.0's order of checks, because it decides which error
//! a client sees: arguments that do not need the key (offsets, bit values,
//! BITOP's operation, the whole BITFIELD plan) are parsed before the key is
//! looked up; the rest (BITCOUNT and BITPOS ranges) after the type check, so
//! that a missing key answers 0 whatever follows it.
//!
//! Writes change the string in place (Redis's `dbUnshareStringValue`), so
//! they keep the key's TTL, except BITOP, which stores a new value as SET
//! does. SETBIT and BITFIELD notify `setbit`; BITOP notifies `set`, or `del`
//! when the result is empty and the destination is deleted.

use std::borrow::Cow;

use super::f::*;
use super::{cmd, CommandSpec, Ctx, KEY1};
use crate::config::{notify, P};
use crate::error::{CmdError, CmdResult, WRONGTYPE};
use crate::keyspace::Value;
use crate::types::bitops::{self, BitError, BitOp, BitfieldPlan};

/// The bitmap commands.
pub static COMMANDS: &[CommandSpec] = &[
    cmd(
        "setbit",
        4,
        WRITE | DENYOOM,
        KEY1,
        "bitmap",
        "2.2.0",
        "Sets or clears the bit at offset in the string value stored at key",
        setbit,
    ),
    cmd(
        "getbit",
        3,
        READONLY | FAST,
        KEY1,
        "bitmap",
        "2.2.0",
        "Returns the bit value at offset in the string value stored at key",
        getbit,
    ),
    cmd(
        "bitcount",
        -2,
        READONLY,
        KEY1,
        "bitmap",
        "2.6.0",
        "Count set bits in a string",
        bitcount,
    ),
    cmd(
        "bitpos",
        -3,
        READONLY,
        KEY1,
        "bitmap",
        "2.8.7",
        "Find first bit set or clear in a string",
        bitpos,
    ),
    cmd(
        "bitop",
        -4,
        WRITE | DENYOOM,
        (2, -1, 1),
        "bitmap",
        "2.6.0",
        "Perform bitwise operations between strings",
        bitop,
    ),
    cmd(
        "bitfield",
        -2,
        WRITE | DENYOOM,
        KEY1,
        "bitmap",
        "3.2.0",
        "Perform arbitrary bitfield integer operations on strings",
        bitfield,
    ),
    cmd(
        "bitfield_ro",
        -2,
        READONLY | FAST,
        KEY1,
        "bitmap",
        "6.0.0",
        "Perform arbitrary bitfield integer operations on strings. Read-only variant of BITFIELD",
        bitfield_ro,
    ),
];

fn bit_err(e: BitError) -> CmdError {
    CmdError::fixed(e.message())
}

/// The offset limit in bytes (`proto-max-bulk-len`); none for our master,
/// which Redis obeys whatever it sends (`mustObeyClient`).
fn max_bytes(c: &Ctx) -> Option<u64> {
    if c.from_master {
        None
    } else {
        Some(c.eng.cfg().int(P::proto_max_bulk_len).max(0) as u64)
    }
}

/// The bytes of a string value, WRONGTYPE for other types.
fn string_bytes(v: &Value) -> CmdResult<Cow<'_, [u8]>> {
    v.as_bytes().ok_or(CmdError::fixed(WRONGTYPE))
}

/// Store a value for a key that did not exist, as Redis's `dbAdd`: no TTL,
/// and no modification signal of its own (the caller signals when the
/// command counts a change).
fn add_key(c: &mut Ctx, key: &[u8], value: Value) {
    let db = c.cl.db;
    let lru = c.eng.lru_clock();
    c.eng.keyspace_mut().db_mut(db).insert(key, value, -1, lru);
    c.notify(crate::config::notify::NEW, "new", key);
}

fn setbit(c: &mut Ctx) -> CmdResult {
    let k = c.args[1].clone();
    let offset = bitops::parse_bit_offset(&c.args[2], max_bytes(c)).map_err(bit_err)?;
    let on = bitops::parse_bit_value(&c.args[3]).map_err(bit_err)?;
    let res = match c.lookup_write(&k) {
        Some(e) => {
            let buf = e.value.make_raw().ok_or(CmdError::fixed(WRONGTYPE))?;
            bitops::setbit(buf, offset, on)
        }
        None => {
            let mut buf = Vec::new();
            let res = bitops::setbit(&mut buf, offset, on);
            add_key(c, &k, Value::Raw(Box::new(buf)));
            res
        }
    };
    if res.dirty {
        c.modified(&k);
        c.notify(notify::STRING, "setbit", &k);
        c.dirty(1);
    }
    c.int(i64::from(res.old));
    Ok(())
}

fn getbit(c: &mut Ctx) -> CmdResult {
    let k = c.args[1].clone();
    let offset = bitops::parse_bit_offset(&c.args[2], max_bytes(c)).map_err(bit_err)?;
    let bit = match c.lookup_read(&k) {
        None => false,
        Some(e) => bitops::getbit(&string_bytes(&e.value)?, offset),
    };
    c.int(i64::from(bit));
    Ok(())
}

fn bitcount(c: &mut Ctx) -> CmdResult {
    let args = c.args.clone();
    let rest: Vec<&[u8]> = args[2..].iter().map(|a| a.as_ref()).collect();
    let n = match c.lookup_read(&args[1]) {
        None => 0,
        Some(e) => {
            let s = string_bytes(&e.value)?;
            bitops::bitcount_args(Some(&s), &rest).map_err(bit_err)?
        }
    };
    c.int(n);
    Ok(())
}

fn bitpos(c: &mut Ctx) -> CmdResult {
    let args = c.args.clone();
    let bit = bitops::parse_bitpos_bit(&args[2]).map_err(bit_err)?;
    let rest: Vec<&[u8]> = args[3..].iter().map(|a| a.as_ref()).collect();
    let n = match c.lookup_read(&args[1]) {
        None => bitops::bitpos_args(None, bit, &rest).map_err(bit_err)?,
        Some(e) => {
            let s = string_bytes(&e.value)?;
            bitops::bitpos_args(Some(&s), bit, &rest).map_err(bit_err)?
        }
    };
    c.int(n);
    Ok(())
}

fn bitop(c: &mut Ctx) -> CmdResult {
    let args = c.args.clone();
    let op = BitOp::parse(&args[1], args.len() - 3).map_err(bit_err)?;
    let dest = &args[2];
    let srcs = &args[3..];
    // First pass: expiry, stats and type checks in key order. A key found
    // missing here stays missing for the computation (on a replica an
    // expired key is still in the table).
    let mut present = Vec::with_capacity(srcs.len());
    for k in srcs {
        match c.lookup_read(k) {
            None => present.push(false),
            Some(e) if e.value.is_string() => present.push(true),
            Some(_) => return Err(WRONGTYPE.into()),
        }
    }
    let db = c.cl.db;
    let result = {
        let table = c.eng.keyspace().db(db);
        let values: Vec<Cow<'_, [u8]>> = srcs
            .iter()
            .zip(&present)
            .map(|(k, &p)| {
                if !p {
                    return Cow::Borrowed(&[][..]);
                }
                table
                    .get(k)
                    .and_then(|e| e.value.as_bytes())
                    .unwrap_or(Cow::Borrowed(&[][..]))
            })
            .collect();
        let refs: Vec<&[u8]> = values.iter().map(|v| v.as_ref()).collect();
        bitops::bitop(op, &refs)
    };
    let len = result.len();
    if len > 0 {
        c.set_key(dest, Value::Raw(Box::new(result)), -1);
        c.notify(notify::STRING, "set", dest);
        c.dirty(1);
    } else if c.delete(dest) {
        c.notify(notify::GENERIC, "del", dest);
        c.dirty(1);
    }
    c.int(len as i64);
    Ok(())
}

fn bitfield(c: &mut Ctx) -> CmdResult {
    bitfield_generic(c, false)
}

fn bitfield_ro(c: &mut Ctx) -> CmdResult {
    bitfield_generic(c, true)
}

fn bitfield_generic(c: &mut Ctx, readonly_command: bool) -> CmdResult {
    let args = c.args.clone();
    let k = &args[1];
    let rest: Vec<&[u8]> = args[2..].iter().map(|a| a.as_ref()).collect();
    let plan = BitfieldPlan::parse(&rest, readonly_command, max_bytes(c)).map_err(bit_err)?;
    let reply = if plan.is_read_only() {
        // Only GETs: read a copy of the bytes they can reach, never create
        // the key, never touch its encoding.
        let need = plan
            .fields()
            .iter()
            .map(|f| {
                let last = f.offset.saturating_add(u64::from(f.bits) - 1);
                usize::try_from(last >> 3)
                    .unwrap_or(usize::MAX)
                    .saturating_add(1)
            })
            .max()
            .unwrap_or(0);
        let mut window = match c.lookup_read(k) {
            None => Vec::new(),
            Some(e) => {
                let s = string_bytes(&e.value)?;
                s.get(..need.min(s.len())).unwrap_or_default().to_vec()
            }
        };
        plan.execute(&mut window)
    } else {
        let reply = match c.lookup_write(k) {
            Some(e) => {
                let buf = e.value.make_raw().ok_or(CmdError::fixed(WRONGTYPE))?;
                plan.execute(buf)
            }
            None => {
                // Redis creates the key even when every write failed.
                let mut buf = Vec::new();
                let reply = plan.execute(&mut buf);
                add_key(c, k, Value::Raw(Box::new(buf)));
                reply
            }
        };
        if reply.changes > 0 {
            c.modified(k);
            c.notify(notify::STRING, "setbit", k);
            c.dirty(reply.changes);
        }
        reply
    };
    c.array(reply.values.len());
    for v in reply.values {
        match v {
            Some(n) => c.int(n),
            None => c.null(),
        }
    }
    Ok(())
}

/// Runs commands in process against an engine, where values of any type
/// can be planted and the replication stream can be captured.
#[cfg(test)]
pub(crate) mod harness {
    use bytes::Bytes;

    use crate::client::Client;
    use crate::config::Config;
    use crate::engine::Engine;
    use crate::keyspace::Value;
    use crate::types::list::List;

    /// An engine and one client.
    pub(crate) struct Harness {
        pub(crate) eng: Engine,
        cl: Client,
    }

    impl Harness {
        pub(crate) fn new() -> Harness {
            let eng = Engine::new(Config::default());
            let cl = Client::new(
                1,
                "127.0.0.1:1".into(),
                "127.0.0.1:2".into(),
                true,
                false,
                0,
            );
            Harness { eng, cl }
        }

        /// Runs a command, returns its raw reply.
        pub(crate) fn run(&mut self, args: &[&str]) -> String {
            let argv = args.iter().map(|a| Bytes::from(a.to_string())).collect();
            let mut out = Vec::new();
            super::super::dispatch::execute(&mut self.eng, &mut self.cl, argv, &mut out);
            String::from_utf8_lossy(&out).into_owned()
        }

        /// Runs a command and returns its reply and what it propagated.
        pub(crate) fn run_propagated(&mut self, args: &[&str]) -> (String, Vec<String>) {
            self.eng.repl_mut().capture();
            let reply = self.run(args);
            let cmds = self.eng.repl_mut().end_capture();
            let cmds = cmds
                .into_iter()
                .map(|(_, argv)| {
                    argv.iter()
                        .map(|a| String::from_utf8_lossy(a).into_owned())
                        .collect::<Vec<_>>()
                        .join(" ")
                })
                .collect();
            (reply, cmds)
        }

        /// Plants a list (no list commands are needed for it).
        pub(crate) fn plant_list(&mut self, key: &str) {
            let mut l = List::new();
            l.push_back(b"x");
            self.eng.keyspace_mut().db_mut(0).insert(
                key.as_bytes(),
                Value::List(Box::new(l)),
                -1,
                0,
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::harness::Harness;

    const WRONGTYPE: &str =
        "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n";

    #[test]
    fn non_strings_are_refused_after_argument_checks() {
        let mut h = Harness::new();
        h.plant_list("l");
        h.run(&["SET", "s", "abc"]);
        for cmd in [
            &["SETBIT", "l", "1", "1"][..],
            &["GETBIT", "l", "1"],
            &["BITCOUNT", "l"],
            &["BITCOUNT", "l", "x"],
            &["BITPOS", "l", "1"],
            &["BITPOS", "l", "0", "x"],
            &["BITOP", "AND", "d", "s", "l"],
            &["BITOP", "NOT", "l", "l"],
            &["BITFIELD", "l", "GET", "u8", "0"],
            &["BITFIELD", "l", "SET", "u8", "0", "1"],
            &["BITFIELD_RO", "l", "GET", "u8", "0"],
            &["BITFIELD", "l"],
        ] {
            assert_eq!(h.run(cmd), WRONGTYPE, "{cmd:?}");
        }
        assert_eq!(h.run(&["EXISTS", "d"]), ":0\r\n");
        // Arguments that do not need the key are checked first.
        assert_eq!(
            h.run(&["SETBIT", "l", "-1", "1"]),
            "-ERR bit offset is not an integer or out of range\r\n"
        );
        assert_eq!(
            h.run(&["SETBIT", "l", "1", "5"]),
            "-ERR bit is not an integer or out of range\r\n"
        );
        assert_eq!(
            h.run(&["BITPOS", "l", "3"]),
            "-ERR The bit argument must be 1 or 0.\r\n"
        );
        assert_eq!(h.run(&["BITOP", "NOPE", "d", "l"]), "-ERR syntax error\r\n");
        assert_eq!(
            h.run(&["BITFIELD", "l", "GET", "u64", "0"]),
            "-ERR Invalid bitfield type. Use something like i16 u8. Note that u64 is not supported but i64 is.\r\n"
        );
        assert_eq!(
            h.run(&["BITFIELD_RO", "l", "SET", "u8", "0", "1"]),
            "-ERR BITFIELD_RO only supports the GET subcommand\r\n"
        );
        // A missing destination of a failed BITOP stays missing; a BITOP
        // whose result is empty deletes a destination of any type.
        assert_eq!(h.run(&["BITOP", "OR", "l", "nokey"]), ":0\r\n");
        assert_eq!(h.run(&["EXISTS", "l"]), ":0\r\n");
    }

    #[test]
    fn propagation_follows_the_dirty_counter() {
        let mut h = Harness::new();
        let (r, p) = h.run_propagated(&["SETBIT", "k", "3", "1"]);
        assert_eq!(
            (r.as_str(), p),
            (":0\r\n", vec!["SETBIT k 3 1".to_string()])
        );
        let (_, p) = h.run_propagated(&["SETBIT", "k", "3", "1"]);
        assert!(p.is_empty());
        // The high nibble holds 1 already.
        let (_, p) = h.run_propagated(&["BITFIELD", "k", "SET", "u4", "0", "1"]);
        assert!(p.is_empty());
        let (_, p) = h.run_propagated(&["BITFIELD", "k", "SET", "u4", "0", "2"]);
        assert_eq!(p, vec!["BITFIELD k SET u4 0 2".to_string()]);
        // Created by failed writes only: Redis neither counts nor
        // propagates it.
        let (r, p) =
            h.run_propagated(&["BITFIELD", "f", "OVERFLOW", "FAIL", "SET", "u2", "0", "7"]);
        assert_eq!(r, "*1\r\n$-1\r\n");
        assert!(p.is_empty());
        assert_eq!(h.run(&["EXISTS", "f"]), ":1\r\n");
        let (_, p) = h.run_propagated(&["BITOP", "OR", "d", "k"]);
        assert_eq!(p, vec!["BITOP OR d k".to_string()]);
        let (_, p) = h.run_propagated(&["BITOP", "OR", "d", "nokey"]);
        assert_eq!(p, vec!["BITOP OR d nokey".to_string()]);
        let (_, p) = h.run_propagated(&["BITOP", "OR", "d", "nokey"]);
        assert!(p.is_empty());
        let (_, p) = h.run_propagated(&["BITFIELD_RO", "k", "GET", "u4", "0"]);
        assert!(p.is_empty());
    }
}
