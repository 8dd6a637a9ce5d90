"""The questions spoor's data exists to answer, asked of a Spark DataFrame of spoor events.

Every function takes the events of one app (the columns of Cassandra's events_by_day, or of the
file store's NDJSON: the same long names) and returns plain Python values, so the job, the notebook
and the checks share them. Days are client-time days (UTC): backdated and offline events count on
the day they happened, not the day they arrived.
"""
from pyspark.sql import DataFrame, Window
from pyspark.sql import functions as F

from stats import BOT_PATTERN, SHOP_HOST, ab_test


def day(col="client_time"):
    return F.date_format(F.col(col), "yyyy-MM-dd")


def prop(name):
    return F.get_json_object(F.col("props"), "$." + name)


def split_bots(ev: DataFrame):
    """(humans, bot visitor ids) — a visitor is a bot when a browser event of it had a bot agent."""
    bots = (ev.where((F.col("endpoint") == "tr") & F.col("user_agent").rlike(BOT_PATTERN))
              .select("visitor_id").distinct())
    humans = ev.join(bots, "visitor_id", "left_anti")
    return humans, bots


def counts(ev, humans):
    total = ev.count()
    by_name = {r["event_name"]: r["n"] for r in ev.groupBy("event_name").agg(F.count("*").alias("n")).collect()}
    human = humans.count()
    return {"events": total, "events_by_name": by_name, "bot_events": total - human,
            "bot_event_share": (total - human) / total if total else 0.0}


def sales(humans):
    """What sells, and how much: orders, units and revenue per day and currency; units per product."""
    p = humans.where(F.col("event_name") == "purchase")
    items = F.from_json(prop("items"), "array<struct<product:string,category:string,price:double,qty:int>>")
    p = p.select(day().alias("day"), prop("currency").alias("currency"),
                 F.round(prop("total").cast("double") * 100).cast("long").alias("cents"), items.alias("items"))
    orders = {r["day"]: r["n"] for r in p.groupBy("day").agg(F.count("*").alias("n")).collect()}
    revenue = {}
    for r in p.groupBy("day", "currency").agg(F.sum("cents").alias("cents")).collect():
        revenue.setdefault(r["day"], {})[r["currency"]] = r["cents"]
    lines = p.select("day", F.explode("items").alias("i"))
    units = {r["day"]: r["n"] for r in lines.groupBy("day").agg(F.sum("i.qty").alias("n")).collect()}
    products = {r["sku"]: r["n"] for r in lines.groupBy(F.col("i.product").alias("sku")).agg(F.sum("i.qty").alias("n")).collect()}
    return {"orders_by_day": orders, "items_sold_by_day": units, "revenue_cents_by_day": revenue, "products_bought": products}


def clicks(humans):
    c = humans.where(F.col("event_name") == "click").groupBy(prop("element").alias("el")).agg(F.count("*").alias("n"))
    return {r["el"]: r["n"] for r in c.collect()}


def source_key():
    host = F.regexp_extract(F.col("referrer"), r"^https?://(www\.)?([^/:]+)", 2)
    return (F.when(F.col("source").isNotNull(), F.concat_ws("/", "source", "medium", "campaign"))
             .when(F.col("referrer").isNotNull() & (host != "") & (host != SHOP_HOST), F.concat(F.lit("referral/"), host))
             .otherwise(F.lit("direct")))


def sessions_by_source(humans):
    """Sessions by the campaign or referrer of their first event, and how many of them bought."""
    s = humans.where(F.col("session_id").isNotNull())
    first = Window.partitionBy("session_id").orderBy("client_time", "client_index")
    landing = (s.withColumn("rn", F.row_number().over(first)).where(F.col("rn") == 1)
                .select("session_id", source_key().alias("src")))
    bought = s.where(F.col("event_name") == "purchase").select("session_id").distinct().withColumn("bought", F.lit(1))
    per = landing.join(bought, "session_id", "left").groupBy("src").agg(
        F.count("*").alias("sessions"), F.sum(F.coalesce("bought", F.lit(0))).alias("converting"))
    rows = per.collect()
    return {"sessions_by_source": {r["src"]: r["sessions"] for r in rows},
            "converting_by_source": {r["src"]: r["converting"] for r in rows}}


def experiment(humans, exp_id="checkout_v2"):
    """Conversion per arm, the difference with a 95% confidence interval, and a two-sided z-test."""
    x = humans.where(F.col("experiment_id") == exp_id)
    arms = x.where(F.col("event_name").isin("experiment_view", "purchase")).select("visitor_id", "variant").distinct()
    buyers = x.where(F.col("event_name") == "purchase").select("visitor_id").distinct().withColumn("bought", F.lit(1))
    per = arms.join(buyers, "visitor_id", "left").groupBy("variant").agg(
        F.count("*").alias("n"), F.sum(F.coalesce("bought", F.lit(0))).alias("k")).collect()
    n = {r["variant"]: r["n"] for r in per}
    k = {r["variant"]: r["k"] for r in per}
    return ab_test(n, k, exp_id)


def form(humans, name="checkout"):
    """Which field customers click first, and at which they give up."""
    f = humans.where(prop("form") == name)
    focus = f.where(F.col("event_name") == "form_focus")
    first = Window.partitionBy("session_id").orderBy("client_time", "client_index")
    firsts = focus.withColumn("rn", F.row_number().over(first)).where(F.col("rn") == 1).groupBy(prop("field").alias("f")).count()
    aband = f.where(F.col("event_name") == "form_abandon").groupBy(prop("field").alias("f")).count()
    return {"first_field": {r["f"]: r["count"] for r in firsts.collect()},
            "abandon_field": {r["f"]: r["count"] for r in aband.collect()}}


def loss(ev):
    """Loss between page and collector, from gaps in each visitor's client message index: a gap is
    counted on the day of the message after it. Lost messages after a visitor's last arrived one
    leave no gap: this is a lower bound (docs/analytics.md says by how much)."""
    b = ev.where((F.col("endpoint") == "tr") & F.col("client_index").isNotNull())
    w = Window.partitionBy("visitor_id").orderBy("client_index")
    g = b.select(day().alias("day"), (F.col("client_index") - F.coalesce(F.lag("client_index").over(w), F.lit(0)) - 1).alias("gap"))
    per = g.groupBy("day").agg(F.sum("gap").alias("lost"), F.sum(F.col("gap") + 1).alias("expected")).collect()
    lost = {r["day"]: r["lost"] for r in per}
    expected = {r["day"]: r["expected"] for r in per}
    pct = {d: round(lost[d] / expected[d] * 100, 4) if expected[d] else 0.0 for d in lost}
    return {"visible_lost": lost, "visible_expected": expected, "visible_pct": pct}


def email(ev):
    e = ev.where(F.col("event_name").isin("email_open", "link_click")).groupBy("event_name", "content").count().collect()
    return {"opens": {r["content"]: r["count"] for r in e if r["event_name"] == "email_open"},
            "clicks": {r["content"]: r["count"] for r in e if r["event_name"] == "link_click"}}


def identity(ev, links):
    """People who signed up (distinct users in the identity links) and every event of their browsers,
    before and after sign-up: the links joined back onto the events."""
    l = links.select("visitor_id", "user_id").distinct().cache()
    return {"people": l.select("user_id").distinct().count(),
            "events": ev.join(l.select("visitor_id").distinct(), "visitor_id", "left_semi").count()}


def funnel(humans):
    """Sessions that viewed a product, added to the cart, reached checkout, bought (for the chart)."""
    s = humans.where(F.col("session_id").isNotNull())
    step = (F.when(F.col("event_name") == "purchase", 4)
             .when(F.col("page_type") == "checkout", 3)
             .when(F.col("event_name") == "add_to_cart", 2)
             .when(F.col("page_type") == "product", 1).otherwise(0))
    deepest = s.groupBy("session_id").agg(F.max(step).alias("step")).groupBy("step").count().collect()
    at = {r["step"]: r["count"] for r in deepest}
    names = ["sessions", "viewed a product", "added to cart", "reached checkout", "bought"]
    return {names[i]: sum(v for st, v in at.items() if st >= i) for i in range(5)}


def all_answers(ev):
    """Every answer, as the checks and docs/analytics.md expect them, with each question's wall time
    (the events are read once, into Spark's cache, before: what remains is Spark's own work)."""
    import time

    timing = {}

    def timed(name, fn, *args):
        t = time.time()
        r = fn(*args)
        timing[name] = round(time.time() - t, 2)
        return r

    humans, _ = split_bots(ev)
    humans = humans.cache()
    out = timed("events and bots", counts, ev, humans)
    out.update(timed("sales", sales, humans))
    out["clicks"] = timed("clicks", clicks, humans)
    out.update(timed("sessions by source", sessions_by_source, humans))
    out["experiment"] = timed("A/B test", experiment, humans)
    out["form"] = timed("checkout form", form, humans)
    out["loss"] = timed("loss", loss, ev)
    out["email"] = timed("newsletter", email, ev)
    out["funnel"] = timed("funnel", funnel, humans)
    out["seconds_by_question"] = timing
    return out
