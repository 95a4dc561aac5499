"""What every loader needs: reading inputs safely, decoding text and JSON, and failing clearly.

- :class:`InputTree` reads files from a folder, a ``.zip`` or a ``.tar``/``.tar.gz`` archive by
  name, in memory: nothing is extracted to disk, so a member named ``../../etc/passwd`` cannot
  land anywhere (such names are refused all the same), and every byte read counts against a size
  cap so a zip bomb stops with an error instead of filling memory.
- :func:`decode_text` and :func:`parse_json` turn bytes into text and JSON with errors that name
  the file, the line and what was expected. JSON numbers are kept as the digits written
  (``parse_int=str``): a 64-bit id never becomes a float, and a count is converted on purpose.
- :func:`read_whitespace_lines` splits a whitespace-separated text file into columns of text,
  keeping each row's line number for error messages (SNAP, Higgs, MatrixMarket files).
"""

from __future__ import annotations

import csv
import io
import json
import os
import tarfile
import zipfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

import pandas as pd

from ..model import Coverage, DatasetValidationError, InputFile, Provenance, RawTable, StudyDataset, build_dataset, file_sha256

# Uncompressed bytes one load may read from an archive, by default. A personal export's text is
# far below this; media files, the bulk of real archives, are never read.
DEFAULT_MAX_ARCHIVE_BYTES = 2 << 30
ARCHIVE_SUFFIXES = (".zip", ".tar", ".tar.gz", ".tgz")


# Single compressed files (an edge list as SNAP publishes it): read through the decompressor,
# capped like an archive so that a small bomb cannot fill memory.
COMPRESSED_SUFFIXES = (".gz", ".bz2")


def plain_suffix(path: Path) -> str:
    """The suffix under any compression suffix: ``.txt`` for ``edges.txt.gz``."""
    suffix = path.suffix.lower()
    return Path(path.stem).suffix.lower() if suffix in COMPRESSED_SUFFIXES else suffix


def read_input_bytes(path: Path, max_bytes: int | None = None, head: int | None = None) -> bytes:
    """A file's bytes, decompressed when it ends in .gz or .bz2 (at most ``max_bytes``; ``head``: only the first bytes)."""
    suffix = path.suffix.lower()
    if suffix not in COMPRESSED_SUFFIXES:
        if head is not None:
            with open(path, "rb") as handle:
                return handle.read(head)
        return path.read_bytes()
    import bz2
    import gzip

    cap = DEFAULT_MAX_ARCHIVE_BYTES if max_bytes is None else max_bytes
    opener = gzip.open if suffix == ".gz" else bz2.open
    try:
        with opener(path, "rb") as handle:
            data = handle.read(head if head is not None else cap + 1)
    except (OSError, EOFError, zlib.error, ValueError) as error:
        if head is not None:
            return b""
        raise DatasetValidationError(
            str(path), "(file)", "(compression)", f"a complete {suffix} file (is the download truncated?)", str(error)
        ) from None
    if head is None and len(data) > cap:
        raise DatasetValidationError(
            str(path), "(file)", "(size)", f"at most {cap:,} bytes once decompressed (option max_archive_bytes)", "more"
        )
    return data


def archive_kind(path: Path) -> str | None:
    name = path.name.lower()
    if name.endswith(".zip"):
        return "zip"
    if name.endswith((".tar", ".tar.gz", ".tgz")):
        return "tar"
    return None


def _check_member_name(archive: Path, name: str) -> None:
    parts = PurePosixPath(name.replace("\\", "/")).parts
    if name.startswith(("/", "\\")) or (parts and parts[0].endswith(":")) or ".." in parts:
        raise DatasetValidationError(
            str(archive),
            f"member {name!r}",
            "(archive)",
            "member names inside the archive (no absolute paths, no '..')",
            name,
        )


def inside_folder(folder: Path, path: Path) -> Path:
    """``path`` once checked to stay inside ``folder``: a symbolic link leading out is refused.

    An export folder is read as the export; a link inside it that points elsewhere (a system
    file, another person's data) must not be loaded, nor echoed in an error message. The error
    names the link only. Links that stay inside the folder are followed.
    """
    root = folder.resolve()
    real = path.resolve()
    if real != root and root not in real.parents:
        raise DatasetValidationError(
            str(path),
            "folder entry",
            "(link)",
            "files inside the export folder (a symbolic link here leads outside it)",
            "a link to a location outside the export folder",
        )
    return path


def folder_file_names(folder: Path) -> list[str]:
    """Paths of the regular files below ``folder`` (relative, '/'-separated), walked without
    following links; a link leading outside the folder is refused, a link inside is listed once."""
    names = []
    for current, subfolders, files in os.walk(folder, followlinks=False):
        here = Path(current)
        for entry in sorted(subfolders + files):
            candidate = here / entry
            if candidate.is_symlink():
                target = inside_folder(folder, candidate)
                if target.is_file():
                    names.append(candidate.relative_to(folder).as_posix())
            elif entry in files and candidate.is_file():
                names.append(candidate.relative_to(folder).as_posix())
    return sorted(names)


@dataclass
class InputTree:
    """Files of one input, read by their path inside it ("data/manifest.js"), never extracted.

    ``root`` is the folder or archive file. ``prefix`` is a folder inside it that holds the
    export (archives often wrap everything in one top folder), found by :meth:`locate`.
    """

    root: Path
    kind: str  # "folder", "zip" or "tar"
    max_bytes: int = DEFAULT_MAX_ARCHIVE_BYTES
    prefix: str = ""
    bytes_read: int = 0
    members_read: list[str] = field(default_factory=list)
    _names: list[str] = field(default_factory=list, repr=False)
    _zip: zipfile.ZipFile | None = field(default=None, repr=False)
    _tar: tarfile.TarFile | None = field(default=None, repr=False)
    _cached_names: frozenset[str] | None = field(default=None, repr=False)

    @classmethod
    def open(cls, path: str | Path, max_bytes: int = DEFAULT_MAX_ARCHIVE_BYTES) -> "InputTree":
        path = Path(path)
        if not path.exists():
            raise FileNotFoundError(f"{path}: no such file or folder")
        if path.is_dir():
            return cls(path, "folder", max_bytes, _names=folder_file_names(path))
        kind = archive_kind(path)
        if kind == "zip":
            try:
                archive = zipfile.ZipFile(path)
            except (zipfile.BadZipFile, OSError, EOFError) as error:
                raise DatasetValidationError(
                    str(path), "archive", "(file)", "a complete, readable zip archive (is the download truncated?)", str(error)
                ) from None
            names = [info.filename for info in archive.infolist() if not info.is_dir()]
            for name in names:
                _check_member_name(path, name)
            return cls(path, "zip", max_bytes, _names=names, _zip=archive)
        if kind == "tar":
            try:
                archive = tarfile.open(path, mode="r:*")
                members = archive.getmembers()
            except (tarfile.TarError, OSError, EOFError, zlib.error) as error:
                raise DatasetValidationError(
                    str(path),
                    "archive",
                    "(file)",
                    "a complete, readable tar or tar.gz archive (is the download truncated?)",
                    str(error),
                ) from None
            names = []
            for member in members:
                _check_member_name(path, member.name)
                if member.issym() or member.islnk():
                    raise DatasetValidationError(
                        str(path),
                        f"member {member.name!r}",
                        "(archive)",
                        "regular files only (no links inside an export)",
                        f"a link to {member.linkname!r}",
                    )
                if member.isfile():
                    names.append(member.name)
            return cls(path, "tar", max_bytes, _names=names, _tar=archive)
        raise ValueError(f"{path}: not a folder or an archive ({', '.join(ARCHIVE_SUFFIXES)})")

    def close(self) -> None:
        for archive in (self._zip, self._tar):
            if archive is not None:
                archive.close()

    def __enter__(self) -> "InputTree":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    # -- names --------------------------------------------------------------------------------

    def names(self) -> list[str]:
        """Member paths below the prefix, relative to it."""
        cut = len(self.prefix)
        return [n[cut:] for n in self._names if n.startswith(self.prefix)]

    def exists(self, name: str) -> bool:
        return (self.prefix + name) in self._name_set

    @property
    def _name_set(self) -> frozenset[str]:
        if self._cached_names is None:
            self._cached_names = frozenset(self._names)
        return self._cached_names

    def locate(self, marker: str) -> bool:
        """Set the prefix to the folder holding ``marker`` (a path such as "data/manifest.js").

        Archives made by hand often wrap the export in a top folder; the shallowest match wins.
        """
        matches = sorted((n for n in self._names if n == marker or n.endswith("/" + marker)), key=lambda n: n.count("/"))
        if not matches:
            return False
        self.prefix = matches[0][: len(matches[0]) - len(marker)]
        return True

    def origin(self, name: str) -> str:
        """How errors name a member: the path a user can open."""
        if self.kind == "folder":
            return str(self.root / self.prefix / name)
        return f"{self.root}!{self.prefix}{name}"

    # -- reading ------------------------------------------------------------------------------

    def read_bytes(self, name: str) -> bytes:
        full = self.prefix + name
        if full not in self._name_set:
            raise FileNotFoundError(f"{self.origin(name)}: no such file in the input")
        budget = self.max_bytes - self.bytes_read
        try:
            if self.kind == "folder":
                path = inside_folder(self.root, self.root / full)
                if path.stat().st_size > budget:
                    self._over_budget(name)
                data = path.read_bytes()
            elif self.kind == "zip":
                with self._zip.open(full) as handle:
                    data = _read_capped(handle, budget, lambda: self._over_budget(name))
            else:
                handle = self._tar.extractfile(full)
                data = _read_capped(handle, budget, lambda: self._over_budget(name))
        except (zipfile.BadZipFile, tarfile.TarError, EOFError, zlib.error) as error:
            raise DatasetValidationError(
                self.origin(name),
                "archive member",
                "(file)",
                "an intact compressed file (the archive is corrupt or truncated)",
                str(error),
            ) from None
        except RuntimeError as error:  # zipfile: "File ... is encrypted, password required for extraction"
            raise DatasetValidationError(
                self.origin(name),
                "archive member",
                "(encryption)",
                "an archive without a password (extract it yourself and load the folder)",
                str(error),
            ) from None
        except NotImplementedError as error:  # zipfile: PPMd, LZMA variants and other methods it cannot read
            raise DatasetValidationError(
                self.origin(name),
                "archive member",
                "(compression)",
                "members stored or compressed with deflate, bzip2 or lzma (extract it with another tool and load the folder)",
                str(error),
            ) from None
        self.bytes_read += len(data)
        self.members_read.append(full)
        return data

    def _over_budget(self, name: str) -> None:
        raise DatasetValidationError(
            self.origin(name),
            "archive member",
            "(size)",
            f"at most {self.max_bytes:,} uncompressed bytes read from one input (option max_archive_bytes); "
            "this looks like a zip bomb or a far larger export than expected",
            f"more than {self.max_bytes - self.bytes_read:,} bytes left to read",
        )

    def read_text(self, name: str) -> str:
        return decode_text(self.read_bytes(name), self.origin(name))

    def provenance(self, loader: str, parameters: dict[str, Any] | None = None) -> Provenance:
        """The archive itself (one hash) or each folder file read, with what was read from it."""
        parameters = dict(parameters or {})
        if self.kind == "folder":
            files = [self.root / n for n in dict.fromkeys(self.members_read)]
            return Provenance.from_files(loader, self.root, files, parameters)
        parameters["members_read"] = list(dict.fromkeys(self.members_read))
        return Provenance.from_files(loader, self.root.parent, [self.root], parameters)


def _read_capped(handle: io.BufferedIOBase, budget: int, over: Any) -> bytes:
    chunks, total = [], 0
    while True:
        chunk = handle.read(1 << 20)
        if not chunk:
            return b"".join(chunks)
        total += len(chunk)
        if total > budget:
            over()
        chunks.append(chunk)


def file_provenance(loader: str, files: list[Path], parameters: dict[str, Any] | None = None) -> Provenance:
    """Provenance of loose files (edge lists, graph files): each with its hash, named by file name."""
    inputs = [InputFile(name=f.name, sha256=file_sha256(f), bytes=f.stat().st_size) for f in files]
    return Provenance(loader=loader, inputs=inputs, parameters=dict(parameters or {}))


def follow_network_dataset(
    follows: RawTable,
    path: Path,
    provenance: Provenance,
    notes: list[str],
    owner_id: str | None = None,
    accounts: RawTable | None = None,
) -> StudyDataset:
    """A whole network read from one research file that holds ties only: no engagement observed."""
    return build_dataset(
        follows,
        None,
        accounts,
        coverage=Coverage(scope="network", engagement_observed="none", notes=notes),
        owner_id=owner_id,
        source=path.name,
        provenance=provenance,
    )


# ---------------------------------------------------------------------------------------------
# Text and JSON


def decode_text(data: bytes, origin: str) -> str:
    """UTF-8 text (a byte-order mark is dropped); other encodings fail naming line and byte."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = data.count(b"\n", 0, error.start) + 1
        raise DatasetValidationError(
            origin,
            f"line {line}, byte {error.start}",
            "(file)",
            "UTF-8 text (save the file as UTF-8)",
            data[error.start : error.start + 8],
        ) from None


# Parsed JSON costs about six times its text in Python objects: one file larger than this would
# need more memory than a laptop has. The limit is raised with the environment variable below.
MAX_JSON_MB_VARIABLE = "RECIPROCITY_MAX_JSON_MB"
DEFAULT_MAX_JSON_MB = 1024


def max_json_chars() -> int:
    value = os.environ.get(MAX_JSON_MB_VARIABLE)
    try:
        megabytes = float(value) if value else DEFAULT_MAX_JSON_MB
    except ValueError:
        raise ValueError(f"{MAX_JSON_MB_VARIABLE}={value!r}: expected a number of megabytes") from None
    return int(megabytes * 1024 * 1024)


def parse_json(text: str, origin: str, first_line: int = 1) -> Any:
    """JSON with integers and decimals kept as the text written, so ids keep every digit.

    A text beyond :func:`max_json_chars` is refused before parsing, with the reason and the way to
    raise the limit, rather than ending in a memory error part-way.
    """
    limit = max_json_chars()
    if len(text) > limit:
        raise DatasetValidationError(
            origin,
            "(file)",
            "(size)",
            f"at most {limit // (1024 * 1024):,} MB of JSON in one file (parsing needs several times that in memory; "
            f"set {MAX_JSON_MB_VARIABLE} to raise the limit on a machine with the memory)",
            f"{len(text) / 1024 / 1024:,.0f} MB",
        )
    try:
        return json.loads(text, parse_int=str, parse_float=str)
    except json.JSONDecodeError as error:
        raise DatasetValidationError(
            origin, f"line {error.lineno + first_line - 1}, column {error.colno}", "(file)", "valid JSON", error.msg
        ) from None


def read_json_file(path: Path) -> Any:
    return parse_json(decode_text(path.read_bytes(), str(path)), str(path))


def json_id(value: Any) -> str | None:
    """An id from parsed JSON as text: digits as written (see :func:`parse_json`), else None."""
    if value is None:
        return None
    text = str(value).strip()
    return text or None


# ---------------------------------------------------------------------------------------------
# Whitespace-separated edge lists


def read_whitespace_lines(
    path: Path,
    *,
    comments: tuple[str, ...] = ("#", "%"),
    min_fields: int,
    max_fields: int,
    names: list[str] | None = None,
) -> tuple[pd.DataFrame, list[str]]:
    """Data rows of a whitespace-separated file as text columns, indexed by 0-based line number.

    Returns the rows and the comment lines (headers such as SNAP's ``# Nodes: 7115 Edges:
    103689``). Tabs, spaces and CRLF line ends are all accepted. A row with too few or too many
    fields is an error naming its line.
    """
    names = names or [str(i) for i in range(max_fields)]
    data = read_input_bytes(path)
    fast = _read_uniform_columns(data, comments, min_fields, max_fields, names)
    if fast is not None:
        return fast
    text = decode_text(data, str(path))
    lines = pd.Series(text.splitlines(), dtype="string").str.strip()
    is_comment = lines.str.startswith(comments) if comments else pd.Series(False, index=lines.index)
    header = lines[is_comment].tolist()
    data = lines[~is_comment & (lines != "")]
    if data.empty:
        return pd.DataFrame({n: pd.Series(dtype="string") for n in names[:min_fields]}), header
    # The C parser splits millions of lines quickly; one spare column reveals lines that are too long.
    try:
        fields = pd.read_csv(
            io.StringIO("\n".join(data.tolist())),
            sep=r"\s+",
            header=None,
            dtype=str,
            names=list(range(max_fields + 1)),
            keep_default_na=False,
            na_values=[],
            quoting=csv.QUOTE_NONE,
            engine="c",
        )
        fields = fields.replace("", pd.NA)
    except pd.errors.ParserError:
        fields = data.str.split(expand=True)  # slower, but only to point at the offending line
    fields.index = data.index
    width = fields.notna().sum(axis=1)
    bad = (width < min_fields) | (width > max_fields)
    if bad.any():
        line = int(bad.idxmax())
        expected = f"{min_fields} fields" if min_fields == max_fields else f"{min_fields} to {max_fields} fields"
        raise DatasetValidationError(
            str(path),
            f"line {line + 1}",
            "(row)",
            f"{expected} separated by spaces or tabs ({' '.join(names[:max_fields])})",
            str(data.loc[line]),
            int(bad.sum()) - 1,
        )
    fields = fields.iloc[:, :max_fields]
    fields.columns = names[: fields.shape[1]]
    return fields.astype("string"), header


def _read_uniform_columns(
    data: bytes, comments: tuple[str, ...], min_fields: int, max_fields: int, names: list[str]
) -> tuple[pd.DataFrame, list[str]] | None:
    """The common case read by Arrow's CSV reader (about a fifth of the memory): ``None`` when it does not apply.

    Applies when comments are only the first lines, no line is blank, fields are separated by
    one tab or one space throughout, and every row has the same number of fields within bounds.
    Anything else (and every malformed file) takes the line-by-line reader, which names the
    offending line. Rows keep their 0-based line numbers as the index, as that reader's do.
    """
    import pyarrow as pa
    import pyarrow.csv as pacsv

    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    if b"\r" in data and data.count(b"\r") != data.count(b"\r\n"):
        return None  # a carriage return that does not end a line: the line reader decides
    header: list[str] = []
    position = 0
    marks = tuple(c.encode() for c in comments)
    while marks and data.startswith(marks, position):
        end = data.find(b"\n", position)
        end = len(data) if end < 0 else end
        try:
            header.append(data[position:end].decode("utf-8").strip())  # strip: CRLF files too
        except UnicodeDecodeError:
            return None
        position = end + 1
    body = data[position:]
    trimmed = body.rstrip(b"\r\n")
    if not body.strip() or body.startswith((b"\n", b"\r\n")) or b"\n\n" in trimmed or b"\n\r\n" in trimmed:
        return None
    if any(b"\n" + mark in body for mark in marks):
        return None
    first = body[: body.find(b"\n") if b"\n" in body else len(body)].rstrip(b"\r")
    delimiter = "\t" if b"\t" in first else " "
    if b"  " in body or b"\t\t" in body or (delimiter == "\t" and b" " in first) or first.endswith((b" ", b"\t")):
        return None
    width = first.count(delimiter.encode()) + 1
    if not min_fields <= width <= max_fields:
        return None
    try:
        table = pacsv.read_csv(
            pa.py_buffer(body),
            read_options=pacsv.ReadOptions(column_names=names[:width]),
            parse_options=pacsv.ParseOptions(delimiter=delimiter, quote_char=False, double_quote=False),
            convert_options=pacsv.ConvertOptions(column_types={n: pa.string() for n in names[:width]}, strings_can_be_null=False),
        )
    except (pa.ArrowInvalid, UnicodeDecodeError):
        return None
    # Arrow-backed text: the ids stay in Arrow's buffers instead of one Python object each.
    frame = table.to_pandas(types_mapper=lambda t: pd.StringDtype("pyarrow") if t == pa.string() else None)
    if frame.isna().any().any() or (frame == "").any().any():
        return None
    frame.index = pd.RangeIndex(len(header), len(header) + len(frame))
    for name in names[width:max_fields]:  # as the line reader: every optional column present, empty
        frame[name] = pd.Series(pd.NA, index=frame.index, dtype=pd.StringDtype("pyarrow"))
    return frame, header


def require_digits(frame: pd.DataFrame, columns: list[str], origin: str, expected: str) -> None:
    """Every value of ``columns`` must be a whole number written in digits (node ids, counts)."""
    for column in columns:
        values = frame[column]
        bad = ~values.str.fullmatch(r"\d+").fillna(False).astype(bool)
        if bad.any():
            line = int(bad.idxmax())
            raise DatasetValidationError(origin, f"line {line + 1}", column, expected, str(values.loc[line]), int(bad.sum()) - 1)
