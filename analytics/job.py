"""The PySpark job: reads one app's events from Cassandra by partition key (each (app, day, bucket)
partition of the days asked for, never a table scan), answers every question (answers.py), and
writes the answers as JSON, the charts as PNG and the physical plan of the read.

    python analytics/job.py --app shop --received 2026-11-28 --out out/   (see docs/analytics.md)
"""
import argparse
import glob
import json
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from pyspark.sql import SparkSession  # noqa: E402
from pyspark.sql import functions as F  # noqa: E402

import answers  # noqa: E402
import charts  # noqa: E402


def spark_session(host, port, jars_dir, app_name="spoor-analytics", driver_memory="4g"):
    jars = sorted(glob.glob(os.path.join(jars_dir, "*.jar")))
    if not jars:
        raise SystemExit(f"no connector jars in {jars_dir}: run scripts/analytics-test.sh fetch")
    return (SparkSession.builder.appName(app_name).master("local[2]")
            .config("spark.jars", ",".join(jars))
            # local mode runs in the driver: the default 1g runs out aggregating a few million cached rows
            .config("spark.driver.memory", driver_memory)
            .config("spark.sql.extensions", "com.datastax.spark.connector.CassandraSparkExtensions")
            .config("spark.cassandra.connection.host", host)
            .config("spark.cassandra.connection.port", str(port))
            .config("spark.sql.session.timeZone", "UTC")
            .config("spark.sql.shuffle.partitions", "4")
            .config("spark.ui.enabled", "false")
            .config("spark.ui.showConsoleProgress", "false")
            .getOrCreate())


def buckets(spark, keyspace):
    s = spark.read.format("org.apache.spark.sql.cassandra").options(keyspace=keyspace, table="settings").load()
    return int(s.where(F.col("name") == "buckets").first()["value"])


def read_days(spark, keyspace, app, days, nbuckets):
    """The app's events of the given receive days: per day, `app = ? AND day = ? AND bucket IN (…)`,
    pushed down to Cassandra (only the last partition-key column may be an IN, so days are a union)."""
    t = spark.read.format("org.apache.spark.sql.cassandra").options(keyspace=keyspace, table="events_by_day").load()
    parts = [t.where((F.col("app") == app) & (F.col("day") == F.lit(d).cast("date")) & F.col("bucket").isin(list(range(nbuckets))))
             for d in days]
    ev = parts[0]
    for p in parts[1:]:
        ev = ev.unionByName(p)
    return without_canary(ev), parts[0]


def without_canary(ev):
    """The events but the canary's (spoor canary marks them canary = true): no answer counts them."""
    if "canary" not in ev.columns:
        return ev
    return ev.where(F.col("canary").isNull() | ~F.col("canary"))


def plan_of(df):
    return df._jdf.queryExecution().executedPlan().toString()


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--app", default="shop")
    ap.add_argument("--received", nargs="+", required=True, help="receive days (YYYY-MM-DD) to read: the events_by_day partitions")
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=19042)
    ap.add_argument("--keyspace", default="spoor")
    ap.add_argument("--jars", default=os.path.join(os.path.dirname(__file__), "..", ".cache", "scc", "jars"))
    ap.add_argument("--out", default="analytics/out")
    ap.add_argument("--no-charts", action="store_true")
    ap.add_argument("--driver-memory", default="4g", help="Spark's memory in local mode (the cached rows live there)")
    ap.add_argument("--parquet", help="read the Parquet destination's files under this directory instead of Cassandra")
    a = ap.parse_args()
    if a.parquet:
        return parquet_main(a)
    os.makedirs(a.out, exist_ok=True)
    t0 = time.time()
    spark = spark_session(a.host, a.port, a.jars, driver_memory=a.driver_memory)
    spark.sparkContext.setLogLevel("WARN")
    t_session = time.time() - t0
    nb = buckets(spark, a.keyspace)
    ev, first_day = read_days(spark, a.keyspace, a.app, a.received, nb)
    plan = plan_of(first_day.select("event_name", "props"))
    ev = ev.cache()
    t1 = time.time()
    rows = ev.count()
    t_read = time.time() - t1
    t2 = time.time()
    out = answers.all_answers(ev)
    # identity_by_visitor is read for the app: a scan of the (small) links table, filtered.
    links = spark.read.format("org.apache.spark.sql.cassandra").options(keyspace=a.keyspace, table="identity_by_visitor").load()
    out["identity"] = answers.identity(ev, links.where(F.col("app") == a.app))
    t_answers = time.time() - t2
    out["cost"] = {"partitions_read": len(a.received) * nb, "rows_scanned": rows, "session_seconds": round(t_session, 2),
                   "read_seconds": round(t_read, 2), "answers_seconds": round(t_answers, 2),
                   "total_seconds": round(time.time() - t0, 2)}
    out["app"], out["received"] = a.app, a.received
    with open(os.path.join(a.out, "answers.json"), "w") as f:
        json.dump(out, f, indent=2, sort_keys=True)
    with open(os.path.join(a.out, "plan.txt"), "w") as f:
        f.write(plan + "\n")
    if not a.no_charts:
        charts.draw(out, a.out)
    print(out["experiment"]["sentence"])
    print(f"{rows} rows from {len(a.received) * nb} partitions; session {t_session:.1f} s, read {t_read:.1f} s, "
          f"answers {t_answers:.1f} s; written to {a.out}")
    spark.stop()


def parquet_main(a):
    """The same answers over the Parquet destination's files (Hive partitions dt=/hour=): the columns are
    Cassandra's, and the identity links are what the sink derives them from (events with both ids)."""
    os.makedirs(a.out, exist_ok=True)
    t0 = time.time()
    spark = (SparkSession.builder.master("local[2]").appName("spoor-answers-parquet")
             .config("spark.driver.memory", a.driver_memory).config("spark.sql.session.timeZone", "UTC")
             .config("spark.sql.shuffle.partitions", "4").config("spark.ui.enabled", "false")
             .config("spark.ui.showConsoleProgress", "false").getOrCreate())
    spark.sparkContext.setLogLevel("WARN")
    ev = without_canary(spark.read.option("basePath", a.parquet).parquet(a.parquet).where(F.col("app") == a.app)).cache()
    rows = ev.count()
    out = answers.all_answers(ev)
    links = ev.where(F.col("visitor_id").isNotNull() & F.col("user_id").isNotNull()).select("visitor_id", "user_id")
    out["identity"] = answers.identity(ev, links)
    out["cost"] = {"rows_scanned": rows, "total_seconds": round(time.time() - t0, 2)}
    out["app"] = a.app
    with open(os.path.join(a.out, "answers.json"), "w") as f:
        json.dump(out, f, indent=2, sort_keys=True)
    print(out["experiment"]["sentence"])
    print(f"{rows} rows from the Parquet files under {a.parquet} in {time.time() - t0:.1f} s; written to {a.out}")
    spark.stop()


if __name__ == "__main__":
    main()
