"""From parameters to a folder of rendered reports.

Each study notebook records the numbers it reports through :func:`record_results` (a JSON
file in the report folder). :func:`run_report` executes every study notebook with papermill
and has :mod:`reciprocity_utils.site` render each to HTML with code hidden and figures
embedded, and an ``index.html`` whose numbers come from those recorded results, never from
scraping HTML.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import math
import os
import platform
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from .paths import (
    NOTEBOOKS_DIR,
    PROJECT_ROOT,
    REPORTS_DIR,
    local_path_values,
    private_dir,
    publishable_parameters,
    publishable_text,
    resolve_path,
)
from .publish import StagedReport, stage_report
from .recipes import (
    PLAIN_SCALARS,
    RecipeError,
    check_parameter_values,
    check_study_name,
    notebook_defaults,
    parameterized_notebook,
    read_recipe,
)


def _local_socket_kernel_manager():
    from jupyter_client.manager import AsyncKernelManager
    from traitlets import CaselessStrEnum

    class LocalSocketKernelManager(AsyncKernelManager):
        """Talks to the notebook's kernel over Unix sockets in the user's runtime folder, not TCP ports.

        Nothing listens on the network while a report runs, and the kernel no longer warns four
        times per report that it runs over unencrypted TCP.
        """

        transport = CaselessStrEnum(["tcp", "ipc"], default_value="ipc", config=True)

    return LocalSocketKernelManager


def __getattr__(name: str):
    # Built on first use: importing jupyter_client is not needed to load or validate data.
    if name == "LocalSocketKernelManager":
        manager = _local_socket_kernel_manager()
        globals()[name] = manager
        return manager
    raise AttributeError(name)


def study_notebooks() -> list[str]:
    """The studies in reading order: every ``NN-name.ipynb`` in ``notebooks/``.

    A new study joins the reports by being saved there under the next number.
    """
    return sorted(p.name for p in NOTEBOOKS_DIR.glob("[0-9][0-9]-*.ipynb"))


STUDY_NOTEBOOKS = study_notebooks()
# This notebook loads the input and saves the validated dataset; the studies after it read that
# saved dataset, so every study of one report sees exactly the same validated tables.
LOADING_NOTEBOOK = "01-load-and-validate.ipynb"

RESULTS_SUFFIX = ".results.json"
STEPS_SUFFIX = ".steps.json"
EXECUTION_TIMEOUT_SECONDS = 900
REPORTED_PACKAGES = ("reciprocity-utils", "pandas", "numpy", "scipy", "statsmodels", "seaborn", "matplotlib", "papermill", "nbconvert")


class ReportError(RuntimeError):
    """A study notebook failed; the message names it, the cell and the error."""


# ---------------------------------------------------------------------------------------------
# Recorded results


def _plain(value: Any) -> Any:
    """JSON-ready values: numpy scalars become Python numbers, NaN becomes null."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, (dt.datetime, dt.date)):
        return value.isoformat()
    if isinstance(value, Path):
        return str(value)
    return value


def record_results(output_dir: str | Path, notebook: str, headline: dict[str, Any], details: dict[str, Any] | None = None) -> Path:
    """Write a study's numbers to ``<output_dir>/<notebook>.results.json``.

    ``headline`` holds the few numbers the index shows; ``details`` anything else a test or a
    later notebook reads. Keys keep the order the study gives them (the index shows the headline
    in that order, most important first); that order is fixed in code, so identical runs give
    identical files.
    """
    output_dir = Path(output_dir)
    output_dir.mkdir(parents=True, exist_ok=True)
    path = output_dir / f"{notebook}{RESULTS_SUFFIX}"
    payload = {"notebook": notebook, "headline": _plain(headline), "details": _plain(details or {})}
    path.write_text(json.dumps(payload, indent=2, allow_nan=False) + "\n", encoding="utf-8")
    return path


def record_step_times(output_dir: str | Path, notebook: str) -> None:
    """Write how long each timed step of this kernel took to ``<output_dir>/<notebook>.steps.json``.

    Apart from the results, which are identical from run to run; the report runner moves these
    times into ``run.json``.
    """
    from .stopwatch import step_times

    path = Path(output_dir) / f"{notebook}{STEPS_SUFFIX}"
    path.write_text(json.dumps(step_times(), indent=1) + "\n", encoding="utf-8")


class _ProgressWriter:
    """Where papermill writes a kernel's stderr: passes the study's progress lines to the terminal."""

    def __init__(self, notebook: str) -> None:
        self.notebook = notebook

    def write(self, text: str) -> None:
        from tqdm.auto import tqdm

        from .stopwatch import PROGRESS_MARK

        for line in text.splitlines():
            if line.startswith(PROGRESS_MARK):
                tqdm.write(f"  {self.notebook}: {line[len(PROGRESS_MARK) :]}", file=sys.stderr)

    def flush(self) -> None:
        pass


@contextlib.contextmanager
def _progress_lines(notebook: str | None) -> Iterator[_ProgressWriter | None]:
    """While a notebook runs, kernels announce long steps (``notebook`` given) or stay quiet (``None``)."""
    from .stopwatch import PROGRESS_ENV

    if notebook is None:
        yield None
        return
    before = os.environ.get(PROGRESS_ENV)
    os.environ[PROGRESS_ENV] = "1"  # the kernel inherits the runner's environment
    try:
        yield _ProgressWriter(notebook)
    finally:
        if before is None:
            os.environ.pop(PROGRESS_ENV, None)
        else:
            os.environ[PROGRESS_ENV] = before


def read_results(output_dir: str | Path, notebook: str) -> dict[str, Any]:
    path = Path(output_dir) / f"{notebook}{RESULTS_SUFFIX}"
    return json.loads(path.read_text(encoding="utf-8"))


# ---------------------------------------------------------------------------------------------
# Parameters files


def read_params_file(path: str | Path) -> dict[str, Any]:
    """A rerun recipe: ``study`` (the report's name) and notebook parameters, as plain data.

    Read by :func:`~reciprocity_utils.recipes.read_recipe` (no YAML tag but the plain ones).
    Paths inside a recipe are relative to the project root, so recipes work from any folder.
    """
    params = read_recipe(path)
    if isinstance(params.get("input_path"), str) and params["input_path"] != "synthetic":
        params["input_path"] = str(resolve_path(params["input_path"]))
    if "inputs" in params:
        inputs = params["inputs"] if isinstance(params["inputs"], list) else [params["inputs"]]
        if not all(isinstance(p, str) and p for p in inputs):
            raise RecipeError(f"{path}: inputs must be a file or folder name, or a list of them")
        params["inputs"] = [str(resolve_path(p)) for p in inputs]
    return params


def notebook_parameter_names(notebook: Path) -> set[str]:
    import papermill

    return set(papermill.inspect_notebook(str(notebook)))


# ---------------------------------------------------------------------------------------------
# Running


@dataclass
class ReportRun:
    output_dir: Path
    index: Path
    pages: list[Path]
    seconds: float


# Parameters the runner itself understands. ``inputs`` (a list of exports, loaded together: several
# snapshots of one account, or a Mastodon archive with its CSV files) and ``load_options`` (e.g. a
# followers list) are loaded by the runner before the studies; ``reveal_names`` goes to every
# notebook that declares it.
RUNNER_PARAMETERS = {"reveal_names", "inputs", "load_options"}


def load_inputs(params: dict[str, Any], work_dir: Path) -> dict[str, Any]:
    """Load ``params["inputs"]`` once, save the dataset privately, and point the studies at it.

    Notes and sources that name an input by its full path show it by file name instead, so the
    pages can be published (the private recipe keeps the full paths).
    """
    from .io import load_paths

    inputs = params.get("inputs")
    if not inputs:
        return params
    if isinstance(inputs, str):
        inputs = [inputs]
    engine = _measuring_engine(params, inputs)
    if engine is not None:
        # Too large to load here: 01-load-and-validate measures it with the engine instead.
        return {**params, "input_path": str(resolve_path(inputs[0])), "input_format": "auto", "engine": engine}
    dataset, detected = load_paths(
        [resolve_path(p) for p in inputs],
        format=params.get("input_format", "auto"),
        owner_id=params.get("owner_id") or None,
        **(params.get("load_options") or {}),
    )
    local = local_path_values(params)
    dataset = dataset.with_text_mapped(lambda text: publishable_text(text, local))
    folder = dataset.save(work_dir / "input")
    return {**params, "input_path": str(folder), "input_format": "dataset", "detected_format": detected}


def _measuring_engine(params: dict[str, Any], inputs: list[str]) -> str | None:
    """``duckdb`` or ``spark`` when the run measures its one follow list out of memory, else None."""
    engine = params.get("engine", "memory")
    if engine in ("memory", None):
        return None
    if len(inputs) != 1:
        if engine == "auto":
            return None
        raise ReportError(f"the {engine} engine measures one follow list; {len(inputs)} inputs were given (combine them first)")
    from .engines.choice import measuring_engine
    from .engines.inputs import is_follow_list

    if engine != "auto" and not is_follow_list(resolve_path(inputs[0])):
        raise ReportError(
            f"{Path(inputs[0]).name}: the {engine} engine reads follow lists (Parquet, CSV with follower_id and followee_id, "
            "or an edge list); an export is loaded in memory (leave engine unset)"
        )
    return measuring_engine(resolve_path(inputs[0]), engine)


def check_run_parameters(params: dict[str, Any], notebooks: list[str]) -> dict[str, Any]:
    """Every parameter known to a notebook or the runner, of the type its default declares.

    Runs before anything is written or executed, so a bad value costs nothing and never reaches
    a notebook as code.
    """
    defaults: dict[str, Any] = {}
    for name in notebooks:
        for key, value in notebook_defaults(NOTEBOOKS_DIR / name).items():
            defaults.setdefault(key, value)
    unknown = set(params) - set(defaults) - RUNNER_PARAMETERS
    if unknown:
        raise ValueError(f"unknown parameters {sorted(unknown)}: no study notebook has them")
    where = "parameters"
    checked = check_parameter_values(params, {**defaults, "reveal_names": False}, where)
    inputs = checked.get("inputs")
    if inputs is not None:
        inputs = [inputs] if isinstance(inputs, str) else inputs
        if not isinstance(inputs, list) or not inputs or not all(isinstance(p, str) and p for p in inputs):
            raise RecipeError(f"{where}: inputs must be a file or folder name, or a list of them")
        checked["inputs"] = inputs
    options = checked.get("load_options")
    if options is not None:
        if not isinstance(options, dict) or not all(isinstance(k, str) and k.isidentifier() for k in options):
            raise RecipeError(f"{where}: load_options must map option names to values")
        for key, value in options.items():
            if not isinstance(value, PLAIN_SCALARS) or isinstance(value, float) and not math.isfinite(value):
                raise RecipeError(f"{where}: load option {key} must be text, a number or true/false")
    return checked


def input_locations(params: dict[str, Any]) -> list[Path]:
    """Every file or folder a run reads, so the report folder can be kept apart from them."""
    return [Path(p) for p in local_path_values(params)] + (
        [resolve_path(params["input_path"])]
        if isinstance(params.get("input_path"), str) and params["input_path"] not in ("", "synthetic")
        else []
    )


def run_report(
    params: dict[str, Any],
    output_dir: str | Path | None = None,
    notebooks: list[str] | None = None,
    with_code: bool = False,
    timeout: int = EXECUTION_TIMEOUT_SECONDS,
    progress: bool = True,
    force: bool = False,
) -> ReportRun:
    """Execute every study notebook with ``params`` and publish the site into ``output_dir``.

    The site (HTML pages, recorded results, the parameters file) is safe to publish; executed
    notebooks and the validated dataset, which hold raw ids and local paths, go to the hidden
    sibling folder :func:`~reciprocity_utils.paths.private_dir`. Both are built aside and moved
    into place only after every check passed (:mod:`reciprocity_utils.publish`): a failed or
    refused run leaves the published folder as it was.
    """
    params = dict(params)
    study = check_study_name(params.pop("study", "study"))
    final = Path(output_dir) if output_dir else REPORTS_DIR / study
    notebooks = list(notebooks or study_notebooks())
    if not notebooks:
        # An installation missing its shipped studies (built without setup.py's copy step): say so before writing anything.
        raise ReportError(
            f"no study notebooks in {NOTEBOOKS_DIR}: this installation is incomplete; reinstall the package from its "
            "repository (pip install .) or run reciprocity from a clone (git clone, then make report)"
        )
    params = check_run_parameters(params, notebooks)
    staged = stage_report(final, input_locations(params), force=force)
    try:
        seconds, pages = _build_site(staged, study, params, notebooks, with_code, timeout, progress)
        check_no_local_paths(staged.site, params, also=[staged.staging, Path(os.path.abspath(final)), Path.cwd(), Path.home()])
        staged.publish()
    finally:
        staged.close()
    final = staged.final
    return ReportRun(final, final / "index.html", [final / page.name for page in pages], seconds)


def _build_site(
    staged: StagedReport,
    study: str,
    params: dict[str, Any],
    notebooks: list[str],
    with_code: bool,
    timeout: int,
    progress: bool,
) -> tuple[float, list[Path]]:
    import papermill
    from tqdm.auto import tqdm

    from .site import render_page, write_index

    output_dir, work_dir = staged.site, staged.private
    started = time.monotonic()
    pages, timings, step_seconds = [], {}, {}
    run_params = load_inputs(params, work_dir)
    params_for_later: dict[str, str] = {}
    for name in tqdm(notebooks, desc="studies", unit="notebook", disable=not progress):
        accepted = notebook_parameter_names(NOTEBOOKS_DIR / name)
        given = {k: v for k, v in {**run_params, **params_for_later}.items() if k in accepted}
        if "output_dir" in accepted:
            given["output_dir"] = str(output_dir)
        executed = work_dir / name
        notebook_started = time.monotonic()
        try:
            with _progress_lines(name if progress else None) as progress_file:
                papermill.execute_notebook(
                    parameterized_notebook(NOTEBOOKS_DIR / name, given),
                    str(executed),
                    kernel_name="python3",
                    execution_timeout=timeout,
                    progress_bar=progress,
                    cwd=str(work_dir),
                    kernel_manager_class="reciprocity_utils.report.LocalSocketKernelManager",
                    stderr_file=progress_file,
                )
        except papermill.PapermillExecutionError as error:
            raise ReportError(
                f"{name} failed in cell {error.exec_count} with {error.ename}: {error.evalue}\n"
                f"The partly executed notebook is kept for inspection: {staged.failed_private / name}"
            ) from None
        timings[name] = round(time.monotonic() - notebook_started, 1)
        steps_file = output_dir / f"{Path(name).stem}{STEPS_SUFFIX}"
        if steps_file.exists():  # the notebook's step times join the run's record, not the published folder
            step_seconds[name] = json.loads(steps_file.read_text(encoding="utf-8"))
            steps_file.unlink()
        if name == LOADING_NOTEBOOK:
            # What 01 saved, a loaded dataset or a measured network, is what the later studies read.
            params_for_later = {"input_path": str(work_dir / "dataset"), "input_format": "dataset", "engine": "memory"}
        pages.append(executed)
    seconds = time.monotonic() - started
    run_info = {
        "study": study,
        # Paths outside the project by file name only; the full recipe stays in the private folder.
        "parameters": publishable_parameters(params),
        "notebooks": notebooks,
        "notebook_seconds": timings,
        # Each timed step (every model fit, the checks) of the notebooks that record them.
        "step_seconds": step_seconds,
        "detected_format": run_params.get("detected_format"),
        "package_versions": package_versions(),
        "python": platform.python_version(),
        "finished_at": dt.datetime.now(dt.timezone.utc).replace(microsecond=0).isoformat(),
        "seconds": round(seconds, 1),
    }
    (output_dir / "run.json").write_text(json.dumps(_plain(run_info), indent=2, sort_keys=True) + "\n", encoding="utf-8")
    (output_dir / "params.yaml").write_text(yaml.safe_dump({"study": study, **run_info["parameters"]}, sort_keys=True), encoding="utf-8")
    (work_dir / "params.yaml").write_text(yaml.safe_dump({"study": study, **params}, sort_keys=True), encoding="utf-8")
    rendered = [render_page(executed, output_dir, run_info, with_code=with_code) for executed in pages]
    write_index(output_dir, pages, run_info)
    return seconds, rendered


def check_no_local_paths(output_dir: Path, params: dict[str, Any], also: list[Path] = ()) -> None:
    """Refuse a site whose files show where they were made or where the inputs live.

    A page showing ``/home/<name>/...`` tells readers the owner's user name; the studies and the
    recipe must show paths by :func:`~reciprocity_utils.paths.publishable_path` only. Checked
    text: the report folder, its private sibling, the project root, the folders in ``also``
    (staging, the final folder, the working and home folders), and every path a parameter names
    (loader options included) with its folder. Runs before the site is moved into place.
    """
    local = {str(output_dir), str(private_dir(output_dir)), str(PROJECT_ROOT)} | {str(path) for path in also}
    for value in local_path_values(params):
        local |= {value, str(Path(value).parent)}
    local = {path for path in local if path.count("/") >= 2}  # never "/" or "/home" alone
    for published in sorted(p for p in output_dir.rglob("*") if p.is_file() and not p.is_symlink()):
        text = published.read_text(encoding="utf-8", errors="replace")
        shown = sorted(path for path in local if path in text)
        if shown:
            raise ReportError(
                f"{published.name}: shows the local path {shown[0]}; this folder is meant to be published, so it "
                "must not show where it was made or where the inputs are (a study notebook printed a path?). "
                "Nothing was published"
            )


def _all_parameter_names(notebooks: list[str]) -> set[str]:
    names: set[str] = set()
    for name in notebooks:
        names |= notebook_parameter_names(NOTEBOOKS_DIR / name)
    return names


def package_versions() -> dict[str, str]:
    versions = {}
    for name in REPORTED_PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "not installed"
    return versions


def dataset_details(dataset) -> dict[str, Any]:
    """What every study records about its input: counts, coverage, repairs and provenance."""
    from dataclasses import asdict

    provenance = asdict(dataset.provenance)
    provenance["fingerprint"] = dataset.provenance.fingerprint
    return {
        "counts": dataset.counts(),
        "coverage": asdict(dataset.coverage),
        "repairs": dict(dataset.validation.repairs),
        "validation_notes": list(dataset.validation.notes),
        "provenance": provenance,
    }
