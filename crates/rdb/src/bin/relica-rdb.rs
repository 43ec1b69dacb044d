//! `relica-rdb`: checks an RDB file and summarizes it, in the spirit of
//! Redis's `redis-check-rdb`.
//!
//! The file is streamed through [`rdb::Reader`] one record at a time, so the
//! tool needs no more memory than the largest single value, whatever the
//! file claims: every length read from the file is bounded by the reader,
//! and what the tool keeps (counters, per-database totals for at most
//! [`MAX_TRACKED_DBS`] databases, escaped text cut to [`MAX_SHOWN`] bytes)
//! does not grow with the file. A corrupt, truncated or hostile file ends
//! in one error message naming the byte offset, what was being read and
//! the key when known, and exit status 1; never in a panic or a hang.

#![deny(clippy::unwrap_used, clippy::indexing_slicing)]

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{self, BufReader, BufWriter, Read, Write};
use std::process::ExitCode;
use std::time::{SystemTime, UNIX_EPOCH};

use rdb::{describe_type, Error, Reader, Record, Value};

const USAGE: &str = "\
relica-rdb: check an RDB file and summarize its content

Usage: relica-rdb [OPTIONS] <FILE>

Arguments:
  <FILE>         the RDB file to check; - reads standard input

Options:
  -v, --records  also print one line per record (offset, db, key, type,
                 encoding, element count, expire)
  -h, --help     print this help

The summary gives the RDB version, the AUX fields, keys and expires per
database, keys per type and per encoding (RDB type byte), and the checksum
status. A damaged file is reported with the byte offset of the damage, what
was being read, and the key when known.

Exit status: 0 when the file is a valid RDB file, 1 when it is not (corrupt,
truncated, unsupported content, wrong checksum), 2 on a usage or I/O error.
";

/// Databases counted one by one; a (hostile) file selecting more distinct
/// databases gets the rest counted together, so memory stays bounded.
const MAX_TRACKED_DBS: usize = 1024;

/// Keys, AUX values and function names are shown up to this many bytes.
const MAX_SHOWN: usize = 120;

/// Trailing bytes after the EOF record are counted up to this many.
const MAX_TRAILING: u64 = 1 << 20;

/// The logical types, in the order they are listed.
const TYPES: [&str; 6] = ["string", "list", "set", "zset", "hash", "stream"];

#[derive(Debug, PartialEq)]
struct Args {
    records: bool,
    path: String,
}

/// What the command line asked for.
#[derive(Debug, PartialEq)]
enum Command {
    Help,
    Check(Args),
}

fn parse_args(args: impl IntoIterator<Item = String>) -> Result<Command, String> {
    let mut records = false;
    let mut path = None;
    let mut only_paths = false;
    for arg in args {
        if !only_paths && arg.starts_with('-') && arg != "-" {
            match arg.as_str() {
                "-h" | "--help" => return Ok(Command::Help),
                "-v" | "--records" => records = true,
                "--" => only_paths = true,
                _ => return Err(format!("unknown option '{arg}'")),
            }
        } else if path.is_some() {
            return Err(format!("unexpected argument '{arg}' (one file at a time)"));
        } else {
            path = Some(arg);
        }
    }
    let path = path.ok_or("no RDB file given")?;
    Ok(Command::Check(Args { records, path }))
}

fn main() -> ExitCode {
    let cmd = match parse_args(std::env::args().skip(1)) {
        Ok(cmd) => cmd,
        Err(msg) => {
            eprintln!("relica-rdb: {msg}\n\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    let args = match cmd {
        Command::Help => {
            let _ = io::stdout().lock().write_all(USAGE.as_bytes());
            return ExitCode::SUCCESS;
        }
        Command::Check(args) => args,
    };
    let input: Box<dyn Read> = if args.path == "-" {
        Box::new(io::stdin().lock())
    } else {
        match File::open(&args.path) {
            Ok(f) => Box::new(f),
            Err(e) => {
                eprintln!("relica-rdb: can't open {}: {e}", args.path);
                return ExitCode::from(2);
            }
        }
    };
    let mut out = BufWriter::new(io::stdout().lock());
    let result = check(BufReader::new(input), &args, &mut out);
    let flushed = out.flush();
    match (result, flushed) {
        (Ok(Outcome::Valid), Ok(())) => ExitCode::SUCCESS,
        (Ok(Outcome::Invalid(msg)), Ok(())) => {
            eprintln!("{msg}");
            ExitCode::from(1)
        }
        // The output went away (`relica-rdb -v big.rdb | head`): stop
        // quietly.
        (Err(e), _) | (_, Err(e)) if e.kind() == io::ErrorKind::BrokenPipe => ExitCode::from(2),
        (Err(e), _) | (_, Err(e)) => {
            eprintln!("relica-rdb: {e}");
            ExitCode::from(2)
        }
    }
}

/// The verdict on a file whose summary could be printed.
enum Outcome {
    Valid,
    /// The file is bad; the message says where and why.
    Invalid(String),
}

#[derive(Default, Clone, Copy)]
struct DbStats {
    keys: u64,
    expires: u64,
    /// The RESIZEDB hint: (keys, expires).
    hint: Option<(u64, u64)>,
}

#[derive(Default)]
struct Stats {
    records: u64,
    dbs: BTreeMap<u64, DbStats>,
    /// Databases beyond [`MAX_TRACKED_DBS`]: how many, and their totals.
    untracked_dbs: u64,
    untracked: DbStats,
    keys: u64,
    expires: u64,
    expired: u64,
    with_idle: u64,
    with_freq: u64,
    /// Keys and elements per entry of [`TYPES`].
    types: [(u64, u64); 6],
    /// Keys per RDB type byte.
    encodings: BTreeMap<u8, u64>,
    aux: u64,
    functions: u64,
    module_aux: u64,
    slot_info: u64,
    current_db: u64,
    last_key: Option<(u64, Vec<u8>)>,
}

impl Stats {
    fn db(&mut self, db: u64) -> &mut DbStats {
        if !self.dbs.contains_key(&db) && self.dbs.len() >= MAX_TRACKED_DBS {
            self.untracked_dbs += 1;
            return &mut self.untracked;
        }
        self.dbs.entry(db).or_default()
    }
}

/// Index in [`TYPES`] and element count of a value.
fn type_of(v: &Value) -> (usize, usize) {
    match v {
        Value::String(s) => (0, s.len()),
        Value::List(l) => (1, l.len()),
        Value::Set(s) => (2, s.len()),
        Value::ZSet(z) => (3, z.len()),
        Value::Hash(h) => (4, h.len()),
        Value::Stream(s) => (5, usize::try_from(s.length).unwrap_or(usize::MAX)),
    }
}

/// `n` and the noun that goes with it.
fn plural(n: u64, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

fn check(input: impl Read, args: &Args, out: &mut impl Write) -> io::Result<Outcome> {
    let name = if args.path == "-" {
        "<stdin>"
    } else {
        &args.path
    };
    writeln!(out, "checking RDB file {name}")?;
    let mut reader = match Reader::new(input) {
        Ok(r) => r,
        Err(e) => {
            let at = match e {
                Error::UnsupportedVersion(_) => 5,
                Error::UnexpectedEof { offset, .. } => offset,
                _ => 0,
            };
            return Ok(Outcome::Invalid(error_message(
                &e,
                at,
                None,
                &Stats::default(),
            )));
        }
    };
    writeln!(out, "RDB version: {}", reader.version())?;
    let now = now_ms();
    let mut stats = Stats::default();
    let mut checksum_ok = false;
    loop {
        let start = reader.offset();
        let rec = match reader.next_record() {
            Ok(Some(rec)) => rec,
            Ok(None) => break,
            Err(e) => {
                write_summary(out, &stats, None)?;
                let msg = error_message(&e, start, Some(reader.offset()), &stats);
                return Ok(Outcome::Invalid(msg));
            }
        };
        stats.records += 1;
        match &rec {
            Record::Aux { key, value } => {
                stats.aux += 1;
                // With --records the record line shows it.
                if !args.records {
                    write_aux(out, key, value)?;
                }
            }
            Record::SelectDb(db) => {
                stats.current_db = *db;
                stats.db(*db);
            }
            Record::ResizeDb {
                db_size,
                expires_size,
            } => {
                let db = stats.current_db;
                stats.db(db).hint = Some((*db_size, *expires_size));
            }
            Record::SlotInfo { .. } => stats.slot_info += 1,
            Record::Key(k) => {
                let (ty, elements) = type_of(&k.value);
                stats.keys += 1;
                if let Some(t) = stats.types.get_mut(ty) {
                    t.0 += 1;
                    t.1 += elements as u64;
                }
                *stats.encodings.entry(k.type_byte).or_default() += 1;
                let has_expire = k.expire_ms.is_some();
                if has_expire {
                    stats.expires += 1;
                }
                if k.expire_ms.is_some_and(|at| at <= now) {
                    stats.expired += 1;
                }
                stats.with_idle += u64::from(k.lru_idle.is_some());
                stats.with_freq += u64::from(k.lfu_freq.is_some());
                let db = stats.db(k.db);
                db.keys += 1;
                db.expires += u64::from(has_expire);
                stats.last_key = Some((k.db, k.key.get(..MAX_SHOWN).unwrap_or(&k.key).to_vec()));
            }
            Record::ModuleAux { .. } => stats.module_aux += 1,
            Record::Function { .. } => stats.functions += 1,
            Record::Eof { checksum_ok: ok } => checksum_ok = *ok,
        }
        if args.records {
            write_record(out, start, &rec, reader.version())?;
        }
    }
    let end = reader.offset();
    let checksum = if checksum_ok {
        "OK"
    } else if reader.version() < 5 {
        "none (RDB versions below 5 have none)"
    } else {
        "not checked (0 stored: saved with rdbchecksum no)"
    };
    // Redis stops reading at the EOF record; say so if more follows.
    let mut rest = reader.into_inner().take(MAX_TRAILING);
    let trailing = io::copy(&mut rest, &mut io::sink())?;
    write_summary(out, &stats, Some((checksum, end)))?;
    if trailing > 0 {
        let more = if trailing >= MAX_TRAILING {
            "at least "
        } else {
            ""
        };
        writeln!(
            out,
            "warning: {more}{} after the EOF record (ignored, as Redis does)",
            plural(trailing, "byte", "bytes")
        )?;
    }
    writeln!(out, "RDB looks OK")?;
    Ok(Outcome::Valid)
}

/// Prints what was counted; `end` is the checksum status and the size of
/// a file read to its end, `None` for a file that failed.
fn write_summary(out: &mut impl Write, s: &Stats, end: Option<(&str, u64)>) -> io::Result<()> {
    if end.is_none() {
        writeln!(
            out,
            "read before the error: {}",
            plural(s.records, "record", "records")
        )?;
    }
    writeln!(out, "databases:")?;
    if s.dbs.is_empty() && s.untracked_dbs == 0 {
        writeln!(out, "  (none)")?;
    }
    for (db, d) in &s.dbs {
        write!(
            out,
            "  db {db}: {}, {}",
            plural(d.keys, "key", "keys"),
            plural(d.expires, "expire", "expires")
        )?;
        if let Some((keys, expires)) = d.hint {
            write!(
                out,
                " (RESIZEDB hint: {}, {})",
                plural(keys, "key", "keys"),
                plural(expires, "expire", "expires")
            )?;
        }
        writeln!(out)?;
    }
    if s.untracked_dbs > 0 {
        writeln!(
            out,
            "  {} more: {}, {}",
            plural(s.untracked_dbs, "database", "databases"),
            plural(s.untracked.keys, "key", "keys"),
            plural(s.untracked.expires, "expire", "expires")
        )?;
    }
    writeln!(out, "keys by type:")?;
    if s.keys == 0 {
        writeln!(out, "  (none)")?;
    }
    for (name, (keys, elements)) in TYPES.iter().zip(s.types) {
        if keys == 0 {
            continue;
        }
        write!(out, "  {name:<8} {}", plural(keys, "key", "keys"))?;
        if *name == "string" {
            writeln!(out, ", {}", plural(elements, "byte", "bytes"))?;
        } else {
            writeln!(out, ", {}", plural(elements, "element", "elements"))?;
        }
    }
    writeln!(out, "keys by encoding:")?;
    if s.encodings.is_empty() {
        writeln!(out, "  (none)")?;
    }
    for (t, n) in &s.encodings {
        writeln!(out, "  {:<16} {n:>8}  (type {t})", describe_type(*t))?;
    }
    writeln!(
        out,
        "total: {}, {} ({} already expired)",
        plural(s.keys, "key", "keys"),
        plural(s.expires, "expire", "expires"),
        s.expired
    )?;
    if s.with_idle > 0 {
        writeln!(out, "keys with an LRU idle time: {}", s.with_idle)?;
    }
    if s.with_freq > 0 {
        writeln!(out, "keys with an LFU frequency: {}", s.with_freq)?;
    }
    writeln!(out, "aux fields: {}", s.aux)?;
    writeln!(out, "function libraries: {}", s.functions)?;
    if s.module_aux > 0 {
        writeln!(out, "module aux records: {}", s.module_aux)?;
    }
    if s.slot_info > 0 {
        writeln!(out, "slot info records: {}", s.slot_info)?;
    }
    if let Some((checksum, size)) = end {
        writeln!(out, "checksum: {checksum}")?;
        writeln!(out, "size: {}", plural(size, "byte", "bytes"))?;
    }
    Ok(())
}

/// An AUX field; `ctime` gets its date.
fn write_aux(out: &mut impl Write, key: &[u8], value: &[u8]) -> io::Result<()> {
    write!(out, "aux {} = {}", escape(key), escape(value))?;
    if key == b"ctime" {
        if let Some(secs) = std::str::from_utf8(value)
            .ok()
            .and_then(|s| s.parse::<i64>().ok())
        {
            write!(out, " ({})", format_time(secs.saturating_mul(1000)))?;
        }
    }
    writeln!(out)
}

/// One line for a record that starts at byte `start`.
fn write_record(out: &mut impl Write, start: u64, rec: &Record, version: u32) -> io::Result<()> {
    write!(out, "@{start} ")?;
    match rec {
        Record::Aux { key, value } => write_aux(out, key, value),
        Record::SelectDb(db) => writeln!(out, "selectdb {db}"),
        Record::ResizeDb {
            db_size,
            expires_size,
        } => writeln!(out, "resizedb keys={db_size} expires={expires_size}"),
        Record::SlotInfo {
            slot_id,
            slot_size,
            expires_slot_size,
        } => writeln!(
            out,
            "slotinfo slot={slot_id} keys={slot_size} expires={expires_slot_size}"
        ),
        Record::Key(k) => {
            let (ty, n) = type_of(&k.value);
            let ty = TYPES.get(ty).copied().unwrap_or("?");
            let size = if ty == "string" { "bytes" } else { "elements" };
            write!(
                out,
                "key db={} {} type={ty} encoding={} {size}={n} expire=",
                k.db,
                escape(&k.key),
                describe_type(k.type_byte),
            )?;
            match k.expire_ms {
                Some(ms) => write!(out, "{ms} ({})", format_time(ms))?,
                None => write!(out, "none")?,
            }
            if let Some(idle) = k.lru_idle {
                write!(out, " idle={idle}s")?;
            }
            if let Some(freq) = k.lfu_freq {
                write!(out, " freq={freq}")?;
            }
            writeln!(out)
        }
        Record::ModuleAux {
            module_id,
            module_name,
            when,
        } => writeln!(
            out,
            "module-aux {} id={module_id} when={when}",
            escape(module_name.as_bytes())
        ),
        Record::Function { payload } => {
            let first = payload.split(|&b| b == b'\n').next().unwrap_or_default();
            writeln!(
                out,
                "function {} ({})",
                escape(first),
                plural(payload.len() as u64, "byte", "bytes")
            )
        }
        Record::Eof { checksum_ok } => {
            let status = if *checksum_ok {
                "ok"
            } else if version < 5 {
                "none"
            } else {
                "not-checked"
            };
            writeln!(out, "eof checksum={status}")
        }
    }
}

/// The error report: where, what, and the last key read before it.
/// `start` is where the record being read began, `after` the reader's
/// offset after the error (`None` while reading the header).
fn error_message(e: &Error, start: u64, after: Option<u64>, s: &Stats) -> String {
    let mut msg = match e {
        // These name their offset and what was being read already.
        Error::UnexpectedEof { .. } | Error::Corrupt { .. } => format!("error: {e}"),
        Error::Unsupported { offset, .. } => format!("error at byte {offset}: {e}"),
        // The checksum follows the EOF opcode.
        Error::ChecksumMismatch { .. } => format!("error at byte {}: {e}", start + 1),
        Error::Io(_) => format!("error at byte {}: {e}", after.unwrap_or(start)),
        _ => format!("error at byte {start}: {e}"),
    };
    if after.is_some() {
        msg.push_str(&format!(
            "\n  in record #{} starting at byte {start}",
            s.records + 1
        ));
        match &s.last_key {
            Some((db, key)) => msg.push_str(&format!(
                "\n  last key read before it: {} in db {db}",
                escape(key)
            )),
            None => msg.push_str("\n  no key was read before it"),
        }
    }
    msg.push_str("\nRDB is not valid");
    msg
}

/// Quotes `bytes` as redis-cli does (printable ASCII as is, `\n`, `\xHH`
/// for the rest), cut after [`MAX_SHOWN`] bytes.
fn escape(bytes: &[u8]) -> String {
    let shown = bytes.get(..MAX_SHOWN).unwrap_or(bytes);
    let mut s = String::with_capacity(shown.len() + 2);
    s.push('"');
    for &b in shown {
        match b {
            b'"' => s.push_str("\\\""),
            b'\\' => s.push_str("\\\\"),
            b'\n' => s.push_str("\\n"),
            b'\r' => s.push_str("\\r"),
            b'\t' => s.push_str("\\t"),
            0x20..=0x7e => s.push(char::from(b)),
            _ => s.push_str(&format!("\\x{b:02x}")),
        }
    }
    s.push('"');
    if bytes.len() > shown.len() {
        s.push_str(&format!("...({} bytes in all)", bytes.len()));
    }
    s
}

/// Unix milliseconds as UTC `YYYY-MM-DDTHH:MM:SS.mmmZ` (proleptic
/// Gregorian calendar, any year).
fn format_time(ms: i64) -> String {
    let days = ms.div_euclid(86_400_000);
    let in_day = ms.rem_euclid(86_400_000);
    // Howard Hinnant's civil_from_days.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{:03}Z",
        in_day / 3_600_000,
        in_day / 60_000 % 60,
        in_day / 1000 % 60,
        in_day % 1000
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(a: &[&str]) -> Result<Command, String> {
        parse_args(a.iter().map(|s| s.to_string()))
    }

    #[test]
    fn arguments() {
        let check = |records, path: &str| {
            Ok(Command::Check(Args {
                records,
                path: path.to_string(),
            }))
        };
        assert_eq!(args(&["dump.rdb"]), check(false, "dump.rdb"));
        assert_eq!(args(&["-v", "dump.rdb"]), check(true, "dump.rdb"));
        assert_eq!(args(&["dump.rdb", "--records"]), check(true, "dump.rdb"));
        assert_eq!(args(&["-"]), check(false, "-"));
        assert_eq!(args(&["--", "-v"]), check(false, "-v"));
        assert_eq!(args(&["x", "--help"]), Ok(Command::Help));
        assert!(args(&[]).is_err());
        assert!(args(&["a", "b"]).is_err());
        assert!(args(&["--frobnicate", "a"]).is_err());
    }

    #[test]
    fn escaping() {
        assert_eq!(escape(b"key:1"), "\"key:1\"");
        assert_eq!(escape(b"a\"b\\c\n\x00\xff"), "\"a\\\"b\\\\c\\n\\x00\\xff\"");
        let long = vec![b'x'; MAX_SHOWN + 5];
        let e = escape(&long);
        assert!(e.ends_with(&format!("\"...({} bytes in all)", MAX_SHOWN + 5)));
    }

    #[test]
    fn times() {
        assert_eq!(format_time(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(format_time(4_102_444_800_123), "2100-01-01T00:00:00.123Z");
        assert_eq!(format_time(951_782_400_000), "2000-02-29T00:00:00.000Z");
        assert_eq!(format_time(-1), "1969-12-31T23:59:59.999Z");
        // Extremes format without overflowing.
        let _ = format_time(i64::MIN);
        let _ = format_time(i64::MAX);
    }
}
