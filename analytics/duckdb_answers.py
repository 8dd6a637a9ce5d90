"""The answers over the file store (data/events), with DuckDB and the SQL of answers.sql: the same
questions and the same JSON as the Spark job, for users without Cassandra and Spark.

    python analytics/duckdb_answers.py --dir data/events --app shop --out out/
    python analytics/duckdb_answers.py --format parquet --dir data/parquet --app shop --out out/   (the Parquet destination's files)
"""
import argparse
import json
import os
import re
import sys
import time

import duckdb

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from stats import ab_test  # noqa: E402


def queries(path):
    text = open(path).read()
    parts = re.split(r"^-- name: (\w+)\n", text, flags=re.M)
    return dict(zip(parts[1::2], parts[2::2]))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--dir", default="data/events")
    ap.add_argument("--app", default="shop")
    ap.add_argument("--out", default="analytics/out-duckdb")
    ap.add_argument("--format", choices=["ndjson", "parquet"], default="ndjson", help="the file store's NDJSON, or the Parquet destination's files")
    a = ap.parse_args()
    os.makedirs(a.out, exist_ok=True)
    q = queries(os.path.join(os.path.dirname(os.path.abspath(__file__)), "answers.sql"))
    t0 = time.time()
    db = duckdb.connect()
    db.execute("SET VARIABLE dir = ?", [os.path.abspath(a.dir)])
    db.execute("SET VARIABLE app = ?", [a.app])
    setup, ident = q.pop("setup"), q.pop("identity")
    parquet_setup, parquet_ident = q.pop("setup_parquet"), q.pop("identity_parquet")
    if a.format == "parquet":
        setup, ident = parquet_setup, parquet_ident
    q["identity"] = ident
    db.execute(setup)
    rows = {name: db.execute(sql).fetchall() for name, sql in q.items()}
    kv = lambda name: {r[0]: r[1] for r in rows[name]}  # noqa: E731
    events_by_name = kv("events_by_name")
    total, human = sum(events_by_name.values()), rows["human_events"][0][0]
    revenue = {}
    for d, cur, cents in rows["revenue_cents_by_day"]:
        revenue.setdefault(d, {})[cur] = cents
    out = {"events": total, "events_by_name": events_by_name, "bot_events": total - human,
           "bot_event_share": (total - human) / total if total else 0.0,
           "orders_by_day": kv("orders_by_day"), "items_sold_by_day": kv("items_sold_by_day"), "revenue_cents_by_day": revenue,
           "products_bought": kv("products_bought"), "clicks": kv("clicks"),
           "sessions_by_source": {r[0]: r[1] for r in rows["sessions_by_source"]},
           "converting_by_source": {r[0]: r[2] for r in rows["sessions_by_source"]},
           "experiment": ab_test({r[0]: r[1] for r in rows["experiment"]}, {r[0]: r[2] for r in rows["experiment"]}, "checkout_v2"),
           "form": {"first_field": kv("first_field"), "abandon_field": kv("abandon_field")},
           "loss": {"visible_lost": {r[0]: r[1] for r in rows["loss"]}, "visible_expected": {r[0]: r[2] for r in rows["loss"]},
                    "visible_pct": {r[0]: round(r[1] / r[2] * 100, 4) if r[2] else 0.0 for r in rows["loss"]}},
           "email": {"opens": {r[1]: r[2] for r in rows["email"] if r[0] == "email_open"},
                     "clicks": {r[1]: r[2] for r in rows["email"] if r[0] == "link_click"}},
           "identity": {"people": rows["identity"][0][0], "events": rows["identity"][0][1]},
           "cost": {"seconds": round(time.time() - t0, 2)}}
    with open(os.path.join(a.out, "answers.json"), "w") as f:
        json.dump(out, f, indent=2, sort_keys=True, default=int)
    print(out["experiment"]["sentence"])
    print(f"{total} events from {a.dir} in {out['cost']['seconds']} s; written to {a.out}")


if __name__ == "__main__":
    main()
