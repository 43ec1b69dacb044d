//! The server crate's layering (issue 13): connections → dispatch →
//! command families → subsystems → data types. The modules below dispatch
//! never call up into it: no `crate::commands`, `crate::conn`,
//! `crate::server` or `crate::blocking` (blocked-client re-execution runs
//! commands, so it belongs with dispatch). The exceptions are named here,
//! each with its reason; the list may only shrink.

/// Modules (files, or folders with a trailing `/`) below dispatch.
const LOWER: &[&str] = &[
    "engine.rs",
    "pubsub.rs",
    "client.rs",
    "clock.rs",
    "alloc.rs",
    "log.rs",
    "error.rs",
    "keyspace/",
    "types/",
    "util/",
    "persist/",
    "repl/",
    "config/",
];

/// What a lower module may not name.
const UPPER: &[&str] = &[
    "crate::commands",
    "crate::conn",
    "crate::server",
    "crate::blocking",
];

/// (file, reference): the named exceptions.
const EXCEPTIONS: &[(&str, &str)] = &[
    // The replica applies its master's stream through dispatch, as a
    // client's commands are (Redis's MASTER client), and serves clients
    // blocked on the keys it changed.
    ("repl/replica.rs", "crate::commands"),
    ("repl/replica.rs", "crate::blocking"),
    // CLIENT PAUSE holds the master's stream as it holds clients' writes.
    ("repl/replica.rs", "crate::conn"),
    // A blocked client's state names how it is answered on timeout.
    ("client.rs", "crate::blocking"),
];

fn rust_files(dir: &std::path::Path, out: &mut Vec<std::path::PathBuf>) {
    for e in std::fs::read_dir(dir).expect("read src") {
        let p = e.expect("dir entry").path();
        if p.is_dir() {
            rust_files(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

#[test]
fn lower_modules_never_call_up() {
    let src = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    let mut found = Vec::new();
    let mut used = std::collections::HashSet::new();
    for f in &files {
        let rel = f
            .strip_prefix(&src)
            .expect("under src")
            .to_string_lossy()
            .replace('\\', "/");
        if !LOWER
            .iter()
            .any(|l| rel == *l || (l.ends_with('/') && rel.starts_with(l)))
        {
            continue;
        }
        let text = std::fs::read_to_string(f).expect("read source");
        for (n, line) in text.lines().enumerate() {
            let code = line.split("//").next().unwrap_or("");
            for up in UPPER {
                if code.contains(up) {
                    if EXCEPTIONS.contains(&(rel.as_str(), *up)) {
                        used.insert((rel.clone(), *up));
                    } else {
                        found.push(format!("{rel}:{}: {}", n + 1, line.trim()));
                    }
                }
            }
        }
    }
    assert!(
        found.is_empty(),
        "lower modules calling up:\n{}",
        found.join("\n")
    );
    for (file, up) in EXCEPTIONS {
        assert!(
            used.contains(&(file.to_string(), *up)),
            "exception ({file}, {up}) is no longer needed: remove it"
        );
    }
}
