"""check.py refuses what would match by accident: an empty world, a missing answer, an empty arm."""
import copy
import json

import check

WORLD = {
    "events": 10, "events_by_name": {"page_view": 10}, "bot_events": 0, "bot_event_share": 0.0,
    "orders_by_day": {"2026-11-01": 1}, "items_sold_by_day": {"2026-11-01": 2},
    "revenue_cents_by_day": {"2026-11-01": {"EUR": 1250}}, "products_bought": {"mat": 1},
    "clicks": {"buy": 3}, "sessions_by_source": {"news": 2}, "converting_by_source": {"news": 1},
    "experiment": {"observed": {"A": 100, "B": 100}, "converted": {"A": 10, "B": 15}, "true_diff": 0.05},
    "form": {"first_field": {"email": 3}, "abandon_field": {"card": 1}},
    "loss": {"visible_lost": {"2026-11-01": 1}, "visible_expected": {"2026-11-01": 50}, "true_pct": {"2026-11-01": 2.0}},
    "email": {"opens": 4, "clicks": 2}, "identity": {"people": 1},
}


def answers_for(truth):
    a = copy.deepcopy(truth)
    e = a["experiment"]
    n, k = e["observed"], e["converted"]
    pa, pb = k["A"] / n["A"], k["B"] / n["B"]
    se = ((pa * (1 - pa) / n["A"]) + (pb * (1 - pb) / n["B"])) ** 0.5
    e["ci"] = [(pb - pa) - 1.96 * se, (pb - pa) + 1.96 * se]
    e["sentence"] = "B converts better"
    a["loss"]["visible_pct"] = dict(truth["loss"]["true_pct"])
    return a


def run(tmp_path, answers, truth):
    ap, tp = tmp_path / "a.json", tmp_path / "t.json"
    ap.write_text(json.dumps(answers))
    tp.write_text(json.dumps(truth))
    return check.main(str(ap), str(tp))


def test_a_real_world_that_matches_passes(tmp_path):
    assert run(tmp_path, answers_for(WORLD), WORLD) == 0


def test_a_wrong_count_fails(tmp_path):
    a = answers_for(WORLD)
    a["events"] = 11
    assert run(tmp_path, a, WORLD) == 1


def test_an_empty_world_does_not_match_itself(tmp_path, capsys):
    empty = copy.deepcopy(WORLD)
    empty["events"], empty["events_by_name"] = 0, {}
    assert run(tmp_path, answers_for(empty), empty) == 1
    assert "proves nothing" in capsys.readouterr().out


def test_an_empty_arm_fails_cleanly(tmp_path, capsys):
    t = copy.deepcopy(WORLD)
    t["experiment"]["observed"]["B"], t["experiment"]["converted"]["B"] = 0, 0
    a = copy.deepcopy(t)  # answers_for would divide by zero, as check.py used to
    a["experiment"]["ci"], a["experiment"]["sentence"] = [0, 0], ""
    a["loss"]["visible_pct"] = dict(t["loss"]["true_pct"])
    assert run(tmp_path, a, t) == 1
    assert "arm B has no visitors" in capsys.readouterr().out


def test_a_missing_answer_key_fails_cleanly(tmp_path, capsys):
    for key in ("identity", "email"):
        a = answers_for(WORLD)
        del a[key]
        assert run(tmp_path, a, WORLD) == 1
        assert f"the answers lack '{key}'" in capsys.readouterr().out
    a = answers_for(WORLD)
    del a["experiment"]["observed"]
    assert run(tmp_path, a, WORLD) == 1
    assert "the answers lack experiment.observed" in capsys.readouterr().out
