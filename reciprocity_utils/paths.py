"""Where things live, built from the package's own location (never the working directory).

papermill runs notebooks in the caller's folder and nbval in the notebook's folder, so every
default path is anchored here and relative parameters are resolved against the project root.
"""

from __future__ import annotations

from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS_DIR = PROJECT_ROOT / "notebooks"
SAMPLE_DIR = PROJECT_ROOT / "data" / "sample"
PARAMS_DIR = PROJECT_ROOT / "params"
REPORTS_DIR = PROJECT_ROOT / "reports"


def resolve_path(path: str | Path) -> Path:
    """An absolute path: absolute input as given, relative input taken from the project root."""
    path = Path(path).expanduser()
    return path if path.is_absolute() else (PROJECT_ROOT / path).resolve()


def private_dir(output_dir: str | Path) -> Path:
    """Working files of a report that must not be published with it (the validated dataset with
    raw ids, executed notebooks with local paths): a hidden sibling of the report folder."""
    output_dir = Path(output_dir)
    return output_dir.parent / f".{output_dir.name}.private"
