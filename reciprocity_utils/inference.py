"""Models of engagement on follow arcs, with intervals that respect the dependence between dyads.

Study 03 asks: given that a follows b, is a's engagement toward b higher once b follows back? Two
facts shape every estimate here.

Confounding. Accounts that follow back are not a random draw: active people follow back more and
also post more, so they receive more engagement whether or not they follow back. Raw comparisons
therefore overstate the mutual effect. Controls measured in the data (follower and followee
counts, engagement sent and received *excluding the pair itself*) remove part of it; the
**adjusted estimator** goes further and gives every follower a and every followee b its own fixed
effect, which absorbs each account's activity, popularity and anything else constant about it,
observed or not. It is a Poisson (pseudo-)maximum-likelihood model with two-way fixed effects
(Santos Silva and Tenreyro 2006; with fixed effects on both sides of a network the Poisson
estimator is consistent and carries no incidental-parameter bias for these designs: Fernández-Val
and Weidner 2016, Weidner and Zylkin 2021). When follow and event times are known, each arc's
exposure is split at the follow-back, so the model compares the mutual and one-way *states*, each
with its own exposure; otherwise it compares arcs mutual at the end of the data with arcs that
are not, with equal or total exposure.

Dependence. Dyads sharing an account are not independent (Aronow, Samii and Assenova 2015), so
ordinary standard errors are too small. Every model here reports, for each coefficient,
the model-based (ordinary) interval, a heteroskedasticity-robust one, one-way clustered ones on a
and on b, the **two-way cluster-robust** interval on both accounts (Cameron, Gelbach and Miller
2011: ``V_a + V_b - V_ab``, the formula and small-sample factor of statsmodels'
``cov_cluster_2groups``, checked against it in the tests; negative eigenvalues are set to zero
and counted), and the dyadic-robust one (every pair of dyads sharing an account may covary,
including a as sender in one and receiver in another). Headline intervals are two-way.

Fitting. Models without fixed effects come from statsmodels (logit, the negative binomial's
dispersion) or from :func:`fit_count_regression`, which also absorbs the fixed effects of
thousands of accounts without dummy columns (the ``ppmlhdfe`` method) and equals statsmodels'
GLM with dummy columns on data small enough for the latter (checked in the tests).

Checks beside the intervals: a permutation test that reshuffles which of b's followers b
followed back (:func:`permutation_test`), a within-pair timing design with a pre-trend check
(:func:`timing_design`), an out-of-time predictive comparison (:func:`out_of_time_auc`), and
:func:`validation_replication` / :func:`summarise_validation`, which run the whole estimator on
generated networks with a planted ratio and measure bias, interval coverage and test size.
"""

from __future__ import annotations

import math
import warnings
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd
import statsmodels.api as sm
from scipy import special, stats

from .dyads import DyadTable, SEGMENT_STATES, build_dyads, engagement_segments
from .model import INTERACTION_KINDS, StudyDataset

__all__ = [
    "ACTIVITY_CONTROLS",
    "ADJUSTED_LABEL",
    "COVARIANCE_LABELS",
    "COVARIANCE_METHODS",
    "CountRegression",
    "DEGREE_CONTROLS",
    "Estimate",
    "ModelFit",
    "ModelFrame",
    "ModelSpec",
    "NOTEBOOK_VALIDATION_SCENARIOS",
    "RAW_LABEL",
    "StudyData",
    "VALIDATION_SCENARIOS",
    "check_study_parameters",
    "covariance_comparison",
    "ego_comparison",
    "fit_all",
    "fit_count_regression",
    "fit_model",
    "fit_notes",
    "fits_table",
    "heterogeneous_effects",
    "model_frame",
    "moderated_effect",
    "other_direction_specs",
    "out_of_time_auc",
    "permutation_test",
    "plain_conclusion",
    "planted_truth",
    "prepare_study",
    "raw_by_kind",
    "raw_comparison",
    "robust_covariances",
    "robustness_table",
    "run_validation",
    "standard_specs",
    "summarise_validation",
    "timing_design",
    "validation_replication",
    "weighted_auc",
]

Z_95 = stats.norm.ppf(0.975)
# Covariance estimators, from least to most dependence allowed for.
COVARIANCE_METHODS = ("model", "robust", "cluster_a", "cluster_b", "two_way", "dyadic")
COVARIANCE_LABELS = {
    "model": "ordinary (model-based)",
    "robust": "robust, independent dyads",
    "cluster_a": "clustered on a",
    "cluster_b": "clustered on b",
    "two_way": "two-way clustered on a and b",
    "dyadic": "dyadic-robust",
}
HEADLINE_COVARIANCE = "two_way"
DEGREE_CONTROLS = ("a_followers_excl_b", "a_following_excl_b", "b_followers_excl_a", "b_following_excl_a")
ACTIVITY_CONTROLS = ("a_sent_excl_b", "a_received_excl_b", "b_sent_excl_a", "b_received_excl_a")


# ---------------------------------------------------------------------------------------------
# Dependence-robust covariances


@dataclass
class Covariances:
    """Covariance matrices of one fit by method, with what had to be repaired."""

    matrices: dict[str, np.ndarray]
    clipped_eigenvalues: dict[str, int] = field(default_factory=dict)
    n_clusters_a: int = 0
    n_clusters_b: int = 0


def _positive_semidefinite(matrix: np.ndarray) -> tuple[np.ndarray, int]:
    """Set negative eigenvalues to zero (Cameron, Gelbach and Miller 2011, section 2.3); count them."""
    if not np.isfinite(matrix).all():
        return matrix, 0
    symmetric = (matrix + matrix.T) / 2
    values, vectors = np.linalg.eigh(symmetric)
    negative = int((values < -1e-12 * max(1.0, float(np.abs(values).max(initial=0.0)))).sum())
    if not negative:
        return symmetric, 0
    return (vectors * np.clip(values, 0, None)) @ vectors.T, negative


def _dense_codes(groups: np.ndarray) -> tuple[np.ndarray, int]:
    """Groups as codes 0..m-1 usable by bincount (account and arc codes already are), and m."""
    groups = np.asarray(groups)
    if groups.dtype.kind in "iu" and len(groups) and groups.min() >= 0 and groups.max() < 4 * len(groups) + 1024:
        return groups, int(groups.max()) + 1
    codes, uniques = pd.factorize(groups)
    return codes, len(uniques)


def _cluster_meat(scores: np.ndarray, groups: np.ndarray) -> tuple[np.ndarray, int]:
    """Sum over clusters of (cluster score sum)(cluster score sum)', and the number of clusters."""
    codes, size = _dense_codes(groups)
    sums = np.column_stack([np.bincount(codes, weights=scores[:, j], minlength=size) for j in range(scores.shape[1])])
    count = int((np.bincount(codes, minlength=size) > 0).sum())
    return sums.T @ sums, count


def _clustered(scores: np.ndarray, bread: np.ndarray, groups: np.ndarray, k: int | None = None) -> np.ndarray:
    """One-way cluster-robust covariance with statsmodels' small-sample factor G/(G-1) (n-1)/(n-k).

    ``k`` is the number of coefficients of the model (default: the columns of ``scores``).
    """
    n = scores.shape[0]
    k = scores.shape[1] if k is None else k
    meat, count = _cluster_meat(scores, groups)
    if count < 2:
        return np.full_like(bread, np.nan)
    return count / (count - 1) * (n - 1) / max(n - k, 1) * bread @ meat @ bread


def robust_covariances(
    scores: np.ndarray,
    bread: np.ndarray,
    a: np.ndarray,
    b: np.ndarray,
    pairs: np.ndarray | None = None,
    methods: tuple[str, ...] = COVARIANCE_METHODS,
    terms: int | None = None,
) -> Covariances:
    """Every covariance of :data:`COVARIANCE_METHODS` from per-observation scores and the inverse information.

    ``scores`` is n x k (derivative of each observation's log-likelihood), ``bread`` the k x k
    inverse of the information matrix, ``a`` and ``b`` integer codes of the two accounts of each
    observation (several observations may belong to one arc). The formulas, small-sample factor
    G/(G-1) (n-1)/(n-k) included, are those of ``statsmodels.stats.sandwich_covariance``
    (``cov_cluster``, ``cov_cluster_2groups``: two-way = V_a + V_b - V_ab with V_ab clustered on
    the pair); they are computed here with ``numpy.bincount`` group sums, which keeps millions of
    observations fast, and the tests check them against statsmodels. With a single account on
    one side, clustering on that side is undefined (NaN) and the two-way matrix is the other side's.
    ``pairs`` (optional) are codes of the directed pair a -> b of each observation, e.g. the arc;
    ``methods`` limits the work to the covariances needed; ``terms`` limits the result to the
    first coefficients, which then needs only their rows of the bread: the sandwich of those
    coefficients is the same computed from the scores projected on those rows (one or two
    columns instead of every control's).
    """
    scores = np.asarray(scores, dtype=float)
    n, k = scores.shape
    if terms is not None and terms < k:
        rows = bread[:terms, :]
        scores = scores @ rows.T  # each observation's influence on the chosen coefficients
        bread = bread[:terms, :terms]
        projected = np.eye(terms)
    else:
        projected = bread
    matrices = {"model": bread.copy()}
    bread = projected
    a = np.asarray(a, dtype=np.int64)
    b = np.asarray(b, dtype=np.int64)
    clipped = {}
    if "robust" in methods:
        matrices["robust"] = n / max(n - k, 1) * bread @ (scores.T @ scores) @ bread
    n_a = int((np.bincount(_dense_codes(a)[0]) > 0).sum()) if n else 0
    n_b = int((np.bincount(_dense_codes(b)[0]) > 0).sum()) if n else 0
    if {"cluster_a", "two_way"} & set(methods):
        matrices["cluster_a"] = _clustered(scores, bread, a, k)
    if {"cluster_b", "two_way"} & set(methods):
        matrices["cluster_b"] = _clustered(scores, bread, b, k)
    if "two_way" in methods:
        if n_a > 1 and n_b > 1:
            pair = a * (int(b.max()) + 1) + b if pairs is None else pairs
            two_way = matrices["cluster_a"] + matrices["cluster_b"] - _clustered(scores, bread, pair, k)
        else:
            # One account on a side (a personal export has one sender): dependence can only run
            # through the other side.
            two_way = matrices["cluster_b"] if n_a == 1 else matrices["cluster_a"]
        matrices["two_way"], clipped["two_way"] = _positive_semidefinite(two_way)
    if "dyadic" in methods:
        matrices["dyadic"], clipped["dyadic"] = _positive_semidefinite(_dyadic_covariance(scores, bread, a, b, k))
    return Covariances(matrices, clipped, n_a, n_b)


def _dyadic_covariance(scores: np.ndarray, bread: np.ndarray, a: np.ndarray, b: np.ndarray, k: int | None = None) -> np.ndarray:
    """Dyadic-robust sandwich (Aronow, Samii and Assenova 2015; Fafchamps and Gubert 2007).

    The meat sums s_i s_j' over every pair of observations sharing at least one account, whichever
    end: sum over accounts k of S_k S_k' (S_k: scores of observations involving k) counts pairs
    sharing two accounts (the same unordered pair) twice, so sum over unordered pairs P of
    S_P S_P' is subtracted once.
    """
    n, width = scores.shape
    k = width if k is None else k
    accounts = int(max(a.max(initial=-1), b.max(initial=-1))) + 1
    by_account = np.zeros((accounts, width))
    for column in range(width):  # loop over coefficients, not observations
        by_account[:, column] = np.bincount(a, scores[:, column], accounts) + np.bincount(b, scores[:, column], accounts)
    pair, _ = pd.factorize(np.minimum(a, b) * accounts + np.maximum(a, b))
    by_pair = np.zeros((int(pair.max(initial=-1)) + 1, width))
    for column in range(width):
        by_pair[:, column] = np.bincount(pair, scores[:, column], len(by_pair))
    meat = by_account.T @ by_account - by_pair.T @ by_pair
    groups = max(int((np.bincount(a, minlength=accounts) + np.bincount(b, minlength=accounts) > 0).sum()), 2)
    correction = groups / (groups - 1) * (n - 1) / max(n - k, 1)
    return correction * bread @ meat @ bread


# ---------------------------------------------------------------------------------------------
# Count regressions with fixed effects (Poisson, or negative binomial with a known dispersion)


@dataclass
class CountRegression:
    """A log-linear count regression with fixed effects absorbed: coefficients and what was dropped.

    ``params`` are the coefficients of the columns of ``X`` as given (then those of any
    fixed-effect indicator columns, then the intercept when no fixed effect carries it).
    ``kept`` marks the observations used: observations in a fixed-effect group whose outcome is
    zero throughout carry no information on the coefficients (their group effect would be minus
    infinity) and are dropped, as are groups of a single observation, repeatedly until none is
    left (as ``ppmlhdfe`` does). ``scores`` and ``bread`` (inverse information) feed
    :func:`robust_covariances`.
    """

    params: np.ndarray
    fitted: np.ndarray  # means for the kept observations
    kept: np.ndarray
    scores: np.ndarray
    bread: np.ndarray
    iterations: int
    converged: bool
    dropped_all_zero: int
    dropped_singletons: int


def _drop_uninformative(y: np.ndarray, groups: list[np.ndarray]) -> tuple[np.ndarray, int, int]:
    keep = np.ones(len(y), bool)
    all_zero = singletons = 0
    while groups:
        changed = False
        for codes in groups:
            size = np.bincount(codes[keep], minlength=int(codes.max(initial=-1)) + 1)
            total = np.bincount(codes[keep], weights=y[keep], minlength=len(size))
            zero_group = keep & (total[codes] <= 0)
            single = keep & ~zero_group & (size[codes] == 1)
            if zero_group.any() or single.any():
                all_zero += int(zero_group.sum())
                singletons += int(single.sum())
                keep &= ~(zero_group | single)
                changed = True
        if not changed:
            break
    return keep, all_zero, singletons


def _demean(columns: np.ndarray, weights: np.ndarray, groups: list[np.ndarray], tolerance: float, max_sweeps: int = 10_000, in_place: bool = False) -> np.ndarray:
    """Weighted residuals of ``columns`` on all fixed effects, by alternating projections.

    One set of fixed effects is projected out exactly in one sweep; with two or more the sweeps
    repeat until the largest correction is below ``tolerance`` (relative to each column's scale).
    ``in_place`` overwrites ``columns`` (a Fortran-ordered float array) instead of copying it.
    Columns are independent problems: each sweeps until it converges, two at a time in threads
    (numpy's gathers and arithmetic release the GIL).
    """
    result = columns if in_place else np.array(columns, dtype=float, order="F")
    if not groups or result.shape[1] == 0:
        return result
    group_weight = [np.bincount(g, weights=weights) for g in groups]
    inverse_weight = [np.where(total > 0, 1.0 / np.where(total > 0, total, 1.0), 0.0) for total in group_weight]
    total_weight = weights.sum()

    def demean_column(column: int) -> None:
        values = result[:, column]  # a view: updated in place
        scale = max(math.sqrt(float(np.dot(weights, values * values)) / total_weight), 1e-300)
        weighted = np.empty_like(values)
        for _ in range(max_sweeps):
            largest_step = 0.0
            for codes, inverse, total in zip(groups, inverse_weight, group_weight):
                np.multiply(weights, values, out=weighted)
                means = np.bincount(codes, weights=weighted, minlength=len(total))
                means *= inverse
                values -= means[codes]
                largest_step = max(largest_step, float(np.abs(means).max(initial=0.0)) / scale)
            if len(groups) == 1 or largest_step < tolerance:
                break

    if result.shape[1] == 1:
        demean_column(0)
    else:
        with ThreadPoolExecutor(max_workers=2) as pool:
            list(pool.map(demean_column, range(result.shape[1])))
    return result


def _fixed_effects_only_means(y: np.ndarray, offset: np.ndarray, groups: list[np.ndarray], sweeps: int = 10) -> np.ndarray:
    """Poisson means with the fixed effects alone, by iterative proportional fitting.

    Each sweep sets one set of effects to its closed-form maximum-likelihood value given the
    others (observed over expected engagement per group). A start this close to the solution
    saves the costlier full iterations.
    """
    mu = np.exp(offset)
    observed = [np.bincount(codes, weights=y) for codes in groups]
    for _ in range(sweeps):
        for codes, total in zip(groups, observed):
            expected = np.bincount(codes, weights=mu, minlength=len(total))
            mu *= (total / expected)[codes]
    return mu


def _deviance(y: np.ndarray, mu: np.ndarray, alpha: float) -> float:
    y_log_ratio = special.xlogy(y, y / mu)  # y log(y / mu), 0 where y is 0
    if alpha == 0:
        return float(2 * np.sum(y_log_ratio - (y - mu)))
    return float(2 * np.sum(y_log_ratio - (y + 1 / alpha) * np.log((1 + alpha * y) / (1 + alpha * mu))))


# Count models without absorbed fixed effects start from a fit on this many random rows.
WARM_START_ROWS = 100_000


def fit_count_regression(
    y: np.ndarray,
    X: np.ndarray,
    offset: np.ndarray,
    fixed_effects: list[np.ndarray] | tuple = (),
    alpha: float = 0.0,
    tolerance: float = 1e-9,
    max_iterations: int = 100,
    max_indicator_levels: int = 64,
) -> CountRegression:
    """Log-linear regression of counts ``y`` on ``X`` with offset and one effect per level of each code array.

    Poisson when ``alpha`` is 0, negative binomial (NB2, variance mu + alpha mu^2) with that
    dispersion otherwise. Iteratively reweighted least squares in which the working variable and
    ``X`` are weighted-demeaned on the fixed effects at every step (the method of ``ppmlhdfe``,
    Correia, Guimarães and Zylkin 2020), starting each step from the previous step's demeaned
    columns, so thousands of accounts need no dummy columns. Fixed effects with at most
    ``max_indicator_levels`` levels (calendar periods) enter as indicator columns instead. Without
    fixed effects an intercept is added. Results equal statsmodels' GLM with a dummy column for
    every fixed effect (checked in the tests). Scores and information use the regressors net of
    the fixed effects, as the cluster-robust sandwich of the coefficients needs. With fixed
    effects the iterations start from the fixed effects alone, fitted in closed-form sweeps.
    """
    y = np.asarray(y, dtype=float)
    X = np.asarray(X, dtype=float).reshape(len(y), -1)
    offset = np.asarray(offset, dtype=float)
    fixed_effects = [np.asarray(g) for g in fixed_effects]
    keep, all_zero, singletons = _drop_uninformative(y, fixed_effects)
    if not keep.any():
        raise ValueError("no observation carries information once fixed effects are absorbed (every group has zero engagement)")
    everything = bool(keep.all())
    y_k, offset_k = (y, offset) if everything else (y[keep], offset[keep])
    codes = [pd.factorize(g if everything else g[keep])[0] for g in fixed_effects]
    absorbed = [c for c in codes if c.max() + 1 > max_indicator_levels]
    indicators = [(c[:, None] == np.arange(1, c.max() + 1)[None, :]).astype(float) for c in codes if c.max() + 1 <= max_indicator_levels]
    constant = [] if absorbed else [np.ones((len(y_k), 1))]
    parts = [X if everything else X[keep], *indicators, *constant]
    design = parts[0] if len(parts) == 1 else np.asfortranarray(np.column_stack(parts))
    if absorbed:
        mu = _fixed_effects_only_means(y_k, offset_k, absorbed)
    elif len(y_k) > WARM_START_ROWS and X.shape[1] > 1 and not indicators:
        # Iterations with controls on millions of rows are costly: start them from the fit on a
        # random subset, which is close (the result is the full-data optimum either way). Not for a
        # lone regressor: there a step is cheap, and a subset whose one-way rows happen to have no
        # events would start the iterations far out.
        rows = np.sort(np.random.default_rng(0).choice(len(y_k), WARM_START_ROWS, replace=False))
        start = fit_count_regression(y_k[rows], design[rows, : X.shape[1]], offset_k[rows], alpha=alpha, tolerance=1e-6)
        mu = np.exp(np.clip(offset_k + design @ start.params, -700, 700))
    else:
        mu = np.exp(offset_k) * (y_k.sum() / np.exp(offset_k).sum())  # the intercept-only fit
    eta = np.log(mu)
    # Column 0 holds the working variable, the rest the regressors, demeaned in place each step.
    stacked = np.asfortranarray(np.column_stack([np.zeros(len(y_k)), design])) if absorbed else None
    X_tilde = stacked[:, 1:] if absorbed else design
    fixed_part = np.zeros(len(y_k))  # working variable minus its demeaned version, last step
    params = np.zeros(design.shape[1])
    deviance = np.inf
    converged = False
    iteration = 0
    # Early steps only need to point the right way: demean them loosely, tighten as they converge.
    inner_tolerance = 1e-4
    weighted = None
    for iteration in range(1, max_iterations + 1):
        weights = mu / (1 + alpha * mu)
        working = eta - offset_k + (y_k - mu) / mu
        if absorbed:
            # The residual of any column is unchanged by subtracting fixed-effect terms from it, so
            # last step's (nearly demeaned) columns are the cheapest place to start.
            stacked[:, 0] = working - fixed_part
            _demean(stacked, weights, absorbed, inner_tolerance, in_place=True)
            z_tilde = stacked[:, 0]
            fixed_part = working - z_tilde
        else:
            z_tilde = working
        if weighted is None:
            weighted = np.empty_like(X_tilde)
        # Into one buffer: a fresh n-by-k product per step costs more in page faults than in arithmetic.
        np.multiply(X_tilde, weights[:, None], out=weighted)
        params = np.linalg.solve(X_tilde.T @ weighted, weighted.T @ z_tilde)
        eta = offset_k + working - (z_tilde - X_tilde @ params)
        mu = np.exp(np.clip(eta, -700, 700))
        new_deviance = _deviance(y_k, mu, alpha)
        change = abs(new_deviance - deviance) / max(abs(new_deviance), 0.1)
        deviance = new_deviance
        if change < tolerance:
            converged = True
            break
        inner_tolerance = max(min(inner_tolerance, change / 10), tolerance / 10)
    weights = mu / (1 + alpha * mu)
    if absorbed:
        X_tilde = _demean(np.asfortranarray(X_tilde), weights, absorbed, tolerance / 10, in_place=True)
    if weighted is None or weighted.shape != X_tilde.shape:
        weighted = np.empty_like(X_tilde)
    np.multiply(X_tilde, weights[:, None], out=weighted)
    bread = np.linalg.inv(X_tilde.T @ weighted)
    scores = np.multiply(X_tilde, ((y_k - mu) / (1 + alpha * mu))[:, None], out=weighted)
    return CountRegression(params, mu, keep, scores, bread, iteration, converged, all_zero, singletons)


# ---------------------------------------------------------------------------------------------
# The data a model sees


@dataclass
class ModelFrame:
    """Observations for the models: one per follow arc, or one per arc and state when times allow.

    ``design`` is ``"states"`` when each arc's exposure is split at the follow-back (``mutual``
    is then the state of the segment) or ``"arcs"`` when it is not (``mutual`` is the status at
    the end of the data and every arc counts its whole exposure). ``data`` holds integer account
    codes ``a`` and ``b``, ``arc``, ``mutual`` (0/1), ``exposure_days`` (1 when the data carries
    no times), outcomes ``y_ab`` and ``y_ba`` (the chosen engagement kinds summed, NaN where not
    observed), per-kind outcomes, and the covariates of the dyad table.
    """

    data: pd.DataFrame
    design: Literal["states", "arcs"]
    exposure_known: bool
    kinds: tuple[str, ...]
    notes: list[str]

    def __len__(self) -> int:
        return len(self.data)


def model_frame(dyads: DyadTable, segments: pd.DataFrame | None = None, kinds: tuple[str, ...] | list[str] = INTERACTION_KINDS) -> ModelFrame:
    """Assemble model observations from the dyad table (and, when given, its state segments).

    ``kinds`` are the engagement kinds whose events count as the outcome (e.g. mentions and
    reposts only, for data that records nothing else).
    """
    kinds = tuple(kinds)
    unknown = [k for k in kinds if k not in INTERACTION_KINDS]
    if unknown or not kinds:
        raise ValueError(f"engagement kinds must be among {', '.join(INTERACTION_KINDS)}; got {list(kinds)}")
    arcs = dyads.frame
    if arcs["mutual"].isna().any():
        raise ValueError("mutual status is not observable in this source (only one follow direction is known)")
    notes = list(dyads.notes)
    if segments is not None:
        if (segments["state"] == "lead").any():
            raise ValueError("model_frame expects segments cut at the follow-back only (lead_days=0)")
        source = segments
        arc = segments["arc"].to_numpy()
        mutual = (segments["state"] == "mutual").to_numpy(dtype=float)
        exposure = segments["exposure_days"].to_numpy(dtype=float)
        design, exposure_known = "states", True
    else:
        source = arcs
        arc = np.arange(len(arcs))
        mutual = arcs["mutual"].to_numpy(dtype=float)
        exposure_known = dyads.has_times
        exposure = arcs["exposure_days"].to_numpy(dtype=float) if exposure_known else np.ones(len(arcs))
        design = "arcs"
    data = pd.DataFrame(
        {
            "a": arcs["a_id"].cat.codes.to_numpy().astype(np.int64)[arc],
            "b": arcs["b_id"].cat.codes.to_numpy().astype(np.int64)[arc],
            "arc": arc,
            "mutual": mutual,
            "exposure_days": exposure,
        }
    )
    for direction in ("ab", "ba"):
        for kind in INTERACTION_KINDS:
            data[f"{direction}_{kind}"] = source[f"{direction}_{kind}"].to_numpy(dtype=float, na_value=np.nan)
        data[f"y_{direction}"] = data[[f"{direction}_{k}" for k in kinds]].sum(axis=1, min_count=len(kinds))
    for column in (*DEGREE_CONTROLS, *ACTIVITY_CONTROLS, "a_followback_rate", "b_followback_rate"):
        data[column] = arcs[column].to_numpy(dtype=float, na_value=np.nan)[arc]
    for column in ("a_kind", "b_kind", "a_community", "b_community"):
        if column in arcs:
            data[column] = arcs[column].to_numpy()[arc]
    labelled = arcs["b_kind"].notna().any()
    if labelled:
        data["b_is_brand"] = np.where(pd.isna(data["b_kind"]), np.nan, (data["b_kind"] == "brand").astype(float))
    if exposure_known:
        no_exposure = ~(data["exposure_days"] > 0)
        if no_exposure.any():
            notes.append(f"{int(no_exposure.sum()):,} observations with no exposure time (follows at the very end of the data) are left out.")
            data = data[~no_exposure].reset_index(drop=True)
    return ModelFrame(data, design, exposure_known, kinds, notes)


# ---------------------------------------------------------------------------------------------
# Specifications, fits and estimates


@dataclass(frozen=True)
class ModelSpec:
    """One model: family, controls, fixed effects, which direction, an optional moderator of ``mutual``.

    ``controls`` name columns of the model frame: counts enter as log(1 + count), kinds as
    indicators. ``fixed_effects`` gives every a and every b its own effect (Poisson only; account
    controls are then absorbed and must be left out). ``moderator`` adds ``mutual x (moderator -
    moderator_center)``, so the ``mutual`` coefficient is the effect at ``moderator_center``.
    """

    label: str
    family: Literal["poisson", "negbin", "logit"] = "poisson"
    controls: tuple[str, ...] = ()
    fixed_effects: bool = False
    direction: Literal["ab", "ba"] = "ab"
    outcome: str | None = None  # a column such as "ab_mention"; None: the frame's y_<direction>
    moderator: str | None = None
    moderator_center: float = 0.0

    def __post_init__(self) -> None:
        if self.family not in ("poisson", "negbin", "logit"):
            raise ValueError(f"family must be poisson, negbin or logit, not {self.family!r}")
        if self.fixed_effects and self.family != "poisson":
            raise ValueError("fixed effects are supported for the Poisson model only (negative binomial and logit fixed effects carry incidental-parameter bias)")
        if self.fixed_effects and self.controls:
            raise ValueError("with fixed effects for both accounts, account-level controls are absorbed: leave controls empty")
        if self.direction not in ("ab", "ba"):
            raise ValueError(f"direction must be 'ab' or 'ba', not {self.direction!r}")


@dataclass
class Estimate:
    """One coefficient on the log scale with its standard error under every covariance method."""

    term: str
    ratio_name: str  # "rate ratio" or "odds ratio"
    log_value: float
    standard_errors: dict[str, float]

    @property
    def value(self) -> float:
        return math.exp(self.log_value)

    def interval(self, method: str = HEADLINE_COVARIANCE) -> tuple[float, float]:
        se = self.standard_errors[method]
        return math.exp(self.log_value - Z_95 * se), math.exp(self.log_value + Z_95 * se)

    def p_value(self, method: str = HEADLINE_COVARIANCE) -> float:
        se = self.standard_errors[method]
        return float(2 * stats.norm.sf(abs(self.log_value) / se)) if se > 0 else float("nan")

    def covers(self, truth: float, method: str = HEADLINE_COVARIANCE) -> bool:
        low, high = self.interval(method)
        return low <= truth <= high


@dataclass
class ModelFit:
    spec: ModelSpec
    estimates: dict[str, Estimate]
    covariance: dict[str, np.ndarray]  # per method, for the reported terms (mutual first)
    n_obs: int
    n_accounts_a: int
    n_accounts_b: int
    dropped: dict[str, int]
    design: str
    notes: list[str]

    @property
    def mutual(self) -> Estimate:
        return self.estimates["mutual"]

    def summary_row(self, method: str = HEADLINE_COVARIANCE) -> dict[str, Any]:
        """The mutual effect as one table row (for the notebook and the forest plot)."""
        estimate = self.mutual
        low, high = estimate.interval(method)
        return {
            "model": self.spec.label,
            "family": self.spec.family,
            "fixed_effects": self.spec.fixed_effects,
            "controls": ", ".join(self.spec.controls) or "none",
            "ratio": estimate.ratio_name,
            "estimate": estimate.value,
            "ci_low": low,
            "ci_high": high,
            "p_value": estimate.p_value(method),
            "observations": self.n_obs,
        }


def _control_columns(data: pd.DataFrame, controls: tuple[str, ...]) -> tuple[list[np.ndarray], list[str]]:
    columns, names = [], []
    for name in controls:
        if name not in data:
            raise ValueError(f"control {name!r} is not a column of the model frame ({', '.join(data.columns)})")
        values = data[name]
        if isinstance(values.dtype, pd.CategoricalDtype) or values.dtype == object or pd.api.types.is_string_dtype(values):
            levels = pd.Series(values).astype("string").fillna("unlabelled")
            present = sorted(levels.unique())
            for level in present[1:]:
                columns.append((levels == level).to_numpy(dtype=float))
                names.append(f"{name}={level}")
        elif name in (*DEGREE_CONTROLS, *ACTIVITY_CONTROLS):
            columns.append(np.log1p(values.to_numpy(dtype=float)))
            names.append(f"log1p({name})")
        else:
            columns.append(values.to_numpy(dtype=float))
            names.append(name)
    return columns, names


def _no_variation(values: np.ndarray) -> bool:
    return values.size == 0 or values.min() == values.max()


def _design(frame: ModelFrame, spec: ModelSpec) -> tuple[np.ndarray, np.ndarray, list[str], np.ndarray, np.ndarray, dict[str, int], list[str]]:
    """Outcome, regressors (terms first), their names, offset and the rows used."""
    data = frame.data
    notes: list[str] = []
    outcome = spec.outcome or f"y_{spec.direction}"
    if outcome not in data:
        raise ValueError(f"outcome {outcome!r} is not a column of the model frame")
    y = data[outcome].to_numpy(dtype=float)
    terms = [data["mutual"].to_numpy(dtype=float)]
    names = ["mutual"]
    used = np.isfinite(y)
    if spec.moderator:
        if spec.moderator not in data:
            raise ValueError(f"moderator {spec.moderator!r} is not a column of the model frame")
        moderator = data[spec.moderator].to_numpy(dtype=float)
        terms.append(terms[0] * (moderator - spec.moderator_center))
        names.append(f"mutual_x_{spec.moderator}")
        used &= np.isfinite(moderator)
    control_values, control_names = _control_columns(data, spec.controls)
    for values in control_values:
        used &= np.isfinite(values)
    dropped = {"missing values": int((~used).sum())}
    columns, names = terms + control_values, names + control_names
    everything = bool(used.all())
    # Controls with no variation (e.g. a kind nobody has) would make the model singular.
    constant = [i for i in range(len(terms), len(names)) if _no_variation(columns[i] if everything else columns[i][used])]
    if constant:
        notes.append("Left out for lack of variation: " + ", ".join(names[i] for i in constant) + ".")
        columns = [c for i, c in enumerate(columns) if i not in constant]
        names = [n for i, n in enumerate(names) if i not in constant]
    # One copy into a column-major matrix (each column written contiguously), used rows taken on the way.
    X = np.empty((int(used.sum()), len(columns)), order="F")
    for i, values in enumerate(columns):
        X[:, i] = values if everything else values[used]
    if not everything:
        y = y[used]
    offset = np.log(data["exposure_days"].to_numpy(dtype=float)[used])
    return y, X, names, offset, used, dropped, notes


# The dispersion of the negative binomial is estimated by maximum likelihood on at most this many
# observations (a seeded random subset beyond it): its precision hardly matters for the rate
# ratio, whose information is block-diagonal with it in NB2, while the fit on millions does.
DISPERSION_SAMPLE = 50_000


def fit_model(frame: ModelFrame, spec: ModelSpec) -> ModelFit:
    """Fit ``spec`` on ``frame``; every coefficient gets every covariance of :data:`COVARIANCE_METHODS`."""
    y, X, names, offset, used, dropped, notes = _design(frame, spec)
    a = frame.data["a"].to_numpy()[used]
    b = frame.data["b"].to_numpy()[used]
    arcs = frame.data["arc"].to_numpy()[used]
    if len(y) == 0 or (spec.family != "logit" and y.sum() == 0) or np.ptp(X[:, 0]) == 0:
        raise ValueError(f"{spec.label}: nothing to estimate (no observations, no engagement, or no variation in mutual status)")
    n_terms = 2 if spec.moderator else 1
    if spec.family == "logit":
        params, scores, bread = _fit_logit(y, X, offset if frame.exposure_known else None, notes)
    else:
        alpha = _negative_binomial_dispersion(y, X, offset, notes) if spec.family == "negbin" else 0.0
        fit = fit_count_regression(y, X, offset, [a, b] if spec.fixed_effects else [], alpha=alpha)
        if not fit.converged:
            notes.append(f"The fit stopped after {fit.iterations} iterations without meeting its tolerance.")
        if spec.fixed_effects:
            dropped["no engagement in the account's group"] = fit.dropped_all_zero
            dropped["single observation in the account's group"] = fit.dropped_singletons
        params, scores, bread = fit.params, fit.scores, fit.bread
        a, b, arcs = a[fit.kept], b[fit.kept], arcs[fit.kept]
    covariances = robust_covariances(scores, bread, a, b, pairs=arcs, terms=n_terms)
    ratio_name = "odds ratio" if spec.family == "logit" else "rate ratio"
    estimates = {
        names[i]: Estimate(names[i], ratio_name, float(params[i]), {m: float(math.sqrt(max(c[i, i], 0.0))) for m, c in covariances.matrices.items()})
        for i in range(n_terms)
    }
    block = dict(covariances.matrices)
    notes.extend(
        f"The {COVARIANCE_LABELS[m]} covariance had {k} negative eigenvalue(s), set to zero." for m, k in covariances.clipped_eigenvalues.items() if k
    )
    return ModelFit(spec, estimates, block, int(len(a)), covariances.n_clusters_a, covariances.n_clusters_b, dropped, frame.design, notes)


def _negative_binomial_dispersion(y: np.ndarray, X: np.ndarray, offset: np.ndarray, notes: list[str]) -> float:
    """NB2 dispersion alpha by maximum likelihood (statsmodels), started from the Poisson fit."""
    rows = np.arange(len(y))
    if len(y) > DISPERSION_SAMPLE:
        rows = np.sort(np.random.default_rng(0).choice(len(y), DISPERSION_SAMPLE, replace=False))
    design = np.column_stack([X[rows], np.ones(len(rows))])
    poisson = fit_count_regression(y[rows], X[rows], offset[rows])
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model = sm.NegativeBinomial(y[rows], design, offset=offset[rows], loglike_method="nb2")
        result = model.fit(start_params=np.append(poisson.params, 0.1), method="bfgs", disp=0, maxiter=500)
    notes.extend(f"statsmodels (negative binomial): {warning.message}" for warning in caught)
    alpha = float(result.params[-1])
    where = f"on a random {len(rows):,} of {len(y):,} observations" if len(rows) < len(y) else "by maximum likelihood"
    notes.append(f"Negative binomial dispersion alpha = {alpha:.3g} (estimated {where}).")
    if not alpha > 0:
        raise ValueError(f"the negative binomial dispersion estimate is not positive ({alpha:.3g}): the counts show no overdispersion")
    return alpha


def _fit_logit(y: np.ndarray, X: np.ndarray, offset: np.ndarray | None, notes: list[str]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Logit of any engagement (statsmodels); log exposure enters as a regressor when known."""
    design = np.column_stack([X, np.ones(len(y))] + ([] if offset is None else [offset]))
    engaged = (y > 0).astype(float)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        start = None
        if len(y) > DISPERSION_SAMPLE:
            # Newton steps on millions of rows are costly: start them from a fit on a subset.
            rows = np.sort(np.random.default_rng(0).choice(len(y), DISPERSION_SAMPLE, replace=False))
            start = sm.Logit(engaged[rows], design[rows]).fit(disp=0, maxiter=100).params
        model = sm.Logit(engaged, design)
        result = model.fit(start_params=start, disp=0, maxiter=100)
    notes.extend(f"statsmodels (logit): {warning.message}" for warning in caught)
    params = np.asarray(result.params)
    return params, np.asarray(model.score_obs(params)), np.linalg.inv(-np.asarray(model.hessian(params)))


# ---------------------------------------------------------------------------------------------
# Raw comparison


def _mean_interval(values: np.ndarray, a: np.ndarray, b: np.ndarray, pairs: np.ndarray | None = None) -> tuple[float, float, float]:
    """A mean with its two-way clustered 95% interval."""
    n = len(values)
    mean = float(values.mean())
    if n < 2:
        return mean, float("nan"), float("nan")
    covariance = robust_covariances((values - mean)[:, None], np.array([[1.0 / n]]), a, b, pairs=pairs, methods=(HEADLINE_COVARIANCE,))
    se = math.sqrt(max(covariance.matrices[HEADLINE_COVARIANCE][0, 0], 0.0))
    return mean, mean - Z_95 * se, mean + Z_95 * se


def _rate_interval(y: np.ndarray, exposure: np.ndarray, a: np.ndarray, b: np.ndarray, pairs: np.ndarray | None = None) -> tuple[float, float, float]:
    """Events per unit of exposure (pooled) with its two-way clustered 95% interval (log scale)."""
    events, exposure_total = float(y.sum()), float(exposure.sum())
    if events == 0 or exposure_total == 0:
        return (0.0 if exposure_total else float("nan")), float("nan"), float("nan")
    rate = events / exposure_total
    scores = (y - exposure * rate)[:, None] / events  # derivative of the log-rate estimating equation
    covariance = robust_covariances(scores, np.array([[1.0]]), a, b, pairs=pairs, methods=(HEADLINE_COVARIANCE,))
    se = math.sqrt(max(covariance.matrices[HEADLINE_COVARIANCE][0, 0], 0.0))
    return rate, rate * math.exp(-Z_95 * se), rate * math.exp(Z_95 * se)


def raw_comparison(frame: ModelFrame, outcome: str | None = None, direction: str = "ab", per_days: float = 100.0) -> pd.DataFrame:
    """Engagement by mutual status, no controls: share of observations with any event and rate per ``per_days``.

    Intervals are two-way clustered on both accounts. In the ``arcs`` design the share is the
    probability that a engaged with b at all during the data; in the ``states`` design rows are
    segments, so only rates are comparable.
    """
    outcome = outcome or f"y_{direction}"
    # Only the columns used: filtering the whole model frame would copy every control's column.
    needed = ["mutual", outcome, "a", "b", "arc"] + (["exposure_days"] if frame.exposure_known else [])
    data = frame.data[needed]
    rows = []
    for mutual, label in ((0.0, "one-way"), (1.0, "mutual")):
        part = data[(data["mutual"] == mutual) & data[outcome].notna()]
        y = part[outcome].to_numpy(dtype=float)
        a, b, pairs = part["a"].to_numpy(), part["b"].to_numpy(), part["arc"].to_numpy()
        row: dict[str, Any] = {"status": label, "observations": len(part), "events": float(y.sum())}
        if frame.design == "arcs" and len(part):
            share, low, high = _mean_interval((y > 0).astype(float), a, b, pairs)
            row.update(share_engaged=share, share_ci_low=low, share_ci_high=high, events_per_arc=float(y.mean()))
        if frame.exposure_known and len(part):
            rate, low, high = _rate_interval(y, part["exposure_days"].to_numpy(dtype=float), a, b, pairs)
            row.update(
                {f"rate_per_{per_days:g}_days": rate * per_days, "rate_ci_low": low * per_days, "rate_ci_high": high * per_days}
            )
        rows.append(row)
    return pd.DataFrame(rows)


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
    events = segments.assign(y=segments[[f"ab_{k}" for k in kinds]].sum(axis=1)).pivot_table(
        index="arc", columns="period", values="y", aggfunc="sum", fill_value=0
    ).reindex(columns=range(3), fill_value=0)
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
        raise ValueError("the out-of-time comparison needs arcs with and without engagement in both windows")
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


# ---------------------------------------------------------------------------------------------
# The essay's thesis: is a follow-back worth less from an account that follows back everyone?


@dataclass
class ModerationResult:
    """How the mutual effect varies with a trait of the returning account b."""

    fit: ModelFit
    moderator: str
    center: float
    curve: pd.DataFrame  # moderator value, rate ratio, two-way interval
    moderator_values: np.ndarray  # the moderator over mutual observations, for a rug

    @property
    def interaction(self) -> Estimate:
        return self.fit.estimates[f"mutual_x_{self.moderator}"]


def moderated_effect(
    frame: ModelFrame,
    moderator: str = "b_followback_rate",
    center: float | None = None,
    grid: np.ndarray | None = None,
    min_followers: int = 5,
) -> ModerationResult:
    """Fixed-effects Poisson with ``mutual x (moderator - center)``; the effect along ``grid`` with intervals.

    For ``b_followback_rate`` only followees with at least ``min_followers`` followers in the
    data take part: a share of two or three followers says little about how an account treats
    followers. ``center`` defaults to the median over mutual observations.
    """
    data = frame.data
    if moderator not in data:
        raise ValueError(f"moderator {moderator!r} is not a column of the model frame")
    values = data[moderator].to_numpy(dtype=float)
    if moderator == "b_followback_rate":
        few = data["b_followers_excl_a"].to_numpy(dtype=float) + 1 < min_followers
        values = np.where(few, np.nan, values)
    eligible = np.isfinite(values)
    if center is None:
        mutual_values = values[eligible & (data["mutual"].to_numpy() == 1)]
        center = float(np.median(mutual_values)) if len(mutual_values) else 0.0
    moderated = ModelFrame(data.assign(**{f"{moderator}_moderator": values}), frame.design, frame.exposure_known, frame.kinds, [])
    spec = ModelSpec(f"mutual x {moderator}", fixed_effects=True, moderator=f"{moderator}_moderator", moderator_center=center)
    fit = fit_model(moderated, spec)
    # Rename the interaction term after the moderator the reader knows.
    interaction = fit.estimates.pop(f"mutual_x_{moderator}_moderator")
    interaction.term = f"mutual_x_{moderator}"
    fit.estimates[interaction.term] = interaction
    if min_followers and moderator == "b_followback_rate":
        fit.notes.append(f"Followees with fewer than {min_followers} followers are left out of this model.")
    grid = np.linspace(np.nanmin(values[eligible]), np.nanmax(values[eligible]), 41) if grid is None else np.asarray(grid, dtype=float)
    covariance = fit.covariance[HEADLINE_COVARIANCE]
    distance = grid - center
    log_ratio = fit.mutual.log_value + interaction.log_value * distance
    se = np.sqrt(np.maximum(covariance[0, 0] + distance**2 * covariance[1, 1] + 2 * distance * covariance[0, 1], 0))
    curve = pd.DataFrame(
        {moderator: grid, "rate_ratio": np.exp(log_ratio), "ci_low": np.exp(log_ratio - Z_95 * se), "ci_high": np.exp(log_ratio + Z_95 * se)}
    )
    rug = values[eligible & (data["mutual"].to_numpy() == 1)]
    return ModerationResult(fit, moderator, center, curve, rug)


# ---------------------------------------------------------------------------------------------
# Robustness across specifications


def standard_specs(frame: ModelFrame) -> list[ModelSpec]:
    """The notebook's models of a's engagement toward b, from no controls to fixed effects."""
    kinds = tuple(c for c in ("a_kind", "b_kind") if c in frame.data and frame.data[c].notna().any())
    controls = DEGREE_CONTROLS + ACTIVITY_CONTROLS + kinds
    return [
        ModelSpec("raw: no controls"),
        ModelSpec("degrees of both accounts", controls=DEGREE_CONTROLS + kinds),
        ModelSpec("degrees and activity of both accounts", controls=controls),
        ModelSpec("negative binomial, degrees and activity", family="negbin", controls=controls),
        ModelSpec("any engagement (logit), degrees and activity", family="logit", controls=controls),
        ModelSpec("adjusted: fixed effects for every a and b", fixed_effects=True),
    ]


def other_direction_specs(frame: ModelFrame) -> list[ModelSpec]:
    """b's engagement toward a by mutual status: the raw rate ratio.

    No adjusted version: while b does not follow a, b's engagement toward a is nearly always
    zero, so any adjusted ratio runs off toward infinity (quasi-separation) and says nothing
    beyond "b rarely engages with accounts it does not follow".
    """
    return [ModelSpec("b -> a, no controls", direction="ba")]


def fit_all(frame: ModelFrame, specs: list[ModelSpec]) -> tuple[dict[str, ModelFit], list[str]]:
    """Fit each spec; a spec that cannot be estimated on this data is reported, not fatal."""
    fits, skipped = {}, []
    for spec in specs:
        try:
            fits[spec.label] = fit_model(frame, spec)
        except (ValueError, np.linalg.LinAlgError) as error:
            skipped.append(f"{spec.label}: {error}")
    return fits, skipped


def robustness_table(
    frame: ModelFrame,
    arcs_frame: ModelFrame | None = None,
    fits: dict[str, ModelFit] | None = None,
    min_observations: int = 200,
    min_events: int = 20,
) -> tuple[pd.DataFrame, list[str]]:
    """The mutual effect (two-way intervals) across control sets, engagement kinds, communities and designs.

    ``fits`` are the :func:`standard_specs` fits when already made (else they are fitted here).
    Kinds and communities use the adjusted (fixed-effects) model on the subset; subsets with
    fewer than ``min_observations`` observations or ``min_events`` events are skipped and listed.
    """
    rows, skipped = [], []

    def add(group: str, fit: ModelFit) -> None:
        rows.append({"group": group, **fit.summary_row()})

    if fits is None:
        fits, failed = fit_all(frame, standard_specs(frame))
        skipped += failed
    for fit in fits.values():
        add("controls", fit)
    if arcs_frame is not None and frame.design == "states":
        try:
            add("design", fit_model(arcs_frame, ModelSpec("fixed effects, mutual at the end (no split at the follow-back)", fixed_effects=True)))
        except ValueError as error:
            skipped.append(f"arcs design: {error}")
    data = frame.data
    for kind in INTERACTION_KINDS:
        events = data[f"ab_{kind}"].sum()
        if events < min_events:
            skipped.append(f"{kind}: only {int(events)} events")
            continue
        try:
            add("engagement kind", fit_model(frame, ModelSpec(f"{kind} only", fixed_effects=True, outcome=f"ab_{kind}")))
        except ValueError as error:
            skipped.append(f"{kind}: {error}")
    if "a_community" in data:
        for community, part in data.groupby("a_community", observed=True):
            label = f"followers in community {community}"
            if len(part) < min_observations or part["y_ab"].sum() < min_events:
                skipped.append(f"{label}: {len(part)} observations, {int(part['y_ab'].sum())} events")
                continue
            subset = ModelFrame(part.reset_index(drop=True), frame.design, frame.exposure_known, frame.kinds, [])
            try:
                add("community", fit_model(subset, ModelSpec(label, fixed_effects=True)))
            except (ValueError, np.linalg.LinAlgError) as error:
                skipped.append(f"{label}: {error}")
    return pd.DataFrame(rows), skipped


def covariance_comparison(fit: ModelFit) -> pd.DataFrame:
    """The mutual effect's interval under each covariance method, narrowest assumption first."""
    estimate = fit.mutual
    rows = []
    for method in COVARIANCE_METHODS:
        low, high = estimate.interval(method)
        rows.append(
            {
                "interval": COVARIANCE_LABELS[method],
                "standard_error": estimate.standard_errors[method],
                "ci_low": low,
                "ci_high": high,
                "width_vs_two_way": estimate.standard_errors[method] / estimate.standard_errors[HEADLINE_COVARIANCE],
            }
        )
    return pd.DataFrame(rows)


# ---------------------------------------------------------------------------------------------
# Personal exports: only the owner's outgoing engagement


def ego_comparison(dyads: DyadTable, kinds: tuple[str, ...] | list[str] = INTERACTION_KINDS) -> tuple[pd.DataFrame, Estimate | None, list[str]]:
    """The owner's engagement toward accounts the owner follows, by whether they follow back.

    Only the owner's outgoing engagement is observed in personal exports, so this is the one
    comparison they allow. There is one sender, so nothing about the owner needs controlling,
    but nothing about the other accounts can be (their activity is not in the export): the ratio
    mixes any effect of the follow-back with who tends to follow back. Each followee appears
    once, so the robust interval is also clustered on b.
    """
    frame = dyads.frame
    kinds = tuple(kinds)
    owner_rows = frame[frame["a_is_owner"] & frame["ab_total"].notna()]
    limits = [
        "Only the owner's own engagement is recorded; what others did toward the owner is not in the export.",
        "Other accounts' activity and popularity are unknown, so the comparison cannot be adjusted for them.",
    ]
    if owner_rows.empty:
        return pd.DataFrame(), None, limits + ["The export holds no follows by the owner with recorded engagement."]
    if owner_rows["mutual"].isna().any():
        return pd.DataFrame(), None, limits + ["The export does not list followers, so follow-backs cannot be told apart."]
    y = owner_rows[[f"ab_{k}" for k in kinds]].sum(axis=1).to_numpy(dtype=float)
    mutual = owner_rows["mutual"].to_numpy(dtype=float)
    b = owner_rows["b_id"].cat.codes.to_numpy().astype(np.int64)
    a = owner_rows["a_id"].cat.codes.to_numpy().astype(np.int64)
    exposure = owner_rows["exposure_days"].to_numpy(dtype=float) if dyads.has_times else np.ones(len(y))
    rows = []
    for value, label in ((0.0, "owner follows, not followed back"), (1.0, "mutual")):
        chosen = mutual == value
        rows.append(
            {
                "status": label,
                "accounts": int(chosen.sum()),
                "events": float(y[chosen].sum()),
                "share_engaged": float((y[chosen] > 0).mean()) if chosen.any() else float("nan"),
                "events_per_account": float(y[chosen].mean()) if chosen.any() else float("nan"),
            }
        )
    estimate = None
    if 0 < mutual.sum() < len(mutual) and y.sum() > 0:
        frame_for_model = ModelFrame(
            pd.DataFrame({"a": a, "b": b, "arc": np.arange(len(y)), "mutual": mutual, "exposure_days": exposure, "y_ab": y}),
            "arcs", dyads.has_times, kinds, [],
        )
        estimate = fit_model(frame_for_model, ModelSpec("owner's engagement, mutual vs one-way")).mutual
    return pd.DataFrame(rows), estimate, limits


# ---------------------------------------------------------------------------------------------
# Plain conclusion


def _ratio_words(estimate: Estimate) -> str:
    low, high = estimate.interval()
    return f"{estimate.value:.2f} times (95% interval {low:.2f} to {high:.2f})"


def plain_conclusion(adjusted: ModelFit, raw: ModelFit | None = None, timing: TimingResult | None = None, kinds_label: str = "engagement") -> str:
    """Sentences stating the effect with guarded wording; causal words only when the timing design supports them."""
    estimate = adjusted.mutual
    low, high = estimate.interval()
    if low <= 1 <= high:
        sentences = [
            f"Once both accounts' own activity and popularity are accounted for, a follow-back is not associated with a "
            f"difference in the follower's {kinds_label} toward the account that followed back that these data can distinguish "
            f"from none: {_ratio_words(estimate)}."
        ]
    else:
        direction = "more" if estimate.value > 1 else "less"
        sentences = [
            f"A follow-back is associated with {direction} {kinds_label} from the follower toward the account that followed back: "
            f"{_ratio_words(estimate)} the rate of one-way follows, after accounting for every account's own activity and popularity "
            "(two-way clustered interval)."
        ]
    if raw is not None:
        change = "lowers" if estimate.value < raw.mutual.value else "raises"
        sentences.append(
            f"Without any adjustment the ratio is {raw.mutual.value:.2f}: accounting for who follows back and who is followed "
            f"{change} it."
        )
    if timing is not None:
        lead = timing.lead
        if timing.supports_causal_reading:
            sentences.append(
                f"The timing design supports a causal reading: within the same pairs, engagement changed by a factor "
                f"{_ratio_words(timing.mutual)} after the follow-back and did not rise in the {timing.lead_days:g} days before it "
                f"({_ratio_words(lead)})."
            )
        elif lead.interval()[0] > 1:
            sentences.append(
                f"Engagement was already higher in the {timing.lead_days:g} days before the follow-back ({_ratio_words(lead)}): "
                "follow-backs may partly answer engagement rather than cause it, so no causal claim is made."
            )
        elif lead.interval()[1] < 1:
            sentences.append(
                f"Engagement was lower in the {timing.lead_days:g} days before the follow-back than earlier ({_ratio_words(lead)}), "
                "a pre-trend the design cannot explain, so no causal claim is made."
            )
        else:
            sentences.append(
                "Within the same pairs, the change at the follow-back cannot be told apart from none "
                f"({_ratio_words(timing.mutual)}), so no causal claim is made."
            )
    else:
        sentences.append("Without follow and engagement times the timing of the effect cannot be checked, so no causal claim is made.")
    return " ".join(sentences)


# ---------------------------------------------------------------------------------------------
# Validation on generated networks with a planted ratio


VALIDATION_ESTIMATORS = {
    "raw": ModelSpec("raw: no controls"),
    "observed controls": ModelSpec("degrees and activity of both accounts", controls=DEGREE_CONTROLS + ACTIVITY_CONTROLS + ("a_kind", "b_kind")),
    "adjusted (fixed effects)": ModelSpec("adjusted: fixed effects for every a and b", fixed_effects=True),
}


def heterogeneous_effects(network, concentration: float, seed: int):
    """Make the follow-back effect differ between returning accounts by thinning the generator's events.

    The generator gives every pair the same mutual-vs-one-way ratio, and with fixed effects for
    both accounts nothing is then left that ties dyads of one account together, so ordinary
    intervals happen to be right. Real effects differ between accounts. Here each account b
    draws ``keep_b ~ Beta(c/2, c/2)`` (mean 1/2) and every event toward b in a mutual state is
    kept with probability ``keep_b``; one-way events are all kept. The ratio for pairs returned
    by b becomes ``planted ratio x keep_b``: across accounts it averages half the planted ratio,
    which is the truth the estimators are then scored against. Returns the thinned dataset.
    """
    from .synthetic import network_dataset

    dataset = network_dataset(network)
    rng = np.random.default_rng([seed, 20240101])
    accounts = dataset.accounts["account_id"].astype(str)
    keep_probability = pd.Series(rng.beta(concentration / 2, concentration / 2, len(accounts)), index=accounts.to_numpy())
    events = dataset.interactions
    arcs = network.arc_truth[["follower_id", "followee_id", "mutual_since"]].astype({"follower_id": str, "followee_id": str})
    merged = events[["actor_id", "target_id", "at"]].astype({"actor_id": str, "target_id": str}).merge(
        arcs, left_on=["actor_id", "target_id"], right_on=["follower_id", "followee_id"], how="left"
    )
    in_mutual_state = (merged["mutual_since"].notna() & (merged["at"] >= merged["mutual_since"])).to_numpy()
    keep = ~in_mutual_state | (rng.random(len(events)) < keep_probability.reindex(merged["target_id"]).to_numpy())
    dataset.interactions = events[keep].reset_index(drop=True)
    return dataset


def validation_replication(
    seed: int,
    mutual_rate_ratio: float = 2.0,
    heterogeneity: float | None = None,
    n_accounts: int = 300,
    n_permutations: int = 0,
    timing: bool = False,
    **generator_overrides: Any,
) -> dict[str, Any]:
    """Generate one network with a planted ratio, run every validation estimator, return flat results.

    ``mutual_rate_ratio`` is the truth scored against. With ``heterogeneity`` (a Beta
    concentration; smaller is more heterogeneous) the effect differs between returning accounts
    (:func:`heterogeneous_effects`) and the generator is given twice the ratio, so that the
    average over accounts is still ``mutual_rate_ratio``. Generator confounding (active persons
    follow back more, brands follow back almost always) is the generator's default. ``timing``
    adds the within-pair timing design; ``n_permutations`` the permutation test's p-value.
    """
    from .synthetic import generate_network, network_dataset

    planted = mutual_rate_ratio * (2.0 if heterogeneity else 1.0)
    network = generate_network(n_accounts=n_accounts, seed=seed, mutual_rate_ratio=planted, **generator_overrides)
    dataset = heterogeneous_effects(network, heterogeneity, seed) if heterogeneity else network_dataset(network)
    dyads = build_dyads(dataset)
    segments, _ = engagement_segments(dataset, dyads)
    frame = model_frame(dyads, segments)
    row: dict[str, Any] = {"seed": seed, "truth": mutual_rate_ratio, "heterogeneity": heterogeneity or 0.0, "observations": len(frame)}
    row["lead_truth"] = float(generator_overrides.get("pre_followback_ratio", 1.0))
    for name, spec in VALIDATION_ESTIMATORS.items():
        fit = fit_model(frame, spec)
        row[f"{name}|log_estimate"] = fit.mutual.log_value
        for method, se in fit.mutual.standard_errors.items():
            row[f"{name}|se|{method}"] = se
    if timing:
        result = timing_design(dataset, dyads)
        row["within-pair timing|log_estimate"] = result.mutual.log_value
        for method, se in result.mutual.standard_errors.items():
            row[f"within-pair timing|se|{method}"] = se
        row["within-pair timing|lead_log_estimate"] = result.lead.log_value
        row["within-pair timing|lead_se"] = result.lead.standard_errors[HEADLINE_COVARIANCE]
    if n_permutations:
        row["permutation_p"] = permutation_test(model_frame(dyads), n_permutations=n_permutations, seed=seed).p_value
    return row


def _replicate(task: tuple[int, dict[str, Any]]) -> dict[str, Any]:
    seed, options = task
    return validation_replication(seed, **options)


def run_validation(
    n_replications: int, scenarios: dict[str, dict[str, Any]], first_seed: int = 0, processes: int = 1, progress: bool = False
) -> pd.DataFrame:
    """Replications of :func:`validation_replication` for each scenario (name -> options), one row each.

    Seeds ``first_seed .. first_seed + n_replications - 1`` are shared across scenarios, so the
    scenarios differ only in what they plant. ``processes`` > 1 spreads replications over processes.
    """
    tasks = [(first_seed + i, options) for options in scenarios.values() for i in range(n_replications)]
    names = [name for name in scenarios for _ in range(n_replications)]
    if processes > 1:
        import multiprocessing

        with multiprocessing.get_context("fork").Pool(processes) as pool:
            rows = list(pool.imap(_replicate, tasks, chunksize=4))
    else:
        rows = []
        for task in tasks:
            rows.append(_replicate(task))
            if progress and len(rows) % 10 == 0:
                print(f"{len(rows)} of {len(tasks)} replications", flush=True)
    return pd.DataFrame(rows).assign(scenario=names)


def summarise_validation(results: pd.DataFrame, methods: tuple[str, ...] = ("model", "two_way", "dyadic")) -> pd.DataFrame:
    """Per scenario, estimator and interval: bias, coverage of the truth, rejection of ratio 1 at 5%.

    ``bias`` is the mean log estimate minus the log truth; ``coverage`` the share of 95% intervals
    containing the truth (should be near 0.95); ``rejects_1`` the share of intervals excluding 1:
    the size of the test when the truth is 1 (should be near 0.05), its power otherwise;
    ``se_ratio`` the mean standard error over the standard deviation of the estimates (near 1
    when intervals have the right width).
    """
    rows = []
    for (scenario, truth), group in results.groupby(["scenario", "truth"], sort=False):
        log_truth = math.log(truth)
        estimators = [e for e in (*VALIDATION_ESTIMATORS, "within-pair timing") if f"{e}|log_estimate" in group]
        for estimator in estimators:
            estimates = group[f"{estimator}|log_estimate"].dropna()
            if estimates.empty:
                continue
            spread = float(estimates.std(ddof=1)) if len(estimates) > 1 else float("nan")
            for method in methods:
                se = group.loc[estimates.index, f"{estimator}|se|{method}"]
                rows.append(
                    {
                        "scenario": scenario,
                        "truth": truth,
                        "estimator": estimator,
                        "interval": COVARIANCE_LABELS[method],
                        "replications": len(group),
                        "mean_estimate": float(np.exp(estimates.mean())),
                        "bias": float(estimates.mean() - log_truth),
                        "coverage": float(((estimates - Z_95 * se <= log_truth) & (log_truth <= estimates + Z_95 * se)).mean()),
                        "rejects_1": float(((estimates - Z_95 * se > 0) | (estimates + Z_95 * se < 0)).mean()),
                        "se_ratio": float(se.mean() / spread) if spread > 0 else float("nan"),
                    }
                )
        if "within-pair timing|lead_log_estimate" in group and group["within-pair timing|lead_log_estimate"].notna().any():
            # The pre-trend check: the lead window's ratio, against the planted pre-follow-back rise (1: none).
            lead = group["within-pair timing|lead_log_estimate"].dropna()
            se = group.loc[lead.index, "within-pair timing|lead_se"]
            log_lead_truth = math.log(float(group["lead_truth"].iloc[0])) if "lead_truth" in group else 0.0
            rows.append(
                {
                    "scenario": scenario, "truth": truth, "estimator": "pre-trend check (lead window of the timing design)",
                    "interval": COVARIANCE_LABELS[HEADLINE_COVARIANCE], "replications": len(lead),
                    "mean_estimate": float(np.exp(lead.mean())), "bias": float(lead.mean() - log_lead_truth),
                    "coverage": float(((lead - Z_95 * se <= log_lead_truth) & (log_lead_truth <= lead + Z_95 * se)).mean()),
                    "rejects_1": float(((lead - Z_95 * se > 0) | (lead + Z_95 * se < 0)).mean()),
                    "se_ratio": float(se.mean() / lead.std(ddof=1)) if len(lead) > 1 and lead.std(ddof=1) > 0 else float("nan"),
                }
            )
        if "permutation_p" in group and group["permutation_p"].notna().any():
            p = group["permutation_p"].dropna()
            rows.append(
                {
                    "scenario": scenario, "truth": truth, "estimator": "permutation test (within followees)", "interval": "-",
                    "replications": len(p), "rejects_1": float((p <= 0.05).mean()),
                }
            )
    return pd.DataFrame(rows)


# ---------------------------------------------------------------------------------------------
# What the notebook needs around the models: parameters, observability, planted truth


ADJUSTED_LABEL = "adjusted: fixed effects for every a and b"
RAW_LABEL = "raw: no controls"


def check_study_parameters(
    engagement_kinds: str,
    n_permutations: int,
    n_bootstrap: int,
    timing_periods: int,
    lead_days: float,
    moderator_min_followers: int,
    validation_replications: int,
) -> tuple[str, ...]:
    """Validate study 03's own parameters; returns the engagement kinds as a tuple."""
    from .parameters import ParameterError

    if not isinstance(engagement_kinds, str) or not engagement_kinds.strip():
        raise ParameterError(f"engagement_kinds must be 'all' or kinds separated by commas, e.g. 'mention,repost'; got {engagement_kinds!r}")
    if engagement_kinds.strip().lower() == "all":
        kinds = INTERACTION_KINDS
    else:
        kinds = tuple(dict.fromkeys(k.strip().lower() for k in engagement_kinds.split(",") if k.strip()))
        unknown = [k for k in kinds if k not in INTERACTION_KINDS]
        if unknown or not kinds:
            raise ParameterError(f"engagement_kinds: unknown kind(s) {unknown}; choose among {', '.join(INTERACTION_KINDS)} or 'all'")
    for name, value, low in (
        ("n_permutations", n_permutations, 0),
        ("n_bootstrap", n_bootstrap, 0),
        ("timing_periods", timing_periods, 1),
        ("moderator_min_followers", moderator_min_followers, 1),
        ("validation_replications", validation_replications, 0),
    ):
        if isinstance(value, bool) or not isinstance(value, int) or value < low:
            raise ParameterError(f"{name} must be a whole number of at least {low}, got {value!r}")
    if isinstance(lead_days, bool) or not isinstance(lead_days, (int, float)) or not lead_days > 0:
        raise ParameterError(f"lead_days must be a number of days above 0, got {lead_days!r}")
    return kinds


@dataclass
class StudyData:
    """The dyad table and model frames of one dataset, with what can and cannot be estimated from it.

    ``frame`` is the frame the models use: split at the follow-back (``states``) when every arc's
    timing is known, else one row per arc (``arcs``). ``arcs_frame`` is always one row per arc
    (for probabilities and the permutation check). ``unavailable`` says, in a sentence, why the
    network models cannot run (then both frames are ``None``); ``timing_unavailable`` likewise
    for the timing design and the out-of-time comparison.
    """

    dataset: StudyDataset
    kinds: tuple[str, ...]
    dyads: DyadTable
    frame: ModelFrame | None
    arcs_frame: ModelFrame | None
    unavailable: str | None
    timing_unavailable: str | None
    is_ego: bool

    def summary(self) -> dict[str, Any]:
        frame = self.dyads.frame
        mutual = frame["mutual"]
        observed = frame["ab_total"].notna()
        return {
            "follows (dyads a -> b)": len(frame),
            "returned (mutual) follows": int(mutual.sum()) if mutual.notna().all() else None,
            "share mutual": float(mutual.mean()) if len(frame) and mutual.notna().all() else None,
            "follows whose engagement a -> b is observed": int(observed.sum()),
            "engagement events a -> b counted": int(frame[[f"ab_{k}" for k in self.kinds]].sum(axis=1, min_count=1).sum()),
            "engagement kinds counted": ", ".join(self.kinds),
            "exposure": "days from the follow (or the start of the data) to the end" if self.dyads.has_times else "unknown: equal for every follow",
            "model design": {
                "states": "each follow's time split at the follow-back (one-way vs mutual state)",
                "arcs": "mutual status at the end of the data",
            }.get(self.frame.design if self.frame is not None else "", "not estimable"),
        }


def prepare_study(dataset: StudyDataset, kinds: tuple[str, ...] | list[str] = INTERACTION_KINDS) -> StudyData:
    """Build the dyad table and the model frames, and decide what this source lets the study estimate."""
    kinds = tuple(kinds)
    dyads = build_dyads(dataset)
    coverage = dataset.coverage
    is_ego = coverage.scope == "ego" or coverage.engagement_observed == "owner_outgoing"
    unavailable = None
    if not coverage.mutuality_observable:
        unavailable = "Only one follow direction is known, so follow-backs cannot be told apart from one-way follows."
    elif coverage.engagement_observed == "none":
        unavailable = "The source records no engagement."
    elif coverage.engagement_observed == "owner_outgoing":
        unavailable = (
            "The source records only the owner's own engagement: models of engagement between accounts need everyone's "
            "engagement, so only the owner's comparison below is possible."
        )
    frame = arcs_frame = None
    if unavailable is None:
        arcs_frame = model_frame(dyads, kinds=kinds)
        data = arcs_frame.data
        engaged = data.groupby("mutual")["y_ab"].sum()
        if len(engaged) < 2 or (engaged <= 0).any():
            unavailable = "Engagement is needed among both mutual and one-way follows, and one of the two groups has none."
            arcs_frame = None
        elif dyads.split_known and coverage.follow_times:
            segments, _ = engagement_segments(dataset, dyads)
            frame = model_frame(dyads, segments, kinds=kinds)
        else:
            frame = arcs_frame
    timing_unavailable = None
    if unavailable:
        timing_unavailable = unavailable
    elif not (dyads.split_known and coverage.follow_times):
        timing_unavailable = (
            "Follow times or engagement times are missing, so engagement before and after a follow-back cannot be compared "
            "and the timing design and the out-of-time prediction are skipped."
        )
    return StudyData(dataset, kinds, dyads, frame, arcs_frame, unavailable, timing_unavailable, is_ego)


def fits_table(fits: dict[str, ModelFit], method: str = HEADLINE_COVARIANCE) -> pd.DataFrame:
    """One row per fitted model: the mutual ratio with its interval."""
    return pd.DataFrame([fit.summary_row(method) for fit in fits.values()])


def planted_truth(dataset: StudyDataset, input_path: Any = None) -> dict[str, Any] | None:
    """The planted ratios when the input is generated data with recorded truth, else ``None``.

    Found from a ``truth.json`` beside the input, from a generated dataset's own parameters, or
    (for a saved dataset, as later studies of a report read) by the input files' checksums
    matching the bundled sample's.
    """
    import json
    from pathlib import Path

    from .model import file_sha256
    from .paths import SAMPLE_DIR

    def read(path: Path) -> dict[str, Any]:
        planted = json.loads(path.read_text(encoding="utf-8"))["planted"]
        return {"mutual_rate_ratio": planted["mutual_rate_ratio"], "auto_followback_ratio": planted["auto_followback_ratio"], "source": str(path.name)}

    if input_path is not None and Path(input_path).is_dir() and (Path(input_path) / "truth.json").exists():
        return read(Path(input_path) / "truth.json")
    provenance = dataset.provenance
    if provenance.loader == "synthetic" and "mutual_rate_ratio" in provenance.parameters:
        parameters = provenance.parameters
        auto = parameters.get("auto_followback_ratio")
        return {"mutual_rate_ratio": parameters["mutual_rate_ratio"], "auto_followback_ratio": auto if auto is not None else parameters["mutual_rate_ratio"], "source": "generator parameters"}
    truth_file = SAMPLE_DIR / "truth.json"
    if provenance.inputs and truth_file.exists():
        matches = all((SAMPLE_DIR / item.name).is_file() and file_sha256(SAMPLE_DIR / item.name) == item.sha256 for item in provenance.inputs)
        if matches:
            return read(truth_file)
    return None


VALIDATION_SCENARIOS = {
    "as generated (ratio 2)": {"mutual_rate_ratio": 2.0},
    "as generated (ratio 1)": {"mutual_rate_ratio": 1.0},
    "effect differs by account (ratio 2)": {"mutual_rate_ratio": 2.0, "heterogeneity": 10.0},
    "effect differs by account (ratio 1)": {"mutual_rate_ratio": 1.0, "heterogeneity": 10.0},
    # Reverse causality: b follows back in answer to a's engagement, which triples in the week before.
    "engagement rises before the follow-back (ratio 2)": {"mutual_rate_ratio": 2.0, "pre_followback_ratio": 3.0},
}

# A few replications for the notebook: one scenario as generated, one where the effect differs by account.
NOTEBOOK_VALIDATION_SCENARIOS = {
    "as generated (ratio 2)": {"mutual_rate_ratio": 2.0},
    "effect differs by account (ratio 2)": {"mutual_rate_ratio": 2.0, "heterogeneity": 10.0},
}


def raw_by_kind(frame: ModelFrame) -> pd.DataFrame:
    """Per engagement kind: the share of one-way and of mutual follows with any such event (two-way intervals)."""
    if frame.design != "arcs":
        raise ValueError("probabilities by kind are per follow: give raw_by_kind the arcs model frame")
    rows = []
    for kind in INTERACTION_KINDS:
        column = f"ab_{kind}"
        if not frame.data[column].sum() > 0:
            continue
        table = raw_comparison(frame, outcome=column).set_index("status")
        row: dict[str, Any] = {"kind": kind}
        for status in ("one-way", "mutual"):
            row[f"{status} share"] = table.loc[status, "share_engaged"]
            row[f"{status} ci"] = f"{table.loc[status, 'share_ci_low']:.3f}-{table.loc[status, 'share_ci_high']:.3f}"
        rows.append(row)
    return pd.DataFrame(rows)


def fit_notes(fits: dict[str, ModelFit], skipped: list[str] | None = None) -> list[str]:
    """What each fit left out or noted, and which models could not be estimated, as sentences."""
    lines = []
    for label, fit in fits.items():
        dropped = ", ".join(f"{count:,} ({reason})" for reason, count in fit.dropped.items() if count)
        if dropped:
            lines.append(f"{label}: observations left out: {dropped}.")
        lines.extend(f"{label}: {note}" for note in fit.notes)
    lines.extend(f"Not estimated: {reason}" for reason in skipped or [])
    return lines
