"""The studies' report on a generated graph, loaded in memory or measured by DuckDB: seconds, peak memory, r.

Usage: python benchmarks/bench_report_engines.py [--follows 10000000 100000000] [--engines memory duckdb]
                                                 [--memory-limit 4GB] [--keep DIR] [--all-studies]

The graphs are bench_engines.py's (one account per 10 follows, heavy-tailed popularity, a quarter
of the follows returned, 19-digit text ids, as a folder holding follows.parquet). Each run is `reciprocity run` in its own
process (studies 01-02; with --all-studies also 03-04, which use the random subgraph when the
network is measured); its process tree (the runner and each notebook's kernel) is sampled twice a
second, and the peak of their summed resident memory is printed beside the seconds, the r study 02
published and the seconds of each study. The memory engine is skipped where the loaded dataset
would not fit (about 1 KB per follow at its peak, measured).
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

SCRIPT = Path(__file__).resolve()
sys.path.insert(0, str(SCRIPT.parent))

from bench_engines import available_bytes, print_agreement, write_graph  # noqa: E402

STUDIES = ["01-load-and-validate.ipynb", "02-reciprocity.ipynb"]
ALL_STUDIES = [*STUDIES, "03-followback-engagement.ipynb", "04-follow-strategies.ipynb"]
MEMORY_BYTES_PER_FOLLOW = 1_000


def _tree(pid: int) -> list[int]:
    found = [pid]
    try:
        for task in Path(f"/proc/{pid}/task").iterdir():
            for child in (task / "children").read_text().split():
                found += _tree(int(child))
    except OSError:
        pass
    return found


def _rss_bytes(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def run_report_here(path: str, engine: str, memory_limit: str, out: str, all_studies: bool) -> None:
    from reciprocity_utils.report import run_report

    params = {"inputs": [path], "study": Path(out).name, "engine": engine, "engine_memory_limit": memory_limit}
    run_report(params, out, notebooks=ALL_STUDIES if all_studies else STUDIES, progress=False, timeout=7200)


def measure(path: Path, engine: str, memory_limit: str, out: Path, all_studies: bool) -> dict:
    command = [sys.executable, str(SCRIPT), "--run", str(path), engine, memory_limit, str(out)] + (["--all-studies"] if all_studies else [])
    started = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    peak = 0
    while process.poll() is None:
        peak = max(peak, sum(_rss_bytes(pid) for pid in _tree(process.pid)))
        time.sleep(0.5)
    seconds = time.perf_counter() - started
    if process.returncode:
        lines = process.stderr.read().strip().splitlines()
        return {"failed": lines[-1] if lines else f"exit status {process.returncode}"}
    results = json.loads((out / "02-reciprocity.results.json").read_text())
    run = json.loads((out / "run.json").read_text())
    return {
        "seconds": seconds,
        "peak_bytes": peak,
        "r": results["headline"]["arc_reciprocity"],
        "follows": json.loads((out / "01-load-and-validate.results.json").read_text())["headline"]["follows"],
        "studies": run["notebook_seconds"],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--follows", type=int, nargs="+", default=[10_000_000, 100_000_000])
    parser.add_argument("--engines", nargs="+", default=["memory", "duckdb"])
    parser.add_argument("--memory-limit", default="4GB")
    parser.add_argument("--keep", default=None, help="keep the generated Parquet files in this folder (reused when present)")
    parser.add_argument("--all-studies", action="store_true", help="also studies 03-04 (on the random subgraph when measured)")
    parser.add_argument("--run", nargs=4, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.run:
        run_report_here(*args.run, all_studies=args.all_studies)
        return
    os.environ.setdefault("NUMPY_MADVISE_HUGEPAGE", "0")  # as make report runs the kernels
    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(args.keep or scratch)
        folder.mkdir(parents=True, exist_ok=True)
        rows = []
        for follows in args.follows:
            # A folder with follows.parquet: the generic format the in-memory loader reads, and a Parquet dataset for DuckDB.
            path = folder / f"graph_{follows}"
            if not (path / "follows.parquet").exists():
                path.mkdir(parents=True, exist_ok=True)
                made = write_graph(follows, path / "follows.parquet")
                print(f"generated {made['follows']:,} follows among {made['accounts']:,} accounts in {made['seconds']:.0f} s", flush=True)
            for engine in args.engines:
                if engine == "memory" and follows * MEMORY_BYTES_PER_FOLLOW > available_bytes() / 2:
                    print(
                        f"  memory at {follows:,}: not run (about {follows * MEMORY_BYTES_PER_FOLLOW / 2**30:.0f} GiB loaded, "
                        f"more than half of the {available_bytes() / 2**30:.0f} GiB available)",
                        flush=True,
                    )
                    continue
                result = measure(path, engine, args.memory_limit, Path(scratch) / f"report-{engine}-{follows}", args.all_studies)
                if "failed" in result:
                    print(f"  {engine} at {follows:,}: failed: {result['failed']}", flush=True)
                    continue
                rows.append({"size": follows, "engine": engine, **result})
                studies = ", ".join(f"{name[:2]} {seconds:,.0f} s" for name, seconds in result["studies"].items())
                print(
                    f"  {engine:7s} {result['follows']:>13,} follows: {result['seconds']:7.1f} s, peak {result['peak_bytes'] / 2**30:5.2f} GiB "
                    f"(runner and kernels summed; {result['peak_bytes'] / result['follows']:5.0f} B per follow), r = {result['r']:.6f} "
                    f"[{studies}]",
                    flush=True,
                )
        print_agreement(rows, args.follows, size_key="size")


if __name__ == "__main__":
    main()
