"""Seconds and peak memory of r, rho and per-account counts: this package beside igraph, networkx and DuckDB.

Usage:  python benchmarks/bench_reciprocity.py [--quick]

Generated directed graphs (followees drawn with heavy-tailed, lognormal popularity; about a
quarter of follows returned) of 1M and 10M follows among L/10 accounts (``--quick``: 100k and
1M). Every method runs in its own fresh subprocess on the same graph, so each peak is its own:
``peak MiB`` is the subprocess's peak resident memory during the computation, graph and imported
libraries included (what a 2 GiB machine must hold), ``extra MiB`` the part added by the
computation over what was resident before it (the graph, as codes or as text ids).

Methods, each computing r, dyad reciprocity, density/rho and per-account followers, following
and mutual counts:

- ``package, codes``    :func:`reciprocity_utils.metrics.reciprocity_of_arcs` and
                        :func:`~reciprocity_utils.metrics.account_counts` on integer codes;
- ``package, text ids`` the same from a study dataset of 19-digit text ids, encoding included
                        (:func:`~reciprocity_utils.metrics.encode_follows`);
- ``igraph``            graph construction, ``reciprocity()``, degrees, ``is_mutual()``;
- ``networkx``          ``DiGraph``, ``overall_reciprocity``, degrees, reciprocal undirected view
                        (1M follows at most: it takes minutes and gigabytes beyond);
- ``duckdb self-join``  SQL join of the follows with their reverses, per-account counts by GROUP BY.

Then the null model: 100 degree-preserving randomized networks of a 100,000-follow graph, in one
process and shared by two (same numbers either way). The load average is printed at the end: on
a shared machine, seconds grow with other work.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ID_BASE = 1_200_000_000_000_000_000
RETURNED_SHARE = 0.25


def generate_graph(n_follows: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray, int]:
    """About ``n_follows`` distinct arcs among n_follows // 10 accounts, no self-loops, some returned."""
    rng = np.random.default_rng(seed)
    n = max(10, n_follows // 10)
    popularity = np.exp(1.2 * rng.standard_normal(n))
    cumulative = np.cumsum(popularity / popularity.sum())
    initiated = int(n_follows / (1 + RETURNED_SHARE) * 1.05)
    follower = rng.integers(0, n, initiated)
    followee = np.minimum(np.searchsorted(cumulative, rng.random(initiated)), n - 1)
    keep = follower != followee
    follower, followee = follower[keep], followee[keep]
    returned = rng.random(len(follower)) < RETURNED_SHARE
    keys = np.unique(np.concatenate([follower * n + followee, followee[returned] * n + follower[returned]]))
    keys = rng.permutation(keys)[:n_follows]
    return keys // n, keys % n, n


# ---------------------------------------------------------------------------------------------
# Methods, each run in a child process: returns the numbers it computed (checked against each other)


def run_package_codes(follower, followee, n):
    from reciprocity_utils import metrics

    mutual = metrics.mutual_pairs(follower, followee, n)
    result = metrics.reciprocity_of_arcs(follower, followee, n, mutual=mutual)
    counts = metrics.account_counts(follower, followee, n, mutual=mutual)
    return result.arc_reciprocity, result.rho, int(counts["mutual"].sum())


def text_id_dataset(follower, followee, n):
    """A study dataset with 19-digit text ids (built before timing starts)."""
    import pandas as pd
    import pyarrow as pa
    import pyarrow.compute as pc

    from reciprocity_utils import Coverage, Provenance, StudyDataset, ValidationReport

    ids = pa.array((ID_BASE + np.arange(n, dtype=np.int64) * 7919).astype(str))
    column = lambda codes: pd.Series(pd.arrays.ArrowStringArray(pc.take(ids, pa.array(codes)).cast(pa.large_string())))
    accounts = pd.DataFrame({"account_id": column(np.arange(n)), "kind": pd.Series(pd.NA, index=range(n), dtype="string")})
    follows = pd.DataFrame({"follower_id": column(follower), "followee_id": column(followee)})
    empty = pd.DataFrame({c: pd.Series(dtype="string") for c in ("actor_id", "target_id", "kind")})
    return StudyDataset(accounts, follows, empty, Coverage(), Provenance("benchmark"), ValidationReport("benchmark"))


def run_package_text_ids(dataset):
    from reciprocity_utils import metrics

    arcs = metrics.encode_follows(dataset)
    mutual = metrics.mutual_pairs(arcs.follower, arcs.followee, arcs.n_accounts)
    result = metrics.reciprocity_of_arcs(arcs.follower, arcs.followee, arcs.n_accounts, mutual=mutual)
    counts = metrics.account_counts(arcs.follower, arcs.followee, arcs.n_accounts, mutual=mutual)
    return result.arc_reciprocity, result.rho, int(counts["mutual"].sum())


def run_igraph(follower, followee, n):
    import igraph

    graph = igraph.Graph(n=n, edges=np.column_stack([follower, followee]), directed=True)
    r = graph.reciprocity()
    density = graph.density()
    graph.indegree(), graph.outdegree()
    mutual = np.bincount(np.asarray(follower)[np.asarray(graph.is_mutual(), dtype=bool)], minlength=n)
    return r, (r - density) / (1 - density), int(mutual.sum())


def run_networkx(follower, followee, n):
    import networkx as nx

    graph = nx.DiGraph()
    graph.add_nodes_from(range(n))
    graph.add_edges_from(zip(follower.tolist(), followee.tolist()))
    r = nx.overall_reciprocity(graph)
    density = nx.density(graph)
    dict(graph.in_degree()), dict(graph.out_degree())
    mutual = dict(graph.to_undirected(reciprocal=True).degree())
    return r, (r - density) / (1 - density), int(sum(mutual.values()))


def run_duckdb(follower, followee, n):
    import duckdb
    import pandas as pd

    connection = duckdb.connect()
    connection.register("follows", pd.DataFrame({"src": follower, "dst": followee}))
    returned = connection.execute(
        "CREATE TEMP TABLE mutual AS SELECT a.src FROM follows a JOIN follows b ON a.src = b.dst AND a.dst = b.src"
    ).fetchall()
    n_follows = len(follower)
    n_returned = connection.execute("SELECT count(*) FROM mutual").fetchone()[0]
    connection.execute("SELECT src, count(*) FROM follows GROUP BY src").fetch_df()
    connection.execute("SELECT dst, count(*) FROM follows GROUP BY dst").fetch_df()
    mutual_counts = connection.execute("SELECT src, count(*) AS c FROM mutual GROUP BY src").fetch_df()
    del returned
    r = n_returned / n_follows
    density = n_follows / (n * (n - 1))
    return r, (r - density) / (1 - density), int(mutual_counts["c"].sum())


METHODS = {
    "package, codes": run_package_codes,
    "package, text ids": run_package_text_ids,
    "igraph": run_igraph,
    "networkx": run_networkx,
    "duckdb self-join": run_duckdb,
}


def memory_mib(field: str) -> float:
    """VmRSS (now) or VmHWM (peak since the last reset) of this process, from /proc (Linux)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # no /proc: the peak so far


def reset_peak() -> None:
    """Make VmHWM restart from the current resident size (Linux >= 4.0), so the next peak is the method's own."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        pass


def child(method: str, graph_file: str) -> None:
    """Load the graph, note the peak so far, run the method once, print seconds and memory as JSON."""
    data = np.load(graph_file)
    follower, followee, n = data["follower"], data["followee"], int(data["n"])
    if method == "package, text ids":
        arguments = (text_id_dataset(follower, followee, n),)
    else:
        arguments = (follower, followee, n)
    for module in ("igraph", "networkx", "duckdb", "pandas", "reciprocity_utils.metrics"):
        __import__(module)  # imports are not part of the computation
    reset_peak()
    before = memory_mib("VmRSS")
    started = time.perf_counter()
    r, rho, mutual_total = METHODS[method](*arguments)
    seconds = time.perf_counter() - started
    after = memory_mib("VmHWM")
    print(
        json.dumps(
            {"seconds": seconds, "peak_mib": after, "extra_mib": max(0.0, after - before), "r": r, "rho": rho, "mutual": mutual_total}
        )
    )


def measure(method: str, graph_file: Path) -> dict:
    output = subprocess.run([sys.executable, __file__, "--child", method, str(graph_file)], capture_output=True, text=True, check=True)
    return json.loads(output.stdout.strip().splitlines()[-1])


def null_ensemble_seconds(n_follows: int, n_networks: int, workers: int) -> tuple[float, float, float]:
    from reciprocity_utils import metrics

    follower, followee, n = generate_graph(n_follows, seed=1)
    started = time.perf_counter()
    null = metrics.degree_preserving_null(follower, followee, n, n_networks=n_networks, seed=0, workers=workers)
    return time.perf_counter() - started, null.observed, null.z_score


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="graphs of 100k and 1M follows, 20 randomized networks")
    parser.add_argument("--child", nargs=2, metavar=("METHOD", "GRAPH"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(*args.child)
        return
    sizes = (100_000, 1_000_000) if args.quick else (1_000_000, 10_000_000)
    networkx_limit = 1_000_000
    print(f"{'follows':>11} {'accounts':>10}  {'method':<18} {'seconds':>8} {'peak MiB':>9} {'extra MiB':>9}  {'r':>8} {'rho':>8}")
    with tempfile.TemporaryDirectory() as folder:
        for size in sizes:
            follower, followee, n = generate_graph(size)
            graph_file = Path(folder) / f"graph_{size}.npz"
            np.savez(graph_file, follower=follower, followee=followee, n=n)
            answers = set()
            for method in METHODS:
                if method == "networkx" and size > networkx_limit:
                    print(f"{len(follower):>11,} {n:>10,}  {method:<18} {'skipped: minutes and several GiB beyond 1M follows':>38}")
                    continue
                row = measure(method, graph_file)
                answers.add((round(row["r"], 12), round(row["rho"], 12), row["mutual"]))
                print(
                    f"{len(follower):>11,} {n:>10,}  {method:<18} {row['seconds']:>8.2f} {row['peak_mib']:>9.0f} {row['extra_mib']:>9.0f}  "
                    f"{row['r']:>8.5f} {row['rho']:>8.5f}",
                    flush=True,
                )
            print(f"{'':>23}  all methods agree on r, rho and the mutual counts: {'yes' if len(answers) == 1 else 'NO: ' + str(answers)}")
    n_networks = 20 if args.quick else 100
    print(f"\nnull model: {n_networks} degree-preserving randomized networks of a 100,000-follow graph, 10 rewiring trials per follow each")
    for workers in (1, 2):
        seconds, observed, z = null_ensemble_seconds(100_000, n_networks, workers)
        print(f"  {workers} process{'es' if workers > 1 else ''}: {seconds:.1f} s (observed r = {observed:.4f}, z = {z:.1f})", flush=True)
    print(f"\nload average during the run (2 cores shared with other work): {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
