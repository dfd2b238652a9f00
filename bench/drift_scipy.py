"""SciPy baseline for bench/drift.mjs: the same statistics on the same columns (float64 files written
by the Node side), CPU seconds per statistic. Evidently's binned distances are computed the way its
code does (numpy histogram on Sturges edges of the pooled sample)."""
import json
import sys
import time

import numpy as np
from scipy import stats
from scipy.spatial import distance


def binned(ref, cur):
    edges = np.histogram_bin_edges(np.concatenate([ref, cur]), bins="sturges")
    p = np.histogram(ref, edges)[0] / len(ref)
    q = np.histogram(cur, edges)[0] / len(cur)
    return p, q


def filled(x):
    x = x.copy()
    m = x[x > 0].min()
    x[x == 0] = m / 1e6 if m <= 0.0001 else 0.0001
    return x


def main():
    directory, columns, rows = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    cpu = {k: 0.0 for k in ["load", "ks", "wasserstein", "energy", "t_test", "binned", "moments"]}
    for c in range(columns):
        t = time.process_time()
        ref = np.fromfile(f"{directory}/ref{c}.f64", dtype=np.float64, count=rows)
        cur = np.fromfile(f"{directory}/cur{c}.f64", dtype=np.float64, count=rows)
        cpu["load"] += time.process_time() - t
        t = time.process_time()
        stats.ks_2samp(ref, cur)
        cpu["ks"] += time.process_time() - t
        t = time.process_time()
        stats.wasserstein_distance(ref, cur)
        cpu["wasserstein"] += time.process_time() - t
        t = time.process_time()
        stats.energy_distance(ref, cur)
        cpu["energy"] += time.process_time() - t
        t = time.process_time()
        stats.ttest_ind(ref, cur)
        cpu["t_test"] += time.process_time() - t
        t = time.process_time()
        p, q = binned(ref, cur)
        pf, qf = filled(p), filled(q)
        np.sum((pf - qf) * np.log(pf / qf))
        distance.jensenshannon(p, q)
        stats.entropy(pf, qf)
        cpu["binned"] += time.process_time() - t
        t = time.process_time()
        ref.mean(), cur.mean(), ref.std(), cur.std(), ref.min(), ref.max(), cur.min(), cur.max()
        cpu["moments"] += time.process_time() - t
    print(json.dumps(cpu))


main()
