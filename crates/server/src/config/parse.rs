//! Reading redis.conf files and `--name value` arguments.
//!
//! Redis joins the file and the command line into one text of directive
//! lines; we keep them apart only to name the source in errors. Lines are
//! split with Redis's `sdssplitargs` rules (`resp::inline::split_args`), a
//! directive may appear several times (`save` lines accumulate, as in Redis),
//! and `include` reads another file in place.

use std::path::{Path, PathBuf};

use super::{lookup, parse_value, CVal, Config, P};

/// Directives Redis 7.0 still accepts but ignores.
const DEPRECATED: &[&str] = &[
    "list-max-ziplist-entries",
    "list-max-ziplist-value",
    "lua-replicate-commands",
];

/// A start-up configuration error, printed as Redis prints it before exiting.
#[derive(Debug)]
pub struct LoadError {
    /// Where: file name and line, or the command-line argument.
    pub place: String,
    /// The offending line.
    pub line: String,
    /// Why it was refused.
    pub reason: String,
}

impl std::fmt::Display for LoadError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "\n*** FATAL CONFIG FILE ERROR (relica {}) ***\nReading the configuration file, at {}\n>>> '{}'\n{}",
            env!("CARGO_PKG_VERSION"),
            self.place,
            self.line,
            self.reason
        )
    }
}

struct Loader {
    cfg: Config,
    save_seen: bool,
    depth: usize,
}

impl Loader {
    fn apply(&mut self, words: Vec<Vec<u8>>, place: &str, line: &str) -> Result<(), LoadError> {
        let err = |reason: String| LoadError {
            place: place.to_string(),
            line: line.to_string(),
            reason,
        };
        let Some((name, args)) = words.split_first() else {
            return Ok(());
        };
        let name = String::from_utf8_lossy(name).to_ascii_lowercase();
        if name == "include" {
            let [path] = args else {
                return Err(err("Bad directive or wrong number of arguments".into()));
            };
            if self.depth > 16 {
                return Err(err("include nesting too deep".into()));
            }
            let path = PathBuf::from(String::from_utf8_lossy(path).into_owned());
            self.depth += 1;
            let r = self.file(&path);
            self.depth -= 1;
            return r;
        }
        if name == "rename-command" {
            let [old, new] = args else {
                return Err(err("Bad directive or wrong number of arguments".into()));
            };
            self.cfg.renames.push((
                String::from_utf8_lossy(old).to_ascii_lowercase(),
                String::from_utf8_lossy(new).to_ascii_lowercase(),
            ));
            return Ok(());
        }
        if name == "user" && !args.is_empty() {
            // Checked against the command table when the ACL loads them;
            // a name given twice is refused here, as Redis does.
            if self.cfg.users.iter().any(|u| u.first() == args.first()) {
                return Err(err(format!(
                    "Error in user declaration '{}': Duplicate user found. A user can only be defined once in config files",
                    String::from_utf8_lossy(&args[0])
                )));
            }
            self.cfg.users.push(args.to_vec());
            return Ok(());
        }
        if DEPRECATED.contains(&name.as_str()) {
            return Ok(());
        }
        let Some((idx, d)) = lookup(&name) else {
            return Err(err("Bad directive or wrong number of arguments".into()));
        };
        if args.is_empty() && !super::multi_arg(d.name) {
            return Err(err("wrong number of arguments".into()));
        }
        let v = parse_value(d, args).map_err(err)?;
        if d.name == "save" {
            // The first `save` replaces the defaults; later ones add points.
            let CVal::Str(new) = v else { return Ok(()) };
            let merged = if self.save_seen && !new.is_empty() {
                let old = self.cfg.str(P::save).to_string();
                if old.is_empty() {
                    new
                } else {
                    format!("{old} {new}")
                }
            } else {
                new
            };
            self.save_seen = true;
            self.cfg.set_parsed(idx, CVal::Str(merged));
            return Ok(());
        }
        self.cfg.set_parsed(idx, v);
        Ok(())
    }

    fn text(&mut self, text: &str, source: &str) -> Result<(), LoadError> {
        for (i, raw) in text.lines().enumerate() {
            let line = raw.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let place = format!("{source}, line {}", i + 1);
            let words = resp::inline::split_args(line.as_bytes()).ok_or_else(|| LoadError {
                place: place.clone(),
                line: line.to_string(),
                reason: "Unbalanced quotes in configuration line".into(),
            })?;
            self.apply(words, &place, line)?;
        }
        Ok(())
    }

    fn file(&mut self, path: &Path) -> Result<(), LoadError> {
        let text = if path == Path::new("-") {
            let mut s = String::new();
            std::io::Read::read_to_string(&mut std::io::stdin(), &mut s).map(|_| s)
        } else {
            std::fs::read_to_string(path)
        }
        .map_err(|e| LoadError {
            place: path.display().to_string(),
            line: String::new(),
            reason: format!(
                "Fatal error, can't open config file '{}': {e}",
                path.display()
            ),
        })?;
        self.text(&text, &path.display().to_string())
    }
}

/// The command line's options as config text, built as Redis 7.0's main()
/// builds it: each `--name` starts a line (a `--name value` argument is a
/// whole line), each other argument is appended quoted, and an argument
/// that starts with `--` is a value when the previous `--name` still has
/// none. `--save` followed by another option, or last, means `save ""`.
fn command_line_options(args: &[String]) -> String {
    let mut out: Vec<u8> = Vec::new();
    let mut handled_last = true;
    for (j, a) in args.iter().enumerate() {
        let last = j + 1 == args.len();
        if handled_last && a.starts_with("--") {
            if !out.is_empty() {
                out.push(b'\n');
            }
            out.extend_from_slice(&a.as_bytes()[2..]);
            out.push(b' ');
            let words = resp::inline::split_args(a.as_bytes()).map_or(0, |w| w.len());
            if words == 1 {
                handled_last = false;
                let next_is_option = !last && args[j + 1].starts_with("--");
                if a.eq_ignore_ascii_case("--save") && (next_is_option || last) {
                    out.extend_from_slice(b"\"\"");
                    handled_last = next_is_option;
                }
            } else {
                handled_last = true;
            }
        } else {
            crate::util::repr(&mut out, a.as_bytes());
            out.push(b' ');
            handled_last = true;
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Build the configuration from `relica-server [file] [--name value ...]`
/// arguments (without the program name).
pub fn load(args: &[String]) -> Result<Config, LoadError> {
    let mut l = Loader {
        cfg: Config::default(),
        save_seen: false,
        depth: 0,
    };
    let mut rest = args;
    if let Some(first) = args.first() {
        if !first.starts_with("--") {
            let path = PathBuf::from(first);
            l.file(&path)?;
            if first != "-" {
                l.cfg.file = Some(std::fs::canonicalize(&path).unwrap_or(path));
            }
            rest = &args[1..];
        }
    }
    let options = command_line_options(rest);
    l.text(&options, "command line option")?;
    Ok(l.cfg)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(v: &[&str]) -> Vec<String> {
        v.iter().map(|x| x.to_string()).collect()
    }

    #[test]
    fn args_override_defaults() {
        let c = load(&s(&[
            "--port",
            "7000",
            "--save",
            "",
            "--bind",
            "127.0.0.1",
            "::1",
        ]))
        .unwrap();
        assert_eq!(c.int(P::port), 7000);
        assert_eq!(c.str(P::save), "");
        assert_eq!(c.str(P::bind), "127.0.0.1 ::1");
    }

    #[test]
    fn command_line_as_redis_joins_it() {
        let o = |v: &[&str]| command_line_options(&s(v));
        assert_eq!(o(&["--port", "6379", "6380"]), "port \"6379\" \"6380\" ");
        assert_eq!(
            o(&["--port", "--bla", "--loglevel", "x"]),
            "port \"--bla\" \nloglevel \"x\" "
        );
        assert_eq!(
            o(&["--maxmemory 700mb", "--loglevel verbose"]),
            "maxmemory 700mb \nloglevel verbose "
        );
        assert_eq!(
            o(&["--save", "--loglevel", "verbose"]),
            "save \"\"\nloglevel \"verbose\" "
        );
        assert_eq!(
            o(&["--loglevel", "verbose", "--save"]),
            "loglevel \"verbose\" \nsave \"\""
        );
        let e = load(&s(&["--port", "6379", "6380"])).unwrap_err();
        assert_eq!(e.line, "port \"6379\" \"6380\"");
        assert_eq!(e.reason, "wrong number of arguments");
        let c = load(&s(&["--shutdown-on-sigint", "nosave", "force", "now"])).unwrap();
        assert_eq!(c.str(P::shutdown_on_sigint), "nosave now force");
    }

    #[test]
    fn file_errors_name_the_line() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("r.conf");
        std::fs::write(&f, "port 7000\n\n# c\nbogus 1\n").unwrap();
        let e = load(&s(&[f.to_str().unwrap()])).unwrap_err();
        assert!(e.place.ends_with("line 4"), "{}", e.place);
        assert_eq!(e.reason, "Bad directive or wrong number of arguments");
        std::fs::write(&f, "port abc\n").unwrap();
        let e = load(&s(&[f.to_str().unwrap()])).unwrap_err();
        assert_eq!(e.reason, "argument couldn't be parsed into an integer");
    }

    #[test]
    fn save_lines_accumulate_and_include_works() {
        let dir = tempfile::tempdir().unwrap();
        let inc = dir.path().join("inc.conf");
        std::fs::write(&inc, "hz 50\n").unwrap();
        let f = dir.path().join("r.conf");
        std::fs::write(
            &f,
            format!(
                "save 900 1\nsave 60 10000\ninclude {}\nslaveof 127.0.0.1 6380\n",
                inc.display()
            ),
        )
        .unwrap();
        let c = load(&s(&[f.to_str().unwrap()])).unwrap();
        assert_eq!(c.str(P::save), "900 1 60 10000");
        assert_eq!(c.int(P::hz), 50);
        assert_eq!(c.str(P::replicaof), "127.0.0.1 6380");
    }

    #[test]
    fn appendonly_is_a_bool() {
        let c = load(&s(&["--appendonly", "yes"])).unwrap();
        assert_eq!(c.str(P::appendonly), "yes");
        assert!(load(&s(&["--appendonly", "maybe"])).is_err());
    }
}
