//! `relica-server [/path/to/redis.conf] [--name value ...]`: a
//! Redis-compatible server. Start-up mirrors redis-server: read the
//! configuration, daemonize if asked, log the banner, load the dataset,
//! listen, and serve until SIGTERM/SIGINT or SHUTDOWN.

use relica_server::{alloc, config, engine, info, log, server};

#[global_allocator]
static GLOBAL: alloc::Counting = alloc::Counting;

/// Runs before `main` and before anything is allocated: mimalloc's first
/// arena is in 4 KiB pages (`alloc::reserve_small_pages_arena`).
#[allow(unsafe_code)]
#[used]
#[link_section = ".init_array"]
static FIRST_ARENA: extern "C" fn() = {
    extern "C" fn reserve() {
        alloc::reserve_small_pages_arena();
    }
    reserve
};

use std::sync::Arc;

fn usage() {
    eprintln!(
        "Usage: ./relica-server [/path/to/redis.conf] [options] [-]\n       ./relica-server - (read config from stdin)\n       ./relica-server -v or --version\n       ./relica-server -h or --help\n\nExamples:\n       ./relica-server (run the server with default conf)\n       ./relica-server /etc/redis/6379.conf\n       ./relica-server --port 7777\n       ./relica-server --port 7777 --replicaof 127.0.0.1 8888\n       ./relica-server /etc/myredis.conf --loglevel verbose -"
    );
}

/// Detach from the terminal, as redis-server's daemonize.
#[allow(unsafe_code)]
fn daemonize() {
    // SAFETY: called before any thread exists (the runtime starts later),
    // so fork() duplicates a single-threaded process.
    unsafe {
        match libc::fork() {
            -1 => std::process::exit(1),
            0 => {}
            _ => std::process::exit(0),
        }
        libc::setsid();
        let devnull = std::ffi::CString::new("/dev/null").unwrap_or_default();
        let fd = libc::open(devnull.as_ptr(), libc::O_RDWR);
        if fd != -1 {
            libc::dup2(fd, 0);
            libc::dup2(fd, 1);
            libc::dup2(fd, 2);
            if fd > 2 {
                libc::close(fd);
            }
        }
    }
}

fn main() -> anyhow::Result<()> {
    // As redis-server: SORT ... ALPHA and Lua compare strings with the
    // environment's collation. Before any thread starts.
    relica_server::util::collate::init_from_env();
    let args: Vec<String> = std::env::args().skip(1).collect();
    if let Some(a) = args.first() {
        match a.as_str() {
            "-v" | "--version" => {
                println!(
                    "Redis server v={} sha=00000000:0 malloc=mimalloc bits=64 build=relica-{}",
                    info::REDIS_VERSION,
                    env!("CARGO_PKG_VERSION")
                );
                return Ok(());
            }
            "-h" | "--help" => {
                usage();
                return Ok(());
            }
            _ => {}
        }
    }
    let mut cfg = match config::load(&args) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("{e}");
            std::process::exit(1);
        }
    };
    if cfg.bool(config::P::daemonize) {
        daemonize();
        if cfg.str(config::P::pidfile).is_empty() {
            let idx = config::lookup("pidfile").map(|(i, _)| i).unwrap_or(0);
            cfg.set_parsed(idx, config::CVal::Str("/var/run/redis.pid".into()));
        }
    }
    // As Redis, work in `dir`: relative logfile, pidfile and socket paths
    // are taken from there, and `dir` reads back as the absolute path.
    if let Err(e) = cfg.enter_dir() {
        eprintln!("Can't chdir to '{}': {e}", cfg.str(config::P::dir));
        std::process::exit(1);
    }
    let logfile = cfg.str(config::P::logfile).to_string();
    log::init(&logfile, cfg.log_level())?;
    relica_server::crash::install(&logfile);
    tracing::info!("oO0OoO0OoO0Oo relica is starting oO0OoO0OoO0Oo");
    tracing::info!(
        "relica version={}, Redis compatibility={}, bits=64, pid={}, just started",
        env!("CARGO_PKG_VERSION"),
        info::REDIS_VERSION,
        std::process::id()
    );
    if cfg.file.is_none() {
        tracing::warn!("Warning: no config file specified, using the default config. In order to specify a config file use relica-server /path/to/redis.conf");
    } else {
        tracing::info!("Configuration loaded");
    }
    // `io-threads` (Redis's knob, default 1) is the number of runtime
    // threads serving connections. Commands run under the engine lock
    // either way; more threads only spread the socket work, and on small
    // machines one thread avoids contending for that lock.
    let io_threads = cfg.int(config::P::io_threads).max(1) as usize;
    if let Err(e) = relica_server::commands::set_renames(&cfg.renames) {
        eprintln!(
            "
*** FATAL CONFIG FILE ERROR ***
{e}"
        );
        std::process::exit(1);
    }
    let mut engine = engine::Engine::new(cfg);
    if let Err(e) = relica_server::commands::acl::load_at_startup(&mut engine) {
        tracing::warn!("{e}");
        tracing::warn!("Critical error while loading ACLs. Exiting.");
        std::process::exit(1);
    }
    let shared = Arc::new(engine::EngineLock::new(engine));
    shared.lock().set_handle(Arc::downgrade(&shared));
    // Connections are served in the order their requests arrived, as in
    // Redis's event loop: tokio would run the task woken last first (its
    // LIFO slot), so of two clients' requests read in one poll the later
    // ran first (a client that sends EXEC on one connection and then LPUSH
    // on another saw them swapped about a third of the time).
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(io_threads)
        .disable_lifo_slot()
        .on_thread_park(relica_server::util::park::before_park)
        .on_thread_unpark(relica_server::util::park::after_unpark)
        .enable_all()
        .build()?;
    let code = rt.block_on(server::run(shared));
    std::process::exit(code);
}
