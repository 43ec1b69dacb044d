//! HyperLogLog commands (Redis's hyperloglog.c): PFADD, PFCOUNT, PFMERGE,
//! PFDEBUG, PFSELFTEST. Values are strings in Redis's exact HLL layout
//! (`types::hll`), so they travel through RDB and replication unchanged.
//!
//! A key of another type answers the usual WRONGTYPE; a string that is not
//! a HyperLogLog answers Redis's own `WRONGTYPE Key is not a valid
//! HyperLogLog string value.`, checked before the value is touched, so such
//! a string keeps its encoding. Values are changed in place (PFADD, PFMERGE
//! into an existing key, PFCOUNT's cache, PFDEBUG's conversions), so TTLs
//! stay.
//!
//! Propagation follows Redis 7.0, which propagates whatever bumped the dirty
//! counter: PFADD when a register changed, PFMERGE always, PFDEBUG
//! GETREG/TODENSE when they converted a sparse value, and a single-key
//! PFCOUNT that rewrote the cached cardinality (a read-only command that
//! changes the string, so it propagates itself: dispatch only propagates
//! write commands).

use std::borrow::Cow;

use super::f::*;
use super::{cmd, eq, CommandSpec, Ctx, NOKEYS};
use crate::config::{notify, P};
use crate::error::{CmdError, CmdResult, WRONGTYPE};
use crate::keyspace::Value;
use crate::types::hll::{self, HllError, Registers};

/// The hll commands.
pub static COMMANDS: &[CommandSpec] = &[
    cmd(
        "pfadd",
        -2,
        WRITE | DENYOOM | FAST,
        (1, 1, 1),
        "hyperloglog",
        "2.8.9",
        "Adds the specified elements to the specified HyperLogLog.",
        pfadd,
    ),
    cmd(
        "pfcount",
        -2,
        READONLY | MAY_REPLICATE,
        (1, -1, 1),
        "hyperloglog",
        "2.8.9",
        "Return the approximated cardinality of the set(s) observed by the HyperLogLog at key(s).",
        pfcount,
    ),
    cmd(
        "pfmerge",
        -2,
        WRITE | DENYOOM,
        (1, -1, 1),
        "hyperloglog",
        "2.8.9",
        "Merge N different HyperLogLogs into a single one.",
        pfmerge,
    ),
    cmd(
        "pfdebug",
        3,
        WRITE | DENYOOM | ADMIN,
        (2, 2, 1),
        "hyperloglog",
        "2.8.9",
        "Internal commands for debugging HyperLogLog values",
        pfdebug,
    ),
    cmd(
        "pfselftest",
        1,
        ADMIN,
        NOKEYS,
        "hyperloglog",
        "2.8.9",
        "An internal command for testing HyperLogLog values",
        pfselftest,
    ),
];

fn hll_err(e: HllError) -> CmdError {
    CmdError::fixed(e.message())
}

fn sparse_max_bytes(c: &Ctx) -> usize {
    c.eng.cfg().int(P::hll_sparse_max_bytes).max(0) as usize
}

/// Redis's `isHLLObjectOrReply`: WRONGTYPE for other types, the HLL
/// WRONGTYPE for strings that are not HyperLogLogs.
fn check_hll(v: &Value) -> CmdResult<Cow<'_, [u8]>> {
    let b = v.as_bytes().ok_or(CmdError::fixed(WRONGTYPE))?;
    if hll::is_valid_hll(&b) {
        Ok(b)
    } else {
        Err(hll_err(HllError::WrongType))
    }
}

/// The growable buffer of a value already checked with [`check_hll`]
/// (Redis's `dbUnshareStringValue`: the string becomes raw).
fn raw_buf(v: &mut Value) -> CmdResult<&mut Vec<u8>> {
    v.make_raw().ok_or(CmdError::fixed(WRONGTYPE))
}

fn pfadd(c: &mut Ctx) -> CmdResult {
    let args = c.args.clone();
    let k = &args[1];
    let elements = &args[2..];
    let max = sparse_max_bytes(c);
    let updated = match c.lookup_write(k) {
        None => {
            let mut v = hll::new_sparse();
            let updated = hll::pfadd(&mut v, true, elements, max).map_err(hll_err)?;
            c.set_key(k, Value::Raw(Box::new(v)), -1);
            updated
        }
        Some(e) => {
            check_hll(&e.value)?;
            // On an error the elements before the failing one stay added,
            // unsignalled, as in Redis.
            hll::pfadd(raw_buf(&mut e.value)?, false, elements, max).map_err(hll_err)?
        }
    };
    if updated > 0 {
        c.modified(k);
        c.notify(notify::STRING, "pfadd", k);
        c.dirty(updated as u64);
    }
    c.int(i64::from(updated > 0));
    Ok(())
}

fn pfcount(c: &mut Ctx) -> CmdResult {
    let args = c.args.clone();
    if args.len() > 2 {
        // The union of several keys, computed in a scratch register array:
        // nothing is written, no cache is used.
        let mut regs = Registers::new();
        for k in &args[1..] {
            if let Some(e) = c.lookup_read(k) {
                let b = check_hll(&e.value)?;
                regs.merge(&b).map_err(hll_err)?;
            }
        }
        c.int(regs.count() as i64);
        return Ok(());
    }
    let k = &args[1];
    // Read lookup (stats, no deletion of expired keys on a replica), then
    // the cache is updated in place.
    match c.lookup_read(k) {
        None => {
            c.int(0);
            return Ok(());
        }
        Some(e) => {
            check_hll(&e.value)?;
        }
    }
    let db = c.cl.db;
    let Some(e) = c.eng.keyspace_mut().db_mut(db).get_mut(k) else {
        c.int(0);
        return Ok(());
    };
    let count = hll::count(raw_buf(&mut e.value)?).map_err(hll_err)?;
    if count.cache_updated {
        c.modified(k);
        c.dirty(1);
        if !c.eng.is_replica() {
            let argv: Vec<&[u8]> = args.iter().map(|a| a.as_ref()).collect();
            crate::repl::feed::feed(c.eng, db, &argv);
        }
    }
    c.int(count.cardinality as i64);
    Ok(())
}

fn pfmerge(c: &mut Ctx) -> CmdResult {
    let args = c.args.clone();
    let dest = &args[1];
    // The destination is merged first (it is argument 1), then the sources.
    let mut regs = Registers::new();
    for k in &args[1..] {
        if let Some(e) = c.lookup_read(k) {
            let b = check_hll(&e.value)?;
            regs.merge(&b).map_err(hll_err)?;
        }
    }
    let max = sparse_max_bytes(c);
    match c.lookup_write(dest) {
        Some(e) => {
            let merged = regs.store(Some(&check_hll(&e.value)?), max);
            e.value = Value::Raw(Box::new(merged));
        }
        None => {
            let merged = regs.store(None, max);
            c.set_key(dest, Value::Raw(Box::new(merged)), -1);
        }
    }
    c.modified(dest);
    // Redis sends PFADD's event: a merge is a mass add.
    c.notify(notify::STRING, "pfadd", dest);
    c.dirty(1);
    c.ok();
    Ok(())
}

enum Reply {
    Regs(Vec<u8>),
    Bulk(String),
    Status(&'static str),
    Int(i64),
}

fn pfdebug(c: &mut Ctx) -> CmdResult {
    let args = c.args.clone();
    let sub = &args[1];
    let k = &args[2];
    let Some(e) = c.lookup_write(k) else {
        return Err("ERR The specified key does not exist".into());
    };
    check_hll(&e.value)?;
    let v = raw_buf(&mut e.value)?;
    let mut dirty = 0;
    let reply = if eq(sub, "getreg") {
        if hll::to_dense(v).map_err(hll_err)? {
            // Redis forces propagation of the encoding change.
            dirty = 1;
        }
        Reply::Regs(hll::registers(v).map_err(hll_err)?)
    } else if eq(sub, "decode") {
        Reply::Bulk(hll::decode_sparse(v).map_err(CmdError::fixed)?)
    } else if eq(sub, "encoding") {
        Reply::Status(hll::encoding(v).map_err(hll_err)?.name())
    } else if eq(sub, "todense") {
        let converted = hll::to_dense(v).map_err(hll_err)?;
        dirty = u64::from(converted);
        Reply::Int(i64::from(converted))
    } else {
        return Err(CmdError::msg(format!(
            "ERR Unknown PFDEBUG subcommand '{}'",
            String::from_utf8_lossy(sub)
        )));
    };
    c.dirty(dirty);
    match reply {
        Reply::Regs(regs) => {
            c.array(regs.len());
            for r in regs {
                c.int(i64::from(r));
            }
        }
        Reply::Bulk(s) => c.bulk(s.as_bytes()),
        Reply::Status(s) => c.simple(s),
        Reply::Int(n) => c.int(n),
    }
    Ok(())
}

// ---------------------------------------------------------------------------
// PFSELFTEST
// ---------------------------------------------------------------------------

/// Rounds of the register access test (Redis `HLL_TEST_CYCLES`).
const SELFTEST_CYCLES: usize = 1000;
/// Elements added in the estimation test.
const SELFTEST_ELEMENTS: u64 = 10_000_000;

/// A dense HyperLogLog holding `regs`, packed independently of
/// `types::hll` (6 bits per register from the least significant bit up),
/// so that the test checks the library against the documented layout.
fn pack_dense(regs: &[u8]) -> Vec<u8> {
    let mut v = vec![0u8; hll::DENSE_SIZE];
    if let Some(h) = v.get_mut(..4) {
        h.copy_from_slice(b"HYLL");
    }
    for (i, &r) in regs.iter().enumerate() {
        let bit = i * 6;
        let word = u16::from(r & 63) << (bit % 8);
        let at = hll::HDR_SIZE + bit / 8;
        if let Some(b) = v.get_mut(at) {
            *b |= word as u8;
        }
        if let Some(b) = v.get_mut(at + 1) {
            *b |= (word >> 8) as u8;
        }
    }
    v
}

/// Redis's PFSELFTEST, on relica's implementation: (1) dense registers
/// read back what was written and do not disturb their neighbours, both
/// when read and when written by the library; (2) a sparse and a dense
/// HyperLogLog fed the same 10 million elements agree at every power of
/// ten, the sparse one stays sparse while small, and the estimate stays
/// within six standard errors.
fn pfselftest(c: &mut Ctx) -> CmdResult {
    use rand::{Rng, SeedableRng};
    let mut rng = rand::rngs::SmallRng::from_entropy();
    let max = sparse_max_bytes(c);
    let fail = |m: String| Err(CmdError::msg(format!("TESTFAILED {m}")));

    let mut want = vec![0u8; hll::REGISTERS];
    for _ in 0..SELFTEST_CYCLES {
        for r in want.iter_mut() {
            *r = rng.gen::<u8>() & 63;
        }
        let dense = pack_dense(&want);
        let got = hll::registers(&dense).map_err(hll_err)?;
        if let Some((i, (w, g))) = want.iter().zip(&got).enumerate().find(|(_, (w, g))| w != g) {
            return fail(format!("Register {i} should be {w} but is {g}"));
        }
        // Writing the same registers through the library must give the
        // same bytes.
        let mut regs = Registers::new();
        regs.merge(&dense).map_err(hll_err)?;
        let written = regs.store(None, max);
        if written.get(hll::HDR_SIZE..) != dense.get(hll::HDR_SIZE..) {
            let back = hll::registers(&written).map_err(hll_err)?;
            let (i, w, g) = want
                .iter()
                .zip(&back)
                .enumerate()
                .find(|(_, (w, g))| w != g)
                .map(|(i, (w, g))| (i, *w, *g))
                .unwrap_or((0, 0, 0));
            return fail(format!("Register {i} should be {w} but is {g}"));
        }
    }

    let mut dense = hll::new_sparse();
    hll::to_dense(&mut dense).map_err(hll_err)?;
    let mut sparse = hll::new_sparse();
    let relerr = 1.04 / (hll::REGISTERS as f64).sqrt();
    let seed: u64 = rng.gen();
    let mut checkpoint: u64 = 1;
    for j in 1..=SELFTEST_ELEMENTS {
        let ele = (j ^ seed).to_ne_bytes();
        hll::add(&mut dense, &ele, max).map_err(hll_err)?;
        hll::add(&mut sparse, &ele, max).map_err(hll_err)?;
        if j != checkpoint {
            continue;
        }
        if (j as usize) < max / 2 && hll::encoding(&sparse).ok() != Some(hll::Encoding::Sparse) {
            return fail("sparse encoding not used".into());
        }
        let est = hll::estimate_of(&dense).map_err(hll_err)?;
        if est != hll::estimate_of(&sparse).map_err(hll_err)? {
            return fail("dense/sparse disagree".into());
        }
        // Cardinality 10 may collide: allow one, as Redis does.
        let maxerr = if j == 10 {
            1
        } else {
            (relerr * 6.0 * checkpoint as f64).ceil() as u64
        };
        let abserr = checkpoint.abs_diff(est);
        if abserr > maxerr {
            return fail(format!("Too big error. card:{checkpoint} abserr:{abserr}"));
        }
        checkpoint *= 10;
    }
    c.ok();
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::super::bitmap::harness::Harness;

    const WRONGTYPE: &str =
        "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n";

    #[test]
    fn non_strings_get_the_generic_wrongtype() {
        let mut h = Harness::new();
        h.plant_list("l");
        h.run(&["PFADD", "h", "a"]);
        for cmd in [
            &["PFADD", "l", "a"][..],
            &["PFCOUNT", "l"],
            &["PFCOUNT", "h", "l"],
            &["PFMERGE", "l", "h"],
            &["PFMERGE", "h", "l"],
            &["PFDEBUG", "ENCODING", "l"],
        ] {
            assert_eq!(h.run(cmd), WRONGTYPE, "{cmd:?}");
        }
    }

    #[test]
    fn propagation_follows_redis_70() {
        let mut h = Harness::new();
        let (r, p) = h.run_propagated(&["PFADD", "h", "a", "b"]);
        assert_eq!((r.as_str(), p), (":1\r\n", vec!["PFADD h a b".to_string()]));
        let (r, p) = h.run_propagated(&["PFADD", "h", "a"]);
        assert_eq!(r, ":0\r\n");
        assert!(p.is_empty());
        // PFCOUNT propagates when it rewrote the cached cardinality.
        let (r, p) = h.run_propagated(&["PFCOUNT", "h"]);
        assert_eq!((r.as_str(), p), (":2\r\n", vec!["PFCOUNT h".to_string()]));
        let (_, p) = h.run_propagated(&["PFCOUNT", "h"]);
        assert!(p.is_empty());
        let (_, p) = h.run_propagated(&["PFCOUNT", "h", "h"]);
        assert!(p.is_empty());
        let (_, p) = h.run_propagated(&["PFMERGE", "h", "h"]);
        assert_eq!(p, vec!["PFMERGE h h".to_string()]);
        let (_, p) = h.run_propagated(&["PFDEBUG", "ENCODING", "h"]);
        assert!(p.is_empty());
        let (_, p) = h.run_propagated(&["PFDEBUG", "TODENSE", "h"]);
        assert_eq!(p, vec!["PFDEBUG TODENSE h".to_string()]);
        let (_, p) = h.run_propagated(&["PFDEBUG", "TODENSE", "h"]);
        assert!(p.is_empty());
        h.run(&["PFADD", "s", "x"]);
        let (r, p) = h.run_propagated(&["PFDEBUG", "GETREG", "s"]);
        assert!(r.starts_with("*16384\r\n"));
        assert_eq!(p, vec!["PFDEBUG GETREG s".to_string()]);
    }

    #[test]
    fn replicas_apply_pfcount_without_propagating_it() {
        let mut h = Harness::new();
        h.run(&["PFADD", "h", "a"]);
        // On a replica the local cache update is not fed to sub-replicas.
        h.eng
            .cfg_mut()
            .set_from_words("replicaof", &[b"127.0.0.1".to_vec(), b"1".to_vec()])
            .expect("replicaof");
        assert!(h.eng.is_replica());
        let (r, p) = h.run_propagated(&["PFCOUNT", "h"]);
        assert_eq!(r, ":1\r\n");
        assert!(p.is_empty());
    }
}
