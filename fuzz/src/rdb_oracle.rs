//! What the `rdb_load` and `rdb_roundtrip` fuzz targets check. Any input
//! may be rejected; what must hold is:
//!
//! - reading never panics, never loops, and the reader's offset only moves
//!   forward and never past the input;
//! - after the EOF record the reader returns `None`, and errors render;
//! - `restore_payload` never panics, and a payload it accepts re-dumps to
//!   one that restores to the same value;
//! - a file that reads fully, re-written key by key with the `Writer`,
//!   reads back as the same records (encodings may differ).
//!
//! This file is also compiled into the rdb crate's integration tests
//! (`crates/rdb/tests/fuzz_smoke.rs`), so it only uses `rdb` and `std`.

use rdb::{crc64, dump_payload, restore_payload, restore_payload_typed, Reader, Record, Value};
use rdb::{WriteOptions, Writer};

/// Reads `data` as an RDB file, without verifying the checksum (so that
/// mutated files reach the value parsers), to the end or the first error.
/// Returns the records of a file that read to its EOF record.
pub fn load(data: &[u8]) -> Option<Vec<Record>> {
    let mut r = match Reader::new(data) {
        Ok(r) => r,
        Err(e) => {
            let _ = e.to_string();
            return None;
        }
    };
    r.set_verify_checksum(false);
    let mut records = Vec::new();
    loop {
        let before = r.offset();
        match r.next_record() {
            Ok(Some(rec)) => {
                assert!(r.offset() > before, "a record consumed no bytes");
                assert!(r.offset() <= data.len() as u64, "offset past the input");
                records.push(rec);
            }
            Ok(None) => break,
            Err(e) => {
                let _ = e.to_string();
                return None;
            }
        }
    }
    assert!(
        matches!(records.last(), Some(Record::Eof { .. })),
        "a file ended without an EOF record"
    );
    assert!(matches!(r.next_record(), Ok(None)), "a record after EOF");
    Some(records)
}

/// Parses `data` as a `RESTORE` payload, as given and with its CRC64
/// re-sealed (arbitrary bytes almost never carry a valid CRC, and the
/// value parser behind it is what needs the exercise).
pub fn restore(data: &[u8]) {
    check_restore(data);
    if let Some(body) = data.len().checked_sub(8) {
        let mut sealed = data.to_vec();
        let crc = crc64::crc64(0, data.get(..body).unwrap_or_default());
        if let Some(footer) = sealed.get_mut(body..) {
            footer.copy_from_slice(&crc.to_le_bytes());
        }
        check_restore(&sealed);
    }
}

fn check_restore(payload: &[u8]) {
    match restore_payload_typed(payload) {
        Ok((_, value)) => {
            let again = dump_payload(&value, 10);
            let back = restore_payload(&again).expect("a re-dumped value restores");
            assert_eq!(normalize(&back), normalize(&value), "DUMP round trip");
        }
        Err(e) => {
            let _ = e.to_string();
        }
    }
}

/// When `data` reads fully, writes its records again with the [`Writer`]
/// (in Redis 7.0's encodings) and checks they read back the same. Module
/// aux and slot info records are not written (the writer has no use for
/// them), and type bytes are not compared (encodings change).
pub fn roundtrip(data: &[u8]) {
    let Some(records) = load(data) else {
        return;
    };
    let mut w = Writer::new(Vec::new(), WriteOptions::default()).expect("writing to a Vec");
    let mut want = Vec::new();
    for rec in &records {
        let written = match rec {
            Record::Aux { key, value } => w.aux(key, value),
            Record::SelectDb(db) => w.select_db(*db),
            Record::ResizeDb {
                db_size,
                expires_size,
            } => w.resize_db(*db_size, *expires_size),
            Record::Key(k) => (|| {
                if let Some(idle) = k.lru_idle {
                    w.idle(idle)?;
                }
                if let Some(freq) = k.lfu_freq {
                    w.freq(freq)?;
                }
                w.write_value(&k.key, &k.value, k.expire_ms)
            })(),
            Record::Function { payload } => w.function(payload),
            Record::SlotInfo { .. } | Record::ModuleAux { .. } | Record::Eof { .. } => continue,
        };
        if let Err(e) = written {
            panic!("the writer refused what the reader returned: {e} ({rec:?})");
        }
        want.push(comparable(rec));
    }
    let file = w.finish().expect("writing to a Vec");
    let mut r = Reader::new(&file[..]).expect("the re-written header reads");
    let mut got = Vec::new();
    loop {
        match r.next_record() {
            Ok(Some(Record::Eof { checksum_ok })) => assert!(checksum_ok, "re-written checksum"),
            Ok(Some(rec)) => got.push(comparable(&rec)),
            Ok(None) => break,
            Err(e) => panic!("the re-written file does not read back: {e}"),
        }
    }
    assert_eq!(got, want, "records changed through the writer");
}

/// A record with what may legitimately change through a re-write taken
/// out: the type byte, and the order of unordered collections.
fn comparable(rec: &Record) -> Record {
    match rec {
        Record::Key(k) => {
            let mut k = k.clone();
            k.type_byte = 0;
            k.value = normalize(&k.value);
            Record::Key(k)
        }
        other => other.clone(),
    }
}

/// Sorts sets, hashes and sorted sets; makes -0 scores 0.
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
            let mut p: Vec<(Vec<u8>, f64)> = p.iter().map(|(m, s)| (m.clone(), s + 0.0)).collect();
            p.sort_by(|a, b| a.1.total_cmp(&b.1).then_with(|| a.0.cmp(&b.0)));
            Value::ZSet(p)
        }
        other => other.clone(),
    }
}
