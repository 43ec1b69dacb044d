//! The replica's handshake with its master, as a pure state machine: Redis
//! 7.0's `syncWithMaster` and `slaveTryPartialResynchronization` from
//! connect to the PSYNC reply, with the socket left to the caller.
//!
//! # Lifecycle
//!
//! The states carry Redis's `REPL_STATE_*` names. The caller connects, then
//! calls [`Handshake::start`] and sends the PING it returns. From then on
//! it reads one reply line, feeds it to [`Handshake::on_reply`], and does
//! what the [`Step`] says: send the next command, read another line, or
//! stop with an [`Outcome`].
//!
//! ```text
//! CONNECTING --start: PING--> RECEIVE_PING_REPLY
//!   --+PONG / -NOAUTH / -NOPERM / -ERR operation not permitted-->
//! [RECEIVE_AUTH_REPLY]       only with masterauth: AUTH [user] pass
//! RECEIVE_PORT_REPLY         REPLCONF listening-port <port>
//! [RECEIVE_IP_REPLY]         only with replica-announce-ip
//! RECEIVE_CAPA_REPLY         REPLCONF capa eof capa psync2
//! RECEIVE_PSYNC_REPLY        PSYNC <cached id> <offset+1> | PSYNC ? -1
//!                            (then FAILOVER during a failover)
//!   --+FULLRESYNC id off--> TRANSFER   (the caller receives the RDB)
//!   --+CONTINUE [id]------> CONNECTED  (the caller streams)
//!   --anything else-------> CONNECT    (the caller retries later)
//! ```
//!
//! A PING error other than the authentication ones, or an AUTH error, ends
//! the handshake in CONNECT too. REPLCONF errors are only logged: not all
//! masters know every REPLCONF option. As Redis 7.0 (REPL_STATE_SEND_HANDSHAKE),
//! AUTH and the REPLCONFs go out together once PING is answered, and their
//! replies are then read one by one: one round trip instead of four.
//!
//! The machine also keeps Redis's NOTICE log lines (the caller drains them
//! with [`Handshake::take_logs`] after each step); the reason a handshake
//! failed is in the [`Outcome`], for the caller to log when it gives up on
//! the session.

/// What the handshake needs to know, read from the configuration and the
/// link when the session starts.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Config {
    /// `masterauth`, with `masteruser` when set: `(user, password)`.
    pub auth: Option<(Option<String>, String)>,
    /// The port we announce (`replica-announce-port`, else `port`).
    pub port: u16,
    /// `replica-announce-ip`, when set.
    pub announce_ip: Option<String>,
    /// The history to continue (Redis's cached master): its replication id
    /// and the offset of the last byte we have.
    pub cached: Option<(String, i64)>,
    /// We are the old master of a FAILOVER in progress: PSYNC asks the
    /// target to take over.
    pub failing_over: bool,
}

/// Redis's `REPL_STATE_*`, as far as the handshake goes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum State {
    /// REPL_STATE_CONNECTING: connected, nothing sent yet.
    Connecting,
    /// REPL_STATE_RECEIVE_PING_REPLY.
    ReceivePingReply,
    /// REPL_STATE_RECEIVE_AUTH_REPLY.
    ReceiveAuthReply,
    /// REPL_STATE_RECEIVE_PORT_REPLY.
    ReceivePortReply,
    /// REPL_STATE_RECEIVE_IP_REPLY.
    ReceiveIpReply,
    /// REPL_STATE_RECEIVE_CAPA_REPLY.
    ReceiveCapaReply,
    /// REPL_STATE_RECEIVE_PSYNC_REPLY.
    ReceivePsyncReply,
    /// REPL_STATE_TRANSFER (terminal here): the master sends an RDB.
    Transfer,
    /// REPL_STATE_CONNECTED (terminal here): partial resync accepted.
    Connected,
    /// REPL_STATE_CONNECT (terminal here): the handshake failed; connect
    /// again later.
    Connect,
}

/// What to do after a reply.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Step {
    /// Send these commands (each its arguments) in one write, then read
    /// the reply to the first.
    Send(Vec<Vec<Vec<u8>>>),
    /// Send nothing, read the next line (the master's keep-alive newline
    /// while it prepares the PSYNC reply).
    Wait,
    /// The handshake is over.
    Done {
        /// How it ended.
        outcome: Outcome,
        /// During a failover, whether the target took over (Redis's
        /// clearFailoverState) or refused (abortFailover); `None` when no
        /// failover is in progress or the PSYNC reply was never read.
        failover: Option<Failover>,
    },
}

/// How the handshake ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// +FULLRESYNC: the master sends its RDB, then its stream from
    /// `offset`, for history `replid`.
    FullResync {
        /// The master's replication id.
        replid: String,
        /// The master's offset at the RDB.
        offset: i64,
    },
    /// +CONTINUE: the master streams from our offset. `new_replid` is the
    /// id a psync2 master announced, if any (it may equal ours).
    Continue {
        /// The master's replication id, when it sent one.
        new_replid: Option<String>,
    },
    /// The master cannot serve a PSYNC now (-NOMASTERLINK, -LOADING) but
    /// should later: log the message and retry.
    Retry(String),
    /// The handshake failed: log the message and retry later.
    Fail(String),
}

/// The failover target's answer to PSYNC ... FAILOVER.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Failover {
    /// +CONTINUE or +FULLRESYNC: the target is the master now.
    Accepted,
    /// Anything else.
    Rejected,
}

/// The handshake of one connection; see the module docs.
#[derive(Debug)]
pub struct Handshake {
    cfg: Config,
    state: State,
    logs: Vec<String>,
}

/// The length of a replication id (Redis's CONFIG_RUN_ID_SIZE).
const REPLID_LEN: usize = 40;

fn args(parts: &[&[u8]]) -> Vec<Vec<u8>> {
    parts.iter().map(|p| p.to_vec()).collect()
}

impl Handshake {
    /// A handshake in CONNECTING.
    pub fn new(cfg: Config) -> Handshake {
        Handshake {
            cfg,
            state: State::Connecting,
            logs: Vec::new(),
        }
    }

    /// The current state.
    pub fn state(&self) -> State {
        self.state
    }

    /// The log lines produced since the last call, oldest first.
    pub fn take_logs(&mut self) -> Vec<String> {
        std::mem::take(&mut self.logs)
    }

    /// The connection is up: the first command to send (PING). Calling it
    /// again starts over.
    pub fn start(&mut self) -> Vec<Vec<u8>> {
        self.state = State::ReceivePingReply;
        args(&[b"PING"])
    }

    /// Feed one reply line (without its CRLF).
    pub fn on_reply(&mut self, line: &str) -> Step {
        match self.state {
            State::ReceivePingReply => {
                // A +PONG, or an authentication error (older Redis said
                // "operation not permitted"): AUTH comes next.
                if !line.starts_with('+')
                    && !line.starts_with("-NOAUTH")
                    && !line.starts_with("-NOPERM")
                    && !line.starts_with("-ERR operation not permitted")
                {
                    return self.fail(format!("Error reply to PING from master: '{line}'"));
                }
                self.log("Master replied to PING, replication can continue...".into());
                self.send_handshake()
            }
            State::ReceiveAuthReply => {
                if line.starts_with('-') {
                    return self.fail(format!("Unable to AUTH to MASTER: {line}"));
                }
                self.state = State::ReceivePortReply;
                Step::Wait
            }
            State::ReceivePortReply => {
                self.non_critical("listening-port", line);
                self.state = if self.cfg.announce_ip.is_some() {
                    State::ReceiveIpReply
                } else {
                    State::ReceiveCapaReply
                };
                Step::Wait
            }
            State::ReceiveIpReply => {
                self.non_critical("ip-address", line);
                self.state = State::ReceiveCapaReply;
                Step::Wait
            }
            State::ReceiveCapaReply => {
                self.non_critical("capa", line);
                self.send_psync()
            }
            State::ReceivePsyncReply => self.psync_reply(line),
            State::Connecting | State::Transfer | State::Connected | State::Connect => {
                let state = self.state;
                self.fail(format!(
                    "syncWithMaster(): state machine error, no reply expected in state {state:?}: {line}"
                ))
            }
        }
    }

    fn log(&mut self, line: String) {
        self.logs.push(line);
    }

    fn fail(&mut self, why: String) -> Step {
        self.state = State::Connect;
        Step::Done {
            outcome: Outcome::Fail(why),
            failover: None,
        }
    }

    fn non_critical(&mut self, what: &str, line: &str) {
        if line.starts_with('-') {
            self.log(format!(
                "(Non critical) Master does not understand REPLCONF {what}: {line}"
            ));
        }
    }

    /// AUTH (when configured), REPLCONF listening-port, ip-address (when
    /// announced) and capa, in one write; the first reply awaited is
    /// AUTH's, or the port's.
    fn send_handshake(&mut self) -> Step {
        let mut cmds = Vec::new();
        self.state = State::ReceivePortReply;
        if let Some((user, pass)) = &self.cfg.auth {
            let mut cmd = args(&[b"AUTH"]);
            if let Some(user) = user {
                cmd.push(user.as_bytes().to_vec());
            }
            cmd.push(pass.as_bytes().to_vec());
            cmds.push(cmd);
            self.state = State::ReceiveAuthReply;
        }
        let port = self.cfg.port.to_string();
        cmds.push(args(&[b"REPLCONF", b"listening-port", port.as_bytes()]));
        if let Some(ip) = &self.cfg.announce_ip {
            cmds.push(args(&[b"REPLCONF", b"ip-address", ip.as_bytes()]));
        }
        cmds.push(args(&[b"REPLCONF", b"capa", b"eof", b"capa", b"psync2"]));
        Step::Send(cmds)
    }

    fn send_psync(&mut self) -> Step {
        self.state = State::ReceivePsyncReply;
        let (id, off) = match &self.cfg.cached {
            Some((id, off)) => {
                let next = off.saturating_add(1).to_string();
                let line = format!("Trying a partial resynchronization (request {id}:{next}).");
                self.logs.push(line);
                (id.clone(), next)
            }
            None => {
                self.log("Partial resynchronization not possible (no cached master)".into());
                ("?".to_string(), "-1".to_string())
            }
        };
        let mut cmd = args(&[b"PSYNC", id.as_bytes(), off.as_bytes()]);
        if self.cfg.failing_over {
            cmd.push(b"FAILOVER".to_vec());
        }
        Step::Send(vec![cmd])
    }

    fn psync_reply(&mut self, line: &str) -> Step {
        if line.is_empty() {
            // Redis's PSYNC_WAIT_REPLY: a keep-alive newline.
            return Step::Wait;
        }
        let accepted = line.starts_with("+FULLRESYNC") || line.starts_with("+CONTINUE");
        let failover = self.cfg.failing_over.then_some(if accepted {
            Failover::Accepted
        } else {
            Failover::Rejected
        });
        let (state, outcome) = if failover == Some(Failover::Rejected) {
            (
                State::Connect,
                Outcome::Fail(format!("Failover target rejected psync request: {line}")),
            )
        } else {
            self.interpret_psync_reply(line)
        };
        self.state = state;
        Step::Done { outcome, failover }
    }

    fn interpret_psync_reply(&mut self, line: &str) -> (State, Outcome) {
        if let Some(rest) = line.strip_prefix("+FULLRESYNC") {
            // "+FULLRESYNC <40-char id> <offset>"
            let mut parts = rest.strip_prefix(' ').unwrap_or_default().splitn(2, ' ');
            let id = parts.next().filter(|id| id.len() == REPLID_LEN);
            let off = parts
                .next()
                .and_then(|o| o.split_whitespace().next())
                .and_then(|o| o.parse::<i64>().ok());
            let (Some(id), Some(off)) = (id, off) else {
                return (
                    State::Connect,
                    Outcome::Fail(format!(
                        "Master replied with wrong +FULLRESYNC syntax: {line}"
                    )),
                );
            };
            self.log(format!("Full resync from master: {id}:{off}"));
            let replid = id.to_string();
            return (
                State::Transfer,
                Outcome::FullResync {
                    replid,
                    offset: off,
                },
            );
        }
        if let Some(rest) = line.strip_prefix("+CONTINUE") {
            self.log("Successful partial resynchronization with master.".into());
            // "+CONTINUE <40-char id>" from a psync2 master; any other
            // tail is ignored, as Redis does.
            let new_replid = rest
                .strip_prefix(' ')
                .filter(|id| id.len() == REPLID_LEN)
                .map(str::to_string);
            return (State::Connected, Outcome::Continue { new_replid });
        }
        let outcome = if line.starts_with("-NOMASTERLINK") || line.starts_with("-LOADING") {
            Outcome::Retry(format!(
                "Master is currently unable to PSYNC but should be in the future: {line}"
            ))
        } else if line.starts_with("-ERR") {
            Outcome::Fail(format!(
                "Master does not support PSYNC or is in error state (reply: {line})"
            ))
        } else {
            Outcome::Fail(format!("Unexpected reply to PSYNC from master: {line}"))
        };
        (State::Connect, outcome)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ID: &str = "0123456789abcdef0123456789abcdef01234567";
    const ID2: &str = "fedcba9876543210fedcba9876543210fedcba98";

    fn cfg() -> Config {
        Config {
            port: 6380,
            ..Config::default()
        }
    }

    fn cmd(s: &str) -> Vec<Vec<u8>> {
        s.split(' ').map(|w| w.as_bytes().to_vec()).collect()
    }

    fn text(c: &[Vec<u8>]) -> String {
        c.iter()
            .map(|a| String::from_utf8_lossy(a).into_owned())
            .collect::<Vec<_>>()
            .join(" ")
    }

    /// What a simulated link saw: the commands sent, the log lines, and
    /// how the handshake ended.
    struct Run {
        sent: Vec<String>,
        logs: Vec<String>,
        outcome: Outcome,
        failover: Option<Failover>,
        state: State,
    }

    /// Drive a handshake against a simulated master that answers each
    /// command with `master(command)`, as the link task does over a socket.
    fn drive(cfg: Config, mut master: impl FnMut(&str) -> String) -> Run {
        let mut hs = Handshake::new(cfg);
        assert_eq!(hs.state(), State::Connecting);
        let mut sent = Vec::new();
        let mut logs = Vec::new();
        let mut next = Some(vec![hs.start()]);
        assert_eq!(hs.state(), State::ReceivePingReply);
        // Replies to pipelined commands wait in order, as on a socket.
        let mut replies = std::collections::VecDeque::new();
        for _ in 0..20 {
            for c in next.take().unwrap_or_default() {
                let c = text(&c);
                replies.push_back(master(&c));
                sent.push(c);
            }
            let reply = replies.pop_front().unwrap_or_else(|| master(""));
            let step = hs.on_reply(&reply);
            logs.extend(hs.take_logs());
            match step {
                Step::Send(c) => next = Some(c),
                Step::Wait => {}
                Step::Done { outcome, failover } => {
                    return Run {
                        sent,
                        logs,
                        outcome,
                        failover,
                        state: hs.state(),
                    }
                }
            }
        }
        panic!("handshake did not end: {sent:?}");
    }

    /// A master that accepts everything and answers PSYNC with `psync`.
    fn master(psync: &str) -> impl FnMut(&str) -> String + '_ {
        move |c: &str| {
            if c.starts_with("PING") {
                "+PONG".into()
            } else if c.starts_with("PSYNC") {
                psync.into()
            } else {
                "+OK".into()
            }
        }
    }

    fn full(offset: i64) -> Outcome {
        Outcome::FullResync {
            replid: ID.into(),
            offset,
        }
    }

    const PING_OK: &str = "Master replied to PING, replication can continue...";
    const NO_CACHE: &str = "Partial resynchronization not possible (no cached master)";

    #[test]
    fn plain_handshake_without_auth_ip_or_cache() {
        let r = drive(cfg(), master(&format!("+FULLRESYNC {ID} 100")));
        assert_eq!(
            r.sent,
            [
                "PING",
                "REPLCONF listening-port 6380",
                "REPLCONF capa eof capa psync2",
                "PSYNC ? -1",
            ]
        );
        assert_eq!(
            r.logs,
            [
                PING_OK.to_string(),
                NO_CACHE.to_string(),
                format!("Full resync from master: {ID}:100"),
            ]
        );
        assert_eq!(r.outcome, full(100));
        assert_eq!(r.failover, None);
        assert_eq!(r.state, State::Transfer);
    }

    #[test]
    fn step_by_step_states_and_exact_args() {
        let mut hs = Handshake::new(Config {
            auth: Some((Some("u".into()), "p".into())),
            port: 7000,
            announce_ip: Some("10.0.0.1".into()),
            cached: Some((ID.into(), 41)),
            failing_over: false,
        });
        assert_eq!(hs.start(), cmd("PING"));
        // One write after PONG, as Redis 7.0's REPL_STATE_SEND_HANDSHAKE.
        assert_eq!(
            hs.on_reply("+PONG"),
            Step::Send(vec![
                cmd("AUTH u p"),
                cmd("REPLCONF listening-port 7000"),
                cmd("REPLCONF ip-address 10.0.0.1"),
                cmd("REPLCONF capa eof capa psync2"),
            ])
        );
        assert_eq!(hs.state(), State::ReceiveAuthReply);
        assert_eq!(hs.on_reply("+OK"), Step::Wait);
        assert_eq!(hs.state(), State::ReceivePortReply);
        assert_eq!(hs.on_reply("+OK"), Step::Wait);
        assert_eq!(hs.state(), State::ReceiveIpReply);
        assert_eq!(hs.on_reply("+OK"), Step::Wait);
        assert_eq!(hs.state(), State::ReceiveCapaReply);
        assert_eq!(
            hs.on_reply("+OK"),
            Step::Send(vec![cmd(&format!("PSYNC {ID} 42"))])
        );
        assert_eq!(hs.state(), State::ReceivePsyncReply);
        assert_eq!(
            hs.on_reply(&format!("+CONTINUE {ID2}")),
            Step::Done {
                outcome: Outcome::Continue {
                    new_replid: Some(ID2.into())
                },
                failover: None,
            }
        );
        assert_eq!(hs.state(), State::Connected);
        assert_eq!(
            hs.take_logs(),
            [
                PING_OK.to_string(),
                format!("Trying a partial resynchronization (request {ID}:42)."),
                "Successful partial resynchronization with master.".to_string(),
            ]
        );
        assert!(hs.take_logs().is_empty());
    }

    #[test]
    fn auth_without_user_sends_the_password_only() {
        let r = drive(
            Config {
                auth: Some((None, "secret".into())),
                ..cfg()
            },
            master(&format!("+FULLRESYNC {ID} 0")),
        );
        assert_eq!(
            &r.sent[..3],
            ["PING", "AUTH secret", "REPLCONF listening-port 6380"]
        );
        assert_eq!(r.outcome, full(0));
    }

    #[test]
    fn auth_with_user_sends_user_and_password() {
        let r = drive(
            Config {
                auth: Some((Some("repl".into()), "secret".into())),
                ..cfg()
            },
            master(&format!("+FULLRESYNC {ID} 0")),
        );
        assert_eq!(
            &r.sent[..3],
            ["PING", "AUTH repl secret", "REPLCONF listening-port 6380"]
        );
        assert_eq!(r.outcome, full(0));
    }

    #[test]
    fn ping_authentication_errors_let_the_handshake_continue() {
        for err in [
            "-NOAUTH Authentication required.",
            "-NOPERM this user has no permissions to run the 'ping' command",
            "-ERR operation not permitted",
        ] {
            let psync = format!("+FULLRESYNC {ID} 7");
            let r = drive(
                Config {
                    auth: Some((None, "pw".into())),
                    ..cfg()
                },
                |c| {
                    if c == "PING" {
                        err.to_string()
                    } else {
                        master(&psync)(c)
                    }
                },
            );
            assert_eq!(&r.sent[..2], ["PING", "AUTH pw"], "{err}");
            assert_eq!(r.logs[0], PING_OK, "{err}");
            assert_eq!(r.outcome, full(7), "{err}");
        }
    }

    #[test]
    fn other_ping_replies_fail() {
        for reply in ["-ERR unknown command 'PING'", "-LOADING loading", ":1", ""] {
            let r = drive(cfg(), |_| reply.to_string());
            assert_eq!(r.sent, ["PING"]);
            assert!(r.logs.is_empty(), "{reply}: {:?}", r.logs);
            assert_eq!(
                r.outcome,
                Outcome::Fail(format!("Error reply to PING from master: '{reply}'"))
            );
            assert_eq!(r.state, State::Connect);
            assert_eq!(r.failover, None);
        }
    }

    #[test]
    fn auth_error_fails() {
        let r = drive(
            Config {
                auth: Some((Some("u".into()), "bad".into())),
                ..cfg()
            },
            |c| {
                if c == "PING" {
                    "-NOAUTH Authentication required.".into()
                } else {
                    "-WRONGPASS invalid username-password pair or user is disabled.".into()
                }
            },
        );
        // The REPLCONFs went out with AUTH (one write, as Redis 7.0); the
        // AUTH error ends it before their replies matter.
        assert_eq!(
            r.sent,
            [
                "PING",
                "AUTH u bad",
                "REPLCONF listening-port 6380",
                "REPLCONF capa eof capa psync2"
            ]
        );
        assert_eq!(
            r.outcome,
            Outcome::Fail(
                "Unable to AUTH to MASTER: -WRONGPASS invalid username-password pair or user is disabled."
                    .into()
            )
        );
        assert_eq!(r.state, State::Connect);
    }

    #[test]
    fn replconf_errors_are_logged_and_not_critical() {
        let psync = format!("+FULLRESYNC {ID} 5");
        let r = drive(
            Config {
                announce_ip: Some("192.168.1.9".into()),
                ..cfg()
            },
            |c| {
                if c.starts_with("REPLCONF") {
                    "-ERR unknown command 'REPLCONF'".into()
                } else {
                    master(&psync)(c)
                }
            },
        );
        assert_eq!(
            r.sent,
            [
                "PING",
                "REPLCONF listening-port 6380",
                "REPLCONF ip-address 192.168.1.9",
                "REPLCONF capa eof capa psync2",
                "PSYNC ? -1",
            ]
        );
        assert_eq!(
            r.logs,
            [
                PING_OK.to_string(),
                "(Non critical) Master does not understand REPLCONF listening-port: -ERR unknown command 'REPLCONF'".to_string(),
                "(Non critical) Master does not understand REPLCONF ip-address: -ERR unknown command 'REPLCONF'".to_string(),
                "(Non critical) Master does not understand REPLCONF capa: -ERR unknown command 'REPLCONF'".to_string(),
                NO_CACHE.to_string(),
                format!("Full resync from master: {ID}:5"),
            ]
        );
        assert_eq!(r.outcome, full(5));
    }

    #[test]
    fn announce_ip_only_when_set() {
        let psync = format!("+FULLRESYNC {ID} 1");
        let with = drive(
            Config {
                announce_ip: Some("10.1.2.3".into()),
                ..cfg()
            },
            master(&psync),
        );
        assert_eq!(
            &with.sent[1..4],
            [
                "REPLCONF listening-port 6380",
                "REPLCONF ip-address 10.1.2.3",
                "REPLCONF capa eof capa psync2",
            ]
        );
        let without = drive(cfg(), master(&psync));
        assert!(without.sent.iter().all(|c| !c.contains("ip-address")));
    }

    #[test]
    fn cached_master_asks_for_the_next_offset() {
        let r = drive(
            Config {
                cached: Some((ID2.into(), 1234)),
                ..cfg()
            },
            master("+CONTINUE"),
        );
        assert_eq!(r.sent[3], format!("PSYNC {ID2} 1235"));
        assert_eq!(
            r.logs,
            [
                PING_OK.to_string(),
                format!("Trying a partial resynchronization (request {ID2}:1235)."),
                "Successful partial resynchronization with master.".to_string(),
            ]
        );
        assert_eq!(r.outcome, Outcome::Continue { new_replid: None });
        assert_eq!(r.state, State::Connected);
    }

    #[test]
    fn cached_offset_at_the_limit_does_not_overflow() {
        let r = drive(
            Config {
                cached: Some((ID.into(), i64::MAX)),
                ..cfg()
            },
            master("+CONTINUE"),
        );
        assert_eq!(r.sent[3], format!("PSYNC {ID} {}", i64::MAX));
    }

    #[test]
    fn failover_adds_the_failover_argument() {
        let r = drive(
            Config {
                failing_over: true,
                ..cfg()
            },
            master("+CONTINUE"),
        );
        assert_eq!(r.sent[3], "PSYNC ? -1 FAILOVER");
        let r = drive(
            Config {
                failing_over: true,
                cached: Some((ID.into(), 9)),
                ..cfg()
            },
            master("+CONTINUE"),
        );
        assert_eq!(r.sent[3], format!("PSYNC {ID} 10 FAILOVER"));
    }

    #[test]
    fn fullresync_with_bad_syntax_fails() {
        for reply in [
            "+FULLRESYNC".to_string(),
            format!("+FULLRESYNC {ID}"),
            format!("+FULLRESYNC {ID} "),
            format!("+FULLRESYNC {ID} abc"),
            "+FULLRESYNC shortid 100".to_string(),
            format!("+FULLRESYNC {ID}0 100"),
            format!("+FULLRESYNC  {ID} 100"),
        ] {
            let r = drive(cfg(), master(&reply));
            assert_eq!(
                r.outcome,
                Outcome::Fail(format!(
                    "Master replied with wrong +FULLRESYNC syntax: {reply}"
                )),
                "{reply}"
            );
            assert_eq!(r.logs, [PING_OK, NO_CACHE], "{reply}");
            assert_eq!(r.state, State::Connect);
        }
    }

    #[test]
    fn fullresync_ignores_a_trailing_word() {
        let r = drive(cfg(), master(&format!("+FULLRESYNC {ID} -1 extra")));
        assert_eq!(r.outcome, full(-1));
    }

    #[test]
    fn continue_with_and_without_a_new_id() {
        let r = drive(cfg(), master(&format!("+CONTINUE {ID2}")));
        assert_eq!(
            r.outcome,
            Outcome::Continue {
                new_replid: Some(ID2.into())
            }
        );
        for reply in ["+CONTINUE", "+CONTINUE ", "+CONTINUE abc"] {
            let r = drive(cfg(), master(reply));
            assert_eq!(r.outcome, Outcome::Continue { new_replid: None }, "{reply}");
            assert_eq!(
                r.logs.last().map(String::as_str),
                Some("Successful partial resynchronization with master.")
            );
        }
    }

    #[test]
    fn nomasterlink_and_loading_are_retried() {
        for reply in [
            "-NOMASTERLINK Can't SYNC while not connected with my master",
            "-LOADING Redis is loading the dataset in memory",
        ] {
            let r = drive(cfg(), master(reply));
            assert_eq!(
                r.outcome,
                Outcome::Retry(format!(
                    "Master is currently unable to PSYNC but should be in the future: {reply}"
                ))
            );
            assert_eq!(r.state, State::Connect);
            assert_eq!(r.failover, None);
        }
    }

    #[test]
    fn psync_errors_and_unexpected_replies_fail() {
        let r = drive(cfg(), master("-ERR unknown command 'PSYNC'"));
        assert_eq!(
            r.outcome,
            Outcome::Fail(
                "Master does not support PSYNC or is in error state (reply: -ERR unknown command 'PSYNC')"
                    .into()
            )
        );
        for reply in ["+OK", "-BUSY script", "$5"] {
            let r = drive(cfg(), master(reply));
            assert_eq!(
                r.outcome,
                Outcome::Fail(format!("Unexpected reply to PSYNC from master: {reply}"))
            );
            assert_eq!(r.state, State::Connect);
        }
    }

    #[test]
    fn keepalive_newlines_before_the_psync_reply_are_skipped() {
        let mut replies = vec![format!("+CONTINUE {ID}"), String::new(), String::new()];
        let r = drive(cfg(), |c| {
            if c.starts_with("PSYNC") || c.is_empty() {
                replies.pop().unwrap_or_default()
            } else {
                master("")(c)
            }
        });
        assert_eq!(r.sent.len(), 4);
        assert_eq!(
            r.outcome,
            Outcome::Continue {
                new_replid: Some(ID.into())
            }
        );
    }

    #[test]
    fn failover_target_accepts_with_continue_or_fullresync() {
        let on = Config {
            failing_over: true,
            ..cfg()
        };
        let r = drive(on.clone(), master("+CONTINUE"));
        assert_eq!(r.failover, Some(Failover::Accepted));
        assert_eq!(r.outcome, Outcome::Continue { new_replid: None });
        let r = drive(on.clone(), master(&format!("+FULLRESYNC {ID} 3")));
        assert_eq!(r.failover, Some(Failover::Accepted));
        assert_eq!(r.outcome, full(3));
        // A malformed +FULLRESYNC still means the target took over (Redis
        // clears the failover), though this session fails.
        let r = drive(on, master("+FULLRESYNC x"));
        assert_eq!(r.failover, Some(Failover::Accepted));
        assert_eq!(
            r.outcome,
            Outcome::Fail("Master replied with wrong +FULLRESYNC syntax: +FULLRESYNC x".into())
        );
    }

    #[test]
    fn failover_target_rejects_with_anything_else() {
        for reply in [
            "-NOMASTERLINK Can't SYNC while not connected with my master",
            "-LOADING Redis is loading the dataset in memory",
            "-ERR unknown command",
            "+OK",
        ] {
            let r = drive(
                Config {
                    failing_over: true,
                    ..cfg()
                },
                master(reply),
            );
            assert_eq!(r.failover, Some(Failover::Rejected), "{reply}");
            assert_eq!(
                r.outcome,
                Outcome::Fail(format!("Failover target rejected psync request: {reply}"))
            );
            assert_eq!(r.logs, [PING_OK, NO_CACHE]);
            assert_eq!(r.state, State::Connect);
        }
    }

    #[test]
    fn no_failover_verdict_before_the_psync_reply() {
        let r = drive(
            Config {
                failing_over: true,
                ..cfg()
            },
            |_| "-ERR nope".into(),
        );
        assert_eq!(r.failover, None);
        assert_eq!(
            r.outcome,
            Outcome::Fail("Error reply to PING from master: '-ERR nope'".into())
        );
    }

    #[test]
    fn replies_outside_the_handshake_are_state_machine_errors() {
        let mut hs = Handshake::new(cfg());
        assert_eq!(
            hs.on_reply("+PONG"),
            Step::Done {
                outcome: Outcome::Fail(
                    "syncWithMaster(): state machine error, no reply expected in state Connecting: +PONG"
                        .into()
                ),
                failover: None,
            }
        );
        assert_eq!(hs.state(), State::Connect);
        // Once over, it stays over; start() begins again.
        assert!(matches!(hs.on_reply("+OK"), Step::Done { .. }));
        assert_eq!(hs.start(), cmd("PING"));
        assert_eq!(
            hs.on_reply("+PONG"),
            Step::Send(vec![
                cmd("REPLCONF listening-port 6380"),
                cmd("REPLCONF capa eof capa psync2"),
            ])
        );
    }
}
