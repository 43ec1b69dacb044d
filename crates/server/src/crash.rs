//! Redis's crash report: on SIGSEGV, SIGBUS, SIGFPE, SIGILL or SIGABRT
//! the log gets the bug report Redis writes (its header, the signal and
//! its code, `------ STACK TRACE ------` and the thread's backtrace), then
//! the signal's default action ends the process (a core file where the
//! system keeps them), as Redis's sigsegvHandler does.
//!
//! The handler only formats into a stack buffer and writes with write(2)
//! to a descriptor opened at start-up, plus glibc's backtrace(), which is
//! loaded once beforehand so that it does not allocate in the handler.
#![allow(unsafe_code)]

use std::sync::atomic::{AtomicI32, Ordering};

/// Where the report goes: the log file, or stdout.
static LOG_FD: AtomicI32 = AtomicI32::new(1);

/// The signals that get a report.
const SIGNALS: [libc::c_int; 5] = [
    libc::SIGSEGV,
    libc::SIGBUS,
    libc::SIGFPE,
    libc::SIGILL,
    libc::SIGABRT,
];

/// Install the handlers; `logfile` empty means stdout.
pub fn install(logfile: &str) {
    if !logfile.is_empty() {
        if let Ok(path) = std::ffi::CString::new(logfile) {
            // SAFETY: a valid NUL-terminated path; the descriptor is kept
            // for the life of the process.
            let fd = unsafe {
                libc::open(
                    path.as_ptr(),
                    libc::O_WRONLY | libc::O_APPEND | libc::O_CREAT | libc::O_CLOEXEC,
                    0o644,
                )
            };
            if fd >= 0 {
                LOG_FD.store(fd, Ordering::Relaxed);
            }
        }
    }
    let mut frames = [std::ptr::null_mut(); 4];
    // SAFETY: `frames` has room for the 4 entries asked for. The first call
    // loads libgcc's unwinder, which may allocate: done here, not in the
    // handler.
    unsafe { libc::backtrace(frames.as_mut_ptr(), frames.len() as libc::c_int) };
    for sig in SIGNALS {
        // SAFETY: a zeroed sigaction filled with a handler of the
        // SA_SIGINFO signature; the handler resets itself (SA_RESETHAND) so
        // that re-raising ends the process.
        unsafe {
            let mut act: libc::sigaction = std::mem::zeroed();
            act.sa_sigaction = handler as *const () as usize;
            act.sa_flags =
                libc::SA_SIGINFO | libc::SA_NODEFER | libc::SA_RESETHAND | libc::SA_ONSTACK;
            libc::sigemptyset(&mut act.sa_mask);
            libc::sigaction(sig, &act, std::ptr::null_mut());
        }
    }
}

/// A fixed buffer written with write(2): no allocation in the handler.
struct Report {
    buf: [u8; 1024],
    len: usize,
}

impl Report {
    fn push(&mut self, s: &[u8]) {
        let n = s.len().min(self.buf.len() - self.len);
        self.buf[self.len..self.len + n].copy_from_slice(&s[..n]);
        self.len += n;
    }

    fn num(&mut self, n: i64) {
        let mut b = itoa::Buffer::new();
        self.push(b.format(n).as_bytes());
    }

    fn hex(&mut self, n: usize) {
        let mut digits = [0u8; 16];
        let mut i = digits.len();
        let mut v = n;
        loop {
            i -= 1;
            digits[i] = b"0123456789abcdef"[v & 15];
            v >>= 4;
            if v == 0 {
                break;
            }
        }
        self.push(b"0x");
        self.push(&digits[i..]);
    }

    fn flush(&mut self, fd: libc::c_int) {
        let mut off = 0;
        while off < self.len {
            // SAFETY: writing bytes of our own buffer.
            let n = unsafe { libc::write(fd, self.buf[off..].as_ptr().cast(), self.len - off) };
            if n <= 0 {
                break;
            }
            off += n as usize;
        }
        self.len = 0;
    }
}

extern "C" fn handler(sig: libc::c_int, info: *mut libc::siginfo_t, _ctx: *mut libc::c_void) {
    let fd = LOG_FD.load(Ordering::Relaxed);
    let pid = std::process::id() as i64;
    let mut r = Report {
        buf: [0; 1024],
        len: 0,
    };
    r.push(b"\n\n=== REDIS BUG REPORT START: Cut & paste starting from here ===\n");
    r.num(pid);
    r.push(b":M # Redis ");
    r.push(crate::REDIS_VERSION.as_bytes());
    r.push(b" crashed by signal: ");
    r.num(sig as i64);
    r.push(b", si_code: ");
    // SAFETY: the kernel passes a valid siginfo to an SA_SIGINFO handler.
    let code = if info.is_null() {
        0
    } else {
        unsafe { (*info).si_code }
    };
    r.num(code as i64);
    r.push(b"\n");
    if !info.is_null() {
        if code <= 0 {
            // Sent by a process (kill, raise): who sent it, as Redis says.
            // SAFETY: as above; these fields are set for SI_USER signals.
            let (spid, uid) = unsafe { ((*info).si_pid(), (*info).si_uid()) };
            r.num(pid);
            r.push(b":M # Killed by PID: ");
            r.num(spid as i64);
            r.push(b", UID: ");
            r.num(uid as i64);
            r.push(b"\n");
        } else if sig == libc::SIGSEGV || sig == libc::SIGBUS {
            // SAFETY: as above; si_addr is set for faults.
            let addr = unsafe { (*info).si_addr() } as usize;
            r.num(pid);
            r.push(b":M # Accessing address: ");
            r.hex(addr);
            r.push(b"\n");
        }
    }
    r.push(b"\n------ STACK TRACE ------\n\nBacktrace:\n");
    r.flush(fd);
    let mut frames = [std::ptr::null_mut(); 100];
    // SAFETY: room for the frames asked for; backtrace_symbols_fd writes
    // to the descriptor without allocating.
    unsafe {
        let n = libc::backtrace(frames.as_mut_ptr(), frames.len() as libc::c_int);
        libc::backtrace_symbols_fd(frames.as_ptr(), n, fd);
    }
    r.push(b"\n=== REDIS BUG REPORT END. Make sure to include from START to END. ===\n\n");
    r.flush(fd);
    // The handler reset itself: the signal's default action ends the
    // process (a fault would also recur on return).
    // SAFETY: raising a signal in our own process.
    unsafe {
        libc::raise(sig);
    }
}
