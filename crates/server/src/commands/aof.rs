//! AOF commands and the replay of the log (Redis's aof.c command half):
//! BGREWRITEAOF, the fake client that runs the file's commands at start-up
//! and for DEBUG LOADAOF. The log itself lives in `crate::persist::aof`.

use bytes::Bytes;

use super::f::*;
use super::{cmd, CommandSpec, Ctx, NOKEYS};
use crate::client::Client;
use crate::engine::{lock, Engine, Shared};
use crate::error::CmdResult;
use crate::persist::aof::{self, load};

/// The AOF commands.
pub static COMMANDS: &[CommandSpec] = &[cmd(
    "bgrewriteaof",
    1,
    ADMIN | NOSCRIPT | NO_ASYNC_LOADING,
    NOKEYS,
    "server",
    "1.0.0",
    "Asynchronously rewrite the append-only file",
    bgrewriteaof,
)];

fn bgrewriteaof(c: &mut Ctx) -> CmdResult {
    if c.eng.aof().rewriting() {
        return Err("ERR Background append only file rewriting already in progress".into());
    }
    if c.eng.persist().saving() || c.eng.repl().in_unit() {
        c.eng.aof_mut().schedule();
        c.simple("Background append only file rewriting scheduled");
        return Ok(());
    }
    if aof::start_rewrite(c.eng).is_ok() {
        c.simple("Background append only file rewriting started");
        Ok(())
    } else {
        Err("ERR Can't execute an AOF background rewriting. Please check the server logs for more information.".into())
    }
}

/// Redis's CLIENT_ID_AOF.
const AOF_CLIENT_ID: u64 = u64::MAX;

/// The fake client that runs the log's commands: no replies, never
/// blocked, exempt from processCommand's refusals as the master's link is.
pub struct AofClient {
    cl: Client,
}

impl Default for AofClient {
    fn default() -> Self {
        Self::new()
    }
}

impl AofClient {
    /// A fresh fake client.
    pub fn new() -> AofClient {
        let mut cl = Client::new(AOF_CLIENT_ID, String::new(), String::new(), true, false, 0);
        cl.authenticated = true;
        AofClient { cl }
    }
}

impl load::Runner for AofClient {
    fn run(&mut self, eng: &mut Engine, argv: Vec<Bytes>) -> bool {
        // As Redis's loader: the command runs directly (none of
        // processCommand's refusals, -LOADING included), queued while the
        // fake client is inside MULTI.
        let Some(mut spec) = super::lookup(&argv[0]) else {
            return false;
        };
        let mut parent = None;
        if spec.flags & CONTAINER != 0 {
            if let Some(sub) = argv.get(1).and_then(|a| super::lookup_sub(spec, a)) {
                parent = Some(spec);
                spec = sub;
            }
        }
        let n = argv.len() as i64;
        let a = spec.arity as i64;
        if (a > 0 && n != a) || (a < 0 && n < -a) {
            // A malformed command is skipped (Redis would run it anyway).
            return true;
        }
        if self.cl.in_multi() && spec.name != "exec" {
            self.cl.multi.push(argv);
            return true;
        }
        let mut out = Vec::new();
        super::dispatch::call(eng, &mut self.cl, spec, parent, argv, &mut out, true);
        true
    }

    fn in_multi(&self) -> bool {
        self.cl.in_multi()
    }

    fn reset(&mut self) {
        *self = AofClient::new();
    }
}

/// The start-up load with `appendonly yes` (loadDataFromDisk's AOF path),
/// taking the engine lock per batch. Err: start-up stops.
pub fn load_at_startup(shared: &Shared) -> Result<(), aof::Logged> {
    let start = std::time::Instant::now();
    let mut runner = AofClient::new();
    let st = aof::replay(
        &mut |f: &mut dyn FnMut(&mut Engine)| f(&mut lock(shared)),
        &mut runner,
    );
    lock(shared).persist_mut().set_loading(false);
    match st {
        load::Status::Failed | load::Status::OpenErr => Err(aof::Logged),
        load::Status::NotExist => Ok(()),
        _ => {
            tracing::info!(
                "DB loaded from append only file: {:.3} seconds",
                start.elapsed().as_secs_f64()
            );
            aof::resume_replication(&mut lock(shared));
            Ok(())
        }
    }
}

/// The AOF replay runner, installed in the engine at start-up so that
/// DEBUG LOADAOF (below dispatch) can replay through dispatch.
pub fn new_runner() -> Box<dyn load::Runner> {
    Box::new(AofClient::new())
}
