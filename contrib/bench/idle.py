#!/usr/bin/env python3
"""Idle keep-alive connections vs. RSS, for the sluice benchmark.

usage: idle.py PID PORT N [PATH]

Measures VmRSS summed over PID and all its descendants (nginx master+worker,
HAProxy master+worker, sluice), opens N connections to 127.0.0.1:PORT, sends
one keep-alive GET PATH on each and reads the whole response, so every
connection ends idle in keep-alive; after a pause it measures RSS again,
prints one line and closes everything:

  IDLE conns=N failed=F rss_before_kb=A rss_after_kb=B per_conn_bytes=X

Requests go out in batches of 50, below the upstream keepalive pool (64), so
the proxies need no extra upstream connections.
"""
import os
import resource
import socket
import sys
import time

BATCH = 50


def tree(root):
    kids = {}
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open(f"/proc/{d}/stat") as f:
                s = f.read()
        except OSError:
            continue
        ppid = int(s.rsplit(")", 1)[1].split()[1])
        kids.setdefault(ppid, []).append(int(d))
    out, todo = [], [root]
    while todo:
        p = todo.pop()
        out.append(p)
        todo.extend(kids.get(p, []))
    return out


def rss_kb(root):
    total = 0
    for p in tree(root):
        try:
            with open(f"/proc/{p}/status") as f:
                for line in f:
                    if line.startswith("VmRSS:"):
                        total += int(line.split()[1])
                        break
        except OSError:
            pass
    return total


def read_response(s):
    """Read one response with a Content-Length body; True if it is a 200."""
    buf = b""
    while b"\r\n\r\n" not in buf:
        chunk = s.recv(65536)
        if not chunk:
            return False
        buf += chunk
    head, _, body = buf.partition(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    length = 0
    for h in lines[1:]:
        k, _, v = h.partition(b":")
        if k.strip().lower() == b"content-length":
            length = int(v.strip())
    while len(body) < length:
        chunk = s.recv(65536)
        if not chunk:
            return False
        body += chunk
    return lines[0].split()[1:2] == [b"200"]


def main():
    pid, port, n = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
    path = sys.argv[4] if len(sys.argv) > 4 else "/small"
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < n + 100:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    req = (f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
           "User-Agent: sluice-bench-idle\r\n\r\n").encode()

    time.sleep(0.5)
    before = rss_kb(pid)
    socks, failed = [], 0
    for start in range(0, n, BATCH):
        batch = []
        for _ in range(min(BATCH, n - start)):
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.settimeout(10)
            try:
                s.connect(("127.0.0.1", port))
                s.sendall(req)
                batch.append(s)
            except OSError:
                failed += 1
                s.close()
        for s in batch:
            try:
                ok = read_response(s)
            except (OSError, ValueError):
                ok = False
            if ok:
                socks.append(s)
            else:
                failed += 1
                s.close()
    time.sleep(1.0)
    after = rss_kb(pid)
    alive = len(socks)
    per = (after - before) * 1024 / alive if alive else 0
    print(f"IDLE conns={alive} failed={failed} rss_before_kb={before} "
          f"rss_after_kb={after} per_conn_bytes={per:.0f}", flush=True)
    for s in socks:
        s.close()


if __name__ == "__main__":
    main()
