"""Policies: whom the owner follows back, unfollows and reads, as small frozen dataclasses, and the standard set the study compares."""

from __future__ import annotations

import dataclasses
import math
import numbers
from dataclasses import dataclass
from typing import Any, Literal

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
            parts.append(
                f"every {self.prune.every_days} days unfollow followees with no engagement either way in {self.prune.inactive_days} days"
            )
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


def great_unfollow(
    day: int = 90, keep: int = 100, score: str = "engagement_received", then: FollowBack | None = None, name: str | None = None
) -> Policy:
    """Follow back everyone until ``day``, then unfollow everyone and re-follow the ``keep`` best by ``score``."""
    then = then if then is not None else FollowBack("score", "engagement_received", 2.0)
    return Policy(name or f"unfollow all on day {day}, keep {keep}", FollowBack("everyone"), reset=Reset(day, keep, score, then))


def read_only_list(
    policy: Policy | None = None, score: str = "engagement_received", size: int = 100, every_days: int = 7, name: str | None = None
) -> Policy:
    """Follow as ``policy`` does (everyone by default) but read only a list of the best ``size`` followees."""
    policy = policy if policy is not None else follow_everyone()
    return dataclasses.replace(
        policy, name=name or f"{policy.name}, read list of {size}", reading_list=ReadingList(score, size, every_days)
    )


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
