"""Checks beside the intervals: a permutation test and an out-of-time predictive comparison."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from ..dyads import DyadTable
from ..model import INTERACTION_KINDS, StudyDataset
from ..segments import engagement_segments
from ..stopwatch import timed_step
from .estimators import NotEstimable, fit_count_regression
from .models import ModelFrame

# ---------------------------------------------------------------------------------------------
# Permutation check


@dataclass
class PermutationResult:
    """A permutation test of the mutual effect that keeps every account's ties as they are.

    Under the null hypothesis that b's follow-back does not change a's engagement, which of b's
    followers b followed back is exchangeable (given both accounts' fixed effects). Each
    permutation reshuffles mutual status among b's followers, keeping how many b followed back;
    the statistic is the score of the mutual term in the fixed-effects Poisson model fitted
    without it, sum of mutual x (observed - expected engagement). ``p_value`` counts
    permutations at least as extreme (two-sided); ``p_normal`` uses the exact mean (0) and
    variance of the permutation distribution with a normal shape, which is what very large
    data fall back on when ``n_permutations`` was capped (``capped``).
    """

    statistic: float
    z: float
    p_value: float
    p_normal: float
    n_permutations: int
    observations: int
    capped: bool = False


@timed_step("the permutation check")
def permutation_test(
    frame: ModelFrame, n_permutations: int = 999, seed: int = 0, direction: str = "ab", max_work: float = 1e8
) -> PermutationResult:
    """Within-followee permutation test of ``mutual`` (two-sided), on an ``arcs`` model frame.

    Only followees with both returned and unreturned followers can change the statistic, so
    only their rows are permuted. ``max_work`` caps permutations x permuted rows (each
    permutation is one sort); the p-value then rests on fewer permutations, and ``capped`` says so.
    """
    if frame.design != "arcs":
        raise ValueError("the permutation test reshuffles follow-backs between arcs: give it the arcs model frame")
    if n_permutations < 1:
        raise ValueError(f"n_permutations must be at least 1, got {n_permutations!r}")
    data = frame.data
    y = data[f"y_{direction}"].to_numpy(dtype=float)
    usable = np.isfinite(y)
    y, mutual = y[usable], data["mutual"].to_numpy(dtype=float)[usable]
    a, b = data["a"].to_numpy()[usable], data["b"].to_numpy()[usable]
    offset = np.log(data["exposure_days"].to_numpy(dtype=float)[usable])
    null = fit_count_regression(y, np.empty((len(y), 0)), offset, [a, b])
    residual = y[null.kept] - null.fitted
    mutual, followee = mutual[null.kept], pd.factorize(b[null.kept])[0]
    observed = float(mutual @ residual)
    # Exact permutation variance (sampling without replacement within each followee).
    size = np.bincount(followee).astype(float)
    returned = np.bincount(followee, weights=mutual)
    centred = residual - (np.bincount(followee, weights=residual) / size)[followee]
    spread = np.bincount(followee, weights=centred**2)
    with np.errstate(invalid="ignore", divide="ignore"):
        variance = float(np.where(size > 1, returned * (size - returned) / (size * (size - 1)) * spread, 0.0).sum())
    z = observed / math.sqrt(variance) if variance > 0 else float("nan")
    p_normal = float(2 * stats.norm.sf(abs(z))) if variance > 0 else 1.0
    # Followees whose followers are all returned or all not contribute a constant.
    varying = (returned > 0) & (returned < size)
    rows = np.flatnonzero(varying[followee])
    constant = float(mutual[~varying[followee]] @ residual[~varying[followee]])
    affordable = max(1, int(max_work // max(len(rows), 1)))
    used = min(n_permutations, affordable)
    order = rows[np.argsort(followee[rows], kind="stable")]
    sorted_followee, sorted_mutual, sorted_residual = followee[order].astype(float), mutual[order], residual[order]
    rng = np.random.default_rng(seed)
    extreme = done = 0
    chunk = max(1, min(64, int(2e7 // max(len(order), 1))))
    while done < used:
        batch = min(chunk, used - done)
        # Within-followee shuffles: sort by followee plus uniform noise.
        keys = sorted_followee[None, :] + rng.random((batch, len(order)))
        shuffled = sorted_mutual[np.argsort(keys, axis=1)]
        statistics = constant + shuffled @ sorted_residual
        extreme += int((np.abs(statistics) >= abs(observed) - 1e-12 * max(1.0, abs(observed))).sum())
        done += batch
    return PermutationResult(observed, z, (1 + extreme) / (1 + used), p_normal, used, int(len(residual)), used < n_permutations)


# ---------------------------------------------------------------------------------------------
# Predictive view


def weighted_auc(scores: np.ndarray, labels: np.ndarray, weights: np.ndarray | None = None) -> float:
    """Area under the ROC curve with observation weights, ties counted half (as scikit-learn)."""
    level, position = np.unique(np.asarray(scores, dtype=float), return_inverse=True)
    labels = np.asarray(labels, dtype=bool)
    weights = np.ones(len(position)) if weights is None else np.asarray(weights, dtype=float)
    return _auc_by_level(position, len(level), labels, weights)


def _auc_by_level(position: np.ndarray, levels: int, labels: np.ndarray, weights: np.ndarray) -> float:
    """AUC from each observation's rank level: positives above negatives, ties counted half."""
    both = np.bincount(position * 2 + labels, weights=weights, minlength=2 * levels).reshape(levels, 2)
    negative, positive = both[:, 0], both[:, 1]
    below = np.cumsum(negative) - negative
    total = positive.sum() * negative.sum()
    return float((positive * (below + 0.5 * negative)).sum() / total) if total > 0 else float("nan")


@dataclass
class PredictiveResult:
    """Out-of-time AUCs: features known at a cut-off, engagement in the window after it."""

    table: pd.DataFrame  # predictor, auc, ci_low, ci_high
    train_window: tuple[pd.Timestamp, pd.Timestamp]
    test_window: tuple[pd.Timestamp, pd.Timestamp]
    test_arcs: int
    test_share_engaged: float


@timed_step("the out-of-time prediction")
def out_of_time_auc(
    dataset: StudyDataset,
    dyads: DyadTable,
    kinds: tuple[str, ...] | list[str] = INTERACTION_KINDS,
    n_bootstrap: int = 200,
    seed: int = 0,
) -> PredictiveResult:
    """How well mutual status, b's follower count, and both with past engagement predict engagement next.

    The data's time span is cut in thirds. The combined logistic model is trained on features
    known at the end of the first third and engagement during the second; every predictor is
    then evaluated on features known at the end of the second third and engagement (any event
    of a toward b) during the last. Intervals: two-way "pigeonhole" bootstrap (Owen 2007), which
    resamples followers and followees independently, so dependence through either account is
    kept.
    """
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import roc_auc_score

    if not dyads.has_times or not dataset.coverage.follow_times:
        raise ValueError("the out-of-time comparison needs follow times and engagement times")
    start, end = dyads.window_start, dyads.window_end
    edges = list(pd.date_range(start, end, periods=4))
    segments, _ = engagement_segments(dataset, dyads, period_edges=edges)
    kinds = tuple(kinds)
    events = (
        segments.assign(y=segments[[f"ab_{k}" for k in kinds]].sum(axis=1))
        .pivot_table(index="arc", columns="period", values="y", aggfunc="sum", fill_value=0)
        .reindex(columns=range(3), fill_value=0)
    )
    frame = dyads.frame
    followed = frame["followed_at"]
    since = frame["mutual_since"]
    b_codes = frame["b_id"].cat.codes.to_numpy()

    def features(cut: pd.Timestamp, period_before: list[int], period_after: int) -> pd.DataFrame:
        alive = (followed.isna() | (followed < cut)).to_numpy()
        arcs = np.flatnonzero(alive & np.isin(np.arange(len(frame)), events.index))
        followers_at_cut = np.bincount(b_codes[alive], minlength=len(frame["b_id"].cat.categories))
        past = events.reindex(arcs)[period_before].sum(axis=1).to_numpy()
        return pd.DataFrame(
            {
                "arc": arcs,
                "mutual": (since.notna() & (since < cut)).to_numpy()[arcs].astype(float),
                "log_b_followers": np.log1p(followers_at_cut[b_codes[arcs]]),
                "engaged_before": (past > 0).astype(float),
                "engaged_after": events.reindex(arcs)[period_after].to_numpy() > 0,
            }
        )

    train = features(edges[1], [0], 1)
    test = features(edges[2], [0, 1], 2)
    if test["engaged_after"].nunique() < 2 or train["engaged_after"].nunique() < 2:
        raise NotEstimable("the out-of-time comparison needs arcs with and without engagement in both windows, and these data have too few")
    combined = ["mutual", "log_b_followers", "engaged_before"]
    model = LogisticRegression(C=1e6, max_iter=1000).fit(train[combined], train["engaged_after"])
    predictors = {
        "mutual status": test["mutual"].to_numpy(),
        "b's follower count": test["log_b_followers"].to_numpy(),
        "a engaged with b before": test["engaged_before"].to_numpy(),
        "all three (logistic, trained a window earlier)": model.predict_proba(test[combined])[:, 1],
    }
    labels = test["engaged_after"].to_numpy()
    a = frame["a_id"].cat.codes.to_numpy()[test["arc"]]
    b = b_codes[test["arc"]]
    rng = np.random.default_rng(seed)
    n_a, n_b = int(a.max()) + 1, int(b.max()) + 1
    ranks = {name: np.unique(score, return_inverse=True) for name, score in predictors.items()}
    draws = {name: [] for name in predictors}
    for _ in range(n_bootstrap):
        weights = (rng.poisson(1.0, n_a)[a] * rng.poisson(1.0, n_b)[b]).astype(float)
        for name, (level, position) in ranks.items():
            draws[name].append(_auc_by_level(position, len(level), labels, weights))
    rows = []
    for name, score in predictors.items():
        low, high = np.nanpercentile(draws[name], [2.5, 97.5]) if n_bootstrap else (np.nan, np.nan)
        rows.append({"predictor": name, "auc": float(roc_auc_score(labels, score)), "ci_low": float(low), "ci_high": float(high)})
    return PredictiveResult(pd.DataFrame(rows), (edges[1], edges[2]), (edges[2], edges[3]), int(len(test)), float(labels.mean()))
