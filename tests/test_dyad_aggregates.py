"""Study 03's dyad aggregates computed by DuckDB and Spark equal the in-memory dyad table, column by column."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

import reciprocity_utils as ru
from reciprocity_utils.dyad_files import dyad_coverage, read_dyad_table
from reciprocity_utils.dyads import build_dyads
from reciprocity_utils.engines.dyad_sql import write_dyad_aggregates
from reciprocity_utils.model import DatasetValidationError
from reciprocity_utils.segments import engagement_segments, state_segments
from tests.test_engines import ENGINES

SQL_ENGINES = ENGINES[1:]


def _as_compared(frame: pd.DataFrame) -> pd.DataFrame:
    """Ids and kinds as text (the categories' order differs: accounts' order in memory, sorted ids from an engine)."""
    frame = frame.copy()
    for column in ("a_id", "b_id", "a_kind", "b_kind", "a_community", "b_community"):
        if column in frame:
            frame[column] = frame[column].astype("string")
    return frame.sort_values(["a_id", "b_id"], ignore_index=True)


def _agree(folder, engine, tmp_path):
    dataset = ru.load_dataset(folder)
    expected = build_dyads(dataset)
    aggregates = write_dyad_aggregates(folder, tmp_path / f"dyads-{engine}", engine=engine)
    assert dyad_coverage(tmp_path / f"dyads-{engine}") == dataset.coverage
    table = read_dyad_table(tmp_path / f"dyads-{engine}")
    pd.testing.assert_frame_equal(_as_compared(table.frame), _as_compared(expected.frame))
    assert table.notes == expected.notes
    assert (table.window_start, table.window_end) == (expected.window_start, expected.window_end)
    # Each follow's exposure split at the follow-back, with the events of each state both ways.
    ours, _ = state_segments(table), None
    theirs, _ = engagement_segments(dataset, expected)
    assert len(ours) > 0
    pd.testing.assert_frame_equal(_segments_compared(ours), _segments_compared(theirs))
    return dataset, table, aggregates


def _segments_compared(segments: pd.DataFrame) -> pd.DataFrame:
    frame = segments.drop(columns="arc").astype({"a_id": "string", "b_id": "string", "state": "string"})
    return frame.sort_values(["a_id", "b_id", "state"], ignore_index=True)


@pytest.fixture(scope="module")
def messy(tmp_path_factory):
    """A generic folder with what real files hold: 19-digit ids with blanks around them, repeated follows with
    different times, follows and events without time, times without offset, self-follows and self-engagement,
    kinds by synonyms in capitals, counts above one or missing, events before the follow and between strangers."""
    rng = np.random.default_rng(7)
    folder = tmp_path_factory.mktemp("messy")
    n = 120
    ids = np.array([str(9_000_000_000_000_000_000 + int(x)) for x in rng.choice(10**15, n, replace=False)])
    start = pd.Timestamp("2024-01-01", tz="UTC")

    def times(count, missing):
        stamps = (start + pd.to_timedelta(rng.integers(0, 300 * 86_400, count), unit="s")).strftime("%Y-%m-%dT%H:%M:%SZ")
        stamps = np.array(stamps, dtype=object)
        stamps[rng.random(count) < missing] = ""
        naive = rng.random(count) < 0.1  # no offset: taken as UTC
        stamps[naive] = [s[:-1] if s else s for s in stamps[naive]]
        return stamps

    follower, followee = rng.integers(0, n, 1500), rng.integers(0, n, 1500)
    # Many returned follows: copy a third of them reversed.
    back = rng.random(1500) < 0.35
    follower = np.concatenate([follower, followee[back]])
    followee = np.concatenate([followee, follower[: len(follower) - back.sum()][back]])
    follows = pd.DataFrame({"follower_id": ids[follower], "followee_id": ids[followee], "followed_at": times(len(follower), 0.08)})
    repeats = follows.sample(60, random_state=1).assign(followed_at=times(60, 0.3))  # the same follows again, other times
    follows = pd.concat([follows, repeats], ignore_index=True)
    follows["follower_id"] = follows["follower_id"].where(rng.random(len(follows)) > 0.1, " " + follows["follower_id"] + " ")
    follows.to_csv(folder / "follows.csv", index=False)

    m = 5000
    pairs = follows.sample(m, replace=True, random_state=2)
    actor, target = pairs["follower_id"].str.strip().to_numpy(), pairs["followee_id"].to_numpy()
    flip = rng.random(m) < 0.4  # the other direction of a follow
    actor, target = np.where(flip, target, actor), np.where(flip, actor, target)
    stranger = rng.random(m) < 0.15
    actor[stranger], target[stranger] = ids[rng.integers(0, n, stranger.sum())], ids[rng.integers(0, n, stranger.sum())]
    kinds = np.array(["reply", "Mention", "retweet", "quote", "favorite", "like", "boost", "REPOST"])[rng.integers(0, 8, m)]
    counts = np.array(["1", "1", "1", "2", "5", ""], dtype=object)[rng.integers(0, 6, m)]
    pd.DataFrame({"actor_id": actor, "target_id": target, "kind": kinds, "at": times(m, 0.05), "count": counts}).to_csv(
        folder / "interactions.csv", index=False
    )
    kind = np.array(["person", "brand", ""], dtype=object)[rng.integers(0, 3, n - 10)]
    community = np.array(["north", "south", ""], dtype=object)[rng.integers(0, 3, n - 10)]
    pd.DataFrame({"account_id": ids[10:], "kind": kind, "community": community}).to_csv(folder / "accounts.csv", index=False)
    return folder


@pytest.mark.parametrize("engine", SQL_ENGINES)
def test_engine_dyad_table_equals_the_memory_table_on_messy_input(messy, engine, tmp_path):
    dataset, table, aggregates = _agree(messy, engine, tmp_path)
    frame = table.frame
    # The fixture reaches every branch the comparison is meant to test.
    assert dataset.validation.repairs["duplicate_follows_removed"] > 0 and dataset.validation.repairs["follow_self_loops_removed"] > 0
    assert (
        aggregates.follows_read - aggregates.arcs
        == dataset.validation.repairs["duplicate_follows_removed"] + dataset.validation.repairs["follow_self_loops_removed"]
    )
    assert frame["mutual"].sum() > 100 and frame["followed_at"].isna().sum() > 10
    assert frame["ab_before_follow"].sum() > 0 and frame["ab_mutual"].sum() > 0 and frame["ab_one_way"].isna().sum() > 0
    assert frame["ab_total"].max() > 5 and frame["a_community"].notna().sum() > 0
    assert len(frame["a_id"].astype(str).iloc[0]) == 19


@pytest.mark.parametrize("engine", SQL_ENGINES)
def test_engine_dyad_table_equals_the_memory_table_on_the_bundled_sample_and_a_saved_dataset(engine, tmp_path):
    _agree(ru.SAMPLE_DIR, engine, tmp_path)
    saved = ru.load_dataset(ru.SAMPLE_DIR).save(tmp_path / "saved")  # Parquet with typed times, and dataset.json's coverage
    _agree(saved, engine, tmp_path)


def test_the_study_models_read_the_engine_table_and_find_the_same_estimate(tmp_path):
    from reciprocity_utils import inference

    dataset = ru.load_dataset(ru.SAMPLE_DIR)
    write_dyad_aggregates(ru.SAMPLE_DIR, tmp_path / "dyads")
    in_memory = inference.prepare_study(dataset)
    from_engine = inference.prepare_study_from_dyads(read_dyad_table(tmp_path / "dyads"), dyad_coverage(tmp_path / "dyads"))
    specs = inference.standard_specs(in_memory.arcs_frame)
    memory_fit = inference.headline_fit(inference.fit_all(in_memory.arcs_frame, specs)[0])
    engine_fit = inference.headline_fit(inference.fit_all(from_engine.arcs_frame, specs)[0])
    assert engine_fit.mutual.value == pytest.approx(memory_fit.mutual.value, rel=1e-9)
    assert engine_fit.mutual.interval() == pytest.approx(memory_fit.mutual.interval(), rel=1e-9)


@pytest.mark.parametrize(
    "column, value, expected",
    [
        ("at", "last tuesday", "1 row, field 'at': expected a time"),
        ("kind", "poke", "1 row, field 'kind': expected an engagement kind"),
        ("count", "two", "1 row, field 'count': expected a whole number"),
    ],
)
def test_a_value_the_engine_cannot_read_is_one_line_naming_file_column_and_value(tmp_path, column, value, expected):
    pd.DataFrame({"follower_id": ["1", "2"], "followee_id": ["2", "1"]}).to_csv(tmp_path / "follows.csv", index=False)
    events = pd.DataFrame(
        {
            "actor_id": ["1", "2"],
            "target_id": ["2", "1"],
            "kind": ["like", "reply"],
            "at": ["2024-01-01T00:00:00Z"] * 2,
            "count": ["1", "1"],
        }
    )
    events.loc[1, column] = value
    events.to_csv(tmp_path / "interactions.csv", index=False)
    with pytest.raises(DatasetValidationError) as raised:
        write_dyad_aggregates(tmp_path, tmp_path / "out")
    line = str(raised.value)
    assert "interactions.csv" in line and expected in line and value in line and "\n" not in line


def test_the_folder_is_private_and_says_what_was_counted(messy, tmp_path):
    aggregates = write_dyad_aggregates(messy, tmp_path / "out")
    about = json.loads((tmp_path / "out" / "dyads.json").read_text())
    assert about["aggregates"]["arcs"] == aggregates.arcs and aggregates.self_engagement_removed > 0
    assert (tmp_path / "out").stat().st_mode & 0o077 == 0


@pytest.fixture(scope="module")
def measured_sample(tmp_path_factory):
    """The bundled sample measured by DuckDB with a subgraph of about a third of its follows: the whole table is written beside it."""
    from reciprocity_utils.engines.network import measure_network

    folder = tmp_path_factory.mktemp("measured-sample")
    network = measure_network(ru.SAMPLE_DIR, folder, engine="duckdb", seed=0, subgraph_follows=1_500)
    return folder, network


def _whole_network(folder, tmp_path):
    from reciprocity_utils.parameters import check_parameters

    params = check_parameters(str(folder), "dataset", "", str(tmp_path / "out"), 0, "memory", "4GB", 300_000)
    return ru.whole_network_dyads(params)


def test_study_03_fits_the_whole_networks_table_and_times_on_the_subgraph(measured_sample, tmp_path):
    from reciprocity_utils import inference

    folder, network = measured_sample
    whole = _whole_network(folder, tmp_path)
    loaded = ru.load_dataset(ru.SAMPLE_DIR)
    pd.testing.assert_frame_equal(_as_compared(whole.table.frame), _as_compared(build_dyads(loaded).frame))
    assert whole.counts()["interaction_rows"] == len(loaded.interactions) and whole.counts()["follows"] == len(loaded.follows)
    assert not whole.coverage.sampled and whole.coverage.engagement_observed == "everyone"

    subgraph = network.subgraph_dataset()
    # Study 04's page (the subgraph's notes) must not say study 03 uses the subgraph for its models.
    said = " ".join(subgraph.coverage.notes + network.coverage.notes)
    assert "study 03's timing design and prediction (its models use the whole network's table)" in said
    assert "Studies 03 and 04" not in said
    study = inference.prepare_study(subgraph, whole_network=whole)
    assert len(study.arcs_frame.data) == len(loaded.follows) and study.frame.design == "states"
    assert study.timing_dataset is subgraph and len(study.timing_dyads.frame) == network.draw.follows < len(loaded.follows)
    notes = " ".join(study.notes())
    assert (
        f"use the whole network: all {len(loaded.follows):,} follows" in notes and "timing design and the out-of-time prediction" in notes
    )
    assert "Studies 03 and 04" not in notes  # the subgraph's own note would contradict the page
    # The same headline as the loaded dataset's (each follow's time split at the follow-back), and it covers the planted ratio.
    in_memory = inference.prepare_study(loaded)
    assert in_memory.frame.design == "states" and len(study.frame.data) == len(in_memory.frame.data)
    specs = inference.standard_specs(study.frame)
    ours = inference.headline_fit(inference.fit_all(study.frame, specs)[0])
    theirs = inference.headline_fit(inference.fit_all(in_memory.frame, specs)[0])
    assert ours.mutual.value == pytest.approx(theirs.mutual.value, rel=1e-9) and ours.mutual.covers(2.0)
    assert ours.mutual.interval() == pytest.approx(theirs.mutual.interval(), rel=1e-9)
    details = ru.dataset_details(study.described)
    assert details["counts"]["follows"] == len(loaded.follows) and not details["coverage"]["sampled"]


def test_a_whole_table_too_large_for_memory_leaves_the_models_on_the_subgraph(measured_sample, tmp_path):
    from reciprocity_utils import inference
    from reciprocity_utils.dyad_files import load_whole_network_dyads

    folder, network = measured_sample
    whole = load_whole_network_dyads(
        folder / "dyads", network.counts(), network.validation, network.provenance, network.draw.sample_words(), available_bytes=10**6
    )
    assert whole.table is None and "GiB" in whole.too_large
    subgraph = network.subgraph_dataset()
    study = inference.prepare_study(subgraph, whole_network=whole)
    assert len(study.dyads.frame) == network.draw.follows and study.described is subgraph
    assert whole.too_large in study.notes() and any("random subgraph" in note for note in study.notes())


def test_a_follow_list_without_engagement_gets_no_whole_table(tmp_path):
    from reciprocity_utils.engines.network import measure_network

    loaded = ru.load_dataset(ru.SAMPLE_DIR)
    loaded.follows[["follower_id", "followee_id"]].to_csv(tmp_path / "follows.csv", index=False)
    measure_network(tmp_path / "follows.csv", tmp_path / "measured", engine="duckdb", subgraph_follows=1_000)
    assert not (tmp_path / "measured" / "dyads").exists() and _whole_network(tmp_path / "measured", tmp_path) is None


def test_cli_measure_writes_the_dyad_table_and_says_what_it_counted(tmp_path, capsys):
    from reciprocity_utils.cli import main

    assert main(["measure", str(ru.SAMPLE_DIR), "--engine", "duckdb", "--out", str(tmp_path / "m"), "--dyads"]) == 0
    printed = capsys.readouterr().out
    loaded = ru.load_dataset(ru.SAMPLE_DIR)
    assert f"{len(loaded.follows):,} follows with the engagement" in printed and f"{len(loaded.interactions):,} engagement rows" in printed
    assert read_dyad_table(tmp_path / "m" / "dyads").frame["ab_total"].sum() == build_dyads(loaded).frame["ab_total"].sum()
    assert main(["measure", str(ru.SAMPLE_DIR), "--dyads"]) == 2
    assert "give --out too" in capsys.readouterr().err


def test_no_whole_table_is_computed_where_it_could_never_be_read(tmp_path, monkeypatch):
    """A network whose table would not fit in memory: the engine does not spend the time and disk on it; study 03 uses the subgraph."""
    from reciprocity_utils.engines import choice
    from reciprocity_utils.engines.network import measure_network

    monkeypatch.setattr(choice, "available_memory_bytes", lambda: 10**6)
    network = measure_network(ru.SAMPLE_DIR, tmp_path / "measured", engine="duckdb", subgraph_follows=1_500)
    assert not (tmp_path / "measured" / "dyads").exists() and _whole_network(tmp_path / "measured", tmp_path) is None
    assert any("Studies 03 and 04" in note for note in network.subgraph_dataset().coverage.notes)
