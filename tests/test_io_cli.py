"""`reciprocity load`: every real export loads and prints its summary; several paths combine."""

from __future__ import annotations

import contextlib
from pathlib import Path

import pytest
from conftest import SHARED_DATA, needs_shared_data

from reciprocity_utils.cli import main
from reciprocity_utils.io import FORMATS, PartialRepositoryWarning, detect_format

FIXTURES = Path(__file__).parent / "fixtures" / "io"
UNDIRECTED = {"kerighan_twitter.gexf", "tusharmishra_twitter.graphml"}


def _real_exports() -> list[Path]:
    exports = SHARED_DATA / "exports"
    if not exports.exists():
        return []
    paths = sorted(exports.glob("twitter_archive/*")) + [exports / "twitter_classic_2015"]
    paths += sorted(exports.glob("mastodon/*")) + sorted(exports.glob("instagram/*")) + sorted(exports.glob("bluesky/*/*.car"))
    paths += sorted(p for p in exports.glob("research/*/*") if p.is_file())
    return paths


@pytest.mark.shared_data
@pytest.mark.parametrize("path", _real_exports() or [SHARED_DATA / "exports"], ids=lambda p: p.name)
def test_load_prints_a_summary_for_every_real_export(path, capsys):
    needs_shared_data("exports")
    detected = detect_format(path)
    assert detected in FORMATS
    # Warnings from reciprocity_utils are errors in pytest: only the partial repository may warn.
    with pytest.warns(PartialRepositoryWarning) if path.name == "repo_slice.car" else contextlib.nullcontext():
        code = main(["load", str(path)])
    out, err = capsys.readouterr()
    if path.name in UNDIRECTED:
        assert code == 2 and "no reciprocity information" in err
        return
    assert code == 0, err
    assert out.startswith(f"Detected format: {detected}")
    for heading in ("Validated ", "Counts:", "  accounts: ", "  mutual pairs: ", "  interactions: ", "Coverage:"):
        assert heading in out


@pytest.mark.shared_data
def test_load_summary_of_the_2021_archive_states_both_directions(capsys, tmp_path):
    folder = needs_shared_data("exports", "twitter_archive", "larsbrinkhoff_2021-03-22")
    assert main(["load", str(folder), "--out", str(tmp_path / "saved")]) == 0
    out = capsys.readouterr().out
    assert "followers of the owner: 405" in out and "accounts the owner follows: 59" in out and "mutual pairs: 25" in out
    assert (tmp_path / "saved" / "dataset.json").exists() and (tmp_path / "saved" / "follow_events.parquet").exists()


def test_load_several_snapshots_prints_follow_events(capsys):
    code = main(["load", str(FIXTURES / "x_archive_2022"), str(FIXTURES / "x_archive_2024")])
    out = capsys.readouterr().out
    assert code == 0
    assert "Detected format: 2 snapshots (x_archive)" in out
    assert "follow events between snapshots: 2 follows began, 2 ended" in out


def test_load_mastodon_without_followers_says_mutuality_is_not_observable(capsys):
    assert main(["load", str(FIXTURES / "mastodon_archive")]) == 0
    out = capsys.readouterr().out
    assert "followers of the owner: not known" in out
    assert "mutual pairs: not observable" in out
    assert main(["load", str(FIXTURES / "mastodon_archive"), "--followers", str(FIXTURES / "mastodon_followers.csv")]) == 0
    assert "mutual pairs: 1" in capsys.readouterr().out


def test_unrecognised_input_lists_the_formats_in_one_line(tmp_path, capsys):
    path = tmp_path / "notes.md"
    path.write_text("# just notes\n")
    assert main(["load", str(path)]) == 2
    err = capsys.readouterr().err
    assert "cannot tell the format of this file" in err and "x_archive" in err and "bluesky" in err
    assert len(err.strip().splitlines()) == 1


def test_inputs_that_cannot_be_combined_are_refused(capsys):
    assert main(["load", str(FIXTURES / "x_archive_2022"), str(FIXTURES / "instagram_2024")]) == 2
    assert "cannot combine" in capsys.readouterr().err


def test_help_documents_the_exit_codes(capsys):
    with pytest.raises(SystemExit) as done:
        main(["--help"])
    assert done.value.code == 0
    help_text = " ".join(capsys.readouterr().out.split())
    for code in ("0 done", "1 a study failed", "2 bad input", "3 an internal error"):
        assert code in help_text
