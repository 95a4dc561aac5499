"""A whole network's engagement counted by DuckDB and Spark equals what the loaded dataset gives.

Study 01's engagement counts and weekly activity, and study 02's engagement reciprocity (who
engaged with whom among mutual and one-way pairs, inside a window ending with the data), on a
network measured out of memory: compared number by number with the in-memory functions on the
messy fixture of study 03's aggregates and on the bundled sample.
"""

from __future__ import annotations

import dataclasses
import json
import shutil

import pandas as pd
import pytest
from test_dyad_aggregates import SQL_ENGINES, messy  # noqa: F401  (the fixture, shared)

import reciprocity_utils as ru
from reciprocity_utils import metrics
from reciprocity_utils.answers import answer_01, answer_02, data_in_words
from reciprocity_utils.engines.engagement_sql import engagement_patterns, engagement_summary, window_start_us
from reciprocity_utils.engines.network import MeasuredNetwork, measure_network
from reciprocity_utils.measured_metrics import measured_engagement_reciprocity
from reciprocity_utils.plots import activity_over_time, engagement_by_kind
from reciprocity_utils.plots.dataset import _weekly_activity

WINDOWS = [90, None, 7.3, 10_000]


def _same_engagement(ours: metrics.EngagementReciprocity, theirs: metrics.EngagementReciprocity) -> None:
    pd.testing.assert_frame_equal(ours.table.reset_index(drop=True), theirs.table.reset_index(drop=True), check_dtype=False)
    assert ours.events_counted == theirs.events_counted and ours.events_without_time == theirs.events_without_time
    assert (ours.window_start, ours.window_end) == (theirs.window_start, theirs.window_end)
    assert ours.notes[: len(theirs.notes)] == theirs.notes  # the same words on the window, then the engine's line
    assert metrics.in_words(ours) == metrics.in_words(theirs)


@pytest.mark.parametrize("engine", SQL_ENGINES)
def test_engine_engagement_reciprocity_equals_memory_on_messy_input(messy, engine, tmp_path):  # noqa: F811
    network = measure_network(messy / "follows.csv", tmp_path, engine=engine, seed=0, subgraph_follows=600)
    dataset = ru.load_dataset(messy)
    # The fixture reaches the branches: events without a time, self-engagement, counts above one.
    assert network.engagement.rows_without_time > 0 and network.engagement.self_engagement_removed > 0
    windows = WINDOWS if engine == "duckdb" else WINDOWS[:2]  # a Spark run costs seconds each
    for window in windows:
        ours = metrics.engagement_reciprocity(network, window_days=window)
        theirs = metrics.engagement_reciprocity(dataset, window_days=window)
        assert len(theirs.table) == 7 and theirs.table["pairs"].sum() > 0
        _same_engagement(ours, theirs)
        if window == 90:
            assert ours.events_without_time > 0 and "cannot be placed in the window" in " ".join(ours.notes)


@pytest.mark.parametrize("engine", SQL_ENGINES)
def test_engine_engagement_counts_and_activity_equal_memory(messy, engine, tmp_path):  # noqa: F811
    network = measure_network(messy / "follows.csv", tmp_path, engine=engine, seed=0, subgraph_follows=600)
    dataset = ru.load_dataset(messy)
    counts, expected = network.counts(), dataset.counts()
    for key in ("interaction_rows", "interaction_events", *(f"events_{k}" for k in ru.INTERACTION_KINDS)):
        assert counts[key] == expected[key], key
    assert expected["interaction_events"] > expected["interaction_rows"]  # counts above one are weighted
    repairs = network.validation.repairs["interaction_self_loops_removed"]
    assert repairs == dataset.validation.repairs["interaction_self_loops_removed"] > 0
    assert network.validation.rows_read["interactions"] == dataset.validation.rows_read["interactions"]
    assert pd.Timestamp(network.coverage.time_start) == pd.Timestamp(dataset.coverage.time_start)
    assert pd.Timestamp(network.coverage.time_end) == pd.Timestamp(dataset.coverage.time_end)
    follows, events, times, missing = _weekly_activity(network, "W")
    expected_follows, expected_events, expected_times, _ = _weekly_activity(dataset, "W")
    assert missing is None and len(follows) > 30
    pd.testing.assert_series_equal(follows, expected_follows, check_names=False, check_index_type=False, check_freq=False)
    pd.testing.assert_frame_equal(
        events[sorted(events.columns)],
        expected_events[sorted(expected_events.columns)],
        check_names=False,
        check_index_type=False,
        check_freq=False,
        check_column_type=False,
    )
    assert (times.min(), times.max()) == (expected_times.min(), expected_times.max())


def test_on_the_bundled_sample_every_window_and_the_pages_words(tmp_path):
    network = measure_network(ru.SAMPLE_DIR, tmp_path, engine="duckdb", seed=0, subgraph_follows=1_500)
    dataset = ru.load_dataset(ru.SAMPLE_DIR)
    for window in WINDOWS:
        _same_engagement(metrics.engagement_reciprocity(network, window), metrics.engagement_reciprocity(dataset, window))
    # The accounts table is there: the page must not say none was given, and it counts its rows.
    assert network.validation.rows_read["accounts"] == len(dataset.accounts) == 300
    assert "The accounts table (300 rows)" in network.validation.notes[0] and "No accounts table" not in " ".join(network.validation.notes)
    # Study 01's figure draws the engine's counts, and says who counted them.
    figure = engagement_by_kind(network)
    bars = [patch.get_width() for patch in figure.figure.axes[0].patches]
    assert bars == [dataset.counts()[f"events_{k}"] for k in ru.INTERACTION_KINDS]
    assert "Counted over the whole network by the DuckDB engine" in figure.caption and "not read" not in figure.caption
    assert "Counted over the whole network by the DuckDB engine" in activity_over_time(network).caption
    coverage = dataclasses.asdict(network.coverage)
    results = {"headline": {"accounts": 299, "follows": 4284, "engagement_events": 14911}, "details": {"coverage": coverage}}
    first = " ".join(answer_01(results).sentences)
    assert "14,911 engagement events between accounts, counted over the whole network by the DuckDB engine" in first
    assert "Follow times are known; the timing of follow-backs is not measured on the whole network." in first
    timing = metrics.followback_timing(network)
    assert timing.spells.empty and "not how long each follow waited for its follow-back" in timing.notes[0]
    assert "not read" not in first
    words = data_in_words({"details": {"coverage": coverage, "counts": network.counts()}})
    assert "with engagement in both directions" in words and "2024-01-01 to 2024-12-30" in words
    shares = metrics.engagement_reciprocity(network, 90).headline()
    second = " ".join(answer_02({"headline": {"arc_reciprocity": 0.52, **shares}, "details": {"coverage": coverage}}).sentences)
    assert "Of mutual pairs, 43% engage both ways" in second


def test_the_window_starts_where_pandas_places_it():
    end = pd.Timestamp("2024-12-30T22:55:53.123456Z")
    for days in (90, 7.3, 1 / 3, 0.000001, *(n / 97 for n in range(1, 400))):  # most not a whole number of microseconds
        start = end - pd.Timedelta(days=days)
        first = window_start_us(end.value // 1000, days)
        assert pd.Timestamp(first, unit="us", tz="UTC") >= start > pd.Timestamp(first - 1, unit="us", tz="UTC")


def test_a_measured_network_whose_input_moved_says_so_without_its_path(tmp_path):
    copy = tmp_path / "input"
    shutil.copytree(ru.SAMPLE_DIR, copy)
    network = measure_network(copy, tmp_path / "measured", engine="duckdb", seed=0, subgraph_follows=1_500)
    shutil.rmtree(copy)
    result = measured_engagement_reciprocity(MeasuredNetwork.load(tmp_path / "measured"), 90)
    assert result.table.empty and "no longer where they were" in result.notes[0] and str(tmp_path) not in result.notes[0]
    assert metrics.in_words(result) == ""
    second = " ".join(
        answer_02(
            {"headline": {"arc_reciprocity": 0.52, **result.headline()}, "details": {"coverage": dataclasses.asdict(network.coverage)}}
        ).sentences
    )
    assert "cannot be seen here" in second


@pytest.mark.parametrize("change", ["interactions removed", "interactions rewritten"])
def test_a_measured_network_whose_engagement_file_changed_says_so(change, tmp_path):
    """Study 02 reads the folder again: a changed file would give numbers of other data than study 01's."""
    copy = tmp_path / "input"
    shutil.copytree(ru.SAMPLE_DIR, copy)
    network = measure_network(copy, tmp_path / "measured", engine="duckdb", seed=0, subgraph_follows=1_500)
    assert not metrics.engagement_reciprocity(network, 90).table.empty
    if change == "interactions removed":
        (copy / "interactions.csv").unlink()
    else:
        events = pd.read_csv(copy / "interactions.csv", dtype=str)
        events.iloc[: len(events) // 2].to_csv(copy / "interactions.csv", index=False)
    result = metrics.engagement_reciprocity(MeasuredNetwork.load(tmp_path / "measured"), 90)
    assert result.table.empty and "or have changed since" in result.notes[0]


def test_an_empty_engagement_table_is_no_engagement_as_in_memory(tmp_path):
    """Only a header (or only self-engagement): the source records none; the engine did read it."""
    copy = tmp_path / "input"
    shutil.copytree(ru.SAMPLE_DIR, copy)
    events = pd.read_csv(copy / "interactions.csv", dtype=str)
    events.iloc[:3].assign(target_id=events["actor_id"].iloc[:3]).to_csv(copy / "interactions.csv", index=False)
    (copy / "follows.csv").write_text(
        "follower_id,followee_id\n"
        + "".join(
            f"{a},{b}\n"
            for a, b in pd.read_csv(ru.SAMPLE_DIR / "follows.csv", dtype=str)[["follower_id", "followee_id"]].itertuples(index=False)
        )
    )
    network = measure_network(copy, tmp_path / "measured", engine="duckdb", seed=0, subgraph_follows=1_500)
    dataset = ru.load_dataset(copy)
    assert dataset.coverage.engagement_observed == network.coverage.engagement_observed == "none"
    assert network.validation.repairs["interaction_self_loops_removed"] == 3
    described = " ".join(network.coverage.describe())
    assert "No engagement is recorded." in described and "not read" not in described
    assert "Follow times are not known." in described  # the follows here have no time
    ours, theirs = metrics.engagement_reciprocity(network, 90), metrics.engagement_reciprocity(dataset, 90)
    assert ours.notes == theirs.notes == ("No engagement is recorded in this source, so engagement reciprocity cannot be measured.",)
    assert "No engagement recorded in this dataset" in engagement_by_kind(network).figure.axes[0].texts[0].get_text()
    coverage = dataclasses.asdict(network.coverage)
    assert "with no engagement" in data_in_words({"details": {"coverage": coverage, "counts": network.counts()}})
    first = " ".join(answer_01({"headline": {"engagement_events": 0}, "details": {"coverage": coverage}}).sentences)
    assert "No engagement is recorded." in first and "Follow times are not known." in first


def test_a_network_measured_before_engagement_was_counted_still_loads(tmp_path):
    network = measure_network(ru.SAMPLE_DIR, tmp_path, engine="duckdb", seed=0, subgraph_follows=1_500)
    meta = json.loads((tmp_path / "network.json").read_text())
    assert meta["engagement"]["rows_kept"] == 14_911 and meta["engagement_input"]
    for key in ("engagement", "engagement_input", "spark_master"):
        del meta[key]
    (tmp_path / "network.json").write_text(json.dumps(meta))
    old = MeasuredNetwork.load(tmp_path)
    assert old.engagement is None and old.counts()["interaction_rows"] == 0 and network.counts()["interaction_rows"] == 14_911


def test_bad_engagement_values_stop_the_measure_with_one_line(tmp_path):
    folder = tmp_path / "input"
    shutil.copytree(ru.SAMPLE_DIR, folder)
    events = pd.read_csv(folder / "interactions.csv", dtype=str)
    events.loc[7, "kind"] = "wave"
    events.to_csv(folder / "interactions.csv", index=False)
    with pytest.raises(ru.DatasetValidationError) as error:
        measure_network(folder, tmp_path / "measured", engine="duckdb", seed=0, subgraph_follows=1_500)
    message = str(error.value)
    assert "interactions.csv" in message and "kind" in message and "wave" in message and "\n" not in message


@pytest.mark.parametrize("engine", SQL_ENGINES)
def test_summary_and_patterns_are_the_same_from_every_engine_and_run(engine):
    summaries = [engagement_summary(ru.SAMPLE_DIR, name) for name in ("duckdb", engine)]
    assert dataclasses.replace(summaries[0], seconds=0) == dataclasses.replace(summaries[1], seconds=0)
    patterns = [engagement_patterns(ru.SAMPLE_DIR, 30, name) for name in ("duckdb", engine, engine)]
    for other in patterns[1:]:
        pd.testing.assert_frame_equal(patterns[0].counts, other.counts)


def test_a_real_network_saved_as_a_dataset_gives_the_same_engagement(tmp_path):
    """UCD's olympics group (mentions and retweets as totals without times): the engine's numbers and notes are the loaded ones."""
    from conftest import needs_shared_data

    dataset = ru.load_dataset(needs_shared_data("networks", "ucd-twitter-multiview", "olympics"))
    saved = dataset.save(tmp_path / "saved")
    network = measure_network(saved, tmp_path / "measured", engine="duckdb", seed=0, subgraph_follows=5_000)
    for key in ("follows", "mutual_pairs", "interaction_rows", "interaction_events", "events_mention", "events_repost"):
        assert network.counts()[key] == dataset.counts()[key], key
    for window in (90, None):
        _same_engagement(metrics.engagement_reciprocity(network, window), metrics.engagement_reciprocity(dataset, window))
    # The source's own words on its engagement (totals without times) hold for the whole network's counts too.
    assert set(dataset.coverage.notes) <= set(network.coverage.notes)
    coverage = dataclasses.asdict(network.coverage)
    first = " ".join(answer_01({"headline": {"engagement_events": 119_397}, "details": {"coverage": coverage}}).sentences)
    assert "Follow times are not known." in first and "Follow times are known" not in first
    assert "Follow times are not known." in " ".join(network.coverage.describe())


@pytest.mark.parametrize("engine", SQL_ENGINES[1:])  # Spark: where it runs is the environment's choice
def test_a_report_runs_spark_where_the_environment_says(engine, tmp_path, monkeypatch):
    from reciprocity_utils.engines.spark_engine import SPARK_MASTER_VARIABLE
    from reciprocity_utils.parameters import check_parameters, open_input

    monkeypatch.setenv(SPARK_MASTER_VARIABLE, " local[1] ")
    params = check_parameters(str(ru.SAMPLE_DIR), "auto", "", str(tmp_path / "out"), 0, engine, "4GB", 1_500)
    network = open_input(params, measured=True)
    assert network.spark_master == "local[1]" and MeasuredNetwork.load(network.folder).spark_master == "local[1]"
    assert "local[1]" not in json.dumps(dataclasses.asdict(network.provenance))  # parameters are published: the master is not one
