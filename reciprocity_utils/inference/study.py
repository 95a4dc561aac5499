"""What notebook 03 needs around the models: parameters, what a source allows, planted truth, tables."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from ..dyads import DyadTable, build_dyads
from ..model import INTERACTION_KINDS, StudyDataset
from ..segments import engagement_segments
from ..stopwatch import timed_step
from .covariance import HEADLINE_COVARIANCE
from .designs import is_pair_adjusted, raw_comparison
from .models import ModelFit, ModelFrame, model_frame

# ---------------------------------------------------------------------------------------------
# What the notebook needs around the models: parameters, observability, planted truth


ADJUSTED_LABEL = "adjusted: fixed effects for every a and b"
RAW_LABEL = "raw: no controls"


def headline_fit(fits: dict[str, ModelFit]) -> ModelFit | None:
    """The most adjusted fit: fixed effects and what the data records about the pair where it does, else fixed effects."""
    paired = [fit for fit in fits.values() if is_pair_adjusted(fit.spec)]
    return paired[0] if paired else fits.get(ADJUSTED_LABEL)


def check_study_parameters(
    engagement_kinds: str,
    n_permutations: int,
    n_bootstrap: int,
    timing_periods: int,
    lead_weeks: int,
    pretrend_margin: float,
    moderator_min_followers: int,
    validation_replications: int,
) -> tuple[str, ...]:
    """Validate study 03's own parameters; returns the engagement kinds as a tuple."""
    from ..parameters import ParameterError

    if not isinstance(engagement_kinds, str) or not engagement_kinds.strip():
        raise ParameterError(
            f"engagement_kinds must be 'all' or kinds separated by commas, e.g. 'mention,repost'; got {engagement_kinds!r}"
        )
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
        ("lead_weeks", lead_weeks, 1),
        ("moderator_min_followers", moderator_min_followers, 1),
        ("validation_replications", validation_replications, 0),
    ):
        if isinstance(value, bool) or not isinstance(value, int) or value < low:
            raise ParameterError(f"{name} must be a whole number of at least {low}, got {value!r}")
    if isinstance(pretrend_margin, bool) or not isinstance(pretrend_margin, (int, float)) or not 1 < pretrend_margin < math.inf:
        raise ParameterError(f"pretrend_margin must be a ratio above 1 (e.g. 1.5: a change by half), got {pretrend_margin!r}")
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

    dataset: StudyDataset | None
    kinds: tuple[str, ...]
    dyads: DyadTable
    frame: ModelFrame | None
    arcs_frame: ModelFrame | None
    unavailable: str | None
    timing_unavailable: str | None
    is_ego: bool
    # Where the timing design and the out-of-time prediction run (each event's time needed): the
    # same dataset and table, or a whole network's random subgraph when the models use its table.
    timing_dataset: StudyDataset | None = None
    timing_dyads: DyadTable | None = None
    # What the data is, for the page's notes and the recorded results (a dataset, or a whole network's description).
    described: Any = None
    scope_notes: list[str] = field(default_factory=list)
    timing_note: str = ""  # where the timing design ran, when not on the models' data

    def __post_init__(self) -> None:
        if self.timing_dataset is None:
            self.timing_dataset, self.timing_dyads = self.dataset, self.dyads
        if self.described is None:
            self.described = self.dataset

    def notes(self) -> list[str]:
        """The page's notes on the data, once each: what it records, what the models ran on, what they could not use."""
        described = self.described.coverage.describe() if self.described is not None else []
        notes = described + self.scope_notes + self.dyads.notes
        notes += [n for n in (self.unavailable, self.timing_unavailable) if n]
        return list(dict.fromkeys(notes))

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
            "exposure": "days from the follow (or the start of the data) to the end"
            if self.dyads.has_times
            else "unknown: equal for every follow",
            "model design": {
                "states": "each follow's time split at the follow-back (one-way vs mutual state)",
                "arcs": "mutual status at the end of the data",
            }.get(self.frame.design if self.frame is not None else "", "not estimable"),
        }


def _unavailable(coverage: Any) -> str | None:
    """Why this source does not allow the network models, in a sentence (None: it does)."""
    if not coverage.mutuality_observable:
        return f"In this source {coverage.follows_missing_words}, so follow-backs cannot be told apart from one-way follows."
    if coverage.engagement_observed == "none":
        return "The source records no engagement."
    if coverage.engagement_observed == "owner_outgoing":
        return (
            "The source records only the owner's own engagement: models of engagement between accounts need everyone's "
            "engagement, so only the owner's comparison below is possible."
        )
    if coverage.scope == "ego":
        return (
            "Every follow in this source involves the owner, so the models that compare many accounts' pairs (each account's "
            "own activity and popularity absorbed) cannot be fitted: only the owner's comparison below, in both directions, is "
            "possible. A network collection (`reciprocity collect ... --depth 1`) allows the models."
        )
    return None


NO_ENGAGEMENT_IN_A_GROUP = "Engagement is needed among both mutual and one-way follows, and one of the two groups has none."


def _engaged_in_both_groups(arcs_frame: ModelFrame) -> bool:
    engaged = arcs_frame.data.groupby("mutual")["y_ab"].sum()
    return len(engaged) == 2 and bool((engaged > 0).all())


@timed_step("the dyad table and model frames")
def prepare_study(dataset: StudyDataset, kinds: tuple[str, ...] | list[str] = INTERACTION_KINDS, whole_network: Any = None) -> StudyData:
    """Build the dyad table and the model frames, and decide what this source lets the study estimate.

    ``whole_network`` (:class:`~reciprocity_utils.dyad_files.WholeNetworkDyads`, for a network an
    engine measured; ``dataset`` is then its random subgraph): the per-follow models use the whole
    network's table where it fits in memory, the timing design and the prediction the subgraph.
    """
    study = _prepare_in_memory(dataset, tuple(kinds))
    if whole_network is None:
        return study
    if whole_network.table is None:
        study.scope_notes = [whole_network.too_large]
        return study
    whole = _prepare_from_dyads(whole_network.table, whole_network.coverage, tuple(kinds))
    whole.timing_dataset, whole.timing_dyads = dataset, study.dyads
    whole.timing_unavailable = whole.unavailable or study.timing_unavailable
    whole.described, whole.scope_notes = whole_network, whole_network.scope_notes()
    whole.timing_note = "The timing design ran on the random subgraph described above (it needs each engagement event's time)."
    return whole


def _prepare_in_memory(dataset: StudyDataset, kinds: tuple[str, ...]) -> StudyData:
    kinds = tuple(kinds)
    dyads = build_dyads(dataset)
    coverage = dataset.coverage
    is_ego = coverage.scope == "ego" or coverage.engagement_observed == "owner_outgoing"
    unavailable = _unavailable(coverage)
    frame = arcs_frame = None
    if unavailable is None:
        # The segments first: the memory their construction takes at its peak is then not added
        # to a frame already built (about a third off prepare_study's peak).
        if dyads.split_known and coverage.follow_times:
            segments, _ = engagement_segments(dataset, dyads)
            frame = model_frame(dyads, segments, kinds=kinds)
            del segments
        arcs_frame = model_frame(dyads, kinds=kinds)
        frame = arcs_frame if frame is None else frame
        if not _engaged_in_both_groups(arcs_frame):
            unavailable = NO_ENGAGEMENT_IN_A_GROUP
            frame = arcs_frame = None
    timing_unavailable = None
    if unavailable:
        timing_unavailable = unavailable
    elif not (dyads.split_known and coverage.follow_times):
        timing_unavailable = (
            "Follow times or engagement times are missing, so engagement before and after a follow-back cannot be compared "
            "and the timing design and the out-of-time prediction are skipped."
        )
    return StudyData(dataset, kinds, dyads, frame, arcs_frame, unavailable, timing_unavailable, is_ego)


WHOLE_TABLE_NO_TIMING = (
    "The whole network's table counts engagement per follow, not event by event, so the timing design and the "
    "out-of-time prediction cannot run on it."
)


@timed_step("the dyad table and model frames")
def prepare_study_from_dyads(dyads: DyadTable, coverage: Any, kinds: tuple[str, ...] | list[str] = INTERACTION_KINDS) -> StudyData:
    return _prepare_from_dyads(dyads, coverage, tuple(kinds))


def _prepare_from_dyads(dyads: DyadTable, coverage: Any, kinds: tuple[str, ...]) -> StudyData:
    """The models on a dyad table an engine computed over a whole network (no events in memory).

    Where every follow's time can be split at the follow-back, the frame is the same state design
    the in-memory study uses (each follow's one-way and mutual time, from the engine's per-state
    counts); else one row per follow (mutual at the end of the data against not). The timing
    design and the out-of-time prediction need each event's time: they cannot run on the table.
    ``dataset`` is ``None``: the events behind the table were never loaded.
    """
    from ..segments import state_segments

    kinds = tuple(kinds)
    is_ego = coverage.scope == "ego" or coverage.engagement_observed == "owner_outgoing"
    unavailable = _unavailable(coverage)
    frame = arcs_frame = None
    if unavailable is None:
        if dyads.split_known and coverage.follow_times and dyads.state_counts is not None:
            frame = model_frame(dyads, state_segments(dyads), kinds=kinds)
        arcs_frame = model_frame(dyads, kinds=kinds)
        frame = arcs_frame if frame is None else frame
        if not _engaged_in_both_groups(arcs_frame):
            unavailable, frame, arcs_frame = NO_ENGAGEMENT_IN_A_GROUP, None, None
    return StudyData(None, kinds, dyads, frame, arcs_frame, unavailable, unavailable or WHOLE_TABLE_NO_TIMING, is_ego)


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

    from ..model import file_sha256
    from ..paths import SAMPLE_DIR

    def read(path: Path) -> dict[str, Any]:
        planted = json.loads(path.read_text(encoding="utf-8"))["planted"]
        return {
            "mutual_rate_ratio": planted["mutual_rate_ratio"],
            "auto_followback_ratio": planted["auto_followback_ratio"],
            "source": str(path.name),
        }

    if input_path is not None and Path(input_path).is_dir() and (Path(input_path) / "truth.json").exists():
        return read(Path(input_path) / "truth.json")
    provenance = dataset.provenance
    if provenance.loader == "synthetic" and "mutual_rate_ratio" in provenance.parameters:
        parameters = provenance.parameters
        auto = parameters.get("auto_followback_ratio")
        return {
            "mutual_rate_ratio": parameters["mutual_rate_ratio"],
            "auto_followback_ratio": auto if auto is not None else parameters["mutual_rate_ratio"],
            "source": "generator parameters",
        }
    truth_file = SAMPLE_DIR / "truth.json"
    if provenance.inputs and truth_file.exists():
        matches = all(
            (SAMPLE_DIR / item.name).is_file() and file_sha256(SAMPLE_DIR / item.name) == item.sha256 for item in provenance.inputs
        )
        if matches:
            return read(truth_file)
    return None


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
