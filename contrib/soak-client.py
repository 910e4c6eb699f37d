#!/usr/bin/env python3
"""soak-client.py: the TLS and new-connection load of contrib/soak.sh.

Usage: soak-client.py STATS CA HOST PLAIN_PORT TLS_PORT PATH SPEC...

Each SPEC is MODE:RATE, one paced thread (RATE requests/s, one at a time):
  tls-new    a new TLS connection per request (a full handshake each)
  plain-new  a new plain TCP connection per request
  tls-ka     one TLS keep-alive connection, reopened only if sluice ends it
Every request is a GET of PATH; a success is a 2xx with the whole body.
Anything else is a failure, counted by kind: connect (refused or connect
error), tls (handshake), reset, eof (closed before a complete response),
timeout, status (a non-2xx answer), bad (unparseable). The tls-ka pace is far
below sluice's keepalive_timeout, so sluice has no reason to close that
connection: any error on it is a failure too.

Once a second STATS is rewritten (atomically) as KEY=VALUE lines: per mode
MODE.ok, MODE.fail, MODE.KIND; total ok, fail; certs (distinct server
certificates seen on TLS, by SHA-256), configs (X-Soak-Config values
seen, with counts). The first 50 failures are described on stderr with a
UTC time stamp. Stops on SIGTERM or SIGINT (the threads finish their
current request), writes STATS a last time and exits 0.
"""
import hashlib
import http.client
import os
import signal
import socket
import ssl
import sys
import threading
import time

KINDS = ("connect", "tls", "reset", "eof", "timeout", "status", "bad")
TIMEOUT = 10.0

stop = threading.Event()
lock = threading.Lock()
counts = {}
certs = set()
configs = {}
notes = [0]


def bump(key, n=1):
    with lock:
        counts[key] = counts.get(key, 0) + n


def note(mode, kind, what):
    with lock:
        notes[0] += 1
        n = notes[0]
    if n <= 50:
        t = time.strftime("%H:%M:%S", time.gmtime())
        sys.stderr.write("soak-client: %s.%03d %s: %s: %s\n" % (
            t, int(time.time() * 1000) % 1000, mode, kind, what))
        sys.stderr.flush()
    elif n == 51:
        sys.stderr.write("soak-client: further failures not described\n")


def classify(exc):
    if isinstance(exc, ssl.SSLError) and not isinstance(
            exc, (ssl.SSLEOFError, ssl.SSLZeroReturnError)):
        return "tls"
    if isinstance(exc, (socket.timeout, TimeoutError)):
        return "timeout"
    if isinstance(exc, ConnectionRefusedError):
        return "connect"
    if isinstance(exc, (ConnectionResetError, BrokenPipeError)):
        return "reset"
    if isinstance(exc, (http.client.RemoteDisconnected,
                        http.client.IncompleteRead, ssl.SSLEOFError,
                        ssl.SSLZeroReturnError)):
        return "eof"
    if isinstance(exc, http.client.HTTPException):
        return "bad"
    if isinstance(exc, OSError):
        return "reset"
    return "bad"


class Client:
    def __init__(self, mode, rate, a):
        self.mode, self.rate, self.a = mode, rate, a
        self.conn = None
        self.tls = mode.startswith("tls")
        self.keep = mode.endswith("-ka")

    def connect(self):
        a = self.a
        if self.tls:
            c = http.client.HTTPSConnection(a.host, a.tls_port,
                                            timeout=TIMEOUT, context=a.ctx)
        else:
            c = http.client.HTTPConnection(a.host, a.plain_port,
                                           timeout=TIMEOUT)
        try:
            c.connect()
        except Exception as e:
            c.close()
            k = classify(e)
            if k != "tls" and k != "timeout":
                k = "connect"
            raise Failure(k, "%s: %r" % ("connect", e))
        if self.tls:
            der = c.sock.getpeercert(binary_form=True)
            h = hashlib.sha256(der).hexdigest()[:16]
            with lock:
                certs.add(h)
        return c

    def one(self):
        if self.conn is None:
            self.conn = self.connect()
        c = self.conn
        hdrs = {} if self.keep else {"Connection": "close"}
        try:
            c.request("GET", self.a.path, headers=hdrs)
            r = c.getresponse()
            body = r.read()
        except Exception as e:
            self.close()
            raise Failure(classify(e), repr(e))
        cfg = r.getheader("X-Soak-Config") or "-"
        with lock:
            configs[cfg] = configs.get(cfg, 0) + 1
        if not self.keep or r.will_close:
            self.close()
        if r.status < 200 or r.status > 299:
            raise Failure("status", "HTTP %d %s" % (r.status, body[:80]))
        cl = r.getheader("Content-Length")
        if cl is not None and int(cl) != len(body):
            raise Failure("eof", "body %d of %s" % (len(body), cl))

    def close(self):
        if self.conn is not None:
            self.conn.close()
            self.conn = None

    def run(self):
        gap = 1.0 / self.rate
        nxt = time.monotonic()
        while not stop.is_set():
            try:
                self.one()
                bump(self.mode + ".ok")
            except Failure as f:
                bump(self.mode + ".fail")
                bump(self.mode + "." + f.kind)
                note(self.mode, f.kind, f.what)
            nxt += gap
            d = nxt - time.monotonic()
            if d > 0:
                stop.wait(d)
            else:
                nxt = time.monotonic()
        self.close()


class Failure(Exception):
    def __init__(self, kind, what):
        Exception.__init__(self, what)
        self.kind, self.what = kind, what


def write_stats(path, modes):
    with lock:
        c = dict(counts)
        ncert = len(certs)
        cfg = dict(configs)
    lines = []
    tok = tfail = 0
    for m in modes:
        ok, fail = c.get(m + ".ok", 0), c.get(m + ".fail", 0)
        tok += ok
        tfail += fail
        lines.append("%s.ok=%d" % (m, ok))
        lines.append("%s.fail=%d" % (m, fail))
        for k in KINDS:
            lines.append("%s.%s=%d" % (m, k, c.get(m + "." + k, 0)))
    lines.append("ok=%d" % tok)
    lines.append("fail=%d" % tfail)
    lines.append("certs=%d" % ncert)
    lines.append("configs=%s" % ",".join(
        "%s:%d" % kv for kv in sorted(cfg.items())))
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        f.write("\n".join(lines) + "\n")
    os.rename(tmp, path)


def main():
    if len(sys.argv) < 8:
        sys.stderr.write(__doc__)
        return 1

    class A:
        pass
    a = A()
    a.stats, a.ca, a.host = sys.argv[1:4]
    a.plain_port, a.tls_port = int(sys.argv[4]), int(sys.argv[5])
    a.path = sys.argv[6]
    a.ctx = ssl.create_default_context(cafile=a.ca)
    a.ctx.check_hostname = True
    clients = []
    for spec in sys.argv[7:]:
        mode, rate = spec.split(":")
        if mode not in ("tls-new", "plain-new", "tls-ka"):
            sys.stderr.write("soak-client: unknown mode %s\n" % mode)
            return 1
        clients.append(Client(mode, float(rate), a))
    modes = []
    for cl in clients:
        if cl.mode not in modes:
            modes.append(cl.mode)
    signal.signal(signal.SIGTERM, lambda *x: stop.set())
    signal.signal(signal.SIGINT, lambda *x: stop.set())
    threads = [threading.Thread(target=cl.run, daemon=True)
               for cl in clients]
    for t in threads:
        t.start()
    sys.stderr.write("soak-client: started\n")
    sys.stderr.flush()
    while not stop.is_set():
        write_stats(a.stats, modes)
        stop.wait(1.0)
    for t in threads:
        t.join(TIMEOUT + 2)
    write_stats(a.stats, modes)
    return 0


if __name__ == "__main__":
    sys.exit(main())
