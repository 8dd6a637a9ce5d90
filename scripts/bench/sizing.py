"""The sizing model for 1 million events/s in docs/operations.md. Each role's CPU seconds per 1,000
events come from a benchmark that gives the role a core of its own at a rate that keeps it busy: the
collectors from `ROLE=collector scripts/bench/nats.sh` (.scratch/bench/collectorcore/collector.json),
the sinks from scripts/bench/sinkdrain.sh (sinkdrain.json), NATS from scripts/bench/nats.sh
(.scratch/bench/nats/nats.json), Cassandra from the RF 3 ring of `NODES=3 scripts/bench/storecost.sh`
(results-rf3-node.jsonl); the NATS disk from scripts/bench/natsdisk.sh (natsdisk.json). Beside it the
same model from scripts/bench/roles.sh (.scratch/bench/roles/roles.json: the cluster at a few hundred
events/s, each role pinned in turn) and from the shared-core cluster run of scripts/bench/cluster.sh
(.scratch/bench/cluster: also bytes per event and the ingest per partition). Whatever .scratch does not
hold, the last run's figures (the *_LAST constants, as benchmarks.md quotes them) stand in for.

    python3 scripts/bench/sizing.py .scratch/bench/cluster .scratch/bench/roles/roles.json .scratch/bench/nats/nats.json > sizing.md
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


# The cluster run of 2026-11-28 (benchmarks.md#cluster, 2 + 2, three partitions), for when .scratch
# holds none.
LAST = {"cpu": {"collector": 0.202, "sink": 0.312, "nats": 0.359, "cass": 2.800}, "per_partition": 17_490,
        "bytes": {"bus_bytes_per_event": 430, "http_bytes_per_event": 269, "row_bytes_per_event": 94}}
rs = runs("c2s2p3")  # the production shape: 2 + 2, three partitions
if rs:
    c_coll, c_sink, c_nats, c_cass = (cpu(rs, r) for r in ("collector", "sink", "nats", "cass"))
    ing3 = [json.load(open(f)) for f in glob.glob(f"{w}/ingest.p3.*.json")]
    per_partition = med(r["events_per_s"] for r in ing3) / 3 if ing3 else None
    meta = json.load(open(f"{w}/bytes.json"))
else:
    c_coll, c_sink, c_nats, c_cass = (LAST["cpu"][r] for r in ("collector", "sink", "nats", "cass"))
    per_partition, meta = LAST["per_partition"], LAST["bytes"]
# roles.sh's run of 2026-12-06 (benchmarks.md's roles section), for when .scratch holds none.
ROLES_LAST = {"rate": 300, "runs": 3, "last": True,
              "dedicated": {"collector": 0.266, "sink": 0.318, "nats": 1.660, "cass": 2.214}}
roles = json.load(open(sys.argv[2])) if len(sys.argv) > 2 and os.path.exists(sys.argv[2]) else ROLES_LAST
# Cassandra's bytes per event from scripts/bench/storecost.sh when it has measured this tree (the same
# events, one replica): the cluster run's predate the slim events_by_visitor rows.
cost_rows = [json.loads(l) for l in open(".scratch/bench/storecost/results.jsonl")] if os.path.exists(".scratch/bench/storecost/results.jsonl") else []
cost_bytes = [r["row_bytes_per_event"] for r in cost_rows if r["label"] == "storecost" and r.get("row_bytes_per_event", 0) > 0]
COST_BYTES_LAST = 79  # storecost.sh's run of 2026-12-06: this tree's SSTable bytes per event, one replica
if not cost_bytes and not rs:
    cost_bytes = [COST_BYTES_LAST]
if cost_bytes:
    meta = dict(meta, row_bytes_per_event=med(cost_bytes))
row_src = "storecost.sh" if cost_bytes else "the cluster run"
bus_bytes = meta["bus_bytes_per_event"]   # NDJSON on the stream, per event
http_bytes = meta["http_bytes_per_event"]  # request bytes per event, headers included (singles)
row_bytes = meta["row_bytes_per_event"]    # Cassandra SSTable bytes per event, one replica, both event tables

# Utilisation targets: collectors and NATS at 60% of their cores at the target rate; sinks and
# Cassandra with 3x the target in reserve, so a backlog drains at >= 3x ingest (reliability.md).
def model(cpus):
    per_core = {k: 1000 / v for k, v in cpus.items()}
    cores = {"collector": TARGET / per_core["collector"] / 0.6, "sink": 3 * TARGET / per_core["sink"],
             "nats": TARGET / per_core["nats"] / 0.6, "cass": 3 * TARGET / per_core["cass"]}
    inst = {k: max(math.ceil(v / (DB if k == "cass" else APP)[1]), 3 if k in ("nats", "cass") else 2) for k, v in cores.items()}
    usd_hour = sum(inst[k] * (DB if k == "cass" else APP)[2] for k in inst) + nats_disk_gb * NATS_DISK[1]
    return per_core, cores, inst, usd_hour, usd_hour / (TARGET * 3600) * 1e9


partitions = math.ceil(TARGET / (per_partition / 2)) if per_partition else None  # each leader at half of what one carried here
day = TARGET * 86400
# Bytes on a NATS disk per byte of event (scripts/bench/natsdisk.sh: the file store's message records,
# S2-compressed blocks with nats.compression s2, the default); NATSDISK_LAST is its run of 2026-12-06.
NATSDISK_LAST = {"none": {"disk_per_encoded": 1.27}, "s2": {"disk_per_encoded": 0.25}}
natsdisk_file = ".scratch/bench/natsdisk/natsdisk.json"
natsdisk = json.load(open(natsdisk_file)) if os.path.exists(natsdisk_file) else NATSDISK_LAST
disk_ratio = natsdisk["s2"]["disk_per_encoded"]
nats_disk_gb = TARGET * 3600 * 72 * bus_bytes * disk_ratio * 3 / 1e9  # 72 h retention (nats.max_age), R3
cass_disk_day_tb = day * row_bytes * 3 / 1e12            # RF 3
names = {"collector": "collectors (60% busy)", "sink": "sinks (3× reserve)", "nats": "NATS, 3 replicas (60% busy)", "cass": "Cassandra, RF 3 (3× reserve)"}


def table(cpus):
    per_core, cores, inst, usd_hour, per_billion = model(cpus)
    rows = ["| role | CPU s per 1,000 events (measured) | events/s per core | cores for 1M events/s | instances |", "|---|---|---|---|---|"]
    for k in ("collector", "sink", "nats", "cass"):
        it = DB if k == "cass" else APP
        rows.append(f"| {names[k]} | {cpus[k]:.3f} | {per_core[k]:,.0f} | {cores[k]:,.0f} | {inst[k]:,} × {it[0]} |")
    rows.append(f"| **total** | | | | {inst['collector'] + inst['sink'] + inst['nats']} × {APP[0]} + {inst['cass']} × {DB[0]}: "
                f"**${usd_hour:,.0f}/h, ${per_billion:,.2f} per billion events** |")
    return rows


# NATS at R3 on a core of its own (scripts/bench/nats.sh: single events with client ids behind
# collector.ack replicated) at 4,000 events/s, about the most the other core sends it here: the three
# servers burn most of the core at any rate from 1,000 up (0.86 to 0.95 CPU s per s), so their CPU per
# event falls as the rate rises and a lower rate overstates it. NATS_LAST is its run of 2026-12-06
# (benchmarks.md), for when .scratch holds none of that kind.
NATS_LAST = {"rate": 4000, "client_ids": True, "ack": "replicated", "runs": 3, "cpu_per_1k": {"R3": 0.235}, "last": True}
nats = json.load(open(sys.argv[3])) if len(sys.argv) > 3 and os.path.exists(sys.argv[3]) else None
if not (nats and nats.get("client_ids") and nats.get("ack") == "replicated" and "R3" in nats.get("cpu_per_1k", {})):
    nats = NATS_LAST
# The collector alone on a core (`ROLE=collector REPLICAS=1 scripts/bench/nats.sh`: the NATS server, a
# sink and the load on the other core) at 3,000 events/s of the same single events, about half its core. COLLECTOR_LAST is its
# run of 2026-12-06, for when .scratch holds none.
COLLECTOR_LAST = {"rate": 3000, "client_ids": True, "ack": "replicated", "runs": 3, "cpu_per_1k": {"R1": 0.175}, "last": True}
coll_file = ".scratch/bench/collectorcore/collector.json"
coll = json.load(open(coll_file)) if os.path.exists(coll_file) else None
if not (coll and coll.get("client_ids") and coll.get("ack") == "replicated"):
    coll = COLLECTOR_LAST
coll_cpu = min(coll["cpu_per_1k"].values())  # R1 where measured: the collector's own work does not change with R
# The sinks draining a backlog (scripts/bench/sinkdrain.sh: the Cassandra sink on a core of its own, full
# fetches), which is what their 3x reserve is for; in a busy deployment a sink's fetches are full in the
# steady state too (a few thousand events/s per process fill 500 in well under sink.batch_wait).
# SINKDRAIN_LAST is its run of 2026-12-07 (after decision 0008), for when .scratch holds none.
SINKDRAIN_LAST = {"rate": 3000, "runs": 3, "cpu_per_1k": 0.0334, "drained_per_s": 11618, "base": "69fc32c", "base_cpu_per_1k": 0.1142, "last": True}
drain_file = ".scratch/bench/sinkdrain/sinkdrain.json"
drain = json.load(open(drain_file)) if os.path.exists(drain_file) else SINKDRAIN_LAST
shared = {"collector": c_coll, "sink": c_sink, "nats": c_nats, "cass": c_cass}
# Cassandra at RF 3: the 3-node ring with each node on a core of its own in turn, at 1,000 events/s in
# Writes of 500 events (`NODES=3 bash scripts/bench/storecost.sh`: that node's CPU per event, idle
# subtracted, × 3), where the sink's Writes are full (sink.batch_size) as a busy deployment's are, and as
# the sink's own line assumes; roles.sh's figure, at
# 300 events/s of single events spread over 2 sinks and 3 partitions, counts per-request costs of Writes
# that carry a handful of events. RING_LAST is its run of 2026-12-06 (decision 0008), for when .scratch holds none.
RING_LAST = {"rate": 1000, "batch": 500, "runs": 3, "cpu_per_1k": 0.348, "last": True}
ring_file = ".scratch/bench/storecost/results-rf3-node.jsonl"
ring_rows = [json.loads(l) for l in open(ring_file)] if os.path.exists(ring_file) else []
ring = ({"rate": round(ring_rows[0]["batches_per_s"] * ring_rows[0]["events_per_batch"]), "batch": ring_rows[0]["events_per_batch"], "runs": len(ring_rows),
         "cpu_per_1k": 3 * med(r["cassandra_net_cpu_s_per_1000"] for r in ring_rows), "last": False}
        if ring_rows else RING_LAST)
cpus = {"collector": coll_cpu, "sink": drain["cpu_per_1k"], "nats": nats["cpu_per_1k"]["R3"], "cass": ring["cpu_per_1k"]}
per_core, cores, inst, usd_hour, per_billion = model(cpus)
src = (f"the cluster benchmark's medians ([benchmarks.md](benchmarks.md#cluster){'' if rs else ', its run of 2026-11-28'}; "
       "2 collectors + 2 sinks, 3 partitions, Cassandra RF 3 with sessions on)")
last = lambda x, day: f", its run of {day}" if x.get("last") else ""
out = ["Computed by `scripts/bench/sizing.py` from each role measured **on a core of its own** (pinned to one core, everything "
       "else and the load on the other, idle CPU subtracted, medians), each at a rate where its core is busy, as a deployed "
       "one is: per-message and per-fetch costs fall as the rate rises, so a role measured at a trickle looks dearer than it is.", "",
       f"- **Collectors**: a collector at {coll['rate']:,} events/s of single events with client ids, answering after the PubAck "
       f"(`ROLE=collector REPLICAS=1 bash scripts/bench/nats.sh`, {coll['runs']} runs{last(coll, '2026-12-06')}).",
       f"- **Sinks**: the Cassandra sink draining a backlog of the same events, full fetches of 500 (`bash scripts/bench/sinkdrain.sh`, "
       f"{drain['runs']} runs{last(drain, '2026-12-06')}; {drain['cpu_per_1k'] / drain['base_cpu_per_1k']:.2f}× the sink of "
       f"{drain['base']} in the same session). The 3× reserve is drain capacity, and a busy sink's fetches are full in the steady state too.",
       f"- **NATS**: three servers at R3 at {nats['rate']:,} events/s of the same single events, one JetStream message each "
       f"(`bash scripts/bench/nats.sh`, {nats['runs']} runs{last(nats, '2026-12-06')}), about the most the other core could send "
       "them: their CPU per event fell as the rate rose, so their capacity is at least this.",
       f"- **Cassandra**: the 3-node ring at RF 3 with each node on a core of its own in turn, at {ring['rate']:,} events/s in Writes "
       f"of {ring['batch']} events (`NODES=3 bash scripts/bench/storecost.sh`: the node's CPU per event × 3, {ring['runs']} runs{last(ring, '2026-12-06')}).",
       "", "Bytes and partitions from " + src + ".", ""] + table(cpus)
out += ["", f"The same model from `bash scripts/bench/roles.sh`'s figures (the cluster of scripts/cluster.sh, each role's members "
        f"pinned to one core in turn, {roles['rate']} events/s{last(roles, '2026-12-06')}), where every role carries a few hundred "
        "events/s and the fixed costs per message, fetch and Write are spread over few events:", ""] + table(roles["dedicated"])
out += ["", "And from the shared-core figures (every process of the cluster on both cores, " + src + "), kept for comparison:", ""] + table(shared)
out += ["",
        f"- **Partitions**: one partition's leader carried {per_partition:,.0f} events/s here (the collectors alone, 3 partitions, "
        f"on shared cores); at half of that per leader, 1M events/s needs **{partitions} partitions**, spread by the cluster over the "
        f"{inst['nats']} NATS servers." if per_partition else "- Partitions: not measured.",
        f"- **Bytes**: {http_bytes:,.0f} B per event over HTTP (single events, headers included), {bus_bytes:,.0f} B per event on "
        f"the bus (canonical NDJSON), {row_bytes:,.0f} B per event per replica in Cassandra's SSTables (both event tables, LZ4; from {row_src}).",
        f"- **Network per day**: HTTP in {day * http_bytes / 1e12:,.1f} TB; NATS {day * bus_bytes * 4 / 1e12:,.1f} TB (publish, two "
        f"replica copies, delivery to the sinks); Cassandra {day * row_bytes * 3 * 2 / 1e12:,.1f} TB (coordinator to three replicas, "
        "both tables, before compaction traffic).",
        f"- **Disk**: NATS needs {nats_disk_gb / 1e3:,.0f} TB in all for 72 h of retention at R3 (the backlog a 3-day store outage "
        f"builds; {disk_ratio:.2f} B on disk per byte of event with `nats.compression: s2`, {natsdisk['none']['disk_per_encoded']:.2f} "
        f"without, scripts/bench/natsdisk.sh); Cassandra grows by {cass_disk_day_tb:,.1f} TB a day at RF 3 (set `cassandra.ttl` for retention; TWCS drops "
        f"whole expired SSTables): with the {inst['cass']} {DB[0]} nodes' {inst['cass'] * 1.875:,.0f} TB of NVMe that is "
        f"{inst['cass'] * 1.875 / max(cass_disk_day_tb, 1e-9) / 2:,.1f} days at half full, so at this rate the disks, not the CPU, "
        "size the Cassandra cluster for any retention past that.",
        f"- **Cost**: {inst['collector'] + inst['sink'] + inst['nats']} {APP[0]} (${APP[2]}/h) + {inst['cass']} {DB[0]} (${DB[2]}/h) + "
        f"{nats_disk_gb / 1e3:,.0f} TB gp3 for NATS = **${usd_hour:,.0f} per hour**, **${per_billion:,.2f} per billion events** at "
        "AWS us-east-1 on-demand list prices (Linux), before reserved or spot discounts, load balancers and data transfer.",
        "",
        f"Cassandra dominates: {inst['cass'] * DB[2] / usd_hour:.0%} of the cost per hour. Since issue 28 each event is written in full once (`events_by_day`); "
        "a visitor's rows hold its keys and user id, the last touch is read rather than written, and since "
        "[decision 0007](decisions/0007-visitor-writes-by-day-bucket.md) a Write's visitor rows and the sessions they extend go "
        "grouped by `(app, day, vbucket)` as `events_by_day` rows are: one mutation per partition, not one per visitor "
        "(docs/data-model.md, benchmarks.md's store-cost section). `cassandra.sessions: false` (sessions computed in Spark "
        "instead) removes the session work. At RF 3 each node holds every row, as a lone RF 1 node does, and on top "
        "coordinates a third of the writes and exchanges every mutation with the two other replicas (a profile of a ring node "
        "puts a third of its CPU in inter-node messaging). The decision took the ring from 1.161 to 0.917 CPU s per 1,000 "
        "events. Since [decision 0008](decisions/0008-first-touch-is-the-earliest-event.md) nothing is written per visitor "
        "partition (the first touch is the visitor's earliest event) and a visitor the sink does not know has its latest "
        "session read with its partition's other such visitors, so its first batches go with their sessions instead of "
        "markers and the sessionizer's read and write: in Writes of 200 events the ring fell to 0.571 (this model would "
        "then price $54 per billion), and, all nodes on one core, to 0.24× 69fc32c's CPU per event. The line above is "
        "measured in Writes of 500, the `sink.batch_size` a busy sink fills and the sink's own line assumes: a Write "
        "touches about the same partitions (16 buckets of `events_by_day` and of `visitor_events` a day) however many "
        "events it carries, so a fuller Write costs less per event. Earlier versions of this page measured Writes of "
        "200. Writing `events_by_day` alone measured 0.34 for the ring in Writes of 200.", ""]
out += ["How far to trust it: each line is one role's own CPU per event with a core to itself, at the highest rate the other "
        "core let the benchmark offer, so it is still an upper bound: a collector or a sink with more cores, at 60% busy, spreads "
        "its fixed costs over more events than these runs could send it. The NATS line is for the traffic that costs NATS most: "
        "single events with client ids, one R3 message each. Batches, and events whose ids the collector assigns (concurrent "
        "requests share a message, and with `collector.ack: local` the forwarder joins them), cost NATS a fraction of it "
        "(benchmarks.md's NATS section). Every line scales linearly with its role's events/s per core: re-run the scripts above "
        "on the machines you will deploy on, and this page is recomputed from those figures."]
print("\n".join(out))
