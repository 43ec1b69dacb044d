//! Load generator for `bench/tracking.sh`: GET throughput with clients that
//! have client-side caching on (redis-benchmark cannot turn CLIENT TRACKING
//! on). `clients` connections speak RESP3 with `CLIENT TRACKING on` (default
//! mode); each reads its own `keys` keys round-robin, one request in flight
//! per connection, as `redis-benchmark -c <clients>` does. With
//! `write_every` > 0 a further connection SETs one of the keys every that
//! many rounds, so invalidations flow too (they are read and counted).
//!
//!   tracking_load <port> <clients> <keys> <seconds> [write_every]
//!
//! Prints `gets_per_sec=<n> invalidations=<n>`.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

fn command(args: &[&[u8]]) -> Vec<u8> {
    let mut out = format!("*{}\r\n", args.len()).into_bytes();
    for a in args {
        out.extend_from_slice(format!("${}\r\n", a.len()).as_bytes());
        out.extend_from_slice(a);
        out.extend_from_slice(b"\r\n");
    }
    out
}

/// A connection with a read buffer.
struct Conn {
    s: TcpStream,
    buf: Vec<u8>,
    pos: usize,
}

/// The length of the RESP frame at the start of `b`, if complete.
fn frame_len(b: &[u8]) -> Option<usize> {
    let line_end = b.windows(2).position(|w| w == b"\r\n")?;
    let head = std::str::from_utf8(&b[1..line_end]).ok()?;
    let after = line_end + 2;
    match b.first()? {
        b'+' | b'-' | b':' | b'_' | b',' | b'#' | b'(' => Some(after),
        b'$' | b'=' | b'!' => {
            let n: i64 = head.parse().ok()?;
            if n < 0 {
                return Some(after);
            }
            let end = after + n as usize + 2;
            (b.len() >= end).then_some(end)
        }
        b'*' | b'>' | b'~' | b'%' | b'|' => {
            let mut n: i64 = head.parse().ok()?;
            if n < 0 {
                return Some(after);
            }
            if matches!(b[0], b'%' | b'|') {
                n *= 2;
            }
            let mut at = after;
            for _ in 0..n {
                at += frame_len(&b[at..])?;
            }
            Some(at)
        }
        _ => panic!("bad reply {:?}", String::from_utf8_lossy(b)),
    }
}

impl Conn {
    fn open(port: u16) -> Conn {
        let s = TcpStream::connect(("127.0.0.1", port)).expect("connect");
        s.set_nodelay(true).expect("nodelay");
        Conn {
            s,
            buf: Vec::with_capacity(64 * 1024),
            pos: 0,
        }
    }

    fn send(&mut self, b: &[u8]) {
        self.s.write_all(b).expect("write");
    }

    /// Read one reply; pushes (`>`) before it are counted in `pushes`.
    fn reply(&mut self, pushes: &mut u64) -> Vec<u8> {
        loop {
            if let Some(n) = frame_len(&self.buf[self.pos..]) {
                let f = self.buf[self.pos..self.pos + n].to_vec();
                self.pos += n;
                if self.pos == self.buf.len() {
                    self.buf.clear();
                    self.pos = 0;
                }
                if f[0] == b'>' {
                    *pushes += 1;
                    continue;
                }
                return f;
            }
            let mut tmp = [0u8; 65536];
            let n = self.s.read(&mut tmp).expect("read");
            assert!(n > 0, "connection closed");
            self.buf.extend_from_slice(&tmp[..n]);
        }
    }
}

fn main() {
    let a: Vec<String> = std::env::args().collect();
    if a.len() < 5 {
        eprintln!("usage: tracking_load <port> <clients> <keys> <seconds> [write_every]");
        std::process::exit(2);
    }
    let num = |i: usize| a[i].parse::<u64>().expect("a number");
    let port = num(1) as u16;
    let (clients, keys, secs) = (num(2) as usize, num(3) as usize, num(4));
    let write_every = if a.len() > 5 { num(5) } else { 0 };
    let mut pushes = 0u64;
    let mut setup = Conn::open(port);
    // The keys, loaded once.
    for c in 0..clients {
        let mut batch = Vec::new();
        for k in 0..keys {
            batch.extend(command(&[
                b"SET",
                format!("c{c}:k{k}").as_bytes(),
                b"some-cached-value",
            ]));
        }
        setup.send(&batch);
        for _ in 0..keys {
            setup.reply(&mut pushes);
        }
    }
    let mut conns: Vec<Conn> = (0..clients).map(|_| Conn::open(port)).collect();
    for c in conns.iter_mut() {
        c.send(&command(&[b"HELLO", b"3"]));
        c.reply(&mut pushes);
        c.send(&command(&[b"CLIENT", b"TRACKING", b"on"]));
        assert_eq!(c.reply(&mut pushes), b"+OK\r\n");
    }
    let gets: Vec<Vec<Vec<u8>>> = (0..clients)
        .map(|c| {
            (0..keys)
                .map(|k| command(&[b"GET", format!("c{c}:k{k}").as_bytes()]))
                .collect()
        })
        .collect();
    let deadline = Instant::now() + Duration::from_secs(secs);
    let start = Instant::now();
    let mut done = 0u64;
    let mut round = 0u64;
    let mut writes = 0u64;
    while Instant::now() < deadline {
        let k = (round as usize) % keys;
        for (c, conn) in conns.iter_mut().enumerate() {
            conn.send(&gets[c][k]);
        }
        if write_every > 0 && round % write_every == 0 {
            let c = (writes as usize) % clients;
            writes += 1;
            setup.send(&command(&[
                b"SET",
                format!("c{c}:k{k}").as_bytes(),
                b"some-cached-value",
            ]));
            setup.reply(&mut pushes);
        }
        for conn in conns.iter_mut() {
            let r = conn.reply(&mut pushes);
            assert!(
                r[0] == b'$',
                "GET answered {:?}",
                String::from_utf8_lossy(&r)
            );
        }
        done += clients as u64;
        round += 1;
    }
    let rate = done as f64 / start.elapsed().as_secs_f64();
    println!("gets_per_sec={rate:.0} invalidations={pushes}");
}
