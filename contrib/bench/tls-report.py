#!/usr/bin/env python3
"""Turn tls.sh's tls-raw.tsv and tls-meta into tls.md.

usage: tls-report.py OUTDIR

Reads OUTDIR/tls-raw.tsv (run, figure, metric, target, value) and
OUTDIR/tls-meta (key=value); writes OUTDIR/tls.md.

Every cell is the median over runs, with (min-max) when there are several.
The sluice/nginx ratio is taken within each run (both saw the same machine),
then summarised the same way.
"""
import os
import statistics
import sys

TARGETS = ["sluice", "nginx"]
KEYS = {"ecdsa": "ECDSA P-256", "rsa": "RSA-2048"}
KINDS = ["full", "resumed", "ka", "h2"]


def k(v):
    return f"{v / 1000:.1f}k" if v >= 10000 else f"{v:.0f}"


def f0(v):
    return f"{v:.0f}"


def f1(v):
    return f"{v:.1f}"


def load(out):
    meta = {}
    with open(os.path.join(out, "tls-meta")) as f:
        for line in f:
            key, _, val = line.rstrip("\n").partition("=")
            meta[key] = val
    data = {}  # (figure, metric, target) -> {run: value}
    with open(os.path.join(out, "tls-raw.tsv")) as f:
        for line in f:
            parts = line.rstrip("\n").split("\t")
            if len(parts) != 5:
                continue
            run, fig, metric, target, value = parts
            try:
                data.setdefault((fig, metric, target), {})[int(run)] = float(value)
            except ValueError:
                pass
    return meta, data


def summary(vals):
    if not vals:
        return None
    return statistics.median(vals), min(vals), max(vals)


def cell(vals, fmt, runs):
    s = summary(vals)
    if s is None:
        return "—"
    med, lo, hi = s
    if runs > 1 and len(vals) > 1:
        return f"{fmt(med)} ({fmt(lo)}–{fmt(hi)})"
    return fmt(med)


def values(data, fig, metric, target):
    return list(data.get((fig, metric, target), {}).values())


def ratios(data, fig, metric):
    a = data.get((fig, metric, "sluice"), {})
    b = data.get((fig, metric, "nginx"), {})
    return [a[r] / b[r] for r in sorted(a) if r in b and b[r] > 0]


def figures(meta):
    keys = meta.get("keys", "ecdsa").split()
    vers = meta.get("versions", "1.3").split()
    shim = meta.get("shim", "0") == "1"
    out = []
    for v in vers:
        for key in keys:
            if shim:
                out.append(f"full.{key}.{v}")
            out.append(f"resumed.{key}.{v}")
    out.append(f"ka.{keys[0]}.{vers[0]}")
    out.append(f"h2.ecdsa.{vers[0]}")
    return out


def describe(fig, conns, h2_conns="?"):
    kind, key, ver = fig.split(".", 2)
    what = f"{KEYS.get(key, key)}, TLS ≤ {ver}"
    if kind == "full":
        return [
            ("rps", f"**new TLS connections/s, full handshake** ({what}, {conns} conns) ¹", "hi", k),
            ("cpu", f"CPU µs per connection, full handshake + 1 request ({what}) ²", "lo", f1),
            ("busy", "… server CPU busy, % ³", None, f0),
        ]
    if kind == "resumed":
        return [
            ("rps", f"new TLS connections/s, wrk as is ({what}, {conns} conns) ⁴", "hi", k),
            ("cpu", f"CPU µs per connection, wrk as is ({what}) ²", "lo", f1),
            ("resumed", "… handshakes that were resumptions, % ⁴", None, f0),
            ("busy", "… server CPU busy, % ³", None, f0),
        ]
    if kind == "h2":
        return [
            ("rps", f"**req/s, HTTP/2** (h2load, {what}, {h2_conns} conns × 10 streams)", "hi", k),
            ("cpu", f"CPU µs per request, HTTP/2 ({what}, -m 10) ²", "lo", f1),
            ("busy", "… server CPU busy, % ³", None, f0),
        ]
    return [
        ("rps", f"**req/s, TLS keep-alive** ({what}, {conns} conns)", "hi", k),
        ("cpu", f"CPU µs per request, TLS keep-alive ({what}) ²", "lo", f1),
        ("busy", "… server CPU busy, % ³", None, f0),
    ]


def main():
    out = sys.argv[1]
    meta, data = load(out)
    runs = int(meta.get("runs", "1"))
    conns = meta.get("conns", "?")
    figs = figures(meta)

    lines = [
        f"# sluice vs nginx as TLS terminators — {meta.get('date', '')}",
        "",
        f"sluice {meta.get('v_sluice', '?')}; nginx {meta.get('v_nginx', '?')} "
        f"({meta.get('v_nginx_ssl', '?')}); {meta.get('v_openssl', '?')}; {meta.get('v_wrk', 'wrk ?')}. "
        f"{meta.get('host', '')}.",
        "",
        f"{runs} run(s) × {meta.get('seconds', '?')} s per figure; cells: "
        + ("median (min–max) over runs" if runs > 1 else "one run (set BENCH_RUNS for a spread)")
        + ". Ratios are sluice ÷ nginx, taken within each run. ↑: higher is better "
        "(a ratio > 1 favours sluice); ↓: lower is better (a ratio < 1 favours sluice).",
        "",
        "| figure | | sluice | nginx | sluice/nginx |",
        "|---|:-:|--:|--:|--:|",
    ]
    for fig in figs:
        for metric, label, dirn, fmt in describe(fig, conns, meta.get("h2_conns", "?")):
            cells = [cell(values(data, fig, metric, t), fmt, runs) for t in TARGETS]
            if all(c == "—" for c in cells):
                continue
            arrow = {"hi": "↑", "lo": "↓"}.get(dirn, "")
            r = cell(ratios(data, fig, metric), lambda v: f"{v:.2f}", runs) if dirn else "—"
            lines.append(f"| {label} | {arrow} | {cells[0]} | {cells[1]} | {r} |")
    errs = []
    for t in TARGETS:
        n = sum(v for (fig, m, tt), vs in data.items() if m == "errors" and tt == t for v in vs.values())
        errs.append(f"{n:.0f}")
    lines.append(f"| errors: socket errors, non-2xx, failed handshakes (all runs) | ↓ | {errs[0]} | {errs[1]} | — |")
    other = []
    for t in TARGETS:
        vs = [v for (fig, m, tt), d in data.items() if m == "other" and tt == t for v in d.values()]
        other.append(cell(vs, f0, runs) if vs else "—")
    lines.append(f"| load from other processes on the measured CPU, % ⁵ | | {other[0]} | {other[1]} | — |")
    crashes = [meta.get(f"crashes_{t}", "0") for t in TARGETS]
    if any(c != "0" for c in crashes):
        lines.append(f"| crashes (restarted) | ↓ | {crashes[0]} | {crashes[1]} | — |")

    neg = [(f, t, meta[f"neg_{f}_{t}"]) for f in figs for t in TARGETS if f"neg_{f}_{t}" in meta]
    if neg:
        lines += [
            "",
            "Negotiated, as wrk saw it (last run; the shim reads it from wrk's SSL objects):",
            "",
            "| figure | target | protocol | cipher | group | server signature |",
            "|---|---|---|---|---|---|",
        ]
        for f in figs:
            got = {t: meta[f"neg_{f}_{t}"] for t in TARGETS if f"neg_{f}_{t}" in meta}
            if len(got) == 2 and len(set(got.values())) == 1:
                got = {"both": next(iter(got.values()))}
            for t, v in got.items():
                p = (v.split() + ["-"] * 4)[:4]
                lines.append(f"| {f} | {t} | {p[0]} | {p[1]} | {p[2]} | {p[3]} |")

    lines += [
        "",
        "Setup: wrk -t1 and the origin (nginx, 1 worker, 64-byte body from memory, plain HTTP) run on "
        f"CPU {meta.get('cpu_load', '0')}; the TLS terminator under test runs alone on CPU "
        f"{meta.get('cpu_proxy', '1')}. sluice: 1 process; nginx: 1 worker. Both: TLS 1.2 and 1.3, "
        "ALPN http/1.1 (a third listener each, ECDSA, offers h2 for the HTTP/2 figure: h2load -t1 "
        f"-c {meta.get('h2_conns', '?')} -m 10), session tickets on (their defaults), upstream "
        "keep-alive pool of 64, HTTP/1.1 to the origin, no access log. nginx keeps its default `ssl_session_cache none` (no session-id cache) and ciphers; "
        "sluice keeps its defaults. Certificates: throwaway self-signed, one listener per type.",
        "",
        "1. One request per connection (`Connection: close`) and no resumption: an LD_PRELOAD shim "
        "(wrk-tls.c) drops the session wrk keeps before each handshake, so every connection is a full "
        "handshake (key exchange and a certificate signature by the server). New connections/s = "
        "full handshakes/s. The client (wrk, with the X25519 and signature-verify work of every "
        "handshake) shares its CPU with the origin: when the server's CPU is not near 100% busy the "
        "rate is bounded by the client, and the CPU µs are the figure to compare.",
        "2. utime+stime from /proc/PID/stat of the server's processes (nginx master+worker, sluice), "
        "before and after the run, divided by wrk's request count (one request per connection in the "
        "connection figures). Clock ticks are 10 ms, so short runs are coarse.",
        "3. The server's CPU time over the run's wall time: 100% means the server was the bottleneck.",
        "4. wrk reuses each connection's SSL object (SSL_shutdown, SSL_clear, SSL_connect) and so "
        "resumes the previous session on every reconnect: with TLS 1.3 a PSK from a session ticket "
        "with a fresh (EC)DHE exchange and no certificate signature; with TLS 1.2 an abbreviated "
        "handshake with no key exchange at all. The percentage is counted by the shim.",
        "5. Busy time of the measured CPU not spent by the server under test (other processes, "
        "steal). The machine may be shared; ratios and CPU µs are steadier than absolute rates.",
    ]
    with open(os.path.join(out, "tls.md"), "w") as f:
        f.write("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
