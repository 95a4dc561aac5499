"""Scenarios: the world a policy is played in (arrivals, attention, churn, spam, engagement rates), the person and brand presets, and where the engagement ratio comes from."""

from __future__ import annotations

import dataclasses
import math
import numbers
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .policies import StrategyError, _check_number, _check_whole
from .churn import literature_churn_hazard


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
    from ..report import RESULTS_SUFFIX, read_results

    _check_number("mutual_rate_ratio", fallback, low=0.0)
    path = Path(output_dir) / f"03-followback-engagement{RESULTS_SUFFIX}"
    if path.exists():
        value = read_results(output_dir, "03-followback-engagement").get("headline", {}).get("adjusted_irr")
        if isinstance(value, numbers.Real) and not isinstance(value, bool) and math.isfinite(value) and value > 0:
            return float(value), f"study 03's adjusted incidence-rate ratio recorded in {path.name} ({value:.3g})"
        return float(fallback), (f"the parameter mutual_rate_ratio ({fallback:g}), a default: study 03 could not estimate the adjusted "
                                 "ratio from these data")
    return float(fallback), f"the parameter mutual_rate_ratio ({fallback:g}): study 03 has not been run into this output folder"


def check_study_parameters(replications: Any, grid_replications: Any, grid_size: Any, horizon_days: Any, churn_hazard: Any,
                           mutual_rate_ratio: Any, earlier_snapshot_path: Any, interactive: Any) -> None:
    """Notebook 04's own parameters; raises :class:`~reciprocity_utils.ParameterError` with what was expected."""
    from ..parameters import ParameterError

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
