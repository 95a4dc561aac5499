"""The published report: one HTML page per study, an index, one small stylesheet.

Pages are rendered from executed notebooks with nbconvert (code hidden unless asked for, the
injected-parameters cell always removed, figures embedded so the folder is self-contained).
Every page ends with a provenance block — input files and their sha256, loader, coverage,
parameters, package versions, run time — taken from the study's recorded results. The index
shows each study's headline numbers (from the recorded results, never scraped from HTML) and a
thumbnail of its key figure: the output of the cell tagged ``key-figure``, else its first figure.
"""

from __future__ import annotations

import base64
import html
import io
import re
from pathlib import Path
from typing import Any

from .answers import data_in_words, study_answer
from .plots import format_label, format_value
from .report import read_results
from .wording import p_words, percent

# Notebook cells carrying these tags never reach a published page.
HIDDEN_CELL_TAGS = ("injected-parameters", "remove-cell")
KEY_FIGURE_TAG = "key-figure"
# A study may tag another figure for personal exports (study 04: the replay on the owner's followers).
PERSONAL_KEY_FIGURE_TAG = "key-figure-personal"
STYLESHEET = "style.css"
THUMBNAIL_WIDTH = 360
TEMPLATES_DIR = Path(__file__).resolve().parent / "templates"
EMBEDDED_PNG = re.compile(r"data:image/png;base64,([A-Za-z0-9+/=\s]+)")

CSS = """
:root { --ink: #1d2330; --muted: #5b6475; --line: #dde1e8; --accent: #2456a6; }
body.reciprocity-site { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; max-width: 62rem;
  margin: 0 auto; padding: 1rem; color: var(--ink); line-height: 1.5; }
.reciprocity-site h1 { font-size: 1.6rem; margin-top: .5rem; }
.reciprocity-site h2 { font-size: 1.2rem; margin-top: 2rem; }
.reciprocity-site a { color: var(--accent); }
.reciprocity-site table { border-collapse: collapse; margin: .5rem 0 1rem; }
.reciprocity-site td, .reciprocity-site th { padding: .25rem .75rem; border-bottom: 1px solid var(--line);
  text-align: left; vertical-align: top; }
.reciprocity-site td.num { text-align: right; font-variant-numeric: tabular-nums; }
.studies { display: grid; grid-template-columns: repeat(auto-fill, minmax(18rem, 1fr)); gap: 1rem; }
.study { border: 1px solid var(--line); border-radius: 8px; padding: .75rem 1rem; }
.study img { width: 100%; height: auto; border: 1px solid var(--line); border-radius: 4px; }
.study h2 { margin-top: .25rem; }
.study .question { font-weight: 600; margin: .25rem 0; }
.study .answer { margin: .25rem 0 .5rem; }
.study details { margin-top: .5rem; }
.study summary { cursor: pointer; color: var(--accent); }
.mono, .reciprocity-site code { font-family: ui-monospace, SFMono-Regular, Menlo, monospace; font-size: .85rem;
  word-break: break-all; }
.muted { color: var(--muted); font-size: .9rem; }
aside.reading-guide { max-width: 62rem; margin: .75rem auto 0; padding: .75rem 1rem; border: 1px solid var(--line);
  border-left: 4px solid var(--accent); border-radius: 6px; font-family: system-ui, sans-serif; background: #f7f9fc; }
aside.reading-guide dl { display: grid; grid-template-columns: max-content 1fr; gap: .25rem 1rem; margin: 0; }
aside.reading-guide dt { font-weight: 600; }
aside.reading-guide dd { margin: 0; }
nav.reciprocity-nav { max-width: 62rem; margin: 0 auto; padding: .75rem 1rem 0; font-family: system-ui, sans-serif; }
section.provenance { max-width: 62rem; margin: 2rem auto; padding: 1rem; border-top: 2px solid var(--line);
  font-family: system-ui, sans-serif; font-size: .9rem; color: var(--ink); }
section.provenance table { border-collapse: collapse; }
section.provenance td, section.provenance th { padding: .15rem .6rem; border-bottom: 1px solid var(--line); text-align: left; }
table.reciprocity-table { border-collapse: collapse; font-size: .9rem; }
table.reciprocity-table td, table.reciprocity-table th { padding: .2rem .6rem; border-bottom: 1px solid var(--line); }
@media (max-width: 40rem) { body.reciprocity-site, section.provenance { padding: .5rem; font-size: .95rem; }
  .reciprocity-site td, .reciprocity-site th { padding: .2rem .4rem; } }
"""


def display_parameter(value: Any) -> str:
    """A parameter as the provenance shows it (paths arrive already publishable: see ``run_report``)."""
    if isinstance(value, list):
        return ", ".join(str(item) for item in value)
    return str(value)


def _table(rows: list[tuple[str, str]], header: tuple[str, ...] | None = None) -> str:
    head = "<tr>" + "".join(f"<th>{html.escape(h)}</th>" for h in header) + "</tr>" if header else ""
    body = "".join("<tr>" + "".join(f"<td>{cell}</td>" for cell in row) + "</tr>" for row in rows)
    return f"<table>{head}{body}</table>"


def provenance_block(results: dict[str, Any], run_info: dict[str, Any], notebook: str) -> str:
    """The provenance every page ends with, as HTML."""
    details = results.get("details", {})
    provenance = details.get("provenance")
    parts = ["<section class='provenance'><h2>Provenance</h2>"]
    if provenance:
        parts.append(
            f"<p>Loader <code>{html.escape(provenance['loader'])}</code>; input fingerprint (sha256 over all input "
            f"files) <code>{html.escape(provenance.get('fingerprint', ''))}</code></p>"
        )
        files = [
            (f"<span class='mono'>{html.escape(item['name'])}</span>", f"{item['bytes']:,}", f"<span class='mono'>{item['sha256']}</span>")
            for item in provenance["inputs"]
        ]
        if files:
            parts.append(_table(files, ("input file", "bytes", "sha256")))
    coverage = details.get("coverage")
    if coverage:
        from .model import Coverage

        sentences = Coverage(**coverage).describe()
        parts.append("<p><strong>What the source could observe.</strong> " + " ".join(html.escape(s) for s in sentences) + "</p>")
    params = [
        (html.escape(k), f"<span class='mono'>{html.escape(display_parameter(v))}</span>")
        for k, v in sorted(run_info["parameters"].items())
    ]
    if params:
        parts.append(
            "<p><strong>Parameters</strong> (rerun with <code>reciprocity report --params params.yaml</code>; inputs "
            "outside the project appear by name only, and the recipe with full paths stays in the private folder "
            "beside the report):</p>"
        )
        parts.append(_table(params))
    versions = ", ".join(f"{html.escape(k)} {html.escape(v)}" for k, v in run_info["package_versions"].items())
    seconds = run_info.get("notebook_seconds", {}).get(notebook)
    parts.append(
        f"<p class='muted'>Software: Python {html.escape(run_info['python'])}, {versions}. "
        f"Generated {html.escape(run_info['finished_at'])}" + (f"; this study ran in {seconds} s" if seconds is not None else "") + ".</p>"
    )
    parts.append("</section>")
    return "\n".join(parts)


# Published pages run no script and load nothing from elsewhere: even if text from an input
# slipped through unescaped, a browser would not run it (<script>, onerror=, javascript: links)
# nor fetch a remote image. Figures are data: URIs; the stylesheet is unaffected.
CONTENT_SECURITY_POLICY = (
    "<meta http-equiv='Content-Security-Policy' content=\"script-src 'none'; object-src 'none'; "
    "base-uri 'none'; form-action 'none'; img-src data:\">"
)


def escape_markdown_outputs(notebook) -> None:
    """Escape HTML in every Markdown output, in place: they carry text from the inputs (notes, names).

    Markdown renders raw HTML as HTML, so a coverage note such as ``<img src=x onerror=...>``
    would become an element of the published page; and ``[text](url)`` a link (``javascript:``
    too), ``![text](url)`` an image. The studies write plain sentences with Markdown emphasis,
    lists and code spans only, which escaping ``<``, ``>``, ``&`` and (outside code spans) ``[``
    leaves intact.
    """
    for cell in notebook.cells:
        for output in cell.get("outputs", []):
            data = output.get("data", {})
            if "text/markdown" in data:
                text = data["text/markdown"]
                text = "".join(text) if isinstance(text, list) else text
                data["text/markdown"] = _without_links(html.escape(text, quote=False))


def _without_links(markdown: str) -> str:
    """``[`` and a URL's ``://`` escaped outside code spans (where a backslash would show): no link, image or
    autolinked address can start; the rendered text reads the same."""
    pieces = re.split(r"(`[^`\n]*`)", markdown)
    return "".join(piece if index % 2 else piece.replace("[", "\\[").replace("://", "\\://") for index, piece in enumerate(pieces))


def drop_progress_lines(notebook) -> None:
    """Remove the runner's progress lines (stderr, :data:`~reciprocity_utils.stopwatch.PROGRESS_MARK`) in place: they are for the terminal."""
    from .stopwatch import PROGRESS_MARK

    for cell in notebook.cells:
        kept = []
        for output in cell.get("outputs", []):
            if output.get("output_type") == "stream" and output.get("name") == "stderr":
                text = "".join(output["text"]) if isinstance(output["text"], list) else output["text"]
                text = "".join(line for line in text.splitlines(keepends=True) if not line.startswith(PROGRESS_MARK))
                if not text:
                    continue
                output["text"] = text
            kept.append(output)
        if "outputs" in cell:
            cell["outputs"] = kept


def render_page(executed: Path, output_dir: Path, run_info: dict[str, Any], with_code: bool = False) -> Path:
    """``<output_dir>/<stem>.html`` from an executed notebook, with navigation and provenance."""
    import nbformat
    from nbconvert import HTMLExporter
    from nbconvert.preprocessors import TagRemovePreprocessor

    notebook = nbformat.read(executed, as_version=4)
    escape_markdown_outputs(notebook)
    drop_progress_lines(notebook)
    # The browser tab shows the study's title (nbconvert's default is "Notebook").
    notebook.metadata["title"] = f"{notebook_title(executed)} · {run_info['study']}"
    exporter = HTMLExporter(
        template_name="reciprocity",
        extra_template_basedirs=[str(TEMPLATES_DIR)],
        exclude_input=not with_code,
        exclude_input_prompt=True,
        exclude_output_prompt=True,
    )
    hidden = set(HIDDEN_CELL_TAGS) if with_code else set(HIDDEN_CELL_TAGS) | {"parameters"}
    exporter.register_preprocessor(TagRemovePreprocessor(remove_cell_tags=hidden, enabled=True), enabled=True)
    body, _ = exporter.from_notebook_node(notebook)
    stem = executed.stem
    results = read_results(output_dir, stem)
    nav = f"<nav class='reciprocity-nav'><a href='index.html'>&larr; All studies of {html.escape(run_info['study'])}</a></nav>"
    head_extra = (
        f"{CONTENT_SECURITY_POLICY}<link rel='stylesheet' href='{STYLESHEET}'>"
        "<meta name='viewport' content='width=device-width, initial-scale=1'>"
    )
    body = body.replace("</head>", head_extra + "</head>", 1)
    body = re.sub(r"(<body[^>]*>)", lambda m: m.group(1) + nav + reading_guide(stem, results), body, count=1)
    body = body.replace("</body>", provenance_block(results, run_info, executed.name) + "</body>", 1)
    page = output_dir / f"{stem}.html"
    page.write_text(body, encoding="utf-8")
    return page


def reading_guide(stem: str, results: dict[str, Any]) -> str:
    """The top of a study page: the question, the data it ran on, and the answer with its strength of evidence."""
    answer = study_answer(stem, results)
    if answer is None:
        return ""
    rows = (
        ("Question", answer.question),
        ("Data", data_in_words(results)),
        ("Answer", answer.text),
        ("Strength of evidence", STRENGTH_WORDS[answer.strength]),
    )
    items = "".join(f"<dt>{html.escape(term)}</dt><dd>{html.escape(text)}</dd>" for term, text in rows)
    return (
        "<aside class='reading-guide' aria-label='Reading guide'><dl>" + items + "</dl>"
        "<p class='muted'>The sections below show how the answer was reached, with the figures and what the data "
        "could not show.</p></aside>"
    )


def _figure_cells(executed: Path, personal: bool = False) -> list:
    """Code cells in the order a key figure is looked for: the tagged cell (the personal one first when asked), then all."""
    import nbformat

    cells = [c for c in nbformat.read(executed, as_version=4).cells if c.cell_type == "code"]
    tags = [PERSONAL_KEY_FIGURE_TAG, KEY_FIGURE_TAG] if personal else [KEY_FIGURE_TAG]
    return [c for tag in tags for c in cells if tag in c.metadata.get("tags", [])] + cells


def key_figure_png(executed: Path, personal: bool = False) -> bytes | None:
    """The PNG of the notebook's key figure (tagged cell first, else the first figure)."""
    for cell in _figure_cells(executed, personal):
        for output in cell.get("outputs", []):
            data = output.get("data", {})
            if "image/png" in data:
                return base64.b64decode(data["image/png"])
            match = EMBEDDED_PNG.search(data.get("text/html", ""))
            if match:
                return base64.b64decode(match.group(1))
    return None


def thumbnail_data_uri(png: bytes, width: int = THUMBNAIL_WIDTH) -> str:
    from PIL import Image

    image = Image.open(io.BytesIO(png))
    if image.width > width:
        image = image.resize((width, round(image.height * width / image.width)), Image.LANCZOS)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", optimize=True)
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def notebook_title(executed: Path) -> str:
    import nbformat

    for cell in nbformat.read(executed, as_version=4).cells:
        if cell.cell_type == "markdown":
            for line in cell.source.splitlines():
                if line.startswith("# "):
                    return line[2:].strip()
    return executed.stem


STRENGTH_WORDS = {
    "measured": "counted directly from the data",
    "associational": "an association; not shown to be an effect",
    "causal reading supported": "an association whose timing supports reading it as an effect",
    "not observable": "cannot be answered from this source",
    "simulated": "a simulation under stated assumptions, not a measurement",
    "replayed": "counted on the owner's own followers (the simulation beside it is generic)",
}


def key_figure_title(executed: Path, personal: bool = False) -> str | None:
    """The caption of the key figure, for the thumbnail's alternative text."""
    for cell in _figure_cells(executed, personal):
        for output in cell.get("outputs", []):
            data = output.get("data", {})
            if "image/png" in data or EMBEDDED_PNG.search(data.get("text/html", "")):
                text = data.get("text/plain", "")
                match = re.search(r"<figcaption[^>]*>(.*?)</figcaption>", data.get("text/html", ""), re.S)
                return (
                    html.unescape(re.sub(r"<[^>]+>", "", match.group(1))).strip()
                    if match
                    else (None if text.startswith("<") else text or None)
                )
    return None


def headline_value(key: str, value: Any) -> str:
    """A recorded number as a card shows it: shares in per cent, p-values as "p < 0.001", else :func:`format_value`."""
    number = value if isinstance(value, (int, float)) and not isinstance(value, bool) else None
    if number is not None and number == number:
        label = format_label(key)
        if (key.endswith("_p") or key == "permutation_p") and 0 <= number <= 1:
            return p_words(number).removeprefix("p ").removeprefix("= ")
        if ("share" in label or "share" in key) and 0 <= number <= 1:
            return percent(number)
    return format_value(value, missing="not observable")


def write_index(output_dir: Path, executed: list[Path], run_info: dict[str, Any]) -> Path:
    """The front page: every study's headline numbers and key figure, then provenance."""
    (output_dir / STYLESHEET).write_text(CSS.strip() + "\n", encoding="utf-8")
    study = html.escape(run_info["study"])
    parts = [
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>",
        CONTENT_SECURITY_POLICY,
        "<meta name='viewport' content='width=device-width, initial-scale=1'>",
        f"<title>Reciprocity study: {study}</title><link rel='stylesheet' href='{STYLESHEET}'></head>",
        f"<body class='reciprocity-site'><h1>Reciprocity study: {study}</h1>",
        "<p class='muted'>Each card answers one question in plain words, with how strong the evidence is; the numbers "
        "behind each answer are one click away, and each study's page has the figures and the reasoning. "
        "Accounts other than the owner appear under pseudonyms unless the owner chose otherwise.</p>",
        "<div class='studies'>",
    ]
    first_results = None
    for path in executed:
        results = read_results(output_dir, path.stem)
        first_results = first_results or results
        rows = "".join(
            f"<tr><th>{html.escape(format_label(key))}</th><td class='num'>{html.escape(headline_value(key, value))}</td></tr>"
            for key, value in results["headline"].items()
        )
        title = html.escape(notebook_title(path))
        answer = study_answer(path.stem, results)
        personal = answer is not None and answer.strength == "replayed"
        png = key_figure_png(path, personal) if answer is None or answer.strength != "not observable" else None
        thumbnail = (
            f"<a href='{html.escape(path.stem)}.html'><img src='{thumbnail_data_uri(png)}' alt='Key figure of {title}: "
            f"{html.escape(key_figure_title(path, personal) or 'open the study for its description')}'></a>"
            if png
            else ""
        )
        # A study run on a random subgraph says so on the front page, not only on its own.
        sampled = ((results.get("details") or {}).get("coverage") or {}).get("sampled")
        data = f"<p class='muted'>Data: {html.escape(data_in_words(results))}</p>" if sampled else ""
        said = (
            (
                f"<p class='question'>{html.escape(answer.question)}</p><p class='answer'>{html.escape(answer.text)}</p>"
                f"{data}<p class='muted'>Strength of evidence: {html.escape(STRENGTH_WORDS[answer.strength])}</p>"
            )
            if answer
            else ""
        )
        numbers = f"<details><summary>The numbers behind it</summary><table>{rows}</table></details>" if rows else ""
        parts.append(f"<div class='study'><h2><a href='{html.escape(path.stem)}.html'>{title}</a></h2>{said}{thumbnail}{numbers}</div>")
    parts.append("</div>")
    parts.append("</body></html>")
    page = "\n".join(parts)
    if first_results:
        page = page.replace("</body>", provenance_block(first_results, run_info, "") + "</body>", 1)
    index = output_dir / "index.html"
    index.write_text(page, encoding="utf-8")
    return index
