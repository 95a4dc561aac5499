"""Follow-back strategies: composable policies, a calibrated daily simulator, and their replay on real follows.

The essay's practical question is whether an account should follow back everyone who follows it.
This module makes the question testable. A *policy* says whom the owner follows back, whom it
unfollows and what it reads; the *simulator* plays a policy forward in daily steps for many
replications at once and reports reach, attention and engagement with intervals; the *replay*
applies the same policies to the followers in a real export and checks whom they would follow
against whom the owner actually engaged with.

Policies (small frozen dataclasses, combined in :class:`Policy`)
----------------------------------------------------------------

- :class:`FollowBack`: ``"everyone"``, ``"no_one"`` or ``"score"`` (follow back a current follower
  once its score reaches ``threshold``; re-evaluated every day, so evidence that accrues, such as
  engagement received, can trigger a follow-back later);
- :class:`Prune`: every ``every_days`` days unfollow the followees with no engagement in either
  direction in the last ``inactive_days`` days (a new followee gets that long before it can be pruned);
- :class:`Reset`: on ``day``, unfollow everyone, re-follow the ``keep`` current followers with the
  highest score, then follow back by the rule ``then``;
- :class:`ReadingList`: follow as the follow-back rule says but read only the ``size`` followees
  with the highest score (the list is refreshed every ``every_days`` days).

Accounts the owner has unfollowed (pruned or reset) are never followed back again by the rule.
Scores (:data:`SCORES`) are oriented so that higher means more worth following.

The simulated world (one owner; all parameters in :class:`Scenario`)
---------------------------------------------------------------------

Candidates are the accounts that follow the owner during the horizon: ``n_initial_followers`` on
day 0 and ``n_new_followers`` arriving on days drawn uniformly over the rest of the horizon. Each
candidate has, drawn once per replication:

- an *affinity* with the owner (lognormal, median 1): how much the owner values its posts and how
  much it engages with the owner;
- a posting rate (lognormal posts per day); a share ``spam_share`` are spam accounts that post
  ``spam_post_multiplier`` times as much and carry almost no affinity (``spam_affinity``);
- observable features the scores read: mutual connections (Poisson, mean rising with affinity),
  the follower/following ratio (lognormal; low for spam), activity (the posting rate) and a noisy
  spam-likeness indicator.

Every day, in this order:

1. candidates whose day has come follow the owner; the policy makes its follow-back, pruning,
   reset and reading-list decisions;
2. the timeline is what the followees post; the owner reads at most ``attention_budget`` posts,
   each post of the readable timeline (the reading list, or all followees) being read with the same
   probability ``rho = min(1, budget / expected volume)``: a sample proportional to what each
   account posts. Posts read and spam read are recorded as their expectations given the day's
   state (Rao-Blackwellised: no sampling noise, same mean);
3. each follower engages with the owner that day with probability
   ``1 - exp(-follower_engagement_rate * affinity * M * (1 + reciprocation_boost * R))``, where ``R``
   is 1 when the owner engaged with it within the relationship window (engagement is returned),
   and the owner engages with a candidate
   with probability ``1 - exp(-posts_read_from_it * owner_engagement_per_read * affinity * M)``,
   or replies to one that engaged it that day with ``owner_reply_probability``. ``M`` is the
   mutual rate ratio while both follow each other, 1 otherwise: calibrated from study 03's adjusted
   incidence-rate ratio when it is recorded (:func:`calibrated_rate_ratio`). Events are counted
   as engagement-days (at most one per pair, direction and day);
4. a follower the owner does not follow leaves with probability ``churn_hazard`` per day
   (followers followed back with ``mutual_churn_hazard``, 0 by default).

A *two-way relationship* is a candidate with engagement in both directions within the last
``relationship_window_days`` days; the *signal share* is the share of what is read that comes from
such accounts. Daily draws are the same for every policy given a seed (common random numbers), so
policies are compared on the same worlds and the same luck, and their differences are paired.

Defaults and their sources: the churn hazard converts Kwak, Chun and Moon (2011, CHI, "Fragile
online relationship"), who followed 1.2 million Korean-speaking Twitter users in daily snapshots
over 51 days and found one-way relationships broken with probability 0.1228, into a daily hazard
``1 - (1 - 0.1228) ** (1 / 51) = 0.00257`` (reading the 0.1228 as the share over the 51 observed
days; reciprocal ties broke less often). The spam share 0.12 lies in the 9-15% of active Twitter
accounts Varol et al. (2017, ICWSM) estimated to be bots. Reading lists and the re-follow step keep
100 accounts, the lower end of the 100-200 stable relationships Gonçalves, Perra and Vespignani
(2011, PLoS ONE) found Twitter users maintain. Attention budgets and engagement rates are
assumptions; the sensitivity map varies the budget and the churn hazard.

Replay (:func:`replay_policies`)
--------------------------------

The same policies applied to the owner's actual followers in an export: scores are computed from
the data before a cutoff time, the value of an account is whether the owner engaged with it after
the cutoff, and each policy's chosen set is scored by precision and recall against that value.
"""

from __future__ import annotations

import dataclasses
import math
import numbers
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd
from scipy import stats

from .model import StudyDataset
from .snapshot_states import owner_states

__all__ = [
    "DEFAULT_THRESHOLDS",
    "HORIZON_OUTCOMES",
    "OUTCOMES",
    "PRESETS",
    "SCORES",
    "FollowBack",
    "Policy",
    "Prune",
    "ReadingList",
    "ReplayResult",
    "Reset",
    "Scenario",
    "SensitivityResult",
    "SimulationResult",
    "StrategyError",
    "calibrated_rate_ratio",
    "check_study_parameters",
    "choose_churn_hazard",
    "choose_replay_owner",
    "churn_from_follow_events",
    "churn_from_snapshots",
    "compare_policies",
    "conclusion",
    "default_grid",
    "follow_everyone",
    "follow_no_one",
    "great_unfollow",
    "interval",
    "interval_table",
    "map_sentence",
    "literature_churn_hazard",
    "measure_bounds",
    "paired_difference",
    "policy_table",
    "preset",
    "read_only_list",
    "replay_account_table",
    "replay_candidates",
    "replay_policies",
    "replay_policy",
    "replay_precision_recall",
    "replay_sentence",
    "scenario_table",
    "score_policies",
    "selective",
    "sensitivity",
    "simulate",
    "snapshot_time",
    "standard_policies",
    "summary_table",
    "utility",
    "weights_sentence",
    "winner",
    "with_pruning",
]

# Kwak, Chun and Moon (2011): share of one-way follow relationships broken over 51 observed days.
KWAK_ONE_WAY_BROKEN_SHARE = 0.1228
KWAK_OBSERVED_DAYS = 51


def literature_churn_hazard() -> float:
    """Daily hazard that a follower not followed back leaves, from Kwak, Chun and Moon (2011).

    ``1 - (1 - 0.1228) ** (1 / 51)``: the 0.1228 share of one-way relationships they saw broken
    over 51 days of daily snapshots, spread evenly over those days.
    """
    return 1.0 - (1.0 - KWAK_ONE_WAY_BROKEN_SHARE) ** (1.0 / KWAK_OBSERVED_DAYS)


SCORES = {
    "engagement_received": "engagement-days the owner has received from the account so far (in the replay: before the cutoff)",
    "mutual_connections": "accounts the owner follows that also follow the account ('followed by people you follow')",
    "follower_ratio": "the account's followers divided by the accounts it follows",
    "activity": "how much the account posts (simulator: posts per day; replay: engagement events it sent before the cutoff)",
    "not_spam": "1 minus a spam-likeness indicator in [0, 1] (replay: 0 when the account follows ten times as many accounts as follow it)",
    "engagement_given": "replay only: engagement events from the owner to the account before the cutoff (all an ego export records)",
}
SIMULATED_SCORES = ("engagement_received", "mutual_connections", "follower_ratio", "activity", "not_spam")
FOLLOW_BACK_RULES = ("everyone", "no_one", "score")

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


class StrategyError(ValueError):
    """A policy, scenario or replay input the simulator cannot use; the message says what was expected."""


# ---------------------------------------------------------------------------------------------
# Policies


def _check_score(score: str | None, where: str, allowed: tuple[str, ...] = tuple(SCORES)) -> None:
    if score not in allowed:
        raise StrategyError(f"{where}: score must be one of {', '.join(allowed)}, not {score!r}")


def _check_whole(name: str, value: Any, low: int) -> None:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < low:
        raise StrategyError(f"{name} must be a whole number of at least {low}, not {value!r}")


def _check_number(name: str, value: Any, low: float | None = None, high: float | None = None, allow_inf: bool = False) -> None:
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or math.isnan(value) or (math.isinf(value) and not allow_inf):
        raise StrategyError(f"{name} must be a {'number' if allow_inf else 'finite number'}, not {value!r}")
    if low is not None and value < low:
        raise StrategyError(f"{name} must be at least {low}, not {value!r}")
    if high is not None and value > high:
        raise StrategyError(f"{name} must be at most {high}, not {value!r}")


@dataclass(frozen=True)
class FollowBack:
    """Whom among its current followers the owner follows back: everyone, no one, or by score."""

    rule: Literal["everyone", "no_one", "score"] = "everyone"
    score: str | None = None
    threshold: float = 0.0

    def __post_init__(self) -> None:
        if self.rule not in FOLLOW_BACK_RULES:
            raise StrategyError(f"follow-back rule must be one of {', '.join(FOLLOW_BACK_RULES)}, not {self.rule!r}")
        if self.rule == "score":
            _check_score(self.score, "follow-back by score")
            _check_number("follow-back threshold", self.threshold)
        elif self.score is not None:
            raise StrategyError(f"follow-back rule {self.rule!r} takes no score (got {self.score!r})")

    def describe(self) -> str:
        if self.rule == "score":
            return f"follow back once {self.score.replace('_', ' ')} >= {self.threshold:g}"
        return {"everyone": "follow back everyone", "no_one": "follow back no one"}[self.rule]


@dataclass(frozen=True)
class Prune:
    """Every ``every_days`` days, unfollow followees with no engagement either way in ``inactive_days`` days."""

    inactive_days: int = 60
    every_days: int = 7

    def __post_init__(self) -> None:
        _check_whole("prune inactive_days", self.inactive_days, 1)
        _check_whole("prune every_days", self.every_days, 1)


@dataclass(frozen=True)
class Reset:
    """On ``day`` unfollow everyone, re-follow the ``keep`` followers with the highest score, then follow back by ``then``."""

    day: int = 90
    keep: int = 100
    score: str = "engagement_received"
    then: FollowBack = FollowBack("score", "engagement_received", 2.0)

    def __post_init__(self) -> None:
        _check_whole("reset day", self.day, 0)
        _check_whole("reset keep", self.keep, 0)
        _check_score(self.score, "reset")
        if not isinstance(self.then, FollowBack):
            raise StrategyError(f"reset 'then' must be a FollowBack rule, not {self.then!r}")


@dataclass(frozen=True)
class ReadingList:
    """Read only the ``size`` followees with the highest score; the list is refreshed every ``every_days`` days."""

    score: str = "engagement_received"
    size: int = 100
    every_days: int = 7

    def __post_init__(self) -> None:
        _check_score(self.score, "reading list")
        _check_whole("reading list size", self.size, 0)
        _check_whole("reading list every_days", self.every_days, 1)


@dataclass(frozen=True)
class Policy:
    """A follow-back rule, optionally with pruning, a one-time reset and a reading list."""

    name: str
    follow_back: FollowBack = FollowBack()
    prune: Prune | None = None
    reset: Reset | None = None
    reading_list: ReadingList | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name.strip():
            raise StrategyError("a policy needs a non-empty name")
        for attribute, kind in (("follow_back", FollowBack), ("prune", Prune), ("reset", Reset), ("reading_list", ReadingList)):
            value = getattr(self, attribute)
            if value is not None and not isinstance(value, kind):
                raise StrategyError(f"policy {self.name!r}: {attribute} must be a {kind.__name__}, not {value!r}")

    def describe(self) -> str:
        """One plain sentence saying what the policy does."""
        parts = []
        if self.reset is not None:
            parts.append(
                f"{self.follow_back.describe()} until day {self.reset.day}, then unfollow everyone, re-follow the "
                f"{self.reset.keep} followers with the most {self.reset.score.replace('_', ' ')}, and {self.reset.then.describe()}"
            )
        else:
            parts.append(self.follow_back.describe())
        if self.prune is not None:
            parts.append(f"every {self.prune.every_days} days unfollow followees with no engagement either way in {self.prune.inactive_days} days")
        if self.reading_list is not None:
            parts.append(
                f"read only a list of the {self.reading_list.size} followees with the most "
                f"{self.reading_list.score.replace('_', ' ')} (refreshed every {self.reading_list.every_days} days)"
            )
        text = "; ".join(parts)
        return text[0].upper() + text[1:] + "."

    def scores_used(self) -> set[str]:
        used = {self.follow_back.score} if self.follow_back.score else set()
        if self.reset is not None:
            used |= {self.reset.score} | ({self.reset.then.score} if self.reset.then.score else set())
        if self.reading_list is not None:
            used.add(self.reading_list.score)
        return used


def follow_everyone(name: str = "follow everyone") -> Policy:
    return Policy(name, FollowBack("everyone"))


def follow_no_one(name: str = "follow no one") -> Policy:
    return Policy(name, FollowBack("no_one"))


def selective(score: str = "engagement_received", threshold: float = 2.0, name: str | None = None) -> Policy:
    """Follow back a follower once its score reaches ``threshold``."""
    return Policy(name or f"selective ({score.replace('_', ' ')} >= {threshold:g})", FollowBack("score", score, threshold))


def with_pruning(policy: Policy, inactive_days: int = 60, every_days: int = 7, name: str | None = None) -> Policy:
    """The same policy, plus periodic pruning of followees without engagement."""
    return dataclasses.replace(policy, name=name or f"{policy.name} + prune {inactive_days}d", prune=Prune(inactive_days, every_days))


def great_unfollow(day: int = 90, keep: int = 100, score: str = "engagement_received", then: FollowBack | None = None, name: str | None = None) -> Policy:
    """Follow back everyone until ``day``, then unfollow everyone and re-follow the ``keep`` best by ``score``."""
    then = then if then is not None else FollowBack("score", "engagement_received", 2.0)
    return Policy(name or f"unfollow all on day {day}, keep {keep}", FollowBack("everyone"), reset=Reset(day, keep, score, then))


def read_only_list(policy: Policy | None = None, score: str = "engagement_received", size: int = 100, every_days: int = 7, name: str | None = None) -> Policy:
    """Follow as ``policy`` does (everyone by default) but read only a list of the best ``size`` followees."""
    policy = policy if policy is not None else follow_everyone()
    return dataclasses.replace(policy, name=name or f"{policy.name}, read list of {size}", reading_list=ReadingList(score, size, every_days))


def standard_policies(horizon_days: int = 365) -> list[Policy]:
    """The six policies the study compares; the reset happens after a quarter of the horizon."""
    return [
        follow_everyone(),
        follow_no_one(),
        selective("engagement_received", 2.0, name="selective (engaged twice)"),
        with_pruning(follow_everyone(), 60, 7, name="follow everyone + prune 60d"),
        great_unfollow(day=max(1, horizon_days // 4), keep=100, name="unfollow all, keep 100"),
        read_only_list(follow_everyone(), "engagement_received", 100, name="follow everyone, read list"),
    ]


# ---------------------------------------------------------------------------------------------
# Scenarios


@dataclass(frozen=True)
class Scenario:
    """The simulated owner and audience; see the module docstring for the model and the sources of defaults."""

    name: str = "person"
    horizon_days: int = 365
    n_initial_followers: int = 300
    n_new_followers: int = 300
    attention_budget: float = 60.0
    churn_hazard: float = field(default_factory=literature_churn_hazard)
    mutual_churn_hazard: float = 0.0
    mutual_rate_ratio: float = 2.0
    spam_share: float = 0.12
    spam_post_multiplier: float = 3.0
    spam_affinity: float = 0.02
    post_rate_median: float = 2.0
    post_rate_sigma: float = 1.0
    affinity_sigma: float = 1.0
    owner_engagement_per_read: float = 0.02
    follower_engagement_rate: float = 0.01
    owner_reply_probability: float = 0.3
    reciprocation_boost: float = 1.0
    mutual_connections_mean: float = 2.0
    relationship_window_days: int = 30
    # What "wins" means (see utility): one follower is worth reach_weight, one post a day read from a
    # two-way account signal_weight, and one post a day of anything else costs noise_weight.
    reach_weight: float = 0.05
    signal_weight: float = 1.0
    noise_weight: float = 0.25

    def __post_init__(self) -> None:
        _check_whole("horizon_days", self.horizon_days, 2)
        if self.horizon_days > 10_000:
            raise StrategyError(f"horizon_days must be at most 10000 (days are stored as 16-bit numbers), not {self.horizon_days}")
        _check_whole("n_initial_followers", self.n_initial_followers, 0)
        _check_whole("n_new_followers", self.n_new_followers, 0)
        if self.n_initial_followers + self.n_new_followers < 1:
            raise StrategyError("a scenario needs at least one follower (n_initial_followers + n_new_followers >= 1)")
        _check_number("attention_budget", self.attention_budget, low=0.0, allow_inf=True)
        for name in ("churn_hazard", "mutual_churn_hazard", "spam_share", "owner_reply_probability"):
            _check_number(name, getattr(self, name), low=0.0, high=1.0)
        _check_number("mutual_rate_ratio", self.mutual_rate_ratio, low=0.0)
        if self.mutual_rate_ratio == 0:
            raise StrategyError("mutual_rate_ratio must be greater than 0")
        for name in ("spam_post_multiplier", "spam_affinity", "post_rate_median", "post_rate_sigma", "affinity_sigma",
                     "owner_engagement_per_read", "follower_engagement_rate", "reciprocation_boost", "mutual_connections_mean",
                     "reach_weight", "signal_weight", "noise_weight"):
            _check_number(name, getattr(self, name), low=0.0)
        _check_whole("relationship_window_days", self.relationship_window_days, 1)

    @property
    def n_candidates(self) -> int:
        return self.n_initial_followers + self.n_new_followers

    def weights(self) -> dict[str, float]:
        return {"reach_weight": self.reach_weight, "signal_weight": self.signal_weight, "noise_weight": self.noise_weight}

    def as_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


PRESETS = {
    # Reach-seeking: a social-media team reads a lot, noise costs little, followers count most.
    "brand": Scenario(
        name="brand", n_initial_followers=600, n_new_followers=900, attention_budget=1000.0,
        reach_weight=1.0, signal_weight=0.1, noise_weight=0.01,
    ),
    # One person with a small daily attention budget who values signal over reach.
    "person": Scenario(name="person"),
}


def preset(name: str, **overrides: Any) -> Scenario:
    """A preset scenario (``brand`` or ``person``) with some fields replaced."""
    if name not in PRESETS:
        raise StrategyError(f"preset must be one of {', '.join(PRESETS)}, not {name!r}")
    try:
        return dataclasses.replace(PRESETS[name], **overrides)
    except TypeError:
        known = ", ".join(f.name for f in dataclasses.fields(Scenario))
        raise StrategyError(f"unknown scenario field in {sorted(overrides)}; known fields: {known}") from None


def calibrated_rate_ratio(output_dir: str | Path, fallback: float) -> tuple[float, str]:
    """Study 03's adjusted incidence-rate ratio when it is recorded in ``output_dir``, else ``fallback``.

    Returns the ratio and a sentence saying where it came from, for the notebook to print.
    """
    from .report import RESULTS_SUFFIX, read_results

    _check_number("mutual_rate_ratio", fallback, low=0.0)
    path = Path(output_dir) / f"03-followback-engagement{RESULTS_SUFFIX}"
    if path.exists():
        value = read_results(output_dir, "03-followback-engagement").get("headline", {}).get("adjusted_irr")
        if isinstance(value, numbers.Real) and not isinstance(value, bool) and math.isfinite(value) and value > 0:
            return float(value), f"study 03's adjusted incidence-rate ratio recorded in {path.name} ({value:.3g})"
        return float(fallback), (f"the parameter mutual_rate_ratio ({fallback:g}), a default: study 03 could not estimate the adjusted "
                                 "ratio from these data")
    return float(fallback), f"the parameter mutual_rate_ratio ({fallback:g}): study 03 has not been run into this output folder"


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
        arrival[:, scenario.n_initial_followers:] = rng.integers(1, horizon, size=(replications, scenario.n_new_followers), dtype=np.int16)
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
            rows.append({"policy": self.policy.name, "scenario": self.scenario.name, "measure": measure,
                         **interval(values, *measure_bounds(measure))})
        return pd.DataFrame(rows)

    def trajectory(self, measure: str) -> pd.DataFrame:
        """One row per day: mean and 95% interval of the mean over replications."""
        if measure not in self.daily:
            raise StrategyError(f"measure must be one of {', '.join(self.daily)}, not {measure!r}")
        values = self.daily[measure].astype(np.float64)
        mean, low, high = _mean_interval(values, axis=0)
        floor, ceiling = measure_bounds(measure)
        low, high = np.clip(low, floor, ceiling), np.clip(high, floor, ceiling)
        return pd.DataFrame({"day": np.arange(values.shape[1]), "mean": mean, "ci_low": low, "ci_high": high,
                             "policy": self.policy.name, "measure": measure})


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
    return {"mean": float(mean[0]), "ci_low": float(ci_low[0]), "ci_high": float(ci_high[0]),
            "spread_low": float(spread[0]), "spread_high": float(spread[1]), "replications": int(len(values))}


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
    world_seed, draws_seed = np.random.SeedSequence(seed).spawn(2)
    world = _draw_world(scenario, replications, np.random.default_rng(world_seed))
    rng = np.random.default_rng(draws_seed)
    horizon = scenario.horizon_days
    shape = (cells, replications, scenario.n_candidates)
    budget = np.asarray(budgets, dtype=np.float64).reshape(cells, 1)
    hazard = np.asarray(hazards, dtype=np.float32).reshape(cells, 1, 1)
    ratio = np.float32(scenario.mutual_rate_ratio)
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

    names = ("followers", "followees", "timeline_volume", "posts_read", "signal_read", "spam_read",
             "two_way_relationships", "engagement_received", "engagement_given")
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


# ---------------------------------------------------------------------------------------------
# Sensitivity over attention budget x churn hazard


GRID_MEASURES = ("followers", "followers_share", "signal_share", "signal_read", "noise_read", "spam_share",
                 "two_way_relationships", "engagement_received")


@dataclass
class SensitivityResult:
    """Horizon outcomes per policy, scenario cell and replication (``frame``), from one paired run."""

    frame: pd.DataFrame
    budgets: list[float]
    hazards: list[float]
    scenario: Scenario

    def winners(self, reach_weight: float, signal_weight: float, noise_weight: float, policies: list[str] | None = None) -> pd.DataFrame:
        """Per cell: the policy with the highest mean utility, the runner-up and whether the win is clear.

        A win is *clear* when the 95% interval of the paired utility difference (winner minus
        runner-up, over replications that share worlds and draws) lies above zero. ``policies``
        restricts the contest to some of the simulated policies (by name).
        """
        frame = self.frame
        if policies is not None:
            unknown = sorted(set(policies) - set(frame["policy"]))
            if unknown:
                raise StrategyError(f"policies {unknown} were not simulated; simulated: {sorted(frame['policy'].unique())}")
            frame = frame[frame["policy"].isin(policies)]
        frame = frame.assign(utility=utility(frame, reach_weight, signal_weight, noise_weight))
        # One row per cell and replication, one column per policy: replications are paired.
        wide = frame.pivot_table(index=["attention_budget", "churn_hazard", "replication"], columns="policy", values="utility", sort=False)
        rows = []
        for (budget, hazard), cell in wide.groupby(level=["attention_budget", "churn_hazard"], sort=False):  # tens of cells
            ranked = cell.mean().sort_values(ascending=False, kind="stable")
            row = {"attention_budget": budget, "churn_hazard": hazard, "winner": ranked.index[0], "winner_utility": ranked.iloc[0]}
            if len(ranked) > 1:
                summary = interval((cell[ranked.index[0]] - cell[ranked.index[1]]).to_numpy())
                row |= {"runner_up": ranked.index[1], "runner_up_utility": ranked.iloc[1], "margin": summary["mean"],
                        "margin_ci_low": summary["ci_low"], "margin_ci_high": summary["ci_high"],
                        "clear": bool(summary["ci_low"] > 0)}
            else:
                row |= {"runner_up": None, "runner_up_utility": np.nan, "margin": np.nan, "margin_ci_low": np.nan,
                        "margin_ci_high": np.nan, "clear": True}
            rows.append(row)
        return pd.DataFrame(rows)

    def cell_means(self) -> pd.DataFrame:
        """Mean horizon outcomes per cell and policy (for the scenario grid)."""
        measures = list(GRID_MEASURES)
        return self.frame.groupby(["attention_budget", "churn_hazard", "policy"], sort=False)[measures].mean().reset_index()


def sensitivity(policies: list[Policy], scenario: Scenario, budgets: list[float], hazards: list[float], replications: int = 8, seed: int = 0) -> SensitivityResult:
    """Every policy in every (attention budget, churn hazard) cell, all cells simulated in one vectorised run."""
    _check_whole("replications", replications, 1)
    _check_whole("seed", seed, 0)
    budgets = [float(b) for b in budgets]
    hazards = [float(h) for h in hazards]
    if not budgets or not hazards:
        raise StrategyError("the sensitivity grid needs at least one attention budget and one churn hazard")
    for b in budgets:
        _check_number("attention budget in the grid", b, low=0.0, allow_inf=True)
    for h in hazards:
        _check_number("churn hazard in the grid", h, low=0.0, high=1.0)
    names = [p.name for p in policies]
    if len(set(names)) != len(names):
        raise StrategyError(f"policy names must be distinct: {names}")
    grid_budget, grid_hazard = (a.ravel() for a in np.meshgrid(budgets, hazards, indexing="ij"))
    frames = []
    for policy in policies:
        _, horizon = _run(policy, scenario, replications, seed, grid_budget, grid_hazard)
        cells, reps = horizon["followers"].shape
        frame = pd.DataFrame({
            "policy": policy.name,
            "attention_budget": np.repeat(grid_budget, reps),
            "churn_hazard": np.repeat(grid_hazard, reps),
            "replication": np.tile(np.arange(reps), cells),
        })
        for measure in GRID_MEASURES:
            frame[measure] = horizon[measure].ravel()
        frames.append(frame)
    return SensitivityResult(pd.concat(frames, ignore_index=True), budgets, hazards, scenario)


def default_grid(size: int = 5, churn_hazard: float | None = None) -> tuple[list[float], list[float]]:
    """Attention budgets from 10 to 3,000 posts a day (log-spaced) and churn hazards from 0 to 4x ``churn_hazard``.

    ``churn_hazard`` defaults to the literature value; a zero hazard spans up to 4x the literature value.
    """
    _check_whole("grid size", size, 2)
    reference = literature_churn_hazard() if not churn_hazard else churn_hazard
    _check_number("churn_hazard", reference, low=0.0, high=0.25)
    budgets = [float(round(b, 1)) for b in np.geomspace(10, 3000, size)]
    hazards = [float(h) for h in np.linspace(0.0, 4 * reference, size)]
    return budgets, hazards


# ---------------------------------------------------------------------------------------------
# Tables and sentences for the notebook


def policy_table(policies: list[Policy]) -> pd.DataFrame:
    """One row per policy: its name and what it does, in words."""
    return pd.DataFrame({"policy": [p.name for p in policies], "what it does": [p.describe() for p in policies]})


SCENARIO_FIELDS = {
    "n_initial_followers": "followers on day 0",
    "n_new_followers": "new followers over the horizon",
    "attention_budget": "posts the owner can read per day",
    "churn_hazard": "daily chance a follower not followed back leaves",
    "mutual_rate_ratio": "engagement multiplier while both follow each other",
    "spam_share": "share of followers that are spam",
    "post_rate_median": "posts per day of the median account",
    "owner_engagement_per_read": "owner's engagement per post read (x affinity)",
    "follower_engagement_rate": "a follower's engagement per day with the owner (x affinity)",
    "reciprocation_boost": "extra engagement from an account the owner engaged lately",
    "owner_reply_probability": "chance the owner answers an account that engaged it",
    "relationship_window_days": "days within which engagement counts as two-way",
    "reach_weight": "utility of one follower",
    "signal_weight": "utility of one post a day read from a two-way account",
    "noise_weight": "cost of one post a day read from anyone else",
}


def scenario_table(scenarios: dict[str, Scenario]) -> pd.DataFrame:
    """The main parameters of each scenario side by side, with what each means."""
    rows = [{"parameter": name, "meaning": meaning, **{key: getattr(s, name) for key, s in scenarios.items()}} for name, meaning in SCENARIO_FIELDS.items()]
    return pd.DataFrame(rows)


def interval_table(results: dict[str, SimulationResult], measures: tuple[str, ...], digits: int = 3) -> pd.DataFrame:
    """Policies by horizon measures, each cell ``mean (low to high)`` with the 95% interval of the mean."""
    frame = summary_table(results, measures)

    def number(value: float) -> str:
        if abs(value) >= 100:
            return f"{value:,.0f}"
        return f"{value:.1f}" if abs(value) >= 10 else f"{value:.{digits}f}".rstrip("0").rstrip(".") if value else "0"

    def cell(row: pd.Series) -> str:
        if math.isnan(row["ci_low"]) or number(row["ci_low"]) == number(row["ci_high"]):
            return number(row["mean"])
        return f"{number(row['mean'])} ({number(row['ci_low'])} to {number(row['ci_high'])})"

    frame = frame.assign(text=frame.apply(cell, axis=1))  # one row per policy and measure (tens)
    wide = frame.pivot(index="policy", columns="measure", values="text").reindex(index=list(results), columns=list(measures))
    wide.columns.name = None
    return wide.reset_index()


def choose_churn_hazard(parameter: float, earlier_snapshot: StudyDataset | None, dataset: StudyDataset) -> tuple[float, str, pd.DataFrame | None]:
    """The churn hazard to simulate with, a sentence saying where it came from, and the snapshot estimate if any.

    With an earlier export of the same owner, the hazard is estimated from the followers not
    followed back who left between the two exports; else, when the input combines several
    snapshots, from its follow events; otherwise the parameter is used.
    """
    _check_number("churn_hazard", parameter, low=0.0, high=1.0)
    literature = literature_churn_hazard()
    if earlier_snapshot is None:
        observed = churn_from_follow_events(dataset)
        if observed is not None:
            return _hazard_choice(parameter, observed, "the follow events between the input's snapshots")
        if math.isclose(parameter, literature, rel_tol=0.01):
            return parameter, f"the literature value {parameter:.5f} per day (Kwak, Chun and Moon 2011: 12.28% of one-way follows broken over 51 days)", None
        return parameter, f"the parameter churn_hazard ({parameter:.5f} per day)", None
    return _hazard_choice(parameter, churn_from_snapshots(earlier_snapshot, dataset), "the two exports")


def _hazard_choice(parameter: float, estimate: pd.DataFrame, source: str) -> tuple[float, str, pd.DataFrame]:
    one_way = estimate[estimate["group"] == "not followed back"].iloc[0]
    if one_way["followers"] == 0 or not math.isfinite(one_way["daily_hazard"]):
        return parameter, f"the parameter churn_hazard ({parameter:.5f} per day): {source} show no usable follower that was not followed back", estimate
    return (float(one_way["daily_hazard"]),
            f"{source}: {int(one_way['lost'])} of {int(one_way['followers'])} followers not followed back left "
            f"({one_way['days']:.0f} days observed{_interval_words(one_way)}), a daily hazard of {one_way['daily_hazard']:.5f} "
            f"(95% interval {one_way['hazard_ci_low']:.5f} to {one_way['hazard_ci_high']:.5f})", estimate)


def _interval_words(row: pd.Series) -> str:
    """How the distinct accounts relate to what the hazard was fitted on, when there are several intervals."""
    if int(row["intervals"]) <= 1:
        return ""
    return (f" over {int(row['intervals'])} intervals between snapshots: {int(row['departures'])} departures among "
            f"{int(row['follower_intervals'])} follower-intervals at risk")


def winner(results: dict[str, SimulationResult]) -> tuple[str, dict[str, float]]:
    """The policy with the highest mean utility and the paired interval of its lead over the runner-up."""
    means = {name: float(r.horizon["utility"].mean()) for name, r in results.items()}
    ranked = sorted(means, key=means.get, reverse=True)
    lead = paired_difference(results, "utility", ranked[0], ranked[1]) if len(ranked) > 1 else interval(np.zeros(1))
    return ranked[0], lead


def weights_sentence(scenarios: dict[str, Scenario]) -> str:
    """The utility weights of each scenario in words."""
    parts = [f"for the {name}, one follower is worth {s.reach_weight:g}, one post a day read from a two-way account "
             f"{s.signal_weight:g}, and one other post a day costs {s.noise_weight:g}" for name, s in scenarios.items()]
    return "Utility weights: " + "; ".join(parts) + "."


def map_sentence(winners: pd.DataFrame, policy: str, contest: str, weighting: str) -> str:
    """How much of the sensitivity map one policy wins, and at which budgets."""
    won = winners[winners["winner"] == policy]
    cells = len(winners)
    if won.empty:
        return f"{contest.capitalize()}, valued as a {weighting}: '{policy}' wins none of the {cells} cells of the map."
    budgets = ", ".join(f"{b:,.0f}" for b in sorted(won["attention_budget"].unique()))
    hazards = ", ".join(f"{h:.4f}" for h in sorted(won["churn_hazard"].unique()))
    clear = int(won["clear"].sum())
    return (f"{contest.capitalize()}, valued as a {weighting}: '{policy}' wins {len(won)} of the {cells} cells "
            f"({clear} clearly), at attention budgets of {budgets} posts a day and churn hazards of {hazards} per day.")


def replay_sentence(replay: ReplayResult, choosy: str, everyone: str = "follow everyone") -> str:
    """What the replay found for the choosy policy against following everyone, or why it could not."""
    table = replay.table.set_index("policy") if len(replay.table) else replay.table
    if replay.table.empty or everyone not in table.index:
        return "The replay could not score any policy on this input (see the notes above)."
    base = table.loc[everyone]
    sentence = (f"On the {int(base['followed']):,} real followers, following everyone reads every account the owner later "
                f"engaged with, at a precision of {base['precision']:.2f}.")
    if choosy in table.index and not math.isnan(table.loc[choosy, "recall"]):
        row = table.loc[choosy]
        precision = "no precision (it reads no one)" if math.isnan(row["precision"]) else f"a precision of {row['precision']:.2f}"
        sentence += f" '{choosy}' reads {int(row['read']):,} of them with {precision} and a recall of {row['recall']:.2f}."
    return sentence


def conclusion(results: dict[str, dict[str, SimulationResult]], everyone: str, choosy: str) -> str:
    """Plain sentences comparing following everyone with a choosy policy in each scenario."""
    sentences = []
    for name, by_policy in results.items():
        best, lead = winner(by_policy)
        a, b = by_policy[everyone].horizon, by_policy[choosy].horizon
        scenario = by_policy[everyone].scenario
        sentences.append(
            f"**{name.capitalize()}** (reads {scenario.attention_budget:,.0f} posts a day): '{best}' has the highest utility "
            f"(lead over the runner-up {lead['mean']:.3g}, 95% interval {lead['ci_low']:.3g} to {lead['ci_high']:.3g}). "
            f"Following everyone keeps {a['followers'].mean():,.0f} followers against {b['followers'].mean():,.0f} for '{choosy}', "
            f"but {100 * a['signal_share'].mean():.0f}% of what it reads is signal against {100 * b['signal_share'].mean():.0f}%."
        )
    return "\n\n".join(sentences)


# ---------------------------------------------------------------------------------------------
# Replay on real follows


@dataclass
class ReplayResult:
    """Policies applied to an owner's actual followers, scored against whom the owner engaged with later."""

    owner_id: str
    cutoff: pd.Timestamp | None
    candidates: pd.DataFrame
    scores_available: list[str]
    table: pd.DataFrame
    notes: list[str]
    choices: pd.DataFrame = field(default_factory=pd.DataFrame)  # one boolean column per policy: read or not, per candidate


def choose_replay_owner(dataset: StudyDataset, owner_id: str | None = None) -> tuple[str | None, str]:
    """The account whose followers are replayed, and why it was chosen.

    The given id, else the dataset's owner, else (for a whole network) the account with the most
    followers, ties broken by id: the account for which the follow-back question is biggest.
    """
    accounts = dataset.accounts["account_id"].astype(str)
    if owner_id:
        owner_id = str(owner_id)
        if not accounts.eq(owner_id).any():
            raise StrategyError(f"owner_id {owner_id!r} is not an account of this dataset")
        return owner_id, "given as the owner_id parameter"
    if dataset.owner_id is not None:
        return dataset.owner_id, "the owner of the export"
    followers = dataset.follows.groupby("followee_id").size()
    if followers.empty:
        return None, "no account has a follower in this dataset"
    ordered = followers.reset_index(name="followers").sort_values(["followers", "followee_id"], ascending=[False, True], kind="stable")
    chosen = str(ordered.iloc[0]["followee_id"])
    return chosen, f"the account with the most followers ({int(ordered.iloc[0]['followers']):,}), since the data names no owner"


def _split_time(dataset: StudyDataset, owner: str, cutoff: Any | None) -> tuple[pd.Timestamp | None, str]:
    events = dataset.interactions
    involving = events[(events["actor_id"] == owner) | (events["target_id"] == owner)]
    times = involving["at"].dropna()
    if cutoff is not None and cutoff != "":
        stamp = pd.Timestamp(cutoff)
        stamp = stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp.tz_convert("UTC")
        return stamp, f"the given cutoff {stamp:%Y-%m-%d}"
    if times.nunique() < 2:
        return None, "fewer than two timestamped engagement events involve the owner, so no cutoff can split the data"
    start, end = times.min(), times.max()
    return start + (end - start) / 2, f"the midpoint ({(start + (end - start) / 2):%Y-%m-%d}) of the owner's timestamped engagement ({start:%Y-%m-%d} to {end:%Y-%m-%d})"


def replay_candidates(dataset: StudyDataset, owner_id: str | None = None, cutoff: Any | None = None) -> tuple[pd.DataFrame, dict[str, Any]]:
    """One row per follower of the owner: actual follow-back, every observable score, and the value.

    ``valued`` is whether the owner engaged with the account after the cutoff (any kind). Scores
    use only data from before the cutoff; a score that the data's coverage cannot support is
    left out and the reason is noted.
    """
    owner, owner_reason = choose_replay_owner(dataset, owner_id)
    notes: list[str] = [f"Owner: {owner_reason}."]
    meta: dict[str, Any] = {"owner_id": owner, "cutoff": None, "scores": [], "notes": notes}
    empty = pd.DataFrame({"account_id": pd.Series(dtype="string"), "followed_back": pd.Series(dtype=bool), "valued": pd.Series(dtype=bool)})
    coverage = dataset.coverage
    if owner is None:
        return empty, meta
    if not coverage.followers_known:
        notes.append("The source does not list the owner's followers, so there is nothing to replay.")
        return empty, meta
    if coverage.engagement_observed == "none":
        notes.append("The source records no engagement, so no policy can be scored against it.")
        return empty, meta
    follows = dataset.follows
    followers = follows.loc[follows["followee_id"] == owner, ["follower_id", "followed_at"]].rename(columns={"follower_id": "account_id"})
    followees = set(follows.loc[follows["follower_id"] == owner, "followee_id"])
    candidates = followers.drop_duplicates("account_id").reset_index(drop=True)
    candidates["account_id"] = candidates["account_id"].astype("string")
    if coverage.following_known:
        candidates["followed_back"] = candidates["account_id"].isin(followees)
    else:
        notes.append("Whom the owner follows is not known: the owner's own choices cannot be shown.")
        candidates["followed_back"] = pd.NA

    stamp, cutoff_reason = _split_time(dataset, owner, cutoff)
    meta["cutoff"] = stamp
    events = dataset.interactions
    undated = int(events["at"].isna().sum())
    if stamp is None:
        notes.append(f"No cutoff: {cutoff_reason}. The value is any engagement by the owner in the data, and engagement-based scores are left out because they would use the value itself.")
        before = events.iloc[0:0]
        after = events
    else:
        notes.append(f"Cutoff: {cutoff_reason}. Scores use data before it; the value is engagement by the owner after it.")
        if undated:
            notes.append(f"{undated:,} engagement rows without a time (e.g. likes in X archives) belong to neither side of the cutoff and are left out.")
        before = events[events["at"] < stamp]
        after = events[events["at"] >= stamp]
    valued_ids = after.loc[after["actor_id"] == owner].groupby("target_id")["count"].sum()
    candidates["valued"] = candidates["account_id"].isin(valued_ids.index.astype(str))
    candidates["engagement_after"] = candidates["account_id"].map(valued_ids).fillna(0).astype("int64")

    scores: list[str] = []
    if stamp is not None:
        given = before.loc[before["actor_id"] == owner].groupby("target_id")["count"].sum()
        candidates["engagement_given"] = candidates["account_id"].map(given).fillna(0).astype(float)
        scores.append("engagement_given")
        # The last engagement either way before the cutoff, for pruning.
        touching = before[(before["actor_id"] == owner) | (before["target_id"] == owner)]
        partner = touching["target_id"].where(touching["actor_id"] == owner, touching["actor_id"])
        last = touching.assign(partner=partner).groupby("partner")["at"].max()
        candidates["last_engagement"] = pd.to_datetime(candidates["account_id"].map(last), utc=True)
        if coverage.engagement_observed == "everyone":
            received = before.loc[before["target_id"] == owner].groupby("actor_id")["count"].sum()
            candidates["engagement_received"] = candidates["account_id"].map(received).fillna(0).astype(float)
            scores.append("engagement_received")
            activity = before.groupby("actor_id")["count"].sum()
            candidates["activity"] = candidates["account_id"].map(activity).fillna(0).astype(float)
            scores.append("activity")
        else:
            notes.append("Only the owner's outgoing engagement is recorded: 'engagement received' and 'activity' cannot be scored; "
                         "policies that use engagement received use the owner's own past engagement instead.")
    if coverage.scope == "network" and coverage.following_known:
        # Accounts the owner follows that also follow the candidate.
        owner_followees = follows.loc[follows["follower_id"] == owner, "followee_id"]
        shared = follows[follows["follower_id"].isin(owner_followees)].groupby("followee_id").size()
        candidates["mutual_connections"] = candidates["account_id"].map(shared).fillna(0).astype(float)
        scores.append("mutual_connections")
    else:
        notes.append("Mutual connections need the followers of every account (a whole network): not scored.")
    ratio = _follower_ratio(dataset, candidates["account_id"])
    if ratio is not None:
        candidates["follower_ratio"] = ratio.to_numpy()
        candidates["not_spam"] = np.where(candidates["follower_ratio"] < 0.1, 0.0, 1.0)
        candidates.loc[candidates["follower_ratio"].isna(), "not_spam"] = np.nan
        scores += ["follower_ratio", "not_spam"]
    else:
        notes.append("Follower and following counts of the followers are not in the data: the follower ratio and spam-likeness are not scored.")
    meta["scores"] = scores
    return candidates, meta


def _follower_ratio(dataset: StudyDataset, ids: pd.Series) -> pd.Series | None:
    accounts = dataset.accounts.set_index(dataset.accounts["account_id"].astype(str))
    if {"followers_count", "following_count"} <= set(accounts.columns) and accounts["followers_count"].notna().any():
        followers = pd.to_numeric(accounts["followers_count"], errors="coerce")
        following = pd.to_numeric(accounts["following_count"], errors="coerce")
    elif dataset.coverage.scope == "network":
        followers = dataset.follows.groupby("followee_id").size().reindex(accounts.index, fill_value=0)
        following = dataset.follows.groupby("follower_id").size().reindex(accounts.index, fill_value=0)
    else:
        return None
    # An account following no one has an unbounded ratio; count its following as one.
    ratio = followers.astype(float) / following.astype(float).clip(lower=1.0)
    return ids.astype(str).map(ratio).astype(float).reset_index(drop=True)


def _replay_score(candidates: pd.DataFrame, name: str, available: list[str]) -> tuple[pd.Series, str]:
    if name in available:
        return candidates[name].fillna(-np.inf), name
    if name == "engagement_received" and "engagement_given" in available:
        return candidates["engagement_given"], "engagement_given"
    raise KeyError(name)


def _replay_top(score: pd.Series, account_ids: pd.Series, keep: int) -> pd.Series:
    """The ``keep`` highest finite scores; ties go to the smaller account id, so row order never matters."""
    order = np.lexsort((account_ids.astype(str).to_numpy(), -score.to_numpy(dtype=float)))
    chosen = np.zeros(len(score), dtype=bool)
    chosen[order[:keep]] = True
    return pd.Series(chosen, index=score.index) & np.isfinite(score)


def _replay_rule(rule: FollowBack, candidates: pd.DataFrame, available: list[str]) -> tuple[pd.Series, list[str]]:
    if rule.rule == "everyone":
        return pd.Series(True, index=candidates.index), []
    if rule.rule == "no_one":
        return pd.Series(False, index=candidates.index), []
    score, used = _replay_score(candidates, rule.score, available)
    return score >= rule.threshold, [used]


def replay_policy(policy: Policy, candidates: pd.DataFrame, available: list[str], cutoff: pd.Timestamp | None) -> tuple[pd.Series, pd.Series, list[str]]:
    """Whom ``policy`` would follow and whom it would read among the candidates; the scores it used.

    Raises ``KeyError`` with the score's name when the policy needs a score the data cannot give.
    """
    used: list[str] = []
    if policy.reset is not None:
        # A reset keeps the best by score among everyone present, then follows back by its rule.
        score, name = _replay_score(candidates, policy.reset.score, available)
        used.append(name)
        kept = _replay_top(score, candidates["account_id"], policy.reset.keep)
        later, names = _replay_rule(policy.reset.then, candidates, available)
        followed = kept | later
        used += names
    else:
        followed, names = _replay_rule(policy.follow_back, candidates, available)
        used += names
    if policy.prune is not None:
        if cutoff is None or "last_engagement" not in candidates:
            raise KeyError("dated engagement before a cutoff")
        horizon = cutoff - pd.Timedelta(days=policy.prune.inactive_days)
        recent = candidates["last_engagement"] >= horizon
        # A follow younger than the inactivity window is not yet prunable (when follow times are known).
        young = candidates["followed_at"].notna() & (candidates["followed_at"] >= horizon) & (candidates["followed_at"] < cutoff)
        followed = followed & (recent.fillna(False) | young)
        used.append(f"engagement in the {policy.prune.inactive_days} days before the cutoff")
    read = followed
    if policy.reading_list is not None:
        score, name = _replay_score(candidates, policy.reading_list.score, available)
        used.append(name)
        read = followed & _replay_top(score.where(followed, -np.inf), candidates["account_id"], policy.reading_list.size)
    return followed.astype(bool), read.astype(bool), used


def replay_policies(
    dataset: StudyDataset,
    policies: list[Policy],
    owner_id: str | None = None,
    cutoff: Any | None = None,
    churn_hazard: float | None = None,
    horizon_days: int = 365,
) -> ReplayResult:
    """Apply each policy to the owner's actual followers and score whom it reads against later engagement.

    Per policy: accounts followed and read, precision (share of read accounts the owner engaged
    with after the cutoff) and recall (share of those engaged-with accounts that the policy reads),
    and the followers expected to remain after ``horizon_days`` if those not followed back leave at
    ``churn_hazard`` per day. The owner's actual follow-backs appear as the row "as the owner did".
    """
    churn_hazard = literature_churn_hazard() if churn_hazard is None else churn_hazard
    _check_number("churn_hazard", churn_hazard, low=0.0, high=1.0)
    candidates, meta = replay_candidates(dataset, owner_id, cutoff)
    notes = list(meta["notes"])
    available = list(meta["scores"])
    rows = []
    choices = pd.DataFrame(index=candidates.index)
    if len(candidates):
        n_valued = int(candidates["valued"].sum())
        chosen = {}
        if candidates["followed_back"].notna().all():
            actual = candidates["followed_back"].astype(bool)
            chosen["as the owner did"] = (actual, actual, "the owner's actual follow-backs")
        for policy in policies:
            try:
                followed, read, used = replay_policy(policy, candidates, available, meta["cutoff"])
            except KeyError as missing:
                notes.append(f"Policy '{policy.name}' needs {missing.args[0].replace('_', ' ')}, which this data cannot give: not replayed.")
                continue
            substituted = "engagement_received" in policy.scores_used() and "engagement_received" not in available
            chosen[policy.name] = (followed, read, "scores: " + (", ".join(dict.fromkeys(used)) or "none") + (" (in place of engagement received)" if substituted else ""))
        keep_share = math.exp(-churn_hazard * horizon_days)
        for name, (followed, read, how) in chosen.items():
            choices[name] = read.to_numpy()
            hits = int((read & candidates["valued"]).sum())
            rows.append({
                "policy": name,
                "followed": int(followed.sum()),
                "read": int(read.sum()),
                "valued_read": hits,
                "precision": hits / int(read.sum()) if read.any() else np.nan,
                "recall": hits / n_valued if n_valued else np.nan,
                "expected_followers_kept": float(followed.sum() + (~followed).sum() * keep_share),
                "how": how,
            })
        if n_valued == 0:
            notes.append("The owner engaged with none of its followers in the period scored: recall is undefined and precision is 0 for every policy.")
    table = pd.DataFrame(rows, columns=["policy", "followed", "read", "valued_read", "precision", "recall", "expected_followers_kept", "how"])
    return ReplayResult(str(meta["owner_id"]) if meta["owner_id"] else "", meta["cutoff"], candidates, available, table, notes, choices)


def replay_precision_recall(replay: ReplayResult) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Precision and recall of following back by each available score, over all its thresholds.

    Returns the curves (score, threshold, precision, recall) and one row per score with its average
    precision (scikit-learn) beside the base rate: the precision of following back everyone.
    """
    from sklearn.metrics import average_precision_score, precision_recall_curve

    candidates = replay.candidates
    curves, summary = [], []
    valued = candidates["valued"].to_numpy(dtype=bool) if len(candidates) else np.zeros(0, bool)
    if not len(candidates) or valued.sum() == 0 or valued.all():
        return (pd.DataFrame(columns=["score", "threshold", "precision", "recall"]),
                pd.DataFrame(columns=["score", "average_precision", "base_rate", "accounts"]))
    for score in replay.scores_available:
        values = candidates[score].to_numpy(dtype=float)
        known = ~np.isnan(values)
        if known.sum() < 2 or valued[known].sum() == 0:
            continue
        precision, recall, thresholds = precision_recall_curve(valued[known], values[known])
        # The last point (precision 1, recall 0) has no threshold; keep the curve's points that do.
        curves.append(pd.DataFrame({"score": score, "threshold": thresholds, "precision": precision[:-1], "recall": recall[:-1]}))
        summary.append({"score": score, "average_precision": float(average_precision_score(valued[known], values[known])),
                        "base_rate": float(valued[known].mean()), "accounts": int(known.sum())})
    curves_frame = pd.concat(curves, ignore_index=True) if curves else pd.DataFrame(columns=["score", "threshold", "precision", "recall"])
    return curves_frame, pd.DataFrame(summary, columns=["score", "average_precision", "base_rate", "accounts"])


def replay_account_table(replay: ReplayResult, dataset: StudyDataset, n: int = 15, reveal_names: bool = False) -> pd.DataFrame:
    """The ``n`` followers the owner engaged with most after the cutoff, then the rest by first score, pseudonymised.

    Columns: the account's display name (``acct-...`` unless ``reveal_names``), whether the owner
    follows it back, its later engagement, its scores, and how many of the replayed policies read it.
    """
    from .privacy import pseudonymizer_for

    names = dataclasses.replace(pseudonymizer_for(dataset, reveal_names=reveal_names), owner_id=replay.owner_id or None)
    candidates = replay.candidates
    if not len(candidates):
        return pd.DataFrame(columns=["account", "followed_back", "engagement_after", *replay.scores_available, "policies_reading_it"])
    order = [c for c in ["engagement_after", *replay.scores_available] if c in candidates]
    top = candidates.sort_values(order + ["account_id"], ascending=[False] * len(order) + [True], kind="stable").head(n)
    policies = [c for c in replay.choices.columns if c != "as the owner did"]
    table = pd.DataFrame({"account": names(top["account_id"]).to_numpy(), "followed_back": top["followed_back"].to_numpy(),
                          "engagement_after": top["engagement_after"].to_numpy()})
    for score in replay.scores_available:
        table[score] = top[score].to_numpy()
    table["policies_reading_it"] = replay.choices.loc[top.index, policies].sum(axis=1).to_numpy() if policies else 0
    return table


DEFAULT_THRESHOLDS = {
    "engagement_received": 2.0,  # engaged at least twice
    "mutual_connections": 3.0,  # followed by at least three accounts the owner follows
    "follower_ratio": 0.5,  # at least one follower for every two accounts it follows
    "activity": 2.0,  # posts at least twice a day (the median account)
    "not_spam": 0.5,  # the spam detector says more likely not spam
}


def score_policies(thresholds: dict[str, float] | None = None) -> list[Policy]:
    """One selective policy per simulated score, at the given (or default) thresholds."""
    thresholds = {**DEFAULT_THRESHOLDS, **(thresholds or {})}
    return [selective(score, thresholds[score]) for score in SIMULATED_SCORES]


# ---------------------------------------------------------------------------------------------
# Churn observed in data: two snapshots of the same owner, or the follow events between them


def snapshot_time(dataset: StudyDataset) -> pd.Timestamp | None:
    """When an export was taken: its generation date if the loader recorded one, else its latest recorded time."""
    generated = dataset.provenance.parameters.get("generated_at") if dataset.provenance.parameters else None
    stamp = generated or dataset.coverage.time_end
    if not stamp:
        return None
    stamp = pd.Timestamp(stamp)
    return stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp.tz_convert("UTC")


def _hazard_fit(at_risk: np.ndarray, lost: np.ndarray, days: np.ndarray) -> tuple[float, float, float]:
    """Constant daily hazard from interval counts: maximum likelihood with a 95% likelihood-ratio interval.

    Interval ``k`` starts with ``at_risk[k]`` followers of whom ``lost[k]`` are gone ``days[k]``
    later: P(gone) = 1 - exp(-h * days). With one interval the estimate is -log(1 - share) / days.
    """
    from scipy.optimize import brentq

    at_risk, lost, days = (np.asarray(a, dtype=float) for a in (at_risk, lost, days))
    keep = at_risk > 0
    at_risk, lost, days = at_risk[keep], lost[keep], days[keep]
    if not len(at_risk):
        return np.nan, np.nan, np.nan

    def loglik(h: float) -> float:
        gone = np.where(lost > 0, lost * np.log(-np.expm1(-h * days)), 0.0)
        return float(np.sum(gone - (at_risk - lost) * h * days))

    def score(h: float) -> float:
        return float(np.sum(lost * days / np.expm1(h * days) - (at_risk - lost) * days))

    tiny, big = 1e-12, 50.0 / days.min()
    if lost.sum() == 0:
        best = 0.0
        peak = 0.0
    elif (lost == at_risk).all():
        return math.inf, float(brentq(lambda h: loglik(h) + 1.92, tiny, big)) if loglik(tiny) < -1.92 else 0.0, math.inf
    else:
        best = float(brentq(score, tiny, big))
        peak = loglik(best)
    target = peak - 1.92  # half the 95% quantile of chi-square with one degree of freedom
    low = 0.0 if best == 0.0 or loglik(tiny) >= target else float(brentq(lambda h: loglik(h) - target, tiny, best))
    high = math.inf if loglik(big) >= target else float(brentq(lambda h: loglik(h) - target, max(best, tiny), big))
    return best, low, high


def _churn_table(intervals: list[dict[str, Any]]) -> pd.DataFrame:
    """One row per group (not followed back / followed back) pooled over the intervals given.

    ``followers`` and ``lost`` count distinct accounts (one who left in two intervals is one
    account lost); the hazard is fitted on ``follower_intervals`` and ``departures``, where an
    account at risk in three intervals counts three times, as the likelihood needs.
    """
    rows = []
    for group in ("not followed back", "followed back"):
        at_risk_ids = [i[group][0] for i in intervals]
        lost_ids = [i[group][1] for i in intervals]
        at_risk = np.array([len(ids) for ids in at_risk_ids], dtype=float)
        lost = np.array([len(ids) for ids in lost_ids], dtype=float)
        days = np.array([i["days"] for i in intervals], dtype=float)
        hazard, low, high = _hazard_fit(at_risk, lost, days)
        followers = len(pd.Index([]).append(at_risk_ids).unique()) if at_risk_ids else 0
        accounts_lost = len(pd.Index([]).append(lost_ids).unique()) if lost_ids else 0
        rows.append({"group": group, "followers": followers, "lost": accounts_lost,
                     "share_lost": accounts_lost / followers if followers else np.nan,
                     "follower_intervals": int(at_risk.sum()), "departures": int(lost.sum()),
                     "days": float(days.sum() / len(days)) if len(intervals) == 1 else float(days.sum()),
                     "intervals": len(intervals), "daily_hazard": hazard, "hazard_ci_low": low, "hazard_ci_high": high})
    return pd.DataFrame(rows)


def _at_risk(followers: pd.Index, followees: pd.Index, ended: pd.Index) -> dict[str, tuple[pd.Index, pd.Index]]:
    """The followers at risk in one interval and those of them who left, by whether the owner followed them back."""
    one_way = followers.difference(followees)
    mutual = followers.intersection(followees)
    return {"not followed back": (one_way, one_way.intersection(ended)),
            "followed back": (mutual, mutual.intersection(ended))}


def churn_from_snapshots(earlier: StudyDataset, later: StudyDataset, days: float | None = None) -> pd.DataFrame:
    """Followers lost between two exports of one owner, split by whether the owner followed them back.

    For each group (followers in the earlier export that the owner did not / did follow back):
    how many there were, how many no longer follow in the later export, and the constant daily
    hazard that loses that share over ``days`` (by default the time between the exports) with a 95%
    likelihood-ratio interval. Accounts that left and came back in between are invisible and
    deleted accounts count as leaving: the hazard is a rough guide, not a measurement of unfollows.
    """
    for which, data in (("earlier", earlier), ("later", later)):
        if data.owner_id is None:
            raise StrategyError(f"the {which} snapshot names no owner: churn needs two exports of one owner")
        if not (data.coverage.followers_known and data.coverage.following_known):
            raise StrategyError(f"the {which} snapshot does not list both the owner's followers and followees")
    if earlier.owner_id != later.owner_id:
        raise StrategyError(f"the snapshots belong to different owners ({earlier.owner_id} and {later.owner_id})")
    if days is None:
        start, end = snapshot_time(earlier), snapshot_time(later)
        if start is None or end is None:
            raise StrategyError("a snapshot carries neither a generation date nor dated records: give the number of days between them")
        days = (end - start).total_seconds() / 86_400
    _check_number("days between snapshots", days)
    if days <= 0:
        raise StrategyError(f"the later snapshot must be taken after the earlier one (days between them: {days:.1f})")
    owner = earlier.owner_id
    before = earlier.follows
    followers = pd.Index(before.loc[before["followee_id"] == owner, "follower_id"].astype(str).unique())
    followees = pd.Index(before.loc[before["follower_id"] == owner, "followee_id"].astype(str).unique())
    still = pd.Index(later.follows.loc[later.follows["followee_id"] == owner, "follower_id"].astype(str).unique())
    return _churn_table([{"days": float(days), **_at_risk(followers, followees, followers.difference(still))}])


def churn_from_follow_events(dataset: StudyDataset) -> pd.DataFrame | None:
    """The same estimate from a dataset combining several snapshots (its ``follow_events``), or None without them.

    Each interval between two snapshots starts with the followers and followees of the earlier
    one (:func:`~reciprocity_utils.snapshot_states.owner_states`); the followers gone at the later
    one were lost.
    """
    if not (dataset.coverage.followers_known and dataset.coverage.following_known):
        return None
    if not (dataset.follow_events["followee_id"] == dataset.owner_id).any():
        return None  # nothing says the owner's followers were compared between the snapshots
    states = owner_states(dataset)
    intervals = []
    for earlier, later in zip(states, states[1:]):
        days = (later.taken - earlier.taken).total_seconds() / 86_400
        if days > 0:
            intervals.append({"days": days, **_at_risk(earlier.followers, earlier.followees, earlier.followers.difference(later.followers))})
    return _churn_table(intervals) if intervals else None


def check_study_parameters(replications: Any, grid_replications: Any, grid_size: Any, horizon_days: Any, churn_hazard: Any,
                           mutual_rate_ratio: Any, earlier_snapshot_path: Any, interactive: Any) -> None:
    """Notebook 04's own parameters; raises :class:`~reciprocity_utils.ParameterError` with what was expected."""
    from .parameters import ParameterError

    def whole(name, value, low, high):
        if isinstance(value, bool) or not isinstance(value, numbers.Integral) or not low <= value <= high:
            raise ParameterError(f"{name} must be a whole number from {low} to {high}, not {value!r}")

    whole("replications", replications, 2, 10_000)
    whole("grid_replications", grid_replications, 2, 10_000)
    whole("grid_size", grid_size, 2, 20)
    whole("horizon_days", horizon_days, 2, 10_000)
    if isinstance(churn_hazard, bool) or not isinstance(churn_hazard, numbers.Real) or not 0 <= churn_hazard <= 1:
        raise ParameterError(f"churn_hazard must be a daily probability from 0 to 1, not {churn_hazard!r}")
    if isinstance(mutual_rate_ratio, bool) or not isinstance(mutual_rate_ratio, numbers.Real) or not mutual_rate_ratio > 0 or math.isinf(mutual_rate_ratio):
        raise ParameterError(f"mutual_rate_ratio must be a positive number, not {mutual_rate_ratio!r}")
    if not isinstance(earlier_snapshot_path, str):
        raise ParameterError(f"earlier_snapshot_path must be a path in quotes or \"\", not {earlier_snapshot_path!r}")
    if not isinstance(interactive, bool):
        raise ParameterError(f"interactive must be True or False, not {interactive!r}")
