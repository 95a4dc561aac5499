"""From parameters to a folder of rendered reports.

Each study notebook records the numbers it reports through :func:`record_results` (a JSON
file beside the executed notebook). :func:`run_report` executes every notebook in
:data:`STUDY_NOTEBOOKS` with papermill, renders each to HTML with code hidden and figures
embedded, and writes an ``index.html`` whose numbers come from those recorded results, never
from scraping HTML.
"""

from __future__ import annotations

import datetime as dt
import html
import json
import math
import platform
import time
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from .paths import NOTEBOOKS_DIR, REPORTS_DIR, resolve_path


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
EXECUTION_TIMEOUT_SECONDS = 900
REPORTED_PACKAGES = ("reciprocity-utils", "pandas", "numpy", "scipy", "statsmodels", "seaborn", "matplotlib", "papermill", "nbconvert")
# Notebook cells carrying these tags never reach a published page.
HIDDEN_CELL_TAGS = ("injected-parameters", "remove-cell")


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
    later notebook reads. Keys are sorted so identical runs give identical files.
    """
    output_dir = Path(output_dir)
    output_dir.mkdir(parents=True, exist_ok=True)
    path = output_dir / f"{notebook}{RESULTS_SUFFIX}"
    payload = {"notebook": notebook, "headline": _plain(headline), "details": _plain(details or {})}
    path.write_text(json.dumps(payload, indent=2, sort_keys=True, allow_nan=False) + "\n", encoding="utf-8")
    return path


def read_results(output_dir: str | Path, notebook: str) -> dict[str, Any]:
    path = Path(output_dir) / f"{notebook}{RESULTS_SUFFIX}"
    return json.loads(path.read_text(encoding="utf-8"))


# ---------------------------------------------------------------------------------------------
# Parameters files


def read_params_file(path: str | Path) -> dict[str, Any]:
    """A rerun recipe: ``study`` (the report's name) and notebook parameters.

    Paths inside a recipe are relative to the project root, so recipes work from any folder.
    """
    path = Path(path)
    try:
        params = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as error:
        raise ValueError(f"{path}: not valid YAML: {error}") from None
    if not isinstance(params, dict):
        raise ValueError(f"{path}: expected a mapping of parameter names to values")
    if "input_path" in params and params["input_path"] != "synthetic":
        params["input_path"] = str(resolve_path(params["input_path"]))
    return params


def notebook_parameter_names(notebook: Path) -> set[str]:
    import papermill

    return set(papermill.inspect_notebook(str(notebook)))


# ---------------------------------------------------------------------------------------------
# Running and rendering


@dataclass
class ReportRun:
    output_dir: Path
    index: Path
    pages: list[Path]
    seconds: float


def run_report(
    params: dict[str, Any],
    output_dir: str | Path | None = None,
    notebooks: list[str] | None = None,
    with_code: bool = False,
    timeout: int = EXECUTION_TIMEOUT_SECONDS,
    progress: bool = True,
) -> ReportRun:
    """Execute every study notebook with ``params`` into ``output_dir`` and render the site."""
    import papermill
    from tqdm.auto import tqdm

    params = dict(params)
    study = str(params.pop("study", "study"))
    output_dir = Path(output_dir) if output_dir else REPORTS_DIR / study
    output_dir = output_dir.resolve()
    output_dir.mkdir(parents=True, exist_ok=True)
    notebooks = list(notebooks or study_notebooks())
    started = time.monotonic()
    pages = []
    params_for_later: dict[str, str] = {}
    unknown = set(params) - _all_parameter_names(notebooks)
    if unknown:
        raise ValueError(f"unknown parameters {sorted(unknown)}: no study notebook has them")
    for name in tqdm(notebooks, desc="studies", unit="notebook", disable=not progress):
        source = NOTEBOOKS_DIR / name
        accepted = notebook_parameter_names(source)
        given = {k: v for k, v in {**params, **params_for_later}.items() if k in accepted}
        if "output_dir" in accepted:
            given["output_dir"] = str(output_dir)
        executed = output_dir / name
        try:
            papermill.execute_notebook(
                str(source), str(executed), parameters=given, kernel_name="python3",
                execution_timeout=timeout, progress_bar=progress, cwd=str(output_dir),
            )
        except papermill.PapermillExecutionError as error:
            raise ReportError(
                f"{name} failed in cell {error.exec_count} with {error.ename}: {error.evalue}\n"
                f"The partly executed notebook is kept for inspection: {executed}"
            ) from None
        pages.append(render_html(executed, with_code=with_code))
        if name == LOADING_NOTEBOOK:
            params_for_later = {"input_path": str(output_dir / "dataset"), "input_format": "dataset"}
    seconds = time.monotonic() - started
    run_info = {
        "study": study,
        "parameters": params,
        "notebooks": notebooks,
        "package_versions": package_versions(),
        "python": platform.python_version(),
        "finished_at": dt.datetime.now(dt.timezone.utc).replace(microsecond=0).isoformat(),
        "seconds": round(seconds, 1),
    }
    (output_dir / "run.json").write_text(json.dumps(_plain(run_info), indent=2, sort_keys=True) + "\n", encoding="utf-8")
    (output_dir / "params.yaml").write_text(yaml.safe_dump({"study": study, **params}, sort_keys=True), encoding="utf-8")
    index = write_index(output_dir, notebooks, run_info)
    return ReportRun(output_dir, index, pages, seconds)


def _all_parameter_names(notebooks: list[str]) -> set[str]:
    names: set[str] = set()
    for name in notebooks:
        names |= notebook_parameter_names(NOTEBOOKS_DIR / name)
    return names


def render_html(executed: Path, with_code: bool = False) -> Path:
    """HTML beside the executed notebook: figures embedded, code hidden unless ``with_code``."""
    import nbformat
    from nbconvert import HTMLExporter
    from nbconvert.preprocessors import TagRemovePreprocessor

    notebook = nbformat.read(executed, as_version=4)
    exporter = HTMLExporter(
        exclude_input=not with_code, exclude_input_prompt=True, exclude_output_prompt=True, embed_images=True
    )
    remover = TagRemovePreprocessor(remove_cell_tags=set(HIDDEN_CELL_TAGS), enabled=True)
    if not with_code:
        remover.remove_cell_tags = set(HIDDEN_CELL_TAGS) | {"parameters"}
    exporter.register_preprocessor(remover, enabled=True)
    body, _ = exporter.from_notebook_node(notebook)
    page = executed.with_suffix(".html")
    page.write_text(body, encoding="utf-8")
    return page


def package_versions() -> dict[str, str]:
    versions = {}
    for name in REPORTED_PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "not installed"
    return versions


def notebook_title(notebook: Path) -> str:
    import nbformat

    for cell in nbformat.read(notebook, as_version=4).cells:
        if cell.cell_type == "markdown":
            for line in cell.source.splitlines():
                if line.startswith("# "):
                    return line[2:].strip()
    return notebook.stem


def _format_number(value: Any) -> str:
    from .plots import format_value

    return html.escape(format_value(value, missing="not observable"))


INDEX_STYLE = """
body { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; max-width: 60rem; margin: 2rem auto;
       padding: 0 1rem; color: #1d2330; line-height: 1.5; }
h1 { font-size: 1.6rem; } h2 { font-size: 1.2rem; margin-top: 2rem; }
table { border-collapse: collapse; margin: .5rem 0 1rem; }
td, th { padding: .25rem .75rem; border-bottom: 1px solid #dde1e8; text-align: left; vertical-align: top; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
.study { border: 1px solid #dde1e8; border-radius: 8px; padding: .5rem 1.25rem; margin: 1rem 0; }
code, .mono { font-family: ui-monospace, SFMono-Regular, Menlo, monospace; font-size: .85rem; word-break: break-all; }
.muted { color: #5b6475; font-size: .9rem; }
"""


def write_index(output_dir: Path, notebooks: list[str], run_info: dict[str, Any]) -> Path:
    """The report's front page: each study's headline numbers, then provenance."""
    parts = [
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>",
        "<meta name='viewport' content='width=device-width, initial-scale=1'>",
        f"<title>Reciprocity study: {html.escape(run_info['study'])}</title><style>{INDEX_STYLE}</style></head><body>",
        f"<h1>Reciprocity study: {html.escape(run_info['study'])}</h1>",
    ]
    provenance = None
    for name in notebooks:
        stem = Path(name).stem
        results = read_results(output_dir, stem)
        provenance = results["details"].get("provenance", provenance)
        rows = "".join(
            f"<tr><th>{html.escape(key.replace('_', ' '))}</th><td class='num'>{_format_number(value)}</td></tr>"
            for key, value in results["headline"].items()
        )
        title = html.escape(notebook_title(NOTEBOOKS_DIR / name))
        parts.append(f"<div class='study'><h2><a href='{html.escape(stem)}.html'>{title}</a></h2><table>{rows}</table></div>")
    parts.append("<h2>Provenance</h2>")
    if provenance:
        parts.append(f"<p>Loader: <code>{html.escape(provenance['loader'])}</code>. "
                     f"Input fingerprint (sha256 over all input files): <code>{html.escape(provenance['fingerprint'])}</code></p>")
        files = "".join(
            f"<tr><td class='mono'>{html.escape(f['name'])}</td><td class='num'>{f['bytes']:,}</td><td class='mono'>{f['sha256']}</td></tr>"
            for f in provenance["inputs"]
        )
        parts.append(f"<table><tr><th>input file</th><th>bytes</th><th>sha256</th></tr>{files}</table>")
    params = "".join(
        f"<tr><th>{html.escape(str(k))}</th><td class='mono'>{html.escape(_display_parameter(k, v))}</td></tr>"
        for k, v in sorted(run_info["parameters"].items())
    )
    parts.append(f"<h3>Parameters</h3><table>{params}</table><p class='muted'>Rerun with <code>reciprocity report --params params.yaml</code> "
                 "using the <a href='params.yaml'>parameters file</a> saved beside this page.</p>")
    versions = "".join(f"<tr><th>{html.escape(k)}</th><td>{html.escape(v)}</td></tr>" for k, v in run_info["package_versions"].items())
    parts.append(f"<h3>Software</h3><table><tr><th>python</th><td>{run_info['python']}</td></tr>{versions}</table>")
    parts.append(f"<p class='muted'>Generated {run_info['finished_at']} in {run_info['seconds']} s.</p></body></html>")
    index = output_dir / "index.html"
    index.write_text("\n".join(parts), encoding="utf-8")
    return index


def _display_parameter(name: str, value: Any) -> str:
    # Absolute paths reveal a user's folders; the file names and fingerprint identify the input.
    if name.endswith("_path") and isinstance(value, str) and value.startswith("/"):
        return Path(value).name
    return str(value)


def default_output_dir(study: str) -> Path:
    return REPORTS_DIR / study


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
