"""Engagement before and after the follow-back within the same pairs: an event study.

Each follow a -> b that b returns is compared with itself: a's engagement toward b in each of
the weeks before the follow-back (the *leads*) and in windows after it (the *lags*), relative to
its one-way time earlier than the first lead (the *reference*), in a Poisson model with a fixed
effect for every pair (anything constant about the pair: affinity, shared interests, how the two
met) and for every calendar period (trends common to all pairs, identified also from pairs never
returned). Intervals are two-way clustered on both accounts.

Why several leads and an equivalence rule. If engagement rises *before* the follow-back, b may
follow back *because* a engaged (anticipation, reverse causality), and the after/before
comparison then mixes that rise in. A single short lead window misses a slower rise, and a lead
that is "not significant" proves nothing: it may just be imprecise. So the design claims a
causal reading only when

- every lead's 90% interval lies inside a stated margin around 1 (``margin``, default 1.25:
  within -20% and +25%) — an intersection-union equivalence test at the 5% level (each lead's
  two one-sided tests at 5%; Berger and Hsu 1996) — so a pre-trend larger than the margin is
  ruled out week by week, and
- the after-effect's 95% interval excludes 1.

Otherwise the verdict says why: a pre-trend (a lead's 95% interval excludes 1, or the joint Wald
test of all leads rejects at 5%), leads too imprecise to rule one out ("inconclusive"), too few
pairs observed long enough before their follow-back to have a reference, or no change at the
follow-back that can be told apart from none. What remains unruled even when the design
supports a causal reading: a rise that starts earlier than the first lead (it moves the
reference), and anything that changes exactly at the follow-back for another reason.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import stats

from ..dyads import MICROSECONDS_PER_DAY, NOT_A_TIME, DyadTable, _as_us, _epoch_us, event_arcs
from ..model import INTERACTION_KINDS, StudyDataset
from ..segments import state_period_pieces
from ..stopwatch import timed_step
from ..wording import p_words
from .covariance import COVARIANCE_METHODS, HEADLINE_COVARIANCE, Z_95, effective_clusters, robust_covariances
from .estimators import fit_count_regression
from .models import Estimate

DEFAULT_LEAD_WEEKS = 8
# Windows after the follow-back, in days: the first week, to four weeks, to three months, after.
LAG_EDGES_DAYS = (0.0, 7.0, 28.0, 91.0)
DEFAULT_MARGIN = 1.5
# Pairs observed one-way before the first lead: below this the reference is too thin to compare.
MIN_REFERENCE_PAIRS = 30
Z_90 = stats.norm.ppf(0.95)
# The verdicts in words, for tables and captions.
VERDICT_WORDS = {
    "supports": "consistent with an effect of the follow-back",
    "no change": "no change at the follow-back that these data can tell from none",
    "pre-trend": "engagement was already changing before the follow-back: no causal reading",
    "inconclusive": "inconclusive: the weeks before are too imprecise",
    "too few pairs": "inconclusive: too few pairs seen long before their follow-back",
}
VERDICTS = tuple(VERDICT_WORDS)


def event_bins(lead_weeks: int) -> pd.DataFrame:
    """The event-time bins: weekly leads (earliest first), then the lag windows; days relative to the follow-back."""
    rows = []
    for week in range(lead_weeks, 0, -1):
        rows.append({"bin": f"week {week} before", "kind": "lead", "start_day": -7.0 * week, "end_day": -7.0 * (week - 1)})
    ends = list(LAG_EDGES_DAYS[1:]) + [math.inf]
    for start, end in zip(LAG_EDGES_DAYS, ends):
        label = f"days {start:g}–{end:g} after" if math.isfinite(end) else f"over {start:g} days after"
        rows.append({"bin": label, "kind": "lag", "start_day": start, "end_day": end})
    return pd.DataFrame(rows)


def event_time_segments(
    dataset: StudyDataset,
    dyads: DyadTable,
    bins: pd.DataFrame,
    period_edges: list[pd.Timestamp],
    kinds: tuple[str, ...] = INTERACTION_KINDS,
    only: np.ndarray | None = None,
) -> pd.DataFrame:
    """Each arc's exposure cut by event-time bin (0: reference, i: row i-1 of ``bins``) and calendar period.

    Arcs never returned spend all their time in the reference bin. Returns one row per non-empty
    piece: ``arc``, ``a``, ``b`` (account codes), ``bin``, ``period``, ``exposure_days`` and ``y``
    (a's events toward b of the chosen ``kinds`` in that piece). Arcs whose split is unknown
    are left out, as in :func:`~reciprocity_utils.segments.engagement_segments`.
    """
    frame = dyads.frame
    start_us, end_us = _as_us(dyads.window_start), _as_us(dyads.window_end) + 1
    edges = np.array([_as_us(pd.Timestamp(t)) for t in period_edges])
    edges[0], edges[-1] = min(edges[0], start_us), max(edges[-1], end_us)
    followed = _epoch_us(frame["followed_at"])
    mutual = frame["mutual"].fillna(False).to_numpy(dtype=bool)
    since = _epoch_us(frame["mutual_since"])
    exposure_from = np.where(followed == NOT_A_TIME, start_us, np.maximum(followed, start_us))
    # Never returned: the follow-back is "at infinity", every cut lies after the end.
    returned_at = np.where(mutual, np.clip(since, exposure_from, end_us), np.iinfo(np.int64).max // 4)
    kept = ~(frame["ab_one_way"].isna().to_numpy() | frame["ab_total"].isna().to_numpy()) & (exposure_from < end_us)
    if only is not None:
        kept &= only
    arcs = np.flatnonzero(kept)
    offsets_us = (bins["start_day"].to_numpy() * MICROSECONDS_PER_DAY).astype(np.int64)
    # Bin boundaries per arc: exposure start, each bin's start, the end of the data.
    cuts = returned_at[arcs, None] + offsets_us[None, :]
    bounds = np.concatenate([exposure_from[arcs, None], cuts, np.full((len(arcs), 1), end_us)], axis=1)
    bounds = np.clip(bounds, exposure_from[arcs, None], end_us)
    bounds = np.maximum.accumulate(bounds, axis=1)
    arc, bin_of, period, exposure, cell = state_period_pieces(arcs, bounds, edges)
    n_periods, n_bins = len(edges) - 1, bounds.shape[1] - 1

    # a's events toward b inside the exposure, placed in their arc's bin and period.
    events = dataset.interactions
    event_arc = event_arcs(dataset, dyads)[0]
    at = _epoch_us(events["at"])
    usable = (event_arc >= 0) & (at != NOT_A_TIME) & events["kind"].isin(list(kinds)).to_numpy()
    usable[usable] &= kept[event_arc[usable]]
    usable[usable] &= at[usable] >= exposure_from[event_arc[usable]]
    e_arc, e_at = event_arc[usable], at[usable]
    relative = e_at - returned_at[e_arc]
    e_bin = np.searchsorted(offsets_us, relative, side="right")  # 0 before the first lead
    e_period = np.clip(np.searchsorted(edges, e_at, side="right") - 1, 0, n_periods - 1)
    e_cell = (e_arc * n_bins + e_bin) * n_periods + e_period
    position = np.minimum(np.searchsorted(cell, e_cell), max(len(cell) - 1, 0))
    if len(e_cell) and not np.array_equal(cell[position], e_cell):
        raise AssertionError("an event fell outside every exposure piece of its arc")  # a bug, not bad input
    y = np.bincount(position, weights=events["count"].to_numpy(dtype=np.float64)[usable], minlength=len(arc))
    return pd.DataFrame(
        {
            "arc": arc,
            "a": frame["a_id"].cat.codes.to_numpy().astype(np.int64)[arc],
            "b": frame["b_id"].cat.codes.to_numpy().astype(np.int64)[arc],
            "bin": bin_of,
            "period": period,
            "exposure_days": exposure,
            "y": y,
        }
    )


@dataclass
class TimingResult:
    """The event study's estimates and its verdict (see the module docstring).

    ``bins`` has one row per lead and lag window: rate ratio against the reference with 95% and
    90% two-way intervals, exposure and events among pairs seen both before and after their
    follow-back. ``after`` is the exposure-weighted average of the lag windows' log ratios.
    ``verdict`` is one of :data:`VERDICTS`; ``reason`` says it in a sentence.
    """

    bins: pd.DataFrame
    after: Estimate | None
    pretrend_chi2: float
    pretrend_df: int
    pretrend_p: float
    lead_weeks: int
    margin: float
    n_periods: int
    switching_arcs: int  # arcs seen both before and after their follow-back
    reference_arcs: int  # of those, arcs seen one-way before the first lead
    comparison_arcs: int  # arcs that never change state: calendar trends only
    observations: int
    verdict: str
    reason: str
    notes: list[str] = field(default_factory=list)

    @property
    def mutual(self) -> Estimate | None:
        return self.after

    @property
    def supports_causal_reading(self) -> bool:
        return self.verdict == "supports"

    @property
    def verdict_words(self) -> str:
        return VERDICT_WORDS[self.verdict]

    @property
    def leads(self) -> pd.DataFrame:
        return self.bins[self.bins["kind"] == "lead"]


def _linear_combination(
    weights: np.ndarray, log_values: np.ndarray, covariances: dict[str, np.ndarray], degrees_of_freedom: float | None = None
) -> Estimate:
    """``weights @ log_values`` with its standard error per method; its two-way interval read from t(G* - 1) when given."""
    dof = {} if degrees_of_freedom is None else {"two_way": float(degrees_of_freedom)}
    return Estimate(
        "after",
        "rate ratio",
        float(weights @ log_values),
        {m: float(math.sqrt(max(weights @ c @ weights, 0.0))) for m, c in covariances.items()},
        dof,
    )


def _combination_degrees_of_freedom(fit, weights: np.ndarray, a: np.ndarray, b: np.ndarray) -> float | None:
    """G* - 1 of a combination of the first coefficients (the smaller side's), as for every clustered interval.

    The combination's influence per observation is its row of the inverse information times the
    observation's weighted regressors; see :func:`covariance.effective_clusters`.
    """
    if fit.design is None or fit.weights is None:
        return None
    row = weights @ fit.bread[: len(weights), :]
    influence = (fit.design @ row) * np.sqrt(fit.weights)
    sides = [effective_clusters(influence, groups) for groups in (a, b) if len(np.unique(groups)) > 1]
    return max(min(sides) - 1.0, 1.0) if sides else None


@timed_step("the timing design")
def timing_design(
    dataset: StudyDataset,
    dyads: DyadTable,
    kinds: tuple[str, ...] | list[str] = INTERACTION_KINDS,
    n_periods: int = 6,
    lead_weeks: int = DEFAULT_LEAD_WEEKS,
    margin: float = DEFAULT_MARGIN,
    comparison_ratio: float = 5.0,
    seed: int = 0,
    min_reference_pairs: int = MIN_REFERENCE_PAIRS,
) -> TimingResult:
    """The event study of a's engagement toward b around b's follow-back (see the module docstring).

    Pairs that never change state (never returned, or mutual from the start) carry only the
    calendar-period effects; at most ``comparison_ratio`` of them per switching pair are used,
    drawn at random with ``seed`` (sampling whole pairs independently of their engagement keeps
    the estimator consistent and bounds the work on millions of follows).
    """
    if not dyads.has_times or not dataset.coverage.follow_times:
        raise ValueError("the timing design needs follow times and engagement times")
    if n_periods < 1 or lead_weeks < 1 or not margin > 1:
        raise ValueError(f"n_periods and lead_weeks must be at least 1 and margin above 1, got {n_periods!r}, {lead_weeks!r}, {margin!r}")
    kinds = tuple(kinds)
    bins = event_bins(lead_weeks)
    frame = dyads.frame
    one_way, after = frame["one_way_days"].to_numpy(dtype=float), frame["mutual_days"].to_numpy(dtype=float)
    switching_rows = (one_way > 0) & (after > 0)
    others = np.flatnonzero(~switching_rows & (np.nan_to_num(one_way) + np.nan_to_num(after) > 0))
    wanted = int(comparison_ratio * switching_rows.sum())
    if len(others) > wanted:
        others = np.random.default_rng(seed).choice(others, wanted, replace=False)
    only = switching_rows.copy()
    only[others] = True
    edges = list(pd.date_range(dyads.window_start, dyads.window_end, periods=n_periods + 1))
    segments = event_time_segments(dataset, dyads, bins, edges, kinds, only)
    switching = np.isin(segments["arc"].to_numpy(), np.flatnonzero(switching_rows))
    per_arc_bins = segments[switching].groupby("arc")["bin"].agg(["min", "max"])
    n_switching = len(per_arc_bins)
    n_reference = int((per_arc_bins["min"] == 0).sum())
    n_comparison = int(segments.loc[~switching, "arc"].nunique())
    in_switching = segments[switching]
    bins = bins.assign(
        exposure_days=np.bincount(in_switching["bin"], weights=in_switching["exposure_days"], minlength=len(bins) + 1)[1:],
        events=np.bincount(in_switching["bin"], weights=in_switching["y"], minlength=len(bins) + 1)[1:],
        pairs=np.bincount(in_switching.drop_duplicates(["arc", "bin"])["bin"], minlength=len(bins) + 1)[1:],
    )
    base = dict(
        lead_weeks=lead_weeks,
        margin=margin,
        n_periods=n_periods,
        switching_arcs=n_switching,
        reference_arcs=n_reference,
        comparison_arcs=n_comparison,
        observations=len(segments),
    )
    if n_reference < min_reference_pairs:
        counted = f"Only {n_reference:,} pairs were" if n_reference else "No pair was"
        reason = (
            f"{counted} followed more than {lead_weeks} weeks before the follow-back (at least "
            f"{min_reference_pairs} are needed): the weeks before a follow-back cannot be compared with an earlier "
            "baseline, so the timing design is inconclusive."
        )
        bins = bins.assign(**{column: math.nan for column in ("ratio", "ci_low", "ci_high", "ci90_low", "ci90_high")})
        return TimingResult(bins, None, math.nan, 0, math.nan, verdict="too few pairs", reason=reason, **base)
    # Bins nobody was exposed in cannot be estimated; they are reported as such.
    estimable = bins["exposure_days"].to_numpy() > 0
    columns = np.flatnonzero(estimable)
    X = (segments["bin"].to_numpy()[:, None] == (columns + 1)[None, :]).astype(float)
    fit = fit_count_regression(
        segments["y"].to_numpy(dtype=float),
        X,
        np.log(segments["exposure_days"].to_numpy()),
        [segments["arc"].to_numpy(), segments["period"].to_numpy()],
    )
    kept = fit.kept
    covariances = robust_covariances(
        fit.scores,
        fit.bread,
        segments["a"].to_numpy()[kept],
        segments["b"].to_numpy()[kept],
        pairs=segments["arc"].to_numpy()[kept],
        terms=len(columns),
    )
    two_way = covariances.matrices[HEADLINE_COVARIANCE]
    model_based = covariances.matrices["model"]
    log_ratio = np.full(len(bins), np.nan)
    se = np.full(len(bins), np.nan)
    log_ratio[columns] = fit.params[: len(columns)]
    # Each week rests on few events, and cluster-robust variances are biased down in sparse cells
    # (two-way intervals of the leads covered 92% and the pre-trend test rejected a true null 11% of
    # the time in 300-account networks): leads and the pre-trend test use the larger of the
    # model-based and two-way variances (Angrist and Pischke 2009, section 8.2.3).
    se[columns] = np.sqrt(np.maximum(np.maximum(np.diag(two_way), np.diag(model_based)), 0.0))
    bins = bins.assign(
        ratio=np.exp(log_ratio),
        ci_low=np.exp(log_ratio - Z_95 * se),
        ci_high=np.exp(log_ratio + Z_95 * se),
        ci90_low=np.exp(log_ratio - Z_90 * se),
        ci90_high=np.exp(log_ratio + Z_90 * se),
    )
    # The after-effect: lag windows weighted by the switching pairs' exposure in them.
    lag_positions = [i for i, c in enumerate(columns) if bins["kind"].iloc[c] == "lag"]
    lag_exposure = bins["exposure_days"].to_numpy()[columns[lag_positions]]
    weights = np.zeros(len(columns))
    weights[lag_positions] = lag_exposure / lag_exposure.sum()
    after_estimate = _linear_combination(
        weights,
        fit.params[: len(columns)],
        covariances.matrices,
        _combination_degrees_of_freedom(fit, weights, segments["a"].to_numpy()[kept], segments["b"].to_numpy()[kept]),
    )
    # Joint pre-trend test: the leads' average level and linear trend, both zero (2 degrees of
    # freedom). A Wald test of all eight leads at once uses the inverse of a noisy 8 x 8
    # cluster-robust covariance and rejected a true null in about 60% of 300-account networks;
    # level and trend carry the pre-trends that matter with a well-behaved 2 x 2 one.
    lead_positions = [i for i, c in enumerate(columns) if bins["kind"].iloc[c] == "lead"]
    weeks = -bins["start_day"].to_numpy()[columns[lead_positions]] / 7
    contrasts = np.zeros((2, len(columns)))
    if len(lead_positions):
        contrasts[0, lead_positions] = 1 / len(lead_positions)
        centred = weeks - weeks.mean()
        contrasts[1, lead_positions] = centred / max(float(centred @ centred), 1e-12) if len(lead_positions) > 1 else 0.0
    contrasts = contrasts[np.abs(contrasts).sum(axis=1) > 0]
    tested = contrasts @ fit.params[: len(columns)]
    chi2, rank, p = math.nan, 0, math.nan
    for covariance in (two_way, model_based):  # the less significant of the two, as for the intervals
        block = contrasts @ covariance @ contrasts.T
        method_rank = int(np.linalg.matrix_rank(block)) if len(contrasts) else 0
        if method_rank:
            method_chi2 = float(tested @ np.linalg.pinv(block) @ tested)
            if not method_chi2 >= chi2:
                chi2, rank, p = method_chi2, method_rank, float(stats.chi2.sf(method_chi2, method_rank))
    notes = []
    if not fit.converged:
        notes.append(f"The event-study fit stopped after {fit.iterations} iterations without meeting its tolerance.")
    missing = bins.loc[~estimable, "bin"].tolist()
    if missing:
        notes.append("No pair was observed in: " + ", ".join(missing) + ".")
    verdict, reason = _verdict(bins, after_estimate, p, margin, lead_weeks)
    return TimingResult(bins, after_estimate, chi2, rank, p, verdict=verdict, reason=reason, notes=notes, **base)


def _ratio_words(value: float, low: float, high: float) -> str:
    return f"{value:.2f} (95% interval {low:.2f} to {high:.2f})"


def _verdict(bins: pd.DataFrame, after: Estimate, pretrend_p: float, margin: float, lead_weeks: int) -> tuple[str, str]:
    leads = bins[bins["kind"] == "lead"]
    after_low, after_high = after.interval()
    after_words = _ratio_words(after.value, after_low, after_high)
    # One test for "a pre-trend": flagging any of eight weekly intervals that excludes 1 would
    # flag a true null about half the time.
    if np.isfinite(pretrend_p) and pretrend_p < 0.05:
        worst = leads.assign(distance=lambda t: np.abs(np.log(t["ratio"]))).sort_values("distance").iloc[-1]
        direction = "higher" if worst["ratio"] > 1 else "lower"
        return "pre-trend", (
            f"Engagement was already changing before the follow-back (test of level and trend over the {len(leads)} weeks "
            f"before: {p_words(pretrend_p)}; furthest from the earlier level: {worst['bin']}, {direction}, "
            f"{_ratio_words(worst['ratio'], worst['ci_low'], worst['ci_high'])}): follow-backs may answer engagement rather "
            "than cause it, so the timing design makes no causal claim."
        )
    inside = (leads["ci90_low"] >= 1 / margin) & (leads["ci90_high"] <= margin)
    if leads["ratio"].isna().any() or not inside.all():
        widest = leads.assign(width=np.log(leads["ci90_high"]) - np.log(leads["ci90_low"])).sort_values("width").iloc[-1]
        return "inconclusive", (
            f"The {lead_weeks} weeks before the follow-back are measured too imprecisely to rule out a change by more than "
            f"a factor {margin:g} before it ({widest['bin']}: 90% interval {widest['ci90_low']:.2f} to {widest['ci90_high']:.2f}), "
            f"so the timing design is inconclusive; after the follow-back the ratio is {after_words}."
        )
    if after_low <= 1 <= after_high:
        return "no change", (
            f"In each of the {lead_weeks} weeks before the follow-back engagement stayed within a factor {margin:g} of its "
            f"earlier level, and the change after it, {after_words}, cannot be told apart from none: these data cannot show an effect "
            "of the follow-back, which is not the same as showing there is none."
        )
    direction = "rose" if after.value > 1 else "fell"
    return "supports", (
        f"Within the same pairs, engagement {direction} by a factor {after_words} after the follow-back, and in each of the "
        f"{lead_weeks} weeks before it stayed within a factor {margin:g} of its earlier level (equivalence test at 5%): this "
        f"timing is what an effect of the follow-back would produce. It cannot rule out a rise that began more than "
        f"{lead_weeks} weeks earlier, or something else that changed exactly at the follow-back."
    )


__all__ = ["COVARIANCE_METHODS", "TimingResult", "event_bins", "event_time_segments", "timing_design", "VERDICTS", "VERDICT_WORDS"]
