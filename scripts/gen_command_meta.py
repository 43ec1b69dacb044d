#!/usr/bin/env python3
"""Generate crates/server/src/commands/meta.rs from Redis 7.0.15's command
JSON files: each command's explicit ACL categories, its key specs (with
their flags), its documentation (COMMAND DOCS: summary, complexity, since,
group, doc flags, deprecation, history, nested arguments) and its tips
(COMMAND INFO), the data Redis's utils/generate-command-code.py turns into
src/commands.c.

    python3 scripts/gen_command_meta.py [/path/to/redis/git/dir] > crates/server/src/commands/meta.rs

The table is emitted pre-formatted under #[rustfmt::skip].
"""
import json
import subprocess
import sys

repo = sys.argv[1] if len(sys.argv) > 1 else "/work/.mirror/redis+redis/repo"
tag = "7.0.15"

ARG_TYPES = {
    "string": "String", "integer": "Integer", "double": "Double", "key": "Key",
    "pattern": "Pattern", "unix-time": "UnixTime", "pure-token": "PureToken",
    "oneof": "Oneof", "block": "Block",
}


def git(*args):
    return subprocess.run(["git", "-C", repo, *args], check=True,
                          capture_output=True, text=True).stdout


def c_value(v):
    """The string the C compiler makes of Redis's generated `"%s"` literal
    for v: commands.c pastes JSON text between quotes unescaped, so a value
    holding quotes becomes adjacent literals (MIGRATE's token `""` is the
    empty string, not NULL)."""
    src = '"' + v.replace("\n", "\\n") + '"'
    out, i, inside = [], 0, False
    while i < len(src):
        ch = src[i]
        if ch == '"':
            inside = not inside
        elif inside and ch == "\\":
            i += 1
            out.append({"n": "\n", "t": "\t", "\\": "\\", '"': '"'}[src[i]])
        elif inside:
            out.append(ch)
        i += 1
    assert not inside, v
    return "".join(out)


def rs(s):
    """A Rust string literal."""
    out = []
    for ch in s:
        if ch in '"\\':
            out.append("\\" + ch)
        elif ch == "\n":
            out.append("\\n")
        elif ord(ch) < 0x20:
            out.append("\\u{%x}" % ord(ch))
        else:
            out.append(ch)
    return '"' + "".join(out) + '"'


def opt(desc, field, upper=False):
    """Redis's get_optional_desc_string: absent or empty is NULL."""
    v = desc.get(field)
    if not v:
        return "None"
    if upper:
        v = v.upper()
    return f"Some({rs(c_value(v))})"


def arg_code(a, indent):
    flags = []
    if a.get("optional"):
        flags.append("argf::OPTIONAL")
    if a.get("multiple"):
        flags.append("argf::MULTIPLE")
    if a.get("multiple_token"):
        flags.append("argf::MULTIPLE_TOKEN")
    dep = f"Some({rs(a['deprecated_since'])})" if "deprecated_since" in a else "None"
    subs = a.get("arguments", []) if a["type"] in ("oneof", "block") else []
    head = (f"arg({rs(a['name'].lower())}, ArgType::{ARG_TYPES[a['type']]}, "
            f"{a.get('key_spec_index', -1)}, {opt(a, 'token', True)}, {opt(a, 'summary')}, "
            f"{opt(a, 'since')}, {dep}, {' | '.join(flags) or '0'}, ")
    if not subs:
        return indent + head + "&[]),"
    lines = [indent + head + "&["]
    for s in subs:
        lines.append(arg_code(s, indent + "    "))
    lines.append(indent + "]),")
    return "\n".join(lines)


files = [f for f in git("ls-tree", "--name-only", tag, "src/commands/").split()
         if f.endswith(".json")]
docs = {}
for f in files:
    for name, c in json.loads(git("show", f"{tag}:{f}")).items():
        docs[(c.get("container", "").lower(), name.lower())] = c
# A subcommand's group is its container's (generate-command-code.py).
groups = {n: c["group"] for (p, n), c in docs.items() if not p}

rows = []
for (parent, name), c in docs.items():
    full = f"{parent}|{name}" if parent else name
    group = groups[parent] if parent else c["group"]
    cats = " | ".join(f"cat::{x.upper()}" for x in c.get("acl_categories", [])) or "0"
    specs = []
    for s in c.get("key_specs", []):
        bs = s["begin_search"]
        if "index" in bs:
            begin = f"Begin::Index({bs['index']['pos']})"
        elif "keyword" in bs:
            k = bs["keyword"]
            begin = f"Begin::Keyword({rs(k['keyword'])}, {k['startfrom']})"
        else:
            begin = "Begin::Unknown"
        fk = s["find_keys"]
        if "range" in fk:
            r = fk["range"]
            find = f"Find::Range({r['lastkey']}, {r['step']}, {r['limit']})"
        elif "keynum" in fk:
            k = fk["keynum"]
            find = f"Find::Keynum({k['keynumidx']}, {k['firstkey']}, {k['step']})"
        else:
            find = "Find::Unknown"
        fl = " | ".join(f"ks::{x}" for x in s.get("flags", [])) or "0"
        specs.append(f"KeySpec {{ notes: {rs(s.get('notes', ''))}, flags: {fl}, "
                     f"begin: {begin}, find: {find} }}")
    doc_flags = " | ".join(f"doc::{x}" for x in c.get("doc_flags", [])) or "0"
    history = ", ".join(f"({rs(v)}, {rs(ch)})" for v, ch in c.get("history", []))
    tips = ", ".join(rs(t.lower()) for t in c.get("command_tips", []))
    out = [f"    Meta {{ name: {rs(full)}, acl: {cats},"]
    if specs:
        out.append("        key_specs: &[")
        out.extend(f"            {s}," for s in specs)
        out.append("        ],")
    else:
        out.append("        key_specs: &[],")
    out.append(f"        docs: Docs {{ summary: {opt(c, 'summary')}, complexity: {opt(c, 'complexity')},")
    out.append(f"            since: {opt(c, 'since')}, group: {rs(group.replace('_', '-'))}, "
               f"doc_flags: {doc_flags}, deprecated_since: {opt(c, 'deprecated_since')}, "
               f"replaced_by: {opt(c, 'replaced_by')},")
    out.append(f"            history: &[{history}],")
    out.append(f"            tips: &[{tips}],")
    args = c.get("arguments", [])
    if args:
        out.append("            args: &[")
        out.extend(arg_code(a, "                ") for a in args)
        out.append("            ],")
    else:
        out.append("            args: &[],")
    out.append("        },")
    out.append("    },")
    rows.append((full, "\n".join(out)))
rows.sort()

print("//! Generated by scripts/gen_command_meta.py from Redis 7.0.15's")
print("//! src/commands/*.json: each command's explicit ACL categories, its key")
print("//! specs with their flags, its documentation (COMMAND DOCS) and its")
print("//! tips (COMMAND INFO). Do not edit by hand.")
print("//!")
print("//! The data is Redis's command metadata (Copyright (c) Redis Ltd.,")
print("//! BSD 3-Clause licence, as in the suite's COPYING): clients observe it")
print("//! through COMMAND INFO and COMMAND DOCS, ACL categories and key-spec")
print("//! flags.")
print()
print("use crate::acl::cat;")
print()
print(open(__file__.replace("gen_command_meta.py", "command_meta_types.rs")).read(), end="")
print()
print("/// Every command and subcommand Redis 7.0 defines, sorted by full name.")
print("#[rustfmt::skip]")
print("pub static META: &[Meta] = &[")
for _, code in rows:
    print(code)
print("];")
