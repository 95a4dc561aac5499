"""Simulated checks of the two-camps test (:mod:`.camps`): its size under single peaks, its power against planted camps.

Each scenario keeps a real network's follower counts n_i and draws new follow-back counts
k_i ~ Binomial(n_i, p_i), with p_i from a mixing distribution whose truth is known:

- single peaks (the test should reject in about 5% of draws): the beta and the logit-normal
  fitted to the network (the two families the test calibrates against), a flat logit-normal
  (mu 0, sigma 1.4, just inside the family's single-peak limit) with a fifth of the accounts at
  each end, and a normal truncated to [0, 1], a shape outside both families;
- planted camps (the test should reject, and the page say "two camps"): half the accounts near
  5% and half near 90%, and a fifth near 10% with the rest near 80%.

Each replication records whether Hartigan's tabulated dip test rejects at 5% (the naive test),
whether the calibrated test rejects, and whether the page would say "two camps". Used by
``benchmarks/validate_camps.py`` (500 replications per scenario) and by the tests (a few dozen).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from .camps import (
    HIGH_FOLLOW_BACK,
    LOW_FOLLOW_BACK,
    SIGNIFICANCE,
    TWO_CAMPS,
    calibrated_dip_test,
    fit_unimodal_beta_binomial,
    fit_unimodal_logit_normal_binomial,
    verdict,
)

__all__ = ["Scenario", "replicate", "run_validation", "scenarios_for", "summarise"]


@dataclass(frozen=True)
class Scenario:
    """A mixing distribution for the follow-back probabilities: components (weight, family, parameters).

    Families: "beta" (alpha, beta), "logit-normal" (mu, sigma of logit p), "truncated normal"
    (mean, sd of a normal cut to [0, 1]).
    """

    name: str
    single_peaked: bool
    components: tuple[tuple[float, str, tuple[float, float]], ...]

    def probabilities(self, rng: np.random.Generator, accounts: int) -> np.ndarray:
        from scipy.special import expit, ndtr, ndtri

        weights = np.array([weight for weight, _, _ in self.components])
        which = rng.choice(len(weights), size=accounts, p=weights / weights.sum())
        p = np.empty(accounts)
        for index, (_, family, (first, second)) in enumerate(self.components):  # two components at most
            chosen = which == index
            size = int(chosen.sum())
            if family == "beta":
                p[chosen] = rng.beta(first, second, size)
            elif family == "logit-normal":
                p[chosen] = expit(first + second * rng.standard_normal(size))
            elif family == "truncated normal":
                low, high = ndtr(-first / second), ndtr((1 - first) / second)
                p[chosen] = np.clip(first + second * ndtri(low + (high - low) * rng.random(size)), 0, 1)
            else:
                raise ValueError(f"unknown mixing family {family!r}")
        return p


def scenarios_for(successes: np.ndarray, trials: np.ndarray) -> list[Scenario]:
    """The validation scenarios for one network: single peaks fitted to its (k, n), fixed shapes, planted camps."""
    beta = fit_unimodal_beta_binomial(successes, trials)
    logit_normal = fit_unimodal_logit_normal_binomial(successes, trials)
    return [
        Scenario("single peak: beta fitted to the network", True, ((1.0, "beta", beta.parameters),)),
        Scenario("single peak: logit-normal fitted to the network", True, ((1.0, "logit-normal", logit_normal.parameters),)),
        Scenario("single peak: flat logit-normal (0, 1.4)", True, ((1.0, "logit-normal", (0.0, 1.4)),)),
        Scenario("single peak: truncated normal (0.7, 0.3), outside both families", True, ((1.0, "truncated normal", (0.7, 0.3)),)),
        Scenario("camps: 50% near 5%, 50% near 90%", False, ((0.5, "beta", (1.0, 19.0)), (0.5, "beta", (18.0, 2.0)))),
        Scenario("camps: 20% near 10%, 80% near 80%", False, ((0.2, "beta", (2.0, 18.0)), (0.8, "beta", (8.0, 2.0)))),
    ]


def replicate(trials: np.ndarray, scenario: Scenario, seed: int, draws: int) -> dict[str, float | bool]:
    """One simulated network: draw k from the scenario with the given n, run both tests, and the verdict."""
    mixing_seed, binomial_seed, test_seed = np.random.SeedSequence(seed).spawn(3)
    trials = np.asarray(trials, dtype=np.int64)
    probabilities = scenario.probabilities(np.random.default_rng(mixing_seed), len(trials))
    successes = np.random.default_rng(binomial_seed).binomial(trials, probabilities)
    test = calibrated_dip_test(successes, trials, draws=draws, seed=test_seed)
    rates = successes / trials
    row = {
        "accounts": len(trials),
        "accounts_below": int((rates < LOW_FOLLOW_BACK).sum()),
        "accounts_above": int((rates > HIGH_FOLLOW_BACK).sum()),
        "calibrated_p": test.calibrated_p,
    }
    return {
        "naive_rejects": test.naive_p < SIGNIFICANCE,
        "calibrated_rejects": test.calibrated_p <= SIGNIFICANCE,
        "two_camps_said": verdict(row) == TWO_CAMPS,
        "calibrated_p": test.calibrated_p,
    }


def _replicate_many(trials: np.ndarray, scenario: Scenario, seeds: list[int], draws: int) -> list[dict]:
    return [replicate(trials, scenario, seed, draws) for seed in seeds]


def run_validation(
    networks: dict[str, tuple[np.ndarray, np.ndarray]], replications: int, draws: int = 99, first_seed: int = 0, processes: int = 1
) -> pd.DataFrame:
    """One row per replication: network, scenario, and what each test did. Replication r uses seed first_seed + r."""
    jobs = []
    for network, (successes, trials) in networks.items():
        for scenario in scenarios_for(successes, trials):
            seeds = list(range(first_seed, first_seed + replications))
            chunks = [seeds[i :: max(processes, 1)] for i in range(max(processes, 1))]
            jobs += [(network, scenario, trials, chunk) for chunk in chunks if chunk]
    if processes <= 1:
        outcomes = [_replicate_many(trials, scenario, chunk, draws) for _, scenario, trials, chunk in jobs]
    else:
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor

        with ProcessPoolExecutor(max_workers=processes, mp_context=multiprocessing.get_context("spawn")) as pool:
            outcomes = list(
                pool.map(_replicate_many, [j[2] for j in jobs], [j[1] for j in jobs], [j[3] for j in jobs], [draws] * len(jobs))
            )
    rows = [
        {"network": network, "scenario": scenario.name, "single_peaked": scenario.single_peaked, "accounts": len(trials), **outcome}
        for (network, scenario, trials, _), results in zip(jobs, outcomes)
        for outcome in results
    ]
    return pd.DataFrame(rows)


def summarise(replications: pd.DataFrame) -> pd.DataFrame:
    """Per network and scenario: replications, and the share in which each test rejected and "two camps" was said."""
    grouped = replications.groupby(["scenario", "network"], sort=False)
    table = grouped.agg(
        accounts=("accounts", "first"),
        replications=("naive_rejects", "size"),
        naive_dip=("naive_rejects", "mean"),
        calibrated=("calibrated_rejects", "mean"),
        two_camps_said=("two_camps_said", "mean"),
    ).reset_index()
    return table
