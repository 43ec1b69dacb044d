//! ACL commands (Redis 7.0's `aclCommand`, `authCommand`): SETUSER,
//! GETUSER, DELUSER, LIST, USERS, CAT, WHOAMI, LOG, DRYRUN, GENPASS, LOAD,
//! SAVE, HELP; and what the rest of the command layer asks of ACLs: the
//! catalog of commands (ids and categories), the permission check
//! processCommand, EXEC and scripts run, authentication, the ACL log, the
//! `user` lines of the config and the ACL file.

use std::collections::BTreeMap;
use std::sync::LazyLock;

use bytes::Bytes;

use super::f::*;
use super::{cmd, container, eq, full_name, keyspec, CommandSpec, Ctx, NOKEYS, TABLE};
use crate::acl::{self, Catalog, CheckRequest, Denied, LogEntry, User};
use crate::client::{flag, Client};
use crate::config::P;
use crate::engine::Engine;
use crate::error::{CmdError, CmdResult};

const AF: u32 = ADMIN | NOSCRIPT | LOADING | STALE;
const NF: u32 = NOSCRIPT | LOADING | STALE;

/// Table rows.
pub static COMMANDS: &[CommandSpec] = &[container(
    "acl",
    "server",
    "6.0.0",
    "A container for Access List Control commands",
    ACL,
)];

static ACL: &[CommandSpec] = &[
    cmd(
        "cat",
        -2,
        NF,
        NOKEYS,
        "server",
        "6.0.0",
        "List the ACL categories or the commands inside a category",
        acl_cat,
    ),
    cmd(
        "deluser",
        -3,
        AF,
        NOKEYS,
        "server",
        "6.0.0",
        "Remove the specified ACL users and the associated rules",
        acl_deluser,
    ),
    cmd(
        "dryrun",
        -4,
        AF,
        NOKEYS,
        "server",
        "7.0.0",
        "Returns whether the user can execute the given command without executing the command.",
        acl_dryrun,
    ),
    cmd(
        "genpass",
        -2,
        NF,
        NOKEYS,
        "server",
        "6.0.0",
        "Generate a pseudorandom secure password to use for ACL users",
        acl_genpass,
    ),
    cmd(
        "getuser",
        3,
        AF,
        NOKEYS,
        "server",
        "6.0.0",
        "Get the rules for a specific ACL user",
        acl_getuser,
    ),
    cmd(
        "help",
        2,
        LOADING | STALE,
        NOKEYS,
        "server",
        "6.0.0",
        "Show helpful text about the different subcommands",
        acl_help,
    ),
    cmd(
        "list",
        2,
        AF,
        NOKEYS,
        "server",
        "6.0.0",
        "List the current ACL rules in ACL config file format",
        acl_list,
    ),
    cmd(
        "load",
        2,
        AF,
        NOKEYS,
        "server",
        "6.0.0",
        "Reload the ACLs from the configured ACL file",
        acl_load,
    ),
    cmd(
        "log",
        -2,
        AF,
        NOKEYS,
        "server",
        "6.0.0",
        "List latest events denied because of ACLs in place",
        acl_log,
    ),
    cmd(
        "save",
        2,
        AF,
        NOKEYS,
        "server",
        "6.0.0",
        "Save the current ACL rules in the configured ACL file",
        acl_save,
    ),
    cmd(
        "setuser",
        -3,
        AF,
        NOKEYS,
        "server",
        "6.0.0",
        "Modify or create the rules for a specific ACL user",
        acl_setuser,
    ),
    cmd(
        "users",
        2,
        AF,
        NOKEYS,
        "server",
        "6.0.0",
        "List the username of all the configured ACL rules",
        acl_users,
    ),
    cmd(
        "whoami",
        2,
        NF,
        NOKEYS,
        "server",
        "6.0.0",
        "Return the name of the user associated to the current connection",
        acl_whoami,
    ),
];

// ---- the catalog ----------------------------------------------------------

struct Cmds {
    catalog: Catalog,
    ids: std::collections::HashMap<usize, usize, ahash::RandomState>,
}

static CMDS: LazyLock<Cmds> = LazyLock::new(|| {
    let mut catalog = Catalog::default();
    let mut ids = std::collections::HashMap::with_hasher(ahash::RandomState::new());
    let mut top: Vec<&'static CommandSpec> = TABLE.values().copied().collect();
    top.sort_by_key(|s| s.name);
    for s in top {
        let no_auth = s.flags & NO_AUTH != 0;
        if s.name == "debug" {
            // Redis's DEBUG is one command (its subcommands are first
            // arguments, `+debug|object`); relica's table splits it.
            let cats = keyspec::categories_for_flags("debug", ADMIN | NOSCRIPT | LOADING | STALE);
            let id = catalog.add(s.name, cats, false, None);
            ids.insert(s as *const CommandSpec as usize, id);
            for sub in s.subs {
                ids.insert(sub as *const CommandSpec as usize, id);
            }
            continue;
        }
        let id = catalog.add(s.name, keyspec::categories(s.name, s), no_auth, None);
        ids.insert(s as *const CommandSpec as usize, id);
        for sub in s.subs {
            let full = full_name(Some(s), sub);
            let sid = catalog.add(
                &full,
                keyspec::categories(&full, sub),
                sub.flags & NO_AUTH != 0,
                Some(id),
            );
            ids.insert(sub as *const CommandSpec as usize, sid);
        }
    }
    Cmds { catalog, ids }
});

/// The command table as ACLs see it.
pub fn catalog() -> &'static Catalog {
    &CMDS.catalog
}

/// A command's ACL id.
pub fn id_of(spec: &CommandSpec) -> usize {
    CMDS.ids
        .get(&(spec as *const CommandSpec as usize))
        .copied()
        .unwrap_or(acl::FUTURE_BIT)
}

/// A command's ACL categories (COMMAND INFO, COMMAND LIST FILTERBY ACLCAT).
pub fn categories_of(spec: &CommandSpec) -> u64 {
    catalog().cmd(id_of(spec)).cats
}

fn pubsub_all(eng: &Engine) -> bool {
    eng.cfg().str(P::acl_pubsub_default) == "allchannels"
}

// ---- checks ---------------------------------------------------------------

/// Whether `user` may run the command with these arguments (Redis's
/// ACLCheckAllUserCommandPerm): Err with what was refused and the argument
/// it concerns.
pub fn check_user(
    user: &User,
    spec: &'static CommandSpec,
    parent: Option<&'static CommandSpec>,
    args: &[Bytes],
) -> Result<(), (Denied, usize)> {
    if user.unrestricted() {
        return Ok(());
    }
    let name = full_name(parent, spec);
    let keys = if user.needs_keys() {
        keyspec::acl_keys(&name, spec, args)
    } else {
        Vec::new()
    };
    let chans = if parent.is_none() {
        keyspec::acl_channels(spec.name, args.len())
    } else {
        Vec::new()
    };
    let id = id_of(spec);
    let req = CheckRequest {
        id,
        no_auth: spec.flags & NO_AUTH != 0,
        is_sub: catalog().cmd(id).parent.is_some(),
        args,
        channels: &chans,
    };
    user.check_cmd(&req, &keys)
}

/// Whether the client's user may run the command now.
pub fn check(
    eng: &Engine,
    cl: &Client,
    spec: &'static CommandSpec,
    parent: Option<&'static CommandSpec>,
    args: &[Bytes],
) -> Result<(), (Denied, usize)> {
    if cl.user == b"default" && eng.acl().default_unrestricted() {
        return Ok(());
    }
    match eng.acl().user(&cl.user) {
        Some(u) => check_user(u, spec, parent, args),
        None => Ok(()),
    }
}

/// Whether the client's user may read every key with this command (SORT's
/// BY and GET: Redis's ACLUserCheckCmdWithUnrestrictedKeyAccess).
pub fn unrestricted_read(
    eng: &Engine,
    cl: &Client,
    spec: &'static CommandSpec,
    parent: Option<&'static CommandSpec>,
    args: &[Bytes],
) -> bool {
    let Some(u) = eng.acl().user(&cl.user) else {
        return true;
    };
    if u.unrestricted() {
        return true;
    }
    let name = full_name(parent, spec);
    let keys = keyspec::acl_keys(&name, spec, args);
    let id = id_of(spec);
    let req = CheckRequest {
        id,
        no_auth: spec.flags & NO_AUTH != 0,
        is_sub: catalog().cmd(id).parent.is_some(),
        args,
        channels: &[],
    };
    u.check_cmd_unrestricted_keys(&req, &keys, acl::perm::READ)
}

/// Where a refusal happened, for the ACL log.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Context {
    /// A command of the client's own.
    Toplevel,
    /// Inside MULTI/EXEC.
    Multi,
    /// A script's redis.call.
    Lua,
}

impl Context {
    fn name(self) -> &'static str {
        match self {
            Context::Toplevel => "toplevel",
            Context::Multi => "multi",
            Context::Lua => "lua",
        }
    }
}

/// Whose refusal is logged: the client (its user), and the CLIENT LIST
/// line to show when it is not the client's own (a script's caller).
pub struct Who<'a> {
    cl: &'a Client,
    info: Option<&'a str>,
}

impl<'a> From<&'a Client> for Who<'a> {
    fn from(cl: &'a Client) -> Self {
        Who { cl, info: None }
    }
}

impl<'a> From<&'a mut Client> for Who<'a> {
    fn from(cl: &'a mut Client) -> Self {
        Who { cl, info: None }
    }
}

impl<'a> From<(&'a Client, &'a str)> for Who<'a> {
    fn from((cl, info): (&'a Client, &'a str)) -> Self {
        Who {
            cl,
            info: Some(info),
        }
    }
}

/// Add an ACL log entry for `cl` (Redis's addACLLogEntry); `object` is the
/// command, key, channel or (auth) the command name, `username` overrides
/// the client's user.
pub fn log<'a>(
    eng: &mut Engine,
    who: impl Into<Who<'a>>,
    reason: Denied,
    ctx: Context,
    object: &[u8],
    username: Option<&[u8]>,
) {
    let who = who.into();
    let cinfo = match who.info {
        Some(i) => i.to_string(),
        None => eng.client_info_line(who.cl, eng.now()),
    };
    let e = LogEntry {
        count: 1,
        reason,
        context: ctx.name(),
        object: object.to_vec(),
        username: username.unwrap_or(&who.cl.user).to_vec(),
        ctime: crate::clock::now_ms(),
        cinfo,
    };
    let max = eng.cfg().int(P::acllog_max_len).max(0) as usize;
    eng.acl_mut().log_add(e, max);
}

/// Log a refused command and give its -NOPERM error (processCommand's).
pub fn refuse(
    eng: &mut Engine,
    cl: &Client,
    (denied, pos): (Denied, usize),
    ctx: Context,
    spec: &'static CommandSpec,
    parent: Option<&'static CommandSpec>,
    args: &[Bytes],
) -> CmdError {
    let name = acl_name(spec, parent);
    log_refusal(eng, cl, denied, pos, ctx, &name, args);
    match denied {
        Denied::Command => CmdError::msg(format!(
            "NOPERM this user has no permissions to run the '{name}' command"
        )),
        Denied::Key => CmdError::fixed(
            "NOPERM this user has no permissions to access one of the keys used as arguments",
        ),
        Denied::Channel => CmdError::fixed(
            "NOPERM this user has no permissions to access one of the channels used as arguments",
        ),
        Denied::Auth => CmdError::fixed("ERR no permission"),
    }
}

/// The name ACLs give a command (`debug` for all of DEBUG).
pub fn acl_name(spec: &'static CommandSpec, parent: Option<&'static CommandSpec>) -> String {
    match CMDS.ids.get(&(spec as *const CommandSpec as usize)) {
        Some(&id) => catalog().cmd(id).name.clone(),
        None => full_name(parent, spec),
    }
}

/// Log a refusal: the command's full name, or the key or channel.
pub fn log_refusal<'a>(
    eng: &mut Engine,
    cl: impl Into<Who<'a>>,
    denied: Denied,
    pos: usize,
    ctx: Context,
    name: &str,
    args: &[Bytes],
) {
    let object: Vec<u8> = match denied {
        Denied::Command => name.as_bytes().to_vec(),
        _ => args.get(pos).map(|a| a.to_vec()).unwrap_or_default(),
    };
    log(eng, cl, denied, ctx, &object, None);
}

/// The reason text of Redis's getAclErrorMessage (scripts).
pub fn script_message(denied: Denied) -> &'static str {
    match denied {
        Denied::Command => "can't run this command or subcommand",
        Denied::Key => "can't access at least one of the keys mentioned in the command arguments",
        Denied::Channel => "can't publish to the channel mentioned in the command",
        Denied::Auth => "lacking the permissions for the command",
    }
}

/// EXEC's reason for a queued command refused at EXEC time.
pub fn exec_message(denied: Denied) -> &'static str {
    match denied {
        Denied::Command => "no permission to execute the command or subcommand",
        Denied::Key => "no permission to touch the specified keys",
        Denied::Channel => "no permission to access one of the channels used as arguments",
        Denied::Auth => "no permission",
    }
}

// ---- authentication -------------------------------------------------------

/// Whether the client must authenticate before running commands (Redis's
/// authRequired).
pub fn auth_required(eng: &Engine, cl: &Client) -> bool {
    !eng.acl().new_clients_authenticated() && !cl.authenticated
}

/// AUTH and HELLO AUTH: log in as `user`, or log the failure (Redis's
/// ACLAuthenticateUser). `cmd` is the command name as sent.
pub fn authenticate(
    eng: &mut Engine,
    cl: &mut Client,
    user: &[u8],
    pass: &[u8],
    cmd: &[u8],
) -> bool {
    if eng.acl().user(user).is_some_and(|u| u.check_password(pass)) {
        cl.authenticated = true;
        cl.user = user.to_vec();
        return true;
    }
    let ctx = if cl.in_multi() {
        Context::Multi
    } else {
        Context::Toplevel
    };
    log(eng, cl, Denied::Auth, ctx, cmd, Some(user));
    false
}

// ---- users from the config and the ACL file ---------------------------------

/// Load the `user` lines of the config, then the ACL file, at start-up
/// (Redis's ACLLoadUsersAtStartup). Err with the message to log before
/// exiting.
pub fn load_at_startup(eng: &mut Engine) -> Result<(), String> {
    let aclfile = eng.cfg().str(P::aclfile).to_string();
    let lines = eng.cfg().users.clone();
    if !aclfile.is_empty() && !lines.is_empty() {
        return Err("Configuring Redis with users defined in redis.conf and at the same setting an ACL file path is invalid. This setup is very likely to lead to configuration errors and security holes, please define either an ACL file or declare users directly in your redis.conf, but not both.".into());
    }
    let pubsub = pubsub_all(eng);
    for line in &lines {
        let (name, rules) = line.split_first().ok_or("empty user line")?;
        if acl::user::has_spaces(name) {
            return Err("Spaces not allowed in ACL usernames".into());
        }
        let rules = acl::merge_selector_args(rules).map_err(|_| {
            format!(
                "Error in user declaration '{}': Unmatched parenthesis in acl selector",
                String::from_utf8_lossy(name)
            )
        })?;
        let mut u = match eng.acl().user(name) {
            Some(old) => {
                let mut u = old.clone();
                let _ = u.apply(catalog(), b"reset", pubsub);
                u
            }
            None => User::new(name, pubsub),
        };
        for r in &rules {
            u.apply(catalog(), r, pubsub).map_err(|e| {
                format!(
                    "Error loading ACL rule '{}' for the user named '{}': {}",
                    String::from_utf8_lossy(r),
                    String::from_utf8_lossy(name),
                    e.text()
                )
            })?;
        }
        if !u.enabled() {
            tracing::info!("The user '{}' is disabled (there is no 'on' modifier in the user description). Make sure this is not a configuration error.", String::from_utf8_lossy(name));
        }
        eng.acl_mut().insert(u);
    }
    if !aclfile.is_empty() {
        let users = read_acl_file(eng, &aclfile)?;
        install_users(eng, users);
    }
    Ok(())
}

/// Parse the ACL file into a fresh set of users (Redis's ACLLoadFromFile),
/// or the one-line description of every problem found.
fn read_acl_file(eng: &Engine, path: &str) -> Result<BTreeMap<Vec<u8>, User>, String> {
    let text = std::fs::read(path).map_err(|e| {
        format!(
            "Error loading ACLs, opening file '{path}': {}",
            strerror(&e)
        )
    })?;
    let pubsub = pubsub_all(eng);
    let mut users: BTreeMap<Vec<u8>, User> = BTreeMap::new();
    let mut errors = String::new();
    for (i, raw) in text.split(|&b| b == b'\n').enumerate() {
        let linenum = i + 1;
        let line = trim(raw, b" \t\r\n");
        if line.is_empty() {
            continue;
        }
        let argv: Vec<Vec<u8>> = line.split(|&b| b == b' ').map(|w| w.to_vec()).collect();
        if argv[0] != b"user" || argv.len() < 2 {
            errors.push_str(&format!(
                "{path}:{linenum} should start with user keyword followed by the username. "
            ));
            continue;
        }
        let name = &argv[1];
        if acl::user::has_spaces(name) {
            errors.push_str(&format!(
                "'{path}:{linenum}: username '{}' contains invalid characters. ",
                String::from_utf8_lossy(name)
            ));
            continue;
        }
        if users.contains_key(name.as_slice()) {
            errors.push_str(&format!(
                "WARNING: Duplicate user '{}' found on line {linenum}. ",
                String::from_utf8_lossy(name)
            ));
            continue;
        }
        let mut u = User::new(name, pubsub);
        let rules = match acl::merge_selector_args(&argv[2..]) {
            Ok(r) => r,
            Err(_) => {
                errors.push_str(&format!(
                    "{path}:{linenum}: Unmatched parenthesis in selector definition."
                ));
                Vec::new()
            }
        };
        let mut syntax_error = false;
        for r in &rules {
            let r = trim(r, b"\t\r\n");
            if let Err(e) = u.apply(catalog(), r, pubsub) {
                if e == acl::RuleError::UnknownCommand {
                    errors.push_str(&format!(
                        "{path}:{linenum}: Error in applying operation '{}': {}. ",
                        String::from_utf8_lossy(r),
                        e.text()
                    ));
                } else if !syntax_error {
                    errors.push_str(&format!("{path}:{linenum}: {}. ", e.text()));
                    syntax_error = true;
                }
            }
        }
        users.insert(name.clone(), u);
    }
    if errors.is_empty() {
        Ok(users)
    } else {
        errors.push_str(
            "WARNING: ACL errors detected, no change to the previously active ACL rules was performed",
        );
        Err(errors)
    }
}

fn trim<'a>(mut s: &'a [u8], set: &[u8]) -> &'a [u8] {
    while let Some((f, rest)) = s.split_first() {
        if !set.contains(f) {
            break;
        }
        s = rest;
    }
    while let Some((l, rest)) = s.split_last() {
        if !set.contains(l) {
            break;
        }
        s = rest;
    }
    s
}

/// Install a loaded set of users; the default user keeps its place (its
/// clients stay), every other old user's clients are disconnected.
fn install_users(eng: &mut Engine, mut users: BTreeMap<Vec<u8>, User>) -> Vec<Vec<u8>> {
    if !users.contains_key(b"default".as_slice()) {
        users.insert(b"default".to_vec(), acl::Acl::default_user_rules());
    }
    let old = eng.acl_mut().replace_all(users);
    let gone: Vec<Vec<u8>> = old.into_iter().filter(|n| n != b"default").collect();
    for name in &gone {
        kill_user_clients(eng, name);
    }
    gone
}

/// Disconnect the clients (other than the running one) logged in as
/// `name`; they fall back to the default user, unauthenticated, until
/// they are gone.
fn kill_user_clients(eng: &mut Engine, name: &[u8]) {
    let ids: Vec<u64> = eng
        .clients()
        .iter()
        .filter(|c| c.user == name)
        .map(|c| c.id)
        .collect();
    for id in ids {
        if let Some(c) = eng.clients_mut().get_mut(id) {
            c.user = b"default".to_vec();
            c.authenticated = false;
            c.outbox.kill();
        }
    }
}

/// The running client, when its user went away.
fn release_current(cl: &mut Client, gone: &[Vec<u8>]) {
    if gone.contains(&cl.user) {
        cl.user = b"default".to_vec();
        cl.authenticated = false;
        cl.flags |= flag::CLOSE_AFTER_REPLY;
    }
}

/// The `user` lines CONFIG REWRITE writes (none with an ACL file).
pub fn config_user_lines(eng: &Engine) -> Vec<String> {
    if !eng.cfg().str(P::aclfile).is_empty() {
        return Vec::new();
    }
    eng.acl()
        .users()
        .map(|u| {
            let mut v = b"user ".to_vec();
            v.extend_from_slice(u.name());
            v.push(b' ');
            v.extend_from_slice(&u.describe(catalog()));
            String::from_utf8_lossy(&v).into_owned()
        })
        .collect()
}

// ---- ACL subcommands --------------------------------------------------------

fn acl_setuser(c: &mut Ctx) -> CmdResult {
    // Nothing of a user's definition reaches the slow log or MONITOR.
    for j in 2..c.args.len() {
        c.redact(j);
    }
    let name = c.args[2].clone();
    if acl::user::has_spaces(&name) {
        return Err("ERR Usernames can't contain spaces or null characters".into());
    }
    let ops: Vec<Vec<u8>> = c.args[3..].iter().map(|a| a.to_vec()).collect();
    let ops = acl::merge_selector_args(&ops).map_err(|i| {
        CmdError::msg(format!(
            "ERR Unmatched parenthesis in acl selector starting at '{}'.",
            cstr(&ops[i])
        ))
    })?;
    let pubsub = pubsub_all(c.eng);
    let old = c.eng.acl().user(&name).cloned();
    let mut u = User::new(&name, pubsub);
    if let Some(o) = &old {
        u.copy_rules(o);
    }
    for op in &ops {
        if let Err(e) = u.apply(catalog(), op, pubsub) {
            return Err(CmdError::msg(format!(
                "ERR Error in ACL SETUSER modifier '{}': {}",
                cstr(op),
                e.text()
            )));
        }
    }
    if let Some(o) = &old {
        if let Some(allowed) = o.channels_after(&u) {
            kill_pubsub_violators(c, &name, &allowed);
        }
    }
    c.eng.acl_mut().insert(u);
    c.ok();
    Ok(())
}

/// Disconnect the user's subscribers whose channels or patterns the new
/// rules no longer allow (Redis's ACLKillPubsubClientsIfNeeded).
fn kill_pubsub_violators(c: &mut Ctx, name: &[u8], allowed: &[Vec<u8>]) {
    let violates = |cl: &Client| {
        cl.user == name
            && cl.subscriptions() > 0
            && (cl
                .patterns
                .iter()
                .any(|p| !acl::user::channel_allowed(allowed, p, true))
                || cl
                    .channels
                    .iter()
                    .chain(cl.shard_channels.iter())
                    .any(|ch| !acl::user::channel_allowed(allowed, ch, false)))
    };
    for cl in c.eng.clients().iter() {
        if violates(cl) {
            cl.outbox.kill();
        }
    }
    if violates(c.cl) {
        c.cl.flags |= flag::CLOSE_AFTER_REPLY;
    }
}

/// Redis's addReplySubcommandSyntaxError.
fn subcommand_syntax(c: &Ctx) -> CmdError {
    CmdError::msg(format!(
        "ERR unknown subcommand or wrong number of arguments for '{}'. Try {} HELP.",
        crate::error::truncate_for_error(c.arg(1)),
        String::from_utf8_lossy(c.arg(0)).to_uppercase()
    ))
}

/// An I/O error as C's strerror() words it.
fn strerror(e: &std::io::Error) -> String {
    let s = e.to_string();
    match s.find(" (os error") {
        Some(i) => s[..i].to_string(),
        None => s,
    }
}

/// A C string's view of an argument: up to its first NUL.
fn cstr(b: &[u8]) -> String {
    let end = b.iter().position(|&x| x == 0).unwrap_or(b.len());
    String::from_utf8_lossy(&b[..end]).into_owned()
}

fn acl_deluser(c: &mut Ctx) -> CmdResult {
    if c.args[2..].iter().any(|a| a.as_ref() == b"default") {
        return Err("ERR The 'default' user cannot be removed".into());
    }
    let mut deleted = 0;
    let names: Vec<Bytes> = c.args[2..].to_vec();
    for n in names {
        if c.eng.acl_mut().remove(&n).is_some() {
            kill_user_clients(c.eng, &n);
            release_current(c.cl, &[n.to_vec()]);
            deleted += 1;
        }
    }
    c.int(deleted);
    Ok(())
}

fn selector_fields(c: &mut Ctx, s: &acl::Selector) {
    c.bulk(b"commands");
    let cmds = s.describe_commands(catalog());
    c.bulk(cmds.as_bytes());
    c.bulk(b"keys");
    let k = s.describe_keys();
    c.bulk(&k);
    c.bulk(b"channels");
    let ch = s.describe_channels();
    c.bulk(&ch);
}

fn acl_getuser(c: &mut Ctx) -> CmdResult {
    let Some(u) = c.eng.acl().user(&c.args[2]).cloned() else {
        c.null();
        return Ok(());
    };
    c.map(6);
    c.bulk(b"flags");
    let flags = u.flag_names();
    c.set_header(flags.len());
    for f in flags {
        c.bulk(f.as_bytes());
    }
    c.bulk(b"passwords");
    c.array(u.passwords().len());
    for p in u.passwords() {
        c.bulk(p.as_bytes());
    }
    let sels = u.selectors();
    selector_fields(c, &sels[0]);
    c.bulk(b"selectors");
    c.array(sels.len() - 1);
    for s in &sels[1..] {
        c.map(3);
        selector_fields(c, s);
    }
    Ok(())
}

fn acl_list(c: &mut Ctx) -> CmdResult {
    let lines: Vec<Vec<u8>> = c
        .eng
        .acl()
        .users()
        .map(|u| {
            let mut v = b"user ".to_vec();
            v.extend_from_slice(u.name());
            v.push(b' ');
            v.extend_from_slice(&u.describe(catalog()));
            v
        })
        .collect();
    c.array(lines.len());
    for l in lines {
        c.bulk(&l);
    }
    Ok(())
}

fn acl_users(c: &mut Ctx) -> CmdResult {
    let names: Vec<Vec<u8>> = c.eng.acl().users().map(|u| u.name().to_vec()).collect();
    c.array(names.len());
    for n in names {
        c.bulk(&n);
    }
    Ok(())
}

fn acl_whoami(c: &mut Ctx) -> CmdResult {
    let u = c.cl.user.clone();
    c.bulk(&u);
    Ok(())
}

const NO_ACL_FILE: &str = "ERR This Redis instance is not configured to use an ACL file. You may want to specify users via the ACL SETUSER command and then issue a CONFIG REWRITE (assuming you have a Redis configuration file set) in order to store users in the Redis configuration.";

fn acl_load(c: &mut Ctx) -> CmdResult {
    let path = c.eng.cfg().str(P::aclfile).to_string();
    if path.is_empty() {
        return Err(NO_ACL_FILE.into());
    }
    let users = read_acl_file(c.eng, &path).map_err(|e| CmdError::msg(format!("ERR {e}")))?;
    let gone = install_users(c.eng, users);
    release_current(c.cl, &gone);
    c.ok();
    Ok(())
}

fn acl_save(c: &mut Ctx) -> CmdResult {
    let path = c.eng.cfg().str(P::aclfile).to_string();
    if path.is_empty() {
        return Err(NO_ACL_FILE.into());
    }
    let mut text = Vec::new();
    for u in c.eng.acl().users() {
        text.extend_from_slice(b"user ");
        text.extend_from_slice(u.name());
        text.push(b' ');
        text.extend_from_slice(&u.describe(catalog()));
        text.push(b'\n');
    }
    let tmp = format!(
        "{path}.tmp-{}-{}",
        std::process::id(),
        crate::clock::now_ms()
    );
    let res = std::fs::write(&tmp, &text).and_then(|_| std::fs::rename(&tmp, &path));
    if let Err(e) = res {
        let _ = std::fs::remove_file(&tmp);
        tracing::warn!("Writing ACL file for ACL SAVE: {}", strerror(&e));
        return Err("ERR There was an error trying to save the ACLs. Please check the server logs for more information".into());
    }
    c.ok();
    Ok(())
}

fn acl_cat(c: &mut Ctx) -> CmdResult {
    match c.args.len() {
        2 => {
            c.array(acl::CATEGORIES.len());
            for (n, _) in acl::CATEGORIES {
                c.bulk(n.as_bytes());
            }
        }
        3 => {
            let Some(flag) = acl::category(&c.args[2]) else {
                let n = String::from_utf8_lossy(&c.args[2]);
                let n: String = n.chars().take(128).collect();
                return Err(CmdError::msg(format!("ERR Unknown category '{n}'")));
            };
            let names = catalog().in_category(flag);
            c.array(names.len());
            for n in names {
                c.bulk(n.as_bytes());
            }
        }
        _ => return Err(subcommand_syntax(c)),
    }
    Ok(())
}

fn acl_genpass(c: &mut Ctx) -> CmdResult {
    if c.args.len() > 3 {
        return Err(subcommand_syntax(c));
    }
    let mut bits = 256;
    if let Some(a) = c.args.get(2) {
        bits = super::parse_int(a)?;
    }
    if bits <= 0 || bits > 4096 {
        return Err("ERR ACL GENPASS argument must be the number of bits for the output password, a positive number up to 4096".into());
    }
    let chars = ((bits + 3) / 4) as usize;
    let mut rng = rand::thread_rng();
    let hex: Vec<u8> = (0..chars)
        .map(|_| b"0123456789abcdef"[rand::Rng::gen_range(&mut rng, 0..16)])
        .collect();
    c.bulk(&hex);
    Ok(())
}

fn acl_log(c: &mut Ctx) -> CmdResult {
    if c.args.len() > 3 {
        return Err(subcommand_syntax(c));
    }
    let mut count = 10i64;
    if let Some(a) = c.args.get(2) {
        if eq(a, "reset") {
            c.eng.acl_mut().log_reset();
            c.ok();
            return Ok(());
        }
        count = super::parse_int(a)?.max(0);
    }
    let now = crate::clock::now_ms();
    let entries: Vec<LogEntry> = c
        .eng
        .acl()
        .log()
        .iter()
        .take(count as usize)
        .cloned()
        .collect();
    c.array(entries.len());
    for e in entries {
        c.map(7);
        c.bulk(b"count");
        c.int(e.count as i64);
        c.bulk(b"reason");
        c.bulk(e.reason.reason().as_bytes());
        c.bulk(b"context");
        c.bulk(e.context.as_bytes());
        c.bulk(b"object");
        c.bulk(&e.object);
        c.bulk(b"username");
        c.bulk(&e.username);
        c.bulk(b"age-seconds");
        c.double((now - e.ctime) as f64 / 1000.0);
        c.bulk(b"client-info");
        c.bulk(e.cinfo.as_bytes());
    }
    Ok(())
}

fn acl_dryrun(c: &mut Ctx) -> CmdResult {
    let Some(u) = c.eng.acl().user(&c.args[2]).cloned() else {
        return Err(CmdError::msg(format!(
            "ERR User '{}' not found",
            cstr(&c.args[2])
        )));
    };
    let args: Vec<Bytes> = c.args[3..].to_vec();
    let not_found = || CmdError::msg(format!("ERR Command '{}' not found", cstr(&args[0])));
    let mut spec = super::lookup(&args[0]).ok_or_else(not_found)?;
    let mut parent = None;
    if !spec.subs.is_empty() && args.len() > 1 {
        parent = Some(spec);
        spec = super::lookup_sub(spec, &args[1]).ok_or_else(not_found)?;
    }
    let argc = args.len() as i32;
    if (spec.arity > 0 && spec.arity != argc) || argc < -spec.arity {
        return Err(CmdError::msg(format!(
            "ERR wrong number of arguments for '{}' command",
            full_name(parent, spec)
        )));
    }
    match check_user(&u, spec, parent, &args) {
        Ok(()) => c.ok(),
        Err((d, pos)) => {
            let arg = args.get(pos).map(|a| cstr(a)).unwrap_or_default();
            let msg = match d {
                Denied::Command => format!(
                    "This user has no permissions to run the '{}' command",
                    acl_name(spec, parent)
                ),
                Denied::Key => format!("This user has no permissions to access the '{arg}' key"),
                _ => format!("This user has no permissions to access the '{arg}' channel"),
            };
            c.bulk(msg.as_bytes());
        }
    }
    Ok(())
}

fn acl_help(c: &mut Ctx) -> CmdResult {
    super::keys::help_reply(
        c,
        "ACL",
        &[
            "CAT [<category>]",
            "    List all commands that belong to <category>, or all command categories",
            "    when no category is specified.",
            "DELUSER <username> [<username> ...]",
            "    Delete a list of users.",
            "DRYRUN <username> <command> [<arg> ...]",
            "    Returns whether the user can execute the given command without executing the command.",
            "GETUSER <username>",
            "    Get the user's details.",
            "GENPASS [<bits>]",
            "    Generate a secure 256-bit user password. The optional `bits` argument can",
            "    be used to specify a different size.",
            "LIST",
            "    Show users details in config file format.",
            "LOAD",
            "    Reload users from the ACL file.",
            "LOG [<count> | RESET]",
            "    Show the ACL log entries.",
            "SAVE",
            "    Save the current config to the ACL file.",
            "SETUSER <username> <attribute> [<attribute> ...]",
            "    Create or modify a user with the specified attributes.",
            "USERS",
            "    List all the registered usernames.",
            "WHOAMI",
            "    Return the current connection username.",
        ],
    );
    Ok(())
}
