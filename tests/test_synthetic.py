"""The synthetic generator: reproducible, well-formed tables, and planted truth that can be recovered."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math
import re

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm

from reciprocity_utils import synthetic
from reciprocity_utils.dyads import build_dyads
from reciprocity_utils.synthetic import INTERACTION_KINDS, SyntheticParameters, generate_network, write_generic

TABLES = ("accounts", "follows", "interactions", "latent", "arc_truth")
CSV_FILES = ("accounts.csv", "follows.csv", "interactions.csv")
ISO_SECOND_UTC = r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ"


@pytest.fixture(scope="module")
def sample():
    return generate_network()


@pytest.fixture(scope="module")
def large():
    """Big enough that binomial and Poisson noise is small next to the tolerances below."""
    return generate_network(n_accounts=3000, seed=11)


def period_of(network):
    return pd.Timestamp(network.truth["period"]["start"]), pd.Timestamp(network.truth["period"]["end"])


def arc_segments(network) -> pd.DataFrame:
    """Per follow arc a->b and segment (one-way, mutual): exposure in days and a's events toward b.

    Built from the public tables only, as an analyst would: the pair is mutual from the later of
    its two follows (never, when the reverse arc is absent).
    """
    _, end = period_of(network)
    follows = network.follows[["follower_id", "followee_id", "followed_at"]]
    reverse = follows.rename(columns={"follower_id": "followee_id", "followee_id": "follower_id", "followed_at": "reverse_at"})
    arcs = follows.merge(reverse, on=["follower_id", "followee_id"], how="left")
    arcs["mutual_since"] = arcs[["followed_at", "reverse_at"]].max(axis=1).where(arcs["reverse_at"].notna(), end)
    arcs["arc"] = np.arange(len(arcs))

    events = network.interactions.merge(arcs, left_on=["actor_id", "target_id"], right_on=["follower_id", "followee_id"], how="inner")
    events["mutual"] = events["at"] >= events["mutual_since"]
    counts = events.groupby(["arc", "mutual"]).size()

    day = pd.Timedelta(days=1)
    one_way = arcs.assign(mutual=False, exposure_days=(arcs["mutual_since"] - arcs["followed_at"]) / day)
    mutual = arcs.assign(mutual=True, exposure_days=(end - arcs["mutual_since"]) / day)
    segments = pd.concat([one_way, mutual], ignore_index=True)
    segments = segments[segments["exposure_days"] > 0].copy()
    index = pd.MultiIndex.from_frame(segments[["arc", "mutual"]])
    segments["events"] = counts.reindex(index, fill_value=0).to_numpy()

    traits = network.latent.set_index("account_id")
    segments["log_activity_actor"] = np.log(segments["follower_id"].map(traits["activity"]))
    segments["log_popularity_target"] = np.log(segments["followee_id"].map(traits["popularity"]))
    segments["log_activity_target"] = np.log(segments["followee_id"].map(traits["activity"]))
    return segments


def fit_poisson(segments: pd.DataFrame, effects: list[str]):
    controls = ["log_activity_actor", "log_popularity_target", "log_activity_target"]
    design = sm.add_constant(segments[effects + controls].astype(float))
    model = sm.GLM(segments["events"], design, family=sm.families.Poisson(), offset=np.log(segments["exposure_days"]))
    return model.fit()


def naive_rate_ratio(segments: pd.DataFrame) -> float:
    totals = segments.groupby("mutual")[["events", "exposure_days"]].sum()
    rates = totals["events"] / totals["exposure_days"]
    return float(rates[True] / rates[False])


# --- reproducibility -------------------------------------------------------------------------


def assert_same_networks(first, second, folder) -> None:
    """Equal tables and truth, and byte-identical written files."""
    for name in TABLES:
        pd.testing.assert_frame_equal(getattr(first, name), getattr(second, name))
    assert first.truth == second.truth
    write_generic(first, folder / "first")
    write_generic(second, folder / "second")
    for name in CSV_FILES + ("truth.json",):
        assert (folder / "first" / name).read_bytes() == (folder / "second" / name).read_bytes(), name


def test_same_seed_gives_identical_tables_and_files(tmp_path):
    assert_same_networks(generate_network(seed=5), generate_network(SyntheticParameters(seed=5)), tmp_path)


def test_different_seed_gives_different_network(tmp_path):
    first, second = generate_network(seed=5), generate_network(seed=6)
    assert not first.follows.equals(second.follows)
    assert not first.interactions.equals(second.interactions)
    assert set(first.accounts["account_id"]).isdisjoint(second.accounts["account_id"])
    write_generic(first, tmp_path / "first")
    write_generic(second, tmp_path / "second")
    for name in CSV_FILES:
        assert (tmp_path / "first" / name).read_bytes() != (tmp_path / "second" / name).read_bytes(), name


# --- well-formed tables ----------------------------------------------------------------------


def test_account_ids_are_unique_19_digit_strings_that_survive_csv(sample, tmp_path):
    ids = sample.accounts["account_id"]
    assert ids.str.fullmatch(r"[1-9]\d{18}").all()
    assert ids.is_unique
    assert min(int(i) for i in ids) > 2**53  # a float would round these: the ids must stay text
    # Ids rise with creation time, as snowflake ids do.
    assert sample.accounts["created_at"].is_monotonic_increasing
    assert [int(i) for i in ids] == sorted(int(i) for i in ids)

    write_generic(sample, tmp_path)
    accounts = pd.read_csv(tmp_path / "accounts.csv", dtype=str)
    follows = pd.read_csv(tmp_path / "follows.csv", dtype=str)
    interactions = pd.read_csv(tmp_path / "interactions.csv", dtype=str)
    assert accounts["account_id"].tolist() == ids.tolist()
    assert follows["follower_id"].tolist() == sample.follows["follower_id"].tolist()
    assert interactions["target_id"].tolist() == sample.interactions["target_id"].tolist()
    assert follows["followed_at"].str.fullmatch(ISO_SECOND_UTC).all()
    assert interactions["at"].str.fullmatch(ISO_SECOND_UTC).all()
    assert set(accounts["is_owner"]) == {"false"}
    # Times round-trip to the second.
    parsed = pd.to_datetime(follows["followed_at"], utc=True, format="ISO8601")
    assert (parsed.to_numpy() == sample.follows["followed_at"].to_numpy()).all()


def test_table_columns_and_dtypes(sample):
    assert list(sample.accounts.columns) == [
        "account_id",
        "handle",
        "platform",
        "is_owner",
        "kind",
        "created_at",
        "followers_count",
        "following_count",
    ]
    assert list(sample.follows.columns) == ["follower_id", "followee_id", "followed_at", "source"]
    assert list(sample.interactions.columns) == ["actor_id", "target_id", "kind", "at", "count", "source"]
    assert list(sample.latent.columns)[:5] == ["account_id", "camp", "activity", "popularity", "follow_back_probability"]
    for frame, column in [(sample.accounts, "created_at"), (sample.follows, "followed_at"), (sample.interactions, "at")]:
        assert isinstance(frame[column].dtype, pd.DatetimeTZDtype) and str(frame[column].dt.tz) == "UTC"
    assert sample.accounts["followers_count"].dtype == np.int64
    assert sample.interactions["count"].dtype == np.int64 and (sample.interactions["count"] == 1).all()
    assert not sample.accounts["is_owner"].any()
    assert set(sample.accounts["kind"]) == {"brand", "person"}
    assert set(sample.interactions["kind"]) == set(INTERACTION_KINDS)
    assert sample.accounts["handle"].is_unique
    assert (sample.accounts["created_at"] < period_of(sample)[0]).all()


def test_follows_have_no_self_loops_duplicates_or_unknown_accounts(sample):
    follows, interactions = sample.follows, sample.interactions
    known = set(sample.accounts["account_id"])
    assert (follows["follower_id"] != follows["followee_id"]).all()
    assert not follows.duplicated(["follower_id", "followee_id"]).any()
    assert (interactions["actor_id"] != interactions["target_id"]).all()
    for column in [follows["follower_id"], follows["followee_id"], interactions["actor_id"], interactions["target_id"]]:
        assert column.isin(known).all()
    assert set(sample.latent["account_id"]) == known


def test_account_counts_match_follows(sample):
    accounts = sample.accounts.set_index("account_id")
    followers = sample.follows["followee_id"].value_counts().reindex(accounts.index, fill_value=0)
    following = sample.follows["follower_id"].value_counts().reindex(accounts.index, fill_value=0)
    assert (accounts["followers_count"] == followers).all()
    assert (accounts["following_count"] == following).all()


def test_times_lie_in_the_period_and_engagement_follows_the_follow(sample):
    start, end = period_of(sample)
    assert sample.follows["followed_at"].between(start, end, inclusive="left").all()
    assert sample.interactions["at"].between(start, end, inclusive="left").all()
    on_arcs = sample.interactions.merge(
        sample.follows, left_on=["actor_id", "target_id"], right_on=["follower_id", "followee_id"], how="left"
    )
    followed = on_arcs["followed_at"].notna()
    # Events along a follow arc only start once the actor follows the target ...
    assert (on_arcs.loc[followed, "at"] >= on_arcs.loc[followed, "followed_at"]).all()
    # ... and the rest are exactly the recorded events toward accounts the actor never follows.
    assert (~followed).sum() == sample.truth["realised"]["n_non_follow_interactions"]
    assert 0 < (~followed).mean() < 0.15


def test_arc_truth_matches_the_public_follows(sample):
    truth = sample.arc_truth
    pd.testing.assert_frame_equal(
        truth[["follower_id", "followee_id", "followed_at"]], sample.follows[["follower_id", "followee_id", "followed_at"]]
    )
    backs = truth[truth["origin"] == "follow_back"]
    assert (backs["mutual_since"] == backs["followed_at"]).all()
    initiating = truth[truth["origin"] == "initiating"]
    assert (initiating["returned"] == initiating["mutual_since"].notna()).all()
    assert (initiating["mutual_since"].dropna() >= initiating.loc[initiating["returned"], "followed_at"]).all()
    assert initiating["returned"].sum() == len(backs)


def test_truth_is_json_and_agrees_with_the_tables(sample):
    truth = json.loads(json.dumps(sample.truth, allow_nan=False))
    # The pair-level fields are left out while at their defaults (older truth files stay byte-identical).
    assert set(truth["parameters"]) == {f.name for f in dataclasses.fields(SyntheticParameters)} - set(synthetic.PAIR_FIELDS)
    assert (
        SyntheticParameters(
            **{**truth["parameters"], "interaction_kind_probabilities": SyntheticParameters().interaction_kind_probabilities}
        )
        == SyntheticParameters()
    )
    realised = truth["realised"]
    follows = sample.follows
    reverse = set(zip(follows["followee_id"], follows["follower_id"]))
    n_mutual_arcs = sum(arc in reverse for arc in zip(follows["follower_id"], follows["followee_id"]))
    assert realised["n_follows"] == len(follows)
    assert realised["n_mutual_arcs"] == n_mutual_arcs
    assert realised["arc_reciprocity"] == pytest.approx(n_mutual_arcs / len(follows))
    assert realised["n_interactions"] == len(sample.interactions)
    assert (
        realised["n_interactions_by_kind"]
        == sample.interactions["kind"].value_counts().reindex(list(INTERACTION_KINDS), fill_value=0).to_dict()
    )
    assert truth["planted"]["mutual_rate_ratio"] == truth["planted"]["auto_followback_ratio"] == 2.0
    assert {"arc_reciprocity", "mutual_rate_ratio", "followback_share_by_camp"} <= set(truth["definitions"])


# --- planted truth recovered ------------------------------------------------------------------


def test_brand_followback_share_matches_planted_probability(large):
    params = SyntheticParameters(**{k: v for k, v in large.truth["parameters"].items() if k != "interaction_kind_probabilities"})
    _, end = period_of(large)
    kinds = large.accounts.set_index("account_id")["kind"]
    arcs = large.arc_truth[large.arc_truth["origin"] == "initiating"]
    into_brands = arcs[arcs["followee_id"].map(kinds) == "brand"]
    # A follow-back due after the period's end does not happen: expected share = p * P(latency < time left).
    days_left = (end - into_brands["followed_at"]) / pd.Timedelta(days=1)
    arrives_in_time = 1 - np.exp(-days_left / params.brand_followback_latency_days)
    expected = params.brand_followback_probability * arrives_in_time.mean()
    realised = into_brands["returned"].mean()
    standard_error = math.sqrt(expected * (1 - expected) / len(into_brands))
    assert len(into_brands) > 3000
    assert abs(realised - expected) < 4 * standard_error
    assert realised == pytest.approx(large.truth["realised"]["followback_share_by_camp"]["auto_follow_back"])


def test_person_followback_rises_with_activity_as_planted(large):
    params = large.truth["parameters"]
    _, end = period_of(large)
    traits = large.latent.set_index("account_id")
    arcs = large.arc_truth[large.arc_truth["origin"] == "initiating"]
    # Follows made 60+ days before the end: a 7-day latency is cut off with probability e^(-60/7) < 0.0002.
    arcs = arcs[(arcs["followee_id"].map(traits["camp"]) == "selective") & (arcs["followed_at"] <= end - pd.Timedelta(days=60))]
    log_activity = np.log(arcs["followee_id"].map(traits["activity"]))
    fit = sm.Logit(arcs["returned"].astype(float), sm.add_constant(log_activity.rename("log_activity"))).fit(disp=0)
    slope, slope_se = fit.params["log_activity"], fit.bse["log_activity"]
    intercept, intercept_se = fit.params["const"], fit.bse["const"]
    planted_intercept = math.log(params["person_followback_probability"] / (1 - params["person_followback_probability"]))
    assert slope > 0
    assert abs(slope - params["person_followback_activity_slope"]) < 4 * slope_se
    assert abs(intercept - planted_intercept) < 4 * intercept_se
    by_quartile = arcs["returned"].groupby(pd.qcut(log_activity, 4, labels=False)).mean()
    assert by_quartile.is_monotonic_increasing and by_quartile.iloc[-1] > 2 * by_quartile.iloc[0]


def test_poisson_glm_recovers_mutual_ratio_while_naive_ratio_is_biased_upward(large):
    planted = large.truth["planted"]["mutual_rate_ratio"]
    segments = arc_segments(large)
    assert segments["events"].sum() == large.truth["realised"]["n_follow_interactions"]
    fit = fit_poisson(segments, ["mutual"])
    estimate = math.exp(fit.params["mutual"])
    assert estimate == pytest.approx(planted, rel=0.10)
    assert abs(fit.params["mutual"] - math.log(planted)) < 4 * fit.bse["mutual"]
    # The traits enter with their planted exponents.
    params = large.truth["parameters"]
    assert fit.params["log_activity_actor"] == pytest.approx(params["actor_activity_exponent"], abs=0.05)
    assert fit.params["log_activity_target"] == pytest.approx(params["target_activity_exponent"], abs=0.05)
    # Without controls, active accounts both follow back more and draw more engagement: confounded upward.
    naive = naive_rate_ratio(segments)
    assert naive > 1.15 * planted
    assert naive == pytest.approx(large.truth["realised"]["naive_mutual_vs_one_way_rate_ratio"])


def test_auto_followback_pairs_carry_their_own_ratio():
    network = generate_network(n_accounts=2000, seed=3, mutual_rate_ratio=2.5, auto_followback_ratio=1.0)
    assert network.truth["planted"]["auto_followback_ratio"] == 1.0
    segments = arc_segments(network)
    # Who followed back is public: the later of the pair's two follows.
    later = network.follows.assign(key=lambda f: [frozenset(p) for p in zip(f["follower_id"], f["followee_id"])])
    later = later.sort_values("followed_at", kind="stable").drop_duplicates("key", keep="last")
    kinds = network.accounts.set_index("account_id")["kind"]
    backer_is_brand = dict(zip(later["key"], later["follower_id"].map(kinds) == "brand"))
    pair_key = [frozenset(p) for p in zip(segments["follower_id"], segments["followee_id"])]
    auto = np.array([backer_is_brand[k] for k in pair_key])
    segments["mutual_auto"] = segments["mutual"] & auto
    segments["mutual_selective"] = segments["mutual"] & ~auto
    fit = fit_poisson(segments, ["mutual_auto", "mutual_selective"])
    assert math.exp(fit.params["mutual_auto"]) == pytest.approx(1.0, rel=0.15)
    assert math.exp(fit.params["mutual_selective"]) == pytest.approx(2.5, rel=0.10)


# --- edge cases and parameters ---------------------------------------------------------------


def test_single_account_network(tmp_path):
    network = generate_network(n_accounts=1)
    assert len(network.accounts) == 1 and network.follows.empty and network.interactions.empty
    assert network.follows["follower_id"].dtype == network.accounts["account_id"].dtype
    assert isinstance(network.follows["followed_at"].dtype, pd.DatetimeTZDtype)
    assert isinstance(network.interactions["at"].dtype, pd.DatetimeTZDtype)
    assert network.interactions["count"].dtype == np.int64
    assert network.truth["realised"]["arc_reciprocity"] is None
    paths = write_generic(network, tmp_path / "one")
    assert [p.name for p in paths] == [*CSV_FILES, "truth.json"]
    assert pd.read_csv(tmp_path / "one" / "follows.csv", dtype=str).columns.tolist() == list(network.follows.columns)


def test_stranger_engagement_avoids_followed_accounts_even_when_sampled_exactly(monkeypatch):
    # Tiny dense network: most actors follow most others, so rejection needs the exact fallback.
    dense = dict(n_accounts=6, mean_out_degree=8, non_follow_rate=0.5, popularity_sigma=2.0, seed=2)
    for rounds in (synthetic.MAX_REJECTION_ROUNDS, 0):
        monkeypatch.setattr(synthetic, "MAX_REJECTION_ROUNDS", rounds)
        network = generate_network(**dense)
        followed = set(zip(network.follows["follower_id"], network.follows["followee_id"]))
        pairs = list(zip(network.interactions["actor_id"], network.interactions["target_id"]))
        strangers = [pair for pair in pairs if pair not in followed]
        assert len(strangers) == network.truth["realised"]["n_non_follow_interactions"] > 0
        assert all(actor != target for actor, target in strangers)
        # Nobody who follows everyone else engages with a stranger.
        following = network.accounts.set_index("account_id")["following_count"]
        assert all(following[actor] < 5 for actor, _ in strangers)


@pytest.mark.parametrize(
    "override",
    [
        {"n_accounts": 0},
        {"n_accounts": -3},
        {"n_accounts": 2.5},
        {"days": 0},
        {"days": -1},
        {"brand_share": 1.5},
        {"brand_share": -0.1},
        {"brand_followback_probability": 1.1},
        {"base_rate": -0.001},
        {"non_follow_rate": -1},
        {"mean_out_degree": -2},
        {"mutual_rate_ratio": 0},
        {"auto_followback_ratio": -1.0},
        {"popularity_sigma": float("nan")},
        {"start": "not a date"},
        {"seed": -1},
        {"interaction_kind_probabilities": (("like", 0.5), ("reply", 0.2))},
        {"interaction_kind_probabilities": (("like", 0.5), ("boost", 0.5))},
        {"n_communities": -1},
        {"n_communities": 2.5},
        {"n_communities": True},
        {"n_communities": 301},
        {"within_community_follow_boost": 0, "n_communities": 3},
        {"within_community_follow_boost": 2.0},
        {"same_community_affinity": -1.0, "n_communities": 3},
        {"same_community_affinity": 2.0},
        {"pair_affinity_sigma": -0.5},
        {"pair_affinity_sigma": float("nan")},
        {"pair_affinity_sigma": 4.0},
        {"affinity_followback_slope": float("inf")},
    ],
)
def test_invalid_parameters_raise_value_error(override):
    # One clear message naming the parameter at fault.
    name = next(iter(override))
    with pytest.raises(ValueError, match=name):
        SyntheticParameters(**override)
    with pytest.raises(ValueError):
        generate_network(**override)


def test_default_sample_is_small_and_in_the_intended_range(sample, tmp_path):
    assert sample.truth["parameters"]["n_accounts"] == 300
    assert 8_000 <= len(sample.interactions) <= 15_000
    paths = write_generic(sample, tmp_path / "nested" / "sample")
    assert sum(p.stat().st_size for p in paths if p.suffix == ".csv") < 2_000_000
    text = (tmp_path / "nested" / "sample" / "truth.json").read_text(encoding="utf-8")
    assert text == json.dumps(json.loads(text), indent=2, sort_keys=True) + "\n"
    assert not re.search(r"\bNaN\b|Infinity", text)


def test_committed_sample_is_what_the_generator_makes_with_its_recorded_seed(tmp_path):
    """data/sample/ and its truth.json stay in step with the generator (regenerate with `make sample`)."""
    from reciprocity_utils.paths import SAMPLE_DIR

    truth = json.loads((SAMPLE_DIR / "truth.json").read_text())
    written = write_generic(generate_network(seed=truth["parameters"]["seed"]), tmp_path)
    for path in written:
        assert path.read_bytes() == (SAMPLE_DIR / path.name).read_bytes(), f"data/sample/{path.name} is stale: run make sample"
    assert sum(p.stat().st_size for p in SAMPLE_DIR.iterdir()) < 2_000_000


# --- pair-level confounding (off by default) -------------------------------------------------

# Digests of the five tables made by the generator before the pair-level options existed, and of
# its truth (sha256 of each table's CSV text; arc_truth restricted to the columns it had then).
ORIGINAL_ARC_TRUTH_COLUMNS = [
    "follower_id",
    "followee_id",
    "followed_at",
    "origin",
    "returned",
    "mutual_since",
    "one_way_rate_per_day",
    "mutual_rate_multiplier",
]
DIGESTS_BEFORE_PAIR_OPTIONS = [
    (
        {"seed": 0},
        "1d0a486f451e548a1ddc9bf843d4ec88b78eebef752863eaa9abb56a34752c4b",
        "8ee419a36d934b50d12cf9cb8d88ef9d52b5503cb6bea0ae04c13923195887f9",
    ),
    (
        {"seed": 7, "n_accounts": 120},
        "73a5267b9447efd4e3f05f6c0279bdfc05c47a13548d92b34624db9397100581",
        "25103e1aa389f9f57eb927abb2487a4a6482a0c5bbefdb2a14c2d5fa08c2c9f1",
    ),
    # Anticipation on: its tables are unchanged too (truth gained a block, so no truth digest).
    (
        {"seed": 3, "n_accounts": 150, "pre_followback_ratio": 3.0, "pre_followback_days": 30.0},
        "017502b0c3bde6f0524dfa9301d944366e3c238d744b81a870d0cde15ff0ff31",
        None,
    ),
]
AFFINITY_WITHOUT_EFFECT = dict(
    mutual_rate_ratio=1.0,
    pair_affinity_sigma=1.0,
    n_communities=4,
    same_community_affinity=2.0,
    within_community_follow_boost=3.0,
)


def table_digest(network) -> str:
    digest = hashlib.sha256()
    for name in TABLES:
        table = getattr(network, name)
        if name == "arc_truth":
            table = table[ORIGINAL_ARC_TRUTH_COLUMNS]
        digest.update(name.encode())
        digest.update(table.to_csv(index=False, lineterminator="\n").encode())
    return digest.hexdigest()


def switching_arcs(network) -> pd.DataFrame:
    """Initiating arcs that went from one-way to mutual: days and a's events toward b before and after.

    From arc_truth (when the pair became mutual) and the interactions table.
    """
    _, end = period_of(network)
    truth = network.arc_truth
    arcs = truth[(truth["origin"] == "initiating") & truth["returned"] & (truth["mutual_since"] > truth["followed_at"])]
    arcs = arcs[["follower_id", "followee_id", "followed_at", "mutual_since"]].reset_index(drop=True)
    events = network.interactions.merge(arcs.reset_index(), left_on=["actor_id", "target_id"], right_on=["follower_id", "followee_id"])
    after = events["at"] >= events["mutual_since"]
    day = pd.Timedelta(days=1)
    return arcs.assign(
        events_before=events[~after].groupby("index").size().reindex(arcs.index, fill_value=0),
        events_after=events[after].groupby("index").size().reindex(arcs.index, fill_value=0),
        days_before=(arcs["mutual_since"] - arcs["followed_at"]) / day,
        days_after=(end - arcs["mutual_since"]) / day,
    )


def within_pair_ratios(arcs: pd.DataFrame) -> tuple[float, float]:
    """Pooled (events per day after / before) and Mantel-Haenszel (each arc its own stratum) ratios."""
    pooled = (arcs["events_after"].sum() / arcs["days_after"].sum()) / (arcs["events_before"].sum() / arcs["days_before"].sum())
    total_days = arcs["days_before"] + arcs["days_after"]
    mantel_haenszel = (arcs["events_after"] * arcs["days_before"] / total_days).sum() / (
        arcs["events_before"] * arcs["days_after"] / total_days
    ).sum()
    return float(pooled), float(mantel_haenszel)


@pytest.mark.parametrize("overrides, tables_digest, truth_digest", DIGESTS_BEFORE_PAIR_OPTIONS)
def test_defaults_reproduce_the_networks_made_before_the_pair_options(overrides, tables_digest, truth_digest):
    network = generate_network(**overrides)
    assert table_digest(network) == tables_digest
    if truth_digest is not None:
        assert hashlib.sha256(json.dumps(network.truth, sort_keys=True).encode()).hexdigest() == truth_digest
    assert "labels" not in network.accounts
    assert not {"pair_affinity", "same_community"} & set(network.arc_truth.columns)


def test_communities_alone_only_add_the_label_column(sample):
    network = generate_network(n_communities=3)
    pd.testing.assert_frame_equal(network.accounts.drop(columns="labels"), sample.accounts)
    for name in ("follows", "interactions", "latent"):
        pd.testing.assert_frame_equal(getattr(network, name), getattr(sample, name))
    assert set(network.accounts["labels"]) == {"c1", "c2", "c3"}
    assert network.accounts["labels"].value_counts().min() > 60  # uniform over three
    assert network.truth["planted"]["pair_confounding"]["n_communities"] == 3
    assert "pair_affinity" not in network.arc_truth  # no affinity asked for


def test_communities_reach_the_dyad_table_and_homophily_sorts_follows():
    network = generate_network(n_communities=4, within_community_follow_boost=3.0, seed=2)
    dyads = build_dyads(synthetic.network_dataset(network)).frame
    label = network.accounts.set_index("account_id")["labels"]
    assert (dyads["a_community"].astype(str) == dyads["a_id"].astype(str).map(label)).all()
    assert (dyads["b_community"].astype(str) == dyads["b_id"].astype(str).map(label)).all()
    same = (dyads["a_community"].astype(str) == dyads["b_community"].astype(str)).to_numpy()
    assert same == pytest.approx(network.arc_truth["same_community"].to_numpy())
    realised = network.truth["realised"]["pair_confounding"]
    # Boost 3 with four equal communities: about 3 / (3 + 3) of follows stay inside, against 1/4 by chance.
    assert realised["share_of_account_pairs_within_community"] == pytest.approx(0.25, abs=0.02)
    assert 0.4 < realised["share_of_initiating_follows_within_community"] < 0.6
    initiating = network.arc_truth[network.arc_truth["origin"] == "initiating"]
    assert realised["share_of_initiating_follows_within_community"] == pytest.approx(initiating["same_community"].mean())


def test_returned_follows_carry_more_affinity():
    network = generate_network(pair_affinity_sigma=1.0, seed=4)
    truth = network.arc_truth
    assert (truth["pair_affinity"] > 0).all()
    # Both arcs of a pair share one affinity.
    key = [frozenset(pair) for pair in zip(truth["follower_id"], truth["followee_id"])]
    assert truth.groupby(pd.Series(key, index=truth.index))["pair_affinity"].nunique().max() == 1
    initiating = truth[truth["origin"] == "initiating"]
    log_affinity = np.log(initiating["pair_affinity"])
    assert log_affinity.mean() == pytest.approx(-0.5, abs=0.1)  # E[sigma z - sigma^2/2]
    returned, unreturned = log_affinity[initiating["returned"]].mean(), log_affinity[~initiating["returned"]].mean()
    assert returned > unreturned + 0.3
    realised = network.truth["realised"]["pair_confounding"]
    assert realised["mean_log_affinity_returned_initiating"] == pytest.approx(returned)
    assert realised["mean_log_affinity_unreturned_initiating"] == pytest.approx(unreturned)
    # The one-way rate recorded per arc includes the affinity.
    traits = network.latent.set_index("account_id")
    params = network.truth["parameters"]
    expected = (
        params["base_rate"]
        * initiating["follower_id"].map(traits["activity"]) ** params["actor_activity_exponent"]
        * initiating["followee_id"].map(traits["popularity"]) ** params["target_popularity_exponent"]
        * initiating["followee_id"].map(traits["activity"]) ** params["target_activity_exponent"]
        * initiating["pair_affinity"]
    )
    assert initiating["one_way_rate_per_day"].to_numpy() == pytest.approx(expected.to_numpy(), rel=1e-12)


def test_affinity_shifts_the_followback_log_odds_as_planted():
    network = generate_network(n_accounts=2000, seed=6, pair_affinity_sigma=1.0, affinity_followback_slope=1.0)
    _, end = period_of(network)
    traits = network.latent.set_index("account_id")
    arcs = network.arc_truth[network.arc_truth["origin"] == "initiating"]
    arcs = arcs[arcs["followed_at"] <= end - pd.Timedelta(days=60)]  # latency cut-off negligible
    probability = arcs["followee_id"].map(traits["follow_back_probability"])
    offset = np.log(probability / (1 - probability))
    design = sm.add_constant(np.log(arcs["pair_affinity"]).rename("log_affinity"))
    fit = sm.GLM(arcs["returned"].astype(float), design, family=sm.families.Binomial(), offset=offset).fit()
    assert abs(fit.params["log_affinity"] - 1.0) < 4 * fit.bse["log_affinity"]
    assert abs(fit.params["const"]) < 4 * fit.bse["const"]
    # Brands are shifted too, around their planted 0.9.
    into_brands = arcs[arcs["followee_id"].map(traits["camp"]) == "auto_follow_back"]
    high = np.log(into_brands["pair_affinity"]) > 0.5
    assert (
        into_brands.loc[high, "returned"].mean()
        > 0.93
        > 0.85
        > into_brands.loc[np.log(into_brands["pair_affinity"]) < -1.5, "returned"].mean()
    )


@pytest.mark.parametrize("planted", [1.0, 2.0])
def test_affinity_fools_comparisons_across_pairs_but_not_within_a_pair(planted):
    """The scenario two-way fixed effects cannot handle: mutual pairs engage more because they like each other."""
    network = generate_network(n_accounts=1000, seed=2, **{**AFFINITY_WITHOUT_EFFECT, "mutual_rate_ratio": planted})
    realised = network.truth["realised"]
    segments = arc_segments(network)
    naive = naive_rate_ratio(segments)
    assert naive == pytest.approx(realised["naive_mutual_vs_one_way_rate_ratio"])
    assert naive > 1.6 * planted
    # Even controlling for every account's true traits (the best fixed effects can do) finds an effect.
    controlled = math.exp(fit_poisson(segments, ["mutual"]).params["mutual"])
    assert controlled > 1.5 * planted
    # Before and after the follow-back on the same arc, the pair's affinity cancels.
    arcs = switching_arcs(network)
    pooled, mantel_haenszel = within_pair_ratios(arcs)
    assert len(arcs) == realised["pair_confounding"]["n_switching_arcs"] > 2000
    assert mantel_haenszel == pytest.approx(realised["pair_confounding"]["within_pair_rate_ratio_on_switching_arcs"])
    assert mantel_haenszel == pytest.approx(planted, rel=0.15)
    # Pooling all arcs' days instead sits below the planted ratio: returned follows into persons wait
    # ~7 days and have higher rates than those into brands (~1 day), so they dominate the "before" rate.
    assert 0.75 * planted < pooled < 1.1 * planted


@pytest.mark.parametrize("lead_days", [30.0, 60.0])
def test_anticipation_of_30_and_60_days_is_planted_and_recorded(lead_days):
    # Slow follow-backs, so that some lead windows fit inside the one-way time and some do not.
    network = generate_network(
        n_accounts=600,
        seed=8,
        pre_followback_ratio=3.0,
        pre_followback_days=lead_days,
        person_followback_latency_days=60.0,
        brand_followback_latency_days=20.0,
    )
    truth = network.arc_truth
    answered = (truth["origin"] == "initiating") & truth["returned"]
    assert truth.loc[~answered, "pre_followback_since"].isna().all()
    lead = truth[answered & (truth["mutual_since"] > truth["followed_at"])]
    expected_since = np.maximum(lead["followed_at"], lead["mutual_since"] - pd.Timedelta(days=lead_days))
    assert (lead["pre_followback_since"] == expected_since).all()
    cut = lead["pre_followback_since"] == lead["followed_at"]
    assert 0.2 < cut.mean() < 0.95
    anticipation = network.truth["realised"]["anticipation"]
    assert anticipation["n_answered_arcs"] == int(answered.sum())
    assert anticipation["share_of_lead_windows_cut_by_the_follow"] == pytest.approx(cut.sum() / answered.sum())

    # Events in the lead window and before it match the planted rates (x3 in the window).
    events = network.interactions.merge(lead.reset_index(), left_on=["actor_id", "target_id"], right_on=["follower_id", "followee_id"])
    in_lead = (events["at"] >= events["pre_followback_since"]) & (events["at"] < events["mutual_since"])
    before_lead = events["at"] < events["pre_followback_since"]
    day = pd.Timedelta(days=1)
    expected_lead = (lead["one_way_rate_per_day"] * 3.0 * (lead["mutual_since"] - lead["pre_followback_since"]) / day).sum()
    expected_before = (lead["one_way_rate_per_day"] * (lead["pre_followback_since"] - lead["followed_at"]) / day).sum()
    assert abs(in_lead.sum() - expected_lead) < 4 * math.sqrt(expected_lead)
    assert abs(before_lead.sum() - expected_before) < 4 * math.sqrt(expected_before) + 1
    assert anticipation["lead_events"] == int(in_lead.sum())


def test_pair_options_are_deterministic_and_recorded(tmp_path):
    first, second = (
        generate_network(seed=5, **AFFINITY_WITHOUT_EFFECT),
        generate_network(SyntheticParameters(seed=5, **AFFINITY_WITHOUT_EFFECT)),
    )
    assert_same_networks(first, second, tmp_path)
    assert not first.arc_truth.equals(generate_network(seed=6, **AFFINITY_WITHOUT_EFFECT).arc_truth)

    truth = json.loads((tmp_path / "first" / "truth.json").read_text())
    assert set(truth["parameters"]) == {f.name for f in dataclasses.fields(SyntheticParameters)}
    planted = truth["planted"]["pair_confounding"]
    assert {key: planted[key] for key in synthetic.PAIR_FIELDS} == {
        key: float(AFFINITY_WITHOUT_EFFECT.get(key, 1.0)) for key in synthetic.PAIR_FIELDS
    }
    assert pd.read_csv(tmp_path / "first" / "accounts.csv", dtype=str)["labels"].str.fullmatch(r"c[1-4]").all()
    realised = truth["realised"]["pair_confounding"]
    assert realised["share_of_mutual_pairs_within_community"] > realised["share_of_one_way_pairs_within_community"]
    assert realised["followback_share_within_community"] > realised["followback_share_across_communities"]
    assert realised["mean_log_affinity_returned_initiating"] > realised["mean_log_affinity_unreturned_initiating"]
    assert {"pair_affinity", "within_pair_rate_ratio_on_switching_arcs"} <= set(truth["definitions"])
