"""Read-through cache load for bench/maxmemory.sh: keys drawn from a
Zipf-like distribution (rank r with probability ~ 1/r^S over N keys, the
same seeded sequence for every server); each GET that misses is followed
by a SET of the key (the cache is filled on demand). Requests go in
pipelined rounds of 100 GETs, then the SETs of that round's misses.
Prints hits, requests and the hit ratio after a warm-up of the first
quarter of the requests (not counted).

    python3 bench/maxmemory_load.py PORT REQUESTS KEYS VALUE_BYTES
"""
import bisect
import random
import socket
import sys

S = 1.0


def enc(*args):
    out = [b"*%d\r\n" % len(args)]
    for a in args:
        out.append(b"$%d\r\n%s\r\n" % (len(a), a))
    return b"".join(out)


class Conn:
    def __init__(self, port):
        self.s = socket.create_connection(("127.0.0.1", port))
        self.buf = b""

    def line(self):
        while b"\r\n" not in self.buf:
            self.buf += self.s.recv(1 << 20)
        l, self.buf = self.buf.split(b"\r\n", 1)
        return l

    def reply(self):
        l = self.line()
        if l[:1] == b"$":
            n = int(l[1:])
            if n < 0:
                return None
            while len(self.buf) < n + 2:
                self.buf += self.s.recv(1 << 20)
            v, self.buf = self.buf[:n], self.buf[n + 2:]
            return v
        return l


def main():
    port, requests, keys, vbytes = map(int, sys.argv[1:5])
    weights = [1.0 / (r ** S) for r in range(1, keys + 1)]
    cum = []
    t = 0.0
    for w in weights:
        t += w
        cum.append(t)
    rng = random.Random(42)
    value = b"v" * vbytes
    c = Conn(port)
    hits = counted = 0
    warm = requests // 4
    done = 0
    while done < requests:
        batch = [b"k:%d" % bisect.bisect_left(cum, rng.random() * t) for _ in range(100)]
        c.s.sendall(b"".join(enc(b"GET", k) for k in batch))
        miss = []
        for k in batch:
            v = c.reply()
            if done >= warm:
                counted += 1
                hits += v is not None
            if v is None:
                miss.append(k)
            done += 1
        if miss:
            c.s.sendall(b"".join(enc(b"SET", k, value) for k in miss))
            for _ in miss:
                r = c.reply()
                assert r == b"+OK", r
    print("hits=%d requests=%d ratio=%.4f" % (hits, counted, hits / counted))


main()
