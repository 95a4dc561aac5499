"""The daily simulator: many replications at once, common random numbers across policies, outcomes with intervals, and the stated utility."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from .policies import Policy, StrategyError, _check_number, _check_whole
from .scenarios import Scenario

OUTCOMES = {
    "followers": "accounts following the owner at the end of the day (reach)",
    "followees": "accounts the owner follows",
    "timeline_volume": "posts per day the owner's followees publish (expected)",
    "posts_read": "posts the owner reads per day (expected; at most the attention budget)",
    "signal_share": "share of what is read that comes from accounts with engagement in both directions in the last window (0 when nothing is read)",
    "two_way_relationships": "accounts with engagement in both directions within the relationship window",
    "engagement_received": "accounts that engaged with the owner that day (engagement-days)",
    "engagement_given": "accounts the owner engaged with that day (engagement-days)",
    "spam_read": "posts from spam accounts the owner reads per day (expected)",
}
HORIZON_OUTCOMES = {
    "followers": "followers on the last day",
    "followers_share": "followers on the last day divided by all accounts that followed during the horizon",
    "followees": "followees on the last day",
    "two_way_relationships": "two-way relationships on the last day",
    "engagement_received": "engagement-days received over the whole horizon",
    "timeline_volume": "posts per day in the timeline, mean over the final window",
    "posts_read": "posts read per day, mean over the final window",
    "signal_share": "posts read from two-way accounts / posts read, over the final window",
    "signal_read": "posts read per day from two-way accounts, mean over the final window",
    "noise_read": "posts read per day from everyone else (posts_read - signal_read), mean over the final window",
    "spam_read": "spam posts read per day, mean over the final window",
    "spam_share": "spam posts read / posts read, over the final window",
    "utility": "reach_weight * followers + signal_weight * signal_read - noise_weight * noise_read",
}


# ---------------------------------------------------------------------------------------------
# The simulated world


@dataclass
class _World:
    """Candidates' traits, shape (replications, candidates); shared by every policy for one seed."""

    arrival: np.ndarray
    affinity: np.ndarray
    post_rate: np.ndarray
    is_spam: np.ndarray
    features: dict[str, np.ndarray]
    tiebreak: np.ndarray


def _draw_world(scenario: Scenario, replications: int, rng: np.random.Generator) -> _World:
    shape = (replications, scenario.n_candidates)
    horizon = scenario.horizon_days
    arrival = np.zeros(shape, dtype=np.int16)
    if scenario.n_new_followers:
        # New followers arrive on days 1 .. horizon-1, uniformly: a homogeneous arrival stream.
        arrival[:, scenario.n_initial_followers :] = rng.integers(1, horizon, size=(replications, scenario.n_new_followers), dtype=np.int16)
    is_spam = rng.random(shape) < scenario.spam_share
    affinity = np.exp(scenario.affinity_sigma * rng.standard_normal(shape))
    affinity = np.where(is_spam, scenario.spam_affinity, affinity).astype(np.float32)
    post_rate = scenario.post_rate_median * np.exp(scenario.post_rate_sigma * rng.standard_normal(shape))
    post_rate = np.where(is_spam, post_rate * scenario.spam_post_multiplier, post_rate).astype(np.float32)
    # Homophily: accounts the owner values share more of its contacts; spam shares almost none.
    mutual_connections = rng.poisson(np.where(is_spam, 0.1, scenario.mutual_connections_mean * affinity)).astype(np.float32)
    # Spam follows many and is followed by few: a low follower/following ratio.
    follower_ratio = np.exp(np.where(is_spam, math.log(0.05), 0.0) + 0.8 * rng.standard_normal(shape)).astype(np.float32)
    # A detector that separates spam well but not perfectly (AUC about 0.9).
    spam_likeness = 1.0 / (1.0 + np.exp(-(2.5 * (2.0 * is_spam - 1.0) + rng.standard_normal(shape))))
    features = {
        "mutual_connections": mutual_connections,
        "follower_ratio": follower_ratio,
        "activity": post_rate,
        "not_spam": (1.0 - spam_likeness).astype(np.float32),
    }
    # Breaks ties among equal scores at random (e.g. many accounts with zero engagement).
    tiebreak = (rng.random(shape) * 1e-3).astype(np.float32)
    return _World(arrival, affinity, post_rate, is_spam, features, tiebreak)


# ---------------------------------------------------------------------------------------------
# Simulation


@dataclass
class SimulationResult:
    """Daily outcomes of one policy in one scenario: ``daily[measure]`` has shape (replications, days)."""

    policy: Policy
    scenario: Scenario
    seed: int
    daily: dict[str, np.ndarray]
    horizon: dict[str, np.ndarray]

    @property
    def replications(self) -> int:
        return int(next(iter(self.horizon.values())).shape[0])

    def summary(self) -> pd.DataFrame:
        """Horizon outcomes: mean with a 95% interval of the mean and the 2.5-97.5% spread over replications."""
        rows = []
        for measure, values in self.horizon.items():
            rows.append(
                {
                    "policy": self.policy.name,
                    "scenario": self.scenario.name,
                    "measure": measure,
                    **interval(values, *measure_bounds(measure)),
                }
            )
        return pd.DataFrame(rows)

    def trajectory(self, measure: str) -> pd.DataFrame:
        """One row per day: mean and 95% interval of the mean over replications."""
        if measure not in self.daily:
            raise StrategyError(f"measure must be one of {', '.join(self.daily)}, not {measure!r}")
        values = self.daily[measure].astype(np.float64)
        mean, low, high = _mean_interval(values, axis=0)
        floor, ceiling = measure_bounds(measure)
        low, high = np.clip(low, floor, ceiling), np.clip(high, floor, ceiling)
        return pd.DataFrame(
            {
                "day": np.arange(values.shape[1]),
                "mean": mean,
                "ci_low": low,
                "ci_high": high,
                "policy": self.policy.name,
                "measure": measure,
            }
        )


def measure_bounds(measure: str) -> tuple[float, float]:
    """The range a measure can take: shares lie in [0, 1], counts and rates are not negative, utility is unbounded."""
    if measure.endswith("_share"):
        return 0.0, 1.0
    if measure == "utility":
        return -math.inf, math.inf
    return 0.0, math.inf


def interval(values: np.ndarray, low: float = -math.inf, high: float = math.inf, level: float = 0.95) -> dict[str, float]:
    """Mean, Student-t interval of the mean, and the central ``level`` spread of ``values``.

    The interval is clipped to the measure's possible range [``low``, ``high``]: for a count that
    is almost always zero the t interval would otherwise reach below zero.
    """
    values = np.asarray(values, dtype=np.float64)
    if values.size == 0:
        return {"mean": np.nan, "ci_low": np.nan, "ci_high": np.nan, "spread_low": np.nan, "spread_high": np.nan, "replications": 0}
    mean, ci_low, ci_high = _mean_interval(values[:, None], axis=0, level=level)
    tail = (1.0 - level) / 2.0
    spread = np.quantile(values, [tail, 1.0 - tail])
    ci_low, ci_high = np.clip(ci_low, low, high), np.clip(ci_high, low, high)
    return {
        "mean": float(mean[0]),
        "ci_low": float(ci_low[0]),
        "ci_high": float(ci_high[0]),
        "spread_low": float(spread[0]),
        "spread_high": float(spread[1]),
        "replications": int(len(values)),
    }


def _mean_interval(values: np.ndarray, axis: int = 0, level: float = 0.95) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    n = values.shape[axis]
    mean = values.mean(axis=axis)
    if n < 2:
        # One replication says nothing about the spread: no interval rather than a fake one.
        nan = np.full_like(mean, np.nan)
        return mean, nan, nan
    half = stats.t.ppf(0.5 + level / 2.0, n - 1) * values.std(axis=axis, ddof=1) / math.sqrt(n)
    return mean, mean - half, mean + half


def simulate(policy: Policy, scenario: Scenario, replications: int = 20, seed: int = 0) -> SimulationResult:
    """Play ``policy`` forward for ``scenario.horizon_days`` days in ``replications`` replications."""
    _check_whole("replications", replications, 1)
    _check_whole("seed", seed, 0)
    if not isinstance(policy, Policy):
        raise StrategyError(f"policy must be a Policy, not {policy!r}")
    if not isinstance(scenario, Scenario):
        raise StrategyError(f"scenario must be a Scenario, not {scenario!r}")
    daily, horizon = _run(policy, scenario, replications, seed, np.array([scenario.attention_budget]), np.array([scenario.churn_hazard]))
    return SimulationResult(policy, scenario, seed, {k: v[0] for k, v in daily.items()}, {k: v[0] for k, v in horizon.items()})


def compare_policies(policies: list[Policy], scenario: Scenario, replications: int = 20, seed: int = 0) -> dict[str, SimulationResult]:
    """Every policy on the same worlds and draws (common random numbers), keyed by policy name."""
    names = [p.name for p in policies]
    if len(set(names)) != len(names):
        raise StrategyError(f"policy names must be distinct: {names}")
    return {p.name: simulate(p, scenario, replications, seed) for p in policies}


def summary_table(results: dict[str, SimulationResult], measures: tuple[str, ...] | None = None) -> pd.DataFrame:
    """Horizon outcomes of several policies, one row per policy and measure."""
    frame = pd.concat([r.summary() for r in results.values()], ignore_index=True)
    if measures is not None:
        frame = frame[frame["measure"].isin(measures)]
    return frame.reset_index(drop=True)


def paired_difference(results: dict[str, SimulationResult], measure: str, first: str, second: str) -> dict[str, float]:
    """Mean and 95% interval of ``first - second`` for one horizon measure, paired by replication."""
    difference = results[first].horizon[measure] - results[second].horizon[measure]
    return interval(difference)


def _top_k(score: np.ndarray, eligible: np.ndarray, k: int) -> np.ndarray:
    """Per row, the ``k`` eligible entries with the highest score (all eligible ones when fewer)."""
    n = score.shape[-1]
    if k <= 0:
        return np.zeros_like(eligible)
    if k >= n:
        return eligible.copy()
    keyed = np.where(eligible, score, -np.inf)
    kth = np.partition(keyed, n - k, axis=-1)[..., n - k : n - k + 1]
    return eligible & (keyed >= kth)


def _run(policy: Policy, scenario: Scenario, replications: int, seed: int, budgets: np.ndarray, hazards: np.ndarray):
    """The daily loop for ``len(budgets)`` scenario cells at once; arrays are (cells, replications, candidates).

    Every cell shares the same world and the same daily draws (common random numbers across cells
    and across policies); the draws are made in a fixed order whatever the policy does.
    """
    cells = len(budgets)
    # A third stream for the multipliers leaves the first two (and so every fixed-multiplier run) unchanged.
    world_seed, draws_seed, ratio_seed = np.random.SeedSequence(seed).spawn(3)
    world = _draw_world(scenario, replications, np.random.default_rng(world_seed))
    rng = np.random.default_rng(draws_seed)
    horizon = scenario.horizon_days
    shape = (cells, replications, scenario.n_candidates)
    budget = np.asarray(budgets, dtype=np.float64).reshape(cells, 1)
    if policy.reading_list is not None:
        budget = np.maximum(budget - scenario.list_cost, 0.0)  # keeping the list takes attention from reading
    hazard = np.asarray(hazards, dtype=np.float32).reshape(cells, 1, 1)
    ratio = scenario.rate_ratios(replications, np.random.default_rng(ratio_seed)).reshape(1, replications, 1)
    boost = np.float32(scenario.reciprocation_boost)
    window = scenario.relationship_window_days
    # "Never" lies further back than any window or inactivity limit yet keeps day - never within int16.
    never = np.int16(-10_001)

    followed = np.zeros(shape, dtype=bool)
    dropped = np.zeros(shape, dtype=bool)  # unfollowed by the owner: never followed back again by the rule
    left = np.zeros(shape, dtype=bool)  # stopped following the owner
    in_list = np.zeros(shape, dtype=bool)
    received_count = np.zeros(shape, dtype=np.float32)
    last_received = np.full(shape, never, dtype=np.int16)
    last_given = np.full(shape, never, dtype=np.int16)
    last_contact = np.full(shape, never, dtype=np.int16)  # engagement either way, or the day the follow began

    names = (
        "followers",
        "followees",
        "timeline_volume",
        "posts_read",
        "signal_read",
        "spam_read",
        "two_way_relationships",
        "engagement_received",
        "engagement_given",
    )
    daily = {name: np.zeros((cells, replications, horizon), dtype=np.float32) for name in names}
    follower_pull = scenario.follower_engagement_rate * world.affinity  # (R, N)
    owner_pull = np.float32(scenario.owner_engagement_per_read) * world.affinity * world.post_rate
    spam = world.is_spam
    post_rate = world.post_rate

    def score_of(name: str) -> np.ndarray:
        return received_count if name == "engagement_received" else world.features[name]

    def ranking_of(name: str) -> np.ndarray:
        # Random tie-breaks so that equal scores (many zeros) do not favour low candidate numbers.
        return score_of(name) + world.tiebreak

    for day in range(horizon):
        present = (world.arrival <= day) & ~left

        # 1. Decisions: reset, follow-backs, pruning, the reading list.
        rule = policy.follow_back
        if policy.reset is not None and day >= policy.reset.day:
            rule = policy.reset.then
            if day == policy.reset.day:
                keep = _top_k(ranking_of(policy.reset.score), present, policy.reset.keep)
                dropped |= followed & ~keep
                followed = keep
                last_contact = np.where(keep, np.maximum(last_contact, np.int16(day)), last_contact)
                # Everyone present and not kept was deliberately left out: the rule does not take them back.
                dropped |= present & ~keep
        if rule.rule != "no_one":
            undecided = present & ~followed & ~dropped
            if rule.rule == "score":
                undecided &= score_of(rule.score) >= np.float32(rule.threshold)
            followed |= undecided
            np.copyto(last_contact, np.int16(day), where=undecided)
        if policy.prune is not None and day > 0 and day % policy.prune.every_days == 0:
            stale = followed & (day - last_contact > policy.prune.inactive_days)
            followed &= ~stale
            dropped |= stale
        if policy.reading_list is not None:
            if day % policy.reading_list.every_days == 0:
                in_list = _top_k(ranking_of(policy.reading_list.score), followed, policy.reading_list.size)
            else:
                in_list &= followed  # unfollowed accounts leave the list at once
            readable = in_list
        else:
            readable = followed

        # 2. Timeline and reading: each readable post is read with the same probability rho.
        readable_posts = post_rate * readable
        readable_volume = readable_posts.sum(axis=-1, dtype=np.float64)
        timeline_volume = readable_volume if readable is followed else (post_rate * followed).sum(axis=-1, dtype=np.float64)
        with np.errstate(divide="ignore", invalid="ignore"):
            rho = np.where(readable_volume > 0, np.minimum(1.0, budget / readable_volume), 0.0)
        rho32 = rho.astype(np.float32)[..., None]

        # 3. Engagement. Draws are made for every cell of the world so that all policies share them.
        u_received = rng.random(shape[1:], dtype=np.float32)
        u_given = rng.random(shape[1:], dtype=np.float32)
        u_leave = rng.random(shape[1:], dtype=np.float32)
        mutual = followed & present
        multiplier = np.where(mutual, ratio, np.float32(1.0))
        returned = day - last_given < window  # the owner engaged it lately: it tends to engage back
        p_received = -np.expm1(-(follower_pull * multiplier * (1.0 + boost * returned)))
        received = present & (u_received < p_received)
        p_from_reading = -np.expm1(-(owner_pull * multiplier * rho32 * readable))
        p_given = 1.0 - (1.0 - p_from_reading) * (1.0 - np.float32(scenario.owner_reply_probability) * received)
        given = u_given < p_given

        received_count += received
        today = np.int16(day)
        np.copyto(last_received, today, where=received)
        np.copyto(last_given, today, where=given)
        np.copyto(last_contact, today, where=received | given)
        two_way = (day - last_received < window) & (day - last_given < window)

        # 4. Followers the owner does not follow back leave at the churn hazard.
        leave_hazard = np.where(followed, np.float32(scenario.mutual_churn_hazard), hazard)
        left |= present & (u_leave < leave_hazard)

        read_posts = readable_posts * rho32
        daily["followers"][..., day] = ((world.arrival <= day) & ~left).sum(axis=-1)
        daily["followees"][..., day] = followed.sum(axis=-1)
        daily["timeline_volume"][..., day] = timeline_volume
        daily["posts_read"][..., day] = rho * readable_volume
        daily["signal_read"][..., day] = (read_posts * two_way).sum(axis=-1, dtype=np.float64)
        daily["spam_read"][..., day] = (read_posts * spam).sum(axis=-1, dtype=np.float64)
        daily["two_way_relationships"][..., day] = two_way.sum(axis=-1)
        daily["engagement_received"][..., day] = received.sum(axis=-1)
        daily["engagement_given"][..., day] = given.sum(axis=-1)

    with np.errstate(divide="ignore", invalid="ignore"):
        read = daily["posts_read"]
        daily["signal_share"] = np.where(read > 0, daily["signal_read"] / read, 0.0).astype(np.float32)
    horizon_outcomes = _horizon_outcomes(daily, scenario)
    return daily, horizon_outcomes


def _horizon_outcomes(daily: dict[str, np.ndarray], scenario: Scenario) -> dict[str, np.ndarray]:
    final = slice(max(0, scenario.horizon_days - scenario.relationship_window_days), None)
    read = daily["posts_read"][..., final].sum(axis=-1, dtype=np.float64)
    signal = daily["signal_read"][..., final].sum(axis=-1, dtype=np.float64)
    spam = daily["spam_read"][..., final].sum(axis=-1, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        signal_share = np.where(read > 0, signal / read, 0.0)
        spam_share = np.where(read > 0, spam / read, 0.0)
    followers = daily["followers"][..., -1].astype(np.float64)
    signal_read = daily["signal_read"][..., final].mean(axis=-1, dtype=np.float64)
    outcomes = {
        "followers": followers,
        "followers_share": followers / scenario.n_candidates,
        "followees": daily["followees"][..., -1].astype(np.float64),
        "two_way_relationships": daily["two_way_relationships"][..., -1].astype(np.float64),
        "engagement_received": daily["engagement_received"].sum(axis=-1, dtype=np.float64),
        "timeline_volume": daily["timeline_volume"][..., final].mean(axis=-1, dtype=np.float64),
        "posts_read": daily["posts_read"][..., final].mean(axis=-1, dtype=np.float64),
        "signal_share": signal_share,
        "signal_read": signal_read,
        "noise_read": daily["posts_read"][..., final].mean(axis=-1, dtype=np.float64) - signal_read,
        "spam_read": daily["spam_read"][..., final].mean(axis=-1, dtype=np.float64),
        "spam_share": spam_share,
    }
    outcomes["utility"] = utility(outcomes, **scenario.weights())
    return outcomes


def utility(outcomes: dict[str, np.ndarray] | pd.DataFrame, reach_weight: float, signal_weight: float, noise_weight: float):
    """What "wins" means: ``reach_weight * followers + signal_weight * signal_read - noise_weight * noise_read``.

    Followers at the horizon; posts read per day from two-way accounts (signal) and from everyone
    else (noise) over the final window. Amounts rather than shares, so that attention matters: a
    bigger budget lets the owner read more of both. With ``noise_weight`` 0 noise costs nothing.
    """
    for name, value in (("reach_weight", reach_weight), ("signal_weight", signal_weight), ("noise_weight", noise_weight)):
        _check_number(name, value, low=0.0)
    return reach_weight * outcomes["followers"] + signal_weight * outcomes["signal_read"] - noise_weight * outcomes["noise_read"]
