"""Scenarios: the world a policy is played in (arrivals, attention, churn, spam, engagement rates), the person and brand presets, and where the engagement ratio comes from."""

from __future__ import annotations

import dataclasses
import math
import numbers
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np

from .churn import literature_churn_hazard
from .policies import StrategyError, _check_number, _check_whole

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
    # Uncertainty in the multiplier (see RateRatioCalibration): with both bounds, each replication
    # draws its own multiplier around mutual_rate_ratio from that 95% interval; with
    # rate_ratio_from_one, only a random share of it (from none to all, on the log scale) is an effect.
    rate_ratio_low: float | None = None
    rate_ratio_high: float | None = None
    rate_ratio_from_one: bool = False
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
    # Attention that keeping a reading list takes, in posts' worth per day (choosing and updating
    # it, switching to it): taken from the budget of a policy with a list. 0 assumes it is free.
    list_cost: float = 0.0
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
        if (self.rate_ratio_low is None) != (self.rate_ratio_high is None):
            raise StrategyError("rate_ratio_low and rate_ratio_high go together: give both or neither")
        if self.rate_ratio_low is not None:
            _check_number("rate_ratio_low", self.rate_ratio_low, low=0.0)
            _check_number("rate_ratio_high", self.rate_ratio_high, low=0.0)
            if not 0 < self.rate_ratio_low <= self.mutual_rate_ratio <= self.rate_ratio_high:
                raise StrategyError(
                    "the interval must hold the multiplier: 0 < rate_ratio_low <= mutual_rate_ratio <= "
                    f"rate_ratio_high, not {self.rate_ratio_low}, {self.mutual_rate_ratio}, {self.rate_ratio_high}"
                )
        for name in (
            "spam_post_multiplier",
            "spam_affinity",
            "post_rate_median",
            "post_rate_sigma",
            "affinity_sigma",
            "owner_engagement_per_read",
            "follower_engagement_rate",
            "reciprocation_boost",
            "mutual_connections_mean",
            "reach_weight",
            "signal_weight",
            "noise_weight",
            "list_cost",
        ):
            _check_number(name, getattr(self, name), low=0.0)
        _check_whole("relationship_window_days", self.relationship_window_days, 1)

    @property
    def n_candidates(self) -> int:
        return self.n_initial_followers + self.n_new_followers

    def weights(self) -> dict[str, float]:
        return {"reach_weight": self.reach_weight, "signal_weight": self.signal_weight, "noise_weight": self.noise_weight}

    def as_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    def rate_ratios(self, replications: int, rng: np.random.Generator) -> np.ndarray:
        """The engagement multiplier of each replication (all equal without an interval)."""
        if self.rate_ratio_low is None:
            return np.full(replications, self.mutual_rate_ratio, dtype=np.float32)
        # The estimate's 95% interval read as a normal on the log scale (as study 03's intervals are built).
        spread = (math.log(self.rate_ratio_high) - math.log(self.rate_ratio_low)) / (2 * Z_95)
        log_ratio = math.log(self.mutual_rate_ratio) + spread * rng.standard_normal(replications)
        if self.rate_ratio_from_one:
            log_ratio = log_ratio * rng.random(replications)  # an unknown share of the association is an effect
        return np.exp(log_ratio).astype(np.float32)


PRESETS = {
    # Reach-seeking: a social-media team reads a lot, noise costs little, followers count most.
    "brand": Scenario(
        name="brand",
        n_initial_followers=600,
        n_new_followers=900,
        attention_budget=1000.0,
        reach_weight=1.0,
        signal_weight=0.1,
        noise_weight=0.01,
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


Z_95 = 1.959963984540054


@dataclass(frozen=True)
class RateRatioCalibration:
    """Where the simulator's engagement multiplier comes from, and how uncertain it is.

    ``case`` is ``"effect"`` when study 03's timing design supports reading its estimate as an
    effect of the follow-back (each replication draws the multiplier from the estimate's
    interval); ``"association"`` when study 03 measured only an association (each replication
    draws it between 1, no effect, and the association drawn from its interval: how much of an
    association is an effect is unknown); ``"default"`` when study 03 gave no estimate (the
    parameter, fixed, and said to be a default).
    """

    case: Literal["effect", "association", "default"]
    point: float
    low: float | None
    high: float | None
    source: str

    def scenario_fields(self) -> dict[str, Any]:
        """The Scenario fields that carry this calibration into the simulator."""
        return {
            "mutual_rate_ratio": self.point,
            "rate_ratio_low": self.low,
            "rate_ratio_high": self.high,
            "rate_ratio_from_one": self.case == "association",
        }

    def range_words(self) -> str:
        """The multipliers the runs cover, in words."""
        if self.case == "default":
            return f"{self.point:.2f} in every run (a default)"
        if self.case == "effect":
            return f"drawn from {self.low:.2f} to {self.high:.2f} (95% interval), around {self.point:.2f}"
        edge = self.high if self.point >= 1 else self.low
        return f"drawn between 1 (no effect) and the association, {self.point:.2f} (up to {edge:.2f} with its uncertainty)"

    def as_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


def _positive(value: Any) -> float | None:
    if isinstance(value, numbers.Real) and not isinstance(value, bool) and math.isfinite(value) and value > 0:
        return float(value)
    return None


def calibrate_rate_ratio(output_dir: str | Path, fallback: float) -> RateRatioCalibration:
    """The engagement multiplier from study 03's results in ``output_dir``, with its case and uncertainty."""
    from ..report import RESULTS_SUFFIX, read_results

    _check_number("mutual_rate_ratio", fallback, low=0.0)
    path = Path(output_dir) / f"03-followback-engagement{RESULTS_SUFFIX}"
    if not path.exists():
        return RateRatioCalibration(
            "default",
            float(fallback),
            None,
            None,
            f"the parameter mutual_rate_ratio ({fallback:g}), a default: study 03 has not been run into this output folder",
        )
    results = read_results(output_dir, "03-followback-engagement")
    head, timing = results.get("headline") or {}, (results.get("details") or {}).get("timing") or {}
    point, low, high = (_positive(head.get(k)) for k in ("adjusted_irr", "adjusted_irr_ci_low", "adjusted_irr_ci_high"))
    if point is None or low is None or high is None or not low <= point <= high:
        return RateRatioCalibration(
            "default",
            float(fallback),
            None,
            None,
            f"the parameter mutual_rate_ratio ({fallback:g}), a default: study 03 could not estimate the adjusted ratio from these data",
        )
    estimate = f"study 03's adjusted ratio, {point:.2f} (95% interval {low:.2f} to {high:.2f})"
    if str(timing.get("verdict") or "").startswith("supports"):
        return RateRatioCalibration(
            "effect",
            point,
            low,
            high,
            f"{estimate}, read as an effect because study 03's timing design supports it; each run draws the multiplier from that interval",
        )
    why = (
        "study 03's timing design does not support reading it as an effect"
        if timing
        else "these data have no times to check whether it is an effect"
    )
    return RateRatioCalibration(
        "association",
        point,
        low,
        high,
        f"{estimate}, an association: {why}, so each run takes an unknown share of it as the effect, "
        "from none (a multiplier of 1) to all of it, with the estimate itself drawn from its interval",
    )


def check_study_parameters(
    replications: Any,
    grid_replications: Any,
    grid_size: Any,
    horizon_days: Any,
    churn_hazard: Any,
    mutual_rate_ratio: Any,
    earlier_snapshot_path: Any,
    interactive: Any,
) -> None:
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
    if (
        isinstance(mutual_rate_ratio, bool)
        or not isinstance(mutual_rate_ratio, numbers.Real)
        or not mutual_rate_ratio > 0
        or math.isinf(mutual_rate_ratio)
    ):
        raise ParameterError(f"mutual_rate_ratio must be a positive number, not {mutual_rate_ratio!r}")
    if not isinstance(earlier_snapshot_path, str):
        raise ParameterError(f'earlier_snapshot_path must be a path in quotes or "", not {earlier_snapshot_path!r}')
    if not isinstance(interactive, bool):
        raise ParameterError(f"interactive must be True or False, not {interactive!r}")
