"""Studies 01-02 on a network measured out of memory give what they give the loaded dataset.

A network measured by DuckDB (or Spark) never comes into memory whole: the studies read the
engine's counts and per-account table, and a seeded random subgraph for what needs single
follows. Checked here against the loaded dataset of the same file and against set arithmetic.
"""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pandas as pd
import pytest
from test_engines import ENGINES

from reciprocity_utils import load_dataset, metrics
from reciprocity_utils.camps import two_camps
from reciprocity_utils.engines.network import MeasuredNetwork, measure_network
from reciprocity_utils.parameters import ParameterError, check_parameters, open_input
from reciprocity_utils.report import ReportError, run_report

MEASURED = [e for e in ENGINES if getattr(e, "values", [e])[0] != "memory"]


@pytest.fixture(scope="module")
def edge_list(tmp_path_factory):
    """19-digit ids, self-follows and repeated rows, a heavy-tailed popularity, 30% of follows returned."""
    rng = np.random.default_rng(11)
    n, m = 1_500, 16_000
    ids = np.array([str(v) for v in rng.integers(10**18, 2**63 - 1, size=n, dtype=np.int64)])
    follower = rng.integers(0, n, m)
    followee = (follower + rng.zipf(1.7, m)) % n
    back = rng.random(m) < 0.3
    follower, followee = np.concatenate([follower, followee[back], [5, 6]]), np.concatenate([followee, follower[back], [5, 6]])
    rows = pd.DataFrame({"follower_id": ids[follower], "followee_id": ids[followee]})
    rows = pd.concat([rows, rows.iloc[:40]], ignore_index=True)  # repeated rows
    path = tmp_path_factory.mktemp("measured") / "follows.txt"
    path.write_text("".join(f"{a} {b}\n" for a, b in rows.itertuples(index=False)))
    arcs = {(a, b) for a, b in rows.itertuples(index=False) if a != b}
    arcs_loops = int((rows["follower_id"] == rows["followee_id"]).sum())
    return path, arcs, arcs_loops


@pytest.fixture(scope="module")
def measured(edge_list, tmp_path_factory):
    path, _, _ = edge_list
    return measure_network(path, tmp_path_factory.mktemp("net"), engine="duckdb", seed=3, subgraph_follows=4_000)


def test_reciprocity_and_behaviour_equal_the_loaded_dataset(edge_list, measured):
    path, arcs, loops = edge_list
    loaded = load_dataset(path)
    assert metrics.reciprocity(measured) == metrics.reciprocity(loaded)
    assert measured.counts() == loaded.counts()
    assert measured.validation.repairs["follow_self_loops_removed"] == loaded.validation.repairs["follow_self_loops_removed"] == loops >= 2
    assert measured.validation.repairs["duplicate_follows_removed"] == loaded.validation.repairs["duplicate_follows_removed"]
    assert measured.counts()["returned_follows"] == sum((b, a) in arcs for a, b in arcs)
    ours = metrics.account_behaviour(measured).table.set_index("account_id")
    theirs = metrics.account_behaviour(loaded).table.set_index("account_id").loc[ours.index]
    columns = ["followers", "following", "mutual", "follow_back_rate", "followed_back_rate", "follower_following_ratio"]
    pd.testing.assert_frame_equal(ours[columns], theirs[columns], check_dtype=False, check_index_type=False)
    assert str(ours.index[0]) == min(ours.index)  # sorted by id, 19 digits kept as text


def test_subgraph_is_the_induced_subgraph_of_the_drawn_accounts(edge_list, measured):
    _, arcs, _ = edge_list
    subgraph = measured.subgraph_dataset()
    chosen = set(subgraph.accounts["account_id"])
    expected = {(a, b) for a, b in arcs if a in chosen and b in chosen}
    assert set(subgraph.follows[["follower_id", "followee_id"]].itertuples(index=False, name=None)) == expected
    draw = measured.draw
    assert (draw.accounts, draw.follows, draw.whole_follows) == (len(chosen), len(expected), len(arcs))
    assert 0.5 * 4_000 < draw.follows < 2 * 4_000  # about the limit asked for
    assert subgraph.coverage.sampled and any("random subgraph" in note for note in subgraph.coverage.notes)


def test_subgraph_depends_on_the_seed_only(edge_list, tmp_path):
    path, _, _ = edge_list
    first = measure_network(path, tmp_path / "a", engine="duckdb", seed=3, subgraph_follows=4_000).subgraph_dataset()
    again = measure_network(path, tmp_path / "b", engine="duckdb", seed=3, subgraph_follows=4_000).subgraph_dataset()
    other = measure_network(path, tmp_path / "c", engine="duckdb", seed=4, subgraph_follows=4_000).subgraph_dataset()
    pd.testing.assert_frame_equal(first.follows, again.follows)
    assert set(first.accounts["account_id"]) != set(other.accounts["account_id"])


@pytest.mark.parametrize("engine", MEASURED)
def test_every_engine_draws_the_same_subgraph(engine, edge_list, measured, tmp_path):
    path, _, _ = edge_list
    network = measure_network(path, tmp_path, engine=engine, seed=3, subgraph_follows=4_000)
    assert network.measures.as_dict() | {"seconds": 0, "engine": ""} == measured.measures.as_dict() | {"seconds": 0, "engine": ""}
    pd.testing.assert_frame_equal(network.subgraph_dataset().follows, measured.subgraph_dataset().follows)
    again = MeasuredNetwork.load(network.save(tmp_path / "saved"))  # Spark's table is a folder of part files
    pd.testing.assert_frame_equal(again.account_table(), measured.account_table(), check_dtype=False)


def test_a_small_network_is_its_own_subgraph(edge_list, tmp_path):
    path, arcs, _ = edge_list
    network = measure_network(path, tmp_path, engine="duckdb", subgraph_follows=10**6)
    assert network.draw.whole and len(network.subgraph_dataset().follows) == len(arcs)
    assert not network.subgraph_dataset().coverage.sampled


def test_null_model_formula_on_the_whole_network_rewiring_on_the_subgraph(edge_list, measured):
    loaded = load_dataset(edge_list[0])
    null = metrics.null_model(measured, n_networks=5, seed=1)
    reference = metrics.null_model(loaded, n_networks=0, seed=1)
    assert null.analytic == pytest.approx(reference.analytic, rel=1e-12)
    assert null.analytic_largest_probability == pytest.approx(reference.analytic_largest_probability, rel=1e-12)
    subgraph = metrics.reciprocity(measured.subgraph_dataset())
    assert null.observed == pytest.approx(subgraph.arc_reciprocity) and null.n_networks == 5
    assert null.subgraph.whole_follows == measured.measures.follows
    assert null.subgraph.whole_r == pytest.approx(measured.measures.r)
    words = metrics.in_words(null)
    assert f"{measured.measures.follows:,} follows" in words and f"{measured.draw.follows:,} follows among them" in words


def test_saved_network_loads_back_and_later_studies_get_the_subgraph(measured, tmp_path):
    folder = measured.save(tmp_path / "dataset")
    again = MeasuredNetwork.load(folder)
    assert again.measures == measured.measures and again.draw == measured.draw and again.coverage == measured.coverage
    params = check_parameters(str(folder), "dataset", "", str(tmp_path / "out"), 0)
    assert isinstance(open_input(params, measured=True), MeasuredNetwork)
    later = open_input(params)
    assert len(later.follows) == measured.draw.follows and later.coverage.sampled


def test_engine_parameters_are_checked(edge_list, tmp_path):
    path = str(edge_list[0])
    for bad, words in [
        ({"engine": "pandas"}, "engine must be one of"),
        ({"engine_memory_limit": "lots"}, "engine_memory_limit"),
        ({"subgraph_follows": 1}, "subgraph_follows"),
    ]:
        with pytest.raises(ParameterError, match=words):
            check_parameters(path, "auto", "", str(tmp_path), 0, **bad)
    with pytest.raises(ParameterError, match="synthetic input"):
        check_parameters("synthetic", "auto", "", str(tmp_path), 0, engine="duckdb")
    archive = tmp_path / "twitter-archive.zip"
    archive.write_bytes(b"PK\x03\x04")
    with pytest.raises(ReportError, match="twitter-archive.zip: the duckdb engine reads follow lists"):
        run_report({"inputs": [str(archive)], "engine": "duckdb", "study": "zip"}, tmp_path / "zip", progress=False)
    with pytest.raises(ValueError, match="looks like an export"):
        measure_network(archive, tmp_path / "m", engine="duckdb")
    with pytest.raises(ReportError, match="measures one follow list"):
        run_report({"inputs": [path, path], "engine": "duckdb", "study": "two"}, tmp_path / "two", progress=False)


def test_two_camps_test_a_random_sample_beyond_the_limit():
    rng = np.random.default_rng(0)
    followers = rng.integers(5, 60, 3_000)
    table = pd.DataFrame(
        {"followers": followers, "mutual": rng.binomial(followers, 0.5), "kind": pd.Series(pd.NA, index=range(3_000), dtype="string")}
    )
    table["follow_back_rate"] = table["mutual"] / table["followers"]
    behaviour = metrics.AccountBehaviour(table, True)
    capped = two_camps(behaviour, draws=99, seed=2, max_accounts=500)
    assert capped.table.iloc[0]["accounts"] == 500 and any("random sample of 500" in note for note in capped.notes)
    assert two_camps(behaviour, draws=99, seed=2, max_accounts=500).table.equals(capped.table)  # the seed decides
    whole = two_camps(behaviour, draws=99, seed=2, max_accounts=None)
    assert whole.table.iloc[0]["accounts"] == 3_000 and not any("random sample" in note for note in whole.notes)


def test_report_on_the_duckdb_engine(edge_list, tmp_path):
    """`reciprocity run` measuring out of memory: study 02's numbers are the whole network's, 03-04 say they use the subgraph."""
    path, arcs, _ = edge_list
    params = {
        "inputs": [str(path)],
        "study": "big",
        "engine": "duckdb",
        "subgraph_follows": 4_000,
        "null_networks": 5,
        "camps_bootstrap_draws": 99,
        "n_permutations": 49,
        "n_bootstrap": 49,
    }
    run = run_report(params, tmp_path / "big", progress=False)
    results = json.loads((run.output_dir / "02-reciprocity.results.json").read_text())
    returned = sum((b, a) in arcs for a, b in arcs)
    assert results["headline"]["arc_reciprocity"] == pytest.approx(returned / len(arcs))
    loaded = json.loads((run.output_dir / "01-load-and-validate.results.json").read_text())
    assert loaded["headline"]["follows"] == len(arcs)
    page = (run.output_dir / "03-followback-engagement.html").read_text()
    assert (
        "A random subgraph of a larger network" in page and "random subgraph" in (run.output_dir / "04-follow-strategies.html").read_text()
    )
    page = (run.output_dir / "02-reciprocity.html").read_text()
    assert "DuckDB engine" in page and "not read for the whole network" in page
    # The engine did not read engagement: the pages never say the source has none.
    assert "records no engagement" not in page and "No engagement is recorded" not in page
    index = (run.output_dir / "index.html").read_text()
    assert index.count("Data: A random subgraph of a larger network") == 2  # the cards of studies 03 and 04, not 01-02


def test_auto_measures_only_follow_lists_too_large_to_load(edge_list, tmp_path, monkeypatch):
    from reciprocity_utils.engines import choice

    path = edge_list[0]
    archive = tmp_path / "export.zip"
    archive.write_bytes(b"PK\x03\x04")
    assert choice.measuring_engine(path, "auto") is None  # small: loaded
    assert choice.measuring_engine(path, "memory") is None and choice.measuring_engine(path, "spark") == "spark"
    monkeypatch.setattr(choice, "available_memory_bytes", lambda: 1_000)
    assert choice.measuring_engine(path, "auto") == "duckdb"  # as if memory were tiny
    assert choice.measuring_engine(archive, "auto") is None  # an export: only the loaders read it


def test_a_generic_folder_subgraph_keeps_times_engagement_and_kinds(tmp_path):
    """The bundled sample (follows, interactions and accounts as CSV): the subgraph is the loaded dataset restricted to the drawn accounts."""
    from reciprocity_utils.paths import SAMPLE_DIR

    network = measure_network(SAMPLE_DIR, tmp_path, engine="duckdb", seed=0, subgraph_follows=1_500)
    whole = load_dataset(SAMPLE_DIR)
    assert metrics.reciprocity(network).arc_reciprocity == pytest.approx(metrics.reciprocity(whole).arc_reciprocity, rel=1e-15)
    subgraph = network.subgraph_dataset()
    chosen = set(subgraph.accounts["account_id"])
    assert 0.3 < len(chosen) / len(whole.accounts) < 0.9 and subgraph.coverage.sampled
    events = whole.interactions[whole.interactions["actor_id"].isin(chosen) & whole.interactions["target_id"].isin(chosen)]
    key = ["actor_id", "target_id", "kind", "at"]
    pd.testing.assert_frame_equal(
        subgraph.interactions.sort_values(key).reset_index(drop=True)[[*key, "count"]],
        events.sort_values(key).reset_index(drop=True)[[*key, "count"]],
        check_categorical=False,
    )
    follows = whole.follows[whole.follows["follower_id"].isin(chosen) & whole.follows["followee_id"].isin(chosen)]
    key = ["follower_id", "followee_id"]
    pd.testing.assert_frame_equal(
        subgraph.follows.sort_values(key).reset_index(drop=True)[[*key, "followed_at"]],
        follows.sort_values(key).reset_index(drop=True)[[*key, "followed_at"]],
    )
    kinds = whole.accounts.set_index("account_id")["kind"]
    assert (subgraph.accounts.set_index("account_id")["kind"] == kinds.loc[subgraph.accounts["account_id"]]).all()
    assert subgraph.coverage.engagement_observed == "everyone" and subgraph.coverage.follow_times
    # The engine counts the whole network's engagement too (tests/test_engine_engagement.py checks the numbers).
    assert network.coverage.engagement_observed == "everyone" and f"{len(events):,} engagement rows" in " ".join(network.coverage.notes)
    described = " ".join(network.coverage.describe())
    assert "The DuckDB engine counts it over the whole network" in described and "not read" not in described.split("Follow times")[0]


def test_study_03_on_a_random_subgraph_recovers_the_planted_effect(tmp_path):
    """Induced subgraphs keep each dyad's follow-back status and engagement whole: the adjusted model finds the planted ratio."""
    from reciprocity_utils.dyads import build_dyads
    from reciprocity_utils.inference import ModelSpec, fit_model, model_frame
    from reciprocity_utils.segments import engagement_segments
    from reciprocity_utils.synthetic import generate_network, write_generic

    write_generic(generate_network(n_accounts=3000, seed=5), tmp_path / "network")
    whole_follows = len(load_dataset(tmp_path / "network").follows)
    network = measure_network(tmp_path / "network", tmp_path / "measured", engine="duckdb", seed=1, subgraph_follows=whole_follows // 3)
    subgraph = network.subgraph_dataset()
    assert subgraph.coverage.sampled and 0.45 < network.draw.share_of_accounts < 0.7
    dyads = build_dyads(subgraph)
    segments, _ = engagement_segments(subgraph, dyads)
    frame = model_frame(dyads, segments)
    adjusted = fit_model(frame, ModelSpec("fe", fixed_effects=True))
    assert adjusted.mutual.covers(2.0) and adjusted.mutual.value == pytest.approx(2.0, rel=0.1)
    assert fit_model(frame, ModelSpec("raw")).mutual.value > 2.2  # the confounding is in the subgraph too


def test_study_01_figure_never_says_a_follow_list_measured_by_an_engine_records_no_engagement(edge_list, measured):
    """A bare follow list: the engine read no engagement, which is not the same as the source recording none."""
    from reciprocity_utils.answers import data_in_words
    from reciprocity_utils.plots import activity_over_time, engagement_by_kind

    figure = engagement_by_kind(measured)
    assert "not read for the whole network" in figure.caption and "DuckDB engine" in figure.caption
    assert "not at all" not in figure.caption
    assert "from its follows alone" in activity_over_time(measured).caption
    assert measured.coverage.engagement_observed == "none" and measured.engagement is None
    words = data_in_words({"details": {"coverage": dataclasses.asdict(measured.coverage), "counts": measured.counts()}})
    assert "engagement not read for the whole network" in words and "no engagement" not in words
