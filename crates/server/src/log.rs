//! Logging in Redis's format.
//!
//! Redis's tests and operators read the log: `PID:ROLE DD Mon YYYY HH:MM:SS.mmm
//! <level-char> message`, with `.` debug, `-` verbose, `*` notice and `#`
//! warning. We log through `tracing` and map its levels onto Redis's:
//! TRACE = debug, DEBUG = verbose, INFO = notice, WARN/ERROR = warning. The
//! active level is a global so that `CONFIG SET loglevel` takes effect at once.

use std::fmt;
use std::io::Write;
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::Mutex;

use tracing::{Event, Level, Subscriber};
use tracing_subscriber::fmt::format::Writer;
use tracing_subscriber::fmt::{FmtContext, FormatEvent, FormatFields};
use tracing_subscriber::registry::LookupSpan;

/// Redis log levels, in increasing severity.
pub const LEVEL_DEBUG: u8 = 0;
/// `verbose`.
pub const LEVEL_VERBOSE: u8 = 1;
/// `notice` (the default).
pub const LEVEL_NOTICE: u8 = 2;
/// `warning`.
pub const LEVEL_WARNING: u8 = 3;

static LEVEL: AtomicU8 = AtomicU8::new(LEVEL_NOTICE);
/// The role character: `M` master, `S` replica, `C` child (unused), `X` sentinel.
static ROLE: AtomicU8 = AtomicU8::new(b'M');

/// Set the minimum level that is written.
pub fn set_level(l: u8) {
    LEVEL.store(l, Ordering::Relaxed);
}

/// Set the role letter shown after the pid.
pub fn set_role_replica(replica: bool) {
    ROLE.store(if replica { b'S' } else { b'M' }, Ordering::Relaxed);
}

fn redis_level(l: &Level) -> u8 {
    match *l {
        Level::TRACE => LEVEL_DEBUG,
        Level::DEBUG => LEVEL_VERBOSE,
        Level::INFO => LEVEL_NOTICE,
        _ => LEVEL_WARNING,
    }
}

struct RedisFormat;

impl<S, N> FormatEvent<S, N> for RedisFormat
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    N: for<'a> FormatFields<'a> + 'static,
{
    fn format_event(
        &self,
        ctx: &FmtContext<'_, S, N>,
        mut w: Writer<'_>,
        event: &Event<'_>,
    ) -> fmt::Result {
        let lvl = redis_level(event.metadata().level());
        let c = [".", "-", "*", "#"][lvl as usize];
        let role = ROLE.load(Ordering::Relaxed) as char;
        write!(
            w,
            "{}:{} {} {} ",
            std::process::id(),
            role,
            crate::clock::log_timestamp(),
            c
        )?;
        ctx.field_format().format_fields(w.by_ref(), event)?;
        writeln!(w)
    }
}

/// Where log lines go: stdout, or a file opened in append mode.
#[derive(Clone)]
struct Sink(std::sync::Arc<Mutex<Box<dyn Write + Send>>>);

impl Write for Sink {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let mut g = self.0.lock().unwrap_or_else(|p| p.into_inner());
        g.write_all(buf)?;
        g.flush()?;
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Install the global logger. `logfile` empty means stdout.
pub fn init(logfile: &str, level: u8) -> std::io::Result<()> {
    set_level(level);
    let out: Box<dyn Write + Send> = if logfile.is_empty() {
        Box::new(std::io::stdout())
    } else {
        Box::new(
            std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(logfile)?,
        )
    };
    let sink = Sink(std::sync::Arc::new(Mutex::new(out)));
    let filter = tracing_subscriber::filter::filter_fn(|m| {
        redis_level(m.level()) >= LEVEL.load(Ordering::Relaxed)
    });
    use tracing_subscriber::layer::SubscriberExt;
    let layer = tracing_subscriber::fmt::layer()
        .event_format(RedisFormat)
        .with_writer(move || sink.clone())
        .with_filter(filter);
    let subscriber = tracing_subscriber::registry().with(layer);
    // A second init (tests) keeps the first logger.
    let _ = tracing::subscriber::set_global_default(subscriber);
    Ok(())
}

use tracing_subscriber::Layer as _;
