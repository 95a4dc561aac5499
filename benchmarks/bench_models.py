"""Study 03's adjusted model on sparse networks shaped like real follow graphs; print the figures.

Usage: python benchmarks/bench_models.py [--accounts 50000 200000] [--pyfixest-python PATH] [--notebook]

The project's generator at its default density (mean out-degree 10, like real follow graphs,
where most accounts follow few others) with 50,000 and 200,000 accounts. For each size, in the
same run and each in its own process reading the same Parquet frame:

- this package's two-way fixed-effects Poisson fit (``fit_count_regression``) with its default
  demeaning (conjugate gradients on the reduced system) and with plain alternating projections;
- ``pyfixest.fepois`` with its LSMR demeaner on the same frame, when a Python with pyfixest is
  given (``--pyfixest-python``; pyfixest is not a dependency of this project: make one with
  ``python3 -m venv /tmp/pfx && /tmp/pfx/bin/pip install pyfixest``).

Each line gives seconds, peak memory and the rate ratio, so the methods are compared on the same
data. ``--notebook`` also times all of study 03's models as the notebook runs them.
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


def write_frame(n_accounts: int, folder: Path, seed: int = 1) -> tuple[Path, dict]:
    from reciprocity_utils import inference
    from reciprocity_utils.inference.models import _design
    from reciprocity_utils.synthetic import generate_network, network_dataset

    started = time.perf_counter()
    network = generate_network(n_accounts=n_accounts, seed=seed)
    dataset = network_dataset(network)
    generated = time.perf_counter() - started
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


def in_process(python: str, arguments: list[str]) -> dict:
    output = subprocess.run([python, *arguments], check=True, capture_output=True, text=True).stdout
    return json.loads(output.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--accounts", type=int, nargs="+", default=[50_000, 200_000])
    parser.add_argument("--pyfixest-python", default=None, help="a Python interpreter with pyfixest installed")
    parser.add_argument("--skip-projections", action="store_true", help="skip the (slow) alternating projections")
    parser.add_argument("--fit", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.fit:
        print(json.dumps(fit_here(Path(args.fit[0]), args.fit[1])))
        return
    with tempfile.TemporaryDirectory() as folder:
        for n in args.accounts:
            path, facts = write_frame(n, Path(folder))
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


if __name__ == "__main__":
    main()
