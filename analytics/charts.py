"""Charts where a person would rather look than read: revenue per day, the funnel, abandonment by
field, loss per day. PNG files, drawn from the answers (answers.py) without Spark."""
import os

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


def _save(fig, out, name):
    fig.tight_layout()
    path = os.path.join(out, name)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def draw(a, out):
    paths = []
    days = sorted(a["revenue_cents_by_day"])
    currencies = sorted({c for d in days for c in a["revenue_cents_by_day"][d]})
    fig, ax = plt.subplots(figsize=(7, 3.2))
    width = 0.8 / max(len(currencies), 1)
    for i, c in enumerate(currencies):
        ax.bar([x + i * width for x in range(len(days))], [a["revenue_cents_by_day"][d].get(c, 0) / 100 for d in days], width, label=c)
    ax.set_xticks([x + width * (len(currencies) - 1) / 2 for x in range(len(days))], [d[5:] for d in days])
    ax.set_title("Revenue per day (client time, bots excluded)")
    ax.legend()
    paths.append(_save(fig, out, "revenue_per_day.png"))

    f = a["funnel"]
    fig, ax = plt.subplots(figsize=(7, 3.2))
    ax.barh(list(f)[::-1], list(f.values())[::-1], color="#4c72b0")
    for y, v in enumerate(list(f.values())[::-1]):
        ax.text(v, y, f" {v:,}", va="center")
    ax.set_xlim(0, max(f.values()) * 1.15)
    ax.set_title("Funnel: sessions by the deepest step reached")
    paths.append(_save(fig, out, "funnel.png"))

    order = ["email", "name", "address", "city", "zip", "card"]
    ab = a["form"]["abandon_field"]
    fig, ax = plt.subplots(figsize=(7, 3.2))
    ax.bar(order, [ab.get(k, 0) for k in order], color="#dd8452")
    ax.set_title("Checkout form: field at abandonment")
    paths.append(_save(fig, out, "abandonment_by_field.png"))

    ld = sorted(a["loss"]["visible_pct"])
    fig, ax = plt.subplots(figsize=(7, 3.2))
    ax.plot([d[5:] for d in ld], [a["loss"]["visible_pct"][d] for d in ld], marker="o")
    ax.set_ylim(bottom=0)
    ax.set_ylabel("% of client messages")
    ax.set_title("Loss between page and collector, from client index gaps")
    paths.append(_save(fig, out, "loss_per_day.png"))
    return paths
