"""A synthetic directed follow network with engagement over time and planted, recorded truth.

The generator serves two purposes: it produces the small sample dataset shipped with the project
(in the generic format, :func:`write_generic`), and it validates the statistical methods: because
every effect is planted and recorded in :attr:`SyntheticNetwork.truth`, a method that claims to
measure "how much more engagement a follow-back brings" can be checked against the answer.

The model (all parameters live in :class:`SyntheticParameters`)
---------------------------------------------------------------

Accounts.  ``n_accounts`` accounts; a share ``brand_share`` are *brands*, the rest *persons*.
Each account ``i`` has two latent traits drawn once:

- popularity ``p_i = exp(popularity_sigma * z_i)`` with ``z_i ~ N(0, 1)``: lognormal, so a few
  accounts attract most follows (heavy tail), median 1;
- activity ``act_i = exp(activity_sigma * w_i)`` with ``w_i = rho * z_i + sqrt(1 - rho^2) * e_i``
  and ``rho = activity_popularity_correlation``: active accounts tend to be popular, median 1.

Accounts were created before the period (uniformly up to ``account_age_max_days`` earlier); ids
are 19-digit strings (above 2**53, like Twitter ids) increasing with creation time.

Initiating follows.  Account ``a`` makes ``K_a ~ Poisson(mean_out_degree * act_a / E[act])``
follows (capped at ``n_accounts - 1``; active accounts follow more), to distinct targets other
than itself drawn without replacement with probability proportional to popularity (successive
sampling, done exactly with Gumbel top-k keys).  Each follow happens at a uniform time in the
period ``[start, start + days)``.  If both ``a -> b`` and ``b -> a`` are drawn, only the earlier is
kept: whether a pair becomes mutual is then decided by the follow-back step alone, so the planted
follow-back probability is exactly the chance that a followed account returns the follow.

Follow-backs.  When ``a`` follows ``b``, ``b`` decides once whether to follow back:

- brands (camp ``auto_follow_back``) with probability ``brand_followback_probability`` (~0.9);
- persons (camp ``selective``) with ``logit(q_b) = logit(person_followback_probability)
  + person_followback_activity_slope * log(act_b)``: active persons follow back more.  This is
  the confounder: the same activity makes ``b`` receive more engagement (see below).

The follow-back arrives after an exponential latency (mean ``brand_followback_latency_days`` for
brands, ``person_followback_latency_days`` for persons).  A follow-back that would arrive after
the end of the period does not happen: the arc is recorded as not returned.

Engagement.  For every follow arc ``a -> b`` (initiating or follow-back), ``a``'s engagement events
toward ``b`` form a Poisson process from the moment ``a`` follows ``b`` to the end of the period with
rate per day

    base_rate * act_a ** actor_activity_exponent * p_b ** target_popularity_exponent
              * act_b ** target_activity_exponent * M(t),

where ``M(t) = 1`` while the arc is one-way and ``M(t) = ratio`` once the pair is mutual (from the
follow-back onward; a follow-back arc is mutual from its start).  ``ratio`` is
``auto_followback_ratio`` when the account that followed back is a brand (auto-follow-back
mutuals; ``None`` means the same as ``mutual_rate_ratio``) and ``mutual_rate_ratio`` otherwise.
The ``act_b`` term says active accounts post more and so receive more engagement; since active
persons also follow back more, a naive comparison of mutual vs one-way engagement rates is biased
upward, while a model controlling for ``act_a``, ``p_b`` and ``act_b`` recovers the ratio.

Reverse causality (off by default).  With ``pre_followback_ratio`` other than 1, ``a``'s rate
toward ``b`` is multiplied by it in the ``pre_followback_days`` before ``b`` follows back, as when
``b`` returns the follow in answer to ``a``'s engagement.  A within-pair comparison of engagement
before and after the follow-back then mixes that rise in, and the timing design's lead window
(the pre-trend check) must see it.  The window never starts before the follow: with a lead
longer than the one-way time (30 or 60 days against a 7-day mean latency) the whole one-way
period is raised and the arc has no clean "before".  ``arc_truth.pre_followback_since`` records
where each window starts, and ``truth["realised"]["anticipation"]`` how often the follow cut it.

Pair-level confounding (off by default).  Everything above confounds per account, which is what
fixed effects for both accounts remove.  Two options make the pair itself matter:

- communities, an observed pair variable: with ``n_communities = k > 0`` every account gets a
  community drawn uniformly from ``k`` (written to ``accounts.labels`` as ``c1`` ... ``ck``, the
  column the dyad table reads as ``a_community``/``b_community``).  Initiating follows favour the
  follower's own community: a same-community target's sampling weight is multiplied by
  ``within_community_follow_boost`` (1 = no homophily);
- pair affinity, partly unobserved: every unordered pair that follows gets one affinity
  ``u_ab = same_community_affinity ** [same community] * exp(pair_affinity_sigma * z_ab
  - pair_affinity_sigma ** 2 / 2)`` with ``z_ab ~ N(0, 1)`` (the random part has mean 1).  It
  multiplies the engagement rate in both directions of the pair and in every state (one-way,
  lead window, mutual), so the planted mutual-vs-one-way ratio is untouched; and it raises the
  chance of a follow-back: ``b``'s log-odds of returning ``a``'s follow gain
  ``affinity_followback_slope * log(u_ab)``.  The shift applies to brands too, around
  ``brand_followback_probability`` (a probability of exactly 0 or 1 stays as it is).

With ``mutual_rate_ratio = 1`` and strong affinity, mutual pairs engage more although a
follow-back changes nothing: a comparison across pairs, even with both accounts' fixed effects,
finds an "effect"; a comparison within a pair, before and after its follow-back, does not.
The pair-level draws (communities, then ``z`` per pair) come from a random stream of their own,
so at the defaults every table is exactly what it was before these options existed, and turning
on communities alone only adds the label column.

On top, each account engages with accounts it never follows (replies to strangers, ...) at
``non_follow_rate * act_a ** actor_activity_exponent`` events per day, at uniform times, with
targets drawn proportional to popularity among the accounts it does not follow.  Every event's
kind is drawn independently from ``interaction_kind_probabilities``; every event row has
``count = 1``.  Timestamps are kept to the second.

Everything is vectorised with numpy and driven only by ``np.random.default_rng(seed)``: the same
parameters give identical tables and byte-identical files.
"""

from __future__ import annotations

import dataclasses
import json
import math
import numbers
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .model import INTERACTION_KINDS, Coverage, Provenance, RawTable, StudyDataset, build_dataset
from .paths import open_for_writing, output_folder

__all__ = [
    "INTERACTION_KINDS",
    "SyntheticNetwork",
    "SyntheticParameters",
    "generate_network",
    "network_dataset",
    "write_generic",
]

SOURCE = "synthetic"
SECONDS_PER_DAY = 86_400
CAMP_OF_KIND = {"brand": "auto_follow_back", "person": "selective"}

# Ids are a fixed 19-digit base plus distinct offsets below 10**17, so every id has 19 digits and
# lies far above 2**53: a reader that lets ids pass through a float would visibly corrupt them.
ID_BASE = 1_200_000_000_000_000_000
ID_OFFSET_SPAN = 10**17

# Gumbel keys are drawn for blocks of (followers x accounts); this bounds the block's memory.
MAX_KEY_CELLS = 4_000_000
# Rejection rounds for stranger targets before switching to exact per-event sampling.
MAX_REJECTION_ROUNDS = 64

DEFINITIONS = {
    "arc_reciprocity": "n_mutual_arcs / n_follows: the share of follow arcs whose reverse arc also exists at the end of the period",
    "n_mutual_arcs": "follow arcs a->b such that b->a also exists (each mutual pair counts twice)",
    "followback_share_by_camp": (
        "among initiating follows a->b, the share that b returned within the period, by b's camp "
        "(auto_follow_back = brands, selective = persons)"
    ),
    "mutual_rate_ratio": (
        "planted multiplier of a's engagement rate toward b once a and b follow each other, relative to "
        "the same arc while one-way, holding both accounts' traits fixed"
    ),
    "auto_followback_ratio": "the same multiplier for pairs in which the account that followed back is a brand",
    "pre_followback_ratio": (
        "multiplier of a's engagement rate toward b in the pre_followback_days before b follows back (b returning the "
        "follow in answer to a's engagement: reverse causality); 1 = none"
    ),
    "naive_mutual_vs_one_way_rate_ratio": (
        "realised events per arc-day on mutual arc segments divided by events per arc-day on one-way "
        "segments, with no controls: biased upward because accounts that follow back are more active"
    ),
    "non_follow_interactions": "events from an account toward an account it never follows; not part of any follow arc",
}
PAIR_DEFINITIONS = {
    "pair_affinity": (
        "u_ab = same_community_affinity^[same community] * exp(pair_affinity_sigma * z_ab - pair_affinity_sigma^2 / 2), "
        "one draw per unordered pair; multiplies both directions' engagement rates in every state and adds "
        "affinity_followback_slope * log(u_ab) to the follow-back log-odds (brands included)"
    ),
    "within_pair_rate_ratio_on_switching_arcs": (
        "Mantel-Haenszel rate ratio over initiating arcs that were returned, each arc its own stratum: events after the "
        "follow-back per day against events before it per day on the same arc; pair traits cancel"
    ),
    "mean_log_affinity_returned_initiating": "mean log(u_ab) over initiating arcs that were returned (and, _unreturned_, over those that were not)",
}
ANTICIPATION_DEFINITIONS = {
    "pre_followback_since": (
        "arc_truth column: when a's raised engagement before b's follow-back begins (mutual_since - pre_followback_days, "
        "but never before the follow); NaT on arcs that are not answered by a follow-back"
    ),
    "share_of_lead_windows_cut_by_the_follow": (
        "answered arcs whose whole one-way time lies inside the lead window (the follow came less than "
        "pre_followback_days before the follow-back): they have no clean before-period"
    ),
}
# Fields left out of truth["parameters"] while all of them are at their defaults, so that files
# generated before the options existed (data/sample/truth.json among them) stay byte-identical.
PAIR_FIELDS = (
    "n_communities",
    "within_community_follow_boost",
    "pair_affinity_sigma",
    "same_community_affinity",
    "affinity_followback_slope",
)
# The pair-level random stream: a child of the seed, distinct from the main stream.
PAIR_STREAM = 1
# Above this, a few pairs would carry almost all engagement (and Poisson means overflow).
MAX_PAIR_AFFINITY_SIGMA = 3.0


@dataclass(frozen=True)
class SyntheticParameters:
    """Every knob of the generator; see the module docstring for the model."""

    n_accounts: int = 300
    days: float = 365
    start: str = "2024-01-01"
    seed: int = 0
    # Accounts
    brand_share: float = 0.15
    popularity_sigma: float = 1.2
    activity_sigma: float = 0.8
    activity_popularity_correlation: float = 0.5
    account_age_max_days: float = 3650
    # Follows
    mean_out_degree: float = 10.0
    brand_followback_probability: float = 0.9
    person_followback_probability: float = 0.12
    person_followback_activity_slope: float = 1.5
    brand_followback_latency_days: float = 1.0
    person_followback_latency_days: float = 7.0
    # Engagement
    base_rate: float = 0.0011
    actor_activity_exponent: float = 1.0
    target_popularity_exponent: float = 0.5
    target_activity_exponent: float = 0.6
    mutual_rate_ratio: float = 2.0
    auto_followback_ratio: float | None = None
    # Reverse causality, off by default: a's engagement toward b in the days before b follows back.
    pre_followback_ratio: float = 1.0
    pre_followback_days: float = 7.0
    # Pair-level confounding, off by default: communities (observed) and pair affinity (mostly unobserved).
    n_communities: int = 0
    within_community_follow_boost: float = 1.0
    pair_affinity_sigma: float = 0.0
    same_community_affinity: float = 1.0
    affinity_followback_slope: float = 1.0
    non_follow_rate: float = 0.004
    interaction_kind_probabilities: tuple[tuple[str, float], ...] = (
        ("like", 0.45),
        ("reply", 0.20),
        ("mention", 0.15),
        ("repost", 0.15),
        ("quote", 0.05),
    )

    def __post_init__(self) -> None:
        if isinstance(self.n_accounts, bool) or not isinstance(self.n_accounts, numbers.Integral) or self.n_accounts < 1:
            raise ValueError(f"n_accounts must be a whole number of at least 1, got {self.n_accounts!r}")
        if isinstance(self.seed, bool) or not isinstance(self.seed, numbers.Integral) or self.seed < 0:
            raise ValueError(f"seed must be a whole number of at least 0, got {self.seed!r}")
        _require_number("days", self.days, low=0.0, low_inclusive=False)
        if round(self.days * SECONDS_PER_DAY) < 1:
            raise ValueError(f"days must cover at least one second, got {self.days!r}")
        try:
            _utc_timestamp(self.start)
        except (ValueError, TypeError) as error:
            raise ValueError(f"start must be a date or timestamp such as '2024-01-01', got {self.start!r}") from error
        for name in ("brand_share", "brand_followback_probability"):
            _require_number(name, getattr(self, name), low=0.0, high=1.0)
        # A probability of exactly 0 or 1 at median activity has no finite log-odds to shift.
        _require_number(
            "person_followback_probability",
            self.person_followback_probability,
            low=0.0,
            high=1.0,
            low_inclusive=False,
            high_inclusive=False,
        )
        _require_number("activity_popularity_correlation", self.activity_popularity_correlation, low=-1.0, high=1.0)
        for name in (
            "popularity_sigma",
            "activity_sigma",
            "account_age_max_days",
            "mean_out_degree",
            "brand_followback_latency_days",
            "person_followback_latency_days",
            "base_rate",
            "non_follow_rate",
        ):
            _require_number(name, getattr(self, name), low=0.0)
        for name in (
            "person_followback_activity_slope",
            "actor_activity_exponent",
            "target_popularity_exponent",
            "target_activity_exponent",
        ):
            _require_number(name, getattr(self, name))
        _require_number("mutual_rate_ratio", self.mutual_rate_ratio, low=0.0, low_inclusive=False)
        if self.auto_followback_ratio is not None:
            _require_number("auto_followback_ratio", self.auto_followback_ratio, low=0.0, low_inclusive=False)
        _require_number("pre_followback_ratio", self.pre_followback_ratio, low=0.0, low_inclusive=False)
        _require_number("pre_followback_days", self.pre_followback_days, low=0.0, low_inclusive=False)
        self._check_pair_parameters()
        self._check_kind_probabilities()

    def _check_pair_parameters(self) -> None:
        if (
            isinstance(self.n_communities, bool)
            or not isinstance(self.n_communities, numbers.Integral)
            or not 0 <= self.n_communities <= self.n_accounts
        ):
            raise ValueError(
                f"n_communities must be a whole number from 0 (none) to n_accounts ({self.n_accounts}), got {self.n_communities!r}"
            )
        _require_number("within_community_follow_boost", self.within_community_follow_boost, low=0.0, low_inclusive=False)
        _require_number("same_community_affinity", self.same_community_affinity, low=0.0, low_inclusive=False)
        for name in ("within_community_follow_boost", "same_community_affinity"):
            if self.n_communities == 0 and getattr(self, name) != 1:
                raise ValueError(
                    f"{name} needs communities: set n_communities to at least 1 (got {name}={getattr(self, name)!r} with n_communities=0)"
                )
        _require_number("pair_affinity_sigma", self.pair_affinity_sigma, low=0.0, high=MAX_PAIR_AFFINITY_SIGMA)
        _require_number("affinity_followback_slope", self.affinity_followback_slope)

    def _check_kind_probabilities(self) -> None:
        try:
            kinds = [kind for kind, _ in self.interaction_kind_probabilities]
            weights = [weight for _, weight in self.interaction_kind_probabilities]
        except (TypeError, ValueError) as error:
            raise ValueError("interaction_kind_probabilities must be (kind, probability) pairs") from error
        unknown = sorted(set(kinds) - set(INTERACTION_KINDS))
        if unknown or len(set(kinds)) != len(kinds) or not kinds:
            raise ValueError(f"interaction_kind_probabilities must name distinct kinds among {', '.join(INTERACTION_KINDS)}; got {kinds}")
        for kind, weight in self.interaction_kind_probabilities:
            _require_number(f"probability of {kind}", weight, low=0.0, high=1.0)
        if not math.isclose(sum(weights), 1.0, abs_tol=1e-9):
            raise ValueError(f"interaction_kind_probabilities must sum to 1, got {sum(weights)}")

    @property
    def effective_auto_followback_ratio(self) -> float:
        return self.mutual_rate_ratio if self.auto_followback_ratio is None else self.auto_followback_ratio

    @property
    def has_communities(self) -> bool:
        return self.n_communities > 0

    @property
    def has_pair_affinity(self) -> bool:
        return self.pair_affinity_sigma > 0 or (self.has_communities and self.same_community_affinity != 1)

    @property
    def has_pair_options(self) -> bool:
        return any(getattr(self, name) != FIELD_DEFAULTS[name] for name in PAIR_FIELDS)

    @property
    def period_start(self) -> pd.Timestamp:
        # Whole seconds, like every other timestamp the generator writes.
        return _utc_timestamp(self.start).floor("s")

    @property
    def period_seconds(self) -> int:
        return int(round(self.days * SECONDS_PER_DAY))

    @property
    def period_end(self) -> pd.Timestamp:
        return self.period_start + pd.Timedelta(seconds=self.period_seconds)

    def as_dict(self) -> dict[str, Any]:
        values = dataclasses.asdict(self)
        values["interaction_kind_probabilities"] = dict(self.interaction_kind_probabilities)
        if not self.has_pair_options:
            for name in PAIR_FIELDS:
                del values[name]
        return values


FIELD_DEFAULTS = {field.name: field.default for field in dataclasses.fields(SyntheticParameters)}


@dataclass
class SyntheticNetwork:
    """The generated tables (data model columns), the latent truth and the recorded figures.

    ``latent`` holds per-account traits a real export would not have; ``arc_truth`` holds, per
    follow arc, how it arose (``initiating`` or ``follow_back``), when the pair became mutual
    (``mutual_since``, NaT if never), its one-way engagement rate per day (pair affinity
    included) and the multiplier that applies once mutual.  With the options on, it also holds
    ``pre_followback_since`` (anticipation: when the raised lead window begins, NaT if none),
    ``same_community`` (communities) and ``pair_affinity`` (``u_ab``, shared by both arcs of a pair).
    Accounts get a ``labels`` column (the community) only when ``n_communities > 0``.
    """

    accounts: pd.DataFrame
    follows: pd.DataFrame
    interactions: pd.DataFrame
    latent: pd.DataFrame
    truth: dict[str, Any]
    arc_truth: pd.DataFrame


def generate_network(params: SyntheticParameters | None = None, **overrides: Any) -> SyntheticNetwork:
    """Generate a network; ``overrides`` replace fields of ``params`` (defaults if ``None``)."""
    params = params if params is not None else SyntheticParameters()
    if overrides:
        params = dataclasses.replace(params, **overrides)
    rng = np.random.default_rng(params.seed)
    # Pair-level draws come from their own stream: switching them on leaves every other draw alone.
    pair_rng = np.random.default_rng(np.random.SeedSequence(params.seed, spawn_key=(PAIR_STREAM,)))
    # The order of the steps below fixes the order of random draws: keep it stable so that a seed
    # keeps producing the same network.
    people = _draw_accounts(params, rng)
    if params.has_communities:
        people["community"] = pair_rng.integers(0, params.n_communities, size=params.n_accounts)
    arcs = _draw_follows(params, people, rng, pair_rng)
    events, exposure = _draw_follow_engagement(params, people, arcs, rng)
    strangers = _draw_non_follow_engagement(params, people, arcs, rng)
    kind_names = np.array([kind for kind, _ in params.interaction_kind_probabilities])
    kind_probabilities = np.array([p for _, p in params.interaction_kind_probabilities], dtype=float)
    n_events = len(events["actor"]) + len(strangers["actor"])
    kind_codes = rng.choice(len(kind_names), size=n_events, p=kind_probabilities)
    return _assemble(params, people, arcs, events, strangers, kind_names[kind_codes], exposure)


def write_generic(network: SyntheticNetwork, folder: str | Path) -> list[Path]:
    """Write ``accounts.csv``, ``follows.csv``, ``interactions.csv`` and ``truth.json`` into ``folder``.

    Timestamps are ISO-8601 UTC to the second with a trailing ``Z``; ids are plain digit strings.
    """
    folder = output_folder(folder)
    tables = {
        "accounts": network.accounts.assign(
            created_at=_iso_seconds(network.accounts["created_at"]),
            # Lowercase words, as the data model spells booleans.
            is_owner=network.accounts["is_owner"].map({True: "true", False: "false"}),
        ),
        "follows": network.follows.assign(followed_at=_iso_seconds(network.follows["followed_at"])),
        "interactions": network.interactions.assign(at=_iso_seconds(network.interactions["at"])),
    }
    written = []
    for name, table in tables.items():
        path = folder / f"{name}.csv"
        with open_for_writing(path) as handle:
            table.to_csv(handle, index=False, lineterminator="\n")
        written.append(path)
    truth_path = folder / "truth.json"
    with open_for_writing(truth_path) as handle:
        handle.write(json.dumps(network.truth, indent=2, sort_keys=True, allow_nan=False) + "\n")
    written.append(truth_path)
    return written


def network_dataset(network: SyntheticNetwork) -> StudyDataset:
    """The generated tables validated into a study dataset, as if loaded from the written files."""
    tables = {name: RawTable(getattr(network, name), origin=f"synthetic {name}") for name in ("follows", "interactions", "accounts")}
    provenance = Provenance(loader="synthetic", parameters=network.truth["parameters"])
    return build_dataset(
        tables["follows"],
        tables["interactions"],
        tables["accounts"],
        coverage=Coverage(notes=["Synthetic data: generated with planted, recorded truth (no real accounts)."]),
        provenance=provenance,
        source="synthetic network",
    )


# --------------------------------------------------------------------------------------------
# Generation steps. Accounts are integer positions 0..n-1 (creation order) until _assemble.


def _draw_accounts(params: SyntheticParameters, rng: np.random.Generator) -> dict[str, np.ndarray]:
    n = params.n_accounts
    age_seconds = max(1, int(round(params.account_age_max_days * SECONDS_PER_DAY)))
    # Sorted so that position, creation time and id all increase together, as snowflake ids do.
    created_seconds = np.sort(-rng.integers(0, age_seconds, size=n))  # seconds before the period
    id_offsets = _distinct_sorted_integers(rng, n, ID_OFFSET_SPAN)
    is_brand = rng.random(n) < params.brand_share
    popularity_normal = rng.standard_normal(n)
    own_normal = rng.standard_normal(n)
    rho = params.activity_popularity_correlation
    activity_normal = rho * popularity_normal + math.sqrt(1.0 - rho**2) * own_normal
    popularity = np.exp(params.popularity_sigma * popularity_normal)
    activity = np.exp(params.activity_sigma * activity_normal)
    person_log_odds = _logit(params.person_followback_probability) + params.person_followback_activity_slope * np.log(activity)
    followback_probability = np.where(is_brand, params.brand_followback_probability, _expit(person_log_odds))
    latency_days = np.where(is_brand, params.brand_followback_latency_days, params.person_followback_latency_days)
    return {
        "id": ID_BASE + id_offsets,
        "created_seconds": created_seconds,
        "is_brand": is_brand,
        "popularity": popularity,
        "activity": activity,
        "followback_probability": followback_probability,
        "latency_days": latency_days,
    }


def _draw_follows(
    params: SyntheticParameters, people: dict[str, np.ndarray], rng: np.random.Generator, pair_rng: np.random.Generator
) -> dict[str, np.ndarray]:
    """Initiating follows, then follow-backs; returns one entry per arc (initiating arcs first)."""
    n = params.n_accounts
    period = params.period_seconds
    # E[act] of the lognormal keeps the mean out-degree at mean_out_degree whatever activity_sigma is.
    mean_activity = math.exp(params.activity_sigma**2 / 2)
    wanted = rng.poisson(params.mean_out_degree * people["activity"] / mean_activity)
    wanted = np.minimum(wanted, n - 1)
    homophily = None
    if params.has_communities and params.within_community_follow_boost != 1:
        homophily = (people["community"], math.log(params.within_community_follow_boost))
    follower, followee = _sample_distinct_targets(people["popularity"], wanted, rng, homophily)
    followed_time = rng.random(len(follower)) * period  # float seconds into the period

    # Drop the later of two arcs drawn in opposite directions: mutuality comes from follow-backs only.
    keys = follower * n + followee
    reverse_found, reverse_position = _lookup(np.sort(keys), followee * n + follower)
    by_key = np.argsort(keys, kind="stable")
    reverse_time = followed_time[by_key[reverse_position]]
    later = (followed_time > reverse_time) | ((followed_time == reverse_time) & (follower > followee))
    keep = ~(reverse_found & later)
    follower, followee, followed_time = follower[keep], followee[keep], followed_time[keep]

    log_affinity = _draw_log_affinity(params, people, follower, followee, pair_rng)
    followback_probability = people["followback_probability"][followee]
    decision_draw = rng.random(len(follower))
    if log_affinity is not None and params.affinity_followback_slope != 0:
        followback_probability = _shift_log_odds(followback_probability, params.affinity_followback_slope * log_affinity)
    decides = decision_draw < followback_probability
    latency = rng.exponential(people["latency_days"][followee]) * SECONDS_PER_DAY
    back_time = followed_time + latency
    returned = decides & (back_time < period)  # follow-backs due after the end never happen

    # Flooring to whole seconds is monotone, so every ordering (follow <= follow-back) survives.
    # Arcs never returned get the end of the period as sentinel: "mutual from the end", i.e. never.
    followed_second = np.floor(followed_time).astype(np.int64)
    mutual_second = np.where(returned, np.floor(back_time), period).astype(np.int64)
    back_second = mutual_second[returned]
    ratio = np.where(people["is_brand"][followee], params.effective_auto_followback_ratio, params.mutual_rate_ratio)
    n_initiating, n_back = len(follower), int(returned.sum())
    arcs = {
        "follower": np.concatenate([follower, followee[returned]]),
        "followee": np.concatenate([followee, follower[returned]]),
        "start": np.concatenate([followed_second, back_second]),
        "mutual_since": np.concatenate([mutual_second, back_second]),
        "is_initiating": np.concatenate([np.ones(n_initiating, bool), np.zeros(n_back, bool)]),
        "returned": np.concatenate([returned, np.ones(n_back, bool)]),
        "mutual_ratio": np.concatenate([ratio, ratio[returned]]),
        "lost_to_period_end": np.int64((decides & ~returned).sum()),
    }
    if log_affinity is not None:
        arcs["log_affinity"] = np.concatenate([log_affinity, log_affinity[returned]])
    if params.pre_followback_ratio != 1:
        # The lead window before a follow-back (initiating arcs that are returned), cut at the
        # follow; follow-back arcs and arcs never returned have an empty one (starting at mutual_since).
        lead_seconds = int(round(params.pre_followback_days * SECONDS_PER_DAY))
        answered = arcs["is_initiating"] & arcs["returned"]
        arcs["lead_start"] = np.where(answered, np.maximum(arcs["start"], arcs["mutual_since"] - lead_seconds), arcs["mutual_since"])
    return arcs


def _draw_log_affinity(
    params: SyntheticParameters, people: dict[str, np.ndarray], follower: np.ndarray, followee: np.ndarray, pair_rng: np.random.Generator
) -> np.ndarray | None:
    """log u_ab for each initiating arc (one per unordered pair, the reverse draws being dropped), or None when off."""
    if not params.has_pair_affinity:
        return None
    sigma = params.pair_affinity_sigma
    log_affinity = sigma * pair_rng.standard_normal(len(follower)) - sigma**2 / 2 if sigma > 0 else np.zeros(len(follower))
    if params.has_communities and params.same_community_affinity != 1:
        same = people["community"][follower] == people["community"][followee]
        log_affinity = log_affinity + math.log(params.same_community_affinity) * same
    return log_affinity


def _draw_follow_engagement(
    params: SyntheticParameters, people: dict[str, np.ndarray], arcs: dict[str, np.ndarray], rng: np.random.Generator
) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
    """Poisson events on each arc's one-way segment [start, mutual_since) and mutual segment [mutual_since, end)."""
    follower, followee = arcs["follower"], arcs["followee"]
    one_way_rate = _arc_one_way_rate(params, people, arcs)
    period = params.period_seconds
    n_arcs = len(follower)
    start, mutual_since = arcs["start"], arcs["mutual_since"]
    if params.pre_followback_ratio == 1:
        # Two segments per arc: first all one-way segments, then all mutual ones.
        segment_start = np.concatenate([start, mutual_since])
        segment_length = np.concatenate([mutual_since - start, period - mutual_since])
        segment_rate = np.concatenate([one_way_rate, one_way_rate * arcs["mutual_ratio"]])
    else:
        # Three: one-way, the lead window before a follow-back, and mutual.
        lead_start = arcs["lead_start"]
        segment_start = np.concatenate([start, lead_start, mutual_since])
        segment_length = np.concatenate([lead_start - start, mutual_since - lead_start, period - mutual_since])
        segment_rate = np.concatenate([one_way_rate, one_way_rate * params.pre_followback_ratio, one_way_rate * arcs["mutual_ratio"]])
    counts = rng.poisson(segment_rate * segment_length / SECONDS_PER_DAY)
    lead = slice(n_arcs, 2 * n_arcs) if params.pre_followback_ratio != 1 else slice(0, 0)
    segment = np.repeat(np.arange(len(counts)), counts)
    # Uniform times within the segment; integer draws keep every event inside its segment exactly.
    at = segment_start[segment] + rng.integers(0, np.maximum(segment_length[segment], 1))
    arc = segment % max(n_arcs, 1)
    one_way = slice(0, len(counts) - n_arcs)  # every segment before the mutual one
    exposure = {
        "one_way_arc_days": float(segment_length[one_way].sum() / SECONDS_PER_DAY),
        "mutual_arc_days": float(segment_length[len(counts) - n_arcs :].sum() / SECONDS_PER_DAY),
        "one_way_events": int(counts[one_way].sum()),
        "mutual_events": int(counts[len(counts) - n_arcs :].sum()),
        "lead_arc_days": float(segment_length[lead].sum() / SECONDS_PER_DAY),
        "lead_events": int(counts[lead].sum()),
        # Per arc, for the within-pair figures: events before the pair is mutual, and from then on.
        "arc_events_before": counts[one_way].reshape(-1, n_arcs).sum(axis=0) if n_arcs else np.zeros(0, np.int64),
        "arc_events_after": counts[len(counts) - n_arcs :],
    }
    return {"actor": follower[arc], "target": followee[arc], "at": at}, exposure


def _draw_non_follow_engagement(
    params: SyntheticParameters, people: dict[str, np.ndarray], arcs: dict[str, np.ndarray], rng: np.random.Generator
) -> dict[str, np.ndarray]:
    """Events toward accounts the actor never follows, targets proportional to popularity."""
    n = params.n_accounts
    out_degree = np.bincount(arcs["follower"], minlength=n)
    # An account following everybody else has nobody left to engage with as a stranger.
    can_engage = out_degree < n - 1
    rate = params.non_follow_rate * people["activity"] ** params.actor_activity_exponent
    counts = rng.poisson(np.where(can_engage, rate, 0.0) * params.period_seconds / SECONDS_PER_DAY)
    actor = np.repeat(np.arange(n), counts)
    at = rng.integers(0, params.period_seconds, size=len(actor))
    followed_keys = np.sort(arcs["follower"] * n + arcs["followee"])
    target = _sample_stranger_targets(actor, people["popularity"], followed_keys, rng)
    return {"actor": actor, "target": target, "at": at}


def _assemble(
    params: SyntheticParameters,
    people: dict[str, np.ndarray],
    arcs: dict[str, np.ndarray],
    events: dict[str, np.ndarray],
    strangers: dict[str, np.ndarray],
    kinds: np.ndarray,
    exposure: dict[str, Any],
) -> SyntheticNetwork:
    n = params.n_accounts
    ids = people["id"].astype(str)  # exact: integer to text, never through a float
    start_epoch = (params.period_start - pd.Timestamp(0, tz="UTC")) // pd.Timedelta(seconds=1)

    def id_column(positions: np.ndarray) -> pd.Series:
        return pd.Series(ids[positions], dtype="str")

    def time_column(seconds_into_period: np.ndarray) -> pd.Series:
        return pd.Series(pd.to_datetime(start_epoch + np.asarray(seconds_into_period, dtype=np.int64), unit="s", utc=True))

    kind = np.where(people["is_brand"], "brand", "person")
    handle_digits = max(4, len(str(n - 1)))  # acct0042 style, wider only for big networks
    accounts = pd.DataFrame(
        {
            "account_id": id_column(np.arange(n)),
            "handle": pd.Series([f"acct{i:0{handle_digits}d}" for i in range(n)], dtype="str"),
            "platform": pd.Series([SOURCE] * n, dtype="str"),
            "is_owner": np.zeros(n, dtype=bool),
            "kind": pd.Series(kind, dtype="str"),
            "created_at": time_column(people["created_seconds"]),
            "followers_count": np.bincount(arcs["followee"], minlength=n).astype(np.int64),
            "following_count": np.bincount(arcs["follower"], minlength=n).astype(np.int64),
        }
    )
    if params.has_communities:
        # `labels` is the data model's column for lists and circles; the dyad table reads its first
        # entry as the community, as it does for the research networks' groups.
        accounts["labels"] = pd.Series(_community_names(params.n_communities)[people["community"]], dtype="str")
    latent = pd.DataFrame(
        {
            "account_id": id_column(np.arange(n)),
            "camp": pd.Series([CAMP_OF_KIND[k] for k in kind], dtype="str"),
            "activity": people["activity"],
            "popularity": people["popularity"],
            "follow_back_probability": people["followback_probability"],
            "mean_followback_latency_days": people["latency_days"].astype(float),
        }
    )

    # Chronological order with full tie-breaking keys, so the row order is a function of the data alone.
    arc_order = np.lexsort((arcs["followee"], arcs["follower"], arcs["start"]))
    follows = pd.DataFrame(
        {
            "follower_id": id_column(arcs["follower"][arc_order]),
            "followee_id": id_column(arcs["followee"][arc_order]),
            "followed_at": time_column(arcs["start"][arc_order]),
            "source": pd.Series([SOURCE] * len(arc_order), dtype="str"),
        }
    )
    never_mutual = arcs["mutual_since"] >= params.period_seconds
    arc_truth = pd.DataFrame(
        {
            "follower_id": follows["follower_id"],
            "followee_id": follows["followee_id"],
            "followed_at": follows["followed_at"],
            "origin": pd.Series(np.where(arcs["is_initiating"], "initiating", "follow_back")[arc_order], dtype="str"),
            "returned": arcs["returned"][arc_order],
            "mutual_since": time_column(arcs["mutual_since"][arc_order]).mask(never_mutual[arc_order]),
            "one_way_rate_per_day": _arc_one_way_rate(params, people, arcs)[arc_order],
            "mutual_rate_multiplier": arcs["mutual_ratio"][arc_order].astype(float),
        }
    )
    if "lead_start" in arcs:
        no_lead = arcs["lead_start"] >= arcs["mutual_since"]
        arc_truth["pre_followback_since"] = time_column(arcs["lead_start"][arc_order]).mask(no_lead[arc_order])
    if params.has_communities:
        arc_truth["same_community"] = (people["community"][arcs["follower"]] == people["community"][arcs["followee"]])[arc_order]
    if "log_affinity" in arcs:
        arc_truth["pair_affinity"] = np.exp(arcs["log_affinity"])[arc_order]

    actor = np.concatenate([events["actor"], strangers["actor"]])
    target = np.concatenate([events["target"], strangers["target"]])
    at = np.concatenate([events["at"], strangers["at"]]).astype(np.int64)
    event_order = np.lexsort((kinds, target, actor, at))
    interactions = pd.DataFrame(
        {
            "actor_id": id_column(actor[event_order]),
            "target_id": id_column(target[event_order]),
            "kind": pd.Series(kinds[event_order], dtype="str"),
            "at": time_column(at[event_order]),
            "count": np.ones(len(event_order), dtype=np.int64),
            "source": pd.Series([SOURCE] * len(event_order), dtype="str"),
        }
    )
    truth = _record_truth(params, people, arcs, interactions, len(strangers["actor"]), exposure)
    return SyntheticNetwork(accounts, follows, interactions, latent, truth, arc_truth)


def _record_truth(
    params: SyntheticParameters,
    people: dict[str, np.ndarray],
    arcs: dict[str, np.ndarray],
    interactions: pd.DataFrame,
    n_non_follow: int,
    exposure: dict[str, Any],
) -> dict[str, Any]:
    n_follows = len(arcs["follower"])
    n_mutual_arcs = 2 * int((~arcs["is_initiating"]).sum())  # each follow-back makes one mutual pair
    initiating = arcs["is_initiating"]
    followee_is_brand = people["is_brand"][arcs["followee"][initiating]]
    returned = arcs["returned"][initiating]
    share_by_camp = {
        "auto_follow_back": _share(returned[followee_is_brand]),
        "selective": _share(returned[~followee_is_brand]),
    }
    kind_counts = interactions["kind"].value_counts()
    one_way_rate = _ratio(exposure["one_way_events"], exposure["one_way_arc_days"])
    mutual_rate = _ratio(exposure["mutual_events"], exposure["mutual_arc_days"])
    truth = {
        "generator": "reciprocity_utils.synthetic",
        "parameters": params.as_dict(),
        "period": {"start": _iso(params.period_start), "end": _iso(params.period_end), "end_is_exclusive": True},
        "planted": {
            "mutual_rate_ratio": float(params.mutual_rate_ratio),
            "auto_followback_ratio": float(params.effective_auto_followback_ratio),
            "pre_followback_ratio": float(params.pre_followback_ratio),
            "pre_followback_days": float(params.pre_followback_days),
            "brand_followback_probability": float(params.brand_followback_probability),
            "person_followback_probability_at_median_activity": float(params.person_followback_probability),
            "person_followback_log_odds_per_log_activity": float(params.person_followback_activity_slope),
            "engagement_rate_per_day": (
                "base_rate * activity_actor^actor_activity_exponent * popularity_target^target_popularity_exponent"
                " * activity_target^target_activity_exponent * (ratio once mutual, else 1)"
            ),
        },
        "realised": {
            "n_accounts": int(params.n_accounts),
            "n_brands": int(people["is_brand"].sum()),
            "n_persons": int((~people["is_brand"]).sum()),
            "n_follows": n_follows,
            "n_initiating_follows": int(initiating.sum()),
            "n_follow_backs": n_mutual_arcs // 2,
            "n_follow_backs_lost_to_period_end": int(arcs["lost_to_period_end"]),
            "n_mutual_arcs": n_mutual_arcs,
            "n_mutual_pairs": n_mutual_arcs // 2,
            "arc_reciprocity": _ratio(n_mutual_arcs, n_follows),
            "followback_share_by_camp": share_by_camp,
            "n_interactions": int(len(interactions)),
            "n_interactions_by_kind": {kind: int(kind_counts.get(kind, 0)) for kind in INTERACTION_KINDS},
            "n_follow_interactions": int(len(interactions)) - int(n_non_follow),
            "n_non_follow_interactions": int(n_non_follow),
            "one_way_arc_days": exposure["one_way_arc_days"],
            "mutual_arc_days": exposure["mutual_arc_days"],
            "naive_mutual_vs_one_way_rate_ratio": _ratio(mutual_rate, one_way_rate)
            if mutual_rate is not None and one_way_rate is not None
            else None,
        },
        "definitions": DEFINITIONS,
    }
    # Blocks added only when their options are on, so default truth files keep their bytes.
    if params.has_pair_options:
        truth["planted"]["pair_confounding"] = {
            "n_communities": int(params.n_communities),
            "within_community_follow_boost": float(params.within_community_follow_boost),
            "pair_affinity_sigma": float(params.pair_affinity_sigma),
            "same_community_affinity": float(params.same_community_affinity),
            "affinity_followback_slope": float(params.affinity_followback_slope),
            "pair_affinity": PAIR_DEFINITIONS["pair_affinity"],
            "followback_log_odds": "logit(planted probability of b) + affinity_followback_slope * log(u_ab), brands included",
            "mutual_rate_ratio_is_unchanged_by_affinity": True,
        }
        truth["realised"]["pair_confounding"] = _pair_figures(params, people, arcs, exposure)
        truth["definitions"] = {**truth["definitions"], **PAIR_DEFINITIONS}
    if "lead_start" in arcs:
        truth["realised"]["anticipation"] = _anticipation_figures(params, arcs, exposure)
        truth["definitions"] = {**truth["definitions"], **ANTICIPATION_DEFINITIONS}
    return truth


def _pair_figures(
    params: SyntheticParameters, people: dict[str, np.ndarray], arcs: dict[str, np.ndarray], exposure: dict[str, Any]
) -> dict[str, Any]:
    """What the pair-level options did: community sorting, affinity of returned follows, the within-pair ratio."""
    initiating = arcs["is_initiating"]
    returned = arcs["returned"][initiating]
    figures: dict[str, Any] = {}
    if params.has_communities:
        community = people["community"]
        sizes = np.bincount(community, minlength=params.n_communities)
        n = params.n_accounts
        same = (community[arcs["follower"]] == community[arcs["followee"]])[initiating]
        figures.update(
            {
                "community_sizes": sizes.tolist(),
                "share_of_account_pairs_within_community": _ratio(float((sizes * (sizes - 1)).sum()), float(n * (n - 1))),
                "share_of_initiating_follows_within_community": _share(same),
                "share_of_mutual_pairs_within_community": _share(same[returned]),
                "share_of_one_way_pairs_within_community": _share(same[~returned]),
                "followback_share_within_community": _share(returned[same]),
                "followback_share_across_communities": _share(returned[~same]),
            }
        )
    if "log_affinity" in arcs:
        log_affinity = arcs["log_affinity"][initiating]
        figures["mean_log_affinity_returned_initiating"] = _share(log_affinity[returned])
        figures["mean_log_affinity_unreturned_initiating"] = _share(log_affinity[~returned])
    # Within-pair: on each arc that switched from one-way to mutual, events per day after against before.
    period = params.period_seconds
    days_before = (arcs["mutual_since"] - arcs["start"]).astype(float)
    days_after = (period - arcs["mutual_since"]).astype(float)
    switching = initiating & arcs["returned"] & (days_before > 0) & (days_after > 0)
    weight = 1.0 / (days_before + days_after)[switching]
    numerator = float((exposure["arc_events_after"][switching] * days_before[switching] * weight).sum())
    denominator = float((exposure["arc_events_before"][switching] * days_after[switching] * weight).sum())
    figures["n_switching_arcs"] = int(switching.sum())
    figures["within_pair_rate_ratio_on_switching_arcs"] = _ratio(numerator, denominator)
    return figures


def _anticipation_figures(params: SyntheticParameters, arcs: dict[str, np.ndarray], exposure: dict[str, Any]) -> dict[str, Any]:
    """What the planted lead window covered: how many arcs, how long, and how often the follow cut it short."""
    answered = arcs["is_initiating"] & arcs["returned"]
    lead_days = (arcs["mutual_since"] - arcs["lead_start"])[answered] / SECONDS_PER_DAY
    cut = (arcs["lead_start"] == arcs["start"])[answered]
    return {
        "n_answered_arcs": int(answered.sum()),
        "lead_arc_days": exposure["lead_arc_days"],
        "lead_events": exposure["lead_events"],
        "mean_lead_window_days": _share(lead_days),
        "share_of_lead_windows_cut_by_the_follow": _share(cut),
        "mean_one_way_days_of_answered_arcs": _share((arcs["mutual_since"] - arcs["start"])[answered] / SECONDS_PER_DAY),
    }


# --------------------------------------------------------------------------------------------
# Sampling helpers


def _sample_distinct_targets(
    weights: np.ndarray, wanted: np.ndarray, rng: np.random.Generator, homophily: tuple[np.ndarray, float] | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """For each account i, ``wanted[i]`` distinct targets != i drawn without replacement, proportional to weight.

    Gumbel top-k: the k largest of ``log w_j + Gumbel`` are an exact successive sample without
    replacement. Keys come in blocks of rows to bound memory; the loop is over blocks, not edges.
    ``homophily = (community, log_boost)`` adds ``log_boost`` to the keys of i's own community,
    i.e. multiplies those targets' weights for row i: still an exact sample, row by row.
    """
    n = len(weights)
    log_weights = np.log(weights)
    rows_per_block = max(1, MAX_KEY_CELLS // n)
    followers, followees = [np.empty(0, np.int64)], [np.empty(0, np.int64)]
    for first in range(0, n, rows_per_block):
        rows = np.arange(first, min(n, first + rows_per_block))
        block_wanted = wanted[rows]
        most = int(block_wanted.max())
        if most == 0:
            continue
        keys = log_weights + rng.gumbel(size=(len(rows), n))
        if homophily is not None:
            community, log_boost = homophily
            keys += log_boost * (community[rows][:, None] == community[None, :])
        keys[np.arange(len(rows)), rows] = -np.inf  # no self-follow
        top = np.argpartition(-keys, most - 1, axis=1)[:, :most]
        # argpartition leaves the top unordered; order it so each row can keep its own first k.
        top = np.take_along_axis(top, np.argsort(-np.take_along_axis(keys, top, axis=1), axis=1, kind="stable"), axis=1)
        keep = np.arange(most) < block_wanted[:, None]
        followers.append(np.broadcast_to(rows[:, None], top.shape)[keep])
        followees.append(top[keep])
    return np.concatenate(followers).astype(np.int64), np.concatenate(followees).astype(np.int64)


def _sample_stranger_targets(actor: np.ndarray, weights: np.ndarray, followed_keys: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """One target per event: proportional to weight among accounts the actor neither is nor follows.

    Rejection in rounds (only rejected events are redrawn), then exact per-event sampling for the
    rare events whose actor follows nearly all of the popularity mass.
    """
    n = len(weights)
    target = np.full(len(actor), -1, dtype=np.int64)
    cumulative = np.cumsum(weights)
    pending = np.arange(len(actor))
    for _ in range(MAX_REJECTION_ROUNDS):
        if pending.size == 0:
            break
        draw = np.minimum(np.searchsorted(cumulative, rng.random(pending.size) * cumulative[-1], side="right"), n - 1)
        allowed = (draw != actor[pending]) & ~_lookup(followed_keys, actor[pending] * n + draw)[0]
        target[pending[allowed]] = draw[allowed]
        pending = pending[~allowed]
    if pending.size:
        who = actor[pending]
        eligible = ~_lookup(followed_keys, who[:, None] * n + np.arange(n))[0]
        eligible[np.arange(len(who)), who] = False
        row_cumulative = np.cumsum(np.where(eligible, weights, 0.0), axis=1)
        point = rng.random(len(who)) * row_cumulative[:, -1]
        beyond = row_cumulative > point[:, None]
        # The first account whose cumulative weight passes the point; rounding can leave none, so
        # fall back to the last eligible account.
        last_eligible = n - 1 - np.argmax(eligible[:, ::-1], axis=1)
        target[pending] = np.where(beyond.any(axis=1), np.argmax(beyond & eligible, axis=1), last_eligible)
    return target


def _arc_one_way_rate(params: SyntheticParameters, people: dict[str, np.ndarray], arcs: dict[str, np.ndarray]) -> np.ndarray:
    """Each arc's engagement rate per day while one-way: the account traits, times the pair's affinity if any."""
    actor, target = arcs["follower"], arcs["followee"]
    rate = (
        params.base_rate
        * people["activity"][actor] ** params.actor_activity_exponent
        * people["popularity"][target] ** params.target_popularity_exponent
        * people["activity"][target] ** params.target_activity_exponent
    )
    return rate * np.exp(arcs["log_affinity"]) if "log_affinity" in arcs else rate


def _shift_log_odds(probability: np.ndarray, shift: np.ndarray) -> np.ndarray:
    """``expit(logit(p) + shift)``; a probability of exactly 0 or 1 has no log-odds to shift and stays."""
    inside = (probability > 0) & (probability < 1)
    clipped = np.where(inside, probability, 0.5)
    log_odds = np.log(clipped) - np.log1p(-clipped) + shift
    # expit without overflow for log-odds of either sign.
    small = np.exp(-np.abs(log_odds))
    shifted = np.where(log_odds >= 0, 1.0 / (1.0 + small), small / (1.0 + small))
    return np.where(inside, shifted, probability)


def _distinct_sorted_integers(rng: np.random.Generator, size: int, span: int) -> np.ndarray:
    """``size`` distinct integers in [0, span), sorted, by integer draws (collisions are redrawn)."""
    values = np.unique(rng.integers(0, span, size=size, dtype=np.int64))
    while len(values) < size:  # practically never: needs two equal draws out of 10**17
        values = np.unique(np.concatenate([values, rng.integers(0, span, size=size - len(values), dtype=np.int64)]))
    return values


def _lookup(sorted_keys: np.ndarray, keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Whether each key is in ``sorted_keys`` and its position there (clipped; meaningless when absent)."""
    if len(sorted_keys) == 0:
        return np.zeros(np.shape(keys), bool), np.zeros(np.shape(keys), np.int64)
    position = np.minimum(np.searchsorted(sorted_keys, keys), len(sorted_keys) - 1)
    return sorted_keys[position] == keys, position


# --------------------------------------------------------------------------------------------
# Small helpers


def _require_number(
    name: str, value: Any, low: float | None = None, high: float | None = None, low_inclusive: bool = True, high_inclusive: bool = True
) -> None:
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not math.isfinite(value):
        raise ValueError(f"{name} must be a finite number, got {value!r}")
    if low is not None and (value < low or (value == low and not low_inclusive)):
        raise ValueError(f"{name} must be {'at least' if low_inclusive else 'greater than'} {low}, got {value!r}")
    if high is not None and (value > high or (value == high and not high_inclusive)):
        raise ValueError(f"{name} must be {'at most' if high_inclusive else 'less than'} {high}, got {value!r}")


def _utc_timestamp(value: Any) -> pd.Timestamp:
    stamp = pd.Timestamp(value)
    if stamp is pd.NaT:
        raise ValueError("not a timestamp")
    return stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp.tz_convert("UTC")


def _logit(p: float) -> float:
    return math.log(p / (1.0 - p))


def _expit(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


def _share(flags: np.ndarray) -> float | None:
    return float(flags.mean()) if len(flags) else None


def _ratio(numerator: float, denominator: float) -> float | None:
    return float(numerator / denominator) if denominator else None


def _community_names(k: int) -> np.ndarray:
    width = len(str(k))
    return np.array([f"c{i + 1:0{width}d}" for i in range(k)])


def _iso(stamp: pd.Timestamp) -> str:
    return stamp.strftime("%Y-%m-%dT%H:%M:%SZ")


def _iso_seconds(times: pd.Series) -> pd.Series:
    return times.dt.strftime("%Y-%m-%dT%H:%M:%SZ")
