//! Load generator for `bench/tracking.sh`: GET throughput with clients that
//! have client-side caching on (redis-benchmark cannot turn CLIENT TRACKING
//! on). `clients` connections speak RESP3 with `CLIENT TRACKING on` (default
//! mode); each reads its own `keys` keys round-robin in a closed loop, one
//! request in flight per connection, all on one thread with epoll, as
//! `redis-benchmark -c <clients>` runs. With `write_every` > 0 each client
//! also SETs a key another client caches once per `write_every * clients`
//! of its GETs (one SET per `write_every` rounds overall), so invalidations
//! flow too (they are read and counted).
//!
//!   tracking_load <port> <clients> <keys> <seconds> [write_every [off]]
//!
//! A sixth argument `off` leaves tracking off (a baseline). Prints
//! `gets_per_sec=<n> invalidations=<n>`.

use std::cell::Cell;
use std::rc::Rc;
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

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
    async fn open(port: u16) -> Conn {
        let s = TcpStream::connect(("127.0.0.1", port))
            .await
            .expect("connect");
        s.set_nodelay(true).expect("nodelay");
        Conn {
            s,
            buf: Vec::with_capacity(64 * 1024),
            pos: 0,
        }
    }

    async fn send(&mut self, b: &[u8]) {
        self.s.write_all(b).await.expect("write");
    }

    /// Read one reply; pushes (`>`) before it are counted in `pushes`.
    async fn reply(&mut self, pushes: &Cell<u64>) -> Vec<u8> {
        loop {
            if let Some(n) = frame_len(&self.buf[self.pos..]) {
                let f = self.buf[self.pos..self.pos + n].to_vec();
                self.pos += n;
                if self.pos == self.buf.len() {
                    self.buf.clear();
                    self.pos = 0;
                }
                if f[0] == b'>' {
                    pushes.set(pushes.get() + 1);
                    continue;
                }
                return f;
            }
            let mut tmp = [0u8; 16384];
            let n = self.s.read(&mut tmp).await.expect("read");
            assert!(n > 0, "connection closed");
            self.buf.extend_from_slice(&tmp[..n]);
        }
    }
}

fn main() {
    let a: Vec<String> = std::env::args().collect();
    if a.len() < 5 {
        eprintln!("usage: tracking_load <port> <clients> <keys> <seconds> [write_every [off]]");
        std::process::exit(2);
    }
    let num = |i: usize| a[i].parse::<u64>().expect("a number");
    let port = num(1) as u16;
    let (clients, keys, secs) = (num(2) as usize, num(3) as usize, num(4));
    let write_every = if a.len() > 5 { num(5) } else { 0 };
    let track = a.get(6).is_none_or(|x| x != "off");
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async move {
        let pushes = Rc::new(Cell::new(0u64));
        let mut setup = Conn::open(port).await;
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
            setup.send(&batch).await;
            for _ in 0..keys {
                setup.reply(&pushes).await;
            }
        }
        let mut conns = Vec::new();
        for _ in 0..clients {
            let mut c = Conn::open(port).await;
            c.send(&command(&[b"HELLO", b"3"])).await;
            c.reply(&pushes).await;
            if track {
                c.send(&command(&[b"CLIENT", b"TRACKING", b"on"])).await;
                assert_eq!(c.reply(&pushes).await, b"+OK\r\n");
            }
            conns.push(c);
        }
        let done = Rc::new(Cell::new(0u64));
        let start = Instant::now();
        let deadline = start + Duration::from_secs(secs);
        let local = tokio::task::LocalSet::new();
        for (c, mut conn) in conns.into_iter().enumerate() {
            let (done, pushes) = (done.clone(), pushes.clone());
            let gets: Vec<Vec<u8>> = (0..keys)
                .map(|k| command(&[b"GET", format!("c{c}:k{k}").as_bytes()]))
                .collect();
            let other = (c + 1) % clients;
            local.spawn_local(async move {
                let mut i = 0usize;
                while Instant::now() < deadline {
                    conn.send(&gets[i % keys]).await;
                    let r = conn.reply(&pushes).await;
                    assert!(
                        r[0] == b'$',
                        "GET answered {:?}",
                        String::from_utf8_lossy(&r)
                    );
                    done.set(done.get() + 1);
                    i += 1;
                    if write_every > 0 && (i as u64).is_multiple_of(write_every * clients as u64) {
                        let key = format!("c{other}:k{}", i % keys);
                        conn.send(&command(&[b"SET", key.as_bytes(), b"some-cached-value"]))
                            .await;
                        conn.reply(&pushes).await;
                    }
                }
            });
        }
        local.await;
        let rate = done.get() as f64 / start.elapsed().as_secs_f64();
        println!("gets_per_sec={rate:.0} invalidations={}", pushes.get());
    });
}
