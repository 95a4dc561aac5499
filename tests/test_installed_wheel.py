"""Installed from a wheel, outside any clone, the package finds its studies, recipes and sample.

The wheel is built from this checkout (`pip wheel .`), installed into a folder of its own, and run
from a working directory elsewhere, so nothing of the checkout can be found by accident: the
notebooks, `params/sample.yaml` and the sample must come from the wheel.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import zipfile

import pytest
from conftest import needs_shared_data

from reciprocity_utils.paths import CHECKOUT

FAST = ["-p", "null_networks=5", "-p", "camps_bootstrap_draws=99", "-p", "n_permutations=19", "-p", "n_bootstrap=19"]


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    folder = tmp_path_factory.mktemp("wheel")
    built = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", str(folder / "dist"), str(CHECKOUT)],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert built.returncode == 0, built.stderr[-2000:]
    (wheel,) = (folder / "dist").glob("reciprocity_utils-*.whl")
    target = folder / "site-packages"
    done = subprocess.run(
        [sys.executable, "-m", "pip", "install", "--no-deps", "-q", "--target", str(target), str(wheel)],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    work = folder / "work"
    work.mkdir()
    return wheel, target, work


def _run(installed, *arguments: str) -> subprocess.CompletedProcess:
    _, target, work = installed
    # The notebooks' kernels inherit PYTHONPATH, so they import the installed copy as well.
    env = {**os.environ, "PYTHONPATH": str(target)}
    return subprocess.run(
        [sys.executable, "-m", "reciprocity_utils", *arguments], capture_output=True, text=True, cwd=work, env=env, timeout=900
    )


def test_the_wheel_carries_the_studies_recipes_and_sample(installed):
    wheel, target, _ = installed
    names = set(zipfile.ZipFile(wheel).namelist())
    for notebook in sorted((CHECKOUT / "notebooks").glob("[0-9][0-9]-*.ipynb")):
        assert f"reciprocity_utils/shipped/notebooks/{notebook.name}" in names
    assert "reciprocity_utils/shipped/params/sample.yaml" in names
    assert {f"reciprocity_utils/shipped/data/sample/{p.name}" for p in (CHECKOUT / "data" / "sample").iterdir()} <= names
    where = subprocess.run(
        [sys.executable, "-c", "import reciprocity_utils.paths as p; print(p.IN_CHECKOUT, p.NOTEBOOKS_DIR)"],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(target)},
        cwd=installed[2],
    )
    assert where.stdout.split() == ["False", str(target / "reciprocity_utils" / "shipped" / "notebooks")]


def test_report_on_the_shipped_sample_outside_a_clone(installed):
    _, _, work = installed
    done = _run(installed, "report", "--out", "sample-site", *FAST)
    assert done.returncode == 0, done.stderr[-3000:]
    index = json.loads((work / "sample-site" / "run.json").read_text())
    assert len(index["notebooks"]) == 4 and all((work / "sample-site" / f"{n[:-6]}.html").exists() for n in index["notebooks"])
    follows = json.loads((work / "sample-site" / "01-load-and-validate.results.json").read_text())["headline"]["follows"]
    assert follows > 0


def test_run_on_a_shared_export_outside_a_clone(installed):
    """The issue's own check: a real export, every study, from the installed wheel."""
    _, _, work = installed
    export = needs_shared_data("exports", "twitter_archive", "larsbrinkhoff_2021-03-22")
    done = _run(installed, "run", str(export), "--out", "archive", *FAST)
    assert done.returncode == 0, done.stderr[-3000:]
    run = json.loads((work / "archive" / "run.json").read_text())
    assert len(run["notebooks"]) == 4 and run["detected_format"] == "x_archive"
    assert all((work / "archive" / f"{name[:-6]}.html").exists() for name in run["notebooks"])


def test_measured_run_on_a_shared_network_outside_a_clone(installed):
    _, _, work = installed
    network = needs_shared_data("exports", "research", "snap_edgelist", "Wiki-Vote.txt")
    done = _run(installed, "run", str(network), "--out", "wiki", *FAST, "-p", "engine=duckdb", "-p", "subgraph_follows=20000")
    assert done.returncode == 0, done.stderr[-3000:]
    r = json.loads((work / "wiki" / "02-reciprocity.results.json").read_text())["headline"]["arc_reciprocity"]
    assert round(r, 4) == 0.0565  # Wiki-Vote's r (../shared/data/README.md)
