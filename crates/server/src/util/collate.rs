//! String collation as C's `strcoll`, for SORT ... ALPHA.
//!
//! redis-server calls `setlocale(LC_COLLATE, "")` at start-up, so SORT's
//! ALPHA order (and Lua's string comparisons) follow the collation of the
//! environment's locale (`LC_ALL`, `LC_COLLATE`, `LANG`); relica does the
//! same through [`init_from_env`]. Under "C" and "POSIX", and glibc's
//! "C.UTF-8" (code point collation), `strcoll` is `strcmp`, which needs no
//! call into libc. Either way the strings are C strings: a NUL byte ends
//! them, so "a\0x" and "a\0y" collate equal, as in Redis.

use std::cmp::Ordering;
use std::sync::atomic::{AtomicBool, Ordering as AtomicOrdering};

/// Whether the collation is plain byte order (no libc call needed). True
/// until [`init_from_env`] finds another locale: a process starts in "C".
static BYTEWISE: AtomicBool = AtomicBool::new(true);

/// Take `LC_COLLATE` from the environment, as redis-server's
/// `setlocale(LC_COLLATE,"")`. Call it once, before any thread starts.
#[allow(unsafe_code)]
pub fn init_from_env() {
    // SAFETY: setlocale is not thread-safe; the caller runs before any
    // other thread exists. The empty C string lives for the call, and the
    // returned name is copied before any other locale call.
    let name = unsafe {
        let p = libc::setlocale(libc::LC_COLLATE, c"".as_ptr());
        if p.is_null() {
            return;
        }
        std::ffi::CStr::from_ptr(p).to_bytes().to_vec()
    };
    BYTEWISE.store(
        matches!(name.as_slice(), b"C" | b"POSIX" | b"C.UTF-8" | b"C.utf8"),
        AtomicOrdering::Relaxed,
    );
}

/// A byte string as C sees it: up to its first NUL.
pub fn c_str(s: &[u8]) -> &[u8] {
    match memchr::memchr(0, s) {
        Some(n) => &s[..n],
        None => s,
    }
}

/// `strcoll(a, b)` on two byte strings, each read up to its first NUL.
pub fn strcoll(a: &[u8], b: &[u8]) -> Ordering {
    let (a, b) = (c_str(a), c_str(b));
    if BYTEWISE.load(AtomicOrdering::Relaxed) {
        return a.cmp(b);
    }
    libc_strcoll(a, b)
}

#[allow(unsafe_code)]
fn libc_strcoll(a: &[u8], b: &[u8]) -> Ordering {
    // Neither holds a NUL (c_str cut there), so these cannot fail.
    let a = std::ffi::CString::new(a).unwrap_or_default();
    let b = std::ffi::CString::new(b).unwrap_or_default();
    // SAFETY: both pointers are NUL-terminated strings that outlive the
    // call; strcoll only reads them and the locale set at start-up.
    let r = unsafe { libc::strcoll(a.as_ptr(), b.as_ptr()) };
    r.cmp(&0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn c_strings_end_at_nul() {
        assert_eq!(strcoll(b"a\0x", b"a\0y"), Ordering::Equal);
        assert_eq!(strcoll(b"a", b"a\0y"), Ordering::Equal);
        assert_eq!(strcoll(b"ab", b"a\0y"), Ordering::Greater);
        assert_eq!(strcoll(b"", b"a"), Ordering::Less);
        assert_eq!(strcoll(b"\x80", b"z"), Ordering::Greater);
        assert_eq!(libc_strcoll(b"abc", b"abd"), Ordering::Less);
    }
}
