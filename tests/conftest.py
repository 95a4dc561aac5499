"""Shared test helpers: small inputs written to temporary folders, and the real-data location."""

from __future__ import annotations

from pathlib import Path

import pytest

from reciprocity_utils.paths import PROJECT_ROOT

SHARED_DATA = PROJECT_ROOT.parent / "shared" / "data"


@pytest.fixture
def write_folder(tmp_path):
    """Write {file name: text} into a fresh folder and return it."""

    def write(files: dict[str, str]) -> Path:
        folder = tmp_path / "input"
        folder.mkdir(exist_ok=True)
        for name, text in files.items():
            (folder / name).write_text(text, encoding="utf-8")
        return folder

    return write


def execute_study(notebook: str, output_dir: Path, **parameters) -> tuple[dict, dict]:
    """Run one study notebook with papermill into ``output_dir``: its recorded results and the executed notebook."""
    import json

    import papermill

    from reciprocity_utils import read_results
    from reciprocity_utils.paths import NOTEBOOKS_DIR

    executed = output_dir / notebook
    papermill.execute_notebook(
        str(NOTEBOOKS_DIR / notebook),
        str(executed),
        parameters={"output_dir": str(output_dir), **parameters},
        kernel_name="python3",
        progress_bar=False,
        cwd=str(output_dir),
    )
    return read_results(output_dir, executed.stem), json.loads(executed.read_text(encoding="utf-8"))


def needs_shared_data(*parts: str) -> Path:
    """The path under ../shared/data, or skip the test with the reason."""
    path = SHARED_DATA.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"real data not available: {path} (the ../shared folder is absent outside the workspace)")
    return path


@pytest.fixture(scope="session")
def sample_report(tmp_path_factory):
    """The report of the bundled sample, rendered once per test session (it runs every study)."""
    from reciprocity_utils.paths import PARAMS_DIR
    from reciprocity_utils.report import read_params_file, run_report

    return run_report(read_params_file(PARAMS_DIR / "sample.yaml"), output_dir=tmp_path_factory.mktemp("report") / "sample", progress=False)


def _published(tmp_path_factory, name: str, *parts: str) -> Path:
    """`reciprocity run` on one input under ../shared/data, into a fresh report folder."""
    from reciprocity_utils.cli import main

    source = needs_shared_data(*parts)
    out = tmp_path_factory.mktemp("publish") / name
    assert main(["run", str(source), "--out", str(out)]) == 0
    return out


@pytest.fixture(scope="session")
def published_2021(tmp_path_factory):
    """`reciprocity run` on the real 2021 X archive (a personal export), once per test session."""
    return _published(tmp_path_factory, "lars2021", "exports", "twitter_archive", "larsbrinkhoff_2021-03-22")


@pytest.fixture(scope="session")
def published_football(tmp_path_factory):
    """`reciprocity run` on a real whole network (UCD football: follows, mentions and retweets among 248 accounts)."""
    return _published(tmp_path_factory, "football", "networks", "ucd-twitter-multiview", "football")
