"""Models and intervals of study 03: agreement with statsmodels, recovery of planted effects, calibration."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
from sklearn.metrics import roc_auc_score
from statsmodels.stats.sandwich_covariance import cov_cluster_2groups

from reciprocity_utils import SAMPLE_DIR, Coverage, ParameterError, RawTable, build_dataset, inference, load_dataset
from reciprocity_utils.dyads import build_dyads
from reciprocity_utils.inference import Estimate, ModelSpec, fit_count_regression, fit_model, model_frame, robust_covariances
from reciprocity_utils.segments import engagement_segments
from reciprocity_utils.synthetic import generate_network, network_dataset


def frames_of(dataset):
    dyads = build_dyads(dataset)
    segments, _ = engagement_segments(dataset, dyads)
    return dyads, model_frame(dyads, segments), model_frame(dyads)


@pytest.fixture(scope="module")
def large():
    """Big enough that the planted ratio is pinned down to a few percent."""
    dataset = network_dataset(generate_network(n_accounts=1500, seed=5))
    return (dataset, *frames_of(dataset))


def test_fixed_effects_poisson_equals_statsmodels_with_dummy_columns():
    dataset = network_dataset(generate_network(n_accounts=60, seed=3, mean_out_degree=8))
    _, frame, _ = frames_of(dataset)
    data = frame.data
    y, mutual = data["y_ab"].to_numpy(), data["mutual"].to_numpy()
    offset = np.log(data["exposure_days"].to_numpy())
    a, b = data["a"].to_numpy(), data["b"].to_numpy()
    fit = fit_count_regression(y, mutual[:, None], offset, [a, b])
    assert fit.converged
    kept = fit.kept
    dummies = [pd.get_dummies(pd.Categorical(codes[kept]), drop_first=True).to_numpy(float) for codes in (a, b)]
    design = np.column_stack([mutual[kept], np.ones(kept.sum()), *dummies])
    reference = sm.GLM(y[kept], design, family=sm.families.Poisson(), offset=offset[kept]).fit()
    assert fit.params[0] == pytest.approx(reference.params[0], abs=1e-7)
    assert math.sqrt(fit.bread[0, 0]) == pytest.approx(reference.bse[0], rel=1e-6)
    ours, _, _ = cov_cluster_2groups((fit.scores, fit.bread), a[kept], b[kept], use_correction=False)
    theirs, _, _ = cov_cluster_2groups(reference, a[kept], b[kept], use_correction=False)
    assert ours[0, 0] == pytest.approx(theirs[0, 0], rel=1e-5)
    # Dropped rows are those whose account never received or sent engagement: no information.
    assert fit.dropped_all_zero + fit.dropped_singletons == int((~kept).sum())


@pytest.mark.parametrize("components", [1, 3])
def test_two_way_demeaning_by_conjugate_gradients_equals_alternating_projections_on_a_sparse_network(components):
    """A sparse chain-like network (slow for alternating projections), in one or several disconnected parts."""
    from reciprocity_utils.inference import estimators

    rng = np.random.default_rng(11)
    n_accounts, rows = 900, []
    part = n_accounts // components
    for start in range(0, n_accounts, part):  # each part: a ring of accounts plus a few shortcuts
        members = np.arange(start, start + part)
        rows += [(m, members[(i + 1) % part]) for i, m in enumerate(members)]
        rows += [(rng.choice(members), rng.choice(members)) for _ in range(part // 10)]
    a, b = np.array(rows).T
    a, b = pd.factorize(a)[0], pd.factorize(b)[0]
    weights = rng.uniform(0.2, 3.0, len(a))
    columns = np.asfortranarray(rng.normal(size=(len(a), 2)) + np.column_stack([a * 0.01, b * -0.02]))
    fast = estimators._demean(columns, weights, [a, b], 1e-11)
    estimators.TWO_WAY_SOLVER = "alternating projections"
    try:
        slow = estimators._demean(columns, weights, [a, b], 1e-11)
    finally:
        estimators.TWO_WAY_SOLVER = "conjugate gradients"
    assert np.abs(fast - slow).max() < 1e-7
    for codes in (a, b):  # the residuals are orthogonal to every fixed effect
        assert np.abs(np.bincount(codes, weights=weights * fast[:, 0])).max() < 1e-7


def test_poisson_and_negative_binomial_without_fixed_effects_equal_statsmodels():
    dataset = network_dataset(generate_network(n_accounts=120, seed=6))
    _, frame, _ = frames_of(dataset)
    spec = ModelSpec("x", controls=inference.DEGREE_CONTROLS)
    y, X, names, offset, used, _, _ = inference._design(frame, spec)
    design = np.column_stack([X, np.ones(len(y))])
    ours = fit_count_regression(y, X, offset)
    theirs = sm.GLM(y, design, family=sm.families.Poisson(), offset=offset).fit()
    assert np.allclose(ours.params, theirs.params, atol=1e-7)
    assert np.allclose(np.sqrt(np.diag(ours.bread)), theirs.bse, rtol=1e-6)
    negbin = fit_model(frame, ModelSpec("nb", family="negbin", controls=inference.DEGREE_CONTROLS))
    reference = sm.NegativeBinomial(y, design, offset=offset, loglike_method="nb2").fit(disp=0, maxiter=500, method="bfgs")
    assert negbin.mutual.log_value == pytest.approx(reference.params[0], abs=1e-4)
    assert negbin.mutual.standard_errors["model"] == pytest.approx(reference.bse[0], rel=1e-2)
    assert any("dispersion alpha" in note for note in negbin.notes)


def test_dyadic_covariance_equals_the_double_sum_over_dyads_sharing_an_account():
    rng = np.random.default_rng(1)
    n, k = 60, 2
    a, b = rng.integers(0, 8, n), rng.integers(0, 8, n)
    b = np.where(a == b, (b + 1) % 8, b)
    scores = rng.normal(size=(n, k))
    bread = np.eye(k)
    shares = (a[:, None] == a[None, :]) | (a[:, None] == b[None, :]) | (b[:, None] == a[None, :]) | (b[:, None] == b[None, :])
    meat = np.einsum("ij,ik,jl->kl", shares.astype(float), scores, scores)
    groups = len(np.unique(np.concatenate([a, b])))
    expected = groups / (groups - 1) * (n - 1) / (n - k) * meat
    assert np.allclose(inference._dyadic_covariance(scores, bread, a, b), expected)


def test_two_way_covariance_is_statsmodels_and_is_repaired_when_not_positive():
    rng = np.random.default_rng(2)
    n = 400
    a, b = rng.integers(0, 30, n), rng.integers(0, 30, n)
    X = np.column_stack([rng.normal(size=n), np.ones(n)])
    y = rng.poisson(np.exp(0.3 * X[:, 0]))
    result = sm.GLM(y, X, family=sm.families.Poisson()).fit()
    scores = result.model.score_obs(result.params)
    bread = np.linalg.inv(-result.model.hessian(result.params))
    covariances = robust_covariances(scores, bread, a, b)
    expected, on_a, _ = cov_cluster_2groups(result, a, b)
    assert np.allclose(covariances.matrices["two_way"], expected) or covariances.clipped_eigenvalues["two_way"]
    assert np.allclose(covariances.matrices["cluster_a"], on_a)
    repaired, count = inference._positive_semidefinite(np.array([[1.0, 0.0], [0.0, -0.5]]))
    assert count == 1 and np.allclose(repaired, [[1.0, 0.0], [0.0, 0.0]])


def test_adjusted_model_recovers_the_planted_ratio_where_raw_overstates_it(large):
    _, _, frame, _ = large
    adjusted = fit_model(frame, ModelSpec("fe", fixed_effects=True))
    raw = fit_model(frame, ModelSpec("raw"))
    assert adjusted.mutual.value == pytest.approx(2.0, rel=0.06)
    assert adjusted.mutual.covers(2.0)
    assert raw.mutual.value > 2.2  # confounded: active accounts follow back and are engaged with
    # The ordinary interval of the raw model ignores that one account's dyads move together.
    assert raw.mutual.standard_errors["model"] < 0.5 * raw.mutual.standard_errors["two_way"]


def test_other_direction_is_mechanically_larger(large):
    _, _, frame, _ = large
    fits, skipped = inference.fit_all(frame, inference.other_direction_specs(frame))
    assert not skipped
    for fit in fits.values():
        assert fit.mutual.interval()[0] > 20  # b rarely engages with a before following a


def test_moderation_recovers_a_smaller_effect_for_brand_follow_backs():
    dataset = network_dataset(generate_network(n_accounts=1500, seed=8, mutual_rate_ratio=2.5, auto_followback_ratio=1.25))
    _, frame, _ = frames_of(dataset)
    by_brand = inference.moderated_effect(frame, "b_is_brand", center=0.0, grid=[0.0, 1.0])
    person, brand = by_brand.curve["rate_ratio"]
    assert person == pytest.approx(2.5, rel=0.1) and brand == pytest.approx(1.25, rel=0.15)
    assert by_brand.interaction.interval()[1] < 1  # brands' follow-backs carry less, distinguishably
    by_rate = inference.moderated_effect(frame)
    assert by_rate.interaction.value < 1 and by_rate.curve["rate_ratio"].is_monotonic_decreasing


@pytest.fixture(scope="module")
def slow():
    """Follow-backs after weeks, so pairs are seen one-way long before: the event study has a baseline."""
    dataset = network_dataset(generate_network(n_accounts=1500, seed=5, **inference.SLOW_FOLLOW_BACKS))
    return dataset, build_dyads(dataset)


def test_event_study_recovers_the_ratio_and_supports_a_causal_reading_when_the_weeks_before_are_flat(slow):
    dataset, dyads = slow
    timing = inference.timing_design(dataset, dyads)
    assert timing.verdict == "supports" and timing.supports_causal_reading
    assert timing.after.covers(2.0) and timing.after.interval()[0] > 1.3
    leads = timing.leads
    assert len(leads) == 8 and ((leads["ci90_low"] >= 1 / 1.5) & (leads["ci90_high"] <= 1.5)).all()
    assert timing.pretrend_p > 0.05 and timing.reference_arcs >= 100
    assert "what an effect of the follow-back would produce" in timing.reason and "more than 8 weeks earlier" in timing.reason


def test_event_study_segments_hold_every_event_and_exposure_day(slow):
    dataset, dyads = slow
    bins = inference.event_bins(8)
    segments = inference.event_time_segments(dataset, dyads, bins, [dyads.window_start, dyads.window_end])
    frame = dyads.frame
    assert segments["y"].sum() == frame["ab_total"].sum()
    assert segments["exposure_days"].sum() == pytest.approx(frame["exposure_days"].sum(), rel=1e-9)
    # Arcs never returned spend all their time in the reference bin.
    never = frame.index[~frame["mutual"].astype(bool)]
    assert (segments.loc[segments["arc"].isin(never), "bin"] == 0).all()


def test_event_study_abstains_without_pairs_seen_long_before_their_follow_back(large):
    dataset, dyads, _, _ = large  # follow-backs within days: nobody is seen 8 weeks before
    timing = inference.timing_design(dataset, dyads)
    assert timing.verdict == "too few pairs" and timing.after is None and not timing.supports_causal_reading
    assert "inconclusive" in timing.reason and "8 weeks" in timing.reason


def test_event_study_flags_anticipation_and_makes_no_causal_claim():
    dataset = network_dataset(
        generate_network(n_accounts=600, seed=7, pre_followback_ratio=3.0, pre_followback_days=30.0, **inference.SLOW_FOLLOW_BACKS)
    )
    timing = inference.timing_design(dataset, build_dyads(dataset))
    assert timing.verdict == "pre-trend" and timing.pretrend_p < 0.001
    assert "no causal claim" in timing.reason
    assert timing.leads.iloc[-4:]["ratio"].min() > 1.8  # the last four weeks carry the planted tripling


def test_permutation_test_detects_the_effect_and_its_variance_is_exact(large):
    _, _, _, arcs = large
    result = inference.permutation_test(arcs, n_permutations=99, seed=1)
    assert result.p_value == pytest.approx(0.01) and result.z > 5
    flat = generate_network(n_accounts=300, seed=4, mutual_rate_ratio=1.0)
    null_arcs = frames_of(network_dataset(flat))[2]
    null = inference.permutation_test(null_arcs, n_permutations=199, seed=2)
    assert 0.005 < null.p_value and abs(null.z) < 3.5


def test_weighted_auc_is_scikit_learns():
    rng = np.random.default_rng(0)
    scores = rng.integers(0, 5, 300).astype(float)  # ties on purpose
    labels = rng.random(300) < 0.3 + 0.1 * scores
    weights = rng.poisson(1.0, 300).astype(float)
    assert inference.weighted_auc(scores, labels) == pytest.approx(roc_auc_score(labels, scores))
    assert inference.weighted_auc(scores, labels, weights) == pytest.approx(roc_auc_score(labels, scores, sample_weight=weights))


def test_out_of_time_auc_on_the_sample():
    dataset = load_dataset(SAMPLE_DIR)
    result = inference.out_of_time_auc(dataset, build_dyads(dataset), n_bootstrap=30, seed=1)
    table = result.table.set_index("predictor")
    assert ((table["ci_low"] <= table["auc"]) & (table["auc"] <= table["ci_high"])).all()
    assert table.loc["mutual status", "auc"] > 0.5
    assert result.train_window[1] == result.test_window[0]


def test_raw_comparison_matches_pooled_rates():
    dataset = load_dataset(SAMPLE_DIR)
    dyads, states, arcs = frames_of(dataset)
    rates = inference.raw_comparison(states).set_index("status")
    data = states.data
    for value, status in ((0.0, "one-way"), (1.0, "mutual")):
        part = data[data["mutual"] == value]
        assert rates.loc[status, "rate_per_100_days"] == pytest.approx(100 * part["y_ab"].sum() / part["exposure_days"].sum())
        assert rates.loc[status, "rate_ci_low"] < rates.loc[status, "rate_per_100_days"] < rates.loc[status, "rate_ci_high"]
    shares = inference.raw_comparison(arcs).set_index("status")
    frame = dyads.frame
    assert shares.loc["mutual", "share_engaged"] == pytest.approx((frame.loc[frame["mutual"], "ab_total"] > 0).mean())
    # The raw rate ratio of the pooled rates is the raw Poisson model's.
    raw = fit_model(states, ModelSpec("raw"))
    assert raw.mutual.value == pytest.approx(rates.loc["mutual", "rate_per_100_days"] / rates.loc["one-way", "rate_per_100_days"])


def test_fast_validation_is_calibrated_for_the_adjusted_estimator():
    """A few dozen replications; loose bounds (the benchmark runs 500 per scenario)."""
    scenarios = {
        "ratio 2": {"mutual_rate_ratio": 2.0, "n_accounts": 150},
        "ratio 1": {"mutual_rate_ratio": 1.0, "n_accounts": 150},
        "differs by account": {"mutual_rate_ratio": 2.0, "n_accounts": 150, "heterogeneity": 4.0},
    }
    results = inference.run_validation(16, scenarios, first_seed=300)
    summary = inference.summarise_validation(results).set_index(["scenario", "estimator", "interval"])
    two_way = inference.COVARIANCE_LABELS["two_way"]
    ordinary = inference.COVARIANCE_LABELS["model"]
    adjusted = summary.loc[("ratio 2", "adjusted (fixed effects)", two_way)]
    assert abs(adjusted["bias"]) < 0.05 and adjusted["coverage"] >= 0.8
    assert summary.loc[("ratio 1", "adjusted (fixed effects)", two_way), "rejects_1"] <= 0.2
    assert summary.loc[("ratio 2", "raw", two_way), "bias"] > 0.15  # confounding inflates the raw ratio
    differs = summary.loc["differs by account"]
    assert (
        differs.loc[("adjusted (fixed effects)", ordinary), "coverage"]
        < differs.loc[("adjusted (fixed effects)", two_way), "coverage"] - 0.2
    )


def test_event_study_never_claims_a_wrong_signed_effect_under_anticipation():
    """A fast version of the benchmark's anticipation scenarios (loose bounds: a dozen replications each)."""
    scenarios = {
        name: {**options, "timing": True, "n_accounts": 300}
        for name, options in inference.VALIDATION_SCENARIOS.items()
        if name.startswith("anticipation") or name.startswith("slow follow-backs (ratio 2)")
    }
    results = inference.run_validation(8, scenarios, first_seed=500, processes=2)
    summary = inference.summarise_event_study(results).set_index("scenario")
    within = [name for name in summary.index if "beyond the leads" not in name]
    assert (summary.loc[within, "claims the wrong sign"] == 0).all()
    for days in (7, 30, 60):
        assert summary.loc[f"anticipation {days} days (ratio 2)", "flags a pre-trend"] >= 0.75
    # Beyond the leads the baseline itself is raised: the after-ratio is biased toward and past 1,
    # the failure the page states ("cannot rule out a rise that began more than 8 weeks earlier").
    assert summary.loc["anticipation 120 days, beyond the leads (ratio 2)", "mean ratio after"] < 1.3
    # The states comparison is fooled by anticipation: with no effect at all it reports less engagement after.
    states = inference.summarise_validation(results).set_index(["scenario", "estimator", "interval"])
    fooled = states.loc[("anticipation 30 days, no effect (ratio 1)", "adjusted (fixed effects)", inference.COVARIANCE_LABELS["two_way"])]
    assert fooled["mean_estimate"] < 0.85 and fooled["rejects_1"] >= 0.5


def test_e_values_match_vanderweele_and_ding():
    assert inference.e_value(3.9) == pytest.approx(7.26, abs=0.01)  # their example: RR 3.9, lower limit 1.8
    assert inference.e_value(1.8) == pytest.approx(3.00, abs=0.01)
    assert inference.e_value(1 / 3.9) == pytest.approx(inference.e_value(3.9))
    assert inference.e_value(1.0) == 1.0
    inside = Estimate("mutual", "rate ratio", 0.1, {m: 0.2 for m in inference.COVARIANCE_METHODS})
    assert inference.e_value_of_interval(inside) == 1.0


def test_plain_conclusion_words_follow_the_evidence(large, slow):
    dataset, dyads, frame, _ = large
    adjusted = fit_model(frame, ModelSpec("fe", fixed_effects=True))
    without_timing = inference.plain_conclusion(adjusted)
    assert (
        "is associated with more" in without_timing
        and "no causal claim" in without_timing
        and "caus" not in without_timing.split("no causal")[0]
    )
    assert "E-values" in without_timing and "Nothing about the pair itself" in without_timing
    abstaining = inference.plain_conclusion(adjusted, timing=inference.timing_design(dataset, dyads))
    assert "inconclusive" in abstaining and "not read as an effect" in abstaining
    supporting = inference.timing_design(*slow)
    assert "what an effect of the follow-back would produce" in inference.plain_conclusion(adjusted, timing=supporting)
    flat = Estimate("mutual", "rate ratio", 0.01, {m: 0.2 for m in inference.COVARIANCE_METHODS})
    adjusted.estimates["mutual"] = flat
    flat_words = inference.plain_conclusion(adjusted)
    assert "not associated with a difference" in flat_words and "not evidence that there is none" in flat_words
    assert "E-values" not in flat_words


def test_pair_controls_enter_the_headline_model():
    """Shared community, common followees and both-brands: each varies here, so each is a control of the headline."""
    network = generate_network(n_accounts=300, seed=11)
    dataset = network_dataset(network)
    communities = pd.Series(np.where(np.arange(len(dataset.accounts)) % 3 == 0, "x", "y"), dtype="string")
    dataset.accounts = dataset.accounts.assign(community=communities.to_numpy())
    _, frame, _ = frames_of(dataset)
    assert set(frame.data["same_community"].dropna().unique()) == {0.0, 1.0}
    fits, skipped = inference.fit_all(frame, inference.standard_specs(frame))
    headline = inference.headline_fit(fits)
    assert headline.spec.label.startswith(inference.PAIR_ADJUSTED_PREFIX)
    assert set(headline.spec.controls) == {"same_community", "log_shared_followees", "both_brands"}
    words = inference.plain_conclusion(headline)
    assert "share a community" in words and "how many accounts both follow" in words and "both are brands" in words
    # The generator's brands: both_brands is 1 exactly where both kinds are brand.
    data = frame.data
    assert (data["both_brands"] == ((data["a_kind"] == "brand") & (data["b_kind"] == "brand"))).all()
    with pytest.raises(ValueError, match="pair-level"):
        ModelSpec("x", fixed_effects=True, controls=("a_followers_excl_b",))


def test_ego_comparison_uses_only_the_owners_engagement():
    follows = pd.DataFrame({"follower_id": ["1", "1", "1", "2", "5"], "followee_id": ["2", "3", "4", "1", "1"]})
    interactions = pd.DataFrame(
        {"actor_id": ["1", "1", "1", "1"], "target_id": ["2", "2", "3", "2"], "kind": ["reply", "like", "like", "mention"]}
    )
    dataset = build_dataset(
        RawTable(follows, "f"),
        RawTable(interactions, "i"),
        coverage=Coverage(scope="ego", engagement_observed="owner_outgoing"),
        owner_id="1",
    )
    table, estimate, limits = inference.ego_comparison(build_dyads(dataset))
    table = table.set_index("status")
    assert table.loc["mutual", "accounts"] == 1 and table.loc["mutual", "events"] == 3
    assert table.loc["owner follows, not followed back", "accounts"] == 2 and table.loc["owner follows, not followed back", "events"] == 1
    assert estimate.value == pytest.approx(3 / 0.5)
    assert any("Only the owner's own engagement" in line for line in limits)
    study = inference.prepare_study(dataset)
    assert study.frame is None and study.is_ego and "owner" in study.unavailable


def test_study_parameters_are_checked():
    assert inference.check_study_parameters("mention, repost", 99, 10, 4, 8, 1.5, 5, 0) == ("mention", "repost")
    assert inference.check_study_parameters("all", 0, 0, 1, 1, 2, 1, 0) == inference.INTERACTION_KINDS
    with pytest.raises(ParameterError, match="retweets"):
        inference.check_study_parameters("retweets", 99, 10, 4, 8, 1.5, 5, 0)
    with pytest.raises(ParameterError, match="lead_weeks"):
        inference.check_study_parameters("all", 99, 10, 4, 0, 1.5, 5, 0)
    with pytest.raises(ParameterError, match="pretrend_margin"):
        inference.check_study_parameters("all", 99, 10, 4, 8, 1.0, 5, 0)
    with pytest.raises(ParameterError, match="n_permutations"):
        inference.check_study_parameters("all", -1, 10, 4, 8, 1.5, 5, 0)


def test_specs_refuse_what_cannot_be_estimated():
    with pytest.raises(ValueError, match="Poisson model only"):
        ModelSpec("x", family="logit", fixed_effects=True)
    with pytest.raises(ValueError, match="absorbed"):
        ModelSpec("x", fixed_effects=True, controls=("a_sent_excl_b",))
    dataset = load_dataset(SAMPLE_DIR)
    _, frame, _ = frames_of(dataset)
    with pytest.raises(ValueError, match="not a column"):
        fit_model(frame, ModelSpec("x", controls=("followers",)))


def test_planted_truth_is_found_for_the_sample_and_its_saved_copy(tmp_path):
    dataset = load_dataset(SAMPLE_DIR)
    assert inference.planted_truth(dataset, SAMPLE_DIR)["mutual_rate_ratio"] == 2.0
    dataset.save(tmp_path / "dataset")
    saved = load_dataset(tmp_path / "dataset")
    assert inference.planted_truth(saved, tmp_path / "dataset")["mutual_rate_ratio"] == 2.0
    other = network_dataset(generate_network(n_accounts=50, seed=1, mutual_rate_ratio=1.5))
    assert inference.planted_truth(other)["mutual_rate_ratio"] == 1.5
    ucd_like = build_dataset(RawTable(pd.DataFrame({"follower_id": ["1"], "followee_id": ["2"]}), "f"))
    assert inference.planted_truth(ucd_like) is None


def test_the_moderator_leaves_the_pair_out_of_the_returning_accounts_rate():
    follows = pd.DataFrame(
        {
            "follower_id": ["1", "2", "3", "4", "9", "9", "9"],
            "followee_id": ["9", "9", "9", "9", "1", "2", "5"],
        }
    )
    dataset = build_dataset(RawTable(follows, "f"), RawTable(pd.DataFrame({"actor_id": ["1"], "target_id": ["9"], "kind": ["like"]}), "i"))
    frame = model_frame(build_dyads(dataset))
    data = frame.data.assign(
        a_id=lambda t: build_dyads(dataset).frame["a_id"].astype(str).to_numpy(),
        b_id=lambda t: build_dyads(dataset).frame["b_id"].astype(str).to_numpy(),
    ).set_index(["a_id", "b_id"])
    # 9 is followed by 1, 2, 3, 4 and follows back 1 and 2: half. Leaving each follower out:
    assert data.loc[("1", "9"), "b_followback_rate"] == 0.5
    assert data.loc[("1", "9"), "b_followback_rate_excl_a"] == pytest.approx(
        1 / 3
    )  # 9 returned 2 of the other 3 minus 1's own return: 1 of 3
    assert data.loc[("3", "9"), "b_followback_rate_excl_a"] == pytest.approx(2 / 3)


def test_moderation_words_never_read_an_interval_across_1_as_no_dependence():
    from types import SimpleNamespace

    def result(value, se, direction):
        estimate = Estimate("mutual_x_rate", "rate ratio", math.log(value), {m: se for m in inference.COVARIANCE_METHODS})
        return SimpleNamespace(interaction=estimate, fit=SimpleNamespace(spec=ModelSpec("m", direction=direction)))

    words = inference.moderation_words(result(0.3, 0.2, "ab"), result(1.4, 0.5, "ba"))
    assert "For a's engagement toward b, follow-backs from accounts that follow back more of their followers go with a smaller" in words
    assert "For b's engagement toward a, these data cannot tell" in words and "not evidence that it does not" in words


def test_small_cluster_scores_equal_the_explicit_leverage_adjustment():
    """CR3 by the Woodbury shortcut equals X_g' W^(1/2) (I - H_gg)^(-1) W^(1/2) e_g computed with full matrices."""
    from reciprocity_utils.inference.covariance import _cr3_sums

    rng = np.random.default_rng(4)
    n, groups = 240, rng.integers(0, 12, 240)
    X = np.column_stack([rng.random(n) < 0.4, rng.normal(size=n)]).astype(float)
    y = rng.poisson(np.exp(0.3 + 0.5 * X[:, 0] + 0.2 * X[:, 1]))
    fit = fit_count_regression(y, X, np.zeros(n))
    design, weights, bread = fit.design, fit.weights, fit.bread
    adjusted = _cr3_sums(fit.scores, bread, design, weights, groups)
    working = (y - fit.fitted) / fit.fitted
    for g in range(12):
        rows = groups == g
        root = np.sqrt(weights[rows])
        U = design[rows] * root[:, None]
        H = U @ bread @ U.T
        expected = U.T @ np.linalg.solve(np.eye(rows.sum()) - H, root * working[rows])
        assert np.allclose(adjusted[g], expected, rtol=1e-6, atol=1e-9)
    # Removing each cluster's own influence widens the interval against the uncorrected sandwich.
    sums = np.column_stack([np.bincount(groups, weights=fit.scores[:, j]) for j in range(fit.scores.shape[1])])
    uncorrected = bread @ (sums.T @ sums) @ bread
    corrected = bread @ (adjusted.T @ adjusted) @ bread
    assert (np.diag(corrected) > np.diag(uncorrected)).all()


def test_pair_affinity_with_no_effect_fools_the_fixed_effects_and_not_the_within_pair_comparison():
    """The scenario built to make the headline fail: affinity of the pair drives follow-back and engagement; ratio 1."""
    scenarios = {"affinity": {**inference.VALIDATION_SCENARIOS["pair affinity, no effect (ratio 1)"], "timing": True}}
    results = inference.run_validation(6, scenarios, first_seed=900, processes=2)
    summary = inference.summarise_validation(results).set_index(["estimator", "interval"])
    two_way = inference.COVARIANCE_LABELS["two_way"]
    adjusted = summary.loc[("adjusted (fixed effects)", two_way)]
    assert adjusted["mean_estimate"] > 1.5 and adjusted["rejects_1"] >= 0.8  # wrong, and confidently so
    assert summary.loc[(inference.PAIR_CONTROLLED_ESTIMATOR, two_way), "mean_estimate"] > 1.5  # the observed part is not enough
    event = summary.loc[(inference.EVENT_STUDY, two_way)]
    assert abs(event["bias"]) < abs(adjusted["bias"]) / 2  # same pairs before and after: the affinity cancels


def test_effective_clusters_follow_carter_schnepel_steigerwald():
    """G* = G / (1 + CV^2 of the clusters' squared influence sums): G for equal clusters, near 1 for one dominant one."""
    from reciprocity_utils.inference.covariance import effective_clusters

    groups = np.repeat(np.arange(20), 5)
    assert effective_clusters(np.full(100, 0.1), groups) == pytest.approx(20.0)
    dominant = np.where(groups == 0, 10.0, 0.01)
    assert effective_clusters(dominant, groups) < 1.1
    # The formula written out on uneven clusters.
    rng = np.random.default_rng(3)
    influence, groups = rng.gamma(0.5, size=300), rng.integers(0, 30, 300)
    gamma = np.bincount(groups, weights=influence) ** 2
    expected = 30 / (1 + np.mean((gamma - gamma.mean()) ** 2) / gamma.mean() ** 2)
    assert effective_clusters(influence, groups) == pytest.approx(expected, rel=1e-12)


def test_clustered_intervals_use_t_with_the_effective_clusters_and_the_model_based_one_stays_normal():
    """The two-way interval of a fit is the estimate +- t(G* - 1) x its standard error; G* - 1 is the smaller side's."""
    from scipy import stats

    network = generate_network(n_accounts=120, seed=5)
    dyads = build_dyads(network_dataset(network))
    fit = fit_model(model_frame(dyads), ModelSpec("adjusted", fixed_effects=True))
    estimate = fit.mutual
    dof = estimate.degrees_of_freedom
    assert "model" not in dof and "robust" not in dof
    assert dof["two_way"] == pytest.approx(min(dof["cluster_a"], dof["cluster_b"]))
    assert 1 <= dof["two_way"] < fit.n_accounts_b  # fewer effective clusters than accounts
    low, high = estimate.interval("two_way")
    critical = stats.t.ppf(0.975, dof["two_way"])
    assert math.log(high) - estimate.log_value == pytest.approx(critical * estimate.standard_errors["two_way"], rel=1e-12)
    assert estimate.p_value("two_way") == pytest.approx(
        2 * stats.t.sf(abs(estimate.log_value) / estimate.standard_errors["two_way"], dof["two_way"])
    )
    low, high = estimate.interval("model")
    assert math.log(high) - estimate.log_value == pytest.approx(stats.norm.ppf(0.975) * estimate.standard_errors["model"], rel=1e-12)


def test_shared_followees_count_the_accounts_both_follow_and_never_the_pair_itself():
    """Checked against sets: a follows b (and b may follow a back), neither counts as a common followee."""
    rng = np.random.default_rng(8)
    n = 40
    pairs = {(int(x), int(y)) for x, y in rng.integers(0, n, (400, 2)) if x != y}
    follower, followee = (np.array(v) for v in zip(*sorted(pairs)))
    counts = inference.shared_followees(follower, followee, n)
    out = {k: {y for x, y in pairs if x == k} for k in range(n)}
    expected = [len(out[x] & out[y]) for x, y in zip(follower, followee)]
    assert counts.tolist() == expected
    assert all(y not in out[y] and x not in out[x] for x, y in pairs)  # no self-follows, so the pair is left out
    # A follow-back does not change its own control.
    mutual = inference.shared_followees(np.array([0, 1, 0, 1]), np.array([1, 0, 2, 2]), 3)
    one_way = inference.shared_followees(np.array([0, 0, 1]), np.array([1, 2, 2]), 3)
    assert mutual[0] == one_way[0] == 1
