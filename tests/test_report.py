"""The report pipeline: recorded results, rendering without code, an index built from recorded numbers."""

from __future__ import annotations

import json
import re

import pandas as pd
import pytest

from reciprocity_utils import SAMPLE_DIR, read_results, record_results
from reciprocity_utils.cli import main
from reciprocity_utils.paths import PARAMS_DIR, PROJECT_ROOT, publishable_parameters, publishable_path
from reciprocity_utils.report import STUDY_NOTEBOOKS, ReportError, check_no_local_paths, read_params_file, run_report


def test_record_results_is_plain_json_in_the_studys_order(tmp_path):
    import numpy as np

    headline = {"b": np.int64(3), "a": np.float64(0.5), "missing": float("nan")}
    path = record_results(tmp_path, "99-x", headline, {"t": (1, 2)})
    text = path.read_text()
    assert json.loads(text) == {"notebook": "99-x", "headline": {"a": 0.5, "b": 3, "missing": None}, "details": {"t": [1, 2]}}
    # The index shows the headline in the order the study wrote it; the same call gives the same file.
    assert list(read_results(tmp_path, "99-x")["headline"]) == ["b", "a", "missing"]
    assert record_results(tmp_path, "99-x", headline, {"t": (1, 2)}).read_text() == text


def test_params_file_paths_are_taken_from_the_project_root():
    params = read_params_file(PARAMS_DIR / "sample.yaml")
    assert params["study"] == "sample"
    assert params["input_path"] == str(SAMPLE_DIR)


def test_published_parameters_show_paths_inside_the_project_relative_and_others_by_name():
    assert publishable_path(str(SAMPLE_DIR)) == "data/sample"
    assert publishable_path("/home/alice/Downloads/twitter-2024.zip") == "twitter-2024.zip"
    assert publishable_path("data/sample") == "data/sample"
    shown = publishable_parameters(
        {
            "inputs": ["/home/alice/x.zip", "/home/alice/followers.csv"],
            "input_path": "synthetic",
            "earlier_snapshot_path": "/home/alice/old.zip",
            "seed": 3,
            "owner_id": "/not/a/path",
        }
    )
    # Any text shaped like an absolute path is shown by name, whatever the parameter: a wrong
    # guess costs a folder name on the page, a missed path would publish the owner's folders.
    assert shown == {
        "inputs": ["x.zip", "followers.csv"],
        "input_path": "synthetic",
        "earlier_snapshot_path": "old.zip",
        "seed": 3,
        "owner_id": "path",
    }
    assert publishable_parameters({"load_options": {"followers": "/home/alice/f.csv", "network": "Messages"}}) == {
        "load_options": {"followers": "f.csv", "network": "Messages"}
    }


def test_a_site_showing_a_local_path_is_refused_with_the_file(tmp_path):
    site = tmp_path / "mine"
    site.mkdir()
    (site / "index.html").write_text("<p>fine</p>")
    inputs = {"inputs": ["/home/alice/Downloads/archive.zip"]}
    check_no_local_paths(site, inputs)
    (site / "03.html").write_text("<pre>PosixPath('/home/alice/Downloads/notes')</pre>")
    with pytest.raises(ReportError, match=r"03\.html: shows the local path /home/alice/Downloads"):
        check_no_local_paths(site, inputs)
    (site / "03.html").write_text("<p>compared with /home/alice/old/export.zip</p>")
    with pytest.raises(ReportError, match="shows the local path /home/alice/old"):
        check_no_local_paths(site, {"earlier_snapshot_path": "/home/alice/old/export.zip"})
    (site / "03.html").write_text(f"<pre>{site / '03.results.json'}</pre>")
    with pytest.raises(ReportError, match="03.html: shows the local path"):
        check_no_local_paths(site, {})


@pytest.mark.notebook
def test_report_on_the_sample_hides_code_embeds_figures_and_indexes_recorded_numbers(sample_report):
    params = read_params_file(PARAMS_DIR / "sample.yaml")
    run = sample_report
    assert run.index.exists()
    page = (run.output_dir / "01-load-and-validate.html").read_text()
    assert "data:image/png;base64," in page
    assert "import reciprocity_utils" not in page and "check_parameters" not in page  # code hidden
    assert "hl-ipython3" not in page  # no highlighted code blocks
    assert 'alt="Share of accounts with at least x followers' in page  # captions double as alternative text
    index = run.index.read_text()
    headline = read_results(run.output_dir, "01-load-and-validate")["headline"]
    assert f"{headline['follows']:,}" in index and f"{headline['accounts']:,}" in index
    assert "01-load-and-validate.html" in index
    fingerprint = read_results(run.output_dir, "01-load-and-validate")["details"]["provenance"]["fingerprint"]
    assert fingerprint in index
    assert re.search(r"pandas \d+\.\d+", index)
    # Nothing with raw ids or local paths is in the publishable folder.
    published = {p.name for p in run.output_dir.iterdir()}
    studies = [name.removesuffix(".ipynb") for name in STUDY_NOTEBOOKS]
    expected = {"index.html", "params.yaml", "run.json", "style.css", ".reciprocity-site.json"}
    expected |= {f"{stem}.html" for stem in studies} | {f"{stem}.results.json" for stem in studies}
    assert published == expected
    # Each model's time is in the run's record (not in the results, which must not vary).
    steps = json.loads((run.output_dir / "run.json").read_text())["step_seconds"]["03-followback-engagement.ipynb"]
    adjusted = [s for s in steps if s["step"] == "model: adjusted: fixed effects for every a and b"]
    assert adjusted and adjusted[0]["observations"] > 1000 and adjusted[0]["seconds"] >= 0
    assert (run.output_dir.parent / ".sample.private" / "dataset" / "dataset.json").exists()
    sample_ids = set(pd.read_csv(SAMPLE_DIR / "accounts.csv", dtype=str)["account_id"])
    for path in run.output_dir.iterdir():
        text = path.read_text(encoding="utf-8")
        assert not any(account in text for account in sample_ids), path.name
        # Nor where it was made: a local path tells readers the owner's folders and user name.
        assert str(run.output_dir) not in text and str(PROJECT_ROOT) not in text, path.name
    assert "input_path: data/sample" in (run.output_dir / "params.yaml").read_text()
    # Every page ends with provenance; the index shows a thumbnail of the key figure.
    assert "class='provenance'" in page and fingerprint in page
    assert "alt='Key figure of 01 · Load and validate the follow data: " in index
    # The saved parameters rerun the same study.
    saved = read_params_file(run.output_dir / "params.yaml")
    assert saved["input_path"] == params["input_path"]


@pytest.mark.notebook
def test_a_second_run_records_identical_results(sample_report, tmp_path):
    again = run_report(read_params_file(PARAMS_DIR / "sample.yaml"), output_dir=tmp_path / "again", progress=False)
    first = sorted(sample_report.output_dir.glob("*.results.json"))
    assert [p.name for p in first] == sorted(p.name for p in again.output_dir.glob("*.results.json"))
    for path in first:
        assert path.read_bytes() == (again.output_dir / path.name).read_bytes(), path.name


@pytest.mark.notebook
def test_report_keeps_code_when_asked(tmp_path):
    run = run_report(
        read_params_file(PARAMS_DIR / "sample.yaml"),
        output_dir=tmp_path,
        notebooks=["01-load-and-validate.ipynb"],
        with_code=True,
        progress=False,
    )
    assert "check_parameters" in (run.output_dir / "01-load-and-validate.html").read_text()


@pytest.mark.notebook
def test_failing_notebook_gives_a_clear_error_and_keeps_the_partial_notebook(tmp_path, write_folder):
    folder = write_folder({"follows.csv": "follower_id,followee_id\n1.5e18,2\n"})
    with pytest.raises(ReportError) as error:
        run_report({"study": "bad", "input_path": str(folder)}, output_dir=tmp_path / "bad", progress=False)
    assert "01-load-and-validate.ipynb failed" in str(error.value)
    assert "DatasetValidationError" in str(error.value)
    # The partial notebook is kept aside; nothing was published.
    assert (tmp_path / ".bad.failed.private" / "01-load-and-validate.ipynb").exists()
    assert str(tmp_path / ".bad.failed.private" / "01-load-and-validate.ipynb") in str(error.value)
    assert not (tmp_path / "bad").exists() and not (tmp_path / ".bad.private").exists()


def test_unknown_parameter_is_refused(tmp_path):
    with pytest.raises(ValueError, match="colour"):
        run_report({"study": "x", "colour": "blue"}, output_dir=tmp_path, progress=False)


def test_cli_load_prints_a_summary_and_saves(tmp_path, capsys):
    assert main(["load", str(SAMPLE_DIR), "--out", str(tmp_path / "ds")]) == 0
    out = capsys.readouterr().out
    assert "Detected format: generic" in out and "Coverage:" in out and "mutual pairs" in out
    assert (tmp_path / "ds" / "dataset.json").exists()


def test_cli_load_bad_input_exits_nonzero_with_the_message(tmp_path, write_folder, capsys):
    folder = write_folder({"follows.csv": "follower_id,followee_id,followed_at\n1,2,soon\n"})
    assert main(["load", str(folder)]) == 2
    assert "line 2, field 'followed_at'" in capsys.readouterr().err


def test_cli_sample_is_deterministic(tmp_path):
    assert main(["sample", "--out", str(tmp_path / "a"), "--accounts", "60", "--seed", "3"]) == 0
    assert main(["sample", "--out", str(tmp_path / "b"), "--accounts", "60", "--seed", "3"]) == 0
    for name in ("accounts.csv", "follows.csv", "interactions.csv", "truth.json"):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()
