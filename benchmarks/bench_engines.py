"""The three engines on generated follow graphs of 10M and 100M follows: seconds and peak memory.

Usage: python benchmarks/bench_engines.py [--follows 10000000 100000000] [--engines memory duckdb spark]
                                          [--memory-limit 4GB] [--keep DIR]

The graphs: one account per 10 follows (mean out-degree 10, as in real follow graphs), whom
each account follows drawn in proportion to a popularity with a heavy tail (log-normal, sigma 1.5),
who follows drawn in proportion to an activity (log-normal, sigma 1), a quarter of the follows
returned, and the repeats and self-follows such draws give (removed and counted by every engine).
Ids are 19-digit numbers written as text. Written as Parquet, 10M rows per row group.

Each engine runs in its own process (peak resident memory of that process, VmHWM), DuckDB held to
``--memory-limit`` (default 4 GB) and spilling to a temporary folder, Spark in local mode on two
cores. Printed side by side: seconds, peak memory, bytes per follow, and r (the same from every
engine, or the line says so). Spark above 10M follows and the memory engine above what fits are
skipped with the reason. The cost of 1B follows is extrapolated from the measured growth.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

SCRIPT = Path(__file__).resolve()
ROWS_PER_GROUP = 10_000_000


def write_graph(follows: int, path: Path, seed: int = 1) -> dict:
    """A heavy-tailed follow graph of about ``follows`` rows (with repeats and self-follows) as Parquet."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    rng = np.random.default_rng(seed)
    n = max(follows // 10, 10)
    popularity = np.cumsum(rng.lognormal(0, 1.5, n))
    activity = np.cumsum(rng.lognormal(0, 1.0, n))
    schema = pa.schema([("follower_id", pa.string()), ("followee_id", pa.string())])
    written = 0
    started = time.perf_counter()
    with pq.ParquetWriter(path, schema) as writer:
        while written < follows:
            size = min(ROWS_PER_GROUP, follows - written)
            initiated = max(1, int(size / 1.25))  # at least one, or a last tiny chunk would never end
            a = np.searchsorted(activity, rng.random(initiated) * activity[-1])
            b = np.searchsorted(popularity, rng.random(initiated) * popularity[-1])
            back = np.flatnonzero(rng.random(initiated) < 0.25)[: size - initiated]
            follower = np.concatenate([a, b[back]])
            followee = np.concatenate([b, a[back]])
            ids = [pa.array(10**18 + codes.astype(np.int64) * 7919).cast(pa.string()) for codes in (follower, followee)]
            writer.write_table(pa.table(ids, schema=schema))
            written += len(follower)
    return {"follows": written, "accounts": n, "seconds": time.perf_counter() - started, "bytes": path.stat().st_size}


def _hwm_mib(pid: str) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return float(line.split()[1]) / 1024
    return 0.0


def _descendants(pid: str) -> list[str]:
    found = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        for child in (task / "children").read_text().split():
            found += [child, *_descendants(child)]
    return found


def available_bytes() -> int:
    from reciprocity_utils.engines.choice import available_memory_bytes

    return available_memory_bytes()


def peak_mib() -> float:
    """Peak resident memory of this process and its children (Spark's JVM is one), summed: an upper bound."""
    return sum(_hwm_mib(pid) for pid in ["self", *_descendants(str(os.getpid()))])


def print_agreement(rows: list[dict], sizes: list[int], size_key: str = "follows") -> None:
    """Whether every engine gave the same r at each size (the point of having three)."""
    for size in sizes:
        values = {row["r"] for row in rows if row[size_key] == size}
        if len(values) > 1:
            print(f"DIFFERENT r at {size:,} follows: {sorted(values)}")
        elif len({row["engine"] for row in rows if row[size_key] == size}) > 1:
            print(f"same r from every engine at {size:,} follows")


def run_here(path: str, engine: str, memory_limit: str) -> dict:
    from reciprocity_utils.engines import measure_follows

    started = time.perf_counter()
    measures = measure_follows(path, engine=engine, memory_limit=memory_limit)
    return {
        "seconds": time.perf_counter() - started,
        "peak_mib": peak_mib(),
        "r": measures.r,
        "follows": measures.follows,
        "rows_read": measures.rows_read,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--follows", type=int, nargs="+", default=[10_000_000, 100_000_000])
    parser.add_argument("--engines", nargs="+", default=["memory", "duckdb", "spark"])
    parser.add_argument("--memory-limit", default="4GB")
    parser.add_argument("--keep", default=None, help="keep the generated Parquet files in this folder (reused when present)")
    parser.add_argument("--run", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.run:
        print(json.dumps(run_here(*args.run)))
        return
    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(args.keep or scratch)
        folder.mkdir(parents=True, exist_ok=True)
        rows = []
        for follows in args.follows:
            path = folder / f"graph_{follows}.parquet"
            if not path.exists():
                made = write_graph(follows, path)
                print(
                    f"generated {made['follows']:,} follows among {made['accounts']:,} accounts in {made['seconds']:.0f} s "
                    f"({made['bytes'] / 2**20:,.0f} MiB of Parquet)",
                    flush=True,
                )
            for engine in args.engines:
                if engine == "spark" and follows > 10_000_000:
                    print(
                        f"  spark at {follows:,}: not run (local mode on two cores checks agreement; beyond 10M, use a cluster)", flush=True
                    )
                    continue
                if engine == "memory":
                    measured = [row["peak_mib"] * 2**20 / row["follows"] for row in rows if row["engine"] == "memory"]
                    needed = follows * (measured[-1] if measured else 200)
                    if needed > available_bytes() / 2:
                        print(
                            f"  memory at {follows:,}: not run (about {needed / 2**30:.0f} GiB at the bytes per follow measured, "
                            f"more than half of the {available_bytes() / 2**30:.0f} GiB available)",
                            flush=True,
                        )
                        continue
                command = [sys.executable, str(SCRIPT), "--run", str(path), engine, args.memory_limit]
                done = subprocess.run(command, capture_output=True, text=True)
                if done.returncode:
                    print(f"  {engine} at {follows:,}: failed: {done.stderr.strip().splitlines()[-1]}", flush=True)
                    continue
                result = json.loads(done.stdout.strip().splitlines()[-1])
                rows.append({"follows": follows, "engine": engine, **result})
                print(
                    f"  {engine:7s} {follows:>13,} follows: {result['seconds']:7.1f} s, peak {result['peak_mib'] / 1024:5.2f} GiB "
                    f"({result['peak_mib'] * 2**20 / follows:5.0f} B per follow), r = {result['r']:.6f}",
                    flush=True,
                )
        print_agreement(rows, args.follows)
        duck = sorted((row["follows"], row["seconds"]) for row in rows if row["engine"] == "duckdb")
        if len(duck) >= 2:
            (n1, s1), (n2, s2) = duck[-2], duck[-1]
            exponent = np.log(s2 / s1) / np.log(n2 / n1)
            print(
                f"duckdb grows as follows^{exponent:.2f} here: 1B follows extrapolated to {s2 * (1e9 / n2) ** exponent / 60:,.0f} minutes "
                "(on paper: it would also spill about ten times what the largest run spilled)"
            )


if __name__ == "__main__":
    main()
