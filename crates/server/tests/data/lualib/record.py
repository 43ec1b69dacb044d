#!/usr/bin/env python3
"""Records redis-server's replies for the Lua library cases (*.cases here).

Each case is a line of Lua, sent as it is to a redis-server 7.0 with
`EVAL <line> 0` after `SCRIPT FLUSH` (so every case starts on a fresh
interpreter, with the libraries' default options), and the reply that
follows it on a line starting with `=> `. Replies are written as
`script::lib`'s tests render a script's value (RESP2, as Redis converts it):
an integer as its digits, a bulk string quoted (`\\"`, `\\\\`, and `\\xNN`
for bytes outside printable ASCII), `nil`, `+status`, `[a, b]` for an array,
and `(error) <message>` with Redis's `ERR ` prefix and its
` script: <sha>, on @user_script:N.` suffix cut: what is left comes from the
script and its libraries.

    record.py <port> <file.cases>...           rewrite the replies
    record.py --check <port> <file.cases>...   list the cases that differ

Connects to 127.0.0.1 only.
"""
import socket
import sys


class Redis:
    def __init__(self, port):
        self.sock = socket.create_connection(("127.0.0.1", port))
        self.buf = b""

    def call(self, *args):
        out = b"*%d\r\n" % len(args)
        for a in args:
            a = a if isinstance(a, bytes) else a.encode()
            out += b"$%d\r\n%s\r\n" % (len(a), a)
        self.sock.sendall(out)
        return self.reply()

    def line(self):
        while b"\r\n" not in self.buf:
            self.more()
        line, self.buf = self.buf.split(b"\r\n", 1)
        return line

    def more(self):
        chunk = self.sock.recv(65536)
        if not chunk:
            raise EOFError("connection closed")
        self.buf += chunk

    def reply(self):
        line = self.line()
        kind, rest = line[:1], line[1:]
        if kind in (b":", b"+", b"-"):
            return (kind, rest)
        n = int(rest)
        if kind == b"$":
            if n < 0:
                return (b"$", None)
            while len(self.buf) < n + 2:
                self.more()
            body, self.buf = self.buf[:n], self.buf[n + 2:]
            return (b"$", body)
        if kind == b"*":
            return (b"*", None if n < 0 else [self.reply() for _ in range(n)])
        raise ValueError("unexpected reply %r" % line)


def quote(b):
    out = '"'
    for c in b:
        if c == 0x22:
            out += '\\"'
        elif c == 0x5c:
            out += '\\\\'
        elif 0x20 <= c <= 0x7e:
            out += chr(c)
        else:
            out += '\\x%02x' % c
    return out + '"'


def render(r):
    kind, v = r
    if kind == b":":
        return v.decode()
    if kind == b"+":
        return "+" + v.decode("latin-1")
    if kind == b"-":
        msg = v.decode("utf-8", "replace")
        if msg.startswith("ERR "):
            msg = msg[4:]
        cut = msg.rfind(" script: ")
        if cut >= 0:
            msg = msg[:cut]
        return "(error) " + msg
    if v is None:
        return "nil"
    if kind == b"$":
        return quote(v)
    return "[" + ", ".join(render(x) for x in v) + "]"


def cases(path):
    """The file's lines, and for each case the index of its snippet line."""
    lines = open(path, encoding="utf-8").read().split("\n")
    at = [i for i, l in enumerate(lines)
          if l and not l.startswith("#") and not l.startswith("=> ")]
    return lines, at


def main():
    argv = sys.argv[1:]
    check = argv[:1] == ["--check"]
    if check:
        argv = argv[1:]
    r = Redis(int(argv[0]))
    differ = 0
    for path in argv[1:]:
        lines, at = cases(path)
        for i in at:
            r.call("SCRIPT", "FLUSH")
            got = "=> " + render(r.call("EVAL", lines[i].encode("utf-8"), "0"))
            has = i + 1 < len(lines) and lines[i + 1].startswith("=> ")
            if check:
                if not has or lines[i + 1] != got:
                    differ += 1
                    print("%s:%d: %s\n  file:  %s\n  redis: %s" % (
                        path, i + 1, lines[i], lines[i + 1] if has else "", got))
            elif has:
                lines[i + 1] = got
            else:
                lines[i] += "\n" + got
        if not check:
            open(path, "w", encoding="utf-8").write("\n".join(lines))
        print("%s: %d cases" % (path, len(at)), file=sys.stderr)
    sys.exit(1 if differ else 0)


if __name__ == "__main__":
    main()
