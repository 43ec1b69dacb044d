//! Writer → Reader round trips (and DUMP → RESTORE) for every value type,
//! every write option and the versions the writer supports.

use proptest::prelude::*;
use rdb::{dump_payload, restore_payload, Reader, Record, Value, WriteOptions, Writer};

use crate::common::normalize;

/// Elements that exercise every string encoding: canonical integers of each
/// width, near-integers, short text, long repetitive (LZF) and binary.
fn element() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        any::<i64>().prop_map(|v| v.to_string().into_bytes()),
        (-200i64..200).prop_map(|v| v.to_string().into_bytes()),
        Just(b"007".to_vec()),
        Just(b"-0".to_vec()),
        Just(Vec::new()),
        "[a-z]{1,12}".prop_map(String::into_bytes),
        ("[a-c]{1,3}", 10usize..200).prop_map(|(s, n)| s.repeat(n).into_bytes()),
        proptest::collection::vec(any::<u8>(), 0..100),
    ]
}

fn score() -> impl Strategy<Value = f64> {
    prop_oneof![
        (-1000i32..1000).prop_map(f64::from),
        any::<f64>().prop_filter("no NaN", |v| !v.is_nan()),
        Just(f64::INFINITY),
        Just(f64::NEG_INFINITY),
        Just(-0.0),
        Just(0.1),
    ]
}

fn unique<T: Clone, K: Ord + Clone>(v: Vec<T>, key: impl Fn(&T) -> K) -> Vec<T> {
    let mut seen = std::collections::BTreeSet::new();
    v.into_iter().filter(|x| seen.insert(key(x))).collect()
}

fn value() -> impl Strategy<Value = Value> {
    let small = 0usize..20;
    let big = 100usize..400;
    let size = prop_oneof![3 => small, 1 => big];
    prop_oneof![
        element().prop_map(Value::String),
        size.clone()
            .prop_flat_map(|n| proptest::collection::vec(element(), n))
            .prop_map(Value::List),
        size.clone()
            .prop_flat_map(|n| proptest::collection::vec(element(), n))
            .prop_map(|v| Value::Set(unique(v, Clone::clone))),
        // Integer-only sets, to reach intsets of each width.
        size.clone()
            .prop_flat_map(|n| proptest::collection::vec(any::<i32>().prop_map(i64::from), n))
            .prop_map(|v| Value::Set(
                unique(v, |x| *x)
                    .into_iter()
                    .map(|x| x.to_string().into_bytes())
                    .collect()
            )),
        size.clone()
            .prop_flat_map(|n| proptest::collection::vec((element(), element()), n))
            .prop_map(|v| Value::Hash(unique(v, |p| p.0.clone()))),
        size.prop_flat_map(|n| proptest::collection::vec((element(), score()), n))
            .prop_map(|v| Value::ZSet(unique(v, |p| p.0.clone()))),
    ]
}

fn write_all(entries: &[(Vec<u8>, Value, Option<i64>)], opts: WriteOptions) -> Vec<u8> {
    let mut w = Writer::new(Vec::new(), opts).unwrap();
    w.aux(b"redis-ver", b"7.0.15").unwrap();
    w.aux(b"redis-bits", b"64").unwrap();
    w.select_db(0).unwrap();
    w.resize_db(entries.len() as u64, 0).unwrap();
    for (i, (k, v, exp)) in entries.iter().enumerate() {
        if i == entries.len() / 2 {
            w.select_db(7).unwrap();
        }
        w.write_value(k, v, *exp).unwrap();
    }
    w.finish().unwrap()
}

type Entries = Vec<(Vec<u8>, Value, Option<i64>)>;

fn read_all(data: &[u8]) -> (Entries, bool) {
    let mut r = Reader::new(data).unwrap();
    let mut out = Vec::new();
    let mut ok = None;
    while let Some(rec) = r.next_record().unwrap() {
        match rec {
            Record::Key(k) => out.push((k.key, k.value, k.expire_ms)),
            Record::Eof { checksum_ok } => ok = Some(checksum_ok),
            _ => {}
        }
    }
    (out, ok.expect("EOF record"))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(96))]

    #[test]
    fn writer_reader_round_trip(
        entries in proptest::collection::vec(
            (element(), value(), proptest::option::of(0i64..5_000_000_000_000)), 0..8),
        compression in any::<bool>(),
        checksum in any::<bool>(),
        version in prop_oneof![Just(10u32), Just(9), Just(11), Just(12), Just(7)],
    ) {
        let entries = unique(entries, |e| e.0.clone());
        let opts = WriteOptions { version, compression, checksum, ..WriteOptions::default() };
        let data = write_all(&entries, opts);
        let (got, checksum_ok) = read_all(&data);
        prop_assert_eq!(checksum_ok, checksum);
        prop_assert_eq!(got.len(), entries.len());
        for ((k, v, e), (gk, gv, ge)) in entries.iter().zip(&got) {
            prop_assert_eq!(k, gk);
            prop_assert_eq!(e, ge);
            // Lists and strings keep their order; sets, hashes and small
            // sorted sets may be reordered by their encoding.
            prop_assert_eq!(normalize(v), normalize(gv));
        }
    }

    #[test]
    fn dump_restore_round_trip(v in value(), version in prop_oneof![Just(10u16), Just(9)]) {
        let p = dump_payload(&v, version);
        prop_assert_eq!(normalize(&restore_payload(&p).unwrap()), normalize(&v));
    }
}

#[test]
fn big_list_spans_many_nodes() {
    let mut items: Vec<Vec<u8>> = (0..5000)
        .map(|i| format!("element-{i}").into_bytes())
        .collect();
    items.insert(2500, vec![b'x'; 20_000]);
    items.push(b"12345".to_vec());
    let v = Value::List(items);
    for compression in [true, false] {
        let opts = WriteOptions {
            compression,
            ..WriteOptions::default()
        };
        let data = write_all(&[(b"l".to_vec(), v.clone(), None)], opts);
        let (got, _) = read_all(&data);
        assert_eq!(got[0].1, v);
        if compression {
            assert!(data.len() < 40_000, "{}", data.len());
        }
    }
}

#[test]
fn writer_checks_counts_and_versions() {
    let mut w = Writer::new(Vec::new(), WriteOptions::default()).unwrap();
    let items: Vec<&[u8]> = vec![b"a", b"b"];
    assert!(matches!(
        w.list(b"k", 3, items.iter().copied(), None),
        Err(rdb::Error::InvalidInput(_))
    ));
    assert!(w.set(b"k", 1, items.iter().copied(), None).is_err());
    assert!(w.set(b"k", 3, items.iter().copied(), None).is_err());
    let many: Vec<Vec<u8>> = (0..1000).map(|i| format!("m{i}").into_bytes()).collect();
    assert!(w
        .set(b"k", 999, many.iter().map(Vec::as_slice), None)
        .is_err());
    assert!(w
        .hash(b"k", 5, [(&b"f"[..], &b"v"[..])].into_iter(), None)
        .is_err());
    assert!(w
        .zset(b"k", 0, [(&b"m"[..], 1.0)].into_iter(), None)
        .is_err());
    for bad in [4, 13] {
        let opts = WriteOptions {
            version: bad,
            ..WriteOptions::default()
        };
        assert!(matches!(
            Writer::new(Vec::new(), opts),
            Err(rdb::Error::UnsupportedVersion(_))
        ));
    }
}

#[test]
fn writer_metadata_records() {
    let mut w = Writer::new(Vec::new(), WriteOptions::default()).unwrap();
    w.select_db(2).unwrap();
    w.idle(42).unwrap();
    w.string(b"a", b"1", Some(123)).unwrap();
    w.freq(7).unwrap();
    w.string(b"b", b"2", None).unwrap();
    w.function(b"#!lua name=x\nreturn 1").unwrap();
    let n = w.bytes_written();
    let data = w.finish().unwrap();
    assert_eq!(data.len() as u64, n + 9);
    let (_, recs) = crate::common::records(&data).unwrap();
    let keys: Vec<_> = recs
        .iter()
        .filter_map(|r| match r {
            Record::Key(k) => Some((k.db, k.lru_idle, k.lfu_freq, k.expire_ms)),
            _ => None,
        })
        .collect();
    assert_eq!(
        keys,
        vec![(2, Some(42), None, Some(123)), (2, None, Some(7), None)]
    );
    assert!(recs.contains(&Record::Function {
        payload: b"#!lua name=x\nreturn 1".to_vec()
    }));
}
