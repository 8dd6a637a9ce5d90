"""The memory benchmark's table (scripts/bench/memory.sh): per deployment and entry point, each spoor
process's peak RSS under load, its RSS after the idle time and when it went under 100 MB, the load's
rate; then throughput of today's build against this one, medians of the alternated runs."""
import collections, datetime, os, re, statistics, sys

out, duration, idle, conns, ab_runs, ab_dur, base, scenarios = sys.argv[1:9]
scenarios = scenarios.split()
EVENTS = {"get_tuplet": 1, "post_single": 1, "post_batch20": 20, "segment_batch100": 100, "proxy": 1}
NAMES = {"get_tuplet": "single tuplet GETs", "post_single": "single JSON POSTs", "post_batch20": "native batches of 20",
         "segment_batch100": "Segment `/v1/batch` of 100", "proxy": "the proxy (a 1 KB page)"}


def rps(path):
    m = re.search(r"Requests/sec:\s+([\d.]+)", open(path).read())
    return float(m.group(1)) if m else 0.0


def non2xx(path):
    m = re.search(r"Non-2xx or 3xx responses: (\d+)", open(path).read())
    return int(m.group(1)) if m else 0


def metric(text, name):
    return sum(float(l.split()[-1]) for l in text.splitlines() if l.startswith(name))


print(f"Measured {datetime.date.today()} on 2 cores, loopback. Memory: each cell from a fresh start, closed-loop "
      f"`wrk -t2 -c{conns}` at the peak it allows for {int(duration) // 60} min {int(duration) % 60} s, then {idle} s without load; "
      "every spoor process's RSS read each second (`/proc/PID/status`), the nats-server of the split deployment "
      "shown apart (it is not spoor's). wrk, nginx (the proxy's upstream) and spoor share the 2 cores. "
      f"Throughput: today's build (`{base}`, before this work) and this one, alternated × {ab_dur} per cell (at least 3 times; each row lists its runs) "
      "from fresh starts, medians; the ratio is this build's ÷ today's.\n")
print("| deployment | entry point | load: req/s (events/s) | process | peak RSS under load, MB | RSS after "
      f"{idle} s idle, MB | under 100 MB after load, s | the sink's backlog {idle} s after the load | peak RSS while it drained, MB | "
      f"RSS {idle} s after the drain, MB |")
print("|---|---|---|---|---|---|---|---|---|---|")
for dep in ("run", "split"):
    for sc in scenarios:
        d = f"{out}/mem.{dep}.{sc}"
        if not os.path.exists(f"{d}/rss.csv"):
            continue
        t0, t1 = float(open(f"{d}/load.start").read()), float(open(f"{d}/load.end").read())
        series = collections.defaultdict(list)
        for line in open(f"{d}/rss.csv"):
            t, name, mb = line.strip().split(",")
            series[name].append((float(t), float(mb)))
        r = rps(f"{d}/wrk.txt")
        m = open(f"{d}/metrics.txt").read() if os.path.exists(f"{d}/metrics.txt") else ""
        acked = metric(m, "spoor_collector_events_acked_total") or metric(m, 'spoor_proxy_events_total{outcome="tracked"}')
        stored = metric(m, "spoor_sink_events_stored_total")
        drain_end = float(open(f"{d}/drain.end").read()) if os.path.exists(f"{d}/drain.end") else None
        sink = (f"{acked - stored:,.0f} events, drained {drain_end - t1:.0f} s after the load" if drain_end
                else f"none left {idle} s after the load")
        if drain_end and os.path.exists(f"{d}/drain.txt"):
            dm = open(f"{d}/drain.txt").read()
            left = metric(dm, "spoor_collector_events_acked_total") - metric(dm, "spoor_sink_events_stored_total")
            if left > 0:
                sink = f"{acked - stored:,.0f} events; {left:,.0f} still draining {drain_end - t1:.0f} s after the load (the run stopped waiting)"
        bad = non2xx(f"{d}/wrk.txt")
        first = True
        for name in sorted(series, key=lambda n: (n == "nats-server", n)):
            s = series[name]
            peak = max(mb for t, mb in s if t0 <= t <= t1 + 1)
            after = next((mb for t, mb in s if t >= t1 + int(idle)), s[-1][1])
            under = next((t - t1 for t, mb in s if t > t1 and mb < 100), None)
            draining = max((mb for t, mb in s if drain_end and t1 < t <= drain_end), default=None)
            after_drain = s[-1][1] if drain_end else None
            dep_name = "`spoor run`" if dep == "run" else "`spoor collector` + `spoor sink`" if sc != "proxy" else "`spoor proxy` + `spoor sink`"
            cells = [dep_name, NAMES[sc], f"{r:,.0f} ({r * EVENTS[sc]:,.0f})" + (f", {bad} non-2xx" if bad else "")] if first else ["", "", ""]
            label = name if name != "nats-server" else "nats-server (not spoor)"
            print(f"| {' | '.join(cells)} | {label} | **{peak:.0f}** | {after:.0f} | "
                  f"{'never' if under is None else f'{under:.0f}'} | {sink if first else ''} | "
                  f"{'' if draining is None else f'{draining:.0f}'} | {'' if after_drain is None else f'{after_drain:.0f}'} |")
            first = False

print("\n| deployment | entry point | today's req/s | this build's req/s | ratio | runs (today's; this build's) |")
print("|---|---|---|---|---|---|")
for dep in ("run", "split"):
    for sc in scenarios:
        runs = {b: [rps(f"{out}/ab.{dep}.{sc}.{b}.{i}.txt") for i in range(1, max(int(ab_runs), 9) + 1)
                    if os.path.exists(f"{out}/ab.{dep}.{sc}.{b}.{i}.txt")] for b in ("base", "new")}
        if not runs["base"] or not runs["new"]:
            continue
        mb, mn = statistics.median(runs["base"]), statistics.median(runs["new"])
        print(f"| {dep} | {NAMES[sc]} | {mb:,.0f} | {mn:,.0f} | **{mn / mb:.2f}×** | "
              f"{', '.join(f'{x:,.0f}' for x in runs['base'])}; {', '.join(f'{x:,.0f}' for x in runs['new'])} |")
