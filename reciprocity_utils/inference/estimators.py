"""Log-linear count regressions with thousands of fixed effects absorbed (the ppmlhdfe method)."""

from __future__ import annotations

import math
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import special

# ---------------------------------------------------------------------------------------------
# Count regressions with fixed effects (Poisson, or negative binomial with a known dispersion)


class NotEstimable(ValueError):
    """The data cannot support this estimate (too few events or no variation): a page says so instead of failing."""


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
    # The regressors net of the fixed effects and the final IRLS weights, for leverage-corrected
    # (small-cluster) covariances.
    design: np.ndarray | None = None
    weights: np.ndarray | None = None


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


# How two sets of fixed effects are projected out: "conjugate gradients" (the default, fast on sparse
# networks) or "alternating projections" (the textbook sweeps; kept for the benchmark's comparison).
TWO_WAY_SOLVER = "conjugate gradients"


def _demean(
    columns: np.ndarray, weights: np.ndarray, groups: list[np.ndarray], tolerance: float, max_sweeps: int = 10_000, in_place: bool = False
) -> np.ndarray:
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
        if len(groups) == 2 and TWO_WAY_SOLVER == "conjugate gradients":
            _demean_two_way(values, weights, groups, group_weight, inverse_weight, tolerance, scale)
            return
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


def _demean_two_way(
    values: np.ndarray,
    weights: np.ndarray,
    groups: list[np.ndarray],
    group_weight: list[np.ndarray],
    inverse_weight: list[np.ndarray],
    tolerance: float,
    scale: float,
    max_iterations: int = 10_000,
) -> None:
    """Project two sets of fixed effects out of ``values`` (in place) by conjugate gradients on the reduced system.

    Alternating projections converge slowly on sparse follow networks (accounts linked through
    few pairs: hundreds of sweeps). The same least-squares problem, with the first set's effects
    eliminated in closed form, is one symmetric positive semi-definite system in the second
    set's effects, ``(D_b - W_ba D_a^-1 W_ab) beta = B'W x - W_ba D_a^-1 A'W x``, whose product
    with a vector costs what one sweep costs (two gathers, two weighted bincounts); conjugate
    gradients with a diagonal (Jacobi) preconditioner solve it in far fewer products. The system
    is singular (a constant moves between the two sets; disconnected parts of the network each
    add one such direction) but consistent, which conjugate gradients handle. Stops when the
    residual of the reduced system is below ``tolerance`` relative to the column's scale, the
    criterion alternating projections use for their steps.
    """
    a, b = groups
    d_a, d_b = group_weight
    inv_a, inv_b = inverse_weight
    n_b = len(d_b)

    def w_ab(v: np.ndarray) -> np.ndarray:  # A'W B v, per level of a
        return np.bincount(a, weights=weights * v[b], minlength=len(d_a))

    def w_ba(u: np.ndarray) -> np.ndarray:  # B'W A u, per level of b
        return np.bincount(b, weights=weights * u[a], minlength=n_b)

    def reduced(v: np.ndarray) -> np.ndarray:
        return d_b * v - w_ba(inv_a * w_ab(v))

    wx = weights * values
    a_means = inv_a * np.bincount(a, weights=wx, minlength=len(d_a))
    rhs = np.bincount(b, weights=wx, minlength=n_b) - w_ba(a_means)
    # Jacobi preconditioner: the diagonal of the reduced matrix, sum over a of W_ab^2 / D_a.
    diagonal = d_b - np.bincount(b, weights=weights * weights * inv_a[a], minlength=n_b)
    diagonal_inverse = np.where(diagonal > 1e-12 * np.maximum(d_b, 1e-300), 1.0 / np.where(diagonal > 0, diagonal, 1.0), 0.0)
    threshold = tolerance * scale * math.sqrt(float(np.dot(d_b, d_b)))
    beta = np.zeros(n_b)
    residual = rhs.copy()
    z = diagonal_inverse * residual
    direction = z.copy()
    rz = float(np.dot(residual, z))
    for _ in range(max_iterations):
        if math.sqrt(float(np.dot(residual, residual))) <= threshold:
            break
        product = reduced(direction)
        curvature = float(np.dot(direction, product))
        if curvature <= 0:
            break
        step = rz / curvature
        beta += step * direction
        residual -= step * product
        z = diagonal_inverse * residual
        rz_next = float(np.dot(residual, z))
        direction = z + (rz_next / rz) * direction
        rz = rz_next
    alpha = a_means - inv_a * w_ab(beta)
    values -= alpha[a]
    values -= beta[b]


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
    columns, so thousands of accounts need no dummy columns. Two sets of account effects are projected
    out by conjugate gradients on the reduced system (:func:`_demean_two_way`): on sparse follow
    networks alternating projections need hundreds of sweeps (``benchmarks/bench_models.py``). Fixed effects with at most
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
        raise NotEstimable("no observation carries information once fixed effects are absorbed (every group has zero engagement)")
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
    return CountRegression(params, mu, keep, scores, bread, iteration, converged, all_zero, singletons, X_tilde, weights)
