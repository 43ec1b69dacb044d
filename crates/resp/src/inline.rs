//! Splitting a line into arguments, as Redis's `sdssplitargs` (sds.c) does.
//!
//! Redis uses the same function for inline commands (`PING`, typed into
//! telnet) and for every line of `redis.conf`, so both our request decoder
//! and our config parser call this one. It must agree with Redis byte for
//! byte: a config file or a hand-typed command that Redis accepts must split
//! the same way here, and one Redis refuses must be refused.
//!
//! The rules, all from `sdssplitargs`:
//! - blanks between arguments are C `isspace` bytes (space, `\t`, `\n`,
//!   `\v`, `\f`, `\r`), but an unquoted argument ends only at space, `\t`,
//!   `\n` or `\r`, so `\v` and `\f` *inside* an argument belong to it;
//! - `"double quotes"` understand `\n \r \t \b \a`, `\xHH` (two hex digits,
//!   either case) and `\` before any other byte, which stands for itself;
//! - `'single quotes'` understand only `\'`; any other `\` is literal;
//! - quotes may start inside an argument (`a"b c"` is `ab c`), but a closing
//!   quote must be followed by a blank or the end of the line;
//! - the line ends at its first NUL byte, as a C string does.

/// Splits `line` into arguments following `sdssplitargs`'s rules (see the
/// module docs). Returns `None` for an unterminated quote or a closing quote
/// followed by something other than a blank, as Redis does; an empty or
/// all-blank line gives an empty list.
///
/// ```
/// use resp::split_args;
/// assert_eq!(
///     split_args(br#"set "a b" '\'x' "\x41\n""#),
///     Some(vec![b"set".to_vec(), b"a b".to_vec(), b"'x".to_vec(), b"A\n".to_vec()])
/// );
/// assert_eq!(split_args(br#""foo"bar"#), None);
/// ```
pub fn split_args(line: &[u8]) -> Option<Vec<Vec<u8>>> {
    // A C string stops at its first NUL; `at` reads NUL past the end, so the
    // loop below can test for the terminator the way the C code does.
    let end = memchr::memchr(0, line).unwrap_or(line.len());
    let line = line.get(..end).unwrap_or_default();
    let at = |i: usize| line.get(i).copied().unwrap_or(0);

    let mut args = Vec::new();
    let mut p = 0;
    loop {
        while at(p) != 0 && is_c_space(at(p)) {
            p += 1;
        }
        if at(p) == 0 {
            return Some(args);
        }
        let mut current = Vec::new();
        let mut in_double = false;
        let mut in_single = false;
        let mut done = false;
        while !done {
            let c = at(p);
            if in_double {
                if c == b'\\' && at(p + 1) == b'x' && is_hex(at(p + 2)) && is_hex(at(p + 3)) {
                    current.push(hex_value(at(p + 2)) * 16 + hex_value(at(p + 3)));
                    p += 3;
                } else if c == b'\\' && at(p + 1) != 0 {
                    p += 1;
                    current.push(match at(p) {
                        b'n' => b'\n',
                        b'r' => b'\r',
                        b't' => b'\t',
                        b'b' => 0x08,
                        b'a' => 0x07,
                        other => other,
                    });
                } else if c == b'"' {
                    if at(p + 1) != 0 && !is_c_space(at(p + 1)) {
                        return None;
                    }
                    done = true;
                } else if c == 0 {
                    return None;
                } else {
                    current.push(c);
                }
            } else if in_single {
                if c == b'\\' && at(p + 1) == b'\'' {
                    p += 1;
                    current.push(b'\'');
                } else if c == b'\'' {
                    if at(p + 1) != 0 && !is_c_space(at(p + 1)) {
                        return None;
                    }
                    done = true;
                } else if c == 0 {
                    return None;
                } else {
                    current.push(c);
                }
            } else {
                match c {
                    b' ' | b'\n' | b'\r' | b'\t' | 0 => done = true,
                    b'"' => in_double = true,
                    b'\'' => in_single = true,
                    other => current.push(other),
                }
            }
            if at(p) != 0 {
                p += 1;
            }
        }
        args.push(current);
    }
}

/// C `isspace` in the "C" locale. Bytes ≥ 0x80 are never blanks.
fn is_c_space(c: u8) -> bool {
    matches!(c, b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r')
}

fn is_hex(c: u8) -> bool {
    c.is_ascii_hexdigit()
}

fn hex_value(c: u8) -> u8 {
    match c {
        b'0'..=b'9' => c - b'0',
        b'a'..=b'f' => c - b'a' + 10,
        b'A'..=b'F' => c - b'A' + 10,
        _ => 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(line: &[u8]) -> Vec<Vec<u8>> {
        match split_args(line) {
            Some(v) => v,
            None => panic!("refused {:?}", String::from_utf8_lossy(line)),
        }
    }

    fn v(items: &[&[u8]]) -> Vec<Vec<u8>> {
        items.iter().map(|s| s.to_vec()).collect()
    }

    #[test]
    fn plain_words_and_blanks() {
        assert_eq!(ok(b""), v(&[]));
        assert_eq!(ok(b"   \t\r\n\x0b\x0c"), v(&[]));
        assert_eq!(ok(b"PING"), v(&[b"PING"]));
        assert_eq!(ok(b"  set  a\tb\r\nc  "), v(&[b"set", b"a", b"b", b"c"]));
    }

    #[test]
    fn vertical_tab_and_form_feed_split_only_between_words() {
        // Leading \v / \f are skipped (isspace) ...
        assert_eq!(ok(b"\x0bab"), v(&[b"ab"]));
        // ... but inside an unquoted word they are part of it.
        assert_eq!(ok(b"a\x0bb c\x0cd"), v(&[b"a\x0bb", b"c\x0cd"]));
        // And a \v after a word joins the word, then the next blank ends it.
        assert_eq!(ok(b"a\x0b b"), v(&[b"a\x0b", b"b"]));
    }

    #[test]
    fn double_quote_escapes() {
        assert_eq!(ok(br#""\n\r\t\b\a\\\"\q""#), v(&[b"\n\r\t\x08\x07\\\"q"]));
        assert_eq!(ok(br#""\x41\x6a\xFF\x00z""#), v(&[b"Aj\xff\x00z"]));
        // \x without two hex digits: the \ escapes the x, the rest is literal.
        assert_eq!(ok(br#""\xg1""#), v(&[b"xg1"]));
        assert_eq!(ok(br#""\x4""#), v(&[b"x4"]));
        assert_eq!(ok(br#""\x4g""#), v(&[b"x4g"]));
        assert_eq!(ok(br#""a b" c"#), v(&[b"a b", b"c"]));
        assert_eq!(ok(br#""""#), v(&[b""]));
        assert_eq!(ok(br#""" """#), v(&[b"", b""]));
        // Single quote inside double quotes is literal.
        assert_eq!(ok(br#""it's""#), v(&[b"it's"]));
    }

    #[test]
    fn single_quote_escapes() {
        assert_eq!(ok(br"'a\'b'"), v(&[b"a'b"]));
        // Only \' is an escape; \n and \\ stay as typed.
        assert_eq!(ok(br"'a\nb\\ c'"), v(&[br"a\nb\\ c"]));
        // So a backslash right before the closing quote escapes it.
        assert_eq!(split_args(br"'a\\'"), None);
        assert_eq!(ok(br"'a\\'' b"), v(&[br"a\'", b"b"]));
        assert_eq!(ok(br#"'say "hi"'"#), v(&[br#"say "hi""#]));
        assert_eq!(ok(b"''"), v(&[b""]));
    }

    #[test]
    fn quotes_inside_a_word_join_it() {
        assert_eq!(ok(br#"a"b c""#), v(&[b"ab c"]));
        assert_eq!(ok(br"a'b c' d"), v(&[b"ab c", b"d"]));
    }

    #[test]
    fn closing_quote_must_be_followed_by_blank_or_end() {
        assert_eq!(split_args(br#""foo"bar"#), None);
        assert_eq!(split_args(br"'foo'bar"), None);
        assert_eq!(split_args(br#""a"'b'"#), None);
        assert_eq!(split_args(br#"a"b"'c'"#), None);
        // Any isspace byte is fine after the closing quote, even \v.
        assert_eq!(ok(b"\"a\"\x0bb"), v(&[b"a", b"b"]));
        assert_eq!(ok(b"'a'\tb"), v(&[b"a", b"b"]));
    }

    #[test]
    fn unterminated_quotes() {
        assert_eq!(split_args(br#""abc"#), None);
        assert_eq!(split_args(br"'abc"), None);
        assert_eq!(split_args(br#"x "abc\""#), None);
        assert_eq!(split_args(br"'abc\'"), None);
        // A trailing backslash inside quotes cannot escape the end.
        assert_eq!(split_args(br#""abc\"#), None);
    }

    #[test]
    fn nul_ends_the_line() {
        assert_eq!(ok(b"a b\0c d"), v(&[b"a", b"b"]));
        assert_eq!(ok(b"\0a"), v(&[]));
        // A quote left open at the NUL is unterminated.
        assert_eq!(split_args(b"\"ab\0\""), None);
    }

    #[test]
    fn high_bytes_are_plain() {
        assert_eq!(ok(b"\xa0\x85 \xff"), v(&[b"\xa0\x85", b"\xff"]));
    }
}
