"""The generic format analysts map their own data into.

One folder holding ``follows.csv`` (required), ``interactions.csv`` and ``accounts.csv``
(optional), each also accepted as ``.parquet``, with the columns of the data model
(``data/README.md``), and optionally ``coverage.json`` saying what the data could observe
(keys of :class:`reciprocity_utils.model.Coverage`; by default a whole network, both follow
directions and everyone's engagement).
"""

from __future__ import annotations

import json
from dataclasses import fields
from pathlib import Path

import pandas as pd

from ..model import Coverage, DatasetValidationError, Provenance, RawTable, StudyDataset, build_dataset
from .common import inside_folder

TABLE_FILES = ("follows", "interactions", "accounts")


def find_table(folder: Path, name: str) -> Path | None:
    for suffix in (".csv", ".parquet"):
        candidate = folder / f"{name}{suffix}"
        if candidate.exists() or candidate.is_symlink():
            return inside_folder(folder, candidate)
    return None


def looks_generic(folder: Path) -> bool:
    return folder.is_dir() and find_table(folder, "follows") is not None


def read_csv_text(path: Path) -> RawTable:
    """Every cell as text, so no id ever passes through a float; blank lines counted, not lost."""
    try:
        frame = pd.read_csv(path, dtype=str, keep_default_na=False, skip_blank_lines=False, encoding="utf-8")
    except UnicodeDecodeError as error:
        raise DatasetValidationError(
            str(path), f"byte {error.start}", "(file)", "UTF-8 text", error.object[error.start : error.start + 8]
        ) from None
    except pd.errors.ParserError as error:
        raise DatasetValidationError(str(path), "parsing", "(file)", "comma-separated values with a header line", str(error)) from None
    except pd.errors.EmptyDataError:
        raise DatasetValidationError(str(path), "line 1", "(header)", "a header line naming the columns", "an empty file") from None
    blank = frame.apply(lambda column: column.isna() | (column == "")).all(axis=1)
    return RawTable(frame[~blank], origin=str(path), first_line=2)


def read_table(path: Path) -> RawTable:
    if path.suffix == ".parquet":
        return RawTable(pd.read_parquet(path), origin=str(path))
    return read_csv_text(path)


def read_coverage(path: Path) -> Coverage:
    try:
        values = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as error:
        raise DatasetValidationError(str(path), f"line {error.lineno}", "(file)", "valid JSON", error.msg) from None
    allowed = {f.name for f in fields(Coverage)}
    unknown = sorted(set(values) - allowed)
    if unknown:
        raise DatasetValidationError(str(path), "top level", unknown[0], "only the keys " + ", ".join(sorted(allowed)), unknown)
    try:
        return Coverage(**values)
    except ValueError as error:
        raise DatasetValidationError(str(path), "top level", "(value)", "valid coverage values", str(error)) from None


def load_generic(folder: str | Path, owner_id: str | None = None, unknown_accounts: str = "add") -> StudyDataset:
    folder = Path(folder)
    follows_path = find_table(folder, "follows")
    if follows_path is None:
        raise FileNotFoundError(f"{folder}: the generic format needs follows.csv or follows.parquet in this folder")
    paths = {name: find_table(folder, name) for name in TABLE_FILES}
    raw = {name: read_table(path) for name, path in paths.items() if path is not None}
    coverage_path = folder / "coverage.json"
    if coverage_path.is_symlink():
        inside_folder(folder, coverage_path)
    coverage = read_coverage(coverage_path) if coverage_path.exists() else None
    if coverage is None and "interactions" not in raw:
        coverage = Coverage(engagement_observed="none")
    files = [p for p in paths.values() if p is not None] + ([coverage_path] if coverage_path.exists() else [])
    provenance = Provenance.from_files("generic", folder, files, {"owner_id": owner_id, "unknown_accounts": unknown_accounts})
    return build_dataset(
        raw["follows"],
        raw.get("interactions"),
        raw.get("accounts"),
        coverage=coverage,
        provenance=provenance,
        owner_id=owner_id,
        unknown_accounts=unknown_accounts,
        source=folder.name,
    )
