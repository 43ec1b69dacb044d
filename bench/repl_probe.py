#!/usr/bin/env python3
"""Samplers for the replication benchmarks (bench/repl_sync.sh, bench/repl_lag.sh).

Speaks RESP over plain sockets to 127.0.0.1 only; no extra packages.

  repl_probe.py sync REPLICA_PORT MASTER_PORT [PID...]
      Sends REPLICAOF 127.0.0.1 MASTER_PORT to the replica, then every
      INTERVAL (default 0.02 s) samples each PID's VmRSS and the PSS of the
      PID's process tree (the PID plus its children, e.g. a forked
      redis-server BGSAVE child; summing PSS counts shared copy-on-write
      pages once) and asks the replica for master_link_status, until it
      is up or DEADLINE (default 600 s) passes, then for SETTLE more
      seconds (default 0) of memory samples.
      Prints one line: SECS SAMPLES then, per PID, PEAK_RSS_KB PEAK_TREE_PSS_KB.
      Exits 1 on deadline.

  repl_probe.py lag MASTER_PORT REPLICA_PORT STOP_FILE
      Every INTERVAL (default 0.01 s) reads slave_repl_offset from the
      replica's INFO replication, THEN master_repl_offset from the master's
      (two separate requests, not atomic: the master may advance in between,
      so the lag is slightly overestimated, an upper bound). ORDER=master-first
      reads the master first instead, which underestimates it (it can even
      come out negative: the replica advances past the master's earlier
      offset). Creates STOP_FILE.ready once connected; the load
      phase lasts until STOP_FILE exists; then it
      keeps sampling until the replica offset equals the master offset or
      DEADLINE (default 10 s) passes.
      Prints one line: SAMPLES_LOAD MEAN_INTERVAL_MS MAX_LAG MEAN_LAG P99_LAG
      CONVERGED(0/1) CONVERGE_MS FINAL_MASTER_OFF FINAL_REPLICA_OFF MAX_LAG_AFTER_STOP

  repl_probe.py rss PID...
      Prints, per PID, VmRSS_KB TREE_PSS_KB (one sample).
"""
import os
import socket
import sys
import time

INTERVAL = float(os.environ.get("INTERVAL", "0"))


class Conn:
    def __init__(self, port):
        self.s = socket.create_connection(("127.0.0.1", port), timeout=30)
        self.s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buf = b""

    def _line(self):
        while True:
            i = self.buf.find(b"\r\n")
            if i >= 0:
                line, self.buf = self.buf[:i], self.buf[i + 2:]
                return line
            chunk = self.s.recv(65536)
            if not chunk:
                raise ConnectionError("connection closed")
            self.buf += chunk

    def _exact(self, n):
        while len(self.buf) < n + 2:
            chunk = self.s.recv(max(65536, n + 2 - len(self.buf)))
            if not chunk:
                raise ConnectionError("connection closed")
            self.buf += chunk
        data, self.buf = self.buf[:n], self.buf[n + 2:]
        return data

    def _reply(self):
        line = self._line()
        t, rest = line[:1], line[1:]
        if t in (b"+", b"-"):
            return rest if t == b"+" else RuntimeError(rest.decode())
        if t == b":":
            return int(rest)
        if t in (b"$", b"="):
            n = int(rest)
            return None if n < 0 else self._exact(n)
        if t == b"*":
            n = int(rest)
            return None if n < 0 else [self._reply() for _ in range(n)]
        raise ConnectionError("unexpected reply %r" % line)

    def cmd(self, *args):
        out = [b"*%d\r\n" % len(args)]
        for a in args:
            a = a if isinstance(a, bytes) else str(a).encode()
            out.append(b"$%d\r\n%s\r\n" % (len(a), a))
        self.s.sendall(b"".join(out))
        return self._reply()

    def info(self, section):
        r = self.cmd("INFO", section)
        if isinstance(r, Exception) or r is None:
            return {}
        d = {}
        for line in r.decode(errors="replace").splitlines():
            k, sep, v = line.partition(":")
            if sep:
                d[k] = v
        return d


def vmrss_kb(pid):
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def pss_kb(pid):
    try:
        with open("/proc/%d/smaps_rollup" % pid) as f:
            for line in f:
                if line.startswith("Pss:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def children(pids):
    """Map pid -> list of child pids, one /proc scan."""
    want = set(pids)
    out = {p: [] for p in pids}
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % name) as f:
                st = f.read()
        except OSError:
            continue
        ppid = int(st[st.rfind(")") + 2:].split()[1])
        if ppid in want:
            out[ppid].append(int(name))
    return out


def tree_pss(pid, kids):
    return pss_kb(pid) + sum(pss_kb(c) for c in kids.get(pid, []))


def cmd_sync(rport, mport, pids):
    interval = INTERVAL or 0.02
    deadline = float(os.environ.get("DEADLINE", "600"))
    peak_rss = {p: 0 for p in pids}
    peak_pss = {p: 0 for p in pids}
    kids = children(pids)
    r = Conn(rport)
    start = time.monotonic()
    rep = r.cmd("REPLICAOF", "127.0.0.1", mport)
    if isinstance(rep, Exception):
        sys.exit("REPLICAOF failed: %s" % rep)
    samples = 0
    while True:
        for p in pids:
            peak_rss[p] = max(peak_rss[p], vmrss_kb(p))
            peak_pss[p] = max(peak_pss[p], tree_pss(p, kids))
        samples += 1
        if samples % 5 == 0:  # a fork child lives for seconds: rescan every ~100 ms
            kids = children(pids)
        if r.info("replication").get("master_link_status") == "up":
            break
        now = time.monotonic()
        if now - start > deadline:
            print("deadline: link not up after %.0f s" % deadline, file=sys.stderr)
            sys.exit(1)
        time.sleep(max(0.0, interval - (time.monotonic() - now)))
    secs = time.monotonic() - start
    # Keep sampling SETTLE seconds after link-up (the replaced dataset is
    # being freed), at least once.
    settle_end = time.monotonic() + float(os.environ.get("SETTLE", "0"))
    while True:
        for p in pids:
            peak_rss[p] = max(peak_rss[p], vmrss_kb(p))
            peak_pss[p] = max(peak_pss[p], tree_pss(p, kids))
        if time.monotonic() >= settle_end:
            break
        time.sleep(interval)
    print(" ".join(["%.3f" % secs, str(samples)] +
                   ["%d %d" % (peak_rss[p], peak_pss[p]) for p in pids]))


def cmd_lag(mport, rport, stop_file):
    interval = INTERVAL or 0.01
    deadline = float(os.environ.get("DEADLINE", "10"))
    m, r = Conn(mport), Conn(rport)

    master_first = os.environ.get("ORDER", "replica-first") == "master-first"

    def sample():
        # Replica first, then master: the replica offset can only have been
        # overtaken by the master's between the two reads, so the lag is an
        # upper bound (master first would underestimate it, even below 0).
        if master_first:
            mo = int(m.info("replication").get("master_repl_offset", "-1"))
            ro = int(r.info("replication").get("slave_repl_offset", "-1"))
        else:
            ro = int(r.info("replication").get("slave_repl_offset", "-1"))
            mo = int(m.info("replication").get("master_repl_offset", "-1"))
        return mo, ro

    sample()
    open(stop_file + ".ready", "w").close()  # connected: the load may start
    lags = []
    t0 = time.monotonic()
    while not os.path.exists(stop_file):
        t = time.monotonic()
        mo, ro = sample()
        lags.append(mo - ro)
        time.sleep(max(0.0, interval - (time.monotonic() - t)))
    t_stop = time.monotonic()
    n = len(lags)
    mean_iv = (t_stop - t0) / n * 1000 if n else 0.0
    converged, conv_ms, after_max = 0, -1.0, 0
    while True:
        t = time.monotonic()
        mo, ro = sample()
        after_max = max(after_max, mo - ro)
        if mo == ro:
            converged, conv_ms = 1, (t - t_stop) * 1000
            break
        if t - t_stop > deadline:
            break
        time.sleep(max(0.0, interval - (time.monotonic() - t)))
    s = sorted(lags) or [0]
    p99 = s[min(len(s) - 1, int(len(s) * 0.99))]
    print("%d %.2f %d %.0f %d %d %.0f %d %d %d" % (
        n, mean_iv, max(s), sum(s) / len(s), p99, converged, conv_ms, mo, ro, after_max))


def main():
    a = sys.argv[1:]
    if not a:
        sys.exit(__doc__)
    if a[0] == "sync":
        cmd_sync(int(a[1]), int(a[2]), [int(p) for p in a[3:]])
    elif a[0] == "lag":
        cmd_lag(int(a[1]), int(a[2]), a[3])
    elif a[0] == "rss":
        pids = [int(p) for p in a[1:]]
        kids = children(pids)
        print(" ".join("%d %d" % (vmrss_kb(p), tree_pss(p, kids)) for p in pids))
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
