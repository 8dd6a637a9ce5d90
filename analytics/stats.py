"""What the Spark answers and the DuckDB answers share: the bot rule, the site's host, the A/B test."""
import math

# Bots announce themselves in their user agent more often than not ("Bots will run JS", the founding
# talk warns: they send events like anyone else). A visitor whose browser events came with such an
# agent is a bot, and all its events go.
BOT_PATTERN = r"(?i)(bot|crawl|spider|headless)"
SHOP_HOST = "shop.example"  # the site's own host: a referrer there is not a source


def ab_test(n, k, exp_id):
    """Conversion per arm from visitors n and converters k; Wald 95% interval of B - A; pooled two-sided z-test."""
    na, nb, ka, kb = n.get("A", 0), n.get("B", 0), k.get("A", 0), k.get("B", 0)
    pa, pb = ka / na, kb / nb
    diff = pb - pa
    se = math.sqrt(pa * (1 - pa) / na + pb * (1 - pb) / nb)  # unpooled: the interval
    lo, hi = diff - 1.96 * se, diff + 1.96 * se
    pool = (ka + kb) / (na + nb)
    z = diff / math.sqrt(pool * (1 - pool) * (1 / na + 1 / nb))  # pooled: the test of "no difference"
    p = math.erfc(abs(z) / math.sqrt(2))
    sentence = (f"B converts {pb:.1%} vs A {pa:.1%}, {diff * 100:+.1f} points, 95% CI [{lo * 100:+.1f}, {hi * 100:+.1f}] points, "
                f"p = {p:.3g} ({kb}/{nb} vs {ka}/{na} visitors)")
    return {"id": exp_id, "observed": n, "converted": k, "rate": {"A": pa, "B": pb}, "diff": diff, "ci": [lo, hi], "z": z,
            "p_value": p, "sentence": sentence}


