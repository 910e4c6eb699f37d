#!/usr/bin/env python3
"""Turn the sluice benchmark's raw.tsv and meta into results.md and chart data.

usage: report.py OUTDIR

Reads OUTDIR/raw.tsv (run, metric, target, value) and OUTDIR/meta (key=value);
writes OUTDIR/results.md, OUTDIR/ratios.dat, OUTDIR/abs.dat, OUTDIR/grid.dat
and OUTDIR/labels.gp (read by chart.gp).

Every cell is the median over runs, with (min-max) when there are several.
Ratios sluice/nginx and sluice/haproxy are taken within each run (the
proxies of one run saw the same machine), then summarised the same way;
in the grid tables the ratio shown is that of the medians, with the min-max
of the per-run ratios. The floor rows take each server's own cost within
each run (sluice - floor, nginx proxy - origin), then summarise it.
"""
import os
import statistics
import sys

TARGETS = ["origin", "floor", "sluice", "nginx", "haproxy"]
PROXIES = ["sluice", "nginx", "haproxy"]
SIZES = {"16k": "16 KiB", "1m": "1 MiB", "16m": "16 MiB"}
MODES = {
    "mem": "origin `mem`: sendfile off, the body copied through nginx's buffers and written with writev",
    "file": "origin `file`: sendfile from the page cache",
}


def k(v):
    return f"{v / 1000:.1f}k" if v >= 10000 else f"{v:.0f}"


def f0(v):
    return f"{v:.0f}"


def f1(v):
    return f"{v:.1f}"


def f2(v):
    return f"{v:.2f}"


def count(v):
    return f"{v:.0f}"


# key, label (table), short label (chart), better: "hi" | "lo" | None, format, chart?
METRICS = [
    ("ka_rps", "req/s, keep-alive, small body, {conns} conns", "keep-alive req/s", "hi", k, True),
    ("kib16_rps", "req/s, keep-alive, 16 KiB body, {conns} conns", "16 KiB req/s", "hi", k, True),
    ("close_rps", "req/s, new connection per request, {conns} conns ⁵", "conn/req req/s", "hi", k, True),
    ("big_mbs", "MB/s, 1 MiB responses, {big_conns} conns", "1 MiB MB/s", "hi", f0, True),
    ("lat_p50", "latency p50 (µs) at ≈{lat_rate} req/s offered ¹", "p50 latency", "lo", f0, True),
    ("lat_p99", "latency p99 (µs) at ≈{lat_rate} req/s offered ¹", "p99 latency", "lo", f0, True),
    ("cpu_ka", "**CPU µs per request**, keep-alive ²", "CPU µs/req", "lo", f1, True),
    ("cpu_close", "CPU µs per request, new connection per request ²", "CPU µs/req conn/req", "lo", f1, True),
    ("rss_conn", "RSS per idle keep-alive connection (KiB), {idle_conns} conns ³", "RSS/idle conn", "lo", f2, True),
    ("reload_rps", "req/s, keep-alive, reload every 1 s ⁴", "req/s w/ reloads", "hi", k, True),
    ("reload_sockerr", "reload run: socket errors (connect/read/write/timeout)", None, "lo", count, False),
    ("reload_non2xx", "reload run: non-2xx responses", None, "lo", count, False),
    ("errors", "errors in all other runs (socket errors, non-2xx, failed idle conns)", None, "lo", count, False),
    ("other_cpu", "load from other processes on the measured CPU, % ⁶", None, None, f0, False),
]


def load(out):
    meta = {}
    with open(os.path.join(out, "meta")) as f:
        for line in f:
            key, _, val = line.rstrip("\n").partition("=")
            meta[key] = val
    data = {}  # (metric, target) -> {run: [values]}
    with open(os.path.join(out, "raw.tsv")) as f:
        for line in f:
            parts = line.rstrip("\n").split("\t")
            if len(parts) != 4:
                continue
            run, metric, target, value = parts
            try:
                data.setdefault((metric, target), {}).setdefault(int(run), []).append(float(value))
            except ValueError:
                pass
    return meta, data


def summary(values):
    if not values:
        return None
    return statistics.median(values), min(values), max(values)


def cell(s, fmt, runs):
    if s is None:
        return "—"
    med, lo, hi = s
    if runs > 1:
        return f"{fmt(med)} ({fmt(lo)}–{fmt(hi)})"
    return fmt(med)


def values(data, metric, target):
    return [v for vs in data.get((metric, target), {}).values() for v in vs]


def per_run(data, metric, target):
    return {r: statistics.mean(vs) for r, vs in data.get((metric, target), {}).items()}


def ratios(data, metric, other, num="sluice"):
    a = per_run(data, metric, num)
    b = per_run(data, metric, other)
    return [a[r] / b[r] for r in sorted(a) if r in b and b[r] > 0]


def diffs(data, metric, a, b):
    x = per_run(data, metric, a)
    y = per_run(data, metric, b)
    return [x[r] - y[r] for r in sorted(x) if r in y]


def floor_rows(data, meta, runs):
    """The own-cost table: per request (cpu_ka) and per idle connection."""
    rows = [
        ("bare evhttp (the floor)", lambda m: values(data, m, "floor")),
        ("sluice", lambda m: values(data, m, "sluice")),
        ("**sluice's own** (sluice − evhttp)", lambda m: diffs(data, m, "sluice", "floor")),
        ("nginx serving (the origin, directly)", lambda m: values(data, m, "origin")),
        ("nginx proxy", lambda m: values(data, m, "nginx")),
        ("**nginx's own** (nginx proxy − nginx serving)", lambda m: diffs(data, m, "nginx", "origin")),
    ]
    md = [f"| per request ({meta.get('conns', '?')} keep-alive conns, small body) "
          f"and per idle connection ({meta.get('idle_conns', '?')} conns) | "
          "CPU µs per request ↓ | KiB per idle connection ↓ |",
          "|---|--:|--:|"]
    for label, get in rows:
        md.append(f"| {label} | {cell(summary(get('cpu_ka')), f1, runs)} | "
                  f"{cell(summary(get('rss_conn')), f2, runs)} |")
    return md


def grid_ratio(data, metric, other):
    """(ratio of the medians of sluice and other, min, max of per-run ratios)."""
    a = summary(values(data, metric, "sluice"))
    b = summary(values(data, metric, other))
    if a is None or b is None or b[0] <= 0:
        return None
    rs = ratios(data, metric, other) or [a[0] / b[0]]
    return a[0] / b[0], min(rs), max(rs)


def grid_cell(data, metric, other, runs):
    """The ratio as text, and its value (None when there is none)."""
    r = grid_ratio(data, metric, other)
    if r is None:
        return "—", None
    # below 1.0 but shown as 1.00 would read as parity next to its mark
    txt = f"{r[0]:.3f}" if r[0] < 1.0 <= round(r[0], 2) else f2(r[0])
    if runs > 1:
        txt += f" ({f2(r[1])}–{f2(r[2])})"
    return txt, r[0]


def grid_chart(data, meta):
    """grid.dat rows: label, s/nginx med min max, s/haproxy med min max."""
    rows = []
    for mode in meta.get("grid_modes", "").split():
        for z in meta.get("grid_sizes", "").split():
            for c in meta.get("grid_conns", "").split():
                key = f"grid_{mode}_{z}_{c}"
                vals = []
                for other in ("nginx", "haproxy"):
                    r = grid_ratio(data, key, other)
                    vals += list(r) if r else ["NaN"] * 3
                rows.append(f'"{mode} {z} x{c}" ' + " ".join(str(v) for v in vals))
    return rows


def grid_tables(data, meta, runs):
    """One table per origin mode: rows size x conns, MB/s and ratios."""
    modes = meta.get("grid_modes", "").split()
    sizes = meta.get("grid_sizes", "").split()
    conns = meta.get("grid_conns", "").split()
    ceiling = meta.get("grid_ceiling") == "1"
    cols = (["origin"] if ceiling else []) + PROXIES
    md = []
    for mode in modes:
        head = ["size", "conns"] + [f"{t} MB/s" + (" (ceiling)" if t == "origin" else "") for t in cols]
        head += ["sluice/nginx", "sluice/haproxy"]
        md.append(f"**Grid, {MODES.get(mode, mode)}.** MB/s, {meta.get('grid_seconds', '?')} s per cell; "
                  "✗: sluice/nginx < 1.0.")
        md.append("")
        md.append("| " + " | ".join(head) + " |")
        md.append("|" + "|".join(["---", "--:"] + ["--:"] * (len(head) - 2)) + "|")
        n = worse = 0
        for z in sizes:
            for c in conns:
                key = f"grid_{mode}_{z}_{c}"
                row = [SIZES.get(z, z), c]
                row += [cell(summary(values(data, key, t)), f0, runs) for t in cols]
                vs_nginx, r = grid_cell(data, key, "nginx", runs)
                if r is not None:
                    n += 1
                    if r < 1.0:
                        worse += 1
                        vs_nginx = f"**{vs_nginx}** ✗"
                row += [vs_nginx, grid_cell(data, key, "haproxy", runs)[0]]
                md.append("| " + " | ".join(row) + " |")
        md.append("")
        md.append(f"sluice ≥ nginx in {n - worse} of {n} cells ({mode}).")
        md.append("")
    return md


def main():
    out = sys.argv[1]
    meta, data = load(out)
    runs = int(meta.get("runs", "1"))
    lat = [v for t in TARGETS[1:] for v in values(data, "lat_rps", t)]
    fill = {
        "conns": meta.get("conns", "?"),
        "big_conns": meta.get("big_conns", "?"),
        "idle_conns": meta.get("idle_conns", "?"),
        "lat_rate": k(statistics.median(lat)) if lat else "?",
    }

    rows, ratio_rows, abs_blocks, titles, better = [], [], [], [], []
    for key, label, short, dirn, fmt, chart in METRICS:
        if key == "big_mbs" and meta.get("grid") != "0":
            label += " (the grid has it for every size)"
        label = label.format(**fill)
        arrow = {"hi": "↑", "lo": "↓"}.get(dirn, "")
        cells = [cell(summary(values(data, key, t)), fmt, runs if key != "other_cpu" else 2)
                 for t in TARGETS]
        rs = []
        for other in ("nginx", "haproxy"):
            r = ratios(data, key, other) if chart else []
            rs.append(summary(r))
        rcells = [cell(r, f2, runs) for r in rs]
        rows.append(f"| {label} | {arrow} | " + " | ".join(cells + rcells) + " |")
        if not chart:
            continue
        lab = f"{short} {arrow}"
        vals = []
        for r in rs:
            vals += list(r) if r else ["NaN", "NaN", "NaN"]
        ratio_rows.append(f'"{lab}" ' + " ".join(str(v) for v in vals))
        titles.append(f"{short} {arrow}")
        better.append(dirn)
        block = []
        for i, t in enumerate(TARGETS):
            s = summary(values(data, key, t))
            med, lo, hi = s if s else ("NaN", "NaN", "NaN")
            block.append(f"{i} {t} {med} {lo} {hi}")
        abs_blocks.append("\n".join(block))

    with open(os.path.join(out, "ratios.dat"), "w") as f:
        f.write("# figure  s/nginx med min max  s/haproxy med min max\n")
        f.write("\n".join(ratio_rows) + "\n")
    with open(os.path.join(out, "abs.dat"), "w") as f:
        f.write("\n\n\n".join(abs_blocks) + "\n")
    grid = grid_chart(data, meta) if meta.get("grid") != "0" else []
    with open(os.path.join(out, "grid.dat"), "w") as f:
        f.write("# cell  s/nginx med min max  s/haproxy med min max\n")
        f.write("\n".join(grid) + "\n")
    with open(os.path.join(out, "labels.gp"), "w") as f:
        f.write(f"GRID_N = {len(grid)}\n")
        f.write(f'GRID_TITLE = "grid: sluice / other, MB/s per cell (origin mode, size x conns), '
                f'{meta.get("grid_seconds", "?")} s per cell.  Above 1 favours sluice."\n')
        f.write(f"N = {len(titles)}\narray TITLE[N]\n")
        for i, t in enumerate(titles, 1):
            f.write(f'TITLE[{i}] = "{t}"\n')
        f.write(f'SUBTITLE = "{meta.get("date", "")}, {runs} run(s) x {meta.get("seconds", "?")} s; '
                f'bars: median, whiskers: min-max over runs"\n')

    crashes = {t: int(meta.get(f"crashes_{t}", "0")) for t in TARGETS}
    reloads = {t: meta.get(f"reloads_{t}", "0") for t in TARGETS[1:]}
    errlog = {t: meta.get(f"errlog_{t}", "0") for t in TARGETS}
    spread = f"median (min–max) over {runs} runs" if runs > 1 else "one run (set BENCH_RUNS for a spread)"
    over = f"median (min–max) over {runs} runs" if runs > 1 else "one run"
    md = []
    md.append(f"# sluice vs nginx vs HAProxy — {meta.get('date', '')}")
    md.append("")
    md.append(f"sluice {meta.get('v_sluice', '?')}; nginx {meta.get('v_nginx', '?')} (proxy and origin); "
              f"{meta.get('v_haproxy', '?')}; {meta.get('v_wrk', '?')}. {meta.get('host', '')}.")
    md.append("")
    md.append(f"{runs} run(s) × {meta.get('seconds', '?')} s per figure; cells: {spread}. "
              "Ratios are sluice ÷ other, taken within each run, then summarised the same way. "
              "↑: higher is better (a ratio > 1 favours sluice); ↓: lower is better (a ratio < 1 favours sluice). "
              "On this shared machine ratios matter, absolute numbers do not.")
    md.append("")
    md.append("| figure | | origin (ceiling) | floor (bare evhttp) | sluice | nginx | haproxy | "
              "sluice/nginx | sluice/haproxy |")
    md.append("|---|:-:|--:|--:|--:|--:|--:|--:|--:|")
    md.extend(rows)
    md.append("")
    md.append(f"## The floor: sluice's own cost beside nginx's ({over})")
    md.append("")
    md.append("The floor is a bare libevent evhttp server (contrib/bench/floor.c, "
              f"libevent {meta.get('v_libevent', '?')}) answering like the origin from memory, measured directly; "
              "nginx serving is the origin measured directly. Each own cost is taken within each run, "
              "then summarised: what the proxy adds above the HTTP server it is built on.")
    md.append("")
    md.extend(floor_rows(data, meta, runs))
    md.append("")
    if meta.get("grid") != "0":
        md.append(f"## Large responses: the grid ({over})")
        md.append("")
        md.extend(grid_tables(data, meta, runs))
    md.append(f"Setup: the load generator (wrk -t1, and the idle-connection client) runs on CPU {meta.get('cpu_load')}; "
              f"each proxy on CPU {meta.get('cpu_proxy')}, alone. The origin (nginx, 1 worker; /small from memory, "
              "the other bodies files in the page cache; the grid's `mem` mode is a second server of it "
              "with sendfile off) "
              f"shares CPU {meta.get('cpu_load')} with wrk while a proxy is measured, and is moved to CPU "
              f"{meta.get('cpu_proxy')} when measured directly, so the measured server always has a CPU to itself. "
              "All proxies: 1 worker/thread, upstream keep-alive pool of 64, no access log. "
              "The origin column is that nginx served directly (no proxy hop): a ceiling, not a competitor. "
              f"The floor column is a bare evhttp server on CPU {meta.get('cpu_proxy')}, measured directly: "
              "what libevent's HTTP layer alone does, not a proxy (so not in the reload figure or the grid).")
    md.append("")
    md.append(f"1. wrk is closed-loop and wrk2 is not packaged in Debian, so the offered rate is approximated: "
              f"{meta.get('lat_conns')} connections, each pausing {meta.get('lat_pause_ms')} ms after every response "
              f"(the rate achieved is shown). Percentiles are wrk's own (`--latency` histogram), "
              "not corrected for coordinated omission.")
    md.append("2. utime+stime from /proc/PID/stat of every process of that server (nginx master+worker, "
              "HAProxy master+worker, sluice), before and after the run, divided by wrk's request count. "
              "Clock ticks are 10 ms, so short runs are coarse. CPU time is what the process ran, "
              "so it is the figure least disturbed by other load on the machine.")
    md.append("3. VmRSS summed over the server's processes, before and after opening the idle connections "
              "(each sent one request and read the response), divided by the number of connections. "
              "Each server, the origin and the floor included, is restarted (and warmed up for 1 s) just "
              "before, because memory freed by earlier connections stays in the process and would hide "
              "the growth.")
    md.append("4. Reloads: sluice SIGHUP; nginx SIGHUP to the master (= `nginx -s reload`); "
              "HAProxy in master-worker mode (-W), SIGUSR2 to the master. "
              f"Reloads sent: sluice {reloads['sluice']}, nginx {reloads['nginx']}, haproxy {reloads['haproxy']}.")
    md.append("5. Each request opens a loopback connection, so this rate also depends on the kernel's TIME_WAIT "
              "reuse and SYN retransmits, which vary with everything else on the machine; "
              "the CPU µs per request of the same run is the steadier figure.")
    md.append("6. Not a result: how much of the measured CPU (all but idle, steal included) went to other processes "
              "while this server was measured, over all its figures (rss excluded). High values mean its "
              "rates and latencies were squeezed by the machine, not by itself.")
    md.append("")
    notes = []
    for t in TARGETS:
        if crashes[t]:
            notes.append(f"**{t} died {crashes[t]} time(s) during the run and was restarted**; see logs/.")
    for t in TARGETS:
        if errlog[t] not in ("0", ""):
            notes.append(f"{t}'s error log has {errlog[t]} line(s): logs/{t}.err.")
    if notes:
        md.append("Notes: " + " ".join(notes))
        md.append("")
    md.append(f"Chart: results.png. Raw values: raw.tsv; configs: conf/; logs: logs/. "
              f"Took {meta.get('elapsed_s', '?')} s.")
    with open(os.path.join(out, "results.md"), "w") as f:
        f.write("\n".join(md) + "\n")


if __name__ == "__main__":
    main()
