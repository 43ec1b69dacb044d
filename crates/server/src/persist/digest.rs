//! DEBUG DIGEST and DEBUG DIGEST-VALUE with Redis's algorithm (debug.c), so
//! that the same dataset has the same digest on relica and redis-server:
//! the replication tests compare masters and replicas this way.
//!
//! Unordered things (keys, set members, hash fields, zset members) are
//! combined with XOR of SHA1s; ordered things (a key's parts, list
//! elements) with "mix": digest = SHA1(digest XOR SHA1(data)).

use sha1::{Digest, Sha1};

use crate::keyspace::{Db, Entry, Value};

/// A 20-byte digest.
pub type D = [u8; 20];

fn xor(d: &mut D, data: &[u8]) {
    let h = Sha1::digest(data);
    for (a, b) in d.iter_mut().zip(h.iter()) {
        *a ^= b;
    }
}

fn mix(d: &mut D, data: &[u8]) {
    xor(d, data);
    let h = Sha1::digest(&d[..]);
    d.copy_from_slice(&h);
}

/// Redis's object type numbers (OBJ_STRING …).
fn type_number(v: &Value) -> u32 {
    match v {
        Value::Int(_) | Value::Str(_) | Value::Raw(_) => 0,
        Value::List(_) => 1,
        Value::Set(_) => 2,
        Value::ZSet(_) => 3,
        Value::Hash(_) => 4,
        Value::Stream(_) => 6,
    }
}

/// Mix one value (and whether it has an expire) into `d`
/// (xorObjectDigest).
pub fn value_digest(d: &mut D, e: &Entry) {
    let v = &e.value;
    mix(d, &type_number(v).to_be_bytes());
    match v {
        Value::Int(_) | Value::Str(_) | Value::Raw(_) => {
            mix(d, &v.as_bytes().unwrap_or_default());
        }
        Value::List(l) => {
            for item in l.iter() {
                mix(d, item);
            }
        }
        Value::Set(s) => {
            for m in s.iter() {
                xor(d, &m);
            }
        }
        Value::ZSet(z) => {
            for (m, score) in z.iter() {
                let mut ed = [0u8; 20];
                mix(&mut ed, m);
                mix(&mut ed, crate::util::num::fmt_g17(score).as_bytes());
                xor(d, &ed); // SHA1 of the element digest, as Redis
            }
        }
        Value::Hash(h) => {
            for (f, val) in h.iter() {
                let mut ed = [0u8; 20];
                mix(&mut ed, f);
                mix(&mut ed, val);
                xor(d, &ed);
            }
        }
        Value::Stream(s) => {
            use crate::types::stream::StreamId;
            s.range(StreamId::MIN, StreamId::MAX, false, |id, fv| {
                mix(d, format!("{}.{}", id.ms, id.seq).as_bytes());
                for x in fv {
                    mix(d, &x.bytes());
                }
                true
            });
        }
    }
    if e.expire() >= 0 {
        xor(d, b"!!expire!!");
    }
}

/// The digest of every database (computeDatasetDigest). Logically expired
/// keys that are still stored count, as in Redis.
pub fn dataset_digest(dbs: &[Db]) -> D {
    let mut fin = [0u8; 20];
    for (j, db) in dbs.iter().enumerate() {
        if db.is_empty() {
            continue;
        }
        mix(&mut fin, &(j as u32).to_be_bytes());
        for e in db.iter() {
            let mut d = [0u8; 20];
            mix(&mut d, &e.key);
            value_digest(&mut d, e);
            // Redis's xorDigest hashes what it xors, the digest included.
            xor(&mut fin, &d);
        }
    }
    fin
}

/// Lower-case hex.
pub fn hex(d: &D) -> String {
    d.iter().map(|b| format!("{b:02x}")).collect()
}
