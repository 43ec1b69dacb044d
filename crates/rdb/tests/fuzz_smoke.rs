//! A stable-Rust stand-in for the fuzz targets in `fuzz/` (which need
//! nightly and cargo-fuzz, and are not run in CI): a few thousand seeded
//! mutations of the fixtures (bit flips, byte changes, truncations,
//! insertions, deletions, duplicated runs) through the very checks the
//! `rdb_load` and `rdb_roundtrip` targets run (`fuzz/src/rdb_oracle.rs`,
//! compiled in here): the reader, `restore_payload`, and the write/read
//! round trip. Deterministic, and quick in a debug build.

use rdb::{dump_payload, Record};

use crate::common::fixture;
use crate::rdb_oracle;

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
    "redis-assets/corrupt_ziplist.rdb",
];

/// Mutations per fixture.
const ROUNDS: usize = 500;

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
        (self.next() % n.max(1) as u64) as usize
    }
}

/// One to four random edits of `data`.
fn mutate(rng: &mut Rng, data: &[u8]) -> Vec<u8> {
    let mut d = data.to_vec();
    for _ in 0..1 + rng.below(4) {
        let i = rng.below(d.len());
        match rng.below(7) {
            0 if !d.is_empty() => d[i] ^= 1 << rng.below(8),
            1 if !d.is_empty() => d[i] = rng.next() as u8,
            // Lengths and type bytes live at the extremes of a byte.
            2 if !d.is_empty() => {
                d[i] = [0x00, 0x3f, 0x40, 0x7f, 0x80, 0x81, 0xc3, 0xff][rng.below(8)]
            }
            3 => d.truncate(i),
            4 => {
                let n = 1 + rng.below(8);
                let bytes: Vec<u8> = (0..n).map(|_| rng.next() as u8).collect();
                d.splice(i..i, bytes);
            }
            5 => {
                let end = (i + 1 + rng.below(16)).min(d.len());
                d.drain(i..end);
            }
            _ => {
                let end = (i + 1 + rng.below(32)).min(d.len());
                let run = d[i..end].to_vec();
                d.splice(i..i, run);
            }
        }
    }
    d
}

#[test]
fn fixtures_pass_the_fuzz_checks() {
    for name in FIXTURES {
        let data = fixture(name);
        let loaded = rdb_oracle::load(&data).is_some();
        assert_eq!(
            loaded,
            *name != "redis-assets/corrupt_ziplist.rdb",
            "{name}"
        );
        rdb_oracle::roundtrip(&data);
        rdb_oracle::restore(&data);
    }
}

#[test]
fn mutated_fixtures_pass_the_fuzz_checks() {
    let start = std::time::Instant::now();
    let mut rng = Rng(0x5eed_f00d_cafe_d00d);
    let (mut runs, mut loaded) = (0, 0);
    for name in FIXTURES {
        let data = fixture(name);
        let payloads: Vec<Vec<u8>> = rdb_oracle::load(&data)
            .unwrap_or_default()
            .iter()
            .filter_map(|rec| match rec {
                Record::Key(k) => Some(dump_payload(&k.value, 10)),
                _ => None,
            })
            .collect();
        for _ in 0..ROUNDS {
            let d = mutate(&mut rng, &data);
            if rdb_oracle::load(&d).is_some() {
                loaded += 1;
            }
            rdb_oracle::roundtrip(&d);
            rdb_oracle::restore(&d);
            // A mutated DUMP of one of the fixture's values (`restore`
            // re-seals its CRC, so the damage reaches the value parser).
            if !payloads.is_empty() {
                let p = &payloads[rng.below(payloads.len())];
                rdb_oracle::restore(&mutate(&mut rng, p));
            }
            runs += 1;
        }
    }
    assert_eq!(runs, FIXTURES.len() * ROUNDS);
    // Some mutations must leave a readable file, or the round trip was
    // never exercised.
    assert!(loaded > 50, "only {loaded} mutated files read fully");
    assert!(start.elapsed().as_secs() < 10, "took {:?}", start.elapsed());
}
