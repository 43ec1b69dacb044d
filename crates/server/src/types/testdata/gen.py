#!/usr/bin/env python3
"""Replays a command script against a real redis-server and writes the
replies next to each command, for the replay tests in hll.rs / bitops.rs.

usage: gen.py PORT SCRIPT > FIXTURE

A fixture is also a script (the replies are dropped and asked again), so
`gen.py 6379 hll_redis70.txt > new && mv new hll_redis70.txt` refreshes one.
Start the server with `redis-server --save '' --port PORT`.

Script lines: `CMD arg...`; `x:HEX` is a binary argument, `@p:a:b`
expands to p<a> .. p<b-1>. `#` starts a comment line. Output lines:
`CMD arg... => reply`, replies rendered as :int +status -error nil
hex:<bytes> (bulk up to 256 bytes) fnv:<len>:<fnv1a64> (longer bulk)
[r,r,...] (arrays)."""
import socket, sys

def fnv(b):
    h = 0xcbf29ce484222325
    for x in b:
        h ^= x
        h = (h * 0x100000001b3) & 0xffffffffffffffff
    return h

class Conn:
    def __init__(self, port):
        self.s = socket.create_connection(("127.0.0.1", port))
        self.f = self.s.makefile("rb")
    def cmd(self, args):
        out = [b"*%d\r\n" % len(args)]
        for a in args:
            out.append(b"$%d\r\n%s\r\n" % (len(a), a))
        self.s.sendall(b"".join(out))
        return self.read()
    def read(self):
        line = self.f.readline()
        t, rest = line[:1], line[1:-2]
        if t == b"+": return "+" + rest.decode()
        if t == b"-": return "-" + rest.decode()
        if t == b":": return ":" + rest.decode()
        if t == b"$":
            n = int(rest)
            if n < 0: return "nil"
            d = self.f.read(n + 2)[:-2]
            if len(d) <= 256: return "hex:" + d.hex()
            return "fnv:%d:%016x" % (len(d), fnv(d))
        if t == b"*":
            n = int(rest)
            if n < 0: return "nil"
            return "[" + ",".join(self.read() for _ in range(n)) + "]"
        raise ValueError(line)

def expand(tok):
    if tok.startswith("x:"):
        return [bytes.fromhex(tok[2:])]
    if tok.startswith("@"):
        p, a, b = tok[1:].split(":")
        return [("%s%d" % (p, i)).encode() for i in range(int(a), int(b))]
    return [tok.encode()]

def main():
    c = Conn(int(sys.argv[1]))
    for line in open(sys.argv[2]):
        line = line.rstrip("\n").split(" => ")[0]
        if not line.strip() or line.startswith("#"):
            print(line)
            continue
        args = [a for tok in line.split() for a in expand(tok)]
        print("%s => %s" % (line, c.cmd(args)))

main()
