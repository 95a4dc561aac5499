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


def publishable_path(value: str) -> str:
    """A path as a published report may show it: relative to the project root when inside it,
    else the file name alone (an absolute path reveals the owner's folders, often their user name)."""
    path = Path(value).expanduser()
    if not path.is_absolute():
        return str(value)
    try:
        return path.resolve().relative_to(PROJECT_ROOT).as_posix()
    except ValueError:
        return path.name


def is_path_parameter(name: str) -> bool:
    """Parameters that name files or folders: ``*_path``, ``*_dir`` and ``inputs``."""
    return name == "inputs" or name.endswith(("_path", "_dir"))


def publishable_parameters(params: dict) -> dict:
    """``params`` with every path shown by :func:`publishable_path` (the recipe a published report carries)."""
    shown = {}
    for name, value in params.items():
        if is_path_parameter(name) and isinstance(value, str) and value != "synthetic":
            value = publishable_path(value)
        elif is_path_parameter(name) and isinstance(value, list):
            value = [publishable_path(v) if isinstance(v, str) else v for v in value]
        shown[name] = value
    return shown
