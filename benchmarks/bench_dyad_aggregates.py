"""Study 03's dyad table two ways on one generated network: in memory, and counted by DuckDB then read.

Usage: python benchmarks/bench_dyad_aggregates.py [--accounts 20000 100000] [--degree 50] [--memory-limit 4GB]

The network: the package's generator (heavy-tailed activity and popularity, follow-backs, times,
engagement with a planted mutual rate ratio of 2), ``--accounts`` accounts of mean out-degree
``--degree`` (20,000 x 50: about 1M follows, a density of one follow in 400 possible), written in
the generic format (CSV, 19-digit ids). Each way runs in its own process, so its peak resident
memory (``ru_maxrss``) is its own:

- ``memory``: load and validate the tables, ``prepare_study`` (the dyad table, each follow's time
  split at its follow-back, the model frames) and the models with and without controls (what
  notebook 03 does in memory before its checks);
- ``duckdb``: the aggregates by DuckDB held to ``--memory-limit`` (spilling beyond it), then, in a
  second process, the table read back, the same frames and the same models: what a network too
  large to load costs a study, since only the table comes into memory.

Printed side by side: seconds, peak MiB, bytes per follow, and the adjusted mutual rate ratio (the
same from both, or the line says so). The bytes per follow of the read-and-model process are what
``dyad_files.BYTES_PER_ROW`` budgets for.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

SCRIPT = Path(__file__).resolve()


def peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _adjusted(study) -> float:
    from reciprocity_utils import inference

    fits, _ = inference.fit_all(study.frame, inference.standard_specs(study.frame))
    return inference.headline_fit(fits).mutual.value


def run_step(step: str, folder: str, work: str, memory_limit: str) -> dict:
    started = time.perf_counter()
    if step == "memory":
        import reciprocity_utils as ru
        from reciprocity_utils import inference

        study = inference.prepare_study(ru.load_dataset(folder))
        rows, ratio = len(study.arcs_frame.data), _adjusted(study)
    elif step == "duckdb-aggregates":
        from reciprocity_utils.engines.dyad_sql import write_dyad_aggregates

        rows, ratio = write_dyad_aggregates(folder, work, memory_limit=memory_limit).arcs, None
    else:
        from reciprocity_utils import inference
        from reciprocity_utils.dyad_files import dyad_coverage, read_dyad_table

        study = inference.prepare_study_from_dyads(read_dyad_table(work), dyad_coverage(work))
        rows, ratio = len(study.arcs_frame.data), _adjusted(study)
    return {"step": step, "rows": rows, "seconds": time.perf_counter() - started, "peak_mib": peak_mib(), "ratio": ratio}


def json_from_process(script: Path, *arguments: str) -> dict:
    """Run ``script`` with ``arguments`` in its own process (its peak memory its own) and read the JSON line it prints last."""
    output = subprocess.run([sys.executable, str(script), *arguments], capture_output=True, text=True, check=True).stdout
    return json.loads(output.strip().splitlines()[-1])


def in_process(step: str, folder: Path, work: Path, memory_limit: str) -> dict:
    return json_from_process(SCRIPT, "--step", step, str(folder), str(work), memory_limit)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--accounts", type=int, nargs="+", default=[20_000])
    parser.add_argument("--degree", type=float, default=50.0)
    parser.add_argument("--memory-limit", default="4GB")
    parser.add_argument("--step", nargs=4, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.step:
        step, folder, work, memory_limit = args.step
        print(json.dumps(run_step(step, folder, work, memory_limit)))
        return
    from reciprocity_utils.synthetic import generate_network, write_generic

    print(f"{'accounts':>9} {'follows':>11} {'way':<22} {'seconds':>8} {'peak MiB':>9} {'bytes/follow':>13} {'adjusted ratio':>15}")
    for accounts in args.accounts:
        with tempfile.TemporaryDirectory(prefix="bench-dyad-aggregates-") as scratch:
            folder, work = Path(scratch) / "network", Path(scratch) / "dyads"
            write_generic(generate_network(n_accounts=accounts, mean_out_degree=args.degree, seed=1), folder)
            rows = [in_process(step, folder, work, args.memory_limit) for step in ("memory", "duckdb-aggregates", "duckdb-read-and-model")]
            follows = rows[0]["rows"]
            for row in rows:
                per_follow = row["peak_mib"] * 2**20 / max(row["rows"], 1)
                ratio = "" if row["ratio"] is None else f"{row['ratio']:.6f}"
                print(
                    f"{accounts:>9,} {follows:>11,} {row['step']:<22} {row['seconds']:>8.1f} {row['peak_mib']:>9,.0f} "
                    f"{per_follow:>13,.0f} {ratio:>15}"
                )
            # The rows come in another order (sorted by pair), so the sums differ in the last bits only.
            difference = abs(rows[0]["ratio"] - rows[2]["ratio"]) / rows[0]["ratio"]
            verdict = "the same both ways" if difference < 1e-9 else "NOT the same: a bug"
            print(
                f"{'':>9} {'':>11} the adjusted ratio is {verdict} (relative difference {difference:.1e}); "
                f"DuckDB total {rows[1]['seconds'] + rows[2]['seconds']:.1f} s"
            )


if __name__ == "__main__":
    main()
