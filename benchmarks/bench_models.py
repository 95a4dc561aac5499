"""Study 03's adjusted model on sparse networks shaped like real follow graphs; print the figures.

Usage: python benchmarks/bench_models.py [--accounts 50000 200000] [--pyfixest-python PATH]
                                         [--notebook] [--memory FOLLOWS]

The project's generator at its default density (mean out-degree 10, like real follow graphs,
where most accounts follow few others) with 50,000 and 200,000 accounts. For each size, in the
same run and each in its own process reading the same Parquet frame:

- this package's two-way fixed-effects Poisson fit (``fit_count_regression``) with its default
  demeaning (conjugate gradients on the reduced system) and with plain alternating projections;
- ``pyfixest.fepois`` with its LSMR demeaner on the same frame, when a Python with pyfixest is
  given (``--pyfixest-python``; pyfixest is not a dependency of this project: make one with
  ``python3 -m venv /tmp/pfx && /tmp/pfx/bin/pip install pyfixest``).

Each line gives seconds, peak memory and the rate ratio, so the methods are compared on the same
data. ``--notebook`` also runs all of notebook 03 on each network (papermill, as a report runs it)
and prints its time and its slowest steps (each model and check, as the notebook records them).

``--memory FOLLOWS`` measures ``prepare_study``'s peak memory per follow, in a fresh process: on
the generator's network at 100,000 accounts (1.35M follows, 4.9M events) and on disjoint copies
of it (ids prefixed per copy) adding up to at least FOLLOWS follows. Disjoint copies keep the
density, the events per follow and every account's degree of the generated network; the
generator itself draws targets with a top-k over every account and is too slow for millions of
accounts. The figure is the process's peak resident memory during ``prepare_study`` above its
resident memory once the dataset is loaded.
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

import numpy as np
import pandas as pd

SCRIPT = Path(__file__).resolve()
PYFIXEST_FIT = """
import json, sys, time
import numpy as np, pandas as pd
import pyfixest as pf
frame = pd.read_parquet(sys.argv[1])
controls = [c for c in frame.columns if c not in ("y", "offset", "a", "b", "mutual")]
formula = "y ~ " + " + ".join(["mutual", *controls]) + " | a + b"
started = time.perf_counter()
fit = pf.fepois(formula, data=frame, offset="offset", demeaner=pf.LsmrDemeaner(), vcov={"CRV1": "a"})
seconds = time.perf_counter() - started
peak = [float(l.split()[1]) / 1024 for l in open("/proc/self/status") if l.startswith("VmHWM:")][0]
print(json.dumps({"seconds": seconds, "coefficient": float(fit.coef()["mutual"]), "peak_mib": peak}))
"""


def peak_mib() -> float:
    """This process's peak resident memory (VmHWM: unlike ru_maxrss, not inherited from the parent that forked it)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return float(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def write_frame(n_accounts: int, folder: Path, seed: int = 1, keep_dataset: bool = False) -> tuple[Path, dict]:
    from reciprocity_utils import inference
    from reciprocity_utils.inference.models import _design
    from reciprocity_utils.synthetic import generate_network, network_dataset

    started = time.perf_counter()
    network = generate_network(n_accounts=n_accounts, seed=seed)
    dataset = network_dataset(network)
    generated = time.perf_counter() - started
    if keep_dataset:
        dataset.save(folder / f"dataset_{n_accounts}")
    started = time.perf_counter()
    study = inference.prepare_study(dataset)
    prepared = time.perf_counter() - started
    spec = next(s for s in inference.standard_specs(study.frame) if s.fixed_effects and not s.controls)
    y, X, names, offset, used, _, _ = _design(study.frame, spec)
    data = study.frame.data
    a = data["a"].to_numpy()[used] if used is not None else data["a"].to_numpy()
    b = data["b"].to_numpy()[used] if used is not None else data["b"].to_numpy()
    table = pd.DataFrame({"y": y, "offset": offset, "a": a, "b": b})
    for j, name in enumerate(names):
        table[name] = X[:, j]
    path = folder / f"frame_{n_accounts}.parquet"
    table.to_parquet(path)
    facts = {
        "accounts": n_accounts,
        "follows": len(dataset.follows),
        "events": int(dataset.interactions["count"].sum()),
        "observations": len(table),
        "generate_s": generated,
        "prepare_study_s": prepared,
        "spec": spec.label,
        "planted": network.truth["planted"]["mutual_rate_ratio"],
    }
    return path, facts


def fit_here(path: Path, solver: str) -> dict:
    from reciprocity_utils.inference import estimators

    estimators.TWO_WAY_SOLVER = solver
    table = pd.read_parquet(path)
    names = [c for c in table.columns if c not in ("y", "offset", "a", "b")]
    started = time.perf_counter()
    fit = estimators.fit_count_regression(
        table["y"].to_numpy(), table[names].to_numpy(), table["offset"].to_numpy(), [table["a"].to_numpy(), table["b"].to_numpy()]
    )
    return {
        "seconds": time.perf_counter() - started,
        "coefficient": float(fit.params[names.index("mutual")]),
        "iterations": fit.iterations,
        "peak_mib": peak_mib(),
    }


def replicate_dataset(source: Path, copies: int, target: Path) -> None:
    """Write ``copies`` disjoint copies of the saved dataset at ``source`` (ids prefixed "c<k>-") as one dataset."""
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    target.mkdir(parents=True, exist_ok=True)
    id_columns = {"follower_id", "followee_id", "actor_id", "target_id", "account_id", "handle"}
    for path in sorted(source.glob("*.parquet")):
        table = pq.read_table(path)
        with pq.ParquetWriter(target / path.name, table.schema) as writer:
            for copy in range(copies):
                columns = []
                for name in table.column_names:
                    column = table[name]
                    if name in id_columns:
                        column = pc.binary_join_element_wise(pa.scalar(f"c{copy}-"), column.cast(pa.string()), "")
                        column = column.cast(table.schema.field(name).type)
                    columns.append(column)
                writer.write_table(pa.table(columns, schema=table.schema))
    meta = json.loads((source / "dataset.json").read_text())
    meta["provenance"]["parameters"]["copies"] = copies
    (target / "dataset.json").write_text(json.dumps(meta))


def prepare_here(folder: Path) -> dict:
    """Load a saved dataset, run prepare_study, report peak memory above the loaded state (this process only)."""
    import gc

    from reciprocity_utils import inference
    from reciprocity_utils.model import StudyDataset

    dataset = StudyDataset.load(folder)
    gc.collect()
    loaded = current_mib()
    Path("/proc/self/clear_refs").write_text("5")  # restart VmHWM from here
    started = time.perf_counter()
    study = inference.prepare_study(dataset)
    seconds = time.perf_counter() - started
    peak = peak_mib()
    follows = len(dataset.follows)
    return {
        "follows": follows,
        "events": int(len(dataset.interactions)),
        "observations": len(study.frame) if study.frame is not None else 0,
        "loaded_mib": loaded,
        "seconds": seconds,
        "peak_above_loaded_mib": peak - loaded,
        "bytes_per_follow": (peak - loaded) * 2**20 / follows,
    }


def current_mib() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return float(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS in /proc/self/status")


def measure_memory(follows_wanted: int, folder: Path, accounts: int = 100_000) -> None:
    from reciprocity_utils.synthetic import generate_network, network_dataset

    base = folder / f"network_{accounts}"
    started = time.perf_counter()
    dataset = network_dataset(generate_network(n_accounts=accounts, seed=1))
    dataset.save(base)
    per_copy = len(dataset.follows)
    del dataset
    print(
        f"\nprepare_study memory: generator at {accounts:,} accounts (default density), generated in {time.perf_counter() - started:.0f} s"
    )
    rows = []
    copies_wanted = max(1, -(-follows_wanted // per_copy))
    for copies in sorted({1, copies_wanted}):
        folder_k = base if copies == 1 else folder / f"copies_{copies}"
        if copies > 1:
            replicate_dataset(base, copies, folder_k)
        result = in_process(sys.executable, [str(SCRIPT), "--prepare", str(folder_k)])
        rows.append({"copies": copies, **result})
    table = pd.DataFrame(rows)
    table["peak above loaded (GiB)"] = table.pop("peak_above_loaded_mib") / 1024
    table["loaded dataset (GiB)"] = table.pop("loaded_mib") / 1024
    print(table.to_string(index=False, float_format=lambda v: f"{v:,.2f}" if v < 100 else f"{v:,.0f}"))


def time_notebook(dataset_folder: Path, output: Path) -> dict:
    """All of notebook 03 on a saved dataset, as a report runs it: total seconds and the slow cells."""
    import papermill

    from reciprocity_utils.paths import NOTEBOOKS_DIR

    output.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    executed = papermill.execute_notebook(
        str(NOTEBOOKS_DIR / "03-followback-engagement.ipynb"),
        str(output / "03.ipynb"),
        parameters={"input_path": str(dataset_folder), "input_format": "dataset", "output_dir": str(output)},
        kernel_name="python3",
        progress_bar=False,
        cwd=str(output),
    )
    seconds = time.perf_counter() - started
    # The notebook times its own steps (each model, each check): summed by step, slowest first.
    steps = json.loads((output / "03-followback-engagement.steps.json").read_text())
    totals: dict[str, list[float]] = {}
    for step in steps:
        totals.setdefault(step["step"], []).append(step["seconds"])
    slow = sorted(((sum(times), len(times), name) for name, times in totals.items()), reverse=True)
    return {"seconds": seconds, "cells": len(executed.cells), "slow": [entry for entry in slow if entry[0] >= 1]}


def in_process(python: str, arguments: list[str]) -> dict:
    output = subprocess.run([python, *arguments], check=True, capture_output=True, text=True).stdout
    return json.loads(output.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--accounts", type=int, nargs="*", default=[50_000, 200_000])
    parser.add_argument("--pyfixest-python", default=None, help="a Python interpreter with pyfixest installed")
    parser.add_argument("--skip-projections", action="store_true", help="skip the (slow) alternating projections")
    parser.add_argument("--notebook", action="store_true", help="also run all of notebook 03 on each network")
    parser.add_argument("--memory", type=int, metavar="FOLLOWS", help="measure prepare_study's peak memory up to this many follows")
    parser.add_argument("--fit", nargs=2, help=argparse.SUPPRESS)
    parser.add_argument("--prepare", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.fit:
        print(json.dumps(fit_here(Path(args.fit[0]), args.fit[1])))
        return
    if args.prepare:
        print(json.dumps(prepare_here(Path(args.prepare))))
        return
    with tempfile.TemporaryDirectory() as folder:
        if args.memory:
            measure_memory(args.memory, Path(folder))
        for n in args.accounts:
            path, facts = write_frame(n, Path(folder), keep_dataset=args.notebook)
            print(
                f"\n{facts['accounts']:,} accounts, {facts['follows']:,} follows (mean out-degree "
                f"{facts['follows'] / facts['accounts']:.1f}), {facts['events']:,} events, {facts['observations']:,} model "
                f"observations; generated in {facts['generate_s']:.1f} s, prepare_study {facts['prepare_study_s']:.1f} s; "
                f"model: {facts['spec']}; planted ratio {facts['planted']:g}"
            )
            rows = []
            solvers = ["conjugate gradients"] + ([] if args.skip_projections else ["alternating projections"])
            for solver in solvers:
                result = in_process(sys.executable, [str(SCRIPT), "--fit", str(path), solver])
                rows.append({"method": f"this package, {solver}", **result})
            if args.pyfixest_python:
                script = Path(folder) / "pyfixest_fit.py"
                script.write_text(PYFIXEST_FIT)
                rows.append({"method": "pyfixest fepois (LSMR demeaner)", **in_process(args.pyfixest_python, [str(script), str(path)])})
            table = pd.DataFrame(rows)
            table["rate ratio"] = np.exp(table.pop("coefficient"))
            print(table.to_string(index=False, float_format=lambda v: f"{v:,.6f}" if v < 100 else f"{v:,.1f}"))
            if args.notebook:
                timed = time_notebook(Path(folder) / f"dataset_{n}", Path(folder) / f"notebook_{n}")
                print(
                    f"all of notebook 03: {timed['seconds']:.0f} s; its steps taking a second or more in all (steps nest: the models a check fits count in both):"
                )
                for seconds, count, name in timed["slow"]:
                    print(f"  {seconds:6.1f} s  {name}" + (f" ({count} times)" if count > 1 else ""))


if __name__ == "__main__":
    main()
