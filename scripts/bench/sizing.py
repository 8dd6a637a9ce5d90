"""The sizing model for 1 million events/s in docs/operations.md, computed from the figures
scripts/bench/cluster.sh measured (.scratch/bench/cluster): CPU seconds per 1,000 events per role,
bytes per event on the bus, the ingest ceiling per partition. Run by cluster.sh after its tables.

    python3 scripts/bench/sizing.py .scratch/bench/cluster > sizing.md
"""
import glob
import json
import math
import os
import statistics
import sys

w = sys.argv[1]
med = statistics.median
TARGET = 1_000_000  # events/s sustained
# AWS us-east-1, Linux, on-demand list prices (USD per hour) as published on the EC2 pricing page;
# check them before quoting: they change, and reserved or spot capacity costs far less.
APP = ("c7i.2xlarge", 8, 0.357)      # collectors, sinks, NATS: 8 vCPU, 16 GiB
DB = ("i4i.2xlarge", 8, 0.686)       # Cassandra: 8 vCPU, 64 GiB, 1,875 GB local NVMe
NATS_DISK = ("gp3 EBS", 0.08 / 730)  # USD per GB-hour (0.08 per GB-month)


def runs(tag):
    return [json.load(open(f)) for f in sorted(glob.glob(f"{w}/{tag}.*.json")) if os.path.basename(f).count(".") == 2]


def cpu(rs, role):
    return med(sum(v for k, v in r["cpu_per_1k"].items() if k.startswith(role)) for r in rs)


rs = runs("c2s2p3")  # the production shape: 2 + 2, three partitions
c_coll, c_sink, c_nats, c_cass = (cpu(rs, r) for r in ("collector", "sink", "nats", "cass"))
per_core = {k: 1000 / v for k, v in (("collector", c_coll), ("sink", c_sink), ("nats", c_nats), ("cass", c_cass))}
ing3 = [json.load(open(f)) for f in glob.glob(f"{w}/ingest.p3.*.json")]
per_partition = med(r["events_per_s"] for r in ing3) / 3 if ing3 else None
meta = json.load(open(f"{w}/bytes.json"))
bus_bytes = meta["bus_bytes_per_event"]   # NDJSON on the stream, per event
http_bytes = meta["http_bytes_per_event"]  # request bytes per event, headers included (singles)
row_bytes = meta["row_bytes_per_event"]    # Cassandra SSTable bytes per event, one replica, both event tables

# Utilisation targets: collectors and NATS at 60% of their cores at the target rate; sinks and
# Cassandra with 3x the target in reserve, so a backlog drains at >= 3x ingest (reliability.md).
cores = {"collector": TARGET / per_core["collector"] / 0.6, "sink": 3 * TARGET / per_core["sink"],
         "nats": TARGET / per_core["nats"] / 0.6, "cass": 3 * TARGET / per_core["cass"]}
inst = {k: max(math.ceil(v / (DB if k == "cass" else APP)[1]), 3 if k in ("nats", "cass") else 2) for k, v in cores.items()}
partitions = math.ceil(TARGET / (per_partition / 2)) if per_partition else None  # each leader at half of what one carried here
day = TARGET * 86400
nats_disk_gb = TARGET * 3600 * 72 * bus_bytes * 3 / 1e9  # 72 h retention (nats.max_age), R3
cass_disk_day_tb = day * row_bytes * 3 / 1e12            # RF 3
usd_hour = sum(inst[k] * (DB if k == "cass" else APP)[2] for k in inst) + nats_disk_gb * NATS_DISK[1]
per_billion = usd_hour / (TARGET * 3600) * 1e9

out = [f"Computed by `scripts/bench/sizing.py` from the cluster benchmark's medians ([benchmarks.md](benchmarks.md#cluster); "
       "2 collectors + 2 sinks, 3 partitions, Cassandra RF 3 with sessions on). Every per-core figure is CPU time measured per "
       "event on this 2-core machine, where all roles share the cores; on dedicated machines each role does at least as well.", "",
       "| role | CPU s per 1,000 events (measured) | events/s per core | cores for 1M events/s | instances |", "|---|---|---|---|---|"]
names = {"collector": "collectors (60% busy)", "sink": "sinks (3× reserve)", "nats": "NATS, 3 replicas (60% busy)", "cass": "Cassandra, RF 3 (3× reserve)"}
cpus = {"collector": c_coll, "sink": c_sink, "nats": c_nats, "cass": c_cass}
for k in ("collector", "sink", "nats", "cass"):
    it = DB if k == "cass" else APP
    out.append(f"| {names[k]} | {cpus[k]:.3f} | {per_core[k]:,.0f} | {cores[k]:,.0f} | {inst[k]:,} × {it[0]} |")
out += ["",
        f"- **Partitions**: one partition's leader carried {per_partition:,.0f} events/s here (the collectors alone, 3 partitions, "
        f"on shared cores); at half of that per leader, 1M events/s needs **{partitions} partitions**, spread by the cluster over the "
        f"{inst['nats']} NATS servers." if per_partition else "- Partitions: not measured.",
        f"- **Bytes**: {http_bytes:,.0f} B per event over HTTP (single events, headers included), {bus_bytes:,.0f} B per event on "
        f"the bus (canonical NDJSON), {row_bytes:,.0f} B per event per replica in Cassandra's SSTables (both event tables, LZ4).",
        f"- **Network per day**: HTTP in {day * http_bytes / 1e12:,.1f} TB; NATS {day * bus_bytes * 4 / 1e12:,.1f} TB (publish, two "
        f"replica copies, delivery to the sinks); Cassandra {day * row_bytes * 3 * 2 / 1e12:,.1f} TB (coordinator to three replicas, "
        "both tables, before compaction traffic).",
        f"- **Disk**: NATS needs {nats_disk_gb / 1e3:,.0f} TB in all for 72 h of retention at R3 (the backlog a 3-day store outage "
        f"builds); Cassandra grows by {cass_disk_day_tb:,.1f} TB a day at RF 3 (set `cassandra.ttl` for retention; TWCS drops "
        f"whole expired SSTables): with the {inst['cass']} {DB[0]} nodes' {inst['cass'] * 1.875:,.0f} TB of NVMe that is "
        f"{inst['cass'] * 1.875 / max(cass_disk_day_tb, 1e-9) / 2:,.1f} days at half full, so at this rate the disks, not the CPU, "
        "size the Cassandra cluster for any retention past that.",
        f"- **Cost**: {inst['collector'] + inst['sink'] + inst['nats']} {APP[0]} (${APP[2]}/h) + {inst['cass']} {DB[0]} (${DB[2]}/h) + "
        f"{nats_disk_gb / 1e3:,.0f} TB gp3 for NATS = **${usd_hour:,.0f} per hour**, **${per_billion:,.2f} per billion events** at "
        "AWS us-east-1 on-demand list prices (Linux), before reserved or spot discounts, load balancers and data transfer.",
        "",
        "Cassandra dominates: each event is written twice (`events_by_day`, `events_by_visitor`) with the visitor's first/last touch "
        "and a session marker, at RF 3, and the sessionizer reads each active visitor back. `cassandra.sessions: false` (sessions "
        "computed in Spark instead) removes the session work.", "",
        "How far to trust it: these per-core figures were measured with three Cassandra JVMs (640 MiB heaps), three NATS servers, "
        "the spoor processes and the load generators all sharing two cores, where every process pays for the others' context "
        "switches and cache misses (the same collector answers ~65k requests/s per core with the machine mostly to itself, benchmarks.md, against ~5k here). They "
        "are an upper bound on cost, not a forecast. Every line of the model scales linearly with its role's events/s per core: "
        "re-run `bash scripts/bench/cluster.sh` on the machines you will deploy on, and this page is recomputed from those figures."]
print("\n".join(out))
