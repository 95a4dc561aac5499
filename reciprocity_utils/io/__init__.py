"""Loaders: each source becomes one validated :class:`~reciprocity_utils.model.StudyDataset`."""

from __future__ import annotations

from pathlib import Path

from ..model import StudyDataset
from .generic import load_generic, looks_generic

FORMATS = ("auto", "generic", "dataset")


def detect_format(path: str | Path) -> str:
    """Name the format of ``path``, or explain what was expected."""
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"{path}: no such file or folder")
    if path.is_dir() and (path / "dataset.json").exists():
        return "dataset"
    if looks_generic(path):
        return "generic"
    raise ValueError(
        f"{path}: cannot tell its format. Expected a folder with follows.csv (the generic format, "
        "see data/README.md) or a saved study dataset (dataset.json)."
    )


def load_dataset(path: str | Path, format: str = "auto", owner_id: str | None = None, **options) -> StudyDataset:
    """Load and validate ``path`` in ``format`` (``auto`` detects it)."""
    if format not in FORMATS:
        raise ValueError(f"format must be one of {', '.join(FORMATS)}, not {format!r}")
    path = Path(path)
    if format == "auto":
        format = detect_format(path)
    if format == "dataset":
        return StudyDataset.load(path)
    return load_generic(path, owner_id=owner_id or None, **options)


__all__ = ["FORMATS", "detect_format", "load_dataset", "load_generic"]
