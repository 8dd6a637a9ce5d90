"""Tables for docs/benchmarks.md from scripts/bench/cluster.sh's results (medians of the runs)."""
import datetime
import glob
import json
import os
import statistics
import sys

w, runs, offer = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
med = statistics.median
shapes = [("c1s1p1", "1 collector + 1 sink, 1 stream"), ("c2s2p1", "2 collectors + 2 sinks, 1 stream"),
          ("c1s1p3", "1 collector + 1 sink, 3 partitions"), ("c2s2p3", "2 collectors + 2 sinks, 3 partitions")]
roles = [("collector", "collectors"), ("sink", "sinks"), ("nats", "NATS (3 nodes)"), ("cass", "Cassandra (3 nodes, RF 3)")]


def load(tag):
    return [json.load(open(f)) for f in sorted(glob.glob(f"{w}/{tag}.*.json")) if os.path.basename(f).count(".") == 2]


def role_cpu(res, role):
    return sum(v for k, v in res["cpu_per_1k"].items() if k.startswith(role))


out = [f"Measured {datetime.date.today()} on 2 cores (x86_64), loopback, everything on this one machine: 3 nats-server "
       f"processes, 3 Cassandra 5.0.8 JVMs (640 MiB heap each) on 127.0.0.1-3, the spoor processes and the load "
       f"generators. Medians of {runs} runs per cell; each run offers {offer:,} events/s (single JSON events with client "
       "ids, 5,000 visitors) for 25 s, more than the pipeline stores, split over the collectors.\n",
       "| shape | sustained HTTP → Cassandra rows, events/s (÷ 1+1, 1 stream) | per run | collector answer p50 / p99 at half of it | HTTP → row p50 / p99 at half of it |",
       "|---|---|---|---|---|"]
base = None
for tag, label in shapes:
    rs = load(tag)
    if not rs:
        continue
    s = med(r["sustained"] for r in rs)
    base = base or s
    per = ", ".join(format(r["sustained"], ",") for r in rs)
    out.append(f"| {label} | **{s:,.0f}** ({s / base:.2f}×) | {per} | "
               f"{med(r['req_p50_ms'] for r in rs):.1f} / {med(r['req_p99_ms'] for r in rs):.1f} ms | "
               f"{med(r['row_p50_ms'] for r in rs):,.0f} / {med(r['row_p99_ms'] for r in rs):,.0f} ms |")
out += ["", "CPU seconds per 1,000 events stored, by role, over the whole run (load and drain), and what that makes "
        "one core of each role carry (events/s per core = 1,000 ÷ CPU s per 1,000):", "",
        "| shape | " + " | ".join(label for _, label in roles) + " |", "|---|" + "---|" * len(roles)]
for tag, label in shapes:
    rs = load(tag)
    if not rs:
        continue
    cells = []
    for role, _ in roles:
        c = med(role_cpu(r, role) for r in rs)
        cells.append(f"{c:.3f} s ({1000 / c:,.0f} ev/s per core)" if c > 0 else "—")
    out.append(f"| {label} | " + " | ".join(cells) + " |")
ing = {p: [json.load(open(f)) for f in sorted(glob.glob(f"{w}/ingest.p{p}.*.json"))] for p in (1, 3)}
if ing[1] and ing[3]:
    out += ["", "The collectors alone (sinks stopped): two collectors taking wrk's batches of 20 (`-t1 -c32` each, 10 s), "
            "events made durable in JetStream (R3) per second:", "",
            "| streams | events/s accepted | per run | NATS CPU s per 1,000 events (3 nodes) | collectors' CPU s per 1,000 events |",
            "|---|---|---|---|---|"]
    for p in (1, 3):
        rs = ing[p]
        e = med(r["events_per_s"] for r in rs)
        per = ", ".join(format(r["events_per_s"], ",.0f") for r in rs)
        e1 = med(r["events_per_s"] for r in ing[1])
        name = "stream" if p == 1 else "partitions"
        out.append(f"| {p} {name} | **{e:,.0f}** ({e / e1:.2f}×) | "
                   f"{per} | {med(role_cpu(r, 'nats') for r in rs):.3f} | "
                   f"{med(role_cpu(r, 'collector') for r in rs):.3f} |")
drains = [json.loads(l) for l in open(f"{w}/drain.jsonl")] if os.path.exists(f"{w}/drain.jsonl") else []
drains = [d for d in drains if d.get("DrainRate")]
if drains:
    out += ["", f"Drain after a 2-minute outage of the whole Cassandra cluster (`scripts/faults -faults cassandra-outage`, "
            f"{drains[0]['Rate']:.0f} events/s offered through both collectors, 3 partitions, 2 sinks): events stored per second "
            "from the moment the cluster was whole again until the backlog was gone.", "",
            "| drain events/s (× ingest) | per run | backlog at its peak (messages) | lost / duplicated |", "|---|---|---|---|"]
    d = med(x["DrainRate"] for x in drains)
    i = med(x["IngestRate"] for x in drains)
    per = ", ".join("%s (%.1f×)" % (format(x["DrainRate"], ",.0f"), x["DrainRate"] / x["IngestRate"]) for x in drains)
    out.append(f"| **{d:,.0f}** ({d / i:.1f}×) | {per} | "
               f"{med(x['BacklogPeak'] for x in drains):,.0f} | {sum(x['Lost'] for x in drains)} / {sum(x['Duplicated'] for x in drains)} |")
print("\n".join(out))
