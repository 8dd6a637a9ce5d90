"""The canary benchmark's table (scripts/bench/canary.sh): its cost, and the request-to-stored latency
it measured, p50/p99 interpolated in its histogram's buckets (as Prometheus' histogram_quantile)."""
import json
import collections, datetime, glob, os, re, statistics, sys

out, runs, cost_dur, lat_dur, bg = sys.argv[1:6]
ENTRIES = ["tuplet_get", "tuplet_post", "json", "batch", "pixel", "redirect", "short_link", "segment_track", "proxy"]
DEPLOYS = {"run-cassandra": "`spoor run` + Cassandra (1 node)", "run-files": "`spoor run`, file store (roll 1 s)",
           "cluster": "cluster: 3 NATS (R3), 3 Cassandra (RF 3), 2 collectors, 2 sinks; `spoor canary`"}
LINE = re.compile(r'^spoor_canary_latency_seconds_bucket\{entry="([^"]+)",where="store",le="([^"]+)"\} (\S+)$')


def buckets(path):
    b = collections.defaultdict(dict)
    for line in open(path):
        m = LINE.match(line.strip())
        if m:
            b[m.group(1)][float(m.group(2))] = float(m.group(3))
    return b


def quantile(q, cum):
    """cum: {le: cumulative count}; linear inside the bucket, as histogram_quantile."""
    les = sorted(cum)
    total = cum[les[-1]]
    if total == 0:
        return None
    rank, prev_le, prev_n = q * total, 0.0, 0.0
    for le in les:
        if cum[le] >= rank:
            if le == float("inf"):
                return prev_le
            return prev_le + (le - prev_le) * (rank - prev_n) / max(cum[le] - prev_n, 1e-9)
        prev_le, prev_n = le, cum[le]
    return les[-2]


def fmt(s):
    return "–" if s is None else f"{s * 1000:.0f} ms" if s < 10 else f"{s:.1f} s"


print(f"Measured {datetime.date.today()} on 2 cores, loopback, one session.\n")
cost = os.path.join(out, "cost.txt")
if os.path.exists(cost):
    per = collections.defaultdict(list)
    sent = collections.defaultdict(list)
    for line in open(cost):
        mode, run, c0, c1, t0, t1, n = line.split()
        per[mode].append((float(c1) - float(c0)) / (float(t1) - float(t0)) * 60)
        sent[mode].append(float(n))
    off, on = statistics.median(per["off"]), statistics.median(per["on"])
    rate = statistics.median(sent["on"]) / (float(cost_dur) + 20)
    print(f"**The canary's cost** at its default rate (`canary.interval` 10 s: here 8 entry points, all but the proxy, "
          f"{rate:.1f} events/s, each looked for every second until found): `spoor run` (file store) with no other traffic, "
          f"canary off and on alternated {runs} × "
          f"{cost_dur} s, the process's CPU seconds per minute, medians: off **{off:.2f}**, on **{on:.2f}**: the canary costs "
          f"{on - off:.2f} CPU s per minute ({(on - off) / 60 * 100:.2f}% of one core; runs: "
          f"{', '.join(f'{x:.2f}' for x in per['off'])}; {', '.join(f'{x:.2f}' for x in per['on'])}).\n")
meter = os.path.join(out, "meter.txt")
if os.path.exists(meter):
    per = collections.defaultdict(list)
    for line in open(meter):
        mode, run, c0, c1, t0, t1, n = line.split()
        per[mode].append((float(c1) - float(c0)) / float(n) * 1000)
    off, on = statistics.median(per["off"]), statistics.median(per["on"])
    print(f"**The loss meter's cost** (`quality.loss_meter`): `spoor run` (file store) takes single JSON events of 5,000 "
          f"visitors, each with its visitor's next `cidx` (the worst case: nearly every event of a sink batch is another "
          f"visitor's, so a batch of 500 writes 500 states to NATS), until every one is stored; the process's CPU seconds per "
          f"1,000 events, {runs} runs alternated, medians: meter off **{off:.3f}**, on **{on:.3f}**: **{on / off:.2f}×** "
          f"(runs: {', '.join(f'{x:.3f}' for x in per['off'])}; {', '.join(f'{x:.3f}' for x in per['on'])}). Events without "
          "a `cidx` (servers, Segment, pixels) cost the meter a look at their bytes only.\n")
rows = []
for dep, name in DEPLOYS.items():
    for load in ("idle", "load"):
        a, b = (os.path.join(out, f"lat.{dep}.{load}.{i}.prom") for i in (0, 1))
        if not (os.path.exists(a) and os.path.exists(b)):
            continue
        b0, b1 = buckets(a), buckets(b)
        total = collections.Counter()
        per_entry = {}
        for e in ENTRIES:
            if e not in b1:
                continue
            d = {le: b1[e][le] - b0.get(e, {}).get(le, 0) for le in b1[e]}
            per_entry[e] = d
            total.update(d)
        n = int(total[float("inf")]) if total else 0
        worst = max(per_entry, key=lambda e: quantile(0.99, per_entry[e]) or 0) if per_entry else "–"
        rate = int(bg)
        try:  # the rate this deployment's background load ran at
            rate = int(json.load(open(os.path.join(out, f"lat.{dep}.loadgen.txt")))["rate"])
        except (OSError, ValueError, KeyError):
            pass
        rows.append(f"| {name} | {'idle' if load == 'idle' else f'{rate:,} events/s besides'} | {n} | "
                    f"**{fmt(quantile(0.5, total))}** | **{fmt(quantile(0.99, total))}** | {worst}: {fmt(quantile(0.99, per_entry.get(worst, {float('inf'): 0})))} |")
if rows:
    print(f"**End to end, request to stored row**, measured by the canary itself (`canary.interval` 1 s, {lat_dur} s, every entry "
          "point it reaches: the nine of the table in [quality.md](quality.md#the-canary), the proxy only where it runs), "
          "from its histogram `spoor_canary_latency_seconds{where=\"store\"}` (the row's Cassandra write time, a file's publish "
          "time), p50/p99 interpolated in its buckets (5, 10, 25, 50, 100, 250, 500 ms, 1 s, …) as Prometheus does; the "
          "background load is single JSON POSTs from loadgen at a fixed rate:\n")
    print("| deployment | traffic | canary events | p50 | p99 | slowest entry point's p99 |")
    print("|---|---|---|---|---|---|")
    print("\n".join(rows))
