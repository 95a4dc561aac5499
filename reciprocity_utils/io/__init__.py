"""Loaders: each source becomes one validated :class:`~reciprocity_utils.model.StudyDataset`.

One module per source: ``generic`` (the folder format), ``twitter`` (X archives, classic
archives), ``instagram``, ``mastodon``, ``bluesky``, ``collected`` (folders written by ``reciprocity collect``), ``research`` (UCD groups, SNAP, Higgs,
.mtx, sociometric matrices), ``graphs`` (GML/GEXF/GraphML), ``pajek`` (.net/.paj), ``twarc``; ``snapshots`` combines
several exports of one account; ``detect`` names the format of a path; ``common`` reads
archives safely. :func:`load_dataset` (one path) and :func:`load_paths` (several) are the
entry points notebooks and the CLI call.
"""

from __future__ import annotations

import zipfile
from contextlib import contextmanager
from pathlib import Path
from typing import Callable

from ..model import DatasetValidationError, StudyDataset
from .bluesky import PartialRepositoryWarning, load_bluesky
from .collected import load_collected
from .detect import FORMAT_DESCRIPTIONS, detect_format
from .generic import load_generic
from .graphs import load_graph_file
from .instagram import load_instagram
from .mastodon import load_mastodon
from .pajek import load_pajek
from .research import load_higgs, load_matrix, load_mtx, load_snap, load_ucd_group
from .snapshots import load_snapshots
from .twarc import load_twarc_csv, load_twarc_jsonl
from .twitter import load_classic_archive, load_x_archive

FORMATS = ("auto", *FORMAT_DESCRIPTIONS)
# Formats whose exports are one account's view: several of them are snapshots over time.
SNAPSHOT_FORMATS = ("x_archive", "instagram", "bluesky")


def _load_saved(path: Path, owner_id: str | None = None) -> StudyDataset:
    return StudyDataset.load(path)


LOADERS: dict[str, Callable[..., StudyDataset]] = {
    "dataset": _load_saved,
    "generic": load_generic,
    "x_archive": load_x_archive,
    "x_classic": load_classic_archive,
    "instagram": load_instagram,
    "mastodon": load_mastodon,
    "bluesky": load_bluesky,
    "collected": load_collected,
    "ucd": load_ucd_group,
    "mtx": load_mtx,
    "snap": load_snap,
    "higgs": load_higgs,
    "matrix": load_matrix,
    "graph": load_graph_file,
    "pajek": load_pajek,
    "twarc_csv": load_twarc_csv,
    "twarc_jsonl": load_twarc_jsonl,
}


def load_dataset(path: str | Path, format: str = "auto", owner_id: str | None = None, **options) -> StudyDataset:
    """Load and validate ``path`` in ``format`` (``auto`` detects it; see :data:`FORMATS`).

    ``options`` go to the format's loader, e.g. ``followers=`` (a followers list for Mastodon
    or Bluesky), ``max_archive_bytes=`` (archives), ``as_follows=`` (Higgs layers),
    ``min_value=`` (valued matrices and Pajek files), ``network=``, ``relation=`` and ``time=``
    (Pajek files), ``unknown_accounts=`` (generic).
    """
    if format not in FORMATS:
        raise ValueError(f"format must be one of {', '.join(FORMATS)}, not {format!r}")
    path = Path(path)
    if format == "auto":
        format = detect_format(path)
    loader = LOADERS[format]
    accepted = _option_names(loader)
    unknown = sorted(set(options) - accepted) if accepted is not None else []
    if unknown:
        offered = ", ".join(sorted(accepted - {"owner_id"})) or "none"
        raise ValueError(f"{path.name}: the {format} loader has no option {', '.join(unknown)} (its options: {offered})")
    with input_errors_named(path, format):
        return loader(path, owner_id=owner_id or None, **options)


# Every exception class a loader can let escape on malformed input, and what it means to a user.
# Loaders raise DatasetValidationError (file, record, field, expectation) wherever they check a
# shape; these catch what a check missed, so a bad input is still one line naming the file.
_SHAPE_ERRORS = (AttributeError, TypeError, KeyError, IndexError)


@contextmanager
def input_errors_named(path: Path, format: str):
    """Turn any error a malformed input causes inside a loader into one :class:`DatasetValidationError`."""
    try:
        yield
    except DatasetValidationError:
        raise
    except RecursionError:
        raise DatasetValidationError(
            str(path),
            "structure",
            "(file)",
            f"a {format} input nested at most a few hundred levels deep",
            "nesting deeper than Python can follow",
        ) from None
    except _SHAPE_ERRORS as error:
        raise DatasetValidationError(
            str(path), "a record", "(shape)", f"records shaped as a {format} export documents them", f"{type(error).__name__}: {error}"
        ) from None
    except (OverflowError, NotImplementedError, zipfile.BadZipFile, EOFError) as error:
        raise DatasetValidationError(
            str(path), "(file)", "(content)", f"a readable {format} input", f"{type(error).__name__}: {error}"
        ) from None
    except UnicodeError as error:
        raise DatasetValidationError(str(path), "(file)", "(encoding)", "UTF-8 text", str(error)) from None
    except MemoryError:
        raise DatasetValidationError(
            str(path),
            "(file)",
            "(size)",
            "an input that fits in this machine's memory",
            "more than it can hold (split the input, or use a larger machine)",
        ) from None


def _option_names(loader) -> set[str] | None:
    """The keyword options a loader takes (``None`` when it takes any)."""
    import inspect

    parameters = list(inspect.signature(loader).parameters.values())
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters):
        return None
    return {p.name for p in parameters[1:]}  # the first is the input's path


def load_paths(paths: list[str | Path], format: str = "auto", owner_id: str | None = None, **options) -> tuple[StudyDataset, str]:
    """Load one path, or several that belong together; returns the dataset and what was detected.

    Several exports of one account (X archives, Instagram exports, Bluesky repositories) are
    snapshots: follow and unfollow events are derived between them. A Mastodon archive with
    its CSV exports is one Mastodon input: ``following_accounts.csv`` is the following list,
    a file named like ``*followers*`` the user's followers list, ``lists.csv`` the lists.
    """
    paths = [Path(p) for p in paths]
    if len(paths) == 1:
        detected = detect_format(paths[0]) if format == "auto" else format
        return load_dataset(paths[0], format=detected, owner_id=owner_id, **options), detected
    formats = [detect_format(p) if format == "auto" else format for p in paths]
    if len(set(formats)) == 1 and formats[0] in SNAPSHOT_FORMATS:
        loader = lambda p: load_dataset(p, format=formats[0], **options)
        return load_snapshots(paths, loader, owner_id=owner_id), f"{len(paths)} snapshots ({formats[0]})"
    if set(formats) == {"mastodon"}:
        return _load_mastodon_parts(paths, owner_id, **options), "mastodon (archive and CSV exports)"
    described = ", ".join(f"{p.name} ({f})" for p, f in zip(paths, formats))
    raise ValueError(
        f"cannot combine these inputs: {described}. Several paths must be exports of one account taken at different "
        f"times ({', '.join(SNAPSHOT_FORMATS)}), or a Mastodon archive with its CSV exports."
    )


def _load_mastodon_parts(paths: list[Path], owner_id: str | None, **options) -> StudyDataset:
    files = [p for p in paths if p.is_file() and p.suffix.lower() in (".csv", ".txt")]
    trees = [p for p in paths if p not in files]
    if len(trees) > 1:
        raise ValueError(f"several Mastodon archives given ({', '.join(map(str, trees))}): give one archive and its CSV files")
    parts = dict(options)
    for file in files:
        name = file.name.lower()
        role = "followers" if "follower" in name else "lists" if name.startswith("lists") else "following"
        if role in parts:
            raise ValueError(f"two {role} files given ({parts[role]}, {file})")
        parts[role] = file
    base = trees[0] if trees else parts.pop("following")
    return load_mastodon(base, owner_id=owner_id, **parts)


__all__ = [
    "FORMATS",
    "FORMAT_DESCRIPTIONS",
    "LOADERS",
    "PartialRepositoryWarning",
    "detect_format",
    "load_dataset",
    "load_generic",
    "load_paths",
]
