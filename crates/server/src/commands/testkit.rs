//! Test support for command families: an engine with clients driven
//! in-process, and the replication stream captured by holding a
//! propagation unit open for the whole test.

use std::collections::VecDeque;

use crate::blocking::args;
use crate::client::Client;
use crate::config::Config;
use crate::engine::Engine;

/// An engine, its clients, and what it propagated.
pub struct Harness {
    /// The engine.
    pub eng: Engine,
}

impl Default for Harness {
    fn default() -> Self {
        Self::new()
    }
}

impl Harness {
    /// A fresh engine that records what it propagates.
    pub fn new() -> Harness {
        let mut eng = Engine::new(Config::default());
        eng.repl_mut().capture();
        Harness { eng }
    }

    /// Connect a client; returns its id.
    pub fn client(&mut self) -> u64 {
        let id = self.eng.clients_mut().new_id();
        let cl = Client::new(
            id,
            "127.0.0.1:1".into(),
            "127.0.0.1:2".into(),
            true,
            false,
            0,
        );
        self.eng.clients_mut().insert(Box::new(cl));
        id
    }

    /// Run one command for a client; returns its reply.
    pub fn run(&mut self, id: u64, cmd: &[&str]) -> String {
        let mut cl = self.eng.clients_mut().check_out(id).expect("client");
        let mut batch = VecDeque::from([args(cmd)]);
        let mut out = Vec::new();
        super::dispatch::run_batch(&mut self.eng, &mut cl, &mut batch, &mut out);
        self.eng.clients_mut().check_in(cl);
        String::from_utf8_lossy(&out).into_owned()
    }

    /// What was pushed to a client asynchronously (blocked replies).
    pub fn outbox(&mut self, id: u64) -> String {
        let cl = self.eng.clients().get(id).expect("client");
        let mut out = Vec::new();
        while !cl.outbox.is_empty() {
            out.extend(cl.outbox.take());
        }
        String::from_utf8_lossy(&out).into_owned()
    }

    /// The commands propagated since the last call, space-joined.
    pub fn propagated(&mut self) -> Vec<String> {
        let unit = self.eng.repl_mut().capture();
        unit.into_iter()
            .map(|(_, argv)| {
                argv.iter()
                    .map(|a| String::from_utf8_lossy(a).into_owned())
                    .collect::<Vec<_>>()
                    .join(" ")
            })
            .collect()
    }
}
