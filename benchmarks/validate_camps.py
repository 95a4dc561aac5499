"""Validate study 02's two-camps test on simulated follow-back counts: size under single peaks, power against camps.

Usage: python benchmarks/validate_camps.py [--quick] [--replications N] [--draws B] [--processes P] [--data FOLDER]

Each scenario keeps the follower counts of a real network (UCD football, rugby and olympics from
``../shared/data/networks/ucd-twitter-multiview``, accounts with at least 5 followers, as the study
uses them) and draws new follow-back counts (``reciprocity_utils.camps_validation``):

- single peaks, where a 5% test should reject in about 5% of replications: the beta and the
  logit-normal fitted to the network (the two families the test calibrates against), a flat
  logit-normal (mu 0, sigma 1.4), and a truncated normal (0.7, 0.3), outside both families;
- planted camps, where the test should reject and the page say "two camps": 50% of accounts near
  5% and 50% near 90%; 20% near 10% and 80% near 80%.

For each it prints how often Hartigan's dip test with its tabulated p-value rejects at 5% (the
naive test, not valid for k/n rates), how often the calibrated test rejects (p <= 0.05, the
larger of the p-values against the fitted beta and logit-normal), and how often the page would
say "two camps" (calibrated rejection and each end holding at least 10% and 10 accounts).
Replications use B = 99 simulated networks per null (a Monte Carlo test rejecting at p <= 0.05
has size 5% for any B with 0.05 (B + 1) whole; the study uses 9,999 for a precise p-value).
With 500 replications the Monte Carlo standard error of a 5% rate is 1.0 point.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

from reciprocity_utils import io, metrics
from reciprocity_utils.camps import eligible_counts
from reciprocity_utils.camps_validation import run_validation, summarise
from reciprocity_utils.paths import PROJECT_ROOT

NETWORKS = ("football", "rugby", "olympics")
DEFAULT_DATA = PROJECT_ROOT.parent / "shared" / "data" / "networks" / "ucd-twitter-multiview"
TARGET_SIZE = (0.03, 0.07)


def load_counts(folder: Path, min_followers: int = 5) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """(k, n) of each network's accounts with at least ``min_followers`` followers."""
    counts = {}
    for name in NETWORKS:
        dataset, _ = io.load_paths([folder / name])
        counts[name] = eligible_counts(metrics.account_behaviour(dataset), min_followers)
    return counts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="40 replications per scenario instead of 500")
    parser.add_argument("--replications", type=int, default=None, help="replications per scenario (default 500)")
    parser.add_argument("--draws", type=int, default=99, help="simulated networks per null in each replication (default 99)")
    parser.add_argument("--processes", type=int, default=2, help="worker processes (default 2)")
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="folder holding football/, rugby/ and olympics/")
    args = parser.parse_args()
    if not args.data.exists():
        sys.exit(f"real networks not found at {args.data}; pass --data")
    replications = args.replications or (40 if args.quick else 500)
    started = time.perf_counter()
    table = summarise(run_validation(load_counts(args.data), replications, draws=args.draws, first_seed=20_000, processes=args.processes))
    elapsed = time.perf_counter() - started

    def check(row) -> str:
        if "single peak" in row["scenario"]:
            low, high = TARGET_SIZE
            return "too often" if row["calibrated"] > high else "conservative" if row["calibrated"] < low else "ok"
        return "ok" if row["two_camps_said"] >= 0.8 else "low power"

    table["check"] = table.apply(check, axis=1)
    shown = table.rename(
        columns={"naive_dip": "naive dip rejects", "calibrated": "calibrated rejects", "two_camps_said": '"two camps" said'}
    )
    for column in ("naive dip rejects", "calibrated rejects", '"two camps" said'):
        shown[column] = shown[column].map(lambda v: f"{v:.1%}")
    print(
        f"Two-camps test: {replications} replications per scenario, {args.draws} simulated networks per null, "
        f"{args.processes} processes; target size {TARGET_SIZE[0]:.0%}-{TARGET_SIZE[1]:.0%} under single peaks.\n"
    )
    print(shown.to_string(index=False))
    print(f"\nElapsed {elapsed:.0f} s.")


if __name__ == "__main__":
    main()
