//! Loading the AOF (Redis's loadSingleAppendOnlyFile and
//! loadAppendOnlyFiles): the base file (an RDB preamble or commands), then
//! each incremental file, command by command. The commands run through a
//! [`Runner`] the dispatch layer provides, so this module never names it.

use std::io::{BufRead, BufReader, Read};
use std::path::Path;
use std::sync::atomic::Ordering::Relaxed;
use std::time::Instant;

use bytes::Bytes;

use super::manifest::Manifest;
pub use super::state::ReplMark;
use crate::engine::Engine;

/// How one file (or the whole log) loaded (Redis's AOF_* codes).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Status {
    /// Loaded whole.
    Ok,
    /// Nothing to load: no file.
    NotExist,
    /// Nothing to load: empty.
    Empty,
    /// A file could not be opened.
    OpenErr,
    /// The load failed; start-up stops.
    Failed,
    /// A truncated tail was dropped (aof-load-truncated).
    Truncated,
}

/// Runs the commands read from the file (defined beside the engine,
/// which keeps the dispatch layer's maker of it).
pub use crate::engine::AofReplay as Runner;

/// Gives the loader the engine, briefly: a start-up load takes the lock
/// per batch, DEBUG LOADAOF already holds it.
pub type WithEngine<'a> = dyn FnMut(&mut dyn FnMut(&mut Engine)) + 'a;

/// The longest line read at once (AOF_ANNOTATION_LINE_MAX_LEN).
const LINE_MAX: usize = 1024;

/// `fgets`: up to LINE_MAX-1 bytes, through the first newline.
fn fgets<R: BufRead>(r: &mut R, pos: &mut u64) -> std::io::Result<Option<Vec<u8>>> {
    let mut line = Vec::new();
    while line.len() < LINE_MAX - 1 {
        let buf = r.fill_buf()?;
        if buf.is_empty() {
            break;
        }
        let room = LINE_MAX - 1 - line.len();
        let chunk = &buf[..buf.len().min(room)];
        match chunk.iter().position(|&b| b == b'\n') {
            Some(i) => {
                line.extend_from_slice(&chunk[..=i]);
                r.consume(i + 1);
                *pos += i as u64 + 1;
                return Ok(Some(line));
            }
            None => {
                let n = chunk.len();
                line.extend_from_slice(chunk);
                r.consume(n);
                *pos += n as u64;
            }
        }
    }
    Ok(if line.is_empty() { None } else { Some(line) })
}

/// C's atoi/strtol on a line's digits after the first byte.
fn parse_num(line: &[u8]) -> i64 {
    let s = String::from_utf8_lossy(line.get(1..).unwrap_or(b""));
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

/// One parsed item of the command stream.
enum Item {
    Cmd(Vec<Bytes>),
    /// An annotation line (`#…`), with its line end.
    Note(Vec<u8>),
    Eof,
}

/// Why parsing stopped early.
enum ParseErr {
    /// Unexpected end of file (a short read).
    Eof,
    /// Bad format.
    Format,
    /// An I/O error.
    Io(std::io::Error),
}

fn next_item<R: BufRead>(r: &mut R, pos: &mut u64) -> Result<Item, ParseErr> {
    let Some(line) = fgets(r, pos).map_err(ParseErr::Io)? else {
        return Ok(Item::Eof);
    };
    if line.first() == Some(&b'#') {
        return Ok(Item::Note(line));
    }
    if line.first() != Some(&b'*') {
        return Err(ParseErr::Format);
    }
    if line.len() == 1 {
        return Err(ParseErr::Eof);
    }
    let argc = parse_num(&line);
    if argc < 1 {
        return Err(ParseErr::Format);
    }
    let mut argv = Vec::with_capacity((argc as usize).min(1024));
    for _ in 0..argc {
        let Some(l) = fgets(r, pos).map_err(ParseErr::Io)? else {
            return Err(ParseErr::Eof);
        };
        if l.first() != Some(&b'$') {
            return Err(ParseErr::Format);
        }
        let len = parse_num(&l).max(0) as u64;
        // Read what is there, never more than the file holds.
        let mut arg = Vec::new();
        let n = r
            .by_ref()
            .take(len)
            .read_to_end(&mut arg)
            .map_err(ParseErr::Io)?;
        *pos += n as u64;
        if (n as u64) < len {
            return Err(ParseErr::Eof);
        }
        let mut crlf = [0u8; 2];
        let k = r.by_ref().take(2).read(&mut crlf).map_err(ParseErr::Io)?;
        let k = if k == 1 {
            k + r
                .by_ref()
                .take(1)
                .read(&mut crlf[1..])
                .map_err(ParseErr::Io)?
        } else {
            k
        };
        *pos += k as u64;
        if k < 2 {
            return Err(ParseErr::Eof);
        }
        argv.push(Bytes::from(arg));
    }
    Ok(Item::Cmd(argv))
}

/// Counts the bytes read through it (where an RDB preamble ends).
struct Counting<R> {
    inner: R,
    n: u64,
}

impl<R: Read> Read for Counting<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let k = self.inner.read(buf)?;
        self.n += k as u64;
        Ok(k)
    }
}

/// What the loader needs to know besides the files.
pub struct Ctx<'a> {
    /// The AOF directory.
    pub dir: &'a Path,
    /// `appendfilename` (an old-style file by this name may hold a preamble).
    pub filename: &'a str,
    /// aof-load-truncated.
    pub load_truncated: bool,
    /// key-load-delay (µs per command).
    pub delay: i64,
    /// Bytes loaded so far, for INFO.
    pub progress: std::sync::Arc<std::sync::atomic::AtomicU64>,
    /// The last replication mark read, cleared by any command after it:
    /// Some at the end only when the log ends with one.
    pub repl_mark: std::cell::RefCell<Option<ReplMark>>,
}

/// Replay one file (loadSingleAppendOnlyFile).
pub fn load_single(cx: &Ctx, name: &str, with: &mut WithEngine, runner: &mut dyn Runner) -> Status {
    let path = cx.dir.join(name);
    let file = match std::fs::File::open(&path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            tracing::warn!(
                "The append log file {name} doesn't exist: {}",
                super::writer::strerror(&e)
            );
            return Status::NotExist;
        }
        Err(e) => {
            tracing::warn!(
                "Fatal error: can't open the append log file {name} for reading: {}",
                super::writer::strerror(&e)
            );
            return Status::OpenErr;
        }
    };
    if file.metadata().map(|m| m.len()).unwrap_or(0) == 0 {
        return Status::Empty;
    }
    let mut r = BufReader::with_capacity(1 << 16, file);
    let mut pos: u64 = 0;
    let is_rdb = r
        .fill_buf()
        .map(|b| b.starts_with(b"REDIS"))
        .unwrap_or(false);
    if is_rdb {
        let old_style = name == cx.filename;
        if old_style {
            tracing::info!("Reading RDB preamble from AOF file...");
        } else {
            tracing::info!("Reading RDB base file on AOF loading...");
        }
        let mut counting = Counting {
            inner: &mut r,
            n: 0,
        };
        let res = load_rdb(&mut counting, with);
        pos = counting.n;
        if let Err(e) = res {
            tracing::warn!("{e}");
            if old_style {
                tracing::warn!(
                    "Error reading the RDB preamble of the AOF file {name}, AOF loading aborted"
                );
            } else {
                tracing::warn!("Error reading the RDB base file {name}, AOF loading aborted");
            }
            return Status::Failed;
        }
        cx.progress.fetch_add(pos, Relaxed);
        if old_style {
            tracing::info!("Reading the remaining AOF tail...");
        }
    }
    let mut reported = pos;
    let mut valid_up_to = pos;
    let mut valid_before_multi = pos;
    let mut batch: Vec<Vec<Bytes>> = Vec::new();
    let mut failed = None;
    let outcome = loop {
        let item = next_item(&mut r, &mut pos);
        let end = match item {
            Ok(Item::Note(line)) => {
                if let Some(m) = ReplMark::parse(&line) {
                    *cx.repl_mark.borrow_mut() = Some(m);
                }
                continue;
            }
            Ok(Item::Cmd(argv)) => {
                if cx.repl_mark.borrow().is_some() {
                    *cx.repl_mark.borrow_mut() = None;
                }
                if argv[0].eq_ignore_ascii_case(b"multi") {
                    // Flush first, so in_multi reflects the commands
                    // before it when this MULTI is judged later.
                    valid_before_multi = valid_up_to;
                }
                batch.push(argv);
                valid_up_to = pos;
                if batch.len() < 1024 && cx.delay <= 0 {
                    continue;
                }
                None
            }
            Ok(Item::Eof) => Some(Ok(())),
            Err(e) => Some(Err(e)),
        };
        run_batch(&mut batch, with, runner, &mut failed);
        if cx.delay > 0 {
            std::thread::sleep(std::time::Duration::from_micros(cx.delay as u64));
        }
        cx.progress.fetch_add(pos - reported, Relaxed);
        reported = pos;
        if let Some(cmd) = failed.take() {
            tracing::warn!("Unknown command '{cmd}' reading the append only file {name}");
            return Status::Failed;
        }
        if let Some(e) = end {
            break e;
        }
    };
    let uxeof_at = match outcome {
        Ok(()) => {
            if runner.in_multi() {
                tracing::warn!("Revert incomplete MULTI/EXEC transaction in AOF file {name}");
                runner.reset();
                Some(valid_before_multi)
            } else {
                None
            }
        }
        Err(ParseErr::Eof) => Some(valid_up_to),
        Err(ParseErr::Io(e)) => {
            tracing::warn!(
                "Unrecoverable error reading the append only file {name}: {}",
                super::writer::strerror(&e)
            );
            return Status::Failed;
        }
        Err(ParseErr::Format) => {
            runner.reset();
            tracing::warn!("Bad file format reading the append only file {name}: make a backup of your AOF file, then use ./redis-check-aof --fix <filename.manifest>");
            return Status::Failed;
        }
    };
    let Some(valid) = uxeof_at else {
        return Status::Ok;
    };
    runner.reset();
    if cx.load_truncated {
        tracing::warn!("!!! Warning: short read while loading the AOF file {name}!!!");
        tracing::warn!("!!! Truncating the AOF {name} at offset {valid} !!!");
        let truncated = std::fs::OpenOptions::new()
            .write(true)
            .open(&path)
            .and_then(|f| f.set_len(valid));
        match truncated {
            Ok(()) => {
                tracing::warn!("AOF {name} loaded anyway because aof-load-truncated is enabled");
                return Status::Truncated;
            }
            Err(e) => tracing::warn!(
                "Error truncating the AOF file {name}: {}",
                super::writer::strerror(&e)
            ),
        }
    }
    tracing::warn!("Unexpected end of file reading the append only file {name}. You can: 1) Make a backup of your AOF file, then use ./redis-check-aof --fix <filename.manifest>. 2) Alternatively you can set the 'aof-load-truncated' configuration option to yes and restart the server.");
    Status::Failed
}

fn run_batch(
    batch: &mut Vec<Vec<Bytes>>,
    with: &mut WithEngine,
    runner: &mut dyn Runner,
    failed: &mut Option<String>,
) {
    if batch.is_empty() {
        return;
    }
    let mut cmds = std::mem::take(batch).into_iter();
    with(&mut |eng: &mut Engine| {
        for argv in cmds.by_ref() {
            let name = String::from_utf8_lossy(&argv[0]).into_owned();
            if !runner.run(eng, argv) {
                *failed = Some(name);
                return;
            }
        }
    });
}

/// Load an RDB preamble through the engine accessor.
fn load_rdb<R: Read>(r: R, with: &mut WithEngine) -> Result<(), String> {
    let mut opts = None;
    with(&mut |e: &mut Engine| opts = Some(crate::persist::load::LoadOpts::of(e)));
    let Some(mut o) = opts else {
        return Err("no engine".into());
    };
    // The AOF's keys are kept as written; expired ones go with the
    // commands that follow or the active expiry.
    o.keep_expired = true;
    let mut fn_err = None;
    let with_cell = std::cell::RefCell::new(with);
    crate::persist::load::load_records(
        r,
        &o,
        crate::persist::load::log_aux,
        |code| {
            let mut res = Ok(());
            (with_cell.borrow_mut())(&mut |e: &mut Engine| {
                res = crate::persist::load::install_function(e, &code, false);
            });
            if let Err(e) = &res {
                fn_err = Some(e.clone());
            }
            res
        },
        |db, n| {
            (with_cell.borrow_mut())(&mut |e: &mut Engine| e.keyspace_mut().db_mut(db).reserve(n))
        },
        |b| {
            (with_cell.borrow_mut())(&mut |e: &mut Engine| crate::persist::load::insert_batch(e, b))
        },
        |_, _| {},
    )
    .map(|_| ())
    .map_err(|e| e.0)
}

/// Total size of the base and incremental files; Err(status) when one is
/// missing or cannot be read.
pub fn total_size(dir: &Path, am: &Manifest) -> Result<u64, Status> {
    sizes(dir, am, true)
}

/// The same, without logging (for progress figures).
pub fn total_size_quiet(dir: &Path, am: &Manifest) -> u64 {
    sizes(dir, am, false).unwrap_or(0)
}

fn sizes(dir: &Path, am: &Manifest, log: bool) -> Result<u64, Status> {
    let mut n = 0;
    for ai in am.base.iter().chain(am.incr.iter()) {
        match std::fs::metadata(dir.join(&ai.name)) {
            Ok(m) => n += m.len(),
            Err(e) if !log => {
                return Err(if e.kind() == std::io::ErrorKind::NotFound {
                    Status::NotExist
                } else {
                    Status::OpenErr
                })
            }
            Err(e) => {
                tracing::warn!(
                    "Unable to obtain the AOF file {} length. stat: {}",
                    ai.name,
                    super::writer::strerror(&e)
                );
                return Err(if e.kind() == std::io::ErrorKind::NotFound {
                    Status::NotExist
                } else {
                    Status::OpenErr
                });
            }
        }
    }
    Ok(n)
}

/// Load every file the manifest lists (loadAppendOnlyFiles, after the
/// upgrade step). Returns the status and the base file's size.
pub fn load_files(
    cx: &Ctx,
    am: &Manifest,
    with: &mut WithEngine,
    runner: &mut dyn Runner,
) -> (Status, u64) {
    if am.base.is_none() && am.incr.is_empty() {
        return (Status::NotExist, 0);
    }
    let total_num = am.loaded_files();
    let total = match total_size(cx.dir, am) {
        Ok(0) => return (Status::Empty, 0),
        Ok(n) => n,
        Err(Status::NotExist) => return (Status::Failed, 0),
        Err(s) => return (s, 0),
    };
    let _ = total;
    let mut num = 0;
    let mut base_size = 0;
    let mut ret = Status::Ok;
    for (i, ai) in am.base.iter().chain(am.incr.iter()).enumerate() {
        let is_base = i == 0 && am.base.is_some();
        if is_base {
            base_size = std::fs::metadata(cx.dir.join(&ai.name))
                .map(|m| m.len())
                .unwrap_or(0);
        }
        num += 1;
        let last = num == total_num;
        let start = Instant::now();
        ret = load_single(cx, &ai.name, with, runner);
        if ret == Status::Ok || (ret == Status::Truncated && last) {
            tracing::info!(
                "DB loaded from {} file {}: {:.3} seconds",
                if is_base { "base" } else { "incr" },
                ai.name,
                start.elapsed().as_secs_f64()
            );
        }
        if ret == Status::Empty && !is_base {
            ret = Status::Ok;
        }
        if ret == Status::Truncated && !last {
            ret = Status::Failed;
            tracing::warn!("Fatal error: the truncated file is not the last file");
        }
        if matches!(ret, Status::OpenErr | Status::Failed) {
            return (ret, base_size);
        }
    }
    (ret, base_size)
}
