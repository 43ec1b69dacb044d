//! A command-form AOF base (`aof-use-rdb-preamble no`, Redis's
//! rewriteAppendOnlyFileRio): the snapshot is written as RDB, then turned
//! into the commands that rebuild it: SET, RPUSH/SADD/ZADD/HMSET in runs of
//! 64 items, PEXPIREAT, FUNCTION LOAD, SELECT per database. Pure file
//! work; no engine.

use std::io::Write as _;
use std::path::Path;

/// Items per variadic command (AOF_REWRITE_ITEMS_PER_CMD).
const ITEMS_PER_CMD: usize = 64;

fn bulk(out: &mut Vec<u8>, b: &[u8]) {
    out.extend_from_slice(format!("${}\r\n", b.len()).as_bytes());
    out.extend_from_slice(b);
    out.extend_from_slice(b"\r\n");
}

fn head(out: &mut Vec<u8>, n: usize) {
    out.extend_from_slice(format!("*{n}\r\n").as_bytes());
}

/// `%.17g`, as Redis's rioWriteBulkDouble.
pub fn fmt_g17(d: f64) -> String {
    if d.is_infinite() {
        return if d > 0.0 { "inf".into() } else { "-inf".into() };
    }
    crate::util::num::fmt_g17(d)
}

/// Variadic commands for a collection, ITEMS_PER_CMD items each.
fn chunks<T>(
    out: &mut Vec<u8>,
    cmd: &[u8],
    key: &[u8],
    items: &[T],
    per_item: usize,
    mut emit: impl FnMut(&mut Vec<u8>, &T),
) {
    for c in items.chunks(ITEMS_PER_CMD) {
        head(out, 2 + c.len() * per_item);
        bulk(out, cmd);
        bulk(out, key);
        for it in c {
            emit(out, it);
        }
    }
}

/// Turn an RDB file into a command-form base file.
pub fn rdb_to_commands(rdb_path: &Path, out_path: &Path, timestamp: bool) -> std::io::Result<()> {
    let io = |e: rdb::Error| std::io::Error::other(e.to_string());
    let f = std::fs::File::open(rdb_path)?;
    let mut rd = rdb::Reader::new(std::io::BufReader::with_capacity(1 << 16, f)).map_err(io)?;
    let of = std::fs::File::create(out_path)?;
    let mut w = std::io::BufWriter::with_capacity(1 << 16, of);
    let mut out = Vec::new();
    if timestamp {
        out.extend_from_slice(format!("#TS:{}\r\n", crate::clock::now_secs()).as_bytes());
    }
    let mut cur_db: Option<u64> = None;
    while let Some(rec) = rd.next_record().map_err(io)? {
        match rec {
            rdb::Record::Function { payload } => {
                head(&mut out, 3);
                bulk(&mut out, b"FUNCTION");
                bulk(&mut out, b"LOAD");
                bulk(&mut out, &payload);
            }
            rdb::Record::Key(k) => {
                if cur_db != Some(k.db) {
                    cur_db = Some(k.db);
                    head(&mut out, 2);
                    bulk(&mut out, b"SELECT");
                    bulk(&mut out, k.db.to_string().as_bytes());
                }
                match &k.value {
                    rdb::Value::String(v) => {
                        head(&mut out, 3);
                        bulk(&mut out, b"SET");
                        bulk(&mut out, &k.key);
                        bulk(&mut out, v);
                    }
                    rdb::Value::List(items) => {
                        chunks(&mut out, b"RPUSH", &k.key, items, 1, |o, it| bulk(o, it))
                    }
                    rdb::Value::Set(items) => {
                        chunks(&mut out, b"SADD", &k.key, items, 1, |o, it| bulk(o, it))
                    }
                    rdb::Value::ZSet(items) => {
                        chunks(&mut out, b"ZADD", &k.key, items, 2, |o, (m, s)| {
                            bulk(o, fmt_g17(*s).as_bytes());
                            bulk(o, m);
                        })
                    }
                    rdb::Value::Hash(items) => {
                        chunks(&mut out, b"HMSET", &k.key, items, 2, |o, (f, v)| {
                            bulk(o, f);
                            bulk(o, v);
                        })
                    }
                    rdb::Value::Stream(st) => {
                        let st = crate::types::stream::Stream::from_rdb((**st).clone())
                            .ok_or_else(|| std::io::Error::other("bad stream in the snapshot"))?;
                        write_stream(&mut out, &k.key, &st);
                    }
                }
                if let Some(exp) = k.expire_ms {
                    head(&mut out, 3);
                    bulk(&mut out, b"PEXPIREAT");
                    bulk(&mut out, &k.key);
                    bulk(&mut out, exp.to_string().as_bytes());
                }
            }
            rdb::Record::Eof { .. } => break,
            _ => {}
        }
        if out.len() >= 1 << 16 {
            w.write_all(&out)?;
            out.clear();
        }
    }
    w.write_all(&out)?;
    w.flush()?;
    let f = w.into_inner().map_err(|e| e.into_error())?;
    f.sync_all()
}

/// A stream as commands, as Redis's rewriteStreamObject: its entries as
/// XADDs (an empty stream by the `XADD ... MAXLEN 0` trick), XSETID with
/// its counters, then each group (XGROUP CREATE ... ENTRIESREAD), its
/// pending entries as XCLAIM ... FORCE and its idle consumers as XGROUP
/// CREATECONSUMER.
fn write_stream(out: &mut Vec<u8>, key: &[u8], st: &crate::types::stream::Stream) {
    use crate::types::stream::StreamId;
    if st.is_empty() {
        head(out, 7);
        for a in [&b"XADD"[..], key, b"MAXLEN", b"0", b"0-1", b"x", b"y"] {
            bulk(out, a);
        }
    } else {
        st.range(StreamId::MIN, StreamId::MAX, false, |id, fv| {
            head(out, 3 + fv.len());
            bulk(out, b"XADD");
            bulk(out, key);
            bulk(out, id.to_string().as_bytes());
            for e in fv {
                bulk(out, &e.bytes());
            }
            true
        });
    }
    head(out, 7);
    bulk(out, b"XSETID");
    bulk(out, key);
    bulk(out, st.last_id().to_string().as_bytes());
    bulk(out, b"ENTRIESADDED");
    bulk(out, st.entries_added().to_string().as_bytes());
    bulk(out, b"MAXDELETEDID");
    bulk(out, st.max_deleted_entry_id().to_string().as_bytes());
    for (name, g) in st.groups() {
        head(out, 7);
        bulk(out, b"XGROUP");
        bulk(out, b"CREATE");
        bulk(out, key);
        bulk(out, name);
        bulk(out, g.last_id.to_string().as_bytes());
        bulk(out, b"ENTRIESREAD");
        bulk(out, g.entries_read.to_string().as_bytes());
        for (cname, c) in &g.consumers {
            if c.pel.is_empty() {
                head(out, 5);
                for a in [&b"XGROUP"[..], b"CREATECONSUMER", key, name, cname] {
                    bulk(out, a);
                }
                continue;
            }
            for id in &c.pel {
                let Some(n) = g.pel.get(id) else { continue };
                head(out, 12);
                bulk(out, b"XCLAIM");
                bulk(out, key);
                bulk(out, name);
                bulk(out, cname);
                bulk(out, b"0");
                bulk(out, id.to_string().as_bytes());
                bulk(out, b"TIME");
                bulk(out, n.delivery_time.to_string().as_bytes());
                bulk(out, b"RETRYCOUNT");
                bulk(out, n.delivery_count.to_string().as_bytes());
                bulk(out, b"JUSTID");
                bulk(out, b"FORCE");
            }
        }
    }
}
