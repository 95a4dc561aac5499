"""Comparisons of mutual and one-way follows: raw, across specifications, moderated, and for personal exports."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from ..dyads import DyadTable
from ..model import INTERACTION_KINDS
from .covariance import (
    COVARIANCE_LABELS,
    COVARIANCE_METHODS,
    HEADLINE_COVARIANCE,
    SMALL_CLUSTER_METHODS,
    Covariances,
    critical_value,
    robust_covariances,
)
from .models import ACTIVITY_CONTROLS, DEGREE_CONTROLS, Estimate, ModelFit, ModelFrame, ModelSpec, fit_model
from .pair_controls import PAIR_CONTROLS, pair_controls_words

# ---------------------------------------------------------------------------------------------
# Raw comparison


def _mean_interval(values: np.ndarray, a: np.ndarray, b: np.ndarray, pairs: np.ndarray | None = None) -> tuple[float, float, float]:
    """A mean with its two-way clustered 95% interval."""
    n = len(values)
    mean = float(values.mean())
    if n < 2:
        return mean, float("nan"), float("nan")
    covariance = robust_covariances(
        (values - mean)[:, None],
        np.array([[1.0 / n]]),
        a,
        b,
        pairs=pairs,
        methods=(HEADLINE_COVARIANCE,),
        design=np.ones((n, 1)),
        weights=np.ones(n),
    )
    half_width = _headline_critical_value(covariance) * math.sqrt(max(covariance.matrices[HEADLINE_COVARIANCE][0, 0], 0.0))
    return mean, mean - half_width, mean + half_width


def _headline_critical_value(covariance: Covariances) -> float:
    """The t critical value of the headline interval with its effective clusters (normal without them)."""
    dof = covariance.degrees_of_freedom.get(HEADLINE_COVARIANCE)
    return critical_value(math.inf if dof is None else float(dof[0]))


def _rate_interval(
    y: np.ndarray, exposure: np.ndarray, a: np.ndarray, b: np.ndarray, pairs: np.ndarray | None = None
) -> tuple[float, float, float]:
    """Events per unit of exposure (pooled) with its two-way clustered 95% interval (log scale)."""
    events, exposure_total = float(y.sum()), float(exposure.sum())
    if events == 0 or exposure_total == 0:
        return (0.0 if exposure_total else float("nan")), float("nan"), float("nan")
    rate = events / exposure_total
    scores = (y - exposure * rate)[:, None] / events  # derivative of the log-rate estimating equation
    # Design influence for the effective clusters: Poisson variance exposure x rate per observation.
    covariance = robust_covariances(
        scores, np.array([[1.0]]), a, b, pairs=pairs, methods=(HEADLINE_COVARIANCE,), design=np.ones((len(y), 1)), weights=exposure * rate
    )
    half_width = _headline_critical_value(covariance) * math.sqrt(max(covariance.matrices[HEADLINE_COVARIANCE][0, 0], 0.0))
    return rate, rate * math.exp(-half_width), rate * math.exp(half_width)


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
            row.update({f"rate_per_{per_days:g}_days": rate * per_days, "rate_ci_low": low * per_days, "rate_ci_high": high * per_days})
        rows.append(row)
    return pd.DataFrame(rows)


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


FOLLOWBACK_RATE_MODERATORS = ("b_followback_rate", "b_followback_rate_excl_a")


def moderated_effect(
    frame: ModelFrame,
    moderator: str = "b_followback_rate_excl_a",
    center: float | None = None,
    grid: np.ndarray | None = None,
    min_followers: int = 5,
    direction: str = "ab",
) -> ModerationResult:
    """Fixed-effects Poisson with ``mutual x (moderator - center)``; the effect along ``grid`` with intervals.

    The default moderator is b's follow-back rate over its followers other than a (the pair left
    out: with it, a returned follow raises b's rate by construction). For a follow-back rate only
    followees with at least ``min_followers`` followers in the data take part: a share of two or
    three followers says little about how an account treats followers. ``center`` defaults to
    the median over mutual observations. ``direction`` "ba" asks the question the other way:
    b's engagement toward a, the engagement a follow-back is supposed to bring.
    """
    data = frame.data
    if moderator not in data:
        raise ValueError(f"moderator {moderator!r} is not a column of the model frame")
    values = data[moderator].to_numpy(dtype=float)
    if moderator in FOLLOWBACK_RATE_MODERATORS:
        few = data["b_followers_excl_a"].to_numpy(dtype=float) + 1 < min_followers
        values = np.where(few, np.nan, values)
    eligible = np.isfinite(values)
    if center is None:
        mutual_values = values[eligible & (data["mutual"].to_numpy() == 1)]
        center = float(np.median(mutual_values)) if len(mutual_values) else 0.0
    moderated = ModelFrame(data.assign(**{f"{moderator}_moderator": values}), frame.design, frame.exposure_known, frame.kinds, [])
    spec = ModelSpec(
        f"mutual x {moderator}" + (" (b toward a)" if direction == "ba" else ""),
        fixed_effects=True,
        direction=direction,
        moderator=f"{moderator}_moderator",
        moderator_center=center,
    )
    fit = fit_model(moderated, spec)
    # Rename the interaction term after the moderator the reader knows.
    interaction = fit.estimates.pop(f"mutual_x_{moderator}_moderator")
    interaction.term = f"mutual_x_{moderator}"
    fit.estimates[interaction.term] = interaction
    if min_followers and moderator in FOLLOWBACK_RATE_MODERATORS:
        fit.notes.append(f"Followees with fewer than {min_followers} followers are left out of this model.")
    grid = np.linspace(np.nanmin(values[eligible]), np.nanmax(values[eligible]), 41) if grid is None else np.asarray(grid, dtype=float)
    covariance = fit.covariance[HEADLINE_COVARIANCE]
    distance = grid - center
    log_ratio = fit.mutual.log_value + interaction.log_value * distance
    half_width = fit.mutual.critical_value() * np.sqrt(
        np.maximum(covariance[0, 0] + distance**2 * covariance[1, 1] + 2 * distance * covariance[0, 1], 0)
    )
    curve = pd.DataFrame(
        {
            moderator: grid,
            "rate_ratio": np.exp(log_ratio),
            "ci_low": np.exp(log_ratio - half_width),
            "ci_high": np.exp(log_ratio + half_width),
        }
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
    ] + pair_adjusted_specs(frame)


PAIR_ADJUSTED_PREFIX = "adjusted, and "


def pair_adjusted_specs(frame: ModelFrame) -> list[ModelSpec]:
    """The adjusted model plus what the data records about the pair itself, where it varies.

    The pair controls of :mod:`.pair_controls` (shared community, both brands, common
    followees) that are known for some observations and not constant; none: no such model.
    """
    data = frame.data
    controls = []
    for control in PAIR_CONTROLS:
        if control not in data:
            continue
        values = data[control].dropna()
        if not values.empty and values.min() != values.max():
            controls.append(control)
    if not controls:
        return []
    return [ModelSpec(PAIR_ADJUSTED_PREFIX + pair_controls_words(tuple(controls)), fixed_effects=True, controls=tuple(controls))]


def is_pair_adjusted(spec: ModelSpec) -> bool:
    """Whether a specification adds pair controls to the adjusted model."""
    return spec.fixed_effects and any(c in PAIR_CONTROLS for c in spec.controls) and spec.moderator is None


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
            add(
                "design",
                fit_model(arcs_frame, ModelSpec("fixed effects, mutual at the end (no split at the follow-back)", fixed_effects=True)),
            )
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
    for method in [m for m in COVARIANCE_METHODS + SMALL_CLUSTER_METHODS if m in estimate.standard_errors]:
        low, high = estimate.interval(method)
        rows.append(
            {
                "interval": COVARIANCE_LABELS[method],
                "standard_error": estimate.standard_errors[method],
                "ci_low": low,
                "ci_high": high,
                "effective_clusters": estimate.degrees_of_freedom[method] + 1 if method in estimate.degrees_of_freedom else math.nan,
                "width_vs_two_way": estimate.standard_errors[method] / estimate.standard_errors[HEADLINE_COVARIANCE],
            }
        )
    return pd.DataFrame(rows)


# ---------------------------------------------------------------------------------------------
# Personal exports: only the owner's outgoing engagement


def ego_comparison(
    dyads: DyadTable, kinds: tuple[str, ...] | list[str] = INTERACTION_KINDS, both_ways: bool = False
) -> tuple[pd.DataFrame, Estimate | None, list[str]]:
    """The owner's engagement toward accounts the owner follows, by whether they follow back.

    A personal export observes only the owner's outgoing engagement, so this is the one
    comparison it allows. There is one sender, so nothing about the owner needs controlling,
    but nothing about the other accounts can be (their activity is not in the data): the ratio
    mixes any effect of the follow-back with who tends to follow back. Each followee appears
    once, so the robust interval is also clustered on b. With ``both_ways`` (a collection that
    observed engagement toward the owner too) the limits say so; see :func:`ego_incoming_comparison`.
    """
    frame = dyads.frame
    owner_rows = frame[frame["a_is_owner"] & frame["ab_total"].notna()]
    limits = [] if both_ways else ["Only the owner's own engagement is recorded; what others did toward the owner is not in the export."]
    limits.append("Other accounts' activity and popularity are unknown, so the comparison cannot be adjusted for them.")
    if owner_rows.empty:
        return pd.DataFrame(), None, limits + ["The data hold no follows by the owner with recorded engagement."]
    if owner_rows["mutual"].isna().any():
        return pd.DataFrame(), None, limits + ["The export does not list followers, so follow-backs cannot be told apart."]
    table, estimate = _owner_side(
        owner_rows, dyads, kinds, ("owner follows, not followed back", "mutual"), "owner's engagement, mutual vs one-way"
    )
    return table, estimate, limits


def ego_incoming_comparison(
    dyads: DyadTable, kinds: tuple[str, ...] | list[str] = INTERACTION_KINDS
) -> tuple[pd.DataFrame, Estimate | None]:
    """Followers' engagement toward the owner, by whether the owner follows them back.

    Only where engagement toward the owner was observed (a collection from the platform's API).
    The same limits as :func:`ego_comparison`: an association, not adjusted for the followers.
    """
    frame = dyads.frame
    rows = frame[frame["b_is_owner"] & frame["ab_total"].notna()]
    if rows.empty or rows["mutual"].isna().any():
        return pd.DataFrame(), None
    return _owner_side(
        rows, dyads, kinds, ("follows the owner, not followed back", "mutual"), "engagement toward the owner, mutual vs one-way"
    )


def _owner_side(rows: pd.DataFrame, dyads: DyadTable, kinds, labels: tuple[str, str], name: str) -> tuple[pd.DataFrame, Estimate | None]:
    """Engagement along the arcs in ``rows`` (a toward b), one-way against mutual: counts and a Poisson ratio."""
    kinds = tuple(kinds)
    y = rows[[f"ab_{k}" for k in kinds]].sum(axis=1).to_numpy(dtype=float)
    mutual = rows["mutual"].to_numpy(dtype=float)
    b = rows["b_id"].cat.codes.to_numpy().astype(np.int64)
    a = rows["a_id"].cat.codes.to_numpy().astype(np.int64)
    exposure = rows["exposure_days"].to_numpy(dtype=float) if dyads.has_times else np.ones(len(y))
    table = []
    for value, label in zip((0.0, 1.0), labels):
        chosen = mutual == value
        table.append(
            {
                "status": label,
                "accounts": int(chosen.sum()),
                "events": float(y[chosen].sum()),
                "share_engaged": float((y[chosen] > 0).mean()) if chosen.any() else float("nan"),
                "events_per_account": float(y[chosen].mean()) if chosen.any() else float("nan"),
            }
        )
    estimate = None
    engaged = [y[mutual == value].sum() for value in (0.0, 1.0)]
    if 0 < mutual.sum() < len(mutual) and min(engaged) > 0:
        frame_for_model = ModelFrame(
            pd.DataFrame({"a": a, "b": b, "arc": np.arange(len(y)), "mutual": mutual, "exposure_days": exposure, "y_ab": y}),
            "arcs",
            dyads.has_times,
            kinds,
            [],
        )
        estimate = fit_model(frame_for_model, ModelSpec(name)).mutual
    return pd.DataFrame(table), estimate


def moderation_table(results: dict[str, ModerationResult]) -> pd.DataFrame:
    """One row per direction: the effect at the median rate and how it changes with the rate, in words a reader knows."""
    rows = []
    for question, result in results.items():
        low, high = result.interaction.interval()
        at_low, at_high = result.fit.mutual.interval()
        rows.append(
            {
                "engagement": question,
                "median follow-back rate of returning accounts": result.center,
                "mutual vs one-way at that rate": result.fit.mutual.value,
                "95% interval": f"{at_low:.2f} to {at_high:.2f}",
                "change of the ratio from rate 0 to rate 1": result.interaction.value,
                "95% interval of the change": f"{low:.2f} to {high:.2f}",
            }
        )
    return pd.DataFrame(rows)


def moderation_words(*results: ModerationResult) -> str:
    """The thesis' answer per direction, with the evidence's strength and never "no effect"."""
    sentences = []
    for result in results:
        toward = "b's engagement toward a" if result.fit.spec.direction == "ba" else "a's engagement toward b"
        low, high = result.interaction.interval()
        change = f"{result.interaction.value:.2f} (95% interval {low:.2f} to {high:.2f})"
        if high < 1:
            sentences.append(
                f"For {toward}, follow-backs from accounts that follow back more of their followers go with a "
                f"smaller mutual effect: the ratio changes by a factor {change} from a rate of 0 to 1."
            )
        elif low > 1:
            sentences.append(
                f"For {toward}, follow-backs from accounts that follow back more of their followers go with a "
                f"larger mutual effect: the ratio changes by a factor {change} from a rate of 0 to 1."
            )
        else:
            sentences.append(
                f"For {toward}, these data cannot tell whether the mutual effect depends on how many of its "
                f"followers the returning account follows back (factor {change} from a rate of 0 to 1); that "
                "is not evidence that it does not."
            )
    return " ".join(sentences)
