//! Files written by real Redis servers load with exactly the content that
//! was put in them (see tests/fixtures/make.sh and the redis-assets/ data
//! files from redis/redis tests/assets).

use rdb::{opcode::*, Record, Value};

use crate::common::*;

fn aux<'a>(recs: &'a [Record], name: &str) -> Option<&'a [u8]> {
    recs.iter().find_map(|r| match r {
        Record::Aux { key, value } if key == name.as_bytes() => Some(value.as_slice()),
        _ => None,
    })
}

fn eof_ok(recs: &[Record]) -> bool {
    match recs.last() {
        Some(Record::Eof { checksum_ok }) => *checksum_ok,
        other => panic!("last record is {other:?}"),
    }
}

#[test]
fn strings() {
    let data = fixture("strings.rdb");
    let (version, recs) = records(&data).unwrap();
    assert_eq!(version, 10);
    assert!(eof_ok(&recs));
    assert_eq!(aux(&recs, "redis-ver"), Some(&b"7.0.15"[..]));
    assert_eq!(aux(&recs, "redis-bits"), Some(&b"64"[..]));
    assert_eq!(aux(&recs, "aof-base"), Some(&b"0"[..]));
    let ks = keys(&data);
    assert_eq!(ks.len(), 11);
    let lzf = "abcdefghij".repeat(100);
    for (name, want) in [
        ("short", "hello"),
        ("int8", "-12"),
        ("int16", "1234"),
        ("int32", "-123456789"),
        ("int64", "9223372036854775807"),
        ("notint", "0123"),
        ("empty", ""),
        ("lzf", lzf.as_str()),
        ("text20", "abcdefghijklmnopqrst"),
        ("text21", "abcdefghijklmnopqrstu"),
        ("binary", "a\tb\u{1}c"),
    ] {
        let k = key(&ks, 0, name);
        assert_eq!(k.value, Value::String(b(want)), "{name}");
        assert_eq!(k.type_byte, TYPE_STRING);
        assert_eq!(k.expire_ms, None);
    }
    // The 1000-byte string was LZF-compressed: the whole file is smaller.
    assert!(data.len() < 600, "{}", data.len());
}

#[test]
fn lists() {
    let data = fixture("lists.rdb");
    let ks = keys(&data);
    assert_eq!(ks.len(), 4);
    for k in ks.values() {
        assert_eq!(k.type_byte, TYPE_LIST_QUICKLIST_2);
    }
    assert_eq!(
        key(&ks, 0, "small").value,
        list(&["a", "b", "c", "1", "2", "3", "-100", "70000"])
    );
    let nodes: Vec<String> = (0..10).map(|i| format!("n:{i}")).collect();
    let nodes: Vec<&str> = nodes.iter().map(String::as_str).collect();
    assert_eq!(key(&ks, 0, "nodes").value, list(&nodes));
    let comp: Vec<String> = (0..20)
        .map(|i| format!("compressible-element-{}-{i}", "a".repeat(40)))
        .collect();
    let comp: Vec<&str> = comp.iter().map(String::as_str).collect();
    assert_eq!(key(&ks, 0, "compressed").value, list(&comp));
    let p = "p".repeat(200);
    assert_eq!(key(&ks, 0, "plain").value, list(&["first", &p, "last"]));
}

#[test]
fn sets() {
    let data = fixture("sets.rdb");
    let ks = keys(&data);
    assert_eq!(ks.len(), 5);
    let k = key(&ks, 0, "ints16");
    assert_eq!(k.type_byte, TYPE_SET_INTSET);
    // Intsets come out sorted.
    assert_eq!(k.value, set(&["-5", "1", "2", "3"]));
    assert_eq!(
        key(&ks, 0, "ints32").value,
        set(&["-200000", "3", "100000"])
    );
    assert_eq!(
        key(&ks, 0, "ints64").value,
        set(&["-6000000000", "1", "5000000000"])
    );
    let k = key(&ks, 0, "strings");
    assert_eq!(k.type_byte, TYPE_SET);
    assert_same(&k.value, &set(&["apple", "banana", "cherry", "1"]));
    let k = key(&ks, 0, "bigints");
    assert_eq!(k.type_byte, TYPE_SET);
    assert_same(&k.value, &set(&["1", "2", "3", "4", "5", "6", "7", "8"]));
}

#[test]
fn hashes() {
    let data = fixture("hashes.rdb");
    let ks = keys(&data);
    assert_eq!(ks.len(), 3);
    let k = key(&ks, 0, "small");
    assert_eq!(k.type_byte, TYPE_HASH_LISTPACK);
    assert_eq!(k.value, hash(&[("f1", "v1"), ("f2", "2"), ("num", "-7")]));
    let k = key(&ks, 0, "many");
    assert_eq!(k.type_byte, TYPE_HASH);
    let many: Vec<(String, String)> = (0..10)
        .map(|i| (format!("field{i}"), format!("value{i}")))
        .collect();
    let many: Vec<(&str, &str)> = many.iter().map(|(f, v)| (f.as_str(), v.as_str())).collect();
    assert_same(&k.value, &hash(&many));
    let k = key(&ks, 0, "bigvalue");
    assert_eq!(k.type_byte, TYPE_HASH);
    let long = "v".repeat(100);
    assert_same(&k.value, &hash(&[("short", "x"), ("long", &long)]));
}

#[test]
fn zsets() {
    let data = fixture("zsets.rdb");
    let ks = keys(&data);
    assert_eq!(ks.len(), 3);
    let k = key(&ks, 0, "small");
    assert_eq!(k.type_byte, TYPE_ZSET_LISTPACK);
    assert_eq!(
        k.value,
        zset(&[
            ("minusthree", -3.0),
            ("one", 1.0),
            ("two", 2.0),
            ("twoandhalf", 2.5)
        ])
    );
    let k = key(&ks, 0, "big");
    assert_eq!(k.type_byte, TYPE_ZSET_2);
    let big: Vec<(String, f64)> = (0..10)
        .map(|i| (format!("m{i}"), f64::from(i * 10)))
        .collect();
    let big: Vec<(&str, f64)> = big.iter().map(|(m, s)| (m.as_str(), *s)).collect();
    assert_same(&k.value, &zset(&big));
    // Five members with zset-max-listpack-entries 4: a skiplist.
    let k = key(&ks, 0, "special");
    assert_eq!(k.type_byte, TYPE_ZSET_2);
    assert_same(
        &k.value,
        &zset(&[
            ("neginf", f64::NEG_INFINITY),
            ("neghalf", -0.5),
            ("tenth", 0.1),
            ("huge", 1e100),
            ("posinf", f64::INFINITY),
        ]),
    );
}

#[test]
fn expiry_and_databases() {
    let data = fixture("expiry.rdb");
    let (_, recs) = records(&data).unwrap();
    let dbs: Vec<u64> = recs
        .iter()
        .filter_map(|r| match r {
            Record::SelectDb(d) => Some(*d),
            _ => None,
        })
        .collect();
    assert_eq!(dbs, vec![0, 3, 15]);
    let sizes: Vec<(u64, u64)> = recs
        .iter()
        .filter_map(|r| match r {
            Record::ResizeDb {
                db_size,
                expires_size,
            } => Some((*db_size, *expires_size)),
            _ => None,
        })
        .collect();
    assert_eq!(sizes, vec![(2, 1), (2, 1), (1, 1)]);
    let ks = keys(&data);
    assert_eq!(ks.len(), 5);
    let k = key(&ks, 0, "exp0");
    assert_eq!(
        (k.expire_ms, &k.value),
        (Some(4_102_444_800_000), &Value::String(b("e")))
    );
    assert_eq!(key(&ks, 0, "persist0").expire_ms, None);
    let k = key(&ks, 3, "list3");
    assert_eq!(
        (k.expire_ms, &k.value),
        (Some(4_102_444_800_123), &list(&["x", "y"]))
    );
    assert_eq!(key(&ks, 3, "persist3").expire_ms, None);
    let k = key(&ks, 15, "hash15");
    assert_eq!(
        (k.expire_ms, &k.value),
        (Some(4_102_444_801_000), &hash(&[("f", "v")]))
    );
}

#[test]
fn no_compression_no_checksum() {
    let data = fixture("plain.rdb");
    let (_, recs) = records(&data).unwrap();
    assert!(!eof_ok(&recs), "checksum 0 means not checked");
    assert_eq!(data.get(data.len() - 8..), Some(&[0u8; 8][..]));
    let ks = keys(&data);
    assert_eq!(
        key(&ks, 0, "lzf").value,
        Value::String(b(&"abcdefghij".repeat(100)))
    );
    assert_eq!(key(&ks, 0, "list").value, list(&["a", "b", "c"]));
}

#[test]
fn lfu_and_lru_metadata() {
    let ks = keys(&fixture("lfu.rdb"));
    for name in ["k1", "k2"] {
        let k = key(&ks, 0, name);
        assert!(k.lfu_freq.is_some(), "{name}");
        assert_eq!(k.lru_idle, None);
    }
    let ks = keys(&fixture("lru.rdb"));
    let k = key(&ks, 0, "k1");
    assert!(k.lru_idle.is_some());
    assert_eq!(k.lfu_freq, None);
    assert_eq!(k.value, Value::String(b("v1")));
}

#[test]
fn functions() {
    let data = fixture("functions.rdb");
    let (_, recs) = records(&data).unwrap();
    let f: Vec<&Vec<u8>> = recs
        .iter()
        .filter_map(|r| match r {
            Record::Function { payload } => Some(payload),
            _ => None,
        })
        .collect();
    assert_eq!(
        f,
        vec![&b("#!lua name=mylib\nredis.register_function('myfunc', function(keys, args) return 1 end)")]
    );
    assert_eq!(key(&keys(&data), 0, "k").value, Value::String(b("v")));
}

// ---- data files from redis/redis tests/assets ----

#[test]
fn asset_encodings_rdb_v4() {
    let data = fixture("redis-assets/encodings.rdb");
    let (version, recs) = records(&data).unwrap();
    assert_eq!(version, 4);
    assert!(!eof_ok(&recs), "RDB 4 has no checksum");
    let ks = keys(&data);
    assert_eq!(ks.len(), 13);
    let row = ["1", "2", "3", "a", "b", "c", "100000", "6000000000"];
    let t = |n: &str| key(&ks, 0, n).type_byte;
    assert_eq!(key(&ks, 0, "list_zipped").value, list(&row));
    assert_eq!(t("list_zipped"), TYPE_LIST_ZIPLIST);
    let three: Vec<&str> = row.iter().chain(&row).chain(&row).copied().collect();
    assert_eq!(key(&ks, 0, "list").value, list(&three));
    assert_eq!(t("list"), TYPE_LIST);
    assert_same(
        &key(&ks, 0, "set").value,
        &set(&["1", "100000", "2", "3", "6000000000", "a", "b", "c"]),
    );
    assert_eq!(
        key(&ks, 0, "set_zipped_1").value,
        set(&["1", "2", "3", "4"])
    );
    assert_eq!(
        key(&ks, 0, "set_zipped_2").value,
        set(&["100000", "200000", "300000", "400000"])
    );
    assert_eq!(
        key(&ks, 0, "set_zipped_3").value,
        set(&[
            "1000000000",
            "2000000000",
            "3000000000",
            "4000000000",
            "5000000000",
            "6000000000"
        ])
    );
    assert_eq!(t("set_zipped_3"), TYPE_SET_INTSET);
    assert_eq!(key(&ks, 0, "string").value, Value::String(b("Hello World")));
    assert_eq!(key(&ks, 0, "number").value, Value::String(b("10")));
    assert_eq!(
        key(&ks, 0, "compressible").value,
        Value::String(vec![b'a'; 137])
    );
    assert_same(
        &key(&ks, 0, "hash").value,
        &hash(&[
            ("a", "1"),
            ("b", "2"),
            ("c", "3"),
            ("aa", "10"),
            ("bb", "20"),
            ("cc", "30"),
            ("aaa", "100"),
            ("bbb", "200"),
            ("ccc", "300"),
            ("ddd", "400"),
            ("eee", "5000000000"),
        ]),
    );
    assert_eq!(
        key(&ks, 0, "hash_zipped").value,
        hash(&[("a", "1"), ("b", "2"), ("c", "3")])
    );
    assert_eq!(t("hash_zipped"), TYPE_HASH_ZIPLIST);
    assert_eq!(t("zset"), TYPE_ZSET);
    assert_same(
        &key(&ks, 0, "zset").value,
        &zset(&[
            ("a", 1.0),
            ("b", 2.0),
            ("c", 3.0),
            ("aa", 10.0),
            ("bb", 20.0),
            ("cc", 30.0),
            ("aaa", 100.0),
            ("bbb", 200.0),
            ("ccc", 300.0),
            ("aaaa", 1000.0),
            ("cccc", 123_456_789.0),
            ("bbbb", 5_000_000_000.0),
        ]),
    );
    assert_eq!(
        key(&ks, 0, "zset_zipped").value,
        zset(&[("a", 1.0), ("b", 2.0), ("c", 3.0)])
    );
    assert_eq!(t("zset_zipped"), TYPE_ZSET_ZIPLIST);
}

#[test]
fn asset_old_hash_list_zset_encodings() {
    let f1v1 = hash(&[("f1", "v1"), ("f2", "v2")]);
    for (file, version, type_byte) in [
        ("redis-assets/hash-zipmap.rdb", 3, TYPE_HASH_ZIPMAP),
        ("redis-assets/hash-ziplist.rdb", 9, TYPE_HASH_ZIPLIST),
    ] {
        let data = fixture(file);
        let (v, recs) = records(&data).unwrap();
        assert_eq!(v, version);
        assert_eq!(eof_ok(&recs), version >= 5, "{file}");
        let ks = keys(&data);
        let k = key(&ks, 0, "hash");
        assert_eq!((k.type_byte, &k.value), (type_byte, &f1v1), "{file}");
    }
    let data = fixture("redis-assets/list-quicklist.rdb");
    let ks = keys(&data);
    let k = key(&ks, 0, "list");
    assert_eq!(
        (k.type_byte, &k.value),
        (TYPE_LIST_QUICKLIST, &list(&["7"]))
    );
    assert_eq!(key(&ks, 0, "x").value, Value::String(b("7")));

    let data = fixture("redis-assets/zset-ziplist.rdb");
    let ks = keys(&data);
    let k = key(&ks, 0, "zset");
    assert_eq!(
        (k.type_byte, &k.value),
        (TYPE_ZSET_ZIPLIST, &zset(&[("one", 1.0), ("two", 2.0)]))
    );
}

#[test]
fn asset_script_backup_aux() {
    let data = fixture("redis-assets/scriptbackup.rdb");
    let (_, recs) = records(&data).unwrap();
    assert!(eof_ok(&recs));
    assert_eq!(
        aux(&recs, "lua"),
        Some(&b"return redis.call('set', 'foo', 'bar')"[..])
    );
    assert_eq!(
        aux(&recs, "repl-id"),
        Some(&b"349eeafec1f98f3f56277e95fc86bc48b30651a2"[..])
    );
    assert!(keys(&data).is_empty());
}

#[test]
fn asset_empty_keys_are_returned_empty() {
    let ks = keys(&fixture("redis-assets/corrupt_empty_keys.rdb"));
    let names: Vec<String> = ks
        .keys()
        .map(|(_, k)| String::from_utf8_lossy(k).into_owned())
        .collect();
    assert_eq!(names.len(), 9, "{names:?}");
    for k in ks.values() {
        let len = match &k.value {
            Value::String(_) => panic!("string"),
            Value::List(v) | Value::Set(v) => v.len(),
            Value::Hash(v) => v.len(),
            Value::ZSet(v) => v.len(),
            Value::Stream(s) => s.length as usize,
        };
        assert_eq!(len, 0, "{:?}", String::from_utf8_lossy(&k.key));
    }
}

#[test]
fn asset_corrupt_ziplist_is_an_error() {
    let err = records(&fixture("redis-assets/corrupt_ziplist.rdb")).unwrap_err();
    assert!(matches!(err, rdb::Error::Corrupt { .. }), "{err}");
    let msg = err.to_string();
    assert!(msg.contains("ziplist"), "{msg}");
}
