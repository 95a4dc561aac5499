"""Where things live, built from the package's own location (never the working directory).

papermill runs notebooks in the caller's folder and nbval in the notebook's folder, so every
default path is anchored here and relative parameters are resolved against the project root.
"""

from __future__ import annotations

import errno
import os
from pathlib import Path
from typing import IO

PACKAGE_DIR = Path(__file__).resolve().parent
CHECKOUT = PACKAGE_DIR.parent
# A wheel carries the studies, recipes and sample here (setup.py copies them at build time).
SHIPPED_DIR = PACKAGE_DIR / "shipped"
# Run from a clone (or an editable install of one): the repository's own folders. Installed from a
# wheel: the shipped copies, and reports are written under the working directory, never into the
# installation.
IN_CHECKOUT = (CHECKOUT / "pyproject.toml").is_file() and (CHECKOUT / "notebooks").is_dir()
PROJECT_ROOT = CHECKOUT if IN_CHECKOUT else SHIPPED_DIR
NOTEBOOKS_DIR = PROJECT_ROOT / "notebooks"
SAMPLE_DIR = PROJECT_ROOT / "data" / "sample"
PARAMS_DIR = PROJECT_ROOT / "params"
REPORTS_DIR = (CHECKOUT if IN_CHECKOUT else Path.cwd()) / "reports"


class UnsafeOutputError(ValueError):
    """A write would go through a symbolic link (to somewhere the user did not choose)."""


def output_folder(folder: str | Path, private: bool = False) -> Path:
    """``folder``, created if needed, refused when it (or what stands at its place) is a symbolic
    link: a link planted there would send every write somewhere else. Private folders are 0700."""
    folder = Path(folder)
    if folder.is_symlink():
        raise UnsafeOutputError(f"{folder}: is a symbolic link; choose a real folder to write into")
    if folder.exists() and not folder.is_dir():
        raise UnsafeOutputError(f"{folder}: exists and is not a folder")
    folder.mkdir(mode=0o700 if private else 0o777, parents=True, exist_ok=True)
    if private:
        folder.chmod(0o700)
    return folder


def open_for_writing(path: str | Path, binary: bool = False, private: bool = False) -> IO:
    """Open ``path`` to (over)write it without following a symbolic link at its place (O_NOFOLLOW);
    private files are created owner-only (0600)."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | getattr(os, "O_NOFOLLOW", 0)
    try:
        descriptor = os.open(path, flags, 0o600 if private else 0o644)
    except OSError as error:
        if error.errno == errno.ELOOP:
            raise UnsafeOutputError(f"{path}: is a symbolic link; refusing to write through it") from None
        raise
    if private:
        os.fchmod(descriptor, 0o600)
    return os.fdopen(descriptor, "wb") if binary else os.fdopen(descriptor, "w", encoding="utf-8", newline="")


def resolve_path(path: str | Path) -> Path:
    """An absolute path: absolute input as given, relative input taken from the project root.

    Installed from a wheel, a relative path is the working directory's when it exists there, else
    the shipped copy's (a recipe's ``data/sample``).
    """
    path = Path(path).expanduser()
    if path.is_absolute():
        return path
    if not IN_CHECKOUT and (Path.cwd() / path).exists():
        return (Path.cwd() / path).resolve()
    return (PROJECT_ROOT / path).resolve()


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
    """``params`` with every path shown by :func:`publishable_path` (the recipe a published report carries).

    Path parameters, and any text written as an absolute path, in lists and mappings too: the
    loader options carry ``--followers`` / ``--following`` files."""

    def shown(name: str, value):
        if isinstance(value, dict):
            return {key: shown(str(key), item) for key, item in value.items()}
        if isinstance(value, list):
            return [shown(name, item) for item in value]
        if isinstance(value, str) and value != "synthetic" and (is_path_parameter(name) or Path(value).expanduser().is_absolute()):
            return publishable_path(value)
        return value

    return {name: shown(name, value) for name, value in params.items()}


def local_path_values(params: dict) -> list[str]:
    """Every absolute path a run's parameters name: path parameters, loader options, any value
    written as an absolute path, in lists and mappings too (``load_options`` holds followers files)."""
    found: list[str] = []

    def visit(name: str, value) -> None:
        if isinstance(value, dict):
            for key, item in value.items():
                visit(str(key), item)
        elif isinstance(value, list):
            for item in value:
                visit(name, item)
        elif isinstance(value, str) and value and value != "synthetic":
            path = Path(value).expanduser()
            if path.is_absolute() or (is_path_parameter(name) and "/" in value):
                found.append(str(resolve_path(value)))

    for name, value in params.items():
        visit(name, value)
    return found


def publishable_text(text: str, local_paths: list[str]) -> str:
    """``text`` with each of ``local_paths`` (and its resolved form) shown as :func:`publishable_path` shows it."""
    forms = {}
    for value in local_paths:
        for form in {value, str(Path(value).resolve())}:
            if form.count("/") >= 2:
                forms[form] = publishable_path(value)
    for form in sorted(forms, key=len, reverse=True):
        text = text.replace(form, forms[form])
    return text
