//! The `relica-rdb` binary: summaries of the real-Redis fixtures, and a
//! clear error (with a byte offset) and exit status 1 on every damaged
//! file, never a panic.

use std::io::Write;
use std::process::{Command, Stdio};

use rdb::{WriteOptions, Writer};

use crate::common::{fixture, fixture_path};

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

/// Runs the tool with `args`, feeding `stdin` (when given) to it.
fn run(args: &[&str], stdin: Option<&[u8]>) -> Run {
    let mut child = Command::new(env!("CARGO_BIN_EXE_relica-rdb"))
        .args(args)
        .stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn relica-rdb");
    let writer = stdin.map(|data| {
        let mut pipe = child.stdin.take().unwrap();
        let data = data.to_vec();
        // The tool may stop reading early (that is the point of errors):
        // a broken pipe here is fine.
        std::thread::spawn(move || {
            let _ = pipe.write_all(&data);
        })
    });
    let out = child.wait_with_output().expect("wait for relica-rdb");
    if let Some(w) = writer {
        w.join().unwrap();
    }
    let run = Run {
        code: out.status.code().expect("exited, not killed by a signal"),
        stdout: String::from_utf8(out.stdout).expect("UTF-8 stdout"),
        stderr: String::from_utf8(out.stderr).expect("UTF-8 stderr"),
    };
    assert!(!run.stderr.contains("panicked"), "{}", run.stderr);
    run
}

/// Checks `data` through standard input.
fn check_bytes(data: &[u8]) -> Run {
    run(&["-"], Some(data))
}

/// The count on the `keys by encoding` line of `name`.
fn encoding_count(out: &str, name: &str) -> Option<u64> {
    out.lines().find_map(|l| {
        let mut w = l.split_whitespace();
        if w.next() == Some(name) {
            w.next()?.parse().ok()
        } else {
            None
        }
    })
}

/// The offset in an error message's first "byte N".
fn error_offset(stderr: &str) -> u64 {
    let at = stderr
        .find("byte ")
        .unwrap_or_else(|| panic!("no offset in {stderr:?}"));
    stderr[at + 5..]
        .split(|c: char| !c.is_ascii_digit())
        .next()
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no offset in {stderr:?}"))
}

fn assert_ok(name: &str, want: &[&str], encodings: &[(&str, u64)]) -> Run {
    let path = fixture_path(name);
    let r = run(&[path.to_str().unwrap()], None);
    assert_eq!(r.code, 0, "{name}: {}{}", r.stdout, r.stderr);
    assert!(r.stderr.is_empty(), "{name}: {}", r.stderr);
    let size = fixture(name).len();
    for line in want
        .iter()
        .copied()
        .chain(["RDB looks OK", &format!("size: {size} bytes")])
    {
        assert!(
            r.stdout.lines().any(|l| l.trim() == line),
            "{name}: no line {line:?} in\n{}",
            r.stdout
        );
    }
    for (enc, n) in encodings {
        assert_eq!(encoding_count(&r.stdout, enc), Some(*n), "{name} {enc}");
    }
    r
}

const REDIS_7_AUX: [&str; 2] = [
    "aux \"redis-ver\" = \"7.0.15\"",
    "aux \"redis-bits\" = \"64\"",
];

/// Expected `keys by encoding` counts.
type Encodings<'a> = &'a [(&'a str, u64)];

#[test]
fn summaries_of_the_redis_7_fixtures() {
    let cases: &[(&str, &[&str], Encodings)] = &[
        (
            "strings.rdb",
            &[
                "db 0: 11 keys, 0 expires (RESIZEDB hint: 11 keys, 0 expires)",
                "string   11 keys, 1091 bytes",
                "total: 11 keys, 0 expires (0 already expired)",
            ],
            &[("string", 11)],
        ),
        (
            "lists.rdb",
            &[
                "list     4 keys, 41 elements",
                "total: 4 keys, 0 expires (0 already expired)",
            ],
            &[("quicklist-v2", 4)],
        ),
        (
            "sets.rdb",
            &["set      5 keys, 22 elements"],
            &[("set-intset", 3), ("set-hashtable", 2)],
        ),
        (
            "hashes.rdb",
            &["hash     3 keys, 15 elements"],
            &[("hash-listpack", 1), ("hash-hashtable", 2)],
        ),
        (
            "zsets.rdb",
            &["zset     3 keys, 19 elements"],
            &[("zset-listpack", 1), ("zset-v2", 2)],
        ),
        (
            "expiry.rdb",
            &[
                "db 0: 2 keys, 1 expire (RESIZEDB hint: 2 keys, 1 expire)",
                "db 3: 2 keys, 1 expire (RESIZEDB hint: 2 keys, 1 expire)",
                "db 15: 1 key, 1 expire (RESIZEDB hint: 1 key, 1 expire)",
                "total: 5 keys, 3 expires (0 already expired)",
            ],
            &[("string", 3), ("quicklist-v2", 1), ("hash-listpack", 1)],
        ),
        (
            "plain.rdb",
            &["checksum: not checked (0 stored: saved with rdbchecksum no)"],
            &[("string", 1), ("quicklist-v2", 1)],
        ),
        (
            "lfu.rdb",
            &["keys with an LFU frequency: 2"],
            &[("string", 2)],
        ),
        (
            "lru.rdb",
            &["keys with an LRU idle time: 1"],
            &[("string", 1)],
        ),
        (
            "functions.rdb",
            &["function libraries: 1"],
            &[("string", 1)],
        ),
    ];
    for (name, want, encodings) in cases {
        let r = assert_ok(name, want, encodings);
        for line in ["RDB version: 10", "aux fields: 5"]
            .iter()
            .chain(&REDIS_7_AUX)
        {
            assert!(r.stdout.lines().any(|l| l == *line), "{name}: {line}");
        }
        if *name != "plain.rdb" {
            assert!(r.stdout.lines().any(|l| l == "checksum: OK"), "{name}");
        }
        // ctime is shown with its date.
        assert!(r.stdout.contains("aux \"ctime\" = \""), "{name}");
        assert!(r.stdout.contains("Z)\n"), "{name}");
    }
}

#[test]
fn summaries_of_older_redis_files() {
    assert_ok(
        "redis-assets/encodings.rdb",
        &[
            "RDB version: 4",
            "total: 13 keys, 0 expires (0 already expired)",
            "checksum: none (RDB versions below 5 have none)",
        ],
        &[
            ("string", 3),
            ("list-linked", 1),
            ("set-intset", 3),
            ("zset-v1", 1),
            ("zset-ziplist", 1),
            ("hash-ziplist", 1),
        ],
    );
    assert_ok(
        "redis-assets/hash-zipmap.rdb",
        &["RDB version: 3"],
        &[("hash-zipmap", 1)],
    );
    assert_ok(
        "redis-assets/list-quicklist.rdb",
        &["RDB version: 8"],
        &[("quicklist", 1)],
    );
    assert_ok(
        "redis-assets/hash-ziplist.rdb",
        &["RDB version: 9"],
        &[("hash-ziplist", 1)],
    );
    assert_ok(
        "redis-assets/zset-ziplist.rdb",
        &["RDB version: 10"],
        &[("zset-ziplist", 1)],
    );
    assert_ok(
        "redis-assets/scriptbackup.rdb",
        &["keys by encoding:", "(none)"],
        &[],
    );
    assert_ok(
        "redis-assets/corrupt_empty_keys.rdb",
        &["checksum: OK"],
        &[],
    );
}

#[test]
fn the_corrupt_redis_asset_names_offset_and_key() {
    let path = fixture_path("redis-assets/corrupt_ziplist.rdb");
    let r = run(&[path.to_str().unwrap()], None);
    assert_eq!(r.code, 1);
    assert!(
        r.stderr.starts_with(
            "error: corrupt RDB at byte 494 while reading value of key \
             'key:000000000091' (type 13, hash-ziplist): "
        ),
        "{}",
        r.stderr
    );
    assert!(
        r.stderr.contains("in record #22 starting at byte 470"),
        "{}",
        r.stderr
    );
    assert!(r.stderr.contains("RDB is not valid"));
    // What was read before the error is summarized.
    assert!(
        r.stdout.contains("read before the error: 21 records"),
        "{}",
        r.stdout
    );
    assert!(!r.stdout.contains("RDB looks OK"));
}

#[test]
fn records_mode_prints_one_line_per_record() {
    let path = fixture_path("expiry.rdb");
    for flag in ["--records", "-v"] {
        let r = run(&[flag, path.to_str().unwrap()], None);
        assert_eq!(r.code, 0, "{}", r.stderr);
        let keys: Vec<&str> = r
            .stdout
            .lines()
            .filter(|l| l.contains(" key db="))
            .collect();
        assert_eq!(keys.len(), 5, "{}", r.stdout);
        for want in [
            " key db=3 \"list3\" type=list encoding=quicklist-v2 elements=2 \
             expire=4102444800123 (2100-01-01T00:00:00.123Z)",
            " key db=0 \"persist0\" type=string encoding=string bytes=1 expire=none",
            " key db=15 \"hash15\" type=hash encoding=hash-listpack elements=1 \
             expire=4102444801000 (2100-01-01T00:00:01.000Z)",
        ] {
            assert!(
                keys.iter().any(|l| l.ends_with(want)),
                "{want}\n{}",
                r.stdout
            );
        }
        for want in ["selectdb 3", "resizedb keys=2 expires=1", "eof checksum=ok"] {
            assert!(r.stdout.lines().any(|l| l.ends_with(want)), "{want}");
        }
        // Each record line starts with its offset; the first follows the
        // 9-byte header and is an AUX field.
        assert!(r.stdout.contains("\n@9 aux \"redis-ver\" = \"7.0.15\"\n"));
        assert!(r.stdout.contains("RDB looks OK"));
    }
    let r = run(
        &["-v", fixture_path("functions.rdb").to_str().unwrap()],
        None,
    );
    assert!(
        r.stdout
            .contains("function \"#!lua name=mylib\" (85 bytes)"),
        "{}",
        r.stdout
    );
}

#[test]
fn keys_are_escaped() {
    let mut w = Writer::new(Vec::new(), WriteOptions::default()).unwrap();
    w.select_db(0).unwrap();
    w.string(b"tab\there \"q\" \xff\n", b"v", None).unwrap();
    let file = w.finish().unwrap();
    let r = run(&["-v", "-"], Some(&file));
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        r.stdout
            .contains(" key db=0 \"tab\\there \\\"q\\\" \\xff\\n\" type=string"),
        "{}",
        r.stdout
    );
}

#[test]
fn standard_input() {
    let file = fixture("expiry.rdb");
    let from_file = run(&[fixture_path("expiry.rdb").to_str().unwrap()], None);
    let from_stdin = check_bytes(&file);
    assert_eq!(from_stdin.code, 0);
    assert!(from_stdin.stdout.starts_with("checking RDB file <stdin>\n"));
    let tail = |s: &str| s.lines().skip(1).collect::<Vec<_>>().join("\n");
    assert_eq!(tail(&from_stdin.stdout), tail(&from_file.stdout));
}

#[test]
fn truncated_files_fail_with_an_offset() {
    for name in [
        "strings.rdb",
        "lists.rdb",
        "expiry.rdb",
        "redis-assets/encodings.rdb",
    ] {
        let data = fixture(name);
        let n = data.len();
        for len in [0, 4, 9, 10, n / 3, n / 2, 2 * n / 3, n - 9, n - 1] {
            let r = check_bytes(&data[..len]);
            assert_eq!(r.code, 1, "{name} cut to {len}: {}", r.stdout);
            assert!(r.stderr.contains("RDB is not valid"), "{}", r.stderr);
            if len >= 9 {
                assert!(
                    r.stderr
                        .starts_with("error: unexpected end of RDB data at byte "),
                    "{name} cut to {len}: {}",
                    r.stderr
                );
                // The offset of the item that could not be read whole.
                let at = error_offset(&r.stderr);
                assert!(at >= 9 && at <= len as u64, "{}", r.stderr);
            }
        }
    }
}

#[test]
fn bit_flips_fail_with_an_offset() {
    // Files with a checksum detect any change; the offset is where the
    // damage was found, at or after the flipped byte.
    for name in [
        "strings.rdb",
        "lists.rdb",
        "sets.rdb",
        "hashes.rdb",
        "zsets.rdb",
    ] {
        let data = fixture(name);
        for i in (9..data.len()).step_by(data.len() / 7) {
            for bit in [0, 7] {
                let mut d = data.clone();
                d[i] ^= 1 << bit;
                let r = check_bytes(&d);
                assert_eq!(r.code, 1, "{name} byte {i} bit {bit}: {}", r.stdout);
                let at = error_offset(&r.stderr);
                assert!(at >= i as u64 && at <= d.len() as u64, "{}", r.stderr);
                assert!(r.stderr.contains("RDB is not valid"));
            }
        }
    }
}

#[test]
fn checksum_mismatch_names_the_checksum_offset() {
    let mut data = fixture("strings.rdb");
    let n = data.len();
    data[n - 1] ^= 0x10;
    let r = check_bytes(&data);
    assert_eq!(r.code, 1);
    let want = format!("error at byte {}: wrong RDB checksum: stored 0x", n - 8);
    assert!(r.stderr.starts_with(&want), "{}", r.stderr);
    assert!(
        r.stderr.contains("last key read before it: \""),
        "{}",
        r.stderr
    );
}

#[test]
fn errors_inside_a_value_name_the_key() {
    let mut w = Writer::new(Vec::new(), WriteOptions::default()).unwrap();
    w.select_db(2).unwrap();
    w.string(b"first", b"ok", None).unwrap();
    let items: Vec<Vec<u8>> = (0..50).map(|i| format!("item-{i}").into_bytes()).collect();
    w.list(
        b"victim",
        items.len(),
        items.iter().map(Vec::as_slice),
        None,
    )
    .unwrap();
    let file = w.finish().unwrap();
    let cut = file.len() - 40;
    let r = check_bytes(&file[..cut]);
    assert_eq!(r.code, 1);
    // The offset is that of the listpack node being read.
    let first = r.stderr.lines().next().unwrap();
    assert!(
        first.starts_with("error: unexpected end of RDB data at byte ")
            && first.ends_with(" while reading value of key 'victim' (type 18, quicklist-v2)"),
        "{first}"
    );
    assert!(error_offset(first) < cut as u64);
    assert!(r
        .stderr
        .contains("last key read before it: \"first\" in db 2"));
    assert!(r.stdout.contains("db 2: 1 key, 0 expires"), "{}", r.stdout);
}

#[test]
fn empty_garbage_and_foreign_files() {
    let dir = std::path::PathBuf::from(env!("CARGO_TARGET_TMPDIR"));
    let empty = dir.join(format!("relica-rdb-empty-{}.rdb", std::process::id()));
    std::fs::write(&empty, b"").unwrap();
    let r = run(&[empty.to_str().unwrap()], None);
    std::fs::remove_file(&empty).unwrap();
    assert_eq!(r.code, 1);
    assert!(
        r.stderr
            .starts_with("error: unexpected end of RDB data at byte 0 while reading header"),
        "{}",
        r.stderr
    );

    let r = check_bytes(b"GIF89a and then some more bytes");
    assert_eq!(r.code, 1);
    assert!(
        r.stderr.starts_with("error at byte 0: wrong signature"),
        "{}",
        r.stderr
    );

    let r = check_bytes(b"REDIS0099\xff");
    assert_eq!(r.code, 1);
    assert!(
        r.stderr
            .starts_with("error at byte 5: can't handle RDB format version 99"),
        "{}",
        r.stderr
    );

    // Random bytes, bare and behind a valid header.
    let mut state = 0x2545_f491_4f6c_dd1du64;
    let mut garbage = Vec::new();
    for _ in 0..4096 {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        garbage.push(state as u8);
    }
    assert_eq!(check_bytes(&garbage).code, 1);
    for start in 0..8 {
        let mut d = b"REDIS0010".to_vec();
        d.extend_from_slice(&garbage[start * 500..]);
        let r = check_bytes(&d);
        assert_eq!(r.code, 1, "{}", r.stdout);
        assert!(error_offset(&r.stderr) >= 9, "{}", r.stderr);
    }
}

#[test]
fn forged_lengths_fail_fast() {
    // A string claiming 4 GB, then 3 bytes; a list claiming 2^62 nodes.
    let t = std::time::Instant::now();
    for body in [
        &[
            0x00, 0x01, b'k', 0x80, 0xff, 0xff, 0xff, 0xff, b'a', b'b', b'c',
        ][..],
        &[
            18, 0x01, b'k', 0x81, 0x40, 0, 0, 0, 0, 0, 0, 0, 0x02, 0x01, b'x',
        ][..],
    ] {
        let mut f = b"REDIS0010".to_vec();
        f.extend_from_slice(body);
        let r = check_bytes(&f);
        assert_eq!(r.code, 1);
        assert!(r.stderr.contains("of key 'k'"), "{}", r.stderr);
    }
    assert!(t.elapsed().as_secs() < 5);
}

#[test]
fn trailing_bytes_are_a_warning() {
    let mut data = fixture("lru.rdb");
    data.extend_from_slice(b"xyz");
    let r = check_bytes(&data);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r
        .stdout
        .contains("warning: 3 bytes after the EOF record (ignored, as Redis does)"));
}

#[test]
fn usage() {
    for help in ["--help", "-h"] {
        let r = run(&[help], None);
        assert_eq!(r.code, 0);
        assert!(r.stdout.contains("Usage: relica-rdb [OPTIONS] <FILE>"));
    }
    for bad in [&[][..], &["--frobnicate", "x.rdb"], &["a.rdb", "b.rdb"]] {
        let r = run(bad, None);
        assert_eq!(r.code, 2, "{bad:?}");
        assert!(r.stderr.contains("Usage:"), "{}", r.stderr);
    }
    let r = run(&["/nonexistent/dump.rdb"], None);
    assert_eq!(r.code, 2);
    assert!(r
        .stderr
        .starts_with("relica-rdb: can't open /nonexistent/dump.rdb: "));
}
