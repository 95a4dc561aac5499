"""Churn: the literature hazard (Kwak, Chun and Moon 2011) and the hazard observed between snapshots of one owner, per distinct follower."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

from ..model import StudyDataset
from ..snapshot_states import owner_states
from .policies import StrategyError, _check_number

# Kwak, Chun and Moon (2011): share of one-way follow relationships broken over 51 observed days.
KWAK_ONE_WAY_BROKEN_SHARE = 0.1228
KWAK_OBSERVED_DAYS = 51


def literature_churn_hazard() -> float:
    """Daily hazard that a follower not followed back leaves, from Kwak, Chun and Moon (2011).

    ``1 - (1 - 0.1228) ** (1 / 51)``: the 0.1228 share of one-way relationships they saw broken
    over 51 days of daily snapshots, spread evenly over those days.
    """
    return 1.0 - (1.0 - KWAK_ONE_WAY_BROKEN_SHARE) ** (1.0 / KWAK_OBSERVED_DAYS)


def choose_churn_hazard(
    parameter: float, earlier_snapshot: StudyDataset | None, dataset: StudyDataset
) -> tuple[float, str, pd.DataFrame | None]:
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
            return (
                parameter,
                f"the literature value {parameter:.5f} per day (Kwak, Chun and Moon 2011: 12.28% of one-way follows broken over 51 days)",
                None,
            )
        return parameter, f"the parameter churn_hazard ({parameter:.5f} per day)", None
    return _hazard_choice(parameter, churn_from_snapshots(earlier_snapshot, dataset), "the two exports")


def _hazard_choice(parameter: float, estimate: pd.DataFrame, source: str) -> tuple[float, str, pd.DataFrame]:
    one_way = estimate[estimate["group"] == "not followed back"].iloc[0]
    if one_way["followers"] == 0 or not math.isfinite(one_way["daily_hazard"]):
        return (
            parameter,
            f"the parameter churn_hazard ({parameter:.5f} per day): {source} show no usable follower that was not followed back",
            estimate,
        )
    return (
        float(one_way["daily_hazard"]),
        f"{source}: {int(one_way['lost'])} of {int(one_way['followers'])} followers not followed back left "
        f"({one_way['days']:.0f} days observed{_interval_words(one_way)}), a daily hazard of {one_way['daily_hazard']:.5f} "
        f"(95% interval {one_way['hazard_ci_low']:.5f} to {one_way['hazard_ci_high']:.5f})",
        estimate,
    )


def _interval_words(row: pd.Series) -> str:
    """How the distinct accounts relate to what the hazard was fitted on, when there are several intervals."""
    if int(row["intervals"]) <= 1:
        return ""
    return (
        f" over {int(row['intervals'])} intervals between snapshots: {int(row['departures'])} departures among "
        f"{int(row['follower_intervals'])} follower-intervals at risk"
    )


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
        rows.append(
            {
                "group": group,
                "followers": followers,
                "lost": accounts_lost,
                "share_lost": accounts_lost / followers if followers else np.nan,
                "follower_intervals": int(at_risk.sum()),
                "departures": int(lost.sum()),
                "days": float(days.sum() / len(days)) if len(intervals) == 1 else float(days.sum()),
                "intervals": len(intervals),
                "daily_hazard": hazard,
                "hazard_ci_low": low,
                "hazard_ci_high": high,
            }
        )
    return pd.DataFrame(rows)


def _at_risk(followers: pd.Index, followees: pd.Index, ended: pd.Index) -> dict[str, tuple[pd.Index, pd.Index]]:
    """The followers at risk in one interval and those of them who left, by whether the owner followed them back."""
    one_way = followers.difference(followees)
    mutual = followers.intersection(followees)
    return {"not followed back": (one_way, one_way.intersection(ended)), "followed back": (mutual, mutual.intersection(ended))}


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
            intervals.append(
                {"days": days, **_at_risk(earlier.followers, earlier.followees, earlier.followers.difference(later.followers))}
            )
    return _churn_table(intervals) if intervals else None
