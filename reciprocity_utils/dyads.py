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

:func:`engagement_segments` splits each arc's exposure into pieces by state (one-way, the last
``lead_days`` before a follow-back, mutual) and by calendar period, with a's events toward b in
each piece. It feeds the models that need to know *when* a pair became mutual: the rate ratio of
the mutual state against the one-way state of the same arc, and the within-pair timing design.

Everything is vectorised: account ids become integer codes once (digit ids are parsed, other ids
hashed), pairs are matched by one hash factorisation of unordered pair keys, and counts are
``numpy.bincount``; there is no Python loop over follows or events.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from .model import INTERACTION_KINDS, StudyDataset

__all__ = [
    "COVARIATES",
    "SEGMENT_STATES",
    "DyadTable",
    "build_dyads",
    "engagement_segments",
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
# Segment states in the order their codes use.
SEGMENT_STATES = ("one_way", "lead", "mutual")


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

    @property
    def has_times(self) -> bool:
        return self.window_start is not None

    @property
    def split_known(self) -> bool:
        """Whether every arc's exposure and engagement can be split at the follow-back."""
        frame = self.frame
        return bool(
            len(frame)
            and self.has_times
            and frame["mutual_days"].notna().all()
            and frame["ab_one_way"].notna().all()
        )


# ---------------------------------------------------------------------------------------------
# Account codes and pair matching


class _AccountCodes:
    """Integer positions of account ids in ``accounts`` (digit ids parsed, others hashed)."""

    def __init__(self, account_ids: pd.Series):
        self.ids = account_ids.astype("string")
        self.n = len(self.ids)
        self._arrow_ids = _arrow_strings(self.ids)
        self._as_numbers = _digits_as_int64(self._arrow_ids)
        self._index = pd.Index(self._as_numbers) if self._as_numbers is not None else None
        if self._index is not None:
            # Build the index's hash table now, once: lookups then run from two threads safely.
            self._index.get_indexer(self._as_numbers[:1])

    def of(self, values: pd.Series, what: str) -> np.ndarray:
        arrow_values = _arrow_strings(values)
        codes = None
        if self._index is not None:
            try:
                numbers = pc.cast(arrow_values, pa.int64(), safe=True).to_numpy(zero_copy_only=False)
                codes = self._index.get_indexer(numbers)  # hash lookups of int64
            except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
                codes = None  # an id that is not a number cannot be an account here: found below
        if codes is None:
            codes = pc.index_in(arrow_values, value_set=self._arrow_ids).fill_null(-1).to_numpy(zero_copy_only=False)
        missing = codes < 0
        if missing.any():
            first = int(np.flatnonzero(missing)[0])
            raise ValueError(
                f"{what}, row {first + 1}: account id {values.iloc[first]!r} is not in the accounts table "
                f"({int(missing.sum()):,} rows like this); build the dataset with build_dataset, which adds or removes them"
            )
        return codes.astype(np.int64, copy=False)


def _arrow_strings(values: pd.Series) -> pa.ChunkedArray | pa.Array:
    array = values.array
    if hasattr(array, "__arrow_array__"):
        return array.__arrow_array__()
    return pa.array(values.astype("string").to_numpy(dtype=object, na_value=None), type=pa.string())


def _digits_as_int64(ids: pa.ChunkedArray | pa.Array) -> np.ndarray | None:
    """The ids as int64 when every one is a plain number written without leading zeros.

    Parsing 19-digit ids is several times faster than hashing them as text. The round trip back
    to text guards against ``"007"`` and ``"7"`` becoming the same number.
    """
    if len(ids) == 0:
        return None
    try:
        numbers = pc.cast(ids, pa.int64(), safe=True)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return None
    if not pc.all(pc.equal(pc.cast(numbers, pa.string()), ids)).as_py():
        return None
    return numbers.to_numpy(zero_copy_only=False)


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


def _match(dataset: StudyDataset, codes: _AccountCodes) -> _Matched:
    follows, events = dataset.follows, dataset.interactions
    columns = [
        (follows["follower_id"], "follows, follower_id"),
        (follows["followee_id"], "follows, followee_id"),
        (events["actor_id"], "interactions, actor_id"),
        (events["target_id"], "interactions, target_id"),
    ]
    # Parsing and hashing release the GIL: two threads use both cores.
    with ThreadPoolExecutor(max_workers=2) as pool:
        a, b, actor, target = pool.map(lambda item: codes.of(*item), columns)
    n = max(codes.n, 1)
    n_arcs = len(a)
    # One factorisation of unordered pair keys {low, high} groups each arc with its reverse arc and
    # with every event between the two accounts, in either direction.
    keys = np.empty(n_arcs + len(actor), dtype=np.int64)
    for first, low, high in ((0, a, b), (n_arcs, actor, target)):
        part = keys[first:first + len(low)]
        np.minimum(low, high, out=part)
        part *= n
        part += np.maximum(low, high)
    groups, uniques = pd.factorize(keys)
    n_groups = len(uniques)
    del keys, uniques
    index_type = np.int32 if n_arcs < np.iinfo(np.int32).max else np.int64
    low_to_high = np.full(n_groups, -1, dtype=index_type)
    high_to_low = np.full(n_groups, -1, dtype=index_type)
    arc_group = groups[:n_arcs]
    upward = a < b
    arcs = np.arange(n_arcs, dtype=index_type)
    low_to_high[arc_group[upward]] = arcs[upward]
    high_to_low[arc_group[~upward]] = arcs[~upward]
    del arcs
    reverse = high_to_low[arc_group]
    reverse[~upward] = low_to_high[arc_group[~upward]]
    event_group = groups[n_arcs:]
    ab_arc = low_to_high[event_group]
    ba_arc = high_to_low[event_group]
    downward = actor > target
    ab_arc[downward], ba_arc[downward] = ba_arc[downward], ab_arc[downward]
    small = np.int32 if n < np.iinfo(np.int32).max else np.int64
    return _Matched(codes.n, a.astype(small), b.astype(small), reverse, actor.astype(small), target.astype(small), ab_arc, ba_arc)


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


def _nullable(values: np.ndarray, unobserved: np.ndarray | None = None) -> pd.arrays.IntegerArray:
    """A nullable Int32 column; ``unobserved`` rows become <NA> (no mask: every row observed)."""
    values = np.asarray(values).astype(np.int32, copy=False)
    if unobserved is None or not np.any(unobserved):
        return pd.arrays.IntegerArray(values, np.zeros(len(values), dtype=bool))
    mask = np.broadcast_to(np.asarray(unobserved, dtype=bool), values.shape).copy()
    return pd.arrays.IntegerArray(np.where(mask, 0, values).astype(np.int32, copy=False), mask)


class _EventCounts:
    """Events per arc, kind and flag (e.g. after the follow-back), from one sort of the chosen events.

    Keys sort by (kind, flag, arc), so each kind-and-flag is one contiguous slice of the sorted
    unique keys; a column is a scatter of that slice into a zero-filled int32 array. The cost grows
    with the number of (arc, kind) pairs that have events, not with the number of arcs.
    """

    GROUPS = 2 * len(INTERACTION_KINDS)

    def __init__(self, arc: np.ndarray, kind: np.ndarray, flag: np.ndarray, weights: np.ndarray | None, chosen: np.ndarray, n_arcs: int):
        key = (kind[chosen].astype(np.int64) * 2 + flag[chosen]) * n_arcs + arc[chosen]
        if weights is None:
            unique_keys, sums = np.unique(key, return_counts=True)
        else:
            unique_keys, position = np.unique(key, return_inverse=True)
            sums = np.bincount(position, weights=weights[chosen], minlength=len(unique_keys))
        self.arc = unique_keys % max(n_arcs, 1)
        self.sums = sums.astype(np.int32)
        self.bounds = np.searchsorted(unique_keys, np.arange(self.GROUPS + 1) * n_arcs)
        self.n_arcs = n_arcs

    def column(self, kind: int | None = None, flag: bool | None = None) -> np.ndarray:
        """Events per arc as int32: of one kind code (or all kinds), with one flag value (or both)."""
        kinds = range(len(INTERACTION_KINDS)) if kind is None else (kind,)
        flags = (False, True) if flag is None else (flag,)
        groups = [k * 2 + int(f) for k in kinds for f in flags]
        if len(groups) <= 2:
            out = np.zeros(self.n_arcs, dtype=np.int32)
            for group in groups:  # within one group every arc appears once
                part = slice(self.bounds[group], self.bounds[group + 1])
                out[self.arc[part]] += self.sums[part]
            return out
        chosen = np.concatenate([np.arange(self.bounds[g], self.bounds[g + 1]) for g in groups])
        return np.bincount(self.arc[chosen], weights=self.sums[chosen], minlength=self.n_arcs).astype(np.int32)


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
    coverage = dataset.coverage
    codes = _AccountCodes(accounts["account_id"])
    matched = _match(dataset, codes)
    n, n_arcs = codes.n, len(matched.a)
    a, b, reverse = matched.a, matched.b, matched.reverse
    events = dataset.interactions
    notes: list[str] = []
    columns: dict[str, object] = {}

    owner = accounts["is_owner"].to_numpy(dtype=bool)
    mutuality_known = coverage.mutuality_observable
    engagement = coverage.engagement_observed
    # Which direction's engagement the source observed, per arc (None: every arc).
    ab_unobserved = ba_unobserved = None
    if engagement == "none":
        ab_unobserved = ba_unobserved = np.ones(n_arcs, bool)
        notes.append("No engagement is recorded in this source: every engagement column is <NA>.")
    elif engagement == "owner_outgoing":
        ab_unobserved, ba_unobserved = ~owner[a], ~owner[b]
        notes.append("Only the owner's own engagement is recorded: engagement toward the owner and between other accounts is <NA>.")

    # Follow times and the follow-back, as integer microseconds.
    followed = _epoch_us(dataset.follows["followed_at"])
    mutual = reverse >= 0
    followed_back = np.full(n_arcs, NOT_A_TIME, dtype=np.int64)
    followed_back[mutual] = followed[reverse[mutual]]
    both_known = mutual & (followed != NOT_A_TIME) & (followed_back != NOT_A_TIME)
    mutual_since = np.where(both_known, np.maximum(followed, followed_back), NOT_A_TIME)
    start, end = _window(dataset)
    if start is not None:
        start_us, end_us = _as_us(start), _as_us(end)
        exposure_from = np.maximum(followed, start_us)  # NaT is the smallest integer: unknown times start with the data
        exposure_days = np.maximum(end_us - exposure_from, 0) / MICROSECONDS_PER_DAY
        switch = np.where(mutual, np.clip(mutual_since, exposure_from, end_us), end_us)
        one_way_days = (switch - exposure_from) / MICROSECONDS_PER_DAY
        one_way_days[mutual & ~both_known] = np.nan
        mutual_days = exposure_days - one_way_days
        del switch
        unknown_follow_times = int((followed == NOT_A_TIME).sum())
        if unknown_follow_times:
            notes.append(f"{unknown_follow_times:,} follows have no time: their exposure is counted from the start of the data.")
        if (mutual & ~both_known).any():
            notes.append(
                f"{int((mutual & ~both_known).sum()):,} mutual follows lack one of the two follow times, so when they became "
                "mutual is unknown."
            )
    else:
        exposure_days = one_way_days = mutual_days = np.full(n_arcs, np.nan)
        notes.append("The data carries no times: exposure is unknown and every follow counts as equally exposed.")

    # Events: which arc each belongs to, whether it falls in the arc's exposure window, and its state.
    kind = pc.index_in(_arrow_strings(events["kind"]), value_set=pa.array(list(INTERACTION_KINDS))).to_numpy(zero_copy_only=False)
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

    ab_in, ab_before = window(matched.ab_arc)
    ba_in, ba_before = window(matched.ba_arc)
    # Each of a's events toward b inside the window, flagged when it came after the follow-back.
    after_switch = np.zeros(len(at), bool)
    in_mutual = ab_in.copy()
    in_mutual[ab_in] = mutual[matched.ab_arc[ab_in]]
    event_since = mutual_since[matched.ab_arc[in_mutual]]
    after_switch[in_mutual] = (event_since != NOT_A_TIME) & at_known[in_mutual] & (at[in_mutual] >= event_since)
    del in_mutual, event_since
    ab_counts = _EventCounts(matched.ab_arc, kind, after_switch, weight, ab_in, n_arcs)
    ba_counts = _EventCounts(matched.ba_arc, kind, np.zeros(len(at), bool), weight, ba_in, n_arcs)
    for code, name in enumerate(INTERACTION_KINDS):
        columns[f"ab_{name}"] = _nullable(ab_counts.column(code), ab_unobserved)
        columns[f"ba_{name}"] = _nullable(ba_counts.column(code), ba_unobserved)
    ab_total, ba_total, ab_mutual = ab_counts.column(), ba_counts.column(), ab_counts.column(flag=True)
    no_flag = np.zeros(len(at), bool)
    before_follow = _EventCounts(matched.ab_arc, kind, no_flag, weight, ab_before, n_arcs).column()
    ba_before_follow = _EventCounts(matched.ba_arc, kind, no_flag, weight, ba_before, n_arcs).column()
    ab_all_times, ba_all_times = ab_total + before_follow, ba_total + ba_before_follow
    del ab_counts, ba_counts, ba_before_follow
    if before_follow.any() and engagement != "none":
        observed_before = before_follow if ab_unobserved is None else before_follow[~ab_unobserved]
        notes.append(
            f"{int(observed_before.sum()):,} events of a toward b predate a's follow of b: counted in "
            "ab_before_follow, not in the outcome."
        )
    undated = np.zeros(n_arcs, bool)
    undated[matched.ab_arc[ab_in & ~at_known]] = True
    split_unknown = (mutual & ~both_known) | (mutual & undated)
    if start is None:
        split_unknown[:] = True
    del undated, after_switch

    # Account-level covariates; the pair's own follows and events are subtracted per row.
    # Per account first (int32, a million entries at most), then taken per arc.
    followers = np.bincount(b, minlength=n).astype(np.int32)
    following = np.bincount(a, minlength=n).astype(np.int32)
    returned = np.bincount(b[mutual], minlength=n)  # followers each account follows back
    with np.errstate(invalid="ignore", divide="ignore"):
        followback_rate = np.where(followers > 0, returned / np.maximum(followers, 1), np.nan)
    sent = np.bincount(matched.actor, weights=weight, minlength=n).astype(np.int32)
    received = np.bincount(matched.target, weights=weight, minlength=n).astype(np.int32)
    ego = coverage.scope == "ego"
    if ego:
        notes.append("Personal export: degrees within the data are known only for the owner; other accounts' are <NA>.")
    a_degree_unknown = ~owner[a] if ego else None
    b_degree_unknown = ~owner[b] if ego else None
    if not mutuality_known:
        notes.append("Only one follow direction is known: whether a follow is returned (mutual) is <NA>.")
    reverse_unknown_a = np.ones(n_arcs, bool) if not mutuality_known else a_degree_unknown
    reverse_unknown_b = np.ones(n_arcs, bool) if not mutuality_known else b_degree_unknown
    activity_unknown = None if engagement == "everyone" else np.ones(n_arcs, bool)
    mutual_int = mutual.astype(np.int32)
    if not mutuality_known:
        followback_rate[:] = np.nan
    elif ego:
        followback_rate[~owner] = np.nan  # only the owner's followers are known

    category = pd.CategoricalDtype(pd.Index(codes.ids.array), ordered=False)
    columns = {
        "a_id": pd.Categorical.from_codes(a, dtype=category),
        "b_id": pd.Categorical.from_codes(b, dtype=category),
        "followed_at": dataset.follows["followed_at"].array,
        "mutual": pd.arrays.BooleanArray(mutual, np.full(n_arcs, not mutuality_known)),
        "followed_back_at": _as_times(followed_back),
        "mutual_since": _as_times(mutual_since),
        "exposure_days": exposure_days,
        "one_way_days": one_way_days,
        "mutual_days": mutual_days,
        **columns,
        "ab_total": _nullable(ab_total, ab_unobserved),
        "ba_total": _nullable(ba_total, ba_unobserved),
        "ab_before_follow": _nullable(before_follow, ab_unobserved),
        "ab_one_way": _nullable(ab_total - ab_mutual, split_unknown if ab_unobserved is None else ab_unobserved | split_unknown),
        "ab_mutual": _nullable(ab_mutual, split_unknown if ab_unobserved is None else ab_unobserved | split_unknown),
        "a_followers_excl_b": _nullable(followers[a] - mutual_int, reverse_unknown_a),
        "a_following_excl_b": _nullable(following[a] - 1, a_degree_unknown),
        "b_followers_excl_a": _nullable(followers[b] - 1, b_degree_unknown),
        "b_following_excl_a": _nullable(following[b] - mutual_int, reverse_unknown_b),
        "a_sent_excl_b": _nullable(sent[a] - ab_all_times, activity_unknown),
        "a_received_excl_b": _nullable(received[a] - ba_all_times, activity_unknown),
        "b_sent_excl_a": _nullable(sent[b] - ba_all_times, activity_unknown),
        "b_received_excl_a": _nullable(received[b] - ab_all_times, activity_unknown),
        "a_followback_rate": followback_rate[a],
        "b_followback_rate": followback_rate[b],
    }
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
    return DyadTable(pd.DataFrame(columns, copy=False), start, end, notes)


def _as_times(us: np.ndarray) -> pd.arrays.DatetimeArray:
    """Integer microseconds (NaT sentinel, which is numpy's own) back to UTC timestamps, without copying."""
    return pd.DatetimeIndex(np.asarray(us, dtype=np.int64).view("datetime64[us]")).tz_localize("UTC").array


# ---------------------------------------------------------------------------------------------
# Segments by state and period


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
    n_arcs = len(frame)
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
    bounds = np.stack([exposure_from, lead_from, returned_at, np.full(n_arcs, end_us)], axis=1)
    arcs = np.flatnonzero(kept)
    pieces = []
    for state in range(len(SEGMENT_STATES)):
        low, high = bounds[arcs, state], bounds[arcs, state + 1]
        for period in range(len(edges) - 1):
            overlap = np.minimum(high, edges[period + 1]) - np.maximum(low, edges[period])
            has = overlap > 0
            pieces.append((arcs[has], np.full(has.sum(), state), np.full(has.sum(), period), overlap[has]))
    arc = np.concatenate([p[0] for p in pieces])
    state = np.concatenate([p[1] for p in pieces]).astype(np.int64)
    period = np.concatenate([p[2] for p in pieces]).astype(np.int64)
    exposure = np.concatenate([p[3] for p in pieces]) / MICROSECONDS_PER_DAY
    n_periods = len(edges) - 1
    cell = (arc * len(SEGMENT_STATES) + state) * n_periods + period
    order = np.argsort(cell, kind="stable")
    arc, state, period, exposure, cell = arc[order], state[order], period[order], exposure[order], cell[order]

    # Events a -> b inside the exposure window, placed in their arc's state and period.
    codes = _AccountCodes(dataset.accounts["account_id"])
    matched = _match(dataset, codes)
    events = dataset.interactions
    at = _epoch_us(events["at"])
    event_arc = matched.ab_arc
    usable = (event_arc >= 0) & (at != NOT_A_TIME)
    usable[usable] &= kept[event_arc[usable]]
    usable[usable] &= at[usable] >= exposure_from[event_arc[usable]]
    # b's events toward a during the same pieces of a's exposure: the other direction.
    reverse_arc = matched.ba_arc
    reverse_usable = (reverse_arc >= 0) & (at != NOT_A_TIME)
    reverse_usable[reverse_usable] &= kept[reverse_arc[reverse_usable]]
    reverse_usable[reverse_usable] &= at[reverse_usable] >= exposure_from[reverse_arc[reverse_usable]]
    kind_names = pa.array(list(INTERACTION_KINDS))
    all_kinds = pc.index_in(_arrow_strings(events["kind"]), value_set=kind_names).to_numpy(zero_copy_only=False)
    all_weights = events["count"].to_numpy(dtype=np.float64)

    def place(arc_of_event: np.ndarray, chosen: np.ndarray) -> np.ndarray:
        e_arc, e_at = arc_of_event[chosen], at[chosen]
        e_state = np.where(e_at >= returned_at[e_arc], 2, np.where(e_at >= lead_from[e_arc], 1, 0))
        e_period = np.clip(np.searchsorted(edges, e_at, side="right") - 1, 0, n_periods - 1)
        e_cell = (e_arc * len(SEGMENT_STATES) + e_state) * n_periods + e_period
        # Searching sorted keys in order is far faster than searching them at random.
        by_cell = np.argsort(e_cell, kind="stable")
        position = np.empty(len(e_cell), dtype=np.int64)
        position[by_cell] = np.searchsorted(cell, e_cell[by_cell])
        position = np.minimum(position, max(len(cell) - 1, 0))
        if len(e_cell) and not np.array_equal(cell[position], e_cell):
            raise AssertionError("an event fell outside every exposure segment of its arc")  # a bug, not bad input
        return position

    directions = {"ab": (place(event_arc, usable), usable), "ba": (place(reverse_arc, reverse_usable), reverse_usable)}
    segments = pd.DataFrame(
        {
            "arc": arc,
            "a_id": pd.Categorical.from_codes(frame["a_id"].cat.codes.to_numpy()[arc], dtype=frame["a_id"].dtype),
            "b_id": pd.Categorical.from_codes(frame["b_id"].cat.codes.to_numpy()[arc], dtype=frame["b_id"].dtype),
            "state": pd.Categorical.from_codes(state, categories=list(SEGMENT_STATES)),
            "period": period,
            "exposure_days": exposure,
        }
    )
    for direction, (position, chosen) in directions.items():
        kind, weight = all_kinds[chosen], all_weights[chosen]
        total = np.zeros(len(arc), np.int64)
        for code, name in enumerate(INTERACTION_KINDS):
            counts = np.bincount(position[kind == code], weights=weight[kind == code], minlength=len(arc)).astype(np.int64)
            segments[f"{direction}_{name}"] = counts
            total += counts
        segments[f"{direction}_total"] = total
    # Directions the source did not observe stay unknown rather than zero.
    for direction in ("ab", "ba"):
        unobserved = frame[f"{direction}_total"].isna().to_numpy()[arc]
        if unobserved.any():
            for name in (*INTERACTION_KINDS, "total"):
                column = f"{direction}_{name}"
                segments[column] = pd.arrays.IntegerArray(segments[column].to_numpy(), unobserved)
    return segments, left_out
