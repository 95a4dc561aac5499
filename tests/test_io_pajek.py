"""Pajek networks and projects: the chosen network, relation and time, nothing guessed.

Real files (EIES, Sampson) are read in place from ../shared/data (skipped when absent) and
checked against the published message-arc count and against the UCINET matrices of the same
data; small files written here cover every kind of bad input.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from conftest import needs_shared_data

from reciprocity_utils import DatasetValidationError, detect_format, load_dataset, metrics

SMALL = """% a comment line
*Network friends
*Vertices 4
 1 "Ann Lee" 0.1 0.2
 2 "Bo"
 3 Cy
 4
*Arcs
 1 2 1
 2 1 2
 1 3
 3 3 1
 4 1 -1
*Edges
"""


def write(tmp_path: Path, text: str, name: str = "net.net") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_small_network_arcs_become_follows_with_labels_as_handles(tmp_path):
    path = write(tmp_path, SMALL)
    assert detect_format(path) == "pajek"
    dataset = load_dataset(path)
    follows = set(zip(dataset.follows["follower_id"], dataset.follows["followee_id"]))
    assert follows == {("1", "2"), ("2", "1"), ("1", "3")}  # self-loop repaired, negative arc left out
    handles = dict(zip(dataset.accounts["account_id"], dataset.accounts["handle"]))
    assert handles["1"] == "Ann Lee" and handles["3"] == "Cy" and "4" in handles
    assert dataset.validation.total_repairs == 1
    notes = " ".join(dataset.coverage.notes)
    assert "1 arcs valued below 1" in notes and "valued (1, 2)" in notes
    assert metrics.reciprocity(dataset).arc_reciprocity == pytest.approx(2 / 3)


def test_min_value_decides_what_counts_as_a_tie(tmp_path):
    dataset = load_dataset(write(tmp_path, SMALL), min_value=2)
    assert list(zip(dataset.follows["follower_id"], dataset.follows["followee_id"])) == [("2", "1")]


PROJECT = """*Network first
*Vertices 3
1 "a"
2 "b"
3 "c"
*Arcs :1 "likes"
1 2 1 [1-2]
2 1 1 [2,4]
2 3 1 [3-*]
*Arcs :2 "advises"
3 1 1
*Partition groups
*Vertices 3
1
2
1
*Network second
*Vertices 2
1 "x"
2 "y"
*Arcs
1 2
"""


def test_project_needs_network_relation_and_time_named_and_lists_the_choices(tmp_path):
    path = write(tmp_path, PROJECT, "project.paj")
    with pytest.raises(DatasetValidationError, match=r"network=.*several: first; second"):
        load_dataset(path)
    with pytest.raises(DatasetValidationError, match=r"relation=.*1 likes; 2 advises"):
        load_dataset(path, network="first")
    with pytest.raises(DatasetValidationError, match=r"time=.*time marks: 1, 2, 3, 4"):
        load_dataset(path, network="first", relation=1)
    with pytest.raises(DatasetValidationError, match=r"field 'network'.*one of: first; second.*'third'"):
        load_dataset(path, network="third")


@pytest.mark.parametrize(
    ("time", "expected"), [(1, {("1", "2")}), (2, {("1", "2"), ("2", "1")}), (4, {("2", "1"), ("2", "3")}), (9, {("2", "3")})]
)
def test_time_marks_keep_the_arcs_present_at_that_time(tmp_path, time, expected):
    dataset = load_dataset(write(tmp_path, PROJECT, "project.paj"), network="first", relation="likes", time=time)
    assert set(zip(dataset.follows["follower_id"], dataset.follows["followee_id"])) == expected
    assert "*Partition groups" in " ".join(dataset.coverage.notes)


def test_relation_by_number_and_a_network_without_choices(tmp_path):
    path = write(tmp_path, PROJECT, "project.paj")
    advises = load_dataset(path, network="first", relation=2)
    assert list(zip(advises.follows["follower_id"], advises.follows["followee_id"])) == [("3", "1")]
    second = load_dataset(path, network="second")
    assert len(second.follows) == 1 and set(second.accounts["handle"]) == {"x", "y"}
    with pytest.raises(DatasetValidationError, match=r"field 'relation'.*\(\*Arcs :k\)"):
        load_dataset(path, network="second", relation=1)
    untimed = load_dataset(path, network="second", time=3)
    assert len(untimed.follows) == 1 and "no arc carries a time mark" in " ".join(untimed.coverage.notes)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("*Vertices 2\n*Edges\n1 2\n", r"line 3, field '\*Edges'.*undirected edges"),
        ("*Vertices 2\n*Arcs\n1 two\n", r"line 3, field 'arc'.*two vertex numbers"),
        ("*Vertices 2\n*Arcs\n1 2 heavy\n", r"line 3, field 'arc value'.*a number.*heavy"),
        ("*Vertices 2\n*Arcs\n1 5\n", r"line 3, field 'arc'.*vertex numbers from 1 to 2.*1 5"),
        ("*Vertices 2\n*Arcs\n1 2 1 [soon]\n", r"line 3, field 'time mark'.*\[soon\]"),
        ("*Vertices many\n", r"line 1, field '\*Vertices'.*number of vertices"),
        ("1 2\n*Vertices 2\n", r"line 1, field '\(file\)'.*section header"),
        ("*Arcs\n1 2\n", r"line 1, field '\*arcs'.*\*Vertices section before"),
        ("*Vertices 2\n*Arcs :x\n1 2\n", r"line 2, field '\*arcs'.*relation"),
    ],
)
def test_bad_pajek_input_names_the_line_and_what_was_expected(tmp_path, text, message):
    with pytest.raises(DatasetValidationError, match=message):
        load_dataset(write(tmp_path, text), format="pajek")


def test_eies_messages_have_the_published_arc_count():
    path = needs_shared_data("networks", "eies", "EIES.paj")
    dataset = load_dataset(path, network="Messages")
    # ../shared/data/README.md: 440 message arcs; the file also lists 20 messages to oneself.
    assert len(dataset.follows) == 440 and len(dataset.accounts) == 32
    assert dataset.validation.total_repairs == 20
    acquaintance = load_dataset(path, network="Freeman's-EIES-network", relation=2)
    assert len(acquaintance.accounts) == 48


@pytest.mark.parametrize("period", [1, 2, 3])
def test_sampson_liking_at_each_time_equals_the_ucinet_matrix(period):
    """Pajek time t + 1 among the 18 novices who stayed is UCINET's LikeT<t>, arc for arc."""
    pajek = load_dataset(
        needs_shared_data("networks", "sampson-monastery", "esna-pajek", "Sampson.paj"), network="Sampson", time=period + 1
    )
    matrix = load_dataset(needs_shared_data("networks", "sampson-monastery", "xucinet", f"LikeT{period}.csv"))
    # The two sources spell one name differently.
    name = pajek.accounts.set_index("account_id")["handle"].str.upper().str.replace(" ", "_").replace("RAMUALD", "ROMUALD")
    stayed = set(matrix.accounts["account_id"])
    from_pajek = {(name[a], name[b]) for a, b in zip(pajek.follows["follower_id"], pajek.follows["followee_id"])}
    assert {(a, b) for a, b in from_pajek if a in stayed and b in stayed} == set(
        zip(matrix.follows["follower_id"], matrix.follows["followee_id"])
    )


def test_command_line_passes_loader_options(tmp_path):
    path = write(tmp_path, PROJECT, "project.paj")
    command = [sys.executable, "-m", "reciprocity_utils.cli", "load", str(path)]
    refused = subprocess.run(command, capture_output=True, text=True)
    assert refused.returncode != 0 and "--option network=" in refused.stderr + refused.stdout
    done = subprocess.run(
        command + ["--option", "network=first", "--option", "relation=1", "--option", "time=2"], capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    assert "2 follows" in done.stdout
