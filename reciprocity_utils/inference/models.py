"""The data a model sees, model specifications, and fits with every covariance."""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd
import statsmodels.api as sm

from ..dyads import DyadTable
from ..model import INTERACTION_KINDS
from ..stopwatch import timed
from .covariance import (
    COVARIANCE_LABELS,
    COVARIANCE_METHODS,
    HEADLINE_COVARIANCE,
    SMALL_CLUSTER_METHODS,
    critical_value,
    robust_covariances,
    two_sided_p,
)
from .estimators import NotEstimable, fit_count_regression
from .pair_controls import PAIR_CONTROLS

DEGREE_CONTROLS = ("a_followers_excl_b", "a_following_excl_b", "b_followers_excl_a", "b_following_excl_a")
ACTIVITY_CONTROLS = ("a_sent_excl_b", "a_received_excl_b", "b_sent_excl_a", "b_received_excl_a")


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


# Whole counts are stored in 32 bits when every row is observed: exact, and half the memory of
# floats (the frames are the largest thing study 03 holds). Anything computed from them (sums,
# logs, the design matrix) is promoted to 64 bits by numpy and pandas, so no result changes.
_INT32_MAX = np.iinfo(np.int32).max


def _count_column(values: pd.Series | np.ndarray, rows: np.ndarray | slice) -> np.ndarray:
    """``values[rows]`` as int32 when observed everywhere and within range, else float64 with NaN where unobserved."""
    array = values.array if isinstance(values, pd.Series) else values
    if isinstance(array, pd.arrays.IntegerArray):
        if not array._mask.any():
            array = array._data
        else:
            return array.to_numpy(dtype=float, na_value=np.nan)[rows]
    array = np.asarray(array)
    if array.dtype.kind in "iu" and (len(array) == 0 or (array.min() >= -_INT32_MAX and array.max() <= _INT32_MAX)):
        column = array.astype(np.int32, copy=False)[rows]
        if np.shares_memory(column, array):
            column.flags.writeable = False  # a view of the source's column: never written through
        return column
    return array.astype(float)[rows]


def _flag_column(known: np.ndarray, flag: np.ndarray) -> np.ndarray:
    """A 0/1 indicator, NaN where unknown, in 32-bit floats (exact for 0, 1 and NaN)."""
    return np.where(known, flag, np.nan).astype(np.float32)


def model_frame(
    dyads: DyadTable, segments: pd.DataFrame | None = None, kinds: tuple[str, ...] | list[str] = INTERACTION_KINDS
) -> ModelFrame:
    """Assemble model observations from the dyad table (and, when given, its state segments).

    ``kinds`` are the engagement kinds whose events count as the outcome (e.g. mentions and
    reposts only, for data that records nothing else). Only a's events toward b are kept per
    kind; b's toward a enter summed, as ``y_ba``.
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
        mutual = (segments["state"] == "mutual").to_numpy()
        exposure = segments["exposure_days"].to_numpy(dtype=float)
        design, exposure_known = "states", True
    else:
        source = arcs
        arc = np.arange(len(arcs))
        mutual = arcs["mutual"].to_numpy(dtype=bool)
        exposure_known = dyads.has_times
        exposure = arcs["exposure_days"].to_numpy(dtype=float) if exposure_known else np.ones(len(arcs))
        design = "arcs"
    # Rows of the source and arcs of the dyad table each observation takes: a slice while every
    # row is kept, so that count columns are views of the source's (no copy) and the two model
    # frames and the dyad table share them.
    rows: slice | np.ndarray = slice(None)
    arc_rows: slice | np.ndarray = slice(None) if segments is None else arc
    if exposure_known:
        # Left out before any column is built, so the frame is never copied to drop them.
        no_exposure = ~(exposure > 0)
        if no_exposure.any():
            notes.append(
                f"{int(no_exposure.sum()):,} observations with no exposure time (follows at the very end of the data) are left out."
            )
            rows = np.flatnonzero(~no_exposure)
            arc, mutual, exposure, arc_rows = arc[rows], mutual[rows], exposure[rows], arc[rows]
    # Codes in 32 bits (an in-memory table never has 2^31 accounts or arcs); the covariances
    # widen them before forming pair keys.
    index_type = np.int32 if len(arcs) < _INT32_MAX else np.int64
    a_codes = arcs["a_id"].cat.codes.to_numpy().astype(index_type)
    b_codes = arcs["b_id"].cat.codes.to_numpy().astype(index_type)
    columns: dict[str, Any] = {
        "a": a_codes[arc_rows],
        "b": b_codes[arc_rows],
        "arc": arc.astype(index_type),
        "mutual": mutual.astype(np.int8),
        "exposure_days": exposure,
    }
    del a_codes, b_codes
    for kind in INTERACTION_KINDS:
        columns[f"ab_{kind}"] = _count_column(source[f"ab_{kind}"], rows)
    for direction in ("ab", "ba"):
        # Summed kind by kind: NaN (unobserved) in any chosen kind leaves the outcome unknown.
        total = None
        for kind in kinds:
            values = columns[f"ab_{kind}"] if direction == "ab" else _count_column(source[f"ba_{kind}"], rows)
            total = values.astype(np.int64 if values.dtype.kind == "i" else float) if total is None else total + values
        columns[f"y_{direction}"] = _count_column(total, slice(None))
        del total
    for column in (*DEGREE_CONTROLS, *ACTIVITY_CONTROLS):
        columns[column] = _count_column(arcs[column], arc_rows)
    for column in ("a_followback_rate", "b_followback_rate"):
        columns[column] = arcs[column].to_numpy(dtype=float, na_value=np.nan)[arc_rows]
    # b's follow-back rate over its *other* followers: counting the pair itself would put the
    # treatment (whether b returned a's follow) inside the moderator of its effect. Computed in
    # place: whole-column temporaries would add to the peak memory.
    others = columns["b_followers_excl_a"].astype(float)
    rate = others + 1
    rate *= columns["b_followback_rate"]
    np.rint(rate, out=rate)
    rate -= arcs["mutual"].to_numpy(dtype=bool)[arc_rows]  # b's follow-backs of the others
    has_others = others > 0
    np.divide(rate, others, out=rate, where=has_others)
    rate[~has_others] = np.nan
    columns["b_followback_rate_excl_a"] = rate
    del others, rate, has_others
    for column in ("a_kind", "b_kind", "a_community", "b_community"):
        if column in arcs:
            columns[column] = arcs[column].array if segments is None and isinstance(rows, slice) else arcs[column].array.take(arc)
    if "a_community" in columns and "b_community" in columns:
        # Unknown where either account is unlabelled: not the same as "different communities".
        a_community, b_community = columns["a_community"], columns["b_community"]
        known = a_community.notna() & b_community.notna()
        if a_community.categories.equals(b_community.categories):  # as the dyad table makes them: compare codes
            same = a_community.codes == b_community.codes
        else:
            same = (pd.Series(a_community).astype("string") == pd.Series(b_community).astype("string")).fillna(False).to_numpy(dtype=bool)
        columns["same_community"] = _flag_column(known, same)
    if arcs["b_kind"].notna().any():
        a_kind, b_kind = columns["a_kind"], columns["b_kind"]
        a_brand, b_brand = np.asarray(a_kind == "brand", dtype=bool), np.asarray(b_kind == "brand", dtype=bool)
        b_known = b_kind.notna()
        columns["b_is_brand"] = _flag_column(b_known, b_brand)
        columns["both_brands"] = _flag_column(b_known & a_kind.notna(), a_brand & b_brand)
    columns["log_shared_followees"] = np.log1p(dyads.shared_followees()[arc_rows], dtype=float)
    data = pd.DataFrame(columns, copy=False)
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
            raise ValueError(
                "fixed effects are supported for the Poisson model only (negative binomial and logit fixed effects carry incidental-parameter bias)"
            )
        if self.fixed_effects and any(c not in PAIR_CONTROLS for c in self.controls):
            raise ValueError(
                "with fixed effects for both accounts, account-level controls are absorbed: only pair-level "
                f"controls ({', '.join(PAIR_CONTROLS)}) can be added"
            )
        if self.direction not in ("ab", "ba"):
            raise ValueError(f"direction must be 'ab' or 'ba', not {self.direction!r}")


@dataclass
class Estimate:
    """One coefficient on the log scale with its standard error under every covariance method."""

    term: str
    ratio_name: str  # "rate ratio" or "odds ratio"
    log_value: float
    standard_errors: dict[str, float]
    # t degrees of freedom per clustered method (G* - 1, see covariance.effective_clusters);
    # a method absent here is referred to the normal.
    degrees_of_freedom: dict[str, float] = field(default_factory=dict)

    @property
    def value(self) -> float:
        return math.exp(self.log_value)

    def critical_value(self, method: str = HEADLINE_COVARIANCE) -> float:
        return critical_value(self.degrees_of_freedom.get(method, math.inf))

    def interval(self, method: str = HEADLINE_COVARIANCE) -> tuple[float, float]:
        half_width = self.critical_value(method) * self.standard_errors[method]
        return math.exp(self.log_value - half_width), math.exp(self.log_value + half_width)

    def p_value(self, method: str = HEADLINE_COVARIANCE) -> float:
        se = self.standard_errors[method]
        return two_sided_p(self.log_value / se, self.degrees_of_freedom.get(method, math.inf)) if se > 0 else float("nan")

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


def _design(
    frame: ModelFrame, spec: ModelSpec
) -> tuple[np.ndarray, np.ndarray, list[str], np.ndarray, np.ndarray, dict[str, int], list[str]]:
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
    with timed(f"model: {spec.label}", len(frame)):
        return _fit_model(frame, spec)


def _fit_model(frame: ModelFrame, spec: ModelSpec) -> ModelFit:
    y, X, names, offset, used, dropped, notes = _design(frame, spec)
    a = frame.data["a"].to_numpy()[used]
    b = frame.data["b"].to_numpy()[used]
    arcs = frame.data["arc"].to_numpy()[used]
    if len(y) == 0 or (spec.family != "logit" and y.sum() == 0) or np.ptp(X[:, 0]) == 0:
        raise NotEstimable(f"{spec.label}: nothing to estimate (no observations, no engagement, or no variation in mutual status)")
    n_terms = 2 if spec.moderator else 1
    design = weights = None
    if spec.family == "logit":
        params, scores, bread, design, weights = _fit_logit(y, X, offset if frame.exposure_known else None, notes)
    else:
        alpha = _negative_binomial_dispersion(y, X, offset, notes) if spec.family == "negbin" else 0.0
        fit = fit_count_regression(y, X, offset, [a, b] if spec.fixed_effects else [], alpha=alpha)
        if not fit.converged:
            notes.append(f"The fit stopped after {fit.iterations} iterations without meeting its tolerance.")
        if spec.fixed_effects:
            dropped["no engagement in the account's group"] = fit.dropped_all_zero
            dropped["single observation in the account's group"] = fit.dropped_singletons
        params, scores, bread, design, weights = fit.params, fit.scores, fit.bread, fit.design, fit.weights
        a, b, arcs = a[fit.kept], b[fit.kept], arcs[fit.kept]
    covariances = robust_covariances(
        scores, bread, a, b, pairs=arcs, terms=n_terms, methods=COVARIANCE_METHODS + SMALL_CLUSTER_METHODS, design=design, weights=weights
    )
    ratio_name = "odds ratio" if spec.family == "logit" else "rate ratio"
    estimates = {
        names[i]: Estimate(
            names[i],
            ratio_name,
            float(params[i]),
            {m: float(math.sqrt(max(c[i, i], 0.0))) for m, c in covariances.matrices.items()},
            {m: float(dof[i]) for m, dof in covariances.degrees_of_freedom.items()},
        )
        for i in range(n_terms)
    }
    block = dict(covariances.matrices)
    notes.extend(
        f"The {COVARIANCE_LABELS[m]} covariance had {k} negative eigenvalue(s), set to zero."
        for m, k in covariances.clipped_eigenvalues.items()
        if k
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


def _fit_logit(y: np.ndarray, X: np.ndarray, offset: np.ndarray | None, notes: list[str]) -> tuple[np.ndarray, ...]:
    """Logit of any engagement (statsmodels); log exposure enters as a regressor when known.

    Returns the coefficients, per-observation scores, the inverse information, the design and
    the final weights p(1 - p) (for the effective number of clusters).
    """
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
    probability = model.predict(params)
    return (
        params,
        np.asarray(model.score_obs(params)),
        np.linalg.inv(-np.asarray(model.hessian(params))),
        design,
        probability * (1 - probability),
    )
