"""What the tool promises in SECURITY.md, tried as an attacker would.

Every payload here would create a marker file if it ran; each test asserts the marker is absent
and that the refusal is one clear line. Tests of the publish folder run the loading notebook
only (a few seconds), since the folder's handling does not depend on which studies run.
"""

from __future__ import annotations

import base64
import json
import os
import re
import shutil
import stat
from pathlib import Path

import pandas as pd
import pytest

from reciprocity_utils import cli
from reciprocity_utils.io import load_paths
from reciprocity_utils.metrics import available_cores, degree_preserving_null
from reciprocity_utils.model import DatasetValidationError
from reciprocity_utils.paths import NOTEBOOKS_DIR, PARAMS_DIR, SAMPLE_DIR, UnsafeOutputError, open_for_writing, private_dir
from reciprocity_utils.publish import SITE_MANIFEST, PublishError, stage_report
from reciprocity_utils.recipes import (
    RecipeError,
    check_study_name,
    check_value,
    injected_assignments,
    load_plain_yaml,
    parameterized_notebook,
    read_recipe,
)
from reciprocity_utils.report import ReportError, read_params_file, run_report
from reciprocity_utils.spreadsheet import spreadsheet_safe, write_safe_csv

LOADING = ["01-load-and-validate.ipynb"]
FIXTURES = Path(__file__).parent / "fixtures" / "io"


def _payload(marker: Path) -> str:
    """Python that creates ``marker`` when pasted unescaped between double quotes."""
    return f'"+str(open({str(marker)!r}, "w").close())+"'


def _tagged_values(marker: Path) -> dict[str, str]:
    """A YAML value per non-plain tag, each carrying a payload where the tag can carry one."""
    code = _payload(marker)
    return {
        "binary": "!!binary " + base64.b64encode(code.encode()).decode(),
        "python/object/apply": f"!!python/object/apply:os.system ['touch {marker}']",
        "python/name": "!!python/name:os.system",
        "python/object/new": f"!!python/object/new:subprocess.Popen [['touch', '{marker}']]",
        "python/module": "!!python/module:os",
        "timestamp": "!!timestamp 2021-03-04",
        "set": "!!set {a, b}",
        "omap": "!!omap [a: 1]",
        "pairs": "!!pairs [a: 1]",
        "local tag": "!payload some-text",
        "verbatim tag": f"!<tag:yaml.org,2002:python/object/apply:os.system> ['touch {marker}']",
    }


TAGS = list(_tagged_values(Path("m")))


# ---------------------------------------------------------------------------------------------
# 1. Parameters are data, never code


@pytest.mark.parametrize("tag", TAGS)
def test_every_non_plain_yaml_tag_is_refused_in_a_recipe_file_with_the_line(tmp_path, tag):
    marker = tmp_path / "ran"
    recipe = tmp_path / "recipe.yaml"
    recipe.write_text(f"study: x\nseed: {_tagged_values(marker)[tag]}\n", encoding="utf-8")
    with pytest.raises(RecipeError) as refused:
        read_params_file(recipe)
    message = str(refused.value)
    assert "\n" not in message and "recipe.yaml, line 2" in message and "not allowed" in message
    assert not marker.exists()


@pytest.mark.parametrize("tag", TAGS)
def test_every_non_plain_yaml_tag_is_refused_on_the_command_line_and_nothing_runs(tmp_path, capsys, tag):
    marker = tmp_path / "ran"
    status = cli.main(["report", "--out", str(tmp_path / "out"), "-p", f"seed={_tagged_values(marker)[tag]}"])
    error = capsys.readouterr().err
    assert status == 2 and error.startswith("error: -p seed") and error.count("\n") == 1
    assert not marker.exists() and not (tmp_path / "out").exists()


@pytest.mark.parametrize("tag", TAGS)
def test_a_shared_recipe_with_a_tag_runs_nothing_through_the_run_command(tmp_path, capsys, tag):
    marker = tmp_path / "ran"
    recipe = tmp_path / "shared.yaml"
    recipe.write_text(f"seed: {_tagged_values(marker)[tag]}\n", encoding="utf-8")
    status = cli.main(["run", str(SAMPLE_DIR), "--out", str(tmp_path / "out"), "--params", str(recipe)])
    assert status == 2 and "not allowed" in capsys.readouterr().err
    assert not marker.exists() and not (tmp_path / "out").exists()


def test_plain_yaml_keeps_dates_as_text_and_plain_tags_work():
    values = load_plain_yaml("a: 2021-03-04\nb: !!str 12\nc: !!int '7'\nd: [1, 2.5, true, null, x]\ne: &x 3\nf: *x\n", "t")
    assert values == {"a": "2021-03-04", "b": "12", "c": 7, "d": [1, 2.5, True, None, "x"], "e": 3, "f": 3}


def test_a_value_of_a_type_python_would_paste_as_code_never_reaches_a_notebook(tmp_path):
    marker = tmp_path / "ran"
    # The attack of the issue: bytes are pasted by papermill as b'...' inside quotes it adds.
    for value in (_payload(marker).encode(), {"a": 1}, {1, 2}, float("nan"), float("inf"), [[1]], object()):
        with pytest.raises(RecipeError):
            check_value("seed", value, 0, "parameters")
    with pytest.raises(RecipeError, match="injected"):
        parameterized_notebook(NOTEBOOKS_DIR / LOADING[0], {"seed": _payload(marker).encode()})
    assert not marker.exists()


def test_values_are_held_to_the_declared_type():
    assert check_value("owner_id", 123456789012345678, "", "p") == "123456789012345678"  # ids typed unquoted, exact
    assert check_value("rate", 2, 1.5, "p") == 2
    for value, default in (("7", 0), (True, 0), (1, True), ("x", 1.5), ("2021-03-04", 0), ([1], 0)):
        with pytest.raises(RecipeError, match="expects"):
            check_value("p", value, default, "parameters")


HOSTILE_TEXT = [
    'a"b',
    "a'b",
    "back\\slash\\",
    "two\nlines",
    '"""',
    "'''",
    "\r\n",
    "\x00nul",
    "\u2028separator",
    "{owner}",
    "%s",
    "\\N{BULLET}",
    "# comment",
    "x = 1",
    "\\",
    "\t",
]


def test_hostile_text_round_trips_through_the_injected_cell_as_the_same_value_and_runs_nothing(tmp_path):
    marker = tmp_path / "ran"
    for text in HOSTILE_TEXT + [_payload(marker), f"'+str(open({str(marker)!r}, 'w'))+'", f'"""+open({str(marker)!r}, "w")+"""']:
        notebook = parameterized_notebook(NOTEBOOKS_DIR / LOADING[0], {"owner_id": text, "seed": 3})
        assert injected_assignments(notebook) == {"owner_id": text, "seed": 3}
        cell = next(c for c in notebook.cells if "injected-parameters" in c.metadata["tags"])
        namespace: dict = {}
        exec(compile(cell.source, "injected", "exec"), namespace)  # what the kernel would do with it
        assert namespace["owner_id"] == text
    assert not marker.exists()


def test_a_recipe_that_is_not_a_mapping_or_not_utf8_is_refused_clearly(tmp_path):
    for content, expected in ((b"- a\n- b\n", "mapping"), (b"\xff\xfe", "UTF-8"), (b"a: [\n", "not valid YAML")):
        path = tmp_path / "r.yaml"
        path.write_bytes(content)
        with pytest.raises(RecipeError, match=expected):
            read_recipe(path)


def test_a_billion_laughs_recipe_is_refused_by_size_without_building_it(tmp_path):
    lines = ["a: &a [x, x, x, x, x, x, x, x, x]"] + [
        f"{chr(98 + i)}: &{chr(98 + i)} [*{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}]" for i in range(9)
    ]
    values = load_plain_yaml("\n".join(lines), "laughs")  # aliases share one object: no blow-up in memory
    assert len(values["j"]) == 4
    with pytest.raises(RecipeError, match="at most"):
        load_plain_yaml("a: " + "x" * (2 << 20), "huge")


# ---------------------------------------------------------------------------------------------
# 2 and 5. A publish folder that can only hold the site


def _loading_run(params: dict, out: Path, **kwargs):
    return run_report({"study": out.name, **params}, output_dir=out, notebooks=LOADING, progress=False, **kwargs)


def _copy_sample(into: Path) -> Path:
    into.mkdir(parents=True)
    for item in SAMPLE_DIR.iterdir():
        (into / item.name).write_bytes(item.read_bytes())
    return into


@pytest.mark.parametrize("where", ["equal", "inside", "containing"])
def test_out_that_is_contains_or_lies_inside_an_input_is_refused_before_anything_runs(tmp_path, where):
    data = _copy_sample(tmp_path / "exports" / "mine")
    out = {"equal": data, "inside": data / "report", "containing": tmp_path / "exports"}[where]
    before = sorted(p.name for p in data.iterdir())
    with pytest.raises(PublishError, match="must never hold raw exports"):
        _loading_run({"inputs": [str(data)]}, out)
    assert sorted(p.name for p in data.iterdir()) == before
    assert not (data / "report").exists() and not private_dir(out).exists()


def test_a_followers_file_given_as_a_load_option_counts_as_an_input(tmp_path):
    data = _copy_sample(tmp_path / "mine")
    with pytest.raises(PublishError, match="must never hold raw exports"):
        _loading_run({"inputs": [str(SAMPLE_DIR)], "load_options": {"followers": str(data / "follows.csv")}}, data)


def test_a_non_empty_folder_of_someone_elses_files_is_refused_and_left_untouched(tmp_path):
    out = tmp_path / "site"
    out.mkdir()
    (out / "index.html").write_text("my own page", encoding="utf-8")
    (out / "notes.txt").write_text("mine", encoding="utf-8")
    for force in (False, True):
        with pytest.raises(PublishError, match="notes.txt"):
            _loading_run({"input_path": str(SAMPLE_DIR)}, out, force=force)
    assert (out / "index.html").read_text() == "my own page" and (out / "notes.txt").read_text() == "mine"
    assert sorted(p.name for p in out.iterdir()) == ["index.html", "notes.txt"]


def test_force_replaces_only_files_named_as_the_tool_names_its_own(tmp_path):
    out = tmp_path / "site"
    out.mkdir()
    (out / "index.html").write_text("an older report", encoding="utf-8")
    with pytest.raises(PublishError, match="--force"):
        _loading_run({"input_path": str(SAMPLE_DIR)}, out)
    run = _loading_run({"input_path": str(SAMPLE_DIR)}, out, force=True)
    assert "an older report" not in run.index.read_text(encoding="utf-8")


def test_a_previous_report_is_replaced_whole_and_a_failed_run_leaves_it_as_it_was(tmp_path, write_folder):
    out = tmp_path / "site"
    _loading_run({"input_path": str(SAMPLE_DIR)}, out)
    published = {p.name for p in out.iterdir()}
    assert SITE_MANIFEST in published and "01-load-and-validate.html" in published
    (out / "01-load-and-validate.html").write_text("stale", encoding="utf-8")
    _loading_run({"input_path": str(SAMPLE_DIR)}, out)  # no --force needed for our own report
    assert (out / "01-load-and-validate.html").read_text(encoding="utf-8") != "stale"
    snapshot = {p.name: p.read_bytes() for p in out.iterdir()}

    bad = write_folder({"follows.csv": "follower_id,followee_id\n1.5e18,2\n"})  # a float id: the loading notebook fails
    with pytest.raises(ReportError, match="failed.private"):
        _loading_run({"input_path": str(bad)}, out)
    assert {p.name: p.read_bytes() for p in out.iterdir()} == snapshot
    assert (tmp_path / ".site.failed.private" / LOADING[0]).exists()
    leftovers = [p.name for p in tmp_path.iterdir() if ".staging-" in p.name or p.name.endswith(".lock")]
    assert leftovers == []


def test_a_second_concurrent_run_fails_at_once_with_a_clear_line(tmp_path):
    out = tmp_path / "site"
    first = stage_report(out, inputs=[SAMPLE_DIR])
    try:
        with pytest.raises(PublishError, match="another reciprocity run is writing"):
            _loading_run({"input_path": str(SAMPLE_DIR)}, out)
    finally:
        first.close()
    assert _loading_run({"input_path": str(SAMPLE_DIR)}, out).index.exists()  # the lock is released


# ---------------------------------------------------------------------------------------------
# 3. Local paths are never published


def test_absolute_input_paths_and_load_options_appear_nowhere_in_the_site(tmp_path):
    home_like = _copy_sample(tmp_path / "Downloads-of-jane" / "export")
    out = tmp_path / "site"
    _loading_run({"inputs": [str(home_like)], "load_options": {}}, out)
    for page in out.rglob("*"):
        if page.is_file():
            text = page.read_text(encoding="utf-8", errors="replace")
            assert "Downloads-of-jane" not in text and str(tmp_path) not in text, page.name
    assert "Downloads-of-jane" in (private_dir(out) / "params.yaml").read_text(encoding="utf-8")


# ---------------------------------------------------------------------------------------------
# 4. Writes never follow links; the private folder is owner-only


def test_a_report_folder_or_private_folder_that_is_a_link_is_refused(tmp_path):
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    for link in (tmp_path / "site", private_dir(tmp_path / "site")):
        link.symlink_to(elsewhere, target_is_directory=True)
        with pytest.raises(PublishError, match="is a link"):
            _loading_run({"input_path": str(SAMPLE_DIR)}, tmp_path / "site")
        link.unlink()
    assert list(elsewhere.iterdir()) == []


def test_the_private_folder_is_owner_only(tmp_path):
    out = tmp_path / "site"
    _loading_run({"input_path": str(SAMPLE_DIR)}, out)
    private = private_dir(out)
    assert stat.S_IMODE(private.stat().st_mode) == 0o700
    for path in private.rglob("*"):
        expected = 0o700 if path.is_dir() else 0o600
        assert stat.S_IMODE(path.stat().st_mode) == expected, path
    assert stat.S_IMODE((out / "index.html").stat().st_mode) == 0o644


def test_saving_a_dataset_or_writing_a_sample_refuses_a_planted_link(tmp_path):
    target = tmp_path / "victim.txt"
    target.write_text("keep", encoding="utf-8")
    folder = tmp_path / "saved"
    folder.mkdir()
    (folder / "dataset.json").symlink_to(target)
    dataset, _ = load_paths([SAMPLE_DIR])
    with pytest.raises(UnsafeOutputError, match="symbolic link"):
        dataset.save(folder)
    linked_folder = tmp_path / "linked"
    linked_folder.symlink_to(tmp_path / "elsewhere-folder", target_is_directory=True)
    assert cli.main(["sample", "--out", str(linked_folder)]) == 2
    assert target.read_text() == "keep" and not (tmp_path / "elsewhere-folder").exists()
    with pytest.raises(UnsafeOutputError):
        open_for_writing(folder / "dataset.json")


def test_a_saved_dataset_is_owner_only(tmp_path):
    dataset, _ = load_paths([SAMPLE_DIR])
    folder = dataset.save(tmp_path / "saved")
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    assert {stat.S_IMODE(p.stat().st_mode) for p in folder.iterdir()} == {0o600}


@pytest.mark.parametrize("name", ["../../x", "/tmp/x", ".hidden", "a/b", "a\\b", "..", "", " x", "x\n", "é" * 101])
def test_study_names_are_plain_names(tmp_path, name):
    with pytest.raises(RecipeError, match="plain name"):
        check_study_name(name)
    with pytest.raises(RecipeError):
        run_report({"study": name, "input_path": str(SAMPLE_DIR)}, notebooks=LOADING, progress=False)


def test_export_folders_never_follow_links_outside_them(tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("window.YTD.follower.part0 = [SECRET-CONTENT", encoding="utf-8")
    export = tmp_path / "export"
    shutil.copytree(FIXTURES / "x_archive_2024", export)
    assert load_paths([export])[0].follows.shape[0] > 0  # the intact export loads
    (export / "data" / "follower.js").unlink()
    (export / "data" / "follower.js").symlink_to(secret)
    with pytest.raises(DatasetValidationError) as refused:
        load_paths([export])
    message = str(refused.value)
    assert "follower.js" in message and "outside the export folder" in message and "SECRET" not in message
    assert "\n" not in message


def test_a_generic_table_linked_outside_its_folder_is_refused(tmp_path):
    export = _copy_sample(tmp_path / "export")
    (export / "accounts.csv").unlink()
    (export / "accounts.csv").symlink_to(SAMPLE_DIR / "accounts.csv")
    with pytest.raises(DatasetValidationError, match="accounts.csv.*outside the export folder"):
        load_paths([export])


def test_a_linked_folder_inside_an_export_that_leads_out_is_refused(tmp_path):
    outside = _copy_sample(tmp_path / "outside")
    export = tmp_path / "export"
    export.mkdir()
    (export / "data").symlink_to(outside, target_is_directory=True)
    with pytest.raises(DatasetValidationError, match="outside the export folder"):
        load_paths([export])


def test_links_that_stay_inside_the_export_are_read(tmp_path):
    export = _copy_sample(tmp_path / "export")
    (export / "follows.csv").rename(export / "real-follows.csv")
    (export / "follows.csv").symlink_to(export / "real-follows.csv")
    direct, _ = load_paths([SAMPLE_DIR])
    linked, _ = load_paths([export])
    assert len(linked.follows) == len(direct.follows)


def test_a_ucd_group_file_linked_outside_the_folder_is_refused(tmp_path):
    outside = tmp_path / "outside.ids"
    outside.write_text("1\n2\n", encoding="utf-8")
    group = tmp_path / "group"
    group.mkdir()
    (group / "g.ids").symlink_to(outside)
    (group / "g-follows.mtx").write_text("2 2 1\n1 2 1\n", encoding="utf-8")
    with pytest.raises(DatasetValidationError, match="outside the export folder"):
        load_paths([group])


# ---------------------------------------------------------------------------------------------
# 6. Spreadsheet formulas and worker counts


def test_csv_cells_that_would_start_a_formula_are_quoted_and_numbers_are_not(tmp_path):
    table = pd.DataFrame(
        {
            "handle": ["=cmd|' /C calc'!A0", "+1", "-2", "@SUM(A1)", "\tx", "\rx", "plain", None],
            "count": [-1, 2, 3, 4, 5, 6, 7, 8],
        }
    )
    path = write_safe_csv(table, tmp_path / "lists.csv")
    back = pd.read_csv(path, keep_default_na=False)
    assert back["handle"].tolist()[:6] == ["'=cmd|' /C calc'!A0", "'+1", "'-2", "'@SUM(A1)", "'\tx", "'\rx"]
    assert back["handle"].tolist()[6:] == ["plain", ""]
    assert back["count"].tolist() == [-1, 2, 3, 4, 5, 6, 7, 8]
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert spreadsheet_safe(pd.DataFrame({"=x": [1]})).columns.tolist() == ["'=x"]


def test_worker_processes_are_capped_at_the_cores_available_with_a_note_and_the_same_numbers():
    follower = [0, 1, 2, 3, 4, 0, 2]
    followee = [1, 2, 3, 4, 0, 2, 0]
    import numpy as np

    asked = available_cores() + 10
    capped = degree_preserving_null(np.array(follower), np.array(followee), 5, n_networks=4, seed=1, workers=asked)
    single = degree_preserving_null(np.array(follower), np.array(followee), 5, n_networks=4, seed=1, workers=1)
    assert np.array_equal(capped.null_values, single.null_values)
    assert any(f"Asked for {asked} worker processes" in note and f"offers {available_cores()}" in note for note in capped.notes)
    assert single.notes == ()


def test_the_sample_recipe_itself_passes_every_check():
    params = read_params_file(PARAMS_DIR / "sample.yaml")
    assert params["study"] == "sample" and os.path.isabs(params["input_path"])


# ---------------------------------------------------------------------------------------------
# Text from an input never becomes markup on a published page (issue #13, first part)

PAYLOADS = ("<script>document.title='ran'</script>", "<img src=x onerror=\"document.title='ran'\">")


def test_input_text_reaches_the_pages_escaped_and_the_pages_forbid_scripts(tmp_path):
    export = _copy_sample(tmp_path / "export")
    links = "See [the source](javascript:document.title='ran'), ![a pixel](https://tracker.example/p.png) or https://phish.example/login."
    (export / "coverage.json").write_text(json.dumps({"notes": [*PAYLOADS, links]}), encoding="utf-8")
    out = tmp_path / "site"
    _loading_run({"input_path": str(export)}, out)
    page = (out / "01-load-and-validate.html").read_text(encoding="utf-8")
    # Markdown links, images and bare addresses in input text stay text: no href or src from them.
    assert "[the source](javascript:" in page and "https://phish.example/login" in page
    addresses = re.findall(r'(?:src|href)="([^"]*)"', page)
    assert not [a for a in addresses if a.startswith("javascript:") or "tracker.example" in a or "phish.example" in a]
    assert "&lt;script&gt;document.title" in page and "&lt;img src=x onerror" in page  # shown, as text
    for payload in PAYLOADS:
        assert payload not in page
    assert "<script" not in page.lower() and "<img src=x" not in page
    for name in ("01-load-and-validate.html", "index.html"):
        assert "Content-Security-Policy" in (out / name).read_text(encoding="utf-8") and "script-src 'none'" in (out / name).read_text(
            encoding="utf-8"
        )
    _assert_nothing_runs_in_a_browser(out, tmp_path)


def _assert_nothing_runs_in_a_browser(site: Path, tmp_path: Path) -> None:
    """Every page in headless Chromium, with and without its Content-Security-Policy: no payload ran.

    Without the policy, only the escaping stands between the payload and the reader; the title a
    payload would set ('ran') must not be the title of the rendered document.
    """
    import re
    import subprocess

    from reciprocity_utils.site_check import BROWSER_FLAGS, find_browser

    browser = find_browser()
    if browser is None:
        return  # the HTML-level checks above still ran
    for page in sorted(site.glob("*.html")):
        bare = tmp_path / f"no-policy-{page.name}"
        bare.write_text(re.sub(r"<meta http-equiv=.Content-Security-Policy.[^>]*>", "", page.read_text(encoding="utf-8")), encoding="utf-8")
        for shown in (page, bare):
            done = subprocess.run(
                [browser, *BROWSER_FLAGS, f"--user-data-dir={tmp_path / 'profile'}", "--dump-dom", shown.as_uri()],
                capture_output=True,
                text=True,
                timeout=120,
            )
            assert done.returncode == 0, done.stderr[-1000:]
            title = re.search(r"<title>(.*?)</title>", done.stdout, re.S)
            assert title is not None and title.group(1).strip() != "ran", f"a payload ran in {shown.name}"
            assert "&lt;script&gt;document.title" in done.stdout or page.name != "01-load-and-validate.html"


def test_tables_escape_cells_and_headers():
    from reciprocity_utils.plots import table_html

    shown = table_html(pd.DataFrame({PAYLOADS[1]: [PAYLOADS[0], "a & b"]}))
    assert "<script>" not in shown and "<img" not in shown
    assert "&lt;script&gt;" in shown and "&lt;img" in shown and "a &amp; b" in shown


def test_an_out_folder_that_cannot_be_made_fails_in_one_line(tmp_path, capsys):
    occupied = tmp_path / "a-file"
    occupied.write_text("x", encoding="utf-8")
    assert cli.main(["sample", "--out", str(occupied / "sample")]) == 2
    error = capsys.readouterr().err
    assert error.startswith("error: ") and error.count("\n") == 1 and "a-file" in error and "Traceback" not in error


@pytest.mark.parametrize("value", ["inf", "nan", "-5", "0"])
def test_an_impossible_archive_cap_is_refused_in_one_line(value, capsys):
    assert cli.main(["load", str(SAMPLE_DIR), "--max-archive-mb", value]) == 2
    error = capsys.readouterr().err
    assert "--max-archive-mb must be a positive number" in error and error.count("\n") == 1


def test_an_unknown_loader_option_is_refused_in_one_line_naming_the_options(capsys):
    assert cli.main(["load", str(SAMPLE_DIR), "--option", "bogus=1"]) == 2
    error = capsys.readouterr().err
    assert "has no option bogus" in error and "unknown_accounts" in error and error.count("\n") == 1
