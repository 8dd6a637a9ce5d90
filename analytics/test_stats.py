"""The A/B arithmetic against figures worked out by hand (pytest; scripts/analytics-test.sh runs it)."""
import math

from stats import ab_test


def test_known_difference():
    # A: 100 of 1000, B: 121 of 1000. pooled p = 0.1105; SE_pooled = sqrt(.1105*.8895*(2/1000)) = 0.014021
    # z = 0.021 / 0.014021 = 1.4977; two-sided p = erfc(1.4977/sqrt 2) = 0.1342
    # unpooled SE = sqrt(.1*.9/1000 + .121*.879/1000) = 0.014013; CI = 0.021 ± 1.96*0.014013 = [-0.00647, 0.04847]
    r = ab_test({"A": 1000, "B": 1000}, {"A": 100, "B": 121}, "x")
    assert math.isclose(r["diff"], 0.021)
    assert math.isclose(r["z"], 1.4977, abs_tol=1e-3)
    assert math.isclose(r["p_value"], 0.1342, abs_tol=1e-3)
    assert math.isclose(r["ci"][0], -0.00647, abs_tol=1e-4) and math.isclose(r["ci"][1], 0.04847, abs_tol=1e-4)
    assert r["sentence"].startswith("B converts 12.1% vs A 10.0%, +2.1 points, 95% CI [-0.6, +4.8] points, p = 0.134")


def test_no_difference():
    r = ab_test({"A": 500, "B": 500}, {"A": 50, "B": 50}, "x")
    assert r["diff"] == 0 and r["z"] == 0 and math.isclose(r["p_value"], 1.0)
