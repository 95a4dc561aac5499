"""Study 02 measures: how reciprocal a follow network is, beyond chance, per account, over time, in engagement.

Tools disagree on what "reciprocity" means, so the definitions used here are stated once
(:data:`DEFINITIONS`, printed by the notebook):

- **arc reciprocity** ``r``: the share of follow arcs a->b whose reverse b->a also exists
  (igraph ``reciprocity()``, networkx ``overall_reciprocity``; Kwak et al. 2010's "about 0.36");
- **dyad reciprocity**: mutual pairs / connected pairs (igraph ``reciprocity(mode="ratio")``;
  Kwak et al.'s "22% of connected pairs"); it equals ``r / (2 - r)``;
- **density** ``a = L / (N (N - 1))`` with ``N`` every account in the dataset, isolated ones
  included, and ``L`` the follows;
- **Garlaschelli-Loffredo rho** ``(r - a) / (1 - a)``: reciprocity beyond what the density alone
  gives (0 = as in a random graph of that density, 1 = fully reciprocal, < 0 = avoided).

How it scales: account ids are encoded once into integer positions (:mod:`.account_codes`),
then each follow becomes one 64-bit key ``(min*N + max)*2 + direction``.
One sort brings the two arcs of a mutual pair next to each other, so r, rho and per-account
counts cost one sort and a few ``bincount`` calls: no Python loop over follows anywhere.

The dataset-level functions (:func:`reciprocity`, :func:`account_behaviour`, :func:`null_model`,
:func:`followback_timing`, :func:`engagement_reciprocity`, :func:`ego_lists`)
accept the follows encoded once by :func:`encode_follows` (``arcs=``), and never report what the
dataset's coverage says the source could not observe: they return their
result with ``None``/NaN in place of the number and a plain sentence in ``notes`` saying why.

The "two camps" question (:func:`two_camps`, a test calibrated for rates that are fractions k/n)
lives in :mod:`.camps` and is re-exported here.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from functools import singledispatch
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .account_codes import AccountCodes, _pair_keys, _refuse_repeated_arcs, reverse_arcs
from .camps import (
    ALL_ACCOUNTS,
    DEFAULT_BOOTSTRAP_DRAWS,
    MIN_BOOTSTRAP_DRAWS,
    TwoCamps,
    camps_in_words,
    two_camps,
)
from .model import StudyDataset, engine_name
from .null_models import MAX_REWIRED_FOLLOWS, NullModel, available_cores, degree_preserving_null  # noqa: F401 (re-exported)
from .parameters import ParameterError
from .paths import private_dir
from .snapshot_states import OwnerState, nearest_state, owner_states
from .spreadsheet import write_safe_csv
from .wording import decimal, p_words

__all__ = [
    "DEFINITIONS",
    "EGO_LISTS_FILE",
    "save_owner_lists",
    "EGO_LIST_NAMES",
    "AccountBehaviour",
    "EgoLists",
    "EncodedFollows",
    "EngagementReciprocity",
    "FollowBackTiming",
    "NullModel",
    "Reciprocity",
    "TwoCamps",
    "account_behaviour",
    "account_counts",
    "check_reciprocity_parameters",
    "degree_preserving_null",
    "detail_numbers",
    "ego_lists",
    "encode_follows",
    "engagement_reciprocity",
    "followback_timing",
    "headline_numbers",
    "in_words",
    "mutual_pairs",
    "null_model",
    "reciprocity",
    "reciprocity_of_arcs",
    "reverse_arcs",
    "two_camps",
]

DEFINITIONS = {
    "arc reciprocity r": "share of follow arcs a→b whose reverse arc b→a also exists",
    "dyad reciprocity": "mutual pairs / connected pairs (pairs with a follow in at least one direction); equals r / (2 − r)",
    "density ā": "L / (N(N − 1)): follows L over ordered pairs of the N accounts in the dataset, isolated accounts included",
    "Garlaschelli–Loffredo rho": (
        "(r − ā) / (1 − ā): 0 means as reciprocal as a random graph of the same density, 1 fully reciprocal, below 0 reciprocity avoided"
    ),
    "follow-back rate": "of an account's followers, the share it follows back",
    "followed-back rate": "of the accounts an account follows, the share that follow it back",
    "follower/following ratio": "followers divided by followees (undefined for accounts following nobody)",
    "follow-back latency": "for a mutual pair with both follow times known, the time from the earlier follow to the later one (the follow-back)",
}

SECONDS_PER_DAY = 86_400
MICROSECONDS_PER_DAY = SECONDS_PER_DAY * 1_000_000

# ---------------------------------------------------------------------------------------------
# Encoding and the core on integer codes


@dataclass(frozen=True)
class EncodedFollows:
    """Follows as integer positions into ``account_ids`` (position = code), in the follows table's row order."""

    account_ids: pd.Index
    follower: np.ndarray
    followee: np.ndarray
    codes: AccountCodes = dataclasses.field(repr=False, compare=False)

    @property
    def n_accounts(self) -> int:
        return len(self.account_ids)

    @property
    def n_follows(self) -> int:
        return len(self.follower)

    def code_of(self, account_id: str) -> int:
        return int(self.account_ids.get_loc(str(account_id)))


def _measured(dataset) -> bool:
    """A network measured out of memory by an engine (no follows table: its own measures)."""
    from .engines.network import MeasuredNetwork

    return isinstance(dataset, MeasuredNetwork)


def encode_follows(dataset: StudyDataset) -> EncodedFollows | None:
    """Encode the follows once; every account of the dataset gets a code, isolated ones included.

    None for a network measured out of memory: its follows never come into memory whole.
    """
    if _measured(dataset):
        return None
    codes = AccountCodes(dataset.accounts["account_id"])  # refuses repeated ids
    account_ids = codes.index()
    follows = dataset.follows
    follower, followee = codes.of_columns(
        [(follows["follower_id"], "follows, follower_id"), (follows["followee_id"], "follows, followee_id")]
    )
    return EncodedFollows(account_ids, follower.astype(np.int64), followee.astype(np.int64), codes)


def _encoded(dataset: StudyDataset, arcs: EncodedFollows | None) -> EncodedFollows:
    """The dataset's encoded follows: those passed in (encoded once for several measures) or fresh ones."""
    if arcs is None:
        return encode_follows(dataset)
    if arcs.n_follows != len(dataset.follows) or arcs.n_accounts != len(dataset.accounts):
        raise ValueError(
            f"the encoded follows ({arcs.n_follows:,} follows, {arcs.n_accounts:,} accounts) are not those of this dataset "
            f"({len(dataset.follows):,} follows, {len(dataset.accounts):,} accounts): encode it with encode_follows(dataset)"
        )
    return arcs


def mutual_pairs(follower: np.ndarray, followee: np.ndarray, n_accounts: int) -> tuple[np.ndarray, np.ndarray]:
    """The mutual pairs as two code arrays (lower code, higher code), sorted.

    Arcs must be distinct and free of self-loops (a validated dataset is); both are checked.
    """
    keys = _pair_keys(follower, followee, n_accounts)
    keys.sort()
    _refuse_repeated_arcs(keys, n_accounts)
    pairs = keys >> 1
    mutual = pairs[1:][pairs[1:] == pairs[:-1]]
    return mutual // max(n_accounts, 1), mutual % max(n_accounts, 1)


@dataclass(frozen=True)
class Reciprocity:
    """Network reciprocity measures (see :data:`DEFINITIONS`); NaN where undefined or not observable."""

    n_accounts: int
    n_follows: int
    n_mutual_pairs: int | None  # None when the source cannot tell mutual follows
    arc_reciprocity: float
    dyad_reciprocity: float
    density: float
    rho: float
    notes: tuple[str, ...] = ()

    @property
    def n_connected_pairs(self) -> int | None:
        return None if self.n_mutual_pairs is None else self.n_follows - self.n_mutual_pairs

    def as_dict(self) -> dict[str, Any]:
        return {
            "accounts": self.n_accounts,
            "follows": self.n_follows,
            "mutual_pairs": self.n_mutual_pairs,
            "connected_pairs": self.n_connected_pairs,
            "arc_reciprocity": self.arc_reciprocity,
            "dyad_reciprocity": self.dyad_reciprocity,
            "density": self.density,
            "rho": self.rho,
        }


def reciprocity_of_arcs(
    follower: np.ndarray, followee: np.ndarray, n_accounts: int, mutual: tuple[np.ndarray, np.ndarray] | None = None
) -> Reciprocity:
    """r, dyad reciprocity, density and rho of arcs given as codes in [0, n_accounts).

    ``mutual`` may pass the result of :func:`mutual_pairs` already computed for the same arcs.
    r is undefined without follows; rho also without two accounts or when every possible follow
    exists (density 1, where r = 1 and rho = 0/0).
    """
    low, _ = mutual if mutual is not None else mutual_pairs(follower, followee, n_accounts)
    n_follows, n_mutual = len(follower), len(low)
    arc = 2 * n_mutual / n_follows if n_follows else np.nan
    dyad = n_mutual / (n_follows - n_mutual) if n_follows else np.nan
    density = n_follows / (n_accounts * (n_accounts - 1)) if n_accounts >= 2 else np.nan
    rho = (arc - density) / (1 - density) if n_follows and density < 1 else np.nan
    return Reciprocity(int(n_accounts), int(n_follows), int(n_mutual), float(arc), float(dyad), float(density), float(rho))


def account_counts(
    follower: np.ndarray, followee: np.ndarray, n_accounts: int, mutual: tuple[np.ndarray, np.ndarray] | None = None
) -> dict[str, np.ndarray]:
    """Per account code: followers, following and mutual partners (followers it follows back)."""
    low, high = mutual if mutual is not None else mutual_pairs(follower, followee, n_accounts)
    return {
        "followers": np.bincount(np.asarray(followee, dtype=np.int64), minlength=n_accounts),
        "following": np.bincount(np.asarray(follower, dtype=np.int64), minlength=n_accounts),
        "mutual": np.bincount(low, minlength=n_accounts) + np.bincount(high, minlength=n_accounts),
    }


# ---------------------------------------------------------------------------------------------
# Dataset-level reciprocity and per-account behaviour

NOT_MUTUAL = "Mutual follows cannot be counted from this source (it does not list both follow directions), so no reciprocity is reported."
EGO_DENSITY = (
    "This is a personal export: every follow involves the owner, so density, rho and degree-preserving null models "
    "of the whole network are not meaningful and are not reported; r here is the share of the owner's follow arcs that are returned."
)


def _is_ego(dataset: StudyDataset) -> bool:
    return dataset.coverage.scope == "ego"


def reciprocity(dataset: StudyDataset, arcs: EncodedFollows | None = None) -> Reciprocity:
    """Reciprocity of the dataset's follows, with N = every account in the dataset."""
    if _measured(dataset):
        from .measured_metrics import measured_reciprocity

        return measured_reciprocity(dataset)
    arcs = _encoded(dataset, arcs)
    if not dataset.coverage.mutuality_observable:
        nan = float("nan")
        return Reciprocity(arcs.n_accounts, arcs.n_follows, None, nan, nan, nan, nan, (NOT_MUTUAL,))
    result = reciprocity_of_arcs(arcs.follower, arcs.followee, arcs.n_accounts)
    notes = []
    if _is_ego(dataset):
        result = dataclasses.replace(result, density=float("nan"), rho=float("nan"))
        notes.append(EGO_DENSITY)
    if result.n_follows == 0:
        notes.append("There are no follows, so reciprocity is undefined.")
    return dataclasses.replace(result, notes=tuple(notes))


@dataclass(frozen=True)
class AccountBehaviour:
    """One row per account: counts, follow-back rate, followed-back rate, follower/following ratio."""

    table: pd.DataFrame
    observable: bool
    notes: tuple[str, ...] = ()
    owner_only: bool = False  # a personal export: the table holds the owner's row alone

    def summary(self) -> pd.DataFrame:
        """Medians per kind label and over all accounts (the owner's own row in a personal export)."""
        columns = ["followers", "following", "mutual", "follow_back_rate", "followed_back_rate", "follower_following_ratio"]
        if self.owner_only:
            return self.table[columns].assign(group="owner")[["group", *columns]].rename(columns=lambda c: c.replace("_", " "))
        labelled = self.table.dropna(subset=["kind"])
        groups = [(ALL_ACCOUNTS, self.table)] + [(str(kind), rows) for kind, rows in labelled.groupby("kind", sort=True)]
        rows = [
            {"group": name, "accounts": len(rows), **{f"median {c.replace('_', ' ')}": rows[c].median() for c in columns}}
            for name, rows in groups
        ]  # all accounts plus a handful of kind labels
        return pd.DataFrame(rows)


def _share(numerator: np.ndarray, denominator: np.ndarray) -> np.ndarray:
    """numerator / denominator, NaN where the denominator is 0 (no warning)."""
    out = np.full(len(denominator), np.nan)
    np.divide(numerator, denominator, out=out, where=denominator > 0)
    return out


def account_behaviour(dataset: StudyDataset, arcs: EncodedFollows | None = None) -> AccountBehaviour:
    """Per-account follow-back behaviour; in a personal export only the owner's row is observable."""
    if _measured(dataset):
        from .measured_metrics import measured_behaviour

        return measured_behaviour(dataset)
    arcs = _encoded(dataset, arcs)
    observable = dataset.coverage.mutuality_observable
    counts = (
        account_counts(arcs.follower, arcs.followee, arcs.n_accounts)
        if observable
        else {
            "followers": np.bincount(arcs.followee, minlength=arcs.n_accounts),
            "following": np.bincount(arcs.follower, minlength=arcs.n_accounts),
            "mutual": np.zeros(arcs.n_accounts, dtype=np.int64),
        }
    )
    table = pd.DataFrame(
        {
            "account_id": dataset.accounts["account_id"].astype("string").to_numpy(),
            "kind": dataset.accounts["kind"].astype("string").to_numpy(),
            "followers": counts["followers"],
            "following": counts["following"],
            "mutual": counts["mutual"],
            "follow_back_rate": _share(counts["mutual"], counts["followers"]),
            "followed_back_rate": _share(counts["mutual"], counts["following"]),
            "follower_following_ratio": _share(counts["followers"], counts["following"]),
        }
    )
    notes = []
    if not observable:
        table[["mutual", "follow_back_rate", "followed_back_rate"]] = np.nan
        notes.append(NOT_MUTUAL)
    if _is_ego(dataset):
        owner = dataset.owner_id
        table = table[table["account_id"] == owner].reset_index(drop=True) if owner else table.iloc[:0]
        notes.append(
            "This is a personal export: only the owner's own followers and followees are known, so per-account rates "
            "are reported for the owner alone."
            if owner
            else "This is a personal export without a known owner: no per-account rates."
        )
    return AccountBehaviour(table, observable and len(table) > 0, tuple(notes), owner_only=_is_ego(dataset))


# ---------------------------------------------------------------------------------------------
# Null model: degree-preserving randomisation


def null_model(
    dataset: StudyDataset,
    n_networks: int = 100,
    seed: int = 0,
    swaps_per_follow: float = 10,
    workers: int = 1,
    arcs: EncodedFollows | None = None,
    max_rewired_follows: int | None = MAX_REWIRED_FOLLOWS,
) -> NullModel:
    """:func:`degree_preserving_null` on the dataset; not computed where it has no meaning."""
    if not dataset.coverage.mutuality_observable or _is_ego(dataset):
        note = NOT_MUTUAL if not dataset.coverage.mutuality_observable else EGO_DENSITY
        return NullModel(float("nan"), np.empty(0), seed, swaps_per_follow, (note,))
    if _measured(dataset):
        from .measured_metrics import measured_null_model

        return measured_null_model(dataset, n_networks, seed, swaps_per_follow, workers, max_rewired_follows)
    arcs = _encoded(dataset, arcs)
    return degree_preserving_null(
        arcs.follower, arcs.followee, arcs.n_accounts, n_networks, seed, swaps_per_follow, workers, max_rewired_follows
    )


# ---------------------------------------------------------------------------------------------
# Timing of follow-backs


@dataclass(frozen=True)
class FollowBackTiming:
    """Time to follow-back of each initiating follow, censored at the end of observation when never returned.

    ``spells`` has one row per initiating follow: ``days`` (latency, or time observed without a
    follow-back), ``returned``, ``followed_group`` (kind of the account that could follow back;
    in a personal export, whether that account is the owner). ``survival`` is the Kaplan-Meier
    curve per group (all, and each group): share of follows not
    yet returned after ``days``, with a 95% simultaneous Hall-Wellner band (arcsine transform).
    """

    spells: pd.DataFrame
    survival: pd.DataFrame
    end_of_observation: pd.Timestamp | None
    pairs_without_times: int
    one_way_without_times: int
    notes: tuple[str, ...] = ()

    @property
    def n_initiating(self) -> int:
        return len(self.spells)

    @property
    def n_returned(self) -> int:
        return int(self.spells["returned"].sum())

    @property
    def median_latency_days(self) -> float:
        """Median time to follow-back among follows that were returned."""
        latencies = self.spells.loc[self.spells["returned"], "days"]
        return float(latencies.median()) if len(latencies) else float("nan")

    @property
    def share_never_returned(self) -> float:
        """Share of initiating follows not returned by the end of observation."""
        return 1 - self.n_returned / self.n_initiating if self.n_initiating else float("nan")

    @property
    def kaplan_meier_median_days(self) -> float:
        """Time by which half of all initiating follows are returned; NaN if fewer than half ever are."""
        curve = self.survival[self.survival["group"] == ALL_ACCOUNTS]
        reached = curve[curve["share_not_returned"] <= 0.5]
        return float(reached["days"].iloc[0]) if len(reached) else float("nan")

    def as_dict(self) -> dict[str, Any]:
        return {
            "initiating_follows": self.n_initiating,
            "follow_backs": self.n_returned,
            "median_latency_days": self.median_latency_days,
            "kaplan_meier_median_days": self.kaplan_meier_median_days,
            "share_never_returned": self.share_never_returned,
            "mutual_pairs_without_both_times": self.pairs_without_times,
            "one_way_follows_without_time": self.one_way_without_times,
            "end_of_observation": self.end_of_observation,
        }


def _micros(times: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """UTC times as int64 microseconds since 1970, and whether each is known."""
    known = times.notna().to_numpy()
    naive = pd.to_datetime(times, utc=True).dt.tz_convert(None).astype("datetime64[us]")
    return naive.to_numpy().view(np.int64), known


def _survival_curve(group: str, days: np.ndarray, returned: np.ndarray) -> pd.DataFrame:
    from statsmodels.duration.survfunc import SurvfuncRight

    start = pd.DataFrame(
        {"group": [group], "days": [0.0], "share_not_returned": [1.0], "lower": [1.0], "upper": [1.0], "at_risk": [len(days)]}
    )
    if not returned.any():
        return start
    curve = SurvfuncRight(days, returned.astype(float))
    # The arcsine-square-root transform keeps the Hall-Wellner band inside [0, 1] and usable near
    # S = 1, where the log transform collapses to [0, 1] at the first events (Klein & Moeschberger 2003, 4.4).
    lower, upper = curve.simultaneous_cb(alpha=0.05, method="hw", transform="arcsin")
    steps = pd.DataFrame(
        {
            "group": group,
            "days": curve.surv_times,
            "share_not_returned": curve.surv_prob,
            "lower": np.clip(lower, 0, 1),
            "upper": np.clip(upper, 0, 1),
            "at_risk": curve.n_risk,
        }
    )
    # Carry the last level to the longest observed wait, so a curve is drawn as far as follows were watched.
    last = steps.iloc[[-1]].assign(days=float(days.max()), at_risk=int((days >= days.max()).sum()))
    return pd.concat([start, steps] + ([last] if days.max() > steps["days"].iloc[-1] else []), ignore_index=True)


def _reverse_follow_ended(dataset: StudyDataset, arcs: np.ndarray) -> np.ndarray:
    """For follows at positions ``arcs`` of ``dataset.follows``: whether a follow the other way existed and ended."""
    events = dataset.follow_events
    if not len(events) or not len(arcs):
        return np.zeros(len(arcs), dtype=bool)
    reverse = pd.MultiIndex.from_arrays([events["followee_id"].astype("string"), events["follower_id"].astype("string")])
    follows = dataset.follows.iloc[arcs]
    keys = pd.MultiIndex.from_arrays([follows["follower_id"].astype("string"), follows["followee_id"].astype("string")])
    return np.asarray(keys.isin(reverse), dtype=bool)


def followback_timing(dataset: StudyDataset, arcs: EncodedFollows | None = None) -> FollowBackTiming:
    """Kaplan-Meier time to follow-back, where follow times exist for the arcs involved.

    The later arc of a mutual pair is the follow-back of the earlier one. A follow never
    returned is censored at the end of observation (the dataset's last recorded time). Mutual
    pairs missing either time and one-way follows missing their time are left out and counted.
    """
    empty = pd.DataFrame({"days": pd.Series(dtype=float), "returned": pd.Series(dtype=bool), "followed_group": pd.Series(dtype="string")})
    empty_curve = pd.DataFrame(columns=["group", "days", "share_not_returned", "lower", "upper", "at_risk"])
    coverage = dataset.coverage
    if not coverage.mutuality_observable:
        return FollowBackTiming(empty, empty_curve, None, 0, 0, (NOT_MUTUAL,))
    if _measured(dataset) and coverage.follow_times:
        note = (
            f"Follow times are known, but the timing of follow-backs is not measured on the whole network: the "
            f"{engine_name(coverage.engine)} engine counts follows and follow-backs, not how long each follow waited for its follow-back."
        )
        return FollowBackTiming(empty, empty_curve, None, 0, 0, (note,))
    if not coverage.follow_times or not coverage.time_end:
        note = "Follow times are not known in this source, so the timing of follow-backs cannot be measured."
        if coverage.engine and not coverage.engine_read_engagement:
            note = f"Follow times are not read for the whole network (the {engine_name(coverage.engine)} engine measures the follows alone), so the timing of follow-backs is not measured."
        if coverage.snapshots:
            note = (
                "Follow times are not recorded; the snapshots date a follow only to within the interval between two of "
                "them, too coarse to time follow-backs, so their timing cannot be measured."
            )
        return FollowBackTiming(empty, empty_curve, None, 0, 0, (note,))
    arcs = _encoded(dataset, arcs)
    end = pd.Timestamp(coverage.time_end)
    end_micros = (end - pd.Timestamp(0, tz="UTC")) // pd.Timedelta(microseconds=1)
    micros, known = _micros(dataset.follows["followed_at"])
    reverse = reverse_arcs(arcs.follower, arcs.followee, arcs.n_accounts)
    kinds = dataset.accounts["kind"].astype("string").to_numpy()

    first = np.flatnonzero(reverse > np.arange(len(reverse)))  # each mutual pair once
    second = reverse[first]
    timed = known[first] & known[second]
    first, second = first[timed], second[timed]
    earlier = np.where(micros[first] <= micros[second], first, second)
    latency = np.abs(micros[first] - micros[second]) / MICROSECONDS_PER_DAY
    one_way = np.flatnonzero(reverse < 0)
    # With snapshots, a follow whose follow-back was later withdrawn looks one-way in the final
    # state; counting it as never returned would bias the curve up. Its return time is not known.
    ended = _reverse_follow_ended(dataset, one_way)
    one_way = one_way[~ended]
    one_way_timed = one_way[known[one_way]]
    waited = (end_micros - micros[one_way_timed]) / MICROSECONDS_PER_DAY
    # The account followed first is the one that could follow back: curves are drawn by its kind,
    # or, in a personal export, by whether it is the owner (the owner's habits vs everybody else's).
    followed = np.concatenate([arcs.followee[earlier], arcs.followee[one_way_timed]])
    if _is_ego(dataset) and dataset.owner_id is not None:
        groups = np.where(followed == arcs.code_of(dataset.owner_id), "the owner", "other accounts")
    else:
        groups = kinds[followed]
    spells = pd.DataFrame(
        {
            "days": np.concatenate([latency, waited]),
            "returned": np.concatenate([np.ones(len(latency), bool), np.zeros(len(waited), bool)]),
            "followed_group": pd.array(groups, dtype="string"),
        }
    )
    pairs_without = int((~timed).sum())
    one_way_without = int(len(one_way) - len(one_way_timed))
    notes = []
    if ended.any():
        notes.append(
            f"{int(ended.sum()):,} follows were returned at some point and the follow-back later withdrawn (seen between "
            "snapshots); when they were returned is not known, so they are left out rather than counted as never returned."
        )
    if pairs_without or one_way_without:
        notes.append(f"Left out for lack of follow times: {pairs_without:,} mutual pairs and {one_way_without:,} one-way follows.")
    if spells.empty:
        notes.append("No follow with a known time remains, so the timing of follow-backs cannot be measured.")
        return FollowBackTiming(spells, empty_curve, end, pairs_without, one_way_without, tuple(notes))
    notes.append(
        f"Follows never returned are counted as waiting until the end of the data ({end.date()}): "
        "recent follows have had less time to be returned."
    )
    curves = [_survival_curve(ALL_ACCOUNTS, spells["days"].to_numpy(), spells["returned"].to_numpy())]
    for label, group in spells.dropna(subset=["followed_group"]).groupby("followed_group", sort=True):  # a handful of groups
        curves.append(_survival_curve(str(label), group["days"].to_numpy(), group["returned"].to_numpy()))
    return FollowBackTiming(spells, pd.concat(curves, ignore_index=True), end, pairs_without, one_way_without, tuple(notes))


# ---------------------------------------------------------------------------------------------
# Engagement ("true") reciprocity

MUTUAL_PATTERNS = ("both directions", "one direction only", "neither (dormant)")
ONE_WAY_PATTERNS = ("both directions", "follower → followee only", "followee → follower only", "neither")
OWNER_GROUPS = ("mutuals", "followees not following back", "followers not followed back")


@dataclass(frozen=True)
class EngagementReciprocity:
    """Engagement in each direction of follow pairs within a window that ends with the data.

    With engagement observed for everyone, ``table`` has, for mutual pairs and for one-way pairs,
    how many pairs show engagement in both directions, one, or none. With only the owner's
    outgoing engagement observed, ``owner_table`` has the share of the owner's mutuals, followees
    not following back and followers not followed back that the owner engaged with.
    """

    observed: str
    window_days: float | None
    window_start: pd.Timestamp | None
    window_end: pd.Timestamp | None
    table: pd.DataFrame
    owner_table: pd.DataFrame
    events_counted: int
    events_without_time: int
    notes: tuple[str, ...] = ()
    owner_view: bool = False  # a personal export with a known owner: the owner's own shares are reported

    @property
    def period(self) -> str:
        """The engagement counted, in words."""
        return f"in the last {self.window_days:g} days of the data" if self.window_start is not None else "over the whole recorded period"

    def share(self, pair_type: str, pattern: str) -> float | None:
        row = self.table[(self.table["pair_type"] == pair_type) & (self.table["pattern"] == pattern)]
        return float(row["share"].iloc[0]) if len(row) and pd.notna(row["share"].iloc[0]) else None

    def owner_share(self, group: str) -> float | None:
        row = self.owner_table[self.owner_table["group"] == group]
        return float(row["share_engaged"].iloc[0]) if len(row) and pd.notna(row["share_engaged"].iloc[0]) else None

    def headline(self) -> dict[str, float | None]:
        """Pair shares (None where not observable); the owner's shares too for a personal export."""
        numbers = {
            "mutual_pairs_engaged_both_ways": self.share("mutual", MUTUAL_PATTERNS[0]),
            "mutual_pairs_engaged_one_way": self.share("mutual", MUTUAL_PATTERNS[1]),
            "mutual_pairs_dormant": self.share("mutual", MUTUAL_PATTERNS[2]),
            "one_way_pairs_engaged_both_ways": self.share("one-way", ONE_WAY_PATTERNS[0]),
        }
        if self.owner_view:
            numbers["owner_engages_mutuals"] = self.owner_share(OWNER_GROUPS[0])
            numbers["owner_engages_followees_not_following_back"] = self.owner_share(OWNER_GROUPS[1])
        return numbers


def _pattern_table(pair_type: str, patterns: tuple[str, ...], pairs: list[int]) -> pd.DataFrame:
    pairs = np.array(pairs, dtype=np.int64)  # one entry per pattern
    total = int(pairs.sum())
    return pd.DataFrame({"pair_type": pair_type, "pattern": list(patterns), "pairs": pairs, "share": pairs / total if total else np.nan})


def pattern_table(mutual_pairs: list[int], one_way_pairs: list[int]) -> pd.DataFrame:
    """Pairs per pattern (:data:`MUTUAL_PATTERNS`, :data:`ONE_WAY_PATTERNS`, in order) with their shares."""
    return pd.concat(
        [_pattern_table("mutual", MUTUAL_PATTERNS, mutual_pairs), _pattern_table("one-way", ONE_WAY_PATTERNS, one_way_pairs)],
        ignore_index=True,
    )


def window_notes(window_days: float | None, start: pd.Timestamp | None, end: pd.Timestamp | None, untimed: int) -> list[str]:
    """What engagement a window counted, in words (``start`` None: the window could not be applied)."""
    if window_days is None:
        return ["All recorded engagement is counted (no window)."]
    if start is None:
        return [
            f"Engagement times are not recorded in this source, so the {window_days:g}-day window cannot be "
            "applied: all recorded engagement is counted."
        ]
    notes = [f"Engagement counted from {start.date()} to {end.date()} (the last {window_days:g} days of the data)."]
    if untimed:
        notes.append(f"{untimed:,} engagement records without a time cannot be placed in the window and are not counted.")
    return notes


def _window(
    dataset: StudyDataset, window_days: float | None
) -> tuple[pd.DataFrame, pd.Timestamp | None, pd.Timestamp | None, int, list[str]]:
    """Engagement events inside the window, its bounds, events left out for lack of a time, and notes."""
    events = dataset.interactions
    end = pd.Timestamp(dataset.coverage.time_end) if dataset.coverage.time_end else None
    timed = events["at"].notna()
    if window_days is None or not timed.any() or end is None:
        return events, None, end, 0, window_notes(window_days, None, end, 0)
    start = end - pd.Timedelta(days=window_days)
    inside = timed & (events["at"] >= start)
    untimed = int((~timed).sum())
    return events[inside], start, end, untimed, window_notes(window_days, start, end, untimed)


def _engaged_lookup(events: pd.DataFrame, arcs: EncodedFollows) -> Callable[[np.ndarray, np.ndarray], np.ndarray]:
    """A vectorised test 'did a engage with b in the window' for code arrays a, b."""
    actor, target = arcs.codes.of_columns(
        [(events["actor_id"], "interactions, actor_id"), (events["target_id"], "interactions, target_id")]
    )
    n = arcs.n_accounts
    keys = np.unique(actor.astype(np.int64) * n + target)

    def engaged(a: np.ndarray, b: np.ndarray) -> np.ndarray:
        wanted = np.asarray(a, dtype=np.int64) * n + np.asarray(b, dtype=np.int64)
        if len(keys) == 0:
            return np.zeros(len(wanted), dtype=bool)
        position = np.minimum(np.searchsorted(keys, wanted), len(keys) - 1)
        return keys[position] == wanted

    return engaged


def engagement_reciprocity(
    dataset: StudyDataset, window_days: float | None = 90, arcs: EncodedFollows | None = None
) -> EngagementReciprocity:
    """Among mutual and one-way follow pairs, who engaged with whom in the last ``window_days`` of the data."""
    observed = dataset.coverage.engagement_observed
    if _measured(dataset) and observed == "everyone":
        from .measured_metrics import measured_engagement_reciprocity

        return measured_engagement_reciprocity(dataset, window_days)
    owner_view = _is_ego(dataset) and dataset.owner_id is not None
    empty_table = pd.DataFrame(columns=["pair_type", "pattern", "pairs", "share"])
    empty_owner = pd.DataFrame(columns=["group", "accounts", "owner_engaged", "share_engaged"])
    if not dataset.coverage.mutuality_observable:
        return EngagementReciprocity(observed, window_days, None, None, empty_table, empty_owner, 0, 0, (NOT_MUTUAL,), owner_view)
    if observed == "none":
        return EngagementReciprocity(
            observed,
            window_days,
            None,
            None,
            empty_table,
            empty_owner,
            0,
            0,
            (
                f"Engagement is not read for the whole network (the {engine_name(dataset.coverage.engine)} engine measures the follows alone), "
                "so engagement reciprocity is not measured here; where the input records engagement, study 03 measures it (on the "
                "whole network when its table fits in memory, else on the random subgraph)."
                if dataset.coverage.engine and not dataset.coverage.engine_read_engagement
                else "No engagement is recorded in this source, so engagement reciprocity cannot be measured.",
            ),
            owner_view,
        )
    events, start, end, untimed, notes = _window(dataset, window_days)
    arcs = _encoded(dataset, arcs)
    engaged = _engaged_lookup(events, arcs)
    reverse = reverse_arcs(arcs.follower, arcs.followee, arcs.n_accounts)
    follower, followee = arcs.follower, arcs.followee
    table, owner_table = empty_table, empty_owner
    if observed == "everyone":
        first = np.flatnonzero(reverse > np.arange(len(reverse)))
        a, b = follower[first], followee[first]
        ab, ba = engaged(a, b), engaged(b, a)
        one_way = np.flatnonzero(reverse < 0)
        f, g = follower[one_way], followee[one_way]
        fg, gf = engaged(f, g), engaged(g, f)
        table = pattern_table(
            [int(v.sum()) for v in (ab & ba, ab ^ ba, ~(ab | ba))], [int(v.sum()) for v in (fg & gf, fg & ~gf, gf & ~fg, ~(fg | gf))]
        )
    else:  # owner_outgoing: only the owner's own engagement toward others is in the data
        owner = dataset.owner_id
        if owner is None:
            notes.append("Only an owner's outgoing engagement is recorded, but no owner is known: nothing can be measured.")
        else:
            o = arcs.code_of(owner)
            notes.append(
                "Only the owner's outgoing engagement is recorded: whether others engaged with the owner is not "
                "observed, so engagement in both directions cannot be measured. Shown instead: how many of the "
                "owner's mutuals and one-way contacts the owner engaged with."
            )
            states = owner_states(dataset)
            if states:
                rows = _owner_rows_by_snapshot(dataset, events, states, notes)
            else:
                mutual_partners = followee[(follower == o) & (reverse >= 0)]
                followees_only = followee[(follower == o) & (reverse < 0)]
                followers_only = follower[(followee == o) & (reverse < 0)]
                rows = []
                for group, partners in zip(OWNER_GROUPS, (mutual_partners, followees_only, followers_only)):  # three groups
                    hit = engaged(np.full(len(partners), o), partners)
                    rows.append(
                        {
                            "group": group,
                            "accounts": len(partners),
                            "owner_engaged": int(hit.sum()),
                            "share_engaged": float(hit.mean()) if len(partners) else np.nan,
                        }
                    )
            owner_table = pd.DataFrame(rows)
    return EngagementReciprocity(
        observed, window_days, start, end, table, owner_table, int(events["count"].sum()), untimed, tuple(notes), owner_view
    )


def _owner_rows_by_snapshot(
    dataset: StudyDataset, events: pd.DataFrame, states: list[OwnerState], notes: list[str]
) -> list[dict[str, Any]]:
    """The owner's shares with follow status taken from the snapshot nearest to each engagement.

    Engagement from years before a later snapshot is judged by the follow status of its own
    time: each event goes to the snapshot nearest in time, and an account counts once per
    snapshot period that has engagement (its status then).
    """
    mine = events[events["actor_id"] == dataset.owner_id]
    timed = mine[mine["at"].notna()]
    if len(timed) < len(mine):
        notes.append(
            f"{len(mine) - len(timed):,} of the owner's engagement records have no time, so the snapshot they belong "
            "to is unknown; they are not counted here."
        )
    nearest = nearest_state(states, timed["at"])
    totals = {group: [0, 0] for group in OWNER_GROUPS}
    used = []
    for position, state in enumerate(states):
        targets = pd.Index(timed.loc[nearest == position, "target_id"].astype(str).unique())
        if not len(targets):
            continue
        used.append(state.taken.strftime("%Y-%m-%d"))
        groups = (state.mutuals, state.followees_not_following_back, state.followers_not_followed_back)
        for group, members in zip(OWNER_GROUPS, groups):
            totals[group][0] += len(members)
            totals[group][1] += len(members.intersection(targets))
    if not used:
        notes.append("None of the owner's engagement in the window has a time, so it cannot be matched to a snapshot.")
    else:
        notes.append(
            "Follow status is taken from the snapshot nearest in time to each engagement ("
            + ", ".join(used)
            + "), not from the latest snapshot: a pair's status years later says nothing about the engagement then."
        )
    return [
        {"group": group, "accounts": accounts, "owner_engaged": hits, "share_engaged": hits / accounts if accounts else np.nan}
        for group, (accounts, hits) in totals.items()
    ]


# ---------------------------------------------------------------------------------------------
# Ego lists for personal exports


@dataclass(frozen=True)
class EgoLists:
    """The owner's mutuals, followers not followed back, followees not following back, dormant mutuals.

    Accounts appear under display names from the pseudonymizer passed in (pseudonyms unless the
    owner chose to reveal names); ``None`` for a list the source cannot support.
    """

    lists: dict[str, pd.DataFrame | None]
    notes: tuple[str, ...] = ()

    def counts(self) -> dict[str, int | None]:
        return {name: (len(table) if table is not None else None) for name, table in self.lists.items()}


EGO_LISTS_FILE = "02-reciprocity.ego-lists.csv"
EGO_LIST_NAMES = ("mutuals", "followers not followed back", "followees not following back", "dormant mutuals")


def ego_lists(dataset: StudyDataset, names: Callable[[pd.Series], pd.Series], window_days: float | None = 90) -> EgoLists:
    """The lists users ask peer tools for, for a personal export with a known owner.

    ``names`` maps ids to display names (:func:`reciprocity_utils.privacy.pseudonymizer_for`).
    Not computed at all when mutuality is unobservable. Dormant mutuals are mutuals without
    observed engagement in the window, ranked by time since the owner last engaged with them
    (never first).
    """
    nothing = dict.fromkeys(EGO_LIST_NAMES)
    owner = dataset.owner_id
    if not _is_ego(dataset):
        return EgoLists(nothing, ("Ego lists are for personal exports; this dataset is a whole network.",))
    if owner is None:
        return EgoLists(nothing, ("This personal export names no owner (set the owner_id parameter): no ego lists.",))
    if not dataset.coverage.mutuality_observable:
        return EgoLists(
            nothing,
            (
                "This export does not list both who the owner follows and who follows the owner, so "
                "mutuals and non-followers cannot be told apart: no lists.",
            ),
        )
    follows = dataset.follows
    outgoing = follows[follows["follower_id"] == owner][["followee_id", "followed_at"]]
    outgoing = outgoing.rename(columns={"followee_id": "account_id", "followed_at": "owner_followed_at"})
    incoming = follows[follows["followee_id"] == owner][["follower_id", "followed_at"]]
    incoming = incoming.rename(columns={"follower_id": "account_id", "followed_at": "followed_owner_at"})
    contacts = outgoing.merge(incoming, on="account_id", how="outer", indicator=True)
    by_owner = dataset.interactions[dataset.interactions["actor_id"] == owner]
    last = by_owner.dropna(subset=["at"]).groupby("target_id")["at"].max().rename("owner_last_engaged_at")
    contacts = contacts.merge(last, left_on="account_id", right_index=True, how="left")
    end = pd.Timestamp(dataset.coverage.time_end) if dataset.coverage.time_end else None
    since = (end - contacts["owner_last_engaged_at"]).dt.total_seconds() / SECONDS_PER_DAY if end is not None else np.nan
    contacts["days_since_owner_engaged"] = since
    contacts.insert(0, "account", names(contacts["account_id"]))

    def listing(rows: pd.DataFrame, columns: list[str], newest_first: str) -> pd.DataFrame:
        return rows.sort_values([newest_first, "account"], ascending=[False, True], na_position="last")[["account", *columns]].reset_index(
            drop=True
        )

    mutual = contacts[contacts["_merge"] == "both"]
    lists = {
        "mutuals": listing(mutual, ["owner_followed_at", "followed_owner_at", "owner_last_engaged_at"], "followed_owner_at"),
        "followers not followed back": listing(contacts[contacts["_merge"] == "right_only"], ["followed_owner_at"], "followed_owner_at"),
        "followees not following back": listing(contacts[contacts["_merge"] == "left_only"], ["owner_followed_at"], "owner_followed_at"),
        "dormant mutuals": None,
    }
    notes = []
    observed = dataset.coverage.engagement_observed
    if observed == "none":
        notes.append("No engagement is recorded in this export, so dormant mutuals cannot be found.")
    else:
        events, start, _, _, _ = _window(dataset, window_days)
        notes.append(
            f"Dormant mutuals: no observed engagement {'since ' + str(start.date()) if start is not None else 'at all'}, "
            "ranked by time since the owner last engaged with them (never first)."
        )
        recent = events if observed == "everyone" else events[events["actor_id"] == owner]
        partners = [recent.loc[recent["actor_id"] == owner, "target_id"], recent.loc[recent["target_id"] == owner, "actor_id"]]
        talked = pd.Index(pd.concat(partners).unique())
        dormant = mutual[~mutual["account_id"].isin(talked)]
        dormant = dormant.sort_values(["days_since_owner_engaged", "account"], ascending=[False, True], na_position="first")
        lists["dormant mutuals"] = dormant[["account", "owner_last_engaged_at", "days_since_owner_engaged"]].reset_index(drop=True)
        if observed == "owner_outgoing":
            notes.append("Dormant here means the owner has not engaged with them; what they did toward the owner is not in the export.")
        snapshots = dataset.coverage.snapshots
        if snapshots and end is not None and pd.Timestamp(snapshots[-1]) - end > pd.Timedelta(days=1):
            notes.append(
                f"The lists are as of the latest snapshot ({snapshots[-1][:10]}), but the engagement recorded ends "
                f"{end:%Y-%m-%d}: accounts that became mutual after that cannot show engagement, so they appear "
                "dormant for lack of data."
            )
    return EgoLists(lists, tuple(notes))


def save_owner_lists(
    dataset: StudyDataset, output_dir: str | Path, shown_as: Callable[[pd.Series], pd.Series], window_days: float | None = 90
) -> Path | None:
    """The owner's lists with real account ids and handles, for the owner to act on, in the private folder only.

    Real identities whatever the published pages show: to unfollow someone the owner has to find
    them. ``shown_as`` gives the name the published pages use (a pseudonym by default), so a row
    can be matched to the report. Each row keeps the evidence of its list (follow dates, the
    owner's last engagement, days since). Nothing is written when no list exists.
    """
    lists = ego_lists(dataset, names=lambda ids: ids.astype(str), window_days=window_days)
    frames = [table.assign(list=name) for name, table in lists.lists.items() if table is not None]
    if not frames:
        return None
    combined = pd.concat(frames, ignore_index=True).rename(columns={"account": "account_id"})
    handles = dataset.accounts.set_index("account_id")["handle"]
    combined.insert(0, "handle", combined["account_id"].map(handles).fillna(""))
    combined.insert(0, "shown_in_the_report_as", shown_as(combined["account_id"]).to_numpy())
    path = private_dir(output_dir) / EGO_LISTS_FILE
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    return write_safe_csv(combined[["list"] + [c for c in combined.columns if c != "list"]], path)


# ---------------------------------------------------------------------------------------------
# Parameters and recorded numbers


def check_reciprocity_parameters(
    null_networks: int,
    swaps_per_follow: float,
    min_followers: int,
    engagement_window_days: float | None,
    reveal_names: bool,
    ego_list_rows: int,
    null_workers: int = 1,
    camps_bootstrap_draws: int = DEFAULT_BOOTSTRAP_DRAWS,
    null_max_follows: int = MAX_REWIRED_FOLLOWS,
    camps_max_accounts: int = 50_000,
) -> None:
    """Refuse study-02 parameter values the study cannot use, with a message a user understands."""

    def whole(name: str, value: Any, least: int) -> None:
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < least:
            raise ParameterError(f"{name} must be a whole number of at least {least}, not {value!r}")

    whole("null_networks", null_networks, 0)
    whole("null_workers", null_workers, 1)
    whole("min_followers", min_followers, 1)
    whole("ego_list_rows", ego_list_rows, 0)
    whole("null_max_follows", null_max_follows, 2)
    if (
        isinstance(camps_bootstrap_draws, bool)
        or not isinstance(camps_bootstrap_draws, (int, np.integer))
        or camps_bootstrap_draws < MIN_BOOTSTRAP_DRAWS
    ):
        raise ParameterError(
            f"camps_bootstrap_draws must be a whole number of at least {MIN_BOOTSTRAP_DRAWS} (simulated networks "
            f"calibrating the two-camps test; fewer cannot resolve a p-value of 1%), not {camps_bootstrap_draws!r}"
        )
    if isinstance(swaps_per_follow, bool) or not isinstance(swaps_per_follow, (int, float)) or not (0 < swaps_per_follow < float("inf")):
        raise ParameterError(f"swaps_per_follow must be a positive number (rewiring trials per follow), not {swaps_per_follow!r}")
    if engagement_window_days is not None and (
        isinstance(engagement_window_days, bool)
        or not isinstance(engagement_window_days, (int, float))
        or not (0 < engagement_window_days < float("inf"))
    ):
        raise ParameterError(
            f"engagement_window_days must be a positive number of days, or None for all engagement, not {engagement_window_days!r}"
        )
    if not isinstance(reveal_names, bool):
        raise ParameterError(f"reveal_names must be True or False, not {reveal_names!r}")
    if isinstance(camps_max_accounts, bool) or not isinstance(camps_max_accounts, (int, np.integer)) or camps_max_accounts < 100:
        raise ParameterError(
            f"camps_max_accounts must be a whole number of at least 100 (accounts in the two-camps test), not {camps_max_accounts!r}"
        )


def _number(value: float | None) -> float | None:
    return None if value is None or not np.isfinite(value) else float(value)


def headline_numbers(
    result: Reciprocity, null: NullModel, camps: TwoCamps, timing: FollowBackTiming, engagement: EngagementReciprocity
) -> dict[str, float | None]:
    """The numbers study 02 records for the report index: None where not observable or undefined."""
    overall = camps.overall()
    return {
        "arc_reciprocity": _number(result.arc_reciprocity),
        "dyad_reciprocity": _number(result.dyad_reciprocity),
        "rho": _number(result.rho),
        "null_z": _number(null.z_score),
        "null_p": _number(null.p_value),
        "share_follow_back_above_80": _number(overall["share_above"]),
        "share_follow_back_below_20": _number(overall["share_below"]),
        "bimodality_p": _number(overall["calibrated_p"]),  # the dip test calibrated for k/n rates (camps.py)
        "median_followback_latency_days": _number(timing.median_latency_days),
        **engagement.headline(),
    }


def detail_numbers(
    result: Reciprocity,
    null: NullModel,
    behaviour: AccountBehaviour,
    camps: TwoCamps,
    timing: FollowBackTiming,
    engagement: EngagementReciprocity,
    ego: EgoLists,
) -> dict[str, Any]:
    """Everything else study 02 records for tests and later studies, with the notes saying what was left out."""
    return {
        "definitions": DEFINITIONS,
        "reciprocity": result.as_dict(),
        "null_model": null.as_dict(),
        "accounts": behaviour.summary().to_dict("records"),
        "two_camps": camps.as_dict(),
        "timing": timing.as_dict(),
        "engagement": {
            "observed": engagement.observed,
            "window_days": engagement.window_days,
            "window_start": engagement.window_start,
            "window_end": engagement.window_end,
            "events_without_time": engagement.events_without_time,
            "pairs": engagement.table.to_dict("records"),
            "owner": engagement.owner_table.to_dict("records"),
        },
        "ego_list_sizes": ego.counts(),
        "notes": {
            name: list(item.notes)
            for name, item in (
                ("reciprocity", result),
                ("null_model", null),
                ("accounts", behaviour),
                ("two_camps", camps),
                ("timing", timing),
                ("engagement", engagement),
                ("ego_lists", ego),
            )
        },
    }


# ---------------------------------------------------------------------------------------------
# Plain-language answers


def _density_words(density: float) -> str:
    """A density a reader can picture: large networks have tiny ones (0.0000 says nothing)."""
    if 0 < density < 0.001:
        return f"one follow in {round(1 / density):,} possible"
    return f"{density:.4f}"


def _percent(value: float) -> str:
    return f"{value:.1%}" if np.isfinite(value) else "undefined"


@singledispatch
def in_words(result: Any) -> str:
    """One or two plain sentences answering what a study-02 result says; empty when nothing was measured (its notes say why)."""
    raise TypeError(f"no plain-language description for {type(result).__name__}")


@in_words.register
def _(result: Reciprocity) -> str:
    if not np.isfinite(result.arc_reciprocity):
        return ""
    text = (
        f"{_percent(result.arc_reciprocity)} of the {result.n_follows:,} follows are returned (r = {result.arc_reciprocity:.4f}); "
        f"{_percent(result.dyad_reciprocity)} of the {result.n_connected_pairs:,} connected pairs are mutual."
    )
    if np.isfinite(result.rho):
        text += (
            f" rho = {result.rho:.4f}: with a density of {_density_words(result.density)}, a random graph would return about "
            f"{_percent(result.density)} of follows, so reciprocity here is "
            f"{'far above' if result.rho > 0.1 else 'above' if result.rho > 0 else 'at or below'} chance from density alone."
        )
    return text


@in_words.register
def _(null: NullModel) -> str:
    if null.n_networks == 0:
        return ""
    text = (
        f"In {null.n_networks} randomized networks that keep each account's numbers of followers and followees, r is "
        f"{decimal(null.mean)} ± {decimal(null.sd)} (mean ± sd), against {null.observed:.4f} observed"
    )
    if np.isfinite(null.z_score):
        text += f": {null.z_score:.1f} standard deviations {'above' if null.z_score > 0 else 'below'}"
    smallest = 1 / (null.n_networks + 1)
    text += f"; empirical one-sided {p_words(null.p_value)} (the smallest possible with {null.n_networks} networks is {smallest:.3f})."
    if null.subgraph is not None:
        text += " " + null.subgraph.words().format(observed=f"{null.observed:.4f}")
    return text + " " + configuration_words(null)


def configuration_words(null: NullModel) -> str:
    """The configuration model's formula in a sentence, with when it overstates."""
    if not np.isfinite(null.analytic):
        return ""
    whole = "" if null.subgraph is None else " of the whole network"
    text = (
        f"The configuration model's formula, from the numbers of followers and followees{whole} alone (no rewiring), "
        f"gives r = {decimal(null.analytic)}"
    )
    if null.analytic_largest_probability > 1:
        return text + (
            ": only an approximation here, since the account following the most and the account followed by the most "
            "would get a chance above 1 of a follow between them; the randomized networks are the reference."
        )
    return text + "."


in_words.register(TwoCamps, camps_in_words)


@in_words.register
def _(timing: FollowBackTiming) -> str:
    if timing.n_initiating == 0:
        return ""
    text = (
        f"Of {timing.n_initiating:,} follows with known times, {_percent(1 - timing.share_never_returned)} were returned by the end of "
        f"the data and {_percent(timing.share_never_returned)} were not."
    )
    if timing.n_returned:
        text += f" Returned follows came back after a median of {timing.median_latency_days:.2f} days."
    if np.isfinite(timing.kaplan_meier_median_days):
        text += (
            f" Counting follows still waiting, half of all follows are returned within "
            f"{timing.kaplan_meier_median_days:.2f} days (Kaplan–Meier median)."
        )
    else:
        text += " Fewer than half of all follows are ever returned, so the Kaplan–Meier median is not reached."
    return text


@in_words.register
def _(engagement: EngagementReciprocity) -> str:
    window = engagement.period
    if len(engagement.table):
        mutual = engagement.table[engagement.table["pair_type"] == "mutual"]
        one_way = engagement.table[engagement.table["pair_type"] == "one-way"]
        shares = dict(zip(mutual["pattern"], mutual["share"]))
        text = (
            f"Of {int(mutual['pairs'].sum()):,} mutual pairs, {_percent(shares[MUTUAL_PATTERNS[0]])} engaged in both directions {window} "
            f"(true reciprocity), {_percent(shares[MUTUAL_PATTERNS[1]])} in one direction only and "
            f"{_percent(shares[MUTUAL_PATTERNS[2]])} not at all (dormant mutuals)."
        )
        if one_way["pairs"].sum():
            text += (
                f" Of {int(one_way['pairs'].sum()):,} one-way pairs, {_percent(one_way['share'].iloc[0])} engaged both ways and "
                f"{_percent(one_way['share'].iloc[3])} not at all."
            )
        return text
    if len(engagement.owner_table):
        parts = [
            f"{_percent(share)} of {count:,} {group}"
            for group, count, share in zip(
                engagement.owner_table["group"], engagement.owner_table["accounts"], engagement.owner_table["share_engaged"]
            )
            if count
        ]
        return f"The owner engaged {window} with " + ", ".join(parts) + "; what others did toward the owner is not recorded."
    return ""
