#!/usr/bin/env python3
"""Generates test/fixtures/golden/drift.json: golden values for lib/stats (drift methods, multiple-
testing corrections, special functions, CUSUM run lengths, online detectors) computed with
scipy/numpy (and river for the detectors, if installed).

    pip install scipy==1.17.1 numpy==2.4.6 river==0.26.1   # the versions the committed fixture records
    python3 scripts/golden/generate_drift_fixtures.py

With those versions a rerun reproduces the committed file byte for byte (check with git diff).

Random inputs are NOT stored: they are regenerated in the tests from mulberry32 (lib/stats/random.ts,
ported below) using only uniform draws and exact float operations (u*scale + shift, floor(u*k)), so
TypeScript and Python produce bit-identical samples. The fixture is generated; do not edit by hand.
"""
import json
import math
import os
import sys

import numpy as np
import scipy
from scipy import special, stats
from scipy.spatial.distance import jensenshannon

OUT = os.path.join(os.path.dirname(__file__), "..", "..", "test", "fixtures", "golden", "drift.json")


def mulberry32(seed):
    a = seed & 0xFFFFFFFF

    def imul(x, y):
        return (x * y) & 0xFFFFFFFF

    def nxt():
        nonlocal a
        a = (a + 0x6D2B79F5) & 0xFFFFFFFF
        t = a
        t = imul(t ^ (t >> 15), t | 1)
        t ^= (t + imul(t ^ (t >> 7), t | 61)) & 0xFFFFFFFF
        t &= 0xFFFFFFFF
        return ((t ^ (t >> 14)) & 0xFFFFFFFF) / 4294967296

    return nxt


def sample(spec):
    """Mirror of sampleFromSpec in test/lib/stats/golden.ts."""
    rng = mulberry32(spec["seed"])
    out = []
    for _ in range(spec["n"]):
        u = rng()
        if spec.get("ties"):
            out.append(float(math.floor(u * spec["ties"])) * spec["scale"] + spec["shift"])
        else:
            out.append(u * spec["scale"] + spec["shift"])
    return np.array(out, dtype=float)


def f(x):
    return None if x is None or not np.isfinite(x) else float(x)


def ks_cases():
    cases = []
    a = np.arange(1, 11, dtype=float)
    b = np.arange(3, 13, dtype=float)
    for method in ("auto", "exact", "asymp"):
        r = stats.ks_2samp(a, b, method=method)
        cases.append({"name": f"conventions 1..10 vs 3..12 {method}", "a": a.tolist(), "b": b.tolist(), "method": method,
                      "statistic": f(r.statistic), "pvalue": f(r.pvalue)})
    specs = [
        (20, 25, 0.0, 0.3, None), (50, 60, 0.1, 1.0, None), (200, 150, 0.2, 1.0, None), (500, 500, 0.1, 1.0, None),
        (1000, 800, 0.05, 1.0, None), (3000, 5000, 0.0, 1.0, 20), (10000, 9000, 0.02, 1.0, None),
        (10000, 10000, 0.01, 1.0, None), (10001, 300, 0.05, 1.0, None), (12000, 100, 0.1, 1.0, None),
        (12000, 60, 0.0, 1.0, None), (20000, 15000, 0.02, 1.0, None), (15000, 12000, 0.0, 1.0, 50),
        (40, 7000, 0.2, 1.0, None), (8, 11000, 0.3, 1.0, None),
    ]
    for i, (n1, n2, shift, scale, ties) in enumerate(specs):
        sa = {"seed": 1000 + i, "n": n1, "scale": 1.0, "shift": 0.0, "ties": ties}
        sb = {"seed": 2000 + i, "n": n2, "scale": scale, "shift": shift, "ties": ties}
        x, y = sample(sa), sample(sb)
        for method in ("auto",) + (("asymp",) if max(n1, n2) <= 10000 else ()):
            r = stats.ks_2samp(x, y, method=method)
            cases.append({"name": f"random {n1}x{n2} shift={shift} ties={ties} {method}", "specA": sa, "specB": sb,
                          "method": method, "statistic": f(r.statistic), "pvalue": f(r.pvalue)})
    return cases


def correction_cases():
    """Bonferroni and Benjamini-Hochberg adjusted p-values (scipy.stats.false_discovery_control).

    None marks a feature without a p-value (a distance method, or no data): it is not a test, so it
    is left out of m and keeps a None adjusted value, as lib/stats/drift/correction.ts does.
    """
    rng = np.random.default_rng(5)
    lists = [
        [0.01, 0.04, None, 0.03, 0.5],
        [0.001, 0.008, 0.039, 0.041, 0.042, 0.06, 0.074, 0.205, 0.212, 0.216],  # Benjamini & Hochberg (1995) style
        [0.02, 0.02, 0.02, 0.5, None, 0.02],  # ties
        [0.9, 0.95, 0.99],  # caps at 1
        [0.003],
        [None, None],
        rng.uniform(size=60).tolist(),
        np.concatenate([rng.uniform(0, 1e-3, size=5), rng.uniform(size=35)]).tolist(),
    ]
    cases = []
    for ps in lists:
        idx = [i for i, p in enumerate(ps) if p is not None]
        vals = np.array([ps[i] for i in idx], dtype=float)
        bh = [None] * len(ps)
        bonf = [None] * len(ps)
        if len(idx) > 0:
            adj = stats.false_discovery_control(vals, method="bh")
            bon = np.minimum(1.0, vals * len(idx))
            for j, i in enumerate(idx):
                bh[i] = float(adj[j])
                bonf[i] = float(bon[j])
        cases.append({"p": ps, "m": len(idx), "bh": bh, "bonferroni": bonf})
    return cases


def cusum_arl(h=5.0, k=0.5, nodes=80):
    """Zero-start average run lengths of the one-sided tabular CUSUM on N(shift, 1) data, by the
    Page (1954) integral equation  L(z) = 1 + L(0) Φ(k − δ − z) + ∫_0^h L(y) φ(y + k − δ − z) dy,
    solved by Gauss-Legendre Nyström (the kernel is smooth, so 80 nodes give ~13 digits). The
    two-sided chart (upper and lower sums, both reset at an alarm) has 1/ARL = 1/ARL⁺ + 1/ARL⁻
    (Lucas & Crosier 1982; exact up to the rare samples where both sums are non-zero).
    """
    x, w = np.polynomial.legendre.leggauss(nodes)
    y = (x + 1) * h / 2
    w = w * h / 2
    z = np.concatenate([[0.0], y])

    def one_sided(delta):
        kk = k - delta
        a = np.zeros((nodes + 1, nodes + 1))
        a[:, 0] = stats.norm.cdf(kk - z)
        a[:, 1:] = w[None, :] * stats.norm.pdf(y[None, :] + kk - z[:, None])
        return float(np.linalg.solve(np.eye(nodes + 1) - a, np.ones(nodes + 1))[0])

    up0 = one_sided(0.0)
    up1, down1 = one_sided(1.0), one_sided(-1.0)
    return {"h": h, "k": k, "arl0OneSided": up0, "arl0TwoSided": 1 / (1 / up0 + 1 / up0),
            "arl1Shift1OneSided": up1, "arl1Shift1TwoSided": 1 / (1 / up1 + 1 / down1)}


def main():
    fx = {"generator": "scripts/golden/generate_drift_fixtures.py", "scipy": scipy.__version__, "numpy": np.__version__}

    # PSI golden (shares given directly; counts = shares * 100)
    fx["psi"] = [
        {"ref": [25, 25, 25, 25], "cur": [10, 20, 30, 40], "expected": 0.2282174},
        {"ref": [50, 30, 20], "cur": [30, 30, 40], "expected": 0.2407946},
    ]
    for c in fx["psi"]:
        e = np.array(c["ref"]) / sum(c["ref"])
        q = np.array(c["cur"]) / sum(c["cur"])
        c["exact"] = float(np.sum((q - e) * np.log(q / e)))

    # Jensen-Shannon
    js = []
    for p, q in [([0.5, 0.5], [0.9, 0.1]), ([50, 30, 20], [30, 30, 40]), ([1, 0, 3], [0, 2, 2]), ([5, 5, 5, 5], [5, 5, 5, 5])]:
        de = float(jensenshannon(p, q))
        d2 = float(jensenshannon(p, q, base=2))
        js.append({"ref": p, "cur": q, "dist_e": de, "dist_2": d2, "div_e": de * de, "div_2": d2 * d2})
    fx["jensenshannon"] = js

    # Wasserstein
    ws = [{"ref": [0, 1, 2, 3], "cur": [1, 2, 3, 4], "w1": float(stats.wasserstein_distance([0, 1, 2, 3], [1, 2, 3, 4])),
           "refStd": float(np.std([0, 1, 2, 3]))}]
    for i, (n1, n2, shift, ties) in enumerate([(100, 120, 0.3, None), (2000, 1500, 0.05, None), (500, 700, 0.0, 7)]):
        sa = {"seed": 3000 + i, "n": n1, "scale": 2.0, "shift": -1.0, "ties": ties}
        sb = {"seed": 4000 + i, "n": n2, "scale": 2.0, "shift": -1.0 + shift, "ties": ties}
        x, y = sample(sa), sample(sb)
        ws.append({"specA": sa, "specB": sb, "w1": float(stats.wasserstein_distance(x, y)), "refStd": float(np.std(x))})
    # Feature-unit scales (wasserstein_raw): an income-like column in the thousands, and a tiny one, so
    # raw W1 and the normalised score differ by orders of magnitude.
    for i, (n1, n2, scale, shift, dshift, ties) in enumerate([(800, 900, 5000.0, 20000.0, 300.0, None),
                                                             (300, 250, 1e-3, 0.0, 2e-4, None),
                                                             (1200, 1000, 250.0, 0.0, 0.0, 12)]):
        sa = {"seed": 3100 + i, "n": n1, "scale": scale, "shift": shift, "ties": ties}
        sb = {"seed": 4100 + i, "n": n2, "scale": scale, "shift": shift + dshift, "ties": ties}
        x, y = sample(sa), sample(sb)
        ws.append({"specA": sa, "specB": sb, "w1": float(stats.wasserstein_distance(x, y)), "refStd": float(np.std(x))})
    fx["wasserstein"] = ws

    # Chi-squared
    ref, cur = np.array([50, 30, 20]), np.array([30, 30, 40])
    gof = stats.chisquare(cur, ref * cur.sum() / ref.sum())
    ct = stats.chi2_contingency(np.array([ref, cur]))
    yt = stats.chi2_contingency(np.array([[60, 40], [45, 55]]))
    ny = stats.chi2_contingency(np.array([[60, 40], [45, 55]]), correction=False)
    chi = {"gof": [{"ref": ref.tolist(), "cur": cur.tolist(), "chi2": f(gof.statistic), "p": f(gof.pvalue)}],
           "contingency": [
               {"ref": ref.tolist(), "cur": cur.tolist(), "chi2": f(ct.statistic), "p": f(ct.pvalue), "dof": int(ct.dof)},
               {"ref": [60, 40], "cur": [45, 55], "chi2": f(yt.statistic), "p": f(yt.pvalue), "dof": int(yt.dof), "yates": True},
               {"ref": [60, 40], "cur": [45, 55], "chi2": f(ny.statistic), "p": f(ny.pvalue), "dof": int(ny.dof), "yates": False}]}
    rng = np.random.default_rng(7)
    for k in (2, 3, 8, 40):
        r = rng.integers(5, 200, size=k)
        c = rng.integers(5, 200, size=k)
        g = stats.chisquare(c, r * c.sum() / r.sum())
        chi["gof"].append({"ref": r.tolist(), "cur": c.tolist(), "chi2": f(g.statistic), "p": f(g.pvalue)})
        t = stats.chi2_contingency(np.array([r, c]))
        chi["contingency"].append({"ref": r.tolist(), "cur": c.tolist(), "chi2": f(t.statistic), "p": f(t.pvalue), "dof": int(t.dof), "yates": k == 2})
    fx["chisquare"] = chi

    # L-inf / Hellinger (categorical example from the conventions)
    p = ref / ref.sum()
    q = cur / cur.sum()
    fx["distances"] = [{"ref": ref.tolist(), "cur": cur.tolist(), "linf": float(np.max(np.abs(p - q))),
                        "hellinger": float(np.sqrt(np.sum((np.sqrt(p) - np.sqrt(q)) ** 2)) / np.sqrt(2))}]

    # Special functions
    fx["chi2sf"] = [{"x": x, "dof": k, "p": float(stats.chi2.sf(x, k))}
                    for x, k in [(0.5, 1), (3.84, 1), (28, 2), (11.6667, 2), (1e-3, 5), (7, 10), (150, 100), (90, 100),
                                 (600, 500), (450, 500), (200, 30), (1e4, 9000), (60, 3), (0.2, 0.5)]]
    fx["lgamma"] = [{"x": x, "y": float(special.gammaln(x))} for x in (0.1, 0.5, 1.5, 2.5, 3, 7.25, 50, 100.3, 1e4, 123456.7)]
    fx["kstwoSf"] = [{"n": n, "x": x, "p": float(stats.kstwo.sf(x, n))}
                     for n, x in [(5, 0.3), (10, 0.08), (10, 0.99), (50, 0.05), (100, 0.1), (100, 0.25), (120, 0.15), (140, 0.07),
                                  (300, 0.05), (1000, 0.02), (1000, 0.06), (5000, 0.01), (20000, 0.004), (200000, 0.003),
                                  (2000000, 0.0005), (60, 0.6), (150, 0.001)]]
    fx["ks"] = ks_cases()
    fx["correction"] = correction_cases()
    fx["cusum"] = cusum_arl()

    # Online detectors: streams from mulberry32; indices from river when available.
    det = {"streams": {
        "ph_shift": {"seed": 11, "segments": [[1000, 1.0, 0.0], [1000, 4.0, 4.0]]},
        "ph_down": {"seed": 12, "segments": [[800, 1.0, 5.0], [800, 1.0, 2.0]]},
        "stationary": {"seed": 13, "segments": [[3000, 1.0, 0.0]]},
        "ddm_bits": {"seed": 14, "segments": [[1000, 0.1, -1], [1000, 0.5, -1]]},
        "ddm_stationary": {"seed": 15, "segments": [[3000, 0.2, -1]]},
    }}

    def stream(s):
        rng = mulberry32(s["seed"])
        out = []
        for n, a, b in s["segments"]:
            for _ in range(n):
                u = rng()
                out.append(float(u < a) if b == -1 else u * a + b)
        return out

    try:
        from river import drift
        res = {}
        for name, s in det["streams"].items():
            xs = stream(s)
            for dname, ctor in (("ph", drift.PageHinkley), ("adwin", drift.ADWIN), ("ddm", drift.binary.DDM)):
                if (dname == "ddm") != name.startswith("ddm"):
                    continue
                d = ctor()
                hits, warns = [], []
                for i, x in enumerate(xs):
                    d.update(bool(x) if dname == "ddm" else x)
                    if d.drift_detected:
                        hits.append(i)
                    if dname == "ddm" and d.warning_detected:
                        warns.append(i)
                res[f"{dname}:{name}"] = {"drift": hits, **({"warning": warns} if dname == "ddm" else {})}
        det["river"] = res
        import river
        fx["river"] = river.__version__
    except ImportError:
        print("river not installed: detector indices not generated", file=sys.stderr)
    fx["detectors"] = det

    os.makedirs(os.path.dirname(OUT), exist_ok=True)
    with open(OUT, "w") as fh:
        json.dump(fx, fh, indent=1, allow_nan=False)
        fh.write("\n")
    print(f"wrote {os.path.normpath(OUT)}")


if __name__ == "__main__":
    main()
