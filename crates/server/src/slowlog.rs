//! The slow log (Redis's `slowlog.c`): the commands that took at least
//! `slowlog-log-slower-than` microseconds, newest first, at most
//! `slowlog-max-len` of them.
//!
//! An entry keeps a trimmed copy of the command's arguments (at most 32, a
//! string at most 128 bytes, each cut marked as Redis marks it) so that a
//! huge command costs the log little, and arguments the command asked to
//! hide (passwords) as `(redacted)`.

use std::collections::VecDeque;

use bytes::Bytes;

/// Arguments kept per entry (Redis's SLOWLOG_ENTRY_MAX_ARGC).
pub const MAX_ARGC: usize = 32;
/// Bytes kept per argument (Redis's SLOWLOG_ENTRY_MAX_STRING).
pub const MAX_STRING: usize = 128;

/// What replaces an argument the command redacted.
pub const REDACTED: &[u8] = b"(redacted)";

/// One logged command.
#[derive(Clone, Debug)]
pub struct Entry {
    /// Its unique, growing id.
    pub id: u64,
    /// When it was logged (unix seconds).
    pub time: i64,
    /// How long it ran (microseconds).
    pub duration: u64,
    /// Its arguments, trimmed.
    pub args: Vec<Bytes>,
    /// The client's address (`ip:port`).
    pub peer: String,
    /// The client's name, empty if none.
    pub name: Vec<u8>,
}

/// The log.
#[derive(Default)]
pub struct SlowLog {
    entries: VecDeque<Entry>,
    next_id: u64,
}

/// What a command's run looked like, for [`SlowLog::push_if_needed`].
pub struct Run<'a> {
    /// Its arguments as the client sent them.
    pub args: &'a [Bytes],
    /// Indices of arguments to show as `(redacted)`.
    pub redacted: &'a [usize],
    /// How long it ran (microseconds).
    pub duration: u64,
    /// The client's address.
    pub peer: &'a str,
    /// The client's name.
    pub name: Option<&'a [u8]>,
}

impl SlowLog {
    /// Log `run` if it took at least `slower_than` microseconds (a negative
    /// threshold disables the log), then keep at most `max_len` entries.
    pub fn push_if_needed(
        &mut self,
        run: Run<'_>,
        slower_than: i64,
        max_len: usize,
        now_s: impl FnOnce() -> i64,
    ) {
        if slower_than < 0 {
            return;
        }
        if run.duration >= slower_than as u64 {
            let entry = Entry {
                id: self.next_id,
                time: now_s(),
                duration: run.duration,
                args: trim_args(run.args, run.redacted),
                peer: run.peer.to_string(),
                name: run.name.unwrap_or_default().to_vec(),
            };
            self.next_id += 1;
            self.entries.push_front(entry);
        }
        self.entries.truncate(max_len);
    }

    /// The newest `count` entries (all if `None`), newest first.
    pub fn newest(&self, count: Option<usize>) -> impl Iterator<Item = &Entry> {
        self.entries.iter().take(count.unwrap_or(usize::MAX))
    }

    /// SLOWLOG LEN.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether the log is empty.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// SLOWLOG RESET (ids keep growing).
    pub fn reset(&mut self) {
        self.entries.clear();
    }
}

/// The arguments as an entry keeps them: at most [`MAX_ARGC`], the last
/// one standing for the rest; long strings cut at [`MAX_STRING`] bytes.
fn trim_args(args: &[Bytes], redacted: &[usize]) -> Vec<Bytes> {
    let kept = args.len().min(MAX_ARGC);
    (0..kept)
        .map(|j| {
            if kept != args.len() && j == kept - 1 {
                Bytes::from(format!("... ({} more arguments)", args.len() - kept + 1))
            } else if redacted.contains(&j) {
                Bytes::from_static(REDACTED)
            } else if args[j].len() > MAX_STRING {
                let mut s = args[j][..MAX_STRING].to_vec();
                s.extend_from_slice(
                    format!("... ({} more bytes)", args[j].len() - MAX_STRING).as_bytes(),
                );
                Bytes::from(s)
            } else {
                // A copy, not a view into the client's query buffer.
                Bytes::copy_from_slice(&args[j])
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run<'a>(args: &'a [Bytes], duration: u64) -> Run<'a> {
        Run {
            args,
            redacted: &[],
            duration,
            peer: "127.0.0.1:5",
            name: None,
        }
    }

    #[test]
    fn threshold_and_length() {
        let mut log = SlowLog::default();
        let args = vec![Bytes::from_static(b"ping")];
        log.push_if_needed(run(&args, 5), 10, 128, || 1);
        assert_eq!(log.len(), 0);
        log.push_if_needed(run(&args, 10), 10, 128, || 1);
        assert_eq!(log.len(), 1);
        log.push_if_needed(run(&args, 10), -1, 128, || 1);
        assert_eq!(log.len(), 1, "disabled");
        for _ in 0..20 {
            log.push_if_needed(run(&args, 0), 0, 10, || 1);
        }
        assert_eq!(log.len(), 10);
        let ids: Vec<u64> = log.newest(Some(3)).map(|e| e.id).collect();
        assert_eq!(ids, vec![20, 19, 18], "newest first, ids keep growing");
        log.reset();
        assert!(log.is_empty());
        log.push_if_needed(run(&args, 0), 0, 10, || 1);
        assert_eq!(log.newest(None).next().map(|e| e.id), Some(21));
    }

    #[test]
    fn trimming_and_redaction() {
        let many: Vec<Bytes> = (0..35).map(|i| Bytes::from(i.to_string())).collect();
        let t = trim_args(&many, &[]);
        assert_eq!(t.len(), 32);
        assert_eq!(&t[30][..], b"30");
        assert_eq!(&t[31][..], b"... (4 more arguments)");
        let long = vec![Bytes::from_static(b"set"), Bytes::from(vec![b'A'; 129])];
        let t = trim_args(&long, &[]);
        assert_eq!(t[1].len(), 128 + b"... (1 more bytes)".len());
        assert!(t[1].ends_with(b"A... (1 more bytes)"));
        let secret = vec![
            Bytes::from_static(b"auth"),
            Bytes::from_static(b"user"),
            Bytes::from_static(b"pw"),
        ];
        let t = trim_args(&secret, &[1, 2]);
        assert_eq!(&t[1][..], REDACTED);
        assert_eq!(&t[2][..], REDACTED);
    }
}
