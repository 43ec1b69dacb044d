//! Hashes and sets: seeded random command streams compared with a real
//! redis-server reply by reply (order-insensitive where Redis leaves the
//! order unspecified), plus the random-choice commands, encodings and
//! propagation checked directly.

use rand::{Rng, SeedableRng};

use crate::util::{canon, Diff, Server};

fn pick<'a>(rng: &mut impl Rng, v: &[&'a str]) -> &'a str {
    v[rng.gen_range(0..v.len())]
}

fn field(rng: &mut impl Rng) -> String {
    match rng.gen_range(0..10) {
        0 => format!("{}", rng.gen_range(-5..300)),
        1 => "x".repeat(rng.gen_range(60..70)),
        _ => format!("f{}", rng.gen_range(0..40)),
    }
}

fn number(rng: &mut impl Rng) -> String {
    match rng.gen_range(0..8) {
        0 => "notanumber".into(),
        1 => "9223372036854775807".into(),
        2 => format!("{}.{}", rng.gen_range(-100..100), rng.gen_range(0..999)),
        3 => "1e3".into(),
        _ => format!("{}", rng.gen_range(-1000..1000)),
    }
}

/// HGETALL-style flat replies as sorted (field, value) pairs.
fn sorted_pairs(reply: &[u8]) -> Vec<(String, String)> {
    let text = String::from_utf8_lossy(reply).into_owned();
    let bulks: Vec<String> = text
        .split("\r\n")
        .collect::<Vec<_>>()
        .windows(2)
        .filter(|w| w[0].starts_with('$'))
        .map(|w| w[1].to_string())
        .collect();
    let mut pairs: Vec<(String, String)> = bulks
        .chunks(2)
        .map(|p| (p[0].clone(), p.get(1).cloned().unwrap_or_default()))
        .collect();
    pairs.sort();
    pairs
}

#[test]
fn hashes_differential_against_redis() {
    let mut d = Diff::start(&[]);
    let mut rng = rand::rngs::SmallRng::seed_from_u64(0x4a54);
    let keys = ["h1", "h2", "big", "str"];
    d.same_str(&["SET", "str", "x"]);
    for _ in 0..2500 {
        let k = pick(&mut rng, &keys).to_string();
        let f = field(&mut rng);
        let cmd: Vec<String> = match rng.gen_range(0..17) {
            0 | 1 => {
                let mut v = vec!["HSET".to_string(), k.clone()];
                for _ in 0..rng.gen_range(1..4) {
                    v.push(field(&mut rng));
                    v.push(number(&mut rng));
                }
                if rng.gen_range(0..30) == 0 {
                    v.pop();
                }
                v
            }
            2 => vec!["HSETNX".into(), k, f, number(&mut rng)],
            3 => vec!["HGET".into(), k, f],
            4 => vec!["HMGET".into(), k, f, field(&mut rng)],
            5 => vec!["HDEL".into(), k, f, field(&mut rng)],
            6 => vec!["HLEN".into(), k],
            7 => vec!["HEXISTS".into(), k, f],
            8 => vec!["HSTRLEN".into(), k, f],
            9 => vec!["HINCRBY".into(), k, f, number(&mut rng)],
            10 => vec!["HINCRBYFLOAT".into(), k, f, number(&mut rng)],
            11 => vec!["HMSET".into(), k, f, number(&mut rng)],
            12 => vec!["HGETALL".into(), k],
            13 => vec!["HKEYS".into(), k],
            14 => vec!["HVALS".into(), k],
            15 => vec!["OBJECT".into(), "ENCODING".into(), k],
            _ => vec!["HSCAN".into(), k, "0".into(), "COUNT".into(), "1000".into()],
        };
        let args: Vec<&[u8]> = cmd.iter().map(|s| s.as_bytes()).collect();
        match cmd[0].as_str() {
            "HGETALL" => {
                let (a, b) = d.both(&args);
                assert_eq!(sorted_pairs(&a), sorted_pairs(&b), "{cmd:?}");
            }
            "HKEYS" | "HVALS" => d.same_unordered(&args),
            "HSCAN" => {
                let (a, b) = d.both(&args);
                assert_eq!(canon(&a), canon(&b), "{cmd:?}");
            }
            _ => {
                d.same(&args);
            }
        }
        if rng.gen_range(0..400) == 0 {
            let big: Vec<String> = (0..140)
                .flat_map(|i| [format!("b{i}"), format!("{i}")])
                .collect();
            let mut v = vec!["HSET", "big"];
            v.extend(big.iter().map(|s| s.as_str()));
            d.same_str(&v);
        }
    }
}

#[test]
fn sets_differential_against_redis() {
    let mut d = Diff::start(&[]);
    let mut rng = rand::rngs::SmallRng::seed_from_u64(0x5e75);
    let keys = ["s1", "s2", "s3", "dst", "str"];
    d.same_str(&["SET", "str", "x"]);
    let member = |rng: &mut rand::rngs::SmallRng| -> String {
        match rng.gen_range(0..4) {
            0 => format!("m{}", rng.gen_range(0..30)),
            _ => format!("{}", rng.gen_range(-20..600)),
        }
    };
    for _ in 0..2500 {
        let k = pick(&mut rng, &keys).to_string();
        let k2 = pick(&mut rng, &keys).to_string();
        let m = member(&mut rng);
        let cmd: Vec<String> = match rng.gen_range(0..16) {
            0..=2 => {
                let mut v = vec!["SADD".to_string(), k];
                for _ in 0..rng.gen_range(1..6) {
                    v.push(member(&mut rng));
                }
                v
            }
            3 => vec!["SREM".into(), k, m, member(&mut rng)],
            4 => vec!["SISMEMBER".into(), k, m],
            5 => vec!["SMISMEMBER".into(), k, m, member(&mut rng)],
            6 => vec!["SCARD".into(), k],
            7 => vec!["SMEMBERS".into(), k],
            8 => vec!["SINTER".into(), k, k2],
            9 => vec!["SUNION".into(), k, k2],
            10 => vec!["SDIFF".into(), k, k2],
            11 => vec![
                pick(&mut rng, &["SINTERSTORE", "SUNIONSTORE", "SDIFFSTORE"]).into(),
                "dst".into(),
                k,
                k2,
            ],
            12 => vec![
                "SINTERCARD".into(),
                "2".into(),
                k,
                k2,
                "LIMIT".into(),
                format!("{}", rng.gen_range(-1..5)),
            ],
            13 => vec!["SMOVE".into(), k, k2, m],
            14 => vec!["OBJECT".into(), "ENCODING".into(), k],
            _ => vec!["SSCAN".into(), k, "0".into(), "COUNT".into(), "1000".into()],
        };
        let args: Vec<&[u8]> = cmd.iter().map(|s| s.as_bytes()).collect();
        match cmd[0].as_str() {
            "SMEMBERS" | "SINTER" | "SUNION" | "SDIFF" => d.same_unordered(&args),
            "SSCAN" => {
                // Intsets answer at once; big tables' cursors differ.
                let (a, b) = d.both(&args);
                if a.starts_with(b"*2\r\n$1\r\n0\r\n") && b.starts_with(b"*2\r\n$1\r\n0\r\n") {
                    assert_eq!(canon(&a), canon(&b), "{cmd:?}");
                }
            }
            _ => {
                d.same(&args);
            }
        }
    }
}

#[test]
fn random_choices_and_errors() {
    let s = Server::start(&[]);
    let mut r = s.raw();
    r.call(&["HSET", "h", "a", "1", "b", "2", "c", "3"]);
    r.call(&["SADD", "s", "1", "2", "3", "4", "5"]);
    // HRANDFIELD: distinct for a positive count, repeats for a negative one.
    assert!(r.call(&["HRANDFIELD", "h", "10"]).starts_with("*3\r\n"));
    assert!(r.call(&["HRANDFIELD", "h", "-10"]).starts_with("*10\r\n"));
    assert!(r
        .call(&["HRANDFIELD", "h", "2", "WITHVALUES"])
        .starts_with("*4\r\n"));
    assert_eq!(r.call(&["HRANDFIELD", "h", "0"]), "*0\r\n");
    assert_eq!(r.call(&["HRANDFIELD", "nokey"]), "$-1\r\n");
    assert_eq!(
        r.call(&["HRANDFIELD", "h", "-9223372036854775807", "WITHVALUES"]),
        "-ERR value is out of range\r\n"
    );
    assert_eq!(
        r.call(&["HRANDFIELD", "h", "1", "x"]),
        "-ERR syntax error\r\n"
    );
    // SRANDMEMBER / SPOP.
    assert!(r.call(&["SRANDMEMBER", "s", "-8"]).starts_with("*8\r\n"));
    assert!(r.call(&["SRANDMEMBER", "s", "3"]).starts_with("*3\r\n"));
    assert_eq!(
        r.call(&["SPOP", "s", "-1"]),
        "-ERR value is out of range, must be positive\r\n"
    );
    assert!(r.call(&["SPOP", "s", "2"]).starts_with("*2\r\n"));
    assert_eq!(r.call(&["SCARD", "s"]), ":3\r\n");
    assert!(r.call(&["SPOP", "s", "10"]).starts_with("*3\r\n"));
    assert_eq!(r.call(&["EXISTS", "s"]), ":0\r\n", "empty sets vanish");
    assert_eq!(r.call(&["SPOP", "s"]), "$-1\r\n");
    // RESP3 shapes.
    r.call(&["HELLO", "3"]);
    assert!(r.call(&["HGETALL", "h"]).starts_with("%3\r\n"));
    assert!(r
        .call(&["HRANDFIELD", "h", "1", "WITHVALUES"])
        .starts_with("*1\r\n*2\r\n"));
    r.call(&["SADD", "s", "x"]);
    assert!(r.call(&["SMEMBERS", "s"]).starts_with("~1\r\n"));
    assert_eq!(r.call(&["SPOP", "s", "5"]), "~1\r\n$1\r\nx\r\n");
    // Wrong types and arity.
    r.call(&["SET", "str", "v"]);
    for cmd in [
        &["HGET", "str", "f"][..],
        &["SADD", "str", "m"],
        &["HLEN", "str"],
        &["SINTER", "nokey", "str"],
    ] {
        assert!(r.call(cmd).starts_with("-WRONGTYPE"), "{cmd:?}");
    }
    assert_eq!(
        r.call(&["HSET", "h", "a"]),
        "-ERR wrong number of arguments for 'hset' command\r\n"
    );
    assert_eq!(
        r.call(&["SINTERCARD", "0", "s"]),
        "-ERR numkeys should be greater than 0\r\n"
    );
}

#[test]
fn encodings_follow_the_thresholds() {
    let s = Server::start(&[]);
    let mut r = s.raw();
    r.call(&["SADD", "i", "1", "2"]);
    assert_eq!(r.call(&["OBJECT", "ENCODING", "i"]), "$6\r\nintset\r\n");
    r.call(&["SADD", "i", "x"]);
    assert_eq!(r.call(&["OBJECT", "ENCODING", "i"]), "$9\r\nhashtable\r\n");
    r.call(&["HSET", "h", "f", "v"]);
    assert_eq!(r.call(&["OBJECT", "ENCODING", "h"]), "$8\r\nlistpack\r\n");
    r.call(&["CONFIG", "SET", "hash-max-listpack-entries", "2"]);
    r.call(&["HSET", "h", "g", "v", "k", "v"]);
    assert_eq!(r.call(&["OBJECT", "ENCODING", "h"]), "$9\r\nhashtable\r\n");
    r.call(&["HSET", "h2", "f", &"v".repeat(65)]);
    assert_eq!(r.call(&["OBJECT", "ENCODING", "h2"]), "$9\r\nhashtable\r\n");
    r.call(&["CONFIG", "SET", "set-max-intset-entries", "3"]);
    r.call(&["SADD", "j", "1", "2", "3", "4"]);
    assert_eq!(r.call(&["OBJECT", "ENCODING", "j"]), "$9\r\nhashtable\r\n");
}

#[test]
fn writes_replicate_as_redis_sends_them() {
    // A raw replica sees SPOP and HINCRBYFLOAT as their effects.
    let s = Server::start(&["--repl-diskless-sync", "no"]);
    let mut m = s.raw();
    let mut c = s.raw();
    c.cmd(&[b"PSYNC", b"?", b"-1"]);
    let _full = c.read_line();
    let head = c.read_line();
    let len: usize = head[1..].parse().unwrap();
    c.read_n(len);
    m.call(&["HINCRBYFLOAT", "h", "f", "1.5"]);
    m.call(&["SADD", "s", "only"]);
    m.call(&["SPOP", "s"]);
    let expect = "*2\r\n$6\r\nSELECT\r\n$1\r\n0\r\n*4\r\n$4\r\nHSET\r\n$1\r\nh\r\n$1\r\nf\r\n$3\r\n1.5\r\n*3\r\n$4\r\nSADD\r\n$1\r\ns\r\n$4\r\nonly\r\n*3\r\n$4\r\nSREM\r\n$1\r\ns\r\n$4\r\nonly\r\n";
    assert_eq!(String::from_utf8_lossy(&c.read_n(expect.len())), expect);
    // SPOP with a count: one SREM per member, wrapped in MULTI/EXEC.
    m.call(&["SADD", "t", "a", "b", "c"]);
    let sadd = "*5\r\n$4\r\nSADD\r\n$1\r\nt\r\n$1\r\na\r\n$1\r\nb\r\n$1\r\nc\r\n";
    assert_eq!(String::from_utf8_lossy(&c.read_n(sadd.len())), sadd);
    m.call(&["SPOP", "t", "2"]);
    assert_eq!(c.read_line(), "*1");
    assert_eq!(c.read_line(), "$5");
    assert_eq!(c.read_line(), "MULTI");
}
