"""The two-camps test of study 02: fits of the single-peaked nulls, a p-value calibrated for k/n rates, its size and power, and its words."""

from __future__ import annotations

import ast
import math
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import needs_shared_data

from reciprocity_utils import SAMPLE_DIR, camps, io, load_dataset, metrics, plots
from reciprocity_utils.camps_validation import Scenario, replicate, scenarios_for

NETWORKS = ("football", "rugby", "olympics")
PLANTED_CAMPS = Scenario("camps", False, ((0.5, "beta", (1.0, 19.0)), (0.5, "beta", (18.0, 2.0))))


def behaviour_from_counts(successes: np.ndarray, trials: np.ndarray, kinds: list[str | None] | None = None) -> metrics.AccountBehaviour:
    successes, trials = np.asarray(successes), np.asarray(trials)
    table = pd.DataFrame(
        {
            "account_id": [str(i) for i in range(len(trials))],
            "kind": pd.array(kinds or [None] * len(trials), dtype="string"),
            "followers": trials,
            "following": trials,
            "mutual": successes,
            "follow_back_rate": successes / trials,
            "followed_back_rate": successes / trials,
            "follower_following_ratio": 1.0,
        }
    )
    return metrics.AccountBehaviour(table, True)


def simulated(scenario: Scenario, trials: np.ndarray, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return rng.binomial(trials, scenario.probabilities(rng, len(trials)))


def real_counts(network: str) -> tuple[np.ndarray, np.ndarray]:
    folder = needs_shared_data("networks", "ucd-twitter-multiview", network)
    dataset, _ = io.load_paths([folder])
    return camps.eligible_counts(metrics.account_behaviour(dataset), min_followers=5)


def followers(accounts: int, seed: int = 0) -> np.ndarray:
    """Follower counts like the UCD networks': 5 to about 120, most near 15."""
    return np.minimum(5 + np.random.default_rng(seed).geometric(1 / 12, accounts), 120)


# ---------------------------------------------------------------------------------------------
# The null fits


def test_beta_fit_recovers_planted_parameters():
    n = followers(3000)
    k = simulated(Scenario("beta", True, ((1.0, "beta", (2.0, 5.0)),)), n, seed=1)
    fit = camps.fit_unimodal_beta_binomial(k, n)
    assert fit.family == "beta" and not fit.constrained
    assert fit.parameters[0] == pytest.approx(2.0, rel=0.15) and fit.parameters[1] == pytest.approx(5.0, rel=0.15)


def test_a_u_shaped_beta_is_refitted_on_the_single_peak_border():
    n = followers(2000)
    k = simulated(Scenario("U", True, ((1.0, "beta", (0.4, 0.5)),)), n, seed=2)
    fit = camps.fit_unimodal_beta_binomial(k, n)
    assert fit.constrained and 1.0 in fit.parameters and max(fit.parameters) >= 1


def test_logit_normal_fit_recovers_planted_parameters_and_stays_single_peaked():
    n = followers(3000)
    fit = camps.fit_unimodal_logit_normal_binomial(simulated(Scenario("ln", True, ((1.0, "logit-normal", (1.0, 0.8)),)), n, 3), n)
    assert fit.parameters == pytest.approx((1.0, 0.8), abs=0.1) and not fit.constrained
    wide = camps.fit_unimodal_logit_normal_binomial(simulated(Scenario("ln", True, ((1.0, "logit-normal", (0.0, 3.0)),)), n, 4), n)
    assert wide.constrained and wide.parameters[1] == pytest.approx(np.sqrt(2))


def test_both_likelihoods_are_of_the_same_counts():
    # Comparable log-likelihoods: each includes log C(n, k); a logit-normal with a tiny sigma is a binomial.
    k, n = np.array([3, 5, 7, 4]), np.array([10, 10, 10, 10])
    fit = camps.fit_unimodal_logit_normal_binomial(k, n)
    binomial = sum(math.log(math.comb(10, int(x))) for x in k) + k.sum() * np.log(0.475) + (n - k).sum() * np.log(0.525)
    assert fit.log_likelihood == pytest.approx(binomial, abs=0.05)


def test_impossible_counts_are_refused():
    with pytest.raises(ValueError, match="followed back"):
        camps.fit_unimodal_beta_binomial(np.array([3, 6]), np.array([5, 5]))
    with pytest.raises(ValueError, match="at least 4 accounts"):
        camps.calibrated_dip_test(np.array([1, 2, 3]), np.array([5, 5, 5]))


# ---------------------------------------------------------------------------------------------
# Determinism


def test_the_p_value_depends_on_counts_and_seed_only():
    n = followers(150)
    k = simulated(PLANTED_CAMPS, n, seed=5)
    first = camps.calibrated_dip_test(k, n, draws=99, seed=11)
    assert camps.calibrated_dip_test(k, n, draws=99, seed=11) == first
    order = np.random.default_rng(0).permutation(len(n))
    assert camps.calibrated_dip_test(k[order], n[order], draws=99, seed=11).p_values == first.p_values
    assert 1 / 100 <= first.calibrated_p <= 1 and first.calibrated_p == max(first.p_values.values())
    assert set(first.p_values) == {"beta", "logit-normal"}


def test_simulation_does_not_depend_on_block_size():
    fit = camps.NullFit("beta", (2.0, 1.0), 0.0, False)
    n = followers(50)
    whole = np.concatenate(list(camps.simulate_successes(n, fit, 23, seed=7)))
    blocks = list(camps.simulate_successes(n, fit, 23, seed=7, chunk_rows=5))
    assert len(blocks) == 5 and np.array_equal(np.concatenate(blocks), whole)
    assert whole.shape == (23, 50) and (whole <= n).all()


def test_equal_rates_give_p_one_without_simulating():
    test = camps.calibrated_dip_test(np.array([5, 5, 5, 5, 5]), np.array([10, 10, 10, 10, 10]), draws=99)
    assert test.calibrated_p == 1.0 and test.fits == ()


# ---------------------------------------------------------------------------------------------
# Size and power


@pytest.mark.shared_data
def test_size_under_single_peaks_built_from_real_follower_counts():
    """Under the fitted beta and logit-normal of each network, the calibrated test rejects about 5% of the time, the naive one far more."""
    calibrated, naive, runs = 0, 0, 0
    for network in NETWORKS:
        k, n = real_counts(network)
        for scenario in scenarios_for(k, n)[:2]:  # the fitted beta and logit-normal
            for seed in range(15):
                outcome = replicate(n, scenario, seed=1_000 + seed, draws=99)
                calibrated += outcome["calibrated_rejects"]
                naive += outcome["naive_rejects"]
                runs += 1
    # 90 replications: about 4.5 rejections expected at most (the larger of two p-values is conservative).
    assert calibrated <= 9, f"calibrated test rejected {calibrated} of {runs} single-peaked networks"
    assert naive >= 0.3 * runs, f"the naive dip test rejected only {naive} of {runs}; it is known to reject 35-95%"


def test_power_against_planted_camps():
    n = followers(250, seed=8)
    outcomes = [replicate(n, PLANTED_CAMPS, seed=seed, draws=99) for seed in range(12)]
    assert all(o["calibrated_rejects"] for o in outcomes) and all(o["two_camps_said"] for o in outcomes)


# ---------------------------------------------------------------------------------------------
# The real networks' figures (deterministic: seed 0, 9,999 draws per null)


@pytest.mark.shared_data
@pytest.mark.parametrize(
    ("network", "p", "p_beta", "naive_p", "conclusion"),
    [
        ("football", 0.0705, 0.0360, 0.0025, "no evidence of two camps"),
        ("rugby", 0.0302, 0.0009, 0.0003, "fits neither single-peaked model, not two camps"),
        ("olympics", 0.7943, 0.7943, 0.0652, "no evidence of two camps"),
    ],
)
def test_calibrated_figures_of_the_ucd_networks(network, p, p_beta, naive_p, conclusion):
    folder = needs_shared_data("networks", "ucd-twitter-multiview", network)
    dataset, _ = io.load_paths([folder])
    result = metrics.two_camps(metrics.account_behaviour(dataset), min_followers=5, seed=0)
    overall = result.overall()
    assert overall["calibrated_p"] == pytest.approx(p, abs=1e-9) and overall["p_beta_null"] == pytest.approx(p_beta, abs=1e-9)
    assert round(overall["naive_dip_p"], 4) == naive_p and overall["verdict"] == conclusion
    assert overall["naive_rejection_share"] > 0.4  # the dip table rejects most single-peaked draws with these follower counts


# ---------------------------------------------------------------------------------------------
# Words


def assert_plain(text: str) -> None:
    assert text and not re.search(r"\bnan\b|\bNone\b|\w+_\w+", text), text
    assert "single-peaked distribution" not in text


def test_words_say_two_camps_only_when_the_test_rejects_and_both_ends_are_camps():
    n = followers(250, seed=9)
    planted = metrics.two_camps(behaviour_from_counts(simulated(PLANTED_CAMPS, n, 10), n), draws=199)
    assert planted.overall()["verdict"] == "two camps"
    text = metrics.in_words(planted)
    assert_plain(text)
    assert "The accounts split into two camps" in text and "at least 10% of the accounts and at least 10 accounts" in text

    single = Scenario("one peak", True, ((1.0, "beta", (5.0, 2.0)),))
    one_peak = metrics.two_camps(behaviour_from_counts(simulated(single, n, 11), n), draws=199)
    text = metrics.in_words(one_peak)
    assert_plain(text)
    assert one_peak.overall()["verdict"] == "no evidence of two camps"
    assert "No evidence of two camps at this sample size" in text and "does not show that the rates have a single peak" in text
    assert "split into two camps" not in text

    # A clear second peak of 8% of accounts near 0%: rejected, but fewer than 10% is not a camp.
    n = np.full(1000, 40)
    tail = Scenario("tail", False, ((0.92, "beta", (10.0, 4.0)), (0.08, "beta", (1.0, 60.0))))
    thin = metrics.two_camps(behaviour_from_counts(simulated(tail, n, 12), n), draws=199)
    overall = thin.overall()
    assert overall["calibrated_p"] <= 0.05 and overall["verdict"] == "fits neither single-peaked model, not two camps"
    text = metrics.in_words(thin)
    assert_plain(text)
    assert "do not split into two camps: only" in text and "follow back fewer than 20%" in text


def test_the_naive_p_is_named_only_to_say_it_is_not_valid():
    n = followers(233, seed=13)
    k = simulated(Scenario("J", True, ((1.0, "beta", (2.0, 0.95)),)), n, 14)
    result = metrics.two_camps(behaviour_from_counts(k, n), draws=199)
    overall = result.overall()
    text = metrics.in_words(result)
    disagree = (overall["naive_dip_p"] <= 0.05) != (overall["calibrated_p"] <= 0.05)
    assert ("Hartigan's dip test read from its published table" in text) == disagree
    if disagree:
        assert "is not valid for fractions of follower counts" in text


@pytest.mark.parametrize(
    ("p", "below", "above", "accounts", "expected"),
    [
        (0.01, 10, 10, 100, "two camps"),
        (0.05, 10, 90, 100, "two camps"),
        (0.01, 9, 91, 100, "fits neither single-peaked model, not two camps"),  # too few accounts at one end
        (0.01, 10, 300, 400, "fits neither single-peaked model, not two camps"),  # 10 accounts but 2.5% of 400
        (0.0501, 40, 40, 100, "no evidence of two camps"),
        (float("nan"), 2, 1, 3, "not tested"),
    ],
)
def test_verdict(p, below, above, accounts, expected):
    assert camps.verdict({"calibrated_p": p, "accounts_below": below, "accounts_above": above, "accounts": accounts}) == expected


# ---------------------------------------------------------------------------------------------
# What study 02 records, and where the module sits


def test_the_headline_records_the_calibrated_p_and_the_index_labels_it():
    dataset = load_dataset(SAMPLE_DIR)
    behaviour = metrics.account_behaviour(dataset)
    result = metrics.two_camps(behaviour, draws=199, seed=3)
    headline = metrics.headline_numbers(
        metrics.reciprocity(dataset),
        metrics.null_model(dataset, n_networks=0),
        result,
        metrics.followback_timing(dataset),
        metrics.engagement_reciprocity(dataset),
    )
    assert headline["bimodality_p"] == result.overall()["calibrated_p"] != result.overall()["naive_dip_p"]
    assert plots.format_label("bimodality_p") == "two-camps test p (calibrated)"
    assert "two-camps test p (calibrated)" in plots.table_html({"bimodality_p": 0.5})
    details = metrics.detail_numbers(
        metrics.reciprocity(dataset),
        metrics.null_model(dataset, n_networks=0),
        behaviour,
        result,
        metrics.followback_timing(dataset),
        metrics.engagement_reciprocity(dataset),
        metrics.ego_lists(dataset, str),
    )
    assert details["two_camps"]["bootstrap_draws"] == 199 and details["two_camps"]["min_camp_share"] == 0.1
    assert list(result.readable().columns)[-2:] == ["calibrated p", "conclusion"]


def test_camps_imports_nothing_from_the_package_at_run_time():
    tree = ast.parse(Path(camps.__file__).read_text(encoding="utf-8"))
    type_checking = [node for node in ast.walk(tree) if isinstance(node, ast.If) and getattr(node.test, "id", "") == "TYPE_CHECKING"]
    guarded = {id(child) for block in type_checking for child in ast.walk(block)}
    # wording.py imports nothing itself, so it cannot make a cycle.
    relative = [
        node
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom) and node.level and id(node) not in guarded and node.module != "wording"
    ]
    assert not relative, "camps.py must not import the package (metrics imports it)"
    assert metrics.two_camps is camps.two_camps and metrics.TwoCamps is camps.TwoCamps
