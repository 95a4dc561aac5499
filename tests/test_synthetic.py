"""The synthetic generator: reproducible, well-formed tables, and planted truth that can be recovered."""

from __future__ import annotations

import dataclasses
import json
import math
import re

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm

from reciprocity_utils import synthetic
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

    events = network.interactions.merge(
        arcs, left_on=["actor_id", "target_id"], right_on=["follower_id", "followee_id"], how="inner"
    )
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


def test_same_seed_gives_identical_tables_and_files(tmp_path):
    first, second = generate_network(seed=5), generate_network(SyntheticParameters(seed=5))
    for name in TABLES:
        pd.testing.assert_frame_equal(getattr(first, name), getattr(second, name))
    assert first.truth == second.truth
    write_generic(first, tmp_path / "first")
    write_generic(second, tmp_path / "second")
    for name in CSV_FILES + ("truth.json",):
        assert (tmp_path / "first" / name).read_bytes() == (tmp_path / "second" / name).read_bytes(), name


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
        "account_id", "handle", "platform", "is_owner", "kind", "created_at", "followers_count", "following_count",
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
    assert set(truth["parameters"]) == {f.name for f in dataclasses.fields(SyntheticParameters)}
    realised = truth["realised"]
    follows = sample.follows
    reverse = set(zip(follows["followee_id"], follows["follower_id"]))
    n_mutual_arcs = sum(arc in reverse for arc in zip(follows["follower_id"], follows["followee_id"]))
    assert realised["n_follows"] == len(follows)
    assert realised["n_mutual_arcs"] == n_mutual_arcs
    assert realised["arc_reciprocity"] == pytest.approx(n_mutual_arcs / len(follows))
    assert realised["n_interactions"] == len(sample.interactions)
    assert realised["n_interactions_by_kind"] == sample.interactions["kind"].value_counts().reindex(list(INTERACTION_KINDS), fill_value=0).to_dict()
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
    ],
)
def test_invalid_parameters_raise_value_error(override):
    with pytest.raises(ValueError):
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
