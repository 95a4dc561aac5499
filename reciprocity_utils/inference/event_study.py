"""Engagement before and after the follow-back within the same pairs."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..dyads import DyadTable, SEGMENT_STATES, engagement_segments
from ..model import INTERACTION_KINDS, StudyDataset
from .covariance import robust_covariances
from .estimators import fit_count_regression
from .models import Estimate, ModelFit, ModelSpec


# ---------------------------------------------------------------------------------------------
# Within-pair timing design


@dataclass
class TimingResult:
    """Engagement before and after the follow-back within the same arcs, against arcs never returned.

    ``mutual`` compares the mutual state with the one-way state more than ``lead_days`` before the
    follow-back; ``lead`` compares the last ``lead_days`` before the follow-back with that same
    earlier one-way state: a lead ratio above 1 means engagement was already rising before b
    followed back (b may have followed back *because* a engaged), a pre-trend that undercuts a
    causal reading. Arc fixed effects hold everything constant about the pair; calendar-period
    fixed effects, identified also from arcs never returned, absorb trends common to all pairs.
    """

    fit: ModelFit
    lead_days: float
    n_periods: int
    switching_arcs: int  # arcs seen both before and after their follow-back
    comparison_arcs: int  # arcs that never change state (never returned, or mutual from the start): calendar trends
    left_out: dict[str, int]

    @property
    def mutual(self) -> Estimate:
        return self.fit.estimates["mutual"]

    @property
    def lead(self) -> Estimate:
        return self.fit.estimates["lead"]

    @property
    def supports_causal_reading(self) -> bool:
        """Effect distinguishable from 1 after the follow-back and no rise in the lead window."""
        after_low, after_high = self.mutual.interval()
        lead_low, lead_high = self.lead.interval()
        return (after_low > 1 or after_high < 1) and lead_low <= 1 <= lead_high


def timing_design(
    dataset: StudyDataset,
    dyads: DyadTable,
    kinds: tuple[str, ...] | list[str] = INTERACTION_KINDS,
    n_periods: int = 6,
    lead_days: float = 7.0,
    comparison_ratio: float = 5.0,
    seed: int = 0,
) -> TimingResult:
    """Poisson model with arc and calendar-period fixed effects of engagement by state (see :class:`TimingResult`).

    Pairs seen both before and after their follow-back carry the comparison; pairs that never
    change state (never returned, or mutual from the start) carry only the calendar-period
    effects. At most ``comparison_ratio`` of the latter per switching pair are used, drawn at
    random with ``seed`` (all of them in data of ordinary size): sampling whole pairs
    independently of their engagement keeps the estimator consistent and bounds the work on
    millions of follows.
    """
    if not dyads.has_times or not dataset.coverage.follow_times:
        raise ValueError("the timing design needs follow times and engagement times")
    if n_periods < 1 or lead_days <= 0:
        raise ValueError(f"n_periods must be at least 1 and lead_days above 0, got {n_periods!r} and {lead_days!r}")
    edges = list(pd.date_range(dyads.window_start, dyads.window_end, periods=n_periods + 1))
    frame = dyads.frame
    one_way, after = frame["one_way_days"].to_numpy(dtype=float), frame["mutual_days"].to_numpy(dtype=float)
    switching_rows = (one_way > 0) & (after > 0)
    others = np.flatnonzero(~switching_rows & (np.nan_to_num(one_way) + np.nan_to_num(after) > 0))
    wanted = int(comparison_ratio * switching_rows.sum())
    if len(others) > wanted:
        others = np.random.default_rng(seed).choice(others, wanted, replace=False)
    only = switching_rows.copy()
    only[others] = True
    segments, left_out = engagement_segments(dataset, dyads, period_edges=edges, lead_days=lead_days, only=only)
    kinds = tuple(kinds)
    y = segments[[f"ab_{k}" for k in kinds]].sum(axis=1).to_numpy(dtype=float)
    state = segments["state"].cat.codes.to_numpy()
    X = np.column_stack([(state == SEGMENT_STATES.index("mutual")).astype(float), (state == SEGMENT_STATES.index("lead")).astype(float)])
    arc = segments["arc"].to_numpy()
    per_arc = pd.DataFrame({"arc": arc, "state": state}).groupby("arc")["state"].agg(["min", "max"])
    switching = int(((per_arc["min"] < 2) & (per_arc["max"] == 2)).sum())
    never = int((per_arc["min"] == per_arc["max"]).sum())
    if switching == 0 or X[:, 1].sum() == 0:
        raise ValueError("no arc is observed both before and after its follow-back: the timing design has nothing to compare")
    fit = fit_count_regression(y, X, np.log(segments["exposure_days"].to_numpy(dtype=float)), [arc, segments["period"].to_numpy()])
    a = segments["a_id"].cat.codes.to_numpy().astype(np.int64)[fit.kept]
    b = segments["b_id"].cat.codes.to_numpy().astype(np.int64)[fit.kept]
    covariances = robust_covariances(fit.scores, fit.bread, a, b, pairs=arc[fit.kept], terms=2)
    estimates = {
        name: Estimate(name, "rate ratio", float(fit.params[i]), {m: float(math.sqrt(max(c[i, i], 0.0))) for m, c in covariances.matrices.items()})
        for i, name in enumerate(("mutual", "lead"))
    }
    spec = ModelSpec("within-pair timing (arc and period fixed effects)")
    dropped = {"no engagement in the arc": fit.dropped_all_zero, "single segment": fit.dropped_singletons}
    model = ModelFit(spec, estimates, covariances.matrices, int(fit.kept.sum()), covariances.n_clusters_a, covariances.n_clusters_b, dropped, "segments", [])
    return TimingResult(model, lead_days, n_periods, switching, never, left_out)


