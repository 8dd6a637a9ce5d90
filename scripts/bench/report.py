"""Turns wrk outputs into the benchmark table (medians of the runs), or
splices that table into docs/benchmarks.md between the BENCH markers."""
import re, statistics, sys, os, datetime, platform, subprocess

def ms(v):
    n, unit = re.match(r"([\d.]+)(us|ms|s)", v).groups()
    return float(n) * {"us": 0.001, "ms": 1, "s": 1000}[unit]

def parse(path):
    t = open(path).read()
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", t).group(1))
    p50 = ms(re.search(r"\s50%\s+(\S+)", t).group(1))
    p99 = ms(re.search(r"\s99%\s+(\S+)", t).group(1))
    errs = re.search(r"Non-2xx or 3xx responses: (\d+)", t)
    sock = re.search(r"Socket errors: (.*)", t)
    return rps, p50, p99, int(errs.group(1)) if errs else 0, sock.group(1) if sock else ""

def table(out, runs, conns, duration):
    per = {"get_tuplet": 1, "post_single": 1, "post_single_eid": 1, "post_batch20": 20}
    rows = []
    for sc, n in per.items():
        res = {t: [parse(f"{out}/{sc}.{t}.{r}.txt") for r in range(1, runs + 1)] for t in ("nginx", "bare", "spoor", "collector", "nodurable")}
        med = {t: [statistics.median(x[i] for x in res[t]) for i in range(3)] for t in res}
        bad = sum(x[3] for x in res["spoor"])
        s, g, f, c, z = med["spoor"], med["nginx"], med["bare"], med["collector"], med["nodurable"]
        rows.append(f"| {sc} | {g[0]:,.0f} | {f[0]:,.0f} ({f[0]/g[0]:.2f}×) | {s[0]:,.0f} | {s[0]*n:,.0f} | {s[1]:.2f} / {s[2]:.2f} | {g[1]:.2f} / {g[2]:.2f} | **{s[0]/g[0]:.2f}×** | {bad} | {c[0]*n:,.0f} ({c[0]/g[0]:.2f}×) | {z[0]*n:,.0f} ({z[0]/g[0]:.2f}×) |")
    cpu = subprocess.run(["nproc"], capture_output=True, text=True).stdout.strip()
    head = (f"Measured {datetime.date.today()} on {cpu} cores ({platform.machine()}), loopback, wrk -t2 -c{conns} -d{duration}, "
            f"medians of {runs} runs per cell, nginx, a bare fasthttp server answering 204 (scripts/bench/bare), `spoor run` (the whole pipeline in one process), `spoor collector` (the durable ack without the sink) and "
            "the same collector built with `-tags bench_nodurable` (answers without making events durable, and drops them: the ceiling without the durable ack) "
            "measured alternately in the same session. "
            "wrk, nginx and spoor share the same 2 cores.\n\n"
            "| scenario | nginx 204 req/s | bare fasthttp 204 req/s (÷ nginx) | spoor req/s | spoor events/s | spoor p50 / p99 ms | nginx p50 / p99 ms | spoor ÷ nginx | spoor non-2xx | `spoor collector` alone, events/s (req ÷ nginx) | collector without the durable ack, events/s (req ÷ nginx) |\n"
            "|---|---|---|---|---|---|---|---|---|---|---|\n")
    tail = ""
    if os.path.exists(f"{out}/metrics.txt"):
        m = open(f"{out}/metrics.txt").read().strip()
        tail = ("\nspoor's own counters at the end of the session (acked via `bus` = JetStream PubAck, via `spool` = "
                "disk fallback; the sink's acks trail the collector's while JetStream holds the backlog):\n\n```\n" + m + "\n```\n")
    return head + "\n".join(rows) + "\n" + tail

if sys.argv[1] == "--update":
    # --update DOC TABLE [BLOCK]: replace the <!-- BENCH:BLOCK --> block of DOC (collector by default)
    doc, tab = sys.argv[2], open(sys.argv[3]).read()
    block = sys.argv[4] if len(sys.argv) > 4 else "collector"
    text = open(doc).read()
    text = re.sub(r"(<!-- BENCH:%s -->\n).*?(<!-- /BENCH:%s -->)" % (block, block), lambda m: m.group(1) + tab + m.group(2), text, flags=re.S)
    open(doc, "w").write(text)
else:
    print(table(sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]), end="")
