"""The dyad table: one row per follow a -> b, with what happened between a and b and who they are.

Every question of study 03 is asked of follow arcs. Throughout, **a** is the follower and **b**
the account a follows; ``ab_*`` is a's engagement toward b, ``ba_*`` b's engagement toward a.

:func:`build_dyads` returns one row per follow (in the order of ``dataset.follows``):

- ``a_id``, ``b_id``        the two accounts (categorical over ``dataset.accounts``: ids stay text);
- ``followed_at``           when a followed b (NaT when unknown);
- ``mutual``                whether b also follows a at the end of the data;
- ``followed_back_at``      when b followed a (NaT when not mutual or unknown);
- ``mutual_since``          when the pair became mutual: the later of the two follows (NaT when
                            not mutual or when either time is unknown);
- ``exposure_days``         days a could see b's posts in the data: from the follow (or the start
                            of the data, whichever is later) to the end of the data; NaN when the
                            data carries no times at all;
- ``one_way_days``, ``mutual_days``  that exposure split at ``mutual_since`` (NaN when a mutual
                            pair's ``mutual_since`` is unknown);
- ``ab_<kind>``, ``ba_<kind>``, ``ab_total``, ``ba_total``  engagement events of each kind (reply,
                            mention, repost, quote, like) during the exposure window: events at or
                            after a followed b, or of unknown time; nullable integers, ``<NA>`` where
                            the source did not observe that direction (personal exports);
- ``ab_before_follow``      a's events toward b dated before a followed b (kept out of the outcome);
- ``ab_one_way``, ``ab_mutual``  ``ab_total`` split at ``mutual_since`` (``<NA>`` when the split is
                            unknown: an event without time, or a mutual pair without ``mutual_since``);
- covariates of both ends, **leaving the pair itself out** so that no covariate contains the
                            outcome or the treatment: ``a_followers_excl_b`` (a's followers other
                            than b), ``a_following_excl_b``, ``b_followers_excl_a``,
                            ``b_following_excl_a``, ``a_sent_excl_b`` (a's events toward anyone but
                            b, at any time), ``a_received_excl_b``, ``b_sent_excl_a``,
                            ``b_received_excl_a``. Counting a's events toward b inside "a's
                            activity" would put the outcome on both sides of the model and bias the
                            mutual coefficient toward zero; counting b->a inside "b's following"
                            would put the treatment there;
- ``a_followback_rate``, ``b_followback_rate``  share of the account's followers it follows back
                            (an account-level trait: b's rate is how indiscriminately the returning
                            account follows back, the essay's moderator);
- ``a_kind``, ``b_kind``, ``a_community``, ``b_community``, ``a_is_owner``, ``b_is_owner``.

Degrees are counted within the data (who follows whom among the accounts loaded). For personal
exports (scope ``ego``) only the owner's degrees are known; the other accounts' are ``<NA>``.

:mod:`reciprocity_utils.segments` cuts each arc's exposure into pieces by state and period.

Everything is vectorised: account ids become integer codes once (``account_codes``), arcs, reverse
arcs and events are matched in one sort of packed unordered pair keys, and counts are scatters of
sorted group sums; there is no Python loop over follows or events.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from .account_codes import AccountCodes, arrow_strings
from .followee_overlap import shared_followees
from .metrics import reverse_arcs
from .model import INTERACTION_KINDS, StudyDataset

__all__ = [
    "COVARIATES",
    "DyadTable",
    "assemble_dyads",
    "build_dyads",
]

NOT_A_TIME = np.iinfo(np.int64).min  # numpy's NaT as an integer
MICROSECONDS_PER_DAY = 86_400 * 1_000_000
COVARIATES = (
    "a_followers_excl_b",
    "a_following_excl_b",
    "b_followers_excl_a",
    "b_following_excl_a",
    "a_sent_excl_b",
    "a_received_excl_b",
    "b_sent_excl_a",
    "b_received_excl_a",
)


@dataclass
class DyadTable:
    """The dyad table with what it could not observe, for the models and the report.

    ``frame`` is the table described in the module docstring; ``notes`` are plain sentences on
    what was excluded or unobservable (each with its count).
    """

    frame: pd.DataFrame
    window_start: pd.Timestamp | None
    window_end: pd.Timestamp | None
    notes: list[str]
    # Each event's arcs, kept from the build: later passes over the same events (state segments,
    # the event study) reuse them instead of matching every event again, which would cost more
    # memory at its peak (sort keys per follow and event) than keeping them (8 bytes per event).
    event_arcs: "_EventArcs | None" = field(default=None, repr=False, compare=False)
    # From an engine's aggregates (no events in memory): per row, a's events after the follow-back
    # and b's dated events and those after it, by kind; what the state segments are cut from.
    state_counts: pd.DataFrame | None = field(default=None, repr=False, compare=False)
    _shared_followees: np.ndarray | None = field(default=None, init=False, repr=False, compare=False)

    def shared_followees(self) -> np.ndarray:
        """For each arc a -> b, how many accounts both a and b follow (computed once, int32)."""
        if self._shared_followees is None:
            frame = self.frame
            counts = shared_followees(
                frame["a_id"].cat.codes.to_numpy(), frame["b_id"].cat.codes.to_numpy(), len(frame["a_id"].cat.categories)
            )
            self._shared_followees = counts.astype(np.int32)  # at most the number of accounts
        return self._shared_followees

    @property
    def has_times(self) -> bool:
        return self.window_start is not None

    @property
    def split_known(self) -> bool:
        """Whether every arc's exposure and engagement can be split at the follow-back."""
        frame = self.frame
        return bool(len(frame) and self.has_times and frame["mutual_days"].notna().all() and frame["ab_one_way"].notna().all())


# ---------------------------------------------------------------------------------------------
# Account codes and pair matching


@dataclass
class _Matched:
    """Follows and events as integer codes, with each follow's reverse follow and each event's arcs."""

    n_accounts: int
    a: np.ndarray  # follower code per arc
    b: np.ndarray  # followee code per arc
    reverse: np.ndarray  # index of the arc b -> a, -1 when absent
    actor: np.ndarray
    target: np.ndarray
    ab_arc: np.ndarray  # per event x -> y: index of the arc x -> y (the event is "ab" for it), -1 if none
    ba_arc: np.ndarray  # per event x -> y: index of the arc y -> x (the event is "ba" for it), -1 if none


@dataclass(frozen=True)
class _EventArcs:
    """Per event x -> y of one interactions table: the arc x -> y and the arc y -> x (-1 when absent)."""

    events: weakref.ref
    ab_arc: np.ndarray
    ba_arc: np.ndarray


def event_arcs(dataset: StudyDataset, dyads: DyadTable) -> tuple[np.ndarray, np.ndarray]:
    """Each event's ``ab`` and ``ba`` arc (rows of ``dyads``): kept from the build when it used these events, else matched now."""
    kept = dyads.event_arcs
    if kept is not None and kept.events() is dataset.interactions:
        return kept.ab_arc, kept.ba_arc
    matched = _match(dataset, AccountCodes(dataset.accounts["account_id"]))
    return matched.ab_arc, matched.ba_arc


def _match(dataset: StudyDataset, codes: AccountCodes) -> _Matched:
    follows, events = dataset.follows, dataset.interactions
    columns = [
        (follows["follower_id"], "follows, follower_id"),
        (follows["followee_id"], "follows, followee_id"),
        (events["actor_id"], "interactions, actor_id"),
        (events["target_id"], "interactions, target_id"),
    ]
    a, b, actor, target = codes.of_columns(columns)
    n = max(codes.n, 1)
    n_arcs, n_items = len(a), len(a) + len(actor)
    if n_arcs == 0 or len(actor) == 0:  # no event to place
        none = np.full(len(actor), -1, dtype=np.int64)
        return _Matched(codes.n, a, b, reverse_arcs(a, b, n), actor, target, none, none.copy())
    # Sorting unordered pair keys {low, high} brings each arc next to its reverse arc and to every
    # event between the two accounts, in either direction. Ties sort by row, so in each pair's run
    # its arcs (rows below n_arcs) come first, at most two of them, then its events.
    keys = np.empty(n_items, dtype=np.int64)
    for first, low, high in ((0, a, b), (n_arcs, actor, target)):
        part = keys[first : first + len(low)]
        np.minimum(low, high, out=part)
        part *= n
        part += np.maximum(low, high)
    pair, row = _sorted_by_pair(keys, n * n)
    del keys
    index_type = np.int32 if n_items < np.iinfo(np.int32).max else np.int64
    same_as_next = pair[1:] == pair[:-1]
    is_arc = row < n_arcs
    # Reverse arcs: two arcs in a row in one pair's run.
    both = np.flatnonzero(same_as_next & is_arc[:-1] & is_arc[1:])
    if len(both) and (both[1:] == both[:-1] + 1).any():
        raise ValueError("follows: an arc appears more than once (build the dataset with build_dataset, which removes repeats)")
    reverse = np.full(n_arcs, -1, dtype=index_type)
    reverse[row[both]] = row[both + 1]
    reverse[row[both + 1]] = row[both]
    # Events: the first one or two rows of their pair's run are the pair's arcs, if any.
    run_start = np.zeros(n_items, dtype=index_type)
    starts = np.flatnonzero(np.concatenate([[True], ~same_as_next]))
    run_start[starts] = starts
    np.maximum.accumulate(run_start, out=run_start)
    del same_as_next
    event_at = np.flatnonzero(~is_arc)
    order = row[event_at] - n_arcs  # the event each sorted position holds
    first_at = run_start[event_at]
    del run_start
    first_arc = np.where(is_arc[first_at], row[first_at], -1)
    second_at = np.minimum(first_at + 1, n_items - 1)
    second_ok = (second_at > first_at) & is_arc[second_at] & (pair[second_at] == pair[first_at])
    second_arc = np.where(second_ok, row[second_at], -1)
    del first_at, second_at, second_ok, pair, row, is_arc, event_at
    event_actor = actor[order]
    # Of the pair's arcs, the one leaving the actor is a -> b for the event ("ab"), the other "ba".
    first_from_actor = (first_arc >= 0) & (a[np.maximum(first_arc, 0)] == event_actor)
    second_from_actor = (second_arc >= 0) & (a[np.maximum(second_arc, 0)] == event_actor)
    ab_arc = np.full(len(actor), -1, dtype=index_type)
    ba_arc = np.full(len(actor), -1, dtype=index_type)
    ab_arc[order] = np.where(first_from_actor, first_arc, np.where(second_from_actor, second_arc, -1))
    ba_arc[order] = np.where(
        (first_arc >= 0) & ~first_from_actor, first_arc, np.where((second_arc >= 0) & ~second_from_actor, second_arc, -1)
    )
    return _Matched(codes.n, a, b, reverse, actor, target, ab_arc, ba_arc)


def _sorted_by_pair(keys: np.ndarray, key_bound: int) -> tuple[np.ndarray, np.ndarray]:
    """Non-negative int64 ``keys`` sorted (ties by row) and the row each sorted position came from.

    When key and row fit in 64 bits together, one sort of packed words does it (numpy's
    vectorised sort of plain integers is several times faster than an argsort); beyond that, a
    stable argsort. The packed path works inside ``keys`` itself (the caller's array is consumed)
    and in slices, so it asks for no fresh memory beyond the row numbers: on machines that back
    memory lazily, fresh pages cost more than the arithmetic.
    """
    row_bits = max(int(len(keys) - 1).bit_length(), 1)
    if int(max(key_bound, 1) - 1).bit_length() + row_bits > 64:
        row = np.argsort(keys, kind="stable")
        return keys[row], row
    packed = keys.view(np.uint64)
    packed <<= np.uint64(row_bits)
    for first in range(0, len(packed), _SLICE):
        part = packed[first : first + _SLICE]
        part |= np.arange(first, first + len(part), dtype=np.uint64)
    packed.sort()
    row = np.empty(len(packed), dtype=np.int32 if len(packed) < np.iinfo(np.int32).max else np.int64)
    mask = np.uint64((1 << row_bits) - 1)
    for first in range(0, len(packed), _SLICE):
        row[first : first + _SLICE] = packed[first : first + _SLICE] & mask
    packed >>= np.uint64(row_bits)
    return packed.view(np.int64), row


# Rows per slice where a whole-array temporary would cost fresh memory (8 MiB of int64).
_SLICE = 1 << 20


def _epoch_us(times: pd.Series) -> np.ndarray:
    """Microseconds since 1970 as int64, NaT as :data:`NOT_A_TIME`."""
    if len(times) == 0:
        return np.empty(0, dtype=np.int64)
    stamps = pd.DatetimeIndex(times)
    if stamps.tz is None:
        stamps = stamps.tz_localize("UTC")
    return stamps.as_unit("us").asi8


def _window(dataset: StudyDataset) -> tuple[pd.Timestamp | None, pd.Timestamp | None]:
    coverage = dataset.coverage
    if not coverage.time_start or not coverage.time_end:
        return None, None
    return pd.Timestamp(coverage.time_start).tz_convert("UTC"), pd.Timestamp(coverage.time_end).tz_convert("UTC")


def _as_us(stamp: pd.Timestamp) -> int:
    return int((stamp - pd.Timestamp(0, tz="UTC")) // pd.Timedelta(microseconds=1))


# ---------------------------------------------------------------------------------------------
# The dyad table


_NO_MISSING: dict[int, np.ndarray] = {}


def _nothing_missing(n: int) -> np.ndarray:
    """One read-only all-False mask per length, shared by every fully observed column of a table.

    A mask per column would add a byte per arc per column (22 columns: about 0.2 GiB at 10M
    follows). Read-only, so nothing can write through one column into the others.
    """
    mask = _NO_MISSING.get(n)
    if mask is None:
        mask = np.zeros(n, dtype=bool)
        mask.flags.writeable = False
        _NO_MISSING.clear()  # keep one length only: the table being built
        _NO_MISSING[n] = mask
    return mask


def _nullable(values: np.ndarray, unobserved: np.ndarray | None = None) -> pd.arrays.IntegerArray:
    """A nullable Int32 column; ``unobserved`` rows become <NA> (every row observed: the shared empty mask)."""
    values = np.asarray(values).astype(np.int32, copy=False)
    if unobserved is None or not np.any(unobserved):
        return pd.arrays.IntegerArray(values, _nothing_missing(len(values)))
    mask = np.broadcast_to(np.asarray(unobserved, dtype=bool), values.shape).copy()
    return pd.arrays.IntegerArray(np.where(mask, 0, values).astype(np.int32, copy=False), mask)


class _EventCounts:
    """Events per arc by kind, optionally split by a flag (e.g. after the follow-back), from one sort.

    Keys sort by (kind, flag, arc), so each kind-and-flag is one contiguous slice of the sorted
    unique keys; a column is a scatter of that slice into a zero-filled int32 array. The cost grows
    with the number of (arc, kind) pairs that have events, not with the number of arcs.
    """

    def __init__(
        self, arc: np.ndarray, kind: np.ndarray, weights: np.ndarray | None, chosen: np.ndarray, n_arcs: int, flag: np.ndarray | None = None
    ):
        self.n_flags = 1 if flag is None else 2
        group = kind[chosen].astype(np.int64)
        if flag is not None:
            group = group * 2 + flag[chosen]
        key = group * n_arcs + arc[chosen]
        del group
        if weights is None:
            unique_keys, sums = np.unique(key, return_counts=True)
        else:
            unique_keys, position = np.unique(key, return_inverse=True)
            sums = np.bincount(position, weights=weights[chosen], minlength=len(unique_keys))
        self.arc = unique_keys % max(n_arcs, 1)
        self.sums = sums.astype(np.int32)
        self.bounds = np.searchsorted(unique_keys, np.arange(self.n_flags * len(INTERACTION_KINDS) + 1) * n_arcs)
        self.n_arcs = n_arcs

    def column(self, kind: int | None = None, flag: bool | None = None) -> np.ndarray:
        """Events per arc as int32: of one kind code (or all kinds), with one flag value (or both)."""
        kinds = range(len(INTERACTION_KINDS)) if kind is None else (kind,)
        flags = (False, True) if flag is None else (flag,)
        if self.n_flags == 1:
            if flag:
                raise ValueError("these counts are not split by a flag")
            groups = list(kinds)
        else:
            groups = [k * 2 + int(f) for k in kinds for f in flags]
        out = np.zeros(self.n_arcs, dtype=np.int32)
        for number, group in enumerate(groups):
            # Within one group every arc appears once, so a scatter needs no np.add.at. The first
            # group is written, not added: reading untouched zero pages first would fault them twice.
            part = slice(self.bounds[group], self.bounds[group + 1])
            if number == 0:
                out[self.arc[part]] = self.sums[part]
            else:
                out[self.arc[part]] += self.sums[part]
        return out

    def by_kind(self) -> tuple[list[np.ndarray], np.ndarray]:
        """One column per kind, and their total."""
        per_kind = [self.column(code) for code in range(len(INTERACTION_KINDS))]
        total = per_kind[0].copy()
        for column in per_kind[1:]:
            total += column
        return per_kind, total


def _events_per_arc(arc: np.ndarray, chosen: np.ndarray, weights: np.ndarray | None, n_arcs: int) -> np.ndarray:
    """The chosen events (or their weights) summed per arc, as int32."""
    # Added in place (numpy's unbuffered np.add.at): a bincount over every arc would be a 64-bit
    # array twice the size of the int32 column.
    out = np.zeros(n_arcs, dtype=np.int32)
    np.add.at(out, arc[chosen], np.int32(1) if weights is None else weights[chosen].astype(np.int32))
    return out


def _in_parallel(jobs: dict[str, Callable[[], Any]]) -> dict[str, Any]:
    """Run independent column computations on two threads (numpy releases the GIL in them)."""
    with ThreadPoolExecutor(max_workers=2) as pool:
        return dict(zip(jobs, pool.map(lambda job: job(), jobs.values())))


def _community_column(accounts: pd.DataFrame, community_column: str | None) -> pd.Series | None:
    if community_column is None:
        return None
    if community_column == "auto":
        community_column = next((c for c in ("community", "labels") if c in accounts), None)
        if community_column is None:
            return None
    elif community_column not in accounts:
        raise ValueError(f"community_column {community_column!r} is not a column of the accounts table ({', '.join(accounts.columns)})")
    labels = accounts[community_column].astype("string").str.strip()
    # Lists of labels (";"-separated in the generic format): the first names the community.
    return labels.str.split(";").str[0].str.strip().mask(lambda s: s == "")


def build_dyads(dataset: StudyDataset, community_column: str | None = "auto") -> DyadTable:
    """One row per follow a -> b: mutual status, timing, exposure, engagement both ways, covariates.

    ``community_column`` names the accounts column holding a community label (``"auto"``: a
    ``community`` column, else the first of ``labels``; ``None``: none).
    """
    accounts = dataset.accounts
    codes = AccountCodes(accounts["account_id"])
    matched = _match(dataset, codes)
    n, n_arcs = codes.n, len(matched.a)
    a, b, reverse = matched.a, matched.b, matched.reverse
    events = dataset.interactions

    # Follow times and the follow-back, as integer microseconds.
    followed = _epoch_us(dataset.follows["followed_at"])
    mutual = reverse >= 0
    followed_back = np.full(n_arcs, NOT_A_TIME, dtype=np.int64)
    followed_back[mutual] = followed[reverse[mutual]]
    del reverse
    matched.reverse = None  # freed: the peak memory of a 10M-follow table is what a laptop must hold
    mutual_since = _mutual_since(mutual, followed, followed_back)
    start, end = _window(dataset)

    # Events: which arc each belongs to, whether it falls in the arc's exposure window, and its state.
    kind = pc.index_in(arrow_strings(events["kind"]), value_set=pa.array(list(INTERACTION_KINDS))).to_numpy(zero_copy_only=False)
    counts_column = events["count"].to_numpy()
    weight = None if (counts_column == 1).all() else counts_column.astype(np.float64)
    at = _epoch_us(events["at"])
    at_known = at != NOT_A_TIME

    def window(arc: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Events inside the arc's exposure window, and dated events before the arc began."""
        on_arc = arc >= 0
        began = np.full(len(arc), NOT_A_TIME, dtype=np.int64)
        began[on_arc] = followed[arc[on_arc]]
        before = on_arc & at_known & (began != NOT_A_TIME) & (at < began)
        return on_arc & ~before, before

    # Three independent passes over millions of rows: two threads.
    parts = _in_parallel(
        {
            "exposure": lambda: _exposure(followed, mutual_since, mutual, start, end),
            "ab": lambda: window(matched.ab_arc),
            "ba": lambda: window(matched.ba_arc),
        }
    )
    exposure = parts["exposure"]
    (ab_in, ab_before), (ba_in, ba_before) = parts["ab"], parts["ba"]
    del parts
    # Each of a's events toward b inside the window, flagged when it came after the follow-back.
    after_switch = np.zeros(len(at), bool)
    in_mutual = ab_in.copy()
    in_mutual[ab_in] = mutual[matched.ab_arc[ab_in]]
    event_since = mutual_since[matched.ab_arc[in_mutual]]
    after_switch[in_mutual] = (event_since != NOT_A_TIME) & at_known[in_mutual] & (at[in_mutual] >= event_since)
    del in_mutual, event_since

    def ab_side() -> tuple:
        counts = _EventCounts(matched.ab_arc, kind, weight, ab_in, n_arcs, flag=after_switch)
        per_kind, total = counts.by_kind()
        return per_kind, total, counts.column(flag=True), _events_per_arc(matched.ab_arc, ab_before, weight, n_arcs)

    def ba_side() -> tuple:
        per_kind, total = _EventCounts(matched.ba_arc, kind, weight, ba_in, n_arcs).by_kind()
        return per_kind, total, _events_per_arc(matched.ba_arc, ba_before, weight, n_arcs)

    sides = _in_parallel({"ab": ab_side, "ba": ba_side})
    ab_per_kind, ab_total, ab_mutual, before_follow = sides["ab"]
    ba_per_kind, ba_total, ba_before_follow = sides["ba"]
    del sides
    undated = np.zeros(n_arcs, bool)
    undated[matched.ab_arc[ab_in & ~at_known]] = True
    del after_switch

    # Per account (int32, a million entries at most), taken per arc when the table is assembled.
    per_account = _in_parallel(
        {
            "followers": lambda: np.bincount(b, minlength=n).astype(np.int32),
            "following": lambda: np.bincount(a, minlength=n).astype(np.int32),
            "returned": lambda: np.bincount(b[mutual], minlength=n),  # followers each account follows back
            "sent": lambda: np.bincount(matched.actor, weights=weight, minlength=n).astype(np.int32),
            "received": lambda: np.bincount(matched.target, weights=weight, minlength=n).astype(np.int32),
        }
    )
    ab_arc, ba_arc = matched.ab_arc, matched.ba_arc
    del matched, kind, at, at_known, ab_in, ab_before, ba_in, ba_before, weight
    counts = {
        "ab_per_kind": ab_per_kind,
        "ba_per_kind": ba_per_kind,
        "ab_total": ab_total,
        "ba_total": ba_total,
        "ab_mutual": ab_mutual,
        "before_follow": before_follow,
        "ba_before_follow": ba_before_follow,
        "undated": undated,
    }
    del ab_per_kind, ba_per_kind, ab_total, ba_total, ab_mutual, before_follow, ba_before_follow, undated
    frame, notes = assemble_dyads(
        accounts,
        codes.ids.array,
        dataset.coverage,
        community_column,
        a,
        b,
        mutual,
        dataset.follows["followed_at"].array,
        followed,
        followed_back,
        mutual_since,
        (start, end),
        exposure,
        counts,
        per_account,
    )
    return DyadTable(frame, start, end, notes, _EventArcs(weakref.ref(events), ab_arc, ba_arc))


def _mutual_since(mutual: np.ndarray, followed: np.ndarray, followed_back: np.ndarray) -> np.ndarray:
    """When each pair became mutual: the later of its two follows (NOT_A_TIME unless both are known)."""
    both_known = mutual & (followed != NOT_A_TIME) & (followed_back != NOT_A_TIME)
    mutual_since = np.maximum(followed, followed_back)
    mutual_since[~both_known] = NOT_A_TIME
    return mutual_since


def _exposure(
    followed: np.ndarray, mutual_since: np.ndarray, mutual: np.ndarray, start: pd.Timestamp | None, end: pd.Timestamp | None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Days exposed in all, one-way and mutual, per arc (NaN where unknown)."""
    n_arcs = len(followed)
    if start is None:
        return np.full(n_arcs, np.nan), np.full(n_arcs, np.nan), np.full(n_arcs, np.nan)
    start_us, end_us = _as_us(start), _as_us(end)
    exposure_days, one_way_days = np.empty(n_arcs), np.empty(n_arcs)
    # Slice by slice: whole-column temporaries would be fresh memory (page faults) every time.
    for first in range(0, n_arcs, _SLICE):
        rows = slice(first, first + _SLICE)
        exposure_from = np.maximum(followed[rows], start_us)  # NaT is the smallest integer: unknown times start with the data
        days = np.subtract(end_us, exposure_from, dtype=np.float64)
        np.maximum(days, 0, out=days)
        np.divide(days, MICROSECONDS_PER_DAY, out=exposure_days[rows])
        switch = np.clip(mutual_since[rows], exposure_from, end_us)
        switch[~mutual[rows]] = end_us
        switch -= exposure_from
        np.divide(switch, MICROSECONDS_PER_DAY, out=one_way_days[rows], dtype=np.float64)
    one_way_days[mutual & (mutual_since == NOT_A_TIME)] = np.nan
    return exposure_days, one_way_days, exposure_days - one_way_days


def assemble_dyads(
    accounts: pd.DataFrame,
    ids: Any,
    coverage: Any,
    community_column: str | None,
    a: np.ndarray,
    b: np.ndarray,
    mutual: np.ndarray,
    followed_at: Any,
    followed: np.ndarray,
    followed_back: np.ndarray,
    mutual_since: np.ndarray,
    window: tuple[pd.Timestamp | None, pd.Timestamp | None],
    exposure: tuple[np.ndarray, np.ndarray, np.ndarray],
    counts: dict[str, Any],
    per_account: dict[str, np.ndarray],
) -> tuple[pd.DataFrame, list[str]]:
    """The dyad table's columns from per-arc counts and per-account figures, with what the source could not observe.

    Shared by the in-memory build and the engines' aggregates (:mod:`reciprocity_utils.dyad_files`):
    the covariates that leave the pair out, the blanks for unobserved directions and the notes are
    decided here once. ``accounts`` is aligned with ``ids`` (the account codes' order); ``counts``
    and ``per_account`` are consumed (their arrays are released as the columns are made).
    """
    n_arcs = len(a)
    start, _ = window
    notes: list[str] = []
    owner = accounts["is_owner"].to_numpy(dtype=bool)
    mutuality_known = coverage.mutuality_observable
    engagement = coverage.engagement_observed
    # Which direction's engagement the source observed, per arc (None: every arc).
    ab_unobserved = ba_unobserved = None
    if engagement == "none":
        ab_unobserved = ba_unobserved = np.ones(n_arcs, bool)
        notes.append("No engagement is recorded in this source, so engagement between the two accounts of a follow is unknown.")
    elif engagement == "owner_outgoing":
        ab_unobserved, ba_unobserved = ~owner[a], ~owner[b]
        notes.append(
            "Only the owner's own engagement is recorded: engagement toward the owner and between other accounts is not known, "
            "and is left blank rather than counted as none."
        )
    both_known = mutual & (mutual_since != NOT_A_TIME)
    if start is not None:
        unknown_follow_times = int((followed == NOT_A_TIME).sum())
        if unknown_follow_times:
            notes.append(f"{unknown_follow_times:,} follows have no time: their exposure is counted from the start of the data.")
        if (mutual & ~both_known).any():
            notes.append(
                f"{int((mutual & ~both_known).sum()):,} mutual follows lack one of the two follow times, so when they became "
                "mutual is unknown."
            )
    else:
        notes.append("The data carries no times: exposure is unknown and every follow counts as equally exposed.")
    exposure_days, one_way_days, mutual_days = exposure

    columns: dict[str, object] = {}
    ab_per_kind, ba_per_kind = counts.pop("ab_per_kind"), counts.pop("ba_per_kind")
    for code, name in enumerate(INTERACTION_KINDS):
        columns[f"ab_{name}"] = _nullable(ab_per_kind[code], ab_unobserved)
        columns[f"ba_{name}"] = _nullable(ba_per_kind[code], ba_unobserved)
    del ab_per_kind, ba_per_kind
    ab_total, ba_total, ab_mutual = counts.pop("ab_total"), counts.pop("ba_total"), counts.pop("ab_mutual")
    before_follow, ba_before_follow = counts.pop("before_follow"), counts.pop("ba_before_follow")
    ab_all_times, ba_all_times = ab_total + before_follow, ba_total + ba_before_follow
    del ba_before_follow
    if before_follow.any() and engagement != "none":
        observed_before = before_follow if ab_unobserved is None else before_follow[~ab_unobserved]
        notes.append(
            f"{int(observed_before.sum()):,} events of a toward b predate a's follow of b: counted in ab_before_follow, not in the outcome."
        )
    split_unknown = (mutual & ~both_known) | (mutual & counts.pop("undated"))
    if start is None:
        split_unknown[:] = True
    del both_known

    # Account-level covariates; the pair's own follows and events are subtracted per row.
    followers, following, returned = per_account.pop("followers"), per_account.pop("following"), per_account.pop("returned")
    sent, received = per_account.pop("sent"), per_account.pop("received")
    with np.errstate(invalid="ignore", divide="ignore"):
        followback_rate = np.where(followers > 0, returned / np.maximum(followers, 1), np.nan)
    ego = coverage.scope == "ego"
    if ego:
        notes.append(
            "Personal export: numbers of followers and followees within the data are known only for the owner, not for other accounts."
        )
    a_degree_unknown = ~owner[a] if ego else None
    b_degree_unknown = ~owner[b] if ego else None
    if not mutuality_known:
        notes.append(
            f"In this source {coverage.follows_missing_words}: whether a follow is returned (mutual) cannot be told, so it is left unknown."
        )
    reverse_unknown_a = np.ones(n_arcs, bool) if not mutuality_known else a_degree_unknown
    reverse_unknown_b = np.ones(n_arcs, bool) if not mutuality_known else b_degree_unknown
    activity_unknown = None if engagement == "everyone" else np.ones(n_arcs, bool)
    mutual_int = mutual.astype(np.int32)
    if not mutuality_known:
        followback_rate[:] = np.nan
    elif ego:
        followback_rate[~owner] = np.nan  # only the owner's followers are known

    category = pd.CategoricalDtype(pd.Index(ids), ordered=False)
    columns = {
        "a_id": pd.Categorical.from_codes(a, dtype=category),
        "b_id": pd.Categorical.from_codes(b, dtype=category),
        "followed_at": followed_at,
        "mutual": pd.arrays.BooleanArray(mutual, np.full(n_arcs, not mutuality_known)),
        "followed_back_at": _as_times(followed_back),
        "mutual_since": _as_times(mutual_since),
        "exposure_days": exposure_days,
        "one_way_days": one_way_days,
        "mutual_days": mutual_days,
        **columns,
    }
    # Each derived column is a gather from per-account arrays and a subtraction over every arc.
    columns |= _in_parallel(
        {
            "ab_total": lambda: _nullable(ab_total, ab_unobserved),
            "ba_total": lambda: _nullable(ba_total, ba_unobserved),
            "ab_before_follow": lambda: _nullable(before_follow, ab_unobserved),
            "ab_one_way": lambda: _nullable(
                ab_total - ab_mutual, split_unknown if ab_unobserved is None else ab_unobserved | split_unknown
            ),
            "ab_mutual": lambda: _nullable(ab_mutual, split_unknown if ab_unobserved is None else ab_unobserved | split_unknown),
            "a_followers_excl_b": lambda: _nullable(followers[a] - mutual_int, reverse_unknown_a),
            "a_following_excl_b": lambda: _nullable(following[a] - 1, a_degree_unknown),
            "b_followers_excl_a": lambda: _nullable(followers[b] - 1, b_degree_unknown),
            "b_following_excl_a": lambda: _nullable(following[b] - mutual_int, reverse_unknown_b),
            "a_sent_excl_b": lambda: _nullable(sent[a] - ab_all_times, activity_unknown),
            "a_received_excl_b": lambda: _nullable(received[a] - ba_all_times, activity_unknown),
            "b_sent_excl_a": lambda: _nullable(sent[b] - ba_all_times, activity_unknown),
            "b_received_excl_a": lambda: _nullable(received[b] - ab_all_times, activity_unknown),
            "a_followback_rate": lambda: followback_rate[a],
            "b_followback_rate": lambda: followback_rate[b],
        }
    )
    del ab_total, ba_total, ab_mutual, before_follow, ab_all_times, ba_all_times, followed_back, mutual_since
    # Account attributes: categorised once per account, then taken per arc by code.
    kind_of_account = pd.Categorical(accounts["kind"].astype("string"))
    columns["a_kind"] = kind_of_account.take(a) if n_arcs else kind_of_account[:0]
    columns["b_kind"] = kind_of_account.take(b) if n_arcs else kind_of_account[:0]
    community = _community_column(accounts, community_column)
    if community is not None:
        community_of_account = pd.Categorical(community)
        columns["a_community"] = community_of_account.take(a) if n_arcs else community_of_account[:0]
        columns["b_community"] = community_of_account.take(b) if n_arcs else community_of_account[:0]
    columns["a_is_owner"] = owner[a]
    columns["b_is_owner"] = owner[b]
    return pd.DataFrame(columns, copy=False), notes


def _compact(counts: np.ndarray) -> np.ndarray:
    """Counts in 32 bits when they fit (they always do in practice: half the memory of 64), else unchanged."""
    if len(counts) and counts.max() > np.iinfo(np.int32).max:
        return counts
    return counts.astype(np.int32)


def _as_times(us: np.ndarray) -> pd.arrays.DatetimeArray:
    """Integer microseconds (NaT sentinel, which is numpy's own) back to UTC timestamps, without copying."""
    # Through a Series: the DatetimeIndex route checks every value again and is 20 times slower.
    return pd.Series(np.asarray(us, dtype=np.int64).view("datetime64[us]"), copy=False).dt.tz_localize("UTC").array
