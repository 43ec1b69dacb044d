//! MIGRATE's connections to other servers (Redis's migrate_cached_sockets
//! in `cluster.c`): kept per `host:port` so that moving many keys one
//! MIGRATE at a time does not reconnect each time; closed after 10 idle
//! seconds; at most 64.
//!
//! MIGRATE is synchronous in Redis (the server waits for the target, up to
//! the command's timeout) and so it is here: these are blocking sockets
//! with the timeout as their read and write deadlines.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Write};
use std::net::{TcpStream, ToSocketAddrs};

use crate::tls::BlockingStream;
use std::time::Duration;

/// Idle seconds after which a cached connection is closed.
pub const CACHE_TTL_S: i64 = 10;
/// Connections kept at most.
pub const CACHE_ITEMS: usize = 64;

/// One cached connection.
pub struct Link {
    stream: BufReader<BlockingStream>,
    /// The database the target has selected for us (-1: unknown).
    pub last_dbid: i64,
    last_use: i64,
}

impl Link {
    /// Send `buf` within `timeout`, in 64 KiB writes as Redis does.
    pub fn send(&mut self, buf: &[u8], timeout: Duration) -> std::io::Result<()> {
        let s = self.stream.get_mut();
        s.tcp().set_write_timeout(Some(timeout))?;
        s.tcp().set_read_timeout(Some(timeout))?;
        for chunk in buf.chunks(64 * 1024) {
            s.write_all(chunk)?;
        }
        s.flush()
    }

    /// Read one reply line (without its CRLF) within `timeout`.
    pub fn read_line(&mut self, timeout: Duration) -> std::io::Result<Vec<u8>> {
        self.stream
            .get_ref()
            .tcp()
            .set_read_timeout(Some(timeout))?;
        let mut line = Vec::new();
        let n = self.stream.read_until(b'\n', &mut line)?;
        if n == 0 {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
        while matches!(line.last(), Some(b'\n' | b'\r')) {
            line.pop();
        }
        Ok(line)
    }
}

/// Whether an I/O error was a timeout (Redis does not retry those).
pub fn is_timeout(e: &std::io::Error) -> bool {
    matches!(
        e.kind(),
        std::io::ErrorKind::TimedOut | std::io::ErrorKind::WouldBlock
    )
}

/// The cache.
#[derive(Default)]
pub struct MigrateLinks {
    links: HashMap<String, Link>,
}

impl MigrateLinks {
    /// The connection to `host:port`, connecting (within `timeout`) if
    /// there is none, over TLS when `tls` is given (`tls-cluster`, as
    /// Redis's migrateGetSocket); None when the target cannot be reached.
    pub fn get(
        &mut self,
        host: &str,
        port: &str,
        timeout: Duration,
        now_s: i64,
        tls: Option<openssl::ssl::SslContext>,
    ) -> Option<&mut Link> {
        let name = format!("{host}:{port}");
        if !self.links.contains_key(&name) {
            if self.links.len() >= CACHE_ITEMS {
                // Too many: drop one (any).
                if let Some(k) = self.links.keys().next().cloned() {
                    self.links.remove(&k);
                }
            }
            let port: u16 = port.parse().ok()?;
            let addr = (host, port).to_socket_addrs().ok()?.next()?;
            let s = TcpStream::connect_timeout(&addr, timeout).ok()?;
            let _ = s.set_nodelay(true);
            let s = match tls {
                Some(ctx) => BlockingStream::tls(ctx, s, timeout).ok()?,
                None => BlockingStream::Tcp(s),
            };
            self.links.insert(
                name.clone(),
                Link {
                    stream: BufReader::new(s),
                    last_dbid: -1,
                    last_use: now_s,
                },
            );
        }
        let link = self.links.get_mut(&name)?;
        link.last_use = now_s;
        Some(link)
    }

    /// Close the connection to `host:port`, if any.
    pub fn close(&mut self, host: &str, port: &str) {
        self.links.remove(&format!("{host}:{port}"));
    }

    /// Close connections idle for [`CACHE_TTL_S`] seconds.
    pub fn close_idle(&mut self, now_s: i64) {
        self.links.retain(|_, l| now_s - l.last_use <= CACHE_TTL_S);
    }

    /// How many are open.
    pub fn len(&self) -> usize {
        self.links.len()
    }

    /// Whether none is open.
    pub fn is_empty(&self) -> bool {
        self.links.is_empty()
    }
}
