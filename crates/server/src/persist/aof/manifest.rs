//! The AOF manifest (Redis 7.0's multi-part AOF): which files make up the
//! append-only log, one line per file, `file <name> seq <n> type b|h|i`.
//! Pure: text in, `Manifest` out, and back; the naming rules of the base
//! and incremental files; the changes a rewrite makes to the list.

/// A file's role in the log.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FileType {
    /// The base: an RDB preamble or commands rebuilding the dataset.
    Base,
    /// Replaced by a rewrite, waiting to be deleted.
    History,
    /// Commands appended after the base.
    Incr,
}

impl FileType {
    fn letter(self) -> char {
        match self {
            FileType::Base => 'b',
            FileType::History => 'h',
            FileType::Incr => 'i',
        }
    }
}

/// One file of the log.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AofInfo {
    /// Its name inside the AOF directory.
    pub name: String,
    /// Its sequence number.
    pub seq: i64,
    /// Its role.
    pub kind: FileType,
}

/// The manifest: the base file, the history files, the incremental files
/// in order. `dirty` says whether it changed since it was written.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Manifest {
    /// The base file, if any.
    pub base: Option<AofInfo>,
    /// Files replaced by a rewrite.
    pub history: Vec<AofInfo>,
    /// Incremental files, by increasing sequence.
    pub incr: Vec<AofInfo>,
    /// The base file sequence last used.
    pub base_seq: i64,
    /// The incremental file sequence last used.
    pub incr_seq: i64,
    /// Changed since it was last persisted.
    pub dirty: bool,
}

/// Suffix of the manifest file's name.
pub const MANIFEST_SUFFIX: &str = ".manifest";
/// Prefix of temporary files.
pub const TEMP_PREFIX: &str = "temp-";

/// Why a manifest could not be read (Redis's wording), with the line.
#[derive(Debug, PartialEq, Eq)]
pub struct ManifestError {
    /// The offending line and its number, when one is to blame.
    pub line: Option<(usize, String)>,
    /// What is wrong.
    pub msg: &'static str,
}

/// The longest manifest line Redis reads (MANIFEST_MAX_LINE).
const MAX_LINE: usize = 1024;

impl Manifest {
    /// Parse a manifest's text, as Redis's aofLoadManifestFromFile.
    pub fn parse(text: &[u8]) -> Result<Manifest, ManifestError> {
        let mut am = Manifest::default();
        let mut maxseq = 0i64;
        if text.is_empty() {
            return Err(ManifestError {
                line: None,
                msg: "Found an empty AOF manifest",
            });
        }
        let mut rest = text;
        let mut linenum = 0;
        while !rest.is_empty() {
            // fgets reads up to MAX_LINE bytes or through a newline.
            let nl = rest.iter().position(|&b| b == b'\n');
            let take = match nl {
                Some(i) if i < MAX_LINE => i + 1,
                _ => rest.len().min(MAX_LINE),
            };
            let (raw, tail) = rest.split_at(take);
            rest = tail;
            linenum += 1;
            if raw.first() == Some(&b'#') {
                continue;
            }
            let text_line = String::from_utf8_lossy(raw)
                .trim_matches(|c| c == ' ' || c == '\t' || c == '\r' || c == '\n')
                .to_string();
            let fail = |msg| ManifestError {
                line: Some((linenum, text_line.clone())),
                msg,
            };
            if !raw.contains(&b'\n') {
                return Err(fail("The AOF manifest file contains too long line"));
            }
            if text_line.is_empty() {
                return Err(fail("Invalid AOF manifest file format"));
            }
            let argv = match resp::inline::split_args(text_line.as_bytes()) {
                Some(a) if a.len() >= 6 && a.len() % 2 == 0 => a,
                _ => return Err(fail("Invalid AOF manifest file format")),
            };
            let (mut name, mut seq, mut kind) = (None, 0i64, None);
            for pair in argv.chunks(2) {
                let (k, v) = (&pair[0], &pair[1]);
                if k.eq_ignore_ascii_case(b"file") {
                    let n = String::from_utf8_lossy(v).into_owned();
                    if n.contains('/') {
                        return Err(fail("File can't be a path, just a filename"));
                    }
                    name = Some(n);
                } else if k.eq_ignore_ascii_case(b"seq") {
                    seq = atoll(v);
                } else if k.eq_ignore_ascii_case(b"type") {
                    kind = v.first().copied();
                }
            }
            let (Some(name), Some(kind)) = (name, kind) else {
                return Err(fail("Invalid AOF manifest file format"));
            };
            if seq == 0 || name.is_empty() || kind == 0 {
                return Err(fail("Invalid AOF manifest file format"));
            }
            match kind {
                b'b' => {
                    if am.base.is_some() {
                        return Err(fail("Found duplicate base file information"));
                    }
                    am.base = Some(AofInfo {
                        name,
                        seq,
                        kind: FileType::Base,
                    });
                    am.base_seq = seq;
                }
                b'h' => am.history.push(AofInfo {
                    name,
                    seq,
                    kind: FileType::History,
                }),
                b'i' => {
                    if seq <= maxseq {
                        return Err(fail("Found a non-monotonic sequence number"));
                    }
                    am.incr.push(AofInfo {
                        name,
                        seq,
                        kind: FileType::Incr,
                    });
                    am.incr_seq = seq;
                    maxseq = seq;
                }
                _ => return Err(fail("Unknown AOF file type")),
            }
        }
        Ok(am)
    }

    /// The manifest's text: the base, the history, the incremental files.
    pub fn to_text(&self) -> String {
        let mut s = String::new();
        for ai in self
            .base
            .iter()
            .chain(self.history.iter())
            .chain(self.incr.iter())
        {
            let name = if needs_repr(&ai.name) {
                repr(&ai.name)
            } else {
                ai.name.clone()
            };
            s.push_str(&format!(
                "file {name} seq {} type {}\n",
                ai.seq,
                ai.kind.letter()
            ));
        }
        s
    }

    /// A new base file's name (`<appendfilename>.<seq>.base.rdb|aof`); the
    /// current base becomes history.
    pub fn new_base(&mut self, filename: &str, rdb: bool) -> String {
        if let Some(mut b) = self.base.take() {
            b.kind = FileType::History;
            self.history.insert(0, b);
        }
        self.base_seq += 1;
        let name = format!(
            "{filename}.{}.base.{}",
            self.base_seq,
            if rdb { "rdb" } else { "aof" }
        );
        self.base = Some(AofInfo {
            name: name.clone(),
            seq: self.base_seq,
            kind: FileType::Base,
        });
        self.dirty = true;
        name
    }

    /// A new incremental file's name (`<appendfilename>.<seq>.incr.aof`),
    /// appended to the list.
    pub fn new_incr(&mut self, filename: &str) -> String {
        self.incr_seq += 1;
        let name = format!("{filename}.{}.incr.aof", self.incr_seq);
        self.incr.push(AofInfo {
            name: name.clone(),
            seq: self.incr_seq,
            kind: FileType::Incr,
        });
        self.dirty = true;
        name
    }

    /// The last incremental file, or a new one.
    pub fn last_incr(&mut self, filename: &str) -> String {
        match self.incr.last() {
            Some(ai) => ai.name.clone(),
            None => self.new_incr(filename),
        }
    }

    /// After a rewrite: the incremental files it covers become history
    /// (all but the one being written, when `keep_last`).
    pub fn mark_rewritten_incr_as_history(&mut self, keep_last: bool) {
        if self.incr.is_empty() {
            return;
        }
        let keep = if keep_last { self.incr.pop() } else { None };
        // Redis walks from the tail, adding each at the head of history.
        let moved: Vec<AofInfo> = std::mem::take(&mut self.incr);
        for mut ai in moved.into_iter().rev() {
            ai.kind = FileType::History;
            self.history.insert(0, ai);
        }
        self.incr.extend(keep);
        self.dirty = true;
    }

    /// How many files are loaded (base and incremental).
    pub fn loaded_files(&self) -> usize {
        self.base.iter().count() + self.incr.len()
    }
}

/// `atoll`: leading digits with an optional sign, else 0.
fn atoll(v: &[u8]) -> i64 {
    let s = String::from_utf8_lossy(v);
    let t = s.trim_start();
    let mut end = 0;
    for (i, c) in t.char_indices() {
        if c.is_ascii_digit() || (i == 0 && (c == '-' || c == '+')) {
            end = i + 1;
        } else {
            break;
        }
    }
    t[..end].parse().unwrap_or(0)
}

/// Whether a name must be quoted (sdsneedsrepr).
pub fn needs_repr(s: &str) -> bool {
    s.bytes()
        .any(|b| matches!(b, b'\\' | b'"') || !(0x21..=0x7e).contains(&b))
}

/// A quoted, escaped name (sdscatrepr).
pub fn repr(s: &str) -> String {
    let mut o = String::from("\"");
    for b in s.bytes() {
        match b {
            b'\\' => o.push_str("\\\\"),
            b'"' => o.push_str("\\\""),
            b'\n' => o.push_str("\\n"),
            b'\r' => o.push_str("\\r"),
            b'\t' => o.push_str("\\t"),
            7 => o.push_str("\\a"),
            8 => o.push_str("\\b"),
            0x20..=0x7e => o.push(b as char),
            _ => o.push_str(&format!("\\x{b:02x}")),
        }
    }
    o.push('"');
    o
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_rewrite() {
        let t = b"file appendonly.aof.1.base.rdb seq 1 type b\nfile appendonly.aof.1.incr.aof seq 1 type i\n";
        let mut m = Manifest::parse(t).unwrap();
        assert_eq!(m.to_text().as_bytes(), t);
        let b = m.new_base("appendonly.aof", true);
        assert_eq!(b, "appendonly.aof.2.base.rdb");
        let i = m.new_incr("appendonly.aof");
        assert_eq!(i, "appendonly.aof.2.incr.aof");
        m.mark_rewritten_incr_as_history(true);
        assert_eq!(
            m.to_text(),
            "file appendonly.aof.2.base.rdb seq 2 type b\nfile appendonly.aof.1.incr.aof seq 1 type h\nfile appendonly.aof.1.base.rdb seq 1 type h\nfile appendonly.aof.2.incr.aof seq 2 type i\n"
        );
    }

    #[test]
    fn errors() {
        let e = |t: &[u8]| Manifest::parse(t).unwrap_err().msg;
        assert_eq!(e(b""), "Found an empty AOF manifest");
        assert_eq!(e(b"\n"), "Invalid AOF manifest file format");
        assert_eq!(e(b"file a seq 1 type x\n"), "Unknown AOF file type");
        assert_eq!(e(b"file a seq 1\n"), "Invalid AOF manifest file format");
        assert_eq!(
            e(b"file a seq 2 type i\nfile b seq 1 type i\n"),
            "Found a non-monotonic sequence number"
        );
        assert_eq!(
            e(b"file a seq 1 type b\nfile b seq 2 type b\n"),
            "Found duplicate base file information"
        );
        assert_eq!(
            e(format!("file {} seq 1 type b\n", "a".repeat(1100)).as_bytes()),
            "The AOF manifest file contains too long line"
        );
        let m = Manifest::parse(b"file \"a b\" seq 1 type b\n").unwrap();
        assert_eq!(m.to_text(), "file \"a b\" seq 1 type b\n");
    }
}
