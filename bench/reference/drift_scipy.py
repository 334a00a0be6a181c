#!/usr/bin/env python3
"""Reference drift statistics with scipy/numpy, for the scaling sweep of bench/drift.bench.ts.

    python3 bench/reference/drift_scipy.py MANIFEST.json [--repeats 3]

The TypeScript bench writes the generated reference and current-window columns to a binary file
(float64 little-endian for numeric columns, uint8 category codes for categorical ones) and a JSON
manifest describing it, runs this script, and compares both the statistics and the time. Reading the
very same bytes is what makes "same data" exact; regenerating the Box-Muller normals in Python would
depend on libm agreeing with V8 to the last bit.

It computes, per feature, what lib/stats/drift computes on raw samples (see the method files there):

  numeric
    ks            scipy.stats.ks_2samp(ref, cur)  (two-sided, method='auto': exact p only when
                  max(n1, n2) <= 10 000, else kstwo.sf(D, round(n1 n2 / (n1 + n2))))
    wasserstein   W1 = scipy.stats.wasserstein_distance(ref, cur);
                  score = W1 / max(np.std(ref), 0.001)   (population std, Evidently's normed W1)
    psi           PSI = sum_i (a_i - e_i) ln(a_i / e_i) over reference deciles; edges are type-1
                  quantiles sorted_ref[ceil(n i / 10) - 1] computed in integer arithmetic (numpy's
                  'inverted_cdf' computes n*p in floating point, which can land one index off),
                  deduplicated; bins are right-closed, bin(x) = #edges < x = searchsorted(side='left');
                  a share of exactly 0 becomes 1e-4.
  categorical (counts via np.bincount of the codes)
    chisquare_gof          scipy.stats.chisquare(cur_seen, ref_seen * n_cur_seen / n_ref), categories
                           absent from the reference excluded (driftwatch's 'exclude' policy)
    chisquare_contingency  scipy.stats.chi2_contingency([ref; cur]) over categories present on either
                           side (Yates' correction when dof == 1, scipy's default)
    psi                    same PSI formula, one bin per category
    jensenshannon          scipy.spatial.distance.jensenshannon(ref, cur)  (distance, base e)

The bench data has no missing values (asserted at load), so the missing-value conventions of
lib/stats (NaN dropped for KS/W1, a separate PSI bin) never come into play here.

Timing: the file is loaded once (reported as loadSeconds, not part of the compute time); then the full
set of statistics is computed `--repeats` times and each repeat's wall (time.perf_counter) and CPU
(time.process_time, all threads of this process) seconds are reported in total and per method group
(ks, wasserstein, psi, categorical). Result: one JSON object on stdout; progress on stderr.
"""
import argparse
import json
import math
import platform
import sys
import time

import numpy as np
import scipy
from scipy import stats
from scipy.spatial.distance import jensenshannon

PSI_EPSILON = 1e-4  # lib/stats/drift/methods/psi.ts PSI_DEFAULT_EPSILON
PSI_BINS = 10  # PSI_DEFAULT_BINS
WASSERSTEIN_STD_FLOOR = 1e-3  # wasserstein.ts WASSERSTEIN_STD_FLOOR
GROUPS = ("ks", "wasserstein", "psi", "categorical")


def finite_or_none(x):
    x = float(x)
    return x if math.isfinite(x) else None


def quantile_edges(sorted_ref, k):
    """lib/stats/quantile.ts quantileEdges: type-1 quantiles at i/k, i = 1..k-1, deduplicated."""
    n = sorted_ref.size
    edges = []
    for i in range(1, k):
        idx = max(0, min(n - 1, -(-n * i // k) - 1))  # ceil(n i / k) - 1 with integers only
        q = float(sorted_ref[idx])
        if not edges or q > edges[-1]:
            edges.append(q)
    return np.array(edges, dtype=np.float64)


def psi_from_counts(ref, cur, eps=PSI_EPSILON):
    e = ref / ref.sum()
    a = cur / cur.sum()
    e = np.where(e == 0, eps, e)
    a = np.where(a == 0, eps, a)
    return float(np.sum((a - e) * np.log(a / e)))


def numeric_stats(ref, cur, clock):
    out = {}
    with clock("ks"):
        r = stats.ks_2samp(ref, cur)
        out["ks"] = {"statistic": finite_or_none(r.statistic), "pvalue": finite_or_none(r.pvalue)}
    with clock("wasserstein"):
        w1 = stats.wasserstein_distance(ref, cur)
        std = float(np.std(ref))
        out["wasserstein"] = {"w1": finite_or_none(w1), "refStd": std, "score": finite_or_none(w1 / max(std, WASSERSTEIN_STD_FLOOR))}
    with clock("psi"):
        edges = quantile_edges(np.sort(ref), PSI_BINS)
        k = edges.size + 1
        rc = np.bincount(np.searchsorted(edges, ref, side="left"), minlength=k).astype(np.float64)
        cc = np.bincount(np.searchsorted(edges, cur, side="left"), minlength=k).astype(np.float64)
        out["psi"] = {"score": psi_from_counts(rc, cc), "bins": int(k)}
    return out


def categorical_stats(ref_codes, cur_codes, n_categories, clock):
    with clock("categorical"):
        rc = np.bincount(ref_codes, minlength=n_categories).astype(np.float64)
        cc = np.bincount(cur_codes, minlength=n_categories).astype(np.float64)
        seen = rc > 0
        cur_seen = cc[seen]
        expected = rc[seen] * (cur_seen.sum() / rc.sum())
        gof = stats.chisquare(cur_seen, expected)
        keep = (rc + cc) > 0
        ct = stats.chi2_contingency(np.array([rc[keep], cc[keep]]))
        return {
            "chisquare_gof": {"statistic": finite_or_none(gof.statistic), "pvalue": finite_or_none(gof.pvalue)},
            "chisquare_contingency": {"statistic": finite_or_none(ct.statistic), "pvalue": finite_or_none(ct.pvalue), "dof": int(ct.dof)},
            "psi": {"score": psi_from_counts(rc, cc)},
            "jensenshannon": {"score": finite_or_none(jensenshannon(rc, cc))},
        }


class Clock:
    """Accumulates wall and CPU seconds per method group."""

    def __init__(self):
        self.wall = {g: 0.0 for g in GROUPS}
        self.cpu = {g: 0.0 for g in GROUPS}

    def __call__(self, group):
        clock = self

        class _Span:
            def __enter__(self):
                self.w0 = time.perf_counter()
                self.c0 = time.process_time()

            def __exit__(self, *exc):
                clock.wall[group] += time.perf_counter() - self.w0
                clock.cpu[group] += time.process_time() - self.c0
                return False

        return _Span()


def load(manifest):
    t0 = time.perf_counter()
    path = manifest["file"]
    cols = {"numeric": [], "categorical": []}
    for f in manifest["numeric"]:
        ref = np.fromfile(path, dtype="<f8", count=manifest["nRef"], offset=f["refOffset"])
        cur = np.fromfile(path, dtype="<f8", count=manifest["nCur"], offset=f["curOffset"])
        if not (np.isfinite(ref).all() and np.isfinite(cur).all()):
            raise SystemExit(f"drift_scipy: non-finite values in {f['name']}; the bench data is expected to have none")
        cols["numeric"].append((f["name"], ref, cur))
    for f in manifest["categorical"]:
        ref = np.fromfile(path, dtype=np.uint8, count=manifest["nRef"], offset=f["refOffset"])
        cur = np.fromfile(path, dtype=np.uint8, count=manifest["nCur"], offset=f["curOffset"])
        cols["categorical"].append((f["name"], ref, cur, len(f["categories"])))
    return cols, time.perf_counter() - t0


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("manifest")
    ap.add_argument("--repeats", type=int, default=1)
    args = ap.parse_args()
    with open(args.manifest, encoding="utf-8") as fh:
        manifest = json.load(fh)
    cols, load_seconds = load(manifest)
    print(f"[drift_scipy] n_cur={manifest['nCur']} loaded in {load_seconds:.2f} s", file=sys.stderr)
    repeats = []
    results = {}
    for k in range(max(1, args.repeats)):
        clock = Clock()
        w0, c0 = time.perf_counter(), time.process_time()
        for name, ref, cur in cols["numeric"]:
            results[name] = numeric_stats(ref, cur, clock)
        for name, ref, cur, n_cat in cols["categorical"]:
            results[name] = categorical_stats(ref, cur, n_cat, clock)
        wall, cpu = time.perf_counter() - w0, time.process_time() - c0
        repeats.append({"wallSeconds": wall, "cpuSeconds": cpu, "wallByGroup": clock.wall, "cpuByGroup": clock.cpu})
        print(f"[drift_scipy] n_cur={manifest['nCur']} repeat {k + 1}/{args.repeats}: {wall:.3f} s wall, {cpu:.3f} s cpu", file=sys.stderr)
    json.dump(
        {
            "python": platform.python_version(),
            "scipy": scipy.__version__,
            "numpy": np.__version__,
            "nRef": manifest["nRef"],
            "nCur": manifest["nCur"],
            "loadSeconds": load_seconds,
            "repeats": repeats,
            "results": results,
        },
        sys.stdout,
    )
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
