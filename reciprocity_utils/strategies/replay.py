"""Replay: the same policies applied to the real followers of one account, scored against whom the owner engaged with after a cutoff."""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from ..model import StudyDataset
from .churn import literature_churn_hazard
from .policies import FollowBack, Policy, StrategyError, _check_number

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
    return (
        start + (end - start) / 2,
        f"the midpoint ({(start + (end - start) / 2):%Y-%m-%d}) of the owner's timestamped engagement ({start:%Y-%m-%d} to {end:%Y-%m-%d})",
    )


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
        notes.append(
            f"No cutoff: {cutoff_reason}. The value is any engagement by the owner in the data, and engagement-based scores are left out because they would use the value itself."
        )
        before = events.iloc[0:0]
        after = events
    else:
        notes.append(f"Cutoff: {cutoff_reason}. Scores use data before it; the value is engagement by the owner after it.")
        if undated:
            notes.append(
                f"{undated:,} engagement rows without a time (e.g. likes in X archives) belong to neither side of the cutoff and are left out."
            )
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
            notes.append(
                "Only the owner's outgoing engagement is recorded: 'engagement received' and 'activity' cannot be scored; "
                "policies that use engagement received use the owner's own past engagement instead."
            )
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
        notes.append(
            "Follower and following counts of the followers are not in the data: the follower ratio and spam-likeness are not scored."
        )
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


def replay_policy(
    policy: Policy, candidates: pd.DataFrame, available: list[str], cutoff: pd.Timestamp | None
) -> tuple[pd.Series, pd.Series, list[str]]:
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
                notes.append(
                    f"Policy '{policy.name}' needs {missing.args[0].replace('_', ' ')}, which this data cannot give: not replayed."
                )
                continue
            substituted = "engagement_received" in policy.scores_used() and "engagement_received" not in available
            chosen[policy.name] = (
                followed,
                read,
                "scores: " + (", ".join(dict.fromkeys(used)) or "none") + (" (in place of engagement received)" if substituted else ""),
            )
        keep_share = math.exp(-churn_hazard * horizon_days)
        for name, (followed, read, how) in chosen.items():
            choices[name] = read.to_numpy()
            hits = int((read & candidates["valued"]).sum())
            rows.append(
                {
                    "policy": name,
                    "followed": int(followed.sum()),
                    "read": int(read.sum()),
                    "valued_read": hits,
                    "precision": hits / int(read.sum()) if read.any() else np.nan,
                    "recall": hits / n_valued if n_valued else np.nan,
                    "expected_followers_kept": float(followed.sum() + (~followed).sum() * keep_share),
                    "how": how,
                }
            )
        if n_valued == 0:
            notes.append(
                "The owner engaged with none of its followers in the period scored: recall is undefined and precision is 0 for every policy."
            )
    table = pd.DataFrame(
        rows, columns=["policy", "followed", "read", "valued_read", "precision", "recall", "expected_followers_kept", "how"]
    )
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
        return (
            pd.DataFrame(columns=["score", "threshold", "precision", "recall"]),
            pd.DataFrame(columns=["score", "average_precision", "base_rate", "accounts"]),
        )
    for score in replay.scores_available:
        values = candidates[score].to_numpy(dtype=float)
        known = ~np.isnan(values)
        if known.sum() < 2 or valued[known].sum() == 0:
            continue
        precision, recall, thresholds = precision_recall_curve(valued[known], values[known])
        # The last point (precision 1, recall 0) has no threshold; keep the curve's points that do.
        curves.append(pd.DataFrame({"score": score, "threshold": thresholds, "precision": precision[:-1], "recall": recall[:-1]}))
        summary.append(
            {
                "score": score,
                "average_precision": float(average_precision_score(valued[known], values[known])),
                "base_rate": float(valued[known].mean()),
                "accounts": int(known.sum()),
            }
        )
    curves_frame = pd.concat(curves, ignore_index=True) if curves else pd.DataFrame(columns=["score", "threshold", "precision", "recall"])
    return curves_frame, pd.DataFrame(summary, columns=["score", "average_precision", "base_rate", "accounts"])


def replay_account_table(replay: ReplayResult, dataset: StudyDataset, n: int = 15, reveal_names: bool = False) -> pd.DataFrame:
    """The ``n`` followers the owner engaged with most after the cutoff, then the rest by first score, pseudonymised.

    Columns: the account's display name (``acct-...`` unless ``reveal_names``), whether the owner
    follows it back, its later engagement, its scores, and how many of the replayed policies read it.
    """
    from ..privacy import pseudonymizer_for

    names = dataclasses.replace(pseudonymizer_for(dataset, reveal_names=reveal_names), owner_id=replay.owner_id or None)
    candidates = replay.candidates
    if not len(candidates):
        return pd.DataFrame(columns=["account", "followed_back", "engagement_after", *replay.scores_available, "policies_reading_it"])
    order = [c for c in ["engagement_after", *replay.scores_available] if c in candidates]
    top = candidates.sort_values(order + ["account_id"], ascending=[False] * len(order) + [True], kind="stable").head(n)
    policies = [c for c in replay.choices.columns if c != "as the owner did"]
    table = pd.DataFrame(
        {
            "account": names(top["account_id"]).to_numpy(),
            "followed_back": top["followed_back"].to_numpy(),
            "engagement_after": top["engagement_after"].to_numpy(),
        }
    )
    for score in replay.scores_available:
        table[score] = top[score].to_numpy()
    table["policies_reading_it"] = replay.choices.loc[top.index, policies].sum(axis=1).to_numpy() if policies else 0
    return table
