//! Test harness: start `relica-server` on a free 127.0.0.1 port, talk to
//! it through the `redis` crate or raw RESP, and stop it by PID when the
//! handle drops (also on panic).

#![allow(dead_code)]

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A running server.
pub struct Server {
    child: Child,
    /// Its port.
    pub port: u16,
    /// Its working directory.
    pub dir: tempfile::TempDir,
    /// Its log file.
    pub log: PathBuf,
}

/// A free loopback port (bound then released).
pub fn free_port() -> u16 {
    let l = TcpListener::bind("127.0.0.1:0").expect("bind");
    l.local_addr().expect("addr").port()
}

/// Wait for a condition with a deadline, polling.
pub fn wait_for(what: &str, timeout: Duration, mut f: impl FnMut() -> bool) {
    let start = Instant::now();
    while !f() {
        assert!(start.elapsed() < timeout, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(10));
    }
}

impl Server {
    /// Start with extra `--name value` arguments.
    pub fn start(args: &[&str]) -> Server {
        Self::start_conf(None, args)
    }

    /// Start with a config file and extra arguments.
    pub fn start_conf(conf: Option<&std::path::Path>, args: &[&str]) -> Server {
        Self::spawn(
            std::path::Path::new(env!("CARGO_BIN_EXE_relica-server")),
            conf,
            args,
            &[],
        )
    }

    /// Start with extra arguments and environment variables (test-only
    /// knobs such as RELICA_AOF_CRASH_AT).
    pub fn start_env(args: &[&str], env: &[(&str, &str)]) -> Server {
        Self::spawn(
            std::path::Path::new(env!("CARGO_BIN_EXE_relica-server")),
            None,
            args,
            env,
        )
    }

    /// Start a real `redis-server` (the reference for differential and
    /// interop tests) with Redis 7.0's upstream defaults for the encoding
    /// thresholds, which Debian's build does not all share. A missing
    /// redis-server is a failure: `scripts/test` installs it.
    pub fn redis(args: &[&str]) -> Server {
        let bin = std::env::var_os("PATH")
            .and_then(|p| {
                std::env::split_paths(&p)
                    .map(|d| d.join("redis-server"))
                    .find(|b| b.is_file())
            })
            .expect("redis-server not found in PATH (scripts/test installs it)");
        let mut all = vec![
            "--hash-max-listpack-entries",
            "128",
            "--hash-max-listpack-value",
            "64",
            "--zset-max-listpack-entries",
            "128",
            "--zset-max-listpack-value",
            "64",
            "--set-max-intset-entries",
            "512",
            "--list-max-listpack-size",
            "-2",
        ];
        all.extend_from_slice(args);
        Self::spawn(&bin, None, &all, &[])
    }

    fn spawn(
        bin: &std::path::Path,
        conf: Option<&std::path::Path>,
        args: &[&str],
        env: &[(&str, &str)],
    ) -> Server {
        for _ in 0..5 {
            let port = free_port();
            let dir = tempfile::tempdir().expect("tempdir");
            let log = dir.path().join("relica.log");
            let mut cmd = Command::new(bin);
            // Relative paths a test passes resolve inside its own directory.
            cmd.current_dir(dir.path());
            if let Some(c) = conf {
                cmd.arg(c);
            }
            cmd.arg("--port")
                .arg(port.to_string())
                .arg("--bind")
                .arg("127.0.0.1")
                .arg("--dir")
                .arg(dir.path())
                .arg("--logfile")
                .arg(&log)
                .arg("--save")
                .arg("")
                .arg("--enable-debug-command")
                .arg("yes")
                .args(args)
                .envs(env.iter().copied())
                .stdout(Stdio::null())
                .stderr(Stdio::null());
            let child = cmd.spawn().expect("spawn relica-server");
            let mut s = Server {
                child,
                port,
                dir,
                log,
            };
            let start = Instant::now();
            while start.elapsed() < Duration::from_secs(20) {
                // The log line, not a probe connection: a probe would
                // hold a client slot until the server notices it closed.
                if s.log_text().contains("Ready to accept connections") {
                    return s;
                }
                if let Ok(Some(_)) = s.child.try_wait() {
                    break; // port taken or bad config: retry with another port
                }
                std::thread::sleep(Duration::from_millis(20));
            }
            let _ = s.child.kill();
        }
        panic!("{} did not start", bin.display());
    }

    /// A redis-rs connection.
    pub fn conn(&self) -> redis::Connection {
        let c = redis::Client::open(format!("redis://127.0.0.1:{}/", self.port)).expect("client");
        c.get_connection().expect("connect")
    }

    /// A raw socket.
    pub fn raw(&self) -> Raw {
        Raw::connect(self.port)
    }

    /// The server's log so far.
    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Kill the process at once (SIGKILL), by its PID.
    pub fn kill9(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// Process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Wait for the process to exit, with a deadline; returns its status.
    pub fn wait_exit(&mut self, timeout: Duration) -> std::process::ExitStatus {
        let start = Instant::now();
        loop {
            if let Ok(Some(st)) = self.child.try_wait() {
                return st;
            }
            assert!(start.elapsed() < timeout, "server did not exit");
            std::thread::sleep(Duration::from_millis(10));
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A raw RESP connection.
pub struct Raw {
    /// The socket.
    pub s: TcpStream,
    buf: Vec<u8>,
}

impl Raw {
    /// A raw connection to a loopback port.
    pub fn connect(port: u16) -> Raw {
        let s = TcpStream::connect(("127.0.0.1", port)).expect("connect");
        s.set_read_timeout(Some(Duration::from_secs(10)))
            .expect("timeout");
        Raw { s, buf: Vec::new() }
    }

    /// Send bytes as they are.
    pub fn send(&mut self, b: &[u8]) {
        self.s.write_all(b).expect("write");
    }

    /// Send a command as a multibulk.
    pub fn cmd(&mut self, args: &[&[u8]]) {
        let mut out = format!("*{}\r\n", args.len()).into_bytes();
        for a in args {
            out.extend_from_slice(format!("${}\r\n", a.len()).as_bytes());
            out.extend_from_slice(a);
            out.extend_from_slice(b"\r\n");
        }
        self.send(&out);
    }

    /// Read exactly one RESP reply (raw bytes).
    pub fn reply(&mut self) -> Vec<u8> {
        let limits = resp::Limits::default();
        loop {
            if let Ok(Some((_, n))) = resp::decode_frame(&self.buf, &limits) {
                let r = self.buf[..n].to_vec();
                self.buf.drain(..n);
                return r;
            }
            let mut tmp = [0u8; 65536];
            let n = self.s.read(&mut tmp).expect("read");
            assert!(
                n > 0,
                "connection closed; had {:?}",
                String::from_utf8_lossy(&self.buf)
            );
            self.buf.extend_from_slice(&tmp[..n]);
        }
    }

    /// Read one reply as text.
    pub fn reply_str(&mut self) -> String {
        String::from_utf8_lossy(&self.reply()).into_owned()
    }

    /// Send a command and read its reply as text.
    pub fn call(&mut self, args: &[&str]) -> String {
        let v: Vec<&[u8]> = args.iter().map(|a| a.as_bytes()).collect();
        self.cmd(&v);
        self.reply_str()
    }

    /// Whether the server has already closed the connection: EOF is
    /// readable now, without waiting.
    pub fn closed_now(&mut self) -> bool {
        self.s.set_nonblocking(true).expect("nonblocking");
        let mut tmp = [0u8; 1024];
        let eof = loop {
            match self.s.read(&mut tmp) {
                Ok(0) => break true,
                Ok(n) => self.buf.extend_from_slice(&tmp[..n]),
                Err(_) => break false,
            }
        };
        self.s.set_nonblocking(false).expect("blocking");
        eof
    }

    /// Whether the server closed the connection (reads EOF within 5 s).
    pub fn closed(&mut self) -> bool {
        self.s.set_read_timeout(Some(Duration::from_secs(5))).ok();
        let mut tmp = [0u8; 1024];
        loop {
            match self.s.read(&mut tmp) {
                Ok(0) => return true,
                Ok(n) => self.buf.extend_from_slice(&tmp[..n]),
                Err(_) => return false,
            }
        }
    }
}

/// Differential testing: the same commands to relica and to a real
/// redis-server, replies compared.
pub struct Diff {
    /// Connection to relica.
    pub ours: Raw,
    /// Connection to redis-server.
    pub theirs: Raw,
    /// Keep the servers alive as long as the connections.
    _servers: (Server, Server),
}

impl Diff {
    /// Start both servers with the same extra arguments.
    pub fn start(args: &[&str]) -> Diff {
        let a = Server::start(args);
        let b = Server::redis(args);
        Diff {
            ours: a.raw(),
            theirs: b.raw(),
            _servers: (a, b),
        }
    }

    /// Send one command to both; return both raw replies.
    pub fn both(&mut self, args: &[&[u8]]) -> (Vec<u8>, Vec<u8>) {
        self.ours.cmd(args);
        self.theirs.cmd(args);
        (self.ours.reply(), self.theirs.reply())
    }

    /// Send one command to both and require byte-identical replies.
    pub fn same(&mut self, args: &[&[u8]]) -> Vec<u8> {
        let (a, b) = self.both(args);
        assert_eq!(
            String::from_utf8_lossy(&a),
            String::from_utf8_lossy(&b),
            "relica and redis-server differ on {}",
            show(args)
        );
        a
    }

    /// As `same`, with string arguments.
    pub fn same_str(&mut self, args: &[&str]) -> String {
        let v: Vec<&[u8]> = args.iter().map(|a| a.as_bytes()).collect();
        String::from_utf8_lossy(&self.same(&v)).into_owned()
    }

    /// Send one command to both and require equal replies up to the order
    /// of aggregate elements (for replies whose order Redis leaves
    /// unspecified, such as SMEMBERS; RESP3 map pairs stay together).
    pub fn same_unordered(&mut self, args: &[&[u8]]) {
        let (a, b) = self.both(args);
        let (fa, fb) = (canon(&a), canon(&b));
        assert_eq!(
            fa,
            fb,
            "relica and redis-server differ (unordered) on {}:\n{}\n{}",
            show(args),
            String::from_utf8_lossy(&a),
            String::from_utf8_lossy(&b)
        );
    }
}

/// Printable form of a command.
pub fn show(args: &[&[u8]]) -> String {
    args.iter()
        .map(|a| String::from_utf8_lossy(a).into_owned())
        .collect::<Vec<_>>()
        .join(" ")
}

/// A reply in a form that ignores element order: aggregates become sorted
/// lists of their elements' canonical forms; maps keep pairs together.
pub fn canon(reply: &[u8]) -> String {
    let limits = resp::Limits::default();
    match resp::decode_frame(reply, &limits) {
        Ok(Some((f, _))) => canon_frame(&f),
        _ => format!("unparsable {:?}", String::from_utf8_lossy(reply)),
    }
}

fn canon_frame(f: &resp::Frame) -> String {
    use resp::Frame;
    match f {
        Frame::Array(v) | Frame::Set(v) | Frame::Push(v) => {
            let mut parts: Vec<String> = v.iter().map(canon_frame).collect();
            parts.sort();
            format!("[{}]", parts.join(","))
        }
        Frame::Map(v) => {
            let mut parts: Vec<String> = v
                .iter()
                .map(|(k, x)| format!("{}=>{}", canon_frame(k), canon_frame(x)))
                .collect();
            parts.sort();
            format!("{{{}}}", parts.join(","))
        }
        other => format!("{other:?}"),
    }
}

impl Raw {
    /// Wrap a connected socket.
    pub fn from_stream(s: TcpStream) -> Raw {
        Raw { s, buf: Vec::new() }
    }

    /// One field of INFO (all sections), or "" when absent.
    pub fn info_field(&mut self, field: &str) -> String {
        let text = self.call(&["INFO", "everything"]);
        let prefix = format!("{field}:");
        text.lines()
            .find_map(|l| l.strip_prefix(&prefix))
            .unwrap_or("")
            .trim()
            .to_string()
    }
}

impl Raw {
    fn fill(&mut self) {
        let mut tmp = [0u8; 65536];
        let n = self.s.read(&mut tmp).expect("read");
        assert!(n > 0, "connection closed");
        self.buf.extend_from_slice(&tmp[..n]);
    }

    /// Read one line, without its CRLF.
    pub fn read_line(&mut self) -> String {
        loop {
            if let Some(p) = self.buf.windows(2).position(|w| w == b"\r\n") {
                let line = String::from_utf8_lossy(&self.buf[..p]).into_owned();
                self.buf.drain(..p + 2);
                return line;
            }
            self.fill();
        }
    }

    /// Read exactly `n` bytes.
    pub fn read_n(&mut self, n: usize) -> Vec<u8> {
        while self.buf.len() < n {
            self.fill();
        }
        self.buf.drain(..n).collect()
    }

    /// True when nothing arrives within `d` (an absence check: it can
    /// only miss a fault, never invent one).
    pub fn quiet_for(&mut self, d: Duration) -> bool {
        if !self.buf.is_empty() {
            return false;
        }
        self.s.set_read_timeout(Some(d)).ok();
        let mut b = [0u8; 1024];
        let quiet = match std::io::Read::read(&mut self.s, &mut b) {
            Ok(0) => false,
            Ok(n) => {
                self.buf.extend_from_slice(&b[..n]);
                false
            }
            Err(_) => true,
        };
        self.s.set_read_timeout(Some(Duration::from_secs(10))).ok();
        quiet
    }

    /// Read up to and including `mark`; returns what came before it.
    pub fn read_until(&mut self, mark: &[u8]) -> Vec<u8> {
        loop {
            if let Some(p) = self.buf.windows(mark.len()).position(|w| w == mark) {
                let out = self.buf[..p].to_vec();
                self.buf.drain(..p + mark.len());
                return out;
            }
            self.fill();
        }
    }
}

/// Expected replies, as test code spells them.
pub mod expect {
    use super::{wait_for, Raw};
    use std::time::Duration;

    /// `-WRONGTYPE …`.
    pub const WRONGTYPE: &str =
        "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n";
    /// Redis's NOT_INT error reply.
    pub const NOT_INT: &str = "-ERR value is not an integer or out of range\r\n";
    /// `-ERR syntax error`.
    pub const SYNTAX: &str = "-ERR syntax error\r\n";

    /// The wrong-arity error for a command.
    pub fn arity(cmd: &str) -> String {
        format!("-ERR wrong number of arguments for '{cmd}' command\r\n")
    }

    /// `*n` followed by bulk strings.
    pub fn bulks(items: &[&str]) -> String {
        let mut s = format!("*{}\r\n", items.len());
        for i in items {
            s.push_str(&format!("${}\r\n{}\r\n", i.len(), i));
        }
        s
    }

    /// One bulk string.
    pub fn bulk(s: &str) -> String {
        format!("${}\r\n{}\r\n", s.len(), s)
    }

    /// Wait until the server reports `n` clients blocked.
    pub fn wait_blocked(r: &mut Raw, n: usize) {
        let want = format!("blocked_clients:{n}\r\n");
        wait_for(
            &format!("{n} blocked clients"),
            Duration::from_secs(10),
            || r.call(&["INFO", "clients"]).contains(&want),
        );
    }
}

/// An INFO field as a number (-1 when absent or not a number).
pub fn int_field(r: &mut Raw, f: &str) -> i64 {
    r.info_field(f).parse().unwrap_or(-1)
}

/// Wait (2 minutes at most) until a replica's link with its master is up.
pub fn wait_up(r: &mut Raw) {
    wait_for("master_link_status:up", Duration::from_secs(120), || {
        r.info_field("master_link_status") == "up"
    });
}

/// Wait (2 minutes at most) until two servers' DEBUG DIGEST agree.
pub fn wait_same_digest(a: &mut Raw, b: &mut Raw) {
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let x = a.call(&["DEBUG", "DIGEST"]);
        let y = b.call(&["DEBUG", "DIGEST"]);
        if x == y {
            return;
        }
        assert!(Instant::now() < deadline, "digests differ: {x:?} {y:?}");
        std::thread::sleep(Duration::from_millis(20));
    }
}
