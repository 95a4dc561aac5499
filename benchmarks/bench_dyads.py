"""Time the dyad table and study 03's models on large inputs; print the figures.

Usage: python benchmarks/bench_dyads.py [--quick] [--skip-models] [--skip-table]

1. The dyad table for 10,000,000 follows and 5,000,000 interactions among 1,000,000 accounts
   (19-digit text ids, times, 40% of follows returned), built by ``build_dyads``, against a plain
   DuckDB join over the same tables in the same run (mutual status and a->b / b->a event totals,
   the least a dyad table needs). Each method runs in its own process, reading the same Parquet
   files, so its peak memory (``ru_maxrss``) is its own. Goal: under 6 s within 4 GiB, within 2x
   of DuckDB. The table is built three ways: with numpy's default huge-page advice, as the study
   kernels run it (``NUMPY_MADVISE_HUGEPAGE=0``), and with glibc also keeping freed memory.
2. Every model of notebook 03 on a generated network of about 1,000,000 follows (the generator
   with 20,000 accounts of mean out-degree 50, so the planted truth is known): the dyad table,
   the segments, the six models with and without controls, the other direction, the moderator,
   the robustness set, the permutation check, the timing design and the out-of-time AUCs, each
   timed. Goal: the models in under 30 s.

``--quick`` divides every size by 10.
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

SCRIPT = Path(__file__).resolve()
# numpy's documented switch: no madvise(MADV_HUGEPAGE) on large arrays, so the kernel may hand out
# recently freed 4 KiB pages instead of fresh 2 MiB ones (see the README on lazily backed memory).
NO_HUGEPAGE_ADVICE = {"NUMPY_MADVISE_HUGEPAGE": "0"}
# glibc: never mmap large blocks, never trim the heap, so freed arrays are reused warm.
KEEP_FREED_MEMORY = {"MALLOC_MMAP_MAX_": "0", "MALLOC_TRIM_THRESHOLD_": str(2**40)}


def peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def resident_mib() -> float:
    """Memory resident now (Linux), as opposed to the peak so far."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return float(line.split()[1]) / 1024
    except OSError:
        pass
    return float("nan")


def arrow_text(values: np.ndarray) -> pd.arrays.ArrowStringArray:
    return pd.arrays.ArrowStringArray(pc.cast(pa.array(values), pa.string()))


def write_large_input(folder: Path, n_accounts: int, n_follows: int, n_events: int, seed: int = 0) -> None:
    """Follows with heavy-tailed followees and 40% returned, events mostly along follows, as Parquet."""
    rng = np.random.default_rng(seed)
    popularity = rng.lognormal(0.0, 1.2, n_accounts)
    cumulative = np.cumsum(popularity) / popularity.sum()
    initiating = int(n_follows / 1.4 * 1.05)
    follower = rng.integers(0, n_accounts, initiating)
    followee = np.minimum(np.searchsorted(cumulative, rng.random(initiating)), n_accounts - 1)
    keep = follower != followee
    keys = np.unique(follower[keep] * n_accounts + followee[keep])
    # Drop pairs drawn in both directions, so reciprocity comes from the follow-backs below only.
    keys = keys[~np.isin((keys % n_accounts) * n_accounts + keys // n_accounts, keys) | (keys % n_accounts > keys // n_accounts)]
    rng.shuffle(keys)
    returned = rng.random(len(keys)) < 0.4
    back = (keys[returned] % n_accounts) * n_accounts + keys[returned] // n_accounts
    arcs = np.concatenate([keys, back])[:n_follows]
    a, b = arcs // n_accounts, arcs % n_accounts
    start = pd.Timestamp("2024-01-01", tz="UTC").value // 1000
    year = 365 * 86_400 * 10**6
    followed = start + rng.integers(0, year, len(arcs))
    on_arcs = rng.integers(0, len(arcs), int(n_events * 0.9))
    reverse = rng.random(len(on_arcs)) < 0.3  # b toward a
    strangers = n_events - len(on_arcs)
    actor = np.concatenate([np.where(reverse, b[on_arcs], a[on_arcs]), rng.integers(0, n_accounts, strangers)])
    target = np.concatenate([np.where(reverse, a[on_arcs], b[on_arcs]), rng.integers(0, n_accounts, strangers)])
    target = np.where(actor == target, (target + 1) % n_accounts, target)
    at = start + rng.integers(0, year, len(actor))
    ids = 1_200_000_000_000_000_000 + np.sort(rng.choice(10**17, n_accounts, replace=False))
    kinds = np.array(["reply", "mention", "repost", "quote", "like"])
    tables = {
        "accounts": pd.DataFrame({"account_id": arrow_text(ids)}),
        "follows": pd.DataFrame(
            {
                "follower_id": arrow_text(ids[a]),
                "followee_id": arrow_text(ids[b]),
                "followed_at": pd.to_datetime(followed, unit="us", utc=True),
            }
        ),
        "interactions": pd.DataFrame(
            {
                "actor_id": arrow_text(ids[actor]),
                "target_id": arrow_text(ids[target]),
                "kind": arrow_text(kinds[rng.integers(0, 5, len(actor))]),
                "at": pd.to_datetime(at, unit="us", utc=True),
                "count": np.ones(len(actor), dtype=np.int64),
            }
        ),
    }
    for name, table in tables.items():
        table.to_parquet(folder / f"{name}.parquet", index=False)


def read_dataset(folder: Path):
    """The benchmark tables as a study dataset, as a loader would hand them over (validation not timed)."""
    from reciprocity_utils.model import Coverage, Provenance, StudyDataset, ValidationReport

    accounts = pd.read_parquet(folder / "accounts.parquet")
    accounts["handle"] = pd.array([None] * len(accounts), dtype="string")
    accounts["platform"] = pd.array(["bench"] * len(accounts), dtype="string")
    accounts["is_owner"] = False
    accounts["kind"] = pd.array([None] * len(accounts), dtype="string")
    follows = pd.read_parquet(folder / "follows.parquet").assign(source="bench")
    interactions = pd.read_parquet(folder / "interactions.parquet").assign(source="bench")
    times = [follows["followed_at"].min(), follows["followed_at"].max(), interactions["at"].min(), interactions["at"].max()]
    coverage = Coverage(follow_times=True, time_start=min(times).isoformat(), time_end=max(times).isoformat())
    return StudyDataset(accounts, follows, interactions, coverage, Provenance("benchmark"), ValidationReport("benchmark"))


DUCKDB_JOIN = """
WITH events AS (SELECT actor_id, target_id, sum("count") AS n FROM interactions GROUP BY ALL)
SELECT f.follower_id, f.followee_id, r.follower_id IS NOT NULL AS mutual,
       coalesce(ab.n, 0) AS ab_total, coalesce(ba.n, 0) AS ba_total
FROM follows f
LEFT JOIN follows r ON r.follower_id = f.followee_id AND r.followee_id = f.follower_id
LEFT JOIN events ab ON ab.actor_id = f.follower_id AND ab.target_id = f.followee_id
LEFT JOIN events ba ON ba.actor_id = f.followee_id AND ba.target_id = f.follower_id
"""


def run_one(method: str, folder: Path) -> None:
    """Child process: load the tables, run one method, print 'seconds peak_mib rows'."""
    if method == "dyads":
        from reciprocity_utils.dyads import build_dyads

        dataset = read_dataset(folder)
        loaded = resident_mib()
        started = time.perf_counter()
        table = build_dyads(dataset).frame
        seconds = time.perf_counter() - started
        rows, check = len(table), int(table["ab_total"].sum())
    else:
        import duckdb

        follows = pd.read_parquet(folder / "follows.parquet")
        interactions = pd.read_parquet(folder / "interactions.parquet")
        loaded = resident_mib()
        connection = duckdb.connect()
        connection.execute("SET threads TO 2")
        connection.register("follows", follows)
        connection.register("interactions", interactions)
        started = time.perf_counter()
        if method == "duckdb-count":
            rows, check = connection.execute(f"SELECT count(*), sum(ab_total) FROM ({DUCKDB_JOIN})").fetchone()
        else:
            table = connection.execute(DUCKDB_JOIN).df()
            rows, check = len(table), int(table["ab_total"].sum())
        seconds = time.perf_counter() - started
    print(f"{seconds:.3f} {peak_mib():.0f} {loaded:.0f} {rows} {check}")


def table_benchmark(scale: float) -> None:
    n_accounts, n_follows, n_events = int(1_000_000 * scale), int(10_000_000 * scale), int(5_000_000 * scale)
    with tempfile.TemporaryDirectory(prefix="bench_dyads_") as tmp:
        folder = Path(tmp)
        started = time.perf_counter()
        write_large_input(folder, n_accounts, n_follows, n_events)
        follows = pd.read_parquet(folder / "follows.parquet", columns=["follower_id"])
        print(
            f"Input: {len(follows):,} follows, {n_events:,} interactions, {n_accounts:,} accounts "
            f"(generated in {time.perf_counter() - started:.1f} s)"
        )
        rows = []
        for method, label, environment in (
            ("dyads", "build_dyads (full table), numpy's default huge-page advice", {}),
            ("dyads", "build_dyads as the study kernels run it (NUMPY_MADVISE_HUGEPAGE=0)", NO_HUGEPAGE_ADVICE),
            ("dyads", "same + glibc keeping freed memory (MALLOC_MMAP_MAX_=0)", NO_HUGEPAGE_ADVICE | KEEP_FREED_MEMORY),
            ("duckdb", "DuckDB join: mutual + a->b/b->a totals, to pandas", {}),
            ("duckdb-count", "DuckDB join: same, computed but not materialised", {}),
        ):
            # The defaults come first, before any other run has warmed the machine's memory.
            output = subprocess.run(
                [sys.executable, str(SCRIPT), "--run", method, "--folder", str(folder)],
                check=True,
                capture_output=True,
                text=True,
                env=os.environ | environment,
            ).stdout.split()
            seconds, peak, loaded, n_rows, check = float(output[0]), float(output[1]), float(output[2]), int(output[3]), int(output[4])
            rows.append(
                {"method": label, "seconds": seconds, "peak_MiB": peak, "input_resident_MiB": loaded, "rows": n_rows, "a->b events": check}
            )
    frame = pd.DataFrame(rows)
    duck_computed = frame.loc[frame["method"].str.contains("computed"), "seconds"].iloc[0]
    frame["x DuckDB computed"] = frame["seconds"] / duck_computed
    print(frame.to_string(index=False, float_format=lambda v: f"{v:,.2f}"))
    print("Goals: build_dyads < 6 s, peak < 4096 MiB, within 2x of DuckDB.")
    print(
        "Memory settings: numpy advises the kernel to back arrays of 4 MiB or more with 2 MiB huge pages; on "
        "virtual machines that back guest memory lazily, each fresh huge page is zeroed through host faults, which "
        "dominates the build (NUMPY_MADVISE_HUGEPAGE=0 turns the advice off). With MALLOC_MMAP_MAX_=0 glibc serves "
        "large arrays from its heap and reuses freed ones instead of asking the kernel for fresh pages each time "
        "(DuckDB keeps its own memory the same way). The kernel `make env` registers sets the first."
    )
    print(
        "a->b events: build_dyads counts events inside each follow's exposure window (at or after the follow), "
        "the plain join every event between the two accounts."
    )


def models_benchmark(scale: float) -> None:
    from reciprocity_utils import inference
    from reciprocity_utils.dyads import build_dyads
    from reciprocity_utils.segments import engagement_segments
    from reciprocity_utils.synthetic import generate_network, network_dataset

    n_accounts = int(20_000 * max(scale, 0.1) ** 0.5)
    degree = 50 * max(scale, 0.1) ** 0.5
    started = time.perf_counter()
    network = generate_network(n_accounts=n_accounts, mean_out_degree=degree, seed=1)
    dataset = network_dataset(network)
    print(
        f"\nGenerated {len(dataset.follows):,} follows and {len(dataset.interactions):,} interactions among {n_accounts:,} accounts "
        f"in {time.perf_counter() - started:.1f} s (planted ratio {network.truth['planted']['mutual_rate_ratio']:g})"
    )
    timings = []

    def timed(label, function):
        began = time.perf_counter()
        value = function()
        timings.append({"step": label, "seconds": time.perf_counter() - began})
        return value

    dyads = timed("dyad table", lambda: build_dyads(dataset))
    segments = timed("segments split at the follow-back", lambda: engagement_segments(dataset, dyads)[0])
    frame = timed("model frames", lambda: inference.model_frame(dyads, segments))
    arcs = inference.model_frame(dyads)
    models_started = time.perf_counter()
    fits = timed("six models with and without controls", lambda: inference.fit_all(frame, inference.standard_specs(frame))[0])
    timed("other direction (raw rate ratio)", lambda: inference.fit_all(frame, inference.other_direction_specs(frame)))
    adjusted = fits[inference.ADJUSTED_LABEL]
    timed(
        "moderator: follow-back rate and brand",
        lambda: (inference.moderated_effect(frame), inference.moderated_effect(frame, "b_is_brand", center=0.0, grid=[0, 1])),
    )
    timed("robustness set (controls, design, kinds)", lambda: inference.robustness_table(frame, arcs, fits))
    timed("raw comparisons", lambda: (inference.raw_comparison(arcs), inference.raw_comparison(frame), inference.raw_by_kind(arcs)))
    models_seconds = time.perf_counter() - models_started
    permutation = timed("permutation check (999 requested)", lambda: inference.permutation_test(arcs, 999))
    timed("timing design (6 periods, 7-day lead)", lambda: inference.timing_design(dataset, dyads))
    timed("out-of-time AUCs (200 bootstrap draws)", lambda: inference.out_of_time_auc(dataset, dyads))
    checks_seconds = time.perf_counter() - models_started - models_seconds
    print(pd.DataFrame(timings).to_string(index=False, float_format=lambda v: f"{v:,.2f}"))
    adjusted = adjusted.mutual
    print(
        f"{len(frame):,} model observations ({len(dyads.frame):,} dyads). Adjusted rate ratio {adjusted.value:.3f} "
        f"(95% {adjusted.interval()[0]:.3f}-{adjusted.interval()[1]:.3f}); permutations run: {permutation.n_permutations}"
        f"{' (capped)' if permutation.capped else ''}"
    )
    print(
        f"Models: {models_seconds:.1f} s (goal < 30 s); checks (permutation, timing, AUC): {checks_seconds:.1f} s; "
        f"peak memory {peak_mib():,.0f} MiB; numpy huge-page advice {'on' if huge_page_advice() else 'off'} "
        "(the study kernels run with it off)"
    )


def huge_page_advice() -> bool:
    """Whether numpy advises huge pages for large arrays in this process (NUMPY_MADVISE_HUGEPAGE)."""
    from numpy._core import multiarray

    return bool(multiarray._get_madvise_hugepage())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a tenth of every size")
    parser.add_argument("--skip-table", action="store_true", help="skip the 10M-follow dyad table benchmark")
    parser.add_argument("--skip-models", action="store_true", help="skip the 1M-follow models benchmark")
    parser.add_argument("--run", help=argparse.SUPPRESS)
    parser.add_argument("--folder", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.run:
        run_one(args.run, Path(args.folder))
        return
    scale = 0.1 if args.quick else 1.0
    if not args.skip_table:
        table_benchmark(scale)
    if not args.skip_models:
        models_benchmark(scale)


if __name__ == "__main__":
    main()
