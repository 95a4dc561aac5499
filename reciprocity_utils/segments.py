"""Each follow's exposure cut into pieces by state and calendar period, with the events of each piece.

States (:data:`SEGMENT_STATES`): one-way before the follow-back (or always, for follows never
returned), the last ``lead_days`` before a follow-back (the pre-trend check), and mutual from the
follow-back on. The pieces feed the models that need to know *when* a pair became mutual: the rate
ratio of the mutual state against the one-way state of the same follow, and the within-pair timing
design. :func:`engagement_segments` places the events themselves (a dataset in memory);
:func:`state_segments` takes the per-state counts an engine computed over a whole network. Both cut
the pieces with :func:`segment_pieces`, so both give the same frame.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from .account_codes import arrow_strings
from .dyads import MICROSECONDS_PER_DAY, NOT_A_TIME, DyadTable, _as_us, _compact, _epoch_us, event_arcs
from .model import INTERACTION_KINDS, StudyDataset

__all__ = ["SEGMENT_STATES", "engagement_segments", "segment_pieces", "state_period_pieces", "state_segments"]

# Segment states in the order their codes use.
SEGMENT_STATES = ("one_way", "lead", "mutual")


def state_period_pieces(arcs: np.ndarray, bounds: np.ndarray, edges: np.ndarray) -> tuple[np.ndarray, ...]:
    """Each arc's exposure cut by state and calendar period, as sorted arrays of non-empty pieces.

    ``bounds`` holds, per arc of ``arcs``, the microsecond boundaries of its consecutive states
    (one column more than states); ``edges`` the calendar periods' boundaries. Returns ``arc``,
    ``state``, ``period``, ``exposure`` (days) and ``cell`` (a sort key unique per arc, state and
    period), ordered by cell: events are placed into pieces by searching it.
    """
    n_states, n_periods = bounds.shape[1] - 1, len(edges) - 1
    pieces = []
    for state in range(n_states):
        low, high = bounds[:, state], bounds[:, state + 1]
        for period in range(n_periods):
            overlap = np.minimum(high, edges[period + 1]) - np.maximum(low, edges[period])
            has = overlap > 0
            pieces.append((arcs[has], np.full(has.sum(), state), np.full(has.sum(), period), overlap[has]))
    arc = np.concatenate([p[0] for p in pieces])
    state = np.concatenate([p[1] for p in pieces]).astype(np.int64)
    period = np.concatenate([p[2] for p in pieces]).astype(np.int64)
    exposure = np.concatenate([p[3] for p in pieces]) / MICROSECONDS_PER_DAY
    cell = (arc * n_states + state) * n_periods + period
    order = np.argsort(cell, kind="stable")
    return arc[order], state[order], period[order], exposure[order], cell[order]


def engagement_segments(
    dataset: StudyDataset,
    dyads: DyadTable,
    period_edges: list[pd.Timestamp] | None = None,
    lead_days: float = 0.0,
    only: np.ndarray | None = None,
) -> tuple[pd.DataFrame, dict[str, int]]:
    """Each arc's exposure cut by state and calendar period, with a's events toward b in each piece.

    States (:data:`SEGMENT_STATES`): ``one_way`` before the follow-back (or always, for arcs never
    returned), ``lead`` the last ``lead_days`` before a follow-back (only when ``lead_days > 0``;
    used to check for engagement rising *before* the follow-back), ``mutual`` from the follow-back
    on. ``period_edges`` cut calendar time (default: the whole window as one period).

    Returns the segments (``arc`` = row of the dyad table, ``a_id``, ``b_id``, ``state``,
    ``period``, ``exposure_days``, ``ab_<kind>``, ``ab_total``, and ``ba_<kind>``, ``ba_total``:
    b's events toward a during the same piece) and the number of arcs left out,
    by reason. Arcs whose split is unknown (a mutual pair missing a follow time, an event without
    time) cannot be cut and are left out; so are arcs with no exposure. ``only`` (a boolean mask
    over the dyad table's rows) limits the segments to those arcs.
    """
    if not dyads.has_times:
        raise ValueError("engagement_segments needs times: this dataset carries no follow or event times")
    if lead_days < 0:
        raise ValueError(f"lead_days must be at least 0, got {lead_days!r}")
    frame = dyads.frame
    pieces = segment_pieces(dyads, period_edges, lead_days, only)
    kept, exposure_from, lead_from, returned_at = pieces.kept, pieces.exposure_from, pieces.lead_from, pieces.returned_at
    arc, edges, cell, left_out = pieces.arc, pieces.edges, pieces.cell, pieces.left_out
    n_periods = len(edges) - 1

    # Events a -> b inside the exposure window, placed in their arc's state and period.
    event_arc, reverse_arc = event_arcs(dataset, dyads)
    events = dataset.interactions
    at = _epoch_us(events["at"])
    usable = (event_arc >= 0) & (at != NOT_A_TIME)
    usable[usable] &= kept[event_arc[usable]]
    usable[usable] &= at[usable] >= exposure_from[event_arc[usable]]
    # b's events toward a during the same pieces of a's exposure: the other direction.
    reverse_usable = (reverse_arc >= 0) & (at != NOT_A_TIME)
    reverse_usable[reverse_usable] &= kept[reverse_arc[reverse_usable]]
    reverse_usable[reverse_usable] &= at[reverse_usable] >= exposure_from[reverse_arc[reverse_usable]]
    kind_names = pa.array(list(INTERACTION_KINDS))
    all_kinds = pc.index_in(arrow_strings(events["kind"]), value_set=kind_names).to_numpy(zero_copy_only=False)
    counts_column = events["count"].to_numpy()
    all_weights = None if (counts_column == 1).all() else counts_column.astype(np.float64)
    del counts_column
    position_type = np.int32 if len(cell) < np.iinfo(np.int32).max else np.int64

    def place(arc_of_event: np.ndarray, chosen: np.ndarray) -> np.ndarray:
        # Built in place, one array at a time: these are the largest temporaries of the segments.
        e_arc, e_at = arc_of_event[chosen], at[chosen]
        e_cell = e_arc.astype(np.int64)
        e_cell *= len(SEGMENT_STATES)
        e_cell += e_at >= lead_from[e_arc]  # the state: 0 one-way, 1 lead, 2 mutual (lead_from <= returned_at)
        e_cell += e_at >= returned_at[e_arc]
        del e_arc
        e_cell *= n_periods
        if n_periods > 1:
            e_cell += np.clip(np.searchsorted(edges, e_at, side="right") - 1, 0, n_periods - 1)
        del e_at
        # Searching sorted keys in order is far faster than searching them at random.
        by_cell = np.argsort(e_cell, kind="stable")
        position = np.empty(len(e_cell), dtype=position_type)
        position[by_cell] = np.searchsorted(cell, e_cell[by_cell])
        del by_cell
        np.minimum(position, max(len(cell) - 1, 0), out=position)
        if len(e_cell) and not np.array_equal(cell[position], e_cell):
            raise AssertionError("an event fell outside every exposure segment of its arc")  # a bug, not bad input
        return position

    directions = {"ab": (place(event_arc, usable), usable), "ba": (place(reverse_arc, reverse_usable), reverse_usable)}
    segments = pieces.frame(frame)
    for direction, (position, chosen) in directions.items():
        kind = all_kinds[chosen]
        weight = None if all_weights is None else all_weights[chosen]
        total = np.zeros(len(arc), np.int64)
        for code, name in enumerate(INTERACTION_KINDS):
            of_kind = kind == code
            counts = np.bincount(position[of_kind], weights=None if weight is None else weight[of_kind], minlength=len(arc))
            counts = counts.astype(np.int64, copy=False)
            segments[f"{direction}_{name}"] = _compact(counts)
            total += counts
        segments[f"{direction}_total"] = _compact(total)
    blank_unobserved(frame, segments, arc)
    return segments, left_out


@dataclass
class SegmentPieces:
    """Each kept arc's exposure cut into pieces by state and calendar period (see :func:`engagement_segments`)."""

    kept: np.ndarray  # per row of the dyad table
    exposure_from: np.ndarray
    lead_from: np.ndarray
    returned_at: np.ndarray
    edges: np.ndarray
    arc: np.ndarray  # per piece, sorted by cell
    state: np.ndarray
    period: np.ndarray
    exposure: np.ndarray
    cell: np.ndarray
    left_out: dict[str, int]

    def frame(self, dyad_frame: pd.DataFrame) -> pd.DataFrame:
        """The pieces as the segments' first columns (events are added by the caller)."""
        arc = self.arc
        return pd.DataFrame(
            {
                "arc": _compact(arc),
                "a_id": pd.Categorical.from_codes(dyad_frame["a_id"].cat.codes.to_numpy()[arc], dtype=dyad_frame["a_id"].dtype),
                "b_id": pd.Categorical.from_codes(dyad_frame["b_id"].cat.codes.to_numpy()[arc], dtype=dyad_frame["b_id"].dtype),
                "state": pd.Categorical.from_codes(self.state, categories=list(SEGMENT_STATES)),
                "period": _compact(self.period),
                "exposure_days": self.exposure,
            }
        )


def segment_pieces(
    dyads: DyadTable, period_edges: list[pd.Timestamp] | None = None, lead_days: float = 0.0, only: np.ndarray | None = None
) -> SegmentPieces:
    """Which arcs can be cut at the follow-back, their state boundaries, and the pieces of their exposure."""
    frame = dyads.frame
    # The window's last instant is an event of the data: make the end exclusive one microsecond later.
    start_us, end_us = _as_us(dyads.window_start), _as_us(dyads.window_end) + 1
    edges = np.array([start_us, end_us]) if period_edges is None else np.array([_as_us(pd.Timestamp(t)) for t in period_edges])
    if len(edges) < 2 or np.any(np.diff(edges) <= 0):
        raise ValueError("period_edges must be at least two increasing times")
    edges[0], edges[-1] = min(edges[0], start_us), max(edges[-1], end_us)
    followed = _epoch_us(frame["followed_at"])
    mutual = frame["mutual"].fillna(False).to_numpy(dtype=bool)
    since = _epoch_us(frame["mutual_since"])
    exposure_from = np.where(followed == NOT_A_TIME, start_us, np.maximum(followed, start_us))
    returned_at = np.where(mutual, np.clip(since, exposure_from, end_us), end_us)
    lead_from = np.where(mutual, np.maximum(exposure_from, returned_at - int(lead_days * MICROSECONDS_PER_DAY)), returned_at)
    unknown = frame["ab_one_way"].isna().to_numpy() | frame["ab_total"].isna().to_numpy()
    no_exposure = ~unknown & (exposure_from >= end_us)
    kept = ~unknown & ~no_exposure
    left_out = {"split_unknown": int(unknown.sum()), "no_exposure": int(no_exposure.sum())}
    if only is not None:
        left_out["not_selected"] = int((kept & ~only).sum())
        kept &= only
    # State boundaries per arc: one-way [from, lead_from), lead [lead_from, returned_at), mutual [returned_at, end).
    arcs = np.flatnonzero(kept)
    bounds = np.stack([exposure_from[arcs], lead_from[arcs], returned_at[arcs], np.full(len(arcs), end_us)], axis=1)
    arc, state, period, exposure, cell = state_period_pieces(arcs, bounds, edges)
    return SegmentPieces(kept, exposure_from, lead_from, returned_at, edges, arc, state, period, exposure, cell, left_out)


def blank_unobserved(dyad_frame: pd.DataFrame, segments: pd.DataFrame, arc: np.ndarray) -> None:
    """Directions the source did not observe stay unknown rather than zero, in place."""
    for direction in ("ab", "ba"):
        unobserved = dyad_frame[f"{direction}_total"].isna().to_numpy()[arc]
        if unobserved.any():
            for name in (*INTERACTION_KINDS, "total"):
                column = f"{direction}_{name}"
                segments[column] = pd.arrays.IntegerArray(segments[column].to_numpy(), unobserved)


def state_segments(dyads: DyadTable) -> pd.DataFrame:
    """Each follow's exposure split at the follow-back, with the events each way in each state, from an engine's table.

    The same frame as :func:`engagement_segments` (one calendar period,
    no lead state) gives from the events themselves: pieces cut by the same code, a's events toward
    b and b's toward a counted per state by the engine. Follows whose split is unknown (an event
    without time, a mutual pair without both follow times) and those without exposure are left out.
    """
    if dyads.state_counts is None:
        raise ValueError("this dyad table has no per-state counts (it was built in memory: use engagement_segments)")
    if not dyads.has_times:
        raise ValueError("state segments need times: this data carries no follow or event times")
    frame, counts = dyads.frame, dyads.state_counts
    pieces = segment_pieces(dyads)  # one calendar period, no lead state: as study 03's models use them
    arc = pieces.arc
    after = pieces.state == SEGMENT_STATES.index("mutual")
    segments = pieces.frame(frame)
    for direction in ("ab", "ba"):
        total = np.zeros(len(arc), np.int64)
        for kind in INTERACTION_KINDS:
            # Dated events only, as the in-memory segments place them (an undated event has no state).
            inside = counts[f"{direction}_dated_{kind}"].to_numpy(dtype=np.int64)
            after_switch = counts[f"{direction}_after_{kind}"].to_numpy(dtype=np.int64)
            per_piece = np.where(after, after_switch[arc], inside[arc] - after_switch[arc])
            segments[f"{direction}_{kind}"] = _compact(per_piece)
            total += per_piece
        segments[f"{direction}_total"] = _compact(total)
    blank_unobserved(frame, segments, arc)
    return segments
