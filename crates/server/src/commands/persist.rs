//! Persistence commands: SAVE and BGSAVE (Redis's `rdb.c` command half).
//! The snapshot machinery lives in `crate::persist`.

use super::f::*;
use super::{cmd, eq, CommandSpec, Ctx, NOKEYS};
use crate::error::{CmdResult, SYNTAX};
use crate::persist::snapshot;

/// The persistence commands.
pub static COMMANDS: &[CommandSpec] = &[
    cmd(
        "save",
        1,
        ADMIN | NOSCRIPT | NO_MULTI,
        NOKEYS,
        "server",
        "1.0.0",
        "Synchronously save the dataset to disk",
        save,
    ),
    cmd(
        "bgsave",
        -1,
        ADMIN | NOSCRIPT,
        NOKEYS,
        "server",
        "1.0.0",
        "Asynchronously save the dataset to disk",
        bgsave,
    ),
];

fn save(c: &mut Ctx) -> CmdResult {
    if c.eng.save.job.is_some() {
        return Err("ERR Background save already in progress".into());
    }
    crate::persist::save_blocking(c.eng).map_err(|_| crate::error::CmdError::fixed("ERR"))?;
    c.ok();
    Ok(())
}

fn bgsave(c: &mut Ctx) -> CmdResult {
    // SCHEDULE matters in Redis only while another child (an AOF
    // rewrite) runs; with no forks it changes nothing here.
    match c.args.len() {
        1 => {}
        2 if eq(&c.args[1], "schedule") => {}
        _ => return Err(SYNTAX.into()),
    }
    if c.eng.save.job.is_some() {
        return Err("ERR Background save already in progress".into());
    }
    if c.eng.prop_unit.is_some() {
        // Inside EXEC Redis defers the fork to the cron; so do we.
        c.eng.save.scheduled = true;
        c.simple("Background saving scheduled");
        return Ok(());
    }
    snapshot::start_bgsave(c.eng).map_err(crate::error::CmdError::msg)?;
    c.simple("Background saving started");
    Ok(())
}
