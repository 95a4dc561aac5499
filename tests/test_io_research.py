"""Research networks: UCD multiview groups, .mtx, SNAP edge lists, Higgs layers, matrices, graph files.

Real files are read in place from ../shared/data (skipped when absent); the figures they are
checked against are the ones published in ../shared/data/README.md, plus counts made here
independently with plain Python.
"""

from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path

import pytest
from conftest import needs_shared_data

from reciprocity_utils import DatasetValidationError, detect_format, load_dataset

FIXTURES = Path(__file__).parent / "fixtures" / "io"

# Published figures (../shared/data/README.md): accounts, follows, r, rho with N from <g>.ids.
UCD_FIGURES = {
    "football": (248, 3819, 0.6148, 0.5892),
    "olympics": (464, 10642, 0.5366, 0.5124),
    "rugby": (854, 35757, 0.7213, 0.7069),
}


def _plain_arcs(path: Path) -> set[tuple[str, str]]:
    """Distinct non-loop arcs of a whitespace edge list, counted without pandas."""
    arcs = set()
    for line in path.read_text().splitlines():
        parts = line.split()
        if len(parts) >= 2 and not line.startswith(("#", "%")) and parts[0] != parts[1]:
            arcs.add((parts[0], parts[1]))
    return arcs


@pytest.mark.shared_data
@pytest.mark.parametrize("group", sorted(UCD_FIGURES))
def test_ucd_group_matches_published_figures(group):
    folder = needs_shared_data("networks", "ucd-twitter-multiview", group)
    assert detect_format(folder) == "ucd"
    dataset = load_dataset(folder)
    accounts, follows, r, rho = UCD_FIGURES[group]
    counts = dataset.counts()
    assert counts["accounts"] == accounts
    assert counts["follows"] == follows
    assert counts["arc_reciprocity"] == pytest.approx(r, abs=5e-5)
    density = follows / (accounts * (accounts - 1))
    assert (counts["arc_reciprocity"] - density) / (1 - density) == pytest.approx(rho, abs=5e-5)
    coverage = dataset.coverage
    assert coverage.scope == "network" and coverage.mutuality_observable
    assert coverage.engagement_observed == "everyone"
    assert dataset.validation.total_repairs == 0


@pytest.mark.shared_data
def test_ucd_football_engagement_and_labels_match_independent_counts():
    folder = needs_shared_data("networks", "ucd-twitter-multiview", "football")
    dataset = load_dataset(folder)
    for layer, kind in (("mentions", "mention"), ("retweets", "repost")):
        lines = (folder / f"football-{layer}.mtx").read_text().splitlines()[1:]
        expected_total = sum(int(line.split()[2]) for line in lines)
        rows = dataset.interactions[dataset.interactions["kind"] == kind]
        assert len(rows) == len(lines)
        assert int(rows["count"].sum()) == expected_total
    # Isolated accounts listed in football.ids count as members.
    ids = set((folder / "football.ids").read_text().split())
    assert set(dataset.accounts["account_id"]) == ids
    first = (folder / "football.communities").read_text().splitlines()[0]
    label, members = first.split(":", 1)
    labelled = dataset.accounts.set_index("account_id")["labels"]
    assert all(label in labelled[m.strip()].split(";") for m in members.split(","))


@pytest.mark.shared_data
def test_ucd_rugby_keeps_every_community_of_an_account():
    folder = needs_shared_data("networks", "ucd-twitter-multiview", "rugby")
    memberships = {}
    for line in (folder / "rugby.communities").read_text().splitlines():
        label, members = line.split(":", 1)
        for member in members.split(","):
            memberships.setdefault(member.strip(), []).append(label.strip())
    dataset = load_dataset(folder)
    labels = dataset.accounts.set_index("account_id")["labels"].str.split(";")
    several = {m: l for m, l in memberships.items() if len(l) > 1}
    assert several, "rugby has accounts in several communities"
    assert all(sorted(labels[m]) == sorted(l) for m, l in several.items())


def test_ucd_fixture_removes_and_counts_edges_outside_the_group():
    dataset = load_dataset(FIXTURES / "ucd_tiny")
    repairs = dataset.validation.repairs
    assert repairs["follows_unknown_removed"] == 1  # 13 -> 99
    assert repairs["interactions_unknown_removed"] == 1  # 99 -> 11
    assert repairs["follow_self_loops_removed"] == 1  # 14 -> 14
    assert len(dataset.accounts) == 4  # 14 has no arc left but stays a member
    assert dataset.counts()["mutual_pairs"] == 1
    labels = dataset.accounts.set_index("account_id")["labels"]
    assert labels["12"] == "red;blue" and labels.isna()["14"]
    assert dataset.interactions.set_index("kind")["count"].to_dict() == {"mention": 3, "repost": 7}


def test_truncated_mtx_names_the_header_and_both_counts():
    with pytest.raises(DatasetValidationError, match=r"4 edge lines.*found '2 edge lines'") as error:
        load_dataset(FIXTURES / "research" / "truncated.mtx")
    assert error.value.where == "line 1"


# --- SNAP edge lists and Higgs layers --------------------------------------------------------


def _reciprocity(arcs: set[tuple[str, str]]) -> float:
    return sum((b, a) in arcs for a, b in arcs) / len(arcs)


@pytest.mark.shared_data
def test_wiki_vote_matches_published_figures():
    path = needs_shared_data("exports", "research", "snap_edgelist", "Wiki-Vote.txt")
    assert detect_format(path) == "snap"
    dataset = load_dataset(path)
    counts = dataset.counts()
    assert (counts["follows"], counts["accounts"]) == (103_689, 7_115)
    assert counts["arc_reciprocity"] == pytest.approx(0.0565, abs=5e-5)
    assert counts["arc_reciprocity"] == pytest.approx(_reciprocity(_plain_arcs(path)), abs=1e-12)
    assert any("voted on B" in note for note in dataset.coverage.notes)  # the header says what a tie is


@pytest.mark.shared_data
@pytest.mark.parametrize("layer, kind, arcs, r", [("reply", "reply", 32_180, 0.1633), ("mention", "mention", 145_465, 0.0694)])
def test_higgs_layers_match_published_figures(layer, kind, arcs, r):
    path = needs_shared_data("exports", "research", "higgs", f"higgs-{layer}_network.edgelist")
    assert detect_format(path) == "higgs"
    dataset = load_dataset(path)
    assert set(dataset.interactions["kind"]) == {kind}
    assert len(dataset.interactions) == arcs
    weights = sum(int(line.split()[2]) for line in path.read_text().splitlines() if line.split()[0] != line.split()[1])
    assert int(dataset.interactions["count"].sum()) == weights
    assert dataset.validation.repairs["interaction_self_loops_removed"] > 0
    assert not dataset.coverage.mutuality_observable  # no follows in an interaction layer
    as_ties = load_dataset(path, as_follows=True).counts()
    assert as_ties["follows"] == arcs and as_ties["arc_reciprocity"] == pytest.approx(r, abs=5e-5)


def test_higgs_activity_lines_and_snap_crlf_fixture():
    activity = load_dataset(FIXTURES / "research" / "higgs-activity_time.txt")
    assert activity.interactions.set_index("kind")["target_id"].to_dict() == {"repost": "2", "mention": "1", "reply": "1"}
    assert activity.interactions["at"].min() == datetime.fromtimestamp(1341100972, tz=timezone.utc)
    snap = load_dataset(FIXTURES / "research" / "snap_crlf.txt")
    assert snap.counts()["follows"] == 3 and snap.counts()["mutual_pairs"] == 1


def test_edge_list_with_a_bad_line_names_it(tmp_path):
    path = tmp_path / "edges.txt"
    path.write_text("# toy\n1 2\n2 x\n")
    with pytest.raises(DatasetValidationError, match="whole-number node id") as error:
        load_dataset(path, format="snap")
    assert error.value.where == "line 3"


# --- matrices, graph files, twarc ------------------------------------------------------------


@pytest.mark.shared_data
@pytest.mark.parametrize(
    "parts, arcs, r",
    [
        (("krackhardt-hightech", "xucinet", "Friendship.csv"), 102, 0.451),
        (("krackhardt-hightech", "xucinet", "Advice.csv"), 190, 0.4737),
        (("lazega-lawyers", "ELfriend.dat"), 575, None),
        (("lazega-lawyers", "ELadv.dat"), 892, None),
        (("eies", "messages.asc"), 440, None),
    ],
)
def test_sociometric_matrices_match_published_figures(parts, arcs, r):
    path = needs_shared_data("networks", *parts)
    assert detect_format(path) == "matrix"
    counts = load_dataset(path).counts()
    assert counts["follows"] == arcs
    if r is not None:
        assert counts["arc_reciprocity"] == pytest.approx(r, abs=5e-4)


@pytest.mark.shared_data
def test_directed_gml_loads_and_undirected_graphs_are_refused():
    folder = needs_shared_data("exports", "research", "graph_files")
    dataset = load_dataset(folder / "twecoll-twitter-oazanon.gml")
    text = (folder / "twecoll-twitter-oazanon.gml").read_text()
    assert dataset.counts()["follows"] == text.count("edge [")
    assert len(dataset.accounts) == text.count("node [")
    assert "CIBBVA" in set(dataset.accounts["handle"])
    for name in ("kerighan_twitter.gexf", "tusharmishra_twitter.graphml"):
        with pytest.raises(DatasetValidationError, match="no reciprocity information"):
            load_dataset(folder / name)


@pytest.mark.shared_data
def test_twarc_csv_and_jsonl_of_the_same_tweets_agree():
    folder = needs_shared_data("exports", "research", "twarc_csv")
    for stem in ("two_tweets", "mentions_tweet"):
        csv, jsonl = folder / f"{stem}.twarc-csv-0.7.2.csv", folder / f"{stem}.jsonl"
        assert (detect_format(csv), detect_format(jsonl)) == ("twarc_csv", "twarc_jsonl")
        from_csv, from_jsonl = load_dataset(csv), load_dataset(jsonl)
        columns = ["actor_id", "target_id", "kind"]
        assert from_csv.interactions[columns].values.tolist() == from_jsonl.interactions[columns].values.tolist()
        record = json.loads(jsonl.read_text().splitlines()[0])["data"][0]
        assert from_csv.interactions["actor_id"].tolist() == [record["author_id"]]


def test_twarc_csv_with_unknown_columns_names_what_was_expected():
    with pytest.raises(DatasetValidationError, match="author_id") as error:
        load_dataset(FIXTURES / "bad" / "twarc_unknown_columns.csv", format="twarc_csv")
    assert error.value.where == "line 1" and "tweet, who, words" in str(error.value)


@pytest.mark.parametrize(
    "text, uniform",
    [
        ("# Nodes: 3\n1\t2\n2\t3\n3\t1\n", True),  # SNAP: header, tabs
        ("# a header\r\n# another\r\n10 20\r\n20 10\r\n", True),  # CRLF, spaces
        ("1 2 5\n2 3 7\n", True),  # fewer fields than the most allowed
        ("1 2\n# a comment inside\n2 3\n", False),  # not the fast case: the line reader
        ("1  2\n2 3\n", False),  # two spaces: the line reader
        ("1 2 1 RT\n2 3 4\n", False),  # ragged rows: the line reader
    ],
)
def test_the_arrow_reader_gives_what_the_line_reader_gives(tmp_path, text, uniform):
    """Edge lists take Arrow's CSV reader when they are uniform; either way rows, line numbers and headers agree."""
    from reciprocity_utils.io import common

    path = tmp_path / "edges.txt"
    path.write_bytes(text.encode())
    names = ["a", "b", "c", "d"]
    assert (common._read_uniform_columns(text.encode(), ("#", "%"), 2, 4, names) is not None) == uniform
    got = common.read_whitespace_lines(path, min_fields=2, max_fields=4, names=names)
    original = common._read_uniform_columns
    common._read_uniform_columns = lambda *args, **kwargs: None
    try:
        expected = common.read_whitespace_lines(path, min_fields=2, max_fields=4, names=names)
    finally:
        common._read_uniform_columns = original
    assert got[1] == expected[1]
    assert list(got[0].index) == list(expected[0].index) and list(got[0].columns) == list(expected[0].columns)
    for column in expected[0]:
        assert (
            got[0][column].astype(object).where(got[0][column].notna(), None).tolist()
            == expected[0][column].astype(object).where(expected[0][column].notna(), None).tolist()
        )
