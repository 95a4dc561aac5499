"""What r random networks with the same degrees would have: degree-preserving rewiring and its formula.

Two references for "how reciprocal would this network be by chance, given who follows many and
who is followed by many": the configuration model's expected r, a formula of the degree
sequences computed at any size, and an ensemble of networks rewired from the observed one,
keeping every account's numbers exactly (the reference a reviewer expects, with a p-value).
Rewiring costs time in proportion to the follows: beyond a limit it runs on a stated random
subgraph.
"""

from __future__ import annotations

import dataclasses
import math
import os
import random
from dataclasses import dataclass
from typing import Any

import numpy as np

from .account_codes import count_returned_arcs

# Rewiring 100 networks of 100,000 follows takes about 30 s here (README, "Performance"): beyond
# this many follows the ensemble rewires a random subgraph of about this size (about 90 s).
MAX_REWIRED_FOLLOWS = 300_000


def expected_r_from_sums(m: float, s1: float, s2: float) -> float:
    """:func:`configuration_model_r` from ``m``, ``S1`` and ``S2`` (what the SQL engines sum)."""
    return (s1 * s1 - s2) / m**3 if m > 0 else float("nan")


def configuration_model_r(out_degree: np.ndarray, in_degree: np.ndarray, with_largest_probability: bool = False):
    """The expected r of random networks with these degrees (configuration model, analytic).

    With ``m`` follows and each possible follow i -> j present with probability
    ``k_out(i) k_in(j) / m`` (Chung and Lu's expected-degree model, directed), the expected
    number of returned follows is ``sum_{i != j} p_ij p_ji = (S1^2 - S2) / m^2`` with
    ``S1 = sum_i k_out(i) k_in(i)`` and ``S2 = sum_i (k_out(i) k_in(i))^2``, so the expected r is
    ``(S1^2 - S2) / m^3``. It needs only the degree sequences, so it is computed at any size. Where
    the account following the most and the account followed by the most would get a probability
    above 1 (``max k_out * max k_in > m``), the formula is only an approximation: with
    ``with_largest_probability`` the largest such probability is returned too, for the page to
    say so. NaN without follows.
    """
    k_out = np.asarray(out_degree, dtype=np.float64)
    k_in = np.asarray(in_degree, dtype=np.float64)
    m = k_out.sum()
    if m <= 0:
        return (float("nan"), float("nan")) if with_largest_probability else float("nan")
    product = k_out * k_in
    value = expected_r_from_sums(float(m), float(product.sum()), float((product**2).sum()))
    if with_largest_probability:
        return value, float(k_out.max() * k_in.max() / m)
    return value


@dataclass(frozen=True)
class RewiredSubgraph:
    """The random subgraph the randomized networks rewired, when the whole network was too large."""

    share_of_accounts: float
    accounts: int
    follows: int
    whole_follows: int
    limit: int
    whole_r: float = float("nan")

    def words(self) -> str:
        return (
            f"The network's {self.whole_follows:,} follows are more than the {self.limit:,} the study rewires (a parameter: "
            f"rewiring takes time in proportion to the follows), so the randomized "
            f"networks rewire the follows among a random {self.share_of_accounts:.0%} of the accounts ({self.accounts:,} "
            f"accounts, {self.follows:,} follows among them, drawn with the seed); the observed r they are compared with is "
            f"that subgraph's own, {{observed}} (the whole network's: {self.whole_r:.4f})."
        )


def _arc_reciprocity(follower: np.ndarray, followee: np.ndarray, n_accounts: int) -> float:
    return count_returned_arcs(follower, followee, max(n_accounts, 1)) / len(follower) if len(follower) else float("nan")


def _random_subgraph(
    follower: np.ndarray, followee: np.ndarray, n_accounts: int, max_follows: int, seed: int
) -> tuple[np.ndarray, np.ndarray, int, RewiredSubgraph]:
    """The follows among a seeded random share of the accounts (about ``max_follows`` of them), recoded 0..k-1."""
    share = math.sqrt(max_follows / len(follower))
    chosen = np.random.default_rng(seed).random(n_accounts) < share
    keep = chosen[follower] & chosen[followee]
    code = np.cumsum(chosen) - 1
    sub_follower, sub_followee = code[follower[keep]], code[followee[keep]]
    facts = RewiredSubgraph(share, int(chosen.sum()), int(keep.sum()), len(follower), max_follows)
    return sub_follower, sub_followee, int(chosen.sum()), facts


@dataclass(frozen=True)
class NullModel:
    """Observed r against r in degree-preserving randomized networks.

    ``p_value`` is one-sided (randomized networks at least as reciprocal as the observed one)
    with the +1 correction, (1 + #{r_null >= r}) / (1 + n), so it is never 0.
    """

    observed: float
    null_values: np.ndarray
    seed: int
    swaps_per_follow: float
    notes: tuple[str, ...] = ()
    # The configuration model's expected r from the whole network's degrees (a formula, no rewiring),
    # and the largest probability it gives a single follow (above 1 it overstates; see configuration_model_r).
    analytic: float = float("nan")
    analytic_largest_probability: float = float("nan")
    # Set when the randomized networks rewire a random subgraph (``observed`` is then the subgraph's r).
    subgraph: "RewiredSubgraph | None" = None

    @property
    def n_networks(self) -> int:
        return len(self.null_values)

    @property
    def mean(self) -> float:
        return float(self.null_values.mean()) if self.n_networks else float("nan")

    @property
    def sd(self) -> float:
        return float(self.null_values.std(ddof=1)) if self.n_networks >= 2 else float("nan")

    @property
    def z_score(self) -> float:
        sd = self.sd
        return float((self.observed - self.mean) / sd) if np.isfinite(sd) and sd > 0 else float("nan")

    @property
    def p_value(self) -> float:
        if not self.n_networks or not np.isfinite(self.observed):
            return float("nan")
        return float((1 + np.count_nonzero(self.null_values >= self.observed)) / (1 + self.n_networks))

    def as_dict(self) -> dict[str, Any]:
        return {
            "observed_r": self.observed,
            "randomized_networks": self.n_networks,
            "swaps_per_follow": self.swaps_per_follow,
            "seed": self.seed,
            "null_mean_r": self.mean,
            "null_sd_r": self.sd,
            "z_score": self.z_score,
            "p_value": self.p_value,
            "configuration_model_r": self.analytic,
            "configuration_model_largest_probability": self.analytic_largest_probability,
            "rewired_subgraph": None if self.subgraph is None else dataclasses.asdict(self.subgraph),
        }


def _rewired_reciprocity(edges: np.ndarray, n_accounts: int, trials: int, seeds: list[int]) -> np.ndarray:
    """r of one rewired copy of the graph per seed (module level, so worker processes can run it)."""
    import igraph

    graph = igraph.Graph(n=n_accounts, edges=edges, directed=True)
    values = np.empty(len(seeds))
    try:
        for index, network_seed in enumerate(seeds):  # one iteration per randomized network; rewiring runs in C
            igraph.set_random_number_generator(random.Random(network_seed))
            randomized = graph.copy()
            randomized.rewire(n=trials, allowed_edge_types="simple")
            values[index] = randomized.reciprocity(ignore_loops=True, mode="default")
    finally:
        igraph.set_random_number_generator(random)
    return values


def degree_preserving_null(
    follower: np.ndarray,
    followee: np.ndarray,
    n_accounts: int,
    n_networks: int = 100,
    seed: int = 0,
    swaps_per_follow: float = 10,
    workers: int = 1,
    max_rewired_follows: int | None = MAX_REWIRED_FOLLOWS,
) -> NullModel:
    """r in ``n_networks`` randomized copies keeping every account's in- and out-degree.

    Beyond ``max_rewired_follows`` follows (``None``: no limit), rewiring every follow of every
    copy would take hours: the copies then rewire the subgraph among a random share of the
    accounts (drawn with ``seed``; the share is the square root of the limit over the follows, so
    the subgraph keeps about the limit), and ``observed`` is that subgraph's own r, so the two
    are compared like with like; :class:`RewiredSubgraph` records the sample. The configuration
    model's formula (:func:`configuration_model_r`) is computed on the whole network either way.

    Each copy starts from the observed graph and gets ``swaps_per_follow * L`` rewiring trials of
    igraph's ``Graph.rewire`` (swap a->b, c->d into a->d, c->b; trials that would create a loop
    or a repeated follow are rejected). Why this generator: it keeps each account's in- AND
    out-degree exactly and the graph simple. networkx's ``directed_configuration_model`` followed
    by removing loops and multi-edges changes the degrees (most where hubs meet, exactly where
    reciprocity concentrates); igraph's ``configuration_simple`` samples simple graphs uniformly
    by rejection but practically never finishes on heavy-tailed degrees; networkx's edge swaps
    run in Python. Known limit: directed switches alone cannot reverse a directed 3-cycle (Rao,
    Jana & Bandyopadhyay 1996), which biases the sample slightly on small dense graphs.

    Reproducible: igraph draws random numbers from a Python generator, so each network gets its
    own ``random.Random`` seeded from ``seed`` (numpy ``SeedSequence``), and igraph's default
    generator is restored afterwards. The numbers therefore depend on ``seed`` only, not on
    ``workers`` (processes sharing the ensemble) nor on other igraph calls in between, and the
    first k networks of a larger ensemble are those of a k-network ensemble.
    """
    if isinstance(n_networks, bool) or not isinstance(n_networks, (int, np.integer)) or n_networks < 0:
        raise ValueError(f"n_networks must be a whole number of at least 0, got {n_networks!r}")
    if not (np.isfinite(swaps_per_follow) and swaps_per_follow > 0):
        raise ValueError(f"swaps_per_follow must be a positive number, got {swaps_per_follow!r}")
    if isinstance(workers, bool) or not isinstance(workers, (int, np.integer)) or workers < 1:
        raise ValueError(f"workers must be a whole number of at least 1, got {workers!r}")
    if max_rewired_follows is not None and (isinstance(max_rewired_follows, bool) or int(max_rewired_follows) < 2):
        raise ValueError(f"max_rewired_follows must be a whole number of at least 2 (or None), got {max_rewired_follows!r}")
    follower, followee = np.asarray(follower), np.asarray(followee)
    whole_r = _arc_reciprocity(follower, followee, n_accounts)
    analytic, largest = configuration_model_r(
        np.bincount(follower, minlength=n_accounts), np.bincount(followee, minlength=n_accounts), with_largest_probability=True
    )
    formula = {"analytic": analytic, "analytic_largest_probability": largest}
    subgraph = None
    if max_rewired_follows is not None and len(follower) > max_rewired_follows:
        follower, followee, n_accounts, subgraph = _random_subgraph(follower, followee, n_accounts, int(max_rewired_follows), seed)
        subgraph = dataclasses.replace(subgraph, whole_r=whole_r)
    observed = whole_r if subgraph is None else _arc_reciprocity(follower, followee, n_accounts)
    n_follows = len(follower)
    if n_follows < 2:
        note = "A randomized network needs at least two follows to swap; no null model."
        return NullModel(observed, np.empty(0), seed, swaps_per_follow, (note,), **formula, subgraph=subgraph)
    edges = np.column_stack([follower, followee]).astype(np.int64)
    trials = max(1, int(round(swaps_per_follow * n_follows)))
    seeds = [int(s) for s in np.random.SeedSequence(seed).generate_state(n_networks, dtype=np.uint64)]
    notes: tuple[str, ...] = ()
    cores = available_cores()
    if workers > cores:
        # More processes than cores only adds start-up cost and memory; the numbers are the same.
        notes = (
            f"Asked for {workers} worker processes; this machine offers {cores} "
            f"core{'s' if cores != 1 else ''}, so {cores} {'were' if cores != 1 else 'was'} used "
            "(the results do not depend on the number of workers).",
        )
        workers = cores
    if workers == 1 or n_networks < 2:
        values = _rewired_reciprocity(edges, n_accounts, trials, seeds)
    else:
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor

        chunks = [list(chunk) for chunk in np.array_split(np.array(seeds, dtype=np.uint64), min(workers, n_networks))]
        # "spawn": a fresh interpreter per worker, safe whatever threads the notebook kernel runs.
        with ProcessPoolExecutor(max_workers=len(chunks), mp_context=multiprocessing.get_context("spawn")) as pool:
            parts = pool.map(
                _rewired_reciprocity,
                [edges] * len(chunks),
                [n_accounts] * len(chunks),
                [trials] * len(chunks),
                [[int(s) for s in chunk] for chunk in chunks],
            )
            values = np.concatenate(list(parts))
    return NullModel(observed, values, seed, swaps_per_follow, notes, **formula, subgraph=subgraph)


def available_cores() -> int:
    """Cores this process may run on (its CPU affinity where the system reports it)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not offered on macOS or Windows
        return max(1, os.cpu_count() or 1)
