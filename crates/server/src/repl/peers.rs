//! The records replication keeps about its peers: each replica attached
//! to us (Redis's SLAVE_STATE_* and what it announced), a FAILOVER in
//! progress, and the link with our own master. Plain data: the
//! transitions live in `master` and `replica`.

use std::path::PathBuf;
use std::sync::Arc;

use crate::client::Outbox;
use crate::persist::pipe::RdbPipe;

/// Redis's SLAVE_STATE_*.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SlaveState {
    /// Waiting for a snapshot it can use.
    WaitBgsaveStart,
    /// A snapshot for it is being taken.
    WaitBgsaveEnd,
    /// Its connection is sending the RDB.
    SendBulk,
    /// Receiving the live stream.
    Online,
}

impl SlaveState {
    /// The name INFO shows.
    pub fn name(self) -> &'static str {
        match self {
            SlaveState::WaitBgsaveStart | SlaveState::WaitBgsaveEnd => "wait_bgsave",
            SlaveState::SendBulk => "send_bulk",
            SlaveState::Online => "online",
        }
    }
}

/// What the connection task sends for a full resync.
#[derive(Clone)]
pub enum Transfer {
    /// The RDB file a disk snapshot wrote.
    File(PathBuf),
    /// A diskless transfer.
    Pipe(Arc<RdbPipe>),
}

/// One attached replica.
pub struct Replica {
    /// Its client id.
    pub id: u64,
    /// Where its stream goes once online.
    pub outbox: Arc<Outbox>,
    /// State.
    pub state: SlaveState,
    /// REPLCONF capa eof.
    pub capa_eof: bool,
    /// REPLCONF capa psync2.
    pub capa_psync2: bool,
    /// Came with SYNC: no +FULLRESYNC line, no ACKs expected.
    pub pre_psync: bool,
    /// Offset its snapshot was taken at.
    pub initial_offset: i64,
    /// The RDB to send, in SendBulk.
    pub transfer: Option<Transfer>,
    /// Waiting for a socket-target snapshot (it set up a pipe).
    pub socket_target: bool,
    /// Last REPLCONF ACK offset.
    pub ack_offset: i64,
    /// When the last ACK (or any traffic) arrived (ms).
    pub ack_time: i64,
    /// When it attached (ms), for the diskless delay.
    pub since: i64,
    /// REPLCONF listening-port.
    pub port: u16,
    /// Its address for INFO (announced ip or peer ip).
    pub ip: String,
    /// REPLCONF rdb-only: it wants the RDB and no stream.
    pub rdb_only: bool,
    /// Online after a diskless transfer, but its reader waits for its
    /// first REPLCONF ACK (Redis's repl_start_cmd_stream_on_ack).
    pub stream_on_ack: bool,
}

impl Replica {
    /// Its state as INFO shows it: a diskless transfer is Redis's
    /// WAIT_BGSAVE_END (the fork child writes to the sockets), so it reads
    /// wait_bgsave, not send_bulk.
    pub fn state_name(&self) -> &'static str {
        match self.state {
            SlaveState::SendBulk if self.socket_target => "wait_bgsave",
            s => s.name(),
        }
    }

    /// Redis's replicationGetSlaveName.
    pub fn name(&self) -> String {
        if self.port > 0 {
            format!("{}:{}", self.ip, self.port)
        } else {
            format!("client id #{}", self.id)
        }
    }
}

/// FAILOVER's state (Redis's failover_state).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FailoverState {
    /// Writes paused, waiting for the target to reach our offset.
    WaitForSync,
    /// We turned into a replica of the target and asked it, with
    /// `PSYNC … FAILOVER`, to become the master.
    InProgress,
}

/// A coordinated failover in progress.
pub struct Failover {
    /// The chosen replica, once known.
    pub target: Option<(String, u16)>,
    /// Deadline (ms), if a TIMEOUT was given.
    pub end: Option<i64>,
    /// FORCE: fail over at the deadline even if not caught up.
    pub force: bool,
    /// State.
    pub state: FailoverState,
}

/// Redis's REPL_STATE_* as ROLE and INFO show them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LinkState {
    /// Must connect (after a failure, or just configured).
    Connect,
    /// Connecting the socket (REPL_STATE_CONNECTING).
    Connecting,
    /// The socket is up; PING … PSYNC in progress (Redis's
    /// slaveIsInHandshakeState, RECEIVE_PING_REPLY … RECEIVE_PSYNC_REPLY):
    /// a diskless master answers PSYNC only when its snapshot starts.
    Handshake,
    /// Receiving the RDB.
    Transfer,
    /// Streaming.
    Connected,
}

impl LinkState {
    /// ROLE's word.
    pub fn role_name(self) -> &'static str {
        match self {
            LinkState::Connect => "connect",
            LinkState::Connecting => "connecting",
            LinkState::Handshake => "handshake",
            LinkState::Transfer => "sync",
            LinkState::Connected => "connected",
        }
    }
}

/// The link with our master.
pub struct Link {
    /// Master host.
    pub host: String,
    /// Master port.
    pub port: u16,
    /// Ties the link task to this REPLICAOF.
    pub generation: u64,
    /// State.
    pub state: LinkState,
    /// Last time we read from the master (ms).
    pub last_io: i64,
    /// When the link went down (s), 0 when never up.
    pub down_since: i64,
    /// The history to PSYNC with: (replid, offset of the last byte we have).
    pub cached: Option<(String, i64)>,
    /// RDB bytes expected (-1 with EOF framing) and read so far.
    pub transfer: (i64, i64),
    /// The MASTER client's id while streaming.
    pub client_id: Option<u64>,
    /// Stream bytes read but not applied yet (held by CLIENT PAUSE):
    /// slave_read_repl_offset is ahead of slave_repl_offset by this much.
    pub unapplied: i64,
    /// The link task, aborted when the link is retired: its socket must
    /// close at once, mid-handshake or mid-transfer too (Redis's
    /// cancelReplicationHandshake), or the master goes on preparing a
    /// snapshot for a replica that left.
    pub task: Option<tokio::task::AbortHandle>,
    /// The db the master's stream last selected. It outlives the MASTER
    /// client, as Redis's cached master keeps its db: a partial resync
    /// continues the stream where it stopped, with no new SELECT.
    pub db: usize,
}
