"""The strategy simulator and replay: invariants, limits that must hold, policies, calibration, real exports."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pandas as pd
import pytest
from conftest import needs_shared_data
from scipy import stats

from reciprocity_utils import ParameterError, RawTable, build_dataset, record_results
from reciprocity_utils import strategies as st
from reciprocity_utils.model import Coverage

SMALL = st.Scenario(name="small", horizon_days=60, n_initial_followers=40, n_new_followers=40, attention_budget=20.0)
COUNTS = (
    "followers",
    "followees",
    "timeline_volume",
    "posts_read",
    "signal_read",
    "spam_read",
    "two_way_relationships",
    "engagement_received",
    "engagement_given",
)


def run(policy, scenario=SMALL, replications=6, seed=3):
    return st.simulate(policy, scenario, replications=replications, seed=seed)


# ---------------------------------------------------------------------------------------------
# Invariants


@pytest.mark.parametrize("policy", st.standard_policies(60), ids=lambda p: p.name)
def test_no_negative_counts_and_shares_stay_shares(policy):
    result = run(policy)
    for name in COUNTS:
        assert (result.daily[name] >= 0).all(), name
    assert ((result.daily["signal_share"] >= 0) & (result.daily["signal_share"] <= 1 + 1e-6)).all()
    # The owner never reads more than its budget, nor more than its timeline holds.
    assert (result.daily["posts_read"] <= SMALL.attention_budget + 1e-3).all()
    assert (result.daily["posts_read"] <= result.daily["timeline_volume"] + 1e-3).all()
    assert (result.daily["signal_read"] <= result.daily["posts_read"] + 1e-3).all()
    assert (result.daily["followers"] <= SMALL.n_candidates).all()
    assert (result.daily["followees"] <= SMALL.n_candidates).all()


def test_followers_and_followees_are_consistent():
    everyone = run(st.follow_everyone())
    # Without churn among followed-back accounts, following everyone means followees == followers every day.
    np.testing.assert_array_equal(everyone.daily["followees"], everyone.daily["followers"])
    # Day 0 holds exactly the initial audience.
    assert (everyone.daily["followers"][:, 0] == SMALL.n_initial_followers).all()
    # Without churn every candidate has arrived by the last day.
    no_churn = dataclasses.replace(SMALL, churn_hazard=0.0)
    nobody = run(st.follow_no_one(), no_churn)
    assert (nobody.daily["followers"][:, -1] == SMALL.n_candidates).all()
    assert (np.diff(nobody.daily["followers"], axis=1) >= 0).all()


def test_same_seed_same_result_and_another_seed_differs():
    policy = st.standard_policies(60)[4]
    first, second, other = run(policy, seed=11), run(policy, seed=11), run(policy, seed=12)
    for name in first.daily:
        np.testing.assert_array_equal(first.daily[name], second.daily[name])
    assert not np.array_equal(first.daily["engagement_received"], other.daily["engagement_received"])


def test_a_policy_that_follows_no_one_keeps_zero_followees():
    result = run(st.follow_no_one())
    assert (result.daily["followees"] == 0).all()
    assert (result.daily["timeline_volume"] == 0).all()
    assert (result.daily["posts_read"] == 0).all()
    assert (result.daily["signal_share"] == 0).all()


def test_churn_of_one_empties_the_audience_of_a_policy_that_follows_no_one():
    result = run(st.follow_no_one(), dataclasses.replace(SMALL, churn_hazard=1.0))
    assert (result.daily["followers"] == 0).all()


# ---------------------------------------------------------------------------------------------
# Limits that must hold


def test_with_unlimited_attention_and_no_noise_cost_following_everyone_never_lowers_engagement_received():
    scenario = dataclasses.replace(SMALL, attention_budget=math.inf, noise_weight=0.0)
    results = st.compare_policies(st.standard_policies(60) + st.score_policies(), scenario, replications=8, seed=5)
    everyone = results["follow everyone"].horizon["engagement_received"]
    for name, result in results.items():
        # Paired by common random numbers: it holds replication by replication, not only on average.
        assert (everyone >= result.horizon["engagement_received"]).all(), name
    assert everyone.mean() > results["follow no one"].horizon["engagement_received"].mean()


def test_with_limited_attention_following_everyone_can_receive_less_than_reading_a_list():
    # The limit above needs unlimited attention: with a tight budget, attention spread thin returns less.
    scenario = dataclasses.replace(SMALL, attention_budget=5.0, n_initial_followers=150, n_new_followers=150, horizon_days=120)
    results = st.compare_policies([st.follow_everyone(), st.read_only_list(size=20)], scenario, replications=8, seed=2)
    assert (
        results["follow everyone, read list of 20"].horizon["engagement_received"].mean()
        > results["follow everyone"].horizon["engagement_received"].mean()
    )


def test_with_zero_churn_and_a_small_budget_the_selective_policy_has_the_higher_signal_share():
    scenario = dataclasses.replace(SMALL, churn_hazard=0.0, attention_budget=10.0, horizon_days=120)
    results = st.compare_policies([st.follow_everyone(), st.selective()], scenario, replications=10, seed=7)
    difference = st.paired_difference(results, "signal_share", "selective (engagement received >= 2)", "follow everyone")
    assert difference["ci_low"] > 0


def test_following_everyone_keeps_every_follower_while_selectivity_loses_some_to_churn():
    results = st.compare_policies([st.follow_everyone(), st.selective()], SMALL, replications=6, seed=1)
    assert (results["follow everyone"].horizon["followers_share"] == 1).all()
    assert results["selective (engagement received >= 2)"].horizon["followers_share"].mean() < 1


# ---------------------------------------------------------------------------------------------
# Policies


def test_pruning_that_never_triggers_changes_nothing_and_pruning_that_does_cuts_followees():
    everyone = run(st.follow_everyone())
    never = run(st.with_pruning(st.follow_everyone(), inactive_days=1000))
    for name in everyone.daily:
        np.testing.assert_array_equal(everyone.daily[name], never.daily[name])
    pruned = run(st.with_pruning(st.follow_everyone(), inactive_days=10, every_days=5))
    assert pruned.daily["followees"][:, -1].mean() < everyone.daily["followees"][:, -1].mean()
    # Once pruned, an account is not followed back again: with no new followers, followees never grow.
    closed = dataclasses.replace(SMALL, n_new_followers=0)
    alone = run(st.with_pruning(st.follow_everyone(), inactive_days=10, every_days=5), closed)
    assert (np.diff(alone.daily["followees"], axis=1) <= 0).all()
    assert (alone.daily["followees"][:, -1] < closed.n_candidates).all()


def test_a_reading_list_covering_everyone_reads_like_following_everyone():
    everyone = run(st.follow_everyone())
    # Refreshed daily, a list with room for everyone holds every followee (a weekly list lags behind new follows).
    whole_list = run(st.read_only_list(size=SMALL.n_candidates, every_days=1))
    for name in everyone.daily:
        np.testing.assert_allclose(everyone.daily[name], whole_list.daily[name], rtol=1e-6, atol=1e-4)
    short = run(st.read_only_list(size=5))
    assert (short.daily["followees"] == everyone.daily["followees"]).all()  # reading a list does not unfollow
    assert (short.daily["posts_read"] <= short.daily["timeline_volume"]).all()


def test_a_reset_keeps_at_most_the_chosen_few_and_then_follows_back_no_one():
    policy = st.great_unfollow(day=20, keep=7, then=st.FollowBack("no_one"))
    result = run(policy)
    assert (result.daily["followees"][:, 20:] <= 7).all()
    assert (np.diff(result.daily["followees"][:, 20:], axis=1) == 0).all()
    assert (result.daily["followees"][:, 19] > 7).all()


def test_selective_by_a_static_score_follows_back_exactly_the_accounts_above_the_threshold():
    everyone = run(st.follow_everyone())
    ratio = run(st.selective("follower_ratio", 0.0))  # every ratio is positive: same as following everyone
    np.testing.assert_array_equal(everyone.daily["followees"], ratio.daily["followees"])
    impossible = run(st.selective("not_spam", 2.0))
    assert (impossible.daily["followees"] == 0).all()


def test_policy_descriptions_say_what_the_policy_does():
    sentence = st.great_unfollow(day=30, keep=50).describe()
    assert "day 30" in sentence and "50" in sentence and "unfollow everyone" in sentence
    assert "prune" not in st.follow_everyone().describe().lower()
    assert "60 days" in st.with_pruning(st.follow_everyone(), 60).describe()
    table = st.policy_table(st.standard_policies())
    assert list(table["policy"]) == [p.name for p in st.standard_policies()]


@pytest.mark.parametrize(
    "build, message",
    [
        (lambda: st.FollowBack("sometimes"), "follow-back rule"),
        (lambda: st.FollowBack("score", None, 1.0), "score must be one of"),
        (lambda: st.FollowBack("score", "charisma", 1.0), "charisma"),
        (lambda: st.FollowBack("everyone", "activity"), "takes no score"),
        (lambda: st.Prune(inactive_days=0), "inactive_days"),
        (lambda: st.ReadingList(size=-1), "size"),
        (lambda: st.Reset(day=-1), "reset day"),
        (lambda: st.Policy(""), "non-empty name"),
        (lambda: st.Policy("x", follow_back="everyone"), "FollowBack"),
        (lambda: st.Scenario(attention_budget=-1.0), "attention_budget"),
        (lambda: st.Scenario(churn_hazard=1.5), "churn_hazard"),
        (lambda: st.Scenario(n_initial_followers=0, n_new_followers=0), "at least one follower"),
        (lambda: st.Scenario(horizon_days=1), "horizon_days"),
        (lambda: st.Scenario(mutual_rate_ratio=0.0), "mutual_rate_ratio"),
        (lambda: st.preset("celebrity"), "brand, person"),
        (lambda: st.preset("person", budget=3), "unknown scenario field"),
        (lambda: st.simulate(st.follow_everyone(), SMALL, replications=0), "replications"),
        (lambda: st.compare_policies([st.follow_everyone(), st.follow_everyone()], SMALL), "distinct"),
    ],
)
def test_bad_definitions_fail_with_a_message_naming_the_problem(build, message):
    with pytest.raises(st.StrategyError, match=message):
        build()


def test_study_parameters_are_checked_with_clear_errors():
    good = dict(
        replications=12,
        grid_replications=6,
        grid_size=5,
        horizon_days=365,
        churn_hazard=0.00257,
        mutual_rate_ratio=2.0,
        earlier_snapshot_path="",
        interactive=False,
    )
    st.check_study_parameters(**good)
    for name, value, words in [
        ("replications", 1, "replications"),
        ("grid_size", 50, "grid_size"),
        ("churn_hazard", -0.1, "churn_hazard"),
        ("mutual_rate_ratio", 0, "mutual_rate_ratio"),
        ("interactive", "yes", "True or False"),
        ("earlier_snapshot_path", None, "earlier_snapshot_path"),
    ]:
        with pytest.raises(ParameterError, match=words):
            st.check_study_parameters(**{**good, name: value})


# ---------------------------------------------------------------------------------------------
# Summaries, utility, sensitivity


def test_interval_is_the_student_t_interval_of_the_mean_clipped_to_the_range():
    values = np.array([1.0, 2.0, 4.0, 7.0])
    summary = st.interval(values)
    half = stats.t.ppf(0.975, 3) * values.std(ddof=1) / 2
    assert summary["mean"] == pytest.approx(3.5)
    assert summary["ci_low"] == pytest.approx(3.5 - half) and summary["ci_high"] == pytest.approx(3.5 + half)
    clipped = st.interval(np.array([0.0, 0.0, 0.0, 3.0]), *st.measure_bounds("spam_read"))
    assert clipped["ci_low"] == 0.0
    assert math.isnan(st.interval(np.array([2.0]))["ci_low"])


def test_utility_is_the_stated_formula():
    result = run(st.follow_everyone())
    h = result.horizon
    expected = SMALL.reach_weight * h["followers"] + SMALL.signal_weight * h["signal_read"] - SMALL.noise_weight * h["noise_read"]
    np.testing.assert_allclose(h["utility"], expected)
    np.testing.assert_allclose(h["signal_read"] + h["noise_read"], h["posts_read"], rtol=1e-6)


def test_each_cell_of_the_vectorised_sensitivity_grid_equals_its_own_simulation():
    budgets, hazards = [5.0, 50.0], [0.0, 0.02]
    policies = [st.follow_everyone(), st.selective()]
    grid = st.sensitivity(policies, SMALL, budgets, hazards, replications=4, seed=9)
    for policy in policies:
        for budget in budgets:
            for hazard in hazards:
                alone = st.simulate(
                    policy, dataclasses.replace(SMALL, attention_budget=budget, churn_hazard=hazard), replications=4, seed=9
                )
                cell = grid.frame.query("policy == @policy.name and attention_budget == @budget and churn_hazard == @hazard")
                np.testing.assert_allclose(cell["followers"].to_numpy(), alone.horizon["followers"])
                np.testing.assert_allclose(cell["signal_read"].to_numpy(), alone.horizon["signal_read"], rtol=1e-9)


def test_a_win_is_clear_only_when_the_paired_interval_excludes_zero():
    rows = []
    for replication in range(5):
        for policy, followers in (("a", 10.0 + replication), ("b", 9.0 + replication), ("c", 9.0 + (-1) ** replication)):
            rows.append(
                {
                    "policy": policy,
                    "attention_budget": 1.0,
                    "churn_hazard": 0.0,
                    "replication": replication,
                    "followers": followers,
                    "signal_read": 0.0,
                    "noise_read": 0.0,
                }
            )
    result = st.SensitivityResult(pd.DataFrame(rows), [1.0], [0.0], SMALL)
    winners = result.winners(1.0, 0.0, 0.0)
    assert winners.loc[0, "winner"] == "a" and winners.loc[0, "runner_up"] in {"b", "c"} and winners.loc[0, "clear"]
    # b against c: equal means and a difference that swings both ways.
    close = result.winners(1.0, 0.0, 0.0, policies=["b", "c"])
    assert not close.loc[0, "clear"]
    with pytest.raises(st.StrategyError, match="not simulated"):
        result.winners(1.0, 0.0, 0.0, policies=["z"])


def test_default_grid_spans_scarce_to_plentiful_attention_and_no_to_fast_churn():
    budgets, hazards = st.default_grid(4, 0.001)
    assert budgets[0] == 10 and budgets[-1] == 3000 and len(budgets) == 4
    assert hazards[0] == 0 and hazards[-1] == pytest.approx(0.004)


def test_literature_hazard_converts_kwak_chun_and_moon():
    assert (1 - st.literature_churn_hazard()) ** 51 == pytest.approx(1 - 0.1228)
    assert st.Scenario().churn_hazard == st.literature_churn_hazard()


# ---------------------------------------------------------------------------------------------
# Calibration from study 03


def test_the_rate_ratio_says_its_case_effect_association_or_default(tmp_path):
    calibration = st.calibrate_rate_ratio(tmp_path, 2.0)
    assert (calibration.case, calibration.point) == ("default", 2.0) and "not been run" in calibration.source
    interval = {"adjusted_irr": 1.37, "adjusted_irr_ci_low": 1.1, "adjusted_irr_ci_high": 1.7}
    record_results(tmp_path, "03-followback-engagement", headline=interval, details={"timing": {"verdict": "inconclusive"}})
    calibration = st.calibrate_rate_ratio(tmp_path, 2.0)
    assert (calibration.case, calibration.point, calibration.low, calibration.high) == ("association", 1.37, 1.1, 1.7)
    assert "an association" in calibration.source and "timing design does not support" in calibration.source
    record_results(tmp_path, "03-followback-engagement", headline=interval, details={})
    assert "no times" in st.calibrate_rate_ratio(tmp_path, 2.0).source
    record_results(tmp_path, "03-followback-engagement", headline=interval, details={"timing": {"verdict": "supports a causal reading"}})
    assert st.calibrate_rate_ratio(tmp_path, 2.0).case == "effect"
    record_results(tmp_path, "03-followback-engagement", headline={"adjusted_irr": None})
    calibration = st.calibrate_rate_ratio(tmp_path, 2.5)
    assert (calibration.case, calibration.point) == ("default", 2.5) and "could not estimate" in calibration.source


def test_each_replication_draws_its_multiplier_from_the_calibrated_range():
    rng = np.random.default_rng(3)
    fixed = st.Scenario(mutual_rate_ratio=2.0)
    assert set(fixed.rate_ratios(50, rng)) == {np.float32(2.0)}
    effect = st.Scenario(mutual_rate_ratio=2.0, rate_ratio_low=1.5, rate_ratio_high=2.667)
    draws = effect.rate_ratios(20_000, rng)
    # The draws reproduce the 95% interval they came from.
    assert np.quantile(draws, [0.025, 0.5, 0.975]) == pytest.approx([1.5, 2.0, 2.667], rel=0.03)
    association = st.Scenario(mutual_rate_ratio=2.0, rate_ratio_low=1.5, rate_ratio_high=2.667, rate_ratio_from_one=True)
    draws = association.rate_ratios(20_000, rng)
    assert draws.min() >= 1.0 and np.median(draws) == pytest.approx(2.0**0.5, rel=0.05)
    with pytest.raises(st.StrategyError, match="give both or neither"):
        st.Scenario(rate_ratio_low=1.5)
    with pytest.raises(st.StrategyError, match="must hold the multiplier"):
        st.Scenario(mutual_rate_ratio=3.0, rate_ratio_low=1.5, rate_ratio_high=2.5)


def test_runs_repeat_with_their_seed_and_an_interval_on_the_multiplier_widens_them():
    policies = [st.follow_everyone(), st.selective()]
    small = dict(horizon_days=60, n_initial_followers=40, n_new_followers=40)
    fixed = st.compare_policies(policies, st.preset("person", **small), replications=30, seed=5)
    again = st.compare_policies(policies, st.preset("person", **small), replications=30, seed=5)
    assert np.array_equal(fixed["follow everyone"].horizon["utility"], again["follow everyone"].horizon["utility"])
    spread = st.compare_policies(policies, st.preset("person", **small, rate_ratio_low=1.0, rate_ratio_high=4.0), replications=30, seed=5)
    received = [r["follow everyone"].horizon["engagement_received"].std() for r in (fixed, spread)]
    assert received[1] > received[0]


# ---------------------------------------------------------------------------------------------
# Replay on hand-made data

OWNER = "1000000000000000001"


def ego_dataset(follows, interactions, engagement="owner_outgoing", accounts=None, scope="ego"):
    follow_frame = pd.DataFrame(follows, columns=["follower_id", "followee_id"]).astype(str)
    events = pd.DataFrame(interactions, columns=["actor_id", "target_id", "kind", "at"]).astype(str)
    account_rows = accounts or [{"account_id": OWNER, "is_owner": "true"}]
    return build_dataset(
        RawTable(follow_frame, "follows.csv", 2),
        RawTable(events, "interactions.csv", 2),
        RawTable(pd.DataFrame(account_rows).astype(str), "accounts.csv", 2),
        coverage=Coverage(scope=scope, engagement_observed=engagement),
    )


def hand_made():
    a, b, c, d, e = (f"20000000000000000{i}" for i in range(10, 15))
    follows = [(x, OWNER) for x in (a, b, c, d, e)] + [(OWNER, a), (OWNER, b)]
    interactions = [
        (OWNER, a, "reply", "2024-01-10T00:00:00Z"),
        (OWNER, a, "like", "2024-01-12T00:00:00Z"),  # before: a twice
        (OWNER, c, "mention", "2024-01-20T00:00:00Z"),  # before: c once
        (OWNER, a, "reply", "2024-03-10T00:00:00Z"),  # after: a, d
        (OWNER, d, "reply", "2024-03-20T00:00:00Z"),
        (OWNER, "30000000000000000001", "reply", "2024-03-30T00:00:00Z"),  # a non-follower: not a candidate
    ]
    return (a, b, c, d, e), ego_dataset(follows, interactions)


def test_replay_scores_policies_against_later_engagement_by_hand():
    (a, b, c, d, e), dataset = hand_made()
    policies = [
        st.follow_everyone(),
        st.follow_no_one(),
        st.selective(threshold=2.0),
        st.selective(threshold=1.0, name="engaged once"),
        st.read_only_list(size=1),
    ]
    replay = st.replay_policies(dataset, policies, cutoff="2024-02-01")
    table = replay.table.set_index("policy")
    assert replay.scores_available == ["engagement_given"]
    assert set(replay.candidates.loc[replay.candidates["valued"], "account_id"]) == {a, d}
    # Everyone: 5 read, 2 valued among them.
    assert table.loc["follow everyone", ["read", "valued_read"]].tolist() == [5, 2]
    assert table.loc["follow everyone", "precision"] == pytest.approx(2 / 5) and table.loc["follow everyone", "recall"] == 1
    # The owner followed back a and b: a was valued.
    assert table.loc["as the owner did", "precision"] == pytest.approx(1 / 2) and table.loc["as the owner did", "recall"] == pytest.approx(
        1 / 2
    )
    # Engagement received is not observed in an ego export: the owner's own past engagement stands in (a: 2, c: 1).
    selective = table.loc["selective (engagement received >= 2)"]
    assert selective["followed"] == 1 and selective["precision"] == 1 and selective["recall"] == pytest.approx(1 / 2)
    assert "in place of engagement received" in selective["how"]
    once = table.loc["engaged once"]
    assert once["followed"] == 2 and once["precision"] == pytest.approx(1 / 2)
    # A list of one reads the follower with the most past engagement (a) but follows everyone.
    listed = table.loc["follow everyone, read list of 1"]
    assert listed["followed"] == 5 and listed["read"] == 1 and listed["precision"] == 1
    assert math.isnan(table.loc["follow no one", "precision"]) and table.loc["follow no one", "recall"] == 0
    # Followers not followed back leave at the hazard; followed ones stay.
    keep = math.exp(-st.literature_churn_hazard() * 365)
    assert table.loc["follow no one", "expected_followers_kept"] == pytest.approx(5 * keep)
    assert any("owner's outgoing engagement" in note for note in replay.notes)


def test_replay_pruning_keeps_followers_with_recent_engagement_only():
    (a, b, c, d, e), dataset = hand_made()
    replay = st.replay_policies(dataset, [st.with_pruning(st.follow_everyone(), inactive_days=15)], cutoff="2024-02-01")
    chosen = replay.candidates.loc[replay.choices["follow everyone + prune 15d"], "account_id"]
    assert set(chosen) == {c}  # c's engagement on 20 January lies within 15 days of the cutoff, a's does not


def test_replay_splits_at_the_midpoint_and_counts_undated_rows():
    (a, *_), dataset = hand_made()
    replay = st.replay_policies(dataset, [st.follow_everyone()])
    times = dataset.interactions["at"]
    assert replay.cutoff == times.min() + (times.max() - times.min()) / 2
    undated = ego_dataset(
        [(a, OWNER)], [(OWNER, a, "like", ""), (OWNER, a, "reply", "2024-01-01T00:00:00Z"), (OWNER, a, "reply", "2024-02-01T00:00:00Z")]
    )
    notes = st.replay_policies(undated, [st.follow_everyone()]).notes
    assert any(note.startswith("1 engagement rows without a time") for note in notes)


def test_replay_without_followers_or_engagement_says_why():
    dataset = ego_dataset([(OWNER, "2")], [], engagement="none")
    replay = st.replay_policies(dataset, st.standard_policies())
    assert replay.table.empty and any("no engagement" in note for note in replay.notes)


def test_replay_owner_of_a_network_is_the_account_with_most_followers():
    dataset = ego_dataset(
        [("5", "9"), ("6", "9"), ("7", "8"), ("9", "8")], [], engagement="everyone", scope="network", accounts=[{"account_id": "9"}]
    )
    owner, reason = st.choose_replay_owner(dataset)
    assert owner == "8" and "most followers" in reason  # 8 and 9 both have two followers: the smaller id wins
    with pytest.raises(st.StrategyError, match="not an account"):
        st.choose_replay_owner(dataset, "404")


def test_replay_account_table_is_pseudonymised():
    (a, *_), dataset = hand_made()
    replay = st.replay_policies(dataset, st.standard_policies(), cutoff="2024-02-01")
    table = st.replay_account_table(replay, dataset, n=3)
    assert len(table) == 3
    assert table["account"].str.match(r"^acct-[0-9a-f]{10}$").all()
    assert not table.astype(str).apply(lambda column: column.str.contains(a)).any().any()


def test_precision_recall_curves_reach_full_recall_at_the_base_rate():
    (a, *_), dataset = hand_made()
    replay = st.replay_policies(dataset, [st.follow_everyone()], cutoff="2024-02-01")
    curves, summary = st.replay_precision_recall(replay)
    assert summary.loc[0, "base_rate"] == pytest.approx(2 / 5)
    assert curves["recall"].max() == 1


# ---------------------------------------------------------------------------------------------
# Churn observed in data


def snapshot(followers, followees, generated_at):
    follows = [(f, OWNER) for f in followers] + [(OWNER, f) for f in followees]
    dataset = ego_dataset(follows, [])
    dataset.provenance.parameters["generated_at"] = generated_at
    return dataset


def test_churn_from_two_snapshots_by_hand():
    earlier = snapshot(["11", "12", "13", "14", "15"], ["11"], "2024-01-01T00:00:00Z")
    later = snapshot(["11", "12", "16"], [], "2024-04-10T00:00:00Z")  # 13, 14, 15 left; 11 (followed back) stayed
    table = st.churn_from_snapshots(earlier, later).set_index("group")
    one_way = table.loc["not followed back"]
    assert one_way["followers"] == 4 and one_way["lost"] == 3 and one_way["days"] == pytest.approx(100)
    assert one_way["daily_hazard"] == pytest.approx(-math.log(1 - 3 / 4) / 100)
    assert one_way["hazard_ci_low"] < one_way["daily_hazard"] < one_way["hazard_ci_high"]
    assert table.loc["followed back", "lost"] == 0 and table.loc["followed back", "daily_hazard"] == 0
    hazard, sentence, _ = st.choose_churn_hazard(0.002, earlier, later)
    assert hazard == pytest.approx(one_way["daily_hazard"]) and "3 of 4" in sentence
    with pytest.raises(st.StrategyError, match="after the earlier"):
        st.churn_from_snapshots(later, earlier)


def test_churn_from_follow_events_matches_the_two_snapshots():
    earlier = snapshot(["11", "12", "13", "14", "15"], ["11"], "2024-01-01T00:00:00Z")
    later = snapshot(["11", "12", "16"], ["16"], "2024-04-10T00:00:00Z")  # the owner also swapped 11 for 16
    after, before = pd.Timestamp("2024-01-01", tz="UTC"), pd.Timestamp("2024-04-10", tz="UTC")
    later.follow_events = pd.DataFrame(
        {
            "follower_id": ["13", "14", "15", "16", OWNER, OWNER],
            "followee_id": [OWNER, OWNER, OWNER, OWNER, "16", "11"],
            "event": ["unfollow", "unfollow", "unfollow", "follow", "follow", "unfollow"],
            "observed_after": after,
            "observed_before": before,
            "source": "test",
        }
    )
    from_events = st.churn_from_follow_events(later)
    pd.testing.assert_frame_equal(from_events, st.churn_from_snapshots(earlier, later))
    hazard, sentence, _ = st.choose_churn_hazard(0.002, None, later)
    assert "follow events" in sentence and hazard == pytest.approx(-math.log(1 / 4) / 100)
    assert st.churn_from_follow_events(earlier) is None


def test_churn_over_three_snapshots_counts_each_follower_once_and_fits_on_follower_intervals():
    from pathlib import Path

    from reciprocity_utils.io.snapshots import load_snapshots

    taken = {
        "a.js": snapshot(["11", "12", "13"], [], "2024-01-01T00:00:00Z"),
        "b.js": snapshot(["11", "12", "14"], [], "2024-04-10T00:00:00Z"),  # 13 left
        "c.js": snapshot(["11", "14"], [], "2024-07-19T00:00:00Z"),
    }  # 12 left
    combined = load_snapshots(list(taken), loader=lambda path: taken[Path(path).name])
    one_way = st.churn_from_follow_events(combined).set_index("group").loc["not followed back"]
    # Distinct accounts: 11, 12, 13 and 14 were followers at some point, 13 and 12 left.
    assert (one_way["followers"], one_way["lost"], one_way["intervals"]) == (4, 2, 2)
    # The fit sees 3 + 3 follower-intervals of 100 days each and 2 departures.
    assert (one_way["follower_intervals"], one_way["departures"]) == (6, 2)
    assert one_way["daily_hazard"] == pytest.approx(-math.log(1 - 2 / 6) / 100)
    _, sentence, _ = st.choose_churn_hazard(0.002, None, combined)
    assert "2 of 4 followers" in sentence and "2 departures among 6 follower-intervals" in sentence


def test_hazard_fit_pools_intervals_by_maximum_likelihood():
    at_risk, lost, days = np.array([100, 80]), np.array([10, 20]), np.array([30.0, 60.0])
    hazard, low, high = st._hazard_fit(at_risk, lost, days)
    grid = np.linspace(1e-4, 0.02, 20_001)
    loglik = [(lost * np.log(-np.expm1(-h * days)) - (at_risk - lost) * h * days).sum() for h in grid]
    assert hazard == pytest.approx(grid[int(np.argmax(loglik))], abs=2e-6)
    assert low < hazard < high


# ---------------------------------------------------------------------------------------------
# Figures and the explorer


def test_figures_have_captions_and_one_mark_per_policy():
    from reciprocity_utils.plots import strategies as strategy_plots

    policies = st.standard_policies(60)
    results = st.compare_policies(policies, SMALL, replications=3, seed=0)
    frontier = strategy_plots.frontier({"small": results})
    labels = frontier.figure.axes[0].get_legend_handles_labels()[1]
    assert [name for name in labels if name != "trade-off frontier"] == [p.name for p in policies]
    assert frontier.caption.endswith(".")
    trajectories = strategy_plots.trajectories(results, measures=("followers", "signal_share"))
    assert len(trajectories.figure.axes[0].lines) == len(policies)
    grid = st.sensitivity(policies[:3], SMALL, [5.0, 50.0], [0.0, 0.01], replications=3, seed=0)
    assert strategy_plots.sensitivity_map(grid, {"person": SMALL.weights()}, {"all": None}).caption
    assert strategy_plots.scenario_grid(grid, SMALL.weights()).caption
    (a, *_), dataset = hand_made()
    assert strategy_plots.replay_precision_recall(st.replay_policies(dataset, policies, cutoff="2024-02-01")).caption
    import matplotlib.pyplot as plt

    plt.close("all")


def test_the_explorer_builds_without_simulating_and_redraws_on_demand():
    from reciprocity_utils.plots import strategies as strategy_plots

    tiny = dataclasses.replace(SMALL, horizon_days=10)
    box = strategy_plots.strategy_explorer([st.follow_everyone(), st.follow_no_one()], tiny, replications=2)
    sliders = [child for child in box.children if hasattr(child, "value") and not isinstance(child.value, str)]
    assert {s.description for s in sliders} >= {
        "attention budget (posts/day)",
        "churn hazard (per day)",
        "attention a reading list takes (posts/day)",
    }
    sliders[0].value = 15.0  # moving a slider re-simulates without error


# ---------------------------------------------------------------------------------------------
# Real exports (skipped when ../shared/data is absent or the X archive loader has not landed)

ARCHIVE_2021 = ("exports", "twitter_archive", "larsbrinkhoff_2021-03-22")
ARCHIVE_2023 = ("exports", "twitter_archive", "larsbrinkhoff_2023-08-20")


def load_archive(parts):
    from reciprocity_utils import detect_format, load_dataset

    path = needs_shared_data(*parts)
    try:
        detect_format(path)
    except ValueError:
        pytest.skip("the X/Twitter archive loader is not available yet (load_dataset cannot detect the archive)")
    return load_dataset(path)


@pytest.mark.shared_data
def test_replay_on_the_2021_x_archive():
    dataset = load_archive(ARCHIVE_2021)
    replay = st.replay_policies(dataset, st.standard_policies())
    table = replay.table.set_index("policy")
    follows = dataset.follows
    followers = set(follows.loc[follows["followee_id"] == dataset.owner_id, "follower_id"])
    assert len(replay.candidates) == len(followers) == 405
    assert table.loc["as the owner did", "followed"] == 25  # the 25 mutual follows of the README
    assert table.loc["follow everyone", "recall"] == 1
    # Independent count of followers the owner replied to, mentioned, quoted or reposted after the cutoff.
    events = dataset.interactions
    later = events[(events["actor_id"] == dataset.owner_id) & (events["at"] >= replay.cutoff)]
    valued = followers & set(later["target_id"])
    assert table.loc["follow everyone", "precision"] == pytest.approx(len(valued) / 405)
    assert replay.scores_available == ["engagement_given"]


@pytest.mark.shared_data
def test_churn_between_the_2021_and_2023_x_archives():
    earlier, later = load_archive(ARCHIVE_2021), load_archive(ARCHIVE_2023)
    table = st.churn_from_snapshots(earlier, later).set_index("group")
    owner = earlier.owner_id
    before = earlier.follows
    followers = set(before.loc[before["followee_id"] == owner, "follower_id"])
    followed_back = set(before.loc[before["follower_id"] == owner, "followee_id"])
    still = set(later.follows.loc[later.follows["followee_id"] == owner, "follower_id"])
    one_way = followers - followed_back
    assert table.loc["not followed back", "followers"] == len(one_way) == 405 - 25
    assert table.loc["not followed back", "lost"] == len(one_way - still)
    days = (st.snapshot_time(later) - st.snapshot_time(earlier)).total_seconds() / 86_400
    assert table.loc["not followed back", "daily_hazard"] == pytest.approx(-math.log1p(-len(one_way - still) / len(one_way)) / days)


# ---------------------------------------------------------------------------------------------
# Which assumption moves the ranking


def test_the_tornado_names_what_changes_the_winner_and_moves_with_churn():
    policies = [st.follow_everyone(), st.selective(), st.read_only_list(st.follow_everyone())]
    scenario = st.preset("person", horizon_days=90, n_initial_followers=60, n_new_followers=60)
    churn = [
        st.Assumption("mutual_churn_hazard", "daily churn of followers followed back", 0.0, 0.0, from_data=False),
        st.Assumption("churn_hazard", "daily churn of followers not followed back", 0.0, 0.05, from_data=True),
    ]
    table = st.assumption_sensitivity(policies, scenario, churn, replications=6, seed=1)
    assert list(table["end"]) == ["low", "high", "low", "high"]
    base = table.attrs["base_winner"]
    # The lead is recomputed from the runs: at zero churn of followed-back followers it equals the lead with the scenario's values.
    assert table.loc[0, "lead"] == pytest.approx(table.attrs["base_lead"])
    assert (table["winner_changes"] == (table["winner"] != base)).all()
    # A heavier churn of followed-back followers moves the lead: the figure and the sentence change with the parameter.
    heavier = [st.Assumption("mutual_churn_hazard", "daily churn of followers followed back", 0.0, 0.05)]
    moved = st.assumption_sensitivity(policies, scenario, heavier, replications=6, seed=1)
    assert moved.loc[1, "lead"] != pytest.approx(table.loc[1, "lead"])
    sentence = st.assumption_sentence(table)
    assert base in sentence and "daily churn" in sentence


def test_the_sentence_says_when_the_winner_does_not_depend_on_the_data():
    import pandas as pd

    rows = [
        {
            "assumption": a,
            "field": f,
            "from_data": d,
            "end": e,
            "value": v,
            "winner": "follow everyone",
            "lead": lead,
            "lead_ci_low": lead - 1,
            "lead_ci_high": lead + 1,
            "winner_changes": False,
        }
        for a, f, d, e, v, lead in [
            ("engagement multiplier", "mutual_rate_ratio", True, "low", 1.0, 5.0),
            ("engagement multiplier", "mutual_rate_ratio", True, "high", 3.7, 6.0),
            ("attention budget", "attention_budget", False, "low", 15.0, 1.0),
            ("attention budget", "attention_budget", False, "high", 240.0, 20.0),
        ]
    ]
    table = pd.DataFrame(rows)
    table.attrs["base_winner"] = "follow everyone"
    sentence = st.assumption_sentence(table)
    assert "does not depend on what was measured on these data (engagement multiplier)" in sentence
    assert "moves most with the attention budget" in sentence
    table["from_data"] = False
    assert "None of these numbers was measured on these data" in st.assumption_sentence(table)
    table.loc[3, ["winner", "winner_changes", "lead"]] = ["selective", True, -2.0]
    assert "the attention budget at 240 makes “selective” win" in st.assumption_sentence(table)


def test_the_tornado_caption_is_computed_from_the_table():
    from reciprocity_utils.plots import strategies as strategy_plots

    policies = [st.follow_everyone(), st.selective()]
    scenario = st.preset("person", horizon_days=60, n_initial_followers=40, n_new_followers=40)
    table = st.assumption_sensitivity(policies, scenario, st.default_assumptions(scenario, ("churn_hazard",)), replications=4)
    figure = strategy_plots.assumption_tornado(table)
    widest = (table.groupby("assumption")["lead"].max() - table.groupby("assumption")["lead"].min()).idxmax()
    assert f"The widest bar, {widest}, moves the lead most." in figure.caption
    assert ("Red bars cross zero" in figure.caption) == bool(table["winner_changes"].any())
    labels = [t.get_text() for t in figure.figure.axes[0].get_yticklabels()]
    assert "daily churn of followers not followed back (from the data)" in labels


def test_a_reading_list_that_costs_attention_reads_less_and_can_lose():
    small = dict(horizon_days=90, n_initial_followers=80, n_new_followers=80)
    listed = st.read_only_list(st.follow_everyone())
    free = st.simulate(listed, st.preset("person", **small), replications=6, seed=2)
    costly = st.simulate(listed, st.preset("person", **small, list_cost=30.0), replications=6, seed=2)
    assert costly.horizon["posts_read"].mean() < free.horizon["posts_read"].mean()
    # A policy without a list pays nothing: the same numbers either way.
    everyone = [st.simulate(st.follow_everyone(), st.preset("person", **small, list_cost=c), replications=6, seed=2) for c in (0.0, 30.0)]
    assert np.array_equal(everyone[0].horizon["utility"], everyone[1].horizon["utility"])
    # The tornado varies it, and on the person preset a costly list changes the winner.
    table = st.assumption_sensitivity(
        st.standard_policies(365),
        st.preset("person"),
        [st.Assumption("list_cost", "attention a reading list takes", 0.0, 30.0)],
        replications=6,
    )
    assert table.attrs["base_winner"] == "follow everyone, read list"
    assert table.loc[table["end"] == "high", "winner_changes"].item()
    assert "attention a reading list takes at 30 makes" in st.assumption_sentence(table)
