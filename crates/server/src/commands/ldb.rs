//! The Lua debugger's synchronous session (Redis's `ldb*` in `eval.c`,
//! SCRIPT DEBUG SYNC): after SCRIPT DEBUG YES or SYNC, a client's next EVAL
//! stops at its first line, and the client drives it with debugger
//! commands (step, continue, list, eval, redis, break, abort, help), each
//! answered with the session's log lines as an array of status replies.
//!
//! As in Redis's SYNC mode, the server does nothing else meanwhile: the
//! script holds the engine, and the session reads and writes the client's
//! socket directly, blocking. Redis's forked mode (SCRIPT DEBUG YES, where
//! the session runs in a child process and the server goes on) is served
//! as SYNC: relica does not fork. When the session ends the client gets an
//! `<endsession>` log, the script's reply, and the connection closes.
//!
//! Not done: `print` (local variables), `trace` and `maxlen` answer that
//! they are not supported.

use std::time::Duration;

use bytes::Bytes;
use mlua::{Lua, Value};

/// The debugger help, Redis's text.
const HELP: &[&str] = &[
    "Redis Lua debugger help:",
    "[h]elp               Show this help.",
    "[s]tep               Run current line and stop again.",
    "[n]ext               Alias for step.",
    "[c]ontinue           Run till next breakpoint.",
    "[l]ist               List source code around current line.",
    "[l]ist [line]        List source code around [line].",
    "                     line = 0 means: current position.",
    "[l]ist [line] [ctx]  In this form [ctx] specifies how many lines",
    "                     to show before/after [line].",
    "[w]hole              List all source code. Alias for 'list 1 1000000'.",
    "[p]rint              Show all the local variables.",
    "[p]rint <var>        Show the value of the specified variable.",
    "                     Can also show global vars KEYS and ARGV.",
    "[b]reak              Show all breakpoints.",
    "[b]reak <line>       Add a breakpoint to the specified line.",
    "[b]reak -<line>      Remove breakpoint from the specified line.",
    "[b]reak 0            Remove all breakpoints.",
    "[t]race              Show a backtrace.",
    "[e]val <code>        Execute some Lua code (in a different callframe).",
    "[r]edis <cmd>        Execute a Redis command.",
    "[m]axlen [len]       Trim logged Redis replies and Lua var dumps to len.",
    "                     Specifying zero as <len> means unlimited.",
    "[a]bort              Stop the execution of the script. In sync",
    "                     mode dataset changes will be retained.",
    "",
    "Debugger functions you can call from Lua scripts:",
    "redis.debug()        Produce logs in the debugger console.",
    "redis.breakpoint()   Stop execution like if there was a breakpoint in the",
    "                     next line of code.",
];

/// Bytes a debugger command may take before the session gives up.
const MAX_CMD_BUF: usize = 1 << 20;

/// One session: the client's socket, the script's lines and the logs
/// waiting to be sent.
pub struct Ldb {
    fd: i32,
    lines: Vec<Vec<u8>>,
    logs: Vec<Vec<u8>>,
    breakpoints: Vec<i64>,
    /// Stop at the next line.
    pub step: bool,
    current: i64,
    cbuf: Vec<u8>,
    /// The client went away: the script runs on without stopping.
    lost: bool,
}

/// What the line hook does after the REPL.
pub enum Resume {
    /// Go on running the script.
    Continue,
    /// Raise this error in the script (abort, protocol error).
    Error(String),
}

impl Ldb {
    /// A session over socket `fd` for a script with this body.
    pub fn start(fd: i32, body: &[u8]) -> Ldb {
        tracing::warn!("Redis synchronous debugging eval session started");
        Ldb {
            fd,
            lines: body.split(|&b| b == b'\n').map(|l| l.to_vec()).collect(),
            logs: Vec::new(),
            breakpoints: Vec::new(),
            step: true,
            current: 0,
            cbuf: Vec::new(),
            lost: false,
        }
    }

    /// Log a line (ldbLog).
    pub fn log(&mut self, s: impl Into<Vec<u8>>) {
        self.logs.push(s.into());
    }

    /// The end of the session (ldbEndSession): the last logs and the
    /// `<endsession>` mark.
    pub fn end(mut self) {
        self.log("<endsession>");
        self.send_logs();
        tracing::warn!("Redis synchronous debugging eval session ended");
    }

    /// The line hook (luaLdbLineHook) at `line` of the user's script.
    pub fn line(
        &mut self,
        lua: &Lua,
        line: i64,
        call: &mut dyn FnMut(&Lua, Vec<Bytes>) -> Vec<Vec<u8>>,
    ) -> Resume {
        self.current = line;
        if self.lost {
            return Resume::Continue;
        }
        let bp = self.breakpoints.contains(&line);
        if !self.step && !bp {
            return Resume::Continue;
        }
        let reason = if bp { "break point" } else { "step over" };
        self.step = false;
        self.log(format!("* Stopped at {line}, stop reason = {reason}"));
        self.log_source_line(line);
        self.send_logs();
        self.repl(lua, call)
    }

    fn log_source_line(&mut self, line: i64) {
        let code = usize::try_from(line - 1)
            .ok()
            .and_then(|i| self.lines.get(i))
            .cloned()
            .unwrap_or_else(|| b"<out of range source code line>".to_vec());
        let prefix = match (line == self.current, self.breakpoints.contains(&line)) {
            (true, true) => "->#",
            (true, false) => "-> ",
            (false, true) => "  #",
            (false, false) => "   ",
        };
        let mut s = format!("{prefix}{line:<3} ").into_bytes();
        s.extend_from_slice(&code);
        self.log(s);
    }

    fn list(&mut self, around: i64, context: i64) {
        let around = if around == 0 { self.current } else { around };
        for j in 1..=self.lines.len() as i64 {
            if around != 0 && (j - around).abs() > context {
                continue;
            }
            self.log_source_line(j);
        }
    }

    /// ldbSendLogs: the logs as an array of status replies.
    fn send_logs(&mut self) {
        let mut out = format!("*{}\r\n", self.logs.len()).into_bytes();
        for l in self.logs.drain(..) {
            out.push(b'+');
            out.extend(
                l.into_iter()
                    .map(|b| if b == b'\r' || b == b'\n' { b' ' } else { b }),
            );
            out.extend_from_slice(b"\r\n");
        }
        if !self.lost && sock::write_all(self.fd, &out).is_err() {
            self.lost = true;
        }
    }

    /// Read one debugger command (ldbReplParseCommand): None when the
    /// client is gone; Err for a protocol error.
    fn read_command(&mut self) -> Result<Option<Vec<Bytes>>, String> {
        loop {
            if let Some(argv) = parse_command(&self.cbuf)? {
                self.cbuf.clear();
                return Ok(Some(argv));
            }
            let mut buf = [0u8; 1024];
            match sock::read(self.fd, &mut buf) {
                Ok(n) if n > 0 => self.cbuf.extend_from_slice(&buf[..n]),
                _ => return Ok(None),
            }
            if self.cbuf.len() > MAX_CMD_BUF {
                self.cbuf.clear();
                return Err("max client buffer reached".into());
            }
        }
    }

    /// ldbRepl: serve commands until one resumes the script.
    fn repl(
        &mut self,
        lua: &Lua,
        call: &mut dyn FnMut(&Lua, Vec<Bytes>) -> Vec<Vec<u8>>,
    ) -> Resume {
        loop {
            let argv = match self.read_command() {
                Ok(Some(a)) => a,
                Ok(None) => {
                    // The client is gone: the script runs to its end.
                    self.lost = true;
                    self.step = false;
                    self.breakpoints.clear();
                    return Resume::Continue;
                }
                Err(e) => return Resume::Error(e),
            };
            let Some(first) = argv.first() else {
                continue;
            };
            let name = String::from_utf8_lossy(first).to_ascii_lowercase();
            let is = |a: &str, b: &str| name == a || name == b;
            if is("h", "help") {
                for l in HELP {
                    self.log(*l);
                }
            } else if is("s", "step") || is("n", "next") {
                self.step = true;
                return Resume::Continue;
            } else if is("c", "continue") {
                return Resume::Continue;
            } else if is("a", "abort") {
                return Resume::Error("script aborted for user request".into());
            } else if is("l", "list") {
                let around = argv.get(1).map_or(0, |a| atoi(a));
                let ctx = argv.get(2).map_or(5, |a| atoi(a));
                self.list(around, ctx);
            } else if is("w", "whole") {
                self.list(1, 1_000_000);
            } else if is("b", "break") {
                self.breakpoint(&argv[1..]);
            } else if is("e", "eval") && argv.len() > 1 {
                self.eval(lua, &argv[1..]);
            } else if is("r", "redis") && argv.len() > 1 {
                for l in call(lua, argv[1..].to_vec()) {
                    self.log(l);
                }
            } else if is("p", "print") || is("t", "trace") || is("m", "maxlen") {
                self.log(format!(
                    "<error> '{name}' is not supported by relica's Lua debugger."
                ));
            } else {
                self.log(
                    "<error> Unknown Redis Lua debugger command or wrong number of arguments.",
                );
            }
            self.send_logs();
        }
    }

    fn breakpoint(&mut self, args: &[Bytes]) {
        if args.is_empty() {
            if self.breakpoints.is_empty() {
                self.log("No breakpoints set. Use 'b <line>' to add one.");
            } else {
                let n = self.breakpoints.len();
                self.log(format!("{n} breakpoints set:"));
                let mut bps = self.breakpoints.clone();
                bps.sort_unstable();
                for l in bps {
                    self.log_source_line(l);
                }
            }
            return;
        }
        for a in args {
            let line = atoi(a);
            if line == 0 {
                self.breakpoints.clear();
                self.log("All breakpoints removed.");
            } else if line > 0 {
                if usize::try_from(line).map_or(true, |l| l > self.lines.len()) {
                    self.log("Wrong line number.");
                } else if !self.breakpoints.contains(&line) {
                    self.breakpoints.push(line);
                    self.list(line, 1);
                } else {
                    self.log("Breakpoint already set at that line.");
                }
            } else if let Some(i) = self.breakpoints.iter().position(|&b| b == -line) {
                self.breakpoints.remove(i);
                self.log("Breakpoint removed.");
            } else {
                self.log("No breakpoint in the specified line.");
            }
        }
    }

    /// ldbEval: as an expression (`return ...`), else as statements.
    fn eval(&mut self, lua: &Lua, args: &[Bytes]) {
        let code = args.join(&b' ');
        let mut expr = b"return ".to_vec();
        expr.extend_from_slice(&code);
        let f = match lua.load(&expr[..]).set_name("@ldb_eval").into_function() {
            Ok(f) => f,
            Err(_) => match lua.load(&code[..]).set_name("@ldb_eval").into_function() {
                Ok(f) => f,
                Err(e) => {
                    self.log(format!("<error> {}", lua_error_text(&e)));
                    return;
                }
            },
        };
        match f.call::<Value>(()) {
            Ok(v) => {
                let mut s = b"<retval> ".to_vec();
                repr(&v, &mut s, 0);
                self.log(s);
            }
            Err(e) => self.log(format!("<error> {}", lua_error_text(&e))),
        }
    }
}

fn lua_error_text(e: &mlua::Error) -> String {
    match e {
        mlua::Error::SyntaxError { message, .. } => message.clone(),
        mlua::Error::RuntimeError(m) => m.clone(),
        mlua::Error::CallbackError { cause, .. } => lua_error_text(cause),
        other => other.to_string(),
    }
}

fn atoi(b: &[u8]) -> i64 {
    crate::util::num::parse_i64(b).unwrap_or(0)
}

/// A debugger command: a RESP array of bulk strings (Redis accepts only
/// that form). Ok(None): more bytes needed.
fn parse_command(buf: &[u8]) -> Result<Option<Vec<Bytes>>, String> {
    const PROTO: &str = "protocol error";
    if buf.is_empty() {
        return Ok(None);
    }
    if buf[0] != b'*' {
        return Err(PROTO.into());
    }
    let limits = resp::Limits {
        max_bulk_len: MAX_CMD_BUF as u64,
        ..Default::default()
    };
    match resp::decode_frame(buf, &limits) {
        Ok(Some((resp::Frame::Array(items), _))) => {
            let mut argv = Vec::with_capacity(items.len());
            for it in items {
                match it {
                    resp::Frame::Bulk(b) => argv.push(b),
                    _ => return Err(PROTO.into()),
                }
            }
            if argv.is_empty() {
                return Err(PROTO.into());
            }
            Ok(Some(argv))
        }
        Ok(Some(_)) | Err(_) => Err(PROTO.into()),
        Ok(None) => Ok(None),
    }
}

/// A Lua value as the debugger shows it (ldbRedisProtocolToHuman's and
/// ldbCatStackValue's forms).
pub fn repr(v: &Value, out: &mut Vec<u8>, depth: usize) {
    match v {
        Value::Nil => out.extend_from_slice(b"nil"),
        Value::Boolean(b) => out.extend_from_slice(if *b { b"true" } else { b"false" }),
        Value::Integer(n) => out.extend_from_slice(n.to_string().as_bytes()),
        Value::Number(n) => out.extend_from_slice(crate::util::num::fmt_g(*n, 14).as_bytes()),
        Value::String(s) => quoted(&s.as_bytes(), out),
        Value::Table(t) if depth < 8 => {
            out.push(b'{');
            // Both forms at once: `[k]=v` pairs, and values only, which
            // is shown when the keys are 1, 2, 3… (ldbCatStackValueRec).
            let (mut pairs, mut values) = (Vec::new(), Vec::new());
            let mut expected = 1.0;
            let mut is_array = true;
            for (k, v) in t.clone().pairs::<Value, Value>().flatten() {
                let n = match k {
                    Value::Integer(i) => Some(i as f64),
                    Value::Number(n) => Some(n),
                    _ => None,
                };
                if n != Some(expected) {
                    is_array = false;
                }
                expected += 1.0;
                if !pairs.is_empty() {
                    pairs.extend_from_slice(b"; ");
                    values.extend_from_slice(b"; ");
                }
                pairs.push(b'[');
                repr(&k, &mut pairs, depth + 1);
                pairs.extend_from_slice(b"]=");
                let start = values.len();
                repr(&v, &mut values, depth + 1);
                let shown = values[start..].to_vec();
                pairs.extend_from_slice(&shown);
            }
            out.extend_from_slice(if is_array { &values } else { &pairs });
            out.push(b'}');
        }
        other => out.extend_from_slice(
            format!("\"{}@{:p}\"", other.type_name(), other.to_pointer()).as_bytes(),
        ),
    }
}

/// sdscatrepr: a quoted string with escapes (`util::repr`).
fn quoted(s: &[u8], out: &mut Vec<u8>) {
    crate::util::repr(out, s);
}

/// A command's RESP reply as the debugger logs it (ldbRedisProtocolToHuman).
pub fn reply_human(reply: &[u8], out: &mut Vec<u8>) {
    let limits = resp::Limits {
        max_bulk_len: u64::MAX,
        ..Default::default()
    };
    match resp::decode_frame(reply, &limits) {
        Ok(Some((f, _))) => frame_human(&f, out),
        _ => out.extend_from_slice(b"<unknown>"),
    }
}

fn frame_human(f: &resp::Frame, out: &mut Vec<u8>) {
    use resp::Frame as F;
    match f {
        F::Simple(s) => {
            let mut v = b"+".to_vec();
            v.extend_from_slice(s);
            quoted(&v, out);
        }
        F::Error(s) | F::BulkError(s) => {
            let mut v = b"-".to_vec();
            v.extend_from_slice(s);
            quoted(&v, out);
        }
        F::Integer(n) => out.extend_from_slice(n.to_string().as_bytes()),
        F::Bulk(b) => quoted(b, out),
        F::NullBulk | F::NullArray | F::Null => out.extend_from_slice(b"NULL"),
        F::Array(v) | F::Push(v) | F::Set(v) => {
            out.push(b'[');
            for (i, x) in v.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                frame_human(x, out);
            }
            out.push(b']');
        }
        F::Map(m) => {
            out.push(b'{');
            for (i, (k, v)) in m.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                frame_human(k, out);
                out.extend_from_slice(b" => ");
                frame_human(v, out);
            }
            out.push(b'}');
        }
        F::Double(d) => out.extend_from_slice(crate::util::num::fmt_g17(*d).as_bytes()),
        F::Boolean(b) => out.extend_from_slice(if *b { b"#true" } else { b"#false" }),
        F::BigNumber(s) => out.extend_from_slice(s),
        F::Verbatim { text, .. } => quoted(text, out),
        F::Attribute { value, .. } => frame_human(value, out),
    }
}

/// Blocking I/O on the client's non-blocking socket, as Redis's sync
/// session does (connBlock): the connection's task is suspended inside
/// this very command, so the descriptor stays open meanwhile and nothing
/// else reads or writes it.
#[allow(unsafe_code)]
mod sock {
    use super::Duration;

    fn wait(fd: i32, events: i16) -> std::io::Result<()> {
        let mut p = libc::pollfd {
            fd,
            events,
            revents: 0,
        };
        let ms = Duration::from_secs(5).as_millis() as i32;
        loop {
            // SAFETY: `p` is a valid pollfd for the length of the call.
            let r = unsafe { libc::poll(&mut p, 1, ms) };
            if r > 0 {
                return Ok(());
            }
            if r < 0 {
                let e = std::io::Error::last_os_error();
                if e.kind() == std::io::ErrorKind::Interrupted {
                    continue;
                }
                return Err(e);
            }
            // A timeout: Redis's session waits for the client as long as
            // it takes, and so do we.
        }
    }

    /// Read what is there, waiting for something; 0 at end of stream.
    pub(super) fn read(fd: i32, buf: &mut [u8]) -> std::io::Result<usize> {
        if fd < 0 {
            return Ok(0);
        }
        loop {
            // SAFETY: `buf` is valid for writes of its length.
            let n = unsafe { libc::read(fd, buf.as_mut_ptr().cast(), buf.len()) };
            if n >= 0 {
                return Ok(n as usize);
            }
            let e = std::io::Error::last_os_error();
            match e.kind() {
                std::io::ErrorKind::WouldBlock => wait(fd, libc::POLLIN)?,
                std::io::ErrorKind::Interrupted => {}
                _ => return Err(e),
            }
        }
    }

    /// Write all of `data`, waiting while the socket is full.
    pub(super) fn write_all(fd: i32, mut data: &[u8]) -> std::io::Result<()> {
        if fd < 0 {
            return Err(std::io::Error::other("no socket"));
        }
        while !data.is_empty() {
            // SAFETY: `data` is valid for reads of its length; MSG_NOSIGNAL
            // keeps a closed peer from raising SIGPIPE.
            let n = unsafe { libc::send(fd, data.as_ptr().cast(), data.len(), libc::MSG_NOSIGNAL) };
            if n >= 0 {
                data = &data[n as usize..];
                continue;
            }
            let e = std::io::Error::last_os_error();
            match e.kind() {
                std::io::ErrorKind::WouldBlock => wait(fd, libc::POLLOUT)?,
                std::io::ErrorKind::Interrupted => {}
                _ => return Err(e),
            }
        }
        Ok(())
    }
}
