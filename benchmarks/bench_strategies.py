"""Benchmark of the strategy simulator: 10,000 followers x 365 days x 100 replications of one policy.

Goal (issue 6): under 30 seconds on 2 cores. Prints seconds and peak memory per policy; the
simulator is single-threaded numpy, so the figure is what one core does.

    python benchmarks/bench_strategies.py            # the full benchmark, two policies
    python benchmarks/bench_strategies.py --quick    # 1,000 followers x 100 days x 10 replications
"""

from __future__ import annotations

import argparse
import resource
import time
import tracemalloc

from reciprocity_utils import strategies as st


def measure(policy: st.Policy, scenario: st.Scenario, replications: int, seed: int) -> dict[str, float]:
    tracemalloc.start()
    started = time.perf_counter()
    result = st.simulate(policy, scenario, replications=replications, seed=seed)
    seconds = time.perf_counter() - started
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return {"seconds": seconds, "peak_mib": peak / 2**20, "followers": float(result.horizon["followers"].mean())}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a small run to check the script works")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    followers, days, replications = (1_000, 100, 10) if args.quick else (10_000, 365, 100)
    # Most followers arrive during the year, so the owner's timeline keeps growing: the heavy case.
    scenario = st.preset("person", n_initial_followers=followers // 5, n_new_followers=followers - followers // 5, horizon_days=days)
    policies = [st.follow_everyone(), st.read_only_list(st.follow_everyone(), size=100, name="follow everyone, read list")]
    print(
        f"strategy simulator: {followers:,} followers x {days} days x {replications} replications "
        f"({followers * replications:,} account-replications per day)"
    )
    print(f"{'policy':<32}{'seconds':>10}{'peak MiB (tracemalloc)':>26}{'mean followers':>17}")
    for policy in policies:
        row = measure(policy, scenario, replications, args.seed)
        print(f"{policy.name:<32}{row['seconds']:>10.1f}{row['peak_mib']:>26.0f}{row['followers']:>17,.0f}")
    print(f"process peak resident memory: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:,.0f} MiB")
    print("goal: under 30 s per policy on 2 cores")


if __name__ == "__main__":
    main()
