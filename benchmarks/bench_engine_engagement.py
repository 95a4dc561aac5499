"""A whole network's engagement (studies 01-02) two or three ways on one generated network: in memory, DuckDB, Spark.

Usage: python benchmarks/bench_engine_engagement.py [--accounts 20000] [--degree 50] [--memory-limit 4GB] [--spark]

The network: the package's generator (heavy-tailed activity and popularity, follow-backs, times,
engagement), ``--accounts`` accounts of mean out-degree ``--degree`` (20,000 x 50: about 1.3M
follows and 4.3M engagement events, a density of one follow in 300 possible), written in the
generic format (CSV, 19-digit ids). Each way runs in its own process, so its peak resident memory
(VmHWM, with its children: Spark's JVM) is its own:

- ``memory``: load and validate the tables, count the engagement by kind, and study 02's engagement
  reciprocity in the last 90 days (what notebooks 01-02 do with the engagement);
- ``duckdb`` (held to ``--memory-limit``, spilling beyond it) and, with ``--spark``, ``spark``
  (local[2]): the engine's engagement summary (what ``measure_network`` counts) and the same
  engagement reciprocity (what notebook 02 asks the engine for).

Printed side by side: seconds, peak MiB, and the share of mutual pairs engaging both ways with the
events counted (the same from every way, or the line says so).
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

from bench_dyad_aggregates import json_from_process
from bench_engines import peak_mib  # this process and its children (Spark's JVM), summed

SCRIPT = Path(__file__).resolve()
WINDOW_DAYS = 90


def run_way(way: str, folder: str, memory_limit: str) -> dict:
    started = time.perf_counter()
    if way == "memory":
        import reciprocity_utils as ru
        from reciprocity_utils import metrics

        dataset = ru.load_dataset(folder)
        events = int(dataset.counts()["interaction_events"])
        result = metrics.engagement_reciprocity(dataset, WINDOW_DAYS)
        both, counted = result.share("mutual", metrics.MUTUAL_PATTERNS[0]), result.events_counted
    else:
        from reciprocity_utils.engines.engagement_sql import engagement_patterns, engagement_summary

        events = engagement_summary(folder, way, memory_limit=memory_limit).events
        patterns = engagement_patterns(folder, WINDOW_DAYS, way, memory_limit=memory_limit)
        mutual = patterns.counts[patterns.counts["mutual"] == 1]
        both, counted = patterns.pairs(1, 1, 1) / int(mutual["pairs"].sum()), patterns.events_counted
    return {
        "way": way,
        "seconds": time.perf_counter() - started,
        "peak_mib": peak_mib(),
        "events": events,
        "both": both,
        "counted": counted,
    }


def in_process(way: str, folder: Path, memory_limit: str) -> dict:
    return json_from_process(SCRIPT, "--way", way, str(folder), memory_limit)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--accounts", type=int, nargs="+", default=[20_000])
    parser.add_argument("--degree", type=float, default=50.0)
    parser.add_argument("--memory-limit", default="4GB")
    parser.add_argument("--spark", action="store_true", help="also Spark in local mode (slow to start; a cluster's engine)")
    parser.add_argument("--way", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.way:
        way, folder, memory_limit = args.way
        print(json.dumps(run_way(way, folder, memory_limit)))
        return
    from reciprocity_utils.synthetic import generate_network, write_generic

    ways = ["memory", "duckdb", *(["spark"] if args.spark else [])]
    print(
        f"{'accounts':>9} {'follows':>11} {'events':>11} {'way':<8} {'seconds':>8} {'peak MiB':>9} {'mutual both ways':>17} {'events in window':>17}"
    )
    for accounts in args.accounts:
        with tempfile.TemporaryDirectory(prefix="bench-engine-engagement-") as scratch:
            folder = Path(scratch) / "network"
            network = generate_network(n_accounts=accounts, mean_out_degree=args.degree, seed=1)
            write_generic(network, folder)
            follows = len(network.follows)
            rows = [in_process(way, folder, args.memory_limit) for way in ways]
            for row in rows:
                print(
                    f"{accounts:>9,} {follows:>11,} {row['events']:>11,} {row['way']:<8} {row['seconds']:>8.1f} {row['peak_mib']:>9,.0f} "
                    f"{row['both']:>17.6f} {row['counted']:>17,}"
                )
            same = all(
                (row["both"], row["counted"], row["events"]) == (rows[0]["both"], rows[0]["counted"], rows[0]["events"]) for row in rows
            )
            print(f"{'':>9} {'':>11} the numbers are {'the same every way' if same else 'NOT the same: a bug'}")


if __name__ == "__main__":
    main()
