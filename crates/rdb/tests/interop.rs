//! Interoperability with a real `redis-server` (7.0 or later): files written
//! by our [`Writer`] load into Redis with exactly the content written, in the
//! encodings Redis would choose, and Redis's own save of the same data is
//! about the same size (and reads back through our [`Reader`]).
//!
//! When `redis-server` is not installed the tests are skipped with a
//! message, except under CI (`CI` set), where that is a failure.

use std::io::{BufRead, BufReader, Read, Write as _};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use rdb::{Value, WriteOptions, Writer};

use crate::common::{keys, normalize};

fn find_redis_server() -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|d| d.join("redis-server"))
        .find(|p| p.is_file())
}

/// The redis-server binary, or `None` (skip) outside CI.
fn redis_server_or_skip(test: &str) -> Option<PathBuf> {
    match find_redis_server() {
        Some(p) => Some(p),
        None if std::env::var_os("CI").is_some() => {
            panic!("{test}: redis-server not found in PATH, and CI requires it")
        }
        None => {
            eprintln!("{test}: skipped, redis-server not found in PATH");
            None
        }
    }
}

/// A temporary directory removed on drop.
struct TempDir(PathBuf);
impl TempDir {
    fn new(tag: &str) -> TempDir {
        static N: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let n = N.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        let p = std::env::temp_dir().join(format!("rdb-interop-{}-{tag}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&p);
        std::fs::create_dir_all(&p).unwrap();
        TempDir(p)
    }
}
impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A redis-server child on a free loopback port; killed on drop.
struct Server {
    child: Child,
    port: u16,
}

impl Server {
    fn start(bin: &Path, dir: &Path, dbfilename: &str) -> Server {
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let log = dir.join("redis.log");
        let child = Command::new(bin)
            .args(["--bind", "127.0.0.1", "--port", &port.to_string()])
            .args(["--save", "", "--appendonly", "no", "--daemonize", "no"])
            // Redis's upstream defaults, whatever the packager chose
            // (Debian's build uses 512 hash entries, for one).
            .args([
                "--hash-max-listpack-entries",
                "128",
                "--hash-max-listpack-value",
                "64",
            ])
            .args([
                "--zset-max-listpack-entries",
                "128",
                "--zset-max-listpack-value",
                "64",
            ])
            .args([
                "--set-max-intset-entries",
                "512",
                "--list-max-listpack-size",
                "-2",
            ])
            .arg("--dir")
            .arg(dir)
            .args(["--dbfilename", dbfilename])
            .arg("--logfile")
            .arg(&log)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn redis-server");
        let mut s = Server { child, port };
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if let Ok(Some(status)) = s.child.try_wait() {
                panic!(
                    "redis-server exited ({status}):\n{}",
                    std::fs::read_to_string(&log).unwrap_or_default()
                );
            }
            if let Ok(mut c) = Client::connect(port) {
                match c.cmd(&[b"PING"]) {
                    Reply::Simple(p) if p == "PONG" => return s,
                    _ => {}
                }
            }
            assert!(Instant::now() < deadline, "redis-server did not start");
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn client(&self) -> Client {
        Client::connect(self.port).expect("connect")
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[derive(Debug, Clone, PartialEq)]
enum Reply {
    Simple(String),
    Error(String),
    Int(i64),
    Bulk(Option<Vec<u8>>),
    Array(Option<Vec<Reply>>),
}

impl Reply {
    fn bulk(&self) -> Vec<u8> {
        match self {
            Reply::Bulk(Some(b)) => b.clone(),
            other => panic!("expected bulk, got {other:?}"),
        }
    }
    fn int(&self) -> i64 {
        match self {
            Reply::Int(i) => *i,
            other => panic!("expected integer, got {other:?}"),
        }
    }
    fn bulks(&self) -> Vec<Vec<u8>> {
        match self {
            Reply::Array(Some(a)) => a.iter().map(Reply::bulk).collect(),
            other => panic!("expected array, got {other:?}"),
        }
    }
}

/// A minimal RESP2 client.
struct Client {
    w: TcpStream,
    r: BufReader<TcpStream>,
}

impl Client {
    fn connect(port: u16) -> std::io::Result<Client> {
        let s = TcpStream::connect(("127.0.0.1", port))?;
        s.set_read_timeout(Some(Duration::from_secs(30)))?;
        Ok(Client {
            w: s.try_clone()?,
            r: BufReader::new(s),
        })
    }

    fn cmd(&mut self, args: &[&[u8]]) -> Reply {
        let mut out = format!("*{}\r\n", args.len()).into_bytes();
        for a in args {
            out.extend_from_slice(format!("${}\r\n", a.len()).as_bytes());
            out.extend_from_slice(a);
            out.extend_from_slice(b"\r\n");
        }
        self.w.write_all(&out).expect("send");
        self.read_reply()
    }

    fn line(&mut self) -> String {
        let mut l = String::new();
        self.r.read_line(&mut l).expect("read");
        l.trim_end_matches("\r\n").to_string()
    }

    fn read_reply(&mut self) -> Reply {
        let l = self.line();
        let (t, rest) = l.split_at(1);
        match t {
            "+" => Reply::Simple(rest.to_string()),
            "-" => Reply::Error(rest.to_string()),
            ":" => Reply::Int(rest.parse().unwrap()),
            "$" => {
                let n: i64 = rest.parse().unwrap();
                if n < 0 {
                    return Reply::Bulk(None);
                }
                let mut b = vec![0; n as usize + 2];
                self.r.read_exact(&mut b).unwrap();
                b.truncate(n as usize);
                Reply::Bulk(Some(b))
            }
            "*" => {
                let n: i64 = rest.parse().unwrap();
                if n < 0 {
                    return Reply::Array(None);
                }
                Reply::Array(Some((0..n).map(|_| self.read_reply()).collect()))
            }
            _ => panic!("bad reply line {l:?}"),
        }
    }
}

/// The data set: (db, key, value, expire).
fn dataset() -> Vec<(u64, Vec<u8>, Value, Option<i64>)> {
    let s = |x: &str| x.as_bytes().to_vec();
    let far = 4_102_444_800_000; // 2100-01-01
    let mut big_list: Vec<Vec<u8>> = (0..3000)
        .map(|i| format!("item-{i}").into_bytes())
        .collect();
    big_list.insert(1500, vec![b'L'; 10_000]);
    vec![
        (0, s("s:short"), Value::String(s("hello")), None),
        (0, s("s:int"), Value::String(s("12345")), None),
        (0, s("s:neg"), Value::String(s("-7")), None),
        (
            0,
            s("s:bigint"),
            Value::String(s("9223372036854775807")),
            None,
        ),
        (0, s("s:lzf"), Value::String(s(&"abc".repeat(1000))), None),
        (0, s("s:bin"), Value::String((0..=255u8).collect()), None),
        (0, s("s:empty"), Value::String(Vec::new()), None),
        (0, s("s:exp"), Value::String(s("soon")), Some(far)),
        (
            0,
            s("l:small"),
            Value::List(vec![s("a"), s("b"), s("1"), s("2")]),
            None,
        ),
        (0, s("l:big"), Value::List(big_list), Some(far + 1)),
        (
            0,
            s("set:ints"),
            Value::Set(
                (1..=100)
                    .map(|i: i32| (i * 37 - 500).to_string().into_bytes())
                    .collect(),
            ),
            None,
        ),
        (
            0,
            s("set:bigints"),
            Value::Set(
                (1..=1000)
                    .map(|i: i32| i.to_string().into_bytes())
                    .collect(),
            ),
            None,
        ),
        (
            0,
            s("set:strs"),
            Value::Set(
                (0..50)
                    .map(|i| format!("member-{i}").into_bytes())
                    .collect(),
            ),
            None,
        ),
        (
            0,
            s("h:small"),
            Value::Hash(
                (0..5)
                    .map(|i| {
                        (
                            format!("f{i}").into_bytes(),
                            format!("{}", i * 1000).into_bytes(),
                        )
                    })
                    .collect(),
            ),
            None,
        ),
        (
            0,
            s("h:big"),
            Value::Hash(
                (0..500)
                    .map(|i| {
                        (
                            format!("field:{i}").into_bytes(),
                            format!("value:{i}").into_bytes(),
                        )
                    })
                    .collect(),
            ),
            None,
        ),
        (
            0,
            s("h:longval"),
            Value::Hash(vec![(s("a"), s("1")), (s("long"), vec![b'v'; 100])]),
            None,
        ),
        (
            0,
            s("z:small"),
            Value::ZSet(vec![
                (s("a"), 1.0),
                (s("b"), -2.5),
                (s("c"), f64::INFINITY),
                (s("d"), f64::NEG_INFINITY),
                (s("e"), 0.1),
            ]),
            None,
        ),
        (
            0,
            s("z:big"),
            Value::ZSet(
                (0..300)
                    .map(|i| (format!("m{i}").into_bytes(), f64::from(i) * 1.5))
                    .collect(),
            ),
            None,
        ),
        (5, s("db5:key"), Value::String(s("five")), Some(far + 5)),
        (5, s("db5:set"), Value::Set(vec![s("x"), s("y")]), None),
    ]
}

const FUNCTION: &[u8] =
    b"#!lua name=relicalib\nredis.register_function('relica_f', function(keys, args) return 42 end)";

fn write_dataset(opts: WriteOptions) -> Vec<u8> {
    let data = dataset();
    let mut w = Writer::new(Vec::new(), opts).unwrap();
    w.aux(b"redis-ver", b"7.0.15").unwrap();
    w.aux(b"redis-bits", b"64").unwrap();
    w.aux(b"ctime", b"1700000000").unwrap();
    w.aux(b"used-mem", b"1000000").unwrap();
    w.aux(b"aof-base", b"0").unwrap();
    w.function(FUNCTION).unwrap();
    for db in [0u64, 5] {
        let in_db: Vec<_> = data.iter().filter(|d| d.0 == db).collect();
        w.select_db(db).unwrap();
        w.resize_db(
            in_db.len() as u64,
            in_db.iter().filter(|d| d.3.is_some()).count() as u64,
        )
        .unwrap();
        for (_, k, v, exp) in in_db {
            match v {
                // Exercise the streaming methods directly for some types.
                Value::List(items) => w
                    .list(k, items.len(), items.iter().map(Vec::as_slice), *exp)
                    .unwrap(),
                Value::Hash(p) => w
                    .hash(k, p.len(), p.iter().map(|(f, v)| (&f[..], &v[..])), *exp)
                    .unwrap(),
                other => w.write_value(k, other, *exp).unwrap(),
            }
        }
    }
    w.finish().unwrap()
}

/// Checks the content of a running server against `dataset()`.
fn verify(server: &Server) {
    let mut c = server.client();
    let data = dataset();
    for db in [0u64, 5] {
        assert_eq!(
            c.cmd(&[b"SELECT", db.to_string().as_bytes()]),
            Reply::Simple("OK".into())
        );
        let want = data.iter().filter(|d| d.0 == db).count() as i64;
        assert_eq!(c.cmd(&[b"DBSIZE"]).int(), want, "db {db}");
        for (_, k, v, exp) in data.iter().filter(|d| d.0 == db) {
            let got = match v {
                Value::String(_) => Value::String(c.cmd(&[b"GET", k]).bulk()),
                Value::List(_) => Value::List(c.cmd(&[b"LRANGE", k, b"0", b"-1"]).bulks()),
                Value::Set(_) => Value::Set(c.cmd(&[b"SMEMBERS", k]).bulks()),
                Value::Hash(_) => {
                    let flat = c.cmd(&[b"HGETALL", k]).bulks();
                    Value::Hash(
                        flat.chunks(2)
                            .map(|p| (p[0].clone(), p[1].clone()))
                            .collect(),
                    )
                }
                Value::ZSet(_) => {
                    let flat = c.cmd(&[b"ZRANGE", k, b"0", b"-1", b"WITHSCORES"]).bulks();
                    Value::ZSet(
                        flat.chunks(2)
                            .map(|p| {
                                let s = String::from_utf8(p[1].clone()).unwrap();
                                (p[0].clone(), s.parse::<f64>().unwrap())
                            })
                            .collect(),
                    )
                }
                Value::Stream(_) => panic!("the dataset has no streams"),
            };
            assert_eq!(
                normalize(&got),
                normalize(v),
                "{}",
                String::from_utf8_lossy(k)
            );
            let pexp = c.cmd(&[b"PEXPIRETIME", k]).int();
            assert_eq!(pexp, exp.unwrap_or(-1), "{}", String::from_utf8_lossy(k));
        }
    }
    // Redis chose its usual in-memory encodings.
    c.cmd(&[b"SELECT", b"0"]);
    for (k, enc) in [
        ("s:int", "int"),
        ("l:big", "quicklist"),
        ("set:ints", "intset"),
        ("set:bigints", "hashtable"),
        ("set:strs", "hashtable"),
        ("h:small", "listpack"),
        ("h:big", "hashtable"),
        ("h:longval", "hashtable"),
        ("z:small", "listpack"),
        ("z:big", "skiplist"),
    ] {
        let got = c.cmd(&[b"OBJECT", b"ENCODING", k.as_bytes()]).bulk();
        assert_eq!(String::from_utf8(got).unwrap(), enc, "{k}");
    }
    assert_eq!(c.cmd(&[b"FCALL", b"relica_f", b"0"]), Reply::Int(42));
}

#[test]
fn redis_loads_files_we_write() {
    let Some(bin) = redis_server_or_skip("redis_loads_files_we_write") else {
        return;
    };
    let variants = [
        ("default", WriteOptions::default()),
        (
            "v9-plain-uncompressed",
            WriteOptions {
                version: 9,
                compression: false,
                ..WriteOptions::default()
            },
        ),
        (
            "no-checksum",
            WriteOptions {
                checksum: false,
                ..WriteOptions::default()
            },
        ),
    ];
    for (tag, opts) in variants {
        let dir = TempDir::new(tag);
        let ours = write_dataset(opts);
        std::fs::write(dir.0.join("ours.rdb"), &ours).unwrap();
        let server = Server::start(&bin, &dir.0, "ours.rdb");
        verify(&server);
        if tag != "default" {
            continue;
        }
        // Let Redis save the same data and compare: our reader reads its
        // file back to the same content, and our file is no bigger than
        // 1.05x Redis's.
        let mut c = server.client();
        assert_eq!(c.cmd(&[b"SAVE"]), Reply::Simple("OK".into()));
        let theirs = std::fs::read(dir.0.join("ours.rdb")).unwrap();
        assert_ne!(theirs, ours);
        let (ka, kb) = (keys(&ours), keys(&theirs));
        assert_eq!(ka.len(), kb.len());
        for (name, a) in &ka {
            let b = kb.get(name).expect("key in Redis's file");
            assert_eq!(normalize(&a.value), normalize(&b.value));
            assert_eq!(a.expire_ms, b.expire_ms);
        }
        let ratio = ours.len() as f64 / theirs.len() as f64;
        eprintln!(
            "size: ours {} bytes, redis {} bytes, ratio {ratio:.3}",
            ours.len(),
            theirs.len()
        );
        assert!(
            ratio <= 1.05,
            "ours {} vs redis {}",
            ours.len(),
            theirs.len()
        );
    }
}
