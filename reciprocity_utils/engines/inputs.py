"""What kind of follow file an engine is given, and where its first malformed line is.

Engines read three shapes, plain or gzip-compressed: Parquet with ``follower_id`` and
``followee_id`` columns (a saved study dataset's ``follows.parquet``, or a folder of such files);
CSV with a header naming those two columns (the generic format's ``follows.csv``); and
whitespace edge lists, one follow ``follower followee [more fields]`` per line, ``#`` or ``%``
lines being comments (SNAP, Higgs, KONECT).
"""

from __future__ import annotations

import gzip
import io
from dataclasses import dataclass
from pathlib import Path

from ..model import DatasetValidationError

COMMENT_MARKS = ("#", "%")
ID_COLUMNS = ("follower_id", "followee_id")
_SNIFF_BYTES = 1 << 16


@dataclass(frozen=True)
class FollowInput:
    """``kind`` is ``parquet``, ``csv`` or ``edgelist``; ``paths`` the files an engine reads.

    ``remote`` inputs are URLs of a cluster's storage (``hdfs://``, ``s3a://``, ``gs://``...):
    only Spark reads them, and their kind is told by their name.
    """

    kind: str
    paths: tuple[Path, ...] | tuple[str, ...]
    label: str
    remote: bool = False

    @property
    def bytes(self) -> int:
        return 0 if self.remote else sum(Path(path).stat().st_size for path in self.paths)


def _open_text(path: Path) -> io.TextIOBase:
    opened = gzip.open(path, "rb") if path.name.endswith(".gz") else open(path, "rb")
    return io.TextIOWrapper(opened, encoding="utf-8", errors="replace", newline=None)


def _first_line(path: Path) -> str:
    with _open_text(path) as handle:
        return handle.readline()


def _first_data_line(path: Path) -> str:
    with _open_text(path) as handle:
        for line in handle:
            stripped = line.strip()
            if stripped and not stripped.startswith(COMMENT_MARKS):
                return stripped
    return ""


def follow_input(path: str | Path) -> FollowInput:
    """The follow file(s) at ``path``, or one line saying why an engine cannot read it."""
    if "://" in str(path):
        url = str(path).rstrip("/")
        name = url.rsplit("/", 1)[-1]
        kind = "csv" if ".csv" in name else "edgelist" if name.endswith((".txt", ".gz", ".edgelist", ".tsv")) else "parquet"
        return FollowInput(kind, (url,), name, remote=True)
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"{path}: no such file or folder")
    if path.is_dir():
        if (path / "dataset.json").exists() and (path / "follows.parquet").exists():
            return FollowInput("parquet", (path / "follows.parquet",), path.name)
        if (path / "follows.parquet").exists():  # a generic-format folder: its other tables are not follows
            return FollowInput("parquet", (path / "follows.parquet",), path.name)
        parquet = tuple(sorted(path.glob("*.parquet")))  # else a dataset of Parquet part files
        if parquet:
            return FollowInput("parquet", parquet, path.name)
        for name in ("follows.csv", "follows.csv.gz"):
            if (path / name).exists():
                return follow_input(path / name)
        raise DatasetValidationError(
            str(path), "the folder", "follows", "a saved dataset, Parquet files or follows.csv with follower_id and followee_id", "none"
        )
    if path.suffix == ".parquet":
        return FollowInput("parquet", (path,), path.name)
    if path.name.removesuffix(".gz").endswith(".mtx") or _first_line(path).startswith("%%MatrixMarket"):
        # Its first data line gives the matrix's sizes, not a follow; the loader reads it right.
        raise DatasetValidationError(
            str(path),
            "line 1",
            "format",
            "an edge list, CSV or Parquet (this is a MatrixMarket file: convert it with "
            "`reciprocity load FILE --out DIR`, then measure DIR)",
            "MatrixMarket",
        )
    first = _first_data_line(path)
    header = [field.strip().strip('"') for field in first.split(",")]
    if all(column in header for column in ID_COLUMNS):
        return FollowInput("csv", (path,), path.name)
    return FollowInput("edgelist", (path,), path.name)


# What the engines read: follow lists. Exports (archives, JSON, repositories) are loaded in memory.
FOLLOW_LIST_SUFFIXES = (".parquet", ".csv", ".txt", ".tsv", ".edgelist", ".edges", ".el")
ARCHIVE_SUFFIXES = (".zip", ".tar", ".tgz", ".car", ".json", ".jsonl", ".js", ".mtx", ".net", ".paj", ".graphml", ".gml", ".xlsx")


def is_follow_list(path: str | Path) -> bool:
    """Whether an engine can read ``path``: Parquet, CSV or an edge list (``.gz`` too), a folder of
    them, or a storage URL; not an export archive, which only the in-memory loaders understand."""
    if "://" in str(path):
        return True
    path = Path(path)
    if path.is_dir():
        return any(path.glob("*.parquet")) or (path / "follows.csv").exists() or (path / "follows.csv.gz").exists()
    name = path.name.lower().removesuffix(".gz")
    if name.endswith(ARCHIVE_SUFFIXES) or name.endswith(".tar"):
        return False
    return name.endswith(FOLLOW_LIST_SUFFIXES) or "." not in name


EXPECTED_EDGE = "two account ids (follower followee), then any other fields"


def first_bad_edge_line(path: Path, count: int = 1) -> DatasetValidationError:
    """The first line of an edge list without two fields, as the error to raise (the file is streamed)."""
    with _open_text(path) as handle:
        for number, line in enumerate(handle, start=1):
            stripped = line.strip()
            if not stripped or stripped.startswith(COMMENT_MARKS):
                continue
            if len(stripped.split()) < 2:
                shown = stripped if len(stripped) <= 40 else stripped[:40] + "..."
                return DatasetValidationError(str(path), f"line {number}", "follower, followee", EXPECTED_EDGE, shown, count - 1)
    return DatasetValidationError(str(path), "a line", "follower, followee", EXPECTED_EDGE, "one field", count - 1)


def missing_ids_error(source: FollowInput, count: int) -> DatasetValidationError:
    """The error for ``count`` follows without both ids: the first offending line of an edge list."""
    if source.kind == "edgelist":
        return first_bad_edge_line(source.paths[0], count)
    return DatasetValidationError(
        source.label, f"{count:,} rows", "follower_id, followee_id", "an account id in both columns", "an empty id"
    )
