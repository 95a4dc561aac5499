"""The project's two dependency lists (pip and conda) say the same thing; notebooks are committed clean."""

from __future__ import annotations

import json
import re
import tomllib

import yaml

from reciprocity_utils.paths import NOTEBOOKS_DIR, PROJECT_ROOT
from reciprocity_utils.report import STUDY_NOTEBOOKS

# Names that differ between PyPI and conda-forge.
CONDA_NAMES = {"igraph": "python-igraph", "duckdb": "python-duckdb"}


def _split(requirement: str) -> tuple[str, str]:
    match = re.match(r"^\s*([A-Za-z0-9_.\-]+)\s*(.*)$", requirement)
    return match.group(1).lower().replace("_", "-"), match.group(2).replace(" ", "")


def test_environment_yml_lists_the_pyproject_dependencies():
    project = tomllib.loads((PROJECT_ROOT / "pyproject.toml").read_text())["project"]
    pip_side = dict(
        _split(r)
        for r in project["dependencies"]
        + project["optional-dependencies"]["test"]
        + project["optional-dependencies"]["spark"]
        + project["optional-dependencies"]["lab"]
    )
    env = yaml.safe_load((PROJECT_ROOT / "environment.yml").read_text())
    conda_side = dict(_split(d) for d in env["dependencies"] if isinstance(d, str))
    assert conda_side.pop("python") == ">=3.11" and conda_side.pop("pip") == ""
    assert conda_side.pop("openjdk") == ">=17"  # Java for the Spark engine: conda can install it, pip cannot
    (pip_section,) = [d["pip"] for d in env["dependencies"] if isinstance(d, dict)]
    assert pip_section[-1] == "-e ."
    conda_side.update(_split(r) for r in pip_section[:-1])
    assert {CONDA_NAMES.get(k, k): v for k, v in pip_side.items()} == conda_side


def test_committed_notebooks_have_no_outputs_a_python3_kernel_and_a_parameters_cell():
    for path in sorted(NOTEBOOKS_DIR.glob("*.ipynb")):
        notebook = json.loads(path.read_text(encoding="utf-8"))
        assert notebook["metadata"]["kernelspec"]["name"] == "python3", path.name
        code = [c for c in notebook["cells"] if c["cell_type"] == "code"]
        assert all(not c["outputs"] and c["execution_count"] is None for c in code), f"{path.name} has outputs: strip them"
        tagged = [c for c in notebook["cells"] if "parameters" in c.get("metadata", {}).get("tags", [])]
        assert len(tagged) == 1, f"{path.name} needs exactly one cell tagged 'parameters'"


def test_every_notebook_is_a_numbered_study_and_01_comes_first():
    on_disk = sorted(p.name for p in NOTEBOOKS_DIR.glob("*.ipynb"))
    assert on_disk == STUDY_NOTEBOOKS, "name notebooks NN-short-name.ipynb so the report runs them in order"
    assert STUDY_NOTEBOOKS[0] == "01-load-and-validate.ipynb"


def test_the_notebooks_kernel_turns_numpy_hugepage_advice_off():
    """The kernel `make env` registers runs every study with NUMPY_MADVISE_HUGEPAGE=0 (README, Performance)."""
    import subprocess
    import sys

    import pytest
    from jupyter_client.kernelspec import NoSuchKernel, get_kernel_spec

    try:
        spec = get_kernel_spec("python3")
    except NoSuchKernel:
        pytest.skip("no python3 kernel registered")
    if spec.argv[0] != sys.executable:
        pytest.skip(f"the python3 kernel is not this environment's ({spec.argv[0]}); run `make env`")
    assert spec.env.get("NUMPY_MADVISE_HUGEPAGE") == "0"
    # numpy reads the variable at import: a kernel started with it has the advice off.
    child = subprocess.run(
        [sys.executable, "-c", "import numpy._core.multiarray as m; print(m._get_madvise_hugepage())"],
        env={**spec.env, "PATH": ""},
        capture_output=True,
        text=True,
        check=True,
    )
    assert child.stdout.strip() == "False"


def test_version_comes_from_the_package_metadata_and_both_entry_points_print_it():
    import subprocess
    import sys
    from importlib.metadata import version

    import reciprocity_utils

    declared = tomllib.loads((PROJECT_ROOT / "pyproject.toml").read_text())["project"]["version"]
    assert reciprocity_utils.__version__ == version("reciprocity-utils") == declared
    for command in ([sys.executable, "-m", "reciprocity_utils", "--version"],):
        done = subprocess.run(command, capture_output=True, text=True, timeout=120)
        assert done.returncode == 0 and done.stdout.strip() == f"reciprocity {declared}"


def test_licence_citation_and_changelog_are_there_and_agree():
    project = tomllib.loads((PROJECT_ROOT / "pyproject.toml").read_text())["project"]
    assert project["license"] == "MIT" and "MIT License" in (PROJECT_ROOT / "LICENSE").read_text()
    citation = yaml.safe_load((PROJECT_ROOT / "CITATION.cff").read_text())
    assert {"cff-version", "message", "title", "authors"} <= set(citation)
    assert citation["version"] == project["version"] and citation["license"] == "MIT"
    assert all(reference.get("doi") for reference in citation["references"])  # each method cited resolvably
    assert f"## {project['version']}" in (PROJECT_ROOT / "CHANGELOG.md").read_text()


HEAVY_MODULES = ("statsmodels", "matplotlib", "seaborn", "scipy.stats", "papermill", "sklearn", "nbconvert")


def test_help_and_load_import_only_what_they_use():
    """`reciprocity --help` and `load` never import the statistics, plotting or report stacks (import weight, not time)."""
    import subprocess
    import sys

    script = (
        "import sys; from reciprocity_utils.cli import build_parser; build_parser(); "
        "from reciprocity_utils.io import load_dataset; load_dataset('data/sample').counts(); "
        f"print([m for m in {HEAVY_MODULES!r} if m in sys.modules])"
    )
    done = subprocess.run([sys.executable, "-X", "importtime", "-c", script], capture_output=True, text=True, timeout=120, cwd=PROJECT_ROOT)
    assert done.returncode == 0, done.stderr[-500:]
    assert done.stdout.strip() == "[]", f"imported for --help/load: {done.stdout.strip()}"
    # The import time of what was imported, as -X importtime reports it (top-level modules' cumulative times).
    top = [
        int(line.split("|")[1])
        for line in done.stderr.splitlines()
        if line.startswith("import time:")
        and "|" in line
        and not line.split("|")[2].startswith("  ")
        and line.split("|")[1].strip().isdigit()
    ]
    assert sum(top) / 1e6 < 3.0, f"{sum(top) / 1e6:.2f} s of imports"


def test_the_code_is_formatted_and_lint_clean():
    """`make test` fails on format drift or lint findings (ruff, configured in pyproject.toml)."""
    import subprocess
    import sys

    for command in (["format", "--check", "."], ["check", "."]):
        done = subprocess.run([sys.executable, "-m", "ruff", *command], capture_output=True, text=True, timeout=120, cwd=PROJECT_ROOT)
        assert done.returncode == 0, f"ruff {' '.join(command)} (run `ruff format . && ruff check --fix .`):\n{done.stdout[-2000:]}"


def test_an_install_without_the_notebooks_stops_with_one_line_and_writes_nothing(tmp_path, monkeypatch, capsys):
    """An installation without its studies: `reciprocity run` says so, never an empty report with exit 0."""
    from reciprocity_utils import report
    from reciprocity_utils.cli import main

    monkeypatch.setattr(report, "study_notebooks", lambda: [])
    code = main(["run", str(PROJECT_ROOT / "data" / "sample"), "--out", str(tmp_path / "site")])
    error = capsys.readouterr().err.strip().splitlines()
    assert code != 0 and len(error) == 1 and "this installation is incomplete" in error[0]
    assert not (tmp_path / "site").exists()
