//! Helpers shared by the integration tests.

use std::collections::BTreeMap;
use std::path::PathBuf;

use rdb::{KeyRecord, Reader, Record, Value};

pub fn fixture_path(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

pub fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(fixture_path(name)).unwrap_or_else(|e| panic!("{name}: {e}"))
}

/// Reads every record of `data`.
pub fn records(data: &[u8]) -> Result<(u32, Vec<Record>), rdb::Error> {
    let mut r = Reader::new(data)?;
    let mut out = Vec::new();
    while let Some(rec) = r.next_record()? {
        out.push(rec);
    }
    Ok((r.version(), out))
}

/// Keys by (db, name).
pub fn keys(data: &[u8]) -> BTreeMap<(u64, Vec<u8>), KeyRecord> {
    let (_, recs) = records(data).expect("fixture loads");
    let mut out = BTreeMap::new();
    for r in recs {
        if let Record::Key(k) = r {
            let prev = out.insert((k.db, k.key.clone()), k);
            assert!(prev.is_none(), "duplicate key");
        }
    }
    out
}

pub fn key<'a>(
    keys: &'a BTreeMap<(u64, Vec<u8>), KeyRecord>,
    db: u64,
    name: &str,
) -> &'a KeyRecord {
    keys.get(&(db, name.as_bytes().to_vec()))
        .unwrap_or_else(|| panic!("no key {name} in db {db}"))
}

pub fn b(s: &str) -> Vec<u8> {
    s.as_bytes().to_vec()
}

pub fn list(items: &[&str]) -> Value {
    Value::List(items.iter().map(|s| b(s)).collect())
}

pub fn set(items: &[&str]) -> Value {
    Value::Set(items.iter().map(|s| b(s)).collect())
}

pub fn hash(pairs: &[(&str, &str)]) -> Value {
    Value::Hash(pairs.iter().map(|(f, v)| (b(f), b(v))).collect())
}

pub fn zset(pairs: &[(&str, f64)]) -> Value {
    Value::ZSet(pairs.iter().map(|(m, s)| (b(m), *s)).collect())
}

/// Sorts the members of unordered types so values compare by content.
pub fn normalize(v: &Value) -> Value {
    match v {
        Value::Set(m) => {
            let mut m = m.clone();
            m.sort();
            Value::Set(m)
        }
        Value::Hash(p) => {
            let mut p = p.clone();
            p.sort();
            Value::Hash(p)
        }
        Value::ZSet(p) => {
            let mut p = p.clone();
            p.sort_by(|a, b| a.1.total_cmp(&b.1).then_with(|| a.0.cmp(&b.0)));
            Value::ZSet(p)
        }
        other => other.clone(),
    }
}

pub fn assert_same(got: &Value, want: &Value) {
    assert_eq!(normalize(got), normalize(want));
}
