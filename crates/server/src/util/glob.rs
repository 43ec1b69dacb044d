//! Redis's glob matcher (`stringmatchlen` in `util.c`), used by KEYS,
//! SCAN/HSCAN/SSCAN/ZSCAN MATCH, PSUBSCRIBE and CONFIG GET.
//!
//! Clients depend on its quirks, so they are kept: `*` does not match an
//! empty string at the top level, an unterminated `[` class runs to the end
//! of the pattern, ranges may be written backwards (`[z-a]`) and compare
//! bytes as C's signed `char`, `\` inside a class escapes case-sensitively
//! even with `nocase`, and a trailing `\` is a literal backslash.
//!
//! Redis matches `*` by recursion, pruned in later 7.0 releases so that it
//! is no longer exponential. Here `*` is matched by the usual
//! single-backtrack loop: only the most recent `*` is ever re-tried, which
//! gives the same answers (checked against Redis's own function on a
//! million random cases, a sample of which is the test table below) in
//! O(pattern × string) time with no recursion, whatever the input.

/// Returns whether `s` matches the glob `pattern`.
///
/// `*` matches any run of bytes, `?` any one byte, `[abc]`, `[^abc]` and
/// `[a-z]` a byte from (or not from) the class, and `\x` the byte `x`.
/// With `nocase`, ASCII letters compare case-insensitively.
pub fn glob_match(pattern: &[u8], s: &[u8], nocase: bool) -> bool {
    if s.is_empty() {
        // Redis never enters its matching loop for an empty string, so only
        // an empty pattern matches it ("*" does not).
        return pattern.is_empty();
    }
    let mut p = 0;
    let mut i = 0;
    // Where to resume after the most recent `*`: (pattern index just past
    // it, string index it was last tried at).
    let mut star: Option<(usize, usize)> = None;
    loop {
        if i == s.len() {
            while pattern.get(p) == Some(&b'*') {
                p += 1;
            }
            return p == pattern.len();
        }
        if pattern.get(p) == Some(&b'*') {
            while pattern.get(p) == Some(&b'*') {
                p += 1;
            }
            if p == pattern.len() {
                return true;
            }
            star = Some((p, i));
            continue;
        }
        if p < pattern.len() {
            let (matched, next) = match_token(pattern, p, s[i], nocase);
            if matched {
                p = next;
                i += 1;
                continue;
            }
        }
        match star {
            Some((after_star, tried_at)) => {
                star = Some((after_star, tried_at + 1));
                p = after_star;
                i = tried_at + 1;
            }
            None => return false,
        }
    }
}

/// glibc's `tolower` in the "C" locale on an `int` holding a signed
/// `char`: negative values other than -1 (EOF) come back as their unsigned
/// byte, so the case-folded side of a range compares as unsigned.
fn lower(c: i32) -> i32 {
    match c {
        -128..=-2 => c + 256,
        65..=90 => c + 32,
        _ => c,
    }
}

/// A byte as C's signed `char`, widened to `int`.
fn signed(c: u8) -> i32 {
    i32::from(c as i8)
}

fn eq(a: u8, b: u8, nocase: bool) -> bool {
    if nocase {
        a.eq_ignore_ascii_case(&b)
    } else {
        a == b
    }
}

/// Matches the single-byte token (anything but `*`) that starts at
/// `pattern[p]` against `c`. Returns (matched, index past the token).
fn match_token(pattern: &[u8], p: usize, c: u8, nocase: bool) -> (bool, usize) {
    match pattern[p] {
        b'?' => (true, p + 1),
        b'\\' if p + 1 < pattern.len() => (eq(pattern[p + 1], c, nocase), p + 2),
        b'[' => match_class(pattern, p + 1, c, nocase),
        lit => (eq(lit, c, nocase), p + 1),
    }
}

/// Matches the class whose body starts at `pattern[q]` (just past `[`).
fn match_class(pattern: &[u8], mut q: usize, c: u8, nocase: bool) -> (bool, usize) {
    let len = pattern.len();
    let negate = pattern.get(q) == Some(&b'^');
    if negate {
        q += 1;
    }
    let mut matched = false;
    loop {
        if q >= len {
            // Unterminated: the class swallows the rest of the pattern.
            q = len;
            break;
        }
        let b = pattern[q];
        if b == b'\\' && len - q >= 2 {
            // Escapes compare exactly, even with nocase.
            matched |= pattern[q + 1] == c;
            q += 2;
        } else if b == b']' {
            q += 1;
            break;
        } else if len - q >= 3 && pattern[q + 1] == b'-' {
            let (mut lo, mut hi) = (signed(b), signed(pattern[q + 2]));
            if lo > hi {
                std::mem::swap(&mut lo, &mut hi);
            }
            let mut x = signed(c);
            if nocase {
                lo = lower(lo);
                hi = lower(hi);
                x = lower(x);
            }
            matched |= lo <= x && x <= hi;
            q += 3;
        } else {
            matched |= eq(b, c, nocase);
            q += 1;
        }
    }
    (matched != negate, q)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(p: &str, s: &str) -> bool {
        glob_match(p.as_bytes(), s.as_bytes(), false)
    }

    #[test]
    fn basics() {
        assert!(m("", ""));
        assert!(!m("*", ""));
        assert!(!m("**", ""));
        assert!(!m("", "a"));
        assert!(m("*", "anything"));
        assert!(m("h?llo", "hello"));
        assert!(m("h*llo", "hllo"));
        assert!(m("h*llo", "heeeello"));
        assert!(m("h[ae]llo", "hallo"));
        assert!(!m("h[ae]llo", "hillo"));
        assert!(m("h[^e]llo", "hallo"));
        assert!(!m("h[^e]llo", "hello"));
        assert!(m("h[a-b]llo", "hbllo"));
        assert!(m("h[b-a]llo", "hallo"), "reversed range");
        assert!(m("a*", "a"));
        assert!(m("a**", "a"));
        assert!(!m("a*b", "a"));
        assert!(m("*ab", "abab"));
        assert!(m("*a?", "aab"));
        assert!(!m("*ab", "xa"));
    }

    #[test]
    fn escapes_and_edges() {
        assert!(m("\\*", "*"));
        assert!(!m("\\*", "a"));
        assert!(m("a\\", "a\\"), "trailing backslash is literal");
        assert!(m("[\\]]", "]"));
        assert!(m("[\\]", "]"), "escaped ] leaves the class open");
        assert!(!m("[", "["));
        assert!(!m("a[", "a["));
        assert!(m("[^", "x"), "[^ at the end matches any byte");
        assert!(m("[a", "a"));
        assert!(!m("[]", "]"));
        assert!(!m("[]a]", "a]"), "[] is an empty class: never matches");
        assert!(m("[^]", "x"));
        assert!(m("[a-]", "^"), "'[a-]' is the range ']'..'a'");
        assert!(!m("[a-]", "-"));
        assert!(m("[-a]", "-"));
        assert!(m("x[*]", "x*"));
    }

    #[test]
    fn nocase() {
        assert!(glob_match(b"HeLLo", b"hello", true));
        assert!(glob_match(b"h[A-Z]llo", b"hello", true));
        assert!(glob_match(b"\\H", b"h", true));
        assert!(!glob_match(b"[\\H]", b"h", true), "class escapes are exact");
        assert!(
            !glob_match(b"[Z-a]", b"b", true),
            "range lowered after swap"
        );
    }

    #[test]
    fn high_bytes_compare_as_signed_char() {
        // 'a'..0xff as signed char is -1..'a': 0x00..='a' match, 0x80 not.
        assert!(glob_match(b"[a-\xff]", b"\x00", false));
        assert!(glob_match(b"[a-\xff]", b"\xff", false));
        assert!(!glob_match(b"[a-\xff]", b"\x80", false));
        assert!(!glob_match(b"[a-\xff]", b"b", false));
    }

    #[test]
    fn no_blowup() {
        let pattern = "a*".repeat(60) + "b";
        let s = "a".repeat(5000);
        assert!(!m(&pattern, &s));
        let pattern = "*a".repeat(20_000);
        assert!(m(&pattern, &"a".repeat(20_000)));
    }

    /// Generated by running Redis 7.0's `stringmatchlen` over random
    /// patterns and strings: (pattern, string, nocase, matched).
    #[rustfmt::skip]
    const REDIS: &[(&[u8], &[u8], bool, bool)] = &[
        (b"", b"", false, true),
        (b"", b"", false, true),
        (b"\xe9a*b*", b"\xe9a^bb]B", false, true),
        (b"^aaAz-", b"^aaAz-", false, true),
        (b"\xe9?A\xe9Aa", b"\xe9\\A\xe9Aa", false, true),
        (b"*bAa*z", b"*bAaBaz", true, true),
        (b"A\x00*", b"A\x00", false, true),
        (b"", b"", false, true),
        (b"", b"", false, true),
        (b"\\\x00?\xe9", b"\x00a\xe9", false, true),
        (b"", b"", true, true),
        (b"\xe9a?\xe9b*A", b"\xe9aA\xe9bA", false, true),
        (b"*]", b"\xe9]", false, true),
        (b"*", b"\\A\xe9", false, true),
        (b"\\aA", b"aA", true, true),
        (b"A\x00^", b"A\x00^", true, true),
        (b"", b"", false, true),
        (b"", b"", true, true),
        (b"Az?\\z", b"Az-z", true, true),
        (b"\\a?", b"a*", false, true),
        (b"\xe9\x00b", b"\xe9\x00b", true, true),
        (b"", b"", true, true),
        (b"*", b"^\xe9", true, true),
        (b"", b"", false, true),
        (b"za", b"za", false, true),
        (b"aab", b"aab", true, true),
        (b"*", b"\x00\xe9", true, true),
        (b"\x00b?", b"\x00bB", false, true),
        (b"", b"", true, true),
        (b"*\x00", b"\x00^\x00", false, true),
        (b"\x00z]", b"\x00z]", false, true),
        (b"a\x00", b"a\x00", true, true),
        (b"z\x00", b"z\x00", true, true),
        (b"\xe9z\xe9", b"\xe9z\xe9", true, true),
        (b"\xe9A*", b"\xe9A", false, true),
        (b"?", b"^", false, true),
        (b"\xe9??b*[a\\", b"\xe9--ba\\a", false, true),
        (b"", b"", true, true),
        (b"", b"", true, true),
        (b"\\a*", b"a-*", true, true),
        (b"", b"", false, true),
        (b"", b"", false, true),
        (b"", b"", true, true),
        (b"bA*", b"bAaA", false, true),
        (b"\\\x00z", b"\x00z", false, true),
        (b"b\xe9\xe9\x00", b"b\xe9\xe9\x00", false, true),
        (b"?", b"\xe9", true, true),
        (b"*bz?", b"bzA", true, true),
        (b"", b"", true, true),
        (b"?]", b"z]", false, true),
        (b"", b"", true, true),
        (b"b*[z\\", b"baAz", false, true),
        (b"?", b"b", false, true),
        (b"", b"", true, true),
        (b"*", b"*a", true, true),
        (b"*\x00\\a\x00\xe9?", b"*\x00a\x00\xe9z", false, true),
        (b"?a*\x00bab", b"ba\x00bab", false, true),
        (b"", b"", false, true),
        (b"", b"", false, true),
        (b"*", b"z", false, true),
        (b"a", b"a", false, true),
        (b"\xe9z\xe9\x00", b"\xe9z\xe9\x00", true, true),
        (b"", b"", true, true),
        (b"", b"", false, true),
        (b"?*A\x00", b"\xe9A*A\x00", false, true),
        (b"\x00\xe9a?", b"\x00\xe9a]", true, true),
        (b"abb\x00", b"abb\x00", false, true),
        (b"*", b"B", true, true),
        (b"?\x00", b"^\x00", false, true),
        (b"aza", b"aza", false, true),
        (b"bAA\xe9*z", b"bAA\xe9*z", true, true),
        (b"", b"", true, true),
        (b"", b"", true, true),
        (b"Azaa?\xe9??", b"Azaa\\\xe9a\xe9", true, true),
        (b"\xe9a\xe9", b"\xe9a\xe9", true, true),
        (b"*\x00", b"]\x00", false, true),
        (b"\\A", b"A", true, true),
        (b"b*]\x00A\xe9", b"b]\x00A\xe9", true, true),
        (b"?\xe9?bA\\Ab", b"]\xe9*bAAb", false, true),
        (b"", b"", false, true),
        (b"bAz\x00", b"bAz\x00", true, true),
        (b"\x00", b"\x00", true, true),
        (b"", b"", true, true),
        (b"", b"", false, true),
        (b"A", b"A", true, true),
        (b"z\x00", b"z\x00", false, true),
        (b"*", b"\\\xe9", false, true),
        (b"", b"", false, true),
        (b"\xe9", b"\xe9", false, true),
        (b"-z", b"-z", false, true),
        (b"", b"", true, true),
        (b"\x00zb", b"\x00zb", true, true),
        (b"a?A", b"a[A", false, true),
        (b"", b"", true, true),
        (b"\x00", b"\x00", false, true),
        (b"za", b"za", false, true),
        (b"", b"", false, true),
        (b"\x00a\xe9\x00", b"\x00a\xe9\x00", false, true),
        (b"\\bb\x00bb*", b"bb\x00bb", false, true),
        (b"\x00a\xe9A*zA\xe9", b"\x00a\xe9AzA\xe9", false, true),
        (b"", b"", false, true),
        (b"", b"", true, true),
        (b"", b"", false, true),
        (b"", b"", false, true),
        (b"\xe9", b"\xe9", false, true),
        (b"\x00?abaA", b"\x00[abaA", true, true),
        (b"A*A", b"A\\bA", false, true),
        (b"", b"", true, true),
        (b"z", b"z", false, true),
        (b"b", b"b", true, true),
        (b"??", b"b\x00", false, true),
        (b"*", b"[a\x00\\", true, true),
        (b"^z", b"^z", false, true),
        (b"?\x00aA\xe9z", b"A\x00aA\xe9z", true, true),
        (b"*[*z-\x00", b"^[za", false, true),
        (b"", b"", false, true),
        (b"", b"", true, true),
        (b"b", b"b", false, true),
        (b"", b"", false, true),
        (b"", b"", true, true),
        (b"", b"", true, true),
        (b"?", b"A", true, true),
        (b"a", b"a", true, true),
        (b"", b"", true, true),
        (b"A\x00?b", b"A\x00bb", true, true),
        (b"\xe9zb\xe9??", b"\xe9zb\xe9a^", false, true),
        (b"^*", b"^z^[\\z*", true, true),
        (b"", b"", false, true),
        (b"z\x00", b"z\x00", true, true),
        (b"A", b"A", true, true),
        (b"", b"", true, true),
        (b"?\xe9*A\xe9\xe9AA", b"*\xe9\x00-A\xe9\xe9AA", false, true),
        (b"?\xe9*\x00", b"\x00\xe9\x00", true, true),
        (b"", b"", false, true),
        (b"?", b"B", false, true),
        (b"\\A", b"A", false, true),
        (b"\xe9bA\xe9z\xe9?\x00", b"\xe9bA\xe9z\xe9\xe9\x00", true, true),
        (b"A\xe9", b"A\xe9", true, true),
        (b"", b"", false, true),
        (b"", b"", false, true),
        (b"", b"", false, true),
        (b"\xe9\x00z", b"\xe9\x00z", false, true),
        (b"^*", b"^zzbA[[", true, true),
        (b"b", b"b", true, true),
        (b"\xe9", b"\xe9", true, true),
        (b"", b"", false, true),
        (b"?\x00b", b"A\x00b", true, true),
        (b"", b"", false, true),
        (b"", b"", true, true),
        (b"A*", b"A^", false, true),
        (b"\xe9", b"\xe9", false, true),
        (b"z", b"z", true, true),
        (b"", b"", true, true),
        (b"\xe9\xe9b\x00?z", b"\xe9\xe9b\x00\xe9z", true, true),
        (b"?\x00", b"*\x00", true, true),
        (b"", b"", true, true),
        (b"\xe9", b"\xe9", true, true),
        (b"", b"", false, true),
        (b"\xe9a?", b"\xe9a^", false, true),
        (b"", b"", true, true),
        (b"", b"", false, true),
        (b"", b"", true, true),
        (b"A*b", b"A\x00bb", true, true),
        (b"\x00z", b"\x00z", true, true),
        (b"a?\xe9\x00", b"az\xe9\x00", false, true),
        (b"*", b"-", true, true),
        (b"\\a", b"a", true, true),
        (b"", b"", true, true),
        (b"", b"", true, true),
        (b"aAa\xe9z*", b"aAa\xe9z-", false, true),
        (b"", b"", true, true),
        (b"", b"", true, true),
        (b"?A\x00?z", b"^A\x00]z", true, true),
        (b"\\\xe9\\z", b"\xe9z", true, true),
        (b"a", b"a", false, true),
        (b"\x00", b"\x00", true, true),
        (b"?", b"\x00", false, true),
        (b"\x00AA", b"\x00AA", true, true),
        (b"z", b"z", true, true),
        (b"A\x00", b"A\x00", false, true),
        (b"\xe9*A\xe9^z", b"a", false, false),
        (b"\\bz]zb", b"bzBzb", true, false),
        (b"]--", b"z", true, false),
        (b"", b"\\z", false, false),
        (b"-\xe9a\xe9^", b"[\xe9a\xe9A", false, false),
        (b"][", b"\x00b", true, false),
        (b"]zzA", b"\xe9*[", true, false),
        (b"\x00-^", b"\x00b]", true, false),
        (b"A[A", b"]b", true, false),
        (b"?*-z]\\z", b"\\[^", true, false),
        (b"*^?--Aa", b"B[\\*", true, false),
        (b"\\?ab\xe9?", b"a\xe9-a^*\x00", false, false),
        (b"]", b"b", false, false),
        (b"-z*\\", b"]", true, false),
        (b"a-]\x00", b"B*b^*", false, false),
        (b"[-", b"--", false, false),
        (b"za*]\x00ba", b"*\\b", true, false),
        (b"\x00^[^a]", b"\x00Az-aa", false, false),
        (b"\x00[^\x00-?-", b"\x00-*\x00-\\a", false, false),
        (b"\xe9\xe9?\xe9A", b"", true, false),
        (b"b\xe9^?-bb", b"b\xe9\\ABbb", false, false),
        (b"^", b"a\xe9]z-[b", true, false),
        (b"[?", b"*a", true, false),
        (b"?]a", b"\x00[a", false, false),
        (b"\\^a\\", b"B\xe9]", true, false),
        (b"?]]", b"", false, false),
        (b"A", b"a[\xe9[[-", true, false),
        (b"\\*[\xe9z[[", b"B\\z\xe9zbz", true, false),
        (b"\xe9^ab]", b"\xe9babb", false, false),
        (b"*^]?-", b"a*]BB", true, false),
        (b"[\x00b", b"^", true, false),
        (b"aA[-b", b"aA]ab", true, false),
        (b"a-a-", b"*", true, false),
        (b"[\x00A]ba\\", b"^\x00A\\ba", true, false),
        (b"\\", b"A-b*A", false, false),
        (b"A]Az]A]\xe9", b"Aa^*", false, false),
        (b"?AA", b"--\\a\\-", false, false),
        (b"-", b"A\\bBz", false, false),
        (b"zba^*za", b"", true, false),
        (b"A", b"b]B", false, false),
        (b"]\xe9^^]\xe9", b"-\xe9B-[\xe9", false, false),
        (b"A??][\x00*", b"Ab[\\*\x00", false, false),
        (b"", b"AA\\--\\A", true, false),
        (b"\\z*a", b"\x00\xe9**az", true, false),
        (b"-[*A\xe9z\x00", b"zaBA\xe9z\x00", false, false),
        (b"*\\a]z?", b"[]A[\\", false, false),
        (b"zb^**?A", b"zb\x00bbbbA", false, false),
        (b"*-]a", b"aa-]a\xe9[", true, false),
        (b"b", b"", false, false),
        (b"\xe9]\xe9*b[*", b"b\x00*A-\x00", true, false),
        (b"[", b"b[za-\xe9\xe9", true, false),
        (b"ba[^", b"ba^A", false, false),
        (b"b-[^", b"bz-\\", true, false),
        (b"*A-", b"\\\\", true, false),
        (b"\xe9\x00b-zbba", b"\xe9\x00bBzbba", true, false),
        (b"][b^^[", b"\\\x00b*B-", false, false),
        (b"^*\x00A\\??[", b"b", false, false),
        (b"]??--?", b"aa[]bb", true, false),
        (b"", b"[-\x00]][[", true, false),
        (b"\x00-", b"A*a**-^", true, false),
        (b"[*z", b"zB]", true, false),
        (b"\\?\\z?\xe9", b"\\z*\xe9", false, false),
        (b"A-z\x00\\\\]", b"A^z\x00*", false, false),
        (b"a[]\\^?*", b"\\*a[", false, false),
        (b"\x00A?", b"\xe9^A]A]A", true, false),
        (b"a?z[\xe9", b"a\xe9z^\xe9", false, false),
        (b"?z*A**za", b"b]zB\x00\x00", false, false),
        (b"^[z]\xe9*", b"B\x00z-\xe9\\", true, false),
        (b"\\\\]*\\", b"*", true, false),
        (b"aaA-z^", b"b\xe9A]]", false, false),
        (b"b\xe9A\\***", b"b\xe9A[Aa", false, false),
        (b"\\b-", b"bA", true, false),
        (b"A]*?a\\\xe9\x00", b"\xe9-[-[bB", false, false),
        (b"Aa[\x00]", b"\\[]", true, false),
        (b"\xe9[az-^b", b"\xe9\x00azz\x00b", false, false),
        (b"z[", b"z*a", true, false),
        (b"", b"B", false, false),
        (b"]", b"[a\x00", true, false),
        (b"\\\x00^-b", b"\x00\\Ab", false, false),
        (b"AAA", b"^\xe9*[*", false, false),
        (b"-[[", b"A][**z", true, false),
        (b"", b"\x00B^", true, false),
        (b"]?*A[", b"a*Aa", true, false),
        (b"?\x00[", b"\x00\x00-", true, false),
        (b"^\\z\xe9", b"zz\xe9", false, false),
        (b"", b"z\\]-", true, false),
        (b"A[\\a*", b"-\\*aB", true, false),
        (b"a]-[]\x00A", b"a\xe9^A*\x00A", true, false),
        (b"?\\bz*b[", b"\xe9Aza\\z*", true, false),
        (b"a*-\\a]Aa", b"^A", true, false),
        (b"\\", b"", false, false),
        (b"AaabA\\a", b"A--", true, false),
        (b"b\xe9", b"[bz\\\x00z", true, false),
        (b"?*-?\xe9b^A", b"^\x00z", false, false),
        (b"b]b\xe9-^", b"[\x00Aazz\xe9", false, false),
        (b"^\\\x00", b"\x00b", true, false),
        (b"]*?\xe9--\xe9^", b"\x00*\x00a\xe9-\x00", false, false),
        (b"za", b"b]", true, false),
        (b"?aAA\\?\\\xe9", b"BaAA-\xe9", false, false),
        (b"z?a-", b"zBa*", false, false),
        (b"", b"aa^\xe9^B]", true, false),
        (b"]*?z-", b"B]a]zB", false, false),
        (b"-*b]-^-b", b"B]bz\xe9B-b", true, false),
        (b"", b"\xe9b[Ba", true, false),
        (b"\\b]-", b"-^Az-", true, false),
        (b"bbz*]", b"*\x00-A", true, false),
        (b"^b", b"-b", true, false),
        (b"\x00", b"]\x00AA[[", false, false),
        (b"\\", b"", false, false),
        (b"z-", b"z^", false, false),
        (b"[", b"B", true, false),
        (b"^[-----", b"bz*b[a-", true, false),
        (b"[b\xe9\\b?^", b"[b\xe9bB[", true, false),
        (b"b[*][\x00[", b"bAB\\z\x00z", true, false),
        (b"]]\\", b"A\\", false, false),
        (b"z?", b"[-", true, false),
        (b"bb^[\x00", b"\xe9\xe9b\\-\\", false, false),
        (b"A^*\xe9\x00", b"A-\xe9\x00", true, false),
        (b"^-]-z", b"", false, false),
        (b"?^Az\x00*^", b"[\x00Az\x00ab-", true, false),
        (b"a*?^", b"a\x00a", true, false),
        (b"a", b"z^a^\x00B", true, false),
        (b"zab?zbz", b"-", false, false),
        (b"\\*[??", b"zB-^\\z[", true, false),
        (b"A-a]\x00\\", b"A\x00a^\x00", true, false),
        (b"", b"bbz^[", false, false),
        (b"\xe9[[z^a", b"\xe9^bzAa", true, false),
        (b"^?A[", b"^[\x00z", false, false),
        (b"A^\x00\xe9^*zz", b"A\xe9\x00\xe9[zz", false, false),
        (b"b\xe9b[", b"*b\xe9^AB", true, false),
        (b"\\*\\b?-\\", b"b\\z", false, false),
        (b"]za", b"\x00z[", true, false),
        (b"\xe9^", b"\xe9\x00", true, false),
        (b"*\\*az", b"aaz", false, false),
        (b"z\xe9", b"\x00\\b^Aa", false, false),
        (b"?za-", b"z", true, false),
        (b"\xe9", b"\x00[b[\xe9[", false, false),
        (b"[??", b"A][", false, false),
        (b"\x00^[\xe9", b"\x00\\[\xe9", false, false),
        (b"\x00\xe9a^b", b"\x00\xe9aBb", true, false),
        (b"az*?][", b"aza\xe9abB", true, false),
        (b"\xe9[]\x00b*", b"", true, false),
        (b"^[\\**", b"]aA\x00", false, false),
        (b"\x00\\\x00zbb", b"", true, false),
        (b"b^z\xe9", b"-AB\xe9\xe9B", false, false),
        (b"[[*[", b"ab*", true, false),
        (b"b[", b"b**", true, false),
        (b"\xe9", b"[-\x00", true, false),
        (b"z?^-bA\x00z", b"", true, false),
        (b"za\xe9[", b"z[\\\x00", true, false),
        (b"a[^\xe9A?", b"^*z", false, false),
        (b"z**z]**", b"zz\x00]", false, false),
        (b"\xe9]]", b"\xe9aA", true, false),
        (b"\x00z]\x00b", b"aBz\\z-", true, false),
        (b"[\x00[-", b"*\x00z\xe9", true, false),
        (b"?", b"*\\\x00-bz\x00", false, false),
        (b"-\x00\xe9bA*\xe9?", b"*\x00\xe9bA*\xe9a", true, false),
        (b"]", b"^", false, false),
        (b"?\x00z-]-", b"\x00\x00za^\xe9", false, false),
        (b"*z?*b\xe9aa", b"A\xe9", false, false),
        (b"**A^bA?*", b"B\xe9[A\xe9bA-", false, false),
        (b"**]\\", b"^\x00Ab]b", true, false),
        (b"-b?", b"bbA", true, false),
        (b"zbb]\xe9]^b", b"*", false, false),
        (b"z]b^-A", b"\\\x00", false, false),
        (b"-]\xe9b*^", b"bB*B", true, false),
        (b"\xe9b*z", b"zz\x00z\x00", false, false),
        (b"[^\xe9*A\\", b"\xe9[^\x00", true, false),
        (b"-\xe9", b"", false, false),
        (b"[\\\\?A]b", b"b\xe9Aab", false, false),
        (b"\x00?\xe9b]\\z*", b"\x00^\xe9bzz", true, false),
        (b"-]?]*^", b"\xe9[A\x00", true, false),
        (b"AA^^", b"AA\xe9\xe9", false, false),
        (b"*\\", b"*A-[[a^", false, false),
        (b"]?\x00\x00", b"B\\\x00\x00", false, false),
        (b"??\x00]a\\b", b"^^^", false, false),
        (b"a*b[^", b"\\A", true, false),
        (b"[*", b"z", false, false),
        (b"]-A\x00z[[\xe9", b"-a][b", false, false),
        (b"-\\*\xe9", b"b-\x00a", true, false),
        (b"\xe9\xe9a-\x00\xe9[", b"\xe9\xe9a-\x00\xe9^", true, false),
        (b"\x00\\[\x00\xe9-z", b"\x00^\x00\xe9]z", true, false),
        (b"\xe9-", b"\xe9^", true, false),
        (b"^-\xe9\\", b"[A\xe9", true, false),
        (b"z*\xe9*-b", b"z\\\xe9bb", true, false),
        (b"a?\xe9-\xe9", b"az\xe9A\xe9", true, false),
        (b"?[--?\xe9z", b"-\x00\\a]\xe9z", true, false),
        (b"\xe9?\\a-**", b"bAB", true, false),
        (b"-\x00a\xe9", b"AA[A[a^", true, false),
        (b"\xe9z--A?b", b"\xe9z-aAAb", true, false),
        (b"\xe9[zAa-", b"**A\\b", true, false),
        (b"\\a\xe9?-", b"a\xe9[\\", true, false),
        (b"]a*\\\xe9-", b"Ba\xe9\x00\xe9[", true, false),
        (b"-z\xe9--", b"az\xe9B*", true, false),
        (b"b-?[\xe9\xe9b]", b"[Bb", true, false),
        (b"\xe9-?\xe9?a\x00", b"\\*]A]BB", true, false),
        (b"[\xe9-^\x00", b"A-aBB", true, false),
        (b"\xe9-a", b"\xe9^a", true, false),
        (b"\xe9--\x00[bb*", b"\xe9^*\x00-bb-", true, false),
        (b"\xe9a?a-A", b"\xe9a*aBA", true, false),
        (b"\\A-[[\xe9", b"A*B^\xe9", true, false),
        (b"?\\b-\xe9zb", b"Ab\xe9\xe9zb", true, false),
        (b"z-a\xe9", b"\xe9*ab", true, false),
        (b"\xe9-", b"\xe9\x00", true, false),
        (b"a\xe9-zb?", b"a\xe9*zba", true, false),
        (b"^*\xe9**-z]", b"-\\\\\xe9bb*zz", true, false),
        (b"\xe9-*\xe9[", b"\xe9a][\xe9-", true, false),
        (b"-\x00-[\xe9\\\x00A", b"^\x00[\\\xe9\x00A", true, false),
        (b"]]-\xe9", b"zb\xe9B\xe9", true, false),
        (b"\x00ab\xe9-\xe9", b"\x00\xe9B]", true, false),
        (b"\\\\-A\xe9", b"[B]", true, false),
        (b"-b]]\xe9]?[", b"^Aa^[", true, false),
        (b"[\xe9-", b"A\xe9\x00", true, false),
        (b"[-a\xe9\xe9z?b", b"\x00BA", true, false),
        (b"-A^\xe9", b"\xe9zzz", true, false),
        (b"*\xe9-", b"AaA", true, false),
        (b"zA-]\xe9", b"A\\*\xe9b", true, false),
        (b"?b[-\xe9b", b"^AB]\xe9\xe9", true, false),
        (b"-]a\xe9b", b"a]a\xe9b", true, false),
        (b"-?[\\^?\xe9a", b"^\xe9AA[\xe9a", true, false),
        (b"b]-\\\xe9", b"\x00", true, false),
        (b"^\xe9a-^[[\\", b"b\xe9ab-A\\", true, false),
        (b"\xe9*-", b"\xe9a*a", true, false),
        (b"\\-\xe9bAab*", b"\\\xe9bAab\\", true, false),
        (b"-b-A\x00?\xe9?", b"zb]A\x00z\xe9B", true, false),
        (b"-z\\\x00?\xe9*", b"Baz", true, false),
        (b"^\xe9-z\\?[", b"*\xe9^", true, false),
        (b"[\xe9*--", b"[b]]\x00", true, false),
        (b"\xe9\x00[[^-", b"\xe9\x00*\\^a", true, false),
        (b"a\x00]\xe9-*]\\", b"a\x00*\xe9z^A", true, false),
        (b"-z\xe9", b"Az\xe9", true, false),
        (b"\xe9\\-b-*]?", b"\xe9[b\xe9[A", true, false),
        (b"\xe9-b\\z\xe9*\x00", b"\xe9zbz\xe9\x00", true, false),
        (b"^a]\xe9--", b"]a\x00\xe9]]", true, false),
        (b"-\xe9", b"", true, false),
        (b"\x00-\xe9\x00", b"\x00\x00\xe9\x00", true, false),
        (b"\x00?\xe9a-", b"\x00]\xe9a^", true, false),
        (b"^-*\xe9*b", b"[[\x00B\\", true, false),
        (b"\xe9-", b"Ba\\", true, false),
        (b"[\\-\x00\xe9^\x00", b"--\x00\xe9-\x00", true, false),
    ];

    #[test]
    fn matches_redis_table() {
        for (p, s, nocase, expect) in REDIS {
            assert_eq!(
                glob_match(p, s, *nocase),
                *expect,
                "{:?} {:?} {nocase}",
                String::from_utf8_lossy(p),
                String::from_utf8_lossy(s)
            );
        }
    }
}
