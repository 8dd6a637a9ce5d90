"""Writes the CI run's answers, the truth they matched and what the read cost into docs/analytics.md
(the <!-- PLAN --> and <!-- ANSWERS --> blocks), and the charts into docs/img/analytics/.

    python analytics/report.py .scratch/analytics     (scripts/analytics-test.sh does it with DOCS=1)
"""
import json
import math
import os
import re
import shutil
import sys


def ab_z(t):
    """How many standard errors the sample's A/B difference lies from the set one."""
    n, k = t["experiment"]["observed"], t["experiment"]["converted"]
    pa, pb = k["A"] / n["A"], k["B"] / n["B"]
    se = math.sqrt(pa * (1 - pa) / n["A"] + pb * (1 - pb) / n["B"])
    return abs((pb - pa) - t["experiment"]["true_diff"]) / se


def block(text, name, body):
    return re.sub(r"<!-- %s -->.*?<!-- /%s -->" % (name, name), lambda m: f"<!-- {name} -->\n{body}\n<!-- /{name} -->", text, flags=re.S)


def main(w):
    a = json.load(open(os.path.join(w, "spark", "answers.json")))
    d = json.load(open(os.path.join(w, "duckdb", "answers.json")))
    t = json.load(open(os.path.join(w, "truth.json")))
    plan = open(os.path.join(w, "spark", "plan.txt")).read().strip()
    c = a["cost"]
    orders = sum(t["orders_by_day"].values())
    rev = {}
    for day in t["revenue_cents_by_day"].values():
        for cur, cents in day.items():
            rev[cur] = rev.get(cur, 0) + cents
    loss_true = sum(t["loss"]["dropped"].values()) / sum(t["loss"]["generated"].values()) * 100
    loss_seen = sum(a["loss"]["visible_lost"].values()) / sum(a["loss"]["visible_expected"].values()) * 100
    top = sorted(a["products_bought"].items(), key=lambda kv: -kv[1])[:3]
    clicks = sorted(a["clicks"].items(), key=lambda kv: -kv[1])[:3]
    first = max(a["form"]["first_field"].items(), key=lambda kv: kv[1])
    aband = sorted(a["form"]["abandon_field"].items(), key=lambda kv: -kv[1])
    lines = [
        f"`spoor demo -seed 7 -visitors 700` (CI size): {t['events']:,} events over {len(t['days'])} simulated days, "
        f"{t['humans']} visitors and {t['bots']} bots, {t['drop']:.0%} of browser messages dropped on the way. "
        "Every figure below equals the truth the demo wrote (`analytics/check.py`, for Spark and for DuckDB alike).", "",
        "| question | answer (Spark over Cassandra; DuckDB over the files gives the same) |", "|---|---|",
        f"| what are people buying? | {', '.join(f'{k} ({v})' for k, v in top)} … ({sum(a['products_bought'].values())} units in {orders} orders) |",
        f"| what are they clicking on? | {', '.join(f'{k} ({v})' for k, v in clicks)} … |",
        f"| how many things did we sell, per day? | {', '.join(f'{k[5:]}: {v}' for k, v in sorted(a['items_sold_by_day'].items()))} |",
        f"| revenue in all | {', '.join(f'{cur} {cents / 100:,.2f}' for cur, cents in sorted(rev.items()))} |",
        f"| is B better than A? | {a['experiment']['sentence']}; the set difference, {t['experiment']['true_diff'] * 100:+.1f} points, "
        + ("is inside the interval |" if a['experiment']['ci'][0] <= t['experiment']['true_diff'] <= a['experiment']['ci'][1] else
           f"is outside it: with about 200 visitors per arm this sample's difference landed {ab_z(t):.1f} standard errors from it, "
           "as happens to about one seed in twenty |"),
        f"| first checkout field clicked | {first[0]} ({first[1]} of {sum(a['form']['first_field'].values())}) |",
        f"| field at abandonment | {', '.join(f'{k} {v}' for k, v in aband)} |",
        f"| loss between page and collector | {loss_seen:.2f}% found from index gaps; {loss_true:.2f}% truly dropped (the difference: messages lost after a visitor's last arrived one) |",
        f"| bot share of events | {a['bot_event_share']:.1%} ({a['bot_events']:,} events of {t['bots']} bot visitors), left out of every other answer |",
        "", "What it cost on this machine (2 cores, Cassandra and Spark side by side, the CI run):", "",
        "| | partitions read | rows scanned | Spark session (cold JVM) | read into Spark's cache | every answer | whole job |", "|---|---|---|---|---|---|---|",
        f"| PySpark over Cassandra | {c['partitions_read']} | {c['rows_scanned']:,} | {c['session_seconds']} s | {c['read_seconds']} s | {c['answers_seconds']} s | {c['total_seconds']} s |",
        f"| DuckDB over the NDJSON files | — (every file of the app's days) | {d['events']:,} | — | — | {d['cost']['seconds']} s | {d['cost']['seconds']} s |",
        "", "Each question's own work, once the rows are in Spark's cache (seconds): " +
        ", ".join(f"{k} {v}" for k, v in a["seconds_by_question"].items()) + ".",
        "", "Per million events, and from 100k to 5M: [benchmarks.md](benchmarks.md#the-pyspark-job-over-cassandra-bashscriptsbenchanalyticssh)."]
    doc = "docs/analytics.md"
    text = open(doc).read()
    text = block(text, "PLAN", "```\n" + plan + "\n```")
    text = block(text, "ANSWERS", "\n".join(lines))
    open(doc, "w").write(text)
    os.makedirs("docs/img/analytics", exist_ok=True)
    for f in os.listdir(os.path.join(w, "spark")):
        if f.endswith(".png"):
            shutil.copy(os.path.join(w, "spark", f), os.path.join("docs/img/analytics", f))


if __name__ == "__main__":
    main(sys.argv[1])
