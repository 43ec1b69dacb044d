//! Corrupted input is an error, never a panic, a hang or a huge allocation:
//! every truncation of every fixture, and many deterministic bit flips and
//! byte changes (the spirit of Redis's corrupt-dump-fuzzer.tcl).

use rdb::{dump_payload, restore_payload, Reader, Value};

use crate::common::fixture;

const FIXTURES: &[&str] = &[
    "strings.rdb",
    "lists.rdb",
    "sets.rdb",
    "hashes.rdb",
    "zsets.rdb",
    "expiry.rdb",
    "plain.rdb",
    "lfu.rdb",
    "lru.rdb",
    "functions.rdb",
    "redis-assets/encodings.rdb",
    "redis-assets/hash-ziplist.rdb",
    "redis-assets/hash-zipmap.rdb",
    "redis-assets/list-quicklist.rdb",
    "redis-assets/zset-ziplist.rdb",
    "redis-assets/scriptbackup.rdb",
    "redis-assets/corrupt_empty_keys.rdb",
];

/// Reads everything; returns whether it succeeded.
fn read_all(data: &[u8], verify: bool) -> bool {
    let mut r = match Reader::new(data) {
        Ok(r) => r,
        Err(_) => return false,
    };
    r.set_verify_checksum(verify);
    loop {
        match r.next_record() {
            Ok(Some(_)) => {}
            Ok(None) => return true,
            Err(e) => {
                // Errors render without panicking too.
                let _ = e.to_string();
                return false;
            }
        }
    }
}

/// xorshift64*: deterministic, no dependency.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

#[test]
fn every_truncation_is_an_error() {
    for name in FIXTURES {
        let data = fixture(name);
        assert!(read_all(&data, true), "{name} loads whole");
        for len in 0..data.len() {
            assert!(!read_all(&data[..len], true), "{name} truncated to {len}");
            read_all(&data[..len], false);
        }
    }
}

#[test]
fn bit_flips_never_panic() {
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    for name in FIXTURES {
        let data = fixture(name);
        for round in 0..1500 {
            let mut d = data.clone();
            let flips = 1 + rng.below(3);
            let mut first = usize::MAX;
            for _ in 0..flips {
                let i = rng.below(d.len());
                first = first.min(i);
                if round % 2 == 0 {
                    d[i] ^= 1 << rng.below(8);
                } else {
                    d[i] = rng.next() as u8;
                }
            }
            // Without checksum verification the parser goes all the way.
            read_all(&d, false);
            // Files with a stored CRC64 detect every change (RDB < 5 and
            // `rdbchecksum no` files have none to check; a changed version
            // digit in the header can turn a file into RDB < 5).
            let checked = !matches!(
                *name,
                "plain.rdb" | "redis-assets/encodings.rdb" | "redis-assets/hash-zipmap.rdb"
            );
            if checked && first >= 9 && d != data {
                assert!(!read_all(&d, true), "{name}: corrupted file accepted");
            }
        }
    }
}

#[test]
fn forged_lengths_fail_fast() {
    // A string claiming 4 GB (32-bit length 0xFFFFFFFF), then 3 bytes.
    let mut f = b"REDIS0010".to_vec();
    f.extend_from_slice(&[
        0x00, 0x01, b'k', 0x80, 0xff, 0xff, 0xff, 0xff, b'a', b'b', b'c',
    ]);
    let t = std::time::Instant::now();
    assert!(matches!(
        Reader::new(&f[..]).unwrap().next_record(),
        Err(rdb::Error::UnexpectedEof { .. })
    ));
    // A list claiming 2^62 elements (64-bit length), a set as well.
    for t_byte in [1u8, 2, 4, 5, 14, 18] {
        let mut f = b"REDIS0010".to_vec();
        f.extend_from_slice(&[
            t_byte, 0x01, b'k', 0x81, 0x40, 0, 0, 0, 0, 0, 0, 0, 0x01, b'x',
        ]);
        assert!(Reader::new(&f[..]).unwrap().next_record().is_err());
    }
    // An LZF string claiming 1 GB from 2 compressed bytes.
    let mut f = b"REDIS0010".to_vec();
    f.extend_from_slice(&[
        0x00, 0x01, b'k', 0xC3, 0x02, 0x80, 0x40, 0, 0, 0, 0x00, b'a',
    ]);
    assert!(matches!(
        Reader::new(&f[..]).unwrap().next_record(),
        Err(rdb::Error::Corrupt { .. })
    ));
    assert!(t.elapsed().as_secs() < 2);
}

#[test]
fn corrupted_dump_payloads_never_panic() {
    let values = vec![
        Value::String(b"hello world hello world hello world".to_vec()),
        Value::List((0..300).map(|i| format!("e{i}").into_bytes()).collect()),
        Value::Set((0..20).map(|i| i.to_string().into_bytes()).collect()),
        Value::Set(vec![b"a".to_vec(), b"b".to_vec()]),
        Value::Hash(
            (0..3)
                .map(|i| (format!("f{i}").into_bytes(), b"v".to_vec()))
                .collect(),
        ),
        Value::Hash(
            (0..200)
                .map(|i| {
                    (
                        format!("{}{i}", "f".repeat(i % 7 + 1)).into_bytes(),
                        i.to_string().into_bytes(),
                    )
                })
                .collect(),
        ),
        Value::ZSet(vec![(b"m".to_vec(), 1.5), (b"n".to_vec(), -2.0)]),
        Value::ZSet(
            (0..200)
                .map(|i| (format!("m{i}").into_bytes(), f64::from(i)))
                .collect(),
        ),
    ];
    let mut rng = Rng(42);
    for v in &values {
        for version in [9u16, 10] {
            let good = dump_payload(v, version);
            assert!(restore_payload(&good).is_ok());
            for _ in 0..1000 {
                let mut d = good.clone();
                let body = d.len() - 10;
                let i = rng.below(body);
                d[i] ^= 1 << rng.below(8);
                // Re-seal so the parser, not the CRC, meets the damage.
                let crc = rdb::crc64::crc64(0, &d[..body + 2]);
                d[body + 2..].copy_from_slice(&crc.to_le_bytes());
                let _ = restore_payload(&d);
                let _ = restore_payload(&d[..rng.below(d.len())]);
            }
        }
    }
}
