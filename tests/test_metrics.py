"""Study-02 measures: hand-computed small graphs, coverage limits, seeds, and agreement with networkx/igraph on real networks."""

from __future__ import annotations

import importlib.util
import random
from pathlib import Path

import diptest
import igraph
import networkx as nx
import numpy as np
import pandas as pd
import pytest
from conftest import needs_shared_data

from reciprocity_utils import Coverage, ParameterError, RawTable, build_dataset, load_dataset, metrics
from reciprocity_utils.privacy import pseudonymizer_for

NAN = float("nan")


def codes(*arcs: tuple[int, int]) -> tuple[np.ndarray, np.ndarray]:
    array = np.array(arcs, dtype=np.int64).reshape(-1, 2)
    return array[:, 0], array[:, 1]


def dataset_of(
    follows: list[tuple],
    accounts: list[str] | None = None,
    interactions: list[tuple] | None = None,
    coverage: Coverage | None = None,
    owner_id: str | None = None,
    kinds: dict[str, str] | None = None,
):
    """A validated dataset from (follower, followee[, followed_at]) and (actor, target, kind[, at]) tuples."""
    follow_columns = ["follower_id", "followee_id", "followed_at"][: len(follows[0])] if follows else ["follower_id", "followee_id"]
    follow_frame = pd.DataFrame(follows, columns=follow_columns, dtype=object)
    raw_accounts = None
    if accounts is not None:
        frame = pd.DataFrame({"account_id": accounts, "handle": [f"handle{a[-3:]}" for a in accounts]})
        if kinds:
            frame["kind"] = [kinds.get(a) for a in accounts]
        raw_accounts = RawTable(frame, "accounts.csv", 2)
    raw_interactions = None
    if interactions:
        columns = ["actor_id", "target_id", "kind", "at"][: len(interactions[0])]
        raw_interactions = RawTable(pd.DataFrame(interactions, columns=columns, dtype=object), "interactions.csv", 2)
    return build_dataset(RawTable(follow_frame, "follows.csv", 2), raw_interactions, raw_accounts, coverage=coverage, owner_id=owner_id)


# 19-digit ids above 2**53: a float anywhere on the way would change them.
A, B, C, D, E = (f"12345678901234567{n:02d}" for n in range(5))


# ---------------------------------------------------------------------------------------------
# The core on integer codes


def test_empty_graph_has_no_reciprocity_but_a_density_of_zero():
    follower, followee = codes()
    result = metrics.reciprocity_of_arcs(follower, followee, 3)
    assert result.n_follows == 0 and result.n_mutual_pairs == 0
    assert np.isnan(result.arc_reciprocity) and np.isnan(result.dyad_reciprocity) and np.isnan(result.rho)
    assert result.density == 0
    counts = metrics.account_counts(follower, followee, 3)
    assert all(list(values) == [0, 0, 0] for values in counts.values())


def test_single_account_has_no_density():
    result = metrics.reciprocity_of_arcs(*codes(), 1)
    assert np.isnan(result.density) and np.isnan(result.arc_reciprocity)


def test_all_mutual_pairs_give_r_one_and_rho_one():
    result = metrics.reciprocity_of_arcs(*codes((0, 1), (1, 0), (2, 3), (3, 2)), 4)
    assert result.arc_reciprocity == 1 and result.dyad_reciprocity == 1 and result.n_mutual_pairs == 2
    assert result.density == pytest.approx(4 / 12)
    assert result.rho == pytest.approx(1.0, abs=1e-15)


def test_complete_graph_leaves_rho_undefined():
    arcs = [(a, b) for a in range(3) for b in range(3) if a != b]
    result = metrics.reciprocity_of_arcs(*codes(*arcs), 3)
    assert result.arc_reciprocity == 1 and result.density == 1 and np.isnan(result.rho)


def test_no_mutual_pair_gives_zero_and_negative_rho():
    result = metrics.reciprocity_of_arcs(*codes((0, 1), (1, 2), (2, 3)), 4)
    assert result.arc_reciprocity == 0 and result.dyad_reciprocity == 0
    assert result.rho == pytest.approx((0 - 0.25) / 0.75)


# Five accounts, account 4 isolated: 0<->1 and 2<->3 mutual, 1->2 and 0->3 one-way.
MIXED = codes((0, 1), (1, 0), (1, 2), (2, 3), (3, 2), (0, 3))


def test_mixed_graph_by_hand():
    result = metrics.reciprocity_of_arcs(*MIXED, 5)
    assert result.n_mutual_pairs == 2 and result.n_connected_pairs == 4
    assert result.arc_reciprocity == pytest.approx(4 / 6)
    assert result.dyad_reciprocity == pytest.approx(2 / 4)
    assert result.density == pytest.approx(6 / 20)
    assert result.rho == pytest.approx((4 / 6 - 0.3) / 0.7)
    # dyad reciprocity = r / (2 - r) holds for every graph
    assert result.dyad_reciprocity == pytest.approx(result.arc_reciprocity / (2 - result.arc_reciprocity))


def test_mixed_graph_per_account_counts():
    counts = metrics.account_counts(*MIXED, 5)
    assert counts["followers"].tolist() == [1, 1, 2, 2, 0]
    assert counts["following"].tolist() == [2, 2, 1, 1, 0]
    assert counts["mutual"].tolist() == [1, 1, 1, 1, 0]


def test_mutual_pairs_and_reverse_arcs():
    low, high = metrics.mutual_pairs(*MIXED, 5)
    assert list(zip(low.tolist(), high.tolist())) == [(0, 1), (2, 3)]
    assert metrics.reverse_arcs(*MIXED, 5).tolist() == [1, 0, -1, 4, 3, -1]


@pytest.mark.parametrize(
    ("arcs", "n", "message"),
    [
        (((0, 0),), 2, "self-loop"),
        (((0, 1), (0, 1)), 2, "appears more than once"),
        (((0, 1), (1, 0), (0, 1)), 2, "appears more than once"),
        (((0, 5),), 3, "must lie in"),
        (((-1, 0),), 3, "must lie in"),
    ],
)
def test_bad_arcs_are_refused(arcs, n, message):
    with pytest.raises(ValueError, match=message):
        metrics.mutual_pairs(*codes(*arcs), n)
    with pytest.raises(ValueError, match=message):
        metrics.reverse_arcs(*codes(*arcs), n)


def test_mismatched_code_arrays_are_refused():
    with pytest.raises(ValueError, match="equally long"):
        metrics.mutual_pairs(np.array([0, 1]), np.array([1]), 2)


def test_random_graph_agrees_with_networkx_and_igraph():
    rng = np.random.default_rng(3)
    n = 60
    pairs = {(int(a), int(b)) for a, b in rng.integers(0, n, size=(900, 2)) if a != b}
    follower, followee = codes(*sorted(pairs))
    result = metrics.reciprocity_of_arcs(follower, followee, n)
    graph = nx.DiGraph(sorted(pairs))
    ig = igraph.Graph(n=n, edges=sorted(pairs), directed=True)
    assert result.arc_reciprocity == pytest.approx(nx.overall_reciprocity(graph), abs=1e-12)
    assert result.arc_reciprocity == pytest.approx(ig.reciprocity(), abs=1e-12)
    assert result.dyad_reciprocity == pytest.approx(ig.reciprocity(mode="ratio"), abs=1e-12)
    assert result.density == pytest.approx(ig.density(), abs=1e-12)
    counts = metrics.account_counts(follower, followee, n)
    mutual_degree = [sum(1 for w in graph.successors(v) if graph.has_edge(w, v)) if v in graph else 0 for v in range(n)]
    assert counts["mutual"].tolist() == mutual_degree


# ---------------------------------------------------------------------------------------------
# Datasets, coverage and per-account behaviour


def mixed_dataset(**options):
    return dataset_of(
        [(A, B), (B, A), (B, C), (C, D), (D, C), (A, D)],
        accounts=[A, B, C, D, E],
        kinds={A: "brand", B: "person", C: "person", D: "brand"},
        **options,
    )


def test_dataset_reciprocity_counts_isolated_accounts():
    result = metrics.reciprocity(mixed_dataset())
    assert result.n_accounts == 5 and result.density == pytest.approx(0.3)
    assert result.rho == pytest.approx((4 / 6 - 0.3) / 0.7)
    assert result.notes == ()


def test_account_behaviour_rates_by_hand_with_exact_ids():
    behaviour = metrics.account_behaviour(mixed_dataset())
    table = behaviour.table.set_index("account_id")
    assert list(table.index) == [A, B, C, D, E]
    assert table.loc[C, "follow_back_rate"] == 0.5  # C's followers B and D; C follows back D only
    assert table.loc[A, "followed_back_rate"] == 0.5  # A follows B and D; only B follows back
    assert table.loc[A, "follower_following_ratio"] == 0.5
    assert np.isnan(table.loc[E, "follow_back_rate"]) and np.isnan(table.loc[E, "follower_following_ratio"])
    summary = behaviour.summary().set_index("group")
    assert summary.loc["brand", "accounts"] == 2 and summary.loc["all accounts", "accounts"] == 5


def test_unobservable_mutuality_reports_nothing():
    dataset = mixed_dataset(coverage=Coverage(followers_known=False))
    result = metrics.reciprocity(dataset)
    assert np.isnan(result.arc_reciprocity) and "cannot be counted" in result.notes[0]
    assert result.n_mutual_pairs is None and result.as_dict()["connected_pairs"] is None
    behaviour = metrics.account_behaviour(dataset)
    assert not behaviour.observable and behaviour.table["follow_back_rate"].isna().all()
    assert metrics.null_model(dataset, n_networks=5).n_networks == 0
    assert metrics.two_camps(behaviour).table.empty
    assert metrics.followback_timing(dataset).n_initiating == 0
    assert metrics.engagement_reciprocity(dataset).table.empty


# ---------------------------------------------------------------------------------------------
# Null model


def test_null_model_statistics_by_hand():
    null = metrics.NullModel(observed=0.5, null_values=np.array([0.1, 0.2, 0.3, 0.5]), seed=0, swaps_per_follow=10)
    assert null.mean == pytest.approx(0.275)
    assert null.sd == pytest.approx(np.std([0.1, 0.2, 0.3, 0.5], ddof=1))
    assert null.z_score == pytest.approx((0.5 - 0.275) / null.sd)
    assert null.p_value == pytest.approx((1 + 1) / (1 + 4))  # one randomized network reaches the observed value


def reciprocal_random_graph(n: int = 200, seed: int = 1):
    rng = np.random.default_rng(seed)
    pairs = {(int(a), int(b)) for a, b in rng.integers(0, n, size=(800, 2)) if a != b}
    pairs |= {(b, a) for a, b in list(pairs)[:300]}  # planted follow-backs
    return codes(*sorted(pairs))


def test_null_ensemble_is_reproducible_by_seed_and_independent_of_igraphs_global_generator():
    follower, followee = reciprocal_random_graph()
    first = metrics.degree_preserving_null(follower, followee, 200, n_networks=15, seed=11)
    igraph.Graph.Erdos_Renyi(50, 0.1)  # uses igraph's default generator in between
    random.seed(999)
    again = metrics.degree_preserving_null(follower, followee, 200, n_networks=15, seed=11)
    other = metrics.degree_preserving_null(follower, followee, 200, n_networks=15, seed=12)
    assert np.array_equal(first.null_values, again.null_values)
    assert not np.array_equal(first.null_values, other.null_values)


def test_null_ensemble_does_not_depend_on_workers_and_grows_by_prefix():
    follower, followee = reciprocal_random_graph()
    alone = metrics.degree_preserving_null(follower, followee, 200, n_networks=6, seed=4)
    shared = metrics.degree_preserving_null(follower, followee, 200, n_networks=6, seed=4, workers=2)
    smaller = metrics.degree_preserving_null(follower, followee, 200, n_networks=4, seed=4)
    assert np.array_equal(alone.null_values, shared.null_values)
    assert np.array_equal(alone.null_values[:4], smaller.null_values)


def test_null_ensemble_sees_planted_reciprocity():
    follower, followee = reciprocal_random_graph()
    null = metrics.degree_preserving_null(follower, followee, 200, n_networks=30, seed=0)
    assert null.observed > 0.4 and null.mean < 0.2  # planted follow-backs vs what degrees alone give
    assert null.z_score > 10 and null.p_value == pytest.approx(1 / 31)
    # each randomized network still has every account's in- and out-degree: a rewired copy does
    graph = igraph.Graph(n=200, edges=np.column_stack([follower, followee]), directed=True)
    rewired = graph.copy()
    rewired.rewire(n=10 * len(follower), allowed_edge_types="simple")
    assert rewired.indegree() == graph.indegree() and rewired.outdegree() == graph.outdegree() and rewired.is_simple()


def test_beyond_the_limit_the_ensemble_rewires_a_stated_seeded_subgraph_and_compares_like_with_like():
    follower, followee = reciprocal_random_graph()
    whole = metrics.degree_preserving_null(follower, followee, 200, n_networks=10, seed=3)
    limited = metrics.degree_preserving_null(follower, followee, 200, n_networks=10, seed=3, max_rewired_follows=300)
    again = metrics.degree_preserving_null(follower, followee, 200, n_networks=10, seed=3, max_rewired_follows=300)
    assert whole.subgraph is None and limited.subgraph is not None
    sub = limited.subgraph
    assert sub.whole_follows == len(follower) and sub.limit == 300 and sub.whole_r == pytest.approx(whole.observed)
    assert 150 < sub.follows < 450 and sub.accounts == pytest.approx(200 * sub.share_of_accounts, abs=30)
    # The observed r it is compared with is the subgraph's own, recomputed here from its follows.
    chosen = np.random.default_rng(3).random(200) < sub.share_of_accounts
    arcs = {(a, b) for a, b in zip(follower.tolist(), followee.tolist()) if chosen[a] and chosen[b]}
    assert len(arcs) == sub.follows
    assert limited.observed == pytest.approx(sum((b, a) in arcs for a, b in arcs) / len(arcs))
    assert np.array_equal(limited.null_values, again.null_values) and limited.observed == again.observed
    words = metrics.in_words(limited)
    assert f"{sub.follows:,} follows among them" in words and "the whole network's: " in words and "parameter" in words
    assert limited.analytic == pytest.approx(whole.analytic)  # the formula is always on the whole network


def test_the_configuration_formula_is_on_the_page_and_says_when_it_is_only_an_approximation():
    follower, followee = reciprocal_random_graph()
    null = metrics.degree_preserving_null(follower, followee, 200, n_networks=5, seed=0)
    assert null.analytic_largest_probability < 1 and "gives r = " in metrics.in_words(null)
    assert "approximation" not in metrics.in_words(null)
    hub = codes(*[(0, b) for b in range(1, 40)], *[(a, 0) for a in range(1, 40)], (1, 2), (2, 3))
    star = metrics.degree_preserving_null(*hub, 40, n_networks=5, seed=0)
    assert star.analytic_largest_probability > 1 and "only an approximation here" in metrics.in_words(star)
    figure = __import__("reciprocity_utils.plots.reciprocity", fromlist=["null_distribution"]).null_distribution(null)
    labels = [text.get_text() for text in figure.figure.axes[0].get_legend().get_texts()]
    assert any(label.startswith("configuration model formula: r = ") for label in labels)
    assert f"r = {null.analytic:.3f}" in figure.caption
    with pytest.raises(ParameterError, match="null_max_follows"):
        metrics.check_reciprocity_parameters(10, 10, 5, 90, False, 20, null_max_follows=1)


def test_null_model_needs_two_follows_and_valid_settings():
    assert metrics.degree_preserving_null(*codes((0, 1)), 2, n_networks=5).n_networks == 0
    with pytest.raises(ValueError, match="swaps_per_follow"):
        metrics.degree_preserving_null(*MIXED, 5, swaps_per_follow=0)
    with pytest.raises(ValueError, match="n_networks"):
        metrics.degree_preserving_null(*MIXED, 5, n_networks=-1)
    with pytest.raises(ValueError, match="workers"):
        metrics.degree_preserving_null(*MIXED, 5, workers=0)


# ---------------------------------------------------------------------------------------------
# Two camps


def behaviour_of(rates: list[float], followers: list[int], kinds: list[str | None]) -> metrics.AccountBehaviour:
    mutual = np.rint(np.multiply(rates, followers)).astype(int)
    assert np.allclose(mutual / np.array(followers), rates)  # rates are fractions k/n of the follower counts
    table = pd.DataFrame(
        {
            "account_id": [str(i) for i in range(len(rates))],
            "kind": pd.array(kinds, dtype="string"),
            "followers": followers,
            "following": followers,
            "mutual": mutual,
            "follow_back_rate": rates,
            "followed_back_rate": rates,
            "follower_following_ratio": 1.0,
        }
    )
    return metrics.AccountBehaviour(table, True)


def test_two_camps_shares_dip_test_and_kinds():
    rates = [0.0, 0.1, 0.15, 0.5, 0.85, 0.9, 1.0, 1.0, 0.95, 0.5]
    followers = [20, 20, 20, 20, 20, 20, 20, 20, 20, 2]  # the last account has too few followers
    kinds = ["person"] * 4 + ["brand"] * 5 + ["person"]
    camps = metrics.two_camps(behaviour_of(rates, followers, kinds), min_followers=5, draws=99, seed=3)
    overall = camps.overall()
    assert overall["accounts"] == 9
    assert overall["share_above"] == pytest.approx(5 / 9) and overall["share_below"] == pytest.approx(3 / 9)
    dip, p = diptest.diptest(np.array(rates[:9]))
    assert overall["dip"] == pytest.approx(dip) and overall["naive_dip_p"] == pytest.approx(p)
    assert 1 / 100 <= overall["calibrated_p"] <= 1 and overall["calibrated_p"] * 100 == pytest.approx(round(overall["calibrated_p"] * 100))
    # Nine accounts cannot hold two camps of ten: whatever the test says, the page does not say "two camps".
    assert overall["verdict"] != "two camps"
    by_kind = camps.table.set_index("group")
    assert by_kind.loc["brand", "share_above"] == 1 and by_kind.loc["person", "accounts"] == 4
    assert 0 < camps.kind_test_p < 0.05


def test_two_camps_without_kinds_or_enough_accounts():
    camps = metrics.two_camps(behaviour_of([0.0, 1.0, 1.0], [9, 9, 9], [None, None, None]), min_followers=5)
    assert list(camps.table["group"]) == ["all accounts"] and np.isnan(camps.overall()["calibrated_p"])
    assert camps.overall()["verdict"] == "not tested"
    assert any("kind label" in note for note in camps.notes) and any("dip test is not computed" in note for note in camps.notes)
    assert "two camps" not in metrics.in_words(camps) and "nan" not in metrics.in_words(camps)


# ---------------------------------------------------------------------------------------------
# Timing


def test_followback_latency_and_censoring_by_hand():
    dataset = dataset_of(
        [
            (A, B, "2024-01-01T00:00:00Z"),
            (B, A, "2024-01-03T00:00:00Z"),  # returned after 2 days
            (C, D, "2024-01-02T00:00:00Z"),  # never returned: waits 9 days until the end of the data
            (D, E, "2024-01-05T00:00:00Z"),
            (E, D, None),
        ],  # mutual but one time missing: left out
        interactions=[(A, C, "like", "2024-01-11T00:00:00Z")],
    )
    timing = metrics.followback_timing(dataset)
    spells = timing.spells.sort_values("days")
    assert spells["days"].tolist() == [2.0, 9.0] and spells["returned"].tolist() == [True, False]
    assert timing.median_latency_days == 2.0 and timing.share_never_returned == 0.5
    assert timing.pairs_without_times == 1 and timing.one_way_without_times == 0
    curve = timing.survival[timing.survival["group"] == "all accounts"]
    # Kaplan-Meier: two at risk at day 2, one follow-back: half remain; carried to day 9
    assert curve["share_not_returned"].tolist() == [1.0, 0.5, 0.5] and curve["days"].tolist() == [0.0, 2.0, 9.0]
    assert timing.kaplan_meier_median_days == 2.0


def test_a_follow_back_withdrawn_between_snapshots_is_not_counted_as_never_returned():
    dataset = dataset_of(
        [
            (A, B, "2024-01-01T00:00:00Z"),
            (B, A, "2024-01-03T00:00:00Z"),
            (C, D, "2024-01-02T00:00:00Z"),  # D followed C back, then unfollowed before the last snapshot
            (D, E, "2024-01-04T00:00:00Z"),
        ],  # never returned
        interactions=[(A, C, "like", "2024-01-11T00:00:00Z")],
    )
    before = metrics.followback_timing(dataset)
    assert before.spells["returned"].tolist().count(False) == 2  # C -> D looks never returned without the events
    dataset.follow_events = pd.DataFrame(
        {
            "follower_id": [D],
            "followee_id": [C],
            "event": ["unfollow"],
            "observed_after": [pd.Timestamp("2024-01-05", tz="UTC")],
            "observed_before": [pd.Timestamp("2024-01-08", tz="UTC")],
            "source": ["a.zip -> b.zip"],
        }
    ).astype({"follower_id": "string", "followee_id": "string", "event": "string", "source": "string"})
    timing = metrics.followback_timing(dataset)
    assert len(timing.spells) == 2 and timing.spells["returned"].tolist().count(False) == 1
    assert any("follow-back later withdrawn" in note and "left out rather than counted as never returned" in note for note in timing.notes)


def test_timing_needs_follow_times():
    timing = metrics.followback_timing(mixed_dataset())
    assert timing.n_initiating == 0 and "not known" in timing.notes[0]


# ---------------------------------------------------------------------------------------------
# Engagement reciprocity


def engagement_dataset():
    follows = [(A, B), (B, A), (C, D), (D, C), (A, C), (C, A), (A, E), (D, E)]  # mutual AB, CD, AC; one-way A->E, D->E
    interactions = [
        (A, B, "reply", "2024-03-30T00:00:00Z"),
        (B, A, "like", "2024-03-31T00:00:00Z"),  # AB both ways
        (C, D, "mention", "2024-03-20T00:00:00Z"),
        (D, C, "like", "2024-01-01T00:00:00Z"),  # CD: D's is outside the window
        (E, A, "like", "2024-03-25T00:00:00Z"),  # one-way A->E, engaged by the followee only
        (A, C, "like", None),  # no time: cannot be placed in the window
    ]
    return dataset_of(follows, interactions=interactions)


def test_engagement_patterns_by_hand_within_the_window():
    result = metrics.engagement_reciprocity(engagement_dataset(), window_days=30)
    assert result.window_start == pd.Timestamp("2024-03-01T00:00:00Z")
    assert result.share("mutual", "both directions") == pytest.approx(1 / 3)
    assert result.share("mutual", "one direction only") == pytest.approx(1 / 3)
    assert result.share("mutual", "neither (dormant)") == pytest.approx(1 / 3)
    assert result.share("one-way", "followee → follower only") == pytest.approx(1 / 2)
    assert result.share("one-way", "neither") == pytest.approx(1 / 2)
    assert result.events_without_time == 1
    assert "owner_engages_mutuals" not in result.headline()  # a whole network has no owner


def test_engagement_without_window_counts_everything():
    result = metrics.engagement_reciprocity(engagement_dataset(), window_days=None)
    assert result.share("mutual", "both directions") == pytest.approx(2 / 3)  # AB and CD
    assert result.share("mutual", "one direction only") == pytest.approx(1 / 3)  # AC (A's like without a time)


def test_engagement_without_times_ignores_the_window_and_says_so():
    dataset = dataset_of([(A, B), (B, A)], interactions=[(A, B, "mention"), (B, A, "repost")])
    result = metrics.engagement_reciprocity(dataset, window_days=30)
    assert result.share("mutual", "both directions") == 1.0 and result.window_start is None
    assert "cannot be applied" in result.notes[0]


# ---------------------------------------------------------------------------------------------
# A personal export: owner view, owner-outgoing engagement, ego lists


def ego_dataset(engagement: str = "owner_outgoing", followers_known: bool = True):
    follows = [
        (A, B, "2024-01-01T00:00:00Z"),
        (B, A, "2024-01-02T00:00:00Z"),  # mutual, engaged recently
        (A, C, "2024-01-03T00:00:00Z"),
        (C, A, "2024-01-04T00:00:00Z"),  # mutual, engaged long ago
        (A, D, "2024-01-05T00:00:00Z"),
        (D, A, "2024-01-06T00:00:00Z"),  # mutual, never engaged
        (A, E, "2024-01-07T00:00:00Z"),  # owner follows E, E does not follow back
        ("9000000000000000001", A, "2024-01-08T00:00:00Z"),  # a follower the owner does not follow back
    ]
    interactions = [(A, B, "reply", "2024-06-20T00:00:00Z"), (A, C, "like", "2024-02-01T00:00:00Z"), (A, E, "like", "2024-06-25T00:00:00Z")]
    coverage = Coverage(scope="ego", engagement_observed=engagement, followers_known=followers_known)
    return dataset_of(follows, interactions=interactions, coverage=coverage, owner_id=A)


def test_ego_reciprocity_reports_r_but_not_rho_or_null():
    dataset = ego_dataset()
    result = metrics.reciprocity(dataset)
    assert result.arc_reciprocity == pytest.approx(6 / 8) and np.isnan(result.rho)
    assert metrics.null_model(dataset, n_networks=5).n_networks == 0
    behaviour = metrics.account_behaviour(dataset)
    assert behaviour.table["account_id"].tolist() == [A]
    assert behaviour.table["follow_back_rate"].iloc[0] == pytest.approx(3 / 4)
    assert behaviour.table["followed_back_rate"].iloc[0] == pytest.approx(3 / 4)
    assert metrics.two_camps(behaviour).table.empty


def test_owner_outgoing_engagement_reports_only_the_owners_side():
    result = metrics.engagement_reciprocity(ego_dataset(), window_days=30)
    assert result.table.empty
    assert result.owner_share("mutuals") == pytest.approx(1 / 3)  # B only: C's like is older than the window
    assert result.owner_share("followees not following back") == 1.0
    assert result.owner_share("followers not followed back") == 0.0
    headline = result.headline()
    assert headline["mutual_pairs_engaged_both_ways"] is None and headline["owner_engages_mutuals"] == pytest.approx(1 / 3)
    assert any("only the owner's outgoing engagement" in note.lower() for note in result.notes)


def test_ego_lists_membership_ranking_and_pseudonyms(monkeypatch):
    monkeypatch.setenv("RECIPROCITY_PSEUDONYM_KEY", "test-secret")
    dataset = ego_dataset()
    names = pseudonymizer_for(dataset)
    lists = metrics.ego_lists(dataset, names, window_days=30).lists
    named = {account: names.name(account) for account in (B, C, D, E, "9000000000000000001")}
    assert set(lists["mutuals"]["account"]) == {named[B], named[C], named[D]}
    assert lists["followers not followed back"]["account"].tolist() == [named["9000000000000000001"]]
    assert lists["followees not following back"]["account"].tolist() == [named[E]]
    # dormant: never engaged (D) first, then the longest since the owner's last engagement (C); B is active
    assert lists["dormant mutuals"]["account"].tolist() == [named[D], named[C]]
    assert lists["dormant mutuals"]["days_since_owner_engaged"].iloc[1] == pytest.approx(
        (pd.Timestamp("2024-06-25") - pd.Timestamp("2024-02-01")).days
    )
    shown = pd.concat([t.astype(str) for t in lists.values()]).to_string()
    assert all(account not in shown for account in (B, C, D, E)) and "handle" not in shown


def test_ego_lists_reveal_names_on_request():
    dataset = ego_dataset()  # no handles known: revealed names are the ids
    lists = metrics.ego_lists(dataset, pseudonymizer_for(dataset, reveal_names=True), window_days=30).lists
    assert lists["followees not following back"]["account"].tolist() == [E]


def test_ego_lists_are_not_computed_when_mutuality_is_unobservable():
    dataset = ego_dataset(followers_known=False)
    ego = metrics.ego_lists(dataset, pseudonymizer_for(dataset))
    assert all(table is None for table in ego.lists.values()) and "cannot be told apart" in ego.notes[0]
    assert metrics.save_owner_lists(dataset, Path("unused"), pseudonymizer_for(dataset)) is None


def test_ego_lists_without_engagement_have_no_dormant_list():
    dataset = ego_dataset(engagement="none")
    ego = metrics.ego_lists(dataset, pseudonymizer_for(dataset))
    assert ego.lists["dormant mutuals"] is None and len(ego.lists["mutuals"]) == 3


def test_no_ego_lists_for_a_whole_network():
    dataset = mixed_dataset()
    assert metrics.ego_lists(dataset, pseudonymizer_for(dataset)).counts() == dict.fromkeys(metrics.EGO_LIST_NAMES)


# ---------------------------------------------------------------------------------------------
# Parameters, sentences, headline


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"null_networks": -1}, "null_networks"),
        ({"null_networks": 2.5}, "null_networks"),
        ({"swaps_per_follow": 0}, "swaps_per_follow"),
        ({"min_followers": 0}, "min_followers"),
        ({"engagement_window_days": -3}, "engagement_window_days"),
        ({"engagement_window_days": "90"}, "engagement_window_days"),
        ({"reveal_names": "yes"}, "reveal_names"),
        ({"ego_list_rows": True}, "ego_list_rows"),
        ({"null_workers": 0}, "null_workers"),
        ({"camps_bootstrap_draws": 10}, "camps_bootstrap_draws"),
        ({"camps_bootstrap_draws": 999.0}, "camps_bootstrap_draws"),
    ],
)
def test_bad_study_parameters_fail_with_their_name(changes, message):
    values = {
        "null_networks": 100,
        "swaps_per_follow": 10,
        "min_followers": 5,
        "engagement_window_days": 90,
        "reveal_names": False,
        "ego_list_rows": 20,
        "null_workers": 1,
        "camps_bootstrap_draws": 999,
    }
    metrics.check_reciprocity_parameters(**values)
    metrics.check_reciprocity_parameters(**{**values, "engagement_window_days": None})
    with pytest.raises(ParameterError, match=message):
        metrics.check_reciprocity_parameters(**{**values, **changes})


def test_headline_and_sentences_carry_the_numbers():
    dataset = engagement_dataset()
    result = metrics.reciprocity(dataset)
    null = metrics.null_model(dataset, n_networks=5, seed=1)
    behaviour = metrics.account_behaviour(dataset)
    camps = metrics.two_camps(behaviour, min_followers=1)
    timing = metrics.followback_timing(dataset)
    engagement = metrics.engagement_reciprocity(dataset, window_days=30)
    headline = metrics.headline_numbers(result, null, camps, timing, engagement)
    assert headline["arc_reciprocity"] == pytest.approx(6 / 8)
    assert headline["median_followback_latency_days"] is None  # no follow times
    assert headline["share_follow_back_above_80"] == pytest.approx(camps.overall()["share_above"])
    assert "75.0% of the 8 follows are returned" in metrics.in_words(result)
    assert "33.3%" in metrics.in_words(engagement)
    assert metrics.in_words(timing) == ""  # nothing measured: the timing's notes say why
    with pytest.raises(TypeError):
        metrics.in_words(42)


# ---------------------------------------------------------------------------------------------
# Real networks: agreement with networkx and igraph


def read_snap(path: Path):
    """A SNAP edge list read as plain tab-separated text, ids kept as text."""
    edges = pd.read_csv(path, sep="\t", comment="#", header=None, names=["follower_id", "followee_id"], dtype=str)
    edges = edges.apply(lambda column: column.str.strip())
    return build_dataset(RawTable(edges, str(path), None), coverage=Coverage(engagement_observed="none"), source=path.name)


def read_ucd(group: str):
    """A UCD multiview group read independently of the package loaders: ids from <g>.ids, follows, mentions, retweets."""
    folder = needs_shared_data("networks", "ucd-twitter-multiview", group)

    def mtx(name: str, columns: list[str]) -> pd.DataFrame:
        return pd.read_csv(folder / f"{group}-{name}.mtx", sep=" ", skiprows=1, header=None, names=columns, dtype=str)

    follows = mtx("follows", ["follower_id", "followee_id", "weight"])[["follower_id", "followee_id"]]
    mentions = mtx("mentions", ["actor_id", "target_id", "count"]).assign(kind="mention")
    reposts = mtx("retweets", ["actor_id", "target_id", "count"]).assign(kind="repost")
    ids = pd.read_csv(folder / f"{group}.ids", header=None, names=["account_id"], dtype=str)
    return build_dataset(
        RawTable(follows, "follows", None),
        RawTable(pd.concat([mentions, reposts], ignore_index=True), "interactions", None),
        RawTable(ids, "ids", None),
        unknown_accounts="remove",
        source=group,
    )


def assert_agrees_with_networkx_and_igraph(dataset):
    follows = dataset.follows
    graph = nx.DiGraph(zip(follows["follower_id"], follows["followee_id"]))
    graph.add_nodes_from(dataset.accounts["account_id"])
    result = metrics.reciprocity(dataset)
    ig = igraph.Graph.TupleList(zip(follows["follower_id"], follows["followee_id"]), directed=True)
    assert result.arc_reciprocity == pytest.approx(nx.overall_reciprocity(graph), abs=1e-12)
    assert result.arc_reciprocity == pytest.approx(ig.reciprocity(), abs=1e-12)
    assert result.dyad_reciprocity == pytest.approx(ig.reciprocity(mode="ratio"), abs=1e-12)
    assert result.density == pytest.approx(nx.density(graph), abs=1e-12)
    behaviour = metrics.account_behaviour(dataset).table.set_index("account_id")
    in_degree = pd.Series(dict(graph.in_degree()))
    mutual = pd.Series({v: sum(graph.has_edge(w, v) for w in graph.successors(v)) for v in graph})
    assert behaviour["followers"].equals(in_degree.reindex(behaviour.index).astype(behaviour["followers"].dtype))
    assert behaviour["mutual"].equals(mutual.reindex(behaviour.index).astype(behaviour["mutual"].dtype))
    return result


@pytest.mark.shared_data
def test_wiki_vote_agrees_with_networkx_and_igraph():
    dataset = read_snap(needs_shared_data("exports", "research", "snap_edgelist", "Wiki-Vote.txt"))
    assert len(dataset.follows) == 103_689 and len(dataset.accounts) == 7_115
    result = assert_agrees_with_networkx_and_igraph(dataset)
    assert round(result.arc_reciprocity, 4) == 0.0565


UCD_KNOWN = {"football": (248, 3_819, 0.6148, 0.5892), "olympics": (464, 10_642, 0.5366, 0.5124), "rugby": (854, 35_757, 0.7213, 0.7069)}


@pytest.mark.shared_data
@pytest.mark.parametrize("group", sorted(UCD_KNOWN))
def test_ucd_networks_match_the_published_figures_and_networkx(group):
    dataset = read_ucd(group)
    accounts, follows, r, rho = UCD_KNOWN[group]
    result = assert_agrees_with_networkx_and_igraph(dataset)
    assert (result.n_accounts, result.n_follows) == (accounts, follows)
    assert round(result.arc_reciprocity, 4) == r and round(result.rho, 4) == rho


def research_loader_missing() -> bool:
    return importlib.util.find_spec("reciprocity_utils.io.research") is None


@pytest.mark.shared_data
@pytest.mark.parametrize("group", sorted(UCD_KNOWN))
def test_ucd_networks_through_the_package_loader(group):
    folder = needs_shared_data("networks", "ucd-twitter-multiview", group)
    if research_loader_missing():
        pytest.skip("the research-file loader (reciprocity_utils.io.research, loaders issue) has not landed yet")
    dataset = load_dataset(folder)
    accounts, follows, r, rho = UCD_KNOWN[group]
    result = assert_agrees_with_networkx_and_igraph(dataset)
    assert (result.n_accounts, result.n_follows) == (accounts, follows)
    assert round(result.arc_reciprocity, 4) == r and round(result.rho, 4) == rho
    independent = metrics.engagement_reciprocity(read_ucd(group), window_days=None).table
    assert metrics.engagement_reciprocity(dataset, window_days=None).table.equals(independent)


def test_follows_encoded_once_serve_every_measure_and_must_match_the_dataset():
    dataset = mixed_dataset()
    arcs = metrics.encode_follows(dataset)
    assert arcs.account_ids.tolist() == [A, B, C, D, E] and arcs.code_of(C) == 2
    assert metrics.reciprocity(dataset, arcs=arcs) == metrics.reciprocity(dataset)
    with pytest.raises(ValueError, match="not those of this dataset"):
        metrics.reciprocity(engagement_dataset(), arcs=arcs)


def test_the_owners_lists_are_saved_with_real_ids_and_handles_in_the_private_folder_only(tmp_path, monkeypatch):
    monkeypatch.setenv("RECIPROCITY_PSEUDONYM_KEY", "test-secret")
    dataset = ego_dataset()
    names = pseudonymizer_for(dataset)
    path = metrics.save_owner_lists(dataset, tmp_path / "report", names, window_days=30)
    assert path.parent == tmp_path / ".report.private" and not (tmp_path / "report").exists()
    saved = pd.read_csv(path, dtype=str, keep_default_na=False)
    assert saved.groupby("list", sort=False).size().to_dict() == {
        "mutuals": 3,
        "followers not followed back": 1,
        "followees not following back": 1,
        "dormant mutuals": 2,
    }
    # Real ids, whatever the published pages show, and the pseudonym the report uses for each.
    assert set(saved["account_id"]) <= set(dataset.accounts["account_id"])
    assert (saved["shown_in_the_report_as"] == names(saved["account_id"]).to_numpy()).all()
    handles = dataset.accounts.set_index("account_id")["handle"].fillna("")
    assert (saved["handle"] == saved["account_id"].map(handles)).all()


def test_ego_timing_separates_the_owners_follow_backs_from_everybody_elses():
    timing = metrics.followback_timing(ego_dataset())
    by_group = timing.spells.groupby("followed_group")["returned"].agg(["size", "sum"])
    assert by_group.loc["other accounts"].tolist() == [4, 3]  # the owner followed B, C, D, E first; E never followed back
    assert by_group.loc["the owner"].tolist() == [1, 0]  # one follower the owner has not followed back
    assert timing.median_latency_days == 1.0
