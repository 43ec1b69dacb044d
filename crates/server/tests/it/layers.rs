//! The server crate's layering (issue 13, DESIGN.md "Layers"):
//! connections → dispatch → command families → the engine and its
//! subsystems → data types. Two checks over the `crate::` / `super::`
//! paths each source file names (comments and `mod tests` left out):
//!
//! - the modules below dispatch never name `crate::commands`,
//!   `crate::conn`, `crate::link`, `crate::server` or `crate::blocking`;
//! - the files import each other without cycles, except the cycles named
//!   in `NAMED_CYCLES`, each with its reason (DESIGN.md names them too).
//!   The list may only shrink.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Modules (files, or folders with a trailing `/`) below dispatch.
const LOWER: &[&str] = &[
    "engine.rs",
    "stats.rs",
    "clients.rs",
    "client.rs",
    "pubsub.rs",
    "slowlog.rs",
    "latency.rs",
    "migrate.rs",
    "tracking.rs",
    "tls.rs",
    "clock.rs",
    "alloc.rs",
    "log.rs",
    "error.rs",
    "keyspace/",
    "types/",
    "util/",
    "persist/",
    "repl/",
    "script/",
    "config/",
    "acl/",
];

/// What a lower module may not name.
const UPPER: &[&str] = &[
    "crate::commands",
    "crate::conn",
    "crate::link",
    "crate::server",
    "crate::blocking",
    "crate::info",
];

/// The import cycles allowed, each a set of files, with its reason.
const NAMED_CYCLES: &[(&[&str], &str)] = &[(
    &["persist/snapshot.rs", "repl/master.rs"],
    "replication starts snapshots (a full resync), and every finished \
     snapshot hands its file or pipes to the replicas waiting for it, \
     whoever started it (Redis's rdb.c and replication.c call each other \
     the same way: rdbSaveBackground / updateSlavesWaitingBgsave)",
)];

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).expect("read src") {
        let p = e.expect("dir entry").path();
        if p.is_dir() {
            rust_files(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

/// Each file (relative to `src/`) and its code: comments and the unit
/// tests module dropped.
fn sources() -> BTreeMap<String, String> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    files
        .iter()
        .map(|f| {
            let rel = f
                .strip_prefix(&src)
                .expect("under src")
                .to_string_lossy()
                .replace('\\', "/");
            let text = std::fs::read_to_string(f).expect("read source");
            let text = text.split("#[cfg(test)]\nmod tests").next().unwrap_or("");
            let code: Vec<&str> = text
                .lines()
                .map(|l| l.split("//").next().unwrap_or(""))
                .collect();
            (rel, code.join("\n"))
        })
        .collect()
}

/// The file a module path (`["repl", "master", "Replica"]`) names: the
/// longest prefix that is a file, a folder's `mod.rs`, or a name a folder
/// re-exports from one of its files (`pub use space::Keyspace` in
/// `keyspace/mod.rs` makes `keyspace::Keyspace` name `keyspace/space.rs`).
fn file_of(
    files: &BTreeMap<String, String>,
    reexports: &BTreeMap<String, String>,
    parts: &[&str],
) -> Option<String> {
    (1..=parts.len()).rev().find_map(|k| {
        let p = parts[..k].join("/");
        if let Some(f) = reexports.get(&p) {
            return Some(f.clone());
        }
        [format!("{p}.rs"), format!("{p}/mod.rs")]
            .into_iter()
            .find(|c| files.contains_key(c))
    })
}

/// This file's module path (`repl/master.rs` → `["repl", "master"]`).
fn module_of(rel: &str) -> Vec<&str> {
    let mut here: Vec<&str> = rel.trim_end_matches(".rs").split('/').collect();
    if here.last() == Some(&"mod") {
        here.pop();
    }
    here
}

/// What `pub use child::…` lines re-export: module path of the name →
/// the file that defines it.
fn reexports(files: &BTreeMap<String, String>) -> BTreeMap<String, String> {
    let none = BTreeMap::new();
    let mut out = BTreeMap::new();
    for (rel, code) in files {
        let here = module_of(rel);
        for line in code.lines() {
            let Some(path) = line.trim_start().strip_prefix("pub use ") else {
                continue;
            };
            for p in paths_at(path) {
                if p.len() < 2 || ["crate", "super", "self"].contains(&p[0]) {
                    continue;
                }
                let mut full = here.clone();
                full.extend(&p[..p.len() - 1]);
                if let Some(f) = file_of(files, &none, &full) {
                    let mut name = here.clone();
                    name.push(p[p.len() - 1]);
                    out.insert(name.join("/"), f);
                }
            }
        }
    }
    out
}

/// The identifiers of a path starting at `text` (`a::b::{c, d}` gives
/// `[a, b]` followed by each braced item's first segment).
fn paths_at(text: &str) -> Vec<Vec<&str>> {
    let mut parts = Vec::new();
    let mut rest = text;
    loop {
        if let Some(r) = rest.strip_prefix('{') {
            let inner = &r[..r.find('}').unwrap_or(r.len())];
            return inner
                .split(',')
                .map(|item| {
                    let mut p = parts.clone();
                    p.extend(
                        item.trim()
                            .split("::")
                            .map(|s| s.trim_start_matches('{'))
                            .map(|s| s.split_whitespace().next().unwrap_or(""))
                            .filter(|s| !s.is_empty() && *s != "self"),
                    );
                    p
                })
                .collect();
        }
        let end = rest
            .find(|c: char| !(c.is_alphanumeric() || c == '_'))
            .unwrap_or(rest.len());
        if end == 0 {
            break;
        }
        parts.push(&rest[..end]);
        rest = &rest[end..];
        match rest.strip_prefix("::") {
            Some(r) => rest = r,
            None => break,
        }
    }
    vec![parts]
}

/// file → the files it names.
fn import_graph() -> BTreeMap<String, BTreeSet<String>> {
    let files = sources();
    let reexp = reexports(&files);
    let mut g = BTreeMap::new();
    for (rel, code) in &files {
        let here = module_of(rel);
        let parent: Vec<&str> = here[..here.len().saturating_sub(1)].to_vec();
        let mut refs = BTreeSet::new();
        let mut add = |full: Vec<&str>| {
            if let Some(f) = file_of(&files, &reexp, &full) {
                if f != *rel {
                    refs.insert(f);
                }
            }
        };
        // `use child::…` in a folder module names its own submodules; a
        // `pub use child::…` only re-exports (see `reexports`).
        for line in code.lines() {
            let Some(path) = line.trim_start().strip_prefix("use ") else {
                continue;
            };
            for p in paths_at(path) {
                if p.first().is_some_and(|f| {
                    !["crate", "super", "self", "std", "core", "alloc"].contains(f)
                }) && file_of(
                    &files,
                    &BTreeMap::new(),
                    &[here.clone(), p.clone()].concat(),
                )
                .is_some_and(|f| f.starts_with(&format!("{}/", here.join("/"))))
                {
                    add([here.clone(), p].concat());
                }
            }
        }
        for (prefix, base) in [
            ("crate::", Vec::new()),
            ("super::", parent),
            ("self::", here.clone()),
        ] {
            let mut from = 0;
            while let Some(i) = code[from..].find(prefix) {
                let at = from + i;
                from = at + prefix.len();
                let before = code[..at].chars().last();
                if before.is_some_and(|c| c.is_alphanumeric() || c == '_') {
                    continue;
                }
                for path in paths_at(&code[from..]) {
                    add([base.clone(), path].concat());
                }
            }
        }
        g.insert(rel.clone(), refs);
    }
    g
}

/// Strongly connected components with more than one file (Tarjan).
fn cycles(g: &BTreeMap<String, BTreeSet<String>>) -> Vec<BTreeSet<String>> {
    struct T<'a> {
        g: &'a BTreeMap<String, BTreeSet<String>>,
        index: BTreeMap<&'a str, usize>,
        low: BTreeMap<&'a str, usize>,
        stack: Vec<&'a str>,
        on: BTreeSet<&'a str>,
        out: Vec<BTreeSet<String>>,
    }
    fn visit<'a>(t: &mut T<'a>, v: &'a str) {
        let n = t.index.len();
        t.index.insert(v, n);
        t.low.insert(v, n);
        t.stack.push(v);
        t.on.insert(v);
        let g = t.g;
        for w in &g[v] {
            if !t.index.contains_key(w.as_str()) {
                visit(t, w);
                let lw = t.low[w.as_str()];
                let lv = t.low.get_mut(v).expect("visited");
                *lv = (*lv).min(lw);
            } else if t.on.contains(w.as_str()) {
                let iw = t.index[w.as_str()];
                let lv = t.low.get_mut(v).expect("visited");
                *lv = (*lv).min(iw);
            }
        }
        if t.low[v] == t.index[v] {
            let mut c = BTreeSet::new();
            while let Some(w) = t.stack.pop() {
                t.on.remove(w);
                c.insert(w.to_string());
                if w == v {
                    break;
                }
            }
            if c.len() > 1 {
                t.out.push(c);
            }
        }
    }
    let mut t = T {
        g,
        index: BTreeMap::new(),
        low: BTreeMap::new(),
        stack: Vec::new(),
        on: BTreeSet::new(),
        out: Vec::new(),
    };
    for v in g.keys() {
        if !t.index.contains_key(v.as_str()) {
            visit(&mut t, v);
        }
    }
    t.out
}

#[test]
fn lower_modules_never_call_up() {
    let mut found = Vec::new();
    for (rel, code) in sources() {
        if !LOWER
            .iter()
            .any(|l| rel == *l || (l.ends_with('/') && rel.starts_with(l)))
        {
            continue;
        }
        for (n, line) in code.lines().enumerate() {
            for up in UPPER {
                if line.contains(up) {
                    found.push(format!("{rel}:{}: {}", n + 1, line.trim()));
                }
            }
        }
    }
    assert!(
        found.is_empty(),
        "lower modules calling up:\n{}",
        found.join("\n")
    );
}

#[test]
fn no_import_cycles_but_the_named_ones() {
    let g = import_graph();
    // The graph is read right: a few edges every reader can check.
    assert!(g["commands/dispatch.rs"].contains("engine.rs"));
    assert!(g["link.rs"].contains("commands/dispatch.rs"));
    assert!(g["repl/master.rs"].contains("persist/snapshot.rs"));
    let found = cycles(&g);
    let named: Vec<BTreeSet<String>> = NAMED_CYCLES
        .iter()
        .map(|(files, why)| {
            assert!(!why.is_empty());
            files.iter().map(|f| f.to_string()).collect()
        })
        .collect();
    let unnamed: Vec<_> = found.iter().filter(|c| !named.contains(c)).collect();
    assert!(
        unnamed.is_empty(),
        "import cycles not named in layers.rs / DESIGN.md: {unnamed:?}"
    );
    for c in &named {
        assert!(
            found.contains(c),
            "named cycle {c:?} is gone: remove it from NAMED_CYCLES and DESIGN.md"
        );
    }
}

#[test]
fn a_cycle_is_found() {
    // The checker itself: a → b → c → a is one cycle, d stands alone.
    let mut g = BTreeMap::new();
    for (a, b) in [("a", "b"), ("b", "c"), ("c", "a"), ("d", "a")] {
        g.entry(a.to_string())
            .or_insert_with(BTreeSet::new)
            .insert(b.to_string());
    }
    let found = cycles(&g);
    let want: BTreeSet<String> = ["a", "b", "c"].iter().map(|s| s.to_string()).collect();
    assert_eq!(found, vec![want]);
}
